// web/engine/audio.js over the WASM build: WAV decode/encode, errors, one-shot and streaming resampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScribeError } from '../../web/engine/core.js';
import { loadEngine } from './engine.mjs';
import { decodeWav, encodeWav, resample, Resampler } from '../../web/engine/audio.js';

const root = new URL('../../', import.meta.url);
const core = await loadEngine();
const dataDir = process.env.SCRIBE_DATA ?? new URL('../shared/data/dev/', root).pathname;

test('decodes a dev clip to 44.1 kHz mono', () => {
  const bytes = readFileSync(join(dataDir, 'vocadito-1.wav'));
  const a = decodeWav(core, bytes);
  assert.equal(a.sampleRate, 44100);
  assert.equal(a.channels, 1);
  assert.ok(a.samples instanceof Float32Array);
  // 16-bit mono: frames = data bytes / 2 (at most the file size minus a 44-byte header)
  assert.ok(a.samples.length > 44100 && a.samples.length <= (bytes.length - 44) / 2);
  // first samples equal the raw little-endian int16 values / 32768 (locate the data chunk)
  let p = 12;
  while (bytes.toString('latin1', p, p + 4) !== 'data') p += 8 + bytes.readUInt32LE(p + 4) + (bytes.readUInt32LE(p + 4) & 1);
  for (let i = 0; i < 100; i++) assert.equal(a.samples[i], bytes.readInt16LE(p + 8 + 2 * i) / 32768);
});

test('stereo float WAV is downmixed; encode/decode round trip', () => {
  const frames = 100;
  const buf = Buffer.alloc(44 + frames * 8);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + frames * 8, 4); buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16); buf.writeUInt16LE(3, 20); buf.writeUInt16LE(2, 22); buf.writeUInt32LE(48000, 24);
  buf.writeUInt32LE(48000 * 8, 28); buf.writeUInt16LE(8, 32); buf.writeUInt16LE(32, 34);
  buf.write('data', 36); buf.writeUInt32LE(frames * 8, 40);
  for (let i = 0; i < frames; i++) { buf.writeFloatLE(0.5, 44 + 8 * i); buf.writeFloatLE(i / 100, 48 + 8 * i); }
  const a = decodeWav(core, buf);
  assert.equal(a.channels, 2);
  assert.equal(a.sampleRate, 48000);
  assert.equal(a.samples.length, frames);
  for (let i = 0; i < frames; i++) assert.ok(Math.abs(a.samples[i] - (0.5 + i / 100) / 2) < 1e-7);

  const wav = encodeWav(core, a.samples, 48000);
  assert.equal(wav.length, 44 + 2 * frames);
  const b = decodeWav(core, wav);
  assert.equal(b.sampleRate, 48000);
  for (let i = 0; i < frames; i++) assert.ok(Math.abs(b.samples[i] - a.samples[i]) <= 0.5 / 32768 + 1e-9);
});

test('malformed WAV throws a ScribeError naming the problem', () => {
  assert.throws(() => decodeWav(core, new Uint8Array(0)), (e) => e instanceof ScribeError && e.status === 3 && /empty/.test(e.message));
  assert.throws(() => decodeWav(core, Buffer.from('OggS not a wav file at all')), (e) => e.status === 3 && /RIFF/.test(e.message));
  const truncated = Buffer.alloc(44);
  truncated.write('RIFF', 0); truncated.write('WAVEfmt ', 8); truncated.writeUInt32LE(16, 16);
  truncated.writeUInt16LE(1, 20); truncated.writeUInt16LE(1, 22); truncated.writeUInt32LE(16000, 24);
  truncated.writeUInt16LE(2, 32); truncated.writeUInt16LE(16, 34); truncated.write('data', 36); truncated.writeUInt32LE(1000, 40);
  assert.throws(() => decodeWav(core, truncated), (e) => e.status === 3 && /truncated/.test(e.message));
});

test('one-shot resample: length, tone amplitude, no delay', () => {
  const n = 44100;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(2 * Math.PI * 441 * i / 44100));
  const y = resample(core, x, 44100, 16000);
  assert.equal(y.length, Math.ceil(n * 16000 / 44100));
  let maxErr = 0;
  for (let i = 2000; i < y.length - 2000; i++) maxErr = Math.max(maxErr, Math.abs(y[i] - Math.sin(2 * Math.PI * 441 * i / 16000)));
  assert.ok(maxErr < 1e-3, `max err ${maxErr}`);
  assert.throws(() => resample(core, x, 0, 16000), (e) => e instanceof ScribeError && /0 Hz/.test(e.message));
});

test('streaming Resampler in random blocks equals the one-shot result', () => {
  let seed = 3;
  const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };
  const x = Float32Array.from({ length: 50000 }, () => rand() - 0.5);
  for (const [a, b] of [[44100, 16000], [22050, 44100], [48000, 22050]]) {
    const ref = resample(core, x, a, b);
    const r = new Resampler(core, a, b);
    const parts = [];
    for (let p = 0; p < x.length;) {
      const k = Math.min(x.length - p, Math.floor(rand() * 5000));
      parts.push(r.process(x.subarray(p, p + k)));
      p += k;
    }
    parts.push(r.flush());
    r.destroy();
    const y = new Float32Array(parts.reduce((s, q) => s + q.length, 0));
    let o = 0;
    for (const q of parts) { y.set(q, o); o += q.length; }
    assert.equal(y.length, ref.length, `${a}->${b} length`);
    let d = 0;
    for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(y[i] - ref[i]));
    assert.ok(d <= 1e-6, `${a}->${b}: max diff ${d}`);
    assert.throws(() => r.process(x), /destroy/);
  }
});
