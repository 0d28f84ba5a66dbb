/* libFuzzer target: command-line parsing (cli/args.c: cli_parse and the typed
 * getters) with the real option table of every command, extracted from the cli/ sources at
 * build time (gen_cli_tables.sh). Input: NUL-separated words; the first names the
 * command table ("train", "pi_cost", ...; anything else picks one by its first
 * byte), the others are argv[2..] (at most 64 arguments).
 * Properties (the CLI's error contract): a parse error returns 2 and prints exactly
 * one stderr line starting "autorep CMD: "; success prints nothing to stderr and
 * leaves every given option with a value (flags "1", options a string from argv or
 * the `name=value` form); --help returns 1 without stderr output; cli_int/cli_float
 * on every valued option either succeed silently or print exactly one line. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_tables.h"
#include "fuzz_util.h"

#define MAX_ARGS 64

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    return 0;
}

/* stdout/stderr of the CLI code are captured by swapping the stdio streams (glibc's
 * stdout/stderr are assignable); sanitizer and libFuzzer reports write to fd 2
 * directly and stay visible. */
struct capture {
    FILE *old_out, *old_err, *mem;
    char *buf;
    size_t len;
};

static void cap_begin(struct capture *c) {
    c->buf = NULL;
    c->len = 0;
    c->mem = open_memstream(&c->buf, &c->len);
    if (!c->mem) abort();
    c->old_out = stdout;
    c->old_err = stderr;
    stdout = devnull;
    stderr = c->mem;
}

static void cap_end(struct capture *c) {
    stdout = c->old_out;
    stderr = c->old_err;
    fclose(c->mem);
}

static void check_one_line(const char *buf, size_t len, const char *cmd, const char *what) {
    char want[64];
    snprintf(want, sizeof want, "autorep %s: ", cmd);
    FZ_CHECK(len > 0 && buf[len - 1] == '\n' && memchr(buf, '\n', len) == buf + len - 1,
             "%s: not exactly one stderr line: '%.*s'", what, (int)len, buf);
    FZ_CHECK(strncmp(buf, want, strlen(want)) == 0, "%s: '%.*s' does not start with '%s'", what, (int)len, buf, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    const size_t ncmd = sizeof fz_cmds / sizeof fz_cmds[0];
    /* words: a NUL-terminated copy of the input split at NUL bytes */
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    size_t k = data[0] % ncmd;
    for (size_t i = 0; i < ncmd; i++)
        if (!strcmp(buf, fz_cmds[i].name)) k = i;
    const char *cmd = fz_cmds[k].name;
    const struct cli_opt *tmpl = fz_cmds[k].opts;
    const size_t nopt = fz_cmds[k].n;
    char *argv[MAX_ARGS + 3] = {"autorep", (char *)cmd};
    int argc = 2;
    for (char *p = buf + strlen(buf) + 1; p < buf + size && argc < MAX_ARGS + 2; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;
    struct cli_opt *opts = malloc(nopt * sizeof *opts);
    if (!opts) abort();
    memcpy(opts, tmpl, nopt * sizeof *opts);

    struct capture c;
    cap_begin(&c);
    int r = cli_parse(cmd, "[options]", opts, argc, argv, 2);
    cap_end(&c);
    if (r == 2) {
        check_one_line(c.buf, c.len, cmd, "cli_parse");
    } else {
        FZ_CHECK(c.len == 0, "cli_parse returned %d with stderr '%.*s'", r, (int)c.len, c.buf);
        FZ_CHECK(r == 0 || r == 1, "cli_parse returned %d", r);
    }
    free(c.buf);
    if (r == 0) {
        for (size_t i = 0; i + 1 < nopt; i++) {
            struct cli_opt *o = &opts[i];
            FZ_CHECK(cli_find(opts, o->name) == o, "option %s", o->name);
            if (!o->set) {
                FZ_CHECK(o->val == tmpl[i].val, "unset option %s changed", o->name);
                continue;
            }
            FZ_CHECK(o->val != NULL, "option %s set without a value", o->name);
            if (!o->metavar) FZ_CHECK(strcmp(o->val, "1") == 0 && cli_flag(opts, o->name), "flag %s", o->name);
            int inside = 0;
            for (int a = 2; a < argc; a++)
                inside |= o->val >= argv[a] && o->val <= argv[a] + strlen(argv[a]);
            if (o->metavar) FZ_CHECK(inside, "value of %s does not come from argv", o->name);
            if (!o->metavar) continue;
            long lv;
            double dv;
            cap_begin(&c);
            int ri = cli_int(cmd, opts, o->name, LONG_MIN, LONG_MAX, &lv);
            cap_end(&c);
            if (ri) check_one_line(c.buf, c.len, cmd, "cli_int");
            else FZ_CHECK(c.len == 0, "cli_int printed on success");
            free(c.buf);
            cap_begin(&c);
            int rf = cli_float(cmd, opts, o->name, -1e300, 1e300, &dv);
            cap_end(&c);
            if (rf) check_one_line(c.buf, c.len, cmd, "cli_float");
            else FZ_CHECK(c.len == 0, "cli_float printed on success");
            free(c.buf);
        }
    }
    free(opts);
    free(buf);
    return 0;
}
