/* SGD (momentum, Nesterov, weight decay), Adam, and learning-rate schedules over
 * the flat parameter buffer; PyTorch 1.13 semantics (see optim.h). */
#include "optim.h"

#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "core/mem.h"

int ar_optim_init(struct ar_optim *o, enum ar_optim_kind kind, const struct ar_net *net, char *err) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->momentum = 0.9f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->n = net->n_params;
    o->m = ar_alloc_big(sizeof(float) * (o->n + 1));
    if (kind == AR_OPTIM_ADAM) o->v = ar_alloc_big(sizeof(float) * (o->n + 1));
    if (!o->m || (kind == AR_OPTIM_ADAM && !o->v)) {
        ar_optim_free(o);
        return ar_errf(err, AR_ERR_NOMEM, "out of memory for optimizer state (%zu parameters)", net->n_params);
    }
    return AR_OK;
}

void ar_optim_free(struct ar_optim *o) {
    if (!o) return;
    ar_free_big(o->m);
    ar_free_big(o->v);
    o->m = o->v = NULL;
}

static void sgd_range(const struct ar_optim *o, float *p, const float *g, float *buf, size_t n, float lr, float wd,
                      int first) {
    const float mom = o->momentum, damp = 1.0f - o->dampening;
#pragma omp for schedule(static) nowait
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        if (mom != 0.0f) {
            float b = first ? d : mom * buf[i] + damp * d;
            buf[i] = b;
            d = o->nesterov ? d + mom * b : b;
        }
        p[i] -= lr * d;
    }
}

static void adam_range(const struct ar_optim *o, float *p, const float *g, float *m, float *v, size_t n, float lr,
                       float wd, double bc1, double bc2) {
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    const float step = (float)(lr / bc1), bc2s = (float)sqrt(bc2);
#pragma omp for schedule(static) nowait
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * d;
        v[i] = b2 * v[i] + (1.0f - b2) * d * d;
        p[i] -= step * (m[i] / (sqrtf(v[i]) / bc2s + eps));
    }
}

void ar_optim_step(struct ar_optim *o, struct ar_net *net) {
    AR_ASSERT(net->grads && o->n == net->n_params);
    o->steps++;
    const int first = o->steps == 1;
    const double bc1 = 1.0 - pow((double)o->beta1, (double)o->steps);
    const double bc2 = 1.0 - pow((double)o->beta2, (double)o->steps);
#pragma omp parallel
    for (int t = 0; t < net->n_tensors; t++) {
        const struct ar_tensor_info *ti = &net->tensors[t];
        if (ti->kind != AR_T_PARAM) continue;
        AR_ASSERT(ti->group >= 0 && ti->group < AR_OPT_GROUPS);
        if (o->frozen[ti->group]) continue;
        const float lr = o->lr[ti->group], wd = ti->no_decay ? 0.0f : o->wd;
        float *p = net->params + ti->off;
        const float *g = net->grads + ti->off;
        if (o->kind == AR_OPTIM_SGD)
            sgd_range(o, p, g, o->m + ti->off, ti->numel, lr, wd, first);
        else
            adam_range(o, p, g, o->m + ti->off, o->v + ti->off, ti->numel, lr, wd, bc1, bc2);
    }
}

float ar_sched_lr(const struct ar_sched *s, float base, int epoch, double frac) {
    double lr = base;
    switch (s->kind) {
    case AR_SCHED_CONST: break;
    case AR_SCHED_COSINE: {
        int T = s->epochs > 0 ? s->epochs : 1;
        lr = s->lr_min + (base - s->lr_min) * (1.0 + cos(M_PI * (double)epoch / T)) / 2.0;
        break;
    }
    case AR_SCHED_STEP: {
        int k = s->step_size > 0 ? epoch / s->step_size : 0;
        lr = base * pow((double)s->gamma, (double)k);
        break;
    }
    }
    if (s->warmup_epochs > 0 && epoch < s->warmup_epochs) lr *= ((double)epoch + frac + 1e-9) / s->warmup_epochs;
    return (float)lr;
}

int ar_sched_parse(const char *name) {
    if (!strcmp(name, "cosine")) return AR_SCHED_COSINE;
    if (!strcmp(name, "step")) return AR_SCHED_STEP;
    if (!strcmp(name, "const") || !strcmp(name, "constant")) return AR_SCHED_CONST;
    return -1;
}
