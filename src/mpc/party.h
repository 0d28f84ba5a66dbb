/* Party context of the secure-inference protocols: one per process/thread in
 * the roles P0 (server, model owner), P1 (client, data owner) and D (dealer).
 *
 * The network executor creates one `struct ar_party`, connects it (in-process
 * channels: mpc/session.h; TCP: ar_party_connect_tcp), calls ar_party_setup once
 * (seeds and session id), then walks the network calling the protocol functions
 * of mpc/proto.h with the SAME sequence of calls and public arguments in all three
 * roles (the dealer passes NULL for every share buffer: it only produces
 * correlated randomness, ahead of the parties, and never waits for them), and ends
 * with ar_party_finish, which checks that every correlation was used exactly once
 * and that P0 and P1 made the same calls.
 *
 * Seeds: k0D (P0 and D), k1D (P1 and D), k01 (P0 and P1), 32 bytes each, drawn
 * with randombytes_buf (or derived from a fixed test seed in deterministic mode)
 * and exchanged over the (encrypted) links at setup; wiped by ar_party_free.
 *
 * Measurements: every protocol call adds its traffic, rounds, dealer bytes and
 * wall time to a per-(layer, op) record, read with ar_party_meas. */
#ifndef AR_MPC_PARTY_H
#define AR_MPC_PARTY_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "mpc/prg.h"
#include "net/chan.h"

/* Where correlated randomness comes from. */
enum ar_provider {
    AR_PROVIDER_DEALER = 0,         /* a separate dealer party over a channel (TCP, memory, or files:
                                       net/filechan.h for material generated offline) */
    AR_PROVIDER_INSECURE_LOCAL = 1, /* P0 plays the dealer itself: P0 learns P1's masks. Tests/debug only. */
};

/* Protocol operations, for measurement records (append-only). */
enum ar_op {
    AR_OP_SETUP = 0,  /* session setup and the one-time model material (F = W - B) */
    AR_OP_LINEAR = 1, /* conv / FC by weight-mask reuse */
    AR_OP_POLY = 2,   /* quadratic activation (all-poly site) */
    AR_OP_RELU = 3,   /* ReLU (all-ReLU site) */
    AR_OP_ACT = 4,    /* mixed ReLU / poly site */
    AR_OP_REVEAL = 5, /* output to P1 */
    AR_OP_MAXPOOL = 6,
    AR_OP_PRE = 7,    /* offline preparation of a linear layer (ar_mpc_linear_pre) */
    AR_OP_COUNT = 8
};

const char *ar_op_name(int op);

/* Measured cost of the calls of one (layer, op). Online = the P0<->P1 link. */
struct ar_meas {
    uint64_t calls;
    uint64_t sent, recv;     /* online payload bytes sent / received by this party */
    uint64_t wire_sent, wire_recv; /* the same with framing and MACs */
    uint64_t rounds;         /* full-duplex exchanges on the P0<->P1 link */
    uint64_t oneway;         /* one-way messages sent or received on the P0<->P1 link */
    uint64_t dealer_bytes;   /* dealer payload bytes received (P0) or sent (dealer) */
    double seconds;          /* wall time inside the calls */
    double dealer_seconds;   /* of which waiting for / producing dealer material */
};

struct ar_party_opts {
    int frac_bits;                /* fixed-point fractional bits, 8..16 (default 12) */
    int provider;                 /* enum ar_provider */
    const uint8_t *det_seed;      /* NULL: OS entropy. Else 32 bytes: every seed derived from it (tests) */
    uint64_t preload_max;         /* most bytes ar_party_preload buffers (0: AR_PRELOAD_MAX_DEFAULT) */
};

/* Default bound on buffered dealer material: the tags that announce each payload's
 * length come from the dealer (or a file), so a corrupt one must not make P0
 * allocate without limit. */
#define AR_PRELOAD_MAX_DEFAULT ((uint64_t)1 << 36)

void ar_party_opts_default(struct ar_party_opts *o);

struct ar_preloaded; /* dealer material buffered by ar_party_preload */
struct ar_layer_reg; /* registry of linear layers that did their one-time setup */

struct ar_party {
    int role;      /* enum ar_role */
    int frac_bits;
    int provider;
    int ready;     /* set by ar_party_setup */

    /* links (not owned: the creator closes them) */
    struct ar_chan *peer;           /* P0 <-> P1; NULL at the dealer */
    struct ar_chan *dealer;         /* P0/P1 -> dealer; NULL at the dealer and in insecure-local mode */
    struct ar_chan *to_p0, *to_p1;  /* dealer only */
    int owns_chans;                 /* set by ar_party_connect_tcp */

    /* session secrets */
    uint8_t sid[AR_SID_BYTES];
    uint8_t k0d[AR_SEED_BYTES], k1d[AR_SEED_BYTES], k01[AR_SEED_BYTES];
    int have_k0d, have_k1d, have_k01;
    uint8_t det_seed[AR_SEED_BYTES];
    int deterministic;

    /* correlation ledger: state per sequence number (0 unused slot, 1 issued, 2 used) */
    uint64_t corr_next;
    uint8_t *corr_state;
    size_t corr_cap;
    uint64_t corr_used;
    uint64_t input_seq; /* counter of input-sharing streams */

    struct ar_preloaded *pre_head, *pre_tail;
    uint64_t pre_bytes, pre_max; /* buffered so far, and the bound (ar_party_opts.preload_max) */
    int dealer_ended;

    struct ar_layer_reg *reg;
    size_t n_reg, cap_reg;

    /* dealer material accounted to the protocol calls that consume (P0) or produce (dealer) it */
    uint64_t dealer_bytes;
    double dealer_seconds;

    /* measurements: meas[layer * AR_OP_COUNT + op] */
    struct ar_meas *meas;
    size_t n_layers;
};

/* Initialise (no I/O). role: AR_ROLE_P0 / P1 / DEALER. */
AR_NODISCARD int ar_party_init(struct ar_party *p, int role, const struct ar_party_opts *o, char *err);
/* Attach links. P0: peer = P1, dealer = D. P1: peer = P0, dealer = D. Dealer: to_p0, to_p1.
 * In insecure-local mode P0 and P1 pass dealer = NULL and no dealer party exists. */
void ar_party_attach(struct ar_party *p, struct ar_chan *peer, struct ar_chan *dealer, struct ar_chan *to_p0,
                     struct ar_chan *to_p1);
/* Session setup: session id and seeds. All parties call it (it exchanges messages). */
AR_NODISCARD int ar_party_setup(struct ar_party *p, char *err);
/* P0 only (no-op elsewhere): read all dealer material into memory now, so that the
 * online phase never waits for the dealer. The dealer must have finished its walk
 * (ar_party_finish) for this to return. */
AR_NODISCARD int ar_party_preload(struct ar_party *p, char *err);
/* End of session: the dealer sends its end marker; P0 checks no material is left;
 * P0 and P1 compare their correlation counts; every correlation must have been used. */
AR_NODISCARD int ar_party_finish(struct ar_party *p, char *err);
/* Wipe secrets and free. Does not close channels. Accepts NULL. */
void ar_party_free(struct ar_party *p);

/* Measurement of (layer, op); zeros if never called. */
struct ar_meas ar_party_meas(const struct ar_party *p, uint32_t layer, int op);
/* Sum over all layers of one op (op = -1: all ops). */
struct ar_meas ar_party_meas_total(const struct ar_party *p, int op);
void ar_party_meas_reset(struct ar_party *p);

/* Party index (0 or 1) of an online party; asserts it is not the dealer. */
int ar_party_index(const struct ar_party *p);

/* ---- internal helpers used by the protocol files ---------------------------------- */

/* Snapshot taken at the start of a protocol call, folded into meas[layer][op] at the end. */
struct ar_meas_scope {
    uint32_t layer;
    int op;
    struct ar_chan_stats peer0;
    uint64_t dealer_bytes0;
    double dealer_seconds0;
    double t0;
};
void ar__meas_begin(struct ar_party *p, struct ar_meas_scope *s, uint32_t layer, int op);
void ar__meas_end(struct ar_party *p, struct ar_meas_scope *s);
double ar__now(void);

#endif
