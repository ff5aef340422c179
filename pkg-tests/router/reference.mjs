// Plain-JS FastGRNN forward pass, written from the cell equations in the README / src/router.rs docs
// (not from the wasm): the tests compare the package's route() with it, and the benchmark uses it
// as the same-run baseline. Parameters come from `router.parameters()` in the documented order.

/** Seeded generator: uniform in [-1, 1). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s + 0.5) / 4294967296) * 2 - 1;
  };
}

const sigmoid = (a) => 1 / (1 + Math.exp(-a));

/** Unpacks the flat parameters of a router with config `c` into named tensors (row-major). */
export function unpack(router) {
  const c = router.config();
  const p = router.parameters();
  const { input_dim: d, hidden_dim: h, output_dim: o } = c;
  const rank = c.rank ?? 0;
  let at = 0;
  const take = (n) => { const t = p.subarray(at, at + n); at += n; return t; };
  const t = { c, d, h, o, rank };
  t.wr = take(h * d); t.wu = take(h * d); t.wc = take(h * d);
  if (rank === 0) t.w = take(h * h); else { t.a = take(h * rank); t.b = take(h * rank); }
  t.wout = take(o * h);
  t.br = take(h); t.bu = take(h); t.bc = take(h); t.bout = take(o);
  if (at !== p.length) throw new Error(`parameter count ${p.length} does not match the layout (${at})`);
  t.mean = router.featureMean; t.std = router.featureStd;
  return t;
}

/** Scores for `features` (k · input_dim values): [sigmoid] for one output, softmax otherwise. */
export function forward(t, features) {
  const { d, h, o, rank } = t;
  const { nu, zeta } = t.c;
  let hs = new Float64Array(h);
  const x = new Float64Array(d), r = new Float64Array(h), g = new Float64Array(h), s = new Float64Array(rank);
  for (let step = 0; step < features.length / d; step++) {
    for (let k = 0; k < d; k++) x[k] = (features[step * d + k] - t.mean[k]) / t.std[k];
    const u = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      let ar = t.br[i], au = t.bu[i];
      for (let k = 0; k < d; k++) { ar += t.wr[i * d + k] * x[k]; au += t.wu[i * d + k] * x[k]; }
      r[i] = sigmoid(nu * ar); u[i] = sigmoid(nu * au); g[i] = r[i] * hs[i];
    }
    for (let k = 0; k < rank; k++) { let acc = 0; for (let j = 0; j < h; j++) acc += t.b[j * rank + k] * g[j]; s[k] = acc; }
    const next = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      let ac = t.bc[i];
      for (let k = 0; k < d; k++) ac += t.wc[i * d + k] * x[k];
      if (rank === 0) for (let j = 0; j < h; j++) ac += t.w[i * h + j] * g[j];
      else for (let k = 0; k < rank; k++) ac += t.a[i * rank + k] * s[k];
      next[i] = u[i] * hs[i] + (1 - u[i]) * Math.tanh(zeta * ac);
    }
    hs = next;
  }
  const z = Array.from({ length: o }, (_, j) => { let v = t.bout[j]; for (let i = 0; i < h; i++) v += t.wout[j * h + i] * hs[i]; return v; });
  if (o === 1) return [sigmoid(z[0])];
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The route the scores choose: p >= 0.5 → 1 for one output, else the arg-max. */
export function routeOf(scores) {
  if (scores.length === 1) return scores[0] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** XOR-like planted rule on 5 features: route 1 iff x0 · x1 > 0 (x2..x4 are noise). */
export function xorRows(rand, n) {
  return Array.from({ length: n }, () => {
    const x = Float32Array.from({ length: 5 }, rand);
    return { x, y: x[0] * x[1] > 0 ? 1 : 0 };
  });
}
