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
// CPU seconds of this process (user + system): fair when other jobs share the machine's cores
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
function timed(fn) {
  const w0 = now(), c0 = cpu();
  const r = fn();
  return { r, wall: now() - w0, cpu: cpu() - c0 };
}
async function timedAsync(fn) {
  const w0 = now(), c0 = cpu();
  const r = await fn();
  return { r, wall: now() - w0, cpu: cpu() - c0 };
}

const eng = await loadEngine();
const wav = readWav16(CLIP);
const x = engineResample(eng.core, wav.samples, wav.rate, 22050);
const seconds = x.length / 22050;
const warm = x.subarray(0, 22050 * 3);

// ---- the package (warm-up run first: graph compilation, wasm backend start)
await referenceNotes(await referencePosteriorgrams(warm), P);
const infer = await timedAsync(() => referencePosteriorgrams(x));
const pnotes = await timedAsync(() => referenceNotes(infer.r, P));
const pkg = { wall: infer.wall + pnotes.wall, cpu: infer.cpu + pnotes.cpu };

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
const runs = [1, 2, 3].map(() => timed(() => ours(x)));
const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
const pg = timed(() => enginePosteriorgrams(eng.core, eng.model, x));
const { flopsConv, flopsCqt, secConv, secCqt } = pg.r;
// the engine times its stages on the wall clock; split the run's CPU time in the same proportion
const cpuConv = (pg.cpu * secConv) / pg.wall, cpuCqt = (pg.cpu * secCqt) / pg.wall;

const f = (v, d = 2) => v.toFixed(d);
console.log(`clip: ${path.basename(CLIP)}, ${f(seconds, 1)} s at 22050 Hz; times are CPU seconds of this process (wall clock in brackets)`);
console.log(`package @spotify/basic-pitch 1.0.1 on tfjs ${(await import('@tensorflow/tfjs')).version_core ?? ''} wasm (SIMD, 1 thread): ` +
  `inference ${f(infer.cpu)} s [${f(infer.wall)}] + note creation ${f(pnotes.cpu)} s [${f(pnotes.wall)}] = ${f(pkg.cpu)} s [${f(pkg.wall)}], ${pnotes.r.timed.length} notes`);
console.log(`ours (WASM SIMD, 1 thread), audio -> notes: ${f(best.cpu, 3)} s [${f(best.wall, 3)}] (best of ${runs.length}), ${best.r.length} notes`);
console.log(`speed-up: ${f(pkg.cpu / best.cpu, 1)}x on CPU time [${f(pkg.wall / best.wall, 1)}x wall] (target >= 5x, goal 10x)`);
console.log(`our real-time factor: ${f(seconds / best.cpu, 1)}x real time on CPU time [${f(seconds / best.wall, 1)}x wall]`);
console.log(`convolutions: ${f(flopsConv / 1e9)} GFLOP, ${f(flopsConv / 1e9 / cpuConv)} GFLOP/s [${f(flopsConv / 1e9 / secConv)} wall]`);
console.log(`CQT: ${f(flopsCqt / 1e9)} GFLOP, ${f(flopsCqt / 1e9 / cpuCqt)} GFLOP/s [${f(flopsCqt / 1e9 / secCqt)} wall] (time includes log, normalisation, harmonic stacking)`);
console.log(`network share of our time: ${f((100 * pg.cpu) / best.cpu, 0)}% (the rest: session, note creation)`);
