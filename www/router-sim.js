// The self-learning router simulation, shared by the Web Worker (the runs) and the page (numbers).
//
// The workload: TOPICS topics, each a random unit direction in the query space; every topic has a
// hidden best route among ROUTES routes (feedback quality ≈ 0.9) and worse ones (≈ 0.15–0.45). A
// request is its topic's direction plus noise. The router never sees the topic or the quality table:
// for a request q it scores each route r by asking the engine
//   • ReasoningBank: findPatterns(embed(q', r), 1) — the learned pattern closest to "q' on route r";
//     if it is close enough (cosine ≥ MATCH_COSINE) its avg_quality is the route's expected quality,
//     otherwise the route is unexplored and gets PRIOR_QUALITY;
//   • MicroLoRA: q' = applyLoraInto(embed(q, none)) is the LoRA-adapted request, and the part of its
//     delta that points along route r's code adds LORA_WEIGHT · cos(delta, code_r) to the score;
// then takes the best route (ε-greedy). Feedback goes back as a trajectory: startTrajectory(embed(q, r)),
// addStep(activations = embed(q, r), reward = quality), setTrajectoryRoute, endTrajectory(quality);
// every CONSOLIDATE_EVERY requests forceLearn() re-clusters the buffered trajectories into patterns.
// The "current patterns' average quality" curve is the mean avg_quality of every stored pattern,
// read back with findPatterns(·, patterns_stored).
// The baseline replays the same stream (same seeds) against an engine with setEnabled(false): same
// code path, no learning. So the gap between the curves is the engine's doing — the JS side keeps no
// per-topic or per-route statistics of its own.

import { createRng, normalize } from './lib/rng.js';

export const DIMS = 64; // hidden_dim = embedding_dim of the demo's engines
export const CONTENT_DIMS = 48; // query content; the rest holds the route code
export const ROUTES = 4;
export const TOPICS = 6;
export const ROUTE_BLOCK = (DIMS - CONTENT_DIMS) / ROUTES; // dims per route code
export const WINDOW = 50; // requests per point of the learning curve
export const CONSOLIDATE_EVERY = 100;
export const EPSILON = 0.1;
export const PRIOR_QUALITY = 0.5;
export const MATCH_COSINE = 0.7;
export const LORA_WEIGHT = 0.15;
export const NOISE = 0.12; // per content dimension: cos(request, topic) ≈ 0.77

/** The hidden world: topic directions and the quality of each route for each topic. */
export function createWorkload(seed) {
  const rng = createRng(seed ^ 0x5eed);
  const topics = [];
  const quality = [];
  for (let t = 0; t < TOPICS; t++) {
    const dir = new Float32Array(CONTENT_DIMS);
    for (let i = 0; i < CONTENT_DIMS; i++) dir[i] = rng.gaussian();
    topics.push(normalize(dir));
    const best = rng.int(ROUTES);
    quality.push(Array.from({ length: ROUTES }, (_, r) => (r === best ? 0.9 : 0.15 + 0.3 * rng.next())));
  }
  return { topics, quality };
}

/** A request stream: the same seed gives the same requests and the same feedback noise. */
export function createStream(workload, seed) {
  const rng = createRng(seed);
  return () => {
    const topic = rng.int(TOPICS);
    const q = new Float32Array(CONTENT_DIMS);
    const dir = workload.topics[topic];
    for (let i = 0; i < CONTENT_DIMS; i++) q[i] = dir[i] + NOISE * rng.gaussian();
    normalize(q);
    const feedbackNoise = 0.05 * rng.gaussian();
    return { topic, q, feedbackNoise };
  };
}

/** Write the engine embedding of query content `q` on `route` (−1: no route) into `out`. */
export function embed(q, route, out = new Float32Array(DIMS)) {
  out.fill(0);
  out.set(q.subarray(0, CONTENT_DIMS), 0);
  if (route >= 0) {
    const start = CONTENT_DIMS + route * ROUTE_BLOCK;
    const v = 1 / Math.sqrt(ROUTE_BLOCK); // unit-length route code
    for (let i = 0; i < ROUTE_BLOCK; i++) out[start + i] = v;
  }
  return out;
}

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Cosine of a found pattern with the query: the engine reports it as `similarity`. */
const similarityOf = (pattern, query) => pattern.similarity ?? cosine(pattern.centroid, query);

/** Mean avg_quality over every pattern the engine currently stores (0 when there are none). */
export function meanPatternQuality(engine, count) {
  if (count === 0) return 0;
  const all = engine.findPatterns(new Float32Array(DIMS).fill(1), count);
  return all.reduce((s, p) => s + p.avg_quality, 0) / all.length;
}

/**
 * One router: an engine, its exploration generator and scratch buffers.
 * `learning = false` makes it the baseline (the engine's learning switched off).
 */
export class Router {
  constructor(engine, { learning, policySeed }) {
    this.engine = engine;
    this.learning = learning;
    this.rng = createRng(policySeed);
    this.plain = new Float32Array(DIMS);
    this.adapted = new Float32Array(DIMS);
    this.probe = new Float32Array(DIMS);
    this.code = new Float32Array(DIMS);
    this.scores = new Float64Array(ROUTES);
    if (!learning) engine.setEnabled(false);
  }

  /** Score every route for request content `q` using the engine; returns the scores array. */
  score(q) {
    const { engine, plain, adapted, probe, code, scores } = this;
    embed(q, -1, plain);
    engine.applyLoraInto(plain, adapted);
    const delta = new Float32Array(DIMS);
    for (let i = 0; i < DIMS; i++) delta[i] = adapted[i] - plain[i];
    for (let r = 0; r < ROUTES; r++) {
      embed(adapted, r, probe);
      const best = engine.findPatterns(probe, 1)[0];
      let expected = PRIOR_QUALITY;
      if (best && similarityOf(best, probe) >= MATCH_COSINE) {
        expected = best.avg_quality;
      }
      embed(new Float32Array(0), r, code);
      scores[r] = expected + LORA_WEIGHT * cosine(delta, code);
    }
    return scores;
  }

  /** Pick a route for `q`: best score, or with probability EPSILON a random one. */
  choose(q) {
    const scores = this.score(q);
    const explore = this.rng.next() < EPSILON;
    const randomRoute = this.rng.int(ROUTES);
    if (explore) return randomRoute;
    let best = 0;
    for (let r = 1; r < ROUTES; r++) {
      // Ties (e.g. nothing learned yet) go to the random route so no route is favoured.
      if (scores[r] > scores[best] || (scores[r] === scores[best] && r === randomRoute)) best = r;
    }
    return best;
  }

  /** Report the feedback for routing `q` to `route` as a finished trajectory. */
  feedback(q, route, quality) {
    const { engine, probe } = this;
    embed(q, route, probe);
    const id = engine.startTrajectory(probe);
    engine.addStep(id, probe, uniformAttention, quality);
    engine.setTrajectoryRoute(id, `route-${route}`);
    engine.endTrajectory(id, quality);
  }
}

const uniformAttention = new Float32Array(DIMS).fill(1 / DIMS);

/** Stats as a flat object of numbers/strings/booleans (nested objects flattened with dots). */
export function flattenStats(stats, prefix = '', out = {}) {
  const entries = stats instanceof Map ? stats.entries() : Object.entries(stats ?? {});
  for (const [key, value] of entries) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value === undefined) continue; // optional fields that are absent
    if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
      flattenStats(value, name, out);
    } else if (typeof value === 'bigint') {
      out[name] = Number(value);
    } else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
      out[name] = `[${value.length} values]`;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/**
 * Run the learning router and the baseline side by side on the same stream.
 * @param {object} o
 * @param {typeof import('sona-wasm').WasmSonaEngine} o.WasmSonaEngine
 * @param {object} o.config `withConfig` argument ({preset, seed, …}); hidden/embedding dims are set to DIMS
 * @param {number} o.requests
 * @param {number} o.seed
 * @param {(p: object) => void} [o.onWindow] called after every WINDOW requests
 * @param {() => boolean} [o.shouldStop]
 * @returns {Promise<{engine, curve: number[], baseline: number[], patterns: number[], patternQuality: number[], done: number}>}
 */
export async function runSimulation({ WasmSonaEngine, config, requests, seed, onWindow, shouldStop }) {
  const workload = createWorkload(seed);
  const next = createStream(workload, seed);
  const engineConfig = { ...config, hidden_dim: DIMS, embedding_dim: DIMS };
  const learner = new Router(WasmSonaEngine.withConfig(engineConfig), { learning: true, policySeed: seed + 1 });
  const baseline = new Router(WasmSonaEngine.withConfig(engineConfig), { learning: false, policySeed: seed + 1 });
  const result = { engine: learner.engine, curve: [], baseline: [], patterns: [], patternQuality: [], done: 0 };
  let sumLearn = 0;
  let sumBase = 0;
  try {
    for (let i = 1; i <= requests; i++) {
      const { topic, q, feedbackNoise } = next();
      for (const router of [learner, baseline]) {
        const route = router.choose(q);
        const quality = Math.min(1, Math.max(0, workload.quality[topic][route] + feedbackNoise));
        router.feedback(q, route, quality);
        if (router === learner) sumLearn += quality;
        else sumBase += quality;
        if (i % CONSOLIDATE_EVERY === 0) router.engine.forceLearn();
      }
      result.done = i;
      if (i % WINDOW === 0) {
        result.curve.push(sumLearn / WINDOW);
        result.baseline.push(sumBase / WINDOW);
        const count = learner.engine.stats().patterns_stored;
        result.patterns.push(count);
        result.patternQuality.push(meanPatternQuality(learner.engine, count));
        sumLearn = sumBase = 0;
        onWindow?.(result);
        // Yield to the event loop so a "stop" message (and the page) can get through.
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (shouldStop?.()) break;
      }
    }
  } finally {
    baseline.engine.free?.();
  }
  return result;
}
