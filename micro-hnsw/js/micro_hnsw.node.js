// sona-wasm/micro-hnsw entry for Node.js and Deno: compiled from disk on import, ready to use.
// Read synchronously: no top-level await, so `require()` of this ES module works where Node allows
// it (20.19+, 22.12+) as well as `import`.
import { readFileSync } from 'node:fs';
import { initSync } from './micro_hnsw.js';

export * from './micro_hnsw.js';

initSync(readFileSync(new URL('./micro_hnsw.wasm', import.meta.url)));
