/* [batchnorm] layer: BatchNorm2d with affine weight/bias and running statistics.
 * cfg keys: name (required), momentum (0.1), eps (1e-5), input.
 * Tensors: <name>.weight, .bias (c) trainable; .running_mean, .running_var (c) state;
 * .num_batches_tracked (int64 scalar, PyTorch compatibility).
 * Training mode normalises with batch statistics (biased variance) and updates the
 * running statistics with the unbiased variance, exactly as PyTorch. */
#include <stdlib.h>

#include "core/assert.h"
#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"

struct bn_priv {
    float momentum, eps;
};

static int bn_parse(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s, char *err) {
    (void)net;
    struct bn_priv *p = calloc(1, sizeof *p);
    if (!p) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    l->priv = p;
    p->momentum = 0.1f;
    p->eps = 1e-5f;
    int rc;
    if ((rc = ar_layer_opt_float(cfg, s, "momentum", &p->momentum, 0.0, 1.0, err))) return rc;
    if ((rc = ar_layer_opt_float(cfg, s, "eps", &p->eps, 1e-12, 1.0, err))) return rc;
    return AR_OK;
}

static int bn_shape(struct ar_net *net, struct ar_layer *l, char *err) {
    l->out = l->ishape;
    int64_t c[1] = {l->ishape.c};
    int rc;
    if ((rc = ar_net_add_tensor(net, l, "weight", AR_T_PARAM, 1, c, err))) return rc;
    if ((rc = ar_net_add_tensor(net, l, "bias", AR_T_PARAM, 1, c, err))) return rc;
    if ((rc = ar_net_add_tensor(net, l, "running_mean", AR_T_STATE, 1, c, err))) return rc;
    if ((rc = ar_net_add_tensor(net, l, "running_var", AR_T_STATE, 1, c, err))) return rc;
    return ar_net_add_tensor(net, l, "num_batches_tracked", AR_T_COUNT, 0, NULL, err);
}

static int bn_plan(struct ar_net *net, struct ar_layer *l, char *err) {
    (void)err;
    if (net->training) ar_net_reserve_saved(net, l, 2 * (size_t)l->ishape.c);
    return AR_OK;
}

static int64_t *bn_counter(const struct ar_net *net, const struct ar_layer *l) {
    for (int i = 0; i < net->n_tensors; i++)
        if (net->tensors[i].layer == (int)(l - net->layers) && net->tensors[i].kind == AR_T_COUNT)
            return net->counts + net->tensors[i].off;
    AR_ASSERT(0);
    return NULL;
}

/* A batch norm fused with the following ReLU (l->fused == 1, planned by the net)
 * writes max(bn(x), 0) straight into the ReLU's output and computes its backward
 * from the ReLU's output gradient; the ReLU layer then does nothing. */
static void bn_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct bn_priv *p = l->priv;
    const struct ar_shape s = l->ishape;
    const float *x = ar_net_layer_input(net, l, 0);
    const int fused = l->fused == 1;
    float *y = fused ? ar_net_out(net, l + 1) : ar_net_out(net, l);
    if (net->train_mode) {
        AR_ASSERT(net->training && n == net->batch);
        float *saved = ar_net_saved(net, l);
        ar_bn_forward_train(y, saved, saved + s.c, ar_net_statef(net, l, "running_mean"),
                            ar_net_statef(net, l, "running_var"), x, ar_net_param(net, l, "weight"),
                            ar_net_param(net, l, "bias"), n, s.c, s.h * s.w, p->momentum, p->eps, fused);
        (*bn_counter(net, l))++;
    } else {
        ar_bn_forward_eval(y, x, ar_net_param(net, l, "weight"), ar_net_param(net, l, "bias"),
                           ar_net_statef(net, l, "running_mean"), ar_net_statef(net, l, "running_var"), n, s.c,
                           s.h * s.w, p->eps, fused);
    }
}

static void bn_backward(struct ar_net *net, struct ar_layer *l, int n) {
    AR_ASSERT(net->train_mode);
    const struct ar_shape s = l->ishape;
    const float *saved = ar_net_saved(net, l);
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    const int fused = l->fused == 1;
    ar_bn_backward(dx, acc, ar_net_grad(net, l, "weight"), ar_net_grad(net, l, "bias"),
                   fused ? ar_net_dout(net, l + 1) : ar_net_dout(net, l), ar_net_layer_input(net, l, 0), saved,
                   saved + s.c, ar_net_param(net, l, "weight"), n, s.c, s.h * s.w, fused ? ar_net_out(net, l + 1) : NULL);
}

static void bn_free(struct ar_layer *l) {
    free(l->priv);
    l->priv = NULL;
}

float ar_layer_bn_eps(const struct ar_layer *l) {
    AR_ASSERT(l->type == AR_LAYER_BATCHNORM);
    return ((const struct bn_priv *)l->priv)->eps;
}

const struct ar_layer_ops ar_layer_batchnorm_ops = {
    .name = "batchnorm",
    .parse = bn_parse,
    .shape = bn_shape,
    .plan = bn_plan,
    .forward = bn_forward,
    .backward = bn_backward,
    .free_priv = bn_free,
    .bwd_needs_in = 1,
};
