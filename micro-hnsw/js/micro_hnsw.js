// sona-wasm/micro-hnsw: the platform-neutral wrapper around micro_hnsw.wasm (raw C ABI, no imports).
//
// One compiled WebAssembly.Module is shared; every MicroHnsw is its own WebAssembly.Instance of it
// (one "core": 32 vectors of up to 16 dimensions, its own 64 KiB memory). MicroHnswCluster spreads
// vectors over up to 256 cores and merges their results with the module's `merge` export.
// The classes validate their arguments and throw TypeError/RangeError/Error instead of returning the
// raw ABI's sentinels.

/** Raw-ABI constants of micro_hnsw.wasm. */
export const ABI = Object.freeze({
  /** Vectors (and neurons) per core. */
  CAPACITY: 32,
  /** Maximum dimensionality; the insert/query/delta buffers hold this many f32. */
  MAX_DIMS: 16,
  /** Maximum k of every search; the result/global buffers hold this many records. */
  MAX_K: 16,
  /** Graph neighbours (= synapses, = dendritic branches) per node. */
  MAX_NEIGHBORS: 6,
  /** The "no such index" sentinel of the u8 ABI. */
  NONE: 255,
  /** Bytes per result record {idx:u8, core_id:u8, pad:u16, distance:f32}. */
  RECORD_BYTES: 8,
  /** Cores a MicroHnswCluster may have (core ids are u8). */
  MAX_CORES: 256,
  /** Largest accepted timestep in ms. */
  MAX_DT_MS: 1000,
  /** Metric codes of `init`. */
  METRIC_L2: 0,
  METRIC_COSINE: 1,
  METRIC_DOT: 2,
});

const METRICS = ['l2', 'cosine', 'dot'];
/**
 * Largest accepted |component| of a vector, query or delta argument. Beyond about 2e18 the f32
 * distance sums overflow to ±∞ (16 squared differences), and every such hit ties at Infinity.
 */
const MAX_MAGNITUDE = 1e15;
let compiled = null;

function isBufferSource(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x) ||
    (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer);
}

async function compileResponse(response) {
  if (!response.ok) throw new Error(`micro-hnsw: fetching the wasm failed with HTTP ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/**
 * Compiles micro_hnsw.wasm once (idempotent: later calls return the same module and ignore
 * `source`). `source`: a URL or string (fetched; `file:` URLs are read from disk under Node/Deno),
 * a Request, a Response (or a promise of one), a BufferSource, or a WebAssembly.Module. Default:
 * `micro_hnsw.wasm` next to this file.
 * @returns {Promise<WebAssembly.Module>}
 */
export async function init(source) {
  if (compiled) return compiled;
  let s = source === undefined ? new URL('./micro_hnsw.wasm', import.meta.url) : await source;
  let module;
  if (s instanceof WebAssembly.Module) {
    module = s;
  } else if (isBufferSource(s)) {
    module = await WebAssembly.compile(s);
  } else if (typeof s === 'string' || s instanceof URL) {
    const url = new URL(s, import.meta.url);
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      module = await WebAssembly.compile(await readFile(url));
    } else {
      module = await compileResponse(await fetch(url));
    }
  } else if (typeof Request !== 'undefined' && s instanceof Request) {
    module = await compileResponse(await fetch(s));
  } else if (typeof Response !== 'undefined' && s instanceof Response) {
    module = await compileResponse(s);
  } else {
    throw new TypeError('micro-hnsw init: source must be a URL, string, Request, Response, BufferSource or WebAssembly.Module');
  }
  compiled ??= module;
  return compiled;
}

/**
 * Synchronous init from a BufferSource or WebAssembly.Module (idempotent like `init`).
 * @returns {WebAssembly.Module}
 */
export function initSync(source) {
  if (compiled) return compiled;
  if (source instanceof WebAssembly.Module) compiled = source;
  else if (isBufferSource(source)) compiled = new WebAssembly.Module(source);
  else throw new TypeError('micro-hnsw initSync: source must be a BufferSource or WebAssembly.Module');
  return compiled;
}

function moduleOrThrow() {
  if (!compiled) throw new Error('micro-hnsw is not initialised: call `await init()` (or initSync) first');
  return compiled;
}

function metricCode(metric) {
  if (metric === 0 || metric === 1 || metric === 2) return metric;
  const code = METRICS.indexOf(metric);
  if (code < 0) throw new RangeError(`metric must be 'l2', 'cosine' or 'dot' (or 0, 1, 2), got ${String(metric)}`);
  return code;
}

/**
 * Checks a constructor's options: undefined, or an object whose keys are all in `allowed` (a typo
 * such as `{ dim: 4 }` would otherwise give a default 16-dimensional index).
 */
function checkOptions(what, options, allowed) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what} options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`unknown ${what} option "${key}" (allowed: ${allowed.join(', ')})`);
  }
  return options;
}

/** A value as an error message shows it: strings quoted and BigInts marked, so '3' is not 3. */
function shown(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

function intIn(name, v, lo, hi) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name} must be an integer in ${lo}..${hi}, got ${shown(v)}`);
  return v;
}

/**
 * Checks a number the wasm receives as an f32. A double beyond the f32 range (1e39) arrives as ±∞,
 * which every export ignores or answers with its sentinel, so it is named here instead.
 */
function finite(name, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${shown(v)}`);
  if (!Number.isFinite(Math.fround(v))) throw new RangeError(`${name} must be a finite f32 (|${name}| < 3.4028235e38), got ${shown(v)}`);
  return v;
}

function timestep(dt) {
  finite('dt', dt);
  // As an f32 (what the wasm receives): a positive dt below 7e-46 rounds to 0 and was ignored.
  if (!(Math.fround(dt) > 0 && dt <= ABI.MAX_DT_MS)) {
    throw new RangeError(`dt must be in (0, ${ABI.MAX_DT_MS}] ms (and positive as an f32), got ${dt}`);
  }
  return dt;
}

function u32(name, v) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be an unsigned 32-bit integer, got ${shown(v)}`);
  return v;
}

/**
 * Where a vector argument that is not a Float32Array is converted, one view per length (no
 * allocation per call). A conversion started while another one is running (user code in an
 * element getter or valueOf calling back into this module) gets its own array instead.
 */
const staging = new Float32Array(ABI.MAX_DIMS);
const stagingViews = Array.from({ length: ABI.MAX_DIMS + 1 }, (_, n) => staging.subarray(0, n));
let stagingBusy = false;

/**
 * Checks a vector argument: array-like of exactly `dims` finite numbers within ±MAX_MAGNITUDE.
 * Returns what to copy into wasm memory: the Float32Array itself, or the components converted to
 * f32 as they were checked. Each is read once, so an object posing as an array (getters) cannot
 * pass the check with one value and be staged with another.
 */
function checkVector(name, v, dims) {
  let length;
  try {
    length = v == null ? undefined : v.length;
  } catch (e) {
    // A Proxy of a typed array: TypedArray.prototype's length getter refuses it as a receiver
    // (a TypeError; what a proxy trap of the caller's throws otherwise goes on as thrown).
    if (!(e instanceof TypeError)) throw e;
    throw new TypeError(`${name} must be a Float32Array or an array of numbers (reading its length threw: ${e?.message ?? e})`, { cause: e });
  }
  if (typeof length !== 'number') throw new TypeError(`${name} must be a Float32Array or an array of numbers`);
  if (length !== dims) throw new RangeError(`${name} has ${shown(length)} components, this index has ${dims} dimensions`);
  // A genuine Float32Array only (ArrayBuffer.isView is false for a Proxy posing as one, whose
  // element reads run user code and are converted below like any array-like).
  if (v instanceof Float32Array && ArrayBuffer.isView(v)) {
    // Every element is a number: one compare each (false for NaN too); the loop below names a bad one.
    let ok = true;
    for (let i = 0; i < dims; i++) ok = ok && v[i] >= -MAX_MAGNITUDE && v[i] <= MAX_MAGNITUDE;
    if (ok) return v;
  }
  const nested = stagingBusy;
  const out = nested ? new Float32Array(dims) : stagingViews[dims];
  stagingBusy = true;
  try {
    for (let i = 0; i < dims; i++) {
      const x = v[i];
      if (!Number.isFinite(x)) throw new RangeError(`${name}[${i}] is ${shown(x)}: components must be finite numbers`);
      if (Math.abs(x) > MAX_MAGNITUDE) {
        throw new RangeError(`${name}[${i}] is ${x}: components must lie within ±1e15 (larger ones overflow the f32 distances)`);
      }
      out[i] = x;
    }
  } finally {
    stagingBusy = nested;
  }
  return out;
}

/** Layout of the `#[repr(C)]` synapse table at `snn_get_synapse_ptr()` (micro-hnsw/src/snn.rs):
 *  target u8[32][6] at +0, count u8[32] at +192, weight u8[32][6] at +224. */
const SYNAPSE_TABLE = Object.freeze({ count: 192, weight: 224, bytes: 416 });

/** Index of component `d` of vector `i` in the stored vectors at `get_vectors_ptr()` (blocks of four). */
const vectorAt = (i, d) => (i >> 2) * 64 + d * 4 + (i & 3);

// ---- Saved state (toBytes / fromBytes) -------------------------------------------------------------
// A frame: magic (8 ASCII bytes), format version (u32 LE), payload length (u32 LE), CRC-32 of the
// payload (u32 LE, IEEE as in zlib), then the payload; little-endian throughout. Core payload:
// dims, metric, coreId, count (u8 each); count × dims f32 vectors; count node types (u8); count
// edge weights (u8); count thresholds (f32); per node its degree (u8) and degree × {target, STDP
// weight} (u8, u8). Cluster payload: dims, metric (u8), cores, next core, core count (u16), then
// per core a u32 length and that core's frame.
const CORE_MAGIC = 'MHNSWCOR';
const CLUSTER_MAGIC = 'MHNSWCLU';
const FORMAT_VERSION = 1;
const FRAME_HEADER = 20;

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** The largest id `ids` can hold when it is an array `searchInto` accepts, else -1. */
function idLimit(ids) {
  // instanceof checks in order of likely use (each a fast inline-cached test); a Proxy posing as a
  // typed array passes instanceof but is no view.
  if (!ArrayBuffer.isView(ids)) return -1;
  if (ids instanceof Uint8Array) return 0xff;
  if (ids instanceof Int32Array) return 0x7fffffff;
  if (ids instanceof Uint16Array) return 0xffff;
  if (ids instanceof Uint32Array) return 0xffffffff;
  if (ids instanceof Float64Array) return Number.MAX_SAFE_INTEGER;
  if (ids instanceof Int16Array) return 0x7fff;
  if (ids instanceof Int8Array) return 0x7f;
  return -1;
}

/** Checks `searchInto`'s output arrays: room for `k` hits, ids up to `maxId` representable. */
function checkHitArrays(ids, distances, k, maxId) {
  const limit = idLimit(ids);
  if (limit < maxId) {
    if (limit < 0) throw new TypeError('ids must be an integer typed array (Uint8Array … Int32Array) or a Float64Array');
    throw new RangeError(`ids is a ${ids.constructor.name}, which cannot hold ids up to ${maxId}`);
  }
  if (!((distances instanceof Float32Array || distances instanceof Float64Array) && ArrayBuffer.isView(distances))) {
    throw new TypeError('distances must be a Float32Array or a Float64Array');
  }
  if (ids.length < k) throw new RangeError(`ids has room for ${ids.length} hits, fewer than k = ${k}`);
  if (distances.length < k) throw new RangeError(`distances has room for ${distances.length} hits, fewer than k = ${k}`);
}

/** One core's hits, read out of its result buffer before any is written to the caller's arrays. */
const hitIds = new Uint8Array(ABI.MAX_K);
const hitDistances = new Float32Array(ABI.MAX_K);

/** CRC-32 (IEEE 802.3, as zlib and PNG compute it). */
function crc32(bytes) {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** `payload` framed with `magic`, the version, its length and its CRC-32. */
function frame(magic, payload) {
  const out = new Uint8Array(FRAME_HEADER + payload.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** A copy of the bytes argument of `fromBytes` (Uint8Array, other view, ArrayBuffer or SharedArrayBuffer). */
function bytesArgument(what, bytes) {
  if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)) return new Uint8Array(bytes.slice(0));
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  throw new TypeError(`${what}.fromBytes takes a Uint8Array (or another view or an ArrayBuffer), got ${bytes === null ? 'null' : typeof bytes}`);
}

/** The checked payload of a frame: magic, version, length and checksum, each named when wrong. */
function unframe(what, magic, bytes) {
  if (bytes.length < FRAME_HEADER) throw new Error(`${what} bytes are truncated: ${bytes.length} bytes, the header alone is ${FRAME_HEADER}`);
  const found = String.fromCharCode(...bytes.subarray(0, 8));
  if (found !== magic) throw new Error(`not ${what} bytes: they start with ${JSON.stringify(found)}, expected ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) throw new Error(`${what} bytes of format version ${version}; this build reads version ${FORMAT_VERSION}`);
  const length = view.getUint32(12, true);
  if (length !== bytes.length - FRAME_HEADER) {
    throw new Error(`${what} bytes are truncated or padded: the header declares a ${length}-byte payload, ${bytes.length - FRAME_HEADER} bytes follow`);
  }
  const payload = bytes.subarray(FRAME_HEADER);
  const stored = view.getUint32(16, true);
  const computed = crc32(payload);
  if (stored !== computed) {
    throw new Error(`${what} bytes are corrupted: checksum ${computed.toString(16).padStart(8, '0')}, the header says ${stored.toString(16).padStart(8, '0')}`);
  }
  return payload;
}

/** Sequential little-endian reads of a payload; running past its end or a value out of range is an Error naming the field. */
class PayloadReader {
  constructor(what, payload) {
    this.what = what;
    this.bytes = payload;
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    this.at = 0;
  }
  #need(n, field) {
    if (this.at + n > this.bytes.length) throw new Error(`malformed ${this.what} bytes: the payload ends inside ${field}`);
    const at = this.at;
    this.at += n;
    return at;
  }
  u8(field, lo = 0, hi = 255) { return this.#check(field, this.bytes[this.#need(1, field)], lo, hi); }
  u16(field, lo, hi) { return this.#check(field, this.view.getUint16(this.#need(2, field), true), lo, hi); }
  u32(field) { return this.view.getUint32(this.#need(4, field), true); }
  f32(field) { return this.view.getFloat32(this.#need(4, field), true); }
  take(n, field) { const at = this.#need(n, field); return this.bytes.subarray(at, at + n); }
  #check(field, v, lo, hi) {
    if (v < lo || v > hi) throw new Error(`malformed ${this.what} bytes: ${field} is ${v}, expected ${lo}..${hi}`);
    return v;
  }
  end() {
    if (this.at !== this.bytes.length) throw new Error(`malformed ${this.what} bytes: ${this.bytes.length - this.at} bytes after the last field`);
  }
}

/**
 * The instance `MicroHnsw.create` instantiated, handed to the constructor it calls next (set and
 * consumed synchronously). Not a constructor parameter: an instance passed in by a caller could
 * be another module's, or one already behind another MicroHnsw whose state `init` would wipe.
 */
let createdInstance = null;

/** One micro-HNSW core: 32 vectors, exact k-NN, a fixed-point spiking network, raw exports. */
export class MicroHnsw {
  #x;
  #mem;
  #dims;
  #insert;
  #query;
  #delta;
  /** The result records as bytes (idx at 8·i) and as f32 (distance at 2·i + 1). */
  #resultBytes;
  #resultFloats;

  /**
   * @param {{dims?: number, metric?: 'l2'|'cosine'|'dot'|0|1|2, coreId?: number}} [options]
   */
  constructor(options = undefined) {
    const instance = createdInstance;
    createdInstance = null;
    const { dims = 16, metric = 'l2', coreId = 0 } = checkOptions('MicroHnsw', options, ['dims', 'metric', 'coreId']);
    intIn('dims', dims, 1, ABI.MAX_DIMS);
    const m = metricCode(metric);
    intIn('coreId', coreId, 0, 255);
    const inst = instance ?? new WebAssembly.Instance(moduleOrThrow(), {});
    this.#x = inst.exports;
    this.#x.init(dims, m, coreId);
    this.#dims = dims;
    this.#mem = this.#x.memory;
    this.#views();
  }

  /** Like the constructor, but instantiates asynchronously (preferred on browser main threads). */
  static async create(options = undefined) {
    checkOptions('MicroHnsw', options, ['dims', 'metric', 'coreId']);
    const inst = await WebAssembly.instantiate(moduleOrThrow(), {});
    createdInstance = inst;
    try {
      return new MicroHnsw(options);
    } finally {
      createdInstance = null;
    }
  }

  #views() {
    const buf = this.#mem.buffer;
    this.#insert = new Float32Array(buf, this.#x.get_insert_ptr(), ABI.MAX_DIMS);
    this.#query = new Float32Array(buf, this.#x.get_query_ptr(), ABI.MAX_DIMS);
    this.#delta = new Float32Array(buf, this.#x.get_delta_ptr(), ABI.MAX_DIMS);
    const results = this.#x.get_result_ptr();
    this.#resultBytes = new Uint8Array(buf, results, ABI.MAX_K * ABI.RECORD_BYTES);
    this.#resultFloats = new Float32Array(buf, results, ABI.MAX_K * ABI.RECORD_BYTES / 4);
  }

  #live() {
    // The wasm never grows its memory, but a caller may (`memory.grow`), which detaches the cached
    // views: a detached view has length 0. (Cheaper than comparing with `memory.buffer`, a getter
    // that calls into the engine.)
    if (this.#insert.length === 0) this.#views();
  }

  /** The stored vectors in place (blocks of four: component d of vector i at `vectorAt(i, d)`). */
  #vectorView() { return new Float32Array(this.#mem.buffer, this.#x.get_vectors_ptr(), 4 * 16 * 8); }
  /** The 32 thresholds in place, Q16.16. */
  #thresholdView() { return new Int32Array(this.#mem.buffer, this.#x.snn_get_threshold_ptr(), ABI.CAPACITY); }
  /** The synapse table in place (layout: SYNAPSE_TABLE). */
  #synapseView() { return new Uint8Array(this.#mem.buffer, this.#x.snn_get_synapse_ptr(), SYNAPSE_TABLE.bytes); }

  #id(name, id) {
    const n = this.size;
    if (n === 0) throw new RangeError(`${name} ${shown(id)} does not exist: this core holds no vectors`);
    return intIn(name, id, 0, n - 1);
  }

  #k(k) {
    return intIn('k', k, 1, ABI.MAX_K);
  }

  #setQuery(query) {
    const q = checkVector('query', query, this.#dims);
    this.#live();
    this.#query.set(q);
  }

  /** Reads the first `n` records of the result buffer through the cached views. */
  #records(n) {
    this.#live();
    const bytes = this.#resultBytes;
    const floats = this.#resultFloats;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { id: bytes[8 * i], distance: floats[2 * i + 1] };
    return out;
  }

  /** The raw exports of this core's instance (for zero-copy use of the C ABI). */
  get exports() { return this.#x; }
  /** This core's WebAssembly.Memory. */
  get memory() { return this.#mem; }
  /** Dimensionality. */
  get dims() { return this.#dims; }
  /** Metric name. */
  get metric() { return METRICS[this.#x.get_metric()]; }
  /** Core id stored in every result record. */
  get coreId() { return this.#x.get_core_id(); }
  /** Number of stored vectors. */
  get size() { return this.#x.count(); }
  /** Vectors per core (32). */
  get capacity() { return this.#x.get_capacity(); }

  /** Stores a vector; returns its id (0..31). Throws when full or the vector is invalid. */
  insert(vector) {
    const v = checkVector('vector', vector, this.#dims);
    if (this.size >= ABI.CAPACITY) throw new Error(`this core is full (${ABI.CAPACITY} vectors)`);
    this.#live();
    this.#insert.set(v);
    const id = this.#x.insert();
    if (id === ABI.NONE) throw new Error('insert was rejected');
    return id;
  }

  /**
   * Exact k nearest neighbours, nearest first. `distance` (smaller = closer): squared Euclidean
   * for 'l2', 1 − cosine similarity for 'cosine', −dot product for 'dot'.
   * @returns {{id: number, distance: number}[]} min(k, size) hits
   */
  search(query, k = 5) {
    this.#k(k);
    this.#setQuery(query);
    return this.#records(this.#x.search(k));
  }

  /**
   * `search` without allocating: writes the hits, nearest first, to `ids[0..n)` and
   * `distances[0..n)` and returns n = min(k, size); later entries are left as they were. `ids`: an
   * integer typed array or a Float64Array, `distances`: a Float32Array or Float64Array, each with
   * room for k hits. Arguments are checked before anything is written.
   * @returns {number} the number of hits written
   */
  searchInto(query, k, ids, distances) {
    this.#k(k);
    checkHitArrays(ids, distances, k, ABI.CAPACITY - 1);
    this.#setQuery(query);
    const n = this.#x.search(k);
    this.#live();
    const bytes = this.#resultBytes;
    const floats = this.#resultFloats;
    // Read first: the caller's arrays may be views of any memory, this core's included.
    for (let i = 0; i < n; i++) {
      hitIds[i] = bytes[8 * i];
      hitDistances[i] = floats[2 * i + 1];
    }
    for (let i = 0; i < n; i++) {
      ids[i] = hitIds[i];
      distances[i] = hitDistances[i];
    }
    return n;
  }

  /** Sets a node's type (0..15). */
  setNodeType(id, type) { this.#x.set_node_type(this.#id('id', id), intIn('type', type, 0, 15)); }
  /** A node's type (0..15). */
  nodeType(id) { return this.#x.get_node_type(this.#id('id', id)); }
  /** True when bit `type(id)` of the 16-bit `mask` is set. */
  typeMatches(id, mask) { return this.#x.type_matches(this.#id('id', id), intIn('mask', mask, 0, 0xffff)) === 1; }
  /** Sets the weight (0..255, default 255) of a node's outgoing links (GNN messages, spikes). */
  setEdgeWeight(id, weight) { this.#x.set_edge_weight(this.#id('id', id), intIn('weight', weight, 0, 255)); }
  /** A node's outgoing-link weight. */
  edgeWeight(id) { return this.#x.get_edge_weight(this.#id('id', id)); }
  /** GNN message passing: the mean of the neighbours' vectors weighted by weight/255 (a copy). */
  aggregateNeighbors(id) {
    this.#x.aggregate_neighbors(this.#id('id', id));
    this.#live();
    return this.#delta.slice(0, this.#dims);
  }
  /** A copy of the stored vector `id` (`dims` components, read through `get_vectors_ptr`). */
  vector(id) {
    this.#id('id', id);
    const all = this.#vectorView();
    return Float32Array.from({ length: this.#dims }, (_, d) => all[vectorAt(id, d)]);
  }
  /**
   * v[id] += alpha · delta. `delta` defaults to the buffer left by `aggregateNeighbors`.
   * Both `delta` and the result must lie within ±1e15, and `alpha` (used as an f32) within the f32
   * range; otherwise a RangeError names the value and the vector is left unchanged.
   */
  updateVector(id, alpha, delta = undefined) {
    const v = this.vector(id);
    // The wasm takes alpha as an f32 (finite names one beyond its range), and the check below
    // must use the f32 it multiplies by.
    const a = Math.fround(finite('alpha', alpha));
    this.#live();
    const d = delta === undefined ? this.#delta.slice(0, this.#dims) : Float32Array.from(checkVector('delta', delta, this.#dims));
    for (let i = 0; i < this.#dims; i++) {
      if (!Number.isFinite(d[i])) throw new RangeError(`delta[${i}] is not finite`);
      // The wasm's f32 arithmetic: v + f32(a · d), rounded to f32 (an f32 product is exact in f64).
      const r = Math.fround(v[i] + Math.fround(a * d[i]));
      if (!(Math.abs(r) <= MAX_MAGNITUDE)) {
        throw new RangeError(`updateVector would move component ${i} of vector ${id} to ${r}: components must lie within ±1e15`);
      }
    }
    if (delta === undefined) {
      this.#x.update_vector(id, alpha);
      return;
    }
    // An explicit delta goes through the delta buffer, which then gets the last aggregateNeighbors
    // result back: that stays the default of later calls.
    const kept = this.#delta.slice(0, this.#dims);
    this.#delta.set(d);
    this.#x.update_vector(id, alpha);
    this.#delta.set(kept);
  }

  /** Searches `query` and injects gain / (1 + d − d_best) into each hit's neuron; returns the hits. */
  hnswToSnn(query, k, gain) {
    this.#k(k);
    finite('gain', gain);
    this.#setQuery(query);
    const n = this.#x.hnsw_to_snn(k, gain);
    return this.#records(n);
  }

  /** Resets the spiking network (membranes, thresholds, refractory, traces, rates, time, phase). */
  snnReset() { this.#x.snn_reset(); }
  /** Sets a membrane potential (Q16.16 inside: saturates at ±32768). */
  setMembrane(id, v) { this.#x.snn_set_membrane(this.#id('id', id), finite('v', v)); }
  /** A membrane potential. */
  membrane(id) { return this.#x.snn_get_membrane(this.#id('id', id)); }
  /** A firing threshold as homeostasis has adapted it (read through `snn_get_threshold_ptr`). */
  threshold(id) {
    this.#id('id', id);
    return this.#thresholdView()[id] / 65536;
  }
  /**
   * The neuron's synapses = its graph links, in slot order: `{target, weight}` with the STDP weight
   * 0..255 (value / 256; a new link starts at 128). Read through `snn_get_synapse_ptr`.
   */
  synapses(id) {
    this.#id('id', id);
    const table = this.#synapseView();
    const n = Math.min(table[SYNAPSE_TABLE.count + id], ABI.MAX_NEIGHBORS);
    const out = new Array(n);
    for (let j = 0; j < n; j++) {
      out[j] = { target: table[id * ABI.MAX_NEIGHBORS + j], weight: table[SYNAPSE_TABLE.weight + id * ABI.MAX_NEIGHBORS + j] };
    }
    return out;
  }
  /** Sets a firing threshold (clamped to [1/16, 64]). */
  setThreshold(id, t) { this.#x.snn_set_threshold(this.#id('id', id), finite('threshold', t)); }
  /** Adds input current, consumed by the neuron's next step. */
  inject(id, current) { this.#x.snn_inject(this.#id('id', id), finite('current', current)); }
  /** Did the neuron spike in the last step? */
  spiked(id) { return this.#x.snn_spiked(this.#id('id', id)) === 1; }
  /** Spike bitmap of the last step (bit i = neuron i), unsigned. */
  spikes() { return this.#x.snn_get_spikes() >>> 0; }
  /** One LIF step of `dt` ms (0 < dt ≤ 1000); returns how many neurons spiked. */
  step(dt) { return this.#x.snn_step(timestep(dt)); }
  /** Sends the last step's spikes along the graph: current gain·w/256·edgeWeight/256 per synapse. */
  propagate(gain) { this.#x.snn_propagate(finite('gain', gain)); }
  /** One STDP update of the synaptic weights. */
  stdp() { this.#x.snn_stdp(); }
  /** Timestep (as micro-hnsw-wasm 2.3): step, propagate, STDP if `learn`; returns the spike count. */
  tick(dt, gain, learn = false) {
    if (typeof learn !== 'boolean') throw new TypeError(`learn must be a boolean, got ${typeof learn} ${String(learn)}`);
    return this.#x.snn_tick(timestep(dt), finite('gain', gain), learn ? 1 : 0);
  }
  /** Simulated time in ms. */
  get time() { return this.#x.snn_get_time(); }

  /** Spike-timing code of a stored vector: 8 time slots × 4 lines, larger value = earlier spike. */
  encodeVector(id) { return this.#x.encode_vector_to_spikes(this.#id('id', id)) >>> 0; }
  /** Jaccard similarity of two spike codes (1 for two empty codes). */
  spikeTimingSimilarity(a, b) { return this.#x.spike_timing_similarity(u32('a', a), u32('b', b)); }
  /** k-NN by spike-code similarity; distance = 1 − similarity. */
  spikeSearch(pattern, k = 5) {
    u32('pattern', pattern);
    this.#k(k);
    if (this.size === 0) return [];
    return this.#records(this.#x.spike_search(pattern, k));
  }
  /** Homeostatic threshold adaptation over `dt` ms. */
  homeostaticUpdate(dt) { this.#x.homeostatic_update(timestep(dt)); }
  /** A neuron's spike-rate estimate (spikes/ms). */
  spikeRate(id) { return this.#x.get_spike_rate(this.#id('id', id)); }
  /** Advances the 40 Hz gamma oscillator by `dt` ms. */
  oscillatorStep(dt) { this.#x.oscillator_step(timestep(dt)); }
  /** Oscillator phase in radians, [0, 2π). */
  get phase() { return this.#x.oscillator_get_phase(); }
  /** Resonance in [−1, 1]: 1 when the phase equals the phase of the neuron's last spike. */
  resonance(id) { return this.#x.compute_resonance(this.#id('id', id)); }
  /** k-NN by distance − phaseWeight × resonance (the reported distance). */
  resonanceSearch(query, k = 5, phaseWeight = 0.5) {
    this.#k(k);
    finite('phaseWeight', phaseWeight);
    this.#setQuery(query);
    return this.#records(this.#x.resonance_search(k, phaseWeight));
  }
  /** Forgets the last winner-take-all winner. */
  wtaReset() { this.#x.wta_reset(); }
  /** Hard winner-take-all: the winner's id (others inhibited by 0.8 × its potential), or null. */
  wtaCompete() {
    const w = this.#x.wta_compete();
    return w === ABI.NONE ? null : w;
  }
  /** Soft winner-take-all: each neuron loses 0.8 × its gap to the leader. */
  wtaSoft() { this.#x.wta_soft(); }
  /** Zeroes every dendritic branch. */
  dendriteReset() { this.#x.dendrite_reset(); }
  /** Adds current to branch 0..5 of a neuron. */
  dendriteInject(id, branch, current) {
    this.#x.dendrite_inject(this.#id('id', id), intIn('branch', branch, 0, ABI.MAX_NEIGHBORS - 1), finite('current', current));
  }
  /** Moves the neuron's branches (d ≤ 1: d, above: d²) into its input current; returns the sum. */
  dendriteIntegrate(id) { return this.#x.dendrite_integrate(this.#id('id', id)); }
  /** Sends the last step's spikes into the neighbours' dendritic branches. */
  dendritePropagate(gain) { this.#x.dendrite_propagate(finite('gain', gain)); }
  /** Shifts the last step's spikes into the per-neuron pattern registers. */
  patternRecord() { this.#x.pattern_record(); }
  /** A neuron's spike history (bit t = spiked t recordings ago). */
  pattern(id) { return this.#x.get_pattern(this.#id('id', id)) >>> 0; }
  /** The neuron whose history is nearest `target` in Hamming distance, or null when empty. */
  patternMatch(target) {
    const n = this.#x.pattern_match(u32('target', target));
    return n === ABI.NONE ? null : n;
  }
  /** Bitmap of the other neurons whose history is within `threshold` bits of `id`'s. */
  patternCorrelate(id, threshold) {
    return this.#x.pattern_correlate(this.#id('id', id), intIn('threshold', threshold, 0, 255)) >>> 0;
  }
  /**
   * Neuromorphic k-NN: a rate-coded drive 0.25·dt/(1 + d − d_best) per step, LIF dynamics,
   * propagation along the graph; ranked by (d − d_best)/(1 + spikes). Resets the network.
   */
  neuromorphicSearch(query, k = 5, options = undefined) {
    const { dt = 1, iterations = 10 } = checkOptions('neuromorphicSearch', options, ['dt', 'iterations']);
    this.#k(k);
    timestep(dt);
    intIn('iterations', iterations, 0, 255);
    this.#setQuery(query);
    return this.#records(this.#x.neuromorphic_search(k, dt, iterations));
  }
  /** Sum of the spike-rate estimates (spikes/ms). */
  get networkActivity() { return this.#x.get_network_activity(); }

  /**
   * The index as bytes for `MicroHnsw.fromBytes` (versioned, checksummed): dims, metric, core id,
   * the vectors, node types, edge weights, the thresholds homeostasis adapted, and every link with
   * its STDP weight. The spiking network's moment-to-moment state (membranes, currents, refractory
   * counters, traces, rates, time, phase, dendrites, pattern registers) is not kept: a restored
   * core's network starts at rest with these thresholds and weights.
   */
  toBytes() {
    const x = this.#x;
    const n = x.count();
    const dims = this.#dims;
    const payload = new Uint8Array(4 + n * (4 * dims + 2 + 4 + 1 + 2 * ABI.MAX_NEIGHBORS));
    const view = new DataView(payload.buffer);
    payload.set([dims, x.get_metric(), x.get_core_id(), n]);
    // Read in place, through one view each (the layouts documented at the pointer exports).
    const vectors = this.#vectorView();
    const thresholds = this.#thresholdView();
    const table = this.#synapseView();
    let at = 4;
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < dims; d++, at += 4) view.setFloat32(at, vectors[vectorAt(i, d)], true);
    }
    for (let i = 0; i < n; i++) payload[at++] = x.get_node_type(i);
    for (let i = 0; i < n; i++) payload[at++] = x.get_edge_weight(i);
    for (let i = 0; i < n; i++, at += 4) view.setFloat32(at, thresholds[i] / 65536, true);
    for (let i = 0; i < n; i++) {
      const degree = Math.min(table[SYNAPSE_TABLE.count + i], ABI.MAX_NEIGHBORS);
      payload[at++] = degree;
      for (let j = 0; j < degree; j++) {
        payload[at++] = table[i * ABI.MAX_NEIGHBORS + j];
        payload[at++] = table[SYNAPSE_TABLE.weight + i * ABI.MAX_NEIGHBORS + j];
      }
    }
    return frame(CORE_MAGIC, payload.subarray(0, at));
  }

  /**
   * A new core holding what `toBytes()` saved (in a new instance of the compiled module). The
   * graph is rebuilt by inserting the saved vectors in id order, which gives the saved links
   * unless vectors were moved with `updateVector` before later inserts; each rebuilt link gets
   * its saved STDP weight (a link the save does not hold keeps the initial 128). Truncated,
   * corrupted, foreign, wrong-version or inconsistent bytes throw an Error that says which.
   */
  static fromBytes(bytes) {
    const r = new PayloadReader('micro-HNSW core', unframe('micro-HNSW core', CORE_MAGIC, bytesArgument('MicroHnsw', bytes)));
    const dims = r.u8('dims', 1, ABI.MAX_DIMS);
    const metric = r.u8('metric', 0, 2);
    const coreId = r.u8('coreId');
    const n = r.u8('count', 0, ABI.CAPACITY);
    const vectors = Array.from({ length: n }, (_, i) => Float32Array.from({ length: dims }, (_, d) => {
      const x = r.f32(`vector ${i}`);
      if (!(Math.abs(x) <= MAX_MAGNITUDE)) throw new Error(`malformed micro-HNSW core bytes: component ${d} of vector ${i} is ${x}`);
      return x;
    }));
    const types = Array.from({ length: n }, (_, i) => r.u8(`node type ${i}`, 0, 15));
    const weights = Array.from(r.take(n, 'edge weights'));
    const thresholds = Array.from({ length: n }, (_, i) => {
      const t = r.f32(`threshold ${i}`);
      if (!(t >= 1 / 16 && t <= 64)) throw new Error(`malformed micro-HNSW core bytes: threshold ${i} is ${t}, expected 1/16..64`);
      return t;
    });
    const links = Array.from({ length: n }, (_, i) => Array.from({ length: r.u8(`degree of node ${i}`, 0, ABI.MAX_NEIGHBORS) },
      () => ({ target: r.u8(`a link target of node ${i}`, 0, n - 1), weight: r.u8(`a link weight of node ${i}`) })));
    r.end();
    // toBytes saves a graph's links, which never join a node to itself or repeat a pair.
    links.forEach((list, i) => list.forEach(({ target }, j) => {
      if (target === i) throw new Error(`malformed micro-HNSW core bytes: node ${i} links to itself`);
      if (list.findIndex((l) => l.target === target) !== j) throw new Error(`malformed micro-HNSW core bytes: node ${i} links to node ${target} twice`);
    }));
    const core = new MicroHnsw({ dims, metric, coreId });
    for (const v of vectors) core.insert(v);
    for (let i = 0; i < n; i++) {
      core.setNodeType(i, types[i]);
      core.setEdgeWeight(i, weights[i]);
      core.setThreshold(i, thresholds[i]);
    }
    const table = core.#synapseView();
    for (let i = 0; i < n; i++) {
      const saved = links[i].slice();
      core.synapses(i).forEach(({ target }, j) => {
        const k = saved.findIndex((l) => l.target === target);
        if (k >= 0) table[SYNAPSE_TABLE.weight + i * ABI.MAX_NEIGHBORS + j] = saved.splice(k, 1)[0].weight;
      });
    }
    return core;
  }
}

/**
 * Up to 256 cores of one compiled module: inserts go round-robin to the cores, searches run on
 * every core and their records are merged here in JS, in the order of the raw `merge` export
 * (distance, then core, then rank within a core): one wasm call per core instead of two, and
 * `search_within` with the current k-th best, so a core with nothing better stops early.
 * Global id = core × 32 + local id. Capacity cores × 32 (8,192 with 256 cores).
 */
export class MicroHnswCluster {
  #cores = [];
  /**
   * Per core: [exports, query view, result records as bytes, the same as f32]. The wasm never
   * grows its memory; when a caller does (`cores[i].memory.grow`), the views detach (length 0) and
   * are made again.
   */
  #lanes = [];
  /** The merge's running k best: distances and global ids. */
  #bestDistance = new Float32Array(ABI.MAX_K);
  #bestId = new Int32Array(ABI.MAX_K);
  #dims;
  #metric;
  #maxCores;
  /** The core the next insert tries first (round-robin). */
  #next = 0;

  /** @param {{dims?: number, metric?: 'l2'|'cosine'|'dot'|0|1|2, cores?: number}} [options] */
  constructor(options = undefined) {
    const { dims = 16, metric = 'l2', cores = ABI.MAX_CORES } = checkOptions('MicroHnswCluster', options, ['dims', 'metric', 'cores']);
    this.#dims = intIn('dims', dims, 1, ABI.MAX_DIMS);
    this.#metric = metricCode(metric);
    this.#maxCores = intIn('cores', cores, 1, ABI.MAX_CORES);
    moduleOrThrow();
  }

  /** Dimensionality. */
  get dims() { return this.#dims; }
  /** Metric name. */
  get metric() { return METRICS[this.#metric]; }
  /** Stored vectors over all cores (direct inserts into `cores[i]` included). */
  get size() {
    let n = 0;
    for (const core of this.#cores) n += core.size;
    return n;
  }
  /** cores × 32. */
  get capacity() { return this.#maxCores * ABI.CAPACITY; }
  /** Maximum number of cores. */
  get coreCount() { return this.#maxCores; }
  /** The cores instantiated so far (created as inserts reach them). */
  get cores() { return this.#cores.slice(); }

  /**
   * Stores a vector on the next core in round-robin order that has room (a core filled by direct
   * inserts is skipped); returns its global id.
   */
  insert(vector) {
    const v = checkVector('vector', vector, this.#dims);
    for (let tries = 0; tries < this.#maxCores; tries++) {
      const c = this.#next;
      this.#next = (c + 1) % this.#maxCores;
      // The cursor moves one core at a time from 0, so it is at most one past the last core.
      if (c === this.#cores.length) this.#addCore(c);
      const core = this.#cores[c];
      if (core.size < ABI.CAPACITY) return c * ABI.CAPACITY + core.insert(v);
    }
    throw new Error(`the cluster is full (${this.capacity} vectors)`);
  }

  #addCore(c) {
    this.#adopt(new MicroHnsw({ dims: this.#dims, metric: this.#metric, coreId: c }));
  }

  /** Appends `core` (whose id is its index) with its lane. */
  #adopt(core) {
    this.#cores.push(core);
    this.#lanes.push(this.#laneOf(core));
  }

  #laneOf(core) {
    const x = core.exports;
    return [
      x,
      new Float32Array(x.memory.buffer, x.get_query_ptr(), this.#dims),
      new Uint8Array(x.memory.buffer, x.get_result_ptr(), ABI.MAX_K * ABI.RECORD_BYTES),
      new Float32Array(x.memory.buffer, x.get_result_ptr(), ABI.MAX_K * ABI.RECORD_BYTES / 4),
    ];
  }

  /** A copy of the stored vector with global id `id`. */
  vector(id) {
    if (!Number.isInteger(id) || id < 0 || id >= this.capacity) throw new RangeError(`id must be an integer in 0..${this.capacity - 1}, got ${shown(id)}`);
    const core = this.#cores[Math.floor(id / ABI.CAPACITY)];
    const local = id % ABI.CAPACITY;
    if (core === undefined || local >= core.size) throw new RangeError(`id ${id} does not exist in this cluster`);
    return core.vector(local);
  }

  /** Exact k nearest over every core, nearest first: [{id (global), distance}]. */
  search(query, k = 10) {
    intIn('k', k, 1, ABI.MAX_K);
    const len = this.#nearest(checkVector('query', query, this.#dims), k);
    const out = new Array(len);
    for (let i = 0; i < len; i++) out[i] = { id: this.#bestId[i], distance: this.#bestDistance[i] };
    return out;
  }

  /**
   * `search` without allocating: writes the hits, nearest first, to `ids[0..n)` (global ids) and
   * `distances[0..n)` and returns n = min(k, size); later entries are left as they were. `ids`: an
   * integer typed array that holds ids up to `capacity − 1` (Uint16Array and wider for more than 8
   * cores) or a Float64Array, `distances`: a Float32Array or Float64Array, each with room for k
   * hits. Arguments are checked before anything is written.
   * @returns {number} the number of hits written
   */
  searchInto(query, k, ids, distances) {
    intIn('k', k, 1, ABI.MAX_K);
    checkHitArrays(ids, distances, k, this.capacity - 1);
    const len = this.#nearest(checkVector('query', query, this.#dims), k);
    for (let i = 0; i < len; i++) {
      ids[i] = this.#bestId[i];
      distances[i] = this.#bestDistance[i];
    }
    return len;
  }

  /** The k nearest of the checked query `q` into #bestId / #bestDistance; returns how many. */
  #nearest(q, k) {
    const dist = this.#bestDistance;
    const ids = this.#bestId;
    let len = 0;
    for (let c = 0; c < this.#lanes.length; c++) {
      let lane = this.#lanes[c];
      if (lane[1].length === 0) lane = this.#lanes[c] = this.#laneOf(this.#cores[c]); // memory grown
      const [x, queryView, bytes, floats] = lane;
      queryView.set(q);
      const n = x.search_within(k, len === k ? dist[k - 1] : Infinity);
      // A core's records are sorted: the first one that does not beat the k-th best ends it. A
      // record goes after equal distances already kept (earlier cores first, as `merge` does).
      for (let r = 0; r < n; r++) {
        const d = floats[2 * r + 1];
        if (len === k && !(d < dist[k - 1])) break;
        let p = len < k ? len++ : k - 1;
        for (; p > 0 && dist[p - 1] > d; p--) {
          dist[p] = dist[p - 1];
          ids[p] = ids[p - 1];
        }
        dist[p] = d;
        ids[p] = c * ABI.CAPACITY + bytes[8 * r];
      }
    }
    return len;
  }

  /**
   * The whole cluster as bytes for `MicroHnswCluster.fromBytes`: its options, the round-robin
   * position and every core's `toBytes()` (see there for what a core keeps).
   */
  toBytes() {
    const cores = this.#cores.map((core) => core.toBytes());
    const payload = new Uint8Array(8 + cores.reduce((s, c) => s + 4 + c.length, 0));
    const view = new DataView(payload.buffer);
    payload[0] = this.#dims;
    payload[1] = this.#metric;
    view.setUint16(2, this.#maxCores, true);
    view.setUint16(4, this.#next, true);
    view.setUint16(6, cores.length, true);
    let at = 8;
    for (const c of cores) {
      view.setUint32(at, c.length, true);
      payload.set(c, at + 4);
      at += 4 + c.length;
    }
    return frame(CLUSTER_MAGIC, payload);
  }

  /**
   * A new cluster holding what `toBytes()` saved; it answers searches as the saved one did and
   * goes on inserting where it left off. Bad bytes throw an Error that says what is wrong.
   */
  static fromBytes(bytes) {
    const what = 'micro-HNSW cluster';
    const r = new PayloadReader(what, unframe(what, CLUSTER_MAGIC, bytesArgument('MicroHnswCluster', bytes)));
    const dims = r.u8('dims', 1, ABI.MAX_DIMS);
    const metric = r.u8('metric', 0, 2);
    const maxCores = r.u16('cores', 1, ABI.MAX_CORES);
    const next = r.u16('the next core', 0, maxCores - 1);
    const count = r.u16('the number of cores', next, maxCores);
    const cluster = new MicroHnswCluster({ dims, metric, cores: maxCores });
    for (let c = 0; c < count; c++) {
      const coreBytes = r.take(r.u32(`the length of core ${c}`), `core ${c}`);
      let core;
      try {
        core = MicroHnsw.fromBytes(coreBytes);
      } catch (e) {
        throw new Error(`malformed ${what} bytes: core ${c}: ${e.message}`);
      }
      if (core.dims !== dims || core.exports.get_metric() !== metric || core.coreId !== c) {
        throw new Error(`malformed ${what} bytes: core ${c} has dims ${core.dims}, metric ${core.metric}, id ${core.coreId}; the cluster has dims ${dims}, metric ${METRICS[metric]}`);
      }
      cluster.#adopt(core);
    }
    r.end();
    cluster.#next = next;
    return cluster;
  }
}
