//! SONA (Self-Optimizing Neural Architecture) for WebAssembly.
//!
//! A `no_std` + `alloc` core — trajectories with REINFORCE, MicroLoRA and BaseLoRA adapters, EWC++,
//! a k-means++ ReasoningBank, the three learning loops and a versioned binary state format — with
//! SIMD128 kernels on wasm32 and a thin wasm-bindgen layer (`WasmSonaEngine`) for JavaScript.
// The crate is `no_std` (core + alloc + libm) on wasm32. Native builds link std only so that the
// cdylib has a panic handler and allocator (and for tests); no module uses std.
#![cfg_attr(all(target_arch = "wasm32", not(test), not(feature = "std")), no_std)]
#![forbid(unsafe_op_in_unsafe_fn)]
extern crate alloc;

pub mod config;
pub mod engine;
pub mod error;
pub mod ewc;
pub mod kernels;
pub mod lora;
pub mod persist;
pub mod reasoning_bank;
pub mod rng;
pub mod trajectory;
pub mod types;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(test)]
mod tests;

pub use config::SonaConfig;
pub use engine::{EngineStats, LearnReport, SonaEngine};
pub use error::{PersistError, SonaError};
pub use types::{LearnedPattern, LearningSignal, PatternType, QueryTrajectory, TrajectoryStep};
