/* End to end through the real `podrun` binary, the faults and the limits a
 * long-running pod meets: its infra process or a container's PID 1 killed
 * with SIGKILL, a container flooding its log (slowed, never dropped, the
 * supervisor's memory flat), a full disk under the logs, and the
 * foreground's coloured stream on a terminal. Each test runs in a mount and
 * network namespace of its own (made in .init), with its own --root,
 * --run-dir and netns dir under /tmp, and leaves nothing behind. Runs as
 * root; skips otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/state.h"

static char tmp[64];
static char cg_parent[64];
static char *podrun, *root_dir, *run_dir, *netns_dir, *small_root;

struct out {
        int status;
        char *text;
};

static void out_done(struct out *o)
{
        free(o->text);
}

static struct out run_shell(const char *cmd)
{
        struct out o = {};
        size_t len = 0, cap = 4096;
        FILE *f;
        int n, st;

        f = popen(cmd, "r");
        cr_assert_not_null(f);
        o.text = pr_malloc(cap);
        while ((n = (int)fread(o.text + len, 1, cap - len - 1, f)) > 0) {
                len += (size_t)n;
                if (cap - len < 2)
                        o.text = pr_realloc(o.text, cap *= 2);
        }
        o.text[len] = '\0';
        st = pclose(f);
        o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return o;
}

/* Runs podrun with the test's dirs (root may be another --root); stdout and
 * stderr together. */
static struct out podrun_root(const char *root, const char *fmt, ...)
{
        _cleanup_free_ char *args = NULL, *cmd = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&args, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0);
        cmd = pr_asprintf("PODRUN_NETNS_DIR=%s PODRUN_CGROUP_PARENT=%s %s --root %s --run-dir %s "
                          "%s 2>&1",
                          netns_dir, cg_parent, podrun, root, run_dir, args);
        return run_shell(cmd);
}

#define podrun_run(...) podrun_root(root_dir, __VA_ARGS__)

static char *write_manifest(const char *name, const char *text)
{
        char *path = pr_asprintf("%s/%s.yaml", tmp, name);
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
        return path;
}

static void import_busybox(const char *root)
{
        _cleanup_free_ char *import = pr_asprintf("%s/.ci/busybox-image %s %s >/dev/null",
                                                  getenv("PODRUN_SOURCE_DIR"), podrun, root);

        cr_assert_eq(system(import), 0, "importing the busybox image into '%s' failed", root);
}

static void setup(void)
{
        const char *build = getenv("PODRUN_BUILD_DIR"), *src = getenv("PODRUN_SOURCE_DIR");
        struct pr_error err = {};

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build || !src)
                cr_skip_test("PODRUN_BUILD_DIR and PODRUN_SOURCE_DIR are not set");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        /* Relative: the pods' cgroups nest beneath this test's own. */
        snprintf(cg_parent, sizeof(cg_parent), "podrun-faults-%d", (int)getpid());
        snprintf(tmp, sizeof(tmp), "/tmp/podrun-faults-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        podrun = pr_asprintf("%s/pod/cli/podrun", build);
        root_dir = pr_asprintf("%s/root", tmp);
        run_dir = pr_asprintf("%s/run", tmp);
        netns_dir = pr_asprintf("%s/netns", tmp);
        small_root = pr_asprintf("%s/small", tmp);
        cr_assert_eq(pr_mkdir_p(run_dir, 0755, &err), 0);
        import_busybox(root_dir);
}

/* Whatever a failed test left: pods taken down (on either root), the
 * small root's tmpfs unmounted, then the directory. */
static void teardown(void)
{
        _cleanup_free_ char *rmdir_parent = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct pr_error err = {};

        if (!run_dir)
                return;
        if (state_list(run_dir, &names, &err) >= 0)
                for (size_t i = 0; names[i]; i++) {
                        struct out o = podrun_run("down %s", names[i]);
                        out_done(&o);
                }
        (void)umount2(small_root, MNT_DETACH);
        (void)pr_rm_rf(tmp, &err);
        rmdir_parent = pr_asprintf("find /sys/fs/cgroup -maxdepth 6 -type d -name '%s' "
                                   "-exec rmdir {} + 2>/dev/null",
                                   cg_parent);
        (void)!system(rmdir_parent);
        free(podrun);
        free(root_dir);
        free(run_dir);
        free(netns_dir);
        free(small_root);
}

TestSuite(pod_faults, .init = setup, .fini = teardown, .timeout = 60);

static struct pod_state *read_state(const char *name)
{
        _cleanup_free_ char *path = state_path(run_dir, name);
        struct pod_state *st = NULL;
        struct pr_error err = {};

        cr_assert_eq(state_read(path, &st, &err), 0, "%s", err.msg);
        return st;
}

static bool mounts_mention(const char *what)
{
        _cleanup_free_ char *data = NULL;
        struct pr_error err = {};

        cr_assert_eq(pr_read_file("/proc/self/mountinfo", 1 << 22, &data, NULL, &err), 0);
        return strstr(data, what) != NULL;
}

/* After down: no state, no logs, no mount under the pod's dirs, and no
 * recorded process. */
static void assert_clean(const char *root, const char *name, const struct pod_state *st)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(run_dir, name);
        _cleanup_free_ char *logs = pr_asprintf("%s/pods/%s", root, name);
        _cleanup_free_ char *netns = pr_asprintf("%s/podrun-%s", netns_dir, name);

        cr_assert_eq(access(pod_dir, F_OK), -1, "'%s' is left", pod_dir);
        cr_assert_eq(access(logs, F_OK), -1, "'%s' is left", logs);
        cr_assert_eq(access(netns, F_OK), -1, "'%s' is left", netns);
        cr_assert_not(mounts_mention(run_dir), "a mount under '%s' is left", run_dir);
        if (!st)
                return;
        cr_assert_not(state_proc_alive(&st->supervisor), "the supervisor is still running");
        cr_assert_not(state_proc_alive(&st->infra), "the infra is still running");
        for (size_t i = 0; i < st->n_containers; i++)
                cr_assert_not(state_proc_alive(&st->containers[i].proc),
                              "container '%s' is still running", st->containers[i].name);
}

static void wait_gone(const struct state_proc *p, unsigned seconds)
{
        uint64_t start = pr_now_mono_usec();

        while (state_proc_alive(p)) {
                cr_assert_lt(pr_now_mono_usec() - start, seconds * PR_USEC_PER_SEC,
                             "pid %d still runs after %u s", (int)p->pid, seconds);
                usleep(10000);
        }
}

static json_object *jget(json_object *o, const char *path)
{
        _cleanup_free_ char *copy = pr_strdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (json_object_is_type(o, json_type_array))
                        o = json_object_array_get_idx(o, (size_t)atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        }
        return o;
}

static const char sleeper[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n"
                              "spec:\n  terminationGracePeriodSeconds: 1\n"
                              "  containers:\n  - name: main\n    image: busybox\n"
                              "    command: [sh, -c, 'echo hello; exec sleep 600']\n";

/* ---- faults --------------------------------------------------------- */

/* The infra holds the pod's namespaces: without it the pod cannot go on.
 * The supervisor stops the containers, records Failed with a reason, and
 * keeps the state for ps -a; down removes the rest. */
Test(pod_faults, killed_infra_fails_the_pod)
{
        _cleanup_free_ char *yaml = pr_asprintf(sleeper, "noinfra");
        _cleanup_free_ char *file = write_manifest("noinfra", yaml);
        _cleanup_(state_freep) struct pod_state *st = NULL, *end = NULL;
        struct out up, ps, in, down;

        up = podrun_run("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = read_state("noinfra");
        cr_assert(state_proc_alive(&st->infra));
        cr_assert_eq(kill(st->infra.pid, SIGKILL), 0);
        wait_gone(&st->supervisor, 20);
        cr_assert_not(state_proc_alive(&st->containers[0].proc), "the container still runs");
        end = read_state("noinfra");
        cr_assert_eq(end->phase, STATE_PHASE_FAILED);
        cr_assert_str_eq(end->reason, "InfraExited");
        cr_assert(strstr(end->message, "infra"), "%s", end->message);
        cr_assert(end->containers[0].done);
        cr_assert_eq(end->containers[0].cur.state, STATE_CTR_TERMINATED);
        /* kubectl's STATUS shows the containers' reason over the pod's. */
        ps = podrun_run("ps -a");
        cr_assert(strstr(ps.text, "noinfra") && !strstr(ps.text, "Running"), "ps -a: %s", ps.text);
        in = podrun_run("inspect noinfra");
        cr_assert(strstr(in.text, "\"reason\":\"InfraExited\""), "%s", in.text);
        cr_assert(strstr(in.text, "\"phase\":\"Failed\""), "%s", in.text);
        down = podrun_run("down noinfra");
        cr_assert_eq(down.status, 0, "%s", down.text);
        assert_clean(root_dir, "noinfra", st);
        out_done(&up), out_done(&ps), out_done(&in), out_done(&down);
}

/* A PID 1 killed from outside is an exit like any other: recorded as
 * lastState (137, signal 9, Error) and restarted by the policy. */
Test(pod_faults, killed_pid1_is_restarted_and_recorded)
{
        _cleanup_free_ char *yaml = pr_asprintf(sleeper, "kill9");
        _cleanup_free_ char *file = write_manifest("kill9", yaml);
        _cleanup_(state_freep) struct pod_state *st = NULL, *now = NULL;
        struct state_container *c;
        uint64_t start;
        struct out up, in, down;
        json_object *o, *term;

        up = podrun_run("up -d --backoff-base 100ms %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = read_state("kill9");
        cr_assert_eq(kill(st->containers[0].proc.pid, SIGKILL), 0);
        start = pr_now_mono_usec();
        for (;;) {
                now = state_free(now);
                now = read_state("kill9");
                c = &now->containers[0];
                if (c->restart_count == 1 && c->cur.state == STATE_CTR_RUNNING && c->proc.pid)
                        break;
                cr_assert_lt(pr_now_mono_usec() - start, 10 * PR_USEC_PER_SEC,
                             "no restart after 10 s");
                usleep(20000);
        }
        cr_assert_neq(c->proc.pid, st->containers[0].proc.pid);
        cr_assert(state_proc_alive(&c->proc));
        cr_assert(c->has_last);
        cr_assert_eq(c->last.state, STATE_CTR_TERMINATED);
        cr_assert_eq(c->last.exit_code, 137);
        cr_assert_eq(c->last.signal, SIGKILL);
        cr_assert_str_eq(c->last.reason, "Error");
        in = podrun_run("inspect kill9");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        term = jget(o, "containerStatuses.0.lastState.terminated");
        cr_assert_not_null(term, "%s", in.text);
        cr_assert_eq(json_object_get_int(jget(term, "exitCode")), 137, "%s", in.text);
        cr_assert_eq(json_object_get_int(jget(term, "signal")), 9, "%s", in.text);
        cr_assert_eq(json_object_get_int(jget(o, "containerStatuses.0.restartCount")), 1);
        cr_assert_not_null(jget(o, "containerStatuses.0.state.running"), "%s", in.text);
        json_object_put(o);
        down = podrun_run("down kill9");
        cr_assert_eq(down.status, 0, "%s", down.text);
        assert_clean(root_dir, "kill9", now);
        out_done(&up), out_done(&in), out_done(&down);
}

/* ---- logs: back-pressure and memory --------------------------------- */

#define FLOOD_BYTES (1ull << 30)
#define FLOOD_LINE 128 /* bytes with its newline: 1 GiB is a whole number of lines */
/* The supervisor reads one 64 KiB chunk at a time and frames it into one
 * batch: a few MiB of heap at most, however much the container writes. */
#define FLOOD_RSS_BOUND (16ull << 20)

static uint64_t status_kib(pid_t pid, const char *field)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/status", (int)pid), *text = NULL;
        struct pr_error err = {};
        const char *p;

        if (pr_read_file(path, 1 << 16, &text, NULL, &err) < 0)
                return 0;
        p = strstr(text, field);
        return p ? strtoull(p + strlen(field) + 1, NULL, 10) : 0;
}

struct cri_count {
        uint64_t lines, text_bytes, bad;
};

/* Counts the CRI lines of one file, and those that are not a full stdout
 * line of FLOOD_LINE - 1 bytes of text. */
static void count_cri(const char *path, struct cri_count *n)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        static char line[64 * 1024];

        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                char *sp = strchr(line, ' ');
                size_t len = strlen(line);
                size_t text;

                n->lines++;
                if (!sp || len < (size_t)(sp - line) + 10 || line[len - 1] != '\n' ||
                    strncmp(sp, " stdout F ", 10) != 0) {
                        n->bad++;
                        continue;
                }
                text = len - (size_t)(sp - line) - 10 - 1;
                n->text_bytes += text;
                if (text != FLOOD_LINE - 1)
                        n->bad++;
        }
}

static bool sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
        return true;
#else
        return false;
#endif
}

/* 1 GiB of lines as fast as a container can write them: every line is in
 * the CRI file (the writer is slowed by the pipe, never dropped), and the
 * supervisor's memory does not grow with the volume. */
Test(pod_faults, log_flood_is_slowed_not_dropped, .timeout = 150)
{
        _cleanup_free_ char *yaml = NULL, *file = NULL, *log = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL, *end = NULL;
        char text[FLOOD_LINE];
        uint64_t first_rss = 0, max_rss = 0, hwm = 0;
        struct cri_count n = {};
        struct out bad, up, down;

        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        yaml = pr_asprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: flood\nspec:\n"
                           "  restartPolicy: Never\n  containers:\n"
                           "  - name: main\n    image: busybox\n"
                           "    command: [sh, -c, 'yes %s | head -c %llu']\n",
                           text, (unsigned long long)FLOOD_BYTES);
        file = write_manifest("flood", yaml);
        bad = podrun_run("up -d --log-max-size 1k %s", file);
        cr_assert_eq(bad.status, 2, "%s", bad.text);
        cr_assert(strstr(bad.text, "--log-max-size: '1k' is below 4Ki"), "%s", bad.text);
        out_done(&bad);
        bad = podrun_run("up -d --log-max-files 0 %s", file);
        cr_assert_eq(bad.status, 2, "%s", bad.text);
        out_done(&bad);
        /* One file holds it all: what is counted is what was written. */
        up = podrun_run("up -d --log-max-size 2Gi --log-max-files 1 %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = read_state("flood");
        while (state_proc_alive(&st->supervisor)) {
                uint64_t rss = status_kib(st->supervisor.pid, "VmRSS:") * 1024;
                uint64_t h = status_kib(st->supervisor.pid, "VmHWM:") * 1024;

                if (rss && !first_rss)
                        first_rss = rss;
                max_rss = rss > max_rss ? rss : max_rss;
                hwm = h > hwm ? h : hwm;
                usleep(50000);
        }
        end = read_state("flood");
        cr_assert_eq(end->phase, STATE_PHASE_SUCCEEDED);
        cr_assert_null(end->containers[0].log_error, "%s", end->containers[0].log_error);
        log = pr_asprintf("%s/0.log", end->containers[0].log_dir);
        count_cri(log, &n);
        cr_assert_eq(n.bad, 0, "%llu malformed lines", (unsigned long long)n.bad);
        cr_assert_eq(n.lines, FLOOD_BYTES / FLOOD_LINE, "%llu lines", (unsigned long long)n.lines);
        cr_assert_eq(n.text_bytes + n.lines, FLOOD_BYTES);
        cr_log_info("supervisor: VmRSS first %llu KiB, max %llu KiB, VmHWM %llu KiB",
                    (unsigned long long)first_rss / 1024, (unsigned long long)max_rss / 1024,
                    (unsigned long long)hwm / 1024);
        cr_assert_gt(first_rss, 0, "never saw the supervisor's memory");
        /* Under ASan the heap's quarantine and shadow make the absolute
         * figure meaningless: bound the growth instead. */
        if (sanitized())
                cr_assert_lt(max_rss - first_rss, FLOOD_RSS_BOUND, "grew by %llu KiB",
                             (unsigned long long)(max_rss - first_rss) / 1024);
        else
                cr_assert_lt(hwm, FLOOD_RSS_BOUND, "VmHWM %llu KiB",
                             (unsigned long long)hwm / 1024);
        down = podrun_run("down flood");
        cr_assert_eq(down.status, 0, "%s", down.text);
        assert_clean(root_dir, "flood", st);
        out_done(&up), out_done(&down);
}

/* ---- logs: a full disk ---------------------------------------------- */

/* The logs on a file system with no room: the output is dropped and
 * counted, the pod's status says so, and the supervisor and the container
 * carry on. */
Test(pod_faults, full_disk_is_reported_and_survived)
{
        _cleanup_free_ char *file = write_manifest(
            "full", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: full\nspec:\n"
                    "  terminationGracePeriodSeconds: 1\n  containers:\n"
                    "  - name: main\n    image: busybox\n"
                    "    command: [sh, -c, 'yes 0123456789abcdef | head -c 16000000; "
                    "echo done; exec sleep 600']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *now = NULL;
        struct pr_error err = {};
        uint64_t start;
        struct out up, ps, in, down;
        json_object *o;
        const char *msg;

        cr_assert_eq(pr_mkdir_p(small_root, 0755, &err), 0, "%s", err.msg);
        /* Room for the image and a few MiB of log: 16 MB of output cannot fit. */
        cr_assert_eq(mount("podrun-small", small_root, "tmpfs", 0, "size=8m,mode=0755"), 0,
                     "mount: %s", strerror(errno));
        import_busybox(small_root);
        up = podrun_root(small_root, "up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = read_state("full");
        start = pr_now_mono_usec();
        for (;;) {
                now = state_free(now);
                now = read_state("full");
                if (now->containers[0].log_error && now->containers[0].log_dropped > 0)
                        break;
                cr_assert_lt(pr_now_mono_usec() - start, 20 * PR_USEC_PER_SEC,
                             "no log failure recorded after 20 s");
                usleep(50000);
        }
        cr_assert(strstr(now->containers[0].log_error, "No space left on device"), "%s",
                  now->containers[0].log_error);
        in = podrun_root(small_root, "inspect full");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        msg = json_object_get_string(jget(o, "message"));
        cr_assert(msg && strstr(msg, "container 'main'") &&
                      strstr(msg, "No space left on device") &&
                      strstr(msg, "bytes of output dropped"),
                  "%s", in.text);
        cr_assert_str_eq(json_object_get_string(jget(o, "phase")), "Running");
        json_object_put(o);
        /* Still supervising: the container runs on, and so does the loop. */
        usleep(200000);
        now = state_free(now);
        now = read_state("full");
        cr_assert(state_proc_alive(&now->supervisor), "the supervisor died");
        cr_assert(state_proc_alive(&now->containers[0].proc), "the container died");
        cr_assert_eq(now->containers[0].cur.state, STATE_CTR_RUNNING);
        ps = podrun_root(small_root, "ps");
        cr_assert(strstr(ps.text, "Running"), "ps: %s", ps.text);
        down = podrun_root(small_root, "down full");
        cr_assert_eq(down.status, 0, "%s", down.text);
        assert_clean(small_root, "full", now);
        cr_assert_eq(umount2(small_root, 0), 0, "umount: %s", strerror(errno));
        out_done(&up), out_done(&ps), out_done(&in), out_done(&down);
}

/* ---- the foreground on a terminal ----------------------------------- */

/* Each container's lines are prefixed with its name in its own colour
 * when stdout is a terminal (here script(1)'s pseudo-terminal). */
Test(pod_faults, foreground_colours_per_container_on_a_terminal)
{
        _cleanup_free_ char *file = write_manifest(
            "tty", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tty\nspec:\n"
                   "  restartPolicy: Never\n  containers:\n"
                   "  - name: web\n    image: busybox\n    command: [sh, -c, 'echo from web']\n"
                   "  - name: db\n    image: busybox\n"
                   "    command: [sh, -c, 'sleep 0.2; echo from db']\n");
        _cleanup_free_ char *cmd = NULL;
        struct out fg;

        cmd = pr_asprintf("timeout -s KILL 60 script -qefc 'env -u NO_COLOR "
                          "PODRUN_NETNS_DIR=%s PODRUN_CGROUP_PARENT=%s %s --root %s "
                          "--run-dir %s up %s' /dev/null </dev/null 2>&1",
                          netns_dir, cg_parent, podrun, root_dir, run_dir, file);
        fg = run_shell(cmd);
        cr_assert_eq(fg.status, 0, "%s", fg.text);
        cr_assert(strstr(fg.text, "\033[36mweb |\033[0m from web"), "%s", fg.text);
        cr_assert(strstr(fg.text, "\033[33mdb  |\033[0m from db"), "%s", fg.text);
        assert_clean(root_dir, "tty", NULL);
        out_done(&fg);
}
