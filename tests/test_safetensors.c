/* Tests of the safetensors reader/writer: round trips, misaligned offsets, files laid
 * out the way Python's safetensors writes them, every malformed-input check, random
 * corruption, and atomic writes that fail cleanly. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/rng.h"
#include "io/safetensors.h"

/* Assemble a file: 8-byte LE length, header (padded with spaces to `pad_to`, 1 = no
 * padding), data. Returns a malloc'd buffer and its length in *len. */
static unsigned char *mk_file(const char *json, size_t pad_to, const void *data, size_t dlen, size_t *len) {
    size_t hl = strlen(json);
    size_t n = (hl + pad_to - 1) / pad_to * pad_to;
    unsigned char *b = malloc(8 + n + dlen + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, hl);
    memset(b + 8 + hl, ' ', n - hl);
    if (dlen) memcpy(b + 8 + n, data, dlen);
    *len = 8 + n + dlen;
    return b;
}



/* Number of entries in dir whose name contains sub. */
static int count_entries(const char *dir, const char *sub) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int c = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, sub)) c++;
    closedir(d);
    return c;
}

AR_TEST(safetensors_dtype_names_and_sizes) {
    static const char *names[] = {"F32", "F64", "U8", "I8", "I32", "I64", "U64", "BOOL"};
    static const size_t sizes[] = {4, 8, 1, 1, 4, 8, 8, 1};
    for (int i = 0; i < AR_DTYPE_COUNT; i++) {
        CHECK(strcmp(ar_dtype_name((enum ar_dtype)i), names[i]) == 0);
        CHECK_EQ_INT(ar_dtype_size((enum ar_dtype)i), sizes[i]);
        enum ar_dtype dt;
        CHECK(ar_dtype_parse(names[i], &dt) == AR_OK && dt == (enum ar_dtype)i);
    }
    enum ar_dtype dt;
    CHECK(ar_dtype_parse("BF16", &dt) == AR_ERR_FORMAT);
    CHECK(ar_dtype_parse("f32", &dt) == AR_ERR_FORMAT);
}

AR_TEST(safetensors_round_trip) {
    char err[AR_ERR_LEN] = "";
    char path[600], dir[512];
    snprintf(dir, sizeof dir, "%s", ar_test_tmpdir());
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    float f32[6] = {1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 65504.0f};
    double f64[4] = {3.141592653589793, -1e300, 0.1, 2.0};
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    int8_t i8[3] = {-128, 0, 127};
    int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
    int64_t i64[1] = {INT64_MIN + 7};
    uint64_t u64[2] = {0, UINT64_MAX};
    uint8_t bl[3] = {1, 0, 1};
    float scalar = 42.0f;
    int64_t s23[] = {2, 3}, s4[] = {4}, s5[] = {5}, s3[] = {3}, s22[] = {2, 2}, s1[] = {1}, s2[] = {2},
            s04[] = {0, 4}, s8[] = {1, 1, 1, 1, 1, 1, 1, 1};

    struct ar_st_writer w;
    ar_st_writer_init(&w);
    REQUIRE_OK(ar_st_writer_add(&w, "layer.f32", AR_DTYPE_F32, 2, s23, f32, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "u8", AR_DTYPE_U8, 1, s5, u8, err), err); /* misaligns what follows */
    REQUIRE_OK(ar_st_writer_add(&w, "f64", AR_DTYPE_F64, 1, s4, f64, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "i8", AR_DTYPE_I8, 1, s3, i8, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "i32", AR_DTYPE_I32, 2, s22, i32, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "empty", AR_DTYPE_F32, 2, s04, NULL, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "i64", AR_DTYPE_I64, 1, s1, i64, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "u64", AR_DTYPE_U64, 1, s2, u64, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "bool", AR_DTYPE_BOOL, 1, s3, bl, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "scalar", AR_DTYPE_F32, 0, NULL, &scalar, err), err);
    REQUIRE_OK(ar_st_writer_add(&w, "deep", AR_DTYPE_F32, 8, s8, &scalar, err), err);
    REQUIRE_OK(ar_st_writer_meta(&w, "format", "pt", err), err);
    REQUIRE_OK(ar_st_writer_meta(&w, "autorep.arch", "resnet18 \"quoted\" \xc3\xa9", err), err);
    /* writer argument errors */
    CHECK(ar_st_writer_add(&w, "u8", AR_DTYPE_U8, 1, s5, u8, err) == AR_ERR_ARG && strstr(err, "duplicate"));
    CHECK(ar_st_writer_add(&w, "__metadata__", AR_DTYPE_U8, 1, s5, u8, err) == AR_ERR_ARG);
    CHECK(ar_st_writer_add(&w, "", AR_DTYPE_U8, 1, s5, u8, err) == AR_ERR_ARG);
    CHECK(ar_st_writer_add(&w, "bad\xff", AR_DTYPE_U8, 1, s5, u8, err) == AR_ERR_ARG);
    CHECK(ar_st_writer_add(&w, "nine", AR_DTYPE_U8, 9, s8, u8, err) == AR_ERR_ARG);
    int64_t neg[] = {-1};
    CHECK(ar_st_writer_add(&w, "neg", AR_DTYPE_U8, 1, neg, u8, err) == AR_ERR_ARG);
    CHECK(ar_st_writer_meta(&w, "format", "again", err) == AR_ERR_ARG && strstr(err, "duplicate"));
    REQUIRE_OK(ar_st_writer_write(&w, path, err), err);
    ar_st_writer_free(&w);

    /* raw layout: header length multiple of 8, metadata first, contiguous offsets */
    size_t flen = 0;
    unsigned char *raw = ar_test_read_file(path, &flen);
    REQUIRE(raw != NULL && flen > 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | raw[i];
    CHECK_EQ_INT((8 + n) % 8, 0);
    CHECK(memcmp(raw + 8, "{\"__metadata__\":", 16) == 0);
    CHECK_EQ_INT(flen, 8 + n + 24 + 5 + 32 + 3 + 16 + 8 + 16 + 3 + 4 + 4);
    CHECK(raw[8 + n - 1] == ' ' || raw[8 + n - 1] == '}');
    CHECK_EQ_INT(count_entries(dir, ".tmp."), 0);
    CHECK_EQ_INT(count_entries(dir, "model.safetensors"), 1);

    for (int pass = 0; pass < 2; pass++) {
        struct ar_st st;
        if (pass == 0)
            REQUIRE_OK(ar_st_read(&st, path, err), err);
        else
            REQUIRE_OK(ar_st_read_mem(&st, raw, flen, "mem.safetensors", err), err);
        CHECK_EQ_INT(st.n_tensors, 11);
        static const char *order[] = {"layer.f32", "u8", "f64", "i8", "i32", "empty", "i64", "u64", "bool", "scalar", "deep"};
        for (int i = 0; i < st.n_tensors && i < 11; i++) {
            CHECK_MSG(strcmp(st.tensors[i].name, order[i]) == 0, "tensor %d is %s", i, st.tensors[i].name);
            const struct ar_st_tensor *t = &st.tensors[i];
            CHECK(t->data != NULL);
            CHECK_MSG(((uintptr_t)t->data % ar_dtype_size(t->dtype)) == 0, "%s misaligned", t->name);
        }
        CHECK(strcmp(ar_st_meta(&st, "format"), "pt") == 0);
        CHECK(strcmp(ar_st_meta(&st, "autorep.arch"), "resnet18 \"quoted\" \xc3\xa9") == 0);
        CHECK(ar_st_meta(&st, "nope") == NULL);
        CHECK(ar_st_find(&st, "nope") == NULL);

        const void *d;
        REQUIRE_OK(ar_st_get(&st, "layer.f32", AR_DTYPE_F32, 2, s23, &d, err), err);
        CHECK(memcmp(d, f32, sizeof f32) == 0);
        REQUIRE_OK(ar_st_get(&st, "f64", AR_DTYPE_F64, 1, s4, &d, err), err);
        CHECK(memcmp(d, f64, sizeof f64) == 0);
        REQUIRE_OK(ar_st_get(&st, "u8", AR_DTYPE_U8, 1, s5, &d, err), err);
        CHECK(memcmp(d, u8, sizeof u8) == 0);
        REQUIRE_OK(ar_st_get(&st, "i8", AR_DTYPE_I8, 1, s3, &d, err), err);
        CHECK(memcmp(d, i8, sizeof i8) == 0);
        REQUIRE_OK(ar_st_get(&st, "i32", AR_DTYPE_I32, 2, s22, &d, err), err);
        CHECK(memcmp(d, i32, sizeof i32) == 0);
        REQUIRE_OK(ar_st_get(&st, "i64", AR_DTYPE_I64, 1, s1, &d, err), err);
        CHECK(memcmp(d, i64, sizeof i64) == 0);
        REQUIRE_OK(ar_st_get(&st, "u64", AR_DTYPE_U64, 1, s2, &d, err), err);
        CHECK(memcmp(d, u64, sizeof u64) == 0);
        REQUIRE_OK(ar_st_get(&st, "bool", AR_DTYPE_BOOL, 1, s3, &d, err), err);
        CHECK(memcmp(d, bl, sizeof bl) == 0);
        REQUIRE_OK(ar_st_get(&st, "scalar", AR_DTYPE_F32, 0, NULL, &d, err), err);
        CHECK(*(const float *)d == 42.0f);
        REQUIRE_OK(ar_st_get(&st, "empty", AR_DTYPE_F32, 2, s04, &d, err), err);
        const struct ar_st_tensor *e = ar_st_find(&st, "empty");
        CHECK(e && e->numel == 0 && e->nbytes == 0 && e->ndim == 2 && e->shape[1] == 4);
        const struct ar_st_tensor *sc = ar_st_find(&st, "scalar");
        CHECK(sc && sc->ndim == 0 && sc->numel == 1 && sc->nbytes == 4);
        const struct ar_st_tensor *dp = ar_st_find(&st, "deep");
        CHECK(dp && dp->ndim == 8 && dp->numel == 1);

        /* typed lookup errors */
        const char *lbl = pass == 0 ? path : "mem.safetensors";
        CHECK(ar_st_get(&st, "f64", AR_DTYPE_F32, 1, s4, &d, err) == AR_ERR_MISMATCH);
        CHECK(strstr(err, lbl) && strstr(err, "'f64'") && strstr(err, "F64") && strstr(err, "expected F32"));
        CHECK(d == NULL);
        CHECK(ar_st_get(&st, "layer.f32", AR_DTYPE_F32, 2, s22, &d, err) == AR_ERR_MISMATCH);
        CHECK(strstr(err, lbl) && strstr(err, "[2,3]") && strstr(err, "expected [2,2]"));
        CHECK(ar_st_get(&st, "layer.f32", AR_DTYPE_F32, 1, s23, &d, err) == AR_ERR_MISMATCH);
        CHECK(ar_st_get(&st, "missing.weight", AR_DTYPE_F32, 0, NULL, &d, err) != AR_OK);
        CHECK(strstr(err, lbl) && strstr(err, "'missing.weight' not found"));
        ar_st_free(&st);
        ar_st_free(&st); /* idempotent */
    }
    free(raw);
}

AR_TEST(safetensors_empty_writer_and_overwrite) {
    char err[AR_ERR_LEN] = "";
    char path[600];
    snprintf(path, sizeof path, "%s/e.safetensors", ar_test_tmpdir());
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    REQUIRE_OK(ar_st_writer_write(&w, path, err), err);
    struct ar_st st;
    REQUIRE_OK(ar_st_read(&st, path, err), err);
    CHECK_EQ_INT(st.n_tensors, 0);
    CHECK_EQ_INT(st.n_meta, 0);
    ar_st_free(&st);
    /* overwrite with content */
    uint8_t v[2] = {7, 9};
    int64_t s[] = {2};
    REQUIRE_OK(ar_st_writer_add(&w, "v", AR_DTYPE_U8, 1, s, v, err), err);
    REQUIRE_OK(ar_st_writer_write(&w, path, err), err);
    ar_st_writer_free(&w);
    REQUIRE_OK(ar_st_read(&st, path, err), err);
    CHECK_EQ_INT(st.n_tensors, 1);
    CHECK(((const uint8_t *)st.tensors[0].data)[1] == 9);
    ar_st_free(&st);
}

/* Offsets that are not multiples of the element size: the reader must still hand
 * out aligned pointers with the right values. */
AR_TEST(safetensors_unaligned_offsets) {
    char err[AR_ERR_LEN] = "";
    unsigned char data[3 + 8 + 8 + 4];
    data[0] = 1, data[1] = 2, data[2] = 3;
    float b[2] = {0.5f, -7.25f};
    double c = -123.456;
    int32_t dd = -99;
    memcpy(data + 3, b, 8);
    memcpy(data + 11, &c, 8);
    memcpy(data + 19, &dd, 4);
    const char *json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]},"
                       "\"c\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[11,19]},"
                       "\"d\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[19,23]}}";
    size_t len;
    unsigned char *file = mk_file(json, 1, data, sizeof data, &len); /* header not padded either */
    char path[600];
    snprintf(path, sizeof path, "%s/unaligned.safetensors", ar_test_tmpdir());
    REQUIRE(ar_test_write_file(path, file, len) == 0);
    for (int pass = 0; pass < 2; pass++) {
        struct ar_st st;
        if (pass == 0)
            REQUIRE_OK(ar_st_read(&st, path, err), err);
        else
            REQUIRE_OK(ar_st_read_mem(&st, file, len, "u", err), err);
        const void *p;
        REQUIRE_OK(ar_st_get(&st, "b", AR_DTYPE_F32, 0, NULL, &p, err), err);
        CHECK(((uintptr_t)p & 3) == 0);
        CHECK(((const float *)p)[0] == 0.5f && ((const float *)p)[1] == -7.25f);
        REQUIRE_OK(ar_st_get(&st, "c", AR_DTYPE_F64, 0, NULL, &p, err), err);
        CHECK(((uintptr_t)p & 7) == 0);
        CHECK(*(const double *)p == -123.456);
        REQUIRE_OK(ar_st_get(&st, "d", AR_DTYPE_I32, 0, NULL, &p, err), err);
        CHECK(((uintptr_t)p & 3) == 0);
        CHECK(*(const int32_t *)p == -99);
        REQUIRE_OK(ar_st_get(&st, "a", AR_DTYPE_U8, 0, NULL, &p, err), err);
        CHECK(((const uint8_t *)p)[2] == 3);
        CHECK_EQ_INT(st.tensors[1].offset, 3);
        ar_st_free(&st);
    }
    free(file);
}

/* A file laid out byte for byte as Python's safetensors (torch.save_file) writes a
 * small BatchNorm-like state dict: compact JSON, "__metadata__" {"format":"pt"} first,
 * tensors ordered by dtype (I64 before F32) then name, header padded with spaces to a
 * multiple of 8, data contiguous. */
AR_TEST(safetensors_reads_python_layout) {
    char err[AR_ERR_LEN] = "";
    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                       "\"bn.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                       "\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,1,2],\"data_offsets\":[16,32]}}";
    unsigned char data[32];
    int64_t nbt = 1234;
    float bias[2] = {0.25f, -0.5f};
    float wt[4] = {1, 2, 3, 4};
    memcpy(data, &nbt, 8);
    memcpy(data + 8, bias, 8);
    memcpy(data + 16, wt, 16);
    size_t len;
    unsigned char *file = mk_file(json, 8, data, sizeof data, &len);
    CHECK_EQ_INT(len % 8, 0);
    struct ar_st st;
    REQUIRE_OK(ar_st_read_mem(&st, file, len, "torch.safetensors", err), err);
    CHECK(strcmp(ar_st_meta(&st, "format"), "pt") == 0);
    CHECK_EQ_INT(st.n_tensors, 3);
    const void *p;
    const int64_t scalar_shape[1] = {0};
    REQUIRE_OK(ar_st_get(&st, "bn.num_batches_tracked", AR_DTYPE_I64, 0, scalar_shape, &p, err), err);
    CHECK(*(const int64_t *)p == 1234);
    int64_t ws[] = {2, 1, 1, 2};
    REQUIRE_OK(ar_st_get(&st, "conv.weight", AR_DTYPE_F32, 4, ws, &p, err), err);
    CHECK(memcmp(p, wt, 16) == 0);
    REQUIRE_OK(ar_st_get(&st, "bn.bias", AR_DTYPE_F32, 0, NULL, &p, err), err);
    CHECK(((const float *)p)[1] == -0.5f);
    ar_st_free(&st);
    free(file);
}

struct bad_case {
    const char *what;
    const char *json;     /* header text; NULL = use raw/rawlen */
    size_t dlen;          /* bytes of data section (zeros) */
    const char *expect;   /* substring of the message */
};

static void check_bad(const char *dir, int k, const struct bad_case *c, const unsigned char *bytes, size_t len) {
    char err[AR_ERR_LEN] = "";
    char label[64];
    snprintf(label, sizeof label, "bad%d.safetensors", k);
    struct ar_st st;
    int rc = ar_st_read_mem(&st, bytes, len, label, err);
    CHECK_MSG(rc < 0, "%s: accepted", c->what);
    CHECK_MSG(strstr(err, label) != NULL, "%s: message lacks label: %s", c->what, err);
    CHECK_MSG(strstr(err, c->expect) != NULL, "%s: message lacks '%s': %s", c->what, c->expect, err);
    CHECK_MSG(strchr(err, '\n') == NULL, "%s: multi-line message", c->what);
    CHECK(st.tensors == NULL && st.n_tensors == 0 && st.meta_keys == NULL);
    ar_st_free(&st);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, label);
    REQUIRE(ar_test_write_file(path, bytes, len) == 0);
    rc = ar_st_read(&st, path, err);
    CHECK_MSG(rc < 0, "%s: accepted from file", c->what);
    CHECK_MSG(strstr(err, path) != NULL && strstr(err, c->expect) != NULL, "%s: file message: %s", c->what, err);
    ar_st_free(&st);
}

#define T(name, dt, shape, offs) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

AR_TEST(safetensors_rejects_malformed_headers) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", ar_test_tmpdir());
    static const struct bad_case cases[] = {
        {"invalid JSON", "{\"a\":{\"dtype\":", 0, "not valid JSON"},
        {"trailing junk", "{} x", 0, "not valid JSON"},
        {"not an object", "[1,2,3]", 0, "not an object"},
        {"entry not an object", "{\"a\":5}", 0, "'a': entry is a JSON integer, not an object"},
        {"missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "missing \"dtype\""},
        {"dtype not string", "{" T("a", "F32", "[1]", "[0,4]") ",\"b\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[4,8]}}", 8, "not a string"},
        {"unsupported dtype", "{" T("w", "BF16", "[2]", "[0,4]") "}", 4, "BF16 is not supported"},
        {"unknown dtype", "{" T("w", "Q7", "[2]", "[0,4]") "}", 4, "unknown dtype 'Q7'"},
        {"shape not array", "{" T("w", "F32", "4", "[0,16]") "}", 16, "\"shape\" is a JSON integer"},
        {"negative dim", "{" T("w", "F32", "[2,-1]", "[0,8]") "}", 8, "shape[1] is not a non-negative integer"},
        {"float dim", "{" T("w", "F32", "[2.0]", "[0,8]") "}", 8, "shape[0]"},
        {"string dim", "{" T("w", "F32", "[\"2\"]", "[0,8]") "}", 8, "shape[0]"},
        {"nine dims", "{" T("w", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", 1, "9 dimensions"},
        {"numel overflow", "{" T("w", "F32", "[4294967296,4294967296,16]", "[0,0]") "}", 0, "overflows"},
        {"bytes overflow", "{" T("w", "F64", "[2305843009213693952,1]", "[0,0]") "}", 0, "overflows"},
        {"huge integer", "{" T("w", "F32", "[99999999999999999999999]", "[0,0]") "}", 0, "not valid JSON"},
        {"missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing \"data_offsets\""},
        {"offsets one int", "{" T("w", "F32", "[1]", "[4]") "}", 4, "not two non-negative integers"},
        {"offsets three ints", "{" T("w", "F32", "[1]", "[0,4,4]") "}", 4, "not two non-negative integers"},
        {"offsets strings", "{" T("w", "F32", "[1]", "[\"0\",4]") "}", 4, "not two non-negative integers"},
        {"offsets negative", "{" T("w", "F32", "[1]", "[-4,0]") "}", 4, "not two non-negative integers"},
        {"begin > end", "{" T("w", "U8", "[0]", "[4,0]") "}", 4, "begin > end"},
        {"end past data", "{" T("w", "F32", "[2]", "[0,8]") "}", 4, "outside the 4-byte data section"},
        {"size mismatch", "{" T("conv1.weight", "F32", "[64,3,3,3]", "[0,100]") "}", 100,
         "tensor 'conv1.weight': data_offsets [0, 100] do not match F32 [64,3,3,3] (6912 bytes)"},
        {"overlap", "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[4,12]") "}", 12, "overlap"},
        {"same range", "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "I32", "[2]", "[0,8]") "}", 8, "overlap"},
        {"duplicate names", "{" T("a", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8,
         "duplicate tensor name"},
        {"metadata not object", "{\"__metadata__\":[\"x\"]}", 0, "__metadata__ is a JSON array"},
        {"metadata value int", "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3}}", 0,
         "value for 'epoch' is a JSON integer, not a string"},
        {"metadata value null", "{\"__metadata__\":{\"k\":null}}", 0, "not a string"},
        {"bad utf8", "{\"\xff\xfe\":{}}", 0, "not valid JSON"},
        {"nul escape", "{\"a\\u0000b\":{}}", 0, "not valid JSON"},
        {"control char in name", "{\"a\x01" "b\":5}", 0, "not valid JSON"},
    };
    int k = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, k++) {
        unsigned char *zeros = calloc(1, cases[i].dlen + 1);
        size_t len;
        unsigned char *f = mk_file(cases[i].json, 8, zeros, cases[i].dlen, &len);
        check_bad(dir, k, &cases[i], f, len);
        free(f);
        free(zeros);
    }

    /* header-length cases, built by hand */
    unsigned char b[64];
    memset(b, 0, sizeof b);
    struct bad_case c1 = {"short file", NULL, 0, "shorter than the 8-byte header length"};
    check_bad(dir, k++, &c1, b, 5);
    struct bad_case c1b = {"empty file", NULL, 0, "truncated"};
    check_bad(dir, k++, &c1b, b, 0);
    struct bad_case c2 = {"zero header", NULL, 0, "header length is 0"};
    check_bad(dir, k++, &c2, b, 16);
    b[0] = 200; /* N = 200 > 64 - 8 */
    struct bad_case c3 = {"header past end", NULL, 0, "truncated: header length 200"};
    check_bad(dir, k++, &c3, b, 64);
    b[0] = 0;
    b[3] = 0x10; /* N = 256 MiB */
    struct bad_case c4 = {"huge header", NULL, 0, "exceeds the 100 MiB limit"};
    check_bad(dir, k++, &c4, b, 64);
    memset(b, 0xff, 8); /* N = 2^64 - 1 */
    check_bad(dir, k++, &c4, b, 64);
    /* NUL byte inside the header */
    memset(b, 0, sizeof b);
    b[0] = 8;
    memcpy(b + 8, "{\"a\0\":1}", 8);
    struct bad_case c5 = {"NUL in header", NULL, 0, "not valid JSON"};
    check_bad(dir, k++, &c5, b, 16);

    /* a directory and a missing file */
    char err[AR_ERR_LEN];
    struct ar_st st;
    CHECK(ar_st_read(&st, dir, err) == AR_ERR_IO && strstr(err, dir) && strstr(err, "directory"));
    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope.safetensors", dir);
    CHECK(ar_st_read(&st, missing, err) == AR_ERR_IO && strstr(err, missing) && strstr(err, "No such file"));
}

/* Random corruption of a valid file: never a crash, leak or out-of-bounds read (run
 * under `make check-asan` to make the last two visible); successes must be sane. */
AR_TEST(safetensors_random_corruption_is_safe) {
    char err[AR_ERR_LEN];
    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[16,24]},"
                       "\"c\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[24,27]}}";
    unsigned char data[27] = {0};
    size_t len;
    unsigned char *orig = mk_file(json, 8, data, sizeof data, &len);
    unsigned char *buf = malloc(len);
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 0x57, 0);
    static const char tokens[] = "{}[]\",:0123456789-e. aFIU";
    int ok = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, orig, len);
        size_t n = len;
        int muts = 1 + (int)ar_rng_below(&r, 4);
        for (int m = 0; m < muts; m++) {
            size_t pos = (size_t)ar_rng_below(&r, n);
            switch (ar_rng_below(&r, 4)) {
            case 0: buf[pos] ^= (unsigned char)(1u << ar_rng_below(&r, 8)); break;
            case 1: buf[pos] = (unsigned char)tokens[ar_rng_below(&r, sizeof tokens - 1)]; break;
            case 2: buf[pos] = (unsigned char)ar_rng_u64(&r); break;
            default: n = pos; break; /* truncate */
            }
            if (n == 0) break;
        }
        /* exact-size heap copy so ASan sees any overread */
        unsigned char *in = malloc(n ? n : 1);
        memcpy(in, buf, n);
        struct ar_st st;
        err[0] = 0;
        int rc = ar_st_read_mem(&st, in, n, "fuzz", err);
        if (rc == AR_OK) {
            ok++;
            for (int i = 0; i < st.n_tensors; i++) {
                const struct ar_st_tensor *t = &st.tensors[i];
                volatile unsigned char sink = 0;
                for (size_t j = 0; j < t->nbytes; j++) sink ^= ((const unsigned char *)t->data)[j];
                (void)sink;
                CHECK(((uintptr_t)t->data % ar_dtype_size(t->dtype)) == 0);
            }
        } else {
            CHECK_MSG(strncmp(err, "fuzz: ", 6) == 0, "bad message: %s", err);
        }
        ar_st_free(&st);
        free(in);
    }
    CHECK(ok > 0);
    free(buf);
    free(orig);
}

AR_TEST(safetensors_failed_write_is_clean) {
    char err[AR_ERR_LEN] = "";
    char dir[512];
    snprintf(dir, sizeof dir, "%s", ar_test_tmpdir());
    uint8_t v[1000];
    memset(v, 0xAB, sizeof v);
    int64_t s[] = {1000};
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    REQUIRE_OK(ar_st_writer_add(&w, "v", AR_DTYPE_U8, 1, s, v, err), err);

    /* 1. directory does not exist */
    char path[700];
    snprintf(path, sizeof path, "%s/no/such/dir/m.safetensors", dir);
    CHECK(ar_st_writer_write(&w, path, err) == AR_ERR_IO);
    CHECK_MSG(strstr(err, path) != NULL, "%s", err);

    /* 2. path is a directory */
    snprintf(path, sizeof path, "%s/adir", dir);
    REQUIRE(mkdir(path, 0700) == 0);
    CHECK(ar_st_writer_write(&w, path, err) == AR_ERR_IO);
    CHECK_MSG(strstr(err, path) != NULL, "%s", err);
    CHECK_EQ_INT(count_entries(dir, ".tmp."), 0);

    /* 3. an existing file survives a write that fails halfway (file size limit) */
    snprintf(path, sizeof path, "%s/keep.safetensors", dir);
    uint8_t small[3] = {1, 2, 3};
    int64_t s3[] = {3};
    struct ar_st_writer w2;
    ar_st_writer_init(&w2);
    REQUIRE_OK(ar_st_writer_add(&w2, "small", AR_DTYPE_U8, 1, s3, small, err), err);
    REQUIRE_OK(ar_st_writer_write(&w2, path, err), err);
    ar_st_writer_free(&w2);
    size_t before_len;
    unsigned char *before = ar_test_read_file(path, &before_len);

    struct rlimit old, lim;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 512;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int rc = ar_st_writer_write(&w, path, err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    CHECK(rc == AR_ERR_IO);
    CHECK_MSG(strstr(err, path) != NULL, "%s", err);
    CHECK_EQ_INT(count_entries(dir, ".tmp."), 0);
    size_t after_len;
    unsigned char *after = ar_test_read_file(path, &after_len);
    REQUIRE(before && after);
    CHECK(before_len == after_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);

    /* 4. the temporary name is taken by a directory: error, existing file intact */
    char tmpname[800];
    snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", path, (long)getpid());
    REQUIRE(mkdir(tmpname, 0700) == 0);
    CHECK(ar_st_writer_write(&w, path, err) == AR_ERR_IO);
    CHECK_MSG(strstr(err, path) != NULL, "%s", err);
    struct stat sb;
    CHECK(stat(tmpname, &sb) == 0 && S_ISDIR(sb.st_mode)); /* not ours: left alone */
    rmdir(tmpname);
    struct ar_st st;
    REQUIRE_OK(ar_st_read(&st, path, err), err);
    CHECK(ar_st_find(&st, "small") != NULL);
    ar_st_free(&st);

    /* and a normal write still works afterwards */
    REQUIRE_OK(ar_st_writer_write(&w, path, err), err);
    CHECK_EQ_INT(count_entries(dir, ".tmp."), 0);
    ar_st_writer_free(&w);
}
