/* The command line: global options and the subcommand table. Each
 * subcommand lives in cmd_<name>.c and returns 0 or a positive exit status
 * on success, a negative errno with err filled on failure. */
#pragma once

#include <stdbool.h>

struct pr_error;

/* Parsed global options: the only globals besides the log level. */
extern const char *arg_root_dir;
extern const char *arg_run_dir;

struct cmd {
        const char *name;
        int (*run)(int argc, char **argv, struct pr_error *err);
        const char *args;    /* "[-d] [--replace] FILE" */
        const char *summary; /* one line for `podrun --help` */
};

/* Prints "Usage: podrun NAME ARGS" and the given option help to stdout. */
void cli_print_usage(const char *name, const char *options_help);

/* getopt_long error for a subcommand, as a usage error. */
int cli_usage_error(struct pr_error *err, const char *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

int cmd_validate(int argc, char **argv, struct pr_error *err);
int cmd_image(int argc, char **argv, struct pr_error *err);
int cmd_logs(int argc, char **argv, struct pr_error *err);
int cmd_exec(int argc, char **argv, struct pr_error *err);
int cmd_up(int argc, char **argv, struct pr_error *err);
int cmd_down(int argc, char **argv, struct pr_error *err);
int cmd_ps(int argc, char **argv, struct pr_error *err);
int cmd_inspect(int argc, char **argv, struct pr_error *err);
