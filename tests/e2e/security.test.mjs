// Page security in Debian's Chromium (playwright-core): the Content-Security-Policy (header and
// meta) forbids eval and inline scripts but allows WASM compilation ('wasm-unsafe-eval'), the
// browser enforces it, and loading the app and transcribing a file makes only same-origin GET
// requests for the app's own files: nothing is posted, no request carries a body (audio stays local).
//   node --test tests/e2e/security.test.mjs     (part of make test-e2e; needs `make web`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DIST, DATA, CHROMIUM, startServer, launchBrowser, waitStatus } from './helpers.mjs';

const WAV = path.join(DATA, 'vocadito-1.wav');
let server, origin;
const tmpDirs = [];

/** CSP text -> Map(directive -> [sources]). */
function parseCsp(text) {
  const m = new Map();
  for (const part of text.split(';')) {
    const [name, ...src] = part.trim().split(/\s+/);
    if (name) m.set(name.toLowerCase(), src);
  }
  return m;
}

function checkCsp(text, where) {
  const csp = parseCsp(text);
  const scripts = csp.get('script-src') ?? csp.get('default-src');
  assert.ok(scripts, `${where}: script-src (or default-src) is set`);
  for (const bad of ["'unsafe-eval'", "'unsafe-inline'", '*', 'data:', 'blob:', 'http:', 'https:']) {
    assert.ok(!scripts.includes(bad), `${where}: script sources ${scripts.join(' ')} exclude ${bad}`);
  }
  assert.ok(scripts.includes("'wasm-unsafe-eval'"), `${where}: script-src allows 'wasm-unsafe-eval'`);
  for (const d of ['default-src', 'worker-src', 'connect-src']) {
    const src = csp.get(d) ?? csp.get('default-src');
    assert.deepEqual(src, ["'self'"], `${where}: ${d} is 'self' only (got ${src?.join(' ')})`);
  }
  assert.deepEqual(csp.get('object-src'), ["'none'"], `${where}: object-src 'none'`);
  assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes/.test((csp.get('script-src-elem') ?? []).join(' ') +
    (csp.get('script-src-attr') ?? []).join(' ')), `${where}: no unsafe script-src-elem/attr`);
}

function head(urlPath) {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: urlPath, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  assert.ok(fs.existsSync(path.join(DIST, 'index.html')), 'dist/index.html exists (run make web)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} exists`);
  ({ proc: server, origin } = await startServer());
});

after(() => {
  server?.kill();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

test('CSP header on every kind of file, and the meta tag, forbid eval and inline scripts', async () => {
  const files = ['/', '/index.html', '/scribe.mjs', '/scribe.wasm'];
  for (const f of fs.readdirSync(DIST)) if (/\.(js|mjs|css|webmanifest)$/.test(f)) files.push(`/${f}`);
  for (const f of files) {
    const r = await head(f);
    assert.equal(r.status, 200, `${f} is served`);
    assert.ok(r.headers['content-security-policy'], `${f} carries a CSP header`);
    checkCsp(r.headers['content-security-policy'], `header of ${f}`);
  }
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const meta = html.match(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i);
  assert.ok(meta, 'index.html has a CSP meta tag');
  checkCsp(meta[1], 'meta tag');
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline <script> in index.html');
  assert.ok(!/\son[a-z]+\s*=/i.test(html), 'no inline event handler attributes in index.html');
});

test('browser: CSP enforced; transcribing a file makes only same-origin GETs of app files, no bodies', async () => {
  const { context, log } = await launchBrowser([], tmpDirs);
  const sockets = [];
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    const s0 = await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
    assert.equal(s0, 'ready', `engine loaded (${errors.join(' | ')})`);

    // eval, new Function and an injected inline script are refused; the violations are reported.
    const probe = await page.evaluate(async () => {
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      // String timers run as page code (code evaluated over the DevTools protocol is exempt from CSP).
      window.__evalRan = false;
      window.__inlineRan = false;
      setTimeout('window.__evalRan = true;', 0);
      const el = document.createElement('script');
      el.textContent = 'window.__inlineRan = true;';
      document.head.appendChild(el);
      const handler = document.createElement('div');
      handler.setAttribute('onclick', 'window.__inlineRan = true;');
      document.body.appendChild(handler);
      handler.click();
      await new Promise((r) => setTimeout(r, 200));
      handler.remove();
      return { evalRan: window.__evalRan, inlineRan: window.__inlineRan, violations };
    });
    assert.equal(probe.evalRan, false, 'string evaluation (setTimeout with a string) is blocked');
    assert.equal(probe.inlineRan, false, 'inline script and inline handler did not run');
    assert.ok(probe.violations.length >= 3, `violations reported: ${probe.violations.join(', ')}`);
    assert.ok(typeof WebAssembly === 'object');

    // Transcribe a file with the instrument-agnostic model.
    const sel = page.getByTestId('model-select');
    const labels = await sel.locator('option').allTextContents();
    const any = labels.find((o) => /any instrument/i.test(o));
    if (any) await sel.selectOption({ label: any });
    await page.getByTestId('file-input').setInputFiles(WAV);
    const s1 = await waitStatus(page, (x) => x === 'done' || x.startsWith('error'), 180000);
    assert.equal(s1, 'done', `transcription finished (${errors.join(' | ')})`);
    const notes = Number(await page.getByTestId('note-count').textContent());
    assert.ok(notes > 0, `notes were found (${notes})`);
    await page.waitForTimeout(500);

    assert.ok(log.length > 3, `requests were logged (${log.length})`);
    assert.deepEqual(sockets, [], 'no WebSocket');
    const audioSize = fs.statSync(WAV).size;
    for (const r of log) {
      if (r.url.startsWith('blob:') || r.url.startsWith('data:')) continue;
      const u = new URL(r.url);
      assert.equal(u.origin, origin, `same origin: ${r.url}`);
      assert.ok(['GET', 'HEAD'].includes(r.method), `${r.method} ${r.url}: only GET/HEAD`);
      assert.ok(!r.postData || r.postData.length === 0, `${r.url} carries no request body`);
      assert.ok(r.url.length < 2048, `${r.url.slice(0, 80)}...: no data smuggled in a long URL`);
      assert.equal(u.search, '', `${r.url}: no query string`);
      const file = u.pathname === '/' ? 'index.html' : decodeURIComponent(u.pathname.slice(1));
      const onDisk = path.join(DIST, file);
      assert.ok(onDisk.startsWith(DIST + path.sep) && fs.existsSync(onDisk) && fs.statSync(onDisk).isFile(),
        `${u.pathname} is one of the app's own files in dist/`);
    }
    console.log(`# security: ${log.length} requests, all same-origin GETs of app files; audio ${audioSize} bytes stayed local`);
  } finally {
    await context.close();
  }
});
