// sona-wasm entry for workerd / Cloudflare Workers: the runtime imports the .wasm as a compiled
// WebAssembly.Module (wrangler's default rule for *.wasm), which is instantiated synchronously on import.
import wasmModule from './sona_wasm_bg.wasm';
import { initSync as initSyncGlue, WasmSonaEngine } from './sona_wasm.js';
import { installFastPaths } from './fast.js';

export * from './sona_wasm.js';

// applyLora, applyLoraInto, startTrajectory, addStep and findPatterns pass their vectors through
// the engine's staging area instead of a malloc + copy + free per argument (see fast.js).
installFastPaths(WasmSonaEngine);

const instance = initSyncGlue({ module: wasmModule });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
