//! `SonaEngine`: the three learning loops over trajectories, MicroLoRA, BaseLoRA, EWC++ and the
//! ReasoningBank. Plain Rust; time comes in as milliseconds and randomness from the engine's seeded
//! generator, so every run can be replayed exactly.
//!
//! - **Instant loop** (per trajectory): `end_trajectory` turns the trajectory into a REINFORCE
//!   direction `g`; if its quality passes `quality_threshold`, one MicroLoRA sample is accumulated
//!   (input: the unit query, target: `quality·g`, weight: `quality`). The accumulated update is
//!   applied by `run_instant_cycle` and automatically every `micro_flush_interval` samples.
//! - **Background loop** (`tick`, every `background_interval_ms`): the buffered trajectories are
//!   clustered into patterns (ReasoningBank), then the BaseLoRA layers are trained for
//!   [`BASE_EPOCHS`] epochs on the patterns (input: unit centroid, target: `avg_quality·direction`),
//!   with the EWC++ penalty and task-boundary detection.
//! - **Deep loop** (`force_learn`): flushes MicroLoRA, runs a background cycle now, and consolidates
//!   the BaseLoRA weights as an EWC++ task.

use crate::config::SonaConfig;
use crate::error::{check_range, check_vector, Result, SonaError, MAX_MAGNITUDE};
use crate::ewc::EwcPlusPlus;
use crate::kernels::Kernels;
use crate::lora::{flush_step, LoraAdapter, LoraGradient};
use crate::reasoning_bank::ReasoningBank;
use crate::rng::{node_code, Rng};
use crate::trajectory::{fold_step, normalize, reinforce_gradient, TrajectoryBuffer};
use crate::types::{LearnedPattern, LearningSignal, QueryTrajectory, TrajectoryStep};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use serde::Serialize;

/// Number of `record_step` node codes kept ready.
const NODE_CACHE: usize = 16;
/// At most this many trajectories may be open at once.
pub const MAX_OPEN_TRAJECTORIES: usize = 4096;
/// Longest accepted route or context id, in bytes.
pub const MAX_STRING_LEN: usize = 256;
/// Most context ids per trajectory.
pub const MAX_CONTEXT_IDS: usize = 64;
/// BaseLoRA epochs over the patterns per background cycle.
pub const BASE_EPOCHS: usize = 4;
/// `record_step`: each microsecond of a step's latency lowers its reward by this much (10 s of
/// latency cost 1.0, the scale on which `learn_from_feedback`'s latency halves the quality).
pub const STEP_LATENCY_COST_PER_US: f64 = 1e-7;
/// `learn_from_feedback`: a latency of this many ms halves the feedback quality.
pub const FEEDBACK_LATENCY_REF_MS: f32 = 10_000.0;
/// `learn_from_feedback`: an unsuccessful outcome halves the feedback quality.
pub const FEEDBACK_FAILURE_FACTOR: f32 = 0.5;

/// Monotone counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// `start_trajectory` calls that succeeded.
    pub trajectories_started: u64,
    /// `end_trajectory` calls that succeeded.
    pub trajectories_completed: u64,
    /// Ended trajectories that passed `quality_threshold` and fed the instant loop.
    pub trajectories_learned: u64,
    /// Ended trajectories below `quality_threshold`.
    pub trajectories_filtered: u64,
    /// Ended while the engine was disabled (not learned from).
    pub trajectories_skipped: u64,
    /// Steps recorded (`add_step` + `record_step`).
    pub steps_recorded: u64,
    /// MicroLoRA flushes that applied at least one sample.
    pub instant_cycles: u64,
    /// Samples applied by those flushes.
    pub micro_samples_applied: u64,
    /// Background cycles run (by `tick` or `force_learn`).
    pub background_cycles: u64,
    /// `force_learn` calls.
    pub deep_consolidations: u64,
    /// `learn_from_feedback` calls that were learned from.
    pub feedback_count: u64,
}

/// Snapshot of the engine's state (`stats()` in JS).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EngineStats {
    /// Counters.
    #[serde(flatten)]
    pub counters: Counters,
    /// Trajectories currently open.
    pub trajectories_open: usize,
    /// Finished trajectories waiting for the background loop.
    pub trajectories_buffered: usize,
    /// Trajectories dropped because the buffer was full.
    pub trajectories_dropped: u64,
    /// Patterns in the ReasoningBank.
    pub patterns_stored: usize,
    /// MicroLoRA samples accumulated and not yet applied.
    pub micro_pending: u32,
    /// Frobenius norm of the MicroLoRA up projection (0 for a fresh engine).
    pub micro_lora_norm: f32,
    /// Frobenius norm of all BaseLoRA up projections.
    pub base_lora_norm: f32,
    /// Mean loss of the base layers over the patterns after the last background cycle.
    pub base_lora_loss: f32,
    /// EWC++ tasks remembered.
    pub ewc_tasks: usize,
    /// Current adaptive EWC++ λ (0 when EWC++ is off).
    pub ewc_lambda: f32,
    /// Task boundaries detected automatically.
    pub ewc_task_boundaries: u64,
    /// Running mean step reward (the REINFORCE fallback baseline).
    pub mean_reward: f32,
    /// Engine clock (ms) of the last background cycle, if any.
    pub last_background_ms: Option<u64>,
    /// Whether learning is enabled.
    pub enabled: bool,
    /// Whether the SIMD128 kernels are in use.
    pub simd: bool,
}

/// What a background or deep cycle did (`forceLearn()` in JS).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LearnReport {
    /// Buffered trajectories clustered.
    pub trajectories_used: usize,
    /// Non-empty clusters formed.
    pub clusters_formed: usize,
    /// Patterns merged into near-duplicates.
    pub patterns_merged: usize,
    /// Stale patterns pruned.
    pub patterns_pruned: usize,
    /// Patterns evicted over capacity.
    pub patterns_evicted: usize,
    /// Patterns in the bank afterwards.
    pub patterns_stored: usize,
    /// Lloyd iterations.
    pub lloyd_iterations: usize,
    /// Mean base loss over the patterns before training.
    pub base_loss_before: f32,
    /// Mean base loss over the patterns after training.
    pub base_loss_after: f32,
    /// EWC++ penalty after training.
    pub ewc_penalty: f32,
    /// Whether this cycle detected a task boundary.
    pub task_boundary: bool,
    /// EWC++ tasks remembered afterwards.
    pub ewc_tasks: usize,
    /// EWC++ λ afterwards.
    pub ewc_lambda: f32,
    /// MicroLoRA samples flushed by this call (deep loop only).
    pub micro_samples_flushed: u32,
}

/// The most recently finished trajectory, kept for `learn_from_feedback` (buffers are reused).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LastFinished {
    pub(crate) id: u64,
    pub(crate) query: Vec<f32>,
    pub(crate) gradient: Vec<f32>,
    pub(crate) quality: f32,
    pub(crate) valid: bool,
}

/// The SONA engine.
#[derive(Clone, Debug)]
pub struct SonaEngine {
    pub(crate) config: SonaConfig,
    pub(crate) kernels: Kernels,
    pub(crate) seed: u64,
    pub(crate) rng: Rng,
    pub(crate) micro: LoraAdapter,
    pub(crate) micro_grad: LoraGradient,
    pub(crate) base: Vec<LoraAdapter>,
    pub(crate) ewc: EwcPlusPlus,
    pub(crate) bank: ReasoningBank,
    pub(crate) buffer: TrajectoryBuffer,
    pub(crate) open: Vec<QueryTrajectory>,
    pub(crate) next_id: u64,
    pub(crate) last: LastFinished,
    pub(crate) last_background_ms: Option<u64>,
    pub(crate) reward_mean: f32,
    pub(crate) reward_seen: u64,
    pub(crate) base_loss: f32,
    pub(crate) enabled: bool,
    pub(crate) counters: Counters,
    /// A step's gated activations while it is folded (`hidden_dim` long; not state).
    scratch: Vec<f32>,
    /// Recycled `hidden_dim`-long vectors (not state): trajectories reuse them instead of allocating.
    spare: Vec<Vec<f32>>,
    /// Codes of recently used `record_step` node ids (not state: codes are a pure function of the id).
    node_cache: Vec<(u32, Vec<f32>)>,
}

impl PartialEq for SonaEngine {
    fn eq(&self, o: &Self) -> bool {
        self.config == o.config
            && self.seed == o.seed
            && self.rng == o.rng
            && self.micro == o.micro
            && self.micro_grad == o.micro_grad
            && self.base == o.base
            && self.ewc == o.ewc
            && self.bank == o.bank
            && self.buffer == o.buffer
            && self.open == o.open
            && self.next_id == o.next_id
            && self.last == o.last
            && self.last_background_ms == o.last_background_ms
            && self.reward_mean.to_bits() == o.reward_mean.to_bits()
            && self.reward_seen == o.reward_seen
            && self.base_loss.to_bits() == o.base_loss.to_bits()
            && self.enabled == o.enabled
            && self.counters == o.counters
    }
}

/// Validates a clock value and converts it to whole milliseconds.
pub fn clock_ms(now_ms: f64) -> Result<u64> {
    if (0.0..9.0e15).contains(&now_ms) {
        Ok(now_ms as u64)
    } else {
        Err(SonaError::InvalidValue { what: "now_ms", value: now_ms, expected: "a finite number of milliseconds >= 0" })
    }
}

fn frob(v: &[f32]) -> f32 {
    crate::kernels::sqrtf(v.iter().map(|x| x * x).sum())
}

impl SonaEngine {
    /// A new engine; the seed fixes all randomness (adapter initialisation, k-means++).
    pub fn new(config: SonaConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let dim = config.hidden_dim;
        let mut rng = Rng::new(seed);
        let micro = LoraAdapter::new(dim, config.micro_lora_rank, &mut rng);
        let base: Vec<LoraAdapter> = (0..config.base_lora_layers).map(|_| LoraAdapter::new(dim, config.base_lora_rank, &mut rng)).collect();
        let params = 2 * dim * config.base_lora_rank * config.base_lora_layers;
        Ok(SonaEngine {
            kernels: Kernels::new(config.enable_simd),
            micro_grad: LoraGradient::zeros(dim, config.micro_lora_rank),
            ewc: EwcPlusPlus::new(params, config.ewc_lambda),
            bank: ReasoningBank::new(dim, config.pattern_clusters),
            buffer: TrajectoryBuffer::new(config.trajectory_capacity),
            open: Vec::new(),
            next_id: 1,
            last: LastFinished { id: 0, query: vec![0.0; dim], gradient: vec![0.0; dim], quality: 0.0, valid: false },
            last_background_ms: None,
            reward_mean: 0.0,
            reward_seen: 0,
            base_loss: 0.0,
            enabled: true,
            counters: Counters::default(),
            scratch: vec![0.0; dim],
            spare: Vec::new(),
            node_cache: Vec::new(),
            micro,
            base,
            rng,
            seed,
            config,
        })
    }

    /// Rebuilds the non-persisted parts after loading.
    pub(crate) fn finish_load(mut self) -> Self {
        self.kernels = Kernels::new(self.config.enable_simd);
        self.scratch = vec![0.0; self.config.hidden_dim];
        self.bank.refresh_norms(self.kernels);
        self
    }

    /// Assembles an engine from persisted parts (used by `persist`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        config: SonaConfig,
        seed: u64,
        rng: Rng,
        micro: LoraAdapter,
        micro_grad: LoraGradient,
        base: Vec<LoraAdapter>,
        ewc: EwcPlusPlus,
        bank: ReasoningBank,
        buffer: TrajectoryBuffer,
        open: Vec<QueryTrajectory>,
        next_id: u64,
        last: LastFinished,
        last_background_ms: Option<u64>,
        reward_mean: f32,
        reward_seen: u64,
        base_loss: f32,
        enabled: bool,
        counters: Counters,
    ) -> Self {
        SonaEngine {
            kernels: Kernels::new(config.enable_simd),
            scratch: Vec::new(),
            spare: Vec::new(),
            node_cache: Vec::new(),
            config,
            seed,
            rng,
            micro,
            micro_grad,
            base,
            ewc,
            bank,
            buffer,
            open,
            next_id,
            last,
            last_background_ms,
            reward_mean,
            reward_seen,
            base_loss,
            enabled,
            counters,
        }
        .finish_load()
    }

    /// The configuration.
    pub fn config(&self) -> &SonaConfig {
        &self.config
    }

    /// The seed the engine was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Enables or disables learning. Disabled: ended trajectories and feedback are not learned
    /// from and `tick` does nothing; explicit `run_instant_cycle`/`force_learn` and all reads work.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Whether learning is enabled.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    fn dim(&self) -> usize {
        self.config.hidden_dim
    }

    /// A zeroed `hidden_dim` vector, recycled when possible.
    /// A `hidden_dim`-long vector whose contents do not matter (a recycled one when possible):
    /// the running sums of a trajectory, overwritten by its first step.
    fn spare_unzeroed(&mut self) -> Vec<f32> {
        match self.spare.pop() {
            Some(v) => v,
            None => vec![0.0; self.dim()],
        }
    }

    fn recycle(&mut self, v: Vec<f32>) {
        if self.spare.len() < 16 && v.len() == self.dim() {
            self.spare.push(v);
        }
    }

    fn open_index(&self, id: u64) -> Result<usize> {
        match self.open.iter().position(|t| t.id == id) {
            Some(i) => Ok(i),
            None if id >= 1 && id < self.next_id => Err(SonaError::TrajectoryEnded { id }),
            None => Err(SonaError::UnknownTrajectory { id }),
        }
    }

    /// Opens a trajectory for `query_embedding` (`embedding_dim` long) and returns its id.
    pub fn start_trajectory(&mut self, query_embedding: &[f32]) -> Result<u64> {
        check_vector("query embedding", query_embedding, self.config.embedding_dim)?;
        if self.open.len() >= MAX_OPEN_TRAJECTORIES {
            return Err(SonaError::TooManyOpenTrajectories { limit: MAX_OPEN_TRAJECTORIES });
        }
        // Ids stay exact as JS numbers: below 2^53 − 1 (2^53 trajectories, or a crafted state).
        if self.next_id >= crate::persist::MAX_COUNT {
            return Err(SonaError::InvalidValue { what: "next trajectory id", value: self.next_id as f64, expected: "below 2^53 - 1 (the ids are used up)" });
        }
        let id = self.next_id;
        self.next_id += 1;
        let query = match self.spare.pop() {
            Some(mut v) => {
                v.copy_from_slice(query_embedding);
                v
            }
            None => query_embedding.to_vec(),
        };
        let mut t = QueryTrajectory { query_embedding: query, context_ids: Vec::new(), ..QueryTrajectory::new(id, Vec::new()) };
        t.reward_weighted_sum = self.spare_unzeroed();
        t.activation_sum = self.spare_unzeroed();
        self.open.push(t);
        self.counters.trajectories_started = self.counters.trajectories_started.saturating_add(1);
        Ok(id)
    }

    /// Adds a step: `activations` (`hidden_dim` long), `attention_weights` (at most `hidden_dim`
    /// long, tiled over the features as gates; empty = uniform) and a finite `reward`.
    pub fn add_step(&mut self, id: u64, activations: &[f32], attention_weights: &[f32], reward: f32) -> Result<()> {
        let i = self.open_index(id)?;
        let dim = self.dim();
        check_vector("activations", activations, dim)?;
        if attention_weights.len() > dim {
            return Err(SonaError::DimensionMismatch { what: "attention weights (at most hidden_dim)", expected: dim, got: attention_weights.len() });
        }
        // One pass tells both whether the weights are in range and whether they are within ±1.
        let largest_weight = self.kernels.max_abs(attention_weights);
        if largest_weight.is_nan() || largest_weight > MAX_MAGNITUDE {
            crate::error::check_finite("attention weights", attention_weights)?;
        }
        check_range("reward", reward, -MAX_MAGNITUDE, MAX_MAGNITUDE, "a finite number within [-1e15, 1e15]")?;
        let step = TrajectoryStep { activations, attention_weights, reward };
        // Checks the gated activations (then |reward × gated| ≤ 1e30 per step) before any change.
        fold_step(self.kernels, &mut self.open[i], step, &mut self.scratch[..dim], largest_weight <= 1.0)?;
        self.counters.steps_recorded = self.counters.steps_recorded.saturating_add(1);
        Ok(())
    }

    /// Records a step by graph/model node: the node's activation is a fixed pseudo-random unit
    /// code derived from `node_id` (the same for every engine of this width), its reward is
    /// `score − latency_us × 1e-7` ([`STEP_LATENCY_COST_PER_US`]: 10 s of latency cost 1.0;
    /// floored at −1e15), and `latency_us` adds to the trajectory's latency. Over many
    /// trajectories, nodes that score above the baseline pull the adaptation toward their code,
    /// low scorers push away, and of two nodes that score alike the slower one pulls less.
    pub fn record_step(&mut self, id: u64, node_id: u32, score: f32, latency_us: f64) -> Result<()> {
        let i = self.open_index(id)?;
        check_range("score", score, -MAX_MAGNITUDE, MAX_MAGNITUDE, "a finite number within [-1e15, 1e15]")?;
        if !(latency_us.is_finite() && latency_us >= 0.0) {
            return Err(SonaError::InvalidValue { what: "latencyUs", value: latency_us, expected: "a finite number >= 0" });
        }
        let dim = self.dim();
        let slot = match self.node_cache.iter().position(|(n, _)| *n == node_id) {
            Some(slot) => slot,
            None => {
                let mut code = vec![0.0; dim];
                node_code(node_id, &mut code);
                if self.node_cache.len() < NODE_CACHE {
                    self.node_cache.push((node_id, code));
                    self.node_cache.len() - 1
                } else {
                    let slot = (self.next_id as usize) % NODE_CACHE;
                    self.node_cache[slot] = (node_id, code);
                    slot
                }
            }
        };
        let act = &self.node_cache[slot].1;
        // No attention weights: nothing to check, nothing can fail.
        let reward = (score as f64 - latency_us * STEP_LATENCY_COST_PER_US).max(-MAX_MAGNITUDE as f64) as f32;
        let _ = fold_step(self.kernels, &mut self.open[i], TrajectoryStep { activations: act, attention_weights: &[], reward }, &mut self.scratch[..dim], true);
        let t = &mut self.open[i];
        t.latency_us = t.latency_us.saturating_add(latency_us as u64);
        self.counters.steps_recorded = self.counters.steps_recorded.saturating_add(1);
        Ok(())
    }

    /// Sets the model route of an open trajectory (used for pattern types).
    pub fn set_trajectory_route(&mut self, id: u64, route: &str) -> Result<()> {
        let i = self.open_index(id)?;
        if route.len() > MAX_STRING_LEN {
            return Err(SonaError::StringTooLong { what: "route", len: route.len(), limit: MAX_STRING_LEN });
        }
        self.open[i].model_route = Some(String::from(route));
        Ok(())
    }

    /// Adds a context id to an open trajectory (used for pattern types).
    pub fn add_trajectory_context(&mut self, id: u64, context_id: &str) -> Result<()> {
        let i = self.open_index(id)?;
        if context_id.len() > MAX_STRING_LEN {
            return Err(SonaError::StringTooLong { what: "context id", len: context_id.len(), limit: MAX_STRING_LEN });
        }
        if self.open[i].context_ids.len() >= MAX_CONTEXT_IDS {
            return Err(SonaError::TooManyContextIds { count: MAX_CONTEXT_IDS + 1, limit: MAX_CONTEXT_IDS });
        }
        self.open[i].context_ids.push(String::from(context_id));
        Ok(())
    }

    /// Ends a trajectory with its final `quality` in [0, 1] and runs the instant loop on it.
    pub fn end_trajectory(&mut self, id: u64, quality: f32) -> Result<()> {
        let i = self.open_index(id)?;
        check_range("quality", quality, 0.0, 1.0, "a finite number within [0, 1]")?;
        let mut t = self.open.swap_remove(i);
        self.counters.trajectories_completed = self.counters.trajectories_completed.saturating_add(1);
        if !self.enabled {
            self.counters.trajectories_skipped = self.counters.trajectories_skipped.saturating_add(1);
            // The most recently ended trajectory is now this one, which is not learned from:
            // feedback must not revise an earlier one in its place (see `learn_from_feedback`).
            self.last.valid = false;
            for v in [t.query_embedding, t.reward_weighted_sum, t.activation_sum] {
                self.recycle(v);
            }
            return Ok(());
        }
        let gradient = reinforce_gradient(self.kernels, &mut t, self.reward_mean);
        if let Some(avg) = t.avg_reward() {
            self.reward_seen = self.reward_seen.saturating_add(1);
            let a = (1.0 / self.reward_seen as f32).max(0.01);
            self.reward_mean += a * (avg - self.reward_mean);
        }
        self.last.id = id;
        self.last.query.copy_from_slice(&t.query_embedding);
        self.last.gradient.copy_from_slice(&gradient);
        self.last.quality = quality;
        self.last.valid = true;
        if quality >= self.config.quality_threshold {
            self.counters.trajectories_learned = self.counters.trajectories_learned.saturating_add(1);
            self.accumulate_micro(&t.query_embedding, &gradient, quality);
            let dropped = self.buffer.push(LearningSignal {
                trajectory_id: id,
                query_embedding: t.query_embedding,
                gradient_estimate: gradient,
                quality_score: quality,
                step_count: t.step_count,
                latency_us: t.latency_us,
                model_route: t.model_route,
                context_ids: t.context_ids,
            });
            if let Some(old) = dropped {
                self.recycle(old.query_embedding);
                self.recycle(old.gradient_estimate);
            }
            self.maybe_auto_flush();
        } else {
            self.counters.trajectories_filtered = self.counters.trajectories_filtered.saturating_add(1);
            self.recycle(t.query_embedding);
            self.recycle(gradient);
        }
        let acts = core::mem::take(&mut t.activation_sum);
        self.recycle(acts);
        Ok(())
    }

    /// Adds a trajectory finished elsewhere (a federated agent's export, already validated and
    /// accepted by the caller) under a fresh id: one instant-loop sample, then the buffer (returns
    /// whether the buffer dropped its oldest to make room).
    pub(crate) fn import_signal(&mut self, mut s: LearningSignal) -> bool {
        s.trajectory_id = self.next_id;
        // At 2^53 − 1 (a crafted state) the id repeats rather than leave the JS-exact range.
        self.next_id = (self.next_id + 1).min(crate::persist::MAX_COUNT);
        self.accumulate_micro(&s.query_embedding, &s.gradient_estimate, s.quality_score);
        let dropped = self.buffer.push(s).is_some();
        self.maybe_auto_flush();
        dropped
    }

    fn accumulate_micro(&mut self, query: &[f32], gradient: &[f32], quality: f32) {
        // Input: the unit query, target: quality·gradient, weight: quality (the scales folded into
        // the sample's coefficients, no copies). MicroLoRA's rank is 1 or 2 (a validated config),
        // the ranks this path takes.
        let rank12 = self.micro.accumulate_unit(self.kernels, query, gradient, quality, quality, &mut self.micro_grad);
        debug_assert!(rank12);
    }

    fn maybe_auto_flush(&mut self) {
        let every = self.config.micro_flush_interval;
        if every > 0 && self.micro_grad.samples() as usize >= every {
            self.run_instant_cycle();
        }
    }

    /// Feedback on the most recently ended trajectory. The feedback quality is
    /// `quality × (success ? 1 : 0.5) / (1 + latency_ms / 10000)`; the trajectory's quality becomes
    /// the mean of its old quality and the feedback quality. If the revised quality passes the
    /// threshold, one more instant-loop sample with it is accumulated, and the buffered copy (if
    /// still buffered) is updated or, if it had been filtered, buffered now. Nothing happens while
    /// learning is disabled, nor when the most recently ended trajectory ended while it was (that
    /// trajectory was not learned from, and feedback never falls back to an earlier one).
    pub fn learn_from_feedback(&mut self, success: bool, latency_ms: f32, quality: f32) -> Result<()> {
        check_range("quality", quality, 0.0, 1.0, "a finite number within [0, 1]")?;
        check_range("latencyMs", latency_ms, 0.0, f32::MAX, "a finite number >= 0")?;
        if !self.last.valid {
            // Trajectories have ended, the last of them while learning was disabled: nothing to do.
            if self.counters.trajectories_completed > 0 {
                return Ok(());
            }
            return Err(SonaError::NoFinishedTrajectory);
        }
        if !self.enabled {
            return Ok(());
        }
        let outcome = if success { 1.0 } else { FEEDBACK_FAILURE_FACTOR };
        let feedback = quality * outcome / (1.0 + latency_ms / FEEDBACK_LATENCY_REF_MS);
        let old = self.last.quality;
        let revised = 0.5 * (old + feedback);
        self.last.quality = revised;
        self.counters.feedback_count = self.counters.feedback_count.saturating_add(1);
        let threshold = self.config.quality_threshold;
        let id = self.last.id;
        match self.buffer.find_mut(id) {
            Some(s) => s.quality_score = revised,
            None if old < threshold && revised >= threshold => {
                self.buffer.push(LearningSignal {
                    trajectory_id: id,
                    query_embedding: self.last.query.clone(),
                    gradient_estimate: self.last.gradient.clone(),
                    quality_score: revised,
                    step_count: 0,
                    latency_us: (latency_ms as f64 * 1000.0) as u64,
                    model_route: None,
                    context_ids: Vec::new(),
                });
            }
            None => {}
        }
        if revised >= threshold {
            let (q, g) = (core::mem::take(&mut self.last.query), core::mem::take(&mut self.last.gradient));
            self.accumulate_micro(&q, &g, revised);
            self.last.query = q;
            self.last.gradient = g;
            self.maybe_auto_flush();
        }
        Ok(())
    }

    /// Applies the accumulated MicroLoRA update; returns how many samples it held.
    pub fn run_instant_cycle(&mut self) -> u32 {
        let n = self.micro_grad.samples();
        if n == 0 {
            return 0;
        }
        let step = flush_step(self.config.micro_lora_lr, n);
        self.micro.apply_gradient(self.kernels, &mut self.micro_grad, step);
        self.micro_grad.clear();
        self.counters.instant_cycles = self.counters.instant_cycles.saturating_add(1);
        self.counters.micro_samples_applied = self.counters.micro_samples_applied.saturating_add(n as u64);
        n
    }

    /// `output = input + MicroLoRA delta(input)`; both `hidden_dim` long.
    pub fn apply_lora_into(&self, input: &[f32], output: &mut [f32]) -> Result<()> {
        if input.len() != self.dim() {
            return Err(SonaError::DimensionMismatch { what: "input", expected: self.dim(), got: input.len() });
        }
        if output.len() != self.dim() {
            return Err(SonaError::DimensionMismatch { what: "output", expected: self.dim(), got: output.len() });
        }
        if self.micro.apply_checked(self.kernels, input, output) {
            Ok(())
        } else {
            check_vector("input", input, self.dim())
        }
    }

    /// `input + MicroLoRA delta(input)` as a new vector.
    pub fn apply_lora(&self, input: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.dim()];
        self.apply_lora_into(input, &mut out)?;
        Ok(out)
    }

    /// `input + delta_layer(input)` for one BaseLoRA layer.
    pub fn apply_lora_layer(&self, layer: usize, input: &[f32]) -> Result<Vec<f32>> {
        if layer >= self.base.len() {
            return Err(SonaError::LayerOutOfRange { layer, layers: self.base.len() });
        }
        check_vector("input", input, self.dim())?;
        let mut out = vec![0.0; self.dim()];
        self.base[layer].apply_into(self.kernels, input, &mut out);
        Ok(out)
    }

    /// Runs a background cycle if `background_interval_ms` passed since the last one (the first
    /// call only starts the clock). Returns whether a cycle ran. Does nothing while disabled.
    pub fn tick(&mut self, now_ms: f64) -> Result<bool> {
        let now = clock_ms(now_ms)?;
        if !self.enabled {
            return Ok(false);
        }
        match self.last_background_ms {
            None => {
                self.last_background_ms = Some(now);
                Ok(false)
            }
            Some(last) if now >= last && now - last >= self.config.background_interval_ms => {
                self.background_cycle(now);
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// Deep consolidation: flush MicroLoRA, run a background cycle now, consolidate an EWC++ task.
    pub fn force_learn(&mut self, now_ms: f64) -> Result<LearnReport> {
        let now = clock_ms(now_ms)?;
        let flushed = self.run_instant_cycle();
        let mut report = self.background_cycle(now);
        let params = self.base_params();
        self.ewc.consolidate(&params);
        self.counters.deep_consolidations = self.counters.deep_consolidations.saturating_add(1);
        report.micro_samples_flushed = flushed;
        report.ewc_tasks = self.ewc.task_count();
        report.ewc_lambda = self.ewc_lambda();
        Ok(report)
    }

    fn ewc_lambda(&self) -> f32 {
        if self.ewc.enabled() {
            self.ewc.lambda()
        } else {
            0.0
        }
    }

    /// All BaseLoRA parameters as one vector (layer by layer: down rows, then up rows).
    pub(crate) fn base_params(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(self.ewc.fisher.len());
        for l in &self.base {
            let (d, u) = l.params();
            v.extend_from_slice(d);
            v.extend_from_slice(u);
        }
        v
    }

    fn background_cycle(&mut self, now: u64) -> LearnReport {
        let k = self.kernels;
        let signals = self.buffer.drain();
        let refs: Vec<&LearningSignal> = signals.iter().filter(|s| s.quality_score >= self.config.quality_threshold).collect();
        let ex = self.bank.extract(k, &refs, self.config.pattern_clusters, now, self.config.quality_threshold, &mut self.rng);
        let (before, after, boundary) = self.train_base();
        self.base_loss = after;
        self.last_background_ms = Some(now);
        self.counters.background_cycles = self.counters.background_cycles.saturating_add(1);
        LearnReport {
            trajectories_used: refs.len(),
            clusters_formed: ex.clusters_formed,
            patterns_merged: ex.merged,
            patterns_pruned: ex.pruned,
            patterns_evicted: ex.evicted,
            patterns_stored: self.bank.len(),
            lloyd_iterations: ex.lloyd_iterations,
            base_loss_before: before,
            base_loss_after: after,
            ewc_penalty: self.ewc.penalty(&self.base_params()),
            task_boundary: boundary,
            ewc_tasks: self.ewc.task_count(),
            ewc_lambda: self.ewc_lambda(),
            micro_samples_flushed: 0,
        }
    }

    /// Trains the BaseLoRA stack on the bank's patterns. Returns (loss before, loss after, boundary).
    fn train_base(&mut self) -> (f32, f32, bool) {
        let dim = self.dim();
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        let mut weights = Vec::new();
        for p in self.bank.patterns() {
            if p.direction.iter().all(|&d| d == 0.0) {
                continue;
            }
            let start = inputs.len();
            inputs.extend_from_slice(&p.centroid);
            normalize(&mut inputs[start..]);
            targets.extend(p.direction.iter().map(|d| d * p.avg_quality));
            weights.push(p.avg_quality);
        }
        train_stack(self.kernels, &mut self.base, &mut self.ewc, &inputs, &targets, &weights, dim, self.config.base_lora_lr, BASE_EPOCHS)
    }

    /// Mean loss of the BaseLoRA stack on (unit input, target) pairs, for tests and tools:
    /// `inputs` and `targets` are each n vectors of `hidden_dim` floats, back to back (the same n).
    pub fn base_loss(&self, inputs: &[f32], targets: &[f32]) -> Result<f32> {
        let dim = self.dim();
        if inputs.len() % dim != 0 {
            return Err(SonaError::InvalidValue { what: "inputs length", value: inputs.len() as f64, expected: "a multiple of hidden_dim" });
        }
        if targets.len() != inputs.len() {
            return Err(SonaError::DimensionMismatch { what: "targets", expected: inputs.len(), got: targets.len() });
        }
        Ok(stack_loss(self.kernels, &self.base, inputs, targets, dim))
    }

    /// Top-`k` patterns by cosine similarity to `query`, best first, with their similarity; each
    /// returned pattern's access count and time (`now_ms`) are updated.
    pub fn find_patterns(&mut self, query: &[f32], k: usize, now_ms: f64) -> Result<Vec<(LearnedPattern, f32)>> {
        let hits = self.find_pattern_indices(query, k, now_ms)?;
        Ok(hits.into_iter().map(|(i, s)| (self.bank.patterns()[i].clone(), s)).collect())
    }

    /// As [`SonaEngine::find_patterns`], returning indices into [`SonaEngine::patterns`] instead
    /// of copies (valid until the next learning cycle).
    pub fn find_pattern_indices(&mut self, query: &[f32], k: usize, now_ms: f64) -> Result<Vec<(usize, f32)>> {
        if k == 0 {
            return Err(SonaError::ZeroK);
        }
        check_vector("query", query, self.config.embedding_dim)?;
        let now = clock_ms(now_ms)?;
        Ok(self.bank.find(self.kernels, query, k, now))
    }

    /// The stored patterns (read-only).
    pub fn patterns(&self) -> &[LearnedPattern] {
        self.bank.patterns()
    }

    /// Current statistics.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            counters: self.counters.clone(),
            trajectories_open: self.open.len(),
            trajectories_buffered: self.buffer.len(),
            trajectories_dropped: self.buffer.dropped(),
            patterns_stored: self.bank.len(),
            micro_pending: self.micro_grad.samples(),
            micro_lora_norm: frob(self.micro.params().1),
            base_lora_norm: crate::kernels::sqrtf(self.base.iter().map(|l| { let f = frob(l.params().1); f * f }).sum()),
            base_lora_loss: self.base_loss,
            ewc_tasks: self.ewc.task_count(),
            ewc_lambda: self.ewc_lambda(),
            ewc_task_boundaries: self.ewc.boundaries(),
            mean_reward: self.reward_mean,
            last_background_ms: self.last_background_ms,
            enabled: self.enabled,
            simd: self.kernels.is_simd(),
        }
    }

    /// Number of BaseLoRA layers.
    pub fn base_layers(&self) -> usize {
        self.base.len()
    }
}

/// Mean over samples of `½‖Σ_l delta_l(x̂) − t‖²`.
pub fn stack_loss(k: Kernels, layers: &[LoraAdapter], inputs: &[f32], targets: &[f32], dim: usize) -> f32 {
    let n = inputs.len() / dim;
    if n == 0 {
        return 0.0;
    }
    let mut e = vec![0.0f32; dim];
    let mut total = 0.0;
    for s in 0..n {
        for (v, t) in e.iter_mut().zip(&targets[s * dim..(s + 1) * dim]) {
            *v = -t;
        }
        for l in layers {
            l.add_delta(k, &inputs[s * dim..(s + 1) * dim], &mut e);
        }
        total += 0.5 * k.dot(&e, &e);
    }
    total / n as f32
}

/// Trains a residual stack of adapters: layer `l` fits what layers `0..l` leave unexplained.
/// Each epoch: accumulate every sample per layer, apply with `flush_step(lr, n)`, feed the update
/// into the EWC++ Fisher, then take the EWC++ proximal step. Before training, the starting loss
/// is fed to task-boundary detection (a boundary consolidates the current weights as a task).
/// Returns (loss before, loss after, boundary detected).
#[allow(clippy::too_many_arguments)]
pub fn train_stack(
    k: Kernels,
    layers: &mut [LoraAdapter],
    ewc: &mut EwcPlusPlus,
    inputs: &[f32],
    targets: &[f32],
    weights: &[f32],
    dim: usize,
    lr: f32,
    epochs: usize,
) -> (f32, f32, bool) {
    let n = weights.len();
    let before = stack_loss(k, layers, inputs, targets, dim);
    if n == 0 {
        return (before, before, false);
    }
    let flat = |layers: &[LoraAdapter]| {
        let mut v = Vec::new();
        for l in layers {
            let (d, u) = l.params();
            v.extend_from_slice(d);
            v.extend_from_slice(u);
        }
        v
    };
    let boundary = ewc.enabled() && ewc.detect_boundary(before);
    if boundary {
        ewc.consolidate(&flat(layers));
    }
    let mut residual = vec![0.0f32; n * dim];
    let mut scratch = vec![0.0f32; 2 * dim];
    for _ in 0..epochs {
        residual.copy_from_slice(targets);
        let old = flat(layers);
        for layer in layers.iter_mut() {
            let mut g = LoraGradient::zeros(dim, layer.rank());
            for s in 0..n {
                layer.accumulate(k, &inputs[s * dim..(s + 1) * dim], &residual[s * dim..(s + 1) * dim], weights[s], &mut g, &mut scratch);
            }
            layer.apply_gradient(k, &mut g, flush_step(lr, n as u32));
            for s in 0..n {
                // residual ← residual − delta_l(x̂)
                let r = &mut residual[s * dim..(s + 1) * dim];
                r.iter_mut().for_each(|v| *v = -*v);
                layer.add_delta(k, &inputs[s * dim..(s + 1) * dim], r);
                r.iter_mut().for_each(|v| *v = -*v);
            }
        }
        if ewc.enabled() {
            let mut now = flat(layers);
            let update: Vec<f32> = now.iter().zip(&old).map(|(a, b)| a - b).collect();
            ewc.observe_update(&update);
            if ewc.task_count() > 0 {
                // The per-sample rate of the step actually taken (flush_step's cap): a rate past
                // the cap learns like the cap, and a huge one made 2·lr·λ infinite (NaN weights).
                ewc.proximal(&mut now, flush_step(lr, n as u32) / n as f32);
                crate::lora::flush_tiny(&mut now);
                let mut o = 0;
                for l in layers.iter_mut() {
                    let (d, u) = l.params_mut();
                    d.copy_from_slice(&now[o..o + d.len()]);
                    o += d.len();
                    u.copy_from_slice(&now[o..o + u.len()]);
                    o += u.len();
                }
            }
        }
    }
    let after = stack_loss(k, layers, inputs, targets, dim);
    (before, after, boundary)
}
