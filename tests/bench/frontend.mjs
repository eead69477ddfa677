// Speed of the audio front end in the WASM build (single thread, CPU time, best of 5):
// WAV decode, resampling 44.1 kHz -> 16 kHz and -> 22.05 kHz, MT3 log-mel, as multiples of real time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadEngine } from '../../bin/engine.mjs';
import { decodeWav, resample } from '../../web/engine/audio.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const core = await loadEngine('scribe.wasm');
const dataDir = process.env.SCRIBE_DATA ?? `${root}../shared/data/dev/`;
const bytes = readFileSync(`${dataDir}slakh-Track00001.wav`);

function best(fn) {
  let b = Infinity;
  for (let t = 0; t < 5; t++) {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    b = Math.min(b, (d.user + d.system) / 1e6);
  }
  return b;
}

const wav = decodeWav(core, bytes);
const secs = wav.samples.length / wav.sampleRate;
console.log(`front end, wasm, ${secs.toFixed(1)} s clip (slakh-Track00001), CPU time, best of 5`);
console.log(`  wav decode          ${(secs / best(() => decodeWav(core, bytes))).toFixed(0)}x real time`);
console.log(`  resample 44.1k->16k ${(secs / best(() => resample(core, wav.samples, 44100, 16000))).toFixed(0)}x real time`);
console.log(`  resample 44.1k->22.05k ${(secs / best(() => resample(core, wav.samples, 44100, 22050))).toFixed(0)}x real time`);

const x = resample(core, wav.samples, 44100, 16000);
const m = core.mod;
const lm = m._wasm_logmel_new_default(core.errPtr);
const sp = core.copyInF32(x);
const frames = m._wasm_logmel_num_frames(lm, x.length) >>> 0;
const op = core.malloc(frames * 512 * 4);
const t = best(() => m._wasm_logmel_compute(lm, sp, x.length, op));
console.log(`  MT3 log-mel (2048/128/512) ${(secs / t).toFixed(0)}x real time (${(t / frames * 1e6).toFixed(0)} us/frame)`);
core.free(sp); core.free(op); m._wasm_logmel_free(lm);
