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

test('every parameter of the classes\' methods is named in camelCase in the .d.ts (as in the docs: recordStep(trajectoryId, nodeId, score, latencyUs))', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const pkg = join(repoRoot, 'pkg');
  const files = readdirSync(pkg).filter((f) => f.endsWith('.d.ts') && !f.endsWith('_bg.wasm.d.ts'));
  const snake = [];
  let checked = 0;
  for (const f of files) {
    for (const line of readFileSync(join(pkg, f), 'utf8').split('\n')) {
      // Method and constructor declarations of the classes (not doc comments, not the raw export table).
      const m = /^\s+(?:static\s+)?(?!readonly\b)([A-Za-z_$][\w$]*)\((.*)\)(?::|;)/.exec(line);
      if (!m || line.trimStart().startsWith('*')) continue;
      for (const param of m[2].matchAll(/(?:^|,\s*)([A-Za-z_$][\w$]*)\??:/g)) {
        checked += 1;
        if (param[1].includes('_')) snake.push(`${f}: ${m[1]}(… ${param[1]} …)`);
      }
    }
  }
  assert.ok(checked > 50, `only ${checked} parameters found: the pattern no longer matches the .d.ts`);
  assert.deepEqual(snake, [], 'snake_case parameter names');
});
