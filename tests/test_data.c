/* Tests of the dataset loaders (synthetic IDX raw/gzip and CIFAR files, every
 * validation error), channel statistics, normalised/augmented batches, the epoch
 * shuffle, and the real Fashion-MNIST test split installed by scripts/setup.sh. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "core/rng.h"
#include "io/data.h"

/* ---- helpers ---- */

static int put_file(const char *path, const void *b, size_t n, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g) return -1;
        int w = n ? gzwrite(g, b, (unsigned)n) : 0;
        return gzclose(g) == Z_OK && (size_t)w == n ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}


static void be32_put(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

static uint8_t pix(int i, int j) { return (uint8_t)((i * 37 + j * 11 + 3) & 255); }

/* IDX image file bytes: magic, n, rows, cols, then n*rows*cols pixels pix(i, j). */
static unsigned char *idx_images(uint32_t magic, int n, int rows, int cols, size_t *len) {
    size_t np = (size_t)n * (size_t)rows * (size_t)cols;
    unsigned char *b = malloc(16 + np + 64);
    be32_put(b, magic);
    be32_put(b + 4, (uint32_t)n);
    be32_put(b + 8, (uint32_t)rows);
    be32_put(b + 12, (uint32_t)cols);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < rows * cols; j++) b[16 + (size_t)i * (size_t)(rows * cols) + (size_t)j] = pix(i, j);
    *len = 16 + np;
    return b;
}

static unsigned char *idx_labels(uint32_t magic, int n, size_t *len) {
    unsigned char *b = malloc(8 + (size_t)n + 64);
    be32_put(b, magic);
    be32_put(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)((i * 3) % 10);
    *len = 8 + (size_t)n;
    return b;
}

static void path_in(char *out, const char *dir, const char *name) {
    int n = snprintf(out, 1024, "%s/%s", dir, name);
    if (n < 0 || n >= 1024) abort();
}

/* Write an MNIST-style split into dir ("train" or "t10k"). */
static void write_idx_set(const char *dir, const char *pfx, int n, int rows, int cols, int gz, const char *suffix) {
    char p[1024], name[128];
    size_t li, ll;
    unsigned char *im = idx_images(0x803, n, rows, cols, &li), *lb = idx_labels(0x801, n, &ll);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", pfx, suffix);
    path_in(p, dir, name);
    CHECK(put_file(p, im, li, gz) == 0);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", pfx, suffix);
    path_in(p, dir, name);
    CHECK(put_file(p, lb, ll, gz) == 0);
    free(im);
    free(lb);
}

static void check_idx_content(const struct ar_dataset *ds, int n, int rows, int cols) {
    CHECK_EQ_INT(ds->n, n);
    CHECK_EQ_INT(ds->c, 1);
    CHECK_EQ_INT(ds->h, rows);
    CHECK_EQ_INT(ds->w, cols);
    CHECK_EQ_INT(ds->classes, 10);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        ok &= ds->labels[i] == (i * 3) % 10;
        for (int j = 0; j < rows * cols; j++) ok &= ds->images[(size_t)i * (size_t)(rows * cols) + (size_t)j] == pix(i, j);
    }
    CHECK(ok);
}

/* ---- IDX ---- */

AR_TEST(data_idx_raw_and_gzip_load) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    char d1[512];
    snprintf(d1, sizeof d1, "%s", ar_test_tmpdir());
    write_idx_set(d1, "train", 7, 5, 3, 0, "");
    REQUIRE_OK(ar_dataset_load(&ds, "mnist", d1, 1, err), err);
    CHECK(strcmp(ds.name, "mnist") == 0);
    check_idx_content(&ds, 7, 5, 3);
    CHECK(((uintptr_t)ds.images & 63) == 0);
    ar_dataset_free(&ds);
    ar_dataset_free(&ds);

    char d2[512];
    snprintf(d2, sizeof d2, "%s", ar_test_tmpdir());
    write_idx_set(d2, "t10k", 11, 4, 6, 1, ".gz");
    REQUIRE_OK(ar_dataset_load(&ds, "fashion-mnist", d2, 0, err), err);
    CHECK(strcmp(ds.name, "fashion-mnist") == 0);
    check_idx_content(&ds, 11, 4, 6);
    ar_dataset_free(&ds);
    /* the training split is not there */
    CHECK(ar_dataset_load(&ds, "fashion-mnist", d2, 1, err) == AR_ERR_IO);
    CHECK(strstr(err, "train-images-idx3-ubyte") && strstr(err, "--data-dir"));

    /* content decides, not the name: raw bytes named .gz, gzip bytes without .gz */
    char d3[512];
    snprintf(d3, sizeof d3, "%s", ar_test_tmpdir());
    char pi[1024], pl[1024];
    size_t li, ll;
    unsigned char *im = idx_images(0x803, 3, 2, 2, &li), *lb = idx_labels(0x801, 3, &ll);
    path_in(pi, d3, "train-images-idx3-ubyte.gz");
    path_in(pl, d3, "train-labels-idx1-ubyte");
    REQUIRE(put_file(pi, im, li, 0) == 0 && put_file(pl, lb, ll, 1) == 0);
    REQUIRE_OK(ar_dataset_load(&ds, "mnist", d3, 1, err), err);
    check_idx_content(&ds, 3, 2, 2);
    ar_dataset_free(&ds);
    /* both raw and .gz present: the raw one is used */
    path_in(pi, d3, "train-images-idx3-ubyte");
    REQUIRE(put_file(pi, im, li, 0) == 0);
    path_in(pi, d3, "train-images-idx3-ubyte.gz");
    REQUIRE(put_file(pi, "junk", 4, 0) == 0);
    REQUIRE_OK(ar_dataset_load(&ds, "mnist", d3, 1, err), err);
    ar_dataset_free(&ds);
    free(im);
    free(lb);
}

struct idx_case {
    const char *what;
    int gz;
    uint32_t img_magic, lbl_magic;
    int n_img, n_lbl, rows, cols;
    long img_delta; /* bytes added (>0, garbage) or removed (<0) at the end of the image payload */
    int bad_label;  /* set label 2 to 10 */
    const char *expect_file; /* "images" or "labels" */
    const char *expect;
};

AR_TEST(data_idx_rejects_bad_files) {
    static const struct idx_case cases[] = {
        {"truncated raw", 0, 0x803, 0x801, 5, 5, 3, 4, -10, 0, "images", "truncated: expected 60 bytes of pixels, got 50"},
        {"truncated gz", 1, 0x803, 0x801, 5, 5, 3, 4, -10, 0, "images", "truncated: expected 60 bytes of pixels, got 50"},
        {"trailing raw", 0, 0x803, 0x801, 5, 5, 3, 4, 7, 0, "images", "trailing data"},
        {"trailing gz", 1, 0x803, 0x801, 5, 5, 3, 4, 7, 0, "images", "trailing data"},
        {"images magic", 0, 0x801, 0x801, 5, 5, 3, 4, 0, 0, "images", "bad magic 0x00000801, expected 0x00000803"},
        {"labels magic", 1, 0x803, 0x803, 5, 5, 3, 4, 0, 0, "labels", "bad magic 0x00000803, expected 0x00000801"},
        {"count mismatch", 0, 0x803, 0x801, 5, 4, 3, 4, 0, 0, "labels", "4 labels, but"},
        {"bad label", 1, 0x803, 0x801, 5, 5, 3, 4, 0, 1, "labels", "label 10 at index 2 is out of range 0..9"},
        {"zero rows", 0, 0x803, 0x801, 5, 5, 0, 4, 0, 0, "images", "image size 0x4"},
        {"huge cols", 0, 0x803, 0x801, 5, 5, 3, 5000, 0, 0, "images", "image size 3x5000"},
        {"zero images", 0, 0x803, 0x801, 0, 0, 3, 4, 0, 0, "images", "image count 0"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct idx_case *c = &cases[k];
        char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir());
        const char *sfx = c->gz ? ".gz" : "";
        char pi[1024], pl[1024], name[128];
        snprintf(name, sizeof name, "train-images-idx3-ubyte%s", sfx);
        path_in(pi, d, name);
        snprintf(name, sizeof name, "train-labels-idx1-ubyte%s", sfx);
        path_in(pl, d, name);
        size_t li, ll;
        unsigned char *im = idx_images(c->img_magic, c->n_img, c->rows, c->cols, &li);
        unsigned char *lb = idx_labels(c->lbl_magic, c->n_lbl, &ll);
        if (c->img_delta < 0) li -= (size_t)(-c->img_delta);
        for (long j = 0; j < c->img_delta; j++) im[li++] = 0x5a;
        if (c->bad_label) lb[8 + 2] = 10;
        REQUIRE(put_file(pi, im, li, c->gz) == 0 && put_file(pl, lb, ll, c->gz) == 0);
        free(im);
        free(lb);
        char err[AR_ERR_LEN] = "";
        struct ar_dataset ds;
        int rc = ar_dataset_load(&ds, "mnist", d, 1, err);
        CHECK_MSG(rc < 0, "%s: accepted", c->what);
        const char *want = strcmp(c->expect_file, "images") == 0 ? pi : pl;
        CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "%s: message does not start with %s: %s", c->what, want, err);
        CHECK_MSG(strstr(err, c->expect) != NULL, "%s: message lacks '%s': %s", c->what, c->expect, err);
        CHECK(ds.images == NULL && ds.labels == NULL && ds.n == 0);
        ar_dataset_free(&ds);
    }
}

AR_TEST(data_idx_rejects_bad_gzip) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir()); /* ar_test_tmpdir() reuses its buffer */
    write_idx_set(d, "train", 50, 8, 8, 1, ".gz");
    char pi[1024];
    path_in(pi, d, "train-images-idx3-ubyte.gz");
    size_t n;
    unsigned char *gz = ar_test_read_file(pi, &n);
    REQUIRE(gz && n > 40 && gz[0] == 0x1f && gz[1] == 0x8b);

    /* 1. deflate data overwritten: reserved block type right after the 10-byte header */
    unsigned char *bad = malloc(n);
    memcpy(bad, gz, n);
    memset(bad + 10, 0xff, 8);
    REQUIRE(put_file(pi, bad, n, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0 && strstr(err, "corrupt gzip stream"), "%s", err);

    /* 2. CRC trailer damaged: data decodes but the check fails */
    memcpy(bad, gz, n);
    bad[n - 6] ^= 0x55;
    REQUIRE(put_file(pi, bad, n, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0 && strstr(err, "corrupt gzip stream"), "%s", err);
    CHECK_MSG(strstr(err, "<fd:") == NULL, "%s", err);

    /* 2b. the same for a file larger than zlib's buffers (checked after the last pixel) */
    char dbig[512];
    snprintf(dbig, sizeof dbig, "%s", ar_test_tmpdir());
    write_idx_set(dbig, "train", 3000, 28, 28, 1, ".gz");
    char pbig[1024];
    path_in(pbig, dbig, "train-images-idx3-ubyte.gz");
    size_t nbig;
    unsigned char *big = ar_test_read_file(pbig, &nbig);
    REQUIRE(big && nbig > 100);
    big[nbig - 7] ^= 0x01;
    REQUIRE(put_file(pbig, big, nbig, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", dbig, 1, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, pbig, strlen(pbig)) == 0 && strstr(err, "incorrect data check"), "%s", err);
    free(big);

    /* 3. compressed stream cut in half */
    REQUIRE(put_file(pi, gz, n / 2, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) < 0);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0 && (strstr(err, "truncated") || strstr(err, "corrupt")), "%s", err);

    /* 4. not a gzip at all, but named .gz */
    REQUIRE(put_file(pi, "<html>404 Not Found</html>", 26, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0 && strstr(err, "bad magic"), "%s", err);

    /* 5. gzip magic and nothing else */
    REQUIRE(put_file(pi, "\x1f\x8b", 2, 0) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) < 0);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0, "%s", err);

    /* 6. a tiny gzip file that claims a huge image count: refused before allocating */
    unsigned char hdr[16];
    be32_put(hdr, 0x803);
    be32_put(hdr + 4, 1000000);
    be32_put(hdr + 8, 28);
    be32_put(hdr + 12, 28);
    REQUIRE(put_file(pi, hdr, 16, 1) == 0);
    char pl[1024];
    path_in(pl, d, "train-labels-idx1-ubyte.gz");
    size_t ll;
    unsigned char *lb = idx_labels(0x801, 0, &ll);
    be32_put(lb + 4, 1000000);
    REQUIRE(put_file(pl, lb, 8, 1) == 0);
    CHECK(ar_dataset_load(&ds, "mnist", d, 1, err) < 0);
    CHECK_MSG(strncmp(err, pi, strlen(pi)) == 0 && strstr(err, "cannot hold"), "%s", err);
    free(lb);
    free(bad);
    free(gz);
}

/* Random damage to raw and gzip IDX files: always a clean error or a valid load
 * (run under `make check-asan` for leaks and out-of-bounds accesses). */
AR_TEST(data_idx_random_corruption_is_safe) {
    char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir());
    write_idx_set(d, "t10k", 20, 6, 5, 0, "");
    char pi[1024], pl[1024];
    path_in(pi, d, "t10k-images-idx3-ubyte");
    path_in(pl, d, "t10k-labels-idx1-ubyte");
    size_t ni, nl;
    unsigned char *im = idx_images(0x803, 20, 6, 5, &ni), *lb = idx_labels(0x801, 20, &nl);
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 0xda7a, 0);
    unsigned char *buf = malloc(ni + 16);
    for (int it = 0; it < 300; it++) {
        int which = (int)ar_rng_below(&r, 2), gz = (int)ar_rng_below(&r, 2);
        const unsigned char *src = which ? lb : im;
        size_t n = which ? nl : ni;
        memcpy(buf, src, n);
        int m = 1 + (int)ar_rng_below(&r, 3);
        for (int j = 0; j < m; j++) {
            size_t pos = (size_t)ar_rng_below(&r, ar_rng_below(&r, 2) ? 16 : n); /* favour headers */
            if (ar_rng_below(&r, 5) == 0)
                n = pos;
            else
                buf[pos] = (unsigned char)ar_rng_u64(&r);
        }
        REQUIRE(put_file(which ? pl : pi, buf, n, gz) == 0);
        REQUIRE(put_file(which ? pi : pl, which ? im : lb, which ? ni : nl, 0) == 0);
        char err[AR_ERR_LEN] = "";
        struct ar_dataset ds;
        int rc = ar_dataset_load(&ds, "mnist", d, 0, err);
        if (rc != AR_OK) CHECK_MSG(strncmp(err, d, strlen(d)) == 0, "message lacks the path: %s", err);
        else CHECK(ds.n == 20 && ds.images && ds.labels);
        ar_dataset_free(&ds);
    }
    free(buf);
    free(im);
    free(lb);
}

AR_TEST(data_missing_and_unknown) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir());
    CHECK(ar_dataset_load(&ds, "imagenet", d, 1, err) == AR_ERR_ARG);
    CHECK(strstr(err, "imagenet") && strstr(err, "fashion-mnist, mnist, cifar10, cifar100"));
    CHECK(ar_dataset_load(&ds, "mnist", d, 0, err) == AR_ERR_IO);
    CHECK(strstr(err, d) && strstr(err, "t10k-images-idx3-ubyte") && strstr(err, "--data-dir"));
    CHECK(ar_dataset_load(&ds, "cifar10", d, 1, err) == AR_ERR_IO);
    CHECK(strstr(err, "data_batch_1.bin") && strstr(err, "--data-dir"));
    CHECK(ar_dataset_load(&ds, "cifar100", d, 0, err) == AR_ERR_IO);
    CHECK(strstr(err, "test.bin") && strstr(err, "cifar-100-binary") && strstr(err, "--data-dir"));
    /* default directory for everything but fashion-mnist is data/<set> */
    CHECK(ar_dataset_load(&ds, "cifar10", NULL, 0, err) == AR_ERR_IO || ds.n > 0);
    if (ds.n == 0) CHECK_MSG(strstr(err, "data/cifar10/test_batch.bin") != NULL, "%s", err);
    ar_dataset_free(&ds);
    CHECK(ds.images == NULL);
}

/* ---- CIFAR ---- */

static uint8_t cpix(int rec, int j) { return (uint8_t)((rec * 13 + j * 7 + 1) & 255); }

/* nrec records starting at global record number first; label = lab(first + r). */
static unsigned char *cifar_bytes(int first, int nrec, int c100, size_t *len) {
    size_t rec = (c100 ? 2u : 1u) + 3072u;
    unsigned char *b = malloc(rec * (size_t)nrec + 8);
    for (int r = 0; r < nrec; r++) {
        unsigned char *p = b + rec * (size_t)r;
        int g = first + r;
        if (c100) {
            *p++ = (unsigned char)(g % 20);
            *p++ = (unsigned char)((g * 7) % 100);
        } else {
            *p++ = (unsigned char)(g % 10);
        }
        for (int j = 0; j < 3072; j++) p[j] = cpix(g, j);
    }
    *len = rec * (size_t)nrec;
    return b;
}

AR_TEST(data_cifar10_and_cifar100_load) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir());
    char sub[1024], p[1024], name[64];
    /* training batches in the subdirectory, test batch directly in d */
    path_in(sub, d, "cifar-10-batches-bin");
    REQUIRE(mkdir(sub, 0755) == 0);
    static const int counts[5] = {2, 1, 3, 1, 2};
    int first = 0;
    for (int f = 0; f < 5; f++) {
        size_t len;
        unsigned char *b = cifar_bytes(first, counts[f], 0, &len);
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        path_in(p, sub, name);
        REQUIRE(put_file(p, b, len, 0) == 0);
        free(b);
        first += counts[f];
    }
    REQUIRE_OK(ar_dataset_load(&ds, "cifar10", d, 1, err), err);
    CHECK(strcmp(ds.name, "cifar10") == 0);
    CHECK(ds.n == 9 && ds.c == 3 && ds.h == 32 && ds.w == 32 && ds.classes == 10);
    int ok = 1;
    for (int i = 0; i < ds.n; i++) {
        ok &= ds.labels[i] == i % 10;
        for (int j = 0; j < 3072; j++) ok &= ds.images[(size_t)i * 3072 + (size_t)j] == cpix(i, j);
    }
    CHECK(ok);
    ar_dataset_free(&ds);
    size_t len;
    unsigned char *b = cifar_bytes(100, 4, 0, &len);
    path_in(p, d, "test_batch.bin");
    REQUIRE(put_file(p, b, len, 0) == 0);
    free(b);
    REQUIRE_OK(ar_dataset_load(&ds, "cifar10", d, 0, err), err);
    CHECK(ds.n == 4 && ds.labels[1] == 101 % 10 && ds.images[3072 + 5] == cpix(101, 5));
    ar_dataset_free(&ds);

    /* CIFAR-100: fine labels */
    char d100[512];
    snprintf(d100, sizeof d100, "%s", ar_test_tmpdir());
    b = cifar_bytes(0, 5, 1, &len);
    path_in(p, d100, "train.bin");
    REQUIRE(put_file(p, b, len, 0) == 0);
    free(b);
    REQUIRE_OK(ar_dataset_load(&ds, "cifar100", d100, 1, err), err);
    CHECK(strcmp(ds.name, "cifar100") == 0);
    CHECK(ds.n == 5 && ds.c == 3 && ds.classes == 100);
    ok = 1;
    for (int i = 0; i < ds.n; i++) {
        ok &= ds.labels[i] == (i * 7) % 100;
        for (int j = 0; j < 3072; j += 97) ok &= ds.images[(size_t)i * 3072 + (size_t)j] == cpix(i, j);
    }
    CHECK(ok);
    ar_dataset_free(&ds);
}

AR_TEST(data_cifar_rejects_bad_files) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    char d[512];
    snprintf(d, sizeof d, "%s", ar_test_tmpdir());
    char p[1024], name[64];
    size_t len;
    unsigned char *b = cifar_bytes(0, 3, 0, &len);
    /* batches 1 and 2 only: the message names the missing third */
    for (int f = 1; f <= 2; f++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", f);
        path_in(p, d, name);
        REQUIRE(put_file(p, b, len, 0) == 0);
    }
    CHECK(ar_dataset_load(&ds, "cifar10", d, 1, err) == AR_ERR_IO);
    CHECK_MSG(strstr(err, "data_batch_3.bin: not found") != NULL, "%s", err);

    /* size not a multiple of 3073 */
    path_in(p, d, "test_batch.bin");
    REQUIRE(put_file(p, b, len - 5, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar10", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, p, strlen(p)) == 0 && strstr(err, "size 9214 is not a positive multiple of the 3073-byte"),
              "%s", err);
    /* empty */
    REQUIRE(put_file(p, b, 0, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar10", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, p, strlen(p)) == 0 && strstr(err, "size 0"), "%s", err);
    /* label out of range */
    b[3073] = 10;
    REQUIRE(put_file(p, b, len, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar10", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strncmp(err, p, strlen(p)) == 0 && strstr(err, "record 1: label 10 is out of range 0..9"), "%s", err);
    CHECK(ds.images == NULL && ds.labels == NULL);
    free(b);

    /* CIFAR-100: a CIFAR-10 sized file, a bad fine label, a bad coarse label */
    b = cifar_bytes(0, 2, 1, &len);
    path_in(p, d, "test.bin");
    REQUIRE(put_file(p, b, 3073 * 2, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar100", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strstr(err, "3074-byte CIFAR-100 record") != NULL, "%s", err);
    b[3074 + 1] = 100;
    REQUIRE(put_file(p, b, len, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar100", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strstr(err, "record 1: label 100 is out of range 0..99") != NULL, "%s", err);
    b[3074 + 1] = 5;
    b[0] = 20;
    REQUIRE(put_file(p, b, len, 0) == 0);
    CHECK(ar_dataset_load(&ds, "cifar100", d, 0, err) == AR_ERR_FORMAT);
    CHECK_MSG(strstr(err, "record 0: coarse label 20") != NULL, "%s", err);
    free(b);
}

/* ---- statistics and batches (datasets built in memory) ---- */

static void make_ds(struct ar_dataset *ds, int n, int c, int h, int w, uint64_t seed) {
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->c = c, ds->h = h, ds->w = w, ds->classes = 10;
    size_t sz = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    ds->images = malloc(sz);
    ds->labels = malloc((size_t)n);
    struct ar_rng r;
    ar_rng_seed(&r, seed, 1, 2);
    for (size_t i = 0; i < sz; i++) ds->images[i] = (uint8_t)ar_rng_below(&r, 256);
    for (int i = 0; i < n; i++) ds->labels[i] = (uint8_t)(i % 10);
}

static void free_ds(struct ar_dataset *ds) {
    free(ds->images);
    free(ds->labels);
}

AR_TEST(data_channel_stats_match_direct_sums) {
    struct ar_dataset ds;
    make_ds(&ds, 37, 3, 5, 4, ar_test_seed());
    /* make channel 2 skewed so the channels differ */
    for (int i = 0; i < ds.n; i++)
        for (int j = 0; j < 20; j++) ds.images[(size_t)i * 60 + 40 + (size_t)j] /= 4;
    float mean[3], std[3];
    ar_dataset_channel_stats(&ds, mean, std);
    for (int c = 0; c < 3; c++) {
        double s = 0, s2 = 0, cnt = 0;
        for (int i = 0; i < ds.n; i++)
            for (int j = 0; j < 20; j++) {
                double v = ds.images[(size_t)i * 60 + (size_t)c * 20 + (size_t)j] / 255.0;
                s += v;
                cnt += 1;
            }
        double m = s / cnt;
        for (int i = 0; i < ds.n; i++)
            for (int j = 0; j < 20; j++) {
                double v = ds.images[(size_t)i * 60 + (size_t)c * 20 + (size_t)j] / 255.0 - m;
                s2 += v * v;
            }
        double sd = sqrt(s2 / cnt);
        CHECK_MSG(fabs(mean[c] - m) < 1e-6 && fabs(std[c] - sd) < 1e-6, "channel %d: %g %g vs %g %g", c, mean[c],
                  std[c], m, sd);
    }
    CHECK(mean[2] < mean[0] * 0.5);
    free_ds(&ds);
}

AR_TEST(data_batch_normalisation_is_exact) {
    struct ar_dataset ds;
    make_ds(&ds, 6, 3, 2, 3, ar_test_seed());
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2470f, 0.2435f, 0.2616f};
    const int idx[4] = {5, 0, 3, 5};
    float out[4 * 18];
    int32_t lab[4];
    struct ar_augment none = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        memset(out, 0xff, sizeof out);
        ar_dataset_batch(&ds, idx, 4, mean, std, pass ? &none : NULL, 1, 2, out, lab);
        int exact = 1;
        for (int i = 0; i < 4; i++) {
            CHECK_EQ_INT(lab[i], ds.labels[idx[i]]);
            for (int c = 0; c < 3; c++)
                for (int j = 0; j < 6; j++) {
                    uint8_t p = ds.images[(size_t)idx[i] * 18 + (size_t)c * 6 + (size_t)j];
                    float want = ((float)p / 255.0f - mean[c]) / std[c];
                    exact &= out[i * 18 + c * 6 + j] == want;
                }
        }
        CHECK(exact);
    }
    /* hand-computed anchor values: pixel 0, 255 and 51 in channel 0 */
    ds.images[0] = 0, ds.images[1] = 255, ds.images[2] = 51;
    const int one = 0;
    ar_dataset_batch(&ds, &one, 1, mean, std, NULL, 0, 0, out, lab);
    CHECK(out[0] == (0.0f - 0.4914f) / 0.2470f);
    CHECK(out[1] == (1.0f - 0.4914f) / 0.2470f);
    CHECK(out[2] == (0.2f - 0.4914f) / 0.2470f);
    CHECK(fabsf(out[1] - 2.0591093f) < 1e-6f);
    free_ds(&ds);
}

/* Reference crop+flip of one single-channel image (mean 0, std 1): out = pixel / 255. */
static void ref_aug(const uint8_t *img, int h, int w, int dy, int dx, int flip, float *out) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
            uint8_t v = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? img[sy * w + sx] : 0;
            out[y * w + x] = (float)v / 255.0f;
        }
}

AR_TEST(data_augmentation_is_deterministic_and_covers_range) {
    enum { H = 8, W = 8, N = 3000, P = 4 };
    struct ar_dataset ds;
    make_ds(&ds, N, 1, H, W, 0);
    for (int i = 0; i < N; i++) /* every image: distinct non-zero pixels 1..64 */
        for (int j = 0; j < H * W; j++) ds.images[(size_t)i * H * W + (size_t)j] = (uint8_t)(1 + j);
    const float mean[1] = {0.0f}, std[1] = {1.0f};
    struct ar_augment aug = {P, 1};
    int *idx = malloc(N * sizeof(int));
    for (int i = 0; i < N; i++) idx[i] = i;
    float *out = malloc((size_t)N * H * W * sizeof(float));
    float *out2 = malloc((size_t)N * H * W * sizeof(float));
    int32_t *lab = malloc(N * sizeof(int32_t));
    ar_dataset_batch(&ds, idx, N, mean, std, &aug, 77, 3, out, lab);

    /* recover (dy, dx, flip) of every sample */
    int hy[2 * P + 1] = {0}, hx[2 * P + 1] = {0}, flips = 0, unmatched = 0;
    float ref[H * W];
    for (int i = 0; i < N; i++) {
        int found = 0;
        for (int dy = -P; dy <= P && !found; dy++)
            for (int dx = -P; dx <= P && !found; dx++)
                for (int f = 0; f < 2 && !found; f++) {
                    ref_aug(ds.images, H, W, dy, dx, f, ref);
                    if (memcmp(ref, out + (size_t)i * H * W, sizeof ref) == 0) {
                        found = 1;
                        hy[dy + P]++;
                        hx[dx + P]++;
                        flips += f;
                    }
                }
        unmatched += !found;
    }
    CHECK_EQ_INT(unmatched, 0);
    for (int k = 0; k <= 2 * P; k++) {
        /* each offset expected N/9 = 333 times */
        CHECK_MSG(hy[k] > 250 && hy[k] < 420, "top offset %d drawn %d times", k, hy[k]);
        CHECK_MSG(hx[k] > 250 && hx[k] < 420, "left offset %d drawn %d times", k, hx[k]);
    }
    CHECK_MSG(flips > N * 0.45 && flips < N * 0.55, "%d flips of %d", flips, N);

    /* same (seed, epoch, idx) in another batch position, another batch, one thread */
    int rev[5] = {9, 4, 2999, 0, 4};
    ar_dataset_batch(&ds, rev, 5, mean, std, &aug, 77, 3, out2, lab);
    for (int i = 0; i < 5; i++)
        CHECK(memcmp(out2 + (size_t)i * H * W, out + (size_t)rev[i] * H * W, H * W * sizeof(float)) == 0);
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    ar_dataset_batch(&ds, idx, N, mean, std, &aug, 77, 3, out2, lab);
    omp_set_num_threads(nt);
    CHECK(memcmp(out, out2, (size_t)N * H * W * sizeof(float)) == 0);
    /* another epoch or seed changes the draws */
    ar_dataset_batch(&ds, idx, N, mean, std, &aug, 77, 4, out2, lab);
    CHECK(memcmp(out, out2, (size_t)N * H * W * sizeof(float)) != 0);
    ar_dataset_batch(&ds, idx, N, mean, std, &aug, 78, 3, out2, lab);
    CHECK(memcmp(out, out2, (size_t)N * H * W * sizeof(float)) != 0);

    /* padding is zero before normalisation: -mean/std after it */
    const float m2[1] = {0.5f}, s2[1] = {0.25f};
    struct ar_augment crop_only = {P, 0};
    ar_dataset_batch(&ds, idx, 200, m2, s2, &crop_only, 5, 0, out2, lab);
    float allowed[65];
    for (int v = 0; v <= 64; v++) allowed[v] = ((float)v / 255.0f - m2[0]) / s2[0];
    CHECK(allowed[0] == -2.0f);
    int saw_pad = 0, bad = 0;
    for (int i = 0; i < 200 * H * W; i++) {
        int hit = 0;
        for (int v = 0; v <= 64; v++) hit |= out2[i] == allowed[v];
        saw_pad |= out2[i] == -2.0f;
        bad |= !hit;
    }
    CHECK(saw_pad && !bad);
    /* flip only: each sample is the image or its mirror */
    struct ar_augment flip_only = {0, 1};
    ar_dataset_batch(&ds, idx, 100, mean, std, &flip_only, 5, 0, out2, lab);
    int mirrored = 0;
    for (int i = 0; i < 100; i++) {
        float a[H * W], b[H * W];
        ref_aug(ds.images, H, W, 0, 0, 0, a);
        ref_aug(ds.images, H, W, 0, 0, 1, b);
        int is_a = memcmp(out2 + (size_t)i * H * W, a, sizeof a) == 0;
        int is_b = memcmp(out2 + (size_t)i * H * W, b, sizeof b) == 0;
        CHECK(is_a || is_b);
        mirrored += is_b;
    }
    CHECK(mirrored > 25 && mirrored < 75);
    free(idx);
    free(out);
    free(out2);
    free(lab);
    free_ds(&ds);
}

AR_TEST(data_shuffle_is_a_permutation_per_epoch) {
    enum { N = 1000 };
    int a[N], b[N], c[N];
    ar_shuffle(a, N, 42, 0);
    ar_shuffle(b, N, 42, 0);
    ar_shuffle(c, N, 42, 1);
    char seen[N] = {0};
    int ok = 1, fixed = 0;
    for (int i = 0; i < N; i++) {
        ok &= a[i] >= 0 && a[i] < N && !seen[a[i]];
        if (a[i] >= 0 && a[i] < N) seen[a[i]] = 1;
        fixed += a[i] == i;
    }
    CHECK(ok);
    CHECK(fixed < 10);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    ar_shuffle(c, N, 43, 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    int one[1] = {7};
    ar_shuffle(one, 1, 1, 1);
    CHECK(one[0] == 0);
    ar_shuffle(NULL, 0, 1, 1);
}

/* ---- the real data set ---- */

AR_TEST(data_fashion_mnist_test_split) {
    char err[AR_ERR_LEN] = "";
    struct ar_dataset ds;
    int rc = ar_dataset_load(&ds, "fashion-mnist", NULL, 0, err);
    CHECK_MSG(rc == AR_OK, "%s (install it with scripts/setup.sh: package dataset-fashion-mnist)", err);
    if (rc != AR_OK) return;
    CHECK(strcmp(ds.name, "fashion-mnist") == 0);
    CHECK(ds.n == 10000 && ds.c == 1 && ds.h == 28 && ds.w == 28 && ds.classes == 10);
    int per_class[10] = {0};
    for (int i = 0; i < ds.n; i++) per_class[ds.labels[i]]++;
    for (int k = 0; k < 10; k++) CHECK_EQ_INT(per_class[k], 1000);
    float mean, std;
    ar_dataset_channel_stats(&ds, &mean, &std);
    CHECK_MSG(fabsf(mean - 0.286f) < 0.003f, "mean %f", mean);
    CHECK_MSG(fabsf(std - 0.353f) < 0.005f, "std %f", std);
    ar_dataset_free(&ds);
}
