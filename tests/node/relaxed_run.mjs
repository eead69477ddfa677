// Runs in a Node started with --experimental-wasm-relaxed-simd (spawned by relaxed.test.mjs), and
// in the test's own process for the plain build: loads dist/WASM_FILE with the shared glue and
// prints (as JSON) what the test compares: which build the loader would pick here, the SIMD
// branch, matmul / matmul_bt errors against a float64 reference on odd shapes, and the notes of a
// short transcription with the acoustic model (weights/basic-pitch.scrb).
//   node --experimental-wasm-relaxed-simd tests/node/relaxed_run.mjs scribe-relaxed.wasm CLIP.wav SECONDS
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { scribeWasmFile } from '../../web/engine/core.js';
import { decodeWav } from '../../web/engine/audio.js';
import { Model, transcribe } from '../../web/engine/session.js';
import { ROOT_URL, loadEngine, matmulRelError } from './engine.mjs';


/** Relative error, or Infinity when the padding of C was written. */
function matmulErr(...args) {
  const { relErr, paddingWritten } = matmulRelError(...args);
  return paddingWritten ? Infinity : relErr;
}

export async function runChecks(wasmFile, clip, seconds) {
  const core = await loadEngine(wasmFile);
  let seed = 11;
  const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed / 2 ** 32) * 2 - 1; };
  const matmul = [];
  const shapes = [[1, 1, 1], [3, 7, 5], [17, 33, 65], [127, 129, 31], [2, 100, 300], [6, 16, 257], [33, 200, 513],
    [5, 37, 300], [264, 8, 312]];
  for (const [M, N, K] of shapes) for (const bt of [false, true]) for (const acc of [0, 1]) {
    matmul.push({ shape: `${bt ? 'matmul_bt' : 'matmul'} ${M}x${N}x${K} acc ${acc}`,
      err: matmulErr(core, M, N, K, 3, acc, bt, rand) });
  }
  const wav = decodeWav(core, readFileSync(clip));
  const samples = wav.samples.subarray(0, Math.min(wav.samples.length, Math.round(seconds * wav.sampleRate)));
  const model = Model.load(core, readFileSync(new URL('weights/basic-pitch.scrb', ROOT_URL)));
  let notes;
  try {
    notes = await transcribe(core, model, samples, wav.sampleRate, {}, {});
  } finally {
    model.free();
  }
  return {
    picks: scribeWasmFile(),
    simd: core.readCString(core.mod._wasm_kernels_simd_name()),
    matmul: matmul.map((m) => ({ ...m, err: Number.isFinite(m.err) ? m.err : 'inf' })),
    notes: notes.map((n) => ({ onset: n.onset, offset: n.offset, pitch: n.pitch })),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [wasmFile, clip, seconds] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(await runChecks(wasmFile, clip, Number(seconds))));
}
