// Training tools without a training run (tests/tools/training_tools_check.py): the data set builder
// keeps the held-out set and every existing rendition bit-identical when training-only material is
// added, and renders nothing twice; a model grown by --grow-layers computes the initial model's logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url);

test('data set additions leave the hold-out alone; grown models start where they were', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'training-tools-'));
  try {
    const r = spawnSync('/usr/bin/python3', [new URL('tests/tools/training_tools_check.py', root).pathname, '--tmp', dir],
      { encoding: 'utf8', cwd: root.pathname });
    t.diagnostic(r.stdout.trim());
    assert.equal(r.status, 0, `training_tools_check.py failed:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /ok +all \d+ base renditions identical/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
