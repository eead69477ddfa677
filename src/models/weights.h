/* The scribe weights file: a fixed header, a tensor directory, aligned raw tensors.
 *
 * Layout (all integers little-endian):
 *   0    char[8]   magic "SCRIBEW\0"
 *   8    u32       version (1)
 *   12   u32       model kind (scribe_model_kind: 1 MT3, 2 acoustic)
 *   16   u32       tensor count
 *   20   u32       header size (512)
 *   24   i32[64]   configuration; meaning per kind (see t5.h / acoustic.h);
 *                  float settings are stored as their IEEE-754 bit pattern
 *   280  char[64]  model name, NUL-terminated (e.g. "mt3-small-v1")
 *   344  ...       zero padding up to 512
 *   512  tensor records, 128 bytes each:
 *          char[80] name (NUL-terminated), u32 dtype, u32 ndim, u32 shape[4],
 *          u64 offset (from file start, multiple of 64), u64 nbytes, u32[2] reserved
 *   ...  tensor data, each at its 64-byte aligned offset
 *
 * dtypes: 0 f32; 1 f16 (IEEE half); 2 q8: int8 values (numel bytes) followed, at the next
 * 4-byte boundary, by one f32 scale per column (last dimension): w[i][j] = q[i][j] * scale[j].
 * Every record is checked against the buffer once at load; tensors point into the caller's buffer.
 * The writer is tools/weights_format.py.
 */
#ifndef SCRIBE_WEIGHTS_H
#define SCRIBE_WEIGHTS_H

#include <stdint.h>
#include "../common/common.h"

#define SC_WEIGHTS_MAGIC "SCRIBEW"
#define SC_WEIGHTS_VERSION 1u
#define SC_WEIGHTS_HEADER_SIZE 512u
#define SC_WEIGHTS_RECORD_SIZE 128u
#define SC_WEIGHTS_CONFIG_LEN 64
#define SC_WEIGHTS_MAX_TENSORS 100000u

enum { SC_DTYPE_F32 = 0, SC_DTYPE_F16 = 1, SC_DTYPE_Q8 = 2 };

typedef struct sc_tensor {
    char name[80];
    uint32_t dtype;
    uint32_t ndim;
    uint32_t shape[4];
    uint64_t numel;
    const void *data;        /* points into the weights buffer */
    const float *q8_scales;  /* for SC_DTYPE_Q8: shape[ndim-1] scales */
    uint64_t nbytes;
} sc_tensor;

typedef struct sc_weights {
    uint32_t version, kind, n_tensors;
    int32_t config[SC_WEIGHTS_CONFIG_LEN];
    char name[64];
    sc_tensor *tensors;
} sc_weights;

/* Parses and bounds-checks every record. `buf` must outlive `out`. */
scribe_status sc_weights_parse(const void *buf, size_t len, sc_weights *out, scribe_error *err);
void sc_weights_free(sc_weights *w);

/* Finds a tensor by name and checks its shape (ndim values in `shape`; 0 in shape = any).
 * `dtype_mask` is a bit mask of accepted dtypes (1u << SC_DTYPE_F32, ...).
 * Returns NULL with a message naming the tensor when missing or mismatched. */
const sc_tensor *sc_weights_get(const sc_weights *w, const char *name, uint32_t dtype_mask, uint32_t ndim,
                                const uint32_t *shape, scribe_error *err);

/* Reads a float stored in config[i] by its bit pattern. */
float sc_weights_config_float(const sc_weights *w, int i);

/* Converts a tensor of any dtype to f32 into `out` (numel floats). */
void sc_tensor_to_f32(const sc_tensor *t, float *out);
float sc_half_to_float(uint16_t h);

#endif
