// Chat messages of encrypted conversations, between the app and the pure
// crypto: sealing what the composer wrote for every device of both members,
// and opening what the API returns into the shape the timeline renders
// (body = the decrypted text, attachments with their real names and the
// key to decrypt them). Opened payloads are remembered by message id, so a
// reaction or a re-render does not decrypt again, and so previews and reply
// quotes can show text the server never had.
// An opened message also gets a verdict on its sender's device (trust.js):
// one sealed by a key that is neither in the author's directory nor
// recorded by this browser carries a warning line.

import { GraphQLError } from '../graphql.js';
import { currentUser } from '../auth/session.js';
import { ensureDevice, forgetRegistration } from './device.js';
import { conversationKeys } from './directory.js';
import { verifyDeviceKey } from './keys.js';
import { recordedKeys } from './known-keys.js';
import { MAX_TEXT_CHARS, decodePayload, encodePayload } from './payload.js';
import { MAX_CIPHERTEXT_CHARS, open, seal } from './seal.js';
import { SENDER_WARNINGS, senderTrust } from './trust.js';

/** The API's cap on envelopes per message. */
const MAX_ENVELOPES = 20;

const refuse = (message, field = 'body') => new GraphQLError(message, 'BAD_USER_INPUT', { field });

/**
 * `{ senderDeviceKeyId, envelopes }` for sendMessage. `text` and
 * `attachments` (`[{ id, key, iv, name, type, size, width, height }]`) are
 * sealed together. `fresh` re-reads both members' keys first (after the
 * server refused the envelopes: a device came or went); `reregister`
 * publishes this device's key again first (the server did not take it as
 * the sender's).
 */
export async function sealMessage({ conversationId, text, attachments = [], fresh = false, reregister = false }) {
  if ([...text].length > MAX_TEXT_CHARS) throw refuse(`body must be 1–${MAX_TEXT_CHARS} characters`);
  const me = currentUser()?.id;
  if (reregister) forgetRegistration(me);
  const device = await ensureDevice(me);
  const keys = await conversationKeys(conversationId, { fresh });
  if (keys.invalid.length) {
    const names = [...new Set(keys.invalid.map((entry) => entry.user.displayName))].join(', ');
    throw refuse(`A security key of ${names} failed its signature check.`, 'envelopes');
  }
  if (keys.deviceKeys.length > MAX_ENVELOPES) throw refuse('Too many devices to encrypt for.', 'envelopes');
  const envelopes = await seal(encodePayload({ text, attachments }), {
    conversationId,
    sender: device.self,
    targets: keys.deviceKeys,
  });
  if (envelopes.some((envelope) => envelope.ciphertext.length > MAX_CIPHERTEXT_CHARS)) {
    throw refuse('The message is too long to encrypt.');
  }
  return { senderDeviceKeyId: device.deviceKeyId, envelopes };
}

const opened = new Map();
const MAX_OPENED = 2000;

/** What previews and reply quotes show for an opened message whose sender device is flagged. */
const UNVERIFIED_TEXT = 'Message from an unverified device';

/**
 * The decrypted text of a message opened before (previews, reply quotes),
 * once its sender device was found known; a placeholder when it was
 * flagged (the warning only shows on the message itself); else null.
 */
export function openedText(messageId) {
  const entry = opened.get(messageId);
  if (!entry?.payload || !entry.standing) return null;
  return entry.standing === 'known' ? entry.payload.text : UNVERIFIED_TEXT;
}

async function openPayload(message, device) {
  const envelope = message.envelopes?.find((item) => item.deviceKeyId === device.deviceKeyId);
  if (!envelope) return { problem: 'other-device' };
  const cached = opened.get(message.id);
  if (cached?.ciphertext === envelope.ciphertext) return cached;
  let result;
  try {
    const sender = message.senderDeviceKey;
    if (!sender || sender.userId !== message.author.id || !(await verifyDeviceKey(sender))) {
      throw new Error('the sender key does not verify');
    }
    const bytes = await open(envelope.ciphertext, {
      conversationId: message.conversationId,
      senderDeviceKey: sender,
      recipient: device.self,
    });
    result = { ciphertext: envelope.ciphertext, payload: decodePayload(bytes) };
  } catch {
    result = { ciphertext: envelope.ciphertext, problem: 'unreadable' };
  }
  if (opened.size >= MAX_OPENED) opened.delete(opened.keys().next().value);
  opened.set(message.id, result);
  return result;
}

/** `conversationId|identityKey` → the one directory refresh a miss of that key gets. */
const refreshes = new Map();

/**
 * The verdict on an opened message's sender key: against the cached
 * directory first, then (a device may have just registered) against a
 * fresh one, once per unknown key. Offline, only what was recorded counts.
 */
async function senderStanding(message) {
  const me = currentUser()?.id;
  const author = message.author.id;
  const sender = message.senderDeviceKey;
  const judge = (keys) => senderTrust(sender, message.createdAt, {
    current: keys?.members.find((member) => member.user.id === author)?.deviceKeys.map((key) => key.identityKey) ?? [],
    recorded: me ? recordedKeys(me, author) : [],
  });
  const directory = (fresh) => conversationKeys(message.conversationId, { fresh }).catch(() => null);
  const first = judge(await directory(false));
  if (first === 'known') return first;
  const key = `${message.conversationId}|${sender.identityKey}`;
  let refresh = refreshes.get(key);
  if (!refresh) {
    if (refreshes.size >= 500) refreshes.clear();
    refresh = directory(true);
    refreshes.set(key, refresh);
    refresh.then((keys) => {
      if (!keys && refreshes.get(key) === refresh) refreshes.delete(key); // failed: try again next time
    });
  }
  return judge(await refresh);
}

/** The attachments to show: the server's records with the payload's name, type, size and key. */
function mergeAttachments(serverAttachments, secrets) {
  const byId = new Map(secrets.map((secret) => [secret.id, secret]));
  return serverAttachments.map((attachment) => {
    const secret = byId.get(attachment.id);
    if (!secret) return { ...attachment, fileName: 'Encrypted file', locked: true };
    return {
      ...attachment,
      fileName: secret.name,
      contentType: secret.type,
      size: secret.size,
      width: secret.width,
      height: secret.height,
      thumbnailUrl: null,
      secret: { key: secret.key, iv: secret.iv, type: secret.type },
    };
  });
}

/**
 * A message as the timeline shows it: plain ones unchanged; encrypted ones
 * with `body` and `attachments` from the payload, or with `sealed` set to
 * "Encrypted for another device" / "This message could not be decrypted".
 * Opened ones also get `senderTrust` ('known' | 'inactive' | 'unknown')
 * and, unless known, `senderWarning` (the line to show).
 * The reply quote gets the text too when that message was opened here.
 */
export async function openMessage(message) {
  let shown = message;
  if (message.encrypted && !message.deleted) {
    let result;
    try {
      result = await openPayload(message, await ensureDevice(currentUser()?.id));
    } catch {
      result = { problem: 'other-device' }; // no device here (no IndexedDB, offline at start)
    }
    if (result.payload) {
      const standing = await senderStanding(message).catch(() => 'unknown');
      result.standing = standing;
      shown = {
        ...message,
        body: result.payload.text,
        attachments: mergeAttachments(message.attachments ?? [], result.payload.attachments),
        senderTrust: standing,
        senderWarning: SENDER_WARNINGS[standing] ?? null,
      };
    } else {
      shown = {
        ...message,
        body: '',
        attachments: (message.attachments ?? []).map((a) => ({ ...a, fileName: 'Encrypted file', locked: true })),
        sealed: result.problem === 'other-device' ? 'Encrypted for another device' : 'This message could not be decrypted',
      };
    }
  }
  if (shown.replyTo?.encrypted && !shown.replyTo.deleted) {
    shown = { ...shown, replyTo: { ...shown.replyTo, body: openedText(shown.replyTo.id) ?? 'Encrypted message' } };
  }
  return shown;
}
