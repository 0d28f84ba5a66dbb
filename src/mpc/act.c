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

/* mask == NULL: every element is a quadratic. */
static int act_impl(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
                    const uint64_t *coef, const uint64_t *x, uint64_t *y, char *err) {
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
    if (n_p) AR_TRY(poly_begin(p, layer, &job, &sq, po, err));
    if (n_r) {
        const uint64_t *rx = gather ? xr : x;
        uint64_t *ry = gather ? yr : y;
        AR_TRY(ar__relu_core(p, layer, n_r, rx, ry, NULL, (const uint8_t *)po, (uint8_t *)pr, 8 * n_p, err));
    } else if (n_p && !dealer) {
        AR_TRY(ar_chan_exchange(p->peer, AR_MSG_ACT, po, 8 * n_p, pr, 8 * n_p, err));
    }
    if (dealer) goto fail; /* done */
    if (n_p) poly_finish(p, &job, &sq, po, pr, gather ? yp : y);
    if (gather) {
        size_t kr = 0, kp = 0;
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < CHW; i++) y[n * CHW + i] = mask[i] ? yr[kr++] : yp[kp++];
    }
fail:
    ar_corr_release(&sq);
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

int ar_mpc_poly(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint64_t *coef,
                const uint64_t *x, uint64_t *y, char *err) {
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_POLY);
    int rc = act_impl(p, layer, N, C, HW, NULL, coef, x, y, err);
    ar__meas_end(p, &ms);
    return rc;
}

int ar_mpc_act(struct ar_party *p, uint32_t layer, size_t N, size_t C, size_t HW, const uint8_t *mask,
               const uint64_t *coef, const uint64_t *x, uint64_t *y, char *err) {
    AR_ASSERT(mask);
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_ACT);
    int rc = act_impl(p, layer, N, C, HW, mask, coef, x, y, err);
    ar__meas_end(p, &ms);
    return rc;
}

int ar_mpc_relu(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *x, uint64_t *y, uint64_t *drelu,
                char *err) {
    struct ar_meas_scope ms;
    ar__meas_begin(p, &ms, layer, AR_OP_RELU);
    int rc = ar__relu_core(p, layer, n, x, y, drelu, NULL, NULL, 0, err);
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
            AR_TRY(ar__relu_core(p, layer, win * (size_t)(cnt / 2), NULL, NULL, NULL, NULL, NULL, 0, err));
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
        AR_TRY(ar__relu_core(p, layer, pairs * win, diff, rel, NULL, NULL, NULL, 0, err));
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
