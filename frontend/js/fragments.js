// Selections shared by several features, so every screen asks for the same
// shape and one renderer fits all.

import { USER_FIELDS } from './auth/session.js';

export { USER_FIELDS };

export const ATTACHMENT_FIELDS = 'id fileName contentType size url width height thumbnailUrl';

export const MESSAGE_FIELDS = `id conversationId seq body clientId createdAt editedAt deleted
  author { id username displayName avatarUrl }
  replyTo { id deleted body author { id displayName } }
  attachments { ${ATTACHMENT_FIELDS} }
  reactions { emoji count reactedByMe }`;

export const MEMBER_FIELDS = `role lastReadSeq user { ${USER_FIELDS} }`;

export const CONVERSATION_FIELDS = `id kind title lastSeq unreadCount createdAt
  members { ${MEMBER_FIELDS} }
  lastMessage { id seq body deleted createdAt author { id displayName } attachments { id } }`;
