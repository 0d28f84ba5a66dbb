/* libFuzzer target: architecture files — the cfg parser (ar_cfg_parse) and the net
 * builder (ar_net_build: layers, shapes, tensor registry, parameter buffers), build
 * only (no plan, no forward). The first input byte picks the build options (input
 * shape/classes from a data set or none, and the activation-site mode); the rest is
 * the cfg text. Properties: a failure is a one-line message naming the file; a
 * success obeys the builder's size limits (net.h AR_NET_MAX_*), every layer has a
 * positive output shape, inputs refer to earlier layers, the tensor registry tiles
 * the flat buffers exactly, and the last layer gives `classes` scores. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "nn/cfg.h"
#include "nn/net.h"

static void check_net(const struct ar_net *net) {
    FZ_CHECK(net->n_layers >= 1 && net->classes >= 1, "layers %d classes %d", net->n_layers, net->classes);
    size_t act = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const struct ar_layer *l = &net->layers[i];
        FZ_CHECK(l->out.c >= 1 && l->out.h >= 1 && l->out.w >= 1, "layer %d shape", i);
        FZ_CHECK(ar_shape_numel(l->out) <= AR_NET_MAX_ACT, "layer %d too big", i);
        act += ar_shape_numel(l->out);
        for (int k = 0; k < l->n_in; k++) FZ_CHECK(l->in[k] >= -1 && l->in[k] < i, "layer %d input %d", i, k);
    }
    FZ_CHECK(act <= AR_NET_MAX_ACT_TOTAL, "activations %zu", act);
    FZ_CHECK(net->n_params + net->n_state <= AR_NET_MAX_PARAMS, "params %zu", net->n_params);
    size_t used[4] = {0, 0, 0, 0};
    for (int i = 0; i < net->n_tensors; i++) {
        const struct ar_tensor_info *t = &net->tensors[i];
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
        FZ_CHECK(numel == t->numel, "tensor %s numel", t->name);
        FZ_CHECK(t->off == used[t->kind], "tensor %s offset", t->name);
        used[t->kind] += t->numel;
        FZ_CHECK(ar_net_find_tensor(net, t->name) == t, "tensor %s not unique", t->name);
    }
    FZ_CHECK(used[AR_T_PARAM] == net->n_params && used[AR_T_STATE] == net->n_state &&
                 used[AR_T_COUNT] == net->n_counts && used[AR_T_MASK] == net->n_masks,
             "registry does not tile the buffers");
    const struct ar_layer *last = &net->layers[net->n_layers - 1];
    FZ_CHECK(last->out.c == net->classes && last->out.h == 1 && last->out.w == 1, "logits shape");
    size_t relu = 0;
    for (int s = 0; s < net->n_sites; s++) relu += net->sites[s].numel;
    FZ_CHECK(relu == net->relu_total, "relu total");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    static const struct ar_net_opts variants[] = {
        {{1, 28, 28}, 10, AR_SITES_PLAIN}, {{3, 32, 32}, 10, AR_SITES_PLAIN}, {{3, 32, 32}, 100, AR_SITES_MASKED},
        {{0, 0, 0}, 0, AR_SITES_PLAIN},    {{1, 28, 28}, 10, AR_SITES_AUTOREP}, {{3, 8, 8}, 4, AR_SITES_SNL},
    };
    const struct ar_net_opts *o = &variants[data[0] % (sizeof variants / sizeof variants[0])];
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char err[AR_ERR_LEN] = "";
    /* the parser alone (also on its own, so its errors are checked even when the builder adds context) */
    struct ar_cfg cfg;
    if (ar_cfg_parse(&cfg, text, "fuzz.cfg", err) == AR_OK) {
        for (int i = 0; i < cfg.n_sec; i++) {
            struct ar_cfg_section *s = &cfg.sec[i];
            FZ_CHECK(s->name && s->name[0], "empty section name");
            for (int j = 0; j < s->n_kv; j++) {
                FZ_CHECK(s->kv[j].key[0] && !strchr(s->kv[j].key, '\n') && !strchr(s->kv[j].val, '\n'), "kv");
                int v, found;
                double d;
                if (ar_cfg_get_int(&cfg, s, s->kv[j].key, &v, &found, err)) FZ_CHECK(fz_one_line(err), "%s", err);
                if (ar_cfg_get_float(&cfg, s, s->kv[j].key, &d, &found, err)) FZ_CHECK(fz_one_line(err), "%s", err);
            }
            FZ_CHECK(ar_cfg_check_keys(&cfg, s, err) == AR_OK, "all keys were read");
        }
        ar_cfg_free(&cfg);
    } else {
        FZ_CHECK(fz_one_line(err) && strstr(err, "fuzz.cfg"), "parse message '%s'", err);
    }
    struct ar_net net;
    int rc = ar_net_build(&net, text, "fuzz.cfg", o, err);
    if (rc == AR_OK) {
        check_net(&net);
        ar_net_free(&net);
    } else {
        FZ_CHECK(fz_one_line(err), "build message '%s'", err);
        FZ_CHECK(net.layers == NULL && net.tensors == NULL && net.params == NULL, "failed build left state");
    }
    free(text);
    return 0;
}
