// sona-wasm/router entry for browsers and bundlers: the FastGRNN router only (its own small
// router_wasm_bg.wasm; the SONA engine is not loaded).
//
//   import init, { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
//   await init();                  // fetches router_wasm_bg.wasm next to this file
//   await init(urlOrBytesOrModule) // or from a URL, a Response, bytes, or a WebAssembly.Module
//
// Node and Deno resolve 'sona-wasm/router' to router.node.js (initialised on import), workerd/Cloudflare
// Workers to router.workerd.js (the .wasm imported as a module). `init()` is idempotent everywhere.
import initGlue, { initSync as initSyncGlue, FastGrnnRouter, RouterTrainer } from './router_wasm.js';
import { installRouterFastPaths } from './router_fast.js';

export * from './router_wasm.js';

// Argument type checks before anything reaches the wasm (guard.js), then the fast paths of the hot
// calls (router_fast.js).
installRouterFastPaths({ FastGrnnRouter, RouterTrainer });

/**
 * Initialise the router module once. `source` may be a URL or string, a `Request`/`Response` (or a
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
