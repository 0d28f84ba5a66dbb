/* Tests of the file provider (src/net/filechan.c): the dealer writes P0's material
 * and P1's seed to files offline; P0 and P1 later run the online phase from those
 * files with no dealer process. Also: files are 0600 and consumed (unlinked) on
 * open, a file for another model is refused, a truncated file fails cleanly. */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/filechan.h"
#include "test_mpc_util.h"

struct fcase {
    const char *p0path, *p1path;
    uint8_t hash[32];
    size_t n;
    uint8_t mask[32];
    uint64_t coef[6], *x[2], *y[2];
    struct ar_meas m0;
    int rc[3];
    char err[3][AR_ERR_LEN];
    int consume;
};

static int walk(struct ar_party *p, struct fcase *c, char *err) {
    int r = p->role, rc = ar_party_setup(p, err);
    if (rc) return rc;
    if (r == AR_ROLE_P0 && (rc = ar_party_preload(p, err))) return rc;
    for (int k = 0; k < 2; k++)
        if ((rc = ar_mpc_act(p, 3, c->n / 32, 2, 16, c->mask, c->coef, r < 2 ? c->x[r] : NULL, r < 2 ? c->y[r] : NULL,
                             err)))
            return rc;
    if (r == AR_ROLE_P0) c->m0 = ar_party_meas(p, 3, AR_OP_ACT);
    return ar_party_finish(p, err);
}

/* Offline: the dealer alone, writing the two files. */
static int dealer_offline(struct fcase *c, char *err) {
    struct ar_party d;
    struct ar_party_opts o;
    ar_party_opts_default(&o);
    struct ar_chan *f0 = NULL, *f1 = NULL;
    int rc = ar_party_init(&d, AR_ROLE_DEALER, &o, err);
    if (!rc) rc = ar_filechan_create(c->p0path, c->hash, &f0, err);
    if (!rc) rc = ar_filechan_create(c->p1path, c->hash, &f1, err);
    if (!rc) {
        ar_party_attach(&d, NULL, NULL, f0, f1);
        rc = walk(&d, c, err);
    }
    ar_chan_close(f0);
    ar_chan_close(f1);
    ar_party_free(&d);
    return rc;
}

struct othr {
    struct fcase *c;
    int role;
    struct ar_chan *peer;
};

static void *online_thread(void *v) {
    struct othr *t = v;
    struct fcase *c = t->c;
    int r = t->role;
    struct ar_party p;
    struct ar_party_opts o;
    ar_party_opts_default(&o);
    struct ar_chan *d = NULL;
    c->rc[r] = ar_party_init(&p, r, &o, c->err[r]);
    if (!c->rc[r]) c->rc[r] = ar_filechan_open(r ? c->p1path : c->p0path, c->hash, c->consume, &d, c->err[r]);
    if (!c->rc[r]) {
        ar_party_attach(&p, t->peer, d, NULL, NULL);
        c->rc[r] = walk(&p, c, c->err[r]);
    }
    if (c->rc[r]) ar_chan_shutdown(t->peer);
    ar_chan_close(d);
    ar_party_free(&p);
    return NULL;
}

static void online(struct fcase *c) {
    char err[AR_ERR_LEN];
    struct othr t[2] = {{c, 0, NULL}, {c, 1, NULL}};
    if (ar_memchan_pair(&t[0].peer, &t[1].peer, "P1", "P0", 5000, err)) abort();
    pthread_t th[2];
    for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, online_thread, &t[k]);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    ar_chan_close(t[0].peer);
    ar_chan_close(t[1].peer);
}

AR_TEST(mpc_file_provider_offline_then_online) {
    const char *dir = ar_test_tmpdir();
    char p0[512], p1[512];
    snprintf(p0, sizeof p0, "%s/p0.corr", dir);
    snprintf(p1, sizeof p1, "%s/p1.seed", dir);
    struct fcase c;
    memset(&c, 0, sizeof c);
    c.p0path = p0;
    c.p1path = p1;
    memset(c.hash, 7, 32);
    c.n = 32 * 20;
    c.consume = 1;
    struct ar_rng r;
    ar_rng_seed(&r, ar_test_seed(), 110, 0);
    for (int i = 0; i < 32; i++) c.mask[i] = (uint8_t)(i % 4 == 0);
    c.coef[0] = c.coef[3] = 2048;
    c.coef[1] = c.coef[4] = 4096;
    uint64_t *x = tu_alloc(c.n), *want = tu_alloc(c.n);
    for (int k = 0; k < 2; k++) {
        c.x[k] = tu_alloc(c.n);
        c.y[k] = tu_alloc(c.n);
    }
    for (size_t i = 0; i < c.n; i++) x[i] = ar_fix_encode((ar_rng_uniform_d(&r) - 0.5) * 8, 12);
    tu_share(&r, x, c.x[0], c.x[1], c.n);
    ar_ring_act_ref(want, x, c.mask, c.coef, c.n / 32, 2, 16, 12);
    char err[AR_ERR_LEN] = "";
    REQUIRE_OK(dealer_offline(&c, err), err);
    struct stat st;
    REQUIRE(stat(p0, &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat(p1, &st) == 0);
    CHECK((st.st_mode & 0777) == 0600); /* P1's file holds k1D */
    /* the dealer refuses to overwrite existing material */
    struct ar_chan *dup = NULL;
    CHECK_EQ_INT(ar_filechan_create(p0, c.hash, &dup, err), AR_ERR_IO);
    online(&c);
    for (int k = 0; k < 2; k++) CHECK_MSG(c.rc[k] == AR_OK, "%s: %s", ar_role_name(k), c.err[k]);
    size_t bad = 0, n_r = 0;
    for (size_t i = 0; i < c.n; i++) {
        int64_t d = tu_diff(c.y[0][i] + c.y[1][i], want[i]);
        bad += c.mask[i % 32] ? d != 0 : (d < 0 || d > 2);
    }
    for (int i = 0; i < 32; i++) n_r += c.mask[i] * (c.n / 32);
    CHECK(bad == 0);
    struct ar_cost one = ar_cost_act(n_r, c.n - n_r), two = one;
    ar_cost_add(&two, &one);
    tu_cost_matches("file act", &c.m0, NULL, &two);
    /* consumed: the files are gone, so the material cannot be replayed */
    CHECK(stat(p0, &st) != 0 && stat(p1, &st) != 0);
    struct ar_chan *again = NULL;
    CHECK_EQ_INT(ar_filechan_open(p0, c.hash, 1, &again, err), AR_ERR_IO);
    for (int k = 0; k < 2; k++) {
        free(c.x[k]);
        free(c.y[k]);
    }
    free(x);
    free(want);
}

AR_TEST(mpc_file_provider_wrong_model_and_truncation) {
    const char *dir = ar_test_tmpdir();
    char p0[512], p1[512];
    snprintf(p0, sizeof p0, "%s/p0.corr", dir);
    snprintf(p1, sizeof p1, "%s/p1.seed", dir);
    struct fcase c;
    memset(&c, 0, sizeof c);
    c.p0path = p0;
    c.p1path = p1;
    memset(c.hash, 9, 32);
    c.n = 64;
    c.mask[0] = 1;
    for (int k = 0; k < 2; k++) {
        c.x[k] = tu_alloc(c.n);
        c.y[k] = tu_alloc(c.n);
    }
    char err[AR_ERR_LEN] = "";
    REQUIRE_OK(dealer_offline(&c, err), err);
    uint8_t other[32];
    memset(other, 8, 32);
    struct ar_chan *ch = NULL;
    CHECK_EQ_INT(ar_filechan_open(p0, other, 0, &ch, err), AR_ERR_MISMATCH);
    CHECK(strstr(err, "different model") != NULL);
    /* cut P0's file in the middle of the material: P0 fails with an I/O error, P1 with a network one */
    struct stat st;
    REQUIRE(stat(p0, &st) == 0);
    REQUIRE(truncate(p0, st.st_size / 2) == 0);
    online(&c);
    CHECK_MSG(c.rc[0] == AR_ERR_IO, "P0 rc %d: %s", c.rc[0], c.err[0]);
    CHECK(strstr(c.err[0], "file") != NULL);
    CHECK(c.rc[1] != AR_OK);
    for (int k = 0; k < 2; k++) {
        free(c.x[k]);
        free(c.y[k]);
    }
}

/* Material is bound to its session, not only to the model: P0's file from one
 * offline dealer run and P1's from another (same model hash) are refused when P0
 * and P1 compare session ids, before any online message. */
AR_TEST(mpc_file_provider_other_session_refused) {
    const char *dir = ar_test_tmpdir();
    char a0[512], a1[512], b0[512], b1[512];
    snprintf(a0, sizeof a0, "%s/sa_p0.corr", dir);
    snprintf(a1, sizeof a1, "%s/sa_p1.seed", dir);
    snprintf(b0, sizeof b0, "%s/sb_p0.corr", dir);
    snprintf(b1, sizeof b1, "%s/sb_p1.seed", dir);
    struct fcase c;
    memset(&c, 0, sizeof c);
    memset(c.hash, 5, 32);
    c.n = 64;
    c.mask[0] = 1;
    c.consume = 1;
    for (int k = 0; k < 2; k++) {
        c.x[k] = tu_alloc(c.n);
        c.y[k] = tu_alloc(c.n);
    }
    char err[AR_ERR_LEN] = "";
    c.p0path = a0;
    c.p1path = a1;
    REQUIRE_OK(dealer_offline(&c, err), err);
    c.p0path = b0;
    c.p1path = b1;
    REQUIRE_OK(dealer_offline(&c, err), err);
    c.p0path = a0; /* session A's P0 material with session B's P1 seed */
    c.p1path = b1;
    online(&c);
    for (int k = 0; k < 2; k++) {
        CHECK_MSG(c.rc[k] == AR_ERR_MISMATCH, "%s: rc %d: %s", ar_role_name(k), c.rc[k], c.err[k]);
        CHECK_MSG(strstr(c.err[k], "session id differs") != NULL, "%s", c.err[k]);
    }
    /* the two files not used */
    unlink(a1);
    unlink(b0);
    for (int k = 0; k < 2; k++) {
        free(c.x[k]);
        free(c.y[k]);
    }
}
