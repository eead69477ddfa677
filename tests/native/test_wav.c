/* WAV reader/writer: every sample format, chunk layouts, malformed headers, the dev clip. */
#include <string.h>
#include "test.h"

typedef struct wavspec {
    uint16_t tag;          /* 1, 3, 0xFFFE, ... */
    uint16_t subtag;       /* for 0xFFFE */
    uint16_t channels;
    uint32_t rate;
    uint16_t block_align;
    uint16_t bits;
    uint32_t fmt_size;     /* 16, 18 or 40 */
    int bad_guid;
    int data_size_mode;    /* 0: exact, 1: 0xFFFFFFFF, 2: exact + 1000 (overrun) */
    int junk_before_fmt;   /* an odd-sized LIST chunk (with pad byte) before fmt */
    int fmt_after_data;
    int no_fmt, no_data;
    uint32_t riff_size;    /* 0: correct */
} wavspec;

typedef struct buf { uint8_t *p; size_t n, cap; } buf;
static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) { b->cap = (b->n + n) * 2 + 64; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) { uint8_t x[4] = {v, v >> 8, v >> 16, v >> 24}; put(b, x, 4); }
static void put16(buf *b, uint32_t v) { uint8_t x[2] = {v, v >> 8}; put(b, x, 2); }

static void put_fmt(buf *b, const wavspec *s) {
    uint32_t fs = s->fmt_size ? s->fmt_size : (s->tag == 0xFFFE ? 40 : 16);
    put(b, "fmt ", 4);
    put32(b, fs);
    size_t start = b->n;
    put16(b, s->tag);
    put16(b, s->channels);
    put32(b, s->rate);
    put32(b, s->rate * s->block_align);
    put16(b, s->block_align);
    put16(b, s->bits);
    if (fs >= 18) put16(b, fs - 18);
    if (fs >= 40) {
        put16(b, s->bits);
        put32(b, s->channels == 1 ? 4 : 3);
        put16(b, s->subtag);
        static const uint8_t tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
        uint8_t t[14];
        memcpy(t, tail, 14);
        if (s->bad_guid) t[5] ^= 1;
        put(b, t, 14);
    }
    while (b->n - start < fs) put(b, "", 1);
}

static uint8_t *make_wav(const wavspec *s, const uint8_t *data, uint32_t data_len, size_t *len) {
    buf b = {0};
    put(&b, "RIFF", 4);
    put32(&b, 0);
    put(&b, "WAVE", 4);
    if (s->junk_before_fmt) {
        put(&b, "LIST", 4);
        put32(&b, 5);
        put(&b, "abcde\0", 6);
    }
    if (!s->no_fmt && !s->fmt_after_data) put_fmt(&b, s);
    if (!s->no_data) {
        put(&b, "data", 4);
        put32(&b, s->data_size_mode == 1 ? 0xFFFFFFFFu : data_len + (s->data_size_mode == 2 ? 1000 : 0));
        put(&b, data, data_len);
        if (data_len & 1) put(&b, "", 1);
    }
    if (!s->no_fmt && s->fmt_after_data) put_fmt(&b, s);
    uint32_t riff = s->riff_size ? s->riff_size : (uint32_t)(b.n - 8);
    b.p[4] = riff; b.p[5] = riff >> 8; b.p[6] = riff >> 16; b.p[7] = riff >> 24;
    *len = b.n;
    return b.p;
}

/* Test signal: channel c of frame i. */
static double sig(size_t i, int c) { return 0.9 * sin(0.05 * (double)i + c) * (c % 2 ? -0.5 : 1.0); }

/* Encodes sig() in the given container; returns bytes and the quantisation step. */
static uint8_t *encode_samples(int is_float, int bytes, int channels, size_t frames, double *step) {
    uint8_t *d = malloc(frames * channels * bytes + 1);
    uint8_t *p = d;
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++) {
            double v = sig(i, c);
            if (is_float && bytes == 4) { float f = (float)v; memcpy(p, &f, 4); }
            else if (is_float) memcpy(p, &v, 8);
            else if (bytes == 1) p[0] = (uint8_t)(int)lrint(v * 128.0 + 128.0);
            else {
                int64_t q = llrint(v * (double)(1ull << (8 * bytes - 1)));
                for (int k = 0; k < bytes; k++) p[k] = (uint8_t)((uint64_t)q >> (8 * k));
            }
            p += bytes;
        }
    /* float32 output resolution (~6e-8 near 1) bounds the error of 32-bit PCM too */
    *step = is_float ? 1e-7 : fmax(1e-7, 1.0 / (double)(1ull << (8 * bytes - 1)));
    return d;
}

TEST(wav_decode_every_format) {
    const struct { int is_float, bytes; } fmts[] = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {1, 4}, {1, 8}};
    const int chans[] = {1, 2, 3, 6};
    int checked = 0;
    for (size_t f = 0; f < 6; f++)
        for (size_t ci = 0; ci < 4; ci++)
            for (int ext = 0; ext < 2; ext++) {
                int ch = chans[ci];
                size_t frames = 257;
                double step;
                uint8_t *d = encode_samples(fmts[f].is_float, fmts[f].bytes, ch, frames, &step);
                wavspec s = {.tag = ext ? 0xFFFE : (fmts[f].is_float ? 3 : 1), .subtag = fmts[f].is_float ? 3 : 1,
                             .channels = ch, .rate = 22050 + f, .block_align = ch * fmts[f].bytes,
                             .bits = 8 * fmts[f].bytes};
                size_t len;
                uint8_t *w = make_wav(&s, d, (uint32_t)(frames * ch * fmts[f].bytes), &len);
                scribe_audio a;
                scribe_error e;
                scribe_status st = scribe_wav_decode(w, len, &a, &e);
                CHECK_MSG(st == SCRIBE_OK, "float %d bytes %d ch %d ext %d: %s", fmts[f].is_float, fmts[f].bytes, ch, ext,
                          e.message);
                if (st == SCRIBE_OK) {
                    CHECK(a.frames == frames && a.sample_rate == 22050 + f && a.source_channels == (uint32_t)ch);
                    double maxe = 0;
                    for (size_t i = 0; i < frames && i < a.frames; i++) {
                        double m = 0;
                        for (int c = 0; c < ch; c++) m += sig(i, c);
                        m /= ch;
                        maxe = fmax(maxe, fabs(a.samples[i] - m));
                    }
                    CHECK_MSG(maxe <= step, "float %d bytes %d ch %d: max err %g > %g", fmts[f].is_float, fmts[f].bytes, ch,
                              maxe, step);
                    checked++;
                }
                scribe_audio_free(&a);
                free(w);
                free(d);
            }
    CHECK(checked == 48);
}

TEST(wav_pcm_extremes_and_nonfinite_floats) {
    /* 16-bit: -32768 -> -1, 32767 -> 32767/32768; 8-bit 0 -> -1, 255 -> 127/128. */
    uint8_t d16[4] = {0x00, 0x80, 0xFF, 0x7F};
    wavspec s = {.tag = 1, .channels = 1, .rate = 8000, .block_align = 2, .bits = 16};
    size_t len;
    uint8_t *w = make_wav(&s, d16, 4, &len);
    scribe_audio a;
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 2 && a.samples[0] == -1.0f && a.samples[1] == 32767.0f / 32768.0f);
    scribe_audio_free(&a);
    free(w);
    uint8_t d8[2] = {0, 255};
    s.block_align = 1; s.bits = 8;
    w = make_wav(&s, d8, 2, &len);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 2 && a.samples[0] == -1.0f && a.samples[1] == 127.0f / 128.0f);
    scribe_audio_free(&a);
    free(w);

    float fl[4] = {NAN, INFINITY, -INFINITY, 2.5f};
    s.tag = 3; s.block_align = 4; s.bits = 32;
    w = make_wav(&s, (const uint8_t *)fl, 16, &len);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 4 && a.samples[0] == 0.0f && a.samples[1] == 0.0f && a.samples[2] == 0.0f && a.samples[3] == 2.5f);
    scribe_audio_free(&a);
    free(w);
    /* Huge finite floats saturate at +-1e4. */
    float huge[2] = {1e30f, -3e38f};
    s.channels = 1; s.block_align = 4;
    w = make_wav(&s, (const uint8_t *)huge, 8, &len);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 2 && a.samples[0] == 1e4f && a.samples[1] == -1e4f);
    scribe_audio_free(&a);
    free(w);
    /* Stereo float with one NaN channel: NaN counts as 0 in the mean. */
    float st[2] = {NAN, 0.5f};
    s.channels = 2; s.block_align = 8;
    w = make_wav(&s, (const uint8_t *)st, 8, &len);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 1 && a.samples[0] == 0.25f);
    scribe_audio_free(&a);
    free(w);
}

TEST(wav_chunk_layouts) {
    int16_t d[5] = {100, -200, 300, -400, 500};
    wavspec base = {.tag = 1, .channels = 1, .rate = 16000, .block_align = 2, .bits = 16};
    wavspec v[5];
    for (int i = 0; i < 5; i++) v[i] = base;
    v[0].junk_before_fmt = 1;              /* odd unknown chunk with pad byte */
    v[1].fmt_after_data = 1;               /* fmt after data */
    v[2].data_size_mode = 1;               /* 0xFFFFFFFF: rest of the file */
    v[3].riff_size = 0xFFFFFFFFu;          /* streaming RIFF size */
    v[4].fmt_size = 18;                    /* fmt with cbSize */
    for (int i = 0; i < 5; i++) {
        size_t len;
        uint8_t *w = make_wav(&v[i], (const uint8_t *)d, 10, &len);
        scribe_audio a;
        scribe_error e;
        scribe_status st = scribe_wav_decode(w, len, &a, &e);
        CHECK_MSG(st == SCRIBE_OK, "layout %d: %s", i, e.message);
        CHECK_MSG(st || (a.frames == 5 && fabsf(a.samples[4] - 500 / 32768.0f) < 1e-9f), "layout %d: %zu frames", i,
                  a.frames);
        scribe_audio_free(&a);
        free(w);
    }
    /* Partial trailing frame ignored: 11 data bytes of 16-bit mono give 5 frames. */
    uint8_t d11[11] = {0};
    size_t len;
    uint8_t *w = make_wav(&base, d11, 11, &len);
    scribe_audio a;
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 5);
    scribe_audio_free(&a);
    free(w);
    /* Empty data chunk: zero frames, not an error. */
    w = make_wav(&base, d11, 0, &len);
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 0 && a.samples != NULL);
    scribe_audio_free(&a);
    free(w);
}

static void expect_fail(const uint8_t *w, size_t len, scribe_status want, const char *what) {
    scribe_audio a;
    scribe_error e = {0};
    scribe_status st = scribe_wav_decode(w, len, &a, &e);
    CHECK_MSG(st == want, "%s: got %s (%s)", what, scribe_status_name(st), e.message);
    CHECK_MSG(st == SCRIBE_OK || (e.code == st && strlen(e.message) > 10), "%s: message '%s'", what, e.message);
    CHECK(a.samples == NULL && a.frames == 0);
    if (st == SCRIBE_OK) scribe_audio_free(&a);
}

TEST(wav_malformed_rejected) {
    int16_t d[8] = {0};
    wavspec good = {.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16};
    size_t len;
    uint8_t *w = make_wav(&good, (const uint8_t *)d, 16, &len);

    expect_fail(w, 0, SCRIBE_ERR_BAD_AUDIO, "empty");
    expect_fail(w, 11, SCRIBE_ERR_BAD_AUDIO, "truncated RIFF header");
    expect_fail(w, 20, SCRIBE_ERR_BAD_AUDIO, "truncated inside fmt");
    expect_fail(w, 36, SCRIBE_ERR_BAD_AUDIO, "no data chunk (cut before it)");
    expect_fail(w, len - 2, SCRIBE_ERR_BAD_AUDIO, "data chunk truncated");
    uint8_t *c = malloc(len);
    memcpy(c, w, len); memcpy(c, "RIFX", 4);
    expect_fail(c, len, SCRIBE_ERR_UNSUPPORTED, "RIFX");
    memcpy(c, w, len); memcpy(c, "OggS", 4);
    expect_fail(c, len, SCRIBE_ERR_BAD_AUDIO, "not RIFF");
    memcpy(c, w, len); memcpy(c + 8, "AVI ", 4);
    expect_fail(c, len, SCRIBE_ERR_BAD_AUDIO, "RIFF but not WAVE");
    free(c);
    free(w);

    struct { wavspec s; scribe_status want; const char *what; } cases[] = {
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .no_fmt = 1}, SCRIBE_ERR_BAD_AUDIO, "fmt missing"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .no_data = 1}, SCRIBE_ERR_BAD_AUDIO, "data missing"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 3, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "block_align not multiple of channels"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 2, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "block_align too small for bits"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 0, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "block_align 0"},
        {{.tag = 1, .channels = 0, .rate = 44100, .block_align = 4, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "0 channels"},
        {{.tag = 1, .channels = 2, .rate = 0, .block_align = 4, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "rate 0"},
        {{.tag = 1, .channels = 2, .rate = 800000, .block_align = 4, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "rate 800 kHz"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 0}, SCRIBE_ERR_BAD_AUDIO, "0 bits"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .fmt_size = 14}, SCRIBE_ERR_BAD_AUDIO, "fmt chunk too short"},
        {{.tag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .data_size_mode = 2}, SCRIBE_ERR_BAD_AUDIO, "data size beyond file"},
        {{.tag = 3, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16}, SCRIBE_ERR_BAD_AUDIO, "16-bit float"},
        {{.tag = 1, .channels = 1, .rate = 44100, .block_align = 8, .bits = 64}, SCRIBE_ERR_UNSUPPORTED, "64-bit PCM"},
        {{.tag = 0xFFFE, .subtag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .fmt_size = 24}, SCRIBE_ERR_BAD_AUDIO, "extensible fmt too short"},
        {{.tag = 0xFFFE, .subtag = 1, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16, .bad_guid = 1}, SCRIBE_ERR_UNSUPPORTED, "extensible unknown GUID"},
        {{.tag = 0xFFFE, .subtag = 2, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16}, SCRIBE_ERR_UNSUPPORTED, "extensible ADPCM"},
        {{.tag = 2, .channels = 2, .rate = 44100, .block_align = 4, .bits = 16}, SCRIBE_ERR_UNSUPPORTED, "ADPCM"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        w = make_wav(&cases[i].s, (const uint8_t *)d, 16, &len);
        expect_fail(w, len, cases[i].want, cases[i].what);
        free(w);
    }
    /* Two data chunks. */
    buf b = {0};
    w = make_wav(&good, (const uint8_t *)d, 16, &len);
    put(&b, w, len);
    put(&b, "data", 4); put32(&b, 4); put32(&b, 0);
    b.p[4] = (uint8_t)(b.n - 8); b.p[5] = (uint8_t)((b.n - 8) >> 8);
    expect_fail(b.p, b.n, SCRIBE_ERR_BAD_AUDIO, "two data chunks");
    free(b.p);
    free(w);
    scribe_audio a;
    CHECK(scribe_wav_decode(NULL, 10, &a, NULL) == SCRIBE_ERR_INVALID_ARGUMENT);
}

TEST(wav_encode_roundtrip) {
    float x[1000];
    for (int i = 0; i < 1000; i++) x[i] = (float)sin(i * 0.01) * 1.2f; /* some samples clip */
    x[3] = NAN;
    uint8_t *w;
    size_t len;
    CHECK_OK(scribe_wav_encode(x, 1000, 16000, &w, &len, NULL));
    CHECK(len == 44 + 2000);
    scribe_audio a;
    CHECK_OK(scribe_wav_decode(w, len, &a, NULL));
    CHECK(a.frames == 1000 && a.sample_rate == 16000 && a.source_channels == 1);
    double maxe = 0;
    for (int i = 0; i < 1000 && a.frames == 1000; i++) {
        double want = i == 3 ? 0.0 : fmin(fmax(x[i], -1.0), 32767.0 / 32768.0);
        maxe = fmax(maxe, fabs(a.samples[i] - want));
    }
    CHECK_MSG(maxe <= 0.5 / 32768 + 1e-9, "max err %g", maxe);
    scribe_audio_free(&a);
    scribe_free(w);
    CHECK(scribe_wav_encode(x, 10, 0, &w, &len, NULL) == SCRIBE_ERR_INVALID_ARGUMENT);
}

TEST(wav_dev_clip_decodes) {
    char path[1024];
    snprintf(path, sizeof path, "%s/guitarset-00_BN1-129-Eb_comp.wav", test_data_dir());
    size_t len;
    unsigned char *bytes = test_read_file(path, &len);
    CHECK(bytes != NULL);
    if (!bytes) return;
    scribe_audio a;
    scribe_error e;
    CHECK_OK(scribe_wav_decode(bytes, len, &a, &e));
    CHECK(a.sample_rate == 44100 && a.source_channels == 1);
    CHECK(a.frames > 44100 && a.frames <= (len - 44) / 2);
    double peak = 0;
    for (size_t i = 0; i < a.frames; i++) peak = fmax(peak, fabs(a.samples[i]));
    CHECK(peak > 0.01 && peak <= 1.0);
    scribe_audio_free(&a);
    free(bytes);
}

/* Every truncation and thousands of random byte mutations of valid files: the decoder returns
 * OK or an error, never reads out of bounds (run under ASan in make test-asan). */
TEST(wav_fuzz_truncations_and_mutations) {
    uint8_t d[64];
    for (int i = 0; i < 64; i++) d[i] = (uint8_t)(i * 37);
    wavspec specs[3] = {{.tag = 1, .channels = 2, .rate = 8000, .block_align = 4, .bits = 16, .junk_before_fmt = 1},
                        {.tag = 0xFFFE, .subtag = 3, .channels = 1, .rate = 8000, .block_align = 4, .bits = 32},
                        {.tag = 3, .channels = 1, .rate = 8000, .block_align = 8, .bits = 64, .fmt_after_data = 1}};
    unsigned s = 1;
    int ok = 0, failed = 0, nonfinite = 0;
    for (int k = 0; k < 3; k++) {
        size_t len;
        uint8_t *w = make_wav(&specs[k], d, 64, &len);
        for (size_t cut = 0; cut <= len; cut++) {
            uint8_t *c = malloc(cut ? cut : 1); /* exact-size copy so ASan sees any overread */
            memcpy(c, w, cut);
            scribe_audio a;
            scribe_error e;
            if (scribe_wav_decode(c, cut, &a, &e) == SCRIBE_OK) { ok++; scribe_audio_free(&a); }
            else { failed++; CHECK(e.message[0] != 0); }
            free(c);
        }
        for (int t = 0; t < 3000; t++) {
            uint8_t *c = malloc(len);
            memcpy(c, w, len);
            for (int m = 0; m < 3; m++) {
                s = s * 1103515245u + 12345u;
                size_t pos = (s >> 8) % len;
                s = s * 1103515245u + 12345u;
                c[pos] = (uint8_t)(s >> 16);
            }
            scribe_audio a;
            if (scribe_wav_decode(c, len, &a, NULL) == SCRIBE_OK) {
                for (size_t i = 0; i < a.frames; i++) nonfinite += !isfinite(a.samples[i]) || fabsf(a.samples[i]) > 1e4f;
                ok++;
                scribe_audio_free(&a);
            } else {
                failed++;
            }
            free(c);
        }
        free(w);
    }
    CHECK(ok > 100 && failed > 100);
    CHECK_MSG(nonfinite == 0, "%d non-finite or unbounded samples", nonfinite);
}
