// view_visit.js: add or edit a visit and its next step (DOMAIN.md "Visit":
// no visit without a next step). An edit sends only the fields the rep
// changed, so a field edited on another device meanwhile is not overwritten
// by a value nobody touched here (and shows no false conflict).
import {call} from './api.js';
import {h, add, title} from './dom.js';
import {label, localDate, VISIT_KINDS, VISIT_STATUSES} from './format.js';

const TEXT_FIELDS = [
  ['place', 'Place', 'input'],
  ['objective', 'Objective (specific, measurable, dated)', 'textarea'],
  ['agenda', 'Agenda', 'textarea'],
  ['outcome', 'What was learnt', 'textarea'],
  ['needs', 'The need behind the need', 'textarea'],
];

const pad = n => String(n).padStart(2, '0');

// Unix seconds <-> the value of a datetime-local input (local time).
function toLocalInput(secs) {
  if (!secs) return '';
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(v) {
  return v ? Math.floor(new Date(v).getTime() / 1000) : null;
}

// The form's values in the socket API's JSON form (null: cleared).
function values(form) {
  const f = form.elements;
  const text = name => f[name].value.trim() || null;
  return {
    kind: f.kind.value || null,
    status: f.status.value || null,
    planned_at: fromLocalInput(f.planned_at.value),
    place: text('place'),
    objective: text('objective'),
    agenda: text('agenda'),
    outcome: text('outcome'),
    needs: text('needs'),
    commitments: f.commitments.value.split('\n').map(s => s.trim()).filter(Boolean),
    contact_ids: [...form.querySelectorAll('input[name="contact_ids"]:checked')].map(c => c.value),
    next_step: text('next_step'),
    next_step_date: f.next_step_date.value || null,
    next_step_done: f.next_step_done.checked,
  };
}

// The stored value as the form would read it back (trimmed text, minutes,
// no empty lines), so what the rep did not touch compares equal.
function asForm(k, v) {
  if (v === undefined || v === null) return k === 'next_step_done' ? false : null;
  if (k === 'planned_at') return toLocalInput(v);
  if (typeof v === 'string') return v.trim() || null;
  if (k === 'contact_ids') return [...v].sort(); // who came, in no order
  if (Array.isArray(v)) return v.map(x => String(x).trim()).filter(Boolean);
  return v;
}

function same(k, a, b) {
  let x = asForm(k, a), y = asForm(k, b);
  if (Array.isArray(x) && y === null) y = []; // absent list = empty list
  if (Array.isArray(y) && x === null) x = [];
  return JSON.stringify(x) === JSON.stringify(y);
}

// What to send: for a new visit every value given, for an edit what changed.
function changes(now, before, isNew) {
  const out = {};
  for (const [k, v] of Object.entries(now)) {
    const given = v !== null && !(Array.isArray(v) && v.length === 0);
    if (isNew ? given : !same(k, v, before[k])) out[k] = v;
  }
  return out;
}

function field(name, text, control, hint) {
  const wide = control.tagName === 'TEXTAREA' || control.tagName === 'FIELDSET';
  return h('div', {class: wide ? 'wide' : null},
    h('label', {for: 'f-' + name}, text), control,
    hint ? h('p', {class: 'note'}, hint) : null,
    h('p', {class: 'field-error', id: 'err-' + name}));
}

function select(name, options, value) {
  return h('select', {id: 'f-' + name, name}, h('option', {value: ''}, '—'),
    options.map(o => h('option', {value: o, selected: o === value}, label(o))));
}

function buildForm(v, contacts) {
  const fields = TEXT_FIELDS.map(([name, text, tag]) => field(name, text,
    h(tag, {id: 'f-' + name, name, type: tag === 'input' ? 'text' : null, value: v[name] || ''})));
  const chosen = new Set(v.contact_ids || []);
  // people the visit names who are not (or no longer) at this account stay listed
  const known = new Set(contacts.map(c => c.id));
  const others = [...chosen].filter(id => !known.has(id)).map(id => ({id}));
  return [
    field('kind', 'Kind', select('kind', VISIT_KINDS, v.kind)),
    field('status', 'Status', select('status', VISIT_STATUSES, v.status)),
    field('planned_at', 'When', h('input', {type: 'datetime-local', id: 'f-planned_at',
      name: 'planned_at', value: toLocalInput(v.planned_at)})),
    fields[0],
    h('div', {class: 'wide'}, h('fieldset', null, h('legend', null, 'Who'),
      contacts.length + others.length === 0 ?
        h('p', {class: 'note'}, 'No contacts at this account yet.') :
        contacts.concat(others).map(c => h('label', null,
          h('input', {type: 'checkbox', name: 'contact_ids', value: c.id,
            checked: chosen.has(c.id)}),
          (c.name || c.id) + (c.buying_role ? ` (${label(c.buying_role)})` : ''))))),
    fields.slice(1),
    field('commitments', 'Commitments obtained (one a line)', h('textarea', {id: 'f-commitments',
      name: 'commitments', value: (v.commitments || []).join('\n')})),
    h('h2', {class: 'wide'}, 'Next step'),
    field('next_step', 'Next step', h('input', {type: 'text', id: 'f-next_step', name: 'next_step',
      value: v.next_step || ''}), 'Send a quote, bring an engineer, book a demo …'),
    field('next_step_date', 'Due', h('input', {type: 'date', id: 'f-next_step_date',
      name: 'next_step_date', value: v.next_step_date || ''})),
    h('div', null, h('label', {class: 'check'}, h('input', {type: 'checkbox',
      name: 'next_step_done', id: 'f-next_step_done', checked: !!v.next_step_done}),
    'Next step done')),
  ];
}

function showError(form, err) {
  const msg = form.querySelector('#form-error');
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  const name = err.field ? err.field.split('.')[0] : null;
  const input = name ? form.querySelector(`#f-${name}`) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    form.querySelector(`#err-${name}`).textContent = err.message;
    input.focus();
  }
  msg.textContent = `Not saved: ${err.message}`;
}

async function save(form, ctx, id, before, accountId) {
  const now = values(form);
  if (now.status === 'done' && !now.next_step) {
    showError(form, {field: 'next_step', kind: 'invalid_params',
      message: 'A visit that took place needs a next step (and its date).'});
    return;
  }
  const record = changes(now, before, !id);
  if (!id) record.account_id = accountId;
  if (id && Object.keys(record).length === 0) {
    ctx.toast('Nothing changed.');
    return;
  }
  const params = {kind: 'visit', record};
  if (id) params.id = id;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await call('record.put', params);
  } catch (e) {
    button.disabled = false;
    showError(form, e);
    return;
  }
  ctx.toast(id ? 'Visit saved.' : 'Visit added.');
  location.hash = `#/account/${encodeURIComponent(accountId)}`;
}

export async function render(root, route, ctx) {
  const isNew = route.args[0] === 'new';
  const id = isNew ? null : route.args[0];
  let v = {status: 'planned', next_step_date: localDate(2)};
  if (id) {
    const got = await call('record.get', {kind: 'visit', id});
    v = got.record || {};
  }
  const accountId = isNew ? route.query.get('account') : v.account_id;
  const [acc, contacts] = await Promise.all([
    call('record.get', {kind: 'account', id: accountId}),
    call('record.list', {kind: 'contact', account_id: accountId, limit: 200}),
  ]);
  const before = isNew ? {} : v;
  const notice = h('p', {class: 'notice', role: 'status', hidden: true});
  const form = h('form', {id: 'visit-form', class: 'card', novalidate: true, on: {submit: ev => {
    ev.preventDefault();
    save(form, ctx, id, before, accountId);
  }}},
  h('div', {class: 'form-grid'}, buildForm(v, contacts.items)),
  h('p', {class: 'form-error', id: 'form-error', role: 'alert'}),
  h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'},
    isNew ? 'Add visit' : 'Save visit'),
  h('a', {class: 'button', href: `#/account/${encodeURIComponent(accountId)}`}, 'Cancel')));
  if (id) {
    ctx.on('record.changed', n => {
      if (n.kind === 'visit' && n.id === id && n.origin === 'remote') {
        notice.hidden = false;
        notice.textContent = 'This visit was just changed on another device. Saving sends only ' +
          'the fields you changed here; reload to see the other changes first.';
      }
    });
  }
  add(root, title(isNew ? 'New visit' : 'Visit', h('a', {
    href: `#/account/${encodeURIComponent(accountId)}`}, (acc.record && acc.record.name) ||
    accountId)), notice, form);
}
