//! JavaScript bindings of the FastGRNN router (`FastGrnnRouter`, `RouterTrainer`), compiled only
//! with the `router` feature into the separate `router_wasm_bg.wasm` module, so pages that only
//! route never load the SONA engine. Conversion and validation only: the algorithms live in
//! [`crate::router`] and [`crate::router_train`]; core errors become JS `Error`s with the core's
//! message, and a failed call leaves the object unchanged.

use crate::router::{FastGrnn, Num, RouterConfig, Trace};
use crate::router_train::{RouterTrainer as CoreTrainer, TrainingConfig, TrainingMetrics};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Router shape (snake_case as in the seed's `FastGRNNConfig`). */
export interface RouterConfig {
  /** Features per step, 1-1024 (default 5). */
  input_dim: number;
  /** Hidden units, 1-256 (default 8). */
  hidden_dim: number;
  /** 1 = sigmoid routing probability; N in 2-256 = softmax over N routes (default 1). */
  output_dim: number;
  /** Gate scale nu in (0, 100]: gates are sigmoid(nu * a) (default 1). */
  nu: number;
  /** Candidate scale zeta in (0, 100]: the candidate is tanh(zeta * a) (default 1). */
  zeta: number;
  /** Rank of the recurrent matrix W = A·Bᵀ (1..hidden_dim), or null for a full matrix (default 4). */
  rank: number | null;
}

/** Training hyperparameters (names and defaults as in the seed's `TrainingConfig`). */
export interface RouterTrainingConfig {
  /** Adam step size in (0, 1] (default 0.001). */
  learning_rate: number;
  /** Samples per mini-batch, >= 1 (default 32). */
  batch_size: number;
  /** Maximum epochs, 1-100000 (default 100). */
  epochs: number;
  /** Fraction held out for validation, in (0, 0.9] (default 0.2). */
  validation_split: number;
  /** Stop after this many epochs without a validation-loss improvement; null = never (default 10). */
  early_stopping_patience: number | null;
  /** Learning-rate factor every `lr_decay_step` epochs, in (0, 1] (default 0.5). */
  lr_decay: number;
  /** Epochs between decays, >= 1 (default 20). */
  lr_decay_step: number;
  /** Element-wise gradient clip, > 0 (default 5). */
  grad_clip: number;
  /** Adam beta1 in [0, 1) (default 0.9). */
  adam_beta1: number;
  /** Adam beta2 in [0, 1) (default 0.999). */
  adam_beta2: number;
  /** Adam epsilon in (0, 1] (default 1e-8). */
  adam_epsilon: number;
  /** L2 strength on the weights (not the biases), in [0, 1] (default 1e-5). */
  l2_reg: number;
  /** Weight of the distillation loss for samples with a teacher, in [0, 1] (default 0.7). */
  distillation_alpha: number;
  /** Distillation temperature, in [1, 100] (default 3). */
  distillation_temperature: number;
  /** Seed (integer 0..2^32-1) of initialisation, split and shuffling (default 42). */
  seed: number;
}

/** Argument of `new RouterTrainer(config)`: any subset of the router and training fields. */
export type RouterTrainerConfigInput = Partial<RouterConfig> & Partial<RouterTrainingConfig>;

/** Argument of `new FastGrnnRouter(config, seed)`: any subset of the router fields. */
export type RouterConfigInput = Partial<RouterConfig>;

/** What `route()` returns. */
export interface RouteResult {
  /** `[p]` (probability of route 1) for a single-output router, else the softmax over the routes. */
  scores: Float32Array;
  /** Single-output routers only: the probability of route 1. */
  probability?: number;
  /** The chosen route: p >= 0.5 ? 1 : 0 for a single output, else the arg-max. */
  route: number;
  /** Probability of the chosen route. */
  confidence: number;
}

/** `addSample` without a teacher (declaration merging adds this overload to the class). */
export interface RouterTrainer {
  addSample(features: Float32Array | number[], label: number): void;
}

/** What `RouterTrainer.train()` returns. */
export interface RouterTrainingMetrics {
  /** Epochs run. */
  epochs: number;
  /** Mean training loss per epoch (without the L2 term). */
  train_loss: number[];
  /** Validation loss per epoch. */
  val_loss: number[];
  /** Validation accuracy per epoch. */
  val_accuracy_history: number[];
  /** Learning rate of each epoch. */
  learning_rate: number[];
  /** Validation accuracy of the kept model (the epoch with the lowest validation loss). */
  val_accuracy: number;
  /** Training accuracy of the kept model. */
  train_accuracy: number;
  /** Epoch (0-based) whose weights were kept. */
  best_epoch: number;
  /** True when early stopping ended training before `epochs`. */
  stopped_early: boolean;
  train_samples: number;
  val_samples: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// A plain JS object written with `obj[key] = value` (no `Reflect.set` exception wrapper).
    #[wasm_bindgen(extends = Object, typescript_type = "object")]
    type Plain;
    #[wasm_bindgen(method, indexing_setter)]
    fn put_num(this: &Plain, key: &JsValue, value: f64);
    #[wasm_bindgen(method, indexing_setter)]
    fn put_val(this: &Plain, key: &JsValue, value: &JsValue);
}

/// Keys of the `route()` result, created once per router so a call decodes no strings.
const ROUTE_KEYS: [&str; 4] = ["scores", "probability", "route", "confidence"];

fn err(e: crate::router::RouterError) -> JsError {
    JsError::new(&e.to_string())
}

fn msg(m: String) -> JsError {
    JsError::new(&m)
}

const BIG: f64 = 4_294_967_295.0;

/// A JS number that must be an integer in `[0, max]`.
fn integer(what: &str, v: f64, max: f64) -> Result<usize, JsError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= max {
        Ok(v as usize)
    } else {
        Err(msg(format!("{what} must be an integer within [0, {}], got {}", Num(max), Num(v))))
    }
}

fn set(o: &Object, key: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(key), v);
}

fn numbers(v: &[f32]) -> JsValue {
    v.iter().map(|&x| JsValue::from_f64(x as f64)).collect::<Array>().into()
}

/// Applies one config entry to the router or training config; false if the key is unknown.
fn apply_field(key: &str, value: &JsValue, model: &mut RouterConfig, train: Option<&mut TrainingConfig>) -> Result<bool, JsError> {
    let num = || value.as_f64().ok_or_else(|| msg(format!("config field {key} must be a number")));
    let int = || -> Result<usize, JsError> { integer(&format!("config field {key}"), num()?, BIG) };
    let real = || crate::js_read::config_f32(key, num()?);
    match key {
        "input_dim" => model.input_dim = int()?,
        "hidden_dim" => model.hidden_dim = int()?,
        "output_dim" => model.output_dim = int()?,
        "nu" => model.nu = real()?,
        "zeta" => model.zeta = real()?,
        "rank" => model.rank = if value.is_null() { None } else { Some(int()?) },
        _ => {
            let Some(t) = train else { return Ok(false) };
            match key {
                "learning_rate" => t.learning_rate = real()?,
                "batch_size" => t.batch_size = int()?,
                "epochs" => t.epochs = int()?,
                "validation_split" => t.validation_split = real()?,
                "early_stopping_patience" => t.early_stopping_patience = if value.is_null() { None } else { Some(int()?) },
                "lr_decay" => t.lr_decay = real()?,
                "lr_decay_step" => t.lr_decay_step = int()?,
                "grad_clip" => t.grad_clip = real()?,
                "adam_beta1" => t.adam_beta1 = real()?,
                "adam_beta2" => t.adam_beta2 = real()?,
                "adam_epsilon" => t.adam_epsilon = real()?,
                "l2_reg" => t.l2_reg = real()?,
                "distillation_alpha" => t.distillation_alpha = real()?,
                "distillation_temperature" => t.distillation_temperature = real()?,
                "seed" => t.seed = int()? as u64,
                _ => return Ok(false),
            }
        }
    }
    Ok(true)
}

/// Reads a config object (undefined/null = defaults); unknown fields are errors. What the object's
/// own code (a getter, a proxy trap) throws comes back as the error, as thrown (see
/// [`crate::js_read`]).
fn parse_config(obj: &JsValue, what: &str, mut train: Option<&mut TrainingConfig>) -> Result<RouterConfig, JsValue> {
    let mut model = RouterConfig::default();
    for (key, value) in crate::js_read::fields(&crate::js_read::config_entries(obj, what)?) {
        if !apply_field(&key, &value, &mut model, train.as_deref_mut())? {
            return Err(msg(format!("unknown config field \"{key}\"")).into());
        }
    }
    Ok(model)
}

fn config_object(c: &RouterConfig) -> JsValue {
    let o = Object::new();
    set(&o, "input_dim", &JsValue::from_f64(c.input_dim as f64));
    set(&o, "hidden_dim", &JsValue::from_f64(c.hidden_dim as f64));
    set(&o, "output_dim", &JsValue::from_f64(c.output_dim as f64));
    set(&o, "nu", &JsValue::from_f64(c.nu as f64));
    set(&o, "zeta", &JsValue::from_f64(c.zeta as f64));
    set(&o, "rank", &c.rank.map_or(JsValue::NULL, |r| JsValue::from_f64(r as f64)));
    o.into()
}

fn metrics_object(m: &TrainingMetrics) -> JsValue {
    let o = Object::new();
    set(&o, "epochs", &JsValue::from_f64(m.epochs as f64));
    set(&o, "train_loss", &numbers(&m.train_loss));
    set(&o, "val_loss", &numbers(&m.val_loss));
    set(&o, "val_accuracy_history", &numbers(&m.val_accuracy_history));
    set(&o, "learning_rate", &numbers(&m.learning_rate));
    set(&o, "val_accuracy", &JsValue::from_f64(m.val_accuracy as f64));
    set(&o, "train_accuracy", &JsValue::from_f64(m.train_accuracy as f64));
    set(&o, "best_epoch", &JsValue::from_f64(m.best_epoch as f64));
    set(&o, "stopped_early", &JsValue::from_bool(m.stopped_early));
    set(&o, "train_samples", &JsValue::from_f64(m.train_samples as f64));
    set(&o, "val_samples", &JsValue::from_f64(m.val_samples as f64));
    o.into()
}

/// A FastGRNN routing model (the seed's Tiny Dancer cell): feature vector (or a sequence of them)
/// in, routing scores, route and confidence out. Methods throw a JS `Error` naming the problem on
/// bad input and leave the model unchanged.
#[wasm_bindgen]
pub struct FastGrnnRouter {
    model: FastGrnn,
    trace: Trace,
    scores: Vec<f32>,
    keys: Vec<JsValue>,
    /// The features staged by `router_fast.js` (grown to the longest sequence seen).
    stage: Vec<f32>,
    /// The last `_routeStaged` answer: confidence, then the scores (`output_dim + 1` floats, a
    /// fixed address for the router's lifetime).
    out: Vec<f32>,
}

impl FastGrnnRouter {
    fn wrap(model: FastGrnn) -> FastGrnnRouter {
        let n = model.config().output_dim;
        FastGrnnRouter {
            model,
            trace: Trace::default(),
            scores: alloc::vec![0.0; n],
            keys: ROUTE_KEYS.iter().map(|k| JsValue::from_str(k)).collect(),
            stage: Vec::new(),
            out: alloc::vec![0.0; n + 1],
        }
    }
}

#[wasm_bindgen]
impl FastGrnnRouter {
    /// A new, untrained router with seeded random weights (Xavier-uniform) and identity feature
    /// normalisation. `config` is any subset of the router fields; `seed` defaults to 0.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "RouterConfigInput | null")] config: Option<JsValue>, seed: Option<f64>) -> Result<FastGrnnRouter, JsValue> {
        let c = parse_config(&config.unwrap_or(JsValue::UNDEFINED), "new FastGrnnRouter", None)?;
        let seed = integer("seed", seed.unwrap_or(0.0), BIG)? as u64;
        Ok(FastGrnnRouter::wrap(FastGrnn::new(c, seed).map_err(err)?))
    }

    /// Loads a router saved with `toBytes()` (header, version, length and CRC-32 are checked).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<FastGrnnRouter, JsError> {
        Ok(FastGrnnRouter::wrap(FastGrnn::from_bytes(bytes).map_err(err)?))
    }

    /// Routes `features`: `input_dim` values (one step) or `k · input_dim` values (a sequence of
    /// `k` steps), raw — the stored normalisation is applied. Throws on a wrong length or NaN/∞.
    #[wasm_bindgen(unchecked_return_type = "RouteResult")]
    pub fn route(&mut self, #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] features: &[f32]) -> Result<JsValue, JsError> {
        let (route, confidence) = self.model.route_into(features, &mut self.trace, &mut self.scores).map_err(err)?;
        let o: Plain = Object::new().unchecked_into();
        let k = &self.keys;
        o.put_val(&k[0], &Float32Array::from(&self.scores[..]));
        if self.scores.len() == 1 {
            o.put_num(&k[1], self.scores[0] as f64);
        }
        o.put_num(&k[2], route as f64);
        o.put_num(&k[3], confidence as f64);
        Ok(o.into())
    }

    /// Internal (`router_fast.js`): a view of the staging area, grown to at least `len` floats —
    /// or left as it was, a shorter view, when wasm memory cannot hold `len` floats (an allocation
    /// failure in `resize` would trap with this router borrowed, breaking it for good). Valid
    /// until the next `_stage` call that grows it or until wasm memory grows (the view detaches).
    #[wasm_bindgen(js_name = _stage, skip_typescript)]
    pub fn stage(&mut self, len: u32) -> Float32Array {
        let more = (len as usize).saturating_sub(self.stage.len());
        if more > 0 && self.stage.try_reserve_exact(more).is_ok() {
            self.stage.resize(len as usize, 0.0);
        }
        // SAFETY: only `router_fast.js` holds this view and writes through it between calls.
        unsafe { Float32Array::view(&self.stage) }
    }

    /// Internal (`router_fast.js`): routes the first `len` staged floats; the confidence and the
    /// scores go to `_routeOut()`. Returns the route, or -1 (nothing written) on bad input — the
    /// caller then repeats the call through `route`, which throws the named error. A plain status
    /// instead of a `Result`, which wasm-bindgen returns as two values (a new JS array per call).
    #[wasm_bindgen(js_name = _routeStaged, skip_typescript)]
    pub fn route_staged(&mut self, len: u32) -> i32 {
        let Some(features) = self.stage.get(..len as usize) else { return -1 };
        let (confidence_slot, scores) = self.out.split_at_mut(1);
        match self.model.route_into(features, &mut self.trace, scores) {
            Ok((route, confidence)) => {
                confidence_slot[0] = confidence;
                route as i32
            }
            Err(_) => -1,
        }
    }

    /// Internal (`router_fast.js`): a view of the last `_routeStaged` answer (confidence, then the
    /// `output_dim` scores); fixed for the router's lifetime, detached when wasm memory grows.
    #[wasm_bindgen(js_name = _routeOut, skip_typescript)]
    pub fn route_out(&self) -> Float32Array {
        // SAFETY: `out` is never resized; JS reads the view right after `_routeStaged`.
        unsafe { Float32Array::view(&self.out) }
    }

    /// Allocation-free routing for hot loops: writes the scores into `scores` (a `Float32Array` of
    /// `output_dim` values) and returns the chosen route.
    #[wasm_bindgen(js_name = routeInto)]
    pub fn route_into(&mut self, features: &[f32], scores: &mut [f32]) -> Result<u32, JsError> {
        Ok(self.model.route_into(features, &mut self.trace, scores).map_err(err)?.0 as u32)
    }

    /// The serialised model: versioned, CRC-32-checked bytes (INT8 weights when quantised).
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Uint8Array {
        Uint8Array::from(&self.model.to_bytes()[..])
    }

    /// Quantises the weights to INT8 with one symmetric scale per tensor (biases stay f32);
    /// a smaller `toBytes()`: about 3.6x at 64 features and 32 hidden units, 2.4x for a 5-8-4
    /// router, whose biases and header weigh more. Idempotent.
    pub fn quantize(&mut self) {
        self.model.quantize();
    }

    /// Magnitude pruning: zeroes the smallest `sparsity` fraction (in [0, 1)) of every weight tensor.
    pub fn prune(&mut self, sparsity: f64) -> Result<(), JsError> {
        self.model.prune(sparsity as f32).map_err(err)
    }

    /// Sets the feature normalisation applied before the cell: `(x - mean) / std`, `input_dim`
    /// values each, `std` > 0. A trained router already carries its training data's mean/std.
    #[wasm_bindgen(js_name = setNormalization)]
    pub fn set_normalization(&mut self, mean: &[f32], std: &[f32]) -> Result<(), JsError> {
        self.model.set_normalization(mean, std).map_err(err)
    }

    /// The feature means used for normalisation.
    #[wasm_bindgen(getter, js_name = featureMean)]
    pub fn feature_mean(&self) -> Float32Array {
        Float32Array::from(self.model.normalization().0)
    }

    /// The feature standard deviations used for normalisation.
    #[wasm_bindgen(getter, js_name = featureStd)]
    pub fn feature_std(&self) -> Float32Array {
        Float32Array::from(self.model.normalization().1)
    }

    /// The router's configuration.
    #[wasm_bindgen(unchecked_return_type = "RouterConfig")]
    pub fn config(&self) -> JsValue {
        config_object(self.model.config())
    }

    /// Number of parameters (weights and biases).
    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> u32 {
        self.model.parameter_count() as u32
    }

    /// Size of `toBytes()` in bytes.
    #[wasm_bindgen(getter, js_name = sizeBytes)]
    pub fn size_bytes(&self) -> u32 {
        self.model.size_bytes() as u32
    }

    /// Whether the weights are INT8-quantised.
    #[wasm_bindgen(getter, js_name = isQuantized)]
    pub fn is_quantized(&self) -> bool {
        self.model.is_quantized()
    }

    /// Fraction of weights (biases excluded) that are exactly zero.
    #[wasm_bindgen(getter)]
    pub fn sparsity(&self) -> f64 {
        self.model.sparsity() as f64
    }

    /// All parameters in storage order (weights W_r, W_u, W_c, W or A then B, W_out; then biases
    /// b_r, b_u, b_c, b_out), for inspection or a reference implementation.
    pub fn parameters(&self) -> Float32Array {
        Float32Array::from(self.model.params())
    }
}

/// Collects labelled samples and trains a `FastGrnnRouter` (z-score normalisation, train/validation
/// split, mini-batch Adam with BPTT, L2, gradient clipping, step LR decay, early stopping,
/// optional knowledge distillation from teacher probabilities).
#[wasm_bindgen]
pub struct RouterTrainer {
    trainer: CoreTrainer,
}

#[wasm_bindgen]
impl RouterTrainer {
    /// A trainer; `config` is any subset of the router fields and the training fields.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "RouterTrainerConfigInput")] config: JsValue) -> Result<RouterTrainer, JsValue> {
        let mut train = TrainingConfig::default();
        let model = parse_config(&config, "new RouterTrainer", Some(&mut train))?;
        Ok(RouterTrainer { trainer: CoreTrainer::new(model, train).map_err(err)? })
    }

    /// Adds a sample: raw features (`k · input_dim` values), the label (single output: target
    /// probability of route 1 in [0, 1]; N outputs: the route index), and optionally the teacher's
    /// probability (single output) or probabilities (`output_dim` values) for distillation.
    #[wasm_bindgen(js_name = addSample)]
    pub fn add_sample(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] features: &[f32],
        label: f64,
        #[wasm_bindgen(unchecked_param_type = "number | Float32Array | number[] | null")] teacher: Option<JsValue>,
    ) -> Result<(), JsError> {
        let teacher = teacher.unwrap_or(JsValue::UNDEFINED);
        let teacher: Option<Vec<f32>> = if teacher.is_undefined() || teacher.is_null() {
            None
        } else if let Some(p) = teacher.as_f64() {
            Some(alloc::vec![p as f32])
        } else if teacher.is_instance_of::<Float32Array>() || Array::is_array(&teacher) {
            Some(Float32Array::new(&teacher).to_vec())
        } else {
            return Err(msg("teacher probabilities must be a number, an array or a Float32Array".to_string()));
        };
        self.trainer.add_sample(features, label as f32, teacher.as_deref()).map_err(err)
    }

    /// Number of samples added.
    #[wasm_bindgen(getter, js_name = sampleCount)]
    pub fn sample_count(&self) -> u32 {
        self.trainer.sample_count() as u32
    }

    /// Trains a fresh model on all samples (deterministic for a given seed) and returns the
    /// per-epoch history; the best model (lowest validation loss) is kept for `model()`.
    #[wasm_bindgen(unchecked_return_type = "RouterTrainingMetrics")]
    pub fn train(&mut self) -> Result<JsValue, JsError> {
        Ok(metrics_object(&self.trainer.train().map_err(err)?))
    }

    /// A copy of the last trained model. Throws before the first successful `train()`.
    pub fn model(&self) -> Result<FastGrnnRouter, JsError> {
        match self.trainer.model() {
            Some(m) => Ok(FastGrnnRouter::wrap(m.clone())),
            None => Err(msg("no trained model yet: call train() first".to_string())),
        }
    }
}
