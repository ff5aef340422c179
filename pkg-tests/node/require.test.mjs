// CommonJS consumers: `require('sona-wasm')` and its subpath entries load the package's ES-module
// entries (their .wasm is read synchronously, no top-level await) wherever Node can require ES
// modules (20.19+, 22.12+), from the tarball installed as a user would (`npm test` packs it first)
// or else from this repository.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { consumerDir } from '../tools/pack.mjs';

const installed = join(consumerDir, 'node_modules', 'sona-wasm', 'package.json');
const require = createRequire(existsSync(installed) ? join(consumerDir, 'package.json') : import.meta.url);
const skip = process.features.require_module !== true && 'this Node cannot require() ES modules';

test('require() of every entry gives working classes', { skip }, () => {
  const { WasmSonaEngine } = require('sona-wasm');
  const engine = WasmSonaEngine.withConfig({ hidden_dim: 8, seed: 3 });
  const id = engine.startTrajectory(new Float32Array(8).fill(0.5));
  engine.addStep(id, new Float32Array(8).fill(0.25), new Float32Array(0), 0.9);
  engine.endTrajectory(id, 0.9);
  assert.equal(engine.runInstantCycle(), 1);
  const out = engine.applyLora(new Float32Array(8).fill(1));
  assert.ok(out instanceof Float32Array && out.length === 8);
  assert.ok(out.some((v) => v !== 1), 'the flushed MicroLoRA changes the output');
  engine.free();

  const { MicroHnsw } = require('sona-wasm/micro-hnsw');
  const index = new MicroHnsw({ dims: 2 });
  for (const v of [[0, 0], [1, 0], [0, 3]]) index.insert(v);
  assert.deepEqual(index.search([0.9, 0.1], 2).map((r) => r.id), [1, 0]);

  const { FastGrnnRouter } = require('sona-wasm/router');
  const router = new FastGrnnRouter({ input_dim: 2, hidden_dim: 4, output_dim: 3 }, 1);
  assert.equal(router.route(Float32Array.of(0.5, -0.5)).scores.length, 3);
  router.free();

  const federated = require('sona-wasm/federated');
  assert.equal(typeof federated.WasmFederatedCoordinator, 'function');
  assert.equal(typeof federated.WasmSonaEngine, 'function');
});

test('require() and import give the same module instance', { skip }, async () => {
  for (const name of ['sona-wasm', 'sona-wasm/micro-hnsw', 'sona-wasm/router', 'sona-wasm/federated']) {
    const required = require(name);
    const path = require.resolve(name);
    const imported = await import(path);
    for (const key of Object.keys(imported)) assert.equal(required[key], imported[key], `${name}: ${key}`);
  }
});
