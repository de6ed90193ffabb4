// End-to-end encryption (issue #12) in real browsers against the real
// server: Alice and Bob become friends, Alice turns encryption on, both see
// the lock and the same safety number, they write both ways live, Alice
// sends an image that Bob sees decrypted, and a second device of Bob's is
// announced in Alice's chat and can read what is sent after it joined.
// Then the proof: none of the plaintext (texts, the image's marker bytes,
// its file name) is anywhere in the server's data directory (database,
// WAL, media) or in what it logged, even at debug level, and the API
// serves those messages as `encrypted: true` with an empty body.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  befriend, bubble, drawPng, filesUnder, messageWith, PASSWORD, person, screenshot, send, serverAndBrowser, signIn as signInAt,
  switchableSocket,
} from './harness.mjs';

// Debug logging: if the server ever logged a request's content, the
// plaintext check below would see it.
const stack = serverAndBrowser({ RUST_LOG: 'debug' }, { echo: false });

const tag = randomUUID().slice(0, 8);
const PLAIN = `Plain hello before encryption ${tag}`;
const SECRETS = {
  aliceFirst: `Meet me at the old mill at nine ${tag}`,
  bobReply: `Bring the blue notebook please ${tag}`,
  afterPhone: `Only devices from now on can read this ${tag}`,
  bobRetry: `Sent from the laptop after the phone joined ${tag}`,
  offline: `Typed on a train without signal ${tag}`,
};
const IMAGE_NAME = `mill-map-${tag}.png`;
const IMAGE_MARKER = `IMAGE-MARKER-${tag}-do-not-leak`;
const NOTE_NAME = `packing-list-${tag}.txt`;
const NOTE_TEXT = `Rope, lantern, the second key ${tag}`;

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The PNG with a tEXt chunk holding `text` before IEND: the marker is then literally in the file's bytes. */
function withTextChunk(png, text) {
  const data = Buffer.from(`Comment\0${text}`, 'latin1');
  const type = Buffer.from('tEXt', 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, data])));
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), length, type, data, crc, png.subarray(iend)]);
}

/** Another browser (own IndexedDB: a new device) signing in to an existing account. */
/** Another browser signing in to an existing account: a new device. */
const signIn = (username) => signInAt(stack.browser, stack.server.base, username, { label: '2nd device' });

async function safetyNumberOf(page, shot = null) {
  await page.getByTestId('chat-lock').click();
  const number = page.getByTestId('safety-dialog').getByTestId('safety-number');
  await number.waitFor();
  const text = await number.getAttribute('data-number');
  if (shot) await screenshot(page, shot);
  await page.keyboard.press('Escape');
  await page.getByTestId('safety-dialog').waitFor({ state: 'detached' });
  return text;
}

/** Where any of `needles` occurs in `haystacks` ([{ path, bytes }]). */
function leaks(haystacks, needles) {
  const found = [];
  for (const { path, bytes } of haystacks) {
    for (const needle of needles) if (bytes.includes(Buffer.from(needle, 'utf8'))) found.push(`${needle} in ${path}`);
  }
  return found;
}

test('encrypted direct chat: lock, safety number, live messages and an image both ways, nothing readable on the server', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice');
  let bobsLink;
  const bob = await person(stack.browser, stack.server.base, 'bob', {
    beforeLoad: async (context) => {
      bobsLink = await switchableSocket(context);
    },
  });
  await befriend(alice, bob);

  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('chat-title').filter({ hasText: 'Bob' }).waitFor();
  const conversationId = new URL(alice.page.url()).hash.replace('#/c/', '');
  await send(alice.page, PLAIN);
  await messageWith(alice.page, PLAIN).waitFor();
  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await messageWith(bob.page, PLAIN).waitFor();

  // Alice turns encryption on; Bob's open chat follows live.
  await alice.page.getByTestId('encrypt-conversation').click();
  await alice.page.getByTestId('encrypt-confirm').click();
  await alice.page.getByTestId('chat-lock').waitFor();
  await bob.page.getByTestId('chat-lock').waitFor();
  for (const someone of [alice, bob]) {
    await someone.page.getByTestId('encryption-notice').waitFor();
    await someone.page.getByTestId('conversation-item').filter({ hasText: someone === alice ? 'Bob' : 'Alice' })
      .getByTestId('conversation-lock').waitFor();
    assert.equal(await someone.page.getByTestId('encrypt-conversation').count(), 0, 'the switch is gone once on');
  }

  // The same safety number on both sides: 12 groups of 5 digits.
  const aliceNumber = await safetyNumberOf(alice.page, 'e2e-00-alice-safety-number');
  const bobNumber = await safetyNumberOf(bob.page);
  assert.match(aliceNumber, /^\d{5}( \d{5}){11}$/);
  assert.equal(aliceNumber, bobNumber);

  // Messages both ways, live.
  await send(alice.page, SECRETS.aliceFirst);
  await messageWith(bob.page, SECRETS.aliceFirst).waitFor();
  // A reply: the quote is decrypted too (the server only knows which message).
  await bubble(bob.page, SECRETS.aliceFirst).getByTestId('reply').click();
  await send(bob.page, SECRETS.bobReply);
  await messageWith(alice.page, SECRETS.bobReply).waitFor();
  await bubble(alice.page, SECRETS.bobReply).getByTestId('reply-quote').filter({ hasText: SECRETS.aliceFirst }).waitFor();
  // The server refuses edits of encrypted messages, so the app offers none.
  const aliceBubble = bubble(alice.page, SECRETS.aliceFirst);
  assert.equal(await aliceBubble.getAttribute('data-encrypted'), 'true');
  assert.equal(await aliceBubble.getByTestId('edit').count(), 0);
  assert.equal(await aliceBubble.getByTestId('delete').count(), 1);

  // An image, encrypted before upload, decrypted for Bob from a blob: URL.
  const png = withTextChunk(await drawPng(alice.page), IMAGE_MARKER);
  assert.ok(png.includes(Buffer.from(IMAGE_MARKER)), 'the marker is in the image bytes');
  await alice.page.getByTestId('file-input').setInputFiles({ name: IMAGE_NAME, mimeType: 'image/png', buffer: png });
  await alice.page.locator('[data-testid="upload-chip"][data-uploaded="true"]').waitFor();
  await alice.page.getByTestId('send').click();
  for (const viewer of [alice, bob]) {
    await viewer.page.getByTestId('timeline').locator('[data-testid="image-preview"][data-encrypted="true"]').waitFor();
    await viewer.page.waitForFunction(() => [...document.querySelectorAll('[data-testid="image-preview"][data-encrypted="true"]')]
      .some((img) => img.complete && img.naturalWidth === 480 && img.src.startsWith('blob:')));
  }
  assert.equal(await bob.page.getByTestId('image-preview').getAttribute('alt'), IMAGE_NAME,
    'the real file name came inside the sealed message');
  await bob.page.getByTestId('image-preview').click();
  await bob.page.getByTestId('full-image').waitFor();
  assert.equal(await bob.page.getByTestId('full-image').evaluate(async (img) => {
    await img.decode();
    return img.naturalWidth;
  }), 480);
  await screenshot(bob.page, 'e2e-01-bob-encrypted-chat');
  // Saving it gives exactly the bytes Alice chose, under their real name.
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    bob.page.getByTestId('image-viewer').getByRole('link', { name: 'Download' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), IMAGE_NAME);
  assert.ok(readFileSync(await download.path()).equals(png), 'Bob decrypted exactly the bytes Alice sent');
  await bob.page.keyboard.press('Escape');
  // Any other file: decrypted when Bob saves it.
  await bob.page.getByTestId('file-input').setInputFiles({ name: NOTE_NAME, mimeType: 'text/plain', buffer: Buffer.from(NOTE_TEXT) });
  await bob.page.locator('[data-testid="upload-chip"][data-uploaded="true"]').waitFor();
  await bob.page.getByTestId('send').click();
  const note = alice.page.getByTestId('timeline').getByTestId('encrypted-file').filter({ hasText: NOTE_NAME });
  const [saved] = await Promise.all([alice.page.waitForEvent('download'), note.click()]);
  assert.equal(saved.suggestedFilename(), NOTE_NAME);
  assert.equal(readFileSync(await saved.path(), 'utf8'), NOTE_TEXT);

  // Bob signs in on a second device: Alice's chat announces the new key,
  // and the safety number changes. Bob's laptop is offline meanwhile, so it
  // misses the news of its own new sibling.
  await bobsLink.cut();
  const bobPhone = await signIn('bob');
  await alice.page.getByTestId('key-change-notice').filter({ hasText: "Bob's security key changed" }).waitFor();
  await screenshot(alice.page, 'e2e-02-alice-key-change');
  const newNumber = await safetyNumberOf(alice.page);
  assert.notEqual(newNumber, aliceNumber);
  // What is sent now is sealed for the phone too; what was sent before was not.
  await send(alice.page, SECRETS.afterPhone);
  await messageWith(alice.page, SECRETS.afterPhone).waitFor();
  await bobPhone.page.getByTestId('tab-chats').click();
  await bobPhone.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await messageWith(bobPhone.page, SECRETS.afterPhone).waitFor();
  await bobPhone.page.getByTestId('message-sealed').filter({ hasText: 'Encrypted for another device' }).first().waitFor();
  assert.equal(await messageWith(bobPhone.page, SECRETS.aliceFirst).count(), 0);
  assert.equal(await safetyNumberOf(bobPhone.page), newNumber);
  // Bob's laptop still has the old device list: the server refuses its
  // envelopes, the app fetches the keys again and seals once more (HTTP
  // works while its live link is cut).
  const sends = [];
  bob.page.on('response', async (response) => {
    if (response.request().postData()?.includes('mutation Send(')) sends.push(await response.json().catch(() => null));
  });
  await send(bob.page, SECRETS.bobRetry);
  await messageWith(bob.page, SECRETS.bobRetry).waitFor();
  bobsLink.restore();
  for (const viewer of [alice, bobPhone]) await messageWith(viewer.page, SECRETS.bobRetry).waitFor();
  assert.equal(sends.length, 2, 'sealed twice');
  assert.equal(sends[0]?.errors?.[0]?.extensions?.field, 'envelopes');
  assert.ok(sends[1]?.data?.sendMessage?.id);
  await bob.page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor({ timeout: 30_000 });
  assert.equal(await messageWith(bob.page, SECRETS.bobRetry).count(), 1);
  await screenshot(bobPhone.page, 'e2e-03-bob-phone');

  // Offline, the message waits in the outbox (sealed when it goes), then goes once.
  await alice.context.setOffline(true);
  await send(alice.page, SECRETS.offline);
  await bubble(alice.page, SECRETS.offline).getByTestId('pending').waitFor();
  await alice.context.setOffline(false);
  for (const viewer of [bob, bobPhone]) await messageWith(viewer.page, SECRETS.offline).waitFor({ timeout: 30_000 });
  await bubble(alice.page, SECRETS.offline).getByTestId('pending').waitFor({ state: 'detached', timeout: 30_000 });
  for (const viewer of [alice, bob, bobPhone]) assert.equal(await messageWith(viewer.page, SECRETS.offline).count(), 1);

  // A reload is the same device (keys from IndexedDB): the history opens again.
  await alice.page.reload();
  await alice.page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  for (const text of [SECRETS.aliceFirst, SECRETS.bobReply, SECRETS.offline]) await messageWith(alice.page, text).waitFor();
  await alice.page.waitForFunction(() => [...document.querySelectorAll('[data-testid="image-preview"][data-encrypted="true"]')]
    .some((img) => img.complete && img.naturalWidth === 480));
  await alice.page.getByTestId('key-change-notice').waitFor();

  // The API: encrypted, no body, ciphertext per device, opaque attachment.
  const { login } = await stack.server.gql(
    'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
    { input: { login: 'alice', password: PASSWORD } },
  );
  const data = await stack.server.gql(`query($id: ID!) { conversation(id: $id) { encrypted
      members { user { username deviceKeys { id } } } messages(last: 20) { nodes {
      body encrypted senderDeviceKey { id } envelopes { deviceKeyId ciphertext }
      attachments { fileName contentType thumbnailUrl encrypted } } } } }`, { id: conversationId }, login.accessToken);
  assert.equal(data.conversation.encrypted, true);
  const devices = Object.fromEntries(data.conversation.members.map(({ user }) => [user.username, user.deviceKeys.length]));
  assert.deepEqual(devices, { alice: 1, bob: 2 }, 'sign-in and reload re-register the same key');
  const nodes = data.conversation.messages.nodes;
  assert.equal(nodes[0].body, PLAIN);
  assert.equal(nodes[0].encrypted, false);
  const sealed = nodes.slice(1);
  assert.equal(sealed.length, 7);
  for (const message of sealed) {
    assert.equal(message.encrypted, true);
    assert.equal(message.body, '');
    assert.ok(message.senderDeviceKey?.id);
  }
  assert.deepEqual(sealed.map((message) => message.envelopes.length), [2, 2, 2, 2, 3, 3, 3], 'one envelope per device of both');
  const [attachment] = sealed[2].attachments;
  assert.deepEqual(attachment, { fileName: 'encrypted.bin', contentType: 'application/octet-stream', thumbnailUrl: null, encrypted: true });

  // The server's disk and logs: not one of the secrets. (The plain message
  // before encryption is there: the scan does see stored text.)
  const needles = [...Object.values(SECRETS), IMAGE_MARKER, IMAGE_NAME, NOTE_NAME, NOTE_TEXT];
  const scan = () => [...filesUnder(stack.server.dataDir), { path: 'server logs', bytes: stack.server.logs() }];
  const running = scan();
  assert.ok(leaks(running, [PLAIN]).length > 0, 'the scan finds the plain message');
  assert.ok(running.some((file) => file.path.includes('realtalk.db')), 'the database is scanned');
  assert.ok(stack.server.logs().includes('device key registered'), 'the scan sees what the server logs');
  assert.deepEqual(leaks(running, needles), []);
  await stack.server.stop(); // checkpoints the WAL into the database
  assert.deepEqual(leaks(scan(), needles), []);

  for (const someone of [alice, bob, bobPhone]) assert.deepEqual(someone.problems, [], `${someone.username} had no page errors`);
});
