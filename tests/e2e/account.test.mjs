// Signing in to an existing account, a long history read by scrolling up
// (each page once, in order), a profile change, and "log out everywhere"
// reaching another signed-in browser at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { drawPng, messageWith, PASSWORD, screenshot, serverAndBrowser, signIn as signInAt } from './harness.mjs';

const HISTORY = 95;
const stack = serverAndBrowser();

async function registerByApi(username) {
  const data = await stack.server.gql(
    'mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }',
    { input: { username, email: `${username}@example.com`, password: PASSWORD, displayName: username[0].toUpperCase() + username.slice(1) } },
  );
  return { token: data.register.accessToken, id: data.register.user.id };
}

/** Dave's or Frank's browser signing in (the harness's, in this file's window size). */
const signIn = (username, options = {}) =>
  signInAt(stack.browser, stack.server.base, username, { viewport: { width: 1100, height: 760 }, ...options });

test('sign in, scroll a long history, rename, and log out everywhere', async () => {
  const dave = await registerByApi('dave');
  const erin = await registerByApi('erin');
  const request = await stack.server.gql('mutation($id: ID!) { sendFriendRequest(userId: $id) { id } }', { id: erin.id }, dave.token);
  await stack.server.gql('mutation($id: ID!) { acceptFriendRequest(id: $id) { id } }', { id: request.sendFriendRequest.id }, erin.token);
  const direct = await stack.server.gql('mutation($id: ID!) { openDirectConversation(userId: $id) { id } }', { id: erin.id }, dave.token);
  const conversationId = direct.openDirectConversation.id;
  for (let n = 1; n <= HISTORY; n += 1) {
    await stack.server.gql('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
      { input: { conversationId, body: `Message ${n}` } }, n % 2 ? dave.token : erin.token);
  }

  // A wrong password is refused with a visible message.
  const wrong = await stack.browser.newContext({ baseURL: stack.server.base });
  const wrongPage = await wrong.newPage();
  await wrongPage.goto('/');
  await wrongPage.getByTestId('auth-login').fill('dave');
  await wrongPage.getByTestId('auth-password').fill('not the password');
  await wrongPage.getByTestId('auth-submit').click();
  await wrongPage.getByTestId('auth-error').filter({ hasText: /./ }).waitFor();
  await wrong.close();

  const laptop = await signIn('dave');
  const erinItem = laptop.page.getByTestId('conversation-item').filter({ hasText: 'Erin' });
  await erinItem.getByTestId('unread-badge').filter({ hasText: String(Math.floor(HISTORY / 2)) }).waitFor();
  await erinItem.click();
  await messageWith(laptop.page, `Message ${HISTORY}`).waitFor();
  const timeline = laptop.page.getByTestId('timeline');
  assert.ok(await timeline.getByTestId('message').count() < HISTORY, 'only the newest page loads first');
  while ((await messageWith(laptop.page, 'Message 1').filter({ hasText: /^Message 1$/ }).count()) === 0) {
    await timeline.evaluate((element) => {
      element.scrollTop = 0;
    });
    await laptop.page.waitForTimeout(150);
  }
  await timeline.getByTestId('history-sentinel').filter({ hasText: 'Beginning of the conversation' }).waitFor();
  const seqs = await timeline.getByTestId('message').evaluateAll((items) => items.map((item) => Number(item.dataset.seq)));
  assert.equal(seqs.length, HISTORY, 'every message once');
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  await screenshot(laptop.page, '30-history-top');

  // The profile: a new display name shows at once.
  await laptop.page.getByTestId('open-profile').click();
  await laptop.page.getByTestId('display-name').fill('Dave D.');
  await laptop.page.getByTestId('save-profile').click();
  await laptop.page.getByTestId('me-name').filter({ hasText: 'Dave D.' }).waitFor();
  await laptop.page.getByTestId('avatar-input').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: await drawPng(laptop.page) });
  await laptop.page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="open-profile"] img');
    return img?.complete && img.naturalWidth > 0;
  });
  await laptop.page.keyboard.press('Escape');

  // Log out everywhere: the phone session ends too, without a reload.
  const phone = await signIn('dave');
  await phone.page.getByTestId('me-name').filter({ hasText: 'Dave D.' }).waitFor();
  await laptop.page.getByTestId('open-profile').click();
  await laptop.page.getByTestId('logout-all').click();
  await laptop.page.getByTestId('auth-submit').waitFor();
  await phone.page.getByTestId('auth-submit').waitFor({ timeout: 20_000 });
  await screenshot(phone.page, '31-phone-signed-out');

  assert.deepEqual([...laptop.problems, ...phone.problems], []);
});

test('the access token is refreshed silently before it expires', async () => {
  await registerByApi('frank');
  // The page's clock is Playwright's, so 14 minutes can pass in a moment.
  const { context, page, problems } = await signIn('frank', { beforeLoad: (ctx) => ctx.clock.install() });
  const stored = () => page.evaluate(() => localStorage.getItem('realtalk.refreshToken'));
  const first = await stored();
  assert.ok(first, 'the refresh token is kept for reloads');
  const refreshed = page.waitForRequest((req) => req.method() === 'POST' && (req.postData() ?? '').includes('refreshToken('));
  await page.clock.fastForward('14:30');
  await refreshed;
  await page.waitForFunction((old) => localStorage.getItem('realtalk.refreshToken') !== old, first);
  // Still signed in, and the new access token works for queries and the socket.
  await page.getByTestId('tab-friends').click();
  await page.getByTestId('friend-list').waitFor();
  await page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  assert.equal(await page.getByTestId('auth-submit').count(), 0, 'not sent back to the sign-in screen');
  assert.deepEqual(problems, []);
  await context.close();
});
