// The seeded hostile-input fuzzer (fuzz.mjs) as a bounded test: a few thousand calls per seed on
// the raw ABI (twin instance with reduced arguments, documented sentinels, unchanged state) and
// on the wrapper (named Errors only, unchanged state after a rejection, documented results).
// A longer run: node pkg-tests/micro-hnsw/fuzz.mjs [steps] [seeds].
import test from 'node:test';
import assert from 'node:assert/strict';
import { importWrapper } from './helpers.mjs';
import { fuzzRaw, fuzzWrapper } from './fuzz.mjs';

const api = await importWrapper();
const module = await api.init();
const SEEDS = [1, 2, 3, 4];
const STEPS = 2500;

test('raw ABI under seeded hostile call sequences: no trap, modulo-reduced integers, sentinels, state unchanged', () => {
  for (const seed of SEEDS) assert.ok(fuzzRaw(module, seed, STEPS) > STEPS * 0.9);
});

test('MicroHnsw and MicroHnswCluster under seeded hostile call sequences: named Errors, state unchanged, documented results', () => {
  for (const seed of SEEDS) {
    const { checked, rejected } = fuzzWrapper(api, seed, STEPS);
    assert.equal(checked, STEPS);
    // Both kinds of call are exercised: many rejected, most accepted.
    assert.ok(rejected > STEPS / 5 && rejected < STEPS * 0.6, `${rejected} of ${STEPS} rejected`);
  }
});
