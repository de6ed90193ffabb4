// The web app's end-to-end encryption (frontend/js/crypto/) in Node 20's
// WebCrypto, without a server or a browser: sealing and opening between
// devices, what must be refused (tampering, the wrong device, a swapped
// key), the safety number, and attachment encryption. The IndexedDB layer
// is the browser test's business.

import './frontend-esm.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const { fromBase64, toBase64, utf8, fromUtf8 } = await import('../../frontend/js/crypto/bytes.js');
const { generateDeviceKeys, publicDeviceKey, verifyDeviceKey } = await import('../../frontend/js/crypto/keys.js');
const { seal, open } = await import('../../frontend/js/crypto/seal.js');
const { encodePayload, decodePayload } = await import('../../frontend/js/crypto/payload.js');
const { safetyNumber } = await import('../../frontend/js/crypto/safety.js');
const { encryptBytes, decryptBytes, displayType } = await import('../../frontend/js/crypto/files.js');

const CONVERSATION = 'conv-1';

/** A device as the app holds it (private keys) and as the API shows it (public record with an id). */
async function device(userId, id) {
  const keys = await generateDeviceKeys();
  const record = { id, userId, ...(await publicDeviceKey(userId, keys)) };
  return { keys, record, self: { deviceKeyId: id, privateKey: keys.encryption.privateKey } };
}

const alicePhone = await device('alice', 'k1');
const bobLaptop = await device('bob', 'k2');
const bobPhone = await device('bob', 'k3');
const everyone = [alicePhone, bobLaptop, bobPhone];

async function sealFromAlice(text, conversationId = CONVERSATION) {
  const envelopes = await seal(encodePayload({ text }), {
    conversationId,
    sender: alicePhone.self,
    targets: everyone.map((d) => d.record),
  });
  return Object.fromEntries(envelopes.map((e) => [e.deviceKeyId, e.ciphertext]));
}

const openAs = async (recipient, ciphertext, { conversationId = CONVERSATION, sender = alicePhone.record } = {}) =>
  decodePayload(await open(ciphertext, { conversationId, senderDeviceKey: sender, recipient: recipient.self }));

test('private keys are not extractable, public keys are SPKI base64', async () => {
  assert.equal(alicePhone.keys.identity.privateKey.extractable, false);
  assert.equal(alicePhone.keys.encryption.privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('pkcs8', alicePhone.keys.encryption.privateKey));
  // P-256 SPKI is 91 bytes; the P1363 signature 64.
  assert.equal(fromBase64(alicePhone.record.encryptionKey).length, 91);
  assert.equal(fromBase64(alicePhone.record.identityKey).length, 91);
  assert.equal(fromBase64(alicePhone.record.signature).length, 64);
});

test('a message sealed by one device opens on every target, the sender own device too', async () => {
  const envelopes = await sealFromAlice('Hello Bob, this is secret ✓');
  assert.deepEqual(Object.keys(envelopes).sort(), ['k1', 'k2', 'k3']);
  for (const recipient of everyone) {
    const payload = await openAs(recipient, envelopes[recipient.record.id]);
    assert.deepEqual(payload, { text: 'Hello Bob, this is secret ✓', attachments: [] });
  }
  // Fresh salt and IV: the same text never gives the same ciphertext.
  const again = await sealFromAlice('Hello Bob, this is secret ✓');
  assert.notEqual(again.k2, envelopes.k2);
  assert.ok(!Buffer.from(fromBase64(envelopes.k2)).includes(Buffer.from('secret')));
});

test('a tampered ciphertext is refused', async () => {
  const { k2 } = await sealFromAlice('do not change me');
  const bytes = fromBase64(k2);
  for (const index of [0, 20, bytes.length - 1]) { // salt, IV, tag
    const flipped = bytes.slice();
    flipped[index] ^= 1;
    await assert.rejects(openAs(bobLaptop, toBase64(flipped)), `byte ${index}`);
  }
  await assert.rejects(openAs(bobLaptop, toBase64(bytes.subarray(0, 30))));
  await assert.rejects(openAs(bobLaptop, 'not base64!'));
});

test('an envelope opens only on its own device, in its own conversation, from its real sender', async () => {
  const envelopes = await sealFromAlice('for Bob’s laptop');
  await assert.rejects(openAs(bobPhone, envelopes.k2), 'another of Bob’s devices');
  await assert.rejects(openAs(alicePhone, envelopes.k2), 'the sender’s device');
  await assert.rejects(openAs(bobLaptop, envelopes.k2, { conversationId: 'conv-2' }), 'another conversation');
  await assert.rejects(openAs(bobLaptop, envelopes.k2, { sender: bobPhone.record }), 'another claimed sender');
  await assert.rejects(openAs(bobLaptop, envelopes.k2, { sender: { ...alicePhone.record, id: 'k9' } }), 'another sender id');
  const stranger = await device('mallory', 'k2'); // same id, other keys
  await assert.rejects(openAs(stranger, envelopes.k2), 'a device that only shares the id');
});

test('device key signatures verify, and fail on a swapped key or user', async () => {
  for (const d of everyone) assert.equal(await verifyDeviceKey(d.record), true);
  const mallory = await device('bob', 'k4');
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, encryptionKey: mallory.record.encryptionKey }), false,
    'an encryption key swapped under Bob’s identity');
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, identityKey: mallory.record.identityKey }), false,
    'an identity key swapped under Bob’s signature');
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, userId: 'alice' }), false, 'Bob’s key claimed for Alice');
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, signature: alicePhone.record.signature }), false);
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, signature: 'AAAA' }), false, 'malformed, no throw');
  assert.equal(await verifyDeviceKey({ ...bobLaptop.record, identityKey: 'bm9wZQ==' }), false, 'not a key, no throw');
});

test('the safety number is the same for both sides and changes with any key', async () => {
  const aliceView = await safetyNumber([alicePhone.record, bobLaptop.record, bobPhone.record]);
  const bobView = await safetyNumber([bobPhone.record, bobLaptop.record, alicePhone.record]);
  assert.deepEqual(aliceView, bobView);
  assert.equal(aliceView.groups.length, 12);
  for (const group of aliceView.groups) assert.match(group, /^\d{5}$/);
  assert.equal(aliceView.text, aliceView.groups.join(' '));
  // Duplicates (the same key listed twice) do not change it.
  assert.deepEqual(await safetyNumber([alicePhone.record, alicePhone.record, bobLaptop.record, bobPhone.record]), aliceView);
  // A new device, or a key swapped by the server, does.
  const extra = await device('bob', 'k5');
  assert.notDeepEqual(await safetyNumber([alicePhone.record, bobLaptop.record, bobPhone.record, extra.record]), aliceView);
  assert.notDeepEqual(await safetyNumber([alicePhone.record, bobLaptop.record, { ...bobPhone.record, identityKey: extra.record.identityKey }]), aliceView);
  // It is about who holds which key: the same key under the other user differs.
  assert.notDeepEqual(await safetyNumber([alicePhone.record, { ...bobLaptop.record, userId: 'alice' }, bobPhone.record]), aliceView);
});

test('payloads round-trip with attachments and unknown shapes are refused', async () => {
  const attachment = { id: 'a1', key: 'a2V5', iv: 'aXY=', name: 'photo.png', type: 'image/png', size: 3, width: 2, height: 1 };
  assert.deepEqual(decodePayload(encodePayload({ text: 'hi', attachments: [attachment] })), { text: 'hi', attachments: [attachment] });
  assert.throws(() => decodePayload(utf8('{"v":2,"text":"x"}')));
  assert.throws(() => decodePayload(utf8('{"v":1,"text":5}')));
  assert.throws(() => decodePayload(utf8('{"v":1,"text":"x","attachments":[{"id":"a1"}]}')));
  assert.throws(() => decodePayload(new Uint8Array([0xff, 0xfe])));
  assert.equal(fromUtf8(utf8('ünïcode')), 'ünïcode');
});

test('attachment bytes encrypt with their own key and refuse tampering', async () => {
  const plain = utf8('PNG-MARKER-0123456789'.repeat(100));
  const first = await encryptBytes(plain);
  const second = await encryptBytes(plain);
  assert.notEqual(first.key, second.key);
  assert.ok(!Buffer.from(first.bytes).includes(Buffer.from('PNG-MARKER')));
  assert.deepEqual(await decryptBytes(first.bytes, first), plain);
  const tampered = first.bytes.slice();
  tampered[5] ^= 0x80;
  await assert.rejects(decryptBytes(tampered, first));
  await assert.rejects(decryptBytes(first.bytes, { key: second.key, iv: first.iv }));
  // Only raster images keep their claimed type (a blob: URL has our origin).
  assert.equal(displayType('image/png'), 'image/png');
  assert.equal(displayType('text/html'), 'application/octet-stream');
  assert.equal(displayType('image/svg+xml'), 'application/octet-stream');
});

test('base64 is standard with padding and round-trips large inputs', () => {
  const big = new Uint8Array(200_000).map((_, i) => (i * 7919) % 256);
  assert.deepEqual(fromBase64(toBase64(big)), big);
  assert.equal(toBase64(new Uint8Array([0xfb, 0xff])), '+/8=');
  assert.throws(() => fromBase64('-_8'));
});
