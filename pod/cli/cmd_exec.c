/* `podrun exec`: runs a command inside a running container. It owns the
 * flags and finding the container's PID 1 in the state file; joining the
 * container is pod/exec.c's. It never signals or changes the pod. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "pod/exec.h"
#include "pod/podref.h"

static const char options_help[] =
    "Options:\n"
    "  -i, --stdin  pass stdin to the command (else it reads /dev/null)\n"
    "  -t, --tty    allocate a terminal inside the container and relay this one\n"
    "\nThe exit status is the command's (128+N when killed by signal N); 126 or 127\n"
    "when it could not be executed; 1 when the container is not running.\n";

int cmd_exec(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"stdin", no_argument, NULL, 'i'},
            {"tty", no_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_(podref_done) struct podref ref = {.index = -1};
        struct exec_options o = {.in_fd = -1, .out_fd = -1};
        struct state_container *c;
        const char *name;
        int status = 0, r, opt;

        /* "+": options end at [POD/]CONTAINER; the command's are its own. */
        while ((opt = getopt_long(argc, argv, "+ith", options, NULL)) >= 0) {
                switch (opt) {
                case 'i':
                        o.interactive = true;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'h':
                        cli_print_usage("exec", options_help);
                        return 0;
                default:
                        return cli_usage_error(err, "exec", "unknown option '%s'",
                                               argv[optind - 1]);
                }
        }
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        if (optind >= argc)
                return cli_usage_error(err, "exec", "expected [POD/]CONTAINER -- CMD [ARG...]");
        name = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        if (optind >= argc)
                return cli_usage_error(err, "exec", "expected a command after '--'");
        o.argv = argv + optind;
        r = podref_resolve(arg_run_dir, name, false, &ref, err);
        if (r < 0)
                return r;
        c = &ref.state->containers[ref.index];
        if (c->cur.state != STATE_CTR_RUNNING || c->proc.pid <= 0 || !state_proc_alive(&c->proc))
                return pr_err_msg(err, ESRCH, "container \"%s\" in pod \"%s\" is not running",
                                  c->name, ref.state->name);
        o.pid = c->proc.pid;
        o.start_time = c->proc.start_time;
        r = exec_run(&o, &status, err);
        if (r == -ESRCH)
                return pr_err_msg(err, ESRCH, "container \"%s\" in pod \"%s\" is not running",
                                  c->name, ref.state->name);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s': container '%s'", ref.state->name, c->name);
        if (err->code) {
                /* runc's words, and its status: the command never ran. */
                fprintf(stderr, "podrun: %s\n", err->msg);
        }
        return status;
}
