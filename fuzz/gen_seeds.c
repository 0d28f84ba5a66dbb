/* Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/): small valid
 * inputs of every format, made with the library's own writers so they stay in step
 * with the formats, plus recorded secure-inference transcripts for fuzz_mpc (a real
 * dealer writes the material files, P0 and P1 run the walk of mpc_walk.h over
 * in-memory links that record what each receives). Built and run by
 * `make fuzz-seeds`; the output is committed. Deterministic. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/safetensors.h"
#include "mpc_walk.h"
#include "net/chan.h"
#include "net/filechan.h"
#include "net/tcp.h"
#include "net/wire.h"
#include "nn/ckpt.h"
#include "nn/net.h"
#include "pi/public.h"

static const char *outdir;

static void die(const char *what, const char *err) {
    fprintf(stderr, "gen_seeds: %s: %s\n", what, err ? err : strerror(errno));
    exit(1);
}

/* ---- growable byte buffer ---- */
struct buf {
    uint8_t *p;
    size_t n, cap;
};
static void put(struct buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die("realloc", NULL);
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) {
    put8(b, (uint8_t)v);
    put8(b, (uint8_t)(v >> 8));
}
static void putfile(struct buf *b, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path, NULL);
    uint8_t tmp[4096];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) put(b, tmp, r);
    fclose(f);
}

static void seed(const char *target, const char *name, const void *d, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f)) die(path, NULL);
}
static void seedb(const char *target, const char *name, struct buf *b) {
    seed(target, name, b->p, b->n);
    free(b->p);
    memset(b, 0, sizeof *b);
}

static char tmpdir[256];
static const char *tmp(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* ---- safetensors and checkpoints ---- */

static const char tiny_arch[] = "[net]\ninput = 1x6x6\nclasses = 3\n"
                                "[conv]\nname = c1\nfilters = 2\nsize = 3\npad = 1\n"
                                "[batchnorm]\nname = bn1\n[relu]\nname = r1\n"
                                "[avgpool]\nglobal = 1\n[linear]\nname = fc\noutputs = 3\n";

static void safetensors_seeds(void) {
    char err[AR_ERR_LEN];
    struct ar_st_writer w;
    float f[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
    int64_t s23[2] = {2, 3}, s0[1] = {0}, s3[1] = {3};
    uint8_t u8[3] = {1, 0, 1};
    double f64[3] = {1, 2, 3};
    int64_t i64 = 42;
    ar_st_writer_init(&w);
    if (ar_st_writer_add(&w, "w", AR_DTYPE_F32, 2, s23, f, err) || ar_st_writer_meta(&w, "k", "v", err) ||
        ar_st_writer_write(&w, tmp("a.st"), err))
        die("writer", err);
    ar_st_writer_free(&w);
    struct buf b = {0};
    putfile(&b, tmp("a.st"));
    seedb("fuzz_safetensors", "tiny", &b);
    ar_st_writer_init(&w);
    if (ar_st_writer_add(&w, "mask", AR_DTYPE_U8, 1, s3, u8, err) ||
        ar_st_writer_add(&w, "d", AR_DTYPE_F64, 1, s3, f64, err) || /* misaligned after 3 bytes */
        ar_st_writer_add(&w, "empty", AR_DTYPE_F32, 1, s0, NULL, err) ||
        ar_st_writer_add(&w, "n", AR_DTYPE_I64, 0, NULL, &i64, err) ||
        ar_st_writer_add(&w, "b", AR_DTYPE_BOOL, 1, s3, u8, err) || ar_st_writer_meta(&w, "a", "1", err) ||
        ar_st_writer_meta(&w, "b", "[0.5]", err) || ar_st_writer_write(&w, tmp("b.st"), err))
        die("writer", err);
    ar_st_writer_free(&w);
    putfile(&b, tmp("b.st"));
    seedb("fuzz_safetensors", "dtypes", &b);
    /* hand-written header with padding and a gap between tensors */
    const char hdr[] = "{\"x\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                       "\"y\":{\"dtype\":\"U64\",\"shape\":[],\"data_offsets\":[16,24]}}   ";
    uint64_t hl = sizeof hdr - 1;
    for (int i = 0; i < 8; i++) put8(&b, (uint8_t)(hl >> (8 * i)));
    put(&b, hdr, hl);
    for (int i = 0; i < 24; i++) put8(&b, (uint8_t)i);
    seedb("fuzz_safetensors", "gap", &b);

    /* checkpoints: plain and masked nets of the tiny architecture, and a PyTorch-style
     * file (tensors only) */
    for (int mode = 0; mode < 2; mode++) {
        struct ar_net net;
        struct ar_net_opts no = {.site_mode = mode ? AR_SITES_MASKED : AR_SITES_PLAIN};
        if (ar_net_build(&net, tiny_arch, "tiny", &no, err)) die("build", err);
        ar_net_init_params(&net, 7);
        const char *extra[] = {"autorep.arch_name", "tiny", "data.set", "mnist", "data.mean", "[0.1307]",
                               "data.std", "[0.3081]", NULL};
        if (ar_ckpt_save(&net, tmp("c.st"), extra, err)) die("save", err);
        /* the public file of secure inference for the same net */
        struct ar_pi_public_info pinfo = {.arch_name = "tiny", .data_set = "mnist", .mean = "[0.1307]",
                                          .std = "[0.3081]", .in_c = 1};
        if (ar_pi_public_save(&net, 12, &pinfo, tmp("p.st"), err)) die("public", err);
        putfile(&b, tmp("p.st"));
        seedb("fuzz_pipublic", mode ? "masked" : "plain", &b);
        putfile(&b, tmp("c.st"));
        seed("fuzz_ckpt", mode ? "masked" : "plain", b.p, b.n);
        if (!mode) seed("fuzz_safetensors", "ckpt", b.p, b.n);
        free(b.p);
        memset(&b, 0, sizeof b);
        if (!mode) {
            ar_st_writer_init(&w);
            for (int i = 0; i < net.n_tensors; i++) {
                const struct ar_tensor_info *t = &net.tensors[i];
                enum ar_dtype dt = t->kind == AR_T_COUNT ? AR_DTYPE_I64 : AR_DTYPE_F32;
                if (ar_st_writer_add(&w, t->name, dt, t->ndim, t->shape, ar_net_tensor_data(&net, t), err))
                    die("writer", err);
            }
            if (ar_st_writer_write(&w, tmp("t.st"), err)) die("writer", err);
            ar_st_writer_free(&w);
            putfile(&b, tmp("t.st"));
            if (b.n % 2 == 0) put8(&b, ' '); /* odd size: the target supplies --arch */
            seedb("fuzz_ckpt", "pytorch", &b);
        }
        ar_net_free(&net);
    }
}

/* ---- architecture files ---- */

static void cfg_seeds(void) {
    static const char *files[] = {"tests/tiny.cfg", "models/cnn_small.cfg"};
    struct buf b = {0};
    for (int i = 0; i < 2; i++) {
        put8(&b, (uint8_t)i);
        putfile(&b, files[i]);
        seedb("fuzz_cfg", i ? "cnn_small" : "tiny", &b);
    }
    const char all[] = "[net]\ninput = 3x8x8  # comment\nclasses = auto\n"
                       "[conv]\nname = c1\nfilters = 4\nsize = 3\nstride = 1\npad = 1\nbias = 1\n"
                       "[batchnorm]\nname = bn1\nmomentum = 0.1\neps = 1e-5\n[relu]\nname = r1\n"
                       "[conv]\nname = c2\nfilters = 4\nsize = 1\ninput = r1\n"
                       "[add]\nname = sum\nfrom = c2, r1\n[maxpool]\nsize = 2\n"
                       "[avgpool]\nsize = 2\nstride = 2\npad = 1\n; comment\n[flatten]\n"
                       "[linear]\nname = fc\noutputs = auto\nbias = 0\n";
    put8(&b, 5);
    put(&b, all, sizeof all - 1);
    seedb("fuzz_cfg", "all_sections", &b);
    put8(&b, 2);
    put(&b, tiny_arch, sizeof tiny_arch - 1);
    seedb("fuzz_cfg", "masked", &b);
}

/* ---- data sets ---- */

static void be32(struct buf *b, uint32_t v) {
    for (int i = 3; i >= 0; i--) put8(b, (uint8_t)(v >> (8 * i)));
}

static void gz_bytes(struct buf *out, const uint8_t *d, size_t n) {
    const char *p = tmp("g.gz");
    gzFile g = gzopen(p, "wb9");
    if (!g || gzwrite(g, d, (unsigned)n) != (int)n || gzclose(g) != Z_OK) die("gzip", NULL);
    putfile(out, p);
}

static void data_seeds(void) {
    struct buf im = {0}, lb = {0}, s = {0};
    be32(&im, 0x803);
    be32(&im, 2);
    be32(&im, 3);
    be32(&im, 4);
    for (int i = 0; i < 24; i++) put8(&im, (uint8_t)(i * 10));
    be32(&lb, 0x801);
    be32(&lb, 2);
    put8(&lb, 3);
    put8(&lb, 9);
    /* raw pair, 10 classes */
    put8(&s, 9);
    put16(&s, (uint16_t)im.n);
    put(&s, im.p, im.n);
    put(&s, lb.p, lb.n);
    seedb("fuzz_idx", "raw", &s);
    /* gzip pair */
    struct buf gi = {0}, gl = {0};
    gz_bytes(&gi, im.p, im.n);
    gz_bytes(&gl, lb.p, lb.n);
    put8(&s, 9);
    put16(&s, (uint16_t)gi.n);
    put(&s, gi.p, gi.n);
    put(&s, gl.p, gl.n);
    seedb("fuzz_idx", "gzip", &s);
    /* raw images, gzip labels */
    put8(&s, 9);
    put16(&s, (uint16_t)im.n);
    put(&s, im.p, im.n);
    put(&s, gl.p, gl.n);
    seedb("fuzz_idx", "mixed", &s);
    free(im.p), free(lb.p), free(gi.p), free(gl.p);

    /* CIFAR: one record per file */
    uint8_t rec[3074];
    for (int i = 0; i < 3074; i++) rec[i] = (uint8_t)(i * 7);
    rec[0] = 4; /* CIFAR-10 label / CIFAR-100 coarse label */
    rec[1] = 42;
    put8(&s, 0);
    put(&s, rec, 3073);
    seedb("fuzz_cifar", "c10_one", &s);
    put8(&s, 1);
    put(&s, rec, 3074);
    seedb("fuzz_cifar", "c100_one", &s);
    put8(&s, 2); /* two CIFAR-10 files */
    put16(&s, 3073);
    put(&s, rec, 3073);
    put(&s, rec, 3073);
    seedb("fuzz_cifar", "c10_two", &s);
}

/* ---- command lines ---- */

static void args_seeds(void) {
    /* the first word names the command table (fuzz_args.c) */
    static const struct {
        const char *name;
        const char *args;
        size_t len;
    } a[] = {
#define A(n, s) {n, s, sizeof s - 1}
        A("info", "info\0--arch\0resnet20\0--data\0cifar10\0--json\0--layers"),
        A("train", "train\0--epochs\0" "3\0--lr=0.05\0--nesterov\0--batch\0" "64\0--augment\0crop+flip\0--seed=7"),
        A("eval", "eval\0--model\0m.safetensors\0--max-test=100\0--json"),
        A("predict", "predict\0--model\0m.safetensors\0--input\0x.safetensors\0--out\0y.safetensors\0--batch\0" "8"),
        A("replace", "replace\0--model\0b.safetensors\0--budget\0" "2%\0--method=snl\0--lambda\0" "1e-4\0--out\0r.st"),
        A("report", "report\0--out\0r.html\0--title\0runs\0--site=relu1"),
        A("pi_server", "pi_server\0--model\0m.st\0--listen\0" "127.0.0.1:7100\0--n\0" "4\0--timeout=5"),
        A("pi_local", "pi_local\0--model\0m.st\0--net\0lan\0--frac-bits\0" "12\0--json"),
        A("help", "train\0--help"),
#undef A
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) seed("fuzz_args", a[i].name, a[i].args, a[i].len);
}

/* ---- report inputs (byte 0 picks the reader, fuzz_report.c) ---- */

static void report_seeds(void) {
    static const char log[] =
        "{\"stage\": \"train\", \"epoch\": 1, \"lr\": 0.1, \"train_loss\": 2.3, \"train_top1\": 0.17, "
        "\"val_loss\": 2.31, \"val_top1\": 0.05, \"seconds\": 0.6, \"images_per_s\": 105.4}\n\n"
        "{\"stage\": \"search\", \"epoch\": 1, \"lr\": 0.001, \"train_loss\": 90.8, \"train_top1\": 0.17, "
        "\"val_loss\": -1, \"val_top1\": -1, \"seconds\": 1.7, \"images_per_s\": 36.5, \"kd_loss\": 0.03, "
        "\"reg_loss\": 88.6, \"relu_count_mean\": 43904.0, \"relu_count\": 0, \"budget\": 5000, "
        "\"relu_total\": 43904, \"lambda\": 100, \"projected\": 0}\n";
    static const char ev[] = "{\"top1\":0.7777,\"loss\":0.61,\"n\":2000,\"relu_total\":80,\"relu_total_baseline\":352}\n";
    static const char pi[] =
        "{\"model\": \"m.safetensors\", \"n\": 100, \"mpc_top1\": 0.86, \"fixed_top1\": 0.86, \"float_top1\": 0.87, "
        "\"agree_fixed\": 1, \"relu_count\": 352, \"poly_count\": 0, \"online_bytes\": 812345, "
        "\"relu_online_bytes\": 800000, \"rounds\": 40, \"dealer_bytes\": 9000, \"online_seconds\": 0.42, "
        "\"layers\": [{\"name\": \"c1\", \"linear_online_bytes\": 6000, \"rounds\": 1}, "
        "{\"name\": \"r1\", \"relu_online_bytes\": 800000, \"rounds\": 8, \"seconds\": 0.2}]}\n";
    const struct {
        const char *name, *text;
        size_t len;
        uint8_t kind;
    } t[] = {{"log", log, sizeof log - 1, 0}, {"eval", ev, sizeof ev - 1, 1}, {"pi", pi, sizeof pi - 1, 2}};
    struct buf b = {0};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        put8(&b, t[i].kind);
        put(&b, t[i].text, t[i].len);
        seedb("fuzz_report", t[i].name, &b);
    }
    /* a checkpoint with masks (the fuzz_ckpt seed), for the summary */
    char path[1024];
    snprintf(path, sizeof path, "%s/fuzz_ckpt/masked", outdir);
    put8(&b, 3);
    putfile(&b, path);
    seedb("fuzz_report", "ckpt_masked", &b);
}

/* ---- secure-inference transcripts ---- */

struct rec_chan {
    struct ar_chan base;
    struct ar_chan *in;
    struct buf got;
};
static int rc_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    return ar_chan_send(((struct rec_chan *)c)->in, type, buf, len, err);
}
static int rc_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    struct rec_chan *r = (struct rec_chan *)c;
    int rc = ar_chan_recv(r->in, type, buf, len, err);
    if (!rc) put(&r->got, buf, len);
    return rc;
}
static int rc_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                       char *err) {
    struct rec_chan *r = (struct rec_chan *)c;
    int rc = ar_chan_exchange(r->in, type, sbuf, slen, rbuf, rlen, err);
    if (!rc) put(&r->got, rbuf, rlen);
    return rc;
}
static void rc_shutdown(struct ar_chan *c) { ar_chan_shutdown(((struct rec_chan *)c)->in); }
static void rc_destroy(struct ar_chan *c) { (void)c; }
static const struct ar_chan_ops rec_ops = {rc_send, rc_recv, rc_exchange, rc_shutdown, rc_destroy};

struct online {
    int role;
    struct rec_chan peer;
    int rc;
    char err[AR_ERR_LEN];
};

static void *online_main(void *v) {
    struct online *o = v;
    struct ar_party_opts po;
    fz_mpc_opts(&po);
    struct ar_party p;
    struct ar_chan *d = NULL;
    o->rc = ar_party_init(&p, o->role, &po, o->err);
    if (!o->rc) o->rc = ar_filechan_open(tmp(o->role ? "p1.seed" : "p0.corr"), fz_mpc_hash, 0, &d, o->err);
    if (!o->rc) {
        ar_party_attach(&p, &o->peer.base, d, NULL, NULL);
        o->rc = fz_mpc_walk(&p, 0, o->err);
    }
    if (o->rc) ar_chan_shutdown(&o->peer.base);
    ar_chan_close(d);
    ar_party_free(&p);
    return NULL;
}

static void mpc_seeds(void) {
    char err[AR_ERR_LEN];
    unlink(tmp("p0.corr"));
    unlink(tmp("p1.seed"));
    struct ar_party d;
    struct ar_party_opts po;
    fz_mpc_opts(&po);
    struct ar_chan *f0, *f1;
    if (ar_party_init(&d, AR_ROLE_DEALER, &po, err) || ar_filechan_create(tmp("p0.corr"), fz_mpc_hash, &f0, err) ||
        ar_filechan_create(tmp("p1.seed"), fz_mpc_hash, &f1, err))
        die("dealer", err);
    ar_party_attach(&d, NULL, NULL, f0, f1);
    if (fz_mpc_walk(&d, 0, err)) die("dealer walk", err);
    ar_chan_close(f0);
    ar_chan_close(f1);
    ar_party_free(&d);

    struct online o[2];
    memset(o, 0, sizeof o);
    struct ar_chan *a, *b;
    if (ar_memchan_pair(&a, &b, "P1", "P0", 10000, err)) die("memchan", err);
    for (int r = 0; r < 2; r++) {
        o[r].role = r;
        o[r].peer.base.ops = &rec_ops;
        o[r].peer.in = r ? b : a;
        snprintf(o[r].peer.base.name, sizeof o[r].peer.base.name, "%s", r ? "P0" : "P1");
    }
    pthread_t th[2];
    for (int r = 0; r < 2; r++) pthread_create(&th[r], NULL, online_main, &o[r]);
    for (int r = 0; r < 2; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < 2; r++)
        if (o[r].rc) die(r ? "P1 walk" : "P0 walk", o[r].err);
    ar_chan_close(a);
    ar_chan_close(b);
    for (int r = 0; r < 2; r++)
        for (int pre = 0; pre < 1 + (r == 0); pre++) {
            struct buf s = {0}, f = {0};
            putfile(&f, tmp(r ? "p1.seed" : "p0.corr"));
            if (f.n > 0xffff) die("material file too large for the seed format", NULL);
            put8(&s, (uint8_t)(r | pre << 1));
            put16(&s, (uint16_t)f.n);
            put(&s, f.p, f.n);
            put(&s, o[r].peer.got.p, o[r].peer.got.n);
            seedb("fuzz_mpc", r ? "p1" : pre ? "p0_preload" : "p0", &s);
            free(f.p);
        }
    for (int r = 0; r < 2; r++) free(o[r].peer.got.p);
}

/* ---- TCP transport ---- */

static void frame(struct buf *b, uint16_t type, uint16_t flags, uint32_t seq, const void *p, size_t n) {
    uint8_t h[AR_WIRE_HDR];
    struct ar_wire_hdr wh = {AR_WIRE_MAGIC, type, flags, seq, n};
    ar_wire_encode(h, &wh);
    put(b, h, sizeof h);
    put(b, p, n);
}

/* a scripted frame description (see fuzz_wire.c) */
static void desc(struct buf *b, uint8_t type, uint8_t flags, uint32_t len, uint8_t fill) {
    put8(b, type);
    put8(b, flags);
    put8(b, 0);
    put8(b, 0);
    put8(b, 0);
    put16(b, (uint16_t)len);
    put8(b, (uint8_t)(len >> 16));
    put8(b, fill);
    for (uint32_t i = 0; i < len && i < 32; i++) put8(b, (uint8_t)(fill + i));
}

static void wire_seeds(void) {
    /* raw plaintext: a peer that completes the handshake as the dealer and answers the
     * first three messages of the schedule */
    struct buf b = {0};
    uint8_t hello[40] = {AR_PROTO_VERSION, 0, 0, 0, AR_ROLE_DEALER, 0, 1, 0};
    for (int i = 8; i < 40; i++) hello[i] = (uint8_t)(9 * i);
    uint8_t hash[AR_MODEL_HASH_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8}, zero[48] = {0};
    put8(&b, 0x01);
    frame(&b, AR_MSG_HELLO, AR_WIRE_FLAG_LAST, 0, hello, 40);
    frame(&b, AR_MSG_AUTH, AR_WIRE_FLAG_LAST, 1, hash, sizeof hash);
    frame(&b, AR_MSG_SETUP, AR_WIRE_FLAG_LAST, 2, zero, 48);
    frame(&b, AR_MSG_ACT, AR_WIRE_FLAG_LAST, 3, zero, 24);
    frame(&b, AR_MSG_TEST, AR_WIRE_FLAG_LAST, 4, NULL, 0);
    seedb("fuzz_wire", "raw_plain", &b);
    /* raw, encrypted library: the HELLO is all an unauthenticated peer can get right */
    put8(&b, 0x00);
    hello[6] = 0;
    frame(&b, AR_MSG_HELLO, AR_WIRE_FLAG_LAST, 0, hello, 40);
    seedb("fuzz_wire", "raw_enc_hello", &b);
    /* scripted: the whole schedule, encrypted (ChaCha20 and AES when available) and plaintext */
    static const uint8_t modes[] = {0x04, 0x0e, 0x05};
    static const char *names[] = {"scripted_chacha", "scripted_client", "scripted_plain"};
    for (int m = 0; m < 3; m++) {
        put8(&b, modes[m]);
        put8(&b, AR_ROLE_DEALER);
        put8(&b, m == 0 ? 2 : 0); /* flags: AES capable in the first */
        desc(&b, AR_MSG_SETUP, AR_WIRE_FLAG_LAST, 48, 0x30);
        desc(&b, AR_MSG_ACT, AR_WIRE_FLAG_LAST, 24, 0x40);
        desc(&b, AR_MSG_TEST, AR_WIRE_FLAG_LAST, 0, 0);
        desc(&b, AR_MSG_LINEAR, 0, (uint32_t)AR_FRAME_MAX, 0x55);
        desc(&b, AR_MSG_LINEAR, AR_WIRE_FLAG_LAST, 100, 0x66);
        desc(&b, AR_MSG_REVEAL, AR_WIRE_FLAG_LAST, 7, 0x77);
        seedb("fuzz_wire", names[m], &b);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR   (run from the repository root)\n");
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0755);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/autorep-seeds.XXXXXX");
    if (!mkdtemp(tmpdir)) die("mkdtemp", NULL);
    safetensors_seeds();
    cfg_seeds();
    data_seeds();
    args_seeds();
    report_seeds();
    mpc_seeds();
    wire_seeds();
    static const char *files[] = {"a.st", "b.st", "c.st", "p.st", "t.st", "g.gz", "p0.corr", "p1.seed"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(tmp(files[i]));
    rmdir(tmpdir);
    return 0;
}
