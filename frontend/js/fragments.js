// Selections shared by several features, so every screen asks for the same
// shape and one renderer fits all.

import { USER_FIELDS } from './auth/session.js';

export { USER_FIELDS };

export const ATTACHMENT_FIELDS = 'id fileName contentType size url width height thumbnailUrl encrypted';

export const DEVICE_KEY_FIELDS = 'id userId identityKey encryptionKey signature';

/**
 * Every operation that selects MESSAGE_FIELDS declares `$device: ID`: this
 * browser's device key id, so an encrypted message brings only the one
 * envelope this device can open (see chat/api.js).
 */
export const MESSAGE_FIELDS = `id conversationId seq body clientId createdAt editedAt deleted encrypted
  author { id username displayName avatarUrl }
  senderDeviceKey { ${DEVICE_KEY_FIELDS} revokedAt }
  envelopes(deviceKeyId: $device) { deviceKeyId ciphertext }
  replyTo { id deleted encrypted body author { id displayName } }
  attachments { ${ATTACHMENT_FIELDS} }
  reactions { emoji count reactedByMe }`;

export const MEMBER_FIELDS = `role lastReadSeq user { ${USER_FIELDS} }`;

export const CONVERSATION_FIELDS = `id kind title lastSeq unreadCount createdAt encrypted encryptedAt
  members { ${MEMBER_FIELDS} }
  lastMessage { id seq body deleted encrypted createdAt author { id displayName } attachments { id } }`;
