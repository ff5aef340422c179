//! The engine's own seeded random generator (SplitMix64). No global RNG exists in the core, so a
//! test that fixes the seed replays everything exactly.

/// SplitMix64: 64-bit state, full period, good enough statistics for initialisation and k-means++.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed ^ 0x5DEE_CE66_D1A4_F87B }
    }

    /// Restores a generator from [`Rng::state`].
    pub fn from_state(state: u64) -> Self {
        Rng { state }
    }

    /// The internal state (for persistence).
    pub fn state(&self) -> u64 {
        self.state
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in `[0, n)`; `n` must be non-zero.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Approximately standard normal: the Irwin–Hall sum of 12 uniforms minus 6 (mean 0,
    /// variance 1, support ±6). No transcendental functions, so no libm trigonometry in the wasm.
    pub fn normal(&mut self) -> f32 {
        let mut s = 0.0f32;
        for _ in 0..6 {
            let r = self.next_u64();
            s += (r >> 40) as f32 + ((r >> 16) & 0xFF_FFFF) as f32;
        }
        s * (1.0 / (1u64 << 24) as f32) - 6.0
    }
}

/// The fixed pseudo-random code of a `record_step` node id: `out.len()` values uniform in
/// [-1, 1) from a generator seeded by the node id (two values per 64 random bits), scaled to unit
/// length. Identical across engines, seeds and sessions.
pub fn node_code(node_id: u32, out: &mut [f32]) {
    let mut r = Rng::new(0xA076_1D64_78BD_642F ^ (node_id as u64).wrapping_mul(0xE703_7ED1_A0B4_28DB));
    const INV: f32 = 1.0 / (1u64 << 31) as f32;
    for pair in out.chunks_mut(2) {
        let v = r.next_u64();
        pair[0] = (v >> 32) as u32 as f32 * INV - 1.0;
        if pair.len() > 1 {
            pair[1] = v as u32 as f32 * INV - 1.0;
        }
    }
    crate::trajectory::normalize(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_different_seed_differs() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let sa: alloc::vec::Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let sb: alloc::vec::Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let sc: alloc::vec::Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(sa, sb);
        assert_ne!(sa, sc);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = Rng::new(1);
        let n = 20000;
        let (mut s, mut s2, mut u) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..n {
            let x = r.normal() as f64;
            s += x;
            s2 += x * x;
            let v = r.next_f32();
            assert!((0.0..1.0).contains(&v));
            u += v as f64;
        }
        assert!((s / n as f64).abs() < 0.03);
        assert!((s2 / n as f64 - 1.0).abs() < 0.05);
        assert!((u / n as f64 - 0.5).abs() < 0.01);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
        }
    }
}
