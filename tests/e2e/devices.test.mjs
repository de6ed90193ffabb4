// Managing encryption devices (issue #12): Bob signs in on a second
// browser, sees both devices in his profile, and removes the first one
// from the second. Alice's chat announces the change. The removed browser,
// still open, becomes a new device on its next send, since a revoked key
// never comes back, and its message reaches Alice readable.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { befriend, messageWith, person, screenshot, send, serverAndBrowser, signIn } from './harness.mjs';

const stack = serverAndBrowser({}, { echo: false });

/** The device rows of the profile dialog, once loaded. */
async function devicesIn(page) {
  await page.getByTestId('open-profile').click();
  const rows = page.getByTestId('device-list').getByTestId('device');
  await rows.first().waitFor();
  return rows;
}

test('a removed device stops being sealed to, and comes back as a new one', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice');
  const bob = await person(stack.browser, stack.server.base, 'bob');
  await befriend(alice, bob);
  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('encrypt-conversation').click();
  await alice.page.getByTestId('encrypt-confirm').click();
  await alice.page.getByTestId('chat-lock').waitFor();
  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await bob.page.getByTestId('chat-lock').waitFor();
  await send(bob.page, 'From the first browser');
  await messageWith(alice.page, 'From the first browser').waitFor();

  // A second browser for Bob: a second device.
  const { page: laptop, problems } = await signIn(stack.browser, stack.server.base, 'bob', { label: 'laptop' });
  await alice.page.getByTestId('key-change-notice').first().waitFor();

  const rows = await devicesIn(laptop);
  assert.equal(await rows.count(), 2);
  const here = rows.filter({ hasText: 'This browser' });
  assert.equal(await here.count(), 1, 'this browser is marked');
  assert.equal(await here.getByTestId('remove-device').count(), 0, 'and cannot remove itself');
  const other = rows.filter({ hasNotText: 'This browser' });
  await other.getByTestId('remove-device').click();
  await other.getByTestId('remove-device').filter({ hasText: 'Remove for good?' }).waitFor();
  await screenshot(laptop, 'e2e-20-bob-devices');
  await other.getByTestId('remove-device').click();
  await laptop.getByTestId('device-list').getByTestId('device').nth(1).waitFor({ state: 'detached' });
  assert.equal(await laptop.getByTestId('device-list').getByTestId('device').count(), 1);
  await laptop.keyboard.press('Escape');

  // The first browser, still open, is refused as a sender, starts over as
  // a new device and sends; Alice reads it.
  await send(bob.page, 'From the first stack.browser, as a new device');
  await messageWith(alice.page, 'From the first stack.browser, as a new device').waitFor();
  const again = await devicesIn(laptop);
  assert.equal(await again.count(), 2, 'the first browser is a device again, a new one');
  assert.deepEqual([...alice.problems, ...bob.problems, ...problems], []);
});
