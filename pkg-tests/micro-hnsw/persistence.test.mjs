// MicroHnsw / MicroHnswCluster toBytes → fromBytes through the package: the restored index answers
// every search bit for bit as the saved one, keeps types, edge weights, adapted thresholds and
// learned STDP weights, and a cluster goes on inserting where it left off; damaged, foreign or
// inconsistent bytes are refused with an Error that names the problem. The checksum is recomputed
// here (helpers' CRC-32, written from its definition) to build inconsistent bytes that pass it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { crc32, importWrapper, randomVectors, rng } from './helpers.mjs';

const { MicroHnsw, MicroHnswCluster } = await importWrapper();

/** `bytes` with its payload cut short by `n` bytes and the header's length and CRC made to match. */
function shortened(bytes, n) {
  const out = Uint8Array.from(bytes.subarray(0, bytes.length - n));
  const view = new DataView(out.buffer);
  view.setUint32(12, out.length - 20, true);
  view.setUint32(16, crc32(out.subarray(20)), true);
  return out;
}

/** `bytes` with the payload changed by `edit(payload, view)` and the header's CRC made to match. */
function repaired(bytes, edit) {
  const out = Uint8Array.from(bytes);
  const payload = out.subarray(20);
  edit(payload, new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
  new DataView(out.buffer).setUint32(16, crc32(payload), true);
  return out;
}

const bits = (a) => Array.from(a, (x) => Object.is(x, -0) ? '-0' : x.toString());
const hitsOf = (index, queries, k) => queries.map((q) => index.search(q, k).map(({ id, distance }) => `${id}:${bits([distance])}`));

/** A core with state worth keeping: vectors (one moved), types, weights, adapted thresholds, STDP. */
function busyCore(seed, { dims = 12, metric = 'cosine', n = 32, coreId = 3 } = {}) {
  const rand = rng(seed);
  const core = new MicroHnsw({ dims, metric, coreId });
  for (const v of randomVectors(rand, n, dims)) core.insert(v);
  for (let i = 0; i < n; i += 3) core.setNodeType(i, i % 16);
  for (let i = 1; i < n; i += 4) core.setEdgeWeight(i, (i * 37) % 256);
  for (let t = 0; t < 300; t++) {
    core.inject(t % n, 0.9);
    core.tick(1, 0.7, true);
    core.homeostaticUpdate(1);
  }
  return { core, rand };
}

test('a core round trip keeps vectors, searches, types, edge weights, thresholds and STDP weights', () => {
  const { core, rand } = busyCore(1);
  const bytes = core.toBytes();
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'MHNSWCOR');
  const copy = MicroHnsw.fromBytes(bytes);
  assert.deepEqual([copy.dims, copy.metric, copy.coreId, copy.size], [12, 'cosine', 3, 32]);
  const learned = Array.from({ length: 32 }, (_, i) => core.synapses(i).map((s) => s.weight)).flat();
  assert.ok(learned.some((w) => w !== 128), 'STDP changed some weights, so the test checks them');
  assert.ok(Array.from({ length: 32 }, (_, i) => core.threshold(i)).some((t) => t !== 1), 'homeostasis moved some thresholds');
  for (let i = 0; i < 32; i++) {
    assert.deepEqual(bits(copy.vector(i)), bits(core.vector(i)), `vector ${i}`);
    assert.equal(copy.nodeType(i), core.nodeType(i));
    assert.equal(copy.edgeWeight(i), core.edgeWeight(i));
    assert.equal(copy.threshold(i), core.threshold(i));
    assert.deepEqual(copy.synapses(i), core.synapses(i), `links and STDP weights of ${i}`);
  }
  const queries = randomVectors(rand, 40, 12);
  for (const k of [1, 5, 16]) assert.deepEqual(hitsOf(copy, queries, k), hitsOf(core, queries, k));
  assert.deepEqual(copy.toBytes(), bytes, 'saving the restored core gives the same bytes');
  // The restored network runs from rest: it spikes and learns from there.
  let spikes = 0;
  for (let t = 0; t < 50; t++) { copy.inject(t % 32, 0.9); spikes += copy.tick(1, 0.7, true); }
  assert.ok(spikes > 0);
});

test('every metric and size round-trips, the empty core and a partial one included', () => {
  for (const metric of ['l2', 'cosine', 'dot']) {
    for (const [dims, n] of [[1, 0], [16, 1], [5, 17], [16, 32]]) {
      const rand = rng(dims * 100 + n);
      const core = new MicroHnsw({ dims, metric });
      for (const v of randomVectors(rand, n, dims)) core.insert(v);
      const copy = MicroHnsw.fromBytes(core.toBytes().buffer);
      assert.equal(copy.size, n);
      if (n > 0) {
        const queries = randomVectors(rand, 5, dims);
        assert.deepEqual(hitsOf(copy, queries, Math.min(n, 7)), hitsOf(core, queries, Math.min(n, 7)));
      }
      assert.deepEqual(copy.toBytes(), core.toBytes(), `${metric} dims ${dims} n ${n}`);
    }
  }
});

test('vectors moved with updateVector come back moved; links the rebuild makes keep their saved weights', () => {
  const { core, rand } = busyCore(7, { dims: 8, metric: 'l2', n: 20 });
  core.updateVector(4, 0.5, randomVectors(rand, 1, 8)[0]);
  const copy = MicroHnsw.fromBytes(core.toBytes());
  for (let i = 0; i < 20; i++) assert.deepEqual(bits(copy.vector(i)), bits(core.vector(i)));
  const queries = randomVectors(rand, 20, 8);
  assert.deepEqual(hitsOf(copy, queries, 5), hitsOf(core, queries, 5), 'the scan is exact whatever the links');
  for (let i = 0; i < 20; i++) {
    const saved = new Map(core.synapses(i).map((s) => [s.target, s.weight]));
    for (const { target, weight } of copy.synapses(i)) assert.equal(weight, saved.has(target) ? saved.get(target) : 128, `link ${i}→${target}`);
  }
});

test('damaged, foreign and inconsistent core bytes are refused with an Error naming the problem', () => {
  const { core } = busyCore(3, { n: 10 });
  const good = core.toBytes();
  const refused = (bytes, re) => assert.throws(() => MicroHnsw.fromBytes(bytes), (e) => e instanceof Error && re.test(e.message), String(re));
  for (const cut of [0, 7, 19, 20, 21, good.length - 1]) refused(good.subarray(0, cut), /truncated/);
  refused(Uint8Array.from([...good, 0]), /padded/);
  for (const at of [20, 25, good.length - 1]) {
    const flipped = Uint8Array.from(good);
    flipped[at] ^= 0x10;
    refused(flipped, /corrupted|checksum/);
  }
  refused(new TextEncoder().encode('SONAWASM' + '\0'.repeat(40)), /not micro-HNSW core bytes/);
  refused(new MicroHnswCluster({ dims: 4 }).toBytes(), /not micro-HNSW core bytes/);
  const v2 = Uint8Array.from(good);
  new DataView(v2.buffer).setUint32(8, 2, true);
  refused(v2, /version 2/);
  // Consistent checksums, inconsistent contents.
  refused(repaired(good, (p) => { p[0] = 0; }), /dims is 0/);
  refused(repaired(good, (p) => { p[0] = 17; }), /dims is 17/);
  refused(repaired(good, (p) => { p[1] = 3; }), /metric is 3/);
  refused(repaired(good, (p) => { p[3] = 33; }), /count is 33/);
  refused(repaired(good, (p) => { p[3] = 32; }), /malformed micro-HNSW core bytes/);
  refused(shortened(good, 1), /ends inside a link weight of node 9/);
  refused(shortened(good, good.length - 20 - 3), /ends inside count/);
  refused(repaired(good, (p, v) => { v.setFloat32(4, NaN, true); }), /component 0 of vector 0 is NaN/);
  refused(repaired(good, (p, v) => { v.setFloat32(8, 1e30, true); }), /component 1 of vector 0/);
  const types = 4 + 10 * 12 * 4;
  refused(repaired(good, (p) => { p[types + 2] = 16; }), /node type 2 is 16/);
  refused(repaired(good, (p, v) => { v.setFloat32(types + 20, 0, true); }), /threshold 0 is 0/);
  const links = types + 20 + 40;
  refused(repaired(good, (p) => { p[links] = 7; }), /degree of node 0 is 7/);
  refused(repaired(good, (p) => { p[links + 1] = 10; }), /link target of node 0 is 10, expected 0..9/);
  // Links no graph has (toBytes saves a graph's links): a node linked to itself, a pair twice.
  assert.ok(good[20 + links] >= 2, 'node 0 has two links to repeat');
  refused(repaired(good, (p) => { p[links + 1] = 0; }), /^malformed micro-HNSW core bytes: node 0 links to itself$/);
  refused(repaired(good, (p) => { p[links + 3] = p[links + 1]; }), new RegExp(`^malformed micro-HNSW core bytes: node 0 links to node ${good[20 + links + 1]} twice$`));
  refused(Uint8Array.from([...good.subarray(0, 12), ...new Uint8Array(4)]), /truncated|padded/);
  // Any view or buffer of the bytes is accepted (copied first).
  const shared = new SharedArrayBuffer(good.length);
  new Uint8Array(shared).set(good);
  assert.equal(MicroHnsw.fromBytes(shared).size, 10);
  assert.equal(MicroHnsw.fromBytes(new DataView(good.buffer, good.byteOffset, good.length)).size, 10);
  for (const bad of [undefined, null, 'bytes', [1, 2, 3], 42]) {
    assert.throws(() => MicroHnsw.fromBytes(bad), TypeError);
  }
});

test('a cluster round trip answers every search the same and goes on inserting where it left off', () => {
  const rand = rng(99);
  const cluster = new MicroHnswCluster({ dims: 6, metric: 'dot', cores: 24 });
  const ids = randomVectors(rand, 500, 6).map((v) => cluster.insert(v));
  cluster.cores[2].setNodeType(1, 5);
  const bytes = cluster.toBytes();
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'MHNSWCLU');
  const copy = MicroHnswCluster.fromBytes(bytes);
  assert.deepEqual([copy.dims, copy.metric, copy.coreCount, copy.size, copy.cores.length], [6, 'dot', 24, 500, cluster.cores.length]);
  assert.equal(copy.cores[2].nodeType(1), 5);
  for (const id of ids) assert.deepEqual(bits(copy.vector(id)), bits(cluster.vector(id)));
  const queries = randomVectors(rand, 30, 6);
  for (const k of [1, 10, 16]) assert.deepEqual(hitsOf(copy, queries, k), hitsOf(cluster, queries, k));
  for (const v of randomVectors(rand, 268, 6)) assert.equal(copy.insert(v), cluster.insert(v));
  assert.throws(() => copy.insert(new Float32Array(6)), /full/);
  assert.deepEqual(copy.toBytes(), cluster.toBytes());
  // Full and empty clusters too.
  const full = new MicroHnswCluster({ dims: 2, cores: 2 });
  for (const v of randomVectors(rand, 64, 2)) full.insert(v);
  const fullCopy = MicroHnswCluster.fromBytes(full.toBytes());
  assert.throws(() => fullCopy.insert([0, 0]), /full/);
  const empty = MicroHnswCluster.fromBytes(new MicroHnswCluster({ dims: 3 }).toBytes());
  assert.equal(empty.size, 0);
  assert.equal(empty.insert([1, 2, 3]), 0);
});

test('damaged or inconsistent cluster bytes are refused with an Error naming the problem', () => {
  const cluster = new MicroHnswCluster({ dims: 4, cores: 8 });
  for (const v of randomVectors(rng(5), 20, 4)) cluster.insert(v);
  const good = cluster.toBytes();
  const refused = (bytes, re) => assert.throws(() => MicroHnswCluster.fromBytes(bytes), (e) => e instanceof Error && re.test(e.message), String(re));
  refused(good.subarray(0, good.length - 3), /truncated/);
  refused(cluster.cores[0].toBytes(), /not micro-HNSW cluster bytes/);
  const flipped = Uint8Array.from(good);
  flipped[good.length - 5] ^= 1;
  refused(flipped, /corrupted/);
  refused(repaired(good, (p, v) => { v.setUint16(2, 0, true); }), /cores is 0/);
  refused(repaired(good, (p, v) => { v.setUint16(4, 8, true); }), /next core is 8, expected 0..7/);
  refused(repaired(good, (p, v) => { v.setUint16(6, 9, true); }), /number of cores is 9/);
  refused(repaired(good, (p, v) => { v.setUint16(6, 5, true); }), /bytes after the last field/);
  refused(repaired(good, (p, v) => { v.setUint16(6, 3, true); }), /number of cores is 3, expected 4..8/);
  refused(repaired(good, (p, v) => { v.setUint32(8, 5, true); }), /core 0: micro-HNSW core bytes are truncated/);
  // A core length past the payload's end: said once, not wrapped in a second "malformed … bytes".
  refused(repaired(good, (p, v) => { v.setUint32(8, 1e6, true); }), /^malformed micro-HNSW cluster bytes: the payload ends inside core 0$/);
  // A core whose id does not match its place, framed correctly inside a correct cluster frame.
  refused(repaired(good, (p) => {
    const core = p.subarray(12, 12 + new DataView(p.buffer, p.byteOffset + 8).getUint32(0, true));
    const payload = core.subarray(20);
    payload[2] = 5;
    new DataView(core.buffer, core.byteOffset).setUint32(16, crc32(payload), true);
  }), /core 0 has .* id 5/);
});
