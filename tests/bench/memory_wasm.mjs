// WASM heap and time of a long transcription (figures, not a test): a dev clip is looped (never
// materialised) and fed to a session in blocks of 4096 samples for MINUTES minutes; prints the
// heap size (HEAPU8.buffer.byteLength) after the run, the note count and the wall time.
//   node tests/bench/memory_wasm.mjs MODEL.scrb MINUTES [CLIP.wav] [--fixed-tokens N] [--batch N] [--stream-notes 1] [--max-pending S]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadEngine } from '../../bin/engine.mjs';
import { Model, Session } from '../../web/engine/session.js';

const root = new URL('../../', import.meta.url);
const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(k); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const fixed = Number(opt('--fixed-tokens') ?? 0), batch = Number(opt('--batch') ?? 0), streamNotes = Number(opt('--stream-notes') ?? 0);
const maxPending = opt('--max-pending');
const [modelPath, minutes = '1', clip = new URL('../shared/data/dev/vocadito-1.wav', root).pathname] = args;
if (!modelPath) { console.error('usage: memory_wasm.mjs MODEL.scrb MINUTES [CLIP.wav] [--fixed-tokens N] [--batch N]'); process.exit(2); }

/** 16-bit PCM mono WAV (the dev clips' format) to Float32Array. */
function readPcm16(path) {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV`);
  let p = 12, rate = 0, ch = 0, bits = 0;
  while (p + 8 <= b.length) {
    const id = b.toString('latin1', p, p + 4), size = b.readUInt32LE(p + 4);
    if (id === 'fmt ') { ch = b.readUInt16LE(p + 10); rate = b.readUInt32LE(p + 12); bits = b.readUInt16LE(p + 22); }
    if (id === 'data') {
      if (ch !== 1 || bits !== 16) throw new Error(`${path}: expected 16-bit mono, got ${bits}-bit ${ch} channels`);
      const n = Math.min(size, b.length - p - 8) >> 1, x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = b.readInt16LE(p + 8 + 2 * i) / 32768;
      return { samples: x, rate };
    }
    p += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

const core = await loadEngine('scribe.wasm');
const heap = () => core.mod.HEAPU8.buffer.byteLength;
const heap0 = heap();
const { samples, rate } = readPcm16(clip);
const model = Model.load(core, readFileSync(modelPath));
const params = { inputSampleRate: rate };
if (fixed > 0) params.fixedDecodeTokens = fixed;
if (batch > 0) params.batchSegments = batch;
if (streamNotes) params.streamNotes = streamNotes;
if (maxPending !== undefined) params.maxPendingSeconds = Number(maxPending);
const session = new Session(core, model, params);
const total = Math.round(Number(minutes) * 60 * rate), block = 4096;
let notes = 0, pos = 0, maxHeap = heap();
const t0 = performance.now();
for (let done = 0; done < total;) {
  const k = Math.min(block, total - done, samples.length - pos);
  session.feed(samples.subarray(pos, pos + k));
  notes += session.takeNotes().length;
  done += k;
  pos = (pos + k) % samples.length;
  if ((done & 0xfffff) < block) maxHeap = Math.max(maxHeap, heap());
}
session.finish();
notes += session.takeNotes().length;
const wall = (performance.now() - t0) / 1000;
maxHeap = Math.max(maxHeap, heap());
console.log(`model: ${model.describe()}`);
session.free();
model.free();
console.log(`audio_seconds: ${(total / rate).toFixed(1)}`);
console.log(`notes: ${notes}`);
console.log(`wall_seconds: ${wall.toFixed(2)}`);
console.log(`realtime_factor: ${(total / rate / wall).toFixed(1)}`);
console.log(`wasm_heap_mb: ${(maxHeap / 2 ** 20).toFixed(1)} (initial ${(heap0 / 2 ** 20).toFixed(1)})`);
