/* WASM exports for errors and memory hand-over. Bindings contain no logic. */
#include <emscripten/emscripten.h>
#include <stdlib.h>
#include "../common/common.h"

EMSCRIPTEN_KEEPALIVE scribe_error *wasm_error_new(void) { return calloc(1, sizeof(scribe_error)); }
EMSCRIPTEN_KEEPALIVE int wasm_error_code(const scribe_error *e) { return e->code; }
EMSCRIPTEN_KEEPALIVE const char *wasm_error_message(const scribe_error *e) { return e->message; }
EMSCRIPTEN_KEEPALIVE const char *wasm_status_name(int code) { return scribe_status_name((scribe_status)code); }
EMSCRIPTEN_KEEPALIVE void wasm_free(void *p) { scribe_free(p); }
