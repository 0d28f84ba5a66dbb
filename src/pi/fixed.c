/* Plaintext fixed-point executor (fixed.h): walks the compiled ops with the ring
 * kernels of kernels/ring.h and exact truncation, recording the magnitude of every
 * value before a truncation. */
#include "pi/fixed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"

void ar_pi_encode_input(uint64_t *out, const float *x, size_t n, int frac_bits) {
    ar_fix_encode_array(out, x, n, frac_bits);
}

int ar_pi_argmax(const uint64_t *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (ar_ring_to_i64(v[i]) > ar_ring_to_i64(v[best])) best = i;
    return best;
}

static uint64_t abs_ring(uint64_t v) { return ar_ring_msb(v) ? (uint64_t)0 - v : v; }

uint64_t ar_pi_max_diff(const uint64_t *a, const uint64_t *b, size_t n) {
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = abs_ring(a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

void ar_pi_global_sum(uint64_t *out, const uint64_t *in, size_t N, size_t C, size_t HW) {
    for (size_t i = 0; i < N * C; i++) {
        uint64_t s = 0;
        const uint64_t *p = in + i * HW;
        for (size_t k = 0; k < HW; k++) s += p[k];
        out[i] = s;
    }
}

static void track(struct ar_pi_fixed_stats *st, const uint64_t *v, size_t n) {
    if (!st) return;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = abs_ring(v[i]);
        if (a > st->max_abs) st->max_abs = a;
    }
    int b = 0;
    while (b < 64 && (st->max_abs >> b)) b++;
    st->max_bits = b;
}

/* Round-to-nearest truncation (ties up): sar(v + 2^(t-1), t). The parties' local
 * truncation of shares is a stochastic rounding (floor + 1 with probability equal
 * to the fractional part), whose mean is this value's, so rounding (rather than
 * floor) keeps the MPC - fixed difference zero-mean; it stays within 1 LSB per
 * truncation either way. */
static inline uint64_t round_sar(uint64_t v, int t) { return t ? ar_ring_sar(v + ((uint64_t)1 << (t - 1)), t) : v; }

static void round_sar_array(uint64_t *x, size_t n, int t) {
    for (size_t i = 0; i < n; i++) x[i] = round_sar(x[i], t);
}

/* The mixed site with the truncation points of ar_mpc_act / ar_mpc_poly. */
static void act_ref(uint64_t *y, const uint64_t *x, const uint8_t *mask, const uint64_t *coef, size_t N, size_t C,
                    size_t HW, int f) {
    size_t chw = C * HW;
    for (size_t n = 0; n < N; n++)
        for (size_t i = 0; i < chw; i++) {
            uint64_t v = x[n * chw + i];
            if (mask[i]) {
                y[n * chw + i] = ar_ring_msb(v) ? 0 : v;
                continue;
            }
            const uint64_t *c = coef + 3 * (i / HW);
            uint64_t t = round_sar(v * v, f);
            y[n * chw + i] = round_sar(c[0] * t + c[1] * v + (c[2] << f), f);
        }
}

static void maxpool_ref(uint64_t *y, const uint64_t *x, int N, int C, int H, int W, int k, int stride) {
    int OH = (H - k) / stride + 1, OW = (W - k) / stride + 1;
    for (int nc = 0; nc < N * C; nc++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                const uint64_t *src = x + (size_t)nc * H * W;
                uint64_t best = src[(size_t)oy * stride * W + (size_t)ox * stride];
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        uint64_t v = src[(size_t)(oy * stride + ky) * W + (size_t)ox * stride + kx];
                        if (ar_ring_to_i64(v) > ar_ring_to_i64(best)) best = v;
                    }
                y[((size_t)nc * OH + oy) * OW + ox] = best;
            }
}

int ar_pi_fixed_run(const struct ar_pi_model *m, int N, const uint64_t *x, uint64_t *logits,
                    struct ar_pi_fixed_stats *stats, char *err) {
    if (!m->has_weights) return ar_errf(err, AR_ERR_ARG, "fixed-point executor needs a model with weights");
    if (N < 1) return ar_errf(err, AR_ERR_ARG, "fixed-point executor: %d images", N);
    int rc = AR_OK, f = m->frac_bits;
    uint64_t **val = calloc((size_t)m->n_values, sizeof *val);
    uint64_t *col = NULL;
    size_t ncol = 0;
    if (!val) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    if (stats) memset(stats, 0, sizeof *stats * (size_t)m->n_ops);
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        if (op->kind == AR_PI_LINEAR) {
            struct ar_conv_shape cs = op->cs;
            cs.n = N;
            size_t need = ar_ring_conv2d_scratch(&cs);
            if (need > ncol) ncol = need;
        }
    }
    col = malloc((ncol ? ncol : 1) * sizeof *col);
    if (!col) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory for the convolution scratch");
        goto done;
    }
    for (int v = 1; v < m->n_values; v++) {
        val[v] = malloc((size_t)N * m->values[v].numel * sizeof **val);
        if (!val[v]) {
            rc = ar_errf(err, AR_ERR_NOMEM, "out of memory for %d images", N);
            goto done;
        }
    }
    val[0] = (uint64_t *)x; /* never written */
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        const uint64_t *in = val[op->in[0]];
        uint64_t *out = val[op->out];
        struct ar_pi_fixed_stats *st = stats ? &stats[i] : NULL;
        switch (op->kind) {
        case AR_PI_LINEAR: {
            struct ar_conv_shape cs = op->cs;
            cs.n = N;
            size_t nout = ar_conv_out_count(&cs);
            ar_ring_conv2d(out, in, op->w, col, &cs);
            ar_ring_add_bias(out, op->bias, (size_t)N, (size_t)cs.oc, nout / ((size_t)N * (size_t)cs.oc));
            track(st, out, nout);
            round_sar_array(out, nout, op->trunc);
            break;
        }
        case AR_PI_ACT: {
            size_t n = (size_t)N * (size_t)op->c * (size_t)op->hw;
            if (st && op->mask) {
                /* a quadratic truncates x^2 (scale 2f); ReLUs are exact */
                size_t chw = (size_t)op->c * (size_t)op->hw;
                for (size_t k = 0; k < n; k++) {
                    if (op->mask[k % chw]) continue;
                    uint64_t sq = in[k] * in[k];
                    track(st, &sq, 1);
                }
            }
            if (op->mask)
                act_ref(out, in, op->mask, op->coef, (size_t)N, (size_t)op->c, (size_t)op->hw, f);
            else
                ar_ring_relu_ref(out, in, n);
            break;
        }
        case AR_PI_ADD:
            ar_ring_add(out, in, val[op->in[1]], (size_t)N * m->values[op->out].numel);
            break;
        case AR_PI_SUMPOOL:
            if (op->global)
                ar_pi_global_sum(out, in, (size_t)N, (size_t)op->c, (size_t)op->ph * (size_t)op->pw);
            else
                ar_ring_sumpool2d(out, in, N, op->c, op->ph, op->pw, op->k, op->stride);
            break;
        case AR_PI_MAXPOOL: maxpool_ref(out, in, N, op->c, op->ph, op->pw, op->k, op->stride); break;
        default: AR_ASSERT(0);
        }
    }
    memcpy(logits, val[m->out_value], (size_t)N * (size_t)m->classes * sizeof *logits);
done:
    for (int v = 1; v < m->n_values; v++) free(val[v]);
    free(val);
    free(col);
    return rc;
}

double ar_pi_error_bound(const struct ar_pi_model *m, const struct ar_pi_fixed_stats *stats) {
    double *b = calloc((size_t)m->n_values, sizeof *b);
    if (!b) return INFINITY;
    int f = m->frac_bits;
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        double in = b[op->in[0]], out = in;
        switch (op->kind) {
        case AR_PI_LINEAR: {
            size_t per = (size_t)op->cs.c * (size_t)op->cs.kh * (size_t)op->cs.kw;
            double worst = 0;
            for (int o = 0; o < op->cs.oc && op->w; o++) {
                double s = 0;
                for (size_t k = 0; k < per; k++) s += fabs((double)ar_ring_to_i64(op->w[(size_t)o * per + k]));
                if (s > worst) worst = s;
            }
            out = ceil(worst * in / ldexp(1.0, op->trunc)) + 1;
            break;
        }
        case AR_PI_ACT:
            if (op->mask) {
                double M = sqrt((double)stats[i].max_abs), c2 = 0, c1 = 0;
                for (int c = 0; c < op->c; c++) {
                    c2 = fmax(c2, fabs((double)ar_ring_to_i64(op->coef[3 * c])));
                    c1 = fmax(c1, fabs((double)ar_ring_to_i64(op->coef[3 * c + 1])));
                }
                double bt = ceil((2 * M * in + in * in) / ldexp(1.0, f)) + 1;
                out = fmax(in, ceil((c2 * bt + c1 * in) / ldexp(1.0, f)) + 1);
            }
            break;
        case AR_PI_ADD: out = in + b[op->in[1]]; break;
        case AR_PI_SUMPOOL: out = in * (op->global ? (double)op->ph * op->pw : (double)op->k * op->k); break;
        default: break;
        }
        b[op->out] = out;
    }
    double r = b[m->out_value];
    free(b);
    return r;
}
