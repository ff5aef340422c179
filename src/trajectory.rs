//! Trajectory recording: the bounded buffer of finished trajectories and REINFORCE with baseline.

use crate::error::{check_finite, Result};
use crate::kernels::Kernels;
use crate::types::{LearningSignal, QueryTrajectory, TrajectoryStep};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Scales `v` to unit L2 norm; leaves a (near) zero vector at zero. Returns the original norm.
pub fn normalize(v: &mut [f32]) -> f32 {
    let n = crate::kernels::sqrtf(v.iter().map(|x| x * x).sum::<f32>());
    if n > 1e-12 {
        let inv = 1.0 / n;
        v.iter_mut().for_each(|x| *x *= inv);
    } else {
        v.iter_mut().for_each(|x| *x = 0.0);
    }
    n
}

/// Folds one step into the trajectory's running sums. Inputs must already be validated, except
/// that the gated activations (activation × attention weight) are checked here, before anything
/// changes, to lie within ±[`crate::error::MAX_MAGNITUDE`] like every summed value; the caller
/// passes `weights_within_one` when it knows every |attention weight| ≤ 1 (then |a·w| ≤ |a| is
/// in range already).
pub fn fold_step(k: Kernels, t: &mut QueryTrajectory, step: TrajectoryStep<'_>, gated: &mut [f32], weights_within_one: bool) -> Result<()> {
    // The activations enter the sums gated: `g = a·weight` (reward sum: `reward·g`), or `g = a·w`
    // element-wise with `per_feature` weights, bit for bit as if gated into `gated` first.
    let (act, weight, per_feature): (&[f32], f32, Option<&[f32]>) = match *step.attention_weights {
        [] => (step.activations, 1.0, None),
        // One weight per feature, all within ±1: |a·w| ≤ |a|, already in range, so the kernel
        // gates as it folds (no gated copy, no range pass over it).
        ref weights if weights_within_one && weights.len() == step.activations.len() => (step.activations, 1.0, Some(weights)),
        // One weight of at most 1 gates every feature: likewise.
        [w] if w.abs() <= 1.0 => (step.activations, w, None),
        ref weights => {
            if let [w] = *weights {
                // One weight gates every feature: a plain scale (chunks of one element would cost
                // a loop trip per feature).
                for (g, a) in gated.iter_mut().zip(step.activations) {
                    *g = a * w;
                }
            } else {
                // Weights are tiled over the features: weight j gates features j, j + len, …
                for (chunk_g, chunk_a) in gated.chunks_mut(weights.len()).zip(step.activations.chunks(weights.len())) {
                    for ((g, a), w) in chunk_g.iter_mut().zip(chunk_a).zip(weights) {
                        *g = a * w;
                    }
                }
            }
            check_finite("gated activations (activation × attention weight)", gated)?;
            (gated, 1.0, None)
        }
    };
    let (sum, reward) = (&mut t.reward_weighted_sum, step.reward);
    // The first step writes the sums (their contents before it do not count: no zeroing pass over
    // the recycled buffers they reuse).
    match (per_feature, t.step_count == 0) {
        (Some(w), true) => k.axpy_gated_set(sum, reward, &mut t.activation_sum, act, w),
        (Some(w), false) => k.axpy_gated_add(sum, reward, &mut t.activation_sum, act, w),
        (None, true) => k.axpy_set(sum, reward, &mut t.activation_sum, weight, act),
        (None, false) => k.axpy_add(sum, reward, &mut t.activation_sum, weight, act),
    }
    t.reward_sum += step.reward as f64;
    t.step_count = t.step_count.saturating_add(1);
    Ok(())
}

/// REINFORCE with baseline: `g = normalize(Σ (rᵢ − b)·aᵢ)`.
///
/// The baseline `b` is the trajectory's mean step reward. A trajectory whose rewards are all equal
/// (for example a single step) carries no advantage against its own mean, so `fallback_baseline`
/// (the engine's running mean reward) is used instead. Consumes the running sums; the returned
/// vector reuses `reward_weighted_sum`'s allocation.
pub fn reinforce_gradient(k: Kernels, t: &mut QueryTrajectory, fallback_baseline: f32) -> Vec<f32> {
    let mut g = core::mem::take(&mut t.reward_weighted_sum);
    if t.step_count == 0 {
        // No step: the sums were never written; a zero gradient.
        g.iter_mut().for_each(|x| *x = 0.0);
        return g;
    }
    let mean = (t.reward_sum / t.step_count as f64) as f32;
    // One pass: g ← Σ rᵢ·aᵢ − mean·Σ aᵢ, with the squared norms of the result and of both sums
    // (cancellation is judged against the latter two).
    let [mut gg, sum_sq, act_sq] = k.axpy_norms(&mut g, -mean, &t.activation_sum);
    let mut scale = sum_sq + mean * mean * act_sq;
    if !(scale.is_finite() && gg.is_finite()) {
        (gg, scale) = to_unit_scale(k, &mut g, &mut t.activation_sum, mean);
    }
    if gg <= 1e-10 * scale + 1e-24 {
        // All rewards equal: Σ (r − b)·a with b = running mean = current g + (mean − b)·Σ a.
        [gg, _, _] = k.axpy_norms(&mut g, mean - fallback_baseline, &t.activation_sum);
    }
    // Normalise with the squared norm already at hand (a (near) zero sum gives a zero gradient). A
    // norm that is still not finite (not reachable with inputs in range) gives a zero gradient, never NaN.
    let n = crate::kernels::sqrtf(gg);
    if n > 1e-12 && n.is_finite() {
        k.scale(&mut g, 1.0 / n);
    } else {
        g.iter_mut().for_each(|x| *x = 0.0);
    }
    g
}

/// Inputs within ±MAX_MAGNITUDE keep the running sums finite, but their squares can overflow f32:
/// this brings the centred sum `g = Σ rᵢ·aᵢ − mean·Σ aᵢ` and the activation sum to unit scale
/// (the gradient is normalised at the end, so a common factor changes nothing; the activation sum
/// is not used afterwards) and returns `(‖g‖², scale)` recomputed, the scale from the reward sum
/// rebuilt as `g + mean·Σ aᵢ`.
#[cold]
#[inline(never)]
fn to_unit_scale(k: Kernels, g: &mut [f32], activation_sum: &mut [f32], mean: f32) -> (f32, f32) {
    let big = activation_sum.iter().chain(g.iter()).fold(0.0f32, |m, x| m.max(x.abs()));
    let s = 1.0 / big;
    k.scale(g, s);
    k.scale(activation_sum, s);
    let mut reward_sum = g.to_vec();
    let [reward_sq, gg, act_sq] = k.axpy_norms(&mut reward_sum, mean, activation_sum);
    (gg, reward_sq + mean * mean * act_sq)
}

/// Bounded FIFO of finished trajectories. When full, the oldest is dropped and counted.
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectoryBuffer {
    capacity: usize,
    items: VecDeque<LearningSignal>,
    dropped: u64,
}

impl TrajectoryBuffer {
    /// An empty buffer holding at most `capacity` (≥ 1) signals.
    pub fn new(capacity: usize) -> Self {
        TrajectoryBuffer { capacity, items: VecDeque::new(), dropped: 0 }
    }

    /// Rebuilds a buffer from persisted parts.
    pub fn from_parts(capacity: usize, items: VecDeque<LearningSignal>, dropped: u64) -> Self {
        TrajectoryBuffer { capacity, items, dropped }
    }

    /// Appends, dropping the oldest when full. Returns the dropped signal, if any.
    pub fn push(&mut self, s: LearningSignal) -> Option<LearningSignal> {
        let old = if self.items.len() >= self.capacity {
            self.dropped = self.dropped.saturating_add(1);
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(s);
        old
    }

    /// Number of buffered signals.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many signals were dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The buffered signals, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &LearningSignal> {
        self.items.iter()
    }

    /// Mutable access to the signal of trajectory `id`, if still buffered.
    pub fn find_mut(&mut self, id: u64) -> Option<&mut LearningSignal> {
        self.items.iter_mut().rev().find(|s| s.trajectory_id == id)
    }

    /// Removes and returns all buffered signals.
    pub fn drain(&mut self) -> Vec<LearningSignal> {
        self.items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn signal(id: u64) -> LearningSignal {
        LearningSignal {
            trajectory_id: id,
            query_embedding: vec![1.0],
            gradient_estimate: vec![0.0],
            quality_score: 0.5,
            step_count: 0,
            latency_us: 0,
            model_route: None,
            context_ids: vec![],
        }
    }

    #[test]
    fn buffer_drops_oldest_and_counts() {
        let mut b = TrajectoryBuffer::new(3);
        for id in 0..5 {
            b.push(signal(id));
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped(), 2);
        let ids: Vec<u64> = b.iter().map(|s| s.trajectory_id).collect();
        assert_eq!(ids, vec![2, 3, 4]);
        assert!(b.find_mut(1).is_none());
        assert!(b.find_mut(3).is_some());
        assert_eq!(b.drain().len(), 3);
        assert!(b.is_empty());
    }

    #[test]
    fn reinforce_points_to_high_reward_activation() {
        let k = Kernels::new(false);
        let mut t = QueryTrajectory::new(1, vec![0.0; 3]);
        let mut gated = vec![0.0; 3];
        let good = [1.0, 0.0, 0.0];
        let bad = [0.0, 1.0, 0.0];
        fold_step(k, &mut t, TrajectoryStep { activations: &good, attention_weights: &[], reward: 0.9 }, &mut gated, true).unwrap();
        fold_step(k, &mut t, TrajectoryStep { activations: &bad, attention_weights: &[], reward: 0.1 }, &mut gated, true).unwrap();
        let g = reinforce_gradient(k, &mut t, 0.0);
        // advantages +0.4 / -0.4 -> (0.4, -0.4, 0) normalised
        let h = core::f32::consts::FRAC_1_SQRT_2;
        assert!((g[0] - h).abs() < 1e-5 && (g[1] + h).abs() < 1e-5 && g[2].abs() < 1e-6);
    }

    #[test]
    fn attention_gates_activations() {
        let k = Kernels::new(false);
        let mut t = QueryTrajectory::new(1, vec![0.0; 2]);
        let mut gated = vec![0.0; 2];
        let a = [1.0, 1.0];
        fold_step(k, &mut t, TrajectoryStep { activations: &a, attention_weights: &[1.0, 0.0], reward: 1.0 }, &mut gated, true).unwrap();
        let g = reinforce_gradient(k, &mut t, 0.0);
        assert!((g[0] - 1.0).abs() < 1e-6 && g[1].abs() < 1e-6);
    }

    #[test]
    fn weights_within_one_fold_without_a_gated_copy_bit_for_bit() {
        // The caller's "every |weight| ≤ 1" takes the fused path (no gated copy, no range pass);
        // the sums must come out exactly as on the general path, steps 1 (set) and 2.. (add).
        for simd in [false, true] {
            let k = Kernels::new(simd);
            let mut r = crate::rng::Rng::new(21);
            for dim in [2usize, 3, 4, 7, 16, 257] {
                let mut fused = QueryTrajectory::new(1, vec![0.0; dim]);
                let mut general = QueryTrajectory::new(1, vec![0.0; dim]);
                let mut gated = vec![0.0; dim];
                for _ in 0..4 {
                    let a: Vec<f32> = (0..dim).map(|_| r.normal() * 10.0).collect();
                    let w: Vec<f32> = (0..dim)
                        .map(|i| match i % 5 {
                            0 => 1.0,
                            1 => -1.0,
                            2 => -0.0,
                            _ => r.normal().clamp(-1.0, 1.0),
                        })
                        .collect();
                    let step = TrajectoryStep { activations: &a, attention_weights: &w, reward: r.normal() };
                    fold_step(k, &mut fused, step, &mut gated, true).unwrap();
                    fold_step(k, &mut general, step, &mut gated, false).unwrap();
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
                assert_eq!(bits(&fused.reward_weighted_sum), bits(&general.reward_weighted_sum), "simd {simd} dim {dim}");
                assert_eq!(bits(&fused.activation_sum), bits(&general.activation_sum), "simd {simd} dim {dim}");
                assert_eq!((fused.reward_sum, fused.step_count), (general.reward_sum, general.step_count));
            }
        }
    }

    #[test]
    fn short_attention_is_tiled() {
        let k = Kernels::new(false);
        let mut t = QueryTrajectory::new(1, vec![0.0; 4]);
        let mut gated = vec![0.0; 4];
        fold_step(k, &mut t, TrajectoryStep { activations: &[1.0, 1.0, 1.0, 1.0], attention_weights: &[1.0, 0.0], reward: 1.0 }, &mut gated, true).unwrap();
        assert_eq!(t.reward_weighted_sum, vec![1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn single_step_uses_fallback_baseline() {
        let k = Kernels::new(false);
        let mut t = QueryTrajectory::new(1, vec![0.0; 2]);
        let mut gated = vec![0.0; 2];
        fold_step(k, &mut t, TrajectoryStep { activations: &[0.0, 2.0], attention_weights: &[], reward: 0.2 }, &mut gated, true).unwrap();
        let mut t2 = t.clone();
        // reward below the running mean: pushed away from the activation
        let g = reinforce_gradient(k, &mut t, 0.5);
        assert!((g[1] + 1.0).abs() < 1e-6);
        // reward above the running mean: pulled toward it
        let g2 = reinforce_gradient(k, &mut t2, 0.0);
        assert!((g2[1] - 1.0).abs() < 1e-6);
    }
}
