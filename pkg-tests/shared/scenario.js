// The runtime smoke scenario shared by the Node, Deno, workerd and Chromium tests. It takes the
// package's two entry points and does real work with each; every expected value is computed here in
// plain JS, independently of the wasm, so a test fails if the wasm is not really loaded and computing.

/** Deterministic pseudo-random numbers in [-1, 1) (LCG), so every runtime sees the same data. */
export function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2147483648 - 1;
  };
}

function unit(v) {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

/** micro-HNSW: 32 vectors of 8 dims, L2 metric; the nearest neighbour must match a JS brute force. */
export function microHnswScenario({ MicroHnsw }) {
  const rand = lcg(7);
  const dims = 8;
  const index = new MicroHnsw({ dims, metric: 'l2', coreId: 0 });
  const vectors = [];
  for (let i = 0; i < 32; i++) {
    const v = Float32Array.from({ length: dims }, rand);
    vectors.push(v);
    index.insert(v);
  }
  const query = Float32Array.from({ length: dims }, rand);
  const found = index.search(query, 3);
  let bestId = -1;
  let bestDist = Infinity;
  vectors.forEach((v, id) => {
    const d = Math.hypot(...v.map((x, j) => x - query[j]));
    if (d < bestDist) { bestDist = d; bestId = id; }
  });
  // Saved and restored: the same answer.
  const restored = MicroHnsw.fromBytes(index.toBytes()).search(query, 3);
  const restoredSame = JSON.stringify(restored) === JSON.stringify(found);
  // The allocation-free variant writes the same hits into the caller's arrays.
  const ids = new Uint8Array(3);
  const distances = new Float32Array(3);
  const n = index.searchInto(query, 3, ids, distances);
  const intoSame = n === found.length && found.every((h, i) => h.id === ids[i] && h.distance === distances[i]);
  return { count: vectors.length, foundId: found[0]?.id, foundDistance: found[0]?.distance, resultCount: found.length, expectedId: bestId, expectedDistance: bestDist, restoredSame, intoSame };
}

/** SONA: trajectories whose high-reward steps point along `good` must bend applyLora(query) toward it. */
export function sonaScenario({ WasmSonaEngine }) {
  const dim = 16;
  const rand = lcg(11);
  const engine = WasmSonaEngine.withConfig({ hidden_dim: dim, embedding_dim: dim, micro_lora_rank: 2, micro_lora_lr: 0.01, seed: 42 });
  const topic = unit(Array.from({ length: dim }, rand));
  const good = unit(Array.from({ length: dim }, rand));
  const query = Float32Array.from(topic);
  const before = engine.applyLora(query);
  for (let t = 0; t < 200; t++) {
    const q = Float32Array.from(topic.map((x) => x + 0.05 * rand()));
    const id = engine.startTrajectory(q);
    engine.addStep(id, Float32Array.from(good.map((x) => x + 0.05 * rand())), new Float32Array([0.5, 0.5]), 0.9);
    engine.addStep(id, Float32Array.from({ length: dim }, rand), new Float32Array([0.5, 0.5]), 0.1);
    engine.endTrajectory(id, 0.9);
  }
  engine.runInstantCycle();
  const after = engine.applyLora(query);
  const deltaBefore = Array.from(before, (x, i) => x - query[i]);
  const deltaAfter = Array.from(after, (x, i) => x - query[i]);
  const exported = microDelta(engine.exportLora(), query);
  engine.free();
  return {
    exportError: Math.max(...exported.map((d, i) => Math.abs(d - deltaAfter[i]))),
    outputLength: after.length,
    changed: deltaAfter.some((x, i) => Math.abs(x - deltaBefore[i]) > 1e-6),
    deltaNorm: Math.hypot(...deltaAfter),
    cosineWithGood: cosine(deltaAfter, good),
  };
}

/**
 * `(alpha / r) · B (A x)` from the MicroLoRA tensors of `exportLora()` bytes (SafeTensors: u64 LE
 * header length, JSON header, little-endian f32 data at the tensors' data_offsets).
 */
function microDelta(bytes, x) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const tensor = (name) => {
    const { shape, data_offsets: [begin, end] } = header[`base_model.model.micro_lora.${name}.weight`];
    return { shape, at: (i) => view.getFloat32(8 + n + begin + 4 * i, true), length: (end - begin) / 4 };
  };
  const a = tensor('lora_A'), b = tensor('lora_B');
  const [r, d] = a.shape;
  const h = Array.from({ length: r }, (_, k) => x.reduce((s, xi, i) => s + a.at(k * d + i) * xi, 0));
  const scale = Number(header.__metadata__.lora_alpha) / r;
  return Array.from({ length: d }, (_, i) => scale * h.reduce((s, hk, k) => s + b.at(i * r + k) * hk, 0));
}

/** Checks shared by every runtime test; returns a list of failures (empty = pass). */
export function checkResults({ hnsw, sona }) {
  const failures = [];
  if (hnsw.resultCount !== 3) failures.push(`micro-HNSW returned ${hnsw.resultCount} results, expected 3`);
  if (hnsw.foundId !== hnsw.expectedId) failures.push(`micro-HNSW nearest id ${hnsw.foundId}, brute force says ${hnsw.expectedId}`);
  // micro-HNSW reports the squared Euclidean distance for the l2 metric.
  const squared = hnsw.expectedDistance ** 2;
  if (!(Math.abs(hnsw.foundDistance - squared) < 1e-4 * Math.max(1, squared))) {
    failures.push(`micro-HNSW distance ${hnsw.foundDistance}, brute-force squared L2 ${squared}`);
  }
  if (hnsw.restoredSame !== true) failures.push('micro-HNSW restored with fromBytes(toBytes()) answered differently');
  if (hnsw.intoSame !== true) failures.push('micro-HNSW searchInto wrote other hits than search returned');
  if (sona.outputLength !== 16) failures.push(`applyLora returned ${sona.outputLength} values, expected 16`);
  if (!sona.changed) failures.push('applyLora output did not change after learning');
  if (!(sona.cosineWithGood > 0.3)) failures.push(`learned delta has cosine ${sona.cosineWithGood} with the rewarded direction, expected > 0.3`);
  if (!(sona.exportError < 1e-5)) failures.push(`exportLora's MicroLoRA tensors give a delta off by ${sona.exportError} from applyLora's`);
  return failures;
}

/**
 * `sona-wasm/router`: a FastGRNN router trained on a planted rule (route 1 iff x0 + x1 > 0) must route
 * held-out inputs as the rule says (labels computed here), and its bytes must round-trip.
 */
export function routerScenario({ FastGrnnRouter, RouterTrainer }) {
  const rand = lcg(21);
  const rule = (x) => (x[0] + x[1] > 0 ? 1 : 0);
  const trainer = new RouterTrainer({ input_dim: 5, hidden_dim: 8, epochs: 60, learning_rate: 0.02, seed: 5 });
  for (let i = 0; i < 400; i++) {
    const x = Float32Array.from({ length: 5 }, rand);
    trainer.addSample(x, rule(x), null);
  }
  trainer.train();
  const router = trainer.model();
  const again = FastGrnnRouter.fromBytes(router.toBytes());
  let correct = 0, same = 0;
  const n = 200;
  for (let i = 0; i < n; i++) {
    const x = Float32Array.from({ length: 5 }, rand);
    const r = router.route(x);
    if (r.route === rule(x)) correct++;
    if (again.route(x).route === r.route) same++;
  }
  router.free();
  again.free();
  trainer.free();
  return { accuracy: correct / n, roundTripAgreement: same / n };
}

/**
 * `sona-wasm/federated`: three agents export their trajectories as bytes; the coordinator accepts
 * exactly those at or above its quality threshold (counted here) and, after consolidating, finds a
 * pattern aligned with each agent's topic.
 */
export function federatedScenario({ WasmEphemeralAgent, WasmFederatedCoordinator }) {
  const dim = 16;
  const rand = lcg(31);
  const topics = Array.from({ length: 3 }, () => unit(Array.from({ length: dim }, rand)));
  const coordinator = new WasmFederatedCoordinator('main', dim);
  coordinator.setQualityThreshold(0.4);
  let expectedAccepted = 0, accepted = 0, rejected = 0;
  topics.forEach((topic, a) => {
    const agent = new WasmEphemeralAgent(`agent-${a}`, dim);
    for (let i = 0; i < 40; i++) {
      const quality = i % 4 === 0 ? 0.2 : 0.8;
      if (quality >= 0.4) expectedAccepted++;
      const q = Float32Array.from(topic.map((x) => x + 0.05 * rand()));
      agent.processTrajectory(q, q, quality, 'model-a', ['ctx']);
    }
    const r = coordinator.aggregate(agent.exportState());
    accepted += r.trajectories_accepted;
    rejected += r.trajectories_rejected;
    agent.free();
  });
  coordinator.consolidate();
  const bestCosines = topics.map((t) => {
    const [best] = coordinator.findPatterns(Float32Array.from(t), 1);
    return best ? cosine(Array.from(best.centroid), t) : -1;
  });
  coordinator.free();
  return { accepted, rejected, expectedAccepted, expectedRejected: 120 - expectedAccepted, bestCosines };
}

/** Checks for the optional router and federated results; returns a list of failures. */
export function checkExtras({ router, federated }) {
  const failures = [];
  if (router) {
    if (!(router.accuracy >= 0.9)) failures.push(`router held-out accuracy ${router.accuracy}, expected ≥ 0.9`);
    if (router.roundTripAgreement !== 1) failures.push(`router from bytes agrees on ${router.roundTripAgreement} of decisions, expected all`);
  }
  if (federated) {
    if (federated.accepted !== federated.expectedAccepted || federated.rejected !== federated.expectedRejected) {
      failures.push(`coordinator accepted/rejected ${federated.accepted}/${federated.rejected}, expected ${federated.expectedAccepted}/${federated.expectedRejected}`);
    }
    if (!federated.bestCosines.every((c) => c > 0.95)) failures.push(`coordinator patterns vs agent topics: cosines ${federated.bestCosines}, expected each > 0.95`);
  }
  return failures;
}
