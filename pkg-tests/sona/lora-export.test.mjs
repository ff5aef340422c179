// exportLora through the built package: the bytes are a SafeTensors file (read here by a parser
// written from the format's specification: u64 LE header length, JSON header, little-endian data
// covered exactly by the tensors' data_offsets) whose PEFT-named tensors reproduce applyLora and
// applyLoraLayer; bad prefixes are refused by name with the engine unchanged.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { rng, runTopic, topics, unit } from './helpers.mjs';

await init();

/** The tensors and metadata of SafeTensors `bytes`, validating the layout as the format demands. */
function readSafetensors(bytes) {
  assert.ok(bytes instanceof Uint8Array && bytes.length >= 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  assert.ok(8 + n <= bytes.length, 'header within the file');
  assert.equal((8 + n) % 8, 0, 'data 8-byte aligned');
  const header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  const { __metadata__: metadata, ...entries } = header;
  const data = bytes.subarray(8 + n);
  const spans = [];
  const tensors = {};
  for (const [name, { dtype, shape, data_offsets: [begin, end] }] of Object.entries(entries)) {
    assert.equal(dtype, 'F32', name);
    assert.equal(end - begin, 4 * shape.reduce((a, b) => a * b, 1), `${name}: offsets match the shape`);
    spans.push([begin, end]);
    const dv = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    tensors[name] = { shape, values: Float32Array.from({ length: (end - begin) / 4 }, (_, i) => dv.getFloat32(4 * i, true)) };
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end] of spans) {
    assert.equal(begin, at, 'tensors cover the data without gaps or overlaps');
    at = end;
  }
  assert.equal(at, data.length, 'the data holds nothing but the tensors');
  return { metadata, tensors };
}

/** `x + (alpha / r) · B (A x)` with A `[r, d]` and B `[d, r]`, row-major, in f64. */
function applyAdapter(a, b, alpha, x) {
  const [r, d] = a.shape;
  assert.deepEqual(b.shape, [d, r]);
  const h = Array.from({ length: r }, (_, k) => x.reduce((s, xi, i) => s + a.values[k * d + i] * xi, 0));
  return Array.from(x, (xi, i) => xi + (alpha / r) * h.reduce((s, hk, k) => s + b.values[i * r + k] * hk, 0));
}

const close = (got, want) => got.every((g, i) => Math.abs(g - want[i]) <= 1e-5 * (1 + Math.abs(want[i])));

function trained() {
  const dim = 32;
  const r = rng(4);
  const tp = topics(r, 2, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, base_lora_rank: 4, base_lora_layers: 2, pattern_clusters: 8, seed: 3 });
  for (let i = 0; i < 80; i++) runTopic(e, r, tp, i % 2, dim);
  e.runInstantCycle();
  e.forceLearn();
  return { e, dim, probe: unit(r, dim) };
}

test('exportLora is a SafeTensors file whose PEFT-named tensors reproduce applyLora and applyLoraLayer', () => {
  const { e, dim, probe } = trained();
  const { metadata, tensors } = readSafetensors(e.exportLora());
  assert.deepEqual(metadata, {
    format: 'pt', lora_alpha: '1', hidden_dim: String(dim), micro_lora_rank: '2', base_lora_rank: '4', base_lora_layers: '2',
  });
  assert.deepEqual(Object.keys(tensors).sort(), [
    'base_model.model.base_lora.0.lora_A.weight', 'base_model.model.base_lora.0.lora_B.weight',
    'base_model.model.base_lora.1.lora_A.weight', 'base_model.model.base_lora.1.lora_B.weight',
    'base_model.model.micro_lora.lora_A.weight', 'base_model.model.micro_lora.lora_B.weight',
  ]);
  const alpha = Number(metadata.lora_alpha);
  const t = (name) => tensors[`base_model.model.${name}`];
  const micro = applyAdapter(t('micro_lora.lora_A.weight'), t('micro_lora.lora_B.weight'), alpha, probe);
  const want = e.applyLora(probe);
  assert.ok(want.some((w, i) => w !== probe[i]), 'the engine learned a non-zero MicroLoRA delta');
  assert.ok(close(micro, want), 'micro_lora reproduces applyLora');
  for (const layer of [0, 1]) {
    const got = applyAdapter(t(`base_lora.${layer}.lora_A.weight`), t(`base_lora.${layer}.lora_B.weight`), alpha, probe);
    assert.ok(close(got, e.applyLoraLayer(layer, probe)), `base_lora.${layer} reproduces applyLoraLayer(${layer})`);
  }
  // A loaded state exports the same bytes.
  assert.deepEqual(WasmSonaEngine.loadState(e.saveState()).exportLora(), e.exportLora());
  e.free();
});

test('exportLora names tensors with any prefix, escaped in the JSON header', () => {
  const e = new WasmSonaEngine(16);
  for (const prefix of ['', 'model.layers.3.mlp.', 'quote " backslash \\ tab \t é ✓ ']) {
    const { tensors } = readSafetensors(e.exportLora(prefix));
    assert.ok(tensors[`${prefix}micro_lora.lora_A.weight`], JSON.stringify(prefix));
  }
  // undefined and null mean the default prefix.
  assert.deepEqual(e.exportLora(undefined), e.exportLora());
  assert.deepEqual(e.exportLora(null), e.exportLora('base_model.model.'));
  e.free();
});

test('exportLora refuses a bad prefix by name and leaves the engine unchanged', () => {
  const { e, probe } = trained();
  const before = { stats: e.stats(), out: e.applyLora(probe), bytes: e.saveState() };
  assert.throws(() => e.exportLora('p'.repeat(257)), (err) => err instanceof Error && /prefix/.test(err.message) && /256/.test(err.message));
  for (const bad of [42, {}, ['a'], true]) {
    assert.throws(() => e.exportLora(bad), (err) => err instanceof Error && /prefix/.test(err.message), String(bad));
  }
  assert.deepEqual(e.stats(), before.stats);
  assert.deepEqual(e.applyLora(probe), before.out);
  assert.deepEqual(e.saveState(), before.bytes);
  assert.ok(readSafetensors(e.exportLora('p'.repeat(256))));
  e.free();
  assert.throws(() => e.exportLora(), /freed/);
});

test('the federated coordinator exports its adapters in the same format', async () => {
  const { WasmEphemeralAgent, WasmFederatedCoordinator } = await import('sona-wasm/federated');
  const dim = 16;
  const r = rng(8);
  const coordinator = new WasmFederatedCoordinator('main', dim);
  for (let a = 0; a < 3; a++) {
    const agent = new WasmEphemeralAgent(`agent-${a}`, dim);
    for (let i = 0; i < 20; i++) agent.processTrajectory(unit(r, dim), unit(r, dim), 0.6 + 0.3 * r.uniform(), 'route', []);
    coordinator.aggregate(agent.exportState());
    agent.free();
  }
  coordinator.consolidate();
  const probe = unit(r, dim);
  const { metadata, tensors } = readSafetensors(coordinator.exportLora('coord.'));
  assert.equal(metadata.hidden_dim, String(dim));
  const got = applyAdapter(tensors['coord.micro_lora.lora_A.weight'], tensors['coord.micro_lora.lora_B.weight'], Number(metadata.lora_alpha), probe);
  assert.ok(close(got, coordinator.applyLora(probe)));
  assert.throws(() => coordinator.exportLora(7), /prefix/);
  coordinator.free();
});

test('trajectories without signal shrink MicroLoRA to exact zeros, never to subnormal weights, and it learns again', () => {
  // Ended without steps, a trajectory has no advantage: its target is zero and the up rows decay
  // geometrically. Subnormal weights would make every later call several times slower on x86.
  const dim = 32;
  const r = rng(61);
  const tp = topics(r, 2, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, micro_lora_lr: 0.03, seed: 6 });
  const weights = () => {
    const { tensors } = readSafetensors(e.exportLora());
    return [tensors['base_model.model.micro_lora.lora_A.weight'].values, tensors['base_model.model.micro_lora.lora_B.weight'].values];
  };
  for (let i = 0; i < 200; i++) runTopic(e, r, tp, i % 2, dim);
  e.runInstantCycle();
  assert.ok(weights()[1].some((v) => Math.abs(v) > 1e-3), 'learned first');
  let smallest = Infinity;
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 200; i++) e.endTrajectory(e.startTrajectory(unit(r, dim)), 0.8);
    for (const v of [...weights()[0], ...weights()[1]]) {
      assert.ok(v === 0 || Math.abs(v) >= 1e-15, `weight ${v} below 1e-15 (round ${round})`);
      if (v !== 0) smallest = Math.min(smallest, Math.abs(v));
    }
  }
  assert.ok(weights()[1].every((v) => v === 0), 'lora_B (up) reached exact zeros');
  assert.ok(smallest < 1e-12, `the decay passed through tiny weights (${smallest})`);
  for (let i = 0; i < 200; i++) runTopic(e, r, tp, i % 2, dim);
  e.runInstantCycle();
  assert.ok(weights()[1].some((v) => Math.abs(v) > 1e-3), 'real signal regrows the zeroed weights');
  e.free();
});
