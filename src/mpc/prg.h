/* Cryptographic pseudo-random generator for the protocols: an XChaCha20 key
 * stream (libsodium) whose key is derived from a 32-byte seed and a public
 * domain-separation label by keyed BLAKE2b.
 *
 *   key    = BLAKE2b-256(key = seed, msg = "autorep/prg/v1" || sid || seq || layer || op || comp || party)
 *   stream = XChaCha20(key, nonce = 0), read sequentially from byte 0
 *
 * Each distinct label gives an independent stream, so a correlation component
 * (e.g. "layer 7 / relu / tree triple b / P1 share") is never drawn twice from
 * the same stream. Seeds come from randombytes_buf (OS entropy) in real runs;
 * tests may fix them. Keys are wiped with sodium_memzero by ar_prg_free. */
#ifndef AR_MPC_PRG_H
#define AR_MPC_PRG_H

#include <stddef.h>
#include <stdint.h>

#define AR_SEED_BYTES 32
#define AR_SID_BYTES 16

/* Public label of a stream. All fields are public protocol metadata. */
struct ar_label {
    uint8_t sid[AR_SID_BYTES]; /* session id */
    uint64_t seq;              /* correlation sequence number in the session (0 for per-model material) */
    uint32_t layer;            /* layer id given by the executor */
    uint32_t op;               /* protocol / correlation kind (AR_CORR_* in dealer.h) */
    uint32_t comp;             /* component within the correlation */
    uint32_t party;            /* whose component: 0 = P0, 1 = P1, 2 = dealer-only, 3 = shared P0/P1 */
};

struct ar_prg {
    uint8_t key[32];
    uint64_t pos; /* bytes of key stream consumed so far */
};

/* Initialise libsodium once (thread-safe). Returns 0, or -1 when libsodium fails. */
int ar_crypto_init(void);

/* Fill `seed` with AR_SEED_BYTES from the OS entropy source. */
void ar_seed_random(uint8_t seed[AR_SEED_BYTES]);

/* Derive the stream for (seed, label). */
void ar_prg_init(struct ar_prg *g, const uint8_t seed[AR_SEED_BYTES], const struct ar_label *lab);
/* Next n bytes of the stream. */
void ar_prg_bytes(struct ar_prg *g, void *out, size_t n);
/* Next n full-width uniform ring elements (8 bytes each, little-endian). */
void ar_prg_u64(struct ar_prg *g, uint64_t *out, size_t n);
/* Next ceil(nbits/64) words of uniform bits; bits at positions >= nbits of the last
 * word are set to zero. */
void ar_prg_bits(struct ar_prg *g, uint64_t *words, size_t nbits);
/* Wipe the key. Accepts NULL. */
void ar_prg_free(struct ar_prg *g);

/* Derive a 32-byte sub-seed from a seed and a short ASCII context (used to split a
 * master seed into per-link seeds in the deterministic test mode). */
void ar_seed_derive(uint8_t out[AR_SEED_BYTES], const uint8_t seed[AR_SEED_BYTES], const char *context);

#endif
