/* Analytic cost of a compiled model under the secure-inference protocols, per op
 * and in total, from the formulas of mpc/cost.h (no execution). The MPC executor's
 * measured traffic equals these numbers exactly (tests/test_pi_mpc.c).
 *
 * Op ids: op i of the model is protocol layer i; id m->n_ops is the output reveal. */
#ifndef AR_PI_COST_H
#define AR_PI_COST_H

#include "mpc/cost.h"
#include "pi/model.h"

/* Online cost of op `i` (i == m->n_ops: the reveal) for an inference of N images.
 * dealer_to_p0 includes the linear layers' offline material (ar_mpc_linear_pre). */
struct ar_cost ar_pi_cost_op(const struct ar_pi_model *m, int i, int N);
/* Offline P0 <-> P1 traffic of op i (P1's half of the quadratics' opening of an ACT
 * op with open_offline; zero otherwise). */
struct ar_cost ar_pi_cost_op_offline(const struct ar_pi_model *m, int i, int N);
/* Sum over every op and the reveal. */
struct ar_cost ar_pi_cost_total(const struct ar_pi_model *m, int N);
/* One-time per session: F = W - B of every linear op (P0 -> P1). */
struct ar_cost ar_pi_cost_setup(const struct ar_pi_model *m);
/* ReLUs and quadratic elements of op i per image (0 unless ACT / MAXPOOL). */
size_t ar_pi_op_relus(const struct ar_pi_model *m, int i);
size_t ar_pi_op_polys(const struct ar_pi_model *m, int i);
/* Online bytes (both ways) of op i's quadratics for N images: 16 per quadratic, 8 when
 * P1's half of the opening is offline. The rest of an ACT op's bytes are ReLU bytes. */
uint64_t ar_pi_op_poly_bytes(const struct ar_pi_model *m, int i, int N);

/* A link for latency estimates: one-way delay and bandwidth. */
struct ar_pi_link {
    const char *name;
    double delay_s;    /* one-way */
    double bits_per_s;
};
/* The OpenCheetah presets: lan = 3 Gbit/s, 0.15 ms; wan = 400 Mbit/s, 20 ms. NULL if unknown. */
const struct ar_pi_link *ar_pi_link_preset(const char *name);
/* Communication-only time estimate: (rounds + one-way messages) * delay + the
 * larger direction's bytes over the bandwidth (compute excluded). A round is a
 * full-duplex exchange: both parties send at once, so it costs one one-way delay
 * when they are in step (an RTT only when one waits for the other's reply). */
double ar_pi_link_seconds(const struct ar_pi_link *l, const struct ar_cost *c);

#endif
