/* `autorep report`: one self-contained HTML file with the figures and tables of
 * one or more ReLU-replacement runs (see src/report/report.h and docs/report.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "report/report.h"

#define MAX_ITEMS 256

int cmd_report(int argc, char **argv) {
    struct cli_opt o[] = {
        {"out", "FILE", "HTML file to write (atomically)", NULL, 0},
        {"baseline", "CKPT", "reference model (default: a plain RUN, else the base named in the runs' metadata)",
         NULL, 0},
        {"pi", "FILE", "private-inference JSON (autorep pi local|cost --json); repeatable", NULL, 0},
        {"site", "NAME", "ReLU site of the per-channel figure (default: the one with most kept ReLUs)", NULL, 0},
        {"title", "TEXT", "report title", NULL, 0},
        {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "report";
    const char *usage = "RUN... [--baseline CKPT] [--pi FILE.json]... [--site NAME] [--title TEXT] --out REPORT.html\n\n"
                        "RUN is a checkpoint X.safetensors. Its log X.jsonl must sit beside it; X.eval.json (autorep\n"
                        "eval --json) and X.pi.json (private inference) are used when present. See docs/report.md.";
    /* split positional RUNs and repeated --pi from the options cli_parse handles */
    const char *runs[MAX_ITEMS], *pis[MAX_ITEMS];
    int n_runs = 0, n_pis = 0;
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    if (!rest) {
        cli_err(cmd, "out of memory");
        return 1;
    }
    int n_rest = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--pi") || !strncmp(a, "--pi=", 5)) {
            const char *v = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                cli_err(cmd, "option --pi needs a value (FILE)");
                free(rest);
                return 2;
            }
            if (n_pis == MAX_ITEMS) {
                cli_err(cmd, "more than %d --pi files", MAX_ITEMS);
                free(rest);
                return 2;
            }
            pis[n_pis++] = v;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            if (n_runs == MAX_ITEMS) {
                cli_err(cmd, "more than %d runs", MAX_ITEMS);
                free(rest);
                return 2;
            }
            runs[n_runs++] = a;
            continue;
        }
        rest[n_rest++] = argv[i];
        /* an option with a value takes the next word, whatever it looks like */
        const struct cli_opt *op = NULL;
        for (const struct cli_opt *q = o; q->name; q++)
            if (!strcmp(q->name, a + 2)) op = q;
        if (op && op->metavar && i + 1 < argc) rest[n_rest++] = argv[++i];
    }
    rest[n_rest] = NULL;
    int r = cli_parse(cmd, usage, o, n_rest, rest, 0);
    free(rest);
    if (r) return r == 1 ? 0 : r;
    const char *out = cli_str(o, "out");
    if (!out || !*out) {
        cli_err(cmd, "--out is required (the HTML file to write)");
        return 2;
    }
    if (n_runs == 0) {
        cli_err(cmd, "give at least one RUN (a checkpoint with its .jsonl log beside it)");
        return 2;
    }
    struct ar_report rep;
    ar_report_init(&rep);
    char err[AR_ERR_LEN];
    int rc = 1;
    struct ar_buf html;
    ar_buf_init(&html);
    const char *base = cli_str(o, "baseline");
    int st = AR_OK;
    for (int i = 0; i < n_runs; i++)
        if ((st = ar_report_add_run(&rep, runs[i], 0, err))) goto fail;
    if (base && (st = ar_report_add_run(&rep, base, 1, err))) goto fail;
    for (int i = 0; i < n_pis; i++)
        if ((st = ar_report_add_pi(&rep, pis[i], err))) goto fail;
    if ((st = ar_report_finish(&rep, err))) goto fail;
    /* the command line, for the footer */
    struct ar_buf cl;
    ar_buf_init(&cl);
    ar_buf_puts(&cl, "autorep");
    for (int i = 1; i < argc; i++) {
        ar_buf_puts(&cl, " ");
        ar_buf_puts(&cl, argv[i]);
    }
    struct ar_report_opts ro = {.site = cli_str(o, "site"), .title = cli_str(o, "title"), .command = cl.p};
    st = ar_report_html(&rep, &ro, &html, err);
    ar_buf_free(&cl);
    if (st) goto fail;
    if ((st = ar_report_write_file(out, html.p, html.len, err))) goto fail;
    fprintf(stderr, "wrote %s (%zu kB): %d run%s, %d private-inference file%s\n", out, (html.len + 999) / 1000,
            rep.n_run, rep.n_run == 1 ? "" : "s", rep.n_pi, rep.n_pi == 1 ? "" : "s");
    rc = 0;
    goto done;
fail:
    cli_err(cmd, "%s", err);
    rc = st == AR_ERR_ARG ? 2 : 1;
done:
    ar_buf_free(&html);
    ar_report_free(&rep);
    return rc;
}
