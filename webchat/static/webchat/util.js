// Small DOM and formatting helpers shared by the views.

/** h('button', {class: 'x', onclick: fn, 'aria-label': '...'}, 'text', child...) -> Element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function time(seconds) {
  if (!seconds) return '';
  const date = new Date(seconds * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' '
      + date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return 'w-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}

/** A human sentence for a failed call (ImError or anything else). */
export function problem(error) {
  if (!error) return 'Something went wrong.';
  const code = error.code !== undefined ? ` (${error.code})` : '';
  return `${error.message || String(error)}${code}`;
}

/** An amount typed by the user, as the JSON number the server expects; null when not a
 * plain positive decimal. */
export function amount(text) {
  const value = String(text || '').trim();
  if (!/^\d{1,15}(\.\d{1,8})?$/.test(value)) return null;
  const number = Number(value);
  return number > 0 ? number : null;
}

/** A modal <dialog> with a title, a body and a close button; resolves when closed. */
export function dialog(title, body, { label } = {}) {
  const heading = h('h2', { id: 'dlg-' + uuid() }, title);
  const close = h('button', { type: 'button', class: 'link close', 'aria-label': 'Close' }, '×');
  const el = h('dialog', { class: 'modal', 'aria-labelledby': heading.id, 'aria-label': label },
    h('header', {}, heading, close), body);
  close.addEventListener('click', () => el.close());
  el.addEventListener('close', () => el.remove());
  document.body.append(el);
  el.showModal();
  return el;
}
