// scribe engine worker (module worker). Loads the WASM engine and the models, runs one
// transcription session at a time, and posts progress and notes back. The page never runs
// the engine itself.
//
// Messages in (from the page):
//   {type:'init'}
//   {type:'load-model', id}
//   {type:'start', job, mode:'file'|'live', modelId, sampleRate, settings, totalSeconds,
//                  ring?: {sab, capacity}, port?: MessagePort}
//   {type:'chunk', job, samples: Float32Array}       (file mode; page waits for 'need')
//   {type:'end', job}                                (file mode: no more audio)
//   {type:'stop', job}                               (live mode: the take ends)
//   {type:'cancel', job}
//   (stop and cancel may come while the job still waits for its model: they are kept and
//    honoured once it is loaded; a start overtaken by a later start is cancelled)
//   {type:'export', reqId, format:'midi'|'csv', notes}
// Messages out:
//   {type:'ready', models, engine}  {type:'fatal', message}
//   {type:'model', id, kind, sampleRate, description}
//   {type:'progress', job, secondsDone, secondsFed, notes, elapsedMs}
//   {type:'preview', job, from, notes}   (live: provisional notes replacing those from `from` s on)
//   {type:'need', job}
//   {type:'done', job, notes, secondsDone, elapsedMs, wav?}   (wav: a live take with sound)
//   {type:'cancelled', job}  {type:'error', job?, reqId?, message}
//   {type:'exported', reqId, format, data}

const ENGINE = new URL('./engine/', import.meta.url);
const WEIGHTS = new URL('./weights/', import.meta.url);

let core = null;
let sessionApi = null;   // engine/session.js module
let musicApi = null;     // engine/music.js module
let manifest = [];
const models = new Map(); // id -> Promise<{model, kind, sampleRate, description}>
let job = null;           // the running job
// Jobs whose start waits for their model, by id: null, or 'stop' / 'cancel' when the page asked
// for that meanwhile (the job does not exist yet, so the request is kept until it would).
const waiting = new Map();
let starts = 0;           // start messages received; a start overtaken by a later one never runs

const absNow = () => performance.timeOrigin + performance.now();
const post = (msg, transfer) => self.postMessage(msg, transfer ?? []);

async function optionalImport(name) {
  try {
    return await import(new URL(name, ENGINE).href);
  } catch (e) {
    return { __missing: `${name}: ${e.message}` };
  }
}

async function init() {
  const coreApi = await import(new URL('core.js', ENGINE).href);
  core = await coreApi.loadScribe({ moduleUrl: new URL('../scribe.mjs', ENGINE).href });
  sessionApi = await optionalImport('session.js');
  musicApi = await optionalImport('music.js');
  const res = await fetch(new URL('models.json', WEIGHTS));
  if (!res.ok) throw new Error(`weights/models.json: HTTP ${res.status}`);
  manifest = (await res.json()).models ?? [];
  post({
    type: 'ready',
    models: manifest,
    engine: {
      session: !sessionApi.__missing, music: !musicApi.__missing, wasm: core.wasmFile,
      missing: [sessionApi.__missing, musicApi.__missing].filter(Boolean),
    },
  });
}

function loadModel(id) {
  if (models.has(id)) return models.get(id);
  const p = (async () => {
    if (sessionApi.__missing) throw new Error(`the engine has no sessions yet (${sessionApi.__missing})`);
    const entry = manifest.find((m) => m.id === id);
    if (!entry) throw new Error(`unknown model ${JSON.stringify(id)}`);
    const res = await fetch(new URL(entry.file, WEIGHTS));
    if (!res.ok) throw new Error(`weights/${entry.file}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const model = await sessionApi.Model.load(core, bytes);
    const describe = typeof model.describe === 'function' ? model.describe() : String(model.describe ?? '');
    return { model, kind: model.kind, sampleRate: model.sampleRate, description: describe };
  })();
  models.set(id, p);
  p.catch(() => models.delete(id));
  return p;
}

/** Settings from the page (sensitivities in 0..1, minimum note length in ms) to session options. */
function sessionOptions(settings, sampleRate, modelInfo, live = false) {
  const s = settings ?? {};
  const opts = { inputSampleRate: sampleRate };
  if (modelInfo.kind === 'acoustic') {
    if (Number.isFinite(s.onsetSensitivity)) opts.onsetThreshold = clamp(1 - s.onsetSensitivity, 0.05, 0.95);
    if (Number.isFinite(s.frameSensitivity)) opts.frameThreshold = clamp(1 - s.frameSensitivity, 0.05, 0.95);
    if (Number.isFinite(s.minNoteMs)) {
      const frameSec = 256 / (modelInfo.sampleRate || 22050);
      opts.minNoteFrames = Math.max(1, Math.round(s.minNoteMs / 1000 / frameSec));
    }
  }
  // MT3 decodes several complete segments together (one weight read serves all); a live take
  // has only one at a time, and waiting for a batch would delay its notes by seconds.
  if (modelInfo.kind === 'mt3' && live) opts.batchSegments = 1;
  return opts;
}
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

const readProp = (obj, name) => (typeof obj[name] === 'function' ? obj[name]() : obj[name]);

function plainNotes(list) {
  return (list ?? []).map((n) => ({
    onset: n.onset, offset: n.offset, pitch: n.pitch, velocity: n.velocity,
    program: n.program ?? 0, isDrum: !!n.isDrum, bends: runEnds(n.bends ?? []),
  }));
}

/** Bend points without the inside of runs of equal values: the same curve whether read as
 * steps (MIDI) or as lines (the roll), with far fewer objects for the page to hold. */
function runEnds(bends) {
  if (bends.length < 3) return bends;
  const out = [bends[0]];
  for (let i = 1; i < bends.length - 1; i++) {
    const v = bends[i].semitones;
    if (v !== bends[i - 1].semitones || v !== bends[i + 1].semitones) out.push(bends[i]);
  }
  out.push(bends[bends.length - 1]);
  return out;
}

class Job {
  constructor(msg, info) {
    this.id = msg.job;
    this.mode = msg.mode;
    this.sampleRate = msg.sampleRate;
    this.totalSeconds = msg.totalSeconds ?? 0;
    this.info = info;
    this.options = sessionOptions(msg.settings, msg.sampleRate, info, msg.mode === 'live');
    // Acoustic sessions hand out final notes at each quiet stretch (streamNotes), so notes show
    // up while a file is still being read (3-minute file: first notes after 1.3 s instead of at
    // the end; same notes and onset F1 on the dev clip in the e2e test). Live takes add previews.
    const stream = info.kind === 'acoustic' ? { streamNotes: 1 } : {};
    this.session = new sessionApi.Session(core, info.model, { ...this.options, ...stream });
    this.finalUpTo = 0;        // live: notes before this time (s) are final
    this.started = performance.now();
    this.fed = 0;              // input samples fed
    this.cancelled = false;
    this.finished = false;
    // live mode
    this.arrivals = [];        // [endSample, absTime] per block read, for latency
    this.take = [];            // Int16Array chunks of the recorded take
    this.lastPost = 0;
    this.pending = [];         // notes not yet posted (live, throttled)
  }

  feed(samples) {
    this.session.feed(samples);
    this.fed += samples.length;
  }

  takeNotes() {
    return plainNotes(this.session.takeNotes());
  }

  secondsDone() { return Number(readProp(this.session, 'secondsDone')) || 0; }

  free() {
    try { this.session.free(); } catch { /* already freed */ }
  }
}

async function start(msg) {
  if (job) stopJob(job, true);
  const seq = ++starts;
  waiting.set(msg.job, null);
  let info, asked;
  try {
    info = await loadModel(msg.modelId);
  } finally {
    asked = waiting.get(msg.job);
    waiting.delete(msg.job);
  }
  // Cancelled, or replaced by a later start (the page moves on only after cancelling), while
  // the model loaded: the job never starts.
  if (asked === 'cancel' || seq !== starts) {
    post({ type: 'cancelled', job: msg.job });
    return;
  }
  if (job) stopJob(job, true); // a job that started while this one waited
  const j = new Job(msg, info);
  job = j;
  if (msg.mode === 'live') {
    startLive(j, msg);
    // Stopped while the model loaded: the take is what the capture buffered meanwhile.
    if (asked === 'stop') onStop({ job: j.id });
  } else {
    post({ type: 'need', job: j.id });
  }
}

function onChunk(msg) {
  const j = job;
  if (!j || j.id !== msg.job || j.cancelled) return;
  try {
    j.feed(msg.samples);
    const notes = j.takeNotes();
    post({ type: 'progress', job: j.id, secondsDone: j.secondsDone(), secondsFed: j.fed / j.sampleRate,
      notes, elapsedMs: performance.now() - j.started });
    post({ type: 'need', job: j.id });
  } catch (e) {
    fail(j, e);
  }
}

function onEnd(msg) {
  const j = job;
  if (!j || j.id !== msg.job || j.cancelled) return;
  try {
    j.session.finish();
    const notes = j.takeNotes();
    // Hand long lists over in slices so the page never spends long on one message.
    const SLICE = 500;
    while (notes.length > SLICE) {
      post({ type: 'progress', job: j.id, secondsDone: j.fed / j.sampleRate, secondsFed: j.fed / j.sampleRate,
        notes: notes.splice(0, SLICE), elapsedMs: performance.now() - j.started });
    }
    post({ type: 'done', job: j.id, notes, secondsDone: j.fed / j.sampleRate, elapsedMs: performance.now() - j.started });
  } catch (e) {
    fail(j, e);
    return;
  }
  j.free();
  job = null;
}

function fail(j, e) {
  post({ type: 'error', job: j.id, message: e?.message ?? String(e) });
  stopJob(j, false);
}

function stopJob(j, cancelled) {
  j.cancelled = true;
  if (j.stopLive) j.stopLive();
  try { j.session.cancel?.(); } catch { /* not running */ }
  j.free();
  if (job === j) job = null;
  if (cancelled) post({ type: 'cancelled', job: j.id });
}

// ------------------------------------------------------------------ live input

const MIN_FEED = 512; // samples per feed at least (about 11 ms at 48 kHz)
// Live preview: the acoustic take's session hands out final notes only at quiet stretches (its
// note creation looks at the whole input), so meanwhile a short one-shot session over the last
// PREVIEW_SECONDS runs every PREVIEW_HOP seconds and its notes are shown as provisional. The
// first PREVIEW_EDGE seconds of each window only warm it up; notes there are kept from earlier
// windows. The take's own session still produces the final notes when recording stops.
// 1.45 s fits the acoustic model's first 2 s window (with its 0.17 s of leading padding), so a
// preview costs one network window.
const PREVIEW_SECONDS = 1.45;
const PREVIEW_HOP = 0.2;
const PREVIEW_EDGE = 0.35;

function startLive(j, msg) {
  const consume = (samples) => {
    if (j.cancelled || j.finished) return;
    j.arrivals.push([j.fed + samples.length, absNow()]);
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
    j.take.push(pcm);
    try {
      j.feed(samples);
      const notes = j.takeNotes();
      for (const n of notes) j.finalUpTo = Math.max(j.finalUpTo, n.offset);
      if (j.info.kind === 'acoustic') preview(j, samples);
      const now = absNow();
      for (const n of notes) {
        n.capturedAt = arrivalOf(j, n.onset * j.sampleRate);
        n.emittedAt = now;
      }
      j.pending.push(...notes);
      if (now - j.lastPost > 50 || j.pending.length) {
        post({ type: 'progress', job: j.id, secondsDone: j.secondsDone(), secondsFed: j.fed / j.sampleRate,
          notes: j.pending, elapsedMs: performance.now() - j.started, finalUpTo: j.finalUpTo,
          droppedSeconds: (j.dropped?.() ?? 0) / j.sampleRate });
        j.pending = [];
        j.lastPost = now;
      }
      // Drop arrival records older than a minute of audio.
      if (j.arrivals.length > 4096) {
        const keepFrom = j.fed - 60 * j.sampleRate;
        j.arrivals = j.arrivals.filter(([end]) => end >= keepFrom);
      }
    } catch (e) {
      fail(j, e);
    }
  };

  if (msg.ring) {
    const { sab, capacity } = msg.ring;
    const head = new Int32Array(sab, 0, 4);       // [write, read, dropped, closed]
    const data = new Float32Array(sab, 16, capacity);
    let stopped = false;
    j.stopLive = () => { stopped = true; Atomics.store(head, 3, 1); Atomics.notify(head, 0); };
    const drain = () => {
      const w = Atomics.load(head, 0);
      let r = Atomics.load(head, 1);
      const avail = (w - r) >>> 0;
      if (avail === 0) return 0;
      const out = new Float32Array(avail);
      const start = (r >>> 0) % capacity;
      const first = Math.min(avail, capacity - start);
      out.set(data.subarray(start, start + first), 0);
      if (first < avail) out.set(data.subarray(0, avail - first), first);
      r = (r + avail) | 0;
      Atomics.store(head, 1, r);
      consume(out);
      return avail;
    };
    j.drain = drain;
    j.dropped = () => Atomics.load(head, 2);
    const loop = async () => {
      while (!stopped) {
        const w = Atomics.load(head, 0);
        const r = Atomics.load(head, 1);
        if (((w - r) >>> 0) >= MIN_FEED) { drain(); continue; }
        if (Atomics.waitAsync) {
          const res = Atomics.waitAsync(head, 0, w, 100);
          if (res.async) await res.value;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    };
    loop();
  } else if (msg.port) {
    let buf = [];
    let count = 0;
    msg.port.onmessage = (e) => {
      if (!(e.data instanceof Float32Array)) return;
      buf.push(e.data);
      count += e.data.length;
      if (count >= MIN_FEED) {
        const out = new Float32Array(count);
        let o = 0;
        for (const b of buf) { out.set(b, o); o += b.length; }
        buf = []; count = 0;
        consume(out);
      }
    };
    j.stopLive = () => { msg.port.onmessage = null; msg.port.close(); };
  }
}

function preview(j, samples) {
  j.recent ??= [];
  j.recentLen ??= 0;
  j.sincePreview ??= 0;
  j.recent.push(samples);
  j.recentLen += samples.length;
  const keep = Math.round(PREVIEW_SECONDS * j.sampleRate);
  while (j.recentLen - j.recent[0].length >= keep) j.recentLen -= j.recent.shift().length;
  j.sincePreview += samples.length;
  // Adaptive hop: previews may use at most about two thirds of real time, whatever the machine.
  const hop = Math.max(PREVIEW_HOP, 1.5 * (j.previewMs ?? 0) / 1000);
  if (j.sincePreview < hop * j.sampleRate) return;
  j.sincePreview = 0;
  const t0 = performance.now();
  const len = Math.min(keep, j.recentLen);
  const win = new Float32Array(len);
  let o = len;
  for (let i = j.recent.length - 1; i >= 0 && o > 0; i--) {
    const c = j.recent[i];
    const n = Math.min(o, c.length);
    win.set(c.subarray(c.length - n), o - n);
    o -= n;
  }
  const start = (j.fed - len) / j.sampleRate;
  const s = new sessionApi.Session(core, j.info.model, j.options);
  let notes;
  try {
    s.feed(win);
    s.finish();
    notes = plainNotes(s.takeNotes());
  } finally {
    s.free();
  }
  j.previewMs = performance.now() - t0;
  const from = Math.max(start > 0 ? start + PREVIEW_EDGE : 0, j.finalUpTo);
  const now = absNow();
  const out = [];
  for (const n of notes) {
    n.onset += start; n.offset += start;
    for (const b of n.bends) b.time += start;
    if (n.onset < from) continue;
    n.capturedAt = arrivalOf(j, n.onset * j.sampleRate);
    n.emittedAt = now;
    out.push(n);
  }
  post({ type: 'preview', job: j.id, from, notes: out, computeMs: j.previewMs });
}

function arrivalOf(j, sample) {
  const a = j.arrivals;
  let lo = 0, hi = a.length - 1, ans = a.length ? a[a.length - 1][1] : absNow();
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid][0] > sample) { ans = a[mid][1]; hi = mid - 1; } else lo = mid + 1;
  }
  return ans;
}

function onStop(msg) {
  const j = job;
  if (!j || j.id !== msg.job) {
    if (waiting.has(msg.job) && waiting.get(msg.job) !== 'cancel') waiting.set(msg.job, 'stop');
    return;
  }
  if (j.drain) j.drain();
  j.finished = true;
  if (j.stopLive) j.stopLive();
  try {
    if (j.fed > 0) j.session.finish();
    const notes = j.fed > 0 ? j.takeNotes() : [];
    const now = absNow();
    for (const n of notes) { n.capturedAt = arrivalOf(j, n.onset * j.sampleRate); n.emittedAt = now; n.afterStop = true; }
    const wav = j.fed > 0 ? encodeWav(j.take, j.sampleRate) : undefined; // no sound, nothing to play back
    post({ type: 'done', job: j.id, notes: [...j.pending, ...notes], secondsDone: j.fed / j.sampleRate,
      elapsedMs: performance.now() - j.started, wav }, wav ? [wav] : []);
  } catch (e) {
    fail(j, e);
    return;
  }
  j.free();
  job = null;
}

/** 16-bit PCM mono WAV of the recorded take, for listening back to the original. */
function encodeWav(chunks, rate) {
  const frames = chunks.reduce((s, c) => s + c.length, 0);
  const buf = new ArrayBuffer(44 + frames * 2);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); v.setUint32(4, 36 + frames * 2, true); str(8, 'WAVE');
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  str(36, 'data'); v.setUint32(40, frames * 2, true);
  const out = new Int16Array(buf, 44, frames);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return buf;
}

// ------------------------------------------------------------------ export

function exportNotes(msg) {
  if (musicApi.__missing) throw new Error(`the engine cannot write ${msg.format.toUpperCase()} yet (${musicApi.__missing})`);
  const notes = plainNotes(msg.notes);
  if (msg.format === 'midi') {
    const bytes = musicApi.notesToMidi(core, notes);
    const copy = new Uint8Array(bytes); // own buffer, transferable
    post({ type: 'exported', reqId: msg.reqId, format: 'midi', data: copy }, [copy.buffer]);
  } else if (msg.format === 'csv') {
    post({ type: 'exported', reqId: msg.reqId, format: 'csv', data: musicApi.notesToCsv(core, notes) });
  } else {
    throw new Error(`unknown export format ${JSON.stringify(msg.format)}`);
  }
}

// ------------------------------------------------------------------ dispatch

let ready = null;
self.onmessage = async (e) => {
  const msg = e.data;
  try {
    if (msg.type === 'init') {
      ready = init();
      await ready;
      return;
    }
    await ready;
    switch (msg.type) {
      case 'load-model': {
        const info = await loadModel(msg.id);
        post({ type: 'model', id: msg.id, kind: info.kind, sampleRate: info.sampleRate, description: info.description });
        break;
      }
      case 'start':
        try { await start(msg); } catch (err) { post({ type: 'error', job: msg.job, message: err.message ?? String(err) }); }
        break;
      case 'chunk': onChunk(msg); break;
      case 'end': onEnd(msg); break;
      case 'stop': onStop(msg); break;
      case 'cancel':
        if (job && job.id === msg.job) stopJob(job, true);
        else if (waiting.has(msg.job)) waiting.set(msg.job, 'cancel'); // answered once its model is in
        else post({ type: 'cancelled', job: msg.job });
        break;
      case 'export': exportNotes(msg); break;
      default: throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
    }
  } catch (err) {
    if (msg.type === 'init') post({ type: 'fatal', message: err.message ?? String(err) });
    else post({ type: 'error', reqId: msg.reqId, job: msg.job, message: err.message ?? String(err) });
  }
};
