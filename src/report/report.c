/* `autorep report`: collects runs (checkpoint + side files), derives what the
 * figures need and assembles the self-contained HTML document (see report.h). */
#include "report/report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------- runs and files ---------------- */

void ar_report_init(struct ar_report *r) {
    memset(r, 0, sizeof *r);
    r->base = -1;
}

void ar_report_free(struct ar_report *r) {
    for (int i = 0; i < r->n_run; i++) {
        ar_ckpt_sum_free(&r->run[i].ck);
        ar_log_free(&r->run[i].log);
    }
    for (int i = 0; i < r->n_pi; i++) ar_pi_free(&r->pi[i]);
    free(r->run);
    free(r->pi);
    free(r->pi_run);
    ar_report_init(r);
}

static void copy_str(char *dst, size_t n, const char *src) {
    size_t l = src ? strlen(src) : 0;
    if (l >= n) l = n - 1;
    if (l) memcpy(dst, src, l);
    dst[l] = 0;
}

static void stem_of(const char *path, char *out, size_t n) {
    static const char ext[] = ".safetensors";
    size_t l = strlen(path), el = sizeof ext - 1;
    if (l > el && !strcmp(path + l - el, ext)) l -= el;
    if (l >= n) l = n - 1;
    memcpy(out, path, l);
    out[l] = 0;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb)) return !strcmp(a, b);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void side_path(const char *stem, const char *suffix, char *out, size_t n) {
    size_t l = strlen(stem), s = strlen(suffix);
    if (l + s >= n) l = n - 1 - s;
    memcpy(out, stem, l);
    memcpy(out + l, suffix, s + 1);
}

int ar_report_add_run(struct ar_report *r, const char *ckpt, int baseline, char *err) {
    for (int i = 0; i < r->n_run; i++)
        if (same_file(ckpt, r->run[i].ck.path)) {
            if (baseline) {
                r->run[i].is_base = 1;
                return AR_OK;
            }
            return ar_errf(err, AR_ERR_ARG, "%s: given twice (as %s)", ckpt, r->run[i].ck.path);
        }
    struct ar_run *nr = realloc(r->run, (size_t)(r->n_run + 1) * sizeof *nr);
    if (!nr) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", ckpt);
    r->run = nr;
    struct ar_run *u = &r->run[r->n_run];
    memset(u, 0, sizeof *u);
    u->is_base = baseline != 0;
    u->sel = -1;
    u->top1 = NAN;
    stem_of(ckpt, u->stem, sizeof u->stem);
    copy_str(u->label, sizeof u->label, base_name(u->stem));
    int rc = ar_ckpt_summary(&u->ck, ckpt, err);
    if (rc) return rc;
    char p[AR_RP_PATH + 16];
    side_path(u->stem, ".jsonl", p, sizeof p);
    if (is_file(p) || !baseline) {
        if (!is_file(p)) {
            rc = ar_errf(err, AR_ERR_IO, "%s: cannot open the log of %s (%s)", p, ckpt,
                         errno ? strerror(errno) : "not a file");
            ar_ckpt_sum_free(&u->ck);
            return rc;
        }
        if ((rc = ar_log_read(&u->log, p, err))) {
            ar_ckpt_sum_free(&u->ck);
            return rc;
        }
        u->has_log = 1;
    }
    side_path(u->stem, ".eval.json", p, sizeof p);
    if (is_file(p)) {
        if ((rc = ar_eval_read(&u->ev, p, err))) {
            ar_ckpt_sum_free(&u->ck);
            ar_log_free(&u->log);
            return rc;
        }
        u->has_eval = 1;
    }
    /* two files with one stem name in different directories: show more of the path */
    for (int i = 0; i < r->n_run; i++)
        if (!strcmp(r->run[i].label, u->label)) {
            copy_str(u->label, sizeof u->label, u->stem);
            break;
        }
    r->n_run++;
    return AR_OK;
}

int ar_report_add_pi(struct ar_report *r, const char *path, char *err) {
    for (int i = 0; i < r->n_pi; i++)
        if (same_file(path, r->pi[i].path)) return AR_OK;
    struct ar_pi *np = realloc(r->pi, (size_t)(r->n_pi + 1) * sizeof *np);
    if (!np) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
    r->pi = np;
    int *nq = realloc(r->pi_run, (size_t)(r->n_pi + 1) * sizeof *nq);
    if (!nq) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
    r->pi_run = nq;
    int rc = ar_pi_read(&r->pi[r->n_pi], path, err);
    if (rc) return rc;
    r->pi_run[r->n_pi] = -1;
    r->n_pi++;
    return AR_OK;
}

static int is_replaced(const struct ar_run *u) { return strcmp(u->ck.method, "baseline") != 0; }

/* The log record of the checkpoint that the command kept: the trainer writes every
 * epoch (the last one); replace keeps the best validation epoch whose count is
 * within the budget (SNL: among its fine-tuning epochs, the search being binarised
 * before fine-tuning). */
static void derive(struct ar_run *u) {
    u->sel = -1;
    u->top1 = NAN;
    if (u->has_log) {
        const struct ar_log *lg = &u->log;
        if (!is_replaced(u) || !u->ck.replace_json) {
            for (int i = lg->n - 1; i >= 0 && u->sel < 0; i--)
                if (!isnan(lg->rec[i].v[AR_LF_VAL_TOP1])) u->sel = i;
        } else {
            const int snl = !strcmp(u->ck.method, "snl");
            double best = -1;
            for (int i = 0; i < lg->n; i++) {
                const struct ar_log_rec *q = &lg->rec[i];
                double cnt = q->v[AR_LF_RELU_COUNT], bud = isnan(u->ck.budget) ? q->v[AR_LF_BUDGET] : u->ck.budget;
                if (snl && strcmp(q->stage, "finetune")) continue;
                if (isnan(cnt) || isnan(q->v[AR_LF_VAL_TOP1]) || (!isnan(bud) && cnt > bud)) continue;
                if (q->v[AR_LF_VAL_TOP1] > best) {
                    best = q->v[AR_LF_VAL_TOP1];
                    u->sel = i;
                }
            }
        }
    }
    if (u->has_eval) {
        u->top1 = u->ev.top1;
        snprintf(u->top1_src, sizeof u->top1_src, "%s", u->ev.path);
    } else if (u->sel >= 0) {
        u->top1 = u->log.rec[u->sel].v[AR_LF_VAL_TOP1];
        snprintf(u->top1_src, sizeof u->top1_src, "%s:%d", u->log.path, u->log.rec[u->sel].line);
    } else {
        snprintf(u->top1_src, sizeof u->top1_src, "unknown");
    }
}

static int run_cmp(const struct ar_run *a, const struct ar_run *b) {
    if (a->is_base != b->is_base) return a->is_base ? -1 : 1;
    int m = strcmp(a->ck.method, b->ck.method);
    if (m) return m;
    return (a->ck.relu_kept > b->ck.relu_kept) - (a->ck.relu_kept < b->ck.relu_kept);
}

static int pi_key(const struct ar_report *r, int k) {
    int u = r->pi_run[k];
    if (u < 0) return 1 << 20;
    return r->run[u].is_base ? -1 : u;
}

int ar_report_finish(struct ar_report *r, char *err) {
    int rc;
    if (r->n_run == 0) return ar_errf(err, AR_ERR_ARG, "no runs given");
    r->base = -1;
    for (int i = 0; i < r->n_run && r->base < 0; i++)
        if (r->run[i].is_base) r->base = i;
    for (int i = 0; i < r->n_run && r->base < 0; i++)
        if (!is_replaced(&r->run[i])) r->base = i;
    if (r->base < 0)
        for (int i = 0; i < r->n_run; i++)
            if (r->run[i].ck.base[0] && is_file(r->run[i].ck.base)) {
                char bp[AR_RP_PATH];
                copy_str(bp, sizeof bp, r->run[i].ck.base);
                if ((rc = ar_report_add_run(r, bp, 1, err))) return rc;
                r->base = r->n_run - 1;
                break;
            }
    if (r->base >= 0) r->run[r->base].is_base = 1;
    /* display order: the baseline, then by method and kept ReLUs */
    for (int q = 1; q < r->n_run; q++)
        for (int k = q; k > 0 && run_cmp(&r->run[k], &r->run[k - 1]) < 0; k--) {
            struct ar_run t = r->run[k];
            r->run[k] = r->run[k - 1];
            r->run[k - 1] = t;
        }
    for (int i = 0; i < r->n_run; i++)
        if (r->run[i].is_base) r->base = i;

    /* one architecture */
    const struct ar_ckpt_sum *a = &r->run[0].ck;
    for (int i = 1; i < r->n_run; i++) {
        const struct ar_ckpt_sum *c = &r->run[i].ck;
        int same = c->n_site == a->n_site && c->relu_total == a->relu_total;
        for (int s = 0; same && s < a->n_site; s++)
            same = !strcmp(c->site[s].name, a->site[s].name) && c->site[s].numel == a->site[s].numel;
        if (!same)
            return ar_errf(err, AR_ERR_MISMATCH,
                           "%s: %s with %zu ReLUs in %d sites differs from %s (%s, %zu ReLUs in %d sites); a report "
                           "compares runs of one architecture",
                           c->path, c->arch, c->relu_total, c->n_site, a->path, a->arch, a->relu_total, a->n_site);
    }
    /* logs belong to their checkpoints */
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        if (!u->has_log) continue;
        for (int k = 0; k < u->log.n; k++) {
            const struct ar_log_rec *q = &u->log.rec[k];
            double b = q->v[AR_LF_BUDGET], t = q->v[AR_LF_RELU_TOTAL];
            if (!isnan(b) && !isnan(u->ck.budget) && b != u->ck.budget)
                return ar_errf(err, AR_ERR_MISMATCH, "%s:%d: budget %.0f does not match autorep.budget %.0f of %s",
                               u->log.path, q->line, b, u->ck.budget, u->ck.path);
            if (!isnan(t) && t != (double)u->ck.relu_total)
                return ar_errf(err, AR_ERR_MISMATCH, "%s:%d: relu_total %.0f does not match the %zu ReLUs of %s",
                               u->log.path, q->line, t, u->ck.relu_total, u->ck.path);
        }
    }
    /* private-inference files: "model" field, then STEM.pi.json beside each run */
    for (int k = 0; k < r->n_pi; k++) {
        if (!r->pi[k].model[0]) continue;
        for (int i = 0; i < r->n_run && r->pi_run[k] < 0; i++)
            if (same_file(r->pi[k].model, r->run[i].ck.path)) r->pi_run[k] = i;
    }
    for (int i = 0; i < r->n_run; i++) {
        char p[AR_RP_PATH + 16];
        side_path(r->run[i].stem, ".pi.json", p, sizeof p);
        if (!is_file(p)) continue;
        int found = -1;
        for (int k = 0; k < r->n_pi; k++)
            if (same_file(p, r->pi[k].path)) found = k;
        if (found < 0) {
            if ((rc = ar_report_add_pi(r, p, err))) return rc;
            found = r->n_pi - 1;
        }
        r->pi_run[found] = i;
    }
    /* show the baseline's private-inference file first, then the runs' in order */
    for (int q = 1; q < r->n_pi; q++)
        for (int k = q; k > 0 && pi_key(r, k) < pi_key(r, k - 1); k--) {
            struct ar_pi tp = r->pi[k];
            r->pi[k] = r->pi[k - 1];
            r->pi[k - 1] = tp;
            int tr = r->pi_run[k];
            r->pi_run[k] = r->pi_run[k - 1];
            r->pi_run[k - 1] = tr;
        }
    for (int i = 0; i < r->n_run; i++) derive(&r->run[i]);
    r->finished = 1;
    return AR_OK;
}

int ar_report_find_site(const struct ar_report *r, const char *name) {
    if (!r->n_run) return -1;
    for (int s = 0; s < r->run[0].ck.n_site; s++)
        if (!strcmp(r->run[0].ck.site[s].name, name)) return s;
    return -1;
}

int ar_report_default_site(const struct ar_report *r) {
    if (!r->n_run || !r->run[0].ck.n_site) return -1;
    int best = 0;
    double bv = -1;
    for (int s = 0; s < r->run[0].ck.n_site; s++) {
        double v = 0;
        for (int i = 0; i < r->n_run; i++)
            if (r->run[i].ck.masked) v += (double)r->run[i].ck.site[s].kept;
        if (v > bv) {
            bv = v;
            best = s;
        }
    }
    return best;
}

/* ---------------- presentation helpers ---------------- */

struct ctx {
    const struct ar_report *r;
    const struct ar_report_opts *o;
    struct ar_buf *b;
    int site;
    int fig;
};

static const char *method_color(const char *m) {
    if (!strcmp(m, "autorep")) return AR_C_BLUE;
    if (!strcmp(m, "snl")) return AR_C_VERMILLION;
    if (!strcmp(m, "baseline")) return AR_C_BLACK;
    return AR_C_GREEN;
}

static enum ar_marker method_marker(const char *m) {
    if (!strcmp(m, "autorep")) return AR_MK_CIRCLE;
    if (!strcmp(m, "snl")) return AR_MK_SQUARE;
    if (!strcmp(m, "baseline")) return AR_MK_DIAMOND;
    return AR_MK_TRIANGLE;
}

static const char *method_name(const char *m) {
    if (!strcmp(m, "autorep")) return "AutoReP";
    if (!strcmp(m, "snl")) return "SNL";
    return m;
}

static const char *stage_name(const char *s) {
    if (!strcmp(s, "finetune")) return "fine-tune";
    if (!strcmp(s, "train")) return "training";
    return s;
}

/* 1234567 -> "1,234,567" (prose; tables keep plain numbers) */
static void fmt_group(size_t v, char *buf, size_t n) {
    char t[32];
    int l = snprintf(t, sizeof t, "%zu", v), o = 0;
    for (int i = 0; i < l && (size_t)o + 2 < n; i++) {
        if (i && (l - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = t[i];
    }
    buf[o] = 0;
}

static void fmt_pct(double v, char *buf, size_t n) {
    if (isnan(v))
        snprintf(buf, n, "n/a");
    else
        snprintf(buf, n, "%.2f%%", 100 * v);
}

static void put_g(struct ar_buf *b, double v) {
    char t[40];
    ar_fmt_g(v, t, sizeof t);
    ar_buf_esc(b, t);
}

/* <td>, numeric, right-aligned; `cls` adds a class. */
static void td_num(struct ar_buf *b, double v) {
    ar_buf_puts(b, "<td>");
    if (!isnan(v)) put_g(b, v);
    ar_buf_puts(b, "</td>");
}

static void td_text(struct ar_buf *b, const char *cls, const char *s) {
    if (cls)
        ar_buf_printf(b, "<td class=\"%s\">", cls);
    else
        ar_buf_puts(b, "<td class=\"l\">");
    ar_buf_esc(b, s);
    ar_buf_puts(b, "</td>");
}

static void fig_open(struct ctx *c, const char *cls) {
    if (cls)
        ar_buf_printf(c->b, "<figure class=\"%s\">\n", cls);
    else
        ar_buf_puts(c->b, "<figure>\n");
}

static void fig_close(struct ctx *c, const char *caption) {
    if (caption) {
        ar_buf_puts(c->b, "<figcaption>");
        ar_buf_esc(c->b, caption);
        ar_buf_puts(c->b, "</figcaption>\n");
    }
    ar_buf_puts(c->b, "</figure>\n");
}

static const struct ar_run *base_run(const struct ar_report *r) { return r->base >= 0 ? &r->run[r->base] : NULL; }

/* Shell-quote one word for the reconstructed commands. */
static void put_word(struct ar_buf *b, const char *w) {
    int plain = *w != 0;
    for (const char *s = w; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./%:=+-,@", *s)) plain = 0;
    if (plain) {
        ar_buf_esc(b, w);
        return;
    }
    ar_buf_puts(b, "&#39;");
    for (const char *s = w; *s; s++) {
        if (*s == '\'')
            ar_buf_puts(b, "&#39;\\&#39;&#39;");
        else {
            char one[2] = {*s, 0};
            ar_buf_esc(b, one);
        }
    }
    ar_buf_puts(b, "&#39;");
}

/* ---------------- document head ---------------- */

static const char *const css =
    ":root{--fg:#1d232a;--muted:#5b6670;--rule:#dfe3e8;--accent:#0072B2}\n"
    "*{box-sizing:border-box}\n"
    "html{background:#f3f4f6}\n"
    "body{margin:0;color:var(--fg);font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "'Noto Sans',sans-serif}\n"
    "main{max-width:1320px;margin:0 auto;padding:28px 28px 56px}\n"
    "header h1{font-size:24px;line-height:1.2;margin:0 0 4px;letter-spacing:-0.01em}\n"
    "header p{margin:0;color:var(--muted)}\n"
    "nav{margin:12px 0 0;font-size:13px}\n"
    "nav a{color:var(--accent);text-decoration:none;margin-right:16px}\n"
    "section{background:#fff;border:1px solid var(--rule);border-radius:10px;padding:18px 22px 20px;margin:18px 0;"
    "box-shadow:0 1px 2px rgba(16,24,40,0.04)}\n"
    "h2{font-size:17px;margin:0 0 2px}\n"
    "h3{font-size:14px;margin:16px 0 6px}\n"
    "p.lead{margin:0 0 14px;color:var(--muted);max-width:100ch}\n"
    ".grid{display:grid;gap:16px 24px;align-items:start}\n"
    ".g2{grid-template-columns:repeat(auto-fill,minmax(540px,1fr))}\n"
    ".g3{grid-template-columns:repeat(auto-fill,minmax(380px,1fr))}\n"
    "figure{margin:0;min-width:0}\n"
    "figcaption{font-size:12.5px;color:var(--muted);margin:4px 2px 0;max-width:100ch}\n"
    "svg.plot{display:block;max-width:100%;height:auto}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "table{border-collapse:collapse;font-size:12.5px;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #eceff2;text-align:right;white-space:nowrap}\n"
    "th{font-weight:600;color:#3c4650;background:#f7f8fa}\n"
    "th.l,td.l{text-align:left}\n"
    "td.derived{color:var(--muted)}\n"
    "tr.sel th,tr.sel td{background:#fff3cc}\n"
    "table.summary{font-size:13px}\n"
    "table.summary td,table.summary th{padding:5px 12px}\n"
    "details{margin:10px 0;border:1px solid var(--rule);border-radius:8px;padding:6px 14px}\n"
    "details>summary{cursor:pointer;font-weight:600;padding:2px 0}\n"
    "details[open]>summary{margin-bottom:6px}\n"
    "code,pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace}\n"
    "pre{background:#f7f8fa;border:1px solid #eceff2;border-radius:6px;padding:8px 10px;margin:4px 0 10px;"
    "white-space:pre-wrap;overflow-wrap:anywhere}\n"
    ".tables{display:flex;flex-wrap:wrap;gap:10px 32px;align-items:flex-start}\n"
    ".tb{max-width:100%}\n"
    ".tcap{font-size:12px;color:var(--muted);font-style:italic;margin:6px 0 3px;max-width:70ch;overflow-wrap:anywhere}\n"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:7px;vertical-align:-1px}\n"
    ".note{color:var(--muted);font-style:italic}\n"
    ".cap{font-size:12.5px;color:var(--muted);margin:8px 2px 0;max-width:100ch}\n"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:4px 0 10px;font-size:12.5px}\n"
    "dl.kv dt{color:var(--muted)}\n"
    "dl.kv dd{margin:0;overflow-wrap:anywhere}\n"
    "footer{color:var(--muted);font-size:12px;margin-top:24px}\n"
    "@media print{html{background:#fff}section{box-shadow:none}}\n";

/* ---------------- summary ---------------- */

static void section_summary(struct ctx *c) {
    const struct ar_report *r = c->r;
    const struct ar_run *bs = base_run(r);
    struct ar_buf *b = c->b;
    int any_pi = r->n_pi > 0;
    ar_buf_puts(b, "<section id=\"runs\">\n<h2>Runs</h2>\n<p class=\"lead\">One row per checkpoint. Kept ReLUs are "
                   "counted from the masks in the checkpoint; top-1 comes from ");
    ar_buf_puts(b, "<code>STEM.eval.json</code> when present, else from the log (validation top-1 of the epoch the "
                   "command kept). Grey columns are derived from the others.</p>\n");
    ar_buf_puts(b, "<div class=\"scroll\"><table class=\"summary\">\n<thead><tr><th class=\"l\">run</th>"
                   "<th class=\"l\">method</th><th>budget</th><th>kept ReLUs</th><th>of all</th><th>top-1</th>"
                   "<th>vs baseline</th>");
    if (any_pi) ar_buf_puts(b, "<th>online traffic</th><th>rounds</th>");
    ar_buf_puts(b, "<th class=\"l\">top-1 from</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        char t[64];
        ar_buf_printf(b, "<tr><th class=\"l\"><span class=\"sw\" style=\"background:%s\"></span>",
                      method_color(u->ck.method));
        ar_buf_esc(b, u->label);
        ar_buf_puts(b, "</th>");
        snprintf(t, sizeof t, "%s%s", method_name(u->ck.method), u->is_base && is_replaced(u) ? " (baseline)" : "");
        td_text(b, NULL, t);
        td_num(b, u->ck.budget);
        td_num(b, (double)u->ck.relu_kept);
        snprintf(t, sizeof t, "%.2f%%", 100.0 * (double)u->ck.relu_kept / (double)u->ck.relu_total);
        td_text(b, "derived", t);
        fmt_pct(u->top1, t, sizeof t);
        ar_buf_puts(b, "<td>");
        if (!isnan(u->top1)) ar_buf_esc(b, t);
        ar_buf_puts(b, "</td>");
        if (bs && !u->is_base && !isnan(u->top1) && !isnan(bs->top1)) {
            snprintf(t, sizeof t, "%+.2f pp", 100 * (u->top1 - bs->top1));
            td_text(b, "derived", t);
        } else {
            td_text(b, "derived", "");
        }
        if (any_pi) {
            int k = -1;
            for (int q = 0; q < r->n_pi; q++)
                if (r->pi_run[q] == i) k = q;
            if (k >= 0 && !isnan(r->pi[k].v[AR_PI_ONLINE_BYTES])) {
                ar_fmt_bytes(r->pi[k].v[AR_PI_ONLINE_BYTES], t, sizeof t);
                td_text(b, "", t);
            } else {
                td_text(b, "", "");
            }
            td_num(b, k >= 0 ? r->pi[k].v[AR_PI_ROUNDS] : NAN);
        }
        if (u->has_eval)
            td_text(b, NULL, base_name(u->ev.path));
        else if (u->sel >= 0) {
            snprintf(t, sizeof t, "%.40s:%d", base_name(u->log.path), u->log.rec[u->sel].line);
            td_text(b, NULL, t);
        } else
            td_text(b, NULL, "—");
        ar_buf_puts(b, "</tr>\n");
    }
    ar_buf_puts(b, "</tbody></table></div>\n</section>\n");
}

/* ---------------- figure: accuracy vs ReLU count ---------------- */

struct pt {
    double x, y;
    int run;
};

static int pt_cmp(const void *a, const void *b) {
    const struct pt *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* Online bytes of run i's private-inference file, or NaN. */
static double run_traffic(const struct ar_report *r, int i) {
    for (int k = 0; k < r->n_pi; k++)
        if (r->pi_run[k] == i) return r->pi[k].v[AR_PI_ONLINE_BYTES];
    return NAN;
}

/* Top-1 against kept ReLUs (traffic = 0) or online traffic per inference (1), log x,
 * one series per method, the baseline as a dashed line and a diamond. */
static void scatter(struct ctx *c, double W, double H, int traffic, double ylo, double yhi) {
    const struct ar_report *r = c->r;
    const struct ar_run *bs = base_run(r);
    struct ar_buf *b = c->b;
    struct pt *pts = calloc((size_t)r->n_run + 1, sizeof *pts);
    double *xs = malloc(((size_t)r->n_run + 1) * sizeof *xs), *ys = malloc(((size_t)r->n_run + 1) * sizeof *ys);
    if (!pts || !xs || !ys) {
        b->oom = 1;
        goto done;
    }
    int n = 0;
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        double x = traffic ? run_traffic(r, i) : (double)u->ck.relu_kept;
        if (u->is_base || !is_replaced(u) || isnan(u->top1) || !(x > 0)) continue;
        pts[n++] = (struct pt){x, u->top1, i};
    }
    if (n == 0) goto done;
    qsort(pts, (size_t)n, sizeof *pts, pt_cmp);
    const double btop = bs ? bs->top1 : NAN;
    const double bx = !bs ? NAN : traffic ? run_traffic(r, r->base) : (double)bs->ck.relu_total;
    double xlo = pts[0].x, xhi = pts[n - 1].x;
    if (bx > 0) xhi = fmax(xhi, bx);
    struct ar_plot p;
    ar_plot_init(&p, W, H, traffic ? "Top-1 accuracy vs online traffic" : "Top-1 accuracy vs kept ReLUs");
    snprintf(p.desc, sizeof p.desc, "Scatter of top-1 accuracy against %s, one series per method",
             traffic ? "online traffic per inference" : "kept ReLUs");
    if (traffic)
        ar_axis_log(&p.x, xlo / 1.35, xhi * 1.2, AR_FMT_BYTES, "online traffic per inference (log scale)");
    else
        ar_axis_log(&p.x, xlo / 1.35, xhi * 1.2, AR_FMT_COUNT, "kept ReLUs (log scale)");
    ar_axis_linear(&p.y, ylo, yhi, 6, AR_FMT_PCT, "top-1 accuracy");
    /* methods in the runs' (display) order */
    const char *meth[16];
    int nm = 0;
    for (int i = 0; i < r->n_run; i++) {
        const char *m = r->run[i].ck.method;
        int any = 0;
        for (int q = 0; q < n; q++) any |= pts[q].run == i;
        if (!any) continue;
        int seen = 0;
        for (int k = 0; k < nm; k++) seen |= !strcmp(meth[k], m);
        if (!seen && nm < 16) meth[nm++] = m;
    }
    for (int k = 0; k < nm; k++)
        ar_plot_legend(&p, method_name(meth[k]), method_color(meth[k]), AR_LEG_LINE, method_marker(meth[k]), 0);
    if (!isnan(btop)) ar_plot_legend(&p, "baseline", AR_C_BLACK, AR_LEG_LINE, AR_MK_DIAMOND, 1);
    fig_open(c, NULL);
    ar_plot_begin(&p, b);
    char t1[16], t2[24], lab[128], tip[256];
    if (!isnan(btop)) {
        fmt_pct(btop, t1, sizeof t1);
        if (bx > 0) {
            if (traffic)
                ar_fmt_bytes(bx, t2, sizeof t2);
            else
                ar_fmt_si(bx, t2, sizeof t2);
            snprintf(lab, sizeof lab, "baseline %s (%s%s)", t1, t2, traffic ? "" : " ReLUs");
        } else {
            snprintf(lab, sizeof lab, "baseline %s", t1);
        }
        ar_plot_hline(&p, btop, "#444", 1, lab);
    }
    for (int k = 0; k < nm; k++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(r->run[pts[i].run].ck.method, meth[k])) {
                xs[m] = pts[i].x;
                ys[m] = pts[i].y;
                m++;
            }
        ar_plot_series(&p, xs, ys, m, method_color(meth[k]), 0, AR_MK_NONE, 1.8, NULL);
    }
    for (int i = 0; i < n; i++) {
        const struct ar_run *u = &r->run[pts[i].run];
        fmt_pct(u->top1, t1, sizeof t1);
        if (traffic) {
            ar_fmt_bytes(pts[i].x, t2, sizeof t2);
            snprintf(tip, sizeof tip, "%s (%s): %s online, top-1 %s", u->label, method_name(u->ck.method), t2, t1);
        } else {
            snprintf(tip, sizeof tip, "%s (%s): %zu ReLUs kept, top-1 %s", u->label, method_name(u->ck.method),
                     u->ck.relu_kept, t1);
        }
        ar_plot_point(&p, pts[i].x, pts[i].y, method_color(u->ck.method), method_marker(u->ck.method), 4.5, tip,
                      n <= 12 ? u->label : NULL);
    }
    if (!isnan(btop) && bx > 0) {
        fmt_pct(btop, t1, sizeof t1);
        snprintf(tip, sizeof tip, "%s (baseline): top-1 %s", bs->label, t1);
        ar_plot_point(&p, bx, btop, AR_C_BLACK, AR_MK_DIAMOND, 4.5, tip, NULL);
    }
    ar_plot_end(&p);
    fig_close(c, NULL);
done:
    free(pts);
    free(xs);
    free(ys);
}

static void section_tradeoff(struct ctx *c) {
    const struct ar_report *r = c->r;
    const struct ar_run *bs = base_run(r);
    struct ar_buf *b = c->b;
    ar_buf_puts(b, "<section id=\"tradeoff\">\n");
    int n = 0, nt = 0;
    double ylo = 1, yhi = 0;
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        if (isnan(u->top1) || (!u->is_base && !is_replaced(u))) continue;
        ylo = fmin(ylo, u->top1);
        yhi = fmax(yhi, u->top1);
        if (u->is_base || !is_replaced(u)) continue;
        n += u->ck.relu_kept > 0;
        nt += run_traffic(r, i) > 0;
    }
    ar_buf_puts(b, nt ? "<h2>Accuracy vs ReLU count and online traffic</h2>\n" : "<h2>Accuracy vs ReLU count</h2>\n");
    if (n == 0 && nt == 0) {
        ar_buf_puts(b, "<p class=\"note\">No replaced run with a known accuracy (give STEM.eval.json or a log with "
                       "validation).</p>\n</section>\n");
        return;
    }
    double pad = fmax(0.004, 0.06 * (yhi - ylo));
    ylo = fmax(0, ylo - pad);
    yhi = fmin(1, yhi + pad);
    if (nt) {
        ar_buf_puts(b, "<div class=\"grid g2\">\n");
        scatter(c, 640, 420, 0, ylo, yhi);
        scatter(c, 640, 420, 1, ylo, yhi);
        ar_buf_puts(b, "</div>\n");
    } else {
        scatter(c, 900, 430, 0, ylo, yhi);
    }
    char cap[1024];
    int cl = snprintf(cap, sizeof cap,
                      "Figure %d. Each marker is one replaced checkpoint: kept ReLUs counted from its masks%s, top-1 "
                      "from its eval JSON or log (table above). Lines join runs of one method in order%s.",
                      ++c->fig, nt ? ", online traffic from its private-inference JSON" : "",
                      bs && !isnan(bs->top1) ? "; the dashed line is the baseline's top-1 with all ReLUs" : "");
    int zero = 0;
    for (int i = 0; i < r->n_run && cl > 0 && (size_t)cl < sizeof cap - 120; i++) {
        const struct ar_run *u = &r->run[i];
        if (u->is_base || !is_replaced(u) || u->ck.relu_kept != 0) continue;
        cl += snprintf(cap + cl, sizeof cap - (size_t)cl, "%s%.60s", zero++ ? ", " : " Not on the log axis (no ReLU kept): ",
                       u->label);
    }
    if (zero && (size_t)cl < sizeof cap - 2) snprintf(cap + cl, sizeof cap - (size_t)cl, ".");
    ar_buf_puts(b, "<p class=\"cap\">");
    ar_buf_esc(b, cap);
    ar_buf_puts(b, "</p>\n</section>\n");
}

/* ---------------- figure: kept ReLUs per site ---------------- */

static void section_sites(struct ctx *c) {
    const struct ar_report *r = c->r;
    struct ar_buf *b = c->b;
    const struct ar_ckpt_sum *a = &r->run[0].ck;
    if (a->n_site == 0) return;
    ar_buf_puts(b, "<section id=\"sites\">\n<h2>Where the kept ReLUs sit</h2>\n<p class=\"lead\">Kept ReLUs per site "
                   "(bars) in front of the site's full ReLU count (grey). One panel per replaced run, same axis in "
                   "every panel.</p>\n");
    const char **lab = malloc((size_t)a->n_site * sizeof *lab);
    if (!lab) {
        b->oom = 1;
        return;
    }
    for (int s = 0; s < a->n_site; s++) lab[s] = a->site[s].name;
    double mx = 0, mn = INFINITY;
    int shown = 0;
    for (int s = 0; s < a->n_site; s++) mx = fmax(mx, (double)a->site[s].numel);
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        if (!u->ck.masked) continue;
        shown++;
        for (int s = 0; s < a->n_site; s++)
            if (u->ck.site[s].kept > 0) mn = fmin(mn, (double)u->ck.site[s].kept);
    }
    int logy = shown && isfinite(mn) && mx / mn > 50;
    ar_buf_printf(b, "<div class=\"grid %s\">\n", a->n_site > 12 ? "g2" : "g3");
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        if (shown ? !u->ck.masked : !u->is_base) continue;
        char title[160], t1[16], t2[16];
        ar_fmt_si((double)u->ck.relu_kept, t1, sizeof t1);
        ar_fmt_si((double)u->ck.relu_total, t2, sizeof t2);
        snprintf(title, sizeof title, "%s · %s: %s of %s kept", u->label, method_name(u->ck.method), t1, t2);
        double W = a->n_site > 12 ? 620 : 420;
        struct ar_plot p;
        ar_plot_init(&p, W, a->n_site > 12 ? 330 : 300, title);
        snprintf(p.desc, sizeof p.desc, "Bar chart of kept ReLUs per site of %s", u->label);
        ar_plot_categories(&p, a->n_site, lab, NULL);
        if (logy)
            ar_axis_log(&p.y, pow(10, floor(log10(fmax(1, mn / 1.5)))), mx * 1.15, AR_FMT_COUNT, "ReLUs (log scale)");
        else
            ar_axis_linear(&p.y, 0, mx, 5, AR_FMT_COUNT, "ReLUs");
        ar_plot_legend(&p, "all ReLUs (baseline)", "#dfe3e8", AR_LEG_BOX, AR_MK_NONE, 0);
        ar_plot_legend(&p, "kept", method_color(u->ck.method), AR_LEG_BOX, AR_MK_NONE, 0);
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        double sw = ar_plot_cat_w(&p);
        for (int s = 0; s < a->n_site; s++) {
            const struct ar_site_sum *ss = &u->ck.site[s];
            double cx = ar_plot_cat_x(&p, s);
            char tip[256];
            snprintf(tip, sizeof tip, "%s: %zu ReLUs (%dx%dx%d)", ss->name, ss->numel, ss->c, ss->h, ss->w);
            ar_plot_bar(&p, cx, sw * 0.78, p.y.lo, (double)ss->numel, "#e4e7eb", NULL, tip);
            snprintf(tip, sizeof tip, "%s: %zu of %zu kept (%.2f%%)", ss->name, ss->kept, ss->numel,
                     100.0 * (double)ss->kept / (double)ss->numel);
            ar_plot_bar(&p, cx, sw * 0.46, p.y.lo, (double)ss->kept, method_color(u->ck.method), NULL, tip);
            if (a->n_site <= 12) {
                char v[16];
                ar_fmt_si((double)ss->kept, v, sizeof v);
                double y = ss->kept > 0 ? ar_plot_py(&p, (double)ss->kept) : p.y1;
                ar_buf_printf(b,
                              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\" fill=\"#1d232a\" "
                              "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">",
                              cx, y - 4);
                ar_buf_esc(b, v);
                ar_buf_puts(b, "</text>\n");
            }
        }
        ar_plot_end(&p);
        fig_close(c, NULL);
    }
    ar_buf_puts(b, "</div>\n");
    char cap[256];
    snprintf(cap, sizeof cap, "Figure %d. Kept ReLUs per site, from the masks in each checkpoint%s.", ++c->fig,
             logy ? "; log scale" : "");
    ar_buf_puts(b, "<p class=\"cap\">");
    ar_buf_esc(b, cap);
    ar_buf_puts(b, "</p>\n</section>\n");
    free(lab);
}

/* ---------------- figure: per-channel / per-pixel density ---------------- */

static void colour_bar(struct ar_buf *b, double x, double y, double w, double vmax, const char *title) {
    ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#1d232a\">", x, y - 6);
    ar_buf_esc(b, title);
    ar_buf_puts(b, "</text>\n");
    const int steps = 40;
    for (int i = 0; i < steps; i++) {
        char col[8];
        ar_ramp((i + 0.5) / steps, col);
        ar_buf_printf(b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"10\" fill=\"%s\"/>", x + w * i / steps, y,
                      w / steps + 0.3, col);
    }
    ar_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"#f0f1f3\" stroke=\"#d5d9de\"/>",
                  x - 40, y);
    ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#5b6670\">0</text>\n", x - 27, y + 9);
    double step = ar_nice_step(vmax, 4);
    for (double v = 0; v <= vmax * (1 + 1e-9); v += step) {
        double px = x + w * v / vmax;
        char t[32];
        snprintf(t, sizeof t, "%g%%", round(v * 1e6) / 1e4);
        ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#5b6670\"/>", px, y + 10, px,
                      y + 13);
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6670\">", px,
                      y + 23);
        ar_buf_esc(b, t);
        ar_buf_puts(b, "</text>\n");
    }
}

static void density_fill(double v, double vmax, char col[8]) {
    if (!(v > 0)) {
        snprintf(col, 8, "#f0f1f3");
        return;
    }
    ar_ramp(0.08 + 0.92 * fmin(1, v / vmax), col);
}

static void section_density(struct ctx *c) {
    const struct ar_report *r = c->r;
    struct ar_buf *b = c->b;
    const int s = c->site;
    if (s < 0) return;
    int shown = 0;
    double cmax = 0, pmax = 0;
    const struct ar_site_sum *a = &r->run[0].ck.site[s];
    const int C = a->c, H = a->h, Wd = a->w;
    const double hw = (double)H * Wd;
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_site_sum *ss = &r->run[i].ck.site[s];
        if (!ss->chan) continue;
        shown++;
        for (int k = 0; k < C; k++) cmax = fmax(cmax, ss->chan[k] / hw);
        for (int q = 0; q < H * Wd; q++) pmax = fmax(pmax, (double)ss->pix[q] / C);
    }
    if (!shown) return;
    if (cmax <= 0) cmax = 1;
    if (pmax <= 0) pmax = 1;
    cmax = fmin(1, ar_nice_step(cmax, 1) * ceil(cmax / ar_nice_step(cmax, 1) - 1e-9));
    pmax = fmin(1, ar_nice_step(pmax, 1) * ceil(pmax / ar_nice_step(pmax, 1) - 1e-9));
    ar_buf_puts(b, "<section id=\"density\">\n<h2>Kept ReLUs inside site <code>");
    ar_buf_esc(b, a->name);
    ar_buf_printf(b, "</code></h2>\n<p class=\"lead\">%d channels of %d×%d positions. Left: share of each channel's "
                     "positions that keep their ReLU, channels in index order (same channel = same cell in every run). "
                     "Right: share of channels that keep the ReLU at each position. Pale grey cells keep none. "
                     "Choose the site with <code>--site NAME</code>.</p>\n",
                  C, H, Wd);
    /* shared colour scales */
    ar_buf_puts(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 760 44\" width=\"760\" "
                   "height=\"44\" role=\"img\" font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
                   "sans-serif\" fill=\"#333\"><title>Colour scales</title>\n");
    colour_bar(b, 60, 18, 240, cmax, "per channel: kept / (H×W)");
    colour_bar(b, 470, 18, 240, pmax, "per position: kept / channels");
    ar_buf_puts(b, "</svg>\n<div class=\"grid g2\">\n");
    int cols = 1;
    while (cols < C && (double)cols * cols < 2.0 * C) cols *= 2;
    const int rows = (C + cols - 1) / cols;
    const double cell = fmin(22, 320.0 / cols);
    const double pc = fmin(24, 200.0 / (H > Wd ? H : Wd));
    const double gx = 34, gy = 44, mapx = gx + cols * cell + 30;
    const double Wsvg = mapx + Wd * pc + 12;
    const double Hsvg = gy + fmax(rows * cell, H * pc) + 8;
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_run *u = &r->run[i];
        const struct ar_site_sum *ss = &u->ck.site[s];
        if (!ss->chan || ss->kept == 0) continue;
        fig_open(c, NULL);
        ar_buf_printf(b,
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                      "height=\"%.0f\" role=\"img\" font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,"
                      "sans-serif\" font-size=\"10\" fill=\"#333\">\n<title>",
                      Wsvg, Hsvg, Wsvg, Hsvg);
        ar_buf_escf(b, "%s: kept ReLUs per channel and position of %s", u->label, ss->name);
        ar_buf_puts(b, "</title>\n");
        ar_buf_printf(b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", Wsvg, Hsvg);
        ar_buf_puts(b, "<text x=\"4\" y=\"17\" font-size=\"13.5\" font-weight=\"600\" fill=\"#1d232a\">");
        char g1[32], g2[32];
        fmt_group(ss->kept, g1, sizeof g1);
        fmt_group(ss->numel, g2, sizeof g2);
        ar_buf_escf(b, "%s · %s: %s of %s kept", u->label, method_name(u->ck.method), g1, g2);
        ar_buf_puts(b, "</text>\n");
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#5b6670\">channels</text>\n", gx, gy - 5);
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#5b6670\">positions (H×W)</text>\n", mapx, gy - 5);
        for (int k = 0; k < C; k++) {
            int row = k / cols, col = k % cols;
            char fill[8];
            double d = ss->chan[k] / hw;
            density_fill(d, cmax, fill);
            ar_buf_printf(b,
                          "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>channel %d: "
                          "%u of %.0f kept (%.1f%%)</title></rect>",
                          gx + col * cell, gy + row * cell, cell - 1, cell - 1, fill, k, ss->chan[k], hw, 100 * d);
            if (col == 0)
                ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#5b6670\">%d</text>",
                              gx - 4, gy + row * cell + cell / 2 + 3.5, k);
            if (col == cols - 1 || k == C - 1) ar_buf_puts(b, "\n");
        }
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < Wd; x++) {
                char fill[8];
                double d = (double)ss->pix[y * Wd + x] / C;
                density_fill(d, pmax, fill);
                ar_buf_printf(b,
                              "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>(%d, %d): "
                              "%u of %d channels</title></rect>",
                              mapx + x * pc, gy + y * pc, pc - (pc > 4 ? 0.5 : 0), pc - (pc > 4 ? 0.5 : 0), fill, y, x,
                              ss->pix[y * Wd + x], C);
            }
            ar_buf_puts(b, "\n");
        }
        ar_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#c9ced4\"/>\n",
                      mapx - 0.5, gy - 0.5, Wd * pc + 0.5, H * pc + 0.5);
        ar_buf_puts(b, "</svg>\n");
        fig_close(c, NULL);
    }
    ar_buf_puts(b, "</div>\n");
    int none = 0;
    for (int i = 0; i < r->n_run; i++) {
        const struct ar_site_sum *ss = &r->run[i].ck.site[s];
        if (!ss->chan || ss->kept) continue;
        ar_buf_puts(b, none++ ? ", " : "<p class=\"note\">No ReLU kept in this site: ");
        ar_buf_esc(b, r->run[i].label);
    }
    if (none) ar_buf_puts(b, ".</p>\n");
    ar_buf_printf(b, "<p class=\"cap\">Figure %d. Kept-ReLU density in "
                     "site ",
                  ++c->fig);
    ar_buf_esc(b, a->name);
    ar_buf_puts(b, ", from the masks (the numbers are in the data section).</p>\n</section>\n");
}

/* ---------------- figure: training curves ---------------- */

static void stage_bands(struct ar_plot *p, const struct ar_log *lg, int from, double xlo, double xhi) {
    ar_plot_xband(p, xlo, from + 0.5, NULL, stage_name(lg->rec[0].stage));
    ar_plot_xband(p, from + 0.5, xhi, "#eef1f5", stage_name(lg->rec[from].stage));
}

static void curves_for(struct ctx *c, const struct ar_run *u) {
    struct ar_buf *b = c->b;
    const struct ar_log *lg = &u->log;
    const int n = lg->n;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        b->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) x[i] = i + 1;
    /* stage changes (e.g. search -> finetune) */
    int ft_from = -1;
    for (int i = 1; i < n; i++)
        if (strcmp(lg->rec[i].stage, lg->rec[i - 1].stage) && ft_from < 0) ft_from = i;
    char xl[96];
    if (ft_from > 0)
        snprintf(xl, sizeof xl, "epoch (%s, then %s)", stage_name(lg->rec[0].stage), stage_name(lg->rec[ft_from].stage));
    else
        snprintf(xl, sizeof xl, "%s epoch", stage_name(lg->rec[0].stage));
    const double xlo = 0.5, xhi = n + 0.5;
    const enum ar_marker mk = n <= 30 ? AR_MK_CIRCLE : AR_MK_NONE;
    const double W = 420, H = 270;

    ar_buf_puts(b, "<h3><span class=\"sw\" style=\"background:");
    ar_buf_puts(b, method_color(u->ck.method));
    ar_buf_puts(b, "\"></span>");
    ar_buf_esc(b, u->label);
    ar_buf_puts(b, " <span class=\"note\" style=\"font-weight:400\">");
    ar_buf_escf(b, "%s · %d epochs · %s", method_name(u->ck.method), n, lg->path);
    ar_buf_puts(b, "</span></h3>\n<div class=\"grid g3\">\n");

    /* ---- losses ---- */
    static const struct {
        enum ar_log_field f;
        const char *name;
        const char *col;
        int dash;
    } lp[] = {{AR_LF_TRAIN_LOSS, "train loss (total)", AR_C_BLUE, 0},
              {AR_LF_VAL_LOSS, "validation loss", AR_C_ORANGE, 0},
              {AR_LF_KD_LOSS, "distillation", AR_C_GREEN, 1},
              {AR_LF_REG_LOSS, "ReLU penalty", AR_C_PURPLE, 1}};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < sizeof lp / sizeof lp[0]; k++)
        for (int i = 0; i < n; i++) {
            double v = lg->rec[i].v[lp[k].f];
            if (isfinite(v) && v > 0) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    struct ar_plot p;
    if (isfinite(lo)) {
        ar_plot_init(&p, W, H, "Loss");
        ar_axis_linear(&p.x, xlo, xhi, n < 8 ? n : 6, AR_FMT_NUM, xl);
        ar_axis_clip(&p.x, xlo, xhi);
        if (hi / lo > 30)
            ar_axis_log(&p.y, lo / 1.15, hi * 1.15, AR_FMT_NUM, "loss (log scale)");
        else
            ar_axis_linear(&p.y, 0, hi, 5, AR_FMT_NUM, "loss");
        for (size_t k = 0; k < sizeof lp / sizeof lp[0]; k++)
            if (ar_log_has(lg, lp[k].f)) ar_plot_legend(&p, lp[k].name, lp[k].col, AR_LEG_LINE, mk, lp[k].dash);
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        if (ft_from > 0) stage_bands(&p, lg, ft_from, xlo, xhi);
        for (size_t k = 0; k < sizeof lp / sizeof lp[0]; k++) {
            if (!ar_log_has(lg, lp[k].f)) continue;
            for (int i = 0; i < n; i++) y[i] = lg->rec[i].v[lp[k].f];
            ar_plot_series(&p, x, y, n, lp[k].col, lp[k].dash, mk, 1.8, lp[k].name);
        }
        ar_plot_end(&p);
        fig_close(c, NULL);
    }

    /* ---- accuracy ---- */
    lo = INFINITY;
    hi = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int f = AR_LF_TRAIN_TOP1; f <= AR_LF_VAL_TOP1; f += AR_LF_VAL_TOP1 - AR_LF_TRAIN_TOP1) {
            double v = lg->rec[i].v[f];
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    if (isfinite(lo)) {
        ar_plot_init(&p, W, H, "Accuracy");
        ar_axis_linear(&p.x, xlo, xhi, n < 8 ? n : 6, AR_FMT_NUM, xl);
        ar_axis_clip(&p.x, xlo, xhi);
        double pad = fmax(0.005, 0.05 * (hi - lo));
        ar_axis_linear(&p.y, fmax(0, lo - pad), fmin(1, hi + pad), 5, AR_FMT_PCT, "top-1");
        ar_plot_legend(&p, "train", AR_C_BLUE, AR_LEG_LINE, mk, 0);
        ar_plot_legend(&p, "validation", AR_C_ORANGE, AR_LEG_LINE, mk, 0);
        if (u->sel >= 0) ar_plot_legend(&p, "kept epoch", AR_C_BLACK, AR_LEG_LINE, AR_MK_NONE, 2);
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        if (ft_from > 0) stage_bands(&p, lg, ft_from, xlo, xhi);
        if (u->sel >= 0) ar_plot_vline(&p, u->sel + 1, "#444", 2, NULL);
        for (int i = 0; i < n; i++) y[i] = lg->rec[i].v[AR_LF_TRAIN_TOP1];
        ar_plot_series(&p, x, y, n, AR_C_BLUE, 0, mk, 1.8, "train top-1");
        for (int i = 0; i < n; i++) y[i] = lg->rec[i].v[AR_LF_VAL_TOP1];
        ar_plot_series(&p, x, y, n, AR_C_ORANGE, 0, mk, 1.8, "validation top-1");
        ar_plot_end(&p);
        fig_close(c, NULL);
    }

    /* ---- ReLU count ---- */
    if (ar_log_has(lg, AR_LF_RELU_COUNT)) {
        lo = INFINITY;
        hi = (double)u->ck.relu_total;
        for (int i = 0; i < n; i++)
            for (int f = AR_LF_RELU_COUNT_MEAN; f <= AR_LF_BUDGET; f++) {
                double v = lg->rec[i].v[f];
                if (isfinite(v) && v > 0) {
                    lo = fmin(lo, v);
                    hi = fmax(hi, v);
                }
            }
        if (!isfinite(lo)) lo = 1;
        ar_plot_init(&p, W, H, "ReLU count vs budget");
        ar_axis_linear(&p.x, xlo, xhi, n < 8 ? n : 6, AR_FMT_NUM, xl);
        ar_axis_clip(&p.x, xlo, xhi);
        ar_axis_log(&p.y, lo / 1.3, hi * 1.3, AR_FMT_COUNT, "kept ReLUs (log scale)");
        ar_plot_legend(&p, "end of epoch", AR_C_BLUE, AR_LEG_LINE, mk, 0);
        if (ar_log_has(lg, AR_LF_RELU_COUNT_MEAN))
            ar_plot_legend(&p, "mean over steps", AR_C_SKY, AR_LEG_LINE, AR_MK_NONE, 1);
        ar_plot_legend(&p, "budget", AR_C_VERMILLION, AR_LEG_LINE, AR_MK_NONE, 1);
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        if (ft_from > 0) stage_bands(&p, lg, ft_from, xlo, xhi);
        char lab[64], t[16];
        ar_fmt_si((double)u->ck.relu_total, t, sizeof t);
        snprintf(lab, sizeof lab, "all ReLUs %s", t);
        ar_plot_hline(&p, (double)u->ck.relu_total, AR_C_GREY, 2, lab);
        double bud = u->ck.budget;
        for (int i = 0; i < n && isnan(bud); i++) bud = lg->rec[i].v[AR_LF_BUDGET];
        if (!isnan(bud)) {
            ar_fmt_si(bud, t, sizeof t);
            snprintf(lab, sizeof lab, "budget %s", t);
            ar_plot_hline(&p, bud, AR_C_VERMILLION, 1, lab);
        }
        if (ar_log_has(lg, AR_LF_RELU_COUNT_MEAN)) {
            for (int i = 0; i < n; i++) y[i] = lg->rec[i].v[AR_LF_RELU_COUNT_MEAN];
            ar_plot_series(&p, x, y, n, AR_C_SKY, 1, AR_MK_NONE, 1.8, NULL);
        }
        for (int i = 0; i < n; i++) y[i] = lg->rec[i].v[AR_LF_RELU_COUNT];
        ar_plot_series(&p, x, y, n, AR_C_BLUE, 0, mk, 1.8, "ReLUs at end of epoch");
        /* epochs that ended with no ReLU: hollow markers on the bottom edge (off the log axis) */
        for (int i = 0; i < n; i++)
            if (y[i] == 0)
                ar_buf_printf(b,
                              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"#fff\" stroke=\"%s\" "
                              "stroke-width=\"1.5\"><title>epoch %d: no ReLU kept</title></circle>\n",
                              ar_plot_px(&p, x[i]), p.y1, AR_C_BLUE, i + 1);
        ar_plot_end(&p);
        fig_close(c, NULL);
    }
    ar_buf_puts(b, "</div>\n");
    free(x);
    free(y);
}

static void section_curves(struct ctx *c) {
    const struct ar_report *r = c->r;
    int any = 0;
    for (int i = 0; i < r->n_run; i++) any |= r->run[i].has_log;
    if (!any) return;
    struct ar_buf *b = c->b;
    ar_buf_puts(b, "<section id=\"curves\">\n<h2>Training and search</h2>\n<p class=\"lead\">Per epoch, from each "
                   "run's JSONL log. Epochs are numbered across stages; the shaded part is the later stage "
                   "(fine-tuning with the masks frozen). The dotted vertical line marks the epoch whose model was "
                   "kept; hollow markers on the bottom edge of a ReLU-count panel are epochs that ended with no "
                   "ReLU.</p>\n");
    /* replaced runs first, then the baseline */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < r->n_run; i++) {
            const struct ar_run *u = &r->run[i];
            if (!u->has_log || (pass == 0) == (u->is_base != 0)) continue;
            curves_for(c, u);
        }
    ar_buf_printf(b, "<p class=\"cap\">Figure %d. Loss parts, accuracy "
                     "and ReLU count per epoch.</p>\n</section>\n",
                  ++c->fig);
}

/* ---------------- figure: private-inference cost ---------------- */

static void pi_label(const struct ar_report *r, int k, char *out, size_t n) {
    if (r->pi_run[k] >= 0) {
        copy_str(out, n, r->run[r->pi_run[k]].label);
        return;
    }
    const char *bn = base_name(r->pi[k].path);
    size_t l = strlen(bn);
    if (l > 5 && !strcmp(bn + l - 5, ".json")) l -= 5;
    if (l >= n) l = n - 1;
    memcpy(out, bn, l);
    out[l] = 0;
}

static const char *pi_color(const struct ar_report *r, int k) {
    if (r->pi_run[k] >= 0) {
        const struct ar_run *u = &r->run[r->pi_run[k]];
        return u->is_base ? "#6b7680" : method_color(u->ck.method);
    }
    return ar_palette(k + 2);
}

static void section_pi(struct ctx *c) {
    const struct ar_report *r = c->r;
    struct ar_buf *b = c->b;
    ar_buf_puts(b, "<section id=\"pi\">\n<h2>Private-inference cost</h2>\n");
    if (r->n_pi == 0) {
        ar_buf_puts(b, "<p class=\"note\">No private-inference results: give <code>--pi FILE.json</code> (the JSON of "
                       "<code>autorep pi local --json</code> or <code>autorep pi cost --json</code>) or put "
                       "<code>STEM.pi.json</code> beside a checkpoint.</p>\n</section>\n");
        return;
    }
    ar_buf_puts(b, "<p class=\"lead\">Online traffic per layer, split into ReLU, polynomial and linear-layer "
                   "traffic, and the network rounds per layer; all panels share their axes.</p>\n");
    /* union of layer names, in order of first appearance */
    int cap = 0;
    for (int k = 0; k < r->n_pi; k++) cap += r->pi[k].n_layer;
    const char **names = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *names);
    int **idx = calloc((size_t)(r->n_pi > 0 ? r->n_pi : 1), sizeof *idx);
    if (!names || !idx) {
        free(names);
        free(idx);
        b->oom = 1;
        return;
    }
    int nl = 0;
    for (int k = 0; k < r->n_pi; k++)
        for (int j = 0; j < r->pi[k].n_layer; j++) {
            int f = -1;
            for (int q = 0; q < nl && f < 0; q++)
                if (!strcmp(names[q], r->pi[k].layer[j].name)) f = q;
            if (f < 0) names[nl++] = r->pi[k].layer[j].name;
        }
    for (int k = 0; k < r->n_pi; k++) {
        idx[k] = malloc((size_t)(nl > 0 ? nl : 1) * sizeof **idx);
        if (!idx[k]) {
            b->oom = 1;
            goto done;
        }
        for (int q = 0; q < nl; q++) {
            idx[k][q] = -1;
            for (int j = 0; j < r->pi[k].n_layer && idx[k][q] < 0; j++)
                if (!strcmp(names[q], r->pi[k].layer[j].name)) idx[k][q] = j;
        }
    }
    double bmax = 0, rmax = 0;
    int other = 0;
    for (int k = 0; k < r->n_pi; k++)
        for (int j = 0; j < r->pi[k].n_layer; j++) {
            const double *v = r->pi[k].layer[j].v;
            bmax = fmax(bmax, v[AR_PIL_ONLINE_BYTES]);
            rmax = fmax(rmax, v[AR_PIL_ROUNDS]);
            if (v[AR_PIL_ONLINE_BYTES] >
                (v[AR_PIL_RELU_ONLINE_BYTES] + v[AR_PIL_POLY_ONLINE_BYTES] + v[AR_PIL_LINEAR_ONLINE_BYTES]) * 1.000001 + 0.5)
                other = 1;
        }
    static const struct {
        enum ar_pil_field f;
        const char *name, *col;
    } parts[] = {{AR_PIL_RELU_ONLINE_BYTES, "ReLU", AR_C_ORANGE},
                 {AR_PIL_POLY_ONLINE_BYTES, "polynomial", AR_C_GREEN},
                 {AR_PIL_LINEAR_ONLINE_BYTES, "linear layers", AR_C_SKY}};
    const double Wl = fmin(1260, fmax(600, 150 + 26.0 * nl * (r->n_pi > 2 ? 1 : 1)));
    if (nl > 0) {
        ar_buf_printf(b, "<div class=\"grid %s\">\n", Wl > 640 ? "" : "g2");
        for (int k = 0; k < r->n_pi; k++) {
            const struct ar_pi *pi = &r->pi[k];
            if (!pi->n_layer) continue;
            char lab[AR_RP_NAME], title[200], t1[24];
            pi_label(r, k, lab, sizeof lab);
            ar_fmt_bytes(pi->v[AR_PI_ONLINE_BYTES], t1, sizeof t1);
            snprintf(title, sizeof title, "Online traffic per layer · %s (total %s)", lab, t1);
            struct ar_plot p;
            ar_plot_init(&p, Wl, 300, title);
            snprintf(p.desc, sizeof p.desc, "Stacked bars of online bytes per layer of %s", lab);
            ar_plot_categories(&p, nl, names, NULL);
            ar_axis_linear(&p.y, 0, bmax > 0 ? bmax : 1, 5, AR_FMT_BYTES, "online traffic");
            for (size_t q = 0; q < 3; q++) ar_plot_legend(&p, parts[q].name, parts[q].col, AR_LEG_BOX, AR_MK_NONE, 0);
            if (other) ar_plot_legend(&p, "not split", AR_C_GREY, AR_LEG_BOX, AR_MK_NONE, 0);
            fig_open(c, NULL);
            ar_plot_begin(&p, b);
            double w = ar_plot_cat_w(&p) * 0.7;
            for (int q = 0; q < nl; q++) {
                int j = idx[k][q];
                if (j < 0) continue;
                const struct ar_pi_layer *L = &pi->layer[j];
                double y0 = 0, cx = ar_plot_cat_x(&p, q);
                for (size_t t = 0; t < 3; t++) {
                    double v = L->v[parts[t].f];
                    char tip[400], vb[24];
                    ar_fmt_bytes(v, vb, sizeof vb);
                    snprintf(tip, sizeof tip, "%s, %s: %s %s", lab, L->name, vb, parts[t].name);
                    ar_plot_bar(&p, cx, w, y0, y0 + v, parts[t].col, "#fff", tip);
                    y0 += v;
                }
                if (L->v[AR_PIL_ONLINE_BYTES] > y0 * 1.000001 + 0.5) {
                    char tip[400], vb[24];
                    ar_fmt_bytes(L->v[AR_PIL_ONLINE_BYTES] - y0, vb, sizeof vb);
                    snprintf(tip, sizeof tip, "%s, %s: %s not split by kind", lab, L->name, vb);
                    ar_plot_bar(&p, cx, w, y0, L->v[AR_PIL_ONLINE_BYTES], AR_C_GREY, "#fff", tip);
                }
            }
            ar_plot_end(&p);
            fig_close(c, NULL);
        }
        ar_buf_puts(b, "</div>\n<div class=\"grid g2\">\n");
        /* rounds per layer, grouped */
        struct ar_plot p;
        ar_plot_init(&p, Wl > 640 ? 760 : 600, 320, "Rounds per layer");
        ar_plot_categories(&p, nl, names, NULL);
        ar_axis_linear(&p.y, 0, rmax > 0 ? rmax : 1, 5, AR_FMT_NUM, "rounds");
        for (int k = 0; k < r->n_pi; k++) {
            char lab[AR_RP_NAME];
            pi_label(r, k, lab, sizeof lab);
            if (r->pi[k].n_layer) ar_plot_legend(&p, lab, pi_color(r, k), AR_LEG_BOX, AR_MK_NONE, 0);
        }
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        int ng = 0;
        for (int k = 0; k < r->n_pi; k++) ng += r->pi[k].n_layer > 0;
        double gw = ar_plot_cat_w(&p) * 0.8, bw = gw / (ng ? ng : 1);
        for (int q = 0; q < nl; q++) {
            int g = 0;
            for (int k = 0; k < r->n_pi; k++) {
                if (!r->pi[k].n_layer) continue;
                int j = idx[k][q];
                double cx = ar_plot_cat_x(&p, q) - gw / 2 + bw * (g + 0.5);
                g++;
                if (j < 0) continue;
                char lab[AR_RP_NAME], tip[600];
                pi_label(r, k, lab, sizeof lab);
                snprintf(tip, sizeof tip, "%s, %s: %.0f rounds", lab, r->pi[k].layer[j].name,
                         r->pi[k].layer[j].v[AR_PIL_ROUNDS]);
                ar_plot_bar(&p, cx, bw * 0.92, 0, r->pi[k].layer[j].v[AR_PIL_ROUNDS], pi_color(r, k), NULL, tip);
            }
        }
        ar_plot_end(&p);
        fig_close(c, NULL);
    } else {
        ar_buf_puts(b, "<div class=\"grid g2\">\n");
    }
    /* totals */
    {
        const char **lab = malloc((size_t)r->n_pi * sizeof *lab);
        char(*store)[AR_RP_NAME] = malloc((size_t)r->n_pi * sizeof *store);
        if (!lab || !store) {
            free(lab);
            free(store);
            b->oom = 1;
            goto done;
        }
        double tmax = 0;
        int any_split = 0;
        for (int k = 0; k < r->n_pi; k++) {
            pi_label(r, k, store[k], sizeof store[k]);
            lab[k] = store[k];
            const double *v = r->pi[k].v;
            tmax = fmax(tmax, isnan(v[AR_PI_ONLINE_BYTES]) ? 0 : v[AR_PI_ONLINE_BYTES]);
            any_split |= !isnan(v[AR_PI_RELU_ONLINE_BYTES]);
        }
        struct ar_plot p;
        ar_plot_init(&p, fmax(420, 160 + 120.0 * r->n_pi), 320, "Total online traffic per inference");
        ar_plot_categories(&p, r->n_pi, lab, NULL);
        ar_axis_linear(&p.y, 0, tmax > 0 ? tmax * 1.12 : 1, 5, AR_FMT_BYTES, "online traffic");
        if (any_split)
            for (size_t q = 0; q < 3; q++) ar_plot_legend(&p, parts[q].name, parts[q].col, AR_LEG_BOX, AR_MK_NONE, 0);
        ar_plot_legend(&p, any_split ? "not split" : "online traffic", AR_C_GREY, AR_LEG_BOX, AR_MK_NONE, 0);
        fig_open(c, NULL);
        ar_plot_begin(&p, b);
        static const enum ar_pi_field tf[3] = {AR_PI_RELU_ONLINE_BYTES, AR_PI_POLY_ONLINE_BYTES,
                                               AR_PI_LINEAR_ONLINE_BYTES};
        double w = fmin(ar_plot_cat_w(&p) * 0.55, 90);
        int bk = -1;
        for (int k = 0; k < r->n_pi; k++)
            if (r->pi_run[k] >= 0 && r->pi_run[k] == r->base) bk = k;
        for (int k = 0; k < r->n_pi; k++) {
            const double *v = r->pi[k].v;
            double cx = ar_plot_cat_x(&p, k), y0 = 0;
            for (int q = 0; q < 3; q++) {
                if (isnan(v[tf[q]])) continue;
                char tip[400], vb[24];
                ar_fmt_bytes(v[tf[q]], vb, sizeof vb);
                snprintf(tip, sizeof tip, "%s: %s %s", lab[k], vb, parts[q].name);
                ar_plot_bar(&p, cx, w, y0, y0 + v[tf[q]], parts[q].col, "#fff", tip);
                y0 += v[tf[q]];
            }
            double tot = v[AR_PI_ONLINE_BYTES];
            if (!isnan(tot) && tot > y0 * 1.000001 + 0.5) ar_plot_bar(&p, cx, w, y0, tot, AR_C_GREY, "#fff", NULL);
            if (isnan(tot)) continue;
            char t1[24], t2[400];
            ar_fmt_bytes(tot, t1, sizeof t1);
            if (!isnan(v[AR_PI_ROUNDS]))
                snprintf(t2, sizeof t2, "%.0f rounds", v[AR_PI_ROUNDS]);
            else
                t2[0] = 0;
            if (bk >= 0 && bk != k && tot > 0 && !isnan(r->pi[bk].v[AR_PI_ONLINE_BYTES])) {
                double ratio = r->pi[bk].v[AR_PI_ONLINE_BYTES] / tot;
                size_t l = strlen(t2);
                snprintf(t2 + l, sizeof t2 - l, "%s%.1f× %s", l ? " · " : "", ratio >= 1 ? ratio : 1 / ratio,
                         ratio >= 1 ? "less" : "more");
            }
            double ty = ar_plot_py(&p, tot);
            ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11.5\" "
                             "font-weight=\"600\" fill=\"#1d232a\">",
                          cx, ty - (t2[0] ? 18 : 5));
            ar_buf_esc(b, t1);
            ar_buf_puts(b, "</text>\n");
            if (t2[0]) {
                ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10.5\" fill=\"#5b6670\">",
                              cx, ty - 5);
                ar_buf_esc(b, t2);
                ar_buf_puts(b, "</text>\n");
            }
        }
        ar_plot_end(&p);
        fig_close(c, NULL);
        free(lab);
        free(store);
    }
    ar_buf_puts(b, "</div>\n");
    ar_buf_printf(b, "<p class=\"cap\">Figure %d. Online traffic (both "
                     "directions, payload bytes) and rounds per private inference, from the private-inference JSON "
                     "files listed in the data section.</p>\n",
                  ++c->fig);
done:
    for (int k = 0; k < r->n_pi; k++) free(idx[k]);
    free(idx);
    free(names);
    ar_buf_puts(b, "</section>\n");
}

/* ---------------- data and provenance ---------------- */

/* Reconstruct a command from a settings JSON object (keys become --options). */
static void put_command(struct ar_buf *b, const char *cmd, const char *pre[][2], int n_pre, const char *json,
                        const char *out) {
    ar_buf_puts(b, "<pre>autorep ");
    ar_buf_esc(b, cmd);
    for (int i = 0; i < n_pre; i++) {
        if (!pre[i][1] || !pre[i][1][0]) continue;
        ar_buf_puts(b, " --");
        ar_buf_esc(b, pre[i][0]);
        ar_buf_puts(b, " ");
        put_word(b, pre[i][1]);
    }
    json_error_t je;
    json_t *j = json ? json_loads(json, 0, &je) : NULL;
    if (j && json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) {
            if (!strcmp(key, "relu_total") || !strcmp(key, "base")) continue;
            char opt[64], val[64];
            snprintf(opt, sizeof opt, "%s", key);
            for (char *s = opt; *s; s++)
                if (*s == '_') *s = '-';
            if (!strcmp(key, "nesterov")) {
                if (json_is_integer(v) && json_integer_value(v)) ar_buf_puts(b, " --nesterov");
                continue;
            }
            if (!strcmp(key, "lr_gate") && json_is_number(v) && json_number_value(v) == 0) continue;
            if (!strcmp(key, "lookahead") && json_is_number(v) && json_number_value(v) == 0) continue;
            if (json_is_string(v))
                snprintf(val, sizeof val, "%s", json_string_value(v));
            else if (json_is_number(v))
                ar_fmt_g(json_number_value(v), val, sizeof val);
            else
                continue;
            ar_buf_puts(b, " --");
            ar_buf_esc(b, opt);
            ar_buf_puts(b, " ");
            put_word(b, val);
        }
    }
    json_decref(j);
    ar_buf_puts(b, " --out ");
    put_word(b, out);
    ar_buf_puts(b, "</pre>\n");
}

static void kv(struct ar_buf *b, const char *k, const char *v) {
    ar_buf_puts(b, "<dt>");
    ar_buf_esc(b, k);
    ar_buf_puts(b, "</dt><dd>");
    ar_buf_esc(b, v);
    ar_buf_puts(b, "</dd>\n");
}

static void data_run(struct ctx *c, const struct ar_run *u) {
    struct ar_buf *b = c->b;
    const struct ar_ckpt_sum *k = &u->ck;
    char t[AR_RP_PATH + 64];
    ar_buf_puts(b, "<details>\n<summary>");
    ar_buf_esc(b, u->label);
    ar_buf_puts(b, " <span class=\"note\" style=\"font-weight:400\">");
    ar_buf_escf(b, "%s%s · %s", method_name(k->method), u->is_base ? " · baseline" : "", k->path);
    ar_buf_puts(b, "</span></summary>\n<dl class=\"kv\">\n");
    kv(b, "checkpoint", k->path);
    kv(b, "log", u->has_log ? u->log.path : "none");
    if (u->has_eval) kv(b, "eval JSON", u->ev.path);
    for (int q = 0; q < c->r->n_pi; q++)
        if (c->r->pi_run[q] >= 0 && &c->r->run[c->r->pi_run[q]] == u) kv(b, "private inference", c->r->pi[q].path);
    snprintf(t, sizeof t, "%s on %s (sites: %s)", k->arch, k->set[0] ? k->set : "?", k->sites_mode);
    kv(b, "model", t);
    kv(b, "top-1 shown from", u->top1_src);
    ar_buf_puts(b, "</dl>\n");
    if (k->replace_json) {
        const char *pre[][2] = {{"model", k->base}};
        ar_buf_puts(b, "<div class=\"note\" style=\"font-size:12px\">command, from metadata "
                       "<code>autorep.replace</code> (options it does not record, such as --max-train, are not "
                       "shown):</div>\n");
        put_command(b, "replace", pre, 1, k->replace_json, k->path);
    } else if (k->train_json) {
        const char *pre[][2] = {{"arch", k->arch}, {"data", k->set}};
        ar_buf_puts(b, "<div class=\"note\" style=\"font-size:12px\">command, from metadata <code>autorep.train</code> "
                       "(options it does not record, such as --max-train, are not shown):</div>\n");
        put_command(b, "train", pre, 2, k->train_json, k->path);
    }
    /* per site */
    ar_buf_puts(b, "<div class=\"tables\">\n<div class=\"tb\"><div class=\"tcap\">");
    ar_buf_escf(b, "ReLUs per site, from the masks in %s", k->path);
    ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th class=\"l\">site</th><th>C</th><th>H</th><th>W</th><th>all ReLUs</th>"
                   "<th>kept</th></tr></thead>\n<tbody>\n");
    for (int s = 0; s < k->n_site; s++) {
        const struct ar_site_sum *ss = &k->site[s];
        ar_buf_puts(b, "<tr><th class=\"l\">");
        ar_buf_esc(b, ss->name);
        ar_buf_puts(b, "</th>");
        td_num(b, ss->c);
        td_num(b, ss->h);
        td_num(b, ss->w);
        td_num(b, (double)ss->numel);
        td_num(b, (double)ss->kept);
        ar_buf_puts(b, "</tr>\n");
    }
    ar_buf_puts(b, "<tr><th class=\"l\">total</th><td></td><td></td><td></td>");
    td_num(b, (double)k->relu_total);
    td_num(b, (double)k->relu_kept);
    ar_buf_puts(b, "</tr>\n</tbody></table></div></div>\n");
    /* per epoch */
    if (u->has_log) {
        const struct ar_log *lg = &u->log;
        int has[AR_LF_COUNT];
        for (int f = 0; f < AR_LF_COUNT; f++) has[f] = ar_log_has(lg, f);
        ar_buf_puts(b, "<div class=\"tb\"><div class=\"tcap\">");
        ar_buf_escf(b, "Per epoch, from %s (one row per line%s)", lg->path,
                    u->sel >= 0 ? "; highlighted: the epoch whose model was kept" : "");
        ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th>line</th><th class=\"l\">stage</th><th>epoch</th>");
        for (int f = 0; f < AR_LF_COUNT; f++)
            if (has[f]) {
                ar_buf_puts(b, "<th>");
                ar_buf_esc(b, ar_log_field_name(f));
                ar_buf_puts(b, "</th>");
            }
        ar_buf_puts(b, "</tr></thead>\n<tbody>\n");
        for (int i = 0; i < lg->n; i++) {
            const struct ar_log_rec *q = &lg->rec[i];
            ar_buf_printf(b, "<tr%s><th>%d</th>", i == u->sel ? " class=\"sel\"" : "", q->line);
            td_text(b, NULL, q->stage);
            td_num(b, q->epoch);
            for (int f = 0; f < AR_LF_COUNT; f++)
                if (has[f]) td_num(b, q->v[f]);
            ar_buf_puts(b, "</tr>\n");
        }
        ar_buf_puts(b, "</tbody></table></div></div>\n");
    }
    if (u->has_eval) {
        ar_buf_puts(b, "<div class=\"tb\"><div class=\"tcap\">");
        ar_buf_escf(b, "From %s", u->ev.path);
        ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th>top1</th><th>loss</th><th>n</th><th>relu_total</th>"
                       "<th>relu_total_baseline</th></tr></thead>\n<tbody><tr>");
        td_num(b, u->ev.top1);
        td_num(b, u->ev.loss);
        td_num(b, u->ev.n);
        td_num(b, u->ev.relu_total);
        td_num(b, u->ev.relu_total_baseline);
        ar_buf_puts(b, "</tr></tbody></table></div></div>\n");
    }
    /* density site */
    if (c->site >= 0 && k->site[c->site].chan) {
        const struct ar_site_sum *ss = &k->site[c->site];
        const int per = 16;
        ar_buf_puts(b, "<div class=\"tb\"><div class=\"tcap\">");
        ar_buf_escf(b, "Kept ReLUs per channel of %s (of %d×%d each), from the mask in %s", ss->name, ss->h, ss->w,
                    k->path);
        ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th>channels</th>");
        for (int j = 0; j < per; j++) ar_buf_printf(b, "<th>+%d</th>", j);
        ar_buf_puts(b, "</tr></thead>\n<tbody>\n");
        for (int c0 = 0; c0 < ss->c; c0 += per) {
            ar_buf_printf(b, "<tr><th>%d–%d</th>", c0, c0 + per - 1 < ss->c - 1 ? c0 + per - 1 : ss->c - 1);
            for (int j = 0; j < per; j++) {
                if (c0 + j < ss->c)
                    td_num(b, ss->chan[c0 + j]);
                else
                    ar_buf_puts(b, "<td></td>");
            }
            ar_buf_puts(b, "</tr>\n");
        }
        ar_buf_puts(b, "</tbody></table></div></div>\n");
        ar_buf_puts(b, "<div class=\"tb\"><div class=\"tcap\">");
        ar_buf_escf(b, "Kept ReLUs per position (row y, column x) of %s, over its %d channels", ss->name, ss->c);
        ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th>y \\ x</th>");
        for (int x = 0; x < ss->w; x++) ar_buf_printf(b, "<th>%d</th>", x);
        ar_buf_puts(b, "</tr></thead>\n<tbody>\n");
        for (int y = 0; y < ss->h; y++) {
            ar_buf_printf(b, "<tr><th>%d</th>", y);
            for (int x = 0; x < ss->w; x++) td_num(b, ss->pix[y * ss->w + x]);
            ar_buf_puts(b, "</tr>\n");
        }
        ar_buf_puts(b, "</tbody></table></div></div>\n");
    }
    ar_buf_puts(b, "</div>\n</details>\n");
}

static void data_pi(struct ctx *c, int k) {
    struct ar_buf *b = c->b;
    const struct ar_pi *pi = &c->r->pi[k];
    char lab[AR_RP_NAME];
    pi_label(c->r, k, lab, sizeof lab);
    ar_buf_puts(b, "<details>\n<summary>private inference · ");
    ar_buf_esc(b, lab);
    ar_buf_puts(b, " <span class=\"note\" style=\"font-weight:400\">");
    ar_buf_esc(b, pi->path);
    ar_buf_puts(b, "</span></summary>\n<div class=\"tb\"><div class=\"tcap\">");
    ar_buf_escf(b, "Totals, from %s", pi->path);
    ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr>");
    for (int f = 0; f < AR_PI_COUNT; f++)
        if (!isnan(pi->v[f])) {
            ar_buf_puts(b, "<th>");
            ar_buf_esc(b, ar_pi_field_name(f));
            ar_buf_puts(b, "</th>");
        }
    ar_buf_puts(b, "</tr></thead>\n<tbody><tr>");
    for (int f = 0; f < AR_PI_COUNT; f++)
        if (!isnan(pi->v[f])) td_num(b, pi->v[f]);
    ar_buf_puts(b, "</tr></tbody></table></div></div>\n");
    if (pi->n_layer) {
        ar_buf_puts(b, "<div class=\"tb\"><div class=\"tcap\">");
        ar_buf_escf(b, "Per layer, from %s (missing fields are empty)", pi->path);
        ar_buf_puts(b, "</div>\n<div class=\"scroll\"><table>\n<thead><tr><th class=\"l\">layer</th>");
        for (int f = 0; f < AR_PIL_COUNT; f++) {
            ar_buf_puts(b, "<th>");
            ar_buf_esc(b, ar_pil_field_name(f));
            ar_buf_puts(b, "</th>");
        }
        ar_buf_puts(b, "</tr></thead>\n<tbody>\n");
        for (int j = 0; j < pi->n_layer; j++) {
            const struct ar_pi_layer *L = &pi->layer[j];
            ar_buf_puts(b, "<tr><th class=\"l\">");
            ar_buf_esc(b, L->name);
            ar_buf_puts(b, "</th>");
            for (int f = 0; f < AR_PIL_COUNT; f++) {
                if (L->has & (1u << f))
                    td_num(b, L->v[f]);
                else
                    ar_buf_puts(b, "<td></td>");
            }
            ar_buf_puts(b, "</tr>\n");
        }
        ar_buf_puts(b, "</tbody></table></div></div>\n");
    }
    ar_buf_puts(b, "</details>\n");
}

static void section_data(struct ctx *c) {
    struct ar_buf *b = c->b;
    ar_buf_puts(b, "<section id=\"data\">\n<h2>Data and provenance</h2>\n<p class=\"lead\">Every number the figures "
                   "show, as read from the files (unrounded), with the file it came from and the command that "
                   "produced each checkpoint. Open a run to see its tables.</p>\n");
    for (int i = 0; i < c->r->n_run; i++) data_run(c, &c->r->run[i]);
    for (int k = 0; k < c->r->n_pi; k++) data_pi(c, k);
    ar_buf_puts(b, "</section>\n");
}

/* ---------------- document ---------------- */

int ar_report_html(const struct ar_report *r, const struct ar_report_opts *o, struct ar_buf *b, char *err) {
    static const struct ar_report_opts none = {0};
    if (!o) o = &none;
    if (!r->finished || r->n_run == 0) return ar_errf(err, AR_ERR_ARG, "report: no runs (call ar_report_finish)");
    struct ctx c = {.r = r, .o = o, .b = b, .site = -1};
    if (o->site) {
        c.site = ar_report_find_site(r, o->site);
        if (c.site < 0) {
            char names[400] = "";
            const struct ar_ckpt_sum *a = &r->run[0].ck;
            for (int s = 0; s < a->n_site && strlen(names) < 300; s++) {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", s ? ", " : "", a->site[s].name);
            }
            return ar_errf(err, AR_ERR_ARG, "--site: '%s' is not a ReLU site of %s (sites: %s)", o->site, a->arch,
                           names);
        }
    } else {
        c.site = ar_report_default_site(r);
    }
    const char *title = o->title ? o->title : "ReLU replacement report";
    const struct ar_ckpt_sum *a = &r->run[0].ck;
    ar_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" "
                   "content=\"width=device-width, initial-scale=1\"/>\n<meta name=\"generator\" content=\"autorep "
                   "report\"/>\n<title>");
    ar_buf_esc(b, title);
    ar_buf_puts(b, "</title>\n<style>\n");
    ar_buf_puts(b, css);
    ar_buf_puts(b, "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>");
    ar_buf_esc(b, title);
    ar_buf_puts(b, "</h1>\n<p>");
    int n_rep = 0;
    for (int i = 0; i < r->n_run; i++) n_rep += is_replaced(&r->run[i]) && !r->run[i].is_base;
    char gt[32];
    fmt_group(a->relu_total, gt, sizeof gt);
    ar_buf_escf(b, "%s on %s · %s ReLUs in %d sites · %d replaced run%s", a->arch, a->set[0] ? a->set : "?", gt, a->n_site, n_rep, n_rep == 1 ? "" : "s");
    const struct ar_run *bs = base_run(r);
    if (bs) {
        char t[16];
        fmt_pct(bs->top1, t, sizeof t);
        ar_buf_escf(b, " · baseline %s (top-1 %s)", bs->label, t);
    } else {
        ar_buf_puts(b, " · no baseline checkpoint found");
    }
    ar_buf_puts(b, "</p>\n<nav><a href=\"#runs\">Runs</a><a href=\"#tradeoff\">Accuracy vs ReLUs</a>"
                   "<a href=\"#sites\">Per site</a>");
    if (c.site >= 0) ar_buf_puts(b, "<a href=\"#density\">Per channel</a>");
    ar_buf_puts(b, "<a href=\"#curves\">Curves</a><a href=\"#pi\">Private inference</a><a href=\"#data\">Data</a>"
                   "</nav>\n</header>\n");
    section_summary(&c);
    section_tradeoff(&c);
    section_sites(&c);
    {
        /* density only when some run has masks */
        int any = 0;
        for (int i = 0; i < r->n_run; i++) any |= r->run[i].ck.masked;
        if (!any) c.site = c.site >= 0 && o->site ? c.site : -1;
    }
    section_density(&c);
    section_curves(&c);
    section_pi(&c);
    section_data(&c);
    ar_buf_puts(b, "<footer>");
    if (o->command) {
        ar_buf_puts(b, "Made by <code>");
        ar_buf_esc(b, o->command);
        ar_buf_puts(b, "</code>. ");
    }
    ar_buf_puts(b, "Self-contained: inline SVG and CSS, nothing is fetched.</footer>\n</main>\n</body>\n</html>\n");
    if (b->oom) return ar_errf(err, AR_ERR_NOMEM, "report: out of memory");
    return AR_OK;
}

/* ---------------- output ---------------- */

int ar_report_write_file(const char *path, const char *data, size_t len, char *err) {
    char tmp[AR_RP_PATH + 32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return ar_errf(err, AR_ERR_ARG, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return ar_errf(err, AR_ERR_IO, "%s: cannot create a temporary file (%s)", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return ar_errf(err, AR_ERR_IO, "%s: %s", path, strerror(e));
    }
    int ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok) {
        /* readable like other outputs (mkstemp creates 0600) */
        mode_t m = umask(0);
        umask(m);
        if (chmod(tmp, 0666 & ~m) != 0) {
            ok = 0;
            e = errno;
        }
    }
    if (!ok || rename(tmp, path) != 0) {
        if (ok) e = errno;
        unlink(tmp);
        return ar_errf(err, AR_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    }
    return AR_OK;
}
