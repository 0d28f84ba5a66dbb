/* Float kernels for batch norm, ReLU, pooling, residual add and the losses (see
 * nn_kernels.h for shapes and conventions). Reductions accumulate in double and
 * are parallel over channels or images with static OpenMP schedules, so results do
 * not depend on timing (they do on the thread count only through oneDNN). */
#include "nn_kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/assert.h"

/* ---------------- batch norm ---------------- */

void ar_bn_forward_train(float *y, float *mean, float *rstd, float *run_mean, float *run_var, const float *x,
                         const float *gamma, const float *beta, int n, int c, int hw, float momentum, float eps) {
    AR_ASSERT(n > 0 && c > 0 && hw > 0);
    const double cnt = (double)n * hw;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float ls = 0;
            for (int j = 0; j < hw; j++) ls += xp[j];
            s += ls;
        }
        const double m = s / cnt;
        double v = 0;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            double lv = 0;
            for (int j = 0; j < hw; j++) {
                double d = (double)xp[j] - m;
                lv += d * d;
            }
            v += lv;
        }
        const double var = v / cnt;
        const float r = (float)(1.0 / sqrt(var + (double)eps));
        mean[ch] = (float)m;
        rstd[ch] = r;
        const double unbiased = cnt > 1 ? v / (cnt - 1) : var;
        run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * (float)m;
        run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * (float)unbiased;
        const float a = r * gamma[ch], b = beta[ch] - (float)m * a;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float *yp = y + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) yp[j] = xp[j] * a + b;
        }
    }
}

void ar_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                        const float *run_var, int n, int c, int hw, float eps) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float r = (float)(1.0 / sqrt((double)run_var[ch] + (double)eps));
            const float a = r * gamma[ch], b = beta[ch] - run_mean[ch] * a;
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float *yp = y + ((size_t)i * c + ch) * hw;
            for (int j = 0; j < hw; j++) yp[j] = xp[j] * a + b;
        }
}

void ar_bn_backward(float *dx, int acc, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *rstd, const float *gamma, int n, int c, int hw) {
    const double cnt = (double)n * hw;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float m = mean[ch];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            const float *gp = dy + ((size_t)i * c + ch) * hw;
            float a = 0, b = 0;
            for (int j = 0; j < hw; j++) {
                a += gp[j];
                b += gp[j] * (xp[j] - m);
            }
            sdy += a;
            sdyx += b;
        }
        const float r = rstd[ch];
        dgamma[ch] = (float)(sdyx * r);
        dbeta[ch] = (float)sdy;
        if (!dx) continue;
        const float gmean = (float)(sdy / cnt);
        const float proj = (float)(sdyx * (double)r * (double)r / cnt);
        const float sc = r * gamma[ch];
        for (int i = 0; i < n; i++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            const float *gp = dy + ((size_t)i * c + ch) * hw;
            float *dp = dx + ((size_t)i * c + ch) * hw;
            if (acc)
                for (int j = 0; j < hw; j++) dp[j] += ((gp[j] - gmean) - (xp[j] - m) * proj) * sc;
            else
                for (int j = 0; j < hw; j++) dp[j] = ((gp[j] - gmean) - (xp[j] - m) * proj) * sc;
        }
    }
}

/* ---------------- ReLU and elementwise ---------------- */

void ar_relu_forward(float *y, const float *x, size_t len) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ar_relu_backward(float *dx, int acc, const float *dy, const float *y, size_t len) {
    if (acc) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    } else {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    }
}

void ar_add_forward(float *y, const float *a, const float *b, size_t len) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < len; i++) y[i] = a[i] + b[i];
}

void ar_pass_grad(float *dx, int acc, const float *dy, size_t len) {
    if (acc) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i++) dx[i] += dy[i];
    } else if (dx != dy) {
        memcpy(dx, dy, len * sizeof *dx);
    }
}

/* ---------------- pooling ---------------- */

void ar_maxpool_forward(float *y, const float *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = x + ((size_t)i * c + ch) * h * w;
            float *yp = y + ((size_t)i * c + ch) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    float best = -INFINITY;
                    int found = 0;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s - p + kx;
                            if (ix < 0 || ix >= w) continue;
                            float v = xp[iy * w + ix];
                            if (!found || v > best || isnan(v)) best = v, found = 1;
                        }
                    }
                    yp[oy * ow + ox] = best;
                }
        }
}

void ar_maxpool_backward(float *dx, int acc, const float *dy, const float *x, int n, int c, int h, int w, int k, int s,
                         int p, int oh, int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = x + ((size_t)i * c + ch) * h * w;
            const float *gp = dy + ((size_t)i * c + ch) * oh * ow;
            float *dp = dx + ((size_t)i * c + ch) * h * w;
            if (!acc) memset(dp, 0, sizeof *dp * (size_t)h * w);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    float best = -INFINITY;
                    int arg = -1;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s - p + kx;
                            if (ix < 0 || ix >= w) continue;
                            float v = xp[iy * w + ix];
                            if (arg < 0 || v > best || isnan(v)) best = v, arg = iy * w + ix;
                        }
                    }
                    if (arg >= 0) dp[arg] += gp[oy * ow + ox];
                }
        }
}

void ar_avgpool_forward(float *y, const float *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow) {
    const float inv = 1.0f / (float)(k * k);
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = x + ((size_t)i * c + ch) * h * w;
            float *yp = y + ((size_t)i * c + ch) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    /* PyTorch divides by the window size clipped to the padded input. */
                    int y0 = oy * s - p, x0 = ox * s - p;
                    int y1 = y0 + k < h + p ? y0 + k : h + p, x1 = x0 + k < w + p ? x0 + k : w + p;
                    float div = (float)((y1 - y0) * (x1 - x0));
                    float sum = 0;
                    for (int iy = y0 < 0 ? 0 : y0; iy < (y1 < h ? y1 : h); iy++)
                        for (int ix = x0 < 0 ? 0 : x0; ix < (x1 < w ? x1 : w); ix++) sum += xp[iy * w + ix];
                    yp[oy * ow + ox] = div == (float)(k * k) ? sum * inv : sum / div;
                }
        }
}

void ar_avgpool_backward(float *dx, int acc, const float *dy, int n, int c, int h, int w, int k, int s, int p, int oh,
                         int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *gp = dy + ((size_t)i * c + ch) * oh * ow;
            float *dp = dx + ((size_t)i * c + ch) * h * w;
            if (!acc) memset(dp, 0, sizeof *dp * (size_t)h * w);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = oy * s - p, x0 = ox * s - p;
                    int y1 = y0 + k < h + p ? y0 + k : h + p, x1 = x0 + k < w + p ? x0 + k : w + p;
                    float g = gp[oy * ow + ox] / (float)((y1 - y0) * (x1 - x0));
                    for (int iy = y0 < 0 ? 0 : y0; iy < (y1 < h ? y1 : h); iy++)
                        for (int ix = x0 < 0 ? 0 : x0; ix < (x1 < w ? x1 : w); ix++) dp[iy * w + ix] += g;
                }
        }
}

void ar_gap_forward(float *y, const float *x, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const float *xp = x + ((size_t)i * c + ch) * hw;
            float s = 0;
            for (int j = 0; j < hw; j++) s += xp[j];
            y[(size_t)i * c + ch] = s / (float)hw;
        }
}

void ar_gap_backward(float *dx, int acc, const float *dy, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            float g = dy[(size_t)i * c + ch] / (float)hw;
            float *dp = dx + ((size_t)i * c + ch) * hw;
            if (acc)
                for (int j = 0; j < hw; j++) dp[j] += g;
            else
                for (int j = 0; j < hw; j++) dp[j] = g;
        }
}

/* ---------------- losses ---------------- */

double ar_softmax_xent(float *dlogits, float scale, const float *logits, const int32_t *labels, int n, int k,
                       int *correct) {
    double total = 0;
    int hits = 0;
#pragma omp parallel for reduction(+ : total, hits) schedule(static)
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int am = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[am]) am = j;
        double sum = 0;
        for (int j = 0; j < k; j++) sum += exp((double)z[j] - (double)z[am]);
        const double lse = (double)z[am] + log(sum);
        const int y = labels[i];
        AR_ASSERT(y >= 0 && y < k);
        total += lse - (double)z[y];
        hits += am == y;
        if (dlogits) {
            float *g = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double pj = exp((double)z[j] - lse);
                g[j] = (float)((pj - (j == y)) * scale / n);
            }
        }
    }
    if (correct) *correct = hits;
    return total / n;
}

double ar_kd_loss(float *ds, int acc, float scale, const float *s, const float *t, int n, int k, float T) {
    double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int i = 0; i < n; i++) {
        const float *zs = s + (size_t)i * k, *zt = t + (size_t)i * k;
        double ms = -DBL_MAX, mt = -DBL_MAX;
        for (int j = 0; j < k; j++) {
            if (zs[j] / T > ms) ms = zs[j] / T;
            if (zt[j] / T > mt) mt = zt[j] / T;
        }
        double ss = 0, st = 0;
        for (int j = 0; j < k; j++) {
            ss += exp(zs[j] / T - ms);
            st += exp(zt[j] / T - mt);
        }
        const double lses = ms + log(ss), lset = mt + log(st);
        double kl = 0;
        for (int j = 0; j < k; j++) {
            double lpt = zt[j] / T - lset, lps = zs[j] / T - lses;
            double pt = exp(lpt);
            if (pt > 0) kl += pt * (lpt - lps);
            if (ds) {
                double g = (double)T / n * (exp(lps) - pt) * scale;
                if (acc)
                    ds[(size_t)i * k + j] += (float)g;
                else
                    ds[(size_t)i * k + j] = (float)g;
            }
        }
        total += kl;
    }
    return total * (double)T * T / n;
}
