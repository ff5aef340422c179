//! Hot loops. Each kernel has a scalar reference (`scalar`) and, on wasm32 builds with the simd128
//! target feature, a SIMD128 twin (`simd`) with the same signature. [`Kernels`] picks one: SIMD when
//! compiled in and `enable_simd` is set, scalar otherwise. Tests compare the two on random inputs.
//!
//! Matrix layout for LoRA: a rank-`r` projection over `dim` is `r` contiguous rows of `dim` floats.

pub use crate::error::MAX_MAGNITUDE;

/// Kernel selector held by every component that runs hot loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    simd: bool,
}

/// √x, correctly rounded. On wasm32 with simd128 one lane of `f32x4.sqrt` (the scalar
/// `f32.sqrt` intrinsic is unstable in Rust, and libm's `sqrtf` is a software routine there,
/// several times slower and larger); libm elsewhere. Both round the same, so results are
/// bit-identical across targets.
#[inline(always)]
pub fn sqrtf(x: f32) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        libm::sqrtf(x)
    }
}

/// [`sqrtf`] for f64 (one lane of `f64x2.sqrt`).
#[inline(always)]
pub fn sqrt(x: f64) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        libm::sqrt(x)
    }
}

/// `true` when this build contains the SIMD128 kernels.
pub const SIMD_COMPILED: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

macro_rules! dispatch {
    ($self:ident, $name:ident ( $($arg:expr),* )) => {{
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            if $self.simd {
                return simd::$name($($arg),*);
            }
        }
        scalar::$name($($arg),*)
    }};
}

impl Kernels {
    /// SIMD kernels if `want_simd` and compiled in, scalar otherwise.
    pub fn new(want_simd: bool) -> Self {
        Kernels { simd: want_simd && SIMD_COMPILED }
    }

    /// Whether SIMD kernels are in use.
    pub fn is_simd(self) -> bool {
        self.simd
    }

    /// Σ aᵢbᵢ over the common length.
    #[inline]
    pub fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        dispatch!(self, dot(a, b))
    }

    /// y ← y + α·x over the common length.
    #[inline]
    pub fn axpy(self, y: &mut [f32], alpha: f32, x: &[f32]) {
        dispatch!(self, axpy(y, alpha, x))
    }

    /// y ← y + α·x over the common length, in one pass that also returns
    /// `[Σ y², Σ y_before², Σ x²]` (the squared norms of the result and of both inputs).
    #[inline]
    pub fn axpy_norms(self, y: &mut [f32], alpha: f32, x: &[f32]) -> [f32; 3] {
        dispatch!(self, axpy_norms(y, alpha, x))
    }

    /// With g = β·x (rounded to f32): y ← y + α·g and z ← z + g, in one pass over `x` (a trajectory
    /// step's two running sums, g its gated activations); bit-identical to scaling a copy of `x` by
    /// β, then `axpy(y, α, g)` and `axpy(z, 1, g)` (β = 1: g = x). Over the common length of all three.
    #[inline]
    pub fn axpy_add(self, y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        dispatch!(self, axpy_add(y, alpha, z, beta, x))
    }

    /// With g = β·x: y ← α·g and z ← g in one pass over `x` (a trajectory's first step writes its
    /// two running sums, whatever they held). Over the common length of all three.
    #[inline]
    pub fn axpy_set(self, y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        dispatch!(self, axpy_set(y, alpha, z, beta, x))
    }

    /// [`axpy_add`](Self::axpy_add) gated element-wise: g = x·w (each product rounded to f32),
    /// y ← y + α·g, z ← z + g, in one pass; bit-identical to gating a copy of `x` by `w` first and
    /// then `axpy_add` with β = 1. Over the common length of all four.
    #[inline]
    pub fn axpy_gated_add(self, y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        dispatch!(self, axpy_gated_add(y, alpha, z, x, w))
    }

    /// [`axpy_set`](Self::axpy_set) gated element-wise: g = x·w, y ← α·g, z ← g.
    #[inline]
    pub fn axpy_gated_set(self, y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        dispatch!(self, axpy_gated_set(y, alpha, z, x, w))
    }

    /// The largest |x| (0 for an empty slice), NaN if any value is NaN: one pass, the same as
    /// [`range_probe`](Self::range_probe)'s, answering more than one range question.
    #[inline]
    pub fn max_abs(self, x: &[f32]) -> f32 {
        dispatch!(self, max_abs(x))
    }

    /// Σ (aᵢ − bᵢ)² over the common length.
    #[inline]
    pub fn sq_l2(self, a: &[f32], b: &[f32]) -> f32 {
        dispatch!(self, sq_l2(a, b))
    }

    /// v ← α·v.
    #[inline]
    pub fn scale(self, v: &mut [f32], alpha: f32) {
        dispatch!(self, scale(v, alpha))
    }

    /// 0 when every value is finite with |x| ≤ [`MAX_MAGNITUDE`], NaN otherwise.
    #[inline]
    pub fn range_probe(self, x: &[f32]) -> f32 {
        dispatch!(self, range_probe(x))
    }

    /// Cosine similarity; 0 when either vector has (near) zero norm.
    #[inline]
    pub fn cosine(self, a: &[f32], b: &[f32]) -> f32 {
        cosine_from(self.dot(a, b), self.dot(a, a), self.dot(b, b))
    }

    /// Dot products of `x` with consecutive rows: `out[r] = rows[r] · x` for each of the
    /// `out.len()` rows (`rows` holds `out.len()` rows of `x.len()` floats, row-major). Four rows
    /// share each pass over `x`, so this is faster than `out.len()` separate `dot`s.
    #[inline]
    pub fn dots(self, x: &[f32], rows: &[f32], out: &mut [f32]) {
        dispatch!(self, dots(x, rows, out))
    }

    /// LoRA down projection: `h[r] = rows[r] · x` for each of the `h.len()` rows.
    #[inline]
    pub fn lora_down(self, rows: &[f32], x: &[f32], h: &mut [f32]) {
        let dim = x.len();
        for (r, hr) in h.iter_mut().enumerate() {
            *hr = self.dot(&rows[r * dim..(r + 1) * dim], x);
        }
    }

    /// LoRA down projection for ranks 1–2 (`h.len()` rows) fused with `x`'s squared norm: fills
    /// `h` and returns `x · x`, in one pass over `x`.
    #[inline]
    pub fn lora_down_norm(self, rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        dispatch!(self, lora_down_norm(rows, x, h))
    }

    /// LoRA down projection fused with the range probe of `x`: fills `h` and returns
    /// `range_probe(x)` (0 iff every value is finite with |x| ≤ [`MAX_MAGNITUDE`]). One pass over
    /// `x` for ranks 1–2.
    #[inline]
    pub fn lora_down_probe(self, rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        dispatch!(self, lora_down_probe(rows, x, h))
    }

    /// The per-sample pass of the rank-1/2 learning rule (see `lora::LoraAdapter::accumulate_unit`):
    /// `g_up_r += c[r]·t` and `g_down_r += c[2+r]·x` for each row `r` of the gradients (one or two
    /// rows of `x.len()` floats: the rank is `g_down.len() / x.len()`). Each product is rounded, then
    /// added (no fused multiply-add), so the SIMD and scalar kernels agree bit for bit.
    #[inline]
    pub fn lora_outer12(self, x: &[f32], t: &[f32], c: &[f32; 4], g_down: &mut [f32], g_up: &mut [f32]) {
        dispatch!(self, lora_outer12(x, t, c, g_down, g_up))
    }

    /// LoRA up projection fused with the residual: `out = x + Σ_r coeff[r]·rows[r]`.
    #[inline]
    pub fn lora_up_add(self, out: &mut [f32], x: &[f32], rows: &[f32], coeff: &[f32]) {
        dispatch!(self, lora_up_add(out, x, rows, coeff))
    }
}

/// Cosine from the three dot products.
#[inline]
pub fn cosine_from(ab: f32, aa: f32, bb: f32) -> f32 {
    let denom = sqrtf(aa * bb);
    if denom > 1e-20 {
        ab / denom
    } else {
        0.0
    }
}

/// Scalar reference kernels.
pub mod scalar {
    /// Σ aᵢbᵢ.
    #[inline(never)]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// `out[r] = rows[r] · x` for each of the `out.len()` rows of `x.len()` floats.
    #[inline(never)]
    pub fn dots(x: &[f32], rows: &[f32], out: &mut [f32]) {
        let dim = x.len();
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot(&rows[r * dim..(r + 1) * dim], x);
        }
    }

    /// y ← y + α·x.
    #[inline(never)]
    pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
        for (yi, xi) in y.iter_mut().zip(x) {
            *yi += alpha * xi;
        }
    }

    /// y ← y + α·x, returning `[Σ y², Σ y_before², Σ x²]`.
    #[inline(never)]
    pub fn axpy_norms(y: &mut [f32], alpha: f32, x: &[f32]) -> [f32; 3] {
        let mut s = [0.0f32; 3];
        for (yi, &xi) in y.iter_mut().zip(x) {
            let old = *yi;
            *yi = old + alpha * xi;
            s[0] += *yi * *yi;
            s[1] += old * old;
            s[2] += xi * xi;
        }
        s
    }

    /// g = β·x; y ← y + α·g, z ← z + g.
    #[inline(never)]
    pub fn axpy_add(y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        for ((yi, zi), xi) in y.iter_mut().zip(z.iter_mut()).zip(x) {
            let g = beta * xi;
            *yi += alpha * g;
            *zi += g;
        }
    }

    /// g = β·x; y ← α·g, z ← g.
    #[inline(never)]
    pub fn axpy_set(y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        for ((yi, zi), xi) in y.iter_mut().zip(z.iter_mut()).zip(x) {
            let g = beta * xi;
            *yi = alpha * g;
            *zi = g;
        }
    }

    /// g = x·w; y ← y + α·g, z ← z + g.
    #[inline(never)]
    pub fn axpy_gated_add(y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        for (((yi, zi), xi), wi) in y.iter_mut().zip(z.iter_mut()).zip(x).zip(w) {
            let g = xi * wi;
            *yi += alpha * g;
            *zi += g;
        }
    }

    /// g = x·w; y ← α·g, z ← g.
    #[inline(never)]
    pub fn axpy_gated_set(y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        for (((yi, zi), xi), wi) in y.iter_mut().zip(z.iter_mut()).zip(x).zip(w) {
            let g = xi * wi;
            *yi = alpha * g;
            *zi = g;
        }
    }

    /// max |xᵢ| (0 if empty), NaN if any is NaN: the largest |x| bit pattern, as the SIMD twin.
    #[inline(never)]
    pub fn max_abs(x: &[f32]) -> f32 {
        f32::from_bits(x.iter().map(|v| v.to_bits() & 0x7fff_ffff).max().unwrap_or(0))
    }

    /// Σ (aᵢ − bᵢ)².
    #[inline(never)]
    pub fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    /// 0 iff every value is finite with |x| ≤ [`MAX_MAGNITUDE`](super::MAX_MAGNITUDE), NaN otherwise.
    #[inline(never)]
    pub fn range_probe(x: &[f32]) -> f32 {
        // NaN fails the comparison.
        if max_abs(x) <= super::MAX_MAGNITUDE {
            0.0
        } else {
            f32::NAN
        }
    }

    /// v ← α·v.
    #[inline(never)]
    pub fn scale(v: &mut [f32], alpha: f32) {
        v.iter_mut().for_each(|x| *x *= alpha);
    }

    /// Rank-1/2 gradient rows (see [`super::Kernels::lora_outer12`]).
    #[inline(never)]
    pub fn lora_outer12(x: &[f32], t: &[f32], c: &[f32; 4], g_down: &mut [f32], g_up: &mut [f32]) {
        let dim = x.len();
        for r in 0..g_down.len() / dim {
            for i in 0..dim {
                g_up[r * dim + i] += c[r] * t[i];
                g_down[r * dim + i] += c[2 + r] * x[i];
            }
        }
    }

    /// `h[r] = rows[r] · x` (1–2 rows), returning `x · x`.
    #[inline(never)]
    pub fn lora_down_norm(rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        let dim = x.len();
        for (r, hr) in h.iter_mut().enumerate() {
            *hr = dot(&rows[r * dim..(r + 1) * dim], x);
        }
        dot(x, x)
    }

    /// `h[r] = rows[r] · x`, returning `range_probe(x)`.
    #[inline(never)]
    pub fn lora_down_probe(rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        let dim = x.len();
        for (r, hr) in h.iter_mut().enumerate() {
            *hr = dot(&rows[r * dim..(r + 1) * dim], x);
        }
        range_probe(x)
    }

    /// `out = x + Σ_r coeff[r]·rows[r]`.
    #[inline(never)]
    pub fn lora_up_add(out: &mut [f32], x: &[f32], rows: &[f32], coeff: &[f32]) {
        let dim = out.len().min(x.len());
        out[..dim].copy_from_slice(&x[..dim]);
        for (r, &c) in coeff.iter().enumerate() {
            axpy(&mut out[..dim], c, &rows[r * dim..(r + 1) * dim]);
        }
    }
}

/// SIMD128 kernels (wasm32 + simd128 only).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn load(p: &[f32], i: usize) -> v128 {
        // SAFETY: the caller guarantees i + 4 <= p.len(); v128_load has no alignment requirement.
        unsafe { v128_load(p.as_ptr().add(i) as *const v128) }
    }

    #[inline(always)]
    unsafe fn store(p: &mut [f32], i: usize, v: v128) {
        // SAFETY: the caller guarantees i + 4 <= p.len().
        unsafe { v128_store(p.as_mut_ptr().add(i) as *mut v128, v) }
    }

    #[inline(always)]
    fn hsum(v: v128) -> f32 {
        f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v)
    }

    /// Σ aᵢbᵢ, four 4-lane accumulators (independent add chains hide the add latency).
    #[inline(never)]
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let mut i = 0;
        let mut acc0 = f32x4_splat(0.0);
        let mut acc1 = f32x4_splat(0.0);
        let mut acc2 = f32x4_splat(0.0);
        let mut acc3 = f32x4_splat(0.0);
        // SAFETY: every load reads 4 floats at i..i+4 with i+16, i+8 or i+4 <= n <= both lengths.
        unsafe {
            while i + 16 <= n {
                acc0 = f32x4_add(acc0, f32x4_mul(load(a, i), load(b, i)));
                acc1 = f32x4_add(acc1, f32x4_mul(load(a, i + 4), load(b, i + 4)));
                acc2 = f32x4_add(acc2, f32x4_mul(load(a, i + 8), load(b, i + 8)));
                acc3 = f32x4_add(acc3, f32x4_mul(load(a, i + 12), load(b, i + 12)));
                i += 16;
            }
            acc0 = f32x4_add(acc0, acc2);
            acc1 = f32x4_add(acc1, acc3);
            while i + 8 <= n {
                acc0 = f32x4_add(acc0, f32x4_mul(load(a, i), load(b, i)));
                acc1 = f32x4_add(acc1, f32x4_mul(load(a, i + 4), load(b, i + 4)));
                i += 8;
            }
            if i + 4 <= n {
                acc0 = f32x4_add(acc0, f32x4_mul(load(a, i), load(b, i)));
                i += 4;
            }
        }
        let mut s = hsum(f32x4_add(acc0, acc1));
        while i < n {
            s += a[i] * b[i];
            i += 1;
        }
        s
    }

    /// `out[r] = rows[r] · x` for each of the `out.len()` rows of `x.len()` floats: blocks of
    /// four rows share one pass over `x` (5 loads per 4 products instead of 8), the remaining
    /// rows use `dot`.
    #[inline(never)]
    pub fn dots(x: &[f32], rows: &[f32], out: &mut [f32]) {
        let dim = x.len();
        let n = out.len();
        let mut r = 0;
        while r + 4 <= n {
            let base = r * dim;
            let (r0, r1, r2, r3) = (&rows[base..base + dim], &rows[base + dim..base + 2 * dim], &rows[base + 2 * dim..base + 3 * dim], &rows[base + 3 * dim..base + 4 * dim]);
            let (mut a0, mut a1, mut a2, mut a3) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
            let mut i = 0;
            // SAFETY: i+4 <= dim, and x and the four rows are each dim long.
            unsafe {
                while i + 4 <= dim {
                    let v = load(x, i);
                    a0 = f32x4_add(a0, f32x4_mul(v, load(r0, i)));
                    a1 = f32x4_add(a1, f32x4_mul(v, load(r1, i)));
                    a2 = f32x4_add(a2, f32x4_mul(v, load(r2, i)));
                    a3 = f32x4_add(a3, f32x4_mul(v, load(r3, i)));
                    i += 4;
                }
            }
            let mut s = [hsum(a0), hsum(a1), hsum(a2), hsum(a3)];
            while i < dim {
                s[0] += x[i] * r0[i];
                s[1] += x[i] * r1[i];
                s[2] += x[i] * r2[i];
                s[3] += x[i] * r3[i];
                i += 1;
            }
            out[r..r + 4].copy_from_slice(&s);
            r += 4;
        }
        while r < n {
            out[r] = dot(&rows[r * dim..(r + 1) * dim], x);
            r += 1;
        }
    }

    /// |x| bit patterns above that of [`MAX_MAGNITUDE`]: for finite values exactly |x| > M
    /// (sign bits cleared, non-negative floats order like their bits as i32), and ±∞ and NaN lie
    /// above every finite pattern.
    #[inline(always)]
    fn over_range(m: v128) -> bool {
        v128_any_true(i32x4_gt(m, i32x4_splat(super::MAX_MAGNITUDE.to_bits() as i32)))
    }

    /// 0 iff every value is finite with |x| ≤ [`MAX_MAGNITUDE`], NaN otherwise: one [`max_abs`]
    /// pass (NaN patterns lie above every other, so a NaN anywhere fails the comparison).
    #[inline(never)]
    pub fn range_probe(x: &[f32]) -> f32 {
        if max_abs(x) <= super::MAX_MAGNITUDE {
            0.0
        } else {
            f32::NAN
        }
    }

    /// The largest |x| (0 if empty), NaN if any value is NaN: the largest |x| bit pattern, NaN
    /// patterns lying above +∞'s.
    #[inline(never)]
    pub fn max_abs(x: &[f32]) -> f32 {
        // Sign bits cleared, non-negative floats order like their bits as i32, +∞ above every
        // finite pattern and NaN patterns above +∞; `i32x4.max` (one cycle) keeps the
        // loop-carried chain short.
        let n = x.len();
        let abs = i32x4_splat(0x7fff_ffff);
        let (mut m0, mut m1) = (i32x4_splat(0), i32x4_splat(0));
        let mut i = 0;
        // SAFETY: every load reads 4 floats at i..i+4 with i+8 or i+4 <= n.
        unsafe {
            while i + 8 <= n {
                m0 = i32x4_max(m0, v128_and(load(x, i), abs));
                m1 = i32x4_max(m1, v128_and(load(x, i + 4), abs));
                i += 8;
            }
            if i + 4 <= n {
                m0 = i32x4_max(m0, v128_and(load(x, i), abs));
                i += 4;
            }
        }
        let m = i32x4_max(m0, m1);
        let m = i32x4_max(m, i32x4_shuffle::<2, 3, 0, 1>(m, m));
        let m = i32x4_max(m, i32x4_shuffle::<1, 0, 3, 2>(m, m));
        let mut bits = i32x4_extract_lane::<0>(m) as u32;
        while i < x.len() {
            bits = bits.max(x[i].to_bits() & 0x7fff_ffff);
            i += 1;
        }
        f32::from_bits(bits)
    }

    /// y ← y + α·x, returning `[Σ y², Σ y_before², Σ x²]` (see
    /// [`super::Kernels::axpy_norms`]); the three sums are three independent add chains.
    #[inline(never)]
    pub fn axpy_norms(y: &mut [f32], alpha: f32, x: &[f32]) -> [f32; 3] {
        let n = y.len().min(x.len());
        let va = f32x4_splat(alpha);
        let (mut new_sq, mut old_sq, mut x_sq) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
        let mut i = 0;
        // SAFETY: i+4 <= n <= both lengths.
        unsafe {
            while i + 4 <= n {
                let (old, xv) = (load(y, i), load(x, i));
                let new = f32x4_add(old, f32x4_mul(va, xv));
                store(y, i, new);
                new_sq = f32x4_add(new_sq, f32x4_mul(new, new));
                old_sq = f32x4_add(old_sq, f32x4_mul(old, old));
                x_sq = f32x4_add(x_sq, f32x4_mul(xv, xv));
                i += 4;
            }
        }
        let mut s = [hsum(new_sq), hsum(old_sq), hsum(x_sq)];
        while i < n {
            let old = y[i];
            y[i] = old + alpha * x[i];
            s[0] += y[i] * y[i];
            s[1] += old * old;
            s[2] += x[i] * x[i];
            i += 1;
        }
        s
    }

    /// `h[r] = rows[r] · x`, returning `range_probe(x)`; ranks 1–2 in a single pass.
    #[inline(never)]
    pub fn lora_down_probe(rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        let dim = x.len();
        if h.len() > 2 {
            for (r, hr) in h.iter_mut().enumerate() {
                *hr = dot(&rows[r * dim..(r + 1) * dim], x);
            }
            return range_probe(x);
        }
        let two = h.len() == 2;
        let r0 = &rows[..dim];
        let r1 = if two { &rows[dim..2 * dim] } else { r0 };
        let (mut a0, mut a1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        // Second accumulators for the odd 4-float groups: two add chains per row.
        let (mut b0, mut b1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        let abs = i32x4_splat(0x7fff_ffff);
        let mut m = i32x4_splat(0);
        let mut i = 0;
        // SAFETY: i+8 or i+4 <= dim <= every slice length.
        unsafe {
            while i + 8 <= dim {
                let (v, w) = (load(x, i), load(x, i + 4));
                m = i32x4_max(m, i32x4_max(v128_and(v, abs), v128_and(w, abs)));
                a0 = f32x4_add(a0, f32x4_mul(v, load(r0, i)));
                b0 = f32x4_add(b0, f32x4_mul(w, load(r0, i + 4)));
                if two {
                    a1 = f32x4_add(a1, f32x4_mul(v, load(r1, i)));
                    b1 = f32x4_add(b1, f32x4_mul(w, load(r1, i + 4)));
                }
                i += 8;
            }
            if i + 4 <= dim {
                let v = load(x, i);
                m = i32x4_max(m, v128_and(v, abs));
                a0 = f32x4_add(a0, f32x4_mul(v, load(r0, i)));
                if two {
                    a1 = f32x4_add(a1, f32x4_mul(v, load(r1, i)));
                }
                i += 4;
            }
        }
        let (mut s0, mut s1) = (hsum(f32x4_add(a0, b0)), hsum(f32x4_add(a1, b1)));
        let mut in_range = !over_range(m);
        while i < dim {
            s0 += x[i] * r0[i];
            s1 += x[i] * r1[i];
            in_range &= x[i].abs() <= super::MAX_MAGNITUDE;
            i += 1;
        }
        h[0] = s0;
        if two {
            h[1] = s1;
        }
        if in_range {
            0.0
        } else {
            f32::NAN
        }
    }

    /// `h[r] = rows[r] · x` for 1–2 rows, returning `x · x` (see
    /// [`super::Kernels::lora_down_norm`]); the three sums are three independent add chains.
    #[inline(never)]
    pub fn lora_down_norm(rows: &[f32], x: &[f32], h: &mut [f32]) -> f32 {
        let dim = x.len();
        let two = h.len() >= 2;
        let r0 = &rows[..dim];
        // Rank 1 runs the second row over the first again (a product more per group, no branch).
        let r1 = if two { &rows[dim..2 * dim] } else { r0 };
        let (mut s0, mut s1, mut sx) = (f32x4_splat(0.0), f32x4_splat(0.0), f32x4_splat(0.0));
        let mut i = 0;
        // SAFETY: i+4 <= dim <= every slice length.
        unsafe {
            while i + 4 <= dim {
                let v = load(x, i);
                s0 = f32x4_add(s0, f32x4_mul(v, load(r0, i)));
                s1 = f32x4_add(s1, f32x4_mul(v, load(r1, i)));
                sx = f32x4_add(sx, f32x4_mul(v, v));
                i += 4;
            }
        }
        let mut s = [hsum(s0), hsum(s1), hsum(sx)];
        while i < dim {
            s[0] += x[i] * r0[i];
            s[1] += x[i] * r1[i];
            s[2] += x[i] * x[i];
            i += 1;
        }
        h[0] = s[0];
        if two {
            h[1] = s[1];
        }
        s[2]
    }

    /// Rank-1/2 gradient rows (see [`super::Kernels::lora_outer12`]).
    #[inline(never)]
    pub fn lora_outer12(x: &[f32], t: &[f32], c: &[f32; 4], g_down: &mut [f32], g_up: &mut [f32]) {
        let dim = x.len();
        let two = g_down.len() >= 2 * dim;
        let (gd0, gd1) = g_down.split_at_mut(dim);
        let (gu0, gu1) = g_up.split_at_mut(dim);
        let k: [v128; 4] = core::array::from_fn(|j| f32x4_splat(c[j]));
        let mut i = 0;
        // SAFETY: i+4 <= dim; x, t and the first gradient rows are dim long, the second rows are
        // used only when `two`, where they are dim long as well.
        unsafe {
            while i + 4 <= dim {
                let (tv, xv) = (load(t, i), load(x, i));
                store(gu0, i, f32x4_add(load(gu0, i), f32x4_mul(k[0], tv)));
                store(gd0, i, f32x4_add(load(gd0, i), f32x4_mul(k[2], xv)));
                if two {
                    store(gu1, i, f32x4_add(load(gu1, i), f32x4_mul(k[1], tv)));
                    store(gd1, i, f32x4_add(load(gd1, i), f32x4_mul(k[3], xv)));
                }
                i += 4;
            }
        }
        while i < dim {
            gu0[i] += c[0] * t[i];
            gd0[i] += c[2] * x[i];
            if two {
                gu1[i] += c[1] * t[i];
                gd1[i] += c[3] * x[i];
            }
            i += 1;
        }
    }

    /// v ← α·v.
    #[inline(never)]
    pub fn scale(v: &mut [f32], alpha: f32) {
        let n = v.len();
        let va = f32x4_splat(alpha);
        let mut i = 0;
        // SAFETY: i+4 <= n.
        unsafe {
            while i + 4 <= n {
                let x = f32x4_mul(va, load(v, i));
                store(v, i, x);
                i += 4;
            }
        }
        while i < n {
            v[i] *= alpha;
            i += 1;
        }
    }

    /// y ← y + α·x.
    #[inline(never)]
    pub fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
        let n = y.len().min(x.len());
        let va = f32x4_splat(alpha);
        let mut i = 0;
        // SAFETY: i+4 <= n <= both lengths.
        unsafe {
            while i + 4 <= n {
                let v = f32x4_add(load(y, i), f32x4_mul(va, load(x, i)));
                store(y, i, v);
                i += 4;
            }
        }
        while i < n {
            y[i] += alpha * x[i];
            i += 1;
        }
    }

    /// g = β·x; y ← y + α·g, z ← z + g; one load of `x` per lane group.
    #[inline(never)]
    pub fn axpy_add(y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        axpy_pair::<true, false>(y, alpha, z, beta, x, &[]);
    }

    /// g = β·x; y ← α·g, z ← g; one load of `x` per lane group.
    #[inline(never)]
    pub fn axpy_set(y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32]) {
        axpy_pair::<false, false>(y, alpha, z, beta, x, &[]);
    }

    /// g = x·w; y ← y + α·g, z ← z + g.
    #[inline(never)]
    pub fn axpy_gated_add(y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        axpy_pair::<true, true>(y, alpha, z, 1.0, x, w);
    }

    /// g = x·w; y ← α·g, z ← g.
    #[inline(never)]
    pub fn axpy_gated_set(y: &mut [f32], alpha: f32, z: &mut [f32], x: &[f32], w: &[f32]) {
        axpy_pair::<false, true>(y, alpha, z, 1.0, x, w);
    }

    /// The loop of `axpy_add` (`ADD`: onto the old y and z) and `axpy_set` (overwriting them);
    /// `GATED`: g = x·w element-wise instead of β·x.
    #[inline(always)]
    fn axpy_pair<const ADD: bool, const GATED: bool>(y: &mut [f32], alpha: f32, z: &mut [f32], beta: f32, x: &[f32], w: &[f32]) {
        let n = y.len().min(z.len()).min(x.len());
        let n = if GATED { n.min(w.len()) } else { n };
        let (va, vb) = (f32x4_splat(alpha), f32x4_splat(beta));
        let mut i = 0;
        // SAFETY: i+4 <= n <= all three (GATED: four) lengths.
        unsafe {
            while i + 4 <= n {
                let g = if GATED { f32x4_mul(load(x, i), load(w, i)) } else { f32x4_mul(vb, load(x, i)) };
                let (ay, az) = (f32x4_mul(va, g), g);
                if ADD {
                    store(y, i, f32x4_add(load(y, i), ay));
                    store(z, i, f32x4_add(load(z, i), az));
                } else {
                    store(y, i, ay);
                    store(z, i, az);
                }
                i += 4;
            }
        }
        while i < n {
            let g = if GATED { x[i] * w[i] } else { beta * x[i] };
            if ADD {
                y[i] += alpha * g;
                z[i] += g;
            } else {
                y[i] = alpha * g;
                z[i] = g;
            }
            i += 1;
        }
    }

    /// Σ (aᵢ − bᵢ)², four accumulators as in `dot`.
    #[inline(never)]
    pub fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let mut i = 0;
        let mut acc0 = f32x4_splat(0.0);
        let mut acc1 = f32x4_splat(0.0);
        let mut acc2 = f32x4_splat(0.0);
        let mut acc3 = f32x4_splat(0.0);
        // SAFETY: as in `dot`.
        unsafe {
            while i + 16 <= n {
                let d0 = f32x4_sub(load(a, i), load(b, i));
                let d1 = f32x4_sub(load(a, i + 4), load(b, i + 4));
                let d2 = f32x4_sub(load(a, i + 8), load(b, i + 8));
                let d3 = f32x4_sub(load(a, i + 12), load(b, i + 12));
                acc0 = f32x4_add(acc0, f32x4_mul(d0, d0));
                acc1 = f32x4_add(acc1, f32x4_mul(d1, d1));
                acc2 = f32x4_add(acc2, f32x4_mul(d2, d2));
                acc3 = f32x4_add(acc3, f32x4_mul(d3, d3));
                i += 16;
            }
            acc0 = f32x4_add(acc0, acc2);
            acc1 = f32x4_add(acc1, acc3);
            while i + 8 <= n {
                let d0 = f32x4_sub(load(a, i), load(b, i));
                let d1 = f32x4_sub(load(a, i + 4), load(b, i + 4));
                acc0 = f32x4_add(acc0, f32x4_mul(d0, d0));
                acc1 = f32x4_add(acc1, f32x4_mul(d1, d1));
                i += 8;
            }
            if i + 4 <= n {
                let d0 = f32x4_sub(load(a, i), load(b, i));
                acc0 = f32x4_add(acc0, f32x4_mul(d0, d0));
                i += 4;
            }
        }
        let mut s = hsum(f32x4_add(acc0, acc1));
        while i < n {
            let d = a[i] - b[i];
            s += d * d;
            i += 1;
        }
        s
    }

    /// `out = x + Σ_r coeff[r]·rows[r]`; ranks 1 and 2 in one pass, larger ranks row by row.
    #[inline(never)]
    pub fn lora_up_add(out: &mut [f32], x: &[f32], rows: &[f32], coeff: &[f32]) {
        let dim = out.len().min(x.len());
        match coeff.len() {
            1 | 2 => {
                let c0 = f32x4_splat(coeff[0]);
                let two = coeff.len() == 2;
                let c1 = f32x4_splat(if two { coeff[1] } else { 0.0 });
                let (r0, r1) = (&rows[..dim], if two { &rows[dim..2 * dim] } else { &rows[..dim] });
                let mut i = 0;
                // SAFETY: i+8 or i+4 <= dim <= every slice length.
                unsafe {
                    while i + 8 <= dim {
                        let mut v = f32x4_add(load(x, i), f32x4_mul(c0, load(r0, i)));
                        let mut u = f32x4_add(load(x, i + 4), f32x4_mul(c0, load(r0, i + 4)));
                        if two {
                            v = f32x4_add(v, f32x4_mul(c1, load(r1, i)));
                            u = f32x4_add(u, f32x4_mul(c1, load(r1, i + 4)));
                        }
                        store(out, i, v);
                        store(out, i + 4, u);
                        i += 8;
                    }
                    if i + 4 <= dim {
                        let mut v = f32x4_add(load(x, i), f32x4_mul(c0, load(r0, i)));
                        if two {
                            v = f32x4_add(v, f32x4_mul(c1, load(r1, i)));
                        }
                        store(out, i, v);
                        i += 4;
                    }
                }
                while i < dim {
                    let mut v = x[i] + coeff[0] * r0[i];
                    if two {
                        v += coeff[1] * r1[i];
                    }
                    out[i] = v;
                    i += 1;
                }
            }
            _ => {
                out[..dim].copy_from_slice(&x[..dim]);
                for (r, &c) in coeff.iter().enumerate() {
                    axpy(&mut out[..dim], c, &rows[r * dim..(r + 1) * dim]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use alloc::vec::Vec;

    fn random(r: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| r.normal()).collect()
    }

    /// The scalar kernels against f64 definitions, over lengths that exercise every tail.
    #[test]
    fn scalar_kernels_match_f64_definitions() {
        let mut r = Rng::new(3);
        for n in [0usize, 1, 3, 4, 7, 8, 9, 31, 256, 257] {
            let (a, b) = (random(&mut r, n), random(&mut r, n));
            let dot64: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((scalar::dot(&a, &b) as f64 - dot64).abs() < 1e-3 * (1.0 + dot64.abs()));
            let l2: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum();
            assert!((scalar::sq_l2(&a, &b) as f64 - l2).abs() < 1e-3 * (1.0 + l2));
            let rows: Vec<f32> = a.iter().chain(&b).chain(&a).copied().collect();
            let mut d = [0.0f32; 3];
            scalar::dots(&b, &rows, &mut d);
            assert!((d[0] as f64 - dot64).abs() < 1e-3 * (1.0 + dot64.abs()) && d[0] == d[2]);
            let bb: f64 = b.iter().map(|x| *x as f64 * *x as f64).sum();
            assert!((d[1] as f64 - bb).abs() < 1e-3 * (1.0 + bb));
            let mut y = a.clone();
            scalar::axpy(&mut y, 0.5, &b);
            for i in 0..n {
                assert!((y[i] - (a[i] + 0.5 * b[i])).abs() < 1e-5);
            }
            let (mut y, mut z) = (a.clone(), a.clone());
            scalar::axpy_add(&mut y, -2.0, &mut z, 0.25, &b);
            for i in 0..n {
                assert!((y[i] - (a[i] - 2.0 * 0.25 * b[i])).abs() < 1e-5 && (z[i] - (a[i] + 0.25 * b[i])).abs() < 1e-5);
            }
        }
        let k = Kernels::new(false);
        assert!((k.cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(k.cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(k.cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn max_abs_is_the_largest_magnitude_and_nan_wins() {
        let k = Kernels::new(true);
        assert_eq!(k.max_abs(&[]), 0.0);
        assert_eq!(k.max_abs(&[-0.0, 0.5, -3.0, 2.0]), 3.0);
        assert_eq!(k.max_abs(&[1.0, f32::NEG_INFINITY]), f32::INFINITY);
        assert!(k.max_abs(&[f32::INFINITY, f32::NAN, 1.0]).is_nan());
        assert!(k.max_abs(&[f32::NAN]).is_nan());
    }

    #[test]
    fn lora_up_add_matches_definition() {
        let mut r = Rng::new(4);
        for rank in 1..=4 {
            for dim in [5usize, 8, 256] {
                let x = random(&mut r, dim);
                let rows = random(&mut r, rank * dim);
                let coeff = random(&mut r, rank);
                let mut out = alloc::vec![0.0; dim];
                Kernels::new(true).lora_up_add(&mut out, &x, &rows, &coeff);
                for i in 0..dim {
                    let want: f32 = x[i] + (0..rank).map(|q| coeff[q] * rows[q * dim + i]).sum::<f32>();
                    assert!((out[i] - want).abs() < 1e-4, "rank {rank} dim {dim} i {i}");
                }
            }
        }
    }
}

/// SIMD128 vs scalar on random inputs, run in Node by `wasm-bindgen-test`.
#[cfg(all(test, target_arch = "wasm32", target_feature = "simd128"))]
mod simd_vs_scalar {
    use super::*;
    use crate::rng::Rng;
    use alloc::vec::Vec;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn random(r: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| r.normal()).collect()
    }

    fn close(a: f32, b: f32, scale: f32) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + scale)
    }

    /// The one-lane `f32x4.sqrt` / `f64x2.sqrt` roots are libm's, bit for bit (both correctly
    /// rounded), including zeros, subnormals, infinities and NaN for negative or NaN inputs.
    #[wasm_bindgen_test]
    fn lane_square_roots_equal_libm() {
        let mut r = Rng::new(11);
        let mut xs: Vec<f32> = alloc::vec![0.0, -0.0, 1.0, 2.0, 1e-40, f32::MIN_POSITIVE, f32::MAX, f32::INFINITY, -1.0, f32::NAN];
        xs.extend((0..2000).map(|i| libm::expf(r.normal() * 20.0) * if i % 97 == 0 { -1.0 } else { 1.0 }));
        for &x in &xs {
            let (ours, theirs) = (sqrtf(x), libm::sqrtf(x));
            assert!(ours.to_bits() == theirs.to_bits() || (ours.is_nan() && theirs.is_nan()), "sqrtf({x:e}): {ours:e} vs {theirs:e}");
            let (ours, theirs) = (sqrt(x as f64 * 1.7), libm::sqrt(x as f64 * 1.7));
            assert!(ours.to_bits() == theirs.to_bits() || (ours.is_nan() && theirs.is_nan()), "sqrt({x:e} × 1.7)");
        }
    }

    #[wasm_bindgen_test]
    fn simd_kernels_agree_with_scalar() {
        let mut r = Rng::new(11);
        for n in [0usize, 1, 3, 4, 5, 8, 12, 17, 64, 255, 256, 1000] {
            for _ in 0..8 {
                let (a, b) = (random(&mut r, n), random(&mut r, n));
                let mag: f32 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
                assert!(close(simd::dot(&a, &b), scalar::dot(&a, &b), mag), "dot n={n}");
                assert_eq!(simd::range_probe(&a), 0.0);
                if n > 0 {
                    for v in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1.0001e15, -2e15, f32::MAX] {
                        let mut bad = a.clone();
                        bad[n - 1] = v;
                        assert!(simd::range_probe(&bad).is_nan() && scalar::range_probe(&bad).is_nan(), "{v} n={n}");
                        bad[n - 1] = if v.is_nan() { 1e15 } else { v.signum() * 1e15 };
                        assert_eq!((simd::range_probe(&bad), scalar::range_probe(&bad)), (0.0, 0.0), "±1e15 n={n}");
                    }
                }
                let l2 = scalar::sq_l2(&a, &b);
                assert!(close(simd::sq_l2(&a, &b), l2, l2), "sq_l2 n={n}");
                for rows_n in [0usize, 1, 3, 4, 5, 9] {
                    let rows = random(&mut r, rows_n * n);
                    let (mut d1, mut d2) = (alloc::vec![7.0; rows_n], alloc::vec![-7.0; rows_n]);
                    simd::dots(&a, &rows, &mut d1);
                    scalar::dots(&a, &rows, &mut d2);
                    assert!(d1.iter().zip(&d2).all(|(p, q)| close(*p, *q, 16.0)), "dots n={n} rows={rows_n}");
                }
                let alpha = r.normal();
                let (mut y1, mut y2) = (a.clone(), a.clone());
                simd::axpy(&mut y1, alpha, &b);
                scalar::axpy(&mut y2, alpha, &b);
                assert!(y1.iter().zip(&y2).all(|(p, q)| close(*p, *q, 1.0)), "axpy n={n}");
                // axpy_add: bit-identical to gating a copy (g = β·a) and the two axpys it fuses,
                // in both kernel sets (β = 1: g = a).
                type Pair = fn(&mut [f32], f32, &mut [f32], f32, &[f32]);
                for beta in [1.0, -0.375, 0.3] {
                    let g: Vec<f32> = a.iter().map(|x| beta * x).collect();
                    for k in [simd::axpy_add as Pair, scalar::axpy_add] {
                        let (mut y3, mut z3) = (a.clone(), b.clone());
                        let (mut y4, mut z4) = (a.clone(), b.clone());
                        k(&mut y3, alpha, &mut z3, beta, &a);
                        scalar::axpy(&mut y4, alpha, &g);
                        scalar::axpy(&mut z4, 1.0, &g);
                        assert!(y3.iter().zip(&y4).all(|(p, q)| close(*p, *q, 1.0)), "axpy_add y n={n}");
                        assert_eq!(z3, z4, "axpy_add z n={n} beta={beta}");
                    }
                    // axpy_set: what axpy_add gives on zeroed sums, whatever the sums held before.
                    for k in [simd::axpy_set as Pair, scalar::axpy_set] {
                        let (mut y3, mut z3) = (alloc::vec![f32::NAN; n], b.clone());
                        let (mut y4, mut z4) = (alloc::vec![0.0; n], alloc::vec![0.0; n]);
                        k(&mut y3, alpha, &mut z3, beta, &a);
                        scalar::axpy_add(&mut y4, alpha, &mut z4, beta, &a);
                        assert!(y3.iter().zip(&y4).all(|(p, q)| p == q), "axpy_set y n={n}");
                        assert!(z3.iter().zip(&z4).all(|(p, q)| p == q), "axpy_set z n={n}");
                    }
                }
                // axpy_gated_*: bit-identical to gating a copy (g = a·w, each product rounded)
                // and then axpy_add / axpy_set with β = 1, in both kernel sets.
                let w = random(&mut r, n);
                let g: Vec<f32> = a.iter().zip(&w).map(|(x, v)| x * v).collect();
                type Gated = fn(&mut [f32], f32, &mut [f32], &[f32], &[f32]);
                for (k, add) in [(simd::axpy_gated_add as Gated, true), (scalar::axpy_gated_add, true), (simd::axpy_gated_set, false), (scalar::axpy_gated_set, false)] {
                    let (mut y3, mut z3) = (a.clone(), b.clone());
                    let (mut y4, mut z4) = (a.clone(), b.clone());
                    k(&mut y3, alpha, &mut z3, &a, &w);
                    if add {
                        scalar::axpy_add(&mut y4, alpha, &mut z4, 1.0, &g);
                    } else {
                        scalar::axpy_set(&mut y4, alpha, &mut z4, 1.0, &g);
                    }
                    assert!(y3.iter().zip(&y4).all(|(p, q)| p.to_bits() == q.to_bits()), "axpy_gated (add {add}) y n={n}");
                    assert!(z3.iter().zip(&z4).all(|(p, q)| p.to_bits() == q.to_bits()), "axpy_gated (add {add}) z n={n}");
                }
                // max_abs: the same largest |x| in both sets, NaN whenever a NaN is present.
                let m = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                assert_eq!((simd::max_abs(&a), scalar::max_abs(&a)), (m, m), "max_abs n={n}");
                for at in [0, n / 2, n.saturating_sub(1)] {
                    if n == 0 {
                        break;
                    }
                    for v in [f32::INFINITY, f32::NEG_INFINITY, -1e30, 1e-40, -0.0] {
                        let mut c = a.clone();
                        c[at] = v;
                        let want = c.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                        assert_eq!((simd::max_abs(&c), scalar::max_abs(&c)), (want, want), "max_abs {v} at {at} n={n}");
                    }
                    let mut c = a.clone();
                    c[at] = f32::NAN;
                    assert!(simd::max_abs(&c).is_nan() && scalar::max_abs(&c).is_nan(), "max_abs NaN at {at} n={n}");
                }
                simd::scale(&mut y1, alpha);
                scalar::scale(&mut y2, alpha);
                assert!(y1.iter().zip(&y2).all(|(p, q)| close(*p, *q, 4.0)), "scale n={n}");
                for rank in 1..=3 {
                    let rows = random(&mut r, rank * n);
                    let (mut h1, mut h2) = ([0.0f32; 3], [0.0f32; 3]);
                    let p1 = simd::lora_down_probe(&rows, &a, &mut h1[..rank]);
                    let p2 = scalar::lora_down_probe(&rows, &a, &mut h2[..rank]);
                    assert!(p1 == 0.0 && p2 == 0.0);
                    assert!(h1.iter().zip(&h2).all(|(p, q)| close(*p, *q, 16.0)), "lora_down_probe n={n} rank={rank}");
                    if n > 0 {
                        // A non-finite value anywhere (vector blocks or scalar tail) is seen.
                        for at in [0, n / 2, n - 1] {
                            let mut bad = a.clone();
                            bad[at] = if at % 2 == 0 { f32::NAN } else { f32::NEG_INFINITY };
                            let mut h = [0.0f32; 3];
                            assert!(simd::lora_down_probe(&rows, &bad, &mut h[..rank]).is_nan(), "probe n={n} rank={rank} at={at}");
                        }
                    }
                    let coeff = random(&mut r, rank);
                    let (mut o1, mut o2) = (alloc::vec![0.0; n], alloc::vec![0.0; n]);
                    simd::lora_up_add(&mut o1, &a, &rows, &coeff);
                    scalar::lora_up_add(&mut o2, &a, &rows, &coeff);
                    assert!(o1.iter().zip(&o2).all(|(p, q)| close(*p, *q, 4.0)), "lora_up_add n={n} rank={rank}");
                }
            }
        }
        for n in [1usize, 5, 8, 64, 256, 257] {
            for rank in 1..=2 {
                let (x, t) = (random(&mut r, n), random(&mut r, n));
                let c: [f32; 4] = core::array::from_fn(|_| r.normal());
                let (mut gd1, mut gu1) = (random(&mut r, rank * n), random(&mut r, rank * n));
                let (mut gd2, mut gu2) = (gd1.clone(), gu1.clone());
                simd::lora_outer12(&x, &t, &c, &mut gd1, &mut gu1);
                scalar::lora_outer12(&x, &t, &c, &mut gd2, &mut gu2);
                assert!(gd1 == gd2 && gu1 == gu2, "lora_outer12 n={n} rank={rank}");
            }
        }
        for n in [0usize, 1, 3, 4, 7, 8, 12, 64, 256, 259] {
            let (x, y0) = (random(&mut r, n), random(&mut r, n));
            let (mut y1, mut y2) = (y0.clone(), y0.clone());
            let s1 = simd::axpy_norms(&mut y1, -0.7, &x);
            let s2 = scalar::axpy_norms(&mut y2, -0.7, &x);
            assert_eq!(y1, y2, "axpy_norms result n={n}");
            let scale = n as f32 * 4.0;
            assert!(s1.iter().zip(&s2).all(|(a, b)| close(*a, *b, scale)), "axpy_norms sums n={n}: {s1:?} vs {s2:?}");
            assert!(close(s2[0], scalar::dot(&y2, &y2), scale) && close(s2[1], scalar::dot(&y0, &y0), scale) && close(s2[2], scalar::dot(&x, &x), scale));
            for rank in 1..=2 {
                let rows = random(&mut r, rank * n);
                let (mut h1, mut h2) = ([0.0f32; 2], [0.0f32; 2]);
                let xx1 = simd::lora_down_norm(&rows, &x, &mut h1[..rank]);
                let xx2 = scalar::lora_down_norm(&rows, &x, &mut h2[..rank]);
                assert!(close(xx1, xx2, scale) && close(xx2, scalar::dot(&x, &x), scale), "lora_down_norm x·x n={n}");
                for j in 0..rank {
                    assert!(close(h1[j], h2[j], scale) && close(h2[j], scalar::dot(&rows[j * n..(j + 1) * n], &x), scale), "lora_down_norm h n={n} rank={rank}");
                }
                assert_eq!((h1[rank..].to_vec(), h2[rank..].to_vec()), (alloc::vec![0.0; 2 - rank], alloc::vec![0.0; 2 - rank]), "rows beyond the rank untouched");
            }
        }
        assert!(Kernels::new(true).is_simd());
        assert!(!Kernels::new(false).is_simd());
    }
}
