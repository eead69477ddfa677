# scribe: one Makefile for the native library, the WASM build, the web app and every test suite.
# `make test` and `make serve` install whatever is missing first (tools/deps.sh).

SHELL := /bin/bash
PORT ?= 8080
PY := /usr/bin/python3
NODE := node
export NODE_PATH := /usr/share/nodejs

KISSFFT_DIR := .deps/kissfft
KISSFFT_SRC := $(KISSFFT_DIR)/kiss_fft.c $(KISSFFT_DIR)/kiss_fftr.c

SRC := $(sort $(wildcard src/*/*.c))
LIB_SRC := $(filter-out src/wasm/%,$(SRC))
WASM_SRC := $(SRC)
HDR := include/scribe.h $(wildcard src/*/*.h)
TEST_SRC := $(sort $(wildcard tests/native/*.c))

CFLAGS_COMMON := -std=c11 -Wall -Wextra -Wno-unused-parameter -Iinclude -Isrc -I$(KISSFFT_DIR) -Dkiss_fft_scalar=float
# AVX2+FMA rather than -march=native: valgrind cannot run AVX-512 code.
NATIVE_CFLAGS := $(CFLAGS_COMMON) -O3 -mavx2 -mfma -g
ASAN_CFLAGS := $(CFLAGS_COMMON) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
EMCC_CFLAGS := $(CFLAGS_COMMON) -O3 -msimd128

NATIVE_OBJ := $(patsubst %.c,dist/obj/native/%.o,$(LIB_SRC) $(KISSFFT_SRC))
ASAN_OBJ := $(patsubst %.c,dist/obj/asan/%.o,$(LIB_SRC) $(KISSFFT_SRC))

EMCC_LDFLAGS := -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createScribeModule \
  -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 -sMAXIMUM_MEMORY=4294967296 \
  -sTOTAL_STACK=1048576 -sFILESYSTEM=0 \
  -sEXPORTED_FUNCTIONS=_malloc,_free -sDYNAMIC_EXECUTION=0 -sTEXTDECODER=2

.PHONY: all deps native wasm web test test-native test-asan test-node test-e2e serve bench clean symbols
# (other .PHONY lines stand next to their targets)
.PHONY: bench-web bench-memory bench-stream bench-acoustic

all: native wasm web

deps:
	bash tools/deps.sh

$(KISSFFT_SRC):
	bash tools/deps.sh kissfft

native: dist/native/libscribe.a dist/native/run_tests

dist/obj/native/%.o: %.c $(HDR) | $(KISSFFT_SRC)
	@mkdir -p $(dir $@)
	gcc $(NATIVE_CFLAGS) -c $< -o $@

dist/obj/asan/%.o: %.c $(HDR) | $(KISSFFT_SRC)
	@mkdir -p $(dir $@)
	gcc $(ASAN_CFLAGS) -c $< -o $@

dist/native/libscribe.a: $(NATIVE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

dist/native/run_tests: $(TEST_SRC) tests/native/test.h dist/native/libscribe.a
	gcc $(NATIVE_CFLAGS) -Itests/native $(TEST_SRC) dist/native/libscribe.a -lm -o $@

dist/asan/libscribe.a: $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

dist/asan/run_tests: $(TEST_SRC) tests/native/test.h dist/asan/libscribe.a
	gcc $(ASAN_CFLAGS) -Itests/native $(TEST_SRC) dist/asan/libscribe.a -lm -o $@

wasm: dist/scribe.mjs dist/scribe-relaxed.wasm

dist/scribe.mjs: $(WASM_SRC) $(KISSFFT_SRC) $(HDR)
	@mkdir -p dist
	emcc $(EMCC_CFLAGS) $(WASM_SRC) $(KISSFFT_SRC) $(EMCC_LDFLAGS) -o $@

# The fused multiply-add build: the same module with every f32x4 mul+add rewritten into
# f32x4.relaxed_madd by tools/relax_fma.mjs (binaryen.js, pinned in package.json: LLVM 14 can only
# emit the pre-standard FMA opcode). Same imports and exports, so dist/scribe.mjs loads either;
# web/engine/core.js picks it where the runtime validates relaxed SIMD.
dist/scribe-relaxed.wasm: dist/scribe.mjs tools/relax_fma.mjs | node_modules/binaryen/package.json
	$(NODE) tools/relax_fma.mjs dist/scribe.wasm $@

node_modules/binaryen/package.json:
	@echo "node_modules/binaryen is missing: run 'make deps' (npm ci)" >&2; exit 1

# The web app is served from dist/: static files, the engine and the shipped weights.
web: dist/scribe.mjs dist/scribe-relaxed.wasm
	@mkdir -p dist/weights
	cp -r web/. dist/
	cp weights/*.scrb weights/*.md dist/weights/ 2>/dev/null || true
	cp weights/*.json dist/weights/ 2>/dev/null || true
	@[ -f dist/icons/icon-512.png ] || $(NODE) tools/make-icons.mjs dist/icons
	$(NODE) tools/stamp-web.mjs dist

symbols: dist/scribe.mjs
	@$(NODE) tools/list-exports.mjs dist/scribe.wasm

test: deps all
	$(MAKE) test-native test-asan test-fuzz test-node test-e2e

test-native: dist/native/run_tests
	SCRIBE_DATA=../shared/data/dev dist/native/run_tests

test-asan: dist/asan/run_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 SCRIBE_DATA=../shared/data/dev dist/asan/run_tests

test-node: wasm dist/native/scribe-acoustic-features
	$(NODE) --test tests/node/

test-e2e: all
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then $(NODE) --test tests/e2e/; fi

serve: deps all
	$(NODE) tools/serve.mjs --root dist --port $(PORT)

dist/native/bench_matmul: tests/bench/matmul_native.c dist/native/libscribe.a
	gcc $(NATIVE_CFLAGS) $< dist/native/libscribe.a -lm -o $@

bench: wasm native dist/native/bench_matmul
	$(NODE) tests/bench/matmul.mjs
	$(NODE) tests/bench/frontend.mjs

# Browser figures: time to first note (3-minute file), longest main-thread task, peak memory (1-hour file).
bench-web: web
	nice $(NODE) tools/bench-web.mjs

clean:
	rm -rf dist

# ---------------------------------------------------------------- fuzzing (libFuzzer, clang)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS := $(CFLAGS_COMMON) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_OBJ := $(patsubst %.c,dist/obj/fuzz/%.o,$(LIB_SRC) $(KISSFFT_SRC))

dist/obj/fuzz/%.o: %.c $(HDR) | $(KISSFFT_SRC)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_COMMON) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

dist/fuzz/libscribe.a: $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

dist/fuzz/fuzz_%: tests/fuzz/fuzz_%.c dist/fuzz/libscribe.a
	clang $(FUZZ_CFLAGS) $< dist/fuzz/libscribe.a -lm -o $@

.PHONY: fuzz fuzz-build test-fuzz
fuzz-build: $(addprefix dist/fuzz/fuzz_,$(FUZZ_TARGETS))

# Runs every fuzzer for FUZZ_SECONDS each; new corpus entries and crashes are kept under tests/fuzz/.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/corpus/$$t tests/fuzz/crashes/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  dist/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix=tests/fuzz/crashes/$$t/ -print_final_stats=1 tests/fuzz/corpus/$$t 2>&1 \
	    | grep -E '^(stat::|==|#[0-9]+ *DONE)|ERROR|SUMMARY' || true; \
	done

# Regression: replays the kept corpus and past crashes through every fuzzer (seconds, part of make test).
test-fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  files=$$(ls tests/fuzz/corpus/$$t/* tests/fuzz/crashes/$$t/* 2>/dev/null); \
	  if [ -n "$$files" ]; then dist/fuzz/fuzz_$$t -runs=1 $$files >/dev/null 2>dist/fuzz/$$t.log \
	    || { cat dist/fuzz/$$t.log; echo "fuzz regression $$t: FAILED"; exit 1; }; \
	  echo "fuzz regression $$t: $$(echo $$files | wc -w) inputs ok"; fi; \
	done

.PHONY: test-valgrind
# The native suite under valgrind: no invalid accesses, no leaks.
test-valgrind: dist/native/run_tests
	SCRIBE_DATA=../shared/data/dev valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --error-exitcode=1 dist/native/run_tests

# Basic Pitch weights from the pinned npm package (reproducible; tests/node/acoustic_convert.test.mjs
# checks the committed file equals a fresh conversion).
BASIC_PITCH_MODEL := node_modules/@spotify/basic-pitch/model
weights/basic-pitch.scrb: tools/convert_basic_pitch.mjs $(BASIC_PITCH_MODEL)/model.json $(BASIC_PITCH_MODEL)/group1-shard1of1.bin
	$(NODE) tools/convert_basic_pitch.mjs $(BASIC_PITCH_MODEL) $@

# The npm package on tfjs-wasm (SIMD) against our WASM build, same 60 s clip, audio to notes.
bench-acoustic: wasm
	$(NODE) tests/bench/acoustic.mjs

.PHONY: data train eval
# MT3 training data from Debian/npm packages only (tools/data/build_dataset.py; see tools/train/README.md).
# Then the acoustic (Basic Pitch) features of every rendition, computed by the engine itself.
DATA_JOBS ?= 2
data: dist/native/scribe-acoustic-features
	nice -n 10 $(PY) tools/data/build_dataset.py --out .data/dataset --mma 120 --random 80 --renditions 2 \
	  --more-mma 300 --more-random 150 --more-renditions 2 --font-renditions 2 --font-mma 150 \
	  --mix-renditions 1 --mix-mma 150 --piano-renditions 2 --piano-mma 200 --balanced-renditions 2 \
	  --balanced-mma 200 --freepats-renditions 2 --freepats-mma 200 --stk-renditions 2 --stk-mma 200 \
	  --drumkit-renditions 2 --drumkit-mma 200 --jobs $(DATA_JOBS)
	nice -n 10 $(PY) tools/data/acoustic_features.py --data .data/dataset --jobs $(DATA_JOBS)

# Resumes (or starts) the current training run for TRAIN_MIN minutes (tools/train/README.md): the
# encoder reads log-mel + acoustic posteriors, per-feature normalised; aux frame loss, guided attention,
# time-relative cross-attention bias, shift pointer. A run without a checkpoint in .data/ (a fresh machine) continues
# from the committed snapshot weights/train/mt3-train.pt; `make train-snapshot` refreshes that file.
TRAIN_MIN ?= 60
TRAIN_RUN ?= .data/runs/main
# processes training together, one core each (train.py --ranks; 1.91x the segments per hour of one on 2 cores)
TRAIN_RANKS ?= 2
TRAIN_SNAPSHOT ?= weights/train/mt3-train.pt
TRAIN_ARGS ?=
train:
	nice -n 10 $(PY) tools/train/train.py --run $(TRAIN_RUN) --acoustic --time-init --d 128 --heads 4 \
	  --head-dim 32 --mlp 512 --layers 3 --batch 8 --warmup 30 --lr 3e-3 --aux 1.0 --guided 1.0 \
	  --cross-time-bias 32 --shift-pointer 1 --onset-copy 2 $(if $(wildcard $(TRAIN_SNAPSHOT)),--init-from $(TRAIN_SNAPSHOT)) \
	  --eval-min 15 --save-min 5 --ranks $(TRAIN_RANKS) --minutes $(TRAIN_MIN) $(TRAIN_ARGS)

.PHONY: train-snapshot
train-snapshot:
	$(PY) tools/train/snapshot.py --run $(TRAIN_RUN) --out $(TRAIN_SNAPSHOT)

# Transcribes the dev clips and the held-out set with the engine (bin/scribe) and prints mir_eval metrics.
MT3_MODEL ?= weights/mt3.scrb
eval: wasm
	$(PY) tools/eval.py --model $(MT3_MODEL)

# ---------------------------------------------------------------- native CLI twin, memory bound
dist/native/scribe-native: tools/native/transcribe_native.c dist/native/libscribe.a
	gcc $(NATIVE_CFLAGS) $< dist/native/libscribe.a -lm -o $@

# Acoustic (Basic Pitch) features of whole files for training MT3 models that read them.
dist/native/scribe-acoustic-features: tools/native/acoustic_features_native.c dist/native/libscribe.a
	gcc $(NATIVE_CFLAGS) $< dist/native/libscribe.a -lm -o $@

# Peak memory and time of whole-file transcription (figures, not a test): native RSS and WASM heap
# for 1, 10 and 60 minutes of a looped dev clip, acoustic model and a small random MT3 model.
# BENCH_MINUTES="1 10 60" by default.
BENCH_MINUTES ?= 1 10 60
bench-memory: dist/native/scribe-native wasm
	bash tests/bench/memory.sh $(BENCH_MINUTES)

# A long stream (BENCH_STREAM_MINUTES, default 30) in random blocks equals the whole input at once.
BENCH_STREAM_MINUTES ?= 30
bench-stream: dist/native/scribe-native
	bash tests/bench/stream_equal.sh $(BENCH_STREAM_MINUTES)
