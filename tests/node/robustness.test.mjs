// Robustness through the WASM build (the engine the page runs): hostile weights and audio give
// a ScribeError with a status and a message naming the problem; non-finite samples never poison
// the notes; freed objects refuse further use. The native suite (tests/native/test_robustness.c)
// covers the same ground in depth; this checks the JS boundary and the WASM build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ScribeError } from '../../web/engine/core.js';
import { loadEngine } from './engine.mjs';
import { Model, Session } from '../../web/engine/session.js';

const root = new URL('../../', import.meta.url);
const core = await loadEngine();
const acoustic = fs.readFileSync(new URL('weights/basic-pitch.scrb', root));
const mt3Tiny = fs.readFileSync(new URL('tests/fuzz/corpus/weights/seed-mt3-tiny-q8', root));

function expectError(fn, status, re, what) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof ScribeError, `${what}: ScribeError (got ${e})`);
    assert.equal(e.status, status, `${what}: status ${e.status} (${e.message})`);
    assert.match(e.message, re, `${what}: message`);
    return true;
  });
}

test('bad weights files: clear errors, heap intact afterwards', () => {
  expectError(() => Model.load(core, new Uint8Array(0)), 4, /\S{4,}/, 'empty');
  expectError(() => Model.load(core, new TextEncoder().encode('not a weights file at all'.repeat(40))), 4, /magic/, 'text');
  for (const file of [acoustic, mt3Tiny]) {
    for (const cut of [100, 511, 600, file.length >> 1]) {
      expectError(() => Model.load(core, file.subarray(0, cut)), 4, /\S{4,}/, `truncated at ${cut}`);
    }
    const v = Uint8Array.from(file);
    new DataView(v.buffer).setUint32(8, 7, true);
    expectError(() => Model.load(core, v), 7, /version 7/, 'version 7');
  }
  // the engine still works after all those failures
  const m = Model.load(core, acoustic);
  assert.equal(m.kind, 'acoustic');
  m.free();
});

test('non-finite and out-of-range samples are sanitised at the session input', () => {
  const m = Model.load(core, acoustic);
  const rate = 22050, n = 3 * rate;
  const clean = new Float32Array(n), dirty = new Float32Array(n);
  for (let i = 0; i < n; i++) { // plucked middle C (three harmonics, decaying) every 0.5 s
    const t = i / rate, env = 0.5 * Math.exp(-3 * (t % 0.5));
    clean[i] = env * [1, 0.5, 0.25].reduce((acc, a, h) => acc + a * Math.sin(2 * Math.PI * 261.63 * (h + 1) * t), 0);
  }
  dirty.set(clean);
  for (let i = 0; i < n; i += 101) { dirty[i] = NaN; clean[i] = 0; }
  const run = (x) => {
    const s = new Session(core, m, { inputSampleRate: rate });
    for (let i = 0; i < x.length; i += 5000) s.feed(x.subarray(i, i + 5000));
    s.finish();
    const notes = s.takeNotes();
    s.free();
    return notes;
  };
  const a = run(dirty), b = run(clean);
  assert.ok(a.length > 0, 'notes found');
  assert.deepEqual(a.map((x) => [x.pitch, x.onset]), b.map((x) => [x.pitch, x.onset]), 'NaN behaves as silence');
  assert.ok(a.some((x) => x.pitch === 60), 'middle C found');
  const wild = Float32Array.from(dirty, (v, i) => (i % 997 === 0 ? (i & 1 ? Infinity : -1e38) : v));
  for (const x of run(wild)) {
    assert.ok(Number.isFinite(x.onset) && Number.isFinite(x.offset) && x.offset > x.onset, 'finite note times');
    for (const bd of x.bends ?? []) assert.ok(Number.isFinite(bd.semitones), 'finite bends');
  }
  const silent = run(new Float32Array(n).fill(NaN));
  assert.equal(silent.length, 0, 'all-NaN input gives no notes');
  m.free();
});

test('sessions: bad parameters and use after free are refused with messages', () => {
  const m = Model.load(core, acoustic);
  expectError(() => new Session(core, m, { inputSampleRate: 10 }), 1, /sample rate 10/, 'rate 10 Hz');
  expectError(() => new Session(core, m, { inputSampleRate: 44100, onsetThreshold: 2 }), 1, /threshold/, 'threshold 2');
  // maxPendingSeconds reaches the engine's max_pending_seconds (0 or 2..86400)
  expectError(() => new Session(core, m, { inputSampleRate: 44100, maxPendingSeconds: 1 }), 1, /max_pending_seconds 1 /, 'pending limit 1 s');
  new Session(core, m, { inputSampleRate: 44100, maxPendingSeconds: 0 }).free();
  const s = new Session(core, m, { inputSampleRate: 44100 });
  s.finish();
  expectError(() => s.feed(new Float32Array(10)), 9, /finish/, 'feed after finish');
  s.free();
  expectError(() => s.feed(new Float32Array(10)), 9, /freed/, 'feed after free');
  m.free();
  expectError(() => new Session(core, m, {}), 9, /freed/, 'session of a freed model');
});
