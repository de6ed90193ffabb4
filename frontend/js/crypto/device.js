// This browser's device for the signed-in user: its keys are loaded from
// (or, the first time, generated into) the key store, and published with
// registerDeviceKey, which the server treats as idempotent per encryption
// key, so doing it after every sign-in or reload costs one small request
// and repairs a server that lost or never got it. A Web Lock keeps two
// tabs of the same browser from generating two devices at once.

import { GraphQLError, request } from '../graphql.js';
import { DEVICE_KEY_FIELDS as PUBLIC_FIELDS } from '../fragments.js';
import { generateDeviceKeys, publicDeviceKey } from './keys.js';
import { deleteDevice, loadDevice, saveDevice } from './keystore.js';

export const DEVICE_KEY_FIELDS = `${PUBLIC_FIELDS} label createdAt`;
const LOCK_NAME = 'realtalk.device-key';

/** userId → Promise of the device, so every caller shares one registration. */
const devices = new Map();
/** userId → the registered device key id. */
const settled = new Map();

function label() {
  const agent = navigator.userAgent;
  const browser = /Edg\//.test(agent) ? 'Edge' : /Firefox\//.test(agent) ? 'Firefox'
    : /Chromium\//.test(agent) ? 'Chromium' : /Chrome\//.test(agent) ? 'Chrome'
      : /Safari\//.test(agent) ? 'Safari' : 'Browser';
  const system = /Android/.test(agent) ? 'Android' : /iPhone|iPad/.test(agent) ? 'iOS'
    : /Mac OS X/.test(agent) ? 'macOS' : /Windows/.test(agent) ? 'Windows'
      : /Linux|X11/.test(agent) ? 'Linux' : 'unknown system';
  return `${browser} on ${system}`;
}

const withLock = (task) => (navigator.locks?.request ? navigator.locks.request(LOCK_NAME, task) : task());

async function loadOrCreate(userId) {
  return withLock(async () => {
    const existing = await loadDevice(userId);
    if (existing) return existing;
    const keys = await generateDeviceKeys();
    const record = {
      userId,
      identity: { publicKey: keys.identity.publicKey, privateKey: keys.identity.privateKey },
      encryption: { publicKey: keys.encryption.publicKey, privateKey: keys.encryption.privateKey },
      publicKey: await publicDeviceKey(userId, keys),
      deviceKeyId: null,
    };
    await saveDevice(record);
    return record;
  });
}

const publish = (record) => request(
  `mutation RegisterDevice($input: RegisterDeviceKeyInput!) { registerDeviceKey(input: $input) { ${DEVICE_KEY_FIELDS} } }`,
  { input: { ...record.publicKey, label: label() } },
);

async function register(userId) {
  let record = await loadOrCreate(userId);
  let data;
  try {
    data = await publish(record);
  } catch (error) {
    // CONFLICT: this browser's key was revoked (from another device, or by
    // deleting it in the profile). A revoked key never comes back, so this
    // browser becomes a new device; what was sealed to the old key stays
    // unreadable here, as it should.
    if (!(error instanceof GraphQLError) || error.code !== 'CONFLICT') throw error;
    await deleteDevice(userId);
    record = await loadOrCreate(userId);
    data = await publish(record);
  }
  const deviceKey = data.registerDeviceKey;
  settled.set(userId, deviceKey.id);
  if (record.deviceKeyId !== deviceKey.id) {
    record.deviceKeyId = deviceKey.id;
    await saveDevice(record);
  }
  return {
    userId,
    deviceKeyId: deviceKey.id,
    deviceKey,
    /** For seal/open: this device's id and ECDH private key. */
    self: { deviceKeyId: deviceKey.id, privateKey: record.encryption.privateKey },
  };
}

/**
 * This device for `userId`, registered: `{ deviceKeyId, deviceKey, self }`.
 * A failure (offline, no IndexedDB) is not remembered: the next call tries again.
 */
export function ensureDevice(userId) {
  let device = devices.get(userId);
  if (!device) {
    device = register(userId);
    devices.set(userId, device);
    device.catch(() => devices.delete(userId));
  }
  return device;
}

/** The device id once registration finished, else null (no waiting). */
export const knownDeviceKeyId = (userId) => settled.get(userId) ?? null;

/** Forgets the registration (e.g. the server no longer knows the key): the next ensureDevice registers again. */
export function forgetRegistration(userId) {
  devices.delete(userId);
  settled.delete(userId);
}
