/* Public model files (public.h): compile a checkpoint's net, export its public
 * part (architecture, masks, coefficients, fixed-point settings, normalisation),
 * and load such a file back into a weight-less compiled model, hash-checked. */
#include "pi/public.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ckpt.h"

void ar_pi_hash_hex(char *out, const uint8_t *hash) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < AR_PI_HASH_BYTES; i++) {
        out[2 * i] = hx[hash[i] >> 4];
        out[2 * i + 1] = hx[hash[i] & 15];
    }
    out[2 * AR_PI_HASH_BYTES] = 0;
}

int ar_pi_compile_net(const struct ar_net *net, int frac_bits, int with_weights, struct ar_pi_model *m, char *err) {
    memset(m, 0, sizeof *m);
    if (net->site_mode != AR_SITES_PLAIN && net->site_mode != AR_SITES_MASKED)
        return ar_errf(err, AR_ERR_ARG,
                       "%s: sites are in '%s' mode; secure inference needs a plain or masked model (autorep replace "
                       "writes one)",
                       net->cfg_label, ar_site_mode_name(net->site_mode));
    const uint8_t **masks = calloc((size_t)net->n_sites + 1, sizeof *masks);
    const float **polys = calloc((size_t)net->n_sites + 1, sizeof *polys);
    if (!masks || !polys) {
        free(masks);
        free(polys);
        return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    }
    ar_pi_sites_from_net(net, masks, polys);
    struct ar_pi_compile_opts o = {frac_bits, with_weights, masks, polys};
    int rc = ar_pi_compile(net, &o, m, err);
    free(masks);
    free(polys);
    return rc;
}

int ar_pi_public_save(const struct ar_net *net, int frac_bits, const struct ar_pi_public_info *info, const char *path,
                      char *err) {
    struct ar_pi_model m;
    int rc = ar_pi_compile_net(net, frac_bits, 0, &m, err);
    if (rc) return rc;
    char buf[64], hex[2 * AR_PI_HASH_BYTES + 1];
    ar_pi_hash_hex(hex, m.hash);
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    AR_TRY(ar_st_writer_meta(&w, "autorep.public", "1", err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.arch", net->cfg_text, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.arch_name", info && info->arch_name[0] ? info->arch_name : net->cfg_label,
                             err));
    snprintf(buf, sizeof buf, "%dx%dx%d", net->in_shape.c, net->in_shape.h, net->in_shape.w);
    AR_TRY(ar_st_writer_meta(&w, "autorep.input", buf, err));
    snprintf(buf, sizeof buf, "%d", net->classes);
    AR_TRY(ar_st_writer_meta(&w, "autorep.classes", buf, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.sites", net->site_mode == AR_SITES_MASKED ? "masked" : "plain", err));
    snprintf(buf, sizeof buf, "%d", frac_bits);
    AR_TRY(ar_st_writer_meta(&w, "pi.frac_bits", buf, err));
    AR_TRY(ar_st_writer_meta(&w, "pi.hash", hex, err));
    if (info && info->data_set[0]) AR_TRY(ar_st_writer_meta(&w, "data.set", info->data_set, err));
    if (info && info->mean[0] && info->std[0]) {
        AR_TRY(ar_st_writer_meta(&w, "data.mean", info->mean, err));
        AR_TRY(ar_st_writer_meta(&w, "data.std", info->std, err));
    }
    if (net->site_mode == AR_SITES_MASKED) {
        for (int s = 0; s < net->n_sites; s++) {
            char name[AR_NAME_LEN + 16];
            snprintf(name, sizeof name, "%s.relu_mask", net->sites[s].name);
            const struct ar_tensor_info *tm = ar_net_find_tensor(net, name);
            snprintf(name, sizeof name, "%s.poly", net->sites[s].name);
            const struct ar_tensor_info *tp = ar_net_find_tensor(net, name);
            if (!tm || !tp) {
                rc = ar_errf(err, AR_ERR_ARG, "site %s has no mask or polynomial", net->sites[s].name);
                goto fail;
            }
            AR_TRY(ar_st_writer_add(&w, tm->name, AR_DTYPE_U8, tm->ndim, tm->shape, ar_net_tensor_data(net, tm),
                                    err));
            AR_TRY(ar_st_writer_add(&w, tp->name, AR_DTYPE_F32, tp->ndim, tp->shape, ar_net_tensor_data(net, tp),
                                    err));
        }
    }
    AR_TRY(ar_st_writer_write(&w, path, err));
fail:
    ar_st_writer_free(&w);
    ar_pi_model_free(&m);
    return rc;
}

static int parse_int(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int ar_pi_public_load(const char *path, struct ar_pi_model *m, struct ar_pi_public_info *info, char *err) {
    memset(m, 0, sizeof *m);
    struct ar_st st;
    struct ar_net net;
    memset(&net, 0, sizeof net);
    const uint8_t **masks = NULL;
    const float **polys = NULL;
    int rc = ar_st_read(&st, path, err);
    if (rc) return rc;
    const char *pub = ar_st_meta(&st, "autorep.public"), *arch = ar_st_meta(&st, "autorep.arch");
    const char *in = ar_st_meta(&st, "autorep.input"), *sites = ar_st_meta(&st, "autorep.sites");
    const char *hash = ar_st_meta(&st, "pi.hash");
    long classes = 0, fb = 0;
    struct ar_net_opts no = {0};
    if (!pub || strcmp(pub, "1") || !arch || !in || !sites || !hash) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: not a public model file (write one with autorep pi export-public)", path);
        goto fail;
    }
    if (sscanf(in, "%dx%dx%d", &no.in_shape.c, &no.in_shape.h, &no.in_shape.w) != 3 ||
        !parse_int(ar_st_meta(&st, "autorep.classes"), 1, 1000000, &classes) ||
        !parse_int(ar_st_meta(&st, "pi.frac_bits"), AR_FIX_MIN_BITS, AR_FIX_MAX_BITS, &fb) ||
        (strcmp(sites, "plain") && strcmp(sites, "masked"))) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: bad metadata (input, classes, pi.frac_bits or sites)", path);
        goto fail;
    }
    no.classes = (int)classes;
    no.site_mode = AR_SITES_PLAIN;
    const char *label = ar_st_meta(&st, "autorep.arch_name");
    if ((rc = ar_net_build(&net, arch, label ? label : path, &no, err))) {
        ar_errprefix(err, rc, "%s", path);
        goto fail;
    }
    masks = calloc((size_t)net.n_sites + 1, sizeof *masks);
    polys = calloc((size_t)net.n_sites + 1, sizeof *polys);
    if (!masks || !polys) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!strcmp(sites, "masked"))
        for (int s = 0; s < net.n_sites; s++) {
            const struct ar_site *si = &net.sites[s];
            char name[AR_NAME_LEN + 16];
            int64_t ms[3] = {si->shape.c, si->shape.h, si->shape.w}, ps[2] = {si->shape.c, 3};
            const void *d;
            snprintf(name, sizeof name, "%s.relu_mask", si->name);
            if ((rc = ar_st_get(&st, name, AR_DTYPE_U8, 3, ms, &d, err))) goto fail;
            masks[s] = d;
            snprintf(name, sizeof name, "%s.poly", si->name);
            if ((rc = ar_st_get(&st, name, AR_DTYPE_F32, 2, ps, &d, err))) goto fail;
            polys[s] = d;
        }
    struct ar_pi_compile_opts o = {(int)fb, 0, masks, polys};
    if ((rc = ar_pi_compile(&net, &o, m, err))) {
        ar_errprefix(err, rc, "%s", path);
        goto fail;
    }
    char hex[2 * AR_PI_HASH_BYTES + 1];
    ar_pi_hash_hex(hex, m->hash);
    if (strcmp(hex, hash)) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: compiled model hash %.16s... differs from the stored %.16s...", path,
                     hex, hash);
        ar_pi_model_free(m);
        goto fail;
    }
    if (info) {
        memset(info, 0, sizeof *info);
        const char *v;
        snprintf(info->arch_name, sizeof info->arch_name, "%s", label ? label : "");
        if ((v = ar_st_meta(&st, "data.set"))) snprintf(info->data_set, sizeof info->data_set, "%s", v);
        const char *mean = ar_st_meta(&st, "data.mean"), *sd = ar_st_meta(&st, "data.std");
        if (mean && sd && strlen(mean) < sizeof info->mean && strlen(sd) < sizeof info->std) {
            snprintf(info->mean, sizeof info->mean, "%s", mean);
            snprintf(info->std, sizeof info->std, "%s", sd);
        }
    }
fail:
    free(masks);
    free(polys);
    ar_net_free(&net);
    ar_st_free(&st);
    return rc;
}
