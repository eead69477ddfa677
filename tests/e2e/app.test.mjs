// End-to-end tests of the web app in Debian's Chromium, driven by playwright-core (which never
// downloads a browser here: executablePath is /usr/bin/chromium).
//   node --test tests/e2e/            (make test-e2e; needs `make web` first)
// Starts tools/serve.mjs on a free port, transcribes a dev clip through the file input,
// checks notes against the clip's ground truth, downloads MIDI and CSV, works offline through
// the service worker, and records from a fake microphone. Screenshots go to
// tests/e2e/screenshots/; measured figures are printed (not asserted).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import midiFile from 'midi-file';
import { ROOT, DIST, DATA, CHROMIUM, startServer, launchBrowser, status, waitStatus } from './helpers.mjs';

const CLIP = 'guitarset-00_BN1-129-Eb_comp';
const WAV = path.join(DATA, `${CLIP}.wav`);
const CSV = path.join(DATA, `${CLIP}.notes.csv`);
const SHOTS = path.join(ROOT, 'tests/e2e/screenshots');
// Onset F1 (50 ms) of the acoustic model on this clip in the browser must reach this floor
// (measured 0.728: P 0.687, R 0.774; mir_eval-style matching in onsetF1 below).
const ONSET_F1_FLOOR = Number(process.env.SCRIBE_E2E_F1_FLOOR ?? 0.65);

let server, origin;
const tmpDirs = [];
const figures = {};

function get(urlPath, headers = {}) {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: urlPath, method: 'GET', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function launch(extraArgs = [], options = {}) { return launchBrowser(extraArgs, tmpDirs, options); }

const FAKE_MIC = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${WAV}`];

/** Drops a file made of `bytes` on the page, as a drag and drop from the desktop would. */
async function dropFile(page, name, type, bytes) {
  await page.evaluate(([n, t, b]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], n, { type: t }));
    document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [name, type, [...bytes]]);
}

async function until(cond, what, timeout = 30000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Holds every request for `pattern` until the returned release() is called. */
async function holdRequests(context, pattern) {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const held = [];
  await context.route(pattern, async (route) => { held.push(route.request().url()); await gate; await route.continue(); });
  return { release, held };
}

/** Records the type and job of every message between the page and the engine worker
 * (window.scribeWorkerLog: {dir: 'in'|'out', type, job}). */
function logWorkerMessages() {
  const Native = window.Worker;
  const log = window.scribeWorkerLog = [];
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => log.push({ dir: 'out', type: e.data?.type, job: e.data?.job }));
    }
    postMessage(msg, transfer) {
      log.push({ dir: 'in', type: msg?.type, job: msg?.job });
      return super.postMessage(msg, transfer);
    }
  };
}

/** Holds getUserMedia's answer (the permission prompt) until window.scribeOpenMic() is called;
 * every stream it hands out is kept in window.scribeStreams. */
function gateMicrophone() {
  const md = navigator.mediaDevices;
  const real = md.getUserMedia.bind(md);
  const streams = window.scribeStreams = [];
  let open;
  window.scribeCloseMic = () => { window.scribeMicGate = new Promise((resolve) => { open = resolve; }); };
  window.scribeOpenMic = () => open();
  window.scribeCloseMic();
  md.getUserMedia = async (constraints) => {
    const s = await real(constraints);
    streams.push(s);
    await window.scribeMicGate;
    return s;
  };
}

async function openApp(context, at = origin) {
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${at}/`);
  await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
  return { page, errors };
}

async function noteCount(page) { return Number(await page.getByTestId('note-count').textContent()); }

async function chooseAnyInstrument(page) {
  const sel = page.getByTestId('model-select');
  const options = await sel.locator('option').allTextContents();
  const label = options.find((o) => /any instrument/i.test(o));
  assert.ok(label, `the model list offers "any instrument" (offers ${JSON.stringify(options)})`);
  await sel.selectOption({ label });
}

async function transcribe(page) {
  const t0 = Date.now();
  await page.getByTestId('file-input').setInputFiles(WAV);
  const s = await waitStatus(page, (x) => x === 'done' || x.startsWith('error'), 120000);
  assert.equal(s, 'done', `transcription finished (status ${JSON.stringify(s)})`);
  return Date.now() - t0;
}

async function download(page, testId) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.getByTestId(testId).click()]);
  const file = path.join(tmpDirs[0], `dl-${testId}-${dl.suggestedFilename()}`);
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
}

function readCsvNotes(text) {
  const lines = text.trim().split(/\r?\n/);
  assert.match(lines[0], /^onset_s,offset_s,pitch,velocity,program,is_drum$/);
  return lines.slice(1).map((l) => {
    const [onset, offset, pitch, velocity, program, isDrum] = l.split(',').map(Number);
    return { onset, offset, pitch, velocity, program, isDrum: isDrum === 1 };
  });
}

/** mir_eval-style onset-only matching: maximum bipartite matching of notes with the same
 * pitch (within 50 cents) and onsets within 50 ms; drums excluded. */
function onsetF1(ref, est, tol = 0.05) {
  ref = ref.filter((n) => !n.isDrum);
  est = est.filter((n) => !n.isDrum);
  const cents = (a, b) => Math.abs(a - b) * 100;
  const adj = ref.map((r) => est.map((e, j) => (Math.abs(r.onset - e.onset) <= tol + 1e-9 && cents(r.pitch, e.pitch) <= 50 ? j : -1)).filter((j) => j >= 0));
  const matchOfEst = new Array(est.length).fill(-1);
  const tryAssign = (i, seen) => {
    for (const j of adj[i]) {
      if (seen[j]) continue;
      seen[j] = true;
      if (matchOfEst[j] < 0 || tryAssign(matchOfEst[j], seen)) { matchOfEst[j] = i; return true; }
    }
    return false;
  };
  let matched = 0;
  for (let i = 0; i < ref.length; i++) if (tryAssign(i, new Array(est.length).fill(false))) matched++;
  const p = est.length ? matched / est.length : 0;
  const r = ref.length ? matched / ref.length : 0;
  return { precision: p, recall: r, f1: p + r ? (2 * p * r) / (p + r) : 0, matched };
}

/** Longest main-thread task (ms) that started inside the last `kind` busy window (transcription or take). */
function longestDuring(st, kind) {
  const win = st.busy.filter((b) => b[0] === kind).pop();
  if (!win) return null;
  return Math.max(0, ...st.longTaskList.filter(([t]) => t >= win[1] && t <= win[2]).map(([, d]) => d));
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(150); // let the roll repaint
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

before(async () => {
  assert.ok(fs.existsSync(path.join(DIST, 'index.html')), 'dist/index.html exists (run make web)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} exists (Debian package chromium)`);
  ({ proc: server, origin } = await startServer());
});

after(async () => {
  server?.kill();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  console.log(`# e2e figures: ${JSON.stringify(figures)}`);
});

test('server: MIME types, CSP, isolation headers, caching, no path traversal', async () => {
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.headers['content-type'], /^text\/html/);
  const csp = index.headers['content-security-policy'];
  for (const d of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "style-src 'self'",
    "img-src 'self' blob: data:", "media-src 'self' blob:", "connect-src 'self'"]) assert.ok(csp.includes(d), `CSP has ${d}`);
  assert.ok(!/unsafe-inline|'unsafe-eval'/.test(csp), 'CSP allows no inline or eval scripts');
  assert.equal(index.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(index.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(index.headers['cache-control'], 'no-cache');
  const html = index.body.toString();
  assert.ok(html.includes('http-equiv="Content-Security-Policy"'), 'index.html repeats the CSP in a meta tag');
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), 'no inline scripts');
  assert.ok(!/<style|\sstyle=/.test(html), 'no inline styles');

  const wasm = await get('/scribe.wasm');
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.equal(wasm.body.subarray(0, 4).toString('latin1'), '\0asm');
  const relaxedWasm = await get('/scribe-relaxed.wasm'); // the fused multiply-add build, same glue
  assert.equal(relaxedWasm.status, 200);
  assert.equal(relaxedWasm.headers['content-type'], 'application/wasm');
  assert.match((await get('/manifest.webmanifest')).headers['content-type'], /^application\/manifest\+json/);
  assert.match((await get('/app.js')).headers['content-type'], /^text\/javascript/);
  assert.match((await get('/weights/models.json')).headers['content-type'], /^application\/json/);
  const sw = await get('/sw.js');
  assert.equal(sw.headers['cache-control'], 'no-cache');
  assert.ok(!sw.body.toString().includes('__SCRIBE_BUILD__'), 'sw.js is stamped with a build');
  for (const f of ['"scribe.wasm"', '"scribe-relaxed.wasm"']) assert.ok(sw.body.toString().includes(f), `sw.js precaches ${f}`);
  const etag = (await get('/app.css')).headers.etag;
  assert.equal((await get('/app.css', { 'If-None-Match': etag })).status, 304);

  for (const bad of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/engine/..%5c..%5cpackage.json',
    '/%2e%2e%2f%2e%2e%2fetc/passwd', '/%00index.html']) {
    const r = await get(bad);
    assert.ok(r.status === 403 || r.status === 400, `${bad} refused (got ${r.status})`);
    assert.ok(!r.body.toString().includes('"name": "scribe"'));
  }
  assert.equal((await get('/no-such-file.js')).status, 404);
});

test('browser: transcribe a file, check notes, download MIDI and CSV, work offline', async (t) => {
  const { context, requests } = await launch();
  try {
    const { page, errors } = await openApp(context);
    assert.equal(await status(page), 'ready', `engine loaded (${errors.join(' | ')})`);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'page is cross-origin isolated');
    // Chromium validates relaxed SIMD, so the worker runs the fused multiply-add build.
    const relaxed = await page.evaluate(() => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1,
      96, 0, 0, 3, 2, 1, 0, 10, 16, 1, 14, 1, 1, 123, 32, 0, 32, 0, 32, 0, 253, 133, 2, 26, 11])));
    figures.wasm = await page.evaluate(() => window.scribeStats.wasm);
    assert.equal(figures.wasm, relaxed ? 'scribe-relaxed.wasm' : 'scribe.wasm', `the worker loaded ${figures.wasm}`);
    if (/\/chromium$/.test(CHROMIUM)) assert.ok(relaxed, 'Debian Chromium has relaxed SIMD');
    await shot(page, '01-empty');
    await chooseAnyInstrument(page);
    // Service worker installed and controlling before the network goes away.
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'installable as an app');
    await cdp.detach();

    const wallMs = await transcribe(page);
    const count = await noteCount(page);
    assert.ok(count > 0, `note count ${count} > 0`);
    const st = await page.evaluate(() => window.scribeStats);
    figures.fileWallMs = wallMs;
    figures.firstNoteMs = Math.round(st.firstNoteMs);
    figures.transcribeMs = Math.round(st.transcribeMs);
    figures.audioSeconds = Math.round(st.audioSeconds * 10) / 10;
    figures.longestTaskMs = longestDuring(st, 'file');
    await shot(page, '02-transcribed');

    // Notes (JSON download) against the ground truth.
    const json = await download(page, 'export-json');
    assert.equal(json.name, `${CLIP}.json`);
    const est = JSON.parse(json.bytes.toString()).notes;
    assert.equal(est.length, count);
    const ref = readCsvNotes(fs.readFileSync(CSV, 'utf8'));
    const m = onsetF1(ref, est);
    figures.onsetF1 = Math.round(m.f1 * 1000) / 1000;
    figures.onsetP = Math.round(m.precision * 1000) / 1000;
    figures.onsetR = Math.round(m.recall * 1000) / 1000;
    assert.ok(m.f1 >= ONSET_F1_FLOOR, `onset F1 ${m.f1.toFixed(3)} >= ${ONSET_F1_FLOOR} (P ${m.precision.toFixed(3)} R ${m.recall.toFixed(3)})`);

    // MIDI download, named after the input, parsed with midi-file.
    const midi = await download(page, 'export-midi');
    assert.equal(midi.name, `${CLIP}.mid`);
    const parsed = midiFile.parseMidi(midi.bytes);
    const ons = parsed.tracks.flat().filter((e) => e.type === 'noteOn' && e.velocity > 0);
    assert.equal(ons.length, count, 'one note-on per note');
    const pitches = new Set(est.map((n) => n.pitch));
    assert.ok(ons.every((e) => pitches.has(e.noteNumber)), 'MIDI pitches are the transcribed pitches');

    const csv = await download(page, 'export-csv');
    assert.equal(csv.name, `${CLIP}.csv`);
    assert.equal(readCsvNotes(csv.bytes.toString()).length, count);

    // Select a note by clicking it and delete it with the keyboard.
    const box = await page.locator('#roll').boundingBox();
    await page.locator('#roll').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#nd-list').isVisible(), true, 'selecting a note shows its details');
    await shot(page, '03-note-selected');
    const pitchBefore = await page.locator('#nd-pitch').textContent();
    await page.keyboard.press('Alt+ArrowUp');
    const pitchAfter = await page.locator('#nd-pitch').textContent();
    const midiNo = (txt) => Number(txt.match(/MIDI (\d+)/)[1]);
    assert.equal(midiNo(pitchAfter), midiNo(pitchBefore) + 1, 'Alt+ArrowUp moves the note up a semitone');
    await page.keyboard.press('Delete');
    assert.equal(await noteCount(page), count - 1, 'Delete removes the selected note');
    assert.ok(box.width > 300);

    // A click on a note selects it: find one through the canvas (probe the roll's rows).
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#nd-list').isVisible(), false);
    let clicked = false;
    for (let y = box.y + 30; y < box.y + box.height - 4 && !clicked; y += 4) {
      const x = box.x + 60 + 12;
      await page.mouse.click(x, y);
      clicked = await page.locator('#nd-list').isVisible();
    }
    assert.ok(clicked, 'clicking a note shows its details');

    // Playback: the clock and playhead move, pause stops them.
    await page.locator('#play').click();
    await page.waitForTimeout(700);
    const shown = await page.locator('#time-display').textContent();
    assert.notEqual(shown, '0:00.0', `playback advances (${shown})`);
    await page.locator('#play').click();
    assert.equal((await page.locator('#play').textContent()).trim(), '▶ Play');
    for (const mode of ['original', 'mix']) { // the recording itself, then both together
      await page.locator(`label[for=mode-${mode}]`).click();
      const before = await page.locator('#time-display').textContent();
      await page.locator('#play').click();
      await page.waitForTimeout(700);
      const after = await page.locator('#time-display').textContent();
      assert.notEqual(after, before, `${mode} playback advances (${before} -> ${after})`);
      await page.locator('#play').click();
      assert.ok(!(await status(page)).startsWith('error'), await status(page));
    }
    await page.locator('label[for=mode-notes]').click();

    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'no request leaves the app origin');
    assert.deepEqual(errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');

    // Files the browser cannot decode give a clear message (through drag and drop) and leave the
    // notes, their source and the original recording as they were (an exported .mid included).
    const kept = await noteCount(page);
    for (const [name, type, bytes] of [['notes.txt', 'text/plain', Buffer.from('this is not audio')],
      [`${CLIP}.mid`, 'audio/midi', midi.bytes]]) {
      await dropFile(page, name, type, bytes);
      const bad = await waitStatus(page, (x) => x.startsWith('error'), 20000);
      assert.match(bad, new RegExp(`^error: cannot decode .${name.replace(/\./g, '\\.')}.`));
      assert.equal(await noteCount(page), kept, `dropping ${name} keeps the notes`);
      assert.equal(await page.locator('#source-name').textContent(), `${CLIP}.wav`, `dropping ${name} keeps the source`);
      assert.equal(await page.locator('#mode-original').isDisabled(), false, `dropping ${name} keeps the original`);
      assert.equal(await page.locator('#play').isDisabled(), false);
    }
    await shot(page, '03b-bad-file');

    // Cancel a running transcription.
    await page.getByTestId('file-input').setInputFiles(path.join(DATA, 'slakh-Track00001.wav'));
    await waitStatus(page, (x) => x === 'transcribing', 20000);
    await page.locator('#cancel').click();
    assert.equal(await status(page), 'cancelled');
    await page.waitForTimeout(300);
    assert.equal(await status(page), 'cancelled', 'no late results after cancel');

    // Settings are remembered (checked after the offline reload below).
    await page.locator('#min-note').fill('200');

    // Offline: reload without network, the service worker serves app, engine and weights.
    await t.test('offline after first load', async () => {
      await context.setOffline(true);
      const before = requests.length;
      await page.reload();
      await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
      assert.equal(await status(page), 'ready');
      assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, 'page controlled by the service worker');
      assert.equal(await page.locator('#min-note').inputValue(), '200', 'settings remembered across visits');
      await page.locator('#min-note').fill('130');
      await transcribe(page);
      assert.equal(await noteCount(page), count, 'same notes offline');
      await shot(page, '04-offline');
      assert.ok(requests.length > before);
      await context.setOffline(false);
    });
  } finally {
    await context.close();
  }
});

test('browser: fake microphone, notes appear while recording, take exported', async () => {
  const { context, requests } = await launch(FAKE_MIC);
  try {
    const { page, errors } = await openApp(context);
    assert.equal(await status(page), 'ready', `engine loaded (${errors.join(' | ')})`);
    await chooseAnyInstrument(page);
    await page.getByTestId('record').click();
    await waitStatus(page, (s) => s === 'recording' || s.startsWith('error'), 15000);
    assert.equal(await status(page), 'recording');
    const t0 = Date.now();
    let live = 0;
    while (Date.now() - t0 < 12000) {
      live = await noteCount(page);
      if (live > 0 && figures.micFirstNoteMs == null) figures.micFirstNoteMs = Date.now() - t0;
      if (live > 0 && Date.now() - t0 > 6000) break;
      await page.waitForTimeout(100);
    }
    assert.equal(await status(page), 'recording', 'still recording');
    await shot(page, '05-recording');
    const st = await page.evaluate(() => window.scribeStats);
    figures.micCapture = st.captureMode;
    figures.micLongestTaskMsSoFar = Math.round(st.longestTaskMs);
    const lat = st.latenciesMs.slice().sort((a, b) => a - b);
    const pv = st.previewMs.slice().sort((a, b) => a - b);
    if (pv.length) figures.micPreviewComputeMedianMs = pv[pv.length >> 1];
    figures.loadAverage = os.loadavg()[0];
    if (lat.length) {
      figures.micLatencyMedianMs = Math.round(lat[lat.length >> 1]);
      figures.micLatencyMaxMs = Math.round(lat[lat.length - 1]);
    }
    assert.ok(live > 0, 'notes appear on the roll while recording');
    assert.ok(lat.length > 0, 'latency measured');
    assert.match(await page.getByTestId('latency').textContent(), /^\d+\.\d\d s$/, 'latency shown');
    await page.getByTestId('stop').click();
    await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 60000);
    assert.equal(await status(page), 'done');
    const total = await noteCount(page);
    figures.micTakeNotes = total;
    figures.micLongestTaskMs = longestDuring(await page.evaluate(() => window.scribeStats), 'live');
    assert.ok(total > 0, `the take has notes (${total})`);
    await shot(page, '06-recorded');
    const midi = await download(page, 'export-midi');
    const ons = midiFile.parseMidi(midi.bytes).tracks.flat().filter((e) => e.type === 'noteOn' && e.velocity > 0);
    assert.equal(ons.length, total, 'the take exports as MIDI');

    // The same through the worklet's message port (browsers without cross-origin isolation).
    await page.goto(`${origin}/?capture=port`);
    await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
    await page.getByTestId('record').click();
    await waitStatus(page, (s) => s === 'recording' || s.startsWith('error'), 15000);
    const t1 = Date.now();
    while ((await noteCount(page)) === 0 && Date.now() - t1 < 15000) await page.waitForTimeout(100);
    assert.ok((await noteCount(page)) > 0, 'notes appear with message-port capture');
    assert.equal(await page.evaluate(() => window.scribeStats.captureMode), 'message port');
    await page.getByTestId('stop').click();
    assert.equal(await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 60000), 'done');

    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, []);
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await context.close();
  }
});

test('browser: Stop or a new file while the model is still loading', async () => {
  // No service worker, so every weights request reaches the route that holds it.
  const { context } = await launch(FAKE_MIC, { serviceWorkers: 'block' });
  try {
    await context.addInitScript(logWorkerMessages);
    let hold = await holdRequests(context, '**/weights/*.scrb');
    const { page, errors } = await openApp(context);
    assert.equal(await status(page), 'ready', `engine loaded (${errors.join(' | ')})`);
    const log = () => page.evaluate(() => window.scribeWorkerLog);

    // Record, then Stop before the model has arrived: the take still finishes.
    await page.getByTestId('record').click();
    await waitStatus(page, (s) => s === 'recording' || s.startsWith('error'), 15000);
    await page.getByTestId('stop').click();
    assert.equal(await status(page), 'finishing');
    await until(() => hold.held.length > 0, 'the weights request is held');
    hold.release();
    assert.equal(await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 30000), 'done', 'Stop during model load ends the take');
    assert.equal(await page.getByTestId('record').isDisabled(), false, 'Record is available again');

    // A file, replaced by another before the model has arrived: the first job never starts.
    await context.unroute('**/weights/*.scrb');
    hold = await holdRequests(context, '**/weights/*.scrb');
    await page.reload(); // a fresh worker loads the model again
    await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
    await page.getByTestId('file-input').setInputFiles(WAV);
    await waitStatus(page, (s) => s === 'transcribing' || s.startsWith('error'), 20000);
    await page.getByTestId('file-input').setInputFiles(WAV);
    await page.waitForFunction(() => window.scribeWorkerLog.filter((m) => m.type === 'start').length === 2);
    const [first, second] = (await log()).filter((m) => m.type === 'start').map((m) => m.job);
    hold.release();
    assert.equal(await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 60000), 'done');
    assert.ok(await noteCount(page) > 0);
    const fromFirst = (await log()).filter((m) => m.dir === 'out' && m.job === first).map((m) => m.type);
    assert.deepEqual(fromFirst, ['cancelled'], `the replaced job ${first} is only cancelled (worker sent ${fromFirst})`);
    assert.ok((await log()).some((m) => m.dir === 'out' && m.job === second && m.type === 'done'));
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await context.close();
  }
});

test('browser: Record starts one capture; a double click or a file during the prompt starts no other', async () => {
  const { context } = await launch(FAKE_MIC);
  try {
    await context.addInitScript(gateMicrophone);
    const { page, errors } = await openApp(context);
    assert.equal(await status(page), 'ready', `engine loaded (${errors.join(' | ')})`);
    await chooseAnyInstrument(page);

    // Double click while the permission prompt is open: one capture, released at Stop.
    await page.getByTestId('record').dblclick();
    await page.evaluate(() => window.scribeOpenMic());
    await waitStatus(page, (s) => s === 'recording' || s.startsWith('error'), 15000);
    await page.getByTestId('stop').click();
    assert.equal(await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 60000), 'done');
    assert.equal(await page.evaluate(() => window.scribeStreams.length), 1, 'one microphone stream opened');
    await page.waitForFunction(() => window.scribeStreams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')));

    // A file chosen while the prompt is open wins; the microphone is released once it answers.
    await page.evaluate(() => window.scribeCloseMic());
    await page.getByTestId('record').click();
    assert.equal(await status(page), 'starting microphone');
    await page.getByTestId('file-input').setInputFiles(WAV);
    await waitStatus(page, (s) => s === 'transcribing' || s === 'done' || s.startsWith('error'), 20000);
    await page.evaluate(() => window.scribeOpenMic());
    assert.equal(await waitStatus(page, (s) => s === 'done' || s.startsWith('error'), 60000), 'done');
    await page.waitForFunction(() => window.scribeStreams.length === 2);
    await page.waitForFunction(() => window.scribeStreams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')));
    assert.equal(await status(page), 'done', 'the file transcription is still shown');
    assert.equal(await page.locator('#source-name').textContent(), `${CLIP}.wav`);
    assert.ok(await noteCount(page) > 0);
    assert.equal(await page.getByTestId('record').isDisabled(), false);
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await context.close();
  }
});

test('browser: engine failures stay shown; JSON names the model of the notes; pause during play()', async () => {
  const { context } = await launch([], { serviceWorkers: 'block' });
  try {
    let models = 'missing';
    await context.route('**/weights/models.json', async (route) => {
      if (models === 'missing') return route.fulfill({ status: 404, body: 'not found' });
      const res = await route.fetch();
      const list = (await res.json()).models;
      const body = models === 'none' ? { models: [] } : { models: [...list, { ...list[0], id: 'copy', label: 'Copy of the first model' }] };
      return route.fulfill({ response: res, json: body });
    });
    const { page } = await openApp(context);
    const fatal = await status(page);
    assert.match(fatal, /^error: the engine could not load: weights\/models\.json: HTTP 404/);
    await page.getByTestId('file-input').setInputFiles(WAV);
    assert.equal(await status(page), fatal, 'a file after a fatal error repeats the error');
    await page.getByTestId('record').click();
    assert.equal(await status(page), fatal, 'Record after a fatal error repeats the error');

    models = 'none';
    await page.reload();
    assert.equal(await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000), 'ready');
    await page.getByTestId('record').click();
    assert.equal(await status(page), 'error: no model is available');

    // Notes of the first model, then the menu moved to the second: the JSON names the first.
    models = 'two';
    await page.reload();
    assert.equal(await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000), 'ready');
    const first = await page.getByTestId('model-select').locator('option').first().getAttribute('value');
    await page.getByTestId('model-select').selectOption(first);
    await transcribe(page);
    await page.getByTestId('model-select').selectOption('copy');
    const json = JSON.parse((await download(page, 'export-json')).bytes.toString());
    assert.equal(json.model, first, `the JSON names the model that made the notes (${json.model})`);

    // Pause pressed while the original's play() is still pending: no error.
    await page.locator('label[for=mode-original]').click();
    await page.evaluate(() => {
      const el = document.getElementById('original-audio');
      el.play = function play() {
        delete el.play;
        const p = HTMLMediaElement.prototype.play.call(this);
        window.scribePlaySettled = p.then(() => 'played', (e) => e.name);
        document.getElementById('play').click(); // Pause, before play() has settled
        return p;
      };
    });
    await page.locator('#play').click();
    await page.waitForFunction(() => window.scribePlaySettled);
    assert.equal(await page.evaluate(() => window.scribePlaySettled), 'AbortError');
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0))); // the page's own handler has run
    assert.ok(!(await status(page)).startsWith('error'), await status(page));
    assert.equal((await page.locator('#play').textContent()).trim(), '▶ Play');
  } finally {
    await context.close();
  }
});

test('service worker: a new deploy replaces the cached version cleanly', async () => {
  // Deploy A is a copy of dist/; deploy B changes one file and is stamped again.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-deploy-'));
  tmpDirs.push(root);
  fs.cpSync(DIST, root, { recursive: true, filter: (src) => !/\/(native|obj|asan)(\/|$)/.test(src.slice(DIST.length)) });
  const { proc, origin: at } = await startServer(root);
  const { context } = await launch();
  try {
    const { page, errors } = await openApp(context, at);
    assert.equal(await status(page), 'ready');
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    const cachesA = await page.evaluate(() => caches.keys());
    assert.equal(cachesA.length, 1, `one cache (${cachesA})`);

    fs.appendFileSync(path.join(root, 'app.css'), '\n/* deploy B */\n');
    fs.copyFileSync(path.join(ROOT, 'web/sw.js'), path.join(root, 'sw.js'));
    await new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'tools/stamp-web.mjs'), root], { stdio: 'ignore' });
      p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`stamp-web exited ${c}`))));
    });
    await page.reload();
    await page.locator('#update-banner').waitFor({ state: 'visible', timeout: 30000 });
    const css = () => page.evaluate(() => fetch('app.css').then((r) => r.text()));
    assert.ok(!(await css()).includes('deploy B'), 'the running version keeps its own files until the user reloads');
    await shot(page, '07-update-available');
    await Promise.all([page.waitForNavigation(), page.locator('#update-reload').click()]);
    await waitStatus(page, (s) => s === 'ready' || s.startsWith('error'), 60000);
    assert.ok((await css()).includes('deploy B'), 'after the reload the new files are served');
    const cachesB = await page.evaluate(() => caches.keys());
    assert.equal(cachesB.length, 1, `old cache deleted (${cachesB})`);
    assert.notEqual(cachesB[0], cachesA[0]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    proc.kill();
  }
});
