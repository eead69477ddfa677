// Helpers of the Node suites. The engine loads through the CLI's loader (bin/engine.mjs); the suites
// name the build: 'scribe.wasm' (plain SIMD, the default here) or 'scribe-relaxed.wasm' (FMA; Node
// needs the relaxed-SIMD flag).
import { loadEngine as loadBuild, ROOT_URL } from '../../bin/engine.mjs';

export { ROOT_URL };

export function loadEngine(wasmFile = 'scribe.wasm') {
  return loadBuild(wasmFile);
}

/** Runs the engine's matmul (bt: matmul_bt) on random operands with row padding `pad` against a
 * float64 reference (which includes the initial C when accumulating). Returns the error
 * max |C - ref| / max |ref| and whether the padding columns of C were written. */
export function matmulRelError(core, M, N, K, pad, accumulate, bt, rand) {
  const lda = K + pad, ldb = (bt ? K : N) + pad, ldc = N + pad;
  const A = Float32Array.from({ length: M * lda }, rand);
  const B = Float32Array.from({ length: (bt ? N : K) * ldb }, rand);
  const C = Float32Array.from({ length: M * ldc }, rand);
  const pa = core.copyInF32(A), pb = core.copyInF32(B), pc = core.copyInF32(C);
  (bt ? core.mod._wasm_matmul_bt : core.mod._wasm_matmul)(M, N, K, pa, lda, pb, ldb, pc, ldc, accumulate);
  const out = core.f32.slice(pc >> 2, (pc >> 2) + M * ldc);
  core.free(pa); core.free(pb); core.free(pc);
  let maxErr = 0, maxRef = 0, paddingWritten = false;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? C[i * ldc + j] : 0;
      for (let k = 0; k < K; k++) s += A[i * lda + k] * (bt ? B[j * ldb + k] : B[k * ldb + j]);
      const e = Math.abs(out[i * ldc + j] - s);
      maxErr = Number.isNaN(e) ? Infinity : Math.max(maxErr, e);
      maxRef = Math.max(maxRef, Math.abs(s));
    }
    for (let j = N; j < ldc; j++) if (out[i * ldc + j] !== C[i * ldc + j]) paddingWritten = true;
  }
  return { relErr: maxErr / maxRef, paddingWritten };
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1), for reproducible random cases. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
