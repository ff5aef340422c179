//! Core data types: trajectories and their steps, learning signals, learned patterns.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// One step of a trajectory, borrowed from the caller (no copy is kept: the trajectory folds it into
/// running REINFORCE sums).
#[derive(Clone, Copy, Debug)]
pub struct TrajectoryStep<'a> {
    /// Layer/module activations, `hidden_dim` long.
    pub activations: &'a [f32],
    /// Attention weights (flattened), at most `hidden_dim` long: empty means uniform; otherwise
    /// they are tiled over the features (weight `j` gates features `j, j + len, j + 2·len, …`), so
    /// `hidden_dim` weights gate element-wise and a single weight scales the whole step.
    pub attention_weights: &'a [f32],
    /// Reward of this step (any finite number).
    pub reward: f32,
}

/// An open trajectory. Steps are folded into two running sums so that the REINFORCE gradient
/// `Σ (rᵢ − b)·aᵢ = Σ rᵢaᵢ − b·Σ aᵢ` can be formed at the end without storing the steps.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryTrajectory {
    /// Trajectory id (unique per engine).
    pub id: u64,
    /// Query embedding.
    pub query_embedding: Vec<f32>,
    /// Σ rewardᵢ · activationᵢ, `hidden_dim` long; written by the first step, so its contents
    /// mean nothing while `step_count` is 0.
    pub reward_weighted_sum: Vec<f32>,
    /// Σ activationᵢ, `hidden_dim` long; as `reward_weighted_sum`, meaningful once a step exists.
    pub activation_sum: Vec<f32>,
    /// Σ rewardᵢ.
    pub reward_sum: f64,
    /// Number of steps.
    pub step_count: u32,
    /// Σ latency of the recorded steps, microseconds.
    pub latency_us: u64,
    /// Model route taken, if set.
    pub model_route: Option<String>,
    /// Context ids used.
    pub context_ids: Vec<String>,
}

impl QueryTrajectory {
    /// A new open trajectory (no steps yet) over `dim = query_embedding.len()` features.
    pub fn new(id: u64, query_embedding: Vec<f32>) -> Self {
        let dim = query_embedding.len();
        QueryTrajectory {
            id,
            query_embedding,
            reward_weighted_sum: alloc::vec![0.0; dim],
            activation_sum: alloc::vec![0.0; dim],
            reward_sum: 0.0,
            step_count: 0,
            latency_us: 0,
            model_route: None,
            context_ids: Vec::new(),
        }
    }

    /// Mean step reward, or `None` without steps.
    pub fn avg_reward(&self) -> Option<f32> {
        (self.step_count > 0).then(|| (self.reward_sum / self.step_count as f64) as f32)
    }
}

/// A finished trajectory reduced to what learning needs: the query, the REINFORCE direction and
/// the quality. This is what the trajectory buffer holds.
#[derive(Clone, Debug, PartialEq)]
pub struct LearningSignal {
    /// Source trajectory id.
    pub trajectory_id: u64,
    /// Query embedding.
    pub query_embedding: Vec<f32>,
    /// L2-normalised REINFORCE direction (all zeros when the rewards carried no advantage).
    pub gradient_estimate: Vec<f32>,
    /// Final quality in [0, 1] (revised by feedback).
    pub quality_score: f32,
    /// Number of steps.
    pub step_count: u32,
    /// Total latency, microseconds.
    pub latency_us: u64,
    /// Model route taken.
    pub model_route: Option<String>,
    /// Context ids.
    pub context_ids: Vec<String>,
}

/// Pattern classification, derived from the member trajectories' routes and context ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternType {
    /// No keyword matched.
    #[default]
    General,
    /// Route/context mentions "reason", "math", "logic" or "plan".
    Reasoning,
    /// Mentions "fact", "search", "lookup", "retriev" or "qa".
    Factual,
    /// Mentions "creative", "story", "poem" or "write".
    Creative,
    /// Mentions "code", "program" or "sql".
    CodeGen,
    /// Mentions "chat", "conv" or "dialog".
    Conversational,
}

impl PatternType {
    /// All types, indexed by [`PatternType::index`].
    pub const ALL: [PatternType; 6] = [
        PatternType::General,
        PatternType::Reasoning,
        PatternType::Factual,
        PatternType::Creative,
        PatternType::CodeGen,
        PatternType::Conversational,
    ];

    /// Stable index (used by persistence).
    pub fn index(self) -> u8 {
        self as u8
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PatternType::General => "general",
            PatternType::Reasoning => "reasoning",
            PatternType::Factual => "factual",
            PatternType::Creative => "creative",
            PatternType::CodeGen => "codegen",
            PatternType::Conversational => "conversational",
        }
    }

    /// Classifies one route or context string by keyword (ASCII case-insensitive).
    pub fn classify(text: &str) -> PatternType {
        const RULES: [(PatternType, &[&str]); 5] = [
            (PatternType::CodeGen, &["code", "program", "sql"]),
            (PatternType::Reasoning, &["reason", "math", "logic", "plan"]),
            (PatternType::Factual, &["fact", "search", "lookup", "retriev", "qa"]),
            (PatternType::Creative, &["creative", "story", "poem", "write"]),
            (PatternType::Conversational, &["chat", "conv", "dialog"]),
        ];
        let hay = text.as_bytes();
        let contains = |w: &str| hay.windows(w.len()).any(|win| win.eq_ignore_ascii_case(w.as_bytes()));
        for (kind, words) in RULES {
            if words.iter().any(|w| contains(w)) {
                return kind;
            }
        }
        PatternType::General
    }
}

/// A pattern learned by clustering trajectories (the seed's `LearnedPattern`, plus `direction`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnedPattern {
    /// Pattern id (unique per engine).
    pub id: u64,
    /// Cluster centroid (mean of the members' unit-length query embeddings).
    pub centroid: Vec<f32>,
    /// Quality-weighted mean REINFORCE direction of the members, unit length (or zero).
    pub direction: Vec<f32>,
    /// Number of member trajectories.
    pub cluster_size: u32,
    /// Sum of member qualities, decayed each background cycle.
    pub total_weight: f32,
    /// Mean member quality.
    pub avg_quality: f32,
    /// Engine clock (ms) when created.
    pub created_at: u64,
    /// Engine clock (ms) of the last `find_patterns` hit.
    pub last_accessed: u64,
    /// Number of `find_patterns` hits.
    pub access_count: u32,
    /// Category from member routes / context ids.
    pub pattern_type: PatternType,
}

impl LearnedPattern {
    /// Merges `other` into `self`, weighting by cluster size. `self` keeps its `pattern_type` (as
    /// in the seed's merge) unless it is `General`, which takes `other`'s.
    pub fn merge(&mut self, other: &LearnedPattern) {
        // Sizes, weights and counts may come from outside (warm-start bytes): the weights are
        // formed in f32 (they sum to 1 even when the u32 sum would overflow) and the sums saturate.
        let (n1, n2) = (self.cluster_size as f32, other.cluster_size as f32);
        let sum = (n1 + n2).max(1.0);
        let (w1, w2) = (n1 / sum, n2 / sum);
        let total = self.cluster_size.saturating_add(other.cluster_size);
        for (a, b) in self.centroid.iter_mut().zip(&other.centroid) {
            *a = *a * w1 + b * w2;
        }
        for (a, b) in self.direction.iter_mut().zip(&other.direction) {
            *a = *a * w1 + b * w2;
        }
        crate::trajectory::normalize(&mut self.direction);
        self.avg_quality = self.avg_quality * w1 + other.avg_quality * w2;
        self.cluster_size = total;
        self.total_weight = (self.total_weight + other.total_weight).min(f32::MAX);
        self.created_at = self.created_at.min(other.created_at);
        self.last_accessed = self.last_accessed.max(other.last_accessed);
        self.access_count = self.access_count.saturating_add(other.access_count);
        if self.pattern_type == PatternType::General {
            self.pattern_type = other.pattern_type;
        }
    }

    /// Whether the pattern is stale: low quality, rarely used and old.
    pub fn should_prune(&self, min_quality: f32, min_accesses: u32, max_age_ms: u64, now_ms: u64) -> bool {
        self.avg_quality < min_quality
            && self.access_count < min_accesses
            && now_ms.saturating_sub(self.last_accessed) > max_age_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pattern(id: u64, centroid: Vec<f32>, size: u32, q: f32) -> LearnedPattern {
        LearnedPattern {
            id,
            direction: centroid.clone(),
            centroid,
            cluster_size: size,
            total_weight: size as f32 * q,
            avg_quality: q,
            created_at: 100 * id,
            last_accessed: 200 * id,
            access_count: id as u32,
            pattern_type: PatternType::General,
        }
    }

    #[test]
    fn merge_saturates_sizes_weights_and_access_counts() {
        let mut a = pattern(1, vec![1.0, 0.0], u32::MAX, 0.8);
        let mut b = pattern(2, vec![0.0, 1.0], u32::MAX, 0.4);
        (a.total_weight, b.total_weight, a.access_count, b.access_count) = (3e38, 3e38, u32::MAX, 7);
        a.merge(&b);
        assert_eq!((a.cluster_size, a.total_weight, a.access_count), (u32::MAX, f32::MAX, u32::MAX));
        assert_eq!(a.centroid, vec![0.5, 0.5], "equal sizes weigh equally, the weights summing to 1");
    }

    #[test]
    fn merge_weights_by_cluster_size() {
        let mut a = pattern(1, vec![1.0, 0.0], 30, 0.8);
        let b = pattern(2, vec![0.0, 1.0], 10, 0.4);
        a.merge(&b);
        assert_eq!(a.cluster_size, 40);
        assert!((a.centroid[0] - 0.75).abs() < 1e-6 && (a.centroid[1] - 0.25).abs() < 1e-6);
        assert!((a.avg_quality - 0.7).abs() < 1e-6);
        assert!((a.total_weight - (30.0 * 0.8 + 10.0 * 0.4)).abs() < 1e-5, "weights add up (the seed's merge)");
        assert_eq!((a.created_at, a.last_accessed, a.access_count), (100, 400, 3));
        let n = crate::kernels::sqrtf(a.direction[0] * a.direction[0] + a.direction[1] * a.direction[1]);
        assert!((n - 1.0).abs() < 1e-5);
    }

    #[test]
    fn prune_needs_all_three_conditions() {
        let p = pattern(1, vec![1.0], 1, 0.1);
        assert!(p.should_prune(0.5, 5, 1000, 5000));
        assert!(!p.should_prune(0.05, 5, 1000, 5000));
        assert!(!p.should_prune(0.5, 1, 1000, 5000));
        assert!(!p.should_prune(0.5, 5, 1000, 1000));
        // Age is strictly greater than max_age (last access at 200 ms), accesses strictly fewer.
        assert!(!p.should_prune(0.5, 5, 1000, 1200));
        assert!(p.should_prune(0.5, 5, 1000, 1201));
        assert!(!p.should_prune(0.5, 1, 1000, 1201) && p.should_prune(0.5, 2, 1000, 1201));
    }

    #[test]
    fn merge_keeps_the_pattern_type_unless_general() {
        let typed = |t: PatternType| LearnedPattern { pattern_type: t, ..pattern(1, vec![1.0, 0.0], 2, 0.5) };
        let cases = [
            (PatternType::CodeGen, PatternType::Reasoning, PatternType::CodeGen),
            (PatternType::CodeGen, PatternType::General, PatternType::CodeGen),
            (PatternType::General, PatternType::Creative, PatternType::Creative),
            (PatternType::General, PatternType::General, PatternType::General),
        ];
        for (mine, other, kept) in cases {
            let mut a = typed(mine);
            a.merge(&typed(other));
            assert_eq!(a.pattern_type, kept, "{mine:?} + {other:?}");
        }
    }

    #[test]
    fn classify_by_keyword() {
        assert_eq!(PatternType::classify("gpt-4-Code"), PatternType::CodeGen);
        assert_eq!(PatternType::classify("math-solver"), PatternType::Reasoning);
        assert_eq!(PatternType::classify("web-search"), PatternType::Factual);
        assert_eq!(PatternType::classify("short story"), PatternType::Creative);
        assert_eq!(PatternType::classify("chat"), PatternType::Conversational);
        assert_eq!(PatternType::classify("llama"), PatternType::General);
    }
}
