/* Conv / FC layers by weight-mask reuse (secure-inference.md §8.4; the dealer
 * plays the role of Delphi's HE preprocessing).
 *
 * One-time, per model and layer: B = PRG(k0D, "layer / linear-mask") is known to
 * P0 and the dealer; P0 sends F = W - B to P1 (8 B per weight, one-way). F is
 * uniform to P1 because B is unknown to it; revealing it once is safe.
 *
 * Per call (algebra):
 *   dealer: A1, C1 <- k1D (input- and output-sized), C0 = conv(A1, B) - C1 -> P0
 *   1. P1 sends M = x1 - A1                         (one-way P1 -> P0, 8 B per input element)
 *   2. P0: E = x0 + M = x - A1 ; y0 = conv(E, W) + C0 + bias
 *      P1: y1 = conv(A1, F) + C1                   (input-independent: precomputable)
 *   3. both truncate locally by trunc_bits.
 * y0 + y1 = conv(x - A1, W) + conv(A1, W - B) + conv(A1, B) = conv(x, W).
 * P0 sees only E (uniform: A1 is unknown to it), P1 sees only F, the dealer sees
 * nothing data-dependent. A fresh A1 per call; B is reused only through F, which is
 * sent once (the registry refuses a second setup of the same layer id).
 * The A of the design note is A1 alone (A0 = 0): P1's mask already hides E from P0,
 * and this saves P0 one convolution per layer. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/dealer.h"
#include "mpc/internal.h"
#include "mpc/proto.h"

struct ar_layer_reg {
    uint32_t layer;
    size_t w_count;
};

static const struct ar_layer_reg *reg_find(const struct ar_party *p, uint32_t layer) {
    for (size_t i = 0; i < p->n_reg; i++)
        if (p->reg[i].layer == layer) return &p->reg[i];
    return NULL;
}

int ar__layer_register(struct ar_party *p, uint32_t layer, size_t w_count, char *err) {
    if (reg_find(p, layer))
        return ar_errf(err, AR_ERR_PROTO, "linear layer %u set up twice (its weight mask would be reused)", layer);
    if (p->n_reg == p->cap_reg) {
        size_t cap = p->cap_reg ? 2 * p->cap_reg : 16;
        struct ar_layer_reg *r = realloc(p->reg, cap * sizeof *r);
        if (!r) return ar_errf(err, AR_ERR_NOMEM, "out of memory registering layer %u", layer);
        p->reg = r;
        p->cap_reg = cap;
    }
    p->reg[p->n_reg].layer = layer;
    p->reg[p->n_reg].w_count = w_count;
    p->n_reg++;
    return AR_OK;
}

int ar__layer_check(const struct ar_party *p, uint32_t layer, size_t w_count, char *err) {
    const struct ar_layer_reg *r = reg_find(p, layer);
    if (!r) return ar_errf(err, AR_ERR_PROTO, "linear layer %u used before ar_mpc_linear_setup", layer);
    if (r->w_count != w_count)
        return ar_errf(err, AR_ERR_PROTO, "linear layer %u was set up with %zu weights, now called with %zu", layer,
                       r->w_count, w_count);
    return AR_OK;
}

int ar_mpc_linear_setup(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s, const uint64_t *w,
                        uint64_t *f, char *err) {
    if (!ar_conv_shape_ok(s)) return ar_errf(err, AR_ERR_ARG, "linear layer %u: invalid shape", layer);
    if (!p->ready) return ar_errf(err, AR_ERR_ARG, "linear layer %u: setup before session setup", layer);
    size_t nw = ar_conv_w_count(s);
    int rc = ar__layer_register(p, layer, nw, err);
    if (rc || p->role == AR_ROLE_DEALER) return rc;
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_SETUP);
    if (p->role == AR_ROLE_P0) {
        AR_ASSERT(w);
        uint64_t *F = ar__alloc_u64(nw);
        if (!F) rc = ar_errf(err, AR_ERR_NOMEM, "linear layer %u: out of memory", layer);
        else {
            ar__linear_mask(p, layer, F, nw);
            for (size_t i = 0; i < nw; i++) F[i] = w[i] - F[i];
            rc = ar_chan_send(p->peer, AR_MSG_MODEL, F, 8 * nw, err);
            ar__wipe_free(F, nw);
        }
    } else {
        AR_ASSERT(f);
        rc = ar_chan_recv(p->peer, AR_MSG_MODEL, f, 8 * nw, err);
    }
    ar__meas_end(p, &ms);
    if (rc) ar_errprefix(err, rc, "linear layer %u setup", layer);
    return rc;
}

/* Get and mark the correlation; P1 also computes y1 unless `defer_y1` (then the
 * caller computes it after sending M, so that the two parties' convolutions overlap). */
static int prepare(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s, const uint64_t *f,
                   struct ar_linear_pre *pre, int defer_y1, char *err) {
    size_t nin = ar_conv_in_count(s), nout = ar_conv_out_count(s);
    memset(pre, 0, sizeof *pre);
    int rc = ar_corr_get(p, AR_CORR_LINEAR, layer, nin, 0, s, &pre->corr, err);
    if (rc) return rc;
    pre->layer = layer;
    pre->n_out = nout;
    pre->ready = 1;
    if (p->role == AR_ROLE_DEALER) return AR_OK;
    if ((rc = ar_corr_use(p, &pre->corr, AR_CORR_LINEAR, nin, 0, err))) goto fail;
    if (p->role == AR_ROLE_P1 && !defer_y1) {
        AR_ASSERT(f);
        size_t ncol = ar_ring_conv2d_scratch(s);
        uint64_t *col = ar__alloc_u64(ncol);
        pre->y1 = ar__alloc_u64(nout);
        if (!col || !pre->y1) {
            ar__wipe_free(col, ncol);
            rc = ar_errf(err, AR_ERR_NOMEM, "linear layer %u: out of memory", layer);
            goto fail;
        }
        ar_ring_conv2d(pre->y1, pre->corr.a, f, col, s);
        ar_ring_add_inplace(pre->y1, pre->corr.c, nout);
        ar__wipe_free(col, ncol);
    }
    return AR_OK;
fail:
    ar_linear_pre_free(pre);
    return rc;
}

void ar_linear_pre_free(struct ar_linear_pre *pre) {
    if (!pre) return;
    ar_corr_release(&pre->corr);
    ar__wipe_free(pre->y1, pre->n_out);
    memset(pre, 0, sizeof *pre);
}

int ar_mpc_linear_pre(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s, const uint64_t *f,
                      struct ar_linear_pre *pre, char *err) {
    memset(pre, 0, sizeof *pre);
    if (!ar_conv_shape_ok(s)) return ar_errf(err, AR_ERR_ARG, "linear layer %u: invalid shape", layer);
    int rc = ar__layer_check(p, layer, ar_conv_w_count(s), err);
    if (rc) return rc;
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_PRE);
    rc = prepare(p, layer, s, f, pre, 0, err);
    ar__meas_end(p, &ms);
    if (rc) ar_errprefix(err, rc, "linear layer %u preparation", layer);
    return rc;
}

int ar_mpc_linear(struct ar_party *p, uint32_t layer, const struct ar_conv_shape *s, const uint64_t *w,
                  const uint64_t *f, const uint64_t *bias, const uint64_t *x, uint64_t *y, int trunc_bits,
                  struct ar_linear_pre *pre, char *err) {
    if (!ar_conv_shape_ok(s)) return ar_errf(err, AR_ERR_ARG, "linear layer %u: invalid shape", layer);
    if (trunc_bits < 0 || trunc_bits > 62)
        return ar_errf(err, AR_ERR_ARG, "linear layer %u: truncation by %d bits", layer, trunc_bits);
    int rc = ar__layer_check(p, layer, ar_conv_w_count(s), err);
    if (rc) return rc;
    size_t nin = ar_conv_in_count(s), nout = ar_conv_out_count(s), ncol = ar_ring_conv2d_scratch(s);
    if (pre && (!pre->ready || pre->layer != layer || pre->n_out != nout))
        return ar_errf(err, AR_ERR_PROTO, "linear layer %u: preparation missing, used twice or made for layer %u",
                       layer, pre->layer);
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_LINEAR);
    struct ar_linear_pre local;
    memset(&local, 0, sizeof local);
    struct ar_linear_pre *pr = pre ? pre : &local;
    uint64_t *buf = NULL, *col = NULL;
    if (!pre) AR_TRY(prepare(p, layer, s, f, &local, 1, err));
    if (p->role == AR_ROLE_DEALER) goto fail; /* done */
    const struct ar_corr *c = &pr->corr;
    buf = ar__alloc_u64(nin);
    col = ar__alloc_u64(ncol);
    if (!buf || !col) {
        rc = ar_errf(err, AR_ERR_NOMEM, "linear layer %u: out of memory", layer);
        goto fail;
    }
    if (p->role == AR_ROLE_P1) {
        AR_ASSERT(x && y);
        for (size_t i = 0; i < nin; i++) buf[i] = x[i] - c->a[i];
        AR_TRY(ar_chan_send(p->peer, AR_MSG_LINEAR, buf, 8 * nin, err));
        if (pr->y1) {
            memcpy(y, pr->y1, nout * sizeof *y);
        } else {
            AR_ASSERT(f);
            ar_ring_conv2d(y, c->a, f, col, s);
            ar_ring_add_inplace(y, c->c, nout);
        }
        ar_ring_trunc_share_array(y, nout, 1, trunc_bits);
    } else {
        AR_ASSERT(w && y);
        AR_TRY(ar_chan_recv(p->peer, AR_MSG_LINEAR, buf, 8 * nin, err));
        if (x) ar_ring_add_inplace(buf, x, nin);
        ar_ring_conv2d(y, buf, w, col, s);
        ar_ring_add_inplace(y, c->c, nout);
        if (bias) ar_ring_add_bias(y, bias, (size_t)s->n, (size_t)s->oc, nout / ((size_t)s->n * (size_t)s->oc));
        ar_ring_trunc_share_array(y, nout, 0, trunc_bits);
    }
fail:
    ar_linear_pre_free(pr);
    ar__wipe_free(buf, nin);
    ar__wipe_free(col, ncol);
    ar__meas_end(p, &ms);
    if (rc) ar_errprefix(err, rc, "linear layer %u", layer);
    return rc;
}
