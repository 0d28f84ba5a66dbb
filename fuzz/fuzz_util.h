/* Helpers shared by the libFuzzer targets in fuzz/: in-memory files (memfd) that
 * the path-based loaders can open, and a byte reader over the fuzz input.
 * Header-only so each target stays one translation unit. */
#ifndef AR_FUZZ_UTIL_H
#define AR_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* libFuzzer entry points (defined by each target). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A file in memory holding `len` bytes; `path` (>= 64 chars) receives a name that
 * open()/stat()/fopen() accept ("/proc/self/fd/N"). Returns the fd (close it when
 * done) and aborts on failure: the harness itself must not fail silently. */
static inline int fz_memfile(const void *data, size_t len, char *path) {
    int fd = memfd_create("autorep-fuzz", MFD_CLOEXEC);
    if (fd < 0) abort();
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* Sequential reader over the fuzz input; reads past the end give zeros. */
struct fz_in {
    const uint8_t *p;
    size_t n, off;
};

static inline uint8_t fz_u8(struct fz_in *in) { return in->off < in->n ? in->p[in->off++] : 0; }
static inline uint16_t fz_u16(struct fz_in *in) {
    uint16_t a = fz_u8(in);
    return (uint16_t)(a | (uint16_t)fz_u8(in) << 8);
}
static inline uint32_t fz_u32(struct fz_in *in) {
    uint32_t a = fz_u16(in);
    return a | (uint32_t)fz_u16(in) << 16;
}
static inline size_t fz_left(const struct fz_in *in) { return in->n - in->off; }
/* Take up to n bytes (fewer at the end); returns a pointer into the input. */
static inline const uint8_t *fz_take(struct fz_in *in, size_t n, size_t *got) {
    size_t k = fz_left(in) < n ? fz_left(in) : n;
    const uint8_t *r = in->p + in->off;
    in->off += k;
    *got = k;
    return r;
}

/* A harness-detected property violation: print and abort, so libFuzzer records it. */
#define FZ_CHECK(cond, ...)                                                          \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz property violated at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fprintf(stderr, "\n");                                                   \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* The one-line error convention: err is non-empty, has no newline, and fits. */
static inline int fz_one_line(const char *err) {
    return err[0] != 0 && strchr(err, '\n') == NULL;
}

#endif
