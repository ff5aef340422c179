// Types for every sona-wasm entry (browser/bundler, Node/Deno, workerd).
export * from './sona_wasm.js';
import type { InitOutput } from './sona_wasm.js';

/** What `init` accepts: a URL, a fetch `Request`/`Response` (or a promise of one), the `.wasm` bytes, or a compiled module. */
export type SonaInitSource =
  | string
  | URL
  | Request
  | Response
  | Promise<Response>
  | BufferSource
  | WebAssembly.Module;

/**
 * Initialise the WebAssembly module once; later calls resolve to the same instance.
 * In browsers and bundlers it fetches `sona_wasm_bg.wasm` next to the entry unless `source` is given.
 * In Node, Deno and workerd the package is already initialised on import and this is a no-op.
 */
export default function init(source?: SonaInitSource): Promise<InitOutput>;

/** Initialise synchronously from the `.wasm` bytes or a compiled `WebAssembly.Module` (no-op where already initialised). */
export function initSync(source?: BufferSource | WebAssembly.Module): InitOutput;
