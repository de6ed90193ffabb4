// Alice, Bob and Carol, each in their own browser context, use the web app
// against the real server: they become friends, chat live in a direct
// conversation (typing indicators, an image with previews on both sides),
// make a group, and see presence change when Bob closes his page.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { befriend, drawPng, messageWith, person, screenshot, serverAndBrowser } from './harness.mjs';

const stack = serverAndBrowser();
const people = [];

test('two people become friends and chat live, with typing, images, a group and presence', async () => {
  const alice = await person(stack.browser, stack.server.base, 'alice');
  const bob = await person(stack.browser, stack.server.base, 'bob');
  const carol = await person(stack.browser, stack.server.base, 'carol');
  people.push(alice, bob, carol);

  await befriend(alice, bob);
  await screenshot(bob.page, '01-bob-friends');

  // Alice opens the direct conversation from her friend list.
  await alice.page.locator('[data-testid="friend-list"] [data-username="bob"]').getByTestId('message').click();
  await alice.page.getByTestId('chat-title').filter({ hasText: 'Bob' }).waitFor();

  // Bob sees Alice typing before anything is sent... once he has the chat open.
  // First message: it reaches Bob's conversation list live, with an unread badge.
  await alice.page.getByTestId('composer-input').fill('Hello Bob!');
  await alice.page.getByTestId('composer-input').press('Enter');
  await messageWith(alice.page, 'Hello Bob!').waitFor();
  await bob.page.getByTestId('tab-chats').click();
  const bobsItem = bob.page.getByTestId('conversation-item').filter({ hasText: 'Alice' });
  await bobsItem.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
  await bobsItem.getByTestId('conversation-preview').filter({ hasText: 'Hello Bob!' }).waitFor();
  await bobsItem.click();
  await messageWith(bob.page, 'Hello Bob!').waitFor();

  // Typing, both ways.
  await alice.page.getByTestId('composer-input').fill('Are you there');
  await bob.page.getByTestId('typing-indicator').filter({ hasText: 'Alice is typing' }).waitFor();
  await bob.page.getByTestId('composer-input').fill('Yes, here');
  await alice.page.getByTestId('typing-indicator').filter({ hasText: 'Bob is typing' }).waitFor();
  await screenshot(bob.page, '02-bob-sees-typing');
  await bob.page.getByTestId('composer-input').press('Enter');
  await messageWith(alice.page, 'Yes, here').waitFor();
  await alice.page.getByTestId('typing-indicator').filter({ hasText: /^$/ }).waitFor();

  // An image: uploaded with progress, previewed on both sides, full size on click.
  const png = await drawPng(alice.page);
  await alice.page.getByTestId('composer-input').fill('A picture for you');
  await alice.page.getByTestId('file-input').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png });
  await alice.page.locator('[data-testid="upload-chip"][data-uploaded="true"]').waitFor();
  await alice.page.getByTestId('send').click();
  for (const viewer of [alice, bob]) {
    const preview = viewer.page.getByTestId('timeline').getByTestId('image-preview');
    await preview.waitFor();
    await viewer.page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="image-preview"]')].some((img) => img.complete && img.naturalWidth > 0),
    );
  }
  await bob.page.getByTestId('image-preview').click();
  await bob.page.getByTestId('full-image').waitFor();
  const fullWidth = await bob.page.getByTestId('full-image').evaluate(async (img) => {
    await img.decode();
    return img.naturalWidth;
  });
  assert.equal(fullWidth, 480, 'the full image is the original, not the thumbnail');
  await screenshot(bob.page, '03-bob-full-image');
  await bob.page.keyboard.press('Escape');
  await screenshot(alice.page, '04-alice-chat');

  // Nothing shows twice after all that live traffic.
  assert.equal(await messageWith(alice.page, 'Hello Bob!').count(), 1);
  assert.equal(await messageWith(bob.page, 'Yes, here').count(), 1);

  // A group with a third person.
  await befriend(carol, alice);
  await alice.page.getByTestId('new-group').click();
  await alice.page.getByTestId('group-title').fill('Weekend plans');
  for (const name of ['bob', 'carol']) {
    await alice.page.locator(`[data-testid="group-members"] input[data-username="${name}"]`).check();
  }
  await alice.page.getByTestId('create-group-submit').click();
  await alice.page.getByTestId('chat-title').filter({ hasText: 'Weekend plans' }).waitFor();
  await alice.page.getByTestId('composer-input').fill('Who is in for Saturday?');
  await alice.page.getByTestId('composer-input').press('Enter');
  await carol.page.getByTestId('tab-chats').click();
  const carolsGroup = carol.page.getByTestId('conversation-item').filter({ hasText: 'Weekend plans' });
  await carolsGroup.getByTestId('conversation-preview').filter({ hasText: 'Saturday' }).waitFor();
  await carolsGroup.click();
  await messageWith(carol.page, 'Who is in for Saturday?').waitFor();
  await carol.page.getByTestId('composer-input').fill('Me!');
  await carol.page.getByTestId('composer-input').press('Enter');
  await messageWith(alice.page, 'Me!').waitFor();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Weekend plans' })
    .getByTestId('conversation-preview').filter({ hasText: 'Me!' }).waitFor();
  await screenshot(carol.page, '05-carol-group');

  // Managing the group: rename (Carol sees it live), a role, remove, leave.
  await alice.page.getByTestId('group-settings').click();
  const settings = alice.page.getByTestId('group-settings-dialog');
  await settings.getByTestId('rename-input').fill('Weekend trip');
  await settings.getByTestId('rename-submit').click();
  await carol.page.getByTestId('conversation-item').filter({ hasText: 'Weekend trip' }).waitFor();
  await carol.page.getByTestId('chat-title').filter({ hasText: 'Weekend trip' }).waitFor();
  await settings.getByRole('combobox', { name: 'Role of Bob' }).selectOption('ADMIN');
  // The dialog re-renders from the server's answer: the new role is what it says.
  await settings.locator('[data-testid="group-member"][data-username="bob"] select').filter({ has: alice.page.locator('option[value="ADMIN"]:checked') }).waitFor();
  await screenshot(alice.page, '05b-alice-group-info');
  await settings.getByRole('button', { name: 'Remove Carol' }).click();
  await settings.locator('[data-testid="group-member"][data-username="carol"]').waitFor({ state: 'detached' });
  await carol.page.getByTestId('conversation-item').filter({ hasText: 'Weekend trip' }).waitFor({ state: 'detached' });
  await alice.page.keyboard.press('Escape');
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Weekend trip' }).click();
  await bob.page.getByTestId('group-settings').click();
  bob.page.once('dialog', (dialog) => dialog.accept());
  await bob.page.getByTestId('leave-group').click();
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Weekend trip' }).waitFor({ state: 'detached' });

  // Presence: Alice sees Bob online, then offline once his page is gone.
  await alice.page.getByTestId('conversation-item').filter({ hasText: 'Bob' }).click();
  await alice.page.getByTestId('peer-presence').filter({ hasText: 'online' }).waitFor();
  await bob.context.close();
  await alice.page.getByTestId('peer-presence').filter({ hasText: 'offline' }).waitFor({ timeout: 20_000 });
  const dot = alice.page.getByTestId('conversation-item').filter({ hasText: 'Bob' }).getByTestId('presence');
  assert.equal(await dot.getAttribute('data-online'), 'false');
  await screenshot(alice.page, '06-alice-sees-bob-offline');

  for (const someone of people) assert.deepEqual(someone.problems, [], `${someone.username} had no page errors`);
});
