/* Tests of the secure-inference compiler and fixed-point executor (src/pi/model.c,
 * src/pi/fixed.c): structure of the compiled op list (BN folding, pool divisors,
 * hash of the public part), and agreement of the fixed-point logits with the float
 * executor for every layer type, plain and masked, at several precisions. */
#include <math.h>
#include <stdio.h>

#include "test_pi_util.h"

/* Max |fixed - float| over N images, and the largest |float logit|. */
static void compare_float(struct ar_net *net, int f, int N, uint64_t salt, double *maxd, double *maxv, int *agree) {
    char err[AR_ERR_LEN] = "";
    struct ar_pi_model m;
    int rc = tp_compile(net, f, 1, &m, err);
    CHECK_MSG(rc == AR_OK, "compile: %s", err);
    if (rc) return;
    size_t in = ar_shape_numel(net->in_shape);
    int K = net->classes;
    float *x = malloc(sizeof(float) * in * (size_t)N), *fl = malloc(sizeof(float) * (size_t)(N * K));
    uint64_t *xr = malloc(8 * in * (size_t)N), *lr = malloc(8 * (size_t)(N * K));
    tp_inputs(net, x, N, salt);
    tp_float(net, x, N, fl);
    ar_pi_encode_input(xr, x, in * (size_t)N, f);
    struct ar_pi_fixed_stats *st = calloc((size_t)m.n_ops, sizeof *st);
    rc = ar_pi_fixed_run(&m, N, xr, lr, st, err);
    CHECK_MSG(rc == AR_OK, "fixed run: %s", err);
    *maxd = *maxv = 0;
    *agree = 0;
    for (int n = 0; n < N && !rc; n++) {
        int a = 0, b = 0;
        for (int k = 0; k < K; k++) {
            double v = ar_fix_decode(lr[n * K + k], f), w = fl[n * K + k];
            *maxd = fmax(*maxd, fabs(v - w));
            *maxv = fmax(*maxv, fabs(w));
            if (fl[n * K + k] > fl[n * K + b]) b = k;
        }
        a = ar_pi_argmax(lr + n * K, K);
        *agree += a == b;
    }
    for (int i = 0; i < m.n_ops; i++) CHECK_MSG(st[i].max_bits <= 40, "%s: %d bits before truncation",
                                                m.ops[i].name, st[i].max_bits);
    free(st);
    free(x);
    free(fl);
    free(xr);
    free(lr);
    ar_pi_model_free(&m);
}

AR_TEST(pi_compile_structure) {
    char err[AR_ERR_LEN] = "";
    struct ar_net net;
    REQUIRE_OK(tp_build(&net, tp_net_a, 1, 0.5, 2, 1, err), err);
    struct ar_pi_model m, pub;
    REQUIRE_OK(tp_compile(&net, 12, 1, &m, err), err);
    REQUIRE_OK(tp_compile(&net, 12, 0, &pub, err), err);
    /* c1+bn1, r1, c2+bn2, add1, bn3 (diagonal), r2, mp, c3, r3, ap, fc */
    CHECK_EQ_INT(m.n_ops, 11);
    int i = ar_pi_find_op(&m, "c1+bn1");
    CHECK(i == 0 && m.ops[0].bn_folded && m.ops[0].trunc == 12);
    i = ar_pi_find_op(&m, "bn3");
    CHECK(i >= 0 && m.ops[i].kind == AR_PI_LINEAR && m.ops[i].bn_affine && m.ops[i].cs.oc == 8 &&
          m.ops[i].cs.kh == 1);
    if (i >= 0 && m.ops[i].w) /* diagonal */
        CHECK(m.ops[i].w[1] == 0 && m.ops[i].w[0] != 0);
    i = ar_pi_find_op(&m, "fc");
    /* global pool over 3x3: divisor 9 folded with g = 4 extra bits */
    CHECK(i >= 0 && m.ops[i].trunc == 16 && m.values[m.ops[i].in[0]].div == 9);
    CHECK(ar_pi_find_op(&m, "mp") >= 0 && m.ops[ar_pi_find_op(&m, "mp")].kind == AR_PI_MAXPOOL);
    CHECK(m.relu_count > 0 && m.poly_count > 0 && m.relu_count + m.poly_count == net.relu_total);
    /* public compile: same structure and hash, no weights */
    CHECK(!memcmp(m.hash, pub.hash, sizeof m.hash));
    CHECK(pub.ops[0].w == NULL && pub.ops[0].bias == NULL && !pub.has_weights);
    /* a different mask or precision changes the hash */
    struct ar_pi_model m16;
    REQUIRE_OK(tp_compile(&net, 16, 0, &m16, err), err);
    CHECK(memcmp(m.hash, m16.hash, sizeof m.hash) != 0);
    ar_pi_model_free(&m16);
    const struct ar_tensor_info *t = ar_net_find_tensor(&net, "r2.relu_mask");
    REQUIRE(t);
    uint8_t *mk = ar_net_tensor_data(&net, t);
    mk[3] ^= 1;
    REQUIRE_OK(tp_compile(&net, 12, 0, &m16, err), err);
    CHECK(memcmp(m.hash, m16.hash, sizeof m.hash) != 0);
    ar_pi_model_free(&m16);
    mk[3] = 7;
    CHECK(tp_compile(&net, 12, 0, &m16, err) == AR_ERR_ARG && strstr(err, "r2") && strstr(err, "not 0 or 1"));
    CHECK(tp_compile(&net, 7, 0, &m16, err) == AR_ERR_ARG);
    ar_pi_model_free(&m);
    ar_pi_model_free(&pub);
    ar_net_free(&net);
}

AR_TEST(pi_compile_rejects_unsupported) {
    char err[AR_ERR_LEN] = "";
    static const char padpool[] = "[net]\ninput = 1x8x8\nclasses = 3\n[conv]\nname = c\nfilters = 2\nsize = 3\n"
                                  "[avgpool]\nname = p\nsize = 3\npad = 1\n[linear]\nname = fc\noutputs = auto\n";
    static const char poolrelu[] = "[net]\ninput = 1x8x8\nclasses = 3\n[conv]\nname = c\nfilters = 2\nsize = 3\n"
                                   "[avgpool]\nname = p\nsize = 2\n[relu]\nname = r\n"
                                   "[linear]\nname = fc\noutputs = auto\n";
    struct ar_net net;
    struct ar_pi_model m;
    REQUIRE_OK(tp_build(&net, padpool, 0, 1, 1, 2, err), err);
    CHECK(tp_compile(&net, 12, 1, &m, err) == AR_ERR_ARG && strstr(err, "p: pooling with padding"));
    ar_net_free(&net);
    REQUIRE_OK(tp_build(&net, poolrelu, 0, 1, 1, 3, err), err);
    CHECK(tp_compile(&net, 12, 1, &m, err) == AR_ERR_ARG && strstr(err, "r: an activation after an average pool"));
    ar_net_free(&net);
}

/* BN / pool folding and fixed-point encoding against the float executor. */
AR_TEST(pi_fixed_matches_float_every_layer_type) {
    const char *cfgs[2] = {tp_net_a, tp_net_b};
    for (int c = 0; c < 2; c++)
        for (int masked = 0; masked < 2; masked++) {
            char err[AR_ERR_LEN] = "";
            struct ar_net net;
            REQUIRE_OK(tp_build(&net, cfgs[c], masked, 0.4, 16, 10 + (uint64_t)(2 * c + masked), err), err);
            double d12, v12, d16, v16, d8, v8;
            int a12, a16, a8;
            compare_float(&net, 12, 16, 20 + (uint64_t)c, &d12, &v12, &a12);
            compare_float(&net, 16, 16, 20 + (uint64_t)c, &d16, &v16, &a16);
            compare_float(&net, 8, 16, 20 + (uint64_t)c, &d8, &v8, &a8);
            printf("    net %c %s: max |fixed - float| f=8 %.2e, f=12 %.2e, f=16 %.2e (max |logit| %.2f); argmax "
                   "agreement %d/%d/%d of 16\n",
                   'A' + c, masked ? "masked" : "plain", d8, d12, d16, v12, a8, a12, a16);
            CHECK_MSG(d12 <= 0.01 + 0.01 * v12, "f=12: max diff %.4f (max |logit| %.3f)", d12, v12);
            CHECK_MSG(d16 <= 0.001 + 0.001 * v16, "f=16: max diff %.5f (max |logit| %.3f)", d16, v16);
            CHECK_MSG(d16 < d12 && d12 < d8, "error does not shrink with precision: %.2e %.2e %.2e", d8, d12, d16);
            ar_net_free(&net);
        }
}
