/* podrun down: stop pods and remove all they made, by name or by the
 * manifest that started them. It owns the command line only; the stop and
 * the teardown are sup_down()'s. Taking down a pod that is already gone is
 * an error naming it (exit 1), and taking it down twice is the same. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/cli/cli.h"
#include "pod/supervisor.h"
#include "specs/specs.h"

/* Beyond the pod's own grace periods, a supervisor that does not finish in
 * this long is killed and the teardown done from its state file. */
#define DOWN_TIMEOUT_USEC (300 * PR_USEC_PER_SEC)

static const char down_help[] =
    "Options:\n"
    "  -f, --file FILE         take down every pod the manifest describes\n"
    "  --grace-period SECONDS  instead of the pod's terminationGracePeriodSeconds\n"
    "                          (0: SIGKILL at once), as kubectl delete --grace-period\n"
    "  -h, --help              show this help\n\n"
    "Sends the pod's supervisor SIGTERM and waits while it runs the termination\n"
    "sequence (stop signal, grace period, SIGKILL; apps, then sidecars, then the\n"
    "infra). A supervisor that is gone is replaced by a teardown from the state file.\n"
    "Exit status: 0 once the pod is gone, 1 when there is no such pod.\n";

/* As `up` chooses it; used only for a pod whose run dir is gone. */
static const char *cgroup_parent(void)
{
        const char *p = getenv("PODRUN_CGROUP_PARENT");
        return p ? p : CG_PARENT_DEFAULT;
}

static void free_spec_filep(struct spec_file **f)
{
        *f = spec_file_free(*f);
}

static int names_from_file(const char *path, char ***ret, struct pr_error *err)
{
        _cleanup_(free_spec_filep) struct spec_file *f = NULL;
        struct spec_diags diags = {};
        int r;

        r = spec_load_file(path, &f, &diags, err);
        spec_diags_done(&diags);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->n_pods; i++)
                pr_strv_push(ret, f->pods[i].name);
        return 0;
}

int cmd_down(int argc, char **argv, struct pr_error *err)
{
        enum { OPT_GRACE = 0x100 };
        static const struct option options[] = {
            {"file", required_argument, NULL, 'f'},
            {"grace-period", required_argument, NULL, OPT_GRACE},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_strv_free_ char **names = NULL;
        const char *file = NULL;
        int grace = -1;
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "+f:h", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        file = optarg;
                        break;
                case OPT_GRACE:
                        if (pr_parse_int(optarg, 0, 24 * 3600, &grace) < 0)
                                return cli_usage_error(err, "down",
                                                       "--grace-period: '%s' is not a number of "
                                                       "seconds",
                                                       optarg);
                        break;
                case 'h':
                        cli_print_usage("down", down_help);
                        return 0;
                default:
                        return cli_usage_error(err, "down", "unknown option '%s'",
                                               argv[optind - 1]);
                }
        }
        if (file && optind != argc)
                return cli_usage_error(err, "down", "give either POD or -f FILE");
        if (!file && optind != argc - 1)
                return cli_usage_error(err, "down", "expected one POD");
        if (file) {
                r = names_from_file(file, &names, err);
                if (r < 0)
                        return r;
        } else {
                pr_strv_push(&names, argv[optind]);
        }
        /* Every pod is attempted; the first failure is the one reported. */
        for (size_t i = 0; names && names[i]; i++) {
                struct pr_error e = {};
                struct sup_down_options o = {.run_dir = arg_run_dir,
                                             .root_dir = arg_root_dir,
                                             .netns_dir = getenv("PODRUN_NETNS_DIR"),
                                             .cgroup_parent = cgroup_parent(),
                                             .grace_seconds = grace,
                                             .timeout_usec = DOWN_TIMEOUT_USEC};
                int q = sup_down(&o, names[i], &e);

                if (q < 0 && r >= 0) {
                        r = q;
                        *err = e;
                } else if (q < 0) {
                        pr_log_error("%s", e.msg);
                }
        }
        return r;
}
