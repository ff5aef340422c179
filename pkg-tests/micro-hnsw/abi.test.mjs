// The raw C ABI of the built pkg/micro_hnsw.wasm: the 58 exports (+ 4 documented extras) and their wasm signatures, size and
// memory budget, SIMD128 in the shipped binary, exact search against a JS brute force, multi-core
// merge, sentinels with unchanged state, and every export driven with hostile arguments (a trap fails).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bruteForce, randomVectors, rawCore, readRecords, refDistance, rng, wasmBytes, wasmUrl } from './helpers.mjs';

const bytes = wasmBytes();
const module = new WebAssembly.Module(bytes);

// name: [params, results] in wasm value types (u8/u16/u32/pointers are i32).
const SIGNATURES = {
  init: ['iii', ''], get_insert_ptr: ['', 'i'], get_query_ptr: ['', 'i'], get_result_ptr: ['', 'i'],
  get_global_ptr: ['', 'i'], insert: ['', 'i'], search: ['i', 'i'], merge: ['ii', 'i'], clear_global: ['', ''],
  count: ['', 'i'], get_core_id: ['', 'i'], get_metric: ['', 'i'], get_dims: ['', 'i'], get_capacity: ['', 'i'],
  set_node_type: ['ii', ''], get_node_type: ['i', 'i'], type_matches: ['ii', 'i'], set_edge_weight: ['ii', ''],
  get_edge_weight: ['i', 'i'], aggregate_neighbors: ['i', ''], get_delta_ptr: ['', 'i'], set_delta_ptr: ['', 'i'],
  update_vector: ['if', ''], hnsw_to_snn: ['if', 'i'], snn_reset: ['', ''], snn_set_membrane: ['if', ''],
  snn_get_membrane: ['i', 'f'], snn_set_threshold: ['if', ''], snn_inject: ['if', ''], snn_spiked: ['i', 'i'],
  snn_get_spikes: ['', 'i'], snn_step: ['f', 'i'], snn_propagate: ['f', ''], snn_stdp: ['', ''],
  snn_tick: ['ffi', 'i'], snn_get_time: ['', 'f'], encode_vector_to_spikes: ['i', 'i'],
  spike_timing_similarity: ['ii', 'f'], spike_search: ['ii', 'i'], homeostatic_update: ['f', ''],
  get_spike_rate: ['i', 'f'], oscillator_step: ['f', ''], oscillator_get_phase: ['', 'f'],
  compute_resonance: ['i', 'f'], resonance_search: ['if', 'i'], wta_reset: ['', ''], wta_compete: ['', 'i'],
  wta_soft: ['', ''], dendrite_reset: ['', ''], dendrite_inject: ['iif', ''], dendrite_integrate: ['i', 'f'],
  dendrite_propagate: ['f', ''], pattern_record: ['', ''], get_pattern: ['i', 'i'], pattern_match: ['i', 'i'],
  pattern_correlate: ['ii', 'i'], neuromorphic_search: ['ifi', 'i'], get_network_activity: ['', 'f'],
};

// Documented extras beyond micro-hnsw-wasm 2.3 (micro-hnsw/src/abi.rs): a bounded search and read-only views.
const EXTRAS = { search_within: ['if', 'i'], get_vectors_ptr: ['', 'i'], snn_get_threshold_ptr: ['', 'i'], snn_get_synapse_ptr: ['', 'i'] };
const ALL_SIGNATURES = { ...SIGNATURES, ...EXTRAS };

/** Export name → {params, results} from the binary's type, import, function and export sections. */
function exportSignatures(buf) {
  let p = 8;
  const leb = () => { let n = 0, s = 0, b; do { b = buf[p++]; n |= (b & 127) << s; s += 7; } while (b & 128); return n >>> 0; };
  const name = () => { const n = leb(); const s = buf.subarray(p, p + n).toString(); p += n; return s; };
  const code = { 0x7f: 'i', 0x7e: 'I', 0x7d: 'f', 0x7c: 'F', 0x7b: 'v' };
  const types = []; const funcs = []; const exports = {};
  let imported = 0;
  while (p < buf.length) {
    const id = buf[p++]; const size = leb(); const end = p + size;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        p++; // 0x60
        const params = Array.from({ length: leb() }, () => code[buf[p++]]).join('');
        const results = Array.from({ length: leb() }, () => code[buf[p++]]).join('');
        types.push([params, results]);
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) { name(); name(); const kind = buf[p++]; if (kind === 0) { leb(); imported++; } else p = end; }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcs.push(leb());
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) { const nm = name(); const kind = buf[p++]; const idx = leb(); if (kind === 0) exports[nm] = types[funcs[idx - imported]]; }
    }
    p = end;
  }
  return exports;
}

test('exports exactly the 58 functions of micro-hnsw-wasm 2.3 with their signatures, the 4 documented extras, plus memory and nothing else; no imports', () => {
  assert.equal(Object.keys(SIGNATURES).length, 58);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const sigs = exportSignatures(bytes);
  assert.deepEqual(Object.keys(sigs).sort(), Object.keys(ALL_SIGNATURES).sort());
  for (const [name, sig] of Object.entries(ALL_SIGNATURES)) assert.deepEqual(sigs[name], sig, name);
  // Nothing else: no linker globals (__data_end, __heap_base; build.mjs drops them), no table.
  const others = WebAssembly.Module.exports(module).filter((e) => e.kind !== 'function');
  assert.deepEqual(others, [{ name: 'memory', kind: 'memory' }]);
});

test('size budget: at most 12,288 bytes after wasm-opt -Oz', () => {
  console.log(`micro_hnsw.wasm: ${bytes.length} bytes (budget 12,288, target 10,240)`);
  assert.ok(bytes.length <= 12288, `${bytes.length} bytes`);
});

test('one instance costs one 64 KiB page of memory (the stack is sized to need)', () => {
  const x = rawCore(module);
  assert.equal(x.memory.buffer.byteLength, 65536);
});

test('the shipped binary computes with SIMD128 (f32x4 arithmetic on v128 loads)', () => {
  const wasmDis = fileURLToPath(new URL('../../node_modules/.bin/wasm-dis', import.meta.url));
  const text = execFileSync(wasmDis, [fileURLToPath(wasmUrl)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const op of ['v128.load', 'f32x4.mul', 'f32x4.add', 'f32x4.sub']) {
    assert.ok(text.includes(op), `${op} missing`);
  }
  // Each metric's scan loop is SIMD, not just some code: the innermost loops must include the L2
  // scan (per dimension, four f32x4 differences, squares and sums: sixteen vectors) and the
  // inner-product scan that cosine and dot share (four f32x4 products and sums, no difference). A
  // build whose cosine/dot branch fell back to scalar code had the ops above (from the L2 loop) and
  // passed the check above alone.
  const innermost = [];
  for (let i = text.indexOf('(loop'); i >= 0; i = text.indexOf('(loop', i + 1)) {
    let depth = 0, j = i;
    for (; j < text.length; j++) { if (text[j] === '(') depth++; else if (text[j] === ')' && --depth === 0) break; }
    const body = text.slice(i, j + 1);
    if (body.indexOf('(loop', 1) >= 0) continue;
    const count = (op) => body.split(op).length - 1;
    innermost.push({ sub: count('f32x4.sub'), mul: count('f32x4.mul'), add: count('f32x4.add') });
  }
  assert.ok(innermost.some((l) => l.sub >= 4 && l.mul >= 4 && l.add >= 4), `no SIMD L2 scan loop: ${JSON.stringify(innermost.filter((l) => l.mul))}`);
  assert.ok(innermost.some((l) => l.sub === 0 && l.mul >= 4 && l.add >= 4), `no SIMD inner-product scan loop (cosine, dot): ${JSON.stringify(innermost.filter((l) => l.mul))}`);
});

function fill(x, vectors) {
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const v of vectors) { ins.fill(0); ins.set(v); assert.notEqual(x.insert(), 255); }
}

function searchIds(x, query, k) {
  const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
  q.fill(0); q.set(query);
  const n = x.search(k);
  return readRecords(x.memory, x.get_result_ptr(), n);
}

test('recall@k ≥ 0.99 (in fact exact) for L2, cosine and dot, 1,000 queries, every k ≤ 16', () => {
  for (const metric of [0, 1, 2]) {
    const rand = rng(100 + metric);
    const x = rawCore(module);
    x.init(16, metric, 3);
    const vectors = randomVectors(rand, 32, 16);
    fill(x, vectors);
    let hits = 0, total = 0;
    for (let q = 0; q < 1000; q++) {
      const query = Float32Array.from({ length: 16 }, rand);
      for (let k = 1; k <= 16; k++) {
        const got = searchIds(x, query, k);
        assert.equal(got.length, k);
        const want = bruteForce(metric, vectors, query, k);
        const wantIds = new Set(want.map((w) => w.id));
        for (const r of got) if (wantIds.has(r.idx)) hits++;
        total += k;
        for (let i = 0; i < k; i++) {
          assert.equal(got[i].core, 3);
          if (i > 0) assert.ok(got[i].distance >= got[i - 1].distance, 'sorted');
          const exact = refDistance(metric, query, vectors[got[i].idx]);
          assert.ok(Math.abs(got[i].distance - exact) <= 1e-5 * (1 + Math.abs(exact)), `distance ${got[i].distance} vs ${exact}`);
        }
      }
    }
    const recall = hits / total;
    console.log(`metric ${['l2', 'cosine', 'dot'][metric]}: recall over k = 1..16 = ${recall.toFixed(5)}`);
    assert.ok(recall >= 0.99, `recall ${recall}`);
  }
});

test('search returns min(k, count) results and empty records after them', () => {
  const x = rawCore(module);
  x.init(3, 0, 9);
  fill(x, [[0, 0, 0], [1, 0, 0], [3, 0, 0]]);
  assert.equal(x.search(16), 3);
  const r = readRecords(x.memory, x.get_result_ptr(), 16);
  assert.deepEqual(r.slice(0, 3).map((e) => [e.idx, e.distance]), [[0, 0], [1, 1], [2, 9]]);
  for (const e of r.slice(3)) { assert.equal(e.idx, 255); assert.equal(e.distance, Infinity); }
});

test('merge keeps the 16 best over several cores and clear_global empties it', () => {
  const rand = rng(5);
  const cores = [0, 1, 2, 3].map((id) => { const x = rawCore(module); x.init(8, 0, id); return x; });
  const all = [];
  for (const x of cores) { const vs = randomVectors(rand, 32, 8); fill(x, vs); all.push(...vs.map((v, i) => ({ v, id: x.get_core_id() * 32 + i }))); }
  const query = Float32Array.from({ length: 8 }, rand);
  const head = cores[0];
  head.clear_global();
  const scratch = head.get_result_ptr();
  for (const x of cores) {
    const got = searchIds(x, query, 16);
    if (x !== head) new Uint8Array(head.memory.buffer).set(new Uint8Array(x.memory.buffer, x.get_result_ptr(), got.length * 8), scratch);
    head.merge(scratch, got.length);
  }
  const merged = readRecords(head.memory, head.get_global_ptr(), 16).map((r) => r.core * 32 + r.idx);
  const want = all.map((e) => ({ id: e.id, d: refDistance(0, query, e.v) })).sort((a, b) => a.d - b.d).slice(0, 16).map((e) => e.id);
  assert.deepEqual(merged, want);
  head.clear_global();
  assert.ok(readRecords(head.memory, head.get_global_ptr(), 16).every((r) => r.idx === 255));
});

test('bad input returns the sentinel and leaves the state unchanged', () => {
  const x = rawCore(module);
  // Before init: 16 dims, L2, core 0.
  assert.equal(x.get_dims(), 16); assert.equal(x.get_metric(), 0); assert.equal(x.count(), 0);
  x.init(4, 1, 7);
  for (const [d, m] of [[0, 0], [17, 0], [4, 3], [4, 255]]) {
    x.init(d, m, 1);
    assert.deepEqual([x.get_dims(), x.get_metric(), x.get_core_id()], [4, 1, 7], `init(${d}, ${m}) ignored`);
  }
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const bad of [NaN, Infinity, -Infinity]) {
    ins.set([1, 2, bad, 4]);
    assert.equal(x.insert(), 255); assert.equal(x.count(), 0);
  }
  ins.set([1, 2, 3, 4, NaN]); // beyond dims: not read
  assert.equal(x.insert(), 0);
  const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
  q.set([1, 2, 3, 4]);
  assert.equal(x.search(1), 1);
  const before = readRecords(x.memory, x.get_result_ptr(), 16);
  for (const k of [0, 17, 255]) assert.equal(x.search(k), 0);
  q[1] = NaN; assert.equal(x.search(1), 0);
  assert.equal(x.neuromorphic_search(1, 1, 5), 0);
  assert.equal(x.resonance_search(1, 0.5), 0);
  q[1] = 2;
  assert.equal(x.neuromorphic_search(1, NaN, 5), 0);
  assert.equal(x.neuromorphic_search(1, 0, 5), 0);
  assert.equal(x.neuromorphic_search(1, 1001, 5), 0);
  assert.equal(x.resonance_search(1, Infinity), 0);
  assert.equal(x.hnsw_to_snn(1, NaN), 0);
  assert.deepEqual(readRecords(x.memory, x.get_result_ptr(), 16), before);
  // idx ≥ count
  assert.equal(x.get_node_type(1), 255); assert.equal(x.type_matches(1, 0xffff), 0);
  x.set_node_type(0, 16); assert.equal(x.get_node_type(0), 0);
  x.set_node_type(0, 9); assert.equal(x.get_node_type(0), 9);
  assert.equal(x.type_matches(0, 1 << 9), 1); assert.equal(x.type_matches(0, 1 << 8), 0);
  x.set_edge_weight(1, 3); assert.equal(x.get_edge_weight(1), 0); assert.equal(x.get_edge_weight(0), 255);
  x.snn_set_membrane(0, 0.5); x.snn_set_membrane(0, NaN); x.snn_set_membrane(1, 0.7);
  assert.equal(x.snn_get_membrane(0), 0.5); assert.equal(x.snn_get_membrane(1), 0);
  assert.equal(x.snn_step(NaN), 0); assert.equal(x.snn_step(-1), 0); assert.equal(x.snn_get_time(), 0);
  assert.equal(x.snn_tick(1, NaN, 0), 0); assert.equal(x.snn_get_time(), 0);
  assert.equal(x.encode_vector_to_spikes(1), 0); assert.equal(x.get_pattern(1), 0);
  assert.equal(x.pattern_correlate(1, 3), 0); assert.equal(x.compute_resonance(5), 0);
  const delta = new Float32Array(x.memory.buffer, x.get_delta_ptr(), 16);
  delta.set([3.4e38, 0, 0, 0]);
  x.update_vector(0, 10); // would overflow to +∞: ignored
  q.set([1, 2, 3, 4]); assert.equal(x.search(1), 1);
  assert.ok(Math.abs(readRecords(x.memory, x.get_result_ptr(), 1)[0].distance) < 1e-6, 'vector 0 unchanged (cosine distance to itself ≈ 0)');
  // merge: count > 16, pointer beyond memory, records straddling the end
  x.clear_global();
  assert.equal(x.merge(x.get_result_ptr(), 1), 1);
  const global = readRecords(x.memory, x.get_global_ptr(), 16);
  assert.equal(x.merge(x.get_result_ptr(), 17), 0);
  assert.equal(x.merge(65536, 1), 0);
  assert.equal(x.merge(65536 - 4, 1), 0);
  assert.equal(x.merge(-8, 1), 0);
  assert.deepEqual(readRecords(x.memory, x.get_global_ptr(), 16), global);
  // a full core
  fill(x, randomVectors(rng(9), 31, 4));
  assert.equal(x.count(), 32);
  ins.set([0, 0, 0, 0]); assert.equal(x.insert(), 255); assert.equal(x.count(), 32);
});

const I32 = [0, 1, 2, 5, 15, 16, 17, 31, 32, 33, 127, 254, 255, 256, 0xffff, 0x10000, -1, 0x7fffffff, -0x80000000];
const F32 = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 1e-45, 3.4e38, -3.4e38, 1000, 1000.5, 20];

function* combos(kinds) {
  if (kinds.length === 0) { yield []; return; }
  for (const v of kinds[0] === 'i' ? I32 : F32) for (const rest of combos(kinds.slice(1))) yield [v, ...rest];
}

test('a NaN/±∞ component is rejected exactly when it lies within dims, at every position', () => {
  for (const dims of [1, 3, 4, 5, 8, 13, 16]) {
    for (const metric of [0, 1, 2]) {
      const x = rawCore(module);
      x.init(dims, metric, 0);
      const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
      const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
      ins.fill(0.5); assert.equal(x.insert(), 0);
      for (let p = 0; p < 16; p++) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const inside = p < dims;
          q.fill(0.25); q[p] = bad;
          assert.equal(x.search(1), inside ? 0 : 1, `search dims=${dims} metric=${metric} pos=${p} ${bad}`);
          ins.fill(0.75); ins[p] = bad;
          const n = x.count();
          const got = x.insert();
          assert.equal(got, inside ? 255 : n, `insert dims=${dims} pos=${p} ${bad}`);
          assert.equal(x.count(), inside ? n : n + 1);
          if (x.count() === 32) { x.init(dims, metric, 0); ins.fill(0.5); x.insert(); }
        }
      }
      // The largest finite magnitudes pass.
      q.fill(0); q[dims - 1] = -3.4028234663852886e38;
      assert.equal(x.search(1), 1);
    }
  }
});

test('every export survives hostile arguments in every state (no trap, invariants hold)', () => {
  const setups = {
    uninitialised: () => {},
    empty: (x) => x.init(16, 1, 2),
    partial: (x) => { x.init(8, 2, 4); fill(x, randomVectors(rng(3), 5, 8)); },
    full: (x) => { x.init(16, 0, 5); fill(x, randomVectors(rng(4), 32, 16)); },
    poisoned: (x) => {
      x.init(16, 0, 6); fill(x, randomVectors(rng(6), 20, 16));
      for (const get of ['get_query_ptr', 'get_insert_ptr', 'get_delta_ptr']) new Float32Array(x.memory.buffer, x[get](), 16).fill(NaN);
      x.snn_set_membrane(3, 3e4); x.snn_inject(4, -3e4); x.dendrite_inject(5, 0, 3e4);
    },
  };
  let calls = 0;
  for (const [state, setup] of Object.entries(setups)) {
    for (const [name, [params]] of Object.entries(ALL_SIGNATURES)) {
      const x = rawCore(module);
      setup(x);
      for (const args of combos([...params])) {
        try {
          x[name](...args);
        } catch (e) {
          assert.fail(`${name}(${args.join(', ')}) trapped in state ${state}: ${e.message}`);
        }
        calls++;
        const count = x.count();
        assert.ok(count <= 32 && x.get_dims() >= 1 && x.get_dims() <= 16 && x.get_metric() <= 2, `${name}(${args}) broke invariants`);
      }
      // the instance still answers correctly afterwards
      if (x.count() > 0) {
        const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
        q.fill(0.25);
        assert.equal(x.search(1), 1, `${name} in ${state}: search still works`);
      }
    }
  }
  console.log(`${calls} hostile calls, no trap`);
});

test('a random sequence of 20,000 calls with random arguments never traps', () => {
  const rand = rng(77);
  const names = Object.keys(ALL_SIGNATURES);
  const x = rawCore(module);
  for (let i = 0; i < 20000; i++) {
    const name = names[Math.floor((rand() + 1) / 2 * names.length)];
    const args = [...ALL_SIGNATURES[name][0]].map((k) => {
      const r = rand();
      if (k === 'f') return r < -0.8 ? F32[Math.floor((rand() + 1) * 7)] : r * 40;
      return r < -0.5 ? I32[Math.floor((rand() + 1) * 9.5)] : Math.floor((r + 1) * 20);
    });
    if (name === 'insert') new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16).set(Array.from({ length: 16 }, rand));
    if (name.includes('search') || name === 'hnsw_to_snn') new Float32Array(x.memory.buffer, x.get_query_ptr(), 16).set(Array.from({ length: 16 }, rand));
    try { x[name](...args); } catch (e) { assert.fail(`${name}(${args}) trapped: ${e.message}`); }
  }
  assert.ok(x.count() <= 32);
});

test('pattern_record shifts all 32 registers exactly like a JS model of the spike bitmaps', () => {
  const x = rawCore(module);
  const rand = rng(2024);
  x.init(4, 0, 0);
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const v of randomVectors(rand, 32, 4)) { ins.set(v); x.insert(); }
  const model = new Uint32Array(32);
  let seen = 0;
  for (let round = 0; round < 45; round++) {
    // Drive a random subset hard enough to fire (refractory neurons stay silent: the model follows
    // whatever the network reports).
    for (let n = 0; n < 32; n++) if (rand() > 0) x.snn_inject(n, 3);
    x.snn_step(1);
    const spikes = x.snn_get_spikes() >>> 0;
    seen |= spikes;
    x.pattern_record();
    for (let n = 0; n < 32; n++) model[n] = (model[n] << 1) | ((spikes >>> n) & 1);
  }
  assert.equal(seen >>> 0, 0xffffffff, 'every lane spiked at least once');
  for (let n = 0; n < 32; n++) assert.equal(x.get_pattern(n) >>> 0, model[n], `register ${n}`);
  assert.equal(x.pattern_match(model[17]), Array.from(model).findIndex((h) => h === model[17]));
});

test('extras: search_within keeps the records of search(k) within the bound, rejects a NaN bound', () => {
  const x = rawCore(module);
  x.init(2, 0, 4);
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const v of [5, 1, 3, 1, 9]) { ins.set([v, 0]); x.insert(); } // L2 from 0: 25, 1, 9, 1, 81
  const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
  const view = new DataView(x.memory.buffer, x.get_result_ptr(), 128);
  const records = () => Array.from({ length: 16 }, (_, i) => [view.getUint8(8 * i), view.getUint8(8 * i + 1), view.getFloat32(8 * i + 4, true)]);
  q.set([0, 0]);
  assert.equal(x.search(4), 4);
  const all = records();
  assert.deepEqual(all.slice(0, 4).map(([i]) => i), [1, 3, 2, 0]);
  for (const [bound, n] of [[Infinity, 4], [25, 4], [24.9, 3], [9, 3], [1, 2], [0.5, 0], [-1, 0]]) {
    assert.equal(x.search_within(4, bound), n, `bound ${bound}`);
    const got = records();
    assert.deepEqual(got.slice(0, n), all.slice(0, n));
    assert.ok(got.slice(n).every(([i, , d]) => i === 255 && d === Infinity), `bound ${bound}: the rest emptied`);
  }
  x.search(4);
  for (const [k, bound] of [[4, NaN], [0, 10], [17, 10]]) assert.equal(x.search_within(k, bound), 0);
  assert.deepEqual(records(), all, 'rejected calls leave the results');
});

test('extras: get_vectors_ptr shows the stored vectors in blocks of four, updated in place', () => {
  const x = rawCore(module);
  x.init(3, 1, 0);
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  const stored = [];
  for (let i = 0; i < 9; i++) {
    const v = [i + 0.5, -2 * i, 1 / (i + 1)];
    ins.set(v);
    assert.equal(x.insert(), i);
    stored.push(Float32Array.from(v));
  }
  const p = x.get_vectors_ptr();
  assert.equal(p % 16, 0);
  assert.ok(p + 2048 <= x.memory.buffer.byteLength);
  const all = new Float32Array(x.memory.buffer, p, 512);
  const read = (i) => [0, 1, 2].map((d) => all[(i >> 2) * 64 + d * 4 + (i & 3)]);
  for (let i = 0; i < 9; i++) assert.deepEqual(read(i), [...stored[i]], `vector ${i} (cosine: stored as given)`);
  new Float32Array(x.memory.buffer, x.get_delta_ptr(), 16).set([1, 1, 1]);
  x.update_vector(6, 2);
  assert.deepEqual(read(6), [...stored[6]].map((c) => Math.fround(c + 2)));
  assert.deepEqual(read(5), [...stored[5]]);
});

test('extras: the threshold and synapse-table pointers show thresholds, graph links and STDP weights', () => {
  const x = rawCore(module);
  x.init(1, 0, 0);
  const ins = new Float32Array(x.memory.buffer, x.get_insert_ptr(), 16);
  for (const v of [0, 1, 3]) { ins[0] = v; x.insert(); }
  const th = x.snn_get_threshold_ptr(), sp = x.snn_get_synapse_ptr();
  assert.equal(th % 4, 0);
  assert.ok(th + 128 <= x.memory.buffer.byteLength && sp + 416 <= x.memory.buffer.byteLength);
  const thresholds = new Int32Array(x.memory.buffer, th, 32);
  assert.deepEqual([...thresholds.subarray(0, 3)], [65536, 65536, 65536]);
  x.snn_set_threshold(1, 1.5);
  assert.equal(thresholds[1], 98304);
  x.snn_set_threshold(7, 9); // bad index: ignored
  assert.equal(thresholds[7], 65536);
  const table = new Uint8Array(x.memory.buffer, sp, 416);
  const links = (i) => Array.from({ length: Math.min(table[192 + i], 6) }, (_, j) => [table[i * 6 + j], table[224 + i * 6 + j]]);
  // 1-d points 0, 1, 3: every pair is linked both ways, each new synapse at weight 128
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(links(i).map(([t]) => t).sort(), [0, 1, 2].filter((t) => t !== i), `links of ${i}`);
    assert.ok(links(i).every(([, w]) => w === 128));
  }
  // causal pair 0 → 1 (0 spikes, 1 spikes 1 ms later): LTP +2 on 0→1 and +2 on 2→1 (trace 0 = 62259,
  // trace 2 = 0 → +0), LTD on 1→0: floor(−786 · 62259 / 2^24) = −3
  x.snn_inject(0, 1); x.snn_step(1); x.snn_stdp();
  x.snn_inject(1, 2); x.snn_step(1); x.snn_stdp(); // (threshold 1.5 since above)
  const w = (i, t) => links(i).find(([tt]) => tt === t)[1];
  assert.equal(w(0, 1), 130);
  assert.equal(w(1, 0), 125);
  assert.equal(w(2, 1), 128, 'silent pre with trace 0: no change');
  assert.equal(w(0, 2), 128, 'no spike at 2: no change');
});

test('search ranks ties by index, negative dot distances and partial cores like a JS sort', () => {
  // Duplicated vectors give exactly equal distances: the lower index must come first. The dot
  // metric gives negative distances (−a·b), whose order the SIMD selection must keep too.
  for (const metric of [0, 1, 2]) {
    const rand = rng(500 + metric);
    for (const count of [1, 3, 5, 16, 17, 31, 32]) {
      const x = rawCore(module);
      x.init(4, metric, 1);
      const base = randomVectors(rand, 8, 4);
      const vectors = Array.from({ length: count }, (_, i) => base[(i * 5) % 8]);
      fill(x, vectors);
      for (let q = 0; q < 20; q++) {
        const query = Float32Array.from({ length: 4 }, rand);
        const k = 1 + (q % 16);
        const got = searchIds(x, query, k);
        assert.equal(got.length, Math.min(k, count));
        // Only 8 distinct vectors: their float64 distances are far apart, duplicates tie exactly.
        const want = vectors.map((v, id) => ({ id, d: refDistance(metric, query, v) }))
          .sort((a, b) => a.d - b.d || a.id - b.id).slice(0, got.length);
        assert.deepEqual(got.map((r) => r.idx), want.map((w) => w.id), `metric ${metric}, count ${count}, k ${k}`);
      }
    }
  }
});

test('search and search_within select like a JS sort over signed zeros, infinities, NaN and negative distances', () => {
  // Components that make every kind of key: −0 (dot of orthogonal vectors), +0 (L2 of a copy),
  // ±∞ (products that overflow f32), NaN (∞ − ∞, reported as +∞), negative (dot) and ties
  // (repeated vectors). The expected distance replays the kernel's f32 arithmetic exactly: an
  // accumulator starting at +0 gains each dimension's term in order.
  const S = [0, -0, 1, -1, 2, -0.5, 1e30, -1e30, 3e38];
  const f = Math.fround;
  const kernel = (metric, q, v) => {
    let a = 0;
    for (let j = 0; j < 2; j++) a = f(a + (metric === 0 ? f(f(q[j] - v[j]) * f(q[j] - v[j])) : f(q[j] * v[j])));
    const d = metric === 0 ? a : -a;
    return Number.isNaN(d) ? Infinity : d;
  };
  const byKey = (a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : a.id - b.id);
  let checked = 0;
  for (const metric of [0, 2]) {
    const rand = rng(900 + metric);
    const pick = () => S[Math.floor((rand() + 1) * 0.5 * S.length) % S.length];
    for (const count of [1, 2, 5, 16, 17, 32]) {
      const x = rawCore(module);
      x.init(2, metric, 0);
      const vectors = Array.from({ length: count }, () => [pick(), pick()]);
      fill(x, vectors);
      const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
      for (let t = 0; t < 40; t++) {
        const query = [pick(), pick()];
        const all = vectors.map((v, id) => ({ id, d: kernel(metric, query, v) })).sort(byKey);
        const k = 1 + (t % 16);
        const bounds = [Infinity, -Infinity, -0, 0, 1, -1e30, all[t % count].d, all[(t * 7) % count].d];
        for (const bound of bounds) {
          q.fill(0); q.set(query);
          const n = bound === Infinity && t % 2 ? x.search(k) : x.search_within(k, bound);
          const want = all.filter((w) => w.d <= bound).slice(0, k);
          const got = readRecords(x.memory, x.get_result_ptr(), 16);
          const what = `metric ${metric}, count ${count}, query ${query}, k ${k}, bound ${bound}`;
          assert.equal(n, want.length, what);
          assert.deepEqual(got.slice(0, n).map((r) => r.idx), want.map((w) => w.id), what);
          for (let i = 0; i < n; i++) assert.ok(Object.is(got[i].distance, want[i].d), `${what}: hit ${i} distance ${got[i].distance}, want ${want[i].d}`);
          assert.ok(got.slice(n).every((r) => r.idx === 255 && r.distance === Infinity), `${what}: the rest emptied`);
          checked++;
        }
      }
    }
  }
  assert.equal(checked, 2 * 6 * 40 * 8);
});

test('search selects exactly among distances a few ulps apart (near-ties at the k-th place and at the bound)', () => {
  // The selection ranks keys whose low 5 bits carry the slot, so distances within 32 ulps of each
  // other reach it in slot order and the search must notice and fall back to an exact pass: every
  // stored vector is (1 + a·2⁻²³, b·2⁻¹²) for small a, b and the query is the origin, so the L2
  // distances 1 + … spread over a few dozen ulps of 1 in random slot order, with exact ties. The
  // expected order replays the kernel's f32 arithmetic.
  const f = Math.fround;
  const kernel = (q, v) => {
    let a = 0;
    for (let j = 0; j < 2; j++) a = f(a + f(f(q[j] - v[j]) * f(q[j] - v[j])));
    return a;
  };
  const byKey = (a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : a.id - b.id);
  const rand = rng(4242);
  const small = (n) => Math.floor((rand() + 1) * 0.5 * n) % n;
  let checked = 0;
  for (let trial = 0; trial < 60; trial++) {
    const count = 1 + small(32);
    const x = rawCore(module);
    x.init(2, 0, 0);
    const vectors = Array.from({ length: count }, () => [f(1 + small(24) * 2 ** -23), f(small(12) * 2 ** -12)]);
    fill(x, vectors);
    const query = [0, 0];
    const all = vectors.map((v, id) => ({ id, d: kernel(query, v) })).sort(byKey);
    const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
    for (let k = 1; k <= 16; k++) {
      const at = all[Math.min(k, count) - 1].d;
      // No bound, and bounds at the k-th distance and one ulp either side of it.
      for (const bound of [Infinity, at, f(at * (1 - 2 ** -24)), f(at * (1 + 2 ** -23))]) {
        q.fill(0); q.set(query);
        const n = bound === Infinity ? x.search(k) : x.search_within(k, bound);
        const want = all.filter((w) => w.d <= bound).slice(0, k);
        const got = readRecords(x.memory, x.get_result_ptr(), 16);
        const what = `trial ${trial}, count ${count}, k ${k}, bound ${bound}`;
        assert.equal(n, want.length, what);
        assert.deepEqual(got.slice(0, n).map((r) => [r.idx, r.distance]), want.map((w) => [w.id, w.d]), what);
        assert.ok(got.slice(n).every((r) => r.idx === 255 && r.distance === Infinity), `${what}: the rest emptied`);
        checked++;
      }
    }
  }
  assert.equal(checked, 60 * 16 * 4);
});

test('resonance_search ranks −0 and +0 keys as ties (index order) and reports each with its own sign', () => {
  // Dot distances of vectors orthogonal to the query are −0. Half a gamma cycle after the start
  // the neurons that never spiked resonate at ≈ −1 and those spiking now at ≈ +1, so with a zero
  // phase weight the keys −0 − 0·r are −0 (r > 0) and +0 (r < 0): equal keys of both signs.
  const x = rawCore(module);
  x.init(2, 2, 0);
  fill(x, Array.from({ length: 32 }, (_, i) => [0, (i % 3) - 1]));
  x.oscillator_step(12.5);
  for (let i = 0; i < 32; i += 2) x.snn_inject(i, 5);
  x.snn_step(1);
  const r = Array.from({ length: 32 }, (_, i) => x.compute_resonance(i));
  assert.ok(r.every((v, i) => (i % 2 ? v < -0.9 : v > 0.9)), `resonances ${r}`);
  const q = new Float32Array(x.memory.buffer, x.get_query_ptr(), 16);
  for (const w of [0, -0, 0.5, -2]) {
    for (const k of [1, 5, 16]) {
      q.fill(0); q.set([1, 0]);
      const want = r.map((v, id) => ({ id, d: Math.fround(-0 - Math.fround(w * v)) }))
        .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : a.id - b.id)).slice(0, k);
      if (Object.is(w, 0) && k > 1) assert.ok(Object.is(want[0].d, -0) && Object.is(want[1].d, 0), 'both signs among the hits');
      assert.equal(x.resonance_search(k, w), k);
      const got = readRecords(x.memory, x.get_result_ptr(), k);
      assert.deepEqual(got.map((h) => h.idx), want.map((h) => h.id), `weight ${w}, k ${k}`);
      for (let i = 0; i < k; i++) assert.ok(Object.is(got[i].distance, want[i].d), `weight ${w}, k ${k}: hit ${i} distance ${got[i].distance}, want ${want[i].d}`);
    }
  }
});
