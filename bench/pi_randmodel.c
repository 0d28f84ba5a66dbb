/* Writes a checkpoint with random weights for secure-inference cost and time runs
 * of architectures whose data is not at hand (e.g. resnet18_in without CIFAR):
 * Kaiming-initialised weights, BatchNorm running statistics calibrated on random
 * N(0, 1) inputs (each BN normalises its input, layer by layer), and either plain
 * ReLU sites or a uniformly random mask keeping exactly --relus ReLUs, every other
 * element the quadratic 0.2 + 0.5 x + 0.2 x^2 (the least-squares fit of ReLU on
 * N(0, 1)). Metadata: data.set "random" with uniform-pixel normalisation, so that
 * `autorep pi local --data random` runs it.
 *
 *   build/bench/pi_randmodel --arch resnet18_in --input 3x32x32 --classes 10
 *                            [--relus K] [--seed S] --out FILE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autorep/replace.h"
#include "core/rng.h"
#include "layers/layer_util.h"
#include "nn/ckpt.h"
#include "nn/net.h"

static int die(const char *msg) {
    fprintf(stderr, "pi_randmodel: %s\n", msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *arch = NULL, *out = NULL, *input = "3x32x32";
    long classes = 10, relus = -1, seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--arch")) arch = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--input")) input = argv[i + 1];
        else if (!strcmp(argv[i], "--classes")) classes = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--relus")) relus = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed")) seed = strtol(argv[i + 1], NULL, 10);
        else return die("unknown option (see the comment at the top of bench/pi_randmodel.c)");
    }
    if (!arch || !out) return die("--arch and --out are required");
    char err[AR_ERR_LEN], *text;
    if (ar_arch_text(arch, &text, err)) return die(err);
    struct ar_net_opts no = {.classes = (int)classes, .site_mode = relus >= 0 ? AR_SITES_MASKED : AR_SITES_PLAIN};
    if (sscanf(input, "%dx%dx%d", &no.in_shape.c, &no.in_shape.h, &no.in_shape.w) != 3) return die("bad --input");
    struct ar_net net;
    if (ar_net_build(&net, text, arch, &no, err)) return die(err);
    free(text);
    ar_net_init_params(&net, (uint64_t)seed);
    struct ar_rng r;
    ar_rng_seed(&r, (uint64_t)seed, 77, 0);
    if (relus >= 0) {
        if ((size_t)relus > net.relu_total) return die("--relus exceeds the network's ReLU count");
        size_t left = net.relu_total, want = (size_t)relus;
        for (int s = 0; s < net.n_sites; s++) {
            char nm[AR_NAME_LEN + 16];
            snprintf(nm, sizeof nm, "%s.relu_mask", net.sites[s].name);
            uint8_t *mk = ar_net_tensor_data(&net, ar_net_find_tensor(&net, nm));
            snprintf(nm, sizeof nm, "%s.poly", net.sites[s].name);
            float *po = ar_net_tensor_data(&net, ar_net_find_tensor(&net, nm));
            for (size_t k = 0; k < net.sites[s].numel; k++, left--) {
                int keep = ar_rng_below(&r, left) < want; /* exact count, uniformly random */
                mk[k] = (uint8_t)keep;
                want -= (size_t)keep;
            }
            for (int c = 0; c < net.sites[s].shape.c; c++) {
                po[3 * c] = 0.2f;
                po[3 * c + 1] = 0.5f;
                po[3 * c + 2] = 0.2f;
            }
        }
        if (ar_sites_attach_owned(&net, err)) return die(err);
    }
    const int B = 8;
    net.plan_no_reuse = 1; /* every layer's output stays readable after a forward */
    if (ar_net_plan(&net, B, 0, err)) return die(err);
    size_t in = ar_shape_numel(net.in_shape);
    for (size_t i = 0; i < in * B; i++) net.input[i] = (float)ar_rng_normal(&r);
    net.train_mode = 0;
    for (int i = 0; i < net.n_layers; i++) {
        struct ar_layer *l = &net.layers[i];
        if (l->type != AR_LAYER_BATCHNORM) continue;
        ar_net_forward(&net, B);
        const float *x = ar_net_layer_input(&net, l, 0);
        float *mu = ar_net_statef(&net, l, "running_mean"), *var = ar_net_statef(&net, l, "running_var");
        int C = l->ishape.c;
        size_t hw = (size_t)l->ishape.h * (size_t)l->ishape.w;
        for (int c = 0; c < C; c++) {
            double s = 0, s2 = 0;
            for (int b = 0; b < B; b++)
                for (size_t k = 0; k < hw; k++) {
                    double v = x[((size_t)b * C + (size_t)c) * hw + k];
                    s += v;
                    s2 += v * v;
                }
            double n = (double)B * (double)hw, m = s / n;
            mu[c] = (float)m;
            var[c] = (float)fmax(s2 / n - m * m, 1e-4);
        }
    }
    char mean[128] = "[", sd[128] = "[";
    for (int c = 0; c < net.in_shape.c; c++) {
        strcat(mean, c ? ",0.5" : "0.5");
        strcat(sd, c ? ",0.2887" : "0.2887");
    }
    strcat(mean, "]");
    strcat(sd, "]");
    const char *meta[] = {"autorep.arch_name", arch, "data.set", "random", "data.mean", mean, "data.std", sd, NULL};
    if (ar_ckpt_save(&net, out, meta, err)) return die(err);
    printf("wrote %s: %s %s, %zu of %zu ReLUs kept\n", out, arch, input, relus >= 0 ? (size_t)relus : net.relu_total,
           net.relu_total);
    ar_net_free(&net);
    return 0;
}
