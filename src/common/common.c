#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *scribe_status_name(scribe_status code) {
    switch (code) {
    case SCRIBE_OK: return "ok";
    case SCRIBE_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case SCRIBE_ERR_OUT_OF_MEMORY: return "out_of_memory";
    case SCRIBE_ERR_BAD_AUDIO: return "bad_audio";
    case SCRIBE_ERR_BAD_WEIGHTS: return "bad_weights";
    case SCRIBE_ERR_BAD_MIDI: return "bad_midi";
    case SCRIBE_ERR_BAD_CSV: return "bad_csv";
    case SCRIBE_ERR_UNSUPPORTED: return "unsupported";
    case SCRIBE_ERR_CANCELLED: return "cancelled";
    case SCRIBE_ERR_STATE: return "bad_state";
    case SCRIBE_ERR_IO: return "io";
    case SCRIBE_ERR_TOO_LARGE: return "too_large";
    }
    return "unknown";
}

scribe_status sc_fail(scribe_error *err, scribe_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

scribe_status sc_ok(scribe_error *err) {
    if (err) {
        err->code = SCRIBE_OK;
        err->message[0] = '\0';
    }
    return SCRIBE_OK;
}

void scribe_free(void *p) { free(p); }

void *sc_malloc_array(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    size_t bytes = count * size;
    return malloc(bytes ? bytes : 1);
}

void *sc_calloc_array(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *sc_realloc_array(void *p, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    size_t bytes = count * size;
    return realloc(p, bytes ? bytes : 1);
}

void *sc_aligned_alloc(size_t bytes) {
    /* Over-allocate and keep the original pointer just before the aligned block. */
    if (bytes > SIZE_MAX - 64 - sizeof(void *)) return NULL;
    unsigned char *raw = malloc(bytes + 64 + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t a = ((uintptr_t)(raw + sizeof(void *)) + 63) & ~(uintptr_t)63;
    ((void **)a)[-1] = raw;
    return (void *)a;
}

int sc_buffer_fits(uint64_t count, size_t size, size_t *bytes) {
    const uint64_t limit = SC_MAX_BUFFER_BYTES < (uint64_t)SIZE_MAX ? SC_MAX_BUFFER_BYTES : (uint64_t)SIZE_MAX;
    if (size && count > limit / size) return 0;
    if (bytes) *bytes = (size_t)(count * size);
    return 1;
}

void *sc_aligned_array(uint64_t count, size_t size) {
    size_t bytes;
    return sc_buffer_fits(count, size, &bytes) ? sc_aligned_alloc(bytes) : NULL;
}

void sc_aligned_free(void *p) {
    if (p) free(((void **)p)[-1]);
}

scribe_status sc_grow(void **buf, size_t *cap, size_t need, size_t size, scribe_error *err) {
    if (need <= *cap) return SCRIBE_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "buffer of %zu elements too large", need);
        n *= 2;
    }
    void *p = sc_realloc_array(*buf, n, size);
    if (!p) return sc_fail(err, SCRIBE_ERR_OUT_OF_MEMORY, "out of memory growing a buffer to %zu elements", n);
    *buf = p;
    *cap = n;
    return SCRIBE_OK;
}
