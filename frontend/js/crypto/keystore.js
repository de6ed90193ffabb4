// Where a browser keeps its device keys: IndexedDB (database
// "realtalk-keys", store "devices", one record per signed-in user id),
// because it is the one storage that holds CryptoKey objects themselves:
// the non-extractable private keys are stored and used, never serialised
// into anything script could read. Signing out keeps the record, so the
// same browser is the same device the next time.

const DB_NAME = 'realtalk-keys';
const STORE = 'devices';

let opening = null;

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading (a later version) must not be blocked by us.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error ?? new Error('IndexedDB is not available'));
    };
    request.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  return opening;
}

async function run(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * The record for `userId`, or undefined: `{ userId, identity, encryption,
 * publicKey: { identityKey, encryptionKey, signature }, deviceKeyId }`
 * where `identity` and `encryption` are `{ publicKey, privateKey }` CryptoKeys.
 */
export const loadDevice = (userId) => run('readonly', (store) => store.get(userId));

export const saveDevice = (record) => run('readwrite', (store) => store.put(record, record.userId));

export const deleteDevice = (userId) => run('readwrite', (store) => store.delete(userId));
