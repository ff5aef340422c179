// Bad input: a JS Error whose message names the problem, and the engine unchanged afterwards
// (byte-identical saveState, equal stats and outputs). No call may trap the wasm.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { rng, runTopic, topics, unit } from './helpers.mjs';

await init();

test('every bad argument throws a named Error and leaves the state unchanged', () => {
  const dim = 16;
  const r = rng(4);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 3 });
  const tp = topics(r, 2, dim);
  for (let i = 0; i < 20; i++) runTopic(e, r, tp, i % 2, dim);
  e.forceLearn();
  const open = e.startTrajectory(unit(r, dim));
  const ended = runTopic(e, r, tp, 0, dim);
  const good = unit(r, dim);
  const nan = good.slice(); nan[3] = NaN;
  const inf = good.slice(); inf[dim - 1] = Infinity;
  const big = good.slice(); big[5] = 2 ** 52; // finite, beyond ±1e15
  const short = good.slice(0, dim - 1);
  const long = new Float32Array(dim + 1);
  const empty = new Float32Array(0);

  const before = e.saveState();
  const stats = e.stats();
  const out = e.applyLora(good);

  const cases = [
    [() => e.startTrajectory(short), /query embedding has length 15, expected 16/],
    [() => e.startTrajectory(long), /query embedding has length 17/],
    [() => e.startTrajectory(nan), /query embedding contains a non-finite value .* at index 3/],
    [() => e.startTrajectory(inf), /non-finite value .* at index 15/],
    [() => e.addStep(open, nan, empty, 0.5), /activations contains a non-finite/],
    [() => e.addStep(open, short, empty, 0.5), /activations has length 15/],
    [() => e.addStep(open, good, long, 0.5), /attention weights/],
    [() => e.addStep(open, good, inf, 0.5), /attention weights contains a non-finite/],
    [() => e.addStep(open, good, empty, NaN), /reward is NaN/],
    [() => e.addStep(open, good, empty, Infinity), /reward is Infinity/],
    [() => e.startTrajectory(big), /query embedding has 4503599627370496 at index 5, outside \[-1e15, 1e15\]/],
    [() => e.startTrajectory(Array.from(big)), /query embedding has 4503599627370496 at index 5/],
    [() => e.addStep(open, big, empty, 0.5), /activations has 4503599627370496 at index 5, outside/],
    [() => e.addStep(open, good, [2e15], 0.5), /attention weights has .* at index 0, outside \[-1e15, 1e15\]/],
    [() => e.addStep(open, good.map((x, i) => (i === 2 ? 1e13 : x)), [1000], 0.5), /gated activations \(activation × attention weight\) has .* at index 2/],
    [() => e.addStep(open, good, empty, 1e16), /reward is 10000000272564224, expected a finite number within \[-1e15, 1e15\]/],
    [() => e.recordStep(open, 1, -1e16, 10), /score is -10000000272564224/],
    [() => e.applyLora(big), /input has 4503599627370496 at index 5/],
    [() => e.applyLoraInto(big, new Float32Array(dim)), /input has 4503599627370496/],
    [() => e.findPatterns(big, 1), /query has 4503599627370496/],
    [() => e.addStep(999, good, empty, 0.5), /unknown trajectory id 999/],
    [() => e.addStep(ended, good, empty, 0.5), /already ended/],
    [() => e.addStep(1.5, good, empty, 0.5), /trajectory id must be an integer/],
    [() => e.addStep(-1, good, empty, 0.5), /trajectory id must be an integer/],
    [() => e.recordStep(open, 1, NaN, 10), /score is NaN/],
    [() => e.recordStep(open, 1, 0.5, -1), /latencyUs is -1/],
    [() => e.recordStep(open, -3, 0.5, 1), /nodeId must be an integer/],
    [() => e.recordStep(ended, 1, 0.5, 1), /already ended/],
    [() => e.endTrajectory(open, 1.5), /quality is 1.5, expected a finite number within \[0, 1\]/],
    [() => e.endTrajectory(open, -0.1), /quality is -0.1/],
    [() => e.endTrajectory(open, NaN), /quality is NaN/],
    // Just outside the range, rounding onto a bound as an f32 (1 and -0): refused all the same.
    [() => e.endTrajectory(open, 1.00000001), /^quality is 1.00000001, expected a finite number within \[0, 1\]/],
    [() => e.endTrajectory(open, -1e-50), /^quality is -1e-50/],
    [() => e.learnFromFeedback(true, 0, 1 + 1e-10), /^quality is 1.0000000001/],
    [() => e.learnFromFeedback(true, -1e-50, 0.5), /^latencyMs is -1e-50, expected a finite number >= 0/],
    [() => e.recordStep(open, 1, 0.5, -1e-50), /^latencyUs is -1e-50, expected a finite number >= 0/],
    [() => e.endTrajectory(ended, 0.5), /trajectory \d+ has already ended/],
    [() => e.endTrajectory(123456, 0.5), /unknown trajectory id 123456/],
    [() => e.setTrajectoryRoute(ended, 'x'), /already ended/],
    [() => e.setTrajectoryRoute(open, 'r'.repeat(300)), /route is 300 bytes long/],
    [() => e.addTrajectoryContext(0, 'x'), /unknown trajectory id 0/],
    [() => e.learnFromFeedback(true, 1, 2), /quality is 2/],
    [() => e.learnFromFeedback(true, NaN, 0.5), /latencyMs is NaN/],
    [() => e.applyLora(short), /input has length 15, expected 16/],
    [() => e.applyLora(nan), /input contains a non-finite/],
    [() => e.applyLoraInto(good, new Float32Array(dim + 1)), /output has length 17, expected 16/],
    [() => e.applyLoraInto(inf, new Float32Array(dim)), /input contains a non-finite/],
    [() => e.applyLoraLayer(2, good), /layer 2 is out of range \(the engine has 2 base LoRA layers\)/],
    [() => e.applyLoraLayer(-1, good), /layer must be an integer/],
    [() => e.applyLoraLayer(0, nan), /non-finite/],
    [() => e.findPatterns(good, 0), /k must be at least 1/],
    [() => e.findPatterns(good, 2.5), /k must be an integer/],
    [() => e.findPatterns(nan, 1), /query contains a non-finite/],
    [() => e.findPatterns(short, 1), /query has length 15/],
    [() => e.tickAt(NaN), /now_ms is NaN/],
    [() => e.tickAt(-5), /now_ms is -5/],
  ];
  for (const [call, pattern] of cases) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof Error, `an Error, got ${err}`);
      assert.match(err.message, pattern);
      return true;
    });
  }
  assert.deepEqual(e.saveState(), before, 'state unchanged after every rejected call');
  assert.deepEqual(e.stats(), stats);
  assert.deepEqual(e.applyLora(good), out);
  e.free();
});

test('feedback before any trajectory ended is a clear error', () => {
  const e = WasmSonaEngine.withConfig({ hidden_dim: 8, seed: 1 });
  assert.throws(() => e.learnFromFeedback(true, 10, 0.9), /no finished trajectory/);
  e.free();
});

test('bad configurations are rejected naming the field', () => {
  const cases = [
    [{ hiden_dim: 3 }, /unknown config field "hiden_dim"/],
    [{ hidden_dim: 0 }, /hidden_dim must be at least 1/],
    [{ hidden_dim: 1.5 }, /hidden_dim must be an integer/],
    [{ hidden_dim: '256' }, /hidden_dim must be a number/],
    [{ micro_lora_rank: 3 }, /micro_lora_rank must be 1 or 2/],
    [{ micro_lora_rank: 0 }, /micro_lora_rank/],
    [{ base_lora_rank: 2 }, /base_lora_rank must be within 4-16/],
    [{ base_lora_rank: 0 }, /base_lora_rank/],
    [{ micro_lora_lr: NaN }, /micro_lora_lr must be a finite number >= 0/],
    [{ base_lora_lr: -1 }, /base_lora_lr must be a finite number >= 0/],
    [{ ewc_lambda: Infinity }, /ewc_lambda/],
    [{ ewc_lambda: 20 }, /ewc_lambda must be 0 \(off\) or within \[100, 15000\]/],
    [{ pattern_clusters: 0 }, /pattern_clusters must be at least 1/],
    [{ trajectory_capacity: 0 }, /trajectory_capacity must be at least 1/],
    [{ quality_threshold: 2 }, /quality_threshold/],
    [{ embedding_dim: 64 }, /embedding_dim must equal hidden_dim/],
    [{ enable_simd: 'yes' }, /enable_simd must be a boolean/],
    [{ preset: 'turbo' }, /unknown preset "turbo"/],
    [{ seed: -1 }, /seed must be an integer/],
    [[1, 2], /plain object/],
  ];
  for (const [config, pattern] of cases) {
    assert.throws(() => WasmSonaEngine.withConfig(config), (err) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, pattern);
      return true;
    }, JSON.stringify(config));
  }
  assert.throws(() => new WasmSonaEngine(0), /hiddenDim must be an integer within \[8, 3355\] with the default config.*got 0/);
  assert.throws(() => new WasmSonaEngine(-4), /hiddenDim must be an integer/);
  assert.throws(() => WasmSonaEngine.fromPreset('nope'), /unknown preset "nope"/);
});

test('findPatterns takes any k up to 2^32 - 1, and size products cannot wrap in the 32-bit wasm', () => {
  // k = 2^28 made the engine reserve room for k hits: a wasm trap ("unreachable"), after which
  // every call said "recursive use of an object".
  const e = WasmSonaEngine.withConfig({ hidden_dim: 8, pattern_clusters: 3, seed: 2 });
  for (let i = 0; i < 12; i++) {
    const t = e.startTrajectory(Float32Array.from({ length: 8 }, (_, j) => (j === i % 3 ? 1 : 0.1)));
    e.addStep(t, Float32Array.from({ length: 8 }, (_, j) => (j === i % 3 ? 1 : 0)), [], 0.9);
    e.endTrajectory(t, 0.9);
  }
  e.forceLearn();
  const n = e.stats().patterns_stored;
  assert.ok(n > 0);
  for (const k of [2 ** 28, 2 ** 31, 2 ** 32 - 1]) assert.equal(e.findPatterns(new Float32Array(8).fill(0.5), k).length, n, `k = ${k}`);
  assert.equal(e.applyLora(new Float32Array(8)).length, 8, 'still usable');
  e.free();
  // 2 · 8192 · 262144 is 2^32: it wrapped to 0 in the wasm's 32-bit usize and passed the buffer
  // limit (2^26 floats) that 262,143 and 300,000 failed.
  for (const trajectory_capacity of [262144, 262143, 300000]) {
    assert.throws(() => WasmSonaEngine.withConfig({ hidden_dim: 8192, base_lora_rank: 4, base_lora_layers: 1, trajectory_capacity }),
      /trajectory_capacity is too large for this hidden_dim/, String(trajectory_capacity));
  }
});
