/* Tests of the network-level MPC executor (src/pi/mpc.c) in-process: P0, P1 and the
 * dealer as threads over memory channels, P1 and the dealer with a public-only
 * model. For every layer type (plain and masked nets, batch 1 and batched), the
 * logits equal the fixed-point executor's within the worst-case truncation bound
 * (ar_pi_error_bound; exactly {0, +1} LSB for a single linear layer), and the
 * measured bytes / rounds / one-way messages / dealer bytes of every op equal the
 * analytic cost (pi/cost.h). */
#include <math.h>
#include <stdio.h>

#include "pi/cost.h"
#include "pi/mpc.h"
#include "test_mpc_util.h"
#include "test_pi_util.h"

struct run {
    uint64_t *want, *got;
    double bound;
    struct ar_pi_result res[3];
};

/* Run n images through the fixed executor and the MPC executor. */
static int run_both(struct ar_net *net, int f, int n, int batch, uint64_t salt, struct ar_pi_model *m,
                    struct ar_pi_model *pub, struct run *r) {
    char err[AR_ERR_LEN] = "";
    memset(r, 0, sizeof *r);
    int rc = tp_compile(net, f, 1, m, err);
    if (!rc) rc = tp_compile(net, f, 0, pub, err);
    CHECK_MSG(rc == AR_OK, "compile: %s", err);
    if (rc) return rc;
    size_t in = ar_shape_numel(net->in_shape);
    int K = m->classes;
    float *x = malloc(sizeof(float) * in * (size_t)n);
    uint64_t *xr = tu_alloc(in * (size_t)n);
    r->want = tu_alloc((size_t)(n * K));
    r->got = tu_alloc((size_t)(n * K));
    tp_inputs(net, x, n, salt);
    ar_pi_encode_input(xr, x, in * (size_t)n, f);
    struct ar_pi_fixed_stats *st = calloc((size_t)m->n_ops, sizeof *st);
    rc = ar_pi_fixed_run(m, n, xr, r->want, st, err);
    CHECK_MSG(rc == AR_OK, "fixed: %s", err);
    r->bound = ar_pi_error_bound(m, st);
    free(st);
    uint8_t seed[32];
    tu_det_seed(seed, salt);
    struct ar_pi_local_opts o;
    ar_pi_local_opts_default(&o);
    o.batch = batch;
    o.det_seed = seed;
    o.timeout_ms = 20000;
    if (!rc) rc = ar_pi_run_local(m, pub, n, xr, r->got, &o, r->res, err);
    CHECK_MSG(rc == AR_OK, "mpc: %s", err);
    free(x);
    free(xr);
    return rc;
}

static void run_free(struct run *r, struct ar_pi_model *m, struct ar_pi_model *pub) {
    free(r->want);
    free(r->got);
    for (int i = 0; i < 3; i++) ar_pi_result_free(&r->res[i]);
    ar_pi_model_free(m);
    ar_pi_model_free(pub);
}

/* Measured traffic of every op equals the cost model (P0's view and the dealer's). */
static void check_costs(const struct ar_pi_model *m, const struct run *r, int n, int batch) {
    int full = n / batch, rest = n % batch;
    for (int i = 0; i <= m->n_ops; i++) {
        struct ar_cost c = ar_pi_cost_op(m, i, batch), t = {0};
        for (int k = 0; k < full; k++) ar_cost_add(&t, &c);
        if (rest) {
            c = ar_pi_cost_op(m, i, rest);
            ar_cost_add(&t, &c);
        }
        struct ar_cost off = ar_pi_cost_op_offline(m, i, batch), toff = {0};
        for (int k = 0; k < full; k++) ar_cost_add(&toff, &off);
        if (rest) {
            off = ar_pi_cost_op_offline(m, i, rest);
            ar_cost_add(&toff, &off);
        }
        const struct ar_meas *o0 = &r->res[0].offline[i];
        CHECK_MSG(o0->recv == toff.p1_to_p0 && o0->sent == 0 && o0->oneway == toff.oneway && o0->rounds == 0,
                  "op %d offline: recv %llu/%llu oneway %llu/%u", i, (unsigned long long)o0->recv,
                  (unsigned long long)toff.p1_to_p0, (unsigned long long)o0->oneway, toff.oneway);
        struct ar_meas p0 = r->res[0].online[i], d = r->res[2].online[i];
        p0.dealer_bytes += r->res[0].offline[i].dealer_bytes;
        d.dealer_bytes += r->res[2].offline[i].dealer_bytes;
        char what[300];
        snprintf(what, sizeof what, "op %d (%s)", i, i < m->n_ops ? m->ops[i].name : "reveal");
        tu_cost_matches(what, &p0, &d, &t);
        /* P1 sees the mirror image */
        const struct ar_meas *p1 = &r->res[1].online[i];
        CHECK_MSG(p1->sent == p0.recv && p1->recv == p0.sent && p1->rounds == p0.rounds, "%s: P1's view differs",
                  what);
    }
    struct ar_cost s = ar_pi_cost_setup(m);
    CHECK_MSG(r->res[0].setup.sent == s.p0_to_p1 && r->res[1].setup.recv == s.p0_to_p1 &&
                  r->res[0].setup.oneway == s.oneway,
              "setup: sent %llu, model %llu", (unsigned long long)r->res[0].setup.sent,
              (unsigned long long)s.p0_to_p1);
    CHECK(s.p0_to_p1 == 8 * m->weight_count);
}

AR_TEST(pi_mpc_matches_fixed_every_layer_type) {
    const char *cfgs[2] = {tp_net_a, tp_net_b};
    for (int c = 0; c < 2; c++)
        for (int masked = 0; masked < 2; masked++)
            for (int batch = 1; batch <= 3; batch += 2) {
                char err[AR_ERR_LEN] = "";
                struct ar_net net;
                uint64_t salt = 100 + (uint64_t)(4 * c + 2 * masked + batch);
                REQUIRE_OK(tp_build(&net, cfgs[c], masked, 0.4, 4, salt, err), err);
                struct ar_pi_model m, pub;
                struct run r;
                const int n = 4, f = 12;
                if (run_both(&net, f, n, batch, salt, &m, &pub, &r) == AR_OK) {
                    int K = m.classes;
                    uint64_t d = ar_pi_max_diff(r.want, r.got, (size_t)(n * K));
                    CHECK_MSG((double)d <= r.bound, "net %c %s batch %d: MPC differs from fixed by %llu LSB > bound %.0f",
                              'A' + c, masked ? "masked" : "plain", batch, (unsigned long long)d, r.bound);
                    for (int k = 0; k < n; k++) {
                        /* top-1 equal unless the fixed-point margin is within the bound */
                        int a = ar_pi_argmax(r.want + k * K, K), b = ar_pi_argmax(r.got + k * K, K);
                        int64_t margin = ar_ring_to_i64(r.want[k * K + a] - r.want[k * K + b]);
                        CHECK_MSG(a == b || (double)margin <= 2 * r.bound, "image %d: top-1 %d vs %d", k, a, b);
                    }
                    if (batch == 1)
                        printf("    net %c %s: max |mpc - fixed| %llu LSB (bound %.0f); %zu ReLUs + %zu quadratics "
                               "per image; %llu bytes, %llu rounds per image\n",
                               'A' + c, masked ? "masked" : "plain", (unsigned long long)d, r.bound, m.relu_count,
                               m.poly_count,
                               (unsigned long long)(ar_pi_result_total(&r.res[0]).sent +
                                                    ar_pi_result_total(&r.res[0]).recv) / n,
                               (unsigned long long)ar_pi_result_total(&r.res[0]).rounds / n);
                    check_costs(&m, &r, n, batch);
                    CHECK(r.res[0].images == n && r.res[0].inferences == (n + batch - 1) / batch);
                }
                run_free(&r, &m, &pub);
                ar_net_free(&net);
            }
}

/* A single linear layer: exactly one local truncation, so the MPC result (floor or
 * floor + 1) is within 1 LSB of the fixed point's rounding, in both directions. */
AR_TEST(pi_mpc_single_linear_is_exact_to_one_lsb) {
    static const char cfg[] = "[net]\ninput = 3x6x6\nclasses = 16\n"
                              "[conv]\nname = c\nfilters = 16\nsize = 6\nbias = 1\n";
    char err[AR_ERR_LEN] = "";
    struct ar_net net;
    REQUIRE_OK(tp_build(&net, cfg, 0, 1, 8, 200, err), err);
    struct ar_pi_model m, pub;
    struct run r;
    const int n = 8;
    if (run_both(&net, 12, n, 8, 200, &m, &pub, &r) == AR_OK) {
        int seen[3] = {0, 0, 0}, bad = 0;
        for (int i = 0; i < n * 16; i++) {
            int64_t d = tu_diff(r.got[i], r.want[i]);
            if (d >= -1 && d <= 1) seen[d + 1]++;
            else bad++;
        }
        CHECK_MSG(!bad && seen[0] && seen[1] && seen[2], "errors: %d of -1, %d of 0, %d of +1, %d other", seen[0],
                  seen[1], seen[2], bad);
    }
    run_free(&r, &m, &pub);
    ar_net_free(&net);
}

/* The parties refuse to run with a public model that differs from the server's. */
AR_TEST(pi_mpc_rejects_other_public_model) {
    char err[AR_ERR_LEN] = "";
    struct ar_net net;
    REQUIRE_OK(tp_build(&net, tp_net_b, 1, 0.5, 1, 300, err), err);
    struct ar_pi_model m, pub;
    REQUIRE_OK(tp_compile(&net, 12, 1, &m, err), err);
    const struct ar_tensor_info *t = ar_net_find_tensor(&net, "r1.relu_mask");
    REQUIRE(t);
    uint8_t *mk = ar_net_tensor_data(&net, t);
    mk[0] ^= 1;
    REQUIRE_OK(tp_compile(&net, 12, 0, &pub, err), err);
    uint64_t x[64] = {0}, y[4];
    struct ar_pi_local_opts o;
    ar_pi_local_opts_default(&o);
    CHECK(ar_pi_run_local(&m, &pub, 1, x, y, &o, NULL, err) == AR_ERR_MISMATCH && strstr(err, "hash"));
    ar_pi_model_free(&m);
    ar_pi_model_free(&pub);
    ar_net_free(&net);
}

/* All-quadratic sites fed by linear ops: P1's half of the opening goes offline, so
 * online each site is one one-way P0 -> P1 message of 8 B per element. */
AR_TEST(pi_mpc_all_quadratic_sites_are_one_way) {
    char err[AR_ERR_LEN] = "";
    struct ar_net net;
    REQUIRE_OK(tp_build(&net, tp_net_b, 1, 0.0, 2, 400, err), err);
    struct ar_pi_model m, pub;
    struct run r;
    const int n = 2;
    if (run_both(&net, 12, n, 1, 400, &m, &pub, &r) == AR_OK) {
        CHECK(m.relu_count == 0);
        CHECK_MSG((double)ar_pi_max_diff(r.want, r.got, (size_t)(n * m.classes)) <= r.bound, "beyond the bound");
        for (int i = 0; i < m.n_ops; i++) {
            if (m.ops[i].kind != AR_PI_ACT) continue;
            const struct ar_meas *o = &r.res[0].online[i];
            size_t el = (size_t)m.ops[i].c * (size_t)m.ops[i].hw;
            CHECK(m.ops[i].open_offline);
            CHECK_MSG(o->rounds == 0 && o->oneway == (uint64_t)n && o->sent == 8 * el * n && o->recv == 0,
                      "%s: rounds %llu oneway %llu sent %llu recv %llu", m.ops[i].name, (unsigned long long)o->rounds,
                      (unsigned long long)o->oneway, (unsigned long long)o->sent, (unsigned long long)o->recv);
        }
        check_costs(&m, &r, n, 1);
    }
    run_free(&r, &m, &pub);
    ar_net_free(&net);
}
