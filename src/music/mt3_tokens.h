/* MT3 tokens <-> notes, as magenta/mt3 decodes predictions (note_sequences.decode_note_event,
 * NoteDecodingState, run_length_encoding.decode_events, metrics_utils.decode_and_combine_predictions)
 * and encodes training targets (note_sequence_to_onsets_and_offsets_and_programs, encode_and_index_events,
 * tie sections, run-length encoded shifts, redundant state changes removed).
 *
 * Decoding, per segment (in time order):
 *   - shift tokens give the absolute time inside the segment (start + steps / steps_per_second);
 *   - with ties, a tie section at the segment start lists the notes that continue; the tie token
 *     ends every other active note at the segment start;
 *   - state (active notes, program, velocity) carries across segments;
 *   - tokens whose time is past the next segment's start are dropped;
 *   - notes last at least 10 ms; drums are onsets with a 10 ms note;
 *   - tokens that make no sense (note-off without note-on, time going backwards, PAD/UNK/extra ids,
 *     a tie outside the tie section, ...) are counted as invalid and skipped, never fatal.
 * Finished notes are appended to the caller's list as soon as they end (they can no longer change). */
#ifndef SCRIBE_MT3_TOKENS_H
#define SCRIBE_MT3_TOKENS_H

#include "mt3_codec.h"

#define SC_MT3_MIN_NOTE_DURATION 0.01
#define SC_MT3_DEFAULT_VELOCITY 100

/* Onset evidence for a pitch at a time (the acoustic network's onset posterior around it, 0..1). */
typedef float (*sc_mt3_onset_evidence_fn)(void *user, double time_s, int pitch);
/* The acoustic network's posterior of a pitch at one frame: kind 0 onset, 1 note (sounding); < 0 when the
 * frame is not held. */
typedef float (*sc_mt3_posterior_fn)(void *user, int64_t frame, int pitch, int kind);

typedef struct sc_mt3_decoder {
    sc_mt3_codec codec;
    double current_time;
    int current_velocity;
    int current_program;
    int is_tie_section;
    /* (program, pitch) tables, index program * 128 + pitch */
    unsigned char *active;
    unsigned char *tied;
    double *onset;
    int *onset_velocity;
    int n_active;
    /* fragment joining (sc_mt3_decoder_set_join; off as in MT3): a note piece of at most join_len seconds
       whose key has an onset again within join_gap of its end continues as one note */
    double join_gap, join_len;
    /* acoustic onset evidence (sc_mt3_decoder_set_evidence; none as in MT3) for rejoining (a note whose
       key has an onset again within rejoin_gap of its end, without evidence there, continues) and the
       onset gate (a new pitched note without evidence below gate_below is dropped) */
    sc_mt3_onset_evidence_fn evidence;
    void *evidence_user;
    double rejoin_gap;
    float rejoin_below, gate_below;
    /* tie rules (sc_mt3_decoder_set_tie_rules; off as in MT3) */
    sc_mt3_posterior_fn posterior;
    void *posterior_user;
    double frame_rate;       /* posterior frames per second */
    int tie_span;            /* frames searched before a segment start */
    float recover_below, untied_below;
    float clip_below;        /* offset clip (sc_mt3_decoder_set_offset_clip; off as in MT3) */
    int64_t *quiet_from;     /* per active key: the next frame the offset clip reads */
    double *quiet_at;        /* per active key: where its note posterior first went quiet (INFINITY: not yet) */
    float recover_above;     /* onset recovery (sc_mt3_decoder_set_onset_recovery; off as in MT3) */
    double *recent_onsets;   /* per pitch, its latest SC_MT3_RECENT_ONSETS onsets (any program) */
    unsigned char *recent_next;
    double last_start;       /* start of the latest segment decoded (< 0: none) */
    int64_t recover_from;    /* the first frame onset recovery has not read */
    double *last_end;        /* end of the latest note of each key (-1e300: none) */
    unsigned char *gated;    /* active notes that will be dropped when they end */
    double *piece_onset;     /* start of the latest piece of each active note */
    double *pending_end;     /* end of each held-back short piece */
    int *pending_slot;       /* index + 1 in pending_keys, 0 when not pending */
    int *pending_keys;
    int n_pending;
    uint64_t invalid_events; /* tokens that could not be decoded (MT3's est_invalid_events) */
    uint64_t dropped_events; /* tokens past the next segment start (MT3's est_dropped_events) */
} sc_mt3_decoder;

scribe_status sc_mt3_decoder_init(sc_mt3_decoder *d, const sc_mt3_codec *codec, scribe_error *err);
/* Joins note fragments (not in MT3; off by default): a note that ends at most max_len_s after its latest
 * (re)onset is held back, and an onset of the same pitch and program within one codec step of its end
 * continues it (onset and velocity of the first piece) instead of starting a new note. Our weak models
 * chopped held notes into 10 ms pieces by saying offset and onset at every step. max_len_s <= 0: off.
 * Held-back notes are emitted once decoding passes their end by more than a step, or at flush. */
void sc_mt3_decoder_set_join(sc_mt3_decoder *d, double max_len_s);
/* Acoustic onset evidence for the two rules below (not in MT3; none by default: both off). */
void sc_mt3_decoder_set_evidence(sc_mt3_decoder *d, sc_mt3_onset_evidence_fn evidence, void *user);
/* Rejoins chopped notes: an onset of a pitch and program within gap_s of the end of its previous note
 * continues that note when evidence(time, pitch) < below. Our models often said an offset and, tens of
 * ms later, an onset inside one held note; the acoustic onset posterior tells such a chop (no new
 * attack) from a repeated note. Every ending note is held back until decoding passes its end by gap_s
 * (or at flush). gap_s <= 0: off. */
void sc_mt3_decoder_set_rejoin(sc_mt3_decoder *d, double gap_s, float below);
/* Onset gate: a pitched note that does not continue an earlier one (join, rejoin) and whose onset has
 * evidence(time, pitch) < below is dropped (decoded as usual, never emitted). Drums are not gated.
 * below <= 0: off. */
void sc_mt3_decoder_set_gate(sc_mt3_decoder *d, float below);
/* Tie rules (not in MT3; off by default), from the acoustic posteriors of the span_frames frames before a
 * segment start (the previous segment) and the frames of the segment:
 * - recovery: a tie (the model says a note sounds on from before) for a pitch and program with no active
 *   note starts one at the latest frame of the span (to 3 frames past the segment start) whose onset
 *   posterior is >= recover_below, if that is more than 50 ms after the key's last note ended
 *   (velocity 100, the tie section has none); otherwise it is invalid, as in MT3. The model often
 *   wrote no onset for a chord member it then named in the next tie section.
 * - untied ends: an active note the tie section does not continue ends at the first frame (from 2
 *   frames after its onset, within the span) where the note posterior is < untied_below for 2 frames,
 *   instead of at the segment start. A note whose offset the model did not write in its segment ran
 *   to the segment end: 18 % of our estimated offsets sat on a segment boundary.
 * A threshold <= 0 turns its rule off. */
void sc_mt3_decoder_set_tie_rules(sc_mt3_decoder *d, sc_mt3_posterior_fn posterior, void *user, double frame_rate,
                                  int span_frames, float recover_below, float untied_below);
/* Offset clip (not in MT3; off by default; needs the posterior of sc_mt3_decoder_set_tie_rules): a pitched
 * note ends no later than the first frame, from 2 frames after its (latest piece's) onset, where its
 * acoustic note posterior stays below `below` for SC_MT3_QUIET_FRAMES frames. Our models' offsets ran
 * on past the sound on real recordings and sample-library renders (onset+offset F1 of the session-12
 * model's notes on its dev clips: real 0.232 -> 0.269, Slakh 0.263 -> 0.285, held-out synthetic
 * unchanged). The frames of each segment are read while it is held (the segment decoded and the one
 * before it), so a note of any length is clipped from its onset on. below <= 0: off. */
#define SC_MT3_QUIET_FRAMES 3
void sc_mt3_decoder_set_offset_clip(sc_mt3_decoder *d, float below);
/* Onset recovery (not in MT3; off by default; needs the posterior of sc_mt3_decoder_set_tie_rules): a peak
 * of a pitch's acoustic onset posterior >= `above` (a frame at least its predecessor and above its
 * successor) with no decoded onset of that pitch, any program, within 50 ms becomes a note (a decoded
 * onset counts when its onset evidence, if set, is >= SC_MT3_HEARD_ONSET, as recovered ties and notes
 * this rule added): velocity
 * 100, ended at the first frame (from 2 frames on) where its note posterior stays below 0.4 for
 * SC_MT3_QUIET_FRAMES frames, or at the end of the held frames; the program of the active note nearest
 * in pitch (lowest key on a tie), or the latest program token when none is active. Our models missed
 * notes the acoustic network hears clearly: onset recall 0.57 against precision 0.67 on held-out
 * synthetic clips. A segment's frames (to the next segment's start time, inclusive: a start time
 * rounded down to the shift grid can fall on the segment's last frame) are read once the segment after
 * it is decoded (its onsets near the boundary known), the last segment's at flush; every frame once,
 * while it is held. above <= 0: off. */
#define SC_MT3_RECENT_ONSETS 64 /* a pitch struck at most 16 times a second over the 4 s read */
#define SC_MT3_RECOVERED_QUIET 0.4f
#define SC_MT3_HEARD_ONSET 0.5f
void sc_mt3_decoder_set_onset_recovery(sc_mt3_decoder *d, float above);
void sc_mt3_decoder_reset(sc_mt3_decoder *d);
void sc_mt3_decoder_free(sc_mt3_decoder *d);

/* MT3's segment start time: the first frame's time rounded down to a codec step
 * (t - fmod(t, 1 / steps_per_second), as its postprocess does). */
double sc_mt3_segment_start_time(const sc_mt3_codec *c, double first_frame_time);

/* Decodes one segment's model tokens (stops at the first EOS). `max_time` < 0: no next segment.
 * Notes that end are appended to `out`. Fails only when memory runs out. */
scribe_status sc_mt3_decoder_segment(sc_mt3_decoder *d, const int32_t *tokens, size_t n, double start_time,
                                     double max_time, scribe_notes *out, scribe_error *err);
/* Ends every active note (flush_note_decoding_state) and appends them to `out`. */
scribe_status sc_mt3_decoder_flush(sc_mt3_decoder *d, scribe_notes *out, scribe_error *err);

/* Training targets of one segment: the events with times in [start_time, next_start_time)
 * (`next_start_time` < 0: every later event), where the times are the segments' MT3 start times
 * (sc_mt3_segment_start_time). Notes on the 10 ms grid round-trip exactly through
 * sc_mt3_decoder_segment. Tokens (not EOS-terminated) are written to *tokens (grown with sc_grow). */
scribe_status sc_mt3_notes_to_segment_tokens(const sc_mt3_codec *c, const scribe_notes *notes, double start_time,
                                             double next_start_time, int32_t **tokens, size_t *n, size_t *cap,
                                             scribe_error *err);

#endif
