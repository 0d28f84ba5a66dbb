/* [relu] layer: an activation site. cfg keys: name (required: it names the site's
 * mask and coefficients in checkpoints), input.
 * A plain net computes max(x, 0). When a replacement method is attached
 * (net->site_forward, see autorep/), the site runs its gated or masked activation
 * instead; the layer itself stays the same. */
#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"

static int relu_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                      char *err) {
    (void)net, (void)l, (void)cfg, (void)s, (void)err;
    return AR_OK;
}

static int relu_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    l->out = l->ishape;
    const int64_t chw[3] = {l->out.c, l->out.h, l->out.w}, c3[2] = {l->out.c, 3}, c[1] = {l->out.c};
    int rc = AR_OK;
    if (net->site_mode == AR_SITES_MASKED || net->site_mode == AR_SITES_AUTOREP) {
        if ((rc = ar_net_add_tensor(net, l, "relu_mask", AR_T_MASK, 3, chw, err))) return rc;
        if ((rc = ar_net_add_tensor(net, l, "poly", AR_T_PARAM, 2, c3, err))) return rc;
        net->tensors[net->n_tensors - 1].no_decay = 1;
    }
    if (net->site_mode == AR_SITES_AUTOREP || net->site_mode == AR_SITES_SNL) {
        if ((rc = ar_net_add_tensor(net, l, "alpha", AR_T_PARAM, 3, chw, err))) return rc;
        net->tensors[net->n_tensors - 1].group = 1;
        net->tensors[net->n_tensors - 1].no_decay = 1;
    }
    if (net->site_mode == AR_SITES_AUTOREP) {
        if ((rc = ar_net_add_tensor(net, l, "dapa_mean", AR_T_STATE, 1, c, err))) return rc;
        if ((rc = ar_net_add_tensor(net, l, "dapa_var", AR_T_STATE, 1, c, err))) return rc;
    }
    return rc;
}

static void relu_forward(struct ar_net *net, struct ar_layer *l, int n) {
    if (l->fused == 2) return; /* computed by the preceding batch norm */
    if (net->site_forward) {
        net->site_forward(net, l, n);
        return;
    }
    ar_relu_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), (size_t)n * ar_shape_numel(l->out));
}

static void relu_backward(struct ar_net *net, struct ar_layer *l, int n) {
    if (l->fused == 2) {
        net->grad_ready[l->in[0]] = 1; /* the batch norm reads our gradient directly */
        return;
    }
    if (net->site_backward) {
        net->site_backward(net, l, n);
        return;
    }
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    if (dx) ar_relu_backward(dx, acc, ar_net_dout(net, l), ar_net_out(net, l), (size_t)n * ar_shape_numel(l->out));
}

const struct ar_layer_ops ar_layer_relu_ops = {
    .name = "relu",
    .parse = relu_parse,
    .shape = relu_shape,
    .forward = relu_forward,
    .backward = relu_backward,
    .bwd_needs_out = 1,
};
