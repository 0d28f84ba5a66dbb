/* Tests of the oneDNN convolution (kernels/conv.h) against the double-accumulation
 * reference, for every layout strategy, plus ar_sgemm against a naive GEMM. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

static void fill(float *p, size_t n, struct ar_rng *r) {
    for (size_t i = 0; i < n; i++) p[i] = ar_rng_uniform(r) * 2.0f - 1.0f;
}

/* Absolute tolerance for a sum of `terms` products of values in [-1, 1]: float32
 * rounding grows like sqrt(terms) (blocked/tree summation), so scale 1e-4 with it. */
static double tol_for(double terms) {
    double t = 1e-4 * sqrt(terms / 16.0);
    return t < 1e-4 ? 1e-4 : t;
}

struct bufs {
    size_t nx, ny, nw;
    float *x, *w, *b, *y, *dy, *dx, *dw, *db;          /* inputs and results */
    float *ry, *rdx, *rdw, *rdb, *dx0;                /* references, initial dx */
    float *nx_, *ny_, *ndx_, *ndy_;                   /* native-layout copies */
};

static int bufs_alloc(struct bufs *B, const struct ar_conv_shape *s) {
    memset(B, 0, sizeof *B);
    B->nx = (size_t)s->n * s->c * s->h * s->w;
    B->ny = (size_t)s->n * s->oc * s->oh * s->ow;
    B->nw = (size_t)s->oc * s->c * s->kh * s->kw;
    float **p[] = {&B->x, &B->dx, &B->rdx, &B->dx0};
    for (size_t i = 0; i < 4; i++)
        if (!(*p[i] = malloc(B->nx * sizeof(float)))) return 0;
    float **q[] = {&B->y, &B->dy, &B->ry};
    for (size_t i = 0; i < 3; i++)
        if (!(*q[i] = malloc(B->ny * sizeof(float)))) return 0;
    float **r[] = {&B->w, &B->dw, &B->rdw};
    for (size_t i = 0; i < 3; i++)
        if (!(*r[i] = malloc(B->nw * sizeof(float)))) return 0;
    float **t[] = {&B->b, &B->db, &B->rdb};
    for (size_t i = 0; i < 3; i++)
        if (!(*t[i] = malloc((size_t)s->oc * sizeof(float)))) return 0;
    return 1;
}

static void bufs_free(struct bufs *B) {
    float *all[] = {B->x, B->w, B->b, B->y, B->dy, B->dx, B->dw, B->db, B->ry, B->rdx, B->rdw, B->rdb, B->dx0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    ar_free_big(B->nx_);
    ar_free_big(B->ny_);
    ar_free_big(B->ndx_);
    ar_free_big(B->ndy_);
}

/* Check every pass of one convolution object against the reference. With NATIVE
 * flags, x/dx (NATIVE_X) and y/dy (NATIVE_Y) go through the native-layout API. Two
 * rounds with fresh weights catch stale reordered weights; round 2 accumulates dx. */
static int n_native_runs;

/* One workspace shared by all convolutions, grown on demand (as an executor would
 * allocate the maximum once): fresh pages are expensive here. */
static void *shared_ws(size_t bytes) {
    static void *ws;
    static size_t cap;
    if (bytes > cap) {
        ar_free_big(ws);
        cap = bytes + (bytes >> 2);
        ws = ar_alloc_big(cap);
        if (!ws) cap = 0;
    }
    return ws;
}

/* Caller-side buffer for a tensor: the plain one, or its native copy. */
static const float *to_side(int native, const struct ar_conv_layout *l, const float *plain, float *nat) {
    if (!native) return plain;
    ar_conv_layout_pack(l, plain, nat);
    return nat;
}

static void check_conv(const struct ar_conv_shape *s0, int flags, struct ar_rng *rng) {
    struct ar_conv_shape s = *s0;
    REQUIRE(ar_conv_shape_finish(&s));
    char err[AR_ERR_LEN], what[256];
    struct ar_conv *cv = NULL;
    int rc = ar_conv_create(&cv, &s, AR_CONV_TRAIN | flags, err);
    if (rc == AR_ERR_ARG && (flags & (AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y))) return; /* layout not describable */
    REQUIRE_OK(rc, err);
    struct bufs B;
    if (!bufs_alloc(&B, &s)) {
        bufs_free(&B);
        ar_conv_free(cv);
        REQUIRE(0);
    }
    const int natx = (flags & AR_CONV_NATIVE_X) != 0, naty = (flags & AR_CONV_NATIVE_Y) != 0;
    n_native_runs += natx || naty;
    struct ar_conv_layout lx, ly;
    ar_conv_native_layout(cv, AR_CONV_X, &lx);
    ar_conv_native_layout(cv, AR_CONV_Y, &ly);
    CHECK(lx.n == s.n && lx.c == s.c && lx.h == s.h && lx.w == s.w);
    CHECK(ly.n == s.n && ly.c == s.oc && ly.h == s.oh && ly.w == s.ow);
    B.nx_ = ar_alloc_big(lx.bytes);
    B.ndx_ = ar_alloc_big(lx.bytes);
    B.ny_ = ar_alloc_big(ly.bytes);
    B.ndy_ = ar_alloc_big(ly.bytes);
    size_t wsb = ar_conv_workspace_bytes(cv);
    /* fill the workspace with NaNs to catch reads of data no pass has written */
    void *ws = shared_ws(wsb);
    if (ws) memset(ws, 0xff, wsb);
    snprintf(what, sizeof what, "n%d c%d %dx%d oc%d k%dx%d s%dx%d p%dx%d b%d flags%d", s.n, s.c, s.h, s.w, s.oc,
             s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.bias, flags);
    const double kf = (double)s.c * s.kh * s.kw; /* terms per y element */
    const double kd = (double)s.oc * ((s.kh + s.sh - 1) / s.sh) * ((s.kw + s.sw - 1) / s.sw); /* per dx */
    const double kw_ = (double)s.n * s.oh * s.ow;                                               /* per dw */
    for (int round = 0; round < 2 && ws && B.nx_ && B.ndx_ && B.ny_ && B.ndy_; round++) {
        fill(B.x, B.nx, rng);
        fill(B.w, B.nw, rng);
        fill(B.b, (size_t)s.oc, rng);
        fill(B.dy, B.ny, rng);
        fill(B.dx0, B.nx, rng);
        const float *bias = s.bias ? B.b : NULL;
        float *db = s.bias ? B.db : NULL;
        const int acc = round == 1;
        ar_conv_ref_forward(&s, B.x, B.w, bias, B.ry);
        memcpy(B.rdx, B.dx0, B.nx * sizeof(float));
        ar_conv_ref_backward_data(&s, B.dy, B.w, B.rdx, acc);
        ar_conv_ref_backward_weights(&s, B.x, B.dy, B.rdw, s.bias ? B.rdb : NULL);

        const float *x = to_side(natx, &lx, B.x, B.nx_), *dy = to_side(naty, &ly, B.dy, B.ndy_);
        float *y = naty ? B.ny_ : B.y, *dx = natx ? B.ndx_ : B.dx;

        ar_conv_forward(cv, x, B.w, bias, y, ws);
        if (naty) ar_conv_layout_unpack(&ly, B.ny_, B.y);
        CHECK_CLOSE(what, B.y, B.ry, B.ny, tol_for(kf), 1e-4);
        if (s.bias && round) { /* a conv with a bias called with b == NULL adds nothing */
            ar_conv_forward(cv, x, B.w, NULL, y, ws);
            if (naty) ar_conv_layout_unpack(&ly, B.ny_, B.y);
            ar_conv_ref_forward(&s, B.x, B.w, NULL, B.ry);
            CHECK_CLOSE(what, B.y, B.ry, B.ny, tol_for(kf), 1e-4);
        }

        memcpy(B.dx, B.dx0, B.nx * sizeof(float));
        to_side(natx, &lx, B.dx0, B.ndx_);
        ar_conv_backward_data(cv, dy, B.w, dx, acc, ws);
        if (natx) ar_conv_layout_unpack(&lx, B.ndx_, B.dx);
        CHECK_CLOSE(what, B.dx, B.rdx, B.nx, tol_for(kd), 1e-4);

        memset(B.dw, 0xff, B.nw * sizeof(float)); /* must be overwritten */
        memset(B.db, 0xff, (size_t)s.oc * sizeof(float));
        ar_conv_backward_weights(cv, x, dy, B.dw, db, ws);
        CHECK_CLOSE(what, B.dw, B.rdw, B.nw, tol_for(kw_), 1e-4);
        if (s.bias) CHECK_CLOSE(what, B.db, B.rdb, (size_t)s.oc, tol_for(kw_), 1e-4);

        /* combined backward gives the same results (round 2: db NULL even with a bias) */
        memcpy(B.dx, B.dx0, B.nx * sizeof(float));
        to_side(natx, &lx, B.dx0, B.ndx_);
        memset(B.dw, 0xff, B.nw * sizeof(float));
        memset(B.db, 0xff, (size_t)s.oc * sizeof(float));
        ar_conv_backward(cv, x, dy, B.w, dx, acc, B.dw, round ? NULL : db, ws);
        if (natx) ar_conv_layout_unpack(&lx, B.ndx_, B.dx);
        CHECK_CLOSE(what, B.dx, B.rdx, B.nx, tol_for(kd), 1e-4);
        CHECK_CLOSE(what, B.dw, B.rdw, B.nw, tol_for(kw_), 1e-4);
        if (s.bias && !round) CHECK_CLOSE(what, B.db, B.rdb, (size_t)s.oc, tol_for(kw_), 1e-4);
        /* weights-only backward (dx == NULL) */
        memset(B.dw, 0xff, B.nw * sizeof(float));
        ar_conv_backward(cv, x, dy, NULL, NULL, 0, B.dw, NULL, ws);
        CHECK_CLOSE(what, B.dw, B.rdw, B.nw, tol_for(kw_), 1e-4);
    }
    CHECK(ws != NULL);
    bufs_free(&B);
    ar_conv_free(cv);
}

static const int all_modes[] = {0,
                                AR_CONV_PLAIN,
                                AR_CONV_BLOCKED,
                                AR_CONV_BLOCKED | AR_CONV_DIRECT,
                                AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y,
                                AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y | AR_CONV_DIRECT,
                                AR_CONV_NATIVE_Y};

AR_TEST(conv_shape_finish) {
    struct ar_conv_shape s = {2, 3, 32, 32, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0};
    CHECK(ar_conv_shape_finish(&s));
    CHECK_EQ_INT(s.oh, 16);
    CHECK_EQ_INT(s.ow, 16);
    struct ar_conv_shape t = {1, 1, 6, 7, 1, 1, 1, 2, 2, 0, 0, 0, 0, 0};
    CHECK(ar_conv_shape_finish(&t));
    CHECK_EQ_INT(t.oh, 3);
    CHECK_EQ_INT(t.ow, 4);
    struct ar_conv_shape u = {1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0, 0, 0, 0};
    CHECK(!ar_conv_shape_finish(&u)); /* kernel larger than input */
    u.ph = u.pw = 1;
    CHECK(ar_conv_shape_finish(&u) && u.oh == 2);
    u.sh = 0;
    CHECK(!ar_conv_shape_finish(&u));
    char err[AR_ERR_LEN];
    struct ar_conv *cv = (struct ar_conv *)&u;
    struct ar_conv_shape bad = {1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 7, 7, 0}; /* oh inconsistent */
    CHECK_EQ_INT(ar_conv_create(&cv, &bad, 0, err), AR_ERR_ARG);
    CHECK(cv == NULL);
    ar_conv_free(NULL);
}

/* Kernel sizes 1..7, strides 1/2, paddings 0..3, non-square, odd channel counts,
 * with/without bias, n = 1 and 4, accumulate on and off (round 2), all strategies. */
AR_TEST(conv_matches_reference_many_shapes) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 0xc0, 1);
    static const struct ar_conv_shape cases[] = {
        /* n  c   h   w   oc kh kw sh sw ph pw oh ow bias */
        {1, 3, 9, 9, 5, 3, 3, 1, 1, 1, 1, 0, 0, 1},
        {4, 5, 8, 11, 17, 3, 3, 2, 2, 1, 1, 0, 0, 0},
        {1, 17, 7, 6, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {4, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0, 0, 0, 0},
        {1, 3, 13, 10, 16, 5, 5, 2, 2, 2, 2, 0, 0, 1},
        {4, 1, 12, 12, 8, 7, 7, 2, 2, 3, 3, 0, 0, 0},
        {1, 32, 6, 6, 32, 3, 3, 1, 1, 1, 1, 0, 0, 1},
        {4, 5, 10, 7, 3, 3, 5, 1, 2, 0, 2, 0, 0, 1},
        {1, 16, 9, 9, 17, 5, 3, 2, 1, 1, 0, 0, 0, 0},
        {4, 17, 5, 9, 5, 1, 1, 2, 1, 0, 0, 0, 0, 1},
        {1, 1, 28, 28, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0},
        {4, 33, 6, 5, 48, 3, 3, 2, 2, 1, 1, 0, 0, 1},
        {1, 7, 11, 11, 9, 7, 7, 1, 1, 3, 3, 0, 0, 1},
        {4, 3, 8, 8, 64, 3, 3, 1, 1, 0, 0, 0, 0, 0},
        {1, 64, 4, 4, 16, 3, 3, 1, 1, 2, 2, 0, 0, 0},
        {4, 8, 7, 7, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1},
        /* Winograd-eligible (3x3 stride 1, channels % 16 == 0) */
        {4, 16, 7, 9, 32, 3, 3, 1, 1, 1, 1, 0, 0, 1},
        {1, 16, 5, 5, 16, 3, 3, 1, 1, 0, 0, 0, 0, 0},
        {4, 32, 4, 4, 48, 3, 3, 1, 1, 1, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t m = 0; m < sizeof all_modes / sizeof all_modes[0]; m++) {
            check_conv(&cases[i], all_modes[m], &rng);
            if (ar_test_failed_now()) return;
        }
    CHECK(n_native_runs >= 8); /* the native-layout API was exercised */
}

/* The ResNet-18 shapes at a small batch, in the default (automatic) strategy. */
AR_TEST(conv_matches_reference_resnet_shapes) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 0xc0, 2);
    static const struct ar_conv_shape cases[] = {
        {2, 3, 32, 32, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0},    {1, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0},
        {2, 64, 32, 32, 128, 3, 3, 2, 2, 1, 1, 0, 0, 0},  {2, 64, 32, 32, 128, 1, 1, 2, 2, 0, 0, 0, 0, 0},
        {2, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 0, 0, 0}, {2, 256, 8, 8, 512, 1, 1, 2, 2, 0, 0, 0, 0, 0},
        {2, 512, 4, 4, 512, 3, 3, 1, 1, 1, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_conv(&cases[i], 0, &rng);
        if (ar_test_failed_now()) return;
    }
}

AR_TEST(conv_native_layout_pack_roundtrip) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 0xc0, 3);
    for (int B = 1; B <= 16; B *= 2) {
        if (B == 2 || B == 4) continue;
        struct ar_conv_layout l = {3, 21, 5, 7, B, 0};
        int cb = (l.c + B - 1) / B;
        l.bytes = (size_t)l.n * cb * B * l.h * l.w * sizeof(float);
        size_t n = (size_t)l.n * l.c * l.h * l.w;
        float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *p = malloc(l.bytes);
        REQUIRE(a && b && p);
        fill(a, n, &rng);
        memset(p, 0x7f, l.bytes);
        ar_conv_layout_pack(&l, a, p);
        /* element (1, 20, 4, 6) */
        size_t idx = ((((size_t)1 * cb + 20 / B) * l.h + 4) * l.w + 6) * B + 20 % B;
        CHECK(p[idx] == a[(((size_t)1 * l.c + 20) * l.h + 4) * l.w + 6]);
        if (B > 1) CHECK(p[((((size_t)2 * cb + cb - 1) * l.h + 4) * l.w + 6) * B + B - 1] == 0.0f); /* padding */
        ar_conv_layout_unpack(&l, p, b);
        CHECK(memcmp(a, b, n * sizeof(float)) == 0);
        free(a);
        free(b);
        free(p);
    }
}

/* ---- GEMM ---- */

static void naive_gemm(char ta, char tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                       int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = ta == 'N' ? A[(size_t)i * lda + k] : A[(size_t)k * lda + i];
                double b = tb == 'N' ? B[(size_t)k * ldb + j] : B[(size_t)j * ldb + k];
                acc += a * b;
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * C[(size_t)i * ldc + j];
            C[(size_t)i * ldc + j] = (float)(alpha * acc + c);
        }
}

AR_TEST(gemm_matches_naive) {
    struct ar_rng rng;
    ar_rng_seed(&rng, ar_test_seed(), 0x9e, 1);
    static const int sizes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {128, 10, 512}, {3, 100, 1}, {64, 64, 64}};
    static const char tr[2] = {'N', 'T'};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int ia = 0; ia < 2; ia++)
            for (int ib = 0; ib < 2; ib++)
                for (int bi = 0; bi < 2; bi++) {
                    int M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
                    char ta = tr[ia], tb = tr[ib];
                    int lda = (ta == 'N' ? K : M) + 3, ldb = (tb == 'N' ? N : K) + 1, ldc = N + 2;
                    size_t na = (size_t)(ta == 'N' ? M : K) * lda, nb = (size_t)(tb == 'N' ? K : N) * ldb,
                           nc = (size_t)M * ldc;
                    float *A = malloc(na * sizeof(float)), *Bm = malloc(nb * sizeof(float)),
                          *C = malloc(nc * sizeof(float)), *R = malloc(nc * sizeof(float));
                    REQUIRE(A && Bm && C && R);
                    fill(A, na, &rng);
                    fill(Bm, nb, &rng);
                    fill(C, nc, &rng);
                    float beta = bi ? 1.0f : 0.0f, alpha = 0.75f;
                    if (!bi)
                        for (size_t i = 0; i < nc; i++) C[i] = NAN; /* beta 0 must not read C */
                    for (int i = 0; i < M; i++)                      /* padding columns must stay */
                        for (int j = N; j < ldc; j++) C[(size_t)i * ldc + j] = 42.0f;
                    memcpy(R, C, nc * sizeof(float));
                    ar_sgemm(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, C, ldc);
                    naive_gemm(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, R, ldc);
                    char what[96];
                    snprintf(what, sizeof what, "sgemm %c%c M%d N%d K%d beta%g", ta, tb, M, N, K, (double)beta);
                    CHECK_CLOSE(what, C, R, nc, tol_for(K), 1e-5);
                    free(A);
                    free(Bm);
                    free(C);
                    free(R);
                }
    /* degenerate: K == 0 scales C by beta */
    float c[4] = {1, 2, 3, 4};
    ar_sgemm('N', 'N', 2, 2, 0, 1.0f, c, 1, c, 2, 0.5f, c, 2);
    CHECK(c[0] == 0.5f && c[3] == 2.0f);
}

/* The automatic policy: Winograd for 3x3 stride-1 layers (not with AR_CONV_DIRECT),
 * plain for stems and 1x1 stride-2 shortcuts, blocked for the rest. */
AR_TEST(conv_policy_choices) {
    static const struct {
        struct ar_conv_shape s;
        int flags;
        const char *want, *not_want;
    } cases[] = {
        {{8, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0}, 0, "wino", NULL},
        {{8, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0}, AR_CONV_DIRECT, "jit", "wino"},
        {{8, 64, 16, 16, 128, 3, 3, 2, 2, 1, 1, 0, 0, 0}, 0, "jit", "wino"},
        {{8, 64, 16, 16, 128, 1, 1, 2, 2, 0, 0, 0, 0, 0}, 0, "gemm", "wino"},
        {{8, 3, 16, 16, 64, 3, 3, 1, 1, 1, 1, 0, 0, 0}, 0, "fwd x64:gemm", "wino"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ar_conv_shape s = cases[i].s;
        REQUIRE(ar_conv_shape_finish(&s));
        char err[AR_ERR_LEN], d[1024];
        struct ar_conv *cv;
        REQUIRE_OK(ar_conv_create(&cv, &s, AR_CONV_TRAIN | cases[i].flags, err), err);
        ar_conv_describe(cv, d, sizeof d);
        CHECK_MSG(strstr(d, cases[i].want) != NULL, "case %zu: want %s in:\n%s", i, cases[i].want, d);
        if (cases[i].not_want)
            CHECK_MSG(strstr(d, cases[i].not_want) == NULL, "case %zu: no %s in:\n%s", i, cases[i].not_want, d);
        struct ar_conv_layout l;
        ar_conv_native_layout(cv, AR_CONV_Y, &l);
        CHECK(l.block == 16 || l.block == 8); /* outputs of >= 64 channels are blocked natively */
        ar_conv_free(cv);
    }
}
