// Types for every sona-wasm/router entry (browser/bundler, Node/Deno, workerd).
export * from './router_wasm.js';
import type { InitOutput } from './router_wasm.js';
import type { SonaInitSource } from './index.js';

/** What `init` accepts (the same as the `sona-wasm` entry's): a URL, a fetch `Request`/`Response` (or a promise of one), the `.wasm` bytes, or a compiled module. */
export type RouterInitSource = SonaInitSource;

/**
 * Initialise the router's WebAssembly module once; later calls resolve to the same instance.
 * In browsers and bundlers it fetches `router_wasm_bg.wasm` next to the entry unless `source` is given.
 * In Node, Deno and workerd the module is already initialised on import and this is a no-op.
 */
export default function init(source?: RouterInitSource): Promise<InitOutput>;

/** Initialise synchronously from the `.wasm` bytes or a compiled `WebAssembly.Module` (no-op where already initialised). */
export function initSync(source?: BufferSource | WebAssembly.Module): InitOutput;
