#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "models/weights.h"

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* A valid file with two tensors: "a" f32 [2x3] and "b" q8 [4x2]. */
static size_t make_file(unsigned char *buf, size_t cap) {
    memset(buf, 0, cap);
    memcpy(buf, "SCRIBEW", 8);
    put32(buf + 8, 1); put32(buf + 12, 2); put32(buf + 16, 2); put32(buf + 20, 512);
    put32(buf + 24, 42);
    strcpy((char *)buf + 280, "unit");
    unsigned char *r = buf + 512;
    strcpy((char *)r, "a"); put32(r + 80, 0); put32(r + 84, 2); put32(r + 88, 2); put32(r + 92, 3);
    put64(r + 104, 768); put64(r + 112, 24);
    r += 128;
    strcpy((char *)r, "b"); put32(r + 80, 2); put32(r + 84, 2); put32(r + 88, 4); put32(r + 92, 2);
    put64(r + 104, 832); put64(r + 112, 8 + 8);
    float a[6] = {1, 2, 3, 4, 5, 6};
    memcpy(buf + 768, a, sizeof a);
    signed char q[8] = {1, -1, 2, -2, 3, -3, 127, -127};
    memcpy(buf + 832, q, 8);
    float s[2] = {0.5f, 2.0f};
    memcpy(buf + 840, s, 8);
    return 848;
}

TEST(weights_parse_valid_file) {
    static unsigned char buf[1024];
    size_t n = make_file(buf, sizeof buf);
    sc_weights w;
    scribe_error err = {0};
    CHECK(sc_weights_parse(buf, n, &w, &err) == SCRIBE_OK);
    CHECK(w.kind == 2 && w.config[0] == 42 && strcmp(w.name, "unit") == 0);
    uint32_t shape[2] = {2, 3};
    const sc_tensor *t = sc_weights_get(&w, "a", 1u << SC_DTYPE_F32, 2, shape, &err);
    CHECK(t && ((const float *)t->data)[5] == 6.0f);
    uint32_t bad[2] = {3, 2};
    CHECK(sc_weights_get(&w, "a", 1u << SC_DTYPE_F32, 2, bad, &err) == NULL);
    CHECK(strstr(err.message, "shape 2x3") != NULL);
    CHECK(sc_weights_get(&w, "missing", 7, 1, NULL, &err) == NULL && strstr(err.message, "missing"));
    const sc_tensor *b = sc_weights_get(&w, "b", 1u << SC_DTYPE_Q8, 2, NULL, &err);
    float deq[8];
    CHECK(b != NULL);
    if (b) {
        sc_tensor_to_f32(b, deq);
        CHECK(deq[0] == 0.5f && deq[1] == -2.0f && deq[6] == 63.5f && deq[7] == -254.0f);
    }
    sc_weights_free(&w);
}

TEST(weights_reject_corrupt_files_with_messages) {
    static unsigned char buf[1024], bad[1024];
    size_t n = make_file(buf, sizeof buf);
    sc_weights w;
    scribe_error err = {0};
    /* truncated at every length: never a crash, always an error */
    for (size_t k = 0; k < n; k += 7) CHECK(sc_weights_parse(buf, k, &w, &err) != SCRIBE_OK);
    memcpy(bad, buf, n); bad[0] = 'X';
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS && strstr(err.message, "magic"));
    memcpy(bad, buf, n); put32(bad + 8, 9);
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_UNSUPPORTED && strstr(err.message, "version 9"));
    memcpy(bad, buf, n); put64(bad + 512 + 104, 1u << 30);
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS && strstr(err.message, "'a'"));
    memcpy(bad, buf, n); put64(bad + 512 + 104, UINT64_MAX - 8);
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    memcpy(bad, buf, n); put32(bad + 512 + 92, 4); /* shape disagrees with nbytes */
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    memcpy(bad, buf, n); put32(bad + 512 + 88, 0xFFFFFFFFu); put32(bad + 512 + 92, 0xFFFFFFFFu);
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    memcpy(bad, buf, n); memset(bad + 512, 'x', 80); /* unterminated name */
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS);
    memcpy(bad, buf, n); put32(bad + 16, 0x7fffffff);
    CHECK(sc_weights_parse(bad, n, &w, &err) == SCRIBE_ERR_BAD_WEIGHTS);
}

/* A file of `n` records named by `name_of(i)`, all pointing at one f32 [1] tensor after the directory. */
static unsigned char *make_directory(uint32_t n, void (*name_of)(uint32_t, char *), size_t *len) {
    size_t data = (512 + (size_t)n * 128 + 63) & ~(size_t)63;
    unsigned char *buf = calloc(data + 64, 1);
    if (!buf) return NULL;
    memcpy(buf, "SCRIBEW", 8);
    put32(buf + 8, 1); put32(buf + 12, 2); put32(buf + 16, n); put32(buf + 20, 512);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char *r = buf + 512 + (size_t)i * 128;
        name_of(i, (char *)r);
        put32(r + 80, 0); put32(r + 84, 1); put32(r + 88, 1);
        put64(r + 104, data); put64(r + 112, 4);
    }
    *len = data + 64;
    return buf;
}

static void distinct_name(uint32_t i, char *out) { snprintf(out, 80, "layer%u.w", (unsigned)((uint64_t)i * 48271u % 100003u)); }
static void name_repeated_far_apart(uint32_t i, char *out) { snprintf(out, 80, "t%u", i == 49999 ? 3 : i); }
static void name_repeated_next(uint32_t i, char *out) { snprintf(out, 80, "t%u", i == 1 ? 0 : i); }

TEST(weights_tensor_names_unique_in_a_full_directory) {
    /* i * 48271 mod 100003 (a prime) is one-to-one on 0..100002, so these names are distinct and unsorted */
    size_t len;
    sc_weights w;
    scribe_error err = {0};
    unsigned char *buf = make_directory(SC_WEIGHTS_MAX_TENSORS, distinct_name, &len);
    CHECK(buf != NULL);
    if (!buf) return;
    scribe_status st = sc_weights_parse(buf, len, &w, &err);
    CHECK_MSG(st == SCRIBE_OK, "%u distinct names: %s", SC_WEIGHTS_MAX_TENSORS, err.message);
    if (st == SCRIBE_OK) {
        char name[80];
        distinct_name(77777, name);
        CHECK(sc_weights_get(&w, name, 1u << SC_DTYPE_F32, 1, NULL, &err) == &w.tensors[77777]);
        sc_weights_free(&w);
    }
    free(buf);
    void (*dups[2])(uint32_t, char *) = {name_repeated_far_apart, name_repeated_next};
    const char *which[2] = {"'t3' appears twice", "'t0' appears twice"};
    for (int k = 0; k < 2; k++) {
        buf = make_directory(50000, dups[k], &len);
        CHECK(buf != NULL);
        if (!buf) return;
        st = sc_weights_parse(buf, len, &w, &err);
        CHECK_MSG(st == SCRIBE_ERR_BAD_WEIGHTS && strstr(err.message, which[k]), "duplicate %d: %s (%s)", k,
                  scribe_status_name(st), err.message);
        free(buf);
    }
}

TEST(half_to_float_conversions) {
    CHECK(sc_half_to_float(0x3c00) == 1.0f);
    CHECK(sc_half_to_float(0xc000) == -2.0f);
    CHECK(sc_half_to_float(0x0001) == 5.9604644775390625e-08f);
    CHECK(sc_half_to_float(0x7bff) == 65504.0f);
    CHECK(isinf(sc_half_to_float(0x7c00)));
}
