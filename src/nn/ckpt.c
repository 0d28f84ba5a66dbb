/* Checkpoint save/load in safetensors (see ckpt.h) and the built-in architecture
 * table. */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/assert.h"

extern const char *const ar_builtin_arch_names[];
extern const char *const ar_builtin_arch_texts[];

static const char *const site_names[] = {"plain", "masked", "autorep", "snl"};

const char *ar_site_mode_name(int mode) { return mode >= 0 && mode < 4 ? site_names[mode] : "?"; }

int ar_site_mode_parse(const char *s) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, site_names[i])) return i;
    return -1;
}

const char *const *ar_arch_names(void) { return ar_builtin_arch_names; }

int ar_arch_text(const char *name, char **text, char *err) {
    *text = NULL;
    for (int i = 0; ar_builtin_arch_names[i]; i++)
        if (!strcmp(ar_builtin_arch_names[i], name)) {
            size_t n = strlen(ar_builtin_arch_texts[i]) + 1;
            *text = malloc(n);
            if (!*text) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
            memcpy(*text, ar_builtin_arch_texts[i], n);
            return AR_OK;
        }
    if (!strchr(name, '/') && !strstr(name, ".cfg")) {
        char list[256] = "";
        for (int i = 0; ar_builtin_arch_names[i]; i++) {
            if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, ar_builtin_arch_names[i], sizeof list - strlen(list) - 1);
        }
        return ar_errf(err, AR_ERR_ARG, "unknown architecture '%s' (built in: %s; or give a path to a .cfg file)",
                       name, list);
    }
    /* O_NONBLOCK + regular-file check: a FIFO or device must not hang or stream forever */
    int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ar_errf(err, AR_ERR_IO, "%s: %s", name, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ar_errf(err, AR_ERR_IO, "%s: not a regular file", name);
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return ar_errf(err, AR_ERR_NOMEM, "%s: %s", name, strerror(errno));
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (len < cap - 1) break;
        if (cap >= (size_t)16 << 20) {
            free(buf);
            fclose(f);
            return ar_errf(err, AR_ERR_FORMAT, "%s: architecture file larger than 16 MiB", name);
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    if (bad) {
        free(buf);
        return ar_errf(err, AR_ERR_IO, "%s: read error", name);
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        free(buf);
        return ar_errf(err, AR_ERR_FORMAT, "%s: not a text file", name);
    }
    *text = buf;
    return AR_OK;
}

static enum ar_dtype kind_dtype(enum ar_tkind k) {
    switch (k) {
    case AR_T_PARAM:
    case AR_T_STATE: return AR_DTYPE_F32;
    case AR_T_COUNT: return AR_DTYPE_I64;
    case AR_T_MASK: return AR_DTYPE_U8;
    }
    return AR_DTYPE_F32;
}

int ar_ckpt_save(const struct ar_net *net, const char *path, const char *const *extra, char *err) {
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    int rc = AR_OK;
    for (int i = 0; i < net->n_tensors; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        AR_TRY(ar_st_writer_add(&w, t->name, kind_dtype(t->kind), t->ndim, t->shape, ar_net_tensor_data(net, t), err));
    }
    char shape[64], classes[32];
    snprintf(shape, sizeof shape, "%dx%dx%d", net->in_shape.c, net->in_shape.h, net->in_shape.w);
    snprintf(classes, sizeof classes, "%d", net->classes);
    AR_TRY(ar_st_writer_meta(&w, "autorep.format", "1", err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.arch", net->cfg_text, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.input", shape, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.classes", classes, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.sites", ar_site_mode_name(net->site_mode), err));
    for (int i = 0; extra && extra[i] && extra[i + 1]; i += 2) AR_TRY(ar_st_writer_meta(&w, extra[i], extra[i + 1], err));
    AR_TRY(ar_st_writer_write(&w, path, err));
fail:
    ar_st_writer_free(&w);
    return rc;
}

int ar_ckpt_load_tensors(struct ar_net *net, const struct ar_st *st, int allow_extra, char *err) {
    for (int i = 0; i < net->n_tensors; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        const struct ar_st_tensor *f = ar_st_find(st, t->name);
        if (!f) {
            if (t->kind == AR_T_COUNT || t->optional) continue;
            return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' is missing (architecture '%s')", st->path, t->name,
                           net->cfg_label);
        }
        const void *data;
        int rc = ar_st_get(st, t->name, kind_dtype(t->kind), t->ndim, t->shape, &data, err);
        if (rc && t->kind == AR_T_COUNT) continue; /* tolerate odd counters */
        if (rc) return rc;
        if (kind_dtype(t->kind) == AR_DTYPE_F32) {
            const float *x = data;
            for (size_t j = 0; j < t->numel; j++)
                if (!isfinite(x[j]))
                    return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' contains %s at element %zu", st->path,
                                   t->name, isnan(x[j]) ? "NaN" : "Inf", j);
        }
        if (t->kind == AR_T_MASK) {
            const uint8_t *m = data;
            for (size_t j = 0; j < t->numel; j++)
                if (m[j] > 1)
                    return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' holds %u at element %zu (masks are 0/1)",
                                   st->path, t->name, m[j], j);
        }
        memcpy(ar_net_tensor_data(net, t), data, ar_dtype_size(kind_dtype(t->kind)) * t->numel);
    }
    if (!allow_extra)
        for (int i = 0; i < st->n_tensors; i++)
            if (!ar_net_find_tensor(net, st->tensors[i].name))
                return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' is not part of architecture '%s'", st->path,
                               st->tensors[i].name, net->cfg_label);
    return AR_OK;
}

static int parse_shape_meta(const char *s, struct ar_shape *out) {
    int c, h, w;
    char tail;
    if (!s || sscanf(s, "%dx%dx%d%c", &c, &h, &w, &tail) != 3 || c < 1 || h < 1 || w < 1) return 0;
    *out = (struct ar_shape){c, h, w};
    return 1;
}

int ar_ckpt_open(struct ar_net *net, struct ar_st *st, const char *path, const struct ar_ckpt_open_opts *o,
                 char *err) {
    memset(net, 0, sizeof *net);
    int rc = ar_st_read(st, path, err);
    if (rc) return rc;
    const char *arch = ar_st_meta(st, "autorep.arch");
    const char *label = path;
    if (!arch) {
        if (!o || !o->arch_text) {
            ar_st_free(st);
            return ar_errf(err, AR_ERR_FORMAT,
                           "%s: no architecture in the file's metadata (autorep.arch); give --arch NAME", path);
        }
        arch = o->arch_text;
        label = o->arch_label ? o->arch_label : "--arch";
    }
    struct ar_net_opts no = {0};
    const char *in = ar_st_meta(st, "autorep.input");
    /* metadata strings live in st: format the message before freeing it */
    if (in && !parse_shape_meta(in, &no.in_shape)) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: metadata autorep.input '%.64s' is not CxHxW", path, in);
        ar_st_free(st);
        return rc;
    }
    if (!in && o) no.in_shape = o->in_shape;
    const char *cl = ar_st_meta(st, "autorep.classes");
    if (cl) {
        char *end;
        long v = strtol(cl, &end, 10);
        if (*end || v < 1 || v > 1000000) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: metadata autorep.classes '%.64s' is not a positive integer", path,
                         cl);
            ar_st_free(st);
            return rc;
        }
        no.classes = (int)v;
    }
    const char *sm = ar_st_meta(st, "autorep.sites");
    no.site_mode = AR_SITES_PLAIN;
    if (sm) {
        int m = ar_site_mode_parse(sm);
        if (m < 0) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: metadata autorep.sites '%.64s' is unknown", path, sm);
            ar_st_free(st);
            return rc;
        }
        no.site_mode = (enum ar_site_mode)m;
    } else {
        for (int i = 0; i < st->n_tensors; i++) {
            size_t n = strlen(st->tensors[i].name);
            if (n > 10 && !strcmp(st->tensors[i].name + n - 10, ".relu_mask")) no.site_mode = AR_SITES_MASKED;
        }
    }
    int file_mode = no.site_mode;
    if (o && o->site_mode >= 0) no.site_mode = (enum ar_site_mode)o->site_mode;
    if (!cl) {
        /* A PyTorch file: learn the class count from the last layer's weight. */
        struct ar_net probe;
        no.classes = 1;
        char perr[AR_ERR_LEN];
        if (ar_net_build(&probe, arch, label, &no, perr) == AR_OK) {
            char wname[AR_NAME_LEN + 8];
            snprintf(wname, sizeof wname, "%s.weight", probe.layers[probe.n_layers - 1].name);
            const struct ar_st_tensor *wt = ar_st_find(st, wname);
            if (wt && wt->ndim == 2) no.classes = (int)wt->shape[0];
            ar_net_free(&probe);
        }
    }
    rc = ar_net_build(net, arch, label, &no, err);
    if (rc) {
        ar_st_free(st);
        return ar_errprefix(err, rc, "%s", path);
    }
    if ((int)no.site_mode != file_mode) {
        /* Switching mode (e.g. a plain baseline opened for a search): site tensors the
         * file lacks keep their initial values. */
        ar_net_init_params(net, 0);
        for (int i = 0; i < net->n_tensors; i++)
            if (net->layers[net->tensors[i].layer].type == AR_LAYER_RELU) net->tensors[i].optional = 1;
    }
    rc = ar_ckpt_load_tensors(net, st, (int)no.site_mode != file_mode, err);
    if (rc) {
        ar_net_free(net);
        ar_st_free(st);
        return rc;
    }
    return AR_OK;
}
