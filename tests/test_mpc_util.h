/* Helpers shared by the MPC protocol tests: random sharing, a three-party run over
 * memory channels with a fixed (printed) seed, and cost-model comparisons. */
#ifndef AR_TEST_MPC_UTIL_H
#define AR_TEST_MPC_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "mpc/cost.h"
#include "mpc/party.h"
#include "mpc/proto.h"
#include "mpc/session.h"

static inline uint64_t *tu_alloc(size_t n) {
    uint64_t *p = calloc(n ? n : 1, sizeof *p);
    if (!p) abort();
    return p;
}

/* x0 uniform, x1 = x - x0. */
static inline void tu_share(struct ar_rng *r, const uint64_t *x, uint64_t *x0, uint64_t *x1, size_t n) {
    for (size_t i = 0; i < n; i++) {
        x0[i] = ar_rng_u64(r);
        x1[i] = x[i] - x0[i];
    }
}

/* Deterministic 32-byte session seed from the test seed and a salt. */
static inline void tu_det_seed(uint8_t seed[32], uint64_t salt) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 0x5eed, salt);
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)ar_rng_u64(&r);
}

/* Run fn in all parties of a fresh deterministic session; returns the status. */
static inline int tu_run(ar_party_fn fn, void *arg, int provider, uint64_t salt, char *err) {
    uint8_t seed[32];
    tu_det_seed(seed, salt);
    struct ar_party_opts o;
    ar_party_opts_default(&o);
    o.det_seed = seed;
    o.provider = provider;
    struct ar_local_session s;
    int rc = ar_local_session_init(&s, &o, 20000, err);
    if (rc) return rc;
    rc = ar_local_session_run(&s, fn, arg, err);
    ar_local_session_free(&s);
    return rc;
}

/* Measured traffic of P0 / dealer vs the model. */
static inline int tu_cost_matches(const char *what, const struct ar_meas *m0, const struct ar_meas *md,
                                  const struct ar_cost *c) {
    int ok = m0->sent == c->p0_to_p1 && m0->recv == c->p1_to_p0 && m0->rounds == c->rounds &&
             m0->oneway == c->oneway && m0->dealer_bytes == c->dealer_to_p0 &&
             (!md || md->dealer_bytes == c->dealer_to_p0);
    if (!ok)
        ar_test_fail(__FILE__, __LINE__,
                     "%s cost: sent %llu/%llu recv %llu/%llu rounds %llu/%u oneway %llu/%u dealer %llu(%llu)/%llu",
                     what, (unsigned long long)m0->sent, (unsigned long long)c->p0_to_p1,
                     (unsigned long long)m0->recv, (unsigned long long)c->p1_to_p0, (unsigned long long)m0->rounds,
                     c->rounds, (unsigned long long)m0->oneway, c->oneway, (unsigned long long)m0->dealer_bytes,
                     (unsigned long long)(md ? md->dealer_bytes : 0), (unsigned long long)c->dealer_to_p0);
    return ok;
}

static inline int64_t tu_diff(uint64_t a, uint64_t b) { return ar_ring_to_i64(a - b); }

#endif
