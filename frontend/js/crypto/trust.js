// Whether the device that sealed a message is one its author's safety
// number covers. The sender key of a message verifies (its identity key
// signed it, for the author's user id), but the server could have minted
// that identity key itself: then the message opens fine, yet comes from a
// device neither person ever compared. What the viewer can compare is the
// directory (the author's active keys, which the safety number is made
// of), and what this browser has seen in it before (known-keys.js).
//
//   known    the identity key is in the author's current directory, or was
//            recorded here while it was active: shown as a normal message.
//   inactive neither, and the server says the key was revoked after the
//            message was sent: a device that may well have been real (added
//            and removed while this browser was not looking, or before it
//            first looked) but that nobody here could compare: a mild warning.
//   unknown  neither, and the key is not revoked (the server presents an
//            active key that its directory does not list), or it was
//            revoked before the message was sent (the server would have
//            refused that send): a strong warning.
//
// A server that lies about revokedAt only trades the strong warning for
// the mild one; it cannot make an uncompared key look normal.

/** The warning line shown on a message, by verdict. */
export const SENDER_WARNINGS = Object.freeze({
  unknown: "Sent from a device that is not part of the safety number — don't trust it until you compare safety numbers",
  inactive: 'Sent from a device that is no longer active and that this browser never verified',
});

const includes = (keys, key) => (keys instanceof Set ? keys.has(key) : keys.includes(key));

/**
 * `'known' | 'inactive' | 'unknown'` for a message sealed by `sender`
 * (`{ identityKey, revokedAt }`, the API's senderDeviceKey) at `sentAt`
 * (ISO), given the author's `current` identity keys (active, verified) and
 * the ones `recorded` here for the author (arrays or Sets).
 */
export function senderTrust({ identityKey, revokedAt = null }, sentAt, { current = [], recorded = [] } = {}) {
  if (typeof identityKey === 'string' && identityKey && (includes(current, identityKey) || includes(recorded, identityKey))) {
    return 'known';
  }
  const revoked = Date.parse(revokedAt ?? '');
  if (Number.isNaN(revoked)) return 'unknown';
  const sent = Date.parse(sentAt ?? '');
  return revoked < sent ? 'unknown' : 'inactive';
}
