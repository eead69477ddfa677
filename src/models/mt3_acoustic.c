/* Acoustic posteriorgram rows at MT3 frame times (see mt3_acoustic.h). */
#include "mt3_acoustic.h"

#include <stdlib.h>
#include <string.h>

#include "acoustic.h"
#include "../api/session_internal.h"
#include "../common/common.h"

sc_mt3_ac_timing sc_mt3_ac_timing_of(const sc_acoustic_model *m, int64_t mt3_hop, int64_t mt3_rate) {
    sc_mt3_ac_timing t = {mt3_hop, mt3_rate, m->hop, m->sample_rate,
                          m->window - (int64_t)m->overlap_frames * m->hop, m->frames - 2 * (m->overlap_frames / 2)};
    return t;
}

/* MT3 frame i sits at acoustic sample s = i * mt3_hop * ac_rate / mt3_rate: in window k = s / ac_step,
 * between its rows r and r + 1 (r * ac_hop apart), or past its last row, between that and the
 * next window's first row (ac_step - (ac_keep - 1) * ac_hop samples later: 68). Integer
 * arithmetic scaled by mt3_rate, so the split into row and fraction is exact and the same everywhere. */
static void position(const sc_mt3_ac_timing *t, int64_t i, int64_t *j0, float *frac) {
    const int64_t s = i * t->mt3_hop * t->ac_rate, step = t->ac_step * t->mt3_rate, hop = t->ac_hop * t->mt3_rate;
    const int64_t k = s / step, rem = s - k * step;
    int64_t r = rem / hop;
    if (r >= t->ac_keep - 1) {
        r = t->ac_keep - 1;
        *frac = (float)((double)(rem - r * hop) / (double)(step - r * hop));
    } else {
        *frac = (float)((double)(rem - r * hop) / (double)hop);
    }
    *j0 = k * t->ac_keep + r;
}

int64_t sc_mt3_ac_frames_needed(const sc_mt3_ac_timing *t, int64_t mt3_end) {
    if (mt3_end <= 0) return 0;
    int64_t j0;
    float a;
    position(t, mt3_end - 1, &j0, &a);
    return j0 + 2;
}

int sc_mt3_ac_rows(const sc_mt3_ac_timing *t, const float *notes, const float *onsets, int64_t j_base,
                   int64_t n_held, int64_t n_total, int64_t first, int rows, float *out, int64_t ld) {
    if (rows <= 0) return 0;
    int64_t need = sc_mt3_ac_frames_needed(t, first + rows);
    int64_t last = n_total >= 0 && need > n_total ? n_total : need; /* exclusive */
    int64_t j_first;
    float a0;
    position(t, first, &j_first, &a0);
    if (j_first < last && (j_first < j_base || last > j_base + n_held)) return -1;
    for (int r = 0; r < rows; r++) {
        int64_t j0;
        float a;
        position(t, first + r, &j0, &a);
        float *o = out + (int64_t)r * ld;
        const int P = SC_MT3_AC_PITCHES;
        int in0 = n_total < 0 || j0 < n_total, in1 = n_total < 0 || j0 + 1 < n_total;
        const float *n0 = in0 ? notes + (j0 - j_base) * P : NULL, *n1 = in1 ? notes + (j0 + 1 - j_base) * P : NULL;
        const float *s0 = in0 ? onsets + (j0 - j_base) * P : NULL, *s1 = in1 ? onsets + (j0 + 1 - j_base) * P : NULL;
        for (int p = 0; p < P; p++) {
            float x0 = n0 ? n0[p] : 0.0f, x1 = n1 ? n1[p] : 0.0f;
            float y0 = s0 ? s0[p] : 0.0f, y1 = s1 ? s1[p] : 0.0f;
            o[p] = x0 + a * (x1 - x0);
            o[P + p] = y0 + a * (y1 - y0);
        }
    }
    return 0;
}

scribe_status sc_mt3_ac_whole(const scribe_model *ac, const float *x16, size_t n16, int64_t rows, float **out,
                              int64_t *n_rows, scribe_error *err) {
    *out = NULL;
    *n_rows = 0;
    float *x22 = NULL, *contours = NULL, *notes = NULL, *onsets = NULL;
    size_t n22 = 0;
    int nf = 0;
    scribe_status st = scribe_resample(x16, n16, 16000, 22050, &x22, &n22, err);
    if (!st) st = sc_acoustic_window_rows(ac, x22, n22, &contours, &notes, &onsets, &nf, err);
    scribe_free(x22);
    free(contours);
    if (st) return st;
    const sc_mt3_ac_timing tm = sc_mt3_ac_timing_of(ac->impl, 128, 16000);
    if (rows < 0) {
        rows = (int64_t)((n16 + 127) / 128);
        while (sc_mt3_ac_frames_needed(&tm, rows) - 2 < nf) rows++; /* until frame rows-1 starts at/after nf */
    }
    float *f = sc_malloc_array((size_t)(rows > 0 ? rows : 1), SC_MT3_AC_FEATURES * sizeof *f);
    if (!f) st = sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for %lld feature rows", (long long)rows);
    else if (sc_mt3_ac_rows(&tm, notes, onsets, 0, nf, nf, 0, (int)rows, f, SC_MT3_AC_FEATURES))
        st = sc_fail(err, SCRIBE_ERR_STATE, "acoustic rows missing");
    free(notes);
    free(onsets);
    if (st) {
        free(f);
        return st;
    }
    *out = f;
    *n_rows = rows;
    return SCRIBE_OK;
}
