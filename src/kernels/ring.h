/* Arithmetic in the ring Z_2^64 and fixed-point encoding, shared by the plaintext
 * fixed-point executor and the secure two-party protocols (src/mpc/).
 *
 * Every ring value is a uint64_t: addition, subtraction and multiplication wrap
 * modulo 2^64, which is defined behaviour for unsigned types in C. Signed values
 * (fixed-point numbers) are stored in two's complement; the only conversions are
 * ar_ring_from_i64 / ar_ring_to_i64, which never rely on implementation-defined
 * behaviour. A fixed-point number with f fractional bits encodes the real x as
 * round(x * 2^f) (f in [AR_FIX_MIN_BITS, AR_FIX_MAX_BITS], default 12).
 *
 * Kernels (GEMM, conv2d, sum-pool) are pure: raw pointers, explicit dims, no
 * allocation, no failure. Shapes are NCHW for activations and OIHW for weights.
 * The GEMM picks an AVX-512 (vpmullq) path at run time when the CPU has it and a
 * portable C path otherwise; results are bit-identical. */
#ifndef AR_KERNELS_RING_H
#define AR_KERNELS_RING_H

#include <stddef.h>
#include <stdint.h>

#define AR_FIX_DEFAULT_BITS 12
#define AR_FIX_MIN_BITS 8
#define AR_FIX_MAX_BITS 16

/* ---- scalar helpers ---------------------------------------------------- */

static inline uint64_t ar_ring_from_i64(int64_t v) { return (uint64_t)v; /* defined: modulo 2^64 */ }

static inline int64_t ar_ring_to_i64(uint64_t v) {
    /* two's complement reinterpretation without implementation-defined casts */
    if (v <= (uint64_t)INT64_MAX) return (int64_t)v;
    return -(int64_t)(~v) - 1;
}

/* Most significant bit (the sign of the signed interpretation). */
static inline uint64_t ar_ring_msb(uint64_t v) { return v >> 63; }

/* Floor division of the signed value by 2^bits (arithmetic shift), bits in [0, 63].
 * This is the plaintext counterpart of the local share truncation below. */
static inline uint64_t ar_ring_sar(uint64_t v, int bits) {
    if (bits == 0) return v;
    if (v >> 63) return ~((~v) >> bits);
    return v >> bits;
}

/* SecureML local truncation of one additive share held by `party` (0 or 1).
 * Party 0 shifts its share; party 1 shifts the negation of its share and negates
 * back. When x = x0 + x1 (mod 2^64) and |x| < 2^lx, the truncated shares add up to
 * sar(x, bits) + e with e in {0, +1} (the "1 LSB" error), except with probability
 * <= 2^(lx+1-64) that the shares wrap around, which gives a huge error.
 * See docs/protocols.md. */
static inline uint64_t ar_ring_trunc_share(uint64_t xs, int party, int bits) {
    if (bits == 0) return xs;
    if (party == 0) return xs >> bits;
    return (uint64_t)0 - (((uint64_t)0 - xs) >> bits);
}

/* ---- fixed point (the only floating-point code of the MPC side) ---------- */

/* Encode with round-to-nearest (ties away from zero); saturates at the int64 range;
 * NaN encodes as 0. frac_bits in [0, 62]. */
uint64_t ar_fix_encode(double v, int frac_bits);
double ar_fix_decode(uint64_t v, int frac_bits);
void ar_fix_encode_array(uint64_t *out, const float *in, size_t n, int frac_bits);
void ar_fix_decode_array(float *out, const uint64_t *in, size_t n, int frac_bits);

/* ---- elementwise vector ops (n elements) ------------------------------- */

void ar_ring_add(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n);   /* out = a + b */
void ar_ring_sub(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n);   /* out = a - b */
void ar_ring_add_inplace(uint64_t *acc, const uint64_t *a, size_t n);              /* acc += a    */
/* Plaintext truncation (floor division by 2^bits) of n signed values, in place. */
void ar_ring_sar_array(uint64_t *x, size_t n, int bits);
/* Local share truncation of n shares held by `party` (0 or 1), in place. */
void ar_ring_trunc_share_array(uint64_t *x, size_t n, int party, int bits);
/* x[n][c][i] += bias[c] for x: (N, C, HW). */
void ar_ring_add_bias(uint64_t *x, const uint64_t *bias, size_t N, size_t C, size_t HW);

/* ---- GEMM and convolution ------------------------------------------------ */

/* C (M x N, row stride ldc) = A (M x K, lda) * B (K x N, ldb)  [+ C if accumulate],
 * all mod 2^64. Parallel (OpenMP) when the product is large. */
void ar_ring_gemm(size_t M, size_t N, size_t K, const uint64_t *A, size_t lda, const uint64_t *B,
                  size_t ldb, uint64_t *C, size_t ldc, int accumulate);
/* Name of the GEMM implementation selected at run time ("avx512" or "generic"). */
const char *ar_ring_gemm_impl(void);
/* Force the portable path (1) or the automatic choice (0); for tests and benchmarks. */
void ar_ring_gemm_force_generic(int on);

/* Geometry of a 2-D convolution. A fully connected layer is the case
 * h = w = kh = kw = 1, stride = 1, pad = 0 (input (N, C) -> output (N, OC)). */
struct ar_conv_shape {
    int n, c, h, w;   /* input (N, C, H, W)  */
    int oc, kh, kw;   /* weight (OC, C, KH, KW) */
    int stride, pad;  /* symmetric zero padding */
};

static inline int ar_conv_oh(const struct ar_conv_shape *s) { return (s->h + 2 * s->pad - s->kh) / s->stride + 1; }
static inline int ar_conv_ow(const struct ar_conv_shape *s) { return (s->w + 2 * s->pad - s->kw) / s->stride + 1; }
static inline size_t ar_conv_in_count(const struct ar_conv_shape *s) {
    return (size_t)s->n * (size_t)s->c * (size_t)s->h * (size_t)s->w;
}
static inline size_t ar_conv_out_count(const struct ar_conv_shape *s) {
    return (size_t)s->n * (size_t)s->oc * (size_t)ar_conv_oh(s) * (size_t)ar_conv_ow(s);
}
static inline size_t ar_conv_w_count(const struct ar_conv_shape *s) {
    return (size_t)s->oc * (size_t)s->c * (size_t)s->kh * (size_t)s->kw;
}
/* Multiply-accumulates of one convolution (all images). */
static inline double ar_conv_macs(const struct ar_conv_shape *s) {
    return (double)ar_conv_out_count(s) * (double)s->c * (double)s->kh * (double)s->kw;
}
/* 1 when the shape is valid (positive dims, kernel fits in the padded input). */
int ar_conv_shape_ok(const struct ar_conv_shape *s);

/* Scratch (uint64 elements) that ar_ring_conv2d needs in `col` (0 for 1x1, stride 1,
 * pad 0 convolutions, which need no im2col). */
size_t ar_ring_conv2d_scratch(const struct ar_conv_shape *s);

/* out: (N, OC, OH, OW)  in: (N, C, H, W)  w: (OC, C, KH, KW)
 * col: scratch of ar_ring_conv2d_scratch(s) elements (may be NULL when that is 0).
 * out = conv(in, w) mod 2^64 (no bias). */
void ar_ring_conv2d(uint64_t *out, const uint64_t *in, const uint64_t *w, uint64_t *col,
                    const struct ar_conv_shape *s);

/* Sum pooling (no division: the 1/k^2 is folded into the next linear layer).
 * out: (N, C, OH, OW) with OH = (H - k) / stride + 1  in: (N, C, H, W).
 * k = H = W gives the global sum pool. Linear, so it works on shares. */
void ar_ring_sumpool2d(uint64_t *out, const uint64_t *in, int N, int C, int H, int W, int k, int stride);

/* ---- plaintext references of the non-linear protocols -------------------- */

/* y = max(x, 0) on signed ring values. */
void ar_ring_relu_ref(uint64_t *y, const uint64_t *x, size_t n);

/* The quadratic activation with public per-channel coefficients, computed exactly
 * as the secure protocol does (same truncation points):
 *   t = sar(x*x, f);  y = sar(c2*t + c1*x + (c0 << f), f)
 * x, y: (N, C, HW) at scale f;  coef: (C, 3) = {c2, c1, c0} at scale f. */
void ar_ring_poly_ref(uint64_t *y, const uint64_t *x, const uint64_t *coef, size_t N, size_t C, size_t HW,
                      int frac_bits);

/* The mixed AutoReP site: y = ReLU(x) where mask[i] = 1, else the quadratic of
 * ar_ring_poly_ref. mask: (C*HW), the same for every image. */
void ar_ring_act_ref(uint64_t *y, const uint64_t *x, const uint8_t *mask, const uint64_t *coef, size_t N, size_t C,
                     size_t HW, int frac_bits);

#endif
