// Attachments of encrypted conversations: each file gets its own random
// AES-GCM-256 key and IV, the ciphertext is what gets uploaded (as
// "encrypted.bin", application/octet-stream, so the server learns neither
// name, type nor content and makes no thumbnail), and key, IV and the real
// name/type/size travel inside the sealed message. A fresh key per file
// means one IV per key, and the key never leaves the sealed payload.

import { fromBase64, randomBytes, toBase64 } from './bytes.js';

export const ENCRYPTED_FILE_NAME = 'encrypted.bin';

/** `{ bytes, key, iv }`: the ciphertext and the base64 raw key and IV to seal. */
export async function encryptBytes(plain) {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
  const iv = randomBytes(12);
  const bytes = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain));
  return { bytes, key: toBase64(await crypto.subtle.exportKey('raw', key)), iv: toBase64(iv) };
}

/** The plaintext bytes; throws if the ciphertext, key or IV were altered. */
export async function decryptBytes(bytes, { key, iv }) {
  const aes = await crypto.subtle.importKey('raw', fromBase64(key), 'AES-GCM', false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(iv) }, aes, bytes));
}

/**
 * A File to encrypt-and-upload: `{ upload: File, secret }` where `secret`
 * is the payload's attachment entry without its `id` (known after upload).
 * `width`/`height` are read here for images, since the server cannot.
 */
export async function encryptFile(file) {
  const [plain, size] = await Promise.all([file.arrayBuffer(), imageSize(file)]);
  const { bytes, key, iv } = await encryptBytes(plain);
  return {
    upload: new File([bytes], ENCRYPTED_FILE_NAME, { type: 'application/octet-stream' }),
    secret: { key, iv, name: file.name, type: file.type || 'application/octet-stream', size: file.size, ...size },
  };
}

async function imageSize(file) {
  if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return { width: null, height: null };
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return { width: null, height: null };
  }
}

/**
 * Raster image types shown inline. The type comes from the sender, and a
 * blob: URL has our origin: anything else (HTML, SVG, …) becomes an opaque
 * download, never a document or image of our origin.
 */
export const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

export const displayType = (type) => (INLINE_IMAGE_TYPES.has(type) ? type : 'application/octet-stream');

/** Downloads and decrypts one attachment (`url` from the API, `secret` from the payload) into a Blob. */
export async function fetchDecrypted(url, secret) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`download failed (${response.status})`);
  const plain = await decryptBytes(new Uint8Array(await response.arrayBuffer()), secret);
  return new Blob([plain], { type: displayType(secret.type) });
}

/** attachment id → Promise of a blob: URL of its decrypted bytes. */
const urls = new Map();

/**
 * A blob: URL of the decrypted attachment (`{ id, url, secret }`), fetched
 * and decrypted once however often the message re-renders.
 */
export function decryptedUrl(attachment) {
  let url = urls.get(attachment.id);
  if (!url) {
    url = fetchDecrypted(attachment.url, attachment.secret).then((blob) => URL.createObjectURL(blob));
    url.catch(() => urls.delete(attachment.id));
    urls.set(attachment.id, url);
  }
  return url;
}

/** Frees every decrypted copy (when the chat closes). */
export function releaseDecrypted() {
  for (const url of urls.values()) url.then((href) => URL.revokeObjectURL(href), () => {});
  urls.clear();
}
