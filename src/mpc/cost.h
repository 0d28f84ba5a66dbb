/* Analytic cost model of every protocol in mpc/proto.h, as functions of the
 * public element counts. Tests assert that the measured traffic (mpc/party.h,
 * struct ar_meas) equals these numbers exactly, which catches extra openings and
 * unbatched sends.
 *
 * Units: payload bytes (frame headers and MACs excluded), per call.
 *   rounds = full-duplex exchanges on the P0<->P1 link (each a sequential step),
 *   oneway = one-way messages on that link,
 *   dealer_to_p0 = dealer payload bytes including the 32-byte tag per correlation.
 *
 * With nb = ceil(n/8) (one packed bit-plane of n bits):
 *   linear (conv/FC)  P1->P0: 8*|in|                 oneway 1  dealer 32 + 8*|out|
 *   linear setup      P0->P1: 8*|W| (once per model) oneway 1  dealer 0
 *   poly              each way 8n                    rounds 1  dealer 32 + 8n
 *   relu              each way 8n + 244*nb           rounds 8  dealer 4*32 + 16n + 181*nb
 *                     (63 leaf planes + 180 tree planes + 1 injection plane; the
 *                      dealer sends 63 + 6 + 2*56 = 181 planes + ra0, c0)
 *   mixed site        relu(n_relu) + 8*n_poly each way in round 1; dealer + 32 + 8*n_poly
 *   reveal            P0->P1: 8n                      oneway 1 */
#ifndef AR_MPC_COST_H
#define AR_MPC_COST_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ring.h"

struct ar_cost {
    uint64_t p0_to_p1, p1_to_p0; /* online payload bytes */
    uint32_t rounds;             /* full-duplex exchanges */
    uint32_t oneway;             /* one-way messages */
    uint64_t dealer_to_p0;       /* dealer payload bytes, tags included */
    uint64_t dealer_to_p1;       /* always 0 (seed compression) */
};

/* ---- the comparison tree of the ReLU (carry into bit 63 of x0 + x1) ---------------- */

#define AR_CMP_LEAVES 63
#define AR_CMP_MAX_LEVELS 7

/* Level 0 holds the 63 leaves (bit positions 0..62, least significant first).
 * Node j of level l+1 combines node 2j+1 (high) and 2j (low) of level l, or passes
 * node 2j through when it has no partner. A combined node computes
 *   G = G_hi ^ (E_hi & G_lo)      [one AND]
 *   E = E_hi & E_lo               [a second AND, sharing E_hi's mask, if E is needed]
 * E is needed by every high child and by the low child of a node that needs E; the
 * root needs only G. */
struct ar_cmp_sched {
    int levels;                                  /* 6 for 63 leaves */
    int count[AR_CMP_MAX_LEVELS + 1];            /* nodes per level */
    int pairs[AR_CMP_MAX_LEVELS + 1];            /* combined nodes of level l (l >= 1) */
    int doubles[AR_CMP_MAX_LEVELS + 1];          /* of which also compute E */
    uint8_t need_e[AR_CMP_MAX_LEVELS + 1][64];   /* node j of level l must provide E */
    int singles_total, doubles_total;            /* 6 and 56 */
    int tree_planes;                             /* opened planes per party: sum 2*pairs + doubles = 180 */
};

void ar_cmp_schedule(struct ar_cmp_sched *s);

/* ---- formulas ------------------------------------------------------------------------ */

struct ar_cost ar_cost_linear(const struct ar_conv_shape *s);
struct ar_cost ar_cost_linear_setup(const struct ar_conv_shape *s);
struct ar_cost ar_cost_poly(size_t n);
struct ar_cost ar_cost_relu(size_t n);
struct ar_cost ar_cost_act(size_t n_relu, size_t n_poly);
/* A mixed site with its offline half (ar_mpc_act_pre): online part (P1's half of the
 * quadratics' opening gone; one-way when n_relu = 0; dealer bytes of the square
 * pair included) and the offline message (P1 -> P0, 8 B per quadratic, one-way). */
struct ar_cost ar_cost_act_online_pre(size_t n_relu, size_t n_poly);
struct ar_cost ar_cost_act_offline(size_t n_poly);
struct ar_cost ar_cost_reveal(size_t n);
/* Max-pool of k windows' `m` candidates each (tournament of ReLUs). */
struct ar_cost ar_cost_maxpool(size_t windows, int m);

/* a += b */
void ar_cost_add(struct ar_cost *a, const struct ar_cost *b);

#endif
