/* Streaming band-limited resampler: Kaiser-windowed sinc, polyphase.
 *
 * Output sample n sits at input time t_n = n * in_rate / out_rate exactly (tracked as an integer
 * position and a remainder over L = out_rate / gcd), so the first output corresponds to input
 * time 0 and nothing drifts: the filter delay is compensated by starting with HW zeros of
 * history and by flushing HW zeros at the end. A stream of n input frames gives exactly
 * ceil(n * out_rate / in_rate) output frames, whatever the block sizes fed.
 *
 * Filter: cutoff at 0.95 x the lower Nyquist, transition 0.90..1.00 x the lower Nyquist (so a tone
 * above the new Nyquist is in the stopband and a tone below 0.9 x Nyquist is in the passband),
 * Kaiser design for 100 dB stopband attenuation (beta 10.06). When L <= SC_RS_MAX_EXACT_PHASES
 * every phase is tabulated exactly; otherwise SC_RS_PHASES phases are tabulated and the
 * coefficients interpolated linearly between neighbours (error below -100 dB).
 * Equal rates copy samples through unchanged. process() allocates nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "../kernels/kernels.h"

#define SC_RS_MAX_RATE 768000u
#define SC_RS_PI 3.14159265358979323846
#define SC_RS_MAX_EXACT_PHASES 1024u
#define SC_RS_PHASES 1024u
#define SC_RS_ATTEN_DB 100.0
#define SC_RS_BLOCK 4096
/* Coefficient table limit (floats): refuses absurd ratios such as 768000 -> 1 Hz. */
#define SC_RS_MAX_TABLE (1u << 24)

struct scribe_resampler {
    uint32_t in_rate, out_rate;
    uint32_t L, M;          /* out/g, in/g */
    int identity;
    int taps;               /* 2 * hw */
    int hw;                 /* half width in input samples */
    uint32_t phases;        /* rows of the table (L when exact) */
    int interpolate;        /* coefficients interpolated between rows */
    float *table;           /* (phases + interpolate) rows of `taps` */
    float *buf;             /* input history: absolute index base .. base + len - 1 */
    int cap, len;
    int64_t base;
    int64_t ipos;           /* integer part of the next output's input time */
    uint32_t frac;          /* remainder, in units of 1/L */
    int64_t in_total, out_total;
    int flushed;
};

static uint32_t gcd_u32(uint32_t a, uint32_t b) {
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Zeroth-order modified Bessel function of the first kind (series). */
static double bessel_i0(double x) {
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * k);
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

scribe_status scribe_resampler_init(uint32_t in_rate, uint32_t out_rate, scribe_resampler **out, scribe_error *err) {
    if (!out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resampler_init: out is NULL");
    *out = NULL;
    if (in_rate == 0 || in_rate > SC_RS_MAX_RATE)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "input sample rate %u Hz is out of range (1..%u)", in_rate,
                       SC_RS_MAX_RATE);
    if (out_rate == 0 || out_rate > SC_RS_MAX_RATE)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "output sample rate %u Hz is out of range (1..%u)", out_rate,
                       SC_RS_MAX_RATE);
    scribe_resampler *r = calloc(1, sizeof *r);
    if (!r) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for a resampler");
    uint32_t g = gcd_u32(in_rate, out_rate);
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->L = out_rate / g;
    r->M = in_rate / g;
    r->identity = r->L == r->M;
    if (r->identity) {
        *out = r;
        return sc_ok(err);
    }
    /* Frequencies in cycles per input sample. */
    double nyq = 0.5 * (double)SC_MIN(in_rate, out_rate) / (double)in_rate;
    double fc = 0.95 * nyq, dw = 0.10 * nyq;
    double beta = 0.1102 * (SC_RS_ATTEN_DB - 8.7);
    double n_taps = (SC_RS_ATTEN_DB - 7.95) / (2.285 * 2.0 * SC_RS_PI * dw);
    double hw_d = ceil(n_taps / 2.0) + 1.0;
    r->phases = r->L <= SC_RS_MAX_EXACT_PHASES ? r->L : SC_RS_PHASES;
    r->interpolate = r->L > SC_RS_MAX_EXACT_PHASES;
    double rows = (double)r->phases + r->interpolate;
    if (hw_d * 2.0 * rows > (double)SC_RS_MAX_TABLE || hw_d > 1e7) {
        free(r);
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "resampling %u Hz -> %u Hz needs too long a filter (ratio too extreme)",
                       in_rate, out_rate);
    }
    r->hw = (int)hw_d;
    r->taps = 2 * r->hw;
    r->cap = r->taps + SC_RS_BLOCK;
    r->table = sc_malloc_array((size_t)rows * (size_t)r->taps, sizeof(float));
    r->buf = sc_malloc_array((size_t)r->cap, sizeof(float));
    if (!r->table || !r->buf) {
        int taps = r->taps;
        scribe_resampler_free(r);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for a %d-tap resampling filter", taps);
    }
    /* Row p holds the phase phi = p / phases: coef[j] multiplies input (ipos - hw + 1 + j),
     * whose distance from the output time is d = phi + hw - 1 - j. Each row sums to 1. */
    double half = (double)r->hw;
    double i0b = bessel_i0(beta);
    for (uint32_t p = 0; p < (uint32_t)rows; p++) {
        double phi = (double)p / (double)r->phases;
        float *row = r->table + (size_t)p * r->taps;
        double sum = 0.0;
        for (int j = 0; j < r->taps; j++) {
            double d = phi + half - 1.0 - j;
            double x = 2.0 * fc * d;
            double sinc = fabs(x) < 1e-12 ? 1.0 : sin(SC_RS_PI * x) / (SC_RS_PI * x);
            double u = d / half;
            double w = fabs(u) >= 1.0 ? 0.0 : bessel_i0(beta * sqrt(1.0 - u * u)) / i0b;
            double h = 2.0 * fc * sinc * w;
            row[j] = (float)h;
            sum += h;
        }
        for (int j = 0; j < r->taps; j++) row[j] = (float)(row[j] / sum);
    }
    /* History: hw zeros standing for input indices -hw .. -1. */
    memset(r->buf, 0, (size_t)r->hw * sizeof(float));
    r->len = r->hw;
    r->base = -r->hw;
    *out = r;
    return sc_ok(err);
}

void scribe_resampler_free(scribe_resampler *r) {
    if (!r) return;
    free(r->table);
    free(r->buf);
    free(r);
}

/* Outputs n with t_n < x (x in input samples, integer): ceil(x * L / M), 0 when x <= 0. */
static int64_t outputs_before(const scribe_resampler *r, int64_t x) {
    if (x <= 0) return 0;
    return (x * (int64_t)r->L + r->M - 1) / r->M;
}

size_t scribe_resampler_max_output(const scribe_resampler *r, size_t in_frames) {
    if (!r) return 0;
    if (r->identity) return in_frames;
    int64_t n = outputs_before(r, r->in_total + (int64_t)in_frames - r->hw) - r->out_total;
    return n > 0 ? (size_t)n : 0;
}

/* Produces every output whose input window lies inside the buffer, up to `limit` outputs in total. */
static size_t produce(scribe_resampler *r, float *out, int64_t limit) {
    size_t n = 0;
    const int64_t last = r->base + r->len; /* first absolute index not in the buffer */
    while (r->out_total < limit && r->ipos + r->hw < last) {
        const float *x = r->buf + (r->ipos - r->hw + 1 - r->base);
        float y;
        if (!r->interpolate) {
            y = sc_vec_dot(x, r->table + (size_t)r->frac * r->taps, r->taps);
        } else {
            double pos = (double)r->frac * r->phases / r->L;
            uint32_t p = (uint32_t)pos;
            float w = (float)(pos - p);
            const float *h0 = r->table + (size_t)p * r->taps;
            float y0 = sc_vec_dot(x, h0, r->taps), y1 = sc_vec_dot(x, h0 + r->taps, r->taps);
            y = y0 + w * (y1 - y0);
        }
        out[n++] = y;
        r->out_total++;
        r->frac += r->M;
        r->ipos += r->frac / r->L;
        r->frac %= r->L;
    }
    /* Drop history no output will need again. */
    int64_t keep_from = r->ipos - r->hw + 1;
    if (keep_from > r->base) {
        int drop = (int)SC_MIN(keep_from - r->base, (int64_t)r->len);
        memmove(r->buf, r->buf + drop, (size_t)(r->len - drop) * sizeof(float));
        r->len -= drop;
        r->base += drop;
    }
    return n;
}

/* Appends `n` samples (zeros when in is NULL) and produces outputs, at most `limit` in total. */
static size_t push(scribe_resampler *r, const float *in, size_t n, float *out, int64_t limit) {
    size_t produced = 0;
    while (n > 0) {
        size_t room = (size_t)(r->cap - r->len);
        size_t k = SC_MIN(room, n);
        if (in) {
            memcpy(r->buf + r->len, in, k * sizeof(float));
            in += k;
        } else {
            memset(r->buf + r->len, 0, k * sizeof(float));
        }
        r->len += (int)k;
        n -= k;
        produced += produce(r, out + produced, limit);
    }
    return produced;
}

scribe_status scribe_resampler_process(scribe_resampler *r, const float *in, size_t n, float *out, size_t out_cap,
                                       size_t *out_n, scribe_error *err) {
    if (out_n) *out_n = 0;
    if (!r || !out_n || (!in && n)) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resampler_process: NULL argument");
    if (r->flushed) return sc_fail(err, SCRIBE_ERR_STATE, "resampler already flushed; create a new one for a new stream");
    size_t need = scribe_resampler_max_output(r, n);
    if (need > out_cap)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "output capacity %zu is below the %zu frames this block produces",
                       out_cap, need);
    if (need && !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resampler_process: out is NULL");
    if (r->identity) {
        if (n) memcpy(out, in, n * sizeof(float));
        r->in_total += (int64_t)n;
        r->out_total += (int64_t)n;
        *out_n = n;
        return sc_ok(err);
    }
    *out_n = push(r, in, n, out, INT64_MAX);
    r->in_total += (int64_t)n;
    return sc_ok(err);
}

scribe_status scribe_resampler_flush(scribe_resampler *r, float *out, size_t out_cap, size_t *out_n, scribe_error *err) {
    if (out_n) *out_n = 0;
    if (!r || !out_n) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resampler_flush: NULL argument");
    if (r->flushed) return sc_fail(err, SCRIBE_ERR_STATE, "resampler already flushed");
    if (r->identity) {
        r->flushed = 1;
        return sc_ok(err);
    }
    int64_t total = outputs_before(r, r->in_total);
    int64_t need = total - r->out_total;
    if (need > 0 && (size_t)need > out_cap)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "output capacity %zu is below the %lld flushed frames", out_cap,
                       (long long)need);
    if (need > 0 && !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resampler_flush: out is NULL");
    /* hw zeros past the end complete every window; produce stops at the true stream length. */
    *out_n = need > 0 ? push(r, NULL, (size_t)r->hw + 1, out, total) : 0;
    r->flushed = 1;
    return sc_ok(err);
}

scribe_status scribe_resample(const float *in, size_t n, uint32_t in_rate, uint32_t out_rate, float **out, size_t *out_n,
                              scribe_error *err) {
    if (!out || !out_n || (!in && n)) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "scribe_resample: NULL argument");
    *out = NULL;
    *out_n = 0;
    scribe_resampler *r;
    scribe_status st = scribe_resampler_init(in_rate, out_rate, &r, err);
    if (st) return st;
    size_t cap = scribe_resampler_max_output(r, n);
    size_t total = r->identity ? n : (size_t)outputs_before(r, (int64_t)n);
    cap = SC_MAX(cap, total);
    float *y = sc_malloc_array(cap ? cap : 1, sizeof(float));
    if (!y) {
        scribe_resampler_free(r);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for %zu resampled frames", cap);
    }
    size_t a = 0, b = 0;
    st = scribe_resampler_process(r, in, n, y, cap, &a, err);
    if (!st) st = scribe_resampler_flush(r, y + a, cap - a, &b, err);
    scribe_resampler_free(r);
    if (st) {
        free(y);
        return st;
    }
    *out = y;
    *out_n = a + b;
    return sc_ok(err);
}

size_t scribe_resampler_pending(const scribe_resampler *r) {
    if (!r || r->identity || r->flushed) return 0;
    int64_t n = outputs_before(r, r->in_total) - r->out_total;
    return n > 0 ? (size_t)n : 0;
}
