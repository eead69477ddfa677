#!/usr/bin/env node
// Static server for the scribe web app (no dependencies).
//   node tools/serve.mjs [--root dist] [--port 8080] [--host 127.0.0.1] [--quiet]
// PORT in the environment is used when --port is absent; port 0 picks a free port.
// Prints "scribe: serving <root> at http://HOST:PORT/" once listening (tests parse it).
//
// Every response carries a strict Content-Security-Policy and the cross-origin isolation
// headers (COOP/COEP) that make SharedArrayBuffer available to the audio worklet.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.mid': 'audio/midi',
  '.wav': 'audio/wav',
  '.scrb': 'application/octet-stream',
  '.map': 'application/json; charset=utf-8',
};

function parseArgs(argv) {
  const o = { root: 'dist', port: process.env.PORT ?? '8080', host: '127.0.0.1', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') o.root = argv[++i];
    else if (a === '--port') o.port = argv[++i];
    else if (a === '--host') o.host = argv[++i];
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`serve: unknown argument ${JSON.stringify(a)}`);
  }
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`serve: bad port ${JSON.stringify(o.port)}`);
  o.port = port;
  return o;
}

function securityHeaders() {
  return {
    'Content-Security-Policy': CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'microphone=(self), camera=(), geolocation=()',
  };
}

/** Cache policy: the HTML, the service worker and the manifest must revalidate so a new
 * deploy is seen; everything else may be cached briefly and must revalidate afterwards
 * (file names are not content-hashed, the service worker does the long-term caching). */
function cacheControl(rel) {
  const base = path.posix.basename(rel);
  if (rel.endsWith('.html') || base === 'sw.js' || rel.endsWith('.webmanifest') || base === 'models.json') {
    return 'no-cache';
  }
  return 'public, max-age=300, must-revalidate';
}

function send(res, code, body, extra = {}) {
  res.writeHead(code, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

export function createServer({ root, quiet = true }) {
  const rootAbs = fs.realpathSync(path.resolve(root));
  return http.createServer((req, res) => {
    const log = (code) => { if (!quiet) console.log(`${code} ${req.method} ${req.url}`); };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      log(405);
      return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    }
    let pathname;
    try {
      const raw = (req.url ?? '/').split('?')[0].split('#')[0];
      pathname = decodeURIComponent(raw);
    } catch {
      log(400);
      return send(res, 400, 'bad request: malformed URL\n');
    }
    // Refuse anything that could leave the root: NUL, backslashes, '..' segments.
    if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\') ||
        pathname.split('/').some((seg) => seg === '..')) {
      log(403);
      return send(res, 403, 'forbidden\n');
    }
    let rel = pathname.replace(/^\/+/, '');
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const abs = path.resolve(rootAbs, rel);
    let real;
    try {
      real = fs.realpathSync(abs);
    } catch {
      log(404);
      return send(res, 404, 'not found\n');
    }
    if (real !== rootAbs && !real.startsWith(rootAbs + path.sep)) {
      log(403);
      return send(res, 403, 'forbidden\n');
    }
    let st;
    try { st = fs.statSync(real); } catch { log(404); return send(res, 404, 'not found\n'); }
    if (st.isDirectory()) {
      log(301);
      return send(res, 301, 'moved\n', { Location: pathname.replace(/\/?$/, '/') });
    }
    const ext = path.extname(real).toLowerCase();
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      ...securityHeaders(),
      'Content-Type': MIME[ext] ?? 'application/octet-stream',
      'Cache-Control': cacheControl(rel),
      'Last-Modified': st.mtime.toUTCString(),
      ETag: etag,
    };
    if (path.posix.basename(rel) === 'sw.js') headers['Service-Worker-Allowed'] = '/';
    if (req.headers['if-none-match'] === etag) {
      log(304);
      res.writeHead(304, headers);
      return res.end();
    }
    headers['Content-Length'] = st.size;
    log(200);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(real);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(e.message); process.exit(2); }
  if (!fs.existsSync(opts.root)) {
    console.error(`serve: root ${JSON.stringify(opts.root)} does not exist (run make web first)`);
    process.exit(2);
  }
  const server = createServer(opts);
  server.on('error', (e) => { console.error(`serve: ${e.message}`); process.exit(1); });
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    console.log(`scribe: serving ${opts.root} at http://${opts.host}:${port}/`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
