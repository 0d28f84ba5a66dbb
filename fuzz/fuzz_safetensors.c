/* libFuzzer target: the safetensors reader (ar_st_read_mem) on arbitrary bytes.
 * Properties checked beyond "no crash, no sanitizer report": a failure leaves the
 * struct zeroed with a one-line message naming the input; a success gives tensors
 * whose data lies inside the input and matches it byte for byte, in layout order,
 * without overlaps, with unique names, and typed lookups that agree with the table.
 * Every 8th input is also read through the file path (ar_st_read on a memfd). */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "io/safetensors.h"

static void check_result(int rc, struct ar_st *st, const uint8_t *data, size_t size, const char *err,
                         const char *label) {
    if (rc != AR_OK) {
        FZ_CHECK(fz_one_line(err), "message '%s'", err);
        FZ_CHECK(strstr(err, label) != NULL, "message '%s' does not name %s", err, label);
        FZ_CHECK(st->n_tensors == 0 && st->tensors == NULL && st->n_meta == 0, "failed read left state");
        return;
    }
    FZ_CHECK(size >= 8, "accepted %zu bytes", size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | data[i];
    const uint8_t *sec = data + 8 + hlen;
    size_t dlen = size - 8 - (size_t)hlen;
    size_t prev_end = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const struct ar_st_tensor *t = &st->tensors[i];
        FZ_CHECK(t->data != NULL && t->name != NULL, "tensor %d", i);
        FZ_CHECK(t->ndim >= 0 && t->ndim <= AR_ST_MAX_DIM, "ndim %d", t->ndim);
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            FZ_CHECK(t->shape[d] >= 0, "negative dim");
            numel *= (size_t)t->shape[d];
        }
        FZ_CHECK(numel == t->numel && t->numel * ar_dtype_size(t->dtype) == t->nbytes, "size of '%s'", t->name);
        FZ_CHECK(t->offset + t->nbytes <= dlen, "'%s' overruns the data section", t->name);
        FZ_CHECK(t->nbytes == 0 || t->offset >= prev_end, "'%s' overlaps the previous tensor", t->name);
        if (t->nbytes) prev_end = t->offset + t->nbytes;
        FZ_CHECK(memcmp(t->data, sec + t->offset, t->nbytes) == 0, "'%s' data differs from the file", t->name);
        FZ_CHECK(((uintptr_t)t->data % ar_dtype_size(t->dtype)) == 0, "'%s' misaligned", t->name);
        FZ_CHECK(ar_st_find(st, t->name) == t, "'%s' not unique", t->name);
        const void *p;
        char e2[AR_ERR_LEN];
        FZ_CHECK(ar_st_get(st, t->name, t->dtype, t->ndim, t->shape, &p, e2) == AR_OK && p == t->data, "get");
        enum ar_dtype other = t->dtype == AR_DTYPE_F32 ? AR_DTYPE_U8 : AR_DTYPE_F32;
        FZ_CHECK(ar_st_get(st, t->name, other, t->ndim, t->shape, &p, e2) == AR_ERR_MISMATCH && fz_one_line(e2),
                 "dtype mismatch accepted");
    }
    for (int i = 0; i < st->n_meta; i++) FZ_CHECK(ar_st_meta(st, st->meta_keys[i]) != NULL, "meta lookup");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ar_st st;
    char err[AR_ERR_LEN] = "";
    int rc = ar_st_read_mem(&st, data, size, "fuzz.safetensors", err);
    check_result(rc, &st, data, size, err, "fuzz.safetensors");
    int ntens = st.n_tensors;
    ar_st_free(&st);
    if (size > 0 && data[size - 1] % 8 == 0) {
        char path[64];
        int fd = fz_memfile(data, size, path);
        int rc2 = ar_st_read(&st, path, err);
        FZ_CHECK(rc2 == rc || (rc != AR_OK && rc2 != AR_OK), "file and memory readers disagree: %d vs %d", rc2, rc);
        check_result(rc2, &st, data, size, err, path);
        FZ_CHECK(rc2 != AR_OK || st.n_tensors == ntens, "tensor counts differ");
        ar_st_free(&st);
        close(fd);
    }
    return 0;
}
