//! Spike-timing encoding of vectors and temporal spike-pattern shift registers.
//!
//! **Encoding** (8-bit resolution: 8 time slots): a vector is scaled by its largest magnitude to
//! `[-1, 1]` and each component `vᵢ` becomes a single spike at time slot
//! `tᵢ = 7 − round(3.5 × (vᵢ/max + 1))` (larger value → earlier spike, first-spike latency code) on
//! input line `i mod 4`. The 32-bit code is the raster of 8 slots × 4 lines: bit `4·tᵢ + (i mod 4)`.
//! The zero vector encodes to 0. Two codes are compared by Jaccard similarity
//! `|a ∧ b| / |a ∨ b|` (1.0 for two empty codes).
//!
//! **Patterns**: each neuron has a 32-bit shift register; recording shifts it left by one and sets
//! bit 0 when the neuron spiked in the last step, so bit `t` is "spiked `t` recordings ago".
use crate::distance::Vector;
use crate::snn::NEURONS;
use crate::MAX_DIMS;

/// Time slots of the spike-timing code.
pub const SLOTS: u32 = 8;

/// Spike-timing code of the first `dims` components of `v` (finite).
pub fn encode(v: &Vector, dims: usize) -> u32 {
    encode_components(dims.min(v.len()), |i| v[i & (MAX_DIMS - 1)])
}

/// [`encode`] of the `dims` (≤ 16) components `x(0), x(1), …` (component `i` on line `i mod 4`).
/// The index passes a stored vector's components straight from its block, without gathering them
/// into a [`Vector`] first (size budget).
#[inline(always)]
pub fn encode_components(dims: usize, x: impl Fn(usize) -> f32) -> u32 {
    let mut max = 0.0f32;
    for i in 0..dims {
        let x = x(i);
        // |x| (for −0 and NaN too: neither beats max ≥ +0), so max is never NaN.
        let a = x.abs();
        if a > max {
            max = a;
        }
    }
    if max == 0.0 {
        return 0;
    }
    let mut code = 0u32;
    for i in 0..dims {
        let x = x(i);
        // level in 0..=7 (round half up of 3.5 × (x/max + 1) ∈ [0, 7]), with no clamp needed: |x| ≤
        // max (max is the largest |x| of these very components), so the correctly rounded x/max
        // lies in [−1, 1], and each further step is monotone: x/max + 1 ∈ [0, 2], × 3.5 ∈ [0, 7],
        // + 0.5 ∈ [0.5, 7.5], which truncates to 0..=7. A NaN (x NaN, or x and max both infinite)
        // converts to 0 (size budget: no `min`).
        let level = (3.5 * (x / max + 1.0) + 0.5) as u32;
        debug_assert!(level < SLOTS);
        let slot = (SLOTS - 1) - level;
        code |= 1 << (4 * slot + (i as u32 & 3));
    }
    code
}

/// Jaccard similarity of two codes. On wasm32 this function is itself the
/// `spike_timing_similarity` export (C ABI), so the export and `spike_search` share one copy
/// (size budget).
#[cfg_attr(target_arch = "wasm32", export_name = "spike_timing_similarity")]
#[inline(never)]
pub extern "C" fn similarity(a: u32, b: u32) -> f32 {
    let union = (a | b).count_ones();
    // Two empty codes give (0 + 1) / (0 + 1) = 1.0; otherwise the quotient is the plain one
    // (no branch, size budget).
    let empty = (union == 0) as u32;
    ((a & b).count_ones() + empty) as f32 / (union + empty) as f32
}

/// Per-neuron temporal spike-pattern shift registers.
#[derive(Default)]
pub struct Patterns {
    /// `history[n]`: bit `t` set when neuron `n` spiked `t` recordings ago.
    pub history: [u32; NEURONS],
}

impl Patterns {
    /// All histories empty.
    pub const fn new() -> Patterns {
        Patterns { history: [0; NEURONS] }
    }

    /// Shifts every register and records the spike bitmap `spikes` (four registers per SIMD
    /// step on wasm32; [`record_scalar`](Self::record_scalar) is the reference).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(never)]
    pub fn record(&mut self, spikes: u32) {
        use core::arch::wasm32::*;
        let s = u32x4_splat(spikes);
        // Lane l of step c tests bit 4c + l of `spikes`: [1, 2, 4, 8] loaded from the static
        // SnnCore::advance uses (one v128.load, where a constant was an 18-byte v128.const).
        let mut bits = crate::snn::lanes::lane_bits();
        let p = self.history.as_mut_ptr() as *mut v128;
        for c in 0..NEURONS / 4 {
            // −1 in the lanes whose neuron spiked, 0 elsewhere (`bits` has one bit per lane).
            let fired = i32x4_eq(v128_and(s, bits), bits);
            // SAFETY: c < 8, so the 16 bytes at p + c lie inside the 128-byte `history`.
            unsafe {
                let h = v128_load(p.add(c));
                // (h << 1) − (−1) sets the freshly cleared bit 0: the same as `| 1`.
                v128_store(p.add(c), i32x4_sub(i32x4_shl(h, 1), fired));
            }
            bits = i32x4_shl(bits, 4);
        }
    }

    /// Shifts every register and records the spike bitmap `spikes`.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub fn record(&mut self, spikes: u32) {
        self.record_scalar(spikes);
    }

    /// Scalar reference of [`record`](Self::record): register `n` becomes `(h << 1) | bit n`.
    pub fn record_scalar(&mut self, spikes: u32) {
        for (n, h) in self.history.iter_mut().enumerate() {
            *h = (*h << 1) | ((spikes >> n) & 1);
        }
    }

    /// Neuron among the first `count` whose history is nearest to `target` in Hamming distance
    /// (lowest index on ties); [`NONE`](crate::NONE) when `count` is 0.
    pub fn best_match(&self, target: u32, count: usize) -> u8 {
        // The smallest (distance, index) pair as one key `d << 8 | n` (d ≤ 32, n < 32): the lowest
        // distance, ties to the lowest index, and its low byte is the index; with no neuron the
        // initial u32::MAX leaves NONE. One min per neuron instead of two selects and a compare
        // (size budget).
        let mut best = u32::MAX;
        for n in 0..count.min(NEURONS) {
            best = best.min((self.history[n] ^ target).count_ones() << 8 | n as u32);
        }
        best as u8
    }

    /// Bitmap of the neurons `m ≠ n` among the first `count` whose history differs from `n`'s in
    /// at most `threshold` bits (`n` masked to 0..32; the index passes a valid neuron).
    pub fn correlated(&self, n: usize, threshold: u32, count: usize) -> u32 {
        // n masked once: the history index and the m ≠ n test share it (size budget).
        let n = n & (NEURONS - 1);
        let own = self.history[n];
        let mut out = 0;
        for m in 0..count.min(NEURONS) {
            // Both tests as bits shifted into place, without a branch (size budget).
            let near = (self.history[m] ^ own).count_ones() <= threshold;
            out |= ((near & (m != n)) as u32) << m;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[f32]) -> Vector {
        let mut out = [0.0; MAX_DIMS];
        out[..xs.len()].copy_from_slice(xs);
        out
    }

    #[test]
    fn larger_values_spike_earlier() {
        // max 1: 1 → level 7 → slot 0; −1 → level 0 → slot 7; 0 → level 4 (3.5 rounds up) → slot 3;
        // 0.5 → 5.25 → level 5 → slot 2.
        let code = encode(&v(&[1.0, -1.0, 0.0, 0.5]), 4);
        let expect = (1 << 0) | (1 << (4 * 7 + 1)) | (1 << (4 * 3 + 2)) | (1 << (4 * 2 + 3));
        assert_eq!(code, expect, "{code:032b}");
        assert_eq!(encode(&v(&[]), 16), 0);
        assert_eq!(encode(&v(&[2.0, -2.0, 0.0, 1.0]), 4), code, "scale invariant");
        // Dimension 4 shares line 0 with dimension 0.
        assert_eq!(encode(&v(&[1.0, 0.0, 0.0, 0.0, -1.0]), 5) & 0x1111_1111, 1 | (1 << 28));
    }

    #[test]
    fn jaccard_similarity() {
        assert_eq!(similarity(0, 0), 1.0);
        assert_eq!(similarity(0b1100, 0b1010), 1.0 / 3.0);
        assert_eq!(similarity(0b1, 0b10), 0.0);
        assert_eq!(similarity(u32::MAX, u32::MAX), 1.0);
    }

    #[test]
    fn shift_registers_record_history() {
        let mut p = Patterns::new();
        p.record(0b101);
        p.record(0b001);
        p.record(0b010);
        assert_eq!(p.history[0], 0b110);
        assert_eq!(p.history[1], 0b001);
        assert_eq!(p.history[2], 0b100);
        assert_eq!(p.best_match(0b100, 3), 2);
        assert_eq!(p.best_match(0b111, 3), 0);
        assert_eq!(p.best_match(0, 0), crate::NONE);
        assert_eq!(p.correlated(2, 1, 3), 0b001, "0b100 vs 0b110: 1 bit; vs 0b001: 2 bits");
        assert_eq!(p.correlated(2, 2, 3), 0b011);
        assert_eq!(p.correlated(2, 0, 3), 0);
    }
}
