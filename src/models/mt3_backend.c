/* MT3 backend: audio at 16 kHz -> 256-frame log-mel segments -> T5 -> tokens -> notes.
 *
 * Segmentation follows MT3's inference: the audio is padded to a whole number of hop-sized frames
 * (always adding hop - len % hop zeros), split into segments of segment_frames frames, and each
 * segment's log-mel is computed from that segment's samples alone (zero padding past its end);
 * the last segment's missing frames are zero features. So streaming and whole-file feeding give
 * identical results. Each segment's tokens are decoded to notes with MT3's stitching rules once the
 * next segment's start is known (tokens past it are dropped) or at finish.
 * Complete segments are run `batch_segments` at a time (decoded together: one weight read serves
 * the whole batch), so a live stream with batch_segments > 1 waits for that many segments.
 *
 * Acoustic features (config acoustic_features = 176, our trained models; see mt3_acoustic.h): the
 * weights file embeds the Basic Pitch network (t5.h) and each encoder row is
 * [mel_bins log-mel | 88 note | 88 onset posteriors], the posteriors at the frame's time by
 * sc_mt3_ac_rows. As audio arrives the session resamples it (model rate -> 22050 Hz, scribe's
 * streaming resampler: the same samples as scribe_resample of the whole signal; the unpadded
 * signal) and runs every complete acoustic window with acoustic_backend.c's windowing (the same
 * rows as sc_acoustic_posteriorgrams; the same sc_acoustic_windower). A batch of
 * segments runs once its samples are here and the posteriorgram rows its frames read are final
 * (from complete windows and below the final frame count whatever follows), or at finish (then
 * the total frame count is known and frames past it read 0). This is exactly
 * tools/native/acoustic_features_native.c's whole-file chain (the training features), so whole-file
 * and any block feeding give identical inputs. Frames past the audio in the last segment are zero
 * in all features, as for the log-mel. Memory stays bounded: after each batch the rows below the
 * first one the next segment reads are dropped, so the session holds about one segment plus one
 * acoustic window of rows (~300 x 176 floats) whatever the input length; live input waits for
 * the acoustic lookahead (up to one window step, 1.6 s) beyond the segment.
 * With config rejoin_ms or onset_gate (our trained models) each segment keeps its onset posteriors
 * until its tokens are decoded: they are the decoder's onset evidence (sc_mt3_decoder_set_evidence).
 * A note the model ends and starts again within rejoin_ms with no acoustic onset there stays one
 * note; a new pitched note with no acoustic onset is dropped (onset_gate). With tie_recover, tie_end,
 * offset_clip or onset_recover the session also keeps the note posteriors, and both columns of the
 * segment before the held one: those rules read single frames of both (sc_mt3_decoder_set_tie_rules,
 * sc_mt3_decoder_set_offset_clip, sc_mt3_decoder_set_onset_recovery). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <math.h>

#include "../api/backend.h"
#include "../api/session_internal.h"
#include "../music/mt3_tokens.h"
#include "mt3.h"
#include "mt3_acoustic.h"
#include "../dsp/logmel.h"

/* ------------------------------------------------------------------ model */

/* Prefixes the message of a failure from the embedded acoustic network's binding. */
static scribe_status acoustic_failure(scribe_error *err, scribe_status st) {
    if (!err) return st;
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%s", err->message);
    return sc_fail(err, st, "MT3 embedded acoustic network: %s", msg);
}

/* The embedded acoustic network (t5.h): acoustic.config holds its 64 config int32s as f32 bit
 * patterns, its tensors are named "acoustic." + their basic-pitch.scrb names. */
static scribe_status bind_acoustic(sc_mt3_model *m, const sc_weights *w, scribe_error *err) {
    const uint32_t shape[1] = {SC_WEIGHTS_CONFIG_LEN};
    const sc_tensor *t = sc_weights_get(w, "acoustic.config", 1u << SC_DTYPE_F32, 1, shape, err);
    if (!t) return acoustic_failure(err, SCRIBE_ERR_BAD_WEIGHTS);
    int32_t cfg[SC_WEIGHTS_CONFIG_LEN];
    memcpy(cfg, t->data, sizeof cfg);
    m->ac = calloc(1, sizeof *m->ac);
    if (!m->ac) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the MT3 acoustic network");
    scribe_status st = sc_acoustic_model_bind(cfg, w, "acoustic.", m->ac, err);
    if (st) {
        free(m->ac);
        m->ac = NULL;
        return acoustic_failure(err, st);
    }
    return SCRIBE_OK;
}

scribe_status sc_mt3_model_init(const sc_weights *w, sc_mt3_model **out, scribe_error *err) {
    *out = NULL;
    if (w->kind != SCRIBE_MODEL_MT3)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights kind %u is not MT3 (1)", w->kind);
    sc_mt3_model *m = calloc(1, sizeof *m);
    if (!m) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the MT3 model");
    const int32_t *c = w->config;
    scribe_status st;
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
    const int acf = c[SC_T5_CFG_ACOUSTIC_FEATURES];
    m->acoustic_features = acf;
    if (acf != 0 && acf != SC_MT3_AC_FEATURES) {
        free(m);
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 config acoustic_features = %d: must be 0 or %d", acf,
                       SC_MT3_AC_FEATURES);
    }
    if (c[SC_T5_CFG_MEL_BINS] < 1 || (int64_t)c[SC_T5_CFG_MEL_BINS] + acf != c[SC_T5_CFG_INPUT_FEATURES]) {
        free(m);
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS,
                       "MT3 input features %d differ from mel bins %d + acoustic features %d",
                       c[SC_T5_CFG_INPUT_FEATURES], c[SC_T5_CFG_MEL_BINS], acf);
    }
    if ((c[SC_T5_CFG_REJOIN_MS] || c[SC_T5_CFG_ONSET_GATE] || c[SC_T5_CFG_TIE_RECOVER] || c[SC_T5_CFG_TIE_END] ||
         c[SC_T5_CFG_OFFSET_CLIP] || c[SC_T5_CFG_ONSET_RECOVER]) && !acf) {
        free(m);
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "MT3 config rejoin_ms = %d / onset_gate = %d / tie_recover = %d / "
                       "tie_end = %d / offset_clip = %d / onset_recover = %d needs acoustic features",
                       c[SC_T5_CFG_REJOIN_MS], c[SC_T5_CFG_ONSET_GATE], c[SC_T5_CFG_TIE_RECOVER], c[SC_T5_CFG_TIE_END],
                       c[SC_T5_CFG_OFFSET_CLIP], c[SC_T5_CFG_ONSET_RECOVER]);
    }
    st = sc_t5_model_init(&m->t5, w, err);
    if (st) { free(m); return st; }
    if (m->acoustic_features) {
        st = bind_acoustic(m, w, err);
        if (st) { sc_mt3_model_free(m); return st; }
    }
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
    if (m->ac) {
        sc_acoustic_model_free(m->ac);
        free(m->ac);
    }
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
    snprintf(buf, cap, "MT3 T5 d%d %dx%d heads mlp%d %d+%d layers vocab %d, %.1f M params (%s), %d velocity bins%s%s",
             c->d_model, c->heads, c->head_dim, c->mlp_dim, c->enc_layers, c->dec_layers, c->vocab,
             (double)m->t5.n_params / 1e6, dt, m->t5.codec.num_velocity_bins, m->t5.codec.use_ties ? ", ties" : "",
             m->ac ? ", reads Basic Pitch posteriors" : "");
}

/* ------------------------------------------------------------------ session */

/* Input samples handled per step of a feed: bounds the pending audio and the acoustic rows held
 * however much audio one feed call brings. */
#define FEED_CHUNK 16384

/* Acoustic (Basic Pitch) posteriorgram stream of a session whose model reads acoustic features. */
typedef struct mt3_acoustic_stream {
    const sc_acoustic_model *m;
    sc_mt3_ac_timing tm;
    scribe_resampler *rs;    /* model rate -> acoustic rate */
    sc_acoustic_windower win; /* the network's windowing; n_audio: acoustic-rate samples fed */
    float *x;                /* resampled samples of the current step */
    size_t x_cap;
    float *notes, *onsets;   /* held rows [n_held][88]: acoustic frames j_base .. j_base + n_held - 1 */
    int64_t j_base, n_held;
    size_t cap_notes, cap_onsets; /* floats allocated */
    int64_t n_total;         /* total frames once the stream ended, else -1 */
    int64_t max_held;        /* most rows held at once (tests) */
} mt3_acoustic_stream;

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
    float *seg_onsets;       /* decoding rules: acoustic onset posteriors [batch][T][88] of the segments run */
    float *seg_notes;        /* and note posteriors */
    float *held_onsets, *held_notes; /* those of the held segment [T][88] */
    float *prev_onsets, *prev_notes; /* those of the segment before it (tie rules) */
    uint64_t next_segment;   /* index of the first pending segment */
    double enc_seconds, dec_seconds;
    mt3_acoustic_stream *ac; /* NULL unless the model reads acoustic features */
    float *collect;          /* sc_mt3_encoder_inputs: features of every segment, network not run */
    size_t collect_n, collect_cap;
    int collecting;
} mt3_session;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------- acoustic stream
 * The acoustic network's windowing (sc_acoustic_windower, as the acoustic session) over the
 * resampled signal. Rows stay only while a segment not yet run needs them. */

static void ac_free(mt3_acoustic_stream *a) {
    if (!a) return;
    scribe_resampler_free(a->rs);
    sc_acoustic_windower_free(&a->win);
    free(a->x);
    free(a->notes);
    free(a->onsets);
    free(a);
}

static scribe_status ac_init(const sc_mt3_model *mm, mt3_acoustic_stream **out, scribe_error *err) {
    const sc_acoustic_model *m = mm->ac;
    mt3_acoustic_stream *a = calloc(1, sizeof *a);
    if (!a) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the acoustic stream");
    a->m = m;
    a->tm = sc_mt3_ac_timing_of(m, mm->hop, mm->sample_rate);
    a->n_total = -1;
    scribe_status st = scribe_resampler_init((uint32_t)mm->sample_rate, (uint32_t)m->sample_rate, &a->rs, err);
    if (!st) st = sc_acoustic_windower_init(&a->win, m, err);
    if (st) {
        ac_free(a);
        return st;
    }
    *out = a;
    return sc_ok(err);
}

/* Runs the next window and appends its kept rows. */
static scribe_status ac_run_window(mt3_acoustic_stream *a, scribe_error *err) {
    sc_acoustic_windower *w = &a->win;
    const int P = a->m->note_bins, keep = w->keep;
    sc_acoustic_windower_run(w);
    const size_t need = (size_t)(a->n_held + keep) * P;
    scribe_status st = sc_grow((void **)&a->notes, &a->cap_notes, need, sizeof(float), err);
    if (!st) st = sc_grow((void **)&a->onsets, &a->cap_onsets, need, sizeof(float), err);
    if (st) return st;
    memcpy(a->notes + (size_t)a->n_held * P, w->wn + (size_t)w->trim * P, (size_t)keep * P * sizeof(float));
    memcpy(a->onsets + (size_t)a->n_held * P, w->wo + (size_t)w->trim * P, (size_t)keep * P * sizeof(float));
    a->n_held += keep;
    if (a->n_held > a->max_held) a->max_held = a->n_held;
    return SCRIBE_OK;
}

/* Appends acoustic-rate samples, running every window that becomes complete. */
static scribe_status ac_push(mt3_acoustic_stream *a, const float *x, size_t n, scribe_error *err) {
    while (n > 0) {
        size_t k = sc_acoustic_windower_take(&a->win, x, n);
        x += k;
        n -= k;
        if (sc_acoustic_windower_full(&a->win)) {
            scribe_status st = ac_run_window(a, err);
            if (st) return st;
        }
    }
    return SCRIBE_OK;
}

/* Model-rate samples in: resampled and pushed. */
static scribe_status ac_feed(mt3_acoustic_stream *a, const float *x, size_t n, scribe_error *err) {
    size_t got = 0;
    scribe_status st =
        sc_grow((void **)&a->x, &a->x_cap, scribe_resampler_max_output(a->rs, n) + 1, sizeof(float), err);
    if (!st) st = scribe_resampler_process(a->rs, x, n, a->x, a->x_cap, &got, err);
    if (!st) st = ac_push(a, a->x, got, err);
    return st;
}

/* End of stream: flushes the resampler, runs the remaining windows, fixes n_total. */
static scribe_status ac_finish(mt3_acoustic_stream *a, scribe_error *err) {
    size_t got = 0;
    scribe_status st = sc_grow((void **)&a->x, &a->x_cap, scribe_resampler_pending(a->rs) + 1, sizeof(float), err);
    if (!st) st = scribe_resampler_flush(a->rs, a->x, a->x_cap, &got, err);
    if (!st) st = ac_push(a, a->x, got, err);
    while (!st && sc_acoustic_windower_more(&a->win)) st = ac_run_window(a, err);
    if (st) return st;
    a->n_total = a->j_base + a->n_held; /* every window row, as sc_acoustic_window_rows */
    return SCRIBE_OK;
}

/* Frames final so far: the rows of complete windows. */
static int64_t ac_known(const mt3_acoustic_stream *a) {
    return a->n_total >= 0 ? a->n_total : a->j_base + a->n_held;
}

/* Whether MT3 frames below `mt3_end` can be filled now. */
static int ac_ready(const mt3_acoustic_stream *a, int64_t mt3_end) {
    return a->n_total >= 0 || ac_known(a) >= sc_mt3_ac_frames_needed(&a->tm, mt3_end);
}

/* Drops the rows below the first one MT3 frame `mt3_first` (and later frames) reads. */
static void ac_drop_before(mt3_acoustic_stream *a, int64_t mt3_first) {
    int64_t j = sc_mt3_ac_frames_needed(&a->tm, mt3_first + 1) - 2; /* frame mt3_first's lower neighbour */
    int64_t drop = j - a->j_base;
    if (drop > a->n_held) drop = a->n_held;
    if (drop <= 0) return;
    const size_t P = (size_t)a->m->note_bins, rest = (size_t)(a->n_held - drop);
    memmove(a->notes, a->notes + (size_t)drop * P, rest * P * sizeof(float));
    memmove(a->onsets, a->onsets + (size_t)drop * P, rest * P * sizeof(float));
    a->j_base += drop;
    a->n_held -= drop;
}

/* ---------------------------------------------------- session */

static void be_session_free(void *session) {
    mt3_session *s = session;
    if (!s) return;
    sc_t5_state_free(&s->t5);
    sc_mt3_decoder_free(&s->dec);
    sc_logmel_free(s->mel);
    ac_free(s->ac);
    free(s->pending);
    free(s->features);
    free(s->tokens);
    free(s->lengths);
    free(s->held);
    free(s->seg_onsets);
    free(s->seg_notes);
    free(s->held_onsets);
    free(s->held_notes);
    free(s->prev_onsets);
    free(s->prev_notes);
    free(s->collect);
    free(s);
}

static float held_onset_evidence(void *user, double time_s, int pitch);
static float held_posterior(void *user, int64_t frame, int pitch, int kind);

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
    /* the pending samples grow to a whole batch of segments (segment_frames * hop each): size checked in
       uint64_t against the engine's per-buffer limit (common.h), as a 32-bit size_t would wrap */
    scribe_status st = SCRIBE_OK;
    if (!sc_buffer_fits((uint64_t)batch * s->seg_samples, sizeof(float), NULL))
        st = sc_fail(err, SCRIBE_ERR_TOO_LARGE, "MT3 batch of %d segments of %zu samples is above the engine's "
                     SC_MAX_BUFFER_TEXT " limit per buffer", batch, s->seg_samples);
    if (!st) st = sc_t5_state_init(&s->t5, &m->t5, batch, max_tokens, err);
    if (!st) st = sc_mt3_decoder_init(&s->dec, &m->t5.codec, err);
    if (!st) sc_mt3_decoder_set_join(&s->dec, c->join_ms / 1000.0);
    if (!st && (c->rejoin_ms > 0 || c->onset_gate > 0 || c->tie_recover > 0 || c->tie_end > 0 || c->offset_clip > 0 ||
                c->onset_recover > 0) && m->ac) {
        const size_t TP = (size_t)c->segment_frames * SC_MT3_AC_PITCHES;
        s->seg_onsets = sc_malloc_array((size_t)batch * TP, sizeof(float));
        s->seg_notes = sc_malloc_array((size_t)batch * TP, sizeof(float));
        s->held_onsets = sc_malloc_array(TP, sizeof(float));
        s->held_notes = sc_malloc_array(TP, sizeof(float));
        s->prev_onsets = sc_malloc_array(TP, sizeof(float));
        s->prev_notes = sc_malloc_array(TP, sizeof(float));
        if (!s->seg_onsets || !s->seg_notes || !s->held_onsets || !s->held_notes || !s->prev_onsets || !s->prev_notes)
            st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for MT3 session buffers");
        sc_mt3_decoder_set_evidence(&s->dec, held_onset_evidence, s);
        sc_mt3_decoder_set_rejoin(&s->dec, c->rejoin_ms / 1000.0, (float)c->rejoin_onset / 1000.0f);
        sc_mt3_decoder_set_gate(&s->dec, (float)c->onset_gate / 1000.0f);
        sc_mt3_decoder_set_tie_rules(&s->dec, held_posterior, s, (double)m->sample_rate / m->hop, c->segment_frames,
                                     (float)c->tie_recover / 1000.0f, (float)c->tie_end / 1000.0f);
        sc_mt3_decoder_set_offset_clip(&s->dec, (float)c->offset_clip / 1000.0f);
        sc_mt3_decoder_set_onset_recovery(&s->dec, (float)c->onset_recover / 1000.0f);
    }
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
    if (!st && m->ac) st = ac_init(m, &s->ac, err);
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
    return sc_mt3_segment_start_time(&s->m->t5.codec, t);
}

#define EVIDENCE_FRAMES 3 /* onset evidence: the largest posterior within +-3 frames (+-24 ms) */

/* sc_mt3_onset_evidence_fn over the held segment's acoustic onset posteriors (it is the one decoding). */
static float held_onset_evidence(void *user, double time_s, int pitch) {
    const mt3_session *s = user;
    const int T = s->m->t5.cfg.segment_frames, P = SC_MT3_AC_PITCHES, q = pitch - SC_MT3_AC_LOWEST_PITCH;
    if (q < 0 || q >= P) return 1.0f; /* outside the acoustic range: no evidence either way, keep the onset */
    const int64_t f = llround(time_s * s->m->sample_rate / s->m->hop) - (int64_t)(s->next_segment - 1) * T;
    float best = 0.0f;
    for (int64_t j = f - EVIDENCE_FRAMES; j <= f + EVIDENCE_FRAMES; j++)
        if (j >= 0 && j < T && s->held_onsets[j * P + q] > best) best = s->held_onsets[j * P + q];
    return best;
}

/* sc_mt3_posterior_fn over the held segment and the one before it (-1 elsewhere). */
static float held_posterior(void *user, int64_t frame, int pitch, int kind) {
    const mt3_session *s = user;
    const int64_t T = s->m->t5.cfg.segment_frames;
    const int P = SC_MT3_AC_PITCHES, q = pitch - SC_MT3_AC_LOWEST_PITCH;
    if (q < 0 || q >= P || s->next_segment < 1) return -1.0f;
    int64_t j = frame - (int64_t)(s->next_segment - 1) * T;
    if (j >= 0 && j < T) return (kind ? s->held_notes : s->held_onsets)[j * P + q];
    j += T;
    if (s->next_segment >= 2 && j >= 0 && j < T) return (kind ? s->prev_notes : s->prev_onsets)[j * P + q];
    return -1.0f;
}

/* Decodes the held segment's tokens, `max_time` < 0 when it was the last one. */
static scribe_status decode_held(mt3_session *s, double max_time, sc_session_io *io, scribe_error *err) {
    if (!s->have_held) return SCRIBE_OK;
    s->have_held = 0;
    return sc_mt3_decoder_segment(&s->dec, s->held, (size_t)s->held_n, segment_start(s, s->next_segment - 1),
                                  max_time, io->done, err);
}

/* Encoder input of segment `k` (its samples at `x`, `frames` frames of audio) into s->features:
 * [log-mel | acoustic posteriors] per frame, frames past the audio all zero. */
static scribe_status segment_features(mt3_session *s, uint64_t k, const float *x, int frames, scribe_error *err) {
    const sc_t5_config *c = &s->m->t5.cfg;
    const size_t F = (size_t)c->input_features, T = (size_t)c->segment_frames;
    memset(s->features, 0, T * F * sizeof(float));
    if (s->ac) {
        /* log-mel rows are mel_bins wide here: computed into the tail, then spread out */
        const size_t MB = (size_t)s->m->mel_bins;
        float *tmp = s->features + T * F - (size_t)frames * MB;
        sc_logmel_compute(s->mel, x, (size_t)frames * s->m->hop, tmp);
        for (int r = 0; r < frames; r++) memmove(s->features + (size_t)r * F, tmp + (size_t)r * MB, MB * sizeof(float));
        memset(s->features + (size_t)frames * F, 0, (T - (size_t)frames) * F * sizeof(float));
        mt3_acoustic_stream *a = s->ac;
        if (sc_mt3_ac_rows(&a->tm, a->notes, a->onsets, a->j_base, a->n_held, a->n_total, (int64_t)(k * T), frames,
                           s->features + MB, (int64_t)F))
            return sc_fail(err, SCRIBE_ERR_STATE, "internal: acoustic rows of segment %llu not held (frames %lld+%lld)",
                           (unsigned long long)k, (long long)a->j_base, (long long)a->n_held);
    } else {
        sc_logmel_compute(s->mel, x, (size_t)frames * s->m->hop, s->features);
    }
    return SCRIBE_OK;
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
        scribe_status st = segment_features(s, s->next_segment + (uint64_t)i, s->pending + (size_t)i * s->seg_samples,
                                            frames, err);
        if (st) return st;
        if (s->collecting) {
            st = sc_grow((void **)&s->collect, &s->collect_cap, s->collect_n + T * F, sizeof(float), err);
            if (st) return st;
            memcpy(s->collect + s->collect_n, s->features, T * F * sizeof(float));
            s->collect_n += T * F;
            s->lengths[i] = 0;
            continue;
        }
        sc_t5_encode(&s->t5, i, s->features);
        if (s->seg_onsets) { /* the posterior columns: evidence when this segment's tokens are decoded */
            const size_t P = SC_MT3_AC_PITCHES, note0 = (size_t)s->m->mel_bins, on0 = note0 + P;
            for (size_t r = 0; r < T; r++) {
                memcpy(s->seg_onsets + ((size_t)i * T + r) * P, s->features + r * F + on0, P * sizeof(float));
                memcpy(s->seg_notes + ((size_t)i * T + r) * P, s->features + r * F + note0, P * sizeof(float));
            }
        }
    }
    double t1 = now_s();
    if (!s->collecting) sc_t5_decode(&s->t5, n, s->max_tokens, s->ignore_eos, s->tokens, s->lengths, NULL);
    double t2 = now_s();
    s->enc_seconds += t1 - t0;
    s->dec_seconds += t2 - t1;
    for (int i = 0; i < n; i++) {
        uint64_t k = s->next_segment;
        scribe_status st = decode_held(s, segment_start(s, k), io, err);
        if (st) return st;
        memcpy(s->held, s->tokens + (size_t)i * s->max_tokens, (size_t)s->lengths[i] * sizeof(int32_t));
        if (s->seg_onsets) { /* the held segment's posteriors become the previous segment's */
            const size_t TP = T * SC_MT3_AC_PITCHES;
            float *o = s->prev_onsets, *n = s->prev_notes;
            s->prev_onsets = s->held_onsets;
            s->prev_notes = s->held_notes;
            s->held_onsets = o;
            s->held_notes = n;
            memcpy(s->held_onsets, s->seg_onsets + (size_t)i * TP, TP * sizeof(float));
            memcpy(s->held_notes, s->seg_notes + (size_t)i * TP, TP * sizeof(float));
        }
        s->held_n = s->lengths[i];
        s->have_held = 1;
        s->next_segment = k + 1;
        if (io->progress) {
            double done = (double)((k + 1) * s->seg_samples) / s->m->sample_rate;
            if (io->progress(io->progress_user, done))
                return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled by the progress callback");
        }
    }
    /* drop the consumed samples and the acoustic rows no later segment reads */
    size_t used = (size_t)n * s->seg_samples;
    if (used > s->pending_n) used = s->pending_n;
    memmove(s->pending, s->pending + used, (s->pending_n - used) * sizeof(float));
    s->pending_n -= used;
    if (s->ac) ac_drop_before(s->ac, (int64_t)(s->next_segment * T));
    return SCRIBE_OK;
}

/* A batch of full segments can run once its samples are here and, with acoustic features, the
 * posteriorgram rows its frames read are final. */
static int batch_ready(const mt3_session *s) {
    if (s->pending_n < (size_t)s->batch * s->seg_samples) return 0;
    if (!s->ac) return 1;
    uint64_t end = (s->next_segment + (uint64_t)s->batch) * (uint64_t)s->m->t5.cfg.segment_frames;
    return ac_ready(s->ac, (int64_t)end);
}

static scribe_status be_session_feed(void *session, const float *samples, size_t n, sc_session_io *io,
                                     scribe_error *err) {
    mt3_session *s = session;
    while (n > 0) {
        size_t k = n < FEED_CHUNK ? n : FEED_CHUNK;
        scribe_status st = sc_grow((void **)&s->pending, &s->pending_cap, s->pending_n + k, sizeof(float), err);
        if (st) return st;
        memcpy(s->pending + s->pending_n, samples, k * sizeof(float));
        s->pending_n += k;
        if (s->ac && (st = ac_feed(s->ac, samples, k, err))) return st;
        samples += k;
        n -= k;
        while (batch_ready(s)) {
            if (io->cancel && *io->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
            st = run_segments(s, s->batch, s->m->t5.cfg.segment_frames, io, err);
            if (st) return st;
        }
    }
    return SCRIBE_OK;
}

static scribe_status be_session_finish(void *session, sc_session_io *io, scribe_error *err) {
    mt3_session *s = session;
    const int T = s->m->t5.cfg.segment_frames;
    const size_t hop = (size_t)s->m->hop;
    scribe_status st;
    if (s->ac && (st = ac_finish(s->ac, err))) return st;
    /* MT3 pads the audio with hop - len % hop zeros: the final segment always has at least one frame */
    size_t full = s->pending_n / s->seg_samples;
    size_t rest = s->pending_n - full * s->seg_samples;
    size_t pad = hop - rest % hop;
    st = sc_grow((void **)&s->pending, &s->pending_cap, s->pending_n + pad, sizeof(float), err);
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

/* ------------------------------------------------------------------ test hook */

scribe_status sc_mt3_encoder_inputs(const scribe_model *model, const float *x, size_t n, size_t block,
                                    float **features, size_t *segments, size_t *max_rows_held, scribe_error *err) {
    *features = NULL;
    *segments = 0;
    if (max_rows_held) *max_rows_held = 0;
    if (!model || model->backend != &sc_backend_mt3)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_encoder_inputs: not an MT3 model");
    scribe_session_params p = scribe_session_default_params();
    p.batch_segments = 1;
    void *impl = NULL;
    scribe_status st = be_session_init(model->impl, &p, &impl, err);
    if (st) return st;
    mt3_session *s = impl;
    s->collecting = 1;
    scribe_notes done;
    scribe_notes_init(&done);
    sc_session_io io = {&done, NULL, NULL, NULL};
    if (block == 0) block = n ? n : 1;
    for (size_t i = 0; i < n && !st; i += block)
        st = be_session_feed(s, x + i, n - i < block ? n - i : block, &io, err);
    if (!st) st = be_session_finish(s, &io, err);
    if (!st) {
        const sc_t5_config *c = &s->m->t5.cfg;
        *features = s->collect;
        *segments = s->collect_n / ((size_t)c->segment_frames * c->input_features);
        s->collect = NULL;
        if (max_rows_held && s->ac) *max_rows_held = (size_t)s->ac->max_held;
    }
    scribe_notes_free(&done);
    be_session_free(s);
    return st;
}
