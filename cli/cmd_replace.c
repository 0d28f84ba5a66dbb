/* `autorep replace`: ReLU replacement under a budget (AutoReP or SNL) from a
 * trained plain checkpoint. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "autorep/replace.h"
#include "commands.h"
#include "common.h"
#include "nn/dist.h"

/* "12900", "12.9k", "2%" (of total) */
static int parse_budget(const char *v, size_t total, size_t *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x) || x <= 0) return -1;
    if (*end == '%' && !end[1])
        x = x / 100.0 * (double)total;
    else if ((*end == 'k' || *end == 'K') && !end[1])
        x *= 1000.0;
    else if (*end)
        return -1;
    if (x < 1) return -1;
    *out = (size_t)floor(x);
    return 0;
}

int cmd_replace(int argc, char **argv) {
    struct cli_opt o[] = {
        {"model", "CKPT", "trained plain network (the baseline and distillation teacher)", NULL, 0},
        {"budget", "B", "ReLUs to keep: a count, 12.9k, or a percentage like 2%", NULL, 0},
        {"method", "NAME", "autorep | snl", "autorep", 0},
        {"data", "SET", "data set (default: the checkpoint's)", NULL, 0},
        {"data-dir", "DIR", "directory of the data set files", NULL, 0},
        {"epochs", "N", "search epochs", "20", 0},
        {"finetune-epochs", "M", "fine-tuning epochs with masks frozen", "0", 0},
        {"lambda", "L", "AutoReP budget-hinge weight / SNL initial L1 weight", NULL, 0},
        {"threshold", "T", "AutoReP hysteresis threshold", "0.003", 0},
        {"poly", "KIND", "replacement: quad | linear | identity", NULL, 0},
        {"dapa", "MODE", "DaPa fit: faithful (official code's shrunk x^2 term) | exact", "faithful", 0},
        {"scale-x2", "S", "forward scale of the x^2 coefficient (faithful default 0.1)", NULL, 0},
        {"kd-temp", "T", "distillation temperature", "4", 0},
        {"kd-weight", "W", "distillation weight (0 = off)", "1", 0},
        {"lr", "LR", "search learning rate of the weights (Adam)", "1e-3", 0},
        {"lr-gate", "LR", "search learning rate of the gates (Adam; default max(1e-3, 3/steps))", NULL, 0},
        {"ft-lr", "LR", "fine-tuning learning rate (SGD)", "1e-3", 0},
        {"ft-clip-grad", "N", "fine-tuning: clip the global gradient L2 norm to N (0 = off; default 5, snl 0)", NULL, 0},
        {"lookahead", "K", "Lookahead every K steps (0 = off)", "0", 0},
        {"batch", "B", "mini-batch size", "128", 0},
        {"augment", "KIND", "auto | none | crop | flip | crop+flip", "auto", 0},
        {"seed", "S", "random seed", "1", 0},
        {"max-train", "N", "use only the first N training images", "0", 0},
        {"max-test", "N", "validate on the first N test images", "0", 0},
        {"out", "CKPT", "replaced model to write", NULL, 0},
        {"log", "FILE", "JSONL log (default: CKPT with .jsonl)", NULL, 0},
        {"resume", NULL, "continue an interrupted run with the same --out", NULL, 0},
        {"threads", "T", "OpenMP threads", NULL, 0},
        {"sync-bn", NULL, "under mpirun: batch statistics over all ranks", NULL, 0},
        {"quiet", NULL, "no progress bar", NULL, 0},
        {"json", NULL, "print the result as one JSON object", NULL, 0},
        {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "replace";
    int r = cli_parse(cmd, "--model BASE --budget B [--method autorep|snl] --out REP [options]", o, argc, argv, 2);
    if (r) return r == 1 ? 0 : r;
    if (cli_threads(cmd, cli_str(o, "threads"))) return 2;
    const char *model = cli_str(o, "model"), *out = cli_str(o, "out"), *bs = cli_str(o, "budget");
    if (!model || !out || !bs) {
        cli_err(cmd, "--model, --budget and --out are required");
        return 2;
    }
    const char *method = cli_str(o, "method");
    enum ar_method m;
    if (!strcmp(method, "autorep"))
        m = AR_METHOD_AUTOREP;
    else if (!strcmp(method, "snl"))
        m = AR_METHOD_SNL;
    else {
        cli_err(cmd, "--method: '%s' is not autorep or snl", method);
        return 2;
    }
    struct ar_replace_opts ro;
    ar_replace_opts_default(&ro, m);
    long epochs = ro.epochs, ft = 0, la = 0, batch = 128, seed = 1, max_train = 0, max_test = 0;
    double lambda = ro.lambda, thr = ro.threshold, kt = 4, kw = 1, lr = ro.lr, lrg = 0, ftlr = ro.ft_lr,
           s2 = -1, ftclip = ro.ft_clip;
    if (cli_int(cmd, o, "epochs", 0, 100000, &epochs) || cli_int(cmd, o, "finetune-epochs", 0, 100000, &ft) ||
        cli_int(cmd, o, "lookahead", 0, 1000000, &la) || cli_int(cmd, o, "batch", 1, 65536, &batch) ||
        cli_int(cmd, o, "seed", 0, 0x7fffffffL, &seed) || cli_int(cmd, o, "max-train", 0, 1L << 30, &max_train) ||
        cli_int(cmd, o, "max-test", 0, 1L << 30, &max_test) || cli_float(cmd, o, "lambda", 0, 1e9, &lambda) ||
        cli_float(cmd, o, "threshold", 0, 10, &thr) || cli_float(cmd, o, "kd-temp", 1e-3, 1e3, &kt) ||
        cli_float(cmd, o, "kd-weight", 0, 1e3, &kw) || cli_float(cmd, o, "lr", 0, 10, &lr) ||
        cli_float(cmd, o, "lr-gate", 1e-9, 10, &lrg) || cli_float(cmd, o, "ft-lr", 0, 10, &ftlr) ||
        cli_float(cmd, o, "ft-clip-grad", 0, 1e9, &ftclip) ||
        cli_float(cmd, o, "scale-x2", 1e-6, 1e3, &s2))
        return 2;
    if (epochs == 0 && (m == AR_METHOD_AUTOREP || ft == 0)) {
        cli_err(cmd, "--epochs must be at least 1");
        return 2;
    }
    const char *dapa = cli_str(o, "dapa"), *poly = cli_str(o, "poly");
    if (!strcmp(dapa, "exact"))
        ro.dapa = AR_DAPA_EXACT;
    else if (!strcmp(dapa, "faithful"))
        ro.dapa = AR_DAPA_FAITHFUL;
    else {
        cli_err(cmd, "--dapa: '%s' is not exact or faithful", dapa);
        return 2;
    }
    if (poly) {
        if (!strcmp(poly, "quad"))
            ro.poly = AR_POLY_QUAD;
        else if (!strcmp(poly, "linear"))
            ro.poly = AR_POLY_LINEAR;
        else if (!strcmp(poly, "identity"))
            ro.poly = AR_POLY_IDENTITY;
        else {
            cli_err(cmd, "--poly: '%s' is not quad, linear or identity", poly);
            return 2;
        }
        if (m == AR_METHOD_SNL && ro.poly != AR_POLY_IDENTITY) {
            cli_err(cmd, "--poly: SNL replaces ReLUs by the identity only");
            return 2;
        }
    }
    ro.scale_x2 = s2 > 0 ? (float)s2 : ro.dapa == AR_DAPA_FAITHFUL ? 0.1f : 1.0f;
    ro.lambda = lambda;
    ro.threshold = (float)thr;
    ro.kd_temp = (float)kt;
    ro.kd_weight = (float)kw;
    ro.epochs = (int)epochs;
    ro.finetune_epochs = (int)ft;
    ro.lr = (float)lr;
    ro.lr_gate = (float)lrg;
    ro.ft_lr = (float)ftlr;
    ro.ft_clip = (float)ftclip;
    ro.lookahead_k = (int)la;
    ro.batch = (int)batch;
    ro.seed = (uint64_t)seed;
    ro.max_train = (int)max_train;
    ro.max_test = (int)max_test;
    ro.progress = !cli_flag(o, "quiet") && ar_dist_rank() == 0;
    ro.sync_bn = cli_flag(o, "sync-bn");
    ro.resume = cli_flag(o, "resume");

    /* read the baseline once for its ReLU total, data set and architecture name */
    struct ar_net base;
    struct ar_st st;
    if (cli_open_model(cmd, &base, &st, model, NULL, (struct ar_shape){0, 0, 0}, AR_SITES_PLAIN)) return 1;
    size_t total = base.relu_total;
    if (parse_budget(bs, total, &ro.budget)) {
        cli_err(cmd, "--budget: '%s' is not a positive count (e.g. 12900, 12.9k or 2%%)", bs);
        ar_net_free(&base);
        ar_st_free(&st);
        return 2;
    }
    if (ro.budget >= total) {
        cli_err(cmd, "--budget %zu is not below the %zu ReLUs of %s", ro.budget, total, model);
        ar_net_free(&base);
        ar_st_free(&st);
        return 2;
    }
    const char *set = cli_str(o, "data");
    char setbuf[64] = "fashion-mnist", archbuf[128] = "", mean[256] = "", stdv[256] = "";
    if (!set && ar_st_meta(&st, "data.set")) snprintf(setbuf, sizeof setbuf, "%s", ar_st_meta(&st, "data.set"));
    if (!set) set = setbuf;
    if (ar_st_meta(&st, "autorep.arch_name"))
        snprintf(archbuf, sizeof archbuf, "%s", ar_st_meta(&st, "autorep.arch_name"));
    if (ar_st_meta(&st, "data.mean")) snprintf(mean, sizeof mean, "%s", ar_st_meta(&st, "data.mean"));
    if (ar_st_meta(&st, "data.std")) snprintf(stdv, sizeof stdv, "%s", ar_st_meta(&st, "data.std"));
    ar_net_free(&base);
    ar_st_free(&st);

    const char *dir = cli_str(o, "data-dir");
    struct ar_dataset tr, te;
    if (cli_load_split(cmd, &tr, set, dir, 1)) return 1;
    if (cli_load_split(cmd, &te, set, dir, 0)) {
        ar_dataset_free(&tr);
        return 1;
    }
    int rc = 1;
    if (cli_parse_augment(cmd, cli_str(o, "augment"), &tr, &ro.aug)) goto done;
    char logbuf[4096];
    const char *logp = cli_str(o, "log");
    if (!logp) {
        cli_default_log(out, logbuf, sizeof logbuf);
        logp = logbuf;
    }
    ro.out = out;
    ro.log = logp;
    if (cli_ensure_parent_dir(out) || cli_ensure_parent_dir(logp)) {
        cli_err(cmd, "cannot create the directory of %s: %s", out, strerror(errno));
        goto done;
    }
    char settings[1024], budget[32];
    snprintf(budget, sizeof budget, "%zu", ro.budget);
    snprintf(settings, sizeof settings,
             "{\"method\": \"%s\", \"budget\": %zu, \"relu_total\": %zu, \"epochs\": %ld, \"finetune_epochs\": %ld, "
             "\"lambda\": %g, \"threshold\": %g, \"poly\": \"%s\", \"dapa\": \"%s\", \"scale_x2\": %g, "
             "\"kd_temp\": %g, \"kd_weight\": %g, \"lr\": %g, \"lr_gate\": %g, \"ft_lr\": %g, \"ft_clip_grad\": %g, "
             "\"lookahead\": %ld, "
             "\"batch\": %ld, \"seed\": %ld, \"base\": \"%s\"}",
             method, ro.budget, total, epochs, ft, lambda, thr,
             ro.poly == AR_POLY_QUAD ? "quad" : ro.poly == AR_POLY_LINEAR ? "linear" : "identity", dapa,
             (double)ro.scale_x2, kt, kw, lr, lrg, ftlr, ftclip, la, batch, seed, model);
    const char *meta[] = {"autorep.arch_name", archbuf, "data.set", set,        "data.mean",        mean,
                          "data.std",          stdv,    "autorep.replace", settings, "autorep.budget", budget,
                          NULL};
    ro.meta = meta;
    {
        int n = ro.max_train > 0 && ro.max_train < tr.n ? ro.max_train : tr.n;
        long steps = (long)(n / ro.batch) * ro.epochs;
        if (m == AR_METHOD_AUTOREP && steps < 1500 && ar_dist_rank() == 0 && ro.progress)
            fprintf(stderr,
                    "note: only %ld search steps; AutoReP's gates move together under the budget term and short "
                    "searches can overshoot far below the budget: more --epochs (or a smaller --batch) help\n",
                    steps);
    }
    if (ro.progress)
        fprintf(stderr, "replacing ReLUs of %s with %s: budget %zu of %zu (%.2f%%), %d search + %d fine-tune epochs\n",
                model, method, ro.budget, total, 100.0 * (double)ro.budget / (double)total, ro.epochs,
                ro.finetune_epochs);
    struct ar_replace_result res;
    char err[AR_ERR_LEN];
    int st_rc = ar_replace_run(model, &tr, &te, &ro, &res, err);
    if (st_rc) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    if (cli_flag(o, "json") && ar_dist_rank() == 0) {
        json_t *j = json_object();
        json_object_set_new(j, "method", json_string(method));
        json_object_set_new(j, "out", json_string(out));
        json_object_set_new(j, "budget", json_integer((json_int_t)ro.budget));
        json_object_set_new(j, "relu_count", json_integer((json_int_t)res.relu_count));
        json_object_set_new(j, "relu_total_baseline", json_integer((json_int_t)res.relu_total));
        json_object_set_new(j, "top1", json_real(res.top1));
        json_object_set_new(j, "loss", json_real(res.loss));
        json_object_set_new(j, "base_top1", json_real(res.base_top1));
        json_object_set_new(j, "selected_epoch", json_integer(res.selected_epoch));
        json_object_set_new(j, "search_epochs_run", json_integer(res.search_epochs_run));
        json_object_set_new(j, "seconds", json_real(res.seconds));
        cli_print_json(j);
    }
    if (ar_dist_rank() == 0)
        fprintf(stderr,
            "done in %.0f s: %zu of %zu ReLUs kept (budget %zu); top-1 %.2f%% (baseline %.2f%%); model %s, log %s\n",
            res.seconds, res.relu_count, res.relu_total, ro.budget, 100 * res.top1, 100 * res.base_top1, out, logp);
    rc = 0;
done:
    ar_dataset_free(&tr);
    ar_dataset_free(&te);
    return rc;
}
