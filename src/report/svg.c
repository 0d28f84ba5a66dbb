/* The report's SVG writer: text buffer with XML escaping, number formatting,
 * nice linear and log ticks, and plot frames with series, bars, reference lines
 * and legends (see svg.h). */
#include "report/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- buffer ---------------- */

void ar_buf_init(struct ar_buf *b) { memset(b, 0, sizeof *b); }

void ar_buf_free(struct ar_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int buf_reserve(struct ar_buf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void ar_buf_add(struct ar_buf *b, const char *s, size_t n) {
    if (!buf_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void ar_buf_puts(struct ar_buf *b, const char *s) { ar_buf_add(b, s, strlen(s)); }

/* (format attribute: clang's -Wformat-nonliteral accepts the forwarded format) */
static void buf_vprintf(struct ar_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void buf_vprintf(struct ar_buf *b, const char *fmt, va_list ap) {
    va_list aq;
    va_copy(aq, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, aq);
    va_end(aq);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ar_buf_add(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ar_buf_printf(struct ar_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF) return 0;
    return n;
}

void ar_buf_esc(struct ar_buf *b, const char *s) {
    if (!s) return;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        const char *rep = NULL;
        switch (*u) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep) {
            ar_buf_puts(b, rep);
            u++;
            continue;
        }
        if (*u < 0x20 && *u != '\t' && *u != '\n') {
            ar_buf_add(b, "?", 1);
            u++;
            continue;
        }
        int n = utf8_len(u);
        if (!n) {
            ar_buf_add(b, "?", 1);
            u++;
            continue;
        }
        ar_buf_add(b, (const char *)u, (size_t)n);
        u += n;
    }
}

void ar_buf_escf(struct ar_buf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ar_buf_esc(b, tmp);
}

/* ---------------- palette ---------------- */

const char *ar_palette(int i) {
    static const char *const pal[] = {AR_C_BLUE,   AR_C_ORANGE, AR_C_GREEN, AR_C_VERMILLION,
                                      AR_C_PURPLE, AR_C_SKY,    AR_C_BLACK};
    const int n = (int)(sizeof pal / sizeof pal[0]);
    return pal[((i % n) + n) % n];
}

void ar_ramp(double t, char out[8]) {
    static const double stop[][3] = {
        {0xde, 0xeb, 0xf7}, {0x9e, 0xca, 0xe1}, {0x42, 0x92, 0xc6}, {0x21, 0x66, 0xac}, {0x08, 0x30, 0x6b}};
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    double f = t * 4;
    int k = (int)f;
    if (k > 3) k = 3;
    double w = f - k;
    int c[3];
    for (int j = 0; j < 3; j++) c[j] = (int)lround(stop[k][j] + w * (stop[k + 1][j] - stop[k][j]));
    snprintf(out, 8, "#%02x%02x%02x", c[0] & 255, c[1] & 255, c[2] & 255);
}

/* ---------------- numbers ---------------- */

void ar_fmt_g(double v, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "n/a");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

static void fmt_scaled(double v, char *buf, size_t n, const char *const *units, int n_units, double base,
                       const char *sep) {
    if (!isfinite(v)) {
        ar_fmt_g(v, buf, n);
        return;
    }
    int u = 0;
    double s = v;
    while (u + 1 < n_units && fabs(s) >= base - 0.5 * (base / 1000.0)) {
        s /= base;
        u++;
    }
    /* rounding to 3 significant digits may reach the next unit (999.7 -> 1e+03) */
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.3g", s);
    if (strchr(tmp, 'e') && u + 1 < n_units) {
        s /= base;
        u++;
        snprintf(tmp, sizeof tmp, "%.3g", s);
    }
    snprintf(buf, n, "%s%s%s", tmp, units[u][0] ? sep : "", units[u]);
}

void ar_fmt_si(double v, char *buf, size_t n) {
    static const char *const u[] = {"", "k", "M", "G", "T"};
    fmt_scaled(v, buf, n, u, 5, 1000.0, "");
}

void ar_fmt_bytes(double v, char *buf, size_t n) {
    static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
    fmt_scaled(v, buf, n, u, 5, 1000.0, " ");
}

/* ---------------- axes ---------------- */

double ar_nice_step(double span, int target) {
    if (!(span > 0) || !isfinite(span)) return 1;
    if (target < 1) target = 1;
    double raw = span / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
}

static void axis_reset(struct ar_axis *a, enum ar_fmt fmt, const char *label) {
    memset(a, 0, sizeof *a);
    a->fmt = fmt;
    a->unit = 1;
    snprintf(a->label, sizeof a->label, "%s", label ? label : "");
}

static void bytes_unit(struct ar_axis *a, double mx) {
    static const char *const un[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    double unit = 1;
    while (u < 4 && mx >= unit * 1000) {
        unit *= 1000;
        u++;
    }
    a->unit = unit;
    snprintf(a->unit_name, sizeof a->unit_name, "%s", un[u]);
    if (a->label[0]) {
        size_t l = strlen(a->label);
        static const char ls[] = " (log scale)";
        const size_t ll = sizeof ls - 1;
        if (l >= ll && !strcmp(a->label + l - ll, ls))
            snprintf(a->label + l - ll, sizeof a->label - (l - ll), " (%s, log scale)", un[u]);
        else
            snprintf(a->label + l, sizeof a->label - l, " (%s)", un[u]);
    }
}

void ar_axis_linear(struct ar_axis *a, double lo, double hi, int target, enum ar_fmt fmt, const char *label) {
    axis_reset(a, fmt, label);
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = 1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
        double d = lo != 0 ? fabs(lo) * 0.1 : 1;
        lo -= d;
        hi += d;
        if (lo < 0 && lo + d >= 0) lo = 0; /* keep a non-negative value's axis at 0 */
    }
    if (fmt == AR_FMT_BYTES) bytes_unit(a, fmax(fabs(lo), fabs(hi)));
    double u = a->unit;
    lo /= u;
    hi /= u;
    double step = ar_nice_step(hi - lo, target);
    double nlo, nhi;
    for (;;) {
        nlo = floor(lo / step + 1e-9) * step;
        nhi = ceil(hi / step - 1e-9) * step;
        if ((nhi - nlo) / step + 1.5 <= AR_AXIS_MAX_TICKS) break;
        step = ar_nice_step(hi - lo, (int)((hi - lo) / step / 2));
    }
    int nt = (int)lround((nhi - nlo) / step) + 1;
    for (int i = 0; i < nt; i++) {
        double v = nlo + i * step;
        if (fabs(v) < step * 1e-9) v = 0;
        a->tick[i] = v * u;
    }
    a->n_tick = nt;
    a->lo = nlo * u;
    a->hi = nhi * u;
    a->step = step;
}

void ar_axis_clip(struct ar_axis *a, double lo, double hi) {
    a->lo = lo;
    a->hi = hi;
    const double eps = 1e-9 * fmax(1, fabs(hi - lo));
    int n = 0;
    for (int i = 0; i < a->n_tick; i++)
        if (a->tick[i] >= lo - eps && a->tick[i] <= hi + eps) a->tick[n++] = a->tick[i];
    a->n_tick = n;
    n = 0;
    for (int i = 0; i < a->n_minor; i++)
        if (a->minor[i] >= lo - eps && a->minor[i] <= hi + eps) a->minor[n++] = a->minor[i];
    a->n_minor = n;
}

static void add_major(struct ar_axis *a, double v) {
    if (a->n_tick < AR_AXIS_MAX_TICKS) a->tick[a->n_tick++] = v;
}
static void add_minor(struct ar_axis *a, double v) {
    if (a->n_minor < 2 * AR_AXIS_MAX_TICKS) a->minor[a->n_minor++] = v;
}

void ar_axis_log(struct ar_axis *a, double lo, double hi, enum ar_fmt fmt, const char *label) {
    axis_reset(a, fmt, label);
    a->log = 1;
    if (!(lo > 0) || !isfinite(lo)) lo = 1;
    if (!(hi > 0) || !isfinite(hi)) hi = lo * 10;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi < lo * 1.5) {
        lo /= 1.25;
        hi *= 1.25;
    }
    a->lo = lo;
    a->hi = hi;
    const double elo = lo * (1 - 1e-9), ehi = hi * (1 + 1e-9);
    int e0 = (int)floor(log10(lo)), e1 = (int)ceil(log10(hi));
    /* majors: decades; if fewer than 3 fit, 1-2-5; if fewer than 2, every integer multiple */
    int decades = 0;
    for (int e = e0; e <= e1; e++) decades += pow(10, e) >= elo && pow(10, e) <= ehi;
    int every = decades > 8 ? (decades + 7) / 8 : 1;
    int mode = decades >= 3 ? 0 : 1;
    if (mode == 1) {
        int n125 = 0;
        for (int e = e0; e <= e1; e++)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
                double v = m * pow(10, e);
                n125 += v >= elo && v <= ehi;
            }
        if (n125 < 3) {
            /* every integer multiple, unless that is too many labels */
            int nall = 0;
            for (int e = e0; e <= e1; e++)
                for (int m = 1; m <= 9; m++) {
                    double v = m * pow(10, e);
                    nall += v >= elo && v <= ehi;
                }
            if (n125 < 2 || nall <= 10) mode = 2;
        }
    }
    for (int e = e0; e <= e1; e++)
        for (int m = 1; m <= 9; m++) {
            double v = m * pow(10, e);
            if (v < elo || v > ehi) continue;
            int major = mode == 0   ? m == 1 && ((e - e0) % every == 0)
                        : mode == 1 ? m == 1 || m == 2 || m == 5
                                    : 1;
            if (major)
                add_major(a, v);
            else if (every == 1 || m == 1)
                add_minor(a, v);
        }
    if (a->n_tick < 2) {
        /* a narrow range: linear nice ticks inside it */
        a->n_tick = a->n_minor = 0;
        double step = ar_nice_step(hi - lo, 4);
        for (double v = ceil(lo / step - 1e-9) * step; v <= ehi && a->n_tick < AR_AXIS_MAX_TICKS; v += step)
            add_major(a, v);
        a->step = step;
    }
    if (fmt == AR_FMT_BYTES) bytes_unit(a, hi);
}

static int decimals_for(double step) {
    for (int d = 0; d < 10; d++) {
        double s = step * pow(10, d);
        if (fabs(s - round(s)) < 1e-6 * fmax(1, s)) return d;
    }
    return 10;
}

void ar_axis_label(const struct ar_axis *a, double v, char *buf, size_t n) {
    if (a->log) {
        switch (a->fmt) {
        case AR_FMT_PCT: snprintf(buf, n, "%g%%", v * 100); return;
        case AR_FMT_BYTES: snprintf(buf, n, "%g", v / a->unit); return;
        case AR_FMT_NUM:
            if (v >= 1e4)
                ar_fmt_si(v, buf, n);
            else
                snprintf(buf, n, "%g", v);
            return;
        case AR_FMT_COUNT: ar_fmt_si(v, buf, n); return;
        }
    }
    switch (a->fmt) {
    case AR_FMT_PCT: {
        int d = decimals_for(a->step * 100);
        snprintf(buf, n, "%.*f%%", d, v * 100 + 0.0);
        return;
    }
    case AR_FMT_BYTES: {
        int d = decimals_for(a->step);
        snprintf(buf, n, "%.*f", d, v / a->unit + 0.0);
        return;
    }
    case AR_FMT_COUNT:
        if (fabs(a->hi) >= 1e4 || fabs(a->lo) >= 1e4) {
            ar_fmt_si(v, buf, n);
            return;
        }
        break;
    case AR_FMT_NUM: break;
    }
    int d = decimals_for(a->step);
    snprintf(buf, n, "%.*f", d, v + 0.0);
    if (buf[0] == '-' && strtod(buf, NULL) == 0) memmove(buf, buf + 1, strlen(buf));
}

/* ---------------- text metrics ---------------- */

double ar_text_width(const char *s, double fs) {
    double w = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned c = *u;
        if (c >= 0x80) {
            int n = utf8_len(u);
            w += 0.6;
            u += n ? n : 1;
            continue;
        }
        if (strchr("il.,:;|!'`()[] ", (int)c))
            w += 0.3;
        else if (strchr("fjrt-/", (int)c))
            w += 0.38;
        else if (c >= 'A' && c <= 'Z')
            w += c == 'M' || c == 'W' ? 0.85 : 0.66;
        else if (c == 'm' || c == 'w' || c == '%')
            w += 0.85;
        else
            w += 0.56;
        u++;
    }
    return w * fs;
}

/* ---------------- plot ---------------- */

#define FS_TICK 11.0
#define FS_LABEL 12.0
#define FS_TITLE 13.5
#define FS_LEG 11.0

static const char *dash_attr(int dash) {
    switch (dash) {
    case 1: return " stroke-dasharray=\"6 4\"";
    case 2: return " stroke-dasharray=\"1.5 3\" stroke-linecap=\"round\"";
    case 3: return " stroke-dasharray=\"10 3 2 3\"";
    default: return "";
    }
}

void ar_plot_init(struct ar_plot *p, double W, double H, const char *title) {
    memset(p, 0, sizeof *p);
    p->W = W;
    p->H = H;
    snprintf(p->title, sizeof p->title, "%s", title ? title : "");
    ar_axis_linear(&p->x, 0, 1, 5, AR_FMT_NUM, NULL);
    ar_axis_linear(&p->y, 0, 1, 5, AR_FMT_NUM, NULL);
}

void ar_plot_categories(struct ar_plot *p, int n, const char *const *lab, const char *label) {
    axis_reset(&p->x, AR_FMT_NUM, label);
    p->x.cat = n > 0 ? n : 1;
    p->x.lo = -0.5;
    p->x.hi = p->x.cat - 0.5;
    p->cat_label = lab;
}

void ar_plot_legend(struct ar_plot *p, const char *label, const char *color, enum ar_leg_kind kind,
                    enum ar_marker mk, int dash) {
    if (p->n_leg >= AR_PLOT_MAX_LEG) return;
    struct ar_legend_item *it = &p->leg[p->n_leg++];
    snprintf(it->label, sizeof it->label, "%s", label);
    snprintf(it->color, sizeof it->color, "%s", color);
    it->kind = kind;
    it->mk = mk;
    it->dash = dash;
}

static double leg_item_w(const struct ar_legend_item *it) { return 24 + ar_text_width(it->label, FS_LEG) + 14; }

/* Truncate a category label for display (UTF-8 safe: labels are cut at ASCII). */
static void cat_text(const char *s, char *out, size_t n) {
    size_t l = strlen(s);
    if (l <= 22) {
        snprintf(out, n, "%s", s);
        return;
    }
    snprintf(out, n, "…%s", s + l - 20);
    /* do not start inside a multi-byte sequence */
    char *q = out + 3;
    while ((*(unsigned char *)q & 0xC0) == 0x80) memmove(q, q + 1, strlen(q));
}

double ar_plot_px(const struct ar_plot *p, double x) {
    const struct ar_axis *a = &p->x;
    double t;
    if (a->log)
        t = (log10(x > 0 ? x : a->lo) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    else
        t = (x - a->lo) / (a->hi - a->lo);
    return p->x0 + t * (p->x1 - p->x0);
}

double ar_plot_py(const struct ar_plot *p, double y) {
    const struct ar_axis *a = &p->y;
    double t;
    if (a->log)
        t = (log10(y > 0 ? y : a->lo) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    else
        t = (y - a->lo) / (a->hi - a->lo);
    return p->y1 - t * (p->y1 - p->y0);
}

double ar_plot_cat_w(const struct ar_plot *p) { return (p->x1 - p->x0) / (p->x.cat > 0 ? p->x.cat : 1); }
double ar_plot_cat_x(const struct ar_plot *p, int i) { return p->x0 + (i + 0.5) * ar_plot_cat_w(p); }

void ar_plot_begin(struct ar_plot *p, struct ar_buf *b) {
    p->b = b;
    char lab[64];
    /* vertical layout: title, legend rows, plot, x labels */
    double top = 6;
    if (p->title[0]) top += 18;
    int rows = 0;
    if (p->n_leg) {
        double avail = p->W - 16, xx = 0;
        rows = 1;
        for (int i = 0; i < p->n_leg; i++) {
            double w = leg_item_w(&p->leg[i]);
            if (xx > 0 && xx + w > avail) {
                rows++;
                xx = 0;
            }
            xx += w;
        }
        p->leg_y = top + 8;
        top += rows * 17 + 2;
    }
    top += 13;
    double ymaxw = 0;
    for (int i = 0; i < p->y.n_tick; i++) {
        ar_axis_label(&p->y, p->y.tick[i], lab, sizeof lab);
        double w = ar_text_width(lab, FS_TICK);
        if (w > ymaxw) ymaxw = w;
    }
    double left = 8 + (p->y.label[0] ? 18 : 0) + ymaxw + 8;
    double right = 16;
    double bottom = 8 + FS_TICK + 6 + (p->x.label[0] ? 18 : 0);
    if (!p->x.cat && p->x.n_tick) {
        ar_axis_label(&p->x, p->x.tick[p->x.n_tick - 1], lab, sizeof lab);
        double hw = ar_text_width(lab, FS_TICK) / 2;
        if (hw + 4 > right) right = hw + 4;
    }
    if (p->x.cat && p->cat_label) {
        double slot = (p->W - left - right) / p->x.cat, maxw = 0;
        char t[96];
        for (int i = 0; i < p->x.cat; i++) {
            cat_text(p->cat_label[i], t, sizeof t);
            double w = ar_text_width(t, FS_TICK);
            if (w > maxw) maxw = w;
        }
        p->cat_rotate = maxw + 6 > slot;
        if (p->cat_rotate) bottom = 10 + maxw * 0.643 + FS_TICK * 0.766 + (p->x.label[0] ? 18 : 0) + 4;
    }
    p->x0 = left;
    p->x1 = p->W - right;
    p->y0 = top;
    p->y1 = p->H - bottom;
    if (p->y1 < p->y0 + 40) p->y1 = p->y0 + 40;

    ar_buf_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                  "height=\"%.0f\" role=\"img\" font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica "
                  "Neue',Arial,sans-serif\" font-size=\"%.0f\" fill=\"#333\">\n",
                  p->W, p->H, p->W, p->H, FS_TICK);
    ar_buf_puts(b, "<title>");
    ar_buf_esc(b, p->title);
    ar_buf_puts(b, "</title>\n");
    if (p->desc[0]) {
        ar_buf_puts(b, "<desc>");
        ar_buf_esc(b, p->desc);
        ar_buf_puts(b, "</desc>\n");
    }
    ar_buf_printf(b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", p->W, p->H);
    if (p->title[0]) {
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"19\" font-size=\"%.1f\" font-weight=\"600\" fill=\"#1d232a\">", 8.0,
                      FS_TITLE);
        ar_buf_esc(b, p->title);
        ar_buf_puts(b, "</text>\n");
    }
    /* legend */
    if (p->n_leg) {
        double xx = 8, yy = p->leg_y, avail = p->W - 16;
        ar_buf_puts(b, "<g class=\"legend\">\n");
        for (int i = 0; i < p->n_leg; i++) {
            const struct ar_legend_item *it = &p->leg[i];
            double w = leg_item_w(it);
            if (xx > 8 && xx - 8 + w > avail) {
                xx = 8;
                yy += 17;
            }
            if (it->kind == AR_LEG_BOX) {
                ar_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" rx=\"1.5\" fill=\"%s\"/>",
                              xx + 3, yy - 5, it->color);
            } else {
                ar_buf_printf(b,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                              "stroke-width=\"2\"%s/>",
                              xx, yy, xx + 20, yy, it->color, dash_attr(it->dash));
                if (it->mk) ar_svg_marker(b, it->mk, xx + 10, yy, 3.2, it->color, "#fff");
            }
            ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\">", xx + 24, yy + 3.8, FS_LEG);
            ar_buf_esc(b, it->label);
            ar_buf_puts(b, "</text>\n");
            xx += w;
        }
        ar_buf_puts(b, "</g>\n");
    }
    /* grid */
    ar_buf_puts(b, "<g class=\"grid\" stroke-width=\"1\">\n");
    if (p->y.log)
        for (int i = 0; i < p->y.n_minor; i++) {
            double y = ar_plot_py(p, p->y.minor[i]);
            if (y < p->y0 - 0.5 || y > p->y1 + 0.5) continue;
            ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f1f3f5\"/>\n", p->x0,
                          y, p->x1, y);
        }
    for (int i = 0; i < p->y.n_tick; i++) {
        double y = ar_plot_py(p, p->y.tick[i]);
        ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e7eb\"/>\n", p->x0, y,
                      p->x1, y);
    }
    if (!p->x.cat) {
        if (p->x.log)
            for (int i = 0; i < p->x.n_minor; i++) {
                double x = ar_plot_px(p, p->x.minor[i]);
                if (x < p->x0 - 0.5 || x > p->x1 + 0.5) continue;
                ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f1f3f5\"/>\n", x,
                              p->y0, x, p->y1);
            }
        for (int i = 0; i < p->x.n_tick; i++) {
            double x = ar_plot_px(p, p->x.tick[i]);
            ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef1f4\"/>\n", x,
                          p->y0, x, p->y1);
        }
    }
    ar_buf_puts(b, "</g>\n");
}

void ar_plot_end(struct ar_plot *p) {
    struct ar_buf *b = p->b;
    char lab[64];
    ar_buf_puts(b, "<g class=\"axes\">\n");
    ar_buf_printf(b, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#5b6670\" stroke-width=\"1\"/>\n",
                  p->x0, p->y0, p->y1, p->x1);
    double ylast = 1e9; /* crowded y labels are skipped too */
    for (int i = 0; i < p->y.n_tick; i++) {
        double y = ar_plot_py(p, p->y.tick[i]);
        ar_axis_label(&p->y, p->y.tick[i], lab, sizeof lab);
        ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#5b6670\"/>", p->x0 - 4, y,
                      p->x0, y);
        if (ylast - y < FS_TICK + 1) {
            ar_buf_puts(b, "\n");
            continue;
        }
        ylast = y;
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p->x0 - 7, y + 3.8);
        ar_buf_esc(b, lab);
        ar_buf_puts(b, "</text>\n");
    }
    if (p->x.cat) {
        char t[96];
        for (int i = 0; i < p->x.cat && p->cat_label; i++) {
            double x = ar_plot_cat_x(p, i);
            cat_text(p->cat_label[i], t, sizeof t);
            if (p->cat_rotate)
                ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %.1f)\">",
                              x + 3, p->y1 + 12, x + 3, p->y1 + 12);
            else
                ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, p->y1 + 16);
            ar_buf_esc(b, t);
            ar_buf_puts(b, "<title>");
            ar_buf_esc(b, p->cat_label[i]);
            ar_buf_puts(b, "</title></text>\n");
        }
    } else {
        double last = -1e9; /* right edge of the last label drawn: crowded labels are skipped */
        for (int i = 0; i < p->x.n_tick; i++) {
            double x = ar_plot_px(p, p->x.tick[i]);
            ar_axis_label(&p->x, p->x.tick[i], lab, sizeof lab);
            ar_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#5b6670\"/>", x, p->y1,
                          x, p->y1 + 4);
            double hw = ar_text_width(lab, FS_TICK) / 2;
            if (x - hw < last + 6) {
                ar_buf_puts(b, "\n");
                continue;
            }
            last = x + hw;
            ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, p->y1 + 16);
            ar_buf_esc(b, lab);
            ar_buf_puts(b, "</text>\n");
        }
    }
    if (p->y.label[0]) {
        double cy = (p->y0 + p->y1) / 2;
        ar_buf_printf(b,
                      "<text x=\"13\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.0f\" fill=\"#1d232a\" "
                      "transform=\"rotate(-90 13 %.1f)\">",
                      cy, FS_LABEL, cy);
        ar_buf_esc(b, p->y.label);
        ar_buf_puts(b, "</text>\n");
    }
    if (p->x.label[0]) {
        ar_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.0f\" fill=\"#1d232a\">",
                      (p->x0 + p->x1) / 2, p->H - 7, FS_LABEL);
        ar_buf_esc(b, p->x.label);
        ar_buf_puts(b, "</text>\n");
    }
    ar_buf_puts(b, "</g>\n</svg>\n");
}

void ar_svg_marker(struct ar_buf *b, enum ar_marker mk, double cx, double cy, double r, const char *fill,
                   const char *stroke) {
    switch (mk) {
    case AR_MK_NONE: return;
    case AR_MK_CIRCLE:
        ar_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"%s\"/>", cx, cy, r, fill,
                      stroke);
        return;
    case AR_MK_SQUARE:
        ar_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"%s\"/>",
                      cx - 0.9 * r, cy - 0.9 * r, 1.8 * r, 1.8 * r, fill, stroke);
        return;
    case AR_MK_DIAMOND:
        ar_buf_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" stroke=\"%s\"/>", cx,
                      cy - 1.25 * r, cx + 1.25 * r, cy, cx, cy + 1.25 * r, cx - 1.25 * r, cy, fill, stroke);
        return;
    case AR_MK_TRIANGLE:
        ar_buf_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" stroke=\"%s\"/>", cx,
                      cy - 1.2 * r, cx + 1.1 * r, cy + 0.8 * r, cx - 1.1 * r, cy + 0.8 * r, fill, stroke);
        return;
    }
}

/* A value for a tooltip, in the axis' unit but more precise than its ticks. */
static void tip_value(const struct ar_axis *a, double v, char *buf, size_t n) {
    switch (a->fmt) {
    case AR_FMT_PCT: snprintf(buf, n, "%.2f%%", 100 * v); return;
    case AR_FMT_BYTES: ar_fmt_bytes(v, buf, n); return;
    case AR_FMT_COUNT:
    case AR_FMT_NUM:
        if (v == floor(v) && fabs(v) < 1e15)
            snprintf(buf, n, "%.0f", v);
        else
            snprintf(buf, n, "%.4g", v);
        return;
    }
}

static int plottable(const struct ar_axis *a, double v) { return isfinite(v) && (!a->log || v > 0); }

/* marker with a tooltip: the marker element gets a <title> child */
static void marker_tip(struct ar_buf *b, enum ar_marker mk, double cx, double cy, double r, const char *fill,
                       const char *tip) {
    size_t mark = b->len;
    ar_svg_marker(b, mk, cx, cy, r, fill, "#fff");
    if (!tip || b->oom || b->len < mark + 2) return;
    /* turn "<elem .../>" into "<elem ...><title>tip</title></elem>" */
    const char *name = mk == AR_MK_CIRCLE ? "circle" : mk == AR_MK_SQUARE ? "rect" : "path";
    b->len -= 2;
    b->p[b->len] = 0;
    ar_buf_puts(b, "><title>");
    ar_buf_esc(b, tip);
    ar_buf_printf(b, "</title></%s>", name);
}

void ar_plot_series(struct ar_plot *p, const double *x, const double *y, int n, const char *color, int dash,
                    enum ar_marker mk, double width, const char *tip) {
    struct ar_buf *b = p->b;
    int pen = 0, any = 0, pts = 0;
    for (int i = 0; i < n; i++) pts += plottable(&p->x, x[i]) && plottable(&p->y, y[i]);
    for (int i = 0; i < n && pts > 1; i++) {
        if (!plottable(&p->x, x[i]) || !plottable(&p->y, y[i])) {
            pen = 0;
            continue;
        }
        if (!any) {
            ar_buf_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\"%s d=\"",
                          color, width, dash_attr(dash));
            any = 1;
        }
        ar_buf_printf(b, "%s%.1f %.1f", pen ? "L" : "M", ar_plot_px(p, x[i]), ar_plot_py(p, y[i]));
        pen = 1;
    }
    if (any) ar_buf_puts(b, "\"/>\n");
    if (mk == AR_MK_NONE) return;
    for (int i = 0; i < n; i++) {
        if (!plottable(&p->x, x[i]) || !plottable(&p->y, y[i])) continue;
        char t[256], vx[40], vy[40];
        tip_value(&p->x, x[i], vx, sizeof vx);
        tip_value(&p->y, y[i], vy, sizeof vy);
        snprintf(t, sizeof t, "%s%s%s at %s", tip ? tip : "", tip ? ": " : "", vy, vx);
        marker_tip(b, mk, ar_plot_px(p, x[i]), ar_plot_py(p, y[i]), 3.2, color, t);
    }
    ar_buf_puts(b, "\n");
}

void ar_plot_point(struct ar_plot *p, double x, double y, const char *color, enum ar_marker mk, double r,
                   const char *tip, const char *label) {
    if (!plottable(&p->x, x) || !plottable(&p->y, y)) return;
    double cx = ar_plot_px(p, x), cy = ar_plot_py(p, y);
    marker_tip(p->b, mk, cx, cy, r, color, tip);
    if (label && label[0]) {
        double w = ar_text_width(label, 10);
        int left = cx + r + 4 + w > p->x1;
        ar_buf_printf(p->b,
                      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"%s\" fill=\"#444\" stroke=\"#fff\" "
                      "stroke-width=\"3\" paint-order=\"stroke\">",
                      left ? cx - r - 4 : cx + r + 4, cy - r - 2, left ? "end" : "start");
        ar_buf_esc(p->b, label);
        ar_buf_puts(p->b, "</text>");
    }
    ar_buf_puts(p->b, "\n");
}

void ar_plot_hline(struct ar_plot *p, double y, const char *color, int dash, const char *label) {
    if (!plottable(&p->y, y)) return;
    double py = ar_plot_py(p, y);
    ar_buf_printf(p->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.3\"%s/>\n",
                  p->x0, py, p->x1, py, color, dash_attr(dash));
    if (label && label[0]) {
        ar_buf_printf(p->b,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" fill=\"%s\" stroke=\"#fff\" "
                      "stroke-width=\"3\" paint-order=\"stroke\">",
                      p->x1 - 3, py - p->y0 < 13 ? py + 11 : py - 4, color);
        ar_buf_esc(p->b, label);
        ar_buf_puts(p->b, "</text>\n");
    }
}

void ar_plot_vline(struct ar_plot *p, double x, const char *color, int dash, const char *label) {
    if (!plottable(&p->x, x)) return;
    double px = ar_plot_px(p, x);
    ar_buf_printf(p->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.3\"%s/>\n",
                  px, p->y0, px, p->y1, color, dash_attr(dash));
    if (label && label[0]) {
        ar_buf_printf(p->b,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\" fill=\"%s\" stroke=\"#fff\" "
                      "stroke-width=\"3\" paint-order=\"stroke\">",
                      px - 3, p->y0 + 10, color);
        ar_buf_esc(p->b, label);
        ar_buf_puts(p->b, "</text>\n");
    }
}

void ar_plot_xband(struct ar_plot *p, double xa, double xb, const char *fill, const char *label) {
    double a = ar_plot_px(p, xa), c = ar_plot_px(p, xb);
    if (a < p->x0) a = p->x0;
    if (c > p->x1) c = p->x1;
    if (!(c > a)) return;
    if (fill)
        ar_buf_printf(p->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", a, p->y0,
                      c - a, p->y1 - p->y0, fill);
    if (label && label[0]) {
        ar_buf_printf(p->b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#6b7680\" text-anchor=\"middle\">",
                      (a + c) / 2, p->y0 - 3);
        ar_buf_esc(p->b, label);
        ar_buf_puts(p->b, "</text>\n");
    }
}

void ar_plot_bar(struct ar_plot *p, double cx, double w, double y0, double y1, const char *fill, const char *stroke,
                 const char *tip) {
    if (!isfinite(y0) || !isfinite(y1)) return;
    double a = ar_plot_py(p, y0), c = ar_plot_py(p, y1);
    if (a > p->y1) a = p->y1;
    if (c > p->y1) c = p->y1;
    double top = a < c ? a : c, h = fabs(a - c);
    if (h < 0.01) return;
    ar_buf_printf(p->b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", cx - w / 2, top, w, h,
                  fill);
    if (stroke) ar_buf_printf(p->b, " stroke=\"%s\" stroke-width=\"0.8\"", stroke);
    if (tip) {
        ar_buf_puts(p->b, "><title>");
        ar_buf_esc(p->b, tip);
        ar_buf_puts(p->b, "</title></rect>\n");
    } else {
        ar_buf_puts(p->b, "/>\n");
    }
}
