// sona-wasm entry for browsers and bundlers.
//
//   import init, { WasmSonaEngine } from 'sona-wasm';
//   await init();                 // fetches sona_wasm_bg.wasm next to this file
//   await init(urlOrBytesOrModule) // or from a URL, a Response, bytes, or a WebAssembly.Module
//
// Node and Deno resolve 'sona-wasm' to index.node.js (initialised on import), workerd/Cloudflare
// Workers to index.workerd.js (the .wasm imported as a module). `init()` is idempotent everywhere.
import initGlue, { initSync as initSyncGlue, WasmSonaEngine } from './sona_wasm.js';
import { installFastPaths } from './fast.js';

export * from './sona_wasm.js';

// applyLora, applyLoraInto, startTrajectory, addStep and findPatterns pass their vectors through
// the engine's staging area instead of a malloc + copy + free per argument (see fast.js).
installFastPaths(WasmSonaEngine);

/**
 * Initialise the module once. `source` may be a URL or string, a `Request`/`Response` (or a promise of
 * one), a `BufferSource` with the `.wasm` bytes, or a compiled `WebAssembly.Module`. Without it the
 * `.wasm` beside this file is fetched. Later calls return the same instance.
 */
export default function init(source) {
  return source === undefined ? initGlue() : initGlue({ module_or_path: source });
}

/** Initialise synchronously from the `.wasm` bytes or a compiled `WebAssembly.Module`. */
export function initSync(source) {
  return initSyncGlue({ module: source });
}
