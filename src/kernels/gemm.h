/* Single-precision GEMM for the fully connected layers and small matrix products,
 * through oneDNN's dnnl_sgemm (row-major, no engine or stream needed). */
#ifndef AR_GEMM_H
#define AR_GEMM_H

/* C = alpha * op(A) * op(B) + beta * C, row-major.
 *   op(A): (M, K), op(B): (K, N), C: (M, N) with leading dimension ldc >= N.
 *   transa / transb: 'N' or 'T' (lower case accepted). With 'N', A is (M, K) with lda >= K;
 *   with 'T', A is stored as (K, M) with lda >= M (likewise B: (K, N) ldb >= N, or (N, K) ldb >= K).
 * beta == 0 means C is written without being read (NaNs in C do not propagate).
 * Called from one thread; oneDNN parallelises internally with OpenMP. Cannot fail:
 * bad arguments are programmer errors (AR_ASSERT). M, N or K may be 0. */
void ar_sgemm(char transa, char transb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

#endif
