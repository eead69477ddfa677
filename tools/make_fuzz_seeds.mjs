#!/usr/bin/env node
// Writes the small seed inputs of the libFuzzer corpora (tests/fuzz/corpus/<target>/seed-*):
// WAVs in every supported format, MIDI files, a tiny MT3 weights file, note CSVs and MT3 token streams.
// Usage: node tools/make_fuzz_seeds.mjs [OUT_DIR=tests/fuzz/corpus]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomWeights, PRESETS } from '../bin/mt3-commands.mjs';

const out = process.argv[2] ?? 'tests/fuzz/corpus';
const put = (target, name, bytes) => {
  mkdirSync(join(out, target), { recursive: true });
  writeFileSync(join(out, target, `seed-${name}`), bytes);
};

// ------------------------------------------------------------------ WAV
/** WAV bytes: format 1 (PCM), 3 (float) or 0xFFFE (extensible); samples[ch][i] in [-1, 1]. */
export function wavBytes({ rate = 8000, channels = 1, bits = 16, float = false, extensible = false, frames = 64, fill }) {
  const bps = bits / 8, dataLen = frames * channels * bps;
  const fmtLen = extensible ? 40 : 16;
  const b = new Uint8Array(12 + 8 + fmtLen + 8 + dataLen + (dataLen & 1));
  const dv = new DataView(b.buffer);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i); };
  str(0, 'RIFF'); dv.setUint32(4, b.length - 8, true); str(8, 'WAVE');
  str(12, 'fmt '); dv.setUint32(16, fmtLen, true);
  const tag = float ? 3 : 1;
  dv.setUint16(20, extensible ? 0xfffe : tag, true); dv.setUint16(22, channels, true);
  dv.setUint32(24, rate, true); dv.setUint32(28, rate * channels * bps, true);
  dv.setUint16(32, channels * bps, true); dv.setUint16(34, bits, true);
  if (extensible) {
    dv.setUint16(36, 22, true); dv.setUint16(38, bits, true); dv.setUint32(40, 0, true);
    dv.setUint16(44, tag, true); // sub-format GUID starts with the format tag
    b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
  }
  const d = 20 + fmtLen;
  str(d, 'data'); dv.setUint32(d + 4, dataLen, true);
  let o = d + 8;
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) {
    const x = fill ? fill(i, c) : Math.sin(2 * Math.PI * 440 * i / rate + c) * 0.5;
    if (float && bits === 32) dv.setFloat32(o, x, true);
    else if (float) dv.setFloat64(o, x, true);
    else if (bits === 8) b[o] = Math.max(0, Math.min(255, Math.round(128 + x * 127)));
    else if (bits === 16) dv.setInt16(o, Math.round(x * 32767), true);
    else if (bits === 24) { const v = Math.round(x * 8388607); b[o] = v & 255; b[o + 1] = (v >> 8) & 255; b[o + 2] = (v >> 16) & 255; }
    else dv.setInt32(o, Math.round(x * 2147483647), true);
    o += bps;
  }
  return b;
}

// ------------------------------------------------------------------ MIDI
function vlq(n) { const o = [n & 0x7f]; while ((n >>= 7)) o.unshift((n & 0x7f) | 0x80); return o; }
function chunk(id, data) { const h = [...id].map((c) => c.charCodeAt(0)); const n = data.length; return [...h, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255, ...data]; }
export function midiBytes(format, tracks, division = 480) {
  const hd = chunk('MThd', [0, format, 0, tracks.length, division >> 8, division & 255]);
  return Uint8Array.from([...hd, ...tracks.flatMap((t) => chunk('MTrk', t))]);
}
const ev = (dt, ...bytes) => [...vlq(dt), ...bytes];
const EOT = ev(0, 0xff, 0x2f, 0);

if (import.meta.url === `file://${process.argv[1]}`) {
  put('wav', 'pcm8', wavBytes({ bits: 8 }));
  put('wav', 'pcm16', wavBytes({ bits: 16 }));
  put('wav', 'pcm24-stereo', wavBytes({ bits: 24, channels: 2 }));
  put('wav', 'pcm32', wavBytes({ bits: 32 }));
  put('wav', 'float32', wavBytes({ bits: 32, float: true }));
  put('wav', 'float64', wavBytes({ bits: 64, float: true, rate: 44100 }));
  put('wav', 'ext-8ch-16', wavBytes({ bits: 16, channels: 8, extensible: true, frames: 16 }));
  put('wav', 'ext-float32-6ch', wavBytes({ bits: 32, float: true, channels: 6, extensible: true, frames: 16 }));

  // type 0 with running status, note-on velocity 0 as note-off, pitch bend, program change, drums
  put('midi', 'type0', midiBytes(0, [[
    ...ev(0, 0xff, 0x51, 3, 0x07, 0xa1, 0x20), ...ev(0, 0xc0, 25), ...ev(0, 0x90, 60, 100), ...ev(0, 64, 90),
    ...ev(240, 0xe0, 0, 0x50), ...ev(240, 60, 0), ...ev(0, 0x80, 64, 0), ...ev(0, 0x99, 36, 120),
    ...ev(60, 0x89, 36, 0), ...ev(0, 0xf0, 2, 0x7e, 0xf7), ...EOT]]));
  put('midi', 'type1', midiBytes(1, [
    [...ev(0, 0xff, 0x51, 3, 0x07, 0xa1, 0x20), ...ev(960, 0xff, 0x51, 3, 0x03, 0xd0, 0x90), ...EOT],
    [...ev(0, 0xff, 0x03, 3, 0x61, 0x62, 0x63), ...ev(0, 0xc1, 40), ...ev(0, 0x91, 72, 80), ...ev(1920, 0x81, 72, 0), ...EOT],
    [...ev(0, 0xb2, 7, 100), ...ev(0, 0x92, 48, 64), ...ev(480, 0xa2, 48, 10), ...ev(480, 0x82, 48, 0), ...EOT],
  ], 96));

  const csv = readFileSync('../shared/data/dev/slakh-Track00001.notes.csv', 'utf8').split('\n').slice(0, 40).join('\n');
  put('csv', 'slakh', csv + '\n');
  put('csv', 'drums', 'onset_s,offset_s,pitch,velocity,program,is_drum\n0.5,0.51,36,100,0,1\n1e-3,2.5E1,127,1,127,0\n');

  // tiny MT3 model (same config layout, toy sizes), q8 so it stays under the fuzzer's 64 KiB max_len
  const tiny = { ...PRESETS.mt3, d_model: 8, heads: 1, head_dim: 8, mlp_dim: 16, enc_layers: 1, dec_layers: 1, max_decode: 16 };
  put('weights', 'mt3-tiny-q8', randomWeights(tiny, { dtype: 'q8', seed: 5, name: 'fuzz-tiny' }));

  // MT3 token streams: byte 0 codec (0 mt3, 1 ismir2021), words of token ids, 0xFFFF between segments
  const S = (n) => 3 + n, P = (p) => 3 + 1001 + p, V = (v) => 3 + 1129 + v, T = 3 + 1131, PR = (p) => 3 + 1132 + p, D = (p) => 3 + 1260 + p;
  const words = (codec, segs) => {
    const w = segs.flatMap((s, i) => (i ? [0xffff, ...s] : s));
    const b = new Uint8Array(4 + 2 * w.length);
    b[0] = codec;
    w.forEach((x, i) => { b[4 + 2 * i] = x & 255; b[5 + 2 * i] = x >> 8; });
    return b;
  };
  put('tokens', 'mt3-ties', words(0, [
    [T, S(10), PR(0), V(1), P(60), S(50), PR(33), P(40), D(36), S(150), PR(0), V(0), P(60), 1],
    [PR(33), P(40), T, S(20), PR(33), V(0), P(40), S(30), V(1), D(38), 1],
    [T, S(5), PR(0), V(1), P(64), P(67), 1],
  ]));
  const Vi = (v) => 3 + 1001 + 128 + v;
  put('tokens', 'ismir2021', words(1, [[S(10), Vi(80), P(60), S(40), Vi(0), P(60), 1], [S(1), Vi(20), P(72), 1]]));
}
