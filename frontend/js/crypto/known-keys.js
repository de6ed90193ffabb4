// Noticing that someone's keys changed. The server could add a device of
// its own to a person's account and have messages sealed to it; the safety
// number would reveal that, but only if people look. So the app remembers
// (per viewer and partner, in localStorage) the partner's identity keys it
// last saw, and when the set differs it records the change, which the chat
// announces as a notice line. The first sight of someone's keys is trusted
// (nothing to compare with).
//
// Apart from that last set, it keeps the union of every identity key it
// has ever seen active (and verified) for a user, the viewer's own account
// included: a message sealed by a key in neither the current directory nor
// that union comes from a device this browser never had the chance to
// compare, and is shown with a warning (see trust.js).

const MAX_CHANGES = 20;
/** Far above the API's 10 active keys per user: room for years of devices. */
const MAX_SEEN = 200;

const storageKey = (viewerId, partnerId) => `realtalk.knownKeys.${viewerId}.${partnerId}`;
const seenKey = (viewerId, userId) => `realtalk.seenKeys.${viewerId}.${userId}`;

function read(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return value && Array.isArray(value.keys) && Array.isArray(value.changes) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Records the partner's current identity keys; returns `{ changed, changes }`
 * where `changed` says this call saw a difference and `changes` lists the
 * times (ISO) of every change recorded so far, oldest first.
 */
export function noteKeys(viewerId, partnerId, identityKeys) {
  const key = storageKey(viewerId, partnerId);
  const keys = [...new Set(identityKeys)].sort();
  const known = read(key);
  const changed = Boolean(known) && (known.keys.length !== keys.length || known.keys.some((k, i) => k !== keys[i]));
  const changes = known?.changes ?? [];
  if (changed) changes.push(new Date().toISOString());
  if (!known || changed) {
    localStorage.setItem(key, JSON.stringify({ keys, changes: changes.slice(-MAX_CHANGES) }));
  }
  return { changed, changes: changes.slice(-MAX_CHANGES) };
}

/** The recorded change times without recording anything. */
export const knownChanges = (viewerId, partnerId) => read(storageKey(viewerId, partnerId))?.changes ?? [];

function readSeen(viewerId, userId) {
  try {
    const value = JSON.parse(localStorage.getItem(seenKey(viewerId, userId)) ?? '[]');
    return Array.isArray(value) ? value.filter((key) => typeof key === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Adds `identityKeys` (seen active and verified in the directory just now)
 * to every key recorded for `userId`. The most recently seen are kept
 * when the list is full.
 */
export function rememberKeys(viewerId, userId, identityKeys) {
  const current = [...new Set(identityKeys)];
  if (!current.length) return;
  const seen = readSeen(viewerId, userId);
  const next = [...seen.filter((key) => !current.includes(key)), ...current].slice(-MAX_SEEN);
  if (next.length === seen.length && next.every((key, i) => key === seen[i])) return;
  try {
    localStorage.setItem(seenKey(viewerId, userId), JSON.stringify(next));
  } catch {
    // storage full or disabled: the current directory still counts
  }
}

/**
 * Every identity key this browser has recorded for `userId` (as viewer
 * `viewerId`): the union above plus the last set noteKeys saw (which
 * covers what was recorded before the union existed).
 */
export const recordedKeys = (viewerId, userId) =>
  new Set([...readSeen(viewerId, userId), ...(read(storageKey(viewerId, userId))?.keys ?? [])]);
