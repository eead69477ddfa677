// Downloads of the current notes: Standard MIDI File and CSV (written by the engine in the
// worker) and JSON (plain notes), each named after the input.

export function baseName(sourceName) {
  const name = (sourceName || 'transcription').replace(/\.[^./\\]+$/, '');
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').trim();
  return safe || 'transcription';
}

export function download(data, filename, type) {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Notes as JSON: the engine's note fields, rounded to microseconds. */
export function notesToJson(notes, meta = {}) {
  const round = (x) => Math.round(x * 1e6) / 1e6;
  return JSON.stringify({
    source: meta.source ?? null,
    model: meta.model ?? null,
    notes: notes.map((n) => ({
      onset: round(n.onset), offset: round(n.offset), pitch: n.pitch, velocity: n.velocity,
      program: n.program ?? 0, isDrum: !!n.isDrum,
      bends: (n.bends ?? []).map((b) => ({ time: round(b.time), semitones: Math.round(b.semitones * 1000) / 1000 })),
    })),
  }, null, 1);
}

export function exportMidi(bytes, sourceName) {
  download(bytes, `${baseName(sourceName)}.mid`, 'audio/midi');
}
export function exportCsv(text, sourceName) {
  download(text, `${baseName(sourceName)}.csv`, 'text/csv');
}
export function exportJson(notes, sourceName, meta) {
  download(notesToJson(notes, { source: sourceName, ...meta }), `${baseName(sourceName)}.json`, 'application/json');
}
