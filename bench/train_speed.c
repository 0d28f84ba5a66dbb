/* Training / inference speed of an architecture on synthetic data: images/s
 * (median, min, max over repetitions after warm-up), peak RSS, and with --profile
 * the time per layer type in forward and backward.
 *
 *   bench/train_speed --arch resnet18_in --input 3x32x32 --classes 10 --batch 128
 *                     [--reps 5] [--warmup 2] [--steps 4] [--infer] [--profile] [--json] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/rng.h"
#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"
#include "nn/ckpt.h"
#include "nn/net.h"
#include "nn/optim.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *arch = "resnet18_in";
    int c = 3, h = 32, w = 32, classes = 10, batch = 128, reps = 5, warm = 2, steps = 4, infer = 0, prof = 0,
        json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%dx%d", &c, &h, &w) != 3) return 2;
        } else if (!strcmp(argv[i], "--classes") && i + 1 < argc) classes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warm = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--infer")) infer = 1;
        else if (!strcmp(argv[i], "--profile")) prof = 1;
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "usage: %s [--arch A] [--input CxHxW] [--classes K] [--batch B] [--reps R] [--warmup W] "
                            "[--steps S] [--infer] [--profile] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 1000 || steps < 1 || batch < 1) return 2;
    char err[AR_ERR_LEN], *text;
    if (ar_arch_text(arch, &text, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct ar_net net;
    struct ar_net_opts no = {.in_shape = {c, h, w}, .classes = classes};
    if (ar_net_build(&net, text, arch, &no, err) || ar_net_plan(&net, batch, !infer, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    free(text);
    ar_net_init_params(&net, 1);
    struct ar_optim opt;
    if (!infer && ar_optim_init(&opt, AR_OPTIM_SGD, &net, err)) return 1;
    if (!infer) {
        opt.wd = 5e-4f;
        opt.lr[0] = 0.01f;
    }
    struct ar_rng rng;
    ar_rng_seed(&rng, 7, 0, 0);
    size_t in_n = (size_t)batch * c * h * w;
    for (size_t i = 0; i < in_n; i++) net.input[i] = (float)ar_rng_normal(&rng);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)batch);
    for (int i = 0; i < batch; i++) lab[i] = (int32_t)ar_rng_below(&rng, (uint64_t)classes);
    net.train_mode = !infer;
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = -warm; r < reps; r++) {
        if (r == 0 && prof && ar_net_profile(&net, 1)) return 1;
        double t0 = now_s();
        for (int s = 0; s < steps; s++) {
            ar_net_forward(&net, batch);
            if (!infer) {
                ar_softmax_xent(ar_net_dlogits(&net), 1.0f, ar_net_logits(&net), lab, batch, classes, NULL);
                ar_net_backward(&net, batch);
                ar_optim_step(&opt, &net);
            }
        }
        if (r >= 0) t[r] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double ips_med = steps * batch / t[reps / 2], ips_min = steps * batch / t[reps - 1],
           ips_max = steps * batch / t[0];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;
    if (json)
        printf("{\"arch\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"img_s_median\": %.1f, \"img_s_min\": %.1f, "
               "\"img_s_max\": %.1f, \"peak_rss_mb\": %.0f}\n",
               arch, infer ? "infer" : "train", batch, ips_med, ips_min, ips_max, rss_mb);
    else
        printf("%s %s %dx%dx%d batch %d: %.1f img/s median (min %.1f, max %.1f) over %d reps; peak RSS %.0f MiB\n",
               arch, infer ? "inference" : "training", c, h, w, batch, ips_med, ips_min, ips_max, reps, rss_mb);
    if (prof) {
        const char *names[AR_LAYER_COUNT] = {0};
        double fwd[AR_LAYER_COUNT] = {0}, bwd[AR_LAYER_COUNT] = {0}, tot = 0;
        for (int i = 0; i < net.n_layers; i++) {
            int ty = net.layers[i].type;
            names[ty] = net.layers[i].ops->name;
            fwd[ty] += net.prof[2 * i];
            bwd[ty] += net.prof[2 * i + 1];
            tot += net.prof[2 * i] + net.prof[2 * i + 1];
        }
        double per = (double)reps * steps;
        printf("  %-10s %12s %12s %8s\n", "layer", "fwd ms/step", "bwd ms/step", "share");
        for (int ty = 0; ty < AR_LAYER_COUNT; ty++)
            if (names[ty])
                printf("  %-10s %12.2f %12.2f %7.1f%%\n", names[ty], 1e3 * fwd[ty] / per, 1e3 * bwd[ty] / per,
                       100 * (fwd[ty] + bwd[ty]) / tot);
        printf("  layers total %.2f ms/step; whole step %.2f ms\n", 1e3 * tot / per, 1e3 * t[reps / 2] / steps);
    }
    free(t);
    free(lab);
    if (!infer) ar_optim_free(&opt);
    ar_net_free(&net);
    return 0;
}
