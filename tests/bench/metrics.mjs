// Prints the time of evaluate() and MIDI write/read on large random note sets (WASM build).
//   node tests/bench/metrics.mjs [NOTES]
import { loadEngine } from '../../bin/engine.mjs';
import { evaluate, notesToMidi, midiToNotes } from '../../web/engine/music.js';

const N = Number(process.argv[2] ?? 20000);
const core = await loadEngine('scribe.wasm');
let a = 1;
const r = () => { // mulberry32
  a = (a + 0x6d2b79f5) >>> 0;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const dur = N / 10; // ten notes per second
const ref = Array.from({ length: N }, () => {
  const on = r() * dur;
  return { onset: on, offset: on + 0.05 + r(), pitch: 36 + Math.floor(r() * 48), velocity: 1 + Math.floor(r() * 127),
    program: Math.floor(r() * 16) * 8, isDrum: r() < 0.1, bends: [] };
});
const est = ref.filter(() => r() > 0.1).map((n) => ({ ...n, onset: n.onset + (r() - 0.5) * 0.1, offset: n.offset + (r() - 0.5) * 0.2 }));
for (const n of est) n.offset = Math.max(n.offset, n.onset + 0.01);
let t = performance.now();
const m = evaluate(core, ref, est);
const tEval = performance.now() - t;
t = performance.now();
const mid = notesToMidi(core, ref);
const tWrite = performance.now() - t;
t = performance.now();
const back = midiToNotes(core, mid);
const tRead = performance.now() - t;
console.log(`evaluate ${N} ref / ${est.length} est notes (${dur.toFixed(0)} s): ${tEval.toFixed(0)} ms ` +
  `(onset F1 ${m.onset_f1.toFixed(4)}, multi-instrument F1 ${m.multi_instrument_f1.toFixed(4)})`);
console.log(`MIDI write ${N} notes: ${tWrite.toFixed(0)} ms (${mid.length} bytes); read back ${back.length} notes: ${tRead.toFixed(0)} ms`);
