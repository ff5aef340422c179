//! Versioned binary state format.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  "SONAWASM"
//! 8       4     format version (u32 LE), currently 3 (versions 1 and 2 are still read)
//! 12      8     payload length in bytes (u64 LE)
//! 20      4     CRC-32 (IEEE) of the payload (u32 LE)
//! 24      n     payload: config, seed, rng, counters, MicroLoRA (+ pending update), BaseLoRA layers,
//!               EWC++ state and tasks, patterns, buffered and open trajectories, last finished
//!               trajectory — all little-endian, vectors as u32 length + items, strings as UTF-8.
//! ```
//! Loading checks the header, the length, the checksum, then every field (configuration validity,
//! vector lengths against `hidden_dim`, finite floats) before an engine is built.

use crate::config::SonaConfig;
use crate::engine::{Counters, LastFinished, SonaEngine};
use crate::error::{PersistError, Result, SonaError};
use crate::ewc::{EwcPlusPlus, EwcTask, MAX_TASKS};
use crate::lora::{LoraAdapter, LoraGradient};
use crate::reasoning_bank::ReasoningBank;
use crate::rng::Rng;
use crate::trajectory::TrajectoryBuffer;
use crate::types::{LearnedPattern, LearningSignal, PatternType, QueryTrajectory};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

/// Magic bytes at offset 0.
pub const MAGIC: [u8; 8] = *b"SONAWASM";
/// Current format version (written by [`save`]).
pub const VERSION: u32 = 3;
/// Oldest version [`load`] reads: version 1 differs only in the MicroLoRA pending update (rows
/// folded whole, then a loss sum), and loads into the same state; versions 1 and 2 lack the EWC++
/// previous starting loss (taken as the running mean).
pub const OLDEST_VERSION: u32 = 1;
/// Largest id a state may hold: 2^53 − 1, the largest integer a JS number holds exactly.
pub const MAX_COUNT: u64 = (1 << 53) - 1;
/// Header size in bytes.
pub const HEADER_LEN: usize = 24;

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3, as in zlib/PNG).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    #[inline(never)]
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    #[inline(never)]
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    #[inline(never)]
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    #[inline(never)]
    pub(crate) fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    #[inline(never)]
    pub(crate) fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    #[inline(never)]
    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    #[inline(never)]
    pub(crate) fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    #[inline(never)]
    pub(crate) fn f32s(&mut self, v: &[f32]) {
        self.len(v.len());
        self.0.reserve(v.len() * 4);
        for &x in v {
            self.f32(x);
        }
    }
    #[inline(never)]
    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    #[inline(never)]
    pub(crate) fn opt_str(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.bool(true);
                self.str(s);
            }
            None => self.bool(false),
        }
    }
    #[inline(never)]
    pub(crate) fn strs(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
}

pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}

pub(crate) type R<T> = core::result::Result<T, PersistError>;

pub(crate) const fn bad(what: &'static str) -> PersistError {
    PersistError::Malformed(what)
}

impl<'a> Reader<'a> {
    #[inline(never)]
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> R<&'a [u8]> {
        if self.b.len() - self.at < n {
            return Err(bad(what));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    #[inline(never)]
    pub(crate) fn u8(&mut self, what: &'static str) -> R<u8> {
        Ok(self.take(1, what)?[0])
    }
    #[inline(never)]
    pub(crate) fn u32(&mut self, what: &'static str) -> R<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or([0; 4])))
    }
    #[inline(never)]
    pub(crate) fn u64(&mut self, what: &'static str) -> R<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap_or([0; 8])))
    }
    /// An id: at most [`MAX_COUNT`] = 2^53 − 1, exact as a JS number (a checksum-valid payload with
    /// the next trajectory id at u64::MAX loaded, and the next start overflowed it). Counters are
    /// read as plain u64: every increment of one saturates.
    #[inline(never)]
    pub(crate) fn count(&mut self, what: &'static str) -> R<u64> {
        let v = self.u64(what)?;
        if v > MAX_COUNT {
            return Err(bad(what));
        }
        Ok(v)
    }
    #[inline(never)]
    pub(crate) fn f32(&mut self, what: &'static str) -> R<f32> {
        let v = f32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or([0; 4]));
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad(what))
        }
    }
    #[inline(never)]
    pub(crate) fn f64(&mut self, what: &'static str) -> R<f64> {
        let v = f64::from_le_bytes(self.take(8, what)?.try_into().unwrap_or([0; 8]));
        if v.is_finite() {
            Ok(v)
        } else {
            Err(bad(what))
        }
    }
    #[inline(never)]
    pub(crate) fn bool(&mut self, what: &'static str) -> R<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad(what)),
        }
    }
    #[inline(never)]
    pub(crate) fn usize(&mut self, what: &'static str) -> R<usize> {
        Ok(self.u64(what)? as usize)
    }
    /// A length prefix, bounded by the bytes left (each item needs at least `min_item` bytes).
    #[inline(never)]
    pub(crate) fn len(&mut self, min_item: usize, what: &'static str) -> R<usize> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_item.max(1)) > self.b.len() - self.at {
            return Err(bad(what));
        }
        Ok(n)
    }
    #[inline(never)]
    pub(crate) fn f32s(&mut self, expected: usize, what: &'static str) -> R<Vec<f32>> {
        let n = self.len(4, what)?;
        if n != expected {
            return Err(bad(what));
        }
        let raw = self.take(n * 4, what)?;
        let mut out = Vec::with_capacity(n);
        for c in raw.chunks_exact(4) {
            let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if !v.is_finite() {
                return Err(bad(what));
            }
            out.push(v);
        }
        Ok(out)
    }
    #[inline(never)]
    pub(crate) fn str(&mut self, what: &'static str) -> R<String> {
        let n = self.len(1, what)?;
        if n > crate::engine::MAX_STRING_LEN {
            return Err(bad(what));
        }
        let bytes = self.take(n, what)?;
        core::str::from_utf8(bytes).map(String::from).map_err(|_| bad(what))
    }
    #[inline(never)]
    pub(crate) fn opt_str(&mut self, what: &'static str) -> R<Option<String>> {
        Ok(if self.bool(what)? { Some(self.str(what)?) } else { None })
    }
    #[inline(never)]
    pub(crate) fn strs(&mut self, what: &'static str) -> R<Vec<String>> {
        let n = self.len(4, what)?;
        if n > crate::engine::MAX_CONTEXT_IDS {
            return Err(bad(what));
        }
        (0..n).map(|_| self.str(what)).collect()
    }
}

fn write_config(w: &mut Writer, c: &SonaConfig) {
    for v in [c.hidden_dim, c.embedding_dim, c.micro_lora_rank, c.base_lora_rank] {
        w.u64(v as u64);
    }
    for v in [c.micro_lora_lr, c.base_lora_lr, c.ewc_lambda] {
        w.f32(v);
    }
    w.u64(c.pattern_clusters as u64);
    w.u64(c.trajectory_capacity as u64);
    w.u64(c.background_interval_ms);
    w.f32(c.quality_threshold);
    w.bool(c.enable_simd);
    w.u64(c.base_lora_layers as u64);
    w.u64(c.micro_flush_interval as u64);
}

fn read_config(r: &mut Reader) -> R<SonaConfig> {
    let w = "config";
    Ok(SonaConfig {
        hidden_dim: r.usize(w)?,
        embedding_dim: r.usize(w)?,
        micro_lora_rank: r.usize(w)?,
        base_lora_rank: r.usize(w)?,
        micro_lora_lr: r.f32(w)?,
        base_lora_lr: r.f32(w)?,
        ewc_lambda: r.f32(w)?,
        pattern_clusters: r.usize(w)?,
        trajectory_capacity: r.usize(w)?,
        background_interval_ms: r.u64(w)?,
        quality_threshold: r.f32(w)?,
        enable_simd: r.bool(w)?,
        base_lora_layers: r.usize(w)?,
        micro_flush_interval: r.usize(w)?,
    })
}

pub(crate) fn write_signal(w: &mut Writer, s: &LearningSignal) {
    w.u64(s.trajectory_id);
    w.f32s(&s.query_embedding);
    w.f32s(&s.gradient_estimate);
    w.f32(s.quality_score);
    w.u32(s.step_count);
    w.u64(s.latency_us);
    w.opt_str(&s.model_route);
    w.strs(&s.context_ids);
}

pub(crate) fn read_signal(r: &mut Reader, dim: usize) -> R<LearningSignal> {
    let w = "buffered trajectory";
    Ok(LearningSignal {
        trajectory_id: r.count(w)?,
        query_embedding: r.f32s(dim, w)?,
        gradient_estimate: r.f32s(dim, w)?,
        quality_score: r.f32(w)?,
        step_count: r.u32(w)?,
        latency_us: r.u64(w)?,
        model_route: r.opt_str(w)?,
        context_ids: r.strs(w)?,
    })
}

pub(crate) fn write_adapter(w: &mut Writer, a: &LoraAdapter) {
    let (d, u) = a.params();
    w.f32s(d);
    w.f32s(u);
}

pub(crate) fn read_adapter(r: &mut Reader, dim: usize, rank: usize, what: &'static str) -> R<LoraAdapter> {
    let d = r.f32s(dim * rank, what)?;
    let u = r.f32s(dim * rank, what)?;
    LoraAdapter::from_parts(dim, rank, d, u).ok_or(bad(what))
}

pub(crate) fn write_pattern(w: &mut Writer, p: &LearnedPattern) {
    w.u64(p.id);
    w.f32s(&p.centroid);
    w.f32s(&p.direction);
    w.u32(p.cluster_size);
    w.f32(p.total_weight);
    w.f32(p.avg_quality);
    w.u64(p.created_at);
    w.u64(p.last_accessed);
    w.u32(p.access_count);
    w.u8(p.pattern_type.index());
}

pub(crate) fn read_pattern(r: &mut Reader, dim: usize) -> R<LearnedPattern> {
    let w = "pattern";
    Ok(LearnedPattern {
        id: r.count(w)?,
        centroid: r.f32s(dim, w)?,
        direction: r.f32s(dim, w)?,
        cluster_size: r.u32(w)?,
        total_weight: r.f32(w)?,
        avg_quality: r.f32(w)?,
        created_at: r.u64(w)?,
        last_accessed: r.u64(w)?,
        access_count: r.u32(w)?,
        pattern_type: *PatternType::ALL.get(r.u8(w)? as usize).ok_or(bad("pattern type"))?,
    })
}

/// Serialises the whole engine (see the module docs for the layout).
pub fn save(e: &SonaEngine) -> Vec<u8> {
    save_version(e, VERSION)
}

/// [`save`] in format `version`: [`VERSION`], or (tests only) version 1 or 2.
pub(crate) fn save_version(e: &SonaEngine, version: u32) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(4096));
    write_config(&mut w, &e.config);
    w.u64(e.seed);
    w.u64(e.rng.state());
    let c = &e.counters;
    for v in [
        c.trajectories_started,
        c.trajectories_completed,
        c.trajectories_learned,
        c.trajectories_filtered,
        c.trajectories_skipped,
        c.steps_recorded,
        c.instant_cycles,
        c.micro_samples_applied,
        c.background_cycles,
        c.deep_consolidations,
        c.feedback_count,
    ] {
        w.u64(v);
    }
    w.u64(e.next_id);
    w.bool(e.last_background_ms.is_some());
    w.u64(e.last_background_ms.unwrap_or(0));
    w.f32(e.reward_mean);
    w.u64(e.reward_seen);
    w.f32(e.base_loss);
    w.bool(e.enabled);
    // MicroLoRA and its pending update.
    write_adapter(&mut w, &e.micro);
    // As kept (vector rows and row mixes, see `LoraGradient`): a loaded engine continues bit for bit.
    let g = &e.micro_grad;
    #[cfg(test)]
    if version == 1 {
        let g = g.materialized(e.kernels, &e.micro);
        w.f32s(&g.down);
        w.f32s(&g.up);
        w.u32(g.samples);
        w.f32(0.0);
    }
    if version >= 2 {
        w.f32s(&g.down);
        w.f32s(&g.up);
        for m in g.down_mix.iter().chain(&g.up_mix) {
            w.f32(*m);
        }
        w.u32(g.samples);
    }
    // BaseLoRA.
    for l in &e.base {
        write_adapter(&mut w, l);
    }
    // EWC++.
    let x = &e.ewc;
    w.f32(x.lambda);
    w.f32s(&x.fisher);
    w.f32(x.loss_mean);
    w.f32(x.loss_var);
    w.u32(x.loss_count);
    if version >= 3 {
        w.f32(x.loss_prev);
    }
    w.u64(x.boundaries);
    w.len(x.tasks.len());
    for t in &x.tasks {
        w.f32s(&t.optimum);
        w.f32s(&t.fisher);
    }
    // ReasoningBank.
    w.u64(e.bank.next_id);
    w.len(e.bank.patterns.len());
    for p in &e.bank.patterns {
        write_pattern(&mut w, p);
    }
    // Buffered trajectories.
    w.u64(e.buffer.dropped());
    w.len(e.buffer.len());
    for s in e.buffer.iter() {
        write_signal(&mut w, s);
    }
    // Open trajectories.
    w.len(e.open.len());
    for t in &e.open {
        w.u64(t.id);
        w.f32s(&t.query_embedding);
        // Before the first step the sums' contents mean nothing: the format stores zeros then.
        if t.step_count == 0 {
            let zeros = alloc::vec![0.0f32; e.config.hidden_dim];
            w.f32s(&zeros);
            w.f32s(&zeros);
        } else {
            w.f32s(&t.reward_weighted_sum);
            w.f32s(&t.activation_sum);
        }
        w.f64(t.reward_sum);
        w.u32(t.step_count);
        w.u64(t.latency_us);
        w.opt_str(&t.model_route);
        w.strs(&t.context_ids);
    }
    // Last finished trajectory.
    w.bool(e.last.valid);
    w.u64(e.last.id);
    w.f32s(&e.last.query);
    w.f32s(&e.last.gradient);
    w.f32(e.last.quality);

    seal(&MAGIC, version, &w.0)
}

/// Frames a payload: `magic`, `version`, payload length, CRC-32, payload (the layout of the
/// module docs; other formats of the crate reuse it with their own magic).
pub(crate) fn seal(magic: &[u8; 8], version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Checks a [`seal`]ed frame's magic, version (exactly `supported`), length and checksum and
/// returns the payload.
pub(crate) fn open_sealed<'a>(magic: &[u8; 8], supported: u32, bytes: &'a [u8]) -> R<&'a [u8]> {
    open_sealed_from(magic, supported, supported, bytes).map(|(_, payload)| payload)
}

/// [`open_sealed`] for a reader of versions `oldest..=supported`: returns the frame's version and
/// its payload.
fn open_sealed_from<'a>(magic: &[u8; 8], oldest: u32, supported: u32, bytes: &'a [u8]) -> R<(u32, &'a [u8])> {
    if bytes.len() < magic.len() || bytes[..magic.len()] != magic[..] {
        // Too short to hold the magic, or a different magic: either way not our bytes unless a
        // prefix of the magic matches (then it is a truncated state).
        if bytes.len() < magic.len() && magic.starts_with(bytes) {
            return Err(PersistError::Truncated { needed: HEADER_LEN, got: bytes.len() });
        }
        return Err(PersistError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(PersistError::Truncated { needed: HEADER_LEN, got: bytes.len() });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
    if !(oldest..=supported).contains(&version) {
        return Err(PersistError::UnsupportedVersion { found: version, oldest, supported });
    }
    let declared = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or([0; 8]));
    let actual = (bytes.len() - HEADER_LEN) as u64;
    if declared != actual {
        return Err(PersistError::LengthMismatch { declared, actual });
    }
    let stored = u32::from_le_bytes(bytes[20..24].try_into().unwrap_or([0; 4]));
    let payload = &bytes[HEADER_LEN..];
    let computed = crc32(payload);
    if stored != computed {
        return Err(PersistError::ChecksumMismatch { stored, computed });
    }
    Ok((version, payload))
}

/// Parses and validates state bytes into an engine.
pub fn load(bytes: &[u8]) -> Result<SonaEngine> {
    let (version, payload) = open_sealed_from(&MAGIC, OLDEST_VERSION, VERSION, bytes)?;
    let mut r = Reader { b: payload, at: 0 };
    let config = read_config(&mut r)?;
    config.validate().map_err(|_| SonaError::Persist(bad("config fails validation")))?;
    let dim = config.hidden_dim;
    let seed = r.u64("seed")?;
    let rng = Rng::from_state(r.u64("rng")?);
    let w = "counters";
    let counters = Counters {
        trajectories_started: r.u64(w)?,
        trajectories_completed: r.u64(w)?,
        trajectories_learned: r.u64(w)?,
        trajectories_filtered: r.u64(w)?,
        trajectories_skipped: r.u64(w)?,
        steps_recorded: r.u64(w)?,
        instant_cycles: r.u64(w)?,
        micro_samples_applied: r.u64(w)?,
        background_cycles: r.u64(w)?,
        deep_consolidations: r.u64(w)?,
        feedback_count: r.u64(w)?,
    };
    let next_id = r.count("next trajectory id")?;
    let has_bg = r.bool("clock")?;
    let bg = r.u64("clock")?;
    let reward_mean = r.f32("mean reward")?;
    let reward_seen = r.u64("mean reward")?;
    let base_loss = r.f32("base loss")?;
    let enabled = r.bool("enabled flag")?;
    let micro = read_adapter(&mut r, dim, config.micro_lora_rank, "MicroLoRA weights")?;
    let mut micro_grad = LoraGradient::zeros(dim, config.micro_lora_rank);
    micro_grad.down = r.f32s(dim * config.micro_lora_rank, "MicroLoRA pending update")?;
    micro_grad.up = r.f32s(dim * config.micro_lora_rank, "MicroLoRA pending update")?;
    // Version 1 kept the rows whole (no mixes) and a loss sum that nothing read.
    if version >= 2 {
        for m in micro_grad.down_mix.iter_mut().chain(&mut micro_grad.up_mix) {
            *m = r.f32("MicroLoRA pending update")?;
        }
    }
    micro_grad.samples = r.u32("MicroLoRA pending update")?;
    if version == 1 {
        r.f32("MicroLoRA pending update")?;
    }
    let base = (0..config.base_lora_layers)
        .map(|_| read_adapter(&mut r, dim, config.base_lora_rank, "BaseLoRA weights"))
        .collect::<R<Vec<_>>>()?;
    let params = 2 * dim * config.base_lora_rank * config.base_lora_layers;
    let mut ewc = EwcPlusPlus::new(params, config.ewc_lambda);
    let lambda = r.f32("EWC++ state")?;
    if config.ewc_lambda > 0.0 && !(crate::config::EWC_LAMBDA_RANGE.0..=crate::config::EWC_LAMBDA_RANGE.1).contains(&lambda) {
        return Err(bad("EWC++ lambda out of range").into());
    }
    ewc.lambda = lambda;
    ewc.fisher = r.f32s(params, "EWC++ Fisher")?;
    ewc.loss_mean = r.f32("EWC++ state")?;
    ewc.loss_var = r.f32("EWC++ state")?;
    ewc.loss_count = r.u32("EWC++ state")?;
    ewc.loss_prev = if version >= 3 { r.f32("EWC++ state")? } else { ewc.loss_mean };
    ewc.boundaries = r.u64("EWC++ state")?;
    let tasks = r.len(8, "EWC++ tasks")?;
    if tasks > MAX_TASKS {
        return Err(bad("EWC++ tasks").into());
    }
    for _ in 0..tasks {
        let optimum = r.f32s(params, "EWC++ task")?;
        let fisher = r.f32s(params, "EWC++ task")?;
        ewc.tasks.push_back(EwcTask { optimum, fisher });
    }
    let bank_next = r.count("patterns")?;
    let np = r.len(16, "patterns")?;
    if np > config.pattern_clusters {
        return Err(bad("more patterns than pattern_clusters").into());
    }
    let mut patterns = Vec::with_capacity(np);
    for _ in 0..np {
        patterns.push(read_pattern(&mut r, dim)?);
    }
    let bank = ReasoningBank::from_parts(dim, config.pattern_clusters, patterns, bank_next);
    let dropped = r.u64("trajectory buffer")?;
    let nb = r.len(16, "trajectory buffer")?;
    if nb > config.trajectory_capacity {
        return Err(bad("more buffered trajectories than trajectory_capacity").into());
    }
    let mut items = VecDeque::with_capacity(nb);
    for _ in 0..nb {
        items.push_back(read_signal(&mut r, dim)?);
    }
    let buffer = TrajectoryBuffer::from_parts(config.trajectory_capacity, items, dropped);
    let no = r.len(16, "open trajectories")?;
    if no > crate::engine::MAX_OPEN_TRAJECTORIES {
        return Err(bad("open trajectories").into());
    }
    let mut open = Vec::with_capacity(no);
    for _ in 0..no {
        let w = "open trajectory";
        let t = QueryTrajectory {
            id: r.count(w)?,
            query_embedding: r.f32s(dim, w)?,
            reward_weighted_sum: r.f32s(dim, w)?,
            activation_sum: r.f32s(dim, w)?,
            reward_sum: r.f64(w)?,
            step_count: r.u32(w)?,
            latency_us: r.u64(w)?,
            model_route: r.opt_str(w)?,
            context_ids: r.strs(w)?,
        };
        if t.id == 0 || t.id >= next_id {
            return Err(bad("open trajectory id").into());
        }
        // Every open id names one trajectory (a linear check: it runs once per load).
        if open.iter().any(|o: &QueryTrajectory| o.id == t.id) {
            return Err(bad("duplicate open trajectory id").into());
        }
        open.push(t);
    }
    let w = "last finished trajectory";
    let last = LastFinished { valid: r.bool(w)?, id: r.count(w)?, query: r.f32s(dim, w)?, gradient: r.f32s(dim, w)?, quality: r.f32(w)? };
    if r.at != payload.len() {
        return Err(bad("trailing bytes after the last field").into());
    }
    Ok(SonaEngine::from_parts(
        config,
        seed,
        rng,
        micro,
        micro_grad,
        base,
        ewc,
        bank,
        buffer,
        open,
        next_id,
        last,
        has_bg.then_some(bg),
        reward_mean,
        reward_seen,
        base_loss,
        enabled,
        counters,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
