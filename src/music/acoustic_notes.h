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

/* The package's modelFrameToTime. */
double sc_acoustic_frame_time(int frame);

#endif
