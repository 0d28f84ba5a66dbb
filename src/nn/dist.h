/* Data-parallel training across processes with MPI (OpenMPI from Debian).
 *
 * Built in when the Makefile finds mpicc (AR_HAVE_MPI); otherwise every function
 * acts as a single process. MPI is only initialised when the program was started
 * by mpirun (its environment says so), so a plain `./autorep train` never touches
 * MPI. Each rank processes its shard of every global batch; gradients are summed
 * with MPI_Allreduce on the flat gradient buffer; every rank applies the same
 * optimizer step, so parameters stay identical. */
#ifndef AR_DIST_H
#define AR_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Initialise when launched by mpirun (no-op otherwise). Returns 0 or -1. */
int ar_dist_init(int *argc, char ***argv);
void ar_dist_finalize(void);
int ar_dist_rank(void);
int ar_dist_size(void);
/* In-place sums over all ranks (no-ops for one process). */
void ar_dist_sum_f(float *x, size_t n);
void ar_dist_sum_d(double *x, size_t n);
void ar_dist_sum_i64(int64_t *x, size_t n);
/* Minimum and maximum over ranks of a 64-bit value (consistency checks). */
void ar_dist_minmax_u64(uint64_t v, uint64_t *min, uint64_t *max);
/* Wait for every rank (no-op alone). */
void ar_dist_barrier(void);
/* Abort every rank (after a fatal error on one). */
void ar_dist_abort(int code);
/* Seconds spent in gradient all-reduces so far (for the benchmark). */
double ar_dist_comm_seconds(void);

#endif
