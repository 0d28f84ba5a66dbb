/* Strict INI-style parser for network architecture files (the files in models/).
 *
 *   # comment                      ; comment
 *   [section]                      one section per layer, plus [net]
 *   key = value                    value runs to end of line (trailing comments stripped)
 *
 * The parser only splits text into sections and key/value pairs with line numbers;
 * the net builder decides which sections and keys are valid and reports unknown
 * ones as errors with file:line (ar_cfg_check_keys). Nothing defaults silently. */
#ifndef AR_CFG_H
#define AR_CFG_H

#include "core/status.h"

struct ar_cfg_kv {
    char *key, *val;
    int line;
    int used; /* set by getters; unused keys are reported by ar_cfg_check_keys */
};

struct ar_cfg_section {
    char *name; /* text between the brackets */
    int line;
    struct ar_cfg_kv *kv;
    int n_kv;
};

struct ar_cfg {
    char file[256]; /* label used in messages */
    struct ar_cfg_section *sec;
    int n_sec;
};

/* Parse `text` (NUL-terminated). `label` names the source in messages
 * ("models/resnet18_in.cfg"). Errors: a line outside any section, a line without
 * '=', an empty key, a duplicate key within a section, an unterminated '['. */
AR_NODISCARD int ar_cfg_parse(struct ar_cfg *cfg, const char *text, const char *label, char *err);
void ar_cfg_free(struct ar_cfg *cfg);

/* Getters mark the key used. Return AR_OK and set *out, or an AR_ERR_ARG message
 * "file:line: key 'k' in [sec]: ..." when the value does not parse. `found` (may be
 * NULL) tells whether the key exists; when it does not, *out keeps its value. */
const char *ar_cfg_get_str(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key);
AR_NODISCARD int ar_cfg_get_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int *found,
                                char *err);
AR_NODISCARD int ar_cfg_get_float(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, double *out,
                                  int *found, char *err);
/* The first key in the section that no getter asked for is an error. */
AR_NODISCARD int ar_cfg_check_keys(const struct ar_cfg *cfg, const struct ar_cfg_section *s, char *err);

#endif
