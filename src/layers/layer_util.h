/* Shared helpers for layer implementations: cfg key readers with range checks and
 * the table of layer ops. Internal to layers/ and nn/. */
#ifndef AR_LAYER_UTIL_H
#define AR_LAYER_UTIL_H

#include "nn/cfg.h"
#include "nn/net.h"

/* Required / optional integer key in [lo, hi]; errors name file:line, key and section. */
int ar_layer_req_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int lo, int hi,
                     char *err);
int ar_layer_opt_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int lo, int hi,
                     char *err);
int ar_layer_opt_float(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, float *out, double lo,
                       double hi, char *err);

extern const struct ar_layer_ops ar_layer_conv_ops, ar_layer_batchnorm_ops, ar_layer_relu_ops, ar_layer_linear_ops,
    ar_layer_maxpool_ops, ar_layer_avgpool_ops, ar_layer_add_ops, ar_layer_flatten_ops;

/* Geometry accessors for other executors (fixed point, MPC, cost model). */
void ar_layer_conv_geom(const struct ar_layer *l, int *filters, int *size, int *stride, int *pad, int *bias);
void ar_layer_pool_geom(const struct ar_layer *l, int *size, int *stride, int *pad, int *global);
void ar_layer_linear_geom(const struct ar_layer *l, int *outputs, int *bias);
float ar_layer_bn_eps(const struct ar_layer *l);
void ar_layer_conv_weights_changed(struct ar_layer *l);

#endif
