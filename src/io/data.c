/* Dataset loaders (MNIST/Fashion-MNIST IDX, raw or gzip; CIFAR-10/100 binary) with
 * strict validation, plus per-channel statistics, normalised/augmented float batches
 * and the deterministic epoch shuffle. See data.h for the contracts. */
#include "io/data.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/assert.h"
#include "core/mem.h"
#include "core/rng.h"

#define PATH_CAP 4096
/* deflate cannot expand data by more than ~1032:1, so a gzip file of s bytes never
 * holds more than this many bytes: used to bound allocations before decompressing */
#define GZ_MAX_RATIO 1040u

void ar_dataset_free(struct ar_dataset *ds) {
    if (!ds) return;
    ar_free_big(ds->images);
    ar_free_big(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* ---- a byte source: a raw file or a gzip stream, detected from the content ---- */

struct src {
    const char *path;
    int fd;        /* raw file, -1 when gz */
    gzFile gz;     /* gzip stream (owns its descriptor), NULL when raw */
    uint64_t size; /* file size on disk */
};

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int src_open(struct src *s, const char *path, char *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->fd = -1;
    /* O_NONBLOCK: a FIFO must not block the open (it is refused just below) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ar_errf(err, AR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ar_errf(err, AR_ERR_IO, "%s: not a regular file", path);
    }
    s->size = (uint64_t)sb.st_size;
    unsigned char magic[2] = {0, 0};
    ssize_t r = pread(fd, magic, 2, 0);
    if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        s->gz = gzdopen(fd, "rb");
        if (!s->gz) {
            close(fd);
            return ar_errf(err, AR_ERR_NOMEM, "%s: cannot start gzip decompression", path);
        }
        gzbuffer(s->gz, 1u << 17);
    } else {
        s->fd = fd;
    }
    return AR_OK;
}

static void src_close(struct src *s) {
    if (s->gz) gzclose_r(s->gz);
    if (s->fd >= 0) close(s->fd);
    s->gz = NULL;
    s->fd = -1;
}

/* Read up to n bytes into buf, *got = bytes read (fewer than n only at the end of the
 * data). A read error (AR_ERR_IO) or a corrupt gzip stream (AR_ERR_FORMAT) returns a
 * status with a message naming the file and `what`. A gzip stream that ends early is
 * not an error here: the caller sees a short count and reports expected/got. */
static int src_read(struct src *s, void *buf, size_t n, size_t *got_out, const char *what, char *err) {
    size_t got = 0;
    *got_out = 0;
    while (got < n) {
        size_t chunk = n - got < ((size_t)1 << 30) ? n - got : ((size_t)1 << 30);
        if (s->gz) {
            int r = gzread(s->gz, (char *)buf + got, (unsigned)chunk);
            int zerr = Z_OK;
            const char *zmsg = gzerror(s->gz, &zerr);
            if (r > 0) got += (size_t)r;
            if (zerr == Z_ERRNO)
                return ar_errf(err, AR_ERR_IO, "%s: read error in %s: %s", s->path, what, strerror(errno));
            if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
                /* zlib prefixes its message with "<fd:N>: " for gzdopen streams */
                const char *colon = zmsg ? strstr(zmsg, ": ") : NULL;
                if (zmsg && zmsg[0] == '<' && colon) zmsg = colon + 2;
                return ar_errf(err, AR_ERR_FORMAT, "%s: corrupt gzip stream: %s (while reading the %s)", s->path,
                               zmsg ? zmsg : "unknown error", what);
            }
            if (r <= 0 || (size_t)r < chunk) break; /* end of stream (or truncated) */
        } else {
            ssize_t r = read(s->fd, (char *)buf + got, chunk);
            if (r < 0) {
                if (errno == EINTR) continue;
                return ar_errf(err, AR_ERR_IO, "%s: read error in %s: %s", s->path, what, strerror(errno));
            }
            if (r == 0) break;
            got += (size_t)r;
        }
    }
    *got_out = got;
    return AR_OK;
}

/* " (gzip stream ends early)" when the gzip stream itself was cut off */
static const char *gz_note(struct src *s) {
    if (!s->gz) return "";
    int zerr = Z_OK;
    gzerror(s->gz, &zerr);
    return zerr == Z_BUF_ERROR ? " (gzip stream ends early)" : "";
}

/* Read exactly n bytes of `what`; a short read is a truncation error. */
static int src_read_exact(struct src *s, void *buf, size_t n, const char *what, char *err) {
    size_t got;
    int rc = src_read(s, buf, n, &got, what, err);
    if (rc != AR_OK) return rc;
    if (got != n)
        return ar_errf(err, AR_ERR_IO, "%s: truncated: expected %zu bytes of %s, got %zu%s", s->path, n, what, got,
                       gz_note(s));
    return AR_OK;
}

/* After the last expected byte: the stream must end here (this also makes zlib check
 * the gzip trailer's CRC and length). */
static int src_expect_end(struct src *s, const char *what, char *err) {
    unsigned char extra[256];
    size_t got;
    int rc = src_read(s, extra, sizeof extra, &got, what, err);
    if (rc != AR_OK) return rc;
    if (got > 0) {
        if (s->gz)
            return ar_errf(err, AR_ERR_FORMAT, "%s: trailing data after the %s (decompressed file is too long)",
                           s->path, what);
        return ar_errf(err, AR_ERR_FORMAT, "%s: trailing data: file is %llu bytes, more than the header announces",
                       s->path, (unsigned long long)s->size);
    }
    return AR_OK;
}

/* Before allocating `payload` bytes that follow a header of hdr bytes: a raw file must
 * have exactly that size; a gzip file must be able to hold it. */
static int check_payload_size(struct src *s, uint64_t hdr, uint64_t payload, const char *what, char *err) {
    if (!s->gz) {
        uint64_t have = s->size - hdr; /* size >= hdr: the header was read */
        if (have < payload)
            return ar_errf(err, AR_ERR_IO, "%s: truncated: expected %llu bytes of %s, got %llu", s->path,
                           (unsigned long long)payload, what, (unsigned long long)have);
        if (have > payload)
            return ar_errf(err, AR_ERR_FORMAT, "%s: trailing data: %llu bytes after the %llu bytes of %s", s->path,
                           (unsigned long long)(have - payload), (unsigned long long)payload, what);
    } else if (payload / GZ_MAX_RATIO > s->size) {
        return ar_errf(err, AR_ERR_IO, "%s: truncated: a %llu-byte gzip file cannot hold the expected %llu bytes of %s",
                       s->path, (unsigned long long)s->size, (unsigned long long)payload, what);
    }
    return AR_OK;
}

static uint32_t be32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* ---- IDX ---- */

int ar_dataset_load_idx(struct ar_dataset *ds, const char *images_path, const char *labels_path, int classes,
                        char *err) {
    AR_ASSERT(ds && images_path && labels_path);
    AR_ASSERT(classes >= 1 && classes <= 256);
    memset(ds, 0, sizeof *ds);
    struct src im, lb;
    int rc = src_open(&im, images_path, err);
    if (rc != AR_OK) return rc;
    if ((rc = src_open(&lb, labels_path, err)) != AR_OK) {
        src_close(&im);
        return rc;
    }
    unsigned char h[16];
    AR_TRY(src_read_exact(&im, h, 16, "IDX header", err));
    uint32_t magic = be32(h), n = be32(h + 4), rows = be32(h + 8), cols = be32(h + 12);
    if (magic != 0x00000803) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: bad magic 0x%08x, expected 0x00000803 (IDX unsigned-byte images, 3 dims)",
                     images_path, magic);
        goto fail;
    }
    if (n < 1 || n > AR_DATASET_MAX_N) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: image count %u outside 1..%d", images_path, n, AR_DATASET_MAX_N);
        goto fail;
    }
    if (rows < 1 || rows > AR_DATASET_MAX_SIDE || cols < 1 || cols > AR_DATASET_MAX_SIDE) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: image size %ux%u outside 1..%d", images_path, rows, cols,
                     AR_DATASET_MAX_SIDE);
        goto fail;
    }
    unsigned char hl[8];
    AR_TRY(src_read_exact(&lb, hl, 8, "IDX header", err));
    uint32_t lmagic = be32(hl), ln = be32(hl + 4);
    if (lmagic != 0x00000801) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: bad magic 0x%08x, expected 0x00000801 (IDX unsigned-byte labels, 1 dim)",
                     labels_path, lmagic);
        goto fail;
    }
    if (ln != n) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: %u labels, but %s has %u images", labels_path, ln, images_path, n);
        goto fail;
    }
    uint64_t bytes = (uint64_t)n * rows * cols;
    if (bytes > AR_DATASET_MAX_BYTES) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: %u images of %ux%u (%llu bytes) exceed the %llu-byte limit", images_path,
                     n, rows, cols, (unsigned long long)bytes, (unsigned long long)AR_DATASET_MAX_BYTES);
        goto fail;
    }
    AR_TRY(check_payload_size(&im, 16, bytes, "pixels", err));
    AR_TRY(check_payload_size(&lb, 8, n, "labels", err));
    ds->images = ar_alloc_big((size_t)bytes);
    ds->labels = ar_alloc_big(n);
    if (!ds->images || !ds->labels) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for %llu bytes of pixels", images_path,
                     (unsigned long long)bytes);
        goto fail;
    }
    AR_TRY(src_read_exact(&im, ds->images, (size_t)bytes, "pixels", err));
    AR_TRY(src_expect_end(&im, "pixels", err));
    AR_TRY(src_read_exact(&lb, ds->labels, n, "labels", err));
    AR_TRY(src_expect_end(&lb, "labels", err));
    for (uint32_t i = 0; i < n; i++) {
        if (ds->labels[i] >= classes) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: label %u at index %u is out of range 0..%d", labels_path,
                         ds->labels[i], i, classes - 1);
            goto fail;
        }
    }
    src_close(&im);
    src_close(&lb);
    snprintf(ds->name, sizeof ds->name, "idx");
    ds->n = (int)n;
    ds->c = 1;
    ds->h = (int)rows;
    ds->w = (int)cols;
    ds->classes = classes;
    return AR_OK;
fail:
    src_close(&im);
    src_close(&lb);
    ar_dataset_free(ds);
    return rc;
}

/* ---- CIFAR ---- */

int ar_dataset_load_cifar(struct ar_dataset *ds, const char *const *paths, int n_files, int cifar100, char *err) {
    AR_ASSERT(ds && paths && n_files >= 1);
    memset(ds, 0, sizeof *ds);
    const size_t pix = 3 * 32 * 32;
    const size_t lbytes = cifar100 ? 2 : 1;
    const size_t rec = lbytes + pix;
    const int classes = cifar100 ? 100 : 10;
    const char *set = cifar100 ? "CIFAR-100" : "CIFAR-10";
    uint64_t total = 0;
    for (int f = 0; f < n_files; f++) {
        struct stat sb;
        if (stat(paths[f], &sb) != 0)
            return ar_errf(err, AR_ERR_IO, "%s: cannot open: %s", paths[f], strerror(errno));
        if (!S_ISREG(sb.st_mode)) return ar_errf(err, AR_ERR_IO, "%s: not a regular file", paths[f]);
        uint64_t sz = (uint64_t)sb.st_size;
        if (sz == 0 || sz % rec != 0)
            return ar_errf(err, AR_ERR_FORMAT, "%s: size %llu is not a positive multiple of the %zu-byte %s record",
                           paths[f], (unsigned long long)sz, rec, set);
        total += sz / rec;
        if (total > AR_DATASET_MAX_N)
            return ar_errf(err, AR_ERR_FORMAT, "%s: more than %d records in total", paths[f], AR_DATASET_MAX_N);
    }
    int rc = AR_OK;
    FILE *fp = NULL;
    ds->images = ar_alloc_big((size_t)total * pix);
    ds->labels = ar_alloc_big((size_t)total);
    if (!ds->images || !ds->labels) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for %llu images", paths[0], (unsigned long long)total);
        goto fail;
    }
    size_t i = 0;
    for (int f = 0; f < n_files; f++) {
        fp = fopen(paths[f], "rb");
        if (!fp) {
            rc = ar_errf(err, AR_ERR_IO, "%s: cannot open: %s", paths[f], strerror(errno));
            goto fail;
        }
        setvbuf(fp, NULL, _IOFBF, (size_t)1 << 20);
        for (size_t r = 0;; r++) {
            unsigned char lab[2];
            size_t got = fread(lab, 1, lbytes, fp);
            if (got == 0 && feof(fp)) break;
            if (i == total || got != lbytes || fread(ds->images + i * pix, 1, pix, fp) != pix) {
                /* the file changed size since it was checked */
                rc = ferror(fp) ? ar_errf(err, AR_ERR_IO, "%s: read error: %s", paths[f], strerror(errno))
                                : ar_errf(err, AR_ERR_IO, "%s: file changed while reading (record %zu)", paths[f], r);
                goto fail;
            }
            if (cifar100 && lab[0] >= 20) {
                rc = ar_errf(err, AR_ERR_FORMAT, "%s: record %zu: coarse label %u is out of range 0..19", paths[f], r,
                             lab[0]);
                goto fail;
            }
            unsigned l = lab[lbytes - 1];
            if (l >= (unsigned)classes) {
                rc = ar_errf(err, AR_ERR_FORMAT, "%s: record %zu: label %u is out of range 0..%d", paths[f], r, l,
                             classes - 1);
                goto fail;
            }
            ds->labels[i++] = (uint8_t)l;
        }
        if (ferror(fp)) {
            rc = ar_errf(err, AR_ERR_IO, "%s: read error: %s", paths[f], strerror(errno));
            goto fail;
        }
        fclose(fp);
        fp = NULL;
    }
    if (i != total) {
        rc = ar_errf(err, AR_ERR_IO, "%s: file changed while reading (%zu of %llu records)", paths[n_files - 1], i,
                     (unsigned long long)total);
        goto fail;
    }
    snprintf(ds->name, sizeof ds->name, "%s", cifar100 ? "cifar100" : "cifar10");
    ds->n = (int)total;
    ds->c = 3;
    ds->h = 32;
    ds->w = 32;
    ds->classes = classes;
    return AR_OK;
fail:
    if (fp) fclose(fp);
    ar_dataset_free(ds);
    return rc;
}

/* ---- named sets ---- */

static int join(char *out, const char *a, const char *b, const char *c, char *err) {
    int n = snprintf(out, PATH_CAP, "%s/%s%s", a, b, c);
    if (n < 0 || n >= PATH_CAP) return ar_errf(err, AR_ERR_ARG, "%s: path too long", a);
    return AR_OK;
}

/* dir/base if it exists, else dir/base.gz if it exists, else an error. */
static int find_idx(char *out, const char *dir, const char *base, const char *set, char *err) {
    int rc = join(out, dir, base, "", err);
    if (rc != AR_OK || file_exists(out)) return rc;
    char gz[PATH_CAP];
    if ((rc = join(gz, dir, base, ".gz", err)) != AR_OK) return rc;
    if (file_exists(gz)) {
        memcpy(out, gz, PATH_CAP);
        return AR_OK;
    }
    return ar_errf(err, AR_ERR_IO, "%s: not found (nor %s.gz); pass --data-dir with the directory holding the %s IDX files",
                   out, base, set);
}

/* Locate CIFAR files: all in dir, or all in dir/sub. */
static int find_cifar(char paths[][PATH_CAP], const char *const *names, int n, const char *dir, const char *sub,
                      const char *set, char *err) {
    char first[PATH_CAP], alt[PATH_CAP];
    int rc = join(first, dir, names[0], "", err);
    if (rc != AR_OK) return rc;
    char base[PATH_CAP];
    if (file_exists(first)) {
        snprintf(base, sizeof base, "%s", dir);
    } else {
        int m = snprintf(base, sizeof base, "%s/%s", dir, sub);
        if (m < 0 || m >= PATH_CAP) return ar_errf(err, AR_ERR_ARG, "%s: path too long", dir);
        if ((rc = join(alt, base, names[0], "", err)) != AR_OK) return rc;
        if (!file_exists(alt))
            return ar_errf(err, AR_ERR_IO,
                           "%s: not found (nor %s); pass --data-dir with the directory holding the %s binary files",
                           first, alt, set);
    }
    for (int i = 0; i < n; i++) {
        if ((rc = join(paths[i], base, names[i], "", err)) != AR_OK) return rc;
        if (!file_exists(paths[i]))
            return ar_errf(err, AR_ERR_IO, "%s: not found; pass --data-dir with the directory holding the %s binary files",
                           paths[i], set);
    }
    return AR_OK;
}

int ar_dataset_load(struct ar_dataset *ds, const char *set, const char *dir, int train, char *err) {
    AR_ASSERT(ds && set);
    memset(ds, 0, sizeof *ds);
    int mnist = strcmp(set, "mnist") == 0, fashion = strcmp(set, "fashion-mnist") == 0;
    int c10 = strcmp(set, "cifar10") == 0, c100 = strcmp(set, "cifar100") == 0;
    if (!mnist && !fashion && !c10 && !c100)
        return ar_errf(err, AR_ERR_ARG, "unknown dataset '%.64s' (valid: fashion-mnist, mnist, cifar10, cifar100)",
                       set);
    char defdir[64];
    if (!dir) {
        if (fashion)
            snprintf(defdir, sizeof defdir, "%s", AR_DATASET_DEFAULT_FASHION);
        else
            snprintf(defdir, sizeof defdir, "data/%s", set);
        dir = defdir;
    }
    int rc;
    if (mnist || fashion) {
        const char *pfx = train ? "train" : "t10k";
        const char *label = fashion ? "Fashion-MNIST" : "MNIST";
        char bi[64], bl[64], pi[PATH_CAP], pl[PATH_CAP];
        snprintf(bi, sizeof bi, "%s-images-idx3-ubyte", pfx);
        snprintf(bl, sizeof bl, "%s-labels-idx1-ubyte", pfx);
        if ((rc = find_idx(pi, dir, bi, label, err)) != AR_OK) return rc;
        if ((rc = find_idx(pl, dir, bl, label, err)) != AR_OK) return rc;
        if ((rc = ar_dataset_load_idx(ds, pi, pl, 10, err)) != AR_OK) return rc;
    } else {
        static const char *const c10_train[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                                "data_batch_4.bin", "data_batch_5.bin"};
        static const char *const c10_test[] = {"test_batch.bin"};
        static const char *const c100_train[] = {"train.bin"};
        static const char *const c100_test[] = {"test.bin"};
        const char *const *names = c10 ? (train ? c10_train : c10_test) : (train ? c100_train : c100_test);
        int n = c10 && train ? 5 : 1;
        char paths[5][PATH_CAP];
        const char *pp[5];
        rc = find_cifar(paths, names, n, dir, c10 ? "cifar-10-batches-bin" : "cifar-100-binary",
                        c10 ? "CIFAR-10" : "CIFAR-100", err);
        if (rc != AR_OK) return rc;
        for (int i = 0; i < n; i++) pp[i] = paths[i];
        if ((rc = ar_dataset_load_cifar(ds, pp, n, c100, err)) != AR_OK) return rc;
    }
    snprintf(ds->name, sizeof ds->name, "%s", set);
    return AR_OK;
}

/* ---- statistics, batches, shuffling ---- */

void ar_dataset_channel_stats(const struct ar_dataset *ds, float *mean, float *std) {
    AR_ASSERT(ds && ds->images && mean && std);
    const size_t plane = (size_t)ds->h * (size_t)ds->w;
    const int n = ds->n;
    for (int c = 0; c < ds->c; c++) {
        uint64_t hist[256];
        memset(hist, 0, sizeof hist);
#pragma omp parallel for schedule(static) reduction(+ : hist[:256])
        for (int i = 0; i < n; i++) {
            const uint8_t *p = ds->images + ((size_t)i * (size_t)ds->c + (size_t)c) * plane;
            for (size_t j = 0; j < plane; j++) hist[p[j]]++;
        }
        double count = (double)n * (double)plane, s = 0;
        for (int v = 0; v < 256; v++) s += (double)hist[v] * (v / 255.0);
        double m = s / count, var = 0;
        for (int v = 0; v < 256; v++) {
            double d = v / 255.0 - m;
            var += (double)hist[v] * d * d;
        }
        mean[c] = (float)m;
        std[c] = (float)sqrt(var / count);
    }
}

void ar_dataset_batch(const struct ar_dataset *ds, const int *idx, int n, const float *mean, const float *std,
                      const struct ar_augment *aug, uint64_t seed, uint64_t epoch, float *out, int32_t *labels) {
    AR_ASSERT(ds && ds->images && ds->labels && mean && std && n >= 0);
    AR_ASSERT(n == 0 || (idx && out && labels));
    const int C = ds->c, H = ds->h, W = ds->w;
    for (int c = 0; c < C; c++) AR_ASSERT(std[c] > 0.0f);
    const int pad = aug ? aug->crop_pad : 0;
    const int flip_on = aug ? aug->hflip : 0;
    AR_ASSERT(pad >= 0);
    const size_t plane = (size_t)H * (size_t)W, img = (size_t)C * plane;
    for (int i = 0; i < n; i++) AR_ASSERT(idx[i] >= 0 && idx[i] < ds->n);
#pragma omp parallel for schedule(static) if (n > 1)
    for (int i = 0; i < n; i++) {
        const int k = idx[i];
        const uint8_t *src = ds->images + (size_t)k * img;
        float *dst = out + (size_t)i * img;
        labels[i] = ds->labels[k];
        int dy = 0, dx = 0, flip = 0;
        if (pad > 0 || flip_on) {
            struct ar_rng r;
            ar_rng_seed(&r, seed, epoch, (uint64_t)k);
            if (pad > 0) {
                dy = (int)ar_rng_below(&r, 2 * (uint64_t)pad + 1) - pad; /* top - pad */
                dx = (int)ar_rng_below(&r, 2 * (uint64_t)pad + 1) - pad; /* left - pad */
            }
            if (flip_on) flip = ar_rng_uniform(&r) < 0.5f;
        }
        for (int c = 0; c < C; c++) {
            const float m = mean[c], s = std[c];
            const float zero = (0.0f / 255.0f - m) / s;
            const uint8_t *sp = src + (size_t)c * plane;
            float *dp = dst + (size_t)c * plane;
            if (dy == 0 && dx == 0 && !flip) {
                for (size_t j = 0; j < plane; j++) dp[j] = ((float)sp[j] / 255.0f - m) / s;
                continue;
            }
            for (int y = 0; y < H; y++) {
                const int sy = y + dy;
                float *row = dp + (size_t)y * (size_t)W;
                if (sy < 0 || sy >= H) {
                    for (int x = 0; x < W; x++) row[x] = zero;
                    continue;
                }
                const uint8_t *srow = sp + (size_t)sy * (size_t)W;
                for (int x = 0; x < W; x++) {
                    const int sx = (flip ? W - 1 - x : x) + dx;
                    row[x] = (sx < 0 || sx >= W) ? zero : ((float)srow[sx] / 255.0f - m) / s;
                }
            }
        }
    }
}

void ar_shuffle(int *perm, int n, uint64_t seed, uint64_t epoch) {
    AR_ASSERT(n >= 0 && (perm || n == 0));
    for (int i = 0; i < n; i++) perm[i] = i;
    struct ar_rng r;
    ar_rng_seed(&r, seed, epoch, UINT64_MAX);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)ar_rng_below(&r, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
