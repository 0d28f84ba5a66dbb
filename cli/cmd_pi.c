/* `autorep pi`: secure two-party inference of a (masked) model.
 *
 *   pi cost           analytic online / offline cost of a model, per layer
 *   pi export-public  the public part of a model (for the client and the dealer)
 *   pi dealer|server|client   one role each, over TCP (possibly on different hosts)
 *   pi local          the three roles as processes on loopback (fork/exec of this
 *                     binary), optional tc-netem link emulation, compared with the
 *                     fixed-point and float executors, with a per-layer cost table
 *
 * The processes of one session must agree on the public model and on --n/--batch:
 * all three put a hash of them into the TCP handshake. Each role can write a JSON
 * report of its measurements (--report); pi local merges the three. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "core/mem.h"
#include "core/rng.h"
#include "commands.h"
#include "common.h"
#include "mpc/session.h"
#include "net/relay.h"
#include "pi/cost.h"
#include "pi/fixed.h"
#include "pi/mpc.h"
#include "pi/public.h"

#define MB 1e6
/* Tolerance of "MPC logits equal the fixed-point executor's": accumulated local-
 * truncation errors, in LSBs (2^-4 at f = 12; see docs/secure-inference.md). */
#define AGREE_LSB 256

/* ---------------- shared helpers ---------------- */

static int get_frac(const char *cmd, struct cli_opt *o, int *f) {
    long v;
    if (cli_int(cmd, o, "frac-bits", AR_FIX_MIN_BITS, AR_FIX_MAX_BITS, &v)) return 1;
    *f = (int)v;
    return 0;
}

/* Server side: open a checkpoint and compile it with weights (or without). */
static int open_model(const char *cmd, const char *path, int frac, int with_weights, struct ar_net *net,
                      struct ar_st *st, struct ar_pi_model *m) {
    if (cli_open_model(cmd, net, st, path, NULL, (struct ar_shape){0, 0, 0}, -1)) return 1;
    char err[AR_ERR_LEN];
    if (ar_pi_compile_net(net, frac, with_weights, m, err)) {
        cli_err(cmd, "%s: %s", path, err);
        ar_net_free(net);
        ar_st_free(st);
        return 1;
    }
    return 0;
}

static int is_public_file(const char *path) {
    struct ar_st st;
    char err[AR_ERR_LEN];
    if (ar_st_read(&st, path, err)) return 0;
    int r = ar_st_meta(&st, "autorep.public") != NULL;
    ar_st_free(&st);
    return r;
}

static int load_public(const char *cmd, const char *path, struct ar_pi_model *m, struct ar_pi_public_info *info) {
    char err[AR_ERR_LEN];
    if (ar_pi_public_load(path, m, info, err)) {
        cli_err(cmd, "%s", err);
        return 1;
    }
    return 0;
}

static void session_hash(uint8_t *out, const struct ar_pi_model *m, int n, int batch) {
    char params[64];
    snprintf(params, sizeof params, "n=%d;batch=%d", n, batch);
    ar_pi_session_hash(out, m, params);
}

static int get_addr(const char *cmd, const char *opt, const char *v, char *host, size_t hl, int *port) {
    char err[AR_ERR_LEN];
    if (ar_tcp_parse_addr(v, host, hl, port, err)) {
        cli_err(cmd, "--%s: %s", opt, err);
        return 1;
    }
    return 0;
}

static json_t *meas_json(const struct ar_meas *m) {
    json_t *j = json_object();
    json_object_set_new(j, "calls", json_integer((json_int_t)m->calls));
    json_object_set_new(j, "sent", json_integer((json_int_t)m->sent));
    json_object_set_new(j, "recv", json_integer((json_int_t)m->recv));
    json_object_set_new(j, "wire_sent", json_integer((json_int_t)m->wire_sent));
    json_object_set_new(j, "wire_recv", json_integer((json_int_t)m->wire_recv));
    json_object_set_new(j, "rounds", json_integer((json_int_t)m->rounds));
    json_object_set_new(j, "oneway", json_integer((json_int_t)m->oneway));
    json_object_set_new(j, "dealer_bytes", json_integer((json_int_t)m->dealer_bytes));
    json_object_set_new(j, "seconds", json_real(m->seconds));
    json_object_set_new(j, "dealer_seconds", json_real(m->dealer_seconds));
    return j;
}

static uint64_t ju(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}
static double jd(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static void meas_from_json(struct ar_meas *m, const json_t *j) {
    memset(m, 0, sizeof *m);
    m->calls = ju(j, "calls");
    m->sent = ju(j, "sent");
    m->recv = ju(j, "recv");
    m->wire_sent = ju(j, "wire_sent");
    m->wire_recv = ju(j, "wire_recv");
    m->rounds = ju(j, "rounds");
    m->oneway = ju(j, "oneway");
    m->dealer_bytes = ju(j, "dealer_bytes");
    m->seconds = jd(j, "seconds");
    m->dealer_seconds = jd(j, "dealer_seconds");
}

/* Report of one role: measurements and (client) logits. */
static int write_report(const char *cmd, const char *path, const struct ar_pi_result *r, const char *cipher,
                        const uint64_t *logits, size_t n_logits) {
    json_t *j = json_object();
    json_object_set_new(j, "role", json_string(ar_role_name(r->role)));
    json_object_set_new(j, "images", json_integer(r->images));
    json_object_set_new(j, "inferences", json_integer(r->inferences));
    json_object_set_new(j, "online_s", json_real(r->online_s));
    json_object_set_new(j, "offline_s", json_real(r->offline_s));
    json_object_set_new(j, "setup_s", json_real(r->setup_s));
    json_object_set_new(j, "total_s", json_real(r->total_s));
    if (cipher) json_object_set_new(j, "cipher", json_string(cipher));
    json_object_set_new(j, "setup", meas_json(&r->setup));
    json_t *on = json_array(), *off = json_array();
    for (int i = 0; i < r->n_ids; i++) {
        json_array_append_new(on, meas_json(&r->online[i]));
        json_array_append_new(off, meas_json(&r->offline[i]));
    }
    json_t *each = json_array();
    for (int i = 0; r->online_each && i < r->inferences; i++) json_array_append_new(each, json_real(r->online_each[i]));
    json_object_set_new(j, "online_each", each);
    json_object_set_new(j, "online", on);
    json_object_set_new(j, "offline", off);
    if (logits) {
        json_t *a = json_array();
        for (size_t i = 0; i < n_logits; i++) json_array_append_new(a, json_integer(ar_ring_to_i64(logits[i])));
        json_object_set_new(j, "logits", a);
    }
    int rc = json_dump_file(j, path, JSON_COMPACT);
    json_decref(j);
    if (rc) {
        cli_err(cmd, "cannot write the report %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

static int read_report(const char *cmd, const char *path, int n_ids, struct ar_pi_result *r, uint64_t *logits,
                       size_t n_logits) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        cli_err(cmd, "cannot read the report %s: %s", path, je.text);
        return 1;
    }
    memset(r, 0, sizeof *r);
    json_t *on = json_object_get(j, "online"), *off = json_object_get(j, "offline");
    int bad = !json_is_array(on) || !json_is_array(off) || (int)json_array_size(on) != n_ids ||
              (int)json_array_size(off) != n_ids;
    if (!bad) {
        r->n_ids = n_ids;
        r->online = calloc((size_t)n_ids, sizeof *r->online);
        r->offline = calloc((size_t)n_ids, sizeof *r->offline);
        bad = !r->online || !r->offline;
    }
    if (!bad) {
        for (int i = 0; i < n_ids; i++) {
            meas_from_json(&r->online[i], json_array_get(on, (size_t)i));
            meas_from_json(&r->offline[i], json_array_get(off, (size_t)i));
        }
        meas_from_json(&r->setup, json_object_get(j, "setup"));
        r->images = (int)ju(j, "images");
        r->inferences = (int)ju(j, "inferences");
        r->online_s = jd(j, "online_s");
        r->offline_s = jd(j, "offline_s");
        r->setup_s = jd(j, "setup_s");
        r->total_s = jd(j, "total_s");
        json_t *each = json_object_get(j, "online_each");
        if (json_is_array(each) && (int)json_array_size(each) == r->inferences && r->inferences > 0 &&
            (r->online_each = calloc((size_t)r->inferences, sizeof *r->online_each)))
            for (int i = 0; i < r->inferences; i++)
                r->online_each[i] = json_number_value(json_array_get(each, (size_t)i));
    }
    if (!bad && logits) {
        json_t *a = json_object_get(j, "logits");
        bad = !json_is_array(a) || json_array_size(a) != n_logits;
        for (size_t i = 0; !bad && i < n_logits; i++)
            logits[i] = ar_ring_from_i64((int64_t)json_integer_value(json_array_get(a, i)));
    }
    json_decref(j);
    if (bad) {
        ar_pi_result_free(r);
        cli_err(cmd, "%s: malformed report", path);
        return 1;
    }
    return 0;
}

/* Normalised float inputs of test images [offset, offset + n). */
static int make_inputs(const char *cmd, const struct ar_dataset *te, const struct ar_norm *nm, int offset, int n,
                       float *x, int32_t *labels) {
    if (nm->c != te->c) {
        cli_err(cmd, "normalisation has %d channels but the data set has %d", nm->c, te->c);
        return 1;
    }
    int *idx = malloc(sizeof(int) * (size_t)n);
    if (!idx) {
        cli_err(cmd, "out of memory");
        return 1;
    }
    for (int i = 0; i < n; i++) idx[i] = offset + i;
    ar_dataset_batch(te, idx, n, nm->mean, nm->std, NULL, 0, 0, x, labels);
    free(idx);
    return 0;
}

/* The test split of `set`, or "random": uniform pixels and labels from a fixed seed
 * (the same images in every process), for cost and time runs of models whose data
 * is not at hand. */
static int load_test_set(const char *cmd, const char *set, const char *dir, const struct ar_pi_model *m, int need,
                         struct ar_dataset *te) {
    memset(te, 0, sizeof *te);
    if (strcmp(set, "random")) return cli_load_split(cmd, te, set, dir, 0);
    size_t img = ar_shape_numel(m->in_shape);
    snprintf(te->name, sizeof te->name, "random");
    te->n = need;
    te->c = m->in_shape.c;
    te->h = m->in_shape.h;
    te->w = m->in_shape.w;
    te->classes = m->classes;
    te->images = ar_alloc_big(img * (size_t)need);
    te->labels = ar_alloc_big((size_t)need);
    if (!te->images || !te->labels) {
        ar_dataset_free(te);
        cli_err(cmd, "out of memory for %d random images", need);
        return 1;
    }
    struct ar_rng r;
    ar_rng_seed(&r, 1, 2, 3);
    for (size_t i = 0; i < img * (size_t)need; i++) te->images[i] = (uint8_t)(ar_rng_u64(&r) >> 56);
    for (int i = 0; i < need; i++) te->labels[i] = (uint8_t)ar_rng_below(&r, (uint64_t)m->classes);
    return 0;
}

/* Normalisation of "random" images when the model has none: uniform pixels. */
static void random_norm(struct ar_norm *nm, int c) {
    memset(nm, 0, sizeof *nm);
    nm->c = c;
    for (int i = 0; i < c && i < AR_MAX_CH; i++) {
        nm->mean[i] = 0.5f;
        nm->std[i] = 0.2887f;
    }
}

static int check_count(const char *cmd, const struct ar_dataset *te, int offset, int n) {
    if (offset < 0 || n < 1 || offset + n > te->n) {
        cli_err(cmd, "--n %d from --offset %d exceeds the %d test images of %s", n, offset, te->n, te->name);
        return 1;
    }
    return 0;
}

static int check_shape(const char *cmd, const struct ar_dataset *te, const struct ar_pi_model *m) {
    if (te->c != m->in_shape.c || te->h != m->in_shape.h || te->w != m->in_shape.w) {
        cli_err(cmd, "%s images are %dx%dx%d but the model expects %dx%dx%d", te->name, te->c, te->h, te->w,
                m->in_shape.c, m->in_shape.h, m->in_shape.w);
        return 1;
    }
    return 0;
}

/* ---------------- pi cost ---------------- */

/* The online bytes b of op i (i == n_ops is the reveal) split into ReLU, quadratic
 * and linear bytes: a linear op's are linear; an activation site's (or max pool's)
 * quadratic part is exact from the cost model and the rest is ReLU; local ops and
 * the reveal have none. Every total and per-layer figure uses this one split. */
struct split {
    uint64_t relu, poly, lin;
};
static struct split op_split(const struct ar_pi_model *m, int i, uint64_t b, int N) {
    struct split sp = {0, 0, 0};
    if (i >= m->n_ops) return sp;
    if (m->ops[i].kind == AR_PI_LINEAR)
        sp.lin = b;
    else if (m->ops[i].kind == AR_PI_ACT || m->ops[i].kind == AR_PI_MAXPOOL) {
        sp.poly = ar_pi_op_poly_bytes(m, i, N);
        sp.relu = b - sp.poly;
    }
    return sp;
}

static void layer_split_json(json_t *l, const struct ar_pi_model *m, int i, uint64_t b, int N) {
    const struct split sp = op_split(m, i, b, N);
    json_object_set_new(l, "online_bytes", json_integer((json_int_t)b));
    json_object_set_new(l, "relu_online_bytes", json_integer((json_int_t)sp.relu));
    json_object_set_new(l, "poly_online_bytes", json_integer((json_int_t)sp.poly));
    json_object_set_new(l, "linear_online_bytes", json_integer((json_int_t)sp.lin));
}

static void print_cost_table(const struct ar_pi_model *m, int N) {
    printf("%-34s %-8s %9s %9s %12s %12s %6s %4s %12s %10s\n", "layer", "kind", "relus", "quads", "P0->P1 B",
           "P1->P0 B", "rounds", "1way", "dealer B", "MMAC");
    size_t tr = 0, tq = 0;
    double tm = 0;
    for (int i = 0; i <= m->n_ops; i++) {
        struct ar_cost c = ar_pi_cost_op(m, i, N);
        const char *name = i < m->n_ops ? m->ops[i].name : "(logits to the client)";
        const char *kind = i < m->n_ops ? ar_pi_kind_name(m->ops[i].kind) : "reveal";
        size_t r = i < m->n_ops ? ar_pi_op_relus(m, i) * (size_t)N : 0, q = i < m->n_ops ? ar_pi_op_polys(m, i) * (size_t)N : 0;
        double macs = i < m->n_ops ? ar_pi_op_macs(&m->ops[i]) * N / 1e6 : 0;
        printf("%-34.34s %-8s %9zu %9zu %12llu %12llu %6u %4u %12llu %10.1f\n", name, kind, r, q,
               (unsigned long long)c.p0_to_p1, (unsigned long long)c.p1_to_p0, c.rounds, c.oneway,
               (unsigned long long)c.dealer_to_p0, macs);
        tr += r;
        tq += q;
        tm += macs;
    }
    struct ar_cost t = ar_pi_cost_total(m, N);
    printf("%-34s %-8s %9zu %9zu %12llu %12llu %6u %4u %12llu %10.1f\n", "total", "", tr, tq,
           (unsigned long long)t.p0_to_p1, (unsigned long long)t.p1_to_p0, t.rounds, t.oneway,
           (unsigned long long)t.dealer_to_p0, tm);
}

static int pi_cost(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "FILE", "masked or plain checkpoint, or a public model file", NULL, 0},
                          {"arch", "NAME", "or an architecture (every site all-ReLU)", NULL, 0},
                          {"data", "SET", "data set that fixes input shape and classes (with --arch)", "cifar10", 0},
                          {"frac-bits", "F", "fixed-point fractional bits (8..16; a public file has its own)", "12", 0},
                          {"n", "N", "images per inference", "1", 0},
                          {"json", NULL, "one JSON object on stdout", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi cost";
    int r = cli_parse(cmd, "(--model FILE | --arch NAME [--data SET]) [--n N] [--json]", o, argc, argv, 3);
    if (r) return r == 1 ? 0 : r;
    const char *path = cli_str(o, "model"), *arch = cli_str(o, "arch");
    int frac;
    long n;
    if (get_frac(cmd, o, &frac) || cli_int(cmd, o, "n", 1, 1 << 20, &n)) return 2;
    if (!path && !arch) {
        cli_err(cmd, "--model FILE is required (or --arch NAME)");
        return 2;
    }
    struct ar_pi_model m;
    if (!path) {
        const struct set_info *si = cli_set_info(cli_str(o, "data"));
        char err[AR_ERR_LEN], *text;
        if (!si) {
            cli_err(cmd, "--data: unknown data set '%s' (known: %s)", cli_str(o, "data"), cli_set_names());
            return 2;
        }
        if (ar_arch_text(arch, &text, err)) {
            cli_err(cmd, "--arch: %s", err);
            return 1;
        }
        struct ar_net net;
        struct ar_net_opts no = {.in_shape = {si->c, si->h, si->w}, .classes = si->classes};
        int rc = ar_net_build(&net, text, arch, &no, err);
        free(text);
        if (!rc) rc = ar_pi_compile_net(&net, frac, 0, &m, err);
        ar_net_free(&net);
        if (rc) {
            cli_err(cmd, "%s", err);
            return 1;
        }
        path = arch;
    } else if (is_public_file(path)) {
        if (load_public(cmd, path, &m, NULL)) return 1;
    } else {
        struct ar_net net;
        struct ar_st st;
        if (open_model(cmd, path, frac, 0, &net, &st, &m)) return 1;
        ar_net_free(&net);
        ar_st_free(&st);
    }
    int N = (int)n;
    struct ar_cost t = ar_pi_cost_total(&m, N), s = ar_pi_cost_setup(&m);
    uint64_t relu_b = 0, poly_b = 0, lin_b = 0;
    uint32_t relu_sites = 0;
    double macs = 0;
    for (int i = 0; i < m.n_ops; i++) {
        struct ar_cost c = ar_pi_cost_op(&m, i, N);
        const struct split sp = op_split(&m, i, c.p0_to_p1 + c.p1_to_p0, N);
        relu_b += sp.relu, poly_b += sp.poly, lin_b += sp.lin;
        if (m.ops[i].kind == AR_PI_ACT && m.ops[i].n_relu) relu_sites++;
        macs += ar_pi_op_macs(&m.ops[i]) * N;
    }
    const struct ar_pi_link *lan = ar_pi_link_preset("lan"), *wan = ar_pi_link_preset("wan");
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(path));
        json_object_set_new(j, "n", json_integer(N));
        json_object_set_new(j, "frac_bits", json_integer(m.frac_bits));
        json_object_set_new(j, "relu_count", json_integer((json_int_t)m.relu_count));
        json_object_set_new(j, "poly_count", json_integer((json_int_t)m.poly_count));
        json_object_set_new(j, "online_bytes", json_integer((json_int_t)(t.p0_to_p1 + t.p1_to_p0)));
        json_object_set_new(j, "p0_to_p1", json_integer((json_int_t)t.p0_to_p1));
        json_object_set_new(j, "p1_to_p0", json_integer((json_int_t)t.p1_to_p0));
        json_object_set_new(j, "relu_online_bytes", json_integer((json_int_t)relu_b));
        json_object_set_new(j, "poly_online_bytes", json_integer((json_int_t)poly_b));
        json_object_set_new(j, "linear_online_bytes", json_integer((json_int_t)lin_b));
        json_object_set_new(j, "rounds", json_integer(t.rounds));
        json_object_set_new(j, "oneway", json_integer(t.oneway));
        json_object_set_new(j, "relu_sites", json_integer(relu_sites));
        json_object_set_new(j, "dealer_bytes", json_integer((json_int_t)t.dealer_to_p0));
        json_object_set_new(j, "setup_bytes", json_integer((json_int_t)s.p0_to_p1));
        json_object_set_new(j, "server_macs", json_real(macs));
        json_object_set_new(j, "lan_comm_seconds", json_real(ar_pi_link_seconds(lan, &t)));
        json_object_set_new(j, "wan_comm_seconds", json_real(ar_pi_link_seconds(wan, &t)));
        json_t *layers = json_array();
        for (int i = 0; i <= m.n_ops; i++) {
            struct ar_cost c = ar_pi_cost_op(&m, i, N);
            json_t *l = json_object();
            json_object_set_new(l, "name", json_string(i < m.n_ops ? m.ops[i].name : "reveal"));
            json_object_set_new(l, "kind", json_string(i < m.n_ops ? ar_pi_kind_name(m.ops[i].kind) : "reveal"));
            json_object_set_new(l, "relus", json_integer(i < m.n_ops ? (json_int_t)ar_pi_op_relus(&m, i) * N : 0));
            json_object_set_new(l, "polys", json_integer(i < m.n_ops ? (json_int_t)ar_pi_op_polys(&m, i) * N : 0));
            json_object_set_new(l, "p0_to_p1", json_integer((json_int_t)c.p0_to_p1));
            json_object_set_new(l, "p1_to_p0", json_integer((json_int_t)c.p1_to_p0));
            layer_split_json(l, &m, i, c.p0_to_p1 + c.p1_to_p0, N);
            json_object_set_new(l, "rounds", json_integer(c.rounds));
            json_object_set_new(l, "oneway", json_integer(c.oneway));
            json_object_set_new(l, "dealer_bytes", json_integer((json_int_t)c.dealer_to_p0));
            json_array_append_new(layers, l);
        }
        json_object_set_new(j, "layers", layers);
        cli_print_json(j);
    } else {
        print_cost_table(&m, N);
        printf("\n%s: %zu ReLUs + %zu quadratics per image, f = %d, %d image%s per inference\n", path, m.relu_count,
               m.poly_count, m.frac_bits, N, N == 1 ? "" : "s");
        printf("online: %.3f MB (ReLU %.3f, quadratic %.3f, linear %.3f), %u rounds + %u one-way messages "
               "(%u sites with ReLUs)\n",
               (double)(t.p0_to_p1 + t.p1_to_p0) / MB, (double)relu_b / MB, (double)poly_b / MB, (double)lin_b / MB,
               t.rounds, t.oneway, relu_sites);
        printf("offline: dealer -> server %.3f MB per inference; one-time model setup %.3f MB (F = W - B)\n",
               (double)t.dealer_to_p0 / MB, (double)s.p0_to_p1 / MB);
        printf("server convolutions: %.3f GMAC; communication time alone: LAN %.3f s, WAN %.3f s\n", macs / 1e9,
               ar_pi_link_seconds(lan, &t), ar_pi_link_seconds(wan, &t));
    }
    ar_pi_model_free(&m);
    return 0;
}

/* ---------------- pi export-public ---------------- */

static void info_from_ckpt(struct ar_pi_public_info *info, const struct ar_st *st, const char *path) {
    memset(info, 0, sizeof *info);
    const char *v = ar_st_meta(st, "autorep.arch_name");
    snprintf(info->arch_name, sizeof info->arch_name, "%s", v ? v : path);
    if ((v = ar_st_meta(st, "data.set"))) snprintf(info->data_set, sizeof info->data_set, "%s", v);
}

static void info_norm(struct ar_pi_public_info *info, const struct ar_norm *nm) {
    ar_norm_format(nm, 0, info->mean, sizeof info->mean);
    ar_norm_format(nm, 1, info->std, sizeof info->std);
}

static int pi_export(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "masked or plain checkpoint (the server's)", NULL, 0},
                          {"out", "PUB", "public model file to write (no weights)", NULL, 0},
                          {"frac-bits", "F", "fixed-point fractional bits (8..16)", "12", 0},
                          {"data", "SET", "data set for the input normalisation (default: the checkpoint's)", NULL, 0},
                          {"data-dir", "DIR", "directory of the data set files", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi export-public";
    int r = cli_parse(cmd, "--model CKPT --out PUB [--frac-bits F]", o, argc, argv, 3);
    if (r) return r == 1 ? 0 : r;
    const char *path = cli_str(o, "model"), *out = cli_str(o, "out");
    int frac;
    if (get_frac(cmd, o, &frac)) return 2;
    if (!path || !out) {
        cli_err(cmd, "--model and --out are required");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    struct ar_pi_model m;
    if (open_model(cmd, path, frac, 0, &net, &st, &m)) return 1;
    int rc = 1;
    struct ar_pi_public_info info;
    info_from_ckpt(&info, &st, path);
    const char *set = cli_str(o, "data") ? cli_str(o, "data") : (info.data_set[0] ? info.data_set : "fashion-mnist");
    snprintf(info.data_set, sizeof info.data_set, "%s", set);
    struct ar_norm nm;
    char err[AR_ERR_LEN], hex[2 * AR_PI_HASH_BYTES + 1];
    if (cli_model_norm(cmd, &st, set, cli_str(o, "data-dir"), &nm)) goto done;
    info_norm(&info, &nm);
    if (ar_pi_public_save(&net, frac, &info, out, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    ar_pi_hash_hex(hex, m.hash);
    printf("wrote %s: %zu ReLUs + %zu quadratics per image, f = %d, hash %.16s\n", out, m.relu_count, m.poly_count,
           frac, hex);
    rc = 0;
done:
    ar_pi_model_free(&m);
    ar_net_free(&net);
    ar_st_free(&st);
    return rc;
}

/* ---------------- the three roles over TCP ---------------- */

struct role_cfg {
    int n, batch;
    struct ar_net_config net;
    const char *report;
};

/* Options common to dealer / server / client; returns 0 or an exit code. */
static int role_common(const char *cmd, struct cli_opt *o, const struct ar_pi_model *m, struct role_cfg *rc) {
    long n, batch, timeout, lfd;
    if (cli_int(cmd, o, "n", 1, 10000000, &n) || cli_int(cmd, o, "batch", 1, 65536, &batch) ||
        cli_int(cmd, o, "timeout", 1, 86400, &timeout))
        return 2;
    if (cli_find(o, "listen-fd") && cli_str(o, "listen-fd") && cli_int(cmd, o, "listen-fd", 0, 65535, &lfd)) return 2;
    if (cli_threads(cmd, cli_str(o, "threads"))) return 2;
    ar_net_config_default(&rc->net);
    rc->n = (int)n;
    rc->batch = (int)batch;
    rc->net.tcp.timeout_ms = (int)timeout * 1000;
    rc->net.tcp.connect_timeout_ms = rc->net.tcp.timeout_ms;
    rc->report = cli_str(o, "report");
    session_hash(rc->net.model_hash, m, rc->n, rc->batch);
    return 0;
}

static long opt_fd(struct cli_opt *o) {
    const char *v = cli_str(o, "listen-fd");
    return v ? strtol(v, NULL, 10) : -1;
}

/* Connect, run the whole session, disconnect. */
static int run_role(const char *cmd, int role, const struct ar_pi_model *m, const struct role_cfg *c,
                    const uint64_t *x, uint64_t *logits, struct ar_pi_result *res, char *cipher, size_t cl) {
    char err[AR_ERR_LEN];
    struct ar_party p;
    struct ar_party_opts po;
    ar_party_opts_default(&po);
    po.frac_bits = m->frac_bits;
    int rc = ar_party_init(&p, role, &po, err);
    if (!rc) rc = ar_party_connect_tcp(&p, &c->net, err);
    if (!rc) {
        const struct ar_chan *ch = p.peer ? p.peer : p.to_p0;
        const char *ci = ar_tcp_cipher(ch);
        snprintf(cipher, cl, "%s", ci ? ci : "?");
        rc = ar_pi_party_run(&p, m, c->n, c->batch, x, logits, res, err);
    }
    ar_party_disconnect(&p);
    ar_party_free(&p);
    if (rc) {
        cli_err(cmd, "%s", err);
        return 1;
    }
    return 0;
}

#define ROLE_OPTS                                                                                               \
    {"n", "N", "images (all three roles must agree)", "1", 0},                                                  \
        {"batch", "B", "images per inference (all three roles must agree)", "1", 0},                            \
        {"timeout", "S", "seconds without progress before a peer is declared dead", "60", 0},                   \
        {"report", "FILE", "write this role's measurements as JSON", NULL, 0},                                  \
        {"threads", "T", "OpenMP threads", NULL, 0}

static int pi_dealer(int argc, char **argv) {
    struct cli_opt o[] = {{"public", "PUB", "public model file (autorep pi export-public)", NULL, 0},
                          {"listen", "HOST:PORT", "where to accept the server and the client", "127.0.0.1:7101", 0},
                          {"listen-fd", "FD", "an already-listening socket instead (used by pi local)", NULL, 0},
                          ROLE_OPTS,
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi dealer";
    int r = cli_parse(cmd, "--public PUB [--listen HOST:PORT] [--n N]", o, argc, argv, 3);
    if (r) return r == 1 ? 0 : r;
    if (!cli_str(o, "public")) {
        cli_err(cmd, "--public PUB is required");
        return 2;
    }
    struct ar_pi_model m;
    if (load_public(cmd, cli_str(o, "public"), &m, NULL)) return 1;
    struct role_cfg c;
    int rc = 1;
    if ((r = role_common(cmd, o, &m, &c))) {
        rc = r;
        goto done;
    }
    c.net.dealer_listen_fd = (int)opt_fd(o);
    if (get_addr(cmd, "listen", cli_str(o, "listen"), c.net.dealer_host, sizeof c.net.dealer_host,
                 &c.net.dealer_port))
        goto done;
    struct ar_pi_result res;
    char cipher[32];
    if (run_role(cmd, AR_ROLE_DEALER, &m, &c, NULL, NULL, &res, cipher, sizeof cipher)) goto done;
    struct ar_meas t = ar_pi_result_total(&res);
    for (int i = 0; i < res.n_ids; i++) t.dealer_bytes += res.offline[i].dealer_bytes;
    printf("dealer: %d images, %.3f MB of correlations to the server, %.2f s\n", res.images,
           (double)t.dealer_bytes / MB, res.total_s);
    rc = c.report && write_report(cmd, c.report, &res, cipher, NULL, 0) ? 1 : 0;
    ar_pi_result_free(&res);
done:
    ar_pi_model_free(&m);
    return rc;
}

static int pi_server(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "masked or plain checkpoint (the weights stay here)", NULL, 0},
                          {"frac-bits", "F", "fixed-point fractional bits (as in the public file)", "12", 0},
                          {"listen", "HOST:PORT", "where to accept the client", "127.0.0.1:7100", 0},
                          {"listen-fd", "FD", "an already-listening socket instead (used by pi local)", NULL, 0},
                          {"dealer", "HOST:PORT", "the dealer's address", "127.0.0.1:7101", 0},
                          ROLE_OPTS,
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi server";
    int r = cli_parse(cmd, "--model CKPT [--listen HOST:PORT] [--dealer HOST:PORT] [--n N]", o, argc, argv, 3);
    if (r) return r == 1 ? 0 : r;
    int frac;
    if (get_frac(cmd, o, &frac)) return 2;
    if (!cli_str(o, "model")) {
        cli_err(cmd, "--model CKPT is required");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    struct ar_pi_model m;
    if (open_model(cmd, cli_str(o, "model"), frac, 1, &net, &st, &m)) return 1;
    ar_net_free(&net); /* the compiled model holds the (folded) weights */
    ar_st_free(&st);
    struct role_cfg c;
    int rc = 1;
    if ((r = role_common(cmd, o, &m, &c))) {
        rc = r;
        goto done;
    }
    c.net.p0_listen_fd = (int)opt_fd(o);
    if (get_addr(cmd, "listen", cli_str(o, "listen"), c.net.p0_host, sizeof c.net.p0_host, &c.net.p0_port) ||
        get_addr(cmd, "dealer", cli_str(o, "dealer"), c.net.dealer_host, sizeof c.net.dealer_host,
                 &c.net.dealer_port))
        goto done;
    struct ar_pi_result res;
    char cipher[32];
    if (run_role(cmd, AR_ROLE_P0, &m, &c, NULL, NULL, &res, cipher, sizeof cipher)) goto done;
    struct ar_meas t = ar_pi_result_total(&res);
    printf("server: %d images, online %.3f MB sent / %.3f MB received, %llu rounds, %.2f s online (%s)\n", res.images,
           (double)t.sent / MB, (double)t.recv / MB, (unsigned long long)t.rounds, res.online_s, cipher);
    rc = c.report && write_report(cmd, c.report, &res, cipher, NULL, 0) ? 1 : 0;
    ar_pi_result_free(&res);
done:
    ar_pi_model_free(&m);
    return rc;
}

static int client_norm(const char *cmd, const struct ar_pi_public_info *info, const char *set, const char *dir,
                       struct ar_norm *nm) {
    char err[AR_ERR_LEN];
    if (info->mean[0] && info->std[0]) {
        if (ar_norm_parse(nm, info->mean, info->std, err)) {
            cli_err(cmd, "public file: %s", err);
            return 1;
        }
        return 0;
    }
    if (!strcmp(set, "random")) {
        random_norm(nm, info->in_c);
        return 0;
    }
    fprintf(stderr, "autorep %s: the public file has no normalisation; using the %s training split's statistics\n",
            cmd, set);
    struct ar_dataset tr;
    if (cli_load_split(cmd, &tr, set, dir, 1)) return 1;
    ar_norm_from_data(nm, &tr);
    ar_dataset_free(&tr);
    return 0;
}

static int pi_client(int argc, char **argv) {
    struct cli_opt o[] = {{"public", "PUB", "public model file (no weights needed)", NULL, 0},
                          {"connect", "HOST:PORT", "the server's address", "127.0.0.1:7100", 0},
                          {"dealer", "HOST:PORT", "the dealer's address", "127.0.0.1:7101", 0},
                          {"data", "SET", "data set of the test images (default: the public file's)", NULL, 0},
                          {"data-dir", "DIR", "directory of the data set files", NULL, 0},
                          {"offset", "K", "first test image", "0", 0},
                          {"json", NULL, "print the result (with predictions) as one JSON object", NULL, 0},
                          ROLE_OPTS,
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi client";
    int r = cli_parse(cmd, "--public PUB [--connect HOST:PORT] [--dealer HOST:PORT] [--data SET] [--n N]", o, argc,
                      argv, 3);
    if (r) return r == 1 ? 0 : r;
    if (!cli_str(o, "public")) {
        cli_err(cmd, "--public PUB is required");
        return 2;
    }
    long offset;
    if (cli_int(cmd, o, "offset", 0, 1 << 30, &offset)) return 2;
    struct ar_pi_model m;
    struct ar_pi_public_info info;
    if (load_public(cmd, cli_str(o, "public"), &m, &info)) return 1;
    struct role_cfg c;
    int rc = 1;
    struct ar_dataset te;
    memset(&te, 0, sizeof te);
    float *xf = NULL;
    int32_t *labels = NULL;
    uint64_t *x = NULL, *logits = NULL;
    size_t xf_bytes = 0, x_bytes = 0, logit_bytes = 0; /* wiped before they are freed: the image and its result */
    struct ar_norm nm;
    if ((r = role_common(cmd, o, &m, &c))) {
        rc = r;
        goto done;
    }
    if (get_addr(cmd, "connect", cli_str(o, "connect"), c.net.p0_host, sizeof c.net.p0_host, &c.net.p0_port) ||
        get_addr(cmd, "dealer", cli_str(o, "dealer"), c.net.dealer_host, sizeof c.net.dealer_host,
                 &c.net.dealer_port))
        goto done;
    const char *set = cli_str(o, "data") ? cli_str(o, "data") : (info.data_set[0] ? info.data_set : "fashion-mnist");
    const char *dir = cli_str(o, "data-dir");
    info.in_c = m.in_shape.c;
    if (client_norm(cmd, &info, set, dir, &nm) || load_test_set(cmd, set, dir, &m, (int)offset + c.n, &te) ||
        check_shape(cmd, &te, &m) || check_count(cmd, &te, (int)offset, c.n))
        goto done;
    size_t in = ar_shape_numel(m.in_shape);
    xf = malloc(sizeof(float) * in * (size_t)c.n);
    labels = malloc(sizeof(int32_t) * (size_t)c.n);
    x = malloc(8 * in * (size_t)c.n);
    logits = malloc(8 * (size_t)m.classes * (size_t)c.n);
    xf_bytes = sizeof(float) * in * (size_t)c.n;
    x_bytes = 8 * in * (size_t)c.n;
    logit_bytes = 8 * (size_t)m.classes * (size_t)c.n;
    if (!xf || !labels || !x || !logits) {
        cli_err(cmd, "out of memory for %d images", c.n);
        goto done;
    }
    if (make_inputs(cmd, &te, &nm, (int)offset, c.n, xf, labels)) goto done;
    ar_pi_encode_input(x, xf, in * (size_t)c.n, m.frac_bits);
    sodium_memzero(xf, xf_bytes);
    free(xf);
    xf = NULL;
    struct ar_pi_result res;
    char cipher[32];
    if (run_role(cmd, AR_ROLE_P1, &m, &c, x, logits, &res, cipher, sizeof cipher)) goto done;
    int correct = 0;
    for (int i = 0; i < c.n; i++) correct += ar_pi_argmax(logits + (size_t)i * m.classes, m.classes) == labels[i];
    struct ar_meas t = ar_pi_result_total(&res);
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "n", json_integer(c.n));
        json_object_set_new(j, "top1", json_real((double)correct / c.n));
        json_object_set_new(j, "online_bytes", json_integer((json_int_t)(t.sent + t.recv)));
        json_object_set_new(j, "rounds", json_integer((json_int_t)(t.rounds / (uint64_t)res.inferences)));
        json_object_set_new(j, "online_seconds", json_real(res.online_s));
        json_t *pred = json_array();
        for (int i = 0; i < c.n; i++)
            json_array_append_new(pred, json_integer(ar_pi_argmax(logits + (size_t)i * m.classes, m.classes)));
        json_object_set_new(j, "predictions", pred);
        cli_print_json(j);
    } else {
        printf("client: %d images, top-1 %.2f%% under secure inference; online %.3f MB, %llu rounds per inference, "
               "%.3f s (%s)\n",
               c.n, 100.0 * correct / c.n, (double)(t.sent + t.recv) / MB,
               (unsigned long long)(t.rounds / (uint64_t)res.inferences), res.online_s, cipher);
    }
    rc = c.report && write_report(cmd, c.report, &res, cipher, logits, (size_t)c.n * (size_t)m.classes) ? 1 : 0;
    ar_pi_result_free(&res);
done:
    if (xf) sodium_memzero(xf, xf_bytes);
    if (x) sodium_memzero(x, x_bytes);
    if (logits) sodium_memzero(logits, logit_bytes);
    free(xf);
    free(labels);
    free(x);
    free(logits);
    ar_dataset_free(&te);
    ar_pi_model_free(&m);
    return rc;
}

/* ---------------- pi local: processes, netem, comparison ---------------- */

static volatile sig_atomic_t g_signal;
static int g_netem_on;
static char g_tc[64] = "tc";

static void on_signal(int s) { g_signal = s; }

/* Run tc with args; output (stdout + stderr) into out. Returns the exit status or -1. */
static int run_tc(const char *const *args, char *out, size_t outlen) {
    int pfd[2];
    if (pipe(pfd)) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execvp(g_tc, (char *const *)args);
        _exit(127);
    }
    close(pfd[1]);
    size_t got = 0;
    ssize_t k;
    while ((k = read(pfd[0], out + got, got + 1 < outlen ? outlen - got - 1 : 0)) > 0) got += (size_t)k;
    if (outlen) out[got] = 0;
    char sink[256];
    while (read(pfd[0], sink, sizeof sink) > 0) {
    }
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void netem_remove(void) {
    if (!g_netem_on) return;
    const char *a[] = {"tc", "qdisc", "del", "dev", "lo", "root", NULL};
    char out[256];
    run_tc(a, out, sizeof out);
    g_netem_on = 0;
}

/* Async-signal-safe removal for fatal signals (fork + execvp + waitpid only). */
static void on_fatal(int s) {
    if (g_netem_on) {
        pid_t pid = fork();
        if (pid == 0) {
            static const char *const a[] = {"tc", "qdisc", "del", "dev", "lo", "root", NULL};
            execvp("tc", (char *const *)a);
            _exit(127);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    signal(s, SIG_DFL);
    raise(s);
}

/* Shape the P0 <-> P1 link (both directions of TCP port `port` on lo) with a prio
 * qdisc whose 4th band is a netem; other loopback traffic is untouched. Returns 1
 * when shaped; otherwise 0 with the reason in `why`. */
static int netem_apply(const char *preset, int port, char *why, size_t wl) {
    const char *delay = !strcmp(preset, "lan") ? "0.15ms" : "20ms", *rate = !strcmp(preset, "lan") ? "3gbit" : "400mbit";
    char out[1024], ps[16];
    if (geteuid() != 0) {
        snprintf(why, wl, "tc netem needs root");
        return 0;
    }
    const char *show[] = {"tc", "qdisc", "show", "dev", "lo", NULL};
    if (run_tc(show, out, sizeof out) != 0) {
        snprintf(why, wl, "the tc program (iproute2) is not usable");
        return 0;
    }
    if (!strstr(out, "noqueue") || strstr(out, "netem") || strstr(out, "prio")) {
        char *nl = strchr(out, '\n');
        if (nl) *nl = 0;
        snprintf(why, wl, "lo already has a queueing discipline (%.200s)", out);
        return 0;
    }
    snprintf(ps, sizeof ps, "%d", port);
    const char *a1[] = {"tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio", "bands", "4", "priomap",
                        "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1", "1", "1", "1", "1", NULL};
    const char *a2[] = {"tc", "qdisc", "add", "dev", "lo", "parent", "1:4", "handle", "40:", "netem", "delay", delay,
                        "rate", rate, "limit", "1000000", NULL};
    const char *a3[] = {"tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                        "match", "ip", "dport", ps, "0xffff", "flowid", "1:4", NULL};
    const char *a4[] = {"tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                        "match", "ip", "sport", ps, "0xffff", "flowid", "1:4", NULL};
    const char *const *steps[] = {a1, a2, a3, a4};
    for (int i = 0; i < 4; i++) {
        if (run_tc(steps[i], out, sizeof out) != 0) {
            char *nl = strchr(out, '\n');
            if (nl) *nl = 0;
            if (i > 0) {
                g_netem_on = 1;
                netem_remove();
            }
            snprintf(why, wl, "tc failed: %.200s", out);
            return 0;
        }
        if (i == 0) g_netem_on = 1;
    }
    return 1;
}

/* The userspace relay between the client and the server (when netem is unusable). */
struct relay_job {
    int lfd, port;
    struct ar_relay_opts o;
    volatile int stop;
    int rc;
    char err[AR_ERR_LEN];
    struct ar_relay_stats st;
};

static void *relay_thread(void *v) {
    struct relay_job *j = v;
    j->rc = ar_relay_run(j->lfd, "127.0.0.1", j->port, &j->o, &j->stop, &j->st, j->err);
    return NULL;
}

struct child {
    const char *name;
    pid_t pid;
    int status, done;
    char out[600], errf[600];
};

static pid_t spawn(struct child *c, char *const *args, int keep_fd) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int o = open(c->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int e = open(c->errf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv("/proc/self/exe", args);
    _exit(127);
}

/* Last non-empty line of a file into buf. */
static void last_line(const char *path, char *buf, size_t len) {
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n && len) { /* keep what fits (a copy, not snprintf: gcc -O1 flags the deliberate truncation) */
            size_t k = n < len - 1 ? n : len - 1;
            memcpy(buf, line, k);
            buf[k] = 0;
        }
    }
    fclose(f);
}

static void kill_all(struct child *ch, int n) {
    for (int i = 0; i < n; i++)
        if (ch[i].pid > 0 && !ch[i].done) kill(ch[i].pid, SIGTERM);
    for (int t = 0; t < 40; t++) {
        int left = 0;
        for (int i = 0; i < n; i++) {
            if (ch[i].pid <= 0 || ch[i].done) continue;
            if (waitpid(ch[i].pid, &ch[i].status, WNOHANG) == ch[i].pid) ch[i].done = 1;
            else left++;
        }
        if (!left) return;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n; i++)
        if (ch[i].pid > 0 && !ch[i].done) {
            kill(ch[i].pid, SIGKILL);
            waitpid(ch[i].pid, &ch[i].status, 0);
            ch[i].done = 1;
        }
}

/* Wait for all children; the first failure (or a signal, or the deadline) stops the
 * others. Returns 0 when all exited 0. */
static int wait_children(const char *cmd, struct child *ch, int n, double deadline_s) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int left = 0;
        for (int i = 0; i < n; i++) {
            if (ch[i].done) continue;
            pid_t w = waitpid(ch[i].pid, &ch[i].status, WNOHANG);
            if (w == ch[i].pid) {
                ch[i].done = 1;
                if (!WIFEXITED(ch[i].status) || WEXITSTATUS(ch[i].status) != 0) {
                    char msg[700];
                    last_line(ch[i].errf, msg, sizeof msg);
                    kill_all(ch, n);
                    if (WIFSIGNALED(ch[i].status))
                        cli_err(cmd, "the %s process died (signal %d)%s%s", ch[i].name, WTERMSIG(ch[i].status),
                                msg[0] ? ": " : "", msg);
                    else
                        cli_err(cmd, "the %s process failed: %s", ch[i].name, msg[0] ? msg : "(no message)");
                    return 1;
                }
            } else {
                left++;
            }
        }
        if (!left) return 0;
        if (g_signal) {
            kill_all(ch, n);
            cli_err(cmd, "interrupted by signal %d; stopped the three processes", (int)g_signal);
            return 128 + (int)g_signal;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec) > deadline_s) {
            kill_all(ch, n);
            cli_err(cmd, "the run did not finish within %.0f s; stopped the three processes", deadline_s);
            return 1;
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
}

static void rm_tree(const char *dir, const char *const *files, int nf) {
    char p[700];
    for (int i = 0; i < nf; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct agg {
    uint64_t relu_b, poly_b, lin_b, reveal_b;
};

static int pi_local(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "masked or plain checkpoint", NULL, 0},
                          {"data", "SET", "data set (default: the checkpoint's)", NULL, 0},
                          {"data-dir", "DIR", "directory of the data set files", NULL, 0},
                          {"n", "N", "test images", "100", 0},
                          {"batch", "B", "images per inference", "1", 0},
                          {"net", "LINK", "none | lan (3 Gbit/s, 0.15 ms) | wan (400 Mbit/s, 20 ms) via tc netem",
                           "none", 0},
                          {"frac-bits", "F", "fixed-point fractional bits (8..16)", "12", 0},
                          {"timeout", "S", "seconds without progress before a party is declared dead", "60", 0},
                          {"max-seconds", "S", "stop the whole run after S seconds", "86400", 0},
                          {"threads", "T", "OpenMP threads of each party", NULL, 0},
                          {"json", NULL, "one JSON object on stdout", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi local";
    int r = cli_parse(cmd, "--model CKPT --data SET [--n N] [--net none|lan|wan] [--frac-bits F] [--json]", o, argc,
                      argv, 3);
    if (r) return r == 1 ? 0 : r;
    int frac;
    long n, batch, timeout;
    double max_s;
    if (get_frac(cmd, o, &frac) || cli_int(cmd, o, "n", 1, 1000000, &n) ||
        cli_int(cmd, o, "batch", 1, 65536, &batch) || cli_int(cmd, o, "timeout", 1, 86400, &timeout) ||
        cli_float(cmd, o, "max-seconds", 1, 1e7, &max_s) || cli_threads(cmd, cli_str(o, "threads")))
        return 2;
    const char *link = cli_str(o, "net");
    if (strcmp(link, "none") && strcmp(link, "lan") && strcmp(link, "wan")) {
        cli_err(cmd, "--net: '%s' is not none, lan or wan", link);
        return 2;
    }
    const char *path = cli_str(o, "model");
    if (!path) {
        cli_err(cmd, "--model CKPT is required");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    struct ar_pi_model m;
    if (open_model(cmd, path, frac, 1, &net, &st, &m)) return 1;
    int rc = 1, N = (int)n, lfd0 = -1, lfdd = -1, port0 = 0, portd = 0, shaped = 0;
    const char *shaping = "none";
    int relay_on = 0, lfdr = -1, portr = 0;
    pthread_t relay_tid;
    struct relay_job rj;
    memset(&rj, 0, sizeof rj);
    char dir[] = "/tmp/autorep-pi.XXXXXX", err[AR_ERR_LEN];
    int have_dir = 0;
    struct child ch[3];
    memset(ch, 0, sizeof ch);
    struct ar_pi_result res[3];
    memset(res, 0, sizeof res);
    struct ar_dataset te;
    memset(&te, 0, sizeof te);
    float *xf = NULL, *fl = NULL;
    int32_t *labels = NULL;
    uint64_t *x = NULL, *lg_mpc = NULL, *lg_fix = NULL;
    struct ar_pi_fixed_stats *fst = NULL;
    const char *set = cli_str(o, "data") ? cli_str(o, "data") : ar_st_meta(&st, "data.set");
    if (!set) set = "fashion-mnist";
    const char *ddir = cli_str(o, "data-dir");
    struct ar_norm nm;
    if (!strcmp(set, "random") && !ar_st_meta(&st, "data.mean")) random_norm(&nm, m.in_shape.c);
    else if (cli_model_norm(cmd, &st, set, ddir, &nm)) goto done;
    if (load_test_set(cmd, set, ddir, &m, N, &te) || check_shape(cmd, &te, &m) || check_count(cmd, &te, 0, N))
        goto done;
    /* the public file, the listening sockets, the three processes */
    if (!mkdtemp(dir)) {
        cli_err(cmd, "cannot create a temporary directory: %s", strerror(errno));
        goto done;
    }
    have_dir = 1;
    char pub[700];
    snprintf(pub, sizeof pub, "%s/public.safetensors", dir);
    struct ar_pi_public_info info;
    info_from_ckpt(&info, &st, path);
    snprintf(info.data_set, sizeof info.data_set, "%s", set);
    info_norm(&info, &nm);
    if (ar_pi_public_save(&net, frac, &info, pub, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    if (ar_tcp_listen("127.0.0.1", 0, &lfd0, &port0, err) || ar_tcp_listen("127.0.0.1", 0, &lfdd, &portd, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    /* link emulation: tc netem on P0's port, else a relay in a thread of this process */
    if (strcmp(link, "none")) {
        char why[300];
        if ((shaped = netem_apply(link, port0, why, sizeof why))) {
            shaping = "netem";
        } else {
            const struct ar_pi_link *pl = ar_pi_link_preset(link);
            rj.o.delay_s = pl->delay_s;
            rj.o.bits_per_s = pl->bits_per_s;
            rj.o.accept_timeout_ms = (int)timeout * 1000;
            rj.port = port0;
            if (ar_tcp_listen("127.0.0.1", 0, &lfdr, &portr, err)) {
                cli_err(cmd, "%s", err);
                goto done;
            }
            rj.lfd = lfdr;
            if (pthread_create(&relay_tid, NULL, relay_thread, &rj)) {
                cli_err(cmd, "cannot start the link-emulation relay");
                goto done;
            }
            relay_on = 1;
            shaped = 1;
            shaping = "relay";
            fprintf(stderr, "autorep %s: no tc netem (%s); emulating --net %s with a userspace relay (%g ms, %g Mbit/s "
                    "each way)\n", cmd, why, link, 1e3 * pl->delay_s, pl->bits_per_s / 1e6);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (shaped) {
        atexit(netem_remove);
        signal(SIGSEGV, on_fatal);
        signal(SIGABRT, on_fatal);
        signal(SIGBUS, on_fatal);
        signal(SIGFPE, on_fatal);
    }
    char sn[32], sb[32], sto[32], sfrac[8], sfd0[16], sfdd[16], daddr[64], paddr[64], rep[3][700], dset[64];
    snprintf(sn, sizeof sn, "%d", N);
    snprintf(sb, sizeof sb, "%ld", batch);
    snprintf(sto, sizeof sto, "%ld", timeout);
    snprintf(sfrac, sizeof sfrac, "%d", frac);
    snprintf(sfd0, sizeof sfd0, "%d", lfd0);
    snprintf(sfdd, sizeof sfdd, "%d", lfdd);
    snprintf(daddr, sizeof daddr, "127.0.0.1:%d", portd);
    snprintf(paddr, sizeof paddr, "127.0.0.1:%d", relay_on ? portr : port0);
    snprintf(dset, sizeof dset, "%s", set);
    const char *names[3] = {"server", "client", "dealer"};
    for (int i = 0; i < 3; i++) {
        ch[i].name = names[i];
        snprintf(rep[i], sizeof rep[i], "%s/%s.json", dir, names[i]);
        snprintf(ch[i].out, sizeof ch[i].out, "%s/%s.out", dir, names[i]);
        snprintf(ch[i].errf, sizeof ch[i].errf, "%s/%s.err", dir, names[i]);
    }
    const char *thr = cli_str(o, "threads");
    char *a_dealer[32] = {"autorep", "pi", "dealer", "--public", pub, "--listen-fd", sfdd, "--n", sn, "--batch", sb,
                          "--timeout", sto, "--report", rep[2]};
    char *a_server[32] = {"autorep", "pi", "server", "--model", (char *)path, "--frac-bits", sfrac, "--listen-fd",
                          sfd0, "--dealer", daddr, "--n", sn, "--batch", sb, "--timeout", sto, "--report", rep[0]};
    char *a_client[40] = {"autorep", "pi", "client", "--public", pub, "--connect", paddr, "--dealer", daddr, "--data",
                          dset, "--n", sn, "--batch", sb, "--timeout", sto, "--report", rep[1]};
    if (ddir) {
        int k = 19;
        a_client[k++] = "--data-dir";
        a_client[k] = (char *)ddir;
    }
    if (thr) {
        int kd = 15, ks = 19, kc = ddir ? 21 : 19;
        a_dealer[kd++] = "--threads";
        a_dealer[kd] = (char *)thr;
        a_server[ks++] = "--threads";
        a_server[ks] = (char *)thr;
        a_client[kc++] = "--threads";
        a_client[kc] = (char *)thr;
    }
    fflush(stdout);
    fflush(stderr);
    ch[2].pid = spawn(&ch[2], a_dealer, lfdd);
    if (ch[2].pid > 0) ch[0].pid = spawn(&ch[0], a_server, lfd0);
    if (ch[0].pid > 0) ch[1].pid = spawn(&ch[1], a_client, -1);
    ar_tcp_close_listener(lfd0);
    ar_tcp_close_listener(lfdd);
    lfd0 = lfdd = -1;
    if (ch[0].pid <= 0 || ch[1].pid <= 0 || ch[2].pid <= 0) {
        for (int i = 0; i < 3; i++)
            if (ch[i].pid < 0) ch[i].done = 1;
        kill_all(ch, 3);
        cli_err(cmd, "cannot start the party processes: %s", strerror(errno));
        goto done;
    }
    int w = wait_children(cmd, ch, 3, max_s);
    netem_remove();
    if (relay_on) {
        if (w) rj.stop = 1;
        pthread_join(relay_tid, NULL);
        relay_on = 0;
        ar_tcp_close_listener(lfdr);
        lfdr = -1;
    }
    if (w) {
        rc = w;
        goto done;
    }
    /* the three reports */
    int K = m.classes, ids = m.n_ops + 1;
    size_t in = ar_shape_numel(m.in_shape);
    lg_mpc = malloc(8 * (size_t)N * (size_t)K);
    lg_fix = malloc(8 * (size_t)N * (size_t)K);
    fl = malloc(sizeof(float) * (size_t)N * (size_t)K);
    xf = malloc(sizeof(float) * in * (size_t)N);
    x = malloc(8 * in * (size_t)N);
    labels = malloc(sizeof(int32_t) * (size_t)N);
    fst = calloc((size_t)m.n_ops, sizeof *fst);
    if (!lg_mpc || !lg_fix || !fl || !xf || !x || !labels || !fst) {
        cli_err(cmd, "out of memory for %d images", N);
        goto done;
    }
    if (read_report(cmd, rep[0], ids, &res[0], NULL, 0) || read_report(cmd, rep[1], ids, &res[1], lg_mpc,
                                                                         (size_t)N * (size_t)K) ||
        read_report(cmd, rep[2], ids, &res[2], NULL, 0))
        goto done;
    /* fixed-point and float executors on the same images */
    if (make_inputs(cmd, &te, &nm, 0, N, xf, labels)) goto done;
    ar_pi_encode_input(x, xf, in * (size_t)N, frac);
    double bound = 0;
    const int chunk = 32;
    if (ar_net_plan(&net, N < chunk ? N : chunk, 0, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    net.train_mode = 0;
    for (int s = 0; s < N; s += chunk) {
        int c = N - s < chunk ? N - s : chunk;
        if (ar_pi_fixed_run(&m, c, x + (size_t)s * in, lg_fix + (size_t)s * K, fst, err)) {
            cli_err(cmd, "fixed-point executor: %s", err);
            goto done;
        }
        double b = ar_pi_error_bound(&m, fst);
        if (b > bound) bound = b;
        memcpy(net.input, xf + (size_t)s * in, sizeof(float) * in * (size_t)c);
        ar_net_forward(&net, c);
        memcpy(fl + (size_t)s * K, ar_net_logits(&net), sizeof(float) * (size_t)c * (size_t)K);
    }
    int max_bits = 0;
    for (int i = 0; i < m.n_ops; i++)
        if (fst[i].max_bits > max_bits) max_bits = fst[i].max_bits;
    /* accuracy and agreement */
    const uint64_t tol = AGREE_LSB;
    int c_mpc = 0, c_fix = 0, c_flt = 0, agree = 0, agree_top1 = 0, flt_agree = 0;
    uint64_t maxd = 0;
    double max_logit = 0;
    for (int i = 0; i < N; i++) {
        const uint64_t *a = lg_mpc + (size_t)i * K, *b = lg_fix + (size_t)i * K;
        int pm = ar_pi_argmax(a, K), pf = ar_pi_argmax(b, K), pl = 0;
        for (int k = 1; k < K; k++)
            if (fl[(size_t)i * K + k] > fl[(size_t)i * K + pl]) pl = k;
        c_mpc += pm == labels[i];
        c_fix += pf == labels[i];
        c_flt += pl == labels[i];
        agree_top1 += pm == pf;
        flt_agree += pf == pl;
        uint64_t d = ar_pi_max_diff(a, b, (size_t)K);
        for (int k = 0; k < K; k++) {
            double v = fabs(ar_fix_decode(b[k], frac));
            if (v > max_logit) max_logit = v;
        }
        agree += d <= tol;
        if (d > maxd) maxd = d;
    }
    /* per-layer aggregation (P0's view for traffic; each role's own time) */
    struct agg ag = {0, 0, 0, 0};
    struct ar_meas t0 = ar_pi_result_total(&res[0]);
    uint64_t dealer_b = 0;
    for (int i = 0; i < ids; i++) dealer_b += res[0].online[i].dealer_bytes + res[0].offline[i].dealer_bytes;
    for (int i = 0; i < ids; i++) {
        const struct ar_meas *mm = &res[0].online[i];
        uint64_t b = mm->sent + mm->recv;
        const struct split sp = op_split(&m, i, b, N);
        if (i == m.n_ops) ag.reveal_b += b;
        ag.relu_b += sp.relu, ag.poly_b += sp.poly, ag.lin_b += sp.lin;
    }
    double rounds = (double)t0.rounds / res[0].inferences, oneway = (double)t0.oneway / res[0].inferences;
    double med_s = res[1].online_s / res[1].inferences, min_s = med_s;
    if (res[1].online_each) {
        qsort(res[1].online_each, (size_t)res[1].inferences, sizeof(double), cmp_double);
        min_s = res[1].online_each[0];
        int k = res[1].inferences;
        med_s = k % 2 ? res[1].online_each[k / 2] : 0.5 * (res[1].online_each[k / 2 - 1] + res[1].online_each[k / 2]);
    }
    uint64_t online_b = t0.sent + t0.recv;
    size_t mp_relus = 0;
    for (int i = 0; i < m.n_ops; i++)
        if (m.ops[i].kind == AR_PI_MAXPOOL) mp_relus += ar_pi_op_relus(&m, i);
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(path));
        json_object_set_new(j, "data", json_string(set));
        json_object_set_new(j, "n", json_integer(N));
        json_object_set_new(j, "batch", json_integer(batch));
        json_object_set_new(j, "frac_bits", json_integer(frac));
        json_object_set_new(j, "net", json_string(link));
        json_object_set_new(j, "shaped", json_boolean(shaped));
        json_object_set_new(j, "shaping", json_string(shaping));
        json_object_set_new(j, "mpc_top1", json_real((double)c_mpc / N));
        json_object_set_new(j, "fixed_top1", json_real((double)c_fix / N));
        json_object_set_new(j, "float_top1", json_real((double)c_flt / N));
        json_object_set_new(j, "agree_fixed", json_real((double)agree / N));
        json_object_set_new(j, "agree_fixed_top1", json_real((double)agree_top1 / N));
        json_object_set_new(j, "agree_float_top1", json_real((double)flt_agree / N));
        json_object_set_new(j, "tolerance_lsb", json_integer((json_int_t)tol));
        json_object_set_new(j, "max_diff_lsb", json_integer((json_int_t)maxd));
        json_object_set_new(j, "bound_lsb", isfinite(bound) && bound < 1e300 ? json_real(bound) : json_null());
        json_object_set_new(j, "max_abs_logit", json_real(max_logit));
        json_object_set_new(j, "max_magnitude_bits", json_integer(max_bits));
        json_object_set_new(j, "relu_count", json_integer((json_int_t)m.relu_count));
        json_object_set_new(j, "poly_count", json_integer((json_int_t)m.poly_count));
        json_object_set_new(j, "maxpool_relus", json_integer((json_int_t)mp_relus));
        json_object_set_new(j, "online_bytes", json_integer((json_int_t)online_b));
        json_object_set_new(j, "p0_to_p1", json_integer((json_int_t)t0.sent));
        json_object_set_new(j, "p1_to_p0", json_integer((json_int_t)t0.recv));
        json_object_set_new(j, "relu_online_bytes", json_integer((json_int_t)ag.relu_b));
        json_object_set_new(j, "poly_online_bytes", json_integer((json_int_t)ag.poly_b));
        json_object_set_new(j, "linear_online_bytes", json_integer((json_int_t)ag.lin_b));
        json_object_set_new(j, "reveal_online_bytes", json_integer((json_int_t)ag.reveal_b));
        json_object_set_new(j, "wire_bytes", json_integer((json_int_t)(t0.wire_sent + t0.wire_recv)));
        json_object_set_new(j, "rounds", json_real(rounds));
        json_object_set_new(j, "oneway", json_real(oneway));
        json_object_set_new(j, "dealer_bytes", json_integer((json_int_t)dealer_b));
        json_object_set_new(j, "setup_bytes", json_integer((json_int_t)res[0].setup.sent));
        json_object_set_new(j, "online_seconds", json_real(res[1].online_s));
        json_object_set_new(j, "online_seconds_per_inference", json_real(res[1].online_s / res[1].inferences));
        json_object_set_new(j, "online_seconds_median", json_real(med_s));
        json_object_set_new(j, "online_seconds_min", json_real(min_s));
        json_object_set_new(j, "offline_seconds", json_real(res[1].offline_s));
        json_object_set_new(j, "server_online_seconds", json_real(res[0].online_s));
        json_object_set_new(j, "setup_seconds", json_real(res[0].setup_s));
        json_object_set_new(j, "dealer_seconds", json_real(res[2].total_s));
        json_t *layers = json_array();
        for (int i = 0; i < ids; i++) {
            const struct ar_meas *p0 = &res[0].online[i], *p1 = &res[1].online[i];
            json_t *l = json_object();
            json_object_set_new(l, "name", json_string(i < m.n_ops ? m.ops[i].name : "reveal"));
            json_object_set_new(l, "kind", json_string(i < m.n_ops ? ar_pi_kind_name(m.ops[i].kind) : "reveal"));
            json_object_set_new(l, "relus", json_integer(i < m.n_ops ? (json_int_t)ar_pi_op_relus(&m, i) : 0));
            json_object_set_new(l, "polys", json_integer(i < m.n_ops ? (json_int_t)ar_pi_op_polys(&m, i) : 0));
            json_object_set_new(l, "p0_to_p1", json_integer((json_int_t)p0->sent));
            json_object_set_new(l, "p1_to_p0", json_integer((json_int_t)p0->recv));
            layer_split_json(l, &m, i, p0->sent + p0->recv, N);
            json_object_set_new(l, "rounds", json_real((double)p0->rounds / res[0].inferences));
            json_object_set_new(l, "oneway", json_real((double)p0->oneway / res[0].inferences));
            json_object_set_new(l, "dealer_bytes",
                                json_integer((json_int_t)(p0->dealer_bytes + res[0].offline[i].dealer_bytes)));
            json_object_set_new(l, "p0_seconds", json_real(p0->seconds));
            json_object_set_new(l, "p1_seconds", json_real(p1->seconds));
            json_object_set_new(l, "p1_offline_seconds", json_real(res[1].offline[i].seconds));
            json_object_set_new(l, "dealer_seconds",
                                json_real(res[2].online[i].seconds + res[2].offline[i].seconds));
            json_array_append_new(layers, l);
        }
        json_object_set_new(j, "layers", layers);
        cli_print_json(j);
    } else {
        double inf = res[0].inferences;
        printf("%-34s %-8s %8s %8s %11s %11s %6s %4s %11s %9s %9s\n", "layer (per inference)", "kind", "relus",
               "quads", "P0->P1 B", "P1->P0 B", "rounds", "1way", "dealer B", "P0 ms", "P1 ms");
        for (int i = 0; i < ids; i++) {
            const struct ar_meas *p0 = &res[0].online[i], *p1 = &res[1].online[i];
            printf("%-34.34s %-8s %8zu %8zu %11.0f %11.0f %6.0f %4.0f %11.0f %9.2f %9.2f\n",
                   i < m.n_ops ? m.ops[i].name : "(logits to the client)",
                   i < m.n_ops ? ar_pi_kind_name(m.ops[i].kind) : "reveal",
                   i < m.n_ops ? ar_pi_op_relus(&m, i) * (size_t)batch : 0,
                   i < m.n_ops ? ar_pi_op_polys(&m, i) * (size_t)batch : 0, (double)p0->sent / inf,
                   (double)p0->recv / inf, (double)p0->rounds / inf, (double)p0->oneway / inf,
                   (double)(p0->dealer_bytes + res[0].offline[i].dealer_bytes) / inf, 1e3 * p0->seconds / inf,
                   1e3 * p1->seconds / inf);
        }
        printf("%-34s %-8s %8zu %8zu %11.0f %11.0f %6.0f %4.0f %11.0f %9.2f %9.2f\n", "total", "",
               m.relu_count * (size_t)batch, m.poly_count * (size_t)batch, (double)t0.sent / inf, (double)t0.recv / inf,
               (double)t0.rounds / inf, (double)t0.oneway / inf, (double)dealer_b / inf, 1e3 * t0.seconds / inf,
               1e3 * ar_pi_result_total(&res[1]).seconds / inf);
        printf("\n%s on %s: %d images, %zu ReLUs + %zu quadratics per image, f = %d, link %s%s\n", path, set, N,
               m.relu_count, m.poly_count, frac, link, !strcmp(shaping, "relay") ? " (userspace relay)" : !strcmp(shaping, "netem") ? " (tc netem)" : "");
        printf("top-1: MPC %.2f%%, fixed point %.2f%%, float %.2f%%\n", 100.0 * c_mpc / N, 100.0 * c_fix / N,
               100.0 * c_flt / N);
        printf("MPC vs fixed point: logits within %llu LSB on %d/%d images (max %llu LSB), same top-1 on %d/%d; "
               "fixed point vs float: same top-1 on %d/%d\n",
               (unsigned long long)tol, agree, N, (unsigned long long)maxd, agree_top1, N, flt_agree, N);
        printf("online per inference: %.3f MB (ReLU %.3f, quadratic %.3f, linear %.3f, logits %.4f), %.0f rounds + "
               "%.0f one-way, %.3f s at the client (median %.3f, min %.3f)\n",
               (double)online_b / inf / MB, (double)ag.relu_b / inf / MB, (double)ag.poly_b / inf / MB,
               (double)ag.lin_b / inf / MB, (double)ag.reveal_b / inf / MB, rounds, oneway,
               res[1].online_s / res[1].inferences, med_s, min_s);
        printf("offline per inference: dealer -> server %.3f MB, client precompute %.3f s; one-time setup %.3f MB "
               "(F = W - B) in %.2f s\n",
               (double)dealer_b / inf / MB, res[1].offline_s / res[1].inferences, (double)res[0].setup.sent / MB,
               res[0].setup_s);
    }
    rc = 0;
done:
    netem_remove();
    if (relay_on) {
        rj.stop = 1;
        pthread_join(relay_tid, NULL);
    }
    if (lfdr >= 0) ar_tcp_close_listener(lfdr);
    if (lfd0 >= 0) ar_tcp_close_listener(lfd0);
    if (lfdd >= 0) ar_tcp_close_listener(lfdd);
    if (have_dir) {
        const char *files[] = {"public.safetensors", "server.json", "client.json", "dealer.json", "server.out",
                               "client.out", "dealer.out", "server.err", "client.err", "dealer.err"};
        rm_tree(dir, files, 10);
    }
    for (int i = 0; i < 3; i++) ar_pi_result_free(&res[i]);
    free(fst);
    free(xf);
    free(fl);
    free(x);
    free(labels);
    free(lg_mpc);
    free(lg_fix);
    ar_dataset_free(&te);
    ar_pi_model_free(&m);
    ar_net_free(&net);
    ar_st_free(&st);
    return rc;
}

/* ---------------- pi fixed: the fixed-point executor vs float on a test set ---------------- */

static int pi_fixed(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "masked or plain checkpoint", NULL, 0},
                          {"data", "SET", "data set (default: the checkpoint's)", NULL, 0},
                          {"data-dir", "DIR", "directory of the data set files", NULL, 0},
                          {"max-test", "N", "only the first N test images (0 = all)", "0", 0},
                          {"frac-bits", "F", "fixed-point fractional bits (8..16)", "12", 0},
                          {"threads", "T", "OpenMP threads", NULL, 0},
                          {"json", NULL, "one JSON object on stdout", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "pi fixed";
    int r = cli_parse(cmd, "--model CKPT [--data SET] [--max-test N] [--frac-bits F] [--json]", o, argc, argv, 3);
    if (r) return r == 1 ? 0 : r;
    int frac;
    long maxn;
    if (get_frac(cmd, o, &frac) || cli_int(cmd, o, "max-test", 0, 1 << 30, &maxn) ||
        cli_threads(cmd, cli_str(o, "threads")))
        return 2;
    const char *path = cli_str(o, "model");
    if (!path) {
        cli_err(cmd, "--model CKPT is required");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    struct ar_pi_model m;
    if (open_model(cmd, path, frac, 1, &net, &st, &m)) return 1;
    int rc = 1;
    struct ar_dataset te;
    memset(&te, 0, sizeof te);
    const int B = 64;
    size_t in = ar_shape_numel(m.in_shape);
    int K = m.classes;
    float *xf = malloc(sizeof(float) * in * B);
    int32_t *labels = malloc(sizeof(int32_t) * B);
    uint64_t *x = malloc(8 * in * B), *lg = malloc(8 * (size_t)K * B);
    struct ar_pi_fixed_stats *fst = calloc((size_t)m.n_ops, sizeof *fst);
    json_t *preds = NULL, *lgs = NULL;
    char err[AR_ERR_LEN];
    const char *set = cli_str(o, "data") ? cli_str(o, "data") : ar_st_meta(&st, "data.set");
    if (!set) set = "fashion-mnist";
    const char *ddir = cli_str(o, "data-dir");
    struct ar_norm nm;
    if (!xf || !labels || !x || !lg || !fst) {
        cli_err(cmd, "out of memory");
        goto done;
    }
    if (!strcmp(set, "random") && !ar_st_meta(&st, "data.mean")) random_norm(&nm, m.in_shape.c);
    else if (cli_model_norm(cmd, &st, set, ddir, &nm)) goto done;
    if (load_test_set(cmd, set, ddir, &m, maxn ? (int)maxn : 1000, &te) || check_shape(cmd, &te, &m)) goto done;
    int N = maxn && maxn < te.n ? (int)maxn : te.n;
    if (ar_net_plan(&net, B, 0, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    net.train_mode = 0;
    int c_fix = 0, c_flt = 0, agree = 0, max_bits = 0;
    double maxd = 0;
    /* --json: every image's fixed-point prediction and logits (the oracle a secure run is checked against) */
    preds = json_array();
    lgs = json_array();
    for (int s = 0; s < N; s += B) {
        int c = N - s < B ? N - s : B;
        if (make_inputs(cmd, &te, &nm, s, c, xf, labels)) goto done;
        ar_pi_encode_input(x, xf, in * (size_t)c, frac);
        if (ar_pi_fixed_run(&m, c, x, lg, fst, err)) {
            cli_err(cmd, "%s", err);
            goto done;
        }
        for (int i = 0; i < m.n_ops; i++)
            if (fst[i].max_bits > max_bits) max_bits = fst[i].max_bits;
        memcpy(net.input, xf, sizeof(float) * in * (size_t)c);
        ar_net_forward(&net, c);
        const float *fl = ar_net_logits(&net);
        for (int i = 0; i < c; i++) {
            int pf = ar_pi_argmax(lg + (size_t)i * K, K), pl = 0;
            for (int k = 0; k < K; k++) {
                if (fl[(size_t)i * K + k] > fl[(size_t)i * K + pl]) pl = k;
                maxd = fmax(maxd, fabs(ar_fix_decode(lg[(size_t)i * K + k], frac) - fl[(size_t)i * K + k]));
            }
            c_fix += pf == labels[i];
            c_flt += pl == labels[i];
            agree += pf == pl;
            json_array_append_new(preds, json_integer(pf));
            for (int k = 0; k < K; k++) json_array_append_new(lgs, json_integer(ar_ring_to_i64(lg[(size_t)i * K + k])));
        }
    }
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(path));
        json_object_set_new(j, "data", json_string(set));
        json_object_set_new(j, "n", json_integer(N));
        json_object_set_new(j, "frac_bits", json_integer(frac));
        json_object_set_new(j, "fixed_top1", json_real((double)c_fix / N));
        json_object_set_new(j, "float_top1", json_real((double)c_flt / N));
        json_object_set_new(j, "agree_float_top1", json_real((double)agree / N));
        json_object_set_new(j, "max_logit_diff", json_real(maxd));
        json_object_set_new(j, "max_magnitude_bits", json_integer(max_bits));
        json_object_set_new(j, "predictions", preds);
        json_object_set_new(j, "logits", lgs);
        preds = lgs = NULL;
        cli_print_json(j);
    } else {
        printf("%s on %s (%d images), f = %d: top-1 fixed point %.2f%%, float %.2f%%; same top-1 on %d (%.2f%%); "
               "max |fixed - float| logit %.4g; largest value before a truncation 2^%d\n",
               path, set, N, frac, 100.0 * c_fix / N, 100.0 * c_flt / N, agree, 100.0 * agree / N, maxd, max_bits);
    }
    rc = 0;
done:
    json_decref(preds);
    json_decref(lgs);
    free(xf);
    free(labels);
    free(x);
    free(lg);
    free(fst);
    ar_dataset_free(&te);
    ar_pi_model_free(&m);
    ar_net_free(&net);
    ar_st_free(&st);
    return rc;
}

/* ---------------- dispatch ---------------- */

static void pi_usage(void) {
    printf("usage: autorep pi SUBCOMMAND [options]   (autorep pi SUBCOMMAND --help)\n\n"
           "secure two-party inference (server: weights; client: image, gets the logits; dealer: correlated\n"
           "randomness, input-independent; semi-honest, no collusion — see docs/secure-inference.md)\n\n"
           "subcommands:\n"
           "  cost           analytic online/offline cost of a model, per layer\n"
           "  fixed          the fixed-point executor (the MPC oracle) vs float inference on a test set\n"
           "  export-public  write the public part of a model (for the client and the dealer)\n"
           "  dealer         run the dealer (listens for the server and the client)\n"
           "  server         run the server with a model (listens for the client, connects to the dealer)\n"
           "  client         run the client on test images (connects to the dealer and the server)\n"
           "  local          all three as processes on loopback, with checks and a per-layer cost table\n");
}

int cmd_pi(int argc, char **argv) {
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        pi_usage();
        return argc < 3 ? 2 : 0;
    }
    const char *s = argv[2];
    if (!strcmp(s, "cost")) return pi_cost(argc, argv);
    if (!strcmp(s, "fixed")) return pi_fixed(argc, argv);
    if (!strcmp(s, "export-public")) return pi_export(argc, argv);
    if (!strcmp(s, "dealer")) return pi_dealer(argc, argv);
    if (!strcmp(s, "server")) return pi_server(argc, argv);
    if (!strcmp(s, "client")) return pi_client(argc, argv);
    if (!strcmp(s, "local")) return pi_local(argc, argv);
    fprintf(stderr, "autorep pi: unknown subcommand '%s' (see autorep pi --help)\n", s);
    return 2;
}
