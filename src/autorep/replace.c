/* AutoReP and SNL drivers: site hooks on the float executor, the search and
 * fine-tuning stages, strict budget selection and export (see replace.h). */
#include "replace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "autorep/gate.h"
#include "core/assert.h"
#include "core/mem.h"
#include "core/rng.h"
#include "kernels/nn_kernels.h"
#include "nn/ckpt.h"
#include "nn/dist.h"

#define SNL_EPS 0.01f

struct site_ptr {
    const struct ar_layer *l;
    int c, hw;
    size_t numel;
    uint8_t *mask;        /* (c, hw) AUTOREP/MASKED */
    float *poly, *dpoly;  /* (c, 3) stored coefficients and their gradient */
    float *alpha, *dalpha; /* (c, hw) AUTOREP/SNL */
    size_t poly_off, alpha_off; /* parameter offsets (gradients live at net->grads + off) */
    float *dmean, *dvar;  /* (c) DaPa statistics (AUTOREP) */
    float *eff, *deff;    /* (c, 3) effective coefficients used by the last forward */
};

struct ar_sites {
    enum ar_site_mode mode;
    struct ar_replace_opts o;
    int train_gates;
    float scale2; /* effective c2 = scale2 * stored a2 */
    struct site_ptr *s;
    int n;
    float *scratch;
    double *dsc; /* (2 * max channels) sums for statistics reduced across MPI ranks */
    size_t count, N;
    double lambda;
    int64_t passes;
};

static void bind_grads(struct ar_sites *S, const struct ar_net *net);

static struct site_ptr *site_of(const struct ar_net *net, const struct ar_layer *l) {
    struct ar_sites *S = net->site_ctx;
    AR_ASSERT(l->site >= 0 && l->site < S->n);
    return &S->s[l->site];
}

static void eff_coeffs(const struct ar_sites *S, struct site_ptr *sp) {
    for (int ch = 0; ch < sp->c; ch++) {
        sp->eff[3 * ch] = sp->poly[3 * ch];
        sp->eff[3 * ch + 1] = sp->poly[3 * ch + 1];
        sp->eff[3 * ch + 2] = S->scale2 * sp->poly[3 * ch + 2];
    }
}

static void site_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct ar_sites *S = net->site_ctx;
    struct site_ptr *sp = site_of(net, l);
    const float *x = ar_net_layer_input(net, l, 0);
    float *y = ar_net_out(net, l);
    if (S->mode == AR_SITES_SNL) {
        ar_snl_forward(y, x, sp->alpha, n, sp->numel);
        return;
    }
    eff_coeffs(S, sp);
    /* the statistics only feed the DaPa refits: none after the refit window */
    if (!net->train_mode || !sp->dmean || S->o.dapa_every <= 0 || S->passes >= S->o.dapa_until) {
        ar_gate_forward(y, x, sp->mask, sp->eff, n, sp->c, sp->hw);
    } else if (net->sync_bn && ar_dist_size() > 1) {
        /* the statistics of the global batch, as a 1-process run would see them */
        double *s1 = S->dsc, *s2 = S->dsc + sp->c;
        ar_bn_sum(s1, x, n, sp->c, sp->hw);
        ar_bn_sqdev(s2, x, NULL, n, sp->c, sp->hw);
        ar_dist_sum_d(S->dsc, 2 * (size_t)sp->c);
        const double cnt = (double)n * sp->hw * ar_dist_size();
        for (int ch = 0; ch < sp->c; ch++) ar_stats_fold(sp->dmean + ch, sp->dvar + ch, s1[ch], s2[ch], cnt, 0.1f);
        ar_gate_forward(y, x, sp->mask, sp->eff, n, sp->c, sp->hw);
    } else {
        ar_gate_forward_stats(y, x, sp->mask, sp->eff, n, sp->c, sp->hw, sp->dmean, sp->dvar, 0.1f);
    }
}

static void site_backward(struct ar_net *net, struct ar_layer *l, int n) {
    struct ar_sites *S = net->site_ctx;
    bind_grads(S, net);
    struct site_ptr *sp = site_of(net, l);
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    const float *x = ar_net_layer_input(net, l, 0), *dy = ar_net_dout(net, l);
    if (S->mode == AR_SITES_SNL) {
        ar_snl_backward(dx, acc, sp->dalpha, dy, x, sp->alpha, n, sp->numel);
        return;
    }
    float *dm = S->train_gates && sp->dalpha ? sp->dalpha : NULL;
    ar_gate_backward(dx, acc, dm, sp->deff, dy, x, sp->mask, sp->eff, n, sp->c, sp->hw);
    if (sp->dalpha && !dm) memset(sp->dalpha, 0, sizeof(float) * sp->numel);
    for (int ch = 0; ch < sp->c; ch++) {
        float d0 = sp->deff[3 * ch], d1 = sp->deff[3 * ch + 1], d2 = S->scale2 * sp->deff[3 * ch + 2];
        if (S->o.poly == AR_POLY_IDENTITY) d0 = d1 = d2 = 0;
        if (S->o.poly == AR_POLY_LINEAR) d2 = 0;
        sp->dpoly[3 * ch] = d0;
        sp->dpoly[3 * ch + 1] = d1;
        sp->dpoly[3 * ch + 2] = d2;
    }
}

static float *tensor_f(const struct ar_net *net, const char *site, const char *suffix, int grad) {
    char name[AR_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.%s", site, suffix);
    const struct ar_tensor_info *t = ar_net_find_tensor(net, name);
    if (!t) return NULL;
    if (t->kind == AR_T_PARAM) return (grad ? net->grads : net->params) + t->off;
    return grad ? NULL : net->state + t->off;
}

static uint8_t *tensor_u8(const struct ar_net *net, const char *site, const char *suffix) {
    char name[AR_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.%s", site, suffix);
    const struct ar_tensor_info *t = ar_net_find_tensor(net, name);
    return t ? net->masks + t->off : NULL;
}

/* Gradient pointers follow net->grads, which ar_net_plan may reallocate. */
static void bind_grads(struct ar_sites *S, const struct ar_net *net) {
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        sp->dpoly = net->grads && sp->poly ? net->grads + sp->poly_off : NULL;
        sp->dalpha = net->grads && sp->alpha ? net->grads + sp->alpha_off : NULL;
    }
}

int ar_sites_attach(struct ar_net *net, const struct ar_replace_opts *o, int train_gates, struct ar_sites **out,
                    char *err) {
    AR_ASSERT(net->site_mode != AR_SITES_PLAIN);
    struct ar_sites *S = calloc(1, sizeof *S);
    if (!S) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    S->mode = net->site_mode;
    S->o = *o;
    S->train_gates = train_gates;
    S->scale2 = net->site_mode == AR_SITES_AUTOREP ? o->scale_x2 : 1.0f;
    S->n = net->n_sites;
    S->N = net->relu_total;
    S->lambda = o->lambda;
    S->s = calloc((size_t)S->n + 1, sizeof *S->s);
    size_t cs = 0;
    int cmax = 1;
    for (int i = 0; i < S->n; i++) {
        cs += (size_t)net->sites[i].shape.c * 3;
        if (net->sites[i].shape.c > cmax) cmax = net->sites[i].shape.c;
    }
    S->scratch = calloc(2 * cs + 1, sizeof(float));
    S->dsc = calloc(2 * (size_t)cmax, sizeof(double));
    if (!S->s || !S->scratch || !S->dsc) {
        ar_sites_free(S);
        return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    }
    float *sc = S->scratch;
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        const struct ar_site *st = &net->sites[i];
        sp->l = &net->layers[st->layer];
        sp->c = st->shape.c;
        sp->hw = st->shape.h * st->shape.w;
        sp->numel = st->numel;
        sp->mask = tensor_u8(net, st->name, "relu_mask");
        sp->poly = tensor_f(net, st->name, "poly", 0);
        sp->alpha = tensor_f(net, st->name, "alpha", 0);
        if (sp->poly) sp->poly_off = (size_t)(sp->poly - net->params);
        if (sp->alpha) sp->alpha_off = (size_t)(sp->alpha - net->params);
        sp->dmean = tensor_f(net, st->name, "dapa_mean", 0);
        sp->dvar = tensor_f(net, st->name, "dapa_var", 0);
        sp->eff = sc;
        sc += 3 * sp->c;
        sp->deff = sc;
        sc += 3 * sp->c;
    }
    net->site_forward = site_forward;
    net->site_backward = site_backward;
    net->site_ctx = S;
    *out = S;
    return AR_OK;
}

void ar_sites_free(struct ar_sites *s) {
    if (!s) return;
    free(s->s);
    free(s->scratch);
    free(s->dsc);
    free(s);
}

static void sites_free_void(void *p) { ar_sites_free(p); }

int ar_sites_attach_owned(struct ar_net *net, char *err) {
    if (net->site_mode == AR_SITES_PLAIN) return AR_OK;
    struct ar_replace_opts o;
    ar_replace_opts_default(&o, net->site_mode == AR_SITES_SNL ? AR_METHOD_SNL : AR_METHOD_AUTOREP);
    struct ar_sites *S;
    int rc = ar_sites_attach(net, &o, 0, &S, err);
    if (rc) return rc;
    net->site_free = sites_free_void;
    return AR_OK;
}

size_t ar_sites_update_masks(struct ar_sites *S, struct ar_net *net) {
    (void)net;
    size_t k = 0;
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        k += sp->alpha ? ar_hysteresis(sp->mask, sp->alpha, sp->numel, S->o.threshold) : sp->numel;
    }
    S->count = k;
    return k;
}

size_t ar_sites_count(const struct ar_sites *S, const struct ar_net *net) {
    (void)net;
    size_t k = 0;
    for (int i = 0; i < S->n; i++) {
        const struct site_ptr *sp = &S->s[i];
        if (S->mode == AR_SITES_SNL) {
            for (size_t j = 0; j < sp->numel; j++) k += sp->alpha[j] > SNL_EPS;
        } else {
            for (size_t j = 0; j < sp->numel; j++) k += sp->mask[j];
        }
    }
    return k;
}

double ar_sites_gate_grads(struct ar_sites *S, struct ar_net *net) {
    bind_grads(S, net);
    double reg = 0;
    if (S->mode == AR_SITES_SNL) {
        const float lam = (float)S->lambda;
        for (int i = 0; i < S->n; i++) {
            struct site_ptr *sp = &S->s[i];
            double l1 = 0;
            for (size_t j = 0; j < sp->numel; j++) {
                float a = sp->alpha[j];
                sp->dalpha[j] += lam * (a > 0 ? 1.0f : a < 0 ? -1.0f : 0.0f);
                l1 += fabs(a);
            }
            reg += S->lambda * l1;
        }
        return reg;
    }
    if (!S->train_gates) return 0;
    const int over = S->count > S->o.budget;
    const float g = over ? (float)(S->lambda / (double)S->N) : 0.0f;
    if (over) reg = S->lambda * ((double)S->count - (double)S->o.budget) / (double)S->N;
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        float *da = sp->dalpha;
        const float *a = sp->alpha;
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < sp->numel; j++) da[j] = ar_softplus(a[j]) * (da[j] + g);
    }
    return reg;
}

void ar_sites_refit(struct ar_sites *S, struct ar_net *net) {
    (void)net;
    const int degree = S->o.poly == AR_POLY_QUAD ? 2 : 1;
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        if (!sp->dmean || !sp->poly) continue;
        for (int ch = 0; ch < sp->c; ch++) {
            float a[3];
            if (S->o.poly == AR_POLY_IDENTITY) {
                a[0] = 0, a[1] = 1, a[2] = 0;
            } else {
                ar_dapa_stored(S->o.dapa, sp->dmean[ch], sp->dvar[ch], degree, S->o.var_min, a);
            }
            memcpy(sp->poly + 3 * ch, a, sizeof a);
        }
    }
}

struct gate_ref {
    float a;
    int site;
    size_t j;
};

static int cmp_gate(const void *x, const void *y) {
    const struct gate_ref *a = x, *b = y;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->site != b->site) return a->site - b->site;
    return a->j < b->j ? -1 : a->j > b->j;
}

size_t ar_sites_project(struct ar_sites *S, struct ar_net *net, size_t budget) {
    size_t count = ar_sites_count(S, net);
    if (count <= budget) return count;
    struct gate_ref *r = malloc(sizeof *r * count);
    if (!r) return count;
    size_t k = 0;
    for (int i = 0; i < S->n; i++) {
        struct site_ptr *sp = &S->s[i];
        for (size_t j = 0; j < sp->numel; j++) {
            int kept = S->mode == AR_SITES_SNL ? sp->alpha[j] > SNL_EPS : sp->mask[j];
            if (kept) r[k++] = (struct gate_ref){sp->alpha ? sp->alpha[j] : 0.0f, i, j};
        }
    }
    qsort(r, k, sizeof *r, cmp_gate);
    for (size_t q = 0; q < count - budget; q++) {
        struct site_ptr *sp = &S->s[r[q].site];
        if (S->mode == AR_SITES_SNL)
            sp->alpha[r[q].j] = 0.0f;
        else
            sp->mask[r[q].j] = 0;
    }
    free(r);
    S->count = ar_sites_count(S, net);
    return S->count;
}

/* Build the masked twin of a search net, copy shared tensors, set masks and
 * effective polynomials, save. */
int ar_sites_export(const struct ar_sites *S, const struct ar_net *net, const char *path, const char *const *meta,
                    char *err) {
    struct ar_net t;
    struct ar_net_opts no = {.in_shape = net->in_shape, .classes = net->classes, .site_mode = AR_SITES_MASKED};
    int rc = ar_net_build(&t, net->cfg_text, net->cfg_label, &no, err);
    if (rc) return rc;
    for (int i = 0; i < t.n_tensors; i++) {
        const struct ar_tensor_info *ti = &t.tensors[i];
        const struct ar_tensor_info *si = ar_net_find_tensor(net, ti->name);
        if (si && si->kind == ti->kind && si->numel == ti->numel && !strstr(ti->name, ".poly"))
            memcpy(ar_net_tensor_data(&t, ti), ar_net_tensor_data(net, si),
                   ti->numel * (ti->kind == AR_T_COUNT ? 8 : ti->kind == AR_T_MASK ? 1 : 4));
    }
    for (int i = 0; i < S->n; i++) {
        const struct site_ptr *sp = &S->s[i];
        uint8_t *m = tensor_u8(&t, net->sites[i].name, "relu_mask");
        float *p = tensor_f(&t, net->sites[i].name, "poly", 0);
        AR_ASSERT(m && p);
        if (S->mode == AR_SITES_SNL) {
            for (size_t j = 0; j < sp->numel; j++) m[j] = sp->alpha[j] > SNL_EPS;
            for (int ch = 0; ch < sp->c; ch++) p[3 * ch] = 0, p[3 * ch + 1] = 1, p[3 * ch + 2] = 0;
        } else {
            memcpy(m, sp->mask, sp->numel);
            for (int ch = 0; ch < sp->c; ch++) {
                p[3 * ch] = sp->poly[3 * ch];
                p[3 * ch + 1] = sp->poly[3 * ch + 1];
                p[3 * ch + 2] = S->scale2 * sp->poly[3 * ch + 2];
            }
        }
    }
    rc = ar_ckpt_save(&t, path, meta, err);
    ar_net_free(&t);
    return rc;
}

/* ---------------- the training-loop hooks ---------------- */

struct run {
    struct ar_sites *S;
    struct ar_net *teacher;
    const struct ar_replace_opts *o;
    int stage; /* 0 search, 1 fine-tune */
    double best;
    int selected_epoch;
    size_t lowest;
    size_t epoch_count; /* count of the epoch's final mask */
    int projected;
    int stopped;
    float *slow; /* Lookahead slow weights */
    int64_t steps;
};

static void h_before_forward(void *ctx, struct ar_net *net) {
    struct run *R = ctx;
    if (R->stage != 0 || R->S->mode != AR_SITES_AUTOREP) return;
    ar_sites_update_masks(R->S, net);
    R->S->passes++;
    if (R->o->dapa_every > 0 && R->S->passes % R->o->dapa_every == 0 && R->S->passes <= R->o->dapa_until) {
        if (ar_dist_size() > 1 && !net->sync_bn) /* one set of statistics for every rank */
            for (int i = 0; i < R->S->n; i++) {
                struct site_ptr *sp = &R->S->s[i];
                ar_dist_sum_f(sp->dmean, (size_t)sp->c);
                ar_dist_sum_f(sp->dvar, (size_t)sp->c);
                for (int ch = 0; ch < sp->c; ch++)
                    sp->dmean[ch] /= (float)ar_dist_size(), sp->dvar[ch] /= (float)ar_dist_size();
            }
        ar_sites_refit(R->S, net);
    }
}

static double h_extra_loss(void *ctx, struct ar_net *net, const int32_t *labels, int n, double *parts) {
    (void)labels;
    struct run *R = ctx;
    double kd = 0, reg = 0;
    if (R->o->kd_weight > 0) {
        memcpy(R->teacher->input, net->input, sizeof(float) * (size_t)n * ar_shape_numel(net->in_shape));
        ar_net_forward(R->teacher, n);
        kd = ar_kd_loss(ar_net_dlogits(net), 1, R->o->kd_weight * net->grad_scale, ar_net_logits(net),
                        ar_net_logits(R->teacher), n, net->classes, R->o->kd_temp);
        kd *= R->o->kd_weight;
    }
    if (R->stage == 0) {
        struct ar_sites *S = R->S;
        if (S->mode == AR_SITES_SNL) {
            double l1 = 0;
            for (int i = 0; i < S->n; i++)
                for (size_t j = 0; j < S->s[i].numel; j++) l1 += fabs(S->s[i].alpha[j]);
            reg = S->lambda * l1;
        } else if (S->count > S->o.budget) {
            reg = S->lambda * ((double)S->count - (double)S->o.budget) / (double)S->N;
        }
    }
    parts[0] = kd;
    parts[1] = reg;
    parts[2] = (double)(R->S->mode == AR_SITES_SNL ? ar_sites_count(R->S, net) : R->S->count);
    return kd + reg;
}

static void h_after_backward(void *ctx, struct ar_net *net) {
    struct run *R = ctx;
    if (R->stage == 0) ar_sites_gate_grads(R->S, net);
}

static void h_after_step(void *ctx, struct ar_net *net) {
    struct run *R = ctx;
    R->steps++;
    if (!R->slow || R->o->lookahead_k <= 0 || R->steps % R->o->lookahead_k) return;
    const float a = R->o->lookahead_alpha;
    float *p = net->params, *s = R->slow;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < net->n_params; i++) {
        s[i] += a * (p[i] - s[i]);
        p[i] = s[i];
    }
}

static void h_before_eval(void *ctx, struct ar_net *net) {
    struct run *R = ctx;
    struct ar_sites *S = R->S;
    R->projected = 0;
    if (S->mode == AR_SITES_SNL) {
        R->epoch_count = ar_sites_count(S, net);
        return;
    }
    if (R->stage == 0) ar_sites_update_masks(S, net);
    R->epoch_count = ar_sites_count(S, net);
    const size_t B = S->o.budget;
    if (R->stage == 0 && R->epoch_count > B && (double)R->epoch_count <= 1.05 * (double)B) {
        R->epoch_count = ar_sites_project(S, net, B);
        R->projected = 1;
    }
}

static int h_end_epoch(void *ctx, struct ar_net *net, int epoch, double val_top1) {
    (void)net;
    struct run *R = ctx;
    struct ar_sites *S = R->S;
    if (S->mode == AR_SITES_SNL && R->stage == 0) {
        if (ar_snl_epoch_rule(&S->lambda, &R->lowest, R->epoch_count, S->o.budget, epoch)) {
            R->stopped = 1;
            return AR_EPOCH_STOP;
        }
        return 0;
    }
    if (R->epoch_count < R->lowest) R->lowest = R->epoch_count;
    if (R->epoch_count <= S->o.budget && val_top1 > R->best) {
        R->best = val_top1;
        R->selected_epoch = R->stage == 0 ? epoch + 1 : -(epoch + 1);
        return AR_EPOCH_SAVE;
    }
    return 0;
}

int ar_snl_epoch_rule(double *lambda, size_t *lowest, size_t count, size_t budget, int epoch) {
    if (count < *lowest)
        *lowest = count;
    else if (epoch >= 5)
        *lambda *= 1.1;
    return count <= budget;
}

static int h_save(void *ctx, struct ar_net *net, const char *path, const char *const *meta, char *err) {
    struct run *R = ctx;
    if (net->site_mode == AR_SITES_MASKED) return ar_ckpt_save(net, path, meta, err);
    return ar_sites_export(R->S, net, path, meta, err);
}

static void h_log_fields(void *ctx, struct ar_net *net, char *buf, size_t len) {
    (void)net;
    struct run *R = ctx;
    snprintf(buf, len, "\"relu_count\": %zu, \"budget\": %zu, \"relu_total\": %zu, \"lambda\": %.6g, \"projected\": %d",
             R->epoch_count, R->S->o.budget, R->S->N, R->S->lambda, R->projected);
}

static void h_progress(void *ctx, struct ar_net *net, char *buf, size_t len) {
    struct run *R = ctx;
    size_t c = R->S->mode == AR_SITES_SNL ? ar_sites_count(R->S, net) : R->S->count;
    if (R->stage == 0)
        snprintf(buf, len, "ReLUs %zu/%zu", c, R->S->o.budget);
    else
        snprintf(buf, len, "ReLUs %zu", ar_sites_count(R->S, net));
}

static void h_save_state(void *ctx, char *buf, size_t len) {
    struct run *R = ctx;
    snprintf(buf, len,
             "{\"passes\": %lld, \"lambda\": %.17g, \"best\": %.17g, \"selected\": %d, \"lowest\": %zu, \"steps\": %lld}",
             (long long)R->S->passes, R->S->lambda, R->best, R->selected_epoch, R->lowest, (long long)R->steps);
}

static int h_load_state(void *ctx, const char *json, char *err) {
    struct run *R = ctx;
    long long passes, steps;
    double lambda, best;
    int sel;
    size_t lowest;
    if (sscanf(json, "{\"passes\": %lld, \"lambda\": %lf, \"best\": %lf, \"selected\": %d, \"lowest\": %zu, \"steps\": %lld}",
               &passes, &lambda, &best, &sel, &lowest, &steps) != 6)
        return ar_errf(err, AR_ERR_FORMAT, "resume file: replacement state '%.60s' is malformed", json);
    R->S->passes = passes;
    R->S->lambda = lambda;
    R->best = best;
    R->selected_epoch = sel;
    R->lowest = lowest;
    R->steps = steps;
    return AR_OK;
}

static void set_hooks(struct ar_train_hooks *h, struct run *R) {
    memset(h, 0, sizeof *h);
    h->ctx = R;
    h->before_forward = h_before_forward;
    h->extra_loss = h_extra_loss;
    h->part_names[0] = "kd_loss";
    h->part_names[1] = "reg_loss";
    h->part_names[2] = "relu_count_mean";
    h->after_backward = h_after_backward;
    h->after_step = h_after_step;
    h->before_eval = h_before_eval;
    h->save = h_save;
    h->end_epoch = h_end_epoch;
    h->log_fields = h_log_fields;
    h->progress_text = h_progress;
    h->save_state = h_save_state;
    h->load_state = h_load_state;
}

/* ---------------- driver ---------------- */

float ar_replace_default_gate_lr(long search_steps) {
    return fmaxf(1e-3f, 3.0f / (float)(search_steps > 0 ? search_steps : 1));
}

void ar_replace_opts_default(struct ar_replace_opts *o, enum ar_method m) {
    memset(o, 0, sizeof *o);
    o->method = m;
    o->lambda = m == AR_METHOD_SNL ? 1e-5 : 100.0;
    o->threshold = 0.003f;
    o->poly = m == AR_METHOD_SNL ? AR_POLY_IDENTITY : AR_POLY_QUAD;
    o->dapa = AR_DAPA_FAITHFUL; /* exact fits diverge in deep residual nets, see docs/autorep.md */
    o->scale_x2 = 0.1f;
    o->var_min = 0.5;
    o->dapa_every = 10;
    o->dapa_until = 500;
    o->kd_temp = 4.0f;
    o->kd_weight = 1.0f;
    o->epochs = 20;
    o->finetune_epochs = 0;
    o->lr = 1e-3f;
    o->lr_gate = 0; /* 0: ar_replace_default_gate_lr */
    o->lr_min = 1e-5f;
    o->ft_lr = 1e-3f;
    o->ft_wd = 5e-4f;
    /* not in the official code: one bad batch made SGD fine-tuning of a 99%-quadratic
     * resnet20 collapse to chance; SNL's identity replacements cannot grow that way and
     * clipping only slowed its fine-tuning (docs/autorep.md) */
    o->ft_clip = m == AR_METHOD_SNL ? 0.0f : 5.0f;
    o->lookahead_alpha = 0.5f;
    o->batch = 128;
    o->seed = 1;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static int open_norm(const struct ar_st *st, const struct ar_dataset *train, struct ar_norm *nm, char *err) {
    const char *m = ar_st_meta(st, "data.mean"), *s = ar_st_meta(st, "data.std");
    if (m && s) return ar_norm_parse(nm, m, s, err);
    ar_norm_from_data(nm, train);
    return AR_OK;
}

static void init_site_tensors(struct ar_net *net, const struct ar_replace_opts *o) {
    for (int i = 0; i < net->n_sites; i++) {
        const char *nm = net->sites[i].name;
        struct ar_rng r;
        ar_rng_seed(&r, o->seed, 0x5173, (uint64_t)i);
        float *alpha = tensor_f(net, nm, "alpha", 0), *poly = tensor_f(net, nm, "poly", 0),
              *dm = tensor_f(net, nm, "dapa_mean", 0), *dv = tensor_f(net, nm, "dapa_var", 0);
        uint8_t *mask = tensor_u8(net, nm, "relu_mask");
        size_t n = net->sites[i].numel;
        int c = net->sites[i].shape.c;
        if (alpha)
            for (size_t j = 0; j < n; j++) alpha[j] = o->method == AR_METHOD_SNL ? 1.0f : ar_rng_uniform(&r);
        if (mask) memset(mask, 1, n);
        if (dm) memset(dm, 0, sizeof(float) * (size_t)c);
        if (dv)
            for (int ch = 0; ch < c; ch++) dv[ch] = 1.0f;
        if (poly)
            for (int ch = 0; ch < c; ch++) {
                float a[3] = {0, 1, 0};
                if (o->poly != AR_POLY_IDENTITY)
                    ar_dapa_stored(o->dapa, 0.0, 1.0, o->poly == AR_POLY_QUAD ? 2 : 1, o->var_min, a);
                if (o->method == AR_METHOD_AUTOREP && o->dapa == AR_DAPA_EXACT && o->scale_x2 != 1.0f)
                    a[2] /= o->scale_x2;
                memcpy(poly + 3 * ch, a, sizeof a);
            }
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int ar_replace_run(const char *base_path, const struct ar_dataset *train, const struct ar_dataset *test,
                   const struct ar_replace_opts *o, struct ar_replace_result *res, char *err) {
    memset(res, 0, sizeof *res);
    const double t0 = now_s();
    int rc = AR_OK;
    struct ar_net teacher, student;
    struct ar_st tst, sst;
    struct ar_sites *S = NULL;
    memset(&teacher, 0, sizeof teacher);
    memset(&student, 0, sizeof student);
    memset(&tst, 0, sizeof tst);
    memset(&sst, 0, sizeof sst);
    struct run R;
    memset(&R, 0, sizeof R);
    struct ar_norm nm;
    if (!o->out) return ar_errf(err, AR_ERR_ARG, "replace needs an output path");
    if (o->budget < 1) return ar_errf(err, AR_ERR_ARG, "--budget must be at least 1");
    if (o->batch % ar_dist_size())
        return ar_errf(err, AR_ERR_ARG, "batch %d is not divisible by the %d MPI ranks", o->batch, ar_dist_size());
    const int lb = o->batch / ar_dist_size(); /* this rank's share of every batch */

    /* teacher = the baseline in eval mode */
    struct ar_ckpt_open_opts po = {.site_mode = AR_SITES_PLAIN};
    AR_TRY(ar_ckpt_open(&teacher, &tst, base_path, &po, err));
    if (o->budget >= teacher.relu_total) {
        rc = ar_errf(err, AR_ERR_ARG, "--budget %zu is not below the %zu ReLUs of %s", o->budget, teacher.relu_total,
                     base_path);
        goto fail;
    }
    AR_TRY(open_norm(&tst, train, &nm, err));
    AR_TRY(ar_net_plan(&teacher, lb, 0, err));
    AR_TRY(ar_evaluate(&teacher, test, &nm, o->max_test, NULL, &res->base_top1, NULL, err));
    res->relu_total = teacher.relu_total;

    char spath[4096], fpath[4096];
    snprintf(spath, sizeof spath, "%s.search.resume", o->out);
    snprintf(fpath, sizeof fpath, "%s.finetune.resume", o->out);
    int skip_search = o->resume && file_exists(fpath);
    int ft_epochs = o->finetune_epochs;
    if (skip_search) {
        if (o->method == AR_METHOD_SNL) {
            /* the resume file knows how many fine-tuning epochs SNL left itself */
            struct ar_st rs;
            if (ar_st_read(&rs, fpath, NULL) == AR_OK) {
                const char *e = ar_st_meta(&rs, "resume.epochs");
                if (e) ft_epochs = atoi(e);
                ar_st_free(&rs);
            }
        }
        /* the search epochs SNL did not need went to fine-tuning; AutoReP runs all */
        res->search_epochs_run = o->epochs - (ft_epochs - o->finetune_epochs);
    }

    /* ---- search ---- */
    if (!skip_search) {
        struct ar_ckpt_open_opts so = {
            .site_mode = o->method == AR_METHOD_SNL ? AR_SITES_SNL : AR_SITES_AUTOREP};
        AR_TRY(ar_ckpt_open(&student, &sst, base_path, &so, err));
        init_site_tensors(&student, o);
        AR_TRY(ar_sites_attach(&student, o, 1, &S, err));
        student.sync_bn = o->sync_bn;
        AR_TRY(ar_net_plan(&student, lb, 1, err));
        R.S = S;
        R.teacher = &teacher;
        R.o = o;
        R.best = -1;
        R.lowest = (size_t)-1;
        if (o->lookahead_k > 0) {
            R.slow = ar_alloc_big(sizeof(float) * student.n_params);
            if (!R.slow) {
                rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
                goto fail;
            }
            memcpy(R.slow, student.params, sizeof(float) * student.n_params);
        }
        struct ar_train_hooks h;
        set_hooks(&h, &R);
        struct ar_train_opts to;
        ar_train_opts_default(&to);
        to.epochs = o->epochs;
        to.batch = o->batch;
        to.optim = AR_OPTIM_ADAM;
        to.lr[0] = o->lr;
        /* default gate rate: enough to move a gate across [0, 1] a few times in
         * the search, at least the official 1e-3 */
        const int steps = (o->max_train > 0 && o->max_train < train->n ? o->max_train : train->n) / o->batch;
        to.lr[1] = o->lr_gate > 0 ? o->lr_gate : ar_replace_default_gate_lr(steps * o->epochs);
        to.wd = 0;
        to.sched = (struct ar_sched){.kind = AR_SCHED_COSINE, .epochs = o->epochs, .lr_min = o->lr_min};
        to.seed = o->seed;
        to.aug = o->aug;
        to.max_train = o->max_train;
        to.max_test = o->max_test;
        to.out = o->out;
        to.log = o->log;
        to.resume = o->resume && file_exists(spath);
        to.state_path = spath;
        to.progress = o->progress;
        to.meta = o->meta;
        to.stage = "search";
        struct ar_train_result tr;
        AR_TRY(ar_train_run(&student, train, test, &nm, &to, &h, &tr, err));
        res->search_epochs_run = tr.epochs_done;
        if (S->mode == AR_SITES_SNL) {
            /* same total epochs as requested: search epochs SNL did not need go to fine-tuning */
            ft_epochs += o->epochs - tr.epochs_done;
            /* binarise (keeping the largest alphas if the budget was not reached) and export */
            if (ar_sites_count(S, &student) > o->budget) ar_sites_project(S, &student, o->budget);
            if (ar_dist_rank() == 0) AR_TRY(ar_sites_export(S, &student, o->out, o->meta, err));
            ar_dist_barrier();
            R.best = -1;
            R.selected_epoch = 0;
        } else if (R.selected_epoch == 0) {
            rc = ar_errf(err, AR_ERR_BUDGET,
                         "no search epoch ended with at most %zu ReLUs (lowest %zu of %zu); try a larger --lambda "
                         "(now %g) or more --epochs",
                         o->budget, R.lowest, student.relu_total, o->lambda);
            goto fail;
        }
        res->selected_epoch = R.selected_epoch;
        ar_net_free(&student);
        ar_st_free(&sst);
        ar_sites_free(S);
        S = NULL;
        ar_free_big(R.slow);
        R.slow = NULL;
    } else {
        R.best = -1;
    }

    /* ---- fine-tune with masks frozen ---- */
    if (ft_epochs > 0) {
        struct ar_ckpt_open_opts mo = {.site_mode = AR_SITES_MASKED};
        AR_TRY(ar_ckpt_open(&student, &sst, o->out, &mo, err));
        struct ar_replace_opts fo = *o;
        if (o->method == AR_METHOD_SNL) fo.poly = AR_POLY_IDENTITY;
        AR_TRY(ar_sites_attach(&student, &fo, 0, &S, err));
        student.sync_bn = o->sync_bn;
        AR_TRY(ar_net_plan(&student, lb, 1, err));
        double sel_top1 = -1;
        if (R.selected_epoch > 0 && !skip_search) {
            /* the search's kept model is the one to beat */
            student.train_mode = 0;
            AR_TRY(ar_evaluate(&student, test, &nm, o->max_test, NULL, &sel_top1, NULL, err));
        }
        R.S = S;
        R.teacher = &teacher;
        R.o = &fo;
        R.stage = 1;
        R.best = sel_top1;
        R.lowest = (size_t)-1;
        struct ar_train_hooks h;
        set_hooks(&h, &R);
        struct ar_train_opts to;
        ar_train_opts_default(&to);
        to.epochs = ft_epochs;
        to.batch = o->batch;
        to.optim = AR_OPTIM_SGD;
        to.momentum = 0.9f;
        to.lr[0] = o->ft_lr;
        to.wd = o->ft_wd;
        to.clip_norm = o->ft_clip;
        to.sched = (struct ar_sched){.kind = AR_SCHED_COSINE, .epochs = ft_epochs, .lr_min = 0};
        to.seed = o->seed + 1;
        to.aug = o->aug;
        to.max_train = o->max_train;
        to.max_test = o->max_test;
        to.out = o->out;
        to.log = o->log;
        to.log_append = 1;
        to.resume = skip_search;
        to.state_path = fpath;
        to.progress = o->progress;
        to.meta = o->meta;
        to.stage = "finetune";
        struct ar_train_result tr;
        AR_TRY(ar_train_run(&student, train, test, &nm, &to, &h, &tr, err));
        /* a fine-tuning epoch was kept (negative), or the search's (also after a resume) */
        res->selected_epoch = R.selected_epoch > 0 ? R.selected_epoch : 0;
        ar_net_free(&student);
        ar_st_free(&sst);
        ar_sites_free(S);
        S = NULL;
    }

    /* ---- final: evaluate what was written ---- */
    {
        struct ar_ckpt_open_opts mo = {.site_mode = -1};
        AR_TRY(ar_ckpt_open(&student, &sst, o->out, &mo, err));
        AR_TRY(ar_sites_attach_owned(&student, err));
        AR_TRY(ar_net_plan(&student, lb, 0, err));
        AR_TRY(ar_evaluate(&student, test, &nm, o->max_test, &res->loss, &res->top1, NULL, err));
        res->relu_count = ar_sites_count(student.site_ctx, &student);
        if (res->relu_count > o->budget) {
            rc = ar_errf(err, AR_ERR_BUDGET, "%s: internal error: %zu ReLUs kept, budget %zu", o->out,
                         res->relu_count, o->budget);
            unlink(o->out);
            goto fail;
        }
    }
    res->seconds = now_s() - t0;
fail:
    ar_sites_free(S);
    ar_free_big(R.slow);
    ar_net_free(&student);
    ar_st_free(&sst);
    ar_net_free(&teacher);
    ar_st_free(&tst);
    return rc;
}
