/* The one SIMD abstraction of scribe: a float vector type `sc_vf` of SC_VW lanes and a few
 * inline operations on it. Three branches, chosen by the compiler's target macros:
 *   - WASM SIMD128 (`__wasm_simd128__`, emcc -msimd128): 4 lanes, wasm_simd128.h intrinsics;
 *     mul+add (no relaxed-SIMD builtins: LLVM 14 emits a pre-standard opcode that Node 20 and
 *     Chromium reject); tools/relax_fma.mjs fuses them into f32x4.relaxed_madd for
 *     dist/scribe-relaxed.wasm.
 *   - x86 (`__AVX2__`/`__AVX__` 8 lanes, else `__SSE2__` 4 lanes); fused multiply-add when
 *     `__FMA__` (native builds use -march=native).
 *   - scalar fallback: 1 lane, plain float.
 * Only kernels include this header. Loads and stores are unaligned. */
#ifndef SCRIBE_SIMD_H
#define SCRIBE_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define SC_SIMD_NAME "wasm-simd128"
#define SC_VW 4
typedef v128_t sc_vf;
static inline sc_vf sc_vf_zero(void) { return wasm_f32x4_splat(0.0f); }
static inline sc_vf sc_vf_set1(float x) { return wasm_f32x4_splat(x); }
static inline sc_vf sc_vf_load(const float *p) { return wasm_v128_load(p); }
static inline sc_vf sc_vf_load1(const float *p) { return wasm_v128_load32_splat(p); }
/* SC_VW bfloat16 values -> floats (the 16 bits become each lane's high half) */
static inline sc_vf sc_vf_load_bf16(const uint16_t *p) {
    return wasm_i16x8_shuffle(wasm_i32x4_splat(0), wasm_v128_load64_zero(p), 0, 8, 1, 9, 2, 10, 3, 11);
}
static inline void sc_vf_store(float *p, sc_vf v) { wasm_v128_store(p, v); }
static inline sc_vf sc_vf_add(sc_vf a, sc_vf b) { return wasm_f32x4_add(a, b); }
static inline sc_vf sc_vf_sub(sc_vf a, sc_vf b) { return wasm_f32x4_sub(a, b); }
static inline sc_vf sc_vf_mul(sc_vf a, sc_vf b) { return wasm_f32x4_mul(a, b); }
static inline sc_vf sc_vf_max(sc_vf a, sc_vf b) { return wasm_f32x4_pmax(a, b); }
/* a * b + c */
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), c); }
static inline float sc_vf_hsum(sc_vf v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}
static inline float sc_vf_hmax(sc_vf v) {
    float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
    float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
    a = a > b ? a : b;
    c = c > d ? c : d;
    return a > c ? a : c;
}

#elif defined(__AVX__)
#include <immintrin.h>
#define SC_SIMD_NAME "avx"
#define SC_VW 8
typedef __m256 sc_vf;
static inline sc_vf sc_vf_zero(void) { return _mm256_setzero_ps(); }
static inline sc_vf sc_vf_set1(float x) { return _mm256_set1_ps(x); }
static inline sc_vf sc_vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline sc_vf sc_vf_load1(const float *p) { return _mm256_broadcast_ss(p); }
static inline sc_vf sc_vf_load_bf16(const uint16_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p), z = _mm_setzero_si128();
    __m256 lo = _mm256_castps128_ps256(_mm_castsi128_ps(_mm_unpacklo_epi16(z, v)));
    return _mm256_insertf128_ps(lo, _mm_castsi128_ps(_mm_unpackhi_epi16(z, v)), 1);
}
static inline void sc_vf_store(float *p, sc_vf v) { _mm256_storeu_ps(p, v); }
static inline sc_vf sc_vf_add(sc_vf a, sc_vf b) { return _mm256_add_ps(a, b); }
static inline sc_vf sc_vf_sub(sc_vf a, sc_vf b) { return _mm256_sub_ps(a, b); }
static inline sc_vf sc_vf_mul(sc_vf a, sc_vf b) { return _mm256_mul_ps(a, b); }
static inline sc_vf sc_vf_max(sc_vf a, sc_vf b) { return _mm256_max_ps(a, b); }
#if defined(__FMA__)
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return _mm256_fmadd_ps(a, b, c); }
#else
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return _mm256_add_ps(_mm256_mul_ps(a, b), c); }
#endif
static inline float sc_vf_hsum(sc_vf v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static inline float sc_vf_hmax(sc_vf v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#elif defined(__SSE2__)
#include <immintrin.h>
#define SC_SIMD_NAME "sse2"
#define SC_VW 4
typedef __m128 sc_vf;
static inline sc_vf sc_vf_zero(void) { return _mm_setzero_ps(); }
static inline sc_vf sc_vf_set1(float x) { return _mm_set1_ps(x); }
static inline sc_vf sc_vf_load(const float *p) { return _mm_loadu_ps(p); }
static inline sc_vf sc_vf_load1(const float *p) { return _mm_load1_ps(p); }
static inline sc_vf sc_vf_load_bf16(const uint16_t *p) {
    return _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), _mm_loadl_epi64((const __m128i *)p)));
}
static inline void sc_vf_store(float *p, sc_vf v) { _mm_storeu_ps(p, v); }
static inline sc_vf sc_vf_add(sc_vf a, sc_vf b) { return _mm_add_ps(a, b); }
static inline sc_vf sc_vf_sub(sc_vf a, sc_vf b) { return _mm_sub_ps(a, b); }
static inline sc_vf sc_vf_mul(sc_vf a, sc_vf b) { return _mm_mul_ps(a, b); }
static inline sc_vf sc_vf_max(sc_vf a, sc_vf b) { return _mm_max_ps(a, b); }
#if defined(__FMA__)
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return _mm_fmadd_ps(a, b, c); }
#else
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
#endif
static inline float sc_vf_hsum(sc_vf v) {
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static inline float sc_vf_hmax(sc_vf v) {
    __m128 s = _mm_max_ps(v, _mm_movehl_ps(v, v));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#else
#define SC_SIMD_NAME "scalar"
#define SC_VW 1
typedef float sc_vf;
static inline sc_vf sc_vf_zero(void) { return 0.0f; }
static inline sc_vf sc_vf_set1(float x) { return x; }
static inline sc_vf sc_vf_load(const float *p) { return *p; }
static inline sc_vf sc_vf_load1(const float *p) { return *p; }
static inline sc_vf sc_vf_load_bf16(const uint16_t *p) {
    uint32_t u = (uint32_t)*p << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline void sc_vf_store(float *p, sc_vf v) { *p = v; }
static inline sc_vf sc_vf_add(sc_vf a, sc_vf b) { return a + b; }
static inline sc_vf sc_vf_sub(sc_vf a, sc_vf b) { return a - b; }
static inline sc_vf sc_vf_mul(sc_vf a, sc_vf b) { return a * b; }
static inline sc_vf sc_vf_max(sc_vf a, sc_vf b) { return a > b ? a : b; }
static inline sc_vf sc_vf_fma(sc_vf a, sc_vf b, sc_vf c) { return a * b + c; }
static inline float sc_vf_hsum(sc_vf v) { return v; }
static inline float sc_vf_hmax(sc_vf v) { return v; }
#endif

#endif
