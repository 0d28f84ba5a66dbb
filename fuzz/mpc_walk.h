/* The secure-inference call sequence used by the fuzz_mpc target and by the seed
 * generator (gen_seeds.c): a tiny network's worth of protocol calls (linear setup
 * and linear layer, ReLU, quadratic, mixed site, max pool, reveal, finish) with
 * fixed public arguments, run by any role. Deterministic party seeds make a
 * recorded transcript replay exactly, so the seeds reach the end of the walk. */
#ifndef AR_FUZZ_MPC_WALK_H
#define AR_FUZZ_MPC_WALK_H

#include <stdlib.h>
#include <string.h>

#include "kernels/ring.h"
#include "mpc/party.h"
#include "mpc/proto.h"

static const uint8_t fz_mpc_det_seed[32] = {0x61, 0x75, 0x74, 0x6f, 0x72, 0x65, 0x70, 0x2d,
                                            0x66, 0x75, 0x7a, 0x7a, 1, 2, 3, 4};
static const uint8_t fz_mpc_hash[32] = {0x4d, 0x4f, 0x44, 0x45, 0x4c};

/* preload_max: the walk's material is a few KB; a lower bound than the default
 * keeps the announced-length check (party.c) within the fuzzer's memory limit. */
static inline void fz_mpc_opts(struct ar_party_opts *o) {
    ar_party_opts_default(o);
    o->det_seed = fz_mpc_det_seed;
    o->preload_max = 1 << 20;
}

/* Runs the walk as p->role; P0 preloads the dealer material first when `preload`. */
static inline int fz_mpc_walk(struct ar_party *p, int preload, char *err) {
    const int r = p->role, P0 = r == AR_ROLE_P0, P1 = r == AR_ROLE_P1, on = P0 || P1;
    const struct ar_conv_shape s = {.n = 1, .c = 1, .h = 3, .w = 3, .oc = 2, .kh = 2, .kw = 2, .stride = 1, .pad = 0};
    uint64_t w[8], f[8], x[9], y[8], y2[8], y3[8], y4[8], y5[2], out[2];
    uint64_t coef[6] = {2048, 4096, 0, 1024, 4096, 512};
    const uint8_t mask[8] = {1, 0, 0, 1, 0, 1, 1, 0};
    for (int i = 0; i < 8; i++) w[i] = ar_fix_encode(0.25 * (i - 3), 12);
    for (int i = 0; i < 9; i++) x[i] = ar_fix_encode(0.5 * (i - 4), 12);
    memset(f, 0, sizeof f);
    int rc = ar_party_setup(p, err);
    if (!rc && P0 && preload) rc = ar_party_preload(p, err);
    if (!rc) rc = ar_mpc_linear_setup(p, 1, &s, P0 ? w : NULL, P1 ? f : NULL, err);
    if (!rc)
        rc = ar_mpc_linear(p, 1, &s, P0 ? w : NULL, P1 ? f : NULL, NULL, P1 ? x : NULL, on ? y : NULL, 12, NULL,
                           err);
    if (!rc) rc = ar_mpc_relu(p, 2, 8, on ? y : NULL, on ? y2 : NULL, NULL, err);
    if (!rc) rc = ar_mpc_poly(p, 3, 1, 2, 4, coef, on ? y2 : NULL, on ? y3 : NULL, err);
    if (!rc) rc = ar_mpc_act(p, 4, 1, 2, 4, mask, coef, on ? y3 : NULL, on ? y4 : NULL, err);
    if (!rc) rc = ar_mpc_maxpool(p, 5, 1, 2, 2, 2, 2, 2, on ? y4 : NULL, on ? y5 : NULL, err);
    if (!rc) rc = ar_mpc_reveal_p1(p, 6, 2, on ? y5 : NULL, P1 ? out : NULL, err);
    if (!rc) rc = ar_party_finish(p, err);
    return rc;
}

#endif
