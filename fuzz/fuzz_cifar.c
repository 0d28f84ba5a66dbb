/* libFuzzer target: the CIFAR-10/100 binary loader (ar_dataset_load_cifar) on one to
 * three in-memory files. Input layout: u8 flags (bit 0: CIFAR-100; bits 1-2: file
 * count - 1, at most 3), then per file but the last a u16 length and its bytes, the
 * last file takes the rest. Properties: a failure is a one-line message naming a
 * file, with the dataset zeroed; a success holds exactly the records of the files in
 * order (labels and pixels equal the bytes), every label below the class count. */
#include <string.h>

#include "fuzz_util.h"
#include "io/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fz_in in = {data, size, 0};
    uint8_t flags = fz_u8(&in);
    int c100 = flags & 1, nf = 1 + ((flags >> 1) & 3);
    if (nf > 3) nf = 3;
    const uint8_t *fp[3];
    size_t fn[3];
    char paths[3][64], err[AR_ERR_LEN] = "";
    const char *pp[3];
    int fds[3];
    for (int f = 0; f < nf; f++) {
        size_t want = f == nf - 1 ? fz_left(&in) : fz_u16(&in);
        fp[f] = fz_take(&in, want, &fn[f]);
        fds[f] = fz_memfile(fp[f], fn[f], paths[f]);
        pp[f] = paths[f];
    }
    struct ar_dataset ds;
    int rc = ar_dataset_load_cifar(&ds, pp, nf, c100, err);
    if (rc != AR_OK) {
        int named = 0;
        for (int f = 0; f < nf; f++) named |= strstr(err, paths[f]) != NULL;
        FZ_CHECK(fz_one_line(err) && named, "message '%s'", err);
        FZ_CHECK(ds.images == NULL && ds.labels == NULL && ds.n == 0, "failed load left state");
    } else {
        const size_t lbytes = c100 ? 2 : 1, rec = lbytes + 3072;
        size_t total = 0;
        for (int f = 0; f < nf; f++) total += fn[f] / rec;
        FZ_CHECK((size_t)ds.n == total && ds.c == 3 && ds.h == 32 && ds.w == 32, "n %d", ds.n);
        FZ_CHECK(ds.classes == (c100 ? 100 : 10), "classes");
        size_t k = 0;
        for (int f = 0; f < nf; f++)
            for (size_t r = 0; r < fn[f] / rec; r++, k++) {
                const uint8_t *src = fp[f] + r * rec;
                FZ_CHECK(ds.labels[k] == src[lbytes - 1] && ds.labels[k] < ds.classes, "label %zu", k);
                FZ_CHECK(memcmp(ds.images + k * 3072, src + lbytes, 3072) == 0, "pixels %zu", k);
            }
        ar_dataset_free(&ds);
    }
    for (int f = 0; f < nf; f++) close(fds[f]);
    return 0;
}
