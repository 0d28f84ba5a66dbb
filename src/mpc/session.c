/* Three-party session plumbing (session.h): memory-channel sessions run as
 * threads, and the TCP connection sequence of each role. */
#include "mpc/session.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/assert.h"

int ar_local_session_init(struct ar_local_session *s, const struct ar_party_opts *o, int timeout_ms, char *err) {
    memset(s, 0, sizeof *s);
    int local = o->provider == AR_PROVIDER_INSECURE_LOCAL, rc;
    s->nparties = local ? 2 : 3;
    for (int r = 0; r < s->nparties; r++)
        if ((rc = ar_party_init(&s->party[r], r, o, err))) goto fail;
    if ((rc = ar_memchan_pair(&s->link01[0], &s->link01[1], "P1", "P0", timeout_ms, err))) goto fail;
    if (!local) {
        if ((rc = ar_memchan_pair(&s->link0d[0], &s->link0d[1], "dealer", "P0", timeout_ms, err))) goto fail;
        if ((rc = ar_memchan_pair(&s->link1d[0], &s->link1d[1], "dealer", "P1", timeout_ms, err))) goto fail;
    }
    ar_party_attach(&s->party[0], s->link01[0], s->link0d[0], NULL, NULL);
    ar_party_attach(&s->party[1], s->link01[1], s->link1d[0], NULL, NULL);
    if (!local) ar_party_attach(&s->party[2], NULL, NULL, s->link0d[1], s->link1d[1]);
    return AR_OK;
fail:
    ar_local_session_free(s);
    return rc;
}

struct run_arg {
    struct ar_party *p;
    ar_party_fn fn;
    void *arg;
    int rc;
    char err[AR_ERR_LEN];
};

static void *run_thread(void *v) {
    struct run_arg *a = v;
    a->err[0] = 0;
    a->rc = a->fn(a->p, a->arg, a->err);
    if (a->rc) {
        /* wake the others instead of letting them wait for the timeout */
        ar_chan_shutdown(a->p->peer);
        ar_chan_shutdown(a->p->dealer);
        ar_chan_shutdown(a->p->to_p0);
        ar_chan_shutdown(a->p->to_p1);
    }
    return NULL;
}

int ar_local_session_run(struct ar_local_session *s, ar_party_fn fn, void *arg, char *err) {
    struct run_arg a[3];
    pthread_t t[3];
    for (int r = 0; r < s->nparties; r++) {
        a[r].p = &s->party[r];
        a[r].fn = fn;
        a[r].arg = arg;
        a[r].rc = 0;
        if (pthread_create(&t[r], NULL, run_thread, &a[r]) != 0) {
            for (int q = 0; q < r; q++) pthread_join(t[q], NULL);
            return ar_errf(err, AR_ERR_BACKEND, "cannot start the %s thread", ar_role_name(r));
        }
    }
    for (int r = 0; r < s->nparties; r++) pthread_join(t[r], NULL);
    /* report the root cause: prefer an error that is not a consequence (peer closed) */
    int pick = -1;
    for (int r = 0; r < s->nparties; r++)
        if (a[r].rc && (pick < 0 || (a[pick].rc == AR_ERR_NET && a[r].rc != AR_ERR_NET))) pick = r;
    if (pick < 0) return AR_OK;
    return ar_errf(err, a[pick].rc, "%s: %s", ar_role_name(pick), a[pick].err);
}

void ar_local_session_free(struct ar_local_session *s) {
    for (int r = 0; r < 3; r++) ar_party_free(&s->party[r]);
    for (int i = 0; i < 2; i++) {
        ar_chan_close(s->link01[i]);
        ar_chan_close(s->link0d[i]);
        ar_chan_close(s->link1d[i]);
    }
    memset(s, 0, sizeof *s);
}

void ar_net_config_default(struct ar_net_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->p0_host, sizeof c->p0_host, "%s", AR_DEFAULT_HOST);
    snprintf(c->dealer_host, sizeof c->dealer_host, "%s", AR_DEFAULT_HOST);
    c->p0_port = 7100;
    c->dealer_port = 7101;
    c->p0_listen_fd = c->dealer_listen_fd = -1;
    ar_tcp_opts_default(&c->tcp);
    c->dealer_timeout_ms = 600000;
}

int ar_party_connect_tcp(struct ar_party *p, const struct ar_net_config *c, char *err) {
    struct ar_handshake hs;
    memcpy(hs.model_hash, c->model_hash, sizeof hs.model_hash);
    hs.my_role = p->role;
    int rc = AR_OK, lfd = -1, own_lfd = 0, got;
    struct ar_chan *peer = NULL, *dealer = NULL, *a = NULL, *b = NULL;
    int local = p->provider == AR_PROVIDER_INSECURE_LOCAL;
    if (p->role == AR_ROLE_P0) {
        lfd = c->p0_listen_fd;
        if (lfd < 0) {
            AR_TRY(ar_tcp_listen(c->p0_host, c->p0_port, &lfd, &got, err));
            own_lfd = 1;
        }
        if (!local) {
            hs.peer_role = AR_ROLE_DEALER;
            AR_TRY(ar_tcp_connect(c->dealer_host, c->dealer_port, &hs, &c->tcp, &dealer, err));
        }
        hs.peer_role = AR_ROLE_P1;
        AR_TRY(ar_tcp_accept(lfd, &hs, &c->tcp, &peer, NULL, err));
        ar_party_attach(p, peer, dealer, NULL, NULL);
    } else if (p->role == AR_ROLE_P1) {
        if (!local) {
            hs.peer_role = AR_ROLE_DEALER;
            AR_TRY(ar_tcp_connect(c->dealer_host, c->dealer_port, &hs, &c->tcp, &dealer, err));
        }
        hs.peer_role = AR_ROLE_P0;
        AR_TRY(ar_tcp_connect(c->p0_host, c->p0_port, &hs, &c->tcp, &peer, err));
        ar_party_attach(p, peer, dealer, NULL, NULL);
    } else {
        lfd = c->dealer_listen_fd;
        if (lfd < 0) {
            AR_TRY(ar_tcp_listen(c->dealer_host, c->dealer_port, &lfd, &got, err));
            own_lfd = 1;
        }
        hs.peer_role = AR_ROLE_ANY;
        int ra = -1, rb = -1;
        AR_TRY(ar_tcp_accept(lfd, &hs, &c->tcp, &a, &ra, err));
        AR_TRY(ar_tcp_accept(lfd, &hs, &c->tcp, &b, &rb, err));
        if (ra == rb) {
            rc = ar_errf(err, AR_ERR_MISMATCH, "dealer: two connections both claim to be %s", ar_role_name(ra));
            goto fail;
        }
        ar_party_attach(p, NULL, NULL, ra == AR_ROLE_P0 ? a : b, ra == AR_ROLE_P0 ? b : a);
    }
    /* dealer links: the long timeout (see session.h) */
    if (dealer) dealer->timeout_ms = c->dealer_timeout_ms;
    if (a) a->timeout_ms = c->dealer_timeout_ms;
    if (b) b->timeout_ms = c->dealer_timeout_ms;
    p->owns_chans = 1;
    if (own_lfd) ar_tcp_close_listener(lfd);
    return AR_OK;
fail:
    ar_chan_close(peer);
    ar_chan_close(dealer);
    ar_chan_close(a);
    ar_chan_close(b);
    if (own_lfd) ar_tcp_close_listener(lfd);
    return ar_errprefix(err, rc, "%s connect", ar_role_name(p->role));
}

void ar_party_disconnect(struct ar_party *p) {
    if (!p->owns_chans) return;
    ar_chan_close(p->peer);
    ar_chan_close(p->dealer);
    ar_chan_close(p->to_p0);
    ar_chan_close(p->to_p1);
    p->peer = p->dealer = p->to_p0 = p->to_p1 = NULL;
    p->owns_chans = 0;
}
