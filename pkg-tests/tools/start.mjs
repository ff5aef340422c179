// `npm start`: set up, build, and serve the demo (www/) and the package (pkg/) on http://127.0.0.1:8080.
// Options: PORT=<n> to change the port; --no-build to serve what is already in pkg/.
// The port is checked before the set-up and the build, so a busy port is reported at once (exit 1,
// one line suggesting PORT=<n>) instead of as a listen error after the build.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { must, repoRoot } from './proc.mjs';
import { serve } from './serve.mjs';

const HOST = '127.0.0.1';

/** Exit 1 with a one-line reason why `port` cannot be served, and what to do instead. */
function portProblem(port, err) {
  const why = err.code === 'EADDRINUSE' ? 'is already in use'
    : err.code === 'EACCES' ? 'needs privileges this user does not have'
      : `cannot be listened on (${err.code ?? err.message})`;
  console.error(`npm start: port ${port} on ${HOST} ${why}. Stop what is using it, or pick another port: PORT=${port < 65535 ? port + 1 : 8080} npm start`);
  process.exit(1);
}

/** Resolves when `port` could be bound on HOST (and released again); otherwise exits via portProblem. */
function checkPort(port) {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once('error', (err) => portProblem(port, err));
    probe.listen(port, HOST, () => probe.close(ok));
  });
}

const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`npm start: PORT must be a port number (0-65535), got '${process.env.PORT}'`);
  process.exit(1);
}
await checkPort(port);
if (!process.argv.includes('--no-build') || !existsSync(join(repoRoot, 'pkg', 'micro_hnsw.wasm'))) {
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/setup.mjs')]);
  await must(process.execPath, [join(repoRoot, 'pkg-tests/tools/build.mjs')]);
}
// The port may have been taken during the build: the same message then.
const server = await serve({ port, host: HOST, quiet: !process.env.VERBOSE }).catch((err) => portProblem(port, err));
console.log(`\nsona-wasm demo: ${server.url}  (Ctrl+C to stop)`);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await server.close();
    process.exit(0);
  });
}
