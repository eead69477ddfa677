/* MT3 event vocabulary and codec, as magenta/mt3 vocabularies.py + event_codec.py.
 *
 * Codec ids: event ranges in the order shift [0, max_shift_steps], pitch [0,127],
 * velocity [0, num_velocity_bins], tie [0], program [0,127], drum [0,127].
 * Model token ids = codec id + 3 (0 PAD, 1 EOS, 2 UNK); ids at or beyond
 * 3 + num_classes (T5's 100 extra ids, the rounding to a multiple of 128) decode as invalid.
 * The configuration (steps per second, shifts, velocity bins, ties/programs/drums)
 * comes from the weights file (see t5.h), never from #defines. */
#ifndef SCRIBE_MT3_CODEC_H
#define SCRIBE_MT3_CODEC_H

#include "../common/common.h"

enum { SC_MT3_PAD = 0, SC_MT3_EOS = 1, SC_MT3_UNK = 2, SC_MT3_NUM_SPECIAL = 3, SC_MT3_EXTRA_IDS = 100 };

typedef enum sc_mt3_event_type {
    SC_MT3_EV_SHIFT = 0,
    SC_MT3_EV_PITCH,
    SC_MT3_EV_VELOCITY,
    SC_MT3_EV_TIE,
    SC_MT3_EV_PROGRAM,
    SC_MT3_EV_DRUM,
    SC_MT3_EV_COUNT,
    SC_MT3_EV_EOS = 100,     /* token 1 */
    SC_MT3_EV_INVALID = 101  /* PAD, UNK, extra ids, out of range */
} sc_mt3_event_type;

typedef struct sc_mt3_event {
    int type;  /* sc_mt3_event_type */
    int value;
} sc_mt3_event;

typedef struct sc_mt3_codec {
    int steps_per_second;   /* 100 */
    int max_shift_steps;    /* 1000 */
    int num_velocity_bins;  /* 1 (mt3) or 127 (ismir2021) */
    int use_ties;           /* tie section at each segment start (mt3) */
    int use_programs;       /* program tokens before onsets/offsets (mt3) */
    int use_drums;          /* drum tokens (mt3) */
    int range_lo[SC_MT3_EV_COUNT]; /* first codec id of each event type */
    int range_min[SC_MT3_EV_COUNT], range_max[SC_MT3_EV_COUNT]; /* value range */
    int num_classes;        /* codec ids */
    int vocab_size;         /* embedding rows: 128 * ceil((3 + num_classes + 100) / 128) */
} sc_mt3_codec;

/* Builds the codec; `vocab_size` <= 0 takes the MT3 rounding, else it must be at least 3 + num_classes. */
scribe_status sc_mt3_codec_init(sc_mt3_codec *c, int steps_per_second, int max_shift_steps, int num_velocity_bins,
                                int use_ties, int use_programs, int use_drums, int vocab_size, scribe_error *err);
/* MT3's published `mt3` vocabulary (1 velocity bin, ties, programs, drums; 1536 rows)
 * and the `ismir2021` piano vocabulary (127 velocity bins, no ties/programs/drums). */
scribe_status sc_mt3_codec_init_mt3(sc_mt3_codec *c, scribe_error *err);
scribe_status sc_mt3_codec_init_ismir2021(sc_mt3_codec *c, scribe_error *err);

/* Model token id of an event, or -1 when the value is out of range. */
int sc_mt3_codec_encode(const sc_mt3_codec *c, int type, int value);
/* Event of a model token id (EOS and invalid ids as their own types). */
sc_mt3_event sc_mt3_codec_decode(const sc_mt3_codec *c, int token);

/* vocabularies.velocity_to_bin / bin_to_velocity. */
int sc_mt3_velocity_to_bin(int velocity, int num_velocity_bins);
int sc_mt3_bin_to_velocity(int velocity_bin, int num_velocity_bins);

#endif
