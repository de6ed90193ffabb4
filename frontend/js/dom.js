// Building DOM without HTML strings: user content only ever becomes text
// nodes or attribute values, never markup, so a message cannot inject script
// (and the CSP forbids inline script besides).

import { icon } from './icons.js';

/**
 * h('button', { class: 'x', onclick, aria: { label: 'Send' }, data: { testid: 'send' } }, 'Send')
 * Children: strings (as text), nodes, arrays, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'aria') for (const [name, v] of Object.entries(value)) element.setAttribute(`aria-${name}`, String(v));
    else if (key === 'data') for (const [name, v] of Object.entries(value)) element.dataset[name] = String(v);
    else if (key === 'style') Object.assign(element.style, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (key in element && typeof value !== 'string') element[key] = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

/** A round avatar: the image when there is one, else the initial. */
export function avatar(user, size = 'md') {
  const name = user?.displayName || user?.username || '?';
  const box = h('span', { class: `avatar avatar-${size}`, aria: { hidden: 'true' } });
  if (user?.avatarUrl) box.append(h('img', { src: user.avatarUrl, alt: '', loading: 'lazy' }));
  else box.textContent = name.trim().charAt(0).toUpperCase() || '?';
  return box;
}

/** Presence learnt live, newer than the `online` field of fetched users. */
const knownPresence = new Map();

export const isOnline = (user) => knownPresence.get(user?.id) ?? Boolean(user?.online);

/** A presence dot whose state setPresence updates by user id. */
export function presenceDot(user) {
  const online = isOnline(user);
  return h('span', {
    class: `presence ${online ? 'online' : 'offline'}`,
    data: { presenceUser: user?.id ?? '', testid: 'presence', online: String(online) },
    role: 'img',
    aria: { label: online ? 'online' : 'offline' },
  });
}

/** Records and shows on every dot of `userId` on the page. */
export function setPresence(userId, online) {
  knownPresence.set(userId, online);
  for (const dot of document.querySelectorAll(`[data-presence-user="${CSS.escape(userId)}"]`)) {
    dot.classList.toggle('online', online);
    dot.classList.toggle('offline', !online);
    dot.setAttribute('aria-label', online ? 'online' : 'offline');
    dot.dataset.online = String(online);
  }
  for (const text of document.querySelectorAll(`[data-presence-text="${CSS.escape(userId)}"]`)) {
    text.textContent = online ? 'online' : 'offline';
  }
}

/** Short local time for a message, date too when not today. */
export function formatTime(iso) {
  const date = new Date(iso);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** A transient message at the bottom of the screen (role=status). */
export function toast(text, kind = 'info') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', aria: { live: 'polite' } });
    document.body.append(region);
  }
  const item = h('div', { class: `toast toast-${kind}` }, text);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}

/**
 * A modal <dialog> with a title; returns { dialog, body, close }.
 * Native dialogs trap focus and close on Escape.
 */
export function modal(title, testid) {
  const body = h('div', { class: 'dialog-body' });
  const dialog = h(
    'dialog',
    { class: 'dialog', aria: { labelledby: `${testid}-title` }, data: { testid } },
    h(
      'header',
      { class: 'dialog-header' },
      h('h2', { id: `${testid}-title` }, title),
      h('button', { class: 'icon-button', type: 'button', aria: { label: 'Close' }, onclick: () => close() }, icon('close')),
    ),
    body,
  );
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, close };
}
