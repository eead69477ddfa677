/* Sessions: one type for whole files and live input. Input is resampled to the model's rate
 * in blocks of bounded size, handed to the model family's backend, and the notes it declares
 * final are queued for scribe_session_take_notes. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

#define SC_FEED_BLOCK 8192 /* input frames resampled per step: bounds the scratch buffer */
/* Input sanitising (the only place samples enter): NaN becomes silence, everything else is clamped
 * to +-SC_INPUT_LIMIT (Inf to the limit). Float files legitimately exceed +-1 a little; a larger
 * value is a broken file, and unbounded values would overflow the spectra to Inf/NaN downstream. */
#define SC_INPUT_LIMIT 16.0f

struct scribe_session {
    const scribe_model *model;
    scribe_session_params params;
    void *impl;
    scribe_resampler *resampler; /* NULL when the input is already at the model rate */
    float *scratch;
    size_t scratch_cap;
    float *clean;                /* [SC_FEED_BLOCK] sanitised copy of the caller's block */
    scribe_notes done;
    volatile int cancel;
    int finished, failed;
    uint64_t frames_fed;
    double seconds_done;
};

scribe_session_params scribe_session_default_params(void) {
    scribe_session_params p;
    memset(&p, 0, sizeof p);
    p.input_sample_rate = 0; /* 0: the model's own rate */
    p.max_decode_tokens = 1024;
    p.fixed_decode_tokens = 0;
    p.batch_segments = 4;
    p.onset_threshold = 0.5f;
    p.frame_threshold = 0.3f;
    p.min_note_frames = 11;
    p.min_frequency_hz = 0;
    p.max_frequency_hz = 0;
    p.infer_onsets = 1;
    p.melodia_trick = 1;
    p.pitch_bends = 1;
    p.energy_tolerance = 11;
    p.max_pending_seconds = 300;
    return p;
}

static int progress_tap(void *user, double seconds) {
    scribe_session *s = user;
    s->seconds_done = seconds;
    return s->params.progress ? s->params.progress(s->params.progress_user, seconds) : 0;
}

static sc_session_io make_io(scribe_session *s) {
    sc_session_io io = {&s->done, &s->cancel, progress_tap, s};
    return io;
}

scribe_status scribe_session_init(const scribe_model *model, const scribe_session_params *params,
                                  scribe_session **out, scribe_error *err) {
    if (!model || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_session_init: NULL argument");
    *out = NULL;
    scribe_session_params p = params ? *params : scribe_session_default_params();
    uint32_t model_rate = scribe_model_sample_rate(model);
    if (p.input_sample_rate == 0) p.input_sample_rate = model_rate;
    if (p.input_sample_rate < 1000 || p.input_sample_rate > 768000)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "input sample rate %u Hz is outside 1000..768000", p.input_sample_rate);
    if (p.max_decode_tokens < 1 || p.max_decode_tokens > 1024)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "max_decode_tokens %d is outside 1..1024", p.max_decode_tokens);
    if (p.fixed_decode_tokens < 0 || p.fixed_decode_tokens > 1024)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "fixed_decode_tokens %d is outside 0..1024", p.fixed_decode_tokens);
    if (p.batch_segments < 1 || p.batch_segments > 64)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "batch_segments %d is outside 1..64", p.batch_segments);
    if (!(p.onset_threshold > 0 && p.onset_threshold < 1) || !(p.frame_threshold > 0 && p.frame_threshold < 1))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "onset/frame thresholds (%g, %g) must be inside (0, 1)",
                       (double)p.onset_threshold, (double)p.frame_threshold);
    if (p.min_note_frames < 1 || p.min_note_frames > 10000)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "min_note_frames %d is outside 1..10000", p.min_note_frames);

    scribe_session *s = calloc(1, sizeof *s);
    if (!s) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory creating a session");
    s->model = model;
    s->params = p;
    scribe_notes_init(&s->done);
    scribe_status st = SCRIBE_OK;
    s->clean = sc_malloc_array(SC_FEED_BLOCK, sizeof(float));
    if (!s->clean) st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory creating a session");
    if (!st && p.input_sample_rate != model_rate) {
        st = scribe_resampler_init(p.input_sample_rate, model_rate, &s->resampler, err);
        /* A block's output count depends on the filter state; size for the worst case plus slack,
         * and grow (rarely) if a block ever needs more. */
        if (!st) st = sc_grow((void **)&s->scratch, &s->scratch_cap,
                              (size_t)((double)SC_FEED_BLOCK * model_rate / p.input_sample_rate) + 1024, sizeof(float), err);
    }
    if (!st) st = model->backend->session_init(model->impl, &s->params, &s->impl, err);
    if (st) {
        s->impl = NULL;
        scribe_session_free(s);
        return st;
    }
    *out = s;
    return sc_ok(err);
}

/* Fails the session for good after a backend error: its state may be half-updated. */
static scribe_status guard(scribe_session *s, scribe_error *err, const char *what) {
    if (s->failed) return sc_fail(err, SCRIBE_ERR_STATE, "%s: the session failed earlier; free it and start a new one", what);
    if (s->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "%s: the session was cancelled", what);
    return SCRIBE_OK;
}

static scribe_status backend_feed(scribe_session *s, const float *x, size_t n, scribe_error *err) {
    sc_session_io io = make_io(s);
    scribe_status st = s->model->backend->session_feed(s->impl, x, n, &io, err);
    if (st == SCRIBE_ERR_CANCELLED || s->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
    if (st) s->failed = 1;
    return st;
}

scribe_status scribe_session_feed(scribe_session *s, const float *samples, size_t n, scribe_error *err) {
    if (!s || (n && !samples)) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_session_feed: NULL argument");
    scribe_status st = guard(s, err, "feed");
    if (st) return st;
    if (s->finished) return sc_fail(err, SCRIBE_ERR_STATE, "feed after finish: start a new session");
    while (n) {
        size_t k = n < SC_FEED_BLOCK ? n : SC_FEED_BLOCK;
        for (size_t i = 0; i < k; i++) {
            float v = samples[i];
            /* NaN fails both comparisons and becomes 0 */
            s->clean[i] = v >= -SC_INPUT_LIMIT ? (v <= SC_INPUT_LIMIT ? v : SC_INPUT_LIMIT)
                                               : (v < -SC_INPUT_LIMIT ? -SC_INPUT_LIMIT : 0.0f);
        }
        if (s->resampler) {
            size_t got = 0;
            st = sc_grow((void **)&s->scratch, &s->scratch_cap, scribe_resampler_max_output(s->resampler, k),
                         sizeof(float), err);
            if (!st) st = scribe_resampler_process(s->resampler, s->clean, k, s->scratch, s->scratch_cap, &got, err);
            if (!st && got) st = backend_feed(s, s->scratch, got, err);
        } else {
            st = backend_feed(s, s->clean, k, err);
        }
        if (st) return st;
        s->frames_fed += k;
        samples += k;
        n -= k;
    }
    return sc_ok(err);
}

scribe_status scribe_session_finish(scribe_session *s, scribe_error *err) {
    if (!s) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_session_finish: NULL session");
    scribe_status st = guard(s, err, "finish");
    if (st) return st;
    if (s->finished) return sc_ok(err);
    if (s->resampler) {
        size_t got = 0;
        st = sc_grow((void **)&s->scratch, &s->scratch_cap, scribe_resampler_pending(s->resampler), sizeof(float), err);
        if (!st) st = scribe_resampler_flush(s->resampler, s->scratch, s->scratch_cap, &got, err);
        if (!st && got) st = backend_feed(s, s->scratch, got, err);
        if (st) return st;
    }
    sc_session_io io = make_io(s);
    st = s->model->backend->session_finish(s->impl, &io, err);
    if (st == SCRIBE_ERR_CANCELLED || s->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
    if (st) { s->failed = 1; return st; }
    s->finished = 1;
    return sc_ok(err);
}

scribe_status scribe_session_take_notes(scribe_session *s, scribe_notes *out, scribe_error *err) {
    if (!s || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_session_take_notes: NULL argument");
    scribe_notes_sort(&s->done);
    scribe_status st = scribe_notes_append(out, &s->done, err);
    if (st) return st;
    scribe_notes_clear(&s->done);
    return sc_ok(err);
}

void scribe_session_cancel(scribe_session *s) {
    if (s) s->cancel = 1;
}

double scribe_session_seconds_fed(const scribe_session *s) {
    return s ? (double)s->frames_fed / s->params.input_sample_rate : 0.0;
}

double scribe_session_seconds_done(const scribe_session *s) { return s ? s->seconds_done : 0.0; }

void *sc_session_backend_impl(const scribe_session *s, const sc_backend *backend) {
    return s && s->model->backend == backend ? s->impl : NULL;
}

void scribe_session_free(scribe_session *s) {
    if (!s) return;
    if (s->impl) s->model->backend->session_free(s->impl);
    scribe_resampler_free(s->resampler);
    free(s->scratch);
    free(s->clean);
    scribe_notes_free(&s->done);
    free(s);
}
