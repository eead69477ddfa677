/* Checked allocation helpers (src/common): the per-buffer limit holds whatever the size_t width. */
#include <stdint.h>
#include "test.h"
#include "common/common.h"

TEST(common_buffer_limit_is_checked_without_overflow) {
    size_t bytes = 0;
    CHECK(SC_MAX_BUFFER_BYTES == (UINT64_C(1) << 31));
    /* at and just past the limit */
    CHECK(sc_buffer_fits(UINT64_C(1) << 29, sizeof(float), &bytes) && bytes == (size_t)1 << 31);
    CHECK(!sc_buffer_fits((UINT64_C(1) << 29) + 1, sizeof(float), NULL));
    CHECK(sc_buffer_fits(SC_MAX_BUFFER_BYTES, 1, NULL) && !sc_buffer_fits(SC_MAX_BUFFER_BYTES + 1, 1, NULL));
    /* counts whose byte count wraps 64 bits (2^62 * 4 = 2^64 -> 0, (2^62 + 1) * 8 -> 8) or 32 bits
       (2^30 * 4 = 2^32 -> 0: the wasm32 case) */
    CHECK(!sc_buffer_fits(UINT64_C(1) << 62, 4, NULL));
    CHECK(!sc_buffer_fits((UINT64_C(1) << 62) + 1, 8, NULL));
    CHECK(!sc_buffer_fits(UINT64_C(1) << 30, 4, NULL));
    CHECK(!sc_buffer_fits(UINT64_MAX, 1, NULL) && !sc_buffer_fits(UINT64_MAX, SIZE_MAX, NULL));
    CHECK(!sc_buffer_fits(2, SIZE_MAX, NULL));
    /* empty and element-free sizes */
    CHECK(sc_buffer_fits(0, sizeof(float), &bytes) && bytes == 0);
    CHECK(sc_buffer_fits(UINT64_MAX, 0, &bytes) && bytes == 0);
    /* the aligned array allocator refuses what does not fit and aligns what does */
    CHECK(sc_aligned_array(UINT64_C(1) << 62, 4) == NULL);
    CHECK(sc_aligned_array((UINT64_C(1) << 62) + 1, 8) == NULL);
    CHECK(sc_aligned_array((UINT64_C(1) << 29) + 1, sizeof(float)) == NULL);
    float *p = sc_aligned_array(100, sizeof(float));
    CHECK(p != NULL && ((uintptr_t)p & 63) == 0);
    if (p) for (int i = 0; i < 100; i++) p[i] = (float)i; /* the whole array is usable (ASan) */
    sc_aligned_free(p);
    p = sc_aligned_array(0, sizeof(float));
    CHECK(p != NULL);
    sc_aligned_free(p);
}
