// The safety number two people compare (read aloud, or side by side) to
// know that the keys their apps use are really each other's: if the server
// handed either of them a key of its own, the numbers differ.
//
// It is made of every active device's identity key of both users, so it is
// the same on both sides (the list is sorted, not "mine first") and changes
// whenever either of them adds or loses a device:
//   input  = UTF-8 of the sorted, de-duplicated lines userId + ":" + identityKey, joined by "\n"
//   block1 = SHA-256(input), block(n+1) = SHA-256(block(n) ‖ input)
//   digits = for each of 12 five-byte slices of block1 ‖ block2: (40-bit big-endian value) mod 100000,
//            zero-padded to 5 digits
// 12 groups of 5 digits are about 200 bits: more than any key search reaches.

import { concat, utf8 } from './bytes.js';

const GROUPS = 12;
const GROUP_BYTES = 5;

/** The lines the number is made of, for `deviceKeys` of both users ({ userId, identityKey }). */
export const safetyLines = (deviceKeys) =>
  [...new Set(deviceKeys.map((key) => `${key.userId}:${key.identityKey}`))].sort();

/** `{ groups: ['01234', …12], text: '01234 56789 …' }` for both users' device keys. */
export async function safetyNumber(deviceKeys) {
  const input = utf8(safetyLines(deviceKeys).join('\n'));
  const blocks = [];
  let previous = new Uint8Array(0);
  while (blocks.length * 32 < GROUPS * GROUP_BYTES) {
    previous = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(previous, input)));
    blocks.push(previous);
  }
  const bytes = concat(...blocks);
  const groups = [];
  for (let group = 0; group < GROUPS; group += 1) {
    let value = 0;
    for (const byte of bytes.subarray(group * GROUP_BYTES, (group + 1) * GROUP_BYTES)) value = value * 256 + byte;
    groups.push(String(value % 100_000).padStart(5, '0'));
  }
  return { groups, text: groups.join(' ') };
}
