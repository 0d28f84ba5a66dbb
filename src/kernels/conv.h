/* 2-D convolution (groups = 1, no dilation) through oneDNN 2.x, behind a small
 * interface that speaks plain NCHW activations and OIHW (PyTorch) weights.
 *
 * Life cycle: ar_conv_create() builds every oneDNN object once (primitives, memory
 * objects, reorders); the per-step calls (forward / backward) only bind pointers and
 * execute, allocate nothing of their own and cannot fail. All temporary memory
 * (oneDNN's scratchpad, blocked copies of x/w/y/dy/dx/dw) lives in a caller-owned
 * workspace of ar_conv_workspace_bytes() bytes, which one executor can share between
 * all of its convolutions because calls never run concurrently.
 *
 * Engine: one process-wide CPU engine and in-order stream, created lazily and
 * thread-safely (pthread_once) by the first ar_conv_create(); it lives until the
 * process exits. Calls on convolution objects must come from one thread at a time;
 * oneDNN parallelises each call internally with OpenMP.
 *
 * Layouts: by default every pass is created with format "any" and oneDNN picks its
 * preferred (usually channel-blocked nChw16c / OIhw16i16o) layouts; reorders to and
 * from the caller's NCHW/OIHW buffers run around each call inside the workspace.
 * Optionally (AR_CONV_NATIVE_X / _Y) the caller keeps activations in the layout that
 * ar_conv_native_layout() reports, and those reorders disappear. */
#ifndef AR_CONV_H
#define AR_CONV_H

#include <stddef.h>

struct ar_conv_shape {
    int n, c, h, w;   /* input: batch, channels, height, width */
    int oc, kh, kw;   /* output channels, kernel height, kernel width */
    int sh, sw;       /* strides (>= 1) */
    int ph, pw;       /* zero padding on each side (>= 0) */
    int oh, ow;       /* output size, filled by ar_conv_shape_finish */
    int bias;         /* 1: y += b (and backward computes db) */
};

/* Fill s->oh / s->ow from the other fields with PyTorch's formula
 * oh = (h + 2*ph - kh) / sh + 1 (floor). Returns 1 when the shape is valid (every
 * size >= 1, strides >= 1, paddings >= 0, padding < kernel, oh and ow >= 1), else 0
 * (s->oh / s->ow are then unspecified). */
int ar_conv_shape_finish(struct ar_conv_shape *s);

struct ar_conv; /* opaque: primitives, memory descriptors and objects, reorders */

/* Creation flags (OR them together). */
#define AR_CONV_TRAIN 1    /* also create the backward-data and backward-weights passes */
#define AR_CONV_PLAIN 2    /* force oneDNN to work directly on NCHW/OIHW (no reorders); benchmarks */
#define AR_CONV_BLOCKED 4  /* force format "any" + reorders for every pass; benchmarks */
#define AR_CONV_NATIVE_X 8 /* x and dx pointers are in ar_conv_native_layout(cv, AR_CONV_X) */
#define AR_CONV_NATIVE_Y 16 /* y and dy pointers are in ar_conv_native_layout(cv, AR_CONV_Y) */
#define AR_CONV_DIRECT 32  /* never use the Winograd algorithm (see below) */

/* Create a convolution for shape *s (which must have passed ar_conv_shape_finish).
 * Without AR_CONV_PLAIN / AR_CONV_BLOCKED the layout of each pass is chosen by a
 * measured per-shape rule (see bench/README-conv.md): plain for few input channels
 * (stems) and 1x1 stride-2 shortcuts, blocked + reorders elsewhere.
 * Algorithm: 3x3 stride-1 convolutions whose channel counts are multiples of 16 use
 * oneDNN's Winograd F(4x4,3x3) kernels unless AR_CONV_DIRECT (or AR_CONV_PLAIN) is
 * given: 2-2.5x faster, with a rounding error about 10x the direct one (max error
 * ~2e-5 of the output's RMS instead of ~2e-6; still far below bf16/TF32). Returns AR_OK and sets *out,
 * AR_ERR_ARG for an invalid shape or flag combination (including a NATIVE flag when
 * the native layout is not one ar_conv_layout can describe), AR_ERR_NOMEM, or
 * AR_ERR_BACKEND when oneDNN fails; err (may be NULL) receives a one-line message. */
int ar_conv_create(struct ar_conv **out, const struct ar_conv_shape *s, int flags, char *err);

/* Free everything ar_conv_create made. Accepts NULL. */
void ar_conv_free(struct ar_conv *cv);
/* A conv created without AR_CONV_TRAIN keeps its weights in oneDNN's layout after
 * the first forward; call this when the weight values change (a new pointer is
 * noticed by itself). */
void ar_conv_weights_changed(struct ar_conv *cv);

/* Bytes of workspace one call needs (oneDNN scratchpad + reorder buffers); may be 0.
 * Allocate the maximum over all convolutions once (64-byte aligned, e.g. ar_alloc_big)
 * and pass it to every call. */
size_t ar_conv_workspace_bytes(const struct ar_conv *cv);

/* y = conv(x, w) + b.
 *   x: (n,c,h,w)  w: (oc,c,kh,kw)  b: (oc) or NULL (no bias; must be NULL when !s->bias)  y: (n,oc,oh,ow)
 *   ws: ar_conv_workspace_bytes(cv) bytes, 64-byte aligned (NULL allowed when that is 0).
 * x, w, b, y and ws must not overlap. */
void ar_conv_forward(struct ar_conv *cv, const float *x, const float *w, const float *b, float *y, void *ws);

/* dx = conv_transpose(dy, w), or dx += conv_transpose(dy, w) when accumulate != 0.
 *   dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w). Needs AR_CONV_TRAIN. */
void ar_conv_backward_data(struct ar_conv *cv, const float *dy, const float *w, float *dx, int accumulate,
                           void *ws);

/* dw = dL/dw and db = dL/db, both OVERWRITTEN (not accumulated).
 *   x: (n,c,h,w)  dy: (n,oc,oh,ow)  dw: (oc,c,kh,kw)  db: (oc) or NULL (must be NULL when !s->bias).
 *   Needs AR_CONV_TRAIN. */
void ar_conv_backward_weights(struct ar_conv *cv, const float *x, const float *dy, float *dw, float *db,
                              void *ws);

/* Both backward passes in one call; dy is reordered to the blocked layout once and
 * shared when both passes want the same layout. Same results as
 * ar_conv_backward_data (skipped when dx == NULL) followed by ar_conv_backward_weights.
 *   x: (n,c,h,w)  dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w) or NULL
 *   dw: (oc,c,kh,kw)  db: (oc) or NULL */
void ar_conv_backward(struct ar_conv *cv, const float *x, const float *dy, const float *w, float *dx,
                      int accumulate, float *dw, float *db, void *ws);

/* ---- Optional: activations in oneDNN's native layout (no reorders) ----
 * A tensor of logical shape (n, c, h, w) is stored either plain (block == 1: NCHW) or
 * channel-blocked (block == 8 or 16: dims (n, ceil(c/block), h, w, block), element
 * (i, ch, y, x) at (((i*cb + ch/block)*h + y)*w + x)*block + ch%block, with the padding
 * channels ch >= c always zero). block == 0 means "another layout" (not usable natively). */
struct ar_conv_layout {
    int n, c, h, w;
    int block;    /* 1, 8, 16, or 0 (other) */
    size_t bytes; /* buffer size in bytes, padding included */
};
#define AR_CONV_X 0 /* the input x (and dx) */
#define AR_CONV_Y 1 /* the output y (and dy) */

/* The native layout of `which` (AR_CONV_X or AR_CONV_Y): the layout the forward pass
 * uses when created with NATIVE flags. It depends on the shape and the TRAIN / PLAIN /
 * DIRECT flags only (not on the NATIVE flags), so an executor can create once to plan
 * and then create with NATIVE flags. The backward passes use the same layout for dx
 * and dy (reordering internally only if oneDNN has no fast kernel for it). */
void ar_conv_native_layout(const struct ar_conv *cv, int which, struct ar_conv_layout *out);

/* Convert between plain NCHW and a layout (padding channels written as zeros).
 *   nchw: (n,c,h,w)  native: l->bytes bytes. OpenMP-parallel, cannot fail. */
void ar_conv_layout_pack(const struct ar_conv_layout *l, const float *nchw, float *native);
void ar_conv_layout_unpack(const struct ar_conv_layout *l, const float *native, float *nchw);

/* One line per pass: implementation name and layouts (for benchmarks and debugging). */
void ar_conv_describe(const struct ar_conv *cv, char *buf, size_t len);

/* ---- Reference convolution (double accumulation, single thread; tests only) ---- */
/* y = conv(x, w) + b.  x: (n,c,h,w)  w: (oc,c,kh,kw)  b: (oc) or NULL  y: (n,oc,oh,ow) */
void ar_conv_ref_forward(const struct ar_conv_shape *s, const float *x, const float *w, const float *b,
                         float *y);
/* dx (+)= conv_transpose(dy, w).  dy: (n,oc,oh,ow)  w: (oc,c,kh,kw)  dx: (n,c,h,w) */
void ar_conv_ref_backward_data(const struct ar_conv_shape *s, const float *dy, const float *w, float *dx,
                               int accumulate);
/* dw = dL/dw, db = dL/db (db may be NULL).  x: (n,c,h,w)  dy: (n,oc,oh,ow)  dw: (oc,c,kh,kw)  db: (oc) */
void ar_conv_ref_backward_weights(const struct ar_conv_shape *s, const float *x, const float *dy, float *dw,
                                  float *db);

#endif
