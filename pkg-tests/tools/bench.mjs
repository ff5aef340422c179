// `npm run bench`: builds the package, then runs every pkg-tests/bench/*.bench.mjs in its own Node
// process. Each benchmark prints its medians beside a baseline measured in the same run, with ratios.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { must, repoRoot, run } from './proc.mjs';

if (!process.argv.includes('--no-build')) {
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/setup.mjs')]);
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/build.mjs')]);
}
for (const name of ['sona_wasm_bg.wasm', 'micro_hnsw.wasm']) {
  const bytes = readFileSync(join(repoRoot, 'pkg', name));
  console.log(`size ${name}: ${bytes.length} bytes raw, ${gzipSync(bytes, { level: 9 }).length} bytes gzip`);
}
const dir = join(repoRoot, 'pkg-tests', 'bench');
const benches = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.mjs')).sort() : [];
let failures = 0;
for (const file of benches) {
  console.log(`\n━━━ ${file} ━━━`);
  // --expose-gc: the benchmarks collect garbage between timed batches (see sona.bench.mjs).
  const r = await run(process.execPath, ['--expose-gc', join(dir, file)]);
  if (r.code !== 0) failures += 1;
}
if (failures) {
  console.error(`\n${failures} benchmark file(s) failed`);
  process.exit(1);
}
