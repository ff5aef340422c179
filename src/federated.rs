//! Federated learning: short-lived [`EphemeralAgent`]s learn locally and export what they saw as an
//! [`AgentExport`] (shippable as bytes, e.g. from a Worker or an edge function); a persistent
//! [`FederatedCoordinator`] aggregates the exported trajectories that pass its quality threshold
//! into one large engine, consolidates every `consolidation_interval` agents, and hands its best
//! patterns to new agents so that they start warm.
//!
//! The coordinator learns from the union of the agents' trajectories: every accepted trajectory
//! feeds its MicroLoRA (instant loop) and its trajectory buffer, and consolidation
//! ([`SonaEngine::force_learn`]) clusters the buffer into ReasoningBank patterns and trains the
//! BaseLoRA stack. The agents' own patterns and MicroLoRA travel in the export for inspection
//! (and for other consumers); the coordinator does not average adapter weights.
//!
//! Agent export bytes use the framing of [`crate::persist`] with their own magic:
//! ```text
//! 0   8  magic "SONAFEDX"     8  4  version (u32 LE) = 1
//! 12  8  payload length       20 4  CRC-32 of the payload
//! 24  n  payload: agent id, hidden_dim, counters (processed, dropped, learned),
//!        trajectories (as buffered learning signals), patterns, optional MicroLoRA (rank + weights)
//! ```
//! Coordinator state (`save_state`) is framed the same way with magic "SONAFEDC" and nests the
//! engine's own state bytes.

use crate::config::SonaConfig;
use crate::engine::{clock_ms, EngineStats, LearnReport, SonaEngine, MAX_CONTEXT_IDS, MAX_STRING_LEN};
use crate::error::{check_range, check_vector, PersistError, Result, SonaError};
use crate::lora::LoraAdapter;
use crate::persist::{bad, open_sealed, read_adapter, read_pattern, read_signal, seal, write_adapter, write_pattern, write_signal, Reader, Writer, R};
use crate::trajectory::TrajectoryBuffer;
use crate::types::{LearnedPattern, LearningSignal};
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

/// Magic of agent export bytes.
pub const EXPORT_MAGIC: [u8; 8] = *b"SONAFEDX";
/// Magic of coordinator state bytes.
pub const COORDINATOR_MAGIC: [u8; 8] = *b"SONAFEDC";
/// Version of both federated formats.
pub const FEDERATED_VERSION: u32 = 1;
/// The seed's default: a coordinator consolidates after this many aggregated agents.
pub const DEFAULT_CONSOLIDATION_INTERVAL: usize = 50;
/// Widest `hidden_dim` accepted from export bytes.
pub const MAX_EXPORT_DIM: usize = 8192;

fn check_id(what: &'static str, id: &str) -> Result<()> {
    if id.len() > MAX_STRING_LEN {
        return Err(SonaError::StringTooLong { what, len: id.len(), limit: MAX_STRING_LEN });
    }
    Ok(())
}

fn check_strings(route: Option<&str>, contexts: &[String]) -> Result<()> {
    if let Some(r) = route {
        check_id("route", r)?;
    }
    if contexts.len() > MAX_CONTEXT_IDS {
        return Err(SonaError::TooManyContextIds { count: contexts.len(), limit: MAX_CONTEXT_IDS });
    }
    contexts.iter().try_for_each(|c| check_id("context id", c))
}

fn check_pattern(p: &LearnedPattern, dim: usize) -> Result<()> {
    check_vector("pattern centroid", &p.centroid, dim)?;
    check_vector("pattern direction", &p.direction, dim)?;
    check_range("pattern avg_quality", p.avg_quality, 0.0, 1.0, "a finite number within [0, 1]")?;
    check_range("pattern total_weight", p.total_weight, 0.0, f32::MAX, "a finite number >= 0")
}

/// Counters an agent reports in its export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AgentCounters {
    /// Trajectories processed by the agent.
    pub trajectories_processed: u64,
    /// Trajectories the agent's export record dropped (oldest first) because it was full.
    pub trajectories_dropped: u64,
    /// Trajectories that passed the agent's own quality threshold and were learned locally.
    pub trajectories_learned: u64,
}

/// What an agent ships to a coordinator.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentExport {
    /// The agent's id.
    pub agent_id: String,
    /// Width of every vector in the export.
    pub hidden_dim: usize,
    /// The agent's recent trajectories (at most its `trajectory_capacity`), oldest first: query
    /// embedding, REINFORCE direction of the activations, quality, route and context tags.
    pub trajectories: Vec<LearningSignal>,
    /// Counters.
    pub counters: AgentCounters,
    /// Patterns the agent learned (or was warm-started with).
    pub patterns: Vec<LearnedPattern>,
    /// The agent's MicroLoRA, if it applied at least one instant cycle.
    pub micro_lora: Option<LoraAdapter>,
}

impl AgentExport {
    /// Checks the trajectories (and MicroLoRA) against `dim` — what [`FederatedCoordinator::aggregate`]
    /// requires; patterns are checked where they are used ([`EphemeralAgent::warm_start`]).
    pub fn validate(&self, dim: usize) -> Result<()> {
        if self.hidden_dim != dim {
            return Err(SonaError::DimensionMismatch { what: "agent export (hidden_dim)", expected: dim, got: self.hidden_dim });
        }
        check_id("agent id", &self.agent_id)?;
        for s in &self.trajectories {
            check_vector("exported trajectory embedding", &s.query_embedding, dim)?;
            check_vector("exported trajectory direction", &s.gradient_estimate, dim)?;
            check_strings(s.model_route.as_deref(), &s.context_ids)?;
        }
        check_qualities(&self.trajectories)?;
        if let Some(m) = &self.micro_lora {
            let (d, u) = m.params();
            check_vector("exported MicroLoRA", d, dim * m.rank())?;
            check_vector("exported MicroLoRA", u, dim * m.rank())?;
        }
        Ok(())
    }

    /// Serialises the export (see the module docs for the layout).
    pub fn to_bytes(&self) -> Vec<u8> {
        export_bytes(&self.agent_id, self.hidden_dim, &self.counters, self.trajectories.len(), self.trajectories.iter(), &self.patterns, self.micro_lora.as_ref())
    }

    /// Parses export bytes: header, length, checksum, then every field (lengths against
    /// `hidden_dim`, finite floats, qualities within [0, 1], no trailing bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<AgentExport> {
        let parsed = open_sealed(&EXPORT_MAGIC, FEDERATED_VERSION, bytes).and_then(|payload| {
            let mut r = Reader { b: payload, at: 0 };
            let e = read_export(&mut r)?;
            if r.at != payload.len() {
                return Err(bad("trailing bytes after the last field"));
            }
            Ok(e)
        });
        let export = parsed.map_err(|error| SonaError::Format { kind: "agent export", error })?;
        // The reader checked lengths, finiteness and string limits; the qualities remain.
        check_qualities(&export.trajectories)?;
        Ok(export)
    }
}

/// Patterns as agent-export bytes (no trajectories): how a coordinator's initial patterns travel.
pub fn patterns_bytes(sender_id: &str, dim: usize, patterns: &[LearnedPattern]) -> Vec<u8> {
    export_bytes(sender_id, dim, &AgentCounters::default(), 0, [].iter(), patterns, None)
}

fn check_qualities(trajectories: &[LearningSignal]) -> Result<()> {
    trajectories.iter().try_for_each(|s| check_range("exported trajectory quality", s.quality_score, 0.0, 1.0, "a finite number within [0, 1]"))
}

fn export_bytes<'a>(
    agent_id: &str,
    dim: usize,
    c: &AgentCounters,
    count: usize,
    trajectories: impl Iterator<Item = &'a LearningSignal>,
    patterns: &[LearnedPattern],
    micro_lora: Option<&LoraAdapter>,
) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(256 + count * 8 * dim));
    w.str(agent_id);
    w.u64(dim as u64);
    for v in [c.trajectories_processed, c.trajectories_dropped, c.trajectories_learned] {
        w.u64(v);
    }
    w.len(count);
    trajectories.for_each(|s| write_signal(&mut w, s));
    w.len(patterns.len());
    patterns.iter().for_each(|p| write_pattern(&mut w, p));
    w.bool(micro_lora.is_some());
    if let Some(m) = micro_lora {
        w.u64(m.rank() as u64);
        write_adapter(&mut w, m);
    }
    seal(&EXPORT_MAGIC, FEDERATED_VERSION, &w.0)
}

fn read_export(r: &mut Reader) -> R<AgentExport> {
    let agent_id = r.str("agent id")?;
    let dim = r.usize("hidden_dim")?;
    if dim == 0 || dim > MAX_EXPORT_DIM {
        return Err(bad("hidden_dim out of range"));
    }
    let w = "counters";
    let counters = AgentCounters { trajectories_processed: r.u64(w)?, trajectories_dropped: r.u64(w)?, trajectories_learned: r.u64(w)? };
    let mut trajectories = Vec::new();
    for _ in 0..r.len(16, "trajectories")? {
        trajectories.push(read_signal(r, dim)?);
    }
    let mut patterns = Vec::new();
    for _ in 0..r.len(16, "patterns")? {
        patterns.push(read_pattern(r, dim)?);
    }
    let micro_lora = if r.bool("MicroLoRA flag")? {
        let rank = r.usize("MicroLoRA rank")?;
        if !(1..=16).contains(&rank) {
            return Err(bad("MicroLoRA rank"));
        }
        Some(read_adapter(r, dim, rank, "MicroLoRA weights")?)
    } else {
        None
    };
    Ok(AgentExport { agent_id, hidden_dim: dim, trajectories, counters, patterns, micro_lora })
}

/// Agent statistics (`stats()` in JS): its own counters plus its engine's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgentStats {
    /// Counters (processed, dropped from the export record, learned locally).
    #[serde(flatten)]
    pub counters: AgentCounters,
    /// Trajectories the next export will carry.
    pub trajectories_exportable: usize,
    /// The agent's engine.
    pub engine: EngineStats,
}

/// A short-lived agent: a [`SonaEngine`] (the `for_ephemeral` preset by default) that learns from
/// the trajectories it processes and keeps the most recent of them for export.
#[derive(Clone, Debug, PartialEq)]
pub struct EphemeralAgent {
    id: String,
    engine: SonaEngine,
    record: TrajectoryBuffer,
    processed: u64,
}

impl EphemeralAgent {
    /// An agent with the `for_ephemeral` preset at `hidden_dim`.
    pub fn new(agent_id: &str, hidden_dim: usize, seed: u64) -> Result<Self> {
        Self::with_config(agent_id, SonaConfig { hidden_dim, embedding_dim: hidden_dim, ..SonaConfig::for_ephemeral() }, seed)
    }

    /// An agent with any configuration; `trajectory_capacity` also bounds the export record.
    pub fn with_config(agent_id: &str, config: SonaConfig, seed: u64) -> Result<Self> {
        check_id("agent id", agent_id)?;
        let engine = SonaEngine::new(config, seed)?;
        let record = TrajectoryBuffer::new(engine.config().trajectory_capacity);
        Ok(EphemeralAgent { id: String::from(agent_id), engine, record, processed: 0 })
    }

    /// An agent (the `for_ephemeral` preset) warm-started with `patterns`, typically a
    /// coordinator's [`FederatedCoordinator::get_initial_patterns`]: `find_patterns` works before
    /// it has learned anything.
    pub fn with_patterns(agent_id: &str, hidden_dim: usize, seed: u64, patterns: &[LearnedPattern]) -> Result<Self> {
        let mut a = Self::new(agent_id, hidden_dim, seed)?;
        a.warm_start(patterns)?;
        Ok(a)
    }

    /// Adds `patterns` to the agent's ReasoningBank (with fresh ids and no accesses), up to its
    /// capacity (`pattern_clusters`); returns how many were added. All patterns are checked first
    /// (dimensions, finite values, quality in [0, 1]); on error nothing is added.
    pub fn warm_start(&mut self, patterns: &[LearnedPattern]) -> Result<usize> {
        let dim = self.engine.config().hidden_dim;
        patterns.iter().try_for_each(|p| check_pattern(p, dim))?;
        let bank = &mut self.engine.bank;
        let room = bank.capacity.saturating_sub(bank.patterns.len()).min(patterns.len());
        for p in &patterns[..room] {
            let mut p = p.clone();
            p.id = bank.take_id();
            p.access_count = 0;
            p.cluster_size = p.cluster_size.max(1);
            bank.patterns.push(p);
        }
        bank.refresh_norms(self.engine.kernels);
        Ok(room)
    }

    /// [`warm_start`](Self::warm_start) with the patterns of an export (the bytes of
    /// `exportInitialPatterns` or of an agent's `exportState`), which must have the agent's
    /// `hidden_dim` whether or not it holds any pattern.
    pub fn warm_start_from(&mut self, export: &AgentExport) -> Result<usize> {
        let dim = self.engine.config().hidden_dim;
        if export.hidden_dim != dim {
            return Err(SonaError::DimensionMismatch { what: "pattern export (hidden_dim)", expected: dim, got: export.hidden_dim });
        }
        self.warm_start(&export.patterns)
    }

    /// Processes one finished task: a one-step trajectory (`activations` with reward `quality`)
    /// with `route` and `contexts`, ended with `quality` — learned locally as the engine would
    /// (instant loop; background loop on the engine's interval, clock `now_ms`) and recorded for
    /// export. All arguments are checked first; on error nothing changes.
    pub fn process_trajectory(&mut self, embedding: &[f32], activations: &[f32], quality: f32, route: Option<&str>, contexts: &[String], now_ms: f64) -> Result<()> {
        let e = &mut self.engine;
        check_vector("embedding", embedding, e.config().embedding_dim)?;
        check_vector("activations", activations, e.config().hidden_dim)?;
        check_range("quality", quality, 0.0, 1.0, "a finite number within [0, 1]")?;
        check_strings(route, contexts)?;
        clock_ms(now_ms)?;
        let id = e.start_trajectory(embedding)?;
        e.add_step(id, activations, &[], quality)?;
        if let Some(r) = route {
            e.set_trajectory_route(id, r)?;
        }
        for c in contexts {
            e.add_trajectory_context(id, c)?;
        }
        e.end_trajectory(id, quality)?;
        self.record.push(LearningSignal {
            trajectory_id: id,
            query_embedding: embedding.to_vec(),
            gradient_estimate: e.last.gradient.clone(),
            quality_score: quality,
            step_count: 1,
            latency_us: 0,
            model_route: route.map(String::from),
            context_ids: contexts.to_vec(),
        });
        self.processed += 1;
        e.tick(now_ms)?;
        Ok(())
    }

    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The agent's engine (for `find_patterns`, `apply_lora`, ...).
    pub fn engine(&self) -> &SonaEngine {
        &self.engine
    }

    /// The agent's engine, mutable (for `find_patterns`, `force_learn`, ...).
    pub fn engine_mut(&mut self) -> &mut SonaEngine {
        &mut self.engine
    }

    fn counters(&self) -> AgentCounters {
        AgentCounters {
            trajectories_processed: self.processed,
            trajectories_dropped: self.record.dropped(),
            trajectories_learned: self.engine.counters.trajectories_learned,
        }
    }

    /// Current statistics.
    pub fn stats(&self) -> AgentStats {
        AgentStats { counters: self.counters(), trajectories_exportable: self.record.len(), engine: self.engine.stats() }
    }

    /// [`Self::export_state`] as bytes, serialised without an intermediate copy.
    pub fn export_bytes(&self) -> Vec<u8> {
        let micro = (self.engine.counters.instant_cycles > 0).then_some(&self.engine.micro);
        export_bytes(&self.id, self.engine.config().hidden_dim, &self.counters(), self.record.len(), self.record.iter(), self.engine.patterns(), micro)
    }

    /// What the agent ships to a coordinator (the agent itself is unchanged).
    pub fn export_state(&self) -> AgentExport {
        AgentExport {
            agent_id: self.id.clone(),
            hidden_dim: self.engine.config().hidden_dim,
            trajectories: self.record.iter().cloned().collect(),
            counters: self.counters(),
            patterns: self.engine.patterns().to_vec(),
            micro_lora: (self.engine.counters.instant_cycles > 0).then(|| self.engine.micro.clone()),
        }
    }
}

/// What one [`FederatedCoordinator::aggregate`] call did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregationResult {
    /// The exporting agent.
    pub agent_id: String,
    /// Trajectories at or above the quality threshold, added to the coordinator.
    pub trajectories_accepted: usize,
    /// Trajectories below the threshold.
    pub trajectories_rejected: usize,
    /// Older buffered trajectories the coordinator dropped to make room (capacity).
    pub trajectories_dropped: usize,
    /// Agents aggregated so far, this one included.
    pub agents_aggregated: u64,
    /// Whether this call triggered a consolidation (every `consolidation_interval` agents).
    pub consolidated: bool,
    /// Patterns the coordinator holds afterwards.
    pub patterns_stored: usize,
}

/// Coordinator statistics (`stats()` in JS).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoordinatorStats {
    /// Agents aggregated.
    pub agents_aggregated: u64,
    /// Trajectories accepted over all agents.
    pub trajectories_accepted: u64,
    /// Trajectories rejected (below the threshold) over all agents.
    pub trajectories_rejected: u64,
    /// Consolidations run (automatic and explicit).
    pub consolidations: u64,
    /// Agents aggregated since the last consolidation.
    pub agents_since_consolidation: usize,
    /// Current quality threshold.
    pub quality_threshold: f32,
    /// Current consolidation interval (agents).
    pub consolidation_interval: usize,
    /// The coordinator's engine.
    pub engine: EngineStats,
}

/// The persistent aggregator: a [`SonaEngine`] (the `for_coordinator` preset by default: capacity
/// 50,000 trajectories, base rank 16, quality threshold 0.4) fed by agent exports.
#[derive(Clone, Debug, PartialEq)]
pub struct FederatedCoordinator {
    id: String,
    engine: SonaEngine,
    consolidation_interval: usize,
    agents_aggregated: u64,
    since_consolidation: usize,
    accepted: u64,
    rejected: u64,
    consolidations: u64,
}

impl FederatedCoordinator {
    /// A coordinator with the `for_coordinator` preset at `hidden_dim`.
    pub fn new(coordinator_id: &str, hidden_dim: usize, seed: u64) -> Result<Self> {
        Self::with_config(coordinator_id, SonaConfig { hidden_dim, embedding_dim: hidden_dim, ..SonaConfig::for_coordinator() }, seed)
    }

    /// A coordinator with any configuration: `quality_threshold` is the acceptance threshold and
    /// `trajectory_capacity` the buffer capacity.
    pub fn with_config(coordinator_id: &str, config: SonaConfig, seed: u64) -> Result<Self> {
        check_id("coordinator id", coordinator_id)?;
        Ok(FederatedCoordinator {
            id: String::from(coordinator_id),
            engine: SonaEngine::new(config, seed)?,
            consolidation_interval: DEFAULT_CONSOLIDATION_INTERVAL,
            agents_aggregated: 0,
            since_consolidation: 0,
            accepted: 0,
            rejected: 0,
            consolidations: 0,
        })
    }

    /// The coordinator's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The coordinator's engine.
    pub fn engine(&self) -> &SonaEngine {
        &self.engine
    }

    /// The coordinator's engine, mutable (for `find_patterns`).
    pub fn engine_mut(&mut self) -> &mut SonaEngine {
        &mut self.engine
    }

    /// Trajectories below `threshold` (in [0, 1]) are rejected by later `aggregate` calls (and
    /// left out of consolidation).
    pub fn set_quality_threshold(&mut self, threshold: f32) -> Result<()> {
        check_range("threshold", threshold, 0.0, 1.0, "a finite number within [0, 1]")?;
        self.engine.config.quality_threshold = threshold;
        Ok(())
    }

    /// Consolidate automatically after every `agents` (>= 1) aggregated agents.
    pub fn set_consolidation_interval(&mut self, agents: usize) -> Result<()> {
        if agents == 0 {
            return Err(SonaError::InvalidValue { what: "consolidation interval", value: 0.0, expected: "an integer >= 1 (agents)" });
        }
        self.consolidation_interval = agents;
        Ok(())
    }

    /// Aggregates one agent's export: each trajectory at or above the quality threshold feeds
    /// the coordinator's MicroLoRA and its bounded buffer (oldest dropped when full), the rest
    /// are counted as rejected; every `consolidation_interval` agents, [`Self::consolidate`] runs
    /// at `now_ms`. The export is checked first (dimension, finite values, ranges); on error
    /// nothing changes.
    pub fn aggregate(&mut self, export: &AgentExport, now_ms: f64) -> Result<AggregationResult> {
        clock_ms(now_ms)?;
        export.validate(self.engine.config().hidden_dim)?;
        self.accept(export, now_ms)
    }

    /// [`Self::aggregate`] from [`AgentExport::to_bytes`] bytes (checked while parsing).
    pub fn aggregate_bytes(&mut self, bytes: &[u8], now_ms: f64) -> Result<AggregationResult> {
        clock_ms(now_ms)?;
        let export = AgentExport::from_bytes(bytes)?;
        let dim = self.engine.config().hidden_dim;
        if export.hidden_dim != dim {
            return Err(SonaError::DimensionMismatch { what: "agent export (hidden_dim)", expected: dim, got: export.hidden_dim });
        }
        self.accept(&export, now_ms)
    }

    /// Aggregates a checked export.
    fn accept(&mut self, export: &AgentExport, now_ms: f64) -> Result<AggregationResult> {
        let threshold = self.engine.config().quality_threshold;
        let (mut accepted, mut dropped) = (0, 0);
        for s in export.trajectories.iter().filter(|s| s.quality_score >= threshold) {
            accepted += 1;
            dropped += self.engine.import_signal(s.clone()) as usize;
        }
        let rejected = export.trajectories.len() - accepted;
        self.accepted = self.accepted.saturating_add(accepted as u64);
        self.rejected = self.rejected.saturating_add(rejected as u64);
        self.agents_aggregated = self.agents_aggregated.saturating_add(1);
        self.since_consolidation += 1;
        let consolidated = self.since_consolidation >= self.consolidation_interval;
        if consolidated {
            self.consolidate(now_ms)?;
        }
        Ok(AggregationResult {
            agent_id: export.agent_id.clone(),
            trajectories_accepted: accepted,
            trajectories_rejected: rejected,
            trajectories_dropped: dropped,
            agents_aggregated: self.agents_aggregated,
            consolidated,
            patterns_stored: self.engine.patterns().len(),
        })
    }

    /// Deep consolidation now ([`SonaEngine::force_learn`]): flushes MicroLoRA, clusters the
    /// buffered trajectories into patterns, trains BaseLoRA, consolidates an EWC++ task.
    pub fn consolidate(&mut self, now_ms: f64) -> Result<LearnReport> {
        let report = self.engine.force_learn(now_ms)?;
        self.since_consolidation = 0;
        self.consolidations = self.consolidations.saturating_add(1);
        Ok(report)
    }

    /// The `k` (>= 1) best patterns to warm-start a new agent: largest `total_weight` (quality
    /// mass of the members, decayed per cycle) first, ties in bank order.
    pub fn get_initial_patterns(&self, k: usize) -> Result<Vec<LearnedPattern>> {
        if k == 0 {
            return Err(SonaError::ZeroK);
        }
        // Selection of the k heaviest (k is small; a sort would cost more code than time).
        let all = self.engine.patterns();
        let mut taken = alloc::vec![false; all.len()];
        let mut best = Vec::new();
        for _ in 0..k.min(all.len()) {
            let mut pick: Option<usize> = None;
            for (i, p) in all.iter().enumerate() {
                if !taken[i] && pick.map_or(true, |j| p.total_weight > all[j].total_weight) {
                    pick = Some(i);
                }
            }
            if let Some(i) = pick {
                taken[i] = true;
                best.push(all[i].clone());
            }
        }
        Ok(best)
    }

    /// [`Self::get_initial_patterns`] packed as an [`AgentExport`] (the coordinator's id, no
    /// trajectories) so that they travel as checked bytes to where a new agent starts
    /// ([`EphemeralAgent::warm_start`] with the decoded export's `patterns`).
    pub fn export_initial_patterns(&self, k: usize) -> Result<AgentExport> {
        Ok(AgentExport {
            agent_id: self.id.clone(),
            hidden_dim: self.engine.config().hidden_dim,
            trajectories: Vec::new(),
            counters: AgentCounters::default(),
            patterns: self.get_initial_patterns(k)?,
            micro_lora: None,
        })
    }

    /// Current statistics.
    pub fn stats(&self) -> CoordinatorStats {
        CoordinatorStats {
            agents_aggregated: self.agents_aggregated,
            trajectories_accepted: self.accepted,
            trajectories_rejected: self.rejected,
            consolidations: self.consolidations,
            agents_since_consolidation: self.since_consolidation,
            quality_threshold: self.engine.config().quality_threshold,
            consolidation_interval: self.consolidation_interval,
            engine: self.engine.stats(),
        }
    }

    /// Serialises the coordinator: id, interval, counters and the engine's own state bytes.
    pub fn save_state(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.str(&self.id);
        for v in [self.consolidation_interval as u64, self.agents_aggregated, self.since_consolidation as u64, self.accepted, self.rejected, self.consolidations] {
            w.u64(v);
        }
        let engine = crate::persist::save(&self.engine);
        w.u64(engine.len() as u64);
        w.0.extend_from_slice(&engine);
        seal(&COORDINATOR_MAGIC, FEDERATED_VERSION, &w.0)
    }

    /// Restores a coordinator from [`Self::save_state`] bytes; truncated, corrupted, foreign or
    /// wrong-version bytes are rejected.
    pub fn load_state(bytes: &[u8]) -> Result<Self> {
        let fail = |error: PersistError| SonaError::Format { kind: "coordinator state", error };
        let payload = open_sealed(&COORDINATOR_MAGIC, FEDERATED_VERSION, bytes).map_err(fail)?;
        let mut r = Reader { b: payload, at: 0 };
        let head = (|| {
            let id = r.str("coordinator id")?;
            let w = "counters";
            let v = [r.u64(w)?, r.u64(w)?, r.u64(w)?, r.u64(w)?, r.u64(w)?, r.u64(w)?];
            // since_consolidation may exceed a lowered interval (the next aggregate consolidates),
            // never the agents aggregated.
            if v[0] == 0 {
                return Err(bad("consolidation interval"));
            }
            if v[2] > v[1] {
                return Err(bad("agents since consolidation"));
            }
            let n = r.usize("engine state")?;
            let engine = r.take(n, "engine state")?;
            if r.at != payload.len() {
                return Err(bad("trailing bytes after the last field"));
            }
            Ok((id, v, engine))
        })();
        let (id, v, engine) = head.map_err(fail)?;
        let engine = crate::persist::load(engine).map_err(|e| match e {
            SonaError::Persist(error) => fail(error),
            other => other,
        })?;
        Ok(FederatedCoordinator {
            id,
            engine,
            consolidation_interval: v[0] as usize,
            agents_aggregated: v[1],
            since_consolidation: v[2] as usize,
            accepted: v[3],
            rejected: v[4],
            consolidations: v[5],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::tests::{cosine, noisy, unit};

    const DIM: usize = 32;

    fn agent(name: &str, seed: u64) -> EphemeralAgent {
        EphemeralAgent::new(name, DIM, seed).unwrap()
    }

    fn coordinator(seed: u64) -> FederatedCoordinator {
        FederatedCoordinator::new("main", DIM, seed).unwrap()
    }

    /// An agent that processed one trajectory per quality, on random vectors.
    fn agent_with_qualities(name: &str, qualities: &[f32], rng: &mut Rng) -> EphemeralAgent {
        let mut a = agent(name, 3);
        for &q in qualities {
            a.process_trajectory(&unit(rng, DIM), &unit(rng, DIM), q, Some("gpt-4"), &[String::from("code")], 0.0).unwrap();
        }
        a
    }

    #[test]
    fn acceptance_and_rejection_follow_the_threshold() {
        let mut rng = Rng::new(1);
        let qualities = [0.05, 0.2, 0.39, 0.4, 0.41, 0.6, 0.75, 0.8, 0.95, 1.0];
        let a = agent_with_qualities("a", &qualities, &mut rng);
        let export = a.export_state();
        assert_eq!(export.trajectories.len(), 10, "the export carries every trajectory, not only the locally learned");
        assert_eq!(export.counters.trajectories_learned, 8, "the agent's own threshold is 0.3");
        let mut c = coordinator(2);
        assert_eq!(c.stats().quality_threshold, 0.4, "the seed's default");
        let r = c.aggregate(&export, 0.0).unwrap();
        assert_eq!((r.trajectories_accepted, r.trajectories_rejected), (7, 3));
        assert_eq!(c.stats().engine.trajectories_buffered, 7);
        c.set_quality_threshold(0.8).unwrap();
        let r = c.aggregate(&export, 0.0).unwrap();
        assert_eq!((r.trajectories_accepted, r.trajectories_rejected), (3, 7), "0.8, 0.95 and 1.0 pass");
        let s = c.stats();
        assert_eq!((s.trajectories_accepted, s.trajectories_rejected, s.agents_aggregated), (10, 10, 2));
        assert_eq!(s.engine.trajectories_buffered, 10);
        assert!(!r.consolidated, "the default interval is 50 agents");
        assert!(s.engine.micro_pending + s.engine.counters.micro_samples_applied as u32 == 10, "accepted trajectories feed the MicroLoRA");
    }

    #[test]
    fn coordinator_buffer_drops_the_oldest_over_capacity() {
        let mut rng = Rng::new(2);
        let a = agent_with_qualities("a", &[0.9; 8], &mut rng);
        let config = SonaConfig { hidden_dim: DIM, embedding_dim: DIM, trajectory_capacity: 5, ..SonaConfig::for_coordinator() };
        let mut c = FederatedCoordinator::with_config("small", config, 1).unwrap();
        let r = c.aggregate(&a.export_state(), 0.0).unwrap();
        assert_eq!((r.trajectories_accepted, r.trajectories_dropped), (8, 3));
        let s = c.stats().engine;
        assert_eq!((s.trajectories_buffered, s.trajectories_dropped), (5, 3));
        // The five newest survive: the buffered queries are the export's last five.
        let kept: Vec<&Vec<f32>> = c.engine.buffer.iter().map(|s| &s.query_embedding).collect();
        let export = a.export_state();
        let last: Vec<&Vec<f32>> = export.trajectories[3..].iter().map(|s| &s.query_embedding).collect();
        assert_eq!(kept, last);
    }

    #[test]
    fn agent_export_record_is_bounded_by_its_capacity() {
        let mut rng = Rng::new(3);
        let config = SonaConfig { hidden_dim: DIM, embedding_dim: DIM, trajectory_capacity: 4, ..SonaConfig::for_ephemeral() };
        let mut a = EphemeralAgent::with_config("a", config, 1).unwrap();
        for _ in 0..6 {
            a.process_trajectory(&unit(&mut rng, DIM), &unit(&mut rng, DIM), 0.9, None, &[], 0.0).unwrap();
        }
        let s = a.stats();
        assert_eq!((s.counters.trajectories_processed, s.trajectories_exportable, s.counters.trajectories_dropped), (6, 4, 2));
        assert_eq!(a.export_state().trajectories.len(), 4);
    }

    #[test]
    fn consolidates_every_n_agents() {
        let mut rng = Rng::new(4);
        let mut c = coordinator(5);
        c.set_consolidation_interval(3).unwrap();
        let mut flags = Vec::new();
        for i in 0..7 {
            let a = agent_with_qualities("a", &[0.9, 0.9, 0.1], &mut rng);
            let r = c.aggregate(&a.export_state(), 1000.0 * i as f64).unwrap();
            assert_eq!(r.agents_aggregated, i + 1);
            flags.push(r.consolidated);
        }
        assert_eq!(flags, [false, false, true, false, false, true, false]);
        let s = c.stats();
        assert_eq!((s.consolidations, s.agents_since_consolidation), (2, 1));
        assert_eq!(s.engine.counters.deep_consolidations, 2);
        assert_eq!(s.engine.trajectories_buffered, 2, "consolidation drained the buffer; one agent's two accepted remain");
        assert!(s.engine.patterns_stored > 0);
    }

    /// Three agents, two planted topics each: the coordinator recovers all six from the union.
    fn federation(rng: &mut Rng) -> (FederatedCoordinator, Vec<Vec<f32>>) {
        let topics: Vec<Vec<f32>> = (0..6).map(|_| unit(rng, DIM)).collect();
        let good: Vec<Vec<f32>> = (0..6).map(|_| unit(rng, DIM)).collect();
        let mut c = coordinator(9);
        for n in 0..3 {
            let mut a = agent("agent", 10 + n as u64);
            for i in 0..60 {
                let t = 2 * n + i % 2;
                a.process_trajectory(&noisy(rng, &topics[t], 0.2), &noisy(rng, &good[t], 0.3), 0.8, Some("gpt-4"), &[], i as f64).unwrap();
                // Low-quality noise the coordinator must reject.
                a.process_trajectory(&unit(rng, DIM), &unit(rng, DIM), 0.1, None, &[], i as f64).unwrap();
            }
            let r = c.aggregate(&a.export_state(), 100.0).unwrap();
            assert_eq!((r.trajectories_accepted, r.trajectories_rejected), (60, 60));
        }
        c.consolidate(200.0).unwrap();
        (c, topics)
    }

    #[test]
    fn coordinator_learns_every_agents_topics() {
        let mut rng = Rng::new(6);
        let (mut c, topics) = federation(&mut rng);
        let mut hits = 0;
        for i in 0..120 {
            let t = i % 6;
            let found = c.engine_mut().find_patterns(&noisy(&mut rng, &topics[t], 0.2), 1, 300.0).unwrap();
            if cosine(&found[0].0.centroid, &topics[t]) >= 0.95 {
                hits += 1;
            }
        }
        assert!(hits >= 114, "{hits}/120 held-out queries found their topic");
        assert!(c.stats().engine.micro_lora_norm > 0.0);
    }

    #[test]
    fn new_agent_warm_starts_from_the_coordinators_patterns() {
        let mut rng = Rng::new(7);
        let (c, topics) = federation(&mut rng);
        assert_eq!(c.get_initial_patterns(0), Err(SonaError::ZeroK));
        let initial = c.get_initial_patterns(10).unwrap();
        assert_eq!(initial.len(), 10.min(c.engine().patterns().len()));
        assert!(initial.windows(2).all(|w| w[0].total_weight >= w[1].total_weight));
        let heaviest = c.engine().patterns().iter().map(|p| p.total_weight).fold(0.0, f32::max);
        assert_eq!(initial[0].total_weight, heaviest);
        let shipped = AgentExport::from_bytes(&c.export_initial_patterns(10).unwrap().to_bytes()).unwrap();
        assert_eq!(shipped.patterns, initial);
        assert!(shipped.trajectories.is_empty());
        let mut a = EphemeralAgent::with_patterns("fresh", DIM, 1, &shipped.patterns).unwrap();
        assert_eq!(a.stats().counters.trajectories_processed, 0);
        for (t, topic) in topics.iter().enumerate() {
            let found = a.engine_mut().find_patterns(&noisy(&mut rng, topic, 0.2), 1, 300.0).unwrap();
            assert!(cosine(&found[0].0.centroid, topic) >= 0.95, "topic {t}");
        }
        // A cold agent has nothing to find.
        let mut cold = agent("cold", 1);
        assert!(cold.engine_mut().find_patterns(&topics[0], 1, 0.0).unwrap().is_empty());
        // warm_start adds them "with fresh ids and no accesses": the sender's counts do not travel.
        let mut used = shipped.patterns.clone();
        used.iter_mut().for_each(|p| p.access_count = 9);
        assert_eq!(cold.warm_start(&used).unwrap(), used.len());
        assert!(cold.warm_start(&used).unwrap() > 0, "room for a second copy");
        let bank = cold.engine().patterns();
        assert!(bank.iter().all(|p| p.access_count == 0), "access counts reset");
        assert!(bank.iter().enumerate().all(|(i, p)| bank[..i].iter().all(|o| o.id != p.id)), "ids are unique");
    }

    /// Warm-start patterns at the limits `check_pattern` accepts (weights near f32::MAX, sizes and
    /// access counts near u32::MAX) merge without overflow: the merge's sums overflowed (+∞ weight,
    /// a u32 size wrapping to 0 and an infinite centroid), and the agent's own export and engine
    /// state no longer loaded.
    #[test]
    fn warm_start_patterns_at_the_limits_merge_into_a_loadable_state() {
        let dim = 8;
        let p = LearnedPattern { id: 1, centroid: alloc::vec![1.0; dim], direction: alloc::vec![0.5; dim], cluster_size: u32::MAX, total_weight: 3e38,
            avg_quality: 0.9, created_at: 0, last_accessed: 0, access_count: u32::MAX, pattern_type: crate::types::PatternType::General };
        let mut a = EphemeralAgent::new("a", dim, 1).unwrap();
        assert_eq!(a.warm_start(&[p.clone(), p]), Ok(2));
        a.engine_mut().force_learn(0.0).unwrap();
        let merged = a.engine().patterns();
        assert_eq!(merged.len(), 1, "the two identical patterns merged");
        assert_eq!((merged[0].cluster_size, merged[0].total_weight), (u32::MAX, f32::MAX));
        assert!(merged[0].centroid.iter().all(|&c| (c - 1.0).abs() < 1e-6), "{:?}", merged[0].centroid);
        assert!(AgentExport::from_bytes(&a.export_bytes()).is_ok());
        assert!(crate::persist::load(&crate::persist::save(a.engine())).is_ok());
    }

    #[test]
    fn warm_start_from_refuses_an_export_of_another_width_even_without_patterns() {
        let mut rng = Rng::new(11);
        let (c, _) = federation(&mut rng);
        let mut a = agent("a", 3);
        let before = a.engine().patterns().len();
        // An export of another width, with patterns and without (what exportInitialPatterns of an
        // empty coordinator or an idle agent's exportState gives): both refused, nothing added.
        let wide = EphemeralAgent::new("wide", 2 * DIM, 1).unwrap().export_state();
        assert!(wide.patterns.is_empty());
        let refused = Err(SonaError::DimensionMismatch { what: "pattern export (hidden_dim)", expected: DIM, got: 2 * DIM });
        assert_eq!(a.warm_start_from(&wide), refused);
        let mut wide_with = c.export_initial_patterns(3).unwrap();
        wide_with.hidden_dim = 2 * DIM;
        assert_eq!(a.warm_start_from(&wide_with), refused);
        assert_eq!(a.engine().patterns().len(), before);
        // The right width with no patterns adds none; with patterns, adds them.
        assert_eq!(a.warm_start_from(&agent("idle", 2).export_state()), Ok(0));
        let n = a.warm_start_from(&c.export_initial_patterns(3).unwrap()).unwrap();
        assert!(n > 0);
        assert_eq!(a.engine().patterns().len(), before + n);
    }

    /// Module docs: every accepted trajectory feeds the coordinator's MicroLoRA — one sample with
    /// the unit query as input, quality·direction as target and weight = quality. The reference is
    /// `LoraAdapter::accumulate` (the general path) on copies built from that description.
    #[test]
    fn each_accepted_trajectory_feeds_microlora_with_weight_quality() {
        let mut rng = Rng::new(11);
        let config = SonaConfig { hidden_dim: DIM, embedding_dim: DIM, micro_flush_interval: 0, ..SonaConfig::for_coordinator() };
        let mut c = FederatedCoordinator::with_config("c", config, 4).unwrap();
        c.set_quality_threshold(0.25).unwrap();
        let signal = |rng: &mut Rng, q: f32| LearningSignal {
            trajectory_id: 0,
            query_embedding: unit(rng, DIM).iter().map(|v| 3.0 * v).collect(),
            gradient_estimate: unit(rng, DIM),
            quality_score: q,
            step_count: 1,
            latency_us: 0,
            model_route: None,
            context_ids: Vec::new(),
        };
        let trajectories: Vec<LearningSignal> = [0.3, 0.2, 0.9].iter().map(|&q| signal(&mut rng, q)).collect();
        let export = AgentExport { agent_id: String::from("a"), hidden_dim: DIM, trajectories, counters: AgentCounters::default(), patterns: Vec::new(), micro_lora: None };
        let micro = c.engine.micro.clone();
        c.aggregate(&export, 0.0).unwrap();
        let (k, rank) = (c.engine.kernels, micro.rank());
        let mut expected = crate::lora::LoraGradient::zeros(DIM, rank);
        let mut scratch = vec![0.0; 2 * DIM];
        for s in export.trajectories.iter().filter(|s| s.quality_score >= 0.25) {
            let n = s.query_embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
            let x_hat: Vec<f32> = s.query_embedding.iter().map(|v| v / n).collect();
            let target: Vec<f32> = s.gradient_estimate.iter().map(|v| s.quality_score * v).collect();
            micro.accumulate(k, &x_hat, &target, s.quality_score, &mut expected, &mut scratch);
        }
        let got = &c.engine.micro_grad.materialized(k, &c.engine.micro);
        assert_eq!(got.samples, 2, "0.3 and 0.9 pass the threshold, 0.2 does not");
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5 + 1e-3 * y.abs());
        assert!(close(&got.down, &expected.down) && close(&got.up, &expected.up), "{:?} vs {:?}", got.up, expected.up);
    }

    #[test]
    fn bad_input_is_rejected_and_changes_nothing() {
        let mut rng = Rng::new(8);
        let mut a = agent_with_qualities("a", &[0.9, 0.5], &mut rng);
        let before = a.clone();
        let v = unit(&mut rng, DIM);
        let mut nan = v.clone();
        nan[3] = f32::NAN;
        let long = "x".repeat(MAX_STRING_LEN + 1);
        let many: Vec<String> = (0..=MAX_CONTEXT_IDS).map(|_| String::from("c")).collect();
        assert!(matches!(a.process_trajectory(&v[1..], &v, 0.5, None, &[], 0.0), Err(SonaError::DimensionMismatch { .. })));
        assert!(matches!(a.process_trajectory(&v, &nan, 0.5, None, &[], 0.0), Err(SonaError::NonFiniteVector { index: 3, .. })));
        assert!(matches!(a.process_trajectory(&v, &v, 1.5, None, &[], 0.0), Err(SonaError::InvalidValue { .. })));
        assert!(matches!(a.process_trajectory(&v, &v, f32::NAN, None, &[], 0.0), Err(SonaError::InvalidValue { .. })));
        assert!(matches!(a.process_trajectory(&v, &v, 0.5, Some(&long), &[], 0.0), Err(SonaError::StringTooLong { .. })));
        assert!(matches!(a.process_trajectory(&v, &v, 0.5, None, &many, 0.0), Err(SonaError::TooManyContextIds { .. })));
        assert!(matches!(a.process_trajectory(&v, &v, 0.5, None, &[], f64::NAN), Err(SonaError::InvalidValue { .. })));
        let mut bad_pattern = a.export_state().patterns.first().cloned().unwrap_or_else(|| LearnedPattern {
            id: 1,
            centroid: v.clone(),
            direction: v.clone(),
            cluster_size: 1,
            total_weight: 1.0,
            avg_quality: 0.5,
            created_at: 0,
            last_accessed: 0,
            access_count: 0,
            pattern_type: Default::default(),
        });
        bad_pattern.centroid[0] = f32::INFINITY;
        assert!(a.warm_start(&[bad_pattern]).is_err());
        assert!(a == before, "agent changed by rejected input");
        assert!(EphemeralAgent::new(&long, DIM, 1).is_err());
        assert!(EphemeralAgent::new("a", 0, 1).is_err());

        let mut c = coordinator(1);
        c.aggregate(&a.export_state(), 0.0).unwrap();
        let before = c.clone();
        assert!(matches!(c.aggregate(&EphemeralAgent::new("b", DIM + 1, 1).unwrap().export_state(), 0.0), Err(SonaError::DimensionMismatch { .. })));
        let mut e = a.export_state();
        e.trajectories[1].query_embedding[5] = f32::NAN;
        assert!(matches!(c.aggregate(&e, 0.0), Err(SonaError::NonFiniteVector { .. })));
        let mut e = a.export_state();
        e.trajectories[1].quality_score = 2.0;
        assert!(matches!(c.aggregate(&e, 0.0), Err(SonaError::InvalidValue { .. })));
        let mut e = a.export_state();
        e.trajectories[0].gradient_estimate.pop();
        assert!(matches!(c.aggregate(&e, 0.0), Err(SonaError::DimensionMismatch { .. })));
        assert!(c.aggregate(&a.export_state(), -1.0).is_err());
        for t in [-0.1, 1.01, f32::NAN, f32::INFINITY] {
            assert!(matches!(c.set_quality_threshold(t), Err(SonaError::InvalidValue { .. })), "{t}");
        }
        assert!(matches!(c.set_consolidation_interval(0), Err(SonaError::InvalidValue { .. })));
        assert!(c.consolidate(f64::INFINITY).is_err());
        assert!(c == before, "coordinator changed by rejected input");
    }

    fn format_err(bytes: &[u8]) -> PersistError {
        match AgentExport::from_bytes(bytes) {
            Err(SonaError::Format { kind: "agent export", error }) => error,
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn export_bytes_round_trip_and_reject_damage() {
        let mut rng = Rng::new(9);
        let mut a = agent_with_qualities("edge-7", &[0.9; 20], &mut rng);
        a.engine_mut().force_learn(0.0).unwrap();
        let export = a.export_state();
        assert!(export.micro_lora.is_some() && !export.patterns.is_empty());
        let bytes = export.to_bytes();
        assert_eq!(a.export_bytes(), bytes);
        assert_eq!(&bytes[..8], b"SONAFEDX");
        assert_eq!(AgentExport::from_bytes(&bytes).unwrap(), export);
        // Truncated anywhere.
        for cut in [0, 3, 8, 23, 24, 100, bytes.len() / 2, bytes.len() - 1] {
            let e = format_err(&bytes[..cut]);
            assert!(matches!(e, PersistError::Truncated { .. } | PersistError::LengthMismatch { .. }), "cut {cut}: {e:?}");
        }
        // Every bit of the header, and bits spread over the payload.
        for bit in (0..24 * 8).chain((24 * 8..bytes.len() * 8).step_by(97)) {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(AgentExport::from_bytes(&b).is_err(), "bit {bit} flipped was accepted");
        }
        // Foreign bytes: an engine state, text, a coordinator state.
        assert_eq!(format_err(&crate::persist::save(a.engine())), PersistError::BadMagic);
        assert_eq!(format_err(b"{\"agent_id\":\"x\",\"trajectories\":[]}"), PersistError::BadMagic);
        assert_eq!(format_err(&coordinator(1).save_state()), PersistError::BadMagic);
        // Another version.
        let mut b = bytes.clone();
        b[8] = 2;
        assert_eq!(format_err(&b), PersistError::UnsupportedVersion { found: 2, oldest: 1, supported: 1 });
        // A consistent checksum over a malformed payload (trailing byte).
        let mut payload = bytes[24..].to_vec();
        payload.push(0);
        assert!(matches!(format_err(&seal(&EXPORT_MAGIC, 1, &payload)), PersistError::Malformed(_)));
        // A consistent frame whose values break the rules (quality 2) is rejected by validation.
        let mut bad_quality = export.clone();
        bad_quality.trajectories[0].quality_score = 2.0;
        assert!(matches!(AgentExport::from_bytes(&bad_quality.to_bytes()), Err(SonaError::InvalidValue { .. })));
        // Bytes aggregate like the struct.
        let mut c1 = coordinator(4);
        let mut c2 = coordinator(4);
        c1.aggregate(&export, 5.0).unwrap();
        c2.aggregate_bytes(&bytes, 5.0).unwrap();
        assert!(c1 == c2);
        let before = c2.clone();
        assert!(matches!(c2.aggregate_bytes(&EphemeralAgent::new("w", DIM + 1, 1).unwrap().export_bytes(), 6.0), Err(SonaError::DimensionMismatch { .. })));
        assert!(c2.aggregate_bytes(&bytes[1..], 6.0).is_err());
        assert!(c2 == before);
    }

    #[test]
    fn coordinator_state_round_trips_and_rejects_damage() {
        let mut rng = Rng::new(10);
        let (mut c, topics) = federation(&mut rng);
        c.set_quality_threshold(0.55).unwrap();
        c.set_consolidation_interval(7).unwrap();
        c.aggregate(&agent_with_qualities("late", &[0.9, 0.2], &mut rng).export_state(), 300.0).unwrap();
        let bytes = c.save_state();
        let mut back = FederatedCoordinator::load_state(&bytes).unwrap();
        assert!(back == c);
        assert_eq!(back.stats(), c.stats());
        assert_eq!(back.save_state(), bytes);
        assert_eq!(
            back.engine_mut().find_patterns(&topics[0], 3, 400.0).unwrap(),
            c.engine_mut().find_patterns(&topics[0], 3, 400.0).unwrap()
        );
        for cut in [5, 30, bytes.len() - 1] {
            assert!(FederatedCoordinator::load_state(&bytes[..cut]).is_err());
        }
        let mut b = bytes.clone();
        b[bytes.len() / 2] ^= 0x10;
        assert!(matches!(FederatedCoordinator::load_state(&b), Err(SonaError::Format { kind: "coordinator state", .. })));
        assert!(FederatedCoordinator::load_state(&crate::persist::save(c.engine())).is_err());
        // Lowering the interval below the agents already aggregated is allowed (the next
        // aggregate consolidates); such a coordinator must save and load like any other.
        let mut c = coordinator(12);
        for n in 0..3 {
            c.aggregate(&agent_with_qualities(&alloc::format!("a{n}"), &[0.9], &mut rng).export_state(), 0.0).unwrap();
        }
        c.set_consolidation_interval(2).unwrap();
        let mut back = FederatedCoordinator::load_state(&c.save_state()).unwrap();
        assert!(back == c);
        let r = back.aggregate(&agent_with_qualities("d", &[0.9], &mut rng).export_state(), 0.0).unwrap();
        assert!(r.consolidated && back.stats().agents_since_consolidation == 0);
        back.since_consolidation = back.agents_aggregated as usize + 1;
        assert!(matches!(FederatedCoordinator::load_state(&back.save_state()), Err(SonaError::Format { kind: "coordinator state", .. })));
    }

    /// get_initial_patterns: "largest total_weight first, ties in bank order"; warm_start adds
    /// "up to its capacity (pattern_clusters)" and returns how many were added.
    #[test]
    fn initial_pattern_ties_keep_bank_order_and_warm_start_stops_at_capacity() {
        let mut rng = Rng::new(13);
        let mk = |rng: &mut Rng, w: f32| LearnedPattern {
            id: 0,
            centroid: unit(rng, DIM),
            direction: unit(rng, DIM),
            cluster_size: 1,
            total_weight: w,
            avg_quality: 0.8,
            created_at: 0,
            last_accessed: 0,
            access_count: 0,
            pattern_type: crate::types::PatternType::General,
        };
        let weights = [1.0, 2.0, 1.0, 2.0, 0.5, 2.0];
        let patterns: Vec<LearnedPattern> = weights.iter().map(|&w| mk(&mut rng, w)).collect();
        let mut c = coordinator(3);
        let mut holder = agent("holder", 1);
        assert_eq!(holder.warm_start(&patterns).unwrap(), 6);
        c.engine.bank = holder.engine.bank.clone();
        let ids: Vec<u64> = c.engine().patterns().iter().map(|p| p.id).collect();
        let picked: Vec<u64> = c.get_initial_patterns(4).unwrap().iter().map(|p| p.id).collect();
        assert_eq!(picked, [ids[1], ids[3], ids[5], ids[0]], "the three 2.0s, then the first 1.0");
        let config = SonaConfig { hidden_dim: DIM, embedding_dim: DIM, pattern_clusters: 4, ..SonaConfig::for_ephemeral() };
        let mut small = EphemeralAgent::with_config("small", config, 1).unwrap();
        assert_eq!(small.warm_start(&patterns[..3]).unwrap(), 3);
        assert_eq!(small.warm_start(&patterns[3..]).unwrap(), 1, "one place left");
        let kept: Vec<&Vec<f32>> = small.engine().patterns().iter().map(|p| &p.centroid).collect();
        assert_eq!(kept, patterns[..4].iter().map(|p| &p.centroid).collect::<Vec<_>>());
    }
}
