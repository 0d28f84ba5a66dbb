/* Kernels of the replaceable activation (pure, no allocation, OpenMP).
 *
 * AutoReP gated site, per element i of a site (C x H x W, shared by the batch):
 *   y = m_i ? relu(x) : p_c(x),   p_c(x) = c2 x^2 + c1 x + c0  (effective coefficients)
 * with the binary state m driven by a hysteresis on the trainable gate alpha:
 *   m_new = m_old ? (alpha > -t) : (alpha > t)
 * and the straight-through gradient dL/dalpha = softplus(alpha) * dL/dm.
 * SNL site: y = a relu(x) + (1 - a) x with a continuous per-element a. */
#ifndef AR_GATE_H
#define AR_GATE_H

#include <stddef.h>
#include <stdint.h>

/* Update m (n elements) from alpha with threshold t; returns the number of ones. */
size_t ar_hysteresis(uint8_t *m, const float *alpha, size_t n, float t);

/* softplus(a) = log(1 + e^a), stable. */
float ar_softplus(float a);

/* y, x: (n, c, hw)  m: (c, hw)  poly: (c, 3) effective (c0, c1, c2) */
void ar_gate_forward(float *y, const float *x, const uint8_t *m, const float *poly, int n, int c, int hw);
/* dx (n,c,hw) written/accumulated (may be NULL); dm (c,hw) written with
 * sum_batch dy*(relu(x) - p(x)) (may be NULL); dpoly (c,3) written with the
 * gradient w.r.t. the effective (c0, c1, c2) over replaced elements (may be NULL). */
void ar_gate_backward(float *dx, int acc, float *dm, float *dpoly, const float *dy, const float *x, const uint8_t *m,
                      const float *poly, int n, int c, int hw);

/* ar_gate_forward and ar_running_stats(run_mean, run_var, x, ...) in one pass
 * over x, with the same results bit for bit. */
void ar_gate_forward_stats(float *y, const float *x, const uint8_t *m, const float *poly, int n, int c, int hw,
                           float *run_mean, float *run_var, float momentum);

/* Per-channel batch statistics of x (n, c, hw) folded into running mean/var with
 * momentum (unbiased variance), as a non-affine BatchNorm in training mode. */
void ar_running_stats(float *run_mean, float *run_var, const float *x, int n, int c, int hw, float momentum);

/* Fold one channel's batch sum s and sum of squares s2 over cnt values into its
 * running mean and unbiased variance with momentum. */
void ar_stats_fold(float *run_mean, float *run_var, double s, double s2, double cnt, float momentum);

/* SNL: y, x: (n, len)  alpha: (len) */
void ar_snl_forward(float *y, const float *x, const float *alpha, int n, size_t len);
/* dalpha (len) written with sum_batch dy*(relu(x) - x); dx written/accumulated. */
void ar_snl_backward(float *dx, int acc, float *dalpha, const float *dy, const float *x, const float *alpha, int n,
                     size_t len);

#endif
