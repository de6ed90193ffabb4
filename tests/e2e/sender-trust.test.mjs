// A message sealed by a device outside the safety number (issue #12,
// frontend/js/crypto/trust.js), in real browsers against the real server.
// A key's self-signature proves nothing about who made it: a server can
// mint an identity key "for Bob" and seal to Alice with it. Here the
// forgery goes through the real API with the app's own crypto, as such a
// server could: a key is registered for Bob, a message is sealed with it
// to every device of both, and the key is revoked before Alice's browser
// ever sees the directory again. Bob's device list then looks unchanged
// (no key-change notice, same safety number), so before this check the
// message looked like any other of Bob's. Now it carries the mild warning
// (on Alice's side and on Bob's own laptop, which never saw that key
// either), Bob's real messages none. Then a response of the server is
// altered in transit to present that key as still active although the
// directory does not list it, which is what a server hiding a device of
// its own looks like: the strong warning. A device Bob really adds, live,
// stays normal (the directory is fetched again on a miss).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import {
  befriend, bubble, messageWith, PASSWORD, person, screenshot, send, serverAndBrowser, signIn as signInAt,
} from './harness.mjs';

const stack = serverAndBrowser({}, { echo: false });

const tag = randomUUID().slice(0, 8);
const TEXTS = {
  bobReal: `Real Bob on his laptop ${tag}`,
  forged: `Forged, please send the code ${tag}`,
  phone: `Real Bob on his new phone ${tag}`,
};
const MILD = 'Sent from a device that is no longer active and that this browser never verified';
const STRONG = "Sent from a device that is not part of the safety number — don't trust it until you compare safety numbers";

function watch(page, someone, label = someone.username) {
  page.on('pageerror', (error) => someone.problems.push(`${label}: page error: ${error.message}`));
  page.setDefaultTimeout(15_000);
  return page;
}

/** A new tab of the same browser (same IndexedDB and localStorage: the same device), opening the chat. */
async function reopen(someone, conversationId) {
  someone.page = watch(await someone.context.newPage(), someone);
  await someone.page.goto(`/#/c/${conversationId}`);
  await someone.page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  await someone.page.getByTestId('chat-lock').waitFor();
}

/** Another browser signing in to an existing account: a new device. */
const signIn = (username) => signInAt(stack.browser, stack.server.base, username, { label: '2nd device' });

/**
 * In a page of the app's origin, with the app's own modules: a fresh key
 * pair registered for Bob, a message sealed with it to every active device
 * of both, sent, and the key revoked. Returns the key's id.
 */
async function forgeAsBob(page, { token, bobId, conversationId, text }) {
  return page.evaluate(async (args) => {
    const { generateDeviceKeys, publicDeviceKey } = await import('/js/crypto/keys.js');
    const { seal } = await import('/js/crypto/seal.js');
    const { encodePayload } = await import('/js/crypto/payload.js');
    const call = async (query, variables) => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${args.token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = await response.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const keys = await generateDeviceKeys();
    const { registerDeviceKey: key } = await call(
      'mutation($input: RegisterDeviceKeyInput!) { registerDeviceKey(input: $input) { id } }',
      { input: { ...(await publicDeviceKey(args.bobId, keys)), label: 'Chromium on Linux' } },
    );
    const { conversation } = await call(
      'query($id: ID!) { conversation(id: $id) { members { user { deviceKeys { id encryptionKey } } } } }',
      { id: args.conversationId },
    );
    const envelopes = await seal(encodePayload({ text: args.text }), {
      conversationId: args.conversationId,
      sender: { deviceKeyId: key.id, privateKey: keys.encryption.privateKey },
      targets: conversation.members.flatMap((member) => member.user.deviceKeys),
    });
    await call('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', {
      input: { conversationId: args.conversationId, body: '', clientId: crypto.randomUUID(), senderDeviceKeyId: key.id, envelopes },
    });
    await call('mutation($id: ID!) { revokeDeviceKey(id: $id) }', { id: key.id });
    return key.id;
  }, { token, bobId, conversationId, text });
}

/** Replaces `revokedAt` of device key `id` wherever it occurs in a GraphQL answer. */
function unrevoke(value, id) {
  if (Array.isArray(value)) return value.map((item) => unrevoke(item, id));
  if (!value || typeof value !== 'object') return value;
  const copy = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unrevoke(item, id)]));
  if (copy.id === id && 'revokedAt' in copy) copy.revokedAt = null;
  return copy;
}

async function assertNormal(page, text) {
  const message = bubble(page, text);
  await message.waitFor();
  assert.equal(await message.getAttribute('data-sender-trust'), 'known', `${text} is from a known device`);
  assert.equal(await message.getByTestId('sender-warning').count(), 0, `${text} has no warning`);
}

async function assertWarned(page, text, warning, level) {
  const message = bubble(page, text);
  await message.getByTestId('sender-warning').filter({ hasText: warning }).waitFor();
  assert.equal(await message.getAttribute('data-sender-trust'), level);
  assert.equal(await message.getByTestId('sender-warning').getAttribute('data-level'), level);
  // Screen readers get it with the message, not only as loose text after it.
  assert.ok((await message.getAttribute('aria-label')).endsWith(`Warning: ${warning}`));
}

test('a message sealed by a key outside the safety number carries a warning; real devices do not', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice');
  const bob = await person(stack.browser, stack.server.base, 'bob');
  await befriend(alice, bob);

  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('chat-title').filter({ hasText: 'Bob' }).waitFor();
  const conversationId = new URL(alice.page.url()).hash.replace('#/c/', '');
  await alice.page.getByTestId('encrypt-conversation').click();
  await alice.page.getByTestId('encrypt-confirm').click();
  await alice.page.getByTestId('chat-lock').waitFor();
  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await bob.page.getByTestId('chat-lock').waitFor();
  await send(bob.page, TEXTS.bobReal);
  await assertNormal(alice.page, TEXTS.bobReal);
  await assertNormal(bob.page, TEXTS.bobReal);
  const numberBefore = await alice.page.evaluate(async (id) => {
    const { conversationKeys } = await import('/js/crypto/directory.js');
    const { safetyNumber } = await import('/js/crypto/safety.js');
    return (await safetyNumber((await conversationKeys(id, { fresh: true })).deviceKeys)).text;
  }, conversationId);

  // Both close the app; meanwhile a key "for Bob" comes and goes.
  await alice.page.close();
  await bob.page.close();
  const { login } = await stack.server.gql(
    'mutation($input: LoginInput!) { login(input: $input) { accessToken user { id } } }',
    { input: { login: 'bob', password: PASSWORD } },
  );
  const forger = await stack.browser.newContext({ baseURL: stack.server.base });
  const forgerPage = await forger.newPage();
  await forgerPage.goto('/');
  const forgedKeyId = await forgeAsBob(forgerPage, {
    token: login.accessToken, bobId: login.user.id, conversationId, text: TEXTS.forged,
  });
  await forger.close();

  // Alice comes back: it opens like any message of Bob's, but is flagged.
  await reopen(alice, conversationId);
  await messageWith(alice.page, TEXTS.forged).waitFor();
  await assertWarned(alice.page, TEXTS.forged, MILD, 'inactive');
  await assertNormal(alice.page, TEXTS.bobReal);
  // Nothing else would have told her: the device list is as before.
  await alice.page.getByTestId('chat-lock').click();
  const number = alice.page.getByTestId('safety-dialog').getByTestId('safety-number');
  await number.waitFor();
  assert.equal(await number.getAttribute('data-number'), numberBefore, 'the safety number did not change');
  await alice.page.keyboard.press('Escape');
  assert.equal(await alice.page.getByTestId('key-change-notice').count(), 0, 'no key-change notice');
  // The chat list's preview does not show the forged text unflagged either.
  const preview = await alice.page.getByTestId('conversation-item').filter({ hasText: 'Bob' }).textContent();
  assert.ok(!preview.includes(TEXTS.forged), preview);
  await screenshot(alice.page, 'e2e-10-alice-message-from-inactive-device');

  // Bob's own laptop never saw that key either: his "own" message is flagged the same way.
  await reopen(bob, conversationId);
  await assertWarned(bob.page, TEXTS.forged, MILD, 'inactive');
  await assertNormal(bob.page, TEXTS.bobReal);

  // The server presents the key as active while its directory does not
  // list it (a device of its own, hidden from the safety number).
  let altered = 0;
  await alice.context.route('**/graphql', async (route) => {
    const response = await route.fetch();
    const text = await response.text();
    if (!text.includes(forgedKeyId)) {
      await route.fulfill({ response, body: text });
      return;
    }
    altered += 1;
    await route.fulfill({ response, body: JSON.stringify(unrevoke(JSON.parse(text), forgedKeyId)) });
  });
  await alice.page.reload();
  await alice.page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  await assertWarned(alice.page, TEXTS.forged, STRONG, 'unknown');
  await assertNormal(alice.page, TEXTS.bobReal);
  assert.ok(altered > 0, 'the answer with the forged key was altered');
  await screenshot(alice.page, 'e2e-11-alice-message-from-unlisted-device');

  // A device Bob really adds is new to Alice's browser too, and stays normal.
  const bobPhone = await signIn('bob');
  await bobPhone.page.getByTestId('tab-chats').click();
  await bobPhone.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await bobPhone.page.getByTestId('chat-lock').waitFor();
  await send(bobPhone.page, TEXTS.phone);
  await assertNormal(alice.page, TEXTS.phone);
  await assertNormal(bob.page, TEXTS.phone);
  await assertWarned(alice.page, TEXTS.forged, STRONG, 'unknown');

  for (const someone of [alice, bob, bobPhone]) assert.deepEqual(someone.problems, [], `${someone.username} had no page errors`);
});
