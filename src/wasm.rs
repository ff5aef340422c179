//! JavaScript bindings (`WasmSonaEngine`). Conversion and validation only: every argument is
//! checked here or in the core, core errors become JS `Error`s with the core's message, and no
//! algorithm lives in this file.

use crate::config::{SonaConfig, PRESET_NAMES};
use crate::engine::SonaEngine;
use crate::engine::{EngineStats, LearnReport};
use crate::error::{FloatText, SonaError};
use crate::types::LearnedPattern;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use js_sys::{Array, Float32Array, Object};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Names of the configuration presets (the seed's `SonaConfig` constructors). */
export type SonaPresetName = 'default' | 'max_throughput' | 'max_quality' | 'edge_deployment' | 'batch_processing' | 'for_ephemeral' | 'for_coordinator';

/** Engine configuration (snake_case field names as in the seed). */
export interface SonaConfig {
  /** Width of the hidden state and of step activations. */
  hidden_dim: number;
  /** Width of query embeddings; must equal `hidden_dim` (defaults to it). */
  embedding_dim: number;
  /** MicroLoRA rank, 1-2. */
  micro_lora_rank: number;
  /** BaseLoRA rank, 4-16. */
  base_lora_rank: number;
  /** MicroLoRA learning rate (>= 0): a flush of n samples steps min(rate × n, 0.5) along their mean gradient. */
  micro_lora_lr: number;
  /** BaseLoRA learning rate (>= 0): an epoch over n samples steps min(rate × n, 0.5) along their mean gradient. */
  base_lora_lr: number;
  /** Initial EWC++ lambda: 0 turns EWC++ off, otherwise within [100, 15000]. The penalty's pull
   * back is applied at min(base_lora_lr, 3e-4) per sample: above that rate, BaseLoRA's data steps
   * grow with the rate and the pull does not (at 1e-3 it weighs like 0.3 × lambda). */
  ewc_lambda: number;
  /** k-means clusters per background cycle and ReasoningBank capacity. */
  pattern_clusters: number;
  /** Finished trajectories kept for the background loop (oldest dropped when full). */
  trajectory_capacity: number;
  /** `tick()` runs a background cycle when this many ms passed since the last one. */
  background_interval_ms: number;
  /** Trajectories below this quality (in [0, 1]) are not learned from. */
  quality_threshold: number;
  /** SIMD128 kernels when true, scalar kernels when false. */
  enable_simd: boolean;
  /** Number of BaseLoRA layers (1-64). */
  base_lora_layers: number;
  /** MicroLoRA flushes automatically after this many learned trajectories (0 = manual only). */
  micro_flush_interval: number;
}

/** Argument of `WasmSonaEngine.withConfig`: any subset of the fields, plus an optional preset and seed. */
export interface SonaConfigInput extends Partial<SonaConfig> {
  /** Start from this preset instead of the defaults; the other fields override it. */
  preset?: SonaPresetName;
  /** Seed (integer 0..2^32-1) for all randomness; random when omitted. */
  seed?: number;
}

/** Engine statistics (`stats()` / `getStats()`). */
export interface SonaStats {
  trajectories_started: number;
  trajectories_completed: number;
  /** Ended trajectories that passed the quality threshold and fed the instant loop. */
  trajectories_learned: number;
  /** Ended trajectories below the quality threshold. */
  trajectories_filtered: number;
  /** Ended while learning was disabled. */
  trajectories_skipped: number;
  steps_recorded: number;
  /** MicroLoRA flushes that applied at least one sample. */
  instant_cycles: number;
  micro_samples_applied: number;
  background_cycles: number;
  deep_consolidations: number;
  feedback_count: number;
  trajectories_open: number;
  trajectories_buffered: number;
  /** Trajectories dropped because the buffer was full. */
  trajectories_dropped: number;
  patterns_stored: number;
  /** MicroLoRA samples accumulated but not yet applied. */
  micro_pending: number;
  micro_lora_norm: number;
  base_lora_norm: number;
  base_lora_loss: number;
  ewc_tasks: number;
  ewc_lambda: number;
  ewc_task_boundaries: number;
  mean_reward: number;
  /** Engine clock (ms) of the last background cycle. */
  last_background_ms?: number;
  enabled: boolean;
  simd: boolean;
}

/** What `forceLearn()` did. */
export interface SonaLearnReport {
  trajectories_used: number;
  clusters_formed: number;
  patterns_merged: number;
  patterns_pruned: number;
  patterns_evicted: number;
  patterns_stored: number;
  lloyd_iterations: number;
  base_loss_before: number;
  base_loss_after: number;
  ewc_penalty: number;
  task_boundary: boolean;
  ewc_tasks: number;
  ewc_lambda: number;
  micro_samples_flushed: number;
}

/** A learned pattern (the seed's `LearnedPattern` fields, plus `direction` and `similarity`). */
export interface SonaPattern {
  id: number;
  /** Mean of the member trajectories' unit query embeddings (a view; the results of one call share a buffer). */
  centroid: Float32Array;
  /** Quality-weighted mean REINFORCE direction of the members (unit length; a view like `centroid`). */
  direction: Float32Array;
  cluster_size: number;
  total_weight: number;
  avg_quality: number;
  /** Engine clock in ms. */
  created_at: number;
  last_accessed: number;
  access_count: number;
  pattern_type: 'general' | 'reasoning' | 'factual' | 'creative' | 'codegen' | 'conversational';
  /** Cosine similarity to the query. */
  similarity: number;
}

/** A stored pattern as `getPatterns()` lists it: a `SonaPattern` without a query, so no `similarity`. */
export type SonaStoredPattern = Omit<SonaPattern, 'similarity'>;
"#;

#[wasm_bindgen]
extern "C" {
    /// A plain JS object written with `obj[key] = value` (no `Reflect.set`, no exception wrapper,
    /// numbers passed as f64 without allocating a JS value).
    #[wasm_bindgen(extends = Object, typescript_type = "object")]
    pub(crate) type Plain;
    #[wasm_bindgen(method, indexing_setter)]
    pub(crate) fn put_num(this: &Plain, key: &JsValue, value: f64);
    #[wasm_bindgen(method, indexing_setter)]
    pub(crate) fn put_val(this: &Plain, key: &JsValue, value: &JsValue);
}

pub(crate) fn plain() -> Plain {
    Object::new().unchecked_into()
}

/// Installs the panic hook once, when the module is instantiated.
#[cfg(not(test))]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

pub(crate) fn err(e: SonaError) -> JsError {
    JsError::new(&e.to_string())
}

fn msg(m: String) -> JsError {
    JsError::new(&m)
}

/// A constructor's numeric argument: wasm-bindgen would convert `'16'`, `true` or `null` to a
/// number silently (and throw a TypeError for a BigInt), so it arrives as a `JsValue`.
pub(crate) fn number_arg(what: &str, v: &JsValue) -> Result<f64, JsError> {
    v.as_f64().ok_or_else(|| msg(format!("{what} must be a number")))
}

/// A JS number that must be an integer in `[0, max]`.
pub(crate) fn integer(what: &str, v: f64, max: f64) -> Result<u64, JsError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= max {
        Ok(v as u64)
    } else {
        Err(msg(format!("{what} must be an integer within [0, {}], got {}", FloatText(max), FloatText(v))))
    }
}

/// A constructor's `hiddenDim` for a config `preset` used with `hidden_dim = embedding_dim`: an
/// integer from the preset's `base_lora_rank` (hidden_dim ≥ rank) up to what its trajectory buffer
/// and BaseLoRA size limits allow (see `SonaConfig::validate`), at most `MAX_HIDDEN_DIM`; `which`
/// names the preset in the error.
pub(crate) fn preset_dim(hidden_dim: &JsValue, preset: &SonaConfig, which: &str) -> Result<usize, JsError> {
    use crate::config::{MAX_BASE_LORA_PARAMS, MAX_BUFFER_FLOATS, MAX_HIDDEN_DIM};
    let min = preset.base_lora_rank;
    let max = MAX_HIDDEN_DIM
        .min(MAX_BUFFER_FLOATS / (2 * preset.trajectory_capacity))
        .min(MAX_BASE_LORA_PARAMS / (2 * preset.base_lora_rank * preset.base_lora_layers));
    let v = number_arg("hiddenDim", hidden_dim)?;
    if !(v.fract() == 0.0 && v >= min as f64 && v <= max as f64) {
        return Err(msg(format!("hiddenDim must be an integer within [{min}, {max}] with {which}, got {}", FloatText(v))));
    }
    Ok(v as usize)
}

fn id_arg(v: f64) -> Result<u64, JsError> {
    integer("trajectory id", v, 9_007_199_254_740_991.0)
}

/// The seed of an engine, agent or coordinator created without one: 32 bits from
/// `crypto.getRandomValues` (getrandom's `wasm_js` backend: browsers, workers, Deno, workerd, Node
/// 19+). Where there is no Web Crypto global (Node 18), the clock and a count of the seeds drawn so
/// far in this module instead, so objects created in the same millisecond still differ.
pub(crate) fn random_seed() -> u64 {
    use core::sync::atomic::{AtomicU32, Ordering};
    static DRAWN: AtomicU32 = AtomicU32::new(0);
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_ok() {
        return u32::from_le_bytes(b) as u64;
    }
    let drawn = DRAWN.fetch_add(1, Ordering::Relaxed) as u64;
    // A clock that fails or is not a number counts as 0 (`as` maps NaN to 0).
    (crate::js_read::now_ms().unwrap_or(0.0) as u64) ^ drawn.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

pub(crate) fn num(o: &Plain, key: &str, v: f64) {
    o.put_num(&JsValue::from_str(key), v);
}

pub(crate) fn flag(o: &Plain, key: &str, v: bool) {
    o.put_val(&JsValue::from_str(key), &JsValue::from_bool(v));
}

fn config_object(c: &SonaConfig) -> JsValue {
    let o = plain();
    num(&o, "hidden_dim", c.hidden_dim as f64);
    num(&o, "embedding_dim", c.embedding_dim as f64);
    num(&o, "micro_lora_rank", c.micro_lora_rank as f64);
    num(&o, "base_lora_rank", c.base_lora_rank as f64);
    num(&o, "micro_lora_lr", c.micro_lora_lr as f64);
    num(&o, "base_lora_lr", c.base_lora_lr as f64);
    num(&o, "ewc_lambda", c.ewc_lambda as f64);
    num(&o, "pattern_clusters", c.pattern_clusters as f64);
    num(&o, "trajectory_capacity", c.trajectory_capacity as f64);
    num(&o, "background_interval_ms", c.background_interval_ms as f64);
    num(&o, "quality_threshold", c.quality_threshold as f64);
    flag(&o, "enable_simd", c.enable_simd);
    num(&o, "base_lora_layers", c.base_lora_layers as f64);
    num(&o, "micro_flush_interval", c.micro_flush_interval as f64);
    o.into()
}

pub(crate) fn stats_object(s: &EngineStats) -> JsValue {
    let o = plain();
    let c = &s.counters;
    num(&o, "trajectories_started", c.trajectories_started as f64);
    num(&o, "trajectories_completed", c.trajectories_completed as f64);
    num(&o, "trajectories_learned", c.trajectories_learned as f64);
    num(&o, "trajectories_filtered", c.trajectories_filtered as f64);
    num(&o, "trajectories_skipped", c.trajectories_skipped as f64);
    num(&o, "steps_recorded", c.steps_recorded as f64);
    num(&o, "instant_cycles", c.instant_cycles as f64);
    num(&o, "micro_samples_applied", c.micro_samples_applied as f64);
    num(&o, "background_cycles", c.background_cycles as f64);
    num(&o, "deep_consolidations", c.deep_consolidations as f64);
    num(&o, "feedback_count", c.feedback_count as f64);
    num(&o, "trajectories_open", s.trajectories_open as f64);
    num(&o, "trajectories_buffered", s.trajectories_buffered as f64);
    num(&o, "trajectories_dropped", s.trajectories_dropped as f64);
    num(&o, "patterns_stored", s.patterns_stored as f64);
    num(&o, "micro_pending", s.micro_pending as f64);
    num(&o, "micro_lora_norm", s.micro_lora_norm as f64);
    num(&o, "base_lora_norm", s.base_lora_norm as f64);
    num(&o, "base_lora_loss", s.base_lora_loss as f64);
    num(&o, "ewc_tasks", s.ewc_tasks as f64);
    num(&o, "ewc_lambda", s.ewc_lambda as f64);
    num(&o, "ewc_task_boundaries", s.ewc_task_boundaries as f64);
    num(&o, "mean_reward", s.mean_reward as f64);
    if let Some(t) = s.last_background_ms {
        num(&o, "last_background_ms", t as f64);
    }
    flag(&o, "enabled", s.enabled);
    flag(&o, "simd", s.simd);
    o.into()
}

pub(crate) fn report_object(r: &LearnReport) -> JsValue {
    let o = plain();
    num(&o, "trajectories_used", r.trajectories_used as f64);
    num(&o, "clusters_formed", r.clusters_formed as f64);
    num(&o, "patterns_merged", r.patterns_merged as f64);
    num(&o, "patterns_pruned", r.patterns_pruned as f64);
    num(&o, "patterns_evicted", r.patterns_evicted as f64);
    num(&o, "patterns_stored", r.patterns_stored as f64);
    num(&o, "lloyd_iterations", r.lloyd_iterations as f64);
    num(&o, "base_loss_before", r.base_loss_before as f64);
    num(&o, "base_loss_after", r.base_loss_after as f64);
    num(&o, "ewc_penalty", r.ewc_penalty as f64);
    flag(&o, "task_boundary", r.task_boundary);
    num(&o, "ewc_tasks", r.ewc_tasks as f64);
    num(&o, "ewc_lambda", r.ewc_lambda as f64);
    num(&o, "micro_samples_flushed", r.micro_samples_flushed as f64);
    o.into()
}

/// Keys of the pattern objects, then the six pattern-type names: created once per engine so that
/// `findPatterns` does not decode the same strings from wasm memory on every call.
pub(crate) const PATTERN_KEYS: [&str; 17] = [
    "id",
    "centroid",
    "direction",
    "cluster_size",
    "total_weight",
    "avg_quality",
    "created_at",
    "last_accessed",
    "access_count",
    "pattern_type",
    "similarity",
    "general",
    "reasoning",
    "factual",
    "creative",
    "codegen",
    "conversational",
];

/// One pattern object; `vectors` holds this pattern's centroid then direction (views into one
/// buffer shared by all results of a call: allocating one ArrayBuffer per call instead of two per
/// pattern is most of `findPatterns`' cost).
fn pattern_object(keys: &[JsValue], p: &LearnedPattern, similarity: Option<f32>, vectors: &Float32Array, at: u32) -> JsValue {
    let dim = p.centroid.len() as u32;
    let o = plain();
    o.put_num(&keys[0], p.id as f64);
    o.put_val(&keys[1], &vectors.subarray(at, at + dim));
    o.put_val(&keys[2], &vectors.subarray(at + dim, at + 2 * dim));
    o.put_num(&keys[3], p.cluster_size as f64);
    o.put_num(&keys[4], p.total_weight as f64);
    o.put_num(&keys[5], p.avg_quality as f64);
    o.put_num(&keys[6], p.created_at as f64);
    o.put_num(&keys[7], p.last_accessed as f64);
    o.put_num(&keys[8], p.access_count as f64);
    o.put_val(&keys[9], &keys[11 + p.pattern_type.index() as usize]);
    if let Some(similarity) = similarity {
        o.put_num(&keys[10], similarity as f64);
    }
    o.into()
}

/// Pattern objects (with `similarity` where given), their vectors sharing one buffer.
pub(crate) fn pattern_array(keys: &[JsValue], hits: &[(&LearnedPattern, Option<f32>)]) -> Array {
    let dim = hits.first().map_or(0, |(p, _)| p.centroid.len());
    let mut flat = Vec::with_capacity(hits.len() * 2 * dim);
    for (p, _) in hits {
        flat.extend_from_slice(&p.centroid);
        flat.extend_from_slice(&p.direction);
    }
    let vectors = Float32Array::from(&flat[..]);
    hits.iter().enumerate().map(|(j, (p, s))| pattern_object(keys, p, *s, &vectors, (j * 2 * dim) as u32)).collect()
}

/// Reads the `withConfig` object (undefined/null = defaults): preset first, then every other field
/// overrides it. What the object's own code (a getter, a proxy trap) throws comes back as the
/// error, as thrown (see [`crate::js_read`]).
fn parse_config(obj: &JsValue) -> Result<(SonaConfig, Option<u64>), JsValue> {
    let entries = crate::js_read::config_entries(obj, "withConfig")?;
    let mut config = SonaConfig::default();
    // The preset first (its values are the defaults the other fields override).
    if let Some((_, p)) = crate::js_read::fields(&entries).find(|(key, _)| key == "preset") {
        let name = p.as_string().ok_or_else(|| msg("preset must be a string".to_string()))?;
        config = SonaConfig::preset(&name)
            .ok_or_else(|| msg(format!("unknown preset \"{name}\" (known: {})", PRESET_NAMES.join(", "))))?;
    }
    let mut seed = None;
    let mut embedding_given = false;
    for (key, value) in crate::js_read::fields(&entries) {
        let num = |what: &str| -> Result<f64, JsError> {
            value.as_f64().ok_or_else(|| msg(format!("config field {what} must be a number")))
        };
        let int = |what: &str, max: f64| -> Result<usize, JsError> { Ok(integer(&format!("config field {what}"), num(what)?, max)? as usize) };
        // Every float field here is a rate, λ or threshold, refused below 0 by the config's
        // validation; a negative number too small for an f32 would round to -0 and pass it as 0.
        let real = |what: &str| {
            let v = num(what)?;
            if v < 0.0 && v as f32 == 0.0 {
                return Err(msg(format!("config field {what} is negative, expected a finite number >= 0")));
            }
            crate::js_read::config_f32(what, v)
        };
        const BIG: f64 = 4_294_967_295.0;
        match key.as_str() {
            "preset" => {}
            "seed" => seed = Some(integer("seed", num("seed")?, BIG)?),
            "hidden_dim" => config.hidden_dim = int("hidden_dim", BIG)?,
            "embedding_dim" => {
                config.embedding_dim = int("embedding_dim", BIG)?;
                embedding_given = true;
            }
            "micro_lora_rank" => config.micro_lora_rank = int("micro_lora_rank", BIG)?,
            "base_lora_rank" => config.base_lora_rank = int("base_lora_rank", BIG)?,
            "micro_lora_lr" => config.micro_lora_lr = real("micro_lora_lr")?,
            "base_lora_lr" => config.base_lora_lr = real("base_lora_lr")?,
            "ewc_lambda" => config.ewc_lambda = real("ewc_lambda")?,
            "pattern_clusters" => config.pattern_clusters = int("pattern_clusters", BIG)?,
            "trajectory_capacity" => config.trajectory_capacity = int("trajectory_capacity", BIG)?,
            "background_interval_ms" => config.background_interval_ms = integer("config field background_interval_ms", num("background_interval_ms")?, 9_007_199_254_740_991.0)?,
            "quality_threshold" => config.quality_threshold = real("quality_threshold")?,
            "enable_simd" => {
                config.enable_simd = value.as_bool().ok_or_else(|| msg("config field enable_simd must be a boolean".to_string()))?
            }
            "base_lora_layers" => config.base_lora_layers = int("base_lora_layers", BIG)?,
            "micro_flush_interval" => config.micro_flush_interval = int("micro_flush_interval", BIG)?,
            other => return Err(msg(format!("unknown config field \"{other}\"")).into()),
        }
    }
    if !embedding_given {
        config.embedding_dim = config.hidden_dim;
    }
    config.validate().map_err(err)?;
    Ok((config, seed))
}

/// SONA engine: trajectories → MicroLoRA (instant), ReasoningBank + BaseLoRA (background),
/// EWC++ consolidation (deep). All methods throw a JS `Error` naming the problem on bad input and
/// leave the engine unchanged. Every vector component, reward and score must be finite and within
/// ±1e15 (larger magnitudes could overflow the f32 learning sums).
#[wasm_bindgen]
pub struct WasmSonaEngine {
    engine: SonaEngine,
    pattern_keys: Vec<JsValue>,
    scratch_out: Vec<f32>,
    /// A JS view of `scratch_out`, kept so that `applyLora`/`applyLoraInto` copy the result out
    /// without creating a view per call. Never handed to JS callers; recreated when wasm memory
    /// grew (a detached view has length 0).
    scratch_view: Float32Array,
    /// `inputBuffer()`, `outputBuffer()`, then the two halves of the staging area used by the
    /// package's JS fast paths (`fast.js`), `hidden_dim` floats each, at a fixed address for the
    /// engine's lifetime (JS holds views of it; see [`IoBuffers`]).
    io: IoBuffers,
    /// Per-hit numbers of the last `_findPatternsStaged` call (see [`PATTERN_RECORD`]).
    pattern_meta: Vec<f64>,
    /// The last `_findPatternsStaged` call's hits: centroid then direction, hit after hit (reused,
    /// so a steady caller allocates nothing here).
    pattern_vectors: Vec<f32>,
    /// Where JS finds those two (`_patternHeader()`): the addresses of `pattern_vectors` and
    /// `pattern_meta`, rewritten by each call (growing a Vec may move it). Boxed: a fixed address
    /// for the engine's lifetime.
    pattern_header: alloc::boxed::Box<[u32; 2]>,
}

/// Numbers per hit in `_patternMeta()`: id, cluster_size, total_weight, avg_quality, created_at,
/// last_accessed, access_count, pattern-type index (order of `SonaPattern.pattern_type`'s names),
/// similarity.
const PATTERN_RECORD: usize = 9;

/// The input/output buffers behind `inputBuffer()`/`outputBuffer()`. JS may keep a view after
/// `free()`, so this memory never goes back to the general allocator (a stale write could
/// corrupt an unrelated allocation): a dropped engine's buffers go to [`IO_POOL`] and are only
/// ever reused as another engine's I/O buffers, where a stale write is just a wrong input.
struct IoBuffers(Vec<f32>);

/// Recycled [`IoBuffers`] storage (wasm32 without threads: one thread only).
struct IoPool(core::cell::UnsafeCell<Vec<Vec<f32>>>);
// SAFETY: this module is only built for wasm32 without threads, so there is a single thread.
unsafe impl Sync for IoPool {}
static IO_POOL: IoPool = IoPool(core::cell::UnsafeCell::new(Vec::new()));

impl IoBuffers {
    fn new(dim: usize) -> Self {
        // SAFETY: single-threaded, and no reference into the pool outlives this statement.
        let pool = unsafe { &mut *IO_POOL.0.get() };
        match pool.iter().position(|v| v.len() == 4 * dim) {
            Some(i) => {
                let mut v = pool.swap_remove(i);
                v.iter_mut().for_each(|x| *x = 0.0);
                IoBuffers(v)
            }
            None => IoBuffers(alloc::vec![0.0; 4 * dim]),
        }
    }
}

impl Drop for IoBuffers {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        let pool = unsafe { &mut *IO_POOL.0.get() };
        pool.push(core::mem::take(&mut self.0));
    }
}

impl WasmSonaEngine {
    fn wrap(engine: SonaEngine) -> Self {
        let dim = engine.config().hidden_dim;
        WasmSonaEngine {
            engine,
            pattern_keys: PATTERN_KEYS.iter().map(|k| JsValue::from_str(k)).collect(),
            scratch_out: alloc::vec![0.0; dim],
            scratch_view: Float32Array::new_with_length(0),
            io: IoBuffers::new(dim),
            pattern_meta: Vec::new(),
            pattern_vectors: Vec::new(),
            pattern_header: alloc::boxed::Box::new([0; 2]),
        }
    }

    /// The view of `scratch_out` (see the field), fresh if memory grew since it was made.
    fn scratch_view(&mut self) -> &Float32Array {
        if self.scratch_view.length() as usize != self.scratch_out.len() {
            // SAFETY: the view aliases `scratch_out`, which is never reallocated while the engine
            // lives and the view is dropped with the engine; JS code never sees it (only copies
            // made by `slice`/`set` leave this module), and a memory growth, which would detach
            // it, is detected by the length check above.
            self.scratch_view = unsafe { Float32Array::view(&self.scratch_out) };
        }
        &self.scratch_view
    }
}

#[wasm_bindgen]
impl WasmSonaEngine {
    /// Engine with the default configuration and `hidden_dim = embedding_dim = hiddenDim`, seeded
    /// randomly. `hiddenDim` is an integer in 8..=3355: at least the default `base_lora_rank` (8),
    /// and small enough for the default trajectory buffer (`2 · hidden_dim · 10000` floats at most
    /// 2^26); use `withConfig` for other sizes.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = "hiddenDim", unchecked_param_type = "number")] hidden_dim: JsValue) -> Result<WasmSonaEngine, JsError> {
        let d = SonaConfig::default();
        let dim = preset_dim(
            &hidden_dim,
            &d,
            "the default config (withConfig takes other sizes, e.g. with a smaller base_lora_rank or trajectory_capacity)",
        )?;
        let config = SonaConfig { hidden_dim: dim, embedding_dim: dim, ..d };
        Ok(Self::wrap(SonaEngine::new(config, random_seed()).map_err(err)?))
    }

    /// Engine from a config object: the seed's snake_case fields (missing fields take the
    /// defaults, or the `preset`'s values; `embedding_dim` defaults to `hidden_dim`), an optional
    /// `preset` name and an optional integer `seed`. Unknown fields throw an error naming them.
    #[wasm_bindgen(js_name = withConfig)]
    pub fn with_config(#[wasm_bindgen(unchecked_param_type = "SonaConfigInput")] config: JsValue) -> Result<WasmSonaEngine, JsValue> {
        let (config, seed) = parse_config(&config)?;
        Ok(Self::wrap(SonaEngine::new(config, seed.unwrap_or_else(random_seed)).map_err(err)?))
    }

    /// Engine from a named preset (see `presets()`), optionally seeded.
    #[wasm_bindgen(js_name = fromPreset)]
    pub fn from_preset(#[wasm_bindgen(unchecked_param_type = "SonaPresetName")] name: &str, seed: Option<f64>) -> Result<WasmSonaEngine, JsError> {
        let config = SonaConfig::preset(name)
            .ok_or_else(|| msg(format!("unknown preset \"{name}\" (known: {})", PRESET_NAMES.join(", "))))?;
        let seed = match seed {
            Some(s) => integer("seed", s, 4_294_967_295.0)?,
            None => random_seed(),
        };
        Ok(Self::wrap(SonaEngine::new(config, seed).map_err(err)?))
    }

    /// Names of the configuration presets.
    #[wasm_bindgen(unchecked_return_type = "SonaPresetName[]")]
    pub fn presets() -> Array {
        PRESET_NAMES.iter().map(|n| JsValue::from_str(n)).collect()
    }

    /// Opens a trajectory for a query embedding (`embedding_dim` floats) and returns its id.
    #[wasm_bindgen(js_name = startTrajectory)]
    pub fn start_trajectory(&mut self, #[wasm_bindgen(js_name = "queryEmbedding")] query_embedding: &[f32]) -> Result<f64, JsError> {
        self.engine.start_trajectory(query_embedding).map(|id| id as f64).map_err(err)
    }

    /// Records a step by node: the node id (integer 0..2^32-1) selects a fixed pseudo-random
    /// unit activation code, the step's reward in the REINFORCE gradient is `score` (within ±1e15)
    /// less `latencyUs × 1e-7` (10 s of latency cost 1.0, floored at −1e15), so of two nodes that
    /// score alike the faster one is learned toward more, and `latencyUs` (>= 0) adds to the
    /// trajectory's latency (kept with the buffered trajectory and saved by `saveState`).
    #[wasm_bindgen(js_name = recordStep)]
    pub fn record_step(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, #[wasm_bindgen(js_name = "nodeId")] node_id: f64, score: f64, #[wasm_bindgen(js_name = "latencyUs")] latency_us: f64) -> Result<(), JsError> {
        let id = id_arg(trajectory_id)?;
        let node = integer("nodeId", node_id, 4_294_967_295.0)? as u32;
        self.engine.record_step(id, node, score as f32, latency_us).map_err(err)
    }

    /// Adds a step: activations (`hidden_dim` floats), attention weights (flattened, at most
    /// `hidden_dim` floats, tiled over the features as gates: weight j gates features j, j+len, …;
    /// pass an empty array for uniform attention) and a reward within ±1e15. Each activation, each
    /// weight and each gated activation (activation × weight) must lie within ±1e15 too.
    #[wasm_bindgen(js_name = addStep)]
    pub fn add_step(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, activations: &[f32], #[wasm_bindgen(js_name = "attentionWeights")] attention_weights: &[f32], reward: f64) -> Result<(), JsError> {
        let id = id_arg(trajectory_id)?;
        self.engine.add_step(id, activations, attention_weights, reward as f32).map_err(err)
    }

    /// Sets the model route of an open trajectory (at most 256 bytes). The route and the context
    /// ids type the pattern the trajectory joins: each text is classified by keyword, ASCII
    /// case-insensitive — `code`, `program`, `sql` → `codegen`; `reason`, `math`, `logic`, `plan`
    /// → `reasoning`; `fact`, `search`, `lookup`, `retriev`, `qa` → `factual`; `creative`,
    /// `story`, `poem`, `write` → `creative`; `chat`, `conv`, `dialog` → `conversational` (the
    /// first that matches, in this order); anything else votes for nothing. A pattern's
    /// `pattern_type` is the type with the most votes over its members' routes and context ids
    /// (a tie goes to the earlier of `reasoning`, `factual`, `creative`, `codegen`,
    /// `conversational`), `general` without votes.
    #[wasm_bindgen(js_name = setTrajectoryRoute)]
    pub fn set_trajectory_route(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, route: &str) -> Result<(), JsError> {
        self.engine.set_trajectory_route(id_arg(trajectory_id)?, route).map_err(err)
    }

    /// Adds a context id to an open trajectory (at most 256 bytes, 64 per trajectory). Each
    /// context id votes for its pattern's `pattern_type` as the route does (see
    /// `setTrajectoryRoute`).
    #[wasm_bindgen(js_name = addTrajectoryContext)]
    pub fn add_trajectory_context(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, #[wasm_bindgen(js_name = "contextId")] context_id: &str) -> Result<(), JsError> {
        self.engine.add_trajectory_context(id_arg(trajectory_id)?, context_id).map_err(err)
    }

    /// Ends a trajectory with its final quality in [0, 1] and runs the instant loop on it.
    #[wasm_bindgen(js_name = endTrajectory)]
    pub fn end_trajectory(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, quality: f64) -> Result<(), JsError> {
        self.engine.end_trajectory(id_arg(trajectory_id)?, quality as f32).map_err(err)
    }

    /// Feedback on the most recently ended trajectory: its quality becomes the mean of the old
    /// quality and `quality × (success ? 1 : 0.5) / (1 + latencyMs / 10000)`; if the revised quality
    /// reaches `quality_threshold`, the instant loop learns from it once more (and a trajectory
    /// that had been filtered out is buffered for the background loop). Throws if no trajectory
    /// has ended yet; does nothing while learning is disabled, nor when the most recently ended
    /// trajectory ended while it was (it was not learned from; feedback never revises an earlier
    /// one in its place).
    #[wasm_bindgen(js_name = learnFromFeedback)]
    pub fn learn_from_feedback(&mut self, success: bool, #[wasm_bindgen(js_name = "latencyMs")] latency_ms: f64, quality: f64) -> Result<(), JsError> {
        self.engine.learn_from_feedback(success, latency_ms as f32, quality as f32).map_err(err)
    }

    /// `input + MicroLoRA(input)` as a new Float32Array (`hidden_dim` floats in and out).
    /// Through the package entries the array is a region of a shared 8 KiB slab (like Node's
    /// `Buffer` pool; results over 4 KiB get their own): independent of every other result, but
    /// copy it (`.slice()`) before transferring its `.buffer` to a worker.
    #[wasm_bindgen(js_name = applyLora)]
    pub fn apply_lora(&mut self, input: &[f32]) -> Result<Float32Array, JsError> {
        self.engine.apply_lora_into(input, &mut self.scratch_out).map_err(err)?;
        let dim = self.scratch_out.len() as u32;
        Ok(self.scratch_view().slice(0, dim))
    }

    /// Writes `input + MicroLoRA(input)` into the caller's `output`, a Float32Array of
    /// `hidden_dim` floats: no result array is allocated, `output` is filled in place (and left
    /// untouched on error).
    #[wasm_bindgen(js_name = applyLoraInto)]
    pub fn apply_lora_into(&mut self, input: &[f32], output: &Float32Array) -> Result<(), JsError> {
        let dim = self.scratch_out.len();
        if output.length() as usize != dim {
            return Err(err(SonaError::DimensionMismatch { what: "output", expected: dim, got: output.length() as usize }));
        }
        self.engine.apply_lora_into(input, &mut self.scratch_out).map_err(err)?;
        output.set(self.scratch_view(), 0);
        Ok(())
    }

    /// This engine's input buffer: a `Float32Array` view of `hidden_dim` floats inside wasm
    /// memory, read by `applyLoraBuffers()`. Write the input into it in place (`buf.set(x)`), then
    /// call `applyLoraBuffers()`: nothing is allocated or copied across the boundary per call.
    /// The buffer's address is fixed for the engine's lifetime, but when wasm memory grows (any
    /// call that allocates may grow it) existing views detach and read as `length === 0`: fetch
    /// a new view then (`if (buf.length === 0) buf = engine.inputBuffer()`). Do not use views
    /// after `free()`.
    #[wasm_bindgen(js_name = inputBuffer)]
    pub fn input_buffer(&self) -> Float32Array {
        let dim = self.scratch_out.len();
        // SAFETY: the view aliases `self.io` (never reallocated, never returned to the allocator);
        // it is handed to JS immediately, no Rust allocation happens before that.
        unsafe { Float32Array::view(&self.io.0[..dim]) }
    }

    /// This engine's output buffer (a view like `inputBuffer()`, with the same caveats), written
    /// by `applyLoraBuffers()`.
    #[wasm_bindgen(js_name = outputBuffer)]
    pub fn output_buffer(&self) -> Float32Array {
        let dim = self.scratch_out.len();
        // SAFETY: as in `input_buffer`.
        unsafe { Float32Array::view(&self.io.0[dim..2 * dim]) }
    }

    /// Internal (used by the package's `fast.js`, not part of the API): a view of the staging
    /// area, `2 × hidden_dim` floats, where the JS layer writes a call's vectors instead of
    /// letting wasm-bindgen allocate, copy and free them per call. Same caveats as `inputBuffer()`.
    #[wasm_bindgen(js_name = _stage, skip_typescript)]
    pub fn stage(&self) -> Float32Array {
        let dim = self.scratch_out.len();
        // SAFETY: as in `input_buffer`.
        unsafe { Float32Array::view(&self.io.0[2 * dim..]) }
    }

    /// The staging area's two halves: `(first, second)`, `hidden_dim` floats each.
    fn staged(&mut self) -> (&mut SonaEngine, &[f32], &mut [f32]) {
        let dim = self.scratch_out.len();
        let (first, second) = self.io.0[2 * dim..].split_at_mut(dim);
        (&mut self.engine, first, second)
    }

    // The staged exports below answer with a plain status instead of throwing: a `Result` makes
    // wasm-bindgen return two values, which V8 hands to JS as a new array on every call. On
    // `false` (or -1) nothing changed, and `fast.js` repeats the call through the wasm-bindgen
    // method, which throws the named error.

    /// Internal (`fast.js`): `applyLora` of the stage's first half into its second half; false
    /// (output untouched) on bad input.
    #[wasm_bindgen(js_name = _applyLoraStaged, skip_typescript)]
    pub fn apply_lora_staged(&mut self) -> bool {
        let (engine, input, output) = self.staged();
        engine.apply_lora_into(input, output).is_ok()
    }

    /// Internal (`fast.js`): `applyLoraBuffers` as a status (false: bad input, output untouched).
    #[wasm_bindgen(js_name = _applyLoraBuffersOk, skip_typescript)]
    pub fn apply_lora_buffers_ok(&mut self) -> bool {
        let dim = self.scratch_out.len();
        let (input, output) = self.io.0[..2 * dim].split_at_mut(dim);
        self.engine.apply_lora_into(input, output).is_ok()
    }

    /// Internal (`fast.js`): `startTrajectory` with the stage's first half as the query; -1
    /// (nothing started) on bad input.
    #[wasm_bindgen(js_name = _startTrajectoryStaged, skip_typescript)]
    pub fn start_trajectory_staged(&mut self) -> f64 {
        let (engine, query, _) = self.staged();
        engine.start_trajectory(query).map_or(-1.0, |id| id as f64)
    }

    /// Internal (`fast.js`): `addStep` with the stage's first half as the activations and the
    /// first `attention_len` floats of its second half as the attention weights; false (nothing
    /// recorded) on bad input.
    #[wasm_bindgen(js_name = _addStepStaged, skip_typescript)]
    pub fn add_step_staged(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, attention_len: u32, reward: f64) -> bool {
        let Ok(id) = id_arg(trajectory_id) else { return false };
        let (engine, activations, attention) = self.staged();
        let n = (attention_len as usize).min(attention.len());
        engine.add_step(id, activations, &attention[..n], reward as f32).is_ok()
    }

    /// Internal (`fast.js`): `endTrajectory` as a status (false: bad input, nothing changed).
    #[wasm_bindgen(js_name = _endTrajectoryOk, skip_typescript)]
    pub fn end_trajectory_ok(&mut self, #[wasm_bindgen(js_name = "trajectoryId")] trajectory_id: f64, quality: f64) -> bool {
        let Ok(id) = id_arg(trajectory_id) else { return false };
        self.engine.end_trajectory(id, quality as f32).is_ok()
    }

    /// Internal (`fast.js`): `findPatterns` with the stage's first half as the query, at `now_ms`
    /// (the caller's `Date.now()`). Returns the number of hits, -1 (nothing changed) on bad input.
    /// The hits' centroid then direction, hit after hit, are left in wasm memory, and their other
    /// fields (`PATTERN_RECORD` numbers per hit) next to them; `_patternHeader()` says where.
    /// Both stay valid until the next call into this module.
    #[wasm_bindgen(js_name = _findPatternsStaged, skip_typescript)]
    pub fn find_patterns_staged(&mut self, k: f64, #[wasm_bindgen(js_name = "nowMs")] now_ms: f64) -> i32 {
        let Ok(k) = integer("k", k, 4_294_967_295.0) else { return -1 };
        let (engine, query, _) = self.staged();
        let Ok(hits) = engine.find_pattern_indices(query, k as usize, now_ms) else { return -1 };
        let patterns = self.engine.patterns();
        self.pattern_vectors.clear();
        self.pattern_meta.clear();
        for &(i, s) in &hits {
            let p = &patterns[i];
            self.pattern_vectors.extend_from_slice(&p.centroid);
            self.pattern_vectors.extend_from_slice(&p.direction);
            self.pattern_meta.extend_from_slice(&[
                p.id as f64,
                p.cluster_size as f64,
                p.total_weight as f64,
                p.avg_quality as f64,
                p.created_at as f64,
                p.last_accessed as f64,
                p.access_count as f64,
                p.pattern_type.index() as f64,
                s as f64,
            ]);
        }
        debug_assert_eq!(self.pattern_meta.len(), hits.len() * PATTERN_RECORD);
        // wasm32: addresses fit u32.
        *self.pattern_header = [self.pattern_vectors.as_ptr() as usize as u32, self.pattern_meta.as_ptr() as usize as u32];
        hits.len() as i32
    }

    /// Internal (`fast.js`): a view of the two addresses `_findPatternsStaged` leaves (vectors,
    /// numbers); fixed for the engine's lifetime (a view detaches only when memory grows).
    #[wasm_bindgen(js_name = _patternHeader, skip_typescript)]
    pub fn pattern_header(&self) -> js_sys::Uint32Array {
        // SAFETY: the box lives as long as the engine and is never reallocated; JS reads the view
        // (and the memory it points to) only between calls that rewrite it, as with `_stage`.
        unsafe { js_sys::Uint32Array::view(&self.pattern_header[..]) }
    }

    /// Zero-copy `applyLora`: writes `input + MicroLoRA(input)` into `outputBuffer()`, reading
    /// `inputBuffer()`. Throws if the input holds a non-finite value (the output is then left
    /// untouched).
    #[wasm_bindgen(js_name = applyLoraBuffers)]
    pub fn apply_lora_buffers(&mut self) -> Result<(), JsError> {
        let dim = self.scratch_out.len();
        let (input, output) = self.io.0[..2 * dim].split_at_mut(dim);
        self.engine.apply_lora_into(input, output).map_err(err)
    }

    /// `input + BaseLoRA_layer(input)` for one layer (0-based, < `base_lora_layers`).
    #[wasm_bindgen(js_name = applyLoraLayer)]
    pub fn apply_lora_layer(&self, layer: f64, input: &[f32]) -> Result<Vec<f32>, JsError> {
        let l = integer("layer", layer, 4_294_967_295.0)? as usize;
        self.engine.apply_lora_layer(l, input).map_err(err)
    }

    /// Applies the accumulated MicroLoRA update now; returns how many samples it held.
    #[wasm_bindgen(js_name = runInstantCycle)]
    pub fn run_instant_cycle(&mut self) -> u32 {
        self.engine.run_instant_cycle()
    }

    /// Runs a background cycle if `background_interval_ms` passed since the last one, using
    /// `Date.now()`; the first call starts the clock. Returns whether a cycle ran.
    pub fn tick(&mut self) -> Result<bool, JsValue> {
        let now = crate::js_read::now_ms()?;
        Ok(self.engine.tick(now).map_err(err)?)
    }

    /// `tick()` with an explicit clock in milliseconds (for tests, and hosts such as workerd whose
    /// clock only advances on I/O).
    #[wasm_bindgen(js_name = tickAt)]
    pub fn tick_at(&mut self, #[wasm_bindgen(js_name = "nowMs")] now_ms: f64) -> Result<bool, JsError> {
        self.engine.tick(now_ms).map_err(err)
    }

    /// Deep consolidation now: flush MicroLoRA, cluster the buffered trajectories, train BaseLoRA,
    /// consolidate an EWC++ task. Returns what it did.
    #[wasm_bindgen(js_name = forceLearn, unchecked_return_type = "SonaLearnReport")]
    pub fn force_learn(&mut self) -> Result<JsValue, JsValue> {
        let now = crate::js_read::now_ms()?;
        let report = self.engine.force_learn(now).map_err(err)?;
        Ok(report_object(&report))
    }

    /// Statistics as a plain object.
    #[wasm_bindgen(unchecked_return_type = "SonaStats")]
    pub fn stats(&self) -> JsValue {
        stats_object(&self.engine.stats())
    }

    /// Alias of `stats()`.
    #[wasm_bindgen(js_name = getStats, unchecked_return_type = "SonaStats")]
    pub fn get_stats(&self) -> JsValue {
        self.stats()
    }

    /// The configuration as a plain object. Through the package entries the fields kept as f32
    /// (`micro_lora_lr`, `base_lora_lr`, `ewc_lambda`, `quality_threshold`) are given as the
    /// shortest decimal that rounds to that f32 (0.002 as written, not 0.0020000000949949026).
    #[wasm_bindgen(js_name = getConfig, unchecked_return_type = "SonaConfig")]
    pub fn get_config(&self) -> JsValue {
        config_object(self.engine.config())
    }

    /// Enables or disables learning (disabled: ended trajectories and feedback are not learned
    /// from and `tick` does nothing; `runInstantCycle`, `forceLearn` and all reads still work).
    #[wasm_bindgen(js_name = setEnabled)]
    pub fn set_enabled(&mut self, enabled: bool) {
        self.engine.set_enabled(enabled);
    }

    /// Whether learning is enabled.
    #[wasm_bindgen(js_name = isEnabled)]
    pub fn is_enabled(&self) -> bool {
        self.engine.is_enabled()
    }

    /// The `k` (>= 1) patterns most similar (cosine) to `query`, best first, as plain objects
    /// with the seed's `LearnedPattern` fields; each hit's `access_count`/`last_accessed` update.
    #[wasm_bindgen(js_name = findPatterns, unchecked_return_type = "SonaPattern[]")]
    pub fn find_patterns(&mut self, query: &[f32], k: f64) -> Result<Array, JsValue> {
        let k = integer("k", k, 4_294_967_295.0)? as usize;
        let now = crate::js_read::now_ms()?;
        let hits = self.engine.find_pattern_indices(query, k, now).map_err(err)?;
        let patterns = self.engine.patterns();
        let refs: Vec<(&LearnedPattern, Option<f32>)> = hits.iter().map(|&(i, s)| (&patterns[i], Some(s))).collect();
        Ok(pattern_array(&self.pattern_keys, &refs))
    }

    /// Every stored pattern (the ReasoningBank's contents, in storage order) as plain objects with
    /// `findPatterns`' fields except `similarity`; reading them changes no access statistics
    /// (for inspection, or an export: e.g. JSON lines with `Array.from` of the two vectors).
    #[wasm_bindgen(js_name = getPatterns, unchecked_return_type = "SonaStoredPattern[]")]
    pub fn get_patterns(&self) -> Array {
        let refs: Vec<(&LearnedPattern, Option<f32>)> = self.engine.patterns().iter().map(|p| (p, None)).collect();
        pattern_array(&self.pattern_keys, &refs)
    }

    /// Serialises the whole engine state (versioned binary format with magic, version, length and
    /// CRC-32).
    #[wasm_bindgen(js_name = saveState)]
    pub fn save_state(&self) -> Vec<u8> {
        crate::persist::save(&self.engine)
    }

    /// Restores an engine from `saveState()` bytes; throws on truncated, corrupted, foreign or
    /// wrong-version bytes.
    #[wasm_bindgen(js_name = loadState)]
    pub fn load_state(bytes: &[u8]) -> Result<WasmSonaEngine, JsError> {
        Ok(Self::wrap(crate::persist::load(bytes).map_err(err)?))
    }

    /// The MicroLoRA and BaseLoRA adapters as a SafeTensors file with PEFT's tensor names, for
    /// Python (`safetensors.numpy.load_file`, PyTorch, PEFT) or any SafeTensors reader:
    /// `{prefix}micro_lora.lora_A.weight` (F32 `[micro_lora_rank, hidden_dim]`) and
    /// `.lora_B.weight` (`[hidden_dim, micro_lora_rank]`), and the same pair for each BaseLoRA layer
    /// as `{prefix}base_lora.{i}.…`; `applyLora(x)` is `x + (lora_alpha / r) · B (A x)` with the
    /// micro pair (`applyLoraLayer(i, x)` with layer i's), `lora_alpha` = 1. The header's
    /// `__metadata__` holds `format` "pt", `lora_alpha`, `hidden_dim`, `micro_lora_rank`,
    /// `base_lora_rank` and `base_lora_layers` as strings. `prefix` defaults to
    /// `"base_model.model."`; at most 256 bytes. Pending (not yet flushed) updates are not included.
    #[wasm_bindgen(js_name = exportLora)]
    pub fn export_lora(&self, prefix: Option<String>) -> Result<Vec<u8>, JsError> {
        crate::lora_export::export_lora(&self.engine, prefix.as_deref()).map_err(err)
    }

    /// `hidden_dim` of this engine.
    #[wasm_bindgen(getter, js_name = hiddenDim)]
    pub fn hidden_dim(&self) -> u32 {
        self.engine.config().hidden_dim as u32
    }
}
