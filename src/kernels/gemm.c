/* Row-major SGEMM wrapper over oneDNN (see gemm.h): argument checks and the
 * degenerate cases oneDNN does not define, then dnnl_sgemm. */
#include "kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include "core/assert.h"

static int is_t(char t) { return t == 'T' || t == 't'; }
static int is_n(char t) { return t == 'N' || t == 'n'; }

void ar_sgemm(char transa, char transb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    /* A: op(A) (M,K)  B: op(B) (K,N)  C: (M,N) */
    AR_ASSERT(is_t(transa) || is_n(transa));
    AR_ASSERT(is_t(transb) || is_n(transb));
    AR_ASSERT(M >= 0 && N >= 0 && K >= 0);
    AR_ASSERT(ldc >= (N > 1 ? N : 1));
    AR_ASSERT(lda >= ((is_t(transa) ? M : K) > 1 ? (is_t(transa) ? M : K) : 1));
    AR_ASSERT(ldb >= ((is_t(transb) ? K : N) > 1 ? (is_t(transb) ? K : N) : 1));
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == 0.0f) {
        /* C = beta * C, with beta == 0 writing exact zeros (BLAS semantics). */
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * ldc; /* c: (N) */
            for (int j = 0; j < N; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
        }
        return;
    }
    AR_ASSERT(A != NULL && B != NULL && C != NULL);
    dnnl_status_t st = dnnl_sgemm(is_t(transa) ? 'T' : 'N', is_t(transb) ? 'T' : 'N', M, N, K, alpha, A,
                                  lda, B, ldb, beta, C, ldc);
    AR_ASSERT(st == dnnl_success);
}
