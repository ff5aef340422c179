// `npm start`: set up, build, and serve the demo (www/) and the package (pkg/) on http://127.0.0.1:8080.
// Options: PORT=<n> to change the port; --no-build to serve what is already in pkg/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { must, repoRoot } from './proc.mjs';
import { serve } from './serve.mjs';

if (!process.argv.includes('--no-build') || !existsSync(join(repoRoot, 'pkg', 'micro_hnsw.wasm'))) {
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/setup.mjs')]);
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/build.mjs')]);
}
const port = Number(process.env.PORT ?? 8080);
const server = await serve({ port, quiet: !process.env.VERBOSE });
console.log(`\nsona-wasm demo: ${server.url}  (Ctrl+C to stop)`);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.close();
    process.exit(0);
  });
}
