// sona-wasm/router entry for Node.js and Deno: router_wasm_bg.wasm is read from disk and instantiated
// on import, so `import { FastGrnnRouter } from 'sona-wasm/router'` is ready to use; `await init()` is a no-op.
// Read synchronously: no top-level await, so `require()` of this ES module works where Node allows
// it (20.19+, 22.12+) as well as `import`.
import { readFileSync } from 'node:fs';
import { initSync as initSyncGlue, FastGrnnRouter, RouterTrainer } from './router_wasm.js';
import { installRouterFastPaths } from './router_fast.js';

export * from './router_wasm.js';

// Argument type checks before anything reaches the wasm (guard.js), then the fast paths of the hot
// calls (router_fast.js).
installRouterFastPaths({ FastGrnnRouter, RouterTrainer });

const instance = initSyncGlue({ module: readFileSync(new URL('./router_wasm_bg.wasm', import.meta.url)) });

/** Already initialised on import; resolves to the module's exports. */
export default async function init() {
  return instance;
}

/** Already initialised on import; returns the module's exports. */
export function initSync() {
  return instance;
}
