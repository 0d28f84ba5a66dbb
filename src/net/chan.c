/* Channel front end (chan.h): argument checks, the sticky failure flag, payload
 * counters, and names for roles and message types. Transports implement the
 * ops table and count wire bytes themselves. */
#include "net/chan.h"

#include "core/assert.h"

const char *ar_role_name(int role) {
    switch (role) {
    case AR_ROLE_P0: return "P0";
    case AR_ROLE_P1: return "P1";
    case AR_ROLE_DEALER: return "dealer";
    case AR_ROLE_ANY: return "any";
    default: return "?";
    }
}

const char *ar_msg_name(int type) {
    switch (type) {
    case AR_MSG_HELLO: return "hello";
    case AR_MSG_AUTH: return "auth";
    case AR_MSG_SETUP: return "setup";
    case AR_MSG_MODEL: return "model";
    case AR_MSG_CORR_TAG: return "corr-tag";
    case AR_MSG_CORR: return "corr";
    case AR_MSG_END: return "end";
    case AR_MSG_LINEAR: return "linear";
    case AR_MSG_ACT: return "act";
    case AR_MSG_REVEAL: return "reveal";
    case AR_MSG_SYNC: return "sync";
    case AR_MSG_TEST: return "test";
    default: return "unknown";
    }
}

static int check_usable(struct ar_chan *c, char *err) {
    if (c->failed) return ar_errf(err, AR_ERR_NET, "%s: channel unusable after an earlier error", c->name);
    return AR_OK;
}

int ar_chan_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    AR_ASSERT(c && (buf || len == 0));
    int rc = check_usable(c, err);
    if (rc) return rc;
    rc = c->ops->send(c, type, buf, len, err);
    if (rc) {
        c->failed = 1;
        return rc;
    }
    c->st.bytes_sent += len;
    c->st.msgs_sent++;
    return AR_OK;
}

int ar_chan_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    AR_ASSERT(c && (buf || len == 0));
    int rc = check_usable(c, err);
    if (rc) return rc;
    rc = c->ops->recv(c, type, buf, len, err);
    if (rc) {
        c->failed = 1;
        return rc;
    }
    c->st.bytes_recv += len;
    c->st.msgs_recv++;
    return AR_OK;
}

int ar_chan_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                     char *err) {
    AR_ASSERT(c && (sbuf || slen == 0) && (rbuf || rlen == 0));
    int rc = check_usable(c, err);
    if (rc) return rc;
    rc = c->ops->exchange(c, type, sbuf, slen, rbuf, rlen, err);
    if (rc) {
        c->failed = 1;
        return rc;
    }
    c->st.bytes_sent += slen;
    c->st.bytes_recv += rlen;
    c->st.msgs_sent++;
    c->st.msgs_recv++;
    c->st.exchanges++;
    return AR_OK;
}

void ar_chan_shutdown(struct ar_chan *c) {
    if (!c) return;
    c->failed = 1;
    c->ops->shutdown(c);
}

void ar_chan_close(struct ar_chan *c) {
    if (c) c->ops->destroy(c);
}
