/* Constant-Q transform of Basic Pitch (nnAudio CQT2010v2), see cqt.h.
 * Per octave o (0 = top): reflect-pad the signal by taps/2, take frames every hop>>o samples and
 * multiply them by the [taps x 2*bins] kernel matrix (one sc_matmul, frames read in place with
 * lda = stride); then zero-pad by taps/2-1, low-pass and decimate by 2 for the next octave
 * (dot products with stride 2 through sc_matmul_bt). */
#include "cqt.h"

#include <math.h>
#include <string.h>

#include "../kernels/kernels.h"

void sc_cqt_lowpass_poly(const float *lowpass, int taps, float *poly) {
    const int P = SC_CQT_PHASES, K2 = taps + 2 * (P - 1);
    for (int k = 0; k < K2; k++)
        for (int q = 0; q < P; q++) {
            int i = k - 2 * q;
            poly[k * P + q] = i >= 0 && i < taps ? lowpass[i] : 0.0f;
        }
}

int sc_cqt_make_groups(sc_cqt *c, float *store) {
    const int B = c->bins_per_octave, G = SC_CQT_GROUP_BINS, W = 2 * B;
    c->n_groups = 0;
    if (B % G != 0 || B / G > SC_CQT_MAX_GROUPS) return 0;
    for (int g = 0; g < B / G; g++) {
        int lo = c->taps, hi = 0;
        for (int k = 0; k < c->taps; k++)
            for (int j = 0; j < G; j++) {
                const float *row = c->kernels + (size_t)k * W;
                if (row[g * G + j] != 0.0f || row[B + g * G + j] != 0.0f) {
                    lo = k < lo ? k : lo;
                    hi = k + 1 > hi ? k + 1 : hi;
                }
            }
        if (hi <= lo) lo = 0, hi = 1;
        sc_cqt_group *gr = &c->groups[g];
        gr->bin0 = g * G;
        gr->nbins = G;
        gr->k0 = lo;
        gr->klen = hi - lo;
        for (int k = 0; k < gr->klen; k++)
            for (int j = 0; j < G; j++) {
                const float *row = c->kernels + (size_t)(lo + k) * W;
                store[(size_t)k * 2 * G + j] = row[g * G + j];
                store[(size_t)k * 2 * G + G + j] = row[B + g * G + j];
            }
        gr->kern = store;
        store += (size_t)gr->klen * 2 * G;
    }
    c->n_groups = B / G;
    return c->n_groups;
}

int sc_cqt_frames(const sc_cqt *c, int n) { return n / c->hop + 1; }

size_t sc_cqt_scratch_floats(const sc_cqt *c, int n) { return (size_t)n + (size_t)c->taps + 16; }

double sc_cqt_run(const sc_cqt *c, const float *x, int n, float *sig, float *sig2, float *tmp, float *out) {
    const int taps = c->taps, B = c->bins_per_octave, half = taps / 2;
    const int frames = sc_cqt_frames(c, n);
    const int total = B * c->octaves, drop = total - c->n_bins;
    double flops = 0;
    const float *cur = x;
    int len = n;
    for (int o = 0; o < c->octaves; o++) {
        const int stride = c->hop >> o;
        /* reflect padding (the edge sample is not repeated) */
        for (int j = 0; j < half; j++) {
            int l = j + 1 < len ? j + 1 : len - 1;
            int r = len - 2 - j >= 0 ? len - 2 - j : 0;
            sig[half - 1 - j] = cur[l];
            sig[half + len + j] = cur[r];
        }
        memcpy(sig + half, cur, (size_t)len * sizeof(float));
        /* frames available in this octave's padded signal */
        int f_here = (len + 2 * half - taps) / stride + 1;
        if (f_here > frames) f_here = frames;
        const int g0 = (c->octaves - 1 - o) * B; /* lowest octave first */
        if (c->n_groups) {
            /* group gi writes [frames][2 * nbins] at tmp + gi * frames * 2 * nbins */
            for (int gi = 0; gi < c->n_groups; gi++) {
                const sc_cqt_group *gr = &c->groups[gi];
                const int w = 2 * gr->nbins;
                sc_matmul(f_here, w, gr->klen, sig + gr->k0, stride, gr->kern, w, tmp + (size_t)gi * frames * w, w, 0);
                flops += 2.0 * f_here * w * gr->klen;
            }
        } else {
            sc_matmul(f_here, 2 * B, taps, sig, stride, c->kernels, 2 * B, tmp, 2 * B, 0);
            flops += 2.0 * f_here * 2 * B * taps;
        }
        for (int f = 0; f < frames; f++) {
            float *row = out + (size_t)f * c->n_bins;
            for (int b = 0; b < B; b++) {
                int g = g0 + b - drop;
                if (g < 0) continue;
                if (f >= f_here) {
                    row[g] = 0.0f;
                    continue;
                }
                float re, im;
                if (c->n_groups) {
                    const int gi = b / SC_CQT_GROUP_BINS, j = b % SC_CQT_GROUP_BINS, nb = c->groups[gi].nbins;
                    const float *t = tmp + (size_t)gi * frames * 2 * nb + (size_t)f * 2 * nb;
                    re = t[j];
                    im = t[nb + j];
                } else {
                    re = tmp[(size_t)f * 2 * B + b];
                    im = tmp[(size_t)f * 2 * B + B + b];
                }
                float s = c->scale[g];
                float a = re * s, q = im * s;
                row[g] = sqrtf(a * a + q * q);
            }
        }
        if (o + 1 == c->octaves) break;
        /* low-pass and decimate: zero pad half-1 on both sides, stride 2, valid */
        const int zp = half - 1;
        memset(sig, 0, (size_t)zp * sizeof(float));
        memcpy(sig + zp, cur, (size_t)len * sizeof(float));
        memset(sig + zp + len, 0, (size_t)zp * sizeof(float));
        int len2 = (len + 2 * zp - taps) / 2 + 1;
        /* y[P r + q] = sum_k sig[2 P r + k] poly[k][q]: rows of A read in place every 2P samples */
        const int P = SC_CQT_PHASES, groups = len2 / P;
        sc_matmul(groups, P, taps + 2 * (P - 1), sig, 2 * P, c->lowpass_poly, P, sig2, P, 0);
        if (groups * P < len2)
            sc_matmul_bt(1, len2 - groups * P, taps, c->lowpass, taps, sig + 2 * groups * P, 2, sig2 + groups * P,
                         len2, 0);
        flops += 2.0 * len2 * taps;
        cur = sig2;
        len = len2;
    }
    return flops;
}
