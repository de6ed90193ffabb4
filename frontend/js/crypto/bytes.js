// Byte helpers shared by the crypto modules: standard base64 (what the API
// carries), UTF-8 and concatenation. Written against globals that both
// browsers and Node 20 have (btoa/atob, TextEncoder), so the crypto can be
// unit-tested in Node without a bundler.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes (Uint8Array or ArrayBuffer) as standard base64 with padding. */
export function toBase64(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  // Chunked: String.fromCharCode(...all) overflows the stack on big inputs.
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Standard base64 to bytes; throws on anything that is not base64. */
export function fromBase64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error('not standard base64');
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export const utf8 = (text) => encoder.encode(text);

/** UTF-8 to text; throws on invalid UTF-8 rather than inventing U+FFFD. */
export const fromUtf8 = (bytes) => decoder.decode(bytes);

export function concat(...parts) {
  const views = parts.map((part) => (part instanceof Uint8Array ? part : new Uint8Array(part)));
  const out = new Uint8Array(views.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of views) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const randomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));
