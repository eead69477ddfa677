#!/usr/bin/env node
// Browser benchmark of the web app (prints figures, asserts nothing):
//   node tools/bench-web.mjs [--minutes 3] [--long-minutes 60] [--skip-long]
// For a 3-minute file and a long file (default one hour), both made by repeating the dev
// clips: time to first note, total time, longest main-thread task during the transcription
// (PerformanceObserver 'longtask'), and peak memory of the whole browser (sum of the proportional
// set sizes, PSS, of every Chromium process of the run, sampled every 250 ms from /proc).
// Needs `make web`; uses Debian's /usr/bin/chromium through playwright-core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.resolve(ROOT, process.env.SCRIBE_DATA ?? '../shared/data/dev');
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };
const MINUTES = opt('--minutes', 3);
const LONG_MINUTES = opt('--long-minutes', 60);
const SKIP_LONG = args.includes('--skip-long');

/** PCM16 mono samples and rate of a canonical 16-bit WAV. */
function readPcm16(file) {
  const b = fs.readFileSync(file);
  let off = 12, rate = 0, channels = 1, data = null;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') { channels = b.readUInt16LE(off + 10); rate = b.readUInt32LE(off + 12); }
    if (id === 'data') data = b.subarray(off + 8, off + 8 + len);
    off += 8 + len + (len & 1);
  }
  if (!data || channels !== 1) throw new Error(`${file}: expected a mono 16-bit WAV`);
  return { rate, pcm: data };
}

/** Writes a WAV of `seconds` by repeating the dev clips (all at one rate) back to back. */
function makeWav(file, seconds) {
  const clips = fs.readdirSync(DATA).filter((f) => f.endsWith('.wav')).sort().map((f) => readPcm16(path.join(DATA, f)));
  const rate = clips[0].rate;
  const same = clips.filter((c) => c.rate === rate);
  const total = Math.round(seconds * rate) * 2;
  const fd = fs.openSync(file, 'w');
  const head = Buffer.alloc(44);
  head.write('RIFF', 0); head.writeUInt32LE(36 + total, 4); head.write('WAVE', 8); head.write('fmt ', 12);
  head.writeUInt32LE(16, 16); head.writeUInt16LE(1, 20); head.writeUInt16LE(1, 22); head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28); head.writeUInt16LE(2, 32); head.writeUInt16LE(16, 34); head.write('data', 36);
  head.writeUInt32LE(total, 40);
  fs.writeSync(fd, head);
  let written = 0, k = 0;
  while (written < total) {
    const c = same[k++ % same.length].pcm;
    const n = Math.min(c.length, total - written);
    fs.writeSync(fd, c, 0, n);
    written += n;
  }
  fs.closeSync(fd);
}

function rssOfRun(marker) {
  let sum = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (!cmd.includes(marker) && !cmd.includes('--type=')) continue;
      if (!cmd.includes(marker)) {
        // Chromium child processes do not repeat --user-data-dir; match them by parent chain.
        const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ')[1]);
        const pcmd = fs.readFileSync(`/proc/${ppid}/cmdline`, 'latin1');
        if (!pcmd.includes(marker)) {
          const gp = Number(fs.readFileSync(`/proc/${ppid}/stat`, 'latin1').split(') ')[1].split(' ')[1]);
          if (!fs.readFileSync(`/proc/${gp}/cmdline`, 'latin1').includes(marker)) continue;
        }
      }
      // Proportional set size: shared pages split between the processes that map them.
      const m = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1').match(/Pss:\s+(\d+) kB/);
      if (m) sum += Number(m[1]) * 1024;
    } catch { /* process ended */ }
  }
  return sum;
}

async function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'tools/serve.mjs'), '--root', path.join(ROOT, 'dist'), '--port', '0', '--quiet'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.on('data', (d) => { const m = String(d).match(/at (http:\/\/127\.0\.0\.1:\d+)\//); if (m) resolve({ p, origin: m[1] }); });
    p.on('exit', (c) => reject(new Error(`serve.mjs exited ${c}`)));
  });
}

async function run(origin, wav, label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-bench-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--mute-audio'],
  });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, rssOfRun(dir)); }, 250);
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'ready', null, { timeout: 60000 });
    await page.waitForTimeout(500);
    const idle = rssOfRun(dir);
    const t0 = Date.now();
    await page.getByTestId('file-input').setInputFiles(wav);
    await page.waitForFunction(() => /^(done|error)/.test(document.querySelector('[data-testid=status]').textContent), null,
      { timeout: 0, polling: 500 });
    const status = await page.getByTestId('status').textContent();
    const st = await page.evaluate(() => window.scribeStats);
    const win = st.busy.filter((b) => b[0] === 'file').pop();
    const longest = win ? Math.max(0, ...st.longTaskList.filter(([t]) => t >= win[1] && t <= win[2]).map(([, d]) => d)) : null;
    if (process.env.BENCH_DEBUG) console.log(JSON.stringify({ busy: st.busy, long: st.longTaskList, marks: await page.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)])) }));
    const notes = Number(await page.getByTestId('note-count').textContent());
    console.log(`${label}: status ${status}; ${notes} notes; audio ${st.audioSeconds?.toFixed(1)} s; ` +
      `first note ${(st.firstNoteMs / 1000).toFixed(2)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `longest main-thread task during transcription ${longest} ms; ` +
      `browser memory idle ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    clearInterval(timer);
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-bench-audio-'));
const { p: server, origin } = await startServer();
try {
  const short = path.join(tmp, `bench-${MINUTES}min.wav`);
  makeWav(short, MINUTES * 60);
  await run(origin, short, `${MINUTES}-minute file`);
  if (!SKIP_LONG) {
    const long = path.join(tmp, `bench-${LONG_MINUTES}min.wav`);
    makeWav(long, LONG_MINUTES * 60);
    await run(origin, long, `${LONG_MINUTES}-minute file`);
  }
} finally {
  server.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
