/* Shared CLI helpers: data-set table, loading with messages, JSON printing. */
#include "common.h"

#include "args.h"
#include "autorep/replace.h"

#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct set_info sets[] = {
    {"fashion-mnist", 1, 28, 28, 10},
    {"mnist", 1, 28, 28, 10},
    {"cifar10", 3, 32, 32, 10},
    {"cifar100", 3, 32, 32, 100},
};

const struct set_info *cli_set_info(const char *name) {
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (!strcmp(sets[i].name, name)) return &sets[i];
    return NULL;
}

const char *cli_set_names(void) { return "fashion-mnist, mnist, cifar10, cifar100"; }

void cli_err(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cli_verr(cmd, fmt, ap);
    va_end(ap);
}

int cli_load_split(const char *cmd, struct ar_dataset *ds, const char *set, const char *dir, int train) {
    char err[AR_ERR_LEN];
    if (ar_dataset_load(ds, set, dir, train, err)) {
        cli_err(cmd, "%s", err);
        return 1;
    }
    return 0;
}

int cli_open_model(const char *cmd, struct ar_net *net, struct ar_st *st, const char *path, const char *arch,
                   struct ar_shape in_shape, int site_mode) {
    char err[AR_ERR_LEN];
    char *text = NULL;
    if (arch && ar_arch_text(arch, &text, err)) {
        cli_err(cmd, "--arch: %s", err);
        return 1;
    }
    struct ar_ckpt_open_opts o = {.arch_text = text, .arch_label = arch, .in_shape = in_shape, .site_mode = site_mode};
    int rc = ar_ckpt_open(net, st, path, &o, err);
    free(text);
    if (rc == AR_OK && (rc = ar_sites_attach_owned(net, err)) != AR_OK) {
        ar_net_free(net);
        ar_st_free(st);
    }
    if (rc) {
        cli_err(cmd, "%s", err);
        return 1;
    }
    return 0;
}

int cli_model_norm(const char *cmd, const struct ar_st *st, const char *set, const char *dir, struct ar_norm *nm) {
    const char *m = ar_st_meta(st, "data.mean"), *s = ar_st_meta(st, "data.std");
    char err[AR_ERR_LEN];
    if (m && s) {
        if (ar_norm_parse(nm, m, s, err)) {
            cli_err(cmd, "%s: %s", st->path, err);
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "autorep %s: %s has no data.mean/data.std; using the %s training split's statistics\n", cmd,
            st->path, set);
    struct ar_dataset tr;
    if (cli_load_split(cmd, &tr, set, dir, 1)) return 1;
    ar_norm_from_data(nm, &tr);
    ar_dataset_free(&tr);
    return 0;
}

void cli_print_json(json_t *obj) {
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s) printf("%s\n", s);
    free(s);
    json_decref(obj);
}

size_t cli_site_kept(const struct ar_net *net, int site) {
    const struct ar_site *st = &net->sites[site];
    if (net->site_mode != AR_SITES_MASKED && net->site_mode != AR_SITES_AUTOREP) return st->numel;
    char name[AR_NAME_LEN + 16];
    snprintf(name, sizeof name, "%s.relu_mask", st->name);
    const struct ar_tensor_info *t = ar_net_find_tensor(net, name);
    if (!t) return st->numel;
    const uint8_t *m = net->masks + t->off;
    size_t k = 0;
    for (size_t i = 0; i < t->numel; i++) k += m[i];
    return k;
}

int cli_threads(const char *cmd, const char *val) {
    if (!val) return 0;
    char *end;
    long t = strtol(val, &end, 10);
    if (*end || t < 1 || t > 1024) {
        cli_err(cmd, "--threads: '%s' is not a thread count", val);
        return 1;
    }
    omp_set_num_threads((int)t);
    return 0;
}
