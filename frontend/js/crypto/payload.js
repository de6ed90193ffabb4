// What is sealed: UTF-8 JSON {"v":1,"text":"…","attachments":[…]} where
// each attachment carries the AES key and IV its bytes were encrypted with
// and the real name, type and size (the server only sees "encrypted.bin").
// Decoding checks the shape, since it comes from another person's device:
// the rest of the app may then trust the types.

import { fromUtf8, utf8 } from './bytes.js';

export const MAX_TEXT_CHARS = 4000;

export function encodePayload({ text = '', attachments = [] }) {
  return utf8(JSON.stringify({
    v: 1,
    text,
    attachments: attachments.map(({ id, key, iv, name, type, size, width = null, height = null }) =>
      ({ id, key, iv, name, type, size, width, height })),
  }));
}

const isString = (value) => typeof value === 'string';
const isCount = (value) => Number.isSafeInteger(value) && value >= 0;
const isDimension = (value) => value === null || value === undefined || isCount(value);

/** The payload object, or a throw when it is not one this version understands. */
export function decodePayload(bytes) {
  const payload = JSON.parse(fromUtf8(bytes));
  if (payload?.v !== 1 || !isString(payload.text) || !Array.isArray(payload.attachments ?? [])) {
    throw new Error('unknown payload');
  }
  const attachments = (payload.attachments ?? []).map((item) => {
    if (![item?.id, item?.key, item?.iv, item?.name, item?.type].every(isString) || !isCount(item.size)
      || !isDimension(item.width) || !isDimension(item.height)) {
      throw new Error('malformed attachment');
    }
    return { id: item.id, key: item.key, iv: item.iv, name: item.name, type: item.type, size: item.size,
      width: item.width ?? null, height: item.height ?? null };
  });
  return { text: payload.text, attachments };
}
