/* WASM exports for the log-mel front end (tests, tools). Bindings contain no logic. */
#include <emscripten/emscripten.h>
#include "../dsp/logmel.h"

EMSCRIPTEN_KEEPALIVE sc_logmel *wasm_logmel_new(uint32_t sample_rate, uint32_t fft_size, uint32_t hop, uint32_t n_mels,
                                                float lo_hz, float hi_hz, float log_floor, scribe_error *err) {
    sc_logmel_config c = {sample_rate, fft_size, hop, n_mels, lo_hz, hi_hz, log_floor};
    sc_logmel *m = NULL;
    sc_logmel_init(&c, &m, err);
    return m;
}
EMSCRIPTEN_KEEPALIVE sc_logmel *wasm_logmel_new_default(scribe_error *err) {
    sc_logmel_config c = sc_logmel_default_config();
    sc_logmel *m = NULL;
    sc_logmel_init(&c, &m, err);
    return m;
}
EMSCRIPTEN_KEEPALIVE size_t wasm_logmel_num_frames(const sc_logmel *m, size_t n) { return sc_logmel_num_frames(m, n); }
EMSCRIPTEN_KEEPALIVE uint32_t wasm_logmel_n_mels(const sc_logmel *m) { return sc_logmel_get_config(m)->n_mels; }
EMSCRIPTEN_KEEPALIVE void wasm_logmel_compute(sc_logmel *m, const float *samples, size_t n, float *out) {
    sc_logmel_compute(m, samples, n, out);
}
EMSCRIPTEN_KEEPALIVE void wasm_logmel_free(sc_logmel *m) { sc_logmel_free(m); }
