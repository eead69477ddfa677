// Runs the npm package @spotify/basic-pitch itself (TF.js graph model on @tensorflow/tfjs with the
// WASM backend) as the reference for the acoustic model's parity tests and benchmark.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MODEL_DIR = path.join(ROOT, 'node_modules/@spotify/basic-pitch/model');

let cached = null;

/** Loads tfjs with the wasm backend (SIMD, one thread) and the package; returns { tf, bp, model }. */
export async function loadReference() {
  if (cached) return cached;
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  wasm.setWasmPaths(wasmDir + '/', true);
  // Node's fetch cannot read files: serve the backend's .wasm from disk
  const platform = tf.env().platform;
  const origFetch = platform.fetch.bind(platform);
  platform.fetch = async (url, init) => {
    const u = String(url);
    if (u.startsWith(wasmDir)) {
      return new Response(fs.readFileSync(u), { headers: { 'content-type': 'application/wasm' } });
    }
    return origFetch(url, init);
  };
  wasm.setThreadsCount?.(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const bp = require('@spotify/basic-pitch');
  // pure tfjs has no file:// loader: hand loadGraphModel an IOHandler reading the package's files
  const handler = {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
      const bins = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(MODEL_DIR, p))));
      const all = Buffer.concat(bins);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
      };
    },
  };
  const model = await tf.loadGraphModel(handler);
  cached = { tf, bp, model, backend: tf.getBackend() };
  return cached;
}

/** Runs the package's BasicPitch.evaluateModel on 22050 Hz mono audio; returns the matrices. */
export async function referencePosteriorgrams(audio) {
  const { bp, model } = await loadReference();
  const basicPitch = new bp.BasicPitch(Promise.resolve(model));
  const frames = [], onsets = [], contours = [];
  await basicPitch.evaluateModel(
    audio,
    (f, o, c) => {
      frames.push(...f);
      onsets.push(...o);
      contours.push(...c);
    },
    () => {},
  );
  return { frames, onsets, contours };
}

/** The package's note creation with explicit settings (scribe_session_params names). */
export async function referenceNotes({ frames, onsets, contours }, p) {
  const { bp } = await loadReference();
  const notes = bp.outputToNotesPoly(
    frames.map((r) => r.slice()),
    onsets.map((r) => r.slice()),
    p.onset_threshold,
    p.frame_threshold,
    p.min_note_frames,
    !!p.infer_onsets,
    p.max_frequency_hz > 0 ? p.max_frequency_hz : null,
    p.min_frequency_hz > 0 ? p.min_frequency_hz : null,
    !!p.melodia_trick,
    p.energy_tolerance,
  );
  const withBends = p.pitch_bends ? bp.addPitchBendsToNoteEvents(contours, notes) : notes;
  return { events: withBends, timed: bp.noteFramesToTime(withBends) };
}

/** Reads a 16-bit PCM WAV (the dev clips) as mono float32 {samples, rate}. */
export function readWav16(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV`);
  let off = 12, fmt = null;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4), len = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { ch: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.bits !== 16) throw new Error(`${file}: only 16-bit PCM is read here`);
      const n = Math.floor(len / 2 / fmt.ch);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < fmt.ch; c++) s += b.readInt16LE(off + 8 + 2 * (i * fmt.ch + c));
        out[i] = s / fmt.ch / 32768;
      }
      return { samples: out, rate: fmt.rate };
    }
    off += 8 + len + (len & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Loads our WASM engine and the acoustic weights: { core, model, Session, readNotes }. */
export async function loadEngine() {
  const { loadEngine: loadBuild } = await import(path.join(ROOT, 'bin/engine.mjs'));
  const session = await import(path.join(ROOT, 'web/engine/session.js'));
  const { notesFromC } = await import(path.join(ROOT, 'web/engine/music.js'));
  const core = await loadBuild('scribe.wasm');
  const model = session.Model.load(core, fs.readFileSync(path.join(ROOT, 'weights/basic-pitch.scrb')));
  return { core, model, ...session, readNotes: notesFromC };
}

/** Resamples with the engine's resampler (scribe_resample). */
export function engineResample(core, x, inRate, outRate) {
  const m = core.mod;
  const inp = core.copyInF32(x);
  const outPP = core.malloc(8);
  try {
    core.check(m._wasm_acoustic_resample(inp, x.length, inRate, outRate, outPP, outPP + 4, core.errPtr));
    const p = core.u32[outPP >> 2], n = core.u32[(outPP + 4) >> 2];
    const y = core.f32.slice(p >> 2, (p >> 2) + n);
    m._wasm_free(p);
    return y;
  } finally {
    core.free(inp);
    core.free(outPP);
  }
}

/** Our posteriorgrams through the session's windowing: {frames, onsets, contours (flat), n, flopsCqt, flopsConv}. */
export function enginePosteriorgrams(core, model, x) {
  const m = core.mod;
  const inp = core.copyInF32(x);
  const outs = core.malloc(12), nf = core.malloc(4), fl = core.malloc(32);
  try {
    core.check(m._wasm_acoustic_posteriorgrams(model.ptr, inp, x.length, outs, nf, fl, core.errPtr));
    const n = core.i32[nf >> 2];
    const [pc, pn, po] = [0, 1, 2].map((i) => core.u32[(outs >> 2) + i]);
    const res = {
      n,
      contours: core.f32.slice(pc >> 2, (pc >> 2) + n * 264),
      frames: core.f32.slice(pn >> 2, (pn >> 2) + n * 88),
      onsets: core.f32.slice(po >> 2, (po >> 2) + n * 88),
      flopsCqt: core.f64[fl >> 3],
      flopsConv: core.f64[(fl >> 3) + 1],
      secCqt: core.f64[(fl >> 3) + 2],
      secConv: core.f64[(fl >> 3) + 3],
    };
    for (const p of [pc, pn, po]) m._wasm_free(p);
    return res;
  } finally {
    for (const p of [inp, outs, nf, fl]) core.free(p);
  }
}

/** Our note creation on given posteriorgrams (rows of arrays or flat Float32Arrays). */
export function engineNotesFrom(core, { frames, onsets, contours }, n, params) {
  const m = core.mod;
  const flat = (a, w) => (a instanceof Float32Array ? a : Float32Array.from(a.flat()));
  const pf = core.copyInF32(flat(frames, 88)), po = core.copyInF32(flat(onsets, 88)), pc = core.copyInF32(flat(contours, 264));
  const pp = m._wasm_params_new();
  const list = m._wasm_notes_new();
  try {
    const fields = ['onsetThreshold', 'frameThreshold', 'minNoteFrames', 'minFrequencyHz', 'maxFrequencyHz',
      'inferOnsets', 'melodiaTrick', 'pitchBends', 'energyTolerance'];
    fields.forEach((k, i) => { if (params[k] !== undefined) m._wasm_params_set(pp, 4 + i, Number(params[k])); });
    core.check(m._wasm_acoustic_notes(pf, po, pc, n, pp, list, core.errPtr));
    return list;
  } finally {
    for (const p of [pf, po, pc, pp]) core.free(p);
  }
}

/** Package note events (frames) -> our note objects (seconds, velocity, bends in semitones). */
export function packageNotesToScribe(timed, events) {
  return timed.map((t, i) => ({
    onset: t.startTimeSeconds,
    offset: t.startTimeSeconds + t.durationSeconds,
    pitch: t.pitchMidi,
    amplitude: t.amplitude,
    startFrame: events[i].startFrame,
    durationFrames: events[i].durationFrames,
    bends: (t.pitchBends ?? []).map((b) => b / 3),
  }));
}

/** One-to-one note matching (same pitch, onset within 50 ms, offset within max(50 ms, 0.2 * duration));
 * returns {f1, matches: [[i, j]]}. Greedy by onset distance. */
export function matchNotes(ref, est) {
  const pairs = [];
  for (let i = 0; i < ref.length; i++)
    for (let j = 0; j < est.length; j++) {
      const r = ref[i], e = est[j];
      if (r.pitch !== e.pitch) continue;
      const dOn = Math.abs(r.onset - e.onset);
      const tolOff = Math.max(0.05, 0.2 * (r.offset - r.onset));
      if (dOn <= 0.05 && Math.abs(r.offset - e.offset) <= tolOff) pairs.push([dOn, i, j]);
    }
  pairs.sort((a, b) => a[0] - b[0]);
  const usedR = new Set(), usedE = new Set(), matches = [];
  for (const [, i, j] of pairs) {
    if (usedR.has(i) || usedE.has(j)) continue;
    usedR.add(i);
    usedE.add(j);
    matches.push([i, j]);
  }
  const p = est.length ? matches.length / est.length : 0, r = ref.length ? matches.length / ref.length : 0;
  return { f1: p + r > 0 ? (2 * p * r) / (p + r) : 0, matches, precision: p, recall: r };
}
