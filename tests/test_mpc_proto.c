/* Protocol tests (src/mpc/): every protocol run by P0, P1 and the dealer as
 * threads over memory channels, compared with the plaintext ring computation
 * (exact, or within the documented local-truncation error), and its measured
 * bytes / rounds / dealer bytes compared with the cost model (src/mpc/cost.c). */
#include "test_mpc_util.h"

/* ---- comparison schedule ---------------------------------------------------------- */

AR_TEST(mpc_cmp_schedule_counts) {
    struct ar_cmp_sched s;
    ar_cmp_schedule(&s);
    CHECK_EQ_INT(s.levels, 6);
    CHECK_EQ_INT(s.singles_total, 6);
    CHECK_EQ_INT(s.doubles_total, 56);
    CHECK_EQ_INT(s.tree_planes, 180);
    int pairs = 0;
    for (int l = 1; l <= s.levels; l++) pairs += s.pairs[l];
    CHECK_EQ_INT(pairs, 62);
    struct ar_cost c = ar_cost_relu(8000);
    /* per ReLU, each way: 8 B + 244 bits = 38.5 B; 77 B both ways; <= 94 B as specified */
    CHECK(c.p0_to_p1 == 8000 * 8 + 244 * 1000 && c.rounds == 8);
    CHECK((double)(c.p0_to_p1 + c.p1_to_p0) / 8000 <= 94.0);
    printf("    relu: %.2f B/elem online (both ways), %.2f B/elem dealer, %u rounds\n",
           (double)(c.p0_to_p1 + c.p1_to_p0) / 8000, (double)c.dealer_to_p0 / 8000, c.rounds);
}

/* ---- ReLU --------------------------------------------------------------------------- */

struct relu_case {
    size_t n;
    uint64_t *x0, *x1, *y[2], *d[2];
    struct ar_meas meas[3];
};

static int relu_fn(struct ar_party *p, void *arg, char *err) {
    struct relu_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    rc = ar_mpc_relu(p, 3, c->n, r == 0 ? c->x0 : r == 1 ? c->x1 : NULL, r < 2 ? c->y[r] : NULL,
                     r < 2 ? c->d[r] : NULL, err);
    if (rc) return rc;
    c->meas[r] = ar_party_meas(p, 3, AR_OP_RELU);
    return ar_party_finish(p, err);
}

static void check_relu(const uint64_t *x, const uint64_t *x0, size_t n, int provider, uint64_t salt) {
    struct relu_case c = {n, tu_alloc(n), tu_alloc(n), {tu_alloc(n), tu_alloc(n)},
                          {tu_alloc(n / 64 + 1), tu_alloc(n / 64 + 1)}, {{0}}};
    for (size_t i = 0; i < n; i++) {
        c.x0[i] = x0[i];
        c.x1[i] = x[i] - x0[i];
    }
    char err[AR_ERR_LEN] = "";
    int rc = tu_run(relu_fn, &c, provider, salt, err);
    CHECK_MSG(rc == AR_OK, "relu n=%zu: %s", n, err);
    if (rc == AR_OK) {
        size_t bad = 0, badd = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t want = ar_ring_msb(x[i]) ? 0 : x[i];
            if (c.y[0][i] + c.y[1][i] != want) {
                if (bad++ < 3)
                    ar_test_fail(__FILE__, __LINE__, "relu[%zu] x=%#llx x0=%#llx: got %#llx", i,
                                 (unsigned long long)x[i], (unsigned long long)x0[i],
                                 (unsigned long long)(c.y[0][i] + c.y[1][i]));
            }
            uint64_t d = ((c.d[0][i / 64] ^ c.d[1][i / 64]) >> (i % 64)) & 1;
            badd += d != (ar_ring_msb(x[i]) ^ 1);
        }
        CHECK_MSG(bad == 0, "%zu of %zu relu outputs wrong", bad, n);
        CHECK_MSG(badd == 0, "%zu of %zu drelu bits wrong", badd, n);
        struct ar_cost cm = ar_cost_relu(n);
        tu_cost_matches("relu", &c.meas[0], provider == AR_PROVIDER_DEALER ? &c.meas[2] : NULL, &cm);
        CHECK(c.meas[1].sent == cm.p1_to_p0 && c.meas[1].rounds == cm.rounds);
    }
    free(c.x0);
    free(c.x1);
    for (int r = 0; r < 2; r++) {
        free(c.y[r]);
        free(c.d[r]);
    }
}

AR_TEST(mpc_relu_edge_values_exact) {
    static const uint64_t edges[] = {0,
                                     1,
                                     (uint64_t)-1,
                                     2,
                                     (uint64_t)-2,
                                     (uint64_t)1 << 62,
                                     (uint64_t)0 - ((uint64_t)1 << 62),
                                     ((uint64_t)1 << 62) - 1,
                                     (uint64_t)1 << 63,
                                     ((uint64_t)1 << 63) - 1,
                                     ((uint64_t)1 << 63) + 1,
                                     4096,
                                     (uint64_t)-4096};
    static const uint64_t splits[] = {0, 1, (uint64_t)-1, (uint64_t)1 << 63, ((uint64_t)1 << 63) - 1,
                                      (uint64_t)1 << 62, 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL};
    size_t ne = sizeof edges / sizeof edges[0], ns = sizeof splits / sizeof splits[0];
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 31, 0);
    size_t n = ne * ns + ne * 8 + 1000;
    uint64_t *x = tu_alloc(n), *x0 = tu_alloc(n);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < ns; j++) {
            x[k] = edges[i];
            x0[k++] = splits[j]; /* x0 edge splits, including x0 = x and x1 = x */
        }
    for (size_t i = 0; i < ne; i++)
        for (int j = 0; j < 8; j++) {
            x[k] = edges[i];
            x0[k++] = ar_rng_u64(&r);
        }
    for (; k < n; k++) {
        x[k] = k % 2 ? ar_rng_u64(&r) : ar_ring_from_i64((int64_t)(ar_rng_u64(&r) % 200001) - 100000);
        x0[k] = ar_rng_u64(&r);
    }
    check_relu(x, x0, n, AR_PROVIDER_DEALER, 1);
    free(x);
    free(x0);
}

AR_TEST(mpc_relu_sizes_and_16bit_exhaustive) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 32, 0);
    size_t sizes[] = {1, 7, 63, 64, 65, 129, 777};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        uint64_t *x = tu_alloc(n), *x0 = tu_alloc(n);
        for (size_t i = 0; i < n; i++) {
            x[i] = ar_rng_u64(&r) >> (ar_rng_u64(&r) % 64);
            if (ar_rng_u64(&r) & 1) x[i] = 0 - x[i];
            x0[i] = ar_rng_u64(&r);
        }
        check_relu(x, x0, n, AR_PROVIDER_DEALER, 10 + t);
        free(x);
        free(x0);
    }
    /* every 16-bit signed value, sign-extended, with random shares */
    size_t n = 65536;
    uint64_t *x = tu_alloc(n), *x0 = tu_alloc(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = ar_ring_from_i64((int64_t)i - 32768);
        x0[i] = ar_rng_u64(&r);
    }
    check_relu(x, x0, n, AR_PROVIDER_DEALER, 20);
    free(x);
    free(x0);
}

AR_TEST(mpc_relu_insecure_local_provider) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 33, 0);
    size_t n = 300;
    uint64_t *x = tu_alloc(n), *x0 = tu_alloc(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = ar_rng_u64(&r);
        x0[i] = ar_rng_u64(&r);
    }
    check_relu(x, x0, n, AR_PROVIDER_INSECURE_LOCAL, 30);
    free(x);
    free(x0);
}

/* ---- quadratic and mixed sites ---------------------------------------------------------- */

struct act_case {
    size_t N, C, HW;
    const uint8_t *mask; /* NULL: all-poly via ar_mpc_poly */
    uint64_t *coef, *x0, *x1, *y[2];
    struct ar_meas meas[3];
};

static int act_fn(struct ar_party *p, void *arg, char *err) {
    struct act_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    const uint64_t *x = r == 0 ? c->x0 : r == 1 ? c->x1 : NULL;
    uint64_t *y = r < 2 ? c->y[r] : NULL;
    if (c->mask) rc = ar_mpc_act(p, 5, c->N, c->C, c->HW, c->mask, c->coef, x, y, err);
    else rc = ar_mpc_poly(p, 5, c->N, c->C, c->HW, c->coef, x, y, err);
    if (rc) return rc;
    c->meas[r] = ar_party_meas(p, 5, c->mask ? AR_OP_ACT : AR_OP_POLY);
    return ar_party_finish(p, err);
}

/* Random x (|x| < 8.0), coefficients |c| < 1.5; checks exact ReLU positions and the
 * poly bound; returns 1 when everything matched. */
static void check_act(size_t N, size_t C, size_t HW, const uint8_t *mask, uint64_t salt) {
    int f = AR_FIX_DEFAULT_BITS;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 34, salt);
    size_t n = N * C * HW;
    struct act_case c = {N, C, HW, mask, tu_alloc(3 * C), tu_alloc(n), tu_alloc(n), {tu_alloc(n), tu_alloc(n)}, {{0}}};
    uint64_t *x = tu_alloc(n), *ref = tu_alloc(n);
    for (size_t i = 0; i < 3 * C; i++) c.coef[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 3.0, f);
    for (size_t i = 0; i < n; i++) x[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 16.0, f);
    tu_share(&r, x, c.x0, c.x1, n);
    size_t n_r = 0;
    if (mask) {
        ar_ring_act_ref(ref, x, mask, c.coef, N, C, HW, f);
        for (size_t i = 0; i < C * HW; i++) n_r += N * mask[i];
    } else {
        ar_ring_poly_ref(ref, x, c.coef, N, C, HW, f);
    }
    char err[AR_ERR_LEN] = "";
    int rc = tu_run(act_fn, &c, AR_PROVIDER_DEALER, salt, err);
    CHECK_MSG(rc == AR_OK, "act: %s", err);
    if (rc == AR_OK) {
        size_t bad = 0;
        long hist[8] = {0};
        for (size_t i = 0; i < n; i++) {
            size_t ch = (i / HW) % C;
            int relu_pos = mask && mask[i % (C * HW)];
            int64_t d = tu_diff(c.y[0][i] + c.y[1][i], ref[i]);
            int64_t c2 = ar_ring_to_i64(c.coef[3 * ch]);
            int64_t bound = relu_pos ? 0 : ((c2 < 0 ? -c2 : c2) + (1 << f) - 1) / (1 << f) + 1;
            if (d < -bound || d > bound) {
                if (bad++ < 3)
                    ar_test_fail(__FILE__, __LINE__, "act[%zu] (%s) off by %lld LSB (bound %lld)", i,
                                 relu_pos ? "relu" : "poly", (long long)d, (long long)bound);
            } else if (!relu_pos) {
                hist[(d + 3) & 7]++;
            }
        }
        CHECK_MSG(bad == 0, "%zu of %zu outputs outside the bound", bad, n);
        struct ar_cost cm = mask ? ar_cost_act(n_r, n - n_r) : ar_cost_poly(n);
        tu_cost_matches(mask ? "act" : "poly", &c.meas[0], &c.meas[2], &cm);
        CHECK(c.meas[1].sent == cm.p1_to_p0 && c.meas[1].rounds == cm.rounds);
    }
    free(c.coef);
    free(c.x0);
    free(c.x1);
    free(c.y[0]);
    free(c.y[1]);
    free(x);
    free(ref);
}

AR_TEST(mpc_poly_within_two_truncations) {
    check_act(2, 3, 50, NULL, 1);
    check_act(1, 1, 1, NULL, 2);
    check_act(3, 16, 64, NULL, 3);
    struct ar_cost c = ar_cost_poly(1000);
    CHECK(c.p0_to_p1 + c.p1_to_p0 == 16 * 1000 && c.rounds == 1 && c.dealer_to_p0 == 32 + 8 * 1000);
}

AR_TEST(mpc_act_masks_all_relu_all_poly_random_empty) {
    size_t C = 4, HW = 37, CHW = C * HW;
    uint8_t *mask = malloc(CHW);
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 35, 0);
    /* all-ReLU */
    memset(mask, 1, CHW);
    check_act(2, C, HW, mask, 11);
    /* all-poly through the mixed entry point: 1 round */
    memset(mask, 0, CHW);
    check_act(2, C, HW, mask, 12);
    /* random masks of several densities */
    int dens[] = {1, 10, 50, 90};
    for (int t = 0; t < 4; t++) {
        for (size_t i = 0; i < CHW; i++) mask[i] = (uint8_t)(ar_rng_below(&r, 100) < (uint64_t)dens[t]);
        mask[0] = 1; /* at least one ReLU */
        mask[1] = 0; /* and one poly */
        check_act(3, C, HW, mask, 13 + (uint64_t)t);
    }
    /* one ReLU in the whole site */
    memset(mask, 0, CHW);
    mask[CHW - 1] = 1;
    check_act(1, C, HW, mask, 20);
    /* empty tensor: nothing happens, no rounds */
    check_act(0, C, HW, mask, 21);
    struct ar_cost e = ar_cost_act(0, 0);
    CHECK(e.rounds == 0 && e.p0_to_p1 == 0 && e.dealer_to_p0 == 0);
    CHECK(ar_cost_act(5, 10).rounds == 8 && ar_cost_act(0, 10).rounds == 1);
    free(mask);
}

/* ---- linear layers ------------------------------------------------------------------------ */

struct lin_case {
    struct ar_conv_shape s;
    int reps, trunc, first;
    uint64_t *w, *bias, *f, **x0, **x1, **y0, **y1;
    struct ar_meas meas[3], setup[3], pre[3];
    int use_pre, reuse_rc[3];
};

static int lin_fn(struct ar_party *p, void *arg, char *err) {
    struct lin_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    if ((rc = ar_mpc_linear_setup(p, 9, &c->s, r == 0 ? c->w : NULL, r == 1 ? c->f : NULL, err))) return rc;
    struct ar_linear_pre pre[4];
    memset(pre, 0, sizeof pre);
    for (int k = 0; c->use_pre && k < c->reps; k++) /* offline pass: all material first */
        if ((rc = ar_mpc_linear_pre(p, 9, &c->s, r == 1 ? c->f : NULL, &pre[k], err))) return rc;
    for (int k = 0; k < c->reps; k++) {
        const uint64_t *x = r == 0 ? (c->first ? NULL : c->x0[k]) : r == 1 ? c->x1[k] : NULL;
        uint64_t *y = r == 0 ? c->y0[k] : r == 1 ? c->y1[k] : NULL;
        if ((rc = ar_mpc_linear(p, 9, &c->s, r == 0 ? c->w : NULL, r == 1 ? c->f : NULL, r == 0 ? c->bias : NULL, x,
                                y, c->trunc, c->use_pre ? &pre[k] : NULL, err)))
            return rc;
    }
    if (c->use_pre) /* a preparation is consumed by its call: a second use is refused */
        c->reuse_rc[r] = ar_mpc_linear(p, 9, &c->s, c->w, c->f, NULL, c->x1[0], c->y1[0], 0, &pre[0], err);
    c->meas[r] = ar_party_meas(p, 9, AR_OP_LINEAR);
    c->pre[r] = ar_party_meas(p, 9, AR_OP_PRE);
    c->setup[r] = ar_party_meas(p, 9, AR_OP_SETUP);
    return ar_party_finish(p, err);
}

static void check_linear(struct ar_conv_shape s, int trunc, int first, int reps, int use_pre, uint64_t salt) {
    int f = AR_FIX_DEFAULT_BITS;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 36, salt);
    size_t nin = ar_conv_in_count(&s), nout = ar_conv_out_count(&s), nw = ar_conv_w_count(&s);
    struct lin_case c = {s, reps, trunc, first, tu_alloc(nw), tu_alloc((size_t)s.oc), tu_alloc(nw),
                         calloc((size_t)reps, sizeof(uint64_t *)), calloc((size_t)reps, sizeof(uint64_t *)),
                         calloc((size_t)reps, sizeof(uint64_t *)), calloc((size_t)reps, sizeof(uint64_t *)), {{0}}, {{0}},
                         {{0}}, use_pre, {0, 0, 0}};
    for (size_t i = 0; i < nw; i++) c.w[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 0.5, f);
    for (int o = 0; o < s.oc; o++) c.bias[o] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 2, 2 * f);
    uint64_t **x = calloc((size_t)reps, sizeof *x);
    for (int k = 0; k < reps; k++) {
        x[k] = tu_alloc(nin);
        c.x0[k] = tu_alloc(nin);
        c.x1[k] = tu_alloc(nin);
        c.y0[k] = tu_alloc(nout);
        c.y1[k] = tu_alloc(nout);
        for (size_t i = 0; i < nin; i++) x[k][i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 8, f);
        if (first) memcpy(c.x1[k], x[k], nin * 8);
        else tu_share(&r, x[k], c.x0[k], c.x1[k], nin);
    }
    char err[AR_ERR_LEN] = "";
    int rc = tu_run(lin_fn, &c, AR_PROVIDER_DEALER, salt, err);
    CHECK_MSG(rc == AR_OK, "linear: %s", err);
    if (rc == AR_OK) {
        uint64_t *ref = tu_alloc(nout), *col = tu_alloc(ar_ring_conv2d_scratch(&s));
        size_t bad = 0;
        for (int k = 0; k < reps; k++) {
            ar_ring_conv2d(ref, x[k], c.w, col, &s);
            ar_ring_add_bias(ref, c.bias, (size_t)s.n, (size_t)s.oc, nout / ((size_t)s.n * (size_t)s.oc));
            ar_ring_sar_array(ref, nout, trunc);
            for (size_t i = 0; i < nout; i++) {
                int64_t d = tu_diff(c.y0[k][i] + c.y1[k][i], ref[i]);
                if (trunc ? (d < 0 || d > 1) : d != 0) bad++;
            }
        }
        CHECK_MSG(bad == 0, "linear %dx%dx%dx%d k%d s%d p%d -> %d trunc %d: %zu wrong", s.n, s.c, s.h, s.w, s.kh,
                  s.stride, s.pad, s.oc, trunc, bad);
        struct ar_cost cm = ar_cost_linear(&s), cr = {0};
        for (int k = 0; k < reps; k++) ar_cost_add(&cr, &cm);
        if (use_pre) {
            /* the dealer material moved to the offline step; the online step is unchanged */
            CHECK(c.pre[0].dealer_bytes == cr.dealer_to_p0 && c.pre[2].dealer_bytes == cr.dealer_to_p0);
            CHECK(c.pre[0].sent == 0 && c.pre[0].recv == 0 && c.meas[0].dealer_bytes == 0);
            cr.dealer_to_p0 = 0;
            for (int k = 0; k < 3; k++) CHECK_EQ_INT(c.reuse_rc[k], AR_ERR_PROTO);
        }
        tu_cost_matches("linear", &c.meas[0], use_pre ? NULL : &c.meas[2], &cr);
        struct ar_cost cs = ar_cost_linear_setup(&s);
        CHECK(c.setup[0].sent == cs.p0_to_p1 && c.setup[1].recv == cs.p0_to_p1 && c.setup[0].oneway == 1);
        free(ref);
        free(col);
    }
    for (int k = 0; k < reps; k++) {
        free(x[k]);
        free(c.x0[k]);
        free(c.x1[k]);
        free(c.y0[k]);
        free(c.y1[k]);
    }
    free(x);
    free(c.x0);
    free(c.x1);
    free(c.y0);
    free(c.y1);
    free(c.w);
    free(c.bias);
    free(c.f);
}

AR_TEST(mpc_linear_conv_fc_exact_and_truncated) {
    int f = AR_FIX_DEFAULT_BITS;
    struct ar_conv_shape shapes[] = {
        {1, 3, 8, 8, 4, 3, 3, 1, 1},  {2, 5, 7, 9, 6, 3, 3, 2, 1}, {1, 8, 6, 6, 4, 1, 1, 1, 0},
        {2, 4, 9, 7, 3, 3, 5, 2, 2},  {3, 32, 1, 1, 10, 1, 1, 1, 0}, /* FC */
        {1, 16, 4, 4, 8, 1, 1, 2, 0}, /* strided 1x1 shortcut */
    };
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        check_linear(shapes[t], 0, 0, 3, 0, 100 + t); /* exact, three inferences reusing F */
        check_linear(shapes[t], f, 0, 1, 0, 200 + t); /* truncated: floor + {0, 1} */
    }
    check_linear(shapes[0], f, 1, 2, 0, 300); /* first layer: input wholly P1's */
    check_linear(shapes[1], 0, 0, 3, 1, 301); /* offline preparation of every call first */
}

/* ---- input sharing, reveal, local ops ---------------------------------------------------- */

struct io_case {
    size_t n;
    uint64_t *x, *s[2], *out;
    struct ar_meas meas[2];
};

static int io_fn(struct ar_party *p, void *arg, char *err) {
    struct io_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    if ((rc = ar_mpc_share_input(p, AR_ROLE_P1, 1, c->n, r == 1 ? c->x : NULL, r < 2 ? c->s[r] : NULL, err)))
        return rc;
    if (r < 2) {
        ar_mpc_trunc(p, c->s[r], c->n, 0);
        ar_mpc_add(p, c->s[r], c->s[r], c->s[r], c->n); /* 2x */
        uint64_t one[1] = {1};
        ar_mpc_add_public(p, c->s[r], one, 1);
    }
    if ((rc = ar_mpc_reveal_p1(p, 2, c->n, r < 2 ? c->s[r] : NULL, r == 1 ? c->out : NULL, err))) return rc;
    if (r < 2) c->meas[r] = ar_party_meas(p, 2, AR_OP_REVEAL);
    return ar_party_finish(p, err);
}

AR_TEST(mpc_input_share_and_reveal) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 37, 0);
    size_t n = 500;
    struct io_case c = {n, tu_alloc(n), {tu_alloc(n), tu_alloc(n)}, tu_alloc(n), {{0}}};
    for (size_t i = 0; i < n; i++) c.x[i] = ar_rng_u64(&r);
    char err[AR_ERR_LEN] = "";
    REQUIRE_OK(tu_run(io_fn, &c, AR_PROVIDER_DEALER, 5, err), err);
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= c.out[i] == 2 * c.x[i] + (i == 0);
    CHECK(ok);
    CHECK(c.s[0][5] != 2 * c.x[5]); /* shares are not the value */
    struct ar_cost cm = ar_cost_reveal(n);
    CHECK(c.meas[0].sent == cm.p0_to_p1 && c.meas[1].recv == cm.p0_to_p1 && c.meas[0].oneway == 1 &&
          c.meas[0].rounds == 0);
    free(c.x);
    free(c.s[0]);
    free(c.s[1]);
    free(c.out);
}

/* ---- max pool --------------------------------------------------------------------------- */

struct mp_case {
    int N, C, H, W, k, stride;
    uint64_t *x0, *x1, *y[2];
    struct ar_meas meas[3];
};

static int mp_fn(struct ar_party *p, void *arg, char *err) {
    struct mp_case *c = arg;
    int rc = ar_party_setup(p, err), r = p->role;
    if (rc) return rc;
    if ((rc = ar_mpc_maxpool(p, 4, c->N, c->C, c->H, c->W, c->k, c->stride, r == 0 ? c->x0 : r == 1 ? c->x1 : NULL,
                             r < 2 ? c->y[r] : NULL, err)))
        return rc;
    c->meas[r] = ar_party_meas(p, 4, AR_OP_MAXPOOL);
    return ar_party_finish(p, err);
}

AR_TEST(mpc_maxpool_tournament) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 38, 0);
    int cfg[][6] = {{2, 3, 6, 6, 2, 2}, {1, 2, 7, 7, 3, 2}, {1, 1, 5, 5, 3, 1}};
    for (int t = 0; t < 3; t++) {
        struct mp_case c = {cfg[t][0], cfg[t][1], cfg[t][2], cfg[t][3], cfg[t][4], cfg[t][5], 0, 0, {0, 0}, {{0}}};
        size_t n = (size_t)c.N * c.C * c.H * c.W;
        int OH = (c.H - c.k) / c.stride + 1, OW = (c.W - c.k) / c.stride + 1;
        size_t no = (size_t)c.N * c.C * OH * OW;
        uint64_t *x = tu_alloc(n);
        c.x0 = tu_alloc(n);
        c.x1 = tu_alloc(n);
        c.y[0] = tu_alloc(no);
        c.y[1] = tu_alloc(no);
        for (size_t i = 0; i < n; i++) x[i] = ar_ring_from_i64((int64_t)(ar_rng_u64(&r) % 2000001) - 1000000);
        tu_share(&r, x, c.x0, c.x1, n);
        char err[AR_ERR_LEN] = "";
        int rc = tu_run(mp_fn, &c, AR_PROVIDER_DEALER, 40 + (uint64_t)t, err);
        CHECK_MSG(rc == AR_OK, "maxpool: %s", err);
        size_t bad = 0;
        for (size_t o = 0; rc == AR_OK && o < no; o++) {
            size_t ox = o % OW, oy = (o / OW) % OH, nc = o / ((size_t)OW * OH);
            int64_t best = INT64_MIN;
            for (int ky = 0; ky < c.k; ky++)
                for (int kx = 0; kx < c.k; kx++) {
                    int64_t v = ar_ring_to_i64(x[nc * c.H * c.W + (oy * c.stride + ky) * c.W + ox * c.stride + kx]);
                    if (v > best) best = v;
                }
            bad += ar_ring_to_i64(c.y[0][o] + c.y[1][o]) != best;
        }
        CHECK_MSG(bad == 0, "maxpool %d: %zu wrong", t, bad);
        struct ar_cost cm = ar_cost_maxpool(no, c.k * c.k);
        if (rc == AR_OK) tu_cost_matches("maxpool", &c.meas[0], &c.meas[2], &cm);
        free(x);
        free(c.x0);
        free(c.x1);
        free(c.y[0]);
        free(c.y[1]);
    }
}
