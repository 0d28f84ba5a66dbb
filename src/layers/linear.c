/* [linear] layer: fully connected, y = x W^T + b, on the flattened input.
 * cfg keys: name (required), outputs (integer, or "auto" = number of classes),
 * bias (1), input. Tensors: <name>.weight (out, in), <name>.bias (out). GEMMs
 * through kernels/gemm (oneDNN). */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "kernels/linear.h"
#include "layers/layer_util.h"

struct linear_priv {
    int outputs, bias;
};

static int linear_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                        char *err) {
    struct linear_priv *p = calloc(1, sizeof *p);
    if (!p) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    l->priv = p;
    p->bias = 1;
    const char *o = ar_cfg_get_str(cfg, s, "outputs");
    if (!o) return ar_errf(err, AR_ERR_ARG, "%s:%d: [linear] needs key 'outputs'", cfg->file, s->line);
    if (!strcmp(o, "auto")) {
        p->outputs = net->classes;
    } else {
        char *end;
        long v = strtol(o, &end, 10);
        if (*end || end == o || v < 1 || v > 1000000)
            return ar_errf(err, AR_ERR_ARG, "%s:%d: [linear] outputs: '%s' is not a positive integer or auto",
                           cfg->file, s->line, o);
        p->outputs = (int)v;
    }
    return ar_layer_opt_int(cfg, s, "bias", &p->bias, 0, 1, err);
}

static int linear_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    struct linear_priv *p = l->priv;
    if (p->outputs < 1)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [linear] %s: outputs = auto but the class count is unknown",
                       net->cfg_label, l->line, l->name);
    l->out = (struct ar_shape){p->outputs, 1, 1};
    int64_t ws[2] = {p->outputs, (int64_t)ar_shape_numel(l->ishape)};
    int rc = ar_net_add_tensor(net, l, "weight", AR_T_PARAM, 2, ws, err);
    if (rc || !p->bias) return rc;
    int64_t bs[1] = {p->outputs};
    return ar_net_add_tensor(net, l, "bias", AR_T_PARAM, 1, bs, err);
}

static void linear_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct linear_priv *p = l->priv;
    ar_linear_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), ar_net_param(net, l, "weight"),
                      p->bias ? ar_net_param(net, l, "bias") : NULL, n, (int)ar_shape_numel(l->ishape), p->outputs);
}

static void linear_backward(struct ar_net *net, struct ar_layer *l, int n) {
    struct linear_priv *p = l->priv;
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    ar_linear_backward(dx, acc, ar_net_grad(net, l, "weight"), p->bias ? ar_net_grad(net, l, "bias") : NULL,
                       ar_net_dout(net, l), ar_net_layer_input(net, l, 0), ar_net_param(net, l, "weight"), n,
                       (int)ar_shape_numel(l->ishape), p->outputs);
}

static void linear_free(struct ar_layer *l) {
    free(l->priv);
    l->priv = NULL;
}

void ar_layer_linear_geom(const struct ar_layer *l, int *outputs, int *bias) {
    AR_ASSERT(l->type == AR_LAYER_LINEAR);
    const struct linear_priv *p = l->priv;
    *outputs = p->outputs;
    *bias = p->bias;
}

const struct ar_layer_ops ar_layer_linear_ops = {
    .name = "linear",
    .parse = linear_parse,
    .shape = linear_shape,
    .forward = linear_forward,
    .backward = linear_backward,
    .free_priv = linear_free,
    .bwd_needs_in = 1,
};
