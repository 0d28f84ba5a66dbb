/* File-backed one-way channels (filechan.h): buffered stdio writes with a
 * checked header and per-frame {type, seq, len}; reads verify all three. */
#include "net/filechan.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FC_MAGIC 0x46505241u /* "ARPF" */
#define FC_VERSION 1u
#define FC_HDR (8 + 32)
#define FC_FRAME 16

struct filechan {
    struct ar_chan base;
    FILE *f;
    int writer;
    uint32_t seq;
};

static void put_le(uint8_t *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int fc_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    struct filechan *fc = (struct filechan *)c;
    if (!fc->writer) return ar_errf(err, AR_ERR_ARG, "%s: opened for reading, cannot send", c->name);
    uint8_t h[FC_FRAME];
    put_le(h, type, 2);
    put_le(h + 2, 0, 2);
    put_le(h + 4, fc->seq++, 4);
    put_le(h + 8, len, 8);
    if (fwrite(h, 1, sizeof h, fc->f) != sizeof h || (len && fwrite(buf, 1, len, fc->f) != len))
        return ar_errf(err, AR_ERR_IO, "%s: write: %s", c->name, strerror(errno));
    c->st.wire_sent += sizeof h + len;
    return AR_OK;
}

static int fc_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    struct filechan *fc = (struct filechan *)c;
    if (fc->writer) return ar_errf(err, AR_ERR_ARG, "%s: opened for writing, cannot receive", c->name);
    uint8_t h[FC_FRAME];
    if (fread(h, 1, sizeof h, fc->f) != sizeof h)
        return ar_errf(err, AR_ERR_IO, "%s: file ends before the %s message (seq %u)", c->name, ar_msg_name(type),
                       fc->seq);
    uint16_t t = (uint16_t)get_le(h, 2);
    uint32_t seq = (uint32_t)get_le(h + 4, 4);
    uint64_t n = get_le(h + 8, 8);
    if (seq != fc->seq)
        return ar_errf(err, AR_ERR_PROTO, "%s: frame seq %u, expected %u", c->name, seq, fc->seq);
    if (t != type)
        return ar_errf(err, AR_ERR_PROTO, "%s: got a %s message, expected %s (seq %u)", c->name, ar_msg_name(t),
                       ar_msg_name(type), seq);
    if (n != len)
        return ar_errf(err, AR_ERR_PROTO, "%s: %s message of %llu bytes, expected %zu (seq %u)", c->name,
                       ar_msg_name(type), (unsigned long long)n, len, seq);
    if (len && fread(buf, 1, len, fc->f) != len)
        return ar_errf(err, AR_ERR_IO, "%s: file truncated inside the %s message (seq %u)", c->name,
                       ar_msg_name(type), seq);
    fc->seq++;
    c->st.wire_recv += sizeof h + len;
    return AR_OK;
}

static int fc_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                       char *err) {
    (void)type;
    (void)sbuf;
    (void)slen;
    (void)rbuf;
    (void)rlen;
    return ar_errf(err, AR_ERR_ARG, "%s: a file channel is one-way (no exchange)", c->name);
}

static void fc_shutdown(struct ar_chan *c) { (void)c; }

static void fc_destroy(struct ar_chan *c) {
    struct filechan *fc = (struct filechan *)c;
    if (fc->f) fclose(fc->f);
    free(fc);
}

static const struct ar_chan_ops fc_ops = {fc_send, fc_recv, fc_exchange, fc_shutdown, fc_destroy};

static struct filechan *fc_new(const char *path, int writer) {
    struct filechan *fc = calloc(1, sizeof *fc);
    if (!fc) return NULL;
    fc->base.ops = &fc_ops;
    fc->writer = writer;
    snprintf(fc->base.name, sizeof fc->base.name, "file %s", path);
    return fc;
}

int ar_filechan_create(const char *path, const uint8_t model_hash[32], struct ar_chan **out, char *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ar_errf(err, AR_ERR_IO, "create %s: %s", path, strerror(errno));
    struct filechan *fc = fc_new(path, 1);
    FILE *f = fc ? fdopen(fd, "wb") : NULL;
    if (!f) {
        close(fd);
        free(fc);
        return ar_errf(err, AR_ERR_NOMEM, "create %s: out of memory", path);
    }
    fc->f = f;
    uint8_t h[FC_HDR];
    put_le(h, FC_MAGIC, 4);
    put_le(h + 4, FC_VERSION, 4);
    memcpy(h + 8, model_hash, 32);
    if (fwrite(h, 1, sizeof h, f) != sizeof h) {
        fc_destroy(&fc->base);
        return ar_errf(err, AR_ERR_IO, "write %s: %s", path, strerror(errno));
    }
    *out = &fc->base;
    return AR_OK;
}

int ar_filechan_open(const char *path, const uint8_t model_hash[32], int consume, struct ar_chan **out, char *err) {
    FILE *f = fopen(path, "rbe");
    if (!f) return ar_errf(err, AR_ERR_IO, "open %s: %s", path, strerror(errno));
    if (consume && unlink(path) != 0) {
        fclose(f);
        return ar_errf(err, AR_ERR_IO, "unlink %s: %s", path, strerror(errno));
    }
    struct filechan *fc = fc_new(path, 0);
    if (!fc) {
        fclose(f);
        return ar_errf(err, AR_ERR_NOMEM, "open %s: out of memory", path);
    }
    fc->f = f;
    uint8_t h[FC_HDR];
    int rc = AR_OK;
    if (fread(h, 1, sizeof h, f) != sizeof h) rc = ar_errf(err, AR_ERR_IO, "%s: shorter than its header", path);
    else if (get_le(h, 4) != FC_MAGIC) rc = ar_errf(err, AR_ERR_FORMAT, "%s: not an autorep material file", path);
    else if (get_le(h + 4, 4) != FC_VERSION)
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: format version %u, expected %u", path, (unsigned)get_le(h + 4, 4),
                     FC_VERSION);
    else if (sodium_memcmp(h + 8, model_hash, 32) != 0)
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: made for a different model hash", path);
    if (rc) {
        fc_destroy(&fc->base);
        return rc;
    }
    *out = &fc->base;
    return AR_OK;
}
