// view_account.js: an account's biography (DOMAIN.md "Account"): who they
// are, the buying group (contacts and their roles), every visit with its
// next step, the opportunities, and the transactions.
import {call} from './api.js';
import {h, add, table, section, empty, title, pill, facts} from './dom.js';
import {label, money, fmtDate, fmtTime, phones} from './format.js';

const LIMIT = 200;

async function list(kind, id, extra) {
  const res = await call('record.list', Object.assign({kind, account_id: id, limit: LIMIT}, extra));
  return res.items;
}

function address(a) {
  if (!a) return '';
  return [a.street, [a.postal_code, a.city].filter(Boolean).join(' '), a.region, a.country]
    .filter(Boolean).join(', ');
}

function size(s) {
  if (!s) return '';
  return [s.staff && `${s.staff} staff`, s.fleet && `fleet of ${s.fleet}`,
    s.branches && `${s.branches} branches`].filter(Boolean).join(', ');
}

function company(a) {
  return section('Company', facts([
    ['Industry', a.industry], ['Size', size(a.size)], ['Address', address(a.address)],
    ['Phones', phones(a.phones)],
    ['Website', a.website ? h('a', {href: /^https?:\/\//.test(a.website) ? a.website :
      'https://' + a.website, rel: 'noopener noreferrer', target: '_blank'}, a.website) : ''],
    ['Found through', label(a.source)], ['Owner', a.owner], ['Tags', (a.tags || []).join(', ')],
  ]));
}

function plan(a) {
  const p = a.purchase_plan || {};
  const comp = a.competitors || [];
  return section('Purchasing and competition', facts([
    ['Wants', p.what], ['Budget', money(p.budget)], ['Timetable', p.timetable],
    ['Process', p.process],
  ]), comp.length === 0 ? null : table([
    {label: 'Competitor product', cell: c => c.product || ''},
    {label: 'Vendor', cell: c => c.vendor || ''},
    {label: 'Satisfaction', cell: c => c.satisfaction ?
      h('span', {title: `${c.satisfaction} of 5`}, '★'.repeat(c.satisfaction) +
        '☆'.repeat(Math.max(0, 5 - c.satisfaction))) : ''},
    {label: 'Their rep', cell: c => c.competing_rep || ''},
  ], comp));
}

function contacts(items) {
  return section(`Buying group (${items.length})`, items.length === 0 ?
    empty('No contacts yet.') : table([
      {label: 'Name', cell: c => [h('strong', null, c.name || ''),
        c.personal && (c.personal.hobbies || c.personal.home_town) ?
          h('div', {class: 'small'}, [c.personal.home_town, c.personal.hobbies]
            .filter(Boolean).join(' · ')) : null]},
      {label: 'Title', cell: c => c.title || ''},
      {label: 'Role', cell: c => c.buying_role ? pill(label(c.buying_role)) : ''},
      {label: 'Department', cell: c => label(c.department)},
      {label: 'Level', cell: c => label(c.level)},
      {label: 'Stance', cell: c => label(c.stance)},
      {label: 'Phone / e-mail', cell: c => [phones(c.phones),
        c.email ? h('div', null, h('a', {href: 'mailto:' + c.email}, c.email)) : null]},
    ], items));
}

function visits(items) {
  return section(`Visits (${items.length})`, items.length === 0 ? empty('No visits yet.') : table([
    {label: 'When', cls: 'nowrap', cell: v => fmtTime(v.planned_at)},
    {label: 'Kind', cell: v => [label(v.kind), h('div', {class: 'small'}, label(v.status))]},
    {label: 'Objective and outcome', cell: v => [v.objective || '',
      v.outcome ? h('div', {class: 'small clamp'}, v.outcome) : null]},
    {label: 'Next step', cell: v => v.next_step ? [v.next_step, h('div', {class: 'small'},
      (v.next_step_done ? 'done · ' : 'open · ') + fmtDate(v.next_step_date))] : ''},
    {label: '', cell: v => h('a', {href: `#/visit/${encodeURIComponent(v.id)}`}, 'Edit')},
  ], items));
}

function opportunities(items) {
  return section(`Opportunities (${items.length})`, items.length === 0 ?
    empty('No opportunities yet.') : table([
      {label: 'Title', cell: o => o.title || o.id},
      {label: 'Stage', cell: o => pill(label(o.stage || 'stage_unspecified'), o.stage)},
      {label: 'Amount', num: true, cell: o => money(o.amount)},
      {label: 'In stage since', cell: o => fmtDate(o.stage_entered_date)},
      {label: 'Expected close', cell: o => fmtDate(o.expected_close_date)},
    ], items));
}

function transactions(items) {
  const total = items.reduce((s, t) => s + ((t.amount && t.amount.minor_units) || 0), 0);
  const cur = items.length && items[0].amount ? items[0].amount.currency : null;
  return section(`Transactions (${items.length})`, items.length === 0 ?
    empty('No orders yet.') : [table([
      {label: 'Date', cell: t => fmtDate(t.date)},
      {label: 'Description', cell: t => t.description || ''},
      {label: 'Amount', num: true, cell: t => money(t.amount)},
    ], items), cur ? h('p', {class: 'note'}, `Total: ${money({minor_units: total, currency: cur})}`) :
      null]);
}

export async function render(root, route) {
  const id = route.args[0];
  const got = await call('record.get', {kind: 'account', id});
  if (got.deleted) {
    add(root, title('Deleted account'), h('p', null, 'This account was deleted.'));
    return;
  }
  const a = got.record;
  const [cs, vs, os, ts] = await Promise.all([
    list('contact', id), list('visit', id, {order: 'desc'}), list('opportunity', id),
    list('transaction', id, {order: 'desc'}),
  ]);
  add(root, 
    title(a.name || id, [a.tier ? pill(label(a.tier), a.tier) : null,
      a.funnel_stage ? ` funnel: ${label(a.funnel_stage)}` : null]),
    got.conflicts.length === 0 ? null : h('p', {class: 'warning'},
      `Edited on two devices at once: ${got.conflicts.filter(f => f !== 'alive').join(', ') ||
        'kept on one, deleted on another'}. `,
      h('a', {href: '#/conflicts'}, 'Choose the values to keep')),
    h('div', {class: 'toolbar'}, h('a', {class: 'button primary',
      href: `#/visit/new?account=${encodeURIComponent(id)}`}, 'Add a visit')),
    h('div', {class: 'grid'}, company(a), plan(a)),
    a.notes ? section('Notes', h('p', null, a.notes)) : null,
    contacts(cs), visits(vs), opportunities(os), transactions(ts));
}
