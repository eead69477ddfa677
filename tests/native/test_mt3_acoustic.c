/* MT3 models that read Basic Pitch posteriors beside the log-mel (config acoustic_features = 176):
 * one weights file embedding the acoustic network, the session's encoder inputs against the
 * whole-file chain of tools/native/acoustic_features_native.c, streaming == whole file, and
 * rejected files. The tiny random MT3 network carries the real weights/basic-pitch.scrb tensors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "api/backend.h"
#include "dsp/logmel.h"
#include "models/acoustic.h"
#include "models/mt3.h"
#include "models/mt3_acoustic.h"
#include "models/t5.h"

#define AC_WEIGHTS "weights/basic-pitch.scrb"

/* The api layer refers to backends weakly: these strong references pull both backends in. */
const sc_backend *const test_mt3_ac_backend_ref = &sc_backend_mt3;
const sc_backend *const test_ac_backend_ref = &sc_backend_acoustic;

enum { D = 16, H = 2, DH = 8, MLP = 32, V = 1536, MB = 64, T = 256, HOP = 128 };

typedef struct {
    char name[80];
    uint32_t dtype, ndim, shape[4];
    const void *data;
    size_t nbytes;
} rec;

static uint32_t rng(uint32_t *s) { *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s; }
static float rnd(uint32_t *s) { return ((float)(rng(s) % 20001) / 10000.0f - 1.0f) * 1.7f; }

static uint8_t *write_file(const int32_t *cfg, const rec *r, int n, size_t *len) {
    size_t off = 512 + 128 * (size_t)n, total = off, offs[256];
    for (int i = 0; i < n; i++) {
        total = (total + 63) & ~(size_t)63;
        offs[i] = total;
        total += r[i].nbytes;
    }
    uint8_t *b = calloc(1, total);
    memcpy(b, "SCRIBEW", 8);
    uint32_t hdr[4] = {1, 1, (uint32_t)n, 512};
    memcpy(b + 8, hdr, 16);
    memcpy(b + 24, cfg, 64 * 4);
    memcpy(b + 280, "tiny-mt3-acoustic", 18);
    for (int i = 0; i < n; i++) {
        uint8_t *p = b + 512 + 128 * (size_t)i;
        strcpy((char *)p, r[i].name);
        uint32_t meta[6] = {r[i].dtype, r[i].ndim, r[i].shape[0], r[i].shape[1], r[i].shape[2], r[i].shape[3]};
        memcpy(p + 80, meta, 24);
        uint64_t o = offs[i], nb = r[i].nbytes;
        memcpy(p + 104, &o, 8);
        memcpy(p + 112, &nb, 8);
        memcpy(b + o, r[i].data, r[i].nbytes);
    }
    *len = total;
    return b;
}

enum {
    OK_FILE, NO_CONFIG, BAD_CONFIG_RATE, BAD_SHAPE, NO_TENSOR, BAD_FEATURE_COUNT, FEATURES_MISMATCH, CONFIG_F16,
    REJOIN_FILE, REJOIN_WITHOUT_AC, BAD_REJOIN_ONSET, GATE_FILE, GATE_WITHOUT_AC,
};

/* A tiny random MT3 file with acoustic_features = 176 and the acoustic network of `ac` (or a
 * corruption of it). Returns NULL when basic-pitch.scrb cannot be read. */
static int rejoin_onset = 500; /* REJOIN_FILE's threshold (1/1000) */

static uint8_t *build(const sc_weights *ac, uint32_t seed, int variant, size_t *len) {
    static rec r[128];
    static float store[200000];
    static int32_t ac_cfg[64];
    int n = 0;
    size_t used = 0;
    uint32_t s = seed;
    const int F = MB + SC_MT3_AC_FEATURES;
#define DENSE(nm, a, b)                                                                             \
    do {                                                                                            \
        rec *x = &r[n++];                                                                           \
        snprintf(x->name, sizeof x->name, "%s", nm);                                                \
        x->dtype = 0; x->ndim = 2; x->shape[0] = (a); x->shape[1] = (b); x->shape[2] = x->shape[3] = 0; \
        float *d = store + used;                                                                    \
        for (size_t k = 0; k < (size_t)(a) * (b); k++) d[k] = rnd(&s);                              \
        used += (size_t)(a) * (b);                                                                  \
        x->data = d; x->nbytes = 4 * (size_t)(a) * (b);                                             \
    } while (0)
#define NORM(nm)                                                                                    \
    do {                                                                                            \
        rec *x = &r[n++];                                                                           \
        snprintf(x->name, sizeof x->name, "%s", nm);                                                \
        x->dtype = 0; x->ndim = 1; x->shape[0] = D; x->shape[1] = x->shape[2] = x->shape[3] = 0;    \
        float *d = store + used;                                                                    \
        for (int k = 0; k < D; k++) d[k] = 1.0f;                                                    \
        used += D;                                                                                  \
        x->data = d; x->nbytes = 4 * D;                                                             \
    } while (0)
    DENSE("enc.input_proj", F, D);
    NORM("enc.0.attn_norm");
    DENSE("enc.0.attn.q", D, H * DH); DENSE("enc.0.attn.k", D, H * DH); DENSE("enc.0.attn.v", D, H * DH);
    DENSE("enc.0.attn.o", H * DH, D);
    NORM("enc.0.mlp_norm");
    DENSE("enc.0.mlp.wi0", D, MLP); DENSE("enc.0.mlp.wi1", D, MLP); DENSE("enc.0.mlp.wo", MLP, D);
    NORM("enc.norm");
    DENSE("dec.embed", V, D);
    NORM("dec.0.self_norm");
    DENSE("dec.0.self.q", D, H * DH); DENSE("dec.0.self.k", D, H * DH); DENSE("dec.0.self.v", D, H * DH);
    DENSE("dec.0.self.o", H * DH, D);
    NORM("dec.0.cross_norm");
    DENSE("dec.0.cross.q", D, H * DH); DENSE("dec.0.cross.k", D, H * DH); DENSE("dec.0.cross.v", D, H * DH);
    DENSE("dec.0.cross.o", H * DH, D);
    NORM("dec.0.mlp_norm");
    DENSE("dec.0.mlp.wi0", D, MLP); DENSE("dec.0.mlp.wi1", D, MLP); DENSE("dec.0.mlp.wo", MLP, D);
    NORM("dec.norm");
    DENSE("dec.logits", D, V);
#undef DENSE
#undef NORM
    {   /* keep only shifts 1..200, pitches 40..80, velocity 1, program 0: note-rich random output */
        float *lg = (float *)r[n - 1].data;
        for (size_t k = 0; k < (size_t)D * V; k++) {
            int id = (int)(k % V);
            int keep = (id >= 4 && id <= 203) || (id >= 1044 && id <= 1084) || (id >= 1133 && id <= 1135);
            if (!keep) lg[k] = 0.0f;
        }
    }
    memcpy(ac_cfg, ac->config, sizeof ac_cfg);
    if (variant == BAD_CONFIG_RATE) ac_cfg[SC_AC_CFG_SAMPLE_RATE] = 44100;
    if (variant != NO_CONFIG) {
        rec *x = &r[n++];
        strcpy(x->name, "acoustic.config");
        x->dtype = variant == CONFIG_F16 ? 1 : 0;
        x->ndim = 1;
        x->shape[0] = variant == CONFIG_F16 ? 128 : 64;
        x->shape[1] = x->shape[2] = x->shape[3] = 0;
        x->data = ac_cfg;
        x->nbytes = 256;
    }
    for (uint32_t i = 0; i < ac->n_tensors; i++) {
        const sc_tensor *t = &ac->tensors[i];
        if (variant == NO_TENSOR && !strcmp(t->name, "onset2.bias")) continue;
        rec *x = &r[n++];
        snprintf(x->name, sizeof x->name, "acoustic.%.70s", t->name);
        x->dtype = t->dtype;
        x->ndim = t->ndim;
        memcpy(x->shape, t->shape, sizeof x->shape);
        x->data = t->data;
        x->nbytes = t->nbytes;
        if (variant == BAD_SHAPE && !strcmp(t->name, "note1.weight")) { /* 31 output channels */
            x->shape[3] = 31;
            x->nbytes = (size_t)7 * 7 * 1 * 31 * 4;
        }
    }
    int32_t cfg[64] = {0};
    cfg[SC_T5_CFG_D_MODEL] = D; cfg[SC_T5_CFG_HEADS] = H; cfg[SC_T5_CFG_HEAD_DIM] = DH; cfg[SC_T5_CFG_MLP_DIM] = MLP;
    cfg[SC_T5_CFG_ENC_LAYERS] = 1; cfg[SC_T5_CFG_DEC_LAYERS] = 1; cfg[SC_T5_CFG_VOCAB] = V;
    cfg[SC_T5_CFG_INPUT_FEATURES] = F; cfg[SC_T5_CFG_SEGMENT_FRAMES] = T; cfg[SC_T5_CFG_MAX_DECODE] = 1024;
    cfg[SC_T5_CFG_ACOUSTIC_FEATURES] = SC_MT3_AC_FEATURES;
    if (variant == BAD_FEATURE_COUNT) {
        cfg[SC_T5_CFG_ACOUSTIC_FEATURES] = 100;
        cfg[SC_T5_CFG_INPUT_FEATURES] = MB + 100;
    }
    if (variant == FEATURES_MISMATCH) cfg[SC_T5_CFG_INPUT_FEATURES] = MB;
    if (variant == REJOIN_FILE || variant == REJOIN_WITHOUT_AC || variant == BAD_REJOIN_ONSET) {
        cfg[SC_T5_CFG_REJOIN_MS] = 100;
        cfg[SC_T5_CFG_REJOIN_ONSET] = variant == BAD_REJOIN_ONSET ? 0 : rejoin_onset;
    }
    if (variant == GATE_FILE || variant == GATE_WITHOUT_AC) cfg[SC_T5_CFG_ONSET_GATE] = rejoin_onset;
    if (variant == REJOIN_WITHOUT_AC || variant == GATE_WITHOUT_AC) {
        cfg[SC_T5_CFG_ACOUSTIC_FEATURES] = 0;
        cfg[SC_T5_CFG_INPUT_FEATURES] = MB;
    }
    cfg[SC_T5_CFG_STEPS_PER_SECOND] = 100; cfg[SC_T5_CFG_MAX_SHIFT_STEPS] = 1000; cfg[SC_T5_CFG_VELOCITY_BINS] = 1;
    cfg[SC_T5_CFG_USE_TIES] = 0; cfg[SC_T5_CFG_USE_PROGRAMS] = 1; cfg[SC_T5_CFG_USE_DRUMS] = 1;
    cfg[SC_T5_CFG_SAMPLE_RATE] = 16000; cfg[SC_T5_CFG_FFT_SIZE] = 2048; cfg[SC_T5_CFG_HOP] = HOP;
    cfg[SC_T5_CFG_MEL_BINS] = MB;
    float fmin = 20.0f, fmax = 7600.0f;
    memcpy(&cfg[SC_T5_CFG_FMIN], &fmin, 4);
    memcpy(&cfg[SC_T5_CFG_FMAX], &fmax, 4);
    return write_file(cfg, r, n, len);
}

/* basic-pitch.scrb parsed (buffer kept in *buf) and, optionally, loaded as a model. */
static int load_ac(uint8_t **buf, sc_weights *w, scribe_model **model) {
    size_t len = 0;
    *buf = test_read_file(AC_WEIGHTS, &len);
    if (!*buf) { CHECK_MSG(0, "cannot read %s", AC_WEIGHTS); return 0; }
    /* tensors must be 64-byte aligned in memory as in the file */
    uint8_t *al = aligned_alloc(64, (len + 63) / 64 * 64);
    memcpy(al, *buf, len);
    free(*buf);
    *buf = al;
    scribe_error err = {0};
    if (sc_weights_parse(al, len, w, &err)) { CHECK_MSG(0, "%s", err.message); return 0; }
    if (model && scribe_model_init_from_buffer(al, len, model, &err)) { CHECK_MSG(0, "%s", err.message); return 0; }
    return 1;
}

/* The whole-file chain of tools/native/acoustic_features_native.c on 16 kHz samples:
 * [n][176] rows for MT3 frames 0..rows-1. */
static float *reference_rows(const scribe_model *ac, const float *x16, size_t n16, int64_t rows) {
    float *out = NULL;
    int64_t got = 0;
    scribe_error err = {0};
    CHECK_OK(sc_mt3_ac_whole(ac, x16, n16, rows, &out, &got, &err));
    CHECK(got == rows);
    return out;
}

/* Checks the session's encoder inputs for x16 fed in each of `blocks` against log-mel | reference
 * rows; returns the count of acoustic features above 0.5 (so that the check is not vacuous). */
static double check_features(const scribe_model *mt3, const scribe_model *ac, const float *x16, size_t n,
                             const size_t *blocks, int n_blocks) {
    const int F = MB + SC_MT3_AC_FEATURES;
    const size_t frames_total = n / HOP + 1; /* MT3 pads with hop - n % hop zeros */
    const size_t segs_want = (frames_total + T - 1) / T;
    float *ref = reference_rows(ac, x16, n, (int64_t)segs_want * T);
    sc_logmel_config lc = sc_logmel_default_config();
    lc.sample_rate = 16000; lc.fft_size = 2048; lc.hop = HOP; lc.n_mels = MB; lc.lo_hz = 20.0f; lc.hi_hz = 7600.0f;
    sc_logmel *mel = NULL;
    CHECK_OK(sc_logmel_init(&lc, &mel, NULL));
    float *want = calloc(segs_want * T * F, sizeof *want), *seg = calloc((size_t)T * HOP, sizeof *seg);
    double nonzero = 0;
    for (size_t k = 0; k < segs_want; k++) {
        size_t frames = frames_total - k * T < (size_t)T ? frames_total - k * T : (size_t)T;
        memset(seg, 0, (size_t)T * HOP * sizeof *seg);
        size_t from = k * T * HOP, have = from < n ? n - from : 0;
        memcpy(seg, x16 + from, (have < frames * HOP ? have : frames * HOP) * sizeof *seg);
        float *lm = malloc(frames * MB * sizeof *lm);
        sc_logmel_compute(mel, seg, frames * HOP, lm);
        for (size_t r = 0; r < frames; r++) {
            float *w = want + (k * T + r) * F;
            memcpy(w, lm + r * MB, MB * sizeof *w);
            memcpy(w + MB, ref + (k * T + r) * SC_MT3_AC_FEATURES, SC_MT3_AC_FEATURES * sizeof *w);
            for (int j = 0; j < SC_MT3_AC_FEATURES; j++) nonzero += w[MB + j] > 0.5f;
        }
        free(lm);
    }
    for (int b = 0; b < n_blocks; b++) {
        float *feat = NULL;
        size_t segs = 0, max_held = 0;
        scribe_error err = {0};
        CHECK_OK(sc_mt3_encoder_inputs(mt3, x16, n, blocks[b], &feat, &segs, &max_held, &err));
        if (!feat) { fprintf(stderr, "  %s\n", err.message); continue; }
        CHECK_MSG(segs == segs_want, "%zu segments for %zu frames", segs, frames_total);
        double maxd = 0;
        for (size_t i = 0; i < segs_want * T * F && segs == segs_want; i++) {
            double d = fabs((double)feat[i] - want[i]);
            maxd = d > maxd ? d : maxd;
        }
        CHECK_MSG(maxd <= 1e-6, "block %zu: encoder inputs differ from log-mel | whole-file posteriors by %g",
                  blocks[b], maxd);
        /* bounded: the rows from the oldest segment not yet run to the newest window (not the file) */
        CHECK_MSG(max_held <= 600, "block %zu: %zu acoustic rows held at once", blocks[b], max_held);
        if (getenv("SCRIBE_TEST_VERBOSE"))
            fprintf(stderr, "  block %zu: max rows held %zu, %g features > 0.5\n", blocks[b], max_held, nonzero);
        free(feat);
    }
    sc_logmel_free(mel);
    free(seg); free(want); free(ref);
    return nonzero;
}

static float *tones(size_t n, uint32_t seed) {
    float *x = malloc(n * sizeof *x);
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / 16000.0;
        int note = 48 + (int)(t / 0.7) % 24;
        double hz = 440.0 * pow(2.0, (note - 69) / 12.0);
        x[i] = (float)(0.3 * sin(2 * 3.14159265358979 * hz * t) * (fmod(t, 0.7) < 0.5)) + 0.003f * rnd(&s);
    }
    return x;
}

TEST(mt3_acoustic_encoder_inputs_equal_whole_file_chain) {
    uint8_t *acbuf = NULL;
    sc_weights acw;
    scribe_model *ac = NULL;
    if (!load_ac(&acbuf, &acw, &ac)) return;
    size_t len;
    uint8_t *b = build(&acw, 7, OK_FILE, &len);
    scribe_model *m = NULL;
    scribe_error err = {0};
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, &err));
    if (!m) { fprintf(stderr, "  %s\n", err.message); return; }
    CHECK_MSG(strstr(scribe_model_describe(m), "Basic Pitch") != NULL, "%s", scribe_model_describe(m));
    /* 9.3 s: 5 segments (the last partial), 5 acoustic windows (the last ones partial) */
    size_t n = 16000 * 9 + 4807;
    float *x = tones(n, 3);
    const size_t blocks[] = {0, 777, 100003};
    double nz = check_features(m, ac, x, n, blocks, 3);
    CHECK_MSG(nz > 300, "only %g acoustic features above 0.5", nz);
    free(x);
    /* 24 s, a whole number of hops: the rows held stay those of about one segment */
    n = 16000 * 24 + 128 * 3;
    x = tones(n, 5);
    const size_t block2[] = {3001};
    nz = check_features(m, ac, x, n, block2, 1);
    CHECK_MSG(nz > 300, "only %g acoustic features above 0.5", nz);
    free(x);
    scribe_model_free(m);
    free(b);
    scribe_model_free(ac);
    sc_weights_free(&acw);
    free(acbuf);
}

/* The features sit at the time of the sound: piano-like tones starting late in a 40 s signal light
 * their onset posterior within 3 MT3 frames (24 ms) of the onset. Reading the window rows as
 * evenly spaced (sessions 1-6) put them 25 frames late at 38 s. */
TEST(mt3_acoustic_onsets_line_up_with_the_audio_late_in_a_long_signal) {
    uint8_t *acbuf = NULL;
    sc_weights acw;
    scribe_model *ac = NULL;
    if (!load_ac(&acbuf, &acw, &ac)) return;
    const double on_s[] = {1.5, 13.37, 27.11, 38.3};
    const int pitch = 60;
    const size_t n = 16000 * 40;
    float *x = calloc(n, sizeof *x);
    uint32_t seed = 9;
    const double hz = 440.0 * pow(2.0, (pitch - 69) / 12.0);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / 16000.0, v = 0.0;
        for (int k = 0; k < 4; k++) {
            double u = t - on_s[k];
            if (u >= 0.0 && u < 0.8)
                for (int h = 1; h <= 3; h++) v += 0.3 / h * sin(2 * 3.14159265358979 * hz * h * u) * exp(-4.0 * u);
        }
        x[i] = (float)v + 0.001f * rnd(&seed);
    }
    float *rows = NULL;
    int64_t nr = 0;
    scribe_error err = {0};
    CHECK_OK(sc_mt3_ac_whole(ac, x, n, -1, &rows, &nr, &err));
    CHECK_MSG(nr >= 40 * 125, "%lld rows for 40 s", (long long)nr);
    for (int k = 0; k < 4 && rows && nr >= 40 * 125; k++) {
        const int64_t want = (int64_t)llround(on_s[k] * 125.0);
        int64_t best = -1;
        float top = -1.0f;
        for (int64_t i = want - 60; i <= want + 60; i++) {
            float v = rows[i * SC_MT3_AC_FEATURES + SC_MT3_AC_PITCHES + (pitch - 21)];
            if (v > top) { top = v; best = i; }
        }
        CHECK_MSG(top > 0.3f, "onset at %.2f s: onset posterior peaks at only %.2f", on_s[k], top);
        CHECK_MSG(llabs(best - want) <= 3, "onset at %.2f s (frame %lld): posterior peak at frame %lld",
                  on_s[k], (long long)want, (long long)best);
    }
    free(rows);
    free(x);
    scribe_model_free(ac);
    sc_weights_free(&acw);
    free(acbuf);
}

/* tools/native/acoustic_features_native.c's chain on a dev clip: one-shot resampling to 16 kHz
 * equals the session's streaming resampler, and its feature rows are the session's. */
TEST(mt3_acoustic_dev_clip_features_equal_feature_tool_chain) {
    char path[512];
    snprintf(path, sizeof path, "%s/vocadito-1.wav", test_data_dir());
    size_t wlen = 0;
    uint8_t *wav = test_read_file(path, &wlen);
    if (!wav) { CHECK_MSG(0, "cannot read %s", path); return; }
    scribe_audio audio;
    CHECK_OK(scribe_wav_decode(wav, wlen, &audio, NULL));
    free(wav);
    float *x16 = NULL;
    size_t n16 = 0;
    CHECK_OK(scribe_resample(audio.samples, audio.frames, audio.sample_rate, 16000, &x16, &n16, NULL));
    /* the session resamples in blocks: same samples */
    scribe_resampler *rs = NULL;
    CHECK_OK(scribe_resampler_init(audio.sample_rate, 16000, &rs, NULL));
    float *y = malloc((n16 + 64) * sizeof *y);
    size_t got = 0, k = 0;
    uint32_t s = 11;
    for (size_t i = 0; i < audio.frames; i += k) {
        k = 1 + rng(&s) % 9000;
        if (k > audio.frames - i) k = audio.frames - i;
        size_t g = 0;
        CHECK_OK(scribe_resampler_process(rs, audio.samples + i, k, y + got, n16 + 64 - got, &g, NULL));
        got += g;
    }
    size_t g = 0;
    CHECK_OK(scribe_resampler_flush(rs, y + got, n16 + 64 - got, &g, NULL));
    got += g;
    CHECK(got == n16 && memcmp(y, x16, n16 * sizeof *y) == 0);
    scribe_resampler_free(rs);
    free(y);

    uint8_t *acbuf = NULL;
    sc_weights acw;
    scribe_model *ac = NULL;
    if (load_ac(&acbuf, &acw, &ac)) {
        size_t len;
        uint8_t *b = build(&acw, 7, OK_FILE, &len);
        scribe_model *m = NULL;
        CHECK_OK(scribe_model_init_from_buffer(b, len, &m, NULL));
        if (m) {
            const size_t block[] = {4096};
            double nz = check_features(m, ac, x16, n16, block, 1);
            CHECK_MSG(nz > 1000, "only %g acoustic features above 0.5 on a sung clip", nz);
            scribe_model_free(m);
        }
        free(b);
        scribe_model_free(ac);
        sc_weights_free(&acw);
        free(acbuf);
    }
    scribe_free(x16);
    scribe_audio_free(&audio);
}

static scribe_status run(scribe_model *m, const float *x, size_t n, uint32_t rate, size_t block, int batch,
                         uint32_t seed, scribe_notes *out) {
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = rate;
    p.fixed_decode_tokens = 96;
    p.batch_segments = batch;
    scribe_session *s = NULL;
    scribe_error err = {0};
    scribe_status st = scribe_session_init(m, &p, &s, &err);
    if (st) { fprintf(stderr, "  %s\n", err.message); return st; }
    uint32_t r = seed;
    for (size_t i = 0, k = 0; i < n && !st; i += k) {
        k = block ? block : 1 + rng(&r) % 20000;
        if (k > n - i) k = n - i;
        st = scribe_session_feed(s, x + i, k, &err);
        if (!st) st = scribe_session_take_notes(s, out, &err);
    }
    if (!st) st = scribe_session_finish(s, &err);
    if (!st) st = scribe_session_take_notes(s, out, &err);
    if (st) fprintf(stderr, "  %s\n", err.message);
    scribe_session_free(s);
    scribe_notes_sort(out);
    return st;
}

static int same_notes(const scribe_notes *a, const scribe_notes *b) {
    if (a->count != b->count) return 0;
    for (size_t i = 0; i < a->count; i++)
        if (a->notes[i].onset_s != b->notes[i].onset_s || a->notes[i].offset_s != b->notes[i].offset_s ||
            a->notes[i].pitch != b->notes[i].pitch || a->notes[i].program != b->notes[i].program)
            return 0;
    return 1;
}

TEST(mt3_acoustic_session_random_blocks_equal_whole_file) {
    uint8_t *acbuf = NULL;
    sc_weights acw;
    if (!load_ac(&acbuf, &acw, NULL)) return;
    size_t len;
    uint8_t *b = build(&acw, 21, OK_FILE, &len);
    scribe_model *m = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, NULL));
    if (m) {
        size_t n = 16000 * 7 + 1234;
        float *x = tones(n, 9);
        scribe_notes whole, blocks, batched;
        scribe_notes_init(&whole); scribe_notes_init(&blocks); scribe_notes_init(&batched);
        CHECK_OK(run(m, x, n, 16000, n, 1, 1, &whole));
        CHECK_OK(run(m, x, n, 16000, 0, 1, 2, &blocks));
        CHECK_OK(run(m, x, n, 16000, 0, 3, 3, &batched));
        CHECK_MSG(whole.count >= 3, "random model produced %zu notes", whole.count);
        CHECK_MSG(same_notes(&whole, &blocks), "random blocks: %zu notes vs %zu", blocks.count, whole.count);
        CHECK_MSG(same_notes(&whole, &batched), "batch 3: %zu notes vs %zu", batched.count, whole.count);
        /* 44.1 kHz input through the session's resampler, whole vs blocks */
        size_t n44 = 44100 * 5 + 77;
        float *x44 = malloc(n44 * sizeof *x44);
        for (size_t i = 0; i < n44; i++) x44[i] = x[(size_t)((double)i * 16000 / 44100)];
        scribe_notes w44, b44;
        scribe_notes_init(&w44); scribe_notes_init(&b44);
        CHECK_OK(run(m, x44, n44, 44100, n44, 2, 4, &w44));
        CHECK_OK(run(m, x44, n44, 44100, 0, 2, 5, &b44));
        CHECK_MSG(w44.count >= 2 && same_notes(&w44, &b44), "44.1 kHz: %zu notes vs %zu", b44.count, w44.count);
        scribe_notes_free(&whole); scribe_notes_free(&blocks); scribe_notes_free(&batched);
        scribe_notes_free(&w44); scribe_notes_free(&b44);
        free(x); free(x44);
        scribe_model_free(m);
    }
    free(b);
    sc_weights_free(&acw);
    free(acbuf);
}

/* Onset evidence as the engine reads it: the largest whole-file onset posterior of `pitch` within +-3
 * frames of `t`; -1 when that window leaves the segment holding t's frame (the engine clamps there)
 * or the last of `segs` segments (times the last segment decodes past its end read nothing). */
static float evidence_in_segment(const float *ref, int64_t segs, double t, int pitch) {
    const int64_t f = llround(t * 16000 / HOP), k = f / T;
    if (f - 3 < k * T || f + 3 >= (k + 1) * T || k >= segs) return -1.0f;
    float ev = 0;
    for (int64_t r = f - 3; r <= f + 3; r++)
        ev = fmaxf(ev, ref[r * SC_MT3_AC_FEATURES + SC_MT3_AC_PITCHES + pitch - SC_MT3_AC_LOWEST_PITCH]);
    return ev;
}

/* Config rejoin_ms (sc_mt3_decoder_set_rejoin fed by the held segment's onset posteriors): the same
 * random network with and without it. Pitched notes that follow their key's previous note within 100 ms
 * (chops) are joined exactly when the whole-file onset evidence there is below the threshold (set to
 * the median evidence of the chops, so that both outcomes occur); streaming, batches and whole file
 * agree; no other note changes, except that notes still sounding at the end may end a step earlier
 * (they end a step after the latest onset, which rejoining can remove). Config onset_gate at the same
 * threshold keeps exactly the notes whose onset evidence reaches it. */
TEST(mt3_acoustic_rejoin_and_gate_follow_the_onset_evidence) {
    uint8_t *acbuf = NULL;
    sc_weights acw;
    scribe_model *ac = NULL;
    if (!load_ac(&acbuf, &acw, &ac)) return;
    size_t len0;
    uint8_t *b0 = build(&acw, 21, OK_FILE, &len0), *b1 = NULL;
    scribe_model *m0 = NULL, *m1 = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b0, len0, &m0, NULL));
    size_t n = 16000 * 7 + 1234;
    float *x = tones(n, 9);
    const int64_t segs = (int64_t)(n / HOP + 1 + T - 1) / T;
    float *ref = reference_rows(ac, x, n, segs * T);
    scribe_notes plain, joined, blocks, batched;
    scribe_notes_init(&plain); scribe_notes_init(&joined); scribe_notes_init(&blocks); scribe_notes_init(&batched);
    if (m0) CHECK_OK(run(m0, x, n, 16000, n, 1, 1, &plain));
    /* chops of the plain output: (index of the later note, evidence) */
    size_t chop[512], n_chop = 0;
    float ev[512], sorted[512];
    for (size_t j = 0; j < plain.count && n_chop < 512; j++) {
        const scribe_note *q = &plain.notes[j];
        if (q->is_drum || q->pitch < SC_MT3_AC_LOWEST_PITCH || q->pitch >= SC_MT3_AC_LOWEST_PITCH + SC_MT3_AC_PITCHES)
            continue;
        double prev_end = -1;
        for (size_t i = 0; i < plain.count; i++) {
            const scribe_note *o = &plain.notes[i];
            if (i != j && o->pitch == q->pitch && o->program == q->program && !o->is_drum && o->onset_s < q->onset_s)
                prev_end = fmax(prev_end, o->offset_s);
        }
        float e = prev_end >= 0 && q->onset_s - prev_end <= 0.1 + 1e-6
                      ? evidence_in_segment(ref, segs, q->onset_s, q->pitch)
                      : -1.0f;
        if (e >= 0) { chop[n_chop] = j; ev[n_chop] = sorted[n_chop] = e; n_chop++; }
    }
    for (size_t i = 1; i < n_chop; i++) /* insertion sort for the median */
        for (size_t k = i; k > 0 && sorted[k - 1] > sorted[k]; k--) { float t = sorted[k]; sorted[k] = sorted[k - 1]; sorted[k - 1] = t; }
    CHECK_MSG(n_chop >= 10, "only %zu chops in the random model's notes", n_chop);
    if (n_chop >= 10) {
        rejoin_onset = (int)ceilf(sorted[n_chop / 2] * 1000.0f);
        if (rejoin_onset < 1) rejoin_onset = 1;
        if (rejoin_onset > 1000) rejoin_onset = 1000;
    }
    size_t len1;
    const int thr_milli = rejoin_onset;
    b1 = build(&acw, 21, REJOIN_FILE, &len1);
    rejoin_onset = 500;
    CHECK_OK(scribe_model_init_from_buffer(b1, len1, &m1, NULL));
    if (m0 && m1 && n_chop >= 10) {
        const float thr = (float)thr_milli / 1000.0f;
        CHECK_OK(run(m1, x, n, 16000, n, 1, 1, &joined));
        CHECK_OK(run(m1, x, n, 16000, 0, 1, 2, &blocks));
        CHECK_OK(run(m1, x, n, 16000, 0, 3, 3, &batched));
        CHECK_MSG(same_notes(&joined, &blocks) && same_notes(&joined, &batched), "rejoin: blocks %zu, batch 3 %zu, "
                  "whole %zu notes", blocks.count, batched.count, joined.count);
        size_t merged = 0, kept = 0;
        for (size_t c = 0; c < n_chop; c++) {
            const scribe_note *q = &plain.notes[chop[c]];
            int starts = 0; /* does a rejoined note start at this chop? */
            for (size_t j = 0; j < joined.count; j++)
                starts |= joined.notes[j].pitch == q->pitch && joined.notes[j].program == q->program &&
                          !joined.notes[j].is_drum && fabs(joined.notes[j].onset_s - q->onset_s) < 1e-9;
            const float e = ev[c];
            /* float rounding of the threshold: undecidable within 1e-6 */
            if (fabsf(e - thr) < 1e-6f) continue;
            CHECK_MSG(starts == (e >= thr), "chop of %d at %.3f (evidence %.4f, threshold %.3f): %s", q->pitch,
                      q->onset_s, e, thr, starts ? "kept" : "joined");
            merged += !starts;
            kept += starts;
        }
        CHECK_MSG(merged > 0 && kept > 0, "%zu chops joined, %zu kept", merged, kept);
        for (size_t i = 0; i < plain.count; i++) { /* every plain note lies inside a rejoined one */
            const scribe_note *p = &plain.notes[i];
            int inside = 0;
            for (size_t j = 0; j < joined.count && !inside; j++) {
                const scribe_note *q = &joined.notes[j];
                inside = q->pitch == p->pitch && q->program == p->program && q->is_drum == p->is_drum &&
                         q->onset_s <= p->onset_s + 1e-9 && q->offset_s >= p->offset_s - 0.01 - 1e-9;
            }
            CHECK_MSG(inside, "note %d %.3f-%.3f not inside a rejoined note", p->pitch, p->onset_s, p->offset_s);
        }
        if (getenv("SCRIBE_TEST_VERBOSE"))
            fprintf(stderr, "  %zu notes plain, %zu rejoined; %zu chops: %zu joined, %zu kept (threshold %.3f)\n",
                    plain.count, joined.count, n_chop, merged, kept, thr);
        /* onset_gate at the same threshold (no rejoining): exactly the plain notes with evidence stay */
        rejoin_onset = thr_milli;
        size_t len2;
        uint8_t *b2 = build(&acw, 21, GATE_FILE, &len2);
        rejoin_onset = 500;
        scribe_model *m2 = NULL;
        CHECK_OK(scribe_model_init_from_buffer(b2, len2, &m2, NULL));
        scribe_notes gated;
        scribe_notes_init(&gated);
        if (m2) CHECK_OK(run(m2, x, n, 16000, 0, 2, 6, &gated));
        size_t stay = 0, drop = 0;
        for (size_t i = 0; i < plain.count; i++) {
            const scribe_note *p = &plain.notes[i];
            if (p->is_drum || p->pitch < SC_MT3_AC_LOWEST_PITCH ||
                p->pitch >= SC_MT3_AC_LOWEST_PITCH + SC_MT3_AC_PITCHES)
                continue;
            const float e = evidence_in_segment(ref, segs, p->onset_s, p->pitch);
            if (e < 0 || fabsf(e - thr) < 1e-6f) continue;
            int found = 0;
            for (size_t j = 0; j < gated.count; j++)
                found |= gated.notes[j].pitch == p->pitch && gated.notes[j].program == p->program &&
                         fabs(gated.notes[j].onset_s - p->onset_s) < 1e-9;
            CHECK_MSG(found == (e >= thr), "note %d at %.3f (evidence %.4f): %s by the gate", p->pitch, p->onset_s, e,
                      found ? "kept" : "dropped");
            stay += found;
            drop += !found;
        }
        CHECK_MSG(stay > 0 && drop > 0, "gate: %zu notes kept, %zu dropped", stay, drop);
        scribe_notes_free(&gated);
        scribe_model_free(m2);
        free(b2);
    }
    scribe_notes_free(&plain); scribe_notes_free(&joined); scribe_notes_free(&blocks); scribe_notes_free(&batched);
    free(ref);
    free(x);
    scribe_model_free(m0);
    scribe_model_free(m1);
    scribe_model_free(ac);
    free(b0);
    free(b1);
    sc_weights_free(&acw);
    free(acbuf);
}

TEST(mt3_acoustic_rejects_bad_embedded_network) {
    uint8_t *acbuf = NULL;
    sc_weights acw;
    if (!load_ac(&acbuf, &acw, NULL)) return;
    struct { int variant; const char *a, *b; } cases[] = {
        {NO_CONFIG, "acoustic network", "acoustic.config"},
        {CONFIG_F16, "acoustic network", "acoustic.config"},
        {BAD_CONFIG_RATE, "acoustic network", "rate 44100"},
        {BAD_SHAPE, "acoustic network", "acoustic.note1.weight"},
        {NO_TENSOR, "acoustic network", "acoustic.onset2.bias"},
        {BAD_FEATURE_COUNT, "acoustic_features = 100", "0 or 176"},
        {FEATURES_MISMATCH, "input features 64", "acoustic features 176"},
        {REJOIN_WITHOUT_AC, "rejoin_ms = 100", "needs acoustic features"},
        {BAD_REJOIN_ONSET, "rejoin onset threshold", "= 0 outside 1..1000"},
        {GATE_WITHOUT_AC, "onset_gate = 500", "needs acoustic features"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *b = build(&acw, 3, cases[i].variant, &len);
        scribe_model *m = NULL;
        scribe_error err = {0};
        scribe_status st = scribe_model_init_from_buffer(b, len, &m, &err);
        CHECK_MSG(st == SCRIBE_ERR_BAD_WEIGHTS, "case %zu: status %d", i, (int)st);
        CHECK_MSG(strstr(err.message, cases[i].a) && strstr(err.message, cases[i].b), "case %zu: message: %s", i,
                  err.message);
        scribe_model_free(m);
        free(b);
    }
    /* the same builder's good file loads */
    size_t len;
    uint8_t *b = build(&acw, 3, OK_FILE, &len);
    scribe_model *m = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, NULL));
    scribe_model_free(m);
    free(b);
    sc_weights_free(&acw);
    free(acbuf);
}
