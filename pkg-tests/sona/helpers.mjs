// Shared helpers for the SONA package tests: seeded random vectors and planted topics, all in plain
// JS so that expected values never come from the wasm itself, and the bad-input assertion.
import assert from 'node:assert/strict';

/** Asserts that `call` throws an Error (not a wasm trap) whose message matches `pattern`. */
export function rejects(call, pattern, label) {
  assert.throws(call, (err) => {
    assert.ok(err instanceof Error && !(err instanceof WebAssembly.RuntimeError), `${label}: ${err}`);
    assert.match(err.message, pattern, label);
    return true;
  }, label);
}

/** Seeded generator: uniform in [0, 1) and standard normal. */
export function rng(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

export function unit(r, dim) {
  const v = Float32Array.from({ length: dim }, r.normal);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** `centre` plus noise of L2 norm about `rel`. */
export function noisy(r, centre, rel) {
  const s = rel / Math.sqrt(centre.length);
  return centre.map((c) => c + s * r.normal());
}

export function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na > 0 && nb > 0 ? d / Math.sqrt(na * nb) : 0;
}

export const sub = (a, b) => a.map((x, i) => x - b[i]);

/** Planted topics: each has a query direction and a hidden "good" direction. */
export function topics(r, n, dim) {
  return { query: Array.from({ length: n }, () => unit(r, dim)), good: Array.from({ length: n }, () => unit(r, dim)) };
}

/** One trajectory of topic t: two high-reward steps along the good direction, two low-reward noise steps. */
export function runTopic(engine, r, tp, t, dim) {
  const id = engine.startTrajectory(noisy(r, tp.query[t], 0.3));
  const steps = [
    [noisy(r, tp.good[t], 0.3), 0.9],
    [unit(r, dim), 0.1],
    [noisy(r, tp.good[t], 0.3), 0.9],
    [unit(r, dim), 0.1],
  ];
  for (let i = steps.length - 1; i > 0; i--) {
    const j = Math.floor(r.uniform() * (i + 1));
    [steps[i], steps[j]] = [steps[j], steps[i]];
  }
  for (const [a, reward] of steps) engine.addStep(id, a, new Float32Array(0), reward);
  engine.endTrajectory(id, 0.8);
  return id;
}

/**
 * An engine of `Engine` (a WasmSonaEngine class) with some learned state and one open trajectory,
 * for the bad-argument tests, which check that a refused call leaves that state as it was: `dim`
 * features, `trajectories` ended with steps along `x` rewarded `reward` (quality 0.9), then a
 * forceLearn. `x` is (i + 1) / 10 per feature, an Array or a Float32Array (`asArray`).
 */
export function engineWithState(Engine, { dim, seed, trajectories, reward, asArray }) {
  const e = Engine.withConfig({ hidden_dim: dim, seed });
  const x = (asArray ? Array : Float32Array).from({ length: dim }, (_, i) => (i + 1) / 10);
  for (let t = 0; t < trajectories; t++) {
    const id = e.startTrajectory(x.map((v) => v * (t + 1)));
    e.addStep(id, x, [], reward);
    e.endTrajectory(id, 0.9);
  }
  e.forceLearn();
  return { e, x, open: e.startTrajectory(x) };
}
