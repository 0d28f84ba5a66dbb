/* Regression tests for the bugs the fuzzers found (fuzz/, docs/reliability.md).
 * Each feeds the crashing input (tests/regress/) or rebuilds the failing case
 * directly, through the same library calls as the fuzz target, and checks the
 * contract: an error status with a one-line message, no crash, no sanitizer report
 * (these tests are most useful under `make check-asan`). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../cli/args.h"
#include "check.h"
#include "io/safetensors.h"
#include "mpc/party.h"
#include "net/chan.h"
#include "net/filechan.h"
#include "net/tcp.h"
#include "nn/ckpt.h"
#include "nn/net.h"

/* tests/regress/NAME (next to the golden directory, which the runner locates). */
static const char *regress_path(const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s", ar_test_golden("../regress/"));
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, "%s", name);
    return buf;
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

/* fuzz_ckpt: an unknown autorep.sites value ("plain6") was printed from the file's
 * metadata after the file had been freed (heap-use-after-free in ar_ckpt_open). */
AR_TEST(regress_ckpt_metadata_error_after_free) {
    char err[AR_ERR_LEN] = "";
    struct ar_net net;
    struct ar_st st;
    int rc = ar_ckpt_open(&net, &st, regress_path("ckpt-bad-sites-uaf.safetensors"), NULL, err);
    CHECK_EQ_INT(rc, AR_ERR_FORMAT);
    CHECK_MSG(strstr(err, "autorep.sites 'plain6' is unknown") != NULL, "message: %s", err);
    CHECK(one_line(err));
}

/* The same paths for autorep.input and autorep.classes, and a newline inside a
 * metadata value (the message must stay one line). */
AR_TEST(regress_ckpt_bad_metadata_values) {
    static const char *const cases[][3] = {
        {"autorep.input", "1x6\nx6", "autorep.input '1x6?x6' is not CxHxW"},
        {"autorep.classes", "-3", "autorep.classes '-3' is not a positive integer"},
        {"autorep.sites", "masked\r\n", "autorep.sites 'masked?" "?' is unknown"},
    };
    const char *dir = ar_test_tmpdir();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[600], err[AR_ERR_LEN] = "";
        snprintf(path, sizeof path, "%s/m%zu.safetensors", dir, k);
        struct ar_st_writer w;
        ar_st_writer_init(&w);
        float x = 1;
        int64_t s1[1] = {1};
        REQUIRE_OK(ar_st_writer_add(&w, "t", AR_DTYPE_F32, 1, s1, &x, err), err);
        REQUIRE_OK(ar_st_writer_meta(&w, "autorep.arch", "[net]\ninput = 1x2x2\n[flatten]\n", err), err);
        REQUIRE_OK(ar_st_writer_meta(&w, cases[k][0], cases[k][1], err), err);
        REQUIRE_OK(ar_st_writer_write(&w, path, err), err);
        ar_st_writer_free(&w);
        struct ar_net net;
        struct ar_st st;
        CHECK_EQ_INT(ar_ckpt_open(&net, &st, path, NULL, err), AR_ERR_FORMAT);
        CHECK_MSG(strstr(err, cases[k][2]) != NULL && one_line(err), "%s: %s", cases[k][0], err);
    }
}

/* fuzz_args: an argument holding a newline made a two-line error. The crash input
 * ran `autorep info "\n"`: its second byte is the argument. */
AR_TEST(regress_cli_error_is_one_line) {
    size_t len = 0;
    uint8_t *in = ar_test_read_file(regress_path("args-newline.bin"), &len);
    REQUIRE(in && len == 2);
    char arg[2] = {(char)in[1], 0};
    char *argv[] = {"autorep", "info", arg, "--bogus\noption", NULL};
    struct cli_opt opts[] = {{"arch", "NAME", "", NULL, 0}, {"json", NULL, "", NULL, 0}, {NULL, NULL, NULL, NULL, 0}};
    for (int variant = 0; variant < 2; variant++) {
        char *buf = NULL;
        size_t n = 0;
        FILE *mem = open_memstream(&buf, &n), *old = stderr;
        REQUIRE(mem);
        stderr = mem;
        /* variant 0: "\n" is an unexpected argument; 1: an unknown option with a newline */
        int r = cli_parse("info", "", opts, variant ? 4 : 3, argv, variant ? 3 : 2);
        stderr = old;
        fclose(mem);
        CHECK_EQ_INT(r, 2);
        CHECK_MSG(n > 0 && memchr(buf, '\n', n) == buf + n - 1, "variant %d: '%s'", variant, buf);
        free(buf);
    }
    free(in);
}

/* fuzz_wire: receiving (or sending) an empty message with a NULL buffer over an
 * encrypted channel did pointer arithmetic on NULL (undefined behaviour, reported
 * by UBSan). Two library ends over a socketpair exchange empty messages. */
struct wend {
    int fd, client, rc;
    char err[AR_ERR_LEN];
};

static void *wire_end(void *v) {
    struct wend *e = v;
    struct ar_tcp_opts o;
    ar_tcp_opts_default(&o);
    o.timeout_ms = 10000;
    struct ar_handshake hs = {.my_role = e->client ? AR_ROLE_P1 : AR_ROLE_P0,
                              .peer_role = e->client ? AR_ROLE_P0 : AR_ROLE_P1};
    memset(hs.model_hash, 3, sizeof hs.model_hash);
    struct ar_chan *c = NULL;
    e->rc = ar_tcp_handshake_fd(e->fd, &hs, &o, e->client, "socketpair", &c, NULL, e->err);
    if (e->rc) return NULL;
    /* client: send, receive; server: receive, send; then both a full-duplex exchange */
    for (int step = 0; step < 2 && !e->rc; step++)
        e->rc = (step == 0) == (e->client != 0) ? ar_chan_send(c, AR_MSG_TEST, NULL, 0, e->err)
                                                : ar_chan_recv(c, AR_MSG_TEST, NULL, 0, e->err);
    if (!e->rc) e->rc = ar_chan_exchange(c, AR_MSG_TEST, NULL, 0, NULL, 0, e->err);
    ar_chan_close(c);
    return NULL;
}

AR_TEST(regress_wire_empty_encrypted_message_null_buffer) {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    struct wend e[2] = {{.fd = sv[0], .client = 0}, {.fd = sv[1], .client = 1}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++) REQUIRE(pthread_create(&th[k], NULL, wire_end, &e[k]) == 0);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) CHECK_MSG(e[k].rc == AR_OK, "end %d: %s", k, e[k].err);
}

/* fuzz_mpc: a material file whose correlation tag announced ~4 GiB made P0's
 * preload allocate it before reading. Input layout: u8 mode, u16 length D, D bytes
 * of material file, then P1's messages; P0 needs only P1's setup message. */
AR_TEST(regress_mpc_preload_announced_length_is_bounded) {
    size_t len = 0;
    uint8_t *in = ar_test_read_file(regress_path("mpc-preload-huge.bin"), &len);
    REQUIRE(in && len > 3);
    size_t dn = (size_t)in[1] | (size_t)in[2] << 8;
    REQUIRE(3 + dn + 48 <= len);
    const char *dir = ar_test_tmpdir();
    char path[600], err[AR_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/p0.corr", dir);
    FILE *f = fopen(path, "wb");
    REQUIRE(f && fwrite(in + 3, 1, dn, f) == dn && fclose(f) == 0);
    static const uint8_t hash[32] = {0x4d, 0x4f, 0x44, 0x45, 0x4c}; /* fuzz/mpc_walk.h */
    for (int limit = 0; limit < 2; limit++) {
        struct ar_party_opts o;
        ar_party_opts_default(&o);
        o.preload_max = limit ? (1 << 20) : 0;
        struct ar_party p;
        struct ar_chan *a = NULL, *b = NULL, *d = NULL;
        REQUIRE_OK(ar_party_init(&p, AR_ROLE_P0, &o, err), err);
        REQUIRE_OK(ar_memchan_pair(&a, &b, "P1", "P0", 5000, err), err);
        REQUIRE_OK(ar_chan_send(b, AR_MSG_SETUP, in + 3 + dn, 48, err), err); /* P1's setup message */
        REQUIRE_OK(ar_filechan_open(path, hash, 0, &d, err), err);
        ar_party_attach(&p, a, d, NULL, NULL);
        int rc = ar_party_setup(&p, err);
        if (rc == AR_OK) rc = ar_party_preload(&p, err);
        /* with a 1 MiB bound: refused before allocating; by default: the file is too short */
        CHECK_MSG(rc != AR_OK && one_line(err), "limit %d: rc %d: %s", limit, rc, err);
        if (limit) CHECK_MSG(rc == AR_ERR_PROTO && strstr(err, "preload limit"), "%s", err);
        ar_party_free(&p);
        ar_chan_close(d);
        ar_chan_close(a);
        ar_chan_close(b);
    }
    free(in);
}

/* fuzz_cfg (limits added with the target): shapes whose element count overflowed
 * int (flatten, linear) or whose parameters needed gigabytes are refused at build. */
AR_TEST(regress_net_build_size_limits) {
    static const char *const cases[][2] = {
        {"[net]\ninput = 65536x16384x16384\nclasses = 2\n[flatten]\n[linear]\nname = fc\noutputs = 2\n",
         "[net] input 65536x16384x16384 is not a positive shape"},
        {"[net]\ninput = 3x64x64\nclasses = 2\n[conv]\nname = c\nfilters = 65536\nsize = 64\n[avgpool]\nglobal = 1\n"
         "[conv]\nname = d\nfilters = 2\nsize = 1\n",
         "layer 'c': the network has more than"},
        {"[net]\ninput = 64x2048x2048\nclasses = 2\n[conv]\nname = c\nfilters = 128\nsize = 1\n[avgpool]\nglobal = 1\n"
         "[conv]\nname = d\nfilters = 2\nsize = 1\n",
         "layer 'c' outputs 128x2048x2048, more than"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[AR_ERR_LEN] = "";
        struct ar_net net;
        CHECK_EQ_INT(ar_net_build(&net, cases[k][0], "big.cfg", NULL, err), AR_ERR_ARG);
        CHECK_MSG(strstr(err, cases[k][1]) != NULL && strstr(err, "big.cfg:") != NULL, "case %zu: %s", k, err);
    }
    /* the largest built-in model still builds */
    char *text = NULL, err[AR_ERR_LEN] = "";
    REQUIRE_OK(ar_arch_text("wrn22_8", &text, err), err);
    struct ar_net net;
    struct ar_net_opts no = {.in_shape = {3, 32, 32}, .classes = 100};
    REQUIRE_OK(ar_net_build(&net, text, "wrn22_8", &no, err), err);
    CHECK(net.n_params > 17000000);
    ar_net_free(&net);
    free(text);
}
