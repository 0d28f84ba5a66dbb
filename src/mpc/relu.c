/* ReLU by a dealer-assisted GMW comparison ("GMW-opt", docs/protocols.md §ReLU),
 * vectorised over n elements and bit-sliced: bit i of all n elements forms one
 * "plane" of ceil(n/64) words, and every AND/XOR below is word-parallel.
 *
 * Algebra, for x = x0 + x1 (mod 2^64), party r holding x_r:
 *   MSB(x) = msb(x0) ^ msb(x1) ^ carry63,  carry63 = carry into bit 63 of x0 + x1,
 *   i.e. [u > v] for u = x0 mod 2^63 and v = 2^63 - 1 - (x1 mod 2^63).
 *   1. Leaves (i = 0..62): generate G_i = x0_i AND x1_i (an AND of a P0-private bit
 *      and a P1-private bit) and propagate E_i = x0_i ^ x1_i (local XOR shares).
 *      With a PAND correlation (alpha at P0, beta at P1, g0 ^ g1 = alpha AND beta):
 *      P0 opens m0 = x0_i ^ alpha, P1 opens m1 = x1_i ^ beta; then
 *      G0 = (x0_i AND m1) ^ g0,  G1 = (m0 AND beta) ^ g1.            [round 1: 63 bits each]
 *      In the same message each party opens x_r - a_r (a from the BITINJ tuple). [64 bits each]
 *   2. Tree (rounds 2..7, schedule in cost.h): combine (hi, lo) pairs,
 *        G = G_hi ^ (E_hi AND G_lo),   E = E_hi AND E_lo (only where needed),
 *      each AND with a Beaver bit triple; the two ANDs of a node share the mask of
 *      E_hi (AND2 double triple), so a node opens 3 bits (2 for G-only nodes).
 *      Beaver: open d = x ^ a, e = y ^ b; share of x AND y = c ^ (d AND b) ^ (e AND a) ^ [P0](d AND e).
 *   3. DReLU d = 1 ^ MSB(x) as XOR shares (P0 adds the constant 1).
 *   4. Bit injection + multiplexer (round 8): with the BITINJ tuple (random bit r
 *      XOR-shared and additively shared as ra, random ring a, c = r*a) open
 *      e = d ^ r (1 bit each); with eps = x - a (opened in round 1)
 *        d = e + (1 - 2e) r,   r x = eps r + c,
 *        y_r = e x_r + (1 - 2e) (eps ra_r + c_r)            (exact; no truncation)
 * Reference: the GMW comparison of Damgard et al. / CrypTen's ltz with dealer triples;
 * this layout follows secure-inference.md §8.5 (A).
 * Cost per element and direction: 8 B + (63 + 180 + 1) bits = 38.5 B; 8 rounds. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "mpc/cost.h"
#include "mpc/dealer.h"
#include "mpc/internal.h"
#include "mpc/proto.h"

/* In-place transpose of a 64x64 bit matrix: afterwards bit c of a[r] is the former
 * bit r of a[c]. Six rounds of swapping off-diagonal blocks of halving size. */
static void transpose64(uint64_t a[64]) {
    uint64_t m = 0x00000000ffffffffULL;
    for (int j = 32; j != 0; j >>= 1, m ^= m << j) {
        for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k] ^= t << j;
            a[k | j] ^= t;
        }
    }
}

/* planes: (64, W) with plane b word w bit j = bit b of x[64 w + j] (zero past n). */
static void bit_slice(uint64_t *planes, const uint64_t *x, size_t n, size_t W) {
    for (size_t w = 0; w < W; w++) {
        uint64_t blk[64];
        size_t base = w * 64, cnt = n - base < 64 ? n - base : 64;
        memcpy(blk, x + base, cnt * sizeof *blk);
        if (cnt < 64) memset(blk + cnt, 0, (64 - cnt) * sizeof *blk);
        transpose64(blk);
        for (int b = 0; b < 64; b++) planes[(size_t)b * W + w] = blk[b];
    }
}

static void mask_tail(uint64_t *plane, size_t n) {
    size_t W = ar_plane_words(n);
    if (n % 64) plane[W - 1] &= ((uint64_t)1 << (n % 64)) - 1;
}

static int dealer_side(struct ar_party *p, uint32_t layer, size_t n, const struct ar_cmp_sched *s, char *err) {
    struct ar_corr c;
    int rc;
    if ((rc = ar_corr_get(p, AR_CORR_PAND, layer, n, AR_CMP_LEAVES, NULL, &c, err))) return rc;
    if ((rc = ar_corr_get(p, AR_CORR_AND, layer, n, (size_t)s->singles_total, NULL, &c, err))) return rc;
    if ((rc = ar_corr_get(p, AR_CORR_AND2, layer, n, (size_t)s->doubles_total, NULL, &c, err))) return rc;
    return ar_corr_get(p, AR_CORR_BITINJ, layer, n, 0, NULL, &c, err);
}

int ar__relu_core(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *x, uint64_t *y, uint64_t *drelu,
                  const uint8_t *extra_send, size_t send_len, uint8_t *extra_recv, size_t recv_len, char *err) {
    struct ar_cmp_sched s;
    ar_cmp_schedule(&s);
    if (n == 0) return AR_OK;
    if (p->role == AR_ROLE_DEALER) return dealer_side(p, layer, n, &s, err);
    AR_ASSERT(x && y);
    int me = ar_party_index(p), rc = AR_OK;
    size_t W = ar_plane_words(n), nb = ar_plane_bytes(n);
    struct ar_corr pand, and1, and2, inj;
    memset(&pand, 0, sizeof pand);
    and1 = and2 = inj = pand;
    const size_t L = AR_CMP_LEAVES;
    /* buffers */
    size_t max_lvl_planes = 0;
    for (int l = 1; l <= s.levels; l++) {
        size_t k = 2 * (size_t)s.pairs[l] + (size_t)s.doubles[l];
        if (k > max_lvl_planes) max_lvl_planes = k;
    }
    size_t msg1s = 8 * n + L * nb + send_len, msg1r = 8 * n + L * nb + recv_len, msgl = max_lvl_planes * nb;
    size_t msgmax = msg1s > msgl ? msg1s : msgl;
    if (msg1r > msgmax) msgmax = msg1r;
    size_t work_words = 64 * W /* X */ + L * W /* G */ + L * W /* E */ + 3 * max_lvl_planes * W /* opened */ +
                        n /* eps */ + 2 * W /* d, e */;
    uint64_t *work = ar__alloc_u64(work_words);
    uint8_t *sbuf = malloc(msgmax ? msgmax : 1), *rbuf = malloc(msgmax ? msgmax : 1);
    if (!work || !sbuf || !rbuf) {
        rc = ar_errf(err, AR_ERR_NOMEM, "relu layer %u: out of memory for n=%zu", layer, n);
        goto done;
    }
    uint64_t *X = work, *G = X + 64 * W, *E = G + L * W, *O = E + L * W, *eps = O + 3 * max_lvl_planes * W;
    uint64_t *dpl = eps + n, *epl = dpl + W;

    AR_TRY(ar_corr_get(p, AR_CORR_PAND, layer, n, L, NULL, &pand, err));
    AR_TRY(ar_corr_get(p, AR_CORR_AND, layer, n, (size_t)s.singles_total, NULL, &and1, err));
    AR_TRY(ar_corr_get(p, AR_CORR_AND2, layer, n, (size_t)s.doubles_total, NULL, &and2, err));
    AR_TRY(ar_corr_get(p, AR_CORR_BITINJ, layer, n, 0, NULL, &inj, err));
    AR_TRY(ar_corr_use(p, &pand, AR_CORR_PAND, n, L, err));
    AR_TRY(ar_corr_use(p, &and1, AR_CORR_AND, n, (size_t)s.singles_total, err));
    AR_TRY(ar_corr_use(p, &and2, AR_CORR_AND2, n, (size_t)s.doubles_total, err));
    AR_TRY(ar_corr_use(p, &inj, AR_CORR_BITINJ, n, 0, err));

    /* ---- round 1: leaves' private ANDs, eps = x - a, and the rider ---- */
    bit_slice(X, x, n, W);
    memcpy(E, X, L * W * sizeof *E); /* E_i share = own bit i */
    uint64_t *eps_mine = (uint64_t *)(void *)sbuf;
    for (size_t i = 0; i < n; i++) eps_mine[i] = x[i] - inj.a[i];
    for (size_t i = 0; i < L * W; i++) O[i] = X[i] ^ pand.ba[i]; /* m_r = own bit ^ alpha/beta */
    ar__pack_planes(sbuf + 8 * n, O, n, L);
    if (send_len) memcpy(sbuf + 8 * n + L * nb, extra_send, send_len);
    AR_TRY(ar_chan_exchange(p->peer, AR_MSG_ACT, sbuf, msg1s, rbuf, msg1r, err));
    memcpy(eps, rbuf, 8 * n);
    for (size_t i = 0; i < n; i++) eps[i] += eps_mine[i];
    ar__unpack_planes(O, rbuf + 8 * n, n, L); /* the other party's m */
    if (recv_len) memcpy(extra_recv, rbuf + 8 * n + L * nb, recv_len);
    if (me == 0)
        for (size_t i = 0; i < L * W; i++) G[i] = (X[i] & O[i]) ^ pand.bc[i];
    else
        for (size_t i = 0; i < L * W; i++) G[i] = (O[i] & pand.ba[i]) ^ pand.bc[i];

    /* ---- rounds 2..7: the tree ---- */
    size_t si = 0, di = 0; /* next single / double triple plane */
    for (int l = 1; l <= s.levels; l++) {
        int pairs = s.pairs[l], cnt_prev = s.count[l - 1];
        size_t k = 2 * (size_t)pairs + (size_t)s.doubles[l];
        /* triple planes of each pair: single pairs take and1 planes, double ones and2 planes */
        uint64_t *Od = O, *Oe = O + (size_t)pairs * W, *Oe2 = O + 2 * (size_t)pairs * W;
        size_t si0 = si, di0 = di, q = 0;
        for (int j = 0; j < pairs; j++) {
            const uint64_t *Ehi = E + (size_t)(2 * j + 1) * W, *Glo = G + (size_t)(2 * j) * W;
            const uint64_t *ta, *tb;
            if (s.need_e[l][j]) {
                ta = and2.ba + di * W;
                tb = and2.bb + di * W;
                const uint64_t *Elo = E + (size_t)(2 * j) * W, *tb2 = and2.bb2 + di * W;
                for (size_t w = 0; w < W; w++) Oe2[q * W + w] = Elo[w] ^ tb2[w];
                q++;
                di++;
            } else {
                ta = and1.ba + si * W;
                tb = and1.bb + si * W;
                si++;
            }
            for (size_t w = 0; w < W; w++) {
                Od[(size_t)j * W + w] = Ehi[w] ^ ta[w];
                Oe[(size_t)j * W + w] = Glo[w] ^ tb[w];
            }
        }
        ar__pack_planes(sbuf, O, n, k);
        AR_TRY(ar_chan_exchange(p->peer, AR_MSG_ACT, sbuf, k * nb, rbuf, k * nb, err));
        /* open: O ^= theirs (unpack theirs into the spare third of O) */
        uint64_t *T = O + k * W;
        AR_ASSERT(2 * k <= 3 * max_lvl_planes);
        ar__unpack_planes(T, rbuf, n, k);
        for (size_t i = 0; i < k * W; i++) O[i] ^= T[i];
        si = si0;
        di = di0;
        q = 0;
        for (int j = 0; j < pairs; j++) {
            const uint64_t *Ghi = G + (size_t)(2 * j + 1) * W;
            uint64_t *Gout = G + (size_t)j * W, *Eout = E + (size_t)j * W;
            const uint64_t *d = Od + (size_t)j * W, *e = Oe + (size_t)j * W;
            if (s.need_e[l][j]) {
                const uint64_t *ta = and2.ba + di * W, *tb = and2.bb + di * W, *tc = and2.bc + di * W;
                const uint64_t *tb2 = and2.bb2 + di * W, *tc2 = and2.bc2 + di * W, *e2 = Oe2 + q * W;
                for (size_t w = 0; w < W; w++) {
                    uint64_t z1 = tc[w] ^ (d[w] & tb[w]) ^ (e[w] & ta[w]) ^ (me == 0 ? d[w] & e[w] : 0);
                    uint64_t z2 = tc2[w] ^ (d[w] & tb2[w]) ^ (e2[w] & ta[w]) ^ (me == 0 ? d[w] & e2[w] : 0);
                    Gout[w] = Ghi[w] ^ z1; /* slot j <= 2j: later pairs' inputs stay intact */
                    Eout[w] = z2;
                }
                q++;
                di++;
            } else {
                const uint64_t *ta = and1.ba + si * W, *tb = and1.bb + si * W, *tc = and1.bc + si * W;
                for (size_t w = 0; w < W; w++) {
                    uint64_t z1 = tc[w] ^ (d[w] & tb[w]) ^ (e[w] & ta[w]) ^ (me == 0 ? d[w] & e[w] : 0);
                    Gout[w] = Ghi[w] ^ z1;
                }
                si++;
            }
        }
        if (cnt_prev % 2) { /* the unpaired top node passes through */
            int j = pairs;
            memmove(G + (size_t)j * W, G + (size_t)(2 * j) * W, W * sizeof *G);
            memmove(E + (size_t)j * W, E + (size_t)(2 * j) * W, W * sizeof *E);
        }
    }
    AR_ASSERT(si == (size_t)s.singles_total && di == (size_t)s.doubles_total);

    /* ---- DReLU and round 8: bit injection ---- */
    const uint64_t *msb = X + 63 * W;
    for (size_t w = 0; w < W; w++) dpl[w] = msb[w] ^ G[w] ^ (me == 0 ? ~(uint64_t)0 : 0);
    mask_tail(dpl, n);
    for (size_t w = 0; w < W; w++) epl[w] = dpl[w] ^ inj.rbits[w];
    ar__pack_planes(sbuf, epl, n, 1);
    AR_TRY(ar_chan_exchange(p->peer, AR_MSG_ACT, sbuf, nb, rbuf, nb, err));
    ar__unpack_planes(O, rbuf, n, 1);
    for (size_t w = 0; w < W; w++) epl[w] ^= O[w];
    for (size_t i = 0; i < n; i++) {
        uint64_t e = (epl[i / 64] >> (i % 64)) & 1;
        uint64_t t = eps[i] * inj.ra[i] + inj.c[i];
        y[i] = e * x[i] + (1 - 2 * e) * t;
    }
    if (drelu) memcpy(drelu, dpl, W * sizeof *drelu);

done:
fail:
    ar_corr_release(&pand);
    ar_corr_release(&and1);
    ar_corr_release(&and2);
    ar_corr_release(&inj);
    ar__wipe_free(work, work_words);
    if (sbuf) sodium_memzero(sbuf, msgmax);
    if (rbuf) sodium_memzero(rbuf, msgmax);
    free(sbuf);
    free(rbuf);
    if (rc) ar_errprefix(err, rc, "relu layer %u", layer);
    return rc;
}
