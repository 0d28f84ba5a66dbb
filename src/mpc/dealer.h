/* Correlated randomness: the provider interface, the dealer, and the
 * exactly-once ledger.
 *
 * Seed compression (CrypTen's TTP pattern, generalised): every component P1 needs
 * is expanded from k1D, every "free" component of P0 from k0D, so the dealer
 * (which knows both seeds) only computes and SENDS P0's single dependent
 * component of each correlation. D -> P1 traffic is zero after setup.
 *
 * Kinds (n = elements per plane; bit components are `planes` packed bit-planes of
 * n bits, each plane ceil(n/64) words, XOR-shared):
 *
 *   AR_CORR_SQUARE  square pairs:   r = r0 + r1,  s = r^2 = s0 + s1        (mod 2^64)
 *                   P0: r0 (k0D), s0 (sent: 8n B).  P1: r1, s1 (k1D).
 *   AR_CORR_AND     bit triples:    c = a AND b,  all XOR-shared
 *                   P0: a0, b0 (k0D), c0 (sent: planes*ceil(n/8) B).  P1: a1, b1, c1 (k1D).
 *   AR_CORR_AND2    double triples with a shared first operand: c = a AND b, c2 = a AND b2
 *                   P0: a0, b0, b20 (k0D), c0, c20 (sent).  P1: a1, b1, b21, c1, c21 (k1D).
 *   AR_CORR_PAND    private-input AND (P0 holds bit p, P1 holds bit q):
 *                   P0: alpha (k0D), g0 (sent).  P1: beta, g1 (k1D);  g0 ^ g1 = alpha AND beta.
 *   AR_CORR_BITINJ  bit injection + multiplexer (ReLU step 5): random bit r XOR-shared (r0 ^ r1)
 *                   and additively shared (ra0 + ra1 = r), random ring a = a0 + a1, c = r*a = c0 + c1.
 *                   P0: r0 bits, a0 (k0D), ra0, c0 (sent: 16n B).  P1: r1, a1, ra1, c1 (k1D).
 *   AR_CORR_LINEAR  conv/FC weight-mask reuse (see proto.h): per-model mask B (k0D, label
 *                   with seq 0, so the same for every inference of the session); per
 *                   call A1 (input-sized, k1D), C1 (output-sized, k1D), C = conv(A1, B),
 *                   C0 = C - C1 (sent: 8 B per output element).
 *
 * Every correlation gets the next sequence number of the session (all parties make
 * the same calls in the same order), is bound by its PRG labels to (session, seq,
 * layer, kind, component, party), and is preceded on the wire by a 32-byte tag
 * {seq, layer, kind, n, planes/len} that P0 checks. ar_corr_use marks it used;
 * a second use, a use with another kind or size, or a correlation never used by
 * the end of the session is AR_ERR_PROTO. */
#ifndef AR_MPC_DEALER_H
#define AR_MPC_DEALER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "kernels/ring.h"
#include "mpc/party.h"

enum ar_corr_kind {
    AR_CORR_END = 0, /* dealer's end-of-session marker (tag only) */
    AR_CORR_SQUARE = 1,
    AR_CORR_AND = 2,
    AR_CORR_AND2 = 3,
    AR_CORR_PAND = 4,
    AR_CORR_BITINJ = 5,
    AR_CORR_LINEAR = 6,
    AR_CORR_LINEAR_B = 7, /* label of the per-model weight mask (never a message) */
    AR_CORR_INPUT = 8,    /* label of input-sharing streams from k01 (never a message) */
};

const char *ar_corr_name(int kind);

#define AR_CORR_TAG_BYTES 32

/* A correlation as seen by one party. Views point into `mem` (owned) and are NULL
 * when the party has no such component (the dealer holds no material at all). */
struct ar_corr {
    int kind;
    uint32_t layer;
    uint64_t seq;
    size_t n, planes;
    int role;
    uint64_t *mem;
    size_t mem_words;
    /* SQUARE: r, s.  BITINJ: ra, a, c (ring, n each) and rbits (1 plane).
     * LINEAR: a (A1, P1 only), c (C1 at P1, C0 at P0).
     * AND / AND2 / PAND: bit planes (planes x words each). */
    uint64_t *r, *s, *ra, *a, *c, *rbits;
    uint64_t *ba, *bb, *bc, *bb2, *bc2; /* bit components: a, b, c, b2, c2 (PAND: alpha|beta in ba, g in bc) */
};

/* Words per bit plane of n bits, and bytes of a packed plane in a message. */
static inline size_t ar_plane_words(size_t n) { return (n + 63) / 64; }
static inline size_t ar_plane_bytes(size_t n) { return (n + 7) / 8; }

/* Bytes the dealer sends P0 for one correlation, tag included. `shape` only for LINEAR. */
uint64_t ar_corr_dealer_bytes(int kind, size_t n, size_t planes, const struct ar_conv_shape *shape);

/* Obtain the next correlation of `kind` for `layer`: P1 and P0 expand their seeded
 * components (P0 also receives its dependent one); the dealer generates it and
 * sends P0's part, and gets an empty handle. For LINEAR, n must be the input
 * element count and `shape` the layer's geometry (weights are not involved: B is
 * re-derived from k0D). */
AR_NODISCARD int ar_corr_get(struct ar_party *p, int kind, uint32_t layer, size_t n, size_t planes,
                             const struct ar_conv_shape *shape, struct ar_corr *out, char *err);
/* Mark the correlation used, checking kind and size. Fails on the second use of the
 * same sequence number (even through a copy of the handle). */
AR_NODISCARD int ar_corr_use(struct ar_party *p, struct ar_corr *c, int kind, size_t n, size_t planes, char *err);
/* Wipe and free the material. Accepts a zeroed handle. */
void ar_corr_release(struct ar_corr *c);

/* Derive the per-model weight mask B (k0D; P0 and dealer only). */
void ar__linear_mask(const struct ar_party *p, uint32_t layer, uint64_t *B, size_t n);

#endif
