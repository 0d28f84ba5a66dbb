/* [maxpool] and [avgpool] layers.
 * cfg keys: size (required unless global = 1), stride (= size), pad (0), input;
 * [avgpool] also takes global = 1 (average over the whole plane, output c x 1 x 1),
 * which adapts to any input size. No tensors. */
#include <stdlib.h>

#include "core/assert.h"
#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"

struct pool_priv {
    int size, stride, pad, global;
};

static int pool_parse_common(struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s, int allow_global,
                             char *err) {
    struct pool_priv *p = calloc(1, sizeof *p);
    if (!p) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    l->priv = p;
    int rc;
    if (allow_global && (rc = ar_layer_opt_int(cfg, s, "global", &p->global, 0, 1, err))) return rc;
    if (p->global) return AR_OK;
    if ((rc = ar_layer_req_int(cfg, s, "size", &p->size, 1, 64, err))) return rc;
    p->stride = p->size;
    if ((rc = ar_layer_opt_int(cfg, s, "stride", &p->stride, 1, 64, err))) return rc;
    if ((rc = ar_layer_opt_int(cfg, s, "pad", &p->pad, 0, 32, err))) return rc;
    if (2 * p->pad > p->size)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [%s] pad %d must be at most half the size %d", cfg->file, s->line,
                       s->name, p->pad, p->size);
    return AR_OK;
}

static int maxpool_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                         char *err) {
    (void)net;
    return pool_parse_common(l, cfg, s, 0, err);
}
static int avgpool_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                         char *err) {
    (void)net;
    return pool_parse_common(l, cfg, s, 1, err);
}

static int pool_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    struct pool_priv *p = l->priv;
    struct ar_shape in = l->ishape;
    if (p->global) {
        l->out = (struct ar_shape){in.c, 1, 1};
        return AR_OK;
    }
    if (in.h + 2 * p->pad < p->size || in.w + 2 * p->pad < p->size)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [%s] window %d does not fit input %dx%dx%d", net->cfg_label, l->line,
                       l->ops->name, p->size, in.c, in.h, in.w);
    l->out = (struct ar_shape){in.c, (in.h + 2 * p->pad - p->size) / p->stride + 1,
                               (in.w + 2 * p->pad - p->size) / p->stride + 1};
    return AR_OK;
}

static void maxpool_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct pool_priv *p = l->priv;
    ar_maxpool_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), n, l->ishape.c, l->ishape.h, l->ishape.w,
                       p->size, p->stride, p->pad, l->out.h, l->out.w);
}
static void maxpool_backward(struct ar_net *net, struct ar_layer *l, int n) {
    struct pool_priv *p = l->priv;
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    if (dx)
        ar_maxpool_backward(dx, acc, ar_net_dout(net, l), ar_net_layer_input(net, l, 0), n, l->ishape.c, l->ishape.h,
                            l->ishape.w, p->size, p->stride, p->pad, l->out.h, l->out.w);
}

static void avgpool_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct pool_priv *p = l->priv;
    if (p->global)
        ar_gap_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), n, l->ishape.c, l->ishape.h * l->ishape.w);
    else
        ar_avgpool_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), n, l->ishape.c, l->ishape.h,
                           l->ishape.w, p->size, p->stride, p->pad, l->out.h, l->out.w);
}
static void avgpool_backward(struct ar_net *net, struct ar_layer *l, int n) {
    struct pool_priv *p = l->priv;
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    if (!dx) return;
    if (p->global)
        ar_gap_backward(dx, acc, ar_net_dout(net, l), n, l->ishape.c, l->ishape.h * l->ishape.w);
    else
        ar_avgpool_backward(dx, acc, ar_net_dout(net, l), n, l->ishape.c, l->ishape.h, l->ishape.w, p->size,
                            p->stride, p->pad, l->out.h, l->out.w);
}

static void pool_free(struct ar_layer *l) {
    free(l->priv);
    l->priv = NULL;
}

void ar_layer_pool_geom(const struct ar_layer *l, int *size, int *stride, int *pad, int *global) {
    AR_ASSERT(l->type == AR_LAYER_MAXPOOL || l->type == AR_LAYER_AVGPOOL);
    const struct pool_priv *p = l->priv;
    *size = p->size;
    *stride = p->stride;
    *pad = p->pad;
    *global = p->global;
}

const struct ar_layer_ops ar_layer_maxpool_ops = {
    .name = "maxpool",
    .parse = maxpool_parse,
    .shape = pool_shape,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .free_priv = pool_free,
    .bwd_needs_in = 1,
};

const struct ar_layer_ops ar_layer_avgpool_ops = {
    .name = "avgpool",
    .parse = avgpool_parse,
    .shape = pool_shape,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
    .free_priv = pool_free,
};
