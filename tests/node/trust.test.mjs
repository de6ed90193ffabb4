// Which sender devices the web app shows as normal (frontend/js/crypto/
// trust.js and known-keys.js), in Node without a browser: a message whose
// sender key verifies but is in neither the author's directory nor what
// this browser recorded is flagged, strongly unless the server says the
// key was revoked after it sent; keys seen once stay trusted after they
// are revoked; the record is per viewer and per user, the viewer's own
// account included. localStorage is a small in-memory stand-in.

import './frontend-esm.mjs';
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

class MemoryStorage {
  #items = new Map();
  getItem(key) { return this.#items.has(key) ? this.#items.get(key) : null; }
  setItem(key, value) { this.#items.set(key, String(value)); }
  removeItem(key) { this.#items.delete(key); }
  clear() { this.#items.clear(); }
}
globalThis.localStorage = new MemoryStorage();

const { SENDER_WARNINGS, senderTrust } = await import('../../frontend/js/crypto/trust.js');
const { noteKeys, recordedKeys, rememberKeys } = await import('../../frontend/js/crypto/known-keys.js');
const { generateDeviceKeys, publicDeviceKey, verifyDeviceKey } = await import('../../frontend/js/crypto/keys.js');
const { seal, open } = await import('../../frontend/js/crypto/seal.js');
const { encodePayload, decodePayload } = await import('../../frontend/js/crypto/payload.js');

beforeEach(() => localStorage.clear());

const SENT = '2030-01-01T12:00:00.000Z';
const LATER = '2030-01-01T12:00:05.000Z';
const EARLIER = '2030-01-01T11:59:55.000Z';

test('a sender key in the current directory or recorded here is known', () => {
  assert.equal(senderTrust({ identityKey: 'A' }, SENT, { current: ['A', 'B'], recorded: [] }), 'known');
  assert.equal(senderTrust({ identityKey: 'A' }, SENT, { current: [], recorded: new Set(['A']) }), 'known');
  // Revoked since, but seen here while it was active: still normal.
  assert.equal(senderTrust({ identityKey: 'A', revokedAt: LATER }, SENT, { current: ['B'], recorded: ['A', 'B'] }), 'known');
});

test('an unlisted, unrecorded key that the server calls active is unknown (strong warning)', () => {
  assert.equal(senderTrust({ identityKey: 'X' }, SENT, { current: ['A'], recorded: ['A'] }), 'unknown');
  assert.equal(senderTrust({ identityKey: 'X', revokedAt: null }, SENT, {}), 'unknown');
  // Revoked before the message was sent: the server would have refused that send.
  assert.equal(senderTrust({ identityKey: 'X', revokedAt: EARLIER }, SENT, { current: ['A'] }), 'unknown');
  // No identity key at all is never known.
  assert.equal(senderTrust({ identityKey: '' }, SENT, { current: [''], recorded: [''] }), 'unknown');
});

test('an unrecorded key revoked after it sent is inactive (mild warning), also for a first-time viewer', () => {
  assert.equal(senderTrust({ identityKey: 'X', revokedAt: LATER }, SENT, { current: ['A'], recorded: ['A'] }), 'inactive');
  assert.equal(senderTrust({ identityKey: 'X', revokedAt: SENT }, SENT, { current: ['A'], recorded: [] }), 'inactive');
  assert.equal(senderTrust({ identityKey: 'X', revokedAt: 'not a date' }, SENT, {}), 'unknown');
});

test('the warnings: one per flagged verdict, none for known', () => {
  assert.match(SENDER_WARNINGS.unknown, /not part of the safety number/);
  assert.match(SENDER_WARNINGS.unknown, /compare safety numbers/);
  assert.match(SENDER_WARNINGS.inactive, /no longer active/);
  assert.match(SENDER_WARNINGS.inactive, /never verified/);
  assert.equal(SENDER_WARNINGS.known, undefined);
  assert.ok(Object.isFrozen(SENDER_WARNINGS));
});

test('known-keys keeps the union of every key seen, per viewer and user', () => {
  assert.deepEqual([...recordedKeys('alice', 'bob')], []);
  rememberKeys('alice', 'bob', ['B1']);
  rememberKeys('alice', 'bob', ['B1', 'B2']);
  rememberKeys('alice', 'bob', ['B2']); // B1 revoked: still recorded
  assert.deepEqual([...recordedKeys('alice', 'bob')].sort(), ['B1', 'B2']);
  // The viewer's own other devices are recorded the same way.
  rememberKeys('alice', 'alice', ['A1', 'A1']);
  assert.deepEqual([...recordedKeys('alice', 'alice')], ['A1']);
  // Another viewer in the same browser has a record of its own.
  assert.deepEqual([...recordedKeys('carol', 'bob')], []);
  rememberKeys('alice', 'bob', []);
  assert.deepEqual([...recordedKeys('alice', 'bob')].sort(), ['B1', 'B2']);
});

test('keys noted before the union existed count as recorded; a broken record is ignored', () => {
  noteKeys('alice', 'bob', ['OLD']);
  assert.deepEqual([...recordedKeys('alice', 'bob')], ['OLD']);
  localStorage.setItem('realtalk.seenKeys.alice.bob', '{not json');
  assert.deepEqual([...recordedKeys('alice', 'bob')], ['OLD']);
  rememberKeys('alice', 'bob', ['NEW']);
  assert.deepEqual([...recordedKeys('alice', 'bob')].sort(), ['NEW', 'OLD']);
});

test('the union is capped, keeping the most recently seen', () => {
  for (let i = 0; i < 250; i += 1) rememberKeys('alice', 'bob', [`K${i}`]);
  rememberKeys('alice', 'bob', ['K0']); // seen again: moves to the newest end
  const recorded = recordedKeys('alice', 'bob');
  assert.equal(recorded.size, 200);
  assert.ok(recorded.has('K0'));
  assert.ok(recorded.has('K249'));
  assert.ok(!recorded.has('K50'));
});

test('a device minted "for Bob" opens and verifies, and only the rule flags it', async () => {
  const device = async (userId, id) => {
    const keys = await generateDeviceKeys();
    return { keys, record: { id, userId, ...(await publicDeviceKey(userId, keys)) } };
  };
  const alice = await device('alice', 'k1');
  const bob = await device('bob', 'k2');
  const forged = await device('bob', 'k9'); // a fresh identity key the directory never listed
  const [envelope] = await seal(encodePayload({ text: 'hi, it is Bob' }), {
    conversationId: 'c1',
    sender: { deviceKeyId: 'k9', privateKey: forged.keys.encryption.privateKey },
    targets: [alice.record],
  });
  // Everything the app checked before holds: a valid self-signature for Bob, and it opens.
  assert.equal(await verifyDeviceKey(forged.record), true);
  const opened = decodePayload(await open(envelope.ciphertext, {
    conversationId: 'c1',
    senderDeviceKey: forged.record,
    recipient: { deviceKeyId: 'k1', privateKey: alice.keys.encryption.privateKey },
  }));
  assert.equal(opened.text, 'hi, it is Bob');
  // What Alice's browser knows of Bob: his real device.
  rememberKeys('alice', 'bob', [bob.record.identityKey]);
  const context = { current: [bob.record.identityKey], recorded: recordedKeys('alice', 'bob') };
  assert.equal(senderTrust(forged.record, SENT, context), 'unknown');
  assert.equal(senderTrust({ ...forged.record, revokedAt: LATER }, SENT, context), 'inactive');
  assert.equal(senderTrust(bob.record, SENT, context), 'known');
});
