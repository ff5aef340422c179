// sona-wasm/micro-hnsw entry for Node.js and Deno: compiled from disk on import, ready to use.
import { readFile } from 'node:fs/promises';
import { initSync } from './micro_hnsw.js';

export * from './micro_hnsw.js';

initSync(await readFile(new URL('./micro_hnsw.wasm', import.meta.url)));
