// Proof that it learns, through the built package (fixed seeds).
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { cosine, noisy, rng, runTopic, sub, topics } from './helpers.mjs';

await init();

test('MicroLoRA: two planted topics; applyLora(x) − x points along each topic\'s good direction', () => {
  const dim = 256;
  const r = rng(101);
  const tp = topics(r, 2, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 1 });
  for (let i = 0; i < 300; i++) runTopic(e, r, tp, i % 2, dim);
  e.runInstantCycle();
  for (let t = 0; t < 2; t++) {
    for (let k = 0; k < 5; k++) {
      const x = noisy(r, tp.query[t], 0.3);
      const y = e.applyLora(x);
      assert.ok(y instanceof Float32Array && y.length === dim);
      const c = cosine(sub(y, x), tp.good[t]);
      assert.ok(c >= 0.5, `topic ${t}: cosine ${c}`);
      // The zero-copy variant writes the same numbers.
      const out = new Float32Array(dim);
      e.applyLoraInto(x, out);
      assert.deepEqual(out, y);
    }
  }
  const s = e.stats();
  assert.equal(s.trajectories_completed, 300);
  assert.equal(s.steps_recorded, 1200);
  assert.equal(s.micro_pending, 0);
  e.free();
});

test('ReasoningBank: eight planted topics; findPatterns(q, 1) finds the right one for ≥ 95% of held-out queries', () => {
  const dim = 128;
  const r = rng(77);
  const tp = topics(r, 8, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 4 });
  for (let i = 0; i < 400; i++) runTopic(e, r, tp, i % 8, dim);
  const report = e.forceLearn();
  assert.equal(Object.getPrototypeOf(report), Object.prototype);
  assert.equal(report.trajectories_used, 400);
  assert.ok(report.patterns_stored >= 8, `${report.patterns_stored} patterns`);
  let hits = 0;
  for (let i = 0; i < 200; i++) {
    const t = i % 8;
    const [p] = e.findPatterns(noisy(r, tp.query[t], 0.3), 1);
    if (cosine(p.centroid, tp.query[t]) >= 0.95) hits++;
  }
  assert.ok(hits >= 190, `${hits}/200`);
  const five = e.findPatterns(tp.query[0], 5);
  assert.equal(five.length, 5);
  for (let i = 1; i < 5; i++) assert.ok(five[i - 1].similarity >= five[i].similarity, 'best first');
  const p = five[0];
  for (const key of ['id', 'centroid', 'cluster_size', 'total_weight', 'avg_quality', 'created_at', 'last_accessed', 'access_count', 'pattern_type']) {
    assert.ok(key in p, `pattern has ${key}`);
  }
  assert.ok(p.centroid instanceof Float32Array && p.centroid.length === dim);
  assert.ok(p.access_count >= 1);
  e.free();
});

test('BaseLoRA: as many topics as its rank, learned in background cycles driven by tickAt', () => {
  const dim = 96;
  const rank = 4;
  const r = rng(31);
  const tp = topics(r, rank, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, base_lora_rank: rank, base_lora_lr: 0.01, background_interval_ms: 1000, pattern_clusters: 16, seed: 8 });
  let now = 0;
  assert.equal(e.tickAt(now), false, 'first tick starts the clock');
  let cycles = 0;
  for (let round = 0; round < 12; round++) {
    for (let i = 0; i < 40; i++) runTopic(e, r, tp, (round * 40 + i) % rank, dim);
    now += 500;
    assert.equal(e.tickAt(now), false, 'interval not yet passed');
    now += 500;
    if (e.tickAt(now)) cycles++;
  }
  assert.equal(cycles, 12);
  assert.equal(e.stats().background_cycles, 12);
  for (let t = 0; t < rank; t++) {
    const x = noisy(r, tp.query[t], 0.3);
    const c = cosine(sub(e.applyLoraLayer(0, x), x), tp.good[t]);
    assert.ok(c >= 0.5, `topic ${t}: cosine ${c}`);
  }
  e.free();
});

test('recordStep: node id and score decide what is learned', () => {
  const dim = 64;
  const q = Float32Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
  const learn = (good, bad) => {
    const e = WasmSonaEngine.withConfig({ hidden_dim: dim, micro_flush_interval: 0, seed: 1 });
    for (let i = 0; i < 50; i++) {
      const id = e.startTrajectory(q);
      e.recordStep(id, good, 0.9, 100);
      e.recordStep(id, bad, 0.1, 100);
      e.endTrajectory(id, 0.9);
    }
    assert.equal(e.runInstantCycle(), 50);
    const d = sub(e.applyLora(q), q);
    e.free();
    return d;
  };
  const a = learn(7, 8);
  assert.ok(cosine(a, learn(8, 7)) < -0.9, 'swapping scores reverses the direction');
  assert.ok(cosine(a, learn(7, 9)) < 0.9, 'another node id changes the direction');
});

test('learning rates step min(rate × samples, 0.5): rates past the cap learn exactly like the cap', () => {
  const learn = (lr) => {
    const e = WasmSonaEngine.withConfig({ hidden_dim: 16, micro_lora_lr: lr, base_lora_lr: lr, seed: 1, micro_flush_interval: 0 });
    const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    for (let i = 0; i < 4; i++) {
      const t = e.startTrajectory(x.map((v, j) => v + Math.cos(i * j)));
      e.addStep(t, x.map((v, j) => Math.sin(v * i + j)), [], (i % 3) / 2);
      e.endTrajectory(t, 0.9);
    }
    assert.equal(e.runInstantCycle(), 4);
    const out = e.applyLora(x);
    e.free();
    return out;
  };
  // 4 samples: the step is 4 · rate up to rate 0.125, then 0.5.
  assert.deepEqual(learn(1e12), learn(0.125));
  assert.deepEqual(learn(1), learn(0.125));
  assert.notDeepEqual(learn(0.1), learn(0.125));
});
