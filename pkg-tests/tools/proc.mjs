// Running commands from the tooling scripts: output is streamed to the console and also captured,
// so the test runner can read the test counts each runner prints.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const nodeBin = (name) => resolve(repoRoot, 'node_modules', '.bin', name);

/**
 * Run a command, streaming its output. Resolves to { code, output }; never rejects on a non-zero exit.
 * @param {string} cmd @param {string[]} args @param {{cwd?: string, env?: object, quiet?: boolean}} [opts]
 */
export function run(cmd, args = [], { cwd = repoRoot, env = {}, quiet = false } = {}) {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (stream, sink) => stream.on('data', (chunk) => {
      output += chunk;
      if (!quiet) sink.write(chunk);
    });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on('error', (err) => ok({ code: 127, output: output + `\n${cmd}: ${err.message}\n` }));
    child.on('close', (code, signal) => ok({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** Run a command quietly and synchronously; returns trimmed stdout, or null if it failed to run. */
export function capture(cmd, args = [], opts = {}) {
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', ...opts });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim();
}

/** Run a command that must succeed; exits the process with its status otherwise. */
export async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    if (opts?.quiet) process.stderr.write(r.output);
    console.error(`\n✖ ${cmd} ${args.join(' ')} failed (exit ${r.code})`);
    process.exit(r.code || 1);
  }
  return r;
}
