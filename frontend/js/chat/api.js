// The chat's operations, in one place so the shapes match the fragments.

import { request, upload } from '../graphql.js';
import { currentUser } from '../auth/session.js';
import { ATTACHMENT_FIELDS, CONVERSATION_FIELDS, MESSAGE_FIELDS } from '../fragments.js';
import { knownDeviceKeyId } from '../crypto/device.js';

export const PAGE_SIZE = 40;

/**
 * `$device` of MESSAGE_FIELDS: this browser's device key id. Without one
 * (no key store here) an id no device has, so no envelopes come at all
 * rather than every device's.
 */
export const device = () => knownDeviceKeyId(currentUser()?.id) ?? 'no-device';

/** The conversation with its newest page; `lastSeq` anchors the live replay. */
export async function loadConversationWithHistory(conversationId) {
  const data = await request(
    `query Open($id: ID!, $last: Int!, $device: ID) { conversation(id: $id) { ${CONVERSATION_FIELDS}
      messages(last: $last) { nodes { ${MESSAGE_FIELDS} } pageInfo { hasPreviousPage startCursor } } } }`,
    { id: conversationId, last: PAGE_SIZE, device: device() },
  );
  return data.conversation;
}

/** The page of messages before `cursor` (older ones). */
export async function loadOlder(conversationId, cursor) {
  const data = await request(
    `query Older($id: ID!, $last: Int!, $before: String, $device: ID) { messages(conversationId: $id, last: $last, before: $before) {
      nodes { ${MESSAGE_FIELDS} } pageInfo { hasPreviousPage startCursor } } }`,
    { id: conversationId, last: PAGE_SIZE, before: cursor, device: device() },
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

export const MESSAGE_EVENTS = `subscription Messages($id: ID!, $after: Int, $device: ID) {
  messageEvents(conversationId: $id, afterSeq: $after) { seq kind conversationId message { ${MESSAGE_FIELDS} } } }`;

export const TYPING_EVENTS = `subscription Typing($id: ID!) {
  typing(conversationId: $id) { conversationId typing user { id displayName } } }`;

export const READ_MARKER_EVENTS = `subscription ReadMarkers($id: ID!) {
  readMarkers(conversationId: $id) { conversationId lastReadSeq user { id } } }`;

export async function sendMessage(input) {
  const data = await request(
    `mutation Send($input: SendMessageInput!, $device: ID) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`,
    { input, device: device() },
  );
  return data.sendMessage;
}

export const editMessage = (id, body) =>
  request(`mutation Edit($id: ID!, $body: String!, $device: ID) { editMessage(id: $id, body: $body) { ${MESSAGE_FIELDS} } }`, { id, body, device: device() });

export const deleteMessage = (id) =>
  request(`mutation Delete($id: ID!, $device: ID) { deleteMessage(id: $id) { ${MESSAGE_FIELDS} } }`, { id, device: device() });

/** Switches a direct conversation to end-to-end encryption (one-way). */
export async function encryptConversation(conversationId) {
  const data = await request(
    `mutation Encrypt($id: ID!) { encryptConversation(conversationId: $id) { ${CONVERSATION_FIELDS} } }`,
    { id: conversationId },
  );
  return data.encryptConversation;
}

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

/** `encrypted`: `file` is already ciphertext (crypto/files.js). */
export const uploadFile = (file, onProgress, { encrypted = false } = {}) =>
  upload(file, ATTACHMENT_FIELDS, onProgress, { encrypted });
