// dom.js: building the page's elements. Everything the daemon sends is put in
// as text (never as HTML), so a record cannot inject markup or script.

// h('a', {href: '#/x', class: 'c', on: {click: fn}}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'value' || (k in el && typeof v !== 'string')) {
      el[k] = v; // properties: value (a textarea has no value attribute), checked ...
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

// el.append() for h()'s children: arrays flattened, null/false/'' skipped.
export function add(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === '') continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// A table: columns [{label, cell: row => node|text, num: true, cls: 'x'}];
// rows: objects.
export function table(columns, rows, opts = {}) {
  const cls = c => [c.num ? 'num' : null, c.cls].filter(Boolean).join(' ') || null;
  const head = h('tr', null, columns.map(c => h('th', {scope: 'col', class: cls(c)}, c.label)));
  const body = rows.map(r => h('tr', {class: opts.rowClass ? opts.rowClass(r) : null},
    columns.map(c => h('td', {class: cls(c)}, c.cell(r)))));
  return h('div', {class: 'table-wrap'},
    h('table', {class: opts.class || null}, opts.caption ? h('caption', null, opts.caption) : null,
      h('thead', null, head), h('tbody', null, body)));
}

// A titled section of a page.
export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', null, title), children);
}

export function empty(text) {
  return h('p', {class: 'empty'}, text);
}

// A definition list from [label, value] pairs; empty values are left out.
export function facts(pairs) {
  const items = pairs.filter(([, v]) => v !== null && v !== undefined && v !== '' &&
    !(Array.isArray(v) && v.length === 0));
  if (items.length === 0) return empty('Nothing recorded yet.');
  return h('dl', {class: 'facts'}, items.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function pill(text, kind) {
  return h('span', {class: 'pill' + (kind ? ' pill-' + kind : '')}, text);
}

// The page's heading; focused after navigation so keyboard and screen reader
// users start at the new content.
export function title(text, sub) {
  return h('div', {class: 'page-title'}, h('h1', {tabindex: '-1'}, text),
    sub ? h('p', {class: 'sub'}, sub) : null);
}
