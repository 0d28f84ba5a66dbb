/* libFuzzer target: what a secure-inference party does with bytes it receives.
 * One party (P0 or P1) runs the walk of mpc_walk.h against fuzz-controlled links:
 *   - its dealer link is a real material file (net/filechan.c reader on a memfd):
 *     header, model hash, frame {type, seq, len}, setup seeds, correlation tags
 *     and payloads, the end marker, and (P0, when asked) preloading;
 *   - its peer link is a scripted channel that answers every receive with the next
 *     bytes of the input (the exact length the protocol expects; the framing layer
 *     that enforces lengths is fuzzed by fuzz_wire) and discards what it sends.
 * Input: u8 mode (bit 0: P1 instead of P0; bit 1: P0 preloads), u16 length D, D
 * bytes of material file, then the peer stream.
 * Properties: no crash, leak or UB; a failure is a one-line message, and the party
 * frees cleanly after any failure. */
#include <string.h>

#include "fuzz_util.h"
#include "mpc_walk.h"
#include "net/chan.h"
#include "net/filechan.h"

struct script_chan {
    struct ar_chan base;
    const uint8_t *p;
    size_t n, off;
};

static int sc_take(struct script_chan *s, uint16_t type, void *buf, size_t len, char *err) {
    if (s->n - s->off < len)
        return ar_errf(err, AR_ERR_NET, "%s: peer closed the connection (%s message, %zu of %zu bytes)",
                       s->base.name, ar_msg_name(type), s->n - s->off, len);
    if (len) memcpy(buf, s->p + s->off, len);
    s->off += len;
    return AR_OK;
}
static int sc_send(struct ar_chan *c, uint16_t type, const void *buf, size_t len, char *err) {
    (void)type, (void)buf, (void)err;
    c->st.wire_sent += len;
    return AR_OK;
}
static int sc_recv(struct ar_chan *c, uint16_t type, void *buf, size_t len, char *err) {
    return sc_take((struct script_chan *)c, type, buf, len, err);
}
static int sc_exchange(struct ar_chan *c, uint16_t type, const void *sbuf, size_t slen, void *rbuf, size_t rlen,
                       char *err) {
    (void)sbuf;
    c->st.wire_sent += slen;
    return sc_take((struct script_chan *)c, type, rbuf, rlen, err);
}
static void sc_shutdown(struct ar_chan *c) { (void)c; }
static void sc_destroy(struct ar_chan *c) { (void)c; }
static const struct ar_chan_ops sc_ops = {sc_send, sc_recv, sc_exchange, sc_shutdown, sc_destroy};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    struct fz_in in = {data, size, 0};
    uint8_t mode = fz_u8(&in);
    int role = mode & 1 ? AR_ROLE_P1 : AR_ROLE_P0, preload = (mode >> 1) & 1;
    size_t dn;
    const uint8_t *dfile = fz_take(&in, fz_u16(&in), &dn);
    struct script_chan peer;
    memset(&peer, 0, sizeof peer);
    peer.base.ops = &sc_ops;
    snprintf(peer.base.name, sizeof peer.base.name, "%s", role == AR_ROLE_P0 ? "P1" : "P0");
    peer.p = fz_take(&in, fz_left(&in), &peer.n);

    char path[64], err[AR_ERR_LEN] = "";
    int fd = fz_memfile(dfile, dn, path);
    struct ar_party_opts o;
    fz_mpc_opts(&o);
    struct ar_party p;
    struct ar_chan *dealer = NULL;
    int rc = ar_party_init(&p, role, &o, err);
    FZ_CHECK(rc == AR_OK, "init: %s", err);
    rc = ar_filechan_open(path, fz_mpc_hash, 0, &dealer, err);
    if (rc == AR_OK) {
        ar_party_attach(&p, &peer.base, dealer, NULL, NULL);
        rc = fz_mpc_walk(&p, preload, err);
    }
    if (rc != AR_OK) FZ_CHECK(fz_one_line(err), "message '%s'", err);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "walk: %s\n", rc ? err : "complete");
    ar_party_free(&p);
    ar_chan_close(dealer);
    close(fd);
    return 0;
}
