// MIDI written by the WASM build, read back by two independent parsers (npm midi-file and
// Python mido) and by our own reader: identical notes (onset/offset to the tick, pitch,
// velocity, program, drum) and bends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { parseMidi } from 'midi-file';
import { loadEngine, rng } from './engine.mjs';
import { notesToMidi, midiToNotes, notesToCsv, csvToNotes } from '../../web/engine/music.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TICK = 1 / 960;

// Notes extracted from midi-file's parse, with the same conventions as tools/midi_notes_mido.py.
function notesFromMidiFile(bytes) {
  const midi = parseMidi(bytes);
  assert.equal(midi.header.format, 1);
  const tpq = midi.header.ticksPerBeat;
  const tempos = [[0, 500000]];
  for (const track of midi.tracks) {
    let tick = 0;
    for (const ev of track) {
      tick += ev.deltaTime;
      if (ev.type === 'setTempo') tempos.push([tick, ev.microsecondsPerBeat]);
    }
  }
  tempos.sort((a, b) => a[0] - b[0]);
  const seconds = (tick) => {
    let s = 0; let last = 0; let tempo = 500000;
    for (const [t, tp] of tempos) {
      if (t > tick) break;
      s += (t - last) * tempo / 1e6 / tpq; last = t; tempo = tp;
    }
    return s + (tick - last) * tempo / 1e6 / tpq;
  };
  const notes = [];
  for (const track of midi.tracks) {
    let tick = 0;
    const program = new Array(16).fill(0);
    const bend = new Array(16).fill(0);
    const bendTick = new Array(16).fill(-1);
    const open = new Map();
    for (const ev of track) {
      tick += ev.deltaTime;
      if (ev.type === 'programChange') program[ev.channel] = ev.programNumber;
      else if (ev.type === 'pitchBend') {
        const semis = ev.value / 8192 * 2;
        bend[ev.channel] = semis; bendTick[ev.channel] = tick;
        for (const list of open.values()) for (const n of list) if (n.ch === ev.channel) n.bends.push({ time: seconds(tick), semitones: semis });
      } else if (ev.type === 'noteOn' && ev.velocity > 0) {
        const drum = ev.channel === 9;
        const n = { onset: seconds(tick), offset: null, pitch: ev.noteNumber, velocity: ev.velocity,
          program: drum ? 0 : program[ev.channel], isDrum: drum, bends: [], ch: ev.channel };
        if (!drum && (bend[ev.channel] !== 0 || bendTick[ev.channel] === tick)) n.bends.push({ time: n.onset, semitones: bend[ev.channel] });
        const key = ev.channel * 128 + ev.noteNumber;
        if (!open.has(key)) open.set(key, []);
        open.get(key).push(n);
        notes.push(n);
      } else if (ev.type === 'noteOff' || ev.type === 'noteOn') {
        const list = open.get(ev.channel * 128 + ev.noteNumber);
        if (list && list.length) list.shift().offset = seconds(tick);
      }
    }
  }
  return notes.filter((n) => n.offset !== null).map(({ ch, ...n }) => n);
}

function notesFromMido(bytes) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scribe-midi-'));
  try {
    const f = path.join(dir, 'x.mid');
    writeFileSync(f, bytes);
    const res = spawnSync('/usr/bin/python3', [path.join(root, 'tools/midi_notes_mido.py'), f], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    return JSON.parse(res.stdout).map((n) => ({ onset: n.onset, offset: n.offset, pitch: n.pitch, velocity: n.velocity,
      program: n.program, isDrum: !!n.is_drum, bends: n.bends.map(([time, semitones]) => ({ time, semitones })) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = (n) => [n.isDrum ? 1 : 0, n.isDrum ? 0 : n.program, n.pitch, Math.round(n.onset * 960), n.velocity].join(',');

// Every expected note must be found once in `got` with times within one tick and matching bends.
function assertSameNotes(expected, got, who) {
  assert.equal(got.length, expected.length, `${who}: ${got.length} notes instead of ${expected.length}`);
  const pool = new Map();
  for (const n of got) {
    const k = key(n);
    if (!pool.has(k)) pool.set(k, []);
    pool.get(k).push(n);
  }
  for (const e of expected) {
    const list = pool.get(key(e));
    assert.ok(list && list.length, `${who}: note ${JSON.stringify(e)} missing`);
    const g = list.shift();
    assert.ok(Math.abs(g.onset - e.onset) <= TICK / 2 + 1e-9, `${who}: onset ${g.onset} vs ${e.onset}`);
    assert.ok(Math.abs(g.offset - e.offset) <= TICK / 2 + 1e-9, `${who}: offset ${g.offset} vs ${e.offset}`);
    const eb = e.bends ?? [];
    assert.equal(g.bends.length, eb.length, `${who}: ${g.bends.length} bends instead of ${eb.length} on ${key(e)}`);
    eb.forEach((b, i) => {
      assert.ok(Math.abs(g.bends[i].time - Math.max(b.time, e.onset)) <= TICK / 2 + 1e-9, `${who}: bend time`);
      assert.ok(Math.abs(g.bends[i].semitones - b.semitones) <= 1.5 / 8192, `${who}: bend ${g.bends[i].semitones} vs ${b.semitones}`);
    });
  }
}

function randomNotes(r, nPrograms, withBends) {
  const notes = [];
  const programs = Array.from({ length: nPrograms }, (_, i) => (i * 37) % 128);
  for (let i = 0; i < 300; i++) {
    const drum = r() < 0.1;
    const program = programs[i % nPrograms];
    // Onsets on distinct ticks per (program, pitch) so no note is cut by a same-pitch overlap.
    const onset = (Math.floor(i / nPrograms) * 97 + (i % nPrograms)) / 960 + r() * 0.0004;
    const n = { onset, offset: onset + 0.02 + r() * 0.08, pitch: drum ? 35 + (i % 40) : 30 + (i % 60),
      velocity: 1 + Math.floor(r() * 127), program: drum ? 0 : program, isDrum: drum, bends: [] };
    if (withBends && !drum && r() < 0.4) {
      const k = 1 + Math.floor(r() * 3);
      for (let j = 0; j < k; j++) n.bends.push({ time: n.onset + (j * (n.offset - n.onset)) / (k + 1), semitones: Math.round((r() * 4 - 2) * 100) / 100 });
    }
    notes.push(n);
  }
  return notes;
}

test('20 programs and drums: midi-file, mido and our reader see the written notes', async () => {
  const core = await loadEngine();
  const notes = randomNotes(rng(1), 20, false);
  const bytes = notesToMidi(core, notes);
  assert.equal(String.fromCharCode(...bytes.slice(0, 4)), 'MThd');
  const mf = parseMidi(bytes);
  assert.equal(mf.header.ticksPerBeat, 480);
  assert.equal(mf.tracks.length, 1 + 20 + 1);
  const names = mf.tracks.map((t) => t.find((e) => e.type === 'trackName')?.text);
  assert.ok(names.includes('Acoustic Grand Piano') && names.includes('Drums'), names.join('|'));
  assertSameNotes(notes, notesFromMidiFile(bytes), 'midi-file');
  assertSameNotes(notes, notesFromMido(bytes), 'mido');
  assertSameNotes(notes, midiToNotes(core, bytes), 'scribe');
});

test('pitch bends on overlapping notes survive through spare channels', async () => {
  const core = await loadEngine();
  // Only 3 programs: bent notes overlapping others move to spare channels.
  const r = rng(2);
  const notes = [];
  for (let i = 0; i < 40; i++) {
    const onset = i * 0.02;
    const n = { onset, offset: onset + 0.12, pitch: 50 + (i % 20), velocity: 64, program: [0, 25, 40][i % 3], isDrum: false, bends: [] };
    if (i % 2 === 0) n.bends = [{ time: onset, semitones: 0.5 }, { time: onset + 0.05, semitones: -1.25 }];
    notes.push(n);
  }
  void r;
  const bytes = notesToMidi(core, notes);
  assertSameNotes(notes, notesFromMidiFile(bytes), 'midi-file');
  assertSameNotes(notes, notesFromMido(bytes), 'mido');
  assertSameNotes(notes, midiToNotes(core, bytes), 'scribe');
});

test('random bends with few programs round-trip', async () => {
  const core = await loadEngine();
  const notes = randomNotes(rng(3), 3, true);
  const bytes = notesToMidi(core, notes);
  assertSameNotes(notes, notesFromMido(bytes), 'mido');
  assertSameNotes(notes, midiToNotes(core, bytes), 'scribe');
});

test('CSV round trip through the engine is exact; malformed MIDI throws a bad_midi error', async () => {
  const core = await loadEngine();
  const notes = randomNotes(rng(4), 5, false).map(({ bends, ...n }) => n);
  const csv = notesToCsv(core, notes);
  assert.ok(csv.startsWith('onset_s,offset_s,pitch,velocity,program,is_drum\n'));
  const back = csvToNotes(core, csv);
  assert.equal(back.length, notes.length);
  back.forEach((n, i) => {
    assert.equal(n.onset, notes[i].onset);
    assert.equal(n.offset, notes[i].offset);
    assert.equal(n.pitch, notes[i].pitch);
    assert.equal(n.isDrum, notes[i].isDrum);
  });
  const good = notesToMidi(core, notes);
  assert.throws(() => midiToNotes(core, good.slice(0, good.length - 3)), /bad_midi/);
  assert.throws(() => midiToNotes(core, new TextEncoder().encode('not a midi file at all')), /bad_midi/);
  assert.throws(() => csvToNotes(core, 'onset_s,offset_s,pitch\n0.1,0.2,999\n'), /bad_csv/);
});

// Real-world files shipped by Debian packages in tools/deps.sh (openttd-openmsx, mma):
// our reader and mido (tools/midi_notes_mido.py, same note conventions) agree on every note.
test('real MIDI files from Debian packages read the same as with mido', async (t) => {
  const { readdirSync, statSync, existsSync } = await import('node:fs');
  const dirs = ['/usr/share/games/openttd/baseset/openmsx', '/usr/share/mma/lib/pflib', '/usr/share/doc/mma/examples/plectrum'];
  const files = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (/\.midi?$/i.test(f) && statSync(p).size < 40000 && files.filter((x) => x.startsWith(d)).length < 8) files.push(p);
    }
  }
  if (files.length < 5) { t.skip('fewer than 5 MIDI files installed (openttd-openmsx, mma)'); return; }
  const core = await loadEngine();
  const res = spawnSync('/usr/bin/python3', [path.join(root, 'tools/midi_notes_mido.py'), ...files],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(res.status, 0, res.stderr);
  const byFile = JSON.parse(res.stdout);
  let total = 0;
  for (const f of files) {
    const ours = midiToNotes(core, readFileSync(f));
    const theirs = byFile[f].map((n) => ({ ...n, isDrum: !!n.is_drum }));
    assert.equal(ours.length, theirs.length, `${f}: ${ours.length} notes, mido ${theirs.length}`);
    const group = (list) => {
      const m = new Map();
      for (const n of list) {
        const k = `${n.pitch},${n.velocity},${n.program},${n.isDrum}`;
        if (!m.has(k)) m.set(k, []);
        m.get(k).push(n);
      }
      for (const v of m.values()) v.sort((x, y) => Math.round(x.onset * 1e7) - Math.round(y.onset * 1e7) || x.offset - y.offset);
      return m;
    };
    const a = group(ours);
    const b = group(theirs);
    for (const [k, la] of a) {
      const lb = b.get(k);
      assert.ok(lb && lb.length === la.length, `${f}: notes ${k} differ in count`);
      la.forEach((n, i) => {
        assert.ok(Math.abs(n.onset - lb[i].onset) < 1e-6 && Math.abs(n.offset - lb[i].offset) < 1e-6,
          `${f}: ${k} at ${n.onset}..${n.offset} vs ${lb[i].onset}..${lb[i].offset}`);
        assert.equal(n.bends.length, lb[i].bends.length, `${f}: bends of ${k} at ${n.onset}`);
      });
    }
    total += ours.length;
  }
  console.log(`real MIDI files: ${files.length} files, ${total} notes identical to mido`);
  assert.ok(total > 1000);
});
