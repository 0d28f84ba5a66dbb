/* Minimal test framework: self-registering test cases and checking macros.
 *
 *   AR_TEST(conv2d_matches_golden) { ... CHECK(x == 1); CHECK_CLOSE(a, b, n, 1e-5, 1e-4); }
 *
 * Every test file links into one runner (tests/main.c), which runs all tests (or
 * those whose name contains argv filters), prints a line per test and ends with
 * `N passed, N failed`. A failed CHECK records the failure and continues the test;
 * use REQUIRE to stop the current test. The random seed is printed and can be set
 * with --seed, so a failure with random inputs can be replayed. */
#ifndef AR_CHECK_H
#define AR_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*ar_test_fn)(void);
void ar_test_register(const char *name, const char *file, ar_test_fn fn);
void ar_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Seed for this run (printed by the runner); tests derive their randomness from it. */
uint64_t ar_test_seed(void);
/* Path of a golden file: "<tests dir>/golden/<name>". */
const char *ar_test_golden(const char *name);
/* A fresh temporary directory for this test (removed by the runner at the end). */
const char *ar_test_tmpdir(void);
int ar_test_failed_now(void);
/* Whole-file helpers for tests: write n bytes (0 or -1); read a file into a
 * malloc'd buffer (NULL if it cannot be opened), *n gets its size; copy a file
 * (0 or -1); 1 if two files have the same bytes. */
int ar_test_write_file(const char *path, const void *b, size_t n);
unsigned char *ar_test_read_file(const char *path, size_t *n);
int ar_test_copy_file(const char *from, const char *to);
int ar_test_same_file(const char *a, const char *b);

#define AR_TEST(name)                                                       \
    static void ar_test_##name(void);                                       \
    __attribute__((constructor)) static void ar_test_reg_##name(void) {     \
        ar_test_register(#name, __FILE__, ar_test_##name);                  \
    }                                                                       \
    static void ar_test_##name(void)

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) ar_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);  \
    } while (0)

#define CHECK_MSG(cond, ...)                                                \
    do {                                                                    \
        if (!(cond)) ar_test_fail(__FILE__, __LINE__, __VA_ARGS__);         \
    } while (0)

#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ar_test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);         \
            return;                                                         \
        }                                                                   \
    } while (0)

/* Status-returning call must be AR_OK; on failure prints the error buffer. */
#define REQUIRE_OK(expr, errbuf)                                            \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        if (rc_ != 0) {                                                     \
            ar_test_fail(__FILE__, __LINE__, "%s -> %d: %s", #expr, rc_, (errbuf)); \
            return;                                                         \
        }                                                                   \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                  \
    do {                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                 \
        if (a_ != b_) ar_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
    } while (0)

/* Compare two float arrays: |a-b| <= atol + rtol*|b| elementwise. Reports the worst
 * element. Returns 1 when all close. */
int ar_check_close_f(const char *file, int line, const char *what, const float *a, const float *b,
                     size_t n, double atol, double rtol);
int ar_check_close_d(const char *file, int line, const char *what, const double *a, const double *b,
                     size_t n, double atol, double rtol);
#define CHECK_CLOSE(what, a, b, n, atol, rtol) \
    ar_check_close_f(__FILE__, __LINE__, what, a, b, n, atol, rtol)
#define CHECK_CLOSE_D(what, a, b, n, atol, rtol) \
    ar_check_close_d(__FILE__, __LINE__, what, a, b, n, atol, rtol)

#endif
