// format.js: how values read on the page: enum names as words, dates,
// instants, money, search snippets. The enum names are the socket API's
// (docs/socket-api.md, proto/fieldsync.proto).
import {h} from './dom.js';

const LABELS = {
  // account tiers, highest visiting priority first
  quoted: 'Quoted', contracted: 'Contracted', opportunity_tier: 'Opportunity',
  prospect: 'Prospect', target: 'Target',
  // funnel
  target_group: 'Target group', funnel_target: 'Target', funnel_prospect: 'Prospect',
  information: 'Information', lead: 'Lead', funnel_opportunity: 'Opportunity', quote: 'Quote',
  contract: 'Contract',
  // pipeline stages
  stage_unspecified: 'No stage', sales_opportunity: 'Sales opportunity',
  first_meeting_set: 'First meeting set', pct_25: '25%', pct_50: '50%', pct_90: '90%',
  closed: 'Closed', lost: 'Lost',
  // visits
  phone_call: 'Phone call', cold: 'Cold visit', follow_up: 'Follow-up visit',
  regular: 'Regular visit', demo: 'Demo', service: 'Service', planned: 'Planned', done: 'Done',
  cancelled: 'Cancelled',
  // contacts
  using_department: 'Using department', management_department: 'Management',
  decision_maker: 'Decision maker',
  // account sources
  inbound_inquiry: 'Inbound inquiry', cold_visit: 'Cold visit',
  chamber_of_commerce: 'Chamber of commerce', direct_mail: 'Direct mail',
};

export const TIERS = ['quoted', 'contracted', 'opportunity_tier', 'prospect', 'target'];
export const VISIT_KINDS = ['phone_call', 'cold', 'follow_up', 'regular', 'demo', 'service'];
export const VISIT_STATUSES = ['planned', 'done', 'cancelled'];

// The word for an enum value the UI knows, else undefined.
export function known(v) {
  return LABELS[v];
}

export function label(v) {
  if (v === null || v === undefined || v === '') return '';
  if (LABELS[v]) return LABELS[v];
  const s = String(v).replace(/_unspecified$/, '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const pad = n => String(n).padStart(2, '0');

// The rep's local calendar day, offset by days: "YYYY-MM-DD".
export function localDate(offsetDays = 0, from = new Date()) {
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate() + offsetDays);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// Unix seconds of the local midnight starting day "YYYY-MM-DD".
export function dayStart(day) {
  const [y, m, d] = day.split('-').map(Number);
  return Math.floor(new Date(y, m - 1, d).getTime() / 1000);
}

export function fmtDate(day) {
  if (!day) return '';
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined,
    {weekday: 'short', day: 'numeric', month: 'short', year: 'numeric'});
}

export function fmtTime(secs) {
  if (!secs) return '';
  return new Date(secs * 1000).toLocaleString(undefined,
    {day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit'});
}

// Days from a to b ("YYYY-MM-DD"), positive when b is later.
export function daysBetween(a, b) {
  return Math.round((dayStart(b) - dayStart(a)) / 86400);
}

export function ago(secs) {
  if (!secs) return 'never';
  const s = Math.max(0, Math.round(Date.now() / 1000 - secs));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return fmtTime(secs);
}

function decimals(currency) {
  try {
    return new Intl.NumberFormat(undefined, {style: 'currency', currency})
      .resolvedOptions().maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}

// {minor_units, currency} -> "€1,250.00"; a bare number of minor units -> "1,250.00".
export function money(m) {
  if (m === null || m === undefined) return '';
  if (typeof m === 'number') return (m / 100).toLocaleString(undefined,
    {minimumFractionDigits: 2, maximumFractionDigits: 2});
  const cur = m.currency || 'EUR';
  const units = (m.minor_units || 0) / Math.pow(10, decimals(cur));
  try {
    return units.toLocaleString(undefined, {style: 'currency', currency: cur});
  } catch (e) {
    return `${units.toFixed(2)} ${cur}`;
  }
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

// "... [hydraulic] pump ..." -> text with the bracketed matches in <mark>.
export function snippet(text) {
  const out = [];
  const re = /\[([^\]]*)\]/g;
  let last = 0, m;
  while ((m = re.exec(text || '')) !== null) {
    out.push(text.slice(last, m.index), h('mark', null, m[1]));
    last = re.lastIndex;
  }
  out.push((text || '').slice(last));
  return out;
}

export function phones(list) {
  return (list || []).map(p => (p.kind && p.kind !== 'phone_kind_unspecified' ?
    label(p.kind).toLowerCase() + ' ' : '') + (p.number || '')).join(', ');
}
