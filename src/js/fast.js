// Fast paths for the hot `WasmSonaEngine` calls, shared by every entry (index.js, index.node.js,
// index.workerd.js). wasm-bindgen passes each Float32Array argument by allocating wasm memory,
// copying the array in and freeing it afterwards, and returns results by another copy; here the
// vectors are written straight into the engine's staging area (a fixed view of wasm memory, see
// `_stage()` in src/wasm.rs; a plain array is first converted into JS-owned memory by guard.js's
// floatsOf, as its elements may run user code) and a staging-area export is called instead. The
// API and its semantics are unchanged: anything the fast path does not handle (wrong length, another kind of
// argument, a freed engine) goes to the wasm-bindgen method, which throws the same named errors;
// values the core rejects (NaN, ±Infinity, unknown ids, out-of-range quality, …) make a staged
// export report failure before any state changes, and the call is then repeated through the
// wasm-bindgen method, which throws the core's named error. endTrajectory and applyLoraBuffers take
// no vector but get the same status route (no two-value return per call).

import { floatsOf, guardSonaEngine, isFloatOutput, replaceMethods, replacedMethodsOf } from './guard.js';

/** Names of `SonaPattern.pattern_type`, by the index the core stores. */
const PATTERN_TYPES = ['general', 'reasoning', 'factual', 'creative', 'codegen', 'conversational'];
/** Numbers per hit left by `_findPatternsStaged` (PATTERN_RECORD in src/wasm.rs). */
const RECORD = 9;
/** The view of an engine's `_patternHeader()` (addresses of the last findPatterns hits). */
const HEADER = Symbol('sona-wasm pattern header');
const STAGE = Symbol('sona-wasm staging view');
/** The staging view's second half (a subarray kept so the hot calls create no view per call). */
const STAGE_OUT = Symbol('sona-wasm staging output');

/**
 * Result arrays are carved out of shared slabs, as Node's `Buffer` pool does: creating a view on an
 * existing ArrayBuffer costs a fraction of allocating a new backing store (which alone takes longer
 * than the whole MicroLoRA forward at 256-d, and a quarter of a findPatterns call). Each result is
 * its own region — writing one never changes another — but its `.buffer` is the slab: to transfer
 * a result to a worker (or to hand `.buffer` to an API that reads all of it), copy it first with
 * `.slice()`. Results larger than half a slab get their own ArrayBuffer. A slab that was
 * transferred anyway (detached, byteLength 0) is simply replaced.
 * @param {number} slabBytes
 * @returns {(length: number) => Float32Array} a new region of `length` floats (contents unspecified)
 */
function slabAllocator(slabBytes) {
  let slab = new ArrayBuffer(0);
  let used = 0;
  return (length) => {
    const bytes = length << 2;
    if (bytes > slabBytes >> 1) return new Float32Array(length);
    if (used + bytes > slab.byteLength) {
      slab = new ArrayBuffer(slabBytes);
      used = 0;
    }
    const out = new Float32Array(slab, used, length);
    used += (bytes + 15) & ~15; // 16-byte aligned regions
    return out;
  };
}

/** `applyLora` results: 8 KiB slabs (a 256-d result is 1 KiB). */
const loraRegion = slabAllocator(8192);
/** `findPatterns` vectors, one region per call (k = 5 at 256-d: 10 KiB): 32 KiB slabs. */
const patternRegion = slabAllocator(32768);

/** A new Float32Array holding a copy of `src` (see slabAllocator). */
function resultArray(src) {
  const out = loraRegion(src.length);
  out.set(src);
  return out;
}

/**
 * The wasm-bindgen methods that `installFastPaths(Engine)` replaced (`applyLora`, …), for
 * benchmarks comparing the two routes; undefined before installation.
 */
export const bindgenMethodsOf = replacedMethodsOf;

const isVector = (v) => v instanceof Float32Array || Array.isArray(v);

/**
 * The staging view of `engine` with `input` written into its first half, or null when the fast
 * path does not apply (then the caller uses the wasm-bindgen method).
 */
function stage(engine, input) {
  if (engine.__wbg_ptr === 0 || !isVector(input)) return null;
  let view = engine[STAGE];
  // A view detaches (length 0) when wasm memory grows.
  if (view === undefined || view.length === 0) {
    view = engine[STAGE] = engine._stage();
    engine[STAGE_OUT] = view.subarray(view.length >> 1);
  }
  if (input.length !== view.length >> 1) return null;
  view.set(input);
  return view;
}

/** `Date.now()` as the clock; a replaced Date.now may return anything, and only a number goes on
 * (NaN fails the staged call, and the wasm-bindgen method then refuses the clock by name). */
function clock() {
  const now = Date.now();
  return typeof now === 'number' ? now : NaN;
}

/** The `SonaConfig` fields the core stores as f32. */
const F32_CONFIG_FIELDS = ['micro_lora_lr', 'base_lora_lr', 'ewc_lambda', 'quality_threshold'];

/** The shortest decimal (up to 9 significant digits, which always suffice) that rounds to the f32 `x`. */
function shortestF32(x) {
  if (typeof x !== 'number' || !Number.isFinite(x) || Math.fround(x) !== x) return x;
  for (let digits = 1; digits < 9; digits++) {
    const y = Number(x.toPrecision(digits));
    if (Math.fround(y) === x) return y;
  }
  return Number(x.toPrecision(9));
}

/** Installs the fast paths on `Engine` (the `WasmSonaEngine` class of one glue module), once. */
export function installFastPaths(Engine) {
  // Argument type checks (guard.js) go in front of the wasm-bindgen methods first; the fast paths
  // below replace the hot ones and make the same checks themselves for the arguments they hand to
  // the wasm (vectors: Float32Array or array; numbers: typeof 'number'; a live engine), sending
  // anything else to the guarded wasm-bindgen method, which throws the named Error. One wrapper
  // less per hot call.
  guardSonaEngine(Engine);
  // The guarded wasm-bindgen methods, the fallbacks (set below, before any call).
  let applyLora, applyLoraInto, applyLoraBuffers, startTrajectory, addStep, endTrajectory, findPatterns, bindgenGetConfig;

  // The staged exports answer with a status (false / -1: bad input, nothing changed) instead of
  // throwing, which saves wasm-bindgen's two-value return (a new JS array per call in V8); on a bad
  // status the call is repeated through the wasm-bindgen method, which throws the named Error.

  const methods = {
    applyLora(input) {
      input = floatsOf(input, false, 'input');
      const view = stage(this, input);
      if (view === null || !this._applyLoraStaged()) return applyLora.call(this, input);
      return resultArray(this[STAGE_OUT]);
    },
    applyLoraInto(input, output) {
      input = floatsOf(input, false, 'input');
      const view = isFloatOutput(output) ? stage(this, input) : null;
      if (view === null || output.length !== view.length >> 1 || !this._applyLoraStaged()) {
        return applyLoraInto.call(this, input, output);
      }
      output.set(this[STAGE_OUT]);
    },
    applyLoraBuffers() {
      if (this.__wbg_ptr === 0 || !this._applyLoraBuffersOk()) applyLoraBuffers.call(this);
    },
    startTrajectory(queryEmbedding) {
      queryEmbedding = floatsOf(queryEmbedding, false, 'queryEmbedding');
      const id = stage(this, queryEmbedding) === null ? -1 : this._startTrajectoryStaged();
      return id >= 0 ? id : startTrajectory.call(this, queryEmbedding);
    },
    addStep(trajectoryId, activations, attentionWeights, reward) {
      if (!isVector(attentionWeights) || typeof trajectoryId !== 'number' || typeof reward !== 'number') {
        return addStep.call(this, trajectoryId, activations, attentionWeights, reward);
      }
      // The weights first, into an array of their own: converting them runs user code, which must
      // not find the activations already in floatsOf's shared buffer.
      attentionWeights = floatsOf(attentionWeights, true, 'attentionWeights');
      activations = floatsOf(activations, false, 'activations');
      const view = stage(this, activations);
      const dim = view === null ? 0 : view.length >> 1;
      if (view === null || attentionWeights.length > dim) {
        return addStep.call(this, trajectoryId, activations, attentionWeights, reward);
      }
      if (attentionWeights.length !== 0) view.set(attentionWeights, dim);
      if (!this._addStepStaged(trajectoryId, attentionWeights.length, reward)) {
        addStep.call(this, trajectoryId, activations, attentionWeights, reward);
      }
    },
    endTrajectory(trajectoryId, quality) {
      // A quality outside [0, 1] goes to the guarded method too, which names it: the core checks
      // the f32 it rounds to, and 1.00000001 would pass there as 1.
      if (this.__wbg_ptr === 0 || typeof trajectoryId !== 'number' || typeof quality !== 'number'
        || !(quality >= 0 && quality <= 1) || !this._endTrajectoryOk(trajectoryId, quality)) {
        endTrajectory.call(this, trajectoryId, quality);
      }
    },
    findPatterns(query, k) {
      query = floatsOf(query, false, 'query');
      const view = typeof k === 'number' ? stage(this, query) : null;
      const n = view === null ? -1 : this._findPatternsStaged(k, clock());
      if (n < 0) return findPatterns.call(this, query, k);
      const out = new Array(n);
      if (n === 0) return out;
      const dim = view.length >> 1;
      let header = this[HEADER];
      if (header === undefined || header.length === 0) header = this[HEADER] = this._patternHeader();
      // One copy of all hits' vectors (each object gets views of it) and the numbers read in place.
      const vectors = patternRegion(n * 2 * dim);
      vectors.set(new Float32Array(header.buffer, header[0], n * 2 * dim));
      const meta = new Float64Array(header.buffer, header[1], n * RECORD);
      for (let j = 0, m = 0, v = 0; j < n; j++, m += RECORD, v += 2 * dim) {
        out[j] = {
          id: meta[m],
          centroid: vectors.subarray(v, v + dim),
          direction: vectors.subarray(v + dim, v + 2 * dim),
          cluster_size: meta[m + 1],
          total_weight: meta[m + 2],
          avg_quality: meta[m + 3],
          created_at: meta[m + 4],
          last_accessed: meta[m + 5],
          access_count: meta[m + 6],
          pattern_type: PATTERN_TYPES[meta[m + 7]],
          similarity: meta[m + 8],
        };
      }
      return out;
    },
  };
  methods.getConfig = function getConfig() {
    // The core keeps these fields as f32: each is given back as the shortest decimal that rounds
    // to that f32, so withConfig({ micro_lora_lr: 0.002 }).getConfig().micro_lora_lr is 0.002,
    // not 0.0020000000949949026 (and feeding the object back to withConfig gives the same f32s).
    const config = bindgenGetConfig.call(this);
    for (const key of F32_CONFIG_FIELDS) config[key] = shortestF32(config[key]);
    return config;
  };
  const bindgen = replaceMethods(Engine, methods);
  if (bindgen === undefined) return; // installed already
  ({ applyLora, applyLoraInto, applyLoraBuffers, startTrajectory, addStep, endTrajectory, findPatterns } = bindgen);
  bindgenGetConfig = bindgen.getConfig;
}
