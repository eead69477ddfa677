#!/usr/bin/env node
// MT3 commands for bin/scribe (dispatch `random-weights` and `bench` here), also runnable alone:
//   node bin/mt3-commands.mjs random-weights --preset mt3|small --out FILE [--dtype f32|q8] [--seed N]
//   node bin/mt3-commands.mjs bench --model FILE [--seconds N] [--tokens 300] [--batch 16]
// bench: whole-audio inference through a session on the WASM build, single-threaded, decoding a fixed
// number of tokens per segment (EOS ignored) so random weights give realistic timings. Last line:
// `realtime_factor: X` (audio seconds per wall-clock second).
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadEngine } from './engine.mjs';
import { Model, Session } from '../web/engine/session.js';

const root = new URL('../', import.meta.url);

// ------------------------------------------------------------------ weights file writer (src/models/weights.h)

const CONFIG_INDEX = {
  d_model: 0, heads: 1, head_dim: 2, mlp_dim: 3, enc_layers: 4, dec_layers: 5, vocab: 6, input_features: 7,
  segment_frames: 8, max_decode: 9, steps_per_second: 16, max_shift_steps: 17, velocity_bins: 18, use_ties: 19,
  use_programs: 20, use_drums: 21, sample_rate: 32, fft_size: 33, hop: 34, mel_bins: 35, fmin: 36, fmax: 37,
};
const FLOAT_KEYS = new Set(['fmin', 'fmax']);

export const PRESETS = {
  // MT3's published configuration (magenta/mt3 gin/model.gin, gin/mt3.gin, spectrograms.py)
  mt3: {
    d_model: 512, heads: 6, head_dim: 64, mlp_dim: 1024, enc_layers: 8, dec_layers: 8, vocab: 1536,
    input_features: 512, segment_frames: 256, max_decode: 1024, steps_per_second: 100, max_shift_steps: 1000,
    velocity_bins: 1, use_ties: 1, use_programs: 1, use_drums: 1, sample_rate: 16000, fft_size: 2048, hop: 128,
    mel_bins: 512, fmin: 20.0, fmax: 7600.0, // ddsp compute_logmel hi_hz default, used by MT3
  },
};
PRESETS.small = { ...PRESETS.mt3, d_model: 128, heads: 4, head_dim: 32, mlp_dim: 256, enc_layers: 2, dec_layers: 2 };

/** Tensor list [name, shape, kind] of the T5 network in scribe's naming (src/models/t5.h). */
export function mt3TensorSpecs(c) {
  const D = c.d_model, HD = c.heads * c.head_dim, M = c.mlp_dim, V = c.vocab;
  const t = [['enc.input_proj', [c.input_features, D], 'dense']];
  const attn = (p) => { for (const w of 'qkv') t.push([`${p}.${w}`, [D, HD], w === 'q' ? 'query' : 'dense']); t.push([`${p}.o`, [HD, D], 'dense']); };
  const mlp = (p) => { t.push([`${p}.wi0`, [D, M], 'dense'], [`${p}.wi1`, [D, M], 'dense'], [`${p}.wo`, [M, D], 'dense']); };
  for (let l = 0; l < c.enc_layers; l++) {
    t.push([`enc.${l}.attn_norm`, [D], 'norm']); attn(`enc.${l}.attn`);
    t.push([`enc.${l}.mlp_norm`, [D], 'norm']); mlp(`enc.${l}.mlp`);
  }
  t.push(['enc.norm', [D], 'norm'], ['dec.embed', [V, D], 'embed']);
  for (let l = 0; l < c.dec_layers; l++) {
    t.push([`dec.${l}.self_norm`, [D], 'norm']); attn(`dec.${l}.self`);
    t.push([`dec.${l}.cross_norm`, [D], 'norm']); attn(`dec.${l}.cross`);
    t.push([`dec.${l}.mlp_norm`, [D], 'norm']); mlp(`dec.${l}.mlp`);
  }
  t.push(['dec.norm', [D], 'norm'], ['dec.logits', [D, V], 'dense']);
  return t;
}

function makeRng(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  const u = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return (s + 0.5) / 4294967296; };
  let spare = null;
  return () => {
    if (spare !== null) { const v = spare; spare = null; return v; }
    const r = Math.sqrt(-2 * Math.log(u())), a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** Per-column int8 quantisation (weights.h q8): int8 values, padding to 4 bytes, one f32 scale per column. */
function quantizeQ8(data, rows, cols) {
  const scales = new Float32Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) scales[j] = Math.max(scales[j], Math.abs(data[i * cols + j]));
  for (let j = 0; j < cols; j++) scales[j] = scales[j] > 0 ? scales[j] / 127 : 1;
  const n = rows * cols, pad = (4 - (n % 4)) % 4;
  const out = new Uint8Array(n + pad + cols * 4);
  const q = new Int8Array(out.buffer, 0, n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    q[i * cols + j] = Math.max(-127, Math.min(127, Math.round(data[i * cols + j] / scales[j])));
  }
  new Uint8Array(out.buffer, n + pad, cols * 4).set(new Uint8Array(scales.buffer));
  return out;
}

/** Builds a weights file (Uint8Array) of random T5/MT3-initialised tensors. dtype: 'f32' | 'q8'. */
export function randomWeights(config, { dtype = 'f32', seed = 1, name = 'mt3-random' } = {}) {
  const specs = mt3TensorSpecs(config);
  const rnd = makeRng(seed);
  const blobs = [];
  for (const [tname, shape, kind] of specs) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(numel);
    if (kind === 'norm') data.fill(1);
    else {
      let std = kind === 'embed' ? 1 : 1 / Math.sqrt(shape[0]);
      if (kind === 'query') std /= Math.sqrt(config.head_dim);
      for (let i = 0; i < numel; i++) data[i] = rnd() * std;
    }
    const q = dtype === 'q8' && kind !== 'norm';
    blobs.push({ tname, shape, dtype: q ? 2 : 0, bytes: q ? quantizeQ8(data, numel / shape[shape.length - 1], shape[shape.length - 1]) : new Uint8Array(data.buffer) });
  }
  const HEADER = 512, REC = 128;
  let off = HEADER + REC * blobs.length;
  for (const b of blobs) { off += (64 - (off % 64)) % 64; b.offset = off; off += b.bytes.length; }
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode('SCRIBEW\0'), 0);
  dv.setUint32(8, 1, true); dv.setUint32(12, 1, true); dv.setUint32(16, blobs.length, true); dv.setUint32(20, HEADER, true);
  for (const [k, i] of Object.entries(CONFIG_INDEX)) {
    if (FLOAT_KEYS.has(k)) dv.setFloat32(24 + 4 * i, config[k], true);
    else dv.setInt32(24 + 4 * i, config[k], true);
  }
  out.set(new TextEncoder().encode(name).subarray(0, 63), 280);
  blobs.forEach((b, r) => {
    const p = HEADER + r * REC;
    out.set(new TextEncoder().encode(b.tname), p);
    dv.setUint32(p + 80, b.dtype, true);
    dv.setUint32(p + 84, b.shape.length, true);
    b.shape.forEach((s, d) => dv.setUint32(p + 88 + 4 * d, s, true));
    dv.setBigUint64(p + 104, BigInt(b.offset), true);
    dv.setBigUint64(p + 112, BigInt(b.bytes.length), true);
    out.set(b.bytes, b.offset);
  });
  return out;
}

// ------------------------------------------------------------------ commands

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument '${argv[i]}'`);
    const k = argv[i].slice(2);
    if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new Error(`--${k} needs a value`);
    a[k] = argv[++i];
  }
  return a;
}

export async function cmdRandomWeights(argv) {
  const a = parseArgs(argv);
  const preset = PRESETS[a.preset ?? 'mt3'];
  if (!preset) throw new Error(`unknown preset '${a.preset}' (mt3, small)`);
  if (!a.out) throw new Error('random-weights needs --out FILE');
  const dtype = a.dtype ?? 'f32';
  if (!['f32', 'q8'].includes(dtype)) throw new Error(`--dtype ${dtype}: f32 or q8`);
  const bytes = randomWeights(preset, { dtype, seed: Number(a.seed ?? 1), name: `${a.preset ?? 'mt3'}-random-${dtype}` });
  writeFileSync(a.out, bytes);
  console.log(`wrote ${a.out}: ${(bytes.length / 1e6).toFixed(1)} MB, preset ${a.preset ?? 'mt3'}, ${dtype}`);
}

function loadCore() {
  return loadEngine();
}

/** Deterministic test audio: a few decaying tones over noise. */
function benchAudio(seconds, rate) {
  const n = Math.round(seconds * rate), x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const t = i / rate, beat = t % 0.5;
    x[i] = 0.02 * (s / 2 ** 32 - 0.5) + 0.3 * Math.exp(-4 * beat) * Math.sin(2 * Math.PI * (220 + 110 * Math.floor(t * 2 % 4)) * t);
  }
  return x;
}

export async function cmdBench(argv) {
  const a = parseArgs(argv);
  if (!a.model) throw new Error('bench needs --model FILE');
  const seconds = Number(a.seconds ?? 30), tokens = Number(a.tokens ?? 300), batch = Number(a.batch ?? 16);
  const core = await loadCore();
  const bytes = readFileSync(a.model);
  const model = Model.load(core, bytes);
  const desc = model.describe();
  const mod = core.mod;
  // Encoder timing and FLOP counts from the network directly (same code the session runs).
  const buf = core.copyIn(bytes);
  const net = mod._wasm_mt3_load(buf, bytes.length, core.errPtr);
  if (!net) core.check(mod._wasm_error_code(core.errPtr) || 4);
  const cfg = { d: mod._wasm_mt3_config(net, 0), T: mod._wasm_mt3_config(net, 8), F: mod._wasm_mt3_config(net, 7) };
  const rate = mod._wasm_model_sample_rate(model.ptr);
  const hop = Math.round(rate / 125); // reported only
  const segSamples = cfg.T * 128;
  const nSeg = Math.ceil((Math.floor(seconds * rate / 128) + 1) / cfg.T);
  const encFlops = mod._wasm_mt3_encoder_flops(net);
  let decFlops = 0;
  for (let t = 0; t < tokens; t++) decFlops += mod._wasm_mt3_decoder_flops(net, t);
  const state = mod._wasm_mt3_state_new(net, 1, 1, core.errPtr);
  if (!state) core.check(mod._wasm_error_code(core.errPtr) || 2);
  const feat = core.malloc(cfg.T * cfg.F * 4);
  core.f32.fill(-5, feat >> 2, (feat >> 2) + cfg.T * cfg.F);
  mod._wasm_mt3_encode(state, 0, feat); // warm-up
  const reps = 2;
  const e0 = process.cpuUsage();
  for (let r = 0; r < reps; r++) mod._wasm_mt3_encode(state, 0, feat);
  const eu = process.cpuUsage(e0);
  const encPerSeg = (eu.user + eu.system) / 1e6 / reps; // CPU time (the machine may be shared)
  core.free(feat);
  mod._wasm_mt3_state_free(state);
  mod._wasm_mt3_free(net);
  core.free(buf);

  // Whole-audio inference through a session.
  const audio = benchAudio(seconds, rate);
  const session = new Session(core, model, { inputSampleRate: rate, fixedDecodeTokens: tokens, batchSegments: batch });
  const t0 = performance.now(), c0 = process.cpuUsage();
  session.feed(audio);
  session.finish();
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
  const notes = session.takeNotes();
  session.free();
  model.free();
  const enc = encPerSeg * nSeg, dec = Math.max(0, cpu - enc);
  const rtf = seconds / wall;
  console.log(`model: ${desc}`);
  console.log(`audio: ${seconds} s synthetic at ${rate} Hz, ${nSeg} segments of ${segSamples} samples, batch ${batch}, ${tokens} tokens per segment (EOS ignored), ${notes.length} notes`);
  console.log(`time: ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU (single thread); encoder ${enc.toFixed(2)} s CPU (${(100 * enc / cpu).toFixed(0)}%), decoder + front end + token decoding ${dec.toFixed(2)} s CPU (${(100 * dec / cpu).toFixed(0)}%)`);
  console.log(`encoder: ${(encFlops / 1e9).toFixed(2)} GFLOP per segment, ${(encFlops / encPerSeg / 1e9).toFixed(1)} GFLOP/s`);
  console.log(`decoder: ${(decFlops / 1e9).toFixed(2)} GFLOP per segment, ${(decFlops * nSeg / dec / 1e9).toFixed(1)} GFLOP/s`);
  console.log(`overall: ${((encFlops + decFlops) * nSeg / cpu / 1e9).toFixed(1)} GFLOP/s of CPU time (kernel peak about 48)`);
  console.log(`realtime_factor_cpu: ${(seconds / cpu).toFixed(3)} (audio seconds per CPU second; equals the wall figure on an idle machine)`);
  console.log(`realtime_factor: ${rtf.toFixed(3)}`);
  void hop;
}

const COMMANDS = { 'random-weights': cmdRandomWeights, bench: cmdBench };
export const mt3Commands = COMMANDS;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, ...rest] = process.argv.slice(2);
  const fn = COMMANDS[cmd];
  if (!fn) {
    console.error('usage: mt3-commands.mjs random-weights --preset mt3 --out FILE [--dtype f32|q8]\n' +
      '       mt3-commands.mjs bench --model FILE [--seconds N] [--tokens 300] [--batch 16]');
    process.exit(2);
  }
  fn(rest).catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
}
