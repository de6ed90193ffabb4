// The conversation list: most recent first, unread badges, the last message
// and presence dots; re-rendered (cheaply, it is short) on every change.

import { avatar, formatTime, h, presenceDot, replace } from '../dom.js';
import { icon } from '../icons.js';
import { currentUser } from '../auth/session.js';
import { openedText } from '../crypto/messages.js';
import { conversationName, onConversationsChange, otherMember, sortedConversations } from './store.js';

function preview(conversation) {
  const message = conversation.lastMessage;
  if (!message) return 'No messages yet';
  const who = message.author.id === currentUser()?.id ? 'You' : message.author.displayName;
  // Encrypted: the text when this browser has opened it already.
  let text = message.encrypted ? openedText(message.id) ?? 'Encrypted message' : message.body;
  if (message.deleted) text = 'Message deleted';
  else if (!text && message.attachments?.length) text = 'Attachment';
  return `${who}: ${text}`;
}

function item(conversation, selectedId, open) {
  const name = conversationName(conversation);
  const peer = conversation.kind === 'DIRECT' ? otherMember(conversation)?.user : null;
  const unread = conversation.unreadCount;
  const label = `${name}${conversation.encrypted ? ', end-to-end encrypted' : ''}${unread ? `, ${unread} unread` : ''}`;
  return h('li', {},
    h('button', {
      type: 'button',
      class: 'list-item',
      aria: { current: String(conversation.id === selectedId), label },
      data: { testid: 'conversation-item', conversationId: conversation.id, name },
      onclick: () => open(conversation.id),
    },
      h('span', { class: 'avatar-wrap' },
        avatar(peer ?? { displayName: name }),
        peer ? presenceDot(peer) : null),
      h('span', { class: 'list-text' },
        h('span', { class: 'list-title' },
          conversation.encrypted
            ? h('span', { class: 'list-lock', role: 'img', aria: { label: 'end-to-end encrypted' }, data: { testid: 'conversation-lock' } }, icon('lock'))
            : null,
          name),
        h('span', { class: 'list-sub', data: { testid: 'conversation-preview' } }, preview(conversation))),
      h('span', { class: 'list-meta' },
        conversation.lastMessage ? h('time', { datetime: conversation.lastMessage.createdAt }, formatTime(conversation.lastMessage.createdAt)) : null,
        unread ? h('span', { class: 'badge', data: { testid: 'unread-badge' }, aria: { hidden: 'true' } }, String(unread)) : null),
    ),
  );
}

/**
 * Mounts the list into `container`; `open(id)` opens a conversation and
 * `selected()` says which is open. Returns a function that unmounts.
 */
export function mountConversationList(container, { open, selected }) {
  const list = h('ul', { class: 'list', aria: { label: 'Conversations' }, data: { testid: 'conversation-list' } });
  const render = () => {
    const all = sortedConversations();
    if (all.length === 0) {
      replace(list, h('li', { class: 'empty' }, 'No conversations yet. Add a friend to start chatting.'));
      return;
    }
    const focusedId = document.activeElement?.dataset?.conversationId;
    replace(list, all.map((conversation) => item(conversation, selected(), open)));
    if (focusedId) list.querySelector(`[data-conversation-id="${CSS.escape(focusedId)}"]`)?.focus();
  };
  replace(container, list);
  render();
  return onConversationsChange(render);
}
