/* Activation sites: the quadratic (all-poly), ReLU (all-ReLU) and the mixed
 * AutoReP site, plus max-pool by a ReLU tournament.
 *
 * Quadratic with public per-channel coefficients, square pair (r, s = r^2) from
 * the dealer (Ref: CrypTen's square; secure-inference.md §8.6):
 *   1. each party opens x_r - r_r; e = x - r                 [1 round, 8 B each way]
 *   2. x^2 = s + 2 e r + e^2 (e^2 added by P0), scale 2f
 *   3. t = trunc_f(x^2)                                       [local truncation]
 *   4. z = c2 t + c1 x + (c0 << f) (constant added by P0), scale 2f
 *   5. y = trunc_f(z)                                         [local truncation]
 * Error vs the plaintext reference ar_ring_poly_ref: at most ceil(|c2| / 2^f) + 1 LSB.
 *
 * Mixed site (per-element public mask, 1 = ReLU): the ReLU positions are gathered
 * into one dense vector and run through the ReLU protocol; step 1 of the quadratic
 * for the other positions is appended to the ReLU's first message, so the site has
 * the ReLU's 8 rounds (1 round when no ReLU is left, 0 when the tensor is empty);
 * results are scattered back. Only the masked positions pay for a comparison.
 *
 * Offline opening (ar_mpc_act_pre): when P1's input share is known before the query
 * (P1's share of a linear layer's output, conv(A1, F) + C1, is input-independent),
 * the square pair is taken offline and P1 sends x1 - r1 at the quadratic positions
 * then; online only P0 sends x0 - r0, riding in the ReLU's first message (or alone,
 * one-way, in an all-quadratic site): 8 B per quadratic online instead of 16.
 *
 * Max-pool: candidates of each window are reduced pairwise with
 * max(a, b) = ReLU(a - b) + b, one vectorised ReLU per tournament level. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/dealer.h"
#include "mpc/internal.h"
#include "mpc/proto.h"

/* ---- quadratic core ----------------------------------------------------------------- */

struct poly_job {
    size_t n;
    const uint64_t *x; /* (n) dense */
    const uint32_t *ch; /* (n) channel of each element, or NULL: channel = (i / HW) % C */
    size_t C, HW;
    const uint64_t *coef; /* (C, 3) */
};

static size_t job_channel(const struct poly_job *j, size_t i) { return j->ch ? j->ch[i] : (i / j->HW) % j->C; }

/* Obtain the square pair and fill `open` with x_r - r_r. */
static int poly_begin(struct ar_party *p, uint32_t layer, const struct poly_job *j, struct ar_corr *sq,
                      uint64_t *open, char *err) {
    int rc = ar_corr_get(p, AR_CORR_SQUARE, layer, j->n, 0, NULL, sq, err);
    if (rc || p->role == AR_ROLE_DEALER) return rc;
    if ((rc = ar_corr_use(p, sq, AR_CORR_SQUARE, j->n, 0, err))) return rc;
    for (size_t i = 0; i < j->n; i++) open[i] = j->x[i] - sq->r[i];
    return AR_OK;
}

static void poly_finish(const struct ar_party *p, const struct poly_job *j, const struct ar_corr *sq,
                        const uint64_t *mine, const uint64_t *theirs, uint64_t *y) {
    int me = ar_party_index(p), f = p->frac_bits;
#pragma omp parallel for schedule(static) if (j->n > 100000)
    for (size_t i = 0; i < j->n; i++) {
        uint64_t e = mine[i] + theirs[i];
        uint64_t sqr = sq->s[i] + 2 * e * sq->r[i] + (me == 0 ? e * e : 0);
        uint64_t t = ar_ring_trunc_share(sqr, me, f);
        const uint64_t *c = j->coef + 3 * job_channel(j, i);
        uint64_t z = c[0] * t + c[1] * j->x[i] + (me == 0 ? c[2] << f : 0);
        y[i] = ar_ring_trunc_share(z, me, f);
    }
}

/* ---- sites --------------------------------------------------------------------------- */

/* Positions of the quadratics of a site, image-major (the order of the opening). */
static size_t count_ones(const uint8_t *mask, size_t CHW) {
    size_t ones = 0;
    for (size_t i = 0; i < CHW; i++) ones += mask[i];
    return ones;
}

/* mask == NULL: every element is a quadratic. pre: the offline half (P1's opening
 * already sent, the square pair already taken), or NULL. */
static int act_impl(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
                    const uint64_t *coef, const uint64_t *x, uint64_t *y, struct ar_act_pre *pre, char *err) {
    int rc = AR_OK;
    size_t CHW = C * HW, total = N * CHW, ones = 0;
    if (mask) {
        for (size_t i = 0; i < CHW; i++) {
            if (mask[i] > 1) return ar_errf(err, AR_ERR_ARG, "act layer %u: mask value %u at %zu is not 0/1", layer,
                                            mask[i], i);
            ones += mask[i];
        }
    }
    size_t n_r = N * ones, n_p = total - n_r;
    if (pre && (!pre->ready || pre->layer != layer || pre->n_p != n_p))
        return ar_errf(err, AR_ERR_PROTO, "act layer %u: offline part missing, used twice or made for layer %u",
                       layer, pre->layer);
    int dealer = p->role == AR_ROLE_DEALER;
    if (!dealer) AR_ASSERT((x && y) || total == 0);
    AR_ASSERT(coef || n_p == 0);
    struct ar_corr sq;
    memset(&sq, 0, sizeof sq);
    uint64_t *xr = NULL, *yr = NULL, *xp = NULL, *yp = NULL, *po = NULL, *pr = NULL;
    uint32_t *chp = NULL;
    int gather = mask && n_r && n_p;
    struct poly_job job = {n_p, x, NULL, C, HW, coef};
    if (!dealer) {
        po = ar__alloc_u64(n_p);
        pr = ar__alloc_u64(n_p);
        if (gather) {
            xr = ar__alloc_u64(n_r);
            yr = ar__alloc_u64(n_r);
            xp = ar__alloc_u64(n_p);
            yp = ar__alloc_u64(n_p);
            chp = malloc((n_p ? n_p : 1) * sizeof *chp);
        }
        if (!po || !pr || (gather && (!xr || !yr || !xp || !yp || !chp))) {
            rc = ar_errf(err, AR_ERR_NOMEM, "act layer %u: out of memory (n=%zu)", layer, total);
            goto fail;
        }
        if (gather) {
            size_t kr = 0, kp = 0;
            for (size_t n = 0; n < N; n++)
                for (size_t i = 0; i < CHW; i++) {
                    uint64_t v = x[n * CHW + i];
                    if (mask[i]) xr[kr++] = v;
                    else {
                        xp[kp] = v;
                        chp[kp++] = (uint32_t)(i / HW);
                    }
                }
            job.x = xp;
            job.ch = chp;
        }
    }
    const struct ar_corr *sqp = &sq;
    if (pre) {
        /* P1's half of the opening went offline: only P0 sends online */
        sqp = &pre->sq;
        if (!dealer && p->role == AR_ROLE_P0)
            for (size_t i = 0; i < n_p; i++) po[i] = job.x[i] - sqp->r[i];
    } else if (n_p) {
        AR_TRY(poly_begin(p, layer, &job, &sq, po, err));
    }
    int p0 = p->role == AR_ROLE_P0;
    size_t slen = !pre || p0 ? 8 * n_p : 0, rlen = !pre || !p0 ? 8 * n_p : 0;
    if (n_r) {
        const uint64_t *rx = gather ? xr : x;
        uint64_t *ry = gather ? yr : y;
        AR_TRY(ar__relu_core(p, layer, n_r, rx, ry, NULL, (const uint8_t *)po, slen, (uint8_t *)pr, rlen, err));
    } else if (n_p && !dealer) {
        if (!pre) AR_TRY(ar_chan_exchange(p->peer, AR_MSG_ACT, po, 8 * n_p, pr, 8 * n_p, err));
        else if (p0) AR_TRY(ar_chan_send(p->peer, AR_MSG_ACT, po, 8 * n_p, err));
        else AR_TRY(ar_chan_recv(p->peer, AR_MSG_ACT, pr, 8 * n_p, err));
    }
    if (dealer) goto fail; /* done */
    if (n_p) {
        const uint64_t *mine = po, *theirs = pr;
        if (pre) {
            mine = p0 ? po : pre->open1;
            theirs = p0 ? pre->open1 : pr;
        }
        poly_finish(p, &job, sqp, mine, theirs, gather ? yp : y);
    }
    if (gather) {
        size_t kr = 0, kp = 0;
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < CHW; i++) y[n * CHW + i] = mask[i] ? yr[kr++] : yp[kp++];
    }
fail:
    ar_corr_release(&sq);
    if (pre) ar_act_pre_free(pre);
    ar__wipe_free(xr, n_r);
    ar__wipe_free(yr, n_r);
    ar__wipe_free(xp, n_p);
    ar__wipe_free(yp, n_p);
    ar__wipe_free(po, n_p);
    ar__wipe_free(pr, n_p);
    free(chp);
    if (rc && rc != AR_ERR_ARG) ar_errprefix(err, rc, "act layer %u", layer);
    return rc;
}

void ar_act_pre_free(struct ar_act_pre *pre) {
    if (!pre) return;
    ar_corr_release(&pre->sq);
    ar__wipe_free(pre->open1, pre->n_p);
    memset(pre, 0, sizeof *pre);
}

int ar_mpc_act_pre(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
                   const uint64_t *x1, struct ar_act_pre *pre, char *err) {
    memset(pre, 0, sizeof *pre);
    AR_ASSERT(mask);
    size_t CHW = C * HW;
    for (size_t i = 0; i < CHW; i++)
        if (mask[i] > 1)
            return ar_errf(err, AR_ERR_ARG, "act layer %u: mask value %u at %zu is not 0/1", layer, mask[i], i);
    size_t n_p = N * (CHW - count_ones(mask, CHW));
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_PRE);
    int rc = ar_corr_get(p, AR_CORR_SQUARE, layer, n_p, 0, NULL, &pre->sq, err);
    pre->layer = layer;
    pre->n_p = n_p;
    if (rc || p->role == AR_ROLE_DEALER) goto done;
    if ((rc = ar_corr_use(p, &pre->sq, AR_CORR_SQUARE, n_p, 0, err))) goto done;
    if (!(pre->open1 = ar__alloc_u64(n_p))) {
        rc = ar_errf(err, AR_ERR_NOMEM, "act layer %u: out of memory", layer);
        goto done;
    }
    if (p->role == AR_ROLE_P1) {
        AR_ASSERT(x1 || n_p == 0);
        size_t k = 0;
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < CHW; i++)
                if (!mask[i]) {
                    pre->open1[k] = x1[n * CHW + i] - pre->sq.r[k];
                    k++;
                }
        if (n_p) rc = ar_chan_send(p->peer, AR_MSG_ACT, pre->open1, 8 * n_p, err);
    } else if (n_p) {
        rc = ar_chan_recv(p->peer, AR_MSG_ACT, pre->open1, 8 * n_p, err);
    }
done:
    if (!rc) pre->ready = 1;
    else ar_act_pre_free(pre);
    ar__meas_end(p, &ms);
    if (rc && rc != AR_ERR_ARG) ar_errprefix(err, rc, "act layer %u offline part", layer);
    return rc;
}

int ar_mpc_poly(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint64_t *coef,
                const uint64_t *x, uint64_t *y, char *err) {
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_POLY);
    int rc = act_impl(p, layer, N, C, HW, NULL, coef, x, y, NULL, err);
    ar__meas_end(p, &ms);
    return rc;
}

int ar_mpc_act(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
               const uint64_t *coef, const uint64_t *x, uint64_t *y, char *err) {
    return ar_mpc_act_with_pre(p, layer, N, C, HW, mask, coef, x, y, NULL, err);
}

int ar_mpc_act_with_pre(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
                        const uint64_t *coef, const uint64_t *x, uint64_t *y, struct ar_act_pre *pre, char *err) {
    AR_ASSERT(mask);
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_ACT);
    int rc = act_impl(p, layer, N, C, HW, mask, coef, x, y, pre, err);
    ar__meas_end(p, &ms);
    return rc;
}

int ar_mpc_relu(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *x, uint64_t *y, uint64_t *drelu,
                char *err) {
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_RELU);
    int rc = ar__relu_core(p, layer, n, x, y, drelu, NULL, 0, NULL, 0, err);
    ar__meas_end(p, &ms);
    return rc;
}

/* ---- max pool ------------------------------------------------------------------------ */

int ar_mpc_maxpool(struct ar_party *p, uint32_t layer, int N, int C, int H, int W, int k, int stride,
                   const uint64_t *x, uint64_t *y, char *err) {
    if (k <= 0 || stride <= 0 || k > H || k > W)
        return ar_errf(err, AR_ERR_ARG, "maxpool layer %u: window %d stride %d does not fit %dx%d", layer, k, stride, H,
                       W);
    int OH = (H - k) / stride + 1, OW = (W - k) / stride + 1;
    size_t win = (size_t)N * (size_t)C * (size_t)OH * (size_t)OW;
    int m = k * k, rc = AR_OK;
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_MAXPOOL);
    uint64_t *cand = NULL, *diff = NULL, *rel = NULL;
    if (p->role == AR_ROLE_DEALER) {
        for (int cnt = m; cnt > 1; cnt = cnt / 2 + cnt % 2)
            AR_TRY(ar__relu_core(p, layer, win * (size_t)(cnt / 2), NULL, NULL, NULL, NULL, 0, NULL, 0, err));
        goto fail;
    }
    cand = ar__alloc_u64((size_t)m * win);
    diff = ar__alloc_u64((size_t)(m / 2) * win);
    rel = ar__alloc_u64((size_t)(m / 2) * win);
    if (!cand || !diff || !rel) {
        rc = ar_errf(err, AR_ERR_NOMEM, "maxpool layer %u: out of memory", layer);
        goto fail;
    }
    /* cand[j][o], j = ky * k + kx, o = window index */
    for (size_t o = 0; o < win; o++) {
        size_t ox = o % (size_t)OW, oy = (o / (size_t)OW) % (size_t)OH, nc = o / ((size_t)OW * (size_t)OH);
        const uint64_t *src = x + nc * (size_t)H * (size_t)W;
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                cand[(size_t)(ky * k + kx) * win + o] =
                    src[(oy * (size_t)stride + (size_t)ky) * (size_t)W + ox * (size_t)stride + (size_t)kx];
    }
    for (int cnt = m; cnt > 1;) {
        size_t pairs = (size_t)(cnt / 2);
        for (size_t t = 0; t < pairs; t++)
            for (size_t o = 0; o < win; o++) diff[t * win + o] = cand[2 * t * win + o] - cand[(2 * t + 1) * win + o];
        AR_TRY(ar__relu_core(p, layer, pairs * win, diff, rel, NULL, NULL, 0, NULL, 0, err));
        for (size_t t = 0; t < pairs; t++)
            for (size_t o = 0; o < win; o++) cand[t * win + o] = rel[t * win + o] + cand[(2 * t + 1) * win + o];
        if (cnt % 2) memmove(cand + pairs * win, cand + (size_t)(cnt - 1) * win, win * sizeof *cand);
        cnt = (int)pairs + cnt % 2;
    }
    memcpy(y, cand, win * sizeof *y);
fail:
    ar__wipe_free(cand, (size_t)m * win);
    ar__wipe_free(diff, (size_t)(m / 2) * win);
    ar__wipe_free(rel, (size_t)(m / 2) * win);
    ar__meas_end(p, &ms);
    return rc;
}
