/* WASM exports for the MT3 network itself (parity tests, benchmarks). No logic: each forwards. */
#include <emscripten/emscripten.h>
#include <stdlib.h>
#include "../models/mt3.h"

EMSCRIPTEN_KEEPALIVE sc_mt3_model *wasm_mt3_load(const void *buf, size_t len, scribe_error *err) {
    sc_mt3_model *m = NULL;
    return sc_mt3_model_from_buffer(buf, len, &m, err) ? NULL : m;
}
EMSCRIPTEN_KEEPALIVE void wasm_mt3_free(sc_mt3_model *m) { sc_mt3_model_free(m); }
EMSCRIPTEN_KEEPALIVE int wasm_mt3_config(const sc_mt3_model *m, int i) { return ((const int *)&m->t5.cfg)[i]; }
EMSCRIPTEN_KEEPALIVE double wasm_mt3_params(const sc_mt3_model *m) { return (double)m->t5.n_params; }
EMSCRIPTEN_KEEPALIVE sc_t5_state *wasm_mt3_state_new(const sc_mt3_model *m, int slots, int max_tokens,
                                                     scribe_error *err) {
    sc_t5_state *s = calloc(1, sizeof *s);
    if (s && sc_t5_state_init(s, &m->t5, slots, max_tokens, err)) { free(s); return NULL; }
    return s;
}
EMSCRIPTEN_KEEPALIVE void wasm_mt3_state_free(sc_t5_state *s) { sc_t5_state_free(s); free(s); }
EMSCRIPTEN_KEEPALIVE void wasm_mt3_encode(sc_t5_state *s, int slot, const float *features) {
    sc_t5_encode(s, slot, features);
}
EMSCRIPTEN_KEEPALIVE const float *wasm_mt3_encoder_output(const sc_t5_state *s, int slot) {
    return sc_t5_encoder_output(s, slot);
}
EMSCRIPTEN_KEEPALIVE void wasm_mt3_decode(sc_t5_state *s, int n, int max_tokens, int ignore_eos, int32_t *tokens,
                                          int *lengths, float *logits) {
    sc_t5_decode(s, n, max_tokens, ignore_eos, tokens, lengths, logits);
}
EMSCRIPTEN_KEEPALIVE double wasm_mt3_encoder_flops(const sc_mt3_model *m) { return sc_t5_encoder_flops(&m->t5.cfg); }
EMSCRIPTEN_KEEPALIVE double wasm_mt3_decoder_flops(const sc_mt3_model *m, int t) {
    return sc_t5_decoder_flops_per_token(&m->t5.cfg, t);
}
