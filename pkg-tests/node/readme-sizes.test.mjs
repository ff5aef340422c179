// The README's table of module sizes must describe the package as built: each row's raw size
// exactly, and its gzip size (measured as the build's budget check measures it, `sizes()` of
// tools/build.mjs) within 0.5 % (zlib releases may differ by a few bytes). A build that changes a module's size without the README
// following fails here.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sizes } from '../tools/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const number = (s) => Number(s.replace(/[,\s]/g, ''));

/** The rows `| \`file.wasm\` | \`entry\` | raw B | gzip B |` of the size table. */
const rows = [...readme.matchAll(/^\| `([a-z_]+\.wasm)` \| `[^`]+` \| ([\d,]+) B \| ([\d,]+) B \|$/gm)]
  .map(([, file, raw, gzip]) => ({ file, raw: number(raw), gzip: number(gzip) }));

test('the README size table lists every shipped .wasm module', () => {
  assert.deepEqual(rows.map((r) => r.file).sort(), ['micro_hnsw.wasm', 'router_wasm_bg.wasm', 'sona_federated_bg.wasm', 'sona_wasm_bg.wasm']);
});

for (const row of rows) {
  test(`README size of ${row.file} matches the build`, () => {
    const { raw, gzip } = sizes(join(root, 'pkg', row.file));
    assert.equal(row.raw, raw, `${row.file}: README says ${row.raw} B raw, the build has ${raw} B`);
    assert.ok(Math.abs(row.gzip - gzip) <= 0.005 * gzip, `${row.file}: README says ${row.gzip} B gzip, the build has ${gzip} B`);
  });
}
