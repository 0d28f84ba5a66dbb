/* libFuzzer target: the public model file of secure inference (src/pi/public.c,
 * ar_pi_public_load): the file a client and the dealer receive from the server's
 * operator — safetensors with the architecture, input, classes, site mode,
 * fixed-point precision, model hash and the per-site masks and polynomials, then
 * the architecture compiled without weights and the hash checked. The input is
 * the file (a memfd). Properties: a failure is one line naming the file with the
 * model freed; a success has a positive input shape and class count and ReLU and
 * quadratic counts that add up to the model's activation sites. */
#include <string.h>

#include "fuzz_util.h"
#include "pi/public.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[AR_ERR_LEN] = "";
    int fd = fz_memfile(data, size, path);
    struct ar_pi_model m;
    struct ar_pi_public_info info;
    memset(&m, 0, sizeof m);
    int rc = ar_pi_public_load(path, &m, &info, err);
    if (rc != AR_OK) {
        FZ_CHECK(fz_one_line(err) && strstr(err, path), "message '%s'", err);
    } else {
        FZ_CHECK(m.in_shape.c >= 1 && m.in_shape.h >= 1 && m.in_shape.w >= 1 && m.classes >= 1, "shape");
        FZ_CHECK(!m.has_weights, "a public file carried weights");
        ar_pi_model_free(&m);
    }
    close(fd);
    return 0;
}
