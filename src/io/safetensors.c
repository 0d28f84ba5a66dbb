/* safetensors reader/writer: validates untrusted headers with jansson, loads the data
 * section with one read into an aligned buffer, and writes files atomically
 * (temporary file + fsync + rename). See safetensors.h for the contracts. */
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/mem.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} dtype_info[AR_DTYPE_COUNT] = {
    [AR_DTYPE_F32] = {"F32", 4}, [AR_DTYPE_F64] = {"F64", 8}, [AR_DTYPE_U8] = {"U8", 1},
    [AR_DTYPE_I8] = {"I8", 1},   [AR_DTYPE_I32] = {"I32", 4}, [AR_DTYPE_I64] = {"I64", 8},
    [AR_DTYPE_U64] = {"U64", 8}, [AR_DTYPE_BOOL] = {"BOOL", 1},
};

/* dtypes that exist in the safetensors format but that autorep does not handle */
static const char *const unsupported_dtypes[] = {"F16", "BF16", "I16", "U16", "U32", "F8_E4M3", "F8_E5M2",
                                                 "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"};

#define SUPPORTED_LIST "F32, F64, U8, I8, I32, I64, U64, BOOL"

size_t ar_dtype_size(enum ar_dtype dt) {
    AR_ASSERT((unsigned)dt < AR_DTYPE_COUNT);
    return dtype_info[dt].size;
}

const char *ar_dtype_name(enum ar_dtype dt) {
    if ((unsigned)dt >= AR_DTYPE_COUNT) return "?";
    return dtype_info[dt].name;
}

int ar_dtype_parse(const char *name, enum ar_dtype *dt) {
    for (int i = 0; i < AR_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *dt = (enum ar_dtype)i;
            return AR_OK;
        }
    }
    return AR_ERR_FORMAT;
}

static int dtype_known_unsupported(const char *name) {
    for (size_t i = 0; i < sizeof unsupported_dtypes / sizeof unsupported_dtypes[0]; i++)
        if (strcmp(name, unsupported_dtypes[i]) == 0) return 1;
    return 0;
}

/* ---- message helpers ---- */

#define SHOW_LEN 100

/* Copy s into buf for use in a one-line message: control characters become '?',
 * long strings are shortened with "...". */
static const char *show(const char *s, char *buf) {
    size_t n = 0;
    for (; s[n] && n < SHOW_LEN - 4; n++) {
        unsigned char ch = (unsigned char)s[n];
        buf[n] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (s[n]) {
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        memcpy(buf + n, "...", 4);
    } else {
        buf[n] = 0;
    }
    return buf;
}

/* "[64,3,3,3]" */
static const char *fmt_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t used = 0;
    buf[used++] = '[';
    for (int i = 0; i < ndim && used + 24 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? ",%lld" : "%lld", (long long)shape[i]);
    buf[used++] = ']';
    buf[used] = 0;
    return buf;
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

/* ---- reader ---- */

void ar_st_free(struct ar_st *st) {
    if (!st) return;
    if (st->tensors)
        for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->meta_keys)
        for (int i = 0; i < st->n_meta; i++) free(st->meta_keys[i]);
    if (st->meta_vals)
        for (int i = 0; i < st->n_meta; i++) free(st->meta_vals[i]);
    free(st->meta_keys);
    free(st->meta_vals);
    ar_free_big(st->buf_);
    ar_free_big(st->realigned_);
    memset(st, 0, sizeof *st);
}

static void set_label(struct ar_st *st, const char *label) {
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", label ? label : "<memory>");
}

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

/* Validate the header length n against the total size. */
static int check_header_len(const char *label, uint64_t size, uint64_t n, char *err) {
    if (size < 8)
        return ar_errf(err, AR_ERR_IO, "%s: truncated: file is %llu bytes, shorter than the 8-byte header length",
                       label, (unsigned long long)size);
    if (n == 0) return ar_errf(err, AR_ERR_FORMAT, "%s: header length is 0", label);
    if (n > AR_ST_MAX_HEADER)
        return ar_errf(err, AR_ERR_FORMAT, "%s: header length %llu exceeds the %llu MiB limit", label,
                       (unsigned long long)n, (unsigned long long)(AR_ST_MAX_HEADER >> 20));
    if (n > size - 8)
        return ar_errf(err, AR_ERR_IO, "%s: truncated: header length %llu but only %llu bytes follow it", label,
                       (unsigned long long)n, (unsigned long long)(size - 8));
    return AR_OK;
}

/* Read a JSON integer that must be >= 0. */
static int get_nonneg(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return 0;
    json_int_t x = json_integer_value(v);
    if (x < 0) return 0;
    *out = (uint64_t)x;
    return 1;
}

static int parse_entry(struct ar_st *st, struct ar_st_tensor *t, const char *name, const json_t *val,
                       uint64_t dlen, char *err) {
    char nb[SHOW_LEN], sb[AR_ST_MAX_DIM * 24 + 8];
    const char *L = st->path;
    if (!json_is_object(val))
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': entry is a JSON %s, not an object", L, show(name, nb),
                       json_type_name(val));

    const json_t *jd = json_object_get(val, "dtype");
    if (!jd) return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': missing \"dtype\"", L, show(name, nb));
    if (!json_is_string(jd))
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is a JSON %s, not a string", L,
                       show(name, nb), json_type_name(jd));
    const char *dname = json_string_value(jd);
    if (ar_dtype_parse(dname, &t->dtype) != AR_OK) {
        char db[SHOW_LEN];
        if (dtype_known_unsupported(dname))
            return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': dtype %s is not supported (supported: %s)", L,
                           show(name, nb), dname, SUPPORTED_LIST);
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s' (supported: %s)", L,
                       show(name, nb), show(dname, db), SUPPORTED_LIST);
    }

    const json_t *js = json_object_get(val, "shape");
    if (!js) return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': missing \"shape\"", L, show(name, nb));
    if (!json_is_array(js))
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': \"shape\" is a JSON %s, not an array", L,
                       show(name, nb), json_type_name(js));
    size_t nd = json_array_size(js);
    if (nd > AR_ST_MAX_DIM)
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': shape has %zu dimensions, at most %d are supported", L,
                       show(name, nb), nd, AR_ST_MAX_DIM);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    int overflow = 0;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!get_nonneg(json_array_get(js, i), &d))
            return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", L,
                           show(name, nb), i);
        t->shape[i] = (int64_t)d;
        if (__builtin_mul_overflow(numel, d, &numel)) overflow = 1;
    }
    uint64_t nbytes = 0;
    if (overflow || __builtin_mul_overflow(numel, (uint64_t)dtype_info[t->dtype].size, &nbytes) ||
        nbytes > SIZE_MAX)
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': shape %s of %s overflows the byte size", L,
                       show(name, nb), fmt_shape(sb, sizeof sb, t->ndim, t->shape), dname);
    t->numel = (size_t)numel;
    t->nbytes = (size_t)nbytes;

    const json_t *jo = json_object_get(val, "data_offsets");
    if (!jo) return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': missing \"data_offsets\"", L, show(name, nb));
    uint64_t b, e;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !get_nonneg(json_array_get(jo, 0), &b) ||
        !get_nonneg(json_array_get(jo, 1), &e))
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': data_offsets is not two non-negative integers", L,
                       show(name, nb));
    if (b > e)
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] have begin > end", L,
                       show(name, nb), (unsigned long long)b, (unsigned long long)e);
    if (e > dlen)
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu-byte data section",
                       L, show(name, nb), (unsigned long long)b, (unsigned long long)e, (unsigned long long)dlen);
    if (e - b != nbytes)
        return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] do not match %s %s (%llu bytes)",
                       L, show(name, nb), (unsigned long long)b, (unsigned long long)e, dname,
                       fmt_shape(sb, sizeof sb, t->ndim, t->shape), (unsigned long long)nbytes);
    t->offset = (size_t)b;
    return AR_OK;
}

static int cmp_tensor(const void *pa, const void *pb) {
    const struct ar_st_tensor *a = pa, *b = pb;
    if (a->offset != b->offset) return a->offset < b->offset ? -1 : 1;
    if (a->nbytes != b->nbytes) return a->nbytes < b->nbytes ? -1 : 1;
    /* file order: kept in `data` (a small integer) until the data is attached */
    uintptr_t ia = (uintptr_t)a->data, ib = (uintptr_t)b->data;
    return ia < ib ? -1 : ia > ib;
}

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Parse and validate the JSON header; fills tensors (without data) and metadata. */
static int parse_header(struct ar_st *st, const char *hdr, size_t hlen, uint64_t dlen, char *err) {
    const char *L = st->path;
    char nb[SHOW_LEN], nb2[SHOW_LEN];
    json_error_t je;
    json_t *root = json_loadb(hdr, hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return ar_errf(err, AR_ERR_FORMAT, "%s: duplicate tensor name in header (%s)", L, show(je.text, nb));
        return ar_errf(err, AR_ERR_FORMAT, "%s: header is not valid JSON: %s (line %d, column %d)", L,
                       show(je.text, nb), je.line, je.column);
    }
    int rc = AR_OK;
    if (!json_is_object(root)) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: header is a JSON %s, not an object", L, json_type_name(root));
        goto done;
    }
    size_t count = json_object_size(root);
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    if (!st->tensors) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for %zu tensor entries", L, count);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                rc = ar_errf(err, AR_ERR_FORMAT, "%s: __metadata__ is a JSON %s, not an object", L,
                             json_type_name(val));
                goto done;
            }
            size_t nm = json_object_size(val);
            st->meta_keys = calloc(nm ? nm : 1, sizeof(char *));
            st->meta_vals = calloc(nm ? nm : 1, sizeof(char *));
            if (!st->meta_keys || !st->meta_vals) {
                rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for metadata", L);
                goto done;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    rc = ar_errf(err, AR_ERR_FORMAT, "%s: __metadata__ value for '%s' is a JSON %s, not a string", L,
                                 show(mk, nb), json_type_name(mv));
                    goto done;
                }
                char *k = dupstr(mk), *v = dupstr(json_string_value(mv));
                if (!k || !v) {
                    free(k);
                    free(v);
                    rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for metadata", L);
                    goto done;
                }
                st->meta_keys[st->n_meta] = k;
                st->meta_vals[st->n_meta] = v;
                st->n_meta++;
            }
            continue;
        }
        struct ar_st_tensor *t = &st->tensors[st->n_tensors];
        if ((rc = parse_entry(st, t, key, val, dlen, err)) != AR_OK) goto done;
        t->name = dupstr(key);
        if (!t->name) {
            rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", L);
            goto done;
        }
        t->data = (const void *)(uintptr_t)st->n_tensors; /* file order, for a stable sort */
        st->n_tensors++;
    }
    qsort(st->tensors, (size_t)st->n_tensors, sizeof *st->tensors, cmp_tensor);
    const struct ar_st_tensor *prev = NULL;
    for (int i = 0; i < st->n_tensors; i++) {
        const struct ar_st_tensor *t = &st->tensors[i];
        if (t->nbytes == 0) continue;
        if (prev && t->offset < prev->offset + prev->nbytes) {
            rc = ar_errf(err, AR_ERR_FORMAT, "%s: tensors '%s' [%zu, %zu] and '%s' [%zu, %zu] overlap", L,
                         show(prev->name, nb), prev->offset, prev->offset + prev->nbytes, show(t->name, nb2),
                         t->offset, t->offset + t->nbytes);
            goto done;
        }
        prev = t;
    }
done:
    json_decref(root);
    return rc;
}

/* Point the tensors into buf (the data section, 64-byte aligned, owned by st from
 * now on); tensors whose offset is not a multiple of their element size are copied
 * into one extra aligned buffer. */
static int attach_data(struct ar_st *st, void *buf, char *err) {
    st->buf_ = buf;
    size_t extra = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const struct ar_st_tensor *t = &st->tensors[i];
        if (t->nbytes && t->offset % dtype_info[t->dtype].size) {
            size_t r = (t->nbytes + 63) & ~(size_t)63; /* nbytes <= data size: no overflow */
            if (__builtin_add_overflow(extra, r, &extra))
                return ar_errf(err, AR_ERR_NOMEM, "%s: realignment buffer too large", st->path);
        }
    }
    unsigned char *re = NULL;
    if (extra) {
        re = ar_alloc_big(extra);
        if (!re) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory realigning tensors (%zu bytes)", st->path, extra);
        st->realigned_ = re;
    }
    size_t at = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        struct ar_st_tensor *t = &st->tensors[i];
        const unsigned char *src = (const unsigned char *)buf + t->offset;
        if (t->nbytes == 0) {
            t->data = buf;
        } else if (t->offset % dtype_info[t->dtype].size) {
            memcpy(re + at, src, t->nbytes);
            t->data = re + at;
            at += (t->nbytes + 63) & ~(size_t)63;
        } else {
            t->data = src;
        }
    }
    return AR_OK;
}

int ar_st_read_mem(struct ar_st *st, const void *buf, size_t len, const char *label, char *err) {
    AR_ASSERT(st != NULL);
    AR_ASSERT(buf != NULL || len == 0);
    set_label(st, label);
    const unsigned char *p = buf;
    int rc = check_header_len(st->path, len, len >= 8 ? le64(p) : 0, err);
    if (rc != AR_OK) return rc;
    size_t hlen = (size_t)le64(p);
    size_t dlen = len - 8 - hlen;
    if ((rc = parse_header(st, (const char *)p + 8, hlen, dlen, err)) != AR_OK) goto fail;
    void *data = ar_alloc_big(dlen);
    if (!data) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for the %zu-byte data section", st->path, dlen);
        goto fail;
    }
    if (dlen) memcpy(data, p + 8 + hlen, dlen);
    if ((rc = attach_data(st, data, err)) != AR_OK) goto fail;
    return AR_OK;
fail:
    ar_st_free(st);
    return rc;
}

/* pread until n bytes or end of file; returns bytes read or -1 (errno set). */
static long long read_full(int fd, void *buf, size_t n, off_t off) {
    size_t got = 0;
    while (got < n) {
        size_t chunk = n - got < ((size_t)1 << 30) ? n - got : ((size_t)1 << 30);
        ssize_t r = pread(fd, (char *)buf + got, chunk, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

int ar_st_read(struct ar_st *st, const char *path, char *err) {
    AR_ASSERT(st != NULL && path != NULL);
    set_label(st, path);
    const char *L = st->path;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below as
     * not a regular file); it changes nothing for regular files */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return ar_errf(err, AR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = AR_OK;
    char *hdr = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = ar_errf(err, AR_ERR_IO, "%s: cannot stat: %s", L, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        rc = ar_errf(err, AR_ERR_IO, "%s: is a directory, not a safetensors file", L);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = ar_errf(err, AR_ERR_IO, "%s: not a regular file", L);
        goto fail;
    }
    uint64_t size = (uint64_t)sb.st_size;
    unsigned char lenb[8];
    if (size >= 8 && read_full(fd, lenb, 8, 0) != 8) {
        rc = ar_errf(err, AR_ERR_IO, "%s: cannot read the header length: %s", L, strerror(errno));
        goto fail;
    }
    uint64_t n = size >= 8 ? le64(lenb) : 0;
    if ((rc = check_header_len(L, size, n, err)) != AR_OK) goto fail;
    hdr = malloc((size_t)n);
    if (!hdr) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for a %llu-byte header", L, (unsigned long long)n);
        goto fail;
    }
    long long got = read_full(fd, hdr, (size_t)n, 8);
    if (got != (long long)n) {
        rc = got < 0 ? ar_errf(err, AR_ERR_IO, "%s: read error in header: %s", L, strerror(errno))
                     : ar_errf(err, AR_ERR_IO, "%s: truncated: expected %llu header bytes, got %lld", L,
                               (unsigned long long)n, got);
        goto fail;
    }
    size_t dlen = (size_t)(size - 8 - n);
    if ((rc = parse_header(st, hdr, (size_t)n, dlen, err)) != AR_OK) goto fail;
    free(hdr);
    hdr = NULL;
    void *data = ar_alloc_big(dlen);
    if (!data) {
        rc = ar_errf(err, AR_ERR_NOMEM, "%s: out of memory for the %zu-byte data section", L, dlen);
        goto fail;
    }
    got = read_full(fd, data, dlen, (off_t)(8 + n));
    if (got != (long long)dlen) {
        rc = got < 0 ? ar_errf(err, AR_ERR_IO, "%s: read error in data section: %s", L, strerror(errno))
                     : ar_errf(err, AR_ERR_IO, "%s: truncated: expected %zu bytes of tensor data, got %lld", L, dlen,
                               got);
        ar_free_big(data);
        goto fail;
    }
    if ((rc = attach_data(st, data, err)) != AR_OK) goto fail;
    close(fd);
    return AR_OK;
fail:
    free(hdr);
    close(fd);
    ar_st_free(st);
    return rc;
}

const struct ar_st_tensor *ar_st_find(const struct ar_st *st, const char *name) {
    AR_ASSERT(st != NULL && name != NULL);
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

const char *ar_st_meta(const struct ar_st *st, const char *key) {
    AR_ASSERT(st != NULL && key != NULL);
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_vals[i];
    return NULL;
}

int ar_st_get(const struct ar_st *st, const char *name, enum ar_dtype dt, int ndim, const int64_t *shape,
              const void **data, char *err) {
    AR_ASSERT(data != NULL);
    AR_ASSERT(shape == NULL || (ndim >= 0 && ndim <= AR_ST_MAX_DIM));
    char nb[SHOW_LEN];
    *data = NULL;
    const struct ar_st_tensor *t = ar_st_find(st, name);
    if (!t) return ar_errf(err, AR_ERR_FORMAT, "%s: tensor '%s' not found", st->path, show(name, nb));
    if (t->dtype != dt)
        return ar_errf(err, AR_ERR_MISMATCH, "%s: tensor '%s': dtype %s, expected %s", st->path, show(name, nb),
                       ar_dtype_name(t->dtype), ar_dtype_name(dt));
    if (shape) {
        int same = t->ndim == ndim;
        for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
        if (!same) {
            char s1[AR_ST_MAX_DIM * 24 + 8], s2[AR_ST_MAX_DIM * 24 + 8];
            return ar_errf(err, AR_ERR_MISMATCH, "%s: tensor '%s': shape %s, expected %s", st->path, show(name, nb),
                           fmt_shape(s1, sizeof s1, t->ndim, t->shape), fmt_shape(s2, sizeof s2, ndim, shape));
        }
    }
    *data = t->data;
    return AR_OK;
}

/* ---- writer ---- */

void ar_st_writer_init(struct ar_st_writer *w) {
    AR_ASSERT(w != NULL);
    memset(w, 0, sizeof *w);
}

void ar_st_writer_free(struct ar_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->entries[i].name);
    free(w->entries);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_vals[i]);
    }
    free(w->meta_keys);
    free(w->meta_vals);
    memset(w, 0, sizeof *w);
}

static int valid_utf8(const char *s) {
    json_t *j = json_string(s);
    if (!j) return 0;
    json_decref(j);
    return 1;
}

int ar_st_writer_add(struct ar_st_writer *w, const char *name, enum ar_dtype dt, int ndim, const int64_t *shape,
                     const void *data, char *err) {
    AR_ASSERT(w != NULL && name != NULL);
    AR_ASSERT((unsigned)dt < AR_DTYPE_COUNT);
    AR_ASSERT(shape != NULL || ndim == 0);
    char nb[SHOW_LEN];
    if (!name[0]) return ar_errf(err, AR_ERR_ARG, "safetensors writer: empty tensor name");
    if (strcmp(name, "__metadata__") == 0)
        return ar_errf(err, AR_ERR_ARG, "safetensors writer: '__metadata__' is reserved, not a tensor name");
    if (!valid_utf8(name))
        return ar_errf(err, AR_ERR_ARG, "safetensors writer: tensor name '%s' is not valid UTF-8", show(name, nb));
    if (ndim < 0 || ndim > AR_ST_MAX_DIM)
        return ar_errf(err, AR_ERR_ARG, "safetensors writer: tensor '%s': %d dimensions (0..%d allowed)",
                       show(name, nb), ndim, AR_ST_MAX_DIM);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0)
            return ar_errf(err, AR_ERR_ARG, "safetensors writer: duplicate tensor name '%s'", show(name, nb));
    uint64_t numel = 1, nbytes;
    int overflow = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return ar_errf(err, AR_ERR_ARG, "safetensors writer: tensor '%s': negative dimension %lld",
                           show(name, nb), (long long)shape[i]);
        if (__builtin_mul_overflow(numel, (uint64_t)shape[i], &numel)) overflow = 1;
    }
    if (overflow || __builtin_mul_overflow(numel, (uint64_t)dtype_info[dt].size, &nbytes) ||
        nbytes > (uint64_t)INT64_MAX)
        return ar_errf(err, AR_ERR_ARG, "safetensors writer: tensor '%s': byte size overflows", show(name, nb));
    AR_ASSERT(data != NULL || nbytes == 0);
    if (w->n == w->cap) {
        int nc = w->cap ? w->cap * 2 : 16;
        struct ar_st_wentry *ne = realloc(w->entries, (size_t)nc * sizeof *ne);
        if (!ne) return ar_errf(err, AR_ERR_NOMEM, "safetensors writer: out of memory");
        w->entries = ne;
        w->cap = nc;
    }
    struct ar_st_wentry *e = &w->entries[w->n];
    memset(e, 0, sizeof *e);
    e->name = dupstr(name);
    if (!e->name) return ar_errf(err, AR_ERR_NOMEM, "safetensors writer: out of memory");
    e->dtype = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = (size_t)nbytes;
    e->data = data;
    w->n++;
    return AR_OK;
}

int ar_st_writer_meta(struct ar_st_writer *w, const char *key, const char *value, char *err) {
    AR_ASSERT(w != NULL && key != NULL && value != NULL);
    char nb[SHOW_LEN];
    if (!valid_utf8(key) || !valid_utf8(value))
        return ar_errf(err, AR_ERR_ARG, "safetensors writer: metadata '%s' is not valid UTF-8", show(key, nb));
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], key) == 0)
            return ar_errf(err, AR_ERR_ARG, "safetensors writer: duplicate metadata key '%s'", show(key, nb));
    if (w->n_meta == w->cap_meta) {
        int nc = w->cap_meta ? w->cap_meta * 2 : 8;
        char **nk = realloc(w->meta_keys, (size_t)nc * sizeof *nk);
        if (!nk) return ar_errf(err, AR_ERR_NOMEM, "safetensors writer: out of memory");
        w->meta_keys = nk;
        char **nv = realloc(w->meta_vals, (size_t)nc * sizeof *nv);
        if (!nv) return ar_errf(err, AR_ERR_NOMEM, "safetensors writer: out of memory");
        w->meta_vals = nv;
        w->cap_meta = nc;
    }
    char *k = dupstr(key), *v = dupstr(value);
    if (!k || !v) {
        free(k);
        free(v);
        return ar_errf(err, AR_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->meta_keys[w->n_meta] = k;
    w->meta_vals[w->n_meta] = v;
    w->n_meta++;
    return AR_OK;
}

/* Build the header JSON text (unpadded). Returns a malloc'd string or NULL. */
static char *build_header(const struct ar_st_writer *w) {
    json_t *root = json_object();
    if (!root) return NULL;
    char *text = NULL;
    if (w->n_meta) {
        json_t *meta = json_object();
        if (!meta || json_object_set_new(root, "__metadata__", meta) != 0) goto done;
        for (int i = 0; i < w->n_meta; i++)
            if (json_object_set_new(meta, w->meta_keys[i], json_string(w->meta_vals[i])) != 0) goto done;
    }
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const struct ar_st_wentry *e = &w->entries[i];
        json_t *shape = json_array();
        json_t *offs = json_array();
        json_t *ent = json_object();
        if (!shape || !offs || !ent) {
            json_decref(shape);
            json_decref(offs);
            json_decref(ent);
            goto done;
        }
        for (int d = 0; d < e->ndim; d++) json_array_append_new(shape, json_integer((json_int_t)e->shape[d]));
        uint64_t end;
        if (__builtin_add_overflow(off, (uint64_t)e->nbytes, &end) || end > (uint64_t)INT64_MAX) {
            json_decref(shape);
            json_decref(offs);
            json_decref(ent);
            goto done;
        }
        json_array_append_new(offs, json_integer((json_int_t)off));
        json_array_append_new(offs, json_integer((json_int_t)end));
        json_object_set_new(ent, "dtype", json_string(ar_dtype_name(e->dtype)));
        json_object_set_new(ent, "shape", shape);
        json_object_set_new(ent, "data_offsets", offs);
        if (json_object_set_new(root, e->name, ent) != 0) goto done;
        off = end;
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
    json_decref(root);
    return text;
}

static void fsync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[AR_ST_PATH_LEN];
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1; /* "/file" */
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd); /* best effort: the data itself was already fsync'ed */
    close(fd);
}

int ar_st_writer_write(const struct ar_st_writer *w, const char *path, char *err) {
    AR_ASSERT(w != NULL && path != NULL);
    int rc = AR_OK;
    char *hdr = build_header(w);
    if (!hdr) return ar_errf(err, AR_ERR_NOMEM, "%s: cannot build the safetensors header (out of memory?)", path);
    size_t hl = strlen(hdr);
    size_t pad = (8 - hl % 8) % 8;
    uint64_t n = (uint64_t)(hl + pad);
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)(n >> (8 * i));
    static const char spaces[8] = "        ";

    size_t tl = strlen(path) + 32;
    char *tmp = malloc(tl);
    if (!tmp) {
        free(hdr);
        return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wbx");
    if (!f && errno == EEXIST) { /* left over by a dead process with our pid */
        unlink(tmp); /* never removes a directory */
        f = fopen(tmp, "wbx");
    }
    if (!f) {
        rc = ar_errf(err, AR_ERR_IO, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        free(tmp);
        free(hdr);
        return rc;
    }
    int ok = fwrite(lenb, 1, 8, f) == 8 && fwrite(hdr, 1, hl, f) == hl && fwrite(spaces, 1, pad, f) == pad;
    for (int i = 0; ok && i < w->n; i++)
        if (w->entries[i].nbytes) ok = fwrite(w->entries[i].data, 1, w->entries[i].nbytes, f) == w->entries[i].nbytes;
    if (!ok || fflush(f) != 0) {
        rc = ar_errf(err, AR_ERR_IO, "%s: write to %s failed: %s", path, tmp, strerror(errno));
        fclose(f);
        goto fail;
    }
    if (fsync(fileno(f)) != 0) {
        rc = ar_errf(err, AR_ERR_IO, "%s: fsync of %s failed: %s", path, tmp, strerror(errno));
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0) {
        rc = ar_errf(err, AR_ERR_IO, "%s: closing %s failed: %s", path, tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        rc = ar_errf(err, AR_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
        goto fail;
    }
    fsync_parent_dir(path);
    free(tmp);
    free(hdr);
    return AR_OK;
fail:
    unlink(tmp);
    free(tmp);
    free(hdr);
    return rc;
}
