// view_today.js: the rep's day: follow-ups overdue, due today and due this
// week (the `followups` method), and the visits planned from today on.
import {call} from './api.js';
import {h, add, table, section, empty, title, pill} from './dom.js';
import {label, localDate, dayStart, fmtDate, fmtTime, daysBetween} from './format.js';

const PLANNED_MAX = 50;

// Visits planned from the start of today on, soonest first. record.list
// orders visits by planned_at; newest first, the pages stop at the first
// visit before today.
async function plannedVisits(today) {
  const since = dayStart(today);
  const out = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const params = {kind: 'visit', order: 'desc', limit: 200};
    if (cursor) params.cursor = cursor;
    const res = await call('record.list', params);
    for (const v of res.items) {
      if ((v.planned_at || 0) < since) return out.reverse().slice(0, PLANNED_MAX);
      if (v.status !== 'done' && v.status !== 'cancelled') out.push(v);
    }
    if (!res.next_cursor) break;
    cursor = res.next_cursor;
  }
  return out.reverse().slice(0, PLANNED_MAX);
}

// id -> account name, for the accounts the visits belong to.
async function accountNames(ids) {
  const names = {};
  await Promise.all([...new Set(ids)].map(async id => {
    try {
      names[id] = (await call('record.get', {kind: 'account', id})).record.name;
    } catch (e) {
      names[id] = null;
    }
  }));
  return names;
}

const accountLink = (id, name) => h('a', {href: `#/account/${encodeURIComponent(id)}`}, name || id);
const visitLink = (id, text) => h('a', {href: `#/visit/${encodeURIComponent(id)}`}, text);

function followupTable(items, today, caption) {
  return table([
    {label: 'Due', cls: 'nowrap', cell: f => {
      const late = daysBetween(f.next_step_date, today);
      return [fmtDate(f.next_step_date), late > 0 ?
        h('div', {class: 'late'}, late === 1 ? '1 day late' : `${late} days late`) : null];
    }},
    {label: 'Account', cell: f => accountLink(f.account_id, f.account_name)},
    {label: 'Next step', cell: f => f.next_step || ''},
    {label: '', cell: f => visitLink(f.visit_id, 'Open visit')},
  ], items, {caption, rowClass: f => f.next_step_date < today ? 'overdue' : null});
}

function stat(n, text, bad) {
  return h('div', {class: 'stat' + (bad && n > 0 ? ' bad' : '')}, h('b', null, String(n)),
    h('span', null, text));
}

export async function render(root) {
  const today = localDate(0);
  const [fu, planned] = await Promise.all([
    call('followups', {until: localDate(7), limit: 1000}),
    plannedVisits(today),
  ]);
  const overdue = fu.items.filter(f => f.next_step_date < today);
  const dueToday = fu.items.filter(f => f.next_step_date === today);
  const week = fu.items.filter(f => f.next_step_date > today);
  const names = await accountNames(planned.map(v => v.account_id).filter(Boolean));
  const plannedToday = planned.filter(v => v.planned_at < dayStart(localDate(1)));

  add(root, 
    title('Today', fmtDate(today)),
    h('div', {class: 'stats'},
      stat(overdue.length, 'follow-ups overdue', true),
      stat(dueToday.length, 'follow-ups due today'),
      stat(plannedToday.length, 'visits planned today'),
      stat(week.length, 'follow-ups in the next 7 days')),
    section('Follow-ups due', overdue.length + dueToday.length === 0 ?
      empty('Nothing due: every next step is done or lies ahead.') :
      followupTable(overdue.concat(dueToday), today)),
    section('Planned visits', planned.length === 0 ? empty('No visits planned from today on.') :
      table([
        {label: 'When', cls: 'nowrap', cell: v => fmtTime(v.planned_at)},
        {label: 'Account', cell: v => accountLink(v.account_id, names[v.account_id])},
        {label: 'Kind', cell: v => pill(label(v.kind) || 'Visit')},
        {label: 'Objective', cell: v => v.objective || ''},
        {label: '', cell: v => visitLink(v.id, 'Edit')},
      ], planned)),
    section('Coming up this week', week.length === 0 ? empty('No follow-ups in the next 7 days.') :
      followupTable(week, today)));
}
