/* Abstract message channel between two parties, with traffic counters.
 *
 * Protocol code talks only to `struct ar_chan`; the transport behind it is either
 * in-memory (two threads of one process, net/memchan.c) or TCP with an encrypted,
 * authenticated framing (net/tcp.c). Every message has a type (enum ar_msg_type)
 * and an exact length known to both sides from public information; the receiver
 * states the type and length it expects and gets AR_ERR_PROTO when the peer sent
 * anything else. Messages are numbered per direction, so a lost, duplicated or
 * reordered message is detected at once.
 *
 * Counters: payload bytes/messages each way (what the cost model predicts), wire
 * bytes (payload + frame headers + MACs), and the number of full-duplex exchanges
 * (one exchange = one communication round of a symmetric protocol step).
 *
 * A channel is used by one thread at a time. After any error the channel is
 * "failed": later calls return AR_ERR_NET without touching the transport. */
#ifndef AR_NET_CHAN_H
#define AR_NET_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Roles of the three processes (also sent in the TCP handshake; append-only). */
enum ar_role { AR_ROLE_P0 = 0, AR_ROLE_P1 = 1, AR_ROLE_DEALER = 2, AR_ROLE_ANY = 0xffff };

const char *ar_role_name(int role); /* "P0", "P1", "dealer" */

/* Message types (on the wire; append-only, never renumbered). */
enum ar_msg_type {
    AR_MSG_HELLO = 1,      /* handshake: version, role, key-exchange public key (plaintext) */
    AR_MSG_AUTH = 2,       /* handshake: model hash (first encrypted frame) */
    AR_MSG_SETUP = 3,      /* session setup: seeds and session id */
    AR_MSG_MODEL = 4,      /* one-time model material (masked weights F = W - B) */
    AR_MSG_CORR_TAG = 5,   /* dealer -> P0: tag of the next correlation */
    AR_MSG_CORR = 6,       /* dealer -> P0: correlation payload */
    AR_MSG_END = 7,        /* dealer -> P0: no more material; P0 <-> P1: final check */
    AR_MSG_LINEAR = 8,     /* online: masked input of a linear layer (P1 -> P0) */
    AR_MSG_ACT = 9,        /* online: a round of an activation protocol (ReLU / poly / mixed) */
    AR_MSG_REVEAL = 10,    /* online: output share P0 -> P1 */
    AR_MSG_SYNC = 11,      /* P0 <-> P1: barrier between the offline and the online phase (1 byte) */
    AR_MSG_TEST = 100,     /* tests */
};

const char *ar_msg_name(int type);

struct ar_chan_stats {
    uint64_t bytes_sent, bytes_recv; /* payload bytes */
    uint64_t wire_sent, wire_recv;   /* bytes on the wire (headers, MACs included); = payload for memchan */
    uint64_t msgs_sent, msgs_recv;   /* messages (a message may span several frames) */
    uint64_t exchanges;              /* full-duplex exchange calls */
};

struct ar_chan;

struct ar_chan_ops {
    int (*send)(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err);
    int (*recv)(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err);
    int (*exchange)(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                    char *err);
    void (*shutdown)(struct ar_chan *c); /* tell the peer we are gone; keep the memory */
    void (*destroy)(struct ar_chan *c);
};

struct ar_chan {
    const struct ar_chan_ops *ops;
    struct ar_chan_stats st;
    int timeout_ms; /* inactivity timeout of one operation; <= 0 waits forever */
    int failed;     /* sticky error flag */
    char name[64];  /* names the peer in messages, e.g. "P1" or "P1 127.0.0.1:4000" */
};

/* Send `len` bytes as one message of `type`. */
AR_NODISCARD int ar_chan_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err);
/* Receive one message of exactly `len` bytes and of `type`. */
AR_NODISCARD int ar_chan_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err);
/* Send one message and receive one, concurrently (no deadlock for any sizes). */
AR_NODISCARD int ar_chan_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf,
                                  size_t rlen, char *err);
/* Abort: the peer's pending and later operations fail at once with AR_ERR_NET, and
 * so do ours. The channel must still be closed. Accepts NULL. */
void ar_chan_shutdown(struct ar_chan *c);
/* Close and free. Accepts NULL. */
void ar_chan_close(struct ar_chan *c);

/* Two connected in-memory channels (for threads of one process). Each end is
 * closed independently with ar_chan_close; a receiver whose peer has closed gets
 * AR_ERR_NET, and one that waits longer than timeout_ms gets AR_ERR_TIMEOUT. */
AR_NODISCARD int ar_memchan_pair(struct ar_chan **a, struct ar_chan **b, const char *name_of_b_at_a,
                                 const char *name_of_a_at_b, int timeout_ms, char *err);

#endif
