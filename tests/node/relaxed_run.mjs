// Runs in a Node started with --experimental-wasm-relaxed-simd (spawned by relaxed.test.mjs), and
// in the test's own process for the plain build: loads dist/WASM_FILE with the shared glue and
// prints (as JSON) what the test compares: which build the loader would pick here, the SIMD
// branch, matmul / matmul_bt errors against a float64 reference on odd shapes, and the notes of a
// short transcription with the acoustic model (weights/basic-pitch.scrb).
//   node --experimental-wasm-relaxed-simd tests/node/relaxed_run.mjs scribe-relaxed.wasm CLIP.wav SECONDS
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadScribe, scribeWasmFile } from '../../web/engine/core.js';
import { decodeWav } from '../../web/engine/audio.js';
import { Model, transcribe } from '../../web/engine/session.js';

const ROOT_URL = new URL('../../', import.meta.url);

function matmulError(core, M, N, K, pad, accumulate, bt, rand) {
  const lda = K + pad, ldb = (bt ? K : N) + pad, ldc = N + pad;
  const A = Float32Array.from({ length: M * lda }, rand);
  const B = Float32Array.from({ length: (bt ? N : K) * ldb }, rand);
  const C = Float32Array.from({ length: M * ldc }, rand);
  const pa = core.copyInF32(A), pb = core.copyInF32(B), pc = core.copyInF32(C);
  (bt ? core.mod._wasm_matmul_bt : core.mod._wasm_matmul)(M, N, K, pa, lda, pb, ldb, pc, ldc, accumulate);
  const out = core.f32.slice(pc >> 2, (pc >> 2) + M * ldc);
  core.free(pa); core.free(pb); core.free(pc);
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? C[i * ldc + j] : 0;
      for (let k = 0; k < K; k++) s += A[i * lda + k] * (bt ? B[j * ldb + k] : B[k * ldb + j]);
      const e = Math.abs(out[i * ldc + j] - s);
      maxErr = Number.isNaN(e) ? Infinity : Math.max(maxErr, e);
      maxRef = Math.max(maxRef, Math.abs(s));
    }
    for (let j = N; j < ldc; j++) if (out[i * ldc + j] !== C[i * ldc + j]) return Infinity; // padding written
  }
  return maxErr / maxRef;
}

export async function runChecks(wasmFile, clip, seconds) {
  const core = await loadScribe({
    moduleUrl: new URL('dist/scribe.mjs', ROOT_URL).href,
    wasmBinary: readFileSync(new URL(`dist/${wasmFile}`, ROOT_URL)),
  });
  let seed = 11;
  const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed / 2 ** 32) * 2 - 1; };
  const matmul = [];
  const shapes = [[1, 1, 1], [3, 7, 5], [17, 33, 65], [127, 129, 31], [2, 100, 300], [6, 16, 257], [33, 200, 513],
    [5, 37, 300], [264, 8, 312]];
  for (const [M, N, K] of shapes) for (const bt of [false, true]) for (const acc of [0, 1]) {
    matmul.push({ shape: `${bt ? 'matmul_bt' : 'matmul'} ${M}x${N}x${K} acc ${acc}`,
      err: matmulError(core, M, N, K, 3, acc, bt, rand) });
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
