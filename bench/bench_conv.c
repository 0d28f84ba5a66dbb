/* Convolution benchmark: times ar_conv forward / backward-data / backward-weights
 * (and the combined backward) on the ResNet-18 CIFAR and small-CNN shapes, for each
 * layout strategy, and prints GFLOP/s (median of --reps runs). See bench/README-conv.md.
 *
 *   bench_conv [--reps N] [--batch N] [--mode plain,blk-dir,auto,nat-dir,native] [--describe] [--only SUBSTR]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/rng.h"
#include "core/status.h"
#include "kernels/conv.h"

struct bshape {
    const char *name;
    int c, h, oc, k, s, p;
    int r18; /* how often ResNet-18 (CIFAR) has this convolution; 0 for the small CNN */
};

static const struct bshape shapes[] = {
    {"r18 stem 3-64 32x32 k3", 3, 32, 64, 3, 1, 1, 1},
    {"r18 64-64 32x32 k3", 64, 32, 64, 3, 1, 1, 4},
    {"r18 64-128 32>16 k3s2", 64, 32, 128, 3, 2, 1, 1},
    {"r18 64-128 32>16 k1s2", 64, 32, 128, 1, 2, 0, 1},
    {"r18 128-128 16x16 k3", 128, 16, 128, 3, 1, 1, 3},
    {"r18 128-256 16>8 k3s2", 128, 16, 256, 3, 2, 1, 1},
    {"r18 128-256 16>8 k1s2", 128, 16, 256, 1, 2, 0, 1},
    {"r18 256-256 8x8 k3", 256, 8, 256, 3, 1, 1, 3},
    {"r18 256-512 8>4 k3s2", 256, 8, 512, 3, 2, 1, 1},
    {"r18 256-512 8>4 k1s2", 256, 8, 512, 1, 2, 0, 1},
    {"r18 512-512 4x4 k3", 512, 4, 512, 3, 1, 1, 3},
    {"cnn 1-32 28x28 k3", 1, 28, 32, 3, 1, 1, 0},
    {"cnn 32-64 28>14 k3s2", 32, 28, 64, 3, 2, 1, 0},
    {"cnn 64-128 14>7 k3s2", 64, 14, 128, 3, 2, 1, 0},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *alloc_fill(size_t n, struct ar_rng *r) {
    float *p = ar_alloc_big(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = ar_rng_uniform(r) * 2.0f - 1.0f;
    return p;
}

enum { T_FWD, T_BWD_D, T_BWD_W, T_BWD, T_COUNT };
#define MAX_REPS 64
#define NM 5 /* modes */

int main(int argc, char **argv) {
    int reps = 7, batch = 128, describe = 0;
    const char *modes = "plain,blk-dir,auto,nat-dir,native", *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            modes = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--describe"))
            describe = 1;
        else {
            fprintf(stderr, "usage: %s [--reps N] [--batch N] [--mode plain,blk-dir,auto,nat-dir,native] [--describe] [--only S]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    static const char *mode_names[NM] = {"plain", "blk-dir", "auto", "nat-dir", "native"};
    static const int mode_flags[NM] = {AR_CONV_PLAIN, AR_CONV_BLOCKED | AR_CONV_DIRECT, 0,
                                       AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y | AR_CONV_DIRECT,
                                       AR_CONV_NATIVE_X | AR_CONV_NATIVE_Y};
    printf("batch %d, median of %d runs, GFLOP/s (ms); bwd = bwd_d + bwd_w in one ar_conv_backward call\n", batch,
           reps);
    printf("%-26s %-8s %15s %15s %15s %15s\n", "shape", "mode", "fwd", "bwd_d", "bwd_w", "bwd");
    double tot_ms[NM][T_COUNT] = {{0}}, step_ms[NM] = {0};
    int step_complete = 1; /* every ResNet-18 shape was measured */
    struct ar_rng rng;
    ar_rng_seed(&rng, 1, 2, 3);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const struct bshape *b = &shapes[si];
        if (only && !strstr(b->name, only)) {
            step_complete &= b->r18 == 0;
            continue;
        }
        struct ar_conv_shape s = {batch, b->c, b->h, b->h, b->oc, b->k, b->k, b->s, b->s, b->p, b->p, 0, 0, 0};
        if (!ar_conv_shape_finish(&s)) {
            fprintf(stderr, "bad shape %s\n", b->name);
            return 1;
        }
        size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = (size_t)s.n * s.oc * s.oh * s.ow,
               nw = (size_t)s.oc * s.c * s.kh * s.kw;
        double flop = 2.0 * (double)ny * s.c * s.kh * s.kw;
        float *x = alloc_fill(nx + 64, &rng), *dx = alloc_fill(nx + 64, &rng), *y = alloc_fill(ny + 64, &rng),
              *dy = alloc_fill(ny + 64, &rng), *w = alloc_fill(nw, &rng), *dw = alloc_fill(nw, &rng);
        /* One object per mode; the modes are interleaved run by run so that slow
         * phases of the (virtual) machine hit every mode alike. */
        struct ar_conv *cv[NM] = {NULL};
        float *nat[NM][4] = {{NULL}}; /* native: x, dx, y, dy */
        void *ws[NM] = {NULL};
        size_t wsb[NM] = {0};
        for (int mi = 0; mi < NM; mi++) {
            if (!strstr(modes, mode_names[mi])) continue;
            char err[AR_ERR_LEN];
            if (ar_conv_create(&cv[mi], &s, AR_CONV_TRAIN | mode_flags[mi], err) != AR_OK) {
                printf("%-26s %-8s create failed: %s\n", b->name, mode_names[mi], err);
                cv[mi] = NULL;
                continue;
            }
            if (mode_flags[mi] & AR_CONV_NATIVE_X) {
                struct ar_conv_layout lx, ly;
                ar_conv_native_layout(cv[mi], AR_CONV_X, &lx);
                ar_conv_native_layout(cv[mi], AR_CONV_Y, &ly);
                for (int k = 0; k < 4; k++) {
                    nat[mi][k] = ar_alloc_big(k < 2 ? lx.bytes : ly.bytes);
                    if (!nat[mi][k]) return 1;
                }
                ar_conv_layout_pack(&lx, x, nat[mi][0]);
                ar_conv_layout_pack(&ly, dy, nat[mi][3]);
            } else {
                nat[mi][0] = x, nat[mi][1] = dx, nat[mi][2] = y, nat[mi][3] = dy;
            }
            wsb[mi] = ar_conv_workspace_bytes(cv[mi]);
            ws[mi] = wsb[mi] ? ar_alloc_big(wsb[mi]) : NULL;
            if (wsb[mi] && !ws[mi]) return 1;
        }
        int R = reps > MAX_REPS ? MAX_REPS : reps;
        static double t[NM][T_COUNT][MAX_REPS];
        for (int r = -1; r < R; r++) /* r = -1: warm-up */
            for (int mi = 0; mi < NM; mi++) {
                if (!cv[mi]) continue;
                float *xx = nat[mi][0], *xdx = nat[mi][1], *xy = nat[mi][2], *xdy = nat[mi][3];
                for (int pass = 0; pass < T_COUNT; pass++) {
                    double t0 = now();
                    if (pass == T_FWD)
                        ar_conv_forward(cv[mi], xx, w, NULL, xy, ws[mi]);
                    else if (pass == T_BWD_D)
                        ar_conv_backward_data(cv[mi], xdy, w, xdx, 0, ws[mi]);
                    else if (pass == T_BWD_W)
                        ar_conv_backward_weights(cv[mi], xx, xdy, dw, NULL, ws[mi]);
                    else
                        ar_conv_backward(cv[mi], xx, xdy, w, xdx, 0, dw, NULL, ws[mi]);
                    if (r >= 0) t[mi][pass][r] = now() - t0;
                }
            }
        for (int mi = 0; mi < NM; mi++) {
            if (!cv[mi]) continue;
            printf("%-26s %-8s", b->name, mode_names[mi]);
            for (int pass = 0; pass < T_COUNT; pass++) {
                double med = median(t[mi][pass], R), f = pass == T_BWD ? 2 * flop : flop;
                tot_ms[mi][pass] += med * 1e3;
                /* training step: forward + both backward passes (stem: no dx needed) */
                if (pass == T_FWD || pass == (si == 0 ? T_BWD_W : T_BWD)) step_ms[mi] += b->r18 * med * 1e3;
                char cell[32];
                snprintf(cell, sizeof cell, "%.0f (%.2f)", f / med * 1e-9, med * 1e3);
                printf(" %15s", cell);
            }
            printf("  ws %.1f MiB\n", (double)wsb[mi] / 1048576.0);
            if (describe) {
                char d[1024];
                ar_conv_describe(cv[mi], d, sizeof d);
                printf("    %s\n", d);
            }
            fflush(stdout);
            ar_free_big(ws[mi]);
            if (mode_flags[mi] & AR_CONV_NATIVE_X)
                for (int k = 0; k < 4; k++) ar_free_big(nat[mi][k]);
            ar_conv_free(cv[mi]);
        }
        ar_free_big(x);
        ar_free_big(dx);
        ar_free_big(y);
        ar_free_big(dy);
        ar_free_big(w);
        ar_free_big(dw);
    }
    printf("\nsum of medians over the shapes above (ms):\n");
    for (int mi = 0; mi < NM; mi++) {
        if (!strstr(modes, mode_names[mi])) continue;
        printf("%-8s fwd %8.2f  bwd_d %8.2f  bwd_w %8.2f  bwd %8.2f\n", mode_names[mi], tot_ms[mi][T_FWD],
               tot_ms[mi][T_BWD_D], tot_ms[mi][T_BWD_W], tot_ms[mi][T_BWD]);
    }
    if (step_complete) {
        const double step_gflop = 3.329 * batch; /* forward + backward of all 20 convolutions */
        printf("\nResNet-18 (CIFAR) convolutions of one training step at batch %d (3.329 GFLOP/img):\n", batch);
        for (int mi = 0; mi < NM; mi++) {
            if (!strstr(modes, mode_names[mi])) continue;
            printf("%-8s %8.1f ms  %6.0f GFLOP/s  %6.1f img/s (convolutions only)\n", mode_names[mi], step_ms[mi],
                   step_gflop / step_ms[mi] * 1e3, batch / step_ms[mi] * 1e3);
        }
    }
    return 0;
}
