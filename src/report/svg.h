/* A small SVG plot writer for the run report: a growable text buffer with XML
 * escaping, axis scales (linear with "nice" ticks, log with decade ticks), and
 * plots made of line/point series, bars, reference lines, legends, titles and
 * axis labels. No dependencies; all text goes through ar_buf_esc.
 *
 * A plot is drawn in three steps:
 *   ar_plot_init(&p, W, H, title); set p.x / p.y with ar_axis_linear/ar_axis_log
 *   (or ar_plot_categories); add legend entries; ar_plot_begin(&p, buf) lays out
 *   margins and writes the frame and grid; series calls draw in data units;
 *   ar_plot_end(&p) draws axes, ticks and the legend and closes the <svg>.
 * Coordinates are viewBox units; the <svg> is as wide as W at most and shrinks
 * with its container (responsive). */
#ifndef AR_REPORT_SVG_H
#define AR_REPORT_SVG_H

#include <stddef.h>

#include "core/status.h"

/* ---- text buffer ---- */

struct ar_buf {
    char *p;     /* NUL-terminated contents (NULL while empty) */
    size_t len, cap;
    int oom;     /* an allocation failed; contents are incomplete */
};

void ar_buf_init(struct ar_buf *b);
void ar_buf_free(struct ar_buf *b);
void ar_buf_add(struct ar_buf *b, const char *s, size_t n);
void ar_buf_puts(struct ar_buf *b, const char *s);
void ar_buf_printf(struct ar_buf *b, const char *fmt, ...) AR_PRINTF(2, 3);
/* Append s escaped for XML text and attribute values (& < > " '); control
 * characters and invalid UTF-8 become '?'. NULL appends nothing. */
void ar_buf_esc(struct ar_buf *b, const char *s);
void ar_buf_escf(struct ar_buf *b, const char *fmt, ...) AR_PRINTF(2, 3);

/* ---- palette (Okabe & Ito, colour-blind safe) ---- */

#define AR_C_BLUE "#0072B2"
#define AR_C_ORANGE "#E69F00"
#define AR_C_GREEN "#009E73"
#define AR_C_VERMILLION "#D55E00"
#define AR_C_PURPLE "#CC79A7"
#define AR_C_SKY "#56B4E9"
#define AR_C_YELLOW "#F0E442"
#define AR_C_BLACK "#000000"
#define AR_C_GREY "#8C8C8C"
#define AR_C_LIGHT "#D9D9D9"

/* i-th colour of the categorical sequence (wraps); never yellow, which is unreadable on white. */
const char *ar_palette(int i);
/* Sequential ramp for densities in [0, 1] (light to dark blue), as "#rrggbb". */
void ar_ramp(double t, char out[8]);

/* ---- number formatting ---- */

/* Shortest of %.{1..17}g that reads back as v (for tables). "n/a" for NaN. */
void ar_fmt_g(double v, char *buf, size_t n);
/* Count with a k/M/G suffix and at most 3 significant digits: 1316 -> "1.32k". */
void ar_fmt_si(double v, char *buf, size_t n);
/* Bytes with B/kB/MB/GB/TB (decimal): 1234567 -> "1.23 MB". */
void ar_fmt_bytes(double v, char *buf, size_t n);

/* ---- axes ---- */

enum ar_fmt {
    AR_FMT_NUM = 0, /* plain number, decimals from the tick step */
    AR_FMT_PCT,     /* fraction shown as percent: 0.25 -> "25%" */
    AR_FMT_COUNT,   /* k/M suffixes */
    AR_FMT_BYTES    /* one unit per axis (B/kB/MB/GB), named in the axis label */
};

#define AR_AXIS_MAX_TICKS 48

struct ar_axis {
    int log;       /* 1: log10 scale */
    int cat;       /* >0: categorical with this many slots (x only; see ar_plot_categories) */
    enum ar_fmt fmt;
    double lo, hi; /* scale range (after nice expansion) */
    double tick[AR_AXIS_MAX_TICKS];
    int n_tick;
    double minor[2 * AR_AXIS_MAX_TICKS];
    int n_minor;
    double step;      /* linear: tick step */
    double unit;      /* label divisor (bytes axes) */
    char unit_name[8];
    char label[128];  /* axis title (unit appended for bytes axes) */
};

/* Nice linear ticks covering [lo, hi] with about `target` intervals; the range is
 * widened to the outer ticks. lo == hi is widened around the value. */
void ar_axis_linear(struct ar_axis *a, double lo, double hi, int target, enum ar_fmt fmt, const char *label);
/* Log scale over exactly [lo, hi] (both > 0; a range under 1.5x is widened):
 * major ticks at the decades inside it (every k-th when there are more than 8),
 * at 1-2-5 multiples when fewer than 3 decades fit, at every integer multiple
 * when fewer than three 1-2-5 values fit (and that makes at most 10 labels);
 * minor ticks at the other multiples. */
void ar_axis_log(struct ar_axis *a, double lo, double hi, enum ar_fmt fmt, const char *label);
/* Set the range to exactly [lo, hi] and drop the ticks outside it. */
void ar_axis_clip(struct ar_axis *a, double lo, double hi);
/* Text of tick value v on axis a. */
void ar_axis_label(const struct ar_axis *a, double v, char *buf, size_t n);
/* Nice step ~ span / target: 1, 2, 2.5 or 5 times a power of ten. */
double ar_nice_step(double span, int target);

/* ---- plots ---- */

enum ar_marker { AR_MK_NONE = 0, AR_MK_CIRCLE, AR_MK_SQUARE, AR_MK_DIAMOND, AR_MK_TRIANGLE };
enum ar_leg_kind { AR_LEG_LINE = 0, AR_LEG_BOX };

#define AR_PLOT_MAX_LEG 12

struct ar_legend_item {
    char label[96];
    char color[16];
    enum ar_leg_kind kind;
    enum ar_marker mk;
    int dash;
};

struct ar_plot {
    struct ar_buf *b;
    double W, H;
    double x0, x1, y0, y1; /* plot area (y0 top, y1 bottom) */
    char title[160];
    struct ar_axis x, y;
    const char *const *cat_label; /* categorical x labels (referenced) */
    int cat_rotate;               /* set by begin when labels do not fit horizontally */
    struct ar_legend_item leg[AR_PLOT_MAX_LEG];
    int n_leg;
    double leg_y;     /* first legend row (set by begin) */
    char desc[256];   /* accessible description (<desc>) */
};

void ar_plot_init(struct ar_plot *p, double W, double H, const char *title);
/* Categorical x axis of n slots labelled lab[i] (referenced until ar_plot_end). */
void ar_plot_categories(struct ar_plot *p, int n, const char *const *lab, const char *label);
void ar_plot_legend(struct ar_plot *p, const char *label, const char *color, enum ar_leg_kind kind,
                    enum ar_marker mk, int dash);
void ar_plot_begin(struct ar_plot *p, struct ar_buf *b);
void ar_plot_end(struct ar_plot *p);

/* Data to viewBox coordinates (log axes clamp non-positive values to the bottom). */
double ar_plot_px(const struct ar_plot *p, double x);
double ar_plot_py(const struct ar_plot *p, double y);
/* Centre and width of categorical slot i. */
double ar_plot_cat_x(const struct ar_plot *p, int i);
double ar_plot_cat_w(const struct ar_plot *p);

/* A polyline through (x[i], y[i]) with optional markers. NaN values (and
 * non-positive values on log axes) break the line. `tip` (may be NULL) names the
 * series in each marker's tooltip. */
void ar_plot_series(struct ar_plot *p, const double *x, const double *y, int n, const char *color, int dash,
                    enum ar_marker mk, double width, const char *tip);
/* One marker at data (x, y) with a tooltip and an optional text label beside it. */
void ar_plot_point(struct ar_plot *p, double x, double y, const char *color, enum ar_marker mk, double r,
                   const char *tip, const char *label);
/* Horizontal / vertical reference line across the plot area; label (may be NULL) is
 * written at its right / top end. */
void ar_plot_hline(struct ar_plot *p, double y, const char *color, int dash, const char *label);
void ar_plot_vline(struct ar_plot *p, double x, const char *color, int dash, const char *label);
/* Shaded x range (drawn under later series; fill NULL: label only), labelled
 * above the plot area. */
void ar_plot_xband(struct ar_plot *p, double xa, double xb, const char *fill, const char *label);
/* Bar in viewBox x (centre cx, width w) from data y0 to y1, with a tooltip. */
void ar_plot_bar(struct ar_plot *p, double cx, double w, double y0, double y1, const char *fill, const char *stroke,
                 const char *tip);

/* Marker shape at viewBox (cx, cy). */
void ar_svg_marker(struct ar_buf *b, enum ar_marker mk, double cx, double cy, double r, const char *fill,
                   const char *stroke);
/* Estimated width of text at font size fs (system sans-serif). */
double ar_text_width(const char *s, double fs);

#endif
