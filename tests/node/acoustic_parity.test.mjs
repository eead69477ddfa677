// Parity of the acoustic model (Basic Pitch in our C engine, WASM build) with the npm package
// @spotify/basic-pitch 1.0.1 running on @tensorflow/tfjs + tfjs-backend-wasm in this Node:
//   - posteriorgrams (notes, onsets, contours) within 1e-4 absolute on the dev clips,
//   - our note creation on the package's posteriorgrams equal to the package's notes
//     (same frames, pitches, amplitudes to 1e-9, pitch bends exactly) for several settings,
//   - end to end (session fed in blocks, audio -> notes) onset+offset F1 >= 0.99 against the
//     package's notes, pitch bends of matched notes within 0.01 semitone.
// Both sides get the same 22050 Hz input (our resampler). The package's posteriorgrams are cached
// under dist/acoustic-ref/ keyed by the input's SHA-256 (they take a few seconds per clip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, readWav16, loadEngine, engineResample, enginePosteriorgrams, engineNotesFrom, referencePosteriorgrams,
  referenceNotes, packageNotesToScribe, matchNotes,
} from './acoustic_ref.mjs';

const DATA = path.resolve(ROOT, process.env.SCRIBE_DATA ?? '../shared/data/dev');
const CLIPS = ['guitarset-00_BN1-129-Eb_comp', 'vocadito-1'];
const DEFAULTS = {
  onset_threshold: 0.5, frame_threshold: 0.3, min_note_frames: 11, min_frequency_hz: 0, max_frequency_hz: 0,
  infer_onsets: 1, melodia_trick: 1, pitch_bends: 1, energy_tolerance: 11,
};
const toJsParams = (p) => ({
  onsetThreshold: p.onset_threshold, frameThreshold: p.frame_threshold, minNoteFrames: p.min_note_frames,
  minFrequencyHz: p.min_frequency_hz, maxFrequencyHz: p.max_frequency_hz, inferOnsets: p.infer_onsets,
  melodiaTrick: p.melodia_trick, pitchBends: p.pitch_bends, energyTolerance: p.energy_tolerance,
});

const eng = await loadEngine();

async function cachedReference(x) {
  const hash = crypto.createHash('sha256').update(Buffer.from(x.buffer, x.byteOffset, x.byteLength))
    .update('@spotify/basic-pitch@1.0.1 tfjs-wasm').digest('hex').slice(0, 24);
  const file = path.join(ROOT, 'dist/acoustic-ref', hash + '.f32');
  if (fs.existsSync(file)) {
    const b = fs.readFileSync(file);
    const n = b.readInt32LE(0);
    const f = new Float32Array(b.buffer.slice(b.byteOffset + 4, b.byteOffset + b.length));
    const rows = (a, w) => Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
    return { frames: rows(f.subarray(0, n * 88), 88), onsets: rows(f.subarray(n * 88, n * 176), 88),
      contours: rows(f.subarray(n * 176, n * 440), 264) };
  }
  const ref = await referencePosteriorgrams(x);
  const n = ref.frames.length;
  const flat = new Float32Array(n * 440);
  ref.frames.forEach((r, i) => flat.set(r, i * 88));
  ref.onsets.forEach((r, i) => flat.set(r, n * 88 + i * 88));
  ref.contours.forEach((r, i) => flat.set(r, n * 176 + i * 264));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const head = Buffer.alloc(4);
  head.writeInt32LE(n);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(flat.buffer)]));
  // round-trip through float32 like the cache so fresh and cached runs see the same values
  return cachedReference(x);
}

function maxAbsDiff(rows, flat, w) {
  let m = 0;
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < w; j++) m = Math.max(m, Math.abs(rows[i][j] - flat[i * w + j]));
  return m;
}

const key = (n) => `${n.startFrame}:${n.pitch}`;

for (const clip of CLIPS) {
  test(`acoustic parity on ${clip}`, async (t) => {
    const wav = readWav16(path.join(DATA, clip + '.wav'));
    const x = engineResample(eng.core, wav.samples, wav.rate, 22050);
    assert.ok(x.length > 22050 * 10, `resampled ${clip} has ${x.length} samples`);
    const ref = await cachedReference(x);
    const ours = enginePosteriorgrams(eng.core, eng.model, x);

    await t.test('posteriorgrams within 1e-4', () => {
      assert.equal(ours.n, ref.frames.length, 'frame count');
      assert.ok(ours.n > 1000);
      const dn = maxAbsDiff(ref.frames, ours.frames, 88);
      const dO = maxAbsDiff(ref.onsets, ours.onsets, 88);
      const dc = maxAbsDiff(ref.contours, ours.contours, 264);
      t.diagnostic(`max |diff| notes ${dn.toExponential(2)} onsets ${dO.toExponential(2)} contours ${dc.toExponential(2)}`);
      assert.ok(dn <= 1e-4 && dO <= 1e-4 && dc <= 1e-4, `diffs ${dn} ${dO} ${dc}`);
      // not trivially zero: the clip has notes
      assert.ok(ref.frames.some((r) => r.some((v) => v > 0.5)));
    });

    const settings = [
      DEFAULTS,
      { ...DEFAULTS, min_note_frames: 5 },
      { ...DEFAULTS, melodia_trick: 0, infer_onsets: 0, onset_threshold: 0.4, frame_threshold: 0.25 },
      { ...DEFAULTS, min_frequency_hz: 100, max_frequency_hz: 1000, energy_tolerance: 5 },
    ];
    for (const p of settings) {
      await t.test(`note creation equals the package's (${JSON.stringify(p)})`, async () => {
        const pk = await referenceNotes(ref, p);
        const pkg = packageNotesToScribe(pk.timed, pk.events);
        const list = engineNotesFrom(eng.core, ref, ref.frames.length, toJsParams(p));
        const mine = eng.readNotes(eng.core, list);
        eng.core.mod._wasm_notes_free(list);
        assert.ok(pkg.length > 5, `package made ${pkg.length} notes`);
        assert.equal(mine.length, pkg.length, 'note count');
        for (let i = 0; i < pkg.length; i++) {
          const a = pkg[i], b = mine[i];
          assert.equal(b.pitch, a.pitch, `note ${i} pitch`);
          assert.ok(Math.abs(b.onset - a.onset) < 1e-9 && Math.abs(b.offset - a.offset) < 1e-9, `note ${i} times`);
          const vel = Math.min(127, Math.max(1, Math.round(127 * a.amplitude)));
          assert.ok(Math.abs(b.velocity - vel) <= 1, `note ${i} velocity ${b.velocity} vs ${vel}`);
          if (p.pitch_bends) {
            assert.equal(b.bends.length, a.bends.length, `note ${i} bend count`);
            a.bends.forEach((s, k) => assert.ok(Math.abs(b.bends[k].semitones - s) < 1e-6, `note ${i} bend ${k}`));
          }
        }
      });
    }

    await t.test('streamNotes: notes handed out while feeding, compared with the whole-file notes', async () => {
      const whole = engineNotesFrom(eng.core, ours, ours.n, toJsParams(DEFAULTS));
      const ref = eng.readNotes(eng.core, whole);
      eng.core.mod._wasm_notes_free(whole);
      const s = new eng.Session(eng.core, eng.model, { inputSampleRate: 22050, ...toJsParams(DEFAULTS), streamNotes: 1 });
      const early = [], all = [];
      for (let i = 0; i < x.length; i += 4096) {
        s.feed(x.subarray(i, Math.min(x.length, i + 4096)));
        const got = s.takeNotes();
        early.push(...got.map((n) => ({ ...n, fed: (i + 4096) / 22050 })));
        all.push(...got);
      }
      s.finish();
      all.push(...s.takeNotes());
      s.free();
      const sig = (n) => `${n.onset.toFixed(9)}|${n.offset.toFixed(9)}|${n.pitch}|${n.velocity}|${n.bends.map((b) => b.semitones).join(',')}`;
      const a = new Set(ref.map(sig)), same = all.filter((n) => a.has(sig(n))).length;
      const lag = early.length ? Math.max(...early.map((n) => n.fed - n.offset)) : 0;
      const { f1 } = matchNotes(ref, all);
      t.diagnostic(`streamNotes: ${early.length} of ${all.length} notes handed out before finish (at most ${lag.toFixed(1)} s after the note's end); ` +
        `${same} identical to the whole-file notes (${ref.length}); onset+offset F1 ${f1.toFixed(4)}`);
      assert.ok(f1 >= 0.95, `streamed vs whole-file F1 ${f1}`);
      if (clip.startsWith('vocadito')) assert.ok(early.length > ref.length / 2, 'singing with pauses must stream most notes');
      for (const n of early) assert.ok(n.offset <= n.fed + 1e-9, 'a note was handed out before its audio was fed');
    });

    await t.test('default session (notes at finish) equals whole-file note creation exactly', async () => {
      const whole = engineNotesFrom(eng.core, ours, ours.n, toJsParams(DEFAULTS));
      const ref = eng.readNotes(eng.core, whole);
      eng.core.mod._wasm_notes_free(whole);
      const s = new eng.Session(eng.core, eng.model, { inputSampleRate: 22050, ...toJsParams(DEFAULTS) });
      const all = [];
      for (let i = 0; i < x.length; i += 5000) {
        s.feed(x.subarray(i, Math.min(x.length, i + 5000)));
        assert.equal(s.takeNotes().length, 0, 'no notes before finish by default');
      }
      s.finish();
      all.push(...s.takeNotes());
      s.free();
      const sig = (n) => `${n.onset}|${n.offset}|${n.pitch}|${n.velocity}|${n.bends.map((b) => b.semitones).join(',')}`;
      assert.ok(ref.length > 5);
      assert.deepEqual(all.map(sig).sort(), ref.map(sig).sort());
    });

    await t.test('end to end (session, blocks of 1 s): notes F1 >= 0.99, bends within 0.01', async () => {
      const pk = await referenceNotes(ref, DEFAULTS);
      const pkg = packageNotesToScribe(pk.timed, pk.events);
      const s = new eng.Session(eng.core, eng.model, { inputSampleRate: 22050, ...toJsParams(DEFAULTS) });
      const got = [];
      for (let i = 0; i < x.length; i += 22050) {
        s.feed(x.subarray(i, Math.min(x.length, i + 22050)));
        got.push(...s.takeNotes());
      }
      s.finish();
      got.push(...s.takeNotes());
      s.free();
      const { f1, matches } = matchNotes(pkg, got);
      t.diagnostic(`package ${pkg.length} notes, ours ${got.length}, onset+offset F1 ${f1.toFixed(4)}`);
      assert.ok(pkg.length > 5);
      assert.ok(f1 >= 0.99, `F1 ${f1}`);
      let compared = 0;
      for (const [i, j] of matches) {
        const a = pkg[i], b = got[j];
        if (a.bends.length !== b.bends.length) continue;
        compared++;
        a.bends.forEach((v, k) => assert.ok(Math.abs(b.bends[k].semitones - v) <= 0.01, `bend ${k} of note ${i}`));
      }
      assert.ok(compared >= 0.95 * matches.length, `bends compared on ${compared}/${matches.length} notes`);
    });
  });
}
