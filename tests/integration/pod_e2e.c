/* End to end through the real `podrun` binary: up -d, ps, inspect, down,
 * start errors, names in use, --replace, a killed supervisor and a vanished
 * run dir. Each test runs in a mount and network namespace of its own (made
 * in .init), with its own --root, --run-dir and netns dir under /tmp, and
 * leaves nothing behind. Runs as root; skips otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "tests/integration/e2e_common.h"

static void setup(void)
{
        e2e_setup("e2e");
}

TestSuite(pod_e2e, .init = setup, .fini = e2e_teardown, .timeout = 60);

static const char one_pod[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: one\n"
                              "spec:\n  terminationGracePeriodSeconds: 1\n"
                              "  containers:\n  - name: main\n    image: busybox\n"
                              "    command: [sh, -c, 'echo hello; exec sleep 600']\n";

static const char three_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: three\n"
    "spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    "  - name: a\n    image: busybox\n    command: [sleep, '600']\n"
    "  - name: b\n    image: busybox\n    command: [sh, -c, 'trap \"exit 0\" TERM; "
    "while :; do sleep 0.1; done']\n"
    "  - name: c\n    image: busybox\n    args: [sh, -c, 'exec sleep 600']\n";

static void up_ps_inspect_down(const char *name, const char *manifest, unsigned n)
{
        _cleanup_free_ char *file = e2e_write_manifest(name, manifest), *ready = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, ps, in;
        json_object *o;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "up: %s", up.text);
        cr_assert(pr_startswith(up.text, name), "up printed '%s'", up.text);
        ps = e2e_podrun("ps");
        cr_assert_eq(ps.status, 0, "%s", ps.text);
        ready = pr_asprintf("%u/%u", n, n);
        cr_assert(strstr(ps.text, "Running") && strstr(ps.text, ready), "ps: %s", ps.text);
        in = e2e_podrun("inspect %s", name);
        cr_assert_eq(in.status, 0, "%s", in.text);
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "inspect printed: %s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "phase")), "Running");
        cr_assert_eq(json_object_array_length(e2e_jget(o, "containerStatuses")), n);
        for (unsigned i = 0; i < n; i++) {
                json_object *c = json_object_array_get_idx(e2e_jget(o, "containerStatuses"), i);
                _cleanup_free_ char *id = NULL;

                cr_assert_not_null(e2e_jget(c, "state.running.startedAt"), "%s", in.text);
                cr_assert(json_object_get_boolean(e2e_jget(c, "ready")));
                cr_assert_eq(json_object_get_int(e2e_jget(c, "restartCount")), 0);
                id = pr_asprintf("podrun://%s/%s/0", name,
                                 json_object_get_string(e2e_jget(c, "name")));
                cr_assert_str_eq(json_object_get_string(e2e_jget(c, "containerID")), id);
                cr_assert_str_eq(json_object_get_string(e2e_jget(c, "image")),
                                 "docker.io/library/busybox:latest");
        }
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.4.type")), "Ready");
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "conditions.4.status")), "True");
        json_object_put(o);
        st = e2e_read_state(name);
        cr_assert(state_proc_alive(&st->supervisor));
        e2e_down(e2e_root_dir, name, st);
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&in);
}

Test(pod_e2e, one_container_up_ps_inspect_down)
{
        up_ps_inspect_down("one", one_pod, 1);
}

Test(pod_e2e, three_containers_up_ps_inspect_down)
{
        up_ps_inspect_down("three", three_pod, 3);
}

Test(pod_e2e, missing_binary_is_a_start_error_and_leaves_nothing)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "bad", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n"
                   "spec:\n  containers:\n  - name: ok\n    image: busybox\n"
                   "    command: [sleep, '600']\n"
                   "  - name: broken\n    image: busybox\n    command: [/bin/nosuch]\n");
        struct e2e_out up = e2e_podrun("up -d %s", file);

        cr_assert_eq(up.status, 1, "up: %s", up.text);
        cr_assert(strstr(up.text, "StartError"), "%s", up.text);
        cr_assert(strstr(up.text, "/bin/nosuch"), "%s", up.text);
        cr_assert(strstr(up.text, "broken"), "%s", up.text);
        e2e_assert_clean(e2e_root_dir, "bad", NULL);
        e2e_out_done(&up);
}

Test(pod_e2e, name_in_use_and_replace)
{
        _cleanup_free_ char *file = e2e_write_manifest("one", one_pod);
        _cleanup_(state_freep) struct pod_state *first = NULL, *second = NULL;
        struct e2e_out a, b, c, d;

        a = e2e_podrun("up -d %s", file);
        cr_assert_eq(a.status, 0, "%s", a.text);
        first = e2e_read_state("one");
        b = e2e_podrun("up -d %s", file);
        cr_assert_eq(b.status, 1, "%s", b.text);
        cr_assert(strstr(b.text, "pod 'one' already exists"), "%s", b.text);
        c = e2e_podrun("up -d --replace %s", file);
        cr_assert_eq(c.status, 0, "%s", c.text);
        second = e2e_read_state("one");
        cr_assert_str_neq(first->uid, second->uid);
        cr_assert_not(state_proc_alive(&first->supervisor));
        cr_assert_not(state_proc_alive(&first->containers[0].proc));
        cr_assert(state_proc_alive(&second->supervisor));
        d = e2e_podrun("down one");
        cr_assert_eq(d.status, 0, "%s", d.text);
        e2e_assert_clean(e2e_root_dir, "one", second);
        e2e_out_done(&a), e2e_out_done(&b), e2e_out_done(&c), e2e_out_done(&d);
}

Test(pod_e2e, killed_supervisor_ps_tells_down_cleans)
{
        _cleanup_free_ char *file = e2e_write_manifest("one", one_pod);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, ps, again;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("one");
        cr_assert_eq(kill(st->supervisor.pid, SIGKILL), 0);
        e2e_wait_gone(&st->supervisor, 20);
        ps = e2e_podrun("ps");
        cr_assert(strstr(ps.text, "SupervisorLost"), "ps: %s", ps.text);
        e2e_down(e2e_root_dir, "one", st);
        again = e2e_podrun("down one");
        cr_assert_eq(again.status, 1);
        cr_assert(strstr(again.text, "pod 'one' not found"), "%s", again.text);
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&again);
}

/* As after a reboot: every process gone, the run dir (and its mounts) gone,
 * only the files under --root left. */
Test(pod_e2e, vanished_run_dir)
{
        _cleanup_free_ char *file = e2e_write_manifest("one", one_pod);
        _cleanup_free_ char *umount = NULL;
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error err = {};
        struct e2e_out up, ps, again;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("one");
        (void)kill(st->supervisor.pid, SIGKILL);
        (void)kill(st->containers[0].proc.pid, SIGKILL);
        (void)kill(st->infra.pid, SIGKILL);
        e2e_wait_gone(&st->supervisor, 20);
        e2e_wait_gone(&st->infra, 20);
        e2e_wait_gone(&st->containers[0].proc, 20);
        umount = pr_asprintf("awk '$5 ~ \"^%s/\" {print $5}' /proc/self/mountinfo | sort -r | "
                             "xargs -r -n1 umount -l",
                             e2e_tmp);
        cr_assert_eq(system(umount), 0);
        cr_assert_eq(pr_rm_rf(e2e_run_dir, &err), 0, "%s", err.msg);
        ps = e2e_podrun("ps -a");
        cr_assert_eq(ps.status, 0, "%s", ps.text);
        cr_assert_null(strstr(ps.text, "one"), "ps: %s", ps.text);
        e2e_down(e2e_root_dir, "one", st);
        again = e2e_podrun("down one");
        cr_assert_eq(again.status, 1, "%s", again.text);
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&again);
}

Test(pod_e2e, down_of_unknown_pod_names_it)
{
        struct e2e_out o = e2e_podrun("down nosuchpod");

        cr_assert_eq(o.status, 1);
        cr_assert(strstr(o.text, "pod 'nosuchpod' not found"), "%s", o.text);
        e2e_out_done(&o);
}

Test(pod_e2e, pod_ip_in_ps_and_inspect)
{
        _cleanup_free_ char *file = e2e_write_manifest("one", one_pod);
        struct e2e_out up, in;
        json_object *o;
        const char *ip;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        in = e2e_podrun("inspect one");
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "%s", in.text);
        ip = json_object_get_string(e2e_jget(o, "podIP"));
        cr_assert(ip && pr_startswith(ip, "10."), "podIP: %s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "podIPs.0.ip")), ip);
        json_object_put(o);
        e2e_down(e2e_root_dir, "one", NULL);
        e2e_out_done(&up), e2e_out_done(&in);
}

Test(pod_e2e, foreground_exit_status_follows_the_phase)
{
        _cleanup_free_ char *ok = e2e_write_manifest(
            "fine", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n"
                    "  restartPolicy: Never\n  initContainers:\n  - name: first\n"
                    "    image: busybox\n    command: [sh, -c, 'echo from init']\n"
                    "  containers:\n  - name: main\n    image: busybox\n"
                    "    command: [sh, -c, 'echo hello; echo oops >&2']\n");
        _cleanup_free_ char *bad = e2e_write_manifest(
            "sad", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sad\nspec:\n"
                   "  restartPolicy: Never\n  containers:\n  - name: main\n"
                   "    image: busybox\n    command: [sh, -c, 'echo bye; exit 3']\n");
        struct e2e_out a = e2e_podrun("up %s", ok), b = e2e_podrun("up %s", bad);

        cr_assert_eq(a.status, 0, "%s", a.text);
        cr_assert(strstr(a.text, "first | from init\n"), "%s", a.text);
        cr_assert(strstr(a.text, "main  | hello\n"), "%s", a.text);
        cr_assert(strstr(a.text, "main  | oops\n"), "%s", a.text);
        cr_assert(strstr(a.text, "from init") < strstr(a.text, "hello"), "init runs first");
        cr_assert_null(strstr(a.text, "close clean"), "%s", a.text);
        cr_assert_eq(b.status, 1, "%s", b.text);
        cr_assert(strstr(b.text, "main | bye\n"), "%s", b.text);
        e2e_assert_clean(e2e_root_dir, "fine", NULL);
        e2e_assert_clean(e2e_root_dir, "sad", NULL);
        e2e_out_done(&a), e2e_out_done(&b);
}

Test(pod_e2e, completed_detached_pod_is_kept_until_down)
{
        _cleanup_free_ char *file =
            e2e_write_manifest("done", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: done\nspec:\n"
                                       "  restartPolicy: Never\n  containers:\n  - name: main\n"
                                       "    image: busybox\n    command: [sh, -c, 'echo done']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL;
        _cleanup_free_ char *log = NULL, *log_path = NULL;
        struct e2e_out up, ps, psa, in;
        struct pr_error err = {};

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        /* The supervisor ends once the pod completed; wait for it by pid. */
        st = e2e_read_state("done");
        e2e_wait_gone(&st->supervisor, 20);
        ps = e2e_podrun("ps");
        cr_assert_null(strstr(ps.text, "done "), "ps without -a: %s", ps.text);
        psa = e2e_podrun("ps -a");
        cr_assert(strstr(psa.text, "Completed"), "ps -a: %s", psa.text);
        in = e2e_podrun("inspect done");
        cr_assert(strstr(in.text, "\"phase\":\"Succeeded\""), "%s", in.text);
        cr_assert(strstr(in.text, "\"exitCode\":0"), "%s", in.text);
        log_path = pr_asprintf("%s/pods/done/supervisor.log", e2e_run_dir);
        if (pr_read_file(log_path, 1 << 20, &log, NULL, &err) >= 0)
                cr_assert_null(strstr(log, "close clean"), "%s", log);
        e2e_down(e2e_root_dir, "done", st);
        e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&psa), e2e_out_done(&in);
}

static bool restarted_4_times(const struct pod_state *st)
{
        return st->containers[0].restart_count >= 4;
}

Test(pod_e2e, restarts_with_back_off)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "crash", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: crash\nspec:\n"
                     "  terminationGracePeriodSeconds: 1\n  containers:\n"
                     "  - name: main\n    image: busybox\n"
                     "    command: [sh, -c, 'echo run; exit 2']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up;
        uint64_t start = pr_now_mono_usec();

        up = e2e_podrun("up -d --backoff-base 100ms %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        /* 0, 100, 200, 400 ms: four restarts within about a second. */
        st = e2e_wait_state("crash", restarted_4_times, 10, "fewer than 4 restarts");
        cr_assert_geq(st->containers[0].restart_count, 4);
        cr_assert(pr_now_mono_usec() - start >= 700 * PR_USEC_PER_MSEC, "no back-off at all");
        cr_assert(st->containers[0].has_last);
        cr_assert_eq(st->containers[0].last.exit_code, 2);
        cr_assert_str_eq(st->containers[0].last.reason, "Error");
        e2e_down(e2e_root_dir, "crash", NULL);
        e2e_out_done(&up);
}

Test(pod_e2e, sigterm_ignored_takes_the_grace_period)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "stubborn", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n"
                        "  terminationGracePeriodSeconds: 2\n  containers:\n"
                        "  - name: main\n    image: busybox\n    command: [sleep, '600']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, down;
        uint64_t t0, dt;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("stubborn");
        t0 = pr_now_mono_usec();
        down = e2e_podrun("down stubborn");
        dt = pr_now_mono_usec() - t0;
        cr_assert_eq(down.status, 0, "%s", down.text);
        /* PID 1 without a handler ignores SIGTERM: SIGKILL after the grace period. */
        cr_assert_geq(dt, 2 * PR_USEC_PER_SEC, "down took %llu ms", (unsigned long long)dt / 1000);
        cr_assert_lt(dt, 5 * PR_USEC_PER_SEC, "down took %llu ms", (unsigned long long)dt / 1000);
        e2e_assert_clean(e2e_root_dir, "stubborn", st);
        e2e_out_done(&up), e2e_out_done(&down);
}

/* ---- the supervisor in this very process ---------------------------- */

struct captured {
        char *text;
        bool ready;
        int ready_r;
};

static void capture(void *userdata, const char *container, enum logs_stream s, const char *data,
                    size_t len)
{
        struct captured *c = userdata;
        char *old = c->text;

        c->text = pr_asprintf("%s%s/%s:%.*s", old ? old : "", container, logs_stream_to_string(s),
                              (int)len, data);
        free(old);
}

static void ready(void *userdata, int r, const struct pr_error *err)
{
        struct captured *c = userdata;

        (void)err;
        cr_assert_not(c->ready, "on_ready is called once");
        c->ready = true;
        c->ready_r = r;
}

static void free_spec_filep(struct spec_file **f)
{
        *f = spec_file_free(*f);
}

static int run_in_process(const char *yaml, struct captured *cap, struct pr_error *err)
{
        _cleanup_(free_spec_filep) struct spec_file *f = NULL;
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;
        _cleanup_free_ char *pause =
            pr_asprintf("%s/pod/pause/podrun-pause", getenv("PODRUN_BUILD_DIR"));
        _cleanup_free_ char *pod_dir = NULL;
        struct spec_diags diags = {};
        struct plan_options po = {
            .root_dir = e2e_root_dir, .run_dir = e2e_run_dir, .netns_dir = e2e_netns_dir};
        struct cg_options cg = {.parent = e2e_cg_parent};
        struct sup_options so = {.pause_path = pause,
                                 .cgroups = &cg,
                                 .cgroups_required = true,
                                 .run_dir = e2e_run_dir,
                                 .root_dir = e2e_root_dir,
                                 .netns_dir = e2e_netns_dir,
                                 .on_output = capture,
                                 .on_ready = ready,
                                 .userdata = cap};
        int lock, r;

        r = spec_load_buffer("inproc.yaml", yaml, strlen(yaml), &f, &diags, err);
        spec_diags_done(&diags);
        cr_assert_eq(r, 0, "%s", err->msg);
        cr_assert_eq(plan_build(&f->pods[0], &po, &plan, err), 0, "%s", err->msg);
        pod_dir = state_pod_dir(e2e_run_dir, plan->name);
        lock = state_lock(pod_dir, true, false, err);
        cr_assert_geq(lock, 0, "%s", err->msg);
        r = sup_run(plan, &so, err);
        close(lock);
        return r;
}

/* Orphans left by a container's PID 1 are re-parented to us (the
 * supervisor is a subreaper) and must be reaped; the loop must close clean
 * (sup_run fails otherwise); output reaches on_output before the exit. */
Test(pod_e2e, supervisor_in_process_reaps_and_closes_clean)
{
        struct captured cap = {};
        struct pr_error err = {};
        siginfo_t si = {};
        int r;

        r = run_in_process("apiVersion: v1\nkind: Pod\nmetadata:\n  name: inproc\nspec:\n"
                           "  restartPolicy: Never\n  containers:\n"
                           "  - name: a\n    image: busybox\n"
                           "    command: [sh, -c, 'sleep 30 & sleep 30 & echo out; echo err >&2']\n"
                           "  - name: b\n    image: busybox\n"
                           "    command: [sh, -c, 'sleep 0.2; echo last words']\n",
                           &cap, &err);
        cr_assert_eq(r, SUP_SUCCEEDED, "sup_run: %d %s", r, err.msg);
        cr_assert(cap.ready);
        cr_assert_eq(cap.ready_r, 0);
        cr_assert(strstr(cap.text, "a/stdout:out\n"), "%s", cap.text);
        cr_assert(strstr(cap.text, "a/stderr:err\n"), "%s", cap.text);
        cr_assert(strstr(cap.text, "b/stdout:last words\n"), "%s", cap.text);
        /* No child of ours is left, not even a zombie. */
        cr_assert_eq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), -1);
        cr_assert_eq(errno, ECHILD);
        e2e_assert_clean(e2e_root_dir, "inproc", NULL);
        free(cap.text);
}

Test(pod_e2e, supervisor_in_process_reports_a_start_error)
{
        struct captured cap = {};
        struct pr_error err = {};
        int r;

        r = run_in_process("apiVersion: v1\nkind: Pod\nmetadata:\n  name: nostart\nspec:\n"
                           "  containers:\n  - name: a\n    image: busybox\n"
                           "    command: [/no/such/binary]\n",
                           &cap, &err);
        cr_assert_lt(r, 0);
        cr_assert(cap.ready);
        cr_assert_lt(cap.ready_r, 0);
        cr_assert(strstr(err.msg, "pod 'nostart': container 'a': StartError"), "%s", err.msg);
        cr_assert(strstr(err.msg, "/no/such/binary"), "%s", err.msg);
        e2e_assert_clean(e2e_root_dir, "nostart", NULL);
        free(cap.text);
}

Test(pod_e2e, down_grace_period_overrides_the_pods)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "stubborn", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n"
                        "  terminationGracePeriodSeconds: 30\n  containers:\n"
                        "  - name: main\n    image: busybox\n    command: [sleep, '600']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, bad, down;
        uint64_t t0, dt;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("stubborn");
        bad = e2e_podrun("down --grace-period soon stubborn");
        cr_assert_eq(bad.status, 2, "%s", bad.text);
        t0 = pr_now_mono_usec();
        down = e2e_podrun("down --grace-period 1 stubborn");
        dt = pr_now_mono_usec() - t0;
        cr_assert_eq(down.status, 0, "%s", down.text);
        cr_assert_geq(dt, 1 * PR_USEC_PER_SEC, "down took %llu ms", (unsigned long long)dt / 1000);
        cr_assert_lt(dt, 4 * PR_USEC_PER_SEC, "down took %llu ms", (unsigned long long)dt / 1000);
        e2e_assert_clean(e2e_root_dir, "stubborn", st);
        e2e_out_done(&up), e2e_out_done(&bad), e2e_out_done(&down);
}

Test(pod_e2e, several_pods_in_one_file)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "two", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: first\nspec:\n"
                   "  terminationGracePeriodSeconds: 1\n  containers:\n"
                   "  - name: main\n    image: busybox\n    command: [sleep, '600']\n"
                   "---\n"
                   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: second\nspec:\n"
                   "  terminationGracePeriodSeconds: 1\n  containers:\n"
                   "  - name: main\n    image: busybox\n    command: [sleep, '600']\n");
        struct e2e_out fg, up, ps, down;

        fg = e2e_podrun("up %s", file);
        cr_assert_eq(fg.status, 2, "the foreground takes one pod: %s", fg.text);
        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        cr_assert(strstr(up.text, "first\nsecond\n"), "%s", up.text);
        ps = e2e_podrun("ps");
        cr_assert(strstr(ps.text, "first ") && strstr(ps.text, "second "), "%s", ps.text);
        down = e2e_podrun("down -f %s", file);
        cr_assert_eq(down.status, 0, "%s", down.text);
        e2e_assert_clean(e2e_root_dir, "first", NULL);
        e2e_assert_clean(e2e_root_dir, "second", NULL);
        e2e_out_done(&fg), e2e_out_done(&up), e2e_out_done(&ps), e2e_out_done(&down);
}

Test(pod_e2e, memory_limit_and_oom_killed)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "mem", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: mem\nspec:\n"
                   "  restartPolicy: Never\n  containers:\n  - name: hog\n    image: busybox\n"
                   "    command: [sh, -c, 'x=a; while :; do x=$x$x; done']\n"
                   "    resources:\n      limits:\n        memory: 32Mi\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *end = NULL;
        struct e2e_out up, in;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("mem");
        e2e_wait_gone(&st->supervisor, 20);
        end = e2e_read_state("mem");
        cr_assert_eq(end->containers[0].cur.state, STATE_CTR_TERMINATED);
        cr_assert_str_eq(end->containers[0].cur.reason, "OOMKilled");
        cr_assert_eq(end->containers[0].cur.exit_code, 137);
        in = e2e_podrun("inspect mem");
        cr_assert(strstr(in.text, "\"reason\":\"OOMKilled\""), "%s", in.text);
        e2e_down(e2e_root_dir, "mem", st);
        e2e_out_done(&up), e2e_out_done(&in);
}

Test(pod_e2e, termination_message)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "msg", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: msg\nspec:\n"
                   "  restartPolicy: Never\n  containers:\n"
                   "  - name: file\n    image: busybox\n"
                   "    command: [sh, -c, 'echo -n all done > /dev/termination-log']\n"
                   "  - name: logs\n    image: busybox\n"
                   "    terminationMessagePolicy: FallbackToLogsOnError\n"
                   "    command: [sh, -c, 'echo first; echo last words; exit 4']\n");
        _cleanup_(state_freep) struct pod_state *st = NULL, *end = NULL;
        struct e2e_out up;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        st = e2e_read_state("msg");
        e2e_wait_gone(&st->supervisor, 20);
        end = e2e_read_state("msg");
        cr_assert_str_eq(end->containers[0].cur.message, "all done");
        cr_assert_eq(end->containers[1].cur.exit_code, 4);
        cr_assert(strstr(end->containers[1].cur.message, "last words"), "%s",
                  end->containers[1].cur.message);
        e2e_down(e2e_root_dir, "msg", st);
        e2e_out_done(&up);
}

/* Apps get their stop signal first; sidecars only once the apps are gone. */
Test(pod_e2e, sidecars_stop_after_the_apps)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/order", e2e_tmp), *yaml = NULL, *file = NULL;
        _cleanup_free_ char *path = pr_asprintf("%s/order/log", e2e_tmp), *text = NULL;
        struct pr_error err = {};
        struct e2e_out up, down;

        yaml = pr_asprintf(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: order\nspec:\n"
            "  terminationGracePeriodSeconds: 5\n"
            "  initContainers:\n  - name: side\n    image: busybox\n    restartPolicy: Always\n"
            "    command: [sh, -c, 'trap \"echo side >> /o/log; exit 0\" TERM; sleep 600 & "
            "wait']\n    volumeMounts:\n    - {name: o, mountPath: /o}\n"
            "  containers:\n  - name: app\n    image: busybox\n"
            "    command: [sh, -c, 'trap \"sleep 0.3; echo app >> /o/log; exit 0\" TERM; "
            "sleep 600 & wait']\n    volumeMounts:\n    - {name: o, mountPath: /o}\n"
            "  volumes:\n  - name: o\n    hostPath: {path: %s, type: DirectoryOrCreate}\n",
            dir);
        file = e2e_write_manifest("order", yaml);
        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "%s", up.text);
        usleep(200000); /* let both shells install their traps */
        down = e2e_podrun("down order");
        cr_assert_eq(down.status, 0, "%s", down.text);
        cr_assert_eq(pr_read_file(path, 4096, &text, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(text, "app\nside\n");
        e2e_assert_clean(e2e_root_dir, "order", NULL);
        e2e_out_done(&up), e2e_out_done(&down);
}

Test(pod_e2e, init_containers_show_progress)
{
        _cleanup_free_ char *file = e2e_write_manifest(
            "init", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: init\nspec:\n"
                    "  terminationGracePeriodSeconds: 1\n  initContainers:\n"
                    "  - name: one\n    image: busybox\n    command: [sleep, '1']\n"
                    "  - name: two\n    image: busybox\n    command: [sleep, '1']\n"
                    "  containers:\n  - name: app\n    image: busybox\n"
                    "    command: [sleep, '600']\n");
        struct e2e_out bg = e2e_podrun("up -d %s >/dev/null 2>&1 &", file);
        bool saw0 = false, saw1 = false, running = false;
        uint64_t start = pr_now_mono_usec();

        cr_assert_eq(bg.status, 0);
        while (!running && pr_now_mono_usec() - start < 15 * PR_USEC_PER_SEC) {
                struct e2e_out ps = e2e_podrun("ps");

                saw0 |= strstr(ps.text, "Init:0/2") != NULL;
                saw1 |= strstr(ps.text, "Init:1/2") != NULL;
                running = strstr(ps.text, "Running") != NULL;
                e2e_out_done(&ps);
                usleep(50000);
        }
        cr_assert(saw0 && saw1 && running, "Init:0/2 %d, Init:1/2 %d, Running %d", saw0, saw1,
                  running);
        e2e_down(e2e_root_dir, "init", NULL);
        e2e_out_done(&bg);
}

/* Ctrl-C reaches the whole foreground process group (podrun and the infra
 * with it): the pod stops, up exits 0, nothing is left. */
Test(pod_e2e, ctrl_c_stops_a_foreground_pod)
{
        _cleanup_free_ char *file = e2e_write_manifest("one", one_pod);
        _cleanup_free_ char *out_path = pr_asprintf("%s/fg.out", e2e_tmp);
        _cleanup_free_ char *status_path = pr_asprintf("%s/status", e2e_tmp);
        _cleanup_free_ char *script_path = pr_asprintf("%s/ctrl-c.sh", e2e_tmp);
        _cleanup_free_ char *prefix = e2e_podrun_prefix(e2e_root_dir);
        _cleanup_free_ char *script = NULL, *cmd = NULL, *status = NULL, *out = NULL;
        struct pr_error err = {};

        script = pr_asprintf("setsid %s up %s >%s 2>&1 & pid=$!\n"
                             "for i in $(seq 200); do grep -q 'main | hello' %s && break; "
                             "sleep 0.05; done\n"
                             "kill -INT -$pid\nwait $pid\necho $? >%s\n",
                             prefix, file, out_path, out_path, status_path);
        cr_assert_eq(pr_write_file_atomic(script_path, script, strlen(script), 0644, &err), 0);
        /* Bounded, so a broken stop cannot hang the suite. */
        cmd = pr_asprintf("timeout -s KILL 30 bash %s", script_path);
        cr_assert_eq(system(cmd), 0);
        cr_assert_eq(pr_read_file(status_path, 64, &status, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pr_read_file(out_path, 1 << 16, &out, NULL, &err), 0, "%s", err.msg);
        cr_assert_str_eq(status, "0\n", "%s", out);
        cr_assert(strstr(out, "Interrupt received; stopping"), "%s", out);
        e2e_assert_clean(e2e_root_dir, "one", NULL);
}
