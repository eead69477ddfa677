/* Metrics: hand-checked cases (maximum matching, tolerance boundaries, velocity, programs,
 * drums) and random inputs for the sanitizer build. The comparison with mir_eval itself on
 * hundreds of random sets is tests/node/metrics.test.mjs. */
#include <string.h>
#include "test.h"

static void add(scribe_notes *l, double on, double off, int pitch, int vel, int prog, int drum) {
    scribe_note n = {.onset_s = on, .offset_s = off, .pitch = pitch, .velocity = vel, .program = prog, .is_drum = drum};
    scribe_notes_push(l, &n, NULL, 0, NULL);
}

TEST(metrics_maximum_matching_beats_greedy) {
    /* est0 can match ref0 or ref1, est1 only ref0: a greedy pass taking ref0 for est0 gets 1 match; max is 2. */
    scribe_notes ref, est;
    scribe_notes_init(&ref);
    scribe_notes_init(&est);
    add(&ref, 1.00, 2.0, 60, 100, 0, 0);
    add(&ref, 1.04, 2.0, 60, 100, 0, 0);
    add(&est, 1.02, 2.0, 60, 100, 0, 0);
    add(&est, 0.96, 2.0, 60, 100, 0, 0);
    scribe_eval_params p = scribe_eval_default_params();
    scribe_eval_result r;
    CHECK_OK(scribe_evaluate(&ref, &est, &p, &r, NULL));
    CHECK_NEAR(r.onset.f1, 1.0, 0);
    CHECK_NEAR(r.onset_offset.f1, 1.0, 0);
    scribe_notes_free(&ref);
    scribe_notes_free(&est);
}

TEST(metrics_tolerance_boundaries_follow_mir_eval_rounding) {
    scribe_notes ref, est;
    scribe_notes_init(&ref);
    scribe_notes_init(&est);
    /* 0.35 - 0.3 = 0.04999999999999999 in floating point, 1.05 - 1.0 = 0.050000000000000044:
     * both round to 0.05 and match; 0.0501 does not. */
    add(&ref, 0.30, 1.0, 60, 100, 0, 0);
    add(&est, 0.35, 1.0, 60, 100, 0, 0);
    add(&ref, 1.00, 2.0, 62, 100, 0, 0);
    add(&est, 1.05, 2.0, 62, 100, 0, 0);
    add(&ref, 3.00, 4.0, 64, 100, 0, 0);
    add(&est, 3.0501, 4.0, 64, 100, 0, 0);
    /* offset: duration 1 s -> tolerance 0.2 s, exactly at the boundary. */
    add(&ref, 5.00, 6.0, 65, 100, 0, 0);
    add(&est, 5.00, 6.2, 65, 100, 0, 0);
    scribe_eval_result r;
    CHECK_OK(scribe_evaluate(&ref, &est, NULL, &r, NULL));
    CHECK_NEAR(r.onset.precision, 0.75, 1e-15);
    CHECK_NEAR(r.onset_offset.precision, 0.75, 1e-15);
    scribe_notes_free(&ref);
    scribe_notes_free(&est);
}

TEST(metrics_programs_drums_and_velocity) {
    scribe_notes ref, est;
    scribe_notes_init(&ref);
    scribe_notes_init(&est);
    add(&ref, 0.0, 1.0, 60, 40, 0, 0);   /* piano */
    add(&ref, 0.0, 1.0, 40, 80, 33, 0);  /* bass */
    add(&ref, 0.5, 0.6, 36, 100, 0, 1);  /* kick */
    add(&est, 0.0, 1.0, 60, 40, 1, 0);   /* right pitch, program 1: same midi_class, not full */
    add(&est, 0.0, 1.0, 40, 80, 33, 0);
    add(&est, 0.51, 0.9, 36, 10, 5, 1);  /* drum: offset and program ignored */
    scribe_eval_result r;
    CHECK_OK(scribe_evaluate(&ref, &est, NULL, &r, NULL));
    CHECK_NEAR(r.onset.f1, 1, 0);
    CHECK_NEAR(r.onset_offset_velocity.f1, 1, 1e-15);
    CHECK_NEAR(r.multi_flat.f1, 1, 1e-15);
    CHECK_NEAR(r.multi_midi_class.f1, 1, 1e-15);
    CHECK_NEAR(r.multi_full.precision, 2.0 / 3.0, 1e-15);
    CHECK_NEAR(r.drum_onset.f1, 1, 0);
    CHECK(r.ref_notes == 3 && r.est_notes == 3);
    scribe_notes_free(&ref);
    scribe_notes_free(&est);
}

TEST(metrics_reject_bad_input_and_survive_random_sets) {
    scribe_notes ref, est;
    scribe_notes_init(&ref);
    scribe_notes_init(&est);
    scribe_error err = {0};
    scribe_eval_result r;
    add(&ref, 1.0, 0.5, 60, 100, 0, 0);
    CHECK(scribe_evaluate(&ref, &est, NULL, &r, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "reference note 0") != NULL);
    scribe_eval_params p = scribe_eval_default_params();
    p.frame_rate = 0;
    scribe_notes_clear(&ref);
    CHECK(scribe_evaluate(&ref, &est, &p, &r, &err) == SCRIBE_ERR_INVALID_ARGUMENT);
    uint32_t s = 1;
    for (int trial = 0; trial < 200; trial++) {
        scribe_notes_clear(&ref);
        scribe_notes_clear(&est);
        int n = (int)(s % 60), m = (int)((s >> 8) % 60);
        for (int i = 0; i < n + m; i++) {
            s = s * 1664525u + 1013904223u;
            double on = (s >> 16) % 1000 / 200.0;
            double dur = (s >> 4) % 7 / 20.0;
            add(i < n ? &ref : &est, on, on + dur, 60 + (int)(s % 4), 1 + (int)(s % 127), (int)(s >> 24) % 20,
                (s >> 12) % 9 == 0);
        }
        CHECK_OK(scribe_evaluate(&ref, &est, NULL, &r, NULL));
        const scribe_prf *all[] = {&r.onset, &r.onset_offset, &r.onset_offset_velocity, &r.frame, &r.multi_flat,
                                   &r.multi_midi_class, &r.multi_full, &r.drum_onset};
        for (size_t k = 0; k < 8; k++) {
            CHECK(all[k]->precision >= 0 && all[k]->precision <= 1 && all[k]->recall >= 0 && all[k]->recall <= 1);
            CHECK(all[k]->f1 >= 0 && all[k]->f1 <= 1);
        }
        CHECK(r.onset.f1 >= r.onset_offset.f1 && r.onset_offset.f1 >= r.onset_offset_velocity.f1);
        CHECK_OK(scribe_evaluate(&ref, &ref, NULL, &r, NULL));
        double tols[3] = {0.01, 0.05, 0.5};
        scribe_prf sw[3];
        CHECK_OK(scribe_evaluate_onset_sweep(&ref, &est, tols, 3, sw, NULL));
        CHECK(sw[0].recall <= sw[1].recall && sw[1].recall <= sw[2].recall);
    }
    scribe_notes_free(&ref);
    scribe_notes_free(&est);
}
