/* ReLU replacement under an exact budget: AutoReP (default) and SNL.
 *
 * Given a trained plain network (checkpoint) and a budget B, produce a network
 * whose kept ReLUs number <= B, every other activation element being a
 * per-channel polynomial. The output checkpoint is a "masked" model: per site
 * <site>.relu_mask (u8, C x H x W) and <site>.poly (C x 3: a0, a1, a2 with
 * p(x) = a2 x^2 + a1 x + a0), which eval, info and the secure-inference engine use.
 *
 * AutoReP (method.md §3): per-element gate alpha ~ U(0,1) with binary state m
 * (hysteresis, threshold t), straight-through gradient softplus(alpha) dL/dm,
 * per-channel DaPa polynomials refreshed every R training passes until pass K,
 * loss CE + KD(teacher = the baseline) + lambda max(0, (count - B)/N), Adam with
 * separate learning rates for weights and gates, cosine schedule, optional
 * Lookahead, then an optional fine-tuning stage with masks frozen (SGD).
 * Selection: the best-validation epoch whose final mask has count <= B. When the
 * count of an epoch's final mask exceeds B by at most 5%, the kept elements with
 * the smallest gates are replaced until the count is exactly B ("budget
 * projection") before that epoch is validated; a search whose masks never come
 * within reach of B fails with AR_ERR_BUDGET and writes nothing.
 *
 * SNL (method.md §6): continuous per-element alpha (init 1), y = alpha relu(x) +
 * (1 - alpha) x, loss CE + KD + lambda sum|alpha| with lambda x1.1 after each
 * epoch (from epoch 5) in which the count (alpha > 0.01) did not reach a new low;
 * the search stops as soon as count <= B, alpha is binarised (the identity
 * replaces removed ReLUs) and the network is fine-tuned with masks frozen. If
 * the search epochs run out first, the B largest alphas are kept. */
#ifndef AR_REPLACE_H
#define AR_REPLACE_H

#include <stddef.h>
#include <stdint.h>

#include "autorep/dapa.h"
#include "io/data.h"
#include "nn/net.h"
#include "nn/train.h"

enum ar_method { AR_METHOD_AUTOREP = 0, AR_METHOD_SNL = 1 };
enum ar_poly_mode { AR_POLY_QUAD = 0, AR_POLY_LINEAR = 1, AR_POLY_IDENTITY = 2 };

struct ar_replace_opts {
    enum ar_method method;
    size_t budget;        /* kept ReLUs allowed (absolute) */
    double lambda;        /* AutoReP hinge weight, or SNL initial L1 weight */
    float threshold;      /* hysteresis t */
    enum ar_poly_mode poly;
    enum ar_dapa_mode dapa;
    float scale_x2;       /* forward multiplies stored a2 by this (faithful: 0.1; exact: 1) */
    double var_min;       /* faithful DaPa: variance floor (0.5) */
    int dapa_every, dapa_until; /* refresh every R training passes until pass K */
    float kd_temp, kd_weight;
    int epochs;          /* search epochs */
    int finetune_epochs; /* fine-tuning epochs with masks frozen (SNL adds the search epochs it did not need) */
    float lr, lr_gate, lr_min; /* search (Adam); lr_gate 0 = ar_replace_default_gate_lr */
    float ft_lr, ft_wd;        /* fine-tune (SGD, momentum 0.9) */
    int lookahead_k;           /* 0 = off */
    float lookahead_alpha;
    int batch;    /* global batch (split across MPI ranks) */
    int sync_bn;  /* batch statistics over all MPI ranks */
    uint64_t seed;
    struct ar_augment aug;
    int max_train, max_test;
    int progress;
    const char *out;  /* final masked model */
    const char *log;  /* JSONL log (both stages) */
    int resume;
    const char *const *meta; /* extra metadata for the output */
};

struct ar_replace_result {
    double base_top1;       /* baseline on the validation split */
    double top1, loss;      /* selected model */
    size_t relu_count, relu_total;
    int selected_epoch;     /* 1-based epoch of the search that was kept (0: fine-tune only) */
    int search_epochs_run;  /* SNL may stop early */
    double seconds;
};

void ar_replace_opts_default(struct ar_replace_opts *o, enum ar_method m);
/* Default gate learning rate for a search of that many optimizer steps:
 * max(1e-3, 3 / steps), so that a gate can travel across [0, 1] and beyond under
 * the cosine schedule even in short searches (the official 1e-3 assumes ~80K steps). */
float ar_replace_default_gate_lr(long search_steps);

/* Run the replacement from the plain checkpoint at base_path. */
AR_NODISCARD int ar_replace_run(const char *base_path, const struct ar_dataset *train, const struct ar_dataset *test,
                                const struct ar_replace_opts *o, struct ar_replace_result *res, char *err);

/* ---- lower-level pieces (used by the driver and by tests) ---- */

/* The state a replacement method attaches to a net's activation sites. */
struct ar_sites;

/* Attach site hooks to a net built with site_mode AUTOREP, MASKED or SNL (before
 * ar_net_plan). train_gates: compute gate gradients (search). */
AR_NODISCARD int ar_sites_attach(struct ar_net *net, const struct ar_replace_opts *o, int train_gates,
                                 struct ar_sites **out, char *err);
void ar_sites_free(struct ar_sites *s);
/* For inference on a masked model (eval, predict, info): attach the sites with
 * default options and hand their ownership to the net (freed by ar_net_free). A
 * plain net is left alone. */
AR_NODISCARD int ar_sites_attach_owned(struct ar_net *net, char *err);
/* Hysteresis on every site; returns the kept count. */
size_t ar_sites_update_masks(struct ar_sites *s, struct ar_net *net);
/* Gate gradients after backward: softplus STE plus the budget hinge (AutoReP) or
 * the L1 term (SNL). Returns the regulariser's loss value. */
double ar_sites_gate_grads(struct ar_sites *s, struct ar_net *net);
/* Overwrite every site's polynomial with the DaPa fit of its statistics. */
void ar_sites_refit(struct ar_sites *s, struct ar_net *net);
/* Count kept ReLUs of the current state (AutoReP masks or SNL alpha > 0.01). */
size_t ar_sites_count(const struct ar_sites *s, const struct ar_net *net);
/* Drop the (count - budget) kept elements with the smallest gate; returns the new count. */
size_t ar_sites_project(struct ar_sites *s, struct ar_net *net, size_t budget);

/* SNL's per-epoch rule: a new lowest count updates *lowest; otherwise, from
 * epoch 5 (0-based epoch >= 5), lambda grows by 1.1. Returns 1 when the search
 * must stop (count <= budget). */
int ar_snl_epoch_rule(double *lambda, size_t *lowest, size_t count, size_t budget, int epoch);

/* Write a masked model (mask + effective polynomial per site) from a search net. */
AR_NODISCARD int ar_sites_export(const struct ar_sites *s, const struct ar_net *net, const char *path,
                                 const char *const *meta, char *err);

#endif
