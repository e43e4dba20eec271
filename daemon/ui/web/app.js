// app.js: the shell of fieldsync's web UI: the routes (#/today, #/accounts,
// #/account/ID, #/visit/ID or #/visit/new?account=ID, #/pipeline,
// #/conflicts, #/sync), the header (sync state, conflicts, lock), the unlock
// screen, error banners, and the live updates: the daemon's notifications
// (api.js listen) refresh what is on screen when records change elsewhere.
import {call, listen, onApiError} from './api.js';
import {h, clear, title} from './dom.js';
import {label, bytes} from './format.js';
import * as today from './view_today.js';
import * as accounts from './view_accounts.js';
import * as account from './view_account.js';
import * as visit from './view_visit.js';
import * as pipeline from './view_pipeline.js';
import * as conflicts from './view_conflicts.js';
import * as sync from './view_sync.js';

// #/open/KIND/ID: a search hit; goes on to the page that shows the record.
const open = {
  async render(root, route) {
    const [kind, id] = route.args;
    const got = await call('record.get', {kind, id});
    const rec = got.record || {};
    location.replace(kind === 'account' ? `#/account/${encodeURIComponent(id)}` :
      kind === 'visit' ? `#/visit/${encodeURIComponent(id)}` :
        `#/account/${encodeURIComponent(rec.account_id || '')}`);
    root.append(title('Opening…'));
  },
};

const VIEWS = {today, accounts, account, visit, pipeline, conflicts, sync, open};

// What the shell knows of the daemon; views read it through ctx.shell.
const shell = {
  store: 'unknown', // status.state: uninitialized, locked, unlocked
  daemon: 'unknown', // up, down (as the bridge sees it)
  sync: null, // status.sync
  progress: null, // the running sync's last sync.progress
  lastDone: null, // the last sync.done seen by this page
};

const main = document.getElementById('view');
let renderSeq = 0;
let lastScreen = null;
let handlers = {}; // event name -> [fn], registered by the view on screen
let refreshPending = false;
let refreshTimer = null;

// What a view gets to work with; its event handlers count once it is shown.
function viewContext(own) {
  return {
    shell,
    on(name, fn) {
      (own[name] = own[name] || []).push(fn);
    },
    toast,
    refresh: () => render(true),
  };
}

function decode(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s; // a hand-typed "%" is just a character
  }
}

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decode);
  return {name: Object.hasOwn(VIEWS, parts[0] || '') ? parts[0] : 'today',
    args: parts.slice(1), query: new URLSearchParams(qs || '')};
}

// The shell's own screen for the daemon's state, or null for the route's view.
function shellScreen() {
  if (shell.store === 'locked') return ['unlock', unlockView];
  if (shell.store === 'uninitialized') return ['nostore', noStoreView];
  if (shell.daemon === 'down' && shell.store === 'unknown') return ['down', downView];
  return null;
}

// Draws the current route; keep: a live refresh (keep the scroll and the
// focused field, and leave a shell screen that is already up alone).
async function render(keep = false) {
  const seq = ++renderSeq;
  const r = route();
  const own = shellScreen();
  const screen = own ? own[0] : r.name;
  if (keep && own && screen === lastScreen) return; // e.g. the passphrase being typed
  refreshPending = false;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  let node = own ? own[1]() : h('div', {class: 'view view-' + r.name});
  const viewHandlers = {};
  if (!own) {
    try {
      await VIEWS[r.name].render(node, r, viewContext(viewHandlers));
    } catch (e) {
      node = errorView(e);
    }
  }
  if (seq !== renderSeq) return; // a newer render took over
  handlers = viewHandlers;
  const y = window.scrollY;
  const focused = main.contains(document.activeElement) ? document.activeElement.id : '';
  clear(main).append(node);
  main.removeAttribute('aria-busy');
  keep = keep && screen === lastScreen; // another screen starts at its top
  lastScreen = screen;
  if (keep) {
    window.scrollTo(0, y);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  } else {
    const first = main.querySelector('[autofocus]') || main.querySelector('h1');
    if (first) first.focus();
  }
}

// A record changed somewhere: redraw soon, but never under the rep's fingers.
function scheduleRefresh() {
  if (route().name === 'visit') return; // the form says so itself
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    const a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) {
      refreshPending = true; // after the field loses focus
      return;
    }
    render(true);
  }, 400);
}

main.addEventListener('focusout', () => {
  if (refreshPending) scheduleRefresh();
});

function emit(name, data) {
  for (const fn of handlers[name] || []) fn(data);
}

// ---- the header ----

async function refreshStatus() {
  try {
    const st = await call('status');
    shell.daemon = 'up';
    shell.store = st.state;
    shell.sync = st.sync || null;
  } catch (e) {
    // the error hook has recorded what went wrong
  }
  updateHeader();
}

function updateHeader() {
  const unlocked = shell.store === 'unlocked';
  document.getElementById('lock').hidden = !unlocked;
  const pill = document.getElementById('sync-state');
  const state = shell.daemon === 'down' ? 'unreachable' :
    shell.progress ? 'syncing' : (unlocked && shell.sync ? shell.sync.state : shell.store);
  pill.textContent = label(state);
  pill.className = 'pill pill-' + state;
  const n = unlocked && shell.sync ? shell.sync.conflicts || 0 : 0;
  const count = document.getElementById('conflict-count');
  count.textContent = String(n);
  count.hidden = n === 0;
  const bar = document.getElementById('sync-progress');
  bar.hidden = !shell.progress;
  if (shell.progress) {
    bar.title = `${label(shell.progress.phase)}: ${shell.progress.records} records, ` +
      bytes(shell.progress.bytes);
  }
}

function banner(kind, text) {
  let el = document.querySelector(`#banners [data-kind="${kind}"]`);
  if (!el) {
    el = h('div', {class: 'banner banner-' + kind, dataset: {kind}, role: 'alert'});
    document.getElementById('banners').append(el);
  }
  el.textContent = text;
}

function unbanner(kind) {
  const el = document.querySelector(`#banners [data-kind="${kind}"]`);
  if (el) el.remove();
}

const TOASTS_SHOWN = 3;

function toast(text, kind = 'ok') {
  const box = document.getElementById('toasts');
  const el = h('div', {class: 'toast toast-' + kind}, text);
  box.append(el);
  while (box.children.length > TOASTS_SHOWN) box.firstElementChild.remove();
  setTimeout(() => el.remove(), 6000);
}

// ---- screens of the shell itself ----

function unlockView() {
  const input = h('input', {type: 'password', id: 'passphrase', name: 'passphrase',
    autocomplete: 'current-password', required: true, autofocus: true});
  const msg = h('p', {class: 'form-error', id: 'unlock-error', role: 'alert'});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Unlock');
  const form = h('form', {id: 'unlock-form', class: 'card narrow', on: {submit: async ev => {
    ev.preventDefault();
    const passphrase = input.value;
    input.value = ''; // the page keeps no copy longer than the call
    button.disabled = true;
    msg.textContent = '';
    try {
      await call('unlock', {passphrase});
    } catch (e) {
      if (e.kind !== 'invalid_state') { // invalid_state: unlocked meanwhile
        msg.textContent = e.kind === 'auth_failed' ? 'Wrong passphrase: try again.' : e.message;
        button.disabled = false;
        input.focus();
        return;
      }
    }
    shell.store = 'unlocked';
    await refreshStatus();
    render();
  }}},
  title('Unlock your book'),
  h('p', null, 'Your accounts are stored encrypted on this laptop. Enter the passphrase to open ' +
    'them; it goes to fieldsyncd on this machine and nowhere else.'),
  h('label', {for: 'passphrase'}, 'Passphrase'), input, msg, h('div', {class: 'actions'}, button));
  return h('div', {class: 'center'}, form);
}

function noStoreView() {
  return h('div', {class: 'card narrow'}, title('No store yet'),
    h('p', null, 'fieldsyncd has no encrypted store on this laptop. Create one in a terminal:'),
    h('pre', null, 'fieldsync init'), h('p', null, 'then reload this page.'));
}

function downView() {
  return h('div', {class: 'card narrow'}, title('fieldsyncd is not running'),
    h('p', null, 'This page reaches your data through fieldsyncd. Start it, for example with'),
    h('pre', null, 'systemctl --user start fieldsyncd'),
    h('p', null, 'This page reconnects by itself.'));
}

function errorView(e) {
  const what = {
    unreachable: 'fieldsyncd cannot be reached',
    not_found: 'Not found',
    bridge_down: 'The UI bridge has stopped',
    forbidden: 'Access expired',
  }[e.kind] || 'Something went wrong';
  return h('div', {class: 'card narrow error-view'}, title(what),
    h('p', {role: 'alert'}, e.message),
    h('div', {class: 'actions'}, h('button', {type: 'button', on: {click: () => render()}},
      'Try again')));
}

// ---- wiring ----

onApiError(err => {
  if (err.kind === 'locked' && shell.store !== 'locked') {
    shell.store = 'locked';
    updateHeader();
    render();
  } else if (err.kind === 'not_initialized' && shell.store !== 'uninitialized') {
    shell.store = 'uninitialized';
    render();
  } else if (err.kind === 'unreachable') {
    shell.daemon = 'down';
    banner('daemon', `Cannot reach fieldsyncd: ${err.message}`);
    updateHeader();
  } else if (err.kind === 'bridge_down' || err.kind === 'forbidden') {
    banner('bridge', err.message);
  }
});

function syncSummary(d) {
  if (!d.ok) return `Sync failed: ${d.message || 'see the Sync page'}`;
  return `Synced: ${d.pushed} sent, ${d.pulled} received` +
    (d.refused ? `, ${d.refused} refused` : '') + (d.removed ? `, ${d.removed} removed` : '');
}

function connectEvents() {
  listen({
    bridge: d => {
      if (d.daemon === 'connected') {
        const was = shell.daemon;
        shell.daemon = 'up';
        unbanner('daemon');
        unbanner('bridge');
        refreshStatus().then(() => {
          if (was === 'down') render(true);
        });
      } else {
        shell.daemon = 'down';
        banner('daemon', `Cannot reach fieldsyncd: ${d.message} Retrying…`);
        updateHeader();
      }
    },
    'state.changed': d => {
      shell.store = d.state;
      refreshStatus();
      render();
    },
    'record.changed': d => {
      emit('record.changed', d);
      scheduleRefresh();
    },
    'sync.progress': d => {
      shell.progress = d;
      updateHeader();
      emit('sync.progress', d);
    },
    'sync.done': d => {
      shell.progress = null;
      shell.lastDone = Object.assign({at: Date.now() / 1000}, d);
      // the daemon syncs by itself all day: say so only when it matters
      if (!d.ok || d.pushed || d.pulled || d.refused || d.removed) {
        toast(syncSummary(d), d.ok ? 'ok' : 'error');
      }
      refreshStatus().then(() => emit('sync.done', d));
    },
    'sync.state': d => {
      refreshStatus().then(() => emit('sync.state', d));
    },
    onerror: es => {
      if (es.readyState === EventSource.CLOSED) {
        banner('bridge', 'This page lost its access to the UI bridge: open the link ' +
          '`fieldsync ui` printed.');
      } else if (shell.daemon !== 'down') {
        banner('bridge', 'Lost the connection to `fieldsync ui`: reconnecting…');
      }
    },
  });
}

document.getElementById('lock').addEventListener('click', async () => {
  try {
    await call('lock');
  } catch (e) {
    return;
  }
  shell.store = 'locked';
  updateHeader();
  render();
});

// "/" jumps to the account search from anywhere but a text field.
document.addEventListener('keydown', ev => {
  const t = ev.target;
  if (ev.key !== '/' || ev.ctrlKey || ev.metaKey || ev.altKey ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable) return;
  ev.preventDefault();
  if (route().name === 'accounts') document.getElementById('account-search').focus();
  else location.hash = '#/accounts?focus=search';
});

window.addEventListener('hashchange', () => render());
refreshStatus().then(() => {
  render();
  connectEvents();
});
