/* Test helper: compares the tensors of two safetensors files.
 *   stcmp A B [--tensor NAME] [--atol X] [--rtol Y] [--scale-atol]
 * Every tensor of A (or only NAME) must exist in B with the same dtype and shape
 * and |a-b| <= atol + rtol*|b| (F32/F64; other dtypes exactly). With --scale-atol,
 * atol is multiplied by max|b| of the tensor. Prints the worst difference; exit 0
 * when everything matches, 1 otherwise, 2 on a usage or read error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

static double val(const struct ar_st_tensor *t, size_t i) {
    return t->dtype == AR_DTYPE_F32 ? ((const float *)t->data)[i] : ((const double *)t->data)[i];
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: stcmp A B [--tensor NAME] [--atol X] [--rtol Y] [--scale-atol]\n");
        return 2;
    }
    const char *only = NULL;
    double atol = 0, rtol = 0;
    int scale = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--tensor") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--atol") && i + 1 < argc) atol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rtol") && i + 1 < argc) rtol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--scale-atol")) scale = 1;
        else return 2;
    }
    char err[AR_ERR_LEN];
    struct ar_st a, b;
    if (ar_st_read(&a, argv[1], err) || ar_st_read(&b, argv[2], err)) {
        fprintf(stderr, "stcmp: %s\n", err);
        return 2;
    }
    int bad = 0, compared = 0;
    for (int i = 0; i < a.n_tensors; i++) {
        const struct ar_st_tensor *ta = &a.tensors[i];
        if (only && strcmp(ta->name, only)) continue;
        const struct ar_st_tensor *tb = ar_st_find(&b, ta->name);
        compared++;
        if (!tb || tb->dtype != ta->dtype || tb->ndim != ta->ndim || tb->numel != ta->numel) {
            printf("stcmp: %s: missing or different dtype/shape in %s\n", ta->name, argv[2]);
            bad++;
            continue;
        }
        if (ta->dtype == AR_DTYPE_F32 || ta->dtype == AR_DTYPE_F64) {
            double mx = 0, worst = 0, tol = atol;
            if (scale) {
                double m = 0;
                for (size_t j = 0; j < tb->numel; j++) m = fmax(m, fabs(val(tb, j)));
                tol = atol * m;
            }
            size_t nbad = 0;
            for (size_t j = 0; j < ta->numel; j++) {
                double x = val(ta, j), y = val(tb, j), d = fabs(x - y);
                if (d > mx || isnan(d)) mx = d;
                if (!(d <= tol + rtol * fabs(y))) nbad++, worst = d;
            }
            if (nbad) {
                printf("stcmp: %s: %zu of %zu elements differ (max |diff| %g, tolerance %g + %g*|b|)\n", ta->name, nbad,
                       ta->numel, mx, tol, rtol);
                bad++;
            } else if (only) {
                printf("stcmp: %s: max |diff| %g (tolerance %g)\n", ta->name, mx, tol);
            }
            (void)worst;
        } else if (memcmp(ta->data, tb->data, ta->nbytes)) {
            printf("stcmp: %s: contents differ\n", ta->name);
            bad++;
        }
    }
    if (!compared) {
        printf("stcmp: nothing compared\n");
        bad = 1;
    }
    ar_st_free(&a);
    ar_st_free(&b);
    return bad ? 1 : 0;
}
