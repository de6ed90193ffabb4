// The device keys a direct conversation's messages are sealed to: every
// active key of both members, fetched through the conversation (the API's
// User.deviceKeys) and checked before use. A key whose signature does not
// verify, or that is filed under another user, is never sealed to; the
// send fails instead, since quietly leaving a device out would only move
// the failure to the server's "exactly every device" rule.
//
// Kept per conversation until told otherwise (DEVICE_KEYS_CHANGED, or a
// send the server refused for its envelopes); every fetch also compares the
// partner's keys with the ones seen before (known-keys.js) and tells
// listeners about a change, and records both members' verified keys as
// seen (what a message's sender key is checked against, see trust.js).

import { request } from '../graphql.js';
import { currentUser } from '../auth/session.js';
import { onReconnect } from '../live.js';
import { DEVICE_KEY_FIELDS } from './device.js';
import { verifyDeviceKey } from './keys.js';
import { noteKeys, rememberKeys } from './known-keys.js';

const cache = new Map();
const listeners = new Set();
// A DEVICE_KEYS_CHANGED may have been missed while the link was down.
onReconnect(() => cache.clear());

/** `listener({ conversationId, partner, changes })` when a partner's keys changed. */
export function onKeyChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function fetchKeys(conversationId) {
  const data = await request(
    `query ConversationKeys($id: ID!) { conversation(id: $id) { id kind encrypted
      members { user { id displayName deviceKeys { ${DEVICE_KEY_FIELDS} } } } } }`,
    { id: conversationId },
  );
  const conversation = data.conversation;
  if (!conversation) throw new Error('This conversation is not available.');
  const me = currentUser()?.id;
  const members = await Promise.all(conversation.members.map(async ({ user }) => {
    const checked = await Promise.all(user.deviceKeys.map(async (key) =>
      ({ key, valid: key.userId === user.id && (await verifyDeviceKey(key)) })));
    return {
      user: { id: user.id, displayName: user.displayName },
      deviceKeys: checked.filter((entry) => entry.valid).map((entry) => entry.key),
      invalid: checked.filter((entry) => !entry.valid).map((entry) => entry.key),
    };
  }));
  const partner = members.find((member) => member.user.id !== me) ?? null;
  const result = {
    conversationId,
    encrypted: conversation.encrypted,
    members,
    partner,
    /** Every valid key of both members, each once. */
    deviceKeys: [...new Map(members.flatMap((member) => member.deviceKeys).map((key) => [key.id, key])).values()],
    invalid: members.flatMap((member) => member.invalid.map((key) => ({ key, user: member.user }))),
  };
  if (conversation.kind === 'DIRECT' && conversation.encrypted && partner && me) {
    for (const member of members) rememberKeys(me, member.user.id, member.deviceKeys.map((key) => key.identityKey));
    const identities = [...partner.deviceKeys, ...partner.invalid].map((key) => key.identityKey);
    const { changed, changes } = noteKeys(me, partner.user.id, identities);
    if (changed) for (const listener of listeners) listener({ conversationId, partner: partner.user, changes });
  }
  return result;
}

/**
 * `{ members, partner, deviceKeys, invalid, encrypted }` for the
 * conversation; `fresh` skips the cache.
 */
export function conversationKeys(conversationId, { fresh = false } = {}) {
  let entry = fresh ? null : cache.get(conversationId);
  if (!entry) {
    entry = fetchKeys(conversationId);
    cache.set(conversationId, entry);
    entry.catch(() => {
      if (cache.get(conversationId) === entry) cache.delete(conversationId);
    });
  }
  return entry;
}

/** After DEVICE_KEYS_CHANGED: fetch again now (which announces a change). */
export function keysChanged(conversationId) {
  cache.delete(conversationId);
  return conversationKeys(conversationId).catch(() => null);
}
