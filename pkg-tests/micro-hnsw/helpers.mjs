// Shared by the micro-HNSW tests: where the built package is, seeded data, and JS brute force.
// MICRO_HNSW_PKG (a directory holding micro_hnsw.wasm + micro_hnsw.node.js) overrides the repo's
// pkg/ for running these tests against another build.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const pkgDir = process.env.MICRO_HNSW_PKG
  ? pathToFileURL(process.env.MICRO_HNSW_PKG.replace(/\/?$/, '/'))
  : new URL('../../pkg/', import.meta.url);

export const wasmUrl = new URL('micro_hnsw.wasm', pkgDir);
export const wasmBytes = () => readFileSync(wasmUrl);

/** The wrapper, imported as a user would ('sona-wasm/micro-hnsw'), or from MICRO_HNSW_PKG. */
export async function importWrapper() {
  if (process.env.MICRO_HNSW_PKG) return import(new URL('micro_hnsw.node.js', pkgDir).href);
  return import('sona-wasm/micro-hnsw');
}

/** A fresh raw instance of the module (its own memory), no imports. */
export function rawCore(module) {
  return new WebAssembly.Instance(module, {}).exports;
}

/** Deterministic numbers in [-1, 1) (xorshift32). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2147483648 - 1;
  };
}

export function randomVectors(rand, n, dims) {
  return Array.from({ length: n }, () => Float32Array.from({ length: dims }, rand));
}

/** Reference distance in float64, smaller = closer, per metric code (0 L2², 1 cosine, 2 dot). */
export function refDistance(metric, a, b) {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i];
    const d = a[i] - b[i]; l2 += d * d;
  }
  if (metric === 0) return l2;
  if (metric === 2) return -dot;
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
}

/** Ids of the k nearest by brute force (float64), nearest first. */
export function bruteForce(metric, vectors, query, k) {
  return vectors
    .map((v, id) => ({ id, d: refDistance(metric, query, v) }))
    .sort((x, y) => x.d - y.d || x.id - y.id)
    .slice(0, k);
}

/** Reads n 8-byte result records at ptr: {idx, core, distance}. */
export function readRecords(memory, ptr, n) {
  const view = new DataView(memory.buffer, ptr, n * 8);
  return Array.from({ length: n }, (_, i) => ({
    idx: view.getUint8(i * 8), core: view.getUint8(i * 8 + 1), distance: view.getFloat32(i * 8 + 4, true),
  }));
}

/** CRC-32 (IEEE: polynomial 0xEDB88320 reflected, init and final xor all ones), bit by bit —
 * written from its definition, independent of the wrapper's table-driven one. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (c & 1 ? 0xedb88320 : 0);
  }
  return (c ^ 0xffffffff) >>> 0;
}
