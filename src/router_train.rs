//! Training of the FastGRNN router, following the seed's "FastGRNN Training Pipeline Guide":
//! z-score normalisation (mean/std of the training split, stored in the model), a seeded
//! train/validation split, shuffled mini-batches, analytic gradients by backpropagation through
//! time, Adam, element-wise gradient clipping to `[−grad_clip, grad_clip]`, L2 regularisation of the
//! weights, a step learning-rate decay (`lr · lr_decay^⌊epoch / lr_decay_step⌋`), and early stopping
//! on the validation loss (the best model is kept).
//!
//! Loss per sample (logits `z`, label `y`, optional teacher probabilities `q`):
//!
//! ```text
//! L_hard = BCE(σ(z), y)                 one output (y in [0, 1])
//!        = CE(softmax(z), y)            N outputs (y = route index)
//! L_soft = BCE(σ(z/T), σ(logit(q)/T))   one output: the teacher's probability softened by T
//!        = CE(softmax(z/T), softmax(ln q / T))
//! L      = α·L_soft + (1 − α)·L_hard    when the sample has a teacher, else L_hard
//! ```
//!
//! with `T = distillation_temperature` and `α = distillation_alpha` (the seed's formula). The batch
//! loss is the mean over the batch plus `l2_reg/2 · Σ w²` over the weights (not the biases).

use crate::router::{
    check_finite, decide, scores_of, sigmoid, FastGrnn, RouterConfig, RouterError, RouterResult, Trace,
};
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;

/// Largest number of samples a dataset accepts.
pub const MAX_SAMPLES: usize = 1 << 20;

/// Hyperparameters (names and defaults as in the seed's `TrainingConfig`, plus distillation and seed).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingConfig {
    /// Adam step size, in (0, 1]. Default 0.001.
    pub learning_rate: f32,
    /// Samples per mini-batch, ≥ 1. Default 32.
    pub batch_size: usize,
    /// Maximum number of epochs, 1..=100000. Default 100.
    pub epochs: usize,
    /// Fraction of samples held out for validation, in (0, 0.9]. Default 0.2.
    pub validation_split: f32,
    /// Stop after this many epochs without a validation-loss improvement; `None` = never. Default 10.
    pub early_stopping_patience: Option<usize>,
    /// Learning-rate factor applied every `lr_decay_step` epochs, in (0, 1]. Default 0.5.
    pub lr_decay: f32,
    /// Epochs between decays, ≥ 1. Default 20.
    pub lr_decay_step: usize,
    /// Element-wise gradient clip, > 0. Default 5.
    pub grad_clip: f32,
    /// Adam β1 in [0, 1). Default 0.9.
    pub adam_beta1: f32,
    /// Adam β2 in [0, 1). Default 0.999.
    pub adam_beta2: f32,
    /// Adam ε > 0. Default 1e-8.
    pub adam_epsilon: f32,
    /// L2 strength ≥ 0. Default 1e-5.
    pub l2_reg: f32,
    /// Weight α of the distillation loss for samples with a teacher, in [0, 1]. Default 0.7.
    pub distillation_alpha: f32,
    /// Distillation temperature T, in [1, 100]. Default 3.
    pub distillation_temperature: f32,
    /// Seed of the weight initialisation, the split and the shuffling. Default 42.
    pub seed: u64,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            learning_rate: 0.001,
            batch_size: 32,
            epochs: 100,
            validation_split: 0.2,
            early_stopping_patience: Some(10),
            lr_decay: 0.5,
            lr_decay_step: 20,
            grad_clip: 5.0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            l2_reg: 1e-5,
            distillation_alpha: 0.7,
            distillation_temperature: 3.0,
            seed: 42,
        }
    }
}

impl TrainingConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> RouterResult<()> {
        let bad = |field, reason| Err(RouterError::InvalidConfig { field, reason });
        let within = |v: f32, lo: f32, hi: f32| v.is_finite() && v >= lo && v <= hi;
        if !(within(self.learning_rate, 0.0, 1.0) && self.learning_rate > 0.0) {
            return bad("learning_rate", "must be in (0, 1]");
        }
        if self.batch_size == 0 || self.batch_size > MAX_SAMPLES {
            return bad("batch_size", "must be in 1..=1048576");
        }
        if self.epochs == 0 || self.epochs > 100_000 {
            return bad("epochs", "must be in 1..=100000");
        }
        if !(within(self.validation_split, 0.0, 0.9) && self.validation_split > 0.0) {
            return bad("validation_split", "must be in (0, 0.9]");
        }
        if self.early_stopping_patience == Some(0) {
            return bad("early_stopping_patience", "must be >= 1 (or absent to disable)");
        }
        if !(within(self.lr_decay, 0.0, 1.0) && self.lr_decay > 0.0) {
            return bad("lr_decay", "must be in (0, 1]");
        }
        if self.lr_decay_step == 0 {
            return bad("lr_decay_step", "must be >= 1");
        }
        if !(self.grad_clip.is_finite() && self.grad_clip > 0.0) {
            return bad("grad_clip", "must be finite and > 0");
        }
        if !(within(self.adam_beta1, 0.0, 1.0) && self.adam_beta1 < 1.0) {
            return bad("adam_beta1", "must be in [0, 1)");
        }
        if !(within(self.adam_beta2, 0.0, 1.0) && self.adam_beta2 < 1.0) {
            return bad("adam_beta2", "must be in [0, 1)");
        }
        if !(within(self.adam_epsilon, 0.0, 1.0) && self.adam_epsilon > 0.0) {
            return bad("adam_epsilon", "must be in (0, 1]");
        }
        if !within(self.l2_reg, 0.0, 1.0) {
            return bad("l2_reg", "must be in [0, 1]");
        }
        if !within(self.distillation_alpha, 0.0, 1.0) {
            return bad("distillation_alpha", "must be in [0, 1]");
        }
        if !within(self.distillation_temperature, 1.0, 100.0) {
            return bad("distillation_temperature", "must be in [1, 100]");
        }
        Ok(())
    }
}

/// One labelled training example.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Raw (unnormalised) features, `steps · input_dim` values.
    pub features: Vec<f32>,
    /// One output: target probability of route 1 in [0, 1]. N outputs: the route index.
    pub label: f32,
    /// Optional teacher probabilities (`output_dim` values) for distillation.
    pub teacher: Option<Vec<f32>>,
}

/// What a sample's loss is computed against.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub label: f32,
    pub teacher: Option<&'a [f32]>,
    pub alpha: f32,
    pub temperature: f32,
}

/// `ln(1 + e^a)` without overflow.
fn softplus(a: f32) -> f32 {
    if a > 0.0 {
        a + libm::log1pf(libm::expf(-a))
    } else {
        libm::log1pf(libm::expf(a))
    }
}

fn log_sum_exp(z: &[f32], temperature: f32) -> f32 {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v / temperature));
    m + libm::logf(z.iter().map(|&v| libm::expf(v / temperature - m)).sum::<f32>())
}

/// Teacher probabilities softened by temperature `t`, written into `out`.
fn soft_targets(teacher: &[f32], t: f32, out: &mut [f32]) {
    const EPS: f32 = 1e-6;
    if teacher.len() == 1 {
        let q = teacher[0].clamp(EPS, 1.0 - EPS);
        out[0] = sigmoid(libm::logf(q / (1.0 - q)) / t);
    } else {
        let logs: Vec<f32> = teacher.iter().map(|&q| libm::logf(q.max(EPS))).collect();
        let lse = log_sum_exp(&logs, t);
        for (o, &lq) in out.iter_mut().zip(&logs) {
            *o = libm::expf(lq / t - lse);
        }
    }
}

/// Cross-entropy of the scores of `z / t` against the probability vector `q` (BCE for one output),
/// accumulating `weight · ∂/∂z` into `dz`.
fn cross_entropy(z: &[f32], q: &[f32], t: f32, weight: f32, dz: &mut [f32]) -> f32 {
    let mut p = vec![0.0; z.len()];
    scores_of(z, t, &mut p);
    for i in 0..z.len() {
        dz[i] += weight * (p[i] - q[i]) / t;
    }
    if z.len() == 1 {
        softplus(z[0] / t) - q[0] * z[0] / t
    } else {
        let lse = log_sum_exp(z, t);
        z.iter().zip(q).map(|(&zi, &qi)| qi * (lse - zi / t)).sum()
    }
}

/// Loss of one sample from its logits; `dz` receives ∂loss/∂logits.
pub fn sample_loss(logits: &[f32], target: &Target<'_>, dz: &mut [f32]) -> f32 {
    for v in dz.iter_mut() {
        *v = 0.0;
    }
    let o = logits.len();
    let mut hard = vec![0.0; o];
    if o == 1 {
        hard[0] = target.label;
    } else {
        hard[target.label as usize] = 1.0;
    }
    match target.teacher {
        Some(teacher) if target.alpha > 0.0 => {
            let mut soft = vec![0.0; o];
            soft_targets(teacher, target.temperature, &mut soft);
            let a = target.alpha;
            a * cross_entropy(logits, &soft, target.temperature, a, dz)
                + (1.0 - a) * cross_entropy(logits, &hard, 1.0, 1.0 - a, dz)
        }
        _ => cross_entropy(logits, &hard, 1.0, 1.0, dz),
    }
}

/// Backpropagation through time: adds ∂loss/∂params to `grad` given ∂loss/∂logits.
pub fn backward(model: &FastGrnn, trace: &Trace, dlogits: &[f32], grad: &mut [f32]) {
    let l = model.layout();
    let p = model.params();
    let (d, h, r) = (l.input_dim, l.hidden_dim, l.rank);
    let (nu, zeta) = (model.config().nu, model.config().zeta);
    let steps = trace.x.len() / d;
    let h_last = &trace.h[steps * h..];
    let mut dh = vec![0.0f32; h];
    for (o, &g) in dlogits.iter().enumerate() {
        grad[l.b_out + o] += g;
        for i in 0..h {
            grad[l.w_out + o * h + i] += g * h_last[i];
            dh[i] += p[l.w_out + o * h + i] * g;
        }
    }
    let mut dh_prev = vec![0.0f32; h];
    let mut g = vec![0.0f32; h];
    let mut dg = vec![0.0f32; h];
    let mut da_c = vec![0.0f32; h];
    let mut ds = vec![0.0f32; r];
    for t in (0..steps).rev() {
        let x = &trace.x[t * d..(t + 1) * d];
        let h_prev = &trace.h[t * h..(t + 1) * h];
        let (rt, ut, ct) = (&trace.r[t * h..(t + 1) * h], &trace.u[t * h..(t + 1) * h], &trace.c[t * h..(t + 1) * h]);
        for i in 0..h {
            g[i] = rt[i] * h_prev[i];
            da_c[i] = dh[i] * (1.0 - ut[i]) * zeta * (1.0 - ct[i] * ct[i]);
            let da_u = dh[i] * (h_prev[i] - ct[i]) * nu * ut[i] * (1.0 - ut[i]);
            dh_prev[i] = dh[i] * ut[i];
            grad[l.b_c + i] += da_c[i];
            grad[l.b_u + i] += da_u;
            for k in 0..d {
                grad[l.w_c + i * d + k] += da_c[i] * x[k];
                grad[l.w_u + i * d + k] += da_u * x[k];
            }
        }
        dg.iter_mut().for_each(|v| *v = 0.0);
        if r == 0 {
            for i in 0..h {
                for j in 0..h {
                    grad[l.rec_a + i * h + j] += da_c[i] * g[j];
                    dg[j] += p[l.rec_a + i * h + j] * da_c[i];
                }
            }
        } else {
            let s = &trace.s[t * r..(t + 1) * r];
            ds.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..h {
                for k in 0..r {
                    grad[l.rec_a + i * r + k] += da_c[i] * s[k];
                    ds[k] += p[l.rec_a + i * r + k] * da_c[i];
                }
            }
            for j in 0..h {
                for k in 0..r {
                    grad[l.rec_b + j * r + k] += g[j] * ds[k];
                    dg[j] += p[l.rec_b + j * r + k] * ds[k];
                }
            }
        }
        for j in 0..h {
            dh_prev[j] += dg[j] * rt[j];
            let da_r = dg[j] * h_prev[j] * nu * rt[j] * (1.0 - rt[j]);
            grad[l.b_r + j] += da_r;
            for k in 0..d {
                grad[l.w_r + j * d + k] += da_r * x[k];
            }
        }
        core::mem::swap(&mut dh, &mut dh_prev);
    }
}

/// Loss of one (validated) sample, adding its gradient to `grad` when given.
pub fn loss_and_gradient(
    model: &FastGrnn,
    features: &[f32],
    target: &Target<'_>,
    trace: &mut Trace,
    grad: Option<&mut [f32]>,
) -> f32 {
    model.forward_into(features, trace);
    let mut dz = vec![0.0; trace.logits.len()];
    let loss = sample_loss(&trace.logits, target, &mut dz);
    if let Some(grad) = grad {
        backward(model, trace, &dz, grad);
    }
    loss
}

/// Per-epoch history and final metrics of [`RouterTrainer::train`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingMetrics {
    /// Epochs run.
    pub epochs: usize,
    /// Mean training loss (without the L2 term) per epoch.
    pub train_loss: Vec<f32>,
    /// Validation loss per epoch.
    pub val_loss: Vec<f32>,
    /// Validation accuracy per epoch.
    pub val_accuracy_history: Vec<f32>,
    /// Learning rate used in each epoch.
    pub learning_rate: Vec<f32>,
    /// Validation accuracy of the returned (best) model.
    pub val_accuracy: f32,
    /// Training accuracy of the returned model.
    pub train_accuracy: f32,
    /// Epoch (0-based) whose weights were kept: the lowest validation loss.
    pub best_epoch: usize,
    /// Whether early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// Samples in the training and validation splits.
    pub train_samples: usize,
    pub val_samples: usize,
}

/// Collects samples for a model configuration and trains a [`FastGrnn`] on them.
#[derive(Clone, Debug)]
pub struct RouterTrainer {
    model_config: RouterConfig,
    config: TrainingConfig,
    samples: Vec<Sample>,
    model: Option<FastGrnn>,
}

impl RouterTrainer {
    /// A trainer for models of `model_config`; both configurations are validated.
    pub fn new(model_config: RouterConfig, config: TrainingConfig) -> RouterResult<RouterTrainer> {
        model_config.validate()?;
        config.validate()?;
        Ok(RouterTrainer { model_config, config, samples: Vec::new(), model: None })
    }

    /// The model configuration.
    pub fn model_config(&self) -> &RouterConfig {
        &self.model_config
    }

    /// The training configuration.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// Number of samples added.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// Adds a sample after checking it: features of `k · input_dim` finite values; label in [0, 1]
    /// for one output or an integer route index below `output_dim`; teacher (if any) of
    /// `output_dim` probabilities in [0, 1] (summing to 1 ± 0.01 for several outputs).
    pub fn add_sample(&mut self, features: &[f32], label: f32, teacher: Option<&[f32]>) -> RouterResult<()> {
        let c = &self.model_config;
        if self.samples.len() >= MAX_SAMPLES {
            return Err(RouterError::InvalidValue { what: "sample count", value: MAX_SAMPLES as f64, expected: "at most 1048576 samples" });
        }
        c.steps_of(features.len())?;
        check_finite("features", features)?;
        if c.output_dim == 1 {
            if !(label.is_finite() && (0.0..=1.0).contains(&label)) {
                return Err(RouterError::InvalidValue { what: "label", value: label as f64, expected: "in [0, 1] for a single-output router" });
            }
        } else if !(label.is_finite() && label >= 0.0 && label == libm::floorf(label) && (label as usize) < c.output_dim) {
            return Err(RouterError::InvalidValue { what: "label", value: label as f64, expected: "an integer route index below output_dim" });
        }
        if let Some(t) = teacher {
            if t.len() != c.output_dim {
                return Err(RouterError::DimensionMismatch { what: "teacher probabilities", expected: c.output_dim, got: t.len() });
            }
            check_finite("teacher probabilities", t)?;
            if let Some(&q) = t.iter().find(|&&q| !(0.0..=1.0).contains(&q)) {
                return Err(RouterError::InvalidValue { what: "teacher probability", value: q as f64, expected: "in [0, 1]" });
            }
            let sum: f32 = t.iter().sum();
            if t.len() > 1 && libm::fabsf(sum - 1.0) > 0.01 {
                return Err(RouterError::InvalidValue { what: "teacher probability sum", value: sum as f64, expected: "1 (within 0.01)" });
            }
        }
        self.samples.push(Sample { features: features.to_vec(), label, teacher: teacher.map(|t| t.to_vec()) });
        Ok(())
    }

    /// The model of the last successful [`RouterTrainer::train`].
    pub fn model(&self) -> Option<&FastGrnn> {
        self.model.as_ref()
    }

    /// Trains a fresh model on the samples (needs at least 2, with at least one in each split).
    /// On error nothing changes.
    pub fn train(&mut self) -> RouterResult<TrainingMetrics> {
        let n = self.samples.len();
        let cfg = &self.config;
        let val_size = |n: usize| (libm::roundf(cfg.validation_split * n as f32) as usize).max(1);
        let n_val = val_size(n);
        if n_val >= n {
            // The smallest count that leaves at least one training sample (split <= 0.9: at most 6).
            let needed = (2..).find(|&m| val_size(m) < m).unwrap_or(2);
            return Err(RouterError::NotEnoughSamples { needed, got: n });
        }
        let mut rng = Rng::new(cfg.seed);
        let mut model = FastGrnn::new(self.model_config.clone(), rng.next_u64())?;
        let mut order: Vec<usize> = (0..n).collect();
        shuffle(&mut order, &mut rng);
        let (val_idx, train_idx) = order.split_at(n_val);
        let mut train_idx = train_idx.to_vec();

        // z-score normalisation from the training split (every step of every sample).
        let d = self.model_config.input_dim;
        let mut mean = vec![0.0f64; d];
        let mut sq = vec![0.0f64; d];
        let mut count = 0usize;
        for &i in &train_idx {
            for step in self.samples[i].features.chunks_exact(d) {
                for k in 0..d {
                    mean[k] += step[k] as f64;
                    sq[k] += step[k] as f64 * step[k] as f64;
                }
                count += 1;
            }
        }
        let mut mean32 = vec![0.0f32; d];
        let mut std32 = vec![1.0f32; d];
        for k in 0..d {
            let m = mean[k] / count as f64;
            let var = (sq[k] / count as f64 - m * m).max(0.0);
            mean32[k] = m as f32;
            let s = crate::kernels::sqrt(var) as f32;
            std32[k] = if s > 1e-6 { s } else { 1.0 };
        }
        model.set_normalization(&mean32, &std32)?;

        let total = model.parameter_count();
        let weights = model.layout().weight_count();
        let mut adam = Adam::new(total);
        let mut grad = vec![0.0f32; total];
        let mut trace = Trace::default();
        let mut metrics = TrainingMetrics {
            epochs: 0,
            train_loss: Vec::new(),
            val_loss: Vec::new(),
            val_accuracy_history: Vec::new(),
            learning_rate: Vec::new(),
            val_accuracy: 0.0,
            train_accuracy: 0.0,
            best_epoch: 0,
            stopped_early: false,
            train_samples: train_idx.len(),
            val_samples: val_idx.len(),
        };
        let mut best: Option<(f32, Vec<f32>)> = None;
        let mut since_best = 0usize;
        for epoch in 0..cfg.epochs {
            let lr = cfg.learning_rate * libm::powf(cfg.lr_decay, (epoch / cfg.lr_decay_step) as f32);
            shuffle(&mut train_idx, &mut rng);
            let mut epoch_loss = 0.0f64;
            for batch in train_idx.chunks(cfg.batch_size) {
                grad.iter_mut().for_each(|g| *g = 0.0);
                for &i in batch {
                    let s = &self.samples[i];
                    let target = self.target_of(s);
                    epoch_loss += loss_and_gradient(&model, &s.features, &target, &mut trace, Some(&mut grad)) as f64;
                }
                adam.step(model.params_mut(), &grad, 1.0 / batch.len() as f32, weights, lr, cfg);
            }
            if model.params().iter().any(|v| !v.is_finite()) {
                return Err(RouterError::InvalidValue { what: "training loss", value: f64::NAN, expected: "finite (lower learning_rate or grad_clip)" });
            }
            let (val_loss, val_acc) = self.evaluate(&model, val_idx);
            // Finite weights can still meet features that overflow once normalised (a huge
            // outlier): a NaN loss is refused rather than reported (the trainer keeps its model).
            if !(epoch_loss.is_finite() && val_loss.is_finite()) {
                let value = if epoch_loss.is_finite() { val_loss as f64 } else { epoch_loss };
                return Err(RouterError::InvalidValue { what: "training or validation loss", value, expected: "finite (features too large once normalised? scale them)" });
            }
            metrics.epochs = epoch + 1;
            metrics.train_loss.push((epoch_loss / train_idx.len() as f64) as f32);
            metrics.val_loss.push(val_loss);
            metrics.val_accuracy_history.push(val_acc);
            metrics.learning_rate.push(lr);
            let improved = match &best {
                Some((b, _)) => val_loss < *b,
                None => true,
            };
            if improved {
                best = Some((val_loss, model.params().to_vec()));
                metrics.best_epoch = epoch;
                since_best = 0;
            } else {
                since_best += 1;
                if cfg.early_stopping_patience.is_some_and(|p| since_best >= p) {
                    metrics.stopped_early = epoch + 1 < cfg.epochs;
                    break;
                }
            }
        }
        if let Some((_, params)) = best {
            model.params_mut().copy_from_slice(&params);
        }
        metrics.val_accuracy = self.evaluate(&model, val_idx).1;
        metrics.train_accuracy = self.evaluate(&model, &train_idx).1;
        self.model = Some(model);
        Ok(metrics)
    }

    fn target_of<'a>(&self, s: &'a Sample) -> Target<'a> {
        Target {
            label: s.label,
            teacher: s.teacher.as_deref(),
            alpha: self.config.distillation_alpha,
            temperature: self.config.distillation_temperature,
        }
    }

    /// Mean loss and accuracy of `model` on the samples `idx`.
    fn evaluate(&self, model: &FastGrnn, idx: &[usize]) -> (f32, f32) {
        let mut trace = Trace::default();
        let mut loss = 0.0f64;
        let mut correct = 0usize;
        for &i in idx {
            let s = &self.samples[i];
            loss += loss_and_gradient(model, &s.features, &self.target_of(s), &mut trace, None) as f64;
            let mut scores = vec![0.0; trace.logits.len()];
            scores_of(&trace.logits, 1.0, &mut scores);
            let truth = if scores.len() == 1 { (s.label >= 0.5) as usize } else { s.label as usize };
            correct += (decide(&scores).0 == truth) as usize;
        }
        ((loss / idx.len() as f64) as f32, correct as f32 / idx.len() as f32)
    }
}

/// Adam's moment estimates (one pair per parameter) and its step count.
#[derive(Clone, Debug)]
pub struct Adam {
    m1: Vec<f32>,
    m2: Vec<f32>,
    step: i32,
}

impl Adam {
    /// Zero moments for `n` parameters, before the first step.
    pub fn new(n: usize) -> Adam {
        Adam { m1: vec![0.0; n], m2: vec![0.0; n], step: 0 }
    }

    /// One update of `params` from the summed batch gradient `grad`: per element
    /// `g = scale · grad (+ l2_reg · w for the first `weights` entries, the weights)`, clipped to
    /// `[−grad_clip, grad_clip]`; `m = β1·m + (1 − β1)·g`, `v = β2·v + (1 − β2)·g²`,
    /// `w −= lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)` with `t` the 1-based step count.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], scale: f32, weights: usize, lr: f32, cfg: &TrainingConfig) {
        self.step += 1;
        let (b1, b2) = (cfg.adam_beta1, cfg.adam_beta2);
        let c1 = 1.0 - libm::powf(b1, self.step as f32);
        let c2 = 1.0 - libm::powf(b2, self.step as f32);
        for (j, p) in params.iter_mut().enumerate() {
            let mut g = grad[j] * scale;
            if j < weights {
                g += cfg.l2_reg * *p;
            }
            let g = g.max(-cfg.grad_clip).min(cfg.grad_clip); // element-wise clip (no clamp: its panic path links float formatting)
            self.m1[j] = b1 * self.m1[j] + (1.0 - b1) * g;
            self.m2[j] = b2 * self.m2[j] + (1.0 - b2) * g * g;
            *p -= lr * (self.m1[j] / c1) / (crate::kernels::sqrtf(self.m2[j] / c2) + cfg.adam_epsilon);
        }
    }
}

/// Fisher–Yates shuffle with the trainer's generator.
fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

/// Fraction of `features` rows (each `input_dim · steps` long, given as a list) on which two models
/// choose the same route. Errors if a row is invalid for either model.
pub fn agreement(a: &FastGrnn, b: &FastGrnn, rows: &[Vec<f32>]) -> RouterResult<f32> {
    let mut same = 0usize;
    for row in rows {
        same += (a.route(row)?.route == b.route(row)?.route) as usize;
    }
    Ok(same as f32 / rows.len().max(1) as f32)
}
