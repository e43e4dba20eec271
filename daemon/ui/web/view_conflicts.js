// view_conflicts.js: fields edited on two devices at once (conflicts.list),
// the competing values side by side, and a choice that keeps one of them
// (conflicts.resolve with the sibling's index: the write supersedes all).
import {call} from './api.js';
import {h, add, section, empty, title, pill} from './dom.js';
import {label, known, money, fmtTime} from './format.js';

const NAME_FIELD = {account: 'name', contact: 'name', visit: 'objective', opportunity: 'title',
  transaction: 'description'};

// A field's value as the rep reads it.
function show(field, v) {
  if (v === null || v === undefined) return h('em', null, 'cleared');
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' && /_at$/.test(field)) return fmtTime(v);
  if (typeof v === 'string') return known(v) || v;
  if (Array.isArray(v)) return v.map(x => typeof x === 'object' ? JSON.stringify(x) : x).join(', ');
  if (typeof v === 'object' && 'minor_units' in v) return money(v);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${label(k)}: ${x}`).join(', ');
  return String(v);
}

function aliveChoice(s) {
  return s.value ? 'Keep the record' : 'Delete the record';
}

async function resolve(rec, f, index, s, ctx, button) {
  button.disabled = true;
  try {
    await call('conflicts.resolve', {kind: rec.kind, id: rec.id, field: f.field, sibling: index});
  } catch (e) {
    button.disabled = false;
    ctx.toast(`Not resolved: ${e.message}`, 'error');
    return;
  }
  ctx.toast(f.field === 'alive' ? `${aliveChoice(s)}: done.` :
    `Kept ${typeof show(f.field, s.value) === 'string' ? `“${show(f.field, s.value)}”` :
      'the chosen value'} for ${label(f.field).toLowerCase()}.`);
  ctx.refresh();
}

function fieldBlock(rec, f, ctx) {
  const alive = f.field === 'alive';
  const question = alive ? 'Deleted on one device and edited on another. Keep it or delete it?' :
    `${label(f.field)}: ${f.siblings.length} values written at the same time. Which one is right?`;
  return h('div', {class: 'field-conflict'}, h('p', null, h('strong', null, question)),
    h('div', {class: 'choices'}, f.siblings.map((s, i) => {
      const button = h('button', {type: 'button', class: alive && !s.value ? 'danger' : 'primary'},
        alive ? aliveChoice(s) : 'Keep this value');
      button.addEventListener('click', () => resolve(rec, f, i, s, ctx, button));
      return h('div', {class: 'choice' + (s.visible ? ' visible' : ''),
        dataset: {field: f.field, sibling: String(i)}},
      h('div', {class: 'value'}, alive ? (s.value ? 'Kept' : 'Deleted') : show(f.field, s.value)),
      h('div', {class: 'small'},
        `${s.device || `device ${s.replica}`} · ${fmtTime(Date.parse(s.time) / 1000)}`),
      s.visible ? pill('shown now') : null, button);
    })));
}

async function recordCard(rec, ctx) {
  let name = rec.id;
  try {
    const got = await call('record.get', {kind: rec.kind, id: rec.id});
    name = (got.record && got.record[NAME_FIELD[rec.kind]]) || rec.id;
    if (rec.kind !== 'account' && got.record && got.record.account_id) {
      name = h('a', {href: `#/account/${encodeURIComponent(got.record.account_id)}`}, name);
    }
  } catch (e) {
    // a record deleted on this device still lists its conflict
  }
  const link = rec.kind === 'account' ?
    h('a', {href: `#/account/${encodeURIComponent(rec.id)}`}, name) : name;
  return h('section', {class: 'card', dataset: {kind: rec.kind, id: rec.id}},
    h('h2', null, `${label(rec.kind)}: `, link), rec.fields.map(f => fieldBlock(rec, f, ctx)));
}

export async function render(root, route, ctx) {
  const res = await call('conflicts.list', {limit: 100});
  const cards = await Promise.all(res.records.map(r => recordCard(r, ctx)));
  add(root, title('Conflicts', 'the same field changed on two devices before they synced'),
    cards.length === 0 ? section('All clear', empty('No conflicts: every field has one value.')) :
      cards);
}
