// The JS fast paths (src/js/fast.js): applyLora, applyLoraInto, startTrajectory, addStep and
// findPatterns write Float32Array / plain-array arguments into the engine's staging area instead of
// going through wasm-bindgen's per-argument malloc + copy + free. Other argument kinds (here a
// Float64Array holding the same float32 values) still take the wasm-bindgen methods, so each test
// checks that both routes give bit-identical results and engine states, and that bad input through
// the fast route throws the same named Errors with the state unchanged.
import test from 'node:test';
import assert from 'node:assert/strict';
import init, { WasmSonaEngine } from 'sona-wasm';
import { rng, runTopic, topics, unit } from './helpers.mjs';

await init();

const f64 = (v) => Float64Array.from(v);

function trainedEngine(dim, seed, n = 40) {
  const r = rng(seed);
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, pattern_clusters: 8, seed });
  const tp = topics(r, 4, dim);
  for (let i = 0; i < n; i++) runTopic(e, r, tp, i % 4, dim);
  e.runInstantCycle();
  return { e, r };
}

test('applyLora / applyLoraInto: Float32Array, plain array and wasm-bindgen routes agree bit for bit', () => {
  const dim = 24;
  const { e, r } = trainedEngine(dim, 11);
  const viaBuffers = e.outputBuffer();
  const out = new Float32Array(dim);
  for (let i = 0; i < 8; i++) {
    const x = unit(r, dim);
    const fast = e.applyLora(x);
    assert.ok(fast instanceof Float32Array && fast.length === dim);
    assert.deepEqual(fast, e.applyLora(f64(x)), 'fast vs wasm-bindgen route');
    assert.deepEqual(e.applyLora(Array.from(x)), fast, 'plain array');
    e.inputBuffer().set(x);
    e.applyLoraBuffers();
    assert.deepEqual(viaBuffers.length ? viaBuffers : e.outputBuffer(), fast, 'applyLoraBuffers');
    e.applyLoraInto(x, out);
    assert.deepEqual(out, fast, 'applyLoraInto');
    assert.ok(fast.some((v, j) => v !== x[j]), 'the adaptation changes the input');
  }
  e.free();
});

test('applyLora results are independent regions of shared slabs; a transferred slab is replaced', () => {
  const dim = 24;
  const { e, r } = trainedEngine(dim, 12);
  const xs = Array.from({ length: 200 }, () => unit(r, dim));
  const expected = xs.map((x) => e.applyLora(f64(x))); // wasm-bindgen route: own buffers
  const results = xs.map((x) => e.applyLora(x));
  // More results than one 8 KiB slab holds: they must not overlap, whatever buffer they share.
  const byBuffer = new Map();
  for (const res of results) {
    if (!byBuffer.has(res.buffer)) byBuffer.set(res.buffer, []);
    byBuffer.get(res.buffer).push([res.byteOffset, res.byteOffset + res.byteLength]);
  }
  assert.ok(byBuffer.size > 1 && byBuffer.size < results.length, 'pooled in several slabs');
  for (const ranges of byBuffer.values()) {
    ranges.sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] >= ranges[i - 1][1], 'regions overlap');
  }
  // Writing one result changes no other, and a later call does not overwrite earlier results.
  for (const res of results) res.fill(-7, 0, 1);
  results.forEach((res, i) => assert.deepEqual(res.subarray(1), expected[i].subarray(1)));
  // Transferring a result's buffer detaches that slab; the next results come from a new one.
  const last = e.applyLora(xs[0]);
  structuredClone(last.buffer, { transfer: [last.buffer] });
  assert.equal(last.length, 0, 'transferred');
  for (let i = 0; i < 20; i++) assert.deepEqual(e.applyLora(xs[i]), expected[i]);
  e.free();
  // Results over half a slab (> 1,024 floats) get their own ArrayBuffer.
  const big = WasmSonaEngine.withConfig({ hidden_dim: 1536, seed: 5 });
  const y = unit(r, 1536);
  const a = big.applyLora(y);
  const b = big.applyLora(y);
  assert.notEqual(a.buffer, b.buffer);
  assert.equal(a.buffer.byteLength, 1536 * 4);
  assert.deepEqual(a, big.applyLora(f64(y)));
  big.free();
});

test('startTrajectory / addStep: the fast route leaves exactly the wasm-bindgen route\'s state', () => {
  const dim = 20;
  const seed = 3;
  const fast = WasmSonaEngine.withConfig({ hidden_dim: dim, seed });
  const slow = WasmSonaEngine.withConfig({ hidden_dim: dim, seed });
  const r = rng(9);
  for (let t = 0; t < 12; t++) {
    const q = unit(r, dim);
    const id = fast.startTrajectory(q);
    assert.equal(slow.startTrajectory(f64(q)), id);
    for (const attnLen of [0, 1, 3, dim]) {
      const a = unit(r, dim);
      const w = Float32Array.from({ length: attnLen }, () => r.uniform());
      const reward = r.uniform();
      fast.addStep(id, t % 2 ? Array.from(a) : a, t % 3 ? w : Array.from(w), reward);
      slow.addStep(id, f64(a), f64(w), reward);
    }
    fast.endTrajectory(id, 0.9);
    slow.endTrajectory(id, 0.9);
  }
  fast.runInstantCycle();
  slow.runInstantCycle();
  assert.deepEqual(fast.saveState(), slow.saveState());
  assert.equal(fast.stats().steps_recorded, 48);
  fast.free();
  slow.free();
});

test('one attention weight gates every feature: same as that weight repeated hidden_dim times', () => {
  const dim = 33;
  const one = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 4 });
  const tiled = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 4 });
  const plain = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 4 });
  const r = rng(21);
  for (let t = 0; t < 10; t++) {
    const q = unit(r, dim);
    const ids = [one, tiled, plain].map((e) => e.startTrajectory(q));
    for (let s = 0; s < 3; s++) {
      const a = unit(r, dim);
      const w = Math.fround(0.25 + r.uniform());
      const reward = s === 0 ? 0.9 : 0.2;
      one.addStep(ids[0], a, new Float32Array([w]), reward);
      tiled.addStep(ids[1], a, new Float32Array(dim).fill(w), reward);
      // The gated activations computed here in JS (float32 products), with uniform attention.
      plain.addStep(ids[2], a.map((x) => Math.fround(x * w)), [], reward);
    }
    for (const [e, id] of [[one, ids[0]], [tiled, ids[1]], [plain, ids[2]]]) e.endTrajectory(id, 0.8);
  }
  assert.deepEqual(one.saveState(), tiled.saveState(), "one weight vs the weight tiled");
  assert.deepEqual(one.saveState(), plain.saveState(), "one weight vs gated in JS");
  for (const e of [one, tiled, plain]) e.free();
});

test('findPatterns: the fast route builds the same pattern objects as the wasm-bindgen route', () => {
  const dim = 16;
  const { e, r } = trainedEngine(dim, 17, 120);
  e.forceLearn();
  const bytes = e.saveState();
  const a = WasmSonaEngine.loadState(bytes);
  const b = WasmSonaEngine.loadState(bytes);
  assert.ok(a.stats().patterns_stored >= 4);
  const strip = (p) => ({ ...p, centroid: Array.from(p.centroid), direction: Array.from(p.direction), last_accessed: 0 });
  for (let i = 0; i < 6; i++) {
    const q = unit(r, dim);
    const k = 1 + (i % 5);
    const fast = a.findPatterns(q, k);
    const slow = b.findPatterns(f64(q), k);
    assert.equal(fast.length, Math.min(k, a.stats().patterns_stored));
    assert.deepEqual(fast.map((p) => Object.keys(p)), slow.map((p) => Object.keys(p)), 'same fields, same order');
    assert.deepEqual(fast.map(strip), slow.map(strip));
    assert.deepEqual(a.findPatterns(Array.from(q), k).map(strip).map((p) => p.id), fast.map((p) => p.id), 'plain array');
    for (const p of fast) {
      assert.ok(p.centroid instanceof Float32Array && p.centroid.length === dim);
      assert.ok(Math.abs(p.last_accessed - Date.now()) < 60_000);
      assert.ok(['general', 'reasoning', 'factual', 'creative', 'codegen', 'conversational'].includes(p.pattern_type));
    }
    for (let j = 1; j < fast.length; j++) assert.ok(fast[j - 1].similarity >= fast[j].similarity, 'best first');
    b.findPatterns(Array.from(q), k); // keep the access counts of the two engines in step
  }
  // The results own their numbers: later calls (other hits, more memory) and writes into one
  // result change neither earlier results nor the engine.
  const first = a.findPatterns(unit(r, dim), 3);
  const kept = first.map(strip);
  for (let i = 0; i < 20; i++) a.findPatterns(unit(r, dim), 1 + (i % 4));
  const big = new WasmSonaEngine(dim); // grows wasm memory, moving nothing the results hold
  assert.deepEqual(first.map(strip), kept);
  const again = first.map((p) => a.findPatterns(p.centroid, 1)[0]);
  first[0].centroid.fill(9);
  first[0].direction.fill(9);
  assert.deepEqual(a.findPatterns(kept[0].centroid, 1)[0].centroid, again[0].centroid);
  assert.deepEqual(Array.from(again[0].centroid), kept[0].centroid);
  for (const x of [e, a, b, big]) x.free();
});

test('findPatterns vectors are independent regions of shared slabs; a transferred slab is replaced', () => {
  const dim = 64;
  const { e, r } = trainedEngine(dim, 29, 120);
  e.forceLearn();
  const k = Math.min(4, e.stats().patterns_stored);
  // Each call's vectors (k × 2 × 64 floats, ≤ 2 KiB) in one region: 60 calls span several 32 KiB slabs.
  const calls = Array.from({ length: 60 }, () => e.findPatterns(unit(r, dim), k));
  const copies = calls.map((hits) => hits.map((p) => [Array.from(p.centroid), Array.from(p.direction)]));
  const byBuffer = new Map();
  for (const hits of calls) {
    for (const p of hits) {
      for (const v of [p.centroid, p.direction]) {
        if (!byBuffer.has(v.buffer)) byBuffer.set(v.buffer, []);
        byBuffer.get(v.buffer).push([v.byteOffset, v.byteOffset + v.byteLength]);
      }
    }
  }
  assert.ok(byBuffer.size > 1 && byBuffer.size < 60, `pooled in several slabs (${byBuffer.size})`);
  for (const ranges of byBuffer.values()) {
    ranges.sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] >= ranges[i - 1][1], 'vectors overlap');
  }
  // Writing into one hit's vectors changes no other hit's.
  for (const hits of calls) for (const p of hits) { p.centroid.fill(5); }
  calls.forEach((hits, c) => hits.forEach((p, j) => assert.deepEqual(Array.from(p.direction), copies[c][j][1])));
  // Transferring a slab detaches those vectors only; later calls carve a new slab.
  const last = e.findPatterns(unit(r, dim), k);
  structuredClone(last[0].centroid.buffer, { transfer: [last[0].centroid.buffer] });
  assert.equal(last[0].centroid.length, 0, 'transferred');
  const q = unit(r, dim);
  const want = e.findPatterns(f64(q), k).map((p) => Array.from(p.centroid));
  assert.deepEqual(e.findPatterns(q, k).map((p) => Array.from(p.centroid)), want);
  e.free();
});

test('bad input through the fast route: the same named Errors, state unchanged', () => {
  const dim = 12;
  const { e, r } = trainedEngine(dim, 23, 60);
  e.forceLearn();
  const id = e.startTrajectory(unit(r, dim));
  const before = e.saveState();
  const stats = e.stats();
  const nan = unit(r, dim);
  nan[5] = NaN;
  const inf = Array.from(unit(r, dim));
  inf[0] = -Infinity;
  const out = new Float32Array(dim).fill(7);
  const cases = [
    [() => e.applyLora(nan), /input/],
    [() => e.applyLora(inf), /input/],
    [() => e.applyLora(new Float32Array(dim + 1)), /input.*12|12.*input/],
    [() => e.applyLoraInto(nan, out), /input/],
    [() => e.applyLoraInto(unit(r, dim), new Float32Array(dim - 1)), /output/],
    [() => e.startTrajectory(nan), /query/],
    [() => e.addStep(id, nan, [], 0.5), /activations/],
    [() => e.addStep(id, unit(r, dim), [1, NaN], 0.5), /attention/],
    [() => e.addStep(id, unit(r, dim), new Float32Array(dim + 1), 0.5), /attention/],
    [() => e.addStep(id, unit(r, dim), [], NaN), /reward/],
    [() => e.addStep(id + 1000, unit(r, dim), [], 0.5), /trajectory/],
    [() => e.addStep(-1, unit(r, dim), [], 0.5), /trajectory id/],
    [() => e.findPatterns(unit(r, dim), 0), /k/],
    [() => e.findPatterns(nan, 3), /query/],
  ];
  for (const [call, pattern] of cases) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof Error, `an Error, got ${err}`);
      assert.match(err.message, pattern);
      return true;
    });
  }
  assert.deepEqual(out, new Float32Array(dim).fill(7), 'applyLoraInto left output untouched');
  assert.deepEqual(e.saveState(), before, 'state unchanged after every rejected call');
  assert.deepEqual(e.stats(), stats);
  // A freed engine throws instead of writing into memory it no longer owns.
  const x = unit(r, dim);
  e.applyLora(x);
  e.free();
  assert.throws(() => e.applyLora(x));
  assert.throws(() => e.startTrajectory(x));
});

test('a freed engine: every fast-path method throws an Error (never traps, never reads freed memory)', () => {
  const dim = 8;
  const e = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 1 });
  const x = new Float32Array(dim).fill(0.25);
  const id = e.startTrajectory(x);
  e.applyLora(x); // creates the staging views the fast paths cache
  e.free();
  const calls = [
    () => e.applyLora(x), () => e.applyLoraInto(x, new Float32Array(dim)), () => e.applyLoraBuffers(),
    () => e.startTrajectory(x), () => e.addStep(id, x, [], 0.5), () => e.endTrajectory(id, 0.5),
    () => e.findPatterns(x, 1),
  ];
  for (const call of calls) {
    assert.throws(call, (err) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError));
  }
});

/**
 * `feed(p)` starts a trajectory on a fresh engine and adds one step (returning its id); an engine
 * given the same trajectory as Float32Arrays (`embedding`, one step of `activations` with
 * attention weight 0.5 and reward 0.25) must end up in the same state, byte for byte.
 */
function assertSameAsPlainStep(dim, embedding, activations, feed) {
  const [p, q] = [WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 5 }), WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 5 })];
  const ip = feed(p);
  const iq = q.startTrajectory(embedding);
  q.addStep(iq, activations, Float32Array.of(0.5), 0.25);
  for (const [e, id] of [[p, ip], [q, iq]]) {
    e.endTrajectory(id, 0.9);
    e.runInstantCycle();
  }
  assert.deepEqual(p.saveState(), q.saveState());
  p.free();
  q.free();
}

test('a Proxy posing as a Float32Array whose traps call the engine again: read once, nothing clobbered', () => {
  // A Proxy of a Float32Array passes `instanceof Float32Array` but is no typed array: copying it
  // runs its traps. It used to be copied straight into the staging area, where a re-entrant call
  // overwrote the features already copied (applyLora answered for a mix of two inputs).
  const dim = 8;
  const { e, r } = trainedEngine(dim, 29);
  const x = unit(r, dim);
  const other = unit(r, dim);
  const expected = e.applyLora(x);
  const proxy = (call, at = '5') => new Proxy(x, {
    get(target, key) {
      if (key === at) call();
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  assert.ok(proxy(() => {}) instanceof Float32Array && !ArrayBuffer.isView(proxy(() => {})));
  assert.deepEqual(e.applyLora(proxy(() => e.applyLora(other))), expected, 'applyLora');
  const out = new Float32Array(dim);
  e.applyLoraInto(proxy(() => e.applyLora(other)), out);
  assert.deepEqual(out, expected, 'applyLoraInto');
  const patterns = e.findPatterns(x, 3);
  assert.deepEqual(e.findPatterns(proxy(() => e.findPatterns(other, 2)), 3).map((p) => p.id), patterns.map((p) => p.id));
  // A trajectory started from a Proxy stores the proxied embedding (same state as from x itself).
  assertSameAsPlainStep(dim, x, x, (p) => {
    const id = p.startTrajectory(proxy(() => p.applyLora(other)));
    p.addStep(id, proxy(() => p.applyLora(other), '0'), Float32Array.of(0.5), 0.25);
    return id;
  });
  // free() from a trap: the named Error.
  const doomed = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 1 });
  doomed.applyLora(x);
  assert.throws(() => doomed.applyLora(proxy(() => doomed.free())), /freed/);
  e.free();
});

test('a Float32Array look-alike: read as a vector by every method taking one, refused as an output with the named Error', () => {
  // An object with Float32Array.prototype and its own length and elements passes `instanceof
  // Float32Array` but is no view. As an input every method converts it like an array (the fast
  // paths did, applyLoraLayer refused it before); written into, it would make
  // TypedArray.prototype.set throw a bare TypeError, so an output must be a genuine Float32Array.
  const dim = 8;
  const { e, r } = trainedEngine(dim, 31);
  const x = unit(r, dim);
  const like = (v) => Object.setPrototypeOf(Object.assign({ length: v.length }, Array.from(v)), Float32Array.prototype);
  assert.ok(like(x) instanceof Float32Array && !ArrayBuffer.isView(like(x)));
  assert.deepEqual(e.applyLora(like(x)), e.applyLora(x), 'applyLora');
  assert.deepEqual(e.applyLoraLayer(0, like(x)), e.applyLoraLayer(0, x), 'applyLoraLayer');
  assert.deepEqual(e.findPatterns(like(x), 2).map((p) => p.id), e.findPatterns(x, 2).map((p) => p.id), 'findPatterns');
  const out = new Float32Array(dim);
  e.applyLoraInto(like(x), out);
  assert.deepEqual(out, e.applyLora(x), 'applyLoraInto');
  const before = e.stats();
  const fake = like(new Float32Array(dim));
  assert.throws(() => e.applyLoraInto(x, fake), (err) => err.constructor === Error && /output must be a Float32Array, got an object/.test(err.message));
  assert.deepEqual(Array.from({ length: dim }, (_, i) => fake[i]), Array(dim).fill(0), 'the look-alike output is untouched');
  assert.deepEqual(e.stats(), before);
  // Trajectories from look-alikes hold the same state as from the arrays themselves.
  assertSameAsPlainStep(dim, x, x, (p) => {
    const id = p.startTrajectory(like(x));
    p.addStep(id, like(x), like(Float32Array.of(0.5)), 0.25);
    return id;
  });
  e.free();
});

test('a plain-array element whose getter calls the engine again: read as its number, nothing clobbered', () => {
  // Reading an array's elements runs user code (getters, proxy traps); before any staging view is touched (the staged
  // features were overwritten by the inner call before, so the outer call used the inner one's).
  const dim = 8;
  const { e, r } = trainedEngine(dim, 23);
  const x = unit(r, dim);
  const other = unit(r, dim);
  const expected = e.applyLora(x);
  const reentrant = (i, call) => Object.defineProperty(Array.from(x), i, { get: () => { call(); return x[i]; }, enumerable: true });
  for (const i of [0, 3, dim - 1]) {
    assert.deepEqual(e.applyLora(reentrant(i, () => e.applyLora(other))), expected, `applyLora, element ${i}`);
    const out = new Float32Array(dim);
    e.applyLoraInto(reentrant(i, () => e.applyLora(other)), out);
    assert.deepEqual(out, expected, `applyLoraInto, element ${i}`);
  }
  // A plain array converted inside another conversion gets memory of its own.
  assert.deepEqual(e.applyLora(reentrant(5, () => e.applyLora(Array.from(other)))), expected, 'nested plain array');
  const patterns = e.findPatterns(x, 3);
  const again = e.findPatterns(reentrant(2, () => e.findPatterns(other, 3)), 3);
  assert.deepEqual(again.map((p) => p.id), patterns.map((p) => p.id));
  assert.deepEqual(again.map((p) => p.similarity), patterns.map((p) => p.similarity));
  // addStep: an attention weight whose getter converts another plain array leaves the step as a
  // plain one would (same state as an engine fed Float32Arrays).
  assertSameAsPlainStep(dim, x, other, (p) => {
    const id = p.startTrajectory(x);
    p.addStep(id, Array.from(other), Object.defineProperty([0], 0, { get: () => { p.applyLora(Array.from(x)); return 0.5; } }), 0.25);
    return id;
  });
  // free() from inside the conversion: a named Error, not a write into released memory.
  const doomed = WasmSonaEngine.withConfig({ hidden_dim: dim, seed: 1 });
  doomed.applyLora(x);
  assert.throws(() => doomed.applyLora(reentrant(1, () => doomed.free())),
    (err) => err instanceof Error && !(err instanceof WebAssembly.RuntimeError));
  e.free();
});
