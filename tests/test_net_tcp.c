/* Tests of the TCP transport (src/net/tcp.c, src/net/wire.c) on loopback:
 * round trips across frame boundaries and counters, a 64 MB full-duplex
 * exchange, handshake refusals (model hash, role, version), connect retry, and a
 * man-in-the-middle proxy that corrupts the client->server stream (bad magic,
 * type, length, seq; flipped ciphertext; replayed, reordered and cross-session
 * frames; connection cut; stall),
 * plus a forked peer killed mid-exchange. Every failure must be the documented
 * status within the timeout. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "net/tcp.h"
#include "net/wire.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct acc_arg {
    int lfd;
    struct ar_handshake hs;
    struct ar_tcp_opts o;
    struct ar_chan *ch;
    int peer_role;
    int rc;
    char err[AR_ERR_LEN];
};

static void *acc_thread(void *p) {
    struct acc_arg *a = p;
    a->rc = ar_tcp_accept(a->lfd, &a->hs, &a->o, &a->ch, &a->peer_role, a->err);
    return NULL;
}

static void hs_init(struct ar_handshake *hs, int me, int peer, uint8_t hash_byte) {
    hs->my_role = me;
    hs->peer_role = peer;
    memset(hs->model_hash, hash_byte, sizeof hs->model_hash);
}

/* ---- a frame-aware man-in-the-middle proxy ------------------------------------- */

enum pmode {
    P_NONE, P_MAGIC, P_TYPE, P_LEN, P_SEQ, P_FLIP, P_REPLAY, P_REPLAY_FIXSEQ, P_CUT, P_STALL, P_VERSION,
    P_SWAP,        /* frames k and k+1 delivered in the opposite order */
    P_SWAP_FIXSEQ, /* the same, with their seq fields exchanged so each arrives with the expected seq */
    P_CAPTURE,     /* forward everything, keeping a copy of frame k (for P_XSESSION) */
    P_XSESSION     /* frame k replaced by the frame captured from an earlier session (same seq and length) */
};

/* The frame P_CAPTURE kept: a valid frame of an earlier session. */
static uint8_t captured[AR_WIRE_HDR + 256];
static size_t captured_len;

struct proxy {
    int lfd, port, target_port;
    enum pmode mode;
    int frame; /* index of the client->server frame to attack */
    int cfd, sfd;
    pthread_t t_c2s, t_s2c;
    int started_s2c;
    int c2s_frames;              /* client->server frames forwarded whole */
    uint64_t c2s_bytes, s2c_bytes; /* bytes forwarded each way */
};

static int read_full(int fd, uint8_t *b, size_t n) {
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *b, size_t n) {
    while (n) {
        ssize_t r = send(fd, b, n, MSG_NOSIGNAL);
        if (r <= 0) return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *proxy_s2c(void *p) {
    struct proxy *x = p;
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = read(x->sfd, buf, sizeof buf);
        if (r <= 0 || write_full(x->cfd, buf, (size_t)r)) break;
        x->s2c_bytes += (uint64_t)r;
    }
    shutdown(x->cfd, SHUT_RDWR);
    return NULL;
}

static void *proxy_c2s(void *p) {
    struct proxy *x = p;
    x->cfd = accept(x->lfd, NULL, NULL);
    if (x->cfd < 0) return NULL;
    x->sfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)x->target_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(x->sfd, (struct sockaddr *)&sa, sizeof sa) != 0) return NULL;
    pthread_create(&x->t_s2c, NULL, proxy_s2c, x);
    x->started_s2c = 1;
    uint8_t *body = malloc(AR_FRAME_MAX + 64), prev[AR_WIRE_HDR + 256];
    size_t prev_len = 0;
    for (int idx = 0;; idx++) {
        uint8_t hdr[AR_WIRE_HDR];
        if (read_full(x->cfd, hdr, sizeof hdr)) break;
        struct ar_wire_hdr h;
        ar_wire_decode(&h, hdr);
        if (h.len > AR_FRAME_MAX + 64 || read_full(x->cfd, body, (size_t)h.len)) break;
        int hit = idx == x->frame;
        if (hit) {
            switch (x->mode) {
            case P_MAGIC: hdr[0] ^= 0x01; break;
            case P_TYPE: h.type = (uint16_t)(h.type + 1); ar_wire_encode(hdr, &h); break;
            case P_LEN: {
                struct ar_wire_hdr h2 = h;
                h2.len = (uint64_t)1 << 40;
                ar_wire_encode(hdr, &h2);
                if (write_full(x->sfd, hdr, sizeof hdr)) goto out;
                continue; /* the body is never sent: the receiver must reject the header alone */
            }
            case P_SEQ: h.seq += 1; ar_wire_encode(hdr, &h); break;
            case P_FLIP: body[h.len / 2] ^= 0x20; break;
            case P_VERSION: body[0] ^= 0x7f; break;
            case P_REPLAY:
            case P_REPLAY_FIXSEQ:
                /* send the previous frame again instead of this one */
                if (x->mode == P_REPLAY_FIXSEQ) {
                    struct ar_wire_hdr hp;
                    ar_wire_decode(&hp, prev);
                    hp.seq = h.seq;
                    ar_wire_encode(prev, &hp);
                }
                if (write_full(x->sfd, prev, prev_len)) goto out;
                continue;
            case P_SWAP:
            case P_SWAP_FIXSEQ: {
                /* hold this frame, forward the next one first, then this one */
                uint8_t hdr2[AR_WIRE_HDR], *body2 = malloc(AR_FRAME_MAX + 64);
                struct ar_wire_hdr h2;
                int fail = !body2 || read_full(x->cfd, hdr2, sizeof hdr2);
                if (!fail) {
                    ar_wire_decode(&h2, hdr2);
                    fail = h2.len > AR_FRAME_MAX + 64 || read_full(x->cfd, body2, (size_t)h2.len);
                }
                if (!fail && x->mode == P_SWAP_FIXSEQ) {
                    uint32_t sq = h.seq;
                    h.seq = h2.seq;
                    h2.seq = sq;
                    ar_wire_encode(hdr, &h);
                    ar_wire_encode(hdr2, &h2);
                }
                fail = fail || write_full(x->sfd, hdr2, sizeof hdr2) || write_full(x->sfd, body2, (size_t)h2.len) ||
                       write_full(x->sfd, hdr, sizeof hdr) || write_full(x->sfd, body, (size_t)h.len);
                free(body2);
                if (fail) goto out;
                idx++;
                continue;
            }
            case P_CAPTURE:
                if (h.len <= 256) {
                    memcpy(captured, hdr, sizeof hdr);
                    memcpy(captured + AR_WIRE_HDR, body, (size_t)h.len);
                    captured_len = AR_WIRE_HDR + (size_t)h.len;
                }
                break;
            case P_XSESSION:
                if (captured_len == 0 || write_full(x->sfd, captured, captured_len)) goto out;
                continue;
            case P_CUT:
                write_full(x->sfd, hdr, sizeof hdr);
                write_full(x->sfd, body, (size_t)h.len / 2);
                goto out;
            case P_STALL:
                /* keep both connections open and forward nothing more */
                for (;;) {
                    uint8_t sink[4096];
                    if (read(x->cfd, sink, sizeof sink) <= 0) break;
                }
                goto out;
            case P_NONE: break;
            }
        }
        if (write_full(x->sfd, hdr, sizeof hdr) || write_full(x->sfd, body, (size_t)h.len)) break;
        x->c2s_frames++;
        x->c2s_bytes += AR_WIRE_HDR + h.len;
        if (h.len <= 256) {
            memcpy(prev, hdr, sizeof hdr);
            memcpy(prev + AR_WIRE_HDR, body, (size_t)h.len);
            prev_len = AR_WIRE_HDR + (size_t)h.len;
        }
    }
out:
    free(body);
    shutdown(x->sfd, SHUT_RDWR);
    return NULL;
}

static void proxy_start(struct proxy *x, int target_port, enum pmode mode, int frame) {
    char err[AR_ERR_LEN];
    memset(x, 0, sizeof *x);
    x->cfd = x->sfd = -1;
    x->target_port = target_port;
    x->mode = mode;
    x->frame = frame;
    if (ar_tcp_listen("127.0.0.1", 0, &x->lfd, &x->port, err)) abort();
    pthread_create(&x->t_c2s, NULL, proxy_c2s, x);
}

static void proxy_stop(struct proxy *x) {
    if (x->cfd >= 0) shutdown(x->cfd, SHUT_RDWR);
    if (x->sfd >= 0) shutdown(x->sfd, SHUT_RDWR);
    pthread_join(x->t_c2s, NULL);
    if (x->started_s2c) pthread_join(x->t_s2c, NULL);
    if (x->cfd >= 0) close(x->cfd);
    if (x->sfd >= 0) close(x->sfd);
    ar_tcp_close_listener(x->lfd);
}

/* Server (P0) accepts through the proxy from a client (P1). The accept runs in a
 * thread; returns the accept status via `a`. */
static int force_chacha; /* cipher used by connect_via */

static int connect_via(struct acc_arg *a, pthread_t *t, int *lport, struct ar_chan **cli, int port_shift_proxy,
                       struct proxy *px, enum pmode mode, int frame, uint8_t cli_hash, char *err) {
    struct ar_tcp_opts o;
    ar_tcp_opts_default(&o);
    o.force_chacha = force_chacha;
    o.timeout_ms = 1500;
    o.connect_timeout_ms = 3000;
    memset(a, 0, sizeof *a);
    a->o = o;
    hs_init(&a->hs, AR_ROLE_P0, AR_ROLE_P1, 0xab);
    if (ar_tcp_listen("127.0.0.1", 0, &a->lfd, lport, err)) return -1;
    pthread_create(t, NULL, acc_thread, a);
    int port = *lport;
    if (port_shift_proxy) {
        proxy_start(px, *lport, mode, frame);
        port = px->port;
    }
    struct ar_handshake hs;
    hs_init(&hs, AR_ROLE_P1, AR_ROLE_P0, cli_hash);
    return ar_tcp_connect("127.0.0.1", port, &hs, &o, cli, err);
}

static void roundtrip(void) {
    char err[AR_ERR_LEN] = "";
    struct acc_arg a;
    pthread_t t;
    int port;
    struct ar_chan *cli = NULL;
    REQUIRE_OK(connect_via(&a, &t, &port, &cli, 0, NULL, P_NONE, 0, 0xab, err), err);
    pthread_join(t, NULL);
    REQUIRE_OK(a.rc, a.err);
    CHECK(a.peer_role == AR_ROLE_P1);
    const char *want = force_chacha || !crypto_aead_aes256gcm_is_available() ? "chacha20poly1305" : "aes256gcm";
    CHECK_MSG(strcmp(ar_tcp_cipher(cli), want) == 0 && strcmp(ar_tcp_cipher(a.ch), want) == 0, "cipher %s",
              ar_tcp_cipher(cli));
    CHECK(ar_tcp_cipher(NULL) == NULL);
    size_t sizes[] = {0, 1, 100, AR_FRAME_MAX - 1, AR_FRAME_MAX, AR_FRAME_MAX + 1, 3 * AR_FRAME_MAX + 5};
    size_t maxn = 3 * AR_FRAME_MAX + 5;
    uint8_t *s = malloc(maxn), *r = malloc(maxn);
    for (size_t i = 0; i < maxn; i++) s[i] = (uint8_t)(i * 131 + 7);
    uint64_t frames = 0, payload = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        REQUIRE_OK(ar_chan_send(cli, AR_MSG_TEST, s, sizes[k], err), err);
        memset(r, 0, maxn);
        REQUIRE_OK(ar_chan_recv(a.ch, AR_MSG_TEST, r, sizes[k], err), err);
        CHECK_MSG(memcmp(s, r, sizes[k]) == 0, "payload of %zu bytes", sizes[k]);
        frames += sizes[k] ? (sizes[k] + AR_FRAME_MAX - 1) / AR_FRAME_MAX : 1;
        payload += sizes[k];
    }
    CHECK(cli->st.bytes_sent == payload && a.ch->st.bytes_recv == payload);
    CHECK(cli->st.wire_sent == payload + frames * (AR_WIRE_HDR + AR_WIRE_MAC));
    CHECK(a.ch->st.wire_recv == cli->st.wire_sent);
    /* server -> client too, and the wrong expected length is a protocol error */
    REQUIRE_OK(ar_chan_send(a.ch, AR_MSG_REVEAL, s, 64, err), err);
    CHECK_EQ_INT(ar_chan_recv(cli, AR_MSG_REVEAL, r, 65, err), AR_ERR_PROTO);
    CHECK(strstr(err, "frame length") != NULL);
    free(s);
    free(r);
    ar_chan_close(cli);
    ar_chan_close(a.ch);
    ar_tcp_close_listener(a.lfd);
}

AR_TEST(net_tcp_roundtrip_frames_and_counters) {
    for (force_chacha = 0; force_chacha < 2; force_chacha++) roundtrip();
    force_chacha = 0;
}

struct big_arg {
    struct ar_chan *ch;
    uint8_t *s, *r;
    size_t n;
    int rc;
    char err[AR_ERR_LEN];
};

static void *big_thread(void *p) {
    struct big_arg *b = p;
    b->rc = ar_chan_exchange(b->ch, AR_MSG_ACT, b->s, b->n, b->r, b->n, b->err);
    return NULL;
}

AR_TEST(net_tcp_64mb_full_duplex_no_deadlock) {
    char err[AR_ERR_LEN] = "";
    struct acc_arg a;
    pthread_t t;
    int port;
    struct ar_chan *cli = NULL;
    REQUIRE_OK(connect_via(&a, &t, &port, &cli, 0, NULL, P_NONE, 0, 0xab, err), err);
    pthread_join(t, NULL);
    REQUIRE_OK(a.rc, a.err);
    /* connect_via's 1.5 s inactivity timeout is for the failure tests; on a loaded
     * machine (or under ASan) 64 MiB can stall longer than that without any fault */
    a.ch->timeout_ms = cli->timeout_ms = 30000;
    size_t n = (size_t)64 << 20;
    struct big_arg x = {a.ch, malloc(n), malloc(n), n, 0, ""}, y = {cli, malloc(n), malloc(n), n, 0, ""};
    REQUIRE(x.s && x.r && y.s && y.r);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = i * 0x9e3779b97f4a7c15ULL;
        memcpy(x.s + i, &v, 8);
        v = ~v;
        memcpy(y.s + i, &v, 8);
    }
    double t0 = now_ms();
    pthread_t tx, ty;
    pthread_create(&tx, NULL, big_thread, &x);
    pthread_create(&ty, NULL, big_thread, &y);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    double ms = now_ms() - t0;
    CHECK_MSG(x.rc == 0, "%s", x.err);
    CHECK_MSG(y.rc == 0, "%s", y.err);
    CHECK(memcmp(x.r, y.s, n) == 0 && memcmp(y.r, x.s, n) == 0);
    printf("    64 MiB each way, encrypted: %.0f ms (%.0f MB/s per direction)\n", ms, (double)n / ms / 1e3);
    free(x.s);
    free(x.r);
    free(y.s);
    free(y.r);
    ar_chan_close(cli);
    ar_chan_close(a.ch);
    ar_tcp_close_listener(a.lfd);
}

AR_TEST(net_tcp_model_hash_mismatch_refused) {
    char err[AR_ERR_LEN] = "";
    struct acc_arg a;
    pthread_t t;
    int port;
    struct ar_chan *cli = NULL;
    int rc = connect_via(&a, &t, &port, &cli, 0, NULL, P_NONE, 0, 0xcd, err);
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, AR_ERR_MISMATCH);
    CHECK_EQ_INT(a.rc, AR_ERR_MISMATCH);
    CHECK(cli == NULL && a.ch == NULL);
    CHECK(strstr(err, "model hash") != NULL);
    CHECK(strstr(a.err, "model hash") != NULL);
    ar_tcp_close_listener(a.lfd);
    /* the same through a counting proxy: nothing but the two handshake frames (HELLO with
       the public key, AUTH with the model hash) crosses in either direction */
    struct proxy px;
    rc = connect_via(&a, &t, &port, &cli, 1, &px, P_NONE, -1, 0xcd, err);
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, AR_ERR_MISMATCH);
    CHECK_EQ_INT(a.rc, AR_ERR_MISMATCH);
    proxy_stop(&px);
    uint64_t hs_bytes = 2 * AR_WIRE_HDR + 40 + AR_MODEL_HASH_BYTES + AR_WIRE_MAC;
    CHECK_EQ_INT(px.c2s_frames, 2);
    CHECK_MSG(px.c2s_bytes == hs_bytes && px.s2c_bytes == hs_bytes, "bytes client->server %llu, back %llu, want %llu",
              (unsigned long long)px.c2s_bytes, (unsigned long long)px.s2c_bytes, (unsigned long long)hs_bytes);
    ar_tcp_close_listener(a.lfd);
}

struct delayed {
    struct acc_arg *b;
    int port;
    struct timespec d;
};

/* Listens on a fixed port after a delay, then accepts (for the retry test). */
static void *delayed_listen(void *p) {
    struct delayed *dl = p;
    nanosleep(&dl->d, NULL);
    char err[AR_ERR_LEN];
    int got;
    if (ar_tcp_listen(NULL, dl->port, &dl->b->lfd, &got, err)) {
        dl->b->rc = AR_ERR_NET;
        snprintf(dl->b->err, sizeof dl->b->err, "%s", err);
        return NULL;
    }
    acc_thread(dl->b);
    return NULL;
}

AR_TEST(net_tcp_role_mismatch_and_connect_retry) {
    char err[AR_ERR_LEN] = "";
    struct ar_tcp_opts o;
    ar_tcp_opts_default(&o);
    o.timeout_ms = 1000;
    o.connect_timeout_ms = 3000;
    /* the dealer expects P0 but P1 connects */
    struct acc_arg a = {0};
    a.o = o;
    hs_init(&a.hs, AR_ROLE_DEALER, AR_ROLE_P0, 1);
    int port;
    REQUIRE_OK(ar_tcp_listen(NULL, 0, &a.lfd, &port, err), err);
    pthread_t t;
    pthread_create(&t, NULL, acc_thread, &a);
    struct ar_handshake hs;
    hs_init(&hs, AR_ROLE_P1, AR_ROLE_DEALER, 1);
    struct ar_chan *c = NULL;
    int rc = ar_tcp_connect(NULL, port, &hs, &o, &c, err);
    pthread_join(t, NULL);
    CHECK(rc != AR_OK && c == NULL);
    CHECK_EQ_INT(a.rc, AR_ERR_MISMATCH);
    CHECK(strstr(a.err, "expected role P0") != NULL);
    ar_tcp_close_listener(a.lfd);
    /* connect before anyone listens: retried until the listener appears */
    int lfd, p2;
    REQUIRE_OK(ar_tcp_listen(NULL, 0, &lfd, &p2, err), err);
    ar_tcp_close_listener(lfd); /* p2 is now (very likely) free */
    struct acc_arg b = {0};
    b.o = o;
    hs_init(&b.hs, AR_ROLE_P0, AR_ROLE_P1, 1);
    hs_init(&hs, AR_ROLE_P1, AR_ROLE_P0, 1);
    struct delayed dl = {&b, p2, {0, 300 * 1000000L}};
    double t0 = now_ms();
    pthread_t tl;
    pthread_create(&tl, NULL, delayed_listen, &dl);
    struct ar_chan *cc = NULL;
    char cerr[AR_ERR_LEN] = "";
    int crc = ar_tcp_connect(NULL, p2, &hs, &o, &cc, cerr);
    pthread_join(tl, NULL);
    CHECK_MSG(crc == AR_OK, "%s", cerr);
    CHECK_MSG(b.rc == AR_OK, "%s", b.err);
    CHECK(now_ms() - t0 >= 250);
    ar_chan_close(cc);
    ar_chan_close(b.ch);
    ar_tcp_close_listener(b.lfd);
}

struct attack {
    enum pmode mode;
    int frame;
    int want_rc;
    const char *want_msg;
    int two_msgs; /* 1: a good message first; 2: two messages sent, the first one received fails */
};

static void run_attack(const struct attack *at) {
    char err[AR_ERR_LEN] = "";
    struct acc_arg a;
    pthread_t t;
    int port;
    struct proxy px;
    struct ar_chan *cli = NULL;
    int rc = connect_via(&a, &t, &port, &cli, 1, &px, at->mode, at->frame, 0xab, err);
    pthread_join(t, NULL);
    if (at->mode == P_VERSION) {
        CHECK_EQ_INT(a.rc, AR_ERR_MISMATCH);
        CHECK_MSG(strstr(a.err, at->want_msg) != NULL, "got: %s", a.err);
        CHECK(rc != AR_OK);
        goto done;
    }
    REQUIRE_OK(rc, err);
    REQUIRE_OK(a.rc, a.err);
    uint8_t msg[100], msg2[100], got[100];
    for (int i = 0; i < 100; i++) {
        msg[i] = (uint8_t)i;
        msg2[i] = (uint8_t)(0xff - i);
    }
    REQUIRE_OK(ar_chan_send(cli, AR_MSG_TEST, msg, sizeof msg, err), err);
    if (at->two_msgs) REQUIRE_OK(ar_chan_send(cli, AR_MSG_TEST, msg2, sizeof msg2, err), err);
    if (at->two_msgs == 1) REQUIRE_OK(ar_chan_recv(a.ch, AR_MSG_TEST, got, sizeof got, a.err), a.err);
    if (at->mode == P_CAPTURE) {
        /* the control case: everything arrives intact */
        REQUIRE_OK(ar_chan_recv(a.ch, AR_MSG_TEST, got, sizeof got, a.err), a.err);
        CHECK(memcmp(got, msg, sizeof got) == 0);
        CHECK(captured_len > AR_WIRE_HDR);
        goto done;
    }
    double t0 = now_ms();
    rc = ar_chan_recv(a.ch, AR_MSG_TEST, got, sizeof got, a.err);
    double ms = now_ms() - t0;
    CHECK_MSG(rc == at->want_rc, "mode %d: rc %d (%s), want %d", at->mode, rc, a.err, at->want_rc);
    CHECK_MSG(strstr(a.err, at->want_msg) != NULL, "mode %d: got '%s', want '%s'", at->mode, a.err, at->want_msg);
    CHECK_MSG(ms < 1500 + 1000, "mode %d took %.0f ms", at->mode, ms);
done:
    ar_chan_close(cli);
    ar_chan_close(a.ch);
    proxy_stop(&px);
    ar_tcp_close_listener(a.lfd);
}

/* Client->server frames: 0 = HELLO, 1 = AUTH, 2 = first data frame. */
AR_TEST(net_tcp_rejects_corrupted_frames) {
    force_chacha = 1; /* the flip / replay cases under both ciphers */
    run_attack(&(struct attack){P_FLIP, 2, AR_ERR_PROTO, "failed authentication", 0});
    run_attack(&(struct attack){P_REPLAY_FIXSEQ, 3, AR_ERR_PROTO, "failed authentication", 1});
    force_chacha = 0;
    static const struct attack attacks[] = {
        {P_MAGIC, 2, AR_ERR_PROTO, "bad frame magic", 0},
        {P_TYPE, 2, AR_ERR_PROTO, "frame type", 0},
        {P_LEN, 2, AR_ERR_PROTO, "frame length", 0},
        {P_SEQ, 2, AR_ERR_PROTO, "frame seq", 0},
        {P_FLIP, 2, AR_ERR_PROTO, "failed authentication", 0},
        {P_REPLAY, 3, AR_ERR_PROTO, "frame seq", 1},
        {P_REPLAY_FIXSEQ, 3, AR_ERR_PROTO, "failed authentication", 1},
        {P_CUT, 2, AR_ERR_NET, "closed", 0},
        {P_STALL, 2, AR_ERR_TIMEOUT, "no data for 1500 ms", 0},
        {P_VERSION, 0, AR_ERR_MISMATCH, "protocol version", 0},
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) run_attack(&attacks[i]);
}

/* Reordering and replay across sessions: two frames delivered in the opposite order
 * are refused by their seq, and still by authentication when a proxy rewrites the
 * seq fields to look in order (the nonce is the frame counter and the header is
 * authenticated); a valid frame recorded from an earlier session and injected at
 * the same position (same seq, same length) of a new one fails authentication,
 * because each session has fresh keys. */
AR_TEST(net_tcp_rejects_reordered_and_cross_session_frames) {
    for (int chacha = 0; chacha < 2; chacha++) {
        force_chacha = chacha;
        run_attack(&(struct attack){P_SWAP, 2, AR_ERR_PROTO, "frame seq", 2});
        run_attack(&(struct attack){P_SWAP_FIXSEQ, 2, AR_ERR_PROTO, "failed authentication", 2});
        captured_len = 0;
        run_attack(&(struct attack){P_CAPTURE, 2, AR_OK, "", 0});
        run_attack(&(struct attack){P_XSESSION, 2, AR_ERR_PROTO, "failed authentication", 0});
    }
    force_chacha = 0;
}

/* A forked peer starts a 64 MB exchange and is killed: the survivor fails fast. */
AR_TEST(net_tcp_killed_peer_fails_within_timeout) {
    char err[AR_ERR_LEN] = "";
    struct ar_tcp_opts o;
    ar_tcp_opts_default(&o);
    o.timeout_ms = 2000;
    int lfd, port;
    REQUIRE_OK(ar_tcp_listen(NULL, 0, &lfd, &port, err), err);
    size_t n = (size_t)64 << 20;
    fflush(stdout);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct ar_handshake hs;
        hs_init(&hs, AR_ROLE_P1, AR_ROLE_P0, 3);
        struct ar_chan *c;
        if (ar_tcp_connect(NULL, port, &hs, &o, &c, err)) _exit(1);
        uint8_t *s = calloc(1, n), *r = calloc(1, n);
        int rc = ar_chan_exchange(c, AR_MSG_ACT, s, n, r, n, err);
        _exit(rc ? 2 : 0);
    }
    struct acc_arg a = {0};
    a.lfd = lfd;
    a.o = o;
    hs_init(&a.hs, AR_ROLE_P0, AR_ROLE_P1, 3);
    acc_thread(&a);
    REQUIRE_OK(a.rc, a.err);
    /* kill the child shortly after the exchange starts */
    uint8_t *s = calloc(1, n), *r = calloc(1, n);
    struct big_arg x = {a.ch, s, r, n, 0, ""};
    pthread_t tx;
    double t0 = now_ms();
    pthread_create(&tx, NULL, big_thread, &x);
    struct timespec d = {0, 30 * 1000000L};
    nanosleep(&d, NULL);
    kill(pid, SIGKILL);
    pthread_join(tx, NULL);
    double ms = now_ms() - t0;
    int st;
    waitpid(pid, &st, 0);
    CHECK_MSG(x.rc == AR_ERR_NET || x.rc == AR_ERR_TIMEOUT, "rc %d: %s", x.rc, x.err);
    CHECK_MSG(ms < 2000 + 1000, "took %.0f ms", ms);
    printf("    survivor: %s after %.0f ms\n", x.err, ms);
    free(s);
    free(r);
    ar_chan_close(a.ch);
    ar_tcp_close_listener(lfd);
}

AR_TEST(net_tcp_parse_addr) {
    char host[64], err[AR_ERR_LEN];
    int port;
    REQUIRE_OK(ar_tcp_parse_addr("10.0.0.2:4000", host, sizeof host, &port, err), err);
    CHECK(strcmp(host, "10.0.0.2") == 0 && port == 4000);
    REQUIRE_OK(ar_tcp_parse_addr("5000", host, sizeof host, &port, err), err);
    CHECK(strcmp(host, "127.0.0.1") == 0 && port == 5000);
    REQUIRE_OK(ar_tcp_parse_addr(":6000", host, sizeof host, &port, err), err);
    CHECK(strcmp(host, "127.0.0.1") == 0 && port == 6000);
    CHECK_EQ_INT(ar_tcp_parse_addr("host:99999", host, sizeof host, &port, err), AR_ERR_ARG);
    CHECK_EQ_INT(ar_tcp_parse_addr("host:", host, sizeof host, &port, err), AR_ERR_ARG);
}
