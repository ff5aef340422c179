// `npm test`: every test, in order, stopping at the first failure, ending with a one-line summary.
//   setup → build → cargo test (native) → cargo check (benches) → wasm-bindgen-test (Node) → pack into a consumer project →
//   pkg-tests (Node: package, micro-HNSW, SONA, workerd, Chromium, TypeScript, demo) → deno test →
//   make -C rtl test → size budget
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { nodeBin, repoRoot, run } from './proc.mjs';
import { MICRO_HNSW_BUDGET, SONA_GZIP_BUDGET, sizes } from './build.mjs';
import { packConsumer, consumerDir } from './pack.mjs';

const started = Date.now();
let passed = 0;
let failed = 0;
const stepsDone = [];

/** Sum the counts that the various runners print at their end. */
function countTests(output) {
  let p = 0;
  let f = 0;
  let seen = false;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) { p += +m[1]; f += +m[2]; seen = true; } // cargo, wasm-bindgen-test
  for (const m of output.matchAll(/^\S* ?pass (\d+)$/gm)) { p += +m[1]; seen = true; } // node:test (spec: "ℹ pass N", tap: "# pass N")
  for (const m of output.matchAll(/^\S* ?fail (\d+)$/gm)) { f += +m[1]; }
  for (const m of output.matchAll(/^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm)) { p += +m[1]; f += +m[2]; seen = true; } // deno
  for (const m of output.matchAll(/^cosim: \d+ steps, \d+ neuron-updates, (\d+) mismatches$/gm)) { if (+m[1] === 0) p += 1; else f += 1; seen = true; }
  return { p, f, seen };
}

async function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`\n━━━ ${name} ━━━ ${cmd} ${args.join(' ')}`);
  const r = await run(cmd, args, opts);
  const { p, f, seen } = countTests(r.output);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.code !== 0) {
    passed += p;
    failed += Math.max(f, 1);
    console.error(`\n✖ ${name} failed (exit ${r.code}) after ${secs}s`);
    finish();
  }
  if (opts.counts !== false) {
    passed += seen ? p : 1;
    failed += f;
  }
  stepsDone.push(`${name} ${secs}s`);
  console.log(`✔ ${name} (${secs}s${seen ? `, ${p} passed` : ''})`);
}

function finish() {
  const mins = ((Date.now() - started) / 60000).toFixed(1);
  console.log(`\nsteps: ${stepsDone.join(' · ')}`);
  console.log(`total time ${mins} min`);
  console.log(`summary: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

function testFiles(dir, pattern) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (name === 'node_modules' || name === '.tmp' || name === 'artifacts') continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (pattern.test(name)) out.push(relative(repoRoot, full));
    }
  };
  walk(dir);
  return out;
}

await step('setup', process.execPath, [join(repoRoot, 'pkg-tests/tools/setup.mjs')], { counts: false });
await step('build', process.execPath, [join(repoRoot, 'pkg-tests/tools/build.mjs')], { counts: false });
await step('cargo test (native)', 'cargo', ['test', '--workspace']);
// `cargo bench -p sona-wasm --features std` (README) must keep compiling: type-check the bench
// target (counted as one test; running it is `npm run bench`'s and `cargo bench`'s job).
await step('cargo check (benches)', 'cargo', ['check', '-p', 'sona-wasm', '--features', 'std', '--benches']);
await step('wasm-bindgen-test (Node)', 'cargo', ['test', '-p', 'sona-wasm', '--target', 'wasm32-unknown-unknown'], {
  env: { CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: 'wasm-bindgen-test-runner' },
});

console.log('\n━━━ pack ━━━');
await packConsumer();

const nodeTests = testFiles(join(repoRoot, 'pkg-tests'), /\.test\.mjs$/);
await step('pkg-tests (node:test)', process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=300000', ...nodeTests]);

// Deno resolves bare specifiers from the test file's location, so its tests run from inside the
// consumer project (copied there with the shared scenario).
const denoDir = join(consumerDir, 'deno-tests');
mkdirSync(denoDir, { recursive: true });
copyFileSync(join(repoRoot, 'pkg-tests', 'shared', 'scenario.js'), join(denoDir, 'scenario.js'));
const denoTests = readdirSync(join(repoRoot, 'pkg-tests', 'deno')).filter((f) => /\.test\.(js|ts)$/.test(f));
for (const f of denoTests) copyFileSync(join(repoRoot, 'pkg-tests', 'deno', f), join(denoDir, f));
if (denoTests.length) {
  await step('deno test', nodeBin('deno'), ['test', '--no-check', '--allow-read', '--no-prompt', ...denoTests.map((f) => join(denoDir, f))], {
    cwd: consumerDir,
    env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
}

if (existsSync(join(repoRoot, 'rtl', 'Makefile')) && /^test:/m.test(readFileSync(join(repoRoot, 'rtl', 'Makefile'), 'utf8'))) {
  await step('make -C rtl test', 'make', ['-C', 'rtl', 'test']);
}

const micro = sizes(join(repoRoot, 'pkg', 'micro_hnsw.wasm'));
const sona = sizes(join(repoRoot, 'pkg', 'sona_wasm_bg.wasm'));
console.log(`\nsizes: micro_hnsw.wasm ${micro.raw} B (gzip ${micro.gzip} B, budget ${MICRO_HNSW_BUDGET} B); sona_wasm_bg.wasm ${sona.raw} B (gzip ${sona.gzip} B, budget ${SONA_GZIP_BUDGET} B gzip)`);
if (micro.raw > MICRO_HNSW_BUDGET || sona.gzip > SONA_GZIP_BUDGET) {
  failed += 1;
  console.error('✖ size budget exceeded');
} else {
  passed += 1;
  stepsDone.push('size budget');
}
finish();
