/* Cgroups on a real cgroup2 hierarchy: the one mounted at /sys/fs/cgroup
 * when the host is pure v2, else the hybrid layout's /sys/fs/cgroup/unified
 * (on this machine it holds no resource controller, so limits are checked
 * only where the controller is enabled, and skipped otherwise). Attach,
 * cgroup.kill of escaped and forking processes, and removal are exercised
 * for real. Everything lives under this test's own cgroup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static const char *root;
static struct cg_options opts;
static struct cg *pod;

static void setup(void)
{
        struct pr_error err = {};
        enum cg_mode mode;

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (cg_detect(CG_ROOT_DEFAULT, &mode, &err) == 0 && mode == CG_MODE_V2)
                root = CG_ROOT_DEFAULT;
        else if (cg_detect(CG_ROOT_DEFAULT "/unified", &mode, &err) == 0 && mode == CG_MODE_V2)
                root = CG_ROOT_DEFAULT "/unified";
        else
                cr_skip_test("no cgroup2 hierarchy here");
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        (void)snprintf(parent, sizeof(parent), "podrun-test-%d", (int)getpid());
        opts = (struct cg_options){.root = root, .parent = parent, .pids_max = 64};
        if (cg_pod_create(&opts, "web", &pod, &err) < 0)
                cr_skip_test("cannot create a cgroup2 child here: %s", err.msg);
        cr_assert_eq(cg_get_mode(pod), CG_MODE_V2);
}

static void teardown(void)
{
        cgt_remove_pod(&pod);
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

static char *v2_line(pid_t pid)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *data = NULL;
        struct pr_error err = {};
        char *l;

        cr_assert_eq(pr_read_file(path, 1 << 16, &data, NULL, &err), 0, "%s", err.msg);
        l = strstr(data, "0::");
        cr_assert_not_null(l);
        l[strcspn(l, "\n")] = '\0';
        return pr_strdup(l + 3);
}

Test(cgroup, limits_where_the_controllers_are)
{
        struct cg_limits l = {
            .memory_bytes = 50 << 20, .cpu_quota_usec = 50000, .cpu_shares = 256, .pids_max = 64};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *ctrls = NULL;
        const char *dir;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        dir = cg_get_path(ctr, "unified");
        cr_assert(pr_endswith(dir, "/pod-web/ctr-app"), "%s", dir);
        ctrls = cgt_read_text(cg_get_path(pod, "unified"), "cgroup.subtree_control");
        if (strstr(ctrls, "memory")) {
                cgt_assert_file(dir, "memory.max", "52428800");
                cgt_assert_file(dir, "memory.swap.max", "0");
        } else {
                cr_assert_not(cgt_has_file(dir, "memory.max"));
        }
        if (strstr(ctrls, "cpu")) {
                cgt_assert_file(dir, "cpu.max", "50000 100000");
                cgt_assert_file(dir, "cpu.weight", "10");
        }
        if (strstr(ctrls, "pids"))
                cgt_assert_file(dir, "pids.max", "64");
        cg_free(ctr);
}

Test(cgroup, attach_and_cgroup_kill)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *line = NULL, *want = NULL;
        int out;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        pid = cgt_start_in(ctr, cgt_sleeper, &out);
        line = v2_line(pid);
        want = pr_asprintf("/%s/pod-web/ctr-app", parent);
        cr_assert(pr_endswith(line, want), "%s", line);
        cr_assert_eq(cg_count_procs(pod, &err), 1);
        cgt_kill_all(pod, pid);
        close(out);
        cg_free(ctr);
}

Test(cgroup, remove_kills_escaped_and_forking_processes)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *line = NULL;
        int out, ok = 0;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        cr_assert_eq(setenv("PODRUN_TEST_ESCAPE_DIRS", cg_get_path(ctr, "unified"), 1), 0);
        pid = cgt_start_in(ctr, cgt_escaper, &out);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        line = v2_line(pid);
        cr_assert(pr_endswith(line, "/ctr-app/escape"), "%s", line);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        cgt_assert_killed(pid);
        cr_assert_eq(access(cg_get_path(pod, "unified"), F_OK), -1);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        close(out);
        cg_free(ctr);
}

Test(cgroup, bpf_device_filter_refuses_block_devices)
{
        int e[2];

        cgt_run_mknod(pod, true, e);
        cr_assert_eq(e[0], EPERM, "mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0, "mknod /dev/null: %d", e[1]);
        /* Companion: without the filter (privileged) the same mknod works. */
        cgt_run_mknod(pod, false, e);
        cr_assert_eq(e[0], 0, "privileged mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0);
}
