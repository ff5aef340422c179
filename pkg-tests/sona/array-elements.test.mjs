// Elements of array arguments and numbers beyond the f32 range, on every wasm-bindgen entry: a vector
// element that is not a number (a numeric string, null, true, an object with a valueOf) and a byte
// that is not an integer 0..255 are refused by index instead of being converted as wasm-bindgen's
// copy converts them ('0.5' → 0.5, null → 0, 256 → 0, -1 → 255), and a finite number too large for
// the f32 a parameter is stored in is refused as such instead of reaching the core as Infinity.
// Each refusal leaves the object unchanged.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WasmSonaEngine } from 'sona-wasm';
import { WasmEphemeralAgent, WasmFederatedCoordinator } from 'sona-wasm/federated';
import { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
import { engineWithState, rejects } from './helpers.mjs';

/** Non-numbers in an array, each with what the message says it got; valueOf must never run. */
let valueOfRan = false;
const NOT_NUMBERS = [
  ['0.5', /got a string \("0\.5"\)$/], [null, /got null$/], [true, /got boolean true$/], [undefined, /got undefined$/],
  [{ valueOf() { valueOfRan = true; return 0.5; } }, /got an object \(Object\)$/], [1n, /got a BigInt \(1n\)$/],
];
/** `base` (an array) with element `i` replaced by `bad`. */
const spliced = (base, i, bad) => Object.assign(Array.from(base), { [i]: bad });

test('sona-wasm: a vector element that is not a number is refused by name and index, state unchanged', () => {
  const dim = 8;
  const { e, x, open } = engineWithState(WasmSonaEngine, { dim, seed: 3, trajectories: 3, reward: 0.8, asArray: true });
  const before = e.saveState();
  const lora = e.applyLora(x);
  for (const [bad, got] of NOT_NUMBERS) {
    for (const i of [0, 5]) {
      const v = spliced(x, i, bad);
      for (const [name, call] of [
        ['input', () => e.applyLora(v)],
        ['input', () => e.applyLoraInto(v, new Float32Array(dim))],
        ['input', () => e.applyLoraLayer(0, v)],
        ['queryEmbedding', () => e.startTrajectory(v)],
        ['activations', () => e.addStep(open, v, [], 0.5)],
        ['attentionWeights', () => e.addStep(open, x, v, 0.5)],
        ['query', () => e.findPatterns(v, 2)],
      ]) {
        rejects(call, new RegExp(`^${name}\\[${i}\\] must be a number, ${got.source}`), `${name}[${i}] = ${String(bad)}`);
      }
    }
  }
  assert.equal(valueOfRan, false, 'no element was converted by its valueOf');
  // A Proxy of a Float32Array with no get trap: its length getter refuses the proxy (a TypeError
  // naming the argument); a proxy that reads through to its target works like the array.
  rejects(() => e.applyLora(new Proxy(new Float32Array(x), {})), /^input must be a Float32Array or an array of numbers \(reading its length threw: /, 'Proxy');
  assert.deepEqual(e.applyLora(new Proxy(new Float32Array(x), { get: (t, k) => Reflect.get(t, k) })), lora, 'Proxy reading through');
  assert.deepEqual(e.saveState(), before, 'state unchanged');
  assert.deepEqual(e.applyLora(x), lora, 'plain arrays of numbers still work');
  e.free();
});

test('sona-wasm: bytes must be integers 0..255 — loadState refuses 256, -1, 0.5, "7" and null by index', () => {
  const e = WasmSonaEngine.withConfig({ hidden_dim: 8, seed: 5 });
  const bytes = e.saveState();
  const plain = Array.from(bytes);
  for (const [bad, got] of [[256, /got number 256$/], [-1, /got number -1$/], [0.5, /got number 0\.5$/], ['7', /got a string \("7"\)$/], [null, /got null$/], [NaN, /got number NaN$/]]) {
    // wasm-bindgen's copy wraps 256 + b to b, so this payload would otherwise load as the same state.
    const wrapped = plain.map((b, i) => (i === 20 ? (typeof bad === 'number' && Number.isInteger(bad) ? b + (bad < 0 ? -256 : 256) : bad) : b));
    rejects(() => WasmSonaEngine.loadState(wrapped), new RegExp(`^bytes\\[20\\] must be a byte \\(an integer from 0 to 255\\), got`), `bytes[20] = ${wrapped[20]}`);
    rejects(() => WasmSonaEngine.loadState(spliced(plain, 3, bad)), new RegExp(`^bytes\\[3\\] must be a byte .*${got.source}`), `bytes[3] = ${String(bad)}`);
  }
  // Other typed arrays are read by value: Int8Array's -1 is no byte; a Float64Array of bytes is.
  rejects(() => WasmSonaEngine.loadState(Int8Array.from(plain, (b) => (b << 24) >> 24)), /^bytes\[\d+\] must be a byte .*got number -\d+$/, 'Int8Array');
  for (const ok of [plain, Float64Array.from(plain), Uint8ClampedArray.from(plain), Buffer.from(bytes)]) {
    assert.deepEqual(WasmSonaEngine.loadState(ok).saveState(), bytes, ok.constructor.name);
  }
  e.free();
});

test('sona-wasm: a finite number beyond the f32 range is refused as such, not as Infinity', () => {
  const dim = 8;
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 7 });
  const x = new Float32Array(dim).fill(0.25);
  const done = e.startTrajectory(x);
  e.endTrajectory(done, 0.5);
  const open = e.startTrajectory(x);
  const before = e.saveState();
  const range = /must be within the 32-bit float range \(magnitude at most 3\.4028235e38\), got number/;
  for (const big of [1e300, -1e300, 3.5e38]) {
    for (const [name, call] of [
      ['score', () => e.recordStep(open, 1, big, 10)],
      ['reward', () => e.addStep(open, x, [], big)],
      ['quality', () => e.endTrajectory(open, big)],
      ['latencyMs', () => e.learnFromFeedback(true, big, 0.5)],
      ['quality', () => e.learnFromFeedback(true, 1, big)],
    ]) {
      rejects(call, new RegExp(`^${name} ${range.source}`), `${name} = ${big}`);
    }
    rejects(() => WasmSonaEngine.withConfig({ hidden_dim: dim, micro_lora_lr: big }), /^config field micro_lora_lr must be within the 32-bit float range/, `micro_lora_lr = ${big}`);
  }
  // The largest finite f32 is no overflow: it reaches the core, which names the range it expects.
  rejects(() => e.endTrajectory(open, 3.4028234663852886e38), /^quality is .*within \[0, 1\]/, 'f32::MAX');
  // Infinity itself is still named by the core.
  rejects(() => e.addStep(open, x, [], Infinity), /reward is Infinity/, 'Infinity');
  assert.deepEqual(e.saveState(), before, 'state unchanged');
  e.free();
});

test('sona-wasm/federated and sona-wasm/router: the same element, byte and f32 checks', () => {
  const dim = 16;
  const v = Array.from({ length: dim }, (_, i) => (i % 4) / 4 + 0.1);
  const agent = new WasmEphemeralAgent('a', dim);
  agent.processTrajectory(v, v, 0.9, 'r');
  const exported = agent.exportState();
  const coordinator = new WasmFederatedCoordinator('c', dim);
  const stats = JSON.stringify(coordinator.stats());
  rejects(() => agent.processTrajectory(spliced(v, 2, null), v, 0.9), /^embedding\[2\] must be a number, got null$/, 'embedding');
  rejects(() => agent.processTrajectory(v, spliced(v, 4, '1'), 0.9), /^activations\[4\] must be a number, got a string/, 'activations');
  rejects(() => agent.processTrajectory(v, v, 1e39), /^quality must be within the 32-bit float range/, 'quality');
  rejects(() => coordinator.setQualityThreshold(-1e300), /^threshold must be within the 32-bit float range/, 'threshold');
  rejects(() => coordinator.aggregate(Array.from(exported, (b, i) => (i === 40 ? b + 256 : b))), /^exportBytes\[40\] must be a byte/, 'aggregate');
  rejects(() => agent.warmStart(Array.from(exported, (b, i) => (i === 9 ? String(b) : b))), /^patternBytes\[9\] must be a byte/, 'warmStart');
  assert.deepEqual(agent.exportState(), exported, 'agent unchanged');
  assert.equal(JSON.stringify(coordinator.stats()), stats, 'coordinator unchanged');
  assert.equal(coordinator.aggregate(Array.from(exported)).trajectories_accepted, 1, 'a plain array of bytes still works');

  const trainer = new RouterTrainer({ input_dim: 3, output_dim: 2, epochs: 2, seed: 1 });
  rejects(() => trainer.addSample([1, true, 0], 1), /^features\[1\] must be a number, got boolean true$/, 'features');
  rejects(() => trainer.addSample([1, 0, 0], 1, [null, 1]), /^teacher\[0\] must be a number, got null$/, 'teacher element');
  rejects(() => trainer.addSample([1, 0, 0], 1e300), /^label must be within the 32-bit float range/, 'label');
  rejects(() => trainer.addSample([1, 0, 0], 1, 1e300), /^teacher must be within the 32-bit float range/, 'teacher number');
  assert.equal(trainer.sampleCount, 0, 'no sample added');
  for (let i = 0; i < 8; i++) trainer.addSample([i % 2, 1 - (i % 2), 0.5], i % 2);
  trainer.train();
  const router = trainer.model();
  const bytes = router.toBytes();
  rejects(() => router.route([0, '1', 0]), /^features\[1\] must be a number, got a string/, 'route');
  rejects(() => router.setNormalization([0, 0, null], [1, 1, 1]), /^mean\[2\] must be a number, got null$/, 'mean');
  rejects(() => router.prune(1e300), /^sparsity must be within the 32-bit float range/, 'sparsity');
  rejects(() => FastGrnnRouter.fromBytes(Array.from(bytes, (b, i) => (i === 12 ? b - 256 : b))), /^bytes\[12\] must be a byte/, 'fromBytes');
  rejects(() => new RouterTrainer({ learning_rate: 1e300 }), /^config field learning_rate must be within the 32-bit float range/, 'config');
  assert.deepEqual(router.toBytes(), bytes, 'router unchanged');
  agent.free();
  coordinator.free();
  trainer.free();
  router.free();
});

test('withConfig: a negative float field too small for an f32 (it would round to -0) is refused as negative', async () => {
  for (const key of ['micro_lora_lr', 'base_lora_lr', 'ewc_lambda', 'quality_threshold']) {
    rejects(() => WasmSonaEngine.withConfig({ hidden_dim: 8, [key]: -1e-50 }), new RegExp(`^config field ${key} is negative, expected a finite number >= 0`), key);
  }
  // Zero itself stays valid for a rate.
  assert.equal(WasmSonaEngine.withConfig({ hidden_dim: 8, micro_lora_lr: 0 }).getConfig().micro_lora_lr, 0);
});
