/* Greedy MT3 decoding guard (see mt3_grammar.h). */
#include "mt3_grammar.h"

#include <math.h>
#include <string.h>

enum { KIND_PITCH = 0, KIND_DRUM = 1, TIE_SECTION = -2 };

/* One said event: kind, program (-1..127), velocity context (-2 tie section, -1.., bins), pitch. */
static int32_t key(int kind, int program, int context, int pitch) {
    return ((kind * 129 + program + 1) * 130 + context + 2) * 128 + pitch;
}

static int context(const sc_mt3_grammar_row *r) { return r->ties_over ? r->velocity : TIE_SECTION; }

static int sounding(const sc_mt3_grammar_row *r, int pitch) {
    return (r->sounding[r->program + 1][pitch >> 3] >> (pitch & 7)) & 1;
}

void sc_mt3_grammar_start(sc_mt3_grammar_row *r, int32_t *said) {
    r->time = 0;
    r->velocity = -1;
    r->program = -1;
    r->ties_over = 0;
    r->n_said = 0;
    r->said = said;
    memset(r->sounding, 0, sizeof r->sounding);
}

void sc_mt3_grammar_mask(const sc_mt3_codec *c, const sc_mt3_grammar_row *r, float *logits) {
    const float off = -INFINITY;
    int shift0 = sc_mt3_codec_encode(c, SC_MT3_EV_SHIFT, 0);
    for (int v = 0; v <= r->time && v <= c->max_shift_steps; v++) logits[shift0 + v] = off;
    if (r->velocity >= 0) logits[sc_mt3_codec_encode(c, SC_MT3_EV_VELOCITY, r->velocity)] = off;
    if (r->program >= 0) logits[sc_mt3_codec_encode(c, SC_MT3_EV_PROGRAM, r->program)] = off;
    if (r->ties_over) logits[sc_mt3_codec_encode(c, SC_MT3_EV_TIE, 0)] = off;
    const int ctx = context(r);
    if (c->use_ties && ctx >= 0) /* offsets of silent notes, onsets of sounding ones */
        for (int p = 0; p < 128; p++)
            if (sounding(r, p) == (ctx > 0)) logits[sc_mt3_codec_encode(c, SC_MT3_EV_PITCH, p)] = off;
    for (int i = 0; i < r->n_said; i++) {
        int32_t k = r->said[i];
        int pitch = k % 128, said_ctx = (k / 128) % 130 - 2, program = (k / (128 * 130)) % 129 - 1,
            kind = k / (128 * 130 * 129);
        if (kind == KIND_DRUM) {
            if (said_ctx == ctx) logits[sc_mt3_codec_encode(c, SC_MT3_EV_DRUM, pitch)] = off;
        } else if (program == r->program && (said_ctx == ctx || (ctx >= 0 && said_ctx >= 1))) {
            /* the same event again, or anything after an onset of this pitch at this time (a note of
               zero length, or a second onset) */
            logits[sc_mt3_codec_encode(c, SC_MT3_EV_PITCH, pitch)] = off;
        }
    }
}

void sc_mt3_grammar_feed(const sc_mt3_codec *c, sc_mt3_grammar_row *r, int token) {
    sc_mt3_event e = sc_mt3_codec_decode(c, token);
    switch (e.type) {
    case SC_MT3_EV_SHIFT:
        r->time = e.value;
        r->n_said = 0;
        r->ties_over = 1;
        break;
    case SC_MT3_EV_VELOCITY: r->velocity = e.value; break;
    case SC_MT3_EV_PROGRAM: r->program = e.value; break;
    case SC_MT3_EV_TIE: r->ties_over = 1; break;
    case SC_MT3_EV_PITCH: {
        const int ctx = context(r);
        uint8_t *bits = &r->sounding[r->program + 1][e.value >> 3], bit = (uint8_t)(1u << (e.value & 7));
        if (ctx == TIE_SECTION || ctx > 0)
            *bits |= bit;
        else if (ctx == 0)
            *bits &= (uint8_t)~bit;
        r->said[r->n_said++] = key(KIND_PITCH, r->program, ctx, e.value);
        break;
    }
    case SC_MT3_EV_DRUM: r->said[r->n_said++] = key(KIND_DRUM, -1, context(r), e.value); break;
    default: break;
    }
}
