// A device's key material, as pure WebCrypto (no storage, no network), so
// it runs the same in the browser and in Node's tests.
//
// Two P-256 key pairs per device: an ECDSA "identity" key that the safety
// number is made of, and an ECDH "encryption" key that messages are sealed
// to. The identity key signs the encryption key (bound to the user id), so
// a server that swaps someone's encryption key is caught by the signature,
// and one that swaps the identity key too changes the safety number.
// Private keys are generated non-extractable: script on the page (ours or
// injected) can use them but never read them out.

import { fromBase64, toBase64, utf8 } from './bytes.js';

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDH = { name: 'ECDH', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

/** What the identity key signs: see DeviceKey.signature in the API. */
export const deviceKeyStatement = (userId, encryptionKey) =>
  utf8(`realtalk-device-key-v1\n${userId}\n${encryptionKey}`);

/**
 * A fresh device: `{ identity, encryption }`, two CryptoKeyPairs whose
 * private halves are non-extractable (the public halves always are).
 */
export async function generateDeviceKeys() {
  const [identity, encryption] = await Promise.all([
    crypto.subtle.generateKey(ECDSA, false, ['sign', 'verify']),
    crypto.subtle.generateKey(ECDH, false, ['deriveBits']),
  ]);
  return { identity, encryption };
}

export const exportPublicKey = async (key) => toBase64(await crypto.subtle.exportKey('spki', key));

/**
 * The public record to register for `userId`: identityKey, encryptionKey
 * (SPKI, base64) and the identity key's signature over the encryption key.
 */
export async function publicDeviceKey(userId, keys) {
  const [identityKey, encryptionKey] = await Promise.all([
    exportPublicKey(keys.identity.publicKey),
    exportPublicKey(keys.encryption.publicKey),
  ]);
  const signature = await crypto.subtle.sign(SIGN, keys.identity.privateKey, deviceKeyStatement(userId, encryptionKey));
  return { identityKey, encryptionKey, signature: toBase64(signature) };
}

// Imported public keys by their base64, since the same few are used for
// every message of a conversation.
const imported = new Map();

function importPublic(base64, algorithm, usages) {
  const cacheKey = `${algorithm.name}:${base64}`;
  let key = imported.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey('spki', fromBase64(base64), algorithm, true, usages);
    // A key that fails to import must not stay cached as a rejection.
    key.catch(() => imported.delete(cacheKey));
    if (imported.size > 500) imported.clear();
    imported.set(cacheKey, key);
  }
  return key;
}

/** The ECDH public key of a device (as the API gives it). */
export const importEncryptionKey = (base64) => importPublic(base64, ECDH, []);

/**
 * Whether `deviceKey` ({ userId, identityKey, encryptionKey, signature })
 * is signed by its own identity key for that user. False (never a throw)
 * for malformed keys or signatures.
 */
export async function verifyDeviceKey(deviceKey) {
  try {
    const identity = await importPublic(deviceKey.identityKey, ECDSA, ['verify']);
    return await crypto.subtle.verify(SIGN, identity, fromBase64(deviceKey.signature),
      deviceKeyStatement(deviceKey.userId, deviceKey.encryptionKey));
  } catch {
    return false;
  }
}
