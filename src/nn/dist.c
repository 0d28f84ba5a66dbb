/* MPI glue for data-parallel training (see dist.h). */
#include "dist.h"

#include <stdlib.h>
#include <time.h>

#ifdef AR_HAVE_MPI
#include <mpi.h>
#endif

static int g_on, g_rank, g_size = 1;
static double g_comm;

#ifdef AR_HAVE_MPI /* only the MPI paths time communication (MPI=0 builds: unused) */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#endif

int ar_dist_init(int *argc, char ***argv) {
#ifdef AR_HAVE_MPI
    /* started by mpirun/orterun/prterun? */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK")) return 0;
    int prov;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &prov) != MPI_SUCCESS) return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_on = 1;
#else
    (void)argc, (void)argv;
#endif
    return 0;
}

void ar_dist_finalize(void) {
#ifdef AR_HAVE_MPI
    if (g_on) MPI_Finalize();
#endif
    g_on = 0;
}

int ar_dist_rank(void) { return g_rank; }
int ar_dist_size(void) { return g_size; }

void ar_dist_sum_f(float *x, size_t n) {
#ifdef AR_HAVE_MPI
    if (!g_on || g_size == 1) return;
    double t0 = now_s();
    for (size_t off = 0; off < n;) { /* counts are int */
        int k = n - off > (size_t)1 << 30 ? 1 << 30 : (int)(n - off);
        MPI_Allreduce(MPI_IN_PLACE, x + off, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        off += (size_t)k;
    }
    g_comm += now_s() - t0;
#else
    (void)x, (void)n;
#endif
}

void ar_dist_sum_d(double *x, size_t n) {
#ifdef AR_HAVE_MPI
    if (!g_on || g_size == 1) return;
    double t0 = now_s();
    MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    g_comm += now_s() - t0;
#else
    (void)x, (void)n;
#endif
}

void ar_dist_sum_i64(int64_t *x, size_t n) {
#ifdef AR_HAVE_MPI
    if (!g_on || g_size == 1) return;
    MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)x, (void)n;
#endif
}

void ar_dist_minmax_u64(uint64_t v, uint64_t *min, uint64_t *max) {
    *min = *max = v;
#ifdef AR_HAVE_MPI
    if (!g_on || g_size == 1) return;
    MPI_Allreduce(&v, min, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, max, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
#endif
}

void ar_dist_barrier(void) {
#ifdef AR_HAVE_MPI
    if (g_on && g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void ar_dist_abort(int code) {
#ifdef AR_HAVE_MPI
    if (g_on) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)code;
}

double ar_dist_comm_seconds(void) { return g_comm; }
