// scribe page: wires the controls, the engine worker, the microphone, the piano roll,
// playback and downloads. The engine itself runs in worker.js; this thread only decodes
// through the browser (decodeAudioData runs off the main thread), downmixes a few seconds at
// a time and hands them over.

import { PianoRoll } from './pianoroll.js';
import { Synth } from './synth.js';
import { exportMidi, exportCsv, exportJson } from './export.js';
import { pitchName, noteInfo, formatTime, drumName } from './instruments.js';

const $ = (id) => document.getElementById(id);
const CHUNK_SECONDS = 4;       // audio handed to the worker per message
const IN_FLIGHT = 2;           // chunks queued in the worker at most
const SETTINGS_KEY = 'scribe.settings.v1';
const DEFAULTS = { modelId: null, onsetSensitivity: 0.5, frameSensitivity: 0.7, minNoteMs: 130 };

/** Measurements anyone can read (the end-to-end tests print them). */
const stats = window.scribeStats = {
  longestTaskMs: 0, longTasks: 0, firstNoteMs: null, transcribeMs: null, audioSeconds: null,
  latenciesMs: [], previewMs: [], longTaskList: [], busy: [], crossOriginIsolated: self.crossOriginIsolated === true, captureMode: null,
};

const state = {
  models: [], modelInfo: new Map(), engine: null, ready: false, fatal: null, // fatal: why the engine never loaded
  job: 0, decodeToken: 0, running: null, source: null, duration: 0, originalUrl: null, nextId: 1,
  exports: new Map(), nextReq: 1,
};

// ------------------------------------------------------------------ settings

function loadSettings() {
  try { return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') }; } catch { return { ...DEFAULTS }; }
}
let settings = loadSettings();
function saveSettings() {
  try { localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings)); } catch { /* private mode */ }
}

function bindSettings() {
  const pairs = [['onset-sens', 'onsetSensitivity', (v) => v.toFixed(2)], ['frame-sens', 'frameSensitivity', (v) => v.toFixed(2)],
    ['min-note', 'minNoteMs', (v) => `${Math.round(v)} ms`]];
  for (const [id, key, fmt] of pairs) {
    const input = $(id), out = $(`${id}-out`);
    input.value = settings[key];
    out.textContent = fmt(Number(input.value));
    input.addEventListener('input', () => { out.textContent = fmt(Number(input.value)); });
    input.addEventListener('change', () => { settings[key] = Number(input.value); saveSettings(); });
  }
  $('model-select').addEventListener('change', (e) => {
    settings.modelId = e.target.value;
    saveSettings();
    describeModel();
    worker.postMessage({ type: 'load-model', id: settings.modelId });
  });
}

function describeModel() {
  const m = state.models.find((x) => x.id === settings.modelId);
  const info = state.modelInfo.get(settings.modelId);
  $('model-help').textContent = m?.description ?? '';
  $('model-help').title = info?.description ?? '';
  const acoustic = (info?.kind ?? m?.kind) !== 'mt3';
  for (const id of ['onset-sens', 'frame-sens', 'min-note']) $(id).disabled = !acoustic;
}

// ------------------------------------------------------------------ status

function setStatus(text) {
  const el = $('status');
  el.textContent = text;
  el.className = text.startsWith('error') ? 'error' : text === 'done' ? 'done' : '';
}

function updateCount() {
  $('note-count').textContent = String(roll.notes.length);
  const has = roll.notes.length > 0;
  for (const id of ['export-midi', 'export-csv', 'export-json']) $(id).disabled = !has || state.running?.mode === 'live';
  $('play').disabled = !(has || state.originalUrl) || !!state.running;
  scheduleLegend();
}

let legendPending = false;
function scheduleLegend() {
  if (legendPending) return;
  legendPending = true;
  requestAnimationFrame(() => {
    legendPending = false;
    const ul = $('legend');
    const items = roll.legend();
    // Models without instrument output (program 0 throughout) get one neutral entry.
    const kind = state.modelInfo.get(state.notesModel)?.kind;
    if (kind === 'acoustic' && items.length === 1 && items[0].key === 'family:0') {
      items[0] = { ...items[0], name: 'All notes — this model does not tell instruments apart' };
    }
    ul.replaceChildren(...items.map((it) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = it.color;
      li.append(sw, `${it.name} (${it.count})`);
      return li;
    }));
  });
}

// ------------------------------------------------------------------ piano roll

const roll = new PianoRoll($('roll'), {
  onSelect: showDetails,
  onChange: () => { updateCount(); if (player.playing) restartPlayback(); },
  onSeek: (t) => seek(t),
});

function showDetails(n) {
  $('nd-empty').hidden = !!n;
  $('nd-list').hidden = !n;
  $('nd-delete').hidden = !n;
  if (!n) return;
  $('nd-pitch').textContent = n.isDrum ? `${drumName(n.pitch)} (${n.pitch})` : `${pitchName(n.pitch)} (MIDI ${n.pitch})`;
  $('nd-onset').textContent = `${formatTime(n.onset, 3)}`;
  $('nd-length').textContent = `${Math.round((n.offset - n.onset) * 1000)} ms`;
  $('nd-velocity').textContent = String(n.velocity);
  const agnostic = state.modelInfo.get(state.notesModel)?.kind === 'acoustic';
  $('nd-instrument').textContent = n.isDrum ? 'Drums' : agnostic ? 'not identified by this model'
    : `${noteInfo(n).name} (program ${n.program + 1})`;
  const bends = n.bends ?? [];
  const maxBend = bends.reduce((m, b) => (Math.abs(b.semitones) > Math.abs(m) ? b.semitones : m), 0);
  $('nd-bend').textContent = bends.length ? `${maxBend > 0 ? '+' : ''}${maxBend.toFixed(2)} semitones at most` : 'none';
}

function addNotes(list) {
  if (!list?.length) return;
  for (const n of list) n.id = state.nextId++;
  roll.addNotes(list);
  updateCount();
}

function clearSource() {
  setOriginal(null);
  state.duration = 0;
  roll.setDuration(0);
  $('stats').textContent = '';
  $('time-display').textContent = formatTime(0, 1);
  updateCount();
}

function resetNotes() {
  roll.setNotes([]);
  roll.select(null);
  updateCount();
}

// ------------------------------------------------------------------ worker

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onerror = (e) => {
  const message = `the engine worker failed to start (${e.message ?? 'unknown error'})`;
  if (!state.ready) state.fatal = message;
  setStatus(`error: ${message}`);
};
worker.onmessage = (e) => {
  const m = e.data;
  switch (m.type) {
    case 'ready': onReady(m); break;
    case 'fatal':
      state.fatal = `the engine could not load: ${m.message}`;
      setStatus(`error: ${state.fatal}`);
      break;
    case 'model':
      state.modelInfo.set(m.id, m);
      describeModel();
      break;
    case 'need': onNeed(m); break;
    case 'progress': onProgress(m); break;
    case 'preview': onPreview(m); break;
    case 'done': onDone(m); break;
    case 'cancelled': break;
    case 'exported': state.exports.get(m.reqId)?.resolve(m.data); state.exports.delete(m.reqId); break;
    case 'error':
      if (m.reqId && state.exports.has(m.reqId)) { state.exports.get(m.reqId).reject(new Error(m.message)); state.exports.delete(m.reqId); }
      else if (m.job == null || m.job === state.running?.job) { finishRunning(); setStatus(`error: ${m.message}`); }
      break; // errors of cancelled jobs are stale
    default: break;
  }
};
worker.postMessage({ type: 'init' });

function onReady(m) {
  state.models = m.models;
  state.engine = m.engine;
  stats.wasm = m.engine.wasm; // scribe-relaxed.wasm (fused multiply-add) where relaxed SIMD validates
  state.ready = true;
  const sel = $('model-select');
  sel.replaceChildren(...m.models.map((x) => new Option(x.label, x.id)));
  if (!m.models.some((x) => x.id === settings.modelId)) settings.modelId = m.models[0]?.id ?? null;
  sel.value = settings.modelId ?? '';
  describeModel();
  if (settings.modelId) worker.postMessage({ type: 'load-model', id: settings.modelId });
  if (m.engine.missing.length) $('engine-info').textContent = `Engine incomplete: ${m.engine.missing.join('; ')}`;
  setStatus('ready');
}

// ------------------------------------------------------------------ file transcription

const PIECE_SECONDS = 30; // WAV files are decoded this much at a time

/**
 * Audio of a file as a sequence of AudioBuffers, decoded by the browser. WAV files are cut
 * into pieces of PIECE_SECONDS (each piece gets the file's own format chunk), so an hour-long
 * recording never sits in memory whole and no single decode blocks the page; other formats are
 * decoded in one go. Resolves to {sampleRate, duration, next()} where next() resolves to the
 * next AudioBuffer or null at the end.
 */
async function openAudio(file) {
  const wav = await wavLayout(file);
  if (!wav) {
    const ctx = new OfflineAudioContext(1, 1, 44100);
    let whole = await ctx.decodeAudioData(await file.arrayBuffer());
    return { sampleRate: whole.sampleRate, duration: whole.duration, next: async () => { const b = whole; whole = null; return b; } };
  }
  const ctx = new OfflineAudioContext(1, 1, Math.min(384000, Math.max(3000, wav.rate)));
  const per = Math.max(1, Math.round(PIECE_SECONDS * wav.rate)) * wav.blockAlign;
  let at = 0;
  const next = async () => {
    if (at >= wav.dataLength) return null;
    const n = Math.min(per, wav.dataLength - at);
    const body = await file.slice(wav.dataOffset + at, wav.dataOffset + at + n).arrayBuffer();
    at += n;
    const bytes = new Uint8Array(12 + wav.fmt.length + 8 + body.byteLength);
    const v = new DataView(bytes.buffer);
    bytes.set([0x52, 0x49, 0x46, 0x46], 0); v.setUint32(4, bytes.length - 8, true); bytes.set([0x57, 0x41, 0x56, 0x45], 8);
    bytes.set(wav.fmt, 12);
    const d = 12 + wav.fmt.length;
    bytes.set([0x64, 0x61, 0x74, 0x61], d); v.setUint32(d + 4, body.byteLength, true);
    bytes.set(new Uint8Array(body), d + 8);
    return ctx.decodeAudioData(bytes.buffer);
  };
  const first = await next(); // fails here (not later) for a WAV the browser cannot read
  let pending = first;
  return {
    sampleRate: first.sampleRate,
    duration: wav.dataLength / wav.blockAlign / wav.rate,
    next: async () => { if (pending) { const b = pending; pending = null; return b; } return next(); },
  };
}

/** Where a WAV file's format and samples are (null when it is not a plain RIFF WAV). */
async function wavLayout(file) {
  const head = await file.slice(0, 1 << 16).arrayBuffer();
  if (head.byteLength < 44) return null;
  const v = new DataView(head);
  if (v.getUint32(0, false) !== 0x52494646 || v.getUint32(8, false) !== 0x57415645) return null;
  let fmt = null;
  for (let off = 12; off + 8 <= head.byteLength;) {
    const id = v.getUint32(off, false), len = v.getUint32(off + 4, true);
    if (id === 0x666d7420) { // 'fmt '
      if (off + 8 + len > head.byteLength || len < 16) return null;
      fmt = new Uint8Array(head.slice(off, off + 8 + len + (len & 1)));
    } else if (id === 0x64617461) { // 'data'
      if (!fmt) return null;
      const fv = new DataView(fmt.buffer);
      const rate = fv.getUint32(12, true), blockAlign = fv.getUint16(20, true);
      if (!rate || !blockAlign) return null;
      const avail = file.size - (off + 8);
      let dataLength = len === 0 || len === 0xffffffff ? avail : Math.min(len, avail); // streamed WAVs
      dataLength -= dataLength % blockAlign;
      if (dataLength <= 0) return null;
      return { fmt, rate, blockAlign, dataOffset: off + 8, dataLength };
    }
    off += 8 + len + (len & 1);
  }
  return null;
}

/** Whether a file or a take can start now; if not, says why (a fatal engine error stays shown). */
function canStart() {
  if (state.fatal) setStatus(`error: ${state.fatal}`);
  else if (!state.ready) setStatus('error: the engine is still loading, try again in a moment');
  else if (!settings.modelId) setStatus('error: no model is available');
  else return true;
  return false;
}

async function transcribeFile(file) {
  if (!canStart()) return;
  // The file is decoded before anything is cleared: one the browser cannot read as audio (an
  // exported .mid, a text file) leaves the current notes, source and any running job alone.
  const t0 = performance.now();
  setStatus('decoding');
  const token = ++state.decodeToken;
  let audio;
  try {
    audio = await openAudio(file);
  } catch (e) {
    if (token === state.decodeToken) setStatus(`error: cannot decode “${file.name}”: this browser cannot read that file as audio`);
    return;
  }
  if (token !== state.decodeToken) return; // another file or a take was chosen meanwhile
  if (!(audio.duration > 0)) { setStatus(`error: “${file.name}” contains no audio`); return; }
  cancelRunning();
  stopPlayback();
  resetNotes();
  clearSource();
  state.source = file.name;
  state.notesModel = settings.modelId;
  $('source-name').textContent = file.name;
  $('source-name').title = file.name;
  setOriginal(URL.createObjectURL(file));
  state.duration = audio.duration;
  roll.setDuration(audio.duration);
  const job = ++state.job;
  state.running = { job, mode: 'file', audio, buffer: null, pos: 0, inflight: 1, ended: false, pumping: false,
    t0, started: performance.now(), total: audio.duration, gotFirst: false };
  stats.firstNoteMs = null; stats.transcribeMs = null; stats.audioSeconds = audio.duration;
  performance.mark('scribe:file-start');
  showProgress(true);
  setBusy(true);
  setStatus('transcribing');
  worker.postMessage({ type: 'start', job, mode: 'file', modelId: settings.modelId, sampleRate: audio.sampleRate,
    settings: { ...settings }, totalSeconds: audio.duration });
}

function onNeed(m) {
  const r = state.running;
  if (!r || r.job !== m.job || r.mode !== 'file' || r.ended) return;
  r.inflight = Math.max(0, r.inflight - 1);
  pump(r);
}

/** Keeps IN_FLIGHT chunks of mono audio queued in the worker, decoding pieces as needed. */
async function pump(r) {
  if (r.pumping) return;
  r.pumping = true;
  try {
    while (r.inflight < IN_FLIGHT && state.running === r) {
      if (!r.buffer || r.pos >= r.buffer.length) {
        r.buffer = null;
        let b;
        try {
          b = await r.audio.next();
        } catch (e) {
          if (state.running === r) { cancelRunning(); setStatus(`error: cannot decode the rest of “${state.source}”`); }
          return;
        }
        if (state.running !== r) return;
        if (!b) break;
        r.buffer = b;
        r.pos = 0;
        continue;
      }
      const a = r.buffer;
      const n = Math.min(Math.round(CHUNK_SECONDS * a.sampleRate), a.length - r.pos);
      const out = new Float32Array(n);
      const chs = a.numberOfChannels;
      for (let c = 0; c < chs; c++) {
        const d = a.getChannelData(c).subarray(r.pos, r.pos + n);
        if (chs === 1) out.set(d);
        else for (let i = 0; i < n; i++) out[i] += d[i];
      }
      if (chs > 1) for (let i = 0; i < n; i++) out[i] /= chs;
      r.pos += n;
      r.inflight++;
      worker.postMessage({ type: 'chunk', job: r.job, samples: out }, [out.buffer]);
    }
    if (!r.buffer && r.inflight === 0 && !r.ended && state.running === r) {
      r.ended = true;
      r.audio = null;
      worker.postMessage({ type: 'end', job: r.job });
      $('progress-text').textContent = 'finishing…';
    }
  } finally {
    r.pumping = false;
  }
}

function onProgress(m) {
  const r = state.running;
  if (!r || r.job !== m.job) return;
  if (m.notes?.length && !r.gotFirst) {
    r.gotFirst = true;
    stats.firstNoteMs = performance.now() - r.t0;
    performance.mark('scribe:first-note');
  }
  if (r.mode === 'live') return onLiveProgress(r, m);
  addNotes(m.notes);
  const done = Math.min(r.total, m.secondsDone || m.secondsFed || 0);
  $('progress').value = r.total ? done / r.total : 0;
  const elapsed = (performance.now() - r.started) / 1000;
  const left = done > 0.5 ? (elapsed / done) * (r.total - done) : null;
  $('progress-text').textContent = `${formatTime(done, 0)} of ${formatTime(r.total, 0)}` +
    (left != null ? ` · about ${formatTime(left, 0)} left` : '');
}

function onDone(m) {
  const r = state.running;
  if (!r || r.job !== m.job) return;
  if (r.mode === 'live') return onLiveDone(r, m);
  if (m.notes?.length && !r.gotFirst) { stats.firstNoteMs = performance.now() - r.t0; performance.mark('scribe:first-note'); }
  addNotes(m.notes);
  stats.transcribeMs = performance.now() - r.t0;
  stats.busy.push(['file', Math.round(r.t0), Math.round(performance.now())]);
  const speed = r.total / (stats.transcribeMs / 1000);
  $('stats').textContent = `${roll.notes.length} notes from ${formatTime(r.total, 1)} of audio in ${(stats.transcribeMs / 1000).toFixed(1)} s ` +
    `(${speed.toFixed(1)}× real time); first notes after ${((stats.firstNoteMs ?? stats.transcribeMs) / 1000).toFixed(2)} s.`;
  finishRunning();
  setStatus('done');
}

function finishRunning() {
  const r = state.running;
  state.running = null;
  if (r?.mode === 'live') teardownMic(r);
  showProgress(false);
  $('live-line').hidden = true;
  setBusy(false);
  roll.endLive();
  updateCount();
}

function cancelRunning() {
  const r = state.running;
  if (!r) return;
  worker.postMessage({ type: 'cancel', job: r.job });
  finishRunning();
}

function showProgress(on) {
  $('progress-line').hidden = !on;
  if (on) { $('progress').value = 0; $('progress-text').textContent = 'starting…'; }
}

function setBusy(busy) {
  $('record').disabled = busy;
  $('stop').disabled = !(busy && state.running?.mode === 'live');
  $('record').classList.toggle('active', busy && state.running?.mode === 'live');
  $('model-select').disabled = busy;
}

// ------------------------------------------------------------------ microphone

async function startRecording() {
  if (!canStart()) return;
  stopPlayback();
  // Record is off from the first click (a second click or a double click during the permission
  // prompt starts nothing), and a file chosen meanwhile takes this token: the microphone is then
  // released as soon as it answers and the file's transcription stays.
  const token = ++state.decodeToken;
  $('record').disabled = true;
  setStatus('starting microphone');
  let stream = null, ctx = null;
  const superseded = () => token !== state.decodeToken;
  const giveUp = () => {
    stream?.getTracks().forEach((t) => t.stop());
    ctx?.close();
    $('record').disabled = !!state.running;
  };
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
    if (superseded()) { giveUp(); return; }
    ctx = new AudioContext({ latencyHint: 'interactive' });
    await ctx.audioWorklet.addModule(new URL('./worklet.js', import.meta.url));
  } catch (e) {
    giveUp();
    if (!superseded()) setStatus(`error: no microphone: ${e.message}`);
    return;
  }
  if (superseded()) { giveUp(); return; }
  cancelRunning();
  resetNotes();
  clearSource();
  state.notesModel = settings.modelId;
  state.source = `recording ${new Date().toISOString().slice(0, 16).replace('T', ' ').replace(':', 'h')}`;
  $('source-name').textContent = state.source;
  setOriginal(null);
  const src = ctx.createMediaStreamSource(stream);
  let ring = null;
  // ?capture=port forces the message-port path (what browsers without isolation get).
  const forcePort = new URLSearchParams(location.search).get('capture') === 'port';
  if (!forcePort && self.crossOriginIsolated && typeof SharedArrayBuffer === 'function') {
    const capacity = 1 << 18; // about 5 s at 48 kHz
    ring = { sab: new SharedArrayBuffer(16 + capacity * 4), capacity };
  }
  stats.captureMode = ring ? 'shared ring buffer' : 'message port';
  const node = new AudioWorkletNode(ctx, 'scribe-capture', {
    numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: ring ? { ring } : {},
  });
  const mute = ctx.createGain();
  mute.gain.value = 0;
  src.connect(node).connect(mute).connect(ctx.destination);
  let port = null;
  if (!ring) {
    const ch = new MessageChannel();
    node.port.postMessage({ port: ch.port1 }, [ch.port1]);
    port = ch.port2;
  }
  const job = ++state.job;
  state.running = { job, mode: 'live', ctx, stream, node, src, t0: performance.now(), started: performance.now(), gotFirst: false, fed: 0 };
  stats.latenciesMs = [];
  stats.previewMs = [];
  stats.firstNoteMs = null;
  worker.postMessage({ type: 'start', job, mode: 'live', modelId: settings.modelId, sampleRate: ctx.sampleRate,
    settings: { ...settings }, ring, port }, port ? [port] : []);
  $('live-line').hidden = false;
  $('latency').textContent = '–';
  $('live-transport').textContent = ring ? '' : '(compatibility capture)';
  setBusy(true);
  $('stop').focus();
  roll.follow(0);
  setStatus('recording');
  const tick = () => {
    if (state.running !== null && state.running.job === job) {
      const t = (performance.now() - state.running.started) / 1000;
      $('live-time').textContent = formatTime(t, 0);
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
}

function onLiveProgress(r, m) {
  r.fed = m.secondsFed;
  countLatency(r, m.notes ?? []);
  if (m.finalUpTo > (r.finalUpTo ?? 0)) { r.finalUpTo = m.finalUpTo; roll.clearPreview(m.finalUpTo); }
  addNotes(m.notes);
  roll.follow(m.secondsFed);
  showLatency();
  const behind = (performance.now() - r.started) / 1000 - m.secondsFed;
  $('live-transport').textContent = m.droppedSeconds > 0
    ? `this computer is too slow: ${m.droppedSeconds.toFixed(1)} s of sound skipped`
    : behind > 1.5 ? `catching up (${behind.toFixed(1)} s behind)` : (stats.captureMode === 'message port' ? '(compatibility capture)' : '');
}

function onPreview(m) {
  const r = state.running;
  if (!r || r.job !== m.job || r.mode !== 'live') return;
  if (stats.previewMs.length < 2000) stats.previewMs.push(Math.round(m.computeMs));
  countLatency(r, m.notes);
  for (const n of m.notes) n.id = state.nextId++;
  if (m.notes.length && !r.gotFirst) { r.gotFirst = true; stats.firstNoteMs = performance.now() - r.t0; }
  roll.replacePreview(m.from, m.notes);
  updateCount();
  showLatency();
}

/** Latency counts the first time a note is shown, not its updates in later previews. */
function countLatency(r, notes) {
  const now = performance.timeOrigin + performance.now();
  r.seen ??= new Set();
  for (const n of notes) {
    const key = `${n.pitch}@${Math.round(n.onset * 10)}`;
    if (!r.seen.has(key) && n.capturedAt) { r.seen.add(key); stats.latenciesMs.push(now - n.capturedAt); }
  }
}

function showLatency() {
  if (!stats.latenciesMs.length) return;
  const recent = stats.latenciesMs.slice(-20).sort((a, b) => a - b);
  const med = recent[recent.length >> 1];
  $('latency').textContent = `${(med / 1000).toFixed(2)} s`;
  $('latency').title = `median of the last ${recent.length} notes, from the audio block holding the note's start to the note on screen`;
}

function stopRecording() {
  const r = state.running;
  if (!r || r.mode !== 'live') return;
  r.node.port.postMessage({ stop: true });
  r.stream.getTracks().forEach((t) => t.stop());
  worker.postMessage({ type: 'stop', job: r.job });
  $('stop').disabled = true;
  setStatus('finishing');
}

function onLiveDone(r, m) {
  stats.busy.push(['live', Math.round(r.t0), Math.round(performance.now())]);
  roll.clearPreview();
  addNotes(m.notes);
  const dur = m.secondsDone || r.fed || 0;
  state.duration = dur;
  roll.setDuration(dur);
  if (m.wav) setOriginal(URL.createObjectURL(new Blob([m.wav], { type: 'audio/wav' })));
  const lat = stats.latenciesMs.slice().sort((a, b) => a - b);
  $('stats').textContent = `${roll.notes.length} notes from a ${formatTime(dur, 1)} take` +
    (lat.length ? `; sound to note: median ${(lat[lat.length >> 1] / 1000).toFixed(2)} s, worst ${(lat[lat.length - 1] / 1000).toFixed(2)} s (${stats.captureMode}).` : '.');
  finishRunning();
  roll.fit();
  setStatus('done');
}

function teardownMic(r) {
  try { r.node.port.postMessage({ stop: true }); } catch { /* closed */ }
  r.stream?.getTracks().forEach((t) => t.stop());
  try { r.src.disconnect(); r.node.disconnect(); } catch { /* already */ }
  r.ctx?.close();
}

// ------------------------------------------------------------------ playback

const audioEl = $('original-audio');
// gen: bumped by every start and stop, so a start still waiting (for the audio context or the
// original's play()) gives up when a pause, seek or newer start came meanwhile.
const player = { ctx: null, synth: null, playing: false, from: 0, at: 0, useAudioClock: false, raf: 0, pos: 0, gen: 0 };

function setOriginal(url) {
  stopPlayback();
  if (state.originalUrl) URL.revokeObjectURL(state.originalUrl);
  state.originalUrl = url;
  if (url) audioEl.src = url; else audioEl.removeAttribute('src');
  player.pos = 0;
  roll.setPlayhead(null);
  const orig = [$('mode-original'), $('mode-mix')];
  for (const el of orig) el.disabled = !url;
  if (!url && !$('mode-notes').checked) $('mode-notes').checked = true;
}

function ensureAudio() {
  if (player.ctx) return;
  const ctx = new AudioContext({ latencyHint: 'playback' });
  player.ctx = ctx;
  player.notesGain = ctx.createGain();
  player.notesGain.connect(ctx.destination);
  player.synth = new Synth(ctx, player.notesGain);
  player.origGain = ctx.createGain();
  ctx.createMediaElementSource(audioEl).connect(player.origGain).connect(ctx.destination);
}

const playMode = () => document.querySelector('input[name=play-mode]:checked')?.value ?? 'notes';

async function startPlayback(from = player.pos) {
  ensureAudio();
  const ctx = player.ctx;
  const gen = ++player.gen;
  await ctx.resume();
  if (gen !== player.gen) return;
  const mode = playMode();
  const useOrig = mode !== 'notes' && !!state.originalUrl;
  player.notesGain.gain.value = mode === 'original' ? 0 : mode === 'mix' ? 0.7 : 1;
  player.origGain.gain.value = useOrig ? (mode === 'mix' ? 0.8 : 1) : 0;
  player.useAudioClock = useOrig;
  player.playing = true;
  $('play').textContent = '❚❚ Pause';
  if (useOrig) {
    audioEl.currentTime = from;
    try {
      await audioEl.play();
    } catch (e) {
      // A pause before play() settled rejects it with AbortError: that is no error.
      if (gen !== player.gen) return;
      if (e.name !== 'AbortError') setStatus(`error: cannot play the original: ${e.message}`);
      stopPlayback();
      return;
    }
    if (gen !== player.gen) return;
    from = audioEl.currentTime;
  }
  player.from = from;
  player.at = ctx.currentTime + (useOrig ? 0 : 0.05);
  if (mode !== 'original') player.synth.start(roll.notes, from, player.at);
  const end = Math.max(state.duration, ...roll.notes.slice(-30).map((n) => n.offset));
  const frame = () => {
    if (!player.playing) return;
    const t = currentTime();
    player.pos = t;
    roll.setPlayhead(t);
    $('time-display').textContent = formatTime(t, 1);
    if (t > end + 0.3 || (useOrig && audioEl.ended && mode === 'original')) { stopPlayback(); player.pos = 0; return; }
    player.raf = requestAnimationFrame(frame);
  };
  player.raf = requestAnimationFrame(frame);
}

function currentTime() {
  if (player.useAudioClock && !audioEl.paused) return audioEl.currentTime;
  return player.from + Math.max(0, player.ctx.currentTime - player.at);
}

function stopPlayback() {
  player.gen++;
  if (!player.playing) return;
  player.pos = currentTime();
  player.playing = false;
  cancelAnimationFrame(player.raf);
  player.synth?.stop();
  audioEl.pause();
  $('play').textContent = '▶ Play';
}

function restartPlayback() {
  const t = currentTime();
  stopPlayback();
  startPlayback(t);
}

function seek(t) {
  player.pos = t;
  roll.setPlayhead(t);
  $('time-display').textContent = formatTime(t, 1);
  if (player.playing) { stopPlayback(); startPlayback(t); }
}

// ------------------------------------------------------------------ export

function engineExport(format) {
  const reqId = state.nextReq++;
  return new Promise((resolve, reject) => {
    state.exports.set(reqId, { resolve, reject });
    worker.postMessage({ type: 'export', reqId, format, notes: roll.notes.map(stripNote) });
  });
}
const stripNote = (n) => ({ onset: n.onset, offset: n.offset, pitch: n.pitch, velocity: n.velocity, program: n.program,
  isDrum: n.isDrum, bends: n.bends ?? [] });

async function onExport(format) {
  try {
    // The model that made the notes, not the menu's current choice.
    if (format === 'json') exportJson(roll.notes.map(stripNote), state.source, { model: state.notesModel ?? null });
    else if (format === 'midi') exportMidi(await engineExport('midi'), state.source);
    else exportCsv(await engineExport('csv'), state.source);
  } catch (e) {
    setStatus(`error: export failed: ${e.message}`);
  }
}

// ------------------------------------------------------------------ service worker

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.register('sw.js').then((reg) => {
    const offer = (w) => {
      if (!w || !navigator.serviceWorker.controller) return;
      $('update-banner').hidden = false;
      $('update-reload').onclick = () => {
        reloading = true;
        w.postMessage({ type: 'skip-waiting' });
      };
    };
    if (reg.waiting) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => { if (w.state === 'installed') offer(w); });
    });
  }).catch((e) => console.warn('service worker not registered:', e.message));
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (reloading) location.reload(); });
}

// ------------------------------------------------------------------ wiring

function bindUi() {
  bindSettings();
  const input = $('file-input');
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) transcribeFile(f);
    input.value = '';
  });
  const zone = $('drop-zone');
  document.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) zone.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer?.files?.[0];
    if (f) transcribeFile(f);
  });
  $('cancel').addEventListener('click', () => { cancelRunning(); setStatus('cancelled'); });
  $('record').addEventListener('click', startRecording);
  $('stop').addEventListener('click', stopRecording);
  $('play').addEventListener('click', () => (player.playing ? stopPlayback() : startPlayback()));
  for (const r of document.querySelectorAll('input[name=play-mode]')) {
    r.addEventListener('change', () => { if (player.playing) restartPlayback(); });
  }
  $('zoom-in').addEventListener('click', () => roll.zoom(1.5));
  $('zoom-out').addEventListener('click', () => roll.zoom(1 / 1.5));
  $('zoom-fit').addEventListener('click', () => roll.fit());
  $('export-midi').addEventListener('click', () => onExport('midi'));
  $('export-csv').addEventListener('click', () => onExport('csv'));
  $('export-json').addEventListener('click', () => onExport('json'));
  $('nd-delete').addEventListener('click', () => { roll.deleteSelected(); $('roll').focus(); });
  document.addEventListener('keydown', (e) => {
    const tag = e.target?.tagName;
    if (e.key === ' ' && !['INPUT', 'SELECT', 'BUTTON', 'TEXTAREA', 'SUMMARY'].includes(tag) && !$('play').disabled) {
      e.preventDefault();
      if (player.playing) stopPlayback(); else startPlayback();
    }
  });
  setOriginal(null);
  updateCount();
}

if (typeof PerformanceObserver === 'function' && PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      stats.longTasks++;
      stats.longestTaskMs = Math.max(stats.longestTaskMs, e.duration);
      if (stats.longTaskList.length < 500) stats.longTaskList.push([Math.round(e.startTime), Math.round(e.duration)]);
    }
  }).observe({ type: 'longtask', buffered: true });
}

bindUi();
registerServiceWorker();
