// Decoder step time of the WASM MT3 network vs batch size (slots beyond the first reuse
// uninitialised cross K/V; timing only). Usage: node tests/bench/mt3_decoder.mjs MODEL [tokens]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadEngine } from '../../bin/engine.mjs';

if (!process.argv[2]) {
  console.error('usage: node tests/bench/mt3_decoder.mjs MODEL.scrb [tokens]');
  process.exit(2);
}
const core = await loadEngine('scribe.wasm');
const mod = core.mod;
const bytes = readFileSync(process.argv[2]);
const steps = Number(process.argv[3] ?? 40);
const buf = core.copyIn(bytes);
const net = mod._wasm_mt3_load(buf, bytes.length, core.errPtr);
if (!net) core.check(mod._wasm_error_code(core.errPtr) || 4);
let flops = 0;
for (let t = 0; t < steps; t++) flops += mod._wasm_mt3_decoder_flops(net, t);
for (const B of (process.argv[4] ?? '1,4,8,16').split(',').map(Number)) {
  const st = mod._wasm_mt3_state_new(net, B, steps, core.errPtr);
  const T = mod._wasm_mt3_config(net, 8), F = mod._wasm_mt3_config(net, 7);
  const feat = core.malloc(T * F * 4);
  core.f32.fill(-5, feat >> 2, (feat >> 2) + T * F);
  const c1 = process.cpuUsage();
  for (let b = 0; b < B; b++) mod._wasm_mt3_encode(st, b, feat);
  const ce = process.cpuUsage(c1), ems = (ce.user + ce.system) / 1000 / B;
  console.log(`encode: ${ems.toFixed(0)} ms CPU per segment, ${(mod._wasm_mt3_encoder_flops(net) / ems / 1e6).toFixed(1)} GFLOP/s`);
  const tok = core.malloc(B * steps * 4), len = core.malloc(B * 4);
  const c0 = process.cpuUsage();
  mod._wasm_mt3_decode(st, B, steps, 1, tok, len, 0);
  const cu = process.cpuUsage(c0);
  const ms = (cu.user + cu.system) / 1000; // CPU time: the machine is shared
  console.log(`batch ${B}: ${(ms / steps).toFixed(2)} ms per step, ${(ms / steps / B).toFixed(2)} ms per token, ${(flops * B / ms / 1e6).toFixed(1)} GFLOP/s`);
  core.free(tok); core.free(len); core.free(feat);
  mod._wasm_mt3_state_free(st);
}
