// A small Web Audio synthesiser for listening to transcriptions. One voice per GM family
// group: piano, plucked, bass, sustained and drums. Notes are scheduled a little ahead of
// time by a timer, so an hour of notes never creates an hour of audio nodes at once.
//
//   const synth = new Synth(audioContext, destinationNode);
//   synth.start(notes, fromSeconds, atContextTime); synth.stop();

import { noteInfo } from './instruments.js';

const LOOKAHEAD = 0.6;   // seconds scheduled ahead
const TICK_MS = 100;

export class Synth {
  constructor(ctx, destination) {
    this.ctx = ctx;
    this.out = ctx.createDynamicsCompressor();
    this.out.threshold.value = -14;
    this.out.ratio.value = 6;
    this.gain = ctx.createGain();
    this.gain.gain.value = 0.6;
    this.out.connect(this.gain).connect(destination);
    this.noise = makeNoise(ctx);
    this.active = new Set();
    this.timer = null;
  }

  /** Plays `notes` (sorted or not) from `from` seconds, with time `from` at context time `at`. */
  start(notes, from, at) {
    this.stop();
    this.notes = notes.slice().sort((a, b) => a.onset - b.onset);
    this.from = from;
    this.at = at;
    this.next = lowerBound(this.notes, from - 0.01);
    // Notes already sounding at `from` start immediately (shortened).
    const sounding = this.notes.slice(0, this.next).filter((n) => n.offset > from + 0.05 && !n.isDrum);
    for (const n of sounding) this.voice({ ...n, onset: from }, at);
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  tick() {
    const horizon = this.from + (this.ctx.currentTime - this.at) + LOOKAHEAD;
    while (this.next < this.notes.length && this.notes[this.next].onset < horizon) {
      const n = this.notes[this.next++];
      this.voice(n, this.at + (n.onset - this.from));
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const now = this.ctx.currentTime;
    for (const v of this.active) {
      try {
        v.env.gain.cancelScheduledValues(now);
        v.env.gain.setTargetAtTime(0, now, 0.01);
        for (const s of v.sources) s.stop(now + 0.05);
      } catch { /* already stopped */ }
    }
    this.active.clear();
  }

  voice(n, when) {
    const ctx = this.ctx;
    const t = Math.max(when, ctx.currentTime);
    const dur = Math.max(0.05, n.offset - n.onset - (t - when));
    const vel = Math.min(1, Math.max(0.05, (n.velocity ?? 80) / 127));
    const kind = noteInfo(n).voice;
    const env = ctx.createGain();
    env.gain.value = 0;
    env.connect(this.out);
    const v = { env, sources: [] };
    if (kind === 'drums') this.drum(n.pitch, t, vel, v);
    else this.tone(kind, n, t, dur, vel, v);
    this.active.add(v);
    const last = v.sources[0];
    if (last) last.onended = () => { this.active.delete(v); env.disconnect(); };
  }

  tone(kind, n, t, dur, vel, v) {
    const ctx = this.ctx;
    const f = 440 * 2 ** ((n.pitch - 69) / 12);
    const g = v.env.gain;
    const filter = ctx.createBiquadFilter();
    filter.type = 'lowpass';
    filter.connect(v.env);
    const oscs = [];
    const add = (type, detune, level) => {
      const o = ctx.createOscillator();
      o.type = type;
      o.frequency.value = f;
      o.detune.value = detune;
      const og = ctx.createGain();
      og.gain.value = level;
      o.connect(og).connect(filter);
      oscs.push(o);
    };
    let release = 0.08, end;
    const peak = 0.32 * vel;
    if (kind === 'piano') {
      add('triangle', -3, 0.7); add('sine', 3, 0.5); add('square', 0, 0.06);
      filter.frequency.setValueAtTime(Math.min(12000, f * 8), t);
      filter.frequency.exponentialRampToValueAtTime(Math.min(8000, f * 3), t + 1.5);
      const decay = Math.max(0.4, 2.6 - (n.pitch - 40) * 0.03);
      g.setValueAtTime(0, t);
      g.linearRampToValueAtTime(peak, t + 0.005);
      g.setTargetAtTime(peak * 0.25, t + 0.005, decay / 3);
      end = t + dur;
      release = 0.12;
    } else if (kind === 'plucked') {
      add('sawtooth', 0, 0.5); add('triangle', 5, 0.4);
      filter.frequency.setValueAtTime(Math.min(14000, f * 12), t);
      filter.frequency.setTargetAtTime(f * 1.5, t, 0.12);
      g.setValueAtTime(0, t);
      g.linearRampToValueAtTime(peak, t + 0.003);
      g.setTargetAtTime(0, t + 0.003, 0.5);
      end = t + Math.min(dur, 3);
      release = 0.06;
    } else if (kind === 'bass') {
      add('sine', 0, 0.8); add('square', 0, 0.15); add('sine', 1200, 0.1);
      filter.frequency.value = Math.min(2000, f * 6);
      g.setValueAtTime(0, t);
      g.linearRampToValueAtTime(peak * 1.2, t + 0.01);
      g.setTargetAtTime(peak * 0.7, t + 0.01, 0.3);
      end = t + dur;
    } else { // sustained
      add('sawtooth', -6, 0.35); add('sawtooth', 6, 0.35); add('sine', 0, 0.4);
      filter.frequency.value = Math.min(9000, f * 5);
      filter.Q.value = 0.7;
      g.setValueAtTime(0, t);
      g.linearRampToValueAtTime(peak * 0.8, t + 0.04);
      end = t + dur;
      release = 0.15;
    }
    g.setTargetAtTime(0, end, release / 3);
    for (const o of oscs) {
      for (const b of n.bends ?? []) {
        const bt = t + (b.time - n.onset);
        if (bt >= t && bt <= end) o.detune.setValueAtTime(o.detune.value + b.semitones * 100, bt);
      }
      o.start(t);
      o.stop(end + release * 3 + 0.05);
    }
    v.sources.push(...oscs);
  }

  drum(pitch, t, vel, v) {
    const ctx = this.ctx;
    const g = v.env.gain;
    const peak = 0.5 * vel;
    const noise = (type, freq, decay, level) => {
      const src = ctx.createBufferSource();
      src.buffer = this.noise;
      const f = ctx.createBiquadFilter();
      f.type = type; f.frequency.value = freq;
      const ng = ctx.createGain();
      ng.gain.setValueAtTime(level * peak, t);
      ng.gain.setTargetAtTime(0, t, decay);
      src.connect(f).connect(ng).connect(v.env);
      src.start(t, Math.random() * 0.5);
      src.stop(t + decay * 6 + 0.05);
      v.sources.push(src);
    };
    const tone = (f0, f1, decay, level) => {
      const o = ctx.createOscillator();
      o.frequency.setValueAtTime(f0, t);
      o.frequency.exponentialRampToValueAtTime(f1, t + decay);
      const og = ctx.createGain();
      og.gain.setValueAtTime(level * peak, t);
      og.gain.setTargetAtTime(0, t, decay / 2);
      o.connect(og).connect(v.env);
      o.start(t);
      o.stop(t + decay * 4 + 0.05);
      v.sources.push(o);
    };
    g.setValueAtTime(1, t);
    if (pitch === 35 || pitch === 36) tone(150, 45, 0.12, 1.4);
    else if (pitch === 38 || pitch === 40 || pitch === 37 || pitch === 39) { tone(220, 160, 0.05, 0.6); noise('bandpass', 2500, 0.06, 1.0); }
    else if (pitch === 42 || pitch === 44) noise('highpass', 8000, 0.02, 0.7);
    else if (pitch === 46) noise('highpass', 7000, 0.12, 0.6);
    else if ([41, 43, 45, 47, 48, 50].includes(pitch)) tone(80 + (pitch - 41) * 20, 60 + (pitch - 41) * 12, 0.15, 1.0);
    else if ([49, 51, 52, 53, 55, 57, 59].includes(pitch)) noise('highpass', 5000, 0.35, 0.5);
    else noise('bandpass', 1500 + pitch * 20, 0.05, 0.6);
  }
}

function makeNoise(ctx) {
  const len = ctx.sampleRate;
  const buf = ctx.createBuffer(1, len, ctx.sampleRate);
  const d = buf.getChannelData(0);
  let seed = 12345;
  for (let i = 0; i < len; i++) { seed = (seed * 1103515245 + 12345) >>> 0; d[i] = seed / 2147483648 - 1; }
  return buf;
}

function lowerBound(notes, t) {
  let lo = 0, hi = notes.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (notes[m].onset < t) lo = m + 1; else hi = m; }
  return lo;
}
