// sc_matmul / sc_matmul_bt in the WASM SIMD build against a float64 reference on odd shapes.
// Error measure: max |C - ref| / max |ref| < 1e-5 per product (ref includes the initial C when accumulating).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEngine, matmulRelError } from './engine.mjs';

const core = await loadEngine();

let seed = 7;
const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed / 2 ** 32) * 2 - 1; };

function check(M, N, K, pad, accumulate, bt) {
  const { relErr, paddingWritten } = matmulRelError(core, M, N, K, pad, accumulate, bt, rand);
  assert.equal(paddingWritten, false, 'padding of C was written');
  return relErr;
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
