// Metrics of the WASM build against mir_eval 0.7 (tools/metrics_ref.py under /usr/bin/python3)
// on hundreds of random note sets built to sit on the tolerance boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadEngine, rng } from './engine.mjs';
import { evaluate, onsetSweep } from '../../web/engine/music.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N_CASES = Number(process.env.SCRIBE_METRIC_CASES ?? 600);

// Times on a 1e-4 grid half of the time so distances land exactly on 0.05 / 20 % boundaries.
function makeCase(r, k) {
  const q = r() < 0.5 ? (x) => Math.round(x * 1e4) / 1e4 : (x) => x;
  const pick = (a) => a[Math.floor(r() * a.length)];
  const nRef = k % 17 === 0 ? 0 : Math.floor(r() * (k % 5 === 0 ? 120 : 30));
  const pitchPool = Array.from({ length: 1 + Math.floor(r() * 6) }, () => 40 + Math.floor(r() * 40));
  const progPool = [0, 1, 7, 8, 25, 33, 52, 127].slice(0, 1 + Math.floor(r() * 8));
  const ref = [];
  for (let i = 0; i < nRef; i++) {
    const on = q(r() * 10);
    const dur = r() < 0.1 ? 0 : q(pick([0.01, 0.05, 0.1, 0.25, 0.3, 1.0, r() * 2]));
    ref.push({ onset: on, offset: q(on + dur), pitch: pick(pitchPool), velocity: 1 + Math.floor(r() * 127),
      program: pick(progPool), isDrum: r() < 0.15 });
  }
  const est = [];
  if (k % 13 !== 1) {
    for (const n of ref) {
      if (r() < 0.15) continue;
      const copies = r() < 0.1 ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const jitter = pick([0, 0.05, -0.05, 0.0499, 0.0501, 0.02, r() * 0.1 - 0.05, 0.05 + 1e-12]);
        const on = Math.max(0, q(n.onset + jitter));
        const dur = n.offset - n.onset;
        const offJ = pick([0, 0.2 * dur, -0.2 * dur, 0.05, -0.05, r() * 0.2 - 0.1, 0.3 * dur]);
        const off = Math.max(on, q(n.offset + offJ));
        est.push({ onset: on, offset: off, pitch: r() < 0.1 ? pick(pitchPool) : n.pitch,
          velocity: r() < 0.5 ? n.velocity : 1 + Math.floor(r() * 127),
          program: r() < 0.2 ? pick(progPool) : n.program, isDrum: r() < 0.05 ? !n.isDrum : n.isDrum });
      }
    }
    const extra = Math.floor(r() * 8);
    for (let i = 0; i < extra; i++) {
      const on = q(r() * 10);
      est.push({ onset: on, offset: q(on + r()), pitch: pick(pitchPool), velocity: 1 + Math.floor(r() * 127),
        program: pick(progPool), isDrum: r() < 0.15 });
    }
    if (r() < 0.3) est.reverse();
  }
  return { ref, est };
}

const toRow = (n) => [n.onset, n.offset, n.pitch, n.velocity, n.program, n.isDrum ? 1 : 0];

function reference(cases) {
  const input = JSON.stringify({ cases: cases.map((c) => ({ ref: c.ref.map(toRow), est: c.est.map(toRow) })) });
  const res = spawnSync('/usr/bin/python3', [path.join(root, 'tools/metrics_ref.py')], {
    input, maxBuffer: 1 << 28, encoding: 'utf8',
  });
  assert.equal(res.status, 0, `metrics_ref.py failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

test(`metrics equal mir_eval on ${N_CASES} random note sets to 1e-9`, async () => {
  const core = await loadEngine();
  const r = rng(20261123);
  const cases = Array.from({ length: N_CASES }, (_, k) => makeCase(r, k));
  const ref = reference(cases);
  assert.equal(ref.length, cases.length);
  let maxDiff = 0;
  let worst = '';
  let compared = 0;
  let nonTrivial = 0;
  const failures = [];
  cases.forEach((c, k) => {
    const ours = evaluate(core, c.ref, c.est);
    for (const [key, want] of Object.entries(ref[k])) {
      assert.ok(key in ours, `missing key ${key}`);
      const d = Math.abs(ours[key] - want);
      compared++;
      if (want > 0 && want < 1) nonTrivial++;
      if (d > maxDiff) { maxDiff = d; worst = `case ${k} ${key}: ours ${ours[key]} mir_eval ${want}`; }
      if (!(d <= 1e-9)) failures.push(`case ${k} ${key}: ours ${ours[key]} mir_eval ${want}`);
    }
  });
  console.log(`metrics vs mir_eval: ${cases.length} cases, ${compared} values (${nonTrivial} strictly between 0 and 1), ` +
    `max |diff| = ${maxDiff.toExponential(3)}${worst ? ` (${worst})` : ''}`);
  assert.ok(nonTrivial > cases.length, 'the random cases must exercise partial matches');
  assert.deepEqual(failures.slice(0, 20), []);
});

test('onset sweep equals onset-only mir_eval at each tolerance', async () => {
  const core = await loadEngine();
  const r = rng(7);
  const { ref, est } = makeCase(r, 3);
  const tols = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
  const sweep = onsetSweep(core, ref, est, tols);
  assert.equal(sweep.length, tols.length);
  const at05 = evaluate(core, ref, est);
  assert.equal(sweep[2].f1, at05.onset_f1);
  for (let i = 1; i < sweep.length; i++) assert.ok(sweep[i].recall >= sweep[i - 1].recall);
});

test('identical note lists score 1 and empty estimates score 0', async () => {
  const core = await loadEngine();
  const notes = [
    { onset: 0.1, offset: 0.5, pitch: 60, velocity: 100, program: 0, isDrum: false },
    { onset: 0.2, offset: 0.6, pitch: 64, velocity: 90, program: 33, isDrum: false },
    { onset: 0.3, offset: 0.31, pitch: 36, velocity: 90, program: 0, isDrum: true },
  ];
  const same = evaluate(core, notes, notes);
  for (const k of ['onset_f1', 'onset_offset_f1', 'onset_offset_velocity_f1', 'frame_f1', 'multi_instrument_f1',
    'multi_instrument_flat_f1', 'multi_instrument_full_f1', 'drum_onset_f1']) assert.equal(same[k], 1, k);
  const none = evaluate(core, notes, []);
  assert.equal(none.onset_f1, 0);
  assert.equal(none.multi_instrument_recall, 0);
  assert.equal(none.ref_notes, 3);
  assert.throws(() => evaluate(core, [{ onset: 1, offset: 0.5, pitch: 60 }], []), /bad interval/);
});
