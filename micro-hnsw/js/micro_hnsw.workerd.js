// sona-wasm/micro-hnsw entry for workerd / Cloudflare Workers: the .wasm arrives as a compiled
// WebAssembly.Module through the module import and is registered on import.
import wasmModule from './micro_hnsw.wasm';
import { initSync } from './micro_hnsw.js';

export * from './micro_hnsw.js';

initSync(wasmModule);
