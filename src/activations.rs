//! The FastGRNN router's gate non-linearities over whole slices: `v ← σ(k·v)` and `v ← tanh(k·v)`.
//!
//! On wasm32 with SIMD128 four lanes at a time, with an exponential of its own (libm's `expf` and
//! `tanhf` are scalar calls, and for the seed's 8-unit router they cost more than the rest of the
//! forward pass): `eˣ = 2ⁿ·eʳ`, `n = round(x·log₂e)`, `r = x − n·ln 2` (ln 2 split in two parts, so
//! `r` is exact to a few ulp) and `eʳ` by its Taylor polynomial to r⁶ (|r| ≤ ½ ln 2: truncation
//! error < 2·10⁻⁷ relative). `tanh(y) = sign(y)·m/(m + 2)` with `m = e^{2|y|} − 1`, where for
//! `2|y| < ½ ln 2` `m` comes from the series of `(eᶻ − 1)/z` (no cancellation near 0). Measured
//! against f64: σ within 3·10⁻⁷ relative for arguments ≥ −87 (below, where exp's argument is
//! clamped and σ < 2·10⁻³⁸, within 10⁻³⁷ absolute: σ(−100) gives 6·10⁻³⁹, not 3.7·10⁻⁴⁴), tanh
//! within 3·10⁻⁷ absolute and 10⁻⁶ relative, signs and ±0 kept (tests below, run in wasm by
//! wasm-bindgen-test). Elsewhere (native builds, the training tests) libm.

/// `v[i] ← σ(k·v[i]) = 1 / (1 + e^{−k·v[i]})`.
pub fn sigmoid_scaled(v: &mut [f32], k: f32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::apply(v, k, simd::sigmoid4);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for x in v.iter_mut() {
        *x = sigmoid(k * *x);
    }
}

/// `v[i] ← tanh(k·v[i])`.
pub fn tanh_scaled(v: &mut [f32], k: f32) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::apply(v, k, simd::tanh4);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for x in v.iter_mut() {
        *x = libm::tanhf(k * *x);
    }
}

/// Logistic sigmoid, numerically safe for large |a| (libm).
#[inline]
pub fn sigmoid(a: f32) -> f32 {
    if a >= 0.0 {
        1.0 / (1.0 + libm::expf(-a))
    } else {
        let e = libm::expf(a);
        e / (1.0 + e)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// `v ← f(k·v)` four lanes at a time; a tail of 1–3 goes through a padded block, so every
    /// element takes the same path.
    #[inline(always)]
    pub fn apply(v: &mut [f32], k: f32, f: fn(v128) -> v128) {
        let kk = f32x4_splat(k);
        let mut chunks = v.chunks_exact_mut(4);
        for c in &mut chunks {
            // SAFETY: `c` is 4 floats; v128 load/store have no alignment requirement.
            unsafe {
                let x = v128_load(c.as_ptr() as *const v128);
                v128_store(c.as_mut_ptr() as *mut v128, f(f32x4_mul(kk, x)));
            }
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let mut block = [0.0f32; 4];
            block[..tail.len()].copy_from_slice(tail);
            // SAFETY: `block` is 4 floats.
            unsafe {
                let x = v128_load(block.as_ptr() as *const v128);
                v128_store(block.as_mut_ptr() as *mut v128, f(f32x4_mul(kk, x)));
            }
            let n = tail.len();
            tail.copy_from_slice(&block[..n]);
        }
    }

    /// ½ ln 2: the largest |r| after range reduction, and where `tanh4` switches to the series.
    const HALF_LN2: f32 = 0.346_573_6;

    /// `(eʳ − 1)/r` for |r| ≤ ½ ln 2: the Taylor series to r⁶ (Horner).
    #[inline(always)]
    fn expm1_over_r(r: v128) -> v128 {
        let mut p = f32x4_splat(1.0 / 5040.0);
        for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
            p = f32x4_add(f32x4_mul(p, r), f32x4_splat(c));
        }
        p
    }

    /// eˣ for x clamped to [−87, 88] (so 2ⁿ stays a normal f32; NaN stays NaN).
    #[inline(always)]
    pub fn exp4(x: v128) -> v128 {
        let x = f32x4_min(f32x4_max(x, f32x4_splat(-87.0)), f32x4_splat(88.0));
        let n = f32x4_nearest(f32x4_mul(x, f32x4_splat(core::f32::consts::LOG2_E)));
        // ln 2 = 0.693359375 (exact in 9 bits, so n·hi is exact) − 2.12194440e-4.
        let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n, f32x4_splat(0.693_359_4))), f32x4_mul(n, f32x4_splat(-2.121_944_4e-4)));
        let er = f32x4_add(f32x4_mul(r, expm1_over_r(r)), f32x4_splat(1.0));
        let scale = i32x4_shl(i32x4_add(i32x4_trunc_sat_f32x4(n), i32x4_splat(127)), 23);
        f32x4_mul(er, scale)
    }

    /// σ(x) = 1 / (1 + e^{−x}).
    pub fn sigmoid4(x: v128) -> v128 {
        f32x4_div(f32x4_splat(1.0), f32x4_add(f32x4_splat(1.0), exp4(f32x4_neg(x))))
    }

    /// tanh(x) = sign(x)·m/(m + 2), m = e^{2|x|} − 1.
    pub fn tanh4(x: v128) -> v128 {
        let sign = f32x4_splat(-0.0);
        let z = f32x4_add(f32x4_abs(x), f32x4_abs(x));
        let near = f32x4_lt(z, f32x4_splat(HALF_LN2));
        let m = v128_bitselect(f32x4_mul(z, expm1_over_r(z)), f32x4_sub(exp4(z), f32x4_splat(1.0)), near);
        let t = f32x4_div(m, f32x4_add(m, f32x4_splat(2.0)));
        v128_or(t, v128_and(x, sign))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both functions against f64 over [−40, 40] (dense near 0), including the padded tail: the
    /// SIMD kernels when run in wasm (wasm-bindgen-test), libm natively.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn gate_functions_match_f64() {
        let mut xs: alloc::vec::Vec<f32> = (-4000..=4000).map(|i| i as f32 / 100.0).collect();
        xs.extend((1..200).map(|i| 1e-7 * i as f32).flat_map(|x| [x, -x]));
        xs.extend([0.0, -0.0, 0.346, 0.347, 43.9, 44.1, -44.1, 87.5, -87.5, 100.0, -100.0]);
        xs.push(0.3); // odd length: a tail of the SIMD loop
        for k in [1.0f32, 0.5, 2.0] {
            let mut s = xs.clone();
            sigmoid_scaled(&mut s, k);
            let mut t = xs.clone();
            tanh_scaled(&mut t, k);
            for ((&x, &sv), &tv) in xs.iter().zip(&s).zip(&t) {
                let y = (k * x) as f64; // the product as the kernels form it
                let se = 1.0 / (1.0 + libm::exp(-y));
                let te = libm::tanh(y);
                assert!(((sv as f64) - se).abs() <= 3e-7 * se + 1e-37, "sigmoid({y}) = {sv}, expected {se}");
                let terr = ((tv as f64) - te).abs();
                assert!(terr <= 3e-7 && terr <= 1e-6 * te.abs() + 1e-12, "tanh({y}) = {tv}, expected {te}");
                assert!(tv == 0.0 || (tv < 0.0) == (y < 0.0), "tanh({y}) = {tv}: wrong sign");
            }
        }
        // ±0 keep their sign through tanh (the odd function's own zero), and the tail lanes too.
        let mut z = [0.0f32, -0.0, 1.0, 1.0, -0.0];
        tanh_scaled(&mut z, 1.0);
        assert_eq!([z[0].to_bits(), z[1].to_bits(), z[4].to_bits()], [0, 0x8000_0000, 0x8000_0000]);
    }
}
