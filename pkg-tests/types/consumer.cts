// A CommonJS TypeScript consumer (`.cts`, module nodenext): `import x = require(...)` of every entry
// point type-checks against the packed package's .d.ts (pkg-tests/node/require.test.mjs runs the
// same requires). `@ts-expect-error` lines must be errors.
import sona = require('sona-wasm');
import hnsw = require('sona-wasm/micro-hnsw');
import router = require('sona-wasm/router');
import federated = require('sona-wasm/federated');

export function main(): number {
  const engine: sona.WasmSonaEngine = sona.WasmSonaEngine.withConfig({ hidden_dim: 8, seed: 1 });
  const out: Float32Array = engine.applyLora(new Float32Array(8));
  // @ts-expect-error: the engine takes a config object, not a string
  sona.WasmSonaEngine.withConfig('default');
  const index = new hnsw.MicroHnsw({ dims: 2 });
  const hits: { id: number; distance: number }[] = index.search([0, 0], 1);
  const r = new router.FastGrnnRouter({ input_dim: 2, hidden_dim: 4 }, 1);
  const route: number = r.route(Float32Array.of(0, 1)).route;
  const coordinator: federated.WasmFederatedCoordinator | undefined = undefined;
  engine.free();
  return out.length + hits.length + route + (coordinator === undefined ? 0 : 1);
}
