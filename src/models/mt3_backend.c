/* MT3 backend: audio at 16 kHz -> 256-frame log-mel segments -> T5 -> tokens -> notes.
 *
 * Segmentation follows MT3's inference: the audio is padded to a whole number of hop-sized frames
 * (always adding hop - len % hop zeros), split into segments of segment_frames frames, and each
 * segment's log-mel is computed from that segment's samples alone (zero padding past its end);
 * the last segment's missing frames are zero features. So streaming and whole-file feeding give
 * identical results. Each segment's tokens are decoded to notes with MT3's stitching rules once the
 * next segment's start is known (tokens past it are dropped) or at finish.
 * Complete segments are run `batch_segments` at a time (decoded together: one weight read serves
 * the whole batch), so a live stream with batch_segments > 1 waits for that many segments. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api/backend.h"
#include "../music/mt3_tokens.h"
#include "mt3.h"
#include "../dsp/logmel.h"

/* ------------------------------------------------------------------ model */

scribe_status sc_mt3_model_init(const sc_weights *w, sc_mt3_model **out, scribe_error *err) {
    *out = NULL;
    if (w->kind != SCRIBE_MODEL_MT3)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights kind %u is not MT3 (1)", w->kind);
    sc_mt3_model *m = calloc(1, sizeof *m);
    if (!m) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the MT3 model");
    const int32_t *c = w->config;
    scribe_status st = sc_mt3_codec_init(&m->codec, c[SC_T5_CFG_STEPS_PER_SECOND], c[SC_T5_CFG_MAX_SHIFT_STEPS],
                                         c[SC_T5_CFG_VELOCITY_BINS], c[SC_T5_CFG_USE_TIES],
                                         c[SC_T5_CFG_USE_PROGRAMS], c[SC_T5_CFG_USE_DRUMS], c[SC_T5_CFG_VOCAB], err);
    if (st) { free(m); return st; }
    m->sample_rate = c[SC_T5_CFG_SAMPLE_RATE];
    m->fft = c[SC_T5_CFG_FFT_SIZE];
    m->hop = c[SC_T5_CFG_HOP];
    m->mel_bins = c[SC_T5_CFG_MEL_BINS];
    m->fmin = sc_weights_config_float(w, SC_T5_CFG_FMIN);
    m->fmax = sc_weights_config_float(w, SC_T5_CFG_FMAX);
    if (m->sample_rate < 1000 || m->sample_rate > 192000 || m->hop < 1 || m->hop > 65536) {
        free(m);
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 sample rate %d or hop %d out of range",
                       c[SC_T5_CFG_SAMPLE_RATE], c[SC_T5_CFG_HOP]);
    }
    if (m->mel_bins != c[SC_T5_CFG_INPUT_FEATURES]) {
        free(m);
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 mel bins %d differ from the input features %d",
                       c[SC_T5_CFG_MEL_BINS], c[SC_T5_CFG_INPUT_FEATURES]);
    }
    st = sc_t5_model_init(&m->t5, w, err);
    if (st) { free(m); return st; }
    *out = m;
    return sc_ok(err);
}

scribe_status sc_mt3_model_from_buffer(const void *buf, size_t len, sc_mt3_model **out, scribe_error *err) {
    sc_weights w;
    scribe_status st = sc_weights_parse(buf, len, &w, err);
    if (st) return st;
    st = sc_mt3_model_init(&w, out, err);
    if (st) { sc_weights_free(&w); return st; }
    (*out)->own_weights = w;
    (*out)->owns_weights = 1;
    return SCRIBE_OK;
}

void sc_mt3_model_free(sc_mt3_model *m) {
    if (!m) return;
    sc_t5_model_free(&m->t5);
    if (m->owns_weights) sc_weights_free(&m->own_weights);
    free(m);
}

static scribe_status be_model_init(const sc_weights *w, void **model, scribe_error *err) {
    sc_mt3_model *m = NULL;
    scribe_status st = sc_mt3_model_init(w, &m, err);
    *model = m;
    return st;
}

static void be_model_free(void *model) { sc_mt3_model_free(model); }

static uint32_t be_sample_rate(const void *model) { return (uint32_t)((const sc_mt3_model *)model)->sample_rate; }

static void be_describe(const void *model, char *buf, size_t cap) {
    const sc_mt3_model *m = model;
    const sc_t5_config *c = &m->t5.cfg;
    const char *dt = m->t5.weight_dtype == SC_DTYPE_Q8 ? "q8" : m->t5.weight_dtype == SC_DTYPE_F16 ? "f16" : "f32";
    snprintf(buf, cap, "MT3 T5 d%d %dx%d heads mlp%d %d+%d layers vocab %d, %.1f M params (%s), %d velocity bins%s",
             c->d_model, c->heads, c->head_dim, c->mlp_dim, c->enc_layers, c->dec_layers, c->vocab,
             (double)m->t5.n_params / 1e6, dt, m->codec.num_velocity_bins, m->codec.use_ties ? ", ties" : "");
}

/* ------------------------------------------------------------------ session */

typedef struct mt3_session {
    const sc_mt3_model *m;
    sc_t5_state t5;
    sc_mt3_decoder dec;
    sc_logmel *mel;
    int batch, max_tokens, ignore_eos;
    size_t seg_samples;
    float *pending;          /* samples not yet run, from segment `next_segment` on */
    size_t pending_n, pending_cap;
    float *features;         /* [T][F] */
    int32_t *tokens;         /* [batch][max_tokens] */
    int *lengths;
    int32_t *held;           /* tokens of the last run segment, decoded once the next start is known */
    int held_n;
    int have_held;
    uint64_t next_segment;   /* index of the first pending segment */
    double enc_seconds, dec_seconds;
} mt3_session;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void be_session_free(void *session) {
    mt3_session *s = session;
    if (!s) return;
    sc_t5_state_free(&s->t5);
    sc_mt3_decoder_free(&s->dec);
    sc_logmel_free(s->mel);
    free(s->pending);
    free(s->features);
    free(s->tokens);
    free(s->lengths);
    free(s->held);
    free(s);
}

static scribe_status be_session_init(const void *model, const scribe_session_params *p, void **session,
                                     scribe_error *err) {
    const sc_mt3_model *m = model;
    const sc_t5_config *c = &m->t5.cfg;
    *session = NULL;
    int max_tokens = p->max_decode_tokens > 0 ? p->max_decode_tokens : c->max_decode;
    if (p->fixed_decode_tokens > 0) max_tokens = p->fixed_decode_tokens;
    if (max_tokens > c->max_decode)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "decode tokens %d above the model's maximum %d", max_tokens,
                       c->max_decode);
    int batch = p->batch_segments > 0 ? p->batch_segments : 1;
    if (batch > 64) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "batch_segments %d above 64", batch);
    mt3_session *s = calloc(1, sizeof *s);
    if (!s) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for an MT3 session");
    s->m = m;
    s->batch = batch;
    s->max_tokens = max_tokens;
    s->ignore_eos = p->fixed_decode_tokens > 0;
    s->seg_samples = (size_t)c->segment_frames * (size_t)m->hop;
    scribe_status st = sc_t5_state_init(&s->t5, &m->t5, batch, max_tokens, err);
    if (!st) st = sc_mt3_decoder_init(&s->dec, &m->codec, err);
    if (!st) {
        sc_logmel_config lc = sc_logmel_default_config();
        lc.sample_rate = (uint32_t)m->sample_rate;
        lc.fft_size = (uint32_t)m->fft;
        lc.hop = (uint32_t)m->hop;
        lc.n_mels = (uint32_t)m->mel_bins;
        lc.lo_hz = m->fmin;
        lc.hi_hz = m->fmax;
        st = sc_logmel_init(&lc, &s->mel, err);
    }
    if (!st) {
        s->features = sc_malloc_array((size_t)c->segment_frames * c->input_features, sizeof(float));
        s->tokens = sc_malloc_array((size_t)batch * max_tokens, sizeof(int32_t));
        s->lengths = sc_calloc_array((size_t)batch, sizeof(int));
        s->held = sc_malloc_array((size_t)max_tokens, sizeof(int32_t));
        if (!s->features || !s->tokens || !s->lengths || !s->held)
            st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for MT3 session buffers");
    }
    if (st) {
        be_session_free(s);
        return st;
    }
    *session = s;
    return sc_ok(err);
}

static double segment_start(const mt3_session *s, uint64_t k) {
    double t = (double)(k * s->seg_samples) / s->m->sample_rate;
    return sc_mt3_segment_start_time(&s->m->codec, t);
}

/* Decodes the held segment's tokens, `max_time` < 0 when it was the last one. */
static scribe_status decode_held(mt3_session *s, double max_time, sc_session_io *io, scribe_error *err) {
    if (!s->have_held) return SCRIBE_OK;
    s->have_held = 0;
    return sc_mt3_decoder_segment(&s->dec, s->held, (size_t)s->held_n, segment_start(s, s->next_segment - 1),
                                  max_time, io->done, err);
}

/* Runs `n` segments from the pending buffer; the last of them has `last_frames` frames of audio
 * (segment_frames for a full one). */
static scribe_status run_segments(mt3_session *s, int n, int last_frames, sc_session_io *io, scribe_error *err) {
    const sc_t5_config *c = &s->m->t5.cfg;
    const size_t F = (size_t)c->input_features, T = (size_t)c->segment_frames;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (io->cancel && *io->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
        int frames = i == n - 1 ? last_frames : (int)T;
        memset(s->features, 0, T * F * sizeof(float));
        sc_logmel_compute(s->mel, s->pending + (size_t)i * s->seg_samples, (size_t)frames * s->m->hop,
                              s->features);
        sc_t5_encode(&s->t5, i, s->features);
    }
    double t1 = now_s();
    sc_t5_decode(&s->t5, n, s->max_tokens, s->ignore_eos, s->tokens, s->lengths, NULL);
    double t2 = now_s();
    s->enc_seconds += t1 - t0;
    s->dec_seconds += t2 - t1;
    for (int i = 0; i < n; i++) {
        uint64_t k = s->next_segment;
        scribe_status st = decode_held(s, segment_start(s, k), io, err);
        if (st) return st;
        memcpy(s->held, s->tokens + (size_t)i * s->max_tokens, (size_t)s->lengths[i] * sizeof(int32_t));
        s->held_n = s->lengths[i];
        s->have_held = 1;
        s->next_segment = k + 1;
        if (io->progress) {
            double done = (double)((k + 1) * s->seg_samples) / s->m->sample_rate;
            if (io->progress(io->progress_user, done))
                return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled by the progress callback");
        }
    }
    /* drop the consumed samples */
    size_t used = (size_t)n * s->seg_samples;
    if (used > s->pending_n) used = s->pending_n;
    memmove(s->pending, s->pending + used, (s->pending_n - used) * sizeof(float));
    s->pending_n -= used;
    return SCRIBE_OK;
}

static scribe_status be_session_feed(void *session, const float *samples, size_t n, sc_session_io *io,
                                     scribe_error *err) {
    mt3_session *s = session;
    scribe_status st = sc_grow((void **)&s->pending, &s->pending_cap, s->pending_n + n, sizeof(float), err);
    if (st) return st;
    memcpy(s->pending + s->pending_n, samples, n * sizeof(float));
    s->pending_n += n;
    while (s->pending_n >= (size_t)s->batch * s->seg_samples) {
        if (io->cancel && *io->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
        st = run_segments(s, s->batch, s->m->t5.cfg.segment_frames, io, err);
        if (st) return st;
    }
    return SCRIBE_OK;
}

static scribe_status be_session_finish(void *session, sc_session_io *io, scribe_error *err) {
    mt3_session *s = session;
    const int T = s->m->t5.cfg.segment_frames;
    const size_t hop = (size_t)s->m->hop;
    /* MT3 pads the audio with hop - len % hop zeros: the final segment always has at least one frame */
    size_t full = s->pending_n / s->seg_samples;
    size_t rest = s->pending_n - full * s->seg_samples;
    size_t pad = hop - rest % hop;
    scribe_status st = sc_grow((void **)&s->pending, &s->pending_cap, s->pending_n + pad, sizeof(float), err);
    if (st) return st;
    memset(s->pending + s->pending_n, 0, pad * sizeof(float));
    s->pending_n += pad;
    size_t total_frames = s->pending_n / hop; /* frames of the remaining audio */
    size_t segs = (total_frames + (size_t)T - 1) / (size_t)T;
    while (segs > 0) {
        if (io->cancel && *io->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
        int n = segs < (size_t)s->batch ? (int)segs : s->batch;
        size_t frames_left = s->pending_n / hop;
        int last = (size_t)n == segs ? (int)(frames_left - (size_t)(n - 1) * T) : T;
        st = run_segments(s, n, last, io, err);
        if (st) return st;
        segs -= (size_t)n;
    }
    st = decode_held(s, -1.0, io, err);
    if (!st) st = sc_mt3_decoder_flush(&s->dec, io->done, err);
    return st;
}

const sc_backend sc_backend_mt3 = {
    "mt3",
    SCRIBE_MODEL_MT3,
    be_model_init,
    be_model_free,
    be_sample_rate,
    be_describe,
    be_session_init,
    be_session_feed,
    be_session_finish,
    be_session_free,
};
