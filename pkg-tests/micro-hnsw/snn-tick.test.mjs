// snn_tick of the shipped binary (SIMD128 parts included) against an independent JS model of the
// documented fixed-point timestep (micro-hnsw/src/snn.rs module docs), bit for bit, over random and
// corner stimulus: random synapse tables (also invalid targets and counts > 6), node weights, dense
// and sparse spiking, saturating currents, dt up to its 1000 ms limit, negative gains, learning on/off.
// As in micro-hnsw-wasm 2.3, a tick is step, propagate and STDP; most steps are followed by
// homeostatic_update and oscillator_step, as a caller of that ABI runs them, and those too are
// checked against the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawCore, randomVectors, rng, wasmBytes } from './helpers.mjs';

const N = 32;
const E = 6;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const sat = (x) => Math.min(I32_MAX, Math.max(I32_MIN, x));
const bit = (m, n) => ((m >>> n) & 1) === 1;

// Constants written out from the documented seed parameters (not read from the code under test).
const INV_TAU = 3277; // round(65536 / 20)
const INV_TAU_HOMEO = 4294967n; // round(2^32 / 1000)
const RATE_SPIKE_INC = 16777; // round(2^24 / 1000)
const HOMEO_TARGET = 1677722n; // round(0.1 * 2^24)
const A_PLUS = 655; // round(0.01 * 65536)
const A_MINUS = 786; // round(0.012 * 65536)
const PHASE_PER_MS = 171798692n; // round(0.04 * 2^32)
const REFRACTORY = 2 * 65536;
const DT_MAX = 1000 * 65536;
const TH_MIN = 65536 / 16;
const TH_MAX = 64 * 65536;

/** The documented timestep over plain JS state. */
class Model {
  constructor(count, syn, nodeWeight) {
    this.active = count >= 32 ? 0xffffffff : (2 ** count - 1) >>> 0;
    this.syn = syn; // { target: Uint8Array(192), count: Uint8Array(32), weight: Uint8Array(192) } (copies)
    this.nodeWeight = nodeWeight;
    this.membrane = new Array(N).fill(0);
    this.threshold = new Array(N).fill(65536);
    this.refractory = new Array(N).fill(0);
    this.current = new Array(N).fill(0);
    this.trace = new Array(N).fill(0);
    this.rate = new Array(N).fill(0n);
    this.spikes = 0;
    this.phase = 0n;
    this.time = 0n;
  }
  tick(dt, gain, learn) {
    dt = Math.min(Math.max(dt, 0), DT_MAX);
    const alpha = Math.min(Math.floor((dt * INV_TAU) / 65536), 65536);
    let spikes = 0;
    for (let n = 0; n < N; n++) {
      if (bit(this.active, n)) {
        if (this.refractory[n] > 0) {
          this.refractory[n] = Math.max(this.refractory[n] - dt, 0);
        } else {
          const v = this.membrane[n];
          const leaked = v - Math.floor((v * alpha) / 65536);
          const nv = sat(leaked + this.current[n]);
          if (nv >= this.threshold[n]) {
            spikes |= 1 << n;
            this.membrane[n] = 0;
            this.refractory[n] = REFRACTORY;
          } else {
            this.membrane[n] = nv;
          }
        }
        this.current[n] = 0;
      }
      const t = this.trace[n];
      this.trace[n] = t - Math.floor((t * alpha) / 65536);
      if (bit(spikes, n)) this.trace[n] = 65535;
    }
    this.spikes = spikes >>> 0;
    this.time += BigInt(dt);
    const { target, count, weight } = this.syn;
    // propagate
    for (let i = 0; i < N; i++) {
      if (!bit(this.spikes, i)) continue;
      for (let j = 0; j < Math.min(count[i], E); j++) {
        const t = target[i * E + j];
        if (t < N) this.current[t] = sat(this.current[t] + Math.floor((gain * weight[i * E + j] * this.nodeWeight[i]) / 65536));
      }
    }
    // STDP, the plain rule on every used synapse
    if (learn) {
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < Math.min(count[i], E); j++) {
          const t = target[i * E + j];
          if (t >= N) continue;
          const ltp = bit(this.spikes, t) ? A_PLUS * this.trace[i] : 0;
          const ltd = bit(this.spikes, i) ? A_MINUS * this.trace[t] : 0;
          weight[i * E + j] = Math.min(255, Math.max(0, weight[i * E + j] + Math.floor((ltp - ltd) / 2 ** 24)));
        }
      }
    }
    return this.spikes;
  }
  /** homeostatic_update: threshold adaptation of the active neurons from the last step's spikes. */
  homeostasis(dt) {
    dt = Math.min(Math.max(dt, 0), DT_MAX);
    let h = (BigInt(dt) * INV_TAU_HOMEO) >> 16n;
    if (h > 1n << 32n) h = 1n << 32n;
    for (let n = 0; n < N; n++) {
      if (!bit(this.active, n)) continue;
      let r = this.rate[n] - ((this.rate[n] * h) >> 32n);
      if (bit(this.spikes, n)) r = r + BigInt(RATE_SPIKE_INC) > 0xffffffffn ? 0xffffffffn : r + BigInt(RATE_SPIKE_INC);
      this.rate[n] = r;
      const err = (r - HOMEO_TARGET) >> 8n;
      const d = Number((err * h) >> 32n);
      this.threshold[n] = Math.min(TH_MAX, Math.max(TH_MIN, this.threshold[n] + d));
    }
  }
  /** oscillator_step. */
  oscillator(dt) {
    dt = Math.min(Math.max(dt, 0), DT_MAX);
    this.phase = (this.phase + ((BigInt(dt) * PHASE_PER_MS) >> 16n)) & 0xffffffffn;
  }
  /** oscillator_get_phase: the top 24 bits of the phase as an f32 turn fraction times 2π (f32). */
  radians() {
    return Math.fround(Number(this.phase >> 8n) * Math.fround(Math.fround(2 * Math.PI) / 16777216));
  }
}

const popcount = (x) => { let c = 0; for (; x; x &= x - 1) c++; return c; };
const toF32 = (fx) => Math.fround(fx) / 65536; // fx_to_f32: (x as f32) * 2^-16

function run(seed, count, steps) {
  const x = rawCore(new WebAssembly.Module(wasmBytes()));
  const rand = rng(seed);
  const ri = (n) => Math.floor(((rand() + 1) / 2) * n); // integer in [0, n)
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  x.init(16, 0, 0);
  for (const v of randomVectors(rand, count, 16)) { ins.set(v); x.insert(); }
  x.snn_reset();
  const synBytes = new Uint8Array(x.memory.buffer, x.snn_get_synapse_ptr(), 416);
  // Most seeds keep the graph the index built (with random weights); some rewrite the whole table
  // with random targets (also ≥ 32) and counts (also > 6) to reach every branch of propagate and STDP.
  if (seed % 2 === 0) {
    for (let k = 0; k < 192; k++) synBytes[k] = ri(8) === 0 ? 32 + ri(224) : ri(N);
    for (let k = 0; k < 32; k++) synBytes[192 + k] = ri(9);
  }
  for (let k = 0; k < 192; k++) synBytes[224 + k] = [0, 1, 254, 255, ri(256)][ri(5)];
  for (let n = 0; n < count; n++) x.set_edge_weight(n, [0, 255, ri(256)][ri(3)]);
  const nodeWeight = Array.from({ length: N }, (_, n) => x.get_edge_weight(n));
  const model = new Model(count, {
    target: synBytes.slice(0, 192), count: synBytes.slice(192, 224), weight: synBytes.slice(224, 416),
  }, nodeWeight);
  const thresholds = new Int32Array(x.memory.buffer, x.snn_get_threshold_ptr(), 32);
  let spikesSeen = 0;
  let denseSteps = 0;
  for (let step = 0; step < steps; step++) {
    const dense = step % 200 < 40; // phases of heavy input: many simultaneous spikes
    const injections = dense ? 24 : ri(4);
    for (let k = 0; k < injections; k++) {
      const n = ri(count);
      // k/256 is exact in f32 and in Q16.16 (= k·256); rare huge values saturate the current.
      const units = ri(50) === 0 ? (ri(2) ? 1 : -1) * 8_000_000 : ri(1024) - 256;
      x.snn_inject(n, units / 256);
      model.current[n] = sat(model.current[n] + units * 256);
    }
    if (ri(40) === 0) {
      const n = ri(count);
      const units = ri(8192) - 2048;
      x.snn_set_membrane(n, units / 256);
      model.membrane[n] = units * 256;
    }
    if (ri(40) === 0) {
      const n = ri(count);
      const units = ri(20000) - 100;
      x.snn_set_threshold(n, units / 256);
      model.threshold[n] = Math.min(TH_MAX, Math.max(TH_MIN, units * 256));
    }
    const dtUnits = [256, 64, 1, 256000, 1 + ri(2048)][ri(5)]; // 1 ms, 0.25 ms, 1/256 ms, 1000 ms, random
    const gainUnits = ri(4096) - 1024;
    const learn = ri(4) !== 0 ? 1 : 0;
    const n = x.snn_tick(dtUnits / 256, gainUnits / 256, learn);
    const spikes = model.tick(dtUnits * 256, gainUnits * 256, learn);
    // A 2.3-style caller: homeostasis and the oscillator after most ticks (each its own call).
    if (ri(4) !== 0) {
      x.homeostatic_update(dtUnits / 256);
      model.homeostasis(dtUnits * 256);
    }
    if (ri(4) !== 0) {
      x.oscillator_step(dtUnits / 256);
      model.oscillator(dtUnits * 256);
    }
    spikesSeen += popcount(spikes);
    if (popcount(spikes) >= 4) denseSteps++;
    const where = `seed ${seed}, count ${count}, step ${step}`;
    assert.equal(n, popcount(spikes), `spike count, ${where}`);
    assert.equal(x.snn_get_spikes() >>> 0, spikes, `spike bitmap, ${where}`);
    assert.deepEqual(Array.from(synBytes.subarray(224, 416)), Array.from(model.syn.weight), `weights, ${where}`);
    assert.deepEqual(Array.from(thresholds), model.threshold, `thresholds, ${where}`);
    for (let i = 0; i < count; i++) {
      assert.equal(x.snn_get_membrane(i), toF32(model.membrane[i]), `membrane ${i}, ${where}`);
      assert.equal(x.get_spike_rate(i), toF32(Number(model.rate[i] >> 8n)), `rate ${i}, ${where}`);
    }
    assert.equal(x.snn_get_time(), Math.fround(Number(model.time)) / 65536, `time, ${where}`);
    assert.equal(x.oscillator_get_phase(), model.radians(), `oscillator phase, ${where}`);
  }
  return { spikesSeen, denseSteps };
}

test('snn_tick (with the homeostasis and oscillator calls of a 2.3-style caller) equals a JS model of the documented fixed-point operations, bit for bit, over random and corner stimulus', () => {
  let spikes = 0;
  let dense = 0;
  for (const [seed, count] of [[1, 32], [2, 32], [3, 20], [4, 7], [5, 32], [6, 32]]) {
    const r = run(seed, count, 1500);
    spikes += r.spikesSeen;
    dense += r.denseSteps;
  }
  // The stimulus really exercised spiking, sparse and dense.
  assert.ok(spikes > 5000, `spikes seen: ${spikes}`);
  assert.ok(dense > 200, `steps with ≥ 4 simultaneous spikes: ${dense}`);
});
