// The viewer's conversations, kept current from one messageEvents
// subscription over all of them (new messages move a conversation to the
// top and count as unread), notifications (joined, renamed, removed) and a
// refetch after every reconnect, since the all-conversations stream has no
// replay. Encryption notices (CONVERSATION_ENCRYPTED, DEVICE_KEYS_CHANGED)
// refetch the conversation; a key change also re-reads the keys, which is
// what announces it in the chat.

import { request } from '../graphql.js';
import { live, onReconnect } from '../live.js';
import { currentUser } from '../auth/session.js';
import { CONVERSATION_FIELDS } from '../fragments.js';
import { keysChanged } from '../crypto/directory.js';

const conversations = new Map();
const listeners = new Set();
/** The conversation on screen: its messages are read as they arrive. */
let openId = null;

export const getConversation = (id) => conversations.get(id);

/** Most recently active first. */
export function sortedConversations() {
  const activity = (c) => Date.parse(c.lastMessage?.createdAt ?? c.createdAt);
  return [...conversations.values()].sort((a, b) => activity(b) - activity(a));
}

export function onConversationsChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

export function setOpenConversation(id) {
  openId = id;
  const conversation = conversations.get(id);
  if (conversation) {
    conversation.unreadCount = 0;
    changed();
  }
}

/** Stores or replaces one conversation (e.g. after a mutation returned it). */
export function putConversation(conversation) {
  conversations.set(conversation.id, { ...conversations.get(conversation.id), ...conversation });
  changed();
}

export function dropConversation(id) {
  conversations.delete(id);
  changed();
}

/** The name to show: the group title, or the other member of a direct chat. */
export function conversationName(conversation) {
  if (conversation.kind === 'GROUP') return conversation.title || 'Group';
  return otherMember(conversation)?.user.displayName ?? 'Direct conversation';
}

export function otherMember(conversation) {
  const me = currentUser()?.id;
  return conversation.members.find((member) => member.user.id !== me);
}

export async function loadConversations() {
  const data = await request(`query Conversations { conversations(first: 50) { nodes { ${CONVERSATION_FIELDS} } } }`);
  conversations.clear();
  for (const conversation of data.conversations.nodes) conversations.set(conversation.id, conversation);
  changed();
}

export async function reloadConversation(id) {
  const data = await request(`query Conversation($id: ID!) { conversation(id: $id) { ${CONVERSATION_FIELDS} } }`, { id });
  if (data.conversation) putConversation(data.conversation);
  else dropConversation(id);
  return data.conversation;
}

function applyMessageEvent(event) {
  const conversation = conversations.get(event.conversationId);
  if (!conversation) {
    reloadConversation(event.conversationId).catch(() => {});
    return;
  }
  if (event.seq <= conversation.lastSeq) return;
  conversation.lastSeq = event.seq;
  const message = event.message;
  if (event.kind === 'CREATED') {
    conversation.lastMessage = message;
    const mine = message.author.id === currentUser()?.id;
    const visible = openId === conversation.id && document.visibilityState === 'visible';
    if (!mine && !visible) conversation.unreadCount += 1;
  } else if (conversation.lastMessage?.id === message.id) {
    conversation.lastMessage = message;
  }
  changed();
}

function applyNotification(notification) {
  const conversation = notification.conversation;
  if (!conversation) return;
  if (notification.kind === 'REMOVED_FROM_GROUP') dropConversation(conversation.id);
  else if (notification.kind === 'DEVICE_KEYS_CHANGED') keysChanged(conversation.id);
  else reloadConversation(conversation.id).catch(() => {});
}

const PREVIEW = 'id seq body deleted encrypted createdAt author { id displayName } attachments { id }';

/** Starts following every conversation; returns a function that stops. */
export function followConversations() {
  const stops = [
    live.subscribe({
      query: `subscription AllMessages { messageEvents { seq kind conversationId message { ${PREVIEW} } } }`,
      next: (data) => applyMessageEvent(data.messageEvents),
    }),
    live.subscribe({
      query: 'subscription Notifications { notifications { kind conversation { id title } friendRequest { id } user { id } } }',
      next: (data) => applyNotification(data.notifications),
    }),
    onReconnect(() => loadConversations().catch(() => {})),
  ];
  return () => stops.forEach((stop) => stop());
}
