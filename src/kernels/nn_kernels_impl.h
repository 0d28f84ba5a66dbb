/* Body of the nn kernels, instantiated twice by nn_kernels.c: REAL = float (the
 * executor) and REAL = double with the _f64 suffix (finite-difference tests).
 * Not a public header. Expects REAL, FN(name) and the includes of nn_kernels.c. */
/* ---------------- batch norm ---------------- */

/* Per-channel building blocks (channel ch of x: n planes of hw values, stride c*hw).
 * The whole-tensor kernels below and the sync-BN pieces are made of these, so the
 * fused, plain and distributed paths compute with the same code. */
static double FN(bn_chan_sum)(const REAL *x, int ch, int n, int c, int hw) {
    double s = 0;
    for (int i = 0; i < n; i++) {
        const REAL *xp = x + ((size_t)i * c + ch) * hw;
        REAL ls = 0;
#pragma omp simd reduction(+ : ls)
        for (int j = 0; j < hw; j++) ls += xp[j];
        s += ls;
    }
    return s;
}

static double FN(bn_chan_sqdev)(const REAL *x, REAL m, int ch, int n, int c, int hw) {
    double v = 0;
    for (int i = 0; i < n; i++) {
        const REAL *xp = x + ((size_t)i * c + ch) * hw;
        REAL lv = 0;
#pragma omp simd reduction(+ : lv)
        for (int j = 0; j < hw; j++) {
            REAL d = xp[j] - m;
            lv += d * d;
        }
        v += lv;
    }
    return v;
}

/* one plane: y = x*a + b, optionally max(., 0) */
static void FN(bn_plane_apply)(REAL *yp, const REAL *xp, REAL a, REAL b, int hw, int relu) {
    if (relu) {
#pragma omp simd
        for (int j = 0; j < hw; j++) {
            REAL z = xp[j] * a + b;
            yp[j] = z > (REAL)0 ? z : (REAL)0;
        }
    } else {
#pragma omp simd
        for (int j = 0; j < hw; j++) yp[j] = xp[j] * a + b;
    }
}

/* sum(g) and sum(g*(x-m)) over channel ch, g = dy masked by relu_y when given */
static void FN(bn_chan_bwd_sums)(double *sdy, double *sdyx, const REAL *dy, const REAL *x, REAL m, const REAL *relu_y,
                                 int ch, int n, int c, int hw) {
    double s0 = 0, s1 = 0;
    for (int i = 0; i < n; i++) {
        const size_t o = ((size_t)i * c + ch) * hw;
        const REAL *xp = x + o, *gp = dy + o, *mp = relu_y ? relu_y + o : NULL;
        REAL a = 0, b = 0;
        if (mp) {
#pragma omp simd reduction(+ : a, b)
            for (int j = 0; j < hw; j++) {
                /* loads outside the select, so the loop if-converts and vectorizes */
                const REAL gv = gp[j], mv = mp[j];
                const REAL g = mv > (REAL)0 ? gv : (REAL)0;
                a += g;
                b += g * (xp[j] - m);
            }
        } else {
#pragma omp simd reduction(+ : a, b)
            for (int j = 0; j < hw; j++) {
                a += gp[j];
                b += gp[j] * (xp[j] - m);
            }
        }
        s0 += a, s1 += b;
    }
    *sdy = s0, *sdyx = s1;
}

/* one plane: dx (+)= ((g - gmean) - (x - m)*proj)*sc */
static void FN(bn_plane_bwd)(REAL *dp, int acc, const REAL *gp, const REAL *xp, const REAL *mp, REAL m, REAL gmean,
                             REAL proj, REAL sc, int hw) {
    /* every load is unconditional and acc is hoisted, so each loop vectorizes
     * (a select around a load kept gcc scalar: 15x slower than the forward pass) */
    if (mp && acc) {
#pragma omp simd
        for (int j = 0; j < hw; j++) {
            const REAL gv = gp[j], mv = mp[j];
            const REAL g = mv > (REAL)0 ? gv : (REAL)0;
            dp[j] += ((g - gmean) - (xp[j] - m) * proj) * sc;
        }
    } else if (mp) {
#pragma omp simd
        for (int j = 0; j < hw; j++) {
            const REAL gv = gp[j], mv = mp[j];
            const REAL g = mv > (REAL)0 ? gv : (REAL)0;
            dp[j] = ((g - gmean) - (xp[j] - m) * proj) * sc;
        }
    } else if (acc) {
#pragma omp simd
        for (int j = 0; j < hw; j++) dp[j] += ((gp[j] - gmean) - (xp[j] - m) * proj) * sc;
    } else {
#pragma omp simd
        for (int j = 0; j < hw; j++) dp[j] = ((gp[j] - gmean) - (xp[j] - m) * proj) * sc;
    }
}

void FN(ar_bn_forward_train)(REAL *y, REAL *mean, REAL *rstd, REAL *run_mean, REAL *run_var, const REAL *x,
                             const REAL *gamma, const REAL *beta, int n, int c, int hw, REAL momentum, REAL eps,
                             int relu) {
    AR_ASSERT(n > 0 && c > 0 && hw > 0);
    const double cnt = (double)n * hw;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const double m = FN(bn_chan_sum)(x, ch, n, c, hw) / cnt;
        const double v = FN(bn_chan_sqdev)(x, (REAL)m, ch, n, c, hw);
        const double var = v / cnt;
        const REAL r = (REAL)(1.0 / sqrt(var + (double)eps));
        mean[ch] = (REAL)m;
        rstd[ch] = r;
        const double unbiased = cnt > 1 ? v / (cnt - 1) : var;
        run_mean[ch] = ((REAL)1 - momentum) * run_mean[ch] + momentum * (REAL)m;
        run_var[ch] = ((REAL)1 - momentum) * run_var[ch] + momentum * (REAL)unbiased;
        const REAL a = r * gamma[ch], b = beta[ch] - (REAL)m * a;
        for (int i = 0; i < n; i++)
            FN(bn_plane_apply)(y + ((size_t)i * c + ch) * hw, x + ((size_t)i * c + ch) * hw, a, b, hw, relu);
    }
}

void FN(ar_bn_forward_eval)(REAL *y, const REAL *x, const REAL *gamma, const REAL *beta, const REAL *run_mean,
                            const REAL *run_var, int n, int c, int hw, REAL eps, int relu) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL r = (REAL)(1.0 / sqrt((double)run_var[ch] + (double)eps));
            const REAL a = r * gamma[ch], b = beta[ch] - run_mean[ch] * a;
            FN(bn_plane_apply)(y + ((size_t)i * c + ch) * hw, x + ((size_t)i * c + ch) * hw, a, b, hw, relu);
        }
}

void FN(ar_bn_backward)(REAL *dx, int acc, REAL *dgamma, REAL *dbeta, const REAL *dy, const REAL *x,
                        const REAL *mean, const REAL *rstd, const REAL *gamma, int n, int c, int hw,
                        const REAL *relu_y) {
    const double cnt = (double)n * hw;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const REAL m = mean[ch];
        double sdy, sdyx;
        FN(bn_chan_bwd_sums)(&sdy, &sdyx, dy, x, m, relu_y, ch, n, c, hw);
        const REAL r = rstd[ch];
        dgamma[ch] = (REAL)(sdyx * r);
        dbeta[ch] = (REAL)sdy;
        if (!dx) continue;
        const REAL gmean = (REAL)(sdy / cnt);
        const REAL proj = (REAL)(sdyx * (double)r * (double)r / cnt);
        const REAL sc = r * gamma[ch];
        for (int i = 0; i < n; i++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            FN(bn_plane_bwd)(dx + o, acc, dy + o, x + o, relu_y ? relu_y + o : NULL, m, gmean, proj, sc, hw);
        }
    }
}

/* Sync-BN pieces (see nn_kernels.h). */
void FN(ar_bn_sum)(double *sum, const REAL *x, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) sum[ch] = FN(bn_chan_sum)(x, ch, n, c, hw);
}

void FN(ar_bn_sqdev)(double *sq, const REAL *x, const REAL *mean, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) sq[ch] = FN(bn_chan_sqdev)(x, mean ? mean[ch] : (REAL)0, ch, n, c, hw);
}

void FN(ar_bn_apply)(REAL *y, const REAL *x, const REAL *a, const REAL *b, int n, int c, int hw, int relu) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            FN(bn_plane_apply)(y + ((size_t)i * c + ch) * hw, x + ((size_t)i * c + ch) * hw, a[ch], b[ch], hw, relu);
}

void FN(ar_bn_bwd_sums)(double *sdy, double *sdyx, const REAL *dy, const REAL *x, const REAL *mean,
                        const REAL *relu_y, int n, int c, int hw) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) FN(bn_chan_bwd_sums)(&sdy[ch], &sdyx[ch], dy, x, mean[ch], relu_y, ch, n, c, hw);
}

void FN(ar_bn_bwd_apply)(REAL *dx, int acc, const REAL *dy, const REAL *x, const REAL *mean, const REAL *gmean,
                         const REAL *proj, const REAL *scale, const REAL *relu_y, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const size_t o = ((size_t)i * c + ch) * hw;
            FN(bn_plane_bwd)(dx + o, acc, dy + o, x + o, relu_y ? relu_y + o : NULL, mean[ch], gmean[ch], proj[ch],
                             scale[ch], hw);
        }
}

/* ---------------- ReLU and elementwise ---------------- */

void FN(ar_relu_forward)(REAL *y, const REAL *x, size_t len) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < len; i++) y[i] = x[i] > (REAL)0 ? x[i] : (REAL)0;
}

void FN(ar_relu_backward)(REAL *dx, int acc, const REAL *dy, const REAL *y, size_t len) {
    /* unconditional loads, so the select vectorizes (see bn_plane_bwd) */
    if (acc) {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < len; i++) {
            const REAL g = dy[i], v = y[i];
            dx[i] += v > (REAL)0 ? g : (REAL)0;
        }
    } else {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < len; i++) {
            const REAL g = dy[i], v = y[i];
            dx[i] = v > (REAL)0 ? g : (REAL)0;
        }
    }
}

void FN(ar_add_forward)(REAL *y, const REAL *a, const REAL *b, size_t len) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < len; i++) y[i] = a[i] + b[i];
}

void FN(ar_add_relu_forward)(REAL *y, const REAL *a, const REAL *b, size_t len) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < len; i++) {
        REAL z = a[i] + b[i];
        y[i] = z > (REAL)0 ? z : (REAL)0;
    }
}

void FN(ar_pass_grad)(REAL *dx, int acc, const REAL *dy, size_t len) {
    if (acc) {
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < len; i++) dx[i] += dy[i];
    } else if (dx != dy) {
        memcpy(dx, dy, len * sizeof *dx);
    }
}

/* ---------------- pooling ---------------- */

void FN(ar_maxpool_forward)(REAL *y, const REAL *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL *xp = x + ((size_t)i * c + ch) * h * w;
            REAL *yp = y + ((size_t)i * c + ch) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    REAL best = -INFINITY;
                    int found = 0;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s - p + kx;
                            if (ix < 0 || ix >= w) continue;
                            REAL v = xp[iy * w + ix];
                            if (!found || v > best || isnan(v)) best = v, found = 1;
                        }
                    }
                    yp[oy * ow + ox] = best;
                }
        }
}

void FN(ar_maxpool_backward)(REAL *dx, int acc, const REAL *dy, const REAL *x, int n, int c, int h, int w, int k, int s,
                         int p, int oh, int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL *xp = x + ((size_t)i * c + ch) * h * w;
            const REAL *gp = dy + ((size_t)i * c + ch) * oh * ow;
            REAL *dp = dx + ((size_t)i * c + ch) * h * w;
            if (!acc) memset(dp, 0, sizeof *dp * (size_t)h * w);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    REAL best = -INFINITY;
                    int arg = -1;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s - p + kx;
                            if (ix < 0 || ix >= w) continue;
                            REAL v = xp[iy * w + ix];
                            if (arg < 0 || v > best || isnan(v)) best = v, arg = iy * w + ix;
                        }
                    }
                    if (arg >= 0) dp[arg] += gp[oy * ow + ox];
                }
        }
}

void FN(ar_avgpool_forward)(REAL *y, const REAL *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow) {
    const REAL inv = (REAL)1 / (REAL)(k * k);
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL *xp = x + ((size_t)i * c + ch) * h * w;
            REAL *yp = y + ((size_t)i * c + ch) * oh * ow;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    /* PyTorch divides by the window size clipped to the padded input. */
                    int y0 = oy * s - p, x0 = ox * s - p;
                    int y1 = y0 + k < h + p ? y0 + k : h + p, x1 = x0 + k < w + p ? x0 + k : w + p;
                    REAL div = (REAL)((y1 - y0) * (x1 - x0));
                    REAL sum = 0;
                    for (int iy = y0 < 0 ? 0 : y0; iy < (y1 < h ? y1 : h); iy++)
                        for (int ix = x0 < 0 ? 0 : x0; ix < (x1 < w ? x1 : w); ix++) sum += xp[iy * w + ix];
                    yp[oy * ow + ox] = div == (REAL)(k * k) ? sum * inv : sum / div;
                }
        }
}

void FN(ar_avgpool_backward)(REAL *dx, int acc, const REAL *dy, int n, int c, int h, int w, int k, int s, int p, int oh,
                         int ow) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL *gp = dy + ((size_t)i * c + ch) * oh * ow;
            REAL *dp = dx + ((size_t)i * c + ch) * h * w;
            if (!acc) memset(dp, 0, sizeof *dp * (size_t)h * w);
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = oy * s - p, x0 = ox * s - p;
                    int y1 = y0 + k < h + p ? y0 + k : h + p, x1 = x0 + k < w + p ? x0 + k : w + p;
                    REAL g = gp[oy * ow + ox] / (REAL)((y1 - y0) * (x1 - x0));
                    for (int iy = y0 < 0 ? 0 : y0; iy < (y1 < h ? y1 : h); iy++)
                        for (int ix = x0 < 0 ? 0 : x0; ix < (x1 < w ? x1 : w); ix++) dp[iy * w + ix] += g;
                }
        }
}

void FN(ar_gap_forward)(REAL *y, const REAL *x, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const REAL *xp = x + ((size_t)i * c + ch) * hw;
            REAL s = 0;
            for (int j = 0; j < hw; j++) s += xp[j];
            y[(size_t)i * c + ch] = s / (REAL)hw;
        }
}

void FN(ar_gap_backward)(REAL *dx, int acc, const REAL *dy, int n, int c, int hw) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            REAL g = dy[(size_t)i * c + ch] / (REAL)hw;
            REAL *dp = dx + ((size_t)i * c + ch) * hw;
            if (acc)
                for (int j = 0; j < hw; j++) dp[j] += g;
            else
                for (int j = 0; j < hw; j++) dp[j] = g;
        }
}

/* ---------------- losses ---------------- */

double FN(ar_softmax_xent)(REAL *dlogits, REAL scale, const REAL *logits, const int32_t *labels, int n, int k,
                       int *correct) {
    double total = 0;
    int hits = 0;
#pragma omp parallel for reduction(+ : total, hits) schedule(static)
    for (int i = 0; i < n; i++) {
        const REAL *z = logits + (size_t)i * k;
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
            REAL *g = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double pj = exp((double)z[j] - lse);
                g[j] = (REAL)((pj - (j == y)) * scale / n);
            }
        }
    }
    if (correct) *correct = hits;
    return total / n;
}

double FN(ar_kd_loss)(REAL *ds, int acc, REAL scale, const REAL *s, const REAL *t, int n, int k, REAL T) {
    double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int i = 0; i < n; i++) {
        const REAL *zs = s + (size_t)i * k, *zt = t + (size_t)i * k;
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
                    ds[(size_t)i * k + j] += (REAL)g;
                else
                    ds[(size_t)i * k + j] = (REAL)g;
            }
        }
        total += kl;
    }
    return total * (double)T * T / n;
}
