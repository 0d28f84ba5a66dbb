/* Network construction from cfg text, memory planning, and the float executor.
 *
 * Memory plan: parameters, gradients, state, counters and masks are flat buffers
 * sized at build time (named views in net->tensors, in registration order). At
 * plan time every activation and activation gradient gets an offset in one arena,
 * chosen by a lifetime analysis over the step timeline
 *   forward of layer j = step j, loss = step L, backward of layer j = step 2L - j
 * so tensors whose lifetimes do not overlap share memory (greedy first fit by
 * decreasing size). In training, an activation lives until the last backward that
 * reads it; in inference only until its last consumer's forward. */
#include "net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "core/mem.h"
#include "core/rng.h"
#include "layers/layer_util.h"

#define ALIGN_FLOATS 16

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int ar_net_find_layer(const struct ar_net *net, const char *name) {
    for (int i = 0; i < net->n_layers; i++)
        if (!strcmp(net->layers[i].name, name)) return i;
    return -2;
}

const struct ar_tensor_info *ar_net_find_tensor(const struct ar_net *net, const char *name) {
    for (int i = 0; i < net->n_tensors; i++)
        if (!strcmp(net->tensors[i].name, name)) return &net->tensors[i];
    return NULL;
}

int ar_net_add_tensor(struct ar_net *net, struct ar_layer *l, const char *suffix, enum ar_tkind kind, int ndim,
                      const int64_t *shape, char *err) {
    AR_ASSERT(ndim >= 0 && ndim <= 4);
    char name[AR_NAME_LEN];
    int n = snprintf(name, sizeof name, "%s.%s", l->name, suffix);
    if (n < 0 || n >= (int)sizeof name)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: tensor name '%s.%s' is too long", net->cfg_label, l->line, l->name,
                       suffix);
    if (ar_net_find_tensor(net, name))
        return ar_errf(err, AR_ERR_ARG, "%s:%d: duplicate tensor name '%s'", net->cfg_label, l->line, name);
    struct ar_tensor_info *nt = realloc(net->tensors, sizeof *nt * (size_t)(net->n_tensors + 1));
    if (!nt) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    net->tensors = nt;
    struct ar_tensor_info *t = &net->tensors[net->n_tensors];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, (size_t)n + 1);
    t->kind = kind;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= (size_t)shape[i];
    }
    t->layer = (int)(l - net->layers);
    size_t *cursor = kind == AR_T_PARAM ? &net->n_params
                     : kind == AR_T_STATE ? &net->n_state
                     : kind == AR_T_COUNT ? &net->n_counts
                                          : &net->n_masks;
    t->off = *cursor;
    *cursor += t->numel;
    if (l->t_count == 0) l->t_first = net->n_tensors;
    l->t_count++;
    net->n_tensors++;
    return AR_OK;
}

static const struct ar_tensor_info *layer_tensor(const struct ar_net *net, const struct ar_layer *l,
                                                 const char *suffix) {
    size_t ln = strlen(l->name);
    for (int i = l->t_first; i < l->t_first + l->t_count; i++) {
        const char *nm = net->tensors[i].name;
        if (!strncmp(nm, l->name, ln) && nm[ln] == '.' && !strcmp(nm + ln + 1, suffix)) return &net->tensors[i];
    }
    return NULL;
}

void *ar_net_tensor_data(const struct ar_net *net, const struct ar_tensor_info *t) {
    switch (t->kind) {
    case AR_T_PARAM: return net->params + t->off;
    case AR_T_STATE: return net->state + t->off;
    case AR_T_COUNT: return net->counts + t->off;
    case AR_T_MASK: return net->masks + t->off;
    }
    return NULL;
}

float *ar_net_param(const struct ar_net *net, const struct ar_layer *l, const char *suffix) {
    const struct ar_tensor_info *t = layer_tensor(net, l, suffix);
    AR_ASSERT(t && t->kind == AR_T_PARAM);
    return net->params + t->off;
}

float *ar_net_grad(const struct ar_net *net, const struct ar_layer *l, const char *suffix) {
    const struct ar_tensor_info *t = layer_tensor(net, l, suffix);
    AR_ASSERT(t && t->kind == AR_T_PARAM && net->grads);
    return net->grads + t->off;
}

float *ar_net_statef(const struct ar_net *net, const struct ar_layer *l, const char *suffix) {
    const struct ar_tensor_info *t = layer_tensor(net, l, suffix);
    AR_ASSERT(t && t->kind == AR_T_STATE);
    return net->state + t->off;
}

float *ar_net_layer_input(const struct ar_net *net, const struct ar_layer *l, int k) {
    AR_ASSERT(k < l->n_in);
    int p = l->in[k];
    return p < 0 ? net->input : net->act + net->layers[p].act_off;
}

float *ar_net_layer_dinput(struct ar_net *net, const struct ar_layer *l, int k, int *acc) {
    AR_ASSERT(k < l->n_in);
    int p = l->in[k];
    if (p < 0) {
        *acc = 0;
        return NULL;
    }
    *acc = net->grad_ready[p];
    net->grad_ready[p] = 1;
    return net->dact + net->layers[p].dact_off;
}

void ar_net_reserve_saved(struct ar_net *net, struct ar_layer *l, size_t len) {
    l->saved_off = net->saved_len;
    l->saved_len = len;
    net->saved_len += (len + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

float *ar_net_logits(const struct ar_net *net) { return ar_net_out(net, &net->layers[net->n_layers - 1]); }
float *ar_net_dlogits(const struct ar_net *net) { return ar_net_dout(net, &net->layers[net->n_layers - 1]); }

size_t ar_net_param_count(const struct ar_net *net) { return net->n_params; }

void ar_net_params_changed(struct ar_net *net) {
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].type == AR_LAYER_CONV) ar_layer_conv_weights_changed(&net->layers[i]);
}

/* ---------------- build ---------------- */

static int parse_shape(const char *v, struct ar_shape *s) {
    int c, h, w;
    char tail;
    if (sscanf(v, "%dx%dx%d%c", &c, &h, &w, &tail) != 3) return 0;
    if (c < 1 || h < 1 || w < 1 || c > 65536 || h > 16384 || w > 16384) return 0;
    *s = (struct ar_shape){c, h, w};
    return 1;
}

static int resolve_input(struct ar_net *net, struct ar_cfg *cfg, int line, const char *name, int self, int *out,
                         char *err) {
    if (!strcmp(name, "input")) {
        *out = -1;
        return AR_OK;
    }
    int idx = ar_net_find_layer(net, name);
    if (idx < -1 || idx >= self)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: input '%s' is not an earlier layer", cfg->file, line, name);
    *out = idx;
    return AR_OK;
}

static int parse_net_section(struct ar_net *net, struct ar_cfg *cfg, struct ar_cfg_section *s,
                             const struct ar_net_opts *o, char *err) {
    const char *in = ar_cfg_get_str(cfg, s, "input");
    if (!in || !strcmp(in, "auto")) {
        if (!o || o->in_shape.c < 1)
            return ar_errf(err, AR_ERR_ARG, "%s:%d: [net] input = auto needs a data set (give --data) or CxHxW",
                           cfg->file, s->line);
        net->in_shape = o->in_shape;
    } else if (!parse_shape(in, &net->in_shape)) {
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [net] input: '%s' is not auto or CxHxW (e.g. 3x32x32)", cfg->file,
                       s->line, in);
    }
    const char *cl = ar_cfg_get_str(cfg, s, "classes");
    if (!cl || !strcmp(cl, "auto")) {
        net->classes = o ? o->classes : 0;
    } else {
        char *end;
        long v = strtol(cl, &end, 10);
        if (*end || end == cl || v < 1 || v > 1000000)
            return ar_errf(err, AR_ERR_ARG, "%s:%d: [net] classes: '%s' is not auto or a positive integer", cfg->file,
                           s->line, cl);
        net->classes = (int)v;
    }
    return ar_cfg_check_keys(cfg, s, err);
}

/* Size limits of ar_net_build (net.h): a shape must have positive dimensions and at
 * most AR_NET_MAX_ACT elements (so every int-typed size in the layers and kernels is
 * safe), and the network's totals stay below the AR_NET_MAX_* bounds, so a small
 * cfg cannot request gigabytes. Returns 1 when s is acceptable. */
static int shape_within_limit(struct ar_shape s) {
    size_t n;
    if (s.c < 1 || s.h < 1 || s.w < 1) return 0;
    if (__builtin_mul_overflow((size_t)s.c, (size_t)s.h, &n) || __builtin_mul_overflow(n, (size_t)s.w, &n)) return 0;
    return n <= AR_NET_MAX_ACT;
}

static int check_limits(const struct ar_net *net, const struct ar_cfg *cfg, const struct ar_layer *l,
                        size_t act_total, char *err) {
    if (!shape_within_limit(l->out))
        return ar_errf(err, AR_ERR_ARG, "%s:%d: layer '%s' outputs %dx%dx%d, more than the %zu values per image allowed",
                       cfg->file, l->line, l->name, l->out.c, l->out.h, l->out.w, (size_t)AR_NET_MAX_ACT);
    if (act_total > AR_NET_MAX_ACT_TOTAL)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: layer '%s': the network's activations exceed %zu values per image",
                       cfg->file, l->line, l->name, (size_t)AR_NET_MAX_ACT_TOTAL);
    if (net->n_params + net->n_state > AR_NET_MAX_PARAMS || net->n_masks + net->n_counts > AR_NET_MAX_PARAMS)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: layer '%s': the network has more than %zu parameters", cfg->file,
                       l->line, l->name, (size_t)AR_NET_MAX_PARAMS);
    return AR_OK;
}

int ar_net_build(struct ar_net *net, const char *cfg_text, const char *label, const struct ar_net_opts *opts,
                 char *err) {
    memset(net, 0, sizeof *net);
    net->bn_momentum = 0.1f;
    net->bn_eps = 1e-5f;
    net->site_mode = opts ? opts->site_mode : AR_SITES_PLAIN;
    net->grad_scale = 1.0f;
    snprintf(net->cfg_label, sizeof net->cfg_label, "%s", label ? label : "<cfg>");
    struct ar_cfg cfg;
    int rc = ar_cfg_parse(&cfg, cfg_text, net->cfg_label, err);
    if (rc) return rc;
    net->cfg_text = dupstr(cfg_text);
    if (!net->cfg_text) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (cfg.n_sec == 0 || strcmp(cfg.sec[0].name, "net")) {
        rc = ar_errf(err, AR_ERR_ARG, "%s:%d: the first section must be [net]", cfg.file,
                     cfg.n_sec ? cfg.sec[0].line : 1);
        goto fail;
    }
    AR_TRY(parse_net_section(net, &cfg, &cfg.sec[0], opts, err));
    if (!shape_within_limit(net->in_shape)) {
        rc = ar_errf(err, AR_ERR_ARG, "%s:%d: [net] input %dx%dx%d is not a positive shape of at most %zu values",
                     cfg.file, cfg.sec[0].line, net->in_shape.c, net->in_shape.h, net->in_shape.w,
                     (size_t)AR_NET_MAX_ACT);
        goto fail;
    }
    size_t act_total = 0;
    if (cfg.n_sec < 2) {
        rc = ar_errf(err, AR_ERR_ARG, "%s: no layers after [net]", cfg.file);
        goto fail;
    }
    net->layers = calloc((size_t)cfg.n_sec - 1, sizeof *net->layers);
    if (!net->layers) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int si = 1; si < cfg.n_sec; si++) {
        struct ar_cfg_section *s = &cfg.sec[si];
        int idx = net->n_layers;
        struct ar_layer *l = &net->layers[idx];
        l->line = s->line;
        l->site = -1;
        l->ops = ar_layer_ops_find(s->name, &l->type);
        if (!l->ops) {
            rc = ar_errf(err, AR_ERR_ARG,
                         "%s:%d: unknown section [%s] (known: net, conv, batchnorm, relu, linear, maxpool, avgpool, "
                         "add, flatten)",
                         cfg.file, s->line, s->name);
            goto fail;
        }
        net->n_layers++;
        const char *name = ar_cfg_get_str(&cfg, s, "name");
        int needs_name = l->type == AR_LAYER_CONV || l->type == AR_LAYER_BATCHNORM || l->type == AR_LAYER_LINEAR ||
                         l->type == AR_LAYER_RELU;
        if (!name && needs_name) {
            rc = ar_errf(err, AR_ERR_ARG, "%s:%d: [%s] needs key 'name'", cfg.file, s->line, s->name);
            goto fail;
        }
        if (name) {
            if (!*name || strlen(name) >= 64 || !strcmp(name, "input") || strchr(name, ',') || strchr(name, ' ')) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: [%s] invalid name '%s'", cfg.file, s->line, s->name, name);
                goto fail;
            }
            if (ar_net_find_layer(net, name) >= 0) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: duplicate layer name '%s'", cfg.file, s->line, name);
                goto fail;
            }
            snprintf(l->name, sizeof l->name, "%s", name);
        } else {
            snprintf(l->name, sizeof l->name, "_%s%d", s->name, idx);
        }
        /* inputs */
        if (l->type == AR_LAYER_ADD) {
            const char *from = ar_cfg_get_str(&cfg, s, "from");
            char a[128], b[128], extra;
            if (!from || sscanf(from, " %127[^, ] , %127[^, ] %c", a, b, &extra) != 2) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: [add] needs 'from = layer_a, layer_b'", cfg.file, s->line);
                goto fail;
            }
            AR_TRY(resolve_input(net, &cfg, s->line, a, idx, &l->in[0], err));
            AR_TRY(resolve_input(net, &cfg, s->line, b, idx, &l->in[1], err));
            l->n_in = 2;
        } else {
            const char *in = ar_cfg_get_str(&cfg, s, "input");
            l->n_in = 1;
            if (in)
                AR_TRY(resolve_input(net, &cfg, s->line, in, idx, &l->in[0], err));
            else
                l->in[0] = idx - 1;
        }
        l->ishape = l->in[0] < 0 ? net->in_shape : net->layers[l->in[0]].out;
        AR_TRY(l->ops->parse(net, l, &cfg, s, err));
        AR_TRY(ar_cfg_check_keys(&cfg, s, err));
        AR_TRY(l->ops->shape(net, l, err));
        act_total += shape_within_limit(l->out) ? ar_shape_numel(l->out) : 0;
        AR_TRY(check_limits(net, &cfg, l, act_total, err));
        for (int k = 0; k < l->n_in; k++)
            if (l->in[k] >= 0) net->layers[l->in[k]].n_consumers++;
    }
    /* every layer but the last must feed something; the last gives the logits */
    for (int i = 0; i < net->n_layers - 1; i++)
        if (!net->layers[i].n_consumers) {
            rc = ar_errf(err, AR_ERR_ARG, "%s:%d: output of layer '%s' is never used", cfg.file, net->layers[i].line,
                         net->layers[i].name);
            goto fail;
        }
    struct ar_layer *last = &net->layers[net->n_layers - 1];
    if (net->classes < 1) net->classes = (int)ar_shape_numel(last->out);
    if (last->out.h != 1 || last->out.w != 1 || last->out.c != net->classes) {
        rc = ar_errf(err, AR_ERR_ARG, "%s:%d: the last layer '%s' outputs %dx%dx%d, expected %d class scores",
                     cfg.file, last->line, last->name, last->out.c, last->out.h, last->out.w, net->classes);
        goto fail;
    }
    /* activation sites */
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].type == AR_LAYER_RELU) net->n_sites++;
    net->sites = calloc((size_t)net->n_sites + 1, sizeof *net->sites);
    if (!net->sites) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0, k = 0; i < net->n_layers; i++) {
        struct ar_layer *l = &net->layers[i];
        if (l->type != AR_LAYER_RELU) continue;
        l->site = k;
        struct ar_site *st = &net->sites[k++];
        st->layer = i;
        snprintf(st->name, sizeof st->name, "%s", l->name);
        st->shape = l->out;
        st->numel = ar_shape_numel(l->out);
        net->relu_total += st->numel;
    }
    /* flat buffers that do not depend on the batch size */
    net->params = ar_alloc_big(sizeof(float) * (net->n_params + 1));
    net->state = ar_alloc_big(sizeof(float) * (net->n_state + 1));
    net->counts = calloc(net->n_counts + 1, sizeof(int64_t));
    net->masks = ar_alloc_big(net->n_masks + 1);
    if (!net->params || !net->state || !net->counts || !net->masks) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory for %zu parameters", net->n_params);
        goto fail;
    }
    ar_cfg_free(&cfg);
    return AR_OK;
fail:
    ar_cfg_free(&cfg);
    ar_net_free(net);
    return rc;
}

/* ---------------- memory plan ---------------- */

struct interval {
    size_t size; /* floats */
    int start, end;
    size_t *off; /* where to store the chosen offset */
};

static int cmp_size_desc(const void *a, const void *b) {
    const struct interval *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->start - y->start;
}

/* Greedy first fit, largest first. Returns the arena size in floats. */
static size_t place_intervals(struct interval *iv, int n) {
    qsort(iv, (size_t)n, sizeof *iv, cmp_size_desc);
    size_t total = 0;
    size_t *offs = malloc(sizeof(size_t) * (size_t)(n + 1));
    int *order = malloc(sizeof(int) * (size_t)(n + 1));
    AR_ASSERT(offs && order);
    for (int i = 0; i < n; i++) {
        /* collect placed intervals overlapping in time, sorted by offset */
        int m = 0;
        for (int j = 0; j < i; j++)
            if (iv[j].start <= iv[i].end && iv[i].start <= iv[j].end) order[m++] = j;
        for (int a = 1; a < m; a++) { /* insertion sort by offset */
            int v = order[a], b = a - 1;
            while (b >= 0 && offs[order[b]] > offs[v]) order[b + 1] = order[b], b--;
            order[b + 1] = v;
        }
        size_t cand = 0;
        for (int k = 0; k < m; k++) {
            int j = order[k];
            if (cand + iv[i].size <= offs[j]) break;
            size_t e = offs[j] + iv[j].size;
            if (e > cand) cand = e;
        }
        offs[i] = cand;
        *iv[i].off = cand;
        if (cand + iv[i].size > total) total = cand + iv[i].size;
    }
    free(offs);
    free(order);
    return total;
}

static void layer_needs(const struct ar_net *net, const struct ar_layer *l, int *in, int *out) {
    *in = l->ops->bwd_needs_in;
    *out = l->ops->bwd_needs_out;
    if (l->type == AR_LAYER_RELU && net->site_backward) *in = *out = 1;
}

static void free_planned(struct ar_net *net) {
    for (int i = 0; i < net->n_layers; i++) net->layers[i].saved_len = 0;
    ar_free_big(net->grads);
    ar_free_big(net->input);
    ar_free_big(net->act);
    ar_free_big(net->saved);
    ar_free_big(net->ws);
    free(net->grad_ready);
    net->grads = net->input = net->act = net->saved = NULL;
    net->dact = NULL;
    net->ws = NULL;
    net->grad_ready = NULL;
    net->act_len = net->dact_len = net->saved_len = net->ws_need = 0;
    net->batch = 0;
}

int ar_net_plan(struct ar_net *net, int batch, int training, char *err) {
    AR_ASSERT(batch > 0);
    free_planned(net);
    net->batch = batch;
    net->training = training;
    for (int i = 0; i < net->n_layers; i++) {
        struct ar_layer *l = &net->layers[i];
        if (l->ops->plan) {
            int rc = l->ops->plan(net, l, err);
            if (rc) {
                free_planned(net);
                return rc;
            }
        }
    }
    const int L = net->n_layers;
    /* fuse a batch norm or a residual add with the plain ReLU that is its only consumer */
    for (int t = 0; t < L; t++) net->layers[t].fused = 0;
    for (int t = 0; t + 1 < L; t++) {
        struct ar_layer *b = &net->layers[t], *r = &net->layers[t + 1];
        if ((b->type == AR_LAYER_BATCHNORM || b->type == AR_LAYER_ADD) && b->n_consumers == 1 &&
            r->type == AR_LAYER_RELU && r->in[0] == t && !net->site_forward && !net->plan_no_fuse)
            b->fused = 1, r->fused = 2;
    }
    struct interval *iv = calloc((size_t)2 * L, sizeof *iv);
    if (!iv) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    int n = 0;
    for (int t = 0; t < L; t++) {
        struct ar_layer *l = &net->layers[t];
        int end = t;
        for (int c = t + 1; c < L; c++) {
            const struct ar_layer *cl = &net->layers[c];
            int uses = 0;
            for (int k = 0; k < cl->n_in; k++) uses |= cl->in[k] == t;
            if (!uses) continue;
            if (c > end) end = c;
            int nin, nout;
            layer_needs(net, cl, &nin, &nout);
            if (training && nin && 2 * L - c > end) end = 2 * L - c;
        }
        int nin, nout;
        layer_needs(net, l, &nin, &nout);
        if (training && nout && 2 * L - t > end) end = 2 * L - t;
        if (t == L - 1 && end < L) end = L;
        if (l->fused == 1) { /* its output lives in the ReLU's buffer */
            l->act_off = l->dact_off = 0;
            continue;
        }
        int start = t, dend = 2 * L - t;
        if (l->fused == 2) { /* written by the batch norm's forward, read by its backward */
            start = t - 1;
            if (training && end < 2 * L - (t - 1)) end = 2 * L - (t - 1);
            dend = 2 * L - (t - 1);
        }
        iv[n++] = (struct interval){(size_t)batch * ar_shape_numel(l->out), start, end, &l->act_off};
        if (training) {
            int first_writer = t == L - 1 ? L : 2 * L;
            for (int c = t + 1; c < L; c++)
                for (int k = 0; k < net->layers[c].n_in; k++)
                    if (net->layers[c].in[k] == t && 2 * L - c < first_writer) first_writer = 2 * L - c;
            iv[n++] = (struct interval){(size_t)batch * ar_shape_numel(l->out), first_writer, dend, &l->dact_off};
        }
    }
    for (int i = 0; i < n; i++) {
        iv[i].size = (iv[i].size + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        if (net->plan_no_reuse) iv[i].start = 0, iv[i].end = 2 * L + 1;
    }
    size_t arena = place_intervals(iv, n);
    free(iv);
    net->act_len = arena;
    net->act = ar_alloc_big(sizeof(float) * (arena + ALIGN_FLOATS));
    net->dact = net->act;
    net->dact_len = training ? arena : 0;
    net->input = ar_alloc_big(sizeof(float) * (size_t)batch * ar_shape_numel(net->in_shape));
    net->saved = ar_alloc_big(sizeof(float) * (net->saved_len + 1));
    net->ws = ar_alloc_big(net->ws_need + 64);
    net->grad_ready = calloc((size_t)L, 1);
    if (training) net->grads = ar_alloc_big(sizeof(float) * (net->n_params + 1));
    if (!net->act || !net->input || !net->saved || !net->ws || !net->grad_ready || (training && !net->grads)) {
        size_t mb = (arena * sizeof(float)) >> 20;
        free_planned(net);
        return ar_errf(err, AR_ERR_NOMEM, "out of memory planning %zu MiB of activations for batch %d", mb, batch);
    }
    return AR_OK;
}

void ar_net_free(struct ar_net *net) {
    if (!net) return;
    free_planned(net);
    if (net->site_free && net->site_ctx) net->site_free(net->site_ctx);
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].ops && net->layers[i].ops->free_priv)
            net->layers[i].ops->free_priv(&net->layers[i]);
        else
            free(net->layers[i].priv);
    free(net->layers);
    free(net->sites);
    free(net->tensors);
    free(net->cfg_text);
    free(net->prof);
    ar_free_big(net->params);
    ar_free_big(net->state);
    free(net->counts);
    ar_free_big(net->masks);
    memset(net, 0, sizeof *net);
}

/* ---------------- init and execution ---------------- */

void ar_net_init_params(struct ar_net *net, uint64_t seed) {
    for (int i = 0; i < net->n_tensors; i++) {
        struct ar_tensor_info *t = &net->tensors[i];
        const struct ar_layer *l = &net->layers[t->layer];
        struct ar_rng rng;
        ar_rng_seed(&rng, seed, 0x1417, (uint64_t)i);
        const char *suffix = t->name + strlen(l->name) + 1;
        void *d = ar_net_tensor_data(net, t);
        if (t->kind == AR_T_COUNT) {
            memset(d, 0, sizeof(int64_t) * t->numel);
            continue;
        }
        if (t->kind == AR_T_MASK) {
            memset(d, 1, t->numel); /* every element starts as a ReLU */
            continue;
        }
        float *f = d;
        if (l->type == AR_LAYER_CONV && !strcmp(suffix, "weight")) {
            double fan_out = (double)t->shape[0] * (double)t->shape[2] * (double)t->shape[3];
            double std = sqrt(2.0 / fan_out);
            for (size_t j = 0; j < t->numel; j++) f[j] = (float)(ar_rng_normal(&rng) * std);
        } else if ((l->type == AR_LAYER_CONV || l->type == AR_LAYER_LINEAR) && !strcmp(suffix, "bias")) {
            const struct ar_tensor_info *w = layer_tensor(net, l, "weight");
            double fan_in = (double)(w->numel / (size_t)w->shape[0]);
            double b = 1.0 / sqrt(fan_in);
            for (size_t j = 0; j < t->numel; j++) f[j] = (float)((2 * ar_rng_uniform_d(&rng) - 1) * b);
        } else if (l->type == AR_LAYER_LINEAR && !strcmp(suffix, "weight")) {
            double b = 1.0 / sqrt((double)t->shape[1]);
            for (size_t j = 0; j < t->numel; j++) f[j] = (float)((2 * ar_rng_uniform_d(&rng) - 1) * b);
        } else if (l->type == AR_LAYER_BATCHNORM) {
            float v = (!strcmp(suffix, "weight") || !strcmp(suffix, "running_var")) ? 1.0f : 0.0f;
            for (size_t j = 0; j < t->numel; j++) f[j] = v;
        } else if (l->type == AR_LAYER_RELU) {
            /* site tensors: alpha ~ U(0,1) (AutoReP) or 1 (SNL); poly = identity-free 0;
             * DaPa statistics mean 0, var 1 */
            if (!strcmp(suffix, "alpha")) {
                for (size_t j = 0; j < t->numel; j++)
                    f[j] = net->site_mode == AR_SITES_SNL ? 1.0f : ar_rng_uniform(&rng);
            } else if (!strcmp(suffix, "dapa_var")) {
                for (size_t j = 0; j < t->numel; j++) f[j] = 1.0f;
            } else {
                memset(f, 0, sizeof(float) * t->numel);
            }
        }
    }
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int ar_net_profile(struct ar_net *net, int on) {
    free(net->prof);
    net->prof = NULL;
    if (on) {
        net->prof = calloc((size_t)net->n_layers * 2, sizeof(double));
        if (!net->prof) return AR_ERR_NOMEM;
    }
    return AR_OK;
}

void ar_net_forward(struct ar_net *net, int n) {
    AR_ASSERT(n > 0 && n <= net->batch);
    for (int i = 0; i < net->n_layers; i++) {
        double t0 = net->prof ? wall() : 0;
        net->layers[i].ops->forward(net, &net->layers[i], n);
        if (net->prof) net->prof[2 * i] += wall() - t0;
    }
}

void ar_net_backward(struct ar_net *net, int n) {
    AR_ASSERT(net->training && net->train_mode);
    memset(net->grad_ready, 0, (size_t)net->n_layers);
    net->grad_ready[net->n_layers - 1] = 1;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        struct ar_layer *l = &net->layers[i];
        AR_ASSERT(net->grad_ready[i]);
        double t0 = net->prof ? wall() : 0;
        l->ops->backward(net, l, n);
        if (net->prof) net->prof[2 * i + 1] += wall() - t0;
    }
}
