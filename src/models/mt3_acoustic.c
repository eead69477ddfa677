/* Acoustic posteriorgram rows at MT3 frame times (see mt3_acoustic.h). */
#include "mt3_acoustic.h"

#include <string.h>

/* MT3 frame i sits at acoustic position i * mt3_hop * ac_rate / (mt3_rate * ac_hop): integer
 * arithmetic, so the split into frame and fraction is exact and the same everywhere. */
static void position(const sc_mt3_ac_timing *t, int64_t i, int64_t *j0, float *frac) {
    int64_t num = i * t->mt3_hop * t->ac_rate, den = t->mt3_rate * t->ac_hop;
    *j0 = num / den;
    *frac = (float)((double)(num % den) / (double)den);
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
