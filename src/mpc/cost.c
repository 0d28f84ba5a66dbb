/* Cost model of the protocols (cost.h): the comparison-tree schedule shared with
 * the ReLU implementation, and closed-form bytes / rounds / dealer bytes. */
#include "mpc/cost.h"

#include <string.h>

#include "core/assert.h"
#include "mpc/dealer.h"

void ar_cmp_schedule(struct ar_cmp_sched *s) {
    memset(s, 0, sizeof *s);
    s->count[0] = AR_CMP_LEAVES;
    int l = 0;
    while (s->count[l] > 1) {
        AR_ASSERT(l < AR_CMP_MAX_LEVELS);
        s->pairs[l + 1] = s->count[l] / 2;
        s->count[l + 1] = (s->count[l] + 1) / 2;
        l++;
    }
    s->levels = l;
    /* need_e top-down: the root needs only G */
    s->need_e[l][0] = 0;
    for (int lv = l; lv >= 1; lv--) {
        for (int j = 0; j < s->count[lv]; j++) {
            int hi = 2 * j + 1, lo = 2 * j;
            if (hi < s->count[lv - 1]) {
                s->need_e[lv - 1][hi] = 1;
                s->need_e[lv - 1][lo] = s->need_e[lv][j];
                if (s->need_e[lv][j]) s->doubles[lv]++;
            } else {
                s->need_e[lv - 1][lo] = s->need_e[lv][j];
            }
        }
        s->singles_total += s->pairs[lv] - s->doubles[lv];
        s->doubles_total += s->doubles[lv];
        s->tree_planes += 2 * s->pairs[lv] + s->doubles[lv];
    }
}

void ar_cost_add(struct ar_cost *a, const struct ar_cost *b) {
    a->p0_to_p1 += b->p0_to_p1;
    a->p1_to_p0 += b->p1_to_p0;
    a->rounds += b->rounds;
    a->oneway += b->oneway;
    a->dealer_to_p0 += b->dealer_to_p0;
    a->dealer_to_p1 += b->dealer_to_p1;
}

struct ar_cost ar_cost_linear(const struct ar_conv_shape *s) {
    struct ar_cost c = {0};
    c.p1_to_p0 = 8 * (uint64_t)ar_conv_in_count(s);
    c.oneway = 1;
    c.dealer_to_p0 = ar_corr_dealer_bytes(AR_CORR_LINEAR, ar_conv_in_count(s), 0, s);
    return c;
}

struct ar_cost ar_cost_linear_setup(const struct ar_conv_shape *s) {
    struct ar_cost c = {0};
    c.p0_to_p1 = 8 * (uint64_t)ar_conv_w_count(s);
    c.oneway = 1;
    return c;
}

struct ar_cost ar_cost_poly(size_t n) {
    struct ar_cost c = {0};
    if (n == 0) return c;
    c.p0_to_p1 = c.p1_to_p0 = 8 * (uint64_t)n;
    c.rounds = 1;
    c.dealer_to_p0 = ar_corr_dealer_bytes(AR_CORR_SQUARE, n, 0, NULL);
    return c;
}

struct ar_cost ar_cost_relu(size_t n) {
    struct ar_cost c = {0};
    if (n == 0) return c;
    struct ar_cmp_sched s;
    ar_cmp_schedule(&s);
    uint64_t nb = ar_plane_bytes(n);
    c.p0_to_p1 = c.p1_to_p0 = 8 * (uint64_t)n + (uint64_t)(AR_CMP_LEAVES + s.tree_planes + 1) * nb;
    c.rounds = (uint32_t)(1 + s.levels + 1);
    c.dealer_to_p0 = ar_corr_dealer_bytes(AR_CORR_PAND, n, AR_CMP_LEAVES, NULL) +
                     ar_corr_dealer_bytes(AR_CORR_AND, n, (size_t)s.singles_total, NULL) +
                     ar_corr_dealer_bytes(AR_CORR_AND2, n, (size_t)s.doubles_total, NULL) +
                     ar_corr_dealer_bytes(AR_CORR_BITINJ, n, 0, NULL);
    return c;
}

struct ar_cost ar_cost_act(size_t n_relu, size_t n_poly) {
    if (n_relu == 0) return ar_cost_poly(n_poly);
    struct ar_cost c = ar_cost_relu(n_relu);
    if (n_poly) {
        c.p0_to_p1 += 8 * (uint64_t)n_poly;
        c.p1_to_p0 += 8 * (uint64_t)n_poly;
        c.dealer_to_p0 += ar_corr_dealer_bytes(AR_CORR_SQUARE, n_poly, 0, NULL);
    }
    return c;
}

struct ar_cost ar_cost_act_online_pre(size_t n_relu, size_t n_poly) {
    struct ar_cost c = ar_cost_relu(n_relu);
    if (n_poly) {
        c.p0_to_p1 += 8 * (uint64_t)n_poly;
        if (!n_relu) c.oneway = 1;
        c.dealer_to_p0 += ar_corr_dealer_bytes(AR_CORR_SQUARE, n_poly, 0, NULL);
    }
    return c;
}

struct ar_cost ar_cost_act_offline(size_t n_poly) {
    struct ar_cost c = {0};
    if (!n_poly) return c;
    c.p1_to_p0 = 8 * (uint64_t)n_poly;
    c.oneway = 1;
    return c;
}

struct ar_cost ar_cost_reveal(size_t n) {
    struct ar_cost c = {0};
    c.p0_to_p1 = 8 * (uint64_t)n;
    c.oneway = 1;
    return c;
}

struct ar_cost ar_cost_maxpool(size_t windows, int m) {
    /* tournament: each level halves the candidates (odd one passes through) */
    struct ar_cost c = {0};
    while (m > 1) {
        size_t pairs = windows * (size_t)(m / 2);
        struct ar_cost r = ar_cost_relu(pairs);
        ar_cost_add(&c, &r);
        m = (m + 1) / 2;
    }
    return c;
}
