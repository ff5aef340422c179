// The FastGRNN router through the built package ('sona-wasm/router', its own wasm module): train on a
// planted rule, route, compare with a plain-JS forward pass, quantise, prune, save/load, bad input.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, { FastGrnnRouter, RouterTrainer } from 'sona-wasm/router';
import * as routerModule from 'sona-wasm/router';
import { forward, routeOf, rng, unpack, xorRows } from './reference.mjs';

const TRAIN = { hidden_dim: 16, learning_rate: 0.02, epochs: 300, early_stopping_patience: 30, lr_decay: 0.7, lr_decay_step: 60, seed: 5 };

function trainXor() {
  const rand = rng(3);
  const t = new RouterTrainer(TRAIN);
  for (const { x, y } of xorRows(rand, 1500)) t.addSample(x, y);
  const metrics = t.train();
  return { t, metrics, model: t.model(), test: xorRows(rand, 1000) };
}

const accuracy = (model, rows) => rows.filter(({ x, y }) => model.route(x).route === y).length / rows.length;

test('the router is its own module: init is idempotent and the SONA engine is not in it', async () => {
  const exports = await init();
  assert.ok(exports.memory instanceof WebAssembly.Memory);
  assert.equal(await init(), exports);
  assert.equal(routerModule.WasmSonaEngine, undefined);
  const wasm = readFileSync(new URL('../../pkg/router_wasm_bg.wasm', import.meta.url));
  const names = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
  assert.ok(names.includes('fastgrnnrouter_route'));
  assert.ok(!names.some((n) => n.startsWith('wasmsonaengine')), 'no SONA exports in the router module');
});

test('trains on an XOR-like rule to >= 95 % and matches a plain-JS forward pass', () => {
  const { t, metrics, model, test: rows } = trainXor();
  assert.equal(t.sampleCount, 1500);
  assert.ok(metrics.val_accuracy >= 0.95, `val accuracy ${metrics.val_accuracy}`);
  assert.equal(metrics.train_loss.length, metrics.epochs);
  assert.equal(metrics.val_loss.length, metrics.epochs);
  assert.ok(metrics.train_loss.at(-1) < metrics.train_loss[0]);
  assert.equal(metrics.val_loss[metrics.best_epoch], Math.min(...metrics.val_loss));
  assert.equal(typeof metrics.stopped_early, 'boolean');
  assert.deepEqual([metrics.train_samples, metrics.val_samples], [1200, 300]);
  assert.ok(accuracy(model, rows) >= 0.95);

  const ref = unpack(model);
  for (const { x } of rows.slice(0, 200)) {
    const r = model.route(x);
    const expected = forward(ref, x);
    assert.ok(Math.abs(r.scores[0] - expected[0]) < 1e-5, `${r.scores[0]} vs ${expected[0]}`);
    assert.equal(r.probability, r.scores[0]);
    assert.equal(r.route, routeOf(expected));
    assert.ok(Math.abs(r.confidence - Math.max(expected[0], 1 - expected[0])) < 1e-5);
  }
});

test('quantize, prune and bytes: 98 % agreement, identical decisions after a round trip', () => {
  const { model, test: rows } = trainXor();
  const floatBytes = model.toBytes();
  assert.equal(floatBytes.length, model.sizeBytes);
  const q = FastGrnnRouter.fromBytes(floatBytes);
  q.quantize();
  assert.ok(q.isQuantized && !model.isQuantized);
  assert.ok(q.sizeBytes * 2 < model.sizeBytes, `${q.sizeBytes} vs ${model.sizeBytes}`);
  const agree = rows.filter(({ x }) => q.route(x).route === model.route(x).route).length / rows.length;
  assert.ok(agree >= 0.98, `agreement ${agree}`);

  const p = FastGrnnRouter.fromBytes(floatBytes);
  p.prune(0.5);
  assert.ok(p.sparsity >= 0.5 - 1e-6 && model.sparsity < 0.1, `sparsity ${p.sparsity}`);
  assert.ok(accuracy(p, rows) >= accuracy(model, rows) - 0.05);

  for (const m of [model, q, p]) {
    const back = FastGrnnRouter.fromBytes(m.toBytes());
    assert.deepEqual(back.toBytes(), m.toBytes());
    for (const { x } of rows.slice(0, 100)) assert.deepEqual(back.route(x), m.route(x));
  }
});

test('softmax routes, sequences and the zero-copy routeInto', () => {
  const rand = rng(8);
  const t = new RouterTrainer({ input_dim: 4, hidden_dim: 12, output_dim: 3, learning_rate: 0.02, epochs: 150, seed: 3 });
  const label = (x) => [0, 1, 2].reduce((b, i) => (x[i] > x[b] ? i : b), 0);
  for (let i = 0; i < 1200; i++) {
    const x = Array.from({ length: 4 }, rand); // plain arrays are accepted too
    t.addSample(x, label(x));
  }
  const m = t.train();
  assert.ok(m.val_accuracy >= 0.9, `3-route accuracy ${m.val_accuracy}`);
  const model = t.model();
  const ref = unpack(model);
  const scores = new Float32Array(3);
  for (let i = 0; i < 50; i++) {
    const seq = Float32Array.from({ length: 8 }, rand); // two steps
    const r = model.route(seq);
    assert.equal(r.probability, undefined);
    const expected = forward(ref, seq);
    expected.forEach((v, j) => assert.ok(Math.abs(r.scores[j] - v) < 1e-5));
    assert.equal(model.routeInto(seq, scores), r.route);
    assert.deepEqual(scores, r.scores);
  }
  assert.throws(() => model.routeInto(new Float32Array(4), new Float32Array(2)), /scores has length 2, expected 3/);
});

test('distillation: with alpha 1 the student follows teacher probabilities, not coin-flip labels', () => {
  const rand = rng(12);
  const t = new RouterTrainer({ learning_rate: 0.02, epochs: 80, distillation_alpha: 1, distillation_temperature: 2, seed: 8 });
  for (let i = 0; i < 800; i++) {
    const x = Float32Array.from({ length: 5 }, rand);
    const teacher = x[0] + x[1] > 0 ? 0.05 : 0.95; // the teacher knows the opposite rule
    t.addSample(x, rand() < 0 ? 0 : 1, i % 2 ? teacher : [teacher]);
  }
  t.train();
  const model = t.model();
  const rows = Array.from({ length: 500 }, () => Float32Array.from({ length: 5 }, rand));
  const follows = rows.filter((x) => model.route(x).route === (x[0] + x[1] > 0 ? 0 : 1)).length / rows.length;
  assert.ok(follows >= 0.95, `follows the teacher on ${follows}`);
});

test('bad input throws an Error naming the problem and changes nothing', () => {
  const model = new FastGrnnRouter({ hidden_dim: 8 }, 7);
  const x = Float32Array.of(0.1, -0.2, 0.3, 0.4, -0.5);
  const before = model.route(x);
  const bytes = model.toBytes();
  assert.throws(() => model.route(new Float32Array(4)), /features have length 4, expected a positive multiple of input_dim 5/);
  assert.throws(() => model.route(Float32Array.of(0, 0, NaN, 0, 0)), /features contains a non-finite value at index 2/);
  assert.throws(() => model.prune(1), /sparsity is 1, expected in \[0, 1\)/);
  assert.throws(() => model.setNormalization(new Float32Array(5), Float32Array.of(1, 1, 0, 1, 1)), /std entry is 0/);
  assert.deepEqual(model.route(x), before);
  assert.deepEqual(model.toBytes(), bytes);

  assert.throws(() => FastGrnnRouter.fromBytes(new Uint8Array(5)), /not a valid router model: shorter than the 20-byte header/);
  const wrongMagic = bytes.slice(); wrongMagic[0] ^= 1;
  assert.throws(() => FastGrnnRouter.fromBytes(wrongMagic), /bad magic/);
  const flipped = bytes.slice(); flipped[40] ^= 0x10;
  assert.throws(() => FastGrnnRouter.fromBytes(flipped), /checksum/);
  assert.throws(() => FastGrnnRouter.fromBytes(bytes.subarray(0, bytes.length - 3)), /payload length/);

  assert.throws(() => new FastGrnnRouter({ hidden_dim: 0 }), /invalid router config: hidden_dim/);
  assert.throws(() => new FastGrnnRouter({ rank: 99 }), /rank/);
  assert.throws(() => new FastGrnnRouter({ hidden: 8 }), /unknown config field "hidden"/);
  assert.throws(() => new FastGrnnRouter({}, -1), /seed must be an integer/);
  assert.throws(() => new RouterTrainer({ learning_rate: 0 }), /learning_rate must be in \(0, 1\]/);
  assert.throws(() => new RouterTrainer({ epochs: 'ten' }), /config field epochs must be a number/);
  assert.throws(() => new RouterTrainer({ seed: 1.5 }), /config field seed must be an integer/);

  const t = new RouterTrainer({ output_dim: 3 });
  assert.throws(() => t.model(), /no trained model yet/);
  assert.throws(() => t.addSample(new Float32Array(5), 3), /label is 3, expected an integer route index below output_dim/);
  assert.throws(() => t.addSample(new Float32Array(5), 1, [0.5, 0.5]), /teacher probabilities has length 2, expected 3/);
  assert.throws(() => t.addSample(new Float32Array(5), 1, 'high'), /teacher probabilities must be/);
  assert.throws(() => t.addSample([1, 2, 'x', 4, 5], 1), /^Error: features\[2\] must be a number, got a string \("x"\)$/);
  assert.throws(() => t.addSample([1, 2, NaN, 4, 5], 1), /non-finite value at index 2/);
  assert.equal(t.sampleCount, 0);
  t.addSample(new Float32Array(5), 1, [0.2, 0.5, 0.3]);
  assert.throws(() => t.train(), /not enough samples/);
  assert.throws(() => t.model(), /no trained model yet/);
  assert.equal(t.sampleCount, 1);
});

test('route/routeInto fast paths (router_fast.js) answer exactly as the wasm-bindgen methods they replace', async () => {
  const { routerBindgenMethodsOf } = await import(new URL('../../pkg/router_fast.js', import.meta.url).href);
  const bindgen = routerBindgenMethodsOf(FastGrnnRouter);
  assert.equal(typeof bindgen.route, 'function');
  const rand = rng(41);
  const single = new FastGrnnRouter({ input_dim: 5, hidden_dim: 8, rank: 4 }, 3);
  const multi = new FastGrnnRouter({ input_dim: 4, hidden_dim: 12, output_dim: 3 }, 4);
  const quantized = new FastGrnnRouter({ input_dim: 5, hidden_dim: 16 }, 5);
  quantized.quantize();
  for (const model of [single, multi, quantized]) {
    const dim = model.config().input_dim;
    const outputs = model.config().output_dim;
    const scores = new Float32Array(outputs).fill(9);
    const viaBindgen = new Float32Array(outputs);
    // 1, 3, 1 and 7 steps: the staging area grows and is reused; plain arrays too.
    for (const steps of [1, 3, 1, 7, 2]) {
      for (let i = 0; i < 10; i++) {
        const x = Float32Array.from({ length: steps * dim }, () => 3 * rand());
        const fast = model.route(i % 2 ? x : Array.from(x));
        const slow = bindgen.route.call(model, x);
        assert.deepEqual(Object.keys(fast), Object.keys(slow), 'same fields, same order');
        assert.deepEqual(fast, slow);
        assert.ok(fast.scores instanceof Float32Array && fast.scores.length === outputs);
        assert.equal(model.routeInto(x, scores), bindgen.routeInto.call(model, x, viaBindgen));
        assert.deepEqual(scores, viaBindgen);
        assert.deepEqual(scores, fast.scores);
      }
    }
    // Results own their scores: a later call does not change an earlier result.
    const first = model.route(new Float32Array(dim).fill(1));
    const kept = first.scores.slice();
    model.route(new Float32Array(dim).fill(-1));
    assert.deepEqual(first.scores, kept);
  }
  // Wasm memory growth detaches the cached views: the next calls refresh them.
  const before = single.route(Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5));
  const grow = new FastGrnnRouter({ input_dim: 64, hidden_dim: 64 }, 1);
  grow.route(new Float32Array(64 * 200));
  assert.deepEqual(single.route(Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5)), before);
  const into = new Float32Array(1);
  assert.equal(single.routeInto(Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5), into), before.route);
  assert.equal(into[0], before.scores[0]);
  // Bad input through the fast path: the named errors, and nothing written into scores.
  const out = new Float32Array(3).fill(7);
  for (const [call, pattern] of [
    [() => single.route(new Float32Array(0)), /features have length 0/],
    [() => single.route([0, 0, 0, 0]), /features have length 4/],
    [() => single.route([0, 0, NaN, 0, 0]), /non-finite value at index 2/],
    [() => multi.routeInto(new Float32Array(4), new Float32Array(2)), /scores has length 2, expected 3/],
    [() => multi.routeInto(Float32Array.of(0, Infinity, 0, 0), out), /non-finite value at index 1/],
    [() => multi.routeInto(new Float32Array(4), [0, 0, 0]), /scores must be a Float32Array/],
    [() => single.route('abcde'), /features must be a Float32Array or an array of numbers/],
  ]) assert.throws(call, (err) => err instanceof Error && pattern.test(err.message));
  assert.deepEqual(out, new Float32Array(3).fill(7));
  for (const m of [single, multi, quantized, grow]) m.free();
  assert.throws(() => single.route(new Float32Array(5)), /freed/);
  assert.throws(() => multi.routeInto(new Float32Array(4), out), /freed/);
});

test('route/routeInto fast paths: a Proxy posing as a Float32Array whose traps re-enter the router', () => {
  // It passes `instanceof Float32Array` but is no typed array: copying it runs its traps, which
  // used to run while the features were being written into the staging area.
  const router = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  const other = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7); // same weights
  const features = Float32Array.of(0.75, -1.5, 0.25, 2);
  const expected = other.route(features);
  const proxy = (call) => new Proxy(features, {
    get(target, key) {
      if (key === '1') call();
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  for (const steps of [1, 400, 4000]) {
    const grow = () => router.route(new Float32Array(2 * steps).fill(-0.5));
    assert.deepEqual(router.route(proxy(grow)), expected, `route, re-entrant with ${steps} steps`);
    const into = new Float32Array(1);
    assert.equal(router.routeInto(proxy(grow), into), expected.route);
    assert.deepEqual(into, other.route(features).scores);
  }
  const doomed = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  assert.throws(() => doomed.route(proxy(() => doomed.free())), /freed/);
  router.free();
  other.free();
});

test('a Float32Array look-alike: routed like an array, refused as routeInto scores with the named Error', () => {
  // Float32Array.prototype without being a view: readable element by element, not writable by
  // TypedArray.prototype.set (a bare TypeError before).
  const router = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  const features = Float32Array.of(0.75, -1.5, 0.25, 2);
  const like = (v) => Object.setPrototypeOf(Object.assign({ length: v.length }, Array.from(v)), Float32Array.prototype);
  assert.deepEqual(router.route(like(features)), router.route(features));
  const scores = like(new Float32Array(1));
  assert.throws(() => router.routeInto(features, scores), (err) => err.constructor === Error && /scores must be a Float32Array, got an object/.test(err.message));
  assert.equal(scores[0], 0);
  router.setNormalization(like(Float32Array.of(0.5, 0.5)), like(Float32Array.of(2, 2)));
  const plain = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  plain.setNormalization(Float32Array.of(0.5, 0.5), Float32Array.of(2, 2));
  assert.deepEqual(router.route(features), plain.route(features), 'setNormalization read the look-alikes');
  router.free();
  plain.free();
});

/** `values` as a plain array whose element `i` is a getter running `get` (user code run by reading it). */
const withGetter = (values, i, get) => Object.defineProperty([...values], i, { get, enumerable: true });

test('route/routeInto fast paths: an array element whose getter re-enters the router reads as its number', () => {
  // Reading a plain array's elements runs user code (getters, proxy traps). A re-entrant route() with a longer
  // sequence regrows the staging area, and free() releases it: the outer call must not write its
  // features through a view of the released allocation (it routed stale features before).
  const router = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  const other = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7); // same weights
  const values = [0.75, -1.5];
  const expected = other.route(Float32Array.from(values));
  const expectedInto = new Float32Array(1);
  assert.equal(other.routeInto(Float32Array.from(values), expectedInto), expected.route);
  for (const steps of [40, 400, 4000]) {
    let inner;
    const reentrant = withGetter(values, 1, () => { inner = router.route(new Float32Array(2 * steps).fill(0.25)); return values[1]; });
    assert.deepEqual(router.route(reentrant), expected, `re-entrant route with ${steps} steps`);
    assert.ok(inner.scores.length === 1);
    const into = new Float32Array(1);
    const reentrantInto = withGetter(values, 1, () => { router.route(new Float32Array(2 * steps + 2)); return values[1]; });
    assert.equal(router.routeInto(reentrantInto, into), expected.route);
    assert.deepEqual(into, expectedInto);
  }
  // Elements are numbers, not converted as wasm-bindgen's copy would ('0.75' → 0.75, true → 1,
  // null → 0), and an object is not asked for its valueOf: each is refused by index.
  let asked = false;
  for (const [bad, got] of [['0.75', /a string \("0.75"\)/], [true, /boolean true/], [null, /null/], [undefined, /undefined/],
    [{ valueOf: () => { asked = true; return 1; } }, /an object/]]) {
    for (const call of [(f) => router.route(f), (f) => router.routeInto(f, new Float32Array(1))]) {
      assert.throws(() => call([0.75, bad]), (err) => err instanceof Error && new RegExp(`^features\\[1\\] must be a number, got ${got.source}`).test(err.message));
    }
  }
  assert.equal(asked, false, 'valueOf never called');
  assert.deepEqual(router.route(values), expected, 'unchanged');
  // free() from inside the conversion: the named error, not a write into released memory.
  const doomed = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  doomed.route(Float32Array.from(values));
  const freeing = withGetter([0, 0], 1, () => { doomed.free(); return 0; });
  assert.throws(() => doomed.route(freeing), (err) => err instanceof Error && /freed|null pointer/.test(err.message));
  router.free();
  other.free();
});

test('route: features too long for wasm memory throw a named Error and leave the router usable', () => {
  // 2^29 floats = 2 GiB (a lazily zeroed buffer: nothing is touched). Growing the staging area
  // trapped before, with the router still borrowed: every later call threw "recursive use of an
  // object detected".
  const router = new FastGrnnRouter({ input_dim: 2, hidden_dim: 8 }, 7);
  const x = Float32Array.of(0.5, -1);
  const expected = router.route(x);
  const huge = new Float32Array(2 ** 29);
  assert.throws(() => router.route(huge), (err) => err instanceof Error && /^features have length 536870912: more than wasm memory can hold/.test(err.message));
  assert.throws(() => router.routeInto(huge, new Float32Array(1)), (err) => err instanceof Error && /more than wasm memory can hold/.test(err.message));
  assert.deepEqual(router.route(x), expected);
  router.free();
});
