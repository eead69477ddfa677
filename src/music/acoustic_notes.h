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

/* The same on frames [begin, end) of a longer posteriorgram of n_all rows whose row 0 is frame
 * `frame0` of the file (times and the file-start rules use frame0 + row), with the inferred-onset
 * rescaling maxima given (sc_acoustic_onset_maxima over the rows they should cover). Frame
 * differences and onset peaks use the rows around the segment; note tracking stays inside it.
 * Equal to the whole-file result when [begin, end) is bounded by quiet stretches (no frame value
 * at or above the frame threshold) of more than energy_tolerance frames on each side and the
 * maxima equal the file's (see acoustic_backend.c). */
scribe_status sc_acoustic_notes_segment(const float *frames, const float *onsets, const float *contours, int frame0,
                                        int n_all, int begin, int end, double onset_max, double diff_max,
                                        const scribe_session_params *p, scribe_notes *out, scribe_error *err);

/* Raises *onset_max / *diff_max to the maxima of the onsets and of the positive frame rises
 * (frequency-constrained, as getInferredOnsets computes them) over rows [from, to) (rows from-2
 * and from-1 must exist unless frame0 + from < 2). */
void sc_acoustic_onset_maxima(const float *frames, const float *onsets, int frame0, int from, int to,
                              const scribe_session_params *p, double *onset_max, double *diff_max);

/* The package's modelFrameToTime. */
double sc_acoustic_frame_time(int frame);

#endif
