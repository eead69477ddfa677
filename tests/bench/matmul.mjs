// Prints GFLOP/s of sc_matmul / sc_matmul_bt in the WASM SIMD build (single thread, Node) and the
// mul+add arithmetic ceiling (simd_ceiling.mjs); then the same for the fused multiply-add build
// dist/scribe-relaxed.wasm in a Node started with --experimental-wasm-relaxed-simd (this script
// with --relaxed) and the relaxed_madd ceiling; then the native figures when
// dist/native/bench_matmul exists. A benchmark, not a test.
// Time is this process's CPU time (process.cpuUsage), best of 7 runs: the machine is shared,
// and CPU time of a single-threaded run does not count the time other processes hold the core.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { relaxedSimdSupported } from '../../web/engine/core.js';
import { loadEngine } from '../../bin/engine.mjs';

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const relaxed = process.argv.includes('--relaxed');
const root = fileURLToPath(new URL('../../', import.meta.url));
if (relaxed && !relaxedSimdSupported()) {
  console.log(`wasm relaxed build: this Node does not validate relaxed SIMD (run it with ${RELAXED_FLAG})`);
  process.exit(0);
}
const core = await loadEngine(relaxed ? 'scribe-relaxed.wasm' : 'scribe.wasm');
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
const build = relaxed ? 'dist/scribe-relaxed.wasm, f32x4.relaxed_madd' : 'dist/scribe.wasm, f32x4.mul + f32x4.add';
console.log(`wasm (${simd}; ${build}), single thread, CPU time, best of 7`);
for (const [M, N, K] of shapes) {
  console.log(`  matmul    ${M}x${N}x${K}: ${bench(M, N, K, false).toFixed(1)} GFLOP/s`);
}
for (const [M, N, K] of [[512, 1024, 512], [256, 256, 64]]) {
  console.log(`  matmul_bt ${M}x${N}x${K}: ${bench(M, N, K, true).toFixed(1)} GFLOP/s`);
}
// The arithmetic ceiling the figures above should be read against (same Node flags as this run).
function run(args) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: root });
  process.stdout.write(r.stdout);
  if (r.status !== 0) { process.stderr.write(r.stderr); process.exit(1); }
}
const ceiling = `${root}tests/bench/simd_ceiling.mjs`;
if (relaxed) {
  run([RELAXED_FLAG, ceiling, '--relaxed']);
  process.exit(0);
}
run([ceiling]);
run([RELAXED_FLAG, fileURLToPath(import.meta.url), '--relaxed']);

const native = `${root}dist/native/bench_matmul`;
if (existsSync(native)) {
  const r = spawnSync(native, [], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) { process.stderr.write(r.stderr); process.exit(1); }
}
