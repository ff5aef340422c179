//! Co-simulation stimulus and expected trace for `rtl/` (see rtl/README.md, "Co-simulation").
//!
//! `cargo run --release -p micro-hnsw --example snn_cosim -- <seed> <steps>` writes to stdout a binary
//! stream of little-endian u32 words that the Verilator testbench (rtl/tb/cosim.cpp) replays;
//! `-- --directed` writes the directed stream instead (rate saturation, `run_directed`). Records:
//!
//! * command record, 6 words: `[1 | op << 8 | neuron << 16 | slot << 24, a, b, c, expected_response, 0]`
//! * state record, 2 + STATE_WORDS words: `[2, step]` then the model's full state after the step
//!   (layout in `dump`), compared field by field with the RTL;
//! * end record, 4 words: `[3, steps, neuron_updates_lo, neuron_updates_hi]`.
//!
//! Every step issues a few host writes (currents, membranes, thresholds, synapses), one read, and one
//! compute command (mostly a tick, then mostly homeostasis and the oscillator as a caller of the 2.3
//! ABI runs them), then a state record. The random choices are biased toward the corners: saturated
//! currents and potentials, threshold equality, refractory boundaries, dt of 0, negative and beyond
//! DT_MAX, weights at 0 and 255, WTA ties, empty and full active masks, synapse counts at and just
//! above MAX_EDGES, synapse slots 6 and 7 (ignored).
use micro_hnsw::snn::*;
use std::io::{BufWriter, Write};

// Command opcodes of rtl/snn_core.v.
const OP_RESET: u32 = 0;
const OP_SET_MEMBRANE: u32 = 1;
const OP_SET_THRESHOLD: u32 = 2;
const OP_INJECT: u32 = 3;
const OP_SET_SYNAPSE: u32 = 4;
const OP_SET_COUNT: u32 = 5;
const OP_SET_NODE_WEIGHT: u32 = 6;
const OP_TICK: u32 = 7;
const OP_STEP: u32 = 8;
const OP_PROPAGATE: u32 = 9;
const OP_STDP: u32 = 10;
const OP_HOMEOSTASIS: u32 = 11;
const OP_OSCILLATOR: u32 = 12;
const OP_WTA_RESET: u32 = 13;
const OP_WTA_COMPETE: u32 = 14;
const OP_WTA_SOFT: u32 = 15;
const OP_READ: u32 = 16;

/// SplitMix64: small, seedable, good enough for stimulus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u32) -> u32 {
        (((self.next() >> 32) * n as u64) >> 32) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
    fn range(&mut self, lo: i64, hi: i64) -> i32 {
        (lo + (self.next() % ((hi - lo + 1) as u64)) as i64) as i32
    }
}

/// Corner cases the stimulus reached (printed to stderr; `make test` requires every one > 0).
#[derive(Default)]
struct Coverage {
    threshold_equal: u64,
    membrane_saturated: u64,
    current_saturated: u64,
    refractory_ends: u64,
    simultaneous_spikes: u64,
    weight_clamped_low: u64,
    weight_clamped_high: u64,
    wta_tie: u64,
    wta_empty: u64,
    zero_current: u64,
    max_current: u64,
    dt_clamped: u64,
    dt_zero: u64,
    /// SET_COUNT with a[7:0] = MAX_EDGES + 1, the smallest count that must clamp to MAX_EDGES.
    count_just_above_max: u64,
    /// SET_SYNAPSE with slot ≥ MAX_EDGES (6 or 7 in the 3-bit field), which must change nothing.
    synapse_slot_ignored: u64,
    /// Neurons whose rate estimate saturated at u32::MAX in a HOMEOSTASIS (directed stream).
    rate_saturated: u64,
    /// Neurons whose threshold homeostasis clamped to THRESHOLD_MAX / THRESHOLD_MIN (directed stream).
    homeo_threshold_max: u64,
    homeo_threshold_min: u64,
}

impl Coverage {
    /// The counters of the directed stream (`--directed`); `make test` requires each > 0.
    fn report_directed(&self) -> String {
        format!(
            "coverage: rate_saturated={} homeo_threshold_max={} homeo_threshold_min={}",
            self.rate_saturated, self.homeo_threshold_max, self.homeo_threshold_min
        )
    }

    /// The counters of a random stream; `make test` requires each > 0.
    fn report(&self) -> String {
        let items = [
            ("threshold_equal", self.threshold_equal),
            ("membrane_saturated", self.membrane_saturated),
            ("current_saturated", self.current_saturated),
            ("refractory_ends", self.refractory_ends),
            ("simultaneous_spikes", self.simultaneous_spikes),
            ("weight_clamped_low", self.weight_clamped_low),
            ("weight_clamped_high", self.weight_clamped_high),
            ("wta_tie", self.wta_tie),
            ("wta_empty", self.wta_empty),
            ("zero_current", self.zero_current),
            ("max_current", self.max_current),
            ("dt_clamped", self.dt_clamped),
            ("dt_zero", self.dt_zero),
            ("count_just_above_max", self.count_just_above_max),
            ("synapse_slot_ignored", self.synapse_slot_ignored),
        ];
        let mut s = String::from("coverage:");
        for (name, n) in items {
            s += &format!(" {name}={n}");
        }
        s
    }
}

struct Cosim<W: Write> {
    cov: Coverage,
    out: W,
    rng: Rng,
    core: SnnCore,
    syn: Synapses,
    node_weight: [u8; NEURONS],
    updates: u64,
}

impl<W: Write> Cosim<W> {
    fn words(&mut self, w: &[u32]) {
        for x in w {
            self.out.write_all(&x.to_le_bytes()).expect("stdout");
        }
    }
    #[allow(clippy::too_many_arguments)] // one argument per field of the 6-word command record
    fn cmd(&mut self, op: u32, neuron: usize, slot: usize, a: u32, b: u32, c: u32, expect: u32) {
        self.words(&[1 | op << 8 | (neuron as u32) << 16 | (slot as u32) << 24, a, b, c, expect, 0]);
    }

    /// Applies one command to the model and records it with the model's response.
    fn apply(&mut self, op: u32, n: usize, slot: usize, a: u32, b: u32, c: u32) {
        let (fa, fb) = (a as i32, b as i32);
        self.observe_before(op, fa, slot, c);
        let r = match op {
            OP_RESET => {
                self.core.reset();
                0
            }
            OP_SET_MEMBRANE => {
                self.core.set_membrane(n, fa);
                0
            }
            OP_SET_THRESHOLD => {
                self.core.set_threshold(n, fa);
                0
            }
            OP_INJECT => {
                self.core.inject(n, fa);
                0
            }
            OP_SET_SYNAPSE => {
                // The RTL ignores a slot beyond the table's six (README, "Host interface"); the
                // model's table has no such slot (indexing it would panic).
                if slot < MAX_EDGES {
                    self.syn.target[n][slot] = a as u8;
                    self.syn.weight[n][slot] = b as u8;
                }
                0
            }
            OP_SET_COUNT => {
                // a[7:0], as the RTL reads it; edges() clamps to MAX_EDGES.
                self.syn.count[n] = a as u8;
                0
            }
            OP_SET_NODE_WEIGHT => {
                self.node_weight[n] = a as u8;
                0
            }
            OP_TICK => {
                self.updates += c.count_ones() as u64;
                self.core.tick(&mut self.syn, &self.node_weight, fa, fb, slot & 1 != 0, c)
            }
            OP_STEP => {
                self.updates += c.count_ones() as u64;
                self.core.step(fa, c)
            }
            OP_PROPAGATE => {
                self.core.propagate(&self.syn, &self.node_weight, fb);
                0
            }
            OP_STDP => {
                self.core.stdp(&mut self.syn);
                0
            }
            OP_HOMEOSTASIS => {
                self.core.homeostasis(fa, c);
                0
            }
            OP_OSCILLATOR => {
                self.core.oscillator_step(fa);
                0
            }
            OP_WTA_RESET => {
                self.core.wta_reset();
                0
            }
            OP_WTA_COMPETE => self.core.wta_compete(c),
            OP_WTA_SOFT => {
                self.core.wta_soft(c);
                0
            }
            OP_READ => self.read(a & 15, n, slot),
            _ => unreachable!(),
        };
        self.cmd(op, n, slot, a, b, c, r);
        if (op == OP_TICK || op == OP_STEP) && r.count_ones() >= 2 {
            self.cov.simultaneous_spikes += 1;
        }
        if (op == OP_INJECT || op == OP_TICK || op == OP_PROPAGATE)
            && (0..NEURONS).any(|k| matches!(self.core.current(k), i32::MAX | i32::MIN))
        {
            self.cov.current_saturated += 1;
        }
    }

    /// Measures which corners the coming command reaches (recomputes the documented formulas on the
    /// model's state; only for the coverage report, never for the expected values).
    fn observe_before(&mut self, op: u32, a: i32, slot: usize, active: u32) {
        let c = &self.core;
        let cov = &mut self.cov;
        if matches!(op, OP_TICK | OP_STEP | OP_HOMEOSTASIS | OP_OSCILLATOR) {
            if !(0..=DT_MAX).contains(&a) {
                cov.dt_clamped += 1;
            }
            if a == 0 {
                cov.dt_zero += 1;
            }
        }
        if op == OP_SET_COUNT && a as u8 as usize == MAX_EDGES + 1 {
            cov.count_just_above_max += 1;
        }
        if op == OP_SET_SYNAPSE && slot >= MAX_EDGES {
            cov.synapse_slot_ignored += 1;
        }
        if op == OP_HOMEOSTASIS {
            let h = homeo_factor(a);
            for n in (0..NEURONS).filter(|&n| active >> n & 1 != 0) {
                let r = c.rate_raw(n) as u64;
                let mut r = r - ((r * h) >> 32);
                if c.spiked(n) {
                    if r + RATE_SPIKE_INC as u64 > u32::MAX as u64 {
                        cov.rate_saturated += 1;
                    }
                    r = (r + RATE_SPIKE_INC as u64).min(u32::MAX as u64);
                }
                let d = (((r as i64 - HOMEO_TARGET as i64) >> 8) * h as i64) >> 32;
                let t = c.threshold(n) as i64 + d;
                if t > THRESHOLD_MAX as i64 {
                    cov.homeo_threshold_max += 1;
                } else if t < THRESHOLD_MIN as i64 {
                    cov.homeo_threshold_min += 1;
                }
            }
        }
        if op == OP_INJECT {
            match a {
                0 => cov.zero_current += 1,
                i32::MAX | i32::MIN => cov.max_current += 1,
                _ => {}
            }
        }
        if op == OP_TICK || op == OP_STEP {
            let dt = clamp_dt(a);
            let alpha = decay_factor(dt, INV_TAU_M) as i64;
            for n in (0..NEURONS).filter(|&n| active >> n & 1 != 0) {
                let r = c.refractory(n);
                if r > 0 {
                    if r <= dt {
                        cov.refractory_ends += 1;
                    }
                    continue;
                }
                let v = c.membrane(n) as i64;
                let sum = v - ((v * alpha) >> 16) + c.current(n) as i64;
                if sum > i32::MAX as i64 || sum < i32::MIN as i64 {
                    cov.membrane_saturated += 1;
                } else if sum == c.threshold(n) as i64 {
                    cov.threshold_equal += 1;
                }
            }
        }
        if op == OP_STDP || (op == OP_TICK && slot & 1 != 0) {
            // STDP sees the spikes and traces after the step; for a tick approximate with a step on a copy.
            let mut after = c.clone();
            if op == OP_TICK {
                after.step(a, active);
            }
            for i in 0..NEURONS {
                for j in 0..self.syn.edges(i) {
                    let t = self.syn.target[i][j] as usize;
                    if t >= NEURONS {
                        continue;
                    }
                    let ltp = if after.spiked(t) { STDP_A_PLUS * after.trace(i) as i32 } else { 0 };
                    let ltd = if after.spiked(i) { STDP_A_MINUS * after.trace(t) as i32 } else { 0 };
                    let w = self.syn.weight[i][j] as i32 + ((ltp - ltd) >> 24);
                    if w < 0 {
                        cov.weight_clamped_low += 1;
                    } else if w > 255 {
                        cov.weight_clamped_high += 1;
                    }
                }
            }
        }
        if op == OP_WTA_COMPETE || op == OP_WTA_SOFT {
            let lead = (0..NEURONS).filter(|&n| active >> n & 1 != 0).map(|n| c.membrane(n)).max();
            match lead {
                None => cov.wta_empty += 1,
                Some(m) => {
                    if (0..NEURONS).filter(|&n| active >> n & 1 != 0 && c.membrane(n) == m).count() >= 2 {
                        cov.wta_tie += 1;
                    }
                }
            }
        }
    }

    /// The RTL's read-port fields.
    fn read(&self, field: u32, n: usize, slot: usize) -> u32 {
        let c = &self.core;
        match field {
            0 => c.membrane(n) as u32,
            1 => c.threshold(n) as u32,
            2 => c.refractory(n) as u32,
            3 => c.current(n) as u32,
            4 => c.trace(n) as u32,
            5 => c.rate_raw(n),
            6 => c.spike_phase(n),
            7 => {
                if slot < MAX_EDGES {
                    self.syn.weight[n][slot] as u32
                } else {
                    0
                }
            }
            8 => c.spikes(),
            9 => c.phase(),
            10 => c.time() as u32,
            11 => (c.time() >> 32) as u32,
            12 => c.winner() as u32,
            13 => c.resonance(n) as u32,
            14 => self.syn.edges(n) as u32,
            _ => self.node_weight[n] as u32,
        }
    }

    fn dump(&mut self, step: u32) {
        let c = &self.core;
        let mut w = vec![2, step, c.spikes(), c.phase(), c.time() as u32, (c.time() >> 32) as u32, c.winner() as u32];
        for n in 0..NEURONS {
            w.extend_from_slice(&[
                c.membrane(n) as u32,
                c.threshold(n) as u32,
                c.refractory(n) as u32,
                c.current(n) as u32,
                c.trace(n) as u32,
                c.rate_raw(n),
                c.spike_phase(n),
            ]);
        }
        let flat: Vec<u8> = self.syn.weight.iter().flatten().copied().collect();
        w.extend(flat.chunks(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        self.words(&w);
    }

    fn weight(&mut self) -> u32 {
        match self.rng.below(10) {
            0 => 0,
            1 => 255,
            2 => 1,
            3 => 254,
            _ => self.rng.below(256),
        }
    }

    fn set_synapse(&mut self, n: usize, slot: usize) {
        let target = if self.rng.chance(8) { 32 + self.rng.below(224) } else { self.rng.below(32) };
        let w = self.weight();
        self.apply(OP_SET_SYNAPSE, n, slot, target, w, 0);
    }

    fn set_count(&mut self, n: usize) {
        let max = MAX_EDGES as u32;
        let count = match self.rng.below(20) {
            0 | 1 => 0,
            2 | 3 => max,         // the largest count kept as it is
            4..=6 => max + 1,     // the boundary: the smallest count that clamps to MAX_EDGES
            7 => max + 2,
            8 => 255,
            9 => max + 1 + self.rng.below(255 - max), // beyond MAX_EDGES: clamps
            // only a[7:0] counts: the upper bits are ignored
            10 => (1 + self.rng.below(0x00FF_FFFF)) << 8 | self.rng.below(max + 3),
            _ => 1 + self.rng.below(max),
        };
        self.apply(OP_SET_COUNT, n, 0, count, 0, 0);
    }

    fn dt(&mut self) -> u32 {
        (match self.rng.below(100) {
            0..=39 => FX_ONE,
            40..=49 => FX_ONE / 2,
            50..=57 => FX_ONE / 4,
            58..=62 => 0,
            63..=67 => 2 * FX_ONE,
            68..=69 => self.rng.range(i32::MIN as i64, -1),
            70..=71 => i32::MAX,
            72 => DT_MAX,
            73 => DT_MAX + 1,
            74..=78 => self.rng.next() as i32,
            _ => self.rng.range(1, 5 * FX_ONE as i64),
        }) as u32
    }

    fn gain(&mut self) -> u32 {
        (match self.rng.below(100) {
            0..=49 => FX_ONE,
            50..=54 => 0,
            55..=57 => i32::MAX,
            58..=59 => i32::MIN,
            60..=64 => -FX_ONE,
            _ => self.rng.range(-4 * FX_ONE as i64, 8 * FX_ONE as i64),
        }) as u32
    }

    fn active(&mut self) -> u32 {
        match self.rng.below(100) {
            0..=69 => u32::MAX,
            70..=71 => 0,
            72..=74 => 1 << self.rng.below(32),
            _ => self.rng.next() as u32,
        }
    }

    fn current(&mut self, n: usize) -> u32 {
        let c = &self.core;
        (match self.rng.below(100) {
            0..=9 => 0,
            10..=13 => i32::MAX,
            14..=16 => i32::MIN,
            // exactly what lifts an undecayed membrane to the threshold (equality fires)
            17..=26 => (c.threshold(n) as i64 - c.membrane(n) as i64).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            27..=29 => self.rng.next() as i32,
            _ => self.rng.range(-FX_ONE as i64 / 2, 2 * FX_ONE as i64),
        }) as u32
    }

    fn membrane(&mut self, n: usize) -> u32 {
        (match self.rng.below(10) {
            0 => i32::MAX,
            1 => i32::MIN,
            2 => self.core.threshold(n),
            3 => self.core.threshold(n) - 1,
            4 => self.rng.next() as i32,
            _ => self.rng.range(-2 * FX_ONE as i64, 2 * FX_ONE as i64),
        }) as u32
    }

    fn threshold(&mut self) -> u32 {
        (match self.rng.below(10) {
            0 => 0,
            1 => i32::MIN,
            2 => i32::MAX,
            3 => THRESHOLD_MIN,
            4 => THRESHOLD_MAX,
            5 => self.rng.next() as i32,
            _ => self.rng.range(FX_ONE as i64 / 4, 3 * FX_ONE as i64),
        }) as u32
    }

    fn run(&mut self, steps: u32) {
        self.apply(OP_RESET, 0, 0, 0, 0, 0);
        for n in 0..NEURONS {
            for slot in 0..MAX_EDGES {
                self.set_synapse(n, slot);
            }
            self.set_count(n);
            let w = self.weight();
            self.apply(OP_SET_NODE_WEIGHT, n, 0, w, 0, 0);
        }
        for step in 0..steps {
            if self.rng.chance(1) && self.rng.chance(10) {
                self.apply(OP_RESET, 0, 0, 0, 0, 0);
            }
            if self.rng.chance(10) {
                let n = self.rng.below(32) as usize;
                if self.rng.chance(70) {
                    // mostly a real slot, sometimes 6 or 7, which the RTL must ignore
                    let slot = if self.rng.chance(12) { MAX_EDGES + self.rng.below(2) as usize } else { self.rng.below(6) as usize };
                    self.set_synapse(n, slot);
                } else if self.rng.chance(50) {
                    self.set_count(n);
                } else {
                    let w = self.weight();
                    self.apply(OP_SET_NODE_WEIGHT, n, 0, w, 0, 0);
                }
            }
            for _ in 0..self.rng.below(6) {
                let n = self.rng.below(32) as usize;
                let i = self.current(n);
                self.apply(OP_INJECT, n, 0, i, 0, 0);
            }
            if self.rng.chance(8) {
                let n = self.rng.below(32) as usize;
                let v = self.membrane(n);
                self.apply(OP_SET_MEMBRANE, n, 0, v, 0, 0);
            }
            if self.rng.chance(4) {
                let n = self.rng.below(32) as usize;
                let t = self.threshold();
                self.apply(OP_SET_THRESHOLD, n, 0, t, 0, 0);
            }
            let (n, slot, field) = (self.rng.below(32) as usize, self.rng.below(8) as usize, self.rng.below(16));
            self.apply(OP_READ, n, slot, field, 0, 0);

            let (dt, gain, active) = (self.dt(), self.gain(), self.active());
            match self.rng.below(100) {
                0..=71 => {
                    let learn = self.rng.chance(70) as usize;
                    self.apply(OP_TICK, 0, learn, dt, gain, active);
                    // Most ticks are followed by the per-timestep homeostasis and oscillator commands,
                    // as a caller of micro-hnsw-wasm 2.3's ABI runs them (a tick is steps 1-3 only).
                    if self.rng.chance(75) {
                        self.apply(OP_HOMEOSTASIS, 0, 0, dt, 0, active);
                    }
                    if self.rng.chance(75) {
                        self.apply(OP_OSCILLATOR, 0, 0, dt, 0, 0);
                    }
                }
                72..=76 => self.apply(OP_STEP, 0, 0, dt, 0, active),
                77..=79 => self.apply(OP_PROPAGATE, 0, 0, 0, gain, 0),
                80..=82 => self.apply(OP_STDP, 0, 0, 0, 0, 0),
                83..=85 => self.apply(OP_HOMEOSTASIS, 0, 0, dt, 0, active),
                86..=87 => self.apply(OP_OSCILLATOR, 0, 0, dt, 0, 0),
                88 => self.apply(OP_WTA_RESET, 0, 0, 0, 0, 0),
                89..=95 => {
                    if self.rng.chance(40) {
                        // a tie for the lead
                        let v = self.rng.range(0, 3 * FX_ONE as i64) as u32;
                        for _ in 0..2 + self.rng.below(3) {
                            let k = self.rng.below(32) as usize;
                            self.apply(OP_SET_MEMBRANE, k, 0, v, 0, 0);
                        }
                    }
                    self.apply(OP_WTA_COMPETE, 0, 0, 0, 0, active)
                }
                _ => self.apply(OP_WTA_SOFT, 0, 0, 0, 0, active),
            }
            self.dump(step);
        }
        self.end(steps);
        eprintln!("{}", self.cov.report());
    }

    fn end(&mut self, steps: u32) {
        let u = self.updates;
        self.words(&[3, steps, u as u32, (u >> 32) as u32]);
        self.out.flush().expect("stdout");
    }

    /// The directed stream: the rate estimate's saturation, which random stimulus cannot reach (the
    /// rate decays with dt, and a spike adds only RATE_SPIKE_INC ≈ 2^32 / 256,000). Half the neurons
    /// spike in one STEP; the spike bitmap then persists while HOMEOSTASIS runs at dt = 0 (h = 0: no
    /// decay, thresholds unchanged), so each command adds RATE_SPIKE_INC to their rates until they
    /// saturate at u32::MAX after 256,004 commands (neurons 16..31 are left out of every 64th, so
    /// they saturate ~4,000 commands later). Then dt = 1 ms drives the saturated neurons' thresholds
    /// to THRESHOLD_MAX and dt = DT_MAX the silent ones' to THRESHOLD_MIN. The state is compared
    /// every 1,000 commands (every 10 in the last phase).
    fn run_directed(&mut self) {
        let mut step = 0;
        self.apply(OP_RESET, 0, 0, 0, 0, 0);
        for n in 0..NEURONS {
            for slot in 0..MAX_EDGES {
                self.apply(OP_SET_SYNAPSE, n, slot, ((n + slot + 1) % NEURONS) as u32, 128, 0);
            }
            self.apply(OP_SET_COUNT, n, 0, MAX_EDGES as u32, 0, 0);
            self.apply(OP_SET_NODE_WEIGHT, n, 0, 200, 0, 0);
        }
        let spiking = 0x00FF_00FFu32;
        for n in Neurons(spiking) {
            self.apply(OP_INJECT, n, 0, i32::MAX as u32, 0, 0);
        }
        self.apply(OP_STEP, 0, 0, FX_ONE as u32, 0, u32::MAX);
        assert_eq!(self.core.spikes(), spiking);
        self.dump(step);
        step += 1;
        let full = (u32::MAX / RATE_SPIKE_INC + 1) as usize; // commands until saturation from 0
        let commands = full * 64 / 63 + 4_000;
        for k in 0..commands {
            let active = if k % 64 == 63 { 0x0000_FFFF } else { u32::MAX };
            self.apply(OP_HOMEOSTASIS, 0, 0, 0, 0, active);
            if k % 1000 == 999 || k + 1 == commands {
                self.dump(step);
                step += 1;
            }
        }
        for k in 0..400 {
            let dt = if k < 300 { FX_ONE } else { DT_MAX };
            self.apply(OP_HOMEOSTASIS, 0, 0, dt as u32, 0, u32::MAX);
            if k % 10 == 9 {
                self.dump(step);
                step += 1;
            }
        }
        self.end(step);
        eprintln!("{}", self.cov.report_directed());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let directed = args.len() == 2 && args[1] == "--directed";
    if args.len() != 3 && !directed {
        eprintln!("usage: snn_cosim <seed> <steps> | snn_cosim --directed");
        std::process::exit(2);
    }
    let (seed, steps): (u64, u32) = if directed {
        (0, 0)
    } else {
        (args[1].parse().expect("seed: unsigned integer"), args[2].parse().expect("steps: unsigned integer"))
    };
    let mut sim = Cosim {
        cov: Coverage::default(),
        out: BufWriter::with_capacity(1 << 20, std::io::stdout().lock()),
        rng: Rng(seed ^ 0x5E_ED0F_5A11_C0DE),
        core: SnnCore::new(),
        syn: Synapses::new(),
        node_weight: [0; NEURONS],
        updates: 0,
    };
    if directed {
        sim.run_directed();
    } else {
        sim.run(steps);
    }
}
