// `npm run build`: both crates → wasm32 (release, simd128) → wasm-bindgen (SONA) → wasm-opt → pkg/,
// then the root crate a second time with only the router (`--no-default-features --features router`)
// → wasm-bindgen `router_wasm` → wasm-opt → pkg/router_wasm_bg.wasm (a separate module for routing only),
// and a third time with `--features federated` (SONA + federated-learning bindings) → wasm-bindgen
// `sona_federated` → wasm-opt → pkg/sona_federated_bg.wasm (the `sona-wasm/federated` entry).
// Prints each module's raw and gzip size and fails if micro_hnsw.wasm exceeds its 12,288-byte budget
// or sona_wasm_bg.wasm its 64 KB gzip budget.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { must, nodeBin, repoRoot } from './proc.mjs';

export const MICRO_HNSW_BUDGET = 12288;
export const SONA_GZIP_BUDGET = 65536;
const pkg = join(repoRoot, 'pkg');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');
const release = join(targetDir, 'wasm32-unknown-unknown', 'release');

// Features rustc enables by default for wasm32-unknown-unknown, plus SIMD128 (.cargo/config.toml).
const WASM_FEATURES = [
  '--enable-simd', '--enable-bulk-memory', '--enable-sign-ext', '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int', '--enable-multivalue', '--enable-reference-types',
];

export function sizes(file) {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

async function main() {
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm', '-p', 'micro-hnsw']);

  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });

  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'sona_wasm', join(release, 'sona_wasm.wasm')]);
  const sonaWasm = join(pkg, 'sona_wasm_bg.wasm');
  await must(nodeBin('wasm-opt'), ['-O3', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', sonaWasm, '-o', sonaWasm]);
  // --converge repeats -Oz until the module stops shrinking (25 bytes of the budget today).
  await must(nodeBin('wasm-opt'), ['-Oz', '--converge', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features',
    join(release, 'micro_hnsw.wasm'), '-o', join(pkg, 'micro_hnsw.wasm')]);

  // Its own target dir: a cdylib's file name carries no feature hash, so sharing `target/` would make
  // the two feature sets overwrite each other and relink both crates on every build.
  const routerTarget = join(targetDir, 'router');
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm', '--no-default-features', '--features', 'router'],
    { env: { CARGO_TARGET_DIR: routerTarget } });
  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'router_wasm',
    join(routerTarget, 'wasm32-unknown-unknown', 'release', 'sona_wasm.wasm')]);
  const routerWasm = join(pkg, 'router_wasm_bg.wasm');
  await must(nodeBin('wasm-opt'), ['-Oz', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', routerWasm, '-o', routerWasm]);

  // SONA + federated bindings, in its own target dir for the same reason.
  const fedTarget = join(targetDir, 'federated');
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm', '--features', 'federated'],
    { env: { CARGO_TARGET_DIR: fedTarget } });
  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'sona_federated',
    join(fedTarget, 'wasm32-unknown-unknown', 'release', 'sona_wasm.wasm')]);
  const fedWasm = join(pkg, 'sona_federated_bg.wasm');
  await must(nodeBin('wasm-opt'), ['-O3', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', fedWasm, '-o', fedWasm]);

  for (const dir of [join(repoRoot, 'src', 'js'), join(repoRoot, 'micro-hnsw', 'js')]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (/\.(js|d\.ts)$/.test(name)) copyFileSync(join(dir, name), join(pkg, name));
    }
  }

  console.log('\nmodule               raw bytes   gzip bytes');
  for (const name of ['sona_wasm_bg.wasm', 'micro_hnsw.wasm', 'router_wasm_bg.wasm', 'sona_federated_bg.wasm']) {
    const s = sizes(join(pkg, name));
    console.log(`${name.padEnd(20)} ${String(s.raw).padStart(9)}   ${String(s.gzip).padStart(10)}`);
  }
  const micro = sizes(join(pkg, 'micro_hnsw.wasm')).raw;
  if (micro > MICRO_HNSW_BUDGET) {
    console.error(`\n✖ micro_hnsw.wasm is ${micro} bytes, over its ${MICRO_HNSW_BUDGET}-byte budget`);
    process.exit(1);
  }
  console.log(`micro_hnsw.wasm within budget: ${micro} / ${MICRO_HNSW_BUDGET} bytes`);
  const sonaGzip = sizes(join(pkg, 'sona_wasm_bg.wasm')).gzip;
  if (sonaGzip > SONA_GZIP_BUDGET) {
    console.error(`\n✖ sona_wasm_bg.wasm is ${sonaGzip} bytes gzip, over its ${SONA_GZIP_BUDGET}-byte budget`);
    process.exit(1);
  }
  console.log(`sona_wasm_bg.wasm within budget: ${sonaGzip} / ${SONA_GZIP_BUDGET} bytes gzip\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
