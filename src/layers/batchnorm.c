/* [batchnorm] layer: BatchNorm2d with affine weight/bias and running statistics.
 * cfg keys: name (required), momentum (0.1), eps (1e-5), input.
 * Tensors: <name>.weight, .bias (c) trainable; .running_mean, .running_var (c) state;
 * .num_batches_tracked (int64 scalar, PyTorch compatibility).
 * Training mode normalises with batch statistics (biased variance) and updates the
 * running statistics with the unbiased variance, exactly as PyTorch. */
#include <math.h>
#include <stdlib.h>

#include "core/assert.h"
#include "kernels/nn_kernels.h"
#include "nn/dist.h"
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
    /* mean, rstd; for sync BN also a, b, gmean, proj, scale and two double sums */
    if (net->training) ar_net_reserve_saved(net, l, 16 * (size_t)l->ishape.c + 16);
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
/* Sync BN: statistics over every MPI rank's shard (n * R samples). */
static double *dsum(const struct ar_net *net, const struct ar_layer *l) {
    float *sv = ar_net_saved(net, l);
    size_t off = (7 * (size_t)l->ishape.c + 1) & ~(size_t)1; /* 8-byte aligned */
    return (double *)(void *)(sv + off);
}

static void bn_forward_sync(struct ar_net *net, struct ar_layer *l, int n, const float *x, float *y, int relu) {
    struct bn_priv *p = l->priv;
    const int c = l->ishape.c, hw = l->ishape.h * l->ishape.w;
    float *sv = ar_net_saved(net, l), *mean = sv, *rstd = sv + c, *a = sv + 2 * c, *b = sv + 3 * c;
    double *s = dsum(net, l);
    const double cnt = (double)n * hw * ar_dist_size();
    ar_bn_sum(s, x, n, c, hw);
    ar_dist_sum_d(s, (size_t)c);
    for (int ch = 0; ch < c; ch++) mean[ch] = (float)(s[ch] / cnt);
    ar_bn_sqdev(s, x, mean, n, c, hw);
    ar_dist_sum_d(s, (size_t)c);
    float *rm = ar_net_statef(net, l, "running_mean"), *rv = ar_net_statef(net, l, "running_var");
    const float *g = ar_net_param(net, l, "weight"), *be = ar_net_param(net, l, "bias");
    for (int ch = 0; ch < c; ch++) {
        double var = s[ch] / cnt;
        rstd[ch] = (float)(1.0 / sqrt(var + (double)p->eps));
        rm[ch] = (1.0f - p->momentum) * rm[ch] + p->momentum * mean[ch];
        rv[ch] = (1.0f - p->momentum) * rv[ch] + p->momentum * (float)(cnt > 1 ? s[ch] / (cnt - 1) : var);
        a[ch] = rstd[ch] * g[ch];
        b[ch] = be[ch] - mean[ch] * a[ch];
    }
    ar_bn_apply(y, x, a, b, n, c, hw, relu);
}

static void bn_backward_sync(struct ar_net *net, struct ar_layer *l, int n, const float *dy, const float *relu_y) {
    const int c = l->ishape.c, hw = l->ishape.h * l->ishape.w;
    float *sv = ar_net_saved(net, l), *mean = sv, *rstd = sv + c, *gm = sv + 4 * c, *pr = sv + 5 * c,
          *sc = sv + 6 * c;
    double *s = dsum(net, l), *s0 = s, *s1 = s + c;
    const float *x = ar_net_layer_input(net, l, 0), *g = ar_net_param(net, l, "weight");
    float *dg = ar_net_grad(net, l, "weight"), *db = ar_net_grad(net, l, "bias");
    ar_bn_bwd_sums(s0, s1, dy, x, mean, relu_y, n, c, hw);
    /* parameter gradients stay local: the gradient all-reduce sums them */
    for (int ch = 0; ch < c; ch++) {
        dg[ch] = (float)(s1[ch] * rstd[ch]);
        db[ch] = (float)s0[ch];
    }
    ar_dist_sum_d(s, 2 * (size_t)c);
    const double cnt = (double)n * hw * ar_dist_size();
    for (int ch = 0; ch < c; ch++) {
        gm[ch] = (float)(s0[ch] / cnt);
        pr[ch] = (float)(s1[ch] * (double)rstd[ch] * (double)rstd[ch] / cnt);
        sc[ch] = rstd[ch] * g[ch];
    }
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
    if (dx) ar_bn_bwd_apply(dx, acc, dy, x, mean, gm, pr, sc, relu_y, n, c, hw);
}

static void bn_forward(struct ar_net *net, struct ar_layer *l, int n) {
    struct bn_priv *p = l->priv;
    const struct ar_shape s = l->ishape;
    const float *x = ar_net_layer_input(net, l, 0);
    const int fused = l->fused == 1;
    float *y = fused ? ar_net_out(net, l + 1) : ar_net_out(net, l);
    if (net->train_mode && net->sync_bn && ar_dist_size() > 1) {
        AR_ASSERT(net->training && n == net->batch);
        bn_forward_sync(net, l, n, x, y, fused);
        (*bn_counter(net, l))++;
    } else if (net->train_mode) {
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
    const int fused = l->fused == 1;
    if (net->sync_bn && ar_dist_size() > 1) {
        bn_backward_sync(net, l, n, fused ? ar_net_dout(net, l + 1) : ar_net_dout(net, l),
                         fused ? ar_net_out(net, l + 1) : NULL);
        return;
    }
    int acc;
    float *dx = ar_net_layer_dinput(net, l, 0, &acc);
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
