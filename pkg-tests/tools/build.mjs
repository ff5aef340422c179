// `npm run build`: both crates → wasm32 (release, simd128) → wasm-bindgen (SONA) → wasm-opt → pkg/,
// then the root crate a second time with only the router (`--no-default-features --features router`)
// → wasm-bindgen `router_wasm` → wasm-opt → pkg/router_wasm_bg.wasm (a separate module for routing only),
// and a third time with `--features federated` (SONA + federated-learning bindings) → wasm-bindgen
// `sona_federated` → wasm-opt → pkg/sona_federated_bg.wasm (the `sona-wasm/federated` entry).
// Adds argument type checks to the wasm-bindgen glue (see GLUE_CHECKS).
// Prints each module's raw and gzip size and fails if micro_hnsw.wasm exceeds its 12,288-byte budget
// or sona_wasm_bg.wasm its 64 KB gzip budget.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * wasm-bindgen's glue copies a string or array argument into wasm memory before the call without
 * looking at its type: a number or an object where a string is expected traps the module ("memory
 * access out of bounds"), `{}` for an array allocates NaN bytes. Every such argument passes through
 * these helpers — constructors and static methods included — so each gets a type check that throws a
 * JS Error before anything is allocated. Fails the build if the glue no longer has the helpers.
 */
const GLUE_CHECKS = [
  ['function passStringToWasm0(arg, malloc, realloc) {\n',
    "    if (typeof arg !== 'string') throw new Error(`expected a string argument, got ${arg === null ? 'null' : typeof arg}`);\n"],
  ['function passArrayF32ToWasm0(arg, malloc) {\n',
    "    if (arg === null || typeof arg !== 'object' || typeof arg.length !== 'number') throw new Error(`expected a Float32Array or an array of numbers, got ${arg === null ? 'null' : typeof arg}`);\n"],
  ['function passArray8ToWasm0(arg, malloc) {\n',
    "    if (arg === null || typeof arg !== 'object' || typeof arg.length !== 'number') throw new Error(`expected a Uint8Array or an array of bytes, got ${arg === null ? 'null' : typeof arg}`);\n"],
];

/**
 * Optional numeric parameters, which wasm-bindgen's glue coerces with a unary `+` (so `'5'` or
 * `true` would pass as numbers); `[file, head]`: the head must be in that glue, or the build fails.
 * (An `Option<JsValue>` in Rust would lose the `?` of the TypeScript signature.)
 */
const OPTIONAL_NUMBER_CHECKS = [
  ['router_wasm.js', 'seed', '    constructor(config, seed) {\n'],
];

function checkGlueArguments(file) {
  let glue = readFileSync(file, 'utf8');
  for (const [head, check] of GLUE_CHECKS) {
    if (!glue.includes(head)) continue;
    glue = glue.replace(head, head + check);
  }
  for (const [name, param, head] of OPTIONAL_NUMBER_CHECKS) {
    if (!file.endsWith(name)) continue;
    if (!glue.includes(head)) throw new Error(`${file}: ${JSON.stringify(head)} not found, the ${param} check was not added`);
    glue = glue.replace(head, `${head}        if (${param} !== undefined && ${param} !== null && typeof ${param} !== 'number') `
      + `throw new Error(\`${param} must be a number, got \${typeof ${param}}\`);\n`);
  }
  if (!glue.includes('passStringToWasm0(arg, malloc, realloc) {\n    if (typeof arg')) {
    throw new Error(`${file}: wasm-bindgen's passStringToWasm0 not found, the argument checks were not added`);
  }
  writeFileSync(file, glue);
}

async function main() {
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm']);
  // micro-hnsw's manifest makes it a cdylib and an rlib (the rlib serves its native tests and the
  // RTL co-simulation's golden model), and a package that is also an rlib is built without the
  // profile's LTO (rust-lang/cargo#9672, rust-lang/rust#51009). Built here as a cdylib only, it
  // gets LTO: 81 bytes smaller, no slower. (The SONA modules measured 587 B more gzip with LTO.)
  await must('cargo', ['rustc', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'micro-hnsw', '--crate-type', 'cdylib']);

  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });

  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'sona_wasm', join(release, 'sona_wasm.wasm')]);
  const sonaWasm = join(pkg, 'sona_wasm_bg.wasm');
  // --low-memory-unused (as for micro_hnsw.wasm below): `load(p + C)` becomes `load offset=C (p)`,
  // 378 B less gzip here; the two differ only if p + C wraps past 2^32, which no Rust reference
  // does, and what wasm-bindgen's glue passes are such references.
  await must(nodeBin('wasm-opt'), ['-O3', '--low-memory-unused', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', sonaWasm, '-o', sonaWasm]);
  // The linker also exports its globals __data_end and __heap_base, which no caller needs (the
  // module has no allocator): wasm-metadce keeps exactly the functions and the memory as roots and
  // drops the rest, 41 bytes of the budget today. Then --converge repeats -Oz until the module stops
  // shrinking (25 bytes more). --low-memory-unused lets wasm-opt fold `load(p + C)` into
  // `load offset=C (p)` for C < 1024 (64 bytes less, and the scan's loads address in one
  // instruction): the two differ only if p + C wraps past 2^32, and no address this module forms
  // does (every pointer is an in-bounds Rust reference; the ABI's merge pointer is range-checked
  // before any load). --generate-global-effects first records what each function may read, write
  // or trap on, so -Oz can move and drop calls across effect-free ones (20 bytes less).
  const rawHnsw = join(release, 'micro_hnsw.wasm');
  const roots = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(rawHnsw)))
    .filter((e) => e.kind === 'function' || e.kind === 'memory')
    .map((e) => ({ name: `export ${e.name}`, export: e.name, root: true }));
  const graph = join(release, 'micro_hnsw.metadce.json');
  writeFileSync(graph, JSON.stringify(roots));
  const trimmed = join(release, 'micro_hnsw.metadce.wasm');
  await must(nodeBin('wasm-metadce'), [...WASM_FEATURES, rawHnsw, '--graph-file', graph, '-o', trimmed], { quiet: true });
  await must(nodeBin('wasm-opt'), ['--generate-global-effects', '-Oz', '--converge', '--low-memory-unused', ...WASM_FEATURES, '--strip-debug',
    '--strip-producers', '--strip-target-features', trimmed, '-o', join(pkg, 'micro_hnsw.wasm')]);

  // Its own target dir: a cdylib's file name carries no feature hash, so sharing `target/` would make
  // the two feature sets overwrite each other and relink both crates on every build.
  const routerTarget = join(targetDir, 'router');
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm', '--no-default-features', '--features', 'router'],
    { env: { CARGO_TARGET_DIR: routerTarget } });
  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'router_wasm',
    join(routerTarget, 'wasm32-unknown-unknown', 'release', 'sona_wasm.wasm')]);
  const routerWasm = join(pkg, 'router_wasm_bg.wasm');
  await must(nodeBin('wasm-opt'), ['-Oz', '--low-memory-unused', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', routerWasm, '-o', routerWasm]);

  // SONA + federated bindings, in its own target dir for the same reason.
  const fedTarget = join(targetDir, 'federated');
  await must('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sona-wasm', '--features', 'federated'],
    { env: { CARGO_TARGET_DIR: fedTarget } });
  await must('wasm-bindgen', ['--target', 'web', '--out-dir', pkg, '--out-name', 'sona_federated',
    join(fedTarget, 'wasm32-unknown-unknown', 'release', 'sona_wasm.wasm')]);
  const fedWasm = join(pkg, 'sona_federated_bg.wasm');
  await must(nodeBin('wasm-opt'), ['-O3', '--low-memory-unused', ...WASM_FEATURES, '--strip-debug', '--strip-producers', '--strip-target-features', fedWasm, '-o', fedWasm]);

  for (const name of ['sona_wasm.js', 'router_wasm.js', 'sona_federated.js']) checkGlueArguments(join(pkg, name));

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
