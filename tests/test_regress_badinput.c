/* Regression tests for the problems tests/cli/badinput.sh found: a FIFO given where
 * a checkpoint, architecture file or data file is expected made the loaders block in
 * open() forever (waiting for a writer). Each loader must refuse it at once as "not a
 * regular file". A helper thread unblocks a stuck open after 2 s, so the old
 * behaviour shows as a slow failure instead of a hung test run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "io/data.h"
#include "io/safetensors.h"
#include "nn/ckpt.h"

struct unblocker {
    const char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void *unblock_main(void *v) {
    struct unblocker *u = v;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 2;
    pthread_mutex_lock(&u->mu);
    while (!u->done)
        if (pthread_cond_timedwait(&u->cv, &u->mu, &dl) == ETIMEDOUT) break;
    int done = u->done;
    pthread_mutex_unlock(&u->mu);
    if (!done) { /* the reader is stuck in open(): be its writer, then go */
        int fd = open(u->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) close(fd);
    }
    return NULL;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs fn(path) with the unblocker armed; returns the seconds it took. */
static double timed(const char *path, int (*fn)(const char *, char *), int *rc, char *err) {
    struct unblocker u = {.path = path, .done = 0};
    pthread_mutex_init(&u.mu, NULL);
    pthread_cond_init(&u.cv, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, unblock_main, &u) != 0) return -1;
    double t0 = now_s();
    *rc = fn(path, err);
    double dt = now_s() - t0;
    pthread_mutex_lock(&u.mu);
    u.done = 1;
    pthread_cond_signal(&u.cv);
    pthread_mutex_unlock(&u.mu);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&u.mu);
    pthread_cond_destroy(&u.cv);
    return dt;
}

static int open_st(const char *path, char *err) {
    struct ar_st st;
    int rc = ar_st_read(&st, path, err);
    ar_st_free(&st);
    return rc;
}
static int open_arch(const char *path, char *err) {
    char *text = NULL;
    int rc = ar_arch_text(path, &text, err);
    free(text);
    return rc;
}
static int open_idx(const char *path, char *err) {
    struct ar_dataset ds;
    return ar_dataset_load_idx(&ds, path, path, 10, err);
}

AR_TEST(regress_fifo_is_refused_without_blocking) {
    const char *dir = ar_test_tmpdir();
    static int (*const fns[])(const char *, char *) = {open_st, open_arch, open_idx};
    static const char *const names[] = {"fifo.safetensors", "fifo.cfg", "fifo-idx3-ubyte"};
    for (int k = 0; k < 3; k++) {
        char path[600], err[AR_ERR_LEN] = "";
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        REQUIRE(mkfifo(path, 0600) == 0);
        int rc = 0;
        double dt = timed(path, fns[k], &rc, err);
        CHECK_MSG(rc == AR_ERR_IO && strstr(err, "not a regular file") && strstr(err, names[k]), "%s: rc %d: %s",
                  names[k], rc, err);
        CHECK_MSG(dt >= 0 && dt < 1.0, "%s: took %.2f s (blocked in open)", names[k], dt);
    }
    /* a directory as an architecture file is refused the same way (was "read error") */
    char err[AR_ERR_LEN] = "";
    CHECK_EQ_INT(open_arch(dir, err), AR_ERR_IO);
    CHECK_MSG(strstr(err, "not a regular file") != NULL, "%s", err);
}
