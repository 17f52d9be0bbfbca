/* Cgroups on this machine's v1 (hybrid) hierarchies, for real: limits as
 * the kernel shows them, attaching, an OOM kill reported while a sibling
 * container keeps running, a fork bomb stopped by pids.max, kill-all of
 * escaped and forking processes, and removal. Everything lives in a parent
 * nested under this test's own cgroup in each hierarchy and is removed at
 * the end, pass or fail. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "tests/integration/cgroup_common.h"

static char parent[64];
static struct cg_options opts;
static struct cg *pod;

/* Every hierarchy a pod may use. */
static const char *const slots[] = {"memory",  "cpu",     "cpuacct", "pids",
                                    "freezer", "devices", "unified"};

static void setup(void)
{
        struct pr_error err = {};
        enum cg_mode mode;

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (cg_detect(NULL, &mode, &err) < 0 || mode != CG_MODE_V1)
                cr_skip_test("no cgroup v1 here");
        /* Orphans of killed processes come back to us to be reaped. */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        (void)snprintf(parent, sizeof(parent), "podrun-test-%d", (int)getpid());
        opts = (struct cg_options){.parent = parent, .pids_max = 64};
        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
        cgt_remove_pod(&pod);
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

static void assert_value(const struct cg *cg, const char *ctrl, const char *file, const char *want)
{
        const char *dir = cg_get_path(cg, ctrl);

        cr_assert_not_null(dir, "no %s hierarchy", ctrl);
        cgt_assert_file(dir, file, want);
}

static bool in_cgroup(pid_t pid, const char *ctrl_line, const char *suffix)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *data = NULL;
        struct pr_error err = {};
        char *line;

        if (pr_read_file(path, 1 << 16, &data, NULL, &err) < 0)
                return false;
        for (line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
                if (strstr(line, ctrl_line) && pr_endswith(line, suffix))
                        return true;
        return false;
}

Test(cgroup, limits_as_the_kernel_shows_them)
{
        struct cg_limits l = {.memory_bytes = 50 << 20,
                              .cpu_quota_usec = 50000,
                              .cpu_shares = 256,
                              .pids_max = 64,
                              .restrict_devices = true};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *devices = NULL;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        assert_value(ctr, "memory", "memory.limit_in_bytes", "52428800");
        if (cgt_has_file(cg_get_path(ctr, "memory"), "memory.memsw.limit_in_bytes"))
                assert_value(ctr, "memory", "memory.memsw.limit_in_bytes", "52428800");
        assert_value(ctr, "memory", "memory.swappiness", "0");
        assert_value(ctr, "cpu", "cpu.cfs_period_us", "100000");
        assert_value(ctr, "cpu", "cpu.cfs_quota_us", "50000");
        assert_value(ctr, "cpu", "cpu.shares", "256");
        assert_value(ctr, "pids", "pids.max", "64");
        if (cg_get_path(ctr, "devices")) {
                devices = cgt_read_text(cg_get_path(ctr, "devices"), "devices.list");
                cr_assert(strstr(devices, "c 1:3 rwm"), "%s", devices);
                cr_assert(strstr(devices, "c 136:* rwm"), "%s", devices);
                cr_assert_null(strstr(devices, "a *:*"), "%s", devices);
                cr_assert_null(strstr(devices, "b "), "%s", devices);
        }
        cr_assert(strstr(cg_get_path(ctr, "memory"), parent));
        cr_assert(pr_endswith(cg_get_path(ctr, "memory"), "/pod-web/ctr-app"));
        cg_free(ctr);
}

Test(cgroup, attach_kill_all_and_remove)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        int out;
        pid_t pid;
        _cleanup_free_ char *suffix = NULL;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        pid = cgt_start_in(ctr, cgt_sleeper, &out);
        suffix = pr_asprintf("/%s/pod-web/ctr-app", parent);
        cr_assert(in_cgroup(pid, ":memory:", suffix));
        cr_assert(in_cgroup(pid, ":pids:", suffix));
        cr_assert_eq(cg_count_procs(ctr, &err), 1);
        cgt_kill_all(pod, pid);
        close(out);

        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                const char *p = cg_get_path(pod, slots[i]);

                if (p)
                        cr_assert_eq(access(p, F_OK), -1, "%s left", p);
        }
        /* Twice is fine. */
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        cg_free(ctr);
}

/* Grows 10 MB at a time, touching every page, like the seed's program. */
static void hog(int out)
{
        (void)out;
        for (int i = 0; i < 100; i++) {
                char *p = mmap(NULL, 10 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);

                if (p == MAP_FAILED)
                        _exit(20);
                for (size_t off = 0; off < (10u << 20); off += 4096)
                        p[off] = 1;
        }
        _exit(21); /* 1 GB and still alive: the limit did not hold */
}

Test(cgroup, oom_kill_is_counted_and_the_sibling_lives)
{
        struct cg_limits small = {.memory_bytes = 50 << 20}, none = {};
        struct pr_error err = {};
        struct cg *big = NULL, *side = NULL;
        int out1, out2, status;
        uint64_t ooms = 99, side_ooms = 99, base = 0;
        pid_t h, s;

        cr_assert_eq(cg_container_create(pod, "hog", &small, &big, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_container_create(pod, "side", &none, &side, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_oom_kill_count(big, &ooms, &err), 0, "%s", err.msg);
        cr_assert_eq(ooms, 0);
        s = cgt_start_in(side, cgt_sleeper, &out2);
        h = cgt_start_in(big, hog, &out1);
        cgt_assert_killed(h);
        cr_assert_eq(cg_oom_kill_count(big, &ooms, &err), 0, "%s", err.msg);
        cr_assert_geq(ooms, 1);
        cr_assert_eq(cg_oom_killed_since(big, &base, &err), 1);
        cr_assert_eq(base, ooms);
        cr_assert_eq(cg_oom_kill_count(side, &side_ooms, &err), 0, "%s", err.msg);
        cr_assert_eq(side_ooms, 0);
        /* The other container of the pod is untouched. */
        cr_assert_eq(waitpid(s, &status, WNOHANG), 0);
        cr_assert_eq(kill(s, 0), 0);
        cr_assert_eq(cg_kill_all(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(s, &status, 0), s);
        close(out1);
        close(out2);
        cg_free(big);
        cg_free(side);
}

/* Forks until the kernel refuses, reports how many and the errno. */
static void bomb(int out)
{
        int n = 0, e = 0;

        for (int i = 0; i < 1000; i++) {
                pid_t p = fork();

                if (p == 0) {
                        for (;;)
                                pause();
                }
                if (p < 0) {
                        e = errno;
                        break;
                }
                n++;
        }
        (void)!write(out, &n, sizeof(n));
        (void)!write(out, &e, sizeof(e));
        for (;;)
                pause();
}

Test(cgroup, fork_bomb_is_stopped_by_pids_max)
{
        struct cg_limits l = {.pids_max = 64};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        int out, n = -1, e = -1;
        pid_t other;

        cr_assert_eq(cg_container_create(pod, "bomb", &l, &ctr, &err), 0, "%s", err.msg);
        (void)cgt_start_in(ctr, bomb, &out);
        cr_assert_eq(read(out, &n, sizeof(n)), sizeof(n));
        cr_assert_eq(read(out, &e, sizeof(e)), sizeof(e));
        /* 64 tasks in all: the bomb and 63 children. */
        cr_assert_eq(n, 63);
        cr_assert_eq(e, EAGAIN);
        cr_assert_eq(cg_count_procs(ctr, &err), 64);
        /* The host still forks. */
        other = fork();
        cr_assert_geq(other, 0);
        if (other == 0)
                _exit(0);
        cr_assert_eq(waitpid(other, NULL, 0), other);
        cr_assert_eq(cg_kill_all(ctr, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_count_procs(ctr, &err), 0);
        close(out);
        cg_free(ctr);
}

Test(cgroup, kill_all_gets_escaped_and_forking_processes)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *dirs = pr_strdup("");
        int out, ok = 0;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                const char *p = cg_get_path(ctr, slots[i]);

                if (p) {
                        char *next = pr_asprintf("%s%s%s", dirs, *dirs ? ":" : "", p);

                        free(dirs);
                        dirs = next;
                }
        }
        cr_assert_eq(setenv("PODRUN_TEST_ESCAPE_DIRS", dirs, 1), 0);
        pid = cgt_start_in(ctr, cgt_escaper, &out);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        cr_assert(in_cgroup(pid, ":memory:", "/ctr-app/escape"));
        cr_assert_geq(cg_count_procs(ctr, &err), 1);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        cgt_assert_killed(pid);
        cr_assert_eq(access(cg_get_path(ctr, "memory"), F_OK), -1);
        close(out);
        cg_free(ctr);
}

Test(cgroup, device_cgroup_refuses_block_devices)
{
        int e[2];

        if (!cg_get_path(pod, "devices"))
                cr_skip_test("no devices controller");
        cgt_run_mknod(pod, true, e);
        cr_assert_eq(e[0], EPERM, "mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0, "mknod /dev/null: %d", e[1]);
        /* Companion: a privileged container's cgroup does not restrict. */
        cgt_run_mknod(pod, false, e);
        cr_assert_eq(e[0], 0, "privileged mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0);
}

Test(cgroup, freezer_kills_what_cgroup_kill_cannot_see)
{
        static const char *const v1[] = {"memory", "pids", "freezer"};
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *dirs = pr_strdup("");
        int go, out, ok = 0;
        char pidbuf[16];
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        if (!cg_get_path(ctr, "freezer"))
                cr_skip_test("no freezer controller");
        /* Only the v1 hierarchies, not the unified one: cgroup.kill there
         * does not reach this process, the freezer round must. */
        for (size_t i = 0; i < PR_ELEMENTSOF(v1); i++) {
                char *next;

                cr_assert_not_null(cg_get_path(ctr, v1[i]));
                next = pr_asprintf("%s%s%s", dirs, *dirs ? ":" : "", cg_get_path(ctr, v1[i]));
                free(dirs);
                dirs = next;
        }
        cr_assert_eq(setenv("PODRUN_TEST_ESCAPE_DIRS", dirs, 1), 0);
        pid = cgt_spawn_waiting(cgt_escaper, &go, &out);
        (void)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
        for (size_t i = 0; i < PR_ELEMENTSOF(v1); i++) {
                _cleanup_free_ char *procs =
                    pr_asprintf("%s/cgroup.procs", cg_get_path(ctr, v1[i]));
                int fd = open(procs, O_WRONLY | O_CLOEXEC);

                cr_assert_geq(fd, 0);
                cr_assert_eq(write(fd, pidbuf, strlen(pidbuf)), (ssize_t)strlen(pidbuf));
                close(fd);
        }
        cgt_release(go);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        cr_assert(in_cgroup(pid, ":freezer:", "/ctr-app/escape"));
        cgt_kill_all(pod, pid);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        close(out);
        cg_free(ctr);
}
