/* Pure float kernels for the layers that are not convolution or GEMM: batch norm,
 * ReLU, pooling, residual add, softmax cross-entropy and distillation losses.
 *
 * Conventions: NCHW float32, `hw` = h*w. Kernels never allocate and cannot fail.
 * Backward kernels take `acc`: 0 writes the input gradient, 1 adds to it (the
 * executor passes 0 for the first consumer of a tensor in the backward pass, so no
 * zeroing pass is needed). Parameter gradients are always written (each
 * parameter belongs to exactly one layer). Parallel with OpenMP. */
#ifndef AR_NN_KERNELS_H
#define AR_NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ---- batch norm (per channel over n*hw) ---- */
/* relu != 0 / relu_y != NULL: the batch norm is fused with a following ReLU: the
 * forward writes max(bn(x), 0), the backward takes the ReLU's output gradient and
 * output (as the mask) and gives the gradient w.r.t. the batch norm's input.
 * Training: batch statistics. y,x: (n,c,hw)  gamma,beta: (c)
 * mean, rstd: (c) outputs kept for backward. run_mean, run_var: (c) updated in place
 * with momentum (PyTorch convention: run = (1-m)*run + m*batch, unbiased variance). */
void ar_bn_forward_train(float *y, float *mean, float *rstd, float *run_mean, float *run_var, const float *x,
                         const float *gamma, const float *beta, int n, int c, int hw, float momentum, float eps, int relu);
/* Evaluation: running statistics. */
void ar_bn_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *run_mean,
                        const float *run_var, int n, int c, int hw, float eps, int relu);
/* dx: (n,c,hw) or NULL  dgamma, dbeta: (c)  dy, x: (n,c,hw)  mean, rstd: (c) from forward. */
void ar_bn_backward(float *dx, int acc, float *dgamma, float *dbeta, const float *dy, const float *x,
                    const float *mean, const float *rstd, const float *gamma, int n, int c, int hw,
                    const float *relu_y);

/* Batch norm in pieces, for statistics reduced across processes (sync BN):
 * per-channel sums of x and of (x - mean)^2, the affine apply (with optional
 * ReLU), and the two backward sums (with the optional fused-ReLU mask) and apply. */
void ar_bn_sum(double *sum, const float *x, int n, int c, int hw);
void ar_bn_sqdev(double *sq, const float *x, const float *mean /* NULL: sum of squares */, int n, int c, int hw);
void ar_bn_apply(float *y, const float *x, const float *a, const float *b, int n, int c, int hw, int relu);
void ar_bn_bwd_sums(double *sdy, double *sdyx, const float *dy, const float *x, const float *mean,
                    const float *relu_y, int n, int c, int hw);
/* dx (+)= ((g - gmean[c]) - (x - mean[c]) * proj[c]) * scale[c], g = dy masked by relu_y */
void ar_bn_bwd_apply(float *dx, int acc, const float *dy, const float *x, const float *mean, const float *gmean,
                     const float *proj, const float *scale, const float *relu_y, int n, int c, int hw);

/* ---- ReLU ---- */
void ar_relu_forward(float *y, const float *x, size_t len);
/* Uses the forward output y: dx = dy * (y > 0). */
void ar_relu_backward(float *dx, int acc, const float *dy, const float *y, size_t len);

/* ---- elementwise ---- */
void ar_add_forward(float *y, const float *a, const float *b, size_t len);
/* y = max(a + b, 0): a residual sum fused with the following ReLU */
void ar_add_relu_forward(float *y, const float *a, const float *b, size_t len);
/* dx (+)= dy */
void ar_pass_grad(float *dx, int acc, const float *dy, size_t len);

/* ---- pooling (windows k x k, stride s, zero padding p) ---- */
/* y: (n,c,oh,ow)  x: (n,c,h,w). Max pool ignores padded cells; ties go to the first
 * maximum in row-major window order (as PyTorch's CPU kernel). */
void ar_maxpool_forward(float *y, const float *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow);
void ar_maxpool_backward(float *dx, int acc, const float *dy, const float *x, int n, int c, int h, int w, int k, int s,
                         int p, int oh, int ow);
/* Average pool counts padded cells in the divisor (PyTorch count_include_pad=True). */
void ar_avgpool_forward(float *y, const float *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow);
void ar_avgpool_backward(float *dx, int acc, const float *dy, int n, int c, int h, int w, int k, int s, int p, int oh,
                         int ow);
/* Global average pool: y: (n,c)  x: (n,c,hw) */
void ar_gap_forward(float *y, const float *x, int n, int c, int hw);
void ar_gap_backward(float *dx, int acc, const float *dy, int n, int c, int hw);

/* ---- losses ---- */
/* Mean softmax cross-entropy over the batch. logits: (n,k) labels: (n)
 * dlogits: (n,k) or NULL, written with d(mean loss)/d(logits) * scale.
 * *correct (may be NULL) receives the number of argmax hits. Returns the mean loss. */
double ar_softmax_xent(float *dlogits, float scale, const float *logits, const int32_t *labels, int n, int k,
                       int *correct);
/* Distillation: T^2 * KL(softmax(t/T) || softmax(s/T)), averaged over the batch
 * (PyTorch kl_div reduction='batchmean'). s, t: (n,k). ds (n,k) or NULL gets
 * scale * dLoss/ds, written or added (acc). Returns the loss (unscaled). */
double ar_kd_loss(float *ds, int acc, float scale, const float *s, const float *t, int n, int k, float T);

/* The same kernels in double precision (finite-difference gradient tests). */
void ar_bn_forward_train_f64(double *y, double *mean, double *rstd, double *run_mean, double *run_var, const double *x,
                         const double *gamma, const double *beta, int n, int c, int hw, double momentum, double eps, int relu);
void ar_bn_forward_eval_f64(double *y, const double *x, const double *gamma, const double *beta, const double *run_mean,
                        const double *run_var, int n, int c, int hw, double eps, int relu);
void ar_bn_backward_f64(double *dx, int acc, double *dgamma, double *dbeta, const double *dy, const double *x,
                    const double *mean, const double *rstd, const double *gamma, int n, int c, int hw, const double *relu_y);
void ar_relu_forward_f64(double *y, const double *x, size_t len);
void ar_relu_backward_f64(double *dx, int acc, const double *dy, const double *y, size_t len);
void ar_add_forward_f64(double *y, const double *a, const double *b, size_t len);
void ar_add_relu_forward_f64(double *y, const double *a, const double *b, size_t len);
void ar_pass_grad_f64(double *dx, int acc, const double *dy, size_t len);
void ar_maxpool_forward_f64(double *y, const double *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow);
void ar_maxpool_backward_f64(double *dx, int acc, const double *dy, const double *x, int n, int c, int h, int w, int k, int s,
                         int p, int oh, int ow);
void ar_avgpool_forward_f64(double *y, const double *x, int n, int c, int h, int w, int k, int s, int p, int oh, int ow);
void ar_avgpool_backward_f64(double *dx, int acc, const double *dy, int n, int c, int h, int w, int k, int s, int p, int oh,
                         int ow);
void ar_gap_forward_f64(double *y, const double *x, int n, int c, int hw);
void ar_gap_backward_f64(double *dx, int acc, const double *dy, int n, int c, int hw);
double ar_softmax_xent_f64(double *dlogits, double scale, const double *logits, const int32_t *labels, int n, int k,
                       int *correct);
void ar_bn_sum_f64(double *sum, const double *x, int n, int c, int hw);
void ar_bn_sqdev_f64(double *sq, const double *x, const double *mean, int n, int c, int hw);
void ar_bn_apply_f64(double *y, const double *x, const double *a, const double *b, int n, int c, int hw, int relu);
void ar_bn_bwd_sums_f64(double *sdy, double *sdyx, const double *dy, const double *x, const double *mean,
                        const double *relu_y, int n, int c, int hw);
void ar_bn_bwd_apply_f64(double *dx, int acc, const double *dy, const double *x, const double *mean,
                         const double *gmean, const double *proj, const double *scale, const double *relu_y, int n,
                         int c, int hw);
double ar_kd_loss_f64(double *ds, int acc, double scale, const double *s, const double *t, int n, int k, double T);

#endif
