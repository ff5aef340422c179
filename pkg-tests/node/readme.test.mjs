// The README's JavaScript examples, run as a user would paste them: every ```js block of README.md
// and micro-hnsw/README.md, in a module file inside the consumer project (the packed package,
// installed from its tarball by pkg-tests/tools/pack.mjs), with the inputs it leaves to the reader
// defined before it and checks of what it computed after it. Each block must be claimed by exactly
// one case below and each case must find its block, so an example that is added, renamed or stops
// working fails here until it is run here.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consumerDir } from '../tools/pack.mjs';
import { repoRoot } from '../tools/proc.mjs';

/** The ```js blocks of a Markdown file, with the line each starts on. */
function jsBlocks(file) {
  const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```js') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    assert.ok(end < lines.length, `${file}:${start}: unterminated code block`);
    blocks.push({ where: `${file}:${start}`, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

// Inputs the examples name without defining (deterministic, so a failure reproduces).
const inputs = `
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const vec = (n) => Float32Array.from({ length: n }, rnd);
`;
const sonaInputs = `${inputs}
const queryEmbedding = vec(256), activations = vec(256), input = vec(256), out = new Float32Array(256);
const attentionWeights = new Float32Array(256).fill(1 / 256);
const embedding = vec(256), query = vec(256);
`;
const hnswInputs = `${inputs}
const vector = vec(16), query = vec(16);
`;
const routerInputs = `${inputs}
const logs = Array.from({ length: 200 }, (_, i) => {
  const features = vec(5);
  return { features, lightweightOk: features[0] + 0.3 * features[1] > 0, teacherProb: i % 3 ? undefined : 0.5 + 0.4 * Math.tanh(features[0]) };
});
const features = vec(5);
`;

const cases = [
  {
    name: 'browser/bundler initialisation',
    claims: (c) => c.includes("import init, { WasmSonaEngine } from 'sona-wasm'"),
    after: `
const assert = (await import('node:assert/strict')).default;
assert.equal(typeof WasmSonaEngine, 'function');
assert.equal(new MicroHnsw({ dims: 4 }).insert(new Float32Array(4).fill(1)), 0);`,
  },
  {
    name: 'Node.js and Deno imports',
    claims: (c) => c.includes("import { WasmSonaEngine } from 'sona-wasm'") && !c.includes('export default'),
    after: `
const assert = (await import('node:assert/strict')).default;
assert.equal(new WasmSonaEngine(8).applyLora(new Float32Array(8).fill(0.5)).length, 8);
assert.equal(new MicroHnsw({ dims: 4 }).insert(new Float32Array(4).fill(1)), 0);`,
  },
  {
    name: 'Cloudflare Workers imports',
    claims: (c) => c.includes("import { WasmSonaEngine } from 'sona-wasm'") && c.includes('export default'),
    after: `
const assert = (await import('node:assert/strict')).default;
assert.equal(typeof WasmSonaEngine, 'function');
assert.equal(typeof MicroHnsw, 'function');`,
  },
  {
    name: 'SONA in a few lines',
    claims: (c) => c.includes('WasmSonaEngine.withConfig('),
    before: `import { WasmSonaEngine } from 'sona-wasm';${sonaInputs}`,
    after: `
const assert = (await import('node:assert/strict')).default;
assert.ok(typeof id === 'number' && Number.isInteger(id));
assert.ok(adapted instanceof Float32Array && adapted.length === 256);
assert.deepEqual(Array.from(out), Array.from(adapted), 'applyLoraInto writes what applyLora returns');
assert.ok(Array.isArray(patterns));
assert.ok(Array.isArray(stored) && stored.length === engine.stats().patterns_stored);
assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
assert.deepEqual(Array.from(again.applyLora(input)), Array.from(adapted), 'the loaded state answers as the saved one');
assert.deepEqual(again.stats(), engine.stats(), 'the loaded state has the saved counters');
assert.equal(engine.stats().trajectories_completed, 1);
assert.ok(adapters instanceof Uint8Array && new TextDecoder().decode(adapters.subarray(8, 8 + 16)) === '{"__metadata__":');`,
  },
  {
    name: 'Federated learning',
    claims: (c) => c.includes('WasmEphemeralAgent'),
    before: sonaInputs,
    after: `
const assert = (await import('node:assert/strict')).default;
assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
assert.equal(trajectories_accepted + trajectories_rejected, 1);
assert.equal(typeof warm.exportState, 'function');`,
  },
  {
    name: 'micro-HNSW in a few lines',
    claims: (c) => c.includes('new MicroHnsw(') && !c.includes('import'),
    before: `import { MicroHnsw } from 'sona-wasm/micro-hnsw';${hnswInputs}`,
    after: `
const assert = (await import('node:assert/strict')).default;
assert.equal(id, 0);
assert.equal(hits.length, 1);
assert.equal(hits[0].id, 0);
assert.ok(Number.isFinite(hits[0].distance));
assert.ok(saved instanceof Uint8Array);
assert.deepEqual(same.search(query, 5), hits);`,
  },
  {
    name: 'Router (FastGRNN)',
    claims: (c) => c.includes('RouterTrainer'),
    before: routerInputs,
    after: `
const assert = (await import('node:assert/strict')).default;
assert.ok(metrics.epochs > 0 && metrics.train_loss.length === metrics.epochs);
assert.ok(probability >= 0 && probability <= 1);
assert.ok(route === 0 || route === 1);
assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
const back = FastGrnnRouter.fromBytes(bytes);
assert.equal(back.route(features).route, router.route(features).route);`,
  },
  {
    name: 'micro-HNSW package README',
    claims: (c) => c.includes('new MicroHnswCluster('),
    before: hnswInputs,
    after: `
const assert = (await import('node:assert/strict')).default;
assert.equal(id, 0);
assert.equal(index.search(query, 5)[0].id, 0);
assert.equal(cluster.search(query, 3).length, 0);
cluster.insert(vector);
assert.equal(cluster.search(vector, 1).length, 1);`,
  },
];

const blocks = [...jsBlocks('README.md'), ...jsBlocks('micro-hnsw/README.md')];
const dir = join(consumerDir, 'readme');

test('every JavaScript example of the READMEs is claimed by exactly one case', () => {
  assert.ok(blocks.length >= cases.length, `found ${blocks.length} js blocks`);
  for (const b of blocks) {
    const claimed = cases.filter((c) => c.claims(b.code)).map((c) => c.name);
    assert.equal(claimed.length, 1, `${b.where} is claimed by [${claimed.join(', ')}]`);
  }
  for (const c of cases) assert.ok(blocks.some((b) => c.claims(b.code)), `no README block for case "${c.name}"`);
});

for (const c of cases) {
  test(`README example runs against the installed package: ${c.name}`, () => {
    const block = blocks.find((b) => c.claims(b.code));
    assert.ok(block, `no README block for case "${c.name}"`);
    mkdirSync(dir, { recursive: true });
    // The example's own imports first (a module's imports must come before it uses them; they
    // hoist anyway), then the inputs, the example, the checks.
    const file = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.mjs`);
    writeFileSync(file, `${c.before ?? ''}\n// ---- ${block.where}\n${block.code}\n// ---- checks${c.after}\n`);
    try {
      execFileSync(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (e) {
      assert.fail(`${block.where} (${file}) failed:\n${e.stderr?.toString() || e.message}`);
    }
  });
}

test('the installed package ships both READMEs it documents itself with, as in the repository', () => {
  // README.md sends readers of the raw micro-HNSW ABI (every export, its fixed-point formats and
  // sentinels) to micro-hnsw/README.md: an npm user must find it in node_modules/sona-wasm.
  for (const file of ['README.md', 'micro-hnsw/README.md']) {
    const installed = readFileSync(join(consumerDir, 'node_modules', 'sona-wasm', file), 'utf8');
    assert.equal(installed, readFileSync(join(repoRoot, file), 'utf8'), `${file} in the installed package`);
  }
});
