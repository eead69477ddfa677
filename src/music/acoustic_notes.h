/* Note creation from Basic Pitch posteriorgrams, exactly as the npm package @spotify/basic-pitch
 * 1.0.1 does it (outputToNotesPoly, addPitchBendsToNoteEvents, noteFramesToTime in toMidi.ts):
 * frequency limits, inferred onsets, onset peak picking, energy tracking with a tolerance,
 * the melodia trick, Gaussian-weighted contour argmax pitch bends, the package's frame-to-time
 * mapping (with its per-window offset correction). Arithmetic in double like the JS. */
#ifndef SCRIBE_ACOUSTIC_NOTES_H
#define SCRIBE_ACOUSTIC_NOTES_H

#include "../common/common.h"

#define SC_AC_NOTE_BINS 88
#define SC_AC_CONTOUR_BINS 264

/* frames, onsets: [n][88]; contours: [n][264] (may be NULL when p->pitch_bends is 0).
 * Appends the notes to `out` in the package's order (onset-led notes from the last onset back,
 * then melodia notes). Settings from `p` (onset/frame thresholds, min_note_frames,
 * infer_onsets, min/max frequency, melodia_trick, pitch_bends, energy_tolerance). */
scribe_status sc_acoustic_notes(const float *frames, const float *onsets, const float *contours, int n,
                                const scribe_session_params *p, scribe_notes *out, scribe_error *err);

/* A note-creation window over rows of a longer posteriorgram (see sc_acoustic_notes_window). */
typedef struct sc_ac_window {
    int frame0;        /* file frame of row 0 of the arrays (times, file-start rules use frame0 + row) */
    int n_all;         /* rows in the arrays */
    int begin;         /* first row of the window */
    int own_end;       /* notes whose first frame is in [begin, own_end) are emitted */
    int end;           /* rows [begin, end) are tracked (own_end..end: lookahead) */
    int at_file_end;   /* end is the file's last frame + 1: tracking stops one row early as in the package */
    unsigned char *consumed; /* NULL, or [n_all][88] cells taken by notes of earlier windows; updated */
    double onset_max, diff_max; /* the inferred-onset rescaling maxima (sc_acoustic_onset_maxima) */
} sc_ac_window;

/* Note creation on rows [begin, end) of a longer posteriorgram, with the given inferred-onset
 * rescaling maxima. Frame differences and onset peaks use the rows around the window (three
 * before unless the file starts there, one after unless it ends there); note tracking stays
 * inside it. Only notes starting before own_end are emitted (the
 * later ones still run, so that they cut the earlier notes short as in the package, and are made
 * again by the next window). Cells marked in `consumed` start at zero; the cells zeroed by the
 * emitted notes' tracking (onset-led notes, and melodia walks whose note starts before own_end,
 * emitted or too short) are marked there, so that the next window (begin = own_end) neither makes
 * them again nor loses them. One window over the whole file (begin 0, own_end = end = n_all,
 * at_file_end 1, the file's maxima) is exactly the package's result; so is a window bounded by
 * quiet stretches (no frame value at or above the frame threshold) of more than energy_tolerance
 * frames on each side (see acoustic_backend.c). */
scribe_status sc_acoustic_notes_window(const float *frames, const float *onsets, const float *contours,
                                       const sc_ac_window *w, const scribe_session_params *p, scribe_notes *out,
                                       scribe_error *err);

/* Raises *onset_max / *diff_max to the maxima of the onsets and of the positive frame rises
 * (frequency-constrained, as getInferredOnsets computes them) over rows [from, to) (rows from-2
 * and from-1 must exist unless frame0 + from < 2). */
void sc_acoustic_onset_maxima(const float *frames, const float *onsets, int frame0, int from, int to,
                              const scribe_session_params *p, double *onset_max, double *diff_max);

/* The package's modelFrameToTime. */
double sc_acoustic_frame_time(int frame);

#endif
