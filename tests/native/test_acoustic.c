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
