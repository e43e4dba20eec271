// view_sync.js: the sync client's state (sync.status), "Sync now"
// (sync.now; the outcome arrives as a sync.done notification), the running
// sync's progress (sync.progress notifications), and the outbox: local
// changes waiting for the server, with retry or drop for refused ones.
import {call} from './api.js';
import {h, add, table, section, empty, title, pill, facts} from './dom.js';
import {label, ago, fmtTime, bytes} from './format.js';

function progressBox(shell) {
  const bar = h('progress', {id: 'sync-bar'});
  const text = h('p', {id: 'sync-progress-text', role: 'status'});
  const box = h('div', {class: 'progress-box', hidden: !shell.progress}, bar, text);
  const update = p => {
    box.hidden = !p;
    if (!p) return;
    text.textContent = `${label(p.phase)}: ${p.records} records, ${bytes(p.bytes)}` +
      (p.rate ? `, ${Math.round(p.rate)} records/s` : '') +
      (p.eta_ms ? `, about ${Math.ceil(p.eta_ms / 1000)} s to go` : '');
  };
  update(shell.progress);
  return {box, update};
}

function lastRun(d) {
  if (!d) return null;
  return section('Last sync seen here', facts([
    ['Outcome', d.ok ? pill('ok', 'ok') : pill('failed', 'bad')],
    ['When', ago(d.at)],
    ['Message', d.message],
    ['Sent', d.ok ? `${d.pushed} change${d.pushed === 1 ? '' : 's'}` : null],
    ['Received', d.ok ? `${d.pulled} records (${d.changed} changed, ${d.removed} removed)` : null],
    ['Refused by the server', d.refused ? String(d.refused) : null],
    ['Traffic', d.ok ? `${d.requests} requests, ${bytes(d.bytes_up)} up, ` +
      `${bytes(d.bytes_down)} down` : null],
  ]));
}

async function outboxAction(method, e, ctx) {
  try {
    await call(method, {seq: e.seq});
  } catch (err) {
    ctx.toast(`${err.message}`, 'error');
    return;
  }
  ctx.toast(method === 'outbox.retry' ? `Change ${e.seq} will be sent again.` :
    `Change ${e.seq} will not be sent (it stays on this laptop).`);
  ctx.refresh();
}

function outbox(res, ctx) {
  const c = res.counts;
  const note = h('p', {class: 'note'}, `${c.pending} waiting, ${c.in_flight} being sent, ` +
    `${c.refused} refused by the server.`);
  if (res.entries.length === 0) return section('Outbox', note, empty('Nothing waiting to be sent.'));
  return section('Outbox', note, table([
    {label: '#', num: true, cell: e => String(e.seq)},
    {label: 'Record', cell: e => `${label(e.kind)} ${e.id}`},
    {label: 'Status', cell: e => pill(label(e.status), e.status === 'refused' ? 'bad' : null)},
    {label: 'Queued', cell: e => fmtTime(e.queued_at)},
    {label: 'Why refused', cell: e => e.reason ? [label(e.reason),
      h('div', {class: 'small'}, e.message || '')] : ''},
    {label: '', cell: e => e.status !== 'refused' ? '' : [
      h('button', {type: 'button', on: {click: () => outboxAction('outbox.retry', e, ctx)}}, 'Retry'),
      ' ',
      h('button', {type: 'button', class: 'danger',
        on: {click: () => outboxAction('outbox.drop', e, ctx)}}, 'Drop')]},
  ], res.entries));
}

async function syncNow(button, msg, ctx) {
  button.disabled = true;
  msg.textContent = '';
  try {
    await call('sync.now');
    ctx.toast('Sync started.');
  } catch (e) {
    msg.textContent = e.kind === 'no_server' ? 'This laptop is not enrolled with a server yet: ' +
      'run `fieldsync enroll URL CODE` with the code from your administrator.' : e.message;
  } finally {
    button.disabled = false;
  }
}

export async function render(root, route, ctx) {
  const [st, ob] = await Promise.all([call('sync.status'), call('outbox.list', {limit: 100})]);
  const msg = h('p', {class: 'form-error', role: 'alert'});
  const button = h('button', {type: 'button', class: 'primary', id: 'sync-now'}, 'Sync now');
  button.addEventListener('click', () => syncNow(button, msg, ctx));
  const progress = progressBox(ctx.shell);
  ctx.on('sync.progress', progress.update);
  ctx.on('sync.done', () => ctx.refresh());
  ctx.on('sync.state', () => ctx.refresh());
  const enrolled = st.state !== 'unconfigured';
  add(root, 
    title('Sync', [pill(label(st.state), st.state), st.reason ? ` ${st.reason}` : '']),
    section('Status', facts([
      ['Server', enrolled ? st.server : 'not enrolled'],
      ['Signed in as', st.user],
      ['Last sync', ago(st.last_sync)],
      ['Next attempt', st.next_attempt ? fmtTime(st.next_attempt) : null],
      ['Waiting to send', String(st.pending)],
      ['Refused', st.refused ? String(st.refused) : null],
      ['Conflicts', st.conflicts ? h('a', {href: '#/conflicts'}, String(st.conflicts)) : null],
    ]), progress.box, msg, h('div', {class: 'actions'}, button)),
    lastRun(ctx.shell.lastDone),
    outbox(ob, ctx));
}
