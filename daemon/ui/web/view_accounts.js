// view_accounts.js: the accounts, one tier at a time in visiting priority
// (record.list by tier, page by page), or the hits of a full-text search over
// account names, contacts and visit notes (search).
import {call} from './api.js';
import {h, add, table, section, empty, title, pill} from './dom.js';
import {label, snippet, TIERS} from './format.js';

const PAGE = 50;

const accountLink = a => h('a', {href: `#/account/${encodeURIComponent(a.id)}`}, a.name || a.id);

function tierTabs(tier) {
  const tab = (t, text) => h('a', {href: t ? `#/accounts?tier=${t}` : '#/accounts',
    'aria-current': (tier || '') === t ? 'page' : null}, text);
  return h('nav', {class: 'tabs', 'aria-label': 'Tiers'}, tab('', 'All'),
    TIERS.map(t => tab(t, label(t))));
}

function searchForm(q, focus) {
  const input = h('input', {type: 'search', id: 'account-search', name: 'q', value: q || '',
    placeholder: 'Search names, contacts, visit notes', 'aria-label': 'Search',
    autofocus: focus || null});
  return h('form', {role: 'search', on: {submit: ev => {
    ev.preventDefault();
    const v = input.value.trim();
    location.hash = v ? `#/accounts?q=${encodeURIComponent(v)}` : '#/accounts';
  }}}, input, ' ', h('button', {type: 'submit'}, 'Search'));
}

const COLUMNS = [
  {label: 'Name', cell: accountLink},
  {label: 'Tier', cell: a => a.tier ? pill(label(a.tier), a.tier) : ''},
  {label: 'Funnel', cell: a => label(a.funnel_stage)},
  {label: 'Industry', cell: a => a.industry || ''},
  {label: 'City', cell: a => (a.address && a.address.city) || ''},
  {label: 'Owner', cell: a => a.owner || ''},
];

// The list, with a button that fetches the next page into the same table.
async function accountList(tier) {
  const params = {kind: 'account', limit: PAGE};
  if (tier) params.tier = tier;
  const first = await call('record.list', params);
  if (first.items.length === 0) return empty(tier ? `No ${label(tier).toLowerCase()} accounts.` :
    'No accounts yet.');
  const wrap = table(COLUMNS, first.items, {caption: tier ? `${label(tier)} accounts` : 'Accounts'});
  const body = wrap.querySelector('tbody');
  let cursor = first.next_cursor;
  const more = h('button', {type: 'button', hidden: !cursor, on: {click: async () => {
    more.disabled = true;
    const next = await call('record.list', Object.assign({cursor}, params));
    const rows = table(COLUMNS, next.items).querySelectorAll('tbody tr');
    body.append(...rows);
    cursor = next.next_cursor;
    more.hidden = !cursor;
    more.disabled = false;
    if (rows.length > 0) rows[0].querySelector('a').focus();
  }}}, 'Show more');
  return [wrap, h('div', {class: 'actions'}, more)];
}

async function searchHits(q) {
  const res = await call('search', {query: q, limit: 50});
  const out = [];
  if (res.search_backlog > 0) {
    out.push(h('p', {class: 'notice'}, `${res.search_backlog} records from the last sync are ` +
      'still being indexed: more hits may come.'));
  }
  if (res.hits.length === 0) return out.concat(empty(`Nothing found for “${q}”.`));
  out.push(table([
    {label: 'Kind', cell: x => pill(label(x.kind))},
    {label: 'Match', cell: x => h('a', {href: `#/open/${x.kind}/${encodeURIComponent(x.id)}`},
      snippet(x.snippet))},
  ], res.hits, {caption: `Search results for “${q}”`}));
  return out;
}

export async function render(root, route) {
  const q = route.query.get('q');
  const tier = route.query.get('tier');
  const body = q ? await searchHits(q) : await accountList(tier);
  add(root, 
    title('Accounts', 'ranked by how much visiting they get: quoted first, targets last'),
    h('div', {class: 'toolbar'}, tierTabs(q ? '-' : tier), h('span', {class: 'spacer'}),
      searchForm(q, route.query.get('focus') === 'search')),
    section(q ? 'Search' : (tier ? label(tier) : 'All accounts'), body));
}
