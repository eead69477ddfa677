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
static int arg_max_last(const double *v, int n) {
    int m = 0;
    for (int i = 1; i < n; i++)
        if (!(v[m] > v[i])) m = i;
    return m;
}

typedef struct rowmax {
    double *val;
    int *idx;
} rowmax;

static void row_update(const double *rem, int i, rowmax *rm) {
    const double *r = rem + (size_t)i * NB;
    int m = arg_max_last(r, NB);
    rm->idx[i] = m;
    rm->val[i] = r[m];
}

/* Appends one note (frames -> seconds as noteFramesToTime; bends as addPitchBendsToNoteEvents). */
static scribe_status emit(int start, int dur, int f, double amp, const float *contours,
                          const scribe_session_params *p, scribe_bend *bends, scribe_notes *out, scribe_error *err) {
    scribe_note note = {0};
    note.pitch = f + MIDI_OFFSET;
    const double t0 = sc_acoustic_frame_time(start);
    note.onset_s = t0;
    note.offset_s = t0 + (sc_acoustic_frame_time(start + dur) - t0);
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
            bends[nb].time_s = sc_acoustic_frame_time(start + t);
            bends[nb].semitones = (float)((m - shift) / 3.0);
            nb++;
        }
    }
    return scribe_notes_push(out, &note, bends, nb, err);
}

scribe_status sc_acoustic_notes(const float *frames_in, const float *onsets_in, const float *contours, int n,
                                const scribe_session_params *p, scribe_notes *out, scribe_error *err) {
    if (n <= 0) return sc_ok(err);
    if (!frames_in || !onsets_in || (p->pitch_bends && !contours))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_acoustic_notes: NULL posteriorgram");
    const size_t cells = (size_t)n * NB;
    double *fr = sc_malloc_array(cells, sizeof(double));
    double *on = sc_malloc_array(cells, sizeof(double));
    double *rem = sc_malloc_array(cells, sizeof(double));
    int *starts = sc_malloc_array(cells, sizeof(int));
    rowmax rm = {sc_malloc_array((size_t)n, sizeof(double)), sc_malloc_array((size_t)n, sizeof(int))};
    scribe_bend *bends = sc_malloc_array((size_t)n + 1, sizeof(scribe_bend));
    scribe_status st = SCRIBE_OK;
    if (!fr || !on || !rem || !starts || !rm.val || !rm.idx || !bends) {
        st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for note creation over %d frames", n);
        goto done;
    }
    for (size_t i = 0; i < cells; i++) {
        fr[i] = frames_in[i];
        on[i] = onsets_in[i];
    }
    const double thresh = p->frame_threshold;
    const int min_len = p->min_note_frames, tol = p->energy_tolerance;

    /* constrainFrequency */
    if (p->max_frequency_hz > 0) {
        int s = js_index(hz_to_midi(p->max_frequency_hz) - MIDI_OFFSET);
        for (int i = 0; i < n; i++)
            for (int j = s; j < NB; j++) on[(size_t)i * NB + j] = fr[(size_t)i * NB + j] = 0;
    }
    if (p->min_frequency_hz > 0) {
        int e = js_index(hz_to_midi(p->min_frequency_hz) - MIDI_OFFSET);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < e; j++) on[(size_t)i * NB + j] = fr[(size_t)i * NB + j] = 0;
    }

    /* getInferredOnsets: max(onsets, rescaled positive frame differences); reuse rem as scratch */
    double *inf = on;
    if (p->infer_onsets) {
        double onset_max = 0, diff_max = 0;
        for (size_t i = 0; i < cells; i++) onset_max = fmax(onset_max, on[i]);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < NB; j++) {
                double v = fr[(size_t)i * NB + j];
                double d1 = v - (i >= 1 ? fr[(size_t)(i - 1) * NB + j] : 0.0);
                double d2 = v - (i >= 2 ? fr[(size_t)(i - 2) * NB + j] : 0.0);
                double d = d1 < d2 ? d1 : d2;
                if (d < 0 || i < 2) d = 0;
                rem[(size_t)i * NB + j] = d;
                diff_max = fmax(diff_max, d);
            }
        for (size_t i = 0; i < cells; i++) {
            double d = onset_max * rem[i] / diff_max; /* 0/0 = NaN as in the JS */
            on[i] = isnan(d) ? d : (on[i] > d ? on[i] : d);
        }
    }

    /* argRelMax (order 1) then threshold: candidate starts in row-major order */
    size_t n_starts = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < NB; j++) {
            double v = inf[(size_t)i * NB + j];
            int rel = 1;
            if (i > 0 && !(v > inf[(size_t)(i - 1) * NB + j])) rel = 0;
            if (i + 1 < n && !(v > inf[(size_t)(i + 1) * NB + j])) rel = 0;
            if (rel && v > p->onset_threshold) starts[n_starts++] = i * NB + j;
        }

    memcpy(rem, fr, cells * sizeof(double));
    for (size_t s = n_starts; s-- > 0;) {
        const int start = starts[s] / NB, f = starts[s] % NB;
        if (start >= n - 1) continue;
        int i = start + 1, k = 0;
        while (i < n - 1 && k < tol) {
            if (rem[(size_t)i * NB + f] < thresh) k++;
            else k = 0;
            i++;
        }
        i -= k;
        if (i - start <= min_len) continue;
        double amp = 0;
        for (int j = start; j < i; j++) {
            rem[(size_t)j * NB + f] = 0;
            if (f < MAX_FREQ_IDX) rem[(size_t)j * NB + f + 1] = 0;
            if (f > 0) rem[(size_t)j * NB + f - 1] = 0;
            amp += fr[(size_t)j * NB + f];
        }
        amp /= (i - start);
        st = emit(start, i - start, f, amp, contours, p, bends, out, err);
        if (st) goto done;
    }

    if (p->melodia_trick) {
        for (int i = 0; i < n; i++) row_update(rem, i, &rm);
        for (;;) {
            double gmax = 0;
            for (int i = 0; i < n; i++) gmax = fmax(gmax, rm.val[i]);
            if (!(gmax > thresh)) break;
            /* first row whose (last-index) maximum strictly beats the running best, from [0,0] */
            int bi = 0, bj = 0;
            for (int i = 0; i < n; i++)
                if (rm.val[i] > rem[(size_t)bi * NB + bj]) {
                    bi = i;
                    bj = rm.idx[i];
                }
            const int mid = bi, f = bj;
            rem[(size_t)mid * NB + f] = 0;
            int i = mid + 1, k = 0;
            while (i < n - 1 && k < tol) {
                double *r = rem + (size_t)i * NB;
                if (r[f] < thresh) k++;
                else k = 0;
                r[f] = 0;
                if (f < MAX_FREQ_IDX) r[f + 1] = 0;
                if (f > 0) r[f - 1] = 0;
                row_update(rem, i, &rm);
                i++;
            }
            const int end = i - 1 - k;
            i = mid - 1;
            k = 0;
            while (i > 0 && k < tol) {
                double *r = rem + (size_t)i * NB;
                if (r[f] < thresh) k++;
                else k = 0;
                r[f] = 0;
                if (f < MAX_FREQ_IDX) r[f + 1] = 0;
                if (f > 0) r[f - 1] = 0;
                row_update(rem, i, &rm);
                i--;
            }
            row_update(rem, mid, &rm);
            const int begin = i + 1 + k;
            if (end - begin <= min_len) continue;
            double amp = 0;
            for (int j = begin; j < end; j++) amp += fr[(size_t)j * NB + f];
            amp /= (end - begin);
            st = emit(begin, end - begin, f, amp, contours, p, bends, out, err);
            if (st) goto done;
        }
    }
done:
    free(fr);
    free(on);
    free(rem);
    free(starts);
    free(rm.val);
    free(rm.idx);
    free(bends);
    return st ? st : sc_ok(err);
}
