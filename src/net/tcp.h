/* TCP transport: listen / connect (with retry and backoff) / accept, and a
 * channel (net/chan.h) over a connected socket with the framing of net/wire.h.
 *
 * Handshake, run by ar_tcp_connect and ar_tcp_accept before they return a channel:
 *   1. both send HELLO {u32 protocol version, u16 role, u16 flags, X25519 public key}
 *      in clear and check version, roles and the encryption setting (AR_ERR_MISMATCH);
 *   2. both derive per-direction keys with crypto_kx (the connecting side is the
 *      kx client); every later frame is AEAD-encrypted: AES-256-GCM when both CPUs
 *      have AES-NI (and neither forces otherwise), else ChaCha20-Poly1305;
 *   3. both send AUTH {32-byte model hash} encrypted and compare: a different hash
 *      is AR_ERR_MISMATCH, so no secret is ever sent to a peer with another model.
 * The key exchange is unauthenticated: it protects the P0<->P1 traffic from the
 * dealer and other passive observers, not from an active man in the middle
 * (semi-honest model, docs/protocols.md).
 *
 * Sockets are non-blocking with TCP_NODELAY and large buffers; every operation is
 * driven by poll() and fails with AR_ERR_TIMEOUT when no byte moves for
 * timeout_ms, and with AR_ERR_NET when the peer closes or resets. A full-duplex
 * exchange interleaves sending and receiving in one poll loop, so it cannot
 * deadlock whatever the message sizes. */
#ifndef AR_NET_TCP_H
#define AR_NET_TCP_H

#include <stdint.h>

#include "core/status.h"
#include "net/chan.h"

#define AR_PROTO_VERSION 1u
#define AR_MODEL_HASH_BYTES 32
#define AR_DEFAULT_HOST "127.0.0.1"

struct ar_tcp_opts {
    int timeout_ms;         /* inactivity timeout per operation (default 30000; <= 0: none) */
    int connect_timeout_ms; /* how long connect retries / accept waits (default 10000) */
    int sockbuf;            /* SO_SNDBUF and SO_RCVBUF in bytes (default 4 MiB) */
    int plaintext;          /* 1: no encryption (loopback benchmarks only; both ends must agree) */
    int force_chacha;       /* 1: never negotiate AES-256-GCM */
};

/* Cipher of an established TCP channel: "aes256gcm", "chacha20poly1305", "none",
 * or NULL for a channel that is not TCP. */
const char *ar_tcp_cipher(const struct ar_chan *c);

void ar_tcp_opts_default(struct ar_tcp_opts *o);

struct ar_handshake {
    int my_role;   /* enum ar_role */
    int peer_role; /* expected peer role, or AR_ROLE_ANY */
    uint8_t model_hash[AR_MODEL_HASH_BYTES];
};

/* Split "host:port" (or ":port", or "port") into host (default 127.0.0.1) and port. */
AR_NODISCARD int ar_tcp_parse_addr(const char *spec, char *host, size_t host_len, int *port, char *err);

/* Listen on host:port (port 0 picks a free port, returned in *bound_port). */
AR_NODISCARD int ar_tcp_listen(const char *host, int port, int *lfd, int *bound_port, char *err);
void ar_tcp_close_listener(int lfd);

/* Accept one connection (waiting at most connect_timeout_ms), run the handshake
 * and return the channel; *peer_role receives the role the peer announced. */
AR_NODISCARD int ar_tcp_accept(int lfd, const struct ar_handshake *hs, const struct ar_tcp_opts *o,
                               struct ar_chan **out, int *peer_role, char *err);

/* Connect to host:port, retrying with exponential backoff for connect_timeout_ms,
 * then run the handshake and return the channel. */
AR_NODISCARD int ar_tcp_connect(const char *host, int port, const struct ar_handshake *hs,
                                const struct ar_tcp_opts *o, struct ar_chan **out, char *err);

/* Run the handshake on an already connected stream socket `fd` (a socketpair in
 * tests and fuzzing, or a socket passed by a supervisor) and return the channel,
 * which owns fd from then on (also on failure: fd is closed). is_client picks the
 * key-exchange side (the two ends must differ); `where` names the peer in messages. */
AR_NODISCARD int ar_tcp_handshake_fd(int fd, const struct ar_handshake *hs, const struct ar_tcp_opts *o,
                                     int is_client, const char *where, struct ar_chan **out, int *peer_role,
                                     char *err);

#endif
