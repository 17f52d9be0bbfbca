/* Probes and lifecycle hooks end to end, through the real `podrun` binary:
 * readiness flipping ready (ps, inspect), tcpSocket and httpGet against
 * servers inside the pod, exec probes, a failing liveness probe restarting
 * its container, a startup probe holding liveness back, preStop before the
 * stop signal and within the grace period, a failed postStart killing its
 * container. Each test runs in a mount and network namespace of its own
 * (made in .init), with its own --root, --run-dir and netns dir under /tmp,
 * and leaves nothing behind. Runs as root; skips otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
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
#include "pod/cgroup.h"
#include "pod/plan.h"
#include "pod/state.h"
#include "pod/supervisor.h"
#include "specs/specs.h"

static char tmp[64];
static char cg_parent[64];
static char *podrun, *root_dir, *run_dir, *netns_dir;

struct out {
        int status;
        char *text;
};

static void out_done(struct out *o)
{
        free(o->text);
}

/* Runs podrun with the test's dirs; stdout and stderr together. */
static struct out podrun_run(const char *fmt, ...)
{
        struct out o = {};
        _cleanup_free_ char *args = NULL, *cmd = NULL;
        size_t len = 0, cap = 4096;
        va_list ap;
        FILE *f;
        int n, st;

        va_start(ap, fmt);
        n = vasprintf(&args, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0);
        cmd = pr_asprintf("PODRUN_NETNS_DIR=%s PODRUN_CGROUP_PARENT=%s %s --root %s --run-dir %s "
                          "%s 2>&1",
                          netns_dir, cg_parent, podrun, root_dir, run_dir, args);
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

static char *write_manifest(const char *name, const char *text)
{
        char *path = pr_asprintf("%s/%s.yaml", tmp, name);
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
        return path;
}

static void setup(void)
{
        const char *build = getenv("PODRUN_BUILD_DIR"), *src = getenv("PODRUN_SOURCE_DIR");
        _cleanup_free_ char *import = NULL;
        struct pr_error err = {};

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build || !src)
                cr_skip_test("PODRUN_BUILD_DIR and PODRUN_SOURCE_DIR are not set");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        /* Relative: the pods' cgroups nest beneath this test's own. */
        snprintf(cg_parent, sizeof(cg_parent), "podrun-probe-%d", (int)getpid());
        snprintf(tmp, sizeof(tmp), "/tmp/podrun-probe-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        podrun = pr_asprintf("%s/pod/cli/podrun", build);
        root_dir = pr_asprintf("%s/root", tmp);
        run_dir = pr_asprintf("%s/run", tmp);
        netns_dir = pr_asprintf("%s/netns", tmp);
        cr_assert_eq(pr_mkdir_p(run_dir, 0755, &err), 0);
        import = pr_asprintf("%s/.ci/busybox-image %s %s >/dev/null", src, podrun, root_dir);
        cr_assert_eq(system(import), 0, "importing the busybox image failed");
}

/* Whatever a failed test left: pods taken down, then the directory. */
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
        (void)pr_rm_rf(tmp, &err);
        rmdir_parent = pr_asprintf("find /sys/fs/cgroup -maxdepth 6 -type d -name '%s' "
                                   "-exec rmdir {} + 2>/dev/null",
                                   cg_parent);
        (void)!system(rmdir_parent);
        free(podrun);
        free(root_dir);
        free(run_dir);
        free(netns_dir);
}

TestSuite(probe_e2e, .init = setup, .fini = teardown, .timeout = 60);

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

/* After down: no state, no mount under our dirs, and no recorded process. */
static void assert_clean(const char *name, const struct pod_state *st)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(run_dir, name);
        _cleanup_free_ char *logs = pr_asprintf("%s/pods/%s", root_dir, name);
        _cleanup_free_ char *netns = pr_asprintf("%s/podrun-%s", netns_dir, name);

        cr_assert_eq(access(pod_dir, F_OK), -1, "'%s' is left", pod_dir);
        cr_assert_eq(access(logs, F_OK), -1, "'%s' is left", logs);
        cr_assert_eq(access(netns, F_OK), -1, "'%s' is left", netns);
        cr_assert_not(mounts_mention(tmp), "a mount under '%s' is left", tmp);
        if (!st)
                return;
        cr_assert_not(state_proc_alive(&st->supervisor), "the supervisor is still running");
        cr_assert_not(state_proc_alive(&st->infra), "the infra is still running");
        for (size_t i = 0; i < st->n_containers; i++)
                cr_assert_not(state_proc_alive(&st->containers[i].proc),
                              "container '%s' is still running", st->containers[i].name);
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

static double now_sec(void)
{
        return (double)pr_now_mono_usec() / 1e6;
}

/* Polls the state file until the container's field is as wanted; returns
 * the state (caller frees), or fails after timeout_sec. */
static struct pod_state *wait_state(const char *pod, const char *ctr,
                                    bool (*ok)(const struct state_container *c), double timeout_sec,
                                    const char *what)
{
        double end = now_sec() + timeout_sec;

        for (;;) {
                struct pod_state *st = read_state(pod);
                struct state_container *c = state_find_container(st, ctr);

                cr_assert_not_null(c);
                if (ok(c))
                        return st;
                if (now_sec() > end)
                        cr_assert_fail("container '%s': not %s after %.0f s (ready %d, restarts "
                                       "%u, probes '%s')",
                                       ctr, what, timeout_sec, c->ready, c->restart_count,
                                       c->probes ? c->probes : "");
                state_free(st);
                usleep(100000);
        }
}

static bool is_ready(const struct state_container *c)
{
        return c->ready;
}

static bool restarted_twice(const struct state_container *c)
{
        return c->restart_count >= 2;
}

static bool has_404(const struct state_container *c)
{
        return c->probes && strstr(c->probes, "HTTP probe failed with statuscode: 404");
}

static bool is_done(const struct state_container *c)
{
        return c->done;
}

static struct pod_state *up(const char *name, const char *manifest)
{
        _cleanup_free_ char *file = write_manifest(name, manifest);
        struct out o = podrun_run("up -d --backoff-base 100ms %s", file);

        cr_assert_eq(o.status, 0, "up: %s", o.text);
        out_done(&o);
        return read_state(name);
}

static void down(const char *name, const struct pod_state *st)
{
        struct out o = podrun_run("down %s", name);

        cr_assert_eq(o.status, 0, "down: %s", o.text);
        assert_clean(name, st);
        out_done(&o);
}

static const char ready_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ready\n"
    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    "  - name: web\n    image: busybox\n"
    "    command: [sh, -c, 'sleep 2; echo ok > /tmp/healthz; httpd -p 8080 -h /tmp; "
    "exec sleep 600']\n"
    "    ports:\n    - name: http\n      containerPort: 8080\n"
    "    readinessProbe:\n      exec:\n        command: [test, -e, /tmp/healthz]\n"
    "      periodSeconds: 1\n"
    "    livenessProbe:\n      httpGet:\n        path: /healthz\n        port: http\n"
    "      initialDelaySeconds: 3\n      periodSeconds: 1\n      failureThreshold: 2\n"
    "  - name: tcp\n    image: busybox\n"
    "    command: [sh, -c, 'sleep 1; exec nc -ll -p 9000 -e true']\n"
    "    readinessProbe:\n      tcpSocket:\n        port: 9000\n      periodSeconds: 1\n";

/* Readiness starts false and turns true when the file appears (exec) and
 * the port listens (tcpSocket); the httpGet liveness probe passes. */
Test(probe_e2e, readiness_flips_ready_and_http_liveness_passes)
{
        _cleanup_(state_freep) struct pod_state *st = up("ready", ready_pod);
        _cleanup_(state_freep) struct pod_state *web = NULL, *tcp = NULL, *later = NULL;
        struct out ps, in;
        json_object *o;

        cr_assert_not(state_find_container(st, "web")->ready, "web is ready before its probe");
        ps = podrun_run("ps");
        cr_assert(strstr(ps.text, "not ready"), "ps: %s", ps.text);
        web = wait_state("ready", "web", is_ready, 20, "ready");
        tcp = wait_state("ready", "tcp", is_ready, 20, "ready");
        out_done(&ps);
        ps = podrun_run("ps");
        cr_assert(strstr(ps.text, "2/2"), "ps: %s", ps.text);
        in = podrun_run("inspect ready");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.4.type")), "Ready");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.4.status")), "True");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.3.type")), "ContainersReady");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.3.status")), "True");
        json_object_put(o);
        /* Long enough for a few liveness probes past their initial delay. */
        sleep(4);
        later = read_state("ready");
        cr_assert_eq(state_find_container(later, "web")->restart_count, 0, "probes: %s",
                     state_find_container(later, "web")->probes);
        cr_assert(state_find_container(later, "web")->ready);
        down("ready", st);
        out_done(&ps), out_done(&in);
}

static const char notfound_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: notfound\n"
    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    "  - name: web\n    image: busybox\n    command: [httpd, -f, -p, '8080', -h, /tmp]\n"
    "    readinessProbe:\n      httpGet:\n        path: /nosuch\n        port: 8080\n"
    "        httpHeaders:\n        - name: X-Probe\n          value: podrun\n"
    "      periodSeconds: 1\n";

/* A 404 is a failure: never ready, and the state says why. */
Test(probe_e2e, http_error_status_is_not_ready)
{
        _cleanup_(state_freep) struct pod_state *st = up("notfound", notfound_pod);
        _cleanup_(state_freep) struct pod_state *later = NULL;
        struct out ps;

        later = wait_state("notfound", "web", has_404, 20, "failing with 404");
        cr_assert_not(state_find_container(later, "web")->ready);
        cr_assert_eq(state_find_container(later, "web")->restart_count, 0);
        ps = podrun_run("ps");
        cr_assert(strstr(ps.text, "Readiness probe failed: HTTP probe failed with statuscode: 404"),
                  "ps: %s", ps.text);
        out_done(&ps);
        down("notfound", st);
}

static const char live_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: live\n"
    "spec:\n  terminationGracePeriodSeconds: 5\n  containers:\n"
    "  - name: app\n    image: busybox\n"
    "    command: [sh, -c, 'trap \"exit 0\" TERM; while :; do sleep 0.1; done']\n"
    "    livenessProbe:\n      exec:\n        command: [test, -e, /tmp/nosuch]\n"
    "      periodSeconds: 1\n      failureThreshold: 2\n"
    "      terminationGracePeriodSeconds: 1\n";

Test(probe_e2e, failing_liveness_restarts_the_container)
{
        _cleanup_(state_freep) struct pod_state *st = up("live", live_pod);
        _cleanup_(state_freep) struct pod_state *later = NULL;
        struct state_container *c;

        later = wait_state("live", "app", restarted_twice, 30, "restarted twice");
        c = state_find_container(later, "app");
        cr_assert_not_null(c->probes);
        cr_assert(strstr(c->probes, "Container app failed liveness probe, will be restarted"), "%s",
                  c->probes);
        cr_assert(strstr(c->probes, "test -e /tmp/nosuch"), "%s", c->probes);
        cr_assert(c->has_last);
        cr_assert_eq(c->last.state, STATE_CTR_TERMINATED);
        down("live", st);
}

static const char startup_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: startup\n"
    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    "  - name: slow\n    image: busybox\n"
    "    command: [sh, -c, 'sleep 3; touch /tmp/up; exec sleep 600']\n"
    "    startupProbe:\n      exec:\n        command: [test, -e, /tmp/up]\n"
    "      periodSeconds: 1\n      failureThreshold: 30\n"
    "    livenessProbe:\n      exec:\n        command: [test, -e, /tmp/up]\n"
    "      periodSeconds: 1\n      failureThreshold: 1\n"
    "  - name: never\n    image: busybox\n    command: [sleep, '600']\n"
    "    startupProbe:\n      exec:\n        command: [test, -e, /tmp/never]\n"
    "      periodSeconds: 1\n      failureThreshold: 2\n"
    "    readinessProbe:\n      exec:\n        command: ['true']\n      periodSeconds: 1\n";

/* Without the startup probe's hold, the liveness probe (one failure) would
 * kill `slow` before its file exists; `never` fails its startup probe and
 * is restarted, never ready. */
Test(probe_e2e, startup_probe_holds_liveness_back)
{
        _cleanup_(state_freep) struct pod_state *st = up("startup", startup_pod);
        _cleanup_(state_freep) struct pod_state *slow = NULL, *never = NULL;
        struct state_container *c;

        slow = wait_state("startup", "slow", is_ready, 20, "ready");
        cr_assert_eq(state_find_container(slow, "slow")->restart_count, 0);
        never = wait_state("startup", "never", restarted_twice, 30, "restarted twice");
        c = state_find_container(never, "never");
        cr_assert(strstr(c->probes, "Container never failed startup probe, will be restarted"),
                  "%s", c->probes);
        cr_assert_not(c->ready);
        down("startup", st);
}

static char *stop_pod(const char *dir, const char *pre_stop, unsigned grace)
{
        return pr_asprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: stop\n"
                           "spec:\n  terminationGracePeriodSeconds: %u\n"
                           "  volumes:\n  - name: d\n    hostPath:\n      path: %s\n"
                           "  containers:\n  - name: app\n    image: busybox\n"
                           "    command: [sh, -c, 'trap \"echo term >> /d/order; exit 0\" TERM; "
                           "while :; do sleep 0.1; done']\n"
                           "    volumeMounts:\n    - name: d\n      mountPath: /d\n"
                           "    lifecycle:\n      preStop:\n%s",
                           grace, dir, pre_stop);
}

static double timed_down(const char *name, const struct pod_state *st)
{
        double t0 = now_sec();

        down(name, st);
        return now_sec() - t0;
}

static char *read_order(const char *dir)
{
        _cleanup_free_ char *path = pr_asprintf("%s/order", dir);
        struct pr_error err = {};
        char *text = NULL;

        cr_assert_eq(pr_read_file(path, 4096, &text, NULL, &err), 0, "%s", err.msg);
        return text;
}

/* preStop runs first, and its time counts in the grace period. */
Test(probe_e2e, pre_stop_runs_before_the_stop_signal)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/d", tmp), *order = NULL, *m = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error err = {};
        double took;

        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0);
        m = stop_pod(dir,
                     "        exec:\n          command: [sh, -c, 'echo prestop >> /d/order; "
                     "sleep 2']\n",
                     20);
        st = up("stop", m);
        usleep(300000); /* the shell's trap */
        took = timed_down("stop", st);
        order = read_order(dir);
        cr_assert_str_eq(order, "prestop\nterm\n");
        cr_assert(took >= 1.9 && took < 15, "down took %.1f s", took);
}

/* A preStop hook that outlasts the grace period is cut short; the stop
 * signal still comes, with 2 s before SIGKILL. */
Test(probe_e2e, slow_pre_stop_is_cut_at_the_grace_period)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/d", tmp), *order = NULL, *m = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error err = {};
        double took;

        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0);
        m = stop_pod(dir, "        exec:\n          command: [sleep, '30']\n", 2);
        st = up("stop", m);
        usleep(300000);
        took = timed_down("stop", st);
        order = read_order(dir);
        cr_assert_str_eq(order, "term\n");
        cr_assert(took >= 1.9 && took < 15, "down took %.1f s", took);
}

static const char post_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: post\n"
    "spec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    "  - name: bad\n    image: busybox\n"
    "    command: [sh, -c, 'trap \"exit 0\" TERM; while :; do sleep 0.1; done']\n"
    "    lifecycle:\n      postStart:\n        exec:\n"
    "          command: [sh, -c, 'echo no config; exit 3']\n"
    "  - name: good\n    image: busybox\n    command: [sleep, '600']\n"
    "    lifecycle:\n      postStart:\n        exec:\n          command: ['true']\n";

/* A failed postStart kills the container (FailedPostStartHook); it is
 * never ready. */
Test(probe_e2e, failed_post_start_kills_the_container)
{
        _cleanup_(state_freep) struct pod_state *st = up("post", post_pod);
        _cleanup_(state_freep) struct pod_state *later = NULL;
        struct state_container *c;

        later = wait_state("post", "bad", is_done, 20, "done");
        c = state_find_container(later, "bad");
        cr_assert_eq(c->cur.state, STATE_CTR_TERMINATED);
        cr_assert_not(c->ready);
        cr_assert(strstr(c->probes, "FailedPostStartHook"), "%s", c->probes);
        cr_assert(strstr(c->probes, "no config"), "%s", c->probes);
        state_free(later);
        later = wait_state("post", "good", is_ready, 20, "ready");
        down("post", st);
}

/* kubelet starts what follows a sidecar only once the sidecar's startup
 * probe has passed. */
Test(probe_e2e, sidecar_startup_probe_holds_the_next_container)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/d", tmp), *m = NULL, *path = NULL;
        _cleanup_free_ char *saw = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0);
        m = pr_asprintf(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: side\n"
            "spec:\n  terminationGracePeriodSeconds: 1\n"
            "  volumes:\n  - name: d\n    hostPath:\n      path: %s\n"
            "  initContainers:\n  - name: proxy\n    image: busybox\n    restartPolicy: Always\n"
            "    command: [sh, -c, 'sleep 2; touch /d/up; exec sleep 600']\n"
            "    volumeMounts:\n    - name: d\n      mountPath: /d\n"
            "    startupProbe:\n      exec:\n        command: [test, -e, /d/up]\n"
            "      periodSeconds: 1\n      failureThreshold: 30\n"
            "  containers:\n  - name: app\n    image: busybox\n"
            "    command: [sh, -c, 'if test -e /d/up; then echo yes; else echo no; fi > /d/saw; "
            "exec sleep 600']\n"
            "    volumeMounts:\n    - name: d\n      mountPath: /d\n",
            dir);
        st = up("side", m);
        path = pr_asprintf("%s/saw", dir);
        for (int i = 0; i < 100 && access(path, F_OK) < 0; i++)
                usleep(100000);
        cr_assert_eq(pr_read_file(path, 64, &saw, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(saw, "yes\n");
        down("side", st);
}

/* grpc is not supported: `up` says so, and the probe is as if absent. */
Test(probe_e2e, grpc_probe_is_ignored_with_a_warning)
{
        _cleanup_free_ char *file = write_manifest(
            "grpc", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: grpc\n"
                    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
                    "  - name: app\n    image: busybox\n    command: [sleep, '600']\n"
                    "    readinessProbe:\n      grpc:\n        port: 9000\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *later = NULL;
        struct out o = podrun_run("up -d %s", file);

        cr_assert_eq(o.status, 0, "up: %s", o.text);
        cr_assert(strstr(o.text, "warning: pod 'grpc': container 'app': readinessProbe: grpc "
                                 "handlers are not supported; it is ignored"),
                  "%s", o.text);
        st = read_state("grpc");
        later = wait_state("grpc", "app", is_ready, 10, "ready");
        down("grpc", st);
        out_done(&o);
}
