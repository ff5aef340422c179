//! # micro-HNSW: a sub-12 KB neuromorphic vector index
//!
//! One *core* stores up to [`MAX_VECTORS`] vectors of up to [`MAX_DIMS`] dimensions in static
//! memory (no allocator) and exposes them through a raw C ABI compatible with micro-hnsw-wasm 2.3
//! (see `abi` when built for `wasm32`). Every stored vector is also a leaky integrate-and-fire
//! neuron of a fixed-point spiking network ([`snn`]); the proximity graph *is* that network's
//! synapse table.
//!
//! The crate is laid out one concept per file:
//! - [`distance`]: the three metrics with SIMD128 kernels and their scalar twins;
//! - [`graph`]: vector storage and the bidirectional, always-connected proximity graph;
//! - [`search`]: the exact top-k scan, the graph beam search and the result records;
//! - [`dendrite`]: per-synapse dendritic branches with a supralinear nonlinearity;
//! - [`temporal`]: spike-timing encoding of vectors and temporal spike-pattern shift registers;
//! - [`index`]: [`index::MicroHnsw`], one core's complete state and every operation of the ABI,
//!   validated, as plain Rust (tested natively);
//! - `abi` (wasm32 only): the `#[no_mangle] extern "C"` exports over one static [`index::MicroHnsw`].
//! - [`snn`]: the integer SNN datapath (the golden model the RTL co-simulates against).
#![no_std]

// Native builds (tests, the co-simulation rlib, the native cdylib) link `std` for its panic
// handler and `sqrt`; the wasm32 build is pure `core`.
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

pub mod dendrite;
pub mod distance;
pub mod graph;
pub mod index;
pub mod search;
pub mod snn;
pub mod temporal;

#[cfg(target_arch = "wasm32")]
pub mod abi;

/// Vectors (and neurons) per core.
pub const MAX_VECTORS: usize = snn::NEURONS;
/// Maximum vector dimensionality; every buffer holds this many `f32`.
pub const MAX_DIMS: usize = 16;
/// Graph neighbours per node (= synapses per neuron).
pub const MAX_NEIGHBORS: usize = snn::MAX_EDGES;
/// Beam width of [`search::beam_search`].
pub const BEAM_WIDTH: usize = 3;
/// Result records per buffer (`k` is at most this).
pub const MAX_RESULTS: usize = 16;
/// The "no such index" sentinel of the `u8` ABI.
pub const NONE: u8 = 255;

/// `i` as a neuron/vector slot. Callers always hold `i < 32` already; the mask changes nothing but
/// lets the compiler drop the bounds check, whose panic path and location data would cost bytes.
#[inline(always)]
pub(crate) fn node(i: usize) -> usize {
    i & (MAX_VECTORS - 1)
}

/// `core::ptr::write_bytes(p, v, n)`, out of line: one `memory.fill` that the resets share (inlined,
/// the fill of the 32 node weights became four 8-byte stores). Size budget.
///
/// # Safety
/// `p..p + n` must be valid for writes, and `v` repeated must be a valid value of what it covers.
#[inline(never)]
pub(crate) unsafe fn fill_bytes(p: *mut u8, v: u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { core::ptr::write_bytes(p, v, n) }
}

/// `j` as a synapse slot (`j < 6` is always held by callers; see [`node`]).
#[inline(always)]
pub(crate) fn edge(j: usize) -> usize {
    if j < MAX_NEIGHBORS {
        j
    } else {
        MAX_NEIGHBORS - 1
    }
}

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
