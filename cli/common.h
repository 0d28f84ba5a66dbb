/* Helpers shared by the CLI commands: data-set facts, loading data and models with
 * messages, JSON output. Only the CLI prints and exits. */
#ifndef AR_CLI_COMMON_H
#define AR_CLI_COMMON_H

#include <jansson.h>

#include "io/data.h"
#include "io/safetensors.h"
#include "nn/ckpt.h"
#include "nn/net.h"
#include "nn/train.h"

struct set_info {
    const char *name;
    int c, h, w, classes;
};
/* Known data sets (shapes without reading files); NULL if unknown. */
const struct set_info *cli_set_info(const char *name);
const char *cli_set_names(void);

/* Print "autorep CMD: message" to stderr. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Load one split; prints the error and returns non-zero on failure. */
int cli_load_split(const char *cmd, struct ar_dataset *ds, const char *set, const char *dir, int train);

/* Open a checkpoint (with optional --arch fallback for files without metadata). */
int cli_open_model(const char *cmd, struct ar_net *net, struct ar_st *st, const char *path, const char *arch,
                   struct ar_shape in_shape, int site_mode);

/* Normalisation from a checkpoint's metadata; falls back to the training split's
 * statistics (loading it) when the file has none. */
int cli_model_norm(const char *cmd, const struct ar_st *st, const char *set, const char *dir, struct ar_norm *nm);

/* Print a JSON object on stdout (one line) and release it. */
void cli_print_json(json_t *obj);

/* Kept ReLUs of a site (mask popcount; the full site when the net has no masks). */
size_t cli_site_kept(const struct ar_net *net, int site);

/* Set OpenMP threads from --threads when given. */
int cli_threads(const char *cmd, const char *val);

#endif
