// A small static file server for the demo (`npm start`) and the browser tests.
// Serves `www/` at `/` and the built package `pkg/` at `/pkg/`, plus any extra mounts.
// Only ever binds to 127.0.0.1.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Map a URL path to a file under one of the mounts, refusing anything that escapes it. */
function resolvePath(mounts, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  // Longest prefix first so '/pkg/' wins over '/'.
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (!decoded.startsWith(prefix)) continue;
    const base = resolve(repoRoot, mounts[prefix]);
    const rel = normalize(decoded.slice(prefix.length)).replace(/^([/\\])+/, '');
    const full = resolve(base, rel);
    if (full !== base && !full.startsWith(base + sep)) return null;
    return full;
  }
  return null;
}

/**
 * Start the server. `port: 0` picks a free port.
 * @param {{port?: number, host?: string, mounts?: Record<string,string>, quiet?: boolean}} options
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function serve({ port = 8080, host = '127.0.0.1', mounts = {}, quiet = true } = {}) {
  const table = { '/': 'www', '/pkg/': 'pkg', ...mounts };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file = resolvePath(table, url.pathname);
    try {
      if (!file) throw Object.assign(new Error('forbidden'), { code: 'EACCES' });
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (!quiet) console.log(`200 ${url.pathname}`);
    } catch (err) {
      const status = err.code === 'EACCES' ? 403 : 404;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${status} ${url.pathname}\n`);
      if (!quiet) console.log(`${status} ${url.pathname}`);
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    // Closes keep-alive and half-open sockets too (a browser may still hold some), so closing never
    // waits on a client.
    close: () => new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}
