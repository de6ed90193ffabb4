// The E2E harness: the real server binary on a free port with a temporary
// data directory, and Debian's chromium driven by playwright-core. Nothing
// is mocked; a page talks to the server exactly as a person's browser does.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = resolve(here, process.env.REALTALK_BIN ?? '../../target/debug/realtalk');
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(here, '../../target/e2e-artifacts');
export const PASSWORD = 'correct horse battery staple';
const START_MS = 20_000;

// This machine's network is closed: without these flags chromium stalls
// on background connections (updates, sync, QUIC probes).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const freePort = () =>
  new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });

/** Every file under `dir` (recursively) as `{ path, bytes }`. */
export function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      return { path, bytes: readFileSync(path) };
    });
}

const MAX_LOG_BYTES = 64 * 1024 * 1024;

/**
 * Starts the server; `env` adds settings. Resolves once /health answers,
 * with `dataDir`, `logs()` (everything it wrote to stdout and stderr so
 * far; stderr also reaches the terminal unless `echo: false`) and `stop()`
 * (resolves once it exited).
 */
export async function startServer(env = {}, { echo = true } = {}) {
  if (!existsSync(BIN)) throw new Error(`REALTALK_BIN ${BIN} does not exist: run cargo build first`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'realtalk-e2e-'));
  const child = spawn(BIN, [], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      JWT_SECRET: 'e2e-test-secret-e2e-test-secret-0123456789',
      RUST_LOG: 'warn',
      // Three browsers share 127.0.0.1: lift the per-IP limits.
      RATE_LIMIT_PER_SECOND: '10000',
      RATE_LIMIT_BURST: '10000',
      AUTH_RATE_LIMIT_PER_MINUTE: '10000',
      PRESENCE_GRACE_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  let outputBytes = 0;
  const keep = (chunk) => {
    if (outputBytes + chunk.length <= MAX_LOG_BYTES) output.push(chunk);
    outputBytes += chunk.length;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', (chunk) => {
    keep(chunk);
    if (echo) process.stderr.write(chunk);
  });
  const exited = new Promise((done) => child.once('exit', done));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    base,
    port,
    dataDir,
    logs: () => Buffer.concat(output),
    /** Runs one GraphQL operation over HTTP; it must succeed. Returns `data`. */
    gql: async (query, variables = {}, token = null) => {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = await response.json();
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return body.data;
    },
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: scripts/test.sh installs it (apt-get install chromium)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A signed-in person in their own browser context (own storage, own socket).
 * Page errors and CSP violations fail the test through `problems`.
 * `beforeLoad(context)` runs before the first page load (e.g. to route sockets).
 */
export async function person(browser, base, username, options = {}) {
  const { context, page, problems } = await watchedPage(browser, base, username, options);
  await page.getByTestId('to-register').click();
  await page.getByTestId('auth-username').fill(username);
  await page.getByTestId('auth-email').fill(`${username}@example.com`);
  await page.getByTestId('auth-displayName').fill(username[0].toUpperCase() + username.slice(1));
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  return { username, context, page, problems };
}

/**
 * A new browser signing in to an existing account (for end-to-end
 * encryption, a new device), watched like `person`'s; `label` names it in
 * `problems`. Same options as `person`.
 */
export async function signIn(browser, base, username, { label = 'signed in', ...options } = {}) {
  const { context, page, problems } = await watchedPage(browser, base, `${username} (${label})`, options);
  await page.getByTestId('auth-login').fill(username);
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('connection-state').filter({ hasText: 'Online' }).waitFor();
  return { username, context, page, problems };
}

/** A new context and page at `/`, its page errors and CSP violations collected in `problems`. */
async function watchedPage(browser, base, label, { viewport = { width: 1200, height: 800 }, colorScheme = 'light', beforeLoad } = {}) {
  const context = await browser.newContext({ baseURL: base, viewport, colorScheme });
  await beforeLoad?.(context);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`${label}: ${message.text()}`);
    }
  });
  page.setDefaultTimeout(15_000);
  await page.goto('/');
  return { context, page, problems };
}

/**
 * The server and browser a test file runs against: started before its
 * tests, stopped after them. `stack.server` and `stack.browser` are set
 * once the tests run. `env` and `options` go to `startServer`.
 */
export function serverAndBrowser(env = {}, options = {}) {
  const stack = { server: null, browser: null };
  before(async () => {
    stack.server = await startServer(env, options);
    stack.browser = await launchBrowser();
  });
  after(async () => {
    await stack.browser?.close();
    await stack.server?.stop();
  });
  return stack;
}

/** Types `text` into the open chat's composer and sends it with Enter. */
export async function send(page, text) {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

/** The whole message (with its actions) whose own text, not a quote, has `text`. */
export const bubble = (page, text) => page.getByTestId('timeline').getByTestId('message')
  .filter({ has: page.getByTestId('message-body').filter({ hasText: text }) });

/** Saves a full-page screenshot under target/e2e-artifacts/. */
export async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** `sender` finds `receiver`, asks, and `receiver` accepts (live, no reload). */
export async function befriend(sender, receiver) {
  await sender.page.getByTestId('tab-friends').click();
  await sender.page.getByTestId('user-search').fill(receiver.username);
  await sender.page.locator(`[data-testid="search-results"] [data-username="${receiver.username}"]`)
    .getByTestId('add-friend').click();
  await sender.page.locator(`[data-testid="outgoing-requests"] [data-username="${receiver.username}"]`).waitFor();
  // The request arrives live: the badge appears without a reload.
  await receiver.page.getByTestId('requests-badge').filter({ hasText: '1' }).waitFor();
  await receiver.page.getByTestId('tab-friends').click();
  await receiver.page.locator('[data-testid="incoming-requests"]').getByTestId('accept').click();
  await receiver.page.locator(`[data-testid="friend-list"] [data-username="${sender.username}"]`).waitFor();
  await sender.page.locator(`[data-testid="friend-list"] [data-username="${receiver.username}"]`).waitFor();
}

/** The message bubbles in the open chat whose text contains `text`. */
export const messageWith = (page, text) => page.getByTestId('timeline').getByTestId('message-body').filter({ hasText: text });

/**
 * Routes a context's WebSockets through Playwright to the real server, with
 * a switch: `cut()` drops the live link (and refuses new ones) while HTTP
 * keeps working; `restore()` lets the next attempt through.
 */
export async function switchableSocket(context) {
  let up = true;
  const open = new Set();
  await context.routeWebSocket(/\/graphql$/, (socket) => {
    if (!up) {
      socket.close({ code: 1006, reason: 'cut by test' });
      return;
    }
    socket.connectToServer();
    open.add(socket);
  });
  return {
    cut: async () => {
      up = false;
      for (const socket of open) await socket.close({ code: 1001, reason: 'cut by test' });
      open.clear();
    },
    restore: () => {
      up = true;
    },
  };
}

/** A PNG drawn by the browser itself (so the bytes are a real image). */
export async function drawPng(page) {
  const base64 = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 480;
    canvas.height = 320;
    const context = canvas.getContext('2d');
    const gradient = context.createLinearGradient(0, 0, 480, 320);
    gradient.addColorStop(0, '#4f46e5');
    gradient.addColorStop(1, '#f59e0b');
    context.fillStyle = gradient;
    context.fillRect(0, 0, 480, 320);
    context.fillStyle = '#fff';
    context.font = 'bold 48px sans-serif';
    context.fillText('RealTalk', 130, 175);
    return canvas.toDataURL('image/png').split(',')[1];
  });
  return Buffer.from(base64, 'base64');
}
