/* Setting up a three-party session: in one process over memory channels (tests
 * and the simulation mode), or over TCP (one party per process/host).
 *
 * In-process:
 *   struct ar_local_session s;
 *   ar_local_session_init(&s, &opts, timeout_ms, err);   // parties + channels, not set up
 *   ar_local_session_run(&s, fn, arg, err);             // fn(party, arg, err) in 3 threads
 *   ar_local_session_free(&s);
 * where fn calls ar_party_setup, the protocol walk, and ar_party_finish.
 *
 * TCP (each process):
 *   ar_party_init(&p, role, &opts, err);
 *   ar_party_connect_tcp(&p, &cfg, err);  // P0 listens for P1 and connects to D; P1
 *                                         // connects to D then P0; D listens for both
 *   ar_party_setup(&p, err); ... protocol calls ...; ar_party_finish(&p, err);
 *   ar_party_disconnect(&p); ar_party_free(&p); */
#ifndef AR_MPC_SESSION_H
#define AR_MPC_SESSION_H

#include "core/status.h"
#include "mpc/party.h"
#include "net/tcp.h"

struct ar_local_session {
    struct ar_party party[3];     /* indexed by role */
    struct ar_chan *link01[2];    /* [0] at P0, [1] at P1 */
    struct ar_chan *link0d[2];    /* [0] at P0, [1] at the dealer */
    struct ar_chan *link1d[2];    /* [0] at P1, [1] at the dealer */
    int nparties;                 /* 3, or 2 in insecure-local mode */
};

/* Create the parties (ar_party_init) and attach in-memory channels. */
AR_NODISCARD int ar_local_session_init(struct ar_local_session *s, const struct ar_party_opts *o, int timeout_ms,
                                       char *err);
typedef int (*ar_party_fn)(struct ar_party *p, void *arg, char *err);
/* Run fn for every party in its own thread. When one party fails, its channels are
 * shut down so the others fail fast. Returns AR_OK or the first failure (by role
 * order), with "P1: ..." style context in err. */
AR_NODISCARD int ar_local_session_run(struct ar_local_session *s, ar_party_fn fn, void *arg, char *err);
void ar_local_session_free(struct ar_local_session *s);

struct ar_net_config {
    char p0_host[128];     /* where P0 listens for P1 (default 127.0.0.1) */
    int p0_port;
    char dealer_host[128]; /* where the dealer listens for P0 and P1 */
    int dealer_port;
    int p0_listen_fd;      /* already-listening sockets to use instead (or -1) */
    int dealer_listen_fd;
    struct ar_tcp_opts tcp;
    /* Inactivity timeout of the dealer links (ms; default 600000). The dealer runs
     * ahead of P0 and blocks in send() while P0 is busy elsewhere, which is not an
     * error; a dead P0 is still detected at once by the connection reset. */
    int dealer_timeout_ms;
    uint8_t model_hash[AR_MODEL_HASH_BYTES]; /* must agree on all links */
};

void ar_net_config_default(struct ar_net_config *c);
/* Connect this party's links (see the top of this file); the party owns them
 * afterwards (ar_party_disconnect closes them). */
AR_NODISCARD int ar_party_connect_tcp(struct ar_party *p, const struct ar_net_config *c, char *err);
void ar_party_disconnect(struct ar_party *p);

#endif
