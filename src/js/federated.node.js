// sona-wasm/federated entry for Node.js and Deno: sona_federated_bg.wasm is read from disk and instantiated
// on import, so `import { WasmFederatedCoordinator } from 'sona-wasm/federated'` is ready to use; `await init()` is a no-op.
// Read synchronously: no top-level await, so `require()` of this ES module works where Node allows
// it (20.19+, 22.12+) as well as `import`.
import { readFileSync } from 'node:fs';
import { initSync as initSyncGlue, WasmSonaEngine, WasmEphemeralAgent, WasmFederatedCoordinator } from './sona_federated.js';
import { installFastPaths } from './fast.js';
import { guardFederated } from './guard.js';

export * from './sona_federated.js';

// The same fast paths as the 'sona-wasm' entries (see fast.js).
installFastPaths(WasmSonaEngine);
// Argument type checks before anything reaches the wasm (see guard.js).
guardFederated({ WasmEphemeralAgent, WasmFederatedCoordinator });

const instance = initSyncGlue({ module: readFileSync(new URL('./sona_federated_bg.wasm', import.meta.url)) });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
