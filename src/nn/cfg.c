/* Strict INI parser for architecture files; see cfg.h for the grammar. */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static char *strip(char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void ar_cfg_free(struct ar_cfg *cfg) {
    if (!cfg) return;
    for (int i = 0; i < cfg->n_sec; i++) {
        struct ar_cfg_section *s = &cfg->sec[i];
        for (int j = 0; j < s->n_kv; j++) {
            free(s->kv[j].key);
            free(s->kv[j].val);
        }
        free(s->kv);
        free(s->name);
    }
    free(cfg->sec);
    cfg->sec = NULL;
    cfg->n_sec = 0;
}

int ar_cfg_parse(struct ar_cfg *cfg, const char *text, const char *label, char *err) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->file, sizeof cfg->file, "%s", label ? label : "<cfg>");
    char *buf = dupstr(text);
    if (!buf) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", cfg->file);
    int rc = AR_OK, line = 0;
    char *save = NULL;
    /* strtok_r would merge empty lines and lose line numbers: walk manually. */
    char *p = buf;
    (void)save;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        char *l = p;
        p = nl ? nl + 1 : NULL;
        /* strip comments: '#' or ';' starts a comment anywhere on the line */
        for (char *c = l; *c; c++)
            if (*c == '#' || *c == ';') {
                *c = 0;
                break;
            }
        l = strip(l);
        if (!*l) continue;
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (!end || end[1] != 0) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: malformed section header '%s'", cfg->file, line, l);
                goto fail;
            }
            *end = 0;
            char *name = strip(l + 1);
            if (!*name) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: empty section name", cfg->file, line);
                goto fail;
            }
            struct ar_cfg_section *ns = realloc(cfg->sec, sizeof *ns * (size_t)(cfg->n_sec + 1));
            if (!ns) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", cfg->file);
                goto fail;
            }
            cfg->sec = ns;
            struct ar_cfg_section *s = &cfg->sec[cfg->n_sec++];
            memset(s, 0, sizeof *s);
            s->line = line;
            s->name = dupstr(name);
            if (!s->name) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", cfg->file);
                goto fail;
            }
            continue;
        }
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = ar_errf(err, AR_ERR_ARG, "%s:%d: expected 'key = value', got '%s'", cfg->file, line, l);
            goto fail;
        }
        if (!cfg->n_sec) {
            rc = ar_errf(err, AR_ERR_ARG, "%s:%d: key outside of any [section]", cfg->file, line);
            goto fail;
        }
        *eq = 0;
        char *key = strip(l), *val = strip(eq + 1);
        if (!*key) {
            rc = ar_errf(err, AR_ERR_ARG, "%s:%d: empty key", cfg->file, line);
            goto fail;
        }
        struct ar_cfg_section *s = &cfg->sec[cfg->n_sec - 1];
        for (int j = 0; j < s->n_kv; j++)
            if (!strcmp(s->kv[j].key, key)) {
                rc = ar_errf(err, AR_ERR_ARG, "%s:%d: duplicate key '%s' in [%s] (first at line %d)", cfg->file,
                             line, key, s->name, s->kv[j].line);
                goto fail;
            }
        struct ar_cfg_kv *nk = realloc(s->kv, sizeof *nk * (size_t)(s->n_kv + 1));
        if (!nk) {
            rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", cfg->file);
            goto fail;
        }
        s->kv = nk;
        struct ar_cfg_kv *kv = &s->kv[s->n_kv++];
        kv->key = dupstr(key);
        kv->val = dupstr(val);
        kv->line = line;
        kv->used = 0;
        if (!kv->key || !kv->val) {
            rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", cfg->file);
            goto fail;
        }
    }
    free(buf);
    return AR_OK;
fail:
    free(buf);
    ar_cfg_free(cfg);
    return rc;
}

static struct ar_cfg_kv *find(struct ar_cfg_section *s, const char *key) {
    for (int j = 0; j < s->n_kv; j++)
        if (!strcmp(s->kv[j].key, key)) {
            s->kv[j].used = 1;
            return &s->kv[j];
        }
    return NULL;
}

const char *ar_cfg_get_str(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key) {
    (void)cfg;
    struct ar_cfg_kv *kv = find(s, key);
    return kv ? kv->val : NULL;
}

int ar_cfg_get_int(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, int *out, int *found, char *err) {
    struct ar_cfg_kv *kv = find(s, key);
    if (found) *found = kv != NULL;
    if (!kv) return AR_OK;
    char *end;
    errno = 0;
    long v = strtol(kv->val, &end, 10);
    if (errno || end == kv->val || *end || v < -1000000000L || v > 1000000000L)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: key '%s' in [%s]: '%s' is not an integer", cfg->file, kv->line, key,
                       s->name, kv->val);
    *out = (int)v;
    return AR_OK;
}

int ar_cfg_get_float(struct ar_cfg *cfg, struct ar_cfg_section *s, const char *key, double *out, int *found,
                     char *err) {
    struct ar_cfg_kv *kv = find(s, key);
    if (found) *found = kv != NULL;
    if (!kv) return AR_OK;
    char *end;
    errno = 0;
    double v = strtod(kv->val, &end);
    if (errno || end == kv->val || *end || v != v)
        return ar_errf(err, AR_ERR_ARG, "%s:%d: key '%s' in [%s]: '%s' is not a number", cfg->file, kv->line, key,
                       s->name, kv->val);
    *out = v;
    return AR_OK;
}

int ar_cfg_check_keys(const struct ar_cfg *cfg, const struct ar_cfg_section *s, char *err) {
    for (int j = 0; j < s->n_kv; j++)
        if (!s->kv[j].used)
            return ar_errf(err, AR_ERR_ARG, "%s:%d: unknown key '%s' in [%s]", cfg->file, s->kv[j].line,
                           s->kv[j].key, s->name);
    return AR_OK;
}
