/* Tests of the protocol PRG (src/mpc/prg.c): determinism, independence of read
 * splitting, domain separation over every label field and the seed, agreement
 * with the raw libsodium XChaCha20 stream, bit masking, and bit balance. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/rng.h"
#include "mpc/prg.h"

static void test_seed(uint8_t seed[AR_SEED_BYTES], uint64_t salt) {
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 21, salt);
    for (int i = 0; i < AR_SEED_BYTES; i++) seed[i] = (uint8_t)ar_rng_u64(&r);
}

AR_TEST(mpc_prg_deterministic_and_split_invariant) {
    uint8_t seed[AR_SEED_BYTES];
    test_seed(seed, 1);
    struct ar_label lab = {.seq = 5, .layer = 3, .op = 2, .comp = 1, .party = 1};
    struct ar_prg a, b;
    ar_prg_init(&a, seed, &lab);
    ar_prg_init(&b, seed, &lab);
    uint64_t x[100], y[100];
    ar_prg_u64(&a, x, 100);
    /* the same stream read in odd-sized pieces */
    uint8_t *yb = (uint8_t *)y;
    size_t cuts[] = {1, 7, 56, 3, 133, 200, 400};
    size_t pos = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ar_prg_bytes(&b, yb + pos, cuts[i]);
        pos += cuts[i];
    }
    REQUIRE(pos == sizeof y);
    CHECK(memcmp(x, y, sizeof x) == 0);
    /* equal to the raw XChaCha20 stream under the derived key with a zero nonce */
    uint8_t raw[800], nonce[crypto_stream_xchacha20_NONCEBYTES] = {0};
    crypto_stream_xchacha20(raw, sizeof raw, nonce, a.key);
    CHECK(memcmp(raw, x, sizeof raw) == 0);
    ar_prg_free(&a);
    ar_prg_free(&b);
    int zero = 1;
    for (size_t i = 0; i < sizeof a.key; i++) zero &= a.key[i] == 0;
    CHECK(zero);
    ar_prg_free(NULL);
}

AR_TEST(mpc_prg_domain_separation) {
    uint8_t seed[AR_SEED_BYTES], seed2[AR_SEED_BYTES];
    test_seed(seed, 2);
    memcpy(seed2, seed, sizeof seed);
    seed2[31] ^= 1;
    struct ar_label base = {.seq = 9, .layer = 4, .op = 1, .comp = 2, .party = 0};
    struct ar_label labs[7];
    for (int i = 0; i < 7; i++) labs[i] = base;
    labs[1].seq++;
    labs[2].layer++;
    labs[3].op++;
    labs[4].comp++;
    labs[5].party++;
    labs[6].sid[15] ^= 0x80;
    uint64_t out[8][4];
    for (int i = 0; i < 8; i++) {
        struct ar_prg g;
        ar_prg_init(&g, i < 7 ? seed : seed2, i < 7 ? &labs[i] : &base);
        ar_prg_u64(&g, out[i], 4);
        ar_prg_free(&g);
    }
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) CHECK_MSG(memcmp(out[i], out[j], sizeof out[i]) != 0, "streams %d and %d", i, j);
}

AR_TEST(mpc_prg_bits_masked_and_balanced) {
    uint8_t seed[AR_SEED_BYTES];
    test_seed(seed, 3);
    struct ar_label lab = {.op = 7};
    struct ar_prg g;
    ar_prg_init(&g, seed, &lab);
    uint64_t w[3];
    ar_prg_bits(&g, w, 130);
    CHECK((w[2] >> 2) == 0);
    size_t n = 1 << 16;
    uint64_t *buf = malloc(n * sizeof *buf);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ar_prg_u64(&g, buf, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("    prg: %.0f MB/s\n", (double)n * 8 / sec * 1e-6);
    /* every bit position is set about half the time: |count - n/2| < 5 sigma */
    for (int b = 0; b < 64; b++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += (buf[i] >> b) & 1;
        CHECK_MSG(fabs((double)cnt - n / 2.0) < 5 * sqrt(n / 4.0), "bit %d set %zu of %zu", b, cnt, n);
    }
    free(buf);
    ar_prg_free(&g);
}
