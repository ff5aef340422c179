// sona-wasm/federated entry for Node.js and Deno: sona_federated_bg.wasm is read from disk and instantiated
// on import, so `import { WasmFederatedCoordinator } from 'sona-wasm/federated'` is ready to use; `await init()` is a no-op.
import { readFile } from 'node:fs/promises';
import { initSync as initSyncGlue } from './sona_federated.js';

export * from './sona_federated.js';

const instance = initSyncGlue({ module: await readFile(new URL('./sona_federated_bg.wasm', import.meta.url)) });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
