// SONA benchmarks (issue 3): 256-d, rank 2, medians, in Node.
//   ours (pkg/, SIMD128)  vs  @ruvector/learning-wasm and @ruvector/sona (same run)  vs  ours built
//   without simd128.
// "target here": the issue's targets were set on its author's machine, where it also measured the
// reference packages. Each target becomes a ratio to the reference of its row (target ÷ reference
// as the issue measured it), checked against ours ÷ that reference measured here in batches timed
// back to back; rows without an issue measurement get "—".
// The scalar build is compiled here: cargo with RUSTFLAGS="-C target-feature=-simd128" (the env var
// replaces .cargo/config.toml's +simd128) into its own target dir, then wasm-bindgen into a temp dir,
// then wasm-opt -O3 with the package build's flags (pkg-tests/tools/build.mjs) less --enable-simd, so
// that the scalar build differs from pkg/ in its kernels only, not in wasm-opt.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { WasmSonaEngine } from 'sona-wasm';
import { bindgenMethodsOf, installFastPaths } from '../../pkg/fast.js';
import { initSync as initRuvector, WasmMicroLoRA } from '@ruvector/learning-wasm';
import { fmt, median } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIM = 256;

// ---------- timing ----------
/**
 * A full collection before each timed batch when Node runs with --expose-gc (as `npm run bench`
 * does): otherwise the garbage of one batch (e.g. the wasm-bindgen route's in a paired
 * comparison) is collected on the time of the next.
 */
const collectGarbage = globalThis.gc ?? (() => {});
/** A timer of one batch: runs `fn(0..batch)` after a full collection, returns ns per call. */
const batchTimer = (fn, batch) => () => {
  collectGarbage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / batch;
};
/**
 * `samples` pairs of `timeA()` and `timeB()` (each returns one measurement), back to back, the order
 * alternating (a, b, b, a, …) so that load changes on this shared machine hit both alike; returns
 * the two lists of measurements, pair by pair.
 */
function alternate(timeA, timeB, samples) {
  const ta = [];
  const tb = [];
  for (let s = 0; s < samples; s++) {
    if (s & 1) { tb.push(timeB()); ta.push(timeA()); } else { ta.push(timeA()); tb.push(timeB()); }
  }
  return [ta, tb];
}
/** Median of the per-pair ratios a ÷ b of `alternate`'s measurements. */
const pairRatio = ([ta, tb]) => median(ta.map((t, i) => t / tb[i]));

/** Median ns per call of `fn` over `samples` batches of `batch` calls (after a warm-up). */
function bench(fn, { batch = 1000, samples = 31 } = {}) {
  const time = batchTimer(fn, batch);
  time();
  return median(Array.from({ length: samples }, time));
}
/**
 * Median ns per call of `a` and of `b`, their batches interleaved (see `alternate`), and the median
 * of the per-pair ratios a ÷ b: for before/after comparisons in one run. Returns [a, b, a ÷ b].
 */
function paired(a, b, { batch = 1000, samples = 31 } = {}) {
  for (let i = 0; i < batch; i++) { a(i); b(i); }
  const timed = alternate(batchTimer(a, batch), batchTimer(b, batch), samples);
  return [median(timed[0]), median(timed[1]), pairRatio(timed)];
}
/**
 * Median of the per-pair ratios a ÷ b of ns per call, a's batch and b's timed back to back (see
 * `alternate`): a change of this machine's speed between pairs (it can halve for seconds at a
 * time) cancels out of every ratio, except that under load wasm and JS slow down more than native
 * code, so a ratio to a native reference still moves with the load (README). The batches may
 * differ in size.
 */
function ratioPaired(a, b, { batchA, batchB, samples = 15 }) {
  for (let i = 0; i < batchA; i++) a(i);
  for (let i = 0; i < batchB; i++) b(i);
  return pairRatio(alternate(batchTimer(a, batchA), batchTimer(b, batchB), samples));
}

// ---------- deterministic data ----------
let state = 12345;
const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const vec = () => Float32Array.from({ length: DIM }, rand);
const inputs = Array.from({ length: 64 }, vec);
const topics = Array.from({ length: 100 }, vec);
const noisy = (c) => c.map((v) => v + 0.05 * rand());

// ---------- scalar build of ours ----------
function buildScalar() {
  const target = join(tmpdir(), 'sona-wasm-scalar-target');
  const out = join(tmpdir(), 'sona-wasm-scalar-pkg');
  mkdirSync(out, { recursive: true });
  const env = { ...process.env, CARGO_TARGET_DIR: target, RUSTFLAGS: '-C target-feature=-simd128' };
  let r = spawnSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm'], { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scalar cargo build failed');
  const wasm = join(target, 'wasm32-unknown-unknown', 'release', 'sona_wasm.wasm');
  r = spawnSync('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', 'sona_wasm', wasm], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scalar wasm-bindgen failed');
  const bg = join(out, 'sona_wasm_bg.wasm');
  r = spawnSync(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-O3', '--low-memory-unused', '--enable-bulk-memory', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-nontrapping-float-to-int', '--enable-multivalue', '--enable-reference-types',
    '--strip-debug', '--strip-producers', '--strip-target-features', bg, '-o', bg], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scalar wasm-opt failed');
  return out;
}
const scalarDir = buildScalar();
const scalarGlue = await import(join(scalarDir, 'sona_wasm.js'));
scalarGlue.initSync({ module: readFileSync(join(scalarDir, 'sona_wasm_bg.wasm')) });
const ScalarEngine = scalarGlue.WasmSonaEngine;
// The same JS layer as the package entries, so that the scalar column differs in kernels only.
installFastPaths(ScalarEngine);

// ---------- @ruvector/learning-wasm ----------
const ruvWasm = initRuvector({ module: readFileSync(join(root, 'node_modules/@ruvector/learning-wasm/ruvector_learning_wasm_bg.wasm')) });

// ---------- @ruvector/sona (native addon, optional: skipped when its prebuilt binary is missing) ----------
let RuvSona = null;
let ruvSonaVersion = null;
try {
  const require = createRequire(import.meta.url);
  RuvSona = require('@ruvector/sona').SonaEngine;
  ruvSonaVersion = require('@ruvector/sona/package.json').version;
} catch (e) {
  console.log(`@ruvector/sona not loadable here (${e.message.split('\n')[0]}); its rows are skipped`);
}

// The issue's measurements of the references on its author's machine (ns).
const ISSUE = { ruvZero: 290, ruvArray: 1600, sonaApply: 24000, sonaTrajectory: 43000, sonaForceLearn: 525e6 };

// ---------- engines ----------
function trained(Engine, trajectories) {
  const e = Engine.withConfig({ hidden_dim: DIM, micro_lora_rank: 2, pattern_clusters: 100, seed: 7 });
  for (let i = 0; i < trajectories; i++) {
    const id = e.startTrajectory(noisy(topics[i % topics.length]));
    for (let s = 0; s < 3; s++) e.addStep(id, inputs[(i + s) % inputs.length], new Float32Array(0), s === 0 ? 0.9 : 0.2);
    e.endTrajectory(id, 0.8);
  }
  return e;
}

const rows = [];
/** `vs`: ours ÷ the reference `ref` (paired, see ratioPaired); `issueRef`: the issue's time for it. */
function row(name, ours, scalar, theirs, target, issueRef, ref, vs) {
  rows.push({ name, ours, scalar, theirs, target, issueRef, ref, vs });
}

for (const [label, Engine] of [['simd', WasmSonaEngine], ['scalar', ScalarEngine]]) {
  const e = trained(Engine, 300);
  e.runInstantCycle();
  if (e.stats().simd !== (label === 'simd')) throw new Error(`${label} build reports simd=${e.stats().simd}`);
}

// Theirs: WasmMicroLoRA(dim 256, rank 2 fixed).
const lora = new WasmMicroLoRA(DIM, 0.1, 0.01);
for (let i = 0; i < 50; i++) {
  lora.adapt_array(inputs[i & 63]);
  lora.adapt_with_reward(0.5);
}
const inPtr = lora.get_input_ptr() >>> 2;
const outPtr = lora.get_output_ptr() >>> 2;
// Views of its input and output buffers, cached and rebuilt only when a memory growth detached
// them: the same way ours is called below.
let theirIn = new Float32Array(ruvWasm.memory.buffer, inPtr * 4, DIM);
let theirOut = new Float32Array(ruvWasm.memory.buffer, outPtr * 4, DIM);
const theirZeroCall = (i) => {
  if (theirIn.length === 0) {
    theirIn = new Float32Array(ruvWasm.memory.buffer, inPtr * 4, DIM);
    theirOut = new Float32Array(ruvWasm.memory.buffer, outPtr * 4, DIM);
  }
  theirIn.set(inputs[i & 63]);
  lora.forward();
  return theirOut;
};
const theirArrayCall = (i) => lora.forward_array(inputs[i & 63]);
const theirZero = bench(theirZeroCall, { batch: 20000 });
const theirArray = bench(theirArrayCall, { batch: 20000 });

// @ruvector/sona: applyMicroLora, begin + 3 steps + end, forceLearn over 1,000 trajectories (its
// API takes plain arrays of numbers; the conversion is done before timing).
const sona = {};
let sonaTrajectoryCall = null;
let sonaForceLearnOnce = null;
if (RuvSona) {
  const arr = inputs.map((v) => Array.from(v));
  const topicArr = Array.from({ length: 1000 }, (_, i) => Array.from(noisy(topics[i % topics.length])));
  const fill = (e, n) => {
    for (let i = 0; i < n; i++) {
      const id = e.beginTrajectory(topicArr[i % topicArr.length]);
      for (let st = 0; st < 3; st++) e.addTrajectoryStep(id, arr[(i + st) & 63], [], st === 0 ? 0.9 : 0.2);
      e.endTrajectory(id, 0.8);
    }
  };
  const e = new RuvSona(DIM);
  fill(e, 300);
  sona.apply = bench((i) => e.applyMicroLora(arr[i & 63]), { batch: 50, samples: 11 });
  sonaTrajectoryCall = (i) => {
    const id = e.beginTrajectory(arr[i & 63]);
    e.addTrajectoryStep(id, arr[(i + 1) & 63], [], 0.9);
    e.addTrajectoryStep(id, arr[(i + 2) & 63], [], 0.1);
    e.addTrajectoryStep(id, arr[(i + 3) & 63], [], 0.4);
    e.endTrajectory(id, 0.8);
  };
  sona.trajectory = bench(sonaTrajectoryCall, { batch: 50, samples: 11 });
  /** ns of one forceLearn over 1,000 fresh trajectories (only forceLearn timed). */
  sonaForceLearnOnce = () => {
    const g = new RuvSona(DIM);
    fill(g, 1000);
    const t0 = process.hrtime.bigint();
    g.forceLearn();
    return Number(process.hrtime.bigint() - t0);
  };
  sona.forceLearn = median(Array.from({ length: 3 }, sonaForceLearnOnce));
}

const results = {};
for (const [label, Engine] of [['ours', WasmSonaEngine], ['scalar', ScalarEngine]]) {
  const e = trained(Engine, 300);
  e.runInstantCycle();
  const out = new Float32Array(DIM);
  const r = { fastVsBg: {} };
  // Zero-copy views, measured like theirs above (views cached, rebuilt only when detached): write
  // the input into wasm memory, call, read the view.
  let inBuf = e.inputBuffer();
  let outBuf = e.outputBuffer();
  const zeroCopy = (i) => {
    if (inBuf.length === 0) [inBuf, outBuf] = [e.inputBuffer(), e.outputBuffer()];
    inBuf.set(inputs[i & 63]);
    e.applyLoraBuffers();
    return outBuf;
  };
  r.applyLoraBuffers = bench(zeroCopy, { batch: 20000 });
  const empty = new Float32Array(0);
  const oneWeight = new Float32Array([0.5]);
  // start + 3 × addStep + end with the given attention weights on every step.
  const trajectoryCall = (weights) => (i) => {
    const id = e.startTrajectory(inputs[i & 63]);
    e.addStep(id, inputs[(i + 1) & 63], weights, 0.9);
    e.addStep(id, inputs[(i + 2) & 63], weights, 0.1);
    e.addStep(id, inputs[(i + 3) & 63], weights, 0.4);
    e.endTrajectory(id, 0.8);
  };
  r.trajectoryGated = bench(trajectoryCall(oneWeight), { batch: 5000 });
  // One attention weight per feature, softmax-like (all in [0, 1], summing to 1).
  const exps = Float32Array.from({ length: DIM }, (_, j) => Math.exp(Math.sin(j * 0.37)));
  const sum = exps.reduce((a, b) => a + b, 0);
  const perFeature = exps.map((v) => v / sum);
  r.trajectoryPerFeature = bench(trajectoryCall(perFeature), { batch: 5000 });
  // Ours ÷ the reference of each row with a scaled target, from batches timed back to back.
  if (label === 'ours') {
    r.vs = {
      applyLoraBuffers: ratioPaired(zeroCopy, theirZeroCall, { batchA: 20000, batchB: 20000 }),
      applyLoraInto: ratioPaired((i) => e.applyLoraInto(inputs[i & 63], out), theirZeroCall, { batchA: 20000, batchB: 20000 }),
      applyLora: ratioPaired((i) => e.applyLora(inputs[i & 63]), theirArrayCall, { batchA: 20000, batchB: 20000 }),
    };
    if (sonaTrajectoryCall) {
      for (const [key, weights] of [['trajectory', empty], ['trajectoryGated', oneWeight], ['trajectoryPerFeature', perFeature]]) {
        r.vs[key] = ratioPaired(trajectoryCall(weights), sonaTrajectoryCall, { batchA: 5000, batchB: 100 });
      }
    }
  }
  // Each fast path (src/js/fast.js) interleaved with the wasm-bindgen method it replaced
  // (per-argument malloc + copy + free; findPatterns' objects built from Rust): the "before".
  if (label === 'ours') {
    // The new zero-copy API against the two older calls, each pair interleaved: [new, old, new ÷ old].
    r.newVsInto = paired(zeroCopy, (i) => e.applyLoraInto(inputs[i & 63], out), { batch: 20000 });
    r.newVsApply = paired(zeroCopy, (i) => e.applyLora(inputs[i & 63]), { batch: 20000 });
  }
  const bg = bindgenMethodsOf(Engine);
  [r.applyLoraInto, r.bgApplyLoraInto, r.fastVsBg.applyLoraInto] = paired(
    (i) => e.applyLoraInto(inputs[i & 63], out),
    (i) => bg.applyLoraInto.call(e, inputs[i & 63], out), { batch: 20000 });
  [r.applyLora, r.bgApplyLora, r.fastVsBg.applyLora] = paired(
    (i) => e.applyLora(inputs[i & 63]),
    (i) => bg.applyLora.call(e, inputs[i & 63]), { batch: 20000 });
  [r.trajectory, r.bgTrajectory, r.fastVsBg.trajectory] = paired((i) => {
    const id = e.startTrajectory(inputs[i & 63]);
    e.addStep(id, inputs[(i + 1) & 63], empty, 0.9);
    e.addStep(id, inputs[(i + 2) & 63], empty, 0.1);
    e.addStep(id, inputs[(i + 3) & 63], empty, 0.4);
    e.endTrajectory(id, 0.8);
  }, (i) => {
    const id = bg.startTrajectory.call(e, inputs[i & 63]);
    bg.addStep.call(e, id, inputs[(i + 1) & 63], empty, 0.9);
    bg.addStep.call(e, id, inputs[(i + 2) & 63], empty, 0.1);
    bg.addStep.call(e, id, inputs[(i + 3) & 63], empty, 0.4);
    e.endTrajectory(id, 0.8);
  }, { batch: 5000 });
  // findPatterns(k=5) over 100 patterns.
  const f = trained(Engine, 1000);
  f.forceLearn();
  const stored = f.stats().patterns_stored;
  [r.findPatterns, r.bgFindPatterns, r.fastVsBg.findPatterns] = paired(
    (i) => f.findPatterns(inputs[i & 63], 5),
    (i) => bg.findPatterns.call(f, inputs[i & 63], 5), { batch: 2000 });
  r.patterns = stored;
  r.findEngine = f;
  // forceLearn over 1,000 trajectories into 100 patterns (fresh engine each sample; only forceLearn timed).
  const forceLearnOnce = () => {
    const g = trained(Engine, 1000);
    const t0 = process.hrtime.bigint();
    g.forceLearn();
    const ns = Number(process.hrtime.bigint() - t0);
    g.free();
    return ns;
  };
  r.forceLearn = median(Array.from({ length: 9 }, forceLearnOnce));
  if (label === 'scalar') {
    // findPatterns, SIMD build against the scalar build, interleaved: [simd, scalar, simd ÷ scalar].
    const fo = results.ours.findEngine;
    r.findSimdVsScalar = paired(
      (i) => fo.findPatterns(inputs[i & 63], 5),
      (i) => f.findPatterns(inputs[i & 63], 5), { batch: 2000 });
  }
  if (label === 'ours' && sonaForceLearnOnce) {
    // Five pairs (theirs takes about a second each).
    r.vs.forceLearn = pairRatio(alternate(forceLearnOnce, sonaForceLearnOnce, 5));
  }
  results[label] = r;
}

const o = results.ours;
const s = results.scalar;
const vs = o.vs;
row('applyLoraBuffers (zero-copy views)', o.applyLoraBuffers, s.applyLoraBuffers, theirZero, 150, ISSUE.ruvZero, 'lw0', vs.applyLoraBuffers);
row('applyLoraInto (caller\'s array)', o.applyLoraInto, s.applyLoraInto, theirZero, 150, ISSUE.ruvZero, 'lw0', vs.applyLoraInto);
row('applyLora (new array)', o.applyLora, s.applyLora, theirArray, 1000, ISSUE.ruvArray, 'lwA', vs.applyLora);
row('start + 3×addStep + end', o.trajectory, s.trajectory, sona.trajectory, 1000, ISSUE.sonaTrajectory, 'sT', vs.trajectory);
row('  same, 1 attention weight per step', o.trajectoryGated, s.trajectoryGated, null, 1000, ISSUE.sonaTrajectory, 'sT', vs.trajectoryGated);
row(`  same, ${DIM} attention weights per step`, o.trajectoryPerFeature, s.trajectoryPerFeature, null, 1000, ISSUE.sonaTrajectory, 'sT', vs.trajectoryPerFeature);
rows.push({ name: `findPatterns k=5 / ${o.patterns} patterns`, ours: o.findPatterns, scalar: s.findPatterns, theirs: null, target: 10000,
  issueRef: null, ref: null, vs: undefined, simdPaired: s.findSimdVsScalar });
row('forceLearn 1,000 traj → 100 clusters', o.forceLearn, s.forceLearn, sona.forceLearn, 20e6, ISSUE.sonaForceLearn, 'sF', vs.forceLearn);

console.log(`SONA, ${DIM}-d, rank 2, medians (this run). "theirs": applyLora rows = @ruvector/learning-wasm 0.1.29 WasmMicroLoRA (zero-copy forward / forward_array);`);
console.log(`  trajectory and forceLearn rows = ${RuvSona ? `@ruvector/sona ${ruvSonaVersion} (native addon)` : '@ruvector/sona (not installed: skipped)'}.`);
console.log('  "target" = the issue\'s absolute target. "ours÷ref" = ours ÷ the reference named in "ref", the median of ratios of batches timed back to back');
console.log('  (cancels this machine\'s speed changing between rounds, not the extra slowdown of wasm and JS against the native reference under load: see README); "target here" = target ÷ that reference as the issue measured it: the same ratio here.');
const mark = (ok) => (ok ? '✓' : '✗');
console.log('operation'.padEnd(40), 'ours'.padStart(10), 'target'.padStart(11), 'ours÷ref'.padStart(9), 'target here'.padStart(12), 'ref'.padStart(5), 'scalar'.padStart(10), 'simd×'.padStart(7), 'theirs'.padStart(10), 'theirs/ours'.padStart(12));
for (const r of rows) {
  const limit = r.vs !== undefined && r.issueRef ? r.target / r.issueRef : null;
  console.log(
    r.name.padEnd(40),
    fmt(r.ours).padStart(10),
    `${mark(r.ours <= r.target)} ${fmt(r.target)}`.padStart(11),
    (limit ? `${r.vs.toFixed(3)}×` : '—').padStart(9),
    (limit ? `${mark(r.vs <= limit)} ≤ ${limit.toFixed(3)}×` : '—').padStart(12),
    (limit ? r.ref : '—').padStart(5),
    fmt(r.simdPaired ? r.simdPaired[1] : r.scalar).padStart(10),
    (r.simdPaired ? `${(1 / r.simdPaired[2]).toFixed(2)}p` : `${(r.scalar / r.ours).toFixed(2)}`).padStart(7),
    (r.theirs ? fmt(r.theirs) : '—').padStart(10),
    (r.theirs ? `${(r.vs !== undefined ? 1 / r.vs : r.theirs / r.ours).toFixed(2)}×` : '—').padStart(12),
  );
}
const fp = s.findSimdVsScalar;
console.log(`simd× = scalar ÷ ours; "p": paired (findPatterns: ours ${fmt(fp[0])} and scalar ${fmt(fp[1])} timed in interleaved batches, the median of their`
  + ' per-pair ratios); the other rows divide medians timed at different moments of this run. The scalar build has the same wasm-opt -O3 as pkg/.');
console.log('ref (reference here ÷ issue, how much slower or faster this machine runs it):');
console.log(`  lw0 = learning-wasm zero-copy forward ${fmt(theirZero)} ÷ ${fmt(ISSUE.ruvZero)} = ${(theirZero / ISSUE.ruvZero).toFixed(2)}`);
console.log(`  lwA = learning-wasm forward_array ${fmt(theirArray)} ÷ ${fmt(ISSUE.ruvArray)} = ${(theirArray / ISSUE.ruvArray).toFixed(2)}`);
if (RuvSona) {
  console.log(`  sT  = @ruvector/sona begin + 3 steps + end ${fmt(sona.trajectory)} ÷ ${fmt(ISSUE.sonaTrajectory)} = ${(sona.trajectory / ISSUE.sonaTrajectory).toFixed(2)}`);
  console.log(`  sF  = @ruvector/sona forceLearn ${fmt(sona.forceLearn)} ÷ ${fmt(ISSUE.sonaForceLearn)} = ${(sona.forceLearn / ISSUE.sonaForceLearn).toFixed(2)}`);
  console.log(`  (@ruvector/sona applyMicroLora here: ${fmt(sona.apply)}, issue ${fmt(ISSUE.sonaApply)}: ${(sona.apply / ISSUE.sonaApply).toFixed(2)}; ours applyLora is ${(sona.apply / o.applyLora).toFixed(0)}× faster)`);
}
console.log('\nJS fast paths (src/js/fast.js) vs the wasm-bindgen methods they replace (this run, ours with SIMD)');
console.log('(each pair timed in interleaved batches; "fast ÷ bg" is the median of the per-pair ratios)');
for (const [name, fast, bg, ratio] of [
  ['applyLora', o.applyLora, o.bgApplyLora, o.fastVsBg.applyLora],
  ['applyLoraInto', o.applyLoraInto, o.bgApplyLoraInto, o.fastVsBg.applyLoraInto],
  ['start + 3×addStep + end', o.trajectory, o.bgTrajectory, o.fastVsBg.trajectory],
  ['findPatterns k=5', o.findPatterns, o.bgFindPatterns, o.fastVsBg.findPatterns],
]) {
  console.log(`${name.padEnd(26)} fast ${fmt(fast).padStart(10)}   wasm-bindgen ${fmt(bg).padStart(10)}   fast ÷ bg ${ratio.toFixed(2)} (paired)`);
}
console.log('\nnew API vs old API (this run, ours with SIMD; each pair timed in interleaved batches, new ÷ old = median of the per-pair ratios)');
const [nvI, ovI, rI] = o.newVsInto;
const [nvA, ovA, rA] = o.newVsApply;
console.log(`applyLoraBuffers ${fmt(nvI)} vs applyLoraInto ${fmt(ovI)}: new ÷ old ${rI.toFixed(2)} (paired)`);
console.log(`applyLoraBuffers ${fmt(nvA)} vs applyLora ${fmt(ovA)}: new ÷ old ${rA.toFixed(2)} (paired)`);
for (const [name, file] of [['ours (pkg)', join(root, 'pkg', 'sona_wasm_bg.wasm')], ['ours scalar (wasm-opt -O3)', join(scalarDir, 'sona_wasm_bg.wasm')], ['@ruvector/learning-wasm', join(root, 'node_modules/@ruvector/learning-wasm/ruvector_learning_wasm_bg.wasm')]]) {
  if (!existsSync(file)) continue;
  const b = readFileSync(file);
  console.log(`size ${name}: ${b.length} B raw, ${gzipSync(b, { level: 9 }).length} B gzip`);
}
