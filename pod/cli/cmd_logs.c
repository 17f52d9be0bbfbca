/* `podrun logs`: a container's log as kubectl logs prints it. It owns the
 * flags and the link between the state file and the log reader; it never
 * writes a log or a state file, and prints only the containers' text (plus
 * restart markers on stderr). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "pod/logread.h"
#include "pod/podref.h"

static const char options_help[] =
    "Options:\n"
    "  -f, --follow          keep printing new lines, across rotations and restarts,\n"
    "                        until the container stops for good\n"
    "      --tail N          only the last N lines (default: all)\n"
    "      --since DURATION  only lines newer than DURATION (5s, 2m, 1h)\n"
    "      --since-time TIME only lines at or after an RFC 3339 time\n"
    "      --timestamps      prefix each line with its RFC 3339 time\n"
    "  -p, --previous        the instance before the current one\n"
    "      --all-containers  every container of the pod, init containers first\n"
    "      --prefix          prefix each line with [pod/POD/CONTAINER]\n"
    "  -c, --container NAME  the container, when the argument names a pod\n";

struct logs_args {
        bool follow, timestamps, previous, all, prefix;
        int64_t tail;
        uint64_t since_usec;
        const char *container;
        const char *ref;
};

enum {
        OPT_TAIL = 0x100,
        OPT_SINCE,
        OPT_SINCE_TIME,
        OPT_TIMESTAMPS,
        OPT_ALL,
        OPT_PREFIX,
};

static int parse_args(int argc, char **argv, struct logs_args *a, struct pr_error *err)
{
        static const struct option options[] = {
            {"follow", no_argument, NULL, 'f'},
            {"tail", required_argument, NULL, OPT_TAIL},
            {"since", required_argument, NULL, OPT_SINCE},
            {"since-time", required_argument, NULL, OPT_SINCE_TIME},
            {"timestamps", no_argument, NULL, OPT_TIMESTAMPS},
            {"previous", no_argument, NULL, 'p'},
            {"all-containers", no_argument, NULL, OPT_ALL},
            {"prefix", no_argument, NULL, OPT_PREFIX},
            {"container", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        uint64_t d;
        int c;

        *a = (struct logs_args){.tail = -1};
        while ((c = getopt_long(argc, argv, "fpc:h", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        a->follow = true;
                        break;
                case OPT_TAIL:
                        /* kubectl: -1 means all. */
                        if (pr_parse_i64(optarg, &a->tail) < 0 || a->tail < -1)
                                return cli_usage_error(
                                    err, "logs", "--tail: '%s' is not a number of lines", optarg);
                        break;
                case OPT_SINCE:
                        if (pr_parse_duration(optarg, &d) < 0)
                                return cli_usage_error(err, "logs",
                                                       "--since: '%s' is not a duration", optarg);
                        a->since_usec = d < pr_now_real_usec() ? pr_now_real_usec() - d : 1;
                        break;
                case OPT_SINCE_TIME:
                        if (logs_parse_time(optarg, &a->since_usec) < 0)
                                return cli_usage_error(err, "logs",
                                                       "--since-time: '%s' is not an RFC 3339 time",
                                                       optarg);
                        if (a->since_usec == 0)
                                a->since_usec = 1;
                        break;
                case OPT_TIMESTAMPS:
                        a->timestamps = true;
                        break;
                case 'p':
                        a->previous = true;
                        break;
                case OPT_ALL:
                        a->all = true;
                        break;
                case OPT_PREFIX:
                        a->prefix = true;
                        break;
                case 'c':
                        a->container = optarg;
                        break;
                case 'h':
                        cli_print_usage("logs", options_help);
                        return 1;
                default:
                        return cli_usage_error(err, "logs", "unknown option '%s'",
                                               argv[optind - 1]);
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(err, "logs", "expected one [POD/]CONTAINER");
        a->ref = argv[optind];
        if (a->previous && a->follow)
                return cli_usage_error(err, "logs", "--previous and --follow exclude each other");
        if (a->all && a->container)
                return cli_usage_error(err, "logs",
                                       "--all-containers and --container exclude each other");
        return 0;
}

static int stdout_write(void *userdata, const char *data, size_t len)
{
        FILE *f = userdata;

        if (fwrite(data, 1, len, f) != len)
                return -EIO;
        return 0;
}

struct follow_ctx {
        const char *state_path;
        const char *pod;
};

/* The follow loop's view of the state file: each target's restart count and
 * whether it will run again; the pod is gone when its state file is, when
 * the supervisor ended, or when it died. */
static int refresh(void *userdata, struct logs_target *t, size_t n, bool *ret_gone,
                   struct pr_error *err)
{
        struct follow_ctx *ctx = userdata;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error ignored = {};
        int r;

        (void)err;
        r = state_read(ctx->state_path, &st, &ignored);
        if (r < 0) {
                *ret_gone = true;
                return 0;
        }
        *ret_gone = st->finished || !state_proc_alive(&st->supervisor);
        for (size_t i = 0; i < n; i++) {
                struct state_container *c = state_find_container(st, t[i].container);

                if (!c) {
                        t[i].done = true;
                        continue;
                }
                t[i].latest_restart = c->restart_count;
                t[i].done = c->done;
        }
        return 0;
}

static int stderr_write(void *userdata, const char *data, size_t len)
{
        (void)userdata;
        (void)fflush(stdout);
        if (fwrite(data, 1, len, stderr) != len)
                return -EIO;
        return 0;
}

/* A pidfd for the supervisor, when it is still the recorded process: its
 * exit wakes the follow loop, so no polling is needed to notice a crash. */
static int open_supervisor(const struct pod_state *st)
{
        int fd;

        if (st->supervisor.pid <= 0)
                return -1;
        fd = (int)syscall(SYS_pidfd_open, st->supervisor.pid, 0);
        if (fd >= 0 && !state_proc_alive(&st->supervisor)) {
                (void)close(fd);
                return -1;
        }
        return fd;
}

static bool instance_exists(const char *dir, unsigned restart)
{
        _cleanup_strv_free_ char **files = NULL;
        struct pr_error ignored = {};

        return logs_instance_files(dir, restart, &files, &ignored) >= 0 && files && files[0];
}

/* The targets: one container, or all of the pod's (init containers first,
 * as they appear in the state). */
static int build_targets(const struct logs_args *a, const struct podref *ref,
                         struct logs_target **ret, char ***ret_strs, size_t *ret_n,
                         struct pr_error *err)
{
        struct pod_state *st = ref->state;
        struct logs_target *t = pr_calloc(st->n_containers ? st->n_containers : 1, sizeof(*t));
        char **strs = NULL;
        size_t n = 0;

        for (size_t i = 0; i < st->n_containers; i++) {
                struct state_container *c = &st->containers[i];
                char *dir, *prefix = NULL;

                if (!a->all && (ssize_t)i != ref->index)
                        continue;
                if (a->previous && c->restart_count == 0) {
                        free(t);
                        pr_strv_free(strs);
                        return pr_err_msg(
                            err, ENOENT,
                            "previous terminated container \"%s\" in pod \"%s\" not found", c->name,
                            st->name);
                }
                dir = podref_log_dir(st, c, arg_root_dir);
                pr_strv_push_take(&strs, dir);
                if (a->previous && !instance_exists(dir, c->restart_count - 1)) {
                        free(t);
                        pr_strv_free(strs);
                        return pr_err_msg(
                            err, ENOENT,
                            "previous terminated container \"%s\" in pod \"%s\" not found", c->name,
                            st->name);
                }
                if (a->prefix) {
                        prefix = pr_asprintf("[pod/%s/%s] ", st->name, c->name);
                        pr_strv_push_take(&strs, prefix);
                }
                t[n++] = (struct logs_target){
                    .log_dir = dir,
                    .container = c->name,
                    .prefix = prefix,
                    .restart_count = a->previous ? c->restart_count - 1 : c->restart_count,
                    .latest_restart = c->restart_count,
                    .done = c->done,
                };
        }
        *ret = t;
        *ret_strs = strs;
        *ret_n = n;
        return 0;
}

int cmd_logs(int argc, char **argv, struct pr_error *err)
{
        _cleanup_(podref_done) struct podref ref = {.index = -1};
        _cleanup_free_ struct logs_target *t = NULL;
        _cleanup_strv_free_ char **strs = NULL;
        _cleanup_free_ char *full = NULL;
        _cleanup_close_ int pidfd = -1;
        struct logs_args a;
        struct logs_read_options o;
        struct logs_sink out = {.write = stdout_write, .userdata = stdout};
        struct logs_sink notice = {.write = stderr_write};
        struct follow_ctx ctx;
        struct logs_follow f = {};
        size_t n = 0;
        int r;

        r = parse_args(argc, argv, &a, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (a.container)
                a.ref = full = pr_asprintf("%s/%s", a.ref, a.container);
        r = podref_resolve(arg_run_dir, a.ref, a.all, &ref, err);
        if (r < 0)
                return r;
        r = build_targets(&a, &ref, &t, &strs, &n, err);
        if (r < 0)
                return r;
        o = (struct logs_read_options){
            .tail = a.tail,
            .since_usec = a.since_usec,
            .timestamps = a.timestamps,
        };
        if (a.follow) {
                /* Each line as it comes: someone is watching. */
                (void)setvbuf(stdout, NULL, _IOLBF, 0);
                pidfd = open_supervisor(ref.state);
                ctx = (struct follow_ctx){.state_path = ref.state_path, .pod = ref.state->name};
                f = (struct logs_follow){
                    .refresh = refresh,
                    .userdata = &ctx,
                    .state_dir = ref.state_dir,
                    .supervisor_pidfd = pidfd,
                    .notice = &notice,
                };
        }
        r = logs_read(t, n, &o, &out, a.follow ? &f : NULL, err);
        if (fflush(stdout) != 0 && r >= 0)
                r = pr_err(err, errno, "logs: stdout");
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", ref.state->name);
        return 0;
}
