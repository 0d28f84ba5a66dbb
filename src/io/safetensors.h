/* safetensors reader and writer (the format PyTorch users exchange weights in).
 *
 * File layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON, then the
 * data section. The JSON object maps each tensor name to
 *   {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
 * (offsets relative to the start of the data section, little-endian row-major data),
 * plus an optional "__metadata__" object of string -> string.
 *
 * The reader validates everything (it is fuzzed): any malformed input gives a status
 * and a one-line message naming the file, never a crash. The writer produces files
 * that Python's `safetensors` loads, and replaces the target atomically. */
#ifndef AR_IO_SAFETENSORS_H
#define AR_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

enum ar_dtype {
    AR_DTYPE_F32,
    AR_DTYPE_F64,
    AR_DTYPE_U8,
    AR_DTYPE_I8,
    AR_DTYPE_I32,
    AR_DTYPE_I64,
    AR_DTYPE_U64,
    AR_DTYPE_BOOL,
    AR_DTYPE_COUNT /* number of dtypes, not a dtype */
};

/* Size in bytes of one element of dt (BOOL is one byte). dt must be a valid dtype. */
size_t ar_dtype_size(enum ar_dtype dt);

/* safetensors name of dt: "F32", "F64", "U8", "I8", "I32", "I64", "U64", "BOOL".
 * Never NULL ("?" for an invalid value). */
const char *ar_dtype_name(enum ar_dtype dt);

/* Parse a safetensors dtype name (exact, case-sensitive). Returns AR_OK and sets *dt,
 * or AR_ERR_FORMAT when the name is unknown or not supported by autorep. */
int ar_dtype_parse(const char *name, enum ar_dtype *dt);

#define AR_ST_MAX_DIM 8
#define AR_ST_PATH_LEN 1024
/* Largest header accepted by the reader. */
#define AR_ST_MAX_HEADER ((uint64_t)100 << 20)

struct ar_st_tensor {
    char *name;
    enum ar_dtype dtype;
    int ndim;                       /* 0 for a scalar */
    int64_t shape[AR_ST_MAX_DIM];   /* shape[ndim..] are 0 */
    size_t numel, nbytes;           /* numel = product of shape (1 for a scalar) */
    size_t offset;                  /* data_offsets[0] in the file (informational) */
    const void *data;               /* little-endian elements; aligned to at least
                                       ar_dtype_size(dtype), never NULL */
};

struct ar_st {
    char path[AR_ST_PATH_LEN];      /* the path or label given to the reader */
    struct ar_st_tensor *tensors;   /* sorted by data offset (the file's layout order) */
    int n_tensors;
    char **meta_keys, **meta_vals;  /* "__metadata__", in file order */
    int n_meta;
    /* private */
    void *buf_;                     /* the data section, 64-byte aligned */
    void *realigned_;               /* copies of tensors whose offsets were misaligned */
};

/* Read and validate a whole safetensors file (header parse first, then one read of
 * the data section into a 64-byte-aligned buffer). On success *st owns everything and
 * must be released with ar_st_free. On failure returns AR_ERR_IO (open/read failed,
 * file truncated), AR_ERR_FORMAT (malformed contents) or AR_ERR_NOMEM, writes a
 * message naming `path` to err, and leaves *st zeroed (ar_st_free is still allowed).
 * Checks: header length (0, > file size - 8, > AR_ST_MAX_HEADER), JSON validity, that
 * the header and each entry are objects, dtype known and supported, shape an array of
 * at most AR_ST_MAX_DIM non-negative integers, numel * size without overflow,
 * data_offsets two integers with begin <= end <= data size and end - begin equal to
 * the tensor's byte size, tensors not overlapping, names unique, metadata an object
 * of strings. Gaps between tensors and unused trailing data are accepted. */
int ar_st_read(struct ar_st *st, const char *path, char *err) AR_NODISCARD;

/* Same as ar_st_read on an in-memory file of len bytes (the data section is copied,
 * buf is not referenced afterwards). `label` names the input in messages (and is
 * stored in st->path); NULL means "<memory>". Intended for tests and fuzzing. */
int ar_st_read_mem(struct ar_st *st, const void *buf, size_t len, const char *label, char *err) AR_NODISCARD;

/* The tensor called name, or NULL if absent. */
const struct ar_st_tensor *ar_st_find(const struct ar_st *st, const char *name);

/* The metadata value for key, or NULL if absent. */
const char *ar_st_meta(const struct ar_st *st, const char *key);

/* Typed lookup: tensor `name` must exist (else AR_ERR_FORMAT "... not found") and have
 * dtype dt (else AR_ERR_MISMATCH); when shape != NULL its ndim and every dimension
 * must equal ndim/shape (else AR_ERR_MISMATCH, message shows both shapes). On success
 * *data points at its elements (owned by st). Messages start with st->path. */
int ar_st_get(const struct ar_st *st, const char *name, enum ar_dtype dt, int ndim, const int64_t *shape,
              const void **data, char *err) AR_NODISCARD;

/* Release everything owned by st and zero it. Accepts a zeroed or failed struct. */
void ar_st_free(struct ar_st *st);

/* ---- writer ---- */

struct ar_st_wentry {
    char *name;
    enum ar_dtype dtype;
    int ndim;
    int64_t shape[AR_ST_MAX_DIM];
    size_t nbytes;
    const void *data;
};

struct ar_st_writer {
    struct ar_st_wentry *entries;   /* in insertion order */
    int n, cap;
    char **meta_keys, **meta_vals;
    int n_meta, cap_meta;
};

/* Start an empty writer. */
void ar_st_writer_init(struct ar_st_writer *w);

/* Queue a tensor. data (ar_dtype_size(dt) * numel bytes, little-endian, may be NULL
 * only when numel == 0) is referenced, not copied: it must stay valid and unchanged
 * until ar_st_writer_write returns. Errors (AR_ERR_ARG): empty or duplicate name,
 * the reserved name "__metadata__", name not valid UTF-8, ndim outside
 * 0..AR_ST_MAX_DIM, a negative dimension, byte size overflow. AR_ERR_NOMEM possible. */
int ar_st_writer_add(struct ar_st_writer *w, const char *name, enum ar_dtype dt, int ndim, const int64_t *shape,
                     const void *data, char *err) AR_NODISCARD;

/* Queue a "__metadata__" entry (both strings copied). A key given twice or a string
 * that is not valid UTF-8 is AR_ERR_ARG. */
int ar_st_writer_meta(struct ar_st_writer *w, const char *key, const char *value, char *err) AR_NODISCARD;

/* Write the file: header JSON ("__metadata__" first, then tensors in insertion order
 * with contiguous data_offsets) padded with spaces so the data section starts at a
 * multiple of 8. Atomic: writes path + ".tmp.<pid>" in the same directory, fflush +
 * fsync, then renames over path; on any failure the temporary is removed, an
 * existing file at path is left untouched, and AR_ERR_IO (message naming path) or
 * AR_ERR_NOMEM is returned. */
int ar_st_writer_write(const struct ar_st_writer *w, const char *path, char *err) AR_NODISCARD;

/* Release the writer's copies (not the referenced tensor data) and zero it. */
void ar_st_writer_free(struct ar_st_writer *w);

#endif
