/* Gated-activation kernels for AutoReP and SNL (see gate.h). */
#include "gate.h"

#include <math.h>
#include <string.h>

size_t ar_hysteresis(uint8_t *m, const float *alpha, size_t n, float t) {
    size_t ones = 0;
#pragma omp parallel for reduction(+ : ones) schedule(static)
    for (size_t i = 0; i < n; i++) {
        uint8_t v = m[i] ? alpha[i] > -t : alpha[i] > t;
        m[i] = v;
        ones += v;
    }
    return ones;
}

float ar_softplus(float a) { return a > 20.0f ? a : log1pf(expf(a)); }

/* one (image, channel) row of the gated forward: yp, xp, mp (hw) */
static inline void gate_row(float *yp, const float *xp, const uint8_t *mp, const float *co, int hw) {
    const float c0 = co[0], c1 = co[1], c2 = co[2];
    /* blend with the 0/1 mask instead of a second compare, so the loop
     * vectorizes (differs from a select only when p overflows, |v| > 1e19) */
#pragma omp simd
    for (int j = 0; j < hw; j++) {
        const float v = xp[j], keep = (float)mp[j];
        const float r = v > 0.0f ? v : 0.0f, p = (c2 * v + c1) * v + c0;
        yp[j] = keep * r + (1.0f - keep) * p;
    }
}

/* sum and sum of squares of one row xp (hw), in float */
static inline void row_sums(const float *xp, int hw, double *s, double *s2) {
    float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
    for (int j = 0; j < hw; j++) a += xp[j], b += xp[j] * xp[j];
    *s += a, *s2 += b;
}

void ar_stats_fold(float *run_mean, float *run_var, double s, double s2, double cnt, float momentum) {
    double mean = s / cnt, var = cnt > 1 ? (s2 - s * mean) / (cnt - 1) : 0;
    if (var < 0) var = 0;
    *run_mean = (1.0f - momentum) * *run_mean + momentum * (float)mean;
    *run_var = (1.0f - momentum) * *run_var + momentum * (float)var;
}

void ar_gate_forward(float *y, const float *x, const uint8_t *m, const float *poly, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            gate_row(y + o, x + o, m + (size_t)ch * hw, poly + 3 * ch, hw);
        }
}

void ar_gate_forward_stats(float *y, const float *x, const uint8_t *m, const float *poly, int n, int c, int hw,
                           float *run_mean, float *run_var, float momentum) {
    /* by channel, so each thread owns its channels' sums; the row is still in L1 when summed */
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            gate_row(y + o, x + o, m + (size_t)ch * hw, poly + 3 * ch, hw);
            row_sums(x + o, hw, &s, &s2);
        }
        ar_stats_fold(run_mean + ch, run_var + ch, s, s2, (double)n * hw, momentum);
    }
}

void ar_gate_backward(float *dx, int acc, float *dm, float *dpoly, const float *dy, const float *x, const uint8_t *m,
                      const float *poly, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float c0 = poly[3 * ch], c1 = poly[3 * ch + 1], c2 = poly[3 * ch + 2];
        const uint8_t *mp = m + (size_t)ch * hw;
        float *dmp = dm ? dm + (size_t)ch * hw : NULL;
        if (dmp) memset(dmp, 0, sizeof(float) * (size_t)hw);
        double s0 = 0, s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            const float *gp = dy + ((size_t)i * c + ch) * hw;
            float *dp = dx ? dx + ((size_t)i * c + ch) * hw : NULL;
            float l0 = 0, l1 = 0, l2 = 0;
            /* one loop per case, every load and store unconditional and one float
             * compare per element, so each vectorizes under gcc -O2 (a conditional
             * store, or two chained compares with trapping math, kept it scalar) */
#define GATE_TERMS                                                            \
    const float v = xp[j], g = gp[j];                                         \
    const float keep = (float)mp[j], repl = 1.0f - keep; /* masks are 0 or 1 */ \
    const float dr = v > 0.0f ? g : 0.0f, dq = (2.0f * c2 * v + c1) * g;      \
    const float gd = keep * dr + repl * dq;                                   \
    l0 += repl * g;                                                           \
    l1 += repl * g * v;                                                       \
    l2 += repl * g * v * v
            if (dp && acc) {
#pragma omp simd reduction(+ : l0, l1, l2)
                for (int j = 0; j < hw; j++) {
                    GATE_TERMS;
                    dp[j] += gd;
                }
            } else if (dp) {
#pragma omp simd reduction(+ : l0, l1, l2)
                for (int j = 0; j < hw; j++) {
                    GATE_TERMS;
                    dp[j] = gd;
                }
            } else {
#pragma omp simd reduction(+ : l0, l1, l2)
                for (int j = 0; j < hw; j++) {
                    GATE_TERMS;
                    (void)gd;
                }
            }
#undef GATE_TERMS
            if (dmp) {
#pragma omp simd
                for (int j = 0; j < hw; j++) {
                    const float v = xp[j], g = gp[j];
                    const float r = v > 0.0f ? v : 0.0f, p = (c2 * v + c1) * v + c0;
                    dmp[j] += g * (r - p);
                }
            }
            s0 += l0, s1 += l1, s2 += l2;
        }
        if (dpoly) {
            dpoly[3 * ch] = (float)s0;
            dpoly[3 * ch + 1] = (float)s1;
            dpoly[3 * ch + 2] = (float)s2;
        }
    }
}

void ar_running_stats(float *run_mean, float *run_var, const float *x, int n, int c, int hw, float momentum) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) row_sums(x + ((size_t)i * c + ch) * hw, hw, &s, &s2);
        ar_stats_fold(run_mean + ch, run_var + ch, s, s2, (double)n * hw, momentum);
    }
}

void ar_snl_forward(float *y, const float *x, const float *alpha, int n, size_t len) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < len; j++) {
            float v = x[(size_t)i * len + j], a = alpha[j];
            y[(size_t)i * len + j] = a * (v > 0.0f ? v : 0.0f) + (1.0f - a) * v;
        }
}

void ar_snl_backward(float *dx, int acc, float *dalpha, const float *dy, const float *x, const float *alpha, int n,
                     size_t len) {
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < len; j++) {
        const float a = alpha[j];
        float da = 0;
        for (int i = 0; i < n; i++) {
            const size_t k = (size_t)i * len + j;
            const float v = x[k], g = dy[k];
            da += g * ((v > 0.0f ? v : 0.0f) - v);
            if (dx) {
                float d = g * (v > 0.0f ? 1.0f : 1.0f - a);
                dx[k] = acc ? dx[k] + d : d;
            }
        }
        if (dalpha) dalpha[j] = da;
    }
}
