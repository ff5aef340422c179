// The JS API surface: names, plain objects, presets, the seed's usage example, loops and flags.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';

await init();

const isPlain = (o) => o !== null && typeof o === 'object' && Object.getPrototypeOf(o) === Object.prototype;

test('the seed\'s usage example runs as written', () => {
  const engine = new WasmSonaEngine(256);
  const custom = WasmSonaEngine.withConfig({
    hidden_dim: 256, embedding_dim: 256, micro_lora_rank: 2, base_lora_rank: 16, ewc_lambda: 1000.0, pattern_clusters: 128,
  });
  const embedding = new Float32Array(256).fill(0.1);
  const trajectoryId = engine.startTrajectory(embedding);
  assert.equal(typeof trajectoryId, 'number');
  engine.recordStep(trajectoryId, 42, 0.8, 1000);
  engine.endTrajectory(trajectoryId, 0.85);
  const output = engine.applyLora(new Float32Array(256).fill(1.0));
  assert.ok(output instanceof Float32Array && output.length === 256);
  assert.equal(engine.runInstantCycle(), 1);
  assert.equal(engine.tick(), false, 'the first tick starts the clock');
  const stats = engine.stats();
  assert.ok(isPlain(stats));
  assert.equal(stats.patterns_stored, 0);
  assert.equal(stats.trajectories_completed, 1);
  assert.equal(stats.steps_recorded, 1);
  assert.equal(custom.getConfig().base_lora_rank, 16);
  assert.equal(custom.getConfig().pattern_clusters, 128);
  assert.equal(custom.hiddenDim, 256);
  engine.free();
  custom.free();
});

test('withConfig: missing fields take defaults, presets apply, embedding_dim follows hidden_dim', () => {
  const d = WasmSonaEngine.withConfig({}).getConfig();
  assert.ok(isPlain(d));
  assert.deepEqual(
    [d.hidden_dim, d.embedding_dim, d.micro_lora_rank, d.base_lora_rank, d.pattern_clusters, d.trajectory_capacity, d.ewc_lambda],
    [256, 256, 2, 8, 100, 10000, 2000],
  );
  const edge = WasmSonaEngine.withConfig({ preset: 'edge_deployment', hidden_dim: 64 }).getConfig();
  assert.deepEqual([edge.hidden_dim, edge.embedding_dim, edge.micro_lora_rank, edge.trajectory_capacity, edge.quality_threshold], [64, 64, 1, 200, 0.5]);
  assert.deepEqual(WasmSonaEngine.presets(), ['default', 'max_throughput', 'max_quality', 'edge_deployment', 'batch_processing', 'for_ephemeral', 'for_coordinator']);
  for (const name of WasmSonaEngine.presets()) {
    const e = WasmSonaEngine.fromPreset(name, 1);
    assert.equal(e.getConfig().hidden_dim, 256);
    e.free();
  }
  assert.equal(WasmSonaEngine.fromPreset('for_coordinator').getConfig().pattern_clusters, 200);
});

test('getConfig gives the f32 fields back as the numbers written (the shortest decimal of their f32)', () => {
  const written = { hidden_dim: 16, micro_lora_lr: 0.002, base_lora_lr: 0.0001, ewc_lambda: 1234.5, quality_threshold: 0.3 };
  const e = WasmSonaEngine.withConfig(written);
  const c = e.getConfig();
  for (const key of ['micro_lora_lr', 'base_lora_lr', 'ewc_lambda', 'quality_threshold']) assert.equal(c[key], written[key], key);
  // A value with more digits than an f32 holds comes back as its f32 (shortest form), and the
  // object fed back to withConfig gives the same configuration.
  const fine = WasmSonaEngine.withConfig({ hidden_dim: 16, micro_lora_lr: 0.0012345678901 });
  assert.equal(fine.getConfig().micro_lora_lr, 0.0012345678);
  assert.equal(Math.fround(fine.getConfig().micro_lora_lr), Math.fround(0.0012345678901));
  assert.deepEqual(WasmSonaEngine.withConfig(c).getConfig(), c);
  e.free();
  fine.free();
});

test('the same seed replays exactly; a different seed differs', () => {
  const run = (seed) => {
    const e = WasmSonaEngine.withConfig({ hidden_dim: 32, seed, micro_flush_interval: 0 });
    const x = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
    for (let t = 0; t < 10; t++) {
      const id = e.startTrajectory(x.map((v, i) => v + Math.sin(t * i) * 0.1));
      e.recordStep(id, t, t / 10, 5);
      e.recordStep(id, t + 100, 1 - t / 10, 5);
      e.endTrajectory(id, 0.7);
    }
    e.runInstantCycle();
    return e.applyLora(x);
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('recordStep: nodeId, score and latencyUs each change what is learned (latency lowers the reward)', () => {
  const x = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
  const run = (steps) => {
    const e = WasmSonaEngine.withConfig({ hidden_dim: 32, seed: 4, micro_flush_interval: 0 });
    for (let t = 0; t < 20; t++) {
      const id = e.startTrajectory(x.map((v, i) => v + Math.sin(t * i) * 0.1));
      for (const [node, score, latencyUs] of steps) e.recordStep(id, node, score, latencyUs);
      e.endTrajectory(id, 0.9);
    }
    e.runInstantCycle();
    const y = e.applyLora(x);
    e.free();
    return Array.from(y, (v, i) => v - x[i]);
  };
  const base = run([[7, 0.5, 0], [8, 0.5, 0]]);
  assert.notDeepEqual(run([[9, 0.5, 0], [8, 0.5, 0]]), base, 'node id');
  assert.notDeepEqual(run([[7, 0.6, 0], [8, 0.5, 0]]), base, 'score');
  assert.notDeepEqual(run([[7, 0.5, 2e6], [8, 0.5, 0]]), base, 'latencyUs');
  // 2 s on node 7 costs 0.2 of its reward: the same as scoring it 0.2 lower.
  const cos = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
  assert.ok(cos(run([[7, 0.5, 2e6], [8, 0.5, 0]]), run([[7, 0.3, 0], [8, 0.5, 0]])) > 0.999);
});

test('setEnabled(false) stops learning; tickAt honours background_interval_ms; getStats is stats', () => {
  const e = WasmSonaEngine.withConfig({ hidden_dim: 8, background_interval_ms: 100, seed: 2 });
  const x = new Float32Array(8).fill(0.5);
  e.setEnabled(false);
  assert.equal(e.isEnabled(), false);
  let id = e.startTrajectory(x);
  e.endTrajectory(id, 0.9);
  assert.equal(e.stats().trajectories_skipped, 1);
  assert.equal(e.tickAt(0), false);
  e.setEnabled(true);
  id = e.startTrajectory(x);
  e.setTrajectoryRoute(id, 'code-model');
  e.addTrajectoryContext(id, 'repo');
  e.endTrajectory(id, 0.9);
  assert.equal(e.tickAt(1000), false, 'starts the clock');
  assert.equal(e.tickAt(1099), false);
  assert.equal(e.tickAt(1100), true);
  const s = e.getStats();
  assert.deepEqual(s, e.stats());
  assert.equal(s.background_cycles, 1);
  assert.equal(s.last_background_ms, 1100);
  assert.equal(s.patterns_stored, 1);
  assert.equal(e.findPatterns(x, 3)[0].pattern_type, 'codegen');
  e.free();
});

test('routes and context ids vote for the pattern type by keyword; a context alone decides it', () => {
  // One trajectory per engine, one background cycle: one pattern, typed by its member's texts.
  const typeOf = (route, contexts) => {
    const e = WasmSonaEngine.withConfig({ hidden_dim: 8, background_interval_ms: 0, seed: 2 });
    const x = new Float32Array(8).fill(0.5);
    const id = e.startTrajectory(x);
    if (route !== null) e.setTrajectoryRoute(id, route);
    for (const c of contexts) e.addTrajectoryContext(id, c);
    e.endTrajectory(id, 0.9);
    e.tickAt(0);
    assert.equal(e.tickAt(0), true);
    const type = e.findPatterns(x, 1)[0].pattern_type;
    e.free();
    return type;
  };
  assert.equal(typeOf('llama-3', []), 'general', 'no keyword');
  assert.equal(typeOf('llama-3', ['chat']), 'conversational', 'the context alone');
  assert.equal(typeOf(null, ['Customer-Chat']), 'conversational', 'case-insensitive, without a route');
  assert.equal(typeOf('gpt-4', ['code', 'repo']), 'codegen');
  assert.equal(typeOf('MATH-solver', []), 'reasoning');
  assert.equal(typeOf('web-search', []), 'factual');
  assert.equal(typeOf('short story', []), 'creative');
  assert.equal(typeOf('code-model', ['chat', 'dialog']), 'conversational', 'two context votes beat one route vote');
  assert.equal(typeOf('code-model', ['chat']), 'codegen', 'a tie: codegen before conversational');
  assert.equal(typeOf('code-model', ['math']), 'reasoning', 'a tie: reasoning before codegen');
});

test('learnFromFeedback revises the last trajectory and feeds the instant loop', () => {
  const e = WasmSonaEngine.withConfig({ hidden_dim: 8, quality_threshold: 0.5, micro_flush_interval: 0, seed: 2 });
  const id = e.startTrajectory(new Float32Array(8).fill(1));
  e.addStep(id, Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]), new Float32Array([1]), 1);
  e.endTrajectory(id, 0.3);
  assert.deepEqual([e.stats().trajectories_filtered, e.stats().micro_pending], [1, 0]);
  e.learnFromFeedback(true, 0, 1);
  const s = e.stats();
  assert.deepEqual([s.feedback_count, s.micro_pending, s.trajectories_buffered], [1, 1, 1]);
  e.free();
});

test('getPatterns lists every stored pattern as findPatterns does, without a similarity, and reads nothing into the access stats', async () => {
  const { rng, runTopic, topics, unit } = await import('./helpers.mjs');
  const dim = 24;
  const r = rng(13);
  const tp = topics(r, 4, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, pattern_clusters: 6, seed: 2 });
  assert.deepEqual(e.getPatterns(), [], 'no patterns before learning');
  for (let i = 0; i < 80; i++) runTopic(e, r, tp, i % 4, dim);
  e.forceLearn();
  const before = e.saveState();
  const listed = e.getPatterns();
  assert.deepEqual(e.saveState(), before, 'listing changes nothing (no access counts, no clock)');
  assert.equal(listed.length, e.stats().patterns_stored);
  assert.ok(listed.length >= 2);
  assert.equal(new Set(listed.map((p) => p.id)).size, listed.length, 'distinct ids');
  // findPatterns over all of them: the same patterns (its hits then count an access each).
  const found = e.findPatterns(unit(r, dim), 1000);
  assert.equal(found.length, listed.length);
  const byId = new Map(found.map((p) => [p.id, p]));
  for (const p of listed) {
    assert.ok(isPlain(p));
    assert.ok(!('similarity' in p));
    const { similarity, access_count: fa, last_accessed: fl, ...rest } = byId.get(p.id);
    const { access_count: la, last_accessed: ll, ...mine } = p;
    assert.ok(Number.isFinite(similarity));
    assert.deepEqual({ ...mine, centroid: Array.from(mine.centroid), direction: Array.from(mine.direction) },
      { ...rest, centroid: Array.from(rest.centroid), direction: Array.from(rest.direction) });
    assert.equal(fa, la + 1, 'findPatterns counted one access');
    assert.ok(fl >= ll);
  }
  assert.deepEqual(e.getPatterns().map((p) => p.access_count), listed.map((p) => p.access_count + 1));
  e.free();
  assert.throws(() => e.getPatterns(), /freed/);
});
