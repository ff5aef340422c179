// The built package in Node, imported by its name exactly as a user would (package "exports" →
// pkg/index.node.js and pkg/micro_hnsw.node.js, both initialised on import).
import test from 'node:test';
import assert from 'node:assert/strict';
import init, * as sona from 'sona-wasm';
import * as hnsw from 'sona-wasm/micro-hnsw';
import { checkExtras, checkResults, federatedScenario, microHnswScenario, routerScenario, sonaScenario } from '../shared/scenario.js';

test('init() is idempotent in Node and returns the wasm exports', async () => {
  const exports = await init();
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  assert.equal(await init(), exports);
});

test('micro-HNSW and SONA compute for real in Node', () => {
  const results = { hnsw: microHnswScenario(hnsw), sona: sonaScenario(sona) };
  assert.deepEqual(checkResults(results), []);
});

test('sona-wasm/router and sona-wasm/federated compute for real in Node', async () => {
  const router = await import('sona-wasm/router');
  const federated = await import('sona-wasm/federated');
  const results = { router: routerScenario(router), federated: federatedScenario(federated) };
  assert.deepEqual(checkExtras(results), []);
});
