//! FastGRNN router (Tiny Dancer): a tiny gated recurrent cell plus an output head that turns a
//! feature vector (or a short sequence of them) into a routing decision.
//!
//! The cell follows the seed's "FastGRNN Training Pipeline Guide" (Tiny Dancer):
//!
//! ```text
//! x̂_t = (x_t − mean) / std                      z-score normalisation stored in the model
//! r_t = σ(ν · (W_r x̂_t + b_r))                  reset gate   (σ scaled by nu)
//! u_t = σ(ν · (W_u x̂_t + b_u))                  update gate
//! c_t = tanh(ζ · (W_c x̂_t + W (r_t ⊙ h_t−1) + b_c))   candidate (tanh scaled by zeta)
//! h_t = u_t ⊙ h_t−1 + (1 − u_t) ⊙ c_t           hidden state, h_0 = 0
//! o   = W_out h_T + b_out                       logits
//! ```
//!
//! With `output_dim == 1` the head is a sigmoid routing probability (route 1 when p ≥ 0.5); with
//! `output_dim = N > 1` it is a softmax over N routes. The recurrent matrix `W` (hidden × hidden) is
//! optionally low rank, `W = A·Bᵀ` with `A`, `B` of shape hidden × rank (the seed's `rank: Some(4)`).
//! `nu` and `zeta` are fixed configuration scalars, as in the seed's `FastGRNNConfig`.
//!
//! A feature slice of length `input_dim` is one step; a slice of length `k · input_dim` is a
//! sequence of `k` steps (1 ≤ k ≤ [`MAX_STEPS`]).
//!
//! All parameters live in one flat vector ([`Layout`] gives the offsets), which keeps Adam, gradient
//! clipping, L2, INT8 quantisation (per-tensor symmetric scale) and magnitude pruning simple.
//! A quantised model keeps the dequantised values `q · scale` for computing and stores the `i8`
//! codes when serialised, so a saved quantised model decides exactly like the one in memory.
//!
//! Byte format ([`FastGrnn::to_bytes`]):
//!
//! ```text
//! offset  size  field
//! 0       8     magic "FGRNNRT1"
//! 8       4     format version (u32 LE), currently 1
//! 12      4     payload length (u32 LE)
//! 16      4     CRC-32 (IEEE) of the payload (u32 LE)
//! 20      n     payload: input_dim, hidden_dim, output_dim, rank (0 = full) as u16; nu, zeta as f32;
//!               flags u8 (bit 0 = quantised); mean[input_dim], std[input_dim] as f32; then per
//!               weight tensor either f32 values or (f32 scale, i8 codes); then the biases as f32.
//! ```

use crate::activations;
use crate::persist::crc32;
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Magic bytes at offset 0 of a serialised router.
pub const ROUTER_MAGIC: [u8; 8] = *b"FGRNNRT1";
/// Current router format version.
pub const ROUTER_VERSION: u32 = 1;
/// Header size in bytes.
pub const ROUTER_HEADER_LEN: usize = 20;
/// Largest accepted `input_dim`.
pub const MAX_INPUT_DIM: usize = 1024;
/// Largest accepted `hidden_dim`.
pub const MAX_HIDDEN_DIM: usize = 256;
/// Largest accepted `output_dim` (number of routes).
pub const MAX_OUTPUT_DIM: usize = 256;
/// Longest accepted input sequence, in steps.
pub const MAX_STEPS: usize = 4096;

/// Why a router operation failed. Operations that fail leave the model unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum RouterError {
    /// A configuration field is out of its documented range.
    InvalidConfig { field: &'static str, reason: &'static str },
    /// A feature slice whose length is not a positive multiple of `input_dim` (or too many steps).
    BadFeatureLength { input_dim: usize, got: usize },
    /// A vector has the wrong length.
    DimensionMismatch { what: &'static str, expected: usize, got: usize },
    /// A vector contains NaN or an infinity at `index`.
    NonFinite { what: &'static str, index: usize },
    /// A scalar is NaN, infinite or outside its range.
    InvalidValue { what: &'static str, value: f64, expected: &'static str },
    /// Training was asked for with too few samples.
    NotEnoughSamples { needed: usize, got: usize },
    /// Serialised bytes were rejected.
    BadBytes(&'static str),
    /// Serialised bytes failed the checksum.
    ChecksumMismatch { stored: u32, computed: u32 },
    /// Serialised bytes of a format version this build cannot read.
    UnsupportedVersion { found: u32, supported: u32 },
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterError::InvalidConfig { field, reason } => write!(f, "invalid router config: {field} {reason}"),
            RouterError::BadFeatureLength { input_dim, got } => write!(
                f,
                "features have length {got}, expected a positive multiple of input_dim {input_dim} (at most {MAX_STEPS} steps)"
            ),
            RouterError::DimensionMismatch { what, expected, got } => {
                write!(f, "{what} has length {got}, expected {expected}")
            }
            RouterError::NonFinite { what, index } => write!(f, "{what} contains a non-finite value at index {index}"),
            RouterError::InvalidValue { what, value, expected } => {
                write!(f, "{what} is {}, expected {expected}", Num(*value))
            }
            RouterError::NotEnoughSamples { needed, got } => {
                write!(f, "not enough samples: need at least {needed}, got {got}")
            }
            RouterError::BadBytes(what) => write!(f, "not a valid router model: {what}"),
            RouterError::ChecksumMismatch { stored, computed } => write!(
                f,
                "router model bytes are corrupted: checksum {stored:#010x} does not match {computed:#010x}"
            ),
            RouterError::UnsupportedVersion { found, supported } => {
                write!(f, "unsupported router model version {found} (this build reads version {supported})")
            }
        }
    }
}

/// A number for error messages, formatted with integer arithmetic only (up to 6 significant
/// decimals; `NaN`, `Infinity` as in JS) so the router module does not link float formatting.
#[derive(Clone, Copy, Debug)]
pub struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v < 0.0 {
            f.write_str("-")?;
        }
        let a = libm::fabs(v);
        if a.is_infinite() {
            return f.write_str("Infinity");
        }
        if a >= 1e15 {
            return f.write_str("1e15 or more");
        }
        if a != 0.0 && a < 1e-4 {
            // m.mmmmm e-k
            let mut m = a;
            let mut k = 0;
            while m < 1.0 {
                m *= 10.0;
                k += 1;
            }
            return write!(f, "{}e-{k}", Num(libm::round(m * 1e5) / 1e5));
        }
        let scaled = libm::round(a * 1e6) as u64;
        let (int, mut frac) = (scaled / 1_000_000, scaled % 1_000_000);
        write!(f, "{int}")?;
        if frac != 0 {
            let mut digits = 6;
            while frac % 10 == 0 {
                frac /= 10;
                digits -= 1;
            }
            write!(f, ".{frac:0digits$}")?;
        }
        Ok(())
    }
}

/// Result alias of the router.
pub type RouterResult<T> = core::result::Result<T, RouterError>;

/// Shape and activation scales of a FastGRNN router (field names as in the seed's `FastGRNNConfig`).
#[derive(Clone, Debug, PartialEq)]
pub struct RouterConfig {
    /// Features per step, 1..=1024 (the seed uses 5–10).
    pub input_dim: usize,
    /// Hidden units, 1..=256 (the seed uses 8–16).
    pub hidden_dim: usize,
    /// 1 = sigmoid routing probability; N ≥ 2 = softmax over N routes (at most 256).
    pub output_dim: usize,
    /// Gate scale ν > 0: gates are σ(ν·a).
    pub nu: f32,
    /// Candidate scale ζ > 0: the candidate is tanh(ζ·a).
    pub zeta: f32,
    /// Rank of the recurrent matrix `W = A·Bᵀ` (1..=hidden_dim), or `None` for a full matrix.
    pub rank: Option<usize>,
}

impl Default for RouterConfig {
    /// The seed's "optimal configuration": 5 inputs, 8 hidden, 1 output, ν = ζ = 1, rank 4.
    fn default() -> Self {
        RouterConfig { input_dim: 5, hidden_dim: 8, output_dim: 1, nu: 1.0, zeta: 1.0, rank: Some(4) }
    }
}

impl RouterConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> RouterResult<()> {
        let bad = |field, reason| Err(RouterError::InvalidConfig { field, reason });
        if self.input_dim == 0 || self.input_dim > MAX_INPUT_DIM {
            return bad("input_dim", "must be in 1..=1024");
        }
        if self.hidden_dim == 0 || self.hidden_dim > MAX_HIDDEN_DIM {
            return bad("hidden_dim", "must be in 1..=256");
        }
        if self.output_dim == 0 || self.output_dim > MAX_OUTPUT_DIM {
            return bad("output_dim", "must be in 1..=256");
        }
        if !(self.nu.is_finite() && self.nu > 0.0 && self.nu <= 100.0) {
            return bad("nu", "must be finite and in (0, 100]");
        }
        if !(self.zeta.is_finite() && self.zeta > 0.0 && self.zeta <= 100.0) {
            return bad("zeta", "must be finite and in (0, 100]");
        }
        if let Some(r) = self.rank {
            if r == 0 || r > self.hidden_dim {
                return bad("rank", "must be in 1..=hidden_dim (or absent for a full matrix)");
            }
        }
        Ok(())
    }

    /// Number of steps in a feature slice of length `len`, or the error naming the problem.
    pub fn steps_of(&self, len: usize) -> RouterResult<usize> {
        if len == 0 || len % self.input_dim != 0 || len / self.input_dim > MAX_STEPS {
            return Err(RouterError::BadFeatureLength { input_dim: self.input_dim, got: len });
        }
        Ok(len / self.input_dim)
    }
}

/// Offsets of every tensor inside the flat parameter vector.
///
/// Weight tensors (quantised, pruned, L2-regularised) come first, biases last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub input_dim: usize,
    pub hidden_dim: usize,
    pub output_dim: usize,
    /// 0 = full recurrent matrix.
    pub rank: usize,
    /// `W_r`, hidden × input, row-major.
    pub w_r: usize,
    /// `W_u`, hidden × input.
    pub w_u: usize,
    /// `W_c`, hidden × input.
    pub w_c: usize,
    /// Full `W` (hidden × hidden) when `rank == 0`, else `A` (hidden × rank).
    pub rec_a: usize,
    /// `B` (hidden × rank) when low rank; equal to `w_out` otherwise (empty).
    pub rec_b: usize,
    /// `W_out`, output × hidden.
    pub w_out: usize,
    /// Start of the biases: `b_r`, `b_u`, `b_c` (hidden each), `b_out` (output).
    pub b_r: usize,
    pub b_u: usize,
    pub b_c: usize,
    pub b_out: usize,
    /// Total parameter count.
    pub total: usize,
}

impl Layout {
    /// The layout of a (valid) configuration.
    pub fn new(c: &RouterConfig) -> Layout {
        let (d, h, o) = (c.input_dim, c.hidden_dim, c.output_dim);
        let rank = c.rank.unwrap_or(0);
        let w_r = 0;
        let w_u = w_r + h * d;
        let w_c = w_u + h * d;
        let rec_a = w_c + h * d;
        let (rec_b, w_out) = if rank == 0 { (rec_a + h * h, rec_a + h * h) } else { (rec_a + h * rank, rec_a + 2 * h * rank) };
        let b_r = w_out + o * h;
        let b_u = b_r + h;
        let b_c = b_u + h;
        let b_out = b_c + h;
        Layout { input_dim: d, hidden_dim: h, output_dim: o, rank, w_r, w_u, w_c, rec_a, rec_b, w_out, b_r, b_u, b_c, b_out, total: b_out + o }
    }

    /// The weight tensors as `(start, len)`, in storage order (biases excluded).
    pub fn weight_tensors(&self) -> Vec<(usize, usize)> {
        let hd = self.hidden_dim * self.input_dim;
        let mut t = vec![(self.w_r, hd), (self.w_u, hd), (self.w_c, hd)];
        if self.rank == 0 {
            t.push((self.rec_a, self.hidden_dim * self.hidden_dim));
        } else {
            t.push((self.rec_a, self.hidden_dim * self.rank));
            t.push((self.rec_b, self.hidden_dim * self.rank));
        }
        t.push((self.w_out, self.output_dim * self.hidden_dim));
        t
    }

    /// Number of weight (non-bias) parameters.
    pub fn weight_count(&self) -> usize {
        self.b_r
    }
}

/// What [`FastGrnn::route`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteDecision {
    /// `[p]` (sigmoid probability of route 1) when `output_dim == 1`, else the softmax over routes.
    pub scores: Vec<f32>,
    /// The chosen route: `p ≥ 0.5 ? 1 : 0` for one output, else the arg-max (lowest index on ties).
    pub route: usize,
    /// Probability of the chosen route (`max(p, 1 − p)` for one output).
    pub confidence: f32,
}

/// Intermediate values of one forward pass, kept for backpropagation through time.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Normalised inputs, steps × input_dim.
    pub x: Vec<f32>,
    /// Hidden states h_0..h_T, (steps + 1) × hidden.
    pub h: Vec<f32>,
    /// Reset gates, steps × hidden.
    pub r: Vec<f32>,
    /// Update gates, steps × hidden.
    pub u: Vec<f32>,
    /// Candidates, steps × hidden.
    pub c: Vec<f32>,
    /// `Bᵀ (r ⊙ h)` per step, steps × rank (low rank only).
    pub s: Vec<f32>,
    /// Output logits.
    pub logits: Vec<f32>,
    /// Scratch: `r ⊙ h` of the current step (hidden), reused across calls.
    pub g: Vec<f32>,
}

pub use crate::activations::sigmoid;

/// Softmax of `logits` scaled by `1 / temperature`, written into `out`.
pub fn softmax_into(logits: &[f32], temperature: f32, out: &mut [f32]) {
    let mut m = f32::NEG_INFINITY;
    for &z in logits {
        m = m.max(z / temperature);
    }
    let mut sum = 0.0;
    for (o, &z) in out.iter_mut().zip(logits) {
        *o = libm::expf(z / temperature - m);
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Turns logits into routing scores: `[σ(z/T)]` for one output, the softmax otherwise.
pub fn scores_of(logits: &[f32], temperature: f32, out: &mut [f32]) {
    if logits.len() == 1 {
        out[0] = sigmoid(logits[0] / temperature);
    } else {
        softmax_into(logits, temperature, out);
    }
}

/// The route and its confidence from scores.
pub fn decide(scores: &[f32]) -> (usize, f32) {
    if scores.len() == 1 {
        let p = scores[0];
        if p >= 0.5 {
            (1, p)
        } else {
            (0, 1.0 - p)
        }
    } else {
        let mut best = 0;
        for (i, &s) in scores.iter().enumerate() {
            if s > scores[best] {
                best = i;
            }
        }
        (best, scores[best])
    }
}

/// Checks that every value of `v` is finite.
pub fn check_finite(what: &'static str, v: &[f32]) -> RouterResult<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(RouterError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// A FastGRNN routing model: configuration, flat parameters, stored feature normalisation, and
/// the INT8 quantisation state.
#[derive(Clone, Debug, PartialEq)]
pub struct FastGrnn {
    config: RouterConfig,
    layout: Layout,
    params: Vec<f32>,
    mean: Vec<f32>,
    std: Vec<f32>,
    /// Per weight tensor scale when quantised (values are then exactly `q · scale`, q in −127..=127).
    quant_scales: Option<Vec<f32>>,
}

impl FastGrnn {
    /// A new model with seeded Xavier-uniform weights, zero biases and identity normalisation.
    pub fn new(config: RouterConfig, seed: u64) -> RouterResult<FastGrnn> {
        config.validate()?;
        let layout = Layout::new(&config);
        let mut params = vec![0.0; layout.total];
        let mut rng = Rng::new(seed);
        let (d, h, o, r) = (layout.input_dim, layout.hidden_dim, layout.output_dim, layout.rank);
        let mut fill = |start: usize, len: usize, fan_in: usize, fan_out: usize| {
            let limit = crate::kernels::sqrtf(6.0 / (fan_in + fan_out) as f32);
            for p in &mut params[start..start + len] {
                *p = (rng.next_f32() * 2.0 - 1.0) * limit;
            }
        };
        fill(layout.w_r, h * d, d, h);
        fill(layout.w_u, h * d, d, h);
        fill(layout.w_c, h * d, d, h);
        if r == 0 {
            fill(layout.rec_a, h * h, h, h);
        } else {
            fill(layout.rec_a, h * r, r, h);
            fill(layout.rec_b, h * r, h, r);
        }
        fill(layout.w_out, o * h, h, o);
        Ok(FastGrnn { mean: vec![0.0; d], std: vec![1.0; d], config, layout, params, quant_scales: None })
    }

    /// The configuration.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The parameter layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// All parameters (weights then biases, see [`Layout`]).
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// Mutable parameters (training). Writing clears nothing: call [`FastGrnn::mark_float`] if the
    /// values are no longer the quantised grid.
    pub fn params_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }

    /// Forgets the quantisation state (after training changed the weights).
    pub fn mark_float(&mut self) {
        self.quant_scales = None;
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> usize {
        self.layout.total
    }

    /// Whether the weights are INT8-quantised.
    pub fn is_quantized(&self) -> bool {
        self.quant_scales.is_some()
    }

    /// Fraction of weight (non-bias) parameters that are exactly zero.
    pub fn sparsity(&self) -> f32 {
        let n = self.layout.weight_count();
        self.params[..n].iter().filter(|&&w| w == 0.0).count() as f32 / n as f32
    }

    /// Feature means and standard deviations used to normalise inputs.
    pub fn normalization(&self) -> (&[f32], &[f32]) {
        (&self.mean, &self.std)
    }

    /// Sets the feature normalisation (`std` entries must be finite and > 0).
    pub fn set_normalization(&mut self, mean: &[f32], std: &[f32]) -> RouterResult<()> {
        let d = self.layout.input_dim;
        if mean.len() != d {
            return Err(RouterError::DimensionMismatch { what: "mean", expected: d, got: mean.len() });
        }
        if std.len() != d {
            return Err(RouterError::DimensionMismatch { what: "std", expected: d, got: std.len() });
        }
        check_finite("mean", mean)?;
        check_finite("std", std)?;
        if let Some(&s) = std.iter().find(|&&s| s <= 0.0) {
            return Err(RouterError::InvalidValue { what: "std entry", value: s as f64, expected: "> 0" });
        }
        self.mean.copy_from_slice(mean);
        self.std.copy_from_slice(std);
        Ok(())
    }

    /// Validates a feature slice and returns its number of steps.
    pub fn check_features(&self, features: &[f32]) -> RouterResult<usize> {
        let steps = self.config.steps_of(features.len())?;
        check_finite("features", features)?;
        Ok(steps)
    }

    /// Forward pass over already validated features, filling `trace` (buffers are reused).
    pub fn forward_into(&self, features: &[f32], trace: &mut Trace) {
        let l = &self.layout;
        let (d, h, r) = (l.input_dim, l.hidden_dim, l.rank);
        let steps = features.len() / d;
        let p = &self.params;
        let (nu, zeta) = (self.config.nu, self.config.zeta);
        trace.x.clear();
        for (i, &v) in features.iter().enumerate() {
            trace.x.push((v - self.mean[i % d]) / self.std[i % d]);
        }
        trace.h.clear();
        trace.h.resize((steps + 1) * h, 0.0);
        for buf in [&mut trace.r, &mut trace.u, &mut trace.c] {
            buf.clear();
            buf.resize(steps * h, 0.0);
        }
        trace.s.clear();
        trace.s.resize(steps * r, 0.0);
        let mut g = core::mem::take(&mut trace.g);
        g.clear();
        g.resize(h, 0.0);
        for t in 0..steps {
            let x = &trace.x[t * d..(t + 1) * d];
            let (hs, rest) = trace.h.split_at_mut((t + 1) * h);
            let h_prev = &hs[t * h..];
            let h_next = &mut rest[..h];
            // Pre-activations first, then the gates over the whole step at once (vectorised).
            let (rs, us) = (&mut trace.r[t * h..(t + 1) * h], &mut trace.u[t * h..(t + 1) * h]);
            for i in 0..h {
                let mut ar = p[l.b_r + i];
                let mut au = p[l.b_u + i];
                let wr = &p[l.w_r + i * d..l.w_r + (i + 1) * d];
                let wu = &p[l.w_u + i * d..l.w_u + (i + 1) * d];
                for k in 0..d {
                    ar += wr[k] * x[k];
                    au += wu[k] * x[k];
                }
                rs[i] = ar;
                us[i] = au;
            }
            activations::sigmoid_scaled(rs, nu);
            activations::sigmoid_scaled(us, nu);
            for i in 0..h {
                g[i] = rs[i] * h_prev[i];
            }
            let s = &mut trace.s[t * r..(t + 1) * r];
            for (k, sk) in s.iter_mut().enumerate() {
                let mut acc = 0.0;
                for j in 0..h {
                    acc += p[l.rec_b + j * r + k] * g[j];
                }
                *sk = acc;
            }
            let cs = &mut trace.c[t * h..(t + 1) * h];
            for i in 0..h {
                let mut ac = p[l.b_c + i];
                let wc = &p[l.w_c + i * d..l.w_c + (i + 1) * d];
                for k in 0..d {
                    ac += wc[k] * x[k];
                }
                if r == 0 {
                    let row = &p[l.rec_a + i * h..l.rec_a + (i + 1) * h];
                    for j in 0..h {
                        ac += row[j] * g[j];
                    }
                } else {
                    let row = &p[l.rec_a + i * r..l.rec_a + (i + 1) * r];
                    for k in 0..r {
                        ac += row[k] * s[k];
                    }
                }
                cs[i] = ac;
            }
            activations::tanh_scaled(cs, zeta);
            for i in 0..h {
                let (u, c) = (trace.u[t * h + i], cs[i]);
                h_next[i] = u * h_prev[i] + (1.0 - u) * c;
            }
        }
        trace.g = g;
        let h_last = &trace.h[steps * h..];
        trace.logits.clear();
        for o in 0..l.output_dim {
            let mut z = p[l.b_out + o];
            let row = &p[l.w_out + o * h..l.w_out + (o + 1) * h];
            for i in 0..h {
                z += row[i] * h_last[i];
            }
            trace.logits.push(z);
        }
    }

    /// The output logits for `features` (validated).
    pub fn logits(&self, features: &[f32]) -> RouterResult<Vec<f32>> {
        self.check_features(features)?;
        let mut trace = Trace::default();
        self.forward_into(features, &mut trace);
        Ok(trace.logits)
    }

    /// Routes `features` (length `k · input_dim`, finite): scores, chosen route and confidence.
    pub fn route(&self, features: &[f32]) -> RouterResult<RouteDecision> {
        let mut scores = vec![0.0; self.layout.output_dim];
        let (route, confidence) = self.route_into(features, &mut Trace::default(), &mut scores)?;
        Ok(RouteDecision { scores, route, confidence })
    }

    /// Allocation-free routing for hot paths: reuses `trace` and writes the scores into `scores`
    /// (length `output_dim`); returns the route and its confidence. On error nothing is written.
    pub fn route_into(&self, features: &[f32], trace: &mut Trace, scores: &mut [f32]) -> RouterResult<(usize, f32)> {
        self.check_features(features)?;
        if scores.len() != self.layout.output_dim {
            return Err(RouterError::DimensionMismatch { what: "scores", expected: self.layout.output_dim, got: scores.len() });
        }
        self.forward_into(features, trace);
        // Finite features can still overflow once normalised (a std near 0, a huge feature):
        // refused before anything is written, instead of NaN scores.
        if let Some(index) = trace.logits.iter().position(|v| !v.is_finite()) {
            return Err(RouterError::NonFinite { what: "the router's output for these features (they overflow once normalised)", index });
        }
        scores_of(&trace.logits, 1.0, scores);
        Ok(decide(scores))
    }

    /// Quantises every weight tensor to INT8 with a symmetric per-tensor scale (`max|w| / 127`).
    /// Biases stay f32. Idempotent: quantising a quantised model changes nothing.
    pub fn quantize(&mut self) {
        if self.quant_scales.is_some() {
            return;
        }
        let mut scales = Vec::new();
        for (start, len) in self.layout.weight_tensors() {
            let t = &mut self.params[start..start + len];
            let max = t.iter().fold(0.0f32, |m, &w| m.max(libm::fabsf(w)));
            // max / 127 underflows to 0 for a subnormal max (the tensor is then all zeros on the
            // grid), and 127 · scale may round past f32::MAX for a max near it: one ulp less then,
            // so that every dequantised weight, and the scale, stays finite and loadable.
            let mut scale = if max / 127.0 > 0.0 { max / 127.0 } else { 1.0 };
            while !(127.0 * scale).is_finite() {
                scale = f32::from_bits(scale.to_bits() - 1);
            }
            for w in t.iter_mut() {
                let q = libm::roundf(*w / scale).clamp(-127.0, 127.0);
                *w = q * scale;
            }
            scales.push(scale);
        }
        self.quant_scales = Some(scales);
    }

    /// Magnitude pruning: in every weight tensor, zeroes the `round(sparsity · len)` entries of
    /// smallest magnitude (ties broken by position). `sparsity` must be in [0, 1).
    /// Works on quantised models too (zero is on the INT8 grid).
    pub fn prune(&mut self, sparsity: f32) -> RouterResult<()> {
        if !(sparsity.is_finite() && (0.0..1.0).contains(&sparsity)) {
            return Err(RouterError::InvalidValue { what: "sparsity", value: sparsity as f64, expected: "in [0, 1)" });
        }
        for (start, len) in self.layout.weight_tensors() {
            let t = &mut self.params[start..start + len];
            let k = libm::roundf(sparsity * len as f32) as usize;
            let mut order: Vec<usize> = (0..len).collect();
            order.sort_by(|&a, &b| libm::fabsf(t[a]).total_cmp(&libm::fabsf(t[b])).then(a.cmp(&b)));
            for &i in &order[..k] {
                t[i] = 0.0;
            }
        }
        Ok(())
    }

    /// Serialised size in bytes (what [`FastGrnn::to_bytes`] returns).
    pub fn size_bytes(&self) -> usize {
        let l = &self.layout;
        let tensors = l.weight_tensors();
        let weights = if self.is_quantized() { tensors.len() * 4 + l.weight_count() } else { l.weight_count() * 4 };
        ROUTER_HEADER_LEN + 8 + 8 + 1 + 8 * l.input_dim + weights + 4 * (l.total - l.weight_count())
    }

    /// Serialises the model (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let l = &self.layout;
        let mut p: Vec<u8> = Vec::with_capacity(self.size_bytes());
        for v in [l.input_dim, l.hidden_dim, l.output_dim, l.rank] {
            p.extend_from_slice(&(v as u16).to_le_bytes());
        }
        p.extend_from_slice(&self.config.nu.to_le_bytes());
        p.extend_from_slice(&self.config.zeta.to_le_bytes());
        p.push(self.is_quantized() as u8);
        for v in self.mean.iter().chain(&self.std) {
            p.extend_from_slice(&v.to_le_bytes());
        }
        for (ti, (start, len)) in l.weight_tensors().into_iter().enumerate() {
            let t = &self.params[start..start + len];
            match &self.quant_scales {
                Some(scales) => {
                    let scale = scales[ti];
                    p.extend_from_slice(&scale.to_le_bytes());
                    for &w in t {
                        p.push(libm::roundf(w / scale) as i8 as u8);
                    }
                }
                None => {
                    for &w in t {
                        p.extend_from_slice(&w.to_le_bytes());
                    }
                }
            }
        }
        for &b in &self.params[l.weight_count()..] {
            p.extend_from_slice(&b.to_le_bytes());
        }
        let mut out = Vec::with_capacity(ROUTER_HEADER_LEN + p.len());
        out.extend_from_slice(&ROUTER_MAGIC);
        out.extend_from_slice(&ROUTER_VERSION.to_le_bytes());
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32(&p).to_le_bytes());
        out.extend_from_slice(&p);
        out
    }

    /// Parses bytes written by [`FastGrnn::to_bytes`], checking header, length, checksum,
    /// configuration, finiteness, normalisation and quantisation scales.
    pub fn from_bytes(bytes: &[u8]) -> RouterResult<FastGrnn> {
        if bytes.len() < ROUTER_HEADER_LEN {
            return Err(RouterError::BadBytes("shorter than the 20-byte header"));
        }
        if bytes[..8] != ROUTER_MAGIC {
            return Err(RouterError::BadBytes("bad magic bytes"));
        }
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let version = word(8);
        if version != ROUTER_VERSION {
            return Err(RouterError::UnsupportedVersion { found: version, supported: ROUTER_VERSION });
        }
        let payload = &bytes[ROUTER_HEADER_LEN..];
        if word(12) as usize != payload.len() {
            return Err(RouterError::BadBytes("payload length does not match the header"));
        }
        let stored = word(16);
        let computed = crc32(payload);
        if stored != computed {
            return Err(RouterError::ChecksumMismatch { stored, computed });
        }
        let mut rd = ByteReader { b: payload, at: 0 };
        let (d, h, o, rank) = (rd.u16()? as usize, rd.u16()? as usize, rd.u16()? as usize, rd.u16()? as usize);
        let (nu, zeta) = (rd.f32()?, rd.f32()?);
        let config = RouterConfig { input_dim: d, hidden_dim: h, output_dim: o, nu, zeta, rank: if rank == 0 { None } else { Some(rank) } };
        config.validate()?;
        let flags = rd.u8()?;
        if flags > 1 {
            return Err(RouterError::BadBytes("unknown flags"));
        }
        let mut model = FastGrnn::new(config, 0)?;
        let mut mean = vec![0.0; d];
        let mut std = vec![0.0; d];
        for v in mean.iter_mut().chain(std.iter_mut()) {
            *v = rd.f32()?;
        }
        model.set_normalization(&mean, &std).map_err(|_| RouterError::BadBytes("invalid normalisation"))?;
        let tensors = model.layout.weight_tensors();
        let mut scales = Vec::new();
        for (start, len) in tensors {
            if flags == 1 {
                let scale = rd.f32()?;
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(RouterError::BadBytes("invalid quantisation scale"));
                }
                for w in &mut model.params[start..start + len] {
                    *w = rd.u8()? as i8 as f32 * scale;
                }
                scales.push(scale);
            } else {
                for w in &mut model.params[start..start + len] {
                    *w = rd.f32()?;
                }
            }
        }
        let wc = model.layout.weight_count();
        for b in &mut model.params[wc..] {
            *b = rd.f32()?;
        }
        if rd.at != payload.len() {
            return Err(RouterError::BadBytes("trailing bytes after the parameters"));
        }
        if model.params.iter().any(|v| !v.is_finite()) {
            return Err(RouterError::BadBytes("non-finite parameter"));
        }
        if flags == 1 {
            model.quant_scales = Some(scales);
        }
        Ok(model)
    }
}

struct ByteReader<'a> {
    b: &'a [u8],
    at: usize,
}

impl ByteReader<'_> {
    fn take<const N: usize>(&mut self) -> RouterResult<[u8; N]> {
        if self.b.len() - self.at < N {
            return Err(RouterError::BadBytes("payload ends early"));
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.b[self.at..self.at + N]);
        self.at += N;
        Ok(out)
    }
    fn u8(&mut self) -> RouterResult<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> RouterResult<u16> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> RouterResult<f32> {
        Ok(f32::from_le_bytes(self.take()?))
    }
}
