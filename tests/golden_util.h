/* Helpers for tests that read the PyTorch golden files (safetensors files in tests/golden). */
#ifndef AR_GOLDEN_UTIL_H
#define AR_GOLDEN_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/safetensors.h"

/* Open a golden file; on failure record a test failure and return 0. */
static inline int golden_open(struct ar_st *st, const char *name) {
    char err[AR_ERR_LEN];
    if (ar_st_read(st, ar_test_golden(name), err)) {
        ar_test_fail(__FILE__, __LINE__, "cannot read golden %s: %s", name, err);
        return 0;
    }
    return 1;
}

/* F32 tensor by name (NULL + failure when absent); *n gets the element count. */
static inline const float *golden_f32(const struct ar_st *st, const char *name, size_t *n) {
    const struct ar_st_tensor *t = ar_st_find(st, name);
    if (!t || t->dtype != AR_DTYPE_F32) {
        ar_test_fail(__FILE__, __LINE__, "golden %s: no F32 tensor '%s'", st->path, name);
        return NULL;
    }
    if (n) *n = t->numel;
    return (const float *)t->data;
}

static inline int golden_int(const struct ar_st *st, const char *key) {
    const char *v = ar_st_meta(st, key);
    return v ? atoi(v) : -1;
}

static inline double golden_double(const struct ar_st *st, const char *key) {
    const char *v = ar_st_meta(st, key);
    return v ? atof(v) : 0.0;
}

static inline float *copyf(const float *src, size_t n) {
    float *d = malloc(sizeof(float) * (n ? n : 1));
    if (src) memcpy(d, src, sizeof(float) * n);
    else memset(d, 0, sizeof(float) * (n ? n : 1));
    return d;
}

#endif
