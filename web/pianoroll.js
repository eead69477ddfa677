// Canvas piano roll: time ruler, keyboard, zoom and scroll, notes coloured by instrument,
// pitch bends, selection, moving and deleting notes, and a playhead.
//
//   const roll = new PianoRoll(canvas, {onSelect(note|null), onChange(notes), onSeek(t)});
//   roll.setNotes(notes) / roll.addNotes(notes); roll.setDuration(sec); roll.setPlayhead(sec);
//   roll.follow(sec)  keeps `sec` in view (live recording)
// Notes are the engine's plain objects plus a numeric `id` the page assigns.

import { noteInfo, isBlackKey, pitchName, formatTime, stepDecimals, instrumentKey, instrumentInfo } from './instruments.js';

const KEY_W = 52;
const RULER_H = 24;
const MIN_PX_PER_SEC = 2;
const MAX_PX_PER_SEC = 2000;

export class PianoRoll {
  constructor(canvas, { onSelect, onChange, onSeek } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onSelect = onSelect ?? (() => {});
    this.onChange = onChange ?? (() => {});
    this.onSeek = onSeek ?? (() => {});
    this.notes = [];
    this.duration = 0;
    this.t0 = 0;               // time at the left edge of the note area
    this.pxPerSec = 60;
    this.autoFit = true;       // zoom follows the duration until the user zooms
    this.lo = 48; this.hi = 84; // visible pitch range (inclusive)
    this.playhead = null;
    this.selected = null;
    this.drag = null;
    this.dirty = true;
    this.live = false;

    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    canvas.addEventListener('pointerup', (e) => this.pointerUp(e));
    canvas.addEventListener('pointercancel', () => { this.drag = null; });
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    canvas.addEventListener('keydown', (e) => this.key(e));
    this.resize();
    const frame = () => { if (this.dirty) this.draw(); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  }

  // ---------------------------------------------------------------- data

  setNotes(notes) {
    this.notes = notes.slice().sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    if (this.selected && !this.notes.includes(this.selected)) this.select(null);
    this.fitPitch();
    this.invalidate();
  }

  addNotes(notes) {
    if (!notes.length) return;
    const wasEmpty = this.notes.length === 0;
    const last = this.notes[this.notes.length - 1];
    for (const n of notes) this.notes.push(n);
    // Notes mostly arrive in time order: sort only when they do not.
    if (last && notes.some((n) => n.onset < last.onset)) this.notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    else if (!isSorted(notes)) this.notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    if (wasEmpty) this.fitPitch(); else this.extendPitch(notes);
    this.invalidate();
  }

  /** Live preview: provisional notes from `from` seconds on are replaced by `notes`. */
  replacePreview(from, notes) {
    this.notes = this.notes.filter((n) => !(n.preview && n.onset >= from));
    for (const n of notes) n.preview = true;
    this.addNotes(notes);
    if (this.selected && !this.notes.includes(this.selected)) this.select(null);
    this.invalidate();
  }

  /** Drops the provisional notes that start before `until` seconds (all by default). */
  clearPreview(until = Infinity) {
    this.notes = this.notes.filter((n) => !(n.preview && n.onset < until));
    if (this.selected && !this.notes.includes(this.selected)) this.select(null);
    this.invalidate();
  }

  setDuration(sec) {
    this.duration = Math.max(0, sec);
    if (this.autoFit) this.fitTime();
    this.invalidate();
  }

  setPlayhead(sec) {
    this.playhead = sec;
    if (sec != null && !this.live) {
      const w = this.noteWidth();
      const x = (sec - this.t0) * this.pxPerSec;
      if (x > w * 0.9 || x < 0) this.t0 = Math.max(0, sec - (w * 0.1) / this.pxPerSec);
    }
    this.invalidate();
  }

  /** Live view: the latest audio stays near the right edge, about 12 s visible. */
  follow(sec) {
    this.live = true;
    this.autoFit = false;
    const w = this.noteWidth();
    this.pxPerSec = Math.max(20, w / 12);
    this.t0 = Math.max(0, sec - (w * 0.92) / this.pxPerSec);
    this.playhead = sec;
    this.invalidate();
  }

  endLive() { this.live = false; this.autoFit = true; this.fitTime(); this.invalidate(); }

  /** Instruments present, for the legend: [{key, name, color, count}]. */
  legend() {
    const counts = new Map();
    for (const n of this.notes) {
      const k = instrumentKey(n);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].map(([key, count]) => ({ key, count, ...instrumentInfo(key) }))
      .sort((a, b) => b.count - a.count);
  }

  invalidate() { this.dirty = true; this.maxLenCache = null; }

  /** Longest note (seconds), so drawing can start near the left edge of the view. */
  maxLen() {
    if (this.maxLenCache == null) {
      let m = 0.05;
      for (const n of this.notes) m = Math.max(m, n.offset - n.onset);
      this.maxLenCache = m;
    }
    return this.maxLenCache;
  }

  // ---------------------------------------------------------------- geometry

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const r = this.canvas.getBoundingClientRect();
    this.w = Math.max(100, r.width);
    this.h = Math.max(100, r.height);
    this.canvas.width = Math.round(this.w * dpr);
    this.canvas.height = Math.round(this.h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (this.autoFit) this.fitTime();
    this.invalidate();
  }

  noteWidth() { return this.w - KEY_W; }
  rowH() { return (this.h - RULER_H) / (this.hi - this.lo + 1); }
  xOf(t) { return KEY_W + (t - this.t0) * this.pxPerSec; }
  tOf(x) { return this.t0 + (x - KEY_W) / this.pxPerSec; }
  yOf(pitch) { return RULER_H + (this.hi - pitch) * this.rowH(); } // top of the row
  pitchOf(y) { return Math.floor(this.hi - (y - RULER_H) / this.rowH()) + 1; }

  fitTime() {
    const end = Math.max(this.duration, ...this.notes.slice(-50).map((n) => n.offset), this.notes.length ? 1 : 30);
    this.pxPerSec = clamp(this.noteWidth() / (end * 1.02), MIN_PX_PER_SEC, MAX_PX_PER_SEC);
    this.t0 = 0;
  }

  extendPitch(notes) {
    const [lo, hi] = pitchRange(notes);
    if (lo < this.lo + 2 || hi > this.hi - 2) this.fitPitch();
  }

  fitPitch() {
    let [lo, hi] = pitchRange(this.notes);
    if (lo > hi) { lo = 48; hi = 84; }
    lo -= 2; hi += 2;
    while (hi - lo < 24) { lo--; hi++; }
    this.lo = clamp(lo, 0, 127);
    this.hi = clamp(hi, 0, 127);
  }

  zoom(factor, anchorX = KEY_W + this.noteWidth() / 2) {
    const t = this.tOf(anchorX);
    this.autoFit = false;
    this.pxPerSec = clamp(this.pxPerSec * factor, MIN_PX_PER_SEC, MAX_PX_PER_SEC);
    this.t0 = Math.max(0, t - (anchorX - KEY_W) / this.pxPerSec);
    this.invalidate();
  }

  fit() { this.autoFit = true; this.fitTime(); this.fitPitch(); this.invalidate(); }

  scrollBy(seconds) { this.t0 = Math.max(0, this.t0 + seconds); this.invalidate(); }

  hit(x, y) {
    const t = this.tOf(x);
    const p = this.pitchOf(y);
    const tol = 3 / this.pxPerSec;
    for (let i = this.notes.length - 1; i >= 0; i--) {
      const n = this.notes[i];
      if (n.pitch === p && t >= n.onset - tol && t <= Math.max(n.offset, n.onset + 4 / this.pxPerSec) + tol) return n;
    }
    return null;
  }

  // ---------------------------------------------------------------- interaction

  select(note) {
    this.selected = note;
    this.onSelect(note);
    if (note) {
      const w = this.noteWidth();
      const x = (note.onset - this.t0) * this.pxPerSec;
      if (x < 0 || x > w - 10) this.t0 = Math.max(0, note.onset - (w * 0.3) / this.pxPerSec);
    }
    this.invalidate();
  }

  deleteSelected() {
    const n = this.selected;
    if (!n) return;
    const i = this.notes.indexOf(n);
    const next = this.notes[i + 1] ?? this.notes[i - 1] ?? null;
    this.notes.splice(i, 1);
    this.select(next);
    this.onChange(this.notes);
  }

  moveSelected(dt, dp) {
    const n = this.selected;
    if (!n) return;
    const shift = Math.max(-n.onset, dt);
    n.onset += shift; n.offset += shift;
    for (const b of n.bends ?? []) b.time += shift;
    n.pitch = clamp(n.pitch + dp, 0, 127);
    this.notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    this.invalidate();
  }

  pointerDown(e) {
    this.canvas.focus();
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    if (y < RULER_H && x > KEY_W) { this.onSeek(Math.max(0, this.tOf(x))); return; }
    if (x < KEY_W) return;
    const n = this.hit(x, y);
    this.canvas.setPointerCapture(e.pointerId);
    if (n) {
      this.select(n);
      this.drag = { kind: 'note', note: n, x, y, onset: n.onset, pitch: n.pitch, moved: false };
    } else {
      this.select(null);
      this.drag = { kind: 'pan', x, t0: this.t0 };
    }
  }

  pointerMove(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    if (!this.drag) {
      this.canvas.style.cursor = y < RULER_H ? 'col-resize' : this.hit(x, y) ? 'grab' : 'default';
      return;
    }
    if (this.drag.kind === 'pan') {
      this.t0 = Math.max(0, this.drag.t0 - (x - this.drag.x) / this.pxPerSec);
      this.autoFit = false;
      this.invalidate();
    } else {
      const d = this.drag;
      const dt = (x - d.x) / this.pxPerSec;
      const dp = Math.round(-(y - d.y) / this.rowH());
      if (!d.moved && Math.abs(x - d.x) < 3 && Math.abs(y - d.y) < 3) return;
      d.moved = true;
      this.moveSelected(d.onset + dt - d.note.onset, d.pitch + dp - d.note.pitch);
      this.canvas.style.cursor = 'grabbing';
    }
  }

  pointerUp() {
    const d = this.drag;
    this.drag = null;
    if (d?.kind === 'note' && d.moved) { this.onSelect(d.note); this.onChange(this.notes); }
  }

  wheel(e) {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) {
      this.zoom(Math.exp(-e.deltaY * 0.002), e.clientX - r.left);
    } else {
      const d = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY;
      this.autoFit = false;
      this.scrollBy(d / this.pxPerSec);
    }
  }

  key(e) {
    const n = this.selected;
    const i = n ? this.notes.indexOf(n) : -1;
    let handled = true;
    if (e.key === 'ArrowRight' && !e.altKey) this.select(this.notes[Math.min(this.notes.length - 1, i + 1)] ?? null);
    else if (e.key === 'ArrowLeft' && !e.altKey) this.select(this.notes[Math.max(0, i - 1)] ?? null);
    else if (e.altKey && n && e.key.startsWith('Arrow')) {
      const step = e.shiftKey ? 0.1 : 0.01;
      if (e.key === 'ArrowUp') this.moveSelected(0, 1);
      else if (e.key === 'ArrowDown') this.moveSelected(0, -1);
      else if (e.key === 'ArrowLeft') this.moveSelected(-step, 0);
      else if (e.key === 'ArrowRight') this.moveSelected(step, 0);
      this.onSelect(n);
      this.onChange(this.notes);
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && n) this.deleteSelected();
    else if (e.key === '+' || e.key === '=') this.zoom(1.25);
    else if (e.key === '-' || e.key === '_') this.zoom(0.8);
    else if (e.key === 'Home') this.fit();
    else if (e.key === 'Escape') this.select(null);
    else handled = false;
    if (handled) e.preventDefault();
  }

  // ---------------------------------------------------------------- drawing

  draw() {
    this.dirty = false;
    const { ctx, w, h } = this;
    const rowH = this.rowH();
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = '#131b25';
    ctx.fillRect(0, 0, w, h);

    // Pitch rows: darker rows for black keys, lines at each C.
    for (let p = this.lo; p <= this.hi; p++) {
      const y = this.yOf(p);
      if (isBlackKey(p)) { ctx.fillStyle = '#0f151d'; ctx.fillRect(KEY_W, y, w - KEY_W, rowH); }
      if (p % 12 === 0) { ctx.fillStyle = '#2a3646'; ctx.fillRect(KEY_W, y + rowH - 1, w - KEY_W, 1); }
    }

    // Time grid and ruler.
    const step = niceStep(70 / this.pxPerSec);
    const tEnd = this.tOf(w);
    ctx.fillStyle = '#1a2330';
    ctx.fillRect(KEY_W, 0, w - KEY_W, RULER_H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let t = Math.floor(this.t0 / step) * step; t <= tEnd; t += step) {
      const x = Math.round(this.xOf(t)) + 0.5;
      if (x < KEY_W) continue;
      ctx.fillStyle = '#223042';
      ctx.fillRect(x, RULER_H, 1, h - RULER_H);
      ctx.fillStyle = '#5b6b7f';
      ctx.fillRect(x, RULER_H - 7, 1, 7);
      ctx.fillStyle = '#94a3b5';
      ctx.fillText(formatTime(t, stepDecimals(step)), x + 3, RULER_H / 2 - 1);
    }
    if (this.duration > 0) {
      const xe = this.xOf(this.duration);
      if (xe < w) { ctx.fillStyle = '#0b1017'; ctx.fillRect(Math.max(KEY_W, xe), RULER_H, w - xe, h - RULER_H); }
    }

    // Notes.
    ctx.save();
    ctx.beginPath();
    ctx.rect(KEY_W, RULER_H, w - KEY_W, h - RULER_H);
    ctx.clip();
    const t0 = this.t0, t1 = tEnd;
    const notes = this.notes;
    let first = 0;
    for (let lo = 0, hi = notes.length, target = t0 - this.maxLen(); lo < hi;) { // first onset >= target
      const mid = (lo + hi) >> 1;
      if (notes[mid].onset < target) lo = mid + 1; else hi = mid;
      first = lo;
    }
    // Zoomed far out, notes that would only repaint pixels already painted in their row are
    // skipped, so an hour of notes draws as fast as a minute.
    const painted = new Float64Array(128).fill(-Infinity);
    for (let i = first; i < notes.length; i++) {
      const n = notes[i];
      if (n.onset > t1) break;
      const off = Math.max(n.offset, n.onset + 0.02);
      if (off < t0 || n.pitch < this.lo || n.pitch > this.hi) continue;
      const x = this.xOf(n.onset), xe = this.xOf(off);
      const sel = n === this.selected;
      if (!sel && Math.max(x + 2, xe) <= painted[n.pitch] + 1) continue;
      painted[n.pitch] = Math.max(painted[n.pitch], Math.max(x + 2, xe));
      const y = this.yOf(n.pitch);
      const info = noteInfo(n);
      ctx.globalAlpha = (n.preview ? 0.6 : 1) * (0.55 + 0.45 * Math.min(1, (n.velocity ?? 80) / 110));
      ctx.fillStyle = info.color;
      const hgt = Math.max(2, rowH - 1);
      if (n.isDrum) {
        const cx = x, cy = y + rowH / 2, r = Math.max(3, hgt / 2);
        ctx.beginPath();
        ctx.moveTo(cx, cy - r); ctx.lineTo(cx + r, cy); ctx.lineTo(cx, cy + r); ctx.lineTo(cx - r, cy); ctx.closePath();
        ctx.fill();
      } else {
        const wNote = Math.max(2, xe - x);
        ctx.fillRect(x, y + 0.5, wNote, hgt);
        ctx.globalAlpha = 1;
        if (wNote > 4 && hgt > 3) { // darker start and end so repeated notes stay distinct
          ctx.fillStyle = '#0b1017';
          ctx.fillRect(x, y + 0.5, 1, hgt);
          ctx.fillRect(x + wNote - 1, y + 0.5, 1, hgt);
        }
      }
      ctx.globalAlpha = 1;
      if (sel) {
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 2;
        ctx.strokeRect(x - 1, y - 0.5, Math.max(2, xe - x) + 2, hgt + 2);
      }
      if (this.pxPerSec >= 25 && n.bends?.length > 1 && !n.isDrum && n.bends.some((b) => Math.abs(b.semitones) >= 0.1)) {
        ctx.strokeStyle = sel ? '#ffffff' : '#f6f1e4';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        n.bends.forEach((b, i) => {
          const bx = this.xOf(b.time);
          const by = this.yOf(n.pitch + b.semitones) + rowH / 2;
          if (i === 0) ctx.moveTo(bx, by); else ctx.lineTo(bx, by);
        });
        ctx.stroke();
      }
    }
    ctx.restore();

    // Keyboard.
    for (let p = this.lo; p <= this.hi; p++) {
      const y = this.yOf(p);
      const black = isBlackKey(p);
      ctx.fillStyle = black ? '#222a33' : '#d9dee5';
      ctx.fillRect(0, y, black ? KEY_W * 0.62 : KEY_W, rowH);
      if (black) { ctx.fillStyle = '#b9c0c9'; ctx.fillRect(KEY_W * 0.62, y, KEY_W * 0.38, rowH); }
      ctx.fillStyle = '#8892a0';
      ctx.fillRect(0, y + rowH - 0.5, KEY_W, 0.5);
      if (p % 12 === 0 && rowH >= 5) {
        ctx.fillStyle = '#1d2a3a';
        ctx.font = `${Math.min(11, Math.max(8, rowH))}px system-ui, sans-serif`;
        ctx.fillText(pitchName(p), KEY_W - 24, y + rowH / 2);
      }
    }
    ctx.fillStyle = '#1a2330';
    ctx.fillRect(0, 0, KEY_W, RULER_H);

    // Playhead.
    if (this.playhead != null) {
      const x = this.xOf(this.playhead);
      if (x >= KEY_W && x <= w) {
        ctx.fillStyle = '#ff5a52';
        ctx.fillRect(Math.round(x) - 1, 0, 2, h);
        ctx.beginPath();
        ctx.moveTo(x - 6, 0); ctx.lineTo(x + 6, 0); ctx.lineTo(x, 8); ctx.closePath();
        ctx.fill();
      }
    }

    if (!this.notes.length) {
      ctx.fillStyle = '#5b6b7f';
      ctx.font = '14px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(this.live ? 'Listening… play something' : 'Notes will appear here', KEY_W + (w - KEY_W) / 2, RULER_H + (h - RULER_H) / 2);
      ctx.textAlign = 'start';
    }
  }
}

function pitchRange(notes) {
  let lo = 127, hi = 0;
  for (const n of notes) {
    let bend = 0;
    for (const b of n.bends ?? []) bend = Math.max(bend, Math.abs(b.semitones));
    lo = Math.min(lo, n.pitch - Math.ceil(bend));
    hi = Math.max(hi, n.pitch + Math.ceil(bend));
  }
  return [lo, hi];
}

function isSorted(notes) {
  for (let i = 1; i < notes.length; i++) {
    const a = notes[i - 1], b = notes[i];
    if (b.onset < a.onset || (b.onset === a.onset && b.pitch < a.pitch)) return false;
  }
  return true;
}

function niceStep(minSec) {
  for (const s of [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200]) if (s >= minSec) return s;
  return 3600;
}
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
