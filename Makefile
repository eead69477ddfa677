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
NATIVE_CFLAGS := $(CFLAGS_COMMON) -O3 -march=native -g
ASAN_CFLAGS := $(CFLAGS_COMMON) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
EMCC_CFLAGS := $(CFLAGS_COMMON) -O3 -msimd128

NATIVE_OBJ := $(patsubst %.c,dist/obj/native/%.o,$(LIB_SRC) $(KISSFFT_SRC))
ASAN_OBJ := $(patsubst %.c,dist/obj/asan/%.o,$(LIB_SRC) $(KISSFFT_SRC))

EMCC_LDFLAGS := -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createScribeModule \
  -sENVIRONMENT=web,worker -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 -sMAXIMUM_MEMORY=4294967296 \
  -sTOTAL_STACK=1048576 -sFILESYSTEM=0 \
  -sEXPORTED_FUNCTIONS=_malloc,_free -sDYNAMIC_EXECUTION=0 -sTEXTDECODER=2

.PHONY: all deps native wasm web test test-native test-asan test-node test-e2e serve bench bench-acoustic clean symbols

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

dist/asan/run_tests: $(TEST_SRC) tests/native/test.h $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	gcc $(ASAN_CFLAGS) -Itests/native $(TEST_SRC) $(ASAN_OBJ) -lm -o $@

wasm: dist/scribe.mjs

dist/scribe.mjs: $(WASM_SRC) $(KISSFFT_SRC) $(HDR)
	@mkdir -p dist
	emcc $(EMCC_CFLAGS) $(WASM_SRC) $(KISSFFT_SRC) $(EMCC_LDFLAGS) -o $@

# The web app is served from dist/: static files, the engine and the shipped weights.
web: dist/scribe.mjs
	@mkdir -p dist/weights
	cp -r web/. dist/
	cp weights/*.scrb weights/*.md dist/weights/ 2>/dev/null || true
	cp weights/*.json dist/weights/ 2>/dev/null || true
	@[ -f dist/icons/icon-512.png ] || $(NODE) tools/make-icons.mjs dist/icons
	$(NODE) tools/stamp-web.mjs dist

symbols: dist/scribe.mjs
	@$(NODE) tools/list-exports.mjs dist/scribe.wasm

test: deps all
	$(MAKE) test-native test-asan test-node test-e2e

test-native: dist/native/run_tests
	SCRIBE_DATA=../shared/data/dev dist/native/run_tests

test-asan: dist/asan/run_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 SCRIBE_DATA=../shared/data/dev dist/asan/run_tests

test-node: wasm
	$(NODE) --test tests/node/

test-e2e: all
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then $(NODE) --test tests/e2e/; fi

serve: deps all
	$(NODE) tools/serve.mjs --root dist --port $(PORT)

bench: wasm native
	$(NODE) tests/bench/matmul.mjs

clean:
	rm -rf dist
