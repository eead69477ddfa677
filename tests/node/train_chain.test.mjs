// The training chain end to end (tests/tools/train_chain_check.py): a tiny synthetic data set, its
// acoustic features from the engine's tool, 800 training steps of a tiny MT3 model with acoustic
// features and 64-frame segments, export, then the same audio through the exported file in the WASM
// engine (bin/scribe) and through the PyTorch checkpoint: the notes must agree (>= 98 %; f32 export,
// so only a near-tie argmax could differ) and there must be some (at least 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url);

test('a model trained by tools/train gives the same notes in the engine as in PyTorch', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'train-chain-'));
  try {
    const r = spawnSync('/usr/bin/python3', [new URL('tests/tools/train_chain_check.py', root).pathname, '--tmp', dir],
      { encoding: 'utf8', cwd: root.pathname });
    assert.equal(r.status, 0, `train_chain_check.py failed:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop());
    t.diagnostic(JSON.stringify(res));
    assert.ok(res.python_notes >= 3 && res.agreement >= 0.98, JSON.stringify(res));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
