/* Helpers shared by the secure-inference executor tests: small networks built from
 * cfg text with random weights, BatchNorm statistics, masks and polynomials (all
 * from the printed test seed), float inference, and compilation. */
#ifndef AR_TEST_PI_UTIL_H
#define AR_TEST_PI_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "autorep/replace.h"
#include "check.h"
#include "core/rng.h"
#include "layers/layer_util.h"
#include "nn/net.h"
#include "pi/fixed.h"
#include "pi/model.h"

/* Every layer type the executors handle: conv+BN (folded), conv with bias, a BN after
 * a residual add (not foldable: a diagonal conv), max pool, strided conv, global
 * average pool, linear. */
static const char tp_net_a[] = "[net]\ninput = 3x12x12\nclasses = 5\n"
                               "[conv]\nname = c1\nfilters = 8\nsize = 3\npad = 1\n"
                               "[batchnorm]\nname = bn1\n"
                               "[relu]\nname = r1\n"
                               "[conv]\nname = c2\nfilters = 8\nsize = 3\npad = 1\nbias = 1\n"
                               "[batchnorm]\nname = bn2\n"
                               "[add]\nname = add1\nfrom = bn2, r1\n"
                               "[batchnorm]\nname = bn3\n"
                               "[relu]\nname = r2\n"
                               "[maxpool]\nname = mp\nsize = 2\n"
                               "[conv]\nname = c3\nfilters = 12\nsize = 3\nstride = 2\npad = 1\n"
                               "[relu]\nname = r3\n"
                               "[avgpool]\nname = ap\nglobal = 1\n"
                               "[linear]\nname = fc\noutputs = auto\n";

/* A k x k average pool feeding a conv (divisor folded into a conv), flatten, and a
 * residual add of a BN output. */
static const char tp_net_b[] = "[net]\ninput = 1x8x8\nclasses = 4\n"
                               "[conv]\nname = c1\nfilters = 4\nsize = 3\npad = 1\nbias = 1\n"
                               "[relu]\nname = r1\n"
                               "[avgpool]\nname = ap\nsize = 2\n"
                               "[conv]\nname = c2\nfilters = 6\nsize = 3\npad = 1\n"
                               "[batchnorm]\nname = bn\n"
                               "[relu]\nname = r2\n"
                               "[flatten]\nname = fl\n"
                               "[linear]\nname = fc\noutputs = auto\n";

/* Build, initialise (seeded), plan for `batch`; masked: random masks (density
 * relu_frac) and polynomials, site hooks attached. Random BN statistics. */
static inline int tp_build(struct ar_net *net, const char *cfg, int masked, double relu_frac, int batch, uint64_t salt,
                           char *err) {
    struct ar_net_opts no = {.site_mode = masked ? AR_SITES_MASKED : AR_SITES_PLAIN};
    int rc = ar_net_build(net, cfg, "test", &no, err);
    if (rc) return rc;
    ar_net_init_params(net, ar_test_seed() + salt);
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 900, salt);
    for (int i = 0; i < net->n_layers; i++) {
        struct ar_layer *l = &net->layers[i];
        if (l->type == AR_LAYER_BATCHNORM) {
            float *g = ar_net_param(net, l, "weight"), *b = ar_net_param(net, l, "bias");
            float *mu = ar_net_statef(net, l, "running_mean"), *var = ar_net_statef(net, l, "running_var");
            for (int c = 0; c < l->out.c; c++) {
                g[c] = (float)(0.5 + ar_rng_uniform_d(&r)) * (ar_rng_uniform_d(&r) < 0.1 ? -1.0f : 1.0f);
                b[c] = (float)(ar_rng_uniform_d(&r) - 0.5) * 0.4f;
                mu[c] = (float)(ar_rng_uniform_d(&r) - 0.5) * 0.4f;
                var[c] = (float)(0.5 + 1.5 * ar_rng_uniform_d(&r));
            }
        }
        if (l->type == AR_LAYER_CONV || l->type == AR_LAYER_LINEAR) {
            char nm[AR_NAME_LEN + 8];
            snprintf(nm, sizeof nm, "%s.bias", l->name);
            const struct ar_tensor_info *t = ar_net_find_tensor(net, nm);
            if (t) {
                float *b = ar_net_tensor_data(net, t);
                for (size_t k = 0; k < t->numel; k++) b[k] = (float)(ar_rng_uniform_d(&r) - 0.5) * 0.2f;
            }
        }
    }
    if (masked) {
        for (int s = 0; s < net->n_sites; s++) {
            char nm[AR_NAME_LEN + 16];
            snprintf(nm, sizeof nm, "%s.relu_mask", net->sites[s].name);
            const struct ar_tensor_info *tm = ar_net_find_tensor(net, nm);
            snprintf(nm, sizeof nm, "%s.poly", net->sites[s].name);
            const struct ar_tensor_info *tpo = ar_net_find_tensor(net, nm);
            if (!tm || !tpo) return ar_errf(err, AR_ERR_ARG, "site %s has no tensors", net->sites[s].name);
            uint8_t *mk = ar_net_tensor_data(net, tm);
            float *po = ar_net_tensor_data(net, tpo);
            for (size_t k = 0; k < tm->numel; k++) mk[k] = (uint8_t)(ar_rng_uniform_d(&r) < relu_frac);
            for (int c = 0; c < net->sites[s].shape.c; c++) {
                po[3 * c] = (float)(ar_rng_uniform_d(&r) - 0.5) * 0.2f;        /* a0 */
                po[3 * c + 1] = (float)(0.3 + 0.4 * ar_rng_uniform_d(&r));     /* a1 */
                po[3 * c + 2] = (float)(0.02 + 0.1 * ar_rng_uniform_d(&r));    /* a2 */
            }
        }
        if ((rc = ar_sites_attach_owned(net, err))) return rc;
    }
    return ar_net_plan(net, batch, 0, err);
}

/* Random normalised inputs (N images). */
static inline void tp_inputs(const struct ar_net *net, float *x, int N, uint64_t salt) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 901, salt);
    size_t n = (size_t)N * ar_shape_numel(net->in_shape);
    for (size_t i = 0; i < n; i++) x[i] = (float)ar_rng_normal(&r);
}

/* Float logits of N images (N <= planned batch). */
static inline void tp_float(struct ar_net *net, const float *x, int N, float *logits) {
    memcpy(net->input, x, sizeof(float) * (size_t)N * ar_shape_numel(net->in_shape));
    net->train_mode = 0;
    ar_net_forward(net, N);
    memcpy(logits, ar_net_logits(net), sizeof(float) * (size_t)N * (size_t)net->classes);
}

static inline int tp_compile(const struct ar_net *net, int frac_bits, int with_weights, struct ar_pi_model *m,
                             char *err) {
    const uint8_t **masks = calloc((size_t)net->n_sites + 1, sizeof *masks);
    const float **polys = calloc((size_t)net->n_sites + 1, sizeof *polys);
    if (!masks || !polys) abort();
    ar_pi_sites_from_net(net, masks, polys);
    struct ar_pi_compile_opts o = {frac_bits, with_weights, masks, polys};
    int rc = ar_pi_compile(net, &o, m, err);
    free(masks);
    free(polys);
    return rc;
}

#endif
