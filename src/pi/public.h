/* The public part of a model for secure inference, as a file the server's operator
 * hands to clients and to the dealer (they never need the weights):
 *
 *   a safetensors file with metadata
 *     autorep.public "1", autorep.arch (cfg text), autorep.arch_name, autorep.input
 *     "CxHxW", autorep.classes, autorep.sites ("plain" | "masked"), pi.frac_bits,
 *     pi.hash (hex BLAKE2b of the compiled public model), data.set, data.mean,
 *     data.std (the client's input normalisation)
 *   and, for a masked model, the per-site tensors <site>.relu_mask (U8, C x H x W)
 *   and <site>.poly (F32, C x 3: a0, a1, a2) — no weight, bias or BN statistic.
 *
 * Loading rebuilds the architecture, compiles it without weights and checks that
 * the result has the stored hash. All three parties put the compiled model's hash
 * (with the session parameters, ar_pi_session_hash) into the TCP handshake, so a
 * client or dealer with another architecture, mask, coefficient or precision is
 * refused before any secret is sent (AR_ERR_MISMATCH). */
#ifndef AR_PI_PUBLIC_H
#define AR_PI_PUBLIC_H

#include "core/status.h"
#include "io/safetensors.h"
#include "nn/net.h"
#include "pi/model.h"

struct ar_pi_public_info {
    char arch_name[128];
    char data_set[32];
    char mean[256], std[256]; /* JSON arrays as in checkpoints; empty when unknown */
    int in_c;                 /* input channels (filled by the caller when needed) */
};

/* Compile a net opened from a checkpoint (plain or masked sites). with_weights: the
 * server's model; 0: the public model. AR_ERR_ARG for site modes other than plain /
 * masked (export a masked model with `autorep replace` first). */
AR_NODISCARD int ar_pi_compile_net(const struct ar_net *net, int frac_bits, int with_weights, struct ar_pi_model *m,
                                   char *err);

/* Write the public part of `net` (compiled with frac_bits) to path. info gives the
 * architecture name and the normalisation (fields may be empty). Atomic. */
AR_NODISCARD int ar_pi_public_save(const struct ar_net *net, int frac_bits, const struct ar_pi_public_info *info,
                                   const char *path, char *err);

/* Read a public file and compile it (no weights). info may be NULL. Errors name the
 * file: not a public file (AR_ERR_FORMAT), missing or misshapen site tensors
 * (AR_ERR_FORMAT / AR_ERR_MISMATCH), a hash that does not match (AR_ERR_MISMATCH). */
AR_NODISCARD int ar_pi_public_load(const char *path, struct ar_pi_model *m, struct ar_pi_public_info *info,
                                   char *err);

/* Hex of a hash (2 * AR_PI_HASH_BYTES + 1 bytes). */
void ar_pi_hash_hex(char *out, const uint8_t *hash);

#endif
