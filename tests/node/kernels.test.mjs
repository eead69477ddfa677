// sc_matmul / sc_matmul_bt in the WASM SIMD build against a float64 reference on odd shapes.
// Error measure: max |C - ref| / max |ref| < 1e-5 per product (ref includes the initial C when accumulating).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEngine } from './engine.mjs';

const core = await loadEngine();

let seed = 7;
const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed / 2 ** 32) * 2 - 1; };

function check(M, N, K, pad, accumulate, bt) {
  const lda = K + pad, ldb = (bt ? K : N) + pad, ldc = N + pad;
  const A = Float32Array.from({ length: M * lda }, rand);
  const B = Float32Array.from({ length: (bt ? N : K) * ldb }, rand);
  const C = Float32Array.from({ length: M * ldc }, rand);
  const ref = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = accumulate ? C[i * ldc + j] : 0;
    for (let k = 0; k < K; k++) s += A[i * lda + k] * (bt ? B[j * ldb + k] : B[k * ldb + j]);
    ref[i * N + j] = s;
  }
  const pa = core.copyInF32(A), pb = core.copyInF32(B), pc = core.copyInF32(C);
  (bt ? core.mod._wasm_matmul_bt : core.mod._wasm_matmul)(M, N, K, pa, lda, pb, ldb, pc, ldc, accumulate);
  const out = core.f32.slice(pc >> 2, (pc >> 2) + M * ldc);
  core.free(pa); core.free(pb); core.free(pc);
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const e = Math.abs(out[i * ldc + j] - ref[i * N + j]);
      maxErr = Number.isNaN(e) ? Infinity : Math.max(maxErr, e);
      maxRef = Math.max(maxRef, Math.abs(ref[i * N + j]));
    }
    for (let j = N; j < ldc; j++) assert.equal(out[i * ldc + j], C[i * ldc + j], 'padding of C was written');
  }
  return maxErr / maxRef;
}

test('WASM build uses the SIMD128 branch', () => {
  assert.equal(core.readCString(core.mod._wasm_kernels_simd_name()), 'wasm-simd128');
});

test('matmul and matmul_bt match a float64 reference on odd shapes', () => {
  const shapes = [[1, 1, 1], [3, 7, 5], [17, 33, 65], [127, 129, 31], [2, 100, 300], [6, 16, 257], [33, 200, 513], [130, 47, 260], [7, 37, 300], [2, 64, 600]];
  let n = 0;
  for (const [M, N, K] of shapes) for (const bt of [false, true]) for (const acc of [0, 1]) for (const pad of [0, 3]) {
    const e = check(M, N, K, pad, acc, bt);
    assert.ok(e < 1e-5, `${bt ? 'matmul_bt' : 'matmul'} ${M}x${N}x${K} pad ${pad} acc ${acc}: rel err ${e}`);
    n++;
  }
  assert.equal(n, shapes.length * 8);
});
