// Hostile input to sona-wasm/router and sona-wasm/federated: user code inside an argument (an array
// element's getter) that throws, re-enters the object or frees it must end in a named
// Error with the object unchanged and usable — never a borrow left behind ("recursive use of an
// object detected") or wasm-bindgen's "null pointer passed to rust" — plus a bounded run of the
// seeded random-sequence fuzzer (fuzz.mjs) over both entries.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
import { WasmEphemeralAgent, WasmFederatedCoordinator } from 'sona-wasm/federated';
import { fuzz } from './fuzz.mjs';
import { rejects } from '../sona/helpers.mjs';

const FEATURES = [0.1, 0.2, 0.3, 0.4, 0.5];

/** An array of `values` whose element `i` runs `hook` when read (a getter). */
function withGetter(values, i, hook) {
  const a = [...values];
  Object.defineProperty(a, i, { get() { return hook(values[i]); }, enumerable: true });
  return a;
}

test('addSample: a teacher array whose getter throws leaves the trainer unchanged and usable', () => {
  const t = new RouterTrainer({ output_dim: 2, epochs: 2, seed: 1 });
  t.addSample(FEATURES, 0, [0.9, 0.1]);
  const teacher = withGetter([0.5, 0.5], 1, () => { throw new Error('teacher getter failed'); });
  rejects(() => t.addSample(FEATURES, 1, teacher), /teacher getter failed/, 'throwing teacher');
  assert.equal(t.sampleCount, 1);
  // Before the fix every later call threw "recursive use of an object detected".
  t.addSample(FEATURES, 1, [0.2, 0.8]);
  for (let i = 0; i < 8; i++) t.addSample(FEATURES.map((x) => x * i), i % 2);
  assert.equal(t.sampleCount, 10);
  assert.equal(t.train().epochs > 0, true);
  t.free();
});

test('addSample: a Proxy teacher posing as a Float32Array whose trap throws leaves the trainer usable', () => {
  const t = new RouterTrainer({ output_dim: 2 });
  const teacher = new Proxy(new Float32Array([0.5, 0.5]), {
    get(target, key) {
      if (key === Symbol.iterator || key === '1') throw new Error('teacher trap failed');
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  assert.ok(teacher instanceof Float32Array);
  rejects(() => t.addSample(FEATURES, 0, teacher), /teacher trap failed/, 'throwing proxy teacher');
  assert.equal(t.sampleCount, 0);
  t.addSample(FEATURES, 1, [0.2, 0.8]);
  assert.equal(t.sampleCount, 1);
  t.free();
});

test('addSample: a teacher element whose getter re-enters the trainer adds both samples', () => {
  const t = new RouterTrainer({ output_dim: 2 });
  const teacher = withGetter([0.25, 0.75], 0, (v) => { t.addSample(FEATURES, 1); return v; });
  t.addSample(FEATURES, 0, teacher);
  assert.equal(t.sampleCount, 2);
  t.free();
});

test('an argument whose user code frees the object throws "was freed", not a wasm-bindgen error', () => {
  const t = new RouterTrainer({ output_dim: 2 });
  rejects(() => t.addSample(FEATURES, 0, withGetter([0.5, 0.5], 0, (v) => { t.free(); return v; })), /RouterTrainer was freed/, 'addSample teacher');
  const t2 = new RouterTrainer({});
  rejects(() => t2.addSample(withGetter(FEATURES, 2, (v) => { t2.free(); return v; }), 1), /RouterTrainer was freed/, 'addSample features');

  const r = new FastGrnnRouter({ input_dim: 3 }, 1);
  rejects(() => r.setNormalization(withGetter([1, 2, 3], 1, (v) => { r.free(); return v; }), [1, 1, 1]), /FastGrnnRouter was freed/, 'setNormalization');

  const agent = new WasmEphemeralAgent('a', 16);
  const act = withGetter(Array(16).fill(0.1), 3, () => { agent.free(); return 1; });
  rejects(() => agent.processTrajectory(new Float32Array(16).fill(0.2), act, 0.9), /WasmEphemeralAgent was freed/, 'processTrajectory');

  const source = new WasmEphemeralAgent('s', 16);
  source.processTrajectory(new Float32Array(16).fill(0.2), new Float32Array(16).fill(0.3), 0.9);
  const bytes = Array.from(source.exportState());
  const coordinator = new WasmFederatedCoordinator('c', 16);
  rejects(() => coordinator.aggregate(withGetter(bytes, 9, (v) => { coordinator.free(); return v; })), /WasmFederatedCoordinator was freed/, 'aggregate');
  const warm = new WasmEphemeralAgent('w', 16);
  rejects(() => warm.warmStart(withGetter(bytes, 9, (v) => { warm.free(); return v; })), /WasmEphemeralAgent was freed/, 'warmStart');
  source.free();
});

test('contexts: an array of strings is read once, so a getter cannot swap a string for a number', () => {
  const agent = new WasmEphemeralAgent('a', 16);
  let reads = 0;
  const contexts = withGetter(['x', 'y'], 1, () => (++reads === 1 ? 'y' : 7));
  agent.processTrajectory(new Float32Array(16).fill(0.2), new Float32Array(16).fill(0.3), 0.9, 'r', contexts);
  assert.equal(reads, 1);
  assert.equal(agent.stats().trajectories_processed, 1);
  agent.free();
});

test('seeded random-sequence fuzzer: no trap, only named Errors, state unchanged after each rejected call', () => {
  // About 3 s on this machine (seeds that caught the borrow left by a throwing teacher getter); failing seeds and steps are reported (rerun with fuzz.mjs to replay).
  for (const seed of [8, 9, 12]) {
    const violations = fuzz(seed, 1500);
    assert.deepEqual(violations, [], `seed ${seed}: ${JSON.stringify(violations)}`);
  }
});
