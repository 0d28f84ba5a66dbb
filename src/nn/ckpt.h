/* Checkpoints: a net's named tensors in a safetensors file that PyTorch can read
 * (state_dict names, F32 parameters and statistics, I64 num_batches_tracked, U8
 * activation masks), plus metadata that makes the file self-contained:
 *   autorep.format     "1"
 *   autorep.arch       the architecture cfg text
 *   autorep.arch_name  e.g. "resnet18_in"
 *   autorep.input      "CxHxW";  autorep.classes  "10"
 *   autorep.sites      "plain" | "masked" | "autorep" | "snl"
 *   data.set, data.mean, data.std (JSON arrays), and free-form JSON strings added by
 *   the caller (autorep.train, autorep.result, ...).
 * Writes are atomic (temporary file + rename), see io/safetensors.h. */
#ifndef AR_CKPT_H
#define AR_CKPT_H

#include "io/safetensors.h"
#include "nn/net.h"

/* Save every tensor of net plus the standard metadata and `extra` (NULL-terminated
 * key, value, key, value, ..., NULL list; may be NULL). */
AR_NODISCARD int ar_ckpt_save(const struct ar_net *net, const char *path, const char *const *extra, char *err);

/* Copy tensors from an open file into a built net. Every tensor of the net must be
 * present with the right dtype and shape unless marked optional; float tensors must
 * be finite. A tensor in the file that the net does not have is an error unless
 * allow_extra. Messages name the file and the tensor. */
AR_NODISCARD int ar_ckpt_load_tensors(struct ar_net *net, const struct ar_st *st, int allow_extra, char *err);

struct ar_ckpt_open_opts {
    const char *arch_text;  /* architecture to use when the file has none (a PyTorch file); may be NULL */
    const char *arch_label; /* its name for messages */
    struct ar_shape in_shape; /* when the file has no autorep.input (c = 0: unknown) */
    int site_mode;            /* -1: from the file; otherwise build with this mode (tensors the
                                 file lacks keep their initial values) */
};

/* Read `path`, build the net it describes and load its tensors. On success the
 * caller owns *net and *st (st keeps the metadata; free both). */
AR_NODISCARD int ar_ckpt_open(struct ar_net *net, struct ar_st *st, const char *path,
                              const struct ar_ckpt_open_opts *o, char *err);

const char *ar_site_mode_name(int mode);
int ar_site_mode_parse(const char *s); /* -1 if unknown */

/* Built-in architectures (the models/ cfg files compiled into the binary). `name` may also
 * be a path to a .cfg file. *text is malloc'd. */
AR_NODISCARD int ar_arch_text(const char *name, char **text, char *err);
/* NULL-terminated list of built-in architecture names. */
const char *const *ar_arch_names(void);

#endif
