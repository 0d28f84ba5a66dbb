/* TCP transport (tcp.h): socket set-up, the handshake, and a channel whose send,
 * receive and full-duplex exchange run one poll()-driven state machine over a
 * non-blocking socket.
 *
 * Invariants: frames are produced and consumed strictly in order in each
 * direction (tx_seq / rx_seq, and the AEAD nonce counters tx_ctr / rx_ctr, advance
 * by one per frame); a frame is decrypted in place in the caller's buffer only
 * after its whole body and MAC arrived; nothing but the 24-byte header and the
 * current frame's body is ever buffered, so memory stays at one frame
 * (AR_FRAME_MAX) per direction whatever the message size. */
#include "net/tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/assert.h"
#include "mpc/prg.h"
#include "net/wire.h"

struct tx_state {
    const uint8_t *buf;
    size_t len, off;   /* payload bytes framed so far */
    uint16_t type;
    size_t fill, pos;  /* bytes of the current frame in txbuf, and written so far */
    int framed_all;    /* the last frame has been built */
    int active;
};

struct rx_state {
    uint8_t *buf;
    size_t len, off;   /* payload bytes completed so far */
    uint16_t type;
    uint8_t hdr[AR_WIRE_HDR];
    size_t hdr_got;
    int in_body;
    size_t chunk, body_got; /* payload bytes of the current frame, received so far */
    uint8_t mac[AR_WIRE_MAC];
    size_t mac_got;
    int active;
};

struct tcp_chan {
    struct ar_chan base;
    int fd;
    int enc;
    int aes; /* AES-256-GCM instead of ChaCha20-Poly1305 */
    uint8_t tx_key[32], rx_key[32];
    uint64_t tx_ctr, rx_ctr;
    uint32_t tx_seq, rx_seq;
    uint8_t *txbuf; /* AR_WIRE_HDR + AR_FRAME_MAX + AR_WIRE_MAC */
};

void ar_tcp_opts_default(struct ar_tcp_opts *o) {
    o->timeout_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->sockbuf = 4 << 20;
    o->plaintext = 0;
    o->force_chacha = 0;
}

/* ---- frame state machine ----------------------------------------------------- */

static void nonce_of(uint8_t n[12], uint64_t ctr) {
    memset(n, 0, 12);
    for (int i = 0; i < 8; i++) n[4 + i] = (uint8_t)(ctr >> (8 * i));
}

static size_t chunk_at(size_t len, size_t off) { return len - off < AR_FRAME_MAX ? len - off : AR_FRAME_MAX; }

static int io_error(struct tcp_chan *t, int e, const char *what, uint16_t type, char *err) {
    if (e == EPIPE || e == ECONNRESET || e == ENOTCONN)
        return ar_errf(err, AR_ERR_NET, "%s: connection closed by peer while %s (%s message)", t->base.name, what,
                       ar_msg_name(type));
    return ar_errf(err, AR_ERR_NET, "%s: %s (%s message): %s", t->base.name, what, ar_msg_name(type), strerror(e));
}

/* Write as much as the socket takes. Returns AR_OK (possibly with work left). */
static int tx_step(struct tcp_chan *t, struct tx_state *s, char *err) {
    while (s->active) {
        if (s->pos == s->fill) {
            if (s->framed_all) {
                s->active = 0;
                break;
            }
            size_t chunk = chunk_at(s->len, s->off);
            int last = s->off + chunk == s->len;
            struct ar_wire_hdr h = {AR_WIRE_MAGIC, s->type,
                                    (uint16_t)((last ? AR_WIRE_FLAG_LAST : 0) | (t->enc ? AR_WIRE_FLAG_ENC : 0)),
                                    t->tx_seq, chunk + (t->enc ? AR_WIRE_MAC : 0)};
            ar_wire_encode(t->txbuf, &h);
            if (t->enc) {
                uint8_t nonce[12];
                nonce_of(nonce, t->tx_ctr);
                if (t->aes)
                    crypto_aead_aes256gcm_encrypt_detached(t->txbuf + AR_WIRE_HDR, t->txbuf + AR_WIRE_HDR + chunk,
                                                           NULL, s->buf + s->off, chunk, t->txbuf, AR_WIRE_HDR,
                                                           NULL, nonce, t->tx_key);
                else
                    crypto_aead_chacha20poly1305_ietf_encrypt_detached(t->txbuf + AR_WIRE_HDR,
                                                                       t->txbuf + AR_WIRE_HDR + chunk, NULL,
                                                                       s->buf + s->off, chunk, t->txbuf,
                                                                       AR_WIRE_HDR, NULL, nonce, t->tx_key);
                t->tx_ctr++;
            } else if (chunk) {
                memcpy(t->txbuf + AR_WIRE_HDR, s->buf + s->off, chunk);
            }
            t->tx_seq++;
            s->fill = AR_WIRE_HDR + (size_t)h.len;
            s->pos = 0;
            s->off += chunk;
            s->framed_all = last;
        }
        ssize_t n = send(t->fd, t->txbuf + s->pos, s->fill - s->pos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return AR_OK;
            return io_error(t, errno, "sending", s->type, err);
        }
        s->pos += (size_t)n;
        t->base.st.wire_sent += (uint64_t)n;
    }
    return AR_OK;
}

/* Read into `dst` up to `want` bytes; *got gets the count (0 means EAGAIN). */
static int rx_read(struct tcp_chan *t, struct rx_state *s, uint8_t *dst, size_t want, size_t *got, char *err) {
    *got = 0;
    for (;;) {
        ssize_t n = recv(t->fd, dst, want, 0);
        if (n > 0) {
            *got = (size_t)n;
            t->base.st.wire_recv += (uint64_t)n;
            return AR_OK;
        }
        if (n == 0)
            return ar_errf(err, AR_ERR_NET, "%s: peer closed the connection (%s message, %zu of %zu bytes received)",
                           t->base.name, ar_msg_name(s->type), s->off + s->body_got, s->len);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return AR_OK;
        return io_error(t, errno, "receiving", s->type, err);
    }
}

static int rx_step(struct tcp_chan *t, struct rx_state *s, char *err) {
    int rc;
    size_t got;
    while (s->active) {
        if (!s->in_body) {
            rc = rx_read(t, s, s->hdr + s->hdr_got, AR_WIRE_HDR - s->hdr_got, &got, err);
            if (rc || !got) return rc;
            s->hdr_got += got;
            if (s->hdr_got < AR_WIRE_HDR) continue;
            struct ar_wire_hdr h;
            ar_wire_decode(&h, s->hdr);
            size_t chunk = chunk_at(s->len, s->off);
            int last = s->off + chunk == s->len;
            uint16_t flags = (uint16_t)((last ? AR_WIRE_FLAG_LAST : 0) | (t->enc ? AR_WIRE_FLAG_ENC : 0));
            rc = ar_wire_check(&h, s->type, t->rx_seq, chunk + (t->enc ? AR_WIRE_MAC : 0), flags, t->base.name, err);
            if (rc) return rc;
            s->in_body = 1;
            s->chunk = chunk;
            s->body_got = 0;
            s->mac_got = 0;
        }
        if (s->body_got < s->chunk) {
            rc = rx_read(t, s, s->buf + s->off + s->body_got, s->chunk - s->body_got, &got, err);
            if (rc || !got) return rc;
            s->body_got += got;
            continue;
        }
        if (t->enc && s->mac_got < AR_WIRE_MAC) {
            rc = rx_read(t, s, s->mac + s->mac_got, AR_WIRE_MAC - s->mac_got, &got, err);
            if (rc || !got) return rc;
            s->mac_got += got;
            continue;
        }
        /* whole frame here */
        if (t->enc) {
            uint8_t nonce[12];
            nonce_of(nonce, t->rx_ctr);
            int bad = t->aes ? crypto_aead_aes256gcm_decrypt_detached(s->buf + s->off, NULL, s->buf + s->off,
                                                                      s->chunk, s->mac, s->hdr, AR_WIRE_HDR,
                                                                      nonce, t->rx_key)
                             : crypto_aead_chacha20poly1305_ietf_decrypt_detached(s->buf + s->off, NULL,
                                                                                  s->buf + s->off, s->chunk, s->mac,
                                                                                  s->hdr, AR_WIRE_HDR, nonce,
                                                                                  t->rx_key);
            if (bad)
                return ar_errf(err, AR_ERR_PROTO,
                               "%s: frame seq %u failed authentication (tampered, replayed or forged)",
                               t->base.name, t->rx_seq);
            t->rx_ctr++;
        }
        t->rx_seq++;
        int was_last = s->off + s->chunk == s->len;
        s->off += s->chunk;
        s->in_body = 0;
        s->hdr_got = 0;
        if (was_last) s->active = 0;
    }
    return AR_OK;
}

static int run_io(struct tcp_chan *t, struct tx_state *tx, struct rx_state *rx, char *err) {
    int rc;
    /* try right away: small messages usually go out without polling */
    if (tx && (rc = tx_step(t, tx, err))) return rc;
    while ((tx && tx->active) || (rx && rx->active)) {
        struct pollfd p = {t->fd, 0, 0};
        if (tx && tx->active) p.events |= POLLOUT;
        if (rx && rx->active) p.events |= POLLIN;
        int n = poll(&p, 1, t->base.timeout_ms > 0 ? t->base.timeout_ms : -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return ar_errf(err, AR_ERR_NET, "%s: poll: %s", t->base.name, strerror(errno));
        }
        if (n == 0) {
            if (rx && rx->active)
                return ar_errf(err, AR_ERR_TIMEOUT, "%s: no data for %d ms (receiving a %s message, %zu of %zu bytes)",
                               t->base.name, t->base.timeout_ms, ar_msg_name(rx->type), rx->off, rx->len);
            return ar_errf(err, AR_ERR_TIMEOUT, "%s: peer not reading for %d ms (sending a %s message, %zu of %zu bytes)",
                           t->base.name, t->base.timeout_ms, ar_msg_name(tx->type), tx->off, tx->len);
        }
        short bad = (short)(p.revents & (POLLERR | POLLHUP | POLLNVAL));
        if (p.revents & POLLNVAL) return ar_errf(err, AR_ERR_NET, "%s: socket is not open", t->base.name);
        if (rx && rx->active && (p.revents & (POLLIN | bad)))
            if ((rc = rx_step(t, rx, err))) return rc;
        if (tx && tx->active && (p.revents & (POLLOUT | bad)))
            if ((rc = tx_step(t, tx, err))) return rc;
    }
    return AR_OK;
}

/* Stand-in for the NULL buffer an empty message may come with: s->buf + s->off must
 * stay defined (pointer arithmetic on NULL is undefined even with offset 0). Never
 * read or written (the length is 0). */
static uint8_t no_payload[1];

static void tx_init(struct tx_state *s, uint16_t type, const void *buf, size_t len) {
    memset(s, 0, sizeof *s);
    s->buf = buf ? buf : no_payload;
    s->len = len;
    s->type = type;
    s->active = 1;
}

static void rx_init(struct rx_state *s, uint16_t type, void *buf, size_t len) {
    memset(s, 0, sizeof *s);
    s->buf = buf ? buf : no_payload;
    s->len = len;
    s->type = type;
    s->active = 1;
}

static int tcp_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    struct tcp_chan *t = (struct tcp_chan *)c;
    struct tx_state tx;
    tx_init(&tx, type, buf, len);
    return run_io(t, &tx, NULL, err);
}

static int tcp_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    struct tcp_chan *t = (struct tcp_chan *)c;
    struct rx_state rx;
    rx_init(&rx, type, buf, len);
    return run_io(t, NULL, &rx, err);
}

static int tcp_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                        char *err) {
    struct tcp_chan *t = (struct tcp_chan *)c;
    struct tx_state tx;
    struct rx_state rx;
    tx_init(&tx, type, sbuf, slen);
    rx_init(&rx, type, rbuf, rlen);
    return run_io(t, &tx, &rx, err);
}

static void tcp_shutdown(struct ar_chan *c) {
    struct tcp_chan *t = (struct tcp_chan *)c;
    if (t->fd >= 0) shutdown(t->fd, SHUT_RDWR);
}

static void tcp_destroy(struct ar_chan *c) {
    struct tcp_chan *t = (struct tcp_chan *)c;
    if (t->fd >= 0) close(t->fd);
    if (t->txbuf) {
        sodium_memzero(t->txbuf, AR_WIRE_HDR + AR_FRAME_MAX + AR_WIRE_MAC);
        free(t->txbuf);
    }
    sodium_memzero(t, sizeof *t);
    free(t);
}

static const struct ar_chan_ops tcp_ops = {tcp_send, tcp_recv, tcp_exchange, tcp_shutdown, tcp_destroy};

const char *ar_tcp_cipher(const struct ar_chan *c) {
    if (!c || c->ops != &tcp_ops) return NULL;
    const struct tcp_chan *t = (const struct tcp_chan *)c;
    return !t->enc ? "none" : t->aes ? "aes256gcm" : "chacha20poly1305";
}

/* ---- sockets --------------------------------------------------------------------- */

int ar_tcp_parse_addr(const char *spec, char *host, size_t host_len, int *port, char *err) {
    const char *colon = strrchr(spec, ':');
    const char *ps = colon ? colon + 1 : spec;
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    char *end = NULL;
    long p = strtol(ps, &end, 10);
    if (!*ps || *end || p < 0 || p > 65535)
        return ar_errf(err, AR_ERR_ARG, "bad address '%s' (want host:port)", spec);
    if (hl == 0) snprintf(host, host_len, "%s", AR_DEFAULT_HOST);
    else if (hl >= host_len) return ar_errf(err, AR_ERR_ARG, "host name too long in '%s'", spec);
    else {
        memcpy(host, spec, hl);
        host[hl] = 0;
    }
    *port = (int)p;
    return AR_OK;
}

static int resolve(const char *host, int port, int passive, struct addrinfo **res, char *err) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host ? host : AR_DEFAULT_HOST, ps, &hints, res);
    if (g) return ar_errf(err, AR_ERR_NET, "resolve %s:%d: %s", host ? host : AR_DEFAULT_HOST, port, gai_strerror(g));
    return AR_OK;
}

int ar_tcp_listen(const char *host, int port, int *lfd, int *bound_port, char *err) {
    struct addrinfo *res = NULL;
    int rc = resolve(host, port, 1, &res, err);
    if (rc) return rc;
    int fd = -1, last = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 16) == 0) break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return ar_errf(err, AR_ERR_NET, "listen on %s:%d: %s", host ? host : AR_DEFAULT_HOST, port, strerror(last));
    if (bound_port) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    *lfd = fd;
    return AR_OK;
}

void ar_tcp_close_listener(int lfd) {
    if (lfd >= 0) close(lfd);
}

static void tune_socket(int fd, const struct ar_tcp_opts *o) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o->sockbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o->sockbuf, sizeof o->sockbuf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o->sockbuf, sizeof o->sockbuf);
    }
    int fl = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- handshake ------------------------------------------------------------------- */

#define HELLO_LEN 40

static int handshake(struct tcp_chan *t, const struct ar_handshake *hs, const struct ar_tcp_opts *o, int is_client,
                     int *peer_role_out, const char *where, char *err) {
    int rc;
    uint8_t pk[crypto_kx_PUBLICKEYBYTES], sk[crypto_kx_SECRETKEYBYTES];
    crypto_kx_keypair(pk, sk);
    uint8_t hello[HELLO_LEN], peer[HELLO_LEN];
    uint32_t ver = AR_PROTO_VERSION;
    /* flags: bit 0 plaintext, bit 1 "can do AES-256-GCM" */
    int can_aes = !o->plaintext && !o->force_chacha && crypto_aead_aes256gcm_is_available();
    uint16_t role = (uint16_t)hs->my_role, flags = (uint16_t)((o->plaintext ? 1 : 0) | (can_aes ? 2 : 0));
    for (int i = 0; i < 4; i++) hello[i] = (uint8_t)(ver >> (8 * i));
    hello[4] = (uint8_t)role;
    hello[5] = (uint8_t)(role >> 8);
    hello[6] = (uint8_t)flags;
    hello[7] = (uint8_t)(flags >> 8);
    memcpy(hello + 8, pk, sizeof pk);
    snprintf(t->base.name, sizeof t->base.name, "peer at %s", where);
    rc = ar_chan_exchange(&t->base, AR_MSG_HELLO, hello, HELLO_LEN, peer, HELLO_LEN, err);
    if (rc) goto done;
    uint32_t pver = (uint32_t)peer[0] | (uint32_t)peer[1] << 8 | (uint32_t)peer[2] << 16 | (uint32_t)peer[3] << 24;
    int prole = peer[4] | peer[5] << 8, pflags = peer[6] | peer[7] << 8;
    snprintf(t->base.name, sizeof t->base.name, "%s at %s", ar_role_name(prole), where);
    if (pver != AR_PROTO_VERSION) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s speaks protocol version %u, we speak %u", t->base.name, pver,
                     AR_PROTO_VERSION);
        goto done;
    }
    if ((hs->peer_role != AR_ROLE_ANY && prole != hs->peer_role) || prole == hs->my_role ||
        prole > AR_ROLE_DEALER) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: expected role %s, peer announced %s", where,
                     ar_role_name(hs->peer_role), ar_role_name(prole));
        goto done;
    }
    if ((pflags & 1) != (flags & 1)) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: encryption setting differs (peer plaintext=%d, ours=%d)",
                     t->base.name, pflags & 1, flags & 1);
        goto done;
    }
    t->aes = (pflags & 2) && can_aes;
    if (!o->plaintext) {
        int k = is_client ? crypto_kx_client_session_keys(t->rx_key, t->tx_key, pk, sk, peer + 8)
                          : crypto_kx_server_session_keys(t->rx_key, t->tx_key, pk, sk, peer + 8);
        if (k != 0) {
            rc = ar_errf(err, AR_ERR_PROTO, "%s: invalid key-exchange public key", t->base.name);
            goto done;
        }
        t->enc = 1;
    }
    uint8_t auth[AR_MODEL_HASH_BYTES], pauth[AR_MODEL_HASH_BYTES];
    memcpy(auth, hs->model_hash, sizeof auth);
    rc = ar_chan_exchange(&t->base, AR_MSG_AUTH, auth, sizeof auth, pauth, sizeof pauth, err);
    if (rc) goto done;
    if (sodium_memcmp(auth, pauth, sizeof auth) != 0) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s has a different model hash (different model or configuration)",
                     t->base.name);
        goto done;
    }
    if (peer_role_out) *peer_role_out = prole;
    /* handshake traffic is not protocol traffic */
    memset(&t->base.st, 0, sizeof t->base.st);
done:
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static int make_chan(int fd, const struct ar_tcp_opts *o, struct tcp_chan **out, char *err) {
    struct tcp_chan *t = calloc(1, sizeof *t);
    uint8_t *buf = malloc(AR_WIRE_HDR + AR_FRAME_MAX + AR_WIRE_MAC);
    if (!t || !buf) {
        free(t);
        free(buf);
        close(fd);
        return ar_errf(err, AR_ERR_NOMEM, "tcp: out of memory");
    }
    t->base.ops = &tcp_ops;
    t->base.timeout_ms = o->timeout_ms;
    t->fd = fd;
    t->txbuf = buf;
    tune_socket(fd, o);
    *out = t;
    return AR_OK;
}

static void peer_string(int fd, char *out, size_t n) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[64], s[16];
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(out, n, "%s:%s", h, s);
    else
        snprintf(out, n, "?");
}

int ar_tcp_handshake_fd(int fd, const struct ar_handshake *hs, const struct ar_tcp_opts *o, int is_client,
                        const char *where, struct ar_chan **out, int *peer_role, char *err) {
    if (ar_crypto_init() != 0) {
        close(fd);
        return ar_errf(err, AR_ERR_BACKEND, "libsodium initialisation failed");
    }
    struct tcp_chan *t;
    int rc = make_chan(fd, o, &t, err);
    if (rc) return rc;
    rc = handshake(t, hs, o, is_client, peer_role, where ? where : "fd", err);
    if (rc) {
        tcp_destroy(&t->base);
        return rc;
    }
    *out = &t->base;
    return AR_OK;
}

int ar_tcp_accept(int lfd, const struct ar_handshake *hs, const struct ar_tcp_opts *o, struct ar_chan **out,
                  int *peer_role, char *err) {
    if (ar_crypto_init() != 0) return ar_errf(err, AR_ERR_BACKEND, "libsodium initialisation failed");
    struct pollfd p = {lfd, POLLIN, 0};
    int n;
    do {
        n = poll(&p, 1, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : -1);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return ar_errf(err, AR_ERR_TIMEOUT, "no %s connected within %d ms", ar_role_name(hs->peer_role),
                       o->connect_timeout_ms);
    if (n < 0) return ar_errf(err, AR_ERR_NET, "accept: poll: %s", strerror(errno));
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return ar_errf(err, AR_ERR_NET, "accept: %s", strerror(errno));
    struct tcp_chan *t;
    int rc = make_chan(fd, o, &t, err);
    if (rc) return rc;
    char where[96];
    peer_string(fd, where, sizeof where);
    rc = handshake(t, hs, o, 0, peer_role, where, err);
    if (rc) {
        tcp_destroy(&t->base);
        return rc;
    }
    *out = &t->base;
    return AR_OK;
}

int ar_tcp_connect(const char *host, int port, const struct ar_handshake *hs, const struct ar_tcp_opts *o,
                   struct ar_chan **out, char *err) {
    if (ar_crypto_init() != 0) return ar_errf(err, AR_ERR_BACKEND, "libsodium initialisation failed");
    if (!host) host = AR_DEFAULT_HOST;
    struct addrinfo *res = NULL;
    int rc = resolve(host, port, 0, &res, err);
    if (rc) return rc;
    double deadline = now_ms() + (o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 1e12);
    int backoff = 10, fd = -1, last = ECONNREFUSED;
    while (fd < 0) {
        for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
            int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
            if (s < 0) {
                last = errno;
                continue;
            }
            int c = connect(s, a->ai_addr, a->ai_addrlen);
            if (c < 0 && errno == EINPROGRESS) {
                double left = deadline - now_ms();
                struct pollfd p = {s, POLLOUT, 0};
                int n = poll(&p, 1, left > 0 ? (int)left : 0);
                int soerr = ETIMEDOUT;
                socklen_t sl = sizeof soerr;
                if (n > 0) getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                c = soerr ? -1 : 0;
                errno = soerr;
            }
            if (c == 0) fd = s;
            else {
                last = errno;
                close(s);
            }
        }
        if (fd >= 0) break;
        double left = deadline - now_ms();
        if (left <= 0) break;
        int wait = backoff < left ? backoff : (int)left;
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return ar_errf(err, AR_ERR_NET, "could not connect to %s %s:%d within %d ms: %s", ar_role_name(hs->peer_role),
                       host, port, o->connect_timeout_ms, strerror(last));
    struct tcp_chan *t;
    rc = make_chan(fd, o, &t, err);
    if (rc) return rc;
    char where[96];
    snprintf(where, sizeof where, "%s:%d", host, port);
    rc = handshake(t, hs, o, 1, NULL, where, err);
    if (rc) {
        tcp_destroy(&t->base);
        return rc;
    }
    *out = &t->base;
    return AR_OK;
}
