/* Greedy decoding guard (music/mt3_grammar.c): what it masks, and that real MT3 targets never hit it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "music/mt3_grammar.h"
#include "music/mt3_tokens.h"

static int masked_after(const sc_mt3_codec *c, const int *toks, int n, int probe) {
    int32_t said[64];
    sc_mt3_grammar_row r;
    sc_mt3_grammar_start(&r, said);
    for (int i = 0; i < n; i++) sc_mt3_grammar_feed(c, &r, toks[i]);
    float *lg = calloc((size_t)c->vocab_size, sizeof *lg);
    sc_mt3_grammar_mask(c, &r, lg);
    int m = isinf(lg[probe]);
    free(lg);
    return m;
}

TEST(mt3_grammar_masks_restatements_only) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
#define SH(v) sc_mt3_codec_encode(&c, SC_MT3_EV_SHIFT, v)
#define PI(v) sc_mt3_codec_encode(&c, SC_MT3_EV_PITCH, v)
#define VE(v) sc_mt3_codec_encode(&c, SC_MT3_EV_VELOCITY, v)
#define PR(v) sc_mt3_codec_encode(&c, SC_MT3_EV_PROGRAM, v)
#define DR(v) sc_mt3_codec_encode(&c, SC_MT3_EV_DRUM, v)
    const int TIE = sc_mt3_codec_encode(&c, SC_MT3_EV_TIE, 0);
    CHECK(masked_after(&c, NULL, 0, SH(0)) && !masked_after(&c, NULL, 0, SH(1)));
    CHECK(!masked_after(&c, NULL, 0, SC_MT3_EOS) && !masked_after(&c, NULL, 0, TIE));
    /* tie section: program 24, pitch 60 said; 60 again is masked, 61 is not, nor 60 in another program */
    int tie_sec[] = {PR(24), PI(60)};
    CHECK(masked_after(&c, tie_sec, 2, PI(60)) && !masked_after(&c, tie_sec, 2, PI(61)));
    CHECK(masked_after(&c, tie_sec, 2, PR(24)) && !masked_after(&c, tie_sec, 2, PR(0)));
    int tie_sec2[] = {PR(24), PI(60), PR(0)};
    CHECK(!masked_after(&c, tie_sec2, 3, PI(60)));
    /* after the tie token: a second tie is masked; an onset of the tied (sounding) pitch is masked, of
       another pitch not */
    int t1[] = {PR(24), PI(60), TIE, VE(1)};
    CHECK(masked_after(&c, t1, 4, TIE) && masked_after(&c, t1, 4, PI(60)) && !masked_after(&c, t1, 4, PI(61)) &&
          masked_after(&c, t1, 4, VE(1)));
    /* at time 19: a note-on said once; again masked; as a note-off allowed; shifts <= 19 masked */
    int t2[] = {PR(24), PI(60), TIE, SH(19), VE(1), PI(64)};
    CHECK(masked_after(&c, t2, 6, PI(64)) && masked_after(&c, t2, 6, SH(19)) && masked_after(&c, t2, 6, SH(3)));
    CHECK(!masked_after(&c, t2, 6, SH(20)) && !masked_after(&c, t2, 6, VE(0)));
    /* after an onset at this time, the same pitch is masked as an offset too (a zero-length note);
       an offset then an onset (re-articulation) is allowed */
    int t3[] = {PR(24), PI(60), TIE, SH(19), VE(1), PI(64), VE(0)};
    CHECK(masked_after(&c, t3, 7, PI(64)) && !masked_after(&c, t3, 7, PI(60)) && masked_after(&c, t3, 7, TIE));
    int t3b[] = {SH(19), VE(0), PI(64), VE(1)};
    CHECK(!masked_after(&c, t3b, 4, PI(64)));
    int t3c[] = {SH(19), VE(0), PI(64), VE(1), PI(64), VE(0)};
    CHECK(masked_after(&c, t3c, 6, PI(64)));
    /* a shift clears what was said; drums per velocity context */
    int t4[] = {SH(5), VE(1), PI(64), DR(36), SH(9), VE(0)};
    CHECK(masked_after(&c, t4, 4, DR(36)) && !masked_after(&c, t4, 4, DR(38)));
    CHECK(!masked_after(&c, t4, 5, DR(36)) && masked_after(&c, t4, 5, SH(9)));
    CHECK(!masked_after(&c, t4, 6, PI(64))); /* its offset, at a later time */
    /* notes sound from onset (or tie entry) to offset, per program: no offset of a silent note, no second
       onset of a sounding one; an offset then an onset at one time is a re-articulation */
    int t5[] = {PR(24), PI(60), TIE, SH(3), VE(0)};
    CHECK(masked_after(&c, t5, 5, PI(70)) && !masked_after(&c, t5, 5, PI(60)));
    int t6[] = {PR(24), PI(60), TIE, SH(3), VE(1), PI(70), SH(5)};
    CHECK(masked_after(&c, t6, 7, PI(70)) && masked_after(&c, t6, 7, PI(60)) && !masked_after(&c, t6, 7, PI(71)));
    int t7[] = {PR(24), PI(60), TIE, SH(3), VE(1), PI(70), SH(5), PR(0)};
    CHECK(!masked_after(&c, t7, 8, PI(70)) && !masked_after(&c, t7, 8, PI(60))); /* another program */
    int t8[] = {PR(24), PI(60), TIE, SH(3), VE(1), PI(70), SH(5), VE(0), PI(70), VE(1)};
    CHECK(!masked_after(&c, t8, 10, PI(70)) && masked_after(&c, t8, 10, PI(60)));
    int t9[] = {PR(24), PI(60), TIE, SH(3), VE(1), PI(70), SH(5), VE(0), PI(70), PI(60)};
    CHECK(masked_after(&c, t9, 10, PI(70)) && masked_after(&c, t9, 10, PI(60))); /* both silent now */
    /* without ties (ismir2021) notes may sound from an earlier segment: offsets are never masked so */
    sc_mt3_codec ci;
    CHECK_OK(sc_mt3_codec_init_ismir2021(&ci, NULL));
    int t10[] = {sc_mt3_codec_encode(&ci, SC_MT3_EV_SHIFT, 3), sc_mt3_codec_encode(&ci, SC_MT3_EV_VELOCITY, 0)};
    CHECK(!masked_after(&ci, t10, 2, sc_mt3_codec_encode(&ci, SC_MT3_EV_PITCH, 70)));
#undef SH
#undef PI
#undef VE
#undef PR
#undef DR
}

/* MT3's own encoding of random multi-instrument notes (ties, drums, programs, several segments; notes of
 * one pitch may touch, one ending where the next starts): no target token is ever masked at its step. */
TEST(mt3_grammar_never_masks_real_targets) {
    sc_mt3_codec c;
    CHECK_OK(sc_mt3_codec_init_mt3(&c, NULL));
    uint32_t s = 77;
    scribe_notes ns;
    scribe_notes_init(&ns);
    for (int i = 0; i < 400; i++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        scribe_note n = {0};
        n.is_drum = s % 5 == 0;
        n.pitch = 30 + (int)((s >> 3) % 60);
        n.program = n.is_drum ? 0 : (int)((s >> 9) % 4) * 8;
        n.velocity = 127;
        int on = (int)((s >> 12) % 1000), len = n.is_drum ? 1 : 1 + (int)((s >> 20) % 300);
        n.onset_s = on / 100.0;
        n.offset_s = (on + len) / 100.0;
        int clash = 0;
        for (size_t j = 0; j < ns.count; j++) {
            const scribe_note *o = &ns.notes[j];
            if (o->pitch == n.pitch && o->program == n.program && o->is_drum == n.is_drum &&
                n.onset_s < o->offset_s - 0.005 && o->onset_s < n.offset_s - 0.005) /* touching is fine */
                clash = 1;
        }
        if (!clash) scribe_notes_push(&ns, &n, NULL, 0, NULL);
    }
    int32_t *tok = NULL;
    size_t nt = 0, cap = 0, checked = 0;
    float *lg = malloc((size_t)c.vocab_size * sizeof *lg);
    for (int k = 0; k < 5; k++) {
        double st = sc_mt3_segment_start_time(&c, k * 2.048);
        double next = k < 4 ? sc_mt3_segment_start_time(&c, (k + 1) * 2.048) : -1;
        CHECK_OK(sc_mt3_notes_to_segment_tokens(&c, &ns, st, next, &tok, &nt, &cap, NULL));
        int32_t *said = malloc((nt + 1) * sizeof *said);
        sc_mt3_grammar_row r;
        sc_mt3_grammar_start(&r, said);
        for (size_t i = 0; i < nt; i++) {
            memset(lg, 0, (size_t)c.vocab_size * sizeof *lg);
            sc_mt3_grammar_mask(&c, &r, lg);
            CHECK_MSG(!isinf(lg[tok[i]]), "segment %d token %zu (id %d) masked", k, i, tok[i]);
            sc_mt3_grammar_feed(&c, &r, tok[i]);
            checked++;
        }
        free(said);
    }
    CHECK_MSG(checked > 500, "%zu target tokens", checked);
    free(lg);
    free(tok);
    scribe_notes_free(&ns);
}
