/* podrun up: load a manifest, plan each pod, refuse a name in use (unless
 * --replace), then become the pod's supervisor: in the foreground, streaming
 * `container | line`, or detached (-d) behind a readiness handshake. It owns
 * the command line and the handshake; the lifecycle is supervisor.c's. It
 * must never leave a half-started pod: every failure path ends with the
 * pod's files removed.
 *
 * A file with several pods: with -d each is started in order, and if one
 * fails the ones already started are taken down again; in the foreground a
 * single pod is required (one terminal cannot carry several lifecycles). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/cli/cli.h"
#include "pod/plan.h"
#include "pod/probe.h"
#include "pod/state.h"
#include "pod/supervisor.h"
#include "specs/specs.h"

#define READY_MSG_MAX (PR_ERROR_MSG_MAX + 16)
/* up_one()'s answer in the forked supervisor once its pod is over: not an
 * error, but the caller must not go on to the file's next pod. */
#define DETACHED_CHILD 3
/* How long `--replace` waits for the old pod's termination sequence. */
#define REPLACE_TIMEOUT_USEC (120 * PR_USEC_PER_SEC)

static void free_spec_filep(struct spec_file **f)
{
        *f = spec_file_free(*f);
}

struct up_args {
        bool detach;
        bool replace;
        uint64_t backoff_base_usec;
        const char *netns_dir;
        const char *file;
        char *pause_path;
        bool no_network;
        const char *cg_parent;
        bool no_cgroups;
        struct cg_options cg;
        struct logs_options logs;
};

static const char up_help[] =
    "Options:\n"
    "  -d, --detach              run the supervisor in the background; return once every\n"
    "                            container is running, printing the pod's name\n"
    "  --replace                 take down a pod of the same name first\n"
    "  --backoff-base DURATION   first restart back-off (default 10s, kubelet's); the cap\n"
    "                            (30x) and the reset (60x) scale with it, e.g. 100ms\n"
    "  --log-max-size SIZE       rotate a container's log file once it would pass SIZE\n"
    "                            (a quantity: default 10Mi, kubelet's containerLogMaxSize)\n"
    "  --log-max-files N         log files kept per container run, the current one\n"
    "                            included (default 5, kubelet's containerLogMaxFiles)\n"
    "  --no-network              give the pod only lo, not an address on podrun's bridge\n"
    "  --cgroup-parent PARENT    where the pod's cgroup goes (default $PODRUN_CGROUP_PARENT,\n"
    "                            else '/podrun'): absolute from each hierarchy's root, or\n"
    "                            relative to the cgroup podrun runs in (then run `down`\n"
    "                            from that same cgroup)\n"
    "  --no-cgroups              no cgroups: resource limits are not enforced\n"
    "  --netns-dir DIR           where the named network namespace goes (default\n"
    "                            $PODRUN_NETNS_DIR, else /run/netns)\n"
    "  -h, --help                show this help\n\n"
    "A file with several pods needs -d: they are started in order, and if one fails\n"
    "those already started are taken down again.\n"
    "In the foreground every container's output is shown as 'container | line' and\n"
    "Ctrl-C stops the pod. Exit status: 0 when the pod Succeeded (or was stopped),\n"
    "1 when it Failed or could not start, 2 for a bad manifest.\n";

/* kubelet's containerLogMaxSize is a quantity ("10Mi"); a line longer than
 * the file is still written whole, so the floor only keeps rotation sane. */
static int parse_log_max_size(const char *text, uint64_t *ret, struct pr_error *err)
{
        struct spec_quantity q = {};
        int64_t v;

        if (spec_quantity_parse(text, &q) < 0) {
                spec_quantity_done(&q);
                return cli_usage_error(err, "up", "--log-max-size: bad quantity '%s'", text);
        }
        v = q.value;
        spec_quantity_done(&q);
        if (v < 4096)
                return cli_usage_error(err, "up", "--log-max-size: '%s' is below 4Ki", text);
        *ret = (uint64_t)v;
        return 0;
}

static int parse_up(int argc, char **argv, struct up_args *a, struct pr_error *err)
{
        enum {
                OPT_REPLACE = 0x100,
                OPT_BACKOFF,
                OPT_NETNS,
                OPT_NO_NETWORK,
                OPT_CG_PARENT,
                OPT_NO_CGROUPS,
                OPT_LOG_MAX_SIZE,
                OPT_LOG_MAX_FILES
        };
        static const struct option options[] = {
            {"detach", no_argument, NULL, 'd'},
            {"replace", no_argument, NULL, OPT_REPLACE},
            {"backoff-base", required_argument, NULL, OPT_BACKOFF},
            {"netns-dir", required_argument, NULL, OPT_NETNS},
            {"no-network", no_argument, NULL, OPT_NO_NETWORK},
            {"cgroup-parent", required_argument, NULL, OPT_CG_PARENT},
            {"no-cgroups", no_argument, NULL, OPT_NO_CGROUPS},
            {"log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE},
            {"log-max-files", required_argument, NULL, OPT_LOG_MAX_FILES},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        int c, n, r;

        a->netns_dir = getenv("PODRUN_NETNS_DIR");
        a->cg_parent = getenv("PODRUN_CGROUP_PARENT");
        while ((c = getopt_long(argc, argv, "+dh", options, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        a->detach = true;
                        break;
                case OPT_REPLACE:
                        a->replace = true;
                        break;
                case OPT_BACKOFF:
                        if (pr_parse_duration(optarg, &a->backoff_base_usec) < 0 ||
                            a->backoff_base_usec == 0)
                                return cli_usage_error(err, "up",
                                                       "--backoff-base: bad duration "
                                                       "'%s'",
                                                       optarg);
                        break;
                case OPT_NETNS:
                        a->netns_dir = optarg;
                        break;
                case OPT_NO_NETWORK:
                        a->no_network = true;
                        break;
                case OPT_CG_PARENT:
                        a->cg_parent = optarg;
                        break;
                case OPT_NO_CGROUPS:
                        a->no_cgroups = true;
                        break;
                case OPT_LOG_MAX_SIZE:
                        r = parse_log_max_size(optarg, &a->logs.max_file_bytes, err);
                        if (r < 0)
                                return r;
                        break;
                case OPT_LOG_MAX_FILES:
                        if (pr_parse_int(optarg, 1, 1000, &n) < 0)
                                return cli_usage_error(err, "up",
                                                       "--log-max-files: '%s' is not a number "
                                                       "from 1 to 1000",
                                                       optarg);
                        a->logs.max_files = (unsigned)n;
                        break;
                case 'h':
                        cli_print_usage("up", up_help);
                        return 1;
                default:
                        return cli_usage_error(err, "up", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (a->netns_dir && a->netns_dir[0] != '/')
                return cli_usage_error(err, "up", "--netns-dir: '%s' is not absolute",
                                       a->netns_dir);
        if (optind != argc - 1)
                return cli_usage_error(err, "up", "expected one FILE");
        a->file = argv[optind];
        return 0;
}

static int load(const char *path, struct spec_file **ret, struct pr_error *err)
{
        struct spec_diags diags = {};
        int r;

        r = spec_load_file(path, ret, &diags, err);
        for (size_t i = 0; i < diags.n; i++) {
                _cleanup_free_ char *line = spec_diag_format(&diags.items[i]);
                fprintf(stderr, "%s\n", line);
        }
        spec_diags_done(&diags);
        if (r >= 0 && (*ret)->n_pods == 0) {
                *ret = spec_file_free(*ret);
                return pr_err_usage(err, "%s: no pod in the file", path);
        }
        return r;
}

/* Takes the pod's lock and makes sure the name is free: a live or finished
 * pod of that name is refused, or taken down first with --replace. Returns
 * the lock fd. */
static int claim_name(const struct up_args *a, const char *name, struct pr_error *err)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(arg_run_dir, name);
        _cleanup_free_ char *path = state_path(arg_run_dir, name);
        struct stat s;
        int fd, r;

        for (int attempt = 0; attempt < 2; attempt++) {
                fd = state_lock(pod_dir, true, false, err);
                if (fd >= 0 && lstat(path, &s) < 0 && errno == ENOENT)
                        return fd;
                if (fd >= 0)
                        (void)close(fd);
                else if (fd != -EBUSY)
                        return fd;
                if (!a->replace || attempt > 0)
                        break;
                pr_error_clear(err);
                r = sup_down(&(struct sup_down_options){.run_dir = arg_run_dir,
                                                        .root_dir = arg_root_dir,
                                                        .netns_dir = a->netns_dir,
                                                        .cgroup_parent = a->cg.parent,
                                                        .grace_seconds = -1,
                                                        .timeout_usec = REPLACE_TIMEOUT_USEC},
                             name, err);
                if (r < 0 && r != -ENOENT)
                        return pr_err_wrap(err, "--replace");
        }
        return pr_err_msg(err, EEXIST,
                          "pod '%s' already exists (see 'podrun ps -a'); take it down with "
                          "'podrun down %s' or use --replace",
                          name, name);
}

/* ---- the foreground ------------------------------------------------- */

/* Output is framed into lines per container and stream, so lines of two
 * containers never interleave mid-line. */
struct fg_line {
        char *container;
        enum logs_stream stream;
        char *buf;
        size_t len;
};

struct fg_ctx {
        size_t n;
        struct fg_line *lines;
        size_t width;
        bool color;
};

static void fg_print(struct fg_ctx *x, const struct fg_line *l, const char *text, size_t len)
{
        static const int colors[] = {36, 33, 32, 35, 34, 31};
        size_t idx = (size_t)(l - x->lines) / 2;

        if (x->color)
                printf("\033[%dm%-*s |\033[0m %.*s\n", colors[idx % PR_ELEMENTSOF(colors)],
                       (int)x->width, l->container, (int)len, text);
        else
                printf("%-*s | %.*s\n", (int)x->width, l->container, (int)len, text);
}

static void on_output(void *userdata, const char *container, enum logs_stream s, const char *data,
                      size_t len)
{
        struct fg_ctx *x = userdata;
        struct fg_line *l = NULL;

        for (size_t i = 0; i < x->n; i++)
                if (pr_streq(x->lines[i].container, container) && x->lines[i].stream == s)
                        l = &x->lines[i];
        if (!l)
                return;
        for (size_t i = 0; i < len; i++) {
                if (data[i] == '\n' || l->len == LOGS_MAX_LINE) {
                        fg_print(x, l, l->buf, l->len);
                        l->len = 0;
                        if (data[i] == '\n')
                                continue;
                }
                l->buf[l->len++] = data[i];
        }
        (void)fflush(stdout);
}

static void fg_init(struct fg_ctx *x, const struct pod_plan *plan)
{
        x->color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        for (size_t i = 0; i < plan->n_containers; i++) {
                size_t w = strlen(plan->containers[i].name);

                x->width = w > x->width ? w : x->width;
                for (int s = 0; s < _LOGS_STREAM_MAX; s++) {
                        struct fg_line *l = pr_array_grow(&x->lines, &x->n, sizeof(*l));

                        l->container = pr_strdup(plan->containers[i].name);
                        l->stream = (enum logs_stream)s;
                        l->buf = pr_malloc(LOGS_MAX_LINE);
                }
        }
}

static void fg_done(struct fg_ctx *x)
{
        for (size_t i = 0; i < x->n; i++) {
                if (x->lines[i].len)
                        fg_print(x, &x->lines[i], x->lines[i].buf, x->lines[i].len);
                free(x->lines[i].container);
                free(x->lines[i].buf);
        }
        free(x->lines);
}

/* podrun-pause: $PODRUN_PAUSE, else beside this binary once installed, else
 * where the build tree puts it (pod/pause beside pod/cli). */
static char *find_pause(void)
{
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash, *path;

        if (getenv("PODRUN_PAUSE"))
                return pr_strdup(getenv("PODRUN_PAUSE"));
        if (n <= 0)
                return pr_strdup("podrun-pause");
        self[n] = '\0';
        slash = strrchr(self, '/');
        *slash = '\0';
        path = pr_asprintf("%s/podrun-pause", self);
        if (access(path, X_OK) == 0)
                return path;
        free(path);
        return pr_asprintf("%s/../pause/podrun-pause", self);
}

static void fill_sup_options(struct sup_options *o, const struct up_args *a)
{
        o->pause_path = a->pause_path;
        o->manifest = a->file;
        o->run_dir = arg_run_dir;
        o->root_dir = arg_root_dir;
        o->netns_dir = a->netns_dir;
        o->backoff_base_usec = a->backoff_base_usec;
        o->logs = a->logs;
        o->network = !a->no_network;
        if (!a->no_cgroups) {
                /* Relative by default: pods nest beneath the cgroup podrun
                 * is started in, so a test or a user's slice keeps them. */
                o->cgroups = &a->cg;
                o->cgroups_required = a->cg_parent != NULL;
        }
}

static int up_foreground(const struct up_args *a, struct pod_plan *plan, struct pr_error *err)
{
        struct fg_ctx x = {};
        struct sup_options o = {};
        int r;

        fill_sup_options(&o, a);
        fg_init(&x, plan);
        o.on_output = on_output;
        o.userdata = &x;
        r = sup_run(plan, &o, err);
        fg_done(&x);
        if (r < 0)
                return r;
        return r == SUP_FAILED ? 1 : 0;
}

/* ---- detached ------------------------------------------------------- */

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* 2. (child) The handshake's answer: "ok\n" or "E<message>\n", then close.
 * The newline ends it: children between clone and exec may still hold a
 * copy of the pipe, so EOF can come late. */
static void on_ready(void *userdata, int r, const struct pr_error *err)
{
        int *fd = userdata;
        char msg[READY_MSG_MAX];

        if (*fd < 0)
                return;
        if (r >= 0)
                (void)snprintf(msg, sizeof(msg), "ok\n");
        else
                (void)snprintf(msg, sizeof(msg), "E%s\n",
                               err && err->msg[0] ? err->msg : strerror(-r));
        (void)write_all(*fd, msg, strlen(msg));
        (void)close(*fd);
        *fd = -1;
}

/* 1. (child) Detaches from the terminal and the CLI's session, sends its own
 * messages to supervisor.log, and runs the pod. */
static int run_detached_child(const struct up_args *a, struct pod_plan *plan, int ready_fd,
                              struct pr_error *err)
{
        _cleanup_free_ char *log_path = pr_asprintf("%s/supervisor.log", plan->run_dir);
        struct sup_options o = {};
        int fd, null_fd;

        (void)setsid();
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (null_fd >= 0)
                (void)dup2(null_fd, STDIN_FILENO);
        if (fd >= 0) {
                (void)dup2(fd, STDOUT_FILENO);
                (void)dup2(fd, STDERR_FILENO);
                (void)close(fd);
        }
        if (null_fd > STDERR_FILENO)
                (void)close(null_fd);
        fill_sup_options(&o, a);
        o.keep_completed = true;
        o.on_ready = on_ready;
        o.userdata = &ready_fd;
        return sup_run(plan, &o, err);
}

/* 3. (parent) Waits for the answer. EOF without one means the supervisor
 * died before it could say. */
static int read_answer(int fd, const char *name, struct pr_error *err)
{
        char msg[READY_MSG_MAX + 1];
        size_t len = 0;

        for (;;) {
                ssize_t n = read(fd, msg + len, sizeof(msg) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len == sizeof(msg) - 1 || memchr(msg, '\n', len))
                        break;
        }
        msg[len] = '\0';
        msg[strcspn(msg, "\n")] = '\0';
        if (pr_streq(msg, "ok"))
                return 0;
        if (msg[0] == 'E')
                return pr_err_msg(err, EIO, "%s", msg + 1);
        return pr_err_msg(err, EIO, "pod '%s': the supervisor exited before the pod was ready",
                          name);
}

static int up_detached(const struct up_args *a, struct pod_plan *plan, int *lock_fd,
                       struct pr_error *err)
{
        int p[2], r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return pr_err(err, errno, "pipe");
        (void)fflush(stdout);
        (void)fflush(stderr);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void)close(p[0]);
                (void)close(p[1]);
                return pr_err(err, r, "fork");
        }
        if (pid == 0) {
                (void)close(p[0]);
                r = run_detached_child(a, plan, p[1], err);
                /* The child's outcome went through the pipe; its exit status
                 * is seen by nobody, and its errors are in supervisor.log. */
                if (r < 0)
                        pr_log_error("%s", err->msg);
                pr_error_clear(err);
                return DETACHED_CHILD;
        }
        /* The lock stays held by the child (the same open file). */
        (void)close(*lock_fd);
        *lock_fd = -1;
        (void)close(p[1]);
        r = read_answer(p[0], plan->name, err);
        (void)close(p[0]);
        if (r < 0 && sup_pod_exists(arg_run_dir, plan->name)) {
                struct pr_error ignored = {};
                (void)sup_down(&(struct sup_down_options){.run_dir = arg_run_dir,
                                                          .root_dir = arg_root_dir,
                                                          .netns_dir = a->netns_dir,
                                                          .cgroup_parent = a->cg.parent,
                                                          .grace_seconds = -1,
                                                          .timeout_usec = REPLACE_TIMEOUT_USEC},
                               plan->name, &ignored);
        }
        return r;
}

/* ---- the command ---------------------------------------------------- */

static int up_one(const struct up_args *a, const struct spec_pod *spec, struct pr_error *err)
{
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;
        struct plan_options po = {
            .root_dir = arg_root_dir, .run_dir = arg_run_dir, .netns_dir = a->netns_dir};
        _cleanup_close_ int lock = -1;
        int r;

        r = plan_build(spec, &po, &plan, err);
        if (r < 0)
                return r;
        probe_warn_unsupported(plan);
        lock = claim_name(a, plan->name, err);
        if (lock < 0)
                return lock;
        if (!a->detach)
                return up_foreground(a, plan, err);
        r = up_detached(a, plan, &lock, err);
        if (r == 0)
                printf("%s\n", plan->name);
        return r;
}

int cmd_up(int argc, char **argv, struct pr_error *err)
{
        _cleanup_(free_spec_filep) struct spec_file *f = NULL;
        struct up_args a = {};
        _cleanup_free_ char *pause = NULL;
        size_t started = 0;
        int r;

        r = parse_up(argc, argv, &a, err);
        if (r != 0)
                return r > 0 ? 0 : r;
        pause = a.pause_path = find_pause();
        a.cg.parent = a.cg_parent ? a.cg_parent : CG_PARENT_DEFAULT;
        r = load(a.file, &f, err);
        if (r < 0)
                return r;
        if (f->n_pods > 1 && !a.detach)
                return pr_err_usage(err, "%s: %zu pods in the file; run several pods with -d",
                                    a.file, f->n_pods);
        for (; started < f->n_pods; started++) {
                r = up_one(&a, &f->pods[started], err);
                if (r != 0)
                        break;
        }
        if (r < 0 && a.detach)
                /* All or nothing: take down the pods of this file already up. */
                for (size_t i = 0; i < started; i++) {
                        struct pr_error ignored = {};
                        (void)sup_down(
                            &(struct sup_down_options){.run_dir = arg_run_dir,
                                                       .root_dir = arg_root_dir,
                                                       .netns_dir = a.netns_dir,
                                                       .cgroup_parent = a.cg.parent,
                                                       .grace_seconds = -1,
                                                       .timeout_usec = REPLACE_TIMEOUT_USEC},
                            f->pods[i].name, &ignored);
                }
        return r == DETACHED_CHILD ? 0 : r;
}
