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
#[derive(Clone, Debug, PartialEq)]
pub struct LoraGradient {
    pub(crate) down: Vec<f32>,
    pub(crate) up: Vec<f32>,
    pub(crate) samples: u32,
    pub(crate) loss_sum: f32,
}

impl LoraGradient {
    /// A zero gradient for an adapter of this shape.
    pub fn zeros(dim: usize, rank: usize) -> Self {
        LoraGradient { down: vec![0.0; dim * rank], up: vec![0.0; dim * rank], samples: 0, loss_sum: 0.0 }
    }

    /// Resets to zero.
    pub fn clear(&mut self) {
        self.down.iter_mut().for_each(|x| *x = 0.0);
        self.up.iter_mut().for_each(|x| *x = 0.0);
        self.samples = 0;
        self.loss_sum = 0.0;
    }

    /// Number of accumulated samples.
    pub fn samples(&self) -> u32 {
        self.samples
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

    /// Accumulates one sample's update (see the module docs). `x_hat` must be unit length;
    /// `scratch` must be `2 * dim` long. Returns the sample's loss `½‖delta(x̂) − t‖²`.
    pub fn accumulate(&self, k: Kernels, x_hat: &[f32], target: &[f32], weight: f32, g: &mut LoraGradient, scratch: &mut [f32]) -> f32 {
        let dim = self.dim;
        let s = self.scale();
        let mut h = [0.0f32; 16];
        let h = &mut h[..self.rank];
        k.lora_down(&self.down, x_hat, h);
        if self.rank <= 2 {
            // Fused single pass for the MicroLoRA ranks.
            let hh: f32 = h.iter().map(|v| v * v).sum();
            let denom = s * s * (hh + 0.01);
            let h1 = if self.rank == 2 { h[1] } else { 0.0 };
            let c = [s * h[0], s * h1, h[0], h1, -weight * s * h[0] / denom, -weight * s * h1 / denom, weight * h[0], weight * h1];
            let loss = k.lora_accumulate12(x_hat, target, &self.down, &self.up, &c, &mut g.down, &mut g.up);
            g.samples += 1;
            g.loss_sum += loss;
            return loss;
        }
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
        g.samples += 1;
        g.loss_sum += loss;
        loss
    }

    /// [`LoraAdapter::accumulate`] for the sample (`x_scale·x`, `t_scale·t`) without forming
    /// either vector: the scales are folded into the fused rank-1/2 pass's coefficients. Returns
    /// `false` (nothing accumulated) for ranks above 2 or a zero scale; the caller then scales
    /// copies and calls `accumulate`.
    #[allow(clippy::too_many_arguments)]
    pub fn accumulate_scaled(&self, k: Kernels, x: &[f32], x_scale: f32, t: &[f32], t_scale: f32, weight: f32, g: &mut LoraGradient) -> bool {
        if self.rank > 2 || x_scale == 0.0 || t_scale == 0.0 {
            return false;
        }
        let s = self.scale();
        let mut h = [0.0f32; 2];
        let h = &mut h[..self.rank];
        k.lora_down(&self.down, x, h);
        h.iter_mut().for_each(|v| *v *= x_scale);
        let hh: f32 = h.iter().map(|v| v * v).sum();
        let denom = s * s * (hh + 0.01);
        let h1 = if self.rank == 2 { h[1] } else { 0.0 };
        // With e = t_scale·e′ and q = x_scale·q′, the kernel computes e′ = Σ (s·h_r / t_scale)·up_r − t
        // and q′ = x − Σ (h_r / x_scale)·down_r; the gradient and loss factors absorb the scales.
        let (it, ix) = (1.0 / t_scale, 1.0 / x_scale);
        let c = [
            s * h[0] * it,
            s * h1 * it,
            h[0] * ix,
            h1 * ix,
            -weight * s * h[0] / denom * t_scale,
            -weight * s * h1 / denom * t_scale,
            weight * h[0] * x_scale,
            weight * h1 * x_scale,
        ];
        let loss = k.lora_accumulate12(x, t, &self.down, &self.up, &c, &mut g.down, &mut g.up) * t_scale * t_scale;
        g.samples += 1;
        g.loss_sum += loss;
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

    /// Applies the mean accumulated update: `up ← up + step · Σ/n`, `down ← down +
    /// flush_step(OJA_RATE, n) · Σ/n`, then zeroes weights below [`FLUSH_BELOW`] ([`flush_tiny`]).
    pub fn apply_gradient(&mut self, k: Kernels, g: &LoraGradient, step: f32) {
        if g.samples == 0 {
            return;
        }
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

    /// Two orthogonal inputs with two targets: rank 2 fits both (loss falls by > 95%).
    /// The fused rank-1/2 path computes the same update as the general path.
    #[test]
    fn fused_accumulate_matches_general_path() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(9);
        let dim = 20;
        for rank in 1..=2 {
            let mut a = LoraAdapter::new(dim, rank, &mut rng);
            a.up.iter_mut().for_each(|u| *u = rng.normal());
            let (x, t) = (unit(&mut rng, dim), unit(&mut rng, dim));
            let mut scratch = vec![0.0; 2 * dim];
            let mut fused = LoraGradient::zeros(dim, rank);
            let l1 = a.accumulate(k, &x, &t, 0.7, &mut fused, &mut scratch);
            // The general path, forced by viewing the adapter as rank 3 with zero extra rows (the
            // up rows rescaled so that scale·up is unchanged; the down update does not depend on
            // the scale, so it must agree exactly).
            let mut wide = LoraAdapter { dim, rank: 3, down: a.down.clone(), up: a.up.clone() };
            wide.down.extend(core::iter::repeat(0.0).take((3 - rank) * dim));
            wide.up.extend(core::iter::repeat(0.0).take((3 - rank) * dim));
            let s_ratio = a.scale() / wide.scale();
            wide.up.iter_mut().for_each(|u| *u *= s_ratio);
            let mut general = LoraGradient::zeros(dim, 3);
            let l2 = wide.accumulate(k, &x, &t, 0.7, &mut general, &mut scratch);
            assert!((l1 - l2).abs() < 1e-4, "loss {l1} vs {l2}");
            for i in 0..rank * dim {
                assert!((fused.down[i] - general.down[i]).abs() < 1e-4, "down {i}");
            }
        }
    }

    /// Folding the scales into the coefficients gives the update of the scaled copies.
    #[test]
    fn accumulate_scaled_matches_scaled_copies() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(5);
        let dim = 37;
        for rank in 1..=2 {
            let mut a = LoraAdapter::new(dim, rank, &mut rng);
            a.up.iter_mut().for_each(|u| *u = rng.normal());
            let x: Vec<f32> = (0..dim).map(|_| 3.0 * rng.normal()).collect();
            let t: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            let (xs, ts, w) = (0.21, 0.63, 0.8);
            let mut folded = LoraGradient::zeros(dim, rank);
            assert!(a.accumulate_scaled(k, &x, xs, &t, ts, w, &mut folded));
            let x_hat: Vec<f32> = x.iter().map(|v| v * xs).collect();
            let target: Vec<f32> = t.iter().map(|v| v * ts).collect();
            let mut copies = LoraGradient::zeros(dim, rank);
            let mut scratch = vec![0.0; 2 * dim];
            a.accumulate(k, &x_hat, &target, w, &mut copies, &mut scratch);
            assert!((folded.loss_sum - copies.loss_sum).abs() < 1e-4 * (1.0 + copies.loss_sum), "loss rank {rank}");
            for i in 0..rank * dim {
                assert!((folded.down[i] - copies.down[i]).abs() < 1e-4, "down rank {rank} i {i}");
                assert!((folded.up[i] - copies.up[i]).abs() < 1e-4 * (1.0 + copies.up[i].abs()), "up rank {rank} i {i}");
            }
        }
        let wide = LoraAdapter::new(8, 4, &mut rng);
        assert!(!wide.accumulate_scaled(k, &[1.0; 8], 1.0, &[1.0; 8], 1.0, 1.0, &mut LoraGradient::zeros(8, 4)));
    }

    #[test]
    fn fits_two_directions_with_rank_two() {
        let k = Kernels::new(true);
        let mut rng = Rng::new(2);
        let dim = 32;
        let mut a = LoraAdapter::new(dim, 2, &mut rng);
        let (x1, x2) = (unit(&mut rng, dim), unit(&mut rng, dim));
        let (t1, t2) = (unit(&mut rng, dim), unit(&mut rng, dim));
        let mut scratch = vec![0.0; 2 * dim];
        let total = |a: &LoraAdapter, s: &mut [f32]| a.loss(k, &x1, &t1, &mut s[..dim]) + a.loss(k, &x2, &t2, &mut s[..dim]);
        let before = total(&a, &mut scratch);
        let mut g = LoraGradient::zeros(dim, 2);
        for _ in 0..200 {
            g.clear();
            a.accumulate(k, &x1, &t1, 1.0, &mut g, &mut scratch);
            a.accumulate(k, &x2, &t2, 1.0, &mut g, &mut scratch);
            a.apply_gradient(k, &g, 0.5);
        }
        let after = total(&a, &mut scratch);
        assert!(after < 0.05 * before, "before {before} after {after}");
    }
}
