//! Fixed-point spiking network datapath of one micro-HNSW core: the golden model of `rtl/`.
//!
//! Everything here is integer arithmetic; `rtl/snn_core.v` implements exactly the same operations in
//! exactly the same order, and `make -C rtl cosim` checks the two bit for bit. The f32 helpers at the
//! bottom exist only for the ABI to convert at the boundary.
//!
//! # Formats
//! | quantity                                   | type  | format                                   |
//! |--------------------------------------------|-------|------------------------------------------|
//! | membrane, threshold, current, gain, dt, refractory time | `i32` | signed Q16.16 (`FX_ONE` = 1.0; dt and refractory in ms) |
//! | synaptic weight, node (edge) weight         | `u8`  | value / 256 (255 ≈ 0.996)                 |
//! | STDP trace (one per neuron, pre = post)     | `u16` | unsigned Q0.16 (65535 ≈ 1.0)             |
//! | spike-rate estimate                         | `u32` | unsigned Q8.24 spikes per ms              |
//! | oscillator phase, spike phase               | `u32` | one turn = 2^32 (wraps)                   |
//! | time                                        | `u64` | unsigned Q48.16 ms (wraps)                |
//!
//! # Rounding and saturation
//! Every product is formed at full width (64 bit) and brought back with an arithmetic shift right,
//! which rounds toward minus infinity (floor) for negative values too. Nothing divides at run time.
//! Saturating (clamping) additions are used where a sum can overflow: membrane + current, current +
//! injected or propagated current, the soft/hard WTA subtraction, and the spike-rate increment.
//! Weights clamp to 0..=255, thresholds to [`THRESHOLD_MIN`, `THRESHOLD_MAX`], dt to [0, [`DT_MAX`]].
//! Nothing else can overflow (each such place is noted in the code).
//!
//! # The timestep ([`SnnCore::tick`]) and the other operations
//! A tick is steps 1–3, in order, as micro-hnsw-wasm 2.3's `snn_tick`: step, propagate, STDP when
//! learning. Homeostasis (4) and the oscillator (5) are operations of their own, which the caller
//! runs at its own rate (`homeostatic_update`, `oscillator_step`), again as in 2.3: a caller that
//! runs all three per timestep adapts its thresholds and advances the phase once per timestep.
//! 1. `step(dt, active)` — for n = 0..32 in order (dt clamped to [0, DT_MAX]):
//!    * if n is active: if `refractory[n] > 0`: `refractory[n] = max(refractory[n] - dt, 0)`, the
//!      membrane is held and the input current is discarded; otherwise
//!      `v = membrane[n] - ((membrane[n] * alpha_m) >> 16)` with `alpha_m = min((dt * INV_TAU_M) >> 16, 1.0)`,
//!      `v = sat(v + current[n])`; if `v >= threshold[n]` the neuron spikes: membrane = 0,
//!      `refractory = REFRACTORY`, else membrane = v. Either way `current[n] = 0`.
//!      Inactive neurons keep membrane, current and refractory time and do not spike.
//!    * every neuron's trace decays: `trace -= (trace * alpha_stdp) >> 16`, alpha_stdp as alpha_m with
//!      `INV_TAU_STDP`; a neuron that spiked sets its trace to 65535 and records `spike_phase = phase`.
//!    * the spike bitmap is replaced by this step's spikes; `time += dt`.
//! 2. `propagate(gain)` — for each spiking neuron i in index order, for each of its
//!    `min(count[i], MAX_EDGES)` synapses j in order with target t < 32:
//!    `current[t] = sat(current[t] + ((gain * (weight[i][j] * node_weight[i])) >> 16))`.
//! 3. `stdp()` if learning — for each neuron i, each synapse j < min(count, 6) with target t < 32:
//!    `ltp = spiked(t) ? A_PLUS * trace[i] : 0`, `ltd = spiked(i) ? A_MINUS * trace[t] : 0`,
//!    `weight = clamp(weight + ((ltp - ltd) >> 24), 0, 255)` (A± in Q8.8 weight units, so the
//!    difference is Q8.24 weight units).
//! 4. `homeostasis(dt, active)` — for each active neuron: `rate -= (rate * h) >> 32` with
//!    `h = min((dt * INV_TAU_HOMEO) >> 16, 2^32)` (Q0.32), then `rate = sat(rate + RATE_SPIKE_INC)` if it
//!    spiked, then `threshold = clamp(threshold + ((((rate - HOMEO_TARGET) >> 8) * h) >> 32), MIN, MAX)`.
//! 5. `oscillator_step(dt)` — `phase = phase + ((dt * PHASE_PER_MS) >> 16)` (mod 2^32).
//!
//! Winner-take-all is not part of the tick; it is an explicit operation (`wta_compete`, `wta_soft`).

// Native builds (tests, the rtl/ co-simulation generators) link std, which supplies the panic handler
// a no_std cdylib needs; wasm32 builds stay no_std (lib.rs has the wasm panic handler).
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

/// Neurons per core: one per stored vector.
pub const NEURONS: usize = 32;
/// Synapses per neuron = graph neighbours per node.
pub const MAX_EDGES: usize = 6;
/// Signed Q16.16 fixed point.
pub type Fx = i32;
/// Fraction bits of [`Fx`].
pub const FX_FRAC_BITS: u32 = 16;
/// 1.0 in [`Fx`].
pub const FX_ONE: Fx = 1 << FX_FRAC_BITS;
/// "No neuron" (e.g. no WTA winner).
pub const NONE: u8 = 255;

// ---- Seed parameters, as exact integers (ms, Hz, parts per million) -------------------------------
/// Membrane time constant τ_m in ms.
pub const TAU_M_MS: i64 = 20;
/// Refractory period in ms.
pub const REFRACTORY_MS: i64 = 2;
/// STDP potentiation amplitude A+ in parts per million of full weight scale (0.01).
pub const STDP_A_PLUS_PPM: i64 = 10_000;
/// STDP depression amplitude A− in parts per million of full weight scale (0.012).
pub const STDP_A_MINUS_PPM: i64 = 12_000;
/// STDP trace time constant in ms.
pub const TAU_STDP_MS: i64 = 20;
/// Homeostatic target rate in parts per million of 1 spike/ms (0.1 spikes/ms).
pub const HOMEO_TARGET_PPM: i64 = 100_000;
/// Homeostatic time constant in ms.
pub const TAU_HOMEO_MS: i64 = 1000;
/// Gamma oscillator frequency in Hz.
pub const GAMMA_HZ: i64 = 40;
/// Lateral inhibition of winner-take-all in parts per million (0.8).
pub const WTA_INHIBITION_PPM: i64 = 800_000;
/// Largest dt (ms) one step accepts; larger values are clamped.
pub const DT_MAX_MS: i64 = 1000;

const fn div_round(num: i64, den: i64) -> i64 {
    (num + den / 2) / den // compile time only; both positive
}

// ---- Derived constants (computed once, at compile time; rtl/snn_params.vh is generated from these) --
/// 1/τ_m per ms, Q16.16.
pub const INV_TAU_M: Fx = div_round(1 << 16, TAU_M_MS) as Fx;
/// 1/τ_stdp per ms, Q16.16.
pub const INV_TAU_STDP: Fx = div_round(1 << 16, TAU_STDP_MS) as Fx;
/// 1/τ_homeo per ms, Q0.32.
pub const INV_TAU_HOMEO: u32 = div_round(1 << 32, TAU_HOMEO_MS) as u32;
/// Rate increment per spike (1/τ_homeo spikes/ms), Q8.24.
pub const RATE_SPIKE_INC: u32 = div_round(1 << 24, TAU_HOMEO_MS) as u32;
/// Homeostatic target rate, Q8.24 spikes/ms.
pub const HOMEO_TARGET: u32 = div_round((1 << 24) * HOMEO_TARGET_PPM, 1_000_000) as u32;
/// A+ in weight units (1/256), Q8.8.
pub const STDP_A_PLUS: i32 = div_round(65536 * STDP_A_PLUS_PPM, 1_000_000) as i32;
/// A− in weight units (1/256), Q8.8.
pub const STDP_A_MINUS: i32 = div_round(65536 * STDP_A_MINUS_PPM, 1_000_000) as i32;
/// WTA lateral inhibition, Q16.16.
pub const WTA_INHIBITION: Fx = div_round(65536 * WTA_INHIBITION_PPM, 1_000_000) as Fx;
/// Oscillator phase advance per ms (one turn = 2^32).
pub const PHASE_PER_MS: u32 = div_round(GAMMA_HZ << 32, 1000) as u32;
/// Refractory period, Q16.16 ms.
pub const REFRACTORY: Fx = (REFRACTORY_MS << 16) as Fx;
/// Largest dt, Q16.16 ms.
pub const DT_MAX: Fx = (DT_MAX_MS << 16) as Fx;
/// Threshold after reset (1.0).
pub const THRESHOLD_DEFAULT: Fx = FX_ONE;
/// Smallest threshold (set or adapted): 1/16.
pub const THRESHOLD_MIN: Fx = FX_ONE / 16;
/// Largest threshold (set or adapted): 64.0.
pub const THRESHOLD_MAX: Fx = 64 * FX_ONE;
/// Trace value right after a spike.
pub const TRACE_MAX: u16 = u16::MAX;
/// Weight of a newly created synapse (0.5).
pub const INITIAL_WEIGHT: u8 = 128;

/// The synapse table. Graph connectivity IS the synapse table: the index writes `target`/`count`
/// when it links nodes (and sets `weight = INITIAL_WEIGHT` for a new edge); the SNN reads them and
/// learns `weight`. Only the first `min(count, MAX_EDGES)` slots are used; a target ≥ 32 is ignored.
///
/// `repr(C)`, 416 bytes, no padding — the ABI exposes it (`snn_get_synapse_ptr`): `target` at byte 0
/// (`32 × 6` u8, row-major), `count` at byte 192 (`32` u8), `weight` at byte 224 (`32 × 6` u8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Synapses {
    pub target: [[u8; MAX_EDGES]; NEURONS],
    pub count: [u8; NEURONS],
    pub weight: [[u8; MAX_EDGES]; NEURONS],
}

impl Synapses {
    /// No synapses.
    pub const fn new() -> Self {
        Synapses {
            target: [[NONE; MAX_EDGES]; NEURONS],
            count: [0; NEURONS],
            weight: [[0; MAX_EDGES]; NEURONS],
        }
    }
    /// Number of synapse slots of neuron `n` in use (0 for n ≥ 32).
    pub fn edges(&self, n: usize) -> usize {
        if n < NEURONS {
            (self.count[n] as usize).min(MAX_EDGES)
        } else {
            0
        }
    }
    /// Slot of the first synapse of neuron `n` (< 32) to `t` among the slots in use; 0 when there
    /// is none (check `target[n][slot]`). Out of line: the graph's link bookkeeping and the
    /// dendrites share it (size budget).
    #[inline(never)]
    pub fn slot_of(&self, n: usize, t: usize) -> usize {
        let n = n & (NEURONS - 1);
        // All six slots with the in-use test inside (j < 6, so j < count is j < edges(n)): a loop of
        // fixed length, without the empty-list guard and the min(count, 6) of a variable one (size
        // budget). The final min changes nothing (the slot is < 6); it shows the callers, which
        // index six-slot rows with it, that no bounds check is needed.
        let count = self.count[n] as usize;
        (0..MAX_EDGES).find(|&j| j < count && self.target[n][j] as usize == t).unwrap_or(0).min(MAX_EDGES - 1)
    }
}

impl Default for Synapses {
    fn default() -> Self {
        Self::new()
    }
}

/// State of the 32 neurons of one core (see the module docs for formats and the timestep).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnnCore {
    membrane: [Fx; NEURONS],
    threshold: [Fx; NEURONS],
    refractory: [Fx; NEURONS],
    current: [Fx; NEURONS],
    trace: [u16; NEURONS],
    rate: [u32; NEURONS],
    spike_phase: [u32; NEURONS],
    spikes: u32,
    phase: u32,
    time: u64,
    winner: u8,
}

impl Default for SnnCore {
    fn default() -> Self {
        Self::new()
    }
}

/// dt clamped to [0, DT_MAX].
pub fn clamp_dt(dt: Fx) -> Fx {
    dt.clamp(0, DT_MAX)
}

/// `min((dt * inv_tau) >> 16, 1.0)` for a clamped dt: the fraction of a value lost in dt.
pub fn decay_factor(dt: Fx, inv_tau: Fx) -> Fx {
    decay_of_clamped(clamp_dt(dt), inv_tau)
}

/// [`decay_factor`] of a dt already in [0, DT_MAX] (what [`SnnCore::advance`] receives).
fn decay_of_clamped(dt: Fx, inv_tau: Fx) -> Fx {
    // (dt * inv_tau) >> 16 reaches 1.0 exactly when dt * inv_tau ≥ 2^32, i.e. when dt ≥
    // ceil(2^32 / inv_tau) (a constant for the constant inv_tau): the min as an i32 compare of dt,
    // not an i64 one of the product (size budget).
    if dt as i64 >= ((1i64 << 32) + inv_tau as i64 - 1) / inv_tau as i64 {
        FX_ONE
    } else {
        // |dt| < 2^31, inv_tau < 2^17: the product fits i64 easily.
        (((dt as i64) * (inv_tau as i64)) >> 16) as Fx
    }
}

/// Homeostatic factor h = min((dt * INV_TAU_HOMEO) >> 16, 2^32), Q0.32.
pub fn homeo_factor(dt: Fx) -> u64 {
    homeo_of_clamped(clamp_dt(dt)).min(1 << 32)
}

/// [`homeo_factor`] of a dt already in [0, DT_MAX] (what [`SnnCore::advance`] receives), without
/// its min: for such a dt the quotient stays below 2^32.
fn homeo_of_clamped(dt: Fx) -> u64 {
    ((dt as u64) * (INV_TAU_HOMEO as u64)) >> 16
}

/// Phase advance for dt: `(dt * PHASE_PER_MS) >> 16` modulo 2^32.
pub fn phase_increment(dt: Fx) -> u32 {
    (((clamp_dt(dt) as u64) * (PHASE_PER_MS as u64)) >> 16) as u32
}

/// `x.saturating_add(y)`, out of line: one copy serves the cold injections and sums (size budget).
#[inline(never)]
pub fn sat_add(x: Fx, y: Fx) -> Fx {
    x.saturating_add(y)
}

/// A sum of two i32 values (exact in i64) saturated to i32: it fits iff `sum >> 31` is 0 or −1,
/// else its sign picks i32::MAX or i32::MIN. Where the operands are i64 already or read as such
/// (a load sign-extends for free), smaller than the saturating i32 add's overflow test of both
/// operands and the wrapped sum (size budget); the range test is written so that LLVM does not
/// turn it into a clamp (two i64 selects with 9-byte constants).
#[inline(always)]
pub fn sat_i64(sum: i64) -> Fx {
    if ((sum >> 31) + 1) as u64 <= 1 {
        sum as Fx
    } else {
        ((sum >> 63) as Fx) ^ i32::MAX
    }
}

/// `*x = x.saturating_add(y)` through [`sat_add`].
#[inline(always)]
pub fn add_saturating(x: &mut Fx, y: Fx) {
    *x = sat_add(*x, y);
}

/// The neurons set in a mask, ascending (each index masked to 0..32, so indexing with it needs
/// no bounds check): the walk over set bits that propagation, STDP, homeostasis, WTA and the
/// searches share.
#[derive(Clone, Copy)]
pub struct Neurons(pub u32);

impl Iterator for Neurons {
    type Item = usize;
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let n = self.0.trailing_zeros() as usize & (NEURONS - 1);
        self.0 &= self.0 - 1;
        Some(n)
    }
}

fn bit(mask: u32, n: usize) -> bool {
    (mask >> n) & 1 != 0
}

impl SnnCore {
    /// All neurons at rest: membrane 0, threshold 1.0, no refractory time, no current, traces and
    /// rates 0, phase 0, time 0, no WTA winner.
    pub const fn new() -> Self {
        SnnCore {
            membrane: [0; NEURONS],
            threshold: [THRESHOLD_DEFAULT; NEURONS],
            refractory: [0; NEURONS],
            current: [0; NEURONS],
            trace: [0; NEURONS],
            rate: [0; NEURONS],
            spike_phase: [0; NEURONS],
            spikes: 0,
            phase: 0,
            time: 0,
            winner: NONE,
        }
    }

    /// Back to the state of [`SnnCore::new`]. (The synapse table is not part of the core.)
    /// Every field is an integer, so all-zero bytes are a valid `SnnCore`: this zero-fills it in
    /// place and then sets the two fields whose initial value is not zero (smaller in the wasm
    /// than building a `new()` value and copying it over).
    pub fn reset(&mut self) {
        // SAFETY: every field of SnnCore is an integer or an array of integers, valid as all-zero
        // bytes; `self` is a valid, exclusive reference to one SnnCore.
        unsafe { crate::fill_bytes(self as *mut SnnCore as *mut u8, 0, core::mem::size_of::<SnnCore>()) };
        self.threshold = [THRESHOLD_DEFAULT; NEURONS];
        self.winner = NONE;
    }

    /// Sets the membrane potential of neuron `n` (ignored for n ≥ 32).
    pub fn set_membrane(&mut self, n: usize, v: Fx) {
        if n < NEURONS {
            self.membrane[n] = v;
        }
    }
    /// Membrane potential of neuron `n` (0 for n ≥ 32).
    pub fn membrane(&self, n: usize) -> Fx {
        if n < NEURONS {
            self.membrane[n]
        } else {
            0
        }
    }
    /// Sets the threshold of neuron `n`, clamped to [THRESHOLD_MIN, THRESHOLD_MAX] (ignored for n ≥ 32).
    pub fn set_threshold(&mut self, n: usize, t: Fx) {
        if n < NEURONS {
            self.threshold[n] = t.clamp(THRESHOLD_MIN, THRESHOLD_MAX);
        }
    }
    /// The 32 thresholds (Q16.16) in neuron order; the ABI exposes their address
    /// (`snn_get_threshold_ptr`).
    pub fn thresholds(&self) -> &[Fx; NEURONS] {
        &self.threshold
    }
    /// Threshold of neuron `n` (0 for n ≥ 32).
    pub fn threshold(&self, n: usize) -> Fx {
        if n < NEURONS {
            self.threshold[n]
        } else {
            0
        }
    }
    /// Adds `i` to the input current of neuron `n` (saturating; ignored for n ≥ 32). The current is
    /// consumed by the neuron's next active step. Out of line: one copy serves the cold callers
    /// (`hnsw_to_snn`, `dendrite_integrate`); the `snn_inject` export, which a caller's tick loop
    /// may run every step, uses [`SnnCore::inject_inline`].
    #[inline(never)]
    pub fn inject(&mut self, n: usize, i: Fx) {
        if n < NEURONS {
            add_saturating(&mut self.current[n], i);
        }
    }
    /// [`SnnCore::inject`] inlined, for the `snn_inject` export (a tick loop's input path).
    #[inline(always)]
    pub fn inject_inline(&mut self, n: usize, i: Fx) {
        if n < NEURONS {
            self.current[n] = sat_i64(self.current[n] as i64 + i as i64);
        }
    }
    /// Adds `drive[n]` to the input current of every neuron `n`, four at a time ([`lanes`]);
    /// bit-exact with [`SnnCore::inject`] for each (the tests check it).
    pub fn inject_all(&mut self, drive: &[Fx; NEURONS]) {
        use lanes::*;
        let i32_max = splat_hidden(&LANE_CONSTANTS[2]);
        for k in 0..NEURONS / 4 {
            let (a, b) = (load(&self.current, k), load(drive, k));
            store(&mut self.current, k, add_sat(a, b, i32_max));
        }
    }
    /// Pending input current of neuron `n` (0 for n ≥ 32).
    pub fn current(&self, n: usize) -> Fx {
        if n < NEURONS {
            self.current[n]
        } else {
            0
        }
    }
    /// Remaining refractory time of neuron `n`, Q16.16 ms (0 for n ≥ 32).
    pub fn refractory(&self, n: usize) -> Fx {
        if n < NEURONS {
            self.refractory[n]
        } else {
            0
        }
    }
    /// STDP trace of neuron `n`, Q0.16 (0 for n ≥ 32).
    pub fn trace(&self, n: usize) -> u16 {
        if n < NEURONS {
            self.trace[n]
        } else {
            0
        }
    }
    /// Raw spike-rate estimate of neuron `n`, Q8.24 spikes/ms (0 for n ≥ 32).
    pub fn rate_raw(&self, n: usize) -> u32 {
        if n < NEURONS {
            self.rate[n]
        } else {
            0
        }
    }
    /// Spike-rate estimate of neuron `n` in spikes/ms, Q16.16 (floor of the Q8.24 estimate).
    pub fn spike_rate(&self, n: usize) -> Fx {
        (self.rate_raw(n) >> 8) as Fx
    }
    /// Oscillator phase at neuron `n`'s last spike (0 for n ≥ 32 or if it never spiked).
    pub fn spike_phase(&self, n: usize) -> u32 {
        if n < NEURONS {
            self.spike_phase[n]
        } else {
            0
        }
    }
    /// Spike bitmap of the last step (bit n = neuron n).
    pub fn spikes(&self) -> u32 {
        self.spikes
    }
    /// Did neuron `n` spike in the last step?
    pub fn spiked(&self, n: usize) -> bool {
        n < NEURONS && bit(self.spikes, n)
    }
    /// Oscillator phase, one turn = 2^32.
    pub fn phase(&self) -> u32 {
        self.phase
    }
    /// Simulated time, Q48.16 ms (sum of clamped dt of all steps).
    pub fn time(&self) -> u64 {
        self.time
    }
    /// Last hard-WTA winner, [`NONE`] after reset or when the last competition had no candidates.
    pub fn winner(&self) -> u8 {
        self.winner
    }

    /// One LIF update of the neurons in `active` (see the module docs, step 1). Returns the spike
    /// bitmap, which also replaces [`SnnCore::spikes`]. Bit-exact with its scalar twin
    /// [`SnnCore::step_scalar`]; computed by [`SnnCore::advance`].
    pub fn step(&mut self, dt: Fx, active: u32) -> u32 {
        self.advance(clamp_dt(dt), active, true, false)
    }

    /// Step 1 (LIF, when `step`) and operation 4 (homeostasis, when `homeo`) in one pass over the
    /// neurons, four at a time ([`lanes`]: SIMD128 on wasm32, plain arrays elsewhere, so the RTL
    /// co-simulation checks this very code). Returns the spike bitmap (the last step's when `!step`).
    /// [`SnnCore::step`] (hence `snn_tick`, `snn_step` and each iteration of `neuromorphic_search`)
    /// passes `step` alone, [`SnnCore::homeostasis`] `homeo` alone.
    ///
    /// `dt` must already be clamped to [0, DT_MAX] (other values give meaningless numbers, nothing
    /// worse): `step` and `homeostasis` clamp it before the call. They are inlined, so in callers
    /// that have already bounded dt (the ABI's `dt` check) the clamp folds away, where inside this
    /// out-of-line function it was code that could not (size budget).
    ///
    /// Both at once equal the step followed by homeostasis (tested): homeostasis reads only the
    /// step's spikes, `rate` and `threshold`, and writes only `rate` and `threshold`, and the step
    /// reads a neuron's threshold before its homeostatic update in the same iteration. With `step`
    /// false nothing of step 1 changes (no neuron is stepped, the trace factor is 0, no spike); with
    /// `homeo` false no lane is adapted and operation 4 is skipped.
    ///
    /// Exact 32-bit forms of the scalar arithmetic:
    /// * leak: with `v = vh * 2^16 + vl` (`vh = v >> 16`, `0 ≤ vl < 2^16`) and `0 ≤ alpha ≤ 2^16`,
    ///   `(v * alpha) >> 16 = vh * alpha + ((vl * alpha) >> 16)`, where `vl * alpha < 2^32`
    ///   (unsigned) and the sum, being at most |v|, fits i32 (so wrapping arithmetic gives it exactly);
    /// * dt ≤ DT_MAX keeps `h < 2^32`, so `(rate * h) >> 32` is the high half of a u32 × u32 product;
    /// * `(rate - HOMEO_TARGET) >> 8` (a 33-bit difference) is `((rate >> 1) - HOMEO_TARGET / 2) >> 7`:
    ///   HOMEO_TARGET is even, so `rate - HOMEO_TARGET = 2x + (rate & 1)` with
    ///   `x = (rate >> 1) - HOMEO_TARGET / 2` (which fits i32), and the odd `2x + 1` never reaches a
    ///   multiple of 256 that `2x` does not, so both floor to `x >> 7`;
    /// * `(err * h) >> 32` is the high half of the signed product with `h` read as i32, plus `err`
    ///   when `h ≥ 2^31` (that reading subtracted `err * 2^32`).
    #[inline(never)]
    pub fn advance(&mut self, dt: Fx, active: u32, step: bool, homeo: bool) -> u32 {
        use lanes::*;
        debug_assert!(dt == clamp_dt(dt));
        // All-ones lanes when the step runs: the step's lanes are the active lanes ANDed with it.
        let step_mask = -(step as i32);
        let stepping = splat(step_mask);
        // The last step's spikes of the active neurons (read by homeostasis when `!step`).
        let old_spikes = self.spikes & active;
        let alpha_m = splat(decay_of_clamped(dt, INV_TAU_M));
        let alpha_stdp = splat(decay_of_clamped(dt, INV_TAU_STDP) & step_mask);
        let dt_lanes = splat(dt);
        let phase = splat(self.phase as i32);
        let h = homeo_of_clamped(dt);
        debug_assert!(h == homeo_factor(dt) && h < 1 << 32);
        let h_lanes = splat(h as u32 as i32);
        let c = &LANE_CONSTANTS;
        let (zero, low16, i32_max) = (splat_hidden(&c[0]), splat_hidden(&c[1]), splat_hidden(&c[2]));
        // All-ones lanes iff h ≥ 2^31: h < 2^32, so that is bit 31 of h_lanes, the sign their
        // arithmetic shift by 31 spreads (no all-ones constant and no select).
        let h_high = shr_s(h_lanes, 31);
        let (rate_inc, target_half, threshold_min, threshold_max) =
            (splat_hidden(&c[4]), splat_hidden(&c[5]), splat_hidden(&c[6]), splat_hidden(&c[7]));
        // u32::MAX - RATE_SPIKE_INC is !RATE_SPIKE_INC: one v128.not of rate_inc where reading
        // it from LANE_CONSTANTS took an 11-byte load (size budget).
        let rate_cap = xor(rate_inc, splat(-1));
        let lane_bits = lane_bits();
        let mut spikes = 0u32;
        for k in 0..NEURONS / 4 {
            // ---- step 1
            let active_lanes = lane_mask(active >> (4 * k), lane_bits);
            let act = and(active_lanes, stepping);
            let refractory = load(&self.refractory, k);
            let v = load(&self.membrane, k);
            let current = load(&self.current, k);
            let threshold = load(&self.threshold, k);
            let in_refractory = gt(refractory, zero);
            let integrating = andnot(act, in_refractory);
            let leak = add(mul(shr_s(v, 16), alpha_m), shr_u(mul(and(v, low16), alpha_m), 16));
            let leaked = sub(v, leak);
            let v_new = add_sat(leaked, current, i32_max);
            // v_new ≥ threshold ⇔ ¬(threshold > v_new)
            let spike = andnot(integrating, gt(threshold, v_new));
            store(&mut self.membrane, k, select(integrating, andnot(v_new, spike), v));
            // Refractory counters lie in [0, REFRACTORY] and dt ≥ 0, so `max(r - dt, 0)` on the
            // active lanes alone (dt masked to 0 elsewhere) is the countdown: an inactive lane keeps
            // r, a lane at 0 stays at 0. A spiking lane was integrating, hence at 0: subtracting
            // its all-ones mask shifted left by 17 (−2^17 = −REFRACTORY) sets the refractory period
            // (no constant to load, size budget).
            let r = max(sub(refractory, and(act, dt_lanes)), zero);
            store(&mut self.refractory, k, sub(r, shl(spike, 17)));
            store(&mut self.current, k, andnot(current, act));
            // trace * alpha ≤ 65535 * 65536 < 2^32: an unsigned 32-bit product.
            let t = load_u16(&self.trace, k);
            let t = sub(t, shr_u(mul(t, alpha_stdp), 16));
            // A spike sets the trace to 0xFFFF = TRACE_MAX: the low half of the all-ones lane.
            store_u16(&mut self.trace, k, or(t, spike));
            let spike_phase = select(spike, phase, load_u32(&self.spike_phase, k));
            store_u32(&mut self.spike_phase, k, spike_phase);
            spikes |= bitmask(spike) << (4 * k);
            // ---- step 4 (skipped as a whole when nothing adapts: no lane would change; the branch
            // is the same for every group)
            if !homeo {
                continue;
            }
            // Inactive lanes get h = 0 and no spike, so their rate and threshold come out
            // unchanged without a select: the rate loses nothing and gains nothing, and the
            // threshold moves by 0 and is clamped to the range it already lies in.
            let act = active_lanes;
            // The step's spikes when it ran (a spiking lane is an active one), else the last
            // step's on the active lanes.
            let spiked = if step { spike } else { lane_mask(old_spikes >> (4 * k), lane_bits) };
            let rate = load_u32(&self.rate, k);
            // Re-read each iteration (volatile): with a loop-invariant h LLVM hoists its 64-bit
            // extension and emits a generic i64x2.mul (slow in engines) instead of the extmul of
            // `mulhi_*`. SAFETY: a read of a local, valid and aligned.
            let h_act = and(act, unsafe { core::ptr::read_volatile(&h_lanes) });
            let r = sub(rate, mulhi_u32(rate, h_act));
            // saturating r + RATE_SPIKE_INC = min(r, u32::MAX - RATE_SPIKE_INC) + RATE_SPIKE_INC
            let r = select(spiked, add(min_u32(r, rate_cap), rate_inc), r);
            let err = shr_s(sub(shr_u(r, 1), target_half), 7);
            let d = add(mulhi_i32(err, h_act), and(err, and(act, h_high)));
            store_u32(&mut self.rate, k, r);
            store(&mut self.threshold, k, min(max(add(threshold, d), threshold_min), threshold_max));
        }
        if !step {
            return self.spikes;
        }
        self.spikes = spikes;
        self.time = self.time.wrapping_add(dt as u64);
        spikes
    }

    /// The scalar twin of [`SnnCore::step`]: the module docs' step 1 written one neuron at a time
    /// (the tests check the two agree bit for bit on random and corner states).
    pub fn step_scalar(&mut self, dt: Fx, active: u32) -> u32 {
        let dt = clamp_dt(dt);
        let alpha_m = decay_factor(dt, INV_TAU_M) as i64;
        let alpha_stdp = decay_factor(dt, INV_TAU_STDP) as u32;
        let mut spikes = 0u32;
        for n in 0..NEURONS {
            if bit(active, n) {
                let refractory = self.refractory[n];
                if refractory > 0 {
                    self.refractory[n] = (refractory - dt).max(0); // both ≥ 0: no overflow
                } else {
                    let v = self.membrane[n];
                    // 0 ≤ alpha ≤ 1 and floor: the leak lies between 0 and v, so v - leak fits i32.
                    let leaked = v - (((v as i64) * alpha_m) >> 16) as Fx;
                    let v = leaked.saturating_add(self.current[n]);
                    if v >= self.threshold[n] {
                        spikes |= 1 << n;
                        self.membrane[n] = 0;
                        self.refractory[n] = REFRACTORY;
                    } else {
                        self.membrane[n] = v;
                    }
                }
                self.current[n] = 0;
            }
            // trace * alpha ≤ 65535 * 65536 < 2^32.
            let t = self.trace[n] as u32;
            self.trace[n] = (t - ((t * alpha_stdp) >> 16)) as u16;
            if bit(spikes, n) {
                self.trace[n] = TRACE_MAX;
                self.spike_phase[n] = self.phase;
            }
        }
        self.spikes = spikes;
        self.time = self.time.wrapping_add(dt as u64);
        spikes
    }

    /// Sends the last step's spikes along the synapses (module docs, step 2): each spike of neuron i
    /// adds `gain * weight/256 * node_weight[i]/256` to the current of each target.
    pub fn propagate(&mut self, syn: &Synapses, node_weight: &[u8; NEURONS], gain: Fx) {
        let gain = gain as i64;
        for i in Neurons(self.spikes) {
            let nw = node_weight[i] as i64;
            let edges = (syn.count[i] as usize).min(MAX_EDGES);
            for (&t, &w) in syn.target[i][..edges].iter().zip(&syn.weight[i][..edges]) {
                let t = t as usize;
                if t < NEURONS {
                    // scale ≤ 65025, |gain * scale| < 2^47: after >> 16 it fits i32, so the sum
                    // with the current is exact in i64, where it is saturated (tick A/B ≈ 0.98).
                    let c = (gain * (w as i64 * nw)) >> 16;
                    self.current[t] = sat_i64(self.current[t] as i64 + c);
                }
            }
        }
    }

    /// Pair-based STDP on every used synapse (module docs, step 3), from the last step's spikes and
    /// the traces as they are after that step.
    ///
    /// Only synapses with a spike at one end can change (otherwise `ltp = ltd = 0`), and each synapse
    /// is updated once, so the work is split without changing any result: (a) every used synapse of
    /// a spiking neuron gets the full rule; (b) every used synapse of a silent neuron whose target
    /// spiked gets `ltp` alone (`ltd = 0`, so only the upper clamp can apply). The synapses of (b) are
    /// found by comparing 16 target slots at a time with each spiking neuron (`targets_equal`,
    /// SIMD128 on wasm32), so the cost follows the number of spikes, not the number of synapses.
    pub fn stdp(&self, syn: &mut Synapses) {
        let spikes = self.spikes;
        if spikes == 0 {
            return;
        }
        // A± < 2^10, traces < 2^16: every product below is < 2^26.
        for i in Neurons(spikes) {
            let ltp_pre = STDP_A_PLUS * self.trace[i] as i32;
            // All six slots with the in-use test inside (j < 6, so j < count is j < edges(i)):
            // a loop of fixed length, without the empty-list guard and the min(count, 6) of a
            // variable one (size budget; tick A/B with learning ≈ 1.00).
            let count = syn.count[i] as usize;
            for (j, (&t, w)) in syn.target[i].iter().zip(&mut syn.weight[i]).enumerate() {
                let t = t as usize;
                if j < count && t < NEURONS {
                    let ltp = if bit(spikes, t) { ltp_pre } else { 0 };
                    let ltd = STDP_A_MINUS * self.trace[t] as i32;
                    // clamp(x, 0, 255): outside 0..=255 (as u32: above 255) a negative x gives
                    // 0 and a positive one 255, the low byte of !(x >> 31) (one compare where the
                    // clamp compiled to two, size budget).
                    let x = *w as i32 + ((ltp - ltd) >> 24);
                    *w = if x as u32 > 255 { !(x >> 31) } else { x } as u8;
                }
            }
        }
        for chunk in 0..NEURONS * MAX_EDGES / 16 {
            let mut hits = 0;
            let mut rest = spikes;
            while rest != 0 {
                hits |= targets_equal(&syn.target, chunk, rest.trailing_zeros());
                rest &= rest - 1;
            }
            while hits != 0 {
                let slot = chunk * 16 + hits.trailing_zeros() as usize;
                hits &= hits - 1;
                // chunk < 12 and hits has bits 0..16 only (a 16-lane mask), so slot < 192, the
                // table's length, and i = slot / 6 < 32: the reads of count[i] and trace[i] need
                // neither a bounds check nor a mask (size budget).
                let i = slot / MAX_EDGES;
                // (slot % 6 written out: with the mask gone LLVM emitted a second division for it)
                let j = slot - i * MAX_EDGES;
                // SAFETY: i < 32 (above), the length of `count`.
                if !bit(spikes, i) && j < unsafe { *syn.count.get_unchecked(i) } as usize {
                    // weight[i][j], flat: the rows are contiguous, so it is byte `slot`. SAFETY:
                    // slot < 192 (above).
                    let w = unsafe { syn.weight.as_flattened_mut().get_unchecked_mut(slot) };
                    // SAFETY: i < 32 (above), the length of `trace`.
                    let trace = unsafe { *self.trace.get_unchecked(i) };
                    *w = (*w as i32 + ((STDP_A_PLUS * trace as i32) >> 24)).min(255) as u8;
                }
            }
        }
    }

    /// Homeostatic plasticity of the neurons in `active` (module docs, step 4): a leaky spike-rate
    /// estimate with τ_homeo, and a threshold that rises when the rate is above the target and falls
    /// when below. Bit-exact with its scalar twin [`SnnCore::homeostasis_scalar`]; computed by
    /// [`SnnCore::advance`].
    pub fn homeostasis(&mut self, dt: Fx, active: u32) {
        self.advance(clamp_dt(dt), active, false, true);
    }

    /// The scalar twin of [`SnnCore::homeostasis`], one active neuron at a time.
    pub fn homeostasis_scalar(&mut self, dt: Fx, active: u32) {
        let h = homeo_factor(dt);
        for n in Neurons(active) {
            let r = self.rate[n] as u64;
            // r < 2^32 and h ≤ 2^32: the product fits u64; the result is ≤ r.
            let mut r = (r - ((r * h) >> 32)) as u32;
            if bit(self.spikes, n) {
                r = r.saturating_add(RATE_SPIKE_INC);
            }
            self.rate[n] = r;
            let err = ((r as i64) - (HOMEO_TARGET as i64)) >> 8; // Q16.16, |err| < 2^24
            let d = ((err * h as i64) >> 32) as Fx; // |err * h| < 2^56, |d| < 2^24
            // threshold ≤ 2^22 and |d| < 2^24: the sum fits i32.
            self.threshold[n] = (self.threshold[n] + d).clamp(THRESHOLD_MIN, THRESHOLD_MAX);
        }
    }

    /// Advances the gamma oscillator by dt (module docs, step 5).
    pub fn oscillator_step(&mut self, dt: Fx) {
        self.phase = self.phase.wrapping_add(phase_increment(dt));
    }

    /// Resonance of neuron `n` with the gamma rhythm: a triangle-wave cosine of the difference between
    /// the current phase and the phase at which `n` last spiked, Q16.16 in [-1, 1]:
    /// `1 - |phase - spike_phase| / 2^30` with the difference taken as a signed 32-bit turn fraction.
    pub fn resonance(&self, n: usize) -> Fx {
        let d = self.phase.wrapping_sub(self.spike_phase(n)) as i32;
        FX_ONE - (d.unsigned_abs() >> 14) as Fx // |d| ≤ 2^31 → result in [-65536, 65536]
    }

    /// Forgets the last hard-WTA winner.
    pub fn wta_reset(&mut self) {
        self.winner = NONE;
    }

    /// The active neuron with the highest membrane (ties → lowest index), [`NONE`] if none is active.
    #[inline(never)]
    fn leader(&self, active: u32) -> u32 {
        if active == 0 {
            return NONE as u32;
        }
        // The lowest active neuron first, then all of them in ascending order (the first against
        // itself too, which changes nothing), each taking the lead only with a strictly higher
        // membrane: one loop, without a separate first step (size budget).
        let mut best = active.trailing_zeros() as usize & (NEURONS - 1);
        for n in Neurons(active) {
            if self.membrane[n] > self.membrane[best] {
                best = n;
            }
        }
        best as u32
    }

    /// Hard winner-take-all among `active`: the winner is the active neuron with the highest membrane
    /// (ties → lowest index); every other active neuron's membrane is lowered (saturating) by
    /// `(max(v_winner, 0) * WTA_INHIBITION) >> 16`. Returns and records the winner, [`NONE`] if no
    /// neuron is active (then nothing else changes).
    pub fn wta_compete(&mut self, active: u32) -> u32 {
        let best = self.leader(active);
        self.winner = best as u8;
        // With no winner no neuron is active, so the loop changes nothing.
        let vw = self.membrane[best as usize & (NEURONS - 1)].max(0) as i64;
        let inhibition = (vw * WTA_INHIBITION as i64) >> 16;
        // 0 ≤ inhibition < 2^31, so −inhibition is an i32 and the saturating i32 sum equals
        // membrane − inhibition computed in i64 and clamped to i32 (through the shared out-of-line
        // helper).
        let minus = -(inhibition as Fx);
        // The active neurons but the winner (with no winner, none: active is 0).
        let others = active & !(1 << (best & 31));
        // Their set bits only, ascending (each neuron is updated independently).
        for n in Neurons(others) {
            add_saturating(&mut self.membrane[n], minus);
        }
        best
    }

    /// Soft winner-take-all among `active`: with m the highest active membrane, every active neuron's
    /// membrane v becomes `sat(v - (((m - v) * WTA_INHIBITION) >> 16))` — the further below the
    /// leader, the stronger the inhibition; the leader(s) keep their potential.
    pub fn wta_soft(&mut self, active: u32) {
        // With no leader no neuron is active, so the loop changes nothing.
        let m = self.membrane[self.leader(active) as usize & (NEURONS - 1)];
        // The active neurons in ascending order, set bits only (each is updated independently).
        for n in Neurons(active) {
            let v = self.membrane[n] as i64;
            let gap = m as i64 - v; // 0 ≤ gap < 2^32
            // The inhibition is ≥ 0 (gap ≥ 0), so the result never exceeds v ≤ i32::MAX: of the
            // clamp to i32 only the lower end can apply (one select where the full clamp compiled
            // to two).
            let lowered = v - ((gap * WTA_INHIBITION as i64) >> 16);
            self.membrane[n] = lowered.max(i32::MIN as i64) as Fx;
        }
    }

    /// The timestep (module docs): step, propagate, STDP when `learn`. Returns this step's spike
    /// bitmap. Inlined into its one caller (`snn_tick`), whose bounded dt then drops the step's
    /// clamp of dt (size budget).
    #[inline(always)]
    pub fn tick(
        &mut self,
        syn: &mut Synapses,
        node_weight: &[u8; NEURONS],
        dt: Fx,
        gain: Fx,
        learn: bool,
        active: u32,
    ) -> u32 {
        let spikes = self.step(dt, active);
        self.propagate(syn, node_weight, gain);
        if learn {
            self.stdp(syn);
        }
        spikes
    }
}

/// The constants of [`SnnCore::advance`] (and two of `search::Tagged`), splatted by
/// [`lanes::splat_hidden`]: zero, 0xFFFF (the low-half mask), i32::MAX, the bits of `f32::INFINITY`
/// (read by [`lanes::infinity`]), [`RATE_SPIKE_INC`], [`HOMEO_TARGET`] / 2, [`THRESHOLD_MIN`],
/// [`THRESHOLD_MAX`] (`advance` forms its rate cap as `!RATE_SPIKE_INC`).
static LANE_CONSTANTS: [i32; 8] = [
    0,
    0xFFFF,
    i32::MAX,
    f32::INFINITY.to_bits() as i32,
    RATE_SPIKE_INC as i32,
    (HOMEO_TARGET / 2) as i32,
    THRESHOLD_MIN,
    THRESHOLD_MAX,
];
// `advance` relies on all three: a spike's all-ones lane stores TRACE_MAX, shifted left by 17 it is
// −REFRACTORY, and the halved target is exact.
const _: () = assert!(TRACE_MAX as i32 == 0xFFFF && REFRACTORY == 1 << 17 && HOMEO_TARGET.is_multiple_of(2));

/// Four i32 lanes, the vector unit of [`SnnCore::step`] and [`SnnCore::homeostasis`]: SIMD128
/// (`core::arch::wasm32`) on wasm32, a plain `[i32; 4]` everywhere else, with the same operations and
/// the same (wrapping, two's-complement) semantics. `k` selects neurons `4k..4k+4` (k < 8). Masks are
/// all-ones / all-zero lanes.
pub mod lanes {
    pub use imp::*;

    /// `a + b` saturating at the i32 range, lane-wise (`i32_max`: a splat of `i32::MAX`). Signed
    /// overflow iff both operands differ in sign from the wrapped sum; the result then saturates
    /// toward the sign of `a` (i32::MAX for ≥ 0, i32::MIN for < 0).
    #[inline(always)]
    pub fn add_sat(a: V, b: V, i32_max: V) -> V {
        let sum = add(a, b);
        let overflow = shr_s(and(xor(a, sum), xor(b, sum)), 31);
        select(overflow, xor(shr_s(a, 31), i32_max), sum)
    }

    /// All-zero lanes read through [`splat_hidden`] (the first of
    /// `LANE_CONSTANTS`): the compiler cannot see the value, so a caller
    /// keeps it in a local; as a constant it is an 18-byte `v128.const` at every use, through
    /// `black_box` a store to the stack and a reload.
    #[inline(always)]
    pub fn zero() -> V {
        splat_hidden(&super::LANE_CONSTANTS[0])
    }

    /// Lanes holding the bits of `f32::INFINITY`, read like [`zero`] (an 18-byte `v128.const`
    /// otherwise, size budget).
    #[inline(always)]
    pub fn infinity() -> V {
        splat_hidden(&super::LANE_CONSTANTS[3])
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    mod imp {
        use core::arch::wasm32::*;
        pub type V = v128;
        const N: usize = super::super::NEURONS;

        #[inline(always)]
        pub fn load(a: &[i32; N], k: usize) -> V {
            // SAFETY: k & 7 ≤ 7, so the 16 bytes read lie inside the 128-byte array (wasm loads need
            // no alignment).
            unsafe { v128_load(a.as_ptr().add((k & 7) * 4) as *const V) }
        }
        #[inline(always)]
        pub fn store(a: &mut [i32; N], k: usize, v: V) {
            // SAFETY: as in `load`.
            unsafe { v128_store(a.as_mut_ptr().add((k & 7) * 4) as *mut V, v) }
        }
        #[inline(always)]
        pub fn load_u32(a: &[u32; N], k: usize) -> V {
            // SAFETY: as in `load`.
            unsafe { v128_load(a.as_ptr().add((k & 7) * 4) as *const V) }
        }
        #[inline(always)]
        pub fn store_u32(a: &mut [u32; N], k: usize, v: V) {
            // SAFETY: as in `load`.
            unsafe { v128_store(a.as_mut_ptr().add((k & 7) * 4) as *mut V, v) }
        }
        /// Four u16 zero-extended.
        #[inline(always)]
        pub fn load_u16(a: &[u16; N], k: usize) -> V {
            // SAFETY: 8 bytes at element 4k ≤ 28 of a 32-element array.
            unsafe { u32x4_load_extend_u16x4(a.as_ptr().add((k & 7) * 4)) }
        }
        /// Stores the low 16 bits of each lane.
        #[inline(always)]
        pub fn store_u16(a: &mut [u16; N], k: usize, v: V) {
            // SAFETY: as in `load_u16`.
            let low_halves = i8x16_shuffle::<0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13>(v, v);
            unsafe { v128_store64_lane::<0>(low_halves, a.as_mut_ptr().add((k & 7) * 4) as *mut u64) }
        }
        #[inline(always)]
        pub fn splat(x: i32) -> V {
            i32x4_splat(x)
        }
        /// A constant read with a volatile load so the compiler cannot see its value.
        #[inline(always)]
        fn hidden(x: &'static i32) -> i32 {
            // SAFETY: a valid, aligned reference to a static.
            unsafe { core::ptr::read_volatile(x) }
        }
        /// `splat(*x)` for a constant `x`, hidden from the compiler: it then keeps the vector in a
        /// local instead of re-creating an 18-byte `v128.const` at every use (that alone would cost
        /// some 300 bytes of the binary).
        #[inline(always)]
        pub fn splat_hidden(x: &'static i32) -> V {
            i32x4_splat(hidden(x))
        }
        /// `[1, 2, 4, 8]` for [`lane_mask`], hidden from the compiler as in [`splat_hidden`]: one
        /// volatile `v128.load` of a static, which the compiler cannot fold into a constant.
        #[inline(always)]
        pub fn lane_bits() -> V {
            static BITS: V = u32x4(1, 2, 4, 8);
            // SAFETY: a valid, aligned reference to a static.
            unsafe { core::ptr::read_volatile(&BITS) }
        }
        /// Lane i is all ones iff bit i of `bits` is set; `lane_bits = [1, 2, 4, 8]`. (`eq` with the
        /// lane's bit rather than `ne` with zero: `ne` is two instructions on x64.)
        #[inline(always)]
        pub fn lane_mask(bits: u32, lane_bits: V) -> V {
            i32x4_eq(v128_and(i32x4_splat(bits as i32), lane_bits), lane_bits)
        }
        /// Bit i = sign bit of lane i.
        #[inline(always)]
        pub fn bitmask(m: V) -> u32 {
            i32x4_bitmask(m) as u32
        }
        #[inline(always)]
        pub fn add(a: V, b: V) -> V {
            i32x4_add(a, b)
        }
        #[inline(always)]
        pub fn sub(a: V, b: V) -> V {
            i32x4_sub(a, b)
        }
        /// Low 32 bits of the product.
        #[inline(always)]
        pub fn mul(a: V, b: V) -> V {
            i32x4_mul(a, b)
        }
        /// `(a * b) >> 32` of the unsigned 64-bit product.
        #[inline(always)]
        pub fn mulhi_u32(a: V, b: V) -> V {
            i32x4_shuffle::<1, 3, 5, 7>(u64x2_extmul_low_u32x4(a, b), u64x2_extmul_high_u32x4(a, b))
        }
        /// `(a * b) >> 32` of the signed 64-bit product.
        #[inline(always)]
        pub fn mulhi_i32(a: V, b: V) -> V {
            i32x4_shuffle::<1, 3, 5, 7>(i64x2_extmul_low_i32x4(a, b), i64x2_extmul_high_i32x4(a, b))
        }
        #[inline(always)]
        pub fn shl(a: V, n: u32) -> V {
            i32x4_shl(a, n)
        }
        #[inline(always)]
        pub fn shr_s(a: V, n: u32) -> V {
            i32x4_shr(a, n)
        }
        #[inline(always)]
        pub fn shr_u(a: V, n: u32) -> V {
            u32x4_shr(a, n)
        }
        #[inline(always)]
        pub fn and(a: V, b: V) -> V {
            v128_and(a, b)
        }
        /// `a & !b`.
        #[inline(always)]
        pub fn andnot(a: V, b: V) -> V {
            v128_andnot(a, b)
        }
        #[inline(always)]
        pub fn or(a: V, b: V) -> V {
            v128_or(a, b)
        }
        #[inline(always)]
        pub fn xor(a: V, b: V) -> V {
            v128_xor(a, b)
        }
        /// `mask ? a : b` per lane.
        #[inline(always)]
        pub fn select(mask: V, a: V, b: V) -> V {
            v128_bitselect(a, b, mask)
        }
        #[inline(always)]
        pub fn gt(a: V, b: V) -> V {
            i32x4_gt(a, b)
        }
        #[inline(always)]
        pub fn min_u32(a: V, b: V) -> V {
            u32x4_min(a, b)
        }
        #[inline(always)]
        pub fn min(a: V, b: V) -> V {
            i32x4_min(a, b)
        }
        #[inline(always)]
        pub fn max(a: V, b: V) -> V {
            i32x4_max(a, b)
        }
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    mod imp {
        const N: usize = super::super::NEURONS;
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct V(pub [i32; 4]);

        fn map(a: V, f: impl Fn(i32) -> i32) -> V {
            V(a.0.map(f))
        }
        fn zip(a: V, b: V, f: impl Fn(i32, i32) -> i32) -> V {
            V([f(a.0[0], b.0[0]), f(a.0[1], b.0[1]), f(a.0[2], b.0[2]), f(a.0[3], b.0[3])])
        }
        fn mask(c: bool) -> i32 {
            if c {
                -1
            } else {
                0
            }
        }
        pub fn load(a: &[i32; N], k: usize) -> V {
            V(core::array::from_fn(|i| a[4 * k + i]))
        }
        pub fn store(a: &mut [i32; N], k: usize, v: V) {
            a[4 * k..4 * k + 4].copy_from_slice(&v.0);
        }
        pub fn load_u32(a: &[u32; N], k: usize) -> V {
            V(core::array::from_fn(|i| a[4 * k + i] as i32))
        }
        pub fn store_u32(a: &mut [u32; N], k: usize, v: V) {
            for i in 0..4 {
                a[4 * k + i] = v.0[i] as u32;
            }
        }
        pub fn load_u16(a: &[u16; N], k: usize) -> V {
            V(core::array::from_fn(|i| a[4 * k + i] as i32))
        }
        pub fn store_u16(a: &mut [u16; N], k: usize, v: V) {
            for i in 0..4 {
                a[4 * k + i] = v.0[i] as u16;
            }
        }
        pub fn splat(x: i32) -> V {
            V([x; 4])
        }
        pub fn splat_hidden(x: &'static i32) -> V {
            splat(*x)
        }
        pub fn lane_bits() -> V {
            V([1, 2, 4, 8])
        }
        pub fn lane_mask(bits: u32, lane_bits: V) -> V {
            zip(and(splat(bits as i32), lane_bits), lane_bits, |x, b| mask(x == b))
        }
        pub fn bitmask(m: V) -> u32 {
            (0..4).map(|i| ((m.0[i] as u32) >> 31) << i).sum()
        }
        pub fn add(a: V, b: V) -> V {
            zip(a, b, i32::wrapping_add)
        }
        pub fn sub(a: V, b: V) -> V {
            zip(a, b, i32::wrapping_sub)
        }
        pub fn mul(a: V, b: V) -> V {
            zip(a, b, i32::wrapping_mul)
        }
        pub fn mulhi_u32(a: V, b: V) -> V {
            zip(a, b, |x, y| ((x as u32 as u64 * y as u32 as u64) >> 32) as i32)
        }
        pub fn mulhi_i32(a: V, b: V) -> V {
            zip(a, b, |x, y| ((x as i64 * y as i64) >> 32) as i32)
        }
        pub fn shl(a: V, n: u32) -> V {
            map(a, |x| x << n)
        }
        pub fn shr_s(a: V, n: u32) -> V {
            map(a, |x| x >> n)
        }
        pub fn shr_u(a: V, n: u32) -> V {
            map(a, |x| ((x as u32) >> n) as i32)
        }
        pub fn and(a: V, b: V) -> V {
            zip(a, b, |x, y| x & y)
        }
        pub fn andnot(a: V, b: V) -> V {
            zip(a, b, |x, y| x & !y)
        }
        pub fn or(a: V, b: V) -> V {
            zip(a, b, |x, y| x | y)
        }
        pub fn xor(a: V, b: V) -> V {
            zip(a, b, |x, y| x ^ y)
        }
        pub fn select(m: V, a: V, b: V) -> V {
            V(core::array::from_fn(|i| (a.0[i] & m.0[i]) | (b.0[i] & !m.0[i])))
        }
        pub fn gt(a: V, b: V) -> V {
            zip(a, b, |x, y| mask(x > y))
        }
        pub fn min_u32(a: V, b: V) -> V {
            zip(a, b, |x, y| (x as u32).min(y as u32) as i32)
        }
        pub fn min(a: V, b: V) -> V {
            zip(a, b, i32::min)
        }
        pub fn max(a: V, b: V) -> V {
            zip(a, b, i32::max)
        }

    }
}

/// Bit q set iff target slot `16·chunk + q` (of the table flattened, slot = 6·i + j) equals n
/// (chunk < 12): one 16-byte SIMD128 compare.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn targets_equal(target: &[[u8; MAX_EDGES]; NEURONS], chunk: usize, n: u32) -> u32 {
    use core::arch::wasm32::*;
    // SAFETY: chunk % 12 ≤ 11, so the 16 bytes read lie inside the 192-byte table (wasm loads need
    // no alignment).
    let t = unsafe { v128_load((target.as_ptr() as *const u8).add((chunk % 12) * 16) as *const v128) };
    i8x16_bitmask(i8x16_eq(t, i8x16_splat(n as i8))) as u32
}

/// Scalar twin of the SIMD128 `targets_equal`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn targets_equal(target: &[[u8; MAX_EDGES]; NEURONS], chunk: usize, n: u32) -> u32 {
    (0..16)
        .filter(|q| {
            let slot = chunk * 16 + q;
            target[slot / MAX_EDGES][slot % MAX_EDGES] as u32 == n
        })
        .map(|q| 1 << q)
        .sum()
}

// ---- Boundary conversions (the only floating point in this module) --------------------------------

/// f32 → Q16.16, rounded to nearest (halves away from zero), saturating at the i32 range; NaN → 0.
/// Out of line: one copy serves the dozen ABI functions that take an f32 (size budget).
#[inline(never)]
pub fn fx_from_f32(x: f32) -> Fx {
    fx_from_f32_inline(x)
}

/// [`fx_from_f32`] inlined, for a hot loop that converts many values.
#[inline(always)]
pub fn fx_from_f32_inline(x: f32) -> Fx {
    let y = x * 65536.0;
    // ±0.5 with the sign of y (one `f32.copysign` where `y < 0.0`'s select of two constants was
    // larger, size budget); it differs from `if y < 0.0 { y - 0.5 } else { y + 0.5 }` only for
    // y = −0 (−0.5, not 0.5) and NaN, which both truncate to 0. `as` saturates and maps NaN to 0.
    (y + 0.5f32.copysign(y)) as i32
}

/// Q16.16 → f32 (exact for |x| < 2^24, else rounded). Out of line: its callers are all cold
/// (getters and the dendrite, resonance and activity paths) and share one copy (size budget).
#[inline(never)]
pub fn fx_to_f32(x: Fx) -> f32 {
    x as f32 * (1.0 / 65536.0)
}

/// Phase (one turn = 2^32) → radians in [0, 2π).
pub fn phase_to_radians(p: u32) -> f32 {
    // Top 24 bits keep the f32 conversion exact and the result below 2π.
    (p >> 8) as f32 * (core::f32::consts::TAU / 16_777_216.0)
}

/// Time (Q48.16 ms) → ms as f32.
pub fn time_to_ms(t: u64) -> f32 {
    t as f32 * (1.0 / 65536.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: u32 = u32::MAX;

    #[test]
    fn derived_constants_match_hand_computation() {
        assert_eq!(INV_TAU_M, 3277); // 65536 / 20 = 3276.8
        assert_eq!(INV_TAU_STDP, 3277);
        assert_eq!(INV_TAU_HOMEO, 4_294_967); // 2^32 / 1000 = 4294967.296
        assert_eq!(RATE_SPIKE_INC, 16_777); // 2^24 / 1000 = 16777.216
        assert_eq!(HOMEO_TARGET, 1_677_722); // 0.1 * 2^24 = 1677721.6
        assert_eq!(STDP_A_PLUS, 655); // 0.01 * 65536 = 655.36
        assert_eq!(STDP_A_MINUS, 786); // 0.012 * 65536 = 786.432
        assert_eq!(WTA_INHIBITION, 52_429); // 0.8 * 65536 = 52428.8
        assert_eq!(PHASE_PER_MS, 171_798_692); // 0.04 * 2^32 = 171798691.84
        assert_eq!(REFRACTORY, 131_072);
        assert_eq!(DT_MAX, 65_536_000);
    }

    #[test]
    fn inject_all_equals_inject_per_neuron_saturating_both_ways() {
        let edges = [0, 1, -1, 7, i32::MAX, i32::MIN, i32::MAX - 3, i32::MIN + 3, FX_ONE, -FX_ONE];
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for round in 0..200 {
            let (mut a, mut b) = (SnnCore::new(), SnnCore::new());
            let mut drive = [0; NEURONS];
            for (n, d) in drive.iter_mut().enumerate() {
                let pick = |x: u32| if x.is_multiple_of(3) { edges[(x / 3) as usize % edges.len()] } else { x as i32 };
                let c = pick(next());
                a.inject(n, c);
                b.inject(n, c);
                *d = if round % 5 == 0 { 0 } else { pick(next()) };
            }
            a.inject_all(&drive);
            for (n, &d) in drive.iter().enumerate() {
                b.inject(n, d);
            }
            assert_eq!(a.current, b.current, "round {round}");
        }
    }

    #[test]
    fn reset_restores_the_initial_state() {
        let mut c = SnnCore::new();
        let mut syn = Synapses::new();
        for n in 0..NEURONS {
            c.set_membrane(n, (n as Fx - 7) * FX_ONE / 3);
            c.set_threshold(n, FX_ONE / 2 + n as Fx * 997);
            c.inject(n, FX_ONE + n as Fx);
            syn.target[n][0] = ((n + 1) % NEURONS) as u8;
            syn.count[n] = 1;
            syn.weight[n][0] = INITIAL_WEIGHT;
        }
        for _ in 0..5 {
            c.tick(&mut syn, &[255; NEURONS], 3 * FX_ONE, FX_ONE, true, ALL);
            c.homeostasis(FX_ONE, ALL);
            c.oscillator_step(FX_ONE);
        }
        c.wta_compete(ALL);
        assert_ne!(c, SnnCore::new());
        c.reset();
        assert_eq!(c, SnnCore::new());
    }

    #[test]
    fn leak_floors_for_both_signs() {
        let mut c = SnnCore::new();
        c.set_membrane(0, 32768);
        c.set_membrane(1, -32768);
        assert_eq!(c.step(FX_ONE, 0b11), 0);
        // leak = floor(32768 * 3277 / 65536) = floor(1638.5) = 1638
        assert_eq!(c.membrane(0), 31130);
        // leak = floor(-1638.5) = -1639
        assert_eq!(c.membrane(1), -31129);
        // dt 0: no leak; inactive neurons untouched
        c.set_membrane(2, 12345);
        c.inject(2, 7);
        c.step(0, 0b1);
        assert_eq!(c.membrane(2), 12345);
        assert_eq!(c.current(2), 7);
    }

    #[test]
    fn threshold_equality_spikes_and_refractory_boundary() {
        let mut c = SnnCore::new();
        c.set_membrane(3, FX_ONE - 5);
        c.inject(3, 5);
        assert_eq!(c.step(0, ALL), 1 << 3); // v == threshold spikes
        assert_eq!(c.membrane(3), 0);
        assert_eq!(c.refractory(3), 2 * FX_ONE);
        assert_eq!(c.trace(3), 65535);
        // refractory: input discarded, membrane held, 1 ms at a time
        c.inject(3, 10 * FX_ONE);
        assert_eq!(c.step(FX_ONE, ALL), 0);
        assert_eq!(
            (c.refractory(3), c.current(3), c.membrane(3)),
            (FX_ONE, 0, 0)
        );
        c.inject(3, 10 * FX_ONE);
        assert_eq!(c.step(FX_ONE, ALL), 0);
        assert_eq!(c.refractory(3), 0); // reaches 0 exactly, still skipped this step
        assert_eq!(c.membrane(3), 0);
        c.inject(3, FX_ONE - 1);
        assert_eq!(c.step(FX_ONE, ALL), 0); // integrates again, just below threshold
        assert_eq!(c.membrane(3), FX_ONE - 1);
        assert_eq!(c.time(), 3 * 65536);
    }

    #[test]
    fn saturation_of_current_and_membrane() {
        let mut c = SnnCore::new();
        c.inject(0, i32::MAX);
        c.inject(0, i32::MAX);
        assert_eq!(c.current(0), i32::MAX);
        c.set_membrane(1, i32::MIN);
        c.inject(1, i32::MIN);
        c.step(0, ALL);
        assert_eq!(c.membrane(1), i32::MIN);
        assert!(c.spiked(0));
        c.set_threshold(5, 0);
        assert_eq!(c.threshold(5), FX_ONE / 16);
        c.set_threshold(5, i32::MAX);
        assert_eq!(c.threshold(5), 64 * FX_ONE);
        // out-of-range neuron: ignored, reads 0
        c.set_membrane(32, 5);
        c.inject(99, 5);
        assert_eq!(c.membrane(32), 0);
        assert_eq!(c.current(99), 0);
    }

    fn one_edge(from: usize, to: u8, w: u8) -> Synapses {
        let mut s = Synapses::new();
        s.target[from][0] = to;
        s.count[from] = 1;
        s.weight[from][0] = w;
        s
    }

    #[test]
    fn propagation_scales_by_weights_and_gain() {
        let mut c = SnnCore::new();
        let s = one_edge(0, 3, 128);
        let mut nw = [0u8; NEURONS];
        nw[0] = 255;
        c.inject(0, FX_ONE);
        c.step(FX_ONE, ALL);
        c.propagate(&s, &nw, 2 * FX_ONE);
        // 2.0 * 128/256 * 255/256 = 0.99609375 = 65280
        assert_eq!(c.current(3), 65280);
        c.propagate(&s, &nw, -3 * FX_ONE);
        // 65280 + floor(-3 * 32640 / 65536 * 65536 ... ) = 65280 - 97920
        assert_eq!(c.current(3), -32640);
        // invalid target and count beyond MAX_EDGES are harmless
        let mut s2 = one_edge(0, 200, 255);
        s2.count[0] = 250;
        c.propagate(&s2, &nw, FX_ONE);
        assert_eq!(c.current(3), -32640);
    }

    #[test]
    fn stdp_potentiates_causal_pairs_and_clamps() {
        let mut c = SnnCore::new();
        let mut s = one_edge(0, 1, 100);
        // pre (0) spikes at t=0, post (1) at t=1 ms
        c.inject(0, FX_ONE);
        c.step(FX_ONE, ALL);
        c.stdp(&mut s);
        // pre spiked, post trace 0: ltd = 0
        assert_eq!(s.weight[0][0], 100);
        c.inject(1, FX_ONE);
        c.step(FX_ONE, ALL);
        // pre trace after 1 ms: 65535 - floor(65535*3277/65536) = 65535 - 3276 = 62259
        assert_eq!(c.trace(0), 62259);
        c.stdp(&mut s);
        // ltp = 655 * 62259 = 40779645; >> 24 = 2
        assert_eq!(s.weight[0][0], 102);
        // anti-causal: pre spikes after post → depression by floor(-786*trace/2^24)
        s.weight[0][0] = 1;
        let mut c3 = SnnCore::new();
        c3.inject(1, FX_ONE);
        c3.step(FX_ONE, ALL);
        c3.inject(0, FX_ONE);
        c3.step(FX_ONE, ALL);
        c3.stdp(&mut s);
        assert_eq!(s.weight[0][0], 0); // 1 - 3 clamps at 0
        let mut s4 = one_edge(0, 1, 254);
        let mut c4 = SnnCore::new();
        c4.inject(0, FX_ONE);
        c4.step(FX_ONE, ALL);
        c4.inject(1, FX_ONE);
        c4.step(0, ALL); // no decay: ltp = 655*65535 >> 24 = 2
        c4.stdp(&mut s4);
        assert_eq!(s4.weight[0][0], 255); // 254 + 2 clamps at 255
    }

    /// The documented rule on every used synapse, without the skips of [`SnnCore::stdp`].
    fn stdp_dense(c: &SnnCore, syn: &mut Synapses) {
        for i in 0..NEURONS {
            for j in 0..syn.edges(i) {
                let t = syn.target[i][j] as usize;
                if t >= NEURONS {
                    continue;
                }
                let ltp = if c.spiked(t) { STDP_A_PLUS * c.trace[i] as i32 } else { 0 };
                let ltd = if c.spiked(i) { STDP_A_MINUS * c.trace[t] as i32 } else { 0 };
                syn.weight[i][j] = (syn.weight[i][j] as i32 + ((ltp - ltd) >> 24)).clamp(0, 255) as u8;
            }
        }
    }

    #[test]
    fn stdp_skips_change_nothing() {
        let mut x = 0x9E37_79B9u32;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for round in 0..2000 {
            let mut c = SnnCore::new();
            let mut s = Synapses::new();
            for n in 0..NEURONS {
                s.count[n] = (rnd() % 9) as u8; // > MAX_EDGES sometimes
                for j in 0..MAX_EDGES {
                    s.target[n][j] = if rnd() % 8 == 0 { 32 + (rnd() % 224) as u8 } else { (rnd() % 32) as u8 };
                    s.weight[n][j] = [0, 1, 254, 255, rnd() as u8][(rnd() % 5) as usize];
                }
                // traces around the rounding edges 2^24 / A± and the extremes
                c.trace[n] = [0, 25_614, 25_615, 21_344, 21_345, 65_535, rnd() as u16][(rnd() % 7) as usize];
            }
            c.spikes = match round % 4 {
                0 => rnd() & rnd() & rnd(),
                1 => rnd(),
                2 => u32::MAX,
                _ => 1 << (rnd() % 32),
            };
            let mut expected = s;
            stdp_dense(&c, &mut expected);
            c.stdp(&mut s);
            assert_eq!(s, expected, "round {round}");
        }
    }

    #[test]
    fn lanes_equal_scalar_twins_on_random_and_corner_states() {
        let mut x = 0x2545_F491u32;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let pick = |r: u32, corners: &[i32]| corners[(r as usize) % corners.len()];
        for round in 0..20_000 {
            let mut c = SnnCore::new();
            for n in 0..NEURONS {
                let m = [0, 1, -1, i32::MAX, i32::MIN, FX_ONE, -FX_ONE, rnd() as i32];
                c.membrane[n] = pick(rnd(), &m);
                c.current[n] = pick(rnd(), &m);
                c.threshold[n] = pick(rnd(), &[THRESHOLD_MIN, THRESHOLD_MAX, FX_ONE, c.membrane[n].clamp(THRESHOLD_MIN, THRESHOLD_MAX)]);
                c.refractory[n] = pick(rnd(), &[0, 0, 1, REFRACTORY, FX_ONE, (rnd() % REFRACTORY as u32) as i32]);
                c.trace[n] = [0, 1, 65535, rnd() as u16][(rnd() % 4) as usize];
                c.rate[n] = [0, 1, u32::MAX, HOMEO_TARGET, HOMEO_TARGET - 1, u32::MAX - RATE_SPIKE_INC, rnd()][(rnd() % 7) as usize];
                c.spike_phase[n] = rnd();
            }
            c.spikes = rnd();
            c.phase = rnd();
            let dt = pick(rnd(), &[0, 1, FX_ONE, FX_ONE / 4, DT_MAX, DT_MAX - 1, DT_MAX / 2, -5, i32::MAX, (rnd() % DT_MAX as u32) as i32]);
            let active = [u32::MAX, 0, rnd(), 0x0F0F_F0F0][(rnd() % 4) as usize];
            let (mut a, mut b) = (c.clone(), c.clone());
            assert_eq!(a.step(dt, active), b.step_scalar(dt, active), "round {round}");
            assert_eq!(a, b, "step, round {round}");
            a.homeostasis(dt, active);
            b.homeostasis_scalar(dt, active);
            assert_eq!(a, b, "homeostasis, round {round}");
            let (mut a, mut b) = (c.clone(), c);
            assert_eq!(a.advance(clamp_dt(dt), active, true, true), b.step_scalar(dt, active));
            b.homeostasis_scalar(dt, active);
            assert_eq!(a, b, "step and homeostasis in one pass, round {round}");
        }
    }

    #[test]
    fn homeostasis_tracks_rate_and_moves_threshold() {
        let mut c = SnnCore::new();
        c.inject(0, FX_ONE);
        c.step(FX_ONE, ALL);
        c.homeostasis(FX_ONE, ALL);
        assert_eq!(c.rate_raw(0), 16_777);
        assert_eq!(c.rate_raw(1), 0);
        // h = 4294967 ≈ 0.001 (1 ms). Neuron 1: err = -1677722 >> 8 = -6554 (floor of -6553.6);
        // d = floor(-6554 * 4294967 / 2^32) = floor(-6.554) = -7
        assert_eq!(c.threshold(1), FX_ONE - 7);
        // Neuron 0: err = (16777 - 1677722) >> 8 = floor(-6488.07) = -6489 → d = floor(-6.489) = -7
        assert_eq!(c.threshold(0), FX_ONE - 7);
        // far above target: rate 1 spike/ms → threshold rises
        c.rate[2] = 1 << 24;
        c.homeostasis(FX_ONE, 1 << 2);
        // r = 2^24 - floor(2^24 * 0.000999999930) = 16777216 - 16777 = 16760439
        assert_eq!(c.rate_raw(2), 16_760_439);
        // err = (16760439 - 1677722) >> 8 = 58916; d = floor(58.9159...) = 58
        assert_eq!(c.threshold(2), FX_ONE - 7 + 58);
        // decay: r = 16777 - floor(16777 * 4294967 / 2^32) = 16777 - 16 = 16761
        c.step(FX_ONE, ALL);
        c.homeostasis(FX_ONE, 1);
        assert_eq!(c.rate_raw(0), 16_761);
        // the largest dt: h = 1000 * 4294967 = 4294967000 (just below 1.0): 16761 - 16760 = 1
        c.homeostasis(DT_MAX, 1);
        assert_eq!(c.rate_raw(0), 1);
        c.set_threshold(0, THRESHOLD_MIN);
        c.homeostasis(FX_ONE, 1);
        assert_eq!(c.threshold(0), THRESHOLD_MIN); // below target, clamped
        c.set_threshold(0, THRESHOLD_MAX);
        c.rate[0] = u32::MAX;
        c.homeostasis(FX_ONE, 1);
        assert_eq!(c.threshold(0), THRESHOLD_MAX); // above target, clamped
    }

    #[test]
    fn oscillator_wraps_after_one_gamma_period() {
        let mut c = SnnCore::new();
        for _ in 0..25 {
            c.oscillator_step(FX_ONE);
        }
        // 25 * 171798692 = 4294967300 = 2^32 + 4
        assert_eq!(c.phase(), 4);
        assert_eq!(c.resonance(0), FX_ONE); // spike_phase 0, d = 4 → 1.0
        c.oscillator_step(FX_ONE / 2 * 25); // half a turn more
                                            // 12.5 ms = 2147483650: phase 2147483654, d = -2147483642, |d| >> 14 = 131071
        assert_eq!(c.resonance(0), FX_ONE - 131_071);
        c.oscillator_step(-5); // negative dt = 0
        assert_eq!(c.phase(), 2_147_483_654);
        c.oscillator_step(i32::MAX); // clamped to 1000 ms: 171798692000 mod 2^32 = 160
        assert_eq!(c.phase(), 2_147_483_654 + 160);
    }

    #[test]
    fn hard_wta_ties_go_to_lowest_index() {
        let mut c = SnnCore::new();
        c.set_membrane(4, FX_ONE);
        c.set_membrane(9, FX_ONE);
        c.set_membrane(2, FX_ONE / 2);
        c.set_membrane(20, i32::MIN + 5);
        assert_eq!(c.wta_compete(ALL & !(1 << 7)), 4);
        assert_eq!(c.winner(), 4);
        assert_eq!(c.membrane(4), FX_ONE);
        assert_eq!(c.membrane(9), FX_ONE - 52429);
        assert_eq!(c.membrane(2), 32768 - 52429);
        assert_eq!(c.membrane(20), i32::MIN); // saturates
        assert_eq!(c.wta_compete(0), NONE as u32);
        assert_eq!(c.membrane(9), FX_ONE - 52429);
        c.wta_reset();
        assert_eq!(c.winner(), NONE);
    }

    #[test]
    fn soft_wta_inhibits_by_gap() {
        let mut c = SnnCore::new();
        c.set_membrane(0, FX_ONE);
        c.set_membrane(1, 0);
        c.set_membrane(2, i32::MIN);
        c.wta_soft(0b111);
        assert_eq!(c.membrane(0), FX_ONE);
        assert_eq!(c.membrane(1), -52429);
        assert_eq!(c.membrane(2), i32::MIN);
        // others (not active) untouched
        assert_eq!(c.membrane(3), 0);
    }

    #[test]
    fn tick_is_the_documented_sequence() {
        let mut s = Synapses::new();
        for n in 0..NEURONS {
            s.count[n] = 3;
            for j in 0..3 {
                s.target[n][j] = ((n * 7 + j * 5 + 1) % NEURONS) as u8;
                s.weight[n][j] = (n * 37 + j * 11) as u8;
            }
        }
        let nw = [200u8; NEURONS];
        let mut a = SnnCore::new();
        let mut sa = s;
        let mut b = SnnCore::new();
        let mut sb = s;
        for k in 0..200 {
            let n = (k * 13) % NEURONS;
            a.inject(n, 3 * FX_ONE / 2);
            b.inject(n, 3 * FX_ONE / 2);
            let learn = k % 3 != 0;
            let active = if k % 5 == 0 { 0x0F0F_0F0F } else { ALL };
            let ra = a.tick(&mut sa, &nw, FX_ONE / 2, FX_ONE, learn, active);
            let rb = b.step(FX_ONE / 2, active);
            b.propagate(&sb, &nw, FX_ONE);
            if learn {
                b.stdp(&mut sb);
            }
            assert_eq!(ra, rb);
        }
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert_ne!(sa.weight, s.weight, "learning changed some weights");
        // Homeostasis and the oscillator are not part of it (micro-hnsw-wasm 2.3's tick).
        assert_eq!(a.phase(), 0);
        assert!((0..NEURONS).all(|n| a.threshold(n) == THRESHOLD_DEFAULT && a.rate_raw(n) == 0));
    }

    #[test]
    fn synapse_table_layout_is_the_documented_abi() {
        let s = Synapses::new();
        let base = &s as *const Synapses as usize;
        assert_eq!(core::mem::size_of::<Synapses>(), 416);
        assert_eq!(s.target.as_ptr() as usize - base, 0);
        assert_eq!(s.count.as_ptr() as usize - base, 192);
        assert_eq!(s.weight.as_ptr() as usize - base, 224);
    }

    #[test]
    fn f32_boundary() {
        assert_eq!(fx_from_f32(f32::NAN), 0);
        assert_eq!(fx_from_f32(f32::INFINITY), i32::MAX);
        assert_eq!(fx_from_f32(f32::NEG_INFINITY), i32::MIN);
        assert_eq!(fx_from_f32(1.5), 98304);
        assert_eq!(fx_from_f32(-0.25), -16384);
        assert_eq!(fx_from_f32(1.0 / 131072.0), 1); // half an ulp rounds away from zero
        assert_eq!(fx_to_f32(-98304), -1.5);
        assert_eq!(phase_to_radians(1 << 31), core::f32::consts::PI);
        assert_eq!(time_to_ms(3 << 16), 3.0);
    }
}
