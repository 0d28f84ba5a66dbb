/* Analytic per-op cost of a compiled model (cost.h), built on the protocol cost
 * formulas of mpc/cost.c, and communication-time estimates for link presets. */
#include "pi/cost.h"

#include <string.h>

#include "core/assert.h"

size_t ar_pi_op_relus(const struct ar_pi_model *m, int i) {
    const struct ar_pi_op *op = &m->ops[i];
    if (op->kind == AR_PI_ACT) return op->n_relu;
    if (op->kind == AR_PI_MAXPOOL) {
        size_t oh = (size_t)((op->ph - op->k) / op->stride + 1), ow = (size_t)((op->pw - op->k) / op->stride + 1);
        return (size_t)op->c * oh * ow * (size_t)(op->k * op->k - 1);
    }
    return 0;
}

size_t ar_pi_op_polys(const struct ar_pi_model *m, int i) {
    const struct ar_pi_op *op = &m->ops[i];
    return op->kind == AR_PI_ACT ? (size_t)op->c * (size_t)op->hw - op->n_relu : 0;
}

uint64_t ar_pi_op_poly_bytes(const struct ar_pi_model *m, int i, int N) {
    if (i >= m->n_ops || m->ops[i].kind != AR_PI_ACT) return 0;
    return (m->ops[i].open_offline ? 8u : 16u) * (uint64_t)ar_pi_op_polys(m, i) * (uint64_t)N;
}

struct ar_cost ar_pi_cost_op(const struct ar_pi_model *m, int i, int N) {
    struct ar_cost c = {0};
    AR_ASSERT(i >= 0 && i <= m->n_ops);
    if (i == m->n_ops) return ar_cost_reveal((size_t)N * (size_t)m->classes);
    const struct ar_pi_op *op = &m->ops[i];
    switch (op->kind) {
    case AR_PI_LINEAR: {
        struct ar_conv_shape cs = op->cs;
        cs.n = N;
        return ar_cost_linear(&cs);
    }
    case AR_PI_ACT: {
        size_t nr = (size_t)N * op->n_relu, np = (size_t)N * ar_pi_op_polys(m, i);
        return op->open_offline ? ar_cost_act_online_pre(nr, np) : ar_cost_act(nr, np);
    }
    case AR_PI_MAXPOOL: {
        size_t oh = (size_t)((op->ph - op->k) / op->stride + 1), ow = (size_t)((op->pw - op->k) / op->stride + 1);
        return ar_cost_maxpool((size_t)N * (size_t)op->c * oh * ow, op->k * op->k);
    }
    default: return c;
    }
}

struct ar_cost ar_pi_cost_op_offline(const struct ar_pi_model *m, int i, int N) {
    struct ar_cost c = {0};
    if (i < m->n_ops && m->ops[i].kind == AR_PI_ACT && m->ops[i].open_offline)
        c = ar_cost_act_offline((size_t)N * ar_pi_op_polys(m, i));
    return c;
}

struct ar_cost ar_pi_cost_total(const struct ar_pi_model *m, int N) {
    struct ar_cost t = {0};
    for (int i = 0; i <= m->n_ops; i++) {
        struct ar_cost c = ar_pi_cost_op(m, i, N);
        ar_cost_add(&t, &c);
    }
    return t;
}

struct ar_cost ar_pi_cost_setup(const struct ar_pi_model *m) {
    struct ar_cost t = {0};
    for (int i = 0; i < m->n_ops; i++)
        if (m->ops[i].kind == AR_PI_LINEAR) {
            struct ar_cost c = ar_cost_linear_setup(&m->ops[i].cs);
            ar_cost_add(&t, &c);
        }
    return t;
}

static const struct ar_pi_link presets[] = {
    {"none", 0.0, 0.0},
    {"lan", 0.15e-3, 3e9},
    {"wan", 20e-3, 400e6},
};

const struct ar_pi_link *ar_pi_link_preset(const char *name) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

double ar_pi_link_seconds(const struct ar_pi_link *l, const struct ar_cost *c) {
    double t = ((double)c->rounds + (double)c->oneway) * l->delay_s;
    uint64_t big = c->p0_to_p1 > c->p1_to_p0 ? c->p0_to_p1 : c->p1_to_p0;
    if (l->bits_per_s > 0) t += 8.0 * (double)big / l->bits_per_s;
    return t;
}
