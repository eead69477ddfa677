/* The acoustic (Basic Pitch) model family behind src/api/backend.h.
 *
 * Windowing exactly as basic-pitch-ts inference.ts: the 22050 Hz signal is preceded by 3840 zeros
 * (half of the 30-frame overlap), cut into windows of 43844 samples every 36164 samples (the last
 * ones zero-padded; a window starts at every hop below the padded length), each window's 172
 * output frames are trimmed by 15 at both ends and concatenated, and the whole is cut to
 * floor(n * 86 / 22050) frames. A window runs as soon as its samples are complete.
 *
 * Notes: the package's note creation runs over the whole file (the melodia trick repeatedly
 * takes the file's strongest remaining cell; inferred onsets are rescaled by the file's largest
 * onset and largest frame rise). By default (stream_notes 0) the session creates the notes at
 * finish: exactly the package's result however the audio was fed, for inputs up to
 * max_pending_seconds (below).
 * With stream_notes 1 (live input) it hands notes out while feeding. Note tracking never crosses a
 * quiet stretch: every scan stops after energy_tolerance frames below the frame threshold. So
 * when the posteriorgram holds a run of 2 * (energy_tolerance + 1) frames with every pitch below
 * the frame threshold, the segment before the run's middle is created on its own (with the rows
 * around it for frame differences and onset peaks) and handed out. The only global input left is
 * the rescaling ratio, taken from the maxima seen so far: when the file's maxima come later, weak
 * inferred onsets in early segments can pass or miss the onset threshold differently. (A check
 * that the notes agree for every ratio the file can still reach, maxima up to 1, almost never
 * passes on real music, so it would stream nothing.) tests/node/acoustic_parity.test.mjs
 * measures the difference against the whole-file notes.
 *
 * Bounded memory (max_pending_seconds, default 300 s, 0 = unlimited): in either mode, when the
 * rows of notes not yet made reach the limit (dense music without quiet runs, or any longer file
 * with stream_notes 0), a forced cut hands out the notes before a frame of low activation (see
 * forced_cuts). The cut's window tracks notes up to `look` frames past the cut; a note belongs to
 * the segment holding its first frame, so a note crossing the cut is made once, whole, by the
 * segment before it (tracked up to `look` frames past the cut; a longer one is ended there and
 * its rest becomes a melodia note of the next segment), and the cells it took are marked in
 * all_used so the next segment starts without them: nothing is lost or made twice. What can
 * differ from the whole-file result near a cut is the order of the greedy steps across it
 * (onset-led notes after the window and melodia notes of higher activation after the cut run
 * later than in the package), and everywhere before the file's maxima are seen, the inferred-onset
 * rescaling as above. tests/native/test_acoustic.c acoustic_pending_limit_bounds_rows_and_keeps_notes
 * counts the differences; docs/robustness.md gives them for long files.
 * Memory: the session keeps the posteriorgrams (440 floats per frame, about 150 KB per second of
 * audio) plus one byte per cell of used marks, for the frames not handed out yet (at most
 * max_pending_seconds of them plus a few seconds); note creation needs about 0.4 KB per frame of
 * its window while it runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/backend.h"
#include "../api/session_internal.h"
#include "../music/acoustic_notes.h"
#include "acoustic.h"

typedef struct ac_session {
    const sc_acoustic_model *m;
    scribe_session_params p;
    sc_acoustic_windower win; /* the network's windowing; its n_audio counts the samples fed */
    float *all_c, *all_n, *all_o; /* frames [frame0, n_frames) of the file */
    unsigned char *all_used;        /* [rows][88] cells taken by notes already handed out */
    size_t n_frames, cap_frames;    /* n_frames: file frames so far; cap_frames: rows allocated */
    int frame0;                     /* file frame of row 0 (rows before it were handed out) */
    int finished;
    int uncut;              /* keep every row the windows give (sc_acoustic_window_rows) */
    int seg_begin;          /* first frame whose notes are not handed out yet */
    int scanned;            /* frames scanned for quiet runs */
    int quiet_run;          /* length of the quiet run ending at `scanned` */
    int max_rows;           /* rows folded into the maxima */
    double onset_max, diff_max;
    int limit;              /* max_pending_seconds in frames (0: unlimited) */
    int look, search;       /* forced cuts: lookahead after the cut, span searched for it */
    int compact_min;        /* rows dropped at once at least */
    size_t cap_bound;       /* rows allocated at most when limited (the arrays may exceed it only
                               if a single step needs more, which the tests check never happens) */
    sc_acoustic_session_stats stats;
} ac_session;

static scribe_status model_init(const sc_weights *w, void **out, scribe_error *err) {
    sc_acoustic_model *m = calloc(1, sizeof *m);
    if (!m) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the acoustic model");
    scribe_status st = sc_acoustic_model_init(w, m, err);
    if (st) {
        free(m);
        return st;
    }
    *out = m;
    return SCRIBE_OK;
}

static void model_free(void *model) {
    sc_acoustic_model_free(model);
    free(model);
}

static uint32_t sample_rate(const void *model) { return (uint32_t)((const sc_acoustic_model *)model)->sample_rate; }

static void describe(const void *model, char *buf, size_t cap) {
    const sc_acoustic_model *m = model;
    snprintf(buf, cap, "acoustic (Basic Pitch CNN): %d Hz, window %d samples / %d frames, CQT %d bins, %lld parameters",
             m->sample_rate, m->window, m->frames, m->cqt_bins, m->n_params);
}

static void session_free(void *session) {
    ac_session *s = session;
    if (!s) return;
    sc_acoustic_windower_free(&s->win);
    free(s->all_c);
    free(s->all_n);
    free(s->all_o);
    free(s->all_used);
    free(s);
}

static scribe_status session_init(const void *model, const scribe_session_params *p, void **out, scribe_error *err) {
    const sc_acoustic_model *m = model;
    if (p->min_note_frames < 0 || p->energy_tolerance < 1)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "min_note_frames %d / energy_tolerance %d out of range",
                       p->min_note_frames, p->energy_tolerance);
    if (!(p->max_pending_seconds == 0 || (p->max_pending_seconds >= 2 && p->max_pending_seconds <= 86400)))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "max_pending_seconds %g is neither 0 (unlimited) nor inside 2..86400",
                       (double)p->max_pending_seconds);
    ac_session *s = calloc(1, sizeof *s);
    if (!s) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for an acoustic session");
    s->m = m;
    s->p = *p;
    s->compact_min = 1024; /* about 12 s */
    if (p->max_pending_seconds > 0) {
        const double fps = floor((double)m->sample_rate / m->hop);
        s->limit = (int)ceil(p->max_pending_seconds * fps);
        s->look = s->limit / 3 < (int)(10 * fps) ? s->limit / 3 : (int)(10 * fps);
        s->search = s->limit / 4 < (int)(2 * fps) ? s->limit / 4 : (int)(2 * fps);
        if (s->compact_min > s->limit / 4) s->compact_min = s->limit / 4;
        /* rows held: < limit pending after a cut, the three rows before it, compaction slack, up to
         * `look` rows ahead of the trim point (usable_frames) and the frames of the windows run
         * before the next cut (one while feeding, three at finish) */
        const int keep = m->frames - m->overlap_frames;
        s->cap_bound = (size_t)s->limit + 3 + (size_t)s->compact_min + (size_t)s->look + 4 * (size_t)keep;
        s->stats.rows_bound = (int)s->cap_bound;
    }
    scribe_status st = sc_acoustic_windower_init(&s->win, m, err);
    if (st) {
        session_free(s);
        return st;
    }
    *out = s;
    return sc_ok(err);
}

/* Runs the next window and appends its kept frames. */
static scribe_status run_window(ac_session *s, sc_session_io *io, scribe_error *err) {
    const sc_acoustic_model *m = s->m;
    sc_acoustic_windower *w = &s->win;
    if (io && io->cancel && *io->cancel) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
    sc_acoustic_windower_run(w);
    const int keep = w->keep;
    const size_t row = s->n_frames - (size_t)s->frame0;
    size_t need = row + (size_t)keep;
    if (need > s->cap_frames) {
        size_t cap = s->cap_frames ? s->cap_frames : 1024;
        while (cap < need) cap *= 2;
        /* bounded: doubling stops at the bound (the arrays are grown one after another, so a
         * realloc briefly adds at most the old contour array: about 1.3 bounds at the last step) */
        if (s->cap_bound && cap > s->cap_bound) cap = need > s->cap_bound ? need : s->cap_bound;
        float *c = sc_realloc_array(s->all_c, cap * m->contour_bins, sizeof(float));
        if (c) s->all_c = c;
        float *nn = sc_realloc_array(s->all_n, cap * m->note_bins, sizeof(float));
        if (nn) s->all_n = nn;
        float *o = sc_realloc_array(s->all_o, cap * m->note_bins, sizeof(float));
        if (o) s->all_o = o;
        unsigned char *u = sc_realloc_array(s->all_used, cap * m->note_bins, 1);
        if (u) s->all_used = u;
        if (!c || !nn || !o || !u) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory keeping %zu frames", cap);
        s->cap_frames = cap;
        if ((int)cap > s->stats.peak_rows_allocated) s->stats.peak_rows_allocated = (int)cap;
    }
    memset(s->all_used + row * m->note_bins, 0, (size_t)keep * m->note_bins);
    memcpy(s->all_c + row * m->contour_bins, w->wc + (size_t)w->trim * m->contour_bins,
           (size_t)keep * m->contour_bins * sizeof(float));
    memcpy(s->all_n + row * m->note_bins, w->wn + (size_t)w->trim * m->note_bins,
           (size_t)keep * m->note_bins * sizeof(float));
    memcpy(s->all_o + row * m->note_bins, w->wo + (size_t)w->trim * m->note_bins,
           (size_t)keep * m->note_bins * sizeof(float));
    s->n_frames += keep;
    if ((int)(s->n_frames - (size_t)s->frame0) > s->stats.peak_rows_held) s->stats.peak_rows_held = (int)(s->n_frames - (size_t)s->frame0);
    if (io && io->progress) {
        double done = (double)(w->base - w->lead) / m->sample_rate;
        if (done < 0) done = 0;
        if (io->progress(io->progress_user, done)) return sc_fail(err, SCRIBE_ERR_CANCELLED, "transcription cancelled");
    }
    return SCRIBE_OK;
}

/* Frames that certainly survive the final trim to floor(n * 86 / 22050). */
static int known_frames(const ac_session *s) {
    size_t n_orig = (size_t)sc_acoustic_frames_of(s->m, s->win.n_audio);
    return (int)(n_orig < s->n_frames ? n_orig : s->n_frames);
}

/* Frames usable for notes now. The package's windows give 142 frames per 36164 samples (141.04
 * frames at the 86 frames per second it trims to at the end), so the frames run ahead of the trim
 * point by 0.68% of the input (24 s of rows per hour), and those rows would pile up. With a limit,
 * frames more than `look` ahead of it count as known for forced cuts (quiet cuts stay before the
 * trim point). They are cut off only if the input ends before they catch up, so for an input
 * longer than about 50 minutes (0.68% of it beyond the 2 * look that a forced cut's window and
 * lookahead need), notes in its last seconds may come from frames the package drops at the end
 * (real audio: the package leaves its last 0.68% unused). */
static int usable_frames(ac_session *s) {
    const int known = known_frames(s), ahead = (int)s->n_frames - known;
    const int usable = s->limit && ahead > s->look ? (int)s->n_frames - s->look : known;
    if ((int)s->n_frames - usable > s->stats.peak_rows_ahead) s->stats.peak_rows_ahead = (int)s->n_frames - usable;
    return usable;
}

/* Drops the rows before seg_begin - 3 (kept: the onset peak at seg_begin compares with the inferred
 * onset of the row before, a frame difference over the two rows before that). */
static void compact(ac_session *s) {
    const int drop = s->seg_begin - 3 - s->frame0;
    if (drop < s->compact_min || drop < 1) return;
    const size_t rows = s->n_frames - (size_t)s->frame0 - (size_t)drop;
    const int NC = s->m->contour_bins, NBI = s->m->note_bins;
    memmove(s->all_c, s->all_c + (size_t)drop * NC, rows * NC * sizeof(float));
    memmove(s->all_n, s->all_n + (size_t)drop * NBI, rows * NBI * sizeof(float));
    memmove(s->all_o, s->all_o + (size_t)drop * NBI, rows * NBI * sizeof(float));
    memmove(s->all_used, s->all_used + (size_t)drop * NBI, rows * NBI);
    s->frame0 += drop;
}

/* Creates and hands out the notes starting in [seg_begin, own_end), tracking up to `end`
 * (file frames; `rows` of them are held), then starts the next segment at own_end. */
static scribe_status make_notes(ac_session *s, int own_end, int end, int rows, int at_file_end, sc_session_io *io,
                                scribe_error *err) {
    const int f0 = s->frame0;
    sc_ac_window w = {f0, rows - f0, s->seg_begin - f0, own_end - f0, end - f0, at_file_end, s->all_used,
                      s->onset_max, s->diff_max};
    if (end - s->seg_begin > s->stats.peak_window_rows) s->stats.peak_window_rows = end - s->seg_begin;
    scribe_status st = sc_acoustic_notes_window(s->all_n, s->all_o, s->all_c, &w, &s->p, io->done, err);
    if (st) return st;
    if (own_end < end && s->stats.forced_cuts < 64) s->stats.cut_frames[s->stats.forced_cuts] = own_end;
    if (own_end < end) s->stats.forced_cuts++;
    s->seg_begin = own_end;
    return SCRIBE_OK;
}

/* Bounded memory (max_pending_seconds): while `limit` frames or more are pending, the notes
 * before a cut are made anyway. The cut is the frame, among the `search` frames before the last
 * `look` + 1 known ones, whose strongest note activation is lowest (first such frame), so that
 * few notes cross it. The window tracks notes `look` frames past the cut (notes crossing it are
 * made whole, and later notes cut earlier ones short as in the package); only notes starting
 * before the cut are handed out, and the cells their tracking took are marked as used, so the next
 * segment neither makes them again nor loses what they left. */
static scribe_status forced_cuts(ac_session *s, int known, sc_session_io *io, scribe_error *err) {
    const int NBI = s->m->note_bins;
    while (s->limit && known - s->seg_begin >= s->limit) {
        const int hi = known - 1 - s->look; /* the window's last row needs a successor for onset peaks */
        int lo = hi - s->search, cut = hi;
        if (lo < s->seg_begin + 1) lo = s->seg_begin + 1;
        float best = INFINITY;
        for (int r = lo; r <= hi; r++) {
            const float *row = s->all_n + (size_t)(r - s->frame0) * NBI;
            float v = row[0];
            for (int j = 1; j < NBI; j++) v = row[j] > v ? row[j] : v;
            if (v < best) {
                best = v;
                cut = r;
            }
        }
        scribe_status st = make_notes(s, cut, cut + s->look, known, 0, io, err);
        if (st) return st;
    }
    return SCRIBE_OK;
}

/* Hands out the notes before the middle of every complete quiet run (stream_notes, see the top of
 * the file) and before the forced cuts. Frame counters are file frames; rows of all_* are
 * frame - frame0. */
static scribe_status emit_ready(ac_session *s, sc_session_io *io, scribe_error *err) {
    /* quiet cuts only up to the trim point (exactly the package's frames); forced cuts up to the
     * usable frames (usable_frames) */
    const int known = known_frames(s), NBI = s->m->note_bins, f0 = s->frame0;
    const int need = s->p.energy_tolerance + 1;
    const float thr = s->p.frame_threshold;
    sc_acoustic_onset_maxima(s->all_n, s->all_o, f0, s->max_rows - f0, known - f0, &s->p, &s->onset_max,
                             &s->diff_max);
    if (known > s->max_rows) s->max_rows = known;
    if (s->scanned < s->seg_begin) { /* a forced cut went past the trim point: those rows are gone */
        s->scanned = s->seg_begin;
        s->quiet_run = 0;
    }
    for (int r = s->scanned; r < known && s->p.stream_notes; r++) {
        const float *row = s->all_n + (size_t)(r - f0) * NBI;
        int quiet = 1;
        for (int j = 0; j < NBI && quiet; j++) quiet = row[j] < thr;
        s->quiet_run = quiet ? s->quiet_run + 1 : 0;
        if (s->quiet_run >= 2 * need) {
            const int b = r - need + 1; /* rows [b - need, b + need) are quiet */
            if (b > s->seg_begin && b + 1 <= known) {
                scribe_status st = make_notes(s, b, b, known, 0, io, err);
                if (st) return st;
            }
            s->quiet_run = 0;
        }
    }
    if (known > s->scanned) s->scanned = known;
    const int usable = usable_frames(s);
    sc_acoustic_onset_maxima(s->all_n, s->all_o, f0, s->max_rows - f0, usable - f0, &s->p, &s->onset_max,
                             &s->diff_max);
    if (usable > s->max_rows) s->max_rows = usable;
    scribe_status st = forced_cuts(s, usable, io, err);
    if (st) return st;
    compact(s);
    return SCRIBE_OK;
}

static scribe_status session_feed(void *session, const float *x, size_t n, sc_session_io *io, scribe_error *err) {
    ac_session *s = session;
    if (s->finished) return sc_fail(err, SCRIBE_ERR_STATE, "acoustic session already finished");
    while (n > 0) {
        size_t k = sc_acoustic_windower_take(&s->win, x, n);
        x += k;
        n -= k;
        if (sc_acoustic_windower_full(&s->win)) {
            scribe_status st = run_window(s, io, err);
            if (!st && io && io->done) st = emit_ready(s, io, err);
            if (st) return st;
        }
    }
    return sc_ok(err);
}

/* Runs the remaining windows; leaves the trimmed posteriorgrams in s->all_*. */
static scribe_status flush_windows(ac_session *s, sc_session_io *io, scribe_error *err) {
    while (sc_acoustic_windower_more(&s->win)) {
        scribe_status st = run_window(s, io, err);
        if (st) return st;
    }
    s->finished = 1;
    size_t n_orig = (size_t)sc_acoustic_frames_of(s->m, s->win.n_audio);
    if (n_orig < s->n_frames && !s->uncut) s->n_frames = n_orig;
    /* notes may have been made past the trim point (usable_frames): nothing is left to make there */
    if (s->n_frames < (size_t)s->seg_begin) s->n_frames = (size_t)s->seg_begin;
    return SCRIBE_OK;
}

static scribe_status session_finish(void *session, sc_session_io *io, scribe_error *err) {
    ac_session *s = session;
    if (s->finished) return sc_fail(err, SCRIBE_ERR_STATE, "acoustic session already finished");
    scribe_status st = flush_windows(s, io, err);
    if (st) return st;
    const int n = (int)s->n_frames, f0 = s->frame0;
    if (s->max_rows > n) s->max_rows = n; /* cannot happen: only kept rows were folded in */
    sc_acoustic_onset_maxima(s->all_n, s->all_o, f0, s->max_rows - f0, n - f0, &s->p, &s->onset_max, &s->diff_max);
    s->max_rows = n;
    st = forced_cuts(s, n, io, err);
    if (st) return st;
    return make_notes(s, n, n, n, 1, io, err);
}

scribe_status sc_acoustic_session_get_stats(const scribe_session *session, sc_acoustic_session_stats *out,
                                            scribe_error *err) {
    const ac_session *s = sc_session_backend_impl(session, &sc_backend_acoustic);
    if (!s || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_acoustic_session_get_stats: not an acoustic session");
    *out = s->stats;
    out->rows_held = (int)(s->n_frames - (size_t)s->frame0);
    out->rows_allocated = (int)s->cap_frames;
    out->bytes_per_row = (int)((s->m->contour_bins + 2 * s->m->note_bins) * sizeof(float) + s->m->note_bins);
    return sc_ok(err);
}

const sc_backend sc_backend_acoustic = {
    "acoustic", SCRIBE_MODEL_ACOUSTIC, model_init, model_free, sample_rate, describe,
    session_init, session_feed, session_finish, session_free,
};

/* ---------------------------------------------------------------- tests and benchmarks */

static scribe_status posteriorgrams(const scribe_model *model, const float *x, size_t n, int cut, float **contours,
                                    float **notes, float **onsets, int *n_frames, double *stats, scribe_error *err) {
    if (!model || model->backend != &sc_backend_acoustic)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_acoustic_posteriorgrams: not an acoustic model");
    scribe_session_params p = scribe_session_default_params();
    void *impl = NULL;
    scribe_status st = session_init(model->impl, &p, &impl, err);
    if (st) return st;
    ac_session *s = impl;
    s->uncut = !cut;
    st = session_feed(s, x, n, NULL, err);
    if (!st) st = flush_windows(s, NULL, err);
    if (!st) {
        *contours = s->all_c;
        *notes = s->all_n;
        *onsets = s->all_o;
        *n_frames = (int)s->n_frames;
        if (stats) {
            stats[0] = s->win.wk.flops_cqt;
            stats[1] = s->win.wk.flops_conv;
            stats[2] = s->win.wk.sec_cqt;
            stats[3] = s->win.wk.sec_conv;
        }
        s->all_c = s->all_n = s->all_o = NULL;
    }
    session_free(s);
    return st;
}

scribe_status sc_acoustic_posteriorgrams(const scribe_model *model, const float *x, size_t n, float **contours,
                                         float **notes, float **onsets, int *n_frames, double *stats,
                                         scribe_error *err) {
    return posteriorgrams(model, x, n, 1, contours, notes, onsets, n_frames, stats, err);
}

scribe_status sc_acoustic_window_rows(const scribe_model *model, const float *x, size_t n, float **contours,
                                      float **notes, float **onsets, int *n_frames, scribe_error *err) {
    return posteriorgrams(model, x, n, 0, contours, notes, onsets, n_frames, NULL, err);
}
