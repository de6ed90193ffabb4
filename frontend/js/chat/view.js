// One open conversation: header, timeline, typing indicator, composer.
// Live events come from messageEvents(conversationId, afterSeq) with
// afterSeq = the highest event seq applied so far, re-evaluated on every
// reconnect: the server replays what was missed, and anything at or below
// that seq is a duplicate and ignored.

import { icon } from '../icons.js';
import { avatar, h, isOnline, presenceDot, replace, toast } from '../dom.js';
import { currentUser } from '../auth/session.js';
import { live } from '../live.js';
import {
  conversationName, getConversation, onConversationsChange, otherMember, putConversation, setOpenConversation,
} from '../conversations/store.js';
import { openGroupSettings } from '../groups/settings.js';
import * as api from './api.js';
import { Composer } from './composer.js';
import { enqueue, onOutbox, pendingIn } from './outbox.js';
import { Timeline } from './timeline.js';

const TYPING_SHOWN_MS = 6_000;
const MEMBERS_REFRESH_MS = 8_000;

/** The header; `update(conversation)` follows renames and member changes. */
function header(conversation, onBack) {
  const name = conversationName(conversation);
  const peer = conversation.kind === 'DIRECT' ? otherMember(conversation)?.user : null;
  const title = h('h2', { data: { testid: 'chat-title' } }, name);
  const sub = peer
    ? h('span', { class: 'chat-sub', data: { presenceText: peer.id, testid: 'peer-presence' } }, isOnline(peer) ? 'online' : 'offline')
    : h('span', { class: 'chat-sub', data: { testid: 'member-count' } }, `${conversation.members.length} members`);
  const element = h('header', { class: 'chat-header' },
    h('button', { type: 'button', class: 'icon-button back-button', aria: { label: 'Back to conversations' }, data: { testid: 'back' }, onclick: onBack }, icon('back')),
    h('span', { class: 'avatar-wrap' }, avatar(peer ?? { displayName: name }), peer ? presenceDot(peer) : null),
    h('div', { class: 'chat-title' }, title, sub),
    conversation.kind === 'GROUP'
      ? h('button', { type: 'button', class: 'button secondary small', data: { testid: 'group-settings' }, onclick: () => openGroupSettings(conversation.id) }, 'Group info')
      : null);
  const update = (fresh) => {
    title.textContent = conversationName(fresh);
    if (!peer) sub.textContent = `${fresh.members.length} members`;
  };
  return { element, update };
}

/** Mounts the chat for `conversationId` into `container`; returns an unmount function. */
export function mountChat(container, conversationId, { onBack }) {
  let stopped = false;
  const cleanups = [];
  replace(container, h('p', { class: 'empty-main', role: 'status' }, 'Loading conversation…'));

  (async () => {
    let conversation;
    try {
      conversation = await api.loadConversationWithHistory(conversationId);
    } catch (error) {
      if (!stopped) replace(container, h('p', { class: 'empty-main', role: 'alert' }, error.message));
      return;
    }
    if (stopped) return;
    if (!conversation) {
      replace(container, h('p', { class: 'empty-main', role: 'alert' }, 'This conversation is not available.'));
      return;
    }
    const { messages, ...summary } = conversation;
    putConversation(summary);
    setOpenConversation(conversationId);
    let highestSeq = conversation.lastSeq;
    let markedSeq = 0;
    let members = conversation.members;

    const markRead = () => {
      if (document.visibilityState !== 'visible' || highestSeq <= markedSeq || !timeline.isNearBottom()) return;
      markedSeq = highestSeq;
      api.markRead(conversationId, highestSeq).catch(() => {
        markedSeq = 0;
      });
      setOpenConversation(conversationId);
    };

    const timeline = new Timeline(conversation, {
      onReply: (message) => composer.setReply(message),
      onEdit: (message) => composer.setEdit(message),
      onDelete: (message) => {
        if (window.confirm('Delete this message for everyone?')) api.deleteMessage(message.id).catch((error) => toast(error.message, 'error'));
      },
      onReact: (message, emoji, on) => api.react(message.id, emoji, on).catch((error) => toast(error.message, 'error')),
    });
    const composer = new Composer(conversationId, {
      onSend: ({ body, attachments, replyTo }) => enqueue({ conversationId, body, attachments, replyTo }),
      onEdit: (message, body) => api.editMessage(message.id, body).catch((error) => toast(error.message, 'error')),
    });
    const typingLine = h('div', { class: 'typing', aria: { live: 'polite' }, data: { testid: 'typing-indicator' } });
    const typers = new Map();
    const showTyping = () => {
      const names = [...typers.values()].map((entry) => entry.name);
      typingLine.textContent = names.length === 0 ? ''
        : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
    };

    const top = header(conversation, onBack);
    replace(container, h('section', { class: 'chat', aria: { label: `Chat with ${conversationName(conversation)}` }, data: { testid: 'chat' } },
      top.element, timeline.element, typingLine, composer.element));
    cleanups.push(onConversationsChange(() => {
      const fresh = getConversation(conversationId);
      if (fresh) {
        top.update(fresh);
        if (fresh.members) members = fresh.members;
      }
    }));
    timeline.start(messages.nodes, messages.pageInfo);
    for (const item of pendingIn(conversationId)) timeline.addPending(item);
    timeline.showReadMarkers(members);
    composer.focus();
    markRead();

    cleanups.push(live.subscribe({
      query: api.MESSAGE_EVENTS,
      variables: () => ({ id: conversationId, after: highestSeq }),
      next: (data) => {
        const event = data.messageEvents;
        if (event.seq <= highestSeq) return;
        highestSeq = event.seq;
        timeline.upsert(event.message);
        if (event.kind === 'CREATED' && event.message.author.id !== currentUser()?.id) {
          typers.delete(event.message.author.id);
          showTyping();
        }
        timeline.showReadMarkers(members);
        markRead();
      },
    }));
    cleanups.push(live.subscribe({
      query: api.TYPING_EVENTS,
      variables: () => ({ id: conversationId }),
      next: (data) => {
        const { user, typing } = data.typing;
        if (user.id === currentUser()?.id) return;
        clearTimeout(typers.get(user.id)?.timer);
        if (typing) {
          const timer = setTimeout(() => {
            typers.delete(user.id);
            showTyping();
          }, TYPING_SHOWN_MS);
          typers.set(user.id, { name: user.displayName, timer });
        } else {
          typers.delete(user.id);
        }
        showTyping();
      },
    }));
    cleanups.push(onOutbox((event) => {
      if (event.item.conversationId !== conversationId) return;
      if (event.type === 'queued') timeline.addPending(event.item);
      if (event.type === 'sent') timeline.upsert(event.message);
      if (event.type === 'failed') {
        timeline.removePending(event.item.clientId);
        toast(`Not sent: ${event.error.message}`, 'error');
      }
    }));
    const refreshMembers = async () => {
      try {
        const fresh = await api.loadMembers(conversationId);
        if (fresh) {
          members = fresh.members;
          timeline.showReadMarkers(members);
        }
      } catch {
        // offline: the next tick tries again
      }
    };
    const membersTimer = setInterval(refreshMembers, MEMBERS_REFRESH_MS);
    const onVisible = () => markRead();
    const onScroll = () => markRead();
    document.addEventListener('visibilitychange', onVisible);
    timeline.element.addEventListener('scroll', onScroll, { passive: true });
    cleanups.push(() => {
      clearInterval(membersTimer);
      document.removeEventListener('visibilitychange', onVisible);
      timeline.stop();
      composer.stopTyping();
      for (const entry of typers.values()) clearTimeout(entry.timer);
    });
  })();

  return () => {
    stopped = true;
    setOpenConversation(null);
    cleanups.forEach((cleanup) => cleanup());
  };
}
