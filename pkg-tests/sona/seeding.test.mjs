// Engines created without a seed are seeded from crypto.getRandomValues; where the runtime has no
// Web Crypto global (Node 18) or it fails, from the clock and a count of the seeds drawn, so two
// engines created in the same millisecond still differ. An explicit seed makes an engine
// reproducible. The seed shows in saveState's bytes (the engine's random state).
import test from 'node:test';
import assert from 'node:assert/strict';
import { WasmSonaEngine } from 'sona-wasm';
import { WasmEphemeralAgent, WasmFederatedCoordinator } from 'sona-wasm/federated';

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const unseeded = [
  ['new WasmSonaEngine(16)', () => new WasmSonaEngine(16)],
  ['WasmSonaEngine.withConfig({ hidden_dim: 16 })', () => WasmSonaEngine.withConfig({ hidden_dim: 16 })],
];

/** Runs `body` with globalThis.crypto replaced by `value` and Date.now frozen, restoring both. */
function withoutCrypto(value, body) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  const now = Date.now;
  Object.defineProperty(globalThis, 'crypto', { value, configurable: true, writable: true });
  Date.now = () => 1_700_000_000_000;
  try {
    return body();
  } finally {
    Date.now = now;
    if (saved) Object.defineProperty(globalThis, 'crypto', saved);
    else delete globalThis.crypto;
  }
}

test('engines created without a seed differ; the same seed gives the same engine', () => {
  for (const [label, make] of unseeded) {
    assert.ok(!same(make().saveState(), make().saveState()), `${label}: two unseeded engines have the same state`);
  }
  const seeded = () => WasmSonaEngine.withConfig({ hidden_dim: 16, seed: 5 }).saveState();
  assert.ok(same(seeded(), seeded()), 'the same seed, different engines');
});

test('without Web Crypto, or with one that throws, unseeded engines (and agents, coordinators) are still created and differ within the same millisecond', () => {
  const fakes = [
    ['no crypto global', undefined],
    ['a getRandomValues that throws', { getRandomValues() { throw new Error('no entropy'); } }],
  ];
  for (const [how, value] of fakes) {
    withoutCrypto(value, () => {
      for (const [label, make] of unseeded) {
        assert.ok(!same(make().saveState(), make().saveState()), `${how}, ${label}: same state at the same clock`);
      }
      new WasmEphemeralAgent('a', 16).free();
      new WasmFederatedCoordinator('c', 16).free();
    });
  }
  assert.ok(!same(unseeded[0][1]().saveState(), unseeded[0][1]().saveState()), 'Web Crypto restored');
});
