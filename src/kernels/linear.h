/* Fully connected layer kernels on top of ar_sgemm (oneDNN).
 *   y: (n, out)  x: (n, in)  w: (out, in)  b: (out) or NULL */
#ifndef AR_LINEAR_H
#define AR_LINEAR_H

void ar_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in, int out);
/* dw, db written; dx (n, in) written or accumulated (acc), may be NULL. */
void ar_linear_backward(float *dx, int acc, float *dw, float *db, const float *dy, const float *x, const float *w,
                        int n, int in, int out);

#endif
