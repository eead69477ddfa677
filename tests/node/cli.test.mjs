// bin/scribe: eval output against mir_eval, and one-line errors with non-zero exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { loadEngine } from './engine.mjs';
import { notesToMidi, csvToNotes } from '../../web/engine/music.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const data = path.resolve(root, process.env.SCRIBE_DATA ?? '../shared/data/dev');
const cli = path.join(root, 'bin/scribe');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'scribe-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function run(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parseCsvRows(text) {
  return text.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
}

const F1_KEYS = ['onset_f1', 'onset_offset_f1', 'onset_offset_velocity_f1', 'frame_f1', 'multi_instrument_f1',
  'multi_instrument_flat_f1', 'multi_instrument_full_f1'];

test('eval of a dev clip against itself gives F1 = 1 everywhere', () => {
  const f = path.join(data, 'guitarset-00_BN1-129-Eb_comp.notes.csv');
  const r = run('eval', f, f);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const m = JSON.parse(r.stdout);
  for (const k of F1_KEYS) assert.equal(m[k], 1, k);
  for (const k of ['onset_precision', 'onset_recall', 'onset_offset_precision', 'onset_offset_recall',
    'onset_offset_velocity_precision', 'onset_offset_velocity_recall', 'frame_precision', 'frame_recall',
    'multi_instrument_precision', 'multi_instrument_recall', 'drum_onset_f1']) assert.ok(k in m, k);
  assert.equal(m.ref_notes, 133);
  assert.equal(m.est_notes, 133);
});

test('eval against a perturbed copy matches mir_eval (CSV and MIDI inputs)', async () => {
  const refFile = path.join(data, 'slakh-Track01501.notes.csv');
  const rows = parseCsvRows(readFileSync(refFile, 'utf8'));
  assert.ok(rows.length > 100);
  let s = 99;
  const r = () => { // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const est = [];
  for (const [on, off, pitch, vel, prog, drum] of rows) {
    if (r() < 0.1) continue;
    const o = Math.max(0, on + (r() - 0.5) * 0.12);
    est.push([o, Math.max(o + 0.01, off + (r() - 0.5) * 0.2), r() < 0.05 ? pitch + 1 : pitch,
      Math.max(1, Math.min(127, vel + Math.round((r() - 0.5) * 40))), r() < 0.1 ? (prog + 8) % 128 : prog, drum]);
  }
  const estFile = path.join(tmp, 'est.csv');
  writeFileSync(estFile, `onset_s,offset_s,pitch,velocity,program,is_drum\n${est.map((e) => e.join(',')).join('\n')}\n`);
  const res = run('eval', refFile, estFile);
  assert.equal(res.status, 0, res.stderr);
  const ours = JSON.parse(res.stdout);
  const py = spawnSync('/usr/bin/python3', [path.join(root, 'tools/metrics_ref.py')], {
    input: JSON.stringify({ cases: [{ ref: rows, est }] }), encoding: 'utf8', maxBuffer: 1 << 26,
  });
  assert.equal(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout)[0];
  let checked = 0;
  for (const [k, v] of Object.entries(want)) {
    assert.ok(Math.abs(ours[k] - v) <= 1e-9, `${k}: scribe ${ours[k]} mir_eval ${v}`);
    checked++;
  }
  assert.ok(checked >= 27);
  assert.ok(ours.onset_f1 > 0.3 && ours.onset_f1 < 1, `onset_f1 ${ours.onset_f1}`);

  // The same reference as a MIDI file scores 1 on onsets against its CSV.
  const core = await loadEngine();
  const midFile = path.join(tmp, 'ref.mid');
  writeFileSync(midFile, notesToMidi(core, csvToNotes(core, readFileSync(refFile, 'utf8'))));
  const viaMidi = run('eval', refFile, midFile);
  assert.equal(viaMidi.status, 0, viaMidi.stderr);
  const mm = JSON.parse(viaMidi.stdout);
  assert.equal(mm.onset_f1, 1);
  assert.equal(mm.multi_instrument_full_f1, 1);
});

test('errors exit non-zero with exactly one line on stderr', () => {
  const good = path.join(data, 'vocadito-1.notes.csv');
  const badMid = path.join(tmp, 'bad.mid');
  writeFileSync(badMid, Buffer.from('MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00\x00\x90', 'latin1'));
  const badCsv = path.join(tmp, 'bad.csv');
  writeFileSync(badCsv, 'onset_s,offset_s,pitch\n0.5,0.2,60\n');
  const notWav = path.join(tmp, 'x.wav');
  writeFileSync(notWav, 'hello');
  const cases = [
    { args: [], re: /usage/ },
    { args: ['frobnicate'], re: /unknown command/ },
    { args: ['eval', good], re: /REF and EST/ },
    { args: ['eval', path.join(tmp, 'missing.csv'), good], re: /no such file/ },
    { args: ['eval', badMid, good], re: /bad_midi/ },
    { args: ['eval', good, badCsv], re: /bad_csv.*line 2/ },
    { args: ['eval', tmp, good], re: /directory/ },
    { args: ['transcribe'], re: /one input WAV/ },
    { args: ['transcribe', notWav], re: /not a WAV file/ },
    { args: ['transcribe', path.join(data, 'vocadito-1.wav'), '--model'], re: /needs a value/ },
    { args: ['transcribe', path.join(data, 'vocadito-1.wav'), '--speed', 'fast'], re: /unknown option/ },
  ];
  if (!existsSync(path.join(root, 'weights'))) {
    cases.push({ args: ['transcribe', path.join(data, 'vocadito-1.wav')], re: /^scribe: no model available/ });
  }
  cases.push({ args: ['transcribe', path.join(data, 'vocadito-1.wav'), '--model', 'no-such-model'], re: /no model available/ });
  for (const c of cases) {
    const r = run(...c.args);
    const what = `scribe ${c.args.join(' ')}`;
    assert.notEqual(r.status, 0, `${what}: exit status 0`);
    const lines = r.stderr.split('\n').filter((l) => l.length);
    assert.equal(lines.length, 1, `${what}: stderr was ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], c.re, what);
    assert.ok(!/\n\s+at /.test(r.stderr), `${what}: stack trace`);
    assert.equal(r.stdout, '', `${what}: wrote to stdout`);
  }
});

// Runs once WAV decoding (web/engine/audio.js) and a weights file are in the tree.
test('transcribe writes CSV, MIDI and JSON that eval scores against the ground truth', (t) => {
  const hasWeights = existsSync(path.join(root, 'weights')) &&
    readdirSync(path.join(root, 'weights')).some((f) => f.endsWith('.scrb'));
  if (!existsSync(path.join(root, 'web/engine/audio.js')) || !hasWeights) {
    t.skip('needs web/engine/audio.js and a weights/*.scrb file');
    return;
  }
  const clip = path.join(data, 'guitarset-00_BN1-129-Eb_comp');
  const csv = path.join(tmp, 't.csv');
  const mid = path.join(tmp, 't.mid');
  const json = path.join(tmp, 't.json');
  const r = run('transcribe', `${clip}.wav`, '--csv', csv, '--midi', mid, '--json', json);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(readFileSync(csv, 'utf8').startsWith('onset_s,offset_s,pitch,velocity,program,is_drum\n'));
  const j = JSON.parse(readFileSync(json, 'utf8'));
  assert.ok(j.notes.length > 50, `${j.notes.length} notes`);
  const viaCsv = JSON.parse(run('eval', `${clip}.notes.csv`, csv).stdout);
  const viaMid = JSON.parse(run('eval', `${clip}.notes.csv`, mid).stdout);
  console.log(`transcribe guitarset with ${j.model}: ${j.notes.length} notes, onset F1 ${viaCsv.onset_f1.toFixed(4)}`);
  assert.ok(viaCsv.onset_f1 > 0.5, `onset F1 ${viaCsv.onset_f1}`);
  assert.ok(Math.abs(viaMid.onset_f1 - viaCsv.onset_f1) < 0.02);
  const bad = path.join(tmp, 'bad.wav');
  writeFileSync(bad, 'RIFF\x04\x00\x00\x00WAVEjunk');
  const e = run('transcribe', bad);
  assert.notEqual(e.status, 0);
  assert.match(e.stderr, /^scribe: input .*bad_audio.*\n$/);
});

// `scribe transcribe IN.wav | head`: the reader may close the pipe before the CSV is written.
test('transcribe to a pipe closed by its reader exits quietly', async (t) => {
  const hasWeights = existsSync(path.join(root, 'weights')) &&
    readdirSync(path.join(root, 'weights')).some((f) => f.endsWith('.scrb'));
  if (!existsSync(path.join(root, 'web/engine/audio.js')) || !hasWeights) {
    t.skip('needs web/engine/audio.js and a weights/*.scrb file');
    return;
  }
  const child = spawn(process.execPath, [cli, 'transcribe', path.join(data, 'vocadito-1.wav')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
  assert.equal(stderr, '', 'nothing on stderr');
  assert.equal(signal, null);
  assert.equal(code, 0, 'exit status 0 when the reader stops reading');
});
