// The chat's operations, in one place so the shapes match the fragments.

import { request, upload } from '../graphql.js';
import { ATTACHMENT_FIELDS, CONVERSATION_FIELDS, MESSAGE_FIELDS } from '../fragments.js';

export const PAGE_SIZE = 40;

/** The conversation with its newest page; `lastSeq` anchors the live replay. */
export async function loadConversationWithHistory(conversationId) {
  const data = await request(
    `query Open($id: ID!, $last: Int!) { conversation(id: $id) { ${CONVERSATION_FIELDS}
      messages(last: $last) { nodes { ${MESSAGE_FIELDS} } pageInfo { hasPreviousPage startCursor } } } }`,
    { id: conversationId, last: PAGE_SIZE },
  );
  return data.conversation;
}

/** The page of messages before `cursor` (older ones). */
export async function loadOlder(conversationId, cursor) {
  const data = await request(
    `query Older($id: ID!, $last: Int!, $before: String) { messages(conversationId: $id, last: $last, before: $before) {
      nodes { ${MESSAGE_FIELDS} } pageInfo { hasPreviousPage startCursor } } }`,
    { id: conversationId, last: PAGE_SIZE, before: cursor },
  );
  return data.messages;
}

export async function loadMembers(conversationId) {
  const data = await request(
    'query Members($id: ID!) { conversation(id: $id) { id lastSeq members { lastReadSeq role user { id displayName } } } }',
    { id: conversationId },
  );
  return data.conversation;
}

export const MESSAGE_EVENTS = `subscription Messages($id: ID!, $after: Int) {
  messageEvents(conversationId: $id, afterSeq: $after) { seq kind conversationId message { ${MESSAGE_FIELDS} } } }`;

export const TYPING_EVENTS = `subscription Typing($id: ID!) {
  typing(conversationId: $id) { conversationId typing user { id displayName } } }`;

export async function sendMessage(input) {
  const data = await request(
    `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`,
    { input },
  );
  return data.sendMessage;
}

export const editMessage = (id, body) =>
  request(`mutation Edit($id: ID!, $body: String!) { editMessage(id: $id, body: $body) { ${MESSAGE_FIELDS} } }`, { id, body });

export const deleteMessage = (id) =>
  request(`mutation Delete($id: ID!) { deleteMessage(id: $id) { ${MESSAGE_FIELDS} } }`, { id });

export const react = (messageId, emoji, on) =>
  request(
    `mutation React($id: ID!, $emoji: String!) { ${on ? 'addReaction' : 'removeReaction'}(messageId: $id, emoji: $emoji) { id } }`,
    { id: messageId, emoji },
  );

export const setTyping = (conversationId, typing) =>
  request('mutation Typing($id: ID!, $typing: Boolean!) { setTyping(conversationId: $id, typing: $typing) }', {
    id: conversationId,
    typing,
  });

export const markRead = (conversationId, seq) =>
  request('mutation Read($id: ID!, $seq: Int!) { markRead(conversationId: $id, seq: $seq) { id unreadCount } }', {
    id: conversationId,
    seq,
  });

export const uploadFile = (file, onProgress) => upload(file, ATTACHMENT_FIELDS, onProgress);
