/* Command-line option tables for the autorep subcommands: `--name value` and
 * `--flag` options, strict (an unknown option is an error naming it), with typed
 * getters whose errors name the option. */
#ifndef AR_CLI_ARGS_H
#define AR_CLI_ARGS_H

#include <stdarg.h>
#include <stdint.h>

struct cli_opt {
    const char *name;   /* without the leading dashes */
    const char *metavar; /* NULL: a flag without value */
    const char *help;
    const char *val;    /* parsed value (or default) */
    int set;            /* given on the command line */
};

/* Parse argv[first..argc). Returns 0, or prints a one-line error to stderr and
 * returns 2 (exit code). "--help" prints the table and returns 1. */
int cli_parse(const char *cmd, const char *usage, struct cli_opt *opts, int argc, char **argv, int first);
struct cli_opt *cli_find(struct cli_opt *opts, const char *name);
const char *cli_str(struct cli_opt *opts, const char *name); /* value or NULL */
int cli_flag(struct cli_opt *opts, const char *name);
/* Typed getters: print "autorep CMD: --name: 'v' is not ..." and return -1 on error. */
int cli_int(const char *cmd, struct cli_opt *opts, const char *name, long lo, long hi, long *out);
int cli_float(const char *cmd, struct cli_opt *opts, const char *name, double lo, double hi, double *out);
void cli_usage(const char *cmd, const char *usage, const struct cli_opt *opts);
/* Print "autorep CMD: message" as exactly one stderr line: control characters in
 * the formatted message (e.g. a newline inside a file name) are shown as '?'. */
void cli_verr(const char *cmd, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
