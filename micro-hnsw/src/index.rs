//! One core's complete state and every operation of the ABI, validated, as plain Rust.
//!
//! [`MicroHnsw`] is what the wasm exports drive (one static instance per wasm instance); natively
//! it is an ordinary value, so every operation is tested with `cargo test`. Each method documents
//! its sentinel: bad input (an index ≥ `count`, `k` of 0 or above 16, a NaN or infinite number, a
//! full core, …) returns 255 / 0 / 0.0 and leaves the state exactly as it was.
use crate::dendrite::Dendrites;
use crate::distance::{norm, Metric, Vector};
use crate::graph::Graph;
use crate::search::{self, ResultRecord, Results};
use crate::snn::{fx_from_f32, fx_from_f32_inline, fx_to_f32, Fx, SnnCore, NEURONS};
use crate::temporal::{self, Patterns};
use crate::{node, MAX_DIMS, MAX_RESULTS, NONE};

/// Largest accepted timestep, in ms.
pub const MAX_DT_MS: f32 = crate::snn::DT_MAX_MS as f32;
/// Weight a node's outgoing links carry until `set_edge_weight` changes it (the maximum).
pub const DEFAULT_NODE_WEIGHT: u8 = 255;
/// Gain of the spike propagation inside [`MicroHnsw::neuromorphic_search`].
pub const NEUROMORPHIC_GAIN: f32 = 0.5;
/// Drive of the nearest vector per ms of simulated time in [`MicroHnsw::neuromorphic_search`].
pub const NEUROMORPHIC_DRIVE: f32 = 0.25;

/// True for a finite `f32` (not NaN, not ±∞). Out of line: one copy serves the cold checks
/// (size budget); `valid_finite` and `snn_tick` inline [`finite_inline`].
#[inline(never)]
pub fn finite(x: f32) -> bool {
    finite_inline(x)
}

/// [`finite`], inlined.
#[inline(always)]
pub fn finite_inline(x: f32) -> bool {
    x.is_finite()
}

/// Whether the first `dims` (≤ 16) components of `v` are all finite. On wasm32 four `v128`
/// lanes at once: each bit pattern shifted left by one (the sign bit dropped, the rest in the
/// order of |x|) is below that of +∞ shifted, 0xFF00_0000 unsigned, exactly when x is neither
/// ±∞ nor NaN; the largest among the live lanes decides.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
pub fn finite_prefix(v: &Vector, dims: usize) -> bool {
    use core::arch::wasm32::*;
    let mut m = u32x4_splat(0);
    for j in 0..MAX_DIMS / 4 {
        // SAFETY: j < 4, so the 16 bytes read lie inside the 64-byte array; no alignment needed.
        let x = unsafe { v128_load(v.as_ptr().add(4 * j) as *const v128) };
        // Lane l holds component 4j + l, live iff dims − 4j > l (dims ≤ 16: no overflow).
        let live = i32x4_gt(i32x4_splat(dims as i32 - 4 * j as i32), i32x4(0, 1, 2, 3));
        m = u32x4_max(m, v128_and(i32x4_shl(x, 1), live));
    }
    // m ≥ 0xFF00_0000 ⇔ its top byte is all ones ⇔ m >> 24 (arithmetic) is −1 ⇔ !(m >> 24) is 0.
    i32x4_all_true(v128_not(i32x4_shr(m, 24)))
}

/// Whether the first `dims` (≤ 16) components of `v` are all finite (scalar twin).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn finite_prefix(v: &Vector, dims: usize) -> bool {
    v.iter().take(dims).all(|&x| finite(x))
}

/// Fills a result buffer with empty records (out of line: one copy serves `reset` and
/// `clear_global`; the searches' own fill stays inline).
#[inline(never)]
fn empty(r: &mut Results) {
    *r = [ResultRecord::EMPTY; MAX_RESULTS];
}

/// One micro-HNSW core.
pub struct MicroHnsw {
    /// Vectors and the proximity graph (= synapse table).
    pub graph: Graph,
    /// The fixed-point spiking network, one neuron per vector.
    pub snn: SnnCore,
    /// Dendritic branches, one per synapse slot.
    pub dendrites: Dendrites,
    /// Temporal spike-pattern shift registers.
    pub patterns: Patterns,
    /// Per-node weight of outgoing links (`set_edge_weight`), 0..=255.
    pub node_weight: [u8; NEURONS],
    /// Per-node type, 0..=15.
    pub node_type: [u8; NEURONS],
    /// This core's id, copied into every result record.
    pub core_id: u8,
    /// Input buffer of `insert`.
    pub insert_buf: Vector,
    /// Input buffer of every query.
    pub query_buf: Vector,
    /// Delta buffer of `aggregate_neighbors` / `update_vector`.
    pub delta: Vector,
    /// Results of the last search, sorted by distance, empty records after the last hit.
    pub results: Results,
    /// Results merged across cores.
    pub global: Results,
}

impl Default for MicroHnsw {
    fn default() -> Self {
        Self::new()
    }
}

impl MicroHnsw {
    /// An empty 16-dimensional L2 core with id 0.
    pub const fn new() -> MicroHnsw {
        MicroHnsw {
            graph: Graph::new(),
            snn: SnnCore::new(),
            dendrites: Dendrites::new(),
            patterns: Patterns::new(),
            node_weight: [DEFAULT_NODE_WEIGHT; NEURONS],
            node_type: [0; NEURONS],
            core_id: 0,
            insert_buf: [0.0; MAX_DIMS],
            query_buf: [0.0; MAX_DIMS],
            delta: [0.0; MAX_DIMS],
            results: [ResultRecord::EMPTY; MAX_RESULTS],
            global: [ResultRecord::EMPTY; MAX_RESULTS],
        }
    }

    /// Empties the core and sets its dimensionality (1..=16), metric (0 L2, 1 cosine, 2 dot) and
    /// id; every other piece of state returns to its initial value. Returns false, changing
    /// nothing, for `dims` 0 or above 16 or an unknown metric.
    pub fn init(&mut self, dims: u8, metric: u8, core_id: u8) -> bool {
        let Some(metric) = Metric::from_u8(metric) else { return false };
        if dims == 0 || dims as usize > MAX_DIMS {
            return false;
        }
        self.reset();
        self.graph.dims = dims;
        self.graph.metric = metric;
        self.core_id = core_id;
        true
    }

    /// Back to the initial state: empty, every buffer and the network cleared, node weights 255,
    /// result buffers empty; dims 16, metric L2, core 0 until [`init`](Self::init) sets them.
    /// All-zero bytes are a valid `MicroHnsw` (only integers, floats, arrays of them and
    /// `Metric::L2` = 0), so this zero-fills the whole value (one `memory.fill` in the wasm) and
    /// then sets the few fields whose initial value is not zero.
    pub fn reset(&mut self) {
        // SAFETY: every field of MicroHnsw is valid as all-zero bytes (see above); `self` is a
        // valid, exclusive reference to one MicroHnsw.
        unsafe { crate::fill_bytes(self as *mut MicroHnsw as *mut u8, 0, core::mem::size_of::<MicroHnsw>()) };
        self.graph.dims = MAX_DIMS as u8;
        self.reset_network();
        // SAFETY: the 32 bytes of `node_weight`, exclusively borrowed.
        unsafe { crate::fill_bytes(self.node_weight.as_mut_ptr(), DEFAULT_NODE_WEIGHT, NEURONS) };
        empty(&mut self.results);
        empty(&mut self.global);
    }

    /// The spiking network back to its initial state (kept out of line: one copy in the binary
    /// serves [`reset`](Self::reset) and [`neuromorphic_search`](Self::neuromorphic_search)).
    #[inline(never)]
    pub fn reset_network(&mut self) {
        self.snn.reset();
    }

    /// Number of stored vectors.
    pub fn count(&self) -> u8 {
        self.graph.count
    }

    fn dims(&self) -> usize {
        (self.graph.dims as usize).min(MAX_DIMS)
    }

    /// The first `dims` components of `buf`, zero-padded, or `None` if any is NaN or infinite.
    fn read(&self, buf: &Vector) -> Option<Vector> {
        let dims = self.dims();
        if !finite_prefix(buf, dims) {
            return None;
        }
        let mut v = [0.0; MAX_DIMS];
        v[..dims].copy_from_slice(&buf[..dims]);
        Some(v)
    }

    /// Validates the query buffer in place (its first `dims` components finite), zeroes the
    /// components beyond `dims` (which no query reads) and returns the query's norm, computed
    /// only for the cosine metric, the only one that uses it (0 otherwise); NaN, changing nothing,
    /// for a NaN/∞ component (a finite query's norm is never NaN: at worst +∞). A plain f32, not an
    /// `Option`: that would be returned through memory.
    fn query(&mut self) -> f32 {
        let dims = self.dims();
        if !finite_prefix(&self.query_buf, dims) {
            return f32::NAN;
        }
        // Empty for 16 dimensions: no test of its own (the fill's length test covers it; size
        // budget).
        self.query_buf[dims..].fill(0.0);
        if self.graph.metric == Metric::Cosine {
            norm(&self.query_buf)
        } else {
            0.0
        }
    }

    // `valid` and `valid_k` are out of line: one copy each instead of one per export (size budget).
    #[inline(never)]
    pub(crate) fn valid(&self, idx: u8) -> bool {
        idx < self.graph.count
    }

    /// A stored index and a finite number (the check of every setter that takes an f32).
    #[inline(never)]
    fn valid_finite(&self, idx: u8, x: f32) -> bool {
        self.valid(idx) && finite_inline(x)
    }

    /// A `k` in 1..=16 and a core that is not empty. `query_distances` (every search by
    /// distance) inlines [`valid_k_inline`](Self::valid_k_inline): the call cost `search` about
    /// 1 % for 9 bytes saved.
    #[inline(never)]
    fn valid_k(&self, k: u8) -> bool {
        self.valid_k_inline(k)
    }

    /// [`valid_k`](Self::valid_k), inlined.
    #[inline(always)]
    fn valid_k_inline(&self, k: u8) -> bool {
        k != 0 && k as usize <= MAX_RESULTS && self.graph.count != 0
    }

    /// The common start of the searches by distance: unless `k` is bad, `ok` (the caller's own
    /// argument check) is false or the query is NaN/∞, prepares the query (see
    /// [`query`](Self::query)), writes the distances to the stored vectors into `out` and returns
    /// how many (≥ 1); 0, changing nothing, otherwise. Out of line: one copy serves
    /// [`search_within`](Self::search_within), `resonance_search` and `neuromorphic_search`
    /// (size budget).
    #[inline(never)]
    fn query_distances(&mut self, k: u8, ok: bool, out: &mut [f32; NEURONS]) -> usize {
        if !self.valid_k_inline(k) || !ok {
            return 0;
        }
        let qn = self.query();
        if qn.is_nan() {
            return 0;
        }
        // Inlined: the call cost the search about 0.5 % for 15 bytes saved.
        let n = self.graph.len_inline();
        self.graph.distances(&self.query_buf, qn, n, out);
        n
    }

    /// The `k` (checked by the caller) smallest of `key[..n]` into the result buffer, as
    /// [`search::top_k`] with no bound: the end of the searches that rank by a key of their own
    /// (`spike_search` and `resonance_search` through `keyed_search`, `neuromorphic_search`). Out
    /// of line: one copy of the call's arguments (k's mask, the core id, +∞) serves both callers
    /// (size budget; inlined into `keyed_search` it measured 4 bytes more).
    #[inline(never)]
    fn rank(&mut self, key: &[f32; NEURONS], n: usize, k: u8) -> u32 {
        search::top_k(key, n, k as usize, self.core_id as u32, &mut self.results, f32::INFINITY)
    }

    /// Stores the insert buffer. Returns the new index, or 255 when the core is full or the
    /// vector holds NaN/∞.
    pub fn insert(&mut self) -> u32 {
        match self.read(&self.insert_buf) {
            Some(v) => self.graph.insert(&v),
            None => NONE as u32,
        }
    }

    /// Exact k nearest neighbours of the query buffer into the result buffer. Returns
    /// `min(k, count)`; 0 (results untouched) for k = 0 or > 16, an empty core or a NaN/∞ query.
    pub fn search(&mut self, k: u8) -> u32 {
        self.search_within(k, f32::INFINITY)
    }

    /// [`search`](Self::search) keeping only the records at distance ≤ `bound` (the rest of the
    /// buffer emptied); returns how many. A caller merging cores passes its current k-th best, so
    /// a core with nothing better stops after one selection round. 0 (results untouched) for the
    /// inputs `search` rejects and for a NaN bound.
    #[inline(never)]
    pub fn search_within(&mut self, k: u8, bound: f32) -> u32 {
        // The exact scan: every distance, then the k smallest within the bound.
        let mut keys = core::mem::MaybeUninit::uninit();
        let dist = search::zeroed_keys(&mut keys);
        let n = self.query_distances(k, !bound.is_nan(), dist);
        if n == 0 {
            return 0;
        }
        search::top_k(dist, n, k as usize, self.core_id as u32, &mut self.results, bound)
    }

    /// Merges `records` into the global buffer (16 best by distance; empty records and NaN
    /// distances skipped). Returns the number of global records, or 0 (nothing changed) when
    /// more than 16 records are passed.
    pub fn merge(&mut self, records: &[ResultRecord]) -> u32 {
        if records.len() > MAX_RESULTS {
            return 0;
        }
        search::merge(&mut self.global, records)
    }

    /// Empties the global buffer.
    pub fn clear_global(&mut self) {
        empty(&mut self.global);
    }

    /// Sets the type (0..=15) of a stored node; ignored for a bad index or type.
    pub fn set_node_type(&mut self, idx: u8, t: u8) {
        if self.valid(idx) && t < 16 {
            self.node_type[node(idx as usize)] = t;
        }
    }

    /// Type of a stored node, 255 for a bad index.
    pub fn node_type(&self, idx: u8) -> u8 {
        if self.valid(idx) {
            self.node_type[node(idx as usize)]
        } else {
            NONE
        }
    }

    /// 1 when bit `type(idx)` of `mask` is set, else 0 (also for a bad index).
    pub fn type_matches(&self, idx: u8, mask: u16) -> u8 {
        if self.valid(idx) {
            ((mask >> self.node_type[node(idx as usize)]) & 1) as u8
        } else {
            0
        }
    }

    /// Sets the weight (0..=255, 255 = full) of a stored node's outgoing links; ignored for a
    /// bad index.
    pub fn set_edge_weight(&mut self, idx: u8, w: u8) {
        if self.valid(idx) {
            self.node_weight[node(idx as usize)] = w;
        }
    }

    /// Weight of a stored node's outgoing links, 0 for a bad index.
    pub fn edge_weight(&self, idx: u8) -> u8 {
        if self.valid(idx) {
            self.node_weight[node(idx as usize)]
        } else {
            0
        }
    }

    /// GNN message passing: `delta = Σ_{m ∈ N(idx)} (node_weight[m]/255) · v_m / |N(idx)|` (zero
    /// for a node without links). Ignored for a bad index.
    pub fn aggregate_neighbors(&mut self, idx: u8) {
        if !self.valid(idx) {
            return;
        }
        let g = &self.graph;
        let nb = g.neighbors(idx as usize);
        // Accumulated in the delta buffer itself.
        let acc = &mut self.delta;
        *acc = [0.0; MAX_DIMS];
        for &m in nb {
            let w = self.node_weight[node(m as usize)] as f32 / 255.0;
            for (a, x) in acc.iter_mut().zip(g.vector(m as usize).iter()) {
                *a += w * x;
            }
        }
        let scale = if nb.is_empty() { 0.0 } else { 1.0 / nb.len() as f32 };
        for a in acc.iter_mut() {
            *a *= scale;
        }
    }

    /// `v[idx] += alpha · delta` (first `dims` components), refreshing its norm and link lengths;
    /// the links themselves are kept. Ignored for a bad index, a NaN/∞ `alpha` or delta, or a
    /// result that would not be finite.
    pub fn update_vector(&mut self, idx: u8, alpha: f32) {
        if !self.valid(idx) || !finite(alpha) {
            return;
        }
        let mut v = self.graph.vector(idx as usize);
        for (x, d) in v.iter_mut().zip(self.delta.iter()).take(self.dims()) {
            // A NaN/∞ delta component makes this NaN/∞ too (finite alpha), as does overflow.
            *x += alpha * d;
            if !finite(*x) {
                return;
            }
        }
        self.graph.replace(idx as usize, &v);
    }

    /// Searches the query buffer (like [`search`](Self::search)) and injects into each hit's
    /// neuron the current `gain / (1 + d − d₀)`, where `d₀` is the best distance (so the nearest
    /// receives `gain` and farther ones less, for every metric). Returns the number of hits; 0,
    /// changing nothing, for a NaN/∞ gain or a rejected search.
    pub fn hnsw_to_snn(&mut self, k: u8, gain: f32) -> u32 {
        if !finite(gain) {
            return 0;
        }
        let n = self.search(k);
        let d0 = self.results[0].distance;
        for i in 0..n as usize {
            let r = self.results[i & (MAX_RESULTS - 1)]; // i < n ≤ 16
            let current = gain / (1.0 + (r.distance - d0));
            self.snn.inject(node(r.idx as usize), fx_from_f32(current));
        }
        n
    }

    /// Bitmap of the stored neurons.
    pub fn active(&self) -> u32 {
        self.graph.active()
    }

    /// Sets a membrane potential; ignored for a bad index or NaN/∞.
    pub fn snn_set_membrane(&mut self, idx: u8, v: f32) {
        if self.valid_finite(idx, v) {
            self.snn.set_membrane(node(idx as usize), fx_from_f32(v));
        }
    }

    /// Membrane potential, 0.0 for a bad index.
    pub fn snn_membrane(&self, idx: u8) -> f32 {
        if self.valid(idx) {
            fx_to_f32(self.snn.membrane(node(idx as usize)))
        } else {
            0.0
        }
    }

    /// Sets a firing threshold; ignored for a bad index or NaN/∞.
    pub fn snn_set_threshold(&mut self, idx: u8, t: f32) {
        if self.valid_finite(idx, t) {
            self.snn.set_threshold(node(idx as usize), fx_from_f32(t));
        }
    }

    /// Adds input current to a neuron, consumed by its next step; ignored for a bad index or NaN/∞.
    pub fn snn_inject(&mut self, idx: u8, i: f32) {
        if self.valid_finite(idx, i) {
            self.snn.inject_inline(node(idx as usize), fx_from_f32(i));
        }
    }

    /// 1 if the neuron spiked in the last step, else 0 (also for a bad index).
    pub fn snn_spiked(&self, idx: u8) -> u8 {
        if self.valid(idx) {
            ((self.snn.spikes() >> idx) & 1) as u8
        } else {
            0
        }
    }

    /// A timestep in Q16.16 ms (at most [`DT_MAX`](crate::snn::DT_MAX)), or −1 unless
    /// `0 < dt ≤ MAX_DT_MS`. The check is out of line and returns a sentinel rather than an
    /// `Option` (returned through memory in wasm): one small copy serves the five functions that
    /// take a `dt` (size budget). The inlined bound tells the callers that the SNN's clamp of
    /// dt to DT_MAX is a no-op, so their inlined copies of it are dropped.
    #[inline(always)]
    fn dt(dt: f32) -> Fx {
        let x = Self::dt_checked(dt);
        // SAFETY: `dt_checked` returns −1 or fx_from_f32(dt) for dt ≤ MAX_DT_MS = DT_MAX_MS,
        // which rounds to at most DT_MAX (tested: `dt_never_exceeds_dt_max`).
        unsafe { core::hint::assert_unchecked(x <= crate::snn::DT_MAX) };
        x
    }

    #[inline(never)]
    fn dt_checked(dt: f32) -> Fx {
        if dt > 0.0 && dt <= MAX_DT_MS {
            fx_from_f32(dt)
        } else {
            -1
        }
    }

    /// One LIF step of the stored neurons; returns how many spiked (0, changing nothing, for a
    /// bad `dt`).
    pub fn snn_step(&mut self, dt: f32) -> u32 {
        let dt = Self::dt(dt);
        if dt < 0 {
            return 0;
        }
        self.snn.step(dt, self.active()).count_ones()
    }

    /// Propagates the last step's spikes along the graph; ignored for a NaN/∞ gain.
    pub fn snn_propagate(&mut self, gain: f32) {
        if finite(gain) {
            self.snn.propagate(&self.graph.synapses, &self.node_weight, fx_from_f32(gain));
        }
    }

    /// One STDP update of the synaptic weights.
    pub fn snn_stdp(&mut self) {
        self.snn.stdp(&mut self.graph.synapses);
    }

    /// The SNN's timestep, as micro-hnsw-wasm 2.3's: step, propagate, STDP when `learn` (homeostasis
    /// and the oscillator are `homeostatic_update` and `oscillator_step`). Returns how many neurons
    /// spiked (0, changing nothing, for a bad `dt` or a NaN/∞ gain).
    pub fn snn_tick(&mut self, dt: f32, gain: f32, learn: u8) -> u32 {
        let dt = Self::dt(dt);
        if dt < 0 || !finite_inline(gain) {
            return 0;
        }
        let active = self.active();
        let g = fx_from_f32(gain);
        self.snn.tick(&mut self.graph.synapses, &self.node_weight, dt, g, learn != 0, active).count_ones()
    }

    /// Spike-timing code of a stored vector (0 for a bad index).
    pub fn encode(&self, idx: u8) -> u32 {
        if self.valid(idx) {
            self.code(idx as usize)
        } else {
            0
        }
    }

    /// Spike-timing code of stored vector `i` (out of line: [`encode`](Self::encode) and
    /// [`spike_search`](Self::spike_search) share it).
    #[inline(never)]
    fn code(&self, i: usize) -> u32 {
        // Component d of vector i is lane i % 4 of row d of block i / 4 (see `Graph::blocks`).
        // Its column of the block, flat (component d at 4d): one base address serves both passes
        // of the encoder, where indexing the block recomputed it (size budget).
        let column = &self.graph.blocks[node(i) / 4].as_flattened()[i % 4..];
        temporal::encode_components(self.dims(), |d| column[4 * (d & (MAX_DIMS - 1))])
    }

    /// The k stored vectors whose spike-timing codes are most similar to `pattern`; distance =
    /// 1 − Jaccard similarity. Returns `min(k, count)`, 0 (results untouched) for a bad k.
    pub fn spike_search(&mut self, pattern: u32, k: u8) -> u32 {
        self.keyed_search(k, true, pattern)
    }

    /// [`spike_search`](Self::spike_search) (`spike`, with `pattern`) and
    /// [`resonance_search`](Self::resonance_search) (`!spike`, with the bits of `phase_weight`)
    /// in one out-of-line body: one key buffer, loop and [`rank`](Self::rank) call serve both
    /// (size budget; neither is on a hot path).
    #[inline(never)]
    fn keyed_search(&mut self, k: u8, spike: bool, arg: u32) -> u32 {
        let (pattern, phase_weight) = (arg, f32::from_bits(arg));
        let mut key = [0.0f32; NEURONS];
        let n = if spike {
            if self.valid_k(k) {
                self.graph.len()
            } else {
                0
            }
        } else {
            self.query_distances(k, finite(phase_weight), &mut key)
        };
        if n == 0 {
            return 0;
        }
        for (i, d) in key.iter_mut().enumerate().take(n) {
            *d = if spike {
                1.0 - temporal::similarity(pattern, self.code(i))
            } else {
                *d - phase_weight * self.resonance_f32(i)
            };
        }
        self.rank(&key, n, k)
    }

    /// Homeostatic threshold adaptation of the stored neurons; ignored for a bad `dt`.
    pub fn homeostatic_update(&mut self, dt: f32) {
        let dt = Self::dt(dt);
        if dt >= 0 {
            self.snn.homeostasis(dt, self.active());
        }
    }

    /// Advances the gamma oscillator; ignored for a bad `dt`.
    pub fn oscillator_step(&mut self, dt: f32) {
        let dt = Self::dt(dt);
        if dt >= 0 {
            self.snn.oscillator_step(dt);
        }
    }

    /// Oscillator phase in radians, in `[0, 2π)`.
    pub fn oscillator_phase(&self) -> f32 {
        crate::snn::phase_to_radians(self.snn.phase())
    }

    /// Resonance of a stored neuron with the oscillator, in [−1, 1]: 1 when the phase equals the
    /// phase at the neuron's last spike, −1 half a turn away (0.0 for a bad index).
    pub fn resonance(&self, idx: u8) -> f32 {
        if self.valid(idx) {
            self.resonance_f32(idx as usize)
        } else {
            0.0
        }
    }

    /// Resonance of neuron `n` (masked to 0..32) as an f32. Out of line: one copy serves
    /// [`resonance`](Self::resonance) and [`resonance_search`](Self::resonance_search) (size
    /// budget).
    #[inline(never)]
    fn resonance_f32(&self, n: usize) -> f32 {
        fx_to_f32(self.snn.resonance(node(n)))
    }

    /// The k stored vectors with the smallest `distance − phase_weight × resonance`, which is the
    /// distance reported. Returns `min(k, count)`; 0 (results untouched) for a bad k, a NaN/∞
    /// weight or a NaN/∞ query.
    pub fn resonance_search(&mut self, k: u8, phase_weight: f32) -> u32 {
        self.keyed_search(k, false, phase_weight.to_bits())
    }

    /// Hard winner-take-all among the stored neurons: the winner's index, 255 if none.
    pub fn wta_compete(&mut self) -> u32 {
        self.snn.wta_compete(self.active())
    }

    /// Soft winner-take-all among the stored neurons.
    pub fn wta_soft(&mut self) {
        self.snn.wta_soft(self.active());
    }

    /// Adds current to a dendritic branch (0..=5) of a stored neuron; ignored for a bad index,
    /// branch or NaN/∞.
    pub fn dendrite_inject(&mut self, neuron: u8, branch: u8, i: f32) {
        if self.valid_finite(neuron, i) && (branch as usize) < crate::MAX_NEIGHBORS {
            self.dendrites.inject(node(neuron as usize), crate::edge(branch as usize), fx_from_f32(i));
        }
    }

    /// Integrates a stored neuron's connected branches into its input current (the membrane
    /// changes at its next step); returns the amount added (0.0 for a bad index).
    pub fn dendrite_integrate(&mut self, neuron: u8) -> f32 {
        if !self.valid(neuron) {
            return 0.0;
        }
        let n = node(neuron as usize);
        let total = self.dendrites.integrate(n, self.graph.degree(n));
        self.snn.inject(n, total);
        fx_to_f32(total)
    }

    /// Propagates the last step's spikes into the neighbours' dendritic branches; ignored for a
    /// NaN/∞ gain.
    pub fn dendrite_propagate(&mut self, gain: f32) {
        if finite(gain) {
            let spikes = self.snn.spikes() & self.active();
            self.dendrites.propagate(&self.graph.synapses, &self.node_weight, spikes, fx_from_f32(gain));
        }
    }

    /// Records the last step's spikes into the pattern shift registers.
    pub fn pattern_record(&mut self) {
        self.patterns.record(self.snn.spikes() & self.active());
    }

    /// Pattern of a stored neuron, 0 for a bad index.
    pub fn pattern(&self, idx: u8) -> u32 {
        if self.valid(idx) {
            self.patterns.history[node(idx as usize)]
        } else {
            0
        }
    }

    /// Stored neuron whose pattern is nearest `target` (Hamming), 255 for an empty core.
    pub fn pattern_match(&self, target: u32) -> u8 {
        self.patterns.best_match(target, self.graph.len())
    }

    /// Bitmap of the other stored neurons whose pattern is within `threshold` bits of `idx`'s;
    /// 0 for a bad index.
    pub fn pattern_correlate(&self, idx: u8, threshold: u8) -> u32 {
        if self.valid(idx) {
            self.patterns.correlated(idx as usize, threshold as u32, self.graph.len())
        } else {
            0
        }
    }

    /// Sum of the stored neurons' spike-rate estimates (spikes/ms).
    pub fn network_activity(&self) -> f32 {
        let mut total: Fx = 0;
        for n in 0..self.graph.len() {
            total = crate::snn::sat_add(total, self.snn.spike_rate(n));
        }
        fx_to_f32(total)
    }

    /// Neuromorphic k-NN of the query buffer. The network is reset; then, `iterations` times: the
    /// oscillator advances by `dt`, every stored neuron receives the rate-coding drive
    /// `NEUROMORPHIC_DRIVE × dt / (1 + d − d₀)` (d its distance to the query, d₀ the best), one LIF
    /// step runs, its spikes propagate along the graph (gain [`NEUROMORPHIC_GAIN`]) and are
    /// recorded in the pattern registers. Hits are ranked by `(d − d₀) / (1 + spikes)`: spiking
    /// shrinks a neuron's gap to the best match, so graph neighbours of strongly driven neurons can
    /// move up, and among equal spike counts the order is the distance order. The reported
    /// distance is the metric distance. Returns `min(k, count)`; 0 (results untouched) for a bad
    /// k, `dt` or query.
    pub fn neuromorphic_search(&mut self, k: u8, dt: f32, iterations: u8) -> u32 {
        let dtx = Self::dt(dt);
        // The four local arrays zeroed together: one fill instead of three fills and two vector
        // stores (size budget).
        #[repr(C)]
        struct Scratch {
            dist: [f32; NEURONS],
            drive: [Fx; NEURONS],
            key: [f32; NEURONS],
            spikes: [u8; NEURONS],
        }
        // SAFETY: all-zero bytes are 0.0 / 0 for every field (plain numbers).
        let mut scratch: Scratch = unsafe { core::mem::zeroed() };
        let Scratch { dist, drive, key, spikes } = &mut scratch;
        let n = self.query_distances(k, dtx >= 0, dist);
        if n == 0 {
            return 0;
        }
        // Tells the inlined oscillator step that its clamp of a negative dt is a no-op (size
        // budget).
        // SAFETY: `query_distances` returns 0 when its `ok` argument, `dtx >= 0`, is false.
        unsafe { core::hint::assert_unchecked(dtx >= 0) };
        let mut d0 = f32::INFINITY;
        for &d in &dist[..n] {
            if d < d0 {
                d0 = d;
            }
        }
        for i in 0..n {
            drive[i] = fx_from_f32_inline(NEUROMORPHIC_DRIVE * dt / (1.0 + (dist[i] - d0)));
        }
        self.reset_network();
        let active = self.active();
        let gain = fx_from_f32_inline(NEUROMORPHIC_GAIN); // folded to a constant
        // A u32 count: a u8 one was masked to a byte at every loop test.
        for _ in 0..iterations as u32 {
            self.snn.oscillator_step(dtx);
            self.snn.inject_all(drive); // drive[n..] = 0
            let fired = self.snn.step(dtx, active);
            self.snn.propagate(&self.graph.synapses, &self.node_weight, gain);
            self.patterns.record(fired);
            for i in crate::snn::Neurons(fired) {
                spikes[i] += 1; // ≤ iterations ≤ 255
            }
        }
        for i in 0..n {
            key[i] = (dist[i] - d0) / (1.0 + spikes[i] as f32);
        }
        let out = self.rank(key, n, k);
        for i in 0..out as usize {
            let r = &mut self.results[i & (MAX_RESULTS - 1)]; // i < out ≤ 16
            r.distance = dist[node(r.idx as usize)];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::Rng;
    use std::vec::Vec;

    fn core_with(metric: u8, dims: usize, n: usize, seed: u32) -> (MicroHnsw, Vec<Vector>) {
        let mut c = MicroHnsw::new();
        assert!(c.init(dims as u8, metric, 7));
        let mut rng = Rng(seed);
        let mut vs = Vec::new();
        for i in 0..n {
            let v = rng.vector(dims);
            c.insert_buf = v;
            assert_eq!(c.insert(), i as u32);
            vs.push(v);
        }
        (c, vs)
    }

    fn brute(metric: Metric, vs: &[Vector], q: &Vector) -> Vec<usize> {
        let d = |v: &Vector| -> f64 {
            let (mut dot, mut na, mut nb, mut l2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            for (a, b) in q.iter().zip(v.iter()) {
                let (a, b) = (*a as f64, *b as f64);
                dot += a * b;
                na += a * a;
                nb += b * b;
                l2 += (a - b) * (a - b);
            }
            match metric {
                Metric::L2 => l2,
                Metric::Dot => -dot,
                Metric::Cosine => 1.0 - dot / (na * nb).sqrt(),
            }
        };
        let mut ids: Vec<usize> = (0..vs.len()).collect();
        ids.sort_by(|&a, &b| d(&vs[a]).partial_cmp(&d(&vs[b])).unwrap());
        ids
    }

    #[test]
    fn query_components_beyond_dims_are_ignored_and_zeroed() {
        for metric in [0u8, 1, 2] {
            let (mut c, _) = core_with(metric, 8, 20, 11);
            let mut q = Rng(5).vector(8);
            c.query_buf = q;
            assert_eq!(c.search(5), 5);
            let clean = c.results;
            for x in q.iter_mut().skip(8) {
                *x = f32::NAN;
            }
            q[15] = 1e30;
            c.query_buf = q;
            assert_eq!(c.search(5), 5, "metric {metric}: garbage beyond dims is not validated");
            assert_eq!(c.results, clean, "metric {metric}: nor read");
            assert!(c.query_buf[8..].iter().all(|&x| x == 0.0), "and zeroed");
        }
    }

    #[test]
    fn init_rejects_bad_arguments_without_changing_anything() {
        let (mut c, _) = core_with(1, 8, 5, 3);
        for (d, m) in [(0u8, 0u8), (17, 0), (8, 3), (8, 255)] {
            assert!(!c.init(d, m, 1));
            assert_eq!((c.graph.dims, c.graph.metric, c.core_id, c.count()), (8, Metric::Cosine, 7, 5));
        }
        assert!(c.init(4, 2, 9));
        assert_eq!((c.graph.dims, c.graph.metric, c.core_id, c.count()), (4, Metric::Dot, 9, 0));
        assert_eq!(c.results, [ResultRecord::EMPTY; MAX_RESULTS]);
        assert_eq!(c.node_weight, [DEFAULT_NODE_WEIGHT; NEURONS]);
    }

    #[test]
    fn insert_rejects_non_finite_vectors_and_a_full_core() {
        let (mut c, _) = core_with(0, 4, 31, 5);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            c.insert_buf = [0.0; MAX_DIMS];
            c.insert_buf[3] = bad;
            assert_eq!(c.insert(), NONE as u32);
            assert_eq!(c.count(), 31);
        }
        c.insert_buf = [0.0; MAX_DIMS];
        c.insert_buf[4] = f32::NAN; // beyond dims: ignored
        assert_eq!(c.insert(), 31);
        assert_eq!(c.insert(), NONE as u32, "full");
        assert_eq!(c.count(), 32);
    }

    #[test]
    fn search_is_exact_and_bad_k_leaves_results_untouched() {
        for metric in [0u8, 1, 2] {
            let (mut c, vs) = core_with(metric, 16, 32, 11 + metric as u32);
            let mut rng = Rng(99);
            for _ in 0..200 {
                c.query_buf = rng.vector(16);
                let want = brute(c.graph.metric, &vs, &c.query_buf);
                assert_eq!(c.search(16), 16);
                let got: Vec<usize> = c.results.iter().map(|r| r.idx as usize).collect();
                assert_eq!(got, want[..16].to_vec());
                assert!(c.results.iter().all(|r| r.core_id == 7));
            }
            let before = c.results;
            assert_eq!(c.search(0), 0);
            assert_eq!(c.search(17), 0);
            c.query_buf[0] = f32::NAN;
            assert_eq!(c.search(3), 0);
            assert_eq!(c.results, before);
        }
    }

    #[test]
    fn merge_rejects_more_than_sixteen_records() {
        let (mut c, _) = core_with(0, 4, 8, 2);
        c.query_buf = [0.1; MAX_DIMS];
        let n = c.search(8) as usize;
        let recs = c.results;
        assert_eq!(c.merge(&recs[..n]), 8);
        let global = c.global;
        let many = [recs[0]; 17];
        assert_eq!(c.merge(&many), 0);
        assert_eq!(c.global, global);
        c.clear_global();
        assert!(c.global.iter().all(|r| r.idx == NONE));
    }

    #[test]
    fn aggregate_and_update_follow_the_links_and_refuse_overflow() {
        let (mut c, vs) = core_with(0, 3, 2, 8);
        c.aggregate_neighbors(0);
        assert_eq!(&c.delta[..3], &vs[1][..3], "the single neighbour, weight 255/255");
        c.set_edge_weight(1, 0);
        c.aggregate_neighbors(0);
        assert_eq!(&c.delta[..3], &[0.0; 3]);
        c.delta = [0.0; MAX_DIMS];
        c.delta[0] = 1.0;
        c.update_vector(0, 2.0);
        assert_eq!(c.graph.vector(0)[0], vs[0][0] + 2.0);
        let before = c.graph.vector(0);
        c.delta[0] = f32::MAX;
        c.update_vector(0, 4.0);
        assert_eq!(c.graph.vector(0), before, "overflow to ∞ is refused");
        c.update_vector(2, 1.0);
        c.update_vector(0, f32::NAN);
        assert_eq!(c.graph.vector(0), before);
    }

    #[test]
    fn hnsw_to_snn_injects_gain_over_one_plus_the_gap() {
        let mut c = MicroHnsw::new();
        c.init(1, 0, 0);
        for x in [0.0f32, 1.0, 3.0] {
            c.insert_buf[0] = x;
            c.insert();
        }
        c.query_buf[0] = 0.0;
        assert_eq!(c.hnsw_to_snn(3, 2.0), 3);
        assert_eq!(c.snn.current(0), fx_from_f32(2.0));
        assert_eq!(c.snn.current(1), fx_from_f32(2.0 / 2.0));
        assert_eq!(c.snn.current(2), fx_from_f32(2.0 / 10.0));
        assert_eq!(c.hnsw_to_snn(3, f32::INFINITY), 0);
        assert_eq!(c.snn.current(0), fx_from_f32(2.0), "unchanged");
    }

    #[test]
    fn dt_never_exceeds_dt_max() {
        // fx_from_f32 is monotone, so the largest accepted dt gives the largest timestep.
        assert_eq!(MicroHnsw::dt_checked(MAX_DT_MS), crate::snn::DT_MAX);
        let mut x = MAX_DT_MS;
        for _ in 0..1000 {
            x = f32::from_bits(x.to_bits() - 1);
            assert!(MicroHnsw::dt_checked(x) <= crate::snn::DT_MAX);
        }
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY, f32::from_bits(MAX_DT_MS.to_bits() + 1)] {
            assert_eq!(MicroHnsw::dt_checked(bad), -1);
        }
    }

    #[test]
    fn neuromorphic_search_puts_the_nearest_first_and_reports_metric_distances() {
        let (mut c, vs) = core_with(1, 16, 32, 21);
        let mut rng = Rng(4);
        for _ in 0..50 {
            c.query_buf = rng.vector(16);
            let want = brute(Metric::Cosine, &vs, &c.query_buf);
            assert_eq!(c.neuromorphic_search(5, 1.0, 10), 5);
            assert_eq!(c.results[0].idx as usize, want[0]);
            for r in &c.results[..5] {
                let d = c.graph.distance_to(&c.query_buf, norm(&c.query_buf), r.idx as usize);
                assert!((r.distance - d).abs() < 1e-5);
            }
        }
        let before = c.results;
        assert_eq!(c.neuromorphic_search(5, 0.0, 10), 0);
        assert_eq!(c.neuromorphic_search(5, f32::NAN, 10), 0);
        assert_eq!(c.neuromorphic_search(5, MAX_DT_MS * 2.0, 10), 0);
        assert_eq!(c.results, before);
    }

    #[test]
    fn resonance_search_with_zero_weight_is_plain_search() {
        let (mut c, _) = core_with(0, 8, 20, 30);
        c.query_buf = Rng(8).vector(8);
        c.search(10);
        let plain = c.results;
        c.snn.oscillator_step(fx_from_f32(3.0));
        assert_eq!(c.resonance_search(10, 0.0), 10);
        assert_eq!(c.results, plain);
    }

    #[test]
    fn spike_search_finds_a_vector_by_its_own_code() {
        let (mut c, _) = core_with(0, 16, 32, 40);
        let code = c.encode(17);
        assert_eq!(c.spike_search(code, 1), 1);
        assert_eq!(c.results[0].distance, 0.0);
        assert_eq!(c.encode(32), 0, "bad index");
        assert_eq!(c.spike_search(code, 0), 0);
    }

    #[test]
    fn dendrites_feed_the_soma_and_patterns_record_only_stored_neurons() {
        let (mut c, _) = core_with(0, 2, 2, 50);
        c.dendrite_inject(0, 0, 1.5);
        assert_eq!(c.dendrite_integrate(0), 2.25);
        assert_eq!(c.snn.current(0), fx_from_f32(2.25));
        c.dendrite_inject(5, 0, 1.0); // bad neuron
        c.dendrite_inject(0, 6, 1.0); // bad branch
        assert_eq!(c.dendrite_integrate(0), 0.0);
        c.snn_step(1.0);
        assert_eq!(c.snn.spikes(), 1);
        c.pattern_record();
        assert_eq!((c.pattern(0), c.pattern(1), c.pattern(2)), (1, 0, 0));
        assert_eq!(c.pattern_match(1), 0);
        assert_eq!(c.pattern_correlate(1, 0), 0);
        assert_eq!(c.pattern_correlate(1, 1), 1);
    }
}
