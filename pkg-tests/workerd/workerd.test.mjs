// The packed package inside workerd (Cloudflare's runtime): a worker script and config served on
// 127.0.0.1, queried over HTTP. The module map is built from the installed package's files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { consumerDir } from '../tools/pack.mjs';
import { nodeBin, repoRoot } from '../tools/proc.mjs';
import { checkExtras, checkResults } from '../shared/scenario.js';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// workerd embeds files by paths relative to the config, so everything is copied beside it first.
function configFor(port, dir) {
  const pkg = join(consumerDir, 'node_modules', 'sona-wasm', 'pkg');
  const place = (file) => {
    const local = file.replaceAll('/', '_');
    copyFileSync(file, join(dir, local));
    return local;
  };
  const es = (name, file) => `(name = "${name}", esModule = embed "${place(file)}")`;
  const wasm = (name, file) => `(name = "${name}", wasm = embed "${place(file)}")`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    ${es('worker.js', join(repoRoot, 'pkg-tests', 'workerd', 'worker.js'))},
    ${es('scenario.js', join(repoRoot, 'pkg-tests', 'shared', 'scenario.js'))},
    ${es('sona-wasm', join(pkg, 'index.workerd.js'))},
    ${es('sona_wasm.js', join(pkg, 'sona_wasm.js'))},
    ${es('fast.js', join(pkg, 'fast.js'))},
    ${es('guard.js', join(pkg, 'guard.js'))},
    ${wasm('sona_wasm_bg.wasm', join(pkg, 'sona_wasm_bg.wasm'))},
    ${es('sona-wasm/micro-hnsw', join(pkg, 'micro_hnsw.workerd.js'))},
    ${es('sona-wasm/micro_hnsw.js', join(pkg, 'micro_hnsw.js'))},
    ${wasm('sona-wasm/micro_hnsw.wasm', join(pkg, 'micro_hnsw.wasm'))},
    ${es('sona-wasm/router', join(pkg, 'router.workerd.js'))},
    ${es('sona-wasm/router_wasm.js', join(pkg, 'router_wasm.js'))},
    ${es('sona-wasm/router_fast.js', join(pkg, 'router_fast.js'))},
    ${wasm('sona-wasm/router_wasm_bg.wasm', join(pkg, 'router_wasm_bg.wasm'))},
    ${es('sona-wasm/federated', join(pkg, 'federated.workerd.js'))},
    ${es('sona-wasm/fast.js', join(pkg, 'fast.js'))},
    ${es('sona-wasm/guard.js', join(pkg, 'guard.js'))},
    ${es('sona-wasm/sona_federated.js', join(pkg, 'sona_federated.js'))},
    ${wasm('sona-wasm/sona_federated_bg.wasm', join(pkg, 'sona_federated_bg.wasm'))},
  ],
  compatibilityDate = "2025-09-01",
);
`;
}

test('micro-HNSW, SONA, the router and federated learning compute for real inside workerd', async (t) => {
  const port = await freePort();
  const dir = join(consumerDir, 'workerd');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'config.capnp');
  writeFileSync(configPath, configFor(port, dir));
  const child = spawn(nodeBin('workerd'), ['serve', configPath, '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((ok) => child.on('exit', (code) => ok(code)));
  t.after(() => child.kill('SIGTERM'));

  let response;
  const deadline = Date.now() + 30_000;
  while (!response) {
    if (child.exitCode !== null) assert.fail(`workerd exited with ${child.exitCode}:\n${log}`);
    try {
      response = await fetch(`http://127.0.0.1:${port}/scenario`);
    } catch {
      if (Date.now() > deadline) assert.fail(`workerd did not answer within 30 s:\n${log}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  const body = await response.json();
  assert.equal(response.status, 200, `worker failed: ${body.error}\n${log}`);
  assert.deepEqual(checkResults(body), []);
  assert.deepEqual(checkExtras(body), []);
  assert.ok(body.router && body.federated, 'the worker ran the router and federated scenarios');
  child.kill('SIGTERM');
  await exited;
});
