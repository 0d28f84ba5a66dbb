/* Test helper for tests/cli/pi_secrets.sh: prints byte and text patterns of the
 * secrets of one secure inference, so that the test can grep every file the run
 * wrote (stdout, stderr, reports) for them.
 *   pisecret CKPT SET OFFSET
 * CKPT is the server's checkpoint, SET/OFFSET the client's test image. Output, one
 * pattern per line, "hex LABEL HEX" (bytes, lower-case hex) or "text LABEL TEXT":
 *   input-raw    16 raw pixel bytes of the image (the most varied 16-byte window)
 *   input-f32    two consecutive normalised pixels as little-endian floats
 *   input-fix    two consecutive fixed-point encodings (the client's ring values, 8 B LE each)
 *   weight-f32   the first two conv weights of the checkpoint as stored (F32 LE)
 *   weight-fix   two consecutive folded fixed-point weights of the first linear op (8 B LE)
 * and the fixed-point pairs also as decimal text "a,b" (a JSON array's spelling) and
 * "a b". Windows are chosen away from the image background, whose encoding repeats.
 * Exit 0, or 2 on a usage or load error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autorep/replace.h"
#include "io/data.h"
#include "io/safetensors.h"
#include "kernels/ring.h"
#include "nn/ckpt.h"
#include "nn/train.h"
#include "pi/fixed.h"
#include "pi/model.h"
#include "pi/public.h"

static void hex(const char *label, const void *p, size_t n) {
    const uint8_t *b = p;
    printf("hex %s ", label);
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}

/* bytes of v[i], v[i+1] little-endian (the ring's in-memory layout on this machine) */
static void pair64(const char *label, const uint64_t *v, size_t i) {
    uint8_t b[16];
    for (int k = 0; k < 8; k++) {
        b[k] = (uint8_t)(v[i] >> (8 * k));
        b[8 + k] = (uint8_t)(v[i + 1] >> (8 * k));
    }
    hex(label, b, sizeof b);
    printf("text %s %" PRId64 ",%" PRId64 "\n", label, ar_ring_to_i64(v[i]), ar_ring_to_i64(v[i + 1]));
    printf("text %s %" PRId64 " %" PRId64 "\n", label, ar_ring_to_i64(v[i]), ar_ring_to_i64(v[i + 1]));
}

static int die(const char *m) {
    fprintf(stderr, "pisecret: %s\n", m);
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 4) return die("usage: pisecret CKPT SET OFFSET");
    char err[AR_ERR_LEN];
    struct ar_net net;
    struct ar_st st;
    struct ar_ckpt_open_opts o = {.site_mode = -1};
    if (ar_ckpt_open(&net, &st, argv[1], &o, err) || ar_sites_attach_owned(&net, err)) return die(err);
    struct ar_pi_model m;
    if (ar_pi_compile_net(&net, 12, 1, &m, err)) return die(err);
    struct ar_norm nm;
    const char *mean = ar_st_meta(&st, "data.mean"), *sd = ar_st_meta(&st, "data.std");
    if (!mean || !sd || ar_norm_parse(&nm, mean, sd, err)) return die("the checkpoint has no data.mean/data.std");
    struct ar_dataset te;
    if (ar_dataset_load(&te, argv[2], NULL, 0, err)) return die(err);
    int idx = atoi(argv[3]);
    if (idx < 0 || idx >= te.n) return die("offset outside the test set");
    size_t in = (size_t)te.c * (size_t)te.h * (size_t)te.w;
    const uint8_t *px = te.images + (size_t)idx * in;
    /* the 16-byte window of raw pixels with the most distinct values */
    size_t best = 0;
    int best_d = -1;
    for (size_t i = 0; i + 16 <= in; i++) {
        int seen[256] = {0}, d = 0;
        for (int k = 0; k < 16; k++) d += !seen[px[i + k]]++;
        if (d > best_d) {
            best_d = d;
            best = i;
        }
    }
    hex("input-raw", px + best, 16);
    float *xf = malloc(sizeof(float) * in);
    uint64_t *x = malloc(8 * in);
    if (!xf || !x) return die("out of memory");
    int32_t label;
    ar_dataset_batch(&te, &idx, 1, nm.mean, nm.std, NULL, 0, 0, xf, &label);
    ar_pi_encode_input(x, xf, in, m.frac_bits);
    /* three pairs in that window, all of foreground pixels (background repeats one value) */
    int pairs = 0;
    for (size_t i = best; i + 1 < in && pairs < 3; i += 2) {
        if (px[i] == 0 || px[i + 1] == 0 || x[i] == x[i + 1]) continue;
        if (pairs == 0) hex("input-f32", xf + i, 8);
        pair64("input-fix", x, i);
        pairs++;
    }
    if (pairs == 0) return die("no foreground pixel pair in the image");
    const struct ar_tensor_info *t = NULL;
    for (int i = 0; i < net.n_tensors && !t; i++)
        if (strstr(net.tensors[i].name, ".weight")) t = &net.tensors[i];
    if (!t) return die("no weight tensor");
    hex("weight-f32", ar_net_tensor_data(&net, t), 8);
    int op = -1;
    for (int i = 0; i < m.n_ops && op < 0; i++)
        if (m.ops[i].w) op = i;
    if (op < 0) return die("no linear op with weights");
    pair64("weight-fix", m.ops[op].w, 0);
    pair64("weight-fix", m.ops[op].w, 2);
    free(xf);
    free(x);
    ar_dataset_free(&te);
    ar_pi_model_free(&m);
    ar_net_free(&net);
    ar_st_free(&st);
    return 0;
}
