//! Distance metrics and their kernels.
//!
//! Vectors are stored as `[f32; 16]` with the components beyond the core's `dims` set to zero, so
//! every kernel works on exactly four `f32x4` lanes. On `wasm32` with `simd128` (always enabled by
//! the repository's `.cargo/config.toml`) the kernels use `core::arch::wasm32`; elsewhere their
//! scalar twins run. The twins add in the same order as the SIMD code (four lane-wise partial
//! sums, then `(l0 + l1) + (l2 + l3)`), so both produce bit-identical sums.
//!
//! Distances are always "smaller = closer":
//! - [`Metric::L2`]: the **squared** Euclidean distance `Σ (aᵢ − bᵢ)²` (≥ 0);
//! - [`Metric::Cosine`]: `1 − a·b / (‖a‖‖b‖)`, in `[0, 2]` up to f32 rounding (not clamped: a
//!   vector's distance to itself can be a few ulps below 0); `1.0` when either vector is zero;
//! - [`Metric::Dot`]: the negated inner product `−a·b` (may be negative).
use crate::MAX_DIMS;

/// A stored or query vector, zero-padded to [`MAX_DIMS`].
pub type Vector = [f32; MAX_DIMS];

/// Four stored vectors, dimension-major: `block[d][l]` is component `d` of the block's vector `l`.
/// One `f32x4` lane per vector, so the scan kernels need no horizontal sums.
pub type Block = [[f32; 4]; MAX_DIMS];

/// Four blocks (16 vectors), the unit of the scan kernel [`quad_distances`]: for each dimension
/// it loads the query component once and updates four independent `f32x4` accumulators, so the
/// additions of different blocks overlap instead of waiting on each other.
pub type Quad = [Block; 4];

/// The distance metric of a core (`u8` in the ABI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Metric {
    /// Squared Euclidean distance.
    L2 = 0,
    /// One minus cosine similarity.
    Cosine = 1,
    /// Negated dot product.
    Dot = 2,
}

impl Metric {
    /// Decodes the ABI value; `None` for anything above 2.
    pub fn from_u8(m: u8) -> Option<Metric> {
        match m {
            0 => Some(Metric::L2),
            1 => Some(Metric::Cosine),
            2 => Some(Metric::Dot),
            _ => None,
        }
    }

    /// Distance between query `q` (norm `qn`) and stored vector `v` (norm `vn`).
    /// The norms are only used by [`Metric::Cosine`].
    #[inline(always)]
    pub fn distance(self, q: &Vector, qn: f32, v: &Vector, vn: f32) -> f32 {
        match self {
            Metric::L2 => l2_squared(q, v),
            Metric::Dot => -dot(q, v),
            Metric::Cosine => {
                let n = qn * vn;
                if n == 0.0 {
                    1.0
                } else {
                    1.0 - dot(q, v) / n
                }
            }
        }
    }
}

/// Euclidean norm `‖v‖`.
#[inline(never)]
pub fn norm(v: &Vector) -> f32 {
    sqrt(norm_squared(v))
}

/// Scalar reference kernels (the twins of `simd`, the SIMD128 kernels of wasm32 builds).
pub mod scalar {
    use super::{Quad, Vector};

    #[inline(always)]
    fn reduce(lanes: [f32; 4]) -> f32 {
        (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    }

    /// Inner product `a·b`.
    pub fn dot(a: &Vector, b: &Vector) -> f32 {
        let mut lanes = [0.0f32; 4];
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            lanes[i & 3] += x * y;
        }
        reduce(lanes)
    }

    /// `dot(v, v)` (the twin of the SIMD `norm_squared`, which sums from +0.0 like this).
    pub fn norm_squared(v: &Vector) -> f32 {
        dot(v, v)
    }

    /// Squared Euclidean distance.
    pub fn l2_squared(a: &Vector, b: &Vector) -> f32 {
        let mut lanes = [0.0f32; 4];
        for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
            let d = x - y;
            lanes[i & 3] += d * d;
        }
        reduce(lanes)
    }

    /// Squared Euclidean distances (`l2`) or inner products (`!l2`) from `q` to the sixteen
    /// vectors of `b` (`[block][lane]`), over the first `dims` components, each added in
    /// dimension order like the SIMD twin.
    pub fn quad_distances(q: &Vector, b: &Quad, dims: usize, l2: bool) -> [[f32; 4]; 4] {
        let mut acc = [[0.0f32; 4]; 4];
        for (d, &x) in q.iter().enumerate().take(dims) {
            for (a, block) in acc.iter_mut().zip(b.iter()) {
                for (s, &y) in a.iter_mut().zip(block[d].iter()) {
                    *s += if l2 { (x - y) * (x - y) } else { x * y };
                }
            }
        }
        acc
    }

    /// Correctly rounded square root (IEEE 754, like wasm's `f32.sqrt`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn sqrt(x: f32) -> f32 {
        std::primitive::f32::sqrt(x)
    }
}

/// SIMD128 kernels (`wasm32` only).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd {
    use super::{Quad, Vector};
    use core::arch::wasm32::*;

    #[inline(always)]
    fn lane(v: &Vector, i: usize) -> v128 {
        // SAFETY: `i < 4`, so the 16 bytes read lie inside the 64-byte array; `v128_load` has no
        // alignment requirement.
        unsafe { v128_load(v.as_ptr().add(4 * i) as *const v128) }
    }

    #[inline(always)]
    fn reduce(acc: v128) -> f32 {
        (f32x4_extract_lane::<0>(acc) + f32x4_extract_lane::<1>(acc))
            + (f32x4_extract_lane::<2>(acc) + f32x4_extract_lane::<3>(acc))
    }

    /// Inner product `a·b` in `f32x4`.
    #[inline(always)]
    pub fn dot(a: &Vector, b: &Vector) -> f32 {
        let mut acc = f32x4_mul(lane(a, 0), lane(b, 0));
        for i in 1..4 {
            acc = f32x4_add(acc, f32x4_mul(lane(a, i), lane(b, i)));
        }
        reduce(acc)
    }

    /// `dot(v, v)` summed from +0.0: for a finite `v` (every caller's: stored vectors and checked
    /// queries) each `x * x` is +0.0 or more, never −0.0 or NaN, so `0.0 + x * x` is `x * x` bit
    /// for bit and the result equals `dot(v, v)`; the loop then needs no separate first step
    /// (size budget).
    #[inline(always)]
    pub fn norm_squared(v: &Vector) -> f32 {
        let mut acc = crate::snn::lanes::zero();
        for i in 0..4 {
            let x = lane(v, i);
            acc = f32x4_add(acc, f32x4_mul(x, x));
        }
        reduce(acc)
    }

    /// Squared Euclidean distance in `f32x4`.
    #[inline(always)]
    pub fn l2_squared(a: &Vector, b: &Vector) -> f32 {
        let d = f32x4_sub(lane(a, 0), lane(b, 0));
        let mut acc = f32x4_mul(d, d);
        for i in 1..4 {
            let d = f32x4_sub(lane(a, i), lane(b, i));
            acc = f32x4_add(acc, f32x4_mul(d, d));
        }
        reduce(acc)
    }

    /// Squared Euclidean distances (`l2`) or inner products (`!l2`) from `q` to the sixteen
    /// vectors of `b`, one lane per vector: for each dimension the query component is splatted
    /// once and four accumulators (written out by hand: a size-optimised build would not unroll a
    /// loop over them) are updated, so four addition chains run in parallel. One loop per metric,
    /// chosen once: a single loop with the metric test inside measured 410 bytes larger.
    #[inline(always)]
    pub fn quad_distances(q: &Vector, b: &Quad, dims: usize, l2: bool) -> [[f32; 4]; 4] {
        let row = |j: usize, d: usize| -> v128 {
            // SAFETY: `b[j][d]` is 16 readable bytes (bounds-checked index); no alignment needed.
            unsafe { v128_load(b[j][d].as_ptr() as *const v128) }
        };
        // +0.0 in every lane (the bits of four zero i32), kept in a local (size budget).
        let zero = crate::snn::lanes::zero();
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        if l2 {
            for (d, &x) in q.iter().enumerate().take(dims) {
                let x = f32x4_splat(x);
                let (t0, t1, t2, t3) = (f32x4_sub(x, row(0, d)), f32x4_sub(x, row(1, d)), f32x4_sub(x, row(2, d)), f32x4_sub(x, row(3, d)));
                a0 = f32x4_add(a0, f32x4_mul(t0, t0));
                a1 = f32x4_add(a1, f32x4_mul(t1, t1));
                a2 = f32x4_add(a2, f32x4_mul(t2, t2));
                a3 = f32x4_add(a3, f32x4_mul(t3, t3));
            }
        } else {
            for (d, &x) in q.iter().enumerate().take(dims) {
                let x = f32x4_splat(x);
                a0 = f32x4_add(a0, f32x4_mul(x, row(0, d)));
                a1 = f32x4_add(a1, f32x4_mul(x, row(1, d)));
                a2 = f32x4_add(a2, f32x4_mul(x, row(2, d)));
                a3 = f32x4_add(a3, f32x4_mul(x, row(3, d)));
            }
        }
        // SAFETY: a `v128` and a `[f32; 4]` are both 16 bytes of plain data.
        unsafe { core::mem::transmute::<[v128; 4], [[f32; 4]; 4]>([a0, a1, a2, a3]) }
    }

    /// Correctly rounded square root (`f32x4.sqrt` on one lane).
    #[inline(always)]
    pub fn sqrt(x: f32) -> f32 {
        f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::{dot, l2_squared, norm_squared, quad_distances, sqrt};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use scalar::{dot, l2_squared, norm_squared, quad_distances};
#[cfg(not(target_arch = "wasm32"))]
pub use scalar::sqrt;
#[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
compile_error!("micro-hnsw needs SIMD128 on wasm32: build with -C target-feature=+simd128 (.cargo/config.toml)");

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[f32]) -> Vector {
        let mut out = [0.0; MAX_DIMS];
        out[..xs.len()].copy_from_slice(xs);
        out
    }

    #[test]
    fn kernels_match_hand_computed_values() {
        let a = v(&[1.0, 2.0, 3.0]);
        let b = v(&[4.0, -5.0, 6.0]);
        assert_eq!(scalar::dot(&a, &b), 4.0 - 10.0 + 18.0);
        assert_eq!(scalar::l2_squared(&a, &b), 9.0 + 49.0 + 9.0);
        assert_eq!(Metric::Dot.distance(&a, 0.0, &b, 0.0), -12.0);
        let c = Metric::Cosine.distance(&a, norm(&a), &b, norm(&b));
        let expect = 1.0 - 12.0 / (14.0f32.sqrt_ref() * 77.0f32.sqrt_ref());
        assert!((c - expect).abs() < 1e-6, "{c} vs {expect}");
        assert_eq!(Metric::Cosine.distance(&a, norm(&a), &v(&[]), 0.0), 1.0);
        let parallel = v(&[2.0, 4.0, 6.0]);
        assert!(Metric::Cosine.distance(&a, norm(&a), &parallel, norm(&parallel)).abs() < 1e-6);
    }

    trait SqrtRef {
        fn sqrt_ref(self) -> f32;
    }
    impl SqrtRef for f32 {
        fn sqrt_ref(self) -> f32 {
            std::primitive::f32::sqrt(self)
        }
    }

    #[test]
    fn quad_kernels_match_per_vector_kernels() {
        let mut b: Quad = [[[0.0; 4]; MAX_DIMS]; 4];
        let mut vs = std::vec::Vec::new();
        for i in 0..16 {
            // Small integers and halves: every sum below is exact, whatever the order.
            let x = v(&[(i % 5) as f32 - 2.0, 0.5 * (i % 3) as f32, 7.0 - i as f32]);
            for d in 0..MAX_DIMS {
                b[i / 4][d][i % 4] = x[d];
            }
            vs.push(x);
        }
        let q = v(&[0.5, -1.0, 2.0]);
        let l2 = scalar::quad_distances(&q, &b, 3, true);
        let dp = scalar::quad_distances(&q, &b, 3, false);
        for (i, x) in vs.iter().enumerate() {
            assert_eq!(l2[i / 4][i % 4], scalar::l2_squared(&q, x), "vector {i}");
            assert_eq!(dp[i / 4][i % 4], scalar::dot(&q, x), "vector {i}");
        }
        // vs[0] = (-2, 0, 7): (2.5)² + 1² + (−5)².
        assert_eq!(l2[0][0], 6.25 + 1.0 + 25.0);
        assert_eq!(dp[0][0], -1.0 + 0.0 + 14.0);
        // Only the first dims count: vs[3] = (1, 0, 4), one dimension → (0.5 − 1)².
        assert_eq!(scalar::quad_distances(&q, &b, 1, true)[0][3], 0.25);
    }

    #[test]
    fn metric_decoding_rejects_unknown_values() {
        assert_eq!(Metric::from_u8(0), Some(Metric::L2));
        assert_eq!(Metric::from_u8(1), Some(Metric::Cosine));
        assert_eq!(Metric::from_u8(2), Some(Metric::Dot));
        assert_eq!(Metric::from_u8(3), None);
        assert_eq!(Metric::from_u8(255), None);
    }
}
