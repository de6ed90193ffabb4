// The app at 360 px wide (a small phone), light for Alice and dark for
// Bob: one pane at a time, nothing wider than the screen, and the whole
// friend-and-chat path still works by keyboard and touch-sized buttons.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { befriend, messageWith, person, screenshot, serverAndBrowser } from './harness.mjs';

const PHONE = { width: 360, height: 740 };
const stack = serverAndBrowser();

async function assertFits(page, what) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${what}: page is ${scrollWidth}px wide on a ${innerWidth}px screen`);
}

test('at 360 px the app shows one pane at a time and fits the screen', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice', { viewport: PHONE, colorScheme: 'light' });
  const bob = await person(stack.browser, stack.server.base, 'bob', { viewport: PHONE, colorScheme: 'dark' });
  await assertFits(alice.page, 'conversation list');
  await befriend(alice, bob);
  await assertFits(bob.page, 'friends tab');
  await screenshot(bob.page, '20-narrow-bob-friends-dark');

  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('chat').waitFor();
  assert.equal(await alice.page.locator('aside.sidebar').isVisible(), false, 'the list hides while a chat is open');
  // Keyboard only: the composer has focus after opening; type and press Enter.
  await alice.page.keyboard.type('Hi from a small phone');
  await alice.page.keyboard.press('Enter');
  await messageWith(alice.page, 'Hi from a small phone').waitFor();
  await assertFits(alice.page, 'chat');
  await screenshot(alice.page, '21-narrow-alice-chat-light');

  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await messageWith(bob.page, 'Hi from a small phone').waitFor();
  await bob.page.getByTestId('composer-input').fill('A long reply that has to wrap across several lines on a narrow screen without widening the page at all');
  await bob.page.getByTestId('composer-input').press('Enter');
  await messageWith(alice.page, 'A long reply').waitFor();
  await assertFits(bob.page, 'chat with a long message');
  await screenshot(bob.page, '22-narrow-bob-chat-dark');

  await alice.page.getByTestId('back').click();
  await alice.page.getByTestId('conversation-list').waitFor();
  assert.equal(await alice.page.getByTestId('chat').count(), 0, 'back returns to the list');
  await screenshot(alice.page, '23-narrow-alice-list');

  for (const someone of [alice, bob]) assert.deepEqual(someone.problems, [], `${someone.username} had no page errors`);
});
