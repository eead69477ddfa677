/* MT3 log-mel front end (see logmel.h for the exact semantics). */
#include "logmel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kissfft_f64.h"

#define SC_LM_PI 3.14159265358979323846

struct sc_logmel {
    sc_logmel_config cfg;
    uint32_t n_bins;     /* fft_size / 2 + 1 */
    double *window;      /* fft_size */
    /* Sparse filterbank: band b covers bins start[b] .. start[b] + count[b] - 1,
     * weights at weights + offset[b]. */
    uint32_t *start, *count, *offset;
    float *weights;
    struct sc_kfdr_state *fft; /* double precision (see kissfft_f64.c) */
    double *frame;       /* fft_size: windowed frame */
    sc_kfd_cpx *spec;    /* n_bins */
    double *mag;         /* n_bins */
};

sc_logmel_config sc_logmel_default_config(void) {
    sc_logmel_config c = {16000u, 2048u, 128u, 512u, 20.0f, 7600.0f, 1e-5f};
    return c;
}

static double hz_to_mel(double hz) { return 1127.0 * log(1.0 + hz / 700.0); }

void sc_logmel_free(sc_logmel *m) {
    if (!m) return;
    free(m->window);
    free(m->start);
    free(m->count);
    free(m->offset);
    free(m->weights);
    free(m->fft);
    free(m->frame);
    free(m->spec);
    free(m->mag);
    free(m);
}

scribe_status sc_logmel_init(const sc_logmel_config *cfg, sc_logmel **out, scribe_error *err) {
    if (!cfg || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "sc_logmel_init: NULL argument");
    *out = NULL;
    if (cfg->sample_rate == 0 || cfg->sample_rate > 768000u)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel sample rate %u Hz out of range", cfg->sample_rate);
    if (cfg->fft_size < 2 || cfg->fft_size > (1u << 20) || cfg->fft_size % 2)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel FFT size %u must be even, 2..2^20", cfg->fft_size);
    if (cfg->hop == 0 || cfg->hop > cfg->fft_size)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel hop %u must be 1..fft_size (%u)", cfg->hop, cfg->fft_size);
    if (cfg->n_mels == 0 || cfg->n_mels > 4096)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel band count %u out of range 1..4096", cfg->n_mels);
    if (!(cfg->lo_hz >= 0.0f) || !(cfg->lo_hz < cfg->hi_hz) || !(cfg->hi_hz <= 0.5f * (float)cfg->sample_rate))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel band edges %g..%g Hz must satisfy 0 <= lo < hi <= %g",
                       (double)cfg->lo_hz, (double)cfg->hi_hz, 0.5 * cfg->sample_rate);
    if (!(cfg->log_floor > 0.0f))
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "log-mel floor %g must be positive", (double)cfg->log_floor);

    sc_logmel *m = calloc(1, sizeof *m);
    if (!m) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the log-mel state");
    m->cfg = *cfg;
    const uint32_t N = cfg->fft_size, nb = N / 2 + 1, nm = cfg->n_mels;
    m->n_bins = nb;
    m->window = sc_malloc_array(N, sizeof(double));
    m->frame = sc_malloc_array(N, sizeof(double));
    m->spec = sc_malloc_array(nb, sizeof(sc_kfd_cpx));
    m->mag = sc_malloc_array(nb, sizeof(double));
    m->start = sc_calloc_array(nm, sizeof(uint32_t));
    m->count = sc_calloc_array(nm, sizeof(uint32_t));
    m->offset = sc_calloc_array(nm, sizeof(uint32_t));
    double *w = sc_malloc_array((size_t)nb, sizeof(double));
    m->fft = sc_kfdr_alloc((int)N, 0, NULL, NULL);
    if (!m->window || !m->frame || !m->spec || !m->mag || !m->start || !m->count || !m->offset || !w || !m->fft) {
        free(w);
        sc_logmel_free(m);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for a %u-point log-mel state", N);
    }
    /* Periodic Hann (tf.signal.hann_window periodic=True). */
    for (uint32_t i = 0; i < N; i++) m->window[i] = 0.5 - 0.5 * cos(2.0 * SC_LM_PI * i / N);

    /* tf.signal.linear_to_mel_weight_matrix: bin k at k * nyquist / (nb - 1) Hz, bin 0 weighted 0;
     * band edges evenly spaced in mel from lo to hi, n_mels + 2 points. First pass: sizes. */
    const double nyq = 0.5 * cfg->sample_rate;
    const double mlo = hz_to_mel(cfg->lo_hz), mhi = hz_to_mel(cfg->hi_hz);
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        total = 0;
        for (uint32_t b = 0; b < nm; b++) {
            double lower = mlo + (mhi - mlo) * b / (nm + 1);
            double center = mlo + (mhi - mlo) * (b + 1) / (nm + 1);
            double upper = mlo + (mhi - mlo) * (b + 2) / (nm + 1);
            uint32_t first = 0, n = 0;
            for (uint32_t k = 1; k < nb; k++) {
                double mk = hz_to_mel(k * nyq / (nb - 1));
                double lo_s = (mk - lower) / (center - lower), up_s = (upper - mk) / (upper - center);
                double v = fmax(0.0, fmin(lo_s, up_s));
                if (v > 0.0) {
                    if (!n) first = k;
                    w[k] = v;
                    n = k - first + 1;
                }
            }
            if (pass == 1) {
                m->start[b] = first;
                m->count[b] = n;
                m->offset[b] = (uint32_t)total;
                for (uint32_t j = 0; j < n; j++) m->weights[total + j] = (float)w[first + j];
            }
            total += n;
        }
        if (pass == 0) {
            m->weights = sc_malloc_array(total ? total : 1, sizeof(float));
            if (!m->weights) {
                free(w);
                sc_logmel_free(m);
                return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for the mel filterbank");
            }
        }
    }
    free(w);
    *out = m;
    return sc_ok(err);
}

const sc_logmel_config *sc_logmel_get_config(const sc_logmel *m) { return &m->cfg; }

size_t sc_logmel_num_frames(const sc_logmel *m, size_t n) { return (n + m->cfg.hop - 1) / m->cfg.hop; }

/* m->frame holds the raw frame: windows it, transforms, writes the log-mel row. */
static void finish_frame(sc_logmel *m, float *out) {
    const uint32_t N = m->cfg.fft_size;
    for (uint32_t i = 0; i < N; i++) m->frame[i] *= m->window[i];
    sc_kfdr(m->fft, m->frame, m->spec);
    for (uint32_t k = 0; k < m->n_bins; k++) {
        double re = m->spec[k].r, im = m->spec[k].i;
        m->mag[k] = sqrt(re * re + im * im);
    }
    const double floor_v = m->cfg.log_floor;
    for (uint32_t b = 0; b < m->cfg.n_mels; b++) {
        const float *wt = m->weights + m->offset[b];
        const double *mg = m->mag + m->start[b];
        double s = 0.0;
        for (uint32_t j = 0; j < m->count[b]; j++) s += wt[j] * mg[j];
        out[b] = (float)log(s > floor_v ? s : floor_v); /* NaN input also lands on the floor */
    }
}

void sc_logmel_frame(sc_logmel *m, const float *frame, float *out) {
    for (uint32_t i = 0; i < m->cfg.fft_size; i++) m->frame[i] = frame[i];
    finish_frame(m, out);
}

void sc_logmel_compute(sc_logmel *m, const float *samples, size_t n, float *out) {
    const size_t nf = sc_logmel_num_frames(m, n), N = m->cfg.fft_size;
    for (size_t f = 0; f < nf; f++) {
        size_t s0 = f * m->cfg.hop;
        size_t avail = n - s0 < N ? n - s0 : N;
        for (size_t i = 0; i < avail; i++) m->frame[i] = samples[s0 + i];
        for (size_t i = avail; i < N; i++) m->frame[i] = 0.0;
        finish_frame(m, out + f * m->cfg.n_mels);
    }
}

size_t sc_logmel_dense_filterbank(const sc_logmel *m, float *out, size_t cap) {
    size_t need = (size_t)m->n_bins * m->cfg.n_mels;
    if (cap < need) return 0;
    memset(out, 0, need * sizeof(float));
    for (uint32_t b = 0; b < m->cfg.n_mels; b++)
        for (uint32_t j = 0; j < m->count[b]; j++)
            out[(size_t)(m->start[b] + j) * m->cfg.n_mels + b] = m->weights[m->offset[b] + j];
    return need;
}
