/* podrun's entry point: global options, the subcommand table, and the one
 * place where errors are printed and turned into an exit status. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"

const char *arg_root_dir = "/var/lib/podrun";
const char *arg_run_dir = "/run/podrun";

static const struct cmd commands[] = {
        { "up", cmd_up, "[-d] [--replace] [--backoff-base D] FILE", "start the pod a manifest describes" },
        { "down", cmd_down, "[--grace-period N] POD | -f FILE", "stop a pod and remove all it made" },
        { "ps", cmd_ps, "[-a] [--json]", "list pods and their containers" },
        { "logs", cmd_logs, "[-f] [--tail N] [--since D] [--timestamps] [-p] [POD/]CONTAINER",
          "print a container's log" },
        { "exec", cmd_exec, "[-i] [-t] [POD/]CONTAINER -- CMD [ARG...]",
          "run a command inside a container" },
        { "inspect", cmd_inspect, "POD", "print a pod's status as JSON" },
        { "validate", cmd_validate, "[--quiet] FILE...", "check manifests, describe their pods" },
        { "image", cmd_image, "import|ls|rm ...", "manage the image store" },
};

static void print_help(void)
{
        printf("Usage: podrun [--root DIR] [--run-dir DIR] [-v] COMMAND [ARGS...]\n\n"
               "Runs Kubernetes v1/Pod manifests on this host, the way kubelet would.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < PR_ELEMENTSOF(commands); i++)
                printf("  %-10s %s\n", commands[i].name, commands[i].summary);
        printf("\nOptions:\n"
               "  --root DIR      persistent state: images, leases, logs (default /var/lib/podrun)\n"
               "  --run-dir DIR   runtime state: pod state, mounts (default /run/podrun)\n"
               "  -v, --verbose   print debug messages\n"
               "  -h, --help      show this help\n"
               "  --version       show the version\n\n"
               "Run 'podrun COMMAND --help' for a command's options.\n"
               "Exit status: 0 success, 1 runtime failure, 2 usage or manifest error.\n");
}

void cli_print_usage(const char *name, const char *options_help)
{
        for (size_t i = 0; i < PR_ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        printf("Usage: podrun %s %s\n\n%s\n", name, commands[i].args,
                               commands[i].summary);
        if (options_help && *options_help)
                printf("\n%s", options_help);
}

int cli_usage_error(struct pr_error *err, const char *cmd, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return pr_err_usage(err, "%s: %s (see 'podrun %s --help')", cmd, msg, cmd);
}

static const struct cmd *find_command(const char *name)
{
        for (size_t i = 0; i < PR_ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

enum {
        OPT_ROOT = 0x100,
        OPT_RUN_DIR,
        OPT_VERSION,
};

static int parse_global(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "run-dir", required_argument, NULL, OPT_RUN_DIR },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        int c;

        opterr = 0;
        /* "+": stop at the command name; its options are its own. */
        while ((c = getopt_long(argc, argv, "+vh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOT:
                case OPT_RUN_DIR:
                        if (optarg[0] != '/')
                                return pr_err_usage(err, "--%s: '%s' is not an absolute path",
                                                    c == OPT_ROOT ? "root" : "run-dir", optarg);
                        if (c == OPT_ROOT)
                                arg_root_dir = optarg;
                        else
                                arg_run_dir = optarg;
                        break;
                case 'v':
                        pr_log_max_level = PR_LOG_DEBUG;
                        break;
                case 'h':
                        print_help();
                        return 1;
                case OPT_VERSION:
                        printf("podrun %s\n", PODRUN_VERSION);
                        return 1;
                default:
                        return pr_err_usage(err, "unknown option '%s' (see 'podrun --help')",
                                            argv[optind - 1]);
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct pr_error err = {};
        const struct cmd *cmd;
        int r;

        r = parse_global(argc, argv, &err);
        if (r > 0)
                return 0;
        if (r == 0 && optind >= argc)
                r = pr_err_usage(&err, "no command given (see 'podrun --help')");
        if (r == 0) {
                cmd = find_command(argv[optind]);
                if (!cmd)
                        r = pr_err_usage(&err, "unknown command '%s' (see 'podrun --help')",
                                         argv[optind]);
        }
        if (r == 0) {
                argv += optind;
                argc -= optind;
                optind = 0; /* glibc: reinitialise getopt for the subcommand */
                opterr = 0;
                r = cmd->run(argc, argv, &err);
        }
        if (r < 0) {
                fprintf(stderr, "podrun: %s\n", err.msg[0] ? err.msg : strerror(-r));
                return err.usage ? 2 : 1;
        }
        return r;
}
