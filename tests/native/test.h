/* Minimal native test harness: TEST(name) registers a function; CHECK records failures.
 * The runner (main.c) prints one line per test and closes with "N passed, N failed". */
#ifndef SCRIBE_TEST_H
#define SCRIBE_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "scribe.h"

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
extern int test_failures_in_current;
/* Directory of the dev clips (SCRIBE_DATA, default ../shared/data/dev). */
const char *test_data_dir(void);
/* Reads a whole file; returns NULL (and prints why) on failure. */
unsigned char *test_read_file(const char *path, size_t *len);

#define TEST(name)                                                        \
    static void name(void);                                               \
    __attribute__((constructor)) static void register_##name(void) {      \
        test_register(#name, name);                                       \
    }                                                                     \
    static void name(void)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures_in_current++;                                               \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
            test_failures_in_current++;                                               \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr)                                                                       \
    do {                                                                                     \
        scribe_error e_ = {0};                                                               \
        (void)e_;                                                                            \
        scribe_status s_ = (expr);                                                           \
        if (s_ != SCRIBE_OK) {                                                               \
            fprintf(stderr, "  %s:%d: %s returned %s\n", __FILE__, __LINE__, #expr,          \
                    scribe_status_name(s_));                                                 \
            test_failures_in_current++;                                                      \
        }                                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                   \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!(fabs(a_ - b_) <= (tol))) {                                                        \
            fprintf(stderr, "  %s:%d: %s = %.9g, %s = %.9g, |diff| > %g\n", __FILE__, __LINE__, \
                    #a, a_, #b, b_, (double)(tol));                                             \
            test_failures_in_current++;                                                         \
        }                                                                                       \
    } while (0)

#endif
