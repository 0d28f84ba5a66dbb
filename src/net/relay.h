/* A userspace link emulator: a TCP relay that forwards one connection with a
 * one-way delay and a bandwidth limit in each direction, for machines whose kernel
 * has no tc netem (or without root). `autorep pi local --net lan|wan` puts it
 * between the client and the server.
 *
 * Model per direction: a chunk read at time t starts serialising when the link is
 * free, takes len * 8 / rate seconds, and is delivered `delay` seconds after its
 * last bit left (so an idle link gives delay + len / rate, a busy one queues). At
 * most `max_queue` bytes wait per direction; beyond that the relay stops reading
 * (TCP back-pressure reaches the sender). The relay is transparent to the
 * encrypted framing: it never looks at the bytes. */
#ifndef AR_NET_RELAY_H
#define AR_NET_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct ar_relay_opts {
    double delay_s;      /* one-way delay */
    double bits_per_s;   /* bandwidth (0 = unlimited) */
    size_t max_queue;    /* bytes queued per direction before reading stops (default 64 MiB) */
    int accept_timeout_ms;
};

struct ar_relay_stats {
    uint64_t bytes[2]; /* forwarded: [0] accepted side -> upstream, [1] upstream -> accepted side */
};

/* Accept one connection on lfd, connect to host:port, forward both directions
 * until both sides have closed, an error occurs, or *stop becomes non-zero.
 * Returns AR_OK when both sides closed normally. */
AR_NODISCARD int ar_relay_run(int lfd, const char *host, int port, const struct ar_relay_opts *o,
                              volatile int *stop, struct ar_relay_stats *st, char *err);

#endif
