// Audio on top of the engine core: WAV decode/encode and band-limited resampling.
// Every function takes the Core from core.js (loadScribe) and copies data in and out;
// engine buffers never outlive a call except inside a Resampler (freed by destroy()).

import { ScribeError } from './core.js';

// size_t is 32-bit in the WASM build: out-parameters are u32 cells.
function cells(core, n) {
  const p = core.malloc(4 * n);
  core.u32.fill(0, p >> 2, (p >> 2) + n);
  return p;
}

function checkPtr(core, p) {
  if (!p) core.check(core.mod._wasm_error_code(core.errPtr) || 1);
  return p;
}

/**
 * Decodes a WAV file (PCM 8/16/24/32-bit, float 32/64, extensible, any channel count) and
 * downmixes it to mono. Returns {samples: Float32Array, sampleRate, channels}.
 */
export function decodeWav(core, bytes) {
  const src = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const m = core.mod;
  const p = core.copyIn(src);
  try {
    const a = checkPtr(core, m._wasm_wav_decode(p, src.length, core.errPtr));
    try {
      const frames = m._wasm_audio_frames(a) >>> 0;
      const sp = m._wasm_audio_samples(a);
      const samples = core.f32.slice(sp >> 2, (sp >> 2) + frames);
      return {
        samples,
        sampleRate: m._wasm_audio_sample_rate(a) >>> 0,
        channels: m._wasm_audio_source_channels(a) >>> 0,
      };
    } finally {
      m._wasm_audio_free(a);
    }
  } finally {
    core.free(p);
  }
}

/** Encodes mono float samples as a 16-bit PCM WAV; returns a Uint8Array. */
export function encodeWav(core, samples, sampleRate) {
  const m = core.mod;
  const sp = core.copyInF32(samples);
  const out = cells(core, 2);
  try {
    core.check(m._wasm_wav_encode(sp, samples.length, sampleRate, out, out + 4, core.errPtr));
    const bp = core.u32[out >> 2], len = core.u32[(out >> 2) + 1];
    const bytes = core.copyOut(bp, len);
    m._wasm_free(bp);
    return bytes;
  } finally {
    core.free(sp);
    core.free(out);
  }
}

/** One-shot resampling of a whole signal; output length ceil(n * outRate / inRate), no delay. */
export function resample(core, samples, inRate, outRate) {
  const m = core.mod;
  const sp = core.copyInF32(samples);
  const out = cells(core, 2);
  try {
    core.check(m._wasm_resample(sp, samples.length, inRate, outRate, out, out + 4, core.errPtr));
    const yp = core.u32[out >> 2], n = core.u32[(out >> 2) + 1];
    const y = core.f32.slice(yp >> 2, (yp >> 2) + n);
    m._wasm_free(yp);
    return y;
  } finally {
    core.free(sp);
    core.free(out);
  }
}

/** Streaming resampler: process() blocks of any size, then flush() once. */
export class Resampler {
  constructor(core, inRate, outRate) {
    this.core = core;
    this.ptr = checkPtr(core, core.mod._wasm_resampler_new(inRate, outRate, core.errPtr));
    this.cell = cells(core, 1);
  }

  #live() {
    if (!this.ptr) throw new ScribeError(9, 'bad_state: Resampler used after destroy()');
    return this.core.mod;
  }

  #run(samples, flush) {
    const m = this.#live();
    const core = this.core;
    const n = flush ? 0 : samples.length;
    const cap = (flush ? m._wasm_resampler_pending(this.ptr) : m._wasm_resampler_max_output(this.ptr, n)) >>> 0;
    const ip = flush ? 0 : core.copyInF32(samples);
    const op = core.malloc(Math.max(1, cap) * 4);
    try {
      const st = flush
        ? m._wasm_resampler_flush(this.ptr, op, cap, this.cell, core.errPtr)
        : m._wasm_resampler_process(this.ptr, ip, n, op, cap, this.cell, core.errPtr);
      core.check(st);
      const k = core.u32[this.cell >> 2];
      return core.f32.slice(op >> 2, (op >> 2) + k);
    } finally {
      core.free(ip);
      core.free(op);
    }
  }

  process(samples) { return this.#run(samples, false); }
  flush() { return this.#run(null, true); }

  destroy() {
    if (this.ptr) {
      this.core.mod._wasm_resampler_free(this.ptr);
      this.core.free(this.cell);
      this.ptr = 0;
    }
  }
}
