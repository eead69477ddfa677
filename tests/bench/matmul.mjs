// Prints GFLOP/s of sc_matmul / sc_matmul_bt in the WASM SIMD build (single thread, Node),
// then the native figures when dist/native/bench_matmul exists. A benchmark, not a test.
// Time is this process's CPU time (process.cpuUsage), best of 7 runs: the machine is shared,
// and CPU time of a single-threaded run does not count the time other processes hold the core.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadScribe } from '../../web/engine/core.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const core = await loadScribe({
  moduleUrl: new URL('../../dist/scribe.mjs', import.meta.url).href,
  wasmBinary: readFileSync(`${root}dist/${process.env.SCRIBE_WASM ?? "scribe.wasm"}`),
});
const m = core.mod;
const simd = core.readCString(m._wasm_kernels_simd_name());

function bench(M, N, K, bt) {
  const a = core.malloc(M * K * 4), b = core.malloc(K * N * 4), c = core.malloc(M * N * 4);
  const f32 = core.f32;
  for (let i = 0; i < M * K; i++) f32[(a >> 2) + i] = Math.random() - 0.5;
  for (let i = 0; i < K * N; i++) f32[(b >> 2) + i] = Math.random() - 0.5;
  const run = bt ? () => m._wasm_matmul_bt(M, N, K, a, K, b, K, c, N, 0)
                 : () => m._wasm_matmul(M, N, K, a, K, b, N, c, N, 0);
  run(); run();
  const flops = 2 * M * N * K;
  let reps = Math.max(1, Math.round(2e9 / flops));
  let best = Infinity;
  for (let t = 0; t < 7; t++) {
    const t0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) run();
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1e6 / reps);
  }
  core.free(a); core.free(b); core.free(c);
  return flops / best / 1e9;
}

// The last rows are the MT3 decoder's few-row products (M = 1..16) and one acoustic 3x39 conv row.
const shapes = [[512, 1024, 512], [256, 512, 512], [1024, 1024, 1024], [64, 2048, 512], [1, 1024, 512],
  [4, 1024, 512], [6, 512, 1024], [8, 1024, 512], [16, 2048, 512], [264, 8, 312]];
console.log(`wasm (${simd}), single thread, CPU time, best of 7`);
for (const [M, N, K] of shapes) {
  console.log(`  matmul    ${M}x${N}x${K}: ${bench(M, N, K, false).toFixed(1)} GFLOP/s`);
}
for (const [M, N, K] of [[512, 1024, 512], [256, 256, 64]]) {
  console.log(`  matmul_bt ${M}x${N}x${K}: ${bench(M, N, K, true).toFixed(1)} GFLOP/s`);
}
const native = `${root}dist/native/bench_matmul`;
if (existsSync(native)) {
  const r = spawnSync(native, [], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) { process.stderr.write(r.stderr); process.exit(1); }
}
