/* Internal helpers shared by the files of src/mpc/ (not part of the public API). */
#ifndef AR_MPC_INTERNAL_H
#define AR_MPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mpc/dealer.h"
#include "mpc/party.h"

/* Pop one preloaded dealer message (tag, payload); NULL when none is buffered.
 * Free with ar__preload_free. */
struct ar_preloaded *ar__preload_pop(struct ar_party *p, uint8_t tag[AR_CORR_TAG_BYTES], size_t *len,
                                     uint8_t **data);
void ar__preload_free(struct ar_preloaded *m, size_t len);

/* Zeroing free of a buffer of n uint64 (accepts NULL). */
void ar__wipe_free(uint64_t *p, size_t n);
/* malloc of n uint64 (at least 1). NULL on failure. */
uint64_t *ar__alloc_u64(size_t n);

/* Copy `count` bit-planes of n bits (ar_plane_words(n) words each) to/from a
 * message where each plane takes ar_plane_bytes(n) bytes. Unpacking zeroes the
 * bits at positions >= n. */
void ar__pack_planes(uint8_t *dst, const uint64_t *planes, size_t n, size_t count);
void ar__unpack_planes(uint64_t *planes, const uint8_t *src, size_t n, size_t count);

/* Register the one-time setup of a linear layer (fails if already set up), and
 * check that a layer was set up with `w_count` weights. */
int ar__layer_register(struct ar_party *p, uint32_t layer, size_t w_count, char *err);
int ar__layer_check(const struct ar_party *p, uint32_t layer, size_t w_count, char *err);

/* ReLU core without measurement (used by relu, the mixed site and max-pool). An
 * optional payload rides in the first message: send_len bytes sent, recv_len
 * received (the peer passes the mirror lengths). */
int ar__relu_core(struct ar_party *p, uint32_t layer, size_t n, const uint64_t *x, uint64_t *y, uint64_t *drelu,
                  const uint8_t *extra_send, size_t send_len, uint8_t *extra_recv, size_t recv_len, char *err);

#endif
