/* libFuzzer target: the TCP transport's receive side — frame headers (net/wire.c),
 * the handshake (HELLO: version, role, flags, key-exchange key; AUTH: model hash)
 * and encrypted or plaintext frames with multi-frame reassembly (net/tcp.c) — over
 * a socketpair whose other end the harness controls.
 *
 * Input: u8 mode, then mode-dependent bytes.
 *   mode bit 0: the library end runs in plaintext (else encrypted)
 *   mode bit 1: the library end is the key-exchange client
 *   mode bit 2: scripted peer (else raw)
 *   mode bit 3: the library forces ChaCha20-Poly1305 (no AES-256-GCM)
 *   mode bit 4: the library expects any peer role (else the dealer)
 * Raw: the rest of the input is the byte stream the library receives.
 * Scripted: a harness thread plays a peer that reads the library's HELLO, answers
 * with its own (u8 role, u8 flags from the input), derives the session keys and
 * sends a correct AUTH, then sends frames described by the input, encrypted with the
 * real keys, so corrupted fields sit behind a valid MAC. Each description:
 *   u8 type, u8 flags, u8 seq_delta, u8 ctr_delta, u8 tamper, u24 payload length
 *   (at most 2 MiB + 64), u8 fill; the payload starts with up to 32 input bytes and
 *   is padded with `fill`. tamper bit 0 flips a MAC bit, bit 1 a header byte after
 *   encryption, bit 2 omits the MAC's length from the header, bit 3 cuts the frame
 *   in half and ends the stream.
 * After the handshake the library runs a fixed schedule (recv SETUP 48 B, exchange
 * ACT 24/24 B, recv TEST 0 B, recv LINEAR AR_FRAME_MAX + 100 B, recv REVEAL 7 B).
 * Properties: no crash/leak/UB/hang; failures are one-line messages; after a
 * failure the channel is unusable (AR_ERR_NET without touching the socket). */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>

#include "fuzz_util.h"
#include "net/chan.h"
#include "net/tcp.h"
#include "net/wire.h"

#define HELLO_LEN 40
#define MAX_PAYLOAD (2 * AR_FRAME_MAX + 64)

static uint8_t model_hash[AR_MODEL_HASH_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

/* A scripted frame, parsed from the input before the peer starts, so that the
 * library side can check what it received against what the peer sent. */
struct fdesc {
    uint8_t type, fl, tamper, fill;
    int8_t dseq, dctr;
    uint32_t len;
    const uint8_t *head; /* the payload starts with nhead input bytes, then `fill` */
    size_t nhead;
};
#define MAX_FRAMES 4096

struct peer {
    int fd;
    int lib_plain, lib_client, lib_chacha;
    uint8_t role, flags;
    struct fdesc *f;
    size_t nf;
    uint8_t *buf; /* MAX_PAYLOAD + header + MAC */
};

static uint8_t frame_byte(const struct fdesc *d, size_t j) { return j < d->nhead ? d->head[j] : d->fill; }

/* Oracle: a message of len bytes the library accepted must be the payloads of the
 * next frames the peer sent (every frame but the last of it AR_FRAME_MAX bytes). */
static void check_payload(const struct peer *pe, size_t *cursor, const uint8_t *buf, size_t len) {
    size_t off = 0;
    do {
        FZ_CHECK(*cursor < pe->nf, "accepted a frame the peer never sent");
        const struct fdesc *d = &pe->f[*cursor];
        FZ_CHECK(d->len <= len - off, "accepted frame %zu of %u bytes for %zu left", *cursor, (unsigned)d->len,
                 len - off);
        for (size_t j = 0; j < d->len; j++)
            FZ_CHECK(buf[off + j] == frame_byte(d, j), "byte %zu of frame %zu corrupted (message of %zu bytes)",
                     j, *cursor, len);
        off += d->len;
        (*cursor)++;
    } while (off < len);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One frame from the harness side: header fields as given, payload encrypted
 * with (key, ctr) when enc. Returns -1 when the stream should end. */
static int send_frame(struct peer *pe, const struct ar_wire_hdr *h, const uint8_t *payload, size_t n, int enc, int aes,
                      const uint8_t key[32], uint64_t ctr, uint8_t tamper) {
    uint8_t *b = pe->buf;
    ar_wire_encode(b, h);
    size_t body = n;
    if (enc) {
        uint8_t nonce[12] = {0};
        for (int i = 0; i < 8; i++) nonce[4 + i] = (uint8_t)(ctr >> (8 * i));
        if (aes)
            crypto_aead_aes256gcm_encrypt_detached(b + AR_WIRE_HDR, b + AR_WIRE_HDR + n, NULL, payload, n, b,
                                                   AR_WIRE_HDR, NULL, nonce, key);
        else
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(b + AR_WIRE_HDR, b + AR_WIRE_HDR + n, NULL, payload, n,
                                                               b, AR_WIRE_HDR, NULL, nonce, key);
        body += AR_WIRE_MAC;
        if (tamper & 1) b[AR_WIRE_HDR + n] ^= 0x10;
    } else if (n) {
        memcpy(b + AR_WIRE_HDR, payload, n);
    }
    if (tamper & 2) b[tamper % AR_WIRE_HDR] ^= 0x01;
    size_t total = AR_WIRE_HDR + body;
    if (tamper & 8) {
        write_all(pe->fd, b, total / 2);
        return -1;
    }
    return write_all(pe->fd, b, total);
}

static void peer_run(struct peer *pe);

static void *peer_main(void *v) {
    struct peer *pe = v;
    peer_run(pe);
    shutdown(pe->fd, SHUT_WR); /* end of stream: the library sees EOF, never waits */
    return NULL;
}

static void peer_run(struct peer *pe) {
    /* the library's HELLO: header + 40 bytes, plaintext */
    uint8_t lib_hello[AR_WIRE_HDR + HELLO_LEN];
    if (read_all(pe->fd, lib_hello, sizeof lib_hello)) return;
    const uint8_t *lib_pk = lib_hello + AR_WIRE_HDR + 8;
    uint8_t pk[crypto_kx_PUBLICKEYBYTES], sk[crypto_kx_SECRETKEYBYTES], rx[32], tx[32];
    crypto_kx_keypair(pk, sk);
    uint8_t role = pe->role, flags = pe->flags;
    if (pe->lib_plain) flags |= 1;
    uint8_t hello[HELLO_LEN] = {AR_PROTO_VERSION, 0, 0, 0, role, 0, flags, 0};
    memcpy(hello + 8, pk, sizeof pk);
    struct ar_wire_hdr h = {AR_WIRE_MAGIC, AR_MSG_HELLO, AR_WIRE_FLAG_LAST, 0, HELLO_LEN};
    if (send_frame(pe, &h, hello, HELLO_LEN, 0, 0, NULL, 0, 0)) return;
    int enc = !pe->lib_plain && !(flags & 1);
    int aes = enc && (flags & 2) && !pe->lib_chacha && crypto_aead_aes256gcm_is_available();
    if (enc) {
        int k = pe->lib_client ? crypto_kx_server_session_keys(rx, tx, pk, sk, lib_pk)
                               : crypto_kx_client_session_keys(rx, tx, pk, sk, lib_pk);
        if (k) return;
    }
    uint32_t seq = 1;
    uint64_t ctr = 0;
    uint16_t encf = enc ? AR_WIRE_FLAG_ENC : 0;
    struct ar_wire_hdr ah = {AR_WIRE_MAGIC, AR_MSG_AUTH, (uint16_t)(AR_WIRE_FLAG_LAST | encf), seq,
                             AR_MODEL_HASH_BYTES + (enc ? AR_WIRE_MAC : 0)};
    if (send_frame(pe, &ah, model_hash, AR_MODEL_HASH_BYTES, enc, aes, tx, ctr, 0)) return;
    seq++, ctr++;
    static uint8_t payload[MAX_PAYLOAD];
    for (size_t i = 0; i < pe->nf; i++) {
        const struct fdesc *d = &pe->f[i];
        memcpy(payload, d->head, d->nhead);
        memset(payload + d->nhead, d->fill, d->len - d->nhead);
        struct ar_wire_hdr fh = {AR_WIRE_MAGIC, d->type, (uint16_t)(d->fl ^ encf), seq + (uint32_t)(int32_t)d->dseq,
                                 d->len + (enc && !(d->tamper & 4) ? AR_WIRE_MAC : 0)};
        if (send_frame(pe, &fh, payload, d->len, enc, aes, tx, ctr + (uint64_t)(int64_t)d->dctr, d->tamper)) break;
        seq++, ctr++;
    }
    sodium_memzero(sk, sizeof sk);
}

static void check_err(int rc, const char *err) {
    if (rc != AR_OK) FZ_CHECK(fz_one_line(err), "message '%s'", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    struct fz_in in = {data, size, 0};
    uint8_t mode = fz_u8(&in);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) abort();
    struct ar_tcp_opts o;
    ar_tcp_opts_default(&o);
    o.timeout_ms = 10000;
    o.plaintext = mode & 1;
    o.force_chacha = (mode >> 3) & 1;
    o.sockbuf = 1 << 20;
    struct ar_handshake hs = {.my_role = AR_ROLE_P0, .peer_role = (mode >> 4) & 1 ? AR_ROLE_ANY : AR_ROLE_DEALER};
    memcpy(hs.model_hash, model_hash, sizeof model_hash);
    static struct fdesc frames[MAX_FRAMES];
    struct peer pe = {.fd = sv[1], .lib_plain = mode & 1, .lib_client = (mode >> 1) & 1,
                      .lib_chacha = (mode >> 3) & 1, .f = frames};
    pthread_t th;
    int scripted = (mode >> 2) & 1;
    if (scripted) {
        pe.role = fz_u8(&in);
        pe.flags = fz_u8(&in);
        while (fz_left(&in) >= 8 && pe.nf < MAX_FRAMES) {
            struct fdesc *d = &frames[pe.nf++];
            d->type = fz_u8(&in);
            d->fl = fz_u8(&in);
            d->dseq = (int8_t)fz_u8(&in);
            d->dctr = (int8_t)fz_u8(&in);
            d->tamper = fz_u8(&in);
            d->len = fz_u16(&in) | (uint32_t)fz_u8(&in) << 16;
            if (d->len > MAX_PAYLOAD) d->len = MAX_PAYLOAD;
            d->fill = fz_u8(&in);
            d->head = fz_take(&in, d->len < 32 ? d->len : 32, &d->nhead);
        }
        pe.buf = malloc(AR_WIRE_HDR + MAX_PAYLOAD + AR_WIRE_MAC);
        if (!pe.buf || pthread_create(&th, NULL, peer_main, &pe)) abort();
    } else {
        /* raw: the whole stream up front (it fits the socket buffer), then EOF */
        size_t n;
        const uint8_t *rest = fz_take(&in, fz_left(&in), &n);
        if (write_all(sv[1], rest, n)) abort();
        shutdown(sv[1], SHUT_WR);
    }
    char err[AR_ERR_LEN] = "";
    struct ar_chan *c = NULL;
    int peer_role = -1;
    int rc = ar_tcp_handshake_fd(sv[0], &hs, &o, (mode >> 1) & 1, "fuzz-peer", &c, &peer_role, err);
    check_err(rc, err);
    if (rc && getenv("FUZZ_VERBOSE")) fprintf(stderr, "handshake: %s\n", err);
    if (rc == AR_OK) {
        FZ_CHECK(peer_role == AR_ROLE_DEALER || (hs.peer_role == AR_ROLE_ANY && peer_role >= 0 && peer_role <= 2 &&
                                                 peer_role != AR_ROLE_P0),
                 "accepted peer role %d", peer_role);
        static uint8_t big[AR_FRAME_MAX + 100];
        uint8_t small[48], sbuf[24] = {0};
        size_t cur = 0; /* next scripted frame */
        int sc = scripted;
        rc = ar_chan_recv(c, AR_MSG_SETUP, small, 48, err);
        if (!rc && sc) check_payload(&pe, &cur, small, 48);
        if (!rc) rc = ar_chan_exchange(c, AR_MSG_ACT, sbuf, 24, small, 24, err);
        if (!rc && sc) check_payload(&pe, &cur, small, 24);
        if (!rc) rc = ar_chan_recv(c, AR_MSG_TEST, NULL, 0, err);
        if (!rc && sc) check_payload(&pe, &cur, NULL, 0);
        if (!rc) rc = ar_chan_recv(c, AR_MSG_LINEAR, big, sizeof big, err);
        if (!rc && sc) check_payload(&pe, &cur, big, sizeof big);
        if (!rc) rc = ar_chan_recv(c, AR_MSG_REVEAL, small, 7, err);
        if (!rc && sc) check_payload(&pe, &cur, small, 7);
        check_err(rc, err);
        if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "schedule: %s\n", rc ? err : "complete");
        if (rc != AR_OK) {
            int again = ar_chan_recv(c, AR_MSG_SETUP, small, 48, err);
            FZ_CHECK(again == AR_ERR_NET && c->failed, "channel usable after an error (%d)", again);
        }
        ar_chan_close(c); /* closes sv[0]: a blocked peer thread gets EPIPE */
    }
    if (scripted) {
        pthread_join(th, NULL);
        free(pe.buf);
    }
    close(sv[1]);
    return 0;
}
