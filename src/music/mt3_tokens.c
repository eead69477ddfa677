/* MT3 tokens <-> notes (see mt3_tokens.h). */
#include "mt3_tokens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS (128 * 128)

scribe_status sc_mt3_decoder_init(sc_mt3_decoder *d, const sc_mt3_codec *codec, scribe_error *err) {
    if (!d || !codec) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_decoder_init: NULL argument");
    memset(d, 0, sizeof *d);
    d->codec = *codec;
    d->active = calloc(NKEYS, 1);
    d->tied = calloc(NKEYS, 1);
    d->onset = calloc(NKEYS, sizeof *d->onset);
    d->onset_velocity = calloc(NKEYS, sizeof *d->onset_velocity);
    d->piece_onset = calloc(NKEYS, sizeof *d->piece_onset);
    d->pending_end = calloc(NKEYS, sizeof *d->pending_end);
    d->pending_slot = calloc(NKEYS, sizeof *d->pending_slot);
    d->pending_keys = calloc(NKEYS, sizeof *d->pending_keys);
    d->gated = calloc(NKEYS, 1);
    d->last_end = calloc(NKEYS, sizeof *d->last_end);
    d->quiet_from = calloc(NKEYS, sizeof *d->quiet_from);
    d->quiet_at = calloc(NKEYS, sizeof *d->quiet_at);
    d->recent_onsets = calloc(128 * SC_MT3_RECENT_ONSETS, sizeof *d->recent_onsets);
    d->recent_next = calloc(128, 1);
    if (!d->last_end || !d->quiet_from || !d->quiet_at || !d->recent_onsets || !d->recent_next || !d->active ||
        !d->tied || !d->onset || !d->onset_velocity || !d->piece_onset || !d->pending_end || !d->pending_slot ||
        !d->pending_keys || !d->gated) {
        sc_mt3_decoder_free(d);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the MT3 token decoder");
    }
    sc_mt3_decoder_reset(d);
    return sc_ok(err);
}

void sc_mt3_decoder_reset(sc_mt3_decoder *d) {
    d->current_time = 0.0;
    d->current_velocity = SC_MT3_DEFAULT_VELOCITY;
    d->current_program = 0;
    d->is_tie_section = 0;
    d->n_active = 0;
    d->invalid_events = 0;
    d->dropped_events = 0;
    memset(d->active, 0, NKEYS);
    memset(d->tied, 0, NKEYS);
    memset(d->gated, 0, NKEYS);
    memset(d->pending_slot, 0, NKEYS * sizeof *d->pending_slot);
    d->n_pending = 0;
    for (int key = 0; key < NKEYS; key++) d->last_end[key] = -1e300;
    for (int i = 0; i < 128 * SC_MT3_RECENT_ONSETS; i++) d->recent_onsets[i] = -1e300;
    memset(d->recent_next, 0, 128);
    d->last_start = -1.0;
}

void sc_mt3_decoder_set_join(sc_mt3_decoder *d, double max_len_s) {
    d->join_len = max_len_s > 0 ? max_len_s + 1e-6 : 0.0;
    d->join_gap = max_len_s > 0 ? 1.0 / d->codec.steps_per_second + 1e-6 : 0.0;
}

void sc_mt3_decoder_set_evidence(sc_mt3_decoder *d, sc_mt3_onset_evidence_fn evidence, void *user) {
    d->evidence = evidence;
    d->evidence_user = user;
}

void sc_mt3_decoder_set_rejoin(sc_mt3_decoder *d, double gap_s, float below) {
    d->rejoin_gap = gap_s > 0 ? gap_s + 1e-6 : 0.0;
    d->rejoin_below = below;
}

void sc_mt3_decoder_set_gate(sc_mt3_decoder *d, float below) { d->gate_below = below > 0 ? below : 0.0f; }

void sc_mt3_decoder_set_tie_rules(sc_mt3_decoder *d, sc_mt3_posterior_fn posterior, void *user, double frame_rate,
                                  int span_frames, float recover_below, float untied_below) {
    d->posterior = posterior;
    d->posterior_user = user;
    d->frame_rate = frame_rate;
    d->tie_span = span_frames;
    d->recover_below = posterior && recover_below > 0 ? recover_below : 0.0f;
    d->untied_below = posterior && untied_below > 0 ? untied_below : 0.0f;
}

void sc_mt3_decoder_set_offset_clip(sc_mt3_decoder *d, float below) {
    d->clip_below = d->posterior && below > 0 ? below : 0.0f;
}

void sc_mt3_decoder_set_onset_recovery(sc_mt3_decoder *d, float above) {
    d->recover_above = d->posterior && above > 0 ? above : 0.0f;
}

static int rejoining(const sc_mt3_decoder *d) { return d->evidence && d->rejoin_gap > 0; }

void sc_mt3_decoder_free(sc_mt3_decoder *d) {
    if (!d) return;
    free(d->active);
    free(d->tied);
    free(d->onset);
    free(d->onset_velocity);
    free(d->piece_onset);
    free(d->pending_end);
    free(d->pending_slot);
    free(d->pending_keys);
    free(d->gated);
    free(d->last_end);
    free(d->quiet_from);
    free(d->quiet_at);
    free(d->recent_onsets);
    free(d->recent_next);
    d->recent_onsets = NULL;
    d->recent_next = NULL;
    d->last_end = d->quiet_at = NULL;
    d->quiet_from = NULL;
    d->active = d->tied = d->gated = NULL;
    d->onset = d->piece_onset = d->pending_end = NULL;
    d->onset_velocity = d->pending_slot = d->pending_keys = NULL;
}

double sc_mt3_segment_start_time(const sc_mt3_codec *c, double t) {
    return t - fmod(t, 1.0 / c->steps_per_second);
}

static scribe_status add_note(scribe_notes *out, double start, double end, int pitch, int velocity, int program,
                              int is_drum, scribe_error *err) {
    if (end < start + SC_MT3_MIN_NOTE_DURATION) end = start + SC_MT3_MIN_NOTE_DURATION;
    scribe_note n = {0};
    n.onset_s = start;
    n.offset_s = end;
    n.pitch = pitch;
    n.velocity = velocity;
    n.program = program;
    n.is_drum = is_drum;
    return scribe_notes_push(out, &n, NULL, 0, err);
}

static int64_t frame_of(const sc_mt3_decoder *d, double t) { return (int64_t)llround(t * d->frame_rate); }

/* The first frame in [from, to) that begins `run` frames of `pitch`'s note posterior below `below` (frames
 * not held count as sounding); -1 when there is none. */
static int64_t first_quiet(const sc_mt3_decoder *d, int pitch, int64_t from, int64_t to, float below, int run) {
    int len = 0;
    for (int64_t f = from; f < to; f++) {
        const float p = d->posterior(d->posterior_user, f, pitch, 1);
        len = p >= 0 && p < below ? len + 1 : 0;
        if (len == run) return f - run + 1;
    }
    return -1;
}

static void remember_onset(sc_mt3_decoder *d, int pitch, double onset) {
    d->recent_onsets[pitch * SC_MT3_RECENT_ONSETS + d->recent_next[pitch]] = onset;
    d->recent_next[pitch] = (unsigned char)((d->recent_next[pitch] + 1) % SC_MT3_RECENT_ONSETS);
}

/* A note (piece) of `key` started at `onset`, with acoustic onset evidence `heard` there: the offset clip
 * reads its posterior from 2 frames later; onset recovery counts the onset when the evidence confirms it
 * (a gated or rejoined onset does not hide a clear acoustic onset a little later). */
static void note_started(sc_mt3_decoder *d, int key, double onset, float heard) {
    d->quiet_from[key] = frame_of(d, onset) + 2;
    d->quiet_at[key] = INFINITY;
    if (heard >= SC_MT3_HEARD_ONSET) remember_onset(d, key % 128, onset);
}

/* Offset clip: reads `key`'s note posterior up to frame `to` (exclusive). A quiet run may straddle two
 * calls: the next one starts again at the last SC_MT3_QUIET_FRAMES - 1 frames read. */
static void read_quiet(sc_mt3_decoder *d, int key, int64_t to) {
    if (d->quiet_at[key] < INFINITY || d->quiet_from[key] >= to) return;
    const int64_t f = first_quiet(d, key % 128, d->quiet_from[key], to, d->clip_below, SC_MT3_QUIET_FRAMES);
    if (f >= 0) d->quiet_at[key] = (double)f / d->frame_rate;
    else if (to - (SC_MT3_QUIET_FRAMES - 1) > d->quiet_from[key]) d->quiet_from[key] = to - (SC_MT3_QUIET_FRAMES - 1);
}

static scribe_status end_active(sc_mt3_decoder *d, int key, double end, scribe_notes *out, scribe_error *err) {
    d->active[key] = 0;
    d->n_active--;
    if (d->clip_below > 0) {
        read_quiet(d, key, frame_of(d, end));
        if (d->quiet_at[key] < end) end = d->quiet_at[key];
    }
    if (end < d->onset[key] + SC_MT3_MIN_NOTE_DURATION) end = d->onset[key] + SC_MT3_MIN_NOTE_DURATION;
    d->last_end[key] = end;
    if (d->gated[key]) { /* dropped by the onset gate */
        d->gated[key] = 0;
        return SCRIBE_OK;
    }
    if (rejoining(d) || (d->join_len > 0 && end - d->piece_onset[key] <= d->join_len)) { /* hold it back */
        d->pending_end[key] = end;
        d->pending_keys[d->n_pending++] = key;
        d->pending_slot[key] = d->n_pending;
        return SCRIBE_OK;
    }
    return add_note(out, d->onset[key], end, key % 128, d->onset_velocity[key], key / 128, 0, err);
}

static void unpend(sc_mt3_decoder *d, int key) {
    int i = d->pending_slot[key] - 1, last = d->pending_keys[--d->n_pending];
    d->pending_keys[i] = last;
    d->pending_slot[last] = i + 1;
    d->pending_slot[key] = 0;
}

static int short_piece(const sc_mt3_decoder *d, int key) {
    return d->join_len > 0 && d->pending_end[key] - d->piece_onset[key] <= d->join_len;
}

/* How long after its end a held-back note may still continue. */
static double hold_for(const sc_mt3_decoder *d, int key) {
    double h = short_piece(d, key) ? d->join_gap : 0.0;
    return rejoining(d) && d->rejoin_gap > h ? d->rejoin_gap : h;
}

static scribe_status emit_pending(sc_mt3_decoder *d, int key, scribe_notes *out, scribe_error *err) {
    scribe_status st = add_note(out, d->onset[key], d->pending_end[key], key % 128, d->onset_velocity[key],
                                key / 128, 0, err);
    if (!st) unpend(d, key);
    return st;
}

/* Emits the held-back notes that can no longer continue at `time` (all when time is infinite). */
static scribe_status release_pending(sc_mt3_decoder *d, double time, scribe_notes *out, scribe_error *err) {
    for (int i = d->n_pending - 1; i >= 0; i--) {
        int key = d->pending_keys[i];
        if (time - d->pending_end[key] <= hold_for(d, key)) continue;
        scribe_status st = emit_pending(d, key, out, err);
        if (st) return st;
    }
    return SCRIBE_OK;
}

/* Whether an onset of held-back `key` at `time`, with acoustic onset evidence `heard`, continues it: a
 * short piece a step later (join), or within the rejoin gap without onset evidence. */
static int continues(sc_mt3_decoder *d, int key, double time, float heard) {
    const double gap = time - d->pending_end[key];
    if (short_piece(d, key) && gap <= d->join_gap) return 1;
    return rejoining(d) && gap <= d->rejoin_gap && heard < d->rejoin_below;
}

static scribe_status emit_pending(sc_mt3_decoder *d, int key, scribe_notes *out, scribe_error *err);

/* Tie recovery (sc_mt3_decoder_set_tie_rules): starts `key` at the latest acoustic onset before the segment
 * start `t`: 1, 0 when there is none, -1 on allocation failure. */
static int recover_tied(sc_mt3_decoder *d, int key, double t, scribe_notes *out, scribe_error *err) {
    const int64_t f0 = frame_of(d, t) - d->tie_span;
    for (int64_t f = frame_of(d, t) + 2; f >= f0; f--) {
        const double on = (double)f / d->frame_rate;
        if (on <= d->last_end[key] + 0.05) return 0;
        if (d->posterior(d->posterior_user, f, key % 128, 0) >= d->recover_below) {
            /* a held-back earlier note of the key ended more than 50 ms before: it does not continue */
            if (d->pending_slot[key] && emit_pending(d, key, out, err)) return -1;
            d->active[key] = 1;
            d->n_active++;
            d->piece_onset[key] = d->onset[key] = on;
            d->onset_velocity[key] = SC_MT3_DEFAULT_VELOCITY;
            d->gated[key] = 0;
            note_started(d, key, on, 1.0f);
            return 1;
        }
    }
    return 0;
}

/* Where an active note the tie section does not continue ends (sc_mt3_decoder_set_tie_rules). */
static double untied_end(const sc_mt3_decoder *d, int key, double t) {
    if (d->untied_below <= 0) return t;
    int64_t from = frame_of(d, d->onset[key]) + 2;
    const int64_t end = frame_of(d, t);
    if (from < end - d->tie_span) from = end - d->tie_span;
    const int64_t f = first_quiet(d, key % 128, from, end, d->untied_below, 2);
    return f >= 0 ? (double)f / d->frame_rate : t;
}

/* decode_note_event: returns 1 when the event is invalid, -1 on allocation failure. */
static int decode_event(sc_mt3_decoder *d, double time, sc_mt3_event ev, scribe_notes *out, scribe_error *err) {
    if (time < d->current_time) return 1;
    d->current_time = time;
    if (d->n_pending && release_pending(d, time, out, err)) return -1;
    switch (ev.type) {
    case SC_MT3_EV_PITCH: {
        int key = d->current_program * 128 + ev.value;
        if (d->is_tie_section) {
            if (d->tied[key]) return 1;
            if (!d->active[key]) {
                int r = d->recover_below > 0 ? recover_tied(d, key, time, out, err) : 0;
                if (r <= 0) return r < 0 ? -1 : 1;
            }
            d->tied[key] = 1;
        } else if (d->current_velocity == 0) {
            if (!d->active[key]) return 1;
            if (end_active(d, key, time, out, err)) return -1;
        } else {
            if (d->active[key] && end_active(d, key, time, out, err)) return -1;
            /* read once: the gate, onset recovery and rejoining all use it */
            const int needs = d->gate_below > 0 || d->recover_above > 0 || (d->pending_slot[key] && rejoining(d));
            const float heard = d->evidence && needs ? d->evidence(d->evidence_user, time, ev.value) : 1.0f;
            if (d->pending_slot[key]) {
                if (continues(d, key, time, heard)) {
                    unpend(d, key);
                    d->active[key] = 1;
                    d->n_active++;
                    d->piece_onset[key] = time;
                    note_started(d, key, time, heard);
                    return 0;
                }
                if (emit_pending(d, key, out, err)) return -1;
            }
            d->active[key] = 1;
            d->n_active++;
            d->piece_onset[key] = time;
            d->onset[key] = time;
            d->onset_velocity[key] = d->current_velocity;
            note_started(d, key, time, heard);
            d->gated[key] = d->evidence && d->gate_below > 0 && heard < d->gate_below;
        }
        return 0;
    }
    case SC_MT3_EV_DRUM:
        if (d->current_velocity == 0) return 1;
        if (add_note(out, time, time + SC_MT3_MIN_NOTE_DURATION, ev.value, d->current_velocity, 0, 1, err)) return -1;
        return 0;
    case SC_MT3_EV_VELOCITY:
        d->current_velocity = sc_mt3_bin_to_velocity(ev.value, d->codec.num_velocity_bins);
        return 0;
    case SC_MT3_EV_PROGRAM:
        d->current_program = ev.value;
        return 0;
    case SC_MT3_EV_TIE:
        if (!d->is_tie_section) return 1;
        for (int key = 0; key < NKEYS && d->n_active > 0; key++) {
            if (d->active[key] && !d->tied[key] && end_active(d, key, untied_end(d, key, d->current_time), out, err))
                return -1;
        }
        d->is_tie_section = 0;
        return 0;
    default:
        return 1;
    }
}

static int has_onset_near(const sc_mt3_decoder *d, int pitch, double t) {
    for (int i = 0; i < SC_MT3_RECENT_ONSETS; i++)
        if (fabs(d->recent_onsets[pitch * SC_MT3_RECENT_ONSETS + i] - t) <= 0.05 + 1e-9) return 1;
    return 0;
}

/* Onset recovery's program: that of the active note nearest in pitch, else the latest program token. */
static int recovered_program(const sc_mt3_decoder *d, int pitch) {
    int best = -1, best_gap = 1 << 30;
    for (int key = 0, seen = 0; key < NKEYS && seen < d->n_active; key++) {
        if (!d->active[key]) continue;
        seen++;
        const int gap = abs(key % 128 - pitch);
        if (gap < best_gap) best_gap = gap, best = key;
    }
    return best >= 0 ? best / 128 : d->current_program;
}

/* Onset recovery over frames [d->recover_from, to) (frames not held are skipped: each frame is read once,
 * while held); notes end by frame `end`. */
static scribe_status recover_onsets(sc_mt3_decoder *d, int64_t to, int64_t end, scribe_notes *out, scribe_error *err) {
    const int64_t from = d->recover_from;
    d->recover_from = to;
    for (int pitch = 0; pitch < 128; pitch++) {
        float before = d->posterior(d->posterior_user, from - 1, pitch, 0);
        float here = d->posterior(d->posterior_user, from, pitch, 0);
        for (int64_t f = from; f < to; f++) {
            const float after = d->posterior(d->posterior_user, f + 1, pitch, 0);
            const double t = (double)f / d->frame_rate;
            if (here >= d->recover_above && here >= before && here > after && !has_onset_near(d, pitch, t)) {
                const int64_t q = first_quiet(d, pitch, f + 2, end, SC_MT3_RECOVERED_QUIET, SC_MT3_QUIET_FRAMES);
                scribe_status st = add_note(out, t, (double)(q >= 0 ? q : end) / d->frame_rate, pitch,
                                            SC_MT3_DEFAULT_VELOCITY, recovered_program(d, pitch), 0, err);
                if (st) return st;
                remember_onset(d, pitch, t); /* a second peak within 50 ms is the same onset */
            }
            before = here;
            here = after;
        }
    }
    return SCRIBE_OK;
}

scribe_status sc_mt3_decoder_segment(sc_mt3_decoder *d, const int32_t *tokens, size_t n, double start_time,
                                     double max_time, scribe_notes *out, scribe_error *err) {
    if (!d || !out || (n && !tokens))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_decoder_segment: NULL argument");
    if (d->clip_below > 0) /* the segment before this one is still held: read it for the offset clip */
        for (int key = 0, seen = 0; key < NKEYS && seen < d->n_active; key++)
            if (d->active[key]) {
                seen++;
                read_quiet(d, key, frame_of(d, start_time));
            }
    if (d->codec.use_ties) {  /* begin_tied_pitches_section */
        memset(d->tied, 0, NKEYS);
        d->is_tie_section = 1;
    }
    /* trim_eos: only the tokens before the first EOS count */
    size_t len = 0;
    while (len < n && tokens[len] != SC_MT3_EOS) len++;
    long long cur_steps = 0;
    double cur_time = start_time;
    const double sps = (double)d->codec.steps_per_second;
    for (size_t i = 0; i < len; i++) {
        sc_mt3_event ev = sc_mt3_codec_decode(&d->codec, tokens[i]);
        if (ev.type == SC_MT3_EV_INVALID || ev.type == SC_MT3_EV_EOS) {
            d->invalid_events++;
            continue;
        }
        if (ev.type == SC_MT3_EV_SHIFT) {
            cur_steps += ev.value;
            cur_time = start_time + (double)cur_steps / sps;
            if (max_time >= 0 && cur_time > max_time) {
                d->dropped_events += len - i;
                break;
            }
        } else {
            cur_steps = 0;
            int r = decode_event(d, cur_time, ev, out, err);
            if (r < 0) return err ? err->code : SCRIBE_ERR_OUT_OF_MEMORY;
            if (r > 0) d->invalid_events++;
        }
    }
    /* onset recovery for the segment before this one, its successor's onsets now decoded */
    if (d->recover_above > 0 && d->last_start >= 0) { /* to the first frame of this segment, inclusive: held */
        const int64_t first = frame_of(d, start_time);
        scribe_status st = recover_onsets(d, first + 1, first + d->tie_span, out, err);
        if (st) return st;
    }
    if (d->last_start < 0) d->recover_from = frame_of(d, start_time);
    d->last_start = start_time;
    return sc_ok(err);
}

scribe_status sc_mt3_decoder_flush(sc_mt3_decoder *d, scribe_notes *out, scribe_error *err) {
    if (!d || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_decoder_flush: NULL argument");
    if (d->recover_above > 0 && d->last_start >= 0) { /* the last segment's onsets */
        const int64_t end = frame_of(d, d->last_start) + d->tie_span;
        scribe_status st = recover_onsets(d, end, end, out, err);
        if (st) return st;
        d->last_start = -1.0;
    }
    for (int key = 0; key < NKEYS; key++)
        if (d->active[key] && d->onset[key] + SC_MT3_MIN_NOTE_DURATION > d->current_time)
            d->current_time = d->onset[key] + SC_MT3_MIN_NOTE_DURATION;
    for (int key = 0; key < NKEYS && d->n_active > 0; key++) {
        if (d->active[key]) {
            scribe_status st = end_active(d, key, d->current_time, out, err);
            if (st) return st;
        }
    }
    scribe_status st = release_pending(d, INFINITY, out, err);
    return st ? st : sc_ok(err);
}

/* ------------------------------------------------------------------ notes -> tokens */

typedef struct enc_event {
    double time;
    size_t order;  /* stable-sort tiebreak */
    int pitch, velocity, program, is_drum;
} enc_event;

static int cmp_note_key(const void *pa, const void *pb) {
    const scribe_note *a = *(const scribe_note *const *)pa, *b = *(const scribe_note *const *)pb;
    if (a->is_drum != b->is_drum) return a->is_drum - b->is_drum;
    if (a->program != b->program) return a->program - b->program;
    if (a->pitch != b->pitch) return a->pitch - b->pitch;
    return a < b ? -1 : a > b;  /* stable */
}

static int cmp_event(const void *pa, const void *pb) {
    const enc_event *a = pa, *b = pb;
    if (a->time < b->time) return -1;
    if (a->time > b->time) return 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static scribe_status push_tok(int32_t **tokens, size_t *n, size_t *cap, int tok, scribe_error *err) {
    if (tok < 0) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note value outside the MT3 vocabulary");
    scribe_status st = sc_grow((void **)tokens, cap, *n + 1, sizeof **tokens, err);
    if (st) return st;
    (*tokens)[(*n)++] = tok;
    return SCRIBE_OK;
}

/* Appends a state token (velocity/program) unless it repeats the current state. */
static scribe_status push_state(int32_t **tokens, size_t *n, size_t *cap, int tok, int *state, scribe_error *err) {
    if (tok == *state) return SCRIBE_OK;
    *state = tok;
    return push_tok(tokens, n, cap, tok, err);
}

scribe_status sc_mt3_notes_to_segment_tokens(const sc_mt3_codec *c, const scribe_notes *notes, double start_time,
                                             double next_start_time, int32_t **tokens, size_t *n, size_t *cap,
                                             scribe_error *err) {
    if (!c || !notes || !tokens || !n || !cap)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_mt3_notes_to_segment_tokens: NULL argument");
    *n = 0;
    const double sps = (double)c->steps_per_second;
    const long long s0 = llrint(start_time * sps);
    const long long s1 = next_start_time >= 0 ? llrint(next_start_time * sps) : -1;
    size_t nn = notes->count;
    const scribe_note **sorted = sc_malloc_array(nn, sizeof *sorted);
    enc_event *ev = sc_malloc_array(2 * nn, sizeof *ev);
    unsigned char *active_bin = calloc(NKEYS, 1); /* velocity bin + 1 of active (program, pitch), 0 = never seen */
    if (!sorted || !ev || !active_bin) {
        free(sorted);
        free(ev);
        free(active_bin);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory encoding %zu notes", nn);
    }
    for (size_t i = 0; i < nn; i++) sorted[i] = &notes->notes[i];
    qsort(sorted, nn, sizeof *sorted, cmp_note_key);
    size_t ne = 0;
    /* offsets (pitched notes) first, then onsets, as note_sequence_to_onsets_and_offsets_and_programs */
    for (size_t i = 0; i < nn; i++) {
        const scribe_note *nt = sorted[i];
        if (nt->is_drum && c->use_drums) continue;
        enc_event e = {nt->offset_s, ne, nt->pitch, 0, c->use_programs ? nt->program : 0, 0};
        ev[ne++] = e;
    }
    for (size_t i = 0; i < nn; i++) {
        const scribe_note *nt = sorted[i];
        int drum = nt->is_drum && c->use_drums;
        enc_event e = {nt->onset_s, ne, nt->pitch, nt->velocity < 1 ? 1 : nt->velocity,
                       c->use_programs && !drum ? nt->program : 0, drum};
        ev[ne++] = e;
    }
    qsort(ev, ne, sizeof *ev, cmp_event);

    scribe_status st = SCRIBE_OK;
    size_t i = 0;
    /* encoding state before the segment: events at steps before s0 */
    for (; i < ne && llrint(ev[i].time * sps) < s0; i++) {
        if (ev[i].is_drum) continue;
        int key = ev[i].program * 128 + ev[i].pitch;
        if (key < 0 || key >= NKEYS) continue;
        active_bin[key] = (unsigned char)(1 + sc_mt3_velocity_to_bin(ev[i].velocity, c->num_velocity_bins));
    }
    int cur_vel = -1, cur_prog = -1;
    if (c->use_ties) {
        for (int prog = 0; prog < 128 && !st; prog++)
            for (int pitch = 0; pitch < 128 && !st; pitch++) {
                if (active_bin[prog * 128 + pitch] > 1) {
                    st = push_state(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_PROGRAM, prog), &cur_prog, err);
                    if (!st) st = push_tok(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_PITCH, pitch), err);
                }
            }
        if (!st) st = push_tok(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_TIE, 0), err);
    }
    long long last_step = s0;
    for (; i < ne && !st; i++) {
        long long step = llrint(ev[i].time * sps);
        if (s1 >= 0 && step >= s1) break;
        if (step > last_step) {
            long long total = step - s0;
            while (total > 0 && !st) {
                long long k = total < c->max_shift_steps ? total : c->max_shift_steps;
                st = push_tok(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_SHIFT, (int)k), err);
                total -= k;
            }
            last_step = step;
        }
        if (st) break;
        const enc_event *e = &ev[i];
        int bin = sc_mt3_velocity_to_bin(e->velocity, c->num_velocity_bins);
        if (e->is_drum) {
            st = push_state(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_VELOCITY, bin), &cur_vel, err);
            if (!st) st = push_tok(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_DRUM, e->pitch), err);
            continue;
        }
        if (c->use_programs)
            st = push_state(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_PROGRAM, e->program), &cur_prog, err);
        if (!st) st = push_state(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_VELOCITY, bin), &cur_vel, err);
        if (!st) st = push_tok(tokens, n, cap, sc_mt3_codec_encode(c, SC_MT3_EV_PITCH, e->pitch), err);
    }
    free(sorted);
    free(ev);
    free(active_bin);
    return st ? st : sc_ok(err);
}
