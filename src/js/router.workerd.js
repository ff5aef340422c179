// sona-wasm/router entry for workerd / Cloudflare Workers: the runtime imports the .wasm as a compiled
// WebAssembly.Module (wrangler's default rule for *.wasm), which is instantiated synchronously on import.
import wasmModule from './router_wasm_bg.wasm';
import { initSync as initSyncGlue, FastGrnnRouter, RouterTrainer } from './router_wasm.js';
import { installRouterFastPaths } from './router_fast.js';

export * from './router_wasm.js';

// Argument type checks before anything reaches the wasm (guard.js), then the fast paths of the hot
// calls (router_fast.js).
installRouterFastPaths({ FastGrnnRouter, RouterTrainer });

const instance = initSyncGlue({ module: wasmModule });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
