/* Userspace link emulator (relay.h): one poll() loop forwarding both directions of
 * a TCP connection through timed queues (serialisation at the link rate, then the
 * propagation delay). */
#include "net/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

struct chunk {
    struct chunk *next;
    double release;
    size_t len, off;
    uint8_t data[];
};

struct dir {
    int from, to;
    struct chunk *head, *tail;
    size_t queued;
    double link_free;
    int eof_in, shut_out;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void set_sock(int fd) {
    int one = 1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int connect_to(const char *host, int port, int *out, char *err) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g) return ar_errf(err, AR_ERR_NET, "relay: cannot resolve %s: %s", host, gai_strerror(g));
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return ar_errf(err, AR_ERR_NET, "relay: cannot connect to %s:%d: %s", host, port, strerror(errno));
    *out = fd;
    return AR_OK;
}

static void dir_free(struct dir *d) {
    struct chunk *c = d->head;
    while (c) {
        struct chunk *n = c->next;
        free(c);
        c = n;
    }
    d->head = d->tail = NULL;
}

/* Read one chunk if possible. */
static int dir_read(struct dir *d, const struct ar_relay_opts *o, char *err) {
    struct chunk *c = malloc(sizeof *c + CHUNK);
    if (!c) return ar_errf(err, AR_ERR_NOMEM, "relay: out of memory");
    ssize_t n = recv(d->from, c->data, CHUNK, 0);
    if (n <= 0) {
        free(c);
        if (n == 0) {
            d->eof_in = 1;
            return AR_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return AR_OK;
        return ar_errf(err, AR_ERR_NET, "relay: receive failed: %s", strerror(errno));
    }
    double t = now_s(), start = t > d->link_free ? t : d->link_free;
    d->link_free = start + (o->bits_per_s > 0 ? 8.0 * (double)n / o->bits_per_s : 0.0);
    c->release = d->link_free + o->delay_s;
    c->len = (size_t)n;
    c->off = 0;
    c->next = NULL;
    if (d->tail) d->tail->next = c;
    else d->head = c;
    d->tail = c;
    d->queued += (size_t)n;
    return AR_OK;
}

/* Write released chunks as far as the socket takes them. */
static int dir_write(struct dir *d, uint64_t *bytes, char *err) {
    double t = now_s();
    while (d->head && d->head->release <= t) {
        struct chunk *c = d->head;
        ssize_t n = send(d->to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return AR_OK;
            return ar_errf(err, AR_ERR_NET, "relay: send failed: %s", strerror(errno));
        }
        c->off += (size_t)n;
        d->queued -= (size_t)n;
        *bytes += (uint64_t)n;
        if (c->off < c->len) return AR_OK;
        d->head = c->next;
        if (!d->head) d->tail = NULL;
        free(c);
    }
    if (d->eof_in && !d->head && !d->shut_out) {
        shutdown(d->to, SHUT_WR);
        d->shut_out = 1;
    }
    return AR_OK;
}

int ar_relay_run(int lfd, const char *host, int port, const struct ar_relay_opts *o, volatile int *stop,
                 struct ar_relay_stats *st, char *err) {
    struct ar_relay_stats local;
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    size_t maxq = o->max_queue ? o->max_queue : (size_t)64 << 20;
    struct pollfd pa = {lfd, POLLIN, 0};
    int pr = 0, waited = 0, limit = o->accept_timeout_ms > 0 ? o->accept_timeout_ms : 10000;
    while (!*stop && waited < limit) { /* in slices, so that *stop is seen */
        pr = poll(&pa, 1, 200);
        if (pr > 0 || (pr < 0 && errno != EINTR)) break;
        waited += 200;
    }
    if (*stop) return ar_errf(err, AR_ERR_NET, "relay: stopped");
    if (pr <= 0) return ar_errf(err, AR_ERR_TIMEOUT, "relay: no connection to forward");
    int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), b = -1;
    if (a < 0) return ar_errf(err, AR_ERR_NET, "relay: accept failed: %s", strerror(errno));
    int rc = connect_to(host, port, &b, err);
    if (rc) {
        close(a);
        return rc;
    }
    set_sock(a);
    set_sock(b);
    struct dir d[2] = {{a, b, NULL, NULL, 0, 0, 0, 0}, {b, a, NULL, NULL, 0, 0, 0, 0}};
    while (!(d[0].shut_out && d[1].shut_out)) {
        if (*stop) {
            rc = ar_errf(err, AR_ERR_NET, "relay: stopped");
            break;
        }
        struct pollfd p[2] = {{a, 0, 0}, {b, 0, 0}};
        double t = now_s(), wait = 0.2;
        for (int k = 0; k < 2; k++) {
            struct dir *x = &d[k];
            int fi = k, ti = 1 - k;
            if (!x->eof_in && x->queued < maxq) p[fi].events |= POLLIN;
            if (x->head) {
                if (x->head->release <= t) p[ti].events |= POLLOUT;
                else if (x->head->release - t < wait) wait = x->head->release - t;
            }
        }
        if (wait < 0) wait = 0;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        if (ppoll(p, 2, &ts, NULL) < 0 && errno != EINTR) {
            rc = ar_errf(err, AR_ERR_NET, "relay: poll failed: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < 2 && !rc; k++)
            if ((p[k].events & POLLIN) && (p[k].revents & (POLLIN | POLLHUP | POLLERR))) rc = dir_read(&d[k], o, err);
        for (int k = 0; k < 2 && !rc; k++) rc = dir_write(&d[k], &st->bytes[k], err);
        if (rc) break;
    }
    dir_free(&d[0]);
    dir_free(&d[1]);
    close(a);
    close(b);
    return rc;
}
