/* Cgroups on this machine's v1 (hybrid) hierarchies, for real: limits as
 * the kernel shows them, attaching, an OOM kill reported while a sibling
 * container keeps running, a fork bomb stopped by pids.max, kill-all of
 * escaped and forking processes, and removal. Everything lives in a parent
 * nested under this test's own cgroup in each hierarchy and is removed at
 * the end, pass or fail. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
static struct cg_options opts;
static struct cg *pod;

/* Every hierarchy a pod uses, for cleanup of the test's parent. */
static const char *const slots[] = {"memory",  "cpu",     "cpuacct", "pids",
                                    "freezer", "devices", "unified"};

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
        struct pr_error err = {};

        if (pod) {
                (void)cg_remove(pod, &err);
                for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                        const char *p = cg_get_path(pod, slots[i]);
                        _cleanup_free_ char *dir = p ? pr_strdup(p) : NULL;

                        if (dir) {
                                *strrchr(dir, '/') = '\0';
                                force_clean(dir);
                        }
                }
                pod = cg_free(pod);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

static char *read_text(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        struct pr_error err = {};
        char *data = NULL;

        cr_assert_eq(pr_read_file(path, 1 << 16, &data, NULL, &err), 0, "%s", err.msg);
        return data;
}

static void assert_value(const struct cg *cg, const char *ctrl, const char *file, const char *want)
{
        const char *dir = cg_get_path(cg, ctrl);
        _cleanup_free_ char *got = NULL;

        cr_assert_not_null(dir, "no %s hierarchy", ctrl);
        got = read_text(dir, file);
        got[strcspn(got, "\n")] = '\0';
        cr_assert_str_eq(got, want, "%s/%s", dir, file);
}

/* A child that waits for a byte on fd before running fn: the parent
 * attaches it to its cgroup first, as ctr_spawn does. */
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

static bool has_file(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);

        return access(path, F_OK) == 0;
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
        if (has_file(cg_get_path(ctr, "memory"), "memory.memsw.limit_in_bytes"))
                assert_value(ctr, "memory", "memory.memsw.limit_in_bytes", "52428800");
        assert_value(ctr, "memory", "memory.swappiness", "0");
        assert_value(ctr, "cpu", "cpu.cfs_period_us", "100000");
        assert_value(ctr, "cpu", "cpu.cfs_quota_us", "50000");
        assert_value(ctr, "cpu", "cpu.shares", "256");
        assert_value(ctr, "pids", "pids.max", "64");
        if (cg_get_path(ctr, "devices")) {
                devices = read_text(cg_get_path(ctr, "devices"), "devices.list");
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
        int go, out, status;
        pid_t pid;
        _cleanup_free_ char *suffix = NULL;

        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        pid = spawn_waiting(sleeper, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
        suffix = pr_asprintf("/%s/pod-web/ctr-app", parent);
        cr_assert(in_cgroup(pid, ":memory:", suffix));
        cr_assert(in_cgroup(pid, ":pids:", suffix));
        cr_assert_eq(cg_count_procs(ctr, &err), 1);
        cr_assert_eq(cg_kill_all(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(cg_count_procs(pod, &err), 0);
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
        int go1, out1, go2, out2, status;
        uint64_t ooms = 99, side_ooms = 99, base = 0;
        pid_t h, s;

        cr_assert_eq(cg_container_create(pod, "hog", &small, &big, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_container_create(pod, "side", &none, &side, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_oom_kill_count(big, &ooms, &err), 0, "%s", err.msg);
        cr_assert_eq(ooms, 0);
        s = spawn_waiting(sleeper, &go2, &out2);
        cr_assert_eq(cg_attach(side, s, &err), 0, "%s", err.msg);
        release(go2);
        h = spawn_waiting(hog, &go1, &out1);
        cr_assert_eq(cg_attach(big, h, &err), 0, "%s", err.msg);
        release(go1);
        cr_assert_eq(waitpid(h, &status, 0), h);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "hog status %d", status);
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
        int go, out, n = -1, e = -1;
        pid_t pid, other;

        cr_assert_eq(cg_container_create(pod, "bomb", &l, &ctr, &err), 0, "%s", err.msg);
        pid = spawn_waiting(bomb, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
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

/* Moves itself into a child cgroup of its own in every hierarchy, then
 * forks short-lived children without end. */
static void escaper(int out)
{
        const char *dirs = getenv("PODRUN_TEST_ESCAPE_DIRS");
        _cleanup_free_ char *copy = pr_strdup(dirs ? dirs : "");
        char pidbuf[16];
        int ok = 1;

        (void)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
        for (char *d = strtok(copy, ":"); d; d = strtok(NULL, ":")) {
                _cleanup_free_ char *sub = pr_asprintf("%s/escape", d);
                _cleanup_free_ char *procs = pr_asprintf("%s/cgroup.procs", sub);
                int fd;

                if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                        ok = 0;
                fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, pidbuf, strlen(pidbuf)) < 0)
                        ok = 0;
                if (fd >= 0)
                        close(fd);
        }
        (void)!write(out, &ok, sizeof(ok));
        for (;;) {
                pid_t p = fork();

                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void)waitpid(p, NULL, 0);
        }
}

Test(cgroup, kill_all_gets_escaped_and_forking_processes)
{
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        _cleanup_free_ char *dirs = pr_strdup("");
        int go, out, ok = 0, status;
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
        pid = spawn_waiting(escaper, &go, &out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        release(go);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        cr_assert(in_cgroup(pid, ":memory:", "/ctr-app/escape"));
        cr_assert_geq(cg_count_procs(ctr, &err), 1);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(access(cg_get_path(ctr, "memory"), F_OK), -1);
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

Test(cgroup, device_cgroup_refuses_block_devices)
{
        int e[2];

        if (!cg_get_path(pod, "devices"))
                cr_skip_test("no devices controller");
        run_mknod(true, e);
        cr_assert_eq(e[0], EPERM, "mknod block: %d", e[0]);
        cr_assert_eq(e[1], 0, "mknod /dev/null: %d", e[1]);
        /* Companion: a privileged container's cgroup does not restrict. */
        run_mknod(false, e);
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
        int go, out, ok = 0, status;
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
        pid = spawn_waiting(escaper, &go, &out);
        (void)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
        for (size_t i = 0; i < PR_ELEMENTSOF(v1); i++) {
                _cleanup_free_ char *procs =
                    pr_asprintf("%s/cgroup.procs", cg_get_path(ctr, v1[i]));
                int fd = open(procs, O_WRONLY | O_CLOEXEC);

                cr_assert_geq(fd, 0);
                cr_assert_eq(write(fd, pidbuf, strlen(pidbuf)), (ssize_t)strlen(pidbuf));
                close(fd);
        }
        release(go);
        cr_assert_eq(read(out, &ok, sizeof(ok)), sizeof(ok));
        cr_assert_eq(ok, 1);
        cr_assert(in_cgroup(pid, ":freezer:", "/ctr-app/escape"));
        cr_assert_eq(cg_kill_all(pod, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(cg_count_procs(pod, &err), 0);
        cr_assert_eq(cg_remove(pod, &err), 0, "%s", err.msg);
        close(out);
        cg_free(ctr);
}
