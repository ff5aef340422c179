// Packs the built package with `npm pack` and installs the tarball into a scratch consumer project
// (pkg-tests/.tmp/consumer), exactly as a user's `npm install sona-wasm` would. The Deno, workerd and
// TypeScript tests run against that install, so the `files` and `exports` fields are exercised too.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must, repoRoot } from './proc.mjs';

export const tmpDir = join(repoRoot, 'pkg-tests', '.tmp');
export const consumerDir = join(tmpDir, 'consumer');

export async function packConsumer() {
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(consumerDir, { recursive: true });
  await must('npm', ['pack', '--silent', '--pack-destination', tmpDir], { quiet: true });
  const tarball = readdirSync(tmpDir).find((f) => f.endsWith('.tgz'));
  writeFileSync(join(consumerDir, 'package.json'), JSON.stringify({
    name: 'sona-wasm-consumer',
    private: true,
    type: 'module',
    dependencies: { 'sona-wasm': `file:../${tarball}` },
  }, null, 2));
  await must('npm', ['install', '--no-audit', '--no-fund', '--offline', '--silent'], { cwd: consumerDir, quiet: true });
  const files = readdirSync(join(consumerDir, 'node_modules', 'sona-wasm', 'pkg')).sort();
  console.log(`packed ${tarball} into ${consumerDir}: pkg/ holds ${files.join(', ')}`);
  return consumerDir;
}

if (import.meta.url === `file://${process.argv[1]}`) await packConsumer();
