// Wrong argument types on every entry with wasm-bindgen classes (sona-wasm, sona-wasm/federated,
// sona-wasm/router): each call throws a plain JS Error naming the parameter — never a wasm trap
// (RuntimeError), never a silent conversion ('5' → 5, 'str' → false) — and the object keeps its
// state and stays usable (no "recursive use of an object" borrow left behind).
import test from 'node:test';
import assert from 'node:assert/strict';
import { WasmSonaEngine } from 'sona-wasm';
import { WasmEphemeralAgent, WasmFederatedCoordinator, WasmSonaEngine as FederatedEngine } from 'sona-wasm/federated';
import { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
import { engineWithState, rejects } from './helpers.mjs';

const NOT_NUMBERS = [['5', /got a string \("5"\)/], [null, /got null/], [true, /got boolean true/], [[1], /got an array/], [10n, /got a BigInt \(10n\)/], [undefined, /got undefined/], [{}, /got an object/]];
const NOT_STRINGS = [[5, /got number 5/], [{}, /got an object/], [null, /got null/], [10n, /BigInt/], [true, /got boolean/], [['a'], /got an array/]];
const NOT_VECTORS = [[{}, /got an object/], ['abcdefgh', /got a string/], [8, /got number 8/], [null, /got null/], [undefined, /got undefined/], [10n, /BigInt/]];

for (const [entry, Engine] of [['sona-wasm', WasmSonaEngine], ['sona-wasm/federated', FederatedEngine]]) {
  test(`${entry}: WasmSonaEngine rejects wrong argument types by name, state unchanged`, () => {
    const dim = 8;
    const { e, x, open } = engineWithState(Engine, { dim, seed: 9, trajectories: 4, reward: 0.5 });
    const before = e.saveState();
    const out = e.applyLora(x);
    const cases = [];
    for (const [bad, got] of NOT_NUMBERS) {
      cases.push(
        [() => e.recordStep(bad, 1, 0.5, 1), 'trajectoryId', got],
        [() => e.recordStep(open, bad, 0.5, 1), 'nodeId', got],
        [() => e.recordStep(open, 1, bad, 1), 'score', got],
        [() => e.recordStep(open, 1, 0.5, bad), 'latencyUs', got],
        [() => e.addStep(open, x, [], bad), 'reward', got],
        [() => e.addStep(bad, x, [], 0.5), 'trajectoryId', got],
        [() => e.endTrajectory(open, bad), 'quality', got],
        [() => e.endTrajectory(bad, 0.5), 'trajectoryId', got],
        [() => e.learnFromFeedback(true, bad, 0.5), 'latencyMs', got],
        [() => e.learnFromFeedback(true, 10, bad), 'quality', got],
        [() => e.applyLoraLayer(bad, x), 'layer', got],
        [() => e.findPatterns(x, bad), 'k', got],
        [() => e.tickAt(bad), 'nowMs', got],
      );
    }
    for (const bad of ['true', 1, 0, null, undefined, 2 ** 32]) {
      cases.push([() => e.setEnabled(bad), 'enabled', /a boolean/], [() => e.learnFromFeedback(bad, 1, 0.5), 'success', /a boolean/]);
    }
    for (const [bad, got] of NOT_STRINGS) {
      cases.push([() => e.setTrajectoryRoute(open, bad), 'route', got], [() => e.addTrajectoryContext(open, bad), 'contextId', got]);
    }
    for (const [bad, got] of NOT_VECTORS) {
      cases.push(
        [() => e.startTrajectory(bad), 'queryEmbedding', got],
        [() => e.addStep(open, bad, [], 0.5), 'activations', got],
        [() => e.addStep(open, x, bad, 0.5), 'attentionWeights', got],
        [() => e.applyLora(bad), 'input', got],
        [() => e.applyLoraInto(bad, new Float32Array(dim)), 'input', got],
        [() => e.applyLoraLayer(0, bad), 'input', got],
        [() => e.findPatterns(bad, 1), 'query', got],
      );
    }
    for (const bad of [new Float64Array(dim), Array.from(x), 'abcdefgh', { length: dim }, null]) {
      cases.push([() => e.applyLoraInto(x, bad), 'output', /a Float32Array/]);
    }
    for (const [call, name, got] of cases) {
      rejects(call, new RegExp(`^${name} must be .*${got.source}`), `${name}: ${call}`);
    }
    rejects(() => Engine.fromPreset(7), /^name must be a string, got number 7/, 'fromPreset');
    rejects(() => Engine.fromPreset('default', '3'), /^seed must be a number/, 'fromPreset seed');
    rejects(() => Engine.loadState('bytes'), /^bytes must be a Uint8Array/, 'loadState');

    assert.deepEqual(e.saveState(), before, 'state unchanged after every rejected call');
    assert.deepEqual(e.applyLora(x), out, 'still usable: same output');
    const into = new Float32Array(dim);
    e.applyLoraInto(x, into);
    assert.deepEqual(into, out);
    e.setTrajectoryRoute(open, 'gpt');
    e.free();
  });
}

test('sona-wasm/federated: agents and coordinators reject wrong argument types by name', () => {
  const dim = 16; // the coordinator's preset has base_lora_rank 16
  const x = Float32Array.from({ length: dim }, (_, i) => (i + 1) / 10);
  for (const [bad, got] of NOT_STRINGS) {
    const type = bad === null ? 'null' : typeof bad;
    rejects(() => new WasmEphemeralAgent(bad, dim), new RegExp(`^agentId must be a string, got ${type}$`), `agent id ${got}`);
    rejects(() => new WasmFederatedCoordinator(bad, dim), new RegExp(`^coordinatorId must be a string, got ${type}$`), `coordinator id ${got}`);
    rejects(() => WasmEphemeralAgent.withPatterns(bad, dim, new Uint8Array(0)), new RegExp(`^agentId must be a string, .*${got.source}`), 'withPatterns');
  }
  const agent = new WasmEphemeralAgent('a', dim);
  agent.processTrajectory(x, x, 0.9, 'r', ['c']);
  const exported = agent.exportState();
  const coordinator = new WasmFederatedCoordinator('c', dim);
  coordinator.aggregate(exported);
  const stats = JSON.stringify(coordinator.stats());
  const cases = [];
  for (const [bad, got] of NOT_NUMBERS) {
    cases.push(
      [() => agent.processTrajectory(x, x, bad), 'quality', got],
      [() => agent.findPatterns(x, bad), 'k', got],
      [() => coordinator.exportInitialPatterns(bad), 'k', got],
      [() => coordinator.getInitialPatterns(bad), 'k', got],
      [() => coordinator.findPatterns(x, bad), 'k', got],
      [() => coordinator.setConsolidationInterval(bad), 'agents', got],
      [() => coordinator.setQualityThreshold(bad), 'threshold', got],
    );
  }
  for (const [bad, got] of NOT_STRINGS.filter(([b]) => b !== null)) {
    cases.push([() => agent.processTrajectory(x, x, 0.9, bad), 'route', got]);
  }
  for (const [bad, got] of [['code', /got a string/], [{}, /got an object/], [[1], /got an array/], [5, /got number 5/]]) {
    cases.push([() => agent.processTrajectory(x, x, 0.9, 'r', bad), 'contexts', got]);
  }
  for (const [bad, got] of NOT_VECTORS) {
    cases.push(
      [() => agent.processTrajectory(bad, x, 0.9), 'embedding', got],
      [() => agent.processTrajectory(x, bad, 0.9), 'activations', got],
      [() => agent.warmStart(bad), 'patternBytes', got],
      [() => coordinator.aggregate(bad), 'exportBytes', got],
      [() => coordinator.applyLora(bad), 'input', got],
    );
  }
  for (const [call, name, got] of cases) {
    rejects(call, new RegExp(`^${name} must be .*${got.source}`), `${name}: ${call}`);
  }
  assert.deepEqual(agent.exportState(), exported, 'agent unchanged');
  assert.equal(JSON.stringify(coordinator.stats()), stats, 'coordinator unchanged');
  agent.processTrajectory(x, x, 0.9, null, null);
  agent.free();
  coordinator.free();
});

test('sona-wasm/router: routers and trainers reject wrong argument types by name and stay usable', () => {
  const trainer = new RouterTrainer({ input_dim: 4, hidden_dim: 4, epochs: 2, seed: 1 });
  for (let i = 0; i < 10; i++) trainer.addSample([i % 2, 0, 1, 0], i % 2);
  trainer.train();
  const router = trainer.model();
  const bytes = router.toBytes();
  const x = new Float32Array([1, 0, 1, 0]);
  const routed = router.route(x);
  const cases = [];
  for (const [bad, got] of NOT_NUMBERS) {
    cases.push([() => router.prune(bad), 'sparsity', got], [() => trainer.addSample(x, bad), 'label', got]);
  }
  for (const [bad, got] of NOT_VECTORS) {
    cases.push(
      [() => router.route(bad), 'features', got],
      [() => router.routeInto(bad, new Float32Array(1)), 'features', got],
      [() => router.setNormalization(bad, x), 'mean', got],
      [() => router.setNormalization(x, bad), 'std', got],
      [() => trainer.addSample(bad, 1), 'features', got],
      [() => FastGrnnRouter.fromBytes(bad), 'bytes', got],
    );
  }
  for (const bad of ['abcd', { length: 1 }, [0], new Float64Array(1), null]) {
    cases.push([() => router.routeInto(x, bad), 'scores', /a Float32Array/]);
  }
  for (const [call, name, got] of cases) {
    rejects(call, new RegExp(`^${name} must be .*${got.source}`), `${name}: ${call}`);
  }
  assert.deepEqual(router.toBytes(), bytes, 'router unchanged');
  assert.equal(trainer.sampleCount, 10, 'no sample added');
  const scores = new Float32Array(1);
  assert.equal(router.routeInto(x, scores), routed.route, 'still usable');
  assert.deepEqual(scores, routed.scores);
  trainer.addSample(x, 1, 0.8); // the teacher argument still reaches the trainer
  assert.equal(trainer.sampleCount, 11);
  rejects(() => trainer.addSample(x, 1, 'high'), /teacher probabilities must be a number, an array or a Float32Array/, 'teacher');
  router.free();
  trainer.free();
});

test('new FastGrnnRouter(config, seed): the optional seed must be a number (or null/undefined), not converted', () => {
  const x = new Float32Array([1, 0, 1, 0]);
  const seeded = (seed) => new FastGrnnRouter({ input_dim: 4, hidden_dim: 4 }, seed);
  for (const bad of ['5', true, [5], {}, 5n]) rejects(() => seeded(bad), /^seed must be a number, got /, `seed ${typeof bad}`);
  // Valid seeds still work, and the seed decides the initial weights.
  const [a, b, c] = [seeded(5), seeded(5), seeded(6)];
  assert.deepEqual(a.route(x), b.route(x));
  assert.notDeepEqual(a.parameters(), c.parameters());
  for (const ok of [undefined, null]) seeded(ok).free();
  for (const r of [a, b, c]) r.free();
});

test('the constructors accept exactly the hiddenDim ranges their docs state', () => {
  // new WasmSonaEngine: 8..=3355; WasmEphemeralAgent: 4..=8192; WasmFederatedCoordinator: 16..=671.
  for (const [make, lo, hi, message] of [
    [(d) => new WasmSonaEngine(d), 8, 3355, /^hiddenDim must be an integer within \[8, 3355\] with the default config/],
    [(d) => new WasmEphemeralAgent('a', d), 4, 8192, /^hiddenDim must be an integer within \[4, 8192\] with the for_ephemeral preset, got /],
    [(d) => new WasmFederatedCoordinator('c', d), 16, 671, /^hiddenDim must be an integer within \[16, 671\] with the for_coordinator preset, got /],
  ]) {
    for (const d of [lo, hi]) make(d).free();
    for (const d of [lo - 1, hi + 1, 1, 0, lo + 0.5, -lo]) rejects(() => make(d), message, `hiddenDim ${d}`);
  }
});

test('every method and getter of a freed object throws an Error saying it was freed', () => {
  const v = (n) => new Float32Array(n).fill(0.25);
  const objects = [
    [new WasmSonaEngine(8), 'WasmSonaEngine', { startTrajectory: [v(8)], applyLora: [v(8)], applyLoraInto: [v(8), v(8)], findPatterns: [v(8), 1], addStep: [0, v(8), [], 0.5], endTrajectory: [0, 0.5] }],
    [new FederatedEngine(8), 'WasmSonaEngine', { applyLora: [v(8)] }],
    [new WasmEphemeralAgent('a', 8), 'WasmEphemeralAgent', { processTrajectory: [v(8), v(8), 0.9] }],
    [new WasmFederatedCoordinator('c', 16), 'WasmFederatedCoordinator', { applyLora: [v(16)] }],
    [new FastGrnnRouter({ input_dim: 4 }), 'FastGrnnRouter', { route: [v(4)], routeInto: [v(4), v(1)] }],
    [new RouterTrainer({ input_dim: 4 }), 'RouterTrainer', { addSample: [v(4), 1] }],
  ];
  for (const [object, name, args] of objects) {
    object.free();
    const proto = Object.getPrototypeOf(object);
    let checked = 0;
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key.startsWith('_')) continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      const call = d.get ? () => object[key] : () => object[key](...(args[key] ?? []));
      rejects(call, new RegExp(`^this ${name} was freed`), `${name}.${key} after free()`);
      checked++;
    }
    assert.ok(checked >= 3, `${name}: ${checked} members checked`);
    rejects(() => object[Symbol.dispose](), /was freed/, `${name} disposed after free()`);
  }
});

test('the 64-context-id limit is reported as a count of ids, not as bytes', () => {
  const e = new WasmSonaEngine(8);
  const t = e.startTrajectory(new Float32Array(8).fill(0.5));
  for (let i = 0; i < 64; i++) e.addTrajectoryContext(t, `c${i}`);
  rejects(() => e.addTrajectoryContext(t, 'one more'), /^65 context ids for one trajectory, the limit is 64$/, 'engine');
  e.free();
  const agent = new WasmEphemeralAgent('a', 8);
  const x = new Float32Array(8).fill(0.5);
  rejects(() => agent.processTrajectory(x, x, 0.9, 'r', Array(100).fill('c')), /^100 context ids for one trajectory, the limit is 64$/, 'agent');
  agent.processTrajectory(x, x, 0.9, 'r', Array(64).fill('c'));
  agent.free();
});

test('the SONA constructors take hiddenDim as a number only: a numeric string, a bool or a BigInt throws', () => {
  const cases = [
    [(v) => new WasmSonaEngine(v), 'hiddenDim', 16],
    [(v) => new FederatedEngine(v), 'hiddenDim', 16],
    [(v) => new WasmEphemeralAgent('a', v), 'hiddenDim', 16],
    [(v) => new WasmFederatedCoordinator('c', v), 'hiddenDim', 16],
  ];
  for (const [make, name, good] of cases) {
    for (const bad of [String(good), true, [good], 10n, {}]) rejects(() => make(bad), new RegExp(`^${name} must be a number`), `${make} ${typeof bad}`);
    make(good).free();
  }
});
