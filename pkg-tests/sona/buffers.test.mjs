// The zero-copy path: inputBuffer()/outputBuffer() views + applyLoraBuffers() give exactly
// applyLora's result, reject bad input like applyLora, survive wasm memory growth (after
// re-fetching the views) and never hand one engine's buffers to another live engine.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { rng, runTopic, topics, unit } from './helpers.mjs';

await init();

function trainedEngine(dim, seed) {
  const r = rng(seed);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed });
  const tp = topics(r, 2, dim);
  for (let i = 0; i < 40; i++) runTopic(e, r, tp, i % 2, dim);
  e.runInstantCycle();
  return { e, r };
}

test('applyLoraBuffers writes exactly applyLora(input) into outputBuffer()', () => {
  const dim = 16;
  const { e, r } = trainedEngine(dim, 5);
  const input = e.inputBuffer();
  const output = e.outputBuffer();
  assert.ok(input instanceof Float32Array && input.length === dim);
  assert.ok(output instanceof Float32Array && output.length === dim);
  let changed = false;
  for (let i = 0; i < 10; i++) {
    const x = unit(r, dim);
    input.set(x);
    e.applyLoraBuffers();
    const expected = e.applyLora(x);
    assert.deepEqual(Array.from(output), Array.from(expected));
    assert.deepEqual(Array.from(input), Array.from(x), 'the input buffer is not modified');
    changed ||= expected.some((v, j) => v !== x[j]);
  }
  assert.ok(changed, 'the trained adapter is not the identity');
  e.free();
});

test('a non-finite input buffer throws a named Error and leaves output and state unchanged', () => {
  const dim = 16;
  const { e, r } = trainedEngine(dim, 6);
  const input = e.inputBuffer();
  const output = e.outputBuffer();
  input.set(unit(r, dim));
  e.applyLoraBuffers();
  const before = output.slice();
  const state = e.saveState();
  for (const bad of [NaN, Infinity, -Infinity]) {
    input[dim - 1] = bad;
    assert.throws(() => e.applyLoraBuffers(), (err) => err instanceof Error && /input contains a non-finite/.test(err.message));
    const out = e.outputBuffer();
    assert.deepEqual(Array.from(out), Array.from(before), 'output untouched');
  }
  assert.deepEqual(e.saveState(), state);
  e.free();
});

test('views detach when wasm memory grows; fresh views see the same buffers', () => {
  const dim = 64;
  const { e, r } = trainedEngine(dim, 7);
  let input = e.inputBuffer();
  const x = unit(r, dim);
  input.set(x);
  // Grow wasm memory: a big engine allocates several MB.
  const big = WasmSonaEngine.withConfig({ hidden_dim: 4096, trajectory_capacity: 10, seed: 1 });
  for (let i = 0; i < 20; i++) big.endTrajectory(big.startTrajectory(unit(r, 4096)), 0.9);
  assert.equal(input.length, 0, 'memory grew, so the old view is detached');
  input = e.inputBuffer();
  assert.equal(input.length, dim);
  assert.deepEqual(Array.from(input), Array.from(x), 'the buffer kept its contents across growth');
  e.applyLoraBuffers();
  assert.deepEqual(Array.from(e.outputBuffer()), Array.from(e.applyLora(x)));
  big.free();
  e.free();
});

test('applyLora and applyLoraInto stay correct when wasm memory grows between calls', () => {
  const dim = 32;
  const { e, r } = trainedEngine(dim, 12);
  const x = unit(r, dim);
  const before = e.applyLora(x);
  const into = new Float32Array(dim);
  e.applyLoraInto(x, into);
  assert.deepEqual(Array.from(into), Array.from(before));
  assert.ok(before.some((v, i) => v !== x[i]), 'the trained adapter changes the input');
  // Grow wasm memory (several MB), then call again: the results must not come from a detached view.
  const big = WasmSonaEngine.withConfig({ hidden_dim: 4096, trajectory_capacity: 10, seed: 2 });
  for (let i = 0; i < 20; i++) big.endTrajectory(big.startTrajectory(unit(r, 4096)), 0.9);
  const after = e.applyLora(x);
  assert.equal(after.length, dim);
  assert.deepEqual(Array.from(after), Array.from(before));
  const into2 = new Float32Array(dim);
  e.applyLoraInto(x, into2);
  assert.deepEqual(Array.from(into2), Array.from(before));
  // The returned array is the caller's own copy: a later call does not change it.
  e.applyLora(unit(r, dim));
  assert.deepEqual(Array.from(after), Array.from(before));
  big.free();
  e.free();
});

test('each live engine has its own buffers, also when a freed engine\'s storage is reused', () => {
  const dim = 16;
  const a = trainedEngine(dim, 8);
  const stale = a.e.inputBuffer();
  a.e.free();
  const b = trainedEngine(dim, 9);
  const c = trainedEngine(dim, 10);
  const xb = unit(b.r, dim);
  const xc = unit(c.r, dim);
  b.e.inputBuffer().set(xb);
  c.e.inputBuffer().set(xc);
  assert.deepEqual(Array.from(b.e.inputBuffer()), Array.from(xb));
  b.e.applyLoraBuffers();
  c.e.applyLoraBuffers();
  assert.deepEqual(Array.from(b.e.outputBuffer()), Array.from(b.e.applyLora(xb)));
  assert.deepEqual(Array.from(c.e.outputBuffer()), Array.from(c.e.applyLora(xc)));
  // A stale view of a freed engine only ever aliases another engine's I/O buffer, never its state.
  const states = [b.e.saveState(), c.e.saveState()];
  if (stale.length === dim) stale.fill(1);
  assert.deepEqual([b.e.saveState(), c.e.saveState()], states);
  b.e.free();
  c.e.free();
});

test('a loaded engine has working buffers of its width', () => {
  const dim = 16;
  const { e, r } = trainedEngine(dim, 11);
  const f = WasmSonaEngine.loadState(e.saveState());
  const x = unit(r, dim);
  f.inputBuffer().set(x);
  f.applyLoraBuffers();
  assert.deepEqual(Array.from(f.outputBuffer()), Array.from(e.applyLora(x)));
  e.free();
  f.free();
});
