#!/usr/bin/env bash
# make bench-stream: an N-minute stream (looped dev clip, default 30) fed in random block sizes
# 1..20000 gives the same notes as the whole input fed at once (same count; same pitches;
# onsets within one frame, 256/22050 s). Prints the figures and exits non-zero on a difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
min=${1:-30}
clip=../shared/data/dev/slakh-Track00001.wav
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dist/native/scribe-native transcribe "$clip" --model weights/basic-pitch.scrb --seconds $((min * 60)) --block 0 --csv "$tmp/whole.csv" | sed 's/^/whole:  /'
dist/native/scribe-native transcribe "$clip" --model weights/basic-pitch.scrb --seconds $((min * 60)) --block -20000 --seed 7 --csv "$tmp/stream.csv" | sed 's/^/stream: /'
node -e '
const fs = require("fs");
const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
const a = read(process.argv[1]), b = read(process.argv[2]), frame = 256 / 22050;
let bad = 0, maxd = 0;
for (let i = 0; i < Math.min(a.length, b.length); i++) {
  const d = Math.abs(a[i][0] - b[i][0]); maxd = Math.max(maxd, d);
  if (a[i][2] !== b[i][2] || d > frame + 1e-6) bad++;
}
console.log(`notes whole ${a.length}, stream ${b.length}; differing ${bad}; max onset difference ${maxd.toFixed(4)} s`);
process.exit(a.length === b.length && bad === 0 && a.length > 0 ? 0 : 1);
' "$tmp/whole.csv" "$tmp/stream.csv"
