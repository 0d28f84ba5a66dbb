/* Encoding and validation of the 24-byte frame header (wire.h). */
#include "net/wire.h"

#include <inttypes.h>

#include "core/status.h"
#include "net/chan.h"

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void ar_wire_encode(uint8_t out[AR_WIRE_HDR], const struct ar_wire_hdr *h) {
    put32(out, h->magic);
    put16(out + 4, h->type);
    put16(out + 6, h->flags);
    put32(out + 8, h->seq);
    put32(out + 12, 0); /* reserved, keeps len 8-byte aligned */
    put64(out + 16, h->len);
}

void ar_wire_decode(struct ar_wire_hdr *h, const uint8_t in[AR_WIRE_HDR]) {
    h->magic = get32(in);
    h->type = get16(in + 4);
    h->flags = get16(in + 6);
    h->seq = get32(in + 8);
    h->len = get64(in + 16);
}

int ar_wire_check(const struct ar_wire_hdr *h, uint16_t want_type, uint32_t want_seq, uint64_t want_len,
                  uint16_t want_flags, const char *peer, char *err) {
    if (h->magic != AR_WIRE_MAGIC)
        return ar_errf(err, AR_ERR_PROTO, "%s: bad frame magic 0x%08" PRIx32 " (not an autorep peer or stream desync)",
                       peer, h->magic);
    if (h->seq != want_seq)
        return ar_errf(err, AR_ERR_PROTO, "%s: frame seq %" PRIu32 ", expected %" PRIu32
                       " (replayed, lost or reordered frame)", peer, h->seq, want_seq);
    if (h->type != want_type)
        return ar_errf(err, AR_ERR_PROTO, "%s: frame type %u (%s), expected %u (%s) at seq %" PRIu32, peer,
                       h->type, ar_msg_name(h->type), want_type, ar_msg_name(want_type), h->seq);
    if (h->len != want_len)
        return ar_errf(err, AR_ERR_PROTO, "%s: frame length %" PRIu64 ", expected %" PRIu64 " (%s message, seq %" PRIu32 ")",
                       peer, h->len, want_len, ar_msg_name(want_type), h->seq);
    if (h->flags != want_flags)
        return ar_errf(err, AR_ERR_PROTO, "%s: frame flags 0x%x, expected 0x%x (%s message, seq %" PRIu32 ")", peer,
                       h->flags, want_flags, ar_msg_name(want_type), h->seq);
    return AR_OK;
}
