/* Frame format of the TCP transport (little-endian, fixed 24-byte header):
 *
 *   u32 magic  "ARP1"      u16 type   (enum ar_msg_type)
 *   u16 flags  (LAST, ENC) u32 seq    (frame counter of this direction)
 *   u64 len    (bytes of body that follow: payload, plus a 16-byte MAC when ENC)
 *
 * A message of L payload bytes is cut into ceil(L / AR_FRAME_MAX) frames (one
 * empty frame when L = 0); every frame but the last carries exactly AR_FRAME_MAX
 * payload bytes, so the receiver, which knows L, knows every frame's length in
 * advance and rejects any other. With encryption the body is ChaCha20-Poly1305
 * (IETF) ciphertext + MAC, the header is the associated data and the nonce is a
 * 64-bit per-direction frame counter: a modified header or body, or a replayed,
 * dropped or reordered frame, fails the seq check or the MAC. */
#ifndef AR_NET_WIRE_H
#define AR_NET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define AR_WIRE_MAGIC 0x31505241u /* "ARP1" */
#define AR_WIRE_HDR 24
#define AR_WIRE_MAC 16
#define AR_FRAME_MAX ((size_t)1 << 20)
#define AR_WIRE_FLAG_LAST 1u
#define AR_WIRE_FLAG_ENC 2u

struct ar_wire_hdr {
    uint32_t magic;
    uint16_t type;
    uint16_t flags;
    uint32_t seq;
    uint64_t len;
};

void ar_wire_encode(uint8_t out[AR_WIRE_HDR], const struct ar_wire_hdr *h);
void ar_wire_decode(struct ar_wire_hdr *h, const uint8_t in[AR_WIRE_HDR]);

/* Check a received header against what the receiver expects; on mismatch returns
 * AR_ERR_PROTO with a message naming `peer` and the offending field. */
int ar_wire_check(const struct ar_wire_hdr *h, uint16_t want_type, uint32_t want_seq, uint64_t want_len,
                  uint16_t want_flags, const char *peer, char *err);

#endif
