// Log-mel of the WASM build against tools/ref/logmel_ref.py (independent numpy, float64):
// 3 s of a dev clip (decoded and resampled to 16 kHz by the engine, the same samples go to both),
// white noise with a sample count that is not a multiple of the hop, a short clip, silence.
// Tolerance: max |wasm - numpy| < 1e-4 over all log-mel values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadEngine } from './engine.mjs';
import { decodeWav, resample } from '../../web/engine/audio.js';

const root = new URL('../../', import.meta.url);
const core = await loadEngine();
const dataDir = process.env.SCRIBE_DATA ?? new URL('../shared/data/dev/', root).pathname;

function wasmLogmel(samples) {
  const m = core.mod;
  const lm = m._wasm_logmel_new_default(core.errPtr);
  if (!lm) core.check(m._wasm_error_code(core.errPtr));
  const nMels = m._wasm_logmel_n_mels(lm);
  const frames = m._wasm_logmel_num_frames(lm, samples.length) >>> 0;
  const sp = core.copyInF32(samples);
  const op = core.malloc(Math.max(1, frames * nMels * 4));
  m._wasm_logmel_compute(lm, sp, samples.length, op);
  const out = core.f32.slice(op >> 2, (op >> 2) + frames * nMels);
  core.free(sp); core.free(op); m._wasm_logmel_free(lm);
  return { out, frames, nMels };
}

function numpyLogmel(samples) {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-logmel-'));
  try {
    const inp = join(dir, 'in.f32'), out = join(dir, 'out.f32');
    writeFileSync(inp, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    const r = spawnSync('/usr/bin/python3', [new URL('tools/ref/logmel_ref.py', root).pathname, inp, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const b = readFileSync(out);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compare(name, samples) {
  const { out, frames, nMels } = wasmLogmel(samples);
  const ref = numpyLogmel(samples);
  assert.equal(frames, Math.ceil(samples.length / 128), `${name}: frame count`);
  assert.equal(nMels, 512);
  assert.equal(ref.length, out.length, `${name}: numpy gave ${ref.length} values, wasm ${out.length}`);
  assert.ok(out.length > 0);
  let maxDiff = 0, above = 0;
  for (let i = 0; i < out.length; i++) {
    const d = Math.abs(out[i] - ref[i]);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    if (ref[i] > Math.log(1e-5) + 1) above++;
  }
  console.log(`# logmel ${name}: ${frames} frames, max |wasm - numpy| = ${maxDiff.toExponential(2)}`);
  return { maxDiff, above, total: out.length };
}

let seed = 1;
const rand = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; };

test('log-mel of a dev clip matches numpy within 1e-4', () => {
  const wav = decodeWav(core, readFileSync(join(dataDir, 'guitarset-00_BN1-129-Eb_comp.wav')));
  assert.equal(wav.sampleRate, 44100);
  const x = resample(core, wav.samples.subarray(0, 44100 * 4), 44100, 16000).subarray(16000 / 2, 16000 / 2 + 3 * 16000);
  const { maxDiff, above, total } = compare('guitarset 3 s', x);
  assert.ok(above > total / 2, 'most values must be above the floor (a real signal)');
  assert.ok(maxDiff < 1e-4, `max diff ${maxDiff}`);
});

test('log-mel of white noise, a short clip and silence match numpy within 1e-4', () => {
  const noise = Float32Array.from({ length: 2 * 16000 + 77 }, rand);
  const r1 = compare('noise', noise);
  assert.ok(r1.maxDiff < 1e-4, `noise: max diff ${r1.maxDiff}`);
  // the lowest bands (near 20 Hz) are narrower than the 7.8 Hz bin spacing: some hold no bin and sit on the floor
  assert.ok(r1.above > 0.95 * r1.total);
  const short = Float32Array.from({ length: 1000 }, (_, i) => 0.3 * Math.sin(2 * Math.PI * 440 * i / 16000));
  const r2 = compare('1000 samples', short);
  assert.ok(r2.maxDiff < 1e-4, `short: max diff ${r2.maxDiff}`);
  const r3 = compare('silence', new Float32Array(3000));
  assert.ok(r3.maxDiff < 1e-6 && r3.above === 0);
});
