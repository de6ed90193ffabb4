// The scrolling list of one conversation's messages. Keyed by message id
// (pending ones by clientId), ordered by seq, so a live event, a replayed
// one and a mutation's answer for the same message land on the same
// element: nothing shows twice. Older pages load when the top comes into
// view, keeping the reader's place.

import { h } from '../dom.js';
import { currentUser } from '../auth/session.js';
import { loadOlder } from './api.js';
import { renderMessage } from './message.js';

const NEAR_BOTTOM_PX = 120;

export class Timeline {
  /** `prepare(message)` resolves to the message as shown (decrypted), for older pages. */
  constructor(conversation, actions, { prepare = async (message) => message } = {}) {
    this.conversation = conversation;
    this.actions = actions;
    this.prepare = prepare;
    this.messages = new Map();
    this.elements = new Map();
    this.readMarker = null;
    this.sentinel = h('div', { class: 'history-sentinel', data: { testid: 'history-sentinel' } });
    this.element = h('div', {
      class: 'timeline',
      role: 'log',
      tabindex: '0',
      aria: { label: 'Messages', live: 'polite', relevant: 'additions' },
      data: { testid: 'timeline' },
      onkeydown: (event) => this.keyboard(event),
    }, this.sentinel);
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadOlder();
    }, { root: this.element, rootMargin: '200px 0px 0px 0px' });
  }

  /** The first page, newest last; `pageInfo` says whether there is more. */
  start(messages, pageInfo) {
    this.cursor = pageInfo.startCursor;
    this.hasOlder = pageInfo.hasPreviousPage;
    for (const message of messages) this.upsert(message, { scroll: false });
    this.scrollToBottom();
    this.observer.observe(this.sentinel);
  }

  stop() {
    this.observer.disconnect();
  }

  isNearBottom() {
    const el = this.element;
    return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** The newest confirmed message's seq (0 when empty). */
  newestSeq() {
    let newest = 0;
    for (const message of this.messages.values()) newest = Math.max(newest, message.seq);
    return newest;
  }

  render(message) {
    const mine = message.author.id === currentUser()?.id;
    return renderMessage(message, { mine, showAuthor: this.conversation.kind === 'GROUP', actions: this.actions });
  }

  /** Adds or replaces a confirmed message; removes its pending twin. */
  upsert(message, { scroll = true } = {}) {
    const stick = scroll && (this.isNearBottom() || message.author.id === currentUser()?.id);
    if (message.clientId) this.removePending(message.clientId);
    this.messages.set(message.id, message);
    const element = this.render(message);
    const old = this.elements.get(message.id);
    this.elements.set(message.id, element);
    if (old) {
      old.replaceWith(element);
    } else {
      const after = [...this.messages.values()]
        .filter((other) => other.seq > message.seq)
        .sort((a, b) => a.seq - b.seq)[0];
      const before = after ? this.elements.get(after.id) : this.firstPending();
      if (before) before.before(element);
      else this.element.append(element);
    }
    if (stick) this.scrollToBottom();
  }

  firstPending() {
    return this.element.querySelector('.message.pending');
  }

  /** Shows an outbox item until the server confirms it. */
  addPending(item) {
    const key = `pending:${item.clientId}`;
    if (this.elements.has(key) || [...this.messages.values()].some((m) => m.clientId === item.clientId)) return;
    const element = this.render({ ...item, id: null, pending: true, author: currentUser(), reactions: [] });
    this.elements.set(key, element);
    this.element.append(element);
    this.scrollToBottom();
  }

  /**
   * A line that is not a message (encryption turned on, a changed key),
   * placed among the messages by time `at` (ISO). `key` keeps it unique.
   */
  addNotice({ key, at, testid, children }) {
    if (this.elements.has(`notice:${key}`)) return;
    const element = h('div', { class: 'notice', role: 'note', data: { testid, at } }, children);
    this.elements.set(`notice:${key}`, element);
    const time = Date.parse(at);
    const after = [...this.messages.values()]
      .filter((message) => Date.parse(message.createdAt) > time)
      .sort((a, b) => a.seq - b.seq)[0];
    const before = after ? this.elements.get(after.id) : this.firstPending();
    const stick = this.isNearBottom();
    if (before) before.before(element);
    else this.element.append(element);
    if (stick) this.scrollToBottom();
  }

  removePending(clientId) {
    const key = `pending:${clientId}`;
    this.elements.get(key)?.remove();
    this.elements.delete(key);
  }

  async loadOlder() {
    if (!this.hasOlder || this.loading) return;
    this.loading = true;
    this.sentinel.textContent = 'Loading older messages…';
    try {
      const page = await loadOlder(this.conversation.id, this.cursor);
      const nodes = await Promise.all(page.nodes.map(this.prepare));
      const fromBottom = this.element.scrollHeight - this.element.scrollTop;
      for (const message of nodes) if (!this.messages.has(message.id)) this.upsert(message, { scroll: false });
      this.element.scrollTop = this.element.scrollHeight - fromBottom;
      this.cursor = page.pageInfo.startCursor;
      this.hasOlder = page.pageInfo.hasPreviousPage;
      this.sentinel.textContent = this.hasOlder ? '' : 'Beginning of the conversation';
    } catch {
      this.sentinel.textContent = '';
    } finally {
      this.loading = false;
    }
    // Still at the top (a short page): keep going.
    if (this.hasOlder && this.element.scrollTop < 50) requestAnimationFrame(() => this.loadOlder());
  }

  /**
   * "Seen" under the newest of my messages that every other member has
   * read (direct chats), or "Seen by N" in groups.
   */
  showReadMarkers(members) {
    this.readMarker?.remove();
    this.readMarker = null;
    const me = currentUser()?.id;
    const others = members.filter((member) => member.user.id !== me);
    const mine = [...this.messages.values()].filter((m) => m.author.id === me && !m.deleted).sort((a, b) => b.seq - a.seq)[0];
    if (!mine || others.length === 0) return;
    const readers = others.filter((member) => member.lastReadSeq >= mine.seq);
    if (readers.length === 0) return;
    const text = this.conversation.kind === 'GROUP'
      ? `Seen by ${readers.map((member) => member.user.displayName).join(', ')}`
      : 'Seen';
    this.readMarker = h('div', { class: 'read-marker', data: { testid: 'read-marker' } }, text);
    this.elements.get(mine.id)?.after(this.readMarker);
  }

  /** Up/Down move between messages; Home/End jump. */
  keyboard(event) {
    const items = [...this.element.querySelectorAll('.message')];
    if (!items.length || !['ArrowUp', 'ArrowDown', 'Home', 'End'].includes(event.key)) return;
    if (event.target.closest('button')) return;
    const index = items.indexOf(document.activeElement);
    let next = index;
    if (event.key === 'ArrowUp') next = index === -1 ? items.length - 1 : Math.max(0, index - 1);
    if (event.key === 'ArrowDown') next = Math.min(items.length - 1, index + 1);
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = items.length - 1;
    event.preventDefault();
    items[next].focus();
  }
}
