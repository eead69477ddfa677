// Shared pieces of the end-to-end tests (app.test.mjs, security.test.mjs): paths, the Chromium
// launch flags, the static server, a browser context that logs every request, status polling.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
export const DATA = path.resolve(ROOT, process.env.SCRIBE_DATA ?? '../shared/data/dev');
export const CHROMIUM = process.env.SCRIBE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROME_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--mute-audio', '--autoplay-policy=no-user-gesture-required'];

/** Starts tools/serve.mjs on a free port: {proc, origin}. */
export function startServer(root = DIST) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'tools/serve.mjs'), '--root', root, '--port', '0', '--quiet'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/at (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve({ proc: p, origin: m[1] });
    });
    p.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
}

/**
 * A persistent Chromium context in a fresh profile directory (pushed to `tmpDirs` for cleanup).
 * `requests`: every request URL; `log`: {url, method, resourceType, postData} of each request.
 * `options` go to launchPersistentContext (e.g. serviceWorkers: 'block', so page.route sees
 * every request).
 */
export async function launchBrowser(extraArgs = [], tmpDirs = [], options = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-e2e-'));
  tmpDirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: [...CHROME_ARGS, ...extraArgs],
    acceptDownloads: true, viewport: { width: 1280, height: 860 }, permissions: ['microphone'], ...options,
  });
  const requests = [];
  const log = [];
  context.on('request', (r) => {
    requests.push(r.url());
    log.push({ url: r.url(), method: r.method(), resourceType: r.resourceType(), postData: r.postDataBuffer() });
  });
  return { context, requests, log, dir };
}

export async function status(page) { return (await page.getByTestId('status').textContent()).trim(); }

export async function waitStatus(page, pred, timeout) {
  const t0 = Date.now();
  let s;
  while (Date.now() - t0 < timeout) {
    s = await status(page);
    if (pred(s)) return s;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out after ${timeout} ms waiting for status; last status: ${JSON.stringify(s)}`);
}
