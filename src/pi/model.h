/* The "ring" form of a network for secure inference: the op list that both the
 * plaintext fixed-point executor (pi/fixed.h, the oracle) and the MPC executor
 * (pi/mpc.h) walk, so that the two perform exactly the same ring arithmetic (same
 * folding, same truncation points, same kernels).
 *
 * Compilation from a built struct ar_net (layers in topological order):
 *   - conv / linear -> LINEAR op: ring weights at scale f + g, bias at scale 2f + g,
 *     local truncation by f + g after the product (g = ceil(log2 d), see pools);
 *   - BatchNorm right after a conv that has no other consumer is folded into it:
 *     W' = W * s, b' = beta + s * (b - mean), s = gamma / sqrt(var + eps);
 *   - any other BatchNorm (WRN's pre-activation BN after a residual add) becomes a
 *     LINEAR op of its own: a 1x1 conv with the diagonal weight diag(s) and bias
 *     beta - s * mean, i.e. one more pass through the linear protocol (the scale is
 *     the server's secret, so it needs a multiplication by a secret weight);
 *   - ReLU site -> ACT op with the site's public mask (1 = ReLU) and per-channel
 *     coefficients {c2, c1, c0} at scale f (from the checkpoint's a2, a1, a0); a site
 *     without mask is all-ReLU;
 *   - residual add -> ADD; max pool -> MAXPOOL (window k, stride, no padding);
 *   - average pool (global or k x k without padding) -> SUMPOOL: a local sum; the
 *     divisor d (H*W or k*k) is carried on the value and folded into the next linear
 *     op as W / d (encoded with g = ceil(log2 d) extra fractional bits, so no
 *     precision is lost); flatten is an alias.
 * Values are at scale f (value 0 = the network input, owned by the client).
 *
 * Public vs secret: everything in a model except LINEAR ops' `w` and `bias` is
 * public (architecture, shapes, fixed-point settings, masks, coefficients). A model
 * compiled without weights (client, dealer) has w = bias = NULL and the same hash. */
#ifndef AR_PI_MODEL_H
#define AR_PI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/ring.h"
#include "nn/net.h"

enum ar_pi_kind {
    AR_PI_LINEAR = 0, /* conv / FC (weights secret, server) */
    AR_PI_ACT = 1,    /* activation site: ReLU where mask = 1, per-channel quadratic elsewhere */
    AR_PI_ADD = 2,    /* residual add (local) */
    AR_PI_SUMPOOL = 3, /* sum pooling (local); the divisor is folded into the next linear op */
    AR_PI_MAXPOOL = 4  /* max pool by a ReLU tournament */
};

const char *ar_pi_kind_name(int kind);

#define AR_PI_HASH_BYTES 32

struct ar_pi_value {
    int c, h, w;
    size_t numel; /* per image */
    uint64_t div; /* the ring value is div times the real tensor (sum pooling); 1 elsewhere */
    int producer; /* index of the op that writes it (-1: the network input) */
};

struct ar_pi_op {
    int kind;
    char name[2 * AR_NAME_LEN + 2]; /* net layer(s), e.g. "conv1+bn1" */
    int layer;                      /* index of the (first) net layer */
    int in[2], n_in;                /* value ids (0 = network input) */
    int out;                        /* value id */
    /* LINEAR */
    struct ar_conv_shape cs; /* geometry for one image (n = 1) */
    int trunc;               /* local truncation bits after the product */
    int bn_affine;           /* 1: a BatchNorm that could not be folded (diagonal 1x1 conv) */
    int bn_folded;           /* 1: a conv with the following BatchNorm folded in */
    uint64_t *w, *bias;      /* server only: (OC, C, KH, KW) at scale f + g, (OC) at 2f + g */
    /* ACT */
    int c, hw;      /* channels, plane size */
    uint8_t *mask;  /* (c * hw): 1 = ReLU; NULL = every element is a ReLU */
    uint64_t *coef; /* (c, 3) {c2, c1, c0} at scale f; NULL when mask is NULL */
    size_t n_relu;  /* ReLUs per image (the rest are quadratics) */
    int open_offline; /* quadratics whose input is a linear op's output: P1's share is known
                         before the query, so its half of their opening is sent offline
                         (ar_mpc_act_pre) */
    /* SUMPOOL / MAXPOOL: input (c, ph, pw); window k x k, stride; global = whole plane */
    int ph, pw, k, stride, global;
};

struct ar_pi_model {
    int frac_bits;
    struct ar_shape in_shape;
    int classes;
    struct ar_pi_op *ops;
    int n_ops;
    struct ar_pi_value *values; /* values[0] = network input */
    int n_values;
    int out_value;
    int has_weights;
    size_t relu_count, poly_count; /* per image, over every ACT op */
    size_t weight_count;           /* ring weights of all LINEAR ops (the one-time F = W - B) */
    uint8_t hash[AR_PI_HASH_BYTES]; /* BLAKE2b of the public part */
};

struct ar_pi_compile_opts {
    int frac_bits;        /* AR_FIX_MIN_BITS .. AR_FIX_MAX_BITS */
    int with_weights;     /* 1: read weights / BN statistics from net->params and net->state */
    /* Per site (net->sites order): mask (C*H*W, 1 = ReLU) and polynomial (C x 3: a0, a1,
     * a2). masks == NULL or masks[s] == NULL: the site is all-ReLU. */
    const uint8_t *const *masks;
    const float *const *polys;
};

/* Compile net into m (zeroed first). Errors (AR_ERR_ARG) name the layer: an average
 * pool with padding, a max pool with padding, an activation or add reading a pooled
 * (divided) value, a non-linear layer reading the network input, a mask value other
 * than 0/1, a non-finite weight. */
AR_NODISCARD int ar_pi_compile(const struct ar_net *net, const struct ar_pi_compile_opts *o, struct ar_pi_model *m,
                               char *err);
void ar_pi_model_free(struct ar_pi_model *m);

/* Site masks and polynomials of a net built with site tensors (masked / autorep
 * mode); both arrays get net->n_sites entries (NULL entries for a plain net). */
void ar_pi_sites_from_net(const struct ar_net *net, const uint8_t **masks, const float **polys);

/* Fold extra public session parameters (e.g. the number of images) into a hash. */
void ar_pi_session_hash(uint8_t out[AR_PI_HASH_BYTES], const struct ar_pi_model *m, const char *params);

/* Index of the first op whose name starts with `prefix`, or -1. */
int ar_pi_find_op(const struct ar_pi_model *m, const char *prefix);

/* Multiply-accumulates of a LINEAR op for one image (0 for other kinds). */
double ar_pi_op_macs(const struct ar_pi_op *op);

#endif
