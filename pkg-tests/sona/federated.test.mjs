// Federated learning through the built package: agents on different topics export bytes, the
// coordinator learns the union, a new agent starts warm, bad bytes throw.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmEphemeralAgent, WasmFederatedCoordinator, WasmSonaEngine } from 'sona-wasm/federated';
import * as sona from 'sona-wasm';
import { cosine, noisy, rng, unit } from './helpers.mjs';

await init();

const DIM = 32;

/** Three agents, two planted topics each, plus low-quality noise; returns the coordinator and topics. */
function federation(r) {
  const topics = Array.from({ length: 6 }, () => unit(r, DIM));
  const good = Array.from({ length: 6 }, () => unit(r, DIM));
  const coordinator = new WasmFederatedCoordinator('main', DIM);
  const results = [];
  for (let n = 0; n < 3; n++) {
    const agent = new WasmEphemeralAgent(`agent-${n}`, DIM);
    for (let i = 0; i < 60; i++) {
      const t = 2 * n + (i % 2);
      agent.processTrajectory(noisy(r, topics[t], 0.2), noisy(r, good[t], 0.3), 0.8, 'gpt-4', ['code']);
      agent.processTrajectory(unit(r, DIM), unit(r, DIM), 0.1); // below the coordinator's 0.4
    }
    const s = agent.stats();
    assert.equal(s.agent_id, `agent-${n}`);
    assert.equal(s.trajectories_processed, 120);
    assert.equal(s.trajectories_exportable, 120);
    const bytes = agent.exportState();
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'SONAFEDX');
    results.push(coordinator.aggregate(bytes));
    agent.free();
  }
  return { coordinator, topics, results };
}

test('3 agents on different topics: the coordinator accepts by quality and finds every topic', () => {
  const r = rng(11);
  const { coordinator, topics, results } = federation(r);
  results.forEach((res, n) => {
    assert.equal(res.agent_id, `agent-${n}`);
    assert.equal(res.trajectories_accepted, 60);
    assert.equal(res.trajectories_rejected, 60);
    assert.equal(res.agents_aggregated, n + 1);
    assert.equal(res.consolidated, false);
  });
  const report = coordinator.consolidate();
  assert.equal(report.trajectories_used, 180);
  const s = coordinator.stats();
  assert.equal(s.coordinator_id, 'main');
  assert.deepEqual([s.agents_aggregated, s.trajectories_accepted, s.trajectories_rejected, s.consolidations], [3, 180, 180, 1]);
  assert.equal(s.quality_threshold.toFixed(2), '0.40');
  assert.equal(s.consolidation_interval, 50);
  assert.ok(s.engine.patterns_stored >= 6);
  let hits = 0;
  for (let i = 0; i < 120; i++) {
    const t = i % 6;
    const [best] = coordinator.findPatterns(noisy(r, topics[t], 0.2), 1);
    if (cosine(best.centroid, topics[t]) >= 0.95) hits++;
  }
  assert.ok(hits >= 114, `${hits}/120 held-out queries found their topic`);
  const probe = unit(r, DIM);
  const out = coordinator.applyLora(probe);
  assert.ok(out.some((v, i) => v !== probe[i]), 'accepted trajectories trained the MicroLoRA');
});

test('a new agent warm-started from getInitialPatterns finds the topics before learning anything', () => {
  const r = rng(12);
  const { coordinator, topics } = federation(r);
  coordinator.consolidate();
  const initial = coordinator.getInitialPatterns(10);
  assert.equal(initial.length, Math.min(10, coordinator.stats().engine.patterns_stored));
  for (let i = 1; i < initial.length; i++) assert.ok(initial[i - 1].total_weight >= initial[i].total_weight);
  // The same patterns as bytes, as they would travel to a Worker or an edge function.
  const bytes = coordinator.exportInitialPatterns(10);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'SONAFEDX');
  const fresh = WasmEphemeralAgent.withPatterns('fresh', DIM, bytes);
  assert.equal(fresh.stats().trajectories_processed, 0);
  assert.equal(fresh.stats().engine.patterns_stored, initial.length);
  topics.forEach((topic, t) => {
    const [best] = fresh.findPatterns(noisy(r, topic, 0.2), 1);
    assert.ok(cosine(best.centroid, topic) >= 0.95, `topic ${t}`);
  });
  const [mine] = fresh.findPatterns(initial[0].centroid, 1);
  assert.deepEqual([...mine.centroid], [...initial[0].centroid], 'the heaviest pattern arrived intact');
  const cold = new WasmEphemeralAgent('cold', DIM);
  assert.deepEqual(cold.findPatterns(topics[0], 1), []);
  assert.throws(() => coordinator.getInitialPatterns(0), /k must be at least 1/);
  const flipped = bytes.slice();
  flipped[30] ^= 1;
  assert.throws(() => fresh.warmStart(flipped), /agent export rejected: state checksum mismatch/);
  assert.throws(() => WasmEphemeralAgent.withPatterns('x', DIM + 1, bytes), /pattern export \(hidden_dim\) has length 32, expected 33/);
  // Bytes of another width are refused even when they hold no pattern (a coordinator or an agent
  // that has learned none), which warm-start nothing but must not pass for this width either.
  const wideCoordinator = new WasmFederatedCoordinator('wide', 2 * DIM);
  const wideAgent = new WasmEphemeralAgent('wide', 2 * DIM);
  for (const [what, empty] of [['exportInitialPatterns', wideCoordinator.exportInitialPatterns(3)], ['exportState', wideAgent.exportState()]]) {
    assert.throws(() => fresh.warmStart(empty), /^Error: pattern export \(hidden_dim\) has length 64, expected 32$/, `warmStart(${what})`);
    assert.throws(() => WasmEphemeralAgent.withPatterns('y', DIM, empty), /pattern export \(hidden_dim\) has length 64, expected 32/, `withPatterns(${what})`);
  }
  assert.equal(fresh.warmStart(new WasmEphemeralAgent('same', DIM).exportState()), 0, 'the same width with no pattern adds none');
  wideCoordinator.free();
  wideAgent.free();
  assert.equal(fresh.stats().engine.patterns_stored, initial.length, 'a rejected warm start adds nothing');
});

test('consolidation every N agents and the quality threshold through the package', () => {
  const r = rng(13);
  const c = new WasmFederatedCoordinator('small', DIM);
  c.setConsolidationInterval(2);
  c.setQualityThreshold(0.5);
  const flags = [];
  for (let n = 0; n < 4; n++) {
    const a = new WasmEphemeralAgent(`a${n}`, DIM);
    for (const q of [0.9, 0.8, 0.7, 0.2, 0.45]) a.processTrajectory(unit(r, DIM), unit(r, DIM), q);
    const res = c.aggregate(a.exportState());
    assert.deepEqual([res.trajectories_accepted, res.trajectories_rejected, res.trajectories_dropped], [3, 2, 0]);
    flags.push(res.consolidated);
  }
  assert.deepEqual(flags, [false, true, false, true]);
  const s = c.stats();
  assert.deepEqual([s.consolidations, s.agents_since_consolidation, s.engine.deep_consolidations], [2, 0, 2]);
  assert.equal(s.quality_threshold, 0.5);
  assert.equal(s.consolidation_interval, 2);
});

test('agent stats and aggregation counts follow from the capacity and the two thresholds', () => {
  // The for_ephemeral preset (the seed's): trajectory_capacity 500, quality_threshold 0.3; the
  // coordinator's default threshold is 0.4. Qualities cycle 0.9, 0.35, 0.2 over 503 trajectories.
  const r = rng(15);
  const a = new WasmEphemeralAgent('counted', DIM);
  const quality = (i) => [0.9, 0.35, 0.2][i % 3];
  for (let i = 0; i < 503; i++) a.processTrajectory(unit(r, DIM), unit(r, DIM), quality(i));
  const s = a.stats();
  assert.deepEqual(
    [s.trajectories_processed, s.trajectories_exportable, s.export_dropped, s.trajectories_learned],
    [503, 500, 3, 168 + 168],
    'the oldest 3 leave the export record; 0.9 and 0.35 pass the agent\'s 0.3',
  );
  const bytes = a.exportState();
  const c = new WasmFederatedCoordinator('counts', DIM);
  // The export holds trajectories 3..502: 167 of 0.9, 167 of 0.35, 166 of 0.2.
  let res = c.aggregate(bytes);
  assert.deepEqual([res.trajectories_accepted, res.trajectories_rejected, res.trajectories_dropped, res.agents_aggregated], [167, 333, 0, 1]);
  c.setQualityThreshold(0.35); // at the threshold is accepted
  res = c.aggregate(bytes);
  assert.deepEqual([res.trajectories_accepted, res.trajectories_rejected, res.agents_aggregated], [334, 166, 2]);
  const cs = c.stats();
  assert.deepEqual([cs.agents_aggregated, cs.trajectories_accepted, cs.trajectories_rejected, cs.agents_since_consolidation], [2, 501, 499, 2]);
  assert.equal(cs.engine.trajectories_buffered, 501);
});

test('bad bytes and bad arguments throw a named Error and change nothing', () => {
  const r = rng(14);
  const c = new WasmFederatedCoordinator('main', DIM);
  const a = new WasmEphemeralAgent('a', DIM);
  for (let i = 0; i < 5; i++) a.processTrajectory(unit(r, DIM), unit(r, DIM), 0.9, 'route', ['ctx']);
  const bytes = a.exportState();
  c.aggregate(bytes);
  const beforeStats = c.stats();
  const probe = unit(r, DIM);
  const beforeLora = c.applyLora(probe);
  const beforePatterns = c.exportInitialPatterns(5);
  const flipped = bytes.slice();
  flipped[bytes.length - 10] ^= 4;
  const version = bytes.slice();
  version[8] = 9;
  const cases = [
    [bytes.subarray(0, bytes.length - 1), /agent export rejected: state length mismatch/],
    [bytes.subarray(0, 10), /agent export rejected: state is truncated/],
    [flipped, /agent export rejected: state checksum mismatch/],
    [version, /agent export rejected: unsupported state version 9/],
    [new WasmSonaEngine(DIM).saveState(), /agent export rejected: not a SONA state: bad magic/],
    [new TextEncoder().encode('{"trajectories":[]}'), /bad magic/],
    [new WasmEphemeralAgent('wide', DIM + 1).exportState(), /agent export \(hidden_dim\) has length 33, expected 32/],
  ];
  for (const [b, re] of cases) {
    assert.throws(() => c.aggregate(b), (err) => err instanceof Error && re.test(err.message), String(re));
  }
  assert.throws(() => c.setQualityThreshold(1.5), /Error: threshold is 1.5, expected a finite number within \[0, 1\]/);
  assert.throws(() => c.setQualityThreshold(NaN), /Error: threshold is NaN/);
  assert.throws(() => c.setQualityThreshold(-1e-50), /Error: threshold is -1e-50, expected a finite number within \[0, 1\]/);
  assert.throws(() => c.setConsolidationInterval(0), /consolidation interval/);
  assert.throws(() => c.setConsolidationInterval(2.5), /consolidation interval must be an integer/);
  assert.deepEqual(c.stats(), beforeStats);
  assert.deepEqual(c.applyLora(probe), beforeLora);
  assert.deepEqual(c.exportInitialPatterns(5), beforePatterns);

  const agentBefore = a.exportState();
  const v = unit(r, DIM);
  assert.throws(() => a.processTrajectory(v.subarray(1), v, 0.5), /embedding has length 31, expected 32/);
  assert.throws(() => a.processTrajectory(v, v.map((x, i) => (i === 2 ? NaN : x)), 0.5), /activations contains a non-finite value/);
  assert.throws(() => a.processTrajectory(v, v, 1.2), /quality is 1.2/);
  assert.throws(() => a.processTrajectory(v, v, 0.5, 'r'.repeat(300)), /route is 300 bytes long/);
  assert.deepEqual(a.exportState(), agentBefore);
  assert.throws(() => new WasmEphemeralAgent('a', 0), /hiddenDim must be an integer within \[4, 8192\] with the for_ephemeral preset, got 0/);
  assert.throws(() => new WasmFederatedCoordinator('c', 1.5), /hiddenDim must be an integer/);
});

test('federated classes ship only in sona-wasm/federated, whose WasmSonaEngine reads the main module\'s states', async () => {
  await sona.default();
  assert.equal(sona.WasmEphemeralAgent, undefined, "the 'sona-wasm' module stays free of federated code");
  assert.equal(sona.WasmFederatedCoordinator, undefined);
  assert.notEqual(sona.WasmSonaEngine, WasmSonaEngine, 'two separate modules');
  const r = rng(99);
  const a = sona.WasmSonaEngine.withConfig({ hidden_dim: DIM, seed: 3 });
  for (let i = 0; i < 30; i++) {
    const id = a.startTrajectory(unit(r, DIM));
    a.addStep(id, unit(r, DIM), new Float32Array(0), 0.9);
    a.endTrajectory(id, 0.8);
  }
  a.runInstantCycle();
  const b = WasmSonaEngine.loadState(a.saveState());
  const x = unit(r, DIM);
  assert.deepEqual(Array.from(b.applyLora(x)), Array.from(a.applyLora(x)), 'same state, same output in both modules');
  assert.deepEqual(b.saveState(), a.saveState());
});
