// The signed-in session. The access token lives in memory only (it is the
// one that is sent on every request, so it is never written anywhere). The
// refresh token is kept in localStorage so a reload or a second tab stays
// signed in; it is single use and rotates on every refresh, and the server
// revokes the whole session if a spent one is presented, so a stolen copy
// is short-lived and self-revealing. Because tabs share localStorage, a
// refresh runs under a Web Lock and re-reads the stored token first: two
// tabs never present the same refresh token.

import { configureAuth, request } from '../graphql.js';

const STORAGE_KEY = 'realtalk.refreshToken';
const LOCK_NAME = 'realtalk.refresh';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

export const USER_FIELDS = 'id username displayName avatarUrl online lastSeenAt friendship';
const AUTH_FIELDS = `accessToken refreshToken accessTokenExpiresAt user { ${USER_FIELDS} email emailVerified }`;

const state = { accessToken: null, expiresAt: 0, user: null, timer: null };
const listeners = new Set();

/** `listener(user | null)` on sign-in, profile change and sign-out. */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit() {
  for (const listener of listeners) listener(state.user);
}

export const currentUser = () => state.user;
export const accessToken = () => state.accessToken;

export function updateCurrentUser(user) {
  state.user = { ...state.user, ...user };
  emit();
}

function adopt(payload) {
  state.accessToken = payload.accessToken;
  state.expiresAt = Date.parse(payload.accessTokenExpiresAt);
  state.user = payload.user;
  localStorage.setItem(STORAGE_KEY, payload.refreshToken);
  clearTimeout(state.timer);
  const wait = Math.max(5_000, state.expiresAt - Date.now() - EARLY_MS);
  state.timer = setTimeout(() => refresh(), wait);
}

export async function register({ username, email, password, displayName }) {
  const data = await request(
    `mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`,
    { input: { username, email, password, displayName: displayName || null } },
    { auth: false },
  );
  adopt(data.register);
  emit();
}

export async function login(loginName, password) {
  const data = await request(
    `mutation Login($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`,
    { input: { login: loginName, password } },
    { auth: false },
  );
  adopt(data.login);
  emit();
}

async function withLock(task) {
  if (navigator.locks?.request) return navigator.locks.request(LOCK_NAME, task);
  return task();
}

let inFlight = null;

/**
 * Exchanges the stored refresh token for a new pair. Resolves true when
 * signed in afterwards; false (and signed out) when the session is over.
 * Network failures keep the session and retry later.
 */
export function refresh() {
  inFlight ??= withLock(async () => {
    const token = localStorage.getItem(STORAGE_KEY);
    if (!token) return false;
    try {
      const data = await request(
        `mutation Refresh($token: String!) { refreshToken(token: $token) { ${AUTH_FIELDS} } }`,
        { token },
        { auth: false },
      );
      const first = state.user === null;
      adopt(data.refreshToken);
      if (first) emit();
      return true;
    } catch (error) {
      if (error.code === 'NETWORK' || error.code === 'RATE_LIMITED') {
        clearTimeout(state.timer);
        state.timer = setTimeout(() => refresh(), 10_000);
        return state.user !== null;
      }
      forget();
      return false;
    }
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/**
 * After the server refused `tokenUsed` (HTTP UNAUTHENTICATED or WS 4403):
 * if we already hold a newer token, use it; otherwise refresh once.
 */
export async function recover(tokenUsed) {
  if (tokenUsed && state.accessToken && tokenUsed !== state.accessToken) return true;
  return refresh();
}

function forget() {
  clearTimeout(state.timer);
  state.accessToken = null;
  state.user = null;
  localStorage.removeItem(STORAGE_KEY);
  emit();
}

/** Ends this session (`all`: every session of the user) and signs out here. */
export async function logout(all = false) {
  try {
    await request(all ? 'mutation { logoutAll }' : 'mutation { logout }');
  } finally {
    forget();
  }
}

/** Signs in from a stored refresh token, if there is one. */
export async function resume() {
  if (!localStorage.getItem(STORAGE_KEY)) return false;
  return refresh();
}

configureAuth(accessToken, () => recover(null));
