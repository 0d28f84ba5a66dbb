/* Fully connected forward/backward through ar_sgemm; bias handled here. */
#include "linear.h"

#include <stddef.h>

#include "kernels/gemm.h"

void ar_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in, int out) {
    ar_sgemm('N', 'T', n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    if (b)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++) y[(size_t)i * out + j] += b[j];
}

void ar_linear_backward(float *dx, int acc, float *dw, float *db, const float *dy, const float *x, const float *w,
                        int n, int in, int out) {
    ar_sgemm('T', 'N', out, in, n, 1.0f, dy, out, x, in, 0.0f, dw, in);
    if (db)
        for (int j = 0; j < out; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += dy[(size_t)i * out + j];
            db[j] = (float)s;
        }
    if (dx) ar_sgemm('N', 'N', n, in, out, 1.0f, dy, out, w, in, acc ? 1.0f : 0.0f, dx, in);
}
