/* The network-level secure-inference executor: walks a compiled model (pi/model.h)
 * through the two-party protocols of mpc/proto.h. All three roles run the same
 * walk with the same public model; only P0 (server) has weights, only P1 (client)
 * has the input and receives the logits, the dealer passes no data at all.
 *
 * Per session: ar_pi_mpc_init runs the one-time setup of every linear op (P0 sends
 * F = W - B to P1). Per inference of N images: (offline) every linear op's
 * input-independent part — P1 precomputes its output share, the dealer streams
 * P0's correlation — and, for sites fed by a linear op, P1's half of the
 * quadratics' opening (its input share is already known); then (online) the walk: LINEAR by weight-mask reuse (one
 * one-way P1 -> P0 message), ACT with the site's public mask and coefficients (only
 * the ReLU positions run a comparison; the quadratics' opening rides in the same
 * first round), ADD and SUMPOOL locally, MAXPOOL by a ReLU tournament, and the
 * logits revealed to P1 only. Between the two phases P0 and P1 exchange one byte
 * (a barrier outside every op's measurement), so that the online timing does not
 * include the other party's offline work.
 *
 * Protocol layer ids: op i is id i, the reveal is id m->n_ops (pi/cost.h).
 * In-process mode: ar_pi_run_local runs the three roles as threads over memory
 * channels, with exactly the code the TCP processes run (ar_pi_party_run). */
#ifndef AR_PI_MPC_H
#define AR_PI_MPC_H

#include <stdint.h>

#include "core/status.h"
#include "mpc/party.h"
#include "mpc/proto.h"
#include "pi/model.h"

struct ar_pi_mpc {
    struct ar_party *p;
    const struct ar_pi_model *m;
    int batch;                  /* largest N per inference */
    uint64_t **F;               /* P1: per op, F = W - B of a linear op */
    struct ar_linear_pre *pre;  /* per op (LINEAR) */
    struct ar_act_pre *apre;    /* per op (ACT with open_offline) */
    uint64_t **val;             /* per value: shares for `batch` images (P0, P1) */
    double last_offline_s, last_online_s;
};

/* After ar_party_setup. P0's model must have weights; P1 and the dealer may use a
 * public-only model (same hash). */
AR_NODISCARD int ar_pi_mpc_init(struct ar_pi_mpc *e, struct ar_party *p, const struct ar_pi_model *m, int batch,
                                char *err);
/* One inference of N (1..batch) images. x: (N, in) ring input at P1 (NULL elsewhere);
 * logits: (N, classes) output at P1 (NULL elsewhere). */
AR_NODISCARD int ar_pi_mpc_infer(struct ar_pi_mpc *e, int N, const uint64_t *x, uint64_t *logits, char *err);
void ar_pi_mpc_free(struct ar_pi_mpc *e);

/* One party's measurements of a session, per protocol id (m->n_ops + 1 entries). */
struct ar_pi_result {
    int role;
    int n_ids;
    struct ar_meas *online;  /* online protocol calls of each op */
    struct ar_meas *offline; /* offline preparation (linear ops) */
    struct ar_meas setup;    /* one-time model setup (F) */
    int inferences, images;
    double online_s, offline_s, setup_s; /* wall time, summed over inferences */
    double total_s;                      /* the whole session, connection excluded */
    double *online_each;                 /* online wall time of each inference (inferences entries) */
};
void ar_pi_result_free(struct ar_pi_result *r);
/* Sum of the online measurements over every id. */
struct ar_meas ar_pi_result_total(const struct ar_pi_result *r);

/* A whole session of one party on connected, not yet set-up links: ar_party_setup,
 * ar_pi_mpc_init, ceil(n / batch) inferences, ar_party_finish; res receives the
 * measurements (may be NULL). x (n, in) at P1; logits (n, classes) at P1. */
AR_NODISCARD int ar_pi_party_run(struct ar_party *p, const struct ar_pi_model *m, int n, int batch,
                                 const uint64_t *x, uint64_t *logits, struct ar_pi_result *res, char *err);

struct ar_pi_local_opts {
    int batch;               /* images per inference (default 1) */
    int timeout_ms;          /* channel inactivity timeout (default 60000) */
    const uint8_t *det_seed; /* 32 bytes: deterministic session (tests); NULL: OS entropy */
};
void ar_pi_local_opts_default(struct ar_pi_local_opts *o);

/* In-process run: P0 with `server` (weights), P1 and the dealer with `pub` (may be
 * the same model). res: 3 results indexed by role (may be NULL). */
AR_NODISCARD int ar_pi_run_local(const struct ar_pi_model *server, const struct ar_pi_model *pub, int n,
                                 const uint64_t *x, uint64_t *logits, const struct ar_pi_local_opts *o,
                                 struct ar_pi_result res[3], char *err);

#endif
