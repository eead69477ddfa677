/* Basic Pitch note creation; see acoustic_notes.h. Follows toMidi.ts step by step, including its
 * tie-breaking (argMax keeps the last maximal index; the 2-D argmax the first row) so that the
 * notes equal the package's. The melodia loop keeps per-row maxima to avoid rescanning. */
#include "acoustic_notes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NB SC_AC_NOTE_BINS
#define MIDI_OFFSET 21
#define MAX_FREQ_IDX 87
#define FFT_HOP 256.0
#define SAMPLE_RATE 22050.0
#define ANNOT_N_FRAMES 172 /* floor(22050 / 256) * 2 */
#define AUDIO_N_SAMPLES (22050.0 * 2 - 256)

double sc_acoustic_frame_time(int frame) {
    const double window_offset = (FFT_HOP / SAMPLE_RATE) * (ANNOT_N_FRAMES - AUDIO_N_SAMPLES / FFT_HOP) + 0.0018;
    return frame * FFT_HOP / SAMPLE_RATE - window_offset * floor((double)frame / ANNOT_N_FRAMES);
}

static double hz_to_midi(double hz) { return 12.0 * (log2(hz) - log2(440.0)) + 69.0; }
static double midi_to_hz(double m) { return 440.0 * pow(2.0, (m - 69.0) / 12.0); }

/* JS Array.prototype.fill index conversion for an array of NB. */
static int js_index(double x) {
    double t = trunc(x);
    if (t < 0) return t + NB < 0 ? 0 : (int)(t + NB);
    return t > NB ? NB : (int)t;
}

/* argMax of toMidi.ts: the last index holding the maximum. */
static int arg_max_last(const float *v, int n) {
    int m = 0;
    for (int i = 1; i < n; i++)
        if (!(v[m] > v[i])) m = i;
    return m;
}

/* Per-row maxima of `rem` and a max segment tree over them, so that the melodia loop finds the
 * global maximum and its first row in O(log n) instead of scanning every row per iteration
 * (which made note creation quadratic in the file length). */
typedef struct rowmax {
    double *val;
    int *idx;
    double *tree; /* [2 * size]: leaves at size + i (NaN stored as -inf), node = max of children */
    int size;
} rowmax;

static void row_update(const float *rem, int i, rowmax *rm) {
    const float *r = rem + (size_t)i * NB;
    int m = arg_max_last(r, NB);
    rm->idx[i] = m;
    rm->val[i] = r[m];
    int k = rm->size + i;
    rm->tree[k] = isnan(r[m]) ? -INFINITY : r[m];
    for (k >>= 1; k >= 1; k >>= 1) {
        double a = rm->tree[2 * k], b = rm->tree[2 * k + 1];
        rm->tree[k] = a >= b ? a : b;
    }
}

/* First row holding the maximum of the tree. */
static int row_first_max(const rowmax *rm) {
    int k = 1;
    while (k < rm->size) k = rm->tree[2 * k] >= rm->tree[2 * k + 1] ? 2 * k : 2 * k + 1;
    return k - rm->size;
}

/* Appends one note (frames -> seconds as noteFramesToTime; bends as addPitchBendsToNoteEvents). */
static scribe_status emit(int frame0, int start, int dur, int f, double amp, const float *contours,
                          const scribe_session_params *p, scribe_bend *bends, scribe_notes *out, scribe_error *err) {
    scribe_note note = {0};
    note.pitch = f + MIDI_OFFSET;
    const double t0 = sc_acoustic_frame_time(frame0 + start);
    note.onset_s = t0;
    note.offset_s = t0 + (sc_acoustic_frame_time(frame0 + start + dur) - t0);
    double v = nearbyint(127.0 * amp);
    note.velocity = (int32_t)(v < 1 ? 1 : v > 127 ? 127 : v);
    size_t nb = 0;
    if (p->pitch_bends) {
        enum { TOL = 25, WIN = 2 * TOL + 1, NC = SC_AC_CONTOUR_BINS };
        double gauss[WIN];
        for (int i = 0; i < WIN; i++) {
            double d = i - (WIN - 1) / 2.0;
            gauss[i] = exp(-1.0 * d * d / (2.0 * 5.0 * 5.0));
        }
        const double bin = 12.0 * 3.0 * log2(midi_to_hz(note.pitch) / 27.5);
        const int fi = (int)floor(floor(bin + 0.5)); /* Math.round */
        const int fs = fi - TOL > 0 ? fi - TOL : 0;
        const int fe = fi + TOL + 1 < NC ? fi + TOL + 1 : NC;
        const int g0 = TOL - fi > 0 ? TOL - fi : 0;
        const int shift = TOL - g0;
        for (int t = 0; t < dur; t++) {
            const float *row = contours + (size_t)(start + t) * NC;
            int m = 0;
            double best = 0;
            for (int c = 0; c < fe - fs; c++) {
                double w = (double)row[fs + c] * gauss[g0 + c];
                if (c == 0 || !(best > w)) {
                    best = w;
                    m = c;
                }
            }
            bends[nb].time_s = sc_acoustic_frame_time(frame0 + start + t);
            bends[nb].semitones = (float)((m - shift) / 3.0);
            nb++;
        }
    }
    return scribe_notes_push(out, &note, bends, nb, err);
}

/* constrainFrequency's column limits [lo, hi) of the kept pitches. */
static void freq_limits(const scribe_session_params *p, int *lo, int *hi) {
    *lo = 0;
    *hi = NB;
    if (p->max_frequency_hz > 0) *hi = js_index(hz_to_midi(p->max_frequency_hz) - MIDI_OFFSET);
    if (p->min_frequency_hz > 0) *lo = js_index(hz_to_midi(p->min_frequency_hz) - MIDI_OFFSET);
}

/* The value getInferredOnsets rescales at row i, column j (frames constrained). */
static double frame_rise(const float *frames, int frame0, int i, int j, int lo, int hi) {
    if (frame0 + i < 2 || j < lo || j >= hi) return 0;
    double v = frames[(size_t)i * NB + j];
    double d1 = v - frames[(size_t)(i - 1) * NB + j];
    double d2 = v - frames[(size_t)(i - 2) * NB + j];
    double d = d1 < d2 ? d1 : d2;
    return d < 0 ? 0 : d;
}

void sc_acoustic_onset_maxima(const float *frames, const float *onsets, int frame0, int from, int to,
                              const scribe_session_params *p, double *onset_max, double *diff_max) {
    int lo, hi;
    freq_limits(p, &lo, &hi);
    for (int i = from; i < to; i++)
        for (int j = lo; j < hi; j++) {
            *onset_max = fmax(*onset_max, onsets[(size_t)i * NB + j]);
            *diff_max = fmax(*diff_max, frame_rise(frames, frame0, i, j, lo, hi));
        }
}

/* getInferredOnsets at row g: max(onsets, onset_max * rise / diff_max) of the constrained
 * posteriorgrams; 0/0 gives NaN as in the JS. */
static void inferred_row(const float *frames, const float *onsets, int frame0, int g, int flo, int fhi,
                         const sc_ac_window *w, const scribe_session_params *p, double *out) {
    for (int j = 0; j < NB; j++) {
        double o = j >= flo && j < fhi ? onsets[(size_t)g * NB + j] : 0.0;
        if (p->infer_onsets) {
            double d = w->onset_max * frame_rise(frames, frame0, g, j, flo, fhi) / w->diff_max;
            o = isnan(d) ? d : (o > d ? o : d);
        }
        out[j] = o;
    }
}

scribe_status sc_acoustic_notes(const float *frames, const float *onsets, const float *contours, int n,
                                const scribe_session_params *p, scribe_notes *out, scribe_error *err) {
    double om = 0, dm = 0;
    sc_acoustic_onset_maxima(frames, onsets, 0, 0, n, p, &om, &dm);
    sc_ac_window w = {0, n, 0, n, n, 1, NULL, om, dm};
    return sc_acoustic_notes_window(frames, onsets, contours, &w, p, out, err);
}

/* Zeroes rem cell (i, j) (window rows); logs it when it was nonzero. */
#define ZERO_CELL(i, j)                                                             \
    do {                                                                            \
        float *c_ = rem + (size_t)(i) * NB + (j);                                   \
        if (zlog && *c_ != 0) zlog[n_zlog++] = (i) * NB + (j);                      \
        *c_ = 0;                                                                    \
    } while (0)

scribe_status sc_acoustic_notes_window(const float *frames_in, const float *onsets_in, const float *contours,
                                       const sc_ac_window *w, const scribe_session_params *p, scribe_notes *out,
                                       scribe_error *err) {
    const int frame0 = w->frame0, n_all = w->n_all, begin = w->begin, end = w->end;
    if (begin < 0 || end > n_all || begin > end || w->own_end < begin || w->own_end > end)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "note window [%d, %d) (own to %d) outside %d frames", begin,
                       end, w->own_end, n_all);
    const int n = end - begin;
    if (n <= 0) return sc_ok(err);
    if (!frames_in || !onsets_in || (p->pitch_bends && !contours))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_acoustic_notes: NULL posteriorgram");
    if ((size_t)n * NB >= (size_t)INT32_MAX / 2)
        return sc_fail(err, SCRIBE_ERR_TOO_LARGE, "note window of %d frames is too long", n);
    const int own_n = w->own_end - begin; /* notes starting at window rows below own_n are emitted */
    /* tracking bounds: the package never tracks into the file's last frame nor back to its first */
    const int fwd_lim = w->at_file_end ? n - 1 : n, back_lim = frame0 + begin == 0 ? 0 : -1;
    unsigned char *consumed = w->consumed ? w->consumed + (size_t)begin * NB : NULL;
    const size_t cells = (size_t)n * NB;
    int n_zlog = 0;
    double *inf = sc_malloc_array(3 * (size_t)NB, sizeof(double)); /* inferred onsets of rows g-1, g, g+1 */
    float *rem = sc_malloc_array(cells, sizeof(float));
    int *starts = NULL;
    size_t starts_cap = 0;
    int *zlog = consumed ? sc_malloc_array(3 * (size_t)n + 1, sizeof(int)) : NULL;
    rowmax rm = {sc_malloc_array((size_t)n, sizeof(double)), sc_malloc_array((size_t)n, sizeof(int)), NULL, 1};
    while (rm.size < n) rm.size *= 2;
    rm.tree = sc_malloc_array(2 * (size_t)rm.size, sizeof(double));
    scribe_bend *bends = sc_malloc_array((size_t)n + 1, sizeof(scribe_bend));
    scribe_status st = SCRIBE_OK;
    if (!inf || !rem || (consumed && !zlog) || !rm.val || !rm.idx || !rm.tree || !bends) {
        st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for note creation over %d frames", n);
        goto done;
    }
    const double thresh = p->frame_threshold;
    const int min_len = p->min_note_frames, tol = p->energy_tolerance;
    int flo, fhi;
    freq_limits(p, &flo, &fhi);
    /* constrainFrequency of the frames, read in place (FR) and copied into rem: the float values
     * of the posteriorgram, so comparing them with the double threshold is exact */
#define FR(i, j) ((j) >= flo && (j) < fhi ? (double)frames_in[(size_t)(begin + (i)) * NB + (j)] : 0.0)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < NB; j++)
            rem[(size_t)i * NB + j] = (float)FR(i, j);
    /* cells taken by notes of earlier windows */
    if (consumed)
        for (size_t c = 0; c < cells; c++)
            if (consumed[c]) rem[c] = 0;
    /* argRelMax (order 1, neighbours over the whole file) of the inferred onsets, then threshold:
     * starts in row-major order. Inferred onsets are made three rows at a time (rows g-1 and g+1
     * exist: the inferred onset of row begin-1 needs rows begin-3..begin-1, held for every window
     * but at the file's start; one row is held after every window but the file's last). */
    size_t n_starts = 0;
    double *prev = inf, *cur = inf + NB, *next = inf + 2 * NB;
    if (frame0 + begin > 0) inferred_row(frames_in, onsets_in, frame0, begin - 1, flo, fhi, w, p, prev);
    inferred_row(frames_in, onsets_in, frame0, begin, flo, fhi, w, p, cur);
    for (int i = 0; i < n; i++) {
        const int g = begin + i;
        if (g + 1 < n_all) inferred_row(frames_in, onsets_in, frame0, g + 1, flo, fhi, w, p, next);
        for (int j = 0; j < NB; j++) {
            double v = cur[j];
            int rel = 1;
            if (frame0 + g > 0 && !(v > prev[j])) rel = 0;
            if (g + 1 < n_all && !(v > next[j])) rel = 0;
            if (rel && v > p->onset_threshold) {
                st = sc_grow((void **)&starts, &starts_cap, n_starts + 1, sizeof(int), err);
                if (st) goto done;
                starts[n_starts++] = i * NB + j;
            }
        }
        double *t = prev;
        prev = cur;
        cur = next;
        next = t;
    }

    for (size_t s = n_starts; s-- > 0;) {
        const int start = starts[s] / NB, f = starts[s] % NB;
        if (start >= fwd_lim) continue;
        int i = start + 1, k = 0;
        while (i < fwd_lim && k < tol) {
            if (rem[(size_t)i * NB + f] < thresh) k++;
            else k = 0;
            i++;
        }
        i -= k;
        if (i - start <= min_len) continue;
        const int owned = start < own_n;
        double amp = 0;
        for (int j = start; j < i; j++) {
            if (owned && consumed)
                for (int d = -1; d <= 1; d++)
                    if (f + d >= 0 && f + d <= MAX_FREQ_IDX && rem[(size_t)j * NB + f + d] != 0)
                        consumed[(size_t)j * NB + f + d] = 1;
            rem[(size_t)j * NB + f] = 0;
            if (f < MAX_FREQ_IDX) rem[(size_t)j * NB + f + 1] = 0;
            if (f > 0) rem[(size_t)j * NB + f - 1] = 0;
            amp += FR(j, f);
        }
        amp /= (i - start);
        if (!owned) continue;
        st = emit(frame0, begin + start, i - start, f, amp, contours, p, bends, out, err);
        if (st) goto done;
    }

    if (p->melodia_trick) {
        for (int i = 1; i < 2 * rm.size; i++) rm.tree[i] = -INFINITY; /* padding leaves and their ancestors */
        for (int i = 0; i < n; i++) row_update(rem, i, &rm);
        for (;;) {
            double gmax = rm.tree[1] > 0 ? rm.tree[1] : 0;
            if (!(gmax > thresh)) break;
            /* the 2-D argmax from [0,0]: the first row whose (last-index) maximum strictly beats the
             * running best, i.e. the first row holding gmax, unless rem[0][0] already equals it */
            int bi = 0, bj = 0;
            if (!(rem[0] >= gmax)) {
                bi = row_first_max(&rm);
                bj = rm.idx[bi];
            }
            const int mid = bi, f = bj;
            n_zlog = 0;
            ZERO_CELL(mid, f);
            int i = mid + 1, k = 0;
            while (i < fwd_lim && k < tol) {
                if (rem[(size_t)i * NB + f] < thresh) k++;
                else k = 0;
                ZERO_CELL(i, f);
                if (f < MAX_FREQ_IDX) ZERO_CELL(i, f + 1);
                if (f > 0) ZERO_CELL(i, f - 1);
                row_update(rem, i, &rm);
                i++;
            }
            const int e0 = i - 1 - k;
            i = mid - 1;
            k = 0;
            while (i > back_lim && k < tol) {
                if (rem[(size_t)i * NB + f] < thresh) k++;
                else k = 0;
                ZERO_CELL(i, f);
                if (f < MAX_FREQ_IDX) ZERO_CELL(i, f + 1);
                if (f > 0) ZERO_CELL(i, f - 1);
                row_update(rem, i, &rm);
                i--;
            }
            row_update(rem, mid, &rm);
            const int b0 = i + 1 + k;
            /* a walk belongs to the window holding the note's first frame: only those consume cells
             * for later windows (the others are redone there) */
            const int owned = b0 < own_n;
            if (owned && zlog)
                for (int z = 0; z < n_zlog; z++) consumed[zlog[z]] = 1;
            if (e0 - b0 <= min_len || !owned) continue;
            double amp = 0;
            for (int j = b0; j < e0; j++) amp += FR(j, f);
            amp /= (e0 - b0);
            st = emit(frame0, begin + b0, e0 - b0, f, amp, contours, p, bends, out, err);
            if (st) goto done;
        }
    }
#undef FR
done:
    free(inf);
    free(rem);
    free(starts);
    free(zlog);
    free(rm.val);
    free(rm.idx);
    free(rm.tree);
    free(bends);
    return st ? st : sc_ok(err);
}
