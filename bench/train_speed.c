/* Training / inference speed of an architecture on synthetic data: images/s
 * (median, min, max over repetitions after warm-up), peak RSS, and with --profile
 * the time per layer type in forward and backward.
 *
 *   bench/train_speed --arch resnet18_in --input 3x32x32 --classes 10 --batch 128
 *                     [--reps 5] [--warmup 2] [--steps 4] [--infer] [--profile] [--json]
 *                     [--search]   AutoReP search step (student with gates + KD teacher
 *                                  forward) and, for comparison, plain step and teacher
 *                                  forward, with the ratio search / (plain + teacher); the
 *                                  search step after and during the DaPa refit window
 *                                  (with --profile: per layer type, plain and search)
 *   bench/infer_speed ...   the same program (a link): --infer is the default */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "autorep/replace.h"
#include "core/rng.h"
#include "kernels/nn_kernels.h"
#include "layers/layer_util.h"
#include "nn/ckpt.h"
#include "nn/dist.h"
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

/* Median seconds of `steps` calls of fn over reps, after warm-up. */
typedef void (*step_fn)(void *ctx);
static double time_median(step_fn fn, void *ctx, int reps, int warm, int steps) {
    double *t = malloc(sizeof(double) * (size_t)reps), med;
    for (int r = -warm; r < reps; r++) {
        double t0 = now_s();
        for (int s = 0; s < steps; s++) fn(ctx);
        if (r >= 0) t[r] = (now_s() - t0) / steps;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    med = t[reps / 2];
    free(t);
    return med;
}

/* Time per layer type of the steps profiled so far (per = their number). */
static void print_profile(const struct ar_net *net, double per, double step_s) {
    const char *names[AR_LAYER_COUNT] = {0};
    double fwd[AR_LAYER_COUNT] = {0}, bwd[AR_LAYER_COUNT] = {0}, tot = 0;
    for (int i = 0; i < net->n_layers; i++) {
        int ty = net->layers[i].type;
        names[ty] = net->layers[i].ops->name;
        fwd[ty] += net->prof[2 * i];
        bwd[ty] += net->prof[2 * i + 1];
        tot += net->prof[2 * i] + net->prof[2 * i + 1];
    }
    printf("  %-10s %12s %12s %8s\n", "layer", "fwd ms/step", "bwd ms/step", "share");
    for (int ty = 0; ty < AR_LAYER_COUNT; ty++)
        if (names[ty])
            printf("  %-10s %12.2f %12.2f %7.1f%%\n", names[ty], 1e3 * fwd[ty] / per, 1e3 * bwd[ty] / per,
                   100 * (fwd[ty] + bwd[ty]) / tot);
    printf("  layers total %.2f ms/step; whole step %.2f ms\n", 1e3 * tot / per, 1e3 * step_s);
}

struct sctx {
    struct ar_net *net, *teacher;
    struct ar_optim *opt;
    struct ar_sites *S;
    int32_t *lab;
    int batch, classes;
};

static void plain_step(void *v) {
    struct sctx *c = v;
    ar_net_forward(c->net, c->batch);
    ar_softmax_xent(ar_net_dlogits(c->net), 1.0f, ar_net_logits(c->net), c->lab, c->batch, c->classes, NULL);
    ar_net_backward(c->net, c->batch);
    ar_optim_step(c->opt, c->net);
}

static void teacher_fwd(void *v) {
    struct sctx *c = v;
    ar_net_forward(c->teacher, c->batch);
}

static void search_step(void *v) {
    struct sctx *c = v;
    ar_sites_update_masks(c->S, c->net);
    ar_net_forward(c->net, c->batch);
    ar_softmax_xent(ar_net_dlogits(c->net), 1.0f, ar_net_logits(c->net), c->lab, c->batch, c->classes, NULL);
    memcpy(c->teacher->input, c->net->input, sizeof(float) * (size_t)c->batch * ar_shape_numel(c->net->in_shape));
    ar_net_forward(c->teacher, c->batch);
    ar_kd_loss(ar_net_dlogits(c->net), 1, 1.0f, ar_net_logits(c->net), ar_net_logits(c->teacher), c->batch,
               c->classes, 4.0f);
    ar_net_backward(c->net, c->batch);
    ar_sites_gate_grads(c->S, c->net);
    ar_optim_step(c->opt, c->net);
}

static int search_bench(const char *arch, int c, int h, int w, int classes, int batch, int reps, int warm,
                        int steps, int prof) {
    char err[AR_ERR_LEN], *text;
    if (ar_arch_text(arch, &text, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct ar_net plain, teacher, student;
    struct ar_net_opts po = {.in_shape = {c, h, w}, .classes = classes};
    struct ar_net_opts so = po;
    so.site_mode = AR_SITES_AUTOREP;
    struct ar_replace_opts ro;
    ar_replace_opts_default(&ro, AR_METHOD_AUTOREP);
    struct ar_sites *S;
    if (ar_net_build(&plain, text, arch, &po, err) || ar_net_plan(&plain, batch, 1, err) ||
        ar_net_build(&teacher, text, arch, &po, err) || ar_net_plan(&teacher, batch, 0, err) ||
        ar_net_build(&student, text, arch, &so, err) || ar_sites_attach(&student, &ro, 1, &S, err) ||
        ar_net_plan(&student, batch, 1, err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    free(text);
    ar_net_init_params(&plain, 1), ar_net_init_params(&teacher, 1), ar_net_init_params(&student, 1);
    ro.budget = student.relu_total / 50;
    ar_sites_free(S);
    /* two states of the search: S_win during the DaPa refit window (the first
     * dapa_until passes: running statistics gathered at every site), S after it */
    struct ar_sites *S_win;
    struct ar_replace_opts ro_after = ro;
    ro_after.dapa_every = 0;
    if (ar_sites_attach(&student, &ro, 1, &S_win, err) || ar_sites_attach(&student, &ro_after, 1, &S, err)) return 1;
    struct ar_optim o1, o2;
    if (ar_optim_init(&o1, AR_OPTIM_SGD, &plain, err) || ar_optim_init(&o2, AR_OPTIM_ADAM, &student, err)) return 1;
    o1.lr[0] = 0.01f, o2.lr[0] = 1e-4f, o2.lr[1] = 1e-3f;
    struct ar_rng rng;
    ar_rng_seed(&rng, 7, 0, 0);
    size_t in_n = (size_t)batch * c * h * w;
    for (size_t i = 0; i < in_n; i++) plain.input[i] = student.input[i] = teacher.input[i] = (float)ar_rng_normal(&rng);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)batch);
    for (int i = 0; i < batch; i++) lab[i] = (int32_t)ar_rng_below(&rng, (uint64_t)classes);
    plain.train_mode = student.train_mode = 1;
    teacher.train_mode = 0;
    struct sctx a = {&plain, &teacher, &o1, NULL, lab, batch, classes};
    struct sctx b = {&student, &teacher, &o2, S, lab, batch, classes};
    struct sctx bw = {&student, &teacher, &o2, S_win, lab, batch, classes};
    double tp = 0, tt = 0, ts = 0, tw = 0;
    /* interleave the measurements so that machine noise hits them alike; the
     * profile covers the plain and the (after-window) search steps */
    for (int k = 0; k < 3; k++) {
        if (k == 1 && prof && (ar_net_profile(&plain, 1) || ar_net_profile(&student, 1))) return 1;
        tp += time_median(plain_step, &a, reps, k ? 0 : warm, steps);
        tt += time_median(teacher_fwd, &a, reps, k ? 0 : warm, steps);
        double *keep = student.prof;
        student.prof = NULL; /* the window step is not profiled */
        student.site_ctx = S_win;
        tw += time_median(search_step, &bw, reps, k ? 0 : warm, steps);
        student.site_ctx = S;
        student.prof = keep;
        ts += time_median(search_step, &b, reps, k ? 0 : warm, steps);
    }
    tp /= 3, tt /= 3, ts /= 3, tw /= 3;
    printf("%s %dx%dx%d batch %d: plain step %.1f ms, teacher forward %.1f ms, AutoReP search step %.1f ms; "
           "search / (plain + teacher) = %.3f (during the first %d passes, while DaPa gathers statistics: "
           "%.1f ms, %.3f)\n",
           arch, c, h, w, batch, 1e3 * tp, 1e3 * tt, 1e3 * ts, ts / (tp + tt), ro.dapa_until, 1e3 * tw,
           tw / (tp + tt));
    if (prof) {
        printf("plain step:\n");
        print_profile(&plain, 2.0 * reps * steps, tp);
        printf("search step (student only; the teacher forward is not in the table):\n");
        print_profile(&student, 2.0 * reps * steps, ts);
    }
    ar_optim_free(&o1), ar_optim_free(&o2);
    student.site_ctx = NULL;
    ar_sites_free(S);
    ar_sites_free(S_win);
    ar_net_free(&plain), ar_net_free(&teacher), ar_net_free(&student);
    free(lab);
    return 0;
}

int main(int argc, char **argv) {
    const char *arch = "resnet18_in";
    int c = 3, h = 32, w = 32, classes = 10, batch = 128, reps = 5, warm = 2, steps = 4, infer = 0, prof = 0,
        json = 0, search = 0;
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (!strcmp(prog, "infer_speed")) infer = 1;
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
        else if (!strcmp(argv[i], "--search")) search = 1;
        else {
            fprintf(stderr, "usage: %s [--arch A] [--input CxHxW] [--classes K] [--batch B] [--reps R] [--warmup W] "
                            "[--steps S] [--infer] [--profile] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 1000 || steps < 1 || batch < 1) return 2;
    if (ar_dist_init(&argc, &argv)) return 1;
    const int ranks = ar_dist_size();
    if (batch % ranks) return 2;
    const int gbatch = batch; /* under mpirun: global batch; each rank runs batch / ranks */
    batch /= ranks;
    if (search) return search_bench(arch, c, h, w, classes, batch, reps, warm, steps, prof);
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
                ar_dist_sum_f(net.grads, net.n_params);
                ar_optim_step(&opt, &net);
            }
        }
        if (r >= 0) t[r] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double ips_med = steps * gbatch / t[reps / 2], ips_min = steps * gbatch / t[reps - 1],
           ips_max = steps * gbatch / t[0];
    double comm_ms = 1e3 * ar_dist_comm_seconds() / ((double)(reps + warm) * steps);
    if (ar_dist_rank() != 0) {
        ar_dist_finalize();
        return 0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;
    if (json)
        printf("{\"arch\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"ranks\": %d, \"img_s_median\": %.1f, "
               "\"img_s_min\": %.1f, \"img_s_max\": %.1f, \"peak_rss_mb\": %.0f, \"allreduce_ms_per_step\": %.2f}\n",
               arch, infer ? "infer" : "train", gbatch, ranks, ips_med, ips_min, ips_max, rss_mb, comm_ms);
    else
        printf("%s %s %dx%dx%d batch %d: %.1f img/s median (min %.1f, max %.1f) over %d reps; peak RSS %.0f MiB%s\n",
               arch, infer ? "inference" : "training", c, h, w, gbatch, ips_med, ips_min, ips_max, reps, rss_mb,
               ranks > 1 ? " (rank 0)" : "");
    if (ranks > 1) printf("  %d MPI ranks; gradient all-reduce %.2f ms per step\n", ranks, comm_ms);
    if (prof) print_profile(&net, (double)reps * steps, t[reps / 2] / steps);
    free(t);
    free(lab);
    if (!infer) ar_optim_free(&opt);
    ar_net_free(&net);
    ar_dist_finalize();
    return 0;
}
