/* Tests of `autorep report` (src/report/): the SVG writer's ticks, formatting and
 * escaping; a minimal XML checker (tags balance, attributes quoted, entities
 * valid, nothing fetched) that the generated HTML must pass; report generation
 * from small synthetic checkpoints, logs and private-inference files, where every
 * number in the tables must appear in the inputs; and bad inputs (missing log,
 * malformed JSONL line, wrong field types, mismatched runs) giving one-line
 * errors that name the file and line. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "check.h"
#include "nn/ckpt.h"
#include "nn/net.h"
#include "report/report.h"

/* ---------------- a minimal XML checker ---------------- */

static int name_char(int c) { return isalnum(c) || c == '-' || c == ':' || c == '_' || c == '.'; }

/* Entity at s ('&'): returns its length or 0 when invalid. */
static int entity_len(const char *s) {
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&apos;"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!strncmp(s, named[i], strlen(named[i]))) return (int)strlen(named[i]);
    if (s[1] == '#') {
        int i = 2, hex = s[2] == 'x';
        if (hex) i++;
        int d = 0;
        while (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i])) i++, d++;
        if (d && s[i] == ';') return i + 1;
    }
    return 0;
}

/* Check that doc is well-formed XML (after an optional <!DOCTYPE html>): one root,
 * balanced tags, double-quoted unique attributes, valid entities, no raw '<' or
 * '&' in text, valid UTF-8. Returns 1, or 0 with a message in msg. */
static int xml_check(const char *doc, char *msg, size_t mlen) {
    char stack[256][48];
    int depth = 0, roots = 0, line = 1;
    const char *s = doc;
#define XFAIL(...)                                                                  \
    do {                                                                            \
        int k_ = snprintf(msg, mlen, "line %d: ", line);                            \
        if (k_ > 0 && (size_t)k_ < mlen) snprintf(msg + k_, mlen - (size_t)k_, __VA_ARGS__); \
        return 0;                                                                   \
    } while (0)
    for (const unsigned char *u = (const unsigned char *)doc; *u;) {
        if (*u < 0x80) {
            u++;
            continue;
        }
        int n = (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : (*u & 0xF8) == 0xF0 ? 4 : 0;
        if (!n) XFAIL("invalid UTF-8 at byte %ld", (long)((const char *)u - doc));
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80) XFAIL("invalid UTF-8 at byte %ld", (long)((const char *)u - doc));
        u += n;
    }
    if (!strncmp(s, "<!DOCTYPE html>", 15)) s += 15;
    while (*s) {
        if (*s == '\n') line++;
        if (*s == '&') {
            if (!entity_len(s)) XFAIL("bad entity '%.8s'", s);
            s++;
            continue;
        }
        if (*s != '<') {
            if (depth == 0 && !isspace((unsigned char)*s)) XFAIL("text outside the root: '%.10s'", s);
            s++;
            continue;
        }
        if (!strncmp(s, "<!--", 4)) {
            const char *e = strstr(s, "-->");
            if (!e) XFAIL("unterminated comment");
            for (const char *q = s; q < e; q++) line += *q == '\n';
            s = e + 3;
            continue;
        }
        int closing = s[1] == '/';
        const char *p = s + 1 + closing;
        char name[48];
        int nl = 0;
        if (!isalpha((unsigned char)*p)) XFAIL("raw '<' in text: '%.12s'", s);
        while (name_char((unsigned char)*p) && nl < 47) name[nl++] = *p++;
        name[nl] = 0;
        if (closing) {
            while (isspace((unsigned char)*p)) p++;
            if (*p != '>') XFAIL("bad closing tag </%s", name);
            if (depth == 0 || strcmp(stack[depth - 1], name))
                XFAIL("</%s> closes <%s>", name, depth ? stack[depth - 1] : "(nothing)");
            depth--;
            s = p + 1;
            continue;
        }
        char attrs[64][48];
        int na = 0;
        for (;;) {
            int sp = 0;
            while (isspace((unsigned char)*p)) {
                if (*p == '\n') line++;
                p++, sp = 1;
            }
            if (*p == '>' || (p[0] == '/' && p[1] == '>')) break;
            if (!sp) XFAIL("<%s>: no space before attribute '%.10s'", name, p);
            char an[48];
            int al = 0;
            while (name_char((unsigned char)*p) && al < 47) an[al++] = *p++;
            an[al] = 0;
            if (!al) XFAIL("<%s>: bad attribute '%.10s'", name, p);
            if (*p != '=' || p[1] != '"') XFAIL("<%s>: attribute %s is not =\"quoted\"", name, an);
            p += 2;
            while (*p && *p != '"') {
                if (*p == '<') XFAIL("<%s>: '<' in attribute %s", name, an);
                if (*p == '&' && !entity_len(p)) XFAIL("<%s>: bad entity in attribute %s", name, an);
                p++;
            }
            if (!*p) XFAIL("<%s>: unterminated attribute %s", name, an);
            p++;
            for (int i = 0; i < na; i++)
                if (!strcmp(attrs[i], an)) XFAIL("<%s>: attribute %s given twice", name, an);
            if (na < 64) snprintf(attrs[na++], sizeof attrs[0], "%s", an);
        }
        int self = *p == '/';
        s = p + (self ? 2 : 1);
        if (depth == 0) roots++;
        if (roots > 1) XFAIL("second root element <%s>", name);
        if (!self) {
            if (depth == 256) XFAIL("nesting too deep");
            snprintf(stack[depth++], sizeof stack[0], "%s", name);
        }
    }
    if (depth) XFAIL("<%s> is not closed", stack[depth - 1]);
    if (roots != 1) XFAIL("no root element");
#undef XFAIL
    return 1;
}

/* "nan" or "inf" as a word (a number printed with %f/%g), or NULL. */
static const char *nan_word(const char *h) {
    for (const char *p = h; *p; p++) {
        if (strncasecmp(p, "nan", 3) && strncasecmp(p, "inf", 3)) continue;
        if ((p > h && isalpha((unsigned char)p[-1])) || isalpha((unsigned char)p[3])) continue;
        return p;
    }
    return NULL;
}

AR_TEST(report_xml_checker_rejects_malformed_documents) {
    char m[256];
    CHECK(xml_check("<!DOCTYPE html>\n<html><p class=\"a\">x &amp; y &#39;</p><br/></html>\n", m, sizeof m));
    CHECK(!xml_check("<html><p></html>", m, sizeof m));
    CHECK(strstr(m, "closes") != NULL);
    CHECK(!xml_check("<html><p class=a>x</p></html>", m, sizeof m));
    CHECK(!xml_check("<html><p class='a'>x</p></html>", m, sizeof m));
    CHECK(!xml_check("<html>a & b</html>", m, sizeof m));
    CHECK(!xml_check("<html>a < b</html>", m, sizeof m));
    CHECK(!xml_check("<html><p a=\"1\" a=\"2\"/></html>", m, sizeof m));
    CHECK(!xml_check("<html><p>", m, sizeof m));
    CHECK(!xml_check("<html></html><html></html>", m, sizeof m));
    CHECK(!xml_check("<html>\xff</html>", m, sizeof m));
}

/* ---------------- SVG writer ---------------- */

AR_TEST(report_nice_ticks_linear_and_log) {
    CHECK(fabs(ar_nice_step(10, 5) - 2) < 1e-12);
    CHECK(fabs(ar_nice_step(1, 5) - 0.2) < 1e-12);
    CHECK(fabs(ar_nice_step(0.37, 4) - 0.1) < 1e-12);
    CHECK(fabs(ar_nice_step(12.5, 5) - 2.5) < 1e-12);
    struct ar_axis a;
    char t[32];
    ar_axis_linear(&a, 0.013, 0.87, 5, AR_FMT_PCT, "top-1");
    CHECK(a.lo == 0 && fabs(a.hi - 1) < 1e-12 && a.n_tick == 6);
    ar_axis_label(&a, a.tick[2], t, sizeof t);
    CHECK_MSG(!strcmp(t, "40%"), "label '%s'", t);
    ar_axis_linear(&a, 0.655, 0.664, 5, AR_FMT_PCT, NULL);
    for (int i = 1; i < a.n_tick; i++) CHECK(fabs(a.tick[i] - a.tick[i - 1] - a.step) < 1e-12);
    CHECK(a.lo <= 0.655 && a.hi >= 0.664);
    ar_axis_label(&a, a.tick[1], t, sizeof t);
    CHECK_MSG(!strcmp(t, "65.6%"), "label '%s'", t);
    ar_axis_linear(&a, 0, 3.4e6, 5, AR_FMT_BYTES, "online traffic");
    CHECK_MSG(!strcmp(a.label, "online traffic (MB)"), "label '%s'", a.label);
    ar_axis_label(&a, 1e6, t, sizeof t);
    CHECK_MSG(!strcmp(t, "1.0") || !strcmp(t, "1"), "label '%s'", t);
    ar_axis_log(&a, 1e5, 4e6, AR_FMT_BYTES, "traffic (log scale)");
    CHECK_MSG(!strcmp(a.label, "traffic (MB, log scale)"), "label '%s'", a.label);
    /* exact range, ticks inside */
    ar_axis_linear(&a, 0.5, 4.5, 4, AR_FMT_NUM, NULL);
    ar_axis_clip(&a, 0.5, 4.5);
    CHECK(a.n_tick == 4 && a.tick[0] == 1 && a.tick[3] == 4);
    /* log: one decade inside -> 1-2-5 majors */
    ar_axis_log(&a, 1317 / 1.35, 43904 * 1.2, AR_FMT_COUNT, NULL);
    int has10k = 0, has2k = 0;
    for (int i = 0; i < a.n_tick; i++) {
        has10k |= fabs(a.tick[i] - 1e4) < 1e-6;
        has2k |= fabs(a.tick[i] - 2e3) < 1e-6;
        CHECK(a.tick[i] >= a.lo && a.tick[i] <= a.hi);
    }
    CHECK(has10k && has2k);
    ar_axis_label(&a, 1e4, t, sizeof t);
    CHECK_MSG(!strcmp(t, "10k"), "label '%s'", t);
    /* many decades: decades only, thinned above 8 */
    ar_axis_log(&a, 1, 1e6, AR_FMT_NUM, NULL);
    CHECK_EQ_INT(a.n_tick, 7);
    CHECK(a.n_minor == 6 * 8);
    ar_axis_log(&a, 1, 1e12, AR_FMT_NUM, NULL);
    CHECK_EQ_INT(a.n_tick, 7);
    /* under one 1-2-5 step: every integer multiple */
    ar_axis_log(&a, 31, 47, AR_FMT_NUM, NULL);
    CHECK(a.n_tick >= 2);
}

AR_TEST(report_number_formatting) {
    char t[32];
    ar_fmt_si(1316, t, sizeof t);
    CHECK_MSG(!strcmp(t, "1.32k"), "%s", t);
    ar_fmt_si(43904, t, sizeof t);
    CHECK_MSG(!strcmp(t, "43.9k"), "%s", t);
    ar_fmt_si(999999, t, sizeof t);
    CHECK_MSG(!strcmp(t, "1M"), "%s", t);
    ar_fmt_si(12, t, sizeof t);
    CHECK_MSG(!strcmp(t, "12"), "%s", t);
    ar_fmt_bytes(1234567, t, sizeof t);
    CHECK_MSG(!strcmp(t, "1.23 MB"), "%s", t);
    ar_fmt_bytes(512, t, sizeof t);
    CHECK_MSG(!strcmp(t, "512 B"), "%s", t);
    ar_fmt_g(0.7252, t, sizeof t);
    CHECK_MSG(!strcmp(t, "0.7252"), "%s", t);
    ar_fmt_g(1317, t, sizeof t);
    CHECK_MSG(!strcmp(t, "1317"), "%s", t);
    ar_fmt_g(0.1 + 0.2, t, sizeof t);
    CHECK(strtod(t, NULL) == 0.1 + 0.2);
    ar_fmt_g(NAN, t, sizeof t);
    CHECK(!strcmp(t, "n/a"));
}

AR_TEST(report_xml_escaping) {
    struct ar_buf b;
    ar_buf_init(&b);
    ar_buf_esc(&b, "<a href='x'>&\"é\x01\xff");
    CHECK_MSG(!strcmp(b.p, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;é??"), "%s", b.p);
    ar_buf_free(&b);
    /* a plot with hostile text stays well-formed */
    struct ar_plot p;
    ar_plot_init(&p, 400, 260, "<script>alert(1)</script> & \"co\"");
    ar_axis_linear(&p.x, 1, 10, 5, AR_FMT_NUM, "x <axis>");
    ar_axis_log(&p.y, 1, 1e5, AR_FMT_COUNT, "y & log");
    ar_plot_legend(&p, "a<b", AR_C_BLUE, AR_LEG_LINE, AR_MK_CIRCLE, 0);
    ar_plot_legend(&p, "c&d", AR_C_ORANGE, AR_LEG_BOX, AR_MK_NONE, 0);
    ar_buf_init(&b);
    ar_plot_begin(&p, &b);
    double x[] = {1, 2, 3, 4}, y[] = {10, NAN, 1000, -5};
    ar_plot_series(&p, x, y, 4, AR_C_BLUE, 1, AR_MK_SQUARE, 2, "s<1>");
    ar_plot_hline(&p, 100, AR_C_GREY, 2, "ref \"100\"");
    ar_plot_point(&p, 5, 50, AR_C_GREEN, AR_MK_TRIANGLE, 4, "t&t", "lab<el>");
    ar_plot_end(&p);
    char m[256];
    REQUIRE(!b.oom);
    CHECK_MSG(xml_check(b.p, m, sizeof m), "plot SVG: %s", m);
    CHECK(!strstr(b.p, "<script"));
    CHECK(!nan_word(b.p));
    ar_buf_free(&b);
}

/* ---------------- synthetic runs ---------------- */

static const char *rp_cfg = "[net]\ninput = auto\nclasses = auto\n"
                            "[conv]\nname = c1\nfilters = 4\nsize = 3\npad = 1\n"
                            "[relu]\nname = r1\n"
                            "[conv]\nname = c2\nfilters = 6\nsize = 3\nstride = 2\npad = 1\n"
                            "[relu]\nname = r2\n"
                            "[avgpool]\nglobal = 1\n"
                            "[linear]\nname = fc\noutputs = auto\n";

/* Numbers the report may show: parsed from the input files' text plus what the test
 * knows about the checkpoints (shapes and mask counts). */
struct numset {
    double v[8192];
    int n;
};

static void ns_add(struct numset *s, double v) {
    if (s->n < (int)(sizeof s->v / sizeof s->v[0])) s->v[s->n++] = v;
}

/* every number of t, divided by div (private-inference totals are shown per image) */
static void ns_add_text_div(struct numset *s, const char *t, double div) {
    for (const char *p = t; *p;) {
        if ((isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) &&
            (p == t || !isalnum((unsigned char)p[-1]))) {
            char *e;
            double v = strtod(p, &e);
            if (e > p) {
                ns_add(s, v / div);
                p = e;
                continue;
            }
        }
        p++;
    }
}

static void ns_add_text(struct numset *s, const char *t) { ns_add_text_div(s, t, 1); }

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A checkpoint of rp_cfg; masked: keep element i of site s when (i*(s+3)) % 13 < 3
 * (channel 1 of r1 keeps nothing), or nothing when empty. Adds shapes and kept
 * counts to ns. */
static int write_ckpt_ex(const char *path, int masked, int empty, const char *const *meta, struct numset *ns,
                         char *err) {
    struct ar_net net;
    struct ar_net_opts no = {.in_shape = {1, 8, 8}, .classes = 2, .site_mode = masked ? AR_SITES_MASKED : AR_SITES_PLAIN};
    int rc = ar_net_build(&net, rp_cfg, "rp", &no, err);
    if (rc) return rc;
    if ((rc = ar_net_plan(&net, 1, 0, err))) goto done;
    ar_net_init_params(&net, 7);
    for (int s = 0; s < net.n_sites; s++) {
        const struct ar_site *si = &net.sites[s];
        ns_add(ns, si->shape.c), ns_add(ns, si->shape.h), ns_add(ns, si->shape.w), ns_add(ns, (double)si->numel);
        if (!masked) continue;
        char tn[AR_NAME_LEN + 16];
        snprintf(tn, sizeof tn, "%s.relu_mask", si->name);
        const struct ar_tensor_info *t = ar_net_find_tensor(&net, tn);
        if (!t) {
            rc = ar_errf(err, AR_ERR_ARG, "no %s", tn);
            goto done;
        }
        uint8_t *m = net.masks + t->off;
        const size_t hw = (size_t)si->shape.h * si->shape.w;
        size_t kept = 0;
        for (size_t i = 0; i < t->numel; i++) {
            m[i] = !empty && (i * (size_t)(s + 3)) % 13 < 3 && !(s == 0 && i / hw == 1);
            kept += m[i];
        }
        ns_add(ns, (double)kept);
        for (int c = 0; c < si->shape.c; c++) {
            size_t k = 0;
            for (size_t q = 0; q < hw; q++) k += m[c * hw + q];
            ns_add(ns, (double)k);
        }
        for (size_t q = 0; q < hw; q++) {
            size_t k = 0;
            for (int c = 0; c < si->shape.c; c++) k += m[c * hw + q];
            ns_add(ns, (double)k);
        }
    }
    for (int i = 0; meta && meta[i]; i += 2) ns_add_text(ns, meta[i + 1]);
    rc = ar_ckpt_save(&net, path, meta, err);
done:
    ar_net_free(&net);
    return rc;
}

static int write_ckpt(const char *path, int masked, const char *const *meta, struct numset *ns, char *err) {
    return write_ckpt_ex(path, masked, 0, meta, ns, err);
}

static size_t kept_total(const char *path) {
    char err[AR_ERR_LEN];
    struct ar_ckpt_sum s;
    if (ar_ckpt_summary(&s, path, err)) return 0;
    size_t k = s.relu_kept;
    ar_ckpt_sum_free(&s);
    return k;
}

struct fixture {
    char dir[512], base[600], ra[600], rs[600], pi_base[600], pi_rep[600];
    struct numset ns;
};

static const char *const train_log =
    "{\"stage\": \"train\", \"epoch\": 1, \"lr\": 0.1, \"train_loss\": 0.640889, \"train_top1\": 0.758247, "
    "\"val_loss\": 0.408434, \"val_top1\": 0.85, \"seconds\": 14.5, \"images_per_s\": 408.5}\n"
    "{\"stage\": \"train\", \"epoch\": 2, \"lr\": 0.05, \"train_loss\": 0.385935, \"train_top1\": 0.856136, "
    "\"val_loss\": 0.355261, \"val_top1\": 0.8692, \"seconds\": 8.8, \"images_per_s\": 678.9}\n";

static int make_fixture(struct fixture *f, char *err) {
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", ar_test_tmpdir());
    snprintf(f->base, sizeof f->base, "%s/base.safetensors", f->dir);
    snprintf(f->ra, sizeof f->ra, "%s/ar<5>.safetensors", f->dir);
    snprintf(f->rs, sizeof f->rs, "%s/snl&5.safetensors", f->dir);
    int rc;
    const char *bmeta[] = {"autorep.arch_name", "rp", "data.set", "synthetic", "autorep.train",
                           "{\"epochs\": 2, \"batch\": 64, \"lr\": 0.1, \"lr_min\": 0, \"optim\": \"sgd\", "
                           "\"momentum\": 0.9, \"nesterov\": 0, \"wd\": 0.0005, \"schedule\": \"cosine\", "
                           "\"seed\": 1, \"augment\": \"auto\"}",
                           NULL};
    if ((rc = write_ckpt(f->base, 0, bmeta, &f->ns, err))) return rc;
    char p[700];
    snprintf(p, sizeof p, "%s/base.jsonl", f->dir);
    write_text(p, train_log);
    ns_add_text(&f->ns, train_log);

    char rj[1024], budget[32];
    /* masks keep about 3/13 of 352 elements; the budget is the kept count */
    for (int m = 0; m < 2; m++) {
        const char *path = m ? f->rs : f->ra;
        const char *meta0[] = {"autorep.arch_name", "rp", "data.set", "synthetic", NULL};
        struct numset tmp;
        tmp.n = 0;
        if ((rc = write_ckpt(path, 1, meta0, &tmp, err))) return rc;
        size_t k = kept_total(path);
        snprintf(budget, sizeof budget, "%zu", k);
        snprintf(rj, sizeof rj,
                 "{\"method\": \"%s\", \"budget\": %zu, \"relu_total\": 352, \"epochs\": 3, \"finetune_epochs\": 1, "
                 "\"lambda\": %s, \"threshold\": 0.003, \"poly\": \"%s\", \"dapa\": \"exact\", \"scale_x2\": 1, "
                 "\"kd_temp\": 4, \"kd_weight\": 1, \"lr\": 0.001, \"lr_gate\": 0.02, \"ft_lr\": 0.001, "
                 "\"lookahead\": 0, \"batch\": 32, \"seed\": 1, \"base\": \"%s\"}",
                 m ? "snl" : "autorep", k, m ? "0.0001" : "100", m ? "identity" : "quad", f->base);
        const char *meta[] = {"autorep.arch_name", "rp", "data.set", "synthetic", "autorep.replace", rj,
                              "autorep.budget", budget, NULL};
        if ((rc = write_ckpt(path, 1, meta, &f->ns, err))) return rc;
        char log[4096];
        /* epoch 2 has the best validation but too many ReLUs: not the kept one */
        snprintf(log, sizeof log,
                 "{\"stage\": \"search\", \"epoch\": 1, \"lr\": 0.001, \"train_loss\": 3.4, \"train_top1\": 0.75, "
                 "\"val_loss\": 1.12, \"val_top1\": 0.58, \"seconds\": 28.3, \"images_per_s\": 289.1, \"kd_loss\": "
                 "0.125598, \"reg_loss\": 2.594282, \"relu_count_mean\": 300.5, \"relu_count\": 280, \"budget\": %zu, "
                 "\"relu_total\": 352, \"lambda\": 0.0001, \"projected\": 0}\n"
                 "\n"
                 "{\"stage\": \"search\", \"epoch\": 2, \"lr\": 0.0007525, \"train_loss\": 1.6, \"train_top1\": 0.77, "
                 "\"val_loss\": 0.73, \"val_top1\": 0.93, \"seconds\": 21.2, \"images_per_s\": 384.9, \"kd_loss\": "
                 "0.19, \"reg_loss\": 0.75, \"relu_count_mean\": 200.25, \"relu_count\": %zu, \"budget\": %zu, "
                 "\"relu_total\": 352, \"lambda\": 0.0001, \"projected\": 0, \"extra_field\": [1, 2]}\n"
                 "{\"stage\": \"search\", \"epoch\": 3, \"lr\": 0.0002575, \"train_loss\": 1.3, \"train_top1\": 0.79, "
                 "\"val_loss\": 0.68, \"val_top1\": 0.8123, \"seconds\": 29.3, \"images_per_s\": 279, \"kd_loss\": "
                 "0.17, \"reg_loss\": 0.5, \"relu_count_mean\": 90.75, \"relu_count\": %zu, \"budget\": %zu, "
                 "\"relu_total\": 352, \"lambda\": 0.0001, \"projected\": 1}\n"
                 "{\"stage\": \"finetune\", \"epoch\": 1, \"lr\": 0.001, \"train_loss\": 1.2, \"train_top1\": 0.8, "
                 "\"val_loss\": 0.65, \"val_top1\": 0.7911, \"seconds\": 20, \"images_per_s\": 400, \"kd_loss\": "
                 "0.2, \"reg_loss\": 0, \"relu_count_mean\": 0, \"relu_count\": %zu, \"budget\": %zu, "
                 "\"relu_total\": 352, \"lambda\": 0.0001, \"projected\": 0}\n",
                 k, k + 40, k, k, k, k, k);
        snprintf(p, sizeof p, "%s/%s.jsonl", f->dir, m ? "snl&5" : "ar<5>");
        write_text(p, log);
        ns_add_text(&f->ns, log);
    }
    /* SNL has an eval JSON */
    const char *ev = "{\"top1\":0.7777,\"loss\":0.61,\"n\":2000,\"relu_total\":80,\"relu_total_baseline\":352}\n";
    snprintf(p, sizeof p, "%s/snl&5.eval.json", f->dir);
    write_text(p, ev);
    ns_add_text(&f->ns, ev);
    /* private inference: baseline beside its checkpoint, the AutoReP run by --pi with "model" */
    const char *pib =
        "{\"n\": 100, \"mpc_top1\": 0.86, \"fixed_top1\": 0.86, \"float_top1\": 0.87, \"agree_fixed\": 1, "
        "\"relu_count\": 352, \"poly_count\": 0, \"online_bytes\": 812345, \"relu_online_bytes\": 800000, "
        "\"poly_online_bytes\": 0, \"linear_online_bytes\": 12345, \"rounds\": 19, \"dealer_bytes\": 1500000, "
        "\"online_seconds\": 0.42, \"layers\": [{\"name\": \"c1\", \"linear_online_bytes\": 6000, \"rounds\": 1}, "
        "{\"name\": \"r1\", \"relu_online_bytes\": 560000, \"rounds\": 8, \"dealer_bytes\": 900000, \"seconds\": "
        "0.2, \"future_field\": \"x\"}, {\"name\": \"c2\", \"online_bytes\": 6345, \"rounds\": 1}, {\"name\": "
        "\"r2\", \"relu_online_bytes\": 240000, \"rounds\": 8}, {\"name\": \"fc\", \"rounds\": 1}]}\n";
    snprintf(f->pi_base, sizeof f->pi_base, "%s/base.pi.json", f->dir);
    write_text(f->pi_base, pib);
    ns_add_text(&f->ns, pib); /* rounds are per inference already */
    ns_add_text_div(&f->ns, pib, 100); /* byte totals over n = 100 images are shown per image */
    char pir[2048];
    snprintf(pir, sizeof pir,
             "{\"model\": \"%s\", \"n\": 100, \"mpc_top1\": 0.8, \"online_bytes\": 260000, \"relu_online_bytes\": "
             "190000, \"poly_online_bytes\": 57000, \"linear_online_bytes\": 13000, \"rounds\": 19, "
             "\"dealer_bytes\": 400000, \"layers\": [{\"name\": \"c1\", \"linear_online_bytes\": 6500, \"rounds\": "
             "1}, {\"name\": \"r1\", \"relu_online_bytes\": 120000, \"poly_online_bytes\": 40000, \"rounds\": 8}, "
             "{\"name\": \"c2\", \"linear_online_bytes\": 6500, \"rounds\": 1}, {\"name\": \"r2\", "
             "\"relu_online_bytes\": 70000, \"poly_online_bytes\": 17000, \"rounds\": 8}]}\n",
             f->ra);
    snprintf(f->pi_rep, sizeof f->pi_rep, "%s/rep-pi.json", f->dir);
    write_text(f->pi_rep, pir);
    ns_add_text(&f->ns, pir); /* rounds are per inference already */
    ns_add_text_div(&f->ns, pir, 100);
    return AR_OK;
}

/* Decoded text of the cells <td> without a class or with class="" (numeric
 * cells) are checked: every number in them must be a rounding of an input value.
 * Suffixes: % (x0.01), k, M, B, kB, MB, GB. */
static int check_table_numbers(const char *html, const struct numset *ns, int *n_checked, char *msg, size_t mlen) {
    *n_checked = 0;
    for (const char *p = strstr(html, "<td"); p; p = strstr(p + 3, "<td")) {
        const char *gt = strchr(p, '>');
        if (!gt) break;
        if (p[3] != '>' && !strncmp(p + 3, " class=\"", 8) && p[11] != '"') continue; /* labelled or derived */
        const char *end = strstr(gt, "</td>");
        if (!end) break;
        char cell[256];
        size_t l = (size_t)(end - gt - 1);
        if (l >= sizeof cell) l = sizeof cell - 1;
        memcpy(cell, gt + 1, l);
        cell[l] = 0;
        for (char *q = cell; *q;) {
            if (!(isdigit((unsigned char)*q) || (*q == '-' && isdigit((unsigned char)q[1])))) {
                q++;
                continue;
            }
            char *e;
            double v = strtod(q, &e);
            /* place value of the last printed digit */
            const char *dot = NULL, *ex = NULL;
            for (const char *c = q; c < e; c++) {
                if (*c == '.') dot = c;
                if (*c == 'e' || *c == 'E') ex = c;
            }
            int dec = dot ? (int)((ex ? ex : e) - dot - 1) : 0;
            double ulp = pow(10, -dec) * (ex ? pow(10, strtod(ex + 1, NULL)) : 1);
            double scale = 1;
            const char *sfx = e;
            while (*sfx == ' ') sfx++;
            if (*sfx == '%') scale = 0.01;
            else if (!strncmp(sfx, "kB", 2) || (*sfx == 'k' && !isalpha((unsigned char)sfx[1]))) scale = 1e3;
            else if (!strncmp(sfx, "MB", 2) || (*sfx == 'M' && !isalpha((unsigned char)sfx[1]))) scale = 1e6;
            else if (!strncmp(sfx, "GB", 2)) scale = 1e9;
            double want = v * scale, tol = 0.5 * ulp * scale * (1 + 1e-9) + 1e-12 * fabs(want);
            int found = 0;
            for (int i = 0; i < ns->n && !found; i++) found = fabs(ns->v[i] - want) <= tol;
            if (!found) {
                snprintf(msg, mlen, "table cell '%s': %g is not in the inputs", cell, want);
                return 0;
            }
            (*n_checked)++;
            q = e;
        }
    }
    return 1;
}

static size_t count_str(const char *h, const char *s) {
    size_t n = 0;
    for (const char *p = strstr(h, s); p; p = strstr(p + 1, s)) n++;
    return n;
}

AR_TEST(report_html_from_synthetic_runs) {
    char err[AR_ERR_LEN];
    static struct fixture f;
    REQUIRE_OK(make_fixture(&f, err), err);
    struct ar_report r;
    ar_report_init(&r);
    REQUIRE_OK(ar_report_add_run(&r, f.ra, 0, err), err);
    REQUIRE_OK(ar_report_add_run(&r, f.rs, 0, err), err);
    REQUIRE_OK(ar_report_add_pi(&r, f.pi_rep, err), err);
    REQUIRE_OK(ar_report_finish(&r, err), err);
    /* the baseline came from the metadata; base.pi.json was found beside it. Display order:
       the baseline, then by method (autorep, snl) */
    REQUIRE(r.n_run == 3 && r.base == 0);
    CHECK(!strcmp(r.run[0].label, "base") && !strcmp(r.run[1].label, "ar<5>") && !strcmp(r.run[2].label, "snl&5"));
    CHECK(r.n_pi == 2 && r.pi_run[0] == 0 && r.pi_run[1] == 1); /* baseline first */
    /* accuracies: AutoReP from the log (epoch 3: epoch 2 exceeds the budget), SNL from its eval JSON,
       the baseline from its last epoch */
    CHECK_EQ_INT(r.run[1].sel, 2);
    CHECK(r.run[1].top1 == 0.8123);
    CHECK(r.run[2].top1 == 0.7777 && r.run[2].has_eval);
    CHECK_EQ_INT(r.run[2].sel, 3); /* SNL: among its fine-tuning epochs */
    CHECK(r.run[0].top1 == 0.8692);
    CHECK_EQ_INT(ar_report_find_site(&r, "r2"), 1);
    CHECK(ar_report_default_site(&r) == 0 || ar_report_default_site(&r) == 1);

    struct ar_buf h;
    ar_buf_init(&h);
    struct ar_report_opts o = {.site = "r1", .title = "Synthetic <runs> & more", .command = "autorep report x"};
    REQUIRE_OK(ar_report_html(&r, &o, &h, err), err);
    char m[512];
    CHECK_MSG(xml_check(h.p, m, sizeof m), "report is not well-formed: %s", m);
    /* self-contained: nothing fetched, no scripts */
    CHECK(!strstr(h.p, "<script") && !strstr(h.p, "src=") && !strstr(h.p, "@import") && !strstr(h.p, "url("));
    CHECK(!strstr(h.p, "href=\"http"));
    CHECK(count_str(h.p, "http") == count_str(h.p, "http://www.w3.org/2000/svg"));
    /* every figure is there */
    CHECK(strstr(h.p, "id=\"tradeoff\"") && strstr(h.p, "id=\"sites\"") && strstr(h.p, "id=\"density\"") &&
          strstr(h.p, "id=\"curves\"") && strstr(h.p, "id=\"pi\"") && strstr(h.p, "id=\"data\""));
    CHECK(strstr(h.p, "Synthetic &lt;runs&gt; &amp; more") != NULL);
    CHECK(strstr(h.p, "ar&lt;5&gt;") && strstr(h.p, "snl&amp;5"));
    const char *bad = nan_word(h.p);
    CHECK_MSG(!bad, "NaN/Inf in the output: '%.60s'", bad ? bad - 20 : "");
    size_t svgs = count_str(h.p, "<svg ");
    CHECK_MSG(svgs >= 12, "%zu SVG figures", svgs);
    CHECK(strstr(h.p, "Per layer, from") != NULL);
    CHECK(strstr(h.p, "Top-1 accuracy vs online traffic") != NULL);
    /* traffic per image: the baseline's 812,345 B over n = 100 images */
    CHECK(strstr(h.p, "8.12 kB") != NULL && strstr(h.p, "812 kB") == NULL);
    CHECK(strstr(h.p, "autorep replace --model") != NULL);
    /* numbers in tables come from the inputs */
    int nc = 0;
    CHECK_MSG(check_table_numbers(h.p, &f.ns, &nc, m, sizeof m), "%s", m);
    CHECK_MSG(nc > 300, "only %d numbers checked", nc);
    /* the check can fail: a number that is in no input */
    struct numset few;
    few.n = 0;
    ns_add(&few, 1);
    CHECK(!check_table_numbers(h.p, &few, &nc, m, sizeof m));
    ar_buf_free(&h);

    /* unknown site */
    o.site = "nosuch";
    ar_buf_init(&h);
    CHECK(ar_report_html(&r, &o, &h, err) == AR_ERR_ARG);
    CHECK(strstr(err, "'nosuch'") && strstr(err, "r1, r2"));
    ar_buf_free(&h);
    ar_report_free(&r);

    /* a report of only the baseline (no replaced run, no pi) is still well-formed */
    ar_report_init(&r);
    REQUIRE_OK(ar_report_add_run(&r, f.base, 0, err), err);
    REQUIRE_OK(ar_report_finish(&r, err), err);
    ar_buf_init(&h);
    REQUIRE_OK(ar_report_html(&r, NULL, &h, err), err);
    CHECK_MSG(xml_check(h.p, m, sizeof m), "baseline-only report: %s", m);
    ar_buf_free(&h);
    ar_report_free(&r);
}

AR_TEST(report_run_without_kept_relus) {
    char err[AR_ERR_LEN], p[700], m[512];
    static struct fixture f;
    REQUIRE_OK(make_fixture(&f, err), err);
    snprintf(p, sizeof p, "%s/none.safetensors", f.dir);
    const char *meta[] = {"autorep.arch_name", "rp", "autorep.replace",
                          "{\"method\": \"autorep\", \"budget\": 10, \"base\": \"x\"}", NULL};
    REQUIRE_OK(write_ckpt_ex(p, 1, 1, meta, &f.ns, err), err);
    snprintf(p, sizeof p, "%s/none.jsonl", f.dir);
    write_text(p, "{\"stage\": \"search\", \"epoch\": 1, \"val_top1\": 0.5, \"relu_count\": 0, \"budget\": 10}\n");
    snprintf(p, sizeof p, "%s/none.safetensors", f.dir);
    struct ar_report r;
    ar_report_init(&r);
    REQUIRE_OK(ar_report_add_run(&r, p, 0, err), err);
    REQUIRE_OK(ar_report_add_run(&r, f.ra, 0, err), err);
    REQUIRE_OK(ar_report_finish(&r, err), err);
    struct ar_buf h;
    ar_buf_init(&h);
    struct ar_report_opts o = {.site = "r1"};
    REQUIRE_OK(ar_report_html(&r, &o, &h, err), err);
    CHECK_MSG(xml_check(h.p, m, sizeof m), "%s", m);
    CHECK(strstr(h.p, "No ReLU kept in this site: none") != NULL);
    CHECK(strstr(h.p, "Not on the log axis (no ReLU kept): none") != NULL);
    CHECK(strstr(h.p, "epoch 1: no ReLU kept") != NULL);
    CHECK(!nan_word(h.p));
    ar_buf_free(&h);
    ar_report_free(&r);
}

/* Expect add_run / finish / add_pi to fail with a message containing want. */
static void expect_err(int rc, const char *err, const char *want) {
    CHECK_MSG(rc != AR_OK, "no error (wanted '%s')", want);
    CHECK_MSG(strstr(err, want) != NULL, "error '%s' does not contain '%s'", err, want);
    CHECK_MSG(!strchr(err, '\n'), "error has several lines: %s", err);
}

AR_TEST(report_bad_inputs_name_file_and_line) {
    char err[AR_ERR_LEN], p[800], q[800];
    static struct fixture f;
    REQUIRE_OK(make_fixture(&f, err), err);
    struct ar_report r;
    /* missing log */
    snprintf(p, sizeof p, "%s/nolog.safetensors", f.dir);
    REQUIRE(ar_test_copy_file(f.ra, p) == 0);
    ar_report_init(&r);
    expect_err(ar_report_add_run(&r, p, 0, err), err, "nolog.jsonl: cannot open the log");
    ar_report_free(&r);
    /* malformed line 3 */
    snprintf(p, sizeof p, "%s/bad.safetensors", f.dir);
    REQUIRE(ar_test_copy_file(f.ra, p) == 0);
    snprintf(q, sizeof q, "%s/bad.jsonl", f.dir);
    write_text(q, "{\"stage\": \"search\", \"epoch\": 1}\n\n{\"stage\": \"search\", \"epoch\": 2, \"lr\": 0.1\n");
    ar_report_init(&r);
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.jsonl:3: not a JSON object");
    write_text(q, "{\"stage\": \"search\", \"epoch\": 1, \"val_top1\": \"high\"}\n");
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.jsonl:1: 'val_top1' is not a number");
    write_text(q, "[1, 2]\n");
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.jsonl:1: not a JSON object (an array)");
    write_text(q, "{\"epoch\": 1}\n");
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.jsonl:1: 'stage' is missing");
    write_text(q, "");
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.jsonl: no epochs");
    /* a log of another run: budget differs from the checkpoint's */
    write_text(q, "{\"stage\": \"search\", \"epoch\": 1, \"relu_count\": 5, \"budget\": 999999, \"relu_total\": 352}\n");
    REQUIRE_OK(ar_report_add_run(&r, p, 0, err), err);
    expect_err(ar_report_finish(&r, err), err, "bad.jsonl:1: budget 999999 does not match autorep.budget");
    ar_report_free(&r);
    /* bad eval JSON */
    snprintf(q, sizeof q, "%s/bad.jsonl", f.dir);
    write_text(q, train_log);
    snprintf(q, sizeof q, "%s/bad.eval.json", f.dir);
    write_text(q, "{\"loss\": 1}");
    ar_report_init(&r);
    expect_err(ar_report_add_run(&r, p, 0, err), err, "bad.eval.json: 'top1' is missing");
    remove(q);
    ar_report_free(&r);
    /* private-inference files */
    ar_report_init(&r);
    write_text(q, "{\"online_bytes\": 10, \"layers\": [{\"name\": \"a\"}, {\"rounds\": 1}]}");
    expect_err(ar_report_add_pi(&r, q, err), err, "layers[1]: 'name' is missing");
    write_text(q, "{\"online_bytes\": -1}");
    expect_err(ar_report_add_pi(&r, q, err), err, "'online_bytes' is not a non-negative number");
    write_text(q, "{\"online_bytes\": 1,\n \"rounds\": }");
    expect_err(ar_report_add_pi(&r, q, err), err, "bad.eval.json:2: not JSON");
    write_text(q, "{\"n\": 3}");
    expect_err(ar_report_add_pi(&r, q, err), err, "not a private-inference result");
    write_text(q, "{\"online_bytes\": 5, \"layers\": [{\"name\": \"a\", \"rounds\": \"many\"}]}");
    expect_err(ar_report_add_pi(&r, q, err), err, "layers[0] (a): 'rounds' is not a non-negative number");
    expect_err(ar_report_add_pi(&r, "/nonexistent/x.json", err), err, "/nonexistent/x.json: cannot open");
    ar_report_free(&r);
    remove(q);
    /* runs of different architectures */
    snprintf(p, sizeof p, "%s/other.safetensors", f.dir);
    {
        struct ar_net net;
        const char *cfg = "[net]\ninput = auto\nclasses = auto\n[conv]\nname = c1\nfilters = 2\nsize = 3\npad = 1\n"
                          "[relu]\nname = r1\n[avgpool]\nglobal = 1\n[linear]\nname = fc\noutputs = auto\n";
        struct ar_net_opts no = {.in_shape = {1, 8, 8}, .classes = 2};
        REQUIRE_OK(ar_net_build(&net, cfg, "other", &no, err), err);
        REQUIRE_OK(ar_net_plan(&net, 1, 0, err), err);
        ar_net_init_params(&net, 1);
        REQUIRE_OK(ar_ckpt_save(&net, p, NULL, err), err);
        ar_net_free(&net);
    }
    snprintf(q, sizeof q, "%s/other.jsonl", f.dir);
    write_text(q, train_log);
    ar_report_init(&r);
    REQUIRE_OK(ar_report_add_run(&r, f.ra, 0, err), err);
    REQUIRE_OK(ar_report_add_run(&r, p, 0, err), err);
    expect_err(ar_report_finish(&r, err), err, "a report compares runs of one architecture");
    expect_err(ar_report_add_run(&r, f.ra, 0, err), err, "given twice");
    ar_report_free(&r);
    /* not a checkpoint */
    ar_report_init(&r);
    expect_err(ar_report_add_run(&r, q, 0, err), err, "other.jsonl");
    ar_report_free(&r);
}

AR_TEST(report_write_is_atomic) {
    char err[AR_ERR_LEN], p[600];
    const char *dir = ar_test_tmpdir();
    snprintf(p, sizeof p, "%s/r.html", dir);
    REQUIRE_OK(ar_report_write_file(p, "<html></html>\n", 14, err), err);
    FILE *f = fopen(p, "r");
    REQUIRE(f);
    char buf[32] = "";
    CHECK(fgets(buf, sizeof buf, f) && !strcmp(buf, "<html></html>\n"));
    fclose(f);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0044) != 0);
    snprintf(p, sizeof p, "%s/nodir/r.html", dir);
    expect_err(ar_report_write_file(p, "x", 1, err), err, "nodir/r.html");
    CHECK(stat(p, &sb) != 0);
}
