// sona-wasm entry for Node.js and Deno: the .wasm is read from disk and instantiated on import,
// so `import { WasmSonaEngine } from 'sona-wasm'` is ready to use; `await init()` is a harmless no-op.
// Read synchronously: no top-level await, so `require()` of this ES module works where Node allows
// it (20.19+, 22.12+) as well as `import`.
import { readFileSync } from 'node:fs';
import { initSync as initSyncGlue, WasmSonaEngine } from './sona_wasm.js';
import { installFastPaths } from './fast.js';

export * from './sona_wasm.js';

// applyLora, applyLoraInto, startTrajectory, addStep and findPatterns pass their vectors through
// the engine's staging area instead of a malloc + copy + free per argument (see fast.js).
installFastPaths(WasmSonaEngine);

const instance = initSyncGlue({ module: readFileSync(new URL('./sona_wasm_bg.wasm', import.meta.url)) });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
