// TypeScript: `tsc --noEmit` on a consumer file that uses the .d.ts of both entry points, resolved
// through the packed package's "exports" (moduleResolution "bundler" and "nodenext"), and on a
// CommonJS consumer (`.cts`, `import x = require(...)`, nodenext).
import test from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consumerDir } from '../tools/pack.mjs';
import { nodeBin, repoRoot, run } from '../tools/proc.mjs';

for (const moduleResolution of ['bundler', 'nodenext']) {
  test(`the .d.ts of both entry points type-check a consumer (moduleResolution ${moduleResolution})`, async () => {
    const dir = join(consumerDir, `types-${moduleResolution}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(repoRoot, 'pkg-tests', 'types', 'consumer.ts'), join(dir, 'consumer.ts'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: moduleResolution === 'bundler' ? 'esnext' : 'nodenext',
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        lib: ['es2022', 'dom', 'esnext.disposable'],
        types: [],
      },
      files: ['consumer.ts'],
    }, null, 2));
    const r = await run(nodeBin('tsc'), ['-p', dir], { quiet: true });
    assert.equal(r.code, 0, `tsc reported errors:\n${r.output}`);
  });
}

test('the .d.ts type-check a CommonJS consumer (.cts, import = require, nodenext)', async () => {
  const dir = join(consumerDir, 'types-cjs');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(repoRoot, 'pkg-tests', 'types', 'consumer.cts'), join(dir, 'consumer.cts'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true,
      skipLibCheck: false, lib: ['es2022', 'dom', 'esnext.disposable'], types: [],
    },
    files: ['consumer.cts'],
  }, null, 2));
  const r = await run(nodeBin('tsc'), ['-p', dir], { quiet: true });
  assert.equal(r.code, 0, `tsc reported errors:\n${r.output}`);
});
