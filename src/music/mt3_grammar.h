/* Guard for greedy MT3 decoding: masks tokens that could only restate what the segment has already
 * said, so that a weak model cannot loop on them (our trained models repeated the same pitches at
 * one time step until the token limit). A well-trained model never emits them, so its output is
 * unchanged: in MT3's encoding (run_length_encoding.py) every shift moves time forward, velocity
 * and program tokens appear only when their value changes, each event appears once per time step,
 * and there is one tie section, at the segment start.
 *
 * Masked, per decoded row (one segment):
 *   shift to a time <= the current one (the segment starts at 0);
 *   the velocity or program token equal to the current state;
 *   a second tie token, or one after the first shift;
 *   a pitch already said since the last shift with the same program and velocity (in the tie
 *   section: the same program), or any event of a pitch whose onset (velocity > 0) was said since
 *   the last shift in the same program (a zero-length note or a second onset); a drum already said
 *   since the last shift with the same velocity;
 *   with ties (the mt3 vocabulary): an offset (velocity 0) of a note that is not sounding, or an onset
 *   of one that is, in the same program. A note sounds from its onset, or its tie-section entry, to
 *   its offset; MT3 trims overlapping notes of one pitch and program, and at one time says an offset
 *   before an onset, so its targets never do either. (Our weak models did: an offset and an onset of
 *   one held note at every 10 ms step, chopping it into 10 ms notes.)
 * Token ids are the codec's (mt3_codec.h); never EOS, so a row can always end. */
#ifndef SCRIBE_MT3_GRAMMAR_H
#define SCRIBE_MT3_GRAMMAR_H

#include "mt3_codec.h"

typedef struct sc_mt3_grammar_row {
    int time;      /* value of the last shift (0 at the segment start) */
    int velocity;  /* last velocity bin, -1 none yet */
    int program;   /* last program, -1 none yet */
    int ties_over; /* the tie section has ended (tie token or a shift) */
    int n_said;    /* events said since the last shift (keys in `said`) */
    int32_t *said; /* caller's buffer: room for one key per decoded token */
    uint8_t sounding[129][16]; /* bit per pitch of each program (-1..127, index program + 1): note sounds */
} sc_mt3_grammar_row;

/* A new segment; `said` must hold as many keys as tokens the row may decode. */
void sc_mt3_grammar_start(sc_mt3_grammar_row *r, int32_t *said);
/* Sets the logits ([vocab_size]) of the masked tokens to -infinity. */
void sc_mt3_grammar_mask(const sc_mt3_codec *c, const sc_mt3_grammar_row *r, float *logits);
/* Advances the row's state by the token it decoded. */
void sc_mt3_grammar_feed(const sc_mt3_codec *c, sc_mt3_grammar_row *r, int token);

#endif
