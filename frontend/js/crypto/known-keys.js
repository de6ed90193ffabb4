// Noticing that someone's keys changed. The server could add a device of
// its own to a person's account and have messages sealed to it; the safety
// number would reveal that, but only if people look. So the app remembers
// (per viewer and partner, in localStorage) the partner's identity keys it
// last saw, and when the set differs it records the change, which the chat
// announces as a notice line. The first sight of someone's keys is trusted
// (nothing to compare with).

const MAX_CHANGES = 20;

const storageKey = (viewerId, partnerId) => `realtalk.knownKeys.${viewerId}.${partnerId}`;

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
