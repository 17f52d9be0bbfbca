/* podrun inspect: one pod's status as a Kubernetes PodStatus object (JSON),
 * read from its state file. Read-only. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "pod/state.h"
#include "pod/status.h"
#include "pod/supervisor.h"

static const char inspect_help[] =
    "Prints phase, conditions, hostIP, podIP(s), startTime, initContainerStatuses and\n"
    "containerStatuses (state, lastState, ready, restartCount, image, imageID,\n"
    "containerID podrun://<pod>/<container>/<restart>, started) as kubectl get -o json\n"
    "shows .status.\n\n"
    "Options:\n"
    "  -h, --help   show this help\n";

int cmd_inspect(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_(state_freep) struct pod_state *st = NULL;
        _cleanup_free_ char *text = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                if (c == 'h') {
                        cli_print_usage("inspect", inspect_help);
                        return 0;
                }
                return cli_usage_error(err, "inspect", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind != argc - 1)
                return cli_usage_error(err, "inspect", "expected one POD");
        r = sup_read_status(arg_run_dir, argv[optind], &st, err);
        if (r < 0)
                return r;
        text = status_pod_status_json(st);
        printf("%s\n", text);
        return 0;
}
