/* autorep command-line entry: dispatches to the subcommands. The only place that
 * turns library statuses into messages and exit codes. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "nn/dist.h"

static void usage(void) {
    printf("autorep — train CNNs, replace ReLUs under a budget, run them under secure inference\n\n"
           "usage: autorep COMMAND [options]   (autorep COMMAND --help for its options)\n\n"
           "commands:\n"
           "  info      layers, parameters and ReLU sites of an architecture or checkpoint\n"
           "  train     train a network on a data set\n"
           "  eval      top-1 accuracy and loss of a checkpoint on the test split\n"
           "  predict   logits of a checkpoint for the tensor 'input' of a safetensors file\n"
           "  replace   keep at most a budget of ReLUs (AutoReP or SNL), replacing the rest by polynomials\n"
           "  pi        secure two-party inference: cost, fixed, export-public, dealer, server, client, local\n"
           "  report    one self-contained HTML report (figures and tables) of replacement runs\n");
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv) {
    if (ar_dist_init(&argc, &argv)) {
        fprintf(stderr, "autorep: MPI initialisation failed\n");
        return 1;
    }
    int rc = dispatch(argc, argv);
    if (rc && ar_dist_size() > 1) ar_dist_abort(rc); /* never leave the other ranks waiting */
    ar_dist_finalize();
    return rc;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const char *c = argv[1];
    if (!strcmp(c, "info")) return cmd_info(argc, argv);
    if (!strcmp(c, "train")) return cmd_train(argc, argv);
    if (!strcmp(c, "eval")) return cmd_eval(argc, argv);
    if (!strcmp(c, "predict")) return cmd_predict(argc, argv);
    if (!strcmp(c, "replace")) return cmd_replace(argc, argv);
    if (!strcmp(c, "pi")) return cmd_pi(argc, argv);
    if (!strcmp(c, "report")) return cmd_report(argc, argv);
    fprintf(stderr, "autorep: unknown command '%s' (see autorep --help)\n", c);
    return 2;
}
