// sona-wasm/federated entry for browsers and bundlers: federated learning (WasmEphemeralAgent,
// WasmFederatedCoordinator) plus WasmSonaEngine, in their own sona_federated_bg.wasm (the 'sona-wasm'
// module stays small; instances of the two modules are separate and do not share objects).
//
//   import init, { WasmEphemeralAgent, WasmFederatedCoordinator } from 'sona-wasm/federated';
//   await init();                  // fetches sona_federated_bg.wasm next to this file
//   await init(urlOrBytesOrModule) // or from a URL, a Response, bytes, or a WebAssembly.Module
//
// Node and Deno resolve 'sona-wasm/federated' to federated.node.js (initialised on import), workerd/Cloudflare
// Workers to federated.workerd.js (the .wasm imported as a module). `init()` is idempotent everywhere.
import initGlue, { initSync as initSyncGlue, WasmSonaEngine, WasmEphemeralAgent, WasmFederatedCoordinator } from './sona_federated.js';
import { installFastPaths } from './fast.js';
import { guardFederated } from './guard.js';

export * from './sona_federated.js';

// The same fast paths as the 'sona-wasm' entries (see fast.js).
installFastPaths(WasmSonaEngine);
// Argument type checks before anything reaches the wasm (see guard.js).
guardFederated({ WasmEphemeralAgent, WasmFederatedCoordinator });

/**
 * Initialise the federated module once. `source` may be a URL or string, a `Request`/`Response` (or a
 * promise of one), a `BufferSource` with the `.wasm` bytes, or a compiled `WebAssembly.Module`.
 * Without it the `.wasm` beside this file is fetched. Later calls return the same instance.
 */
export default function init(source) {
  return source === undefined ? initGlue() : initGlue({ module_or_path: source });
}

/** Initialise synchronously from the `.wasm` bytes or a compiled `WebAssembly.Module`. */
export function initSync(source) {
  return initSyncGlue({ module: source });
}
