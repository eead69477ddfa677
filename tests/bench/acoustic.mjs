// make bench-acoustic: the npm package @spotify/basic-pitch 1.0.1 on @tensorflow/tfjs with the
// WASM backend (SIMD, one thread) against our WASM build (single-threaded), in one Node run, on the
// same 60 s clip at 22050 Hz (resampled once by our resampler; resampling is not timed on
// either side). Both go audio -> notes with the same settings (scribe_session_params defaults:
// onset 0.5, frame 0.3, min note 11 frames, inferred onsets, melodia trick, pitch bends).
// Prints: both times, the speed-up, our real-time factor, GFLOP/s in the convolutions and the CQT.
import path from 'node:path';
import {
  ROOT, readWav16, loadEngine, engineResample, enginePosteriorgrams, referencePosteriorgrams, referenceNotes,
} from '../node/acoustic_ref.mjs';

const CLIP = process.env.BENCH_CLIP ?? path.resolve(ROOT, '../shared/data/dev/slakh-Track00001.wav');
const P = {
  onset_threshold: 0.5, frame_threshold: 0.3, min_note_frames: 11, min_frequency_hz: 0, max_frequency_hz: 0,
  infer_onsets: 1, melodia_trick: 1, pitch_bends: 1, energy_tolerance: 11,
};
const now = () => performance.now() / 1000;

const eng = await loadEngine();
const wav = readWav16(CLIP);
const x = engineResample(eng.core, wav.samples, wav.rate, 22050);
const seconds = x.length / 22050;
const warm = x.subarray(0, 22050 * 3);

// ---- the package (warm-up run first: graph compilation, wasm backend start)
await referenceNotes(await referencePosteriorgrams(warm), P);
let t = now();
const post = await referencePosteriorgrams(x);
const tInfer = now() - t;
t = now();
const pk = await referenceNotes(post, P);
const tNotes = now() - t;
const tPackage = tInfer + tNotes;

// ---- ours: a session fed the whole clip in 1 s blocks (audio -> notes), after a warm-up
function ours(samples) {
  const s = new eng.Session(eng.core, eng.model, { inputSampleRate: 22050 });
  const notes = [];
  for (let i = 0; i < samples.length; i += 22050) {
    s.feed(samples.subarray(i, Math.min(samples.length, i + 22050)));
    notes.push(...s.takeNotes());
  }
  s.finish();
  notes.push(...s.takeNotes());
  s.free();
  return notes;
}
ours(warm);
const runs = [];
let notes;
for (let r = 0; r < 3; r++) {
  t = now();
  notes = ours(x);
  runs.push(now() - t);
}
const tOurs = Math.min(...runs);
const pg = enginePosteriorgrams(eng.core, eng.model, x);

const f = (v, d = 2) => v.toFixed(d);
console.log(`clip: ${path.basename(CLIP)}, ${f(seconds, 1)} s at 22050 Hz`);
console.log(`package (tfjs ${eng.core ? 'wasm-simd' : ''}): inference ${f(tInfer)} s + note creation ${f(tNotes)} s = ${f(tPackage)} s, ${pk.timed.length} notes`);
console.log(`ours (WASM SIMD, 1 thread): ${f(tOurs, 3)} s audio->notes (best of ${runs.length}: ${runs.map((v) => f(v, 3)).join(', ')}), ${notes.length} notes`);
console.log(`speed-up: ${f(tPackage / tOurs, 1)}x (target >= 5x, goal 10x)`);
console.log(`our real-time factor: ${f(seconds / tOurs, 1)}x real time`);
console.log(`convolutions: ${f(pg.flopsConv / 1e9)} GFLOP in ${f(pg.secConv, 3)} s = ${f(pg.flopsConv / 1e9 / pg.secConv)} GFLOP/s`);
console.log(`CQT front end: ${f(pg.flopsCqt / 1e9)} GFLOP in ${f(pg.secCqt, 3)} s = ${f(pg.flopsCqt / 1e9 / pg.secCqt)} GFLOP/s (time includes log/normalisation/stacking)`);
console.log(`note creation (ours): ${f(tOurs - pg.secConv - pg.secCqt, 3)} s of the total (approx.)`);
