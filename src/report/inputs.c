/* Readers for the report's inputs: JSONL logs, eval and private-inference JSON,
 * and checkpoint summaries (kept ReLUs per site, channel and pixel). */
#include "report/inputs.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ckpt.h"
#include "nn/net.h"

/* ---------------- helpers ---------------- */

static void copy_str(char *dst, size_t n, const char *src) {
    size_t l = src ? strlen(src) : 0;
    if (l >= n) l = n - 1;
    if (l) memcpy(dst, src, l);
    dst[l] = 0;
}

/* Number, null/absent (NaN; returns 0) or wrong type (returns -1). Booleans read as 0/1. */
static int get_num(json_t *obj, const char *key, double *out) {
    json_t *v = json_object_get(obj, key);
    *out = NAN;
    if (!v || json_is_null(v)) return 0;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1 : 0;
        return 0;
    }
    return -1;
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* ---------------- JSONL log ---------------- */

static const char *const log_names[AR_LF_COUNT] = {
    "lr",       "train_loss",      "train_top1", "val_loss",   "val_top1", "seconds", "images_per_s", "kd_loss",
    "reg_loss", "relu_count_mean", "relu_count", "budget",     "relu_total", "lambda", "projected"};

const char *ar_log_field_name(enum ar_log_field f) { return f < AR_LF_COUNT ? log_names[f] : "?"; }

static int blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static int log_line(struct ar_log_rec *r, const char *path, int line, const char *text, char *err) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) return ar_errf(err, AR_ERR_FORMAT, "%s:%d: not a JSON object (%s)", path, line, je.text);
    int rc = AR_OK;
    if (!json_is_object(j)) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: not a JSON object (%s)", path, line, json_kind(j));
        goto done;
    }
    memset(r, 0, sizeof *r);
    r->line = line;
    json_t *st = json_object_get(j, "stage"), *ep = json_object_get(j, "epoch");
    if (!st || !json_is_string(st)) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: 'stage' is %s", path, line,
                     st ? "not a string" : "missing");
        goto done;
    }
    copy_str(r->stage, sizeof r->stage, json_string_value(st));
    if (!ep || !json_is_integer(ep) || json_integer_value(ep) < 0 || json_integer_value(ep) > 1000000) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: 'epoch' is %s", path, line,
                     ep ? "not an epoch number" : "missing");
        goto done;
    }
    r->epoch = (int)json_integer_value(ep);
    for (int f = 0; f < AR_LF_COUNT; f++) {
        if (get_num(j, log_names[f], &r->v[f])) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: '%s' is not a number", path, line, log_names[f]);
            goto done;
        }
    }
    /* the trainer logs -1 when there is no validation split */
    if (r->v[AR_LF_VAL_LOSS] == -1) r->v[AR_LF_VAL_LOSS] = NAN;
    if (r->v[AR_LF_VAL_TOP1] == -1) r->v[AR_LF_VAL_TOP1] = NAN;
done:
    json_decref(j);
    return rc;
}

int ar_log_read(struct ar_log *lg, const char *path, char *err) {
    memset(lg, 0, sizeof *lg);
    copy_str(lg->path, sizeof lg->path, path);
    FILE *f = fopen(path, "r");
    if (!f) return ar_errf(err, AR_ERR_IO, "%s: cannot open the log (%s)", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = AR_OK, alloc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: not a JSON object (NUL byte)", path, lineno);
            break;
        }
        if (blank(line)) continue;
        if (lg->n == alloc) {
            int na = alloc ? 2 * alloc : 64;
            struct ar_log_rec *r = realloc(lg->rec, (size_t)na * sizeof *r);
            if (!r) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            lg->rec = r;
            alloc = na;
        }
        if ((rc = log_line(&lg->rec[lg->n], path, lineno, line, err))) break;
        lg->n++;
    }
    if (!rc && ferror(f)) rc = ar_errf(err, AR_ERR_IO, "%s: read error (%s)", path, strerror(errno));
    free(line);
    fclose(f);
    if (!rc && lg->n == 0) rc = ar_errf(err, AR_ERR_FORMAT, "%s: no epochs in the log (empty file)", path);
    if (rc) ar_log_free(lg);
    return rc;
}

void ar_log_free(struct ar_log *lg) {
    free(lg->rec);
    lg->rec = NULL;
    lg->n = 0;
}

int ar_log_has(const struct ar_log *lg, enum ar_log_field f) {
    for (int i = 0; i < lg->n; i++)
        if (!isnan(lg->rec[i].v[f])) return 1;
    return 0;
}

/* ---------------- eval JSON ---------------- */

static json_t *load_object(const char *path, char *err, int *rc) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        FILE *f = fopen(path, "r");
        if (!f) {
            *rc = ar_errf(err, AR_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
            return NULL;
        }
        fclose(f);
        *rc = ar_errf(err, AR_ERR_FORMAT, "%s:%d: not JSON (%s)", path, je.line, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        *rc = ar_errf(err, AR_ERR_FORMAT, "%s: not a JSON object (%s)", path, json_kind(j));
        json_decref(j);
        return NULL;
    }
    *rc = AR_OK;
    return j;
}

int ar_eval_read(struct ar_eval *ev, const char *path, char *err) {
    memset(ev, 0, sizeof *ev);
    copy_str(ev->path, sizeof ev->path, path);
    int rc;
    json_t *j = load_object(path, err, &rc);
    if (!j) return rc;
    static const char *const keys[] = {"top1", "loss", "n", "relu_total", "relu_total_baseline"};
    double *dst[] = {&ev->top1, &ev->loss, &ev->n, &ev->relu_total, &ev->relu_total_baseline};
    for (int k = 0; k < 5; k++)
        if (get_num(j, keys[k], dst[k])) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: '%s' is not a number", path, keys[k]);
            goto done;
        }
    if (isnan(ev->top1))
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: 'top1' is missing (expected the output of autorep eval --json)", path);
    else if (ev->top1 < 0 || ev->top1 > 1)
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: 'top1' %g is not in [0, 1]", path, ev->top1);
done:
    json_decref(j);
    return rc;
}

/* ---------------- private-inference JSON ---------------- */

static const char *const pi_names[AR_PI_COUNT] = {
    "n",           "mpc_top1",          "fixed_top1",        "float_top1",          "agree_fixed",
    "relu_count",  "poly_count",        "online_bytes",      "relu_online_bytes",   "poly_online_bytes",
    "linear_online_bytes", "rounds",    "dealer_bytes",      "online_seconds"};
static const char *const pil_names[AR_PIL_COUNT] = {"online_bytes", "relu_online_bytes", "poly_online_bytes",
                                                    "linear_online_bytes", "rounds", "dealer_bytes", "seconds"};

const char *ar_pi_field_name(enum ar_pi_field f) { return f < AR_PI_COUNT ? pi_names[f] : "?"; }
const char *ar_pil_field_name(enum ar_pil_field f) { return f < AR_PIL_COUNT ? pil_names[f] : "?"; }

int ar_pi_read(struct ar_pi *pi, const char *path, char *err) {
    memset(pi, 0, sizeof *pi);
    copy_str(pi->path, sizeof pi->path, path);
    int rc;
    json_t *j = load_object(path, err, &rc);
    if (!j) return rc;
    for (int f = 0; f < AR_PI_COUNT; f++) {
        if (get_num(j, pi_names[f], &pi->v[f]) || pi->v[f] < 0) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: '%s' is not a non-negative number", path, pi_names[f]);
            goto done;
        }
    }
    json_t *m = json_object_get(j, "model");
    if (m && json_is_string(m)) copy_str(pi->model, sizeof pi->model, json_string_value(m));
    json_t *ls = json_object_get(j, "layers");
    if (ls && !json_is_null(ls)) {
        if (!json_is_array(ls)) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: 'layers' is %s, not an array", path, json_kind(ls));
            goto done;
        }
        size_t n = json_array_size(ls);
        if (n) {
            pi->layer = calloc(n, sizeof *pi->layer);
            if (!pi->layer) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
        }
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(ls, i);
            struct ar_pi_layer *L = &pi->layer[i];
            if (!json_is_object(o)) {
                rc = ar_errf(err, AR_ERR_FORMAT, "%s: layers[%zu] is %s, not an object", path, i, json_kind(o));
                goto done;
            }
            json_t *nm = json_object_get(o, "name");
            if (!nm || !json_is_string(nm) || !json_string_value(nm)[0]) {
                rc = ar_errf(err, AR_ERR_FORMAT, "%s: layers[%zu]: 'name' is %s", path, i,
                             nm ? "not a non-empty string" : "missing");
                goto done;
            }
            copy_str(L->name, sizeof L->name, json_string_value(nm));
            for (int f = 0; f < AR_PIL_COUNT; f++) {
                double v;
                if (get_num(o, pil_names[f], &v) || v < 0) {
                    rc = ar_errf(err, AR_ERR_FORMAT, "%s: layers[%zu] (%s): '%s' is not a non-negative number", path,
                                 i, L->name, pil_names[f]);
                    goto done;
                }
                if (!isnan(v)) L->has |= 1u << f;
                L->v[f] = isnan(v) ? 0 : v;
            }
            if (!(L->has & (1u << AR_PIL_ONLINE_BYTES)))
                L->v[AR_PIL_ONLINE_BYTES] = L->v[AR_PIL_RELU_ONLINE_BYTES] + L->v[AR_PIL_POLY_ONLINE_BYTES] +
                                            L->v[AR_PIL_LINEAR_ONLINE_BYTES];
            pi->n_layer++;
        }
    }
    /* bytes and seconds are totals over the n images; the report shows them per image */
    if (pi->v[AR_PI_N] >= 1) {
        const double n = pi->v[AR_PI_N];
        static const int tot[] = {AR_PI_ONLINE_BYTES, AR_PI_RELU_ONLINE_BYTES, AR_PI_POLY_ONLINE_BYTES,
                                  AR_PI_LINEAR_ONLINE_BYTES, AR_PI_DEALER_BYTES, AR_PI_ONLINE_SECONDS};
        for (size_t k = 0; k < sizeof tot / sizeof tot[0]; k++) pi->v[tot[k]] /= n;
        for (int i = 0; i < pi->n_layer; i++)
            for (int f = 0; f < AR_PIL_COUNT; f++)
                if (f != AR_PIL_ROUNDS) pi->layer[i].v[f] /= n;
    }
    if (isnan(pi->v[AR_PI_ONLINE_BYTES]) && pi->n_layer == 0)
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: neither 'online_bytes' nor 'layers' (not a private-inference result)",
                     path);
done:
    if (rc) ar_pi_free(pi);
    json_decref(j);
    return rc;
}

void ar_pi_free(struct ar_pi *pi) {
    free(pi->layer);
    pi->layer = NULL;
    pi->n_layer = 0;
}

/* ---------------- checkpoint summary ---------------- */

static char *dup_or_null(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int ar_ckpt_summary(struct ar_ckpt_sum *s, const char *path, char *err) {
    memset(s, 0, sizeof *s);
    copy_str(s->path, sizeof s->path, path);
    s->budget = NAN;
    struct ar_net net;
    struct ar_st st;
    struct ar_ckpt_open_opts o = {.site_mode = -1};
    int rc = ar_ckpt_open(&net, &st, path, &o, err);
    if (rc) return rc;
    const char *an = ar_st_meta(&st, "autorep.arch_name");
    copy_str(s->arch, sizeof s->arch, an && an[0] ? an : net.cfg_label);
    copy_str(s->set, sizeof s->set, ar_st_meta(&st, "data.set"));
    copy_str(s->sites_mode, sizeof s->sites_mode, ar_site_mode_name(net.site_mode));
    s->relu_total = net.relu_total;
    s->params = ar_net_param_count(&net);
    const char *tj = ar_st_meta(&st, "autorep.train"), *rj = ar_st_meta(&st, "autorep.replace");
    s->train_json = dup_or_null(tj);
    s->replace_json = dup_or_null(rj);
    if ((tj && !s->train_json) || (rj && !s->replace_json)) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    copy_str(s->method, sizeof s->method, "baseline");
    if (rj) {
        json_error_t je;
        json_t *j = json_loads(rj, 0, &je);
        if (!j || !json_is_object(j)) {
            json_decref(j);
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: metadata autorep.replace is not a JSON object", path);
            goto fail;
        }
        json_t *m = json_object_get(j, "method"), *b = json_object_get(j, "base");
        copy_str(s->method, sizeof s->method, m && json_is_string(m) ? json_string_value(m) : "replaced");
        if (b && json_is_string(b)) copy_str(s->base, sizeof s->base, json_string_value(b));
        double bud;
        if (!get_num(j, "budget", &bud)) s->budget = bud;
        json_decref(j);
    }
    const char *bs = ar_st_meta(&st, "autorep.budget");
    if (bs) {
        char *end;
        double v = strtod(bs, &end);
        if (end == bs || *end || !(v >= 0)) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: metadata autorep.budget '%.40s' is not a count", path, bs);
            goto fail;
        }
        s->budget = v;
    }
    s->site = calloc((size_t)(net.n_sites > 0 ? net.n_sites : 1), sizeof *s->site);
    if (!s->site) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    s->n_site = net.n_sites;
    for (int i = 0; i < net.n_sites; i++) {
        const struct ar_site *si = &net.sites[i];
        struct ar_site_sum *d = &s->site[i];
        copy_str(d->name, sizeof d->name, si->name);
        d->c = si->shape.c;
        d->h = si->shape.h;
        d->w = si->shape.w;
        d->numel = si->numel;
        d->kept = si->numel;
        char tn[AR_NAME_LEN + 16];
        snprintf(tn, sizeof tn, "%s.relu_mask", si->name);
        const struct ar_st_tensor *t = ar_st_find(&st, tn);
        if (!t) continue;
        if (t->dtype != AR_DTYPE_U8 || t->numel != si->numel) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' is not U8 with %zu elements", path, tn, si->numel);
            goto fail;
        }
        s->masked = 1;
        const size_t hw = (size_t)d->h * d->w;
        d->chan = calloc((size_t)d->c, sizeof *d->chan);
        d->pix = calloc(hw ? hw : 1, sizeof *d->pix);
        if (!d->chan || !d->pix) {
            rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        const uint8_t *mk = t->data;
        size_t k = 0;
        for (int c = 0; c < d->c; c++)
            for (size_t q = 0; q < hw; q++) {
                unsigned on = mk[(size_t)c * hw + q] != 0;
                d->chan[c] += on;
                d->pix[q] += on;
                k += on;
            }
        d->kept = k;
    }
    for (int i = 0; i < s->n_site; i++) s->relu_kept += s->site[i].kept;
    if (!rj && s->masked) copy_str(s->method, sizeof s->method, "masked");
    ar_net_free(&net);
    ar_st_free(&st);
    return AR_OK;
fail:
    ar_net_free(&net);
    ar_st_free(&st);
    ar_ckpt_sum_free(s);
    return rc;
}

void ar_ckpt_sum_free(struct ar_ckpt_sum *s) {
    for (int i = 0; i < s->n_site; i++) {
        free(s->site[i].chan);
        free(s->site[i].pix);
    }
    free(s->site);
    free(s->train_json);
    free(s->replace_json);
    s->site = NULL;
    s->n_site = 0;
    s->train_json = s->replace_json = NULL;
}
