// `npm start` (pkg-tests/tools/start.mjs) when its port is taken: it says so in one line, suggests
// PORT=<n>, and exits 1 before the set-up and the build, without a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../tools/serve.mjs';

const START = join(repoRoot, 'pkg-tests', 'tools', 'start.mjs');

/** Run start.mjs with `env`; resolves to {code, stdout, stderr}; killed (and failing) after 30 s. */
function start(args, env) {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [START, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`start.mjs still running after 30 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

test('npm start on a busy port: one line suggesting PORT=<n>, exit 1, before any set-up or build', async (t) => {
  const busy = createServer();
  await new Promise((ok) => busy.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => busy.close(ok)));
  const port = busy.address().port;

  // Without --no-build, so a check made after the set-up and the build would show in the output.
  // PATH is an empty directory: were the set-up or the build reached, they could start nothing
  // (no cargo, npm or apt-get) and would fail at once, printing to stdout, instead of building.
  const r = await start([], { PORT: String(port), PATH: mkdtempSync(join(tmpdir(), 'sona-start-path-')) });
  assert.equal(r.code, 1, `exit code; stderr:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  assert.match(r.stderr, /PORT=\d+ npm start/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing was set up or built');
});

test('npm start with a PORT that is not a port number says so', async () => {
  const r = await start(['--no-build'], { PORT: 'eighty' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /PORT must be a port number \(0-65535\), got 'eighty'/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
});
