/* Correlation provider (dealer.h): seeded expansion of every party's components,
 * the dealer's computation of P0's dependent component, the tagged D -> P0
 * messages, and the exactly-once ledger.
 *
 * For each kind the dealer computes (all from seeds it shares with P0 and P1):
 *   SQUARE : s0 = (r0 + r1)^2 - s1
 *   AND    : c0 = ((a0 ^ a1) & (b0 ^ b1)) ^ c1                 per bit
 *   AND2   : c0 as AND, and c20 = ((a0 ^ a1) & (b20 ^ b21)) ^ c21
 *   PAND   : g0 = (alpha & beta) ^ g1
 *   BITINJ : r = r0 ^ r1 (bit),  ra0 = r - ra1,  c0 = r * (a0 + a1) - c1
 *   LINEAR : C0 = conv(A1, B) - C1
 * and sends a 32-byte tag {seq, layer, kind, planes, n, payload length} followed
 * by the payload (u64 little-endian, or packed bit-planes of ceil(n/8) bytes).
 * Nothing is ever sent to P1 after setup. */
#include "mpc/dealer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/internal.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the protocol messages assume a little-endian host"
#endif

const char *ar_corr_name(int kind) {
    switch (kind) {
    case AR_CORR_END: return "end";
    case AR_CORR_SQUARE: return "square";
    case AR_CORR_AND: return "and";
    case AR_CORR_AND2: return "and2";
    case AR_CORR_PAND: return "pand";
    case AR_CORR_BITINJ: return "bitinj";
    case AR_CORR_LINEAR: return "linear";
    case AR_CORR_LINEAR_B: return "linear-mask";
    case AR_CORR_INPUT: return "input";
    default: return "?";
    }
}

uint64_t *ar__alloc_u64(size_t n) { return malloc((n ? n : 1) * sizeof(uint64_t)); }

void ar__wipe_free(uint64_t *p, size_t n) {
    if (!p) return;
    sodium_memzero(p, n * sizeof *p);
    free(p);
}

static uint64_t payload_bytes(int kind, size_t n, size_t planes, const struct ar_conv_shape *shape) {
    uint64_t nb = ar_plane_bytes(n);
    switch (kind) {
    case AR_CORR_SQUARE: return 8 * (uint64_t)n;
    case AR_CORR_AND: return (uint64_t)planes * nb;
    case AR_CORR_AND2: return 2 * (uint64_t)planes * nb;
    case AR_CORR_PAND: return (uint64_t)planes * nb;
    case AR_CORR_BITINJ: return 16 * (uint64_t)n;
    case AR_CORR_LINEAR: return 8 * (uint64_t)ar_conv_out_count(shape);
    default: return 0;
    }
}

uint64_t ar_corr_dealer_bytes(int kind, size_t n, size_t planes, const struct ar_conv_shape *shape) {
    return AR_CORR_TAG_BYTES + payload_bytes(kind, n, planes, shape);
}

/* ---- seeded expansion ---------------------------------------------------------------- */

static void mklabel(struct ar_label *l, const struct ar_party *p, uint64_t seq, uint32_t layer, int kind, int comp,
                    int party) {
    memcpy(l->sid, p->sid, AR_SID_BYTES);
    l->seq = seq;
    l->layer = layer;
    l->op = (uint32_t)kind;
    l->comp = (uint32_t)comp;
    l->party = (uint32_t)party;
}

static const uint8_t *seed_of(const struct ar_party *p, int party) {
    if (party == 0) {
        AR_ASSERT(p->have_k0d);
        return p->k0d;
    }
    AR_ASSERT(p->have_k1d);
    return p->k1d;
}

/* n ring elements of component `comp` of party `party` (0: from k0D, 1: from k1D). */
static void ex_u64(const struct ar_party *p, int party, uint64_t seq, uint32_t layer, int kind, int comp,
                   uint64_t *dst, size_t n) {
    struct ar_label l;
    struct ar_prg g;
    mklabel(&l, p, seq, layer, kind, comp, party);
    ar_prg_init(&g, seed_of(p, party), &l);
    ar_prg_u64(&g, dst, n);
    ar_prg_free(&g);
}

/* `planes` bit-planes of n bits (ar_plane_words(n) words each, tails zero). */
static void ex_bits(const struct ar_party *p, int party, uint64_t seq, uint32_t layer, int kind, int comp,
                    uint64_t *dst, size_t n, size_t planes) {
    size_t w = ar_plane_words(n);
    ex_u64(p, party, seq, layer, kind, comp, dst, w * planes);
    if (n % 64)
        for (size_t k = 0; k < planes; k++) dst[k * w + w - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

void ar__linear_mask(const struct ar_party *p, uint32_t layer, uint64_t *B, size_t n) {
    ex_u64(p, 0, 0, layer, AR_CORR_LINEAR_B, 0, B, n);
}

void ar__pack_planes(uint8_t *dst, const uint64_t *planes, size_t n, size_t count) {
    size_t w = ar_plane_words(n), nb = ar_plane_bytes(n);
    for (size_t k = 0; k < count; k++) memcpy(dst + k * nb, planes + k * w, nb);
}

void ar__unpack_planes(uint64_t *planes, const uint8_t *src, size_t n, size_t count) {
    size_t w = ar_plane_words(n), nb = ar_plane_bytes(n);
    for (size_t k = 0; k < count; k++) {
        uint64_t *d = planes + k * w;
        if (w) d[w - 1] = 0;
        memcpy(d, src + k * nb, nb);
        if (n % 64) d[w - 1] &= ((uint64_t)1 << (n % 64)) - 1;
    }
}

/* ---- the dealer's computation ------------------------------------------------------------ */

/* Compute P0's dependent component(s) into `out` (payload_bytes() bytes). Needs
 * both k0D and k1D: run by the dealer, or by P0 in insecure-local mode. */
static int dealer_compute(const struct ar_party *p, int kind, uint64_t seq, uint32_t layer, size_t n, size_t planes,
                          const struct ar_conv_shape *shape, uint8_t *out, char *err) {
    size_t w = ar_plane_words(n);
    int rc = AR_OK;
    switch (kind) {
    case AR_CORR_SQUARE: {
        uint64_t *r0 = ar__alloc_u64(n), *r1 = ar__alloc_u64(n), *s = (uint64_t *)(void *)out;
        if (!r0 || !r1) rc = AR_ERR_NOMEM;
        else {
            ex_u64(p, 0, seq, layer, kind, 0, r0, n);
            ex_u64(p, 1, seq, layer, kind, 0, r1, n);
            ex_u64(p, 1, seq, layer, kind, 1, s, n); /* s1 */
            for (size_t i = 0; i < n; i++) {
                uint64_t r = r0[i] + r1[i];
                s[i] = r * r - s[i];
            }
        }
        ar__wipe_free(r0, n);
        ar__wipe_free(r1, n);
        break;
    }
    case AR_CORR_AND:
    case AR_CORR_AND2: {
        int dbl = kind == AR_CORR_AND2;
        size_t pw = planes * w;
        uint64_t *a0 = ar__alloc_u64(pw), *a1 = ar__alloc_u64(pw), *b0 = ar__alloc_u64(pw), *b1 = ar__alloc_u64(pw),
                 *c = ar__alloc_u64(pw);
        if (!a0 || !a1 || !b0 || !b1 || !c) rc = AR_ERR_NOMEM;
        else {
            ex_bits(p, 0, seq, layer, kind, 0, a0, n, planes);
            ex_bits(p, 1, seq, layer, kind, 0, a1, n, planes);
            for (int pass = 0; pass < 1 + dbl; pass++) {
                int cb = pass ? 3 : 1, cc = pass ? 4 : 2;
                ex_bits(p, 0, seq, layer, kind, cb, b0, n, planes);
                ex_bits(p, 1, seq, layer, kind, cb, b1, n, planes);
                ex_bits(p, 1, seq, layer, kind, cc, c, n, planes);
                for (size_t i = 0; i < pw; i++) c[i] ^= (a0[i] ^ a1[i]) & (b0[i] ^ b1[i]);
                ar__pack_planes(out + (size_t)pass * planes * ar_plane_bytes(n), c, n, planes);
            }
        }
        ar__wipe_free(a0, pw);
        ar__wipe_free(a1, pw);
        ar__wipe_free(b0, pw);
        ar__wipe_free(b1, pw);
        ar__wipe_free(c, pw);
        break;
    }
    case AR_CORR_PAND: {
        size_t pw = planes * w;
        uint64_t *al = ar__alloc_u64(pw), *be = ar__alloc_u64(pw), *g = ar__alloc_u64(pw);
        if (!al || !be || !g) rc = AR_ERR_NOMEM;
        else {
            ex_bits(p, 0, seq, layer, kind, 0, al, n, planes);
            ex_bits(p, 1, seq, layer, kind, 0, be, n, planes);
            ex_bits(p, 1, seq, layer, kind, 1, g, n, planes);
            for (size_t i = 0; i < pw; i++) g[i] ^= al[i] & be[i];
            ar__pack_planes(out, g, n, planes);
        }
        ar__wipe_free(al, pw);
        ar__wipe_free(be, pw);
        ar__wipe_free(g, pw);
        break;
    }
    case AR_CORR_BITINJ: {
        uint64_t *r0 = ar__alloc_u64(w), *r1 = ar__alloc_u64(w), *a0 = ar__alloc_u64(n), *a1 = ar__alloc_u64(n);
        uint64_t *ra = (uint64_t *)(void *)out, *c = ra + n;
        if (!r0 || !r1 || !a0 || !a1) rc = AR_ERR_NOMEM;
        else {
            ex_bits(p, 0, seq, layer, kind, 0, r0, n, 1);
            ex_bits(p, 1, seq, layer, kind, 0, r1, n, 1);
            ex_u64(p, 0, seq, layer, kind, 1, a0, n);
            ex_u64(p, 1, seq, layer, kind, 1, a1, n);
            ex_u64(p, 1, seq, layer, kind, 2, ra, n); /* ra1 */
            ex_u64(p, 1, seq, layer, kind, 3, c, n);  /* c1 */
            for (size_t i = 0; i < n; i++) {
                uint64_t r = ((r0[i / 64] ^ r1[i / 64]) >> (i % 64)) & 1;
                ra[i] = r - ra[i];
                c[i] = r * (a0[i] + a1[i]) - c[i];
            }
        }
        ar__wipe_free(r0, w);
        ar__wipe_free(r1, w);
        ar__wipe_free(a0, n);
        ar__wipe_free(a1, n);
        break;
    }
    case AR_CORR_LINEAR: {
        size_t nin = ar_conv_in_count(shape), nout = ar_conv_out_count(shape), nw = ar_conv_w_count(shape);
        size_t ncol = ar_ring_conv2d_scratch(shape);
        uint64_t *A = ar__alloc_u64(nin), *B = ar__alloc_u64(nw), *col = ar__alloc_u64(ncol), *C1 = ar__alloc_u64(nout);
        uint64_t *C = (uint64_t *)(void *)out;
        if (!A || !B || !col || !C1) rc = AR_ERR_NOMEM;
        else {
            ex_u64(p, 1, seq, layer, kind, 0, A, nin);
            ar__linear_mask(p, layer, B, nw);
            ex_u64(p, 1, seq, layer, kind, 1, C1, nout);
            ar_ring_conv2d(C, A, B, col, shape);
            for (size_t i = 0; i < nout; i++) C[i] -= C1[i];
        }
        ar__wipe_free(A, nin);
        ar__wipe_free(B, nw);
        ar__wipe_free(col, ncol);
        ar__wipe_free(C1, nout);
        break;
    }
    default: AR_ASSERT(!"unknown correlation kind");
    }
    if (rc) return ar_errf(err, rc, "dealer: out of memory generating %s material for layer %u", ar_corr_name(kind),
                           layer);
    return AR_OK;
}

/* ---- tags and D -> P0 transport -------------------------------------------------------------- */

static void put_le(uint8_t *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *b, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static void make_tag(uint8_t tag[AR_CORR_TAG_BYTES], uint64_t seq, uint32_t layer, int kind, size_t planes, size_t n,
                     uint64_t len) {
    put_le(tag, seq, 8);
    put_le(tag + 8, layer, 4);
    put_le(tag + 12, (uint64_t)kind, 2);
    put_le(tag + 14, planes, 2);
    put_le(tag + 16, n, 8);
    put_le(tag + 24, len, 8);
}

static int check_tag(const struct ar_party *p, const uint8_t got[AR_CORR_TAG_BYTES],
                     const uint8_t want[AR_CORR_TAG_BYTES], char *err) {
    if (memcmp(got, want, AR_CORR_TAG_BYTES) == 0) return AR_OK;
    return ar_errf(err, AR_ERR_PROTO,
                   "%s: dealer material out of step: expected %s seq %llu layer %llu n %llu x%llu (%llu B), "
                   "got %s seq %llu layer %llu n %llu x%llu (%llu B)",
                   p->dealer ? p->dealer->name : "dealer", ar_corr_name((int)get_le(want + 12, 2)),
                   (unsigned long long)get_le(want, 8), (unsigned long long)get_le(want + 8, 4),
                   (unsigned long long)get_le(want + 16, 8), (unsigned long long)get_le(want + 14, 2),
                   (unsigned long long)get_le(want + 24, 8), ar_corr_name((int)get_le(got + 12, 2)),
                   (unsigned long long)get_le(got, 8), (unsigned long long)get_le(got + 8, 4),
                   (unsigned long long)get_le(got + 16, 8), (unsigned long long)get_le(got + 14, 2),
                   (unsigned long long)get_le(got + 24, 8));
}

/* P0: obtain the payload for `want` (from the preloaded queue or the dealer link). */
static int p0_receive(struct ar_party *p, const uint8_t want[AR_CORR_TAG_BYTES], uint8_t *buf, size_t len,
                      char *err) {
    uint8_t tag[AR_CORR_TAG_BYTES];
    size_t plen;
    uint8_t *data;
    struct ar_preloaded *m = ar__preload_pop(p, tag, &plen, &data);
    if (m) {
        int rc = check_tag(p, tag, want, err);
        if (rc == AR_OK) memcpy(buf, data, len);
        ar__preload_free(m, plen);
        return rc;
    }
    if (p->dealer_ended) return ar_errf(err, AR_ERR_PROTO, "dealer material exhausted (the dealer ended early)");
    int rc = ar_chan_recv(p->dealer, AR_MSG_CORR_TAG, tag, sizeof tag, err);
    if (rc) return rc;
    if ((rc = check_tag(p, tag, want, err))) return rc;
    return ar_chan_recv(p->dealer, AR_MSG_CORR, buf, len, err);
}

/* ---- the ledger --------------------------------------------------------------------------------- */

static int ledger_issue(struct ar_party *p, uint64_t *seq, char *err) {
    if (p->corr_next >= p->corr_cap) {
        size_t cap = p->corr_cap ? 2 * p->corr_cap : 256;
        uint8_t *s = realloc(p->corr_state, cap);
        if (!s) return ar_errf(err, AR_ERR_NOMEM, "out of memory growing the correlation ledger");
        memset(s + p->corr_cap, 0, cap - p->corr_cap);
        p->corr_state = s;
        p->corr_cap = cap;
    }
    *seq = p->corr_next++;
    p->corr_state[*seq] = 1;
    return AR_OK;
}

int ar_corr_use(struct ar_party *p, struct ar_corr *c, int kind, size_t n, size_t planes, char *err) {
    if (c->kind != kind || c->n != n || c->planes != planes)
        return ar_errf(err, AR_ERR_PROTO,
                       "correlation seq %llu is %s n=%zu x%zu but the protocol needs %s n=%zu x%zu (wrong amount)",
                       (unsigned long long)c->seq, ar_corr_name(c->kind), c->n, c->planes, ar_corr_name(kind), n,
                       planes);
    if (c->seq >= p->corr_next || p->corr_state[c->seq] == 0)
        return ar_errf(err, AR_ERR_PROTO, "correlation seq %llu was never issued", (unsigned long long)c->seq);
    if (p->corr_state[c->seq] == 2)
        return ar_errf(err, AR_ERR_PROTO, "correlation seq %llu (%s, layer %u) used twice", (unsigned long long)c->seq,
                       ar_corr_name(c->kind), c->layer);
    p->corr_state[c->seq] = 2;
    p->corr_used++;
    return AR_OK;
}

void ar_corr_release(struct ar_corr *c) {
    if (!c) return;
    ar__wipe_free(c->mem, c->mem_words);
    memset(c, 0, sizeof *c);
}

/* ---- get --------------------------------------------------------------------------------------- */

int ar_corr_get(struct ar_party *p, int kind, uint32_t layer, size_t n, size_t planes,
                const struct ar_conv_shape *shape, struct ar_corr *out, char *err) {
    memset(out, 0, sizeof *out);
    if (!p->ready) return ar_errf(err, AR_ERR_ARG, "correlation requested before session setup");
    int bitkind = kind == AR_CORR_AND || kind == AR_CORR_AND2 || kind == AR_CORR_PAND;
    AR_ASSERT(bitkind ? planes >= 1 && planes <= 0xffff : planes == 0);
    AR_ASSERT(kind == AR_CORR_LINEAR ? shape && n == ar_conv_in_count(shape) : 1);
    AR_ASSERT(kind >= AR_CORR_SQUARE && kind <= AR_CORR_LINEAR);
    uint64_t seq = 0;
    int rc = ledger_issue(p, &seq, err);
    if (rc) return rc;
    out->kind = kind;
    out->layer = layer;
    out->seq = seq;
    out->n = n;
    out->planes = planes;
    out->role = p->role;
    uint64_t plen = payload_bytes(kind, n, planes, shape);
    uint8_t tag[AR_CORR_TAG_BYTES];
    make_tag(tag, seq, layer, kind, planes, n, plen);
    double t0 = ar__now();

    if (p->role == AR_ROLE_DEALER) {
        uint64_t *buf = ar__alloc_u64((size_t)(plen + 7) / 8);
        if (!buf) return ar_errf(err, AR_ERR_NOMEM, "dealer: out of memory (%llu B)", (unsigned long long)plen);
        rc = dealer_compute(p, kind, seq, layer, n, planes, shape, (uint8_t *)buf, err);
        if (!rc) rc = ar_chan_send(p->to_p0, AR_MSG_CORR_TAG, tag, sizeof tag, err);
        if (!rc) rc = ar_chan_send(p->to_p0, AR_MSG_CORR, buf, (size_t)plen, err);
        ar__wipe_free(buf, (size_t)(plen + 7) / 8);
        if (rc) return rc;
        p->corr_state[seq] = 2; /* the dealer's part is done */
        p->corr_used++;
        p->dealer_bytes += AR_CORR_TAG_BYTES + plen;
        p->dealer_seconds += ar__now() - t0;
        return AR_OK;
    }

    int me = ar_party_index(p);
    size_t w = ar_plane_words(n), pw = planes * w;
    size_t words = 0;
    switch (kind) {
    case AR_CORR_SQUARE: words = 2 * n; break;
    case AR_CORR_AND: words = 3 * pw; break;
    case AR_CORR_AND2: words = 5 * pw; break;
    case AR_CORR_PAND: words = 2 * pw; break;
    case AR_CORR_BITINJ: words = w + 3 * n; break;
    case AR_CORR_LINEAR: words = (me ? n : 0) + ar_conv_out_count(shape); break;
    default: break;
    }
    out->mem = ar__alloc_u64(words);
    out->mem_words = words;
    if (!out->mem) return ar_errf(err, AR_ERR_NOMEM, "out of memory for %s material (%zu words)", ar_corr_name(kind), words);
    uint64_t *m = out->mem;
    uint8_t *dep = NULL; /* where P0's dependent payload goes */
    uint64_t *unpack_to = NULL;
    size_t unpack_planes_n = 0;
    uint8_t *tmp = NULL;
    switch (kind) {
    case AR_CORR_SQUARE:
        out->r = m;
        out->s = m + n;
        ex_u64(p, me, seq, layer, kind, 0, out->r, n);
        if (me) ex_u64(p, 1, seq, layer, kind, 1, out->s, n);
        else dep = (uint8_t *)out->s;
        break;
    case AR_CORR_AND:
    case AR_CORR_AND2:
        /* layout: a, b, [b2], c, [c2] so that c and c2 are adjacent */
        out->ba = m;
        out->bb = m + pw;
        out->bc = m + (kind == AR_CORR_AND2 ? 3 : 2) * pw;
        ex_bits(p, me, seq, layer, kind, 0, out->ba, n, planes);
        ex_bits(p, me, seq, layer, kind, 1, out->bb, n, planes);
        if (kind == AR_CORR_AND2) {
            out->bb2 = m + 2 * pw;
            out->bc2 = m + 4 * pw;
            ex_bits(p, me, seq, layer, kind, 3, out->bb2, n, planes);
        }
        if (me) {
            ex_bits(p, 1, seq, layer, kind, 2, out->bc, n, planes);
            if (kind == AR_CORR_AND2) ex_bits(p, 1, seq, layer, kind, 4, out->bc2, n, planes);
        } else {
            unpack_to = out->bc;
            unpack_planes_n = kind == AR_CORR_AND2 ? 2 * planes : planes;
            /* bc and bc2 are adjacent, so the two packed groups unpack in one go */
        }
        break;
    case AR_CORR_PAND:
        out->ba = m;
        out->bc = m + pw;
        ex_bits(p, me, seq, layer, kind, 0, out->ba, n, planes);
        if (me) ex_bits(p, 1, seq, layer, kind, 1, out->bc, n, planes);
        else {
            unpack_to = out->bc;
            unpack_planes_n = planes;
        }
        break;
    case AR_CORR_BITINJ:
        out->rbits = m;
        out->a = m + w;
        out->ra = m + w + n;
        out->c = m + w + 2 * n;
        ex_bits(p, me, seq, layer, kind, 0, out->rbits, n, 1);
        ex_u64(p, me, seq, layer, kind, 1, out->a, n);
        if (me) {
            ex_u64(p, 1, seq, layer, kind, 2, out->ra, n);
            ex_u64(p, 1, seq, layer, kind, 3, out->c, n);
        } else {
            dep = (uint8_t *)out->ra; /* ra0 then c0: adjacent */
        }
        break;
    case AR_CORR_LINEAR:
        if (me) {
            out->a = m;
            out->c = m + n;
            ex_u64(p, 1, seq, layer, kind, 0, out->a, n);
            ex_u64(p, 1, seq, layer, kind, 1, out->c, ar_conv_out_count(shape));
        } else {
            out->c = m;
            dep = (uint8_t *)out->c;
        }
        break;
    default: break;
    }
    if (me == 0) {
        if (unpack_to) {
            tmp = malloc(plen ? (size_t)plen : 1);
            if (!tmp) {
                ar_corr_release(out);
                return ar_errf(err, AR_ERR_NOMEM, "out of memory for %s material", ar_corr_name(kind));
            }
            dep = tmp;
        }
        if (p->provider == AR_PROVIDER_INSECURE_LOCAL) rc = dealer_compute(p, kind, seq, layer, n, planes, shape, dep, err);
        else rc = p0_receive(p, tag, dep, (size_t)plen, err);
        if (!rc && unpack_to) ar__unpack_planes(unpack_to, dep, n, unpack_planes_n);
        if (tmp) {
            sodium_memzero(tmp, (size_t)plen);
            free(tmp);
        }
        if (rc) {
            ar_corr_release(out);
            return rc;
        }
        p->dealer_bytes += AR_CORR_TAG_BYTES + plen;
        p->dealer_seconds += ar__now() - t0;
    }
    return AR_OK;
}
