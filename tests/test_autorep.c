/* AutoReP and SNL: hysteresis table, straight-through and hinge gradients, DaPa
 * vectors (method.md §8.4), finite differences of the gated activation, the SNL
 * lambda rule, and end-to-end searches on a tiny network with strict budget
 * selection and bit-exact masks after save/load. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autorep/dapa.h"
#include "autorep/gate.h"
#include "autorep/replace.h"
#include "check.h"
#include "core/mem.h"
#include "core/rng.h"
#include "nn/ckpt.h"
#include "nn/train.h"

AR_TEST(hysteresis_state_table) {
    const float t = 0.003f;
    /* alpha, state in -> state out */
    const struct {
        float a;
        uint8_t in, out;
    } rows[] = {
        {0.5f, 1, 1},  {0.0f, 1, 1},   {-0.002f, 1, 1}, {-0.003f, 1, 0}, {-0.004f, 1, 0}, {-1.0f, 1, 0},
        {0.5f, 0, 1},  {0.0031f, 0, 1}, {0.003f, 0, 0},  {0.002f, 0, 0},  {0.0f, 0, 0},    {-0.5f, 0, 0},
    };
    size_t n = sizeof rows / sizeof rows[0];
    float a[16];
    uint8_t m[16];
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) a[i] = rows[i].a, m[i] = rows[i].in, ones += rows[i].out;
    CHECK_EQ_INT(ar_hysteresis(m, a, n, t), ones);
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(m[i] == rows[i].out, "alpha %g state %d -> %d, want %d", (double)rows[i].a, rows[i].in, m[i],
                  rows[i].out);
    /* idempotent for a fixed alpha */
    uint8_t m2[16];
    memcpy(m2, m, n);
    ar_hysteresis(m2, a, n, t);
    CHECK(memcmp(m, m2, n) == 0);
}

AR_TEST(dapa_vectors_from_method_spec) {
    const struct {
        double mu, s, c0, c1, c2;
    } ex[] = {{0, 1, 0.19947, 0.5, 0.19947},
              {0.5, 1, 0.22004, 0.51543, 0.17603},
              {-1, 2, 0.44008, 0.48457, 0.08802},
              {0.3, 0.7, 0.15077, 0.50991, 0.25995},
              {0, sqrt(2.0), 0.28209, 0.5, 0.14105}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        double c[3];
        ar_dapa_fit(ex[i].mu, ex[i].s, 2, c);
        CHECK_MSG(fabs(c[0] - ex[i].c0) < 1e-5 && fabs(c[1] - ex[i].c1) < 1e-5 && fabs(c[2] - ex[i].c2) < 1e-5,
                  "(%g, %g): got (%.5f, %.5f, %.5f)", ex[i].mu, ex[i].s, c[0], c[1], c[2]);
        float a[3];
        ar_dapa_stored(AR_DAPA_EXACT, ex[i].mu, ex[i].s * ex[i].s, 2, 0.5, a);
        CHECK(fabs(a[0] - ex[i].c0) < 1e-5 && fabs(a[1] - ex[i].c1) < 1e-5 && fabs(a[2] - ex[i].c2) < 1e-5);
    }
    double c[3];
    ar_dapa_fit(0, 1, 1, c);
    CHECK(fabs(c[0] - 0.39894) < 1e-5 && fabs(c[1] - 0.5) < 1e-9 && c[2] == 0);
    /* faithful stored parameters: s = max(var, 0.5), c0/5, c2/10 */
    const struct {
        double mu, var, a0, a1, a2;
    } fa[] = {{0, 1, 0.03989, 0.5, 0.01995}, {0.5, 2, 0.08217, 0.50204, 0.00967}, {0, 0.3, 0.01995, 0.5, 0.03989}};
    for (size_t i = 0; i < 3; i++) {
        float a[3];
        ar_dapa_stored(AR_DAPA_FAITHFUL, fa[i].mu, fa[i].var, 2, 0.5, a);
        CHECK_MSG(fabs(a[0] - fa[i].a0) < 1e-5 && fabs(a[1] - fa[i].a1) < 1e-5 && fabs(a[2] - fa[i].a2) < 1e-5,
                  "faithful (%g, %g): got (%.5f, %.5f, %.5f)", fa[i].mu, fa[i].var, (double)a[0], (double)a[1],
                  (double)a[2]);
    }
    /* the fit is the least-squares optimum: perturbing any coefficient raises the
     * Monte-Carlo error of relu - p under the Gaussian */
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 7, 0);
    double mu = 0.4, s = 1.3, xs[20000];
    for (int i = 0; i < 20000; i++) xs[i] = mu + s * ar_rng_normal(&r);
    ar_dapa_fit(mu, s, 2, c);
    double base = 0;
    for (int i = 0; i < 20000; i++) {
        double e = fmax(xs[i], 0) - (c[2] * xs[i] * xs[i] + c[1] * xs[i] + c[0]);
        base += e * e;
    }
    for (int k = 0; k < 3; k++)
        for (int sg = -1; sg <= 1; sg += 2) {
            double cc[3] = {c[0], c[1], c[2]}, err = 0;
            cc[k] += sg * 0.05;
            for (int i = 0; i < 20000; i++) {
                double e = fmax(xs[i], 0) - (cc[2] * xs[i] * xs[i] + cc[1] * xs[i] + cc[0]);
                err += e * e;
            }
            CHECK_MSG(err > base, "coefficient %d moved by %+.2f lowers the error", k, sg * 0.05);
        }
}

/* DaPa's running statistics: mean and unbiased variance per channel folded in with
 * momentum, against a double reference; the fused forward gives the same bits. */
AR_TEST(dapa_running_stats_and_fused_forward) {
    enum { N = 5, C = 3, HW = 37, L = N * C * HW };
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 12, 0);
    float x[L], y1[L], y2[L], poly[C * 3];
    uint8_t m[C * HW];
    for (int i = 0; i < L; i++) x[i] = (float)(2.0 * ar_rng_normal(&r) + 0.5);
    for (int i = 0; i < C * HW; i++) m[i] = ar_rng_below(&r, 2);
    for (int i = 0; i < C * 3; i++) poly[i] = (float)ar_rng_normal(&r);
    float mean1[C], var1[C], mean2[C], var2[C];
    for (int ch = 0; ch < C; ch++) mean1[ch] = mean2[ch] = 0.25f * ch, var1[ch] = var2[ch] = 1.0f + ch;
    ar_running_stats(mean1, var1, x, N, C, HW, 0.1f);
    for (int ch = 0; ch < C; ch++) {
        double s = 0, ss = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < HW; j++) s += x[(i * C + ch) * HW + j];
        const double mu = s / (N * HW);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < HW; j++) ss += pow(x[(i * C + ch) * HW + j] - mu, 2);
        const double want_m = 0.9 * 0.25 * ch + 0.1 * mu, want_v = 0.9 * (1.0 + ch) + 0.1 * ss / (N * HW - 1);
        CHECK_MSG(fabs(mean1[ch] - want_m) < 1e-5, "mean[%d] %g, want %g", ch, mean1[ch], want_m);
        CHECK_MSG(fabs(var1[ch] - want_v) < 1e-5 * want_v, "var[%d] %g, want %g", ch, var1[ch], want_v);
    }
    ar_gate_forward(y1, x, m, poly, N, C, HW);
    ar_gate_forward_stats(y2, x, m, poly, N, C, HW, mean2, var2, 0.1f);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    CHECK(memcmp(mean1, mean2, sizeof mean1) == 0 && memcmp(var1, var2, sizeof var1) == 0);
}

/* Finite differences (float, central, double-accumulated loss) of the gated
 * activation w.r.t. x and the effective coefficients; kept elements near the kink
 * are skipped. */
AR_TEST(gate_gradients_match_finite_differences) {
    enum { N = 3, C = 2, HW = 10, L = N * C * HW };
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 11, 0);
    float x[L], y[L], g[L], dx[L], dm[C * HW], dpoly[C * 3], poly[C * 3] = {0.1f, 0.6f, 0.2f, -0.05f, 0.4f, 0.3f};
    uint8_t m[C * HW];
    for (int i = 0; i < L; i++) x[i] = (float)ar_rng_normal(&r), g[i] = (float)ar_rng_normal(&r);
    for (int i = 0; i < C * HW; i++) m[i] = ar_rng_below(&r, 2);
    ar_gate_backward(dx, 0, dm, dpoly, g, x, m, poly, N, C, HW);
    double worst = 0;
    const float e = 1e-3f;
    for (int i = 0; i < L; i++) {
        int site = i % (C * HW);
        if (m[site] && fabsf(x[i]) < 2 * e) continue;
        float x0 = x[i];
        double l[2];
        for (int s = 0; s < 2; s++) {
            x[i] = x0 + (s ? -e : e);
            ar_gate_forward(y, x, m, poly, N, C, HW);
            l[s] = 0;
            for (int j = 0; j < L; j++) l[s] += (double)g[j] * y[j];
        }
        x[i] = x0;
        double fd = (l[0] - l[1]) / (2.0 * e);
        worst = fmax(worst, fabs(fd - dx[i]) / fmax(fmax(fabs(fd), fabs(dx[i])), 1.0));
    }
    CHECK_MSG(worst < 1e-3, "dx finite-difference error %g", worst);
    worst = 0;
    for (int k = 0; k < C * 3; k++) {
        float p0 = poly[k];
        double l[2];
        for (int s = 0; s < 2; s++) {
            poly[k] = p0 + (s ? -e : e);
            ar_gate_forward(y, x, m, poly, N, C, HW);
            l[s] = 0;
            for (int j = 0; j < L; j++) l[s] += (double)g[j] * y[j];
        }
        poly[k] = p0;
        double fd = (l[0] - l[1]) / (2.0 * e);
        worst = fmax(worst, fabs(fd - dpoly[k]) / fmax(fmax(fabs(fd), fabs(dpoly[k])), 1.0));
    }
    CHECK_MSG(worst < 1e-3, "dpoly finite-difference error %g", worst);
    /* dm = sum over the batch of g * (relu(x) - p(x)) */
    for (int ch = 0; ch < C; ch++)
        for (int j = 0; j < HW; j++) {
            double want = 0;
            for (int i = 0; i < N; i++) {
                double v = x[(i * C + ch) * HW + j];
                want += g[(i * C + ch) * HW + j] *
                        (fmax(v, 0) - (poly[3 * ch + 2] * v * v + poly[3 * ch + 1] * v + poly[3 * ch]));
            }
            CHECK(fabs(want - dm[ch * HW + j]) < 1e-4);
        }
    /* SNL: d/dalpha and d/dx */
    float a[C * HW], da[C * HW];
    for (int i = 0; i < C * HW; i++) a[i] = (float)ar_rng_normal(&r);
    ar_snl_backward(dx, 0, da, g, x, a, N, C * HW);
    for (int i = 0; i < L; i++) {
        float v = x[i], al = a[i % (C * HW)];
        CHECK(fabsf(dx[i] - g[i] * (v > 0 ? 1.0f : 1.0f - al)) < 1e-6f);
    }
    for (int j = 0; j < C * HW; j++) {
        double want = 0;
        for (int i = 0; i < N; i++) {
            float v = x[i * C * HW + j];
            want += g[i * C * HW + j] * (fmaxf(v, 0) - v);
        }
        CHECK(fabs(want - da[j]) < 1e-5);
    }
}

AR_TEST(snl_lambda_rule) {
    double lam = 1e-5;
    size_t lowest = (size_t)-1;
    /* falling counts never raise lambda */
    CHECK(!ar_snl_epoch_rule(&lam, &lowest, 1000, 100, 0));
    CHECK(!ar_snl_epoch_rule(&lam, &lowest, 900, 100, 6));
    CHECK(lam == 1e-5 && lowest == 900);
    /* a stalled count before epoch 5 does not raise lambda; from epoch 5 it does */
    CHECK(!ar_snl_epoch_rule(&lam, &lowest, 950, 100, 4));
    CHECK(lam == 1e-5);
    CHECK(!ar_snl_epoch_rule(&lam, &lowest, 900, 100, 5));
    CHECK(fabs(lam - 1.1e-5) < 1e-12);
    CHECK(!ar_snl_epoch_rule(&lam, &lowest, 901, 100, 6));
    CHECK(fabs(lam - 1.21e-5) < 1e-12);
    /* reaching the budget stops the search */
    CHECK(ar_snl_epoch_rule(&lam, &lowest, 100, 100, 7));
    CHECK(ar_snl_epoch_rule(&lam, &lowest, 3, 100, 8));
}

/* ---------------- end to end on a tiny network ---------------- */

static const char *tiny_cfg = "[net]\ninput = auto\nclasses = auto\n"
                              "[conv]\nname = c1\nfilters = 4\nsize = 3\npad = 1\n[batchnorm]\nname = b1\n"
                              "[relu]\nname = r1\n"
                              "[conv]\nname = c2\nfilters = 4\nsize = 3\npad = 1\n[batchnorm]\nname = b2\n"
                              "[relu]\nname = r2\n[avgpool]\nglobal = 1\n[linear]\nname = fc\noutputs = auto\n";

/* Two classes of 8x8 images: bright upper or lower half, with noise. */
static void synth(struct ar_dataset *d, int n, uint64_t seed) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "synthetic");
    d->n = n, d->c = 1, d->h = 8, d->w = 8, d->classes = 2;
    d->images = ar_alloc_big((size_t)n * 64);
    d->labels = ar_alloc_big((size_t)n);
    struct ar_rng r;
    ar_rng_seed(&r, seed, 1, 2);
    for (int i = 0; i < n; i++) {
        int y = (int)ar_rng_below(&r, 2);
        d->labels[i] = (uint8_t)y;
        for (int p = 0; p < 64; p++) {
            int top = p < 32;
            double v = ((top ^ y) ? 170 : 60) + 40 * ar_rng_normal(&r);
            d->images[(size_t)i * 64 + p] = (uint8_t)fmin(255, fmax(0, v));
        }
    }
}

static int train_base(const char *path, struct ar_dataset *tr, struct ar_dataset *te, char *err) {
    struct ar_net net;
    struct ar_net_opts no = {.in_shape = {1, 8, 8}, .classes = 2};
    int rc = ar_net_build(&net, tiny_cfg, "tiny", &no, err);
    if (rc) return rc;
    if ((rc = ar_net_plan(&net, 32, 1, err))) goto done;
    ar_net_init_params(&net, 3);
    struct ar_norm nm;
    ar_norm_from_data(&nm, tr);
    struct ar_train_opts o;
    ar_train_opts_default(&o);
    o.epochs = 3;
    o.batch = 32;
    for (int g = 0; g < AR_OPT_GROUPS; g++) o.lr[g] = 0.05f;
    o.out = path;
    char mean[64], std[64];
    ar_norm_format(&nm, 0, mean, sizeof mean);
    ar_norm_format(&nm, 1, std, sizeof std);
    const char *meta[] = {"data.mean", mean, "data.std", std, NULL};
    o.meta = meta;
    struct ar_train_result res;
    rc = ar_train_run(&net, tr, te, &nm, &o, NULL, &res, err);
done:
    ar_net_free(&net);
    return rc;
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

AR_TEST(autorep_search_reaches_budget_and_masks_round_trip) {
    char err[AR_ERR_LEN], base[512], out[512];
    const char *dir = ar_test_tmpdir();
    snprintf(base, sizeof base, "%s/base.safetensors", dir);
    snprintf(out, sizeof out, "%s/rep.safetensors", dir);
    struct ar_dataset tr, te;
    synth(&tr, 512, 1);
    synth(&te, 128, 2);
    REQUIRE_OK(train_base(base, &tr, &te, err), err);
    struct ar_replace_opts o;
    ar_replace_opts_default(&o, AR_METHOD_AUTOREP);
    o.budget = 40; /* of 2 x 4x8x8 = 512 */
    o.epochs = 20; /* 16 steps each: 320 steps */
    o.batch = 32;
    o.lr_gate = 0.02f;
    o.out = out;
    struct ar_replace_result res;
    REQUIRE_OK(ar_replace_run(base, &tr, &te, &o, &res, err), err);
    CHECK_EQ_INT(res.relu_total, 512);
    CHECK_MSG(res.relu_count <= 40, "kept %zu > budget 40", res.relu_count);
    CHECK(res.selected_epoch >= 1);
    CHECK_MSG(res.top1 > 0.8, "replaced top-1 %.3f", res.top1);
    /* the written model: masks and polynomials, bit-exact after a save/load round trip */
    struct ar_net a;
    struct ar_st st;
    REQUIRE_OK(ar_ckpt_open(&a, &st, out, NULL, err), err);
    CHECK(a.site_mode == AR_SITES_MASKED);
    CHECK(ar_net_find_tensor(&a, "r1.relu_mask") && ar_net_find_tensor(&a, "r2.poly"));
    CHECK(!ar_net_find_tensor(&a, "r1.alpha"));
    size_t kept = 0;
    for (size_t i = 0; i < a.n_masks; i++) kept += a.masks[i];
    CHECK_EQ_INT(kept, res.relu_count);
    char out2[600];
    snprintf(out2, sizeof out2, "%s/rep2.safetensors", dir);
    REQUIRE_OK(ar_ckpt_save(&a, out2, NULL, err), err);
    struct ar_net b;
    struct ar_st st2;
    REQUIRE_OK(ar_ckpt_open(&b, &st2, out2, NULL, err), err);
    CHECK(b.n_masks == a.n_masks && memcmp(a.masks, b.masks, a.n_masks) == 0);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) == 0);
    ar_net_free(&a), ar_net_free(&b), ar_st_free(&st), ar_st_free(&st2);

    /* lambda 0: the budget is never reached; the command fails and writes nothing */
    char out3[600];
    snprintf(out3, sizeof out3, "%s/never.safetensors", dir);
    o.lambda = 0;
    o.epochs = 2;
    o.out = out3;
    int rc = ar_replace_run(base, &tr, &te, &o, &res, err);
    CHECK_EQ_INT(rc, AR_ERR_BUDGET);
    CHECK_MSG(strstr(err, "--lambda") != NULL, "message: %s", err);
    CHECK(!exists(out3));

    /* SNL reaches the budget too (binarised, identity replacement, fine-tuned) */
    char out4[600];
    snprintf(out4, sizeof out4, "%s/snl.safetensors", dir);
    ar_replace_opts_default(&o, AR_METHOD_SNL);
    CHECK(o.poly == AR_POLY_IDENTITY && o.ft_clip == 0); /* clipping is AutoReP's (docs/autorep.md) */
    o.budget = 40;
    o.epochs = 12;
    o.finetune_epochs = 2;
    o.lambda = 1e-2; /* stops its search early */
    o.batch = 32;
    o.out = out4;
    REQUIRE_OK(ar_replace_run(base, &tr, &te, &o, &res, err), err);
    CHECK_MSG(res.relu_count <= 40, "SNL kept %zu > 40", res.relu_count);
    /* a run interrupted after SNL stopped its search early, or after fine-tuning,
     * resumes to the same model and reports the same epochs */
    CHECK_MSG(res.search_epochs_run < o.epochs, "SNL's search ran all %d epochs: no early stop", res.search_epochs_run);
    const char *stage[] = {"search", "finetune"};
    for (int k = 0; k < 2; k++) {
        char out5[600], from[700], to[700];
        snprintf(out5, sizeof out5, "%s/snl_resumed%d.safetensors", dir, k);
        snprintf(from, sizeof from, "%s.%s.resume", out4, stage[k]);
        snprintf(to, sizeof to, "%s.%s.resume", out5, stage[k]);
        REQUIRE(ar_test_copy_file(from, to) == 0);
        if (k == 1) REQUIRE(ar_test_copy_file(out4, out5) == 0);
        struct ar_replace_opts o5 = o;
        o5.out = out5;
        o5.resume = 1;
        struct ar_replace_result r5;
        REQUIRE_OK(ar_replace_run(base, &tr, &te, &o5, &r5, err), err);
        CHECK_MSG(ar_test_same_file(out4, out5), "resumed after the %s: another model", stage[k]);
        CHECK_EQ_INT(r5.search_epochs_run, res.search_epochs_run);
        CHECK_EQ_INT(r5.selected_epoch, res.selected_epoch);
        CHECK(r5.top1 == res.top1);
    }
    ar_dataset_free(&tr);
    ar_dataset_free(&te);
}

/* The tiny net with AutoReP sites attached, planned for `batch` and initialised. */
static int tiny_gated_net(struct ar_net *net, const struct ar_replace_opts *o, int batch, struct ar_sites **S,
                          char *err) {
    struct ar_net_opts no = {.in_shape = {1, 8, 8}, .classes = 2, .site_mode = AR_SITES_AUTOREP};
    int rc = ar_net_build(net, tiny_cfg, "tiny", &no, err);
    if (!rc) rc = ar_sites_attach(net, o, 1, S, err);
    if (!rc) rc = ar_net_plan(net, batch, 1, err);
    if (!rc) ar_net_init_params(net, 1);
    return rc;
}

static void tiny_gated_free(struct ar_net *net, struct ar_sites *S) {
    ar_sites_free(S);
    net->site_ctx = NULL;
    ar_net_free(net);
}

AR_TEST(budget_hinge_is_zero_at_or_under_budget) {
    char err[AR_ERR_LEN];
    struct ar_net net;
    struct ar_replace_opts o;
    ar_replace_opts_default(&o, AR_METHOD_AUTOREP);
    o.lambda = 50;
    struct ar_sites *S;
    REQUIRE_OK(tiny_gated_net(&net, &o, 2, &S, err), err);
    const struct ar_tensor_info *alpha = ar_net_find_tensor(&net, "r1.alpha");
    REQUIRE(alpha);
    float *ga = net.grads + alpha->off, *pa = net.params + alpha->off;
    /* all 512 kept; budget 512 -> no hinge: gradient is softplus(a) * dm only */
    for (int b = 0; b < 2; b++) {
        o.budget = b ? 100 : 512;
        ar_sites_free(S);
        REQUIRE_OK(ar_sites_attach(&net, &o, 1, &S, err), err);
        ar_sites_update_masks(S, &net);
        for (size_t i = 0; i < alpha->numel; i++) ga[i] = 0.25f;
        ar_sites_gate_grads(S, &net);
        double worst = 0;
        for (size_t i = 0; i < alpha->numel; i++) {
            double want = log1p(exp((double)pa[i])) * (0.25 + (b ? 50.0 / 512.0 : 0.0));
            worst = fmax(worst, fabs(want - ga[i]));
        }
        CHECK_MSG(worst < 1e-5, "budget %zu: straight-through gradient off by %g", o.budget, worst);
    }
    tiny_gated_free(&net, S);
}

/* DaPa's running statistics are gathered in training passes only while refits
 * are still to come (passes < dapa_until, dapa_every > 0); after the window a
 * training forward pass leaves them alone. */
AR_TEST(dapa_statistics_stop_after_the_refit_window) {
    char err[AR_ERR_LEN];
    struct ar_net net;
    struct ar_replace_opts o;
    ar_replace_opts_default(&o, AR_METHOD_AUTOREP);
    o.budget = 100;
    struct ar_sites *S;
    REQUIRE_OK(tiny_gated_net(&net, &o, 4, &S, err), err);
    const struct ar_tensor_info *mean = ar_net_find_tensor(&net, "r1.dapa_mean");
    REQUIRE(mean);
    float *m = net.state + mean->off;
    struct ar_rng r;
    ar_rng_seed(&r, 11, 0, 0);
    for (size_t i = 0; i < 4 * ar_shape_numel(net.in_shape); i++) net.input[i] = 1.0f + (float)ar_rng_normal(&r);
    net.train_mode = 1;
    for (int k = 0; k < 3; k++) {
        /* k = 0: in the window; 1: window over (dapa_until 0); 2: no refits at all */
        o.dapa_until = k == 1 ? 0 : 500;
        o.dapa_every = k == 2 ? 0 : 10;
        ar_sites_free(S);
        REQUIRE_OK(ar_sites_attach(&net, &o, 1, &S, err), err);
        ar_sites_update_masks(S, &net);
        memset(m, 0, sizeof(float) * mean->numel);
        ar_net_forward(&net, 4);
        double moved = 0;
        for (size_t i = 0; i < mean->numel; i++) moved += fabs(m[i]);
        if (k == 0)
            CHECK_MSG(moved > 0, "statistics not gathered in the refit window");
        else
            CHECK_MSG(moved == 0, "case %d: statistics gathered after the refit window (%g)", k, moved);
    }
    tiny_gated_free(&net, S);
}

/* Gradient clipping: one plain SGD step (no momentum, no decay, constant lr) moves the
 * parameters by exactly lr * clip in L2 norm when the raw gradient is larger, and by
 * lr * |g| (unclipped) when the bound is loose. */
AR_TEST(gradient_clipping_bounds_the_step) {
    char err[AR_ERR_LEN];
    struct ar_dataset tr;
    synth(&tr, 32, 5);
    struct ar_norm nm;
    ar_norm_from_data(&nm, &tr);
    double moved[2];
    long clipped[2];
    const float clip[2] = {1e-3f, 1e9f};
    for (int k = 0; k < 2; k++) {
        struct ar_net net;
        struct ar_net_opts no = {.in_shape = {1, 8, 8}, .classes = 2};
        REQUIRE_OK(ar_net_build(&net, tiny_cfg, "tiny", &no, err), err);
        REQUIRE_OK(ar_net_plan(&net, 32, 1, err), err);
        ar_net_init_params(&net, 3);
        float *before = malloc(sizeof(float) * net.n_params);
        REQUIRE(before);
        memcpy(before, net.params, sizeof(float) * net.n_params);
        struct ar_train_opts o;
        ar_train_opts_default(&o);
        o.epochs = 1;
        o.batch = 32;
        for (int g = 0; g < AR_OPT_GROUPS; g++) o.lr[g] = 0.5f;
        o.momentum = 0;
        o.wd = 0;
        o.sched.kind = AR_SCHED_CONST;
        o.clip_norm = clip[k];
        struct ar_train_result res;
        REQUIRE_OK(ar_train_run(&net, &tr, NULL, &nm, &o, NULL, &res, err), err);
        double ss = 0;
        for (size_t i = 0; i < net.n_params; i++) ss += ((double)net.params[i] - before[i]) * (net.params[i] - before[i]);
        moved[k] = sqrt(ss);
        clipped[k] = res.clipped_steps;
        free(before);
        ar_net_free(&net);
    }
    CHECK_EQ_INT(clipped[0], 1);
    CHECK_EQ_INT(clipped[1], 0);
    CHECK_MSG(fabs(moved[0] - 0.5 * 1e-3) < 1e-6, "clipped step moved %g, want %g", moved[0], 0.5e-3);
    CHECK_MSG(moved[1] > 10 * moved[0], "unclipped step moved only %g", moved[1]);
    ar_dataset_free(&tr);
}
