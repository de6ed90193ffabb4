// One open conversation: header, timeline, typing indicator, composer.
// Live events come from messageEvents(conversationId, afterSeq) with
// afterSeq = the highest event seq applied so far, re-evaluated on every
// reconnect: the server replays what was missed, and anything at or below
// that seq is a duplicate and ignored.
// Encrypted conversations: every message passes through openMessage
// (decryption is asynchronous, so they are opened one after another to
// keep the order of events), and the chat announces encryption and any
// change of the partner's keys with notice lines.

import { icon } from '../icons.js';
import { avatar, h, isOnline, presenceDot, replace, toast } from '../dom.js';
import { currentUser } from '../auth/session.js';
import { live, onReconnect } from '../live.js';
import {
  conversationName, getConversation, onConversationsChange, otherMember, putConversation, setOpenConversation,
} from '../conversations/store.js';
import { openGroupSettings } from '../groups/settings.js';
import { ensureDevice } from '../crypto/device.js';
import { conversationKeys, onKeyChange } from '../crypto/directory.js';
import { releaseDecrypted } from '../crypto/files.js';
import { knownChanges } from '../crypto/known-keys.js';
import { openMessage } from '../crypto/messages.js';
import * as api from './api.js';
import { Composer } from './composer.js';
import { enqueue, onOutbox, pendingIn } from './outbox.js';
import { openEncryptDialog, openSafetyDialog } from './security.js';
import { Timeline } from './timeline.js';

const TYPING_SHOWN_MS = 6_000;

/** The lock (opens the safety number) or, not encrypted yet, the switch. */
function encryptionControl(conversation) {
  if (conversation.kind !== 'DIRECT') return null;
  const partnerName = conversationName(conversation);
  if (conversation.encrypted) {
    return h('button', {
      type: 'button',
      class: 'icon-button lock-button',
      title: 'End-to-end encrypted: compare safety numbers',
      aria: { label: 'End-to-end encrypted: compare safety numbers' },
      data: { testid: 'chat-lock' },
      onclick: () => openSafetyDialog(conversation.id, partnerName),
    }, icon('lock'));
  }
  return h('button', {
    type: 'button',
    class: 'button secondary small',
    title: 'Turn on end-to-end encryption',
    aria: { label: 'Turn on end-to-end encryption' },
    data: { testid: 'encrypt-conversation' },
    onclick: () => openEncryptDialog(conversation, partnerName),
  }, icon('lock'), h('span', { class: 'wide-only' }, ' Turn on encryption'));
}

/** The header; `update(conversation)` follows renames, member changes and encryption. */
function header(conversation, onBack) {
  const name = conversationName(conversation);
  const peer = conversation.kind === 'DIRECT' ? otherMember(conversation)?.user : null;
  const title = h('h2', { data: { testid: 'chat-title' } }, name);
  const encryption = h('span', { class: 'chat-encryption' }, encryptionControl(conversation));
  let encrypted = Boolean(conversation.encrypted);
  const sub = peer
    ? h('span', { class: 'chat-sub', data: { presenceText: peer.id, testid: 'peer-presence' } }, isOnline(peer) ? 'online' : 'offline')
    : h('span', { class: 'chat-sub', data: { testid: 'member-count' } }, `${conversation.members.length} members`);
  const element = h('header', { class: 'chat-header' },
    h('button', { type: 'button', class: 'icon-button back-button', aria: { label: 'Back to conversations' }, data: { testid: 'back' }, onclick: onBack }, icon('back')),
    h('span', { class: 'avatar-wrap' }, avatar(peer ?? { displayName: name }), peer ? presenceDot(peer) : null),
    h('div', { class: 'chat-title' }, title, sub),
    encryption,
    conversation.kind === 'GROUP'
      ? h('button', { type: 'button', class: 'button secondary small', data: { testid: 'group-settings' }, onclick: () => openGroupSettings(conversation.id) }, 'Group info')
      : null);
  const update = (fresh) => {
    title.textContent = conversationName(fresh);
    if (!peer) sub.textContent = `${fresh.members.length} members`;
    if (Boolean(fresh.encrypted) !== encrypted) {
      encrypted = Boolean(fresh.encrypted);
      replace(encryption, encryptionControl(fresh));
    }
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
      // The device id selects this browser's envelopes; without a key
      // store the chat still opens (encrypted messages stay sealed).
      await ensureDevice(currentUser()?.id).catch(() => null);
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

    const partner = conversation.kind === 'DIRECT' ? otherMember(conversation)?.user : null;
    const isEncrypted = () => Boolean(getConversation(conversationId)?.encrypted ?? conversation.encrypted);
    const timeline = new Timeline(conversation, {
      onReply: (message) => composer.setReply(message),
      onEdit: (message) => composer.setEdit(message),
      onDelete: (message) => {
        if (window.confirm('Delete this message for everyone?')) api.deleteMessage(message.id).catch((error) => toast(error.message, 'error'));
      },
      onReact: (message, emoji, on) => api.react(message.id, emoji, on).catch((error) => toast(error.message, 'error')),
    }, { prepare: openMessage });
    const composer = new Composer(conversationId, {
      onSend: ({ body, attachments, replyTo }) => enqueue({ conversationId, body, attachments, replyTo }),
      onEdit: (message, body) => api.editMessage(message.id, body).catch((error) => toast(error.message, 'error')),
      encrypted: isEncrypted,
    });
    // Opened in arrival order, whatever each decryption takes.
    let opening = Promise.resolve();
    const show = (message) => {
      opening = opening.then(() => openMessage(message)).then((shown) => {
        if (!stopped) timeline.upsert(shown);
      }).catch((error) => reportError(error)); // a failure must not stop the ones after it
      return opening;
    };
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
    timeline.start(await Promise.all(messages.nodes.map(openMessage)), messages.pageInfo);
    if (stopped) return;
    for (const item of pendingIn(conversationId)) timeline.addPending(item);
    timeline.showReadMarkers(members);

    const keyNotice = (at) => timeline.addNotice({
      key: `key-change:${at}`,
      at,
      testid: 'key-change-notice',
      children: [
        icon('shield'),
        h('span', {}, `${partner.displayName}'s security key changed — compare the safety number`),
        h('button', { type: 'button', class: 'link-button', onclick: () => openSafetyDialog(conversationId, partner.displayName) }, 'Compare'),
      ],
    });
    let encryptionShown = false;
    const showEncryption = (fresh) => {
      if (!fresh.encrypted || encryptionShown) return;
      encryptionShown = true;
      composer.setEncrypted(true);
      timeline.addNotice({
        key: 'encrypted',
        at: fresh.encryptedAt ?? new Date().toISOString(),
        testid: 'encryption-notice',
        children: [icon('lock'), h('span', {}, 'Messages and files in this chat are end-to-end encrypted. Select the lock to compare safety numbers.')],
      });
      if (!partner) return;
      for (const at of knownChanges(currentUser()?.id, partner.id)) keyNotice(at);
      // Compares the partner's keys with the last ones seen (announces a change).
      conversationKeys(conversationId, { fresh: true }).catch(() => {});
    };
    showEncryption(conversation);
    if (partner) {
      cleanups.push(onKeyChange((change) => {
        if (change.conversationId === conversationId) keyNotice(change.changes.at(-1));
      }));
    }
    const followStore = () => {
      const fresh = getConversation(conversationId);
      if (fresh) {
        top.update(fresh);
        showEncryption(fresh);
        if (fresh.members) members = fresh.members;
      }
    };
    cleanups.push(onConversationsChange(followStore));
    // Key changes announced while the link was down: compare again.
    cleanups.push(onReconnect(() => {
      if (isEncrypted() && partner) conversationKeys(conversationId, { fresh: true }).catch(() => {});
    }));
    followStore(); // whatever changed while the history was being opened
    composer.focus();
    markRead();

    cleanups.push(live.subscribe({
      query: api.MESSAGE_EVENTS,
      variables: () => ({ id: conversationId, after: highestSeq, device: api.device() }),
      next: (data) => {
        const event = data.messageEvents;
        if (event.seq <= highestSeq) return;
        highestSeq = event.seq;
        if (event.kind === 'CREATED' && event.message.author.id !== currentUser()?.id) {
          typers.delete(event.message.author.id);
          showTyping();
        }
        show(event.message).then(() => {
          timeline.showReadMarkers(members);
          markRead();
        });
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
      if (event.type === 'sent') show(event.message);
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
    // Others' read markers arrive live; after a reconnect (events may have
    // been missed meanwhile) the members are read again.
    cleanups.push(live.subscribe({
      query: api.READ_MARKER_EVENTS,
      variables: () => ({ id: conversationId }),
      next: (data) => {
        const { user, lastReadSeq } = data.readMarkers;
        const member = members.find((entry) => entry.user.id === user.id);
        if (!member || member.lastReadSeq >= lastReadSeq) return;
        members = members.map((entry) => (entry === member ? { ...entry, lastReadSeq } : entry));
        timeline.showReadMarkers(members);
      },
    }));
    cleanups.push(onReconnect(refreshMembers));
    const onVisible = () => markRead();
    const onScroll = () => markRead();
    document.addEventListener('visibilitychange', onVisible);
    timeline.element.addEventListener('scroll', onScroll, { passive: true });
    cleanups.push(() => {
      document.removeEventListener('visibilitychange', onVisible);
      timeline.stop();
      composer.stopTyping();
      releaseDecrypted();
      for (const entry of typers.values()) clearTimeout(entry.timer);
    });
  })();

  return () => {
    stopped = true;
    setOpenConversation(null);
    cleanups.forEach((cleanup) => cleanup());
  };
}
