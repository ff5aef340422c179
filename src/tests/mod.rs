//! Engine-level tests: the proofs that it learns, EWC++, persistence, and bad input.

mod bad_input;
mod learning;
mod persistence;

use crate::rng::Rng;
use crate::trajectory::normalize;
use crate::{SonaConfig, SonaEngine};
use alloc::vec::Vec;

pub(crate) fn unit(rng: &mut Rng, dim: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
    normalize(&mut v);
    v
}

/// `centre + noise` where the noise has L2 norm about `rel`.
pub(crate) fn noisy(rng: &mut Rng, centre: &[f32], rel: f32) -> Vec<f32> {
    let s = rel / crate::kernels::sqrtf(centre.len() as f32);
    centre.iter().map(|c| c + s * rng.normal()).collect()
}

pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    crate::kernels::Kernels::new(false).cosine(a, b)
}

pub(crate) fn engine(config: SonaConfig, seed: u64) -> SonaEngine {
    SonaEngine::new(config, seed).expect("valid config")
}

/// Planted topics: a query direction and a hidden "good" direction each.
pub(crate) struct Topics {
    pub query: Vec<Vec<f32>>,
    pub good: Vec<Vec<f32>>,
}

impl Topics {
    pub fn new(rng: &mut Rng, n: usize, dim: usize) -> Self {
        Topics { query: (0..n).map(|_| unit(rng, dim)).collect(), good: (0..n).map(|_| unit(rng, dim)).collect() }
    }

    /// One trajectory of topic `t`: two high-reward steps along the good direction, two
    /// low-reward noise steps, in random order; quality 0.8.
    pub fn run(&self, e: &mut SonaEngine, rng: &mut Rng, t: usize) -> u64 {
        let dim = self.query[0].len();
        let id = e.start_trajectory(&noisy(rng, &self.query[t], 0.3)).unwrap();
        let mut steps: Vec<(Vec<f32>, f32)> = Vec::new();
        for _ in 0..2 {
            steps.push((noisy(rng, &self.good[t], 0.3), 0.9));
            steps.push((unit(rng, dim), 0.1));
        }
        for i in (1..steps.len()).rev() {
            steps.swap(i, rng.below(i + 1));
        }
        for (a, r) in &steps {
            e.add_step(id, a, &[], *r).unwrap();
        }
        e.end_trajectory(id, 0.8).unwrap();
        id
    }
}
