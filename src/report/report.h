/* `autorep report`: one self-contained HTML file (inline SVG and CSS, nothing
 * fetched, no scripts) that shows ReLU-replacement runs from their checkpoints,
 * logs and private-inference results:
 *   - a summary table of the runs;
 *   - accuracy vs kept ReLUs across runs (log x, one series per method, baseline line);
 *   - kept ReLUs per site with the baseline count behind them, per run;
 *   - kept-ReLU density per channel and per pixel of one site;
 *   - training / search curves per run (loss parts, accuracy, ReLU count vs budget);
 *   - private-inference cost per layer (online bytes by ReLU/poly/linear, rounds) and totals;
 *   - every number shown, with the file (and line) it came from and the command
 *     reconstructed from the checkpoint metadata.
 *
 * A run is a checkpoint; files beside it share its stem (CKPT without
 * .safetensors): STEM.jsonl (the log; required for runs, optional for the
 * baseline), STEM.eval.json (`autorep eval --json`, optional: the accuracy shown;
 * otherwise the log's validation top-1 of the epoch the replace command kept) and
 * STEM.pi.json (private-inference JSON, optional). */
#ifndef AR_REPORT_REPORT_H
#define AR_REPORT_REPORT_H

#include "report/inputs.h"
#include "report/svg.h"

struct ar_run {
    char label[AR_RP_NAME];
    char stem[AR_RP_PATH];
    struct ar_ckpt_sum ck;
    struct ar_log log;
    int has_log;
    struct ar_eval ev;
    int has_eval;
    int is_base; /* the baseline (reference) */
    /* derived by ar_report_finish */
    int sel;        /* log record of the kept model, or -1 */
    double top1;    /* accuracy shown (NaN: unknown) */
    char top1_src[AR_RP_PATH + 32];
};

struct ar_report {
    struct ar_run *run;
    int n_run;
    int base; /* index of the baseline run, or -1 */
    struct ar_pi *pi;
    int *pi_run; /* run of each pi file, or -1 */
    int n_pi;
    int finished;
};

struct ar_report_opts {
    const char *site;    /* site for the channel-density figure; NULL: most kept ReLUs */
    const char *title;   /* NULL: "ReLU replacement report" */
    const char *command; /* the command line that made the report (shown); may be NULL */
};

void ar_report_init(struct ar_report *r);
void ar_report_free(struct ar_report *r);

/* Add a checkpoint with its side files. baseline != 0: the reference model (its
 * log is optional). Errors name the file (and line). */
AR_NODISCARD int ar_report_add_run(struct ar_report *r, const char *ckpt, int baseline, char *err);
/* Add a private-inference JSON. It belongs to the run whose checkpoint its
 * "model" field names, if any. */
AR_NODISCARD int ar_report_add_pi(struct ar_report *r, const char *path, char *err);
/* After adding: choose the baseline (given, else a plain run, else the "base" of
 * the first replaced run's metadata when that file exists), pick up STEM.pi.json
 * files, check that the runs share one architecture and that logs match their
 * checkpoints, and derive the accuracy of each run. */
AR_NODISCARD int ar_report_finish(struct ar_report *r, char *err);

/* Index of a ReLU site by name, or -1. */
int ar_report_find_site(const struct ar_report *r, const char *name);
/* The default site of the density figure (most kept ReLUs over the replaced runs). */
int ar_report_default_site(const struct ar_report *r);

/* Write the HTML document into out. AR_ERR_ARG for an unknown o->site. */
AR_NODISCARD int ar_report_html(const struct ar_report *r, const struct ar_report_opts *o, struct ar_buf *out,
                                char *err);

/* Write len bytes to path atomically (temporary file in the same directory,
 * fsync, rename); nothing is left at path on failure. */
AR_NODISCARD int ar_report_write_file(const char *path, const char *data, size_t len, char *err);

#endif
