// `npm run setup`: idempotent installation of everything the build and the tests need.
//  - rustup target wasm32-unknown-unknown
//  - wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock
//  - npm devDependencies (`npm ci`, skipped when node_modules already matches package-lock.json)
//  - apt packages verilator, yosys, chromium (when missing; needs root)
// Exits non-zero, saying what to do, when something cannot be installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, repoRoot, run } from './proc.mjs';

const problems = [];
const note = (msg) => console.log(`setup: ${msg}`);

function lockedWasmBindgenVersion() {
  const lock = readFileSync(join(repoRoot, 'Cargo.lock'), 'utf8');
  const m = lock.match(/\[\[package\]\]\nname = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!m) throw new Error('Cargo.lock has no wasm-bindgen package');
  return m[1];
}

async function rustTarget() {
  if (!capture('rustup', ['--version'])) {
    problems.push('rustup not found: install Rust from https://rustup.rs, then rerun `npm run setup`');
    return;
  }
  const installed = capture('rustup', ['target', 'list', '--installed']) ?? '';
  if (installed.split('\n').includes('wasm32-unknown-unknown')) return note('rust target wasm32-unknown-unknown present');
  note('adding rust target wasm32-unknown-unknown');
  const r = await run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  if (r.code !== 0) problems.push('could not add the wasm32 target: run `rustup target add wasm32-unknown-unknown`');
}

async function wasmBindgenCli() {
  const want = lockedWasmBindgenVersion();
  const have = capture('wasm-bindgen', ['--version']);
  if (have === `wasm-bindgen ${want}` && capture('wasm-bindgen-test-runner', ['--version'])) {
    return note(`wasm-bindgen CLI ${want} present`);
  }
  note(`installing wasm-bindgen-cli ${want} (have: ${have ?? 'none'}; takes ~2 minutes)`);
  const r = await run('cargo', ['install', 'wasm-bindgen-cli', '--version', want, '--force']);
  if (r.code !== 0) problems.push(`could not install wasm-bindgen-cli ${want}: run \`cargo install wasm-bindgen-cli --version ${want}\``);
}

async function npmDependencies() {
  const lock = readFileSync(join(repoRoot, 'package-lock.json'));
  const digest = createHash('sha256').update(lock).digest('hex');
  const stamp = join(repoRoot, 'node_modules', '.sona-setup-stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return note('npm devDependencies up to date');
  note('installing npm devDependencies (npm ci)');
  let r = await run('npm', ['ci', '--no-audit', '--no-fund']);
  if (r.code !== 0 && /can only install packages when your package\.json and package-lock\.json/.test(r.output)) {
    // Some npm 11 releases write lockfiles without the other platforms' optional binaries (deno,
    // workerd) and then refuse `npm ci` on them. The same pinned versions install with --no-save.
    note('npm ci refused this npm\'s own lockfile (missing other-platform optional packages); using npm install --no-save');
    r = await run('npm', ['install', '--no-save', '--no-audit', '--no-fund']);
  }
  if (r.code !== 0) return problems.push('`npm ci` failed: check network access to the npm registry');
  writeFileSync(stamp, digest);
}

async function aptPackages() {
  const wanted = [
    { pkg: 'verilator', bin: 'verilator' },
    { pkg: 'yosys', bin: 'yosys' },
    { pkg: 'chromium', bin: 'chromium' },
  ];
  const missing = wanted.filter(({ bin }) => !capture('sh', ['-c', `command -v ${bin}`]));
  if (missing.length === 0) return note('verilator, yosys, chromium present');
  const names = missing.map((m) => m.pkg).join(' ');
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    problems.push(`missing system packages: ${names}. Install them with \`sudo apt-get install -y ${names}\` (Debian/Ubuntu)`);
    return;
  }
  note(`installing apt packages: ${names}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['update'], { env });
  if (r.code === 0) r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing.map((m) => m.pkg)], { env });
  if (r.code !== 0) problems.push(`apt-get could not install ${names}`);
}

await rustTarget();
await wasmBindgenCli();
await npmDependencies();
await aptPackages();
if (problems.length) {
  console.error('\nsetup: incomplete:\n' + problems.map((p) => `  - ${p}`).join('\n'));
  process.exit(1);
}
note('ok');
