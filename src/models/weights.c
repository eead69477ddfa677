/* Weights file parser: every record is checked against the buffer before anything points into it. */
#include "weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static const char *dtype_name(uint32_t d) {
    switch (d) {
    case SC_DTYPE_F32: return "f32";
    case SC_DTYPE_F16: return "f16";
    case SC_DTYPE_Q8: return "q8";
    }
    return "unknown";
}

/* Bytes a tensor of this dtype and shape must occupy; 0 on overflow. */
static uint64_t expected_bytes(uint32_t dtype, uint64_t numel, uint32_t last_dim) {
    switch (dtype) {
    case SC_DTYPE_F32: return numel * 4;
    case SC_DTYPE_F16: return numel * 2;
    case SC_DTYPE_Q8: return ((numel + 3) & ~(uint64_t)3) + 4ull * last_dim;
    }
    return 0;
}

static int by_name_order(const void *a, const void *b) {
    return strcmp((*(const sc_tensor *const *)a)->name, (*(const sc_tensor *const *)b)->name);
}

scribe_status sc_weights_parse(const void *buf, size_t len, sc_weights *out, scribe_error *err) {
    if (!buf || !out) return sc_fail(err, SCRIBE_ERR_INVALID_ARGUMENT, "weights: NULL argument");
    memset(out, 0, sizeof *out);
    const uint8_t *b = buf;
    if (len < SC_WEIGHTS_HEADER_SIZE)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights file too short (%zu bytes, header needs %u)", len,
                       SC_WEIGHTS_HEADER_SIZE);
    if (memcmp(b, SC_WEIGHTS_MAGIC "\0", 8) != 0)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "not a scribe weights file (magic is not \"SCRIBEW\")");
    uint32_t version = rd32(b + 8), kind = rd32(b + 12), n = rd32(b + 16), hsize = rd32(b + 20);
    if (version != SC_WEIGHTS_VERSION)
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "weights format version %u is not supported (this build reads version %u)",
                       version, SC_WEIGHTS_VERSION);
    if (hsize != SC_WEIGHTS_HEADER_SIZE)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights header size %u, expected %u", hsize, SC_WEIGHTS_HEADER_SIZE);
    if (kind != SCRIBE_MODEL_MT3 && kind != SCRIBE_MODEL_ACOUSTIC)
        return sc_fail(err, SCRIBE_ERR_UNSUPPORTED, "unknown model kind %u in weights file", kind);
    if (n == 0 || n > SC_WEIGHTS_MAX_TENSORS)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights file declares %u tensors (allowed 1..%u)", n, SC_WEIGHTS_MAX_TENSORS);
    if ((uint64_t)n * SC_WEIGHTS_RECORD_SIZE > len - SC_WEIGHTS_HEADER_SIZE)
        return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights file truncated: directory of %u tensors does not fit in %zu bytes", n, len);
    out->version = version;
    out->kind = kind;
    out->n_tensors = n;
    for (int i = 0; i < SC_WEIGHTS_CONFIG_LEN; i++) out->config[i] = (int32_t)rd32(b + 24 + 4 * i);
    memcpy(out->name, b + 280, 63);
    out->name[63] = '\0';
    out->tensors = sc_calloc_array(n, sizeof *out->tensors);
    if (!out->tensors) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory reading %u tensor records", n);

    uint64_t data_start = SC_WEIGHTS_HEADER_SIZE + (uint64_t)n * SC_WEIGHTS_RECORD_SIZE;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = b + SC_WEIGHTS_HEADER_SIZE + (size_t)i * SC_WEIGHTS_RECORD_SIZE;
        sc_tensor *t = &out->tensors[i];
        if (!memchr(r, '\0', 80) || r[0] == '\0') {
            sc_weights_free(out);
            return sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor record %u has an empty or unterminated name", i);
        }
        memcpy(t->name, r, 80);
        t->dtype = rd32(r + 80);
        t->ndim = rd32(r + 84);
        uint64_t off = rd64(r + 104), nb = rd64(r + 112);
        if (t->dtype > SC_DTYPE_Q8 || t->ndim < 1 || t->ndim > 4) {
            scribe_status st = sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s': dtype %u / ndim %u not supported", t->name, t->dtype, t->ndim);
            sc_weights_free(out);
            return st;
        }
        t->numel = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            t->shape[d] = rd32(r + 88 + 4 * d);
            if (t->shape[d] == 0 || t->numel > (UINT64_C(1) << 40) / t->shape[d]) {
                scribe_status st = sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s': dimension %u has invalid size %u", t->name, d, t->shape[d]);
                sc_weights_free(out);
                return st;
            }
            t->numel *= t->shape[d];
        }
        uint64_t want = expected_bytes(t->dtype, t->numel, t->shape[t->ndim - 1]);
        if (nb != want || off % 64 || off < data_start || off > len || nb > len - off) {
            scribe_status st = sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS,
                                       "tensor '%s' (%s, %llu elements) at offset %llu with %llu bytes does not fit the "
                                       "%zu-byte file or its shape (expected %llu bytes, 64-byte aligned)",
                                       t->name, dtype_name(t->dtype), (unsigned long long)t->numel, (unsigned long long)off,
                                       (unsigned long long)nb, len, (unsigned long long)want);
            sc_weights_free(out);
            return st;
        }
        t->data = b + off;
        t->nbytes = nb;
        t->q8_scales = t->dtype == SC_DTYPE_Q8 ? (const float *)(const void *)(b + off + ((t->numel + 3) & ~(uint64_t)3)) : NULL;
    }
    /* Names must be unique. Sorted, so that a file of SC_WEIGHTS_MAX_TENSORS records costs n log n name
       comparisons rather than the n^2 / 2 (5e9) of comparing each with all before it. */
    const sc_tensor **by_name = sc_malloc_array(n, sizeof *by_name);
    if (!by_name) {
        sc_weights_free(out);
        return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory checking %u tensor names", n);
    }
    for (uint32_t i = 0; i < n; i++) by_name[i] = &out->tensors[i];
    qsort(by_name, n, sizeof *by_name, by_name_order);
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0) {
            scribe_status st = sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s' appears twice", by_name[i]->name);
            free(by_name);
            sc_weights_free(out);
            return st;
        }
    free(by_name);
    return SCRIBE_OK;
}

void sc_weights_free(sc_weights *w) {
    if (!w) return;
    free(w->tensors);
    w->tensors = NULL;
    w->n_tensors = 0;
}

const sc_tensor *sc_weights_get(const sc_weights *w, const char *name, uint32_t dtype_mask, uint32_t ndim,
                                const uint32_t *shape, scribe_error *err) {
    for (uint32_t i = 0; i < w->n_tensors; i++) {
        const sc_tensor *t = &w->tensors[i];
        if (strcmp(t->name, name) != 0) continue;
        if (!(dtype_mask & (1u << t->dtype))) {
            sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s' has dtype %s, not accepted here", name, dtype_name(t->dtype));
            return NULL;
        }
        int ok = t->ndim == ndim;
        for (uint32_t d = 0; ok && d < ndim; d++) ok = !shape || !shape[d] || shape[d] == t->shape[d];
        if (!ok) {
            char want[64] = "", got[64] = "";
            size_t a = 0, g = 0;
            for (uint32_t d = 0; d < ndim && a < sizeof want; d++)
                a += (size_t)snprintf(want + a, sizeof want - a, d ? "x%u" : "%u", shape ? shape[d] : 0);
            for (uint32_t d = 0; d < t->ndim && g < sizeof got; d++)
                g += (size_t)snprintf(got + g, sizeof got - g, d ? "x%u" : "%u", t->shape[d]);
            sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "tensor '%s' has shape %s, the configuration needs %s", name, got, want);
            return NULL;
        }
        return t;
    }
    sc_fail(err, SCRIBE_ERR_BAD_WEIGHTS, "weights file has no tensor '%s'", name);
    return NULL;
}

float sc_weights_config_float(const sc_weights *w, int i) {
    union { int32_t i; float f; } u;
    u.i = (i >= 0 && i < SC_WEIGHTS_CONFIG_LEN) ? w->config[i] : 0;
    return u.f;
}

float sc_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3ff;
            bits = sign | exp << 23 | man << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp - 15 + 127) << 23 | man << 13;
    }
    union { uint32_t u; float f; } u = {bits};
    return u.f;
}

void sc_tensor_to_f32(const sc_tensor *t, float *out) {
    if (t->dtype == SC_DTYPE_F32) {
        memcpy(out, t->data, t->numel * 4);
    } else if (t->dtype == SC_DTYPE_F16) {
        const uint8_t *p = t->data;
        for (uint64_t i = 0; i < t->numel; i++) out[i] = sc_half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    } else {
        const int8_t *q = t->data;
        uint32_t cols = t->shape[t->ndim - 1];
        for (uint64_t i = 0; i < t->numel; i++) out[i] = q[i] * t->q8_scales[i % cols];
    }
}
