/* Tests of the correlation provider and the session checks (src/mpc/dealer.c,
 * src/mpc/party.c): every correlation kind reconstructs, a correlation used twice
 * or with the wrong amount is refused, unused material and out-of-step dealers are
 * caught, P0 and P1 making different calls is caught at the end, preloading,
 * reproducible transcripts under a fixed seed, and a view test of what P1 receives. */
#include <sodium.h>

#include "mpc/dealer.h"
#include "test_mpc_util.h"

/* ---- every kind reconstructs ------------------------------------------------------- */

#define NK 6
struct recon_case {
    size_t n, planes;
    struct ar_conv_shape s;
    struct ar_corr c[2][NK]; /* copies of P0's and P1's views (material kept alive) */
    uint64_t *B;             /* P0's weight mask */
};

static const int kinds[NK] = {AR_CORR_SQUARE, AR_CORR_AND, AR_CORR_AND2, AR_CORR_PAND, AR_CORR_BITINJ,
                              AR_CORR_LINEAR};

static int recon_fn(struct ar_party *p, void *arg, char *err) {
    struct recon_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    for (int k = 0; k < NK; k++) {
        int kind = kinds[k];
        int bits = kind == AR_CORR_AND || kind == AR_CORR_AND2 || kind == AR_CORR_PAND;
        size_t n = kind == AR_CORR_LINEAR ? ar_conv_in_count(&c->s) : c->n;
        struct ar_corr h;
        if ((rc = ar_corr_get(p, kind, 1, n, bits ? c->planes : 0, kind == AR_CORR_LINEAR ? &c->s : NULL, &h, err)))
            return rc;
        if (r == AR_ROLE_DEALER) continue;
        if ((rc = ar_corr_use(p, &h, kind, n, bits ? c->planes : 0, err))) return rc;
        c->c[r][k] = h; /* keep: released by the test */
    }
    if (r == AR_ROLE_P0) {
        c->B = tu_alloc(ar_conv_w_count(&c->s));
        ar__linear_mask(p, 1, c->B, ar_conv_w_count(&c->s));
    }
    return ar_party_finish(p, err);
}

static uint64_t bit_at(const uint64_t *planes, size_t W, size_t plane, size_t i) {
    return (planes[plane * W + i / 64] >> (i % 64)) & 1;
}

AR_TEST(mpc_dealer_correlations_reconstruct) {
    struct recon_case c;
    memset(&c, 0, sizeof c);
    c.n = 333;
    c.planes = 5;
    c.s = (struct ar_conv_shape){2, 3, 5, 5, 4, 3, 3, 2, 1};
    char err[AR_ERR_LEN] = "";
    REQUIRE_OK(tu_run(recon_fn, &c, AR_PROVIDER_DEALER, 50, err), err);
    size_t n = c.n, W = ar_plane_words(n);
    int ok_sq = 1, ok_and = 1, ok_and2 = 1, ok_pand = 1, ok_inj = 1, ok_lin = 1, nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = c.c[0][0].r[i] + c.c[1][0].r[i];
        ok_sq &= c.c[0][0].s[i] + c.c[1][0].s[i] == r * r;
        nonzero |= c.c[0][0].r[i] != 0;
        for (size_t pl = 0; pl < c.planes; pl++) {
            struct ar_corr *a0 = &c.c[0][1], *a1 = &c.c[1][1];
            uint64_t a = bit_at(a0->ba, W, pl, i) ^ bit_at(a1->ba, W, pl, i);
            uint64_t b = bit_at(a0->bb, W, pl, i) ^ bit_at(a1->bb, W, pl, i);
            ok_and &= (bit_at(a0->bc, W, pl, i) ^ bit_at(a1->bc, W, pl, i)) == (a & b);
            struct ar_corr *d0 = &c.c[0][2], *d1 = &c.c[1][2];
            a = bit_at(d0->ba, W, pl, i) ^ bit_at(d1->ba, W, pl, i);
            b = bit_at(d0->bb, W, pl, i) ^ bit_at(d1->bb, W, pl, i);
            uint64_t b2 = bit_at(d0->bb2, W, pl, i) ^ bit_at(d1->bb2, W, pl, i);
            ok_and2 &= (bit_at(d0->bc, W, pl, i) ^ bit_at(d1->bc, W, pl, i)) == (a & b);
            ok_and2 &= (bit_at(d0->bc2, W, pl, i) ^ bit_at(d1->bc2, W, pl, i)) == (a & b2);
            struct ar_corr *p0 = &c.c[0][3], *p1 = &c.c[1][3];
            ok_pand &= (bit_at(p0->bc, W, pl, i) ^ bit_at(p1->bc, W, pl, i)) ==
                       (bit_at(p0->ba, W, pl, i) & bit_at(p1->ba, W, pl, i));
        }
        struct ar_corr *j0 = &c.c[0][4], *j1 = &c.c[1][4];
        uint64_t rb = bit_at(j0->rbits, W, 0, i) ^ bit_at(j1->rbits, W, 0, i);
        ok_inj &= j0->ra[i] + j1->ra[i] == rb;
        ok_inj &= j0->c[i] + j1->c[i] == rb * (j0->a[i] + j1->a[i]);
    }
    /* bits beyond n are zero in every plane */
    if (n % 64) ok_and &= (c.c[0][1].ba[W - 1] >> (n % 64)) == 0 && (c.c[0][1].bc[W - 1] >> (n % 64)) == 0;
    size_t nout = ar_conv_out_count(&c.s);
    uint64_t *C = tu_alloc(nout), *col = tu_alloc(ar_ring_conv2d_scratch(&c.s));
    ar_ring_conv2d(C, c.c[1][5].a, c.B, col, &c.s);
    for (size_t i = 0; i < nout; i++) ok_lin &= c.c[0][5].c[i] + c.c[1][5].c[i] == C[i];
    CHECK(ok_sq && nonzero);
    CHECK(ok_and);
    CHECK(ok_and2);
    CHECK(ok_pand);
    CHECK(ok_inj);
    CHECK(ok_lin);
    free(C);
    free(col);
    free(c.B);
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < NK; k++) ar_corr_release(&c.c[r][k]);
}

/* ---- misuse ---------------------------------------------------------------------------- */

struct misuse_case {
    int mode;
    int rc[3];
    char err[3][AR_ERR_LEN];
};

enum { M_TWICE, M_COPY, M_AMOUNT, M_UNUSED, M_DEALER_STEP, M_CALLS, M_DEALER_SHORT, M_SETUP_TWICE, M_NO_SETUP };

static int misuse_fn(struct ar_party *p, void *arg, char *err) {
    struct misuse_case *c = arg;
    int r = p->role, rc = ar_party_setup(p, err);
    if (rc) return rc;
    struct ar_corr h, copy;
    size_t n = 10;
    switch (c->mode) {
    case M_TWICE:
    case M_COPY:
    case M_AMOUNT:
    case M_UNUSED:
        if ((rc = ar_corr_get(p, AR_CORR_SQUARE, 2, n, 0, NULL, &h, err))) return rc;
        if (r == AR_ROLE_DEALER) break;
        copy = h;
        if (c->mode == M_AMOUNT) {
            rc = ar_corr_use(p, &h, AR_CORR_SQUARE, n + 1, 0, err);
            c->rc[r] = rc;
            snprintf(c->err[r], AR_ERR_LEN, "%s", err);
            rc = ar_corr_use(p, &h, AR_CORR_SQUARE, n, 0, err); /* the right amount still works */
            ar_corr_release(&h);
            if (rc) return rc;
            break;
        }
        if (c->mode != M_UNUSED && (rc = ar_corr_use(p, &h, AR_CORR_SQUARE, n, 0, err))) return rc;
        if (c->mode == M_TWICE || c->mode == M_COPY) {
            rc = ar_corr_use(p, c->mode == M_TWICE ? &h : &copy, AR_CORR_SQUARE, n, 0, err);
            c->rc[r] = rc;
            snprintf(c->err[r], AR_ERR_LEN, "%s", err);
        }
        ar_corr_release(&h);
        break;
    case M_DEALER_STEP: {
        /* the dealer believes the layer has one element more than the parties do */
        size_t m = r == AR_ROLE_DEALER ? 65 : 64;
        uint64_t *x = tu_alloc(m), *y = tu_alloc(m);
        rc = ar_mpc_relu(p, 6, m, r == 2 ? NULL : x, r == 2 ? NULL : y, NULL, err);
        free(x);
        free(y);
        if (rc) return rc;
        break;
    }
    case M_CALLS:
    case M_DEALER_SHORT: {
        /* M_CALLS: P1 and the dealer do one more poly call than P0: P0 finishes first and
           sees the dealer's extra material; P1 blocks in the exchange and sees P0's end
           message. M_DEALER_SHORT: the dealer does one call fewer than P0 and P1 (it sends
           too little material and ends): P0 gets the end tag where it needs material. */
        uint64_t coef[3] = {0, 0, 0}, x[4] = {0}, y[4];
        int calls = c->mode == M_CALLS ? (r == AR_ROLE_P0 ? 1 : 2) : (r == AR_ROLE_DEALER ? 1 : 2);
        for (int k = 0; k < calls; k++)
            if ((rc = ar_mpc_poly(p, 7, 1, 1, 4, coef, r == 2 ? NULL : x, r == 2 ? NULL : y, err))) return rc;
        break;
    }
    case M_SETUP_TWICE:
    case M_NO_SETUP: {
        struct ar_conv_shape s = {1, 1, 2, 2, 1, 1, 1, 1, 0};
        uint64_t w[1] = {1}, f[1], x[4] = {0}, y[4];
        if (c->mode == M_SETUP_TWICE) {
            if ((rc = ar_mpc_linear_setup(p, 3, &s, r == 0 ? w : NULL, r == 1 ? f : NULL, err))) return rc;
            rc = ar_mpc_linear_setup(p, 3, &s, r == 0 ? w : NULL, r == 1 ? f : NULL, err);
        } else {
            rc = ar_mpc_linear(p, 3, &s, w, f, NULL, x, y, 0, NULL, err);
        }
        c->rc[r] = rc;
        snprintf(c->err[r], AR_ERR_LEN, "%s", err);
        return AR_OK;
    }
    }
    return ar_party_finish(p, err);
}

static int run_misuse(struct misuse_case *c, char *err) {
    memset(c->rc, 0, sizeof c->rc);
    return tu_run(misuse_fn, c, AR_PROVIDER_DEALER, 60 + (uint64_t)c->mode, err);
}

AR_TEST(mpc_dealer_reuse_and_wrong_amount_refused) {
    char err[AR_ERR_LEN] = "";
    struct misuse_case c;
    c.mode = M_TWICE;
    REQUIRE_OK(run_misuse(&c, err), err);
    for (int r = 0; r < 2; r++) {
        CHECK_EQ_INT(c.rc[r], AR_ERR_PROTO);
        CHECK_MSG(strstr(c.err[r], "used twice") != NULL, "%s", c.err[r]);
    }
    c.mode = M_COPY;
    REQUIRE_OK(run_misuse(&c, err), err);
    CHECK_EQ_INT(c.rc[0], AR_ERR_PROTO);
    CHECK(strstr(c.err[0], "used twice") != NULL);
    c.mode = M_AMOUNT;
    REQUIRE_OK(run_misuse(&c, err), err);
    CHECK_EQ_INT(c.rc[1], AR_ERR_PROTO);
    CHECK_MSG(strstr(c.err[1], "wrong amount") != NULL, "%s", c.err[1]);
    c.mode = M_UNUSED;
    CHECK_EQ_INT(run_misuse(&c, err), AR_ERR_PROTO);
    CHECK_MSG(strstr(err, "never used") != NULL, "%s", err);
}

AR_TEST(mpc_dealer_out_of_step_and_call_mismatch) {
    char err[AR_ERR_LEN] = "";
    struct misuse_case c;
    c.mode = M_DEALER_STEP;
    CHECK_EQ_INT(run_misuse(&c, err), AR_ERR_PROTO);
    CHECK_MSG(strstr(err, "P0: relu layer 6: ") && strstr(err, "out of step"), "%s", err);
    c.mode = M_CALLS;
    int rc = run_misuse(&c, err);
    CHECK_MSG(rc == AR_ERR_PROTO || rc == AR_ERR_MISMATCH, "rc %d: %s", rc, err);
    CHECK_MSG(strstr(err, "more material") || strstr(err, "different calls") || strstr(err, "expected"), "%s", err);
    c.mode = M_DEALER_SHORT;
    CHECK_EQ_INT(run_misuse(&c, err), AR_ERR_PROTO);
    CHECK_MSG(strstr(err, "P0: act layer 7: ") && strstr(err, "out of step") && strstr(err, "got end seq 0"), "%s", err);
    c.mode = M_SETUP_TWICE;
    REQUIRE_OK(run_misuse(&c, err), err);
    CHECK_EQ_INT(c.rc[0], AR_ERR_PROTO);
    CHECK(strstr(c.err[0], "set up twice") != NULL);
    c.mode = M_NO_SETUP;
    REQUIRE_OK(run_misuse(&c, err), err);
    CHECK_EQ_INT(c.rc[1], AR_ERR_PROTO);
    CHECK(strstr(c.err[1], "before ar_mpc_linear_setup") != NULL);
}

/* ---- preload, determinism ------------------------------------------------------------------ */

struct walk_case {
    int preload;
    size_t n;
    uint64_t *x0, *x1, *y[2], coef[3];
    uint8_t mask[64];
    struct ar_meas act0;
};

static int walk_fn(struct ar_party *p, void *arg, char *err) {
    struct walk_case *c = arg;
    int r = p->role, rc = ar_party_setup(p, err);
    if (rc) return rc;
    /* the dealer finishes first (it never waits); P0 may preload everything */
    if (r == AR_ROLE_DEALER) {
        for (int k = 0; k < 2; k++)
            if ((rc = ar_mpc_act(p, 1, c->n / 64, 1, 64, c->mask, c->coef, NULL, NULL, err))) return rc;
        return ar_party_finish(p, err);
    }
    if (c->preload && (rc = ar_party_preload(p, err))) return rc;
    for (int k = 0; k < 2; k++)
        if ((rc = ar_mpc_act(p, 1, c->n / 64, 1, 64, c->mask, c->coef, r ? c->x1 : c->x0, c->y[r], err))) return rc;
    if (r == 0) c->act0 = ar_party_meas(p, 1, AR_OP_ACT);
    return ar_party_finish(p, err);
}

AR_TEST(mpc_preload_and_deterministic_transcripts) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 70, 0);
    size_t n = 640;
    struct walk_case c;
    memset(&c, 0, sizeof c);
    c.n = n;
    c.x0 = tu_alloc(n);
    c.x1 = tu_alloc(n);
    for (int s = 0; s < 2; s++) c.y[s] = tu_alloc(n);
    for (size_t i = 0; i < n; i++) {
        c.x0[i] = ar_rng_u64(&r);
        c.x1[i] = ar_rng_u64(&r);
    }
    for (int i = 0; i < 64; i++) c.mask[i] = (uint8_t)(i % 3 == 0);
    c.coef[0] = 4096;
    uint64_t *first[2] = {tu_alloc(n), tu_alloc(n)};
    char err[AR_ERR_LEN] = "";
    for (int run = 0; run < 3; run++) {
        c.preload = run == 2;
        REQUIRE_OK(tu_run(walk_fn, &c, AR_PROVIDER_DEALER, 77, err), err);
        if (run == 0) {
            memcpy(first[0], c.y[0], n * 8);
            memcpy(first[1], c.y[1], n * 8);
        } else {
            /* same seed, same inputs: identical output shares (hence identical transcripts) */
            CHECK(memcmp(first[0], c.y[0], n * 8) == 0 && memcmp(first[1], c.y[1], n * 8) == 0);
        }
    }
    /* with preloading the online phase did not wait for the dealer, but accounts its bytes */
    struct ar_cost one = ar_cost_act(n / 3 + 1 - (n % 3 == 0), 0);
    (void)one;
    CHECK(c.act0.dealer_bytes > 0 && c.act0.rounds == 16);
    /* another seed gives other shares */
    REQUIRE_OK(tu_run(walk_fn, &c, AR_PROVIDER_DEALER, 78, err), err);
    CHECK(memcmp(first[0], c.y[0], n * 8) != 0);
    free(first[0]);
    free(first[1]);
    free(c.x0);
    free(c.x1);
    free(c.y[0]);
    free(c.y[1]);
}

/* ---- view test: what P1 receives looks uniform whatever the input ------------------------ */

/* A channel wrapper that records every received payload byte. */
struct tap {
    struct ar_chan base;
    struct ar_chan *inner;
    uint8_t *log;
    size_t len, cap;
};

static void tap_log(struct tap *t, const void *b, size_t n) {
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2;
        t->log = realloc(t->log, t->cap);
    }
    memcpy(t->log + t->len, b, n);
    t->len += n;
}
static int tap_send(struct ar_chan *c, uint16_t type, const void *b, size_t n, char *err) {
    return ar_chan_send(((struct tap *)c)->inner, type, b, n, err);
}
static int tap_recv(struct ar_chan *c, uint16_t type, void *b, size_t n, char *err) {
    int rc = ar_chan_recv(((struct tap *)c)->inner, type, b, n, err);
    if (!rc) tap_log((struct tap *)c, b, n);
    return rc;
}
static int tap_exchange(struct ar_chan *c, uint16_t type, const void *sb, size_t sn, void *rb, size_t rn, char *err) {
    int rc = ar_chan_exchange(((struct tap *)c)->inner, type, sb, sn, rb, rn, err);
    if (!rc) tap_log((struct tap *)c, rb, rn);
    return rc;
}
static void tap_shutdown(struct ar_chan *c) { ar_chan_shutdown(((struct tap *)c)->inner); }
static void tap_destroy(struct ar_chan *c) { (void)c; }
static const struct ar_chan_ops tap_ops = {tap_send, tap_recv, tap_exchange, tap_shutdown, tap_destroy};

struct view_case {
    size_t n;
    uint64_t *x1, w[16 * 16];
    struct tap *tap[2];
    uint8_t mask[16];
    uint64_t coef[48];
};

static int view_fn(struct ar_party *p, void *arg, char *err) {
    struct view_case *c = arg;
    int r = p->role, rc;
    if (r < 2) {
        struct tap *t = c->tap[r];
        t->inner = p->peer;
        t->base.ops = &tap_ops;
        snprintf(t->base.name, sizeof t->base.name, "tap");
        p->peer = &t->base;
    }
    if ((rc = ar_party_setup(p, err))) return rc;
    /* FC 16 -> 16 on P1's input (P0's share zero), then a mixed activation site */
    struct ar_conv_shape s = {(int)(c->n / 16), 16, 1, 1, 16, 1, 1, 1, 0};
    uint64_t *f = r == 1 ? tu_alloc(256) : NULL, *y = r < 2 ? tu_alloc(c->n) : NULL, *z = r < 2 ? tu_alloc(c->n) : NULL;
    rc = ar_mpc_linear_setup(p, 1, &s, c->w, f, err);
    if (!rc) rc = ar_mpc_linear(p, 1, &s, c->w, f, NULL, r == 1 ? c->x1 : NULL, y, 12, NULL, err);
    if (!rc) rc = ar_mpc_act(p, 2, c->n / 16, 16, 1, c->mask, c->coef, y, z, err);
    free(f);
    free(y);
    free(z);
    if (rc) return rc;
    if (r < 2) p->peer = c->tap[r]->inner;
    return ar_party_finish(p, err);
}

/* Chi-square statistic of the byte histogram, and the fraction of set bits. */
static void byte_stats(const uint8_t *b, size_t n, double *chi2, double *ones) {
    size_t h[256] = {0}, bits = 0;
    for (size_t i = 0; i < n; i++) {
        h[b[i]]++;
        bits += (size_t)__builtin_popcount(b[i]);
    }
    double e = (double)n / 256, s = 0;
    for (int i = 0; i < 256; i++) s += ((double)h[i] - e) * ((double)h[i] - e) / e;
    *chi2 = s;
    *ones = (double)bits / (8.0 * (double)n);
}

AR_TEST(mpc_view_of_each_party_is_uniform_for_any_input) {
    /* P0 sees M = x1 - A1 and P1's activation openings; P1 sees F = W - B and P0's
       openings. Inputs: all zeros vs distinct large positives. Every received byte
       (setup and end messages excluded) must look uniform, and no input word may
       appear in either view. */
    size_t n = 16 * 512;
    double chi[2][2], ones[2][2];
    for (int in = 0; in < 2; in++) {
        struct view_case c;
        memset(&c, 0, sizeof c);
        c.n = n;
        c.x1 = tu_alloc(n);
        for (size_t i = 0; i < n; i++) c.x1[i] = in ? ((uint64_t)1 << 40) + i : 0;
        for (int i = 0; i < 256; i++) c.w[i] = ar_ring_from_i64((i % 7) - 3) * 1024; /* small, patterned */
        for (int i = 0; i < 16; i++) c.mask[i] = (uint8_t)(i % 2);
        struct tap t[2];
        memset(t, 0, sizeof t);
        c.tap[0] = &t[0];
        c.tap[1] = &t[1];
        char err[AR_ERR_LEN] = "";
        REQUIRE_OK(tu_run(view_fn, &c, AR_PROVIDER_DEALER, 90 + (uint64_t)in, err), err);
        for (int v = 0; v < 2; v++) {
            REQUIRE(t[v].len > 100);
            byte_stats(t[v].log + 48, t[v].len - 48 - 24, &chi[v][in], &ones[v][in]);
            size_t hits = 0;
            for (size_t off = 48; off + 8 <= t[v].len - 24; off += 8) {
                uint64_t w;
                memcpy(&w, t[v].log + off, 8);
                hits += in && (w >> 40) == 1 && (w & 0xffffffffffULL) < n; /* an input value */
                hits += ar_ring_to_i64(w) >= -3 * 1024 && ar_ring_to_i64(w) <= 3 * 1024 && w % 1024 == 0; /* a weight */
            }
            CHECK_MSG(hits == 0, "%zu words of %s's view equal input values or weights", hits, v ? "P1" : "P0");
            free(t[v].log);
        }
        free(c.x1);
    }
    printf("    views: P0 chi2 %.0f / %.0f, P1 chi2 %.0f / %.0f (255 dof); ones %.4f %.4f %.4f %.4f\n", chi[0][0],
           chi[0][1], chi[1][0], chi[1][1], ones[0][0], ones[0][1], ones[1][0], ones[1][1]);
    for (int v = 0; v < 2; v++)
        for (int in = 0; in < 2; in++) {
            CHECK(chi[v][in] < 400); /* p ~ 1e-8 for 255 degrees of freedom */
            CHECK(fabs(ones[v][in] - 0.5) < 0.005);
        }
}
