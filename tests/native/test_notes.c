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
