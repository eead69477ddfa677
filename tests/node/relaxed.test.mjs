// The fused multiply-add build dist/scribe-relaxed.wasm (tools/relax_fma.mjs): it really uses
// f32x4.relaxed_madd, has the plain build's imports and exports (one glue for both), and in a Node
// started with --experimental-wasm-relaxed-simd (tests/node/relaxed_run.mjs) its matmul matches a
// float64 reference on odd shapes and a short acoustic-model transcription gives the plain build's
// notes (same count within 1%, onsets within one frame).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { countFma } from '../../tools/relax_fma.mjs';
import { relaxedSimdSupported } from '../../web/engine/core.js';
import { runChecks } from './relaxed_run.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const data = path.resolve(root, process.env.SCRIBE_DATA ?? '../shared/data/dev');
const CLIP = path.join(data, 'guitarset-00_BN1-129-Eb_comp.wav');
const SECONDS = 12;
const FRAME_S = 256 / 22050; // the acoustic model's frame hop
const plainBytes = readFileSync(path.join(root, 'dist/scribe.wasm'));
const relaxedBytes = readFileSync(path.join(root, 'dist/scribe-relaxed.wasm'));

function runRelaxed() {
  const r = spawnSync(process.execPath,
    ['--experimental-wasm-relaxed-simd', path.join(root, 'tests/node/relaxed_run.mjs'), 'scribe-relaxed.wasm', CLIP, String(SECONDS)],
    { encoding: 'utf8', cwd: root, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('every f32x4 mul+add of the plain build is an f32x4.relaxed_madd in the relaxed build', () => {
  const plain = countFma(plainBytes), relaxed = countFma(relaxedBytes);
  assert.ok(plain.mulAdd >= 50, `plain build has ${plain.mulAdd} mul+add sites (the kernels alone have dozens)`);
  assert.equal(plain.relaxedMadd, 0);
  assert.equal(relaxed.relaxedMadd, plain.mulAdd);
  assert.equal(relaxed.mulAdd, 0);
});

test('both builds have the same imports and exports; only runtimes with relaxed SIMD accept the relaxed one', () => {
  const desc = (b) => { const m = new WebAssembly.Module(b); return [WebAssembly.Module.imports(m), WebAssembly.Module.exports(m)]; };
  assert.ok(WebAssembly.validate(plainBytes));
  assert.equal(WebAssembly.validate(relaxedBytes), relaxedSimdSupported(), 'the loader probe agrees with the real module');
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', `
    import { readFileSync } from 'node:fs';
    const d = (f) => { const m = new WebAssembly.Module(readFileSync(f)); return [WebAssembly.Module.imports(m), WebAssembly.Module.exports(m)]; };
    process.stdout.write(JSON.stringify(d('dist/scribe-relaxed.wasm')));`], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(desc(plainBytes))));
});

test('relaxed build: matmul matches float64, transcription matches the plain build', async () => {
  const relaxed = runRelaxed();
  assert.equal(relaxed.picks, 'scribe-relaxed.wasm', 'the loader picks the relaxed build under the flag');
  assert.equal(relaxed.simd, 'wasm-simd128');
  assert.equal(relaxed.matmul.length, 36);
  for (const m of relaxed.matmul) assert.ok(m.err !== 'inf' && m.err < 1e-5, `${m.shape}: rel err ${m.err}`);

  const plain = await runChecks('scribe.wasm', CLIP, SECONDS);
  if (!relaxedSimdSupported()) assert.equal(plain.picks, 'scribe.wasm');
  const a = plain.notes, b = relaxed.notes;
  assert.ok(a.length >= 20, `the plain build finds notes in ${SECONDS} s of the clip (${a.length})`);
  assert.ok(Math.abs(a.length - b.length) <= Math.max(1, 0.01 * a.length), `note counts ${a.length} vs ${b.length}`);
  // Each plain note has a relaxed note of the same pitch with its onset within one frame.
  const used = new Set();
  let matched = 0;
  for (const n of a) {
    const j = b.findIndex((m, i) => !used.has(i) && m.pitch === n.pitch && Math.abs(m.onset - n.onset) <= FRAME_S + 1e-9);
    if (j >= 0) { used.add(j); matched++; }
  }
  assert.ok(matched >= Math.floor(0.99 * a.length), `${matched} of ${a.length} notes matched`);
});
