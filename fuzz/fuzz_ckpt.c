/* libFuzzer target: opening a checkpoint as the CLI does (ar_ckpt_open: safetensors
 * read, metadata -> architecture, input shape, classes and site mode, net build,
 * tensor checks and copy, then ar_sites_attach_owned), from an in-memory file. The
 * input is the file; its length picks the options (with or without an --arch
 * fallback, site mode from the file or forced plain). When the opened network is
 * small, one image is also run forward (plan + forward), so a file that passes the
 * checks must be runnable. Properties: a failure is one line naming the file with
 * nothing left allocated; a success has finite float tensors and 0/1 masks. */
#include <math.h>
#include <string.h>

#include "autorep/replace.h"
#include "fuzz_util.h"
#include "nn/ckpt.h"
#include "nn/net.h"

static const char tiny_arch[] = "[net]\ninput = 1x6x6\nclasses = 3\n"
                                "[conv]\nname = c1\nfilters = 2\nsize = 3\npad = 1\n"
                                "[batchnorm]\nname = bn1\n[relu]\nname = r1\n"
                                "[avgpool]\nglobal = 1\n[linear]\nname = fc\noutputs = 3\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[AR_ERR_LEN] = "";
    int fd = fz_memfile(data, size, path);
    struct ar_ckpt_open_opts o = {.arch_text = size % 2 ? tiny_arch : NULL,
                                  .arch_label = "tiny",
                                  .in_shape = {0, 0, 0},
                                  .site_mode = size % 4 >= 2 ? AR_SITES_PLAIN : -1};
    struct ar_net net;
    struct ar_st st;
    int rc = ar_ckpt_open(&net, &st, path, &o, err);
    if (rc == AR_OK && (rc = ar_sites_attach_owned(&net, err)) != AR_OK) {
        ar_net_free(&net);
        ar_st_free(&st);
    }
    if (rc != AR_OK) {
        FZ_CHECK(fz_one_line(err), "message '%s'", err);
        FZ_CHECK(strstr(err, path) || strstr(err, "tiny") || strstr(err, "out of memory"), "'%s' names no file", err);
        FZ_CHECK(net.layers == NULL && st.tensors == NULL, "failed open left state");
        close(fd);
        return 0;
    }
    for (int i = 0; i < net.n_tensors; i++) {
        const struct ar_tensor_info *t = &net.tensors[i];
        const void *d = ar_net_tensor_data(&net, t);
        if (t->kind == AR_T_PARAM || t->kind == AR_T_STATE) {
            for (size_t j = 0; j < t->numel; j++) FZ_CHECK(isfinite(((const float *)d)[j]), "%s[%zu]", t->name, j);
        } else if (t->kind == AR_T_MASK) {
            for (size_t j = 0; j < t->numel; j++) FZ_CHECK(((const uint8_t *)d)[j] <= 1, "%s[%zu]", t->name, j);
        }
    }
    size_t act = 0;
    for (int i = 0; i < net.n_layers; i++) act += ar_shape_numel(net.layers[i].out);
    if (act <= 100000 && net.n_params <= 100000) {
        if (ar_net_plan(&net, 1, 0, err) == AR_OK) {
            net.train_mode = 0;
            ar_net_forward(&net, 1);
            (void)ar_net_logits(&net);
        } else {
            FZ_CHECK(fz_one_line(err), "plan message '%s'", err);
        }
    }
    ar_net_free(&net);
    ar_st_free(&st);
    close(fd);
    return 0;
}
