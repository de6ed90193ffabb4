// Friend requests both ways (cancel, decline, accept), remove and block,
// and user content that looks like HTML staying text.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { befriend, messageWith, person, serverAndBrowser } from './harness.mjs';

const stack = serverAndBrowser();

const row = (page, list, username) => page.locator(`[data-testid="${list}"] [data-username="${username}"]`);

test('requests can be cancelled, declined, accepted; friends removed and blocked', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice');
  const bob = await person(stack.browser, stack.server.base, 'bob');

  await alice.page.getByTestId('tab-friends').click();
  await alice.page.getByTestId('user-search').fill('bo');
  await row(alice.page, 'search-results', 'bob').getByTestId('add-friend').click();
  await bob.page.getByTestId('requests-badge').filter({ hasText: '1' }).waitFor();
  await row(alice.page, 'outgoing-requests', 'bob').getByTestId('cancel-request').click();
  await row(alice.page, 'outgoing-requests', 'bob').waitFor({ state: 'detached' });
  await row(alice.page, 'search-results', 'bob').getByTestId('add-friend').waitFor();

  await row(alice.page, 'search-results', 'bob').getByTestId('add-friend').click();
  await bob.page.getByTestId('tab-friends').click();
  await row(bob.page, 'incoming-requests', 'alice').getByTestId('decline').click();
  await row(bob.page, 'incoming-requests', 'alice').waitFor({ state: 'detached' });
  assert.equal(await row(bob.page, 'friend-list', 'alice').count(), 0);

  await bob.page.getByTestId('tab-chats').click();
  await alice.page.getByTestId('tab-chats').click();
  await befriend(alice, bob);

  // HTML in a message is shown as the characters typed, never parsed.
  const html = '<img src=x onerror="document.title=\'pwned\'"><b>bold?</b>';
  await row(alice.page, 'friend-list', 'bob').getByTestId('message').click();
  await alice.page.getByTestId('composer-input').fill(html);
  await alice.page.getByTestId('composer-input').press('Enter');
  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  const body = messageWith(bob.page, 'bold?');
  await body.waitFor();
  assert.equal(await body.textContent(), html);
  assert.equal(await body.locator('*').count(), 0, 'no elements were created from the text');
  assert.notEqual(await bob.page.title(), 'pwned');

  // Remove, then block: Bob is gone from the list, and search offers Unblock.
  await alice.page.getByTestId('tab-friends').click();
  alice.page.once('dialog', (dialog) => dialog.accept());
  await row(alice.page, 'friend-list', 'bob').getByTestId('remove').click();
  await row(alice.page, 'friend-list', 'bob').waitFor({ state: 'detached' });
  await alice.page.getByTestId('user-search').fill('bob');
  await row(alice.page, 'search-results', 'bob').getByTestId('add-friend').waitFor();
  await befriend(alice, bob);
  alice.page.once('dialog', (dialog) => dialog.accept());
  await row(alice.page, 'friend-list', 'bob').getByTestId('block').click();
  await row(alice.page, 'friend-list', 'bob').waitFor({ state: 'detached' });
  await alice.page.getByTestId('user-search').fill('bob');
  await row(alice.page, 'search-results', 'bob').getByTestId('unblock').waitFor();

  for (const someone of [alice, bob]) assert.deepEqual(someone.problems, []);
});
