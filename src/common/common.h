/* Internal helpers shared by every layer: error reporting and checked allocation. */
#ifndef SCRIBE_COMMON_H
#define SCRIBE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "scribe.h"

#if defined(__GNUC__)
#define SC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SC_PRINTF(a, b)
#endif

/* Records `code` and a formatted message in `err` (if non-NULL) and returns `code`. */
scribe_status sc_fail(scribe_error *err, scribe_status code, const char *fmt, ...) SC_PRINTF(3, 4);
/* Clears `err` to SCRIBE_OK; returns SCRIBE_OK. */
scribe_status sc_ok(scribe_error *err);

/* malloc/calloc/realloc that return NULL on size overflow. */
void *sc_malloc_array(size_t count, size_t size);
void *sc_calloc_array(size_t count, size_t size);
void *sc_realloc_array(void *p, size_t count, size_t size);
/* 64-byte aligned allocation for SIMD buffers; release with sc_aligned_free. */
void *sc_aligned_alloc(size_t bytes);
void sc_aligned_free(void *p);

/* Grows *buf (of *cap elements of `size` bytes) to hold at least `need` elements. */
scribe_status sc_grow(void **buf, size_t *cap, size_t need, size_t size, scribe_error *err);

#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
