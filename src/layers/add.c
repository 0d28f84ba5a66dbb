/* [add] (residual sum of two layers' outputs, cfg key `from = a, b`) and [flatten]
 * (reshape to c*h*w x 1 x 1; a copy, used before [linear] in plain CNNs). */
#include <string.h>

#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"

static int none_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s,
                      char *err) {
    (void)net, (void)l, (void)cfg, (void)s, (void)err;
    return AR_OK;
}

static int add_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    struct ar_shape a = l->ishape;
    struct ar_shape b = l->in[1] < 0 ? net->in_shape : net->layers[l->in[1]].out;
    if (a.c != b.c || a.h != b.h || a.w != b.w)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [add] %s: inputs have different shapes %dx%dx%d and %dx%dx%d",
                       net->cfg_label, l->line, l->name, a.c, a.h, a.w, b.c, b.h, b.w);
    l->out = a;
    return AR_OK;
}

/* Fused with the following plain ReLU (l->fused == 1): the sum is written as
 * max(a + b, 0) into the ReLU's output and the backward masks the ReLU's output
 * gradient for both inputs; the ReLU layer does nothing. */
static void add_forward(struct ar_net *net, struct ar_layer *l, int n) {
    const size_t len = (size_t)n * ar_shape_numel(l->out);
    if (l->fused == 1)
        ar_add_relu_forward(ar_net_out(net, l + 1), ar_net_layer_input(net, l, 0), ar_net_layer_input(net, l, 1), len);
    else
        ar_add_forward(ar_net_out(net, l), ar_net_layer_input(net, l, 0), ar_net_layer_input(net, l, 1), len);
}

static void add_backward(struct ar_net *net, struct ar_layer *l, int n) {
    const size_t len = (size_t)n * ar_shape_numel(l->out);
    for (int k = 0; k < 2; k++) {
        int acc;
        float *dx = ar_net_layer_dinput(net, l, k, &acc);
        if (!dx) continue;
        if (l->fused == 1)
            ar_relu_backward(dx, acc, ar_net_dout(net, l + 1), ar_net_out(net, l + 1), len);
        else
            ar_pass_grad(dx, acc, ar_net_dout(net, l), len);
    }
}

static int flatten_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    (void)net, (void)err;
    l->out = (struct ar_shape){(int)ar_shape_numel(l->ishape), 1, 1};
    return AR_OK;
}

static void flatten_forward(struct ar_net *net, struct ar_layer *l, int n) {
    memcpy(ar_net_out(net, l), ar_net_layer_input(net, l, 0), sizeof(float) * (size_t)n * ar_shape_numel(l->out));
}

static void flatten_backward(struct ar_net *net, struct ar_layer *l, int n) {
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    if (dx) ar_pass_grad(dx, acc, ar_net_dout(net, l), (size_t)n * ar_shape_numel(l->out));
}

const struct ar_layer_ops ar_layer_add_ops = {
    .name = "add",
    .parse = none_parse,
    .shape = add_shape,
    .forward = add_forward,
    .backward = add_backward,
};

const struct ar_layer_ops ar_layer_flatten_ops = {
    .name = "flatten",
    .parse = none_parse,
    .shape = flatten_shape,
    .forward = flatten_forward,
    .backward = flatten_backward,
};
