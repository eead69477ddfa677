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

/* The largest single buffer the engine allocates for a size derived from a weights file's configuration
 * (activations, attention caches, widened or copied weights): 2 GiB, on every platform. Real models stay
 * far below it (MT3's largest buffer, its f32 self-attention cache at batch 64, is 1 GiB). Such sizes are
 * computed in uint64_t and checked against this bound, so a crafted configuration can never wrap a 32-bit
 * size_t (wasm32) into a short buffer; sizes above it are refused (SCRIBE_ERR_TOO_LARGE). */
#define SC_MAX_BUFFER_BYTES (UINT64_C(1) << 31)
#define SC_MAX_BUFFER_TEXT "2 GiB"

/* Whether `count` elements of `size` bytes fit in one buffer: the product, computed without overflow,
 * is at most SC_MAX_BUFFER_BYTES (and SIZE_MAX). Stores the byte count in *bytes (if non-NULL) when it fits. */
int sc_buffer_fits(uint64_t count, size_t size, size_t *bytes);
/* sc_aligned_alloc of `count` elements of `size` bytes; NULL when !sc_buffer_fits(count, size) or out of memory. */
void *sc_aligned_array(uint64_t count, size_t size);

/* Grows *buf (of *cap elements of `size` bytes) to hold at least `need` elements. */
scribe_status sc_grow(void **buf, size_t *cap, size_t need, size_t size, scribe_error *err);

#define SC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
