#!/usr/bin/env node
// Converts Spotify Basic Pitch's TF.js graph model (npm @spotify/basic-pitch, Apache-2.0) into the
// scribe weights format (src/models/weights.h), kind 2 = acoustic, config per src/models/acoustic.h.
//   node tools/convert_basic_pitch.mjs [model_dir] [out.scrb]
// Defaults: node_modules/@spotify/basic-pitch/model -> weights/basic-pitch.scrb.
// The graph is checked node by node against what src/models/acoustic.c implements; any difference
// (a new package version with another architecture) stops the conversion with a message.
// Output is byte-for-byte deterministic (tests/node/acoustic_convert.test.mjs checks it).
import fs from 'node:fs';
import path from 'node:path';

const MAGIC = 'SCRIBEW';
const VERSION = 1;
const KIND_ACOUSTIC = 2;
const HEADER_SIZE = 512;
const RECORD_SIZE = 128;
const CONFIG_LEN = 64;
const P = 'StatefulPartitionedCall/model_1/';

function fail(msg) {
  throw new Error(`convert_basic_pitch: ${msg}`);
}

export function loadGraph(modelDir) {
  const model = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  if (model.format !== 'graph-model') fail(`model.json format is ${model.format}, expected graph-model`);
  const values = new Map();
  for (const group of model.weightsManifest) {
    const chunks = group.paths.map((p) => fs.readFileSync(path.join(modelDir, p)));
    const bin = Buffer.concat(chunks);
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) fail(`weight ${w.name} is quantized; not supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const bytes = bin.subarray(off, off + 4 * n);
      if (bytes.length !== 4 * n) fail(`weight ${w.name} runs past the end of the shard`);
      let data;
      if (w.dtype === 'float32') data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * n));
      else if (w.dtype === 'int32') data = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * n));
      else fail(`weight ${w.name} has dtype ${w.dtype}`);
      values.set(w.name, { shape: w.shape, data });
      off += 4 * n;
    }
    if (off !== bin.length) fail(`shard has ${bin.length} bytes, manifest uses ${off}`);
  }
  const nodes = new Map(model.modelTopology.node.map((n) => [n.name, n]));
  return { model, values, nodes };
}

function node(g, name) {
  const n = g.nodes.get(P + name);
  if (!n) fail(`graph node ${name} missing`);
  return n;
}

function value(g, name, shape) {
  const v = g.values.get(P + name);
  if (!v) fail(`weight ${name} missing`);
  if (shape && JSON.stringify(v.shape) !== JSON.stringify(shape))
    fail(`weight ${name} has shape ${JSON.stringify(v.shape)}, expected ${JSON.stringify(shape)}`);
  return v;
}

const ints = (n, key) => (n.attr?.[key]?.list?.i ?? []).map(Number);
const str = (n, key) => Buffer.from(n.attr?.[key]?.s ?? '', 'base64').toString();

function checkConv(g, name, stride, padding, fused) {
  const n = node(g, name);
  const s = ints(n, 'strides');
  if (s[2] !== stride || s[1] !== 1) fail(`${name} strides ${s}, expected width stride ${stride}`);
  if (str(n, 'padding') !== padding) fail(`${name} padding ${str(n, 'padding')}, expected ${padding}`);
  if (fused !== undefined) {
    const f = (n.attr?.fused_ops?.list?.s ?? []).map((x) => Buffer.from(x, 'base64').toString());
    if (f.join(',') !== fused) fail(`${name} fused ops ${f}, expected ${fused}`);
  }
  return n;
}

function scalar(g, name) {
  const v = value(g, name);
  if (v.data.length !== 1) fail(`${name} is not a scalar`);
  return v.data[0];
}

/* Returns { config, name, tensors: [{name, shape, data: Float32Array}] }. */
export function convert(modelDir) {
  const g = loadGraph(modelDir);
  const sig = g.model.signature;
  const inShape = sig.inputs.input_2.tensorShape.dim.map((d) => Number(d.size));
  const window = inShape[1];
  if (window !== 43844) fail(`input window ${window}, expected 43844`);

  // CQT: conv1d (real, stride 256), conv1d_1 (imag), conv1d_2 (low-pass, stride 2) per octave;
  // every octave must use the same kernels (nnAudio CQT2010v2).
  const C = 'cq_t2010v2_1/';
  const real = value(g, C + 'conv1d/ExpandDims_1');
  const imag = value(g, C + 'conv1d_1/ExpandDims_1');
  const lp = value(g, C + 'conv1d_2/ExpandDims_1');
  const taps = real.shape[1];
  const bpo = real.shape[3];
  let octaves = 0;
  for (let o = 0; ; o++) {
    const ri = 3 * o, ii = 3 * o + 1, li = 3 * o + 2;
    const nm = (i) => C + (i ? `conv1d_${i}` : 'conv1d');
    if (!g.nodes.has(P + nm(ri))) break;
    octaves++;
    const stride = taps >> o;
    checkConv(g, nm(ri), stride, 'VALID');
    checkConv(g, nm(ii), stride, 'VALID');
    const same = (a, b) => a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i]);
    if (!same(value(g, nm(ri) + '/ExpandDims_1'), real) || !same(value(g, nm(ii) + '/ExpandDims_1'), imag))
      fail(`octave ${o} uses other CQT kernels`);
    if (g.nodes.has(P + nm(li)) && g.values.has(P + nm(li) + '/ExpandDims_1')) {
      const lpo = value(g, nm(li) + '/ExpandDims_1');
      if (lpo.data.length === taps && o < 8) {
        checkConv(g, nm(li), 2, 'VALID');
        if (!same(lpo, lp)) fail(`octave ${o} uses another low-pass filter`);
      }
    }
  }
  if (octaves !== 9) fail(`found ${octaves} CQT octaves, expected 9`);
  const pads = value(g, C + 'reflection_pad1d/MirrorPad/paddings').data;
  if (pads[4] !== taps / 2 || pads[5] !== taps / 2) fail(`reflect padding ${pads}, expected ${taps / 2}`);
  const lpad = value(g, C + 'Pad/paddings').data;
  if (lpad[4] !== taps / 2 - 1 || lpad[5] !== taps / 2 - 1) fail(`low-pass padding ${lpad}`);
  const scale = value(g, C + 'Sqrt');
  const nBins = scale.shape[0];
  const keep = value(g, C + 'strided_slice_9/stack').data;
  if (keep[1] !== -nBins) fail(`CQT keeps ${keep[1]} bins, scale has ${nBins}`);

  const logEps = scalar(g, 'normalized_log_1/add/y');
  const dbScale = scalar(g, 'normalized_log_1/truediv');
  const bnScale = scalar(g, 'batch_normalization/FusedBatchNormV3/Scaled');
  const bnOffset = scalar(g, 'batch_normalization/FusedBatchNormV3/Offset');

  // Harmonic stacking: channel order = concat inputs (Pad = h 0.5, the input itself = h 1, Pad_1.. = h 2..).
  const cat = node(g, 'harmonic_stacking/concat');
  const shifts = [];
  for (const inp of cat.input.slice(0, -1)) {
    const short = inp.replace(P, '');
    if (short === 'batch_normalization/FusedBatchNormV3') {
      shifts.push(0);
      continue;
    }
    const m = /^harmonic_stacking\/Pad(_(\d+))?$/.exec(short);
    if (!m) fail(`unexpected harmonic stacking input ${short}`);
    const k = m[2] ?? '';
    const sl = 'harmonic_stacking/strided_slice' + (k ? '_' + k : '');
    const begin = value(g, sl + '/stack').data[2];
    const end = value(g, sl + '/stack_1').data[2];
    const padc = value(g, 'harmonic_stacking/Const' + (k ? '_' + k : '')).data;
    if (end < 0 && begin === 0 && padc[4] === -end) shifts.push(end);
    else if (begin > 0 && padc[5] === begin) shifts.push(begin);
    else fail(`harmonic slice ${sl} ${begin}:${end} with padding ${padc}`);
  }
  const contourBins = value(g, 'harmonic_stacking/strided_slice_7/stack_1').data[2];
  const harmonics = shifts.length;
  const diff = node(g, 'harmonic-stacking-diff/concat');
  if (diff.input.length !== cat.input.length) fail('the two harmonic stacks differ');

  const layers = [
    ['contour1', 're_lu_1/Relu', 'conv2d_1/Conv2D_weights', 'conv2d_1/Conv2D_bn_offset', [3, 39, 8, 8], 1, 'BiasAdd,Relu'],
    ['contour2', 'contours-reduced/BiasAdd', 'contours-reduced/Conv2D/ReadVariableOp', 'contours-reduced/BiasAdd/ReadVariableOp', [5, 5, 8, 1], 1, 'BiasAdd'],
    ['note1', 're_lu_2/Relu', 'conv2d_2/Conv2D/ReadVariableOp', 'conv2d_2/BiasAdd/ReadVariableOp', [7, 7, 1, 32], 3, 'BiasAdd,Relu'],
    ['note2', 'conv2d_3/BiasAdd', 'conv2d_3/Conv2D/ReadVariableOp', 'conv2d_3/BiasAdd/ReadVariableOp', [7, 3, 32, 1], 1, 'BiasAdd'],
    ['onset1', 're_lu_3/Relu', 'conv2d_4/Conv2D_weights', 'conv2d_4/Conv2D_bn_offset', [5, 5, 8, 32], 3, 'BiasAdd,Relu'],
    ['onset2', 'conv2d_5/BiasAdd', 'conv2d_5/Conv2D/ReadVariableOp', 'conv2d_5/BiasAdd/ReadVariableOp', [3, 3, 33, 1], 1, 'BiasAdd'],
  ];
  // Wiring checks: the inputs each layer reads.
  const wires = {
    're_lu_1/Relu': 'harmonic_stacking/strided_slice_7',
    'contours-reduced/BiasAdd': 're_lu_1/Relu',
    're_lu_2/Relu': 'tf.expand_dims_2/ExpandDims',
    'conv2d_3/BiasAdd': 're_lu_2/Relu',
    're_lu_3/Relu': 'harmonic-stacking-diff/strided_slice_7',
    'conv2d_5/BiasAdd': 'concat/concat',
  };
  for (const [to, from] of Object.entries(wires)) {
    if (node(g, to).input[0] !== P + from) fail(`${to} reads ${node(g, to).input[0]}, expected ${from}`);
  }
  const concatIn = node(g, 'concat/concat').input.map((s) => s.replace(P, ''));
  if (concatIn[0] !== 'conv2d_3/Sigmoid' || concatIn[1] !== 're_lu_3/Relu') fail(`onset concat order ${concatIn}`);

  const tensors = [
    { name: 'cqt.kernels', shape: [taps, 2 * bpo], data: interleaveKernels(real.data, imag.data, taps, bpo) },
    { name: 'cqt.lowpass', shape: [taps], data: Float32Array.from(lp.data) },
    { name: 'cqt.scale', shape: [nBins], data: Float32Array.from(scale.data) },
  ];
  for (const [nm, op, wname, bname, shape, stride, fused] of layers) {
    checkConv(g, op, stride, 'SAME', fused);
    const wv = value(g, wname, shape);
    const bv = value(g, bname, [shape[3]]);
    tensors.push({ name: `${nm}.weight`, shape, data: Float32Array.from(wv.data) });
    tensors.push({ name: `${nm}.bias`, shape: [shape[3]], data: Float32Array.from(bv.data) });
  }

  const config = new Int32Array(CONFIG_LEN);
  const f2i = (f) => new Int32Array(new Float32Array([f]).buffer)[0];
  config[0] = 22050;
  config[1] = 256;
  config[2] = window;
  config[3] = Math.floor(window / 256) + 1;
  config[4] = 30;
  config[5] = nBins;
  config[6] = bpo;
  config[7] = octaves;
  config[8] = taps;
  config[9] = contourBins;
  config[10] = contourBins / 3;
  config[11] = harmonics;
  config[12] = f2i(logEps);
  config[13] = f2i(dbScale);
  config[14] = f2i(bnScale);
  config[15] = f2i(bnOffset);
  for (let i = 0; i < harmonics; i++) config[16 + i] = shifts[i];
  return { config, name: 'basic-pitch-1.0.1', tensors };
}

// TF conv1d kernel [1][taps][1][bpo]: row k holds bpo values; out [taps][2*bpo].
function interleaveKernels(re, im, taps, bpo) {
  const out = new Float32Array(taps * 2 * bpo);
  for (let k = 0; k < taps; k++) {
    for (let b = 0; b < bpo; b++) {
      out[k * 2 * bpo + b] = re[k * bpo + b];
      out[k * 2 * bpo + bpo + b] = im[k * bpo + b];
    }
  }
  return out;
}

/* Serialises per src/models/weights.h (all f32). */
export function writeWeights({ config, name, tensors }) {
  const align = (x) => Math.ceil(x / 64) * 64;
  let off = align(HEADER_SIZE + RECORD_SIZE * tensors.length);
  const offsets = tensors.map((t) => {
    const o = off;
    off = align(off + t.data.length * 4);
    return o;
  });
  const buf = Buffer.alloc(off);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(VERSION, 8);
  buf.writeUInt32LE(KIND_ACOUSTIC, 12);
  buf.writeUInt32LE(tensors.length, 16);
  buf.writeUInt32LE(HEADER_SIZE, 20);
  for (let i = 0; i < CONFIG_LEN; i++) buf.writeInt32LE(config[i], 24 + 4 * i);
  if (name.length > 63) fail(`model name ${name} too long`);
  buf.write(name, 280, 'latin1');
  tensors.forEach((t, i) => {
    const r = HEADER_SIZE + RECORD_SIZE * i;
    if (t.name.length > 79) fail(`tensor name ${t.name} too long`);
    buf.write(t.name, r, 'latin1');
    buf.writeUInt32LE(0, r + 80); // f32
    buf.writeUInt32LE(t.shape.length, r + 84);
    for (let d = 0; d < 4; d++) buf.writeUInt32LE(t.shape[d] ?? 0, r + 88 + 4 * d);
    buf.writeBigUInt64LE(BigInt(offsets[i]), r + 104);
    buf.writeBigUInt64LE(BigInt(t.data.length * 4), r + 112);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) fail(`tensor ${t.name} has ${t.data.length} values for shape ${t.shape}`);
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.length * 4).copy(buf, offsets[i]);
  });
  return buf;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const dir = process.argv[2] ?? path.join(root, 'node_modules/@spotify/basic-pitch/model');
  const out = process.argv[3] ?? path.join(root, 'weights/basic-pitch.scrb');
  const conv = convert(dir);
  const bytes = writeWeights(conv);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, bytes);
  const params = conv.tensors.reduce((a, t) => a + t.data.length, 0);
  console.log(`wrote ${out}: ${conv.tensors.length} tensors, ${params} values, ${bytes.length} bytes`);
}
