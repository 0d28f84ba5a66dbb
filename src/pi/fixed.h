/* Plaintext fixed-point executor of a compiled model (pi/model.h): the oracle of
 * secure inference. It performs exactly the ring arithmetic of the MPC executor
 * (pi/mpc.h) on plaintext values — the same folded weights, the same truncation
 * points, the same ring kernels — with one difference: a truncation here rounds to
 * nearest, sar(v + 2^(t-1), t), while the parties' local truncation of shares is a
 * stochastic rounding, sar(v, t) + {0, 1} with mean v / 2^t (and, with probability
 * <= 2^(lx+1-64) per element for |v| < 2^lx, a wrap error). Each truncation thus
 * differs by at most 1 LSB, with zero mean; docs/secure-inference.md discusses the
 * resulting tolerance between the two executors. */
#ifndef AR_PI_FIXED_H
#define AR_PI_FIXED_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "pi/model.h"

/* Per-op statistics of a run. */
struct ar_pi_fixed_stats {
    uint64_t max_abs; /* largest |value| before the op's truncation (LINEAR and ACT), over all images */
    int max_bits;     /* bits of max_abs (the magnitude budget: keep below ~36) */
};

/* Run N images. x: (N, in_shape) ring values at scale f; logits: (N, classes) at
 * scale f. stats: m->n_ops entries or NULL. The model must have weights. */
AR_NODISCARD int ar_pi_fixed_run(const struct ar_pi_model *m, int N, const uint64_t *x, uint64_t *logits,
                                 struct ar_pi_fixed_stats *stats, char *err);

/* Worst-case bound (in LSBs) on |MPC logit - fixed-point logit| for the images of
 * the run that produced `stats`, ignoring wrap failures: every local truncation
 * adds an error in {0, +1}; a linear op maps an input error bound B to
 * ceil(max_o sum_k |w_ok| B / 2^t) + 1, ReLU and max pool keep it, add sums it, a
 * sum pool multiplies it by the window, and a quadratic (|x| <= M from stats) maps it
 * to ceil((|c2| Bt + |c1| B) / 2^f) + 1 with Bt = ceil((2 M B + B^2) / 2^f) + 1.
 * Tight for shallow networks; for deep ones it grows like the product of the
 * layers' weight norms and the observed error is far below it. */
double ar_pi_error_bound(const struct ar_pi_model *m, const struct ar_pi_fixed_stats *stats);

/* Encode normalised float images at scale f (round to nearest). */
void ar_pi_encode_input(uint64_t *out, const float *x, size_t n, int frac_bits);

/* Index of the largest signed ring value among n (the first on ties). */
int ar_pi_argmax(const uint64_t *v, int n);

/* Largest |a[i] - b[i]| over n signed ring values (in LSBs). */
uint64_t ar_pi_max_diff(const uint64_t *a, const uint64_t *b, size_t n);

/* The sum over the plane for every channel: out (N, C) from in (N, C, HW). Linear,
 * so it also works on additive shares. */
void ar_pi_global_sum(uint64_t *out, const uint64_t *in, size_t N, size_t C, size_t HW);

#endif
