/* Network-level tests: architecture files and their ReLU counts, cfg errors,
 * memory plan safety, optimizers and schedules against PyTorch, a few training
 * steps of a tiny residual net against PyTorch step by step, checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/rng.h"
#include "golden_util.h"
#include "kernels/nn_kernels.h"
#include "nn/ckpt.h"
#include "nn/net.h"
#include "nn/optim.h"

static int build_arch(struct ar_net *net, const char *arch, struct ar_shape in, int classes, char *err) {
    char *text;
    int rc = ar_arch_text(arch, &text, err);
    if (rc) return rc;
    struct ar_net_opts o = {.in_shape = in, .classes = classes};
    rc = ar_net_build(net, text, arch, &o, err);
    free(text);
    return rc;
}

AR_TEST(arch_relu_counts_and_params) {
    char err[AR_ERR_LEN];
    struct ar_net net;
    REQUIRE_OK(build_arch(&net, "resnet18_in", (struct ar_shape){3, 32, 32}, 10, err), err);
    CHECK_EQ_INT(net.relu_total, 491520);
    CHECK_EQ_INT(net.n_sites, 16);
    CHECK_EQ_INT(net.n_params, 11173962); /* PyTorch's count for this model */
    CHECK(ar_net_find_tensor(&net, "layer2.0.shortcut.0.weight") != NULL);
    CHECK(ar_net_find_tensor(&net, "layer3.1.bn2.running_var") != NULL);
    CHECK(ar_net_find_tensor(&net, "linear.bias") != NULL);
    ar_net_free(&net);
    REQUIRE_OK(build_arch(&net, "resnet18_in", (struct ar_shape){3, 64, 64}, 200, err), err);
    CHECK_EQ_INT(net.relu_total, 1966080);
    ar_net_free(&net);
    REQUIRE_OK(build_arch(&net, "wrn22_8", (struct ar_shape){3, 32, 32}, 10, err), err);
    CHECK_EQ_INT(net.relu_total, 1359872);
    CHECK_EQ_INT(net.n_sites, 18);
    ar_net_free(&net);
    REQUIRE_OK(build_arch(&net, "wrn22_8", (struct ar_shape){3, 64, 64}, 200, err), err);
    CHECK_EQ_INT(net.relu_total, 5439488);
    ar_net_free(&net);
    /* every built-in architecture adapts to 1x28x28 and 3x32x32 */
    for (const char *const *a = ar_arch_names(); *a; a++) {
        REQUIRE_OK(build_arch(&net, *a, (struct ar_shape){1, 28, 28}, 10, err), err);
        ar_net_free(&net);
        REQUIRE_OK(build_arch(&net, *a, (struct ar_shape){3, 32, 32}, 100, err), err);
        CHECK_EQ_INT(net.classes, 100);
        ar_net_free(&net);
    }
}

AR_TEST(cfg_errors_name_file_and_line) {
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[net]\ninput = 1x4x4\n[conv]\nname = c\nfilters = 2\nsize = 3\nstrde = 1\n", "t.cfg:7: unknown key 'strde'"},
        {"[net]\ninput = 1x4x4\n[conv2d]\nname = c\n", "t.cfg:3: unknown section [conv2d]"},
        {"[net]\ninput = 1x4x4\n[conv]\nfilters = 2\nsize = 3\n", "t.cfg:3: [conv] needs key 'name'"},
        {"[net]\ninput = 1x4x4\n[conv]\nname = c\nfilters = 2\n", "needs key 'size'"},
        {"[net]\ninput = 1x4x4\n[relu]\nname = r\ninput = nothere\n", "input 'nothere' is not an earlier layer"},
        {"[net]\ninput = 1x4x4\nclasses = 3\n[conv]\nname = c\nname = d\n", "t.cfg:6: duplicate key 'name'"},
        {"[net]\ninput = 1x4x4\n[conv]\nname = c\nfilters = 0\nsize = 3\n", "t.cfg:5: key 'filters' in [conv]"},
        {"input = 3\n", "t.cfg:1: key outside of any [section]"},
        {"[net]\ninput = 1x4\n", "input: '1x4' is not auto or CxHxW"},
        {"[conv]\nname = c\n", "first section must be [net]"},
        {"[net]\ninput = 1x4x4\nclasses = 3\n[relu]\nname = a\n[relu]\nname = b\ninput = input\n[linear]\nname = f\n"
         "outputs = auto\n",
         "output of layer 'a' is never used"},
        {"[net]\ninput = 1x4x4\nclasses = 3\n[conv]\nname = c\nfilters = 2\nsize = 9\n", "does not fit"},
        {"[net]\ninput = 1x4x4\nclasses = 3\n[relu]\nname = r\n", "expected 3 class scores"},
        {"[net]\ninput = 1x4x4\n[add]\nname = a\nfrom = input\n", "needs 'from = layer_a, layer_b'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ar_net net;
        char err[AR_ERR_LEN] = "";
        int rc = ar_net_build(&net, cases[i].text, "t.cfg", NULL, err);
        CHECK_MSG(rc != AR_OK, "case %zu accepted", i);
        CHECK_MSG(strstr(err, cases[i].want) != NULL, "case %zu: message '%s' lacks '%s'", i, err, cases[i].want);
        CHECK_MSG(strchr(err, '\n') == NULL, "case %zu: message has several lines", i);
        if (rc == AR_OK) ar_net_free(&net);
    }
}

/* The lifetime-based memory plan must not change any result (bit-identical to a
 * plan where every tensor has its own memory), and the batch norm + ReLU fusion
 * must agree with the separate layers up to float summation order. */
static void run_resnet20(struct ar_net *n, int reuse, int fuse, float *logits, float *grads, float *state) {
    char err[AR_ERR_LEN];
    REQUIRE_OK(build_arch(n, "resnet20", (struct ar_shape){3, 12, 12}, 7, err), err);
    n->plan_no_reuse = !reuse;
    n->plan_no_fuse = !fuse;
    REQUIRE_OK(ar_net_plan(n, 4, 1, err), err);
    ar_net_init_params(n, 3);
    struct ar_rng r;
    ar_rng_seed(&r, 77, 9, 0);
    for (int i = 0; i < 4 * 3 * 144; i++) n->input[i] = (float)ar_rng_normal(&r);
    int32_t lab[4] = {1, 6, 0, 3};
    n->train_mode = 1;
    ar_net_forward(n, 4);
    memcpy(logits, ar_net_logits(n), sizeof(float) * 28); /* dead once the loss is taken */
    ar_softmax_xent(ar_net_dlogits(n), 1.0f, ar_net_logits(n), lab, 4, 7, NULL);
    ar_net_backward(n, 4);
    memcpy(grads, n->grads, sizeof(float) * n->n_params);
    memcpy(state, n->state, sizeof(float) * n->n_state);
}

AR_TEST(memory_plan_and_fusion_change_nothing) {
    struct ar_net a, b, c;
    static float la[28], lb[28], lc[28], ga[400000], gb[400000], gc[400000], sa[4096], sb[4096], sc[4096];
    run_resnet20(&a, 1, 0, la, ga, sa);
    REQUIRE(a.n_params <= 400000 && a.n_state <= 4096);
    run_resnet20(&b, 0, 0, lb, gb, sb);
    run_resnet20(&c, 1, 1, lc, gc, sc);
    size_t sum = 0;
    for (int i = 0; i < a.n_layers; i++) sum += 2 * 4 * ar_shape_numel(a.layers[i].out);
    CHECK_MSG(a.act_len < sum / 2, "arena %zu floats is not much smaller than the %zu of all tensors", a.act_len, sum);
    CHECK(b.act_len >= sum);
    CHECK(memcmp(la, lb, sizeof la) == 0);
    CHECK(memcmp(ga, gb, sizeof(float) * a.n_params) == 0);
    CHECK(memcmp(sa, sb, sizeof(float) * a.n_state) == 0);
    CHECK_CLOSE("fused logits", lc, la, 28, 1e-6, 1e-5);
    CHECK_CLOSE("fused grads", gc, ga, a.n_params, 1e-6, 1e-4);
    CHECK_CLOSE("fused statistics", sc, sa, a.n_state, 1e-6, 1e-5);
    ar_net_free(&a);
    ar_net_free(&b);
    ar_net_free(&c);
}

static int tiny_net(struct ar_net *net, int batch, int training, char *err) {
    struct ar_st g;
    int rc = ar_st_read(&g, ar_test_golden("tiny_train.safetensors"), err);
    if (rc) return rc;
    struct ar_net_opts o = {.in_shape = {3, 8, 8}, .classes = 5};
    rc = ar_net_build(net, ar_st_meta(&g, "cfg"), "tests/tiny.cfg", &o, err);
    if (!rc) rc = ar_net_plan(net, batch, training, err);
    ar_st_free(&g);
    return rc;
}

/* Load "prefix.<name>" tensors of a golden into the net. */
static int load_prefixed(struct ar_net *net, const struct ar_st *g, const char *prefix) {
    int ok = 1;
    for (int i = 0; i < net->n_tensors; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const struct ar_st_tensor *s = ar_st_find(g, name);
        if (!s) {
            ar_test_fail(__FILE__, __LINE__, "golden lacks %s", name);
            ok = 0;
            continue;
        }
        if (t->kind == AR_T_COUNT) continue;
        if (s->numel != t->numel) {
            ar_test_fail(__FILE__, __LINE__, "%s: %zu elements vs %zu", name, s->numel, t->numel);
            ok = 0;
            continue;
        }
        memcpy(ar_net_tensor_data(net, t), s->data, sizeof(float) * t->numel);
    }
    return ok;
}

AR_TEST(tiny_net_trains_like_pytorch_step_by_step) {
    char err[AR_ERR_LEN];
    struct ar_net net;
    REQUIRE_OK(tiny_net(&net, 8, 1, err), err);
    struct ar_st g;
    if (!golden_open(&g, "tiny_train.safetensors")) return;
    REQUIRE(load_prefixed(&net, &g, "init."));
    const float *xs = golden_f32(&g, "xs", NULL), *eval_logits = golden_f32(&g, "eval_logits", NULL);
    const struct ar_st_tensor *ys = ar_st_find(&g, "ys"), *lt = ar_st_find(&g, "losses");
    REQUIRE(xs && ys && lt && lt->dtype == AR_DTYPE_F64 && eval_logits);
    struct ar_optim opt;
    REQUIRE_OK(ar_optim_init(&opt, AR_OPTIM_SGD, &net, err), err);
    opt.lr[0] = 0.05f;
    opt.momentum = 0.9f;
    opt.wd = 5e-4f;
    const double *want = lt->data;
    for (int step = 0; step < 4; step++) {
        memcpy(net.input, xs + (size_t)step * 8 * 3 * 64, sizeof(float) * 8 * 3 * 64);
        int32_t lab[8];
        for (int i = 0; i < 8; i++) lab[i] = (int32_t)((const int64_t *)ys->data)[step * 8 + i];
        net.train_mode = 1;
        ar_net_forward(&net, 8);
        double loss = ar_softmax_xent(ar_net_dlogits(&net), 1.0f, ar_net_logits(&net), lab, 8, 5, NULL);
        CHECK_MSG(fabs(loss - want[step]) <= 1e-5 + 1e-5 * fabs(want[step]), "step %d: loss %.8f, PyTorch %.8f",
                  step, loss, want[step]);
        ar_net_backward(&net, 8);
        ar_optim_step(&opt, &net);
    }
    /* final parameters and BN statistics */
    for (int i = 0; i < net.n_tensors; i++) {
        const struct ar_tensor_info *t = &net.tensors[i];
        char name[256];
        snprintf(name, sizeof name, "final.%s", t->name);
        const struct ar_st_tensor *s = ar_st_find(&g, name);
        REQUIRE(s);
        if (t->kind == AR_T_COUNT) {
            CHECK_EQ_INT(*(const int64_t *)s->data, net.counts[t->off]);
            continue;
        }
        CHECK_CLOSE(t->name, (const float *)ar_net_tensor_data(&net, t), (const float *)s->data, t->numel, 1e-4, 1e-3);
    }
    /* eval mode uses the running statistics */
    memcpy(net.input, xs, sizeof(float) * 8 * 3 * 64);
    net.train_mode = 0;
    ar_net_forward(&net, 8);
    CHECK_CLOSE("eval logits", ar_net_logits(&net), eval_logits, 40, 1e-4, 1e-3);
    ar_optim_free(&opt);
    ar_net_free(&net);
    ar_st_free(&g);
}

AR_TEST(pytorch_checkpoint_gives_pytorch_logits) {
    char err[AR_ERR_LEN];
    struct ar_st g;
    if (!golden_open(&g, "tiny_train.safetensors")) return;
    char *cfg = strdup(ar_st_meta(&g, "cfg"));
    ar_st_free(&g);
    struct ar_net net;
    struct ar_st st;
    struct ar_ckpt_open_opts o = {.arch_text = cfg, .arch_label = "tiny", .in_shape = {3, 8, 8}, .site_mode = -1};
    REQUIRE_OK(ar_ckpt_open(&net, &st, ar_test_golden("torch_ckpt.safetensors"), &o, err), err);
    CHECK_EQ_INT(net.classes, 5); /* learnt from fc.weight */
    REQUIRE_OK(ar_net_plan(&net, 6, 0, err), err);
    struct ar_st io;
    REQUIRE(golden_open(&io, "torch_ckpt_io.safetensors"));
    memcpy(net.input, golden_f32(&io, "input", NULL), sizeof(float) * 6 * 3 * 64);
    ar_net_forward(&net, 6);
    const float *want = golden_f32(&io, "logits", NULL);
    float scale = 0;
    for (int i = 0; i < 30; i++) scale = fmaxf(scale, fabsf(want[i]));
    CHECK_CLOSE("logits", ar_net_logits(&net), want, 30, 1e-4 * scale, 0);
    ar_st_free(&io);
    ar_st_free(&st);
    ar_net_free(&net);
    free(cfg);
}

AR_TEST(checkpoint_round_trip_and_rejections) {
    char err[AR_ERR_LEN];
    struct ar_net net;
    REQUIRE_OK(tiny_net(&net, 2, 0, err), err);
    ar_net_init_params(&net, 5);
    net.counts[0] = 42;
    char path[512];
    snprintf(path, sizeof path, "%s/m.safetensors", ar_test_tmpdir());
    const char *extra[] = {"data.set", "unit", NULL};
    REQUIRE_OK(ar_ckpt_save(&net, path, extra, err), err);
    struct ar_net b;
    struct ar_st st;
    REQUIRE_OK(ar_ckpt_open(&b, &st, path, NULL, err), err);
    CHECK(!strcmp(ar_st_meta(&st, "data.set"), "unit"));
    CHECK_EQ_INT(b.n_params, net.n_params);
    CHECK(memcmp(b.params, net.params, sizeof(float) * net.n_params) == 0);
    CHECK(memcmp(b.state, net.state, sizeof(float) * net.n_state) == 0);
    CHECK_EQ_INT(b.counts[0], 42);
    ar_st_free(&st);
    ar_net_free(&b);
    /* NaN weights are refused with the tensor's name */
    net.params[3] = NAN;
    REQUIRE_OK(ar_ckpt_save(&net, path, NULL, err), err);
    CHECK(ar_ckpt_open(&b, &st, path, NULL, err) != AR_OK);
    CHECK_MSG(strstr(err, "contains NaN") && strstr(err, "m.safetensors"), "message: %s", err);
    /* a checkpoint of another architecture is refused */
    struct ar_net other;
    REQUIRE_OK(build_arch(&other, "cnn_small", (struct ar_shape){3, 8, 8}, 5, err), err);
    struct ar_ckpt_open_opts o = {.arch_text = NULL, .site_mode = -1};
    (void)o;
    net.params[3] = 0;
    REQUIRE_OK(ar_ckpt_save(&net, path, NULL, err), err);
    struct ar_st st2;
    REQUIRE_OK(ar_st_read(&st2, path, err), err);
    CHECK(ar_ckpt_load_tensors(&other, &st2, 0, err) != AR_OK);
    CHECK_MSG(strstr(err, "conv1.weight") && strstr(err, "shape"), "message: %s", err);
    ar_st_free(&st2);
    ar_net_free(&other);
    /* a missing file names the path */
    CHECK(ar_ckpt_open(&b, &st, "/nonexistent/x.safetensors", NULL, err) != AR_OK);
    CHECK(strstr(err, "/nonexistent/x.safetensors") != NULL);
    ar_net_free(&net);
}

static void optim_golden(const char *file) {
    struct ar_st g;
    if (!golden_open(&g, file)) return;
    char err[AR_ERR_LEN];
    struct ar_net net;
    struct ar_net_opts o = {.in_shape = {1, 1, 1}, .classes = 50};
    REQUIRE_OK(ar_net_build(&net, "[net]\n[linear]\nname = p\noutputs = auto\nbias = 0\n", "opt", &o, err), err);
    REQUIRE_OK(ar_net_plan(&net, 1, 1, err), err);
    REQUIRE(net.n_params == 50);
    const char *kind = ar_st_meta(&g, "kind");
    struct ar_optim opt;
    REQUIRE_OK(ar_optim_init(&opt, !strcmp(kind, "adam") ? AR_OPTIM_ADAM : AR_OPTIM_SGD, &net, err), err);
    opt.lr[0] = (float)golden_double(&g, "lr");
    opt.momentum = (float)golden_double(&g, "momentum");
    opt.nesterov = golden_int(&g, "nesterov");
    opt.wd = (float)golden_double(&g, "wd");
    memcpy(net.params, golden_f32(&g, "p0", NULL), sizeof(float) * 50);
    const float *grads = golden_f32(&g, "grads", NULL), *want = golden_f32(&g, "p_steps", NULL);
    for (int s = 0; s < 3; s++) {
        memcpy(net.grads, grads + s * 50, sizeof(float) * 50);
        ar_optim_step(&opt, &net);
        CHECK_CLOSE(file, net.params, want + s * 50, 50, 1e-6, 1e-5);
    }
    ar_optim_free(&opt);
    ar_net_free(&net);
    ar_st_free(&g);
}

AR_TEST(optimizers_match_pytorch) {
    optim_golden("optim_sgd.safetensors");
    optim_golden("optim_sgd_nesterov.safetensors");
    optim_golden("optim_adam.safetensors");
    optim_golden("optim_adam_wd.safetensors");
}

AR_TEST(schedules) {
    struct ar_st g;
    if (!golden_open(&g, "sched_cosine.safetensors")) return;
    const struct ar_st_tensor *t = ar_st_find(&g, "lrs");
    REQUIRE(t && t->dtype == AR_DTYPE_F64 && t->numel == 7);
    struct ar_sched s = {.kind = AR_SCHED_COSINE, .epochs = 7, .lr_min = 1e-3f};
    for (int e = 0; e < 7; e++) {
        double want = ((const double *)t->data)[e], got = ar_sched_lr(&s, 0.1f, e, 0.5);
        CHECK_MSG(fabs(got - want) < 1e-7, "epoch %d: %g vs PyTorch %g", e, got, want);
    }
    ar_st_free(&g);
    struct ar_sched st = {.kind = AR_SCHED_STEP, .step_size = 3, .gamma = 0.5f};
    CHECK(fabsf(ar_sched_lr(&st, 1.0f, 2, 0) - 1.0f) < 1e-7f);
    CHECK(fabsf(ar_sched_lr(&st, 1.0f, 3, 0) - 0.5f) < 1e-7f);
    CHECK(fabsf(ar_sched_lr(&st, 1.0f, 7, 0) - 0.25f) < 1e-7f);
    struct ar_sched w = {.kind = AR_SCHED_CONST, .warmup_epochs = 2};
    CHECK(fabsf(ar_sched_lr(&w, 1.0f, 0, 0.5) - 0.25f) < 1e-6f);
    CHECK(fabsf(ar_sched_lr(&w, 1.0f, 1, 1.0) - 1.0f) < 1e-6f);
    CHECK(fabsf(ar_sched_lr(&w, 1.0f, 5, 0.1) - 1.0f) < 1e-6f);
    CHECK(ar_sched_parse("cosine") == AR_SCHED_COSINE && ar_sched_parse("bogus") == -1);
}

/* Inference convs cache their reordered weights; ar_net_params_changed drops the
 * cache, so new parameter values are used. */
AR_TEST(inference_weight_cache_follows_parameter_changes) {
    char err[AR_ERR_LEN];
    struct ar_net a, b;
    REQUIRE_OK(build_arch(&a, "resnet20", (struct ar_shape){3, 8, 8}, 5, err), err);
    REQUIRE_OK(build_arch(&b, "resnet20", (struct ar_shape){3, 8, 8}, 5, err), err);
    REQUIRE_OK(ar_net_plan(&a, 2, 0, err), err);
    REQUIRE_OK(ar_net_plan(&b, 2, 0, err), err);
    ar_net_init_params(&a, 1);
    ar_net_init_params(&b, 2);
    for (int i = 0; i < 2 * 3 * 64; i++) a.input[i] = b.input[i] = (float)(i % 7) - 3.0f;
    ar_net_forward(&a, 2);
    ar_net_forward(&b, 2);
    float lb[10];
    memcpy(lb, ar_net_logits(&b), sizeof lb);
    CHECK(memcmp(ar_net_logits(&a), lb, sizeof lb) != 0);
    memcpy(a.params, b.params, sizeof(float) * a.n_params);
    ar_net_params_changed(&a);
    ar_net_forward(&a, 2);
    CHECK(memcmp(ar_net_logits(&a), lb, sizeof lb) == 0);
    ar_net_free(&a);
    ar_net_free(&b);
}
