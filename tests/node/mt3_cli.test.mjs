// bin/scribe random-weights and bench on a small random MT3-architecture model (fast; the published size
// is benchmarked by hand: bin/scribe random-weights --preset mt3 --out F && bin/scribe bench --model F).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scribe = new URL('../../bin/scribe', import.meta.url).pathname;

test('random-weights writes a loadable model and bench prints realtime_factor last', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mt3-cli-'));
  try {
    for (const dtype of ['f32', 'q8']) {
      const file = join(dir, `small-${dtype}.scrb`);
      let r = spawnSync('node', [scribe, 'random-weights', '--preset', 'small', '--dtype', dtype, '--out', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(statSync(file).size > (dtype === 'f32' ? 4e6 : 1e6));
      r = spawnSync('node', [scribe, 'bench', '--model', file, '--seconds', '5', '--tokens', '16', '--batch', '4'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /MT3 T5 d128 4x32 heads/);
      assert.ok(lines.some((l) => /3 segments/.test(l)), r.stdout);
      const m = /^realtime_factor: ([0-9.]+)$/.exec(lines[lines.length - 1]);
      assert.ok(m && Number(m[1]) > 0, `last line: ${lines[lines.length - 1]}`);
    }
    const r = spawnSync('node', [scribe, 'random-weights', '--preset', 'huge', '--out', join(dir, 'x')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown preset 'huge'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// MT3 models that read Basic Pitch posteriors (config acoustic_features = 176) are one file with the
// acoustic network embedded: tools/convert_mt3.py writes one with random weights and the CLI runs it.
test('a random MT3 model with acoustic features loads and transcribes like any MT3 file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mt3-ac-'));
  try {
    const file = join(dir, 'ac.scrb');
    const csv = join(dir, 'out.csv');
    const root = new URL('../..', import.meta.url).pathname;
    let r = spawnSync('/usr/bin/python3', [join(root, 'tools/convert_mt3.py'), '--random', 'small', '--acoustic-features', '176',
      '--dtype', 'q8', '--out', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    r = spawnSync('node', [scribe, 'bench', '--model', file, '--seconds', '3', '--tokens', '8', '--batch', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0], /MT3 T5 d128 .*reads Basic Pitch posteriors/);
    const wav = join(root, '../shared/data/dev/vocadito-1.wav');
    r = spawnSync('node', [scribe, 'transcribe', wav, '--model', file, '--csv', csv], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(csv, 'utf8'), /^onset/);
    // a corrupt embedded network is refused with the tensor's name
    const bytes = readFileSync(file);
    const i = bytes.indexOf(Buffer.from('acoustic.note1.weight\0'));
    assert.ok(i > 0);
    bytes[i + 9] = 'N'.charCodeAt(0); // acoustic.Note1.weight: note1.weight is missing
    writeFileSync(file, bytes);
    r = spawnSync('node', [scribe, 'transcribe', wav, '--model', file, '--csv', csv], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /acoustic network.*acoustic\.note1\.weight/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
