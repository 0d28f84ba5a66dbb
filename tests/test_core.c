/* Tests of the core helpers: status messages, deterministic RNG streams, big allocation. */
#include <string.h>

#include "check.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"

AR_TEST(status_errf_formats_and_returns_code) {
    char err[AR_ERR_LEN];
    int rc = ar_errf(err, AR_ERR_IO, "%s: %d", "file.bin", 7);
    CHECK_EQ_INT(rc, AR_ERR_IO);
    CHECK(strcmp(err, "file.bin: 7") == 0);
    rc = ar_errprefix(err, AR_ERR_FORMAT, "ctx");
    CHECK_EQ_INT(rc, AR_ERR_FORMAT);
    CHECK(strcmp(err, "ctx: file.bin: 7") == 0);
    CHECK(ar_errf(NULL, AR_ERR_ARG, "x") == AR_ERR_ARG);
    CHECK(strcmp(ar_status_str(AR_ERR_NET), "network") == 0);
}

AR_TEST(rng_streams_are_deterministic_and_distinct) {
    struct ar_rng a, b, c;
    ar_rng_seed(&a, 42, 1, 2);
    ar_rng_seed(&b, 42, 1, 2);
    ar_rng_seed(&c, 42, 1, 3);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 100; i++) {
        uint64_t x = ar_rng_u64(&a), y = ar_rng_u64(&b), z = ar_rng_u64(&c);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    CHECK(same_ab);
    CHECK(!same_ac);
    /* uniform in range, below() unbiased enough and in range, normal has ~unit variance */
    double s = 0, s2 = 0;
    for (int i = 0; i < 20000; i++) {
        float u = ar_rng_uniform(&a);
        CHECK(u >= 0.0f && u < 1.0f);
        CHECK(ar_rng_below(&a, 7) < 7);
        double n = ar_rng_normal(&a);
        s += n;
        s2 += n * n;
    }
    CHECK(fabs(s / 20000) < 0.05);
    CHECK(fabs(s2 / 20000 - 1.0) < 0.05);
}

AR_TEST(alloc_big_is_zeroed_and_aligned) {
    size_t n = (size_t)9 << 20;
    unsigned char *p = ar_alloc_big(n);
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p & 63) == 0);
    int zero = 1;
    for (size_t i = 0; i < n; i += 4096) zero &= p[i] == 0;
    CHECK(zero);
    ar_free_big(p);
}
