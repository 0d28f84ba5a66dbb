/* Compiling a struct ar_net into the ring op list of secure inference (model.h):
 * BatchNorm folding, average-pool divisor folding, fixed-point encoding of the
 * server's weights and of the public site coefficients, and the hash of the
 * public part that the three parties compare at connection time. */
#include "pi/model.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "layers/layer_util.h"

#define MAX_DIV ((uint64_t)1 << 24)

const char *ar_pi_kind_name(int kind) {
    switch (kind) {
    case AR_PI_LINEAR: return "linear";
    case AR_PI_ACT: return "act";
    case AR_PI_ADD: return "add";
    case AR_PI_SUMPOOL: return "sumpool";
    case AR_PI_MAXPOOL: return "maxpool";
    default: return "?";
    }
}

void ar_pi_model_free(struct ar_pi_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_ops; i++) {
        struct ar_pi_op *op = &m->ops[i];
        if (op->w) {
            sodium_memzero(op->w, ar_conv_w_count(&op->cs) * sizeof *op->w);
            free(op->w);
        }
        if (op->bias) {
            sodium_memzero(op->bias, (size_t)op->cs.oc * sizeof *op->bias);
            free(op->bias);
        }
        free(op->mask);
        free(op->coef);
    }
    free(m->ops);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static int ceil_log2(uint64_t d) {
    int g = 0;
    while (((uint64_t)1 << g) < d) g++;
    return g;
}

static int new_value(struct ar_pi_model *m, struct ar_shape s, uint64_t div) {
    struct ar_pi_value *v = &m->values[m->n_values];
    v->c = s.c;
    v->h = s.h;
    v->w = s.w;
    v->numel = ar_shape_numel(s);
    v->div = div;
    v->producer = m->n_ops - 1;
    return m->n_values++;
}

static struct ar_pi_op *new_op(struct ar_pi_model *m, int kind, const struct ar_layer *l, int layer) {
    struct ar_pi_op *op = &m->ops[m->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->layer = layer;
    snprintf(op->name, sizeof op->name, "%s", l->name);
    return op;
}

/* The only consumer of layer i, or -1 when it has none or several. */
static int sole_consumer(const struct ar_net *net, int i) {
    int found = -1;
    for (int j = i + 1; j < net->n_layers; j++)
        for (int k = 0; k < net->layers[j].n_in; k++)
            if (net->layers[j].in[k] == i) {
                if (found >= 0) return -1;
                found = j;
            }
    return found;
}

/* BatchNorm as y = s * x + t per channel. */
static int bn_affine(const struct ar_net *net, const struct ar_layer *bn, double *s, double *t, char *err) {
    const float *g = ar_net_param(net, bn, "weight"), *b = ar_net_param(net, bn, "bias");
    const float *mu = ar_net_statef(net, bn, "running_mean"), *var = ar_net_statef(net, bn, "running_var");
    double eps = ar_layer_bn_eps(bn);
    for (int c = 0; c < bn->out.c; c++) {
        double den = (double)var[c] + eps;
        if (!(den > 0) || !isfinite(g[c]) || !isfinite(b[c]) || !isfinite(mu[c]))
            return ar_errf(err, AR_ERR_ARG, "%s: BatchNorm channel %d has invalid statistics (var %g)", bn->name, c,
                           (double)var[c]);
        s[c] = (double)g[c] / sqrt(den);
        t[c] = (double)b[c] - s[c] * (double)mu[c];
    }
    return AR_OK;
}

/* A LINEAR op from a conv or linear layer `l` (with an optional folded BatchNorm `bn`),
 * or from a lone BatchNorm (l == NULL: a diagonal 1x1 conv). */
static int emit_linear(const struct ar_net *net, const struct ar_pi_compile_opts *o, struct ar_pi_model *m,
                       const struct ar_layer *l, const struct ar_layer *bn, int layer, int v_in, char *err) {
    const struct ar_layer *src = l ? l : bn;
    const struct ar_pi_value *vin = &m->values[v_in];
    struct ar_pi_op *op = new_op(m, AR_PI_LINEAR, src, layer);
    if (l && bn) snprintf(op->name, sizeof op->name, "%s+%s", l->name, bn->name);
    op->in[0] = v_in;
    op->n_in = 1;
    op->bn_folded = l && bn;
    op->bn_affine = !l;
    int has_bias = 0;
    struct ar_conv_shape cs = {1, vin->c, vin->h, vin->w, 0, 1, 1, 1, 0};
    if (l && l->type == AR_LAYER_CONV) {
        int filters, size, stride, pad;
        ar_layer_conv_geom(l, &filters, &size, &stride, &pad, &has_bias);
        cs.oc = filters;
        cs.kh = cs.kw = size;
        cs.stride = stride;
        cs.pad = pad;
    } else if (l) {
        int outputs;
        ar_layer_linear_geom(l, &outputs, &has_bias);
        cs.c = (int)vin->numel;
        cs.h = cs.w = 1;
        cs.oc = outputs;
    } else {
        cs.oc = vin->c;
    }
    if (!ar_conv_shape_ok(&cs) || (size_t)cs.c * cs.h * cs.w != vin->numel)
        return ar_errf(err, AR_ERR_ARG, "%s: input of %zu elements does not match the layer", op->name, vin->numel);
    op->cs = cs;
    int f = o->frac_bits, g = ceil_log2(vin->div);
    op->trunc = f + g;
    struct ar_shape os = {cs.oc, ar_conv_oh(&cs), ar_conv_ow(&cs)};
    op->out = new_value(m, os, 1);
    if (!o->with_weights) return AR_OK;
    size_t per = (size_t)cs.c * cs.kh * cs.kw, nw = ar_conv_w_count(&cs);
    op->w = calloc(nw, sizeof *op->w);
    op->bias = calloc((size_t)cs.oc, sizeof *op->bias);
    double *s = malloc(sizeof(double) * (size_t)cs.oc), *t = malloc(sizeof(double) * (size_t)cs.oc);
    int rc = AR_OK;
    if (!op->w || !op->bias || !s || !t) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for %zu weights", op->name, nw);
        goto done;
    }
    for (int c = 0; c < cs.oc; c++) s[c] = 1, t[c] = 0;
    if (bn && (rc = bn_affine(net, bn, s, t, err))) goto done;
    const float *W = l ? ar_net_param(net, l, "weight") : NULL;
    const float *B = l && has_bias ? ar_net_param(net, l, "bias") : NULL;
    double div = (double)vin->div;
    for (int oc = 0; oc < cs.oc; oc++) {
        double b = B ? (double)B[oc] : 0.0;
        double bias = bn ? t[oc] + s[oc] * b : b; /* beta + s (b - mean) */
        if (!isfinite(bias)) {
            rc = ar_errf(err, AR_ERR_ARG, "%s: bias of channel %d is not finite", op->name, oc);
            goto done;
        }
        op->bias[oc] = ar_fix_encode(bias, 2 * f + g);
        for (size_t k = 0; k < per; k++) {
            double wv = W ? (double)W[(size_t)oc * per + k] : (k == (size_t)oc ? 1.0 : 0.0);
            double v = wv * s[oc] / div;
            if (!isfinite(v)) {
                rc = ar_errf(err, AR_ERR_ARG, "%s: weight %zu of channel %d is not finite", op->name, k, oc);
                goto done;
            }
            op->w[(size_t)oc * per + k] = ar_fix_encode(v, f + g);
        }
    }
done:
    free(s);
    free(t);
    return rc;
}

static int emit_act(const struct ar_net *net, const struct ar_pi_compile_opts *o, struct ar_pi_model *m,
                    const struct ar_layer *l, int layer, int v_in, char *err) {
    const struct ar_pi_value *vin = &m->values[v_in];
    struct ar_pi_op *op = new_op(m, AR_PI_ACT, l, layer);
    op->in[0] = v_in;
    op->n_in = 1;
    op->c = vin->c;
    op->hw = vin->h * vin->w;
    size_t chw = vin->numel;
    op->n_relu = chw;
    op->out = new_value(m, l->out, 1);
    if (vin->div != 1)
        return ar_errf(err, AR_ERR_ARG, "%s: an activation after an average pool is not supported", l->name);
    int site = l->site;
    AR_ASSERT(site >= 0 && site < net->n_sites);
    const uint8_t *mask = o->masks ? o->masks[site] : NULL;
    if (!mask) return AR_OK;
    size_t ones = 0;
    for (size_t i = 0; i < chw; i++) {
        if (mask[i] > 1)
            return ar_errf(err, AR_ERR_ARG, "%s: mask value %u at element %zu is not 0 or 1", l->name, mask[i], i);
        ones += mask[i];
    }
    if (ones == chw) return AR_OK; /* all-ReLU site */
    const float *poly = o->polys ? o->polys[site] : NULL;
    if (!poly) return ar_errf(err, AR_ERR_ARG, "%s: site has quadratic elements but no polynomial", l->name);
    op->n_relu = ones;
    op->open_offline = vin->producer >= 0 && m->ops[vin->producer].kind == AR_PI_LINEAR;
    op->mask = malloc(chw);
    op->coef = malloc(3 * (size_t)op->c * sizeof *op->coef);
    if (!op->mask || !op->coef) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", l->name);
    memcpy(op->mask, mask, chw);
    int f = o->frac_bits;
    for (int c = 0; c < op->c; c++) {
        const float *a = poly + 3 * c; /* a0, a1, a2 */
        if (!isfinite(a[0]) || !isfinite(a[1]) || !isfinite(a[2]))
            return ar_errf(err, AR_ERR_ARG, "%s: polynomial of channel %d is not finite", l->name, c);
        op->coef[3 * c] = ar_fix_encode(a[2], f);
        op->coef[3 * c + 1] = ar_fix_encode(a[1], f);
        op->coef[3 * c + 2] = ar_fix_encode(a[0], f);
    }
    return AR_OK;
}

static int emit_pool(struct ar_pi_model *m, const struct ar_layer *l, int layer, int v_in, char *err) {
    const struct ar_pi_value *vin = &m->values[v_in];
    int size, stride, pad, global;
    ar_layer_pool_geom(l, &size, &stride, &pad, &global);
    int kind = l->type == AR_LAYER_MAXPOOL ? AR_PI_MAXPOOL : AR_PI_SUMPOOL;
    struct ar_pi_op *op = new_op(m, kind, l, layer);
    op->in[0] = v_in;
    op->n_in = 1;
    op->c = vin->c;
    op->ph = vin->h;
    op->pw = vin->w;
    op->global = global;
    op->k = size;
    op->stride = stride;
    if (!global && pad)
        return ar_errf(err, AR_ERR_ARG, "%s: pooling with padding is not supported in secure inference", l->name);
    uint64_t div = vin->div;
    if (kind == AR_PI_SUMPOOL) div *= global ? (uint64_t)vin->h * (uint64_t)vin->w : (uint64_t)size * (uint64_t)size;
    if (div > MAX_DIV) return ar_errf(err, AR_ERR_ARG, "%s: pooled divisor %llu is too large", l->name,
                                      (unsigned long long)div);
    op->out = new_value(m, l->out, div);
    return AR_OK;
}

static void hash_u64(crypto_generichash_state *st, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    crypto_generichash_update(st, b, 8);
}

static void model_hash(struct ar_pi_model *m) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, AR_PI_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"autorep/pi/model/v1", 19);
    hash_u64(&st, (uint64_t)m->frac_bits);
    hash_u64(&st, (uint64_t)m->in_shape.c);
    hash_u64(&st, (uint64_t)m->in_shape.h);
    hash_u64(&st, (uint64_t)m->in_shape.w);
    hash_u64(&st, (uint64_t)m->classes);
    hash_u64(&st, (uint64_t)m->n_values);
    for (int v = 0; v < m->n_values; v++) {
        const struct ar_pi_value *x = &m->values[v];
        hash_u64(&st, (uint64_t)x->c);
        hash_u64(&st, (uint64_t)x->h);
        hash_u64(&st, (uint64_t)x->w);
        hash_u64(&st, x->div);
    }
    hash_u64(&st, (uint64_t)m->n_ops);
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        const int64_t f[] = {op->kind,     op->n_in,     op->in[0],   op->in[1],     op->out,  op->cs.n,
                             op->cs.c,     op->cs.h,     op->cs.w,    op->cs.oc,     op->cs.kh, op->cs.kw,
                             op->cs.stride, op->cs.pad,  op->trunc,   op->bn_affine, op->c,    op->hw,
                             op->ph,       op->pw,       op->k,       op->stride,    op->global, op->mask != NULL,
                             op->open_offline};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) hash_u64(&st, (uint64_t)f[k]);
        crypto_generichash_update(&st, (const uint8_t *)op->name, strlen(op->name) + 1);
        if (op->mask) {
            crypto_generichash_update(&st, op->mask, (size_t)op->c * (size_t)op->hw);
            for (int k = 0; k < 3 * op->c; k++) hash_u64(&st, op->coef[k]);
        }
    }
    crypto_generichash_final(&st, m->hash, AR_PI_HASH_BYTES);
}

int ar_pi_compile(const struct ar_net *net, const struct ar_pi_compile_opts *o, struct ar_pi_model *m, char *err) {
    memset(m, 0, sizeof *m);
    if (o->frac_bits < AR_FIX_MIN_BITS || o->frac_bits > AR_FIX_MAX_BITS)
        return ar_errf(err, AR_ERR_ARG, "fixed-point fractional bits %d outside [%d, %d]", o->frac_bits,
                       AR_FIX_MIN_BITS, AR_FIX_MAX_BITS);
    if (net->n_layers < 1) return ar_errf(err, AR_ERR_ARG, "%s: network has no layers", net->cfg_label);
    if (sodium_init() < 0) return ar_errf(err, AR_ERR_BACKEND, "libsodium initialisation failed");
    m->frac_bits = o->frac_bits;
    m->in_shape = net->in_shape;
    m->classes = net->classes;
    m->has_weights = o->with_weights;
    int rc = AR_OK, L = net->n_layers;
    m->ops = calloc((size_t)L, sizeof *m->ops);
    m->values = calloc((size_t)L + 1, sizeof *m->values);
    int *vid = malloc(sizeof(int) * (size_t)L);
    uint8_t *skip = calloc((size_t)L, 1);
    if (!m->ops || !m->values || !vid || !skip) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    new_value(m, net->in_shape, 1);
    for (int i = 0; i < L && !rc; i++) {
        if (skip[i]) continue;
        const struct ar_layer *l = &net->layers[i];
        int v0 = l->in[0] < 0 ? 0 : vid[l->in[0]];
        int v1 = l->n_in > 1 ? (l->in[1] < 0 ? 0 : vid[l->in[1]]) : -1;
        int linear = l->type == AR_LAYER_CONV || l->type == AR_LAYER_LINEAR || l->type == AR_LAYER_BATCHNORM ||
                     l->type == AR_LAYER_FLATTEN;
        if ((v0 == 0 || v1 == 0) && !linear) {
            rc = ar_errf(err, AR_ERR_ARG, "%s: only conv / linear layers may read the network input", l->name);
            break;
        }
        if (m->values[v0].c != l->ishape.c || m->values[v0].h != l->ishape.h || m->values[v0].w != l->ishape.w) {
            if (!(l->type == AR_LAYER_LINEAR && m->values[v0].numel == ar_shape_numel(l->ishape))) {
                rc = ar_errf(err, AR_ERR_ARG, "%s: input shape differs from the compiled value", l->name);
                break;
            }
        }
        switch (l->type) {
        case AR_LAYER_CONV: {
            int j = sole_consumer(net, i);
            const struct ar_layer *bn = j >= 0 && net->layers[j].type == AR_LAYER_BATCHNORM ? &net->layers[j] : NULL;
            rc = emit_linear(net, o, m, l, bn, i, v0, err);
            vid[i] = m->n_values - 1;
            if (bn) {
                vid[j] = vid[i];
                skip[j] = 1;
            }
            break;
        }
        case AR_LAYER_LINEAR:
            rc = emit_linear(net, o, m, l, NULL, i, v0, err);
            vid[i] = m->n_values - 1;
            break;
        case AR_LAYER_BATCHNORM:
            if (v0 == 0) {
                rc = ar_errf(err, AR_ERR_ARG, "%s: a BatchNorm on the network input is not supported", l->name);
                break;
            }
            rc = emit_linear(net, o, m, NULL, l, i, v0, err);
            vid[i] = m->n_values - 1;
            break;
        case AR_LAYER_RELU:
            rc = emit_act(net, o, m, l, i, v0, err);
            vid[i] = m->n_values - 1;
            break;
        case AR_LAYER_ADD: {
            const struct ar_pi_value *a = &m->values[v0], *b = &m->values[v1];
            if (a->div != b->div || a->numel != b->numel) {
                rc = ar_errf(err, AR_ERR_ARG, "%s: adding values of different scales is not supported", l->name);
                break;
            }
            struct ar_pi_op *op = new_op(m, AR_PI_ADD, l, i);
            op->in[0] = v0;
            op->in[1] = v1;
            op->n_in = 2;
            op->out = new_value(m, l->out, a->div);
            vid[i] = op->out;
            break;
        }
        case AR_LAYER_MAXPOOL:
        case AR_LAYER_AVGPOOL:
            rc = emit_pool(m, l, i, v0, err);
            vid[i] = m->n_values - 1;
            break;
        case AR_LAYER_FLATTEN:
            if (v0 == 0) {
                rc = ar_errf(err, AR_ERR_ARG, "%s: flatten of the network input is not supported", l->name);
                break;
            }
            vid[i] = v0; /* NCHW flatten is the identity on the buffer */
            break;
        default: rc = ar_errf(err, AR_ERR_ARG, "%s: layer type %d is not supported", l->name, (int)l->type);
        }
    }
    if (rc) goto fail;
    m->out_value = vid[L - 1];
    if (m->values[m->out_value].numel != (size_t)m->classes || m->values[m->out_value].div != 1 ||
        m->out_value == 0) {
        rc = ar_errf(err, AR_ERR_ARG, "%s: the last layer must produce the %d logits (a linear or conv layer)",
                     net->layers[L - 1].name, m->classes);
        goto fail;
    }
    for (int i = 0; i < m->n_ops; i++) {
        const struct ar_pi_op *op = &m->ops[i];
        if (op->kind == AR_PI_LINEAR) m->weight_count += ar_conv_w_count(&op->cs);
        if (op->kind == AR_PI_ACT) {
            m->relu_count += op->n_relu;
            m->poly_count += (size_t)op->c * (size_t)op->hw - op->n_relu;
        }
    }
    model_hash(m);
    free(vid);
    free(skip);
    return AR_OK;
fail:
    free(vid);
    free(skip);
    ar_pi_model_free(m);
    return rc;
}

static const struct ar_tensor_info *site_tensor(const struct ar_net *net, const char *site, const char *suffix) {
    char name[AR_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.%s", site, suffix);
    return ar_net_find_tensor(net, name);
}

void ar_pi_sites_from_net(const struct ar_net *net, const uint8_t **masks, const float **polys) {
    for (int s = 0; s < net->n_sites; s++) {
        masks[s] = NULL;
        polys[s] = NULL;
        if (net->site_mode != AR_SITES_MASKED) continue;
        const struct ar_tensor_info *tm = site_tensor(net, net->sites[s].name, "relu_mask");
        const struct ar_tensor_info *tp = site_tensor(net, net->sites[s].name, "poly");
        if (tm) masks[s] = ar_net_tensor_data(net, tm);
        if (tp) polys[s] = ar_net_tensor_data(net, tp);
    }
}

void ar_pi_session_hash(uint8_t out[AR_PI_HASH_BYTES], const struct ar_pi_model *m, const char *params) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, AR_PI_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"autorep/pi/session/v1", 21);
    crypto_generichash_update(&st, m->hash, AR_PI_HASH_BYTES);
    if (params) crypto_generichash_update(&st, (const uint8_t *)params, strlen(params));
    crypto_generichash_final(&st, out, AR_PI_HASH_BYTES);
}

int ar_pi_find_op(const struct ar_pi_model *m, const char *prefix) {
    size_t n = strlen(prefix);
    for (int i = 0; i < m->n_ops; i++)
        if (!strncmp(m->ops[i].name, prefix, n)) return i;
    return -1;
}

double ar_pi_op_macs(const struct ar_pi_op *op) { return op->kind == AR_PI_LINEAR ? ar_conv_macs(&op->cs) : 0.0; }
