#include <stdint.h>
#include <string.h>
#include "test.h"

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}
static double rndu(void) { return (double)rnd() / 16777216.0; }

/* Finds the note of `b` equal to `n` (times within `tol`); -1 if none. Marks it used. */
static int find_note(const scribe_notes *b, const scribe_note *n, double tol, char *used) {
    for (size_t i = 0; i < b->count; i++) {
        const scribe_note *m = &b->notes[i];
        if (used[i] || m->pitch != n->pitch || m->is_drum != n->is_drum) continue;
        if (!n->is_drum && m->program != n->program) continue;
        if (m->velocity != n->velocity) continue;
        if (fabs(m->onset_s - n->onset_s) > tol || fabs(m->offset_s - n->offset_s) > tol) continue;
        used[i] = 1;
        return (int)i;
    }
    return -1;
}

static void check_round_trip(const scribe_notes *a, const char *what) {
    uint8_t *mid = NULL;
    size_t len = 0;
    scribe_error err = {0};
    CHECK(scribe_midi_write(a, &mid, &len, &err) == SCRIBE_OK);
    scribe_notes b;
    scribe_notes_init(&b);
    CHECK_MSG(scribe_midi_read(mid, len, &b, &err) == SCRIBE_OK, "%s: %s", what, err.message);
    CHECK_MSG(b.count == a->count, "%s: wrote %zu notes, read %zu", what, a->count, b.count);
    char *used = calloc(b.count + 1, 1);
    size_t missing = 0;
    for (size_t i = 0; i < a->count; i++)
        if (find_note(&b, &a->notes[i], 1.0 / 960 + 1e-9, used) < 0) missing++;
    CHECK_MSG(missing == 0, "%s: %zu notes not found after the round trip", what, missing);
    free(used);
    scribe_free(mid);
    scribe_notes_free(&b);
}

TEST(midi_round_trip_random_notes) {
    scribe_notes a;
    scribe_notes_init(&a);
    /* Non-overlapping per (program, pitch) so no note is cut. */
    for (int i = 0; i < 400; i++) {
        scribe_note n = {0};
        n.pitch = 21 + (int)(rnd() % 88);
        n.program = (int)(rnd() % 6) * 7;
        n.is_drum = rnd() % 5 == 0;
        n.velocity = 1 + (int)(rnd() % 127);
        n.onset_s = i * 0.25 + rndu() * 0.01;
        n.offset_s = n.onset_s + 0.02 + rndu() * 0.2;
        CHECK_OK(scribe_notes_push(&a, &n, NULL, 0, NULL));
    }
    check_round_trip(&a, "random");
    scribe_notes_free(&a);
}

TEST(midi_more_than_15_instruments_keep_programs) {
    scribe_notes a;
    scribe_notes_init(&a);
    for (int p = 0; p < 40; p++)
        for (int k = 0; k < 5; k++) {
            /* Overlapping notes of different programs, which must share channels. */
            scribe_note n = {.onset_s = k * 0.5 + p * 0.003, .offset_s = k * 0.5 + 0.4, .pitch = 40 + p,
                             .velocity = 10 + p, .program = p * 3};
            CHECK_OK(scribe_notes_push(&a, &n, NULL, 0, NULL));
        }
    scribe_note d = {.onset_s = 0.1, .offset_s = 0.2, .pitch = 36, .velocity = 99, .program = 0, .is_drum = 1};
    CHECK_OK(scribe_notes_push(&a, &d, NULL, 0, NULL));
    check_round_trip(&a, "40 programs");
    uint8_t *mid; size_t len;
    CHECK_OK(scribe_midi_write(&a, &mid, &len, NULL));
    /* 1 tempo track + 40 instrument tracks + drums. */
    CHECK(len > 14 && mid[10] == 0 && mid[11] == 42);
    scribe_free(mid);
    scribe_notes_free(&a);
}

TEST(midi_drums_on_channel_10) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    scribe_note d = {.onset_s = 0.5, .offset_s = 0.6, .pitch = 38, .velocity = 80, .program = 0, .is_drum = 1};
    CHECK_OK(scribe_notes_push(&a, &d, NULL, 0, NULL));
    uint8_t *mid; size_t len;
    CHECK_OK(scribe_midi_write(&a, &mid, &len, NULL));
    int found = 0;
    for (size_t i = 0; i + 2 < len; i++)
        if (mid[i] == 0x99 && mid[i + 1] == 38 && mid[i + 2] == 80) found = 1;
    CHECK(found);
    CHECK_OK(scribe_midi_read(mid, len, &b, NULL));
    CHECK(b.count == 1 && b.notes[0].is_drum == 1 && b.notes[0].pitch == 38);
    CHECK_NEAR(b.notes[0].onset_s, 0.5, 1e-9);
    scribe_free(mid);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

TEST(midi_pitch_bends_round_trip) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    /* Two overlapping bent notes of one program: the second moves to a spare channel. */
    scribe_note n1 = {.onset_s = 1.0, .offset_s = 2.0, .pitch = 60, .velocity = 90, .program = 25};
    scribe_bend b1[3] = {{1.0, 0.0f}, {1.25, 0.5f}, {1.5, -1.0f}};
    scribe_note n2 = {.onset_s = 1.1, .offset_s = 1.8, .pitch = 67, .velocity = 70, .program = 25};
    scribe_bend b2[2] = {{1.1, 0.25f}, {1.4, 1.5f}};
    scribe_note n3 = {.onset_s = 3.0, .offset_s = 3.5, .pitch = 62, .velocity = 70, .program = 25};
    CHECK_OK(scribe_notes_push(&a, &n1, b1, 3, NULL));
    CHECK_OK(scribe_notes_push(&a, &n2, b2, 2, NULL));
    CHECK_OK(scribe_notes_push(&a, &n3, NULL, 0, NULL));
    uint8_t *mid; size_t len;
    CHECK_OK(scribe_midi_write(&a, &mid, &len, NULL));
    CHECK_OK(scribe_midi_read(mid, len, &b, NULL));
    CHECK(b.count == 3);
    if (b.count == 3) {
        const scribe_note *r1 = &b.notes[0], *r2 = &b.notes[1], *r3 = &b.notes[2];
        CHECK(r1->pitch == 60 && r2->pitch == 67 && r3->pitch == 62);
        CHECK_MSG(r1->bend_count == 3, "note 1 has %u bends", r1->bend_count);
        CHECK_MSG(r2->bend_count == 2, "note 2 has %u bends", r2->bend_count);
        CHECK_MSG(r3->bend_count == 0, "note 3 has %u bends", r3->bend_count);
        for (uint32_t k = 0; k < r1->bend_count && k < 3; k++) {
            CHECK_NEAR(b.bends[r1->bend_index + k].time_s, b1[k].time_s, 1.0 / 960);
            CHECK_NEAR(b.bends[r1->bend_index + k].semitones, b1[k].semitones, 2.0 / 8192);
        }
        for (uint32_t k = 0; k < r2->bend_count && k < 2; k++) {
            CHECK_NEAR(b.bends[r2->bend_index + k].time_s, b2[k].time_s, 1.0 / 960);
            CHECK_NEAR(b.bends[r2->bend_index + k].semitones, b2[k].semitones, 2.0 / 8192);
        }
    }
    scribe_free(mid);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

TEST(midi_same_pitch_overlap_is_cut_and_off_precedes_on) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    scribe_note n1 = {.onset_s = 0.0, .offset_s = 1.0, .pitch = 60, .velocity = 90, .program = 0};
    scribe_note n2 = {.onset_s = 0.5, .offset_s = 1.5, .pitch = 60, .velocity = 80, .program = 0};
    scribe_note n3 = {.onset_s = 1.5, .offset_s = 2.0, .pitch = 60, .velocity = 70, .program = 0};
    CHECK_OK(scribe_notes_push(&a, &n1, NULL, 0, NULL));
    CHECK_OK(scribe_notes_push(&a, &n2, NULL, 0, NULL));
    CHECK_OK(scribe_notes_push(&a, &n3, NULL, 0, NULL));
    uint8_t *mid; size_t len;
    CHECK_OK(scribe_midi_write(&a, &mid, &len, NULL));
    CHECK_OK(scribe_midi_read(mid, len, &b, NULL));
    CHECK(b.count == 3);
    if (b.count == 3) {
        CHECK_NEAR(b.notes[0].offset_s, 0.5, 1e-9);
        CHECK_NEAR(b.notes[1].offset_s, 1.5, 1e-9);
        CHECK_NEAR(b.notes[2].onset_s, 1.5, 1e-9);
        CHECK_NEAR(b.notes[2].offset_s, 2.0, 1e-9);
    }
    scribe_free(mid);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

/* Hand-made type 0 file: tempo change, running status, note-on velocity 0, sysex,
 * unmatched note-off, a note left on at the end. */
TEST(midi_reader_tempo_map_running_status) {
    static const uint8_t f[] = {
        'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0x00, 0x60, /* 96 tpq */
        'M', 'T', 'r', 'k', 0, 0, 0, 49,
        0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, /* 1 s per quarter */
        0x00, 0xC0, 0x05,                          /* program 5 */
        0x00, 0x90, 0x3C, 0x40,                    /* on 60 */
        0x60, 0x3C, 0x00,                          /* running status, vel 0 = off at 1 s */
        0x00, 0xF0, 0x02, 0x01, 0xF7,              /* sysex */
        0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  /* 0.5 s per quarter from 1 s */
        0x00, 0x80, 0x40, 0x00,                    /* unmatched off */
        0x00, 0x99, 0x24, 0x50,                    /* drum on at 1 s */
        0x60, 0x89, 0x24, 0x00,                    /* off at 1.5 s */
        0x00, 0x90, 0x3E, 0x30,                    /* on 62 at 1.5 s, never off */
        0x30, 0xFF, 0x2F, 0x00};                   /* end at 1.75 s */
    scribe_notes b;
    scribe_notes_init(&b);
    scribe_error err = {0};
    CHECK_MSG(scribe_midi_read(f, sizeof f, &b, &err) == SCRIBE_OK, "%s", err.message);
    CHECK(b.count == 3);
    if (b.count == 3) {
        CHECK(b.notes[0].pitch == 60 && b.notes[0].program == 5 && !b.notes[0].is_drum);
        CHECK_NEAR(b.notes[0].onset_s, 0.0, 1e-12);
        CHECK_NEAR(b.notes[0].offset_s, 1.0, 1e-12);
        CHECK(b.notes[1].pitch == 36 && b.notes[1].is_drum == 1);
        CHECK_NEAR(b.notes[1].onset_s, 1.0, 1e-12);
        CHECK_NEAR(b.notes[1].offset_s, 1.5, 1e-12);
        CHECK(b.notes[2].pitch == 62 && b.notes[2].velocity == 0x30);
        CHECK_NEAR(b.notes[2].offset_s, 1.75, 1e-12);
    }
    scribe_notes_free(&b);
}

TEST(midi_reader_rejects_malformed_input) {
    uint8_t good[64];
    static const uint8_t base[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 1, 0x01, 0xE0,
                                   'M', 'T', 'r', 'k', 0, 0, 0, 8, 0x00, 0x90, 0x3C, 0x40, 0x10, 0x80, 0x3C, 0x00};
    memcpy(good, base, sizeof base);
    scribe_notes b;
    scribe_notes_init(&b);
    scribe_error err = {0};
    CHECK(scribe_midi_read(good, sizeof base, &b, &err) == SCRIBE_OK);
    CHECK(b.count == 1);
    /* Every truncation is rejected cleanly (the track length no longer fits). */
    for (size_t n = 0; n < sizeof base; n++) {
        scribe_notes_clear(&b);
        scribe_status s = scribe_midi_read(good, n, &b, &err);
        CHECK_MSG(s == SCRIBE_ERR_BAD_MIDI, "truncated to %zu bytes gave %s", n, scribe_status_name(s));
    }
    struct { size_t at; uint8_t v; const char *what; } muts[] = {
        {21, 0xFF, "absurd track length"},
        {7, 0x40, "bad header length"},
        {23, 0x3C, "running status with no status"},
        {24, 0x90, "data byte above 127"},
    };
    for (size_t k = 0; k < sizeof muts / sizeof muts[0]; k++) {
        memcpy(good, base, sizeof base);
        good[muts[k].at] = muts[k].v;
        scribe_notes_clear(&b);
        scribe_status s = scribe_midi_read(good, sizeof base, &b, &err);
        CHECK_MSG(s == SCRIBE_ERR_BAD_MIDI, "%s gave %s", muts[k].what, scribe_status_name(s));
        CHECK(err.message[0] != 0);
    }
    /* VLQ longer than 4 bytes. */
    static const uint8_t vlq[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xE0,
                                  'M', 'T', 'r', 'k', 0, 0, 0, 8, 0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 0x3C, 0x40};
    CHECK(scribe_midi_read(vlq, sizeof vlq, &b, &err) == SCRIBE_ERR_BAD_MIDI);
    CHECK(strstr(err.message, "4 bytes") != NULL);
    /* Random garbage after a valid header never crashes. */
    for (int trial = 0; trial < 2000; trial++) {
        uint8_t buf[80];
        memcpy(buf, base, 22);
        size_t n = 22 + rnd() % 58;
        for (size_t i = 22; i < n; i++) buf[i] = (uint8_t)rnd();
        buf[18] = 0; buf[19] = 0; buf[20] = 0; buf[21] = (uint8_t)(n - 22);
        scribe_notes_clear(&b);
        scribe_status s = scribe_midi_read(buf, n, &b, &err);
        CHECK(s == SCRIBE_OK || s == SCRIBE_ERR_BAD_MIDI);
    }
    scribe_notes_free(&b);
}

TEST(midi_reader_survives_mutated_files) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    for (int i = 0; i < 60; i++) {
        scribe_note n = {.onset_s = i * 0.1, .offset_s = i * 0.1 + 0.3, .pitch = 40 + i % 30, .velocity = 90,
                         .program = (i % 4) * 10, .is_drum = i % 9 == 0};
        scribe_bend bends[2] = {{n.onset_s, 0.5f}, {n.onset_s + 0.1, -0.5f}};
        CHECK_OK(scribe_notes_push(&a, &n, bends, i % 2 ? 2 : 0, NULL));
    }
    uint8_t *mid; size_t len;
    CHECK_OK(scribe_midi_write(&a, &mid, &len, NULL));
    uint8_t *buf = malloc(len);
    scribe_error err;
    int ok = 0, bad = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(buf, mid, len);
        int flips = 1 + (int)(rnd() % 4);
        for (int k = 0; k < flips; k++) buf[rnd() % len] = (uint8_t)rnd();
        size_t n = trial % 3 == 0 ? rnd() % (len + 1) : len;
        scribe_notes_clear(&b);
        scribe_status s = scribe_midi_read(buf, n, &b, &err);
        CHECK(s == SCRIBE_OK || s == SCRIBE_ERR_BAD_MIDI || s == SCRIBE_ERR_UNSUPPORTED);
        if (s == SCRIBE_OK) ok++; else bad++;
        for (size_t i = 0; i < b.count; i++) CHECK(b.notes[i].offset_s >= b.notes[i].onset_s);
    }
    CHECK(ok > 0 && bad > 0);
    free(buf);
    scribe_free(mid);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

TEST(midi_reader_smpte_division_and_format_2) {
    /* -25 fps x 40 ticks per frame = 1000 ticks per second. */
    static const uint8_t f[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0xE7, 0x28,
                                'M', 'T', 'r', 'k', 0, 0, 0, 13,
                                0x83, 0x74, 0x90, 0x40, 0x50,   /* 500 ticks: on */
                                0x87, 0x68, 0x80, 0x40, 0x00,   /* +1000 ticks: off */
                                0x00, 0xFF, 0x2F};
    scribe_notes b;
    scribe_notes_init(&b);
    scribe_error err = {0};
    /* The end-of-track meta lacks its length byte: rejected, not read past the end. */
    CHECK(scribe_midi_read(f, sizeof f, &b, &err) == SCRIBE_ERR_BAD_MIDI);
    uint8_t g[sizeof f + 1];
    memcpy(g, f, sizeof f);
    g[sizeof f] = 0x00;
    g[21] = 14;
    scribe_notes_clear(&b);
    CHECK_MSG(scribe_midi_read(g, sizeof g, &b, &err) == SCRIBE_OK, "%s", err.message);
    CHECK(b.count == 1);
    if (b.count == 1) {
        CHECK_NEAR(b.notes[0].onset_s, 0.5, 1e-12);
        CHECK_NEAR(b.notes[0].offset_s, 1.5, 1e-12);
    }
    g[9] = 2;
    CHECK(scribe_midi_read(g, sizeof g, &b, &err) == SCRIBE_ERR_UNSUPPORTED);
    scribe_notes_free(&b);
}
