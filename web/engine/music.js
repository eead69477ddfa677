// Notes, CSV, MIDI and metrics on top of the engine (web/engine/core.js).
// Notes are plain objects:
//   { onset, offset, pitch, velocity, program, isDrum, bends: [{ time, semitones }] }
// (seconds, MIDI pitch 0..127, velocity 1..127, General MIDI program 0..127).
// notesToC / notesFromC / withNotes copy note arrays into and out of a C scribe_notes;
// other modules (sessions) reuse them.

const NOTE_SIZE = 40; // sizeof(scribe_note) in wasm32
const BEND_SIZE = 16; // sizeof(scribe_bend)
const EVAL_RESULT_SIZE = 264;
const PRF_FIELDS = ['onset', 'onset_offset', 'onset_offset_velocity', 'frame',
  'multi_flat', 'multi_midi_class', 'multi_full', 'drum_onset'];

function checkLayout(core) {
  if (core._musicLayoutChecked) return;
  const m = core.mod;
  if (m._wasm_note_size() !== NOTE_SIZE || m._wasm_bend_size() !== BEND_SIZE ||
      m._wasm_eval_result_size() !== EVAL_RESULT_SIZE) {
    throw new Error('scribe engine struct layout does not match web/engine/music.js');
  }
  core._musicLayoutChecked = true;
}

function num(v, what, i) {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new TypeError(`note ${i}: ${what} ${v} is not a finite number`);
  return x;
}

/** Allocates a C scribe_notes holding `notes`; free it with freeNotesC. */
export function notesToC(core, notes) {
  checkLayout(core);
  if (!Array.isArray(notes)) throw new TypeError('notes must be an array');
  const m = core.mod;
  const list = m._wasm_notes_new();
  if (!list) throw new Error('out of memory allocating a note list');
  const noteBuf = core.malloc(NOTE_SIZE);
  let bendBuf = 0;
  let bendCap = 0;
  try {
    for (let i = 0; i < notes.length; i++) {
      const n = notes[i];
      const bends = Array.isArray(n.bends) ? n.bends : [];
      const f64 = core.f64;
      const i32 = core.i32;
      f64[noteBuf >> 3] = num(n.onset, 'onset', i);
      f64[(noteBuf >> 3) + 1] = num(n.offset, 'offset', i);
      i32[(noteBuf >> 2) + 4] = num(n.pitch, 'pitch', i) | 0;
      i32[(noteBuf >> 2) + 5] = num(n.velocity ?? 100, 'velocity', i) | 0;
      i32[(noteBuf >> 2) + 6] = num(n.program ?? 0, 'program', i) | 0;
      i32[(noteBuf >> 2) + 7] = n.isDrum ? 1 : 0;
      i32[(noteBuf >> 2) + 8] = 0;
      i32[(noteBuf >> 2) + 9] = 0;
      if (bends.length > bendCap) {
        core.free(bendBuf);
        bendCap = Math.max(bends.length, 2 * bendCap);
        bendBuf = core.malloc(bendCap * BEND_SIZE);
      }
      if (bends.length) {
        const bf64 = core.f64;
        const bf32 = core.f32;
        for (let k = 0; k < bends.length; k++) {
          const p = bendBuf + k * BEND_SIZE;
          bf64[p >> 3] = num(bends[k].time, 'bend time', i);
          bf32[(p >> 2) + 2] = num(bends[k].semitones, 'bend semitones', i);
        }
      }
      core.check(m._wasm_notes_push(list, noteBuf, bends.length ? bendBuf : 0, bends.length, core.errPtr));
    }
  } catch (e) {
    m._wasm_notes_free(list);
    throw e;
  } finally {
    core.free(noteBuf);
    core.free(bendBuf);
  }
  return list;
}

export function freeNotesC(core, list) {
  if (list) core.mod._wasm_notes_free(list);
}

/** Reads a C scribe_notes into plain note objects. */
export function notesFromC(core, list) {
  checkLayout(core);
  const m = core.mod;
  const count = m._wasm_notes_count(list);
  const base = m._wasm_notes_data(list);
  const bendBase = m._wasm_notes_bends(list);
  const f64 = core.f64;
  const i32 = core.i32;
  const u32 = core.u32;
  const f32 = core.f32;
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const p = base + i * NOTE_SIZE;
    const bendIndex = u32[(p >> 2) + 8];
    const bendCount = u32[(p >> 2) + 9];
    const bends = [];
    for (let k = 0; k < bendCount; k++) {
      const q = bendBase + (bendIndex + k) * BEND_SIZE;
      bends.push({ time: f64[q >> 3], semitones: f32[(q >> 2) + 2] });
    }
    out[i] = {
      onset: f64[p >> 3],
      offset: f64[(p >> 3) + 1],
      pitch: i32[(p >> 2) + 4],
      velocity: i32[(p >> 2) + 5],
      program: i32[(p >> 2) + 6],
      isDrum: i32[(p >> 2) + 7] !== 0,
      bends,
    };
  }
  return out;
}

/** Runs fn(listPtr) with `notes` copied into a C list, freed afterwards. */
export function withNotes(core, notes, fn) {
  const list = notesToC(core, notes);
  try {
    return fn(list);
  } finally {
    freeNotesC(core, list);
  }
}

/** Runs fn(listPtr) on an empty C list and returns its notes afterwards. */
function intoNotes(core, fn) {
  const list = core.mod._wasm_notes_new();
  if (!list) throw new Error('out of memory allocating a note list');
  try {
    fn(list);
    return notesFromC(core, list);
  } finally {
    freeNotesC(core, list);
  }
}

/** Calls a C writer `fn(list, outPtrPtr, outLenPtr, err)` and returns the bytes it produced. */
function takeBuffer(core, list, fn) {
  const slots = core.malloc(8);
  try {
    core.u32[slots >> 2] = 0;
    core.check(fn(list, slots, slots + 4, core.errPtr));
    const p = core.u32[slots >> 2];
    const len = core.u32[(slots >> 2) + 1];
    const bytes = core.copyOut(p, len);
    core.mod._wasm_free(p);
    return bytes;
  } finally {
    core.free(slots);
  }
}

export function notesToMidi(core, notes) {
  return withNotes(core, notes, (list) => takeBuffer(core, list, core.mod._wasm_midi_write));
}

export function midiToNotes(core, bytes) {
  const p = core.copyIn(bytes);
  const len = bytes.byteLength ?? bytes.length;
  try {
    return intoNotes(core, (list) => core.check(core.mod._wasm_midi_read(p, len, list, core.errPtr)));
  } finally {
    core.free(p);
  }
}

export function notesToCsv(core, notes) {
  const bytes = withNotes(core, notes, (list) => takeBuffer(core, list, core.mod._wasm_notes_write_csv));
  return new TextDecoder().decode(bytes);
}

export function csvToNotes(core, text) {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
  const p = core.copyIn(bytes);
  try {
    return intoNotes(core, (list) => core.check(core.mod._wasm_notes_read_csv(p, bytes.length, list, core.errPtr)));
  } finally {
    core.free(p);
  }
}

function paramsToC(core, params) {
  const p = core.malloc(40);
  core.mod._wasm_eval_default_params(p);
  const keys = ['onsetTolerance', 'offsetRatio', 'offsetMinTolerance', 'velocityTolerance', 'frameRate'];
  keys.forEach((k, i) => {
    if (params && params[k] !== undefined) core.f64[(p >> 3) + i] = Number(params[k]);
  });
  return p;
}

/**
 * mir_eval-compatible metrics (see src/music/metrics.c for the exact definitions).
 * Returns a plain object with snake_case keys: onset_*, onset_offset_*,
 * onset_offset_velocity_*, frame_*, multi_instrument_* (midi_class granularity),
 * multi_instrument_flat_*, multi_instrument_full_*, drum_onset_*, *_overlap, ref_notes, est_notes.
 */
export function evaluate(core, ref, est, params = {}) {
  checkLayout(core);
  return withNotes(core, ref, (r) => withNotes(core, est, (e) => {
    const pp = paramsToC(core, params);
    const res = core.malloc(EVAL_RESULT_SIZE);
    try {
      core.check(core.mod._wasm_evaluate(r, e, pp, res, core.errPtr));
      const f64 = core.f64;
      const prf = {};
      PRF_FIELDS.forEach((name, k) => {
        const b = (res >> 3) + 4 * k;
        prf[name] = { precision: f64[b], recall: f64[b + 1], f1: f64[b + 2], overlap: f64[b + 3] };
      });
      const out = {};
      const put = (key, v, withOverlap) => {
        out[`${key}_precision`] = v.precision;
        out[`${key}_recall`] = v.recall;
        out[`${key}_f1`] = v.f1;
        if (withOverlap) out[`${key}_overlap`] = v.overlap;
      };
      put('onset', prf.onset, true);
      put('onset_offset', prf.onset_offset, true);
      put('onset_offset_velocity', prf.onset_offset_velocity, true);
      put('frame', prf.frame, false);
      put('multi_instrument', prf.multi_midi_class, false);
      put('multi_instrument_flat', prf.multi_flat, false);
      put('multi_instrument_full', prf.multi_full, false);
      put('drum_onset', prf.drum_onset, false);
      out.ref_notes = core.u32[(res >> 2) + 64];
      out.est_notes = core.u32[(res >> 2) + 65];
      return out;
    } finally {
      core.free(pp);
      core.free(res);
    }
  }));
}

/** Onset-only P/R/F1 (drums excluded) at each tolerance: [{tolerance, precision, recall, f1}]. */
export function onsetSweep(core, ref, est, tolerances) {
  return withNotes(core, ref, (r) => withNotes(core, est, (e) => {
    const t = core.malloc(8 * tolerances.length);
    const out = core.malloc(32 * tolerances.length);
    try {
      core.f64.set(tolerances.map(Number), t >> 3);
      core.check(core.mod._wasm_evaluate_onset_sweep(r, e, t, tolerances.length, out, core.errPtr));
      const f64 = core.f64;
      return tolerances.map((tol, k) => ({
        tolerance: tol, precision: f64[(out >> 3) + 4 * k], recall: f64[(out >> 3) + 4 * k + 1],
        f1: f64[(out >> 3) + 4 * k + 2],
      }));
    } finally {
      core.free(t);
      core.free(out);
    }
  }));
}
