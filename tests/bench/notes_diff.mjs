// Compares two note CSVs (onset_s,offset_s,pitch,velocity,program,is_drum), e.g. a bounded
// session's notes against the unlimited (whole-file) notes (figures, not a test):
//   node tests/bench/notes_diff.mjs A.csv B.csv [TOLERANCE_S=0.05]
// Prints the notes identical in both, then the others matched one to one by pitch with onset and
// offset within the tolerance, and what is left in each, with the times of the leftovers.
import { readFileSync } from 'node:fs';

const [a, b, tolArg] = process.argv.slice(2);
if (!a || !b) { console.error('usage: notes_diff.mjs A.csv B.csv [TOLERANCE_S]'); process.exit(2); }
const tol = Number(tolArg ?? 0.05);
const read = (p) => readFileSync(p, 'utf8').trim().split('\n').slice(1).map((l) => {
  const [on, off, pitch, vel] = l.split(',');
  return { line: l, on: Number(on), off: Number(off), pitch: Number(pitch), vel: Number(vel), used: false };
});
const A = read(a), B = read(b);
const key = (n) => n.line;
const inB = new Map();
for (const n of B) { const k = key(n); if (!inB.has(k)) inB.set(k, []); inB.get(k).push(n); }
let identical = 0;
for (const n of A) {
  const list = inB.get(key(n));
  if (list?.length) { list.pop().used = true; n.used = true; identical++; }
}
let close = 0;
for (const n of A) {
  if (n.used) continue;
  const m = B.find((o) => !o.used && o.pitch === n.pitch && Math.abs(o.on - n.on) <= tol && Math.abs(o.off - n.off) <= tol);
  if (m) { m.used = n.used = true; close++; }
}
const leftA = A.filter((n) => !n.used), leftB = B.filter((n) => !n.used);
console.log(`notes: ${A.length} vs ${B.length}`);
console.log(`identical: ${identical}`);
console.log(`within_${tol}s: ${close}`);
console.log(`unmatched: ${leftA.length} + ${leftB.length}`);
const times = (l) => l.slice(0, 20).map((n) => `${n.on.toFixed(2)}:${n.pitch}`).join(' ');
if (leftA.length) console.log(`only_in_a: ${times(leftA)}${leftA.length > 20 ? ' ...' : ''}`);
if (leftB.length) console.log(`only_in_b: ${times(leftB)}${leftB.length > 20 ? ' ...' : ''}`);
