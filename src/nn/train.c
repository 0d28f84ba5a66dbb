/* Training loop, evaluation and input normalisation (see train.h).
 *
 * Determinism: the sample order of epoch e is ar_shuffle(seed, e) and the
 * augmentation of a sample depends only on (seed, e, index), so a run resumed from
 * the end of epoch e continues exactly as the uninterrupted run would (same
 * thread count). The last incomplete batch of an epoch is dropped in training (so
 * batch statistics always see full batches) and padded in evaluation. */
#include "train.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/assert.h"
#include "kernels/nn_kernels.h"
#include "nn/ckpt.h"
#include "nn/dist.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void ar_train_opts_default(struct ar_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 10;
    o->batch = 128;
    for (int g = 0; g < AR_OPT_GROUPS; g++) o->lr[g] = 0.1f;
    o->optim = AR_OPTIM_SGD;
    o->momentum = 0.9f;
    o->wd = 5e-4f;
    o->sched.kind = AR_SCHED_COSINE;
    o->seed = 1;
    o->stage = "train";
}

/* Global-norm gradient clipping over every parameter gradient (after any MPI
 * reduction, so all ranks scale alike). Returns 1 if the gradients were scaled. */
static int clip_grads(struct ar_net *net, float max_norm) {
    double ss = 0;
    const float *g = net->grads;
#pragma omp parallel for reduction(+ : ss) schedule(static)
    for (size_t i = 0; i < net->n_params; i++) ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (!(norm > max_norm)) return 0; /* a non-finite norm is caught by the loss check */
    float f = (float)(max_norm / norm);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < net->n_params; i++) net->grads[i] *= f;
    return 1;
}

void ar_norm_from_data(struct ar_norm *nm, const struct ar_dataset *ds) {
    memset(nm, 0, sizeof *nm);
    nm->c = ds->c < AR_MAX_CH ? ds->c : AR_MAX_CH;
    ar_dataset_channel_stats(ds, nm->mean, nm->std);
    for (int i = 0; i < nm->c; i++)
        if (!(nm->std[i] > 1e-6f)) nm->std[i] = 1.0f; /* constant channel: do not divide by ~0 */
}

void ar_norm_format(const struct ar_norm *nm, int which, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < nm->c && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%.9g", i ? ", " : "",
                                 (double)(which ? nm->std[i] : nm->mean[i]));
    if (used < len) snprintf(buf + used, len - used, "]");
}

static int parse_list(const char *s, float *out, int *n, const char *what, char *err) {
    const char *p = s;
    *n = 0;
    while (*p == ' ') p++;
    if (*p++ != '[') return ar_errf(err, AR_ERR_FORMAT, "metadata %s: '%s' is not a JSON list of numbers", what, s);
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ']') break;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || *n >= AR_MAX_CH || !isfinite(v))
            return ar_errf(err, AR_ERR_FORMAT, "metadata %s: '%s' is not a JSON list of numbers", what, s);
        out[(*n)++] = (float)v;
        p = end;
        while (*p == ' ') p++;
        if (*p == ',') p++;
    }
    return AR_OK;
}

int ar_norm_parse(struct ar_norm *nm, const char *mean_json, const char *std_json, char *err) {
    memset(nm, 0, sizeof *nm);
    int a, b, rc;
    if ((rc = parse_list(mean_json, nm->mean, &a, "data.mean", err))) return rc;
    if ((rc = parse_list(std_json, nm->std, &b, "data.std", err))) return rc;
    if (a != b || a < 1) return ar_errf(err, AR_ERR_FORMAT, "metadata data.mean and data.std have different lengths");
    for (int i = 0; i < b; i++)
        if (!(nm->std[i] > 0)) return ar_errf(err, AR_ERR_FORMAT, "metadata data.std[%d] is not positive", i);
    nm->c = a;
    return AR_OK;
}

static int check_data(const struct ar_net *net, const struct ar_dataset *ds, const struct ar_norm *nm, char *err) {
    if (ds->c != net->in_shape.c || ds->h != net->in_shape.h || ds->w != net->in_shape.w)
        return ar_errf(err, AR_ERR_MISMATCH, "data set %s has images %dx%dx%d but the network expects %dx%dx%d",
                       ds->name, ds->c, ds->h, ds->w, net->in_shape.c, net->in_shape.h, net->in_shape.w);
    if (ds->classes > net->classes)
        return ar_errf(err, AR_ERR_MISMATCH, "data set %s has %d classes but the network outputs %d", ds->name,
                       ds->classes, net->classes);
    if (nm->c != ds->c)
        return ar_errf(err, AR_ERR_MISMATCH, "normalisation has %d channels, data set %s has %d", nm->c, ds->name,
                       ds->c);
    return AR_OK;
}

int ar_evaluate(struct ar_net *net, const struct ar_dataset *ds, const struct ar_norm *norm, int max_n, double *loss,
                double *top1, int *pred, char *err) {
    int rc = check_data(net, ds, norm, err);
    if (rc) return rc;
    const int N = max_n > 0 && max_n < ds->n ? max_n : ds->n, B = net->batch, K = net->classes;
    int *idx = malloc(sizeof(int) * (size_t)B);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)B);
    if (!idx || !lab) {
        free(idx);
        free(lab);
        return ar_errf(err, AR_ERR_NOMEM, "out of memory");
    }
    const int saved_mode = net->train_mode;
    net->train_mode = 0;
    double tot = 0;
    long hits = 0;
    /* with several ranks each evaluates a contiguous share (predictions only on one process) */
    const int R = pred ? 1 : ar_dist_size(), r = pred ? 0 : ar_dist_rank();
    const int lo = (int)((long)N * r / R), hi = (int)((long)N * (r + 1) / R);
    for (int s = lo; s < hi; s += B) {
        int n = hi - s < B ? hi - s : B;
        for (int i = 0; i < n; i++) idx[i] = s + i;
        ar_dataset_batch(ds, idx, n, norm->mean, norm->std, NULL, 0, 0, net->input, lab);
        ar_net_forward(net, n);
        int corr;
        tot += ar_softmax_xent(NULL, 1.0f, ar_net_logits(net), lab, n, K, &corr) * n;
        hits += corr;
        if (pred) {
            const float *z = ar_net_logits(net);
            for (int i = 0; i < n; i++) {
                int am = 0;
                for (int j = 1; j < K; j++)
                    if (z[(size_t)i * K + j] > z[(size_t)i * K + am]) am = j;
                pred[s + i] = am;
            }
        }
    }
    net->train_mode = saved_mode;
    free(idx);
    free(lab);
    if (R > 1) {
        double v[2] = {tot, (double)hits};
        ar_dist_sum_d(v, 2);
        tot = v[0];
        hits = (long)v[1];
    }
    if (loss) *loss = tot / N;
    if (top1) *top1 = (double)hits / N;
    return AR_OK;
}

/* ---- resume state: the net's tensors + optimizer moments + progress ---- */

static void resume_path(char *buf, size_t len, const struct ar_train_opts *o) {
    if (o->state_path)
        snprintf(buf, len, "%s", o->state_path);
    else
        snprintf(buf, len, "%s.resume", o->out);
}

/* stopped: a hook ended the stage early (AR_EPOCH_STOP), so a resumed run must not
 * train on to o->epochs */
static int save_resume(const struct ar_net *net, const struct ar_optim *opt, const struct ar_train_opts *o,
                       int epochs_done, int stopped, double best, const struct ar_train_hooks *h, char *err) {
    char path[4096], ep[32], steps[32], seed[32], bst[32], total[32];
    resume_path(path, sizeof path, o);
    snprintf(ep, sizeof ep, "%d", epochs_done);
    snprintf(steps, sizeof steps, "%lld", (long long)opt->steps);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(bst, sizeof bst, "%.17g", best);
    snprintf(total, sizeof total, "%d", o->epochs);
    char hs[8192] = "{}";
    if (h && h->save_state) h->save_state(h->ctx, hs, sizeof hs);
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    int rc = AR_OK;
    for (int i = 0; i < net->n_tensors; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        enum ar_dtype dt = t->kind == AR_T_COUNT ? AR_DTYPE_I64 : t->kind == AR_T_MASK ? AR_DTYPE_U8 : AR_DTYPE_F32;
        AR_TRY(ar_st_writer_add(&w, t->name, dt, t->ndim, t->shape, ar_net_tensor_data(net, t), err));
    }
    int64_t n1[1] = {(int64_t)opt->n};
    AR_TRY(ar_st_writer_add(&w, "optim.m", AR_DTYPE_F32, 1, n1, opt->m, err));
    if (opt->v) AR_TRY(ar_st_writer_add(&w, "optim.v", AR_DTYPE_F32, 1, n1, opt->v, err));
    AR_TRY(ar_st_writer_meta(&w, "autorep.arch", net->cfg_text, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.stage", o->stage ? o->stage : "train", err));
    AR_TRY(ar_st_writer_meta(&w, "resume.epochs_done", ep, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.epochs", total, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.stopped", stopped ? "1" : "0", err));
    AR_TRY(ar_st_writer_meta(&w, "resume.steps", steps, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.seed", seed, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.best", bst, err));
    AR_TRY(ar_st_writer_meta(&w, "resume.hooks", hs, err));
    AR_TRY(ar_st_writer_write(&w, path, err));
fail:
    ar_st_writer_free(&w);
    return rc;
}

static int load_resume(struct ar_net *net, struct ar_optim *opt, const struct ar_train_opts *o, int *epochs_done,
                       int *stopped, double *best, const struct ar_train_hooks *h, char *err) {
    char path[4096];
    resume_path(path, sizeof path, o);
    struct ar_st st;
    int rc = ar_st_read(&st, path, err);
    if (rc) return ar_errprefix(err, rc, "--resume");
    const char *arch = ar_st_meta(&st, "autorep.arch"), *ep = ar_st_meta(&st, "resume.epochs_done"),
               *steps = ar_st_meta(&st, "resume.steps"), *seed = ar_st_meta(&st, "resume.seed"),
               *bst = ar_st_meta(&st, "resume.best"), *total = ar_st_meta(&st, "resume.epochs"),
               *stage = ar_st_meta(&st, "resume.stage");
    if (!arch || !ep || !steps || !seed || !bst || !total || !stage) {
        rc = ar_errf(err, AR_ERR_FORMAT, "%s: not an autorep resume file (metadata missing)", path);
        goto done;
    }
    if (strcmp(arch, net->cfg_text)) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: was written for a different architecture", path);
        goto done;
    }
    if (strcmp(stage, o->stage ? o->stage : "train")) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: belongs to stage '%s', not '%s'", path, stage, o->stage);
        goto done;
    }
    if (strtoull(seed, NULL, 10) != o->seed || atoi(total) != o->epochs) {
        rc = ar_errf(err, AR_ERR_MISMATCH, "%s: the interrupted run used --seed %s --epochs %s; pass the same values",
                     path, seed, total);
        goto done;
    }
    if ((rc = ar_ckpt_load_tensors(net, &st, 1, err))) goto done;
    const void *m, *v;
    int64_t n1[1] = {(int64_t)opt->n};
    if ((rc = ar_st_get(&st, "optim.m", AR_DTYPE_F32, 1, n1, &m, err))) goto done;
    memcpy(opt->m, m, sizeof(float) * opt->n);
    if (opt->v) {
        if ((rc = ar_st_get(&st, "optim.v", AR_DTYPE_F32, 1, n1, &v, err))) goto done;
        memcpy(opt->v, v, sizeof(float) * opt->n);
    }
    opt->steps = strtoll(steps, NULL, 10);
    *epochs_done = atoi(ep);
    const char *sp = ar_st_meta(&st, "resume.stopped"); /* absent in older files */
    *stopped = sp && !strcmp(sp, "1");
    *best = strtod(bst, NULL);
    if (h && h->load_state) {
        const char *hs = ar_st_meta(&st, "resume.hooks");
        if (hs && (rc = h->load_state(h->ctx, hs, err))) goto done;
    }
done:
    ar_st_free(&st);
    return rc;
}

/* ---- progress ---- */

static void fmt_time(char *b, size_t n, double s) {
    if (s < 0 || s > 1e7) s = 0;
    int t = (int)(s + 0.5);
    if (t >= 3600)
        snprintf(b, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(b, n, "%d:%02d", t / 60, t % 60);
}

static void progress(const struct ar_train_opts *o, const struct ar_train_hooks *h, struct ar_net *net, int epoch,
                     int step, int steps, double t0, double loss, double acc, int final) {
    static int tty = -1;
    if (tty < 0) tty = isatty(2);
    double el = now_s() - t0;
    double ips = el > 0 ? (double)step * o->batch / el : 0;
    char eta[32], extra[256] = "";
    fmt_time(eta, sizeof eta, step ? el / step * (steps - step) : 0);
    if (h && h->progress_text) h->progress_text(h->ctx, net, extra, sizeof extra);
    const int W = 24;
    int fill = steps ? step * W / steps : W;
    char bar[64];
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[W] = 0;
    if (tty) {
        fprintf(stderr, "\r%s %d/%d [%s] %d/%d %5.0f img/s loss %.4f acc %5.1f%% %s%s %s ", o->stage, epoch + 1,
                o->epochs, bar, step, steps, ips, loss, 100 * acc, extra, final ? "took" : "ETA",
                final ? (fmt_time(eta, sizeof eta, el), eta) : eta);
        if (final) fprintf(stderr, "\n");
    } else if (final) {
        fmt_time(eta, sizeof eta, el);
        fprintf(stderr, "%s %d/%d: %d steps %5.0f img/s loss %.4f acc %5.1f%% %s took %s\n", o->stage, epoch + 1,
                o->epochs, steps, ips, loss, 100 * acc, extra, eta);
    }
    fflush(stderr);
}

int ar_train_run(struct ar_net *net, const struct ar_dataset *train, const struct ar_dataset *test,
                 const struct ar_norm *norm, const struct ar_train_opts *o, const struct ar_train_hooks *h,
                 struct ar_train_result *res, char *err) {
    memset(res, 0, sizeof *res);
    const int R = ar_dist_size(), rank = ar_dist_rank(), lead = rank == 0;
    if (o->batch % R)
        return ar_errf(err, AR_ERR_ARG, "batch %d is not divisible by the %d MPI ranks", o->batch, R);
    AR_ASSERT(net->training && net->batch == o->batch / R);
    int rc = check_data(net, train, norm, err);
    if (rc) return rc;
    const int B = o->batch, K = net->classes, b = B / R;
    net->grad_scale = 1.0f / (float)R; /* local mean losses; the all-reduce sums the shards */
    const int N = o->max_train > 0 && o->max_train < train->n ? o->max_train : train->n;
    const int steps = N / B;
    if (steps < 1)
        return ar_errf(err, AR_ERR_ARG, "batch %d is larger than the %d training samples", B, N);
    struct ar_optim opt;
    if ((rc = ar_optim_init(&opt, o->optim, net, err))) return rc;
    opt.momentum = o->momentum;
    opt.nesterov = o->nesterov;
    opt.wd = o->wd;
    for (int g = 0; g < AR_OPT_GROUPS; g++) opt.frozen[g] = o->frozen[g];
    int *perm = malloc(sizeof(int) * (size_t)train->n);
    int32_t *lab = malloc(sizeof(int32_t) * (size_t)B);
    FILE *log = NULL;
    const int progress_on = o->progress && lead;
    if (!perm || !lab) {
        rc = ar_errf(err, AR_ERR_NOMEM, "out of memory");
        goto fail;
    }
    int start = 0, stopped = 0;
    double best = -1;
    if (o->resume) {
        if (!o->out) {
            rc = ar_errf(err, AR_ERR_ARG, "--resume needs --out (the interrupted run's checkpoint path)");
            goto fail;
        }
        AR_TRY(load_resume(net, &opt, o, &start, &stopped, &best, h, err));
    }
    if (o->log && lead) {
        log = fopen(o->log, (start > 0 || o->log_append) ? "a" : "w");
        if (!log) {
            rc = ar_errf(err, AR_ERR_IO, "%s: %s", o->log, strerror(errno));
            goto fail;
        }
    }
    double t_all = now_s();
    long imgs_all = 0;
    res->epochs_done = start;
    res->best_val_top1 = best;
    res->epochs_run = 0;
    /* Fault injection for the tests: AR_TEST_KILL="RANK:STEP" kills that rank with
     * SIGKILL at that step of its first epoch. */
    int kill_step = -1;
    const char *kenv = getenv("AR_TEST_KILL");
    if (kenv) {
        int kr, ks;
        if (sscanf(kenv, "%d:%d", &kr, &ks) == 2 && kr == rank) kill_step = ks;
    }
    for (int epoch = start; epoch < o->epochs && !stopped; epoch++) {
        ar_shuffle(perm, train->n, o->seed, (uint64_t)epoch);
        if (N < train->n) { /* a fixed subset, shuffled: keep indices < N in shuffled order */
            int k = 0;
            for (int i = 0; i < train->n; i++)
                if (perm[i] < N) perm[k++] = perm[i];
        }
        double t0 = now_s(), sum_loss = 0, parts[4] = {0};
        long hits = 0, clipped = 0;
        for (int s = 0; s < steps; s++) {
            for (int g = 0; g < AR_OPT_GROUPS; g++)
                opt.lr[g] = ar_sched_lr(&o->sched, o->lr[g], epoch, (double)(s + 1) / steps);
            ar_dataset_batch(train, perm + (size_t)s * B + (size_t)rank * b, b, norm->mean, norm->std, &o->aug,
                             o->seed, (uint64_t)epoch, net->input, lab);
            net->train_mode = 1;
            if (h && h->before_forward) h->before_forward(h->ctx, net);
            ar_net_forward(net, b);
            int corr;
            double loss = ar_softmax_xent(ar_net_dlogits(net), net->grad_scale, ar_net_logits(net), lab, b, K, &corr);
            if (h && h->extra_loss) {
                double p[4] = {0};
                loss += h->extra_loss(h->ctx, net, lab, b, p);
                for (int k = 0; k < 4; k++) parts[k] += p[k];
            }
            if (!isfinite(loss)) {
                rc = ar_errf(err, AR_ERR_ARG,
                             "training diverged (loss %g) in epoch %d step %d; try a smaller --lr", loss, epoch + 1,
                             s + 1);
                goto fail;
            }
            ar_net_backward(net, b);
            if (kill_step == s && epoch == start) raise(SIGKILL); /* fault injection (tests only) */
            if (R > 1) ar_dist_sum_f(net->grads, net->n_params);
            if (h && h->after_backward) h->after_backward(h->ctx, net);
            if (o->clip_norm > 0 && clip_grads(net, o->clip_norm)) {
                clipped++;
                res->clipped_steps++;
            }
            ar_optim_step(&opt, net);
            if (h && h->after_step) h->after_step(h->ctx, net);
            sum_loss += loss;
            hits += corr;
            if (progress_on && (s % 8 == 7 || s == steps - 1))
                progress(o, h, net, epoch, s + 1, steps, t0, sum_loss / (s + 1), (double)hits / ((double)(s + 1) * b),
                         0);
        }
        double train_s = now_s() - t0;
        imgs_all += (long)steps * B;
        if (R > 1) {
            /* epoch means over all ranks; statistics that each rank tracked on its own
             * shard (batch-norm running statistics, DaPa statistics) are averaged */
            double v[6] = {sum_loss, (double)hits, parts[0], parts[1], parts[2], parts[3]};
            ar_dist_sum_d(v, 6);
            sum_loss = v[0] / R;
            hits = (long)v[1];
            for (int k = 0; k < 4; k++) parts[k] = v[2 + k] / R;
            if (!net->sync_bn) {
                ar_dist_sum_f(net->state, net->n_state);
                for (size_t i = 0; i < net->n_state; i++) net->state[i] /= (float)R;
            }
            uint64_t hsh = 1469598103934665603ULL, mn, mx;
            for (size_t i = 0; i < net->n_masks; i++) hsh = (hsh ^ net->masks[i]) * 1099511628211ULL;
            ar_dist_minmax_u64(hsh, &mn, &mx);
            if (mn != mx) {
                rc = ar_errf(err, AR_ERR_MISMATCH, "MPI ranks disagree on the activation masks after epoch %d",
                             epoch + 1);
                goto fail;
            }
        }
        res->train_loss = sum_loss / steps;
        res->train_top1 = (double)hits / ((double)steps * B);
        if (progress_on) progress(o, h, net, epoch, steps, steps, t0, res->train_loss, res->train_top1, 1);
        if (h && h->before_eval) h->before_eval(h->ctx, net);
        res->val_loss = res->val_top1 = NAN;
        if (test) AR_TRY(ar_evaluate(net, test, norm, o->max_test, &res->val_loss, &res->val_top1, NULL, err));
        if (test && !isfinite(res->val_loss)) {
            rc = ar_errf(err, AR_ERR_ARG,
                         "%s diverged: validation loss is %g after epoch %d; try a smaller learning rate%s", o->stage,
                         res->val_loss, epoch + 1, net->site_mode == AR_SITES_AUTOREP ? " or --dapa faithful" : "");
            goto fail;
        }
        int flags = AR_EPOCH_SAVE;
        if (h && h->end_epoch) flags = h->end_epoch(h->ctx, net, epoch, res->val_top1);
        if (test && res->val_top1 > best) best = res->val_top1;
        res->best_val_top1 = best;
        res->epochs_done = epoch + 1;
        res->epochs_run++;
        if (progress_on && test) {
            /* one line per epoch: the training loss with its named parts, the hook's
             * state (e.g. ReLUs kept vs budget) and the validation result */
            char line[512];
            size_t k0 = (size_t)snprintf(line, sizeof line, "%s %d/%d: train loss %.4f", o->stage, epoch + 1,
                                         o->epochs, res->train_loss);
            for (int k = 0; k < 4 && h && k0 < sizeof line; k++)
                if (h->part_names[k] && strstr(h->part_names[k], "_loss"))
                    k0 += (size_t)snprintf(line + k0, sizeof line - k0, ", %s %.4f", h->part_names[k],
                                           parts[k] / steps);
            if (h && h->progress_text && k0 < sizeof line) {
                char st[128] = "";
                h->progress_text(h->ctx, net, st, sizeof st);
                if (st[0]) k0 += (size_t)snprintf(line + k0, sizeof line - k0, "; %s", st);
            }
            fprintf(stderr, "%s; validation loss %.4f top-1 %.2f%%\n", line, res->val_loss, 100 * res->val_top1);
        }
        if (log) {
            char extra[1024] = "";
            if (h && h->log_fields) h->log_fields(h->ctx, net, extra, sizeof extra);
            fprintf(log,
                    "{\"stage\": \"%s\", \"epoch\": %d, \"lr\": %.6g, \"train_loss\": %.6f, \"train_top1\": %.6f, "
                    "\"val_loss\": %.6f, \"val_top1\": %.6f, \"seconds\": %.3f, \"images_per_s\": %.1f",
                    o->stage, epoch + 1, (double)opt.lr[0], res->train_loss, res->train_top1,
                    test ? res->val_loss : -1.0, test ? res->val_top1 : -1.0, train_s, steps * B / train_s);
            for (int k = 0; k < 4; k++)
                if (h && h->part_names[k]) fprintf(log, ", \"%s\": %.6f", h->part_names[k], parts[k] / steps);
            if (o->clip_norm > 0) fprintf(log, ", \"clipped_steps\": %ld", clipped);
            fprintf(log, "%s%s}\n", extra[0] ? ", " : "", extra);
            fflush(log);
        }
        if (o->out && lead) {
            if (flags & AR_EPOCH_SAVE) {
                if (h && h->save)
                    AR_TRY(h->save(h->ctx, net, o->out, o->meta, err));
                else
                    AR_TRY(ar_ckpt_save(net, o->out, o->meta, err));
            }
            AR_TRY(save_resume(net, &opt, o, epoch + 1, (flags & AR_EPOCH_STOP) != 0, best, h, err));
        }
        ar_dist_barrier(); /* the files are complete before any rank reads them */
        if (flags & AR_EPOCH_STOP) break;
    }
    res->seconds = now_s() - t_all;
    res->images_per_s = res->seconds > 0 ? imgs_all / res->seconds : 0;
fail:
    if (log) fclose(log);
    free(perm);
    free(lab);
    ar_optim_free(&opt);
    return rc;
}
