// The packed package in Deno: `deno test` runs in a scratch project that installed the npm tarball
// (pkg-tests/.tmp/consumer), so 'sona-wasm' resolves through node_modules and the "deno" export
// condition, exactly as in a Deno app with a package.json. No jsr/std imports: registries only.
import init, * as sona from 'sona-wasm';
import * as hnsw from 'sona-wasm/micro-hnsw';
import { checkExtras, checkResults, federatedScenario, microHnswScenario, sonaScenario } from './scenario.js';

Deno.test('init() is idempotent in Deno', async () => {
  const exports = await init();
  if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error('init() did not return the wasm exports');
  if ((await init()) !== exports) throw new Error('second init() returned a different instance');
});

Deno.test('micro-HNSW and SONA compute for real in Deno', () => {
  const failures = checkResults({ hnsw: microHnswScenario(hnsw), sona: sonaScenario(sona) });
  if (failures.length) throw new Error(failures.join('\n'));
});

Deno.test('sona-wasm/federated computes for real in Deno', async () => {
  const federated = await import('sona-wasm/federated');
  const results = { federated: federatedScenario(federated) };
  if (!results.federated) throw new Error('no federated result');
  const failures = checkExtras(results);
  if (failures.length) throw new Error(failures.join('\n'));
});
