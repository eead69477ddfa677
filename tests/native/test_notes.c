#include <string.h>
#include "test.h"

TEST(notes_push_append_sort_keep_bends) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    scribe_note n = {.onset_s = 1.0, .offset_s = 1.5, .pitch = 60, .velocity = 90, .program = 0};
    scribe_bend bends[2] = {{1.0, 0.0f}, {1.1, 0.5f}};
    CHECK_OK(scribe_notes_push(&a, &n, bends, 2, NULL));
    n.onset_s = 0.5; n.pitch = 62;
    CHECK_OK(scribe_notes_push(&a, &n, NULL, 0, NULL));
    CHECK_OK(scribe_notes_append(&b, &a, NULL));
    scribe_notes_sort(&b);
    CHECK(b.count == 2 && b.bend_count == 2);
    CHECK(b.notes[0].pitch == 62 && b.notes[1].pitch == 60);
    CHECK(b.notes[1].bend_count == 2 && b.bends[b.notes[1].bend_index + 1].semitones == 0.5f);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

TEST(notes_csv_round_trip_is_exact) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    for (int i = 0; i < 50; i++) {
        scribe_note n = {.onset_s = i * 0.1234567, .offset_s = i * 0.1234567 + 0.3, .pitch = 30 + i,
                         .velocity = 1 + i, .program = i % 128, .is_drum = i % 7 == 0};
        CHECK_OK(scribe_notes_push(&a, &n, NULL, 0, NULL));
    }
    char *csv; size_t len;
    CHECK_OK(scribe_notes_write_csv(&a, &csv, &len, NULL));
    CHECK(strncmp(csv, "onset_s,offset_s,pitch,velocity,program,is_drum\n", 48) == 0);
    CHECK_OK(scribe_notes_read_csv(csv, len, &b, NULL));
    CHECK(b.count == a.count);
    for (size_t i = 0; i < a.count && i < b.count; i++) {
        CHECK(a.notes[i].onset_s == b.notes[i].onset_s && a.notes[i].offset_s == b.notes[i].offset_s);
        CHECK(a.notes[i].pitch == b.notes[i].pitch && a.notes[i].is_drum == b.notes[i].is_drum);
    }
    scribe_free(csv);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}

TEST(notes_csv_rejects_garbage_with_line_number) {
    scribe_notes a;
    scribe_notes_init(&a);
    scribe_error err = {0};
    const char *bad = "onset_s,offset_s,pitch\n0.1,0.2,60\n0.3,0.2,61\n";
    CHECK(scribe_notes_read_csv(bad, strlen(bad), &a, &err) == SCRIBE_ERR_BAD_CSV);
    CHECK(strstr(err.message, "line 3") != NULL);
    const char *bad2 = "0.1,0.2,999\n";
    CHECK(scribe_notes_read_csv(bad2, strlen(bad2), &a, &err) == SCRIBE_ERR_BAD_CSV);
    scribe_notes_free(&a);
}

/* A list appended to itself gets one copy of its original notes (with their bends), whether or not the
 * arrays must grow (16 notes fill the first allocation exactly). Once, pointers into the list were used
 * after the push reallocated it and the loop bound grew with every push: it never ended. */
TEST(notes_append_to_itself_copies_the_notes_once) {
    for (int n_notes = 3; n_notes <= 16; n_notes += 13) {
        scribe_notes a;
        scribe_notes_init(&a);
        scribe_bend bends[3] = {{1.0, 0.0f}, {1.1, 0.5f}, {1.2, -0.25f}};
        for (int i = 0; i < n_notes; i++) {
            scribe_note n = {.onset_s = i * 0.25, .offset_s = i * 0.25 + 0.2, .pitch = 40 + i, .velocity = 80};
            CHECK_OK(scribe_notes_push(&a, &n, i % 2 ? bends : NULL, i % 2 ? 1 + (size_t)i % 3 : 0, NULL));
        }
        const size_t count = a.count, n_bends = a.bend_count;
        CHECK(count == (size_t)n_notes && a.capacity == 16);
        CHECK_OK(scribe_notes_append(&a, &a, NULL));
        CHECK_MSG(a.count == 2 * count && a.bend_count == 2 * n_bends, "%zu notes, %zu bends", a.count, a.bend_count);
        for (size_t i = 0; i < count && a.count == 2 * count; i++) {
            const scribe_note *o = &a.notes[i], *c = &a.notes[count + i];
            CHECK(c->onset_s == o->onset_s && c->pitch == o->pitch && c->bend_count == o->bend_count);
            CHECK(!c->bend_count || c->bend_index >= n_bends); /* the copy has bends of its own */
            for (uint32_t k = 0; k < c->bend_count && c->bend_index + k < a.bend_count; k++)
                CHECK(a.bends[c->bend_index + k].semitones == a.bends[o->bend_index + k].semitones &&
                      a.bends[c->bend_index + k].time_s == a.bends[o->bend_index + k].time_s);
        }
        scribe_notes_free(&a);
    }
}

/* Bend ranges are checked without wrapping (bend_index + bend_count overflowed 32 bits on wasm32), and a
 * list with a bad note is refused whole: nothing appended, no MIDI written. */
TEST(notes_bend_range_near_uint32_max_is_refused) {
    scribe_notes a, b;
    scribe_notes_init(&a);
    scribe_notes_init(&b);
    scribe_note n = {.onset_s = 0.5, .offset_s = 1.0, .pitch = 60, .velocity = 90};
    scribe_bend bend = {0.5, 0.25f};
    CHECK_OK(scribe_notes_push(&a, &n, &bend, 1, NULL)); /* a good note first */
    CHECK_OK(scribe_notes_push(&a, &n, NULL, 0, NULL));
    a.notes[1].bend_index = UINT32_MAX; /* with 2 bends: UINT32_MAX + 2 wraps to 1 = bend_count in 32 bits */
    a.notes[1].bend_count = 2;
    scribe_error err = {0};
    CHECK(scribe_notes_append(&b, &a, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK_MSG(strstr(err.message, "note 1") != NULL, "message: %s", err.message);
    CHECK_MSG(b.count == 0 && b.bend_count == 0, "%zu notes appended", b.count);
    uint8_t *midi = NULL;
    size_t midi_len = 0;
    CHECK(scribe_midi_write(&a, &midi, &midi_len, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK_MSG(strstr(err.message, "note 1") != NULL, "message: %s", err.message);
    CHECK(midi == NULL);
    scribe_free(midi);
    /* the largest valid range still passes, one past it is refused */
    a.notes[1].bend_index = 0;
    a.notes[1].bend_count = 1;
    CHECK_OK(scribe_notes_append(&b, &a, NULL));
    CHECK(b.count == 2 && b.bend_count == 2);
    a.notes[1].bend_index = 1;
    CHECK(scribe_notes_append(&b, &a, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK(scribe_midi_write(&a, &midi, &midi_len, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    a.notes[1].bend_index = 0;
    a.notes[1].bend_count = UINT32_MAX;
    CHECK(scribe_notes_append(&b, &a, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK(scribe_midi_write(&a, &midi, &midi_len, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK(b.count == 2);
    scribe_notes_free(&a);
    scribe_notes_free(&b);
}
