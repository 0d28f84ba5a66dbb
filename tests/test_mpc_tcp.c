/* End-to-end three-party runs over TCP on loopback (src/mpc/session.c): a small
 * network (conv -> mixed activation -> sum-pool -> FC -> reveal) with P0, P1 and
 * the dealer as threads connected by real encrypted sockets, compared with the
 * plaintext ring pipeline; the same traffic as the cost model; a dealer with a
 * different model hash is refused before any secret moves; and timings of a
 * ResNet-18-sized activation layer. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/tcp.h"
#include "test_mpc_util.h"

struct net_case {
    struct ar_net_config cfg[3];
    struct ar_conv_shape conv, fc;
    uint64_t *w1, *b1, *w2, *f1, *f2, *img, *logits, coef[3 * 4];
    uint8_t mask[4 * 36];
    struct ar_meas total[3];
    int rc[3];
    char err[3][AR_ERR_LEN];
};

/* conv 3x8x8 -> 4x6x6 (k3, pad 0) | act (mask, poly) | sumpool 6 -> 4x1x1 | fc 4 -> 3 */
static int net_walk(struct ar_party *p, struct net_case *c, char *err) {
    int r = p->role, rc, f = p->frac_bits;
    if ((rc = ar_party_setup(p, err))) return rc;
    if ((rc = ar_mpc_linear_setup(p, 1, &c->conv, r == 0 ? c->w1 : NULL, r == 1 ? c->f1 : NULL, err))) return rc;
    if ((rc = ar_mpc_linear_setup(p, 4, &c->fc, r == 0 ? c->w2 : NULL, r == 1 ? c->f2 : NULL, err))) return rc;
    size_t n1 = ar_conv_out_count(&c->conv);
    uint64_t *h = r < 2 ? tu_alloc(n1) : NULL, *a = r < 2 ? tu_alloc(n1) : NULL, *pool = r < 2 ? tu_alloc(4) : NULL;
    uint64_t *out = r < 2 ? tu_alloc(3) : NULL;
    rc = ar_mpc_linear(p, 1, &c->conv, r == 0 ? c->w1 : NULL, r == 1 ? c->f1 : NULL, r == 0 ? c->b1 : NULL,
                       r == 1 ? c->img : NULL, h, f, NULL, err);
    if (!rc) rc = ar_mpc_act(p, 2, 1, 4, 36, c->mask, c->coef, h, a, err);
    if (!rc) ar_mpc_sumpool(p, pool, a, 1, 4, 6, 6, 6, 1);
    if (!rc) rc = ar_mpc_linear(p, 4, &c->fc, r == 0 ? c->w2 : NULL, r == 1 ? c->f2 : NULL, NULL, pool, out, f, NULL, err);
    if (!rc) rc = ar_mpc_reveal_p1(p, 5, 3, out, r == 1 ? c->logits : NULL, err);
    if (!rc) rc = ar_party_finish(p, err);
    c->total[r] = ar_party_meas_total(p, -1);
    free(h);
    free(a);
    free(pool);
    free(out);
    return rc;
}

struct thr {
    struct net_case *c;
    int role;
};

static void *party_thread(void *v) {
    struct thr *t = v;
    struct net_case *c = t->c;
    int r = t->role;
    uint8_t seed[32];
    tu_det_seed(seed, 500);
    struct ar_party_opts o;
    ar_party_opts_default(&o);
    o.det_seed = seed;
    struct ar_party p;
    char *err = c->err[r];
    c->rc[r] = ar_party_init(&p, r, &o, err);
    if (!c->rc[r]) c->rc[r] = ar_party_connect_tcp(&p, &c->cfg[r], err);
    if (!c->rc[r]) c->rc[r] = net_walk(&p, c, err);
    if (c->rc[r]) {
        ar_chan_shutdown(p.peer);
        ar_chan_shutdown(p.dealer);
        ar_chan_shutdown(p.to_p0);
        ar_chan_shutdown(p.to_p1);
    }
    ar_party_disconnect(&p);
    ar_party_free(&p);
    return NULL;
}

static void run_three(struct net_case *c) {
    pthread_t t[3];
    struct thr a[3];
    for (int r = 0; r < 3; r++) {
        a[r].c = c;
        a[r].role = r;
        pthread_create(&t[r], NULL, party_thread, &a[r]);
    }
    for (int r = 0; r < 3; r++) pthread_join(t[r], NULL);
}

static void setup_net(struct net_case *c, int *lfd0, int *lfdd) {
    char err[AR_ERR_LEN];
    int p0, pd;
    if (ar_tcp_listen(NULL, 0, lfd0, &p0, err) || ar_tcp_listen(NULL, 0, lfdd, &pd, err)) abort();
    for (int r = 0; r < 3; r++) {
        ar_net_config_default(&c->cfg[r]);
        c->cfg[r].p0_port = p0;
        c->cfg[r].dealer_port = pd;
        c->cfg[r].tcp.timeout_ms = 5000;
        memset(c->cfg[r].model_hash, 0x42, 32);
    }
    c->cfg[0].p0_listen_fd = *lfd0;
    c->cfg[2].dealer_listen_fd = *lfdd;
}

static void net_init(struct net_case *cp) {
    int f = AR_FIX_DEFAULT_BITS;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 80, 0);
    struct net_case c;
    memset(&c, 0, sizeof c);
    c.conv = (struct ar_conv_shape){1, 3, 8, 8, 4, 3, 3, 1, 0};
    c.fc = (struct ar_conv_shape){1, 4, 1, 1, 3, 1, 1, 1, 0};
    size_t nw1 = ar_conv_w_count(&c.conv), nw2 = ar_conv_w_count(&c.fc), nin = ar_conv_in_count(&c.conv);
    c.w1 = tu_alloc(nw1);
    c.w2 = tu_alloc(nw2);
    c.b1 = tu_alloc(4);
    c.f1 = tu_alloc(nw1);
    c.f2 = tu_alloc(nw2);
    c.img = tu_alloc(nin);
    c.logits = tu_alloc(3);
    for (size_t i = 0; i < nw1; i++) c.w1[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 0.6, f);
    for (size_t i = 0; i < nw2; i++) c.w2[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 0.2, f);
    for (int i = 0; i < 4; i++) c.b1[i] = ar_fix_encode(ar_rng_uniform_d(&r) - 0.5, 2 * f);
    for (size_t i = 0; i < nin; i++) c.img[i] = ar_fix_encode(ar_rng_uniform_d(&r) * 2 - 1, f);
    for (int i = 0; i < 4; i++) {
        c.coef[3 * i] = ar_fix_encode(0.1 + 0.05 * i, f);
        c.coef[3 * i + 1] = ar_fix_encode(0.5, f);
        c.coef[3 * i + 2] = ar_fix_encode(0.01 * i, f);
    }
    for (int i = 0; i < 4 * 36; i++) c.mask[i] = (uint8_t)(ar_rng_below(&r, 4) == 0);
    *cp = c;
}

static void net_free(struct net_case *c) {
    free(c->w1);
    free(c->w2);
    free(c->b1);
    free(c->f1);
    free(c->f2);
    free(c->img);
    free(c->logits);
}

/* Plaintext ring pipeline with the same truncation points; checks the logits. */
static void net_check(const struct net_case *cp, const uint64_t *logits) {
    struct net_case c = *cp;
    int f = AR_FIX_DEFAULT_BITS;
    size_t n1 = ar_conv_out_count(&c.conv);
    uint64_t *h = tu_alloc(n1), *col = tu_alloc(ar_ring_conv2d_scratch(&c.conv)), *a = tu_alloc(n1), pool[4], out[3];
    ar_ring_conv2d(h, c.img, c.w1, col, &c.conv);
    ar_ring_add_bias(h, c.b1, 1, 4, 36);
    ar_ring_sar_array(h, n1, f);
    ar_ring_poly_ref(a, h, c.coef, 1, 4, 36, f);
    for (size_t i = 0; i < n1; i++)
        if (c.mask[i]) a[i] = ar_ring_msb(h[i]) ? 0 : h[i];
    ar_ring_sumpool2d(pool, a, 1, 4, 6, 6, 6, 1);
    ar_ring_conv2d(out, pool, c.w2, NULL, &c.fc);
    ar_ring_sar_array(out, 3, f);
    /* the truncation errors (+1 LSB each) propagate: allow a few LSB */
    for (int i = 0; i < 3; i++) {
        int64_t d = tu_diff(logits[i], out[i]);
        CHECK_MSG(d >= -8 && d <= 8, "logit %d off by %lld LSB", i, (long long)d);
    }
    free(h);
    free(col);
    free(a);
}

AR_TEST(mpc_tcp_three_party_small_network) {
    struct net_case c;
    net_init(&c);
    int lfd0, lfdd;
    setup_net(&c, &lfd0, &lfdd);
    run_three(&c);
    for (int k = 0; k < 3; k++) CHECK_MSG(c.rc[k] == AR_OK, "%s: %s", ar_role_name(k), c.err[k]);
    if (c.rc[1] == AR_OK) net_check(&c, c.logits);
    if (c.rc[0] == AR_OK) {
        size_t nr = 0;
        for (int i = 0; i < 144; i++) nr += c.mask[i];
        struct ar_cost cm = ar_cost_linear(&c.conv), t;
        t = ar_cost_act(nr, 144 - nr);
        ar_cost_add(&cm, &t);
        t = ar_cost_linear(&c.fc);
        ar_cost_add(&cm, &t);
        t = ar_cost_reveal(3);
        ar_cost_add(&cm, &t);
        t = ar_cost_linear_setup(&c.conv);
        ar_cost_add(&cm, &t);
        t = ar_cost_linear_setup(&c.fc);
        ar_cost_add(&cm, &t);
        tu_cost_matches("network", &c.total[0], &c.total[2], &cm);
        printf("    tcp network: P0 sent %llu B, recv %llu B (wire %llu / %llu), %llu rounds, %llu one-way\n",
               (unsigned long long)c.total[0].sent, (unsigned long long)c.total[0].recv,
               (unsigned long long)c.total[0].wire_sent, (unsigned long long)c.total[0].wire_recv,
               (unsigned long long)c.total[0].rounds, (unsigned long long)c.total[0].oneway);
    }
    ar_tcp_close_listener(lfd0);
    ar_tcp_close_listener(lfdd);
    net_free(&c);
}

/* The same network with the dealer and P1 as separate (forked) processes. */
AR_TEST(mpc_tcp_three_processes) {
    struct net_case c;
    net_init(&c);
    int lfd0, lfdd, fds[2];
    setup_net(&c, &lfd0, &lfdd);
    REQUIRE(pipe(fds) == 0);
    fflush(stdout);
    pid_t kid[2];
    for (int k = 0; k < 2; k++) {
        int role = k == 0 ? AR_ROLE_DEALER : AR_ROLE_P1;
        kid[k] = fork();
        REQUIRE(kid[k] >= 0);
        if (kid[k] == 0) {
            close(fds[0]);
            if (role == AR_ROLE_P1) ar_tcp_close_listener(lfdd);
            ar_tcp_close_listener(lfd0);
            struct thr t = {&c, role};
            party_thread(&t);
            if (role == AR_ROLE_P1) {
                ssize_t w = write(fds[1], c.logits, 3 * sizeof *c.logits);
                (void)w;
            }
            _exit(c.rc[role] ? 1 : 0);
        }
    }
    close(fds[1]);
    ar_tcp_close_listener(lfdd);
    struct thr t = {&c, AR_ROLE_P0};
    party_thread(&t);
    CHECK_MSG(c.rc[0] == AR_OK, "P0: %s", c.err[0]);
    uint64_t logits[3];
    ssize_t got = read(fds[0], logits, sizeof logits);
    close(fds[0]);
    for (int k = 0; k < 2; k++) {
        int st = 0;
        waitpid(kid[k], &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s process failed", k ? "P1" : "dealer");
    }
    CHECK(got == (ssize_t)sizeof logits);
    if (got == (ssize_t)sizeof logits) net_check(&c, logits);
    ar_tcp_close_listener(lfd0);
    net_free(&c);
}

AR_TEST(mpc_tcp_dealer_with_other_model_refused) {
    struct net_case c;
    memset(&c, 0, sizeof c);
    c.conv = (struct ar_conv_shape){1, 3, 8, 8, 4, 3, 3, 1, 0};
    int lfd0, lfdd;
    setup_net(&c, &lfd0, &lfdd);
    c.cfg[2].model_hash[0] ^= 1;
    for (int r = 0; r < 3; r++) {
        c.cfg[r].tcp.connect_timeout_ms = 1000;
        c.cfg[r].tcp.timeout_ms = 1000;
    }
    run_three(&c);
    CHECK_EQ_INT(c.rc[2], AR_ERR_MISMATCH);
    CHECK_MSG(strstr(c.err[2], "model hash") != NULL, "%s", c.err[2]);
    CHECK(c.rc[0] != AR_OK && c.rc[1] != AR_OK);
    ar_tcp_close_listener(lfd0);
    ar_tcp_close_listener(lfdd);
}

/* ---- timing of a ResNet-18-sized site, memory channels vs TCP ------------------------------ */

struct speed_case {
    size_t n;
    int over_tcp;
    struct ar_net_config cfg[3];
    uint64_t *x[2], *y[2];
    struct ar_meas relu[3], poly[3];
    int rc[3];
    char err[3][AR_ERR_LEN];
};

static int speed_walk(struct ar_party *p, struct speed_case *c, char *err) {
    int r = p->role, rc;
    if ((rc = ar_party_setup(p, err))) return rc;
    if (r == 0 && (rc = ar_party_preload(p, err))) return rc; /* no-op until the dealer ends: skip */
    uint64_t coef[3] = {1000, 4096, 0};
    if ((rc = ar_mpc_relu(p, 1, c->n, r < 2 ? c->x[r] : NULL, r < 2 ? c->y[r] : NULL, NULL, err))) return rc;
    if ((rc = ar_mpc_poly(p, 2, 1, 1, c->n, coef, r < 2 ? c->x[r] : NULL, r < 2 ? c->y[r] : NULL, err))) return rc;
    c->relu[r] = ar_party_meas(p, 1, AR_OP_RELU);
    c->poly[r] = ar_party_meas(p, 2, AR_OP_POLY);
    return ar_party_finish(p, err);
}

static int speed_fn(struct ar_party *p, void *arg, char *err) { return speed_walk(p, arg, err); }

struct speed_thr {
    struct speed_case *c;
    int role;
};

static void *speed_thread(void *v) {
    struct speed_thr *t = v;
    struct speed_case *c = t->c;
    int r = t->role;
    struct ar_party_opts o;
    ar_party_opts_default(&o);
    struct ar_party p;
    c->rc[r] = ar_party_init(&p, r, &o, c->err[r]);
    if (!c->rc[r]) c->rc[r] = ar_party_connect_tcp(&p, &c->cfg[r], c->err[r]);
    if (!c->rc[r]) c->rc[r] = speed_walk(&p, c, c->err[r]);
    ar_party_disconnect(&p);
    ar_party_free(&p);
    return NULL;
}

AR_TEST(mpc_speed_resnet_first_site) {
    /* 64 x 32 x 32 = 65536 activations (ResNet-18's first ReLU site on CIFAR) */
    size_t n = 65536;
    struct speed_case c;
    memset(&c, 0, sizeof c);
    c.n = n;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 81, 0);
    for (int k = 0; k < 2; k++) {
        c.x[k] = tu_alloc(n);
        c.y[k] = tu_alloc(n);
        for (size_t i = 0; i < n; i++) c.x[k][i] = ar_rng_u64(&r) >> 30;
    }
    char err[AR_ERR_LEN] = "";
    REQUIRE_OK(tu_run(speed_fn, &c, AR_PROVIDER_DEALER, 82, err), err);
    printf("    memchan n=%zu: relu %.1f ms (dealer part at P0 %.1f ms), poly %.1f ms\n", n, c.relu[0].seconds * 1e3,
           c.relu[0].dealer_seconds * 1e3, c.poly[0].seconds * 1e3);
    int lfd0, lfdd, p0, pd;
    REQUIRE_OK(ar_tcp_listen(NULL, 0, &lfd0, &p0, err), err);
    REQUIRE_OK(ar_tcp_listen(NULL, 0, &lfdd, &pd, err), err);
    for (int k = 0; k < 3; k++) {
        ar_net_config_default(&c.cfg[k]);
        c.cfg[k].p0_port = p0;
        c.cfg[k].dealer_port = pd;
    }
    c.cfg[0].p0_listen_fd = lfd0;
    c.cfg[2].dealer_listen_fd = lfdd;
    pthread_t t[3];
    struct speed_thr a[3];
    for (int k = 0; k < 3; k++) {
        a[k].c = &c;
        a[k].role = k;
        pthread_create(&t[k], NULL, speed_thread, &a[k]);
    }
    for (int k = 0; k < 3; k++) pthread_join(t[k], NULL);
    for (int k = 0; k < 3; k++) CHECK_MSG(c.rc[k] == AR_OK, "%s: %s", ar_role_name(k), c.err[k]);
    struct ar_cost cr = ar_cost_relu(n), cp = ar_cost_poly(n);
    tu_cost_matches("tcp relu", &c.relu[0], &c.relu[2], &cr);
    tu_cost_matches("tcp poly", &c.poly[0], &c.poly[2], &cp);
    printf("    tcp n=%zu: relu %.1f ms (%.2f B/elem online, wire %.2f), poly %.1f ms (%.2f B/elem)\n", n,
           c.relu[0].seconds * 1e3, (double)(c.relu[0].sent + c.relu[0].recv) / (double)n,
           (double)(c.relu[0].wire_sent + c.relu[0].wire_recv) / (double)n, c.poly[0].seconds * 1e3,
           (double)(c.poly[0].sent + c.poly[0].recv) / (double)n);
    ar_tcp_close_listener(lfd0);
    ar_tcp_close_listener(lfdd);
    for (int k = 0; k < 2; k++) {
        free(c.x[k]);
        free(c.y[k]);
    }
}
