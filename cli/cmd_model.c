/* CLI commands that describe and run plain networks: info, train, eval, predict. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "layers/layer_util.h"
#include "nn/dist.h"

static const char *type_name(const struct ar_layer *l) { return l->ops->name; }

static size_t layer_params(const struct ar_net *net, const struct ar_layer *l) {
    size_t n = 0;
    for (int i = l->t_first; i < l->t_first + l->t_count; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        size_t nl = strlen(t->name);
        if (t->kind == AR_T_PARAM && !(nl > 6 && !strcmp(t->name + nl - 6, ".alpha"))) n += t->numel;
    }
    return n;
}

/* ---------------- info ---------------- */

int cmd_info(int argc, char **argv) {
    struct cli_opt o[] = {{"arch", "NAME", "built-in architecture or .cfg path", NULL, 0},
                          {"data", "SET", "data set that fixes input shape and classes", "fashion-mnist", 0},
                          {"model", "CKPT", "describe a checkpoint instead of --arch", NULL, 0},
                          {"json", NULL, "one JSON object on stdout", NULL, 0},
                          {"layers", NULL, "also list every layer", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    int r = cli_parse("info", "(--arch NAME [--data SET] | --model CKPT) [--json]", o, argc, argv, 2);
    if (r) return r == 1 ? 0 : r;
    const char *arch = cli_str(o, "arch"), *model = cli_str(o, "model");
    if (!!arch == !!model && !(arch && model)) {
        cli_err("info", "give --arch NAME or --model CKPT");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    memset(&st, 0, sizeof st);
    char err[AR_ERR_LEN];
    if (model) {
        if (cli_open_model("info", &net, &st, model, arch, (struct ar_shape){0, 0, 0}, -1)) return 1;
    } else {
        const struct set_info *si = cli_set_info(cli_str(o, "data"));
        if (!si) {
            cli_err("info", "--data: unknown data set '%s' (known: %s)", cli_str(o, "data"), cli_set_names());
            return 2;
        }
        char *text;
        if (ar_arch_text(arch, &text, err)) {
            cli_err("info", "--arch: %s", err);
            return 1;
        }
        struct ar_net_opts no = {.in_shape = {si->c, si->h, si->w}, .classes = si->classes};
        int rc = ar_net_build(&net, text, arch, &no, err);
        free(text);
        if (rc) {
            cli_err("info", "%s", err);
            return 1;
        }
    }
    size_t params = 0, kept_total = 0;
    for (int i = 0; i < net.n_layers; i++) params += layer_params(&net, &net.layers[i]);
    for (int s = 0; s < net.n_sites; s++) kept_total += cli_site_kept(&net, s);
    const int masked = net.site_mode == AR_SITES_MASKED || net.site_mode == AR_SITES_AUTOREP;
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "arch", json_string(model ? (ar_st_meta(&st, "autorep.arch_name")
                                                                 ? ar_st_meta(&st, "autorep.arch_name")
                                                                 : model)
                                                          : arch));
        json_t *in = json_array();
        json_array_append_new(in, json_integer(net.in_shape.c));
        json_array_append_new(in, json_integer(net.in_shape.h));
        json_array_append_new(in, json_integer(net.in_shape.w));
        json_object_set_new(j, "input", in);
        json_object_set_new(j, "classes", json_integer(net.classes));
        json_object_set_new(j, "params", json_integer((json_int_t)params));
        json_object_set_new(j, "sites_mode", json_string(ar_site_mode_name(net.site_mode)));
        json_object_set_new(j, "relu_total", json_integer((json_int_t)kept_total));
        json_object_set_new(j, "relu_total_baseline", json_integer((json_int_t)net.relu_total));
        json_t *sites = json_array();
        for (int s = 0; s < net.n_sites; s++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(net.sites[s].name));
            json_t *sh = json_array();
            json_array_append_new(sh, json_integer(net.sites[s].shape.c));
            json_array_append_new(sh, json_integer(net.sites[s].shape.h));
            json_array_append_new(sh, json_integer(net.sites[s].shape.w));
            json_object_set_new(e, "shape", sh);
            json_object_set_new(e, "count", json_integer((json_int_t)cli_site_kept(&net, s)));
            json_object_set_new(e, "baseline", json_integer((json_int_t)net.sites[s].numel));
            json_array_append_new(sites, e);
        }
        json_object_set_new(j, "relu_sites", sites);
        json_t *layers = json_array();
        for (int i = 0; i < net.n_layers; i++) {
            const struct ar_layer *l = &net.layers[i];
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(l->name));
            json_object_set_new(e, "type", json_string(type_name(l)));
            json_t *sh = json_array();
            json_array_append_new(sh, json_integer(l->out.c));
            json_array_append_new(sh, json_integer(l->out.h));
            json_array_append_new(sh, json_integer(l->out.w));
            json_object_set_new(e, "output", sh);
            json_object_set_new(e, "params", json_integer((json_int_t)layer_params(&net, l)));
            json_array_append_new(layers, e);
        }
        json_object_set_new(j, "layers", layers);
        cli_print_json(j);
    } else {
        printf("%s: input %dx%dx%d, %d classes, %zu parameters, %d layers\n", model ? model : arch, net.in_shape.c,
               net.in_shape.h, net.in_shape.w, net.classes, params, net.n_layers);
        if (cli_flag(o, "layers")) {
            printf("\n  %-28s %-10s %-14s %10s\n", "layer", "type", "output", "params");
            for (int i = 0; i < net.n_layers; i++) {
                const struct ar_layer *l = &net.layers[i];
                char sh[48];
                snprintf(sh, sizeof sh, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
                printf("  %-28s %-10s %-14s %10zu\n", l->name, type_name(l), sh, layer_params(&net, l));
            }
        }
        printf("\n  %-28s %-14s %10s%s\n", "ReLU site", "shape", "ReLUs", masked ? "  kept" : "");
        for (int s = 0; s < net.n_sites; s++) {
            char sh[48];
            snprintf(sh, sizeof sh, "%dx%dx%d", net.sites[s].shape.c, net.sites[s].shape.h, net.sites[s].shape.w);
            printf("  %-28s %-14s %10zu", net.sites[s].name, sh, net.sites[s].numel);
            if (masked) printf("  %zu", cli_site_kept(&net, s));
            printf("\n");
        }
        if (masked)
            printf("\ntotal: %zu of %zu ReLUs kept (%.2f%%) in %d sites\n", kept_total, net.relu_total,
                   100.0 * (double)kept_total / (double)(net.relu_total ? net.relu_total : 1), net.n_sites);
        else
            printf("\ntotal: %zu ReLUs in %d sites\n", net.relu_total, net.n_sites);
    }
    ar_net_free(&net);
    ar_st_free(&st);
    return 0;
}

/* ---------------- train ---------------- */

int cli_ensure_parent_dir(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(dir, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    if (mkdir(dir, 0755) && errno != EEXIST) return -1;
    return 0;
}

int cli_default_log(const char *out, char *buf, size_t len) {
    size_t n = strlen(out);
    const char *ext = ".safetensors";
    size_t el = strlen(ext);
    if (n > el && !strcmp(out + n - el, ext))
        snprintf(buf, len, "%.*s.jsonl", (int)(n - el), out);
    else
        snprintf(buf, len, "%s.jsonl", out);
    return 0;
}

int cli_parse_augment(const char *cmd, const char *v, const struct ar_dataset *ds, struct ar_augment *aug) {
    memset(aug, 0, sizeof *aug);
    if (!strcmp(v, "auto")) {
        /* colour images: random crop (pad 1/8 of the side) + flip; grey 28x28 sets
         * (digits, clothes) train well without augmentation in a few epochs */
        if (ds->c >= 3) {
            aug->crop_pad = ds->h / 8 > 0 ? ds->h / 8 : 1;
            aug->hflip = 1;
        }
        return 0;
    }
    if (!strcmp(v, "none")) return 0;
    if (!strcmp(v, "crop") || !strcmp(v, "crop+flip")) aug->crop_pad = ds->h / 8 > 0 ? ds->h / 8 : 1;
    if (!strcmp(v, "flip") || !strcmp(v, "crop+flip")) aug->hflip = 1;
    if (!aug->crop_pad && !aug->hflip) {
        cli_err(cmd, "--augment: '%s' is not auto, none, crop, flip or crop+flip", v);
        return 1;
    }
    return 0;
}

int cmd_train(int argc, char **argv) {
    struct cli_opt o[] = {
        {"arch", "NAME", "architecture (built-in name or .cfg path)", "cnn_small", 0},
        {"data", "SET", "fashion-mnist | mnist | cifar10 | cifar100", "fashion-mnist", 0},
        {"data-dir", "DIR", "directory of the data set files", NULL, 0},
        {"epochs", "N", "training epochs", "10", 0},
        {"batch", "B", "mini-batch size", "128", 0},
        {"lr", "LR", "base learning rate", "0.1", 0},
        {"lr-min", "LR", "final learning rate of the cosine schedule", "0", 0},
        {"optim", "NAME", "sgd | adam", "sgd", 0},
        {"momentum", "M", "SGD momentum", "0.9", 0},
        {"nesterov", NULL, "Nesterov momentum", NULL, 0},
        {"wd", "WD", "weight decay", "5e-4", 0},
        {"schedule", "NAME", "cosine | step | const", "cosine", 0},
        {"step-size", "N", "step schedule: epochs between decays", "30", 0},
        {"gamma", "G", "step schedule: decay factor", "0.1", 0},
        {"warmup", "N", "linear warm-up epochs", "0", 0},
        {"augment", "KIND", "auto | none | crop | flip | crop+flip", "auto", 0},
        {"seed", "S", "random seed (init, shuffling, augmentation)", "1", 0},
        {"out", "CKPT", "checkpoint to write (each epoch, atomically)", NULL, 0},
        {"log", "FILE", "JSONL log (default: CKPT with .jsonl)", NULL, 0},
        {"resume", NULL, "continue the interrupted run that wrote --out", NULL, 0},
        {"max-train", "N", "use only the first N training images", "0", 0},
        {"max-test", "N", "validate on the first N test images", "0", 0},
        {"threads", "T", "OpenMP threads", NULL, 0},
        {"sync-bn", NULL, "under mpirun: batch statistics over all ranks", NULL, 0},
        {"quiet", NULL, "no progress bar", NULL, 0},
        {NULL, NULL, NULL, NULL, 0}};
    int r = cli_parse("train", "--arch NAME --data SET [options]", o, argc, argv, 2);
    if (r) return r == 1 ? 0 : r;
    const char *cmd = "train";
    if (cli_threads(cmd, cli_str(o, "threads"))) return 2;
    struct ar_train_opts to;
    ar_train_opts_default(&to);
    long epochs = 10, batch = 128, seed = 1, step_size = 30, warmup = 0, max_train = 0, max_test = 0;
    double lr = 0.1, lr_min = 0, momentum = 0.9, wd = 5e-4, gamma = 0.1;
    if (cli_int(cmd, o, "epochs", 1, 100000, &epochs) || cli_int(cmd, o, "batch", 1, 65536, &batch) ||
        cli_int(cmd, o, "seed", 0, 0x7fffffffL, &seed) || cli_int(cmd, o, "step-size", 1, 100000, &step_size) ||
        cli_int(cmd, o, "warmup", 0, 100000, &warmup) || cli_int(cmd, o, "max-train", 0, 1L << 30, &max_train) ||
        cli_int(cmd, o, "max-test", 0, 1L << 30, &max_test) || cli_float(cmd, o, "lr", 0, 100, &lr) ||
        cli_float(cmd, o, "lr-min", 0, 100, &lr_min) || cli_float(cmd, o, "momentum", 0, 1, &momentum) ||
        cli_float(cmd, o, "wd", 0, 1, &wd) || cli_float(cmd, o, "gamma", 0, 10, &gamma))
        return 2;
    const char *optim = cli_str(o, "optim"), *sched = cli_str(o, "schedule");
    if (strcmp(optim, "sgd") && strcmp(optim, "adam")) {
        cli_err(cmd, "--optim: '%s' is not sgd or adam", optim);
        return 2;
    }
    int sk = ar_sched_parse(sched);
    if (sk < 0) {
        cli_err(cmd, "--schedule: '%s' is not cosine, step or const", sched);
        return 2;
    }
    const char *arch = cli_str(o, "arch"), *set = cli_str(o, "data"), *dir = cli_str(o, "data-dir");
    char outbuf[4096], logbuf[4096];
    const char *out = cli_str(o, "out");
    if (!out) {
        const char *base = strrchr(arch, '/') ? strrchr(arch, '/') + 1 : arch;
        snprintf(outbuf, sizeof outbuf, "runs/%.*s-%s.safetensors",
                 (int)(strstr(base, ".cfg") ? strstr(base, ".cfg") - base : (long)strlen(base)), base, set);
        out = outbuf;
    }
    const char *logp = cli_str(o, "log");
    if (!logp) {
        cli_default_log(out, logbuf, sizeof logbuf);
        logp = logbuf;
    }
    char err[AR_ERR_LEN];
    char *text = NULL;
    if (ar_arch_text(arch, &text, err)) {
        cli_err(cmd, "--arch: %s", err);
        return 2;
    }
    struct ar_dataset tr, te;
    if (cli_load_split(cmd, &tr, set, dir, 1)) {
        free(text);
        return 1;
    }
    if (cli_load_split(cmd, &te, set, dir, 0)) {
        free(text);
        ar_dataset_free(&tr);
        return 1;
    }
    int rc = 1;
    struct ar_net net;
    memset(&net, 0, sizeof net);
    struct ar_norm nm;
    ar_norm_from_data(&nm, &tr);
    struct ar_net_opts no = {.in_shape = {tr.c, tr.h, tr.w}, .classes = tr.classes};
    if (batch % ar_dist_size()) {
        cli_err(cmd, "--batch %ld is not divisible by the %d MPI ranks", batch, ar_dist_size());
        goto done;
    }
    if (ar_net_build(&net, text, arch, &no, err) || ar_net_plan(&net, (int)batch / ar_dist_size(), 1, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    net.sync_bn = cli_flag(o, "sync-bn");
    ar_net_init_params(&net, (uint64_t)seed);
    if (cli_ensure_parent_dir(out) || cli_ensure_parent_dir(logp)) {
        cli_err(cmd, "cannot create the directory of %s: %s", out, strerror(errno));
        goto done;
    }
    to.epochs = (int)epochs;
    to.batch = (int)batch;
    for (int g = 0; g < AR_OPT_GROUPS; g++) to.lr[g] = (float)lr;
    to.optim = !strcmp(optim, "adam") ? AR_OPTIM_ADAM : AR_OPTIM_SGD;
    to.momentum = (float)momentum;
    to.nesterov = cli_flag(o, "nesterov");
    to.wd = (float)wd;
    to.sched = (struct ar_sched){.kind = (enum ar_sched_kind)sk,
                                 .epochs = (int)epochs,
                                 .lr_min = (float)lr_min,
                                 .step_size = (int)step_size,
                                 .gamma = (float)gamma,
                                 .warmup_epochs = (int)warmup};
    to.seed = (uint64_t)seed;
    if (cli_parse_augment(cmd, cli_str(o, "augment"), &tr, &to.aug)) goto done;
    to.max_train = (int)max_train;
    to.max_test = (int)max_test;
    to.out = out;
    to.log = logp;
    to.resume = cli_flag(o, "resume");
    to.progress = !cli_flag(o, "quiet") && ar_dist_rank() == 0;
    char mean[256], std[256], settings[1024];
    ar_norm_format(&nm, 0, mean, sizeof mean);
    ar_norm_format(&nm, 1, std, sizeof std);
    snprintf(settings, sizeof settings,
             "{\"epochs\": %ld, \"batch\": %ld, \"lr\": %g, \"lr_min\": %g, \"optim\": \"%s\", \"momentum\": %g, "
             "\"nesterov\": %d, \"wd\": %g, \"schedule\": \"%s\", \"seed\": %ld, \"augment\": \"%s\"}",
             epochs, batch, lr, lr_min, optim, momentum, to.nesterov, wd, sched, seed, cli_str(o, "augment"));
    const char *meta[] = {"autorep.arch_name", arch,  "data.set", set, "data.mean", mean, "data.std", std,
                          "autorep.train",     settings, NULL};
    to.meta = meta;
    if (to.progress && ar_dist_size() > 1)
        fprintf(stderr, "data-parallel over %d MPI ranks (%ld images per rank per step%s)\n", ar_dist_size(),
                batch / ar_dist_size(), net.sync_bn ? ", synchronised batch norm" : "");
    if (to.progress)
        fprintf(stderr, "training %s on %s: %d train / %d test images %dx%dx%d, %zu parameters, %zu ReLUs, batch %ld\n",
            arch, set, max_train && max_train < tr.n ? (int)max_train : tr.n,
            max_test && max_test < te.n ? (int)max_test : te.n, tr.c, tr.h, tr.w, net.n_params, net.relu_total,
            batch);
    struct ar_train_result res;
    if (ar_train_run(&net, &tr, &te, &nm, &to, NULL, &res, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    if (ar_dist_rank() == 0 && res.epochs_run == 0)
        fprintf(stderr, "nothing to do: %s already holds all %d epochs of this run\n", out, res.epochs_done);
    else if (ar_dist_rank() == 0)
        fprintf(stderr, "done: %d epochs in %.1f s (%.0f img/s); test top-1 %.2f%%; model %s, log %s\n",
            res.epochs_done, res.seconds, res.images_per_s, 100 * res.val_top1, out, logp);
    rc = 0;
done:
    ar_net_free(&net);
    ar_dataset_free(&tr);
    ar_dataset_free(&te);
    free(text);
    return rc;
}

/* ---------------- eval ---------------- */

int cmd_eval(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "checkpoint to evaluate", NULL, 0},
                          {"arch", "NAME", "architecture when the checkpoint has none", NULL, 0},
                          {"data", "SET", "data set (default: the one in the checkpoint)", NULL, 0},
                          {"data-dir", "DIR", "directory of the data set files", NULL, 0},
                          {"batch", "B", "images per forward pass", "256", 0},
                          {"max-test", "N", "evaluate only the first N test images", "0", 0},
                          {"threads", "T", "OpenMP threads", NULL, 0},
                          {"json", NULL, "one JSON object on stdout", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "eval";
    int r = cli_parse(cmd, "--model CKPT [--data SET] [--json]", o, argc, argv, 2);
    if (r) return r == 1 ? 0 : r;
    if (cli_threads(cmd, cli_str(o, "threads"))) return 2;
    long batch = 256, max_test = 0;
    if (cli_int(cmd, o, "batch", 1, 65536, &batch) || cli_int(cmd, o, "max-test", 0, 1L << 30, &max_test)) return 2;
    const char *model = cli_str(o, "model");
    if (!model) {
        cli_err(cmd, "--model CKPT is required");
        return 2;
    }
    struct ar_net net;
    struct ar_st st;
    const char *set = cli_str(o, "data"), *dir = cli_str(o, "data-dir");
    struct ar_shape in = {0, 0, 0};
    if (set && cli_set_info(set)) in = (struct ar_shape){cli_set_info(set)->c, cli_set_info(set)->h,
                                                         cli_set_info(set)->w};
    if (cli_open_model(cmd, &net, &st, model, cli_str(o, "arch"), in, -1)) return 1;
    if (!set) set = ar_st_meta(&st, "data.set");
    if (!set) set = "fashion-mnist";
    int rc = 1;
    struct ar_dataset te;
    memset(&te, 0, sizeof te);
    struct ar_norm nm;
    char err[AR_ERR_LEN];
    if (cli_model_norm(cmd, &st, set, dir, &nm) || cli_load_split(cmd, &te, set, dir, 0)) goto done;
    if (ar_net_plan(&net, (int)batch, 0, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    double loss, top1;
    if (ar_evaluate(&net, &te, &nm, (int)max_test, &loss, &top1, NULL, err)) {
        cli_err(cmd, "%s: %s", model, err);
        goto done;
    }
    int n = max_test && max_test < te.n ? (int)max_test : te.n;
    size_t kept = 0;
    for (int s = 0; s < net.n_sites; s++) kept += cli_site_kept(&net, s);
    if (cli_flag(o, "json")) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(model));
        json_object_set_new(j, "data", json_string(set));
        json_object_set_new(j, "top1", json_real(top1));
        json_object_set_new(j, "loss", json_real(loss));
        json_object_set_new(j, "n", json_integer(n));
        json_object_set_new(j, "relu_total", json_integer((json_int_t)kept));
        json_object_set_new(j, "relu_total_baseline", json_integer((json_int_t)net.relu_total));
        cli_print_json(j);
    } else {
        printf("%s on %s test (%d images): top-1 %.2f%%, loss %.4f, %zu of %zu ReLUs\n", model, set, n, 100 * top1,
               loss, kept, net.relu_total);
    }
    rc = 0;
done:
    ar_dataset_free(&te);
    ar_net_free(&net);
    ar_st_free(&st);
    return rc;
}

/* ---------------- predict ---------------- */

int cmd_predict(int argc, char **argv) {
    struct cli_opt o[] = {{"model", "CKPT", "checkpoint", NULL, 0},
                          {"arch", "NAME", "architecture when the checkpoint has none (a PyTorch file)", NULL, 0},
                          {"input", "X", "safetensors file with tensor 'input' (N,C,H,W) float32", NULL, 0},
                          {"out", "Y", "safetensors file to write with tensor 'logits' (N,K)", NULL, 0},
                          {"batch", "B", "images per forward pass", "128", 0},
                          {"threads", "T", "OpenMP threads", NULL, 0},
                          {NULL, NULL, NULL, NULL, 0}};
    const char *cmd = "predict";
    int r = cli_parse(cmd, "--model CKPT [--arch NAME] --input X.safetensors --out Y.safetensors", o, argc, argv, 2);
    if (r) return r == 1 ? 0 : r;
    if (cli_threads(cmd, cli_str(o, "threads"))) return 2;
    const char *model = cli_str(o, "model"), *inp = cli_str(o, "input"), *outp = cli_str(o, "out");
    if (!model || !inp || !outp) {
        cli_err(cmd, "--model, --input and --out are required");
        return 2;
    }
    long batch = 128;
    if (cli_int(cmd, o, "batch", 1, 65536, &batch)) return 2;
    char err[AR_ERR_LEN];
    struct ar_st xs;
    if (ar_st_read(&xs, inp, err)) {
        cli_err(cmd, "%s", err);
        return 1;
    }
    const struct ar_st_tensor *xt = ar_st_find(&xs, "input");
    if (!xt || xt->dtype != AR_DTYPE_F32 || xt->ndim != 4 || xt->shape[0] < 1) {
        cli_err(cmd, "%s: needs a tensor 'input' of dtype F32 and shape (N,C,H,W)", inp);
        ar_st_free(&xs);
        return 1;
    }
    struct ar_shape in = {(int)xt->shape[1], (int)xt->shape[2], (int)xt->shape[3]};
    struct ar_net net;
    struct ar_st st;
    if (cli_open_model(cmd, &net, &st, model, cli_str(o, "arch"), in, -1)) {
        ar_st_free(&xs);
        return 1;
    }
    int rc = 1;
    float *logits = NULL;
    if (in.c != net.in_shape.c || in.h != net.in_shape.h || in.w != net.in_shape.w) {
        cli_err(cmd, "%s: input is %dx%dx%d but %s expects %dx%dx%d", inp, in.c, in.h, in.w, model, net.in_shape.c,
                net.in_shape.h, net.in_shape.w);
        goto done;
    }
    const int N = (int)xt->shape[0], K = net.classes;
    const int B = N < batch ? N : (int)batch;
    if (ar_net_plan(&net, B, 0, err)) {
        cli_err(cmd, "%s", err);
        goto done;
    }
    logits = malloc(sizeof(float) * (size_t)N * K);
    if (!logits) {
        cli_err(cmd, "out of memory");
        goto done;
    }
    const size_t per = ar_shape_numel(in);
    net.train_mode = 0;
    for (int s = 0; s < N; s += B) {
        int n = N - s < B ? N - s : B;
        memcpy(net.input, (const float *)xt->data + (size_t)s * per, sizeof(float) * per * n);
        ar_net_forward(&net, n);
        memcpy(logits + (size_t)s * K, ar_net_logits(&net), sizeof(float) * (size_t)n * K);
    }
    struct ar_st_writer w;
    ar_st_writer_init(&w);
    int64_t shape[2] = {N, K};
    if (ar_st_writer_add(&w, "logits", AR_DTYPE_F32, 2, shape, logits, err) ||
        ar_st_writer_meta(&w, "autorep.model", model, err) || ar_st_writer_write(&w, outp, err)) {
        cli_err(cmd, "%s", err);
        ar_st_writer_free(&w);
        goto done;
    }
    ar_st_writer_free(&w);
    fprintf(stderr, "wrote logits (%d x %d) to %s\n", N, K, outp);
    rc = 0;
done:
    free(logits);
    ar_net_free(&net);
    ar_st_free(&st);
    ar_st_free(&xs);
    return rc;
}
