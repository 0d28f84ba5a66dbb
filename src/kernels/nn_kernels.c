/* Float kernels for batch norm, ReLU, pooling, residual add and the losses (see
 * nn_kernels.h for shapes and conventions). Reductions accumulate in double and
 * are parallel over channels or images with static OpenMP schedules, so results do
 * not depend on timing (they do on the thread count only through oneDNN). */
#include "nn_kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/assert.h"

#define REAL float
#define FN(name) name
#include "nn_kernels_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "nn_kernels_impl.h"
#undef REAL
#undef FN

/* ---- batch norm in pieces (float only; see nn_kernels.h) ---- */

void ar_bn_sum(double *sum, const float *x, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float ls = 0;
#pragma omp simd reduction(+ : ls)
            for (int j = 0; j < hw; j++) ls += xp[j];
            s += ls;
        }
        sum[ch] = s;
    }
}

void ar_bn_sqdev(double *sq, const float *x, const float *mean, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s = 0;
        const float m = mean ? mean[ch] : 0.0f;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float ls = 0;
#pragma omp simd reduction(+ : ls)
            for (int j = 0; j < hw; j++) {
                float d = xp[j] - m;
                ls += d * d;
            }
            s += ls;
        }
        sq[ch] = s;
    }
}

void ar_bn_apply(float *y, const float *x, const float *a, const float *b, int n, int c, int hw, int relu) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float *yp = y + ((size_t)i * c + ch) * hw;
            const float ac = a[ch], bc = b[ch];
#pragma omp simd
            for (int j = 0; j < hw; j++) {
                float z = xp[j] * ac + bc;
                yp[j] = relu && z <= 0.0f ? 0.0f : z;
            }
        }
}

void ar_bn_bwd_sums(double *sdy, double *sdyx, const float *dy, const float *x, const float *mean,
                    const float *relu_y, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s0 = 0, s1 = 0;
        const float m = mean[ch];
        for (int i = 0; i < n; i++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
            for (int j = 0; j < hw; j++) {
                float g = relu_y && !(relu_y[o + j] > 0.0f) ? 0.0f : dy[o + j];
                a += g;
                b += g * (x[o + j] - m);
            }
            s0 += a, s1 += b;
        }
        sdy[ch] = s0, sdyx[ch] = s1;
    }
}

void ar_bn_bwd_apply(float *dx, int acc, const float *dy, const float *x, const float *mean, const float *gmean,
                     const float *proj, const float *scale, const float *relu_y, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            const float m = mean[ch], gm = gmean[ch], pr = proj[ch], sc = scale[ch];
#pragma omp simd
            for (int j = 0; j < hw; j++) {
                float g = relu_y && !(relu_y[o + j] > 0.0f) ? 0.0f : dy[o + j];
                float v = ((g - gm) - (x[o + j] - m) * pr) * sc;
                dx[o + j] = acc ? dx[o + j] + v : v;
            }
        }
}
