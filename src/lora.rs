//! Low-rank adapters. `delta(x) = scale · Σ_r (down_r · x) · up_r`, `scale = α / rank` with α = 1.
//!
//! Learning rule (shared by MicroLoRA and BaseLoRA). A sample is a unit-length input `x̂`, a target
//! `t` for `delta(x̂)` and a weight `w`:
//! - **down** follows Oja's subspace rule, weighted by `w`: `Δdown_r = w·h_r·(x̂ − Σ_j h_j·down_j)`
//!   with `h = down·x̂`. The rows converge to an orthonormal basis of the principal subspace of the
//!   (weighted) inputs, so distinct input directions map to orthogonal codes.
//! - **up** regresses the target with normalised LMS: `Δup_r = −w·(scale·h_r / (scale²(‖h‖² + 0.01)))·e`,
//!   `e = delta(x̂) − t`. A full step (rate 1) nearly fits that sample exactly.
//!
//! The up rows move with the configured learning rate; the down rows with the fixed
//! [`OJA_RATE`] (they only track the input distribution, which is not a matter of trust in rewards).
//!
//! Updates are summed into a [`LoraGradient`] and applied by [`LoraAdapter::apply_gradient`].

use crate::kernels::Kernels;
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;

/// Per-sample rate of the down projection's Oja update.
pub const OJA_RATE: f32 = 0.05;

/// α of the `α / rank` scale.
pub const LORA_ALPHA: f32 = 1.0;

/// One adapter: `rank` down rows and `rank` up rows of `dim` floats each.
#[derive(Clone, Debug, PartialEq)]
pub struct LoraAdapter {
    pub(crate) dim: usize,
    pub(crate) rank: usize,
    pub(crate) down: Vec<f32>,
    pub(crate) up: Vec<f32>,
}

/// Summed updates for an adapter, plus how many samples went in.
///
/// The sum is kept in two parts: vector rows (`down`, `up`) and, for the rank-1/2 samples of
/// [`LoraAdapter::accumulate_unit`], 2×2 mixes of the adapter's own rows: the update of row `r`
/// is `up[r] + Σ_j up_mix[2r + j]·adapter.up_j` (likewise for down). The adapter's rows are the
/// same for every sample of one sum (they change only when the sum is applied and cleared, or
/// loaded together with it), so the row terms of all samples add up to one mix per row pair, and
/// a sample costs one pass that reads only its own two vectors. [`LoraGradient::materialize`]
/// folds the mixes into the rows.
#[derive(Clone, Debug, PartialEq)]
pub struct LoraGradient {
    pub(crate) down: Vec<f32>,
    pub(crate) up: Vec<f32>,
    pub(crate) down_mix: [f32; 4],
    pub(crate) up_mix: [f32; 4],
    pub(crate) samples: u32,
}

impl LoraGradient {
    /// A zero gradient for an adapter of this shape.
    pub fn zeros(dim: usize, rank: usize) -> Self {
        LoraGradient { down: vec![0.0; dim * rank], up: vec![0.0; dim * rank], down_mix: [0.0; 4], up_mix: [0.0; 4], samples: 0 }
    }

    /// Resets to zero.
    pub fn clear(&mut self) {
        self.down.iter_mut().for_each(|x| *x = 0.0);
        self.up.iter_mut().for_each(|x| *x = 0.0);
        self.down_mix = [0.0; 4];
        self.up_mix = [0.0; 4];
        self.samples = 0;
    }

    /// Number of accumulated samples.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// Folds the row mixes into the vector rows, reading the rows of `a` (the adapter this sum
    /// belongs to); afterwards the mixes are zero and `down`/`up` hold the whole update. A zero
    /// mix adds nothing (not even a signed zero), so materializing twice changes nothing.
    pub fn materialize(&mut self, k: Kernels, a: &LoraAdapter) {
        let dim = a.dim;
        for r in 0..a.rank.min(2) {
            for j in 0..a.rank.min(2) {
                let (m_up, m_down) = (self.up_mix[2 * r + j], self.down_mix[2 * r + j]);
                if m_up != 0.0 {
                    k.axpy(&mut self.up[r * dim..(r + 1) * dim], m_up, &a.up[j * dim..(j + 1) * dim]);
                }
                if m_down != 0.0 {
                    k.axpy(&mut self.down[r * dim..(r + 1) * dim], m_down, &a.down[j * dim..(j + 1) * dim]);
                }
            }
        }
        self.down_mix = [0.0; 4];
        self.up_mix = [0.0; 4];
    }

    /// A copy with the mixes folded in (see [`LoraGradient::materialize`]): the whole update as
    /// rows, to compare with one accumulated another way (and to write a version-1 state).
    pub fn materialized(&self, k: Kernels, a: &LoraAdapter) -> LoraGradient {
        let mut g = self.clone();
        g.materialize(k, a);
        g
    }
}

impl LoraAdapter {
    /// Down rows: random unit vectors; up rows: zero (so a fresh adapter is the identity).
    pub fn new(dim: usize, rank: usize, rng: &mut Rng) -> Self {
        let mut down: Vec<f32> = (0..dim * rank).map(|_| rng.normal()).collect();
        for r in 0..rank {
            crate::trajectory::normalize(&mut down[r * dim..(r + 1) * dim]);
        }
        LoraAdapter { dim, rank, down, up: vec![0.0; dim * rank] }
    }

    /// Rebuilds an adapter from persisted weights (lengths must be `dim * rank`).
    pub fn from_parts(dim: usize, rank: usize, down: Vec<f32>, up: Vec<f32>) -> Option<Self> {
        (dim * rank == down.len() && down.len() == up.len()).then_some(LoraAdapter { dim, rank, down, up })
    }

    /// `α / rank`.
    pub fn scale(&self) -> f32 {
        LORA_ALPHA / self.rank as f32
    }

    /// Rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Input/output width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `out = x + delta(x)`. `x` and `out` must be `dim` long.
    #[inline]
    pub fn apply_into(&self, k: Kernels, x: &[f32], out: &mut [f32]) {
        let mut coeff = [0.0f32; 16];
        let c = &mut coeff[..self.rank];
        k.lora_down(&self.down, x, c);
        let s = self.scale();
        c.iter_mut().for_each(|v| *v *= s);
        k.lora_up_add(out, x, &self.up, c);
    }

    /// `out = x + delta(x)` if `x` is all finite (one fused pass checks it); returns `false` and
    /// leaves `out` untouched otherwise.
    #[inline]
    pub fn apply_checked(&self, k: Kernels, x: &[f32], out: &mut [f32]) -> bool {
        let mut coeff = [0.0f32; 16];
        let c = &mut coeff[..self.rank];
        if k.lora_down_probe(&self.down, x, c) != 0.0 {
            return false;
        }
        let s = self.scale();
        c.iter_mut().for_each(|v| *v *= s);
        k.lora_up_add(out, x, &self.up, c);
        true
    }

    /// Adds `delta(x)` to `acc`.
    pub fn add_delta(&self, k: Kernels, x: &[f32], acc: &mut [f32]) {
        let mut coeff = [0.0f32; 16];
        let c = &mut coeff[..self.rank];
        k.lora_down(&self.down, x, c);
        let s = self.scale();
        for (r, &h) in c.iter().enumerate() {
            k.axpy(acc, s * h, &self.up[r * self.dim..(r + 1) * self.dim]);
        }
    }

    /// Accumulates one sample's update (see the module docs), any rank. `x_hat` must be unit
    /// length; `scratch` must be `2 * dim` long. Returns the sample's loss `½‖delta(x̂) − t‖²`.
    pub fn accumulate(&self, k: Kernels, x_hat: &[f32], target: &[f32], weight: f32, g: &mut LoraGradient, scratch: &mut [f32]) -> f32 {
        let dim = self.dim;
        let s = self.scale();
        let mut h = [0.0f32; 16];
        let h = &mut h[..self.rank];
        k.lora_down(&self.down, x_hat, h);
        let (err, recon) = scratch.split_at_mut(dim);
        // err = scale·Σ h_r up_r − t ; recon = Σ h_r down_r
        for (e, t) in err.iter_mut().zip(target) {
            *e = -t;
        }
        recon.iter_mut().for_each(|v| *v = 0.0);
        for (r, &hr) in h.iter().enumerate() {
            k.axpy(err, s * hr, &self.up[r * dim..(r + 1) * dim]);
            k.axpy(recon, hr, &self.down[r * dim..(r + 1) * dim]);
        }
        let loss = 0.5 * k.dot(err, err);
        let hh: f32 = h.iter().map(|v| v * v).sum();
        let denom = s * s * (hh + 0.01);
        // recon ← x̂ − recon (Oja residual)
        for (v, x) in recon.iter_mut().zip(x_hat) {
            *v = x - *v;
        }
        for (r, &hr) in h.iter().enumerate() {
            k.axpy(&mut g.up[r * dim..(r + 1) * dim], -weight * s * hr / denom, err);
            k.axpy(&mut g.down[r * dim..(r + 1) * dim], weight * hr, recon);
        }
        g.samples = g.samples.saturating_add(1);
        loss
    }

    /// [`LoraAdapter::accumulate`] for the sample (`x/‖x‖`, `t_scale·t`) without forming either
    /// vector, for ranks 1–2 (returns `false`, accumulating nothing, for higher ranks). With
    /// `h = down·x̂`, `a_r = −w·s·h_r/(s²(‖h‖² + 0.01))` and `b_r = w·h_r`, the sample's update is
    /// `Δup_r = a_r·(s·Σ_j h_j·up_j − t̂)` and `Δdown_r = b_r·(x̂ − Σ_j h_j·down_j)`: the `t̂` and `x̂`
    /// terms go into the vector rows, the row terms into the mixes (see [`LoraGradient`]); with
    /// `h` and `‖x‖` from one pass over `x`, that is two passes per sample. An `x` without
    /// direction (norm ≤ 1e-12, or a squared norm beyond f32) counts as a sample and adds nothing.
    pub fn accumulate_unit(&self, k: Kernels, x: &[f32], t: &[f32], t_scale: f32, weight: f32, g: &mut LoraGradient) -> bool {
        if self.rank > 2 {
            return false;
        }
        g.samples = g.samples.saturating_add(1);
        let mut h = [0.0f32; 2];
        let xn = crate::kernels::sqrtf(k.lora_down_norm(&self.down, x, &mut h[..self.rank]));
        if xn <= 1e-12 || !xn.is_finite() {
            return true;
        }
        let x_scale = 1.0 / xn;
        h.iter_mut().for_each(|v| *v *= x_scale);
        let s = self.scale();
        let denom = s * s * (h[0] * h[0] + h[1] * h[1] + 0.01);
        let a = h.map(|hr| -weight * s * hr / denom);
        let b = h.map(|hr| weight * hr);
        for (r, (ar, br)) in a.iter().zip(&b).enumerate() {
            for (j, hj) in h.iter().enumerate() {
                g.up_mix[2 * r + j] += ar * s * hj;
                g.down_mix[2 * r + j] -= br * hj;
            }
        }
        k.lora_outer12(x, t, &[-a[0] * t_scale, -a[1] * t_scale, b[0] * x_scale, b[1] * x_scale], &mut g.down, &mut g.up);
        true
    }

    /// `½‖delta(x̂) − t‖²` without accumulating; `scratch` must be `dim` long.
    pub fn loss(&self, k: Kernels, x_hat: &[f32], target: &[f32], scratch: &mut [f32]) -> f32 {
        for (e, t) in scratch.iter_mut().zip(target) {
            *e = -t;
        }
        self.add_delta(k, x_hat, scratch);
        0.5 * k.dot(scratch, scratch)
    }

    /// Applies the mean accumulated update (materializing `g` first): `up ← up + step · Σ/n`, `down ← down +
    /// flush_step(OJA_RATE, n) · Σ/n`, then zeroes weights below [`FLUSH_BELOW`] ([`flush_tiny`]).
    pub fn apply_gradient(&mut self, k: Kernels, g: &mut LoraGradient, step: f32) {
        if g.samples == 0 {
            return;
        }
        g.materialize(k, self);
        let n = g.samples as f32;
        k.axpy(&mut self.down, flush_step(OJA_RATE, g.samples) / n, &g.down);
        k.axpy(&mut self.up, step / n, &g.up);
        flush_tiny(&mut self.down);
        flush_tiny(&mut self.up);
    }

    /// Parameters as one vector view pair (down rows, up rows).
    pub fn params(&self) -> (&[f32], &[f32]) {
        (&self.down, &self.up)
    }

    /// Mutable parameters (down rows, up rows).
    pub fn params_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.down, &mut self.up)
    }
}

/// Weights below this magnitude are set to zero after each update ([`flush_tiny`]).
pub const FLUSH_BELOW: f32 = 1e-15;

/// Sets every |v| < [`FLUSH_BELOW`] to zero. An adapter trained toward zero targets (trajectories
/// without advantage, for instance) shrinks its up rows geometrically; without this they pass
/// through the subnormal range, where x86 multiplies take ~100 cycles, and every forward and
/// accumulate pass over them slows several-fold. A weight this small moves an output by far less
/// than an f32 ulp of any input of the engine's range, and gradient steps regrow it when needed.
#[inline(never)]
pub fn flush_tiny(v: &mut [f32]) {
    // An unconditional store of a select vectorises; a conditional store would not.
    for x in v.iter_mut() {
        *x = if x.abs() < FLUSH_BELOW { 0.0 } else { *x };
    }
}

/// Per-flush step: rate × samples, capped so one flush moves at most half-way to the batch's fit.
pub fn flush_step(lr: f32, samples: u32) -> f32 {
    (lr * samples as f32).min(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(rng: &mut Rng, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
        crate::trajectory::normalize(&mut v);
        v
    }

    #[test]
    fn fresh_adapter_is_identity() {
        let mut rng = Rng::new(1);
        let a = LoraAdapter::new(16, 2, &mut rng);
        let x = unit(&mut rng, 16);
        let mut out = vec![0.0; 16];
        a.apply_into(Kernels::new(true), &x, &mut out);
        assert_eq!(out, x);
    }

    /// The rank-1/2 path (vector rows + row mixes, materialized) computes the update of the general
    /// path, for each rank and after several samples (the mixes of one sum add up).
    #[test]
    fn rank12_accumulate_matches_general_path() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(9);
        let dim = 20;
        for rank in 1..=2 {
            let mut a = LoraAdapter::new(dim, rank, &mut rng);
            a.up.iter_mut().for_each(|u| *u = rng.normal());
            let samples: Vec<(Vec<f32>, Vec<f32>)> = (0..3).map(|_| (unit(&mut rng, dim), unit(&mut rng, dim))).collect();
            let mut fused = LoraGradient::zeros(dim, rank);
            for (x, t) in &samples {
                assert!(a.accumulate_unit(k, x, t, 1.0, 0.7, &mut fused));
            }
            assert!(fused.up_mix.iter().chain(&fused.down_mix).any(|m| *m != 0.0), "the row terms go to the mixes");
            fused.materialize(k, &a);
            // The general path, forced by viewing the adapter as rank 3 with zero extra rows (the
            // up rows rescaled by s_ratio so that scale·up is unchanged; its up gradient comes out
            // s_ratio times the rank-1/2 one).
            let mut wide = LoraAdapter { dim, rank: 3, down: a.down.clone(), up: a.up.clone() };
            wide.down.extend(core::iter::repeat(0.0).take((3 - rank) * dim));
            wide.up.extend(core::iter::repeat(0.0).take((3 - rank) * dim));
            let s_ratio = a.scale() / wide.scale();
            wide.up.iter_mut().for_each(|u| *u *= s_ratio);
            let mut general = LoraGradient::zeros(dim, 3);
            let mut scratch = vec![0.0; 2 * dim];
            for (x, t) in &samples {
                wide.accumulate(k, x, t, 0.7, &mut general, &mut scratch);
            }
            assert_eq!((fused.samples, general.samples), (3, 3));
            for i in 0..rank * dim {
                assert!((fused.down[i] - general.down[i]).abs() < 1e-4, "down rank {rank} i {i}");
                let up = general.up[i] / s_ratio;
                assert!((fused.up[i] - up).abs() < 1e-4 * (1.0 + up.abs()), "up rank {rank} i {i}: {} vs {up}", fused.up[i]);
            }
            // Materializing again changes nothing.
            let once = fused.clone();
            fused.materialize(k, &a);
            assert_eq!(fused, once);
        }
    }

    /// Folding the scales into the coefficients gives the update of the normalised and scaled
    /// copies; an input without direction (zero, or a squared norm beyond f32) counts the sample
    /// and adds nothing.
    #[test]
    fn accumulate_unit_matches_scaled_copies() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(5);
        let dim = 37;
        for rank in 1..=2 {
            let mut a = LoraAdapter::new(dim, rank, &mut rng);
            a.up.iter_mut().for_each(|u| *u = rng.normal());
            let x: Vec<f32> = (0..dim).map(|_| 3.0 * rng.normal()).collect();
            let t: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            let (ts, w) = (0.63, 0.8);
            let mut folded = LoraGradient::zeros(dim, rank);
            assert!(a.accumulate_unit(k, &x, &t, ts, w, &mut folded));
            let folded = folded.materialized(k, &a);
            let xn = x.iter().map(|v| v * v).sum::<f32>().sqrt();
            let x_hat: Vec<f32> = x.iter().map(|v| v / xn).collect();
            let target: Vec<f32> = t.iter().map(|v| v * ts).collect();
            let mut copies = LoraGradient::zeros(dim, rank);
            let mut scratch = vec![0.0; 2 * dim];
            a.accumulate(k, &x_hat, &target, w, &mut copies, &mut scratch);
            for i in 0..rank * dim {
                assert!((folded.down[i] - copies.down[i]).abs() < 1e-4, "down rank {rank} i {i}");
                assert!((folded.up[i] - copies.up[i]).abs() < 1e-4 * (1.0 + copies.up[i].abs()), "up rank {rank} i {i}");
            }
            for no_direction in [vec![0.0; dim], vec![1e30; dim]] {
                let mut none = LoraGradient::zeros(dim, rank);
                assert!(a.accumulate_unit(k, &no_direction, &t, ts, w, &mut none));
                assert_eq!(none, LoraGradient { samples: 1, ..LoraGradient::zeros(dim, rank) });
            }
        }
        let wide = LoraAdapter::new(8, 4, &mut rng);
        assert!(!wide.accumulate_unit(k, &[1.0; 8], &[1.0; 8], 1.0, 1.0, &mut LoraGradient::zeros(8, 4)));
    }

    /// Two orthogonal inputs with two targets: rank 2 fits both (loss falls by > 95%), through the
    /// general path and through the rank-1/2 path.
    #[test]
    fn fits_two_directions_with_rank_two() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(2);
        let dim = 32;
        let a = LoraAdapter::new(dim, 2, &mut rng);
        let (x1, x2) = (unit(&mut rng, dim), unit(&mut rng, dim));
        let (t1, t2) = (unit(&mut rng, dim), unit(&mut rng, dim));
        let mut scratch = vec![0.0; 2 * dim];
        let total = |a: &LoraAdapter, s: &mut [f32]| a.loss(k, &x1, &t1, &mut s[..dim]) + a.loss(k, &x2, &t2, &mut s[..dim]);
        let before = total(&a, &mut scratch);
        let mut g = LoraGradient::zeros(dim, 2);
        for rank12 in [false, true] {
            let mut a = a.clone();
            for _ in 0..200 {
                g.clear();
                for (x, t) in [(&x1, &t1), (&x2, &t2)] {
                    if rank12 {
                        assert!(a.accumulate_unit(k, x, t, 1.0, 1.0, &mut g));
                    } else {
                        a.accumulate(k, x, t, 1.0, &mut g, &mut scratch);
                    }
                }
                a.apply_gradient(k, &mut g, 0.5);
            }
            let after = total(&a, &mut scratch);
            assert!(after < 0.05 * before, "rank-1/2 path {rank12}: before {before} after {after}");
        }
    }
}
