/* Tests of the in-memory channel (src/net/memchan.c) and the channel front end:
 * delivery and counters, type/length/sequence checks, peer close, timeouts, the
 * sticky failure flag, and exchanges between two threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "net/chan.h"

AR_TEST(net_memchan_delivery_and_counters) {
    char err[AR_ERR_LEN] = "";
    struct ar_chan *a, *b;
    REQUIRE_OK(ar_memchan_pair(&a, &b, "B", "A", 1000, err), err);
    uint8_t m1[5] = {1, 2, 3, 4, 5}, r1[5];
    REQUIRE_OK(ar_chan_send(a, AR_MSG_TEST, m1, 5, err), err);
    REQUIRE_OK(ar_chan_send(a, AR_MSG_TEST, NULL, 0, err), err);
    REQUIRE_OK(ar_chan_recv(b, AR_MSG_TEST, r1, 5, err), err);
    REQUIRE_OK(ar_chan_recv(b, AR_MSG_TEST, NULL, 0, err), err);
    CHECK(memcmp(m1, r1, 5) == 0);
    /* exchange from both sides (single thread: a sends first, b's exchange finds it) */
    uint64_t x = 7, y = 9, rx = 0, ry = 0;
    REQUIRE_OK(ar_chan_send(a, AR_MSG_ACT, &x, 8, err), err);
    REQUIRE_OK(ar_chan_exchange(b, AR_MSG_ACT, &y, 8, &ry, 8, err), err);
    REQUIRE_OK(ar_chan_recv(a, AR_MSG_ACT, &rx, 8, err), err);
    CHECK(rx == 9 && ry == 7);
    CHECK(a->st.bytes_sent == 13 && a->st.msgs_sent == 3 && a->st.bytes_recv == 8);
    CHECK(b->st.bytes_recv == 13 && b->st.exchanges == 1 && b->st.bytes_sent == 8);
    ar_chan_close(a);
    ar_chan_close(b);
    ar_chan_close(NULL);
}

AR_TEST(net_memchan_rejects_wrong_type_length_and_is_sticky) {
    char err[AR_ERR_LEN] = "";
    struct ar_chan *a, *b;
    REQUIRE_OK(ar_memchan_pair(&a, &b, "B", "A", 1000, err), err);
    uint8_t buf[16] = {0};
    REQUIRE_OK(ar_chan_send(a, AR_MSG_LINEAR, buf, 8, err), err);
    CHECK_EQ_INT(ar_chan_recv(b, AR_MSG_ACT, buf, 8, err), AR_ERR_PROTO);
    CHECK(strstr(err, "expected act") != NULL);
    CHECK_EQ_INT(ar_chan_recv(b, AR_MSG_LINEAR, buf, 8, err), AR_ERR_NET); /* sticky */
    CHECK(strstr(err, "earlier error") != NULL);
    ar_chan_close(a);
    ar_chan_close(b);
    REQUIRE_OK(ar_memchan_pair(&a, &b, "B", "A", 1000, err), err);
    REQUIRE_OK(ar_chan_send(a, AR_MSG_ACT, buf, 9, err), err);
    CHECK_EQ_INT(ar_chan_recv(b, AR_MSG_ACT, buf, 8, err), AR_ERR_PROTO);
    CHECK(strstr(err, "9 bytes, expected 8") != NULL);
    ar_chan_close(a);
    ar_chan_close(b);
}

AR_TEST(net_memchan_peer_close_and_timeout) {
    char err[AR_ERR_LEN] = "";
    struct ar_chan *a, *b;
    REQUIRE_OK(ar_memchan_pair(&a, &b, "B", "A", 200, err), err);
    uint8_t buf[8];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ_INT(ar_chan_recv(a, AR_MSG_ACT, buf, 8, err), AR_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 150 && ms < 2000);
    CHECK(strstr(err, "within 200 ms") != NULL);
    ar_chan_close(b);
    struct ar_chan *c, *d;
    REQUIRE_OK(ar_memchan_pair(&c, &d, "D", "C", 5000, err), err);
    ar_chan_close(d);
    CHECK_EQ_INT(ar_chan_recv(c, AR_MSG_ACT, buf, 8, err), AR_ERR_NET);
    CHECK(strstr(err, "closed") != NULL);
    ar_chan_close(c);
    ar_chan_close(a);
}

struct xarg {
    struct ar_chan *c;
    size_t n;
    uint64_t base;
    int rc;
    int ok;
    char err[AR_ERR_LEN];
};

static void *xthread(void *p) {
    struct xarg *x = p;
    uint64_t *s = malloc(x->n * 8), *r = malloc(x->n * 8);
    for (size_t i = 0; i < x->n; i++) s[i] = x->base + i;
    x->ok = 1;
    for (int round = 0; round < 8 && !x->rc; round++) {
        x->rc = ar_chan_exchange(x->c, AR_MSG_ACT, s, x->n * 8, r, x->n * 8, x->err);
        uint64_t other = x->base ? 0 : 1000000;
        for (size_t i = 0; i < x->n && !x->rc; i++) x->ok &= r[i] == other + i;
    }
    free(s);
    free(r);
    return NULL;
}

AR_TEST(net_memchan_threads_exchange) {
    char err[AR_ERR_LEN] = "";
    struct xarg a = {0}, b = {0};
    REQUIRE_OK(ar_memchan_pair(&a.c, &b.c, "B", "A", 5000, err), err);
    a.n = b.n = 100000;
    a.base = 0;
    b.base = 1000000;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, xthread, &a);
    pthread_create(&tb, NULL, xthread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_MSG(a.rc == 0, "%s", a.err);
    CHECK_MSG(b.rc == 0, "%s", b.err);
    CHECK(a.ok && b.ok);
    CHECK(a.c->st.exchanges == 8 && a.c->st.bytes_sent == 8 * 800000ull);
    ar_chan_close(a.c);
    ar_chan_close(b.c);
}
