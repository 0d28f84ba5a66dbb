/* In-memory channel pair for parties running as threads of one process (tests
 * and the in-process simulation mode). Each direction is an unbounded queue of
 * copied messages guarded by one mutex, so a full-duplex exchange is "enqueue
 * mine, then wait for theirs" and can never deadlock. Messages carry a type and a
 * per-direction sequence number that the receiver checks, exactly as the TCP
 * framing does. Closing one end wakes the other, which then fails with
 * AR_ERR_NET instead of waiting; a silent peer gives AR_ERR_TIMEOUT. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assert.h"
#include "net/chan.h"

struct mc_msg {
    struct mc_msg *next;
    uint16_t type;
    uint32_t seq;
    size_t len;
    uint8_t data[];
};

struct mc_shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mc_msg *head[2], *tail[2]; /* queue s holds messages for side s */
    int closed[2];
    int refs;
};

struct memchan {
    struct ar_chan base;
    struct mc_shared *sh;
    int side;
    uint32_t tx_seq, rx_seq;
};

static int mc_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    struct memchan *m = (struct memchan *)c;
    struct mc_shared *sh = m->sh;
    struct mc_msg *msg = malloc(sizeof *msg + len);
    if (!msg) return ar_errf(err, AR_ERR_NOMEM, "%s: out of memory queueing a %zu-byte message", c->name, len);
    msg->next = NULL;
    msg->type = type;
    msg->seq = m->tx_seq++;
    msg->len = len;
    if (len) memcpy(msg->data, buf, len);
    int peer = 1 - m->side;
    pthread_mutex_lock(&sh->mu);
    if (sh->closed[peer]) {
        pthread_mutex_unlock(&sh->mu);
        sodium_memzero(msg->data, len);
        free(msg);
        return ar_errf(err, AR_ERR_NET, "%s: peer closed the channel (sending %s message)", c->name,
                       ar_msg_name(type));
    }
    if (sh->tail[peer]) sh->tail[peer]->next = msg;
    else sh->head[peer] = msg;
    sh->tail[peer] = msg;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    c->st.wire_sent += len;
    return AR_OK;
}

static int mc_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    struct memchan *m = (struct memchan *)c;
    struct mc_shared *sh = m->sh;
    int me = m->side;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (c->timeout_ms > 0) {
        deadline.tv_sec += c->timeout_ms / 1000;
        deadline.tv_nsec += (long)(c->timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&sh->mu);
    while (!sh->head[me]) {
        if (sh->closed[1 - me]) {
            pthread_mutex_unlock(&sh->mu);
            return ar_errf(err, AR_ERR_NET, "%s: peer closed the channel (waiting for %s message)", c->name,
                           ar_msg_name(type));
        }
        int w = c->timeout_ms > 0 ? pthread_cond_timedwait(&sh->cv, &sh->mu, &deadline)
                                  : pthread_cond_wait(&sh->cv, &sh->mu);
        if (w == ETIMEDOUT && !sh->head[me]) {
            pthread_mutex_unlock(&sh->mu);
            return ar_errf(err, AR_ERR_TIMEOUT, "%s: no %s message within %d ms", c->name, ar_msg_name(type),
                           c->timeout_ms);
        }
    }
    struct mc_msg *msg = sh->head[me];
    sh->head[me] = msg->next;
    if (!sh->head[me]) sh->tail[me] = NULL;
    pthread_mutex_unlock(&sh->mu);
    int rc = AR_OK;
    if (msg->seq != m->rx_seq)
        rc = ar_errf(err, AR_ERR_PROTO, "%s: message seq %u, expected %u", c->name, msg->seq, m->rx_seq);
    else if (msg->type != type)
        rc = ar_errf(err, AR_ERR_PROTO, "%s: got a %s message, expected %s (seq %u)", c->name,
                     ar_msg_name(msg->type), ar_msg_name(type), msg->seq);
    else if (msg->len != len)
        rc = ar_errf(err, AR_ERR_PROTO, "%s: %s message of %zu bytes, expected %zu (seq %u)", c->name,
                     ar_msg_name(type), msg->len, len, msg->seq);
    else if (len)
        memcpy(buf, msg->data, len);
    m->rx_seq++;
    c->st.wire_recv += msg->len;
    sodium_memzero(msg->data, msg->len);
    free(msg);
    return rc;
}

static int mc_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                       char *err) {
    int rc = mc_send(c, type, sbuf, slen, err);
    if (rc) return rc;
    return mc_recv(c, type, rbuf, rlen, err);
}

static void mc_shutdown(struct ar_chan *c) {
    struct memchan *m = (struct memchan *)c;
    pthread_mutex_lock(&m->sh->mu);
    m->sh->closed[m->side] = 1;
    pthread_cond_broadcast(&m->sh->cv);
    pthread_mutex_unlock(&m->sh->mu);
}

static void mc_destroy(struct ar_chan *c) {
    struct memchan *m = (struct memchan *)c;
    struct mc_shared *sh = m->sh;
    pthread_mutex_lock(&sh->mu);
    sh->closed[m->side] = 1;
    int left = --sh->refs;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    if (left == 0) {
        for (int s = 0; s < 2; s++) {
            struct mc_msg *msg = sh->head[s];
            while (msg) {
                struct mc_msg *next = msg->next;
                sodium_memzero(msg->data, msg->len);
                free(msg);
                msg = next;
            }
        }
        pthread_cond_destroy(&sh->cv);
        pthread_mutex_destroy(&sh->mu);
        free(sh);
    }
    free(m);
}

static const struct ar_chan_ops mc_ops = {mc_send, mc_recv, mc_exchange, mc_shutdown, mc_destroy};

int ar_memchan_pair(struct ar_chan **a, struct ar_chan **b, const char *name_of_b_at_a, const char *name_of_a_at_b,
                    int timeout_ms, char *err) {
    struct mc_shared *sh = calloc(1, sizeof *sh);
    struct memchan *ma = calloc(1, sizeof *ma), *mb = calloc(1, sizeof *mb);
    if (!sh || !ma || !mb) {
        free(sh);
        free(ma);
        free(mb);
        return ar_errf(err, AR_ERR_NOMEM, "memchan: out of memory");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&sh->mu, NULL);
    sh->refs = 2;
    struct memchan *ends[2] = {ma, mb};
    const char *names[2] = {name_of_b_at_a, name_of_a_at_b};
    for (int s = 0; s < 2; s++) {
        ends[s]->base.ops = &mc_ops;
        ends[s]->base.timeout_ms = timeout_ms;
        snprintf(ends[s]->base.name, sizeof ends[s]->base.name, "%s", names[s] ? names[s] : "peer");
        ends[s]->sh = sh;
        ends[s]->side = s;
    }
    *a = &ma->base;
    *b = &mb->base;
    return AR_OK;
}
