// sona-wasm/federated entry for workerd / Cloudflare Workers: the runtime imports the .wasm as a compiled
// WebAssembly.Module (wrangler's default rule for *.wasm), which is instantiated synchronously on import.
import wasmModule from './sona_federated_bg.wasm';
import { initSync as initSyncGlue, WasmSonaEngine, WasmEphemeralAgent, WasmFederatedCoordinator } from './sona_federated.js';
import { installFastPaths } from './fast.js';
import { guardFederated } from './guard.js';

export * from './sona_federated.js';

// The same fast paths as the 'sona-wasm' entries (see fast.js).
installFastPaths(WasmSonaEngine);
// Argument type checks before anything reaches the wasm (see guard.js).
guardFederated({ WasmEphemeralAgent, WasmFederatedCoordinator });

const instance = initSyncGlue({ module: wasmModule });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
