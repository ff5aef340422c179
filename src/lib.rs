//! SONA (Self-Optimizing Neural Architecture) for WebAssembly.
//!
//! A `no_std` + `alloc` core — trajectories with REINFORCE, MicroLoRA and BaseLoRA adapters, EWC++,
//! a k-means++ ReasoningBank, the three learning loops and a versioned binary state format — with
//! SIMD128 kernels on wasm32 and a thin wasm-bindgen layer (`WasmSonaEngine`) for JavaScript.
//!
//! | module | concept |
//! |---|---|
//! | [`config`] | `SonaConfig`, the seven presets, validation |
//! | [`types`] | trajectories, steps, learning signals, learned patterns |
//! | [`trajectory`] | REINFORCE with baseline, the bounded trajectory buffer |
//! | [`lora`] | low-rank adapters and their learning rule (Oja down, normalised LMS up) |
//! | [`ewc`] | EWC++: online Fisher, task memory, adaptive λ, boundary detection |
//! | [`reasoning_bank`] | greedy k-means++ + Lloyd, cosine search, merge, decay, prune |
//! | [`engine`] | `SonaEngine`: the instant, background and deep loops; stats |
//! | [`federated`] | `EphemeralAgent`, `AgentExport` (bytes), `FederatedCoordinator` |
//! | [`persist`] | the versioned binary state (magic, version, length, CRC-32) |
//! | [`kernels`] | scalar and SIMD128 twins of every hot loop |
//! | [`rng`] | the engine's seeded generator |
//! | `router` | FastGRNN router: cell, routing head, INT8 quantisation, pruning, bytes |
//! | `router_train` | router training: normalisation, split, BPTT, Adam, distillation, early stopping |
//! | `wasm` (wasm32 without feature `router`) | `WasmSonaEngine` bindings |
//! | `federated_wasm` (wasm32, feature `federated`) | `WasmEphemeralAgent`, `WasmFederatedCoordinator`: the `sona-wasm/federated` module |
//! | `router_wasm` (wasm32, feature `router`) | `FastGrnnRouter`, `RouterTrainer`: the separate router module |
//!
//! ```
//! use sona_wasm::{SonaConfig, SonaEngine};
//! let mut e = SonaEngine::new(SonaConfig { hidden_dim: 8, embedding_dim: 8, ..SonaConfig::default() }, 42).unwrap();
//! let id = e.start_trajectory(&[0.1; 8]).unwrap();
//! e.add_step(id, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[], 0.9).unwrap();
//! e.add_step(id, &[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[], 0.1).unwrap();
//! e.end_trajectory(id, 0.8).unwrap();
//! assert_eq!(e.run_instant_cycle(), 1);
//! let report = e.force_learn(0.0).unwrap();
//! assert_eq!(report.patterns_stored, 1);
//! ```
// The crate is `no_std` (core + alloc + libm) on wasm32. Native builds link std only so that the
// cdylib has a panic handler and allocator (and for tests); no module uses std.
#![cfg_attr(all(target_arch = "wasm32", not(test), not(feature = "std")), no_std)]
#![forbid(unsafe_op_in_unsafe_fn)]
extern crate alloc;

pub mod config;
pub mod engine;
pub mod error;
pub mod ewc;
pub mod federated;
pub mod kernels;
pub mod lora;
pub mod lora_export;
pub mod persist;
pub mod reasoning_bank;
pub mod rng;
// The router is plain core code; on wasm32 it is compiled only into the router module (feature
// `router`), so the SONA module's bytes do not depend on it.
#[cfg(any(feature = "router", not(target_arch = "wasm32"), test))]
pub mod activations;
#[cfg(any(feature = "router", not(target_arch = "wasm32")))]
pub mod router;
#[cfg(any(feature = "router", not(target_arch = "wasm32")))]
pub mod router_train;
pub mod trajectory;
pub mod types;

#[cfg(target_arch = "wasm32")]
mod js_read;
#[cfg(all(target_arch = "wasm32", not(feature = "router")))]
pub mod wasm;
#[cfg(all(target_arch = "wasm32", feature = "router"))]
pub mod router_wasm;
#[cfg(all(target_arch = "wasm32", feature = "federated", not(feature = "router")))]
pub mod federated_wasm;

#[cfg(test)]
mod tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod router_tests;

pub use config::SonaConfig;
pub use engine::{EngineStats, LearnReport, SonaEngine};
pub use error::{PersistError, SonaError};
pub use federated::{AgentExport, AggregationResult, EphemeralAgent, FederatedCoordinator};
#[cfg(any(feature = "router", not(target_arch = "wasm32")))]
pub use router::{FastGrnn, RouteDecision, RouterConfig, RouterError};
#[cfg(any(feature = "router", not(target_arch = "wasm32")))]
pub use router_train::{RouterTrainer, TrainingConfig, TrainingMetrics};
pub use types::{LearnedPattern, LearningSignal, PatternType, QueryTrajectory, TrajectoryStep};
