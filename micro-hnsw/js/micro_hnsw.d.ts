/**
 * sona-wasm/micro-hnsw — a sub-12 KB neuromorphic vector index.
 *
 * One *core* holds 32 vectors of up to 16 dimensions and answers exact k-nearest-neighbour queries
 * with SIMD128 kernels; every vector is also a leaky integrate-and-fire neuron of a fixed-point
 * spiking network whose synapses are the proximity graph. Each {@link MicroHnsw} is its own
 * `WebAssembly.Instance` (64 KiB of memory) of one shared compiled module;
 * {@link MicroHnswCluster} spreads up to 8,192 vectors over 256 cores.
 *
 * Distances are always "smaller = closer": `'l2'` = squared Euclidean distance,
 * `'cosine'` = 1 − cosine similarity (1 when either vector is zero), `'dot'` = −(a·b).
 *
 * Bad arguments throw `TypeError`/`RangeError` (the raw ABI would return a sentinel instead),
 * including any id on an empty core (ids are 0..size − 1). A number the wasm takes as an f32
 * (gain, current, membrane, threshold, alpha, phaseWeight, dt) must stay finite as an f32
 * (|x| < 3.4028235e38), and a dt positive as an f32 (≥ 2^−149): 1e39 or a dt of 1e-50 throw.
 */

/** Raw-ABI constants of `micro_hnsw.wasm`. */
export declare const ABI: Readonly<{
  /** Vectors (and neurons) per core: 32. */
  CAPACITY: 32;
  /** Maximum dimensionality: 16. */
  MAX_DIMS: 16;
  /** Maximum k: 16. */
  MAX_K: 16;
  /** Graph neighbours = synapses = dendritic branches per node: 6. */
  MAX_NEIGHBORS: 6;
  /** "No such index" sentinel of the u8 ABI: 255. */
  NONE: 255;
  /** Bytes per result record `{idx:u8, core_id:u8, pad:u16, distance:f32}`: 8. */
  RECORD_BYTES: 8;
  /** Cores per cluster: 256. */
  MAX_CORES: 256;
  /** Largest timestep in ms: 1000. */
  MAX_DT_MS: 1000;
  METRIC_L2: 0;
  METRIC_COSINE: 1;
  METRIC_DOT: 2;
}>;

/** Anything `init` can compile from. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/**
 * Compiles `micro_hnsw.wasm` once; later calls return the same module. Default source:
 * `micro_hnsw.wasm` next to this file (`file:` URLs are read from disk under Node/Deno).
 */
export declare function init(source?: InitInput | Promise<InitInput>): Promise<WebAssembly.Module>;

/** Synchronous {@link init} from bytes or an already compiled module. */
export declare function initSync(source: BufferSource | WebAssembly.Module): WebAssembly.Module;

/** A metric by name or by its ABI code. */
export type Metric = 'l2' | 'cosine' | 'dot' | 0 | 1 | 2;

/**
 * A vector argument: exactly `dims` finite numbers within ±1e15 (larger components would overflow
 * the f32 distance sums to ±∞); anything else throws a RangeError naming the component. `length`
 * and each component are read once, and the values checked are the values used.
 */
export type VectorLike = Float32Array | ArrayLike<number>;

/**
 * Where `searchInto` writes hit ids: an integer typed array wide enough for every id of the index
 * (any of them for one core's 0..31; a cluster of more than 8 cores needs Uint16Array or wider)
 * or a Float64Array.
 */
export type IdArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float64Array;

/** One search hit. */
export interface Hit {
  /** Id returned by `insert` (for a cluster: core × 32 + local id). */
  id: number;
  /** Distance to the query, smaller = closer (see the module docs per metric). */
  distance: number;
}

/** One synapse of {@link MicroHnsw.synapses}. */
export interface Synapse {
  /** Id of the neuron (stored vector) it feeds. */
  target: number;
  /** STDP-learned weight 0..255 (value / 256). */
  weight: number;
}

/** Options of `new MicroHnsw`; any other key throws a TypeError naming it. */
export interface MicroHnswOptions {
  /** 1..16, default 16. */
  dims?: number;
  /** Default `'l2'`. */
  metric?: Metric;
  /** 0..255, copied into every result record; default 0. */
  coreId?: number;
}

/** Raw exports of one core's instance (the micro-hnsw-wasm 2.3 C ABI plus four extras; u8 indices, 255 = none). */
export interface MicroHnswExports {
  memory: WebAssembly.Memory;
  init(dims: number, metric: number, coreId: number): void;
  get_insert_ptr(): number;
  get_query_ptr(): number;
  get_result_ptr(): number;
  get_global_ptr(): number;
  insert(): number;
  search(k: number): number;
  /** Extra (not in 2.3): `search(k)` keeping only records at distance ≤ bound; 0 for a NaN bound. */
  search_within(k: number, bound: number): number;
  merge(ptr: number, count: number): number;
  clear_global(): void;
  count(): number;
  get_core_id(): number;
  get_metric(): number;
  get_dims(): number;
  get_capacity(): number;
  /**
   * Extra (not in 2.3): address of the 32 stored vectors, 2,048 bytes of f32 in blocks of four:
   * component d of vector i is element (i >> 2) * 64 + d * 4 + (i & 3).
   */
  get_vectors_ptr(): number;
  /** Extra (not in 2.3): address of the 32 thresholds, i32 Q16.16 (value / 65536). */
  snn_get_threshold_ptr(): number;
  /**
   * Extra (not in 2.3): address of the 416-byte synapse table: target u8[32][6] at +0,
   * count u8[32] at +192 (slots used: min(count, 6)), STDP weight u8[32][6] (value / 256) at +224.
   */
  snn_get_synapse_ptr(): number;
  [name: string]: unknown;
}

/** One micro-HNSW core. Requires {@link init} / {@link initSync} first. */
export declare class MicroHnsw {
  constructor(options?: MicroHnswOptions);
  /** Like the constructor but instantiates asynchronously (preferred on browser main threads). */
  static create(options?: MicroHnswOptions): Promise<MicroHnsw>;

  /** The instance's raw exports, for zero-copy use of the C ABI. */
  readonly exports: MicroHnswExports;
  /** The instance's memory (one 64 KiB page; the module never grows it — a caller may, the wrapper follows). */
  readonly memory: WebAssembly.Memory;
  readonly dims: number;
  readonly metric: 'l2' | 'cosine' | 'dot';
  readonly coreId: number;
  /** Stored vectors. */
  readonly size: number;
  /** 32. */
  readonly capacity: number;

  /** Stores a vector and links it into the graph; returns its id 0..31. Throws when full. */
  insert(vector: VectorLike): number;
  /** Exact k (1..16, default 5) nearest neighbours, nearest first; min(k, size) hits. */
  search(query: VectorLike, k?: number): Hit[];
  /**
   * `search` without allocating: writes the hits, nearest first, to `ids[0..n)` and
   * `distances[0..n)` and returns n = min(k, size); later entries keep their values. Each array
   * needs room for `k` hits; arguments are checked (TypeError/RangeError) before anything is written.
   */
  searchInto(query: VectorLike, k: number, ids: IdArray, distances: Float32Array | Float64Array): number;

  /** Sets a node's type, 0..15. */
  setNodeType(id: number, type: number): void;
  nodeType(id: number): number;
  /** True when bit `nodeType(id)` of the 16-bit mask is set. */
  typeMatches(id: number, mask: number): boolean;
  /** Weight 0..255 (default 255) of a node's outgoing links: scales GNN messages and spikes. */
  setEdgeWeight(id: number, weight: number): void;
  edgeWeight(id: number): number;
  /** Mean of the neighbours' vectors, each scaled by its edge weight / 255 (a copy of `dims` values). */
  aggregateNeighbors(id: number): Float32Array;
  /** A copy of stored vector `id` (`dims` components, as stored: f32, cosine vectors not normalised). */
  vector(id: number): Float32Array;
  /**
   * `v[id] += alpha · delta`; `delta` defaults to this core's last {@link aggregateNeighbors}
   * result (zeros before the first; an explicit `delta` does not replace it).
   * Links are kept. Both `delta` and the resulting vector must lie within ±1e15, and `alpha` (used
   * as an f32) within the f32 range (RangeError naming the value; the vector is left unchanged).
   */
  updateVector(id: number, alpha: number, delta?: VectorLike): void;

  /** Searches, then injects `gain / (1 + d − d_best)` into each hit's neuron; returns the hits. */
  hnswToSnn(query: VectorLike, k: number, gain: number): Hit[];
  /** Resets membranes, thresholds (1.0), refractory timers, traces, rates, time and phase. */
  snnReset(): void;
  /** Sets a membrane potential (Q16.16 inside, saturating at ±32768). */
  setMembrane(id: number, v: number): void;
  membrane(id: number): number;
  /** A firing threshold as homeostasis has adapted it (1.0 after a reset, within [1/16, 64]). */
  threshold(id: number): number;
  /**
   * The neuron's synapses — its graph links — in slot order (at most 6): `target` is the id of the
   * neuron it feeds, `weight` the STDP-learned weight 0..255 (value / 256; a new link starts at 128).
   */
  synapses(id: number): Synapse[];
  /** Sets a firing threshold (clamped to [1/16, 64]). */
  setThreshold(id: number, threshold: number): void;
  /** Adds input current, consumed by the neuron's next step. */
  inject(id: number, current: number): void;
  /** Did the neuron spike in the last step? */
  spiked(id: number): boolean;
  /** Spike bitmap of the last step (bit i = neuron i). */
  spikes(): number;
  /** One LIF step of dt ms (0 < dt ≤ 1000; τ_m 20 ms, refractory 2 ms); returns the spike count. */
  step(dt: number): number;
  /** Sends the last spikes along the graph: gain · w/256 · edgeWeight/256 per synapse. */
  propagate(gain: number): void;
  /** One pair-based STDP update of the synaptic weights (A+ 0.01, A− 0.012, τ 20 ms). */
  stdp(): void;
  /**
   * The timestep, as micro-hnsw-wasm 2.3's `snn_tick`: step, propagate, STDP when `learn` (a boolean,
   * default false). Spike count. Homeostasis and the oscillator are `homeostaticUpdate(dt)` and
   * `oscillatorStep(dt)`, run at the caller's rate (e.g. after each tick).
   */
  tick(dt: number, gain: number, learn?: boolean): number;
  /** Simulated time in ms. */
  readonly time: number;

  /** Spike-timing code of a stored vector: 8 time slots × 4 lines, larger component = earlier. */
  encodeVector(id: number): number;
  /** Jaccard similarity of two spike codes, 1 for two empty codes. */
  spikeTimingSimilarity(a: number, b: number): number;
  /** k-NN (k default 5) by spike-code similarity; distance = 1 − similarity. */
  spikeSearch(pattern: number, k?: number): Hit[];
  /** Homeostatic threshold adaptation (target 0.1 spikes/ms, τ 1000 ms). */
  homeostaticUpdate(dt: number): void;
  /** Spike-rate estimate in spikes/ms. */
  spikeRate(id: number): number;
  /** Advances the 40 Hz gamma oscillator. */
  oscillatorStep(dt: number): void;
  /** Oscillator phase in radians, [0, 2π). */
  readonly phase: number;
  /** Resonance in [−1, 1] between the phase now and the phase of the neuron's last spike. */
  resonance(id: number): number;
  /** k-NN (k default 5) by `distance − phaseWeight × resonance` (phaseWeight default 0.5), which is the reported distance. */
  resonanceSearch(query: VectorLike, k?: number, phaseWeight?: number): Hit[];
  /** Forgets the last winner-take-all winner. */
  wtaReset(): void;
  /** Hard WTA: the neuron with the highest membrane wins, the others lose 0.8 × its potential. */
  wtaCompete(): number | null;
  /** Soft WTA: every neuron loses 0.8 × its gap to the leader. */
  wtaSoft(): void;
  /** Zeroes every dendritic branch. */
  dendriteReset(): void;
  /** Adds current to branch 0..5 of a neuron (branch b = the synapse in slot b). */
  dendriteInject(id: number, branch: number, current: number): void;
  /** Moves the branches (d ≤ 1 → d, d > 1 → d²) into the neuron's input current; returns the sum. */
  dendriteIntegrate(id: number): number;
  /** Sends the last spikes into the neighbours' dendritic branches. */
  dendritePropagate(gain: number): void;
  /** Shifts the last step's spikes into the per-neuron 32-bit pattern registers. */
  patternRecord(): void;
  /** A neuron's spike history: bit t = spiked t recordings ago. */
  pattern(id: number): number;
  /** Neuron whose history is nearest `target` (Hamming), null when the core is empty. */
  patternMatch(target: number): number | null;
  /** Bitmap of the other neurons within `threshold` differing bits of `id`'s history. */
  patternCorrelate(id: number, threshold: number): number;
  /**
   * Neuromorphic k-NN: resets the network, then for `iterations` steps drives each neuron with
   * 0.25·dt/(1 + d − d_best), runs LIF and propagation; hits ranked by (d − d_best)/(1 + spikes),
   * reported with their metric distance. Defaults: k 5, dt 1 ms, 10 iterations. `options` must be
   * undefined or an object with only these keys (else a TypeError naming it).
   */
  neuromorphicSearch(query: VectorLike, k?: number, options?: { dt?: number; iterations?: number }): Hit[];
  /** Sum of the spike-rate estimates (spikes/ms). */
  readonly networkActivity: number;
  /**
   * The index as bytes for `MicroHnsw.fromBytes` (magic, format version, length, CRC-32): dims,
   * metric, core id, vectors, node types, edge weights, adapted thresholds, links with their STDP
   * weights. The network's moment-to-moment state (membranes, traces, rates, time, phase, dendrites,
   * pattern registers) is not kept: a restored network starts at rest.
   */
  toBytes(): Uint8Array;
  /**
   * A new core holding what `toBytes()` saved. The graph is rebuilt by inserting the vectors in id
   * order (the saved links, unless `updateVector` moved vectors before later inserts); each rebuilt
   * link gets its saved STDP weight. Throws an Error naming the problem for truncated, corrupted,
   * foreign, wrong-version or inconsistent bytes, a TypeError for a non-bytes argument.
   */
  static fromBytes(bytes: ArrayBufferView | ArrayBufferLike): MicroHnsw;
}

/** Options of `new MicroHnswCluster`; any other key throws a TypeError naming it. */
export interface MicroHnswClusterOptions {
  /** 1..16, default 16. */
  dims?: number;
  /** Default `'l2'`. */
  metric?: Metric;
  /** 1..256, default 256 (capacity cores × 32). */
  cores?: number;
}

/**
 * Up to 256 cores of one compiled module. Inserts go round-robin over the cores; a search runs
 * on every core and the results are merged in the raw `merge` export's order (distance, then
 * core, then rank within a core).
 */
export declare class MicroHnswCluster {
  constructor(options?: MicroHnswClusterOptions);
  readonly dims: number;
  readonly metric: 'l2' | 'cosine' | 'dot';
  readonly size: number;
  /** cores × 32. */
  readonly capacity: number;
  readonly coreCount: number;
  /** The cores created so far. Direct inserts into one count in `size` and `search`; the cluster's own inserts skip a full core. */
  readonly cores: MicroHnsw[];
  /** Stores a vector on the next core (round-robin) with room; returns its global id (core × 32 + local id). */
  insert(vector: VectorLike): number;
  /** A copy of the stored vector with global id `id` (RangeError for an id not stored). */
  vector(id: number): Float32Array;
  /** Exact k (1..16, default 10) nearest over all cores, nearest first. */
  search(query: VectorLike, k?: number): Hit[];
  /**
   * `search` without allocating: global ids to `ids[0..n)`, distances to `distances[0..n)`,
   * returns n = min(k, size). `ids` must hold ids up to `capacity − 1` (a RangeError names a type
   * too narrow); each array needs room for `k` hits; nothing is written when an argument is bad.
   */
  searchInto(query: VectorLike, k: number, ids: IdArray, distances: Float32Array | Float64Array): number;
  /** The whole cluster as bytes for `MicroHnswCluster.fromBytes`: options, round-robin position, every core's `toBytes()`. */
  toBytes(): Uint8Array;
  /** A new cluster holding what `toBytes()` saved: same search answers, inserts continue where it left off. Bad bytes throw an Error naming the problem. */
  static fromBytes(bytes: ArrayBufferView | ArrayBufferLike): MicroHnswCluster;
}
