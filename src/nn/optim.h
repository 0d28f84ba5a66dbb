/* Optimizers over the net's flat parameter buffer, and learning-rate schedules.
 *
 * Semantics follow PyTorch 1.13 exactly (tests compare step by step):
 *   SGD:  g = grad + wd*p; buf = g (first step) or momentum*buf + (1-dampening)*g;
 *         g = nesterov ? g + momentum*buf : buf;  p -= lr*g
 *   Adam: g = grad + wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *         p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 * Weight decay is skipped for tensors marked no_decay. Each tensor belongs to an
 * optimizer group (net->tensors[i].group) with its own learning rate; a group with
 * lr 0 and `frozen` set is skipped entirely (its moments do not move). */
#ifndef AR_OPTIM_H
#define AR_OPTIM_H

#include <stdint.h>

#include "nn/net.h"

#define AR_OPT_GROUPS 4

enum ar_optim_kind { AR_OPTIM_SGD = 0, AR_OPTIM_ADAM = 1 };

struct ar_optim {
    enum ar_optim_kind kind;
    float lr[AR_OPT_GROUPS]; /* current learning rate per group (set from the schedule) */
    int frozen[AR_OPT_GROUPS];
    float wd;       /* weight decay (L2 added to the gradient) */
    float momentum; /* SGD */
    float dampening;
    int nesterov;
    float beta1, beta2, eps; /* Adam */
    int64_t steps;           /* optimizer steps taken */
    float *m, *v;            /* (n_params) moment buffers; v only for Adam */
    size_t n;
};

/* Allocate moment buffers for net (zeroed). Defaults: momentum 0.9, betas 0.9/0.999, eps 1e-8. */
AR_NODISCARD int ar_optim_init(struct ar_optim *o, enum ar_optim_kind kind, const struct ar_net *net, char *err);
void ar_optim_free(struct ar_optim *o);
/* One update of every parameter from net->grads. No allocation. */
void ar_optim_step(struct ar_optim *o, struct ar_net *net);

/* Learning-rate schedules, evaluated per epoch (PyTorch closed forms) with an
 * optional linear warm-up over the first `warmup_epochs` epochs (per step). */
enum ar_sched_kind { AR_SCHED_CONST = 0, AR_SCHED_COSINE = 1, AR_SCHED_STEP = 2 };
struct ar_sched {
    enum ar_sched_kind kind;
    int epochs;       /* cosine: T_max */
    float lr_min;     /* cosine: eta_min */
    int step_size;    /* step: decay every step_size epochs */
    float gamma;      /* step: factor */
    int warmup_epochs;
};
/* lr for `epoch` (0-based) at fraction `frac` in [0,1) through that epoch. */
float ar_sched_lr(const struct ar_sched *s, float base, int epoch, double frac);
/* Parse "cosine" | "step" | "const"; returns -1 when unknown. */
int ar_sched_parse(const char *name);

#endif
