// Types for every sona-wasm/federated entry (browser/bundler, Node/Deno, workerd).
export * from './sona_federated.js';
import type { InitOutput } from './sona_federated.js';
import type { SonaInitSource } from './index.js';

/** What `init` accepts (the same as the `sona-wasm` entry's): a URL, a fetch `Request`/`Response` (or a promise of one), the `.wasm` bytes, or a compiled module. */
export type FederatedInitSource = SonaInitSource;

/**
 * Initialise the federated WebAssembly module once; later calls resolve to the same instance.
 * In browsers and bundlers it fetches `sona_federated_bg.wasm` next to the entry unless `source` is given.
 * In Node, Deno and workerd the module is already initialised on import and this is a no-op.
 */
export default function init(source?: FederatedInitSource): Promise<InitOutput>;

/** Initialise synchronously from the `.wasm` bytes or a compiled `WebAssembly.Module` (no-op where already initialised). */
export function initSync(source?: BufferSource | WebAssembly.Module): InitOutput;
