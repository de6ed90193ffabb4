// Sealing a message for one device and opening it again.
//
// For sender device S and target device D of conversation C:
//   shared = ECDH(S's encryption private key, D's encryption public key), 256 bits
//   info   = "realtalk-e2e-v1|" + C + "|" + S.id + "|" + D.id
//   key    = HKDF-SHA-256(shared, salt = 16 random bytes, info) → AES-GCM-256
//   ct     = AES-GCM(key, iv = 12 random bytes, payload, additionalData = info)
//   ciphertext = base64(salt ‖ iv ‖ ct)
// ECDH is symmetric, so D opens with its own private key and S's public one.
// `info` (also the AEAD's associated data) binds the envelope to its
// conversation and to both devices: the server cannot replay it in another
// chat or hand it to another device, and a fresh salt gives every envelope
// its own AES key, so the random 96-bit IVs never meet under one key.

import { concat, fromBase64, randomBytes, toBase64, utf8 } from './bytes.js';
import { importEncryptionKey } from './keys.js';

const SALT_BYTES = 16;
const IV_BYTES = 12;
/** The API's limit on one envelope's ciphertext (base64 characters). */
export const MAX_CIPHERTEXT_CHARS = 65_536;

export const envelopeInfo = (conversationId, senderDeviceKeyId, targetDeviceKeyId) =>
  utf8(`realtalk-e2e-v1|${conversationId}|${senderDeviceKeyId}|${targetDeviceKeyId}`);

async function messageKey(privateKey, peerPublicBase64, salt, info, usage) {
  const peer = await importEncryptionKey(peerPublicBase64);
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const material = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

/**
 * Seals `plaintext` (bytes) once per target. `sender` is
 * `{ deviceKeyId, privateKey }` (its ECDH private key), `targets` the
 * devices' `{ id, encryptionKey }`. Returns `[{ deviceKeyId, ciphertext }]`
 * in the order of `targets`.
 */
export async function seal(plaintext, { conversationId, sender, targets }) {
  return Promise.all(targets.map(async (target) => {
    const info = envelopeInfo(conversationId, sender.deviceKeyId, target.id);
    const salt = randomBytes(SALT_BYTES);
    const iv = randomBytes(IV_BYTES);
    const key = await messageKey(sender.privateKey, target.encryptionKey, salt, info, 'encrypt');
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: info }, key, plaintext);
    return { deviceKeyId: target.id, ciphertext: toBase64(concat(salt, iv, ct)) };
  }));
}

/**
 * Opens one envelope addressed to `recipient` (`{ deviceKeyId, privateKey }`)
 * from `senderDeviceKey` (`{ id, encryptionKey }`); returns the plaintext
 * bytes. Throws if anything was changed: ciphertext, conversation, either
 * device id or key.
 */
export async function open(ciphertext, { conversationId, senderDeviceKey, recipient }) {
  const bytes = fromBase64(ciphertext);
  if (bytes.length < SALT_BYTES + IV_BYTES + 16) throw new Error('envelope too short');
  const salt = bytes.subarray(0, SALT_BYTES);
  const iv = bytes.subarray(SALT_BYTES, SALT_BYTES + IV_BYTES);
  const info = envelopeInfo(conversationId, senderDeviceKey.id, recipient.deviceKeyId);
  const key = await messageKey(recipient.privateKey, senderDeviceKey.encryptionKey, salt, info, 'decrypt');
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: info }, key, bytes.subarray(SALT_BYTES + IV_BYTES));
  return new Uint8Array(plain);
}
