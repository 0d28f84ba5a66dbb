/* Network-level secure-inference executor (mpc.h): the walk of a compiled model
 * through the protocol layer for each role, the session driver shared by the TCP
 * processes and the in-process mode, and the per-op measurement collection. */
#include "pi/mpc.h"

#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/session.h"
#include "pi/fixed.h"

static uint64_t *alloc_u64(size_t n) { return malloc((n ? n : 1) * sizeof(uint64_t)); }

void ar_pi_mpc_free(struct ar_pi_mpc *e) {
    if (!e || !e->m) return;
    const struct ar_pi_model *m = e->m;
    for (int i = 0; i < m->n_ops; i++) {
        if (e->F) free(e->F[i]);
        if (e->pre) ar_linear_pre_free(&e->pre[i]);
        if (e->apre) ar_act_pre_free(&e->apre[i]);
    }
    if (e->val)
        for (int v = 1; v < m->n_values; v++) free(e->val[v]);
    free(e->F);
    free(e->pre);
    free(e->apre);
    free(e->val);
    memset(e, 0, sizeof *e);
}

int ar_pi_mpc_init(struct ar_pi_mpc *e, struct ar_party *p, const struct ar_pi_model *m, int batch, char *err) {
    memset(e, 0, sizeof *e);
    if (batch < 1) return ar_errf(err, AR_ERR_ARG, "secure inference: batch %d", batch);
    if (p->role == AR_ROLE_P0 && !m->has_weights)
        return ar_errf(err, AR_ERR_ARG, "the server (P0) needs the model's weights");
    if (p->frac_bits != m->frac_bits)
        return ar_errf(err, AR_ERR_MISMATCH, "session uses %d fractional bits but the model was compiled with %d",
                       p->frac_bits, m->frac_bits);
    e->p = p;
    e->m = m;
    e->batch = batch;
    int rc = AR_OK;
    e->F = calloc((size_t)m->n_ops, sizeof *e->F);
    e->pre = calloc((size_t)m->n_ops, sizeof *e->pre);
    e->apre = calloc((size_t)m->n_ops, sizeof *e->apre);
    e->val = calloc((size_t)m->n_values, sizeof *e->val);
    if (!e->F || !e->pre || !e->apre || !e->val) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (p->role != AR_ROLE_DEALER)
        for (int v = 1; v < m->n_values; v++)
            if (!(e->val[v] = alloc_u64((size_t)batch * m->values[v].numel))) {
                rc = ar_errf(err, AR_ERR_NOMEM, "out of memory for the activations of %d images", batch);
                goto fail;
            }
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        if (op->kind != AR_PI_LINEAR) continue;
        if (p->role == AR_ROLE_P1 && !(e->F[i] = alloc_u64(ar_conv_w_count(&op->cs)))) {
            rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for the masked weights", op->name);
            goto fail;
        }
        rc = ar_mpc_linear_setup(p, (uint32_t)i, &op->cs, p->role == AR_ROLE_P0 ? op->w : NULL, e->F[i], err);
        if (rc) {
            ar_errprefix(err, rc, "%s", op->name);
            goto fail;
        }
    }
    return AR_OK;
fail:
    ar_pi_mpc_free(e);
    return rc;
}

/* The online walk of one inference. */
static int walk(struct ar_pi_mpc *e, int N, const uint64_t *x, uint64_t *logits, char *err) {
    const struct ar_pi_model *m = e->m;
    struct ar_party *p = e->p;
    const int dealer = p->role == AR_ROLE_DEALER;
    uint64_t **val = e->val;
    val[0] = p->role == AR_ROLE_P1 ? (uint64_t *)x : NULL; /* the input is wholly P1's */
    int rc = AR_OK;
    for (int i = 0; i < m->n_ops && !rc; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        const uint64_t *in = dealer ? NULL : val[op->in[0]];
        uint64_t *out = dealer ? NULL : val[op->out];
        const uint32_t id = (uint32_t)i;
        switch (op->kind) {
        case AR_PI_LINEAR: {
            struct ar_conv_shape cs = op->cs;
            cs.n = N;
            int p0 = p->role == AR_ROLE_P0;
            rc = ar_mpc_linear(p, id, &cs, p0 ? op->w : NULL, e->F[i], p0 ? op->bias : NULL, in, out, op->trunc,
                               &e->pre[i], err);
            break;
        }
        case AR_PI_ACT:
            if (op->mask)
                rc = ar_mpc_act_with_pre(p, id, (size_t)N, (size_t)op->c, (size_t)op->hw, op->mask, op->coef, in, out,
                                         op->open_offline ? &e->apre[i] : NULL, err);
            else
                rc = ar_mpc_relu(p, id, (size_t)N * (size_t)op->c * (size_t)op->hw, in, out, NULL, err);
            break;
        case AR_PI_ADD:
            ar_mpc_add(p, out, in, dealer ? NULL : val[op->in[1]], (size_t)N * m->values[op->out].numel);
            break;
        case AR_PI_SUMPOOL:
            if (dealer) break;
            if (op->global) ar_pi_global_sum(out, in, (size_t)N, (size_t)op->c, (size_t)op->ph * (size_t)op->pw);
            else ar_mpc_sumpool(p, out, in, N, op->c, op->ph, op->pw, op->k, op->stride);
            break;
        case AR_PI_MAXPOOL:
            rc = ar_mpc_maxpool(p, id, N, op->c, op->ph, op->pw, op->k, op->stride, in, out, err);
            break;
        default: AR_ASSERT(0);
        }
        if (rc) ar_errprefix(err, rc, "%s", op->name);
    }
    if (rc) return rc;
    return ar_mpc_reveal_p1(p, (uint32_t)m->n_ops, (size_t)N * (size_t)m->classes, dealer ? NULL : val[m->out_value],
                            logits, err);
}

int ar_pi_mpc_infer(struct ar_pi_mpc *e, int N, const uint64_t *x, uint64_t *logits, char *err) {
    const struct ar_pi_model *m = e->m;
    struct ar_party *p = e->p;
    if (N < 1 || N > e->batch) return ar_errf(err, AR_ERR_ARG, "inference of %d images (batch %d)", N, e->batch);
    AR_ASSERT(p->role != AR_ROLE_P1 || (x && logits));
    int rc = AR_OK;
    double t0 = ar__now();
    for (int i = 0; i < m->n_ops && !rc; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        if (op->kind != AR_PI_LINEAR) continue;
        struct ar_conv_shape cs = op->cs;
        cs.n = N;
        rc = ar_mpc_linear_pre(p, (uint32_t)i, &cs, e->F[i], &e->pre[i], err);
        if (rc) ar_errprefix(err, rc, "%s", op->name);
    }
    /* P1's half of the quadratics' opening, for sites fed by a linear op: its share of
     * the input is that op's output share, conv(A1, F) + C1 truncated, known now */
    for (int i = 0; i < m->n_ops && !rc; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        if (op->kind != AR_PI_ACT || !op->open_offline) continue;
        const int prod = m->values[op->in[0]].producer;
        size_t n = (size_t)N * (size_t)op->c * (size_t)op->hw;
        uint64_t *x1 = NULL;
        if (p->role == AR_ROLE_P1) {
            AR_ASSERT(e->pre[prod].y1 && e->pre[prod].n_out == n);
            if (!(x1 = alloc_u64(n))) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", op->name);
                break;
            }
            memcpy(x1, e->pre[prod].y1, n * sizeof *x1);
            ar_ring_trunc_share_array(x1, n, 1, m->ops[prod].trunc);
        }
        rc = ar_mpc_act_pre(p, (uint32_t)i, (size_t)N, (size_t)op->c, (size_t)op->hw, op->mask, x1, &e->apre[i], err);
        free(x1);
        if (rc) ar_errprefix(err, rc, "%s", op->name);
    }
    /* Barrier: the online phase starts when both parties have finished their offline
     * part, so that its timing is not the other party's precomputation (1 byte each
     * way, outside every op's measurement). */
    if (!rc && p->role != AR_ROLE_DEALER) {
        uint8_t mine = 1, theirs = 0;
        rc = ar_chan_exchange(p->peer, AR_MSG_SYNC, &mine, 1, &theirs, 1, err);
        if (rc) ar_errprefix(err, rc, "offline/online barrier");
    }
    double t1 = ar__now();
    if (!rc) rc = walk(e, N, x, logits, err);
    double t2 = ar__now();
    for (int i = 0; i < m->n_ops; i++) {
        ar_linear_pre_free(&e->pre[i]);
        ar_act_pre_free(&e->apre[i]);
    }
    e->last_offline_s = t1 - t0;
    e->last_online_s = t2 - t1;
    return rc;
}

/* ---- sessions ----------------------------------------------------------------------- */

void ar_pi_result_free(struct ar_pi_result *r) {
    if (!r) return;
    free(r->online);
    free(r->offline);
    free(r->online_each);
    memset(r, 0, sizeof *r);
}

static void meas_add(struct ar_meas *a, const struct ar_meas *b) {
    a->calls += b->calls;
    a->sent += b->sent;
    a->recv += b->recv;
    a->wire_sent += b->wire_sent;
    a->wire_recv += b->wire_recv;
    a->rounds += b->rounds;
    a->oneway += b->oneway;
    a->dealer_bytes += b->dealer_bytes;
    a->seconds += b->seconds;
    a->dealer_seconds += b->dealer_seconds;
}

struct ar_meas ar_pi_result_total(const struct ar_pi_result *r) {
    struct ar_meas t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < r->n_ids; i++) meas_add(&t, &r->online[i]);
    return t;
}

static int collect(const struct ar_party *p, int n_ids, struct ar_pi_result *r, char *err) {
    r->role = p->role;
    r->n_ids = n_ids;
    r->online = calloc((size_t)n_ids, sizeof *r->online);
    r->offline = calloc((size_t)n_ids, sizeof *r->offline);
    if (!r->online || !r->offline) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_ids; i++)
        for (int op = 0; op < AR_OP_COUNT; op++) {
            struct ar_meas x = ar_party_meas(p, (uint32_t)i, op);
            if (op == AR_OP_SETUP) meas_add(&r->setup, &x);
            else if (op == AR_OP_PRE) meas_add(&r->offline[i], &x);
            else meas_add(&r->online[i], &x);
        }
    return AR_OK;
}

int ar_pi_party_run(struct ar_party *p, const struct ar_pi_model *m, int n, int batch, const uint64_t *x,
                    uint64_t *logits, struct ar_pi_result *res, char *err) {
    if (res) memset(res, 0, sizeof *res);
    if (n < 1 || batch < 1) return ar_errf(err, AR_ERR_ARG, "secure inference of %d images in batches of %d", n, batch);
    struct ar_pi_mpc e;
    memset(&e, 0, sizeof e);
    int rc;
    double t0 = ar__now(), online = 0, offline = 0, setup;
    int inferences = 0, total_inf = (n + batch - 1) / batch;
    double *each = calloc((size_t)total_inf, sizeof *each);
    if (!each) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    AR_TRY(ar_party_setup(p, err));
    AR_TRY(ar_pi_mpc_init(&e, p, m, batch < n ? batch : n, err));
    setup = ar__now() - t0;
    size_t in = ar_shape_numel(m->in_shape);
    for (int s = 0; s < n; s += batch) {
        int N = n - s < batch ? n - s : batch;
        int p1 = p->role == AR_ROLE_P1;
        AR_TRY(ar_pi_mpc_infer(&e, N, p1 ? x + (size_t)s * in : NULL, p1 ? logits + (size_t)s * m->classes : NULL,
                               err));
        online += e.last_online_s;
        offline += e.last_offline_s;
        each[inferences++] = e.last_online_s;
    }
    AR_TRY(ar_party_finish(p, err));
    if (res) {
        AR_TRY(collect(p, m->n_ops + 1, res, err));
        res->inferences = inferences;
        res->images = n;
        res->online_s = online;
        res->offline_s = offline;
        res->setup_s = setup;
        res->total_s = ar__now() - t0;
        res->online_each = each;
        each = NULL;
    }
    free(each);
    ar_pi_mpc_free(&e);
    return AR_OK;
fail:
    free(each);
    ar_pi_mpc_free(&e);
    if (res) ar_pi_result_free(res);
    return rc;
}

void ar_pi_local_opts_default(struct ar_pi_local_opts *o) {
    o->batch = 1;
    o->timeout_ms = 60000;
    o->det_seed = NULL;
}

struct local_arg {
    const struct ar_pi_model *model[3];
    int n, batch;
    const uint64_t *x;
    uint64_t *logits;
    struct ar_pi_result *res;
};

static int local_fn(struct ar_party *p, void *arg, char *err) {
    struct local_arg *a = arg;
    int r = p->role;
    return ar_pi_party_run(p, a->model[r], a->n, a->batch, r == AR_ROLE_P1 ? a->x : NULL,
                           r == AR_ROLE_P1 ? a->logits : NULL, a->res ? &a->res[r] : NULL, err);
}

int ar_pi_run_local(const struct ar_pi_model *server, const struct ar_pi_model *pub, int n, const uint64_t *x,
                    uint64_t *logits, const struct ar_pi_local_opts *o, struct ar_pi_result res[3], char *err) {
    if (memcmp(server->hash, pub->hash, AR_PI_HASH_BYTES) != 0)
        return ar_errf(err, AR_ERR_MISMATCH, "the public model differs from the server's (hash mismatch)");
    struct ar_party_opts po;
    ar_party_opts_default(&po);
    po.frac_bits = server->frac_bits;
    po.det_seed = o->det_seed;
    struct ar_local_session s;
    int rc = ar_local_session_init(&s, &po, o->timeout_ms, err);
    if (rc) return rc;
    struct local_arg a = {{server, pub, pub}, n, o->batch, x, logits, res};
    if (res) memset(res, 0, 3 * sizeof *res);
    rc = ar_local_session_run(&s, local_fn, &a, err);
    ar_local_session_free(&s);
    if (rc && res)
        for (int r = 0; r < 3; r++) ar_pi_result_free(&res[r]);
    return rc;
}
