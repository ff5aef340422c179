// saveState / loadState through the built package: exact round trips, every kind of bad bytes rejected.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { rng, runTopic, topics, unit } from './helpers.mjs';

await init();

function busy() {
  const dim = 32;
  const r = rng(9);
  const tp = topics(r, 3, dim);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, pattern_clusters: 12, seed: 21 });
  for (let i = 0; i < 60; i++) runTopic(e, r, tp, i % 3, dim);
  e.forceLearn();
  for (let i = 0; i < 7; i++) runTopic(e, r, tp, i % 3, dim);
  e.learnFromFeedback(true, 120, 0.7);
  const open = e.startTrajectory(unit(r, dim));
  e.recordStep(open, 5, 0.4, 30);
  e.setTrajectoryRoute(open, 'gpt-code');
  e.addTrajectoryContext(open, 'ctx-1');
  return { e, open, probe: unit(r, dim) };
}

const stripTime = (ps) => ps.map(({ last_accessed, ...rest }) => rest);

test('a round trip gives identical applyLora, applyLoraLayer, findPatterns and stats', () => {
  const { e, open, probe } = busy();
  const bytes = e.saveState();
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'SONAWASM');
  const f = WasmSonaEngine.loadState(bytes);
  assert.deepEqual(f.saveState(), bytes, 'saving the loaded engine gives the same bytes');
  assert.deepEqual(f.stats(), e.stats());
  assert.deepEqual(f.getConfig(), e.getConfig());
  assert.deepEqual(f.applyLora(probe), e.applyLora(probe));
  assert.deepEqual(f.applyLoraLayer(1, probe), e.applyLoraLayer(1, probe));
  assert.deepEqual(stripTime(f.findPatterns(probe, 3)), stripTime(e.findPatterns(probe, 3)));
  // The open trajectory survives and both engines go on identically.
  e.endTrajectory(open, 0.9);
  f.endTrajectory(open, 0.9);
  const { last_background_ms: _a, ...re } = e.stats();
  const { last_background_ms: _b, ...rf } = f.stats();
  assert.deepEqual(rf, re);
  e.free();
  f.free();
});

test('truncated, bit-flipped, wrong-version and foreign bytes are rejected with a clear error', () => {
  const { e } = busy();
  const bytes = e.saveState();
  const rejects = (b, pattern, what) => assert.throws(() => WasmSonaEngine.loadState(b), (err) => {
    assert.ok(err instanceof Error, `${what}: an Error`);
    assert.match(err.message, pattern, what);
    return true;
  });
  for (const cut of [0, 5, 23, 24, 100, bytes.length >> 1, bytes.length - 1]) {
    rejects(bytes.slice(0, cut), /truncated/, `cut at ${cut}`);
  }
  for (const pos of [30, 200, bytes.length >> 1, bytes.length - 1]) {
    const b = bytes.slice();
    b[pos] ^= 0x04;
    rejects(b, /checksum mismatch/, `bit flip at ${pos}`);
  }
  const v = bytes.slice();
  new DataView(v.buffer).setUint32(8, 7, true);
  rejects(v, /unsupported state version 7/, 'wrong version');
  rejects(new TextEncoder().encode('{"hidden_dim":256}'), /not a SONA state/, 'JSON');
  rejects(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]), /not a SONA state/, 'a wasm module header');
  e.free();
});
