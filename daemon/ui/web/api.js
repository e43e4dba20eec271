// api.js: the page's link to fieldsyncd, through the bridge that `fieldsync
// ui` runs: call() for one JSON-RPC method (POST /api/call), listen() for the
// daemon's notifications (GET /api/events, Server-Sent Events). The access
// token travels in an HttpOnly cookie this script never sees.

// An error the page can show: kind is the daemon's symbolic error name
// (locked, auth_failed, invalid_params, not_found ...) or the bridge's
// (unreachable, not_allowed, bridge_down, forbidden ...).
export class ApiError extends Error {
  constructor(err, status) {
    super(err.message || 'unknown error');
    this.kind = err.name || 'error';
    this.code = err.code;
    this.field = err.field;
    this.status = status;
  }
}

let errorHook = () => {};

// fn(err) sees every failed call first (the shell turns "locked" into the
// unlock screen and "unreachable" into a banner).
export function onApiError(fn) {
  errorHook = fn;
}

export async function call(method, params) {
  let resp, body;
  try {
    resp = await fetch('/api/call', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(params === undefined ? {method} : {method, params}),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw report(new ApiError({name: 'bridge_down', message:
      'Cannot reach the UI bridge: is `fieldsync ui` still running?'}, 0));
  }
  if (resp.status === 403 && !(resp.headers.get('Content-Type') || '').startsWith('application/json')) {
    throw report(new ApiError({name: 'forbidden', message:
      'This page\'s access has expired: open the link `fieldsync ui` printed.'}, 403));
  }
  try {
    body = await resp.json();
  } catch (e) {
    throw report(new ApiError({name: 'bad_answer',
      message: `The bridge answered ${resp.status} without JSON.`}, resp.status));
  }
  if (body.error) throw report(new ApiError(body.error, resp.status));
  return body.result;
}

function report(err) {
  errorHook(err);
  return err;
}

// Subscribes to the daemon's notifications: handlers maps an event name
// (record.changed, sync.progress, sync.done, sync.state, state.changed, and
// the bridge's own "bridge") to fn(params); handlers.onerror(source) runs when
// the stream to the bridge breaks. The browser reconnects by itself.
export function listen(handlers) {
  const es = new EventSource('/api/events');
  for (const [name, fn] of Object.entries(handlers)) {
    if (name === 'onerror') continue;
    es.addEventListener(name, ev => {
      let data = null;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      fn(data);
    });
  }
  es.onerror = () => handlers.onerror && handlers.onerror(es);
  return es;
}
