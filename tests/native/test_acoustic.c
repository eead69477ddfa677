/* Acoustic model (Basic Pitch): weights checks, the network on synthetic tones, note creation on
 * hand-made posteriorgrams, default vs streamed notes. Parity with the npm package itself is in
 * tests/node/acoustic_parity.test.mjs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../../src/models/acoustic.h"
#include "../../src/music/acoustic_notes.h"

#define WEIGHTS "weights/basic-pitch.scrb"
#define SR 22050
#define PI_D 3.14159265358979323846

static scribe_model *load_model(void) {
    scribe_model *m = NULL;
    scribe_error err;
    scribe_status st = scribe_model_init_from_file(WEIGHTS, &m, &err);
    CHECK_MSG(st == SCRIBE_OK, "%s", err.message);
    return m;
}

/* a tone of `hz` for [t0, t1) seconds inside n samples, with a short fade */
static void add_tone(float *x, size_t n, double hz, double t0, double t1, float amp) {
    for (size_t i = (size_t)(t0 * SR); i < (size_t)(t1 * SR) && i < n; i++) {
        double t = (double)i / SR, env = fmin(1.0, fmin(t - t0, t1 - t) / 0.01);
        x[i] += (float)(amp * env * (sin(2 * PI_D * hz * t) + 0.3 * sin(4 * PI_D * hz * t)));
    }
}

static int run_session(const scribe_model *m, const float *x, size_t n, int stream, scribe_notes *out,
                       size_t *early) {
    scribe_session_params p = scribe_session_default_params();
    p.stream_notes = stream;
    scribe_session *s = NULL;
    scribe_error err;
    if (scribe_session_init(m, &p, &s, &err)) {
        fprintf(stderr, "  session: %s\n", err.message);
        return 0;
    }
    *early = 0;
    for (size_t i = 0; i < n; i += 3000) {
        CHECK_OK(scribe_session_feed(s, x + i, n - i < 3000 ? n - i : 3000, &err));
        CHECK_OK(scribe_session_take_notes(s, out, &err));
        *early = out->count;
    }
    CHECK_OK(scribe_session_finish(s, &err));
    CHECK_OK(scribe_session_take_notes(s, out, &err));
    scribe_session_free(s);
    return 1;
}

static const scribe_note *find_note(const scribe_notes *l, int pitch, double t) {
    for (size_t i = 0; i < l->count; i++)
        if (l->notes[i].pitch == pitch && l->notes[i].onset_s <= t && l->notes[i].offset_s >= t) return &l->notes[i];
    return NULL;
}

TEST(acoustic_model_describes_itself) {
    scribe_model *m = load_model();
    if (!m) return;
    /* frames as the package counts them: floor(n * 86 / 22050) */
    float *x = calloc(SR * 3, sizeof(float));
    float *c = NULL, *nn = NULL, *o = NULL;
    int nf = 0;
    double stats[4];
    scribe_error err;
    CHECK_OK(sc_acoustic_posteriorgrams(m, x, SR * 3, &c, &nn, &o, &nf, stats, &err));
    CHECK(nf == 258);
    CHECK(stats[0] > 1e8 && stats[1] > 1e9);
    if (nn) CHECK(nn[0] >= 0.0f && nn[0] < 0.5f);
    free(c);
    free(nn);
    free(o);
    free(x);
    CHECK(scribe_model_get_kind(m) == SCRIBE_MODEL_ACOUSTIC);
    CHECK(scribe_model_sample_rate(m) == SR);
    CHECK(strstr(scribe_model_describe(m), "Basic Pitch") != NULL);
    CHECK(strstr(scribe_model_describe(m), "16700 parameters") != NULL);
    scribe_model_free(m);
}

TEST(acoustic_rejects_foreign_config_and_shapes) {
    size_t len = 0;
    unsigned char *buf = test_read_file(WEIGHTS, &len);
    CHECK(buf != NULL);
    if (!buf) return;
    scribe_model *m = NULL;
    scribe_error err;
    /* hop 512 instead of 256 (config[1]) */
    unsigned char *bad = malloc(len);
    memcpy(bad, buf, len);
    bad[24 + 4] = 0;
    bad[24 + 5] = 2;
    CHECK(scribe_model_init_from_buffer(bad, len, &m, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    CHECK(strstr(err.message, "hop 512") != NULL);
    /* first tensor (cqt.kernels) claims 128 taps: shape check fails */
    memcpy(bad, buf, len);
    bad[512 + 88] = 128;
    bad[512 + 89] = 0;
    CHECK(scribe_model_init_from_buffer(bad, len, &m, &err) != SCRIBE_OK);
    CHECK(m == NULL);
    free(bad);
    free(buf);
}

TEST(acoustic_tones_become_notes_with_flat_bends) {
    scribe_model *m = load_model();
    if (!m) return;
    const size_t n = 5 * SR;
    float *x = calloc(n, sizeof(float));
    add_tone(x, n, 440.0, 0.5, 2.5, 0.3f);          /* A4 = 69 */
    add_tone(x, n, 261.6255653, 3.0, 4.5, 0.3f);    /* C4 = 60 */
    scribe_notes notes;
    scribe_notes_init(&notes);
    size_t early = 0;
    if (run_session(m, x, n, 0, &notes, &early)) {
        CHECK(early == 0);
        const scribe_note *a = find_note(&notes, 69, 1.5), *c = find_note(&notes, 60, 3.75);
        CHECK_MSG(a != NULL, "no A4 note among %zu", notes.count);
        CHECK_MSG(c != NULL, "no C4 note among %zu", notes.count);
        if (a) {
            CHECK_NEAR(a->onset_s, 0.5, 0.08);
            CHECK_NEAR(a->offset_s, 2.5, 0.15);
            CHECK(a->bend_count > 100);
            for (uint32_t i = 0; i < a->bend_count; i++) CHECK(fabsf(notes.bends[a->bend_index + i].semitones) <= 0.34f);
        }
        if (c) CHECK_NEAR(c->onset_s, 3.0, 0.08);
    }
    scribe_notes_free(&notes);
    free(x);
    scribe_model_free(m);
}

TEST(acoustic_stream_notes_hands_out_notes_at_quiet_stretches) {
    scribe_model *m = load_model();
    if (!m) return;
    const size_t n = 9 * SR;
    float *x = calloc(n, sizeof(float));
    add_tone(x, n, 440.0, 0.3, 1.8, 0.3f);
    add_tone(x, n, 329.6275569, 4.5, 6.0, 0.3f); /* E4 = 64, after 2.7 s of silence */
    scribe_notes whole, streamed;
    scribe_notes_init(&whole);
    scribe_notes_init(&streamed);
    size_t early_whole = 0, early_streamed = 0;
    if (run_session(m, x, n, 0, &whole, &early_whole) && run_session(m, x, n, 1, &streamed, &early_streamed)) {
        CHECK(early_whole == 0);
        CHECK_MSG(early_streamed >= 1, "streamed %zu notes before finish", early_streamed);
        CHECK(whole.count == streamed.count && whole.count >= 2);
        scribe_notes_sort(&whole);
        scribe_notes_sort(&streamed);
        for (size_t i = 0; i < whole.count && i < streamed.count; i++) {
            CHECK(whole.notes[i].pitch == streamed.notes[i].pitch);
            CHECK(whole.notes[i].onset_s == streamed.notes[i].onset_s);
            CHECK(whole.notes[i].offset_s == streamed.notes[i].offset_s);
        }
    }
    scribe_notes_free(&whole);
    scribe_notes_free(&streamed);
    free(x);
    scribe_model_free(m);
}

/* Hand-made posteriorgram: one onset-led note, one note without onset (melodia), one too short. */
TEST(acoustic_note_creation_rules) {
    enum { N = 120 };
    float *fr = calloc(N * 88, sizeof(float)), *on = calloc(N * 88, sizeof(float)), *co = calloc(N * 264, sizeof(float));
    for (int i = 10; i < 40; i++) fr[i * 88 + 39] = 0.8f;   /* pitch 60, frames 10..39 */
    on[10 * 88 + 39] = 0.9f;
    for (int i = 60; i < 90; i++) fr[i * 88 + 50] = 0.6f;   /* pitch 71, no onset, flat: melodia */
    for (int i = 100; i < 105; i++) fr[i * 88 + 20] = 0.7f; /* pitch 41, 5 frames: too short */
    on[100 * 88 + 20] = 0.9f;
    for (int i = 0; i < N; i++) co[i * 264 + 3 * 39 + 1] = 0.9f; /* contour peak +1 bin above 60 */
    scribe_session_params p = scribe_session_default_params();
    scribe_notes l;
    scribe_notes_init(&l);
    scribe_error err;
    CHECK_OK(sc_acoustic_notes(fr, on, co, N, &p, &l, &err));
    CHECK_MSG(l.count == 2, "%zu notes", l.count);
    const scribe_note *a = find_note(&l, 60, sc_acoustic_frame_time(20));
    const scribe_note *b = find_note(&l, 71, sc_acoustic_frame_time(70));
    CHECK(a != NULL && b != NULL);
    if (a) {
        CHECK_NEAR(a->onset_s, sc_acoustic_frame_time(10), 1e-12);
        CHECK_NEAR(a->offset_s, sc_acoustic_frame_time(40), 1e-12);
        CHECK(a->velocity == (int)nearbyint(127 * 0.8));
        CHECK(a->bend_count == 30);
        if (a->bend_count) CHECK_NEAR(l.bends[a->bend_index].semitones, 1.0 / 3.0, 1e-6);
    }
    if (b) CHECK_NEAR(b->offset_s - b->onset_s, sc_acoustic_frame_time(89) - sc_acoustic_frame_time(61), 0.05);
    /* the pitch-71 block has no onset of its own: without inferred onsets and the melodia trick
     * only the onset-led notes remain, and min 4 frames admits the short one */
    scribe_notes_clear(&l);
    p.melodia_trick = 0;
    p.infer_onsets = 0;
    p.min_note_frames = 4;
    CHECK_OK(sc_acoustic_notes(fr, on, co, N, &p, &l, &err));
    CHECK_MSG(l.count == 2 && find_note(&l, 41, sc_acoustic_frame_time(102)) != NULL, "%zu notes", l.count);
    /* inferred onsets (the frame rise at 60, rescaled) turn it into an onset-led note */
    scribe_notes_clear(&l);
    p.infer_onsets = 1;
    CHECK_OK(sc_acoustic_notes(fr, on, co, N, &p, &l, &err));
    CHECK_MSG(l.count == 3 && find_note(&l, 71, sc_acoustic_frame_time(61)) != NULL, "%zu notes", l.count);
    /* a frequency ceiling below pitch 60 removes it */
    scribe_notes_clear(&l);
    p.max_frequency_hz = 200.0f;
    CHECK_OK(sc_acoustic_notes(fr, on, co, N, &p, &l, &err));
    CHECK(find_note(&l, 60, sc_acoustic_frame_time(20)) == NULL);
    scribe_notes_free(&l);
    free(fr);
    free(on);
    free(co);
}

TEST(acoustic_frame_time_matches_the_package) {
    /* modelFrameToTime: frame * 256 / 22050 minus a per-172-frame offset */
    const double off = (256.0 / 22050.0) * (172 - (22050.0 * 2 - 256) / 256.0) + 0.0018;
    CHECK_NEAR(sc_acoustic_frame_time(0), 0.0, 1e-15);
    CHECK_NEAR(sc_acoustic_frame_time(171), 171 * 256.0 / 22050, 1e-12);
    CHECK_NEAR(sc_acoustic_frame_time(172), 172 * 256.0 / 22050 - off, 1e-12);
    CHECK_NEAR(sc_acoustic_frame_time(400), 400 * 256.0 / 22050 - 2 * off, 1e-12);
}

/* ------------------------------------------------------------------ bounded memory */

/* A dev clip (44.1 kHz), looped to `seconds`. */
static float *dev_clip_looped(const char *name, double seconds, size_t *n, uint32_t *rate) {
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
    for (size_t i = 0; x && i < *n; i++) x[i] = a.samples[i % a.frames];
    scribe_audio_free(&a);
    return x;
}

/* Runs a session over x in blocks of 4096 with the given limit and stream mode; notes sorted. */
static int run_limited(const scribe_model *m, const float *x, size_t n, uint32_t rate, float limit, int stream,
                       int infer, scribe_notes *out, sc_acoustic_session_stats *stats) {
    scribe_session_params p = scribe_session_default_params();
    p.input_sample_rate = rate;
    p.max_pending_seconds = limit;
    p.stream_notes = stream;
    p.infer_onsets = infer;
    scribe_session *s = NULL;
    scribe_error err;
    if (scribe_session_init(m, &p, &s, &err)) {
        fprintf(stderr, "  session: %s\n", err.message);
        return 0;
    }
    int ok = 1;
    for (size_t i = 0; i < n && ok; i += 4096) {
        ok = !scribe_session_feed(s, x + i, n - i < 4096 ? n - i : 4096, &err) && !scribe_session_take_notes(s, out, &err);
        sc_acoustic_session_stats now;
        if (ok && !sc_acoustic_session_get_stats(s, &now, &err) && stats->rows_bound)
            CHECK_MSG(now.rows_held <= stats->rows_bound, "%d rows held > bound %d", now.rows_held, stats->rows_bound);
        if (ok && i == 0) *stats = now;
    }
    ok = ok && !scribe_session_finish(s, &err) && !scribe_session_take_notes(s, out, &err) &&
         !sc_acoustic_session_get_stats(s, stats, &err);
    if (!ok) fprintf(stderr, "  %s\n", err.message);
    scribe_session_free(s);
    scribe_notes_sort(out);
    return ok;
}

static int same_note(const scribe_note *a, const scribe_note *b) {
    return a->pitch == b->pitch && a->onset_s == b->onset_s && a->offset_s == b->offset_s && a->velocity == b->velocity;
}

/* Notes of `a` without an identical note in `b`; counts those more than `near_s` from every cut. */
static size_t unmatched(const scribe_notes *a, const scribe_notes *b, const sc_acoustic_session_stats *st,
                        double near_s, size_t *far) {
    size_t bad = 0;
    *far = 0;
    for (size_t i = 0; i < a->count; i++) {
        int found = 0;
        for (size_t j = 0; j < b->count && !found; j++) found = same_note(&a->notes[i], &b->notes[j]);
        if (found) continue;
        bad++;
        int near = 0;
        for (int c = 0; c < st->forced_cuts && c < 64 && !near; c++) {
            double t = sc_acoustic_frame_time(st->cut_frames[c]);
            near = a->notes[i].onset_s - near_s <= t && t <= a->notes[i].offset_s + near_s;
        }
        if (!near) (*far)++;
    }
    return bad;
}

/* Dense music (two Slakh mixes, looped) with max_pending_seconds 4: the session never holds more
 * than the bound (about 4 s of rows however long the input), and the notes equal the unlimited
 * session's except near the forced cuts (and, with inferred onsets, where the rescaling maxima
 * seen before a cut differ from the whole input's). */
TEST(acoustic_pending_limit_bounds_rows_and_keeps_notes) {
    scribe_model *m = load_model();
    if (!m) return;
#if defined(__SANITIZE_ADDRESS__)
    const double seconds = 20;
#else
    const double seconds = 90;
#endif
    size_t n1 = 0, n2 = 0;
    uint32_t rate = 0, rate2 = 0;
    float *a = dev_clip_looped("slakh-Track01501", seconds / 2, &n1, &rate);
    float *b = dev_clip_looped("slakh-Track00001", seconds / 2, &n2, &rate2);
    CHECK(a && b && rate == rate2);
    float *x = a && b ? realloc(a, (n1 + n2) * sizeof *x) : NULL;
    if (!x) {
        free(a);
        free(b);
        scribe_model_free(m);
        return;
    }
    memcpy(x + n1, b, n2 * sizeof *x);
    const size_t n = n1 + n2;
    const double fps = 22050.0 / 256;
    /* [infer_onsets][0 unlimited, 1 limited, 2 limited + stream_notes] */
    scribe_notes notes[2][3];
    sc_acoustic_session_stats st[2][3];
    int ok = 1;
    for (int inf = 0; inf < 2; inf++)
        for (int k = 0; k < 3; k++) {
            scribe_notes_init(&notes[inf][k]);
            memset(&st[inf][k], 0, sizeof st[inf][k]);
            if (ok && (inf == 1 || k < 2))
                ok = run_limited(m, x, n, rate, k ? 4.0f : 0.0f, k == 2, inf, &notes[inf][k], &st[inf][k]);
        }
    CHECK(ok);
    if (ok) {
        const sc_acoustic_session_stats *sw = &st[1][0];
        /* unlimited: the whole posteriorgram is held (what the limit prevents) */
        CHECK_MSG(sw->peak_rows_held >= (int)(seconds * fps) - 200 && sw->forced_cuts == 0, "unlimited held %d rows",
                  sw->peak_rows_held);
        for (int inf = 0; inf < 2; inf++)
            for (int k = 1; k < 3; k++) {
                const sc_acoustic_session_stats *s = &st[inf][k];
                if (inf == 0 && k == 2) continue;
                /* 4 s = 345 rows; bound = limit + 3 + compaction slack + lookahead + frames of a few windows */
                CHECK_MSG(s->rows_bound > 345 && s->rows_bound < 345 + 3 + 86 + 115 + 4 * 142 + 1, "bound %d", s->rows_bound);
                CHECK_MSG(s->peak_rows_held <= s->rows_bound && s->peak_rows_allocated <= s->rows_bound,
                          "held %d, allocated %d rows, bound %d", s->peak_rows_held, s->peak_rows_allocated, s->rows_bound);
                CHECK_MSG(s->peak_window_rows <= 345 + 4 * 142, "note window of %d rows", s->peak_window_rows);
                /* stream_notes 1 also cuts at the mixes' few quiet runs */
                CHECK_MSG(s->forced_cuts >= (k == 1 ? (int)(seconds / 5) : 1), "%d forced cuts", s->forced_cuts);
            }
        const scribe_notes *whole = &notes[1][0];
        CHECK(whole->count > seconds * 5);
        /* without inferred onsets the only global input is gone: differences only near cuts, and few */
        size_t far_a, far_b, far_c, far_d, far_e, far_f;
        size_t miss0 = unmatched(&notes[0][0], &notes[0][1], &st[0][1], 1.0, &far_a);
        size_t extra0 = unmatched(&notes[0][1], &notes[0][0], &st[0][1], 1.0, &far_b);
        size_t miss = unmatched(whole, &notes[1][1], &st[1][1], 1.0, &far_c);
        size_t extra = unmatched(&notes[1][1], whole, &st[1][1], 1.0, &far_d);
        size_t miss_v = unmatched(whole, &notes[1][2], &st[1][2], 1.0, &far_e);
        size_t extra_v = unmatched(&notes[1][2], whole, &st[1][2], 1.0, &far_f);
        fprintf(stderr, "  %.0f s dense, limit 4 s: %d cuts, peak %d rows held (unlimited %d), window %d rows; "
                "whole-file notes missing + new: infer_onsets 0: %zu + %zu of %zu (%zu away from cuts); "
                "default: %zu + %zu of %zu (%zu away); stream_notes 1: %zu + %zu (%zu away)\n",
                seconds, st[1][1].forced_cuts, st[1][1].peak_rows_held, sw->peak_rows_held, st[1][1].peak_window_rows,
                miss0, extra0, notes[0][0].count, far_a + far_b, miss, extra, whole->count, far_c + far_d, miss_v,
                extra_v, far_e + far_f);
        CHECK_MSG(far_a + far_b == 0, "%zu + %zu differing notes away from every cut", far_a, far_b);
        CHECK_MSG(miss0 + extra0 <= (size_t)st[0][1].forced_cuts / 3, "%zu + %zu notes differ at %d cuts", miss0, extra0,
                  st[0][1].forced_cuts);
        CHECK_MSG(miss + extra <= whole->count / 10, "%zu + %zu of %zu notes differ", miss, extra, whole->count);
        CHECK_MSG(miss_v + extra_v <= whole->count / 10, "live: %zu + %zu of %zu notes differ", miss_v, extra_v, whole->count);
    }
    for (int inf = 0; inf < 2; inf++)
        for (int k = 0; k < 3; k++) scribe_notes_free(&notes[inf][k]);
    free(x);
    free(b);
    scribe_model_free(m);
}

/* The package's windows give 0.68% more frames than the count it trims to at the end, so rows run
 * ahead of the known frame count by 0.68% of the input; with a limit they must not pile up. Eight
 * minutes of short tones (one every 10 s) at max_pending_seconds 2: about 270 rows held past the
 * trim point without the cap, at most the lookahead (57 rows) plus one window's 142 with it. */
TEST(acoustic_pending_limit_caps_rows_ahead_of_the_trim) {
    scribe_model *m = load_model();
    if (!m) return;
#if defined(__SANITIZE_ADDRESS__)
    /* short under ASan: forced cuts and the bounds only (the rows past the trim point pass the
     * lookahead after about two minutes; with stream_notes 1, quiet cuts at every silence, forced
     * cuts start only after about 330 s): the cap itself is checked natively */
    const int seconds = 30, modes = 1;
#else
    const int seconds = 480, modes = 2;
#endif
    const int tones = seconds / 10;
    const size_t n = (size_t)seconds * SR;
    float *x = calloc(n, sizeof(float));
    CHECK(x != NULL);
    for (int k = 0; x && k < tones; k++) add_tone(x, n, 220.0 * (1 + k % 3), 10.0 * k + 2, 10.0 * k + 2.5, 0.3f);
    for (int stream = 0; stream < modes; stream++) {
    scribe_notes notes;
    scribe_notes_init(&notes);
    sc_acoustic_session_stats st = {0};
    if (x && run_limited(m, x, n, SR, 2.0f, stream, 1, &notes, &st)) {
        fprintf(stderr, "  %d s, limit 2 s, stream_notes %d: %d rows ahead at most, %d held (bound %d), %d forced cuts, %zu notes\n",
                seconds, stream, st.peak_rows_ahead, st.peak_rows_held, st.rows_bound, st.forced_cuts, notes.count);
        CHECK_MSG(st.peak_rows_ahead <= 57 + 142, "%d rows held past the usable ones", st.peak_rows_ahead);
        CHECK(st.peak_rows_held <= st.rows_bound && st.peak_rows_allocated <= st.rows_bound);
        /* held: limit 172 + lookahead 57 + 3 before the segment + compaction slack 43 + a window's 142
         * (without the cap about 500: the rows past the trim point come on top) */
        CHECK_MSG(st.peak_rows_held <= 172 + 57 + 3 + 43 + 142, "%d rows held", st.peak_rows_held);
        /* stream_notes 1 cuts at the silences; forced cuts only once rows pass the trim point */
        CHECK(stream ? st.forced_cuts >= 1 : st.forced_cuts >= seconds / 2);
        /* every tone is one note: cuts fall in the silences */
        CHECK_MSG(notes.count == (size_t)tones, "%zu notes for %d tones", notes.count, tones);
    }
    scribe_notes_free(&notes);
    }
    free(x);
    scribe_model_free(m);
}

TEST(acoustic_pending_limit_is_validated) {
    scribe_model *m = load_model();
    if (!m) return;
    const float bad[] = {1.0f, -1.0f, 1e9f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scribe_session_params p = scribe_session_default_params();
        p.max_pending_seconds = bad[i];
        scribe_session *s = NULL;
        scribe_error err = {0};
        CHECK(scribe_session_init(m, &p, &s, &err) == SCRIBE_ERR_INVALID_ARGUMENT && s == NULL);
        CHECK_MSG(strstr(err.message, "max_pending_seconds") != NULL, "%s", err.message);
    }
    scribe_session_params p = scribe_session_default_params();
    CHECK(p.max_pending_seconds == 300.0f);
    scribe_session *s = NULL;
    scribe_error err = {0};
    p.max_pending_seconds = 0;
    CHECK_OK(scribe_session_init(m, &p, &s, &err));
    scribe_session_free(s);
    scribe_model_free(m);
}

/* The block of f32 weight copies holds the tensors the network loads, not every tensor of the file: it was
 * sized by summing numel + 16 over all tensors, so a file with many large (overlapping) extra tensors made a
 * huge request, one that wrapped a 32-bit size_t (wasm32) into a short block the loads then overran.
 * Here 256 extra q8 tensors of 2^22 elements share one 4 MiB region: 2^30 floats = 2^32 bytes by the old sum. */
TEST(acoustic_weight_block_holds_only_loaded_tensors) {
    size_t len = 0;
    unsigned char *orig = test_read_file(WEIGHTS, &len);
    CHECK(orig != NULL);
    if (!orig) return;
    enum { EXTRA = 256 };
    const uint32_t rows = 1u << 22, n = orig[16] | orig[17] << 8 | orig[18] << 16 | (uint32_t)orig[19] << 24;
    const size_t shift = 128 * (size_t)EXTRA, region = (len + shift + 63) & ~(size_t)63;
    const size_t total = region + rows + 4;
    unsigned char *b = aligned_alloc(64, (total + 63) & ~(size_t)63);
    memset(b, 0, total);
    memcpy(b, orig, 512 + 128 * (size_t)n);                              /* header and directory */
    memcpy(b + 512 + 128 * (size_t)n + shift, orig + 512 + 128 * (size_t)n, len - 512 - 128 * (size_t)n); /* data */
    const uint32_t n2 = n + EXTRA;
    memcpy(b + 16, &n2, 4);
    for (uint32_t i = 0; i < n; i++) { /* the original tensors moved by `shift` (a multiple of 64) */
        uint64_t off;
        memcpy(&off, b + 512 + 128 * (size_t)i + 104, 8);
        off += shift;
        memcpy(b + 512 + 128 * (size_t)i + 104, &off, 8);
    }
    for (uint32_t k = 0; k < EXTRA; k++) { /* q8 [2^22, 1]: 2^22 bytes + one scale, all at `region` */
        unsigned char *r = b + 512 + 128 * (size_t)(n + k);
        snprintf((char *)r, 80, "extra.%u", k);
        const uint32_t meta[4] = {2, 2, rows, 1};
        memcpy(r + 80, meta, sizeof meta);
        const uint64_t off = region, nb = rows + 4;
        memcpy(r + 104, &off, 8);
        memcpy(r + 112, &nb, 8);
    }
    sc_weights w0, w1;
    sc_acoustic_model m0, m1;
    scribe_error err = {0};
    CHECK_OK(sc_weights_parse(orig, len, &w0, NULL));
    CHECK_OK(sc_acoustic_model_init(&w0, &m0, NULL));
    CHECK_OK(sc_weights_parse(b, total, &w1, &err));
    CHECK(w1.n_tensors == n2);
    scribe_status st = sc_acoustic_model_init(&w1, &m1, &err);
    CHECK_MSG(st == SCRIBE_OK, "%s (%s)", scribe_status_name(st), err.message);
    if (!st) {
        CHECK_MSG(m1.owned_floats == m0.owned_floats && m0.owned_floats < 100000,
                  "%zu floats with the extra tensors, %zu without", m1.owned_floats, m0.owned_floats);
        CHECK(m1.n_params == m0.n_params);
        CHECK(memcmp(m1.cqt_kernels, m0.cqt_kernels, 256 * 72 * sizeof(float)) == 0);
        CHECK(memcmp(m1.onset2.w, m0.onset2.w, 3 * 3 * 33 * sizeof(float)) == 0);
        sc_acoustic_model_free(&m1);
    }
    /* and through the public API */
    scribe_model *pm = NULL;
    CHECK_OK(scribe_model_init_from_buffer(b, total, &pm, NULL));
    scribe_model_free(pm);
    sc_acoustic_model_free(&m0);
    sc_weights_free(&w0);
    sc_weights_free(&w1);
    free(b);
    free(orig);
}
