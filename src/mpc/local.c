/* Protocol steps without dealer material: zero-communication input sharing from
 * the k01 stream, the output reveal to P1 (one-way), and the local operations on
 * shares (truncation, residual add, public constants, sum pooling).
 *
 * Input sharing (Ref: CrypTen PRZS): the non-owner's share is PRG(k01, label), the
 * owner's share is x - PRG(k01, label): 0 bytes, 0 rounds.
 * Reveal to P1: P0 sends y0 (8 B per element, one-way); P1 outputs y0 + y1. */
#include <sodium.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/dealer.h"
#include "mpc/internal.h"
#include "mpc/proto.h"

int ar_mpc_share_input(struct ar_party *p, int owner, uint32_t layer, size_t n, const uint64_t *x, uint64_t *share,
                       char *err) {
    if (owner != AR_ROLE_P0 && owner != AR_ROLE_P1)
        return ar_errf(err, AR_ERR_ARG, "input owner must be P0 or P1, not %s", ar_role_name(owner));
    if (p->role == AR_ROLE_DEALER) return AR_OK;
    if (!p->ready) return ar_errf(err, AR_ERR_ARG, "input shared before session setup");
    AR_ASSERT(share && (p->role != owner || x));
    struct ar_label l;
    memcpy(l.sid, p->sid, AR_SID_BYTES);
    l.seq = p->input_seq++;
    l.layer = layer;
    l.op = AR_CORR_INPUT;
    l.comp = 0;
    l.party = 3;
    struct ar_prg g;
    ar_prg_init(&g, p->k01, &l);
    ar_prg_u64(&g, share, n);
    ar_prg_free(&g);
    if (p->role == owner)
        for (size_t i = 0; i < n; i++) share[i] = x[i] - share[i];
    return AR_OK;
}

int ar_mpc_reveal_p1(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *share, uint64_t *out, char *err) {
    if (p->role == AR_ROLE_DEALER) return AR_OK;
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_REVEAL);
    int rc;
    if (p->role == AR_ROLE_P0) {
        rc = ar_chan_send(p->peer, AR_MSG_REVEAL, share, 8 * n, err);
    } else {
        uint64_t *tmp = ar__alloc_u64(n);
        if (!tmp) rc = ar_errf(err, AR_ERR_NOMEM, "reveal layer %u: out of memory", layer);
        else {
            rc = ar_chan_recv(p->peer, AR_MSG_REVEAL, tmp, 8 * n, err);
            if (!rc)
                for (size_t i = 0; i < n; i++) out[i] = share[i] + tmp[i];
            ar__wipe_free(tmp, n);
        }
    }
    ar__meas_end(p, &ms);
    if (rc) ar_errprefix(err, rc, "reveal layer %u", layer);
    return rc;
}

#ifdef AR_MPC_DEBUG_REVEAL
int ar_mpc_debug_open(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *share, uint64_t *out,
                      char *err) {
    if (p->role == AR_ROLE_DEALER) return AR_OK;
    uint64_t *tmp = ar__alloc_u64(n);
    if (!tmp) return ar_errf(err, AR_ERR_NOMEM, "debug open layer %u: out of memory", layer);
    int rc = ar_chan_exchange(p->peer, AR_MSG_REVEAL, share, 8 * n, tmp, 8 * n, err);
    if (!rc)
        for (size_t i = 0; i < n; i++) out[i] = share[i] + tmp[i];
    ar__wipe_free(tmp, n);
    if (rc) ar_errprefix(err, rc, "debug open layer %u", layer);
    return rc;
}
#endif

void ar_mpc_trunc(const struct ar_party *p, uint64_t *x, size_t n, int bits) {
    if (p->role == AR_ROLE_DEALER) return;
    ar_ring_trunc_share_array(x, n, ar_party_index(p), bits);
}

void ar_mpc_add(const struct ar_party *p, uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n) {
    if (p->role == AR_ROLE_DEALER) return;
    ar_ring_add(out, a, b, n);
}

void ar_mpc_add_public(const struct ar_party *p, uint64_t *x, const uint64_t *c, size_t n) {
    if (p->role != AR_ROLE_P0) return;
    ar_ring_add_inplace(x, c, n);
}

void ar_mpc_sumpool(const struct ar_party *p, uint64_t *out, const uint64_t *in, int N, int C, int H, int W, int k,
                    int stride) {
    if (p->role == AR_ROLE_DEALER) return;
    ar_ring_sumpool2d(out, in, N, C, H, W, k, stride);
}
