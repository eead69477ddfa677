#!/usr/bin/env bash
# make bench-memory: peak native RSS and WASM heap, and wall time, for looped dev-clip audio of
# each length given (minutes), with the acoustic model and a small random MT3 model
# (bin/mt3-commands.mjs random-weights --preset small, 16 decode tokens per segment, EOS ignored);
# mt3-acoustic is a small random MT3 model that also reads the Basic Pitch posteriors (the kind our
# trained models are; tools/convert_mt3.py --random small --acoustic-features 176);
# acoustic-live is the acoustic model with stream_notes 1 (notes handed out before quiet stretches);
# both keep the default max_pending_seconds (300 s); acoustic-unlimited sets it to 0 (exact
# whole-file notes, memory grows with the length; not run unless named).
# BENCH_MODELS="acoustic acoustic-live mt3-small" picks the models (mt3-acoustic runs only when named).
# Prints one table row per run: engine model minutes notes wall_s realtime_x memory_mb.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=("${@:-1 10 60}")
clip=${BENCH_CLIP:-../shared/data/dev/vocadito-1.wav}
mkdir -p dist/bench
mt3=dist/bench/mt3-small-random.scrb
[ -f "$mt3" ] || node bin/mt3-commands.mjs random-weights --preset small --out "$mt3" >/dev/null
mt3ac=dist/bench/mt3-small-acoustic-random.scrb
case " ${BENCH_MODELS:-} " in *" mt3-acoustic "*)
  [ -f "$mt3ac" ] || /usr/bin/python3 tools/convert_mt3.py --random small --acoustic-features 176 --out "$mt3ac" >/dev/null ;;
esac
field() { grep "^$1:" | head -1 | awk '{print $2}'; }
printf '%-6s %-18s %7s %7s %9s %10s %10s\n' engine model minutes notes wall_s realtime_x memory_mb
for m in ${minutes[@]}; do
  for model in ${BENCH_MODELS:-acoustic acoustic-live mt3-small}; do
    case $model in
      acoustic) w=weights/basic-pitch.scrb; extra=() ;;
      acoustic-live) w=weights/basic-pitch.scrb; extra=(--stream-notes 1) ;;
      acoustic-unlimited) w=weights/basic-pitch.scrb; extra=(--max-pending 0) ;;
      mt3-small) w=$mt3; extra=(--fixed-tokens 16) ;;
      mt3-acoustic) w=$mt3ac; extra=(--fixed-tokens 16) ;;
    esac
    out=$(dist/native/scribe-native transcribe "$clip" --model "$w" --seconds $((m * 60)) "${extra[@]}")
    printf '%-6s %-18s %7s %7s %9s %10s %10s\n' native $model $m "$(field notes <<<"$out")" \
      "$(field wall_seconds <<<"$out")" "$(field realtime_factor <<<"$out")" "$(field peak_rss_mb <<<"$out")"
    out=$(node tests/bench/memory_wasm.mjs "$w" $m "$clip" "${extra[@]}")
    printf '%-6s %-18s %7s %7s %9s %10s %10s\n' wasm $model $m "$(field notes <<<"$out")" \
      "$(field wall_seconds <<<"$out")" "$(field realtime_factor <<<"$out")" "$(field wasm_heap_mb <<<"$out")"
  done
done
echo "memory_mb: native peak RSS (getrusage), wasm HEAPU8.buffer.byteLength at the end of the run"
