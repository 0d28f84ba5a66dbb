/* DaPa: distribution-aware polynomial approximation of ReLU (AutoReP §3.5).
 *
 * For a pre-activation x ~ N(mu, s^2), the degree-d polynomial p minimising
 * E[(relu(x) - p(x))^2] has closed forms (phi = exp(-mu^2/(2 s^2)),
 * k = sqrt(2)/(4 sqrt(pi))):
 *   degree 1: c1 = Phi(mu/s),  c0 = s phi / sqrt(2 pi)
 *   degree 2: c2 = k phi / s,  c1 = Phi(mu/s) - 2 k mu phi / s,  c0 = k mu^2 phi / s + k s phi
 * Two ways to apply them (method.md §3.5, §7.2):
 *   exact     s = sqrt(running variance); stored (a0, a1, a2) = (c0, c1, c2) and the
 *             forward uses a2 as is (scale_x2 = 1)
 *   faithful  the official code: s = max(running variance, var_min) (the variance
 *             passed as a standard deviation), stored (c0/5, c1, c2/10), and the
 *             forward multiplies a2 by scale_x2 (0.1) */
#ifndef AR_DAPA_H
#define AR_DAPA_H

/* c[0..2] = (c0, c1, c2) of the least-squares fit; degree 1 gives c2 = 0. */
void ar_dapa_fit(double mu, double s, int degree, double c[3]);

enum ar_dapa_mode { AR_DAPA_EXACT = 0, AR_DAPA_FAITHFUL = 1 };

/* Stored coefficients (a0, a1, a2) for a channel with running mean and variance. */
void ar_dapa_stored(enum ar_dapa_mode mode, double mean, double var, int degree, double var_min, float a[3]);

#endif
