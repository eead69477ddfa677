/* Robustness: hostile and odd inputs through the public API, each a clear error (code and
 * message) or a sane result, never a crash; streaming equals whole-file.
 * Cases already covered elsewhere are not repeated here: WAV format/field errors (test_wav.c
 * wav_malformed_rejected, wav_pcm_extremes_and_nonfinite_floats), weights parser corruption on a
 * synthetic file (test_weights.c), hostile MT3 tokens (test_mt3_tokens.c
 * mt3_tokens_hostile_sequences_are_counted), malformed/mutated MIDI (test_midi.c). */
#include <stdint.h>
#include <string.h>
#include "test.h"

/* Shorter audio under ASan and valgrind (the figures for long inputs come from make bench-stream). */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#else
#define SLOW_BUILD 0
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif
static int slow(void) { return SLOW_BUILD || UNDER_VALGRIND(); }

/* ------------------------------------------------------------------ helpers */

static uint32_t rng(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* WAV of `x` (mono) repeated on every channel: bits 8/16/24/32 PCM, or 32-bit float. */
static uint8_t *make_wav(const float *x, size_t n, uint32_t rate, int channels, int bits, int is_float, size_t *len) {
    size_t bps = (size_t)bits / 8, data = n * channels * bps;
    *len = 44 + data;
    uint8_t *b = calloc(1, *len);
    memcpy(b, "RIFF", 4); put32(b + 4, (uint32_t)(*len - 8)); memcpy(b + 8, "WAVEfmt ", 8);
    put32(b + 16, 16); put16(b + 20, is_float ? 3 : 1); put16(b + 22, (uint32_t)channels);
    put32(b + 24, rate); put32(b + 28, (uint32_t)(rate * channels * bps)); put16(b + 32, (uint32_t)(channels * bps));
    put16(b + 34, (uint32_t)bits); memcpy(b + 36, "data", 4); put32(b + 40, (uint32_t)data);
    uint8_t *p = b + 44;
    for (size_t i = 0; i < n; i++) {
        float v = x[i] > 1 ? 1 : x[i] < -1 ? -1 : x[i];
        for (int c = 0; c < channels; c++, p += bps) {
            if (is_float) memcpy(p, &x[i], 4);
            else if (bits == 8) p[0] = (uint8_t)lrintf(128 + v * 127);
            else if (bits == 16) put16(p, (uint32_t)(int32_t)lrintf(v * 32767));
            else if (bits == 24) { int32_t q = (int32_t)lrintf(v * 8388607); p[0] = (uint8_t)q; p[1] = (uint8_t)(q >> 8); p[2] = (uint8_t)(q >> 16); }
            else put32(p, (uint32_t)(int32_t)lrint(v * 2147483647.0));
        }
    }
    return b;
}

static void *read_aligned(const char *path, size_t *len) {
    unsigned char *raw = test_read_file(path, len);
    if (!raw) return NULL;
    void *b = aligned_alloc(64, (*len + 64) / 64 * 64);
    memcpy(b, raw, *len);
    free(raw);
    return b;
}

/* `seconds` of a dev clip at its own rate (44.1 kHz mono); NULL if missing. */
static float *dev_clip(const char *name, double seconds, size_t *n, uint32_t *rate) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wav", test_data_dir(), name);
    size_t len;
    unsigned char *b = test_read_file(path, &len);
    if (!b) return NULL;
    scribe_audio a;
    scribe_status st = scribe_wav_decode(b, len, &a, NULL);
    free(b);
    if (st) return NULL;
    *rate = a.sample_rate;
    *n = (size_t)(seconds * a.sample_rate);
    float *x = malloc(*n * sizeof *x);
    for (size_t i = 0; i < *n; i++) x[i] = a.samples[i % a.frames]; /* loops when longer than the clip */
    scribe_audio_free(&a);
    return x;
}

static scribe_model *load_model(const char *path, void **buf) {
    size_t len;
    *buf = read_aligned(path, &len);
    if (!*buf) return NULL;
    scribe_model *m = NULL;
    scribe_error e = {0};
    if (scribe_model_init_from_buffer(*buf, len, &m, &e)) fprintf(stderr, "  %s: %s\n", path, e.message);
    return m;
}

/* Feeds x in blocks (block 0: all at once; <0: random sizes 1..-block) and returns all notes. */
static scribe_status transcribe(const scribe_model *m, const float *x, size_t n, uint32_t rate, long block,
                                uint32_t seed, const scribe_session_params *pp, scribe_notes *out, scribe_error *e) {
    scribe_session_params p = pp ? *pp : scribe_session_default_params();
    p.input_sample_rate = rate;
    scribe_session *s;
    scribe_status st = scribe_session_init(m, &p, &s, e);
    if (st) return st;
    for (size_t i = 0; i < n && !st;) {
        size_t k = block == 0 ? n : block > 0 ? (size_t)block : 1 + rng(&seed) % (size_t)(-block);
        if (k > n - i) k = n - i;
        st = scribe_session_feed(s, x + i, k, e);
        if (!st) st = scribe_session_take_notes(s, out, e);
        i += k;
    }
    if (!st) st = scribe_session_finish(s, e);
    if (!st) st = scribe_session_take_notes(s, out, e);
    scribe_session_free(s);
    scribe_notes_sort(out);
    return st;
}

static int notes_sane(const scribe_notes *l, double max_t) {
    for (size_t i = 0; i < l->count; i++) {
        const scribe_note *n = &l->notes[i];
        if (!isfinite(n->onset_s) || !isfinite(n->offset_s) || n->onset_s < 0 || n->offset_s <= n->onset_s ||
            n->offset_s > max_t + 1 || n->pitch < 0 || n->pitch > 127 || n->velocity < 1 || n->velocity > 127)
            return 0;
    }
    for (size_t i = 0; i < l->bend_count; i++)
        if (!isfinite(l->bends[i].semitones) || !isfinite(l->bends[i].time_s)) return 0;
    return 1;
}

static double onset_f1(const scribe_notes *ref, const scribe_notes *est) {
    scribe_eval_params ep = scribe_eval_default_params();
    scribe_eval_result r;
    if (scribe_evaluate(ref, est, &ep, &r, NULL)) return -1;
    return r.onset.f1;
}

#define ACOUSTIC "weights/basic-pitch.scrb"
#define MT3_TINY "tests/fuzz/corpus/weights/seed-mt3-tiny-q8"

/* ------------------------------------------------------------------ audio bytes */

static void expect_audio_error(const uint8_t *b, size_t len, const char *what) {
    scribe_audio a;
    scribe_error e = {0};
    scribe_status st = scribe_wav_decode(b, len, &a, &e);
    CHECK_MSG(st == SCRIBE_ERR_BAD_AUDIO || st == SCRIBE_ERR_UNSUPPORTED, "%s: %s", what, scribe_status_name(st));
    CHECK_MSG(e.code == st && strlen(e.message) > 10, "%s: message '%s'", what, e.message);
    if (st == SCRIBE_OK) scribe_audio_free(&a);
}

TEST(robust_wav_non_audio_and_overflowing_sizes) {
    uint8_t junk[4096];
    uint32_t s = 7;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rng(&s);
    expect_audio_error(junk, sizeof junk, "random bytes");
    const char *text = "onset_s,offset_s,pitch\n0.1,0.2,60\n";
    expect_audio_error((const uint8_t *)text, strlen(text), "CSV text");
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    expect_audio_error(png, sizeof png, "PNG header");
    static const uint8_t mthd[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 1, 0xE0};
    expect_audio_error(mthd, sizeof mthd, "MIDI file");

    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = (float)sin(i * 0.05) * 0.5f;
    size_t len;
    uint8_t *w = make_wav(x, 1000, 16000, 1, 16, 0, &len);
    uint8_t *c = malloc(len);
    /* data chunk declaring 4 GiB - 1: more than present and at the 32-bit limit */
    /* data size 0xFFFFFFFF is the streaming writers' "to the end of the file" (wav.c): the present frames */
    memcpy(c, w, len); put32(c + 40, 0xFFFFFFFFu);
    scribe_audio a;
    CHECK_OK(scribe_wav_decode(c, len, &a, NULL));
    CHECK(a.frames == 1000);
    if (a.frames) scribe_audio_free(&a);
    CHECK_OK(scribe_wav_decode(c, len - 1, &a, NULL));
    CHECK(a.frames == 999); /* the partial last frame is dropped */
    if (a.frames) scribe_audio_free(&a);
    memcpy(c, w, len); put32(c + 40, 0xFFFFFFF0u); put32(c + 4, 0xFFFFFFFFu);
    expect_audio_error(c, len, "RIFF and data sizes near 4 GiB");
    /* fmt chunk whose size makes the next chunk offset wrap around 32 bits */
    memcpy(c, w, len); put32(c + 16, 0xFFFFFFF8u);
    expect_audio_error(c, len, "fmt size wrapping 32 bits");
    /* an unknown chunk before data whose size skips past the end */
    memcpy(c, w, len); memcpy(c + 36, "LIST", 4); put32(c + 40, 0xFFFFFFFEu);
    expect_audio_error(c, len, "LIST chunk size beyond the file");
    /* absurd channel counts and rates through the header */
    memcpy(c, w, len); put16(c + 22, 0);
    expect_audio_error(c, len, "zero channels");
    memcpy(c, w, len); put32(c + 24, 0);
    expect_audio_error(c, len, "zero sample rate");
    memcpy(c, w, len); put32(c + 24, 0xFFFFFFFFu);
    expect_audio_error(c, len, "sample rate 4294967295");
    /* truncated at every length below the data: an error each time, never a crash */
    for (size_t k = 0; k < 44; k++) expect_audio_error(w, k, "truncated header");
    free(c);
    free(w);
}

/* Found by fuzz_wav (tests/fuzz/crashes/wav/crash-7128...): float64 samples beyond the float range
 * became +-Inf; a multichannel sum of large float32 samples could overflow. Fixed in main by
 * saturating float samples at 1e4 (wav.c SC_WAV_FLOAT_LIMIT). */
TEST(robust_wav_float_samples_beyond_float_range_stay_finite) {
    const double v64[] = {1e300, -1e300, 3.4e38, 3.4e38, -5e38, 1.0, 0.25, -0.5};
    uint8_t b[44 + sizeof v64];
    memset(b, 0, sizeof b);
    memcpy(b, "RIFF", 4); put32(b + 4, sizeof b - 8); memcpy(b + 8, "WAVEfmt ", 8);
    put32(b + 16, 16); put16(b + 20, 3); put16(b + 22, 2); put32(b + 24, 8000); put32(b + 28, 8000 * 16);
    put16(b + 32, 16); put16(b + 34, 64); memcpy(b + 36, "data", 4); put32(b + 40, sizeof v64);
    memcpy(b + 44, v64, sizeof v64); /* little-endian host */
    scribe_audio a;
    CHECK_OK(scribe_wav_decode(b, sizeof b, &a, NULL));
    CHECK(a.frames == 4);
    for (size_t i = 0; i < a.frames; i++) CHECK_MSG(isfinite(a.samples[i]), "sample %zu = %g", i, a.samples[i]);
    if (a.frames == 4) CHECK(a.samples[0] == 0.0f && a.samples[3] == -0.125f);
    scribe_audio_free(&a);
    /* 32-bit float, 4 channels of FLT_MAX: finite (wav.c saturates float samples at 1e4) */
    float big[8] = {3.4e38f, 3.4e38f, 3.4e38f, 3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f};
    size_t len;
    uint8_t *w = make_wav(big, 8, 8000, 1, 32, 1, &len);
    put16(w + 22, 4); put32(w + 28, 8000 * 16); put16(w + 32, 16);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 2 && isfinite(a.samples[0]) && isfinite(a.samples[1]) && a.samples[0] >= 9999.0f);
    scribe_audio_free(&a);
    free(w);
}

TEST(robust_session_rejects_bad_rates_with_messages) {
    void *buf;
    scribe_model *m = load_model(ACOUSTIC, &buf);
    CHECK(m != NULL);
    if (!m) return;
    uint32_t rates[] = {1, 999, 768001, 0xFFFFFFFFu};
    for (size_t i = 0; i < 4; i++) {
        scribe_session_params p = scribe_session_default_params();
        p.input_sample_rate = rates[i];
        scribe_session *s = NULL;
        scribe_error e = {0};
        CHECK(scribe_session_init(m, &p, &s, &e) == SCRIBE_ERR_INVALID_ARGUMENT && s == NULL);
        CHECK_MSG(strstr(e.message, "sample rate") != NULL, "'%s'", e.message);
    }
    scribe_model_free(m);
    free(buf);
}

/* 8-bit, 24-bit, float and 8-channel files decode and transcribe like the 16-bit one. */
TEST(robust_every_wav_format_transcribes_end_to_end) {
    void *buf;
    scribe_model *m = load_model(ACOUSTIC, &buf);
    size_t n;
    uint32_t rate;
    float *x = dev_clip("guitarset-00_BN1-129-Eb_comp", slow() ? 3.0 : 6.0, &n, &rate);
    CHECK(m != NULL && x != NULL);
    if (!m || !x) { free(x); scribe_model_free(m); free(buf); return; }
    struct { int bits, is_float, channels; double min_f1; const char *what; } fm[] = {
        {16, 0, 1, 1.0, "16-bit"}, {8, 0, 1, 0.7, "8-bit"}, {24, 0, 1, 0.95, "24-bit"}, {32, 0, 1, 0.95, "32-bit"},
        {32, 1, 1, 0.95, "float"}, {16, 0, 8, 0.95, "8-channel 16-bit"}, {24, 0, 2, 0.95, "stereo 24-bit"},
    };
    scribe_notes ref;
    scribe_notes_init(&ref);
    for (size_t f = 0; f < sizeof fm / sizeof fm[0]; f++) {
        size_t len;
        uint8_t *w = make_wav(x, n, rate, fm[f].channels, fm[f].bits, fm[f].is_float, &len);
        scribe_audio a;
        scribe_error e = {0};
        CHECK_MSG(scribe_wav_decode(w, len, &a, &e) == SCRIBE_OK, "%s: %s", fm[f].what, e.message);
        free(w);
        if (e.code) continue;
        CHECK(a.frames == n && a.source_channels == (uint32_t)fm[f].channels && a.sample_rate == rate);
        scribe_notes got;
        scribe_notes_init(&got);
        CHECK_OK(transcribe(m, a.samples, a.frames, a.sample_rate, 0, 0, NULL, &got, &e));
        scribe_audio_free(&a);
        CHECK_MSG(got.count > 5 && notes_sane(&got, n / (double)rate), "%s: %zu notes", fm[f].what, got.count);
        if (f == 0) scribe_notes_append(&ref, &got, NULL);
        double f1 = onset_f1(&ref, &got);
        CHECK_MSG(f1 >= fm[f].min_f1, "%s: onset F1 %.3f against 16-bit (%zu vs %zu notes)", fm[f].what, f1,
                  got.count, ref.count);
        scribe_notes_free(&got);
    }
    scribe_notes_free(&ref);
    free(x);
    scribe_model_free(m);
    free(buf);
}

/* NaN/Inf samples are sanitised at the session input: NaN counts as silence, so a signal with
 * NaNs gives exactly the notes of the same signal with zeros there; Inf/huge values are clamped
 * and never reach the output as non-finite numbers. */
TEST(robust_nonfinite_silence_and_clipping) {
    void *buf;
    scribe_model *m = load_model(ACOUSTIC, &buf);
    size_t n;
    uint32_t rate;
    float *x = dev_clip("vocadito-1", slow() ? 2.0 : 4.0, &n, &rate);
    CHECK(m != NULL && x != NULL);
    if (!m || !x) { free(x); scribe_model_free(m); free(buf); return; }
    float *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
    scribe_error e = {0};
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);

    /* NaN in place of every 97th sample (and a run of 500) == zeros there */
    memcpy(y, x, n * sizeof *y);
    memcpy(z, x, n * sizeof *z);
    for (size_t i = 0; i < n; i += 97) { y[i] = NAN; z[i] = 0; }
    for (size_t i = 1000; i < 1500; i++) { y[i] = -NAN; z[i] = 0; }
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_OK(transcribe(m, z, n, rate, 4096, 0, NULL, &b, &e));
    CHECK_MSG(a.count == b.count && a.count > 0, "NaN: %zu notes, zeros: %zu", a.count, b.count);
    for (size_t i = 0; i < a.count && i < b.count; i++)
        CHECK(a.notes[i].pitch == b.notes[i].pitch && a.notes[i].onset_s == b.notes[i].onset_s);
    CHECK(notes_sane(&a, n / (double)rate));

    /* +-Inf and 1e30 sprinkled in: finite output */
    memcpy(y, x, n * sizeof *y);
    for (size_t i = 0; i < n; i += 1013) y[i] = (i / 1013) % 3 == 0 ? INFINITY : (i / 1013) % 3 == 1 ? -INFINITY : 1e30f;
    scribe_notes_clear(&a);
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_MSG(notes_sane(&a, n / (double)rate), "Inf: non-finite or absurd notes among %zu", a.count);

    /* every sample NaN, and digital silence: no notes */
    for (size_t i = 0; i < n; i++) y[i] = NAN;
    scribe_notes_clear(&a);
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_MSG(a.count == 0, "all-NaN input gave %zu notes", a.count);
    memset(y, 0, n * sizeof *y);
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_MSG(a.count == 0, "silence gave %zu notes", a.count);

    /* hard clipping (x * 20 clipped to +-1) still transcribes, finite */
    for (size_t i = 0; i < n; i++) { float v = x[i] * 20; y[i] = v > 1 ? 1 : v < -1 ? -1 : v; }
    scribe_notes_clear(&a);
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_MSG(a.count > 0 && notes_sane(&a, n / (double)rate), "clipped: %zu notes", a.count);
    /* full-scale square wave at 440 Hz: notes around A4 or its harmonics, finite */
    for (size_t i = 0; i < n; i++) y[i] = fmod(i * 440.0 / rate, 1.0) < 0.5 ? 1.0f : -1.0f;
    scribe_notes_clear(&a);
    CHECK_OK(transcribe(m, y, n, rate, 4096, 0, NULL, &a, &e));
    CHECK_MSG(a.count > 0 && notes_sane(&a, n / (double)rate), "square: %zu notes", a.count);
    int has_a4 = 0;
    for (size_t i = 0; i < a.count; i++) has_a4 |= a.notes[i].pitch == 69;
    CHECK(has_a4);

    scribe_notes_free(&a);
    scribe_notes_free(&b);
    free(x);
    free(y);
    free(z);
    scribe_model_free(m);
    free(buf);
}

/* Very short inputs: nothing, one sample, 10 ms, 1 s. */
TEST(robust_short_inputs) {
    void *buf;
    scribe_model *m = load_model(ACOUSTIC, &buf);
    size_t n;
    uint32_t rate;
    float *x = dev_clip("vocadito-1", 2.0, &n, &rate);
    CHECK(m != NULL && x != NULL);
    if (!m || !x) { free(x); scribe_model_free(m); free(buf); return; }
    size_t lens[] = {0, 1, (size_t)rate / 100, rate};
    for (size_t i = 0; i < 4; i++) {
        scribe_notes out;
        scribe_notes_init(&out);
        scribe_error e = {0};
        CHECK_MSG(transcribe(m, x + rate, lens[i], rate, 0, 0, NULL, &out, &e) == SCRIBE_OK, "%zu samples: %s",
                  lens[i], e.message);
        CHECK(notes_sane(&out, lens[i] / (double)rate));
        if (i < 3) CHECK_MSG(out.count == 0, "%zu samples gave %zu notes", lens[i], out.count);
        scribe_notes_free(&out);
    }
    /* feeding after finish, and finish twice */
    scribe_session *s;
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = rate;
    CHECK_OK(scribe_session_init(m, &p, &s, NULL));
    CHECK_OK(scribe_session_finish(s, NULL));
    CHECK_OK(scribe_session_finish(s, NULL));
    scribe_error e = {0};
    CHECK(scribe_session_feed(s, x, 10, &e) == SCRIBE_ERR_STATE && strstr(e.message, "finish"));
    CHECK(scribe_session_feed(s, NULL, 10, &e) == SCRIBE_ERR_INVALID_ARGUMENT);
    scribe_session_free(s);
    free(x);
    scribe_model_free(m);
    free(buf);
}

/* ------------------------------------------------------------------ weights files */

static void expect_weights_error(const void *b, size_t len, scribe_status want, const char *needle, const char *what) {
    void *c = aligned_alloc(64, (len + 64) / 64 * 64);
    memcpy(c, b, len);
    scribe_model *m = NULL;
    scribe_error e = {0};
    scribe_status st = scribe_model_init_from_buffer(c, len, &m, &e);
    CHECK_MSG(st != SCRIBE_OK && (want == SCRIBE_OK || st == want), "%s: %s (%s)", what, scribe_status_name(st), e.message);
    CHECK_MSG(st == SCRIBE_OK || (e.code == st && strlen(e.message) > 10 && (!needle || strstr(e.message, needle))),
              "%s: message '%s' (want '%s')", what, e.message, needle ? needle : "");
    CHECK(st != SCRIBE_OK || m != NULL);
    scribe_model_free(m);
    free(c);
}

/* Offset of the record of tensor `name`, or 0. */
static size_t record_of(const uint8_t *b, size_t len, const char *name) {
    uint32_t n = get32(b + 16);
    for (uint32_t i = 0; i < n && 512 + (i + 1) * 128 <= len; i++)
        if (!strcmp((const char *)b + 512 + i * 128, name)) return 512 + i * 128;
    return 0;
}

static void corrupt_weights_file(const char *path, const char *tensor, int cfg_index, int32_t cfg_value) {
    size_t len;
    uint8_t *b = read_aligned(path, &len);
    CHECK(b != NULL);
    if (!b) return;
    uint8_t *c = malloc(len);
    /* sanity: the file itself loads */
    scribe_model *m = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b, len, &m, NULL));
    scribe_model_free(m);
    /* truncated: header, directory, inside tensors, one byte short of the last tensor's end */
    size_t end = 0;
    for (uint32_t i = 0; i < get32(b + 16); i++) {
        const uint8_t *rec = b + 512 + 128 * i;
        size_t e_ = (size_t)get32(rec + 104) + (size_t)get32(rec + 112);
        if (e_ > end) end = e_;
    }
    CHECK(end > 512 && end <= len);
    size_t cuts[] = {0, 7, 100, 511, 512, 600, end / 3, end / 2, end - 64, end - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) expect_weights_error(b, cuts[i], SCRIBE_OK, NULL, "truncated");
    memcpy(c, b, len); memcpy(c, "GGUF", 4);
    expect_weights_error(c, len, SCRIBE_ERR_BAD_WEIGHTS, "magic", "wrong magic");
    memcpy(c, b, len); put32(c + 8, 2);
    expect_weights_error(c, len, SCRIBE_ERR_UNSUPPORTED, "version 2", "version 2");
    memcpy(c, b, len); put32(c + 12, 9);
    expect_weights_error(c, len, SCRIBE_ERR_UNSUPPORTED, "9", "unknown kind 9");
    size_t r = record_of(b, len, tensor);
    CHECK_MSG(r != 0, "%s: no tensor %s", path, tensor);
    if (r) {
        memcpy(c, b, len); put32(c + r + 104, (uint32_t)((len + 64) & ~(size_t)63)); /* offset past the end */
        expect_weights_error(c, len, SCRIBE_ERR_BAD_WEIGHTS, tensor, "tensor outside the file");
        memcpy(c, b, len); put32(c + r + 104, 0); put32(c + r + 108, 1); /* offset 4 GiB */
        expect_weights_error(c, len, SCRIBE_ERR_BAD_WEIGHTS, tensor, "tensor at 4 GiB");
        memcpy(c, b, len); memcpy(c + r, "nope.missing", 13); /* a tensor the model needs is absent */
        expect_weights_error(c, len, SCRIBE_ERR_BAD_WEIGHTS, tensor, "tensor renamed");
    }
    /* configuration that disagrees with the tensor shapes */
    memcpy(c, b, len); put32(c + 24 + 4 * cfg_index, (uint32_t)cfg_value);
    expect_weights_error(c, len, SCRIBE_OK, NULL, "configuration disagrees with shapes");
    /* the other kind's configuration: an MT3 file labelled acoustic and vice versa */
    memcpy(c, b, len); put32(c + 12, get32(b + 12) == 1 ? 2 : 1);
    expect_weights_error(c, len, SCRIBE_OK, NULL, "kind swapped");
    /* random byte flips in header and directory: error or a working model, never a crash */
    uint32_t s = 5;
    for (int k = 0; k < 300; k++) {
        memcpy(c, b, len);
        size_t limit = 512 + 128 * (size_t)get32(b + 16);
        for (int j = 0; j < 3; j++) c[rng(&s) % limit] ^= (uint8_t)(1u << (rng(&s) % 8));
        void *al = aligned_alloc(64, (len + 64) / 64 * 64);
        memcpy(al, c, len);
        scribe_error e = {0};
        scribe_status st = scribe_model_init_from_buffer(al, len, &m, &e);
        CHECK(st == SCRIBE_OK || (e.code == st && e.message[0]));
        if (!st) scribe_model_free(m);
        free(al);
    }
    free(c);
    free(b);
}

TEST(robust_acoustic_weights_corrupt) { corrupt_weights_file(ACOUSTIC, "onset2.weight", 10, 87); }

TEST(robust_mt3_weights_corrupt) { corrupt_weights_file(MT3_TINY, "dec.logits", 0, 16); }

/* ------------------------------------------------------------------ MIDI */

TEST(robust_midi_odd_headers) {
    static const uint8_t track[] = {'M', 'T', 'r', 'k', 0, 0, 0, 12, 0, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0, 0xFF, 0x2F, 0};
    struct { uint8_t hdr[14]; const char *what; int ok; } cases[] = {
        {{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 0}, "division 0", 0},
        {{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0xE7, 0x28}, "SMPTE division (25 fps, 40 ticks)", 1},
        {{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 2, 0, 1, 1, 0xE0}, "type 2", 0},
        {{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 5, 1, 0xE0}, "5 tracks declared, 1 present", 0},
        {{'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 0, 1, 0xE0}, "0 tracks declared", 0},
        {{'M', 'T', 'h', 'd', 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 1, 0xE0}, "header length 2 GiB", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[sizeof cases[i].hdr + sizeof track];
        memcpy(f, cases[i].hdr, 14);
        memcpy(f + 14, track, sizeof track);
        scribe_notes out;
        scribe_notes_init(&out);
        scribe_error e = {0};
        scribe_status st = scribe_midi_read(f, sizeof f, &out, &e);
        if (cases[i].ok) {
            CHECK_MSG(st == SCRIBE_OK && out.count == 1 && out.notes[0].offset_s > out.notes[0].onset_s, "%s: %s %s",
                      cases[i].what, scribe_status_name(st), e.message);
        } else {
            CHECK_MSG(st == SCRIBE_ERR_BAD_MIDI || st == SCRIBE_ERR_UNSUPPORTED || (st == SCRIBE_OK && out.count <= 1),
                      "%s: %s", cases[i].what, scribe_status_name(st));
            CHECK_MSG(st == SCRIBE_OK || strlen(e.message) > 10, "%s: message '%s'", cases[i].what, e.message);
        }
        scribe_notes_free(&out);
    }
    /* a WAV handed to the MIDI reader */
    float x[16] = {0};
    size_t len;
    uint8_t *w = make_wav(x, 16, 8000, 1, 16, 0, &len);
    scribe_notes out;
    scribe_notes_init(&out);
    scribe_error e = {0};
    CHECK(scribe_midi_read(w, len, &out, &e) == SCRIBE_ERR_BAD_MIDI && strlen(e.message) > 10);
    CHECK(scribe_midi_read(w, 0, &out, &e) == SCRIBE_ERR_BAD_MIDI);
    scribe_notes_free(&out);
    free(w);
}

/* ------------------------------------------------------------------ streaming == whole file */

static void stream_equals_whole(const char *model_path, double seconds, int same_exactly) {
    void *buf;
    scribe_model *m = load_model(model_path, &buf);
    /* a few minutes of concatenated dev clips */
    const char *clips[] = {"guitarset-00_BN1-129-Eb_comp", "vocadito-1", "slakh-Track00001", "slakh-Track01501"};
    size_t total = 0, cap = 0;
    float *x = NULL;
    uint32_t rate = 0;
    for (size_t c = 0; total < cap || c == 0; c++) {
        size_t n;
        uint32_t r;
        float *y = dev_clip(clips[c % 4], 60.0, &n, &r);
        if (!y) break;
        if (!cap) { rate = r; cap = (size_t)(seconds * rate); x = malloc(cap * sizeof *x); }
        size_t k = n < cap - total ? n : cap - total;
        memcpy(x + total, y, k * sizeof *x);
        total += k;
        free(y);
    }
    CHECK(m != NULL && x != NULL && total == cap);
    if (!m || !x) { free(x); scribe_model_free(m); free(buf); return; }
    scribe_session_params p = scribe_session_default_params();
    p.fixed_decode_tokens = scribe_model_get_kind(m) == SCRIBE_MODEL_MT3 ? 16 : 0;
    scribe_notes whole, stream;
    scribe_notes_init(&whole);
    scribe_notes_init(&stream);
    CHECK_OK(transcribe(m, x, total, rate, 0, 0, &p, &whole, NULL));
    CHECK_OK(transcribe(m, x, total, rate, -20000, 12345, &p, &stream, NULL));
    CHECK_MSG(whole.count == stream.count && whole.count > 0, "%s: whole %zu notes, stream %zu", model_path,
              whole.count, stream.count);
    double frame = scribe_model_get_kind(m) == SCRIBE_MODEL_MT3 ? 0.01 : 256.0 / 22050;
    size_t bad = 0;
    for (size_t i = 0; i < whole.count && i < stream.count; i++) {
        double d = fabs(whole.notes[i].onset_s - stream.notes[i].onset_s);
        if (whole.notes[i].pitch != stream.notes[i].pitch || d > frame + 1e-9 || (same_exactly && d != 0)) bad++;
    }
    CHECK_MSG(bad == 0, "%s: %zu of %zu notes differ (pitch, or onset by more than a frame)", model_path, bad, whole.count);
    scribe_notes_free(&whole);
    scribe_notes_free(&stream);
    free(x);
    scribe_model_free(m);
    free(buf);
}

TEST(robust_stream_random_blocks_equals_whole_acoustic) { stream_equals_whole(ACOUSTIC, slow() ? 25 : 150, 0); }

TEST(robust_stream_random_blocks_equals_whole_mt3) { stream_equals_whole(MT3_TINY, slow() ? 20 : 60, 0); }
