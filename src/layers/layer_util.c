/* cfg key helpers for layers and the section-name -> layer-ops table. */
#include "layer_util.h"

#include <string.h>

static int range(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, long v, long lo, long hi,
                 char *err) {
    if (v < lo || v > hi) {
        int line = s->line;
        for (int i = 0; i < s->n_kv; i++)
            if (!strcmp(s->kv[i].key, key)) line = s->kv[i].line;
        return ar_errf(err, AR_ERR_ARG, "%s:%d: key '%s' in [%s]: %ld is outside [%ld, %ld]", cfg->file, line, key,
                       s->name, v, lo, hi);
    }
    return AR_OK;
}

int ar_layer_req_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int lo, int hi,
                     char *err) {
    int found, rc = ar_cfg_get_int(cfg, s, key, out, &found, err);
    if (rc) return rc;
    if (!found)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: [%s] needs key '%s'", cfg->file, s->line, s->name, key);
    return range(cfg, s, key, *out, lo, hi, err);
}

int ar_layer_opt_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int lo, int hi,
                     char *err) {
    int found, rc = ar_cfg_get_int(cfg, s, key, out, &found, err);
    if (rc) return rc;
    return found ? range(cfg, s, key, *out, lo, hi, err) : AR_OK;
}

int ar_layer_opt_float(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, float *out, double lo,
                       double hi, char *err) {
    double v = *out;
    int found, rc = ar_cfg_get_float(cfg, s, key, &v, &found, err);
    if (rc) return rc;
    if (found && (v < lo || v > hi))
        return ar_errf(err, AR_ERR_ARG, "%s: key '%s' in [%s]: %g is outside [%g, %g]", cfg->file, key, s->name, v,
                       lo, hi);
    *out = (float)v;
    return AR_OK;
}

static const struct {
    const char *name;
    enum ar_layer_type type;
    const struct ar_layer_ops *ops;
} table[] = {
    {"conv", AR_LAYER_CONV, &ar_layer_conv_ops},          {"batchnorm", AR_LAYER_BATCHNORM, &ar_layer_batchnorm_ops},
    {"relu", AR_LAYER_RELU, &ar_layer_relu_ops},          {"linear", AR_LAYER_LINEAR, &ar_layer_linear_ops},
    {"maxpool", AR_LAYER_MAXPOOL, &ar_layer_maxpool_ops}, {"avgpool", AR_LAYER_AVGPOOL, &ar_layer_avgpool_ops},
    {"add", AR_LAYER_ADD, &ar_layer_add_ops},             {"flatten", AR_LAYER_FLATTEN, &ar_layer_flatten_ops},
};

const struct ar_layer_ops *ar_layer_ops_find(const char *section_name, enum ar_layer_type *type) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].name, section_name)) {
            if (type) *type = table[i].type;
            return table[i].ops;
        }
    return NULL;
}
