/* WASM exports for audio: WAV decode/encode and resampling. Bindings contain no logic:
 * they only box results into heap cells the JS side reads (web/engine/audio.js). */
#include <emscripten/emscripten.h>
#include <stdlib.h>
#include "../common/common.h"

/* Decodes into a heap scribe_audio (NULL on failure, status in err). */
EMSCRIPTEN_KEEPALIVE scribe_audio *wasm_wav_decode(const uint8_t *bytes, size_t len, scribe_error *err) {
    scribe_audio *a = calloc(1, sizeof *a);
    if (!a) {
        sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    if (scribe_wav_decode(bytes, len, a, err) != SCRIBE_OK) {
        free(a);
        return NULL;
    }
    return a;
}
EMSCRIPTEN_KEEPALIVE float *wasm_audio_samples(const scribe_audio *a) { return a->samples; }
EMSCRIPTEN_KEEPALIVE size_t wasm_audio_frames(const scribe_audio *a) { return a->frames; }
EMSCRIPTEN_KEEPALIVE uint32_t wasm_audio_sample_rate(const scribe_audio *a) { return a->sample_rate; }
EMSCRIPTEN_KEEPALIVE uint32_t wasm_audio_source_channels(const scribe_audio *a) { return a->source_channels; }
EMSCRIPTEN_KEEPALIVE void wasm_audio_free(scribe_audio *a) {
    scribe_audio_free(a);
    free(a);
}

/* *out_bytes / *out_len receive the encoded file (free with wasm_free). */
EMSCRIPTEN_KEEPALIVE int wasm_wav_encode(const float *samples, size_t frames, uint32_t rate, uint8_t **out_bytes,
                                         size_t *out_len, scribe_error *err) {
    return scribe_wav_encode(samples, frames, rate, out_bytes, out_len, err);
}

/* *out / *out_n receive the resampled audio (free with wasm_free). */
EMSCRIPTEN_KEEPALIVE int wasm_resample(const float *in, size_t n, uint32_t in_rate, uint32_t out_rate, float **out,
                                       size_t *out_n, scribe_error *err) {
    return scribe_resample(in, n, in_rate, out_rate, out, out_n, err);
}

EMSCRIPTEN_KEEPALIVE scribe_resampler *wasm_resampler_new(uint32_t in_rate, uint32_t out_rate, scribe_error *err) {
    scribe_resampler *r = NULL;
    scribe_resampler_init(in_rate, out_rate, &r, err);
    return r;
}
EMSCRIPTEN_KEEPALIVE size_t wasm_resampler_max_output(const scribe_resampler *r, size_t n) {
    return scribe_resampler_max_output(r, n);
}
EMSCRIPTEN_KEEPALIVE int wasm_resampler_process(scribe_resampler *r, const float *in, size_t n, float *out,
                                                size_t cap, size_t *out_n, scribe_error *err) {
    return scribe_resampler_process(r, in, n, out, cap, out_n, err);
}
EMSCRIPTEN_KEEPALIVE size_t wasm_resampler_pending(const scribe_resampler *r) {
    return scribe_resampler_pending(r);
}
EMSCRIPTEN_KEEPALIVE int wasm_resampler_flush(scribe_resampler *r, float *out, size_t cap, size_t *out_n,
                                              scribe_error *err) {
    return scribe_resampler_flush(r, out, cap, out_n, err);
}
EMSCRIPTEN_KEEPALIVE void wasm_resampler_free(scribe_resampler *r) { scribe_resampler_free(r); }
