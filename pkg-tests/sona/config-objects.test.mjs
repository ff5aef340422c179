// Config objects whose own code throws (a getter, a proxy trap, a revoked proxy), handed to the
// constructors that read them in Rust (WasmSonaEngine.withConfig in sona-wasm and
// sona-wasm/federated, new FastGrnnRouter, new RouterTrainer), and a router teacher whose type
// cannot be told without running its code. The caller's own error must come back as thrown, and
// the module must keep working however often it happens: an exception that unwinds through wasm
// frames skips their epilogues, and each one used to leak the frames' shadow-stack space until
// the stack ran out and every later call of the module trapped ("memory access out of bounds",
// then "unreachable") — about 50,000 throwing configs were enough.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WasmSonaEngine } from 'sona-wasm';
import { WasmSonaEngine as FederatedEngine, WasmEphemeralAgent } from 'sona-wasm/federated';
import { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';

const ROUNDS = 120_000;

/** Config objects that throw `err` when read, each in a different way. */
function hostileConfigs(err) {
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  return [
    ['a throwing getter', { hidden_dim: 8, get seed() { throw err; } }],
    ['a throwing ownKeys trap', new Proxy({}, { ownKeys() { throw err; } })],
    ['a throwing get trap', new Proxy({ hidden_dim: 8 }, { get() { throw err; } })],
    ['a throwing getOwnPropertyDescriptor trap', new Proxy({ hidden_dim: 8 }, { getOwnPropertyDescriptor() { throw err; } })],
    ['a revoked proxy', revocable.proxy],
  ];
}

/** Asserts that `call` throws exactly `err` (or, for the revoked proxy, the engine's TypeError). */
function throwsOwn(call, err, label) {
  assert.throws(call, (thrown) => {
    assert.ok(!(thrown instanceof WebAssembly.RuntimeError), `${label}: a wasm trap: ${thrown.message}`);
    if (label.includes('revoked')) assert.ok(thrown instanceof TypeError && /revoked/.test(thrown.message), `${label}: ${thrown}`);
    else assert.equal(thrown, err, `${label}: the caller's own error`);
    return true;
  }, label);
}

const CASES = [
  ['sona-wasm WasmSonaEngine.withConfig', (c) => WasmSonaEngine.withConfig(c),
    () => { const e = WasmSonaEngine.withConfig({ hidden_dim: 8, seed: 1 }); e.applyLora(new Float32Array(8)); e.free(); }],
  ['sona-wasm/federated WasmSonaEngine.withConfig', (c) => FederatedEngine.withConfig(c),
    () => { const e = FederatedEngine.withConfig({ hidden_dim: 8, seed: 1 }); e.free(); new WasmEphemeralAgent('a', 8).free(); }],
  ['new FastGrnnRouter', (c) => new FastGrnnRouter(c, 1),
    () => { const r = new FastGrnnRouter({ input_dim: 2, hidden_dim: 4 }, 1); r.prune(0.5); r.route([0.5, 0.5]); r.free(); }],
  ['new RouterTrainer', (c) => new RouterTrainer(c),
    () => { const t = new RouterTrainer({ input_dim: 2, epochs: 1 }); t.addSample([0.5, 0.5], 1); t.free(); }],
];

for (const [label, construct, useModule] of CASES) {
  test(`${label}: a config object whose own code throws gives back that error, ${ROUNDS.toLocaleString('en')} times over, and the module keeps working`, () => {
    const err = new Error('config getter failed');
    for (const [how, config] of hostileConfigs(err)) throwsOwn(() => construct(config), err, `${label}, ${how}`);
    const [, config] = hostileConfigs(err)[0];
    for (let i = 0; i < ROUNDS; i++) {
      try {
        construct(config);
        assert.fail('no throw');
      } catch (thrown) {
        if (thrown !== err) throw thrown;
      }
    }
    useModule();
    // The same config without the throwing field is read as before.
    const plain = { hidden_dim: 8 };
    const made = construct(plain);
    made.free();
  });
}

test('withConfig: the preset is read with the other own fields (its values are the defaults the fields override)', () => {
  const e = WasmSonaEngine.withConfig({ hidden_dim: 16, preset: 'edge_deployment', micro_lora_rank: 2, seed: 3 });
  const expected = WasmSonaEngine.fromPreset('edge_deployment', 3).getConfig();
  const config = e.getConfig();
  assert.equal(config.hidden_dim, 16);
  assert.equal(config.micro_lora_rank, 2);
  assert.equal(config.pattern_clusters, expected.pattern_clusters);
  assert.equal(config.trajectory_capacity, expected.trajectory_capacity);
  e.free();
});

test('addSample: a teacher object that is neither array nor Float32Array is refused by name, its code never run inside the call', () => {
  const t = new RouterTrainer({ input_dim: 2, output_dim: 2, epochs: 1 });
  let trapped = 0;
  const teacher = new Proxy({}, { getPrototypeOf() { trapped++; throw new Error('prototype trap'); } });
  // Telling what it is runs the trap in JS (instanceof), whose error comes back as thrown.
  assert.throws(() => t.addSample([0.5, 0.5], 1, teacher), /prototype trap/);
  assert.equal(trapped, 1);
  for (let i = 0; i < ROUNDS; i++) {
    try { t.addSample([0.5, 0.5], 1, teacher); } catch { /* the trap's error */ }
  }
  assert.throws(() => t.addSample([0.5, 0.5], 1, { 0: 0.5, 1: 0.5, length: 2 }), /teacher probabilities must be a number, an array or a Float32Array, got an object/);
  assert.throws(() => t.addSample([0.5, 0.5], 1, new Int32Array(2)), /teacher probabilities must be a number, an array or a Float32Array, got an Int32Array/);
  assert.equal(t.sampleCount, 0);
  t.addSample([0.5, 0.5], 1, [0.25, 0.75]);
  t.addSample([0.5, 0.5], 0, Float32Array.of(0.5, 0.5));
  assert.equal(t.sampleCount, 2);
  assert.ok(t.train().epochs > 0);
  t.free();
});

test('no config object (undefined or null) means every default, in each constructor that reads one', () => {
  const defaults = WasmSonaEngine.withConfig({}).getConfig();
  for (const none of [undefined, null]) {
    assert.deepEqual(WasmSonaEngine.withConfig(none).getConfig(), defaults);
    assert.deepEqual(FederatedEngine.withConfig(none).getConfig(), defaults);
    const r = new FastGrnnRouter(none, 3);
    assert.deepEqual(r.config(), new FastGrnnRouter({}, 3).config());
    assert.deepEqual(r.route([0.1, 0.2, 0.3, 0.4, 0.5]), new FastGrnnRouter({}, 3).route([0.1, 0.2, 0.3, 0.4, 0.5]));
    const t = new RouterTrainer(none);
    t.addSample([0.1, 0.2, 0.3, 0.4, 0.5], 1);
    assert.equal(t.sampleCount, 1);
  }
  assert.deepEqual(new FastGrnnRouter().route([0.1, 0.2, 0.3, 0.4, 0.5]), new FastGrnnRouter({}, 0).route([0.1, 0.2, 0.3, 0.4, 0.5]));
});
