/* Deterministic pseudo-random numbers for initialisation, shuffling and data
 * augmentation (never for cryptography: the MPC code uses libsodium).
 *
 * xoshiro256** seeded through splitmix64. Streams are derived from (seed, stream id)
 * so that, e.g., the augmentation of sample i in epoch e is the same whatever the
 * thread count or MPI rank that processes it. */
#ifndef AR_RNG_H
#define AR_RNG_H

#include <math.h>
#include <stdint.h>

struct ar_rng {
    uint64_t s[4];
};

static inline uint64_t ar_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seed a generator from a seed and up to two stream identifiers. */
static inline void ar_rng_seed(struct ar_rng *r, uint64_t seed, uint64_t stream_a, uint64_t stream_b) {
    uint64_t x = seed ^ 0x243f6a8885a308d3ULL;
    x = ar_splitmix64(&x) ^ stream_a;
    x = ar_splitmix64(&x) ^ stream_b;
    for (int i = 0; i < 4; i++) r->s[i] = ar_splitmix64(&x);
}

static inline uint64_t ar_rng_u64(struct ar_rng *r) {
    uint64_t *s = r->s;
    uint64_t res = s[1] * 5;
    res = ((res << 7) | (res >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
static inline float ar_rng_uniform(struct ar_rng *r) {
    return (float)(ar_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double ar_rng_uniform_d(struct ar_rng *r) {
    return (double)(ar_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method). */
static inline uint64_t ar_rng_below(struct ar_rng *r, uint64_t n) {
    for (;;) {
        uint64_t x = ar_rng_u64(r);
        __uint128_t m = (__uint128_t)x * n;
        uint64_t lo = (uint64_t)m;
        if (lo >= n || lo >= (uint64_t)(-n) % n) return (uint64_t)(m >> 64);
    }
}

/* Standard normal (Box-Muller, one value per call). */
static inline double ar_rng_normal(struct ar_rng *r) {
    double u1 = ar_rng_uniform_d(r), u2 = ar_rng_uniform_d(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
