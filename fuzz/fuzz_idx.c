/* libFuzzer target: the MNIST-style IDX loader (ar_dataset_load_idx), raw and gzip
 * (the format is detected from content), on two in-memory files. Input layout:
 *   u8 classes-1, u16 length L of the image file, L bytes (image file), rest (label file).
 * Properties: a failure is a one-line message naming one of the two files and leaves
 * the dataset zeroed; a success has dimensions within the documented limits, every
 * label below `classes`, and (for raw files) pixels and labels equal to the bytes
 * after the headers. */
#include <string.h>

#include "fuzz_util.h"
#include "io/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fz_in in = {data, size, 0};
    int classes = 1 + fz_u8(&in);
    size_t li = fz_u16(&in), ni, nl;
    const uint8_t *im = fz_take(&in, li, &ni);
    const uint8_t *lb = fz_take(&in, fz_left(&in), &nl);
    char pi[64], pl[64], err[AR_ERR_LEN] = "";
    int fi = fz_memfile(im, ni, pi), fl = fz_memfile(lb, nl, pl);
    struct ar_dataset ds;
    int rc = ar_dataset_load_idx(&ds, pi, pl, classes, err);
    if (rc != AR_OK) {
        FZ_CHECK(fz_one_line(err) && (strstr(err, pi) || strstr(err, pl)), "message '%s'", err);
        FZ_CHECK(ds.images == NULL && ds.labels == NULL && ds.n == 0, "failed load left state");
    } else {
        FZ_CHECK(ds.n >= 1 && ds.n <= AR_DATASET_MAX_N && ds.c == 1, "n %d c %d", ds.n, ds.c);
        FZ_CHECK(ds.h >= 1 && ds.h <= AR_DATASET_MAX_SIDE && ds.w >= 1 && ds.w <= AR_DATASET_MAX_SIDE, "size");
        FZ_CHECK(ds.classes == classes, "classes");
        for (int i = 0; i < ds.n; i++) FZ_CHECK(ds.labels[i] < classes, "label %d", i);
        size_t px = (size_t)ds.n * (size_t)ds.h * (size_t)ds.w;
        if (ni >= 2 && !(im[0] == 0x1f && im[1] == 0x8b)) {
            FZ_CHECK(ni == 16 + px && memcmp(ds.images, im + 16, px) == 0, "raw pixels differ");
        }
        if (nl >= 2 && !(lb[0] == 0x1f && lb[1] == 0x8b)) {
            FZ_CHECK(nl == 8 + (size_t)ds.n && memcmp(ds.labels, lb + 8, (size_t)ds.n) == 0, "raw labels differ");
        }
        ar_dataset_free(&ds);
    }
    close(fi);
    close(fl);
    return 0;
}
