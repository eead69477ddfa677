// Parity of the WASM MT3 network with the PyTorch reference (tools/mt3_reference.py) on random weights.
// /usr/bin/python3 makes the weights (tools/mt3_parity_data.py: random T5 init, logits kernel x10 so greedy
// choices are well separated; EOS ignored so every input yields the same number of tokens) and the
// reference outputs; the WASM build runs the same inputs, all inputs decoded together as one batch.
// Full MT3 size (45.9 M parameters): 5 inputs x 24 tokens; small size (64-frame segments, the input bias and the
// time-relative cross-attention bias, the shift pointer and the onset copy of our trained models): 5 inputs x 64 tokens.
// q8 weights (with bfloat16 attention caches) are checked loosely: their loss is reported, not hidden.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScribe } from '../../web/engine/core.js';

const root = new URL('../../', import.meta.url);

async function load() {
  const wasmBinary = readFileSync(new URL('dist/scribe.wasm', root));
  return loadScribe({ moduleUrl: new URL('dist/scribe.mjs', root).href, wasmBinary });
}

function makeData(preset, inputs, tokens, seed) {
  const dir = mkdtempSync(join(tmpdir(), `mt3-parity-${preset}-`));
  const r = spawnSync('/usr/bin/python3', [new URL('tools/mt3_parity_data.py', root).pathname, '--out', dir,
    '--preset', preset, '--inputs', String(inputs), '--tokens', String(tokens), '--seed', String(seed)],
  { encoding: 'utf8' });
  assert.equal(r.status, 0, `mt3_parity_data.py failed: ${r.stderr}`);
  const f32 = (name) => { const b = readFileSync(join(dir, name)); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
  const i32 = (name) => { const b = readFileSync(join(dir, name)); return new Int32Array(b.buffer, b.byteOffset, b.length / 4); };
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  return { dir, meta, inputs: f32('inputs.f32'), enc: f32('enc.f32'), logits: f32('logits.f32'), tokens: i32('tokens.i32') };
}

/** Runs the WASM network on the reference inputs; returns encoder outputs, logits and tokens. */
function runWasm(core, modelBytes, cfg, n, steps) {
  const mod = core.mod;
  const buf = core.copyIn(modelBytes);
  const model = mod._wasm_mt3_load(buf, modelBytes.length, core.errPtr);
  if (!model) core.check(mod._wasm_error_code(core.errPtr) || 4);
  const state = mod._wasm_mt3_state_new(model, n, steps, core.errPtr);
  if (!state) core.check(mod._wasm_error_code(core.errPtr) || 2);
  const T = cfg.segment_frames, F = cfg.input_features, D = cfg.d_model, V = cfg.vocab;
  return {
    model, state, buf,
    run(inputs) {
      const feat = core.malloc(T * F * 4);
      const enc = new Float32Array(n * T * D);
      for (let i = 0; i < n; i++) {
        core.f32.set(inputs.subarray(i * T * F, (i + 1) * T * F), feat >> 2);
        mod._wasm_mt3_encode(state, i, feat);
        const p = mod._wasm_mt3_encoder_output(state, i);
        enc.set(core.f32.subarray(p >> 2, (p >> 2) + T * D), i * T * D);
      }
      core.free(feat);
      const tok = core.malloc(n * steps * 4), len = core.malloc(n * 4), lg = core.malloc(n * steps * V * 4);
      mod._wasm_mt3_decode(state, n, steps, 1, tok, len, lg);
      const tokens = core.i32.slice(tok >> 2, (tok >> 2) + n * steps);
      const lengths = core.i32.slice(len >> 2, (len >> 2) + n);
      const logits = core.f32.slice(lg >> 2, (lg >> 2) + n * steps * V);
      core.free(tok); core.free(len); core.free(lg);
      return { enc, tokens, lengths, logits };
    },
    free() { mod._wasm_mt3_state_free(state); mod._wasm_mt3_free(model); core.free(buf); },
  };
}

function maxAbs(a) { let m = 0; for (const v of a) m = Math.max(m, Math.abs(v)); return m; }
function maxAbsDiff(a, b) { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; }

async function parity(t, preset, n, steps, seed) {
  const core = await load();
  const d = makeData(preset, n, steps, seed);
  try {
    const cfg = d.meta.config;
    assert.ok(d.meta.distinct_tokens > 3, 'reference decodes a varied token sequence');
    if (cfg.onset_copy) assert.ok(d.meta.onset_copy_steps > 0, 'the onset copy reaches pitch and drum logits');
    const f32 = runWasm(core, readFileSync(join(d.dir, 'model_f32.scrb')), cfg, n, steps);
    const out = f32.run(d.inputs);
    f32.free();
    const encRel = maxAbsDiff(out.enc, d.enc) / maxAbs(d.enc);
    const logitErr = maxAbsDiff(out.logits, d.logits);
    let same = 0;
    for (let i = 0; i < n; i++) {
      const a = out.tokens.subarray(i * steps, (i + 1) * steps), b = d.tokens.subarray(i * steps, (i + 1) * steps);
      if (a.every((v, j) => v === b[j])) same++;
      assert.equal(out.lengths[i], steps);
    }
    const q8 = runWasm(core, readFileSync(join(d.dir, 'model_q8.scrb')), cfg, n, steps);
    const oq = q8.run(d.inputs);
    q8.free();
    const qEnc = maxAbsDiff(oq.enc, d.enc) / maxAbs(d.enc);
    // q8 logits compared on the first step only (later steps follow diverging tokens)
    const V = cfg.vocab;
    let qLog = 0, qTokAgree = 0;
    for (let i = 0; i < n; i++) {
      qLog = Math.max(qLog, maxAbsDiff(oq.logits.subarray(i * steps * V, i * steps * V + V), d.logits.subarray(i * steps * V, i * steps * V + V)));
      for (let j = 0; j < steps; j++) if (oq.tokens[i * steps + j] === d.tokens[i * steps + j]) qTokAgree++;
    }
    const msg = `${preset} (${(d.meta.params / 1e6).toFixed(1)} M params, ${n} inputs x ${steps} tokens): ` +
      `f32 encoder max rel err ${encRel.toExponential(2)}, logits max abs err ${logitErr.toExponential(2)} ` +
      `(smallest top-2 gap ${d.meta.min_top2_gap.toFixed(3)}), token sequences identical ${same}/${n}; ` +
      `q8 encoder rel err ${qEnc.toExponential(2)}, first-step logits abs err ${qLog.toFixed(3)}, ` +
      `tokens agreeing ${(100 * qTokAgree / (n * steps)).toFixed(1)}%`;
    t.diagnostic(msg);
    console.log(msg);
    assert.ok(encRel < 1e-4, `encoder relative error ${encRel}`);
    assert.ok(logitErr < 1e-3, `logits error ${logitErr}`);
    assert.equal(same, n, 'greedy token sequences identical');
    assert.ok(qEnc < 0.05, `q8 encoder relative error ${qEnc}`);
  } finally {
    rmSync(d.dir, { recursive: true, force: true });
  }
}

test('MT3 parity with the PyTorch reference, small model, 5 inputs x 64 tokens', async (t) => {
  await parity(t, 'small', 5, 64, 1); // a seed whose random model decodes onset velocities (the onset copy's context)
});

test('MT3 parity with the PyTorch reference, published size, 5 inputs x 24 tokens', async (t) => {
  await parity(t, 'mt3', 5, 24, 12);
});
