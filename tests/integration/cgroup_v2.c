/* Cgroups on a real cgroup2 hierarchy: the one mounted at /sys/fs/cgroup
 * when the host is pure v2, else the hybrid layout's /sys/fs/cgroup/unified
 * (on this machine it holds no resource controller, so limits are checked
 * only where the controller is enabled, and skipped otherwise). Attach,
 * cgroup.kill of escaped and forking processes, and removal are exercised
 * for real. Everything lives under this test's own cgroup. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"

static char parent[64];
static const char *root;
static struct cg_options opts;
static struct cg *pod;

/* Teardown that does not trust the code under test: SIGKILL whatever is
 * listed beneath dir until nothing is, then remove the directories. */
static void thaw(const char *dir, const char *file, const char *value)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd >= 0) {
                (void)!write(fd, value, strlen(value));
                close(fd);
        }
}

static int kill_listed(const char *dir)
{
        _cleanup_free_ char *procs = pr_asprintf("%s/cgroup.procs", dir);
        FILE *f = fopen(procs, "re");
        struct dirent *de;
        int n = 0, pid;
        DIR *d;

        if (f) {
                while (fscanf(f, "%d", &pid) == 1)
                        if (pid > 1 && pid != getpid() && kill(pid, SIGKILL) == 0)
                                n++;
                fclose(f);
        }
        /* A frozen task dies of SIGKILL only once thawed. */
        thaw(dir, "freezer.state", "THAWED");
        thaw(dir, "cgroup.freeze", "0");
        d = opendir(dir);
        if (!d)
                return n;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = pr_asprintf("%s/%s", dir, de->d_name);
                n += kill_listed(sub);
        }
        closedir(d);
        return n;
}

static void rmdir_tree(const char *dir)
{
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = pr_asprintf("%s/%s", dir, de->d_name);
                rmdir_tree(sub);
        }
        closedir(d);
        (void)rmdir(dir);
}

static void force_clean(const char *dir)
{
        struct timespec ts = {0, 10 * 1000 * 1000};

        for (int i = 0; i < 300 && kill_listed(dir) > 0; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                nanosleep(&ts, NULL);
        }
        rmdir_tree(dir);
}

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
        struct pr_error err = {};

        if (pod) {
                _cleanup_free_ char *dir = pr_strdup(cg_get_path(pod, "unified"));

                (void)cg_remove(pod, &err);
                *strrchr(dir, '/') = '\0';
                force_clean(dir);
                pod = cg_free(pod);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

static bool has_file(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);

        return access(path, F_OK) == 0;
}

static char *read_text(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        struct pr_error err = {};
        char *data = NULL;

        cr_assert_eq(pr_read_file(path, 1 << 16, &data, NULL, &err), 0, "%s", err.msg);
        data[strcspn(data, "\n")] = '\0';
        return data;
}

static void assert_file(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *got = read_text(dir, file);

        cr_assert_str_eq(got, want, "%s/%s", dir, file);
}

static pid_t spawn_waiting(void (*fn)(int out), int *ret_go, int *ret_out)
{
        int go[2], out[2];
        pid_t pid;
        char c;

        cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(go[1]);
                close(out[0]);
                if (read(go[0], &c, 1) != 1)
                        _exit(10);
                fn(out[1]);
                _exit(0);
        }
        close(go[0]);
        close(out[1]);
        *ret_go = go[1];
        *ret_out = out[0];
        return pid;
}

static void release(int go)
{
        cr_assert_eq(write(go, "x", 1), 1);
        close(go);
}

static void sleeper(int out)
{
        (void)out;
        for (;;)
                pause();
}

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
        ctrls = read_text(cg_get_path(pod, "unified"), "cgroup.subtree_control");
        if (strstr(ctrls, "memory")) {
                assert_file(dir, "memory.max", "52428800");
                assert_file(dir, "memory.swap.max", "0");
        } else {
                cr_assert_not(has_file(dir, "memory.max"));
        }
        if (strstr(ctrls, "cpu")) {
                assert_file(dir, "cpu.max", "50000 100000");
                assert_file(dir, "cpu.weight", "10");
        }
        if (strstr(ctrls, "pids"))
                assert_file(dir, "pids.max", "64");
        cg_free(ctr);
}

Test(cgroup, attach_and_cgroup_kill)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *line = NULL, *want = NULL;
        int go, out, status;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        pid = spawn_waiting(sleeper, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
        line = v2_line(pid);
        want = pr_asprintf("/%s/pod-web/ctr-app", parent);
        cr_assert(pr_endswith(line, want), "%s", line);
        cr_assert_eq(cg_count_procs(pod, &err), 1);
        cr_assert_eq(cg_kill_all(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(cg_count_procs(pod, &err), 0);
        close(out);
        cg_free(ctr);
}

static void escaper(int out)
{
        const char *dir = getenv("PODRUN_TEST_ESCAPE_DIR");
        _cleanup_free_ char *sub = pr_asprintf("%s/escape", dir);
        _cleanup_free_ char *procs = pr_asprintf("%s/cgroup.procs", sub);
        char pidbuf[16];
        int ok = 1, fd;

        (void)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
        if (mkdir(sub, 0755) < 0)
                ok = 0;
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pidbuf, strlen(pidbuf)) < 0)
                ok = 0;
        if (fd >= 0)
                close(fd);
        (void)!write(out, &ok, sizeof(ok));
        for (;;) {
                pid_t p = fork();

                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void)waitpid(p, NULL, 0);
        }
}

Test(cgroup, remove_kills_escaped_and_forking_processes)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *line = NULL;
        int go, out, ok = 0, status;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        cr_assert_eq(setenv("PODRUN_TEST_ESCAPE_DIR", cg_get_path(ctr, "unified"), 1), 0);
        pid = spawn_waiting(escaper, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        line = v2_line(pid);
        cr_assert(pr_endswith(line, "/ctr-app/escape"), "%s", line);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(access(cg_get_path(pod, "unified"), F_OK), -1);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        close(out);
        cg_free(ctr);
}

/* Tries mknod of a block device (8:0) and of /dev/null (1:3) in a
 * temporary directory; reports both errnos. */
static void mknoder(int out)
{
        char dir[] = "/tmp/podrun-mknod-XXXXXX";
        _cleanup_free_ char *blk = NULL, *chr = NULL;
        int e[2] = {0, 0};

        if (!mkdtemp(dir))
                _exit(30);
        blk = pr_asprintf("%s/sda", dir);
        chr = pr_asprintf("%s/null", dir);
        if (mknod(blk, S_IFBLK | 0600, makedev(8, 0)) < 0)
                e[0] = errno;
        if (mknod(chr, S_IFCHR | 0666, makedev(1, 3)) < 0)
                e[1] = errno;
        (void)unlink(blk);
        (void)unlink(chr);
        (void)rmdir(dir);
        (void)!write(out, e, sizeof(e));
}

static void run_mknod(bool restrict_devices, int ret[2])
{
        struct cg_limits l = {.restrict_devices = restrict_devices};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        int go, out, status;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, restrict_devices ? "app" : "priv", &l, &ctr, &err), 0,
                     "%s", err.msg);
        pid = spawn_waiting(mknoder, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
        cr_assert_eq(read(out, ret, 2 * sizeof(int)), 2 * sizeof(int));
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        close(out);
        cg_free(ctr);
}

Test(cgroup, bpf_device_filter_refuses_block_devices)
{
        int e[2];

        run_mknod(true, e);
        cr_assert_eq(e[0], EPERM, "mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0, "mknod /dev/null: %d", e[1]);
        /* Companion: without the filter (privileged) the same mknod works. */
        run_mknod(false, e);
        cr_assert_eq(e[0], 0, "privileged mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0);
}
