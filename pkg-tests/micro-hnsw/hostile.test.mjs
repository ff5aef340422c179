// Hostile inputs found by the seeded fuzzer (fuzz.mjs), each pinned by a deterministic test: the
// wrapper must name a value the wasm would silently ignore, and must stage exactly the values it
// checked.
import test from 'node:test';
import assert from 'node:assert/strict';
import { importWrapper } from './helpers.mjs';

const { init, MicroHnsw, MicroHnswCluster } = await importWrapper();
await init();

/** Everything above the 16 KiB stack except the insert/query staging buffers. */
function coreState(h) {
  const x = h.exports;
  const mem = new Uint8Array(x.memory.buffer).slice(16384);
  for (const p of [x.get_insert_ptr(), x.get_query_ptr()]) mem.fill(0, p - 16384, p - 16384 + 64);
  return mem;
}

function filled() {
  const h = new MicroHnsw({ dims: 2 });
  for (const v of [[0, 0], [1, 0], [0, 1], [3, 3]]) h.insert(v);
  h.setMembrane(1, 0.5);
  h.inject(2, 0.25);
  h.step(1);
  return h;
}

test('an f32 argument beyond the f32 range (finite as a double) is a named RangeError, state unchanged', () => {
  // The wasm receives 1e39 as the f32 +Infinity and ignores the call or answers 0 hits; these
  // calls used to return as if done (hnswToSnn and resonanceSearch returned []).
  const h = filled();
  const q = [0.5, 0.5];
  const calls = [
    ['gain', () => h.hnswToSnn(q, 2, 1e39)],
    ['phaseWeight', () => h.resonanceSearch(q, 2, -1e39)],
    ['v', () => h.setMembrane(0, 1e39)],
    ['threshold', () => h.setThreshold(0, -1e39)],
    ['current', () => h.inject(0, 3.5e38)],
    ['gain', () => h.propagate(1e39)],
    ['gain', () => h.tick(1, -1e39)],
    ['current', () => h.dendriteInject(0, 0, 1e300)],
    ['gain', () => h.dendritePropagate(1e39)],
  ];
  for (const [name, call] of calls) {
    const before = coreState(h);
    assert.throws(call, (err) => err instanceof RangeError && err.message.startsWith(`${name} must be a finite f32`), name);
    assert.deepEqual(coreState(h), before, `${name}: state changed`);
  }
  // The largest f32 is accepted and acts (saturating Q16.16): the membrane goes to its maximum.
  h.setMembrane(0, 3.4028234663852886e38);
  assert.ok(h.membrane(0) > 32767);
  assert.equal(h.hnswToSnn(q, 2, 3.4028234663852886e38).length, 2);
});

test('a dt that is positive as a double but 0 as an f32 is a named RangeError, not an ignored call', () => {
  const h = filled();
  const q = [0.5, 0.5];
  for (const [what, call] of [
    ['step', () => h.step(1e-50)],
    ['tick', () => h.tick(1e-46, 1)],
    ['homeostaticUpdate', () => h.homeostaticUpdate(1e-50)],
    ['oscillatorStep', () => h.oscillatorStep(1e-50)],
    // returned [] for a core holding 4 vectors
    ['neuromorphicSearch', () => h.neuromorphicSearch(q, 3, { dt: 1e-50 })],
  ]) {
    const before = coreState(h);
    assert.throws(call, (err) => err instanceof RangeError && /^dt must be in \(0, 1000\] ms/.test(err.message), what);
    assert.deepEqual(coreState(h), before, `${what}: state changed`);
  }
  // The smallest positive f32 is a valid (if tiny) dt.
  assert.equal(h.neuromorphicSearch(q, 3, { dt: 2 ** -149 }).length, 3);
  assert.equal(typeof h.step(2 ** -149), 'number');
});

/** An array-like whose getters show `first` for `reads` reads, then `later` (index and length). */
function shifty(first, reads, later) {
  let n = 0;
  const o = {};
  Object.defineProperty(o, 'length', { get: () => (n++ < reads ? first.length : first.length + 3) });
  for (let i = 0; i < first.length + 3; i++) Object.defineProperty(o, i, { get: () => (n++ < reads ? first[i] ?? 0 : later) });
  return o;
}

test('an object posing as an array is read once: the values checked are the values stored and searched', () => {
  // Before, the check read each component and the copy into wasm memory read it again: NaN on the
  // second read made insert throw "insert was rejected" and search return [] (nothing named), and
  // a length growing after the check made the copy throw "offset is out of bounds".
  const h = filled();
  const id = h.insert(shifty([7, -2], 3, NaN));
  assert.deepEqual(Array.from(h.vector(id)), [7, -2]);
  assert.equal(h.insert(shifty([5, 5], 3, 1e30)), id + 1);
  assert.deepEqual(Array.from(h.vector(id + 1)), [5, 5]);
  assert.deepEqual(h.search(shifty([7, -2], 3, NaN), 1), [{ id, distance: 0 }]);
  assert.deepEqual(h.search(shifty([0, 1], 3, '7'), 1), [{ id: 2, distance: 0 }]);
  // A cluster stages its query once for every core: each core searches the same query.
  const c = new MicroHnswCluster({ dims: 2, cores: 3 });
  for (const v of [[0, 0], [1, 0], [0, 1], [2, 2], [9, 9], [4, 4]]) c.insert(v);
  // Query [2, 2]: id 1 (core 0) at 0, then [1, 0] (core 1, id 32) and [0, 1] (core 2, id 64) tie at 5.
  assert.deepEqual(c.search(shifty([2, 2], 3, -100), 2), [{ id: 1, distance: 0 }, { id: 32, distance: 5 }]);
});

test('a Proxy posing as a Float32Array is converted like an array-like: read once, the values checked are used', () => {
  // It passes instanceof Float32Array; it was checked through its traps, then copied by
  // TypedArray.prototype.set through them again: NaN on the fourth read gave search [] and insert
  // "insert was rejected".
  const h = new MicroHnsw({ dims: 2 });
  h.insert([0, 0]);
  h.insert([1, 1]);
  const proxy = () => {
    let reads = 0;
    return new Proxy(new Float32Array([1, 1]), { get: (t, k) => (k === '0' && reads++ > 1 ? NaN : Reflect.get(t, k)) });
  };
  assert.ok(proxy() instanceof Float32Array);
  assert.deepEqual(h.search(proxy(), 1), [{ id: 1, distance: 0 }]);
  assert.equal(h.insert(proxy()), 2);
  assert.deepEqual(Array.from(h.vector(2)), [1, 1]);
  // With no get trap, reading `length` reaches the typed array's own getter, which refuses the proxy
  // as its receiver: a TypeError that names the argument (it was the engine's bare message).
  for (const [call, name] of [[(p) => h.search(p, 1), 'query'], [(p) => h.insert(p), 'vector']]) {
    assert.throws(() => call(new Proxy(new Float32Array(2), {})),
      (e) => e instanceof TypeError && new RegExp(`^${name} must be a Float32Array or an array of numbers \\(reading its length threw: `).test(e.message), name);
  }
  // What a trap of the caller's throws goes on as thrown.
  const mine = new Error('trap');
  assert.throws(() => h.search(new Proxy(new Float32Array(2), { get() { throw mine; } }), 1), (e) => e === mine);
  assert.equal(h.size, 3, 'nothing inserted');
});

test('a vector getter calling back into the wrapper: the nested conversion does not overwrite the outer one', () => {
  const h = new MicroHnsw({ dims: 3 });
  const outer = {
    length: 3,
    0: 1,
    get 1() { h.insert([4, 5, 6]); return 2; }, // converted while the outer conversion is running
    2: 3,
  };
  assert.equal(h.insert(outer), 1);
  assert.deepEqual(Array.from(h.vector(0)), [4, 5, 6]);
  assert.deepEqual(Array.from(h.vector(1)), [1, 2, 3]);
  const found = h.search({ length: 3, 0: 1, get 1() { h.search([4, 5, 6], 1); return 2; }, 2: 3 }, 1);
  assert.deepEqual(found, [{ id: 1, distance: 0 }]);
});

test('raw ABI: an integer parameter is taken modulo its range (README), for every export that compared the whole i32', async () => {
  // Wasm passes a u8 as an i32; these exports compared or stored all 32 bits, so a caller's 257
  // was rejected (or answered 0) where the README promises it acts as 1.
  const { rawCore, wasmBytes } = await import('./helpers.mjs');
  const module = new WebAssembly.Module(wasmBytes());
  const x = rawCore(module);
  x.init(2, 0, 0);
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const v of [[0, 0], [1, 0], [0, 1]]) { ins.set(v); x.insert(); }
  x.snn_set_membrane(1, 0.75);
  assert.equal(x.snn_get_membrane(1 + 256), 0.75);
  assert.equal(x.snn_get_membrane(1 - 256), 0.75);
  x.snn_set_membrane(1, 5); // spikes at the next step; homeostasis turns that into a rate
  x.snn_step(1);
  x.homeostatic_update(1);
  const rate = x.get_spike_rate(1);
  assert.ok(rate > 0);
  assert.equal(x.get_spike_rate(1 + 65536), rate);
  assert.equal(x.get_spike_rate(-255), rate);
  x.set_node_type(0, 3 + 256);
  assert.equal(x.get_node_type(0), 3);
  x.set_node_type(0, 16 + 256); // 16: not a type, ignored
  assert.equal(x.get_node_type(0), 3);
  new Float32Array(x.memory.buffer, x.get_query_ptr(), 16).set([0, 0]);
  assert.equal(x.search(2), 2);
  assert.equal(x.merge(x.get_result_ptr(), 2 + 65536), 2);
  assert.equal(x.merge(x.get_result_ptr(), 17 + 256), 0); // 17 records: rejected
  x.init(4, 1 + 256, 9);
  assert.deepEqual([x.get_dims(), x.get_metric(), x.get_core_id(), x.count()], [4, 1, 9, 0]);
});
