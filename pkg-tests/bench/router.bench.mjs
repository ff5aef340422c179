// `npm run bench` — FastGRNN router (Node, medians of 25 batches, all numbers from this run):
// route() / routeInto() of the package's router module beside a plain-JS forward pass of the same
// weights (preallocated Float32Array buffers, identical equations), and route() beside the
// wasm-bindgen method it replaced; each comparison is one measurePair (batches interleaved) and its
// ratio is the median of the per-pair ratios; then the router
// module's raw/gzip size beside the SONA module's. Model: the seed's configuration (5 features,
// 8 hidden, rank 4, 1 output) trained on a planted rule, float and INT8-quantised; and 16 hidden.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { rng, unpack, forward, xorRows } from '../router/reference.mjs';
import { fmt, measurePair } from './measure.mjs';

const pkgDir = new URL('../../pkg/', import.meta.url);
// The package's Node entry, as users get it: type checks and the route/routeInto fast paths.
const { FastGrnnRouter, RouterTrainer } = await import(new URL('router.node.js', pkgDir).href);
const { routerBindgenMethodsOf } = await import(new URL('router_fast.js', pkgDir).href);
const bindgen = routerBindgenMethodsOf(FastGrnnRouter);


/** A plain-JS forward pass with preallocated buffers (the baseline); returns the chosen route. */
function jsRouter(t) {
  const { d, h, o, rank } = t;
  const { nu, zeta } = t.c;
  const x = new Float32Array(d), hs = new Float32Array(h), next = new Float32Array(h), u = new Float32Array(h);
  const g = new Float32Array(h), s = new Float32Array(rank), z = new Float32Array(o);
  return (features) => {
    hs.fill(0);
    for (let step = 0; step < features.length / d; step++) {
      for (let k = 0; k < d; k++) x[k] = (features[step * d + k] - t.mean[k]) / t.std[k];
      for (let i = 0; i < h; i++) {
        let ar = t.br[i], au = t.bu[i];
        for (let k = 0; k < d; k++) { ar += t.wr[i * d + k] * x[k]; au += t.wu[i * d + k] * x[k]; }
        u[i] = 1 / (1 + Math.exp(-nu * au));
        g[i] = hs[i] / (1 + Math.exp(-nu * ar));
      }
      for (let k = 0; k < rank; k++) { let acc = 0; for (let j = 0; j < h; j++) acc += t.b[j * rank + k] * g[j]; s[k] = acc; }
      for (let i = 0; i < h; i++) {
        let ac = t.bc[i];
        for (let k = 0; k < d; k++) ac += t.wc[i * d + k] * x[k];
        if (rank === 0) for (let j = 0; j < h; j++) ac += t.w[i * h + j] * g[j];
        else for (let k = 0; k < rank; k++) ac += t.a[i * rank + k] * s[k];
        next[i] = u[i] * hs[i] + (1 - u[i]) * Math.tanh(zeta * ac);
      }
      hs.set(next);
    }
    for (let j = 0; j < o; j++) { let v = t.bout[j]; for (let i = 0; i < h; i++) v += t.wout[j * h + i] * hs[i]; z[j] = v; }
    if (o === 1) return z[0] >= 0 ? 1 : 0;
    let best = 0;
    for (let j = 1; j < o; j++) if (z[j] > z[best]) best = j;
    return best;
  };
}

const rand = rng(77);
const data = xorRows(rand, 1000);
const inputs = Array.from({ length: 256 }, () => Float32Array.from({ length: 5 }, rand));
const rows = [];
for (const hidden of [8, 16]) {
  const trainer = new RouterTrainer({ hidden_dim: hidden, learning_rate: 0.02, epochs: 60, seed: 1 });
  for (const { x, y } of data) trainer.addSample(x, y);
  const t0 = performance.now();
  const metrics = trainer.train();
  const trainMs = performance.now() - t0;
  const float = trainer.model();
  const quant = FastGrnnRouter.fromBytes(float.toBytes());
  quant.quantize();
  for (const [label, model] of [['float', float], ['int8', quant]]) {
    const ref = unpack(model);
    const js = jsRouter(ref);
    // The baseline must decide like the package (checked on every input before timing).
    for (const x of inputs) if (js(x) !== model.route(x).route || Math.abs(forward(ref, x)[0] - model.route(x).scores[0]) > 1e-5) throw new Error('baseline disagrees');
    const scores = new Float32Array(1);
    let sink = 0;
    const route = (n) => { for (let i = 0; i < n; i++) sink += model.route(inputs[i & 255]).route; };
    const into = (n) => { for (let i = 0; i < n; i++) sink += model.routeInto(inputs[i & 255], scores); };
    const plain = (n) => { for (let i = 0; i < n; i++) sink += js(inputs[i & 255]); };
    // The wasm-bindgen method the fast path replaced (src/js/router_fast.js), for before/after.
    const bg = (n) => { for (let i = 0; i < n; i++) sink += bindgen.route.call(model, inputs[i & 255]).route; };
    // Each row's comparisons, each timed in interleaved batches: [a, b, median of a ÷ b per pair].
    const routeVsJs = measurePair(route, plain, 2000);
    const intoVsJs = measurePair(into, plain, 2000);
    const bgVsRoute = measurePair(bg, route, 2000);
    if (sink < 0) console.log(sink);
    rows.push({ model: `h=${hidden} ${label}`, params: model.parameterCount, bytes: model.sizeBytes, routeVsJs, intoVsJs, bgVsRoute });
  }
  console.log(`train h=${hidden}: ${metrics.epochs} epochs on 800 samples in ${trainMs.toFixed(0)} ms (val accuracy ${(metrics.val_accuracy * 100).toFixed(1)} %)`);
}

console.log('\nmodel         params  bytes   route()    routeInto()  plain JS   route/JS  routeInto/JS   route() via wasm-bindgen');
for (const r of rows) {
  const [route, js, routeJs] = r.routeVsJs;
  const [into, , intoJs] = r.intoVsJs;
  const [bg, , bgRoute] = r.bgVsRoute;
  console.log(`${r.model.padEnd(13)} ${String(r.params).padStart(6)} ${String(r.bytes).padStart(6)}   ${fmt(route).padStart(8)}   ${fmt(into).padStart(9)}   ${fmt(js).padStart(8)}   ${routeJs.toFixed(2).padStart(6)}x  ${intoJs.toFixed(2).padStart(8)}x   ${fmt(bg).padStart(8)} (${bgRoute.toFixed(2)}x route())`);
}
console.log('(route() and plain JS: medians of one interleaved measurement of the two; routeInto() and wasm-bindgen: of their own pairing with\n'
  + ' plain JS and route() respectively. Every ratio is paired: the median of 25 ratios of batches timed back to back.)');

const size = (name) => { const b = readFileSync(new URL(name, pkgDir)); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
const router = size('router_wasm_bg.wasm');
const sona = size('sona_wasm_bg.wasm');
console.log(`\nrouter_wasm_bg.wasm ${router.raw} B raw, ${router.gzip} B gzip; sona_wasm_bg.wasm ${sona.raw} B raw, ${sona.gzip} B gzip (router/SONA gzip ${(router.gzip / sona.gzip).toFixed(2)})`);
