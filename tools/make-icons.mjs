#!/usr/bin/env node
// Draws the app icon (the same design as web/icons/icon.svg) into PNG files, no dependencies.
//   node tools/make-icons.mjs OUT_DIR      writes OUT_DIR/icon-192.png and OUT_DIR/icon-512.png
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const BG = [0x1d, 0x2a, 0x3a];
const GOLD = [0xf4, 0xb9, 0x42];
const CYAN = [0x58, 0xc4, 0xdd];
// Shapes in the 512-unit design space: [x, y, w, h, radius, colour]
const RECTS = [
  [72, 300, 120, 36, 10, GOLD], [164, 236, 96, 36, 10, GOLD], [232, 172, 150, 36, 10, GOLD],
  [300, 300, 140, 36, 10, CYAN], [120, 364, 200, 36, 10, CYAN],
];

function insideRoundRect(px, py, x, y, w, h, r) {
  if (px < x || py < y || px > x + w || py > y + h) return false;
  const cx = Math.min(Math.max(px, x + r), x + w - r);
  const cy = Math.min(Math.max(py, y + r), y + h - r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
}

function bezier(t) { // the pitch-bend curve of the SVG
  const p = [[232, 190], [300, 120], [360, 130], [440, 110]];
  const u = 1 - t;
  return [0, 1].map((k) => u * u * u * p[0][k] + 3 * u * u * t * p[1][k] + 3 * u * t * t * p[2][k] + t * t * t * p[3][k]);
}
const CURVE = Array.from({ length: 200 }, (_, i) => bezier(i / 199));

function draw(size) {
  const s = 512 / size;
  const ss = 4; // supersampling per axis
  const rgba = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const px = (x + (sx + 0.5) / ss) * s, py = (y + (sy + 0.5) / ss) * s;
          if (!insideRoundRect(px, py, 0, 0, 512, 512, 96)) continue;
          let c = BG;
          for (const [rx, ry, rw, rh, rr, col] of RECTS) if (insideRoundRect(px, py, rx, ry, rw, rh, rr)) c = col;
          if (px > 224 && px < 448 && py > 102 && py < 198) for (const [cx, cy] of CURVE) if ((px - cx) ** 2 + (py - cy) ** 2 <= 49) { c = GOLD; break; }
          acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255;
        }
      }
      const n = ss * ss, o = (y * size + x) * 4;
      const a = acc[3] / n;
      rgba[o + 3] = Math.round(a);
      for (let k = 0; k < 3; k++) rgba[o + k] = a ? Math.round(acc[k] / (acc[3] / 255)) : 0;
    }
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const out = process.argv[2];
if (!out) { console.error('usage: node tools/make-icons.mjs OUT_DIR'); process.exit(2); }
fs.mkdirSync(out, { recursive: true });
for (const size of [192, 512]) {
  const file = path.join(out, `icon-${size}.png`);
  fs.writeFileSync(file, png(size, draw(size)));
}
