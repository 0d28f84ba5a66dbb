/* Layer kernels against PyTorch goldens (tools/gen_golden.py) and against finite
 * differences in double precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/mem.h"
#include "core/rng.h"
#include "golden_util.h"
#include "kernels/conv.h"
#include "kernels/linear.h"
#include "kernels/nn_kernels.h"

#define ATOL 1e-4
#define RTOL 1e-4

/* ---------------- goldens ---------------- */

static void conv_golden(const char *file) {
    struct ar_st g;
    if (!golden_open(&g, file)) return;
    struct ar_conv_shape s = {.n = golden_int(&g, "n"), .c = golden_int(&g, "c"), .h = golden_int(&g, "h"),
                              .w = golden_int(&g, "w"), .oc = golden_int(&g, "oc"), .kh = golden_int(&g, "k"),
                              .kw = golden_int(&g, "k"), .sh = golden_int(&g, "stride"), .sw = golden_int(&g, "stride"),
                              .ph = golden_int(&g, "pad"), .pw = golden_int(&g, "pad"), .bias = golden_int(&g, "bias")};
    REQUIRE(ar_conv_shape_finish(&s));
    char err[AR_ERR_LEN];
    struct ar_conv *cv = NULL;
    REQUIRE_OK(ar_conv_create(&cv, &s, AR_CONV_TRAIN, err), err);
    size_t nx = 0, ny = 0, nw = 0, nb = 0;
    const float *x = golden_f32(&g, "x", &nx), *w = golden_f32(&g, "w", &nw), *y = golden_f32(&g, "y", &ny),
                *dy = golden_f32(&g, "dy", NULL), *dx = golden_f32(&g, "dx", NULL), *dw = golden_f32(&g, "dw", NULL);
    const float *b = s.bias ? golden_f32(&g, "b", &nb) : NULL, *db = s.bias ? golden_f32(&g, "db", NULL) : NULL;
    void *ws = ar_alloc_big(ar_conv_workspace_bytes(cv) + 64);
    float *oy = copyf(NULL, ny), *odx = copyf(NULL, nx), *odw = copyf(NULL, nw), *odb = copyf(NULL, nb);
    ar_conv_forward(cv, x, w, b, oy, ws);
    CHECK_CLOSE("conv y", oy, y, ny, ATOL, RTOL);
    ar_conv_backward_data(cv, dy, w, odx, 0, ws);
    CHECK_CLOSE("conv dx", odx, dx, nx, ATOL, RTOL);
    ar_conv_backward_weights(cv, x, dy, odw, s.bias ? odb : NULL, ws);
    CHECK_CLOSE("conv dw", odw, dw, nw, ATOL, RTOL);
    if (s.bias) CHECK_CLOSE("conv db", odb, db, nb, ATOL, RTOL);
    /* accumulate mode adds to what is there */
    for (size_t i = 0; i < nx; i++) odx[i] = 1.0f;
    ar_conv_backward_data(cv, dy, w, odx, 1, ws);
    for (size_t i = 0; i < nx; i++) odx[i] -= 1.0f;
    CHECK_CLOSE("conv dx (accumulate)", odx, dx, nx, 2 * ATOL, RTOL);
    free(oy), free(odx), free(odw), free(odb), ar_free_big(ws);
    ar_conv_free(cv);
    ar_st_free(&g);
}

AR_TEST(golden_conv2d) {
    conv_golden("conv_k3s1p1b.safetensors");
    conv_golden("conv_k1s2p0.safetensors");
    conv_golden("conv_k5s2p2.safetensors");
    conv_golden("conv_k3s2p1.safetensors");
}

static void bn_golden(const char *file) {
    struct ar_st g;
    if (!golden_open(&g, file)) return;
    int n = golden_int(&g, "n"), c = golden_int(&g, "c"), hw = golden_int(&g, "h") * golden_int(&g, "w");
    size_t nx = 0;
    const float *x = golden_f32(&g, "x", &nx), *gm = golden_f32(&g, "weight", NULL), *bt = golden_f32(&g, "bias", NULL);
    REQUIRE(x && gm && bt);
    float *rm = copyf(golden_f32(&g, "running_mean", NULL), (size_t)c),
          *rv = copyf(golden_f32(&g, "running_var", NULL), (size_t)c);
    float *rm0 = copyf(rm, (size_t)c), *rv0 = copyf(rv, (size_t)c);
    float *y = copyf(NULL, nx), *dx = copyf(NULL, nx), *mean = copyf(NULL, (size_t)c), *rstd = copyf(NULL, (size_t)c),
          *dg = copyf(NULL, (size_t)c), *db = copyf(NULL, (size_t)c);
    ar_bn_forward_train(y, mean, rstd, rm, rv, x, gm, bt, n, c, hw, 0.1f, 1e-5f, 0);
    CHECK_CLOSE("bn y", y, golden_f32(&g, "y", NULL), nx, ATOL, RTOL);
    CHECK_CLOSE("bn running_mean", rm, golden_f32(&g, "running_mean_out", NULL), (size_t)c, 1e-6, 1e-5);
    CHECK_CLOSE("bn running_var", rv, golden_f32(&g, "running_var_out", NULL), (size_t)c, 1e-6, 1e-5);
    ar_bn_backward(dx, 0, dg, db, golden_f32(&g, "dy", NULL), x, mean, rstd, gm, n, c, hw, NULL);
    CHECK_CLOSE("bn dx", dx, golden_f32(&g, "dx", NULL), nx, ATOL, RTOL);
    CHECK_CLOSE("bn dweight", dg, golden_f32(&g, "dweight", NULL), (size_t)c, ATOL, RTOL);
    CHECK_CLOSE("bn dbias", db, golden_f32(&g, "dbias", NULL), (size_t)c, ATOL, RTOL);
    ar_bn_forward_eval(y, x, gm, bt, rm0, rv0, n, c, hw, 1e-5f, 0);
    CHECK_CLOSE("bn eval y", y, golden_f32(&g, "y_eval", NULL), nx, ATOL, RTOL);
    free(rm), free(rv), free(rm0), free(rv0), free(y), free(dx), free(mean), free(rstd), free(dg), free(db);
    ar_st_free(&g);
}

AR_TEST(golden_batchnorm) {
    bn_golden("bn_a.safetensors");
    bn_golden("bn_b.safetensors");
}

AR_TEST(golden_relu) {
    struct ar_st g;
    if (!golden_open(&g, "relu.safetensors")) return;
    size_t n = 0;
    const float *x = golden_f32(&g, "x", &n);
    REQUIRE(x);
    float *y = copyf(NULL, n), *dx = copyf(NULL, n);
    ar_relu_forward(y, x, n);
    CHECK_CLOSE("relu y", y, golden_f32(&g, "y", NULL), n, 0, 0);
    ar_relu_backward(dx, 0, golden_f32(&g, "dy", NULL), y, n);
    CHECK_CLOSE("relu dx", dx, golden_f32(&g, "dx", NULL), n, 0, 0);
    free(y), free(dx);
    ar_st_free(&g);
}

static void pool_golden(const char *file) {
    struct ar_st g;
    if (!golden_open(&g, file)) return;
    const char *kind = ar_st_meta(&g, "kind");
    int n = golden_int(&g, "n"), c = golden_int(&g, "c"), h = golden_int(&g, "h"), w = golden_int(&g, "w"),
        k = golden_int(&g, "k"), s = golden_int(&g, "stride"), p = golden_int(&g, "pad");
    size_t nx = 0, ny = 0;
    const float *x = golden_f32(&g, "x", &nx), *yg = golden_f32(&g, "y", &ny), *dy = golden_f32(&g, "dy", NULL);
    REQUIRE(x && yg && dy && kind);
    float *y = copyf(NULL, ny), *dx = copyf(NULL, nx);
    if (!strcmp(kind, "gap")) {
        ar_gap_forward(y, x, n, c, h * w);
        ar_gap_backward(dx, 0, dy, n, c, h * w);
    } else {
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        REQUIRE((size_t)n * c * oh * ow == ny);
        if (!strcmp(kind, "max")) {
            ar_maxpool_forward(y, x, n, c, h, w, k, s, p, oh, ow);
            ar_maxpool_backward(dx, 0, dy, x, n, c, h, w, k, s, p, oh, ow);
        } else {
            ar_avgpool_forward(y, x, n, c, h, w, k, s, p, oh, ow);
            ar_avgpool_backward(dx, 0, dy, n, c, h, w, k, s, p, oh, ow);
        }
    }
    CHECK_CLOSE(file, y, yg, ny, ATOL, RTOL);
    CHECK_CLOSE(file, dx, golden_f32(&g, "dx", NULL), nx, ATOL, RTOL);
    free(y), free(dx);
    ar_st_free(&g);
}

AR_TEST(golden_pooling) {
    pool_golden("pool_max_k2s2.safetensors");
    pool_golden("pool_max_k3s2p1.safetensors");
    pool_golden("pool_avg_k2s2.safetensors");
    pool_golden("pool_avg_k3s1p1.safetensors");
    pool_golden("pool_avg_k3s2p1.safetensors");
    pool_golden("pool_gap.safetensors");
}

AR_TEST(golden_linear) {
    struct ar_st g;
    if (!golden_open(&g, "linear.safetensors")) return;
    const int n = 5, in = 7, out = 3;
    const float *x = golden_f32(&g, "x", NULL), *w = golden_f32(&g, "w", NULL), *b = golden_f32(&g, "b", NULL);
    REQUIRE(x && w && b);
    float y[15], dx[35], dw[21], db[3];
    ar_linear_forward(y, x, w, b, n, in, out);
    CHECK_CLOSE("linear y", y, golden_f32(&g, "y", NULL), 15, ATOL, RTOL);
    ar_linear_backward(dx, 0, dw, db, golden_f32(&g, "dy", NULL), x, w, n, in, out);
    CHECK_CLOSE("linear dx", dx, golden_f32(&g, "dx", NULL), 35, ATOL, RTOL);
    CHECK_CLOSE("linear dw", dw, golden_f32(&g, "dw", NULL), 21, ATOL, RTOL);
    CHECK_CLOSE("linear db", db, golden_f32(&g, "db", NULL), 3, ATOL, RTOL);
    ar_st_free(&g);
}

AR_TEST(golden_losses) {
    struct ar_st g;
    if (!golden_open(&g, "xent.safetensors")) return;
    const float *z = golden_f32(&g, "logits", NULL);
    const struct ar_st_tensor *lt = ar_st_find(&g, "labels");
    REQUIRE(z && lt && lt->dtype == AR_DTYPE_I64 && lt->numel == 6);
    int32_t lab[6];
    for (int i = 0; i < 6; i++) lab[i] = (int32_t)((const int64_t *)lt->data)[i];
    float dz[60];
    double loss = ar_softmax_xent(dz, 1.0f, z, lab, 6, 10, NULL);
    CHECK(fabs(loss - golden_f32(&g, "loss", NULL)[0]) < 1e-5);
    CHECK_CLOSE("xent dlogits", dz, golden_f32(&g, "dlogits", NULL), 60, 1e-6, RTOL);
    ar_st_free(&g);

    if (!golden_open(&g, "kd.safetensors")) return;
    const float *s = golden_f32(&g, "s", NULL), *t = golden_f32(&g, "t", NULL);
    REQUIRE(s && t);
    float T = (float)golden_double(&g, "T"), ds[60];
    loss = ar_kd_loss(ds, 0, 1.0f, s, t, 6, 10, T);
    CHECK_MSG(fabs(loss - golden_f32(&g, "loss", NULL)[0]) < 1e-5, "kd loss %g vs %g", loss,
              (double)golden_f32(&g, "loss", NULL)[0]);
    CHECK_CLOSE("kd ds", ds, golden_f32(&g, "ds", NULL), 60, 1e-6, RTOL);
    ar_st_free(&g);
}

/* ---------------- finite differences in double ---------------- */

/* Central differences of L = sum(r .* f(x)) w.r.t. every element of x; skip
 * elements the caller marks as kinks. Relative error scaled by max(|g|,|fd|,1). */
typedef void (*fwd_fn)(void *ctx, const double *x, double *y);

static double fd_check(const char *what, fwd_fn f, void *ctx, double *x, size_t nx, size_t ny, const double *r,
                       const double *grad, const unsigned char *skip) {
    double *y = malloc(sizeof(double) * ny), worst = 0;
    for (size_t i = 0; i < nx; i++) {
        if (skip && skip[i]) continue;
        const double e = 1e-6, x0 = x[i];
        double lp = 0, lm = 0;
        x[i] = x0 + e;
        f(ctx, x, y);
        for (size_t j = 0; j < ny; j++) lp += r[j] * y[j];
        x[i] = x0 - e;
        f(ctx, x, y);
        for (size_t j = 0; j < ny; j++) lm += r[j] * y[j];
        x[i] = x0;
        double fd = (lp - lm) / (2 * e);
        double scale = fmax(fmax(fabs(fd), fabs(grad[i])), 1.0);
        double rel = fabs(fd - grad[i]) / scale;
        if (rel > worst) worst = rel;
    }
    free(y);
    CHECK_MSG(worst < 1e-6, "%s: finite-difference relative error %g", what, worst);
    return worst;
}

static void fill_normal(double *a, size_t n, struct ar_rng *r) {
    for (size_t i = 0; i < n; i++) a[i] = ar_rng_normal(r);
}

struct bn_ctx {
    int n, c, hw, wrt; /* 0 x, 1 gamma, 2 beta */
    double *x, *g, *b;
};

static void bn_fwd(void *vc, const double *v, double *y) {
    struct bn_ctx *c = vc;
    double mean[8], rstd[8], rm[8] = {0}, rv[8] = {0};
    const double *x = c->wrt == 0 ? v : c->x, *g = c->wrt == 1 ? v : c->g, *b = c->wrt == 2 ? v : c->b;
    ar_bn_forward_train_f64(y, mean, rstd, rm, rv, x, g, b, c->n, c->c, c->hw, 0.1, 1e-5, 0);
}

AR_TEST(fd_batchnorm_double) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 1, 0);
    enum { N = 3, C = 4, HW = 5, L = N * C * HW };
    double x[L], g[C], b[C], y[L], r[L], dx[L], dg[C], db[C], mean[C], rstd[C], rm[C] = {0}, rv[C] = {0};
    fill_normal(x, L, &rng), fill_normal(g, C, &rng), fill_normal(b, C, &rng), fill_normal(r, L, &rng);
    ar_bn_forward_train_f64(y, mean, rstd, rm, rv, x, g, b, N, C, HW, 0.1, 1e-5, 0);
    ar_bn_backward_f64(dx, 0, dg, db, r, x, mean, rstd, g, N, C, HW, NULL);
    struct bn_ctx c = {N, C, HW, 0, x, g, b};
    fd_check("bn dx", bn_fwd, &c, x, L, L, r, dx, NULL);
    c.wrt = 1;
    fd_check("bn dgamma", bn_fwd, &c, g, C, L, r, dg, NULL);
    c.wrt = 2;
    fd_check("bn dbeta", bn_fwd, &c, b, C, L, r, db, NULL);
}

struct pool_ctx {
    int kind, n, c, h, w, k, s, p, oh, ow;
};

static void pool_fwd(void *vc, const double *x, double *y) {
    struct pool_ctx *c = vc;
    if (c->kind == 0) ar_maxpool_forward_f64(y, x, c->n, c->c, c->h, c->w, c->k, c->s, c->p, c->oh, c->ow);
    else if (c->kind == 1) ar_avgpool_forward_f64(y, x, c->n, c->c, c->h, c->w, c->k, c->s, c->p, c->oh, c->ow);
    else if (c->kind == 2) ar_gap_forward_f64(y, x, c->n, c->c, c->h * c->w);
    else ar_relu_forward_f64(y, x, (size_t)c->n * c->c * c->h * c->w);
}

AR_TEST(fd_pool_relu_double) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 2, 0);
    enum { N = 2, C = 3, H = 7, W = 6, L = N * C * H * W };
    double x[L], y[L], r[L], dx[L];
    unsigned char skip[L];
    const struct pool_ctx cases[] = {{0, N, C, H, W, 3, 2, 1, 4, 3}, {0, N, C, H, W, 2, 2, 0, 3, 3},
                                     {1, N, C, H, W, 3, 1, 1, 7, 6}, {1, N, C, H, W, 3, 2, 1, 4, 3},
                                     {2, N, C, H, W, 0, 0, 0, 1, 1}, {3, N, C, H, W, 0, 0, 0, H, W}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        struct pool_ctx c = cases[ci];
        fill_normal(x, L, &rng);
        size_t ny = c.kind == 3 ? (size_t)L : (size_t)N * C * c.oh * c.ow;
        fill_normal(r, ny, &rng);
        memset(skip, 0, sizeof skip);
        if (c.kind == 3)
            for (int i = 0; i < L; i++) skip[i] = fabs(x[i]) < 1e-3; /* ReLU kink */
        pool_fwd(&c, x, y);
        if (c.kind == 0) ar_maxpool_backward_f64(dx, 0, r, x, N, C, H, W, c.k, c.s, c.p, c.oh, c.ow);
        else if (c.kind == 1) ar_avgpool_backward_f64(dx, 0, r, N, C, H, W, c.k, c.s, c.p, c.oh, c.ow);
        else if (c.kind == 2) ar_gap_backward_f64(dx, 0, r, N, C, H * W);
        else ar_relu_backward_f64(dx, 0, r, y, L);
        /* max pool: random normals have no ties; skip nothing else */
        fd_check(c.kind == 0 ? "maxpool" : c.kind == 1 ? "avgpool" : c.kind == 2 ? "gap" : "relu", pool_fwd, &c, x,
                 L, ny, r, dx, skip);
    }
}

struct loss_ctx {
    int kd;
    const int32_t *lab;
    const double *t;
};

static void loss_fwd(void *vc, const double *z, double *y) {
    struct loss_ctx *c = vc;
    y[0] = c->kd ? ar_kd_loss_f64(NULL, 0, 1.0, z, c->t, 4, 5, 4.0) : ar_softmax_xent_f64(NULL, 1.0, z, c->lab, 4, 5, NULL);
}

AR_TEST(fd_losses_double) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 3, 0);
    double z[20], t[20], g[20], one = 1.0;
    int32_t lab[4] = {0, 3, 4, 1};
    fill_normal(z, 20, &rng), fill_normal(t, 20, &rng);
    struct loss_ctx c = {0, lab, t};
    ar_softmax_xent_f64(g, 1.0, z, lab, 4, 5, NULL);
    fd_check("softmax xent", loss_fwd, &c, z, 20, 1, &one, g, NULL);
    c.kd = 1;
    ar_kd_loss_f64(g, 0, 1.0, z, t, 4, 5, 4.0);
    fd_check("kd loss", loss_fwd, &c, z, 20, 1, &one, g, NULL);
}

/* Conv and linear run in float (oneDNN); check their backward against central
 * differences of a double-accumulated loss, with a tolerance for float rounding. */
AR_TEST(fd_conv_linear_float) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 4, 0);
    struct ar_conv_shape s = {.n = 2, .c = 3, .h = 6, .w = 5, .oc = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1,
                              .pw = 1, .bias = 1};
    REQUIRE(ar_conv_shape_finish(&s));
    char err[AR_ERR_LEN];
    struct ar_conv *cv;
    REQUIRE_OK(ar_conv_create(&cv, &s, AR_CONV_TRAIN, err), err);
    size_t nx = (size_t)s.n * s.c * s.h * s.w, nw = (size_t)s.oc * s.c * 9, ny = (size_t)s.n * s.oc * s.oh * s.ow;
    float *x = copyf(NULL, nx), *w = copyf(NULL, nw), *b = copyf(NULL, (size_t)s.oc), *y = copyf(NULL, ny),
          *r = copyf(NULL, ny), *dx = copyf(NULL, nx), *dw = copyf(NULL, nw), *db = copyf(NULL, (size_t)s.oc);
    void *ws = ar_alloc_big(ar_conv_workspace_bytes(cv) + 64);
    for (size_t i = 0; i < nx; i++) x[i] = (float)ar_rng_normal(&rng);
    for (size_t i = 0; i < nw; i++) w[i] = (float)ar_rng_normal(&rng);
    for (size_t i = 0; i < ny; i++) r[i] = (float)ar_rng_normal(&rng);
    ar_conv_backward_data(cv, r, w, dx, 0, ws);
    ar_conv_backward_weights(cv, x, r, dw, db, ws);
    double worst = 0;
    for (int which = 0; which < 2; which++) {
        float *v = which ? w : x, *g = which ? dw : dx;
        size_t n = which ? nw : nx;
        for (size_t i = 0; i < n; i++) {
            const float v0 = v[i], e = 1e-2f;
            double l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                v[i] = v0 + (sgn ? -e : e);
                ar_conv_forward(cv, x, w, b, y, ws);
                l[sgn] = 0;
                for (size_t j = 0; j < ny; j++) l[sgn] += (double)r[j] * y[j];
            }
            v[i] = v0;
            double fd = (l[0] - l[1]) / (2.0 * e);
            double rel = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), 1.0);
            if (rel > worst) worst = rel;
        }
    }
    CHECK_MSG(worst < 2e-3, "conv finite-difference relative error %g", worst);
    /* linear: y = x W^T + b with x (3,4), W (5,4); L = sum r.*y */
    float lx[12], lw[20], lb[5], ly[15], lr[15], ldx[12], ldw[20], ldb[5];
    for (int i = 0; i < 12; i++) lx[i] = (float)ar_rng_normal(&rng);
    for (int i = 0; i < 20; i++) lw[i] = (float)ar_rng_normal(&rng);
    for (int i = 0; i < 15; i++) lr[i] = (float)ar_rng_normal(&rng);
    for (int i = 0; i < 5; i++) lb[i] = (float)ar_rng_normal(&rng);
    ar_linear_backward(ldx, 0, ldw, ldb, lr, lx, lw, 3, 4, 5);
    worst = 0;
    for (int which = 0; which < 3; which++) {
        float *v = which == 0 ? lx : which == 1 ? lw : lb, *g = which == 0 ? ldx : which == 1 ? ldw : ldb;
        int n = which == 0 ? 12 : which == 1 ? 20 : 5;
        for (int i = 0; i < n; i++) {
            const float v0 = v[i], e = 1e-2f;
            double l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                v[i] = v0 + (sgn ? -e : e);
                ar_linear_forward(ly, lx, lw, lb, 3, 4, 5);
                l[sgn] = 0;
                for (int j = 0; j < 15; j++) l[sgn] += (double)lr[j] * ly[j];
            }
            v[i] = v0;
            double fd = (l[0] - l[1]) / (2.0 * e);
            double rel = fabs(fd - g[i]) / fmax(fmax(fabs(fd), fabs(g[i])), 1.0);
            if (rel > worst) worst = rel;
        }
    }
    CHECK_MSG(worst < 2e-3, "linear finite-difference relative error %g", worst);
    free(x), free(w), free(b), free(y), free(r), free(dx), free(dw), free(db), ar_free_big(ws);
    ar_conv_free(cv);
}
