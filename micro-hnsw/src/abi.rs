//! The raw C ABI (wasm32 only), compatible with micro-hnsw-wasm 2.3: its 58 `#[no_mangle]` exports
//! over one static [`MicroHnsw`], four extras (`search_within` for merging cores; three read-only
//! views of the stored vectors and the learned network: `get_vectors_ptr`,
//! `snn_get_threshold_ptr`, `snn_get_synapse_ptr`), plus `memory`. Indices are `u8` with 255 = none. Every export
//! validates its arguments and answers bad input with the sentinel documented on the matching
//! [`MicroHnsw`] method, leaving the state unchanged — nothing traps.
//!
//! Buffers (pointers into linear memory, stable for the instance's lifetime): insert, query and
//! delta hold 16 `f32` (only the first `dims` are read; a query zeroes the rest of the query
//! buffer); result and global hold 16 records of
//! 8 bytes `{idx:u8, core_id:u8, pad:u16, distance:f32}` sorted by ascending distance, empty
//! records (`idx` 255, distance +∞) after the last hit.
//!
//! Wasm passes every integer as an i32, and the README promises that an integer parameter is
//! taken modulo its type's range (a caller may pass 257 or −1 for a `u8`). A `u8` or `u16`
//! parameter would be declared zero-extended to the compiler, which may then compare or store
//! the whole i32 (`snn_get_membrane(257)` once answered 0 instead of neuron 1's membrane; with
//! link-time optimisation many more exports did). So every integer parameter is a `u32` that the
//! export reduces itself (`low_byte`, `as u16`), and the ABI's `u8`/`u16` parameter types are
//! the ranges those reductions give. `pkg-tests/micro-hnsw/fuzz.mjs` checks every export against
//! a twin instance given the reduced arguments.
//!
//! The counts and indices the searches, `insert`, `merge`, `snn_step`, `snn_tick` and `wta_compete` return are
//! declared `u32` (the same wasm i32, always below 256): their values come from out-of-line
//! functions, and a `u8` return made the compiler mask each to a byte again (size budget).
use crate::index::MicroHnsw;
use crate::search::ResultRecord;
use crate::{MAX_RESULTS, MAX_VECTORS};
use core::arch::wasm32;

// All-zero bytes are a valid `MicroHnsw` (integers, floats and `Metric::L2` = 0), so the static
// lives in .bss and costs no data segment; `dims` = 0 marks "never initialised" and the first
// export call initialises it to 16 dimensions, L2, core 0 (the defaults of micro-hnsw-wasm 2.3).
static mut CORE: MicroHnsw = unsafe { core::mem::MaybeUninit::zeroed().assume_init() };

/// A `u8` parameter received as the full i32 the caller passed, reduced modulo 256.
#[inline(always)]
fn low_byte(x: u32) -> u8 {
    x as u8
}

#[inline(never)]
fn core() -> &'static mut MicroHnsw {
    // SAFETY: a wasm instance is single-threaded and no export re-enters another while holding
    // this reference, so it is the only live reference to CORE.
    let c = unsafe { &mut *core::ptr::addr_of_mut!(CORE) };
    if c.graph.dims == 0 {
        // = init(16, L2, core 0): reset leaves exactly those.
        c.reset();
    }
    c
}

/// Resets the core: `dims` 1..=16, `metric` 0 = L2 (squared Euclidean), 1 = cosine (1 − cos),
/// 2 = dot (−a·b), `core_id` copied into result records. Ignored for bad `dims`/`metric`
/// (check with `get_dims`/`get_metric`).
#[no_mangle]
pub extern "C" fn init(dims: u32, metric: u32, core_id: u32) {
    core().init(low_byte(dims), low_byte(metric), low_byte(core_id));
}
/// Address of the 16-`f32` insert buffer.
#[no_mangle]
pub extern "C" fn get_insert_ptr() -> *mut f32 {
    core().insert_buf.as_mut_ptr()
}
/// Address of the 16-`f32` query buffer.
#[no_mangle]
pub extern "C" fn get_query_ptr() -> *mut f32 {
    core().query_buf.as_mut_ptr()
}
/// Address of the 16 result records of the last search.
#[no_mangle]
pub extern "C" fn get_result_ptr() -> *const ResultRecord {
    core().results.as_ptr()
}
/// Address of the 16 merged (global) result records.
#[no_mangle]
pub extern "C" fn get_global_ptr() -> *const ResultRecord {
    core().global.as_ptr()
}
/// Stores the insert buffer; returns its index, 255 if the core is full or it holds NaN/∞.
#[no_mangle]
pub extern "C" fn insert() -> u32 {
    core().insert()
}
/// Exact k-NN (1 ≤ k ≤ 16) of the query buffer into the result buffer; returns the hit count
/// (0 for bad k, an empty core or a NaN/∞ query).
#[no_mangle]
pub extern "C" fn search(k: u32) -> u32 {
    core().search(low_byte(k))
}
/// Extra (not in micro-hnsw-wasm 2.3): `search(k)` keeping only records at distance ≤ `bound`;
/// returns how many (0, results untouched, for a bad k, a NaN bound or a NaN/∞ query). A caller
/// merging cores passes its current k-th best: a core with nothing better stops after one
/// selection round.
#[no_mangle]
pub extern "C" fn search_within(k: u32, bound: f32) -> u32 {
    core().search_within(low_byte(k), bound)
}
/// Merges `cnt` (≤ 16) records at `ptr` (e.g. another core's results copied into this core's
/// result buffer) into the global buffer; returns the global count, 0 (nothing changed) if
/// `cnt` > 16 or the records lie outside linear memory.
#[no_mangle]
pub extern "C" fn merge(ptr: *const ResultRecord, cnt: u32) -> u32 {
    let n = low_byte(cnt) as usize;
    let size = wasm32::memory_size(0) * 65536;
    let start = ptr as usize;
    if n > MAX_RESULTS || start > size || size - start < n * 8 {
        return 0;
    }
    // Left uninitialised: only the n records copied in are read.
    let mut records = core::mem::MaybeUninit::<[ResultRecord; MAX_RESULTS]>::uninit();
    // SAFETY: the n ≤ 16 records (8 bytes each) lie inside linear memory (checked above) and the
    // local buffer holds 16; a byte copy has no alignment requirement and tolerates `ptr`
    // pointing into this core's own buffers. The slice covers exactly the n records the copy
    // initialised, and every bit pattern is a valid ResultRecord (integers and an f32).
    let records = unsafe {
        core::ptr::copy(ptr as *const u8, records.as_mut_ptr() as *mut u8, n * 8);
        core::slice::from_raw_parts(records.as_ptr() as *const ResultRecord, n)
    };
    core().merge(records)
}
/// Empties the global buffer.
#[no_mangle]
pub extern "C" fn clear_global() {
    core().clear_global();
}
/// Number of stored vectors.
#[no_mangle]
pub extern "C" fn count() -> u8 {
    core().count()
}
/// This core's id.
#[no_mangle]
pub extern "C" fn get_core_id() -> u8 {
    core().core_id
}
/// Metric: 0 L2, 1 cosine, 2 dot.
#[no_mangle]
pub extern "C" fn get_metric() -> u8 {
    core().graph.metric as u8
}
/// Dimensionality.
#[no_mangle]
pub extern "C" fn get_dims() -> u8 {
    core().graph.dims
}
/// Vectors per core (32).
#[no_mangle]
pub extern "C" fn get_capacity() -> u8 {
    MAX_VECTORS as u8
}
/// Sets a stored node's type (0..=15); ignored otherwise.
#[no_mangle]
pub extern "C" fn set_node_type(idx: u32, t: u32) {
    core().set_node_type(low_byte(idx), low_byte(t));
}
/// A stored node's type, 255 for a bad index.
#[no_mangle]
pub extern "C" fn get_node_type(idx: u32) -> u8 {
    core().node_type(low_byte(idx))
}
/// 1 when bit `type(idx)` of `mask` is set, else 0.
#[no_mangle]
pub extern "C" fn type_matches(idx: u32, mask: u32) -> u8 {
    core().type_matches(low_byte(idx), mask as u16)
}
/// Sets a stored node's outgoing-link weight (0..=255).
#[no_mangle]
pub extern "C" fn set_edge_weight(node: u32, w: u32) {
    core().set_edge_weight(low_byte(node), low_byte(w));
}
/// A stored node's outgoing-link weight, 0 for a bad index.
#[no_mangle]
pub extern "C" fn get_edge_weight(node: u32) -> u8 {
    core().edge_weight(low_byte(node))
}
/// delta = Σ over the node's neighbours of vector × (its edge weight / 255), ÷ the degree (GNN
/// message passing; not normalised by the weights' sum).
#[no_mangle]
pub extern "C" fn aggregate_neighbors(idx: u32) {
    core().aggregate_neighbors(low_byte(idx));
}
/// Address of the 16-`f32` delta buffer.
#[no_mangle]
pub extern "C" fn get_delta_ptr() -> *const f32 {
    core().delta.as_ptr()
}
/// Address of the 16-`f32` delta buffer, for writing (same buffer as `get_delta_ptr`).
#[no_mangle]
pub extern "C" fn set_delta_ptr() -> *mut f32 {
    core().delta.as_mut_ptr()
}
/// `v[idx] += alpha · delta`.
#[no_mangle]
pub extern "C" fn update_vector(idx: u32, alpha: f32) {
    core().update_vector(low_byte(idx), alpha);
}
/// search(k), then inject gain / (1 + d − d₀) into each hit's neuron; returns the hit count.
#[no_mangle]
pub extern "C" fn hnsw_to_snn(k: u32, gain: f32) -> u32 {
    core().hnsw_to_snn(low_byte(k), gain)
}
/// Resets the spiking network (membranes, thresholds, refractory, traces, rates, time, phase).
#[no_mangle]
pub extern "C" fn snn_reset() {
    core().reset_network();
}
/// Sets a membrane potential.
#[no_mangle]
pub extern "C" fn snn_set_membrane(idx: u32, v: f32) {
    core().snn_set_membrane(low_byte(idx), v);
}
/// A membrane potential (0.0 for a bad index).
#[no_mangle]
pub extern "C" fn snn_get_membrane(idx: u32) -> f32 {
    core().snn_membrane(low_byte(idx))
}
/// Sets a firing threshold.
#[no_mangle]
pub extern "C" fn snn_set_threshold(idx: u32, t: f32) {
    core().snn_set_threshold(low_byte(idx), t);
}
/// Adds input current to a neuron, consumed by its next step (the membrane changes then).
#[no_mangle]
pub extern "C" fn snn_inject(idx: u32, i: f32) {
    core().snn_inject(low_byte(idx), i);
}
/// 1 if the neuron spiked in the last step.
#[no_mangle]
pub extern "C" fn snn_spiked(idx: u32) -> u8 {
    core().snn_spiked(low_byte(idx))
}
/// Spike bitmap of the last step (bit i = neuron i).
#[no_mangle]
pub extern "C" fn snn_get_spikes() -> u32 {
    core().snn.spikes()
}
/// One LIF step (0 < dt ≤ 1000 ms); returns the spike count.
#[no_mangle]
pub extern "C" fn snn_step(dt: f32) -> u32 {
    core().snn_step(dt)
}
/// Propagates the last spikes along the graph.
#[no_mangle]
pub extern "C" fn snn_propagate(gain: f32) {
    core().snn_propagate(gain);
}
/// One STDP update of the synaptic weights.
#[no_mangle]
pub extern "C" fn snn_stdp() {
    core().snn_stdp();
}
/// The SNN timestep: step, propagate, STDP if `learn` (as micro-hnsw-wasm 2.3); returns the spike
/// count.
#[no_mangle]
pub extern "C" fn snn_tick(dt: f32, gain: f32, learn: u32) -> u32 {
    core().snn_tick(dt, gain, low_byte(learn))
}
/// Simulated time in ms.
#[no_mangle]
pub extern "C" fn snn_get_time() -> f32 {
    crate::snn::time_to_ms(core().snn.time())
}
/// Extra (not in micro-hnsw-wasm 2.3): address of the stored vectors, 2,048 bytes of `f32` in
/// blocks of four vectors (the SIMD scan's layout, see [`crate::graph::Graph::blocks`]): component
/// `d` of vector `i` is element `(i / 4) * 64 + d * 4 + i % 4`; vectors past `count()` and
/// components past `dims` are unused.
#[no_mangle]
pub extern "C" fn get_vectors_ptr() -> *const f32 {
    core().graph.blocks.as_ptr() as *const f32
}
/// Extra (not in micro-hnsw-wasm 2.3): address of the 32 firing thresholds, `i32` Q16.16
/// (value / 65536), in neuron order; entries past `count()` are unused.
#[no_mangle]
pub extern "C" fn snn_get_threshold_ptr() -> *const i32 {
    core().snn.thresholds().as_ptr()
}
/// Extra (not in micro-hnsw-wasm 2.3): address of the 416-byte synapse table (= the graph's links):
/// `target` u8\[32\]\[6\] at +0, `count` u8\[32\] at +192 (slots used: min(count, 6)), STDP `weight`
/// u8\[32\]\[6\] (value / 256) at +224. See [`crate::snn::Synapses`].
#[no_mangle]
pub extern "C" fn snn_get_synapse_ptr() -> *const crate::snn::Synapses {
    &core().graph.synapses
}
/// Spike-timing code of a stored vector (0 for a bad index).
#[no_mangle]
pub extern "C" fn encode_vector_to_spikes(idx: u32) -> u32 {
    core().encode(low_byte(idx))
}
// `spike_timing_similarity(a: u32, b: u32) -> f32`, the Jaccard similarity of two spike codes
// (1.0 for two empty codes), is exported by `crate::temporal::similarity` itself.
/// k-NN by spike-code similarity; distance = 1 − similarity.
#[no_mangle]
pub extern "C" fn spike_search(pattern: u32, k: u32) -> u32 {
    core().spike_search(pattern, low_byte(k))
}
/// Homeostatic threshold adaptation.
#[no_mangle]
pub extern "C" fn homeostatic_update(dt: f32) {
    core().homeostatic_update(dt);
}
/// A neuron's spike-rate estimate in spikes/ms (0.0 for a bad index).
#[no_mangle]
pub extern "C" fn get_spike_rate(idx: u32) -> f32 {
    let c = core();
    let idx = low_byte(idx);
    if c.valid(idx) {
        crate::snn::fx_to_f32(c.snn.spike_rate(crate::node(idx as usize)))
    } else {
        0.0
    }
}
/// Advances the 40 Hz gamma oscillator by dt ms.
#[no_mangle]
pub extern "C" fn oscillator_step(dt: f32) {
    core().oscillator_step(dt);
}
/// Oscillator phase in radians, [0, 2π).
#[no_mangle]
pub extern "C" fn oscillator_get_phase() -> f32 {
    core().oscillator_phase()
}
/// A neuron's resonance with the oscillator.
#[no_mangle]
pub extern "C" fn compute_resonance(idx: u32) -> f32 {
    core().resonance(low_byte(idx))
}
/// k-NN by distance − phase_weight × resonance.
#[no_mangle]
pub extern "C" fn resonance_search(k: u32, phase_weight: f32) -> u32 {
    core().resonance_search(low_byte(k), phase_weight)
}
/// Resets the winner-take-all state.
#[no_mangle]
pub extern "C" fn wta_reset() {
    core().snn.wta_reset();
}
/// Hard winner-take-all; the winner, 255 if none.
#[no_mangle]
pub extern "C" fn wta_compete() -> u32 {
    core().wta_compete()
}
/// Soft winner-take-all.
#[no_mangle]
pub extern "C" fn wta_soft() {
    core().wta_soft();
}
/// Zeroes every dendritic branch.
#[no_mangle]
pub extern "C" fn dendrite_reset() {
    core().dendrites.reset();
}
/// Adds current to branch 0..=5 of a neuron.
#[no_mangle]
pub extern "C" fn dendrite_inject(neuron: u32, branch: u32, i: f32) {
    core().dendrite_inject(low_byte(neuron), low_byte(branch), i);
}
/// Moves a neuron's branches (through the supralinear nonlinearity) into its input current, which
/// its next step integrates; returns the amount added.
#[no_mangle]
pub extern "C" fn dendrite_integrate(neuron: u32) -> f32 {
    core().dendrite_integrate(low_byte(neuron))
}
/// Propagates the last spikes into the neighbours' branches.
#[no_mangle]
pub extern "C" fn dendrite_propagate(gain: f32) {
    core().dendrite_propagate(gain);
}
/// Shifts the last spikes into the pattern registers.
#[no_mangle]
pub extern "C" fn pattern_record() {
    core().pattern_record();
}
/// A neuron's spike history (bit t = spiked t recordings ago).
#[no_mangle]
pub extern "C" fn get_pattern(idx: u32) -> u32 {
    core().pattern(low_byte(idx))
}
/// The neuron whose history is nearest `target` (Hamming), 255 if none.
#[no_mangle]
pub extern "C" fn pattern_match(target: u32) -> u8 {
    core().pattern_match(target)
}
/// Bitmap of neurons whose history is within `threshold` bits of `idx`'s.
#[no_mangle]
pub extern "C" fn pattern_correlate(idx: u32, threshold: u32) -> u32 {
    core().pattern_correlate(low_byte(idx), low_byte(threshold))
}
/// Neuromorphic k-NN: rate-coded drive, LIF dynamics, propagation; ranks by (d − d_best) / (1 +
/// spikes), reporting the metric distance.
#[no_mangle]
pub extern "C" fn neuromorphic_search(k: u32, dt: f32, iterations: u32) -> u32 {
    core().neuromorphic_search(low_byte(k), dt, low_byte(iterations))
}
/// Sum of the spike-rate estimates (spikes/ms).
#[no_mangle]
pub extern "C" fn get_network_activity() -> f32 {
    core().network_activity()
}
