/* Probes and lifecycle hooks end to end, through the real `podrun` binary:
 * readiness flipping ready (ps, inspect), tcpSocket and httpGet against
 * servers inside the pod, exec probes, a failing liveness probe restarting
 * its container, a startup probe holding liveness back, preStop before the
 * stop signal and within the grace period, a failed postStart killing its
 * container. Each test runs in a mount and network namespace of its own
 * (made in .init), with its own --root, --run-dir and netns dir under /tmp,
 * and leaves nothing behind. Runs as root; skips otherwise. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/state.h"
#include "tests/integration/e2e_common.h"

static void setup(void)
{
        e2e_setup("probe");
}

TestSuite(probe_e2e, .init = setup, .fini = e2e_teardown, .timeout = 60);

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
                struct pod_state *st = e2e_read_state(pod);
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
        _cleanup_free_ char *file = e2e_write_manifest(name, manifest);
        struct e2e_out o = e2e_podrun("up -d --backoff-base 100ms %s", file);

        cr_assert_eq(o.status, 0, "up: %s", o.text);
        e2e_out_done(&o);
        return e2e_read_state(name);
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
        struct e2e_out ps, in;
        json_object *o;

        cr_assert_not(state_find_container(st, "web")->ready, "web is ready before its probe");
        ps = e2e_podrun("ps");
        cr_assert(strstr(ps.text, "not ready"), "ps: %s", ps.text);
        web = wait_state("ready", "web", is_ready, 20, "ready");
        tcp = wait_state("ready", "tcp", is_ready, 20, "ready");
        e2e_out_done(&ps);
        ps = e2e_podrun("ps");
        cr_assert(strstr(ps.text, "2/2"), "ps: %s", ps.text);
        in = e2e_podrun("inspect ready");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.4.type")), "Ready");
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.4.status")), "True");
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.3.type")),
                         "ContainersReady");
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.3.status")), "True");
        json_object_put(o);
        /* Long enough for a few liveness probes past their initial delay. */
        sleep(4);
        later = e2e_read_state("ready");
        cr_assert_eq(state_find_container(later, "web")->restart_count, 0, "probes: %s",
                     state_find_container(later, "web")->probes);
        cr_assert(state_find_container(later, "web")->ready);
        e2e_down(e2e_root_dir, "ready", st);
        e2e_out_done(&ps), e2e_out_done(&in);
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
        struct e2e_out ps;

        later = wait_state("notfound", "web", has_404, 20, "failing with 404");
        cr_assert_not(state_find_container(later, "web")->ready);
        cr_assert_eq(state_find_container(later, "web")->restart_count, 0);
        ps = e2e_podrun("ps");
        cr_assert(strstr(ps.text, "Readiness probe failed: HTTP probe failed with statuscode: 404"),
                  "ps: %s", ps.text);
        e2e_out_done(&ps);
        e2e_down(e2e_root_dir, "notfound", st);
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
        e2e_down(e2e_root_dir, "live", st);
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
        e2e_down(e2e_root_dir, "startup", st);
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

        e2e_down(e2e_root_dir, name, st);
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
        _cleanup_free_ char *dir = pr_asprintf("%s/d", e2e_tmp), *order = NULL, *m = NULL;
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
        _cleanup_free_ char *dir = pr_asprintf("%s/d", e2e_tmp), *order = NULL, *m = NULL;
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
        e2e_down(e2e_root_dir, "post", st);
}

/* kubelet starts what follows a sidecar only once the sidecar's startup
 * probe has passed. */
Test(probe_e2e, sidecar_startup_probe_holds_the_next_container)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/d", e2e_tmp), *m = NULL, *path = NULL;
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
        e2e_down(e2e_root_dir, "side", st);
}

/* grpc is not supported: `up` says so, and the probe is as if absent. */
Test(probe_e2e, grpc_probe_is_ignored_with_a_warning)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "grpc", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: grpc\n"
                    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
                    "  - name: app\n    image: busybox\n    command: [sleep, '600']\n"
                    "    readinessProbe:\n      grpc:\n        port: 9000\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *later = NULL;
        struct e2e_out o = e2e_podrun("up -d %s", file);

        cr_assert_eq(o.status, 0, "up: %s", o.text);
        cr_assert(strstr(o.text, "warning: pod 'grpc': container 'app': readinessProbe: grpc "
                                 "handlers are not supported; it is ignored"),
                  "%s", o.text);
        st = e2e_read_state("grpc");
        later = wait_state("grpc", "app", is_ready, 10, "ready");
        e2e_down(e2e_root_dir, "grpc", st);
        e2e_out_done(&o);
}
