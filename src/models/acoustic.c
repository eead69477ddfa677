/* Basic Pitch's CNN (see acoustic.h). Activations are NHWC rows [time][width + 2*PAD][channels]
 * with PAD zero columns on both sides that are never written, so every "SAME" convolution is,
 * per output row and kernel row, one sc_matmul whose A rows are read in place from the padded
 * input row (lda = stride * channels): no im2col copy. Single-output-channel layers use
 * sc_matmul_bt (dot products). Nothing is allocated in sc_acoustic_forward. */
#include "acoustic.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../dsp/cqt.h"
#include "../kernels/kernels.h"
#include "../kernels/simd.h"

#define PAD 19 /* >= the widest SAME padding (3x39 kernel: 19) */

static float cfg_float(const int32_t *config, int i) {
    float f;
    memcpy(&f, &config[i], sizeof f);
    return f;
}

/* The block of f32 copies being filled: [p, end). */
typedef struct f32_pool {
    float *p, *end;
} f32_pool;

/* Floats a tensor of `numel` elements takes in the pool (each starts 64-byte aligned). */
static uint64_t pool_floats(uint64_t numel) { return (numel + 15) & ~(uint64_t)15; }

/* `name` is looked up as prefix + name and copied (as f32) into the pool. */
static scribe_status get_f32(const sc_weights *w, const char *prefix, const char *name, uint32_t ndim,
                             const uint32_t *shape, float **dst, f32_pool *pl, scribe_error *err) {
    char full[96];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const sc_tensor *t = sc_weights_get(w, full, (1u << SC_DTYPE_F32) | (1u << SC_DTYPE_F16) | (1u << SC_DTYPE_Q8),
                                        ndim, shape, err);
    if (!t) return err ? err->code : SCRIBE_ERR_BAD_WEIGHTS;
    if (pool_floats(t->numel) > (uint64_t)(pl->end - pl->p)) /* the shapes are exact: cannot happen */
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s' larger than its shape", full);
    sc_tensor_to_f32(t, pl->p);
    *dst = pl->p;
    pl->p += pool_floats(t->numel);
    return SCRIBE_OK;
}

/* Basic Pitch's convolutions: kernel height x width, input and output channels, stride along frequency. */
static const struct conv_spec {
    const char *name;
    int kh, kw, cin, cout, stride_w;
    size_t field; /* offset of its sc_conv_layer in sc_acoustic_model */
} CONVS[] = {
    {"contour1", 3, 39, 8, 8, 1, offsetof(sc_acoustic_model, contour1)},
    {"contour2", 5, 5, 8, 1, 1, offsetof(sc_acoustic_model, contour2)},
    {"note1", 7, 7, 1, 32, 3, offsetof(sc_acoustic_model, note1)},
    {"note2", 7, 3, 32, 1, 1, offsetof(sc_acoustic_model, note2)},
    {"onset1", 5, 5, 8, 32, 3, offsetof(sc_acoustic_model, onset1)},
    {"onset2", 3, 3, 33, 1, 1, offsetof(sc_acoustic_model, onset2)},
};
#define N_CONVS (sizeof CONVS / sizeof CONVS[0])

static scribe_status load_conv(const sc_weights *w, const char *tensor_prefix, const struct conv_spec *cs,
                               sc_conv_layer *l, f32_pool *pl, long long *params, scribe_error *err) {
    char name[80];
    uint32_t ws[4] = {(uint32_t)cs->kh, (uint32_t)cs->kw, (uint32_t)cs->cin, (uint32_t)cs->cout};
    uint32_t bs[1] = {(uint32_t)cs->cout};
    float *wp = NULL, *bp = NULL;
    snprintf(name, sizeof name, "%s.weight", cs->name);
    scribe_status s = get_f32(w, tensor_prefix, name, 4, ws, &wp, pl, err);
    if (s) return s;
    snprintf(name, sizeof name, "%s.bias", cs->name);
    s = get_f32(w, tensor_prefix, name, 1, bs, &bp, pl, err);
    if (s) return s;
    l->kh = cs->kh;
    l->kw = cs->kw;
    l->cin = cs->cin;
    l->cout = cs->cout;
    l->stride_w = cs->stride_w;
    l->w = wp;
    l->b = bp;
    *params += (long long)cs->kh * cs->kw * cs->cin * cs->cout + cs->cout;
    return SCRIBE_OK;
}

scribe_status sc_acoustic_model_init(const sc_weights *w, sc_acoustic_model *m, scribe_error *err) {
    memset(m, 0, sizeof *m);
    if (w->kind != SCRIBE_MODEL_ACOUSTIC)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights kind %u is not acoustic (2)", (unsigned)w->kind);
    return sc_acoustic_model_bind(w->config, w, "", m, err);
}

scribe_status sc_acoustic_model_bind(const int32_t *config, const sc_weights *w, const char *prefix,
                                     sc_acoustic_model *m, scribe_error *err) {
    memset(m, 0, sizeof *m);
    const int32_t *c = config;
    m->sample_rate = c[SC_AC_CFG_SAMPLE_RATE];
    m->hop = c[SC_AC_CFG_HOP];
    m->window = c[SC_AC_CFG_WINDOW];
    m->frames = c[SC_AC_CFG_FRAMES];
    m->overlap_frames = c[SC_AC_CFG_OVERLAP_FRAMES];
    m->cqt_bins = c[SC_AC_CFG_CQT_BINS];
    m->bins_per_octave = c[SC_AC_CFG_BINS_PER_OCTAVE];
    m->octaves = c[SC_AC_CFG_OCTAVES];
    m->taps = c[SC_AC_CFG_CQT_TAPS];
    m->contour_bins = c[SC_AC_CFG_CONTOUR_BINS];
    m->note_bins = c[SC_AC_CFG_NOTE_BINS];
    m->harmonics = c[SC_AC_CFG_HARMONICS];
    m->log_eps = cfg_float(c, SC_AC_CFG_LOG_EPS);
    m->db_scale = cfg_float(c, SC_AC_CFG_DB_SCALE);
    m->bn_scale = cfg_float(c, SC_AC_CFG_BN_SCALE);
    m->bn_offset = cfg_float(c, SC_AC_CFG_BN_OFFSET);
    /* The layer shapes below are Basic Pitch's; the sizes must match them exactly. */
    if (m->sample_rate != 22050 || m->hop != 256 || m->window < 4096 || m->window > (1 << 20) ||
        m->frames != m->window / m->hop + 1 || m->overlap_frames < 0 || 2 * m->overlap_frames >= m->frames ||
        m->bins_per_octave != 36 || m->octaves < 1 || m->octaves > 9 || m->taps != 256 ||
        (m->hop >> (m->octaves - 1)) < 1 || m->cqt_bins < 1 || m->cqt_bins > m->bins_per_octave * m->octaves ||
        m->contour_bins != 264 || m->note_bins != 88 || m->harmonics != 8 || m->cqt_bins < m->contour_bins ||
        !(m->db_scale > 0))
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS,
                       "acoustic config not Basic Pitch's (rate %d hop %d window %d frames %d bins %d/%d/%d taps %d "
                       "contour %d notes %d harmonics %d)",
                       m->sample_rate, m->hop, m->window, m->frames, m->cqt_bins, m->bins_per_octave, m->octaves,
                       m->taps, m->contour_bins, m->note_bins, m->harmonics);
    for (int h = 0; h < m->harmonics; h++) {
        m->shifts[h] = c[SC_AC_CFG_HARMONIC_SHIFT0 + h];
        if (m->shifts[h] <= -m->cqt_bins || m->shifts[h] >= m->cqt_bins)
            return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "harmonic shift %d of channel %d out of range", m->shifts[h], h);
    }
    /* One block for the f32 copies of exactly the tensors loaded below (their shapes follow from the config
       checked above) and the derived tables; other tensors of the file cost nothing. Summed in uint64_t. */
    const uint64_t poly = (uint64_t)(m->taps + 2 * (SC_CQT_PHASES - 1)) * SC_CQT_PHASES + 16,
                   groups = (uint64_t)m->taps * 2 * m->bins_per_octave + 16, split = 2 * (3 * 3 * 33 + 16);
    uint64_t total = pool_floats((uint64_t)m->taps * 2 * m->bins_per_octave) + pool_floats((uint64_t)m->taps) +
                     pool_floats((uint64_t)m->cqt_bins) + poly + groups + split;
    for (size_t i = 0; i < N_CONVS; i++)
        total += pool_floats((uint64_t)CONVS[i].kh * CONVS[i].kw * CONVS[i].cin * CONVS[i].cout) +
                 pool_floats((uint64_t)CONVS[i].cout);
    m->owned = sc_aligned_array(total, sizeof(float));
    if (!m->owned)
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for %llu acoustic weights",
                       (unsigned long long)total);
    m->owned_floats = (size_t)total;
    f32_pool pl = {m->owned, m->owned + total};
    uint32_t ks[2] = {(uint32_t)m->taps, (uint32_t)(2 * m->bins_per_octave)};
    uint32_t ls[1] = {(uint32_t)m->taps};
    uint32_t ss[1] = {(uint32_t)m->cqt_bins};
    scribe_status s;
    if ((s = get_f32(w, prefix, "cqt.kernels", 2, ks, &m->cqt_kernels, &pl, err)) ||
        (s = get_f32(w, prefix, "cqt.lowpass", 1, ls, &m->cqt_lowpass, &pl, err)) ||
        (s = get_f32(w, prefix, "cqt.scale", 1, ss, &m->cqt_scale, &pl, err))) {
        sc_acoustic_model_free(m);
        return s;
    }
    for (size_t i = 0; i < N_CONVS; i++)
        if ((s = load_conv(w, prefix, &CONVS[i], (sc_conv_layer *)(void *)((char *)m + CONVS[i].field), &pl,
                           &m->n_params, err))) {
            sc_acoustic_model_free(m);
            return s;
        }
    float *pool = pl.p;
    /* derived tables, in the same block */
    m->cqt_lowpass_poly = pool;
    sc_cqt_lowpass_poly(m->cqt_lowpass, m->taps, m->cqt_lowpass_poly);
    pool += poly;
    m->cqt_group_store = pool;
    pool += groups;
    /* onset2's weights split by input: channel 0 (notes) and channels 1..32 (onset1) */
    const sc_conv_layer *o2 = &m->onset2;
    const int taps2 = o2->kh * o2->kw;
    float *wn = pool, *wr = pool + taps2 + 16;
    for (int k = 0; k < taps2; k++) {
        wn[k] = o2->w[(size_t)k * o2->cin];
        for (int c = 1; c < o2->cin; c++) wr[(size_t)k * (o2->cin - 1) + c - 1] = o2->w[(size_t)k * o2->cin + c];
    }
    m->onset2_notes = *o2;
    m->onset2_notes.cin = 1;
    m->onset2_notes.w = wn;
    m->onset2_rest = *o2;
    m->onset2_rest.cin = o2->cin - 1;
    m->onset2_rest.w = wr;
    sc_cqt cqt = {m->taps, m->bins_per_octave, m->octaves, m->cqt_bins, m->hop, m->cqt_kernels, m->cqt_lowpass,
                  m->cqt_lowpass_poly, m->cqt_scale, 0, {{0}}};
    m->cqt = cqt;
    sc_cqt_make_groups(&m->cqt, m->cqt_group_store);
    return sc_ok(err);
}

void sc_acoustic_model_free(sc_acoustic_model *m) {
    if (!m) return;
    sc_aligned_free(m->owned);
    m->owned = NULL;
}

/* ------------------------------------------------------------------ buffers */

typedef struct act {
    float *d;
    int T, W, C;
} act;

static size_t act_floats(int T, int W, int C) { return (size_t)T * (size_t)(W + 2 * PAD) * (size_t)C; }
static float *act_at(const act *a, int t, int w) { return a->d + ((size_t)t * (a->W + 2 * PAD) + PAD + w) * a->C; }

scribe_status sc_acoustic_work_init(const sc_acoustic_model *m, sc_acoustic_work *wk, scribe_error *err) {
    memset(wk, 0, sizeof *wk);
    const int T = m->frames, F = m->contour_bins, N = m->note_bins;
    wk->sig = sc_aligned_alloc((m->window + m->taps + 64) * sizeof(float));
    wk->sig2 = sc_aligned_alloc((m->window / 2 + 64) * sizeof(float));
    wk->cqt_out = sc_aligned_alloc((size_t)T * 2 * m->bins_per_octave * sizeof(float));
    wk->spec = sc_aligned_alloc((size_t)T * m->cqt_bins * sizeof(float));
    wk->stack = sc_calloc_array(act_floats(T, F, m->harmonics) + 16, sizeof(float));
    wk->c1 = sc_calloc_array(act_floats(T, F, 8) + 16, sizeof(float));
    wk->n1 = sc_calloc_array(act_floats(T, N, 32) + 16, sizeof(float));
    wk->o1 = sc_calloc_array(act_floats(T, N, 32) + 16, sizeof(float));
    /* col: padded single-channel maps: contours, notes, onsets */
    wk->col_cap = act_floats(T, F, 1) + 2 * act_floats(T, N, 1) + 48;
    wk->col = sc_calloc_array(wk->col_cap, sizeof(float));
    if (!wk->sig || !wk->sig2 || !wk->cqt_out || !wk->spec || !wk->stack || !wk->c1 || !wk->n1 || !wk->o1 ||
        !wk->col) {
        sc_acoustic_work_free(wk);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for acoustic work buffers (%d frames)", T);
    }
    return sc_ok(err);
}

void sc_acoustic_work_free(sc_acoustic_work *wk) {
    if (!wk) return;
    sc_aligned_free(wk->sig);
    sc_aligned_free(wk->sig2);
    sc_aligned_free(wk->cqt_out);
    sc_aligned_free(wk->spec);
    free(wk->stack);
    free(wk->c1);
    free(wk->n1);
    free(wk->o1);
    free(wk->col);
    memset(wk, 0, sizeof *wk);
}

/* ------------------------------------------------------------------ convolution */

enum { ACT_NONE, ACT_RELU, ACT_SIGMOID };

/* TF "SAME": out = ceil(in / stride), padding before = floor(total / 2). */
static int same_out(int in, int s) { return (in + s - 1) / s; }
static int same_pad_before(int in, int k, int s) {
    int out = same_out(in, s);
    int total = (out - 1) * s + k - in;
    return total > 0 ? total / 2 : 0;
}

/* One output channel: o[w] += sum over kernel rows of dot(weights row, input span at w). All kernel
 * rows are summed in the same vector accumulators, reduced once per output. */
static void conv_row_single(const sc_conv_layer *l, const act *in, int t, int ph, int pw, int Wout, float *o) {
    const int T = in->T, K = l->kw * l->cin, lda = l->stride_w * l->cin;
    const float *rows[16], *wts[16];
    int nr = 0;
    for (int dt = 0; dt < l->kh && nr < 16; dt++) {
        int ti = t + dt - ph;
        if (ti < 0 || ti >= T) continue;
        rows[nr] = act_at(in, ti, -pw);
        wts[nr] = l->w + (size_t)dt * K;
        nr++;
    }
    int w = 0;
    /* four outputs at a time share each weight load */
    for (; w + 4 <= Wout; w += 4) {
        sc_vf a0 = sc_vf_zero(), a1 = sc_vf_zero(), a2 = sc_vf_zero(), a3 = sc_vf_zero();
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
        for (int r = 0; r < nr; r++) {
            const float *x = rows[r] + (size_t)w * lda, *k = wts[r];
            int j = 0;
            for (; j + SC_VW <= K; j += SC_VW) {
                const sc_vf kv = sc_vf_load(k + j);
                a0 = sc_vf_fma(sc_vf_load(x + j), kv, a0);
                a1 = sc_vf_fma(sc_vf_load(x + lda + j), kv, a1);
                a2 = sc_vf_fma(sc_vf_load(x + 2 * lda + j), kv, a2);
                a3 = sc_vf_fma(sc_vf_load(x + 3 * lda + j), kv, a3);
            }
            for (; j < K; j++) {
                t0 += x[j] * k[j];
                t1 += x[lda + j] * k[j];
                t2 += x[2 * lda + j] * k[j];
                t3 += x[3 * lda + j] * k[j];
            }
        }
        o[w] += sc_vf_hsum(a0) + t0;
        o[w + 1] += sc_vf_hsum(a1) + t1;
        o[w + 2] += sc_vf_hsum(a2) + t2;
        o[w + 3] += sc_vf_hsum(a3) + t3;
    }
    for (; w < Wout; w++) {
        sc_vf a0 = sc_vf_zero();
        float tail = 0.0f;
        for (int r = 0; r < nr; r++) {
            const float *x = rows[r] + (size_t)w * lda, *k = wts[r];
            int j = 0;
            for (; j + SC_VW <= K; j += SC_VW) a0 = sc_vf_fma(sc_vf_load(x + j), sc_vf_load(k + j), a0);
            for (; j < K; j++) tail += x[j] * k[j];
        }
        o[w] += sc_vf_hsum(a0) + tail;
    }
}

/* Rows [t0, t1) of out channels [ch0, ch0 + cout) of `out` = act(conv(in) [+ conv2(in2)]); the input
 * rows read must have been computed (rows outside [0, T) are the zero padding). l2/in2 (may be
 * NULL): a second single-output layer of the same kernel size over another input, as if the two
 * inputs were concatenated along channels. Returns FLOPs. */
static double conv_same(const sc_conv_layer *l, const act *in, const sc_conv_layer *l2, const act *in2, act *out,
                        int ch0, int activation, int t0, int t1) {
    const int T = in->T, Wout = same_out(in->W, l->stride_w);
    double flops = 0;
    const int ph = same_pad_before(T, l->kh, 1), pw = same_pad_before(in->W, l->kw, l->stride_w);
    const int K = l->kw * l->cin, lda = l->stride_w * l->cin;
    for (int t = t0; t < t1; t++) {
        float *o = act_at(out, t, 0) + ch0;
        const int dense = out->C == l->cout && l->cout % SC_VW == 0; /* the row is one contiguous block */
        if (dense) {
            for (int w = 0; w < Wout; w++) memcpy(o + (size_t)w * l->cout, l->b, (size_t)l->cout * sizeof(float));
        } else {
            for (int w = 0; w < Wout; w++)
                for (int c = 0; c < l->cout; c++) o[(size_t)w * out->C + c] = l->b[c];
        }
        for (int dt = 0; dt < l->kh; dt++) {
            int ti = t + dt - ph;
            if (ti < 0 || ti >= T) continue;
            flops += 2.0 * Wout * K * l->cout;
            if (l->cout > 1)
                sc_matmul(Wout, l->cout, K, act_at(in, ti, -pw), lda, l->w + (size_t)dt * K * l->cout, l->cout, o,
                          out->C, 1);
        }
        if (l->cout == 1) conv_row_single(l, in, t, ph, pw, Wout, o);
        if (l2) {
            conv_row_single(l2, in2, t, ph, pw, Wout, o);
            flops += 2.0 * Wout * l2->kh * l2->kw * l2->cin;
        }
        if (activation == ACT_RELU && dense) {
            const sc_vf zero = sc_vf_zero();
            for (int i = 0; i < Wout * l->cout; i += SC_VW) sc_vf_store(o + i, sc_vf_max(sc_vf_load(o + i), zero));
        } else if (activation == ACT_RELU) {
            for (int w = 0; w < Wout; w++)
                for (int c = 0; c < l->cout; c++) {
                    float *v = o + (size_t)w * out->C + c;
                    *v = *v > 0.0f ? *v : 0.0f;
                }
        } else if (activation == ACT_SIGMOID) {
            for (int w = 0; w < Wout; w++)
                for (int c = 0; c < l->cout; c++) {
                    float *v = o + (size_t)w * out->C + c;
                    *v = 1.0f / (1.0f + expf(-*v));
                }
        }
    }
    return flops;
}

static double now_s(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sc_acoustic_forward(const sc_acoustic_model *m, sc_acoustic_work *wk, const float *audio, float *contours,
                         float *notes, float *onsets) {
    const int T = m->frames, F = m->contour_bins, N = m->note_bins, NB = m->cqt_bins, H = m->harmonics;
    const double t0 = now_s();
    wk->flops_cqt += sc_cqt_run(&m->cqt, audio, m->window, wk->sig, wk->sig2, wk->cqt_out, wk->spec);

    /* log power in dB, min/max normalised over the window, batch norm */
    float *spec = wk->spec;
    const size_t n = (size_t)T * NB;
    float lo = INFINITY;
    for (size_t i = 0; i < n; i++) {
        float p = spec[i] * spec[i] + m->log_eps;
        float v = logf(p) * m->db_scale;
        spec[i] = v;
        lo = v < lo ? v : lo;
    }
    float hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = spec[i] - lo;
        spec[i] = v;
        hi = v > hi ? v : hi;
    }
    for (size_t i = 0; i < n; i++) {
        float v = hi != 0.0f ? spec[i] / hi : 0.0f;
        spec[i] = v * m->bn_scale + m->bn_offset;
    }

    /* harmonic stacking: channel h at bin f reads bin f + shift[h] (zero outside) */
    act stack = {wk->stack, T, F, H};
    for (int t = 0; t < T; t++) {
        const float *row = spec + (size_t)t * NB;
        float *o = act_at(&stack, t, 0);
        for (int h = 0; h < H; h++) {
            const int sh = m->shifts[h];
            const int f0 = SC_MAX(0, -sh), f1 = SC_MIN(F, NB - sh);
            int f = 0;
            for (; f < f0; f++) o[(size_t)f * H + h] = 0.0f;
            for (; f < f1; f++) o[(size_t)f * H + h] = row[f + sh];
            for (; f < F; f++) o[(size_t)f * H + h] = 0.0f;
        }
    }

    const double t1 = now_s();
    act c1 = {wk->c1, T, F, 8};
    act cmap = {wk->col, T, F, 1};
    act nmap = {wk->col + act_floats(T, F, 1) + 16, T, N, 1};
    act n1 = {wk->n1, T, N, 32};
    act o1 = {wk->o1, T, N, 32};
    /* Only frames [trim, T - trim) are kept; each layer computes the rows its consumers read
     * (half its kernel height more per layer, going back from the outputs). */
    const int trim = m->overlap_frames / 2;
    const int r_on2 = m->onset2.kh / 2, r_n2 = m->note2.kh / 2, r_n1 = m->note1.kh / 2, r_c2 = m->contour2.kh / 2;
    const int e_on2 = trim, e_mid = e_on2 - r_on2, e_n1 = e_mid - r_n2, e_c2 = SC_MIN(e_n1 - r_n1, trim),
              e_c1 = e_c2 - r_c2;
#define ROWS(e) SC_MAX((e), 0), SC_MIN(T - (e), T)
    double fl = 0;
    fl += conv_same(&m->contour1, &stack, NULL, NULL, &c1, 0, ACT_RELU, ROWS(e_c1));
    fl += conv_same(&m->contour2, &c1, NULL, NULL, &cmap, 0, ACT_SIGMOID, ROWS(e_c2));
    fl += conv_same(&m->note1, &cmap, NULL, NULL, &n1, 0, ACT_RELU, ROWS(e_n1));
    fl += conv_same(&m->note2, &n1, NULL, NULL, &nmap, 0, ACT_SIGMOID, ROWS(e_mid));
    fl += conv_same(&m->onset1, &stack, NULL, NULL, &o1, 0, ACT_RELU, ROWS(e_mid));
    /* onset2 reads concat([notes, onset1]) (33 channels): two single-output convolutions summed */
    act omap = {nmap.d + act_floats(T, N, 1) + 16, T, N, 1};
    fl += conv_same(&m->onset2_rest, &o1, &m->onset2_notes, &nmap, &omap, 0, ACT_SIGMOID, ROWS(e_on2));
#undef ROWS
    wk->flops_conv += fl;
    const double t2 = now_s();
    wk->sec_cqt += t1 - t0;
    wk->sec_conv += t2 - t1;

    for (int t = trim; t < T - trim; t++) {
        memcpy(contours + (size_t)t * F, act_at(&cmap, t, 0), (size_t)F * sizeof(float));
        memcpy(notes + (size_t)t * N, act_at(&nmap, t, 0), (size_t)N * sizeof(float));
        memcpy(onsets + (size_t)t * N, act_at(&omap, t, 0), (size_t)N * sizeof(float));
    }
}

/* ------------------------------------------------------------------ windowing */

scribe_status sc_acoustic_windower_init(sc_acoustic_windower *w, const sc_acoustic_model *m, scribe_error *err) {
    memset(w, 0, sizeof *w);
    w->m = m;
    w->lead = m->overlap_frames * m->hop / 2;
    w->trim = m->overlap_frames / 2;
    w->step = m->window - m->overlap_frames * m->hop;
    w->keep = m->frames - 2 * w->trim;
    scribe_status st = sc_acoustic_work_init(m, &w->wk, err);
    if (st) return st;
    w->win = calloc((size_t)m->window, sizeof(float));
    w->wc = sc_malloc_array((size_t)m->frames * m->contour_bins, sizeof(float));
    w->wn = sc_malloc_array((size_t)m->frames * m->note_bins, sizeof(float));
    w->wo = sc_malloc_array((size_t)m->frames * m->note_bins, sizeof(float));
    if (!w->win || !w->wc || !w->wn || !w->wo) {
        sc_acoustic_windower_free(w);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for acoustic window buffers");
    }
    w->win_len = w->lead; /* the leading zeros */
    return sc_ok(err);
}

void sc_acoustic_windower_free(sc_acoustic_windower *w) {
    if (!w) return;
    sc_acoustic_work_free(&w->wk);
    free(w->win);
    free(w->wc);
    free(w->wn);
    free(w->wo);
    memset(w, 0, sizeof *w);
}

size_t sc_acoustic_windower_take(sc_acoustic_windower *w, const float *x, size_t n) {
    size_t k = (size_t)(w->m->window - w->win_len);
    if (k > n) k = n;
    memcpy(w->win + w->win_len, x, k * sizeof(float));
    w->win_len += (int)k;
    w->n_audio += (int64_t)k;
    return k;
}

void sc_acoustic_windower_run(sc_acoustic_windower *w) {
    const sc_acoustic_model *m = w->m;
    if (w->win_len < m->window) memset(w->win + w->win_len, 0, (size_t)(m->window - w->win_len) * sizeof(float));
    sc_acoustic_forward(m, &w->wk, w->win, w->wc, w->wn, w->wo);
    w->base += w->step;
    int left = w->win_len - w->step;
    if (left > 0) memmove(w->win, w->win + w->step, (size_t)left * sizeof(float));
    w->win_len = left > 0 ? left : 0;
}

int64_t sc_acoustic_frames_of(const sc_acoustic_model *m, int64_t n) {
    const double rate = m->sample_rate;
    return (int64_t)floor((double)n * (floor(rate / m->hop) / rate));
}
