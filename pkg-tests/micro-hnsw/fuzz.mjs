// Seeded random-sequence fuzzer of micro_hnsw.wasm's raw ABI and of the MicroHnsw /
// MicroHnswCluster wrapper. It interleaves valid calls with hostile ones and, after every call,
// checks the package's robustness contract (README "The raw ABI", micro-hnsw/README.md):
//   raw ABI — no export traps; an integer argument acts as its value modulo its type's range (a
//     twin instance gets the reduced arguments and must end in the same memory with the same
//     answer); documented bad input returns the documented sentinel and leaves the core's state
//     (all of memory above the stack) unchanged; structural invariants hold after valid calls.
//   wrapper — nothing but an Error (never a WebAssembly.RuntimeError) is thrown, with a message;
//     after a rejected call the memory of every core is unchanged apart from the insert/query
//     staging buffers; an accepted call passed the raw ABI only arguments it accepts (no silent
//     sentinel) and returned what its documentation promises.
// `fuzzRaw(seed, steps)` / `fuzzWrapper(api, seed, steps)` return the number of calls checked and
// throw an Error describing the first violation together with the call that caused it.
//   node pkg-tests/micro-hnsw/fuzz.mjs [steps] [seeds]   (a long run from the command line)
import { crc32 } from './helpers.mjs';

const STACK_BYTES = 16384; // build.rs: a 16 KiB stack below the static core
const CAPACITY = 32;
const MAX_DIMS = 16;

/** xorshift32: a deterministic stream of 32-bit integers for `seed`. */
function prng(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const r = {
    int: (n) => next() % n,
    float: () => next() / 4294967296,
    pick: (list) => list[next() % list.length],
    chance: (p) => next() / 4294967296 < p,
    u32: next,
  };
  return r;
}

const f32 = Math.fround;
const isF32Finite = (x) => Number.isFinite(f32(x));
const validDt = (dt) => f32(dt) > 0 && f32(dt) <= 1000;

/** Numbers a raw f32 parameter may receive. */
const HOSTILE_F32 = [NaN, Infinity, -Infinity, 1e39, -1e39, 3.4e38, -3.4e38, 0, -0, 1e-46, -1e-46,
  1e-40, 1e-3, 0.5, 1, 2, 1000, 1000.0001, 1001, -1, 32768, -32768, 1e9, 1e15, 2e18, 1e30];
/** Integers a raw integer parameter may receive (JS → i32 by ToInt32). */
const HOSTILE_INT = [0, 1, 2, 5, 15, 16, 17, 31, 32, 33, 255, 256, 257, 288, 511, 65535, 65536, 65537,
  -1, -2, -255, -256, -257, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32 + 3, 1.5, -0.5, NaN, Infinity];

function rawFloat(r) {
  if (r.chance(0.15)) return r.pick(HOSTILE_F32);
  return 8 * r.float() - 4;
}

function rawInt(r, small) {
  if (r.chance(0.35)) return r.pick(HOSTILE_INT);
  return r.int(small);
}

/** The ToInt32 value wasm receives, reduced modulo 2^bits as the README documents. */
function reduce(v, bits) {
  const i = v | 0; // ToInt32, as the JS → wasm i32 conversion does
  return bits === 32 ? i : i & ((1 << bits) - 1);
}

function finitePrefix(view, dims) {
  for (let i = 0; i < dims; i++) if (!Number.isFinite(view[i])) return false;
  return true;
}

class RawCore {
  constructor(module) {
    this.x = new WebAssembly.Instance(module, {}).exports;
    this.x.count(); // the first call initialises the static core
  }
  get mem() { return new Uint8Array(this.x.memory.buffer); }
  f32s(ptr, n = MAX_DIMS) { return new Float32Array(this.x.memory.buffer, ptr, n); }
  /** Everything above the stack: the core's whole state (and its staging buffers). */
  state() { return this.mem.slice(STACK_BYTES); }
}

function firstDiff(a, b) {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i + STACK_BYTES}: ${a[i]} vs ${b[i]}`;
  return null;
}

const bits = (n) => { let c = 0; for (let v = n >>> 0; v; v &= v - 1) c++; return c; };

/** Invariants of a core's state after any call (the documented formats and ranges). */
function rawInvariants(x) {
  const n = x.count();
  if (n > CAPACITY) return `count ${n} > 32`;
  const dims = x.get_dims();
  if (dims < 1 || dims > MAX_DIMS) return `dims ${dims}`;
  if (x.get_metric() > 2) return `metric ${x.get_metric()}`;
  const mem = x.memory.buffer;
  const th = new Int32Array(mem, x.snn_get_threshold_ptr(), CAPACITY);
  for (let i = 0; i < n; i++) {
    if (th[i] < 4096 || th[i] > 64 * 65536) return `threshold[${i}] = ${th[i] / 65536} outside [1/16, 64]`;
    const m = x.snn_get_membrane(i);
    if (!(Math.abs(m) <= 32768)) return `membrane[${i}] = ${m}`;
    const rate = x.get_spike_rate(i);
    if (!(rate >= 0 && rate <= 32768)) return `spike rate[${i}] = ${rate}`;
    const res = x.compute_resonance(i);
    if (!(res >= -1 && res <= 1)) return `resonance[${i}] = ${res}`;
  }
  const syn = new Uint8Array(mem, x.snn_get_synapse_ptr(), 416);
  for (let i = 0; i < n; i++) {
    const c = syn[192 + i];
    if (c > 6) return `synapse count[${i}] = ${c}`;
    for (let j = 0; j < c; j++) if (syn[i * 6 + j] >= n) return `synapse target[${i}][${j}] = ${syn[i * 6 + j]} with ${n} nodes`;
  }
  const phase = x.oscillator_get_phase();
  if (!(phase >= 0 && phase < 2 * Math.PI + 1e-6)) return `phase ${phase}`;
  const spikes = x.snn_get_spikes() >>> 0;
  if (n < 32 && spikes >>> n !== 0) return `spike bitmap ${spikes.toString(2)} names neurons ≥ count ${n}`;
  return null;
}

/**
 * The raw exports the fuzzer calls: argument kinds ('u8', 'u16', 'u32', 'f32', 'dt', 'ptr') and,
 * from the reduced arguments and the state before, whether the call is documented as rejected and
 * its sentinel (undefined for a void export).
 */
function rawOps() {
  const badIdx = (x, i) => i >= x.count();
  const badK = (x, k) => k === 0 || k > 16 || x.count() === 0;
  const query = (c) => finitePrefix(c.f32s(c.x.get_query_ptr()), c.x.get_dims());
  const bad = (x) => !Number.isFinite(x);
  const badDt = (dt) => !(dt > 0 && dt <= 1000);
  return [
    ['insert', [], (c) => c.x.count() === CAPACITY || !finitePrefix(c.f32s(c.x.get_insert_ptr()), c.x.get_dims()), 255],
    ['search', ['u8'], (c, [k]) => badK(c.x, k) || !query(c), 0],
    ['search_within', ['u8', 'f32'], (c, [k, b]) => badK(c.x, k) || Number.isNaN(b) || !query(c), 0],
    ['merge', ['ptr', 'u8'], (c, [p, n]) => n > 16 || (p >>> 0) + n * 8 > c.x.memory.buffer.byteLength, 0],
    ['clear_global', [], null],
    ['set_node_type', ['u8', 'u8'], (c, [i, t]) => badIdx(c.x, i) || t >= 16, undefined],
    ['get_node_type', ['u8'], (c, [i]) => badIdx(c.x, i), 255],
    ['type_matches', ['u8', 'u16'], (c, [i]) => badIdx(c.x, i), 0],
    ['set_edge_weight', ['u8', 'u8'], (c, [i]) => badIdx(c.x, i), undefined],
    ['get_edge_weight', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['aggregate_neighbors', ['u8'], (c, [i]) => badIdx(c.x, i), undefined],
    ['update_vector', ['u8', 'f32'], (c, [i, a]) => badIdx(c.x, i) || bad(a), undefined],
    ['hnsw_to_snn', ['u8', 'f32'], (c, [k, g]) => bad(g) || badK(c.x, k) || !query(c), 0],
    ['snn_reset', [], null],
    ['snn_set_membrane', ['u8', 'f32'], (c, [i, v]) => badIdx(c.x, i) || bad(v), undefined],
    ['snn_get_membrane', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['snn_set_threshold', ['u8', 'f32'], (c, [i, v]) => badIdx(c.x, i) || bad(v), undefined],
    ['snn_inject', ['u8', 'f32'], (c, [i, v]) => badIdx(c.x, i) || bad(v), undefined],
    ['snn_spiked', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['snn_get_spikes', [], null],
    ['snn_step', ['dt'], (c, [dt]) => badDt(dt), 0],
    ['snn_propagate', ['f32'], (c, [g]) => bad(g), undefined],
    ['snn_stdp', [], null],
    ['snn_tick', ['dt', 'f32', 'u8'], (c, [dt, g]) => badDt(dt) || bad(g), 0],
    ['snn_get_time', [], null],
    ['encode_vector_to_spikes', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['spike_timing_similarity', ['u32', 'u32'], null],
    ['spike_search', ['u32', 'u8'], (c, [, k]) => badK(c.x, k), 0],
    ['homeostatic_update', ['dt'], (c, [dt]) => badDt(dt), undefined],
    ['get_spike_rate', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['oscillator_step', ['dt'], (c, [dt]) => badDt(dt), undefined],
    ['oscillator_get_phase', [], null],
    ['compute_resonance', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['resonance_search', ['u8', 'f32'], (c, [k, w]) => badK(c.x, k) || bad(w) || !query(c), 0],
    ['wta_reset', [], null],
    ['wta_compete', [], (c) => c.x.count() === 0, 255],
    ['wta_soft', [], null],
    ['dendrite_reset', [], null],
    ['dendrite_inject', ['u8', 'u8', 'f32'], (c, [n, b, i]) => badIdx(c.x, n) || b > 5 || bad(i), undefined],
    ['dendrite_integrate', ['u8'], (c, [n]) => badIdx(c.x, n), 0],
    ['dendrite_propagate', ['f32'], (c, [g]) => bad(g), undefined],
    ['pattern_record', [], null],
    ['get_pattern', ['u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['pattern_match', ['u32'], (c) => c.x.count() === 0, 255],
    ['pattern_correlate', ['u8', 'u8'], (c, [i]) => badIdx(c.x, i), 0],
    ['neuromorphic_search', ['u8', 'dt', 'u8'], (c, [k, dt]) => badK(c.x, k) || badDt(dt) || !query(c), 0],
    ['get_network_activity', [], null],
    ['init', ['u8', 'u8', 'u8'], (c, [d, m]) => d === 0 || d > 16 || m > 2, undefined],
  ];
}

function rawArg(r, kind, c) {
  switch (kind) {
    case 'u8': return rawInt(r, Math.max(1, c.x.count() + 2));
    case 'u16': return r.chance(0.3) ? r.pick(HOSTILE_INT) : r.int(65536);
    case 'u32': return r.chance(0.3) ? r.pick(HOSTILE_INT) : r.u32();
    case 'f32': return rawFloat(r);
    case 'dt': return r.chance(0.3) ? r.pick(HOSTILE_F32) : 0.05 + 5 * r.float();
    case 'ptr': {
      const x = c.x;
      return r.pick([x.get_result_ptr(), x.get_global_ptr(), x.get_result_ptr() + 3, 0, 65536 - 64, 65536 - 8,
        65536, 65537, -8, -1, 2 ** 31, x.get_vectors_ptr()]);
    }
  }
  throw new Error(kind);
}

/** The reduced argument a twin receives: u8/u16 modulo their range, f32 rounded, ptr as u32. */
function reduced(kind, v) {
  switch (kind) {
    case 'u8': return reduce(v, 8);
    case 'u16': return reduce(v, 16);
    case 'u32': return v >>> 0;
    case 'ptr': return v | 0;
    default: return f32(v);
  }
}

/** One raw step: maybe fill a staging buffer (insert/query/delta), then call one export. */
export function fuzzRaw(module, seed, steps) {
  const r = prng(seed);
  const a = new RawCore(module); // receives the arguments as generated
  const b = new RawCore(module); // receives them reduced as documented
  const ops = rawOps();
  const dims0 = 1 + r.int(16);
  const metric0 = r.int(3);
  a.x.init(dims0, metric0, 7);
  b.x.init(dims0, metric0, 7);
  let checked = 0;
  const log = [];
  for (let step = 0; step < steps; step++) {
    // Staging buffers: mostly useful vectors, sometimes NaN/∞/huge components.
    if (r.chance(0.5)) {
      const which = r.pick(['get_insert_ptr', 'get_insert_ptr', 'get_query_ptr', 'set_delta_ptr']);
      const vals = Array.from({ length: MAX_DIMS }, () => (r.chance(0.05) ? r.pick(HOSTILE_F32) : 2 * r.float() - 1));
      for (const c of [a, b]) c.f32s(c.x[which]()).set(vals);
      log.push(`${which} ← [${vals.map((v) => f32(v)).join(', ')}]`);
    }
    const [name, kinds, rejects, sentinel] = r.chance(0.25) && b.x.count() < CAPACITY && !r.chance(0.1) ? ops[0] : r.pick(ops);
    if (name === 'init' && !r.chance(0.05)) continue; // a valid init wipes the core: rarely
    const args = kinds.map((k) => rawArg(r, k, b));
    const red = kinds.map((k, i) => (k === 'dt' ? f32(args[i]) : reduced(k, args[i])));
    const call = `${name}(${args.join(', ')})`;
    log.push(call);
    if (log.length > 12) log.shift();
    const fail = (what) => {
      throw new Error(`raw ABI seed ${seed} step ${step}: ${call}: ${what}\nlast calls:\n  ${log.join('\n  ')}`);
    };
    const before = b.state();
    const rejected = rejects ? rejects(b, red) : false;
    let ra, rb;
    try { ra = a.x[name](...args); } catch (e) { fail(`trapped with the arguments as given: ${e}`); }
    try { rb = b.x[name](...red); } catch (e) { fail(`trapped with reduced arguments ${red.join(', ')}: ${e}`); }
    const same = (u, v) => Object.is(u, v) || (Number.isNaN(u) && Number.isNaN(v));
    if (!same(ra, rb)) fail(`answered ${ra}, but ${rb} with the documented reduction (${red.join(', ')})`);
    const d = firstDiff(a.state(), b.state());
    if (d) fail(`state differs from the documented reduction (${red.join(', ')}) at ${d}`);
    if (rejected) {
      if (sentinel !== undefined && !same(rb, sentinel)) fail(`bad input answered ${rb}, documented sentinel ${sentinel}`);
      const after = b.state();
      const diff = firstDiff(before, after);
      if (diff) fail(`bad input changed the state at ${diff}`);
    } else if (name === 'insert' && rb === 255) {
      fail('a valid insert was rejected');
    }
    const inv = rawInvariants(b.x);
    if (inv) fail(`invariant broken: ${inv}`);
    checked++;
  }
  return checked;
}

// ---------------------------------------------------------------------------------------------
// Wrapper fuzzer

/** Values a wrapper parameter may receive: numbers that are bad for some parameter, and non-numbers. */
const HOSTILE_VALUES = [NaN, Infinity, -Infinity, 1e39, -1e39, 3.5e38, 1e300, -1e300, -0, 0, 1e-50,
  -1e-50, 1e-46, 1e15, 1e15 + 2e9, -1, 1.5, 0.5, 2 ** 31, 2 ** 32, 255, 256, 1000, 1000.00001, 1001,
  '3', '', null, undefined, true, {}, [], [1], 3n, { valueOf: () => 1 }, () => 1];

function hostile(r) { return r.pick(HOSTILE_VALUES); }

function randomVector(r, dims, kind = r.int(3)) {
  const v = Array.from({ length: dims }, () => 2 * r.float() - 1);
  return kind === 0 ? Float32Array.from(v) : kind === 1 ? v : Float64Array.from(v);
}

/** A vector argument that must be rejected: wrong length, a bad component, or not an array. */
function hostileVector(r, dims) {
  const v = Array.from({ length: dims }, () => 2 * r.float() - 1);
  switch (r.int(12)) {
    case 0: return Float32Array.from({ length: dims + 1 }, () => r.float());
    case 1: return dims > 1 ? v.slice(1) : [];
    case 2: v[r.int(dims)] = r.pick([NaN, Infinity, -Infinity, 1e39, 2e15, -1e16, 1e300]); return v;
    case 3: v[r.int(dims)] = r.pick(['1', null, undefined, true, {}, [0.5], 1n]); return v;
    case 4: { const f = Float32Array.from(v); f[r.int(dims)] = r.pick([NaN, -Infinity, 1e30]); return f; }
    case 5: return r.pick([null, undefined, 5, 'abcd', {}, true, Symbol.iterator]);
    case 6: return { length: dims }; // an array-like whose components are all undefined
    case 7: { const s = new Array(dims); s[0] = 1; return s; } // sparse
    case 8: return { length: String(dims), 0: 1 };
    case 9: return new BigInt64Array(dims);
    case 10: return { length: -1 };
    default: return { length: 2 ** 32 + dims };
  }
}

/** The values a shifty vector shows on its first reads (the ones a check accepts). */
const shiftyValues = new WeakMap();

/**
 * An object posing as an array: its length and components are getters, reading different
 * values on later reads (a check reads them once, the copy into wasm memory again).
 */
function shiftyVector(r, dims) {
  const good = Array.from({ length: dims }, () => 2 * r.float() - 1);
  const badValue = r.pick([NaN, Infinity, 1e30, '7']);
  let reads = 0;
  const limit = 1 + r.int(2 * dims + 2);
  const o = {};
  shiftyValues.set(o, good);
  Object.defineProperty(o, 'length', { get: () => (reads++ < limit ? dims : dims + 3) });
  for (let i = 0; i < dims + 3; i++) {
    Object.defineProperty(o, i, { get: () => (reads++ < limit ? good[i] ?? 0 : badValue) });
  }
  return o;
}

/** A Proxy posing as a Float32Array (it passes instanceof) whose element reads turn bad later. */
function shiftyProxy(r, dims) {
  const good = Float32Array.from({ length: dims }, () => 2 * r.float() - 1);
  const badValue = r.pick([NaN, -Infinity, 1e30]);
  let reads = 0;
  const limit = 1 + r.int(3 * dims + 2);
  const p = new Proxy(good.slice(), { get: (t, k) => (typeof k === 'string' && /^\d+$/.test(k) && reads++ >= limit ? badValue : Reflect.get(t, k)) });
  shiftyValues.set(p, Array.from(good));
  return p;
}

function idArg(r, size) {
  if (r.chance(0.3)) return r.pick([-1, size, size + 1, 31, 32, 255, 256, 0.5, -0, NaN, '0', null, undefined, 2 ** 32, 1e300, 1n]);
  return size > 0 ? r.int(size) : 0;
}

function kArg(r) {
  if (r.chance(0.25)) return r.pick([0, 17, -1, 1.5, NaN, '5', null, 256, 2 ** 32 + 1, 1n, Infinity]);
  return 1 + r.int(16);
}

function numArg(r, lo, hi) {
  if (r.chance(0.3)) return hostile(r);
  return lo + (hi - lo) * r.float();
}

function dtArg(r) {
  if (r.chance(0.3)) return hostile(r);
  return 0.1 + 3 * r.float();
}

/** A core's memory with the insert/query staging buffers zeroed (the wrapper may stage, then reject). */
function coreState(h) {
  const x = h.exports;
  const mem = new Uint8Array(x.memory.buffer).slice(STACK_BYTES);
  mem.fill(0, x.get_insert_ptr() - STACK_BYTES, x.get_insert_ptr() - STACK_BYTES + 64);
  mem.fill(0, x.get_query_ptr() - STACK_BYTES, x.get_query_ptr() - STACK_BYTES + 64);
  return mem;
}

/**
 * The distance in float64 and the scale of its f32 rounding error: the sum of the terms' magnitudes
 * (a dot product of large vectors can cancel to far less than its terms).
 */
function refDistance(metric, q, v) {
  let dot = 0, nq = 0, nv = 0, l2 = 0, terms = 0;
  for (let i = 0; i < q.length; i++) {
    dot += q[i] * v[i]; nq += q[i] * q[i]; nv += v[i] * v[i]; terms += Math.abs(q[i] * v[i]);
    const d = q[i] - v[i]; l2 += d * d;
  }
  if (metric === 'l2') return { d: l2, scale: l2 };
  if (metric === 'dot') return { d: -dot, scale: terms };
  return { d: nq === 0 || nv === 0 ? 1 : 1 - dot / Math.sqrt(nq * nv), scale: 1 };
}

const closeTo = (a, { d, scale }) => Math.abs(a - d) <= 1e-4 * (1 + scale);

/**
 * Saved-state bytes damaged at random: cut short, a byte changed with the checksum repaired (so
 * the contents are checked), a byte changed as is, or a foreign length field, or left intact.
 */
function mutatedBytes(r, bytes) {
  const out = Uint8Array.from(bytes);
  const view = new DataView(out.buffer);
  switch (r.int(5)) {
    case 0: return out.subarray(0, r.int(out.length));
    case 1: {
      const payload = out.subarray(20);
      const edits = 1 + r.int(3);
      for (let i = 0; i < edits && payload.length > 0; i++) payload[r.int(payload.length)] = r.chance(0.5) ? r.int(256) : payload[r.int(payload.length)] ^ (1 << r.int(8));
      view.setUint32(16, crc32(payload), true);
      return out;
    }
    case 2: out[r.int(out.length)] ^= 1 << r.int(8); return out;
    case 3: view.setUint32(12, r.u32(), true); return out;
    default: return out;
  }
}

/**
 * Fuzzes one MicroHnsw and one small MicroHnswCluster of the wrapper module `api` (the package's
 * 'sona-wasm/micro-hnsw' exports, initialised).
 */
export function fuzzWrapper(api, seed, steps) {
  const { MicroHnsw, MicroHnswCluster } = api;
  const r = prng(seed);
  const dims = 1 + r.int(16);
  const metric = r.pick(['l2', 'cosine', 'dot']);
  const h = new MicroHnsw({ dims, metric, coreId: r.int(256) });
  const cluster = new MicroHnswCluster({ dims, metric, cores: 1 + r.int(3) });
  const log = [];
  let checked = 0;
  let rejectedCount = 0;

  const vecOf = (r2) => (r.chance(0.75) ? randomVector(r2, dims) : r.chance(0.7) ? hostileVector(r2, dims) : r.chance(0.5) ? shiftyVector(r2, dims) : shiftyProxy(r2, dims));
  const describe = (v) => {
    if (shiftyValues.has(v)) return `{shifty array-like or Proxy, first showing [${shiftyValues.get(v).join(', ')}]}`;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol' || typeof v === 'function') return String(v);
    if (v instanceof Float32Array || v instanceof Float64Array || v instanceof BigInt64Array) return `${v.constructor.name}[${Array.from(v).join(', ')}]`;
    if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
    if (v && typeof v === 'object') {
      const d = Object.getOwnPropertyDescriptor(v, 'length');
      return d && d.get ? `{shifty array-like}` : `{${Object.keys(v).map((k) => `${k}: ${describe(v[k])}`).join(', ')}}`;
    }
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  };

  // Each op: [name, target ('core' | 'cluster'), make args, check a successful result].
  const searchCheck = (target, k, pre, res, exact) => {
    const q = pre.query;
    const n = target.size;
    const want = Math.min(k, n);
    if (!Array.isArray(res) || res.length !== want) return `returned ${res?.length} hits, expected min(k, size) = ${want}`;
    const seen = new Set();
    for (let i = 0; i < res.length; i++) {
      const { id, distance } = res[i];
      if (seen.has(id)) return `id ${id} twice`;
      seen.add(id);
      if (typeof distance !== 'number' || Number.isNaN(distance)) return `distance ${distance}`;
      if (exact) {
        if (i > 0 && distance < res[i - 1].distance) return 'hits not sorted by distance';
        const v = target.vector(id);
        const qv = Array.from({ length: dims }, (_, j) => f32(q[j]));
        if (!closeTo(distance, refDistance(metric, qv, v))) return `hit ${id} distance ${distance}, recomputed ${refDistance(metric, qv, v).d}`;
      }
    }
    return null;
  };
  // searchInto's output arrays: mostly fitting ones, sometimes too short, of a wrong type or hostile.
  const hitArrays = () => {
    const n = r.chance(0.85) ? 16 : r.int(17);
    const ids = r.chance(0.9) ? new (r.pick([Uint8Array, Uint16Array, Int32Array, Float64Array]))(n) : r.pick([[], new Float32Array(n), hostile(r)]);
    const distances = r.chance(0.9) ? new (r.pick([Float32Array, Float64Array]))(n) : r.pick([new Int32Array(n), [], hostile(r)]);
    return [ids, distances];
  };
  const intoCheck = (target) => ([, k, ids, distances], n, pre) => {
    if (!Number.isInteger(n)) return `searchInto returned ${n}`;
    return searchCheck(target, k, pre, Array.from({ length: n }, (_, i) => ({ id: ids[i], distance: distances[i] })), true);
  };
  const spikeCount = (res) => (Number.isInteger(res) && res >= 0 && res <= 32 ? null : `spike count ${res}`);

  const ops = [
    ['insert', 'core', () => [vecOf(r)], (args, res, pre) => {
      if (res !== pre.size) return `insert returned ${res}, size was ${pre.size}`;
      if (h.size !== pre.size + 1) return 'size did not grow';
      const v = h.vector(res);
      for (let j = 0; j < dims; j++) if (!Object.is(v[j], f32(pre.copy[j]))) return `stored component ${j} = ${v[j]}, inserted ${pre.copy[j]}`;
      return null;
    }],
    ['search', 'core', () => [vecOf(r), kArg(r)], ([, k], res, pre) => searchCheck(h, k, pre, res, true)],
    ['searchInto', 'core', () => [vecOf(r), kArg(r), ...hitArrays()], intoCheck(h)],
    ['vector', 'core', () => [idArg(r, h.size)], ([id], res) => (res.length === dims ? null : `vector length ${res.length}`)],
    ['hnswToSnn', 'core', () => [vecOf(r), kArg(r), numArg(r, -2, 2)], ([, k], res, pre) => searchCheck(h, k, pre, res, true)],
    ['resonanceSearch', 'core', () => [vecOf(r), kArg(r), numArg(r, -1, 1)], ([, k], res, pre) => searchCheck(h, k, pre, res, false)],
    ['neuromorphicSearch', 'core', () => [vecOf(r), kArg(r), r.chance(0.5) ? undefined : r.chance(0.7)
      ? { dt: dtArg(r), iterations: r.chance(0.8) ? r.int(20) : hostile(r) } : r.pick([null, 5, [], { dt: 1, foo: 2 }, 'x'])],
    ([, k], res, pre) => searchCheck(h, k, pre, res, false)],
    ['spikeSearch', 'core', () => [r.chance(0.8) ? r.u32() : hostile(r), kArg(r)], ([, k], res, pre) => searchCheck(h, k, pre, res, false)],
    ['setNodeType', 'core', () => [idArg(r, h.size), r.chance(0.8) ? r.int(16) : hostile(r)], null],
    ['nodeType', 'core', () => [idArg(r, h.size)], null],
    ['typeMatches', 'core', () => [idArg(r, h.size), r.chance(0.8) ? r.int(65536) : hostile(r)], null],
    ['setEdgeWeight', 'core', () => [idArg(r, h.size), r.chance(0.8) ? r.int(256) : hostile(r)], null],
    ['edgeWeight', 'core', () => [idArg(r, h.size)], null],
    ['aggregateNeighbors', 'core', () => [idArg(r, h.size)], (a, res) => (res.length === dims ? null : 'delta length')],
    ['updateVector', 'core', () => [idArg(r, h.size), numArg(r, -2, 2), r.chance(0.5) ? undefined : vecOf(r)], ([id, alpha, delta], res, pre) => {
      const v = h.vector(id);
      const old = pre.vector;
      const a = f32(alpha);
      for (let j = 0; j < dims; j++) {
        const dj = delta === undefined ? pre.delta[j] : f32(pre.copy[j]);
        const want = f32(old[j] + f32(a * dj));
        if (!Object.is(v[j], want)) return `component ${j} = ${v[j]}, expected ${want} (alpha ${a}, delta ${dj})`;
      }
      return null;
    }],
    ['setMembrane', 'core', () => [idArg(r, h.size), numArg(r, -40, 40)], ([id, v]) => {
      const want = Math.max(-32768, Math.min(32768 - 2 ** -16, Math.round(f32(v) * 65536) / 65536));
      const got = h.membrane(id);
      return Math.abs(got - want) <= 2 ** -15 ? null : `membrane ${got} after setMembrane(${v})`;
    }],
    ['membrane', 'core', () => [idArg(r, h.size)], null],
    ['threshold', 'core', () => [idArg(r, h.size)], null],
    ['synapses', 'core', () => [idArg(r, h.size)], null],
    ['setThreshold', 'core', () => [idArg(r, h.size), numArg(r, -2, 80)], ([id, t]) => {
      const want = Math.max(1 / 16, Math.min(64, f32(t)));
      const got = h.threshold(id);
      return Math.abs(got - want) <= 2 ** -15 ? null : `threshold ${got} after setThreshold(${t})`;
    }],
    ['inject', 'core', () => [idArg(r, h.size), numArg(r, -3, 3)], null],
    ['spiked', 'core', () => [idArg(r, h.size)], null],
    ['spikes', 'core', () => [], null],
    ['step', 'core', () => [dtArg(r)], (a, res) => spikeCount(res)],
    ['propagate', 'core', () => [numArg(r, -2, 2)], null],
    ['stdp', 'core', () => [], null],
    ['tick', 'core', () => [dtArg(r), numArg(r, -2, 2), r.chance(0.85) ? r.chance(0.5) : hostile(r)], (a, res) => spikeCount(res)],
    ['encodeVector', 'core', () => [idArg(r, h.size)], null],
    ['spikeTimingSimilarity', 'core', () => [r.chance(0.8) ? r.u32() : hostile(r), r.chance(0.8) ? r.u32() : hostile(r)], null],
    ['homeostaticUpdate', 'core', () => [dtArg(r)], null],
    ['spikeRate', 'core', () => [idArg(r, h.size)], null],
    ['oscillatorStep', 'core', () => [dtArg(r)], null],
    ['resonance', 'core', () => [idArg(r, h.size)], null],
    ['wtaReset', 'core', () => [], null],
    ['wtaCompete', 'core', () => [], null],
    ['wtaSoft', 'core', () => [], null],
    ['dendriteReset', 'core', () => [], null],
    ['dendriteInject', 'core', () => [idArg(r, h.size), r.chance(0.8) ? r.int(6) : hostile(r), numArg(r, -2, 2)], null],
    ['dendriteIntegrate', 'core', () => [idArg(r, h.size)], null],
    ['dendritePropagate', 'core', () => [numArg(r, -2, 2)], null],
    ['patternRecord', 'core', () => [], null],
    ['pattern', 'core', () => [idArg(r, h.size)], null],
    ['patternMatch', 'core', () => [r.chance(0.8) ? r.u32() : hostile(r)], null],
    ['patternCorrelate', 'core', () => [idArg(r, h.size), r.chance(0.8) ? r.int(33) : hostile(r)], null],
    ['snnReset', 'core', () => [], null],
    ['toBytes', 'core', () => [], (a, res) => {
      const copy = MicroHnsw.fromBytes(res);
      if (copy.size !== h.size || copy.dims !== dims || copy.metric !== metric) return `restored size ${copy.size}, dims ${copy.dims}, ${copy.metric}`;
      for (let i = 0; i < h.size; i++) {
        const [a1, b1] = [copy.vector(i), h.vector(i)];
        if (a1.some((x, j) => !Object.is(x, b1[j]))) return `restored vector ${i} differs`;
      }
      return rawInvariants(copy.exports);
    }],
    ['restore', 'core', () => [mutatedBytes(r, h.toBytes())], (a, res) => rawInvariants(res.exports)],
    ['cluster.insert', 'cluster', () => [vecOf(r)], (a, res, pre) => (cluster.size === pre.size + 1 && Number.isInteger(res) ? null : 'cluster size did not grow')],
    ['cluster.search', 'cluster', () => [vecOf(r), kArg(r)], ([, k], res, pre) => searchCheck(cluster, k, pre, res, true)],
    ['cluster.searchInto', 'cluster', () => [vecOf(r), kArg(r), ...hitArrays()], intoCheck(cluster)],
    ['cluster.vector', 'cluster', () => [idArg(r, cluster.capacity)], null],
    ['cluster.toBytes', 'cluster', () => [], (a, res) => {
      const copy = MicroHnswCluster.fromBytes(res);
      return copy.size === cluster.size ? null : `restored cluster size ${copy.size}, saved ${cluster.size}`;
    }],
  ];
  const clusterInsert = ops.find(([name]) => name === 'cluster.insert');
  // Static calls: a new object from bytes (nothing of h or the cluster may change either way).
  const statics = { restore: (bytes) => MicroHnsw.fromBytes(bytes) };

  // Calls that must be accepted by the raw ABI when the wrapper accepts them: their f32
  // arguments must be finite f32s (and a dt in (0, 1000] as an f32), or the wasm silently
  // ignores the call while the wrapper returns as if it was done.
  const f32Params = {
    hnswToSnn: [2], resonanceSearch: [2], updateVector: [1], setMembrane: [1], setThreshold: [1], inject: [1],
    propagate: [0], tick: [1], dendriteInject: [2], dendritePropagate: [0],
  };
  const dtParams = { step: 0, tick: 0, homeostaticUpdate: 0, oscillatorStep: 0 };

  for (let step = 0; step < steps; step++) {
    let op = r.pick(ops);
    // Fill up often enough that full cores and a full cluster are reached.
    if (r.chance(0.2)) op = r.chance(0.5) ? ops[0] : clusterInsert;
    const [name, target, make, check] = op;
    const args = make();
    const call = `${name}(${args.map(describe).join(', ')})`;
    log.push(call);
    if (log.length > 12) log.shift();
    const fail = (what) => {
      throw new Error(`wrapper seed ${seed} step ${step} (dims ${dims}, ${metric}): ${call}: ${what}\nlast calls:\n  ${log.join('\n  ')}`);
    };
    const cores = target === 'core' ? [h] : cluster.cores;
    const before = cores.map(coreState);
    const pre = { size: target === 'core' ? h.size : cluster.size };
    const plain = (v) => shiftyValues.get(v) ?? (v && typeof v === 'object' && typeof v.length === 'number' && v.length <= 64 ? Array.from(v) : v);
    if (name === 'insert' || name === 'cluster.insert') pre.copy = plain(args[0]);
    if (/search|hnswToSnn/i.test(name)) pre.query = plain(args[0]);
    if (name === 'updateVector') {
      pre.copy = plain(args[2]);
      pre.delta = new Float32Array(h.exports.memory.buffer, h.exports.get_delta_ptr(), dims).slice();
      if (Number.isInteger(args[0]) && args[0] >= 0 && args[0] < h.size) pre.vector = h.vector(args[0]);
    }
    const fn = statics[name] ?? (target === 'core' ? h[name] : cluster[name.slice('cluster.'.length)]);
    const self = target === 'core' ? h : cluster;
    let res, err = null;
    try {
      res = fn.apply(self, args);
    } catch (e) {
      err = e;
    }
    if (err !== null) {
      rejectedCount++;
      if (err instanceof WebAssembly.RuntimeError) fail(`trapped: ${err.message}`);
      if (!(err instanceof Error)) fail(`threw a non-Error: ${String(err)}`);
      if (typeof err.message !== 'string' || err.message.length < 8) fail(`error without a useful message: ${String(err)}`);
      const after = (target === 'core' ? [h] : cluster.cores).map(coreState);
      if (after.length !== before.length && target === 'cluster') fail(`a rejected call created a core (${before.length} → ${after.length}): ${err.message}`);
      for (let c = 0; c < before.length; c++) {
        const d = firstDiff(before[c], after[c]);
        if (d) fail(`rejected ("${err.message}") but core ${c} changed at ${d}`);
      }
    } else {
      for (const i of f32Params[name] ?? []) {
        if (!(name === "resonanceSearch" && args[i] === undefined) && !isF32Finite(args[i])) fail(`accepted ${describe(args[i])}, which the wasm receives as the f32 ${f32(args[i])} and ignores`);
      }
      if (name in dtParams && !validDt(args[dtParams[name]])) fail(`accepted dt ${describe(args[dtParams[name]])}, the f32 ${f32(args[dtParams[name]])}, outside (0, 1000]`);
      if (name === 'neuromorphicSearch' && args[2] && args[2].dt !== undefined && !validDt(args[2].dt)) fail(`accepted dt ${describe(args[2].dt)}, the f32 ${f32(args[2].dt)}`);
      const problem = check ? check(args, res, pre) : null;
      if (problem) fail(problem);
    }
    for (const core of [h, ...cluster.cores]) {
      const inv = rawInvariants(core.exports);
      if (inv) fail(`invariant broken: ${inv}`);
    }
    checked++;
  }
  return { checked, rejected: rejectedCount };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { importWrapper } = await import('./helpers.mjs');
  const steps = Number(process.argv[2] ?? 20000);
  const seeds = Number(process.argv[3] ?? 8);
  const api = await importWrapper();
  const module = await api.init();
  for (let seed = 1; seed <= seeds; seed++) {
    const raw = fuzzRaw(module, seed, steps);
    const w = fuzzWrapper(api, seed, steps);
    console.log(`seed ${seed}: raw ${raw} calls, wrapper ${w.checked} calls (${w.rejected} rejected)`);
  }
}
