/* [conv] layer: 2-D convolution (groups 1, no dilation), weights OIHW as PyTorch.
 * cfg keys: name (required), filters, size (required), stride (1), pad (0), bias (0),
 * input (previous layer). Tensors: <name>.weight (oc,c,k,k), <name>.bias (oc).
 * Compute goes through kernels/conv (oneDNN). */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "kernels/conv.h"
#include "layers/layer_util.h"

struct conv_priv {
    int filters, size, stride, pad, bias;
    struct ar_conv *cv;
};

static int conv_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                      char *err) {
    (void)net;
    struct conv_priv *p = calloc(1, sizeof *p);
    if (!p) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    l->priv = p;
    p->stride = 1;
    int rc;
    if ((rc = ar_layer_req_int(cfg, s, "filters", &p->filters, 1, 65536, err))) return rc;
    if ((rc = ar_layer_req_int(cfg, s, "size", &p->size, 1, 64, err))) return rc;
    if ((rc = ar_layer_opt_int(cfg, s, "stride", &p->stride, 1, 64, err))) return rc;
    if ((rc = ar_layer_opt_int(cfg, s, "pad", &p->pad, 0, 64, err))) return rc;
    if ((rc = ar_layer_opt_int(cfg, s, "bias", &p->bias, 0, 1, err))) return rc;
    return AR_OK;
}

static int conv_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    struct conv_priv *p = l->priv;
    struct ar_shape in = l->ishape;
    int oh = (in.h + 2 * p->pad - p->size) / p->stride + 1;
    int ow = (in.w + 2 * p->pad - p->size) / p->stride + 1;
    if (in.h + 2 * p->pad < p->size || in.w + 2 * p->pad < p->size || oh < 1 || ow < 1)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [conv] %s: kernel %d does not fit input %dx%dx%d with pad %d",
                       net->cfg_label, l->line, l->name, p->size, in.c, in.h, in.w, p->pad);
    l->out = (struct ar_shape){p->filters, oh, ow};
    int64_t ws[4] = {p->filters, in.c, p->size, p->size};
    int rc = ar_net_add_tensor(net, l, "weight", AR_T_PARAM, 4, ws, err);
    if (rc) return rc;
    if (p->bias) {
        int64_t bs[1] = {p->filters};
        rc = ar_net_add_tensor(net, l, "bias", AR_T_PARAM, 1, bs, err);
    }
    return rc;
}

static int conv_plan(struct ar_net *net, struct ar_layer *l, char *err) {
    struct conv_priv *p = l->priv;
    struct ar_conv_shape s = {.n = net->batch,
                              .c = l->ishape.c,
                              .h = l->ishape.h,
                              .w = l->ishape.w,
                              .oc = p->filters,
                              .kh = p->size,
                              .kw = p->size,
                              .sh = p->stride,
                              .sw = p->stride,
                              .ph = p->pad,
                              .pw = p->pad,
                              .bias = p->bias};
    if (!ar_conv_shape_finish(&s)) return ar_errf(err, AR_ERR_ARG, "[conv] %s: invalid shape", l->name);
    ar_conv_free(p->cv);
    p->cv = NULL;
    int rc = ar_conv_create(&p->cv, &s, net->training ? AR_CONV_TRAIN : 0, err);
    if (rc) return ar_errprefix(err, rc, "[conv] %s", l->name);
    size_t need = ar_conv_workspace_bytes(p->cv);
    if (need > net->ws_need) net->ws_need = need;
    return AR_OK;
}

static void conv_forward(struct ar_net *net, struct ar_layer *l, int n) {
    (void)n;
    struct conv_priv *p = l->priv;
    ar_conv_forward(p->cv, ar_net_layer_input(net, l, 0), ar_net_param(net, l, "weight"),
                    p->bias ? ar_net_param(net, l, "bias") : NULL, ar_net_out(net, l), net->ws);
}

static void conv_backward(struct ar_net *net, struct ar_layer *l, int n) {
    (void)n;
    struct conv_priv *p = l->priv;
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    /* both passes in one call: a reordered dy is shared by backward-data and -weights */
    ar_conv_backward(p->cv, ar_net_layer_input(net, l, 0), ar_net_dout(net, l), ar_net_param(net, l, "weight"), dx,
                     acc, ar_net_grad(net, l, "weight"), p->bias ? ar_net_grad(net, l, "bias") : NULL, net->ws);
}

static void conv_free(struct ar_layer *l) {
    struct conv_priv *p = l->priv;
    if (p) ar_conv_free(p->cv);
    free(p);
    l->priv = NULL;
}

const struct ar_layer_ops ar_layer_conv_ops = {
    .name = "conv",
    .parse = conv_parse,
    .shape = conv_shape,
    .plan = conv_plan,
    .forward = conv_forward,
    .backward = conv_backward,
    .free_priv = conv_free,
    .bwd_needs_in = 1,
};

/* Accessors used by the fixed-point and MPC executors. */
void ar_layer_conv_geom(const struct ar_layer *l, int *filters, int *size, int *stride, int *pad, int *bias) {
    AR_ASSERT(l->type == AR_LAYER_CONV);
    const struct conv_priv *p = l->priv;
    *filters = p->filters;
    *size = p->size;
    *stride = p->stride;
    *pad = p->pad;
    *bias = p->bias;
}

void ar_layer_conv_weights_changed(struct ar_layer *l) {
    AR_ASSERT(l->type == AR_LAYER_CONV);
    struct conv_priv *p = l->priv;
    ar_conv_weights_changed(p->cv);
}
