/* Party context (party.h): initialisation, session setup (session id and the
 * seeds k0D, k1D, k01), dealer-material preloading, the end-of-session checks,
 * and the per-(layer, op) measurement records.
 *
 * Setup messages (48 bytes each, over the encrypted links):
 *   D  -> P0: {sid, k0D}          D -> P1: {sid, k1D}
 *   P0 <-> P1: {sid, half of k01}  (k01 = BLAKE2b("autorep/k01" || half0 || half1);
 *              a different sid is AR_ERR_MISMATCH)
 * In insecure-local mode P0 draws sid, k0D and k1D itself and sends {sid, k1D}
 * to P1 before the k01 exchange. */
#include "mpc/party.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "mpc/dealer.h"
#include "mpc/internal.h"

struct ar_preloaded {
    struct ar_preloaded *next;
    uint8_t tag[AR_CORR_TAG_BYTES];
    size_t len;
    uint8_t data[];
};

const char *ar_op_name(int op) {
    switch (op) {
    case AR_OP_SETUP: return "setup";
    case AR_OP_LINEAR: return "linear";
    case AR_OP_POLY: return "poly";
    case AR_OP_RELU: return "relu";
    case AR_OP_ACT: return "act";
    case AR_OP_REVEAL: return "reveal";
    case AR_OP_MAXPOOL: return "maxpool";
    case AR_OP_PRE: return "pre";
    default: return "?";
    }
}

double ar__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ar_party_opts_default(struct ar_party_opts *o) {
    o->frac_bits = AR_FIX_DEFAULT_BITS;
    o->provider = AR_PROVIDER_DEALER;
    o->det_seed = NULL;
    o->preload_max = 0;
}

int ar_party_init(struct ar_party *p, int role, const struct ar_party_opts *o, char *err) {
    memset(p, 0, sizeof *p);
    if (ar_crypto_init() != 0) return ar_errf(err, AR_ERR_BACKEND, "libsodium initialisation failed");
    if (role != AR_ROLE_P0 && role != AR_ROLE_P1 && role != AR_ROLE_DEALER)
        return ar_errf(err, AR_ERR_ARG, "party role %d is not P0, P1 or dealer", role);
    if (o->frac_bits < AR_FIX_MIN_BITS || o->frac_bits > AR_FIX_MAX_BITS)
        return ar_errf(err, AR_ERR_ARG, "fixed-point fractional bits %d outside [%d, %d]", o->frac_bits,
                       AR_FIX_MIN_BITS, AR_FIX_MAX_BITS);
    if (o->provider != AR_PROVIDER_DEALER && o->provider != AR_PROVIDER_INSECURE_LOCAL)
        return ar_errf(err, AR_ERR_ARG, "unknown correlation provider %d", o->provider);
    if (o->provider == AR_PROVIDER_INSECURE_LOCAL && role == AR_ROLE_DEALER)
        return ar_errf(err, AR_ERR_ARG, "no dealer party exists in insecure-local mode");
    p->role = role;
    p->frac_bits = o->frac_bits;
    p->provider = o->provider;
    p->pre_max = o->preload_max ? o->preload_max : AR_PRELOAD_MAX_DEFAULT;
    if (o->det_seed) {
        memcpy(p->det_seed, o->det_seed, AR_SEED_BYTES);
        p->deterministic = 1;
    }
    return AR_OK;
}

void ar_party_attach(struct ar_party *p, struct ar_chan *peer, struct ar_chan *dealer, struct ar_chan *to_p0,
                     struct ar_chan *to_p1) {
    p->peer = peer;
    p->dealer = dealer;
    p->to_p0 = to_p0;
    p->to_p1 = to_p1;
}

int ar_party_index(const struct ar_party *p) {
    AR_ASSERT(p->role == AR_ROLE_P0 || p->role == AR_ROLE_P1);
    return p->role;
}

/* Secret bytes: from the OS, or (deterministic mode) derived from the test seed. */
static void draw(const struct ar_party *p, uint8_t *out, size_t n, const char *what) {
    uint8_t tmp[AR_SEED_BYTES];
    AR_ASSERT(n <= AR_SEED_BYTES);
    if (p->deterministic) ar_seed_derive(tmp, p->det_seed, what);
    else ar_seed_random(tmp);
    memcpy(out, tmp, n);
    sodium_memzero(tmp, sizeof tmp);
}

static int k01_exchange(struct ar_party *p, char *err) {
    uint8_t mine[AR_SID_BYTES + AR_SEED_BYTES], theirs[AR_SID_BYTES + AR_SEED_BYTES];
    memcpy(mine, p->sid, AR_SID_BYTES);
    draw(p, mine + AR_SID_BYTES, AR_SEED_BYTES, p->role == AR_ROLE_P0 ? "k01-p0" : "k01-p1");
    int rc = ar_chan_exchange(p->peer, AR_MSG_SETUP, mine, sizeof mine, theirs, sizeof theirs, err);
    if (rc) goto done;
    if (sodium_memcmp(mine, theirs, AR_SID_BYTES) != 0) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: session id differs (the parties were set up by different dealers)",
                     p->peer->name);
        goto done;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, AR_SEED_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)"autorep/k01", 11);
    const uint8_t *h0 = p->role == AR_ROLE_P0 ? mine : theirs, *h1 = p->role == AR_ROLE_P0 ? theirs : mine;
    crypto_generichash_update(&st, h0 + AR_SID_BYTES, AR_SEED_BYTES);
    crypto_generichash_update(&st, h1 + AR_SID_BYTES, AR_SEED_BYTES);
    crypto_generichash_final(&st, p->k01, AR_SEED_BYTES);
    sodium_memzero(&st, sizeof st); /* it absorbed both halves of k01 */
    p->have_k01 = 1;
done:
    sodium_memzero(mine, sizeof mine);
    sodium_memzero(theirs, sizeof theirs);
    return rc;
}

static int recv_seed(struct ar_party *p, struct ar_chan *from, uint8_t *seed, char *err) {
    uint8_t m[AR_SID_BYTES + AR_SEED_BYTES];
    int rc = ar_chan_recv(from, AR_MSG_SETUP, m, sizeof m, err);
    if (rc == AR_OK) {
        memcpy(p->sid, m, AR_SID_BYTES);
        memcpy(seed, m + AR_SID_BYTES, AR_SEED_BYTES);
    }
    sodium_memzero(m, sizeof m);
    return rc;
}

static int send_seed(struct ar_party *p, struct ar_chan *to, const uint8_t *seed, char *err) {
    uint8_t m[AR_SID_BYTES + AR_SEED_BYTES];
    memcpy(m, p->sid, AR_SID_BYTES);
    memcpy(m + AR_SID_BYTES, seed, AR_SEED_BYTES);
    int rc = ar_chan_send(to, AR_MSG_SETUP, m, sizeof m, err);
    sodium_memzero(m, sizeof m);
    return rc;
}

int ar_party_setup(struct ar_party *p, char *err) {
    int rc = AR_OK;
    if (p->ready) return ar_errf(err, AR_ERR_ARG, "party already set up");
    int local = p->provider == AR_PROVIDER_INSECURE_LOCAL;
    if (p->role == AR_ROLE_DEALER) {
        if (!p->to_p0 || !p->to_p1) return ar_errf(err, AR_ERR_ARG, "dealer needs links to P0 and P1");
        draw(p, p->sid, AR_SID_BYTES, "sid");
        draw(p, p->k0d, AR_SEED_BYTES, "k0d");
        draw(p, p->k1d, AR_SEED_BYTES, "k1d");
        p->have_k0d = p->have_k1d = 1;
        AR_TRY(send_seed(p, p->to_p0, p->k0d, err));
        AR_TRY(send_seed(p, p->to_p1, p->k1d, err));
    } else {
        if (!p->peer) return ar_errf(err, AR_ERR_ARG, "%s needs a link to its peer", ar_role_name(p->role));
        if (!local && !p->dealer) return ar_errf(err, AR_ERR_ARG, "%s needs a link to the dealer", ar_role_name(p->role));
        if (p->role == AR_ROLE_P0) {
            if (local) {
                draw(p, p->sid, AR_SID_BYTES, "sid");
                draw(p, p->k0d, AR_SEED_BYTES, "k0d");
                draw(p, p->k1d, AR_SEED_BYTES, "k1d");
                p->have_k1d = 1;
                AR_TRY(send_seed(p, p->peer, p->k1d, err));
            } else {
                AR_TRY(recv_seed(p, p->dealer, p->k0d, err));
            }
            p->have_k0d = 1;
        } else {
            AR_TRY(recv_seed(p, local ? p->peer : p->dealer, p->k1d, err));
            p->have_k1d = 1;
        }
        AR_TRY(k01_exchange(p, err));
    }
    p->ready = 1;
    return AR_OK;
fail:
    return ar_errprefix(err, rc, "%s setup", ar_role_name(p->role));
}

/* ---- dealer material preloading and the end of the session ------------------------- */

static uint64_t get_le64(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

int ar_party_preload(struct ar_party *p, char *err) {
    if (p->role != AR_ROLE_P0 || p->provider != AR_PROVIDER_DEALER || p->dealer_ended) return AR_OK;
    int rc;
    for (;;) {
        uint8_t tag[AR_CORR_TAG_BYTES];
        rc = ar_chan_recv(p->dealer, AR_MSG_CORR_TAG, tag, sizeof tag, err);
        if (rc) return rc;
        uint32_t kind = (uint32_t)tag[12] | (uint32_t)tag[13] << 8;
        uint64_t len = get_le64(tag + 24);
        if (kind == AR_CORR_END) {
            p->dealer_ended = 1;
            return AR_OK;
        }
        /* len is announced by the dealer: bound the total before allocating it */
        if (len > p->pre_max || p->pre_bytes + len > p->pre_max)
            return ar_errf(err, AR_ERR_PROTO,
                           "%s: correlation payload of %llu bytes would exceed the %llu-byte preload limit "
                           "(%llu bytes buffered)",
                           p->dealer->name, (unsigned long long)len, (unsigned long long)p->pre_max,
                           (unsigned long long)p->pre_bytes);
        struct ar_preloaded *m = malloc(sizeof *m + (size_t)len);
        if (!m) return ar_errf(err, AR_ERR_NOMEM, "out of memory preloading %llu bytes of dealer material",
                                (unsigned long long)len);
        memcpy(m->tag, tag, sizeof tag);
        m->len = (size_t)len;
        m->next = NULL;
        rc = ar_chan_recv(p->dealer, AR_MSG_CORR, m->data, m->len, err);
        if (rc) {
            free(m);
            return rc;
        }
        if (p->pre_tail) p->pre_tail->next = m;
        else p->pre_head = m;
        p->pre_tail = m;
        p->pre_bytes += len;
    }
}

struct ar_preloaded *ar__preload_pop(struct ar_party *p, uint8_t tag[AR_CORR_TAG_BYTES], size_t *len,
                                     uint8_t **data) {
    struct ar_preloaded *m = p->pre_head;
    if (!m) return NULL;
    p->pre_head = m->next;
    if (!p->pre_head) p->pre_tail = NULL;
    memcpy(tag, m->tag, AR_CORR_TAG_BYTES);
    *len = m->len;
    *data = m->data;
    return m;
}

void ar__preload_free(struct ar_preloaded *m, size_t len) {
    if (!m) return;
    sodium_memzero(m->data, len);
    free(m);
}

int ar_party_finish(struct ar_party *p, char *err) {
    int rc;
    if (!p->ready) return ar_errf(err, AR_ERR_ARG, "finish before setup");
    if (p->role == AR_ROLE_DEALER) {
        uint8_t tag[AR_CORR_TAG_BYTES] = {0};
        /* kind 0 = END */
        return ar_chan_send(p->to_p0, AR_MSG_CORR_TAG, tag, sizeof tag, err);
    }
    if (p->role == AR_ROLE_P0 && p->provider == AR_PROVIDER_DEALER) {
        if (p->pre_head)
            return ar_errf(err, AR_ERR_PROTO, "dealer sent more material than the session used");
        if (!p->dealer_ended) {
            uint8_t tag[AR_CORR_TAG_BYTES];
            rc = ar_chan_recv(p->dealer, AR_MSG_CORR_TAG, tag, sizeof tag, err);
            if (rc) return rc;
            uint32_t kind = (uint32_t)tag[12] | (uint32_t)tag[13] << 8;
            if (kind != AR_CORR_END)
                return ar_errf(err, AR_ERR_PROTO, "%s: dealer has more material (%s, seq %llu) than the session used",
                               p->dealer->name, ar_corr_name((int)kind), (unsigned long long)get_le64(tag));
            p->dealer_ended = 1;
        }
    }
    uint64_t mine[3] = {p->corr_next, p->corr_used, p->input_seq}, theirs[3];
    rc = ar_chan_exchange(p->peer, AR_MSG_END, mine, sizeof mine, theirs, sizeof theirs, err);
    if (rc) return rc;
    if (memcmp(mine, theirs, sizeof mine) != 0)
        return ar_errf(err, AR_ERR_MISMATCH,
                       "%s made different calls: correlations %llu/%llu used vs ours %llu/%llu, inputs %llu vs %llu",
                       p->peer->name, (unsigned long long)theirs[1], (unsigned long long)theirs[0],
                       (unsigned long long)mine[1], (unsigned long long)mine[0], (unsigned long long)theirs[2],
                       (unsigned long long)mine[2]);
    if (p->corr_used != p->corr_next)
        return ar_errf(err, AR_ERR_PROTO, "%llu of %llu correlations were issued but never used",
                       (unsigned long long)(p->corr_next - p->corr_used), (unsigned long long)p->corr_next);
    return AR_OK;
}

void ar_party_free(struct ar_party *p) {
    if (!p) return;
    struct ar_preloaded *m = p->pre_head;
    while (m) {
        struct ar_preloaded *next = m->next;
        ar__preload_free(m, m->len);
        m = next;
    }
    free(p->corr_state);
    free(p->reg);
    free(p->meas);
    sodium_memzero(p, sizeof *p);
}

/* ---- measurements ----------------------------------------------------------------- */

static struct ar_meas *meas_slot(struct ar_party *p, uint32_t layer, int op) {
    if (layer >= p->n_layers) {
        size_t n = (size_t)layer + 1;
        if (n < 2 * p->n_layers) n = 2 * p->n_layers;
        struct ar_meas *m = realloc(p->meas, n * AR_OP_COUNT * sizeof *m);
        if (!m) return NULL;
        memset(m + p->n_layers * AR_OP_COUNT, 0, (n - p->n_layers) * AR_OP_COUNT * sizeof *m);
        p->meas = m;
        p->n_layers = n;
    }
    return &p->meas[(size_t)layer * AR_OP_COUNT + (size_t)op];
}

static struct ar_chan_stats zero_stats;

void ar__meas_begin(struct ar_party *p, struct ar_meas_scope *s, uint32_t layer, int op) {
    s->layer = layer;
    s->op = op;
    s->peer0 = p->peer ? p->peer->st : zero_stats;
    s->dealer_bytes0 = p->dealer_bytes;
    s->dealer_seconds0 = p->dealer_seconds;
    s->t0 = ar__now();
}

void ar__meas_end(struct ar_party *p, struct ar_meas_scope *s) {
    struct ar_meas *m = meas_slot(p, s->layer, s->op);
    if (!m) return;
    m->calls++;
    m->seconds += ar__now() - s->t0;
    m->dealer_seconds += p->dealer_seconds - s->dealer_seconds0;
    m->dealer_bytes += p->dealer_bytes - s->dealer_bytes0;
    if (p->peer) {
        const struct ar_chan_stats *st = &p->peer->st;
        m->sent += st->bytes_sent - s->peer0.bytes_sent;
        m->recv += st->bytes_recv - s->peer0.bytes_recv;
        m->wire_sent += st->wire_sent - s->peer0.wire_sent;
        m->wire_recv += st->wire_recv - s->peer0.wire_recv;
        uint64_t ex = st->exchanges - s->peer0.exchanges;
        m->rounds += ex;
        m->oneway += (st->msgs_sent - s->peer0.msgs_sent) + (st->msgs_recv - s->peer0.msgs_recv) - 2 * ex;
    }
}

struct ar_meas ar_party_meas(const struct ar_party *p, uint32_t layer, int op) {
    struct ar_meas z;
    memset(&z, 0, sizeof z);
    if (layer >= p->n_layers || op < 0 || op >= AR_OP_COUNT) return z;
    return p->meas[(size_t)layer * AR_OP_COUNT + (size_t)op];
}

struct ar_meas ar_party_meas_total(const struct ar_party *p, int op) {
    struct ar_meas t;
    memset(&t, 0, sizeof t);
    for (size_t l = 0; l < p->n_layers; l++)
        for (int o = 0; o < AR_OP_COUNT; o++) {
            if (op >= 0 && o != op) continue;
            const struct ar_meas *m = &p->meas[l * AR_OP_COUNT + (size_t)o];
            t.calls += m->calls;
            t.sent += m->sent;
            t.recv += m->recv;
            t.wire_sent += m->wire_sent;
            t.wire_recv += m->wire_recv;
            t.rounds += m->rounds;
            t.oneway += m->oneway;
            t.dealer_bytes += m->dealer_bytes;
            t.seconds += m->seconds;
            t.dealer_seconds += m->dealer_seconds;
        }
    return t;
}

void ar_party_meas_reset(struct ar_party *p) {
    if (p->meas) memset(p->meas, 0, p->n_layers * AR_OP_COUNT * sizeof *p->meas);
}
