/* Strict option parsing for the CLI (see args.h). */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_verr(const char *cmd, const char *fmt, va_list ap) {
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* one line whatever the arguments hold: control characters (a newline in a file
     * name or option value) are shown as '?' */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    fprintf(stderr, "autorep %s: %s\n", cmd, msg);
}

static void arg_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg_err(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cli_verr(cmd, fmt, ap);
    va_end(ap);
}

struct cli_opt *cli_find(struct cli_opt *opts, const char *name) {
    for (struct cli_opt *o = opts; o->name; o++)
        if (!strcmp(o->name, name)) return o;
    return NULL;
}

void cli_usage(const char *cmd, const char *usage, const struct cli_opt *opts) {
    printf("usage: autorep %s %s\n\noptions:\n", cmd, usage);
    for (const struct cli_opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("  %-26s %s", left, o->help);
        if (o->val && o->metavar) printf(" (default %s)", o->val);
        printf("\n");
    }
}

int cli_parse(const char *cmd, const char *usage, struct cli_opt *opts, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_usage(cmd, usage, opts);
            return 1;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            arg_err(cmd, "unexpected argument '%s' (see autorep %s --help)", a, cmd);
            return 2;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        char key[64];
        size_t kl = eq ? (size_t)(eq - name) : strlen(name);
        if (kl >= sizeof key) kl = sizeof key - 1;
        memcpy(key, name, kl);
        key[kl] = 0;
        struct cli_opt *o = cli_find(opts, key);
        if (!o) {
            arg_err(cmd, "unknown option --%s (see autorep %s --help)", key, cmd);
            return 2;
        }
        if (o->metavar) {
            if (eq) {
                o->val = eq + 1;
            } else {
                if (i + 1 >= argc) {
                    arg_err(cmd, "option --%s needs a value (%s)", key, o->metavar);
                    return 2;
                }
                o->val = argv[++i];
            }
        } else {
            if (eq) {
                arg_err(cmd, "option --%s takes no value", key);
                return 2;
            }
            o->val = "1";
        }
        o->set = 1;
    }
    return 0;
}

const char *cli_str(struct cli_opt *opts, const char *name) {
    struct cli_opt *o = cli_find(opts, name);
    return o ? o->val : NULL;
}

int cli_flag(struct cli_opt *opts, const char *name) {
    struct cli_opt *o = cli_find(opts, name);
    return o && o->set;
}

int cli_int(const char *cmd, struct cli_opt *opts, const char *name, long lo, long hi, long *out) {
    const char *v = cli_str(opts, name);
    if (!v) return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        arg_err(cmd, "--%s: '%s' is not an integer in [%ld, %ld]", name, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_float(const char *cmd, struct cli_opt *opts, const char *name, double lo, double hi, double *out) {
    const char *v = cli_str(opts, name);
    if (!v) return 0;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi) {
        arg_err(cmd, "--%s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}
