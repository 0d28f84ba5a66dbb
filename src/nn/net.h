/* The network: layers built from a cfg file, their named tensors, and the planned
 * flat buffers every executor works on.
 *
 * Layers describe (shapes, parameters, inputs); this module plans memory once —
 * parameters, gradients, state, activations, activation gradients and a shared
 * scratch workspace — and runs the float executor (forward/backward). After
 * ar_net_plan() returns, ar_net_forward/ar_net_backward perform no allocation.
 *
 * Tensors are NCHW float32 with the batch first. Every layer produces one output
 * tensor; layer i reads the outputs of its `in` layers (index -1 = network input). */
#ifndef AR_NET_H
#define AR_NET_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "nn/cfg.h"

#define AR_NAME_LEN 96
#define AR_MAX_IN 2

struct ar_shape {
    int c, h, w;
};
static inline size_t ar_shape_numel(struct ar_shape s) { return (size_t)s.c * s.h * s.w; }

/* Layer types. Values are append-only (they may be stored). */
enum ar_layer_type {
    AR_LAYER_CONV = 0,
    AR_LAYER_BATCHNORM = 1,
    AR_LAYER_RELU = 2, /* an activation site */
    AR_LAYER_LINEAR = 3,
    AR_LAYER_MAXPOOL = 4,
    AR_LAYER_AVGPOOL = 5, /* also global average pooling */
    AR_LAYER_ADD = 6,
    AR_LAYER_FLATTEN = 7,
    AR_LAYER_COUNT
};

/* Kinds of named tensors (the checkpoint's contents). */
enum ar_tkind {
    AR_T_PARAM = 0, /* trainable float: lives in params, gradient in grads */
    AR_T_STATE = 1, /* non-trainable float (running statistics, ...): in state */
    AR_T_COUNT = 2, /* int64 counter (BatchNorm num_batches_tracked): in counts */
    AR_T_MASK = 3   /* uint8 (activation-site masks): in masks */
};

struct ar_tensor_info {
    char name[AR_NAME_LEN]; /* PyTorch state_dict name, e.g. "layer1.0.conv1.weight" */
    enum ar_tkind kind;
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t off;    /* element offset into the buffer of its kind */
    int layer;     /* owning layer */
    int group;     /* optimizer group (0 = weights; others defined by the replacement methods) */
    int no_decay;  /* 1: weight decay never applies */
    int optional;  /* 1: may be absent from a checkpoint (keeps its initial value) */
};

struct ar_net;
struct ar_layer;

struct ar_layer_ops {
    const char *name; /* cfg section name */
    /* Read the layer's keys (mark them used). Allocate l->priv. */
    int (*parse)(struct ar_net *net, struct ar_layer *l, struct ar_cfg *cfg, struct ar_cfg_section *s, char *err);
    /* Compute l->out from the input shapes; register named tensors with ar_net_add_tensor. */
    int (*shape)(struct ar_net *net, struct ar_layer *l, char *err);
    /* Called once the batch size is known: create backend objects, report scratch
     * needs through net->ws_need (max), per-layer saved buffers through
     * ar_net_reserve_saved. May be NULL. */
    int (*plan)(struct ar_net *net, struct ar_layer *l, char *err);
    /* Float executor. n <= net->batch images. */
    void (*forward)(struct ar_net *net, struct ar_layer *l, int n);
    void (*backward)(struct ar_net *net, struct ar_layer *l, int n);
    void (*free_priv)(struct ar_layer *l);
    int bwd_needs_in;  /* backward reads the layer's input activations */
    int bwd_needs_out; /* backward reads the layer's output activations */
};

struct ar_layer {
    enum ar_layer_type type;
    const struct ar_layer_ops *ops;
    char name[AR_NAME_LEN];
    int line;                /* cfg line of the section, for messages */
    int in[AR_MAX_IN], n_in; /* producer layer indices; -1 = network input */
    struct ar_shape ishape;  /* shape of in[0] */
    struct ar_shape out;     /* per-image output shape */
    size_t act_off;          /* output: offset into net->act (batch * numel floats) */
    size_t dact_off;         /* output gradient: offset into net->dact */
    size_t saved_off;        /* layer-private saved floats (e.g. BN mean/rstd): into net->saved */
    size_t saved_len;
    int n_consumers;
    int site;   /* activation-site index for AR_LAYER_RELU, else -1 */
    int t_first, t_count; /* this layer's entries in net->tensors */
    int fused; /* planned fusion: 1 = batch norm or add computing the next ReLU too, 2 = that ReLU */
    void *priv; /* per-type description */
};

/* A ReLU call site: the unit AutoReP/SNL replace. */
struct ar_site {
    int layer;
    char name[AR_NAME_LEN];
    struct ar_shape shape;
    size_t numel; /* c*h*w */
};

/* What each activation site carries (decided at build, registered as tensors). */
enum ar_site_mode {
    AR_SITES_PLAIN = 0,   /* plain ReLU, no site tensors */
    AR_SITES_MASKED = 1,  /* <site>.relu_mask (u8 C,H,W) + <site>.poly (C,3: a0,a1,a2) */
    AR_SITES_AUTOREP = 2, /* masked + <site>.alpha (C,H,W, group 1) + DaPa statistics */
    AR_SITES_SNL = 3      /* <site>.alpha (C,H,W, group 1), y = a*relu(x) + (1-a)*x */
};

struct ar_net {
    char *cfg_text; /* the architecture text (stored in checkpoints) */
    char cfg_label[256];
    struct ar_shape in_shape;
    int classes;
    struct ar_layer *layers;
    int n_layers;
    struct ar_site *sites;
    int n_sites;
    enum ar_site_mode site_mode;
    size_t relu_total; /* sum of site numels */

    struct ar_tensor_info *tensors;
    int n_tensors;
    size_t n_params, n_state, n_counts, n_masks;

    /* planned buffers (ar_net_plan) */
    int batch;    /* maximum images per forward */
    int training; /* planned for training: grads, dact, saved activations */
    float *params, *grads, *state;
    int64_t *counts;
    uint8_t *masks;
    float *input; /* (batch, in_shape) */
    float *act;   /* every layer output */
    size_t act_len;
    float *dact; /* activation gradients, liveness-planned */
    size_t dact_len;
    float *saved;
    size_t saved_len;
    void *ws; /* shared scratch for one layer call at a time */
    size_t ws_need;

    /* executor state */
    int train_mode;       /* 1: batch statistics and running-stat updates */
    uint8_t *grad_ready;  /* per layer: output gradient written in this backward pass */
    float bn_momentum, bn_eps;
    float grad_scale; /* multiplies loss gradients (1 / MPI ranks); 1 when alone */
    int sync_bn;      /* batch statistics over all MPI ranks */
    int plan_no_reuse; /* debug/test: give every tensor its own memory */
    int plan_no_fuse;  /* debug/test: do not fuse batch norm / add + ReLU */
    double *prof; /* when non-NULL: per layer, seconds in forward [2i] and backward [2i+1] */

    /* Activation sites: when set (by autorep/), ReLU layers call these instead of a
     * plain ReLU. site_ctx is owned by the replacement method. */
    void (*site_forward)(struct ar_net *net, struct ar_layer *l, int n);
    void (*site_backward)(struct ar_net *net, struct ar_layer *l, int n);
    void *site_ctx;
    void (*site_free)(void *site_ctx); /* called by ar_net_free when set */
};

struct ar_net_opts {
    struct ar_shape in_shape; /* used where the cfg says input = auto */
    int classes;              /* used where the cfg says classes = auto */
    enum ar_site_mode site_mode;
};

/* Limits enforced by ar_net_build (an AR_ERR_ARG naming the layer): values of one
 * layer's output for one image, of all layer outputs for one image, and trainable +
 * state floats (also masks + counters) of the whole network. The largest built-in
 * model (wrn22_8) has 17M parameters and 1.4M ReLUs. */
#define AR_NET_MAX_ACT ((size_t)1 << 28)
#define AR_NET_MAX_ACT_TOTAL ((size_t)1 << 30)
#define AR_NET_MAX_PARAMS ((size_t)1 << 28)

/* Build layers and tensor registry from cfg text. No big buffers yet. */
AR_NODISCARD int ar_net_build(struct ar_net *net, const char *cfg_text, const char *label,
                              const struct ar_net_opts *opts, char *err);
/* Allocate every buffer for at most `batch` images; training != 0 adds gradients. */
AR_NODISCARD int ar_net_plan(struct ar_net *net, int batch, int training, char *err);
void ar_net_free(struct ar_net *net);

/* Deterministic initialisation from a seed: conv Kaiming-normal (fan_out, ReLU gain),
 * linear PyTorch default (uniform ±1/sqrt(fan_in)), BN weight 1 bias 0, running
 * mean 0 var 1. */
void ar_net_init_params(struct ar_net *net, uint64_t seed);

/* Forward n images from net->input (train_mode picks BN behaviour). */
void ar_net_forward(struct ar_net *net, int n);
/* Backward from the logits gradient in ar_net_dlogits(). Writes net->grads. The
 * logits (ar_net_logits) are only valid between the forward and the backward. */
void ar_net_backward(struct ar_net *net, int n);
float *ar_net_logits(const struct ar_net *net);
/* Turn per-layer timing on (allocates the counters) or off. */
AR_NODISCARD int ar_net_profile(struct ar_net *net, int on);
float *ar_net_dlogits(const struct ar_net *net);

/* Helpers for layer implementations. */
int ar_net_add_tensor(struct ar_net *net, struct ar_layer *l, const char *suffix, enum ar_tkind kind, int ndim,
                      const int64_t *shape, char *err);
const struct ar_tensor_info *ar_net_find_tensor(const struct ar_net *net, const char *name);
int ar_net_find_layer(const struct ar_net *net, const char *name);
float *ar_net_layer_input(const struct ar_net *net, const struct ar_layer *l, int k);
/* Input gradient pointer for input k of l (NULL if that input is the network input);
 * *acc says whether to accumulate (another consumer already wrote it). */
float *ar_net_layer_dinput(struct ar_net *net, const struct ar_layer *l, int k, int *acc);
static inline float *ar_net_out(const struct ar_net *net, const struct ar_layer *l) { return net->act + l->act_off; }
static inline float *ar_net_dout(const struct ar_net *net, const struct ar_layer *l) {
    return net->dact + l->dact_off;
}
/* Pointer to a layer's registered tensor by suffix (e.g. "weight"); the tensor must exist. */
float *ar_net_param(const struct ar_net *net, const struct ar_layer *l, const char *suffix);
float *ar_net_grad(const struct ar_net *net, const struct ar_layer *l, const char *suffix);
float *ar_net_statef(const struct ar_net *net, const struct ar_layer *l, const char *suffix);
void *ar_net_tensor_data(const struct ar_net *net, const struct ar_tensor_info *t);

/* Reserve `len` floats of saved per-layer state (e.g. BN batch statistics); called from plan. */
void ar_net_reserve_saved(struct ar_net *net, struct ar_layer *l, size_t len);
static inline float *ar_net_saved(const struct ar_net *net, const struct ar_layer *l) {
    return net->saved + l->saved_off;
}

/* Tell the executors that parameter values changed after a forward pass of an
 * inference-planned net (caches of reordered weights are dropped). */
void ar_net_params_changed(struct ar_net *net);

/* Total parameter count (trainable floats). */
size_t ar_net_param_count(const struct ar_net *net);

/* Registry of layer types (layers/). */
const struct ar_layer_ops *ar_layer_ops_find(const char *section_name, enum ar_layer_type *type);

#endif
