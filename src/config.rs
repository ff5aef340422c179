//! `SonaConfig`: the seed's fields and presets, two documented extensions, and validation.

use crate::error::{Result, SonaError};
use serde::{Deserialize, Serialize};

/// Largest accepted `hidden_dim` (keeps a mistyped config from allocating gigabytes).
pub const MAX_HIDDEN_DIM: usize = 8192;
/// Largest accepted `trajectory_capacity`.
pub const MAX_TRAJECTORY_CAPACITY: usize = 1_000_000;
/// Largest accepted `pattern_clusters`.
pub const MAX_PATTERN_CLUSTERS: usize = 4096;
/// Largest accepted `base_lora_layers`.
pub const MAX_BASE_LORA_LAYERS: usize = 64;
/// Most BaseLoRA weights (`2 · hidden_dim · base_lora_rank · base_lora_layers`); EWC++ keeps up to
/// 10 task copies of them plus their Fisher, so this bounds that memory (~80 MB at the limit).
pub const MAX_BASE_LORA_PARAMS: usize = 1 << 20;
/// Most floats the full trajectory buffer may hold (`2 · hidden_dim · trajectory_capacity`:
/// query + gradient per trajectory), i.e. 256 MB.
pub const MAX_BUFFER_FLOATS: usize = 1 << 26;
/// `ewc_lambda` must be 0 (EWC++ off) or within this range; the adaptive λ stays inside it.
pub const EWC_LAMBDA_RANGE: (f32, f32) = (100.0, 15000.0);

/// Engine configuration. Field names are the seed's snake_case names so seed examples work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SonaConfig {
    /// Width of the hidden state the adapters transform (and of step activations).
    pub hidden_dim: usize,
    /// Width of query embeddings. The adapters take the query embedding as their input, so this
    /// must equal `hidden_dim`.
    pub embedding_dim: usize,
    /// MicroLoRA rank, 1–2.
    pub micro_lora_rank: usize,
    /// BaseLoRA rank, 4–16.
    pub base_lora_rank: usize,
    /// MicroLoRA learning rate (≥ 0); a flush of n samples steps `min(rate · n, 0.5)` along their
    /// mean gradient (`lora::flush_step`).
    pub micro_lora_lr: f32,
    /// BaseLoRA learning rate (≥ 0); an epoch over n samples steps `min(rate · n, 0.5)` along their
    /// mean gradient (`lora::flush_step`).
    pub base_lora_lr: f32,
    /// Initial EWC++ λ: 0 disables EWC++, otherwise within [100, 15000].
    pub ewc_lambda: f32,
    /// Number of k-means clusters extracted per background cycle, and the ReasoningBank capacity.
    pub pattern_clusters: usize,
    /// Finished trajectories kept for the background loop; when full the oldest are dropped.
    pub trajectory_capacity: usize,
    /// `tick()` runs a background cycle when this many milliseconds passed since the last one.
    pub background_interval_ms: u64,
    /// Trajectories with a final quality below this (in [0, 1]) are not learned from.
    pub quality_threshold: f32,
    /// `true`: SIMD128 kernels (on wasm32 builds with simd128); `false`: the scalar kernels.
    pub enable_simd: bool,
    /// Extension: number of BaseLoRA layers (1–64). Layer `l` learns what layers `0..l` left unexplained.
    pub base_lora_layers: usize,
    /// Extension: MicroLoRA flushes automatically after this many learned trajectories (0 = only on
    /// `run_instant_cycle`).
    pub micro_flush_interval: usize,
}

impl Default for SonaConfig {
    fn default() -> Self {
        SonaConfig {
            hidden_dim: 256,
            embedding_dim: 256,
            micro_lora_rank: 2,
            base_lora_rank: 8,
            micro_lora_lr: 0.002,
            base_lora_lr: 0.0001,
            ewc_lambda: 2000.0,
            pattern_clusters: 100,
            trajectory_capacity: 10000,
            background_interval_ms: 3_600_000,
            quality_threshold: 0.15,
            enable_simd: true,
            base_lora_layers: 2,
            micro_flush_interval: 16,
        }
    }
}

/// Names of the presets, in the order of [`SonaConfig::preset`].
pub const PRESET_NAMES: [&str; 7] = [
    "default",
    "max_throughput",
    "max_quality",
    "edge_deployment",
    "batch_processing",
    "for_ephemeral",
    "for_coordinator",
];

impl SonaConfig {
    /// A preset by name (see [`PRESET_NAMES`]); `None` for an unknown name.
    pub fn preset(name: &str) -> Option<SonaConfig> {
        Some(match name {
            "default" => SonaConfig::default(),
            "max_throughput" => SonaConfig::max_throughput(),
            "max_quality" => SonaConfig::max_quality(),
            "edge_deployment" => SonaConfig::edge_deployment(),
            "batch_processing" => SonaConfig::batch_processing(),
            "for_ephemeral" => SonaConfig::for_ephemeral(),
            "for_coordinator" => SonaConfig::for_coordinator(),
            _ => return None,
        })
    }

    /// Real-time chat: small base rank, conservative learning, 2-hour background interval.
    pub fn max_throughput() -> Self {
        SonaConfig {
            base_lora_rank: 4,
            micro_lora_lr: 0.0005,
            trajectory_capacity: 5000,
            background_interval_ms: 7_200_000,
            quality_threshold: 0.4,
            ..SonaConfig::default()
        }
    }

    /// Research / batch quality: base rank 16, aggressive base learning, 30-minute interval.
    pub fn max_quality() -> Self {
        SonaConfig {
            base_lora_rank: 16,
            base_lora_lr: 0.001,
            trajectory_capacity: 20000,
            background_interval_ms: 1_800_000,
            quality_threshold: 0.2,
            ..SonaConfig::default()
        }
    }

    /// Edge / mobile: micro rank 1, small buffers.
    pub fn edge_deployment() -> Self {
        SonaConfig {
            micro_lora_rank: 1,
            base_lora_rank: 4,
            micro_lora_lr: 0.001,
            ewc_lambda: 1000.0,
            pattern_clusters: 50,
            trajectory_capacity: 200,
            quality_threshold: 0.5,
            ..SonaConfig::default()
        }
    }

    /// Batch processing (50+ inferences/s).
    pub fn batch_processing() -> Self {
        SonaConfig { micro_lora_lr: 0.001, quality_threshold: 0.3, ..SonaConfig::default() }
    }

    /// Ephemeral federated agent: small base, 1-minute local consolidation.
    pub fn for_ephemeral() -> Self {
        SonaConfig {
            base_lora_rank: 4,
            ewc_lambda: 1000.0,
            pattern_clusters: 50,
            trajectory_capacity: 500,
            background_interval_ms: 60_000,
            quality_threshold: 0.3,
            ..SonaConfig::default()
        }
    }

    /// Federated coordinator: large capacity, base rank 16, 5-minute consolidation.
    pub fn for_coordinator() -> Self {
        SonaConfig {
            base_lora_rank: 16,
            micro_lora_lr: 0.001,
            base_lora_lr: 0.0005,
            pattern_clusters: 200,
            trajectory_capacity: 50000,
            background_interval_ms: 300_000,
            quality_threshold: 0.4,
            ..SonaConfig::default()
        }
    }

    /// Checks every field; the error names the first offending field.
    pub fn validate(&self) -> Result<()> {
        fn bad(field: &'static str, reason: &'static str) -> Result<()> {
            Err(SonaError::InvalidConfig { field, reason })
        }
        if self.hidden_dim == 0 {
            return bad("hidden_dim", "must be at least 1");
        }
        if self.hidden_dim > MAX_HIDDEN_DIM {
            return bad("hidden_dim", "must be at most 8192");
        }
        if self.embedding_dim == 0 {
            return bad("embedding_dim", "must be at least 1");
        }
        if self.embedding_dim != self.hidden_dim {
            return bad("embedding_dim", "must equal hidden_dim (the adapters take the query embedding as input)");
        }
        if self.micro_lora_rank == 0 {
            return bad("micro_lora_rank", "must be at least 1 (allowed: 1-2)");
        }
        if self.micro_lora_rank > 2 {
            return bad("micro_lora_rank", "must be 1 or 2");
        }
        if self.base_lora_rank == 0 {
            return bad("base_lora_rank", "must be at least 4 (allowed: 4-16), got 0");
        }
        if !(4..=16).contains(&self.base_lora_rank) {
            return bad("base_lora_rank", "must be within 4-16");
        }
        if self.base_lora_rank > self.hidden_dim {
            return bad("base_lora_rank", "must not exceed hidden_dim");
        }
        if self.micro_lora_rank > self.hidden_dim {
            return bad("micro_lora_rank", "must not exceed hidden_dim");
        }
        if !self.micro_lora_lr.is_finite() || self.micro_lora_lr < 0.0 {
            return bad("micro_lora_lr", "must be a finite number >= 0");
        }
        if !self.base_lora_lr.is_finite() || self.base_lora_lr < 0.0 {
            return bad("base_lora_lr", "must be a finite number >= 0");
        }
        if !self.ewc_lambda.is_finite() || self.ewc_lambda < 0.0 {
            return bad("ewc_lambda", "must be a finite number >= 0");
        }
        if self.ewc_lambda != 0.0 && (self.ewc_lambda < EWC_LAMBDA_RANGE.0 || self.ewc_lambda > EWC_LAMBDA_RANGE.1) {
            return bad("ewc_lambda", "must be 0 (off) or within [100, 15000]");
        }
        if self.pattern_clusters == 0 {
            return bad("pattern_clusters", "must be at least 1");
        }
        if self.pattern_clusters > MAX_PATTERN_CLUSTERS {
            return bad("pattern_clusters", "must be at most 4096");
        }
        if self.trajectory_capacity == 0 {
            return bad("trajectory_capacity", "must be at least 1");
        }
        if self.trajectory_capacity > MAX_TRAJECTORY_CAPACITY {
            return bad("trajectory_capacity", "must be at most 1000000");
        }
        if !self.quality_threshold.is_finite() || !(0.0..=1.0).contains(&self.quality_threshold) {
            return bad("quality_threshold", "must be a finite number within [0, 1]");
        }
        if self.base_lora_layers == 0 {
            return bad("base_lora_layers", "must be at least 1");
        }
        if self.base_lora_layers > MAX_BASE_LORA_LAYERS {
            return bad("base_lora_layers", "must be at most 64");
        }
        // In u64: these products overflow the 32-bit usize of wasm32 (2 · 8192 · 262144 wrapped
        // to 0), never a u64, as every factor is bounded above (8192, 16, 64, 1,000,000).
        let product = |xs: &[usize]| xs.iter().fold(2u64, |p, &x| p * x as u64);
        if product(&[self.hidden_dim, self.base_lora_rank, self.base_lora_layers]) > MAX_BASE_LORA_PARAMS as u64 {
            return bad("base_lora_layers", "is too large for this hidden_dim and base_lora_rank (2 x hidden_dim x base_lora_rank x base_lora_layers must be at most 1048576)");
        }
        if product(&[self.hidden_dim, self.trajectory_capacity]) > MAX_BUFFER_FLOATS as u64 {
            return bad("trajectory_capacity", "is too large for this hidden_dim (2 x hidden_dim x trajectory_capacity must be at most 67108864)");
        }
        if self.micro_flush_interval > MAX_TRAJECTORY_CAPACITY {
            return bad("micro_flush_interval", "must be at most 1000000");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_has_the_seed_values() {
        for name in PRESET_NAMES {
            SonaConfig::preset(name).unwrap().validate().unwrap();
        }
        assert!(SonaConfig::preset("turbo").is_none());
        let e = SonaConfig::edge_deployment();
        assert_eq!((e.micro_lora_rank, e.base_lora_rank, e.trajectory_capacity, e.pattern_clusters), (1, 4, 200, 50));
        assert_eq!(e.quality_threshold, 0.5);
        let c = SonaConfig::for_coordinator();
        assert_eq!((c.base_lora_rank, c.pattern_clusters, c.trajectory_capacity), (16, 200, 50000));
        assert_eq!(c.background_interval_ms, 300_000);
        let t = SonaConfig::max_throughput();
        assert_eq!((t.base_lora_rank, t.micro_lora_lr, t.background_interval_ms), (4, 0.0005, 7_200_000));
        let q = SonaConfig::max_quality();
        assert_eq!((q.base_lora_rank, q.base_lora_lr, q.trajectory_capacity), (16, 0.001, 20000));
        let f = SonaConfig::for_ephemeral();
        assert_eq!((f.trajectory_capacity, f.background_interval_ms, f.ewc_lambda), (500, 60_000, 1000.0));
        let b = SonaConfig::batch_processing();
        assert_eq!((b.micro_lora_lr, b.quality_threshold), (0.001, 0.3));
        let d = SonaConfig::default();
        assert_eq!((d.hidden_dim, d.micro_lora_rank, d.base_lora_rank, d.pattern_clusters), (256, 2, 8, 100));
        assert_eq!((d.micro_lora_lr, d.ewc_lambda, d.quality_threshold), (0.002, 2000.0, 0.15));
    }

    fn field_of(c: SonaConfig) -> &'static str {
        match c.validate() {
            Err(SonaError::InvalidConfig { field, .. }) => field,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_offending_field() {
        let d = SonaConfig::default;
        assert_eq!(field_of(SonaConfig { hidden_dim: 0, ..d() }), "hidden_dim");
        assert_eq!(field_of(SonaConfig { embedding_dim: 0, ..d() }), "embedding_dim");
        assert_eq!(field_of(SonaConfig { embedding_dim: 128, ..d() }), "embedding_dim");
        assert_eq!(field_of(SonaConfig { micro_lora_rank: 0, ..d() }), "micro_lora_rank");
        assert_eq!(field_of(SonaConfig { micro_lora_rank: 3, ..d() }), "micro_lora_rank");
        assert_eq!(field_of(SonaConfig { base_lora_rank: 0, ..d() }), "base_lora_rank");
        assert_eq!(field_of(SonaConfig { base_lora_rank: 3, ..d() }), "base_lora_rank");
        assert_eq!(field_of(SonaConfig { base_lora_rank: 17, ..d() }), "base_lora_rank");
        assert_eq!(field_of(SonaConfig { micro_lora_lr: f32::NAN, ..d() }), "micro_lora_lr");
        assert_eq!(field_of(SonaConfig { micro_lora_lr: -0.1, ..d() }), "micro_lora_lr");
        assert_eq!(field_of(SonaConfig { base_lora_lr: f32::INFINITY, ..d() }), "base_lora_lr");
        assert_eq!(field_of(SonaConfig { ewc_lambda: -1.0, ..d() }), "ewc_lambda");
        assert_eq!(field_of(SonaConfig { ewc_lambda: 50.0, ..d() }), "ewc_lambda");
        assert_eq!(field_of(SonaConfig { pattern_clusters: 0, ..d() }), "pattern_clusters");
        assert_eq!(field_of(SonaConfig { trajectory_capacity: 0, ..d() }), "trajectory_capacity");
        assert_eq!(field_of(SonaConfig { quality_threshold: 1.5, ..d() }), "quality_threshold");
        assert_eq!(field_of(SonaConfig { base_lora_layers: 0, ..d() }), "base_lora_layers");
        assert_eq!(field_of(SonaConfig { hidden_dim: 8192, embedding_dim: 8192, base_lora_rank: 16, base_lora_layers: 8, ..d() }), "base_lora_layers");
        assert_eq!(field_of(SonaConfig { hidden_dim: 8192, embedding_dim: 8192, trajectory_capacity: 1_000_000, ..d() }), "trajectory_capacity");
        SonaConfig { ewc_lambda: 0.0, micro_flush_interval: 0, ..d() }.validate().unwrap();
    }
}
