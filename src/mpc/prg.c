/* Seeded, domain-separated XChaCha20 streams for correlated randomness (prg.h).
 *
 * Invariant: a stream is a pure function of (seed, label); reading is sequential
 * and independent of how the reads are split (ar_prg_u64(g, a, 3) then
 * ar_prg_u64(g, b, 5) yields the same 64 bytes as one read of 8 elements), so the
 * dealer and a party that expand the same component always agree. */
#include "mpc/prg.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/assert.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void sodium_init_once(void) { sodium_status = sodium_init() < 0 ? -1 : 0; }

int ar_crypto_init(void) {
    pthread_once(&sodium_once, sodium_init_once);
    return sodium_status;
}

void ar_seed_random(uint8_t seed[AR_SEED_BYTES]) {
    AR_ASSERT(ar_crypto_init() == 0);
    randombytes_buf(seed, AR_SEED_BYTES);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void ar_prg_init(struct ar_prg *g, const uint8_t seed[AR_SEED_BYTES], const struct ar_label *lab) {
    AR_ASSERT(ar_crypto_init() == 0);
    static const char domain[16] = "autorep/prg/v1";
    uint8_t msg[16 + AR_SID_BYTES + 8 + 16];
    memcpy(msg, domain, 16);
    memcpy(msg + 16, lab->sid, AR_SID_BYTES);
    put_u64(msg + 16 + AR_SID_BYTES, lab->seq);
    put_u32(msg + 24 + AR_SID_BYTES, lab->layer);
    put_u32(msg + 28 + AR_SID_BYTES, lab->op);
    put_u32(msg + 32 + AR_SID_BYTES, lab->comp);
    put_u32(msg + 36 + AR_SID_BYTES, lab->party);
    crypto_generichash_blake2b(g->key, sizeof g->key, msg, sizeof msg, seed, AR_SEED_BYTES);
    g->pos = 0;
}

void ar_prg_bytes(struct ar_prg *g, void *out, size_t n) {
    static const uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
    uint8_t *o = out;
    if (n == 0) return;
    /* an unaligned head: take the rest of the current 64-byte block */
    size_t off = (size_t)(g->pos % 64);
    if (off) {
        uint8_t blk[64];
        memset(blk, 0, sizeof blk);
        crypto_stream_xchacha20_xor_ic(blk, blk, sizeof blk, nonce, g->pos / 64, g->key);
        size_t take = 64 - off < n ? 64 - off : n;
        memcpy(o, blk + off, take);
        sodium_memzero(blk, sizeof blk);
        o += take;
        n -= take;
        g->pos += take;
    }
    if (n) {
        memset(o, 0, n);
        crypto_stream_xchacha20_xor_ic(o, o, n, nonce, g->pos / 64, g->key);
        g->pos += n;
    }
}

void ar_prg_u64(struct ar_prg *g, uint64_t *out, size_t n) {
    ar_prg_bytes(g, out, n * sizeof *out);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    for (size_t i = 0; i < n; i++) out[i] = __builtin_bswap64(out[i]);
#endif
}

void ar_prg_bits(struct ar_prg *g, uint64_t *words, size_t nbits) {
    size_t nw = (nbits + 63) / 64;
    ar_prg_u64(g, words, nw);
    if (nbits % 64) words[nw - 1] &= ((uint64_t)1 << (nbits % 64)) - 1;
}

void ar_prg_free(struct ar_prg *g) {
    if (g) sodium_memzero(g, sizeof *g);
}

void ar_seed_derive(uint8_t out[AR_SEED_BYTES], const uint8_t seed[AR_SEED_BYTES], const char *context) {
    AR_ASSERT(ar_crypto_init() == 0);
    crypto_generichash_blake2b(out, AR_SEED_BYTES, (const uint8_t *)context, strlen(context), seed, AR_SEED_BYTES);
}
