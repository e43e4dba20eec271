// view_pipeline.js: the weekly pipeline table (report.pipeline): how many
// opportunities sit in each stage and for how much in each currency, and the
// stale ones that stayed in an open stage longer than the sales cycle (by the
// method they fall back to "sales opportunity").
import {call} from './api.js';
import {h, add, table, section, empty, title, pill} from './dom.js';
import {label, money, localDate, fmtDate} from './format.js';

const STALE_SHOWN = 100;

export async function render(root) {
  const today = localDate(0);
  const rep = await call('report.pipeline', {today});
  const rows = rep.stages.filter(s => s.stage !== 'stage_unspecified' || s.count > 0);
  const maxCount = Math.max(1, ...rows.map(s => s.count));
  const stale = rep.stale.slice(0, STALE_SHOWN);
  const bar = n => {
    const el = h('div', {class: 'bar'});
    el.style.width = `${(100 * n) / maxCount}%`; // CSSOM: allowed by the page's CSP
    return el;
  };
  const totalOpen = rows.filter(s => !['closed', 'lost', 'stage_unspecified'].includes(s.stage))
    .reduce((n, s) => n + s.count, 0);
  add(root, 
    title('Pipeline', `${fmtDate(today)} · sales cycle ${rep.cycle_days} days`),
    h('div', {class: 'stats'},
      h('div', {class: 'stat'}, h('b', null, String(totalOpen)), h('span', null, 'open opportunities')),
      h('div', {class: 'stat' + (rep.stale.length ? ' bad' : '')}, h('b', null,
        String(rep.stale.length)), h('span', null, 'stale: longer in one stage than the cycle'))),
    section('Opportunities by stage', table([
      {label: 'Stage', cell: s => pill(label(s.stage), s.stage)},
      {label: 'Count', num: true, cell: s => String(s.count)},
      {label: '', cls: 'bar-cell', cell: s => bar(s.count)},
      {label: 'Amount', num: true, cell: s => s.amounts.map(money).join(', ')},
    ], rows, {caption: 'Opportunities per stage'})),
    section('Stale opportunities', stale.length === 0 ?
      empty('None: every open opportunity moved within the cycle.') : [
        table([
          {label: 'Opportunity', cell: o => o.title || o.id},
          {label: 'Account', cell: o => o.account_id ? h('a', {
            href: `#/account/${encodeURIComponent(o.account_id)}`}, o.account_name || o.account_id) : ''},
          {label: 'Stage', cell: o => pill(label(o.stage), o.stage)},
          {label: 'In stage since', cell: o => fmtDate(o.since)},
          {label: 'Days', num: true, cell: o => String(o.days)},
          {label: 'Amount', num: true, cell: o => money(o.amount)},
        ], stale, {rowClass: () => 'stale'}),
        rep.stale.length > STALE_SHOWN ?
          h('p', {class: 'note'}, `The first ${STALE_SHOWN} of ${rep.stale.length}.`) : null,
      ]));
}
