/* Ring (Z_2^64) kernels: fixed-point encode/decode, elementwise ops, the uint64
 * GEMM and im2col convolution, sum pooling, and the plaintext references of the
 * ReLU and quadratic activations.
 *
 * Invariant: all arithmetic is on uint64_t, so it wraps modulo 2^64 with no
 * undefined behaviour; the plaintext fixed-point executor and the secure protocols
 * call the same functions, so their results agree exactly (up to the documented
 * local-truncation error of the protocols).
 *
 * The GEMM is a register-blocked kernel (6 rows x 16 columns of C held in 12
 * AVX-512 registers, vpmullq + vpaddq per element) selected at run time by
 * __builtin_cpu_supports("avx512dq"); the portable path is plain C that compilers
 * vectorise for whatever the default target is. Both produce identical bits. */
#include "kernels/ring.h"

#include <math.h>
#include <string.h>

#include "core/assert.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AR_HAVE_X86 1
#else
#define AR_HAVE_X86 0
#endif

/* ---- fixed point ----------------------------------------------------------- */

uint64_t ar_fix_encode(double v, int frac_bits) {
    AR_ASSERT(frac_bits >= 0 && frac_bits <= 62);
    if (isnan(v)) return 0;
    double s = ldexp(v, frac_bits);
    /* 2^63 is exactly representable; anything at or above saturates. */
    if (s >= 9223372036854775808.0) return (uint64_t)INT64_MAX;
    if (s <= -9223372036854775808.0) return ar_ring_from_i64(INT64_MIN);
    double r = round(s); /* ties away from zero */
    if (r >= 9223372036854775808.0) return (uint64_t)INT64_MAX;
    return ar_ring_from_i64((int64_t)r);
}

double ar_fix_decode(uint64_t v, int frac_bits) {
    AR_ASSERT(frac_bits >= 0 && frac_bits <= 62);
    return ldexp((double)ar_ring_to_i64(v), -frac_bits);
}

void ar_fix_encode_array(uint64_t *out, const float *in, size_t n, int frac_bits) {
    for (size_t i = 0; i < n; i++) out[i] = ar_fix_encode((double)in[i], frac_bits);
}

void ar_fix_decode_array(float *out, const uint64_t *in, size_t n, int frac_bits) {
    for (size_t i = 0; i < n; i++) out[i] = (float)ar_fix_decode(in[i], frac_bits);
}

/* ---- elementwise ------------------------------------------------------------- */

void ar_ring_add(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void ar_ring_sub(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
}

void ar_ring_add_inplace(uint64_t *acc, const uint64_t *a, size_t n) {
    for (size_t i = 0; i < n; i++) acc[i] += a[i];
}

void ar_ring_sar_array(uint64_t *x, size_t n, int bits) {
    AR_ASSERT(bits >= 0 && bits < 64);
    for (size_t i = 0; i < n; i++) x[i] = ar_ring_sar(x[i], bits);
}

void ar_ring_trunc_share_array(uint64_t *x, size_t n, int party, int bits) {
    AR_ASSERT(bits >= 0 && bits < 64 && (party == 0 || party == 1));
    for (size_t i = 0; i < n; i++) x[i] = ar_ring_trunc_share(x[i], party, bits);
}

void ar_ring_add_bias(uint64_t *x, const uint64_t *bias, size_t N, size_t C, size_t HW) {
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++) {
            uint64_t *p = x + (n * C + c) * HW;
            uint64_t b = bias[c];
            for (size_t i = 0; i < HW; i++) p[i] += b;
        }
}

/* ---- GEMM ---------------------------------------------------------------------- */

#define MR 6    /* rows of C per micro-tile */
#define NR 16   /* columns of C per micro-tile (two 8-lane vectors) */
#define KC 256  /* k-block: a 16-column B panel of KC rows is 32 KiB */
#define MB 48   /* rows per parallel job */
#define NB 256  /* columns per parallel job */

static int force_generic;

void ar_ring_gemm_force_generic(int on) { force_generic = on; }

/* Portable path: row-by-row saxpy, which compilers vectorise. */
static void gemm_generic_block(size_t i0, size_t i1, size_t j0, size_t j1, size_t K, const uint64_t *A,
                               size_t lda, const uint64_t *B, size_t ldb, uint64_t *C, size_t ldc, int accumulate) {
    for (size_t i = i0; i < i1; i++) {
        uint64_t *c = C + i * ldc;
        if (!accumulate)
            for (size_t j = j0; j < j1; j++) c[j] = 0;
        for (size_t k = 0; k < K; k++) {
            uint64_t a = A[i * lda + k];
            const uint64_t *b = B + k * ldb;
            for (size_t j = j0; j < j1; j++) c[j] += a * b[j];
        }
    }
}

#if AR_HAVE_X86
static inline long long bits_ll(uint64_t v) {
    long long r;
    memcpy(&r, &v, sizeof r);
    return r;
}

/* One micro-tile: C[0..mr) x [0..16 masked by m0/m1) (+)= A[0..mr) x [0..kc) * B[0..kc) x [..].
 * `mr` is a compile-time constant at every call site, so the loops over r unroll
 * and the 2*mr accumulators live in registers. */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
micro_avx512(int mr, size_t kc, const uint64_t *A, size_t lda, const uint64_t *B, size_t ldb, uint64_t *C,
             size_t ldc, int load_c, __mmask8 m0, __mmask8 m1) {
    __m512i acc0[MR], acc1[MR];
    for (int r = 0; r < mr; r++) {
        if (load_c) {
            acc0[r] = _mm512_maskz_loadu_epi64(m0, C + (size_t)r * ldc);
            acc1[r] = _mm512_maskz_loadu_epi64(m1, C + (size_t)r * ldc + 8);
        } else {
            acc0[r] = _mm512_setzero_si512();
            acc1[r] = _mm512_setzero_si512();
        }
    }
    for (size_t k = 0; k < kc; k++) {
        const uint64_t *b = B + k * ldb;
        __m512i b0 = _mm512_maskz_loadu_epi64(m0, b);
        __m512i b1 = _mm512_maskz_loadu_epi64(m1, b + 8);
        for (int r = 0; r < mr; r++) {
            __m512i a = _mm512_set1_epi64(bits_ll(A[(size_t)r * lda + k]));
            acc0[r] = _mm512_add_epi64(acc0[r], _mm512_mullo_epi64(a, b0));
            acc1[r] = _mm512_add_epi64(acc1[r], _mm512_mullo_epi64(a, b1));
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_epi64(C + (size_t)r * ldc, m0, acc0[r]);
        _mm512_mask_storeu_epi64(C + (size_t)r * ldc + 8, m1, acc1[r]);
    }
}

__attribute__((target("avx512f,avx512dq"))) static void
gemm_avx512_block(size_t i0, size_t i1, size_t j0, size_t j1, size_t K, const uint64_t *A, size_t lda,
                  const uint64_t *B, size_t ldb, uint64_t *C, size_t ldc, int accumulate) {
    if (K == 0) {
        if (!accumulate)
            for (size_t i = i0; i < i1; i++) memset(C + i * ldc + j0, 0, (j1 - j0) * sizeof *C);
        return;
    }
    for (size_t k0 = 0; k0 < K; k0 += KC) {
        size_t kc = K - k0 < KC ? K - k0 : KC;
        int load_c = accumulate || k0 > 0;
        for (size_t j = j0; j < j1; j += NR) {
            size_t nr = j1 - j < NR ? j1 - j : NR;
            __mmask8 m0 = (__mmask8)(nr >= 8 ? 0xff : (1u << nr) - 1);
            __mmask8 m1 = (__mmask8)(nr >= 16 ? 0xff : nr > 8 ? (1u << (nr - 8)) - 1 : 0);
            for (size_t i = i0; i < i1; i += MR) {
                size_t mr = i1 - i < MR ? i1 - i : MR;
                const uint64_t *a = A + i * lda + k0;
                const uint64_t *b = B + k0 * ldb + j;
                uint64_t *c = C + i * ldc + j;
                switch (mr) {
                case 6: micro_avx512(6, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                case 5: micro_avx512(5, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                case 4: micro_avx512(4, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                case 3: micro_avx512(3, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                case 2: micro_avx512(2, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                default: micro_avx512(1, kc, a, lda, b, ldb, c, ldc, load_c, m0, m1); break;
                }
            }
        }
    }
}
#endif

static int use_avx512(void) {
#if AR_HAVE_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    }
    return cached && !force_generic;
#else
    return 0;
#endif
}

const char *ar_ring_gemm_impl(void) { return use_avx512() ? "avx512" : "generic"; }

void ar_ring_gemm(size_t M, size_t N, size_t K, const uint64_t *A, size_t lda, const uint64_t *B, size_t ldb,
                  uint64_t *C, size_t ldc, int accumulate) {
    if (M == 0 || N == 0) return;
    AR_ASSERT(A && B && C && lda >= K && ldb >= N && ldc >= N);
    int fast = use_avx512();
    size_t mb = (M + MB - 1) / MB, nb = (N + NB - 1) / NB;
    long jobs = (long)(mb * nb);
    double work = (double)M * (double)N * (double)K;
#pragma omp parallel for schedule(dynamic, 1) if (work > 2e6 && jobs > 1)
    for (long job = 0; job < jobs; job++) {
        size_t bi = (size_t)job / nb, bj = (size_t)job % nb;
        size_t i0 = bi * MB, i1 = i0 + MB < M ? i0 + MB : M;
        size_t j0 = bj * NB, j1 = j0 + NB < N ? j0 + NB : N;
#if AR_HAVE_X86
        if (fast) {
            gemm_avx512_block(i0, i1, j0, j1, K, A, lda, B, ldb, C, ldc, accumulate);
            continue;
        }
#endif
        (void)fast;
        gemm_generic_block(i0, i1, j0, j1, K, A, lda, B, ldb, C, ldc, accumulate);
    }
}

/* ---- convolution ------------------------------------------------------------- */

int ar_conv_shape_ok(const struct ar_conv_shape *s) {
    if (s->n <= 0 || s->c <= 0 || s->h <= 0 || s->w <= 0 || s->oc <= 0 || s->kh <= 0 || s->kw <= 0) return 0;
    if (s->stride <= 0 || s->pad < 0) return 0;
    if (s->h + 2 * s->pad < s->kh || s->w + 2 * s->pad < s->kw) return 0;
    return 1;
}

static int conv_is_pointwise(const struct ar_conv_shape *s) {
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pad == 0;
}

size_t ar_ring_conv2d_scratch(const struct ar_conv_shape *s) {
    if (conv_is_pointwise(s)) return 0;
    return (size_t)s->c * (size_t)s->kh * (size_t)s->kw * (size_t)ar_conv_oh(s) * (size_t)ar_conv_ow(s);
}

/* col: (C*KH*KW, OH*OW)  in: (C, H, W) of one image. */
static void im2col(uint64_t *col, const uint64_t *in, const struct ar_conv_shape *s) {
    int OH = ar_conv_oh(s), OW = ar_conv_ow(s);
    size_t P = (size_t)OH * (size_t)OW;
    long rows = (long)s->c * s->kh * s->kw;
#pragma omp parallel for schedule(static) if ((double)rows * (double)P > 1e6)
    for (long row = 0; row < rows; row++) {
        int kx = (int)(row % s->kw), ky = (int)((row / s->kw) % s->kh), c = (int)(row / ((long)s->kw * s->kh));
        uint64_t *dst = col + (size_t)row * P;
        const uint64_t *src = in + (size_t)c * (size_t)s->h * (size_t)s->w;
        for (int oy = 0; oy < OH; oy++) {
            int iy = oy * s->stride - s->pad + ky;
            uint64_t *d = dst + (size_t)oy * (size_t)OW;
            if (iy < 0 || iy >= s->h) {
                memset(d, 0, (size_t)OW * sizeof *d);
                continue;
            }
            const uint64_t *srow = src + (size_t)iy * (size_t)s->w;
            for (int ox = 0; ox < OW; ox++) {
                int ix = ox * s->stride - s->pad + kx;
                d[ox] = (ix >= 0 && ix < s->w) ? srow[ix] : 0;
            }
        }
    }
}

void ar_ring_conv2d(uint64_t *out, const uint64_t *in, const uint64_t *w, uint64_t *col,
                    const struct ar_conv_shape *s) {
    AR_ASSERT(ar_conv_shape_ok(s));
    int OH = ar_conv_oh(s), OW = ar_conv_ow(s);
    size_t P = (size_t)OH * (size_t)OW, K = (size_t)s->c * (size_t)s->kh * (size_t)s->kw;
    size_t in_img = (size_t)s->c * (size_t)s->h * (size_t)s->w, out_img = (size_t)s->oc * P;
    int pointwise = conv_is_pointwise(s);
    AR_ASSERT(pointwise || col);
    for (int n = 0; n < s->n; n++) {
        const uint64_t *src = in + (size_t)n * in_img;
        const uint64_t *B = src;
        if (!pointwise) {
            im2col(col, src, s);
            B = col;
        }
        ar_ring_gemm((size_t)s->oc, P, K, w, K, B, P, out + (size_t)n * out_img, P, 0);
    }
}

void ar_ring_sumpool2d(uint64_t *out, const uint64_t *in, int N, int C, int H, int W, int k, int stride) {
    AR_ASSERT(k > 0 && stride > 0 && k <= H && k <= W);
    int OH = (H - k) / stride + 1, OW = (W - k) / stride + 1;
    for (int nc = 0; nc < N * C; nc++) {
        const uint64_t *src = in + (size_t)nc * (size_t)H * (size_t)W;
        uint64_t *dst = out + (size_t)nc * (size_t)OH * (size_t)OW;
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                uint64_t acc = 0;
                for (int ky = 0; ky < k; ky++) {
                    const uint64_t *row = src + (size_t)(oy * stride + ky) * (size_t)W + (size_t)(ox * stride);
                    for (int kx = 0; kx < k; kx++) acc += row[kx];
                }
                dst[(size_t)oy * (size_t)OW + (size_t)ox] = acc;
            }
    }
}

/* ---- plaintext references ----------------------------------------------------- */

void ar_ring_relu_ref(uint64_t *y, const uint64_t *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = ar_ring_msb(x[i]) ? 0 : x[i];
}

void ar_ring_poly_ref(uint64_t *y, const uint64_t *x, const uint64_t *coef, size_t N, size_t C, size_t HW,
                      int frac_bits) {
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++) {
            uint64_t c2 = coef[3 * c], c1 = coef[3 * c + 1], c0 = coef[3 * c + 2] << frac_bits;
            size_t base = (n * C + c) * HW;
            for (size_t i = 0; i < HW; i++) {
                uint64_t v = x[base + i];
                uint64_t t = ar_ring_sar(v * v, frac_bits);
                y[base + i] = ar_ring_sar(c2 * t + c1 * v + c0, frac_bits);
            }
        }
}

void ar_ring_act_ref(uint64_t *y, const uint64_t *x, const uint8_t *mask, const uint64_t *coef, size_t N, size_t C,
                     size_t HW, int frac_bits) {
    ar_ring_poly_ref(y, x, coef, N, C, HW, frac_bits);
    size_t CHW = C * HW;
    for (size_t n = 0; n < N; n++)
        for (size_t i = 0; i < CHW; i++)
            if (mask[i]) {
                uint64_t v = x[n * CHW + i];
                y[n * CHW + i] = ar_ring_msb(v) ? 0 : v;
            }
}
