/* TEMPORARY linear-interpolation stand-in for the resampler API (scribe_resampler_*, scribe_resample)
 * so the acoustic branch links before the resampler branch is merged. The integrator deletes this
 * file at merge. Not band-limited: do not use for accuracy figures. */
#include <stdlib.h>

#include "../common/common.h"

struct scribe_resampler {
    uint32_t in_rate, out_rate;
    double pos;      /* position of the next output in input samples, relative to `prev` */
    float prev;      /* last input sample of the previous block */
    int have_prev;
};

scribe_status scribe_resampler_init(uint32_t in_rate, uint32_t out_rate, scribe_resampler **out, scribe_error *err) {
    if (!out || in_rate == 0 || out_rate == 0)
        return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "resampler rates %u -> %u", in_rate, out_rate);
    scribe_resampler *r = calloc(1, sizeof *r);
    if (!r) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory for a resampler");
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->pos = 1.0; /* first output at input sample 0 (index 1 counting prev) */
    *out = r;
    return sc_ok(err);
}

size_t scribe_resampler_max_output(const scribe_resampler *r, size_t in_frames) {
    return (size_t)((double)(in_frames + 2) * r->out_rate / r->in_rate) + 4;
}

scribe_status scribe_resampler_process(scribe_resampler *r, const float *in, size_t n, float *out, size_t out_cap,
                                       size_t *out_n, scribe_error *err) {
    const double step = (double)r->in_rate / r->out_rate;
    size_t k = 0;
    /* sample j of the extended block: j == 0 is prev, j >= 1 is in[j-1] */
    while (n > 0) {
        double p = r->pos;
        size_t j = (size_t)p;
        if (j + 1 > n) break;
        float a = j == 0 ? (r->have_prev ? r->prev : in[0]) : in[j - 1];
        float b = in[j < n ? j : n - 1];
        if (j >= n) break;
        double fr = p - (double)j;
        if (k >= out_cap) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "resampler output buffer of %zu too small", out_cap);
        out[k++] = (float)(a + (b - a) * fr);
        r->pos += step;
    }
    if (n > 0) {
        r->pos -= (double)n;
        r->prev = in[n - 1];
        r->have_prev = 1;
    }
    *out_n = k;
    return sc_ok(err);
}

scribe_status scribe_resampler_flush(scribe_resampler *r, float *out, size_t out_cap, size_t *out_n, scribe_error *err) {
    *out_n = 0;
    return sc_ok(err);
}

void scribe_resampler_free(scribe_resampler *r) { free(r); }

scribe_status scribe_resample(const float *in, size_t n, uint32_t in_rate, uint32_t out_rate, float **out,
                              size_t *out_n, scribe_error *err) {
    scribe_resampler *r = NULL;
    scribe_status st = scribe_resampler_init(in_rate, out_rate, &r, err);
    if (st) return st;
    size_t cap = scribe_resampler_max_output(r, n);
    float *o = sc_malloc_array(cap, sizeof(float));
    if (!o) {
        scribe_resampler_free(r);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory resampling %zu frames", n);
    }
    st = scribe_resampler_process(r, in, n, o, cap, out_n, err);
    scribe_resampler_free(r);
    if (st) {
        free(o);
        return st;
    }
    *out = o;
    return sc_ok(err);
}
