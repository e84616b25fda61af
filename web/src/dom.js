// A tiny DOM builder for the pages: h('td', {class: 'num'}, 'text', child…), and table().

export function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : String(c));
  return n;
}

/** A scrollable table: heads are strings or {label, num}; rows are arrays of cells (string or Node or {v, num}). */
export function table(heads, rows, attrs = {}) {
  const th = heads.map((x) => (typeof x === 'string' ? h('th', {}, x) : h('th', { class: x.num ? 'num' : null, ...x.attrs }, x.label)));
  const tr = rows.map((r) => h('tr', {}, r.map((c) => (c && c.v !== undefined
    ? h('td', { class: c.num ? 'num' : null }, c.v) : h('td', {}, c)))));
  return h('div', { class: 'scroll' }, h('table', attrs, h('thead', {}, h('tr', {}, th)), h('tbody', {}, tr)));
}

export const num = (v) => ({ v, num: true });
