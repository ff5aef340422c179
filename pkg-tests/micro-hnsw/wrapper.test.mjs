// The JS wrapper imported as a user would ('sona-wasm/micro-hnsw'): typed API, errors for bad
// input, the spiking-network calls checked against values derived by hand from the documented
// fixed-point rules, and MicroHnswCluster recall@10 at 8,192 × 16-d against a JS brute force.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bruteForce, importWrapper, randomVectors, refDistance, rng, wasmBytes } from './helpers.mjs';
const message = (re) => (err) => err instanceof Error && re.test(err.message);

const { init, initSync, MicroHnsw, MicroHnswCluster, ABI } = await importWrapper();

const close = (a, b, eps = 1e-4) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('init and initSync are idempotent and return the compiled module', async () => {
  const m = await init();
  assert.ok(m instanceof WebAssembly.Module);
  assert.equal(await init(), m);
  assert.equal(initSync(wasmBytes()), m);
  assert.equal(ABI.CAPACITY, 32);
});

test('bad arguments throw clear errors instead of returning sentinels', () => {
  assert.throws(() => new MicroHnsw({ dims: 0 }), RangeError);
  assert.throws(() => new MicroHnsw({ dims: 17 }), RangeError);
  assert.throws(() => new MicroHnsw({ metric: 'manhattan' }), /metric/);
  assert.throws(() => new MicroHnsw({ coreId: 256 }), RangeError);
  const h = new MicroHnsw({ dims: 3 });
  assert.throws(() => h.insert([1, 2]), /3 dimensions/);
  assert.throws(() => h.insert([1, NaN, 2]), /finite/);
  assert.throws(() => h.insert('abc'), RangeError);
  assert.throws(() => h.insert(null), TypeError);
  assert.equal(h.size, 0);
  h.insert([1, 2, 3]);
  assert.throws(() => h.search([1, 2, 3], 0), /k must be/);
  assert.throws(() => h.search([1, 2, 3], 17), /k must be/);
  assert.throws(() => h.search([1, Infinity, 3], 1), /finite/);
  assert.throws(() => h.nodeType(1), /id must be/);
  assert.throws(() => h.setNodeType(0, 16), /type/);
  assert.throws(() => h.step(0), /dt/);
  assert.throws(() => h.step(1001), /dt/);
  assert.throws(() => h.inject(0, NaN), /finite/);
  assert.throws(() => h.dendriteInject(0, 6, 1), /branch/);
  for (let i = 1; i < 32; i++) h.insert([i, 0, 0]);
  assert.throws(() => h.insert([0, 0, 0]), /full/);
  assert.equal(h.size, 32);
});

test('MicroHnsw search is exact for every metric (cosine and dot distances as documented)', () => {
  for (const metric of ['l2', 'cosine', 'dot']) {
    const code = ['l2', 'cosine', 'dot'].indexOf(metric);
    const rand = rng(40 + code);
    const h = new MicroHnsw({ dims: 12, metric, coreId: 1 });
    assert.equal(h.metric, metric);
    const vectors = randomVectors(rand, 32, 12);
    vectors.forEach((v, i) => assert.equal(h.insert(v), i));
    for (let q = 0; q < 100; q++) {
      const query = randomVectors(rand, 1, 12)[0];
      const got = h.search(query, 7);
      const want = bruteForce(code, vectors, query, 7);
      assert.deepEqual(got.map((r) => r.id), want.map((w) => w.id));
      got.forEach((r, i) => close(r.distance, want[i].d, 1e-5));
    }
  }
});

function twoNeurons() {
  const h = new MicroHnsw({ dims: 4 });
  h.insert([0, 0, 0, 0]);
  h.insert([1, 0, 0, 0]); // the only possible link: 0 — 1
  return h;
}

test('LIF: threshold, reset, refractory period, leak', () => {
  const h = twoNeurons();
  h.setMembrane(0, 0.5);
  assert.equal(h.membrane(0), 0.5);
  h.inject(0, 0.6); // 0.5 − 0.5/20 (leak over 1 ms) + 0.6 = 1.075 ≥ 1 → spike
  assert.equal(h.step(1), 1);
  assert.ok(h.spiked(0));
  assert.equal(h.spikes(), 1);
  assert.equal(h.membrane(0), 0, 'reset to 0');
  h.inject(0, 5);
  assert.equal(h.step(1), 0, 'refractory (2 ms): the current is discarded');
  assert.equal(h.membrane(0), 0);
  h.setMembrane(1, 0.8);
  h.step(1);
  close(h.membrane(1), 0.8 * (1 - 1 / 20)); // one 1 ms leak with τ_m = 20 ms
  close(h.time, 3, 1e-9);
});

test('spikes propagate along the graph weighted by synapse (128/256) and edge weight (255/256)', () => {
  const h = twoNeurons();
  h.inject(0, 1);
  h.step(1);
  assert.ok(h.spiked(0));
  h.propagate(2);
  h.step(1);
  assert.equal(h.membrane(1), (2 * 128 * 255) / 65536);
  h.snnReset();
  h.setEdgeWeight(0, 0);
  h.inject(0, 1); h.step(1); h.propagate(2); h.step(1);
  assert.equal(h.membrane(1), 0, 'edge weight 0 silences the link');
});

test('gamma oscillator: 40 Hz → a quarter turn in 6.25 ms', () => {
  const h = twoNeurons();
  h.oscillatorStep(6.25);
  close(h.phase, Math.PI / 2, 1e-3);
  h.oscillatorStep(25);
  close(h.phase, Math.PI / 2, 1e-3);
});

test('hard and soft winner-take-all with inhibition 0.8', () => {
  const h = new MicroHnsw({ dims: 2 });
  [[0, 0], [1, 0], [0, 1]].forEach((v) => h.insert(v));
  assert.equal(h.wtaCompete(), 0, 'all at 0: ties go to the lowest index');
  h.snnReset();
  h.setMembrane(0, 0.2); h.setMembrane(1, 0.9); h.setMembrane(2, 0.5);
  assert.equal(h.wtaCompete(), 1);
  close(h.membrane(1), 0.9);
  close(h.membrane(0), 0.2 - 0.72);
  close(h.membrane(2), 0.5 - 0.72);
  h.snnReset();
  h.setMembrane(0, 0.2); h.setMembrane(1, 0.9); h.setMembrane(2, 0.5);
  h.wtaSoft();
  close(h.membrane(1), 0.9);
  close(h.membrane(0), 0.2 - 0.8 * 0.7);
  close(h.membrane(2), 0.5 - 0.8 * 0.4);
  assert.equal(new MicroHnsw({ dims: 2 }).wtaCompete(), null);
});

test('dendrites: supralinear branches (d² above 1), unconnected branches ignored', () => {
  const h = twoNeurons(); // one link each: branch 0 only
  h.dendriteInject(0, 0, 2);
  assert.equal(h.dendriteIntegrate(0), 4);
  h.dendriteInject(0, 0, 0.5);
  assert.equal(h.dendriteIntegrate(0), 0.5);
  h.dendriteInject(0, 1, 3);
  assert.equal(h.dendriteIntegrate(0), 0, 'branch 1 has no synapse');
  h.dendriteInject(1, 0, 1.5);
  h.dendriteIntegrate(1);
  h.step(1);
  assert.ok(h.spiked(1), '2.25 reached the soma');
  h.snnReset(); h.dendriteReset();
  h.inject(0, 1); h.step(1); h.dendritePropagate(4);
  assert.equal(h.dendriteIntegrate(1), ((4 * 128 * 255) / 65536) ** 2);
});

test('spike-timing codes, Jaccard similarity and spike search', () => {
  const h = new MicroHnsw({ dims: 4 });
  h.insert([1, -1, 0, 0.5]);
  h.insert([-1, 1, 0.5, 0]);
  const code = h.encodeVector(0);
  assert.equal(code, (1 << 0) + 2 ** 29 + (1 << 14) + (1 << 11));
  assert.equal(h.spikeTimingSimilarity(0b1100, 0b1010), Math.fround(1 / 3));
  assert.equal(h.spikeTimingSimilarity(0, 0), 1);
  const hits = h.spikeSearch(code, 2);
  assert.deepEqual(hits.map((x) => x.id), [0, 1]);
  assert.equal(hits[0].distance, 0);
});

test('temporal pattern registers, matching and correlation', () => {
  const h = new MicroHnsw({ dims: 2 });
  [[0, 0], [5, 5], [9, 0]].forEach((v) => h.insert(v));
  h.inject(0, 2); h.inject(2, 2);
  h.step(1); h.patternRecord();   // 0 and 2 spike
  h.step(1); h.patternRecord();   // refractory: nobody
  assert.equal(h.pattern(0), 0b10);
  assert.equal(h.pattern(1), 0);
  assert.equal(h.patternMatch(0b10), 0);
  assert.equal(h.patternMatch(0), 1);
  assert.equal(h.patternCorrelate(0, 0), 0b100);
  assert.equal(h.patternCorrelate(1, 1), 0b101);
});

test('threshold() and synapses() show homeostasis and STDP as they happen', () => {
  const h = twoNeurons();
  assert.equal(h.threshold(0), 1);
  assert.deepEqual(h.synapses(0), [{ target: 1, weight: 128 }]);
  assert.deepEqual(h.synapses(1), [{ target: 0, weight: 128 }]);
  h.homeostaticUpdate(1); // rate 0 below the 0.1/ms target: floor(−6554 · 0.001) = −7 (Q16.16)
  assert.equal(h.threshold(1), (65536 - 7) / 65536);
  h.setThreshold(0, 2.5);
  assert.equal(h.threshold(0), 2.5);
  h.setThreshold(0, 1);
  // 0 spikes, then 1 one ms later: LTP on 0→1 (+2), LTD on 1→0 (floor(−786 · 62259 / 2^24) = −3)
  h.inject(0, 1); h.step(1); h.stdp();
  h.inject(1, 1); h.step(1); h.stdp();
  assert.deepEqual(h.synapses(0), [{ target: 1, weight: 130 }]);
  assert.deepEqual(h.synapses(1), [{ target: 0, weight: 125 }]);
  assert.throws(() => h.threshold(2), RangeError);
  assert.throws(() => h.synapses(-1), RangeError);
  const lone = new MicroHnsw({ dims: 2 });
  lone.insert([1, 1]);
  assert.deepEqual(lone.synapses(0), [], 'a single node has no links');
});

test('hnswToSnn drives the nearest to threshold; homeostasis tracks the spike rate', () => {
  const h = new MicroHnsw({ dims: 1 });
  [[0], [1], [3]].forEach((v) => h.insert(v));
  const hits = h.hnswToSnn([0.1], 3, 1);
  assert.deepEqual(hits.map((x) => x.id), [0, 1, 2]);
  h.step(1);
  assert.ok(h.spiked(0), 'the nearest receives exactly gain = 1.0 = threshold');
  close(h.membrane(1), 1 / (1 + (0.81 - 0.01)));
  close(h.membrane(2), 1 / (1 + (8.41 - 0.01)));
  assert.equal(h.spikeRate(0), 0);
  h.homeostaticUpdate(1);
  assert.ok(h.spikeRate(0) > 0 && h.spikeRate(1) === 0);
  close(h.networkActivity, h.spikeRate(0));
});

test('neuromorphic search ranks the true nearest first and reports metric distances', () => {
  const rand = rng(9);
  const h = new MicroHnsw({ dims: 16, metric: 'cosine' });
  const vectors = randomVectors(rand, 32, 16);
  vectors.forEach((v) => h.insert(v));
  for (let q = 0; q < 50; q++) {
    const query = randomVectors(rand, 1, 16)[0];
    const hits = h.neuromorphicSearch(query, 5, { dt: 1, iterations: 10 });
    assert.equal(hits.length, 5);
    assert.equal(hits[0].id, bruteForce(1, vectors, query, 1)[0].id);
    for (const x of hits) close(x.distance, refDistance(1, query, vectors[x.id]), 1e-5);
    assert.equal(new Set(hits.map((x) => x.id)).size, 5);
  }
  const plain = h.search(vectors[3], 4).map((x) => x.id);
  assert.deepEqual(h.resonanceSearch(vectors[3], 4, 0).map((x) => x.id), plain, 'phase weight 0 = plain search');
});

test('GNN helpers: node types, aggregation and vector updates', () => {
  const h = twoNeurons();
  h.setNodeType(1, 7);
  assert.equal(h.nodeType(1), 7);
  assert.ok(h.typeMatches(1, 1 << 7));
  assert.ok(!h.typeMatches(1, 1 << 6));
  assert.deepEqual([...h.aggregateNeighbors(0)], [1, 0, 0, 0]);
  h.setEdgeWeight(1, 51);
  close(h.aggregateNeighbors(0)[0], 0.2);
  assert.deepEqual([...h.vector(0)], [0, 0, 0, 0]);
  assert.deepEqual([...h.vector(1)], [1, 0, 0, 0]);
  h.updateVector(0, 1, [0, 2, 0, 0]);
  assert.deepEqual([...h.vector(0)], [0, 2, 0, 0]);
  assert.equal(h.search([0, 2, 0, 0], 1)[0].distance, 0);
  assert.equal(h.search([0, 2, 0, 0], 1)[0].id, 0);
  close(h.aggregateNeighbors(0)[0], 0.2);
  h.updateVector(0, -0.5); // delta = the aggregation buffer [0.2, 0, 0, 0]
  assert.deepEqual([...h.vector(0)], [Math.fround(-0.5 * Math.fround(0.2)), 2, 0, 0]);
  // An explicit delta does not replace the last aggregation as the default of later calls.
  h.updateVector(1, 1, [0, 0, 3, 0]);
  assert.deepEqual([...h.vector(1)], [1, 0, 3, 0]);
  const v0 = h.vector(0);
  h.updateVector(0, 1);
  assert.deepEqual([...h.vector(0)], [Math.fround(v0[0] + Math.fround(0.2)), 2, 0, 0], 'delta = the aggregation, not [0, 0, 3, 0]');
});

test('cosine distances lie in [0, 2] up to f32 rounding, as documented (not clamped)', () => {
  const rand = rng(77);
  let below = 0;
  for (let round = 0; round < 80; round++) {
    // 8 vectors and their negations: a search for one of the 8 with k = 16 sees all 16.
    const h = new MicroHnsw({ dims: 16, metric: 'cosine' });
    const vectors = randomVectors(rand, 8, 16);
    for (const v of vectors) h.insert(v);
    for (const v of vectors) h.insert(v.map((x) => -x));
    vectors.forEach((v, i) => {
      const hits = h.search(v, 16);
      for (const hit of hits) assert.ok(hit.distance >= -1e-6 && hit.distance <= 2 + 1e-6, `distance ${hit.distance}`);
      const own = hits.find((hit) => hit.id === i);
      assert.ok(Math.abs(own.distance) < 1e-6, `self distance ${own.distance}`);
      below += own.distance < 0;
      assert.equal(hits.at(-1).id, i + 8, 'the negation is the farthest');
      assert.ok(Math.abs(hits.at(-1).distance - 2) < 1e-6, `antipode distance ${hits.at(-1).distance}`);
    });
  }
  // The README says so: a self distance can come out a few ulps below 0.
  assert.ok(below > 0, 'some self distances are below 0 (the documented rounding)');
});

test('MicroHnswCluster: 256 cores × 32 = 8,192 vectors, recall@10 ≥ 0.99 against brute force', () => {
  const rand = rng(2024);
  const cluster = new MicroHnswCluster({ dims: 16, metric: 'l2' });
  assert.equal(cluster.capacity, 8192);
  const byId = new Map();
  for (const v of randomVectors(rand, 8192, 16)) byId.set(cluster.insert(v), v);
  assert.equal(cluster.size, 8192);
  assert.equal(cluster.cores.length, 256);
  assert.throws(() => cluster.insert(new Float32Array(16)), /full/);
  for (const [id, v] of byId) assert.deepEqual([...cluster.vector(id)], [...Float32Array.from(v)], `vector ${id}`);
  assert.throws(() => cluster.vector(8192), message(/^id must be an integer in 0\.\.8191, got 8192$/));
  const small = new MicroHnswCluster({ dims: 2, cores: 4 });
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => small.insert([i, -i])), [0, 32, 64, 96, 1]);
  assert.deepEqual([...small.vector(96)], [3, -3]);
  assert.deepEqual([...small.vector(1)], [4, -4]);
  for (const missing of [2, 33, 127]) assert.throws(() => small.vector(missing), message(new RegExp(`^id ${missing} does not exist in this cluster$`)));
  const ids = [...byId.keys()];
  const vectors = ids.map((id) => byId.get(id));
  let hits = 0;
  const queries = 100;
  for (let q = 0; q < queries; q++) {
    const query = randomVectors(rand, 1, 16)[0];
    const got = cluster.search(query, 10);
    assert.equal(got.length, 10);
    const want = new Set(bruteForce(0, vectors, query, 10).map((w) => ids[w.id]));
    for (const r of got) if (want.has(r.id)) hits++;
    for (const r of got) close(r.distance, refDistance(0, query, byId.get(r.id)), 1e-4);
  }
  const recall = hits / (10 * queries);
  console.log(`MicroHnswCluster 8,192 × 16-d recall@10 = ${recall}`);
  assert.ok(recall >= 0.99, `recall@10 ${recall}`);
  assert.throws(() => new MicroHnswCluster({ cores: 257 }), RangeError);
});

test('tick takes learn as a boolean: any other value throws and the network is unchanged', () => {
  const h = new MicroHnsw({ dims: 4 });
  h.insert([1, 0, 0, 0]);
  h.insert([0, 1, 0, 0]);
  for (const bad of ['no', 1, 0, null, {}]) {
    assert.throws(() => h.tick(1, 1, bad), (err) => err instanceof TypeError && /^learn must be a boolean/.test(err.message));
  }
  assert.equal(h.time, 0, 'no timestep ran');
  h.tick(1, 1, true);
  h.tick(1, 1);
  assert.equal(h.time, 2);
});

test('constructor options: a non-object or an unknown key (a typo) throws a TypeError naming it', async () => {
  for (const [make, what] of [[(o) => new MicroHnsw(o), 'MicroHnsw'], [(o) => new MicroHnswCluster(o), 'MicroHnswCluster']]) {
    for (const bad of [5, 'dims', null, [4]]) {
      assert.throws(() => make(bad), (err) => err instanceof TypeError && new RegExp(`^${what} options must be an object`).test(err.message), String(bad));
    }
    assert.throws(() => make({ dim: 4 }), (err) => err instanceof TypeError && new RegExp(`^unknown ${what} option "dim"`).test(err.message));
    assert.equal(make(undefined).dims, 16);
    assert.equal(make({ dims: 4, metric: 'cosine' }).dims, 4);
  }
  await assert.rejects(MicroHnsw.create({ coreID: 1 }), (err) => err instanceof TypeError && /unknown MicroHnsw option "coreID"/.test(err.message));
  assert.equal((await MicroHnsw.create({ dims: 3 })).dims, 3);
});

test('MicroHnswCluster spreads inserts round-robin: core i % cores, global id core × 32 + local id', () => {
  const c = new MicroHnswCluster({ dims: 2, cores: 3 });
  const ids = [0, 1, 2, 3, 4, 5, 6].map((i) => c.insert([i, 0]));
  assert.deepEqual(ids, [0, 32, 64, 1, 33, 65, 2]);
  assert.equal(c.cores.length, 3);
  assert.deepEqual(c.cores.map((core) => [core.coreId, core.size]), [[0, 3], [1, 2], [2, 2]]);
  // Vectors 4, 5, 3 went to cores 1, 2, 0 as their second vectors: ids 33, 65, 1.
  assert.deepEqual(c.search([4.1, 0], 3).map((h) => h.id), [33, 65, 1]); // 4, 5, 3
});

test('MicroHnswCluster.search merges exactly as the raw merge export does, ties included', () => {
  const rand = rng(77);
  for (const metric of ['l2', 'cosine', 'dot']) {
    const cluster = new MicroHnswCluster({ dims: 3, metric, cores: 5 });
    // Coordinates on a small grid: many vectors repeat across cores, so many distances tie.
    const grid = () => [0, 1, 2].map(() => Math.round(rand() * 2));
    for (let i = 0; i < 150; i++) cluster.insert(grid());
    const cores = cluster.cores.map((core) => core.exports);
    const head = cores[0];
    const rawMerge = (query, k) => {
      head.clear_global();
      let total = 0;
      for (const x of cores) {
        new Float32Array(x.memory.buffer, x.get_query_ptr(), 3).set(query);
        const n = x.search(k);
        if (x !== head) new Uint8Array(head.memory.buffer, head.get_result_ptr(), 8 * n).set(new Uint8Array(x.memory.buffer, x.get_result_ptr(), 8 * n));
        total = head.merge(head.get_result_ptr(), n);
      }
      const view = new DataView(head.memory.buffer, head.get_global_ptr(), 128);
      return Array.from({ length: Math.min(k, total) }, (_, i) => ({ id: view.getUint8(8 * i + 1) * 32 + view.getUint8(8 * i), distance: view.getFloat32(8 * i + 4, true) }));
    };
    let ties = 0;
    for (let q = 0; q < 20; q++) {
      const query = q % 2 ? grid() : [rand(), rand(), rand()];
      for (let k = 1; k <= 16; k++) {
        const got = cluster.search(query, k);
        assert.deepEqual(got, rawMerge(query, k), `${metric} query ${q} k ${k}`);
        for (let i = 1; i < got.length; i++) ties += got[i].distance === got[i - 1].distance;
      }
    }
    assert.ok(ties > 100, `${metric}: the data must produce ties (${ties})`);
  }
});

test('MicroHnswCluster sees direct inserts into its cores: counted in size, found by search, full cores skipped', () => {
  const c = new MicroHnswCluster({ dims: 2, cores: 2 });
  assert.deepEqual([c.insert([0, 0]), c.insert([1, 0])], [0, 32]);
  const [core0] = c.cores;
  for (let i = 1; i < 32; i++) core0.insert([100 + i, 0]); // core 0 is now full
  assert.equal(c.size, 33);
  assert.equal(c.search([110.2, 0], 1)[0].id, 10);
  // Round-robin would pick core 0 next: it is full, so every insert goes to core 1.
  assert.deepEqual([c.insert([2, 0]), c.insert([3, 0]), c.insert([4, 0])], [33, 34, 35]);
  assert.equal(c.size, 36);
  for (let i = 5; c.size < c.capacity; i++) c.insert([i, 1]);
  assert.equal(c.size, 64);
  assert.throws(() => c.insert([0, 0]), message(/^the cluster is full \(64 vectors\)$/));
  assert.deepEqual([...c.vector(63)], [32, 1]);
});

/** An assert.throws matcher: an Error whose message matches `re`. */

test('hostile arguments: magnitudes past ±1e15, ids of an empty core, bad neuromorphicSearch options, quoted non-numbers', () => {
  const h = new MicroHnsw({ dims: 2 });
  assert.throws(() => h.nodeType(0), (err) => err instanceof RangeError && err.message === 'id 0 does not exist: this core holds no vectors');
  assert.throws(() => h.membrane(0), /this core holds no vectors/);
  for (const big of [1e16, -1e30, 3e38]) {
    assert.throws(() => h.insert([0, big]), (err) => err instanceof RangeError && new RegExp(`^vector\\[1\\] is ${String(big).replace('+', '\\+')}: components must lie within ±1e15`).test(err.message));
  }
  assert.equal(h.size, 0);
  assert.equal(h.insert([1e15, -1e15]), 0); // the bound itself is accepted
  h.insert([0, 0]);
  assert.throws(() => h.search([2e15, 0], 2), message(/^query\[0\] is 2000000000000000: components must lie within ±1e15/));
  // Float32Array arguments take a one-compare check; a bad component is still named.
  assert.throws(() => h.search(Float32Array.of(0, NaN), 2), message(/^query\[1\] is NaN: components must be finite numbers$/));
  assert.throws(() => h.search(Float32Array.of(-Infinity, 0), 2), message(/^query\[0\] is -Infinity: components must be finite numbers$/));
  assert.throws(() => h.insert(Float32Array.of(0, -3e38)), message(/^vector\[1\] is -3\.\d+e\+38: components must lie within ±1e15/));
  assert.deepEqual(h.search(Float32Array.of(1e15, -1e15), 1).map((r) => r.id), [0]); // the bound itself passes
  const before = h.search([0, 0], 2);
  assert.equal(before[0].id, 1);
  assert.ok(Number.isFinite(before[1].distance), 'distances at the bound stay finite');
  assert.throws(() => h.updateVector(1, 1, [1e20, 0]), message(/^delta\[0\] is 100000000000000000000: components must lie within ±1e15/));
  assert.deepEqual(h.search([0, 0], 2), before);
  // The result is bounded too: 1e15 + 1e15 at component 0 of vector 0; repeated updates cannot
  // walk a vector past the bound either.
  const f = Math.fround;
  assert.throws(() => h.updateVector(0, 1, [1e15, 0]), message(new RegExp(`^updateVector would move component 0 of vector 0 to ${f(f(1e15) + f(1e15))}: components must lie within ±1e15$`)));
  assert.throws(() => h.updateVector(1, 4, [0, 5e14]), message(new RegExp(`^updateVector would move component 1 of vector 1 to ${f(4 * f(5e14))}:`)));
  h.updateVector(1, 1, [0, 4e14]);
  h.updateVector(1, 1, [0, 4e14]);
  const twice = f(f(4e14) + f(4e14));
  assert.throws(() => h.updateVector(1, 1, [0, 4e14]), message(new RegExp(`component 1 of vector 1 to ${f(twice + f(4e14))}:`)));
  assert.deepEqual([...h.vector(1)], [0, twice]);
  assert.deepEqual([...h.vector(0)], [f(1e15), f(-1e15)]);
  assert.throws(() => h.vector(2), message(/^id must be an integer in 0\.\.1, got 2$/));
  for (const bad of [null, 5, 'dt']) {
    assert.throws(() => h.neuromorphicSearch([0, 0], 2, bad), (err) => err instanceof TypeError && /^neuromorphicSearch options must be an object/.test(err.message));
  }
  assert.throws(() => h.neuromorphicSearch([0, 0], 2, { iteration: 20 }), (err) => err instanceof TypeError && /^unknown neuromorphicSearch option "iteration"/.test(err.message));
  assert.equal(h.neuromorphicSearch([0, 0], 2, { iterations: 20 })[0].id, 1);
  assert.throws(() => h.search([0, 0], '2'), message(/^k must be an integer in 1\.\.16, got "2"$/));
  assert.throws(() => h.insert(['1', 2]), message(/^vector\[0\] is "1": components must be finite numbers$/));
  assert.throws(() => h.insert(new BigInt64Array(2)), message(/^vector\[0\] is 0n: components must be finite numbers$/));
  assert.equal(h.size, 2);
  const c = new MicroHnswCluster({ dims: 1, cores: 2 });
  assert.throws(() => c.insert([-5e15]), message(/^vector\[0\] is -5000000000000000: components must lie within ±1e15/));
  assert.equal(c.size, 0);
  c.insert([1]);
  assert.throws(() => c.search([Infinity]), message(/^query\[0\] is Infinity: components must be finite numbers$/));
  assert.throws(() => c.search([1e300]), message(/^query\[0\] is 1e\+300: components must lie within ±1e15/));
});

test('a second constructor argument cannot hand MicroHnsw a foreign or shared instance', async () => {
  const a = new MicroHnsw({ dims: 2 });
  a.insert([1, 1]);
  // Before, a non-instance threw "Cannot read properties of undefined", and another core's
  // instance was re-initialised under it (a.size 0, a.dims still 2).
  for (const extra of [{}, 42, { exports: a.exports }, new WebAssembly.Instance(await init(), {})]) {
    const b = new MicroHnsw({ dims: 3 }, extra);
    assert.notEqual(b.memory, a.memory);
    assert.equal(b.size, 0);
    assert.equal(b.insert([1, 2, 3]), 0);
  }
  assert.equal(a.size, 1);
  assert.deepEqual(a.search([1, 1], 1), [{ id: 0, distance: 0 }]);
  const c = await MicroHnsw.create({ dims: 2 });
  assert.notEqual(c.memory, a.memory);
  assert.equal(c.dims, 2);
});

test('updateVector: alpha is the f32 the wasm multiplies by, and beyond the f32 range it is a named RangeError', () => {
  const f = Math.fround;
  const h = new MicroHnsw({ dims: 2 });
  h.insert([0, 0]);
  // f32(alpha · 3) is 999999986991104 (within ±1e15) but the wasm computes f32(f32(alpha) · 3) =
  // 1000000054099968: the check passed and the wasm stored a component beyond the bound before.
  const alpha = 333333335663701.3;
  assert.ok(f(alpha * 3) <= 1e15 && f(f(alpha) * 3) > 1e15, 'the case is what it claims');
  assert.throws(() => h.updateVector(0, alpha, [3, 0]),
    (err) => err instanceof RangeError && err.message.startsWith(`updateVector would move component 0 of vector 0 to ${f(f(alpha) * 3)}:`));
  assert.deepEqual([...h.vector(0)], [0, 0]);
  // Finite as a double, infinite as an f32: the wasm ignored the update and the call returned.
  for (const big of [1e39, -3.5e38]) {
    assert.throws(() => h.updateVector(0, big, [1e-30, 0]), (err) => err instanceof RangeError && /^alpha must be a finite f32/.test(err.message));
  }
  assert.deepEqual([...h.vector(0)], [0, 0]);
  h.updateVector(0, 3.4e38, [1e-30, 0]); // the largest f32s still apply
  assert.deepEqual([...h.vector(0)], [f(f(3.4e38) * f(1e-30)), 0]);
});

test('memory grown by the caller: the cached views are made again, answers unchanged', () => {
  // The wasm never grows its memory, but `memory` is exported without a maximum; growing it
  // detaches every view of the old buffer.
  const r = rng(91);
  const vectors = randomVectors(r, 24, 8);
  const queries = randomVectors(r, 5, 8);
  const [grown, plain] = [new MicroHnsw({ dims: 8 }), new MicroHnsw({ dims: 8 })];
  for (const v of vectors) { grown.insert(v); plain.insert(v); }
  grown.memory.grow(1);
  for (const q of queries) assert.deepEqual(grown.search(q, 5), plain.search(q, 5));
  assert.equal(grown.insert(queries[0]), plain.insert(queries[0]));
  assert.deepEqual(grown.vector(24), plain.vector(24));
  assert.deepEqual(grown.aggregateNeighbors(3), plain.aggregateNeighbors(3));
  grown.memory.grow(1);
  assert.deepEqual(grown.neuromorphicSearch(queries[1], 4), plain.neuromorphicSearch(queries[1], 4));
  // The cluster keeps views of each core's memory as well.
  const [cg, cp] = [new MicroHnswCluster({ dims: 8, cores: 3 }), new MicroHnswCluster({ dims: 8, cores: 3 })];
  for (const v of vectors) { cg.insert(v); cp.insert(v); }
  cg.cores[1].memory.grow(1);
  for (const q of queries) assert.deepEqual(cg.search(q, 7), cp.search(q, 7));
});

test('searchInto writes exactly what search returns into the caller\'s arrays, for one core and a cluster', () => {
  const r = rng(2024);
  for (const metric of ['l2', 'cosine', 'dot']) {
    const index = new MicroHnsw({ dims: 16, metric });
    const cluster = new MicroHnswCluster({ dims: 16, metric, cores: 12 });
    const vectors = randomVectors(r, 29, 16);
    for (const [i, v] of vectors.entries()) {
      index.insert(v);
      cluster.insert(v);
      cluster.insert(randomVectors(r, 1, 16)[0]);
      if (i % 7 !== 0) continue;
      // Partly filled too: fewer stored vectors than k.
      for (const k of [1, 5, 16]) {
        const q = randomVectors(r, 1, 16)[0];
        for (const [target, IdArray, DistArray] of [[index, Uint8Array, Float32Array], [index, Float64Array, Float64Array], [cluster, Int32Array, Float32Array], [cluster, Uint16Array, Float64Array]]) {
          const want = target.search(q, k);
          const ids = new IdArray(k + 2).fill(77);
          const distances = new DistArray(k + 2).fill(-5);
          const n = target.searchInto(q, k, ids, distances);
          assert.equal(n, want.length, `${metric} k=${k} ${IdArray.name}`);
          assert.deepEqual(Array.from(ids.subarray(0, n)), want.map((h) => h.id));
          assert.deepEqual(Array.from(distances.subarray(0, n)), want.map((h) => h.distance));
          assert.ok(ids.subarray(n).every((v) => v === 77) && distances.subarray(n).every((v) => v === -5), 'later entries untouched');
        }
      }
    }
  }
});

test('searchInto: bad arguments throw a named error and write nothing; aliasing the core\'s memory is safe', () => {
  const index = new MicroHnsw({ dims: 4 });
  const cluster = new MicroHnswCluster({ dims: 4, cores: 9 }); // capacity 288: ids past 255
  for (const v of randomVectors(rng(5), 20, 4)) { index.insert(v); cluster.insert(v); }
  const q = [0.1, 0.2, 0.3, 0.4];
  const ids = new Int32Array(4).fill(9);
  const dist = new Float32Array(4).fill(9);
  const untouched = () => assert.ok(ids.every((v) => v === 9) && dist.every((v) => v === 9), 'nothing written');
  for (const target of [index, cluster]) {
    assert.throws(() => target.searchInto(q, 0, ids, dist), message(/k must be an integer in 1\.\.16, got 0/));
    assert.throws(() => target.searchInto(q, 5, ids, dist), message(/ids has room for 4 hits, fewer than k = 5/));
    assert.throws(() => target.searchInto(q, 3, ids, new Float32Array(2)), message(/distances has room for 2 hits, fewer than k = 3/));
    assert.throws(() => target.searchInto(q, 3, [0, 0, 0], dist), (e) => e instanceof TypeError && /ids must be an integer typed array/.test(e.message));
    assert.throws(() => target.searchInto(q, 3, new Float32Array(3), dist), TypeError);
    assert.throws(() => target.searchInto(q, 3, ids, new Int32Array(3)), message(/distances must be a Float32Array or a Float64Array/));
    assert.throws(() => target.searchInto([1, 2], 3, ids, dist), message(/4 dimensions/));
    assert.throws(() => target.searchInto([1, NaN, 2, 3], 3, ids, dist), message(/finite/));
    untouched();
  }
  assert.throws(() => cluster.searchInto(q, 3, new Uint8Array(3), dist), message(/Uint8Array, which cannot hold ids up to 287/));
  assert.equal(index.searchInto(q, 3, new Uint8Array(3), dist.subarray(0, 3)), 3, 'a Uint8Array holds one core\'s ids');
  // The caller's arrays may even be views of the core's own result buffer, placed so that each
  // write lands on a record not read yet (record 1's id, record 2's onward): every hit is read first.
  const want = index.search(q, 4);
  const results = index.exports.get_result_ptr();
  const aliasedIds = new Uint8Array(index.memory.buffer, results + 8, 4);
  const aliasedDist = new Float32Array(index.memory.buffer, results + 16, 4);
  assert.equal(index.searchInto(q, 4, aliasedIds, aliasedDist), 4);
  assert.deepEqual(Array.from(aliasedIds), want.map((h) => h.id));
  assert.deepEqual(Array.from(aliasedDist), want.map((h) => h.distance));
});
