// The committed weights/basic-pitch.scrb must equal a fresh conversion of the pinned npm package,
// byte for byte, and the converter must reject a graph it does not implement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convert, writeWeights } from '../../tools/convert_basic_pitch.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MODEL = path.join(ROOT, 'node_modules/@spotify/basic-pitch/model');

test('weights/basic-pitch.scrb equals a fresh conversion', () => {
  const fresh = writeWeights(convert(MODEL));
  const committed = fs.readFileSync(path.join(ROOT, 'weights/basic-pitch.scrb'));
  assert.ok(fresh.length > 100000, `converted ${fresh.length} bytes`);
  assert.equal(fresh.length, committed.length, 'size');
  assert.ok(fresh.equals(committed), 'bytes differ: run make weights/basic-pitch.scrb');
  assert.equal(committed.toString('latin1', 0, 7), 'SCRIBEW');
  assert.equal(committed.readUInt32LE(12), 2, 'kind acoustic');
});

test('the converter rejects a changed graph', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-'));
  const json = JSON.parse(fs.readFileSync(path.join(MODEL, 'model.json'), 'utf8'));
  const conv = json.modelTopology.node.find((n) => n.name.endsWith('/re_lu_3/Relu'));
  conv.attr.strides.list.i = ['1', '1', '2', '1'];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  fs.copyFileSync(path.join(MODEL, 'group1-shard1of1.bin'), path.join(dir, 'group1-shard1of1.bin'));
  assert.throws(() => convert(dir), /re_lu_3\/Relu strides/);
  fs.rmSync(dir, { recursive: true });
});
