/* Convolution through oneDNN 2.x (see conv.h): the process-wide engine/stream, the
 * creation of the forward / backward-data / backward-weights primitives with their
 * reorders and workspace plan, the allocation-free per-call execution, the blocked
 * layout helpers, and a double-accumulation reference convolution for tests. */
#include "kernels/conv.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/mem.h"
#include "core/status.h"

/* ------------------------------------------------------------------------------ */
/* Engine and stream                                                                */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
static dnnl_status_t g_init_status = dnnl_runtime_error;

static void engine_init_once(void) {
    dnnl_status_t st = dnnl_engine_create(&g_engine, dnnl_cpu, 0);
    if (st == dnnl_success) st = dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags);
    g_init_status = st;
}

/* ------------------------------------------------------------------------------ */
/* Object layout                                                                    */

enum { P_FWD, P_BWD_D, P_BWD_W, P_COUNT };
/* Workspace regions. Passes run one after another, so one region serves several
 * tensors: IN holds x or dx (blocked), OUT y or dy, W the weights or dw, DB a scratch
 * db when the caller passes NULL, SCR the largest oneDNN scratchpad. */
enum { R_IN, R_OUT, R_W, R_DB, R_SCR, R_COUNT, R_NONE = -1 };
#define MAX_ARGS 4

struct prim {
    dnnl_primitive_t p;
    dnnl_memory_t scratch; /* NULL when the primitive needs no scratchpad */
};

struct arg {
    int id;                      /* DNNL_ARG_* */
    int out;                     /* 1 for outputs */
    int region;                  /* workspace region of `inner`, R_NONE if none */
    int reordered;               /* user and inner layouts differ */
    dnnl_memory_desc_t user_md;  /* what the caller passes: plain (or native) */
    dnnl_memory_desc_t inner_md; /* what the primitive works on */
    dnnl_memory_t user, inner;   /* inner is NULL when there is no workspace copy */
    struct prim reorder;         /* inputs: user -> inner; outputs: inner -> user */
    struct prim add;             /* DIFF_SRC only: user += inner (accumulate) */
};

struct pass {
    int present;
    struct prim prim;
    int nargs;
    struct arg args[MAX_ARGS];
    char impl[64];
};

struct ar_conv {
    struct ar_conv_shape s;
    int flags;
    struct pass pass[P_COUNT];
    size_t reg_size[R_COUNT], reg_off[R_COUNT], ws_bytes;
    int share_dy; /* both backward passes want the same reordered dy */
    struct ar_conv_layout lay[2];
    /* Inference convs (no AR_CONV_TRAIN) keep their reordered weights: the reorder
     * runs on the first forward and again only after ar_conv_weights_changed or
     * when called with another weights pointer. */
    void *wcache;
    const void *wcache_src;
    int wcache_valid;
};

/* ------------------------------------------------------------------------------ */
/* Shapes                                                                           */

int ar_conv_shape_finish(struct ar_conv_shape *s) {
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->oc < 1 || s->kh < 1 || s->kw < 1) return 0;
    if (s->sh < 1 || s->sw < 1 || s->ph < 0 || s->pw < 0 || s->ph >= s->kh || s->pw >= s->kw) return 0;
    if (s->bias != 0 && s->bias != 1) return 0;
    long eh = (long)s->h + 2L * s->ph - s->kh, ew = (long)s->w + 2L * s->pw - s->kw;
    if (eh < 0 || ew < 0) return 0;
    s->oh = (int)(eh / s->sh + 1);
    s->ow = (int)(ew / s->sw + 1);
    return s->oh >= 1 && s->ow >= 1;
}

static int shape_ok(const struct ar_conv_shape *s) {
    struct ar_conv_shape t = *s;
    return ar_conv_shape_finish(&t) && t.oh == s->oh && t.ow == s->ow;
}

/* ------------------------------------------------------------------------------ */
/* Layout descriptions                                                              */

static int md_is_tag(const dnnl_memory_desc_t *md, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t t;
    if (md->ndims < 1 || md->ndims > 5) return 0;
    if (dnnl_memory_desc_init_by_tag(&t, md->ndims, md->dims, md->data_type, tag) != dnnl_success) return 0;
    return dnnl_memory_desc_equal(&t, md);
}

static void describe_layout(const dnnl_memory_desc_t *md, struct ar_conv_layout *l) {
    l->n = (int)md->dims[0];
    l->c = (int)md->dims[1];
    l->h = (int)md->dims[2];
    l->w = (int)md->dims[3];
    l->bytes = dnnl_memory_desc_get_size(md);
    if (md_is_tag(md, dnnl_nchw))
        l->block = 1;
    else if (md_is_tag(md, dnnl_nChw16c))
        l->block = 16;
    else if (md_is_tag(md, dnnl_nChw8c))
        l->block = 8;
    else
        l->block = 0;
}

/* oneDNN-style tag of a blocked md ("aBcd16b"), for ar_conv_describe. */
static void md_tag_str(const dnnl_memory_desc_t *md, char *buf, size_t len) {
    if (md->format_kind != dnnl_blocked || md->ndims > 8) {
        snprintf(buf, len, "?");
        return;
    }
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int order[8], nd = md->ndims, pos = 0;
    for (int i = 0; i < nd; i++) order[i] = i;
    for (int i = 0; i < nd; i++) /* outer dims by decreasing stride (stable) */
        for (int j = i + 1; j < nd; j++)
            if (b->strides[order[j]] > b->strides[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int i = 0; i < nd && pos + 1 < (int)len; i++) {
        int d = order[i], blocked = 0;
        for (int k = 0; k < b->inner_nblks; k++) blocked |= b->inner_idxs[k] == d;
        buf[pos++] = (char)((blocked ? 'A' : 'a') + d);
    }
    buf[pos] = 0;
    for (int k = 0; k < b->inner_nblks && pos + 8 < (int)len; k++)
        pos += snprintf(buf + pos, len - (size_t)pos, "%d%c", (int)b->inner_blks[k], (char)('a' + b->inner_idxs[k]));
}

/* ------------------------------------------------------------------------------ */
/* Creation helpers                                                                 */

#define CK(expr, what)                                                                      \
    do {                                                                                    \
        dnnl_status_t st_ = (expr);                                                         \
        if (st_ != dnnl_success) {                                                          \
            rc = ar_errf(err, AR_ERR_BACKEND, "oneDNN %s: %s", (what), dnnl_status2str(st_)); \
            goto fail;                                                                      \
        }                                                                                   \
    } while (0)

static void prim_free(struct prim *p) {
    if (p->p) dnnl_primitive_destroy(p->p);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    p->p = NULL;
    p->scratch = NULL;
}

static int attr_new(dnnl_primitive_attr_t *attr, int with_sum, char *err) {
    int rc = AR_OK;
    dnnl_post_ops_t po = NULL;
    *attr = NULL;
    CK(dnnl_primitive_attr_create(attr), "attr_create");
    CK(dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode");
    if (with_sum) {
        CK(dnnl_post_ops_create(&po), "post_ops_create");
        CK(dnnl_post_ops_append_sum(po, 1.0f), "post_ops_append_sum");
        CK(dnnl_primitive_attr_set_post_ops(*attr, po), "set_post_ops");
    }
    if (po) dnnl_post_ops_destroy(po);
    return AR_OK;
fail:
    if (po) dnnl_post_ops_destroy(po);
    if (*attr) dnnl_primitive_attr_destroy(*attr);
    *attr = NULL;
    return rc;
}

/* Primitive from a primitive descriptor, plus a scratchpad memory object; records
 * the scratchpad size in *scr_max. Takes ownership of pd (destroys it). */
static int prim_from_pd(struct prim *p, dnnl_primitive_desc_t pd, size_t *scr_max, char *err) {
    int rc = AR_OK;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sbytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    CK(dnnl_primitive_create(&p->p, pd), "primitive_create");
    if (sbytes > 0) {
        CK(dnnl_memory_create(&p->scratch, smd, g_engine, DNNL_MEMORY_NONE), "memory_create(scratchpad)");
        if (sbytes > *scr_max) *scr_max = sbytes;
    }
fail:
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static int reorder_new(struct prim *p, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, int sum,
                       size_t *scr_max, char *err) {
    int rc;
    dnnl_primitive_attr_t attr;
    dnnl_primitive_desc_t pd = NULL;
    if ((rc = attr_new(&attr, sum, err)) != AR_OK) return rc;
    CK(dnnl_reorder_primitive_desc_create(&pd, from, g_engine, to, g_engine, attr), "reorder_primitive_desc_create");
    dnnl_primitive_attr_destroy(attr);
    return prim_from_pd(p, pd, scr_max, err);
fail:
    dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* Fill one argument of a pass: user vs inner layout, memory objects, reorders. */
static int arg_init(struct ar_conv *cv, struct arg *a, int id, int out, const dnnl_memory_desc_t *user_md,
                    const dnnl_memory_desc_t *inner_md, int region, char *err) {
    int rc = AR_OK;
    size_t *scr = &cv->reg_size[R_SCR];
    a->id = id;
    a->out = out;
    a->user_md = *user_md;
    a->inner_md = *inner_md;
    a->reordered = !dnnl_memory_desc_equal(user_md, inner_md);
    a->region = R_NONE;
    CK(dnnl_memory_create(&a->user, user_md, g_engine, DNNL_MEMORY_NONE), "memory_create");
    int need_inner = a->reordered || id == DNNL_ARG_DIFF_SRC;
    if (need_inner) {
        AR_ASSERT(region != R_NONE);
        size_t bytes = dnnl_memory_desc_get_size(inner_md);
        if (bytes > cv->reg_size[region]) cv->reg_size[region] = bytes;
        a->region = region;
        CK(dnnl_memory_create(&a->inner, inner_md, g_engine, DNNL_MEMORY_NONE), "memory_create");
    }
    if (a->reordered) {
        if (out)
            rc = reorder_new(&a->reorder, inner_md, user_md, 0, scr, err);
        else
            rc = reorder_new(&a->reorder, user_md, inner_md, 0, scr, err);
        if (rc != AR_OK) goto fail;
    }
    if (id == DNNL_ARG_DIFF_SRC && (rc = reorder_new(&a->add, inner_md, user_md, 1, scr, err)) != AR_OK)
        goto fail;
fail:
    return rc;
}

static const char *pd_impl(const_dnnl_primitive_desc_t pd) {
    const char *s = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s) return "?";
    return s;
}

static const dnnl_memory_desc_t *qmd(const_dnnl_primitive_desc_t pd, dnnl_query_t q) {
    return dnnl_primitive_desc_query_md(pd, q, 0);
}

struct mds {
    dnnl_memory_desc_t x, w, b, y, any_x, any_w, any_y;
    dnnl_dims_t strides, pad_l, pad_r;
};

/* How one pass is built: oneDNN on plain NCHW/OIHW, or format "any" (blocked
 * layouts + reorders) with the direct or the Winograd algorithm. */
enum { K_PLAIN, K_ANY, K_WINO };

/* Winograd F(4x4, 3x3) is oneDNN's fastest f32 algorithm for 3x3 stride-1
 * convolutions with channel counts that are multiples of 16 (2-2.5x the direct
 * kernels here); elsewhere it is unimplemented or slower. */
static int wino_eligible(const struct ar_conv_shape *s, int flags) {
    return !(flags & AR_CONV_DIRECT) && s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 && s->ph <= 1 &&
           s->pw <= 1 && s->c % 16 == 0 && s->oc % 16 == 0;
}

/* The per-shape, per-pass rule of the automatic mode, measured on the ResNet-18 and
 * small-CNN shapes at batch 128 on 2 threads (bench/README-conv.md). */
static int pass_kind(const struct ar_conv_shape *s, int flags, int pass) {
    if (flags & AR_CONV_PLAIN) return K_PLAIN;
    int any = wino_eligible(s, flags) ? K_WINO : K_ANY;
    if (flags & (AR_CONV_BLOCKED | AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y)) return any;
    if (any == K_WINO) return K_WINO;
    /* Few input channels (network stems): the blocked kernels pad c to 16 and the
     * reorder of the large output costs more than the convolution saves. */
    if (s->c < 16 && pass != P_BWD_W) return K_PLAIN;
    /* 1x1 stride-2 shortcuts: cheap convolutions that read a quarter of x, so
     * reordering all of x to the blocked layout costs more than it gains. */
    if (s->kh == 1 && s->kw == 1 && (s->sh > 1 || s->sw > 1)) return K_PLAIN;
    return K_ANY;
}

/* Create one convolution primitive descriptor with the given algorithm and
 * layouts. `hint` is a forward pd (backward passes). With reject_ref, a pd whose
 * implementation is oneDNN's slow reference code counts as unimplemented. */
static int conv_pd(dnnl_primitive_desc_t *pd, int pass, dnnl_alg_kind_t alg, const struct ar_conv_shape *s,
                   const struct mds *m, const dnnl_memory_desc_t *xmd, const dnnl_memory_desc_t *wmd,
                   const dnnl_memory_desc_t *ymd, int train, const_dnnl_primitive_desc_t hint, int reject_ref,
                   char *err) {
    int rc = AR_OK;
    dnnl_convolution_desc_t d;
    dnnl_primitive_attr_t attr;
    *pd = NULL;
    if ((rc = attr_new(&attr, 0, err)) != AR_OK) return rc;
    const dnnl_memory_desc_t *bmd = s->bias ? &m->b : NULL;
    if (pass == P_FWD)
        CK(dnnl_convolution_forward_desc_init(&d, train ? dnnl_forward_training : dnnl_forward_inference, alg, xmd,
                                              wmd, bmd, ymd, m->strides, m->pad_l, m->pad_r),
           "convolution_forward_desc_init");
    else if (pass == P_BWD_D)
        CK(dnnl_convolution_backward_data_desc_init(&d, alg, xmd, wmd, ymd, m->strides, m->pad_l, m->pad_r),
           "convolution_backward_data_desc_init");
    else
        CK(dnnl_convolution_backward_weights_desc_init(&d, alg, xmd, wmd, bmd, ymd, m->strides, m->pad_l, m->pad_r),
           "convolution_backward_weights_desc_init");
    CK(dnnl_primitive_desc_create(pd, &d, attr, g_engine, hint), "convolution primitive_desc_create");
    if (reject_ref && strncmp(pd_impl(*pd), "ref", 3) == 0) {
        dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        rc = ar_errf(err, AR_ERR_BACKEND, "oneDNN convolution: only a reference implementation");
    }
fail:
    dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* A pass of kind k, trying in order: Winograd (K_WINO), direct on the layouts
 * `fx`/`fy` (the forward pass's choice, so dy can be shared and native buffers need
 * no reorder), direct on "any". K_PLAIN: direct on NCHW/OIHW. */
static int make_pd(dnnl_primitive_desc_t *pd, int pass, int k, const struct ar_conv_shape *s, const struct mds *m,
                   const dnnl_memory_desc_t *fx, const dnnl_memory_desc_t *fy, int train,
                   const_dnnl_primitive_desc_t hint, char *err) {
    if (k == K_PLAIN) return conv_pd(pd, pass, dnnl_convolution_direct, s, m, &m->x, &m->w, &m->y, train, hint, 0, err);
    if (!fx) fx = &m->any_x;
    if (!fy) fy = &m->any_y;
    if (k == K_WINO &&
        conv_pd(pd, pass, dnnl_convolution_winograd, s, m, fx, &m->any_w, fy, train, hint, 1, err) == AR_OK)
        return AR_OK;
    if (conv_pd(pd, pass, dnnl_convolution_direct, s, m, fx, &m->any_w, fy, train, hint, 1, err) == AR_OK)
        return AR_OK;
    return conv_pd(pd, pass, dnnl_convolution_direct, s, m, &m->any_x, &m->any_w, &m->any_y, train, hint, 0, err);
}

static int pass_args(struct ar_conv *cv, struct pass *p, int pass, const dnnl_primitive_desc_t pd,
                     const struct mds *m, const dnnl_memory_desc_t *ux, const dnnl_memory_desc_t *uy, char *err) {
    int rc = AR_OK;
    int k = 0;
    snprintf(p->impl, sizeof p->impl, "%s", pd_impl(pd));
    if (pass == P_FWD) {
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_SRC, 0, ux, qmd(pd, dnnl_query_src_md), R_IN, err));
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_WEIGHTS, 0, &m->w, qmd(pd, dnnl_query_weights_md), R_W, err));
        if (cv->s.bias) {
            AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_BIAS, 0, &m->b, &m->b, R_NONE, err));
            cv->reg_size[R_DB] = (size_t)cv->s.oc * sizeof(float);
        }
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DST, 1, uy, qmd(pd, dnnl_query_dst_md), R_OUT, err));
    } else if (pass == P_BWD_D) {
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DIFF_DST, 0, uy, qmd(pd, dnnl_query_diff_dst_md), R_OUT, err));
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_WEIGHTS, 0, &m->w, qmd(pd, dnnl_query_weights_md), R_W, err));
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DIFF_SRC, 1, ux, qmd(pd, dnnl_query_diff_src_md), R_IN, err));
    } else {
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_SRC, 0, ux, qmd(pd, dnnl_query_src_md), R_IN, err));
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DIFF_DST, 0, uy, qmd(pd, dnnl_query_diff_dst_md), R_OUT, err));
        AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DIFF_WEIGHTS, 1, &m->w, qmd(pd, dnnl_query_diff_weights_md), R_W,
                        err));
        if (cv->s.bias) {
            AR_TRY(arg_init(cv, &p->args[k++], DNNL_ARG_DIFF_BIAS, 1, &m->b, &m->b, R_NONE, err));
            cv->reg_size[R_DB] = (size_t)cv->s.oc * sizeof(float);
        }
    }
    p->nargs = k;
fail:
    return rc;
}

int ar_conv_create(struct ar_conv **out, const struct ar_conv_shape *s, int flags, char *err) {
    int rc = AR_OK;
    struct ar_conv *cv = NULL;
    dnnl_primitive_desc_t pd[P_COUNT] = {NULL, NULL, NULL}, hint = NULL;
    *out = NULL;
    if (!shape_ok(s))
        return ar_errf(err, AR_ERR_ARG, "conv: invalid shape n=%d c=%d h=%d w=%d oc=%d k=%dx%d s=%dx%d p=%dx%d", s->n,
                       s->c, s->h, s->w, s->oc, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw);
    if ((flags & ~63) || ((flags & AR_CONV_PLAIN) && (flags & AR_CONV_BLOCKED)))
        return ar_errf(err, AR_ERR_ARG, "conv: bad flags 0x%x", (unsigned)flags);
    pthread_once(&g_once, engine_init_once);
    if (g_init_status != dnnl_success)
        return ar_errf(err, AR_ERR_BACKEND, "oneDNN CPU engine: %s", dnnl_status2str(g_init_status));
    cv = calloc(1, sizeof *cv);
    if (!cv) return ar_errf(err, AR_ERR_NOMEM, "conv: out of memory");
    cv->s = *s;
    cv->flags = flags;
    int train = (flags & AR_CONV_TRAIN) != 0;

    struct mds m;
    dnnl_dims_t dx = {s->n, s->c, s->h, s->w}, dw = {s->oc, s->c, s->kh, s->kw}, db = {s->oc},
                dy = {s->n, s->oc, s->oh, s->ow};
    CK(dnnl_memory_desc_init_by_tag(&m.x, 4, dx, dnnl_f32, dnnl_nchw), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.w, 4, dw, dnnl_f32, dnnl_oihw), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.b, 1, db, dnnl_f32, dnnl_x), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.y, 4, dy, dnnl_f32, dnnl_nchw), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.any_x, 4, dx, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.any_w, 4, dw, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
    CK(dnnl_memory_desc_init_by_tag(&m.any_y, 4, dy, dnnl_f32, dnnl_format_tag_any), "memory_desc_init");
    m.strides[0] = s->sh;
    m.strides[1] = s->sw;
    m.pad_l[0] = s->ph;
    m.pad_l[1] = s->pw;
    /* right padding so that oneDNN's output size matches PyTorch's floor formula (may be negative) */
    m.pad_r[0] = (dnnl_dim_t)(s->oh - 1) * s->sh + s->kh - s->h - s->ph;
    m.pad_r[1] = (dnnl_dim_t)(s->ow - 1) * s->sw + s->kw - s->w - s->pw;

    int kind[P_COUNT];
    for (int p = 0; p < P_COUNT; p++) kind[p] = pass_kind(s, flags, p);

    /* The forward pass as it runs with NATIVE flags (blocked, Winograd where
     * eligible) defines the native layouts of x and y and is the hint of the
     * backward passes; it is replaced when the forward pass runs plain. */
    int native_kind = (flags & AR_CONV_PLAIN) ? K_PLAIN : wino_eligible(s, flags) ? K_WINO : K_ANY;
    AR_TRY(make_pd(&hint, P_FWD, native_kind, s, &m, NULL, NULL, train, NULL, err));
    const dnnl_memory_desc_t fx = *qmd(hint, dnnl_query_src_md), fy = *qmd(hint, dnnl_query_dst_md);
    describe_layout(&fx, &cv->lay[AR_CONV_X]);
    describe_layout(&fy, &cv->lay[AR_CONV_Y]);
    if (((flags & AR_CONV_NATIVE_X) && cv->lay[AR_CONV_X].block == 0) ||
        ((flags & AR_CONV_NATIVE_Y) && cv->lay[AR_CONV_Y].block == 0)) {
        rc = ar_errf(err, AR_ERR_ARG, "conv: native layout requested but oneDNN chose an undescribed layout");
        goto fail;
    }
    const dnnl_memory_desc_t *ux = (flags & AR_CONV_NATIVE_X) ? &fx : &m.x;
    const dnnl_memory_desc_t *uy = (flags & AR_CONV_NATIVE_Y) ? &fy : &m.y;
    if (kind[P_FWD] == native_kind)
        AR_TRY(dnnl_primitive_desc_clone(&pd[P_FWD], hint) == dnnl_success
                   ? AR_OK
                   : ar_errf(err, AR_ERR_BACKEND, "oneDNN primitive_desc_clone failed"));
    else
        AR_TRY(make_pd(&pd[P_FWD], P_FWD, kind[P_FWD], s, &m, NULL, NULL, train, NULL, err));
    if (train)
        for (int p = P_BWD_D; p <= P_BWD_W; p++) AR_TRY(make_pd(&pd[p], p, kind[p], s, &m, &fx, &fy, train, hint, err));

    for (int p = 0; p < P_COUNT; p++) {
        if (!pd[p]) continue;
        struct pass *ps = &cv->pass[p];
        AR_TRY(pass_args(cv, ps, p, pd[p], &m, ux, uy, err));
        ps->present = 1;
        dnnl_primitive_desc_t tmp = pd[p];
        pd[p] = NULL;
        AR_TRY(prim_from_pd(&ps->prim, tmp, &cv->reg_size[R_SCR], err));
    }
    if (train) {
        const struct arg *a = &cv->pass[P_BWD_D].args[0], *b = &cv->pass[P_BWD_W].args[1];
        AR_ASSERT(a->id == DNNL_ARG_DIFF_DST && b->id == DNNL_ARG_DIFF_DST);
        cv->share_dy = a->reordered && b->reordered && dnnl_memory_desc_equal(&a->inner_md, &b->inner_md);
    }
    if (!train) {
        const struct pass *fp = &cv->pass[P_FWD];
        for (int i = 0; i < fp->nargs; i++)
            if (fp->args[i].id == DNNL_ARG_WEIGHTS && fp->args[i].reordered) {
                cv->wcache = ar_alloc_big(dnnl_memory_desc_get_size(&fp->args[i].inner_md));
                if (!cv->wcache) {
                    rc = ar_errf(err, AR_ERR_NOMEM, "conv: out of memory for the weight cache");
                    goto fail;
                }
            }
    }
    size_t off = 0;
    for (int r = 0; r < R_COUNT; r++) {
        cv->reg_off[r] = off;
        off += (cv->reg_size[r] + 4095) / 4096 * 4096;
    }
    cv->ws_bytes = off;
    dnnl_primitive_desc_destroy(hint);
    *out = cv;
    return AR_OK;
fail:
    if (hint) dnnl_primitive_desc_destroy(hint);
    for (int p = 0; p < P_COUNT; p++)
        if (pd[p]) dnnl_primitive_desc_destroy(pd[p]);
    ar_conv_free(cv);
    return rc;
}

static void arg_free(struct arg *a) {
    if (a->user) dnnl_memory_destroy(a->user);
    if (a->inner) dnnl_memory_destroy(a->inner);
    prim_free(&a->reorder);
    prim_free(&a->add);
}

void ar_conv_free(struct ar_conv *cv) {
    if (!cv) return;
    for (int p = 0; p < P_COUNT; p++) {
        struct pass *ps = &cv->pass[p];
        for (int i = 0; i < MAX_ARGS; i++) arg_free(&ps->args[i]);
        prim_free(&ps->prim);
    }
    ar_free_big(cv->wcache);
    free(cv);
}

size_t ar_conv_workspace_bytes(const struct ar_conv *cv) { return cv->ws_bytes; }

void ar_conv_weights_changed(struct ar_conv *cv) {
    if (cv) cv->wcache_valid = 0;
}

void ar_conv_native_layout(const struct ar_conv *cv, int which, struct ar_conv_layout *out) {
    AR_ASSERT(which == AR_CONV_X || which == AR_CONV_Y);
    *out = cv->lay[which];
}

void ar_conv_describe(const struct ar_conv *cv, char *buf, size_t len) {
    static const char *names[P_COUNT] = {"fwd", "bwd_d", "bwd_w"};
    size_t pos = 0;
    if (len == 0) return;
    buf[0] = 0;
    for (int p = 0; p < P_COUNT && pos < len; p++) {
        const struct pass *ps = &cv->pass[p];
        if (!ps->present) continue;
        int w = snprintf(buf + pos, len - pos, "%s%s %s:", pos ? "\n" : "", names[p], ps->impl);
        if (w < 0) return;
        pos += (size_t)w;
        for (int i = 0; i < ps->nargs && pos < len; i++) {
            char t[48];
            md_tag_str(&ps->args[i].inner_md, t, sizeof t);
            w = snprintf(buf + pos, len - pos, " %s%s", t, ps->args[i].reordered ? "*" : "");
            if (w < 0) return;
            pos += (size_t)w;
        }
    }
}

/* ------------------------------------------------------------------------------ */
/* Execution (no allocation, cannot fail)                                           */

static void bind(dnnl_memory_t m, const void *p) {
    dnnl_status_t st = dnnl_memory_set_data_handle_v2(m, (void *)(uintptr_t)p, g_stream);
    AR_ASSERT(st == dnnl_success);
}

static void exec_prim(const struct prim *p, int nargs, dnnl_exec_arg_t *args, char *ws, const struct ar_conv *cv) {
    if (p->scratch) {
        bind(p->scratch, ws + cv->reg_off[R_SCR]);
        args[nargs].arg = DNNL_ARG_SCRATCHPAD;
        args[nargs].memory = p->scratch;
        nargs++;
    }
    dnnl_status_t st = dnnl_primitive_execute(p->p, g_stream, nargs, args);
    AR_ASSERT(st == dnnl_success);
}

static void exec_reorder(const struct prim *p, dnnl_memory_t from, dnnl_memory_t to, char *ws,
                         const struct ar_conv *cv) {
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    exec_prim(p, 2, a, ws, cv);
}

/* Run one pass. ptr[i]: caller buffer of argument i (NULL only for DIFF_BIAS, then
 * the DB region is used). skip_in: bitmask of inputs whose inner copy is already in
 * the workspace. */
static void pass_run(struct ar_conv *cv, int pass, const void *const *ptr, int accumulate, unsigned skip_in,
                     char *ws) {
    struct pass *ps = &cv->pass[pass];
    dnnl_exec_arg_t ea[MAX_ARGS + 1];
    AR_ASSERT(ps->present);
    AR_ASSERT(ws != NULL || cv->ws_bytes == 0);
    AR_ASSERT(((uintptr_t)ws & 63) == 0);
    for (int i = 0; i < ps->nargs; i++) {
        struct arg *a = &ps->args[i];
        const void *p = ptr[i];
        if (!p) {
            AR_ASSERT(a->id == DNNL_ARG_DIFF_BIAS);
            p = ws + cv->reg_off[R_DB];
        }
        ea[i].arg = a->id;
        int use_inner = a->reordered || (a->id == DNNL_ARG_DIFF_SRC && accumulate);
        if (use_inner && a->id == DNNL_ARG_WEIGHTS && cv->wcache) {
            bind(a->inner, cv->wcache);
            ea[i].memory = a->inner;
            if (!cv->wcache_valid || cv->wcache_src != p) {
                bind(a->user, p);
                exec_reorder(&a->reorder, a->user, a->inner, ws, cv);
                cv->wcache_valid = 1;
                cv->wcache_src = p;
            }
        } else if (use_inner) {
            bind(a->inner, ws + cv->reg_off[a->region]);
            ea[i].memory = a->inner;
            if (!a->out && !(skip_in & (1u << i))) {
                bind(a->user, p);
                exec_reorder(&a->reorder, a->user, a->inner, ws, cv);
            }
        } else {
            bind(a->user, p);
            ea[i].memory = a->user;
        }
    }
    exec_prim(&ps->prim, ps->nargs, ea, ws, cv);
    for (int i = 0; i < ps->nargs; i++) {
        struct arg *a = &ps->args[i];
        if (!a->out || !ptr[i]) continue;
        if (a->id == DNNL_ARG_DIFF_SRC && accumulate) {
            bind(a->user, ptr[i]);
            exec_reorder(&a->add, a->inner, a->user, ws, cv);
        } else if (a->reordered) {
            bind(a->user, ptr[i]);
            exec_reorder(&a->reorder, a->inner, a->user, ws, cv);
        }
    }
}

void ar_conv_forward(struct ar_conv *cv, const float *x, const float *w, const float *b, float *y, void *ws) {
    /* x: (n,c,h,w)  w: (oc,c,kh,kw)  b: (oc)  y: (n,oc,oh,ow) */
    AR_ASSERT(cv && x && w && y);
    AR_ASSERT(cv->s.bias || b == NULL);
    if (cv->s.bias && !b) { /* created with a bias but called without: add zeros */
        float *zero = (float *)((char *)ws + cv->reg_off[R_DB]); /* zero: (oc) */
        memset(zero, 0, (size_t)cv->s.oc * sizeof(float));
        b = zero;
    }
    const void *ptr[MAX_ARGS] = {x, w, b, y}; /* argument order of the pass */
    if (!cv->s.bias) ptr[2] = y;               /* no BIAS argument: DST is third */
    pass_run(cv, P_FWD, ptr, 0, 0, ws);
}

void ar_conv_backward_data(struct ar_conv *cv, const float *dy, const float *w, float *dx, int accumulate,
                           void *ws) {
    /* dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w) */
    AR_ASSERT(cv && dy && w && dx);
    AR_ASSERT(cv->flags & AR_CONV_TRAIN);
    const void *ptr[MAX_ARGS] = {dy, w, dx, NULL};
    pass_run(cv, P_BWD_D, ptr, accumulate != 0, 0, ws);
}

void ar_conv_backward_weights(struct ar_conv *cv, const float *x, const float *dy, float *dw, float *db,
                              void *ws) {
    /* x: (n,c,h,w)  dy: (n,oc,oh,ow)  dw: (oc,c,kh,kw)  db: (oc) */
    AR_ASSERT(cv && x && dy && dw);
    AR_ASSERT(cv->flags & AR_CONV_TRAIN);
    AR_ASSERT(cv->s.bias || db == NULL);
    const void *ptr[MAX_ARGS] = {x, dy, dw, db};
    pass_run(cv, P_BWD_W, ptr, 0, 0, ws);
}

void ar_conv_backward(struct ar_conv *cv, const float *x, const float *dy, const float *w, float *dx,
                      int accumulate, float *dw, float *db, void *ws) {
    /* x: (n,c,h,w)  dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w)  dw: (oc,c,kh,kw)  db: (oc) */
    AR_ASSERT(cv && x && dy && dw);
    AR_ASSERT(cv->flags & AR_CONV_TRAIN);
    AR_ASSERT(cv->s.bias || db == NULL);
    unsigned skip = 0;
    if (dx) {
        AR_ASSERT(w != NULL);
        const void *pd[MAX_ARGS] = {dy, w, dx, NULL};
        pass_run(cv, P_BWD_D, pd, accumulate != 0, 0, ws);
        if (cv->share_dy) skip = 1u << 1; /* dy (argument 1 of bwd_w) is still in region OUT */
    }
    const void *pw[MAX_ARGS] = {x, dy, dw, db};
    pass_run(cv, P_BWD_W, pw, 0, skip, ws);
}

/* ------------------------------------------------------------------------------ */
/* Layout helpers                                                                   */

void ar_conv_layout_pack(const struct ar_conv_layout *l, const float *nchw, float *native) {
    /* nchw: (n,c,h,w)  native: (n, ceil(c/B), h, w, B) */
    AR_ASSERT(l->block == 1 || l->block == 8 || l->block == 16);
    const int B = l->block, cb = (l->c + B - 1) / B;
    const size_t hw = (size_t)l->h * l->w;
    if (B == 1) {
        memcpy(native, nchw, (size_t)l->n * l->c * hw * sizeof(float));
        return;
    }
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < l->n; i++)
        for (int g = 0; g < cb; g++) {
            float *dst = native + ((size_t)i * cb + g) * hw * B; /* dst: (h*w, B) */
            for (int j = 0; j < B; j++) {
                int ch = g * B + j;
                if (ch < l->c) {
                    const float *src = nchw + ((size_t)i * l->c + ch) * hw; /* src: (h*w) */
                    for (size_t q = 0; q < hw; q++) dst[q * B + j] = src[q];
                } else {
                    for (size_t q = 0; q < hw; q++) dst[q * B + j] = 0.0f;
                }
            }
        }
}

void ar_conv_layout_unpack(const struct ar_conv_layout *l, const float *native, float *nchw) {
    /* native: (n, ceil(c/B), h, w, B)  nchw: (n,c,h,w) */
    AR_ASSERT(l->block == 1 || l->block == 8 || l->block == 16);
    const int B = l->block, cb = (l->c + B - 1) / B;
    const size_t hw = (size_t)l->h * l->w;
    if (B == 1) {
        memcpy(nchw, native, (size_t)l->n * l->c * hw * sizeof(float));
        return;
    }
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < l->n; i++)
        for (int ch = 0; ch < l->c; ch++) {
            const float *src = native + ((size_t)i * cb + ch / B) * hw * B + ch % B; /* stride B */
            float *dst = nchw + ((size_t)i * l->c + ch) * hw;                          /* dst: (h*w) */
            for (size_t q = 0; q < hw; q++) dst[q] = src[q * B];
        }
}

/* ------------------------------------------------------------------------------ */
/* Reference convolution                                                            */

void ar_conv_ref_forward(const struct ar_conv_shape *s, const float *x, const float *w, const float *b,
                         float *y) {
    /* x: (n,c,h,w)  w: (oc,c,kh,kw)  b: (oc)  y: (n,oc,oh,ow) */
    AR_ASSERT(shape_ok(s));
    for (int i = 0; i < s->n; i++)
        for (int o = 0; o < s->oc; o++)
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) {
                    double acc = b ? (double)b[o] : 0.0;
                    for (int ci = 0; ci < s->c; ci++)
                        for (int ky = 0; ky < s->kh; ky++) {
                            int iy = oy * s->sh - s->ph + ky;
                            if (iy < 0 || iy >= s->h) continue;
                            for (int kx = 0; kx < s->kw; kx++) {
                                int ix = ox * s->sw - s->pw + kx;
                                if (ix < 0 || ix >= s->w) continue;
                                acc += (double)x[(((size_t)i * s->c + ci) * s->h + iy) * s->w + ix] *
                                       (double)w[(((size_t)o * s->c + ci) * s->kh + ky) * s->kw + kx];
                            }
                        }
                    y[(((size_t)i * s->oc + o) * s->oh + oy) * s->ow + ox] = (float)acc;
                }
}

void ar_conv_ref_backward_data(const struct ar_conv_shape *s, const float *dy, const float *w, float *dx,
                               int accumulate) {
    /* dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w) */
    AR_ASSERT(shape_ok(s));
    for (int i = 0; i < s->n; i++)
        for (int ci = 0; ci < s->c; ci++)
            for (int iy = 0; iy < s->h; iy++)
                for (int ix = 0; ix < s->w; ix++) {
                    double acc = 0.0;
                    for (int ky = 0; ky < s->kh; ky++) {
                        int ty = iy + s->ph - ky; /* = oy * sh */
                        if (ty < 0 || ty % s->sh) continue;
                        int oy = ty / s->sh;
                        if (oy >= s->oh) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int tx = ix + s->pw - kx;
                            if (tx < 0 || tx % s->sw) continue;
                            int ox = tx / s->sw;
                            if (ox >= s->ow) continue;
                            for (int o = 0; o < s->oc; o++)
                                acc += (double)dy[(((size_t)i * s->oc + o) * s->oh + oy) * s->ow + ox] *
                                       (double)w[(((size_t)o * s->c + ci) * s->kh + ky) * s->kw + kx];
                        }
                    }
                    float *d = &dx[(((size_t)i * s->c + ci) * s->h + iy) * s->w + ix];
                    *d = accumulate ? (float)((double)*d + acc) : (float)acc;
                }
}

void ar_conv_ref_backward_weights(const struct ar_conv_shape *s, const float *x, const float *dy, float *dw,
                                  float *db) {
    /* x: (n,c,h,w)  dy: (n,oc,oh,ow)  dw: (oc,c,kh,kw)  db: (oc) */
    AR_ASSERT(shape_ok(s));
    for (int o = 0; o < s->oc; o++) {
        for (int ci = 0; ci < s->c; ci++)
            for (int ky = 0; ky < s->kh; ky++)
                for (int kx = 0; kx < s->kw; kx++) {
                    double acc = 0.0;
                    for (int i = 0; i < s->n; i++)
                        for (int oy = 0; oy < s->oh; oy++) {
                            int iy = oy * s->sh - s->ph + ky;
                            if (iy < 0 || iy >= s->h) continue;
                            for (int ox = 0; ox < s->ow; ox++) {
                                int ix = ox * s->sw - s->pw + kx;
                                if (ix < 0 || ix >= s->w) continue;
                                acc += (double)x[(((size_t)i * s->c + ci) * s->h + iy) * s->w + ix] *
                                       (double)dy[(((size_t)i * s->oc + o) * s->oh + oy) * s->ow + ox];
                            }
                        }
                    dw[(((size_t)o * s->c + ci) * s->kh + ky) * s->kw + kx] = (float)acc;
                }
        if (db) {
            double acc = 0.0;
            for (int i = 0; i < s->n; i++)
                for (size_t q = 0; q < (size_t)s->oh * s->ow; q++)
                    acc += (double)dy[((size_t)i * s->oc + o) * s->oh * s->ow + q];
            db[o] = (float)acc;
        }
    }
}
