// Models and sessions on top of the WASM engine, for the web worker and the Node CLI.
// One Session type serves whole files and live input: feed blocks, take the final notes.
import { ScribeError } from './core.js';
import { notesFromC } from './music.js';

const KINDS = { 1: 'mt3', 2: 'acoustic' };

// Order matches wasm_params_set in src/wasm/bind_session.c.
const PARAM_FIELDS = [
  'inputSampleRate', 'maxDecodeTokens', 'fixedDecodeTokens', 'batchSegments',
  'onsetThreshold', 'frameThreshold', 'minNoteFrames', 'minFrequencyHz', 'maxFrequencyHz',
  'inferOnsets', 'melodiaTrick', 'pitchBends', 'energyTolerance', 'streamNotes', 'maxPendingSeconds',
];

export class Model {
  /** Parses a weights file. The bytes are copied into the engine and owned by the model. */
  static load(core, bytes) {
    const buf = core.copyIn(bytes);
    const ptr = core.mod._wasm_model_load(buf, bytes.byteLength ?? bytes.length, core.errPtr);
    if (!ptr) {
      core.free(buf);
      core.check(core.mod._wasm_error_code(core.errPtr) || 4);
    }
    return new Model(core, ptr, buf);
  }

  constructor(core, ptr, buf) {
    this.core = core;
    this.ptr = ptr;
    this.buf = buf;
    this.kind = KINDS[core.mod._wasm_model_kind(ptr)] ?? 'unknown';
    this.sampleRate = core.mod._wasm_model_sample_rate(ptr);
  }

  describe() { this.#alive(); return this.core.readCString(this.core.mod._wasm_model_describe(this.ptr)); }

  free() {
    if (!this.ptr) return;
    this.core.mod._wasm_model_free(this.ptr);
    this.core.free(this.buf);
    this.ptr = 0;
  }

  #alive() { if (!this.ptr) throw new ScribeError(9, 'the model was freed'); }
}

export class Session {
  /** params: {inputSampleRate, onsetThreshold, frameThreshold, minNoteFrames, ...} (see PARAM_FIELDS). */
  constructor(core, model, params = {}) {
    if (!model.ptr) throw new ScribeError(9, 'the model was freed');
    this.core = core;
    this.model = model;
    const m = core.mod;
    const pp = m._wasm_params_new();
    if (!pp) throw new ScribeError(2, 'out of memory');
    try {
      for (const [key, value] of Object.entries(params)) {
        if (value === undefined || value === null) continue;
        const field = PARAM_FIELDS.indexOf(key);
        if (field < 0) throw new ScribeError(1, `unknown session parameter '${key}'`);
        const v = typeof value === 'boolean' ? Number(value) : Number(value);
        if (!Number.isFinite(v)) throw new ScribeError(1, `session parameter '${key}' is not a number: ${value}`);
        m._wasm_params_set(pp, field, v);
      }
      this.ptr = m._wasm_session_new(model.ptr, pp, core.errPtr);
      if (!this.ptr) core.check(m._wasm_error_code(core.errPtr) || 1);
    } finally {
      core.free(pp);
    }
    this.notesPtr = m._wasm_notes_new();
    this.blockCap = 0;
    this.blockPtr = 0;
  }

  /** Feeds mono samples at params.inputSampleRate; runs every segment that became complete. */
  feed(samples) {
    this.#alive();
    const n = samples.length;
    if (!n) return;
    if (n > this.blockCap) {
      this.core.free(this.blockPtr);
      this.blockPtr = this.core.malloc(n * 4);
      this.blockCap = n;
    }
    this.core.f32.set(samples, this.blockPtr >> 2);
    this.core.check(this.core.mod._wasm_session_feed(this.ptr, this.blockPtr, n, this.core.errPtr));
  }

  finish() { this.#alive(); this.core.check(this.core.mod._wasm_session_finish(this.ptr, this.core.errPtr)); }

  /** Notes that can no longer change, since the last call. */
  takeNotes() {
    this.#alive();
    const m = this.core.mod;
    m._wasm_notes_clear(this.notesPtr);
    this.core.check(m._wasm_session_take(this.ptr, this.notesPtr, this.core.errPtr));
    return notesFromC(this.core, this.notesPtr);
  }

  cancel() { if (this.ptr) this.core.mod._wasm_session_cancel(this.ptr); }
  get secondsDone() { return this.ptr ? this.core.mod._wasm_session_seconds_done(this.ptr) : 0; }
  get secondsFed() { return this.ptr ? this.core.mod._wasm_session_seconds_fed(this.ptr) : 0; }

  free() {
    if (!this.ptr) return;
    const m = this.core.mod;
    m._wasm_session_free(this.ptr);
    m._wasm_notes_free(this.notesPtr);
    this.core.free(this.blockPtr);
    this.ptr = 0;
  }

  #alive() { if (!this.ptr) throw new ScribeError(9, 'the session was freed'); }
}

/**
 * Whole-audio transcription: feeds `samples` in blocks, reporting progress
 * (seconds done, total seconds) between blocks. `shouldCancel()` may return true to stop.
 */
export function transcribe(core, model, samples, sampleRate, params = {}, { onProgress, onNotes, shouldCancel, blockSeconds = 5 } = {}) {
  const session = new Session(core, model, { ...params, inputSampleRate: sampleRate });
  const notes = [];
  try {
    const block = Math.max(1, Math.round(blockSeconds * sampleRate));
    const total = samples.length / sampleRate;
    for (let i = 0; i < samples.length; i += block) {
      if (shouldCancel?.()) { session.cancel(); throw new ScribeError(8, 'transcription cancelled'); }
      session.feed(samples.subarray(i, Math.min(samples.length, i + block)));
      const fresh = session.takeNotes();
      if (fresh.length) { notes.push(...fresh); onNotes?.(fresh); }
      onProgress?.(session.secondsDone, total);
    }
    session.finish();
    const rest = session.takeNotes();
    if (rest.length) { notes.push(...rest); onNotes?.(rest); }
    onProgress?.(total, total);
  } finally {
    session.free();
  }
  notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  return notes;
}
