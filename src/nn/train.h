/* The training loop (epochs of shuffled, augmented mini-batches; optimizer;
 * schedule; validation; progress; JSONL log; atomic per-epoch checkpoints; exact
 * resume) and evaluation. Replacement methods (autorep/) plug in through hooks. */
#ifndef AR_TRAIN_H
#define AR_TRAIN_H

#include <stdint.h>

#include "io/data.h"
#include "nn/net.h"
#include "nn/optim.h"

#define AR_MAX_CH 16

/* Per-channel input normalisation, stored in checkpoints (data.mean / data.std). */
struct ar_norm {
    int c;
    float mean[AR_MAX_CH], std[AR_MAX_CH];
};

/* Hooks for methods that change the step (all optional). */
struct ar_train_hooks {
    void *ctx;
    /* Before each training forward (e.g. hysteresis update). */
    void (*before_forward)(void *ctx, struct ar_net *net);
    /* After the loss gradient is in ar_net_dlogits: add extra terms (e.g. distillation
     * from a teacher on the same input, net->input). Returns the extra loss; parts[0..3]
     * receive named components for the log (see part_names). */
    double (*extra_loss)(void *ctx, struct ar_net *net, const int32_t *labels, int n, double *parts);
    const char *part_names[4];
    /* After backward, before the optimizer (e.g. gate gradients, budget term). */
    void (*after_backward)(void *ctx, struct ar_net *net);
    /* After the optimizer step. */
    void (*after_step)(void *ctx, struct ar_net *net);
    /* Before the end-of-epoch validation (e.g. settle the masks that will be saved). */
    void (*before_eval)(void *ctx, struct ar_net *net);
    /* Write the checkpoint (instead of the plain ar_ckpt_save), e.g. an exported model. */
    int (*save)(void *ctx, struct ar_net *net, const char *path, const char *const *meta, char *err);
    /* End of epoch, after validation. Return a mask of AR_EPOCH_* flags. Default
     * (no hook): save every epoch. */
    int (*end_epoch)(void *ctx, struct ar_net *net, int epoch, double val_top1);
    /* Extra JSON members for the epoch log line / progress text (no leading comma). */
    void (*log_fields)(void *ctx, struct ar_net *net, char *buf, size_t len);
    void (*progress_text)(void *ctx, struct ar_net *net, char *buf, size_t len);
    /* Method state to keep across --resume (a JSON text), and its restore. */
    void (*save_state)(void *ctx, char *buf, size_t len);
    int (*load_state)(void *ctx, const char *json, char *err);
};
#define AR_EPOCH_SAVE 1 /* write the checkpoint now */
#define AR_EPOCH_STOP 2 /* stop training after this epoch */

struct ar_train_opts {
    int epochs;                  /* total epochs */
    int batch;                   /* must equal the net's planned batch */
    float lr[AR_OPT_GROUPS];     /* base learning rate per optimizer group */
    int frozen[AR_OPT_GROUPS];   /* groups not trained at all */
    enum ar_optim_kind optim;
    float momentum, wd;
    int nesterov;
    struct ar_sched sched;
    uint64_t seed;
    struct ar_augment aug;
    int max_train, max_test; /* use only the first N samples (0 = all) */
    const char *out;         /* checkpoint path; NULL = do not save */
    const char *log;         /* JSONL log path; NULL = none */
    int log_append;          /* append to the log instead of starting it */
    int resume;              /* continue from the resume file */
    const char *state_path;  /* resume file; NULL = out + ".resume" */
    int progress;            /* 1: progress bar on stderr */
    const char *const *meta; /* extra checkpoint metadata (key, value, ..., NULL) */
    const char *stage;       /* label for log lines ("train", "search", "finetune") */
};

struct ar_train_result {
    int epochs_done; /* epochs completed in total (including those before a resume) */
    int epochs_run;  /* epochs run by this call */
    double train_loss, train_top1, val_loss, val_top1;
    double best_val_top1;
    double seconds, images_per_s;
};

/* Defaults: SGD lr 0.1 momentum 0.9 wd 5e-4, cosine, crop 0 flip 0, seed 1. */
void ar_train_opts_default(struct ar_train_opts *o);

AR_NODISCARD int ar_train_run(struct ar_net *net, const struct ar_dataset *train, const struct ar_dataset *test,
                              const struct ar_norm *norm, const struct ar_train_opts *o,
                              const struct ar_train_hooks *h, struct ar_train_result *res, char *err);

/* Evaluate on up to max_n samples (0 = all) in eval mode; the net must be planned
 * (any batch). Optional per-sample predictions (argmax) into pred. */
AR_NODISCARD int ar_evaluate(struct ar_net *net, const struct ar_dataset *ds, const struct ar_norm *norm, int max_n,
                             double *loss, double *top1, int *pred, char *err);

/* Normalisation from a training set, and to/from checkpoint metadata JSON ("[0.28, 0.3]"). */
void ar_norm_from_data(struct ar_norm *nm, const struct ar_dataset *ds);
void ar_norm_format(const struct ar_norm *nm, int which, char *buf, size_t len); /* which: 0 mean, 1 std */
AR_NODISCARD int ar_norm_parse(struct ar_norm *nm, const char *mean_json, const char *std_json, char *err);

#endif
