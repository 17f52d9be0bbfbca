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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/state.h"
#include "tests/integration/e2e_common.h"

static char *small_root;

static void setup(void)
{
        e2e_setup("faults");
        small_root = pr_asprintf("%s/small", e2e_tmp);
}

/* e2e_teardown() also detaches the small root's tmpfs. */
static void teardown(void)
{
        e2e_teardown();
        free(small_root);
}

TestSuite(pod_faults, .init = setup, .fini = teardown, .timeout = 60);

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
        _cleanup_free_ char *file = e2e_write_manifest("noinfra", yaml);
        _cleanup_(state_freep) struct pod_state *st = NULL, *end = NULL;
        struct e2e_out up, ps, in;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("noinfra");
        cr_assert(state_proc_alive(&st->infra));
        cr_assert_eq(kill(st->infra.pid, SIGKILL), 0);
        e2e_wait_gone(&st->supervisor, 20);
        cr_assert_not(state_proc_alive(&st->containers[0].proc), "the container still runs");
        end = e2e_read_state("noinfra");
        cr_assert_eq(end->phase, STATE_PHASE_FAILED);
        cr_assert_str_eq(end->reason, "InfraExited");
        cr_assert(strstr(end->message, "infra"), "%s", end->message);
        cr_assert(end->containers[0].done);
        cr_assert_eq(end->containers[0].cur.state, STATE_CTR_TERMINATED);
        /* kubectl's STATUS shows the containers' reason over the pod's. */
        ps = e2e_podrun("ps -a");
        cr_assert(strstr(ps.text, "noinfra") && !strstr(ps.text, "Running"), "ps -a: %s", ps.text);
        in = e2e_podrun("inspect noinfra");
        cr_assert(strstr(in.text, "\"reason\":\"InfraExited\""), "%s", in.text);
        cr_assert(strstr(in.text, "\"phase\":\"Failed\""), "%s", in.text);
        e2e_down(e2e_root_dir, "noinfra", st);
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&in);
}

static bool restarted_once(const struct pod_state *st)
{
        const struct state_container *c = &st->containers[0];

        return c->restart_count == 1 && c->cur.state == STATE_CTR_RUNNING && c->proc.pid;
}

/* A PID 1 killed from outside is an exit like any other: recorded as
 * lastState (137, signal 9, Error) and restarted by the policy. */
Test(pod_faults, killed_pid1_is_restarted_and_recorded)
{
        _cleanup_free_ char *yaml = pr_asprintf(sleeper, "kill9");
        _cleanup_free_ char *file = e2e_write_manifest("kill9", yaml);
        _cleanup_(state_freep) struct pod_state *st = NULL, *now = NULL;
        struct state_container *c;
        struct e2e_out up, in;
        json_object *o, *term;

        up = e2e_podrun("up -d --backoff-base 100ms %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("kill9");
        cr_assert_eq(kill(st->containers[0].proc.pid, SIGKILL), 0);
        now = e2e_wait_state("kill9", restarted_once, 10, "no restart");
        c = &now->containers[0];
        cr_assert_neq(c->proc.pid, st->containers[0].proc.pid);
        cr_assert(state_proc_alive(&c->proc));
        cr_assert(c->has_last);
        cr_assert_eq(c->last.state, STATE_CTR_TERMINATED);
        cr_assert_eq(c->last.exit_code, 137);
        cr_assert_eq(c->last.signal, SIGKILL);
        cr_assert_str_eq(c->last.reason, "Error");
        in = e2e_podrun("inspect kill9");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        term = e2e_jget(o, "containerStatuses.0.lastState.terminated");
        cr_assert_not_null(term, "%s", in.text);
        cr_assert_eq(json_object_get_int(e2e_jget(term, "exitCode")), 137, "%s", in.text);
        cr_assert_eq(json_object_get_int(e2e_jget(term, "signal")), 9, "%s", in.text);
        cr_assert_eq(json_object_get_int(e2e_jget(o, "containerStatuses.0.restartCount")), 1);
        cr_assert_not_null(e2e_jget(o, "containerStatuses.0.state.running"), "%s", in.text);
        json_object_put(o);
        e2e_down(e2e_root_dir, "kill9", now);
        e2e_out_done(&up), e2e_out_done(&in);
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
        struct e2e_out bad, up;

        memset(text, 'x', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        yaml = pr_asprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: flood\nspec:\n"
                           "  restartPolicy: Never\n  containers:\n"
                           "  - name: main\n    image: busybox\n"
                           "    command: [sh, -c, 'yes %s | head -c %llu']\n",
                           text, (unsigned long long)FLOOD_BYTES);
        file = e2e_write_manifest("flood", yaml);
        bad = e2e_podrun("up -d --log-max-size 1k %s", file);
        cr_assert_eq(bad.status, 2, "%s", bad.text);
        cr_assert(strstr(bad.text, "--log-max-size: '1k' is below 4Ki"), "%s", bad.text);
        e2e_out_done(&bad);
        bad = e2e_podrun("up -d --log-max-files 0 %s", file);
        cr_assert_eq(bad.status, 2, "%s", bad.text);
        e2e_out_done(&bad);
        /* One file holds it all: what is counted is what was written. */
        up = e2e_podrun("up -d --log-max-size 2Gi --log-max-files 1 %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("flood");
        while (state_proc_alive(&st->supervisor)) {
                uint64_t rss = status_kib(st->supervisor.pid, "VmRSS:") * 1024;
                uint64_t h = status_kib(st->supervisor.pid, "VmHWM:") * 1024;

                if (rss && !first_rss)
                        first_rss = rss;
                max_rss = rss > max_rss ? rss : max_rss;
                hwm = h > hwm ? h : hwm;
                usleep(50000);
        }
        end = e2e_read_state("flood");
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
        e2e_down(e2e_root_dir, "flood", st);
        e2e_out_done(&up);
}

/* ---- logs: a full disk ---------------------------------------------- */

static bool log_failed(const struct pod_state *st)
{
        return st->containers[0].log_error && st->containers[0].log_dropped > 0;
}

/* The logs on a file system with no room: the output is dropped and
 * counted, the pod's status says so, and the supervisor and the container
 * carry on. */
Test(pod_faults, full_disk_is_reported_and_survived)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "full", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: full\nspec:\n"
                    "  terminationGracePeriodSeconds: 1\n  containers:\n"
                    "  - name: main\n    image: busybox\n"
                    "    command: [sh, -c, 'yes 0123456789abcdef | head -c 16000000; "
                    "echo done; exec sleep 600']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *now = NULL;
        struct pr_error err = {};
        struct e2e_out up, ps, in;
        json_object *o;
        const char *msg;

        cr_assert_eq(pr_mkdir_p(small_root, 0755, &err), 0, "%s", err.msg);
        /* Room for the image and a few MiB of log: 16 MB of output cannot fit. */
        cr_assert_eq(mount("podrun-small", small_root, "tmpfs", 0, "size=8m,mode=0755"), 0,
                     "mount: %s", strerror(errno));
        e2e_import_busybox(small_root);
        up = e2e_podrun_root(small_root, "up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("full");
        now = e2e_wait_state("full", log_failed, 20, "no log failure recorded");
        cr_assert(strstr(now->containers[0].log_error, "No space left on device"), "%s",
                  now->containers[0].log_error);
        in = e2e_podrun_root(small_root, "inspect full");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        msg = json_object_get_string(e2e_jget(o, "message"));
        cr_assert(msg && strstr(msg, "container 'main'") &&
                      strstr(msg, "No space left on device") &&
                      strstr(msg, "bytes of output dropped"),
                  "%s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "phase")), "Running");
        json_object_put(o);
        /* Still supervising: the container runs on, and so does the loop. */
        usleep(200000);
        now = state_free(now);
        now = e2e_read_state("full");
        cr_assert(state_proc_alive(&now->supervisor), "the supervisor died");
        cr_assert(state_proc_alive(&now->containers[0].proc), "the container died");
        cr_assert_eq(now->containers[0].cur.state, STATE_CTR_RUNNING);
        ps = e2e_podrun_root(small_root, "ps");
        cr_assert(strstr(ps.text, "Running"), "ps: %s", ps.text);
        e2e_down(small_root, "full", now);
        cr_assert_eq(umount2(small_root, 0), 0, "umount: %s", strerror(errno));
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&in);
}

/* ---- the foreground on a terminal ----------------------------------- */

/* Each container's lines are prefixed with its name in its own colour
 * when stdout is a terminal (here script(1)'s pseudo-terminal). */
Test(pod_faults, foreground_colours_per_container_on_a_terminal)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "tty", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tty\nspec:\n"
                   "  restartPolicy: Never\n  containers:\n"
                   "  - name: web\n    image: busybox\n    command: [sh, -c, 'echo from web']\n"
                   "  - name: db\n    image: busybox\n"
                   "    command: [sh, -c, 'sleep 0.2; echo from db']\n");
        _cleanup_free_ char *prefix = e2e_podrun_prefix(e2e_root_dir), *cmd = NULL;
        struct e2e_out fg;

        cmd = pr_asprintf("timeout -s KILL 60 script -qefc 'env -u NO_COLOR %s up %s' /dev/null "
                          "</dev/null 2>&1",
                          prefix, file);
        fg = e2e_shell(cmd);
        cr_assert_eq(fg.status, 0, "%s", fg.text);
        cr_assert(strstr(fg.text, "\033[36mweb |\033[0m from web"), "%s", fg.text);
        cr_assert(strstr(fg.text, "\033[33mdb  |\033[0m from db"), "%s", fg.text);
        e2e_assert_clean(e2e_root_dir, "tty", NULL);
        e2e_out_done(&fg);
}
