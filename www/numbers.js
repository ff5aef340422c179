// Section 3: module sizes (raw and gzip, measured from the served files with the browser's
// CompressionStream at its default level — the page says so, since `npm run build` and the README
// give Node's zlib at level 9, whose figures differ by up to a few hundred bytes) and operations per
// second of the hot calls, measured in this tab on fresh instances.

import { formatBytes } from './lib/plot.js';
import { createRng, normalize } from './lib/rng.js';

const $ = (id) => document.getElementById(id);
const MODULES = ['/pkg/micro_hnsw.wasm', '/pkg/sona_wasm_bg.wasm'];

async function gzipSize(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function showSizes() {
  const body = $('sizes-body');
  body.replaceChildren();
  for (const url of MODULES) {
    const bytes = await (await fetch(url)).arrayBuffer();
    const tr = body.insertRow();
    tr.dataset.module = url.split('/').pop();
    tr.dataset.raw = String(bytes.byteLength);
    const gz = await gzipSize(bytes);
    tr.dataset.gzip = String(gz);
    for (const [text, cls] of [[tr.dataset.module, ''], [formatBytes(bytes.byteLength), 'num'], [formatBytes(gz), 'num']]) {
      const td = tr.insertCell();
      td.textContent = text;
      if (cls) td.className = cls;
    }
  }
}

/** Call `op` in growing batches until at least `budgetMs` have passed; returns ops per second. */
function opsPerSecond(op, budgetMs = 120) {
  for (let i = 0; i < 50; i++) op(); // warm up
  let count = 0;
  let batch = 64;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < batch; i++) op();
    count += batch;
    batch *= 2;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

const randomVector = (rng, n) => normalize(Float32Array.from({ length: n }, () => rng.gaussian()));

function benchmarks({ MicroHnsw, WasmSonaEngine }) {
  const rng = createRng(2024);
  // micro-HNSW: one full core, 32 × 16-d, L2.
  const core = new MicroHnsw({ dims: 16, metric: 'l2', coreId: 0 });
  for (let i = 0; i < 32; i++) core.insert(randomVector(rng, 16));
  const query = randomVector(rng, 16);
  // SONA: the default preset (256-d, rank 2), 100 patterns learned from 1,000 trajectories.
  const engine = WasmSonaEngine.withConfig({ pattern_clusters: 100, seed: 1 });
  const dim = engine.getConfig().hidden_dim;
  const centres = Array.from({ length: 100 }, () => randomVector(rng, dim));
  for (let t = 0; t < 1000; t++) {
    const x = Float32Array.from(centres[t % 100], (v) => v + 0.05 * rng.gaussian());
    const id = engine.startTrajectory(x);
    engine.addStep(id, x, new Float32Array(dim).fill(1 / dim), 0.8);
    engine.endTrajectory(id, 0.8);
  }
  engine.forceLearn();
  const input = randomVector(rng, dim);
  const output = new Float32Array(dim);
  const rows = [
    ['search (k = 5, 32 × 16-d)', () => core.search(query, 5)],
    ['snn_tick', () => core.tick(1, 1, true)],
    [`applyLoraInto (${dim}-d)`, () => engine.applyLoraInto(input, output)],
    [`findPatterns (k = 5, ${engine.stats().patterns_stored ?? '?'} patterns)`, () => engine.findPatterns(input, 5)],
  ];
  return { rows, dispose: () => engine.free() };
}

export function setupNumbers(modules) {
  const measure = async () => {
    const button = $('measure');
    button.disabled = true;
    const body = $('ops-body');
    body.replaceChildren();
    const { rows, dispose } = benchmarks(modules);
    try {
      for (const [name, op] of rows) {
        await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint between rows
        const ops = opsPerSecond(op);
        const tr = body.insertRow();
        tr.dataset.op = name.split(' ')[0];
        tr.dataset.opsPerSecond = String(ops);
        for (const [text, cls] of [[name, ''], [Math.round(ops).toLocaleString('en-US'), 'num'],
          [`${(1e6 / ops).toFixed(3)} µs`, 'num']]) {
          const td = tr.insertCell();
          td.textContent = text;
          if (cls) td.className = cls;
        }
      }
    } finally {
      dispose();
      button.disabled = false;
    }
  };
  $('measure').addEventListener('click', measure);
  return Promise.all([showSizes(), measure()]);
}
