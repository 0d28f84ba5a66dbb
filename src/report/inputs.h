/* Inputs of `autorep report`: the JSONL logs of `autorep train` / `autorep
 * replace`, the JSON of `autorep eval --json` and of the private-inference
 * commands (`autorep pi local|cost --json`), and a summary of a checkpoint (its
 * metadata and, per ReLU site, the kept ReLUs per channel and per pixel).
 *
 * Readers are tolerant of extra fields and strict about the fields they use: a
 * field of the wrong type is an error naming the file, the line (JSONL) and the
 * field. Missing optional fields read as NaN (checked with the `has` masks). */
#ifndef AR_REPORT_INPUTS_H
#define AR_REPORT_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "io/safetensors.h"

#define AR_RP_PATH 1024
#define AR_RP_NAME 96

/* ---- JSONL training / search log ---- */

enum ar_log_field {
    AR_LF_LR = 0,
    AR_LF_TRAIN_LOSS,
    AR_LF_TRAIN_TOP1,
    AR_LF_VAL_LOSS,
    AR_LF_VAL_TOP1,
    AR_LF_SECONDS,
    AR_LF_IMAGES_PER_S,
    AR_LF_KD_LOSS,
    AR_LF_REG_LOSS,
    AR_LF_RELU_COUNT_MEAN,
    AR_LF_RELU_COUNT,
    AR_LF_BUDGET,
    AR_LF_RELU_TOTAL,
    AR_LF_LAMBDA,
    AR_LF_PROJECTED,
    AR_LF_COUNT
};

/* JSON key of a log field ("val_top1", ...). */
const char *ar_log_field_name(enum ar_log_field f);

struct ar_log_rec {
    char stage[16]; /* "train" | "search" | "finetune" (other words are kept as given) */
    int epoch;      /* as logged (restarts at 1 in each stage) */
    int line;       /* line number in the file */
    double v[AR_LF_COUNT]; /* NaN when absent (val_* of -1 = no validation also reads as NaN) */
};

struct ar_log {
    char path[AR_RP_PATH];
    struct ar_log_rec *rec;
    int n;
};

/* Read a whole log. Blank lines are skipped; every other line must be a JSON
 * object with a string "stage" and an integer "epoch". Errors: "PATH: cannot
 * open ...", "PATH:LINE: not a JSON object (...)", "PATH:LINE: 'val_top1' is not
 * a number", "PATH: no epochs". */
AR_NODISCARD int ar_log_read(struct ar_log *lg, const char *path, char *err);
void ar_log_free(struct ar_log *lg);
/* 1 when any record has field f. */
int ar_log_has(const struct ar_log *lg, enum ar_log_field f);

/* ---- autorep eval --json ---- */

struct ar_eval {
    char path[AR_RP_PATH];
    double top1, loss, n, relu_total, relu_total_baseline; /* NaN when absent */
};
/* "top1" is required; the others are optional numbers. */
AR_NODISCARD int ar_eval_read(struct ar_eval *ev, const char *path, char *err);

/* ---- private-inference JSON ---- */

enum ar_pi_field {
    AR_PI_N = 0,
    AR_PI_MPC_TOP1,
    AR_PI_FIXED_TOP1,
    AR_PI_FLOAT_TOP1,
    AR_PI_AGREE_FIXED,
    AR_PI_RELU_COUNT,
    AR_PI_POLY_COUNT,
    AR_PI_ONLINE_BYTES,
    AR_PI_RELU_ONLINE_BYTES,
    AR_PI_POLY_ONLINE_BYTES,
    AR_PI_LINEAR_ONLINE_BYTES,
    AR_PI_ROUNDS,
    AR_PI_DEALER_BYTES,
    AR_PI_ONLINE_SECONDS,
    AR_PI_COUNT
};
const char *ar_pi_field_name(enum ar_pi_field f);

enum ar_pil_field {
    AR_PIL_ONLINE_BYTES = 0,
    AR_PIL_RELU_ONLINE_BYTES,
    AR_PIL_POLY_ONLINE_BYTES,
    AR_PIL_LINEAR_ONLINE_BYTES,
    AR_PIL_ROUNDS,
    AR_PIL_DEALER_BYTES,
    AR_PIL_SECONDS,
    AR_PIL_COUNT
};
const char *ar_pil_field_name(enum ar_pil_field f);

struct ar_pi_layer {
    char name[AR_RP_NAME];
    double v[AR_PIL_COUNT]; /* missing = 0; online_bytes missing = sum of the parts */
    unsigned has;           /* bit f: field f was present */
};

struct ar_pi {
    char path[AR_RP_PATH];
    char model[AR_RP_PATH]; /* "model" field when present */
    double v[AR_PI_COUNT];  /* NaN when absent */
    struct ar_pi_layer *layer;
    int n_layer;
};

/* Read a private-inference result: a JSON object whose numeric fields are
 * optional but must be non-negative numbers when present, with an optional
 * "layers" array of objects that each have a string "name". At least
 * "online_bytes" or a non-empty "layers" is required. */
AR_NODISCARD int ar_pi_read(struct ar_pi *pi, const char *path, char *err);
void ar_pi_free(struct ar_pi *pi);

/* ---- checkpoint summary ---- */

struct ar_site_sum {
    char name[AR_RP_NAME];
    int c, h, w;
    size_t numel; /* baseline ReLUs of the site */
    size_t kept;  /* ReLUs kept (numel when the model has no masks) */
    uint32_t *chan; /* kept per channel (c); NULL without a mask */
    uint32_t *pix;  /* kept per pixel over channels (h*w); NULL without a mask */
};

struct ar_ckpt_sum {
    char path[AR_RP_PATH];
    char arch[128], set[64], sites_mode[16];
    char method[16];     /* "autorep" / "snl" (autorep.replace), else "baseline" (plain) or "masked" */
    char *train_json;    /* autorep.train metadata or NULL */
    char *replace_json;  /* autorep.replace metadata or NULL */
    char base[AR_RP_PATH]; /* "base" of autorep.replace ("" when absent) */
    double budget;       /* autorep.budget (or the replace settings' budget); NaN when absent */
    int masked;          /* the file has relu masks */
    size_t relu_total, relu_kept, params;
    struct ar_site_sum *site;
    int n_site;
};

/* Open a checkpoint (any autorep checkpoint; a file without metadata fails with
 * the loader's message), count kept ReLUs per site, channel and pixel, and copy
 * the metadata the report shows. */
AR_NODISCARD int ar_ckpt_summary(struct ar_ckpt_sum *s, const char *path, char *err);
void ar_ckpt_sum_free(struct ar_ckpt_sum *s);

#endif
