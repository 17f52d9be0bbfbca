/* podrun validate: parse and check manifests, print every finding, or a
 * summary of each pod. Changes nothing on the host. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "pod/base/error.h"
#include "pod/cli/cli.h"

int cmd_validate(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        cli_print_usage("validate", "  -h, --help   show this help\n");
                        return 0;
                }
                return cli_usage_error(err, "validate", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "validate", "no manifest given");
        return pr_err_msg(err, ENOSYS, "validate: not implemented yet");
}
