/* Cgroups and the security profile wired into real containers the way the
 * supervisor wires them: infra_start(), then per container cg_container_create()
 * and ctr_spawn() with cg_after_clone as the after_clone hook and the
 * RuntimeDefault profile. A container that grows 10 MB at a time past its
 * 50 MB limit is OOM-killed (137, counted by cg_oom_killed_since) while its
 * sibling keeps running; a fork bomb stops at pids.max. Each test runs in
 * its own mount and network namespaces under a temporary root, with its
 * cgroups nested under the test's own, and removes all of it. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "tests/integration/runtime_common.h"

static struct cg *pod_cg;

static void setup(void)
{
        struct pr_error err = {};
        enum cg_mode mode;

        t_setup();
        if (cg_detect(NULL, &mode, &err) < 0)
                cr_skip_test("no cgroups: %s", err.msg);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        cr_assert_eq(t_cg_pod_create("web", &pod_cg, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
        t_cg_pod_remove(&pod_cg);
        t_teardown();
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 90);

/* A runtime_common container with what the supervisor adds: its cgroup
 * and its security profile. */
struct cgctr {
        struct tctr *t;
        struct spec_container spec;
        struct cg *cg;
        struct sec_profile *sec;
};

/* Creates the container's cgroup with its limits, builds its profile and
 * spawns it, attached to the cgroup at ctr_spawn's sync point 2. */
static void start(struct tpod *p, struct cgctr *x, const char *name, const char *args,
                  const struct cg_limits *limits)
{
        struct ctr_spawn_opts opts = {.after_clone = cg_after_clone};
        struct pr_error err = {};

        memset(x, 0, sizeof(*x));
        x->t = t_pod_add(p, name, args);
        x->spec.name = (char *)name;
        x->spec.termination_message_path = (char *)"/dev/termination-log";
        x->t->c.spec = &x->spec;
        cr_assert_eq(cg_container_create(pod_cg, name, limits, &x->cg, &err), 0, "%s", err.msg);
        cr_assert_eq(sec_profile_build(&p->plan, &x->t->c, &x->sec, &err), 0, "%s", err.msg);
        opts.data = x->cg;
        opts.security = x->sec;
        t_spawn_with(p, x->t, &opts);
}

static bool still_running(struct tctr *t)
{
        siginfo_t si = {};

        return waitid(P_PIDFD, (id_t)t->proc.pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               si.si_pid == 0;
}

/* After t_pod_down(): the container's cgroup goes, and its profile. */
static void finish(struct cgctr *x)
{
        struct pr_error err = {};

        cr_expect_eq(cg_remove(x->cg, &err), 0, "%s", err.msg);
        x->cg = cg_free(x->cg);
        x->sec = sec_profile_free(x->sec);
}

Test(cgroup, oom_killed_container_while_the_sibling_runs)
{
        struct cg_limits small = {
            .memory_bytes = 50 << 20, .pids_max = 64, .restrict_devices = true};
        struct cg_limits none = {.pids_max = 64, .restrict_devices = true};
        struct pr_error err = {};
        struct tpod p;
        struct cgctr hog, side;
        _cleanup_free_ char *out = NULL, *side_out = NULL;
        uint64_t base = 0;

        t_pod_init(&p, "web", false);
        p.spec.name = (char *)"web";
        t_pod_start(&p);
        start(&p, &side, "side", "/probe|sleep|inf", &none);
        start(&p, &hog, "hog", "/probe|grow|10", &small);
        cr_assert_eq(cg_oom_kill_count(hog.cg, &base, &err), 0, "%s", err.msg);
        out = t_read_output(hog.t->proc.stdout_fd, NULL);
        /* Killed by the kernel: 128 + SIGKILL, and the counter says why. */
        cr_assert_eq(t_wait_exit(hog.t), 137, "%s", out);
        cr_assert(strstr(out, "40 MB\n"), "%s", out);
        cr_assert_null(strstr(out, "60 MB\n"), "%s", out);
        cr_assert_eq(cg_oom_killed_since(hog.cg, &base, &err), 1, "%s", err.msg);
        cr_assert(still_running(side.t), "the sibling container died too");
        cr_assert_eq(cg_oom_killed_since(side.cg, &(uint64_t){0}, &err), 0);
        t_pod_down(&p);
        finish(&hog);
        finish(&side);
}

Test(cgroup, fork_bomb_in_a_container_stops_at_pids_max)
{
        struct cg_limits l = {.pids_max = 64, .restrict_devices = true};
        struct tpod p;
        struct cgctr bomb;
        _cleanup_free_ char *out = NULL;
        pid_t other;

        t_pod_init(&p, "web", false);
        p.spec.name = (char *)"web";
        t_pod_start(&p);
        start(&p, &bomb, "bomb", "/probe|forkbomb", &l);
        out = t_read_output(bomb.t->proc.stdout_fd, NULL);
        /* The probe is one of the 64 tasks. */
        cr_assert_str_eq(out, "63 EAGAIN\n");
        cr_assert_eq(t_wait_exit(bomb.t), 0);
        other = fork();
        cr_assert_geq(other, 0);
        if (other == 0)
                _exit(0);
        cr_assert_eq(waitpid(other, NULL, 0), other);
        t_pod_down(&p);
        finish(&bomb);
}
