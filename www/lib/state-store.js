// Saved engine states in IndexedDB: one record per key, holding the bytes from saveState() and a
// little metadata. Survives reloads; cleared with the site's data.

const DB_NAME = 'sona-wasm-demo';
const STORE = 'engine-states';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
  });
}

async function transaction(mode, body) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = body(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** Store `record` ({bytes: Uint8Array, ...metadata}) under `key`. */
export function saveRecord(key, record) {
  return transaction('readwrite', (store) => store.put(record, key));
}

/** The record stored under `key`, or undefined. */
export function loadRecord(key) {
  return transaction('readonly', (store) => store.get(key));
}
