/* Tests of the ring kernels (src/kernels/ring.c): fixed-point encoding, signed
 * helpers, plaintext and share truncation, GEMM (AVX-512 and portable paths
 * against a naive triple loop), convolution against a direct loop on odd shapes,
 * sum pooling, the poly reference, and a speed print for ResNet-18-sized convs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/rng.h"
#include "kernels/ring.h"

static uint64_t *rand_u64(struct ar_rng *r, size_t n) {
    uint64_t *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = ar_rng_u64(r);
    return p;
}

AR_TEST(mpc_ring_signed_helpers) {
    CHECK(ar_ring_to_i64(ar_ring_from_i64(-1)) == -1);
    CHECK(ar_ring_to_i64(ar_ring_from_i64(INT64_MIN)) == INT64_MIN);
    CHECK(ar_ring_to_i64(ar_ring_from_i64(INT64_MAX)) == INT64_MAX);
    CHECK(ar_ring_to_i64((uint64_t)1 << 63) == INT64_MIN);
    CHECK(ar_ring_msb(ar_ring_from_i64(-5)) == 1 && ar_ring_msb(5) == 0);
    CHECK(ar_ring_to_i64(ar_ring_sar(ar_ring_from_i64(-5), 1)) == -3); /* floor(-2.5) */
    CHECK(ar_ring_to_i64(ar_ring_sar(ar_ring_from_i64(5), 1)) == 2);
    CHECK(ar_ring_to_i64(ar_ring_sar(ar_ring_from_i64(-1), 12)) == -1);
    CHECK(ar_ring_sar(ar_ring_from_i64(-4096), 12) == ar_ring_from_i64(-1));
}

AR_TEST(mpc_ring_fixed_point_encode_decode) {
    int f = AR_FIX_DEFAULT_BITS;
    CHECK(ar_fix_encode(1.0, f) == 4096);
    CHECK(ar_fix_encode(-1.0, f) == ar_ring_from_i64(-4096));
    CHECK(ar_fix_encode(0.5 / 4096, f) == 1);                     /* tie away from zero */
    CHECK(ar_fix_encode(-0.5 / 4096, f) == ar_ring_from_i64(-1));
    CHECK(ar_fix_encode(0.49 / 4096, f) == 0);
    CHECK(ar_fix_encode(1e30, f) == (uint64_t)INT64_MAX);
    CHECK(ar_fix_encode(-1e30, f) == ar_ring_from_i64(INT64_MIN));
    CHECK(ar_fix_encode(NAN, f) == 0);
    CHECK(ar_fix_decode(ar_fix_encode(-3.25, f), f) == -3.25);
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 11, 0);
    for (int fb = AR_FIX_MIN_BITS; fb <= AR_FIX_MAX_BITS; fb++)
        for (int i = 0; i < 1000; i++) {
            double v = (ar_rng_uniform_d(&r) - 0.5) * 2000.0;
            double back = ar_fix_decode(ar_fix_encode(v, fb), fb);
            CHECK(fabs(back - v) <= ldexp(0.5, -fb) + 1e-12);
        }
    float in[4] = {0.25f, -7.5f, 3.0f, 0.0f}, out[4];
    uint64_t enc[4];
    ar_fix_encode_array(enc, in, 4, f);
    ar_fix_decode_array(out, enc, 4, f);
    CHECK(memcmp(in, out, sizeof in) == 0);
}

/* Local truncation of random shares: error vs floor in {0, +1}, and a Monte-Carlo
 * wrap rate below the 2^(lx+1-64) bound at large magnitudes. */
AR_TEST(mpc_ring_share_truncation_error) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 12, 0);
    long hist[3] = {0, 0, 0};
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t v = (int64_t)(ar_rng_u64(&r) >> 24) - ((int64_t)1 << 39); /* |x| < 2^40 */
        uint64_t x = ar_ring_from_i64(v), x0 = ar_rng_u64(&r), x1 = x - x0;
        int bits = 8 + (int)(i % 9);
        uint64_t t = ar_ring_trunc_share(x0, 0, bits) + ar_ring_trunc_share(x1, 1, bits);
        int64_t e = ar_ring_to_i64(t - ar_ring_sar(x, bits));
        if (e >= -1 && e <= 1) hist[e + 1]++;
        else bad++;
    }
    printf("    trunc error histogram: -1:%ld 0:%ld +1:%ld wrap:%d (bound 2^-23 per element)\n", hist[0], hist[1],
           hist[2], bad);
    CHECK(hist[0] == 0);
    CHECK(hist[1] > 0 && hist[2] > 0);
    CHECK(bad <= 2); /* expected 200000 * 2^-23 ~ 0.02 */
    /* at |x| ~ 2^62 the wrap probability is large (about |x|/2^64 ~ 1/4); check it happens */
    int wraps = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t x = ((uint64_t)1 << 62) + (ar_rng_u64(&r) >> 4), x0 = ar_rng_u64(&r), x1 = x - x0;
        uint64_t t = ar_ring_trunc_share(x0, 0, 12) + ar_ring_trunc_share(x1, 1, 12);
        int64_t e = ar_ring_to_i64(t - ar_ring_sar(x, 12));
        if (e < -1 || e > 1) wraps++;
    }
    CHECK(wraps > 400 && wraps < 2000);
    uint64_t arr[3] = {ar_ring_from_i64(-8192), 8192, 4095};
    ar_ring_sar_array(arr, 3, 12);
    CHECK(arr[0] == ar_ring_from_i64(-2) && arr[1] == 2 && arr[2] == 0);
}

static void gemm_naive(size_t M, size_t N, size_t K, const uint64_t *A, const uint64_t *B, uint64_t *C) {
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            uint64_t s = 0;
            for (size_t k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
            C[i * N + j] = s;
        }
}

AR_TEST(mpc_ring_gemm_matches_naive) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 13, 0);
    printf("    gemm implementation: %s\n", ar_ring_gemm_impl());
    static const size_t shapes[][3] = {{1, 1, 1},  {6, 16, 1},  {7, 17, 3},  {5, 9, 300},   {13, 33, 257},
                                       {64, 100, 27}, {49, 260, 9}, {3, 1, 513}, {100, 5, 70}, {0, 4, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        uint64_t *A = rand_u64(&r, M * K), *B = rand_u64(&r, K * N);
        uint64_t *C = rand_u64(&r, M * N), *C2 = rand_u64(&r, M * N), *ref = rand_u64(&r, M * N);
        gemm_naive(M, N, K, A, B, ref);
        for (int gen = 0; gen < 2; gen++) {
            ar_ring_gemm_force_generic(gen);
            ar_ring_gemm(M, N, K, A, K, B, N, C, N, 0);
            CHECK_MSG(memcmp(C, ref, M * N * sizeof *C) == 0, "gemm %zux%zux%zu generic=%d", M, N, K, gen);
            /* accumulate mode: C2 = C2 + A*B */
            uint64_t *want = rand_u64(&r, M * N);
            for (size_t i = 0; i < M * N; i++) want[i] = C2[i] + ref[i];
            ar_ring_gemm(M, N, K, A, K, B, N, C2, N, 1);
            CHECK_MSG(memcmp(C2, want, M * N * sizeof *C) == 0, "gemm acc %zux%zux%zu generic=%d", M, N, K, gen);
            memcpy(C2, C, M * N * sizeof *C);
            free(want);
        }
        ar_ring_gemm_force_generic(0);
        free(A);
        free(B);
        free(C);
        free(C2);
        free(ref);
    }
}

static void conv_direct(uint64_t *out, const uint64_t *in, const uint64_t *w, const struct ar_conv_shape *s) {
    int OH = ar_conv_oh(s), OW = ar_conv_ow(s);
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->oc; o++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    uint64_t acc = 0;
                    for (int c = 0; c < s->c; c++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                acc += in[(((size_t)n * s->c + c) * s->h + iy) * s->w + ix] *
                                       w[(((size_t)o * s->c + c) * s->kh + ky) * s->kw + kx];
                            }
                    out[(((size_t)n * s->oc + o) * OH + oy) * OW + ox] = acc;
                }
}

AR_TEST(mpc_ring_conv2d_matches_direct) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 14, 0);
    static const struct ar_conv_shape shapes[] = {
        {1, 3, 8, 8, 4, 3, 3, 1, 1},   {2, 5, 7, 9, 6, 3, 3, 2, 1},   {1, 4, 6, 6, 8, 1, 1, 1, 0},
        {3, 7, 5, 5, 3, 1, 1, 2, 0},   {1, 2, 9, 7, 5, 5, 3, 3, 2},   {2, 16, 4, 4, 10, 4, 4, 1, 0},
        {4, 12, 1, 1, 10, 1, 1, 1, 0}, {1, 1, 3, 3, 1, 3, 3, 1, 0},   {1, 6, 11, 11, 7, 2, 2, 2, 0},
    };
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const struct ar_conv_shape *s = &shapes[t];
        REQUIRE(ar_conv_shape_ok(s));
        uint64_t *in = rand_u64(&r, ar_conv_in_count(s)), *w = rand_u64(&r, ar_conv_w_count(s));
        uint64_t *out = rand_u64(&r, ar_conv_out_count(s)), *ref = rand_u64(&r, ar_conv_out_count(s));
        uint64_t *col = rand_u64(&r, ar_ring_conv2d_scratch(s));
        conv_direct(ref, in, w, s);
        ar_ring_conv2d(out, in, w, col, s);
        CHECK_MSG(memcmp(out, ref, ar_conv_out_count(s) * sizeof *out) == 0, "conv shape %zu", t);
        free(in);
        free(w);
        free(out);
        free(ref);
        free(col);
    }
    struct ar_conv_shape bad = {1, 1, 2, 2, 1, 5, 5, 1, 0};
    CHECK(!ar_conv_shape_ok(&bad));
}

AR_TEST(mpc_ring_sumpool_bias_and_refs) {
    uint64_t in[2 * 16], out[2 * 4], g[2];
    for (int i = 0; i < 32; i++) in[i] = ar_ring_from_i64(i - 10);
    ar_ring_sumpool2d(out, in, 1, 2, 4, 4, 2, 2);
    CHECK(ar_ring_to_i64(out[0]) == (-10) + (-9) + (-6) + (-5));
    CHECK(ar_ring_to_i64(out[7]) == 26 + 27 + 30 + 31 - 40 - 0 + 0 + 0);
    ar_ring_sumpool2d(g, in, 1, 2, 4, 4, 4, 1);
    CHECK(ar_ring_to_i64(g[0]) == 120 - 160);
    ar_ring_add_bias(out, (const uint64_t[]){1, ar_ring_from_i64(-2)}, 1, 2, 4);
    CHECK(ar_ring_to_i64(out[0]) == -29 && ar_ring_to_i64(out[4]) == 6 + 7 + 10 + 11 - 2);
    uint64_t x[4] = {ar_ring_from_i64(-3), 0, 5, (uint64_t)1 << 63}, y[4];
    ar_ring_relu_ref(y, x, 4);
    CHECK(y[0] == 0 && y[1] == 0 && y[2] == 5 && y[3] == 0);
    /* poly reference against floats: y = 0.5 x^2 - 0.25 x + 0.125 */
    int f = 12;
    uint64_t coef[3] = {ar_fix_encode(0.5, f), ar_fix_encode(-0.25, f), ar_fix_encode(0.125, f)};
    double xs[4] = {-2.0, -0.5, 0.75, 3.0};
    uint64_t xe[4], ye[4];
    for (int i = 0; i < 4; i++) xe[i] = ar_fix_encode(xs[i], f);
    ar_ring_poly_ref(ye, xe, coef, 1, 1, 4, f);
    for (int i = 0; i < 4; i++) {
        double want = 0.5 * xs[i] * xs[i] - 0.25 * xs[i] + 0.125;
        CHECK(fabs(ar_fix_decode(ye[i], f) - want) <= 2.0 / 4096);
    }
}

/* Prints GMAC/s of the ring conv on ResNet-18 (CIFAR) layer shapes. */
AR_TEST(mpc_ring_conv_speed) {
    static const struct ar_conv_shape shapes[] = {
        {1, 64, 32, 32, 64, 3, 3, 1, 1},
        {1, 128, 16, 16, 128, 3, 3, 1, 1},
        {1, 256, 8, 8, 256, 3, 3, 1, 1},
        {1, 512, 4, 4, 512, 3, 3, 1, 1},
    };
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 15, 0);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const struct ar_conv_shape *s = &shapes[t];
        uint64_t *in = rand_u64(&r, ar_conv_in_count(s)), *w = rand_u64(&r, ar_conv_w_count(s));
        uint64_t *out = rand_u64(&r, ar_conv_out_count(s)), *col = rand_u64(&r, ar_ring_conv2d_scratch(s));
        ar_ring_conv2d(out, in, w, col, s); /* warm up */
        struct timespec t0, t1;
        int reps = 3;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < reps; i++) ar_ring_conv2d(out, in, w, col, s);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        printf("    conv %dx%dx%d k3 -> %d (%s): %.2f GMAC/s\n", s->c, s->h, s->w, s->oc, ar_ring_gemm_impl(),
               ar_conv_macs(s) * reps / sec * 1e-9);
        free(in);
        free(w);
        free(out);
        free(col);
    }
}
