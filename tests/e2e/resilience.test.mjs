// Networks fail. Alice's live link is cut while Bob keeps writing and
// editing; when it comes back her chat resumes with afterSeq and shows each
// change once. A message typed while she is fully offline waits in the
// outbox and is sent once (same clientId) when she is back. Along the way:
// replies, reactions, edit and delete, read markers, and a reload that
// keeps the session and reopens the chat.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  befriend, bubble, messageWith, person, screenshot, serverAndBrowser, switchableSocket,
} from './harness.mjs';

const stack = serverAndBrowser();

const state = (page, text) => page.getByTestId('connection-state').filter({ hasText: text });

test('a cut link resumes without gaps or duplicates, and the outbox sends once', async () => {
  let link;
  const alice = await person(stack.browser, stack.server.base, 'alice', {
    beforeLoad: async (context) => {
      link = await switchableSocket(context);
    },
  });
  const bob = await person(stack.browser, stack.server.base, 'bob');
  await befriend(alice, bob);
  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('composer-input').fill('First message');
  await alice.page.getByTestId('composer-input').press('Enter');
  await bob.page.getByTestId('tab-chats').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' }).click();
  await messageWith(bob.page, 'First message').waitFor();

  // Reply, reaction, and the read marker on Alice's side.
  await bubble(bob.page, 'First message').getByTestId('reply').click();
  await bob.page.getByTestId('composer-context').filter({ hasText: 'Replying to Alice' }).waitFor();
  await bob.page.getByTestId('composer-input').fill('Replying to you');
  await bob.page.getByTestId('composer-input').press('Enter');
  await bubble(alice.page, 'Replying to you').getByTestId('reply-quote').filter({ hasText: 'First message' }).waitFor();
  await bubble(bob.page, 'First message').getByTestId('react').click();
  await bob.page.getByRole('button', { name: 'React 👍' }).click();
  await bubble(alice.page, 'First message').getByTestId('reaction').filter({ hasText: '1' }).waitFor();
  // Bob's read marker reaches Alice live (readMarkers), not by polling.
  await alice.page.getByTestId('read-marker').filter({ hasText: 'Seen' }).waitFor();

  // The live link drops; Bob writes, edits and deletes meanwhile.
  await link.cut();
  await state(alice.page, /Offline|Connecting/).waitFor();
  await bob.page.getByTestId('composer-input').fill('While you were away 1');
  await bob.page.getByTestId('composer-input').press('Enter');
  await bob.page.getByTestId('composer-input').fill('While you were away 2');
  await bob.page.getByTestId('composer-input').press('Enter');
  await bubble(bob.page, 'While you were away 2').waitFor();
  await bubble(bob.page, 'While you were away 1').getByTestId('edit').click();
  await bob.page.getByTestId('composer-input').fill('While you were away 1 (edited)');
  await bob.page.getByTestId('composer-input').press('Enter');
  await bubble(bob.page, 'While you were away 1 (edited)').getByTestId('edited').waitFor();
  bob.page.once('dialog', (dialog) => dialog.accept());
  await bubble(bob.page, 'Replying to you').getByTestId('delete').click();
  await bob.page.getByTestId('timeline').getByText('This message was deleted').waitFor();
  assert.equal(await messageWith(alice.page, 'While you were away').count(), 0, 'nothing arrives while cut');

  link.restore();
  await state(alice.page, 'Online').waitFor({ timeout: 40_000 });
  await messageWith(alice.page, 'While you were away 1 (edited)').waitFor();
  await messageWith(alice.page, 'While you were away 2').waitFor();
  await alice.page.getByTestId('timeline').getByText('This message was deleted').waitFor();
  for (const text of ['First message', 'While you were away 1 (edited)', 'While you were away 2']) {
    assert.equal(await messageWith(alice.page, text).count(), 1, `"${text}" shows once`);
  }
  await screenshot(alice.page, '10-alice-resumed');

  // Fully offline: the message waits, then goes exactly once.
  await alice.context.setOffline(true);
  await alice.page.getByTestId('composer-input').fill('Typed while offline');
  await alice.page.getByTestId('composer-input').press('Enter');
  await bubble(alice.page, 'Typed while offline').getByTestId('pending').waitFor();
  await screenshot(alice.page, '11-alice-offline-pending');
  await alice.context.setOffline(false);
  await messageWith(bob.page, 'Typed while offline').waitFor({ timeout: 30_000 });
  await bubble(alice.page, 'Typed while offline').getByTestId('pending').waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(await messageWith(bob.page, 'Typed while offline').count(), 1);
  assert.equal(await messageWith(alice.page, 'Typed while offline').count(), 1);

  // A reload keeps the session (refresh token) and reopens the chat.
  await alice.page.reload();
  await state(alice.page, 'Online').waitFor();
  await messageWith(alice.page, 'Typed while offline').waitFor();
  assert.equal(await messageWith(alice.page, 'First message').count(), 1);

  for (const someone of [alice, bob]) assert.deepEqual(someone.problems, [], `${someone.username} had no page errors`);
});
