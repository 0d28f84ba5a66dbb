/* Test runner: runs every AR_TEST registered by the linked test files.
 *
 *   test_unit [--seed N] [--list] [filter ...]
 *
 * Prints "ok"/"FAIL" per test and ends with the line `N passed, N failed`; the exit
 * status is non-zero when any test failed. */
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MAX_TESTS 2048

static struct {
    const char *name, *file;
    ar_test_fn fn;
} tests[MAX_TESTS];
static int n_tests;
static int cur_failed;
static uint64_t seed;
static char golden_dir[1024] = "tests/golden";
static char tmp_root[256];
static char tmp_cur[512];
static int tmp_counter;

void ar_test_register(const char *name, const char *file, ar_test_fn fn) {
    if (n_tests >= MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        abort();
    }
    tests[n_tests].name = name;
    tests[n_tests].file = file;
    tests[n_tests].fn = fn;
    n_tests++;
}

void ar_test_fail(const char *file, int line, const char *fmt, ...) {
    cur_failed++;
    if (cur_failed > 20) return; /* do not flood the log */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
}

int ar_test_failed_now(void) { return cur_failed; }
uint64_t ar_test_seed(void) { return seed; }

const char *ar_test_golden(const char *name) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s/%s", golden_dir, name);
    return buf;
}

const char *ar_test_tmpdir(void) {
    snprintf(tmp_cur, sizeof tmp_cur, "%s/t%d", tmp_root, ++tmp_counter);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp_cur);
    if (system(cmd) != 0) abort();
    return tmp_cur;
}

static int close_enough(double a, double b, double atol, double rtol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* Shared by the float and double checks: elements come through a getter. */
static int check_close(const char *file, int line, const char *what, const void *a, const void *b, size_t n,
                       double atol, double rtol, double (*get)(const void *, size_t)) {
    size_t bad = 0, worst = 0;
    double worst_excess = -1, maxdiff = 0;
    for (size_t i = 0; i < n; i++) {
        double x = get(a, i), y = get(b, i), d = fabs(x - y);
        if (d > maxdiff || isnan(d)) maxdiff = d;
        if (!close_enough(x, y, atol, rtol)) {
            double excess = isnan(d) ? INFINITY : d - (atol + rtol * fabs(y));
            if (excess > worst_excess) {
                worst_excess = excess;
                worst = i;
            }
            bad++;
        }
    }
    if (bad) {
        ar_test_fail(file, line, "%s: %zu/%zu elements differ; worst [%zu] got %.8g want %.8g (max |diff| %.3g)",
                     what, bad, n, worst, get(a, worst), get(b, worst), maxdiff);
        return 0;
    }
    return 1;
}

static double get_d(const void *p, size_t i) { return ((const double *)p)[i]; }
static double get_f(const void *p, size_t i) { return (double)((const float *)p)[i]; }

int ar_check_close_d(const char *file, int line, const char *what, const double *a, const double *b, size_t n,
                     double atol, double rtol) {
    return check_close(file, line, what, a, b, n, atol, rtol, get_d);
}

int ar_check_close_f(const char *file, int line, const char *what, const float *a, const float *b, size_t n,
                     double atol, double rtol) {
    return check_close(file, line, what, a, b, n, atol, rtol, get_f);
}

int ar_test_write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

unsigned char *ar_test_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz + 1 : 1);
    *n = b && sz > 0 ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

int ar_test_copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = ar_test_read_file(from, &n);
    if (!b) return -1;
    int rc = ar_test_write_file(to, b, n);
    free(b);
    return rc;
}

int ar_test_same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = ar_test_read_file(a, &na), *y = ar_test_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv) {
    const char *filters[64];
    int n_filters = 0, list = 0;
    seed = (uint64_t)time(NULL);
    const char *env_golden = getenv("AR_GOLDEN_DIR");
    if (env_golden) snprintf(golden_dir, sizeof golden_dir, "%s", env_golden);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--list")) {
            list = 1;
        } else if (n_filters < 64) {
            filters[n_filters++] = argv[i];
        }
    }
    if (list) {
        for (int i = 0; i < n_tests; i++) printf("%s (%s)\n", tests[i].name, tests[i].file);
        return 0;
    }
    snprintf(tmp_root, sizeof tmp_root, "/tmp/autorep-test-%d", (int)getpid());
    printf("seed %" PRIu64 " (rerun with --seed %" PRIu64 ")\n", seed, seed);
    fflush(stdout);
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (n_filters) {
            int match = 0;
            for (int f = 0; f < n_filters; f++)
                if (strstr(tests[i].name, filters[f])) match = 1;
            if (!match) continue;
        }
        cur_failed = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (cur_failed) {
            printf("FAIL %s (%s, %.0f ms)\n", tests[i].name, tests[i].file, ms);
            failed++;
        } else {
            printf("ok   %s (%.0f ms)\n", tests[i].name, ms);
            passed++;
        }
        fflush(stdout);
    }
    nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
