// The arithmetic ceiling of WASM SIMD f32 on this machine, in Node: 12 independent f32x4 chains
// acc = acc * m + b (load- and store-free, 12 accumulators fit the 16 xmm registers), counted as 2
// flop per lane and step like a matrix product's multiply-add. Printed beside the GEMM figures of
// tests/bench/matmul.mjs (`make bench`) so that the GEMM can be read as a fraction of what the
// core can do at all without fused multiply-add. With --relaxed (Node needs
// --experimental-wasm-relaxed-simd) the same chains use f32x4.relaxed_madd, the fused form
// Emscripten 3.1.6's LLVM 14 cannot emit (it knows only the pre-standard opcode, which Node 20 and
// Chromium reject). A benchmark, not a test. CPU time of this process, best of 7.
//
// The module is assembled here byte by byte (no toolchain needed):
//   (func (export "run") (param $n i32) (result f32)
//     (local $m v128) (local $b v128) (local $a0..$a11 v128)
//     m = splat(1.0000001); b = splat(1e-7); a_i = splat(i)
//     loop: a_i = a_i * m + b  (i = 0..11); n -= 1; br_if n
//     return lane 0 of a0 + ... + a11)
const relaxed = process.argv.includes('--relaxed');
const CHAINS = 12;

function uleb(n) {
  const out = [];
  do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n);
  return out;
}
const f32bytes = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
const SIMD = 0xfd;
const op = {
  splat: [SIMD, ...uleb(0x13)], mul: [SIMD, ...uleb(0xe6)], add: [SIMD, ...uleb(0xe4)],
  madd: [SIMD, ...uleb(0x105)], lane0: [SIMD, ...uleb(0x1f), 0],
};
const get = (i) => [0x20, ...uleb(i)], set = (i) => [0x21, ...uleb(i)];
const N = 0, M = 1, B = 2, A = (i) => 3 + i;

const body = [];
body.push(0x43, ...f32bytes(1.0000001), ...op.splat, ...set(M));
body.push(0x43, ...f32bytes(1e-7), ...op.splat, ...set(B));
for (let i = 0; i < CHAINS; i++) body.push(0x43, ...f32bytes(i), ...op.splat, ...set(A(i)));
body.push(0x03, 0x40); // loop (void)
for (let i = 0; i < CHAINS; i++) {
  if (relaxed) body.push(...get(A(i)), ...get(M), ...get(B), ...op.madd, ...set(A(i)));
  else body.push(...get(A(i)), ...get(M), ...op.mul, ...get(B), ...op.add, ...set(A(i)));
}
body.push(...get(N), 0x41, 1, 0x6b, 0x22, ...uleb(N), 0x0d, 0, 0x0b); // n = n - 1 (tee); br_if 0; end
body.push(...get(A(0)));
for (let i = 1; i < CHAINS; i++) body.push(...get(A(i)), ...op.add);
body.push(...op.lane0, 0x0b);
const locals = [1, ...uleb(2 + CHAINS), 0x7b]; // one group of v128 locals
const func = [...locals, ...body];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const wasm = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),                 // type: (i32) -> f32
  ...section(3, [1, 0]),                                       // func 0 : type 0
  ...section(7, [1, 3, ...[0x72, 0x75, 0x6e], 0x00, 0]),       // export "run"
  ...section(10, [1, ...uleb(func.length), ...func]),
]);

let instance;
try {
  ({ instance } = await WebAssembly.instantiate(wasm));
} catch (e) {
  console.log(`simd ceiling (${relaxed ? 'relaxed_madd' : 'mul+add'}): not available here (${e.message})`);
  process.exit(0);
}
const run = instance.exports.run;
const iters = 20_000_000;
run(1000);
let best = Infinity;
for (let t = 0; t < 7; t++) {
  const t0 = process.cpuUsage();
  run(iters);
  const d = process.cpuUsage(t0);
  best = Math.min(best, (d.user + d.system) / 1e6);
}
const gflops = (iters * CHAINS * 4 * 2) / best / 1e9;
console.log(`simd ceiling (${relaxed ? 'f32x4.relaxed_madd' : 'f32x4.mul + f32x4.add'}), ${CHAINS} independent chains, ` +
  `no memory traffic: ${gflops.toFixed(1)} GFLOP/s`);
