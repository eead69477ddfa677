/* MT3 codec and tokens <-> notes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "music/mt3_codec.h"
#include "music/mt3_tokens.h"

static uint32_t rng_next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

TEST(mt3_codec_sizes_and_ranges) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
    CHECK(c.num_classes == 1001 + 128 + 2 + 1 + 128 + 128);
    CHECK(c.vocab_size == 1536);
    /* order shift, pitch, velocity, tie, program, drum; model id = codec id + 3 */
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, 0) == 3);
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, 0) == 3 + 1001);
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1) == 3 + 1001 + 128 + 1);
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0) == 3 + 1001 + 128 + 2);
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, 127) == 3 + 1388 - 1);
    CHECK(sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 2) == -1);
    for (int tok = 3; tok < 3 + c.num_classes; tok++) {
        sc_mt3_event e = sc_mt3_codec_decode(&c, tok);
        CHECK(e.type >= 0 && e.type < SC_MT3_EV_COUNT);
        CHECK(sc_mt3_codec_encode(&c, e.type, e.value) == tok);
    }
    CHECK(sc_mt3_codec_decode(&c, 0).type == SC_MT3_EV_INVALID);
    CHECK(sc_mt3_codec_decode(&c, 1).type == SC_MT3_EV_EOS);
    CHECK(sc_mt3_codec_decode(&c, 2).type == SC_MT3_EV_INVALID);
    CHECK(sc_mt3_codec_decode(&c, 3 + c.num_classes).type == SC_MT3_EV_INVALID);
    CHECK(sc_mt3_codec_decode(&c, -7).type == SC_MT3_EV_INVALID);
    CHECK_OK(sc_mt3_codec_init_ismir2021(&c, NULL));
    CHECK(c.num_classes == 1001 + 128 + 128 + 1 + 128 + 128);
    CHECK(c.vocab_size == 1664);
    /* velocity bins: ceil(bins * v / 127), int(127 * bin / bins) */
    CHECK(sc_mt3_velocity_to_bin(0, 1) == 0 && sc_mt3_velocity_to_bin(1, 1) == 1 && sc_mt3_velocity_to_bin(127, 1) == 1);
    CHECK(sc_mt3_bin_to_velocity(1, 1) == 127 && sc_mt3_bin_to_velocity(0, 1) == 0);
    for (int v = 1; v <= 127; v++) CHECK(sc_mt3_bin_to_velocity(sc_mt3_velocity_to_bin(v, 127), 127) == v);
    CHECK(sc_mt3_velocity_to_bin(64, 4) == 3); /* ceil(256/127) = 3 */
    CHECK(sc_mt3_codec_init(&c, 100, 1000, 1, 1, 1, 1, 1000, NULL) == SCRIBE_ERR_BAD_WEIGHTS);
}

/* Random notes on the 10 ms grid, no overlaps per (program, pitch). */
static void make_notes(scribe_notes *ns, uint32_t seed, int count, double dur, int mt3) {
    uint32_t s = seed;
    for (int i = 0; i < count; i++) {
        scribe_note n = {0};
        n.is_drum = mt3 && rng_next(&s) % 6 == 0;
        n.pitch = 30 + (int)(rng_next(&s) % 60);
        n.program = mt3 && !n.is_drum ? (int)(rng_next(&s) % 5) * 9 : 0;
        n.velocity = mt3 ? 127 : 1 + (int)(rng_next(&s) % 127);
        int on = (int)(rng_next(&s) % (uint32_t)(dur * 100));
        int len = n.is_drum ? 1 : 1 + (int)(rng_next(&s) % 400); /* up to 4 s: crosses segments */
        n.onset_s = on / 100.0;
        n.offset_s = (on + len) / 100.0;
        int clash = 0;
        for (size_t j = 0; j < ns->count; j++) {
            const scribe_note *o = &ns->notes[j];
            if (o->pitch == n.pitch && o->program == n.program && o->is_drum == n.is_drum &&
                n.onset_s < o->offset_s + 0.005 && o->onset_s < n.offset_s + 0.005)
                clash = 1;
        }
        if (!clash) scribe_notes_push(ns, &n, NULL, 0, NULL);
    }
}

static void round_trip(const sc_mt3_codec *c, const scribe_notes *ref, double seg_s, int n_seg) {
    sc_mt3_decoder d;
    CHECK_OK(sc_mt3_decoder_init(&d, c, NULL));
    scribe_notes out;
    scribe_notes_init(&out);
    int32_t *tok = NULL;
    size_t nt = 0, cap = 0, max_len = 0;
    for (int k = 0; k < n_seg; k++) {
        double st = sc_mt3_segment_start_time(c, k * seg_s);
        double next = k + 1 < n_seg ? sc_mt3_segment_start_time(c, (k + 1) * seg_s) : -1;
        CHECK_OK(sc_mt3_notes_to_segment_tokens(c, ref, st, next, &tok, &nt, &cap, NULL));
        if (nt > max_len) max_len = nt;
        CHECK_OK(sc_mt3_decoder_segment(&d, tok, nt, st, next, &out, NULL));
    }
    CHECK_OK(sc_mt3_decoder_flush(&d, &out, NULL));
    CHECK(d.invalid_events == 0);
    CHECK(d.dropped_events == 0);
    CHECK(max_len > 0);
    scribe_notes r;
    scribe_notes_init(&r);
    scribe_notes_append(&r, ref, NULL);
    scribe_notes_sort(&r);
    scribe_notes_sort(&out);
    CHECK_MSG(out.count == r.count, "%zu notes decoded, %zu expected", out.count, r.count);
    int bad = 0;
    for (size_t i = 0; i < r.count && i < out.count; i++) {
        const scribe_note *a = &r.notes[i], *b = &out.notes[i];
        if (fabs(a->onset_s - b->onset_s) > 1e-6 || fabs(a->offset_s - b->offset_s) > 1e-6 || a->pitch != b->pitch ||
            a->velocity != b->velocity || a->program != b->program || a->is_drum != b->is_drum) {
            if (bad++ < 5)
                fprintf(stderr, "  note %zu: want %.3f-%.3f p%d v%d prog%d d%d got %.3f-%.3f p%d v%d prog%d d%d\n", i,
                        a->onset_s, a->offset_s, a->pitch, a->velocity, a->program, a->is_drum, b->onset_s,
                        b->offset_s, b->pitch, b->velocity, b->program, b->is_drum);
        }
    }
    CHECK(bad == 0);
    free(tok);
    scribe_notes_free(&r);
    scribe_notes_free(&out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_notes_tokens_notes_identity_multi_segment_with_ties) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
    const double seg = 256 * 128 / 16000.0; /* 2.048 s */
    for (uint32_t seed = 1; seed <= 5; seed++) {
        scribe_notes ns;
        scribe_notes_init(&ns);
        make_notes(&ns, seed * 7919u, 120, 14.0, 1);
        CHECK(ns.count > 50);
        round_trip(&c, &ns, seg, 10);
        scribe_notes_free(&ns);
    }
}

TEST(mt3_notes_tokens_notes_identity_ismir2021) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_ismir2021(&c, NULL));
    scribe_notes ns;
    scribe_notes_init(&ns);
    make_notes(&ns, 4242u, 80, 1.9, 0); /* one segment: no ties in this vocabulary */
    round_trip(&c, &ns, 2.048, 1);
    scribe_notes_free(&ns);
}

TEST(mt3_tokens_tie_section_semantics) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
    sc_mt3_decoder d;
    CHECK_OK(sc_mt3_decoder_init(&d, &c, NULL));
    scribe_notes out;
    scribe_notes_init(&out);
    int P = sc_mt3_codec_encode(&c, SC_MT3_EV_PROGRAM, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    int p60 = sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, 60), p64 = sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, 64);
    int s10 = sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, 10);
    int32_t seg0[] = {T, s10, P, V1, p60, p64, 1, p60};
    CHECK_OK(sc_mt3_decoder_segment(&d, seg0, 8, 0.0, 2.04, &out, NULL));
    CHECK(out.count == 0 && d.n_active == 2);
    int32_t seg1[] = {P, p64, T, 1};  /* 64 continues, 60 ends at 2.04 */
    CHECK_OK(sc_mt3_decoder_segment(&d, seg1, 4, 2.04, 4.08, &out, NULL));
    CHECK(out.count == 1 && out.notes[0].pitch == 60);
    CHECK_NEAR(out.notes[0].onset_s, 0.1, 1e-9);
    CHECK_NEAR(out.notes[0].offset_s, 2.04, 1e-9);
    CHECK(out.notes[0].velocity == 127);
    CHECK_OK(sc_mt3_decoder_flush(&d, &out, NULL));
    CHECK(out.count == 2 && out.notes[1].pitch == 64);
    CHECK_NEAR(out.notes[1].offset_s, 2.04, 1e-9);
    CHECK(d.invalid_events == 0);
    scribe_notes_free(&out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_tokens_hostile_sequences_are_counted) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
    sc_mt3_decoder d;
    CHECK_OK(sc_mt3_decoder_init(&d, &c, NULL));
    scribe_notes out;
    scribe_notes_init(&out);
    int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    int p60 = sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, 60), dr = sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, 36);
    int s50 = sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, 50), s20 = sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, 20);
    int s300 = sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, 300);
    int32_t seg[] = {
        T, V0, p60,          /* note-off without note-on: 1 invalid */
        T,                   /* tie outside the tie section: 1 */
        0, 2, 1400, 99999, -5, /* PAD, UNK, extra id, out of range: 5 */
        s50, V1, p60,        /* onset at 0.5 */
        s20, p60,            /* time goes backwards (0.2 < 0.5): 1 */
        V0, dr,              /* drum with velocity 0: 1 (time 0.2 again, also backwards -> counted once) */
        s300, V1, p60,       /* past max_time 2.04: dropped (3 tokens) */
    };
    size_t n = sizeof seg / sizeof seg[0];
    CHECK_OK(sc_mt3_decoder_segment(&d, seg, n, 0.0, 2.04, &out, NULL));
    CHECK_MSG(d.invalid_events == 10, "invalid %llu", (unsigned long long)d.invalid_events);
    CHECK(d.dropped_events == 3);
    /* endless output without EOS: random ids, 5000 tokens, many segments */
    uint32_t s = 99;
    int32_t *junk = malloc(5000 * sizeof *junk);
    for (int k = 0; k < 20; k++) {
        for (int i = 0; i < 5000; i++) junk[i] = (int32_t)(rng_next(&s) % 1600) - 10;
        CHECK_OK(sc_mt3_decoder_segment(&d, junk, 5000, 2.04 * (k + 1), 2.04 * (k + 2), &out, NULL));
    }
    CHECK_OK(sc_mt3_decoder_flush(&d, &out, NULL));
    CHECK_MSG(d.invalid_events > 10 && d.dropped_events > 1000, "invalid %llu dropped %llu", (unsigned long long)d.invalid_events, (unsigned long long)d.dropped_events);
    CHECK(d.n_active == 0);
    CHECK(out.count > 0);
    for (size_t i = 0; i < out.count; i++) {
        CHECK(out.notes[i].offset_s >= out.notes[i].onset_s + 0.01 - 1e-9);
        CHECK(out.notes[i].pitch >= 0 && out.notes[i].pitch < 128);
    }
    free(junk);
    scribe_notes_free(&out);
    sc_mt3_decoder_free(&d);
}

/* The decoder tests below: an MT3 codec `c` and its decoder `d`; tokens through these macros over `c`. */
static void new_decoder(sc_mt3_codec *c, sc_mt3_decoder *d) {
    CHECK_OK(sc_mt3_codec_init_mt3(c, NULL));
    CHECK_OK(sc_mt3_decoder_init(d, c, NULL));
}
#define S(v) sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, v)
#define PI(v) sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, v)
#define PR(v) sc_mt3_codec_encode(&c, SC_MT3_EV_PROGRAM, v)

/* Fragment joining (sc_mt3_decoder_set_join): pieces of at most 30 ms continued a step later become one
 * note; longer pieces, wider gaps, other programs and drums are untouched; off, MT3's notes as before. */
static void decode_fragments(double join_s, scribe_notes *out) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    new_decoder(&c, &d);
    sc_mt3_decoder_set_join(&d, join_s);
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0), DR = sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, 36);
    int32_t seg[] = {
        T, S(10), PR(0), V1, PI(60), PR(8), PI(60),   /* 0.10: 60 in programs 0 and 8 */
        S(11), PR(0), V0, PI(60), V1, PI(60),          /* 0.11: program 0 re-articulates (10 ms piece) */
        S(12), V0, PI(60), PR(8), PI(60),              /* 0.12: both end */
        S(13), PR(0), V1, PI(60), PR(8), PI(60), DR,   /* 0.13: both again, a step later; a drum */
        S(20), PR(0), V0, PI(60), PR(8), PI(60),       /* 0.20: 70 ms pieces end */
        S(21), PR(0), V1, PI(60), DR,                  /* 0.21: after a long piece: a new note */
        S(40), V0, PI(60),                             /* 0.40 */
        S(42), V1, PI(60), S(43), V0, PI(60),          /* 0.42: after a 20 ms gap: a new note, 10 ms long */
    };
    CHECK_OK(sc_mt3_decoder_segment(&d, seg, sizeof seg / sizeof seg[0], 0.0, -1, out, NULL));
    CHECK_OK(sc_mt3_decoder_flush(&d, out, NULL));
    CHECK(d.invalid_events == 0 && d.n_pending == 0);
    scribe_notes_sort(out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_decoder_joins_fragments_only_when_asked) {
    scribe_notes off, on;
    scribe_notes_init(&off);
    scribe_notes_init(&on);
    decode_fragments(0.0, &off);
    decode_fragments(0.03, &on);
    /* MT3: program 0 has 0.10-0.11, 0.11-0.12, 0.13-0.20, 0.21-0.40, 0.42-0.43; program 8 0.10-0.12,
       0.13-0.20; two drums */
    size_t pitched = 0;
    for (size_t i = 0; i < off.count; i++) pitched += !off.notes[i].is_drum;
    CHECK_MSG(pitched == 7 && off.count == 9, "%zu notes without joining", off.count);
    /* joined: program 0 0.10-0.20 (three pieces), 0.21-0.40, 0.42-0.43; program 8 0.10-0.20 */
    double want[][3] = {{0, 0.10, 0.20}, {8, 0.10, 0.20}, {0, 0.21, 0.40}, {0, 0.42, 0.43}};
    size_t k = 0;
    for (size_t i = 0; i < on.count; i++) {
        const scribe_note *n = &on.notes[i];
        if (n->is_drum) continue;
        int found = 0;
        for (size_t j = 0; j < 4; j++)
            if (n->program == (int)want[j][0] && fabs(n->onset_s - want[j][1]) < 1e-9 &&
                fabs(n->offset_s - want[j][2]) < 1e-9)
                found = 1;
        CHECK_MSG(found, "unexpected joined note program %d %.3f-%.3f", n->program, n->onset_s, n->offset_s);
        k++;
    }
    CHECK_MSG(k == 4 && on.count == 6, "%zu pitched of %zu joined notes", k, on.count);
    scribe_notes_free(&off);
    scribe_notes_free(&on);
}

/* Ends a clean decode: flushes into `out` (sorted), checks nothing was invalid or left over, frees. */
static void flush_and_free(sc_mt3_decoder *d, scribe_notes *out) {
    CHECK_OK(sc_mt3_decoder_flush(d, out, NULL));
    CHECK(d->invalid_events == 0 && d->n_pending == 0 && d->n_active == 0);
    scribe_notes_sort(out);
    sc_mt3_decoder_free(d);
}

/* Rejoining (sc_mt3_decoder_set_rejoin): onset evidence is high only at 0.30 s (a real re-attack). */
static float test_evidence(void *user, double t, int pitch) {
    int *calls = user;
    (*calls)++;
    return fabs(t - 0.30) < 1e-6 && pitch == 60 ? 0.9f : 0.1f;
}

static void decode_chops(int rejoin, int segmented, scribe_notes *out, int *calls) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    new_decoder(&c, &d);
    sc_mt3_decoder_set_join(&d, 0.03);
    if (rejoin) {
        sc_mt3_decoder_set_evidence(&d, test_evidence, calls);
        sc_mt3_decoder_set_rejoin(&d, 0.1, 0.5f);
    }
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    int32_t seg[] = {
        T, S(10), PR(0), V1, PI(60), PI(64),  /* 0.10: 60 and 64 start */
        S(20), V0, PI(60),                    /* 0.20: 60 ends (a chop) */
        S(25), V1, PI(60),                    /* 0.25: 60 again 50 ms later, no evidence: continues */
        S(28), V0, PI(60),                    /* 0.28: ends */
        S(30), V1, PI(60),                    /* 0.30: again 20 ms later, with evidence: a new note */
        S(40), V0, PI(60), PI(64),            /* 0.40: both end */
        S(55), V1, PI(60),                    /* 0.55: 150 ms later: a new note */
        S(60), PI(60),                        /* 0.60: onset of the sounding note, no evidence: continues */
        S(70), V0, PI(60),                    /* 0.70 */
    };
    const size_t n = sizeof seg / sizeof seg[0];
    if (segmented) { /* the same events cut into two segments at 0.50 s (second: tie section, shifts from 0.50) */
        int32_t a[22], b[] = {T, S(5), V1, PI(60), S(10), PI(60), S(20), V0, PI(60)};
        memcpy(a, seg, sizeof a);
        CHECK_OK(sc_mt3_decoder_segment(&d, a, 22, 0.0, 0.5, out, NULL));
        CHECK_OK(sc_mt3_decoder_segment(&d, b, sizeof b / sizeof b[0], 0.5, -1, out, NULL));
    } else {
        CHECK_OK(sc_mt3_decoder_segment(&d, seg, n, 0.0, -1, out, NULL));
    }
    flush_and_free(&d, out);
}

TEST(mt3_decoder_rejoins_chopped_notes_without_onset_evidence) {
    for (int segmented = 0; segmented < 2; segmented++) {
        scribe_notes off, on;
        scribe_notes_init(&off);
        scribe_notes_init(&on);
        int calls_off = 0, calls_on = 0;
        decode_chops(0, segmented, &off, &calls_off);
        decode_chops(1, segmented, &on, &calls_on);
        /* off: 60 at 0.10-0.20, 0.25-0.28, 0.30-0.40, 0.55-0.60, 0.60-0.70; 64 at 0.10-0.40 */
        CHECK_MSG(off.count == 6 && calls_off == 0, "%zu notes without rejoining", off.count);
        /* on: 60 at 0.10-0.28 (continued), 0.30-0.40 (re-attack), 0.55-0.70 (continued); 64 as before */
        double want[][3] = {{60, 0.10, 0.28}, {64, 0.10, 0.40}, {60, 0.30, 0.40}, {60, 0.55, 0.70}};
        CHECK_MSG(on.count == 4, "%zu notes with rejoining (segmented %d)", on.count, segmented);
        for (size_t i = 0; i < on.count && i < 4; i++) {
            const scribe_note *x = &on.notes[i];
            CHECK_MSG(x->pitch == (int)want[i][0] && fabs(x->onset_s - want[i][1]) < 1e-9 &&
                          fabs(x->offset_s - want[i][2]) < 1e-9,
                      "note %zu: %d %.3f-%.3f", i, x->pitch, x->onset_s, x->offset_s);
        }
        CHECK_MSG(calls_on == 3, "evidence asked %d times (only onsets within the gap of an end ask)", calls_on);
        scribe_notes_free(&off);
        scribe_notes_free(&on);
    }
}

/* Onset gate (sc_mt3_decoder_set_gate): evidence is high only for pitch 60 at 0.10 s. */
static float gate_evidence(void *user, double t, int pitch) {
    (void)user;
    return fabs(t - 0.10) < 1e-6 && pitch == 60 ? 0.9f : 0.1f;
}

static void decode_gated(float gate, scribe_notes *out) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    new_decoder(&c, &d);
    sc_mt3_decoder_set_evidence(&d, gate_evidence, NULL);
    sc_mt3_decoder_set_rejoin(&d, 0.1, 0.5f);
    sc_mt3_decoder_set_gate(&d, gate);
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0), DR = sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, 36);
    const int P0 = sc_mt3_codec_encode(&c, SC_MT3_EV_PROGRAM, 0);
    int32_t a[] = {
        T, S(10), P0, V1, PI(60), PI(64), /* 0.10: 60 with evidence, 64 without (gated) */
        S(20), V0, PI(60),                /* 0.20: 60 ends */
        S(25), V1, PI(60),                /* 0.25: a chop: continues, not gated */
        S(40), V0, PI(60),                /* 0.40: 60 ends (64 sounds on into the next segment) */
    };
    int32_t b[] = {                        /* next segment from 0.50: 64 is still sounding, tied */
        PI(64), T, S(5), V1, PI(60),       /* 0.55: new 60 without evidence: gated */
        S(20), V0, PI(60), V1, DR,         /* 0.70: ends; a drum (never gated) */
    };
    CHECK_OK(sc_mt3_decoder_segment(&d, a, sizeof a / sizeof a[0], 0.0, 0.5, out, NULL));
    CHECK_OK(sc_mt3_decoder_segment(&d, b, sizeof b / sizeof b[0], 0.5, -1, out, NULL));
    flush_and_free(&d, out);
}

TEST(mt3_decoder_onset_gate_drops_new_notes_without_evidence) {
    scribe_notes open, gated;
    scribe_notes_init(&open);
    scribe_notes_init(&gated);
    decode_gated(0.0f, &open);
    decode_gated(0.5f, &gated);
    /* open: 60 0.10-0.40 (rejoined), 64 0.10-0.70 (tied, ended at flush), 60 0.55-0.70, drum 0.70 */
    CHECK_MSG(open.count == 4, "%zu notes without the gate", open.count);
    /* gated: 60 0.10-0.40 and the drum; 64 (tied along, still gated) and the new 60 dropped */
    CHECK_MSG(gated.count == 2, "%zu notes with the gate", gated.count);
    if (gated.count == 2) {
        CHECK(gated.notes[0].pitch == 60 && !gated.notes[0].is_drum && fabs(gated.notes[0].onset_s - 0.10) < 1e-9 &&
              fabs(gated.notes[0].offset_s - 0.40) < 1e-9);
        CHECK(gated.notes[1].is_drum && gated.notes[1].pitch == 36 && fabs(gated.notes[1].onset_s - 0.70) < 1e-9);
    }
    scribe_notes_free(&open);
    scribe_notes_free(&gated);
}

/* Tie rules (sc_mt3_decoder_set_tie_rules), 125 frames/s: pitch 60 sounds until frame 150 (1.20 s); onsets
 * of 64 at frame 200 (1.60 s) and of 62 at frame 100 (0.80 s, inside its note 0.50-0.85 s); 67 none. */
static float tie_posterior(void *user, int64_t frame, int pitch, int kind) {
    int *calls = user;
    (*calls)++;
    if (frame < 0) return -1.0f; /* not held */
    if (kind == 1) return pitch == 60 && frame >= 150 ? 0.1f : 0.9f;
    return (pitch == 64 && frame == 200) || (pitch == 62 && frame == 100) || (pitch == 65 && frame == 253) ? 0.9f
                                                                                                          : 0.1f;
}

static float no_onset(void *user, double t, int pitch) {
    (void)user, (void)t, (void)pitch;
    return 0.0f;
}

static void decode_ties(int rules, scribe_notes *out, int *calls, uint64_t *invalid) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    new_decoder(&c, &d);
    if (rules) sc_mt3_decoder_set_tie_rules(&d, tie_posterior, calls, 125.0, 256, 0.5f, 0.3f);
    if (rules == 2) { /* notes are held back 100 ms after their end: 65 (ends 1.95) is still held at 2.04 */
        sc_mt3_decoder_set_evidence(&d, no_onset, NULL);
        sc_mt3_decoder_set_rejoin(&d, 0.1, 0.5f);
    }
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    /* 60 and 62 at 0.50; 62 ends 0.85; 65 sounds 1.90-1.95 */
    int32_t a[] = {T, S(50), PR(0), V1, PI(60), PI(62), S(85), V0, PI(62), S(190), V1, PI(65), S(195), V0, PI(65)};
    /* next segment (2.04 s): the tie section names 64, 67, 62 and 65 (none active) and not 60; 64 ends 2.54 */
    int32_t b[] = {PR(0), PI(64), PI(67), PI(62), PI(65), T, S(50), V0, PI(64)};
    CHECK_OK(sc_mt3_decoder_segment(&d, a, sizeof a / sizeof a[0], 0.0, 2.04, out, NULL));
    CHECK_OK(sc_mt3_decoder_segment(&d, b, sizeof b / sizeof b[0], 2.04, -1, out, NULL));
    CHECK_OK(sc_mt3_decoder_flush(&d, out, NULL));
    *invalid = d.invalid_events;
    scribe_notes_sort(out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_decoder_tie_rules_recover_tied_notes_and_end_untied_ones) {
    /* as MT3: 60 0.50-2.04 (ended by the tie section), 62 0.50-0.85, 65 1.90-1.95; the ties of 64, 67, 62,
       65 and the end of 64 are invalid */
    const double want_plain[][3] = {{60, 0.50, 2.04}, {62, 0.50, 0.85}, {65, 1.90, 1.95}};
    /* rules: 60 ends where its note posterior falls (1.20); 64 recovered from its onset at 1.60 and ended by
       the model at 2.54; 65 recovered from its onset at 2.024 (a new note: 74 ms after the first one ended,
       with an onset) and ended at flush (2.54); 67 has no onset, 62's lies within its own note: invalid.
       Mode 2 also holds notes back 100 ms (rejoining): the same notes. */
    const double want_rules[][3] = {{60, 0.50, 1.20}, {62, 0.50, 0.85}, {64, 1.60, 2.54}, {65, 1.90, 1.95},
                                    {65, 2.024, 2.54}};
    for (int mode = 0; mode < 3; mode++) {
        scribe_notes got;
        scribe_notes_init(&got);
        int calls = 0;
        uint64_t invalid = 0;
        decode_ties(mode, &got, &calls, &invalid);
        const double(*want)[3] = mode ? want_rules : want_plain;
        const size_t n = mode ? 5 : 3;
        CHECK_MSG(got.count == n && invalid == (mode ? 2u : 5u) && (calls > 0) == (mode > 0),
                  "mode %d: %zu notes, %llu invalid events", mode, got.count, (unsigned long long)invalid);
        for (size_t i = 0; i < got.count && i < n; i++)
            CHECK_MSG(got.notes[i].pitch == (int)want[i][0] && fabs(got.notes[i].onset_s - want[i][1]) < 1e-9 &&
                          fabs(got.notes[i].offset_s - want[i][2]) < 1e-9,
                      "mode %d note %zu: %d %.3f-%.3f", mode, i, got.notes[i].pitch, got.notes[i].onset_s,
                      got.notes[i].offset_s);
        scribe_notes_free(&got);
    }
}

/* Offset clip (sc_mt3_decoder_set_offset_clip), 125 frames/s, 256-frame segments (2.048 s); like the engine's session, only the segment being decoded and the one before it are held. Note
 * posteriors: 60 dips for 2 frames at 100 (too short) and is quiet at frames 200-202 (1.60 s, segment
 * 0); 62 is quiet from frame 50 (0.40 s); 64 at frames 254-256, across the first segment start; 65
 * never. */
typedef struct { int segment; } held_window;

/* A decoder reading `posterior` at 125 frames/s over 256-frame segments, every rule off. */
static void windowed_decoder(sc_mt3_codec *c, sc_mt3_decoder *d, sc_mt3_posterior_fn posterior, held_window *w) {
    new_decoder(c, d);
    sc_mt3_decoder_set_tie_rules(d, posterior, w, 125.0, 256, 0.0f, 0.0f);
}

static float clip_posterior(void *user, int64_t frame, int pitch, int kind) {
    const held_window *w = user;
    if (frame < (int64_t)(w->segment - 1) * 256 || frame >= (int64_t)(w->segment + 1) * 256) return -1.0f;
    if (kind == 0) return 0.0f;
    const int quiet = (pitch == 60 && ((frame >= 100 && frame <= 101) || (frame >= 200 && frame <= 202))) ||
                      (pitch == 62 && frame >= 50) || (pitch == 64 && frame >= 254 && frame <= 256);
    return quiet ? 0.1f : 0.9f;
}

static void decode_clipped(float below, scribe_notes *out) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    held_window w = {0};
    windowed_decoder(&c, &d, clip_posterior, &w);
    sc_mt3_decoder_set_offset_clip(&d, below);
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0), D = sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, 36);
    /* 60 from 0.10, 62 0.20-0.90, 64 from 0.50, 65 1.00-1.50, a drum at 1.20 */
    int32_t a[] = {T, S(10), PR(0), V1, PI(60), S(20), PI(62), S(50), PI(64), S(90), V0, PI(62), S(100), V1, PI(65),
                   S(120), D, S(150), V0, PI(65)};
    int32_t b[] = {PR(0), PI(60), PI(64), T, S(95), V0, PI(64)}; /* 64 ends 2.99 */
    int32_t cc[] = {PR(0), PI(60), T};
    int32_t e[] = {PR(0), PI(60), T, S(40), V0, PI(60)}; /* 60 ends 6.54 */
    const int32_t *segs[] = {a, b, cc, e};
    const size_t lens[] = {sizeof a / sizeof a[0], sizeof b / sizeof b[0], sizeof cc / sizeof cc[0],
                           sizeof e / sizeof e[0]};
    for (w.segment = 0; w.segment < 4; w.segment++) { /* starts on the shift grid: 0, 2.04, 4.09, 6.14 */
        const double start = sc_mt3_segment_start_time(&c, w.segment * 2.048);
        const double next = w.segment < 3 ? sc_mt3_segment_start_time(&c, (w.segment + 1) * 2.048) : -1;
        CHECK_OK(sc_mt3_decoder_segment(&d, segs[w.segment], lens[w.segment], start, next, out, NULL));
    }
    CHECK_OK(sc_mt3_decoder_flush(&d, out, NULL));
    scribe_notes_sort(out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_decoder_offset_clip_ends_notes_where_the_sound_stops) {
    const double want_off[][3] = {{60, 0.10, 6.54}, {62, 0.20, 0.90}, {64, 0.50, 2.99}, {65, 1.00, 1.50}};
    const double want_on[][3] = {{60, 0.10, 1.60}, {62, 0.20, 0.40}, {64, 0.50, 2.032}, {65, 1.00, 1.50}};
    for (int mode = 0; mode < 2; mode++) {
        scribe_notes got;
        scribe_notes_init(&got);
        decode_clipped(mode ? 0.2f : 0.0f, &got);
        const double(*want)[3] = mode ? want_on : want_off;
        size_t k = 0;
        for (size_t i = 0; i < got.count; i++) {
            const scribe_note *n = &got.notes[i];
            if (n->is_drum) {
                CHECK_MSG(n->pitch == 36 && fabs(n->onset_s - 1.20) < 1e-9, "mode %d: drum %d at %.3f", mode, n->pitch,
                          n->onset_s);
                continue;
            }
            CHECK_MSG(k < 4 && n->pitch == (int)want[k][0] && fabs(n->onset_s - want[k][1]) < 1e-9 &&
                          fabs(n->offset_s - want[k][2]) < 1e-9,
                      "mode %d note %zu: %d %.3f-%.3f", mode, k, n->pitch, n->onset_s, n->offset_s);
            k++;
        }
        CHECK_MSG(k == 4 && got.count == 5, "mode %d: %zu notes", mode, got.count);
        scribe_notes_free(&got);
    }
}

/* Onset recovery (sc_mt3_decoder_set_onset_recovery at 0.8), 125 frames/s, 256-frame segments at 0, 2.04
 * and 4.09 s, only the segment decoded and the one before it held. Onset posterior peaks: 60 at frame 126
 * (8 ms after its decoded onset: none added), 64 at 100 (0.80 s; again at 103: the same onset), 45 a
 * plateau at 200-201 (the peak is 201), 50 at 110 (0.7: below), 72 at 254 (2.032 s, 38 ms before its
 * onset decoded in the next segment: none added), 79 at 255 (2.04 s: the first segment's last frame, at
 * the next segment's start time; no longer held when the second segment's frames are read), 76 at 300
 * (2.40 s). Note posteriors: 64 quiet from frame 150, 76 from 320, the rest sounding. */
static float recovery_posterior(void *user, int64_t frame, int pitch, int kind) {
    const held_window *w = user;
    if (frame < (int64_t)(w->segment - 1) * 256 || frame >= (int64_t)(w->segment + 1) * 256) return -1.0f;
    if (kind == 1) return (pitch == 64 && frame >= 150) || (pitch == 76 && frame >= 320) ? 0.1f : 0.9f;
    if ((pitch == 60 && frame == 126) || (pitch == 64 && frame == 100) || (pitch == 72 && frame == 254) ||
        (pitch == 79 && frame == 255) || (pitch == 76 && frame == 300))
        return 0.9f;
    if (pitch == 45 && (frame == 200 || frame == 201)) return 0.85f;
    if (pitch == 64 && frame == 103) return 0.85f; /* a second peak 24 ms after the first: the same onset */
    if (pitch == 64 && (frame == 101 || frame == 102)) return 0.5f;
    return pitch == 50 && frame == 110 ? 0.7f : 0.1f;
}

static void decode_recovered(float above, scribe_notes *out) {
    sc_mt3_codec c;
    sc_mt3_decoder d;
    held_window w = {0};
    windowed_decoder(&c, &d, recovery_posterior, &w);
    sc_mt3_decoder_set_onset_recovery(&d, above);
    const int V0 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 0), V1 = sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, 1);
    const int T = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    /* bass 40 from 0.50; 60 1.00-1.50 */
    int32_t a[] = {T, S(50), PR(32), V1, PI(40), S(100), PR(0), PI(60), S(150), V0, PI(60)};
    /* 40 goes on; guitar 72 from 2.07, piano 67 from 2.14; all three go on and end at flush (4.09) */
    int32_t b[] = {PR(32), PI(40), T, S(3), PR(24), V1, PI(72), S(10), PR(0), PI(67)};
    int32_t e[] = {PR(32), PI(40), PR(24), PI(72), PR(0), PI(67), T};
    CHECK_OK(sc_mt3_decoder_segment(&d, a, sizeof a / sizeof a[0], 0.0, 2.04, out, NULL));
    w.segment = 1;
    CHECK_OK(sc_mt3_decoder_segment(&d, b, sizeof b / sizeof b[0], 2.04, 4.09, out, NULL));
    w.segment = 2;
    CHECK_OK(sc_mt3_decoder_segment(&d, e, sizeof e / sizeof e[0], 4.09, -1, out, NULL));
    CHECK_OK(sc_mt3_decoder_flush(&d, out, NULL));
    scribe_notes_sort(out);
    sc_mt3_decoder_free(&d);
}

TEST(mt3_decoder_onset_recovery_adds_clear_acoustic_onsets_the_model_missed) {
    /* pitch, onset, offset, program: the decoded notes, and with recovery 64 (program of the nearest active
       note when segment 0 is read: piano 67), 45 (bass 40; sounding to the end of the held frames, 4.088 s),
       79 (guitar 72) and 76 (guitar 72) */
    const double want_off[][4] = {{40, 0.50, 4.09, 32}, {60, 1.00, 1.50, 0}, {72, 2.07, 4.09, 24}, {67, 2.14, 4.09, 0}};
    const double want_on[][4] = {{40, 0.50, 4.09, 32}, {64, 0.80, 1.20, 0}, {60, 1.00, 1.50, 0}, {45, 1.608, 4.088, 32},
                                 {79, 2.04, 4.088, 24}, {72, 2.07, 4.09, 24}, {67, 2.14, 4.09, 0},
                                 {76, 2.40, 2.56, 24}};
    for (int mode = 0; mode < 2; mode++) {
        scribe_notes got;
        scribe_notes_init(&got);
        decode_recovered(mode ? 0.8f : 0.0f, &got);
        const double(*want)[4] = mode ? want_on : want_off;
        const size_t n = mode ? 8 : 4;
        CHECK_MSG(got.count == n, "mode %d: %zu notes", mode, got.count);
        for (size_t i = 0; i < got.count && i < n; i++) {
            const scribe_note *g = &got.notes[i];
            CHECK_MSG(g->pitch == (int)want[i][0] && fabs(g->onset_s - want[i][1]) < 1e-9 &&
                          fabs(g->offset_s - want[i][2]) < 1e-9 && g->program == (int)want[i][3] && !g->is_drum,
                      "mode %d note %zu: %d %.3f-%.3f program %d", mode, i, g->pitch, g->onset_s, g->offset_s,
                      g->program);
        }
        scribe_notes_free(&got);
    }
}
