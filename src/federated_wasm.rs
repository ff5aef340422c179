//! JavaScript bindings of federated learning (`WasmEphemeralAgent`, `WasmFederatedCoordinator`),
//! compiled only into the `sona-wasm/federated` module (cargo feature `federated`), which also
//! carries `WasmSonaEngine`: the federated code would not fit the SONA module's 64 KB gzip budget,
//! and users who do not federate should not download it. Conversion and validation only, as in
//! [`crate::wasm`]; the algorithms live in [`crate::federated`].

use crate::engine::SonaEngine;
use crate::federated::{AgentExport, EphemeralAgent, FederatedCoordinator};
use crate::types::LearnedPattern;
use crate::config::SonaConfig;
use crate::wasm::{err, flag, integer, num, pattern_array, preset_dim, plain, random_seed, report_object, stats_object, PATTERN_KEYS};
use alloc::string::String;
use alloc::vec::Vec;
use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_FEDERATED_TYPES: &'static str = r#"
/** `WasmEphemeralAgent.stats()`: the agent's counters and its engine's statistics. */
export interface SonaAgentStats {
  agent_id: string;
  /** Trajectories processed by `processTrajectory`. */
  trajectories_processed: number;
  /** Trajectories the next `exportState()` will carry (at most the agent's `trajectory_capacity`). */
  trajectories_exportable: number;
  /** Older trajectories dropped from the export record because it was full. */
  export_dropped: number;
  /** Trajectories that passed the agent's own quality threshold and were learned locally. */
  trajectories_learned: number;
  /** The agent's engine. */
  engine: SonaStats;
}

/** What `WasmFederatedCoordinator.aggregate` did with one agent export. */
export interface SonaAggregationResult {
  agent_id: string;
  /** Trajectories at or above the quality threshold, added to the coordinator. */
  trajectories_accepted: number;
  /** Trajectories below the quality threshold. */
  trajectories_rejected: number;
  /** Older buffered trajectories dropped to make room (trajectory capacity). */
  trajectories_dropped: number;
  /** Agents aggregated so far, this one included. */
  agents_aggregated: number;
  /** Whether this call consolidated (every `consolidation_interval` agents). */
  consolidated: boolean;
  /** Patterns held by the coordinator afterwards. */
  patterns_stored: number;
}

/** `WasmFederatedCoordinator.stats()`. */
export interface SonaCoordinatorStats {
  coordinator_id: string;
  agents_aggregated: number;
  /** Trajectories accepted over all agents. */
  trajectories_accepted: number;
  /** Trajectories rejected (below the threshold) over all agents. */
  trajectories_rejected: number;
  /** Consolidations run (automatic and `consolidate()`). */
  consolidations: number;
  agents_since_consolidation: number;
  quality_threshold: number;
  consolidation_interval: number;
  /** The coordinator's engine (`trajectories_buffered`, `trajectories_dropped`, `patterns_stored`, ...). */
  engine: SonaStats;
}

"#;

fn find_in(keys: &[JsValue], engine: &mut SonaEngine, query: &[f32], k: f64) -> Result<Array, JsValue> {
    let k = integer("k", k, 4_294_967_295.0)? as usize;
    let now = crate::js_read::now_ms()?;
    let hits = engine.find_pattern_indices(query, k, now).map_err(err)?;
    let patterns = engine.patterns();
    let refs: Vec<(&LearnedPattern, Option<f32>)> = hits.iter().map(|&(i, s)| (&patterns[i], Some(s))).collect();
    Ok(pattern_array(keys, &refs))
}

/// A constructor's string argument: taken as a `JsValue`, since wasm-bindgen's own check would
/// throw an error that names no parameter.
fn string_arg(what: &str, v: &JsValue) -> Result<String, JsError> {
    v.as_string().ok_or_else(|| {
        let got = if v.is_null() { String::from("null") } else { v.js_typeof().as_string().unwrap_or_default() };
        JsError::new(&alloc::format!("{what} must be a string, got {got}"))
    })
}

fn keys() -> Vec<JsValue> {
    PATTERN_KEYS.iter().map(|k| JsValue::from_str(k)).collect()
}

/// A short-lived federated agent (the seed's `EphemeralAgent`): an engine with the
/// `for_ephemeral` preset that learns from the tasks it processes and exports them as bytes for a
/// `WasmFederatedCoordinator`, e.g. from a Worker or an edge function.
#[wasm_bindgen]
pub struct WasmEphemeralAgent {
    agent: EphemeralAgent,
    pattern_keys: Vec<JsValue>,
}

#[wasm_bindgen]
impl WasmEphemeralAgent {
    /// Agent `agentId` (at most 256 bytes) with the `for_ephemeral` preset at
    /// `hidden_dim = embedding_dim = hiddenDim` (an integer in 4..=8192: at least the preset's
    /// `base_lora_rank`), seeded randomly.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = "agentId", unchecked_param_type = "string")] agent_id: JsValue, #[wasm_bindgen(js_name = "hiddenDim", unchecked_param_type = "number")] hidden_dim: JsValue) -> Result<WasmEphemeralAgent, JsError> {
        let agent_id = string_arg("agentId", &agent_id)?;
        let dim = preset_dim(&hidden_dim, &SonaConfig::for_ephemeral(), "the for_ephemeral preset")?;
        let agent = EphemeralAgent::new(&agent_id, dim, random_seed()).map_err(err)?;
        Ok(WasmEphemeralAgent { agent, pattern_keys: keys() })
    }

    /// Agent (the `for_ephemeral` preset) warm-started with a coordinator's best patterns, given
    /// as the bytes of `WasmFederatedCoordinator.exportInitialPatterns(k)` (they can cross to a
    /// Worker or an edge function): its `findPatterns` works before it has processed anything.
    #[wasm_bindgen(js_name = withPatterns)]
    pub fn with_patterns(#[wasm_bindgen(js_name = "agentId")] agent_id: &str, #[wasm_bindgen(js_name = "hiddenDim")] hidden_dim: f64, #[wasm_bindgen(js_name = "patternBytes")] pattern_bytes: &[u8]) -> Result<WasmEphemeralAgent, JsError> {
        let mut a = Self::new(JsValue::from_str(agent_id), JsValue::from(hidden_dim))?;
        a.warm_start(pattern_bytes)?;
        Ok(a)
    }

    /// Adds the patterns of `exportInitialPatterns(k)` bytes (or of any agent's `exportState()`)
    /// to the agent's ReasoningBank (fresh ids, no accesses) up to its capacity
    /// (`pattern_clusters`); returns how many were added. Throws on bad bytes or another
    /// `hiddenDim`, adding nothing.
    #[wasm_bindgen(js_name = warmStart)]
    pub fn warm_start(&mut self, #[wasm_bindgen(js_name = "patternBytes")] pattern_bytes: &[u8]) -> Result<u32, JsError> {
        let export = AgentExport::from_bytes(pattern_bytes).map_err(err)?;
        Ok(self.agent.warm_start_from(&export).map_err(err)? as u32)
    }

    /// Processes one finished task: the query `embedding`, the hidden-state `activations` (both
    /// `hiddenDim` long), the outcome `quality` in [0, 1], the model `route` and context tags.
    /// The agent learns from it locally (a one-step trajectory rewarded with `quality`; its
    /// background loop runs on the preset's interval) and keeps it for `exportState()`.
    #[wasm_bindgen(js_name = processTrajectory)]
    pub fn process_trajectory(&mut self, embedding: &[f32], activations: &[f32], quality: f64, route: Option<String>, contexts: Option<Vec<String>>) -> Result<(), JsValue> {
        let contexts = contexts.unwrap_or_default();
        let now = crate::js_read::now_ms()?;
        Ok(self.agent.process_trajectory(embedding, activations, quality as f32, route.as_deref(), &contexts, now).map_err(err)?)
    }

    /// The agent's export (trajectories, counters, patterns, MicroLoRA) as versioned bytes
    /// (magic "SONAFEDX", version, length, CRC-32) for `WasmFederatedCoordinator.aggregate`.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Vec<u8> {
        self.agent.export_bytes()
    }

    /// The agent's counters and its engine's statistics.
    #[wasm_bindgen(unchecked_return_type = "SonaAgentStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.agent.stats();
        let o = plain();
        o.put_val(&JsValue::from_str("agent_id"), &JsValue::from_str(self.agent.id()));
        num(&o, "trajectories_processed", s.counters.trajectories_processed as f64);
        num(&o, "trajectories_exportable", s.trajectories_exportable as f64);
        num(&o, "export_dropped", s.counters.trajectories_dropped as f64);
        num(&o, "trajectories_learned", s.counters.trajectories_learned as f64);
        o.put_val(&JsValue::from_str("engine"), &stats_object(&s.engine));
        o.into()
    }

    /// The `k` (>= 1) patterns most similar to `query`, best first (as `WasmSonaEngine.findPatterns`).
    #[wasm_bindgen(js_name = findPatterns, unchecked_return_type = "SonaPattern[]")]
    pub fn find_patterns(&mut self, query: &[f32], k: f64) -> Result<Array, JsValue> {
        find_in(&self.pattern_keys, self.agent.engine_mut(), query, k)
    }

    /// `hidden_dim` of the agent.
    #[wasm_bindgen(getter, js_name = hiddenDim)]
    pub fn hidden_dim(&self) -> u32 {
        self.agent.engine().config().hidden_dim as u32
    }
}

/// The federated coordinator (the seed's `FederatedCoordinator`): a persistent engine (the
/// `for_coordinator` preset: 50,000-trajectory buffer, base rank 16, quality threshold 0.4) that
/// aggregates agent exports, consolidates every `consolidation_interval` (default 50) agents and
/// hands its best patterns to new agents.
#[wasm_bindgen]
pub struct WasmFederatedCoordinator {
    coordinator: FederatedCoordinator,
    pattern_keys: Vec<JsValue>,
}

#[wasm_bindgen]
impl WasmFederatedCoordinator {
    /// Coordinator `coordinatorId` (at most 256 bytes) with the `for_coordinator` preset at
    /// `hidden_dim = embedding_dim = hiddenDim` (an integer in 16..=671: at least the preset's
    /// `base_lora_rank`, and small enough for its 50,000-trajectory buffer, `2 · hidden_dim ·
    /// 50000` floats at most 2^26), seeded randomly.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(js_name = "coordinatorId", unchecked_param_type = "string")] coordinator_id: JsValue, #[wasm_bindgen(js_name = "hiddenDim", unchecked_param_type = "number")] hidden_dim: JsValue) -> Result<WasmFederatedCoordinator, JsError> {
        let coordinator_id = string_arg("coordinatorId", &coordinator_id)?;
        let dim = preset_dim(&hidden_dim, &SonaConfig::for_coordinator(), "the for_coordinator preset")?;
        let coordinator = FederatedCoordinator::new(&coordinator_id, dim, random_seed()).map_err(err)?;
        Ok(WasmFederatedCoordinator { coordinator, pattern_keys: keys() })
    }

    /// Later `aggregate` calls reject trajectories below `threshold` (a number within [0, 1]).
    #[wasm_bindgen(js_name = setQualityThreshold)]
    pub fn set_quality_threshold(&mut self, threshold: f64) -> Result<(), JsError> {
        self.coordinator.set_quality_threshold(threshold as f32).map_err(err)
    }

    /// Consolidate automatically after every `agents` aggregated agents (an integer >= 1).
    #[wasm_bindgen(js_name = setConsolidationInterval)]
    pub fn set_consolidation_interval(&mut self, agents: f64) -> Result<(), JsError> {
        let n = integer("consolidation interval", agents, 4_294_967_295.0)?;
        self.coordinator.set_consolidation_interval(n as usize).map_err(err)
    }

    /// Aggregates an agent's `exportState()` bytes: trajectories at or above the quality
    /// threshold are learned from (MicroLoRA, bounded buffer), the rest counted as rejected;
    /// consolidates every `consolidation_interval` agents. Truncated, corrupted, foreign or
    /// wrong-version bytes and exports of another `hiddenDim` throw, leaving the coordinator unchanged.
    #[wasm_bindgen(unchecked_return_type = "SonaAggregationResult")]
    pub fn aggregate(&mut self, #[wasm_bindgen(js_name = "exportBytes")] export_bytes: &[u8]) -> Result<JsValue, JsValue> {
        let now = crate::js_read::now_ms()?;
        let r = self.coordinator.aggregate_bytes(export_bytes, now).map_err(err)?;
        let o = plain();
        o.put_val(&JsValue::from_str("agent_id"), &JsValue::from_str(&r.agent_id));
        num(&o, "trajectories_accepted", r.trajectories_accepted as f64);
        num(&o, "trajectories_rejected", r.trajectories_rejected as f64);
        num(&o, "trajectories_dropped", r.trajectories_dropped as f64);
        num(&o, "agents_aggregated", r.agents_aggregated as f64);
        flag(&o, "consolidated", r.consolidated);
        num(&o, "patterns_stored", r.patterns_stored as f64);
        Ok(o.into())
    }

    /// Consolidates now: flushes MicroLoRA, clusters the buffered trajectories into patterns,
    /// trains BaseLoRA, consolidates an EWC++ task (as `WasmSonaEngine.forceLearn`).
    #[wasm_bindgen(unchecked_return_type = "SonaLearnReport")]
    pub fn consolidate(&mut self) -> Result<JsValue, JsValue> {
        let now = crate::js_read::now_ms()?;
        Ok(report_object(&self.coordinator.consolidate(now).map_err(err)?))
    }

    /// The `k` (>= 1) best patterns (largest `total_weight` first) to warm-start a new agent with
    /// `WasmEphemeralAgent.withPatterns`; the objects of `findPatterns`, with `similarity` 0 (no query).
    #[wasm_bindgen(js_name = getInitialPatterns, unchecked_return_type = "SonaPattern[]")]
    pub fn get_initial_patterns(&self, k: f64) -> Result<Array, JsError> {
        let k = integer("k", k, 4_294_967_295.0)? as usize;
        let best = self.coordinator.get_initial_patterns(k).map_err(err)?;
        let refs: Vec<(&LearnedPattern, Option<f32>)> = best.iter().map(|p| (p, Some(0.0))).collect();
        Ok(pattern_array(&self.pattern_keys, &refs))
    }

    /// `getInitialPatterns(k)` as bytes (the agent-export format, no trajectories) for
    /// `WasmEphemeralAgent.withPatterns` / `warmStart`.
    #[wasm_bindgen(js_name = exportInitialPatterns)]
    pub fn export_initial_patterns(&self, k: f64) -> Result<Vec<u8>, JsError> {
        let k = integer("k", k, 4_294_967_295.0)? as usize;
        let best = self.coordinator.get_initial_patterns(k).map_err(err)?;
        Ok(crate::federated::patterns_bytes(self.coordinator.id(), self.coordinator.engine().config().hidden_dim, &best))
    }

    /// The coordinator's counters and its engine's statistics.
    #[wasm_bindgen(unchecked_return_type = "SonaCoordinatorStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.coordinator.stats();
        let o = plain();
        o.put_val(&JsValue::from_str("coordinator_id"), &JsValue::from_str(self.coordinator.id()));
        num(&o, "agents_aggregated", s.agents_aggregated as f64);
        num(&o, "trajectories_accepted", s.trajectories_accepted as f64);
        num(&o, "trajectories_rejected", s.trajectories_rejected as f64);
        num(&o, "consolidations", s.consolidations as f64);
        num(&o, "agents_since_consolidation", s.agents_since_consolidation as f64);
        num(&o, "quality_threshold", s.quality_threshold as f64);
        num(&o, "consolidation_interval", s.consolidation_interval as f64);
        o.put_val(&JsValue::from_str("engine"), &stats_object(&s.engine));
        o.into()
    }

    /// The `k` (>= 1) patterns most similar to `query`, best first (as `WasmSonaEngine.findPatterns`).
    #[wasm_bindgen(js_name = findPatterns, unchecked_return_type = "SonaPattern[]")]
    pub fn find_patterns(&mut self, query: &[f32], k: f64) -> Result<Array, JsValue> {
        find_in(&self.pattern_keys, self.coordinator.engine_mut(), query, k)
    }

    /// `input + MicroLoRA delta(input)` with the coordinator's MicroLoRA (learned from every
    /// accepted trajectory).
    #[wasm_bindgen(js_name = applyLora)]
    pub fn apply_lora(&self, input: &[f32]) -> Result<Vec<f32>, JsError> {
        self.coordinator.engine().apply_lora(input).map_err(err)
    }

    /// The coordinator's MicroLoRA and BaseLoRA adapters as a SafeTensors file with PEFT's tensor
    /// names; the same format as `WasmSonaEngine.exportLora(prefix)` (see there).
    #[wasm_bindgen(js_name = exportLora)]
    pub fn export_lora(&self, prefix: Option<String>) -> Result<Vec<u8>, JsError> {
        crate::lora_export::export_lora(self.coordinator.engine(), prefix.as_deref()).map_err(err)
    }

    /// `hidden_dim` of the coordinator.
    #[wasm_bindgen(getter, js_name = hiddenDim)]
    pub fn hidden_dim(&self) -> u32 {
        self.coordinator.engine().config().hidden_dim as u32
    }
}
