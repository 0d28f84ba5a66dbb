/* A ResNet-18 (CIFAR, 3x32x32, BasicBlocks 64/128/256/512, BN folded, sum-pool,
 * FC) walked through the protocol layer by a miniature executor: the same walk runs
 * as the plaintext ring reference and as P0, P1 and the dealer (threads, memory
 * channels). Checks the logits against the reference, the measured traffic against
 * the cost model, and prints the online bytes / rounds / time for an all-ReLU
 * network and for an AutoReP-like budget (~2.3% of the ReLUs kept). */
#include <math.h>

#include "test_mpc_util.h"

#define RN_MAX 64

struct rn {
    int role; /* -1: plaintext reference */
    struct ar_party *p;
    int f;
    int phase; /* 0 setup, 1 offline preparation, 2 inference */
    uint32_t id;
    double relu_frac;
    uint64_t *F[RN_MAX], *W[RN_MAX], *Bias[RN_MAX]; /* F at P1; W, bias at P0 (made at setup) */
    struct ar_linear_pre pre[RN_MAX];
    struct ar_cost cost; /* model of the inference phase */
    size_t relus;
    int rc;
    char *err;
    uint64_t *logits;
};

/* Deterministic weights / bias / mask / coefficients of layer `id`. */
static void rn_weights(uint32_t id, const struct ar_conv_shape *s, int f, uint64_t *w, uint64_t *b) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 700, id);
    double a = sqrt(6.0 / (s->c * s->kh * s->kw)) * 0.8;
    for (size_t i = 0; i < ar_conv_w_count(s); i++) w[i] = ar_fix_encode((ar_rng_uniform_d(&r) * 2 - 1) * a, f);
    for (int o = 0; o < s->oc; o++) b[o] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 0.2, 2 * f);
}

static void rn_mask(uint32_t id, size_t CHW, size_t C, double frac, uint8_t *mask, uint64_t *coef, int f) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 701, id);
    for (size_t i = 0; i < CHW; i++) mask[i] = (uint8_t)(frac >= 1.0 || ar_rng_uniform_d(&r) < frac);
    for (size_t c = 0; c < C; c++) {
        coef[3 * c] = ar_fix_encode(0.05 + 0.1 * ar_rng_uniform_d(&r), f);
        coef[3 * c + 1] = ar_fix_encode(0.5, f);
        coef[3 * c + 2] = ar_fix_encode(0.1, f);
    }
}

/* conv + bias + truncation by f. in: (C, H, W) share or value; returns the output. */
static uint64_t *rn_conv(struct rn *n, const uint64_t *in, int C, int H, int W, int OC, int k, int stride) {
    struct ar_conv_shape s = {1, C, H, W, OC, k, k, stride, k / 2};
    uint32_t id = n->id++;
    if (n->rc) return NULL;
    size_t nw = ar_conv_w_count(&s), nout = ar_conv_out_count(&s);
    uint64_t *y = tu_alloc(nout);
    if (n->role < 0) {
        uint64_t *w = tu_alloc(nw), *b = tu_alloc((size_t)OC), *col = tu_alloc(ar_ring_conv2d_scratch(&s));
        rn_weights(id, &s, n->f, w, b);
        ar_ring_conv2d(y, in, w, col, &s);
        ar_ring_add_bias(y, b, 1, (size_t)OC, nout / (size_t)OC);
        ar_ring_sar_array(y, nout, n->f);
        free(col);
        free(w);
        free(b);
        struct ar_cost c = ar_cost_linear(&s);
        ar_cost_add(&n->cost, &c);
    } else if (n->phase == 0) {
        if (n->role == AR_ROLE_P0) {
            n->W[id] = tu_alloc(nw);
            n->Bias[id] = tu_alloc((size_t)OC);
            rn_weights(id, &s, n->f, n->W[id], n->Bias[id]);
        }
        if (n->role == AR_ROLE_P1) n->F[id] = tu_alloc(nw);
        n->rc = ar_mpc_linear_setup(n->p, id, &s, n->W[id], n->F[id], n->err);
    } else if (n->phase == 1) {
        n->rc = ar_mpc_linear_pre(n->p, id, &s, n->F[id], &n->pre[id], n->err);
    } else {
        n->rc = ar_mpc_linear(n->p, id, &s, n->W[id], n->F[id], n->Bias[id], n->role == AR_ROLE_P0 && !in ? NULL : in,
                              y, n->f, &n->pre[id], n->err);
    }
    return y;
}

static uint64_t *rn_act(struct rn *n, const uint64_t *in, size_t C, size_t HW) {
    uint32_t id = n->id++;
    size_t CHW = C * HW;
    uint64_t *y = tu_alloc(CHW);
    if (n->rc || n->phase < 2) return y;
    uint8_t *mask = malloc(CHW);
    uint64_t *coef = tu_alloc(3 * C);
    rn_mask(id, CHW, C, n->relu_frac, mask, coef, n->f);
    if (n->role < 0) {
        ar_ring_poly_ref(y, in, coef, 1, C, HW, n->f);
        size_t nr = 0;
        for (size_t i = 0; i < CHW; i++)
            if (mask[i]) {
                y[i] = ar_ring_msb(in[i]) ? 0 : in[i];
                nr++;
            }
        struct ar_cost c = ar_cost_act(nr, CHW - nr);
        ar_cost_add(&n->cost, &c);
        n->relus += nr;
    } else {
        n->rc = ar_mpc_act(n->p, id, 1, C, HW, mask, coef, in, y, n->err);
    }
    free(mask);
    free(coef);
    return y;
}

static uint64_t *rn_block(struct rn *n, uint64_t *x, int C, int H, int OC, int stride) {
    int OH = (H - 1) / stride + 1;
    uint64_t *h = rn_conv(n, x, C, H, H, OC, 3, stride);
    uint64_t *a = rn_act(n, h, (size_t)OC, (size_t)OH * OH);
    uint64_t *h2 = rn_conv(n, a, OC, OH, OH, OC, 3, 1);
    uint64_t *sc = x;
    if (stride != 1 || C != OC) sc = rn_conv(n, x, C, H, H, OC, 1, stride);
    size_t no = (size_t)OC * OH * OH;
    if (n->role != AR_ROLE_DEALER && h2 && sc) ar_ring_add(h2, h2, sc, no); /* residual add: local */
    uint64_t *y = rn_act(n, h2, (size_t)OC, (size_t)OH * OH);
    free(h);
    free(a);
    free(h2);
    if (sc != x) free(sc);
    free(x);
    return y;
}

/* The whole network for one phase. img: (3, 32, 32) at P1 / reference, NULL elsewhere. */
static void rn_walk(struct rn *n, const uint64_t *img) {
    n->id = 0;
    uint64_t *stem = rn_conv(n, img, 3, 32, 32, 64, 3, 1);
    uint64_t *x = rn_act(n, stem, 64, 1024);
    free(stem);
    x = rn_block(n, x, 64, 32, 64, 1);
    x = rn_block(n, x, 64, 32, 64, 1);
    x = rn_block(n, x, 64, 32, 128, 2);
    x = rn_block(n, x, 128, 16, 128, 1);
    x = rn_block(n, x, 128, 16, 256, 2);
    x = rn_block(n, x, 256, 8, 256, 1);
    x = rn_block(n, x, 256, 8, 512, 2);
    x = rn_block(n, x, 512, 4, 512, 1);
    uint64_t pool[512];
    if (n->role != AR_ROLE_DEALER) ar_ring_sumpool2d(pool, x, 1, 512, 4, 4, 4, 1);
    free(x);
    uint64_t *out = rn_conv(n, pool, 512, 1, 1, 10, 1, 1);
    uint32_t id = n->id++;
    if (n->phase == 2 && !n->rc) {
        if (n->role < 0) {
            memcpy(n->logits, out, 10 * sizeof *out);
            struct ar_cost c = ar_cost_reveal(10);
            ar_cost_add(&n->cost, &c);
        } else {
            n->rc = ar_mpc_reveal_p1(n->p, id, 10, out, n->logits, n->err);
        }
    }
    free(out);
}

struct rn_case {
    double relu_frac;
    uint64_t *img, *logits;
    struct ar_meas online[3];
    double online_s[3], lin_s[3], act_s[3];
};

static int rn_fn(struct ar_party *p, void *arg, char *err) {
    struct rn_case *c = arg;
    int rc = ar_party_setup(p, err);
    if (rc) return rc;
    struct rn n;
    memset(&n, 0, sizeof n);
    n.role = p->role;
    n.p = p;
    n.f = p->frac_bits;
    n.relu_frac = c->relu_frac;
    n.err = err;
    n.logits = c->logits;
    const uint64_t *img = p->role == AR_ROLE_P1 ? c->img : NULL;
    for (n.phase = 0; n.phase < 3 && !n.rc; n.phase++) {
        if (n.phase == 2 && p->role == AR_ROLE_P0 && (n.rc = ar_party_preload(p, err))) break;
        double t0 = ar__now();
        rn_walk(&n, img);
        if (n.phase == 2) c->online_s[p->role] = ar__now() - t0;
    }
    for (int i = 0; i < RN_MAX; i++) {
        free(n.F[i]);
        free(n.W[i]);
        free(n.Bias[i]);
        ar_linear_pre_free(&n.pre[i]);
    }
    if (n.rc) return n.rc;
    struct ar_meas m = ar_party_meas_total(p, AR_OP_LINEAR), a = ar_party_meas_total(p, AR_OP_ACT),
                   v = ar_party_meas_total(p, AR_OP_REVEAL), pre = ar_party_meas_total(p, AR_OP_PRE);
    c->lin_s[p->role] = m.seconds;
    c->act_s[p->role] = a.seconds;
    c->online[p->role] = m;
    c->online[p->role].sent += a.sent + v.sent;
    c->online[p->role].recv += a.recv + v.recv;
    c->online[p->role].rounds += a.rounds + v.rounds;
    c->online[p->role].oneway += a.oneway + v.oneway;
    c->online[p->role].dealer_bytes += a.dealer_bytes + pre.dealer_bytes;
    return ar_party_finish(p, err);
}

static void run_resnet(double frac, uint64_t salt) {
    int f = AR_FIX_DEFAULT_BITS;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 702, salt);
    struct rn_case c;
    memset(&c, 0, sizeof c);
    c.relu_frac = frac;
    c.img = tu_alloc(3 * 32 * 32);
    c.logits = tu_alloc(10);
    for (int i = 0; i < 3 * 32 * 32; i++) c.img[i] = ar_fix_encode(ar_rng_uniform_d(&r) * 2 - 1, f);
    /* plaintext reference */
    struct rn ref;
    memset(&ref, 0, sizeof ref);
    uint64_t want[10];
    ref.role = -1;
    ref.f = f;
    ref.phase = 2;
    ref.relu_frac = frac;
    ref.logits = want;
    rn_walk(&ref, c.img);
    char err[AR_ERR_LEN] = "";
    double t0 = ar__now();
    int rc = tu_run(rn_fn, &c, AR_PROVIDER_DEALER, salt, err);
    double total = ar__now() - t0;
    CHECK_MSG(rc == AR_OK, "resnet: %s", err);
    if (rc) goto out;
    double maxd = 0, maxv = 0;
    int am = 0, bm = 0;
    for (int i = 0; i < 10; i++) {
        double g = ar_fix_decode(c.logits[i], f), w = ar_fix_decode(want[i], f);
        maxd = fmax(maxd, fabs(g - w));
        maxv = fmax(maxv, fabs(w));
        if (g > ar_fix_decode(c.logits[am], f)) am = i;
        if (w > ar_fix_decode(want[bm], f)) bm = i;
    }
    CHECK_MSG(maxd <= 0.01 * maxv + 0.05, "logits differ by %.4f (max |logit| %.3f)", maxd, maxv);
    CHECK(am == bm);
    const struct ar_meas *m = &c.online[0];
    CHECK_MSG(m->sent == ref.cost.p0_to_p1 && m->recv == ref.cost.p1_to_p0 && m->rounds == ref.cost.rounds &&
                  m->oneway == ref.cost.oneway && m->dealer_bytes == ref.cost.dealer_to_p0,
              "cost: sent %llu/%llu recv %llu/%llu rounds %llu/%u oneway %llu/%u dealer %llu/%llu",
              (unsigned long long)m->sent, (unsigned long long)ref.cost.p0_to_p1, (unsigned long long)m->recv,
              (unsigned long long)ref.cost.p1_to_p0, (unsigned long long)m->rounds, ref.cost.rounds,
              (unsigned long long)m->oneway, ref.cost.oneway, (unsigned long long)m->dealer_bytes,
              (unsigned long long)ref.cost.dealer_to_p0);
    printf("    resnet18 %zu ReLUs: online %.2f MB (P0->P1 %.2f, P1->P0 %.2f), %llu rounds + %llu one-way, "
           "dealer %.2f MB; online time P0 %.0f ms (linear %.0f, act %.0f), P1 %.0f ms; whole run %.0f ms; "
           "max |dlogit| %.4f\n",
           ref.relus, (double)(m->sent + m->recv) / 1e6, (double)m->sent / 1e6, (double)m->recv / 1e6,
           (unsigned long long)m->rounds, (unsigned long long)m->oneway, (double)m->dealer_bytes / 1e6,
           c.online_s[0] * 1e3, c.lin_s[0] * 1e3, c.act_s[0] * 1e3, c.online_s[1] * 1e3, total * 1e3, maxd);
out:
    free(c.img);
    free(c.logits);
}

AR_TEST(mpc_resnet18_all_relu_and_autorep_budget) {
    run_resnet(1.0, 1);   /* every activation a ReLU */
    run_resnet(0.023, 2); /* ~12.9K ReLUs of 557K, AutoReP-like */
}
