/* Entry points of the autorep subcommands (argv[1] is the command name). Each
 * returns the process exit code. */
#ifndef AR_CLI_COMMANDS_H
#define AR_CLI_COMMANDS_H

#include <stddef.h>

struct ar_dataset;
struct ar_augment;

int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_replace(int argc, char **argv);
int cmd_pi(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Shared by train-like commands. */
int cli_default_log(const char *out, char *buf, size_t len);
/* mkdir -p of the directory part of path; 0 or -1 (errno set). */
int cli_ensure_parent_dir(const char *path);
int cli_parse_augment(const char *cmd, const char *v, const struct ar_dataset *ds, struct ar_augment *aug);

#endif
