/* The cgroup tests' fixture: see cgroup_common.h. Runs as root; the
 * children it forks run in the cgroups under test, never in the caller's. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "tests/integration/cgroup_common.h"

/* Every hierarchy a pod may use. */
static const char *const slots[] = {"memory",  "cpu",     "cpuacct", "pids",
                                    "freezer", "devices", "unified"};

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

void cgt_force_clean(const char *dir)
{
        struct timespec ts = {0, 10 * 1000 * 1000};

        for (int i = 0; i < 300 && kill_listed(dir) > 0; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                nanosleep(&ts, NULL);
        }
        rmdir_tree(dir);
}

void cgt_remove_pod(struct cg **pod)
{
        struct pr_error err = {};

        if (*pod) {
                (void)cg_remove(*pod, &err);
                for (size_t i = 0; i < PR_ELEMENTSOF(slots); i++) {
                        const char *p = cg_get_path(*pod, slots[i]);
                        _cleanup_free_ char *dir = p ? pr_strdup(p) : NULL;

                        if (dir) {
                                *strrchr(dir, '/') = '\0';
                                cgt_force_clean(dir);
                        }
                }
                *pod = cg_free(*pod);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

bool cgt_has_file(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);

        return access(path, F_OK) == 0;
}

char *cgt_read_text(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        struct pr_error err = {};
        char *data = NULL;

        cr_assert_eq(pr_read_file(path, 1 << 16, &data, NULL, &err), 0, "%s", err.msg);
        return data;
}

void cgt_assert_file(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *got = cgt_read_text(dir, file);

        got[strcspn(got, "\n")] = '\0';
        cr_assert_str_eq(got, want, "%s/%s", dir, file);
}

pid_t cgt_spawn_waiting(void (*fn)(int out), int *ret_go, int *ret_out)
{
        int go[2], out[2];
        pid_t pid;
        char c;

        cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                /* The child: in the cgroup under test once go is written. */
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

void cgt_release(int go)
{
        cr_assert_eq(write(go, "x", 1), 1);
        close(go);
}

pid_t cgt_start_in(struct cg *ctr, void (*fn)(int out), int *ret_out)
{
        struct pr_error err = {};
        pid_t pid;
        int go;

        pid = cgt_spawn_waiting(fn, &go, ret_out);
        cr_assert_eq(cg_attach(ctr, pid, &err), 0, "%s", err.msg);
        cgt_release(go);
        return pid;
}

void cgt_assert_killed(pid_t pid)
{
        int status;

        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
}

void cgt_kill_all(struct cg *cg, pid_t pid)
{
        struct pr_error err = {};

        cr_assert_eq(cg_kill_all(cg, &err), 0, "%s", err.msg);
        cgt_assert_killed(pid);
        cr_assert_eq(cg_count_procs(cg, &err), 0, "%s", err.msg);
}

void cgt_sleeper(int out)
{
        (void)out;
        for (;;)
                pause();
}

/* Whether dir stands in the ':'-separated list before its position at end:
 * co-mounted hierarchies share one directory. */
static bool listed_before(const char *list, const char *end, const char *dir)
{
        size_t len = strlen(dir);

        for (const char *p = list; p < end; p = strchr(p, ':') + 1) {
                if (strncmp(p, dir, len) == 0 && p[len] == ':')
                        return true;
                if (!strchr(p, ':'))
                        break;
        }
        return false;
}

/* Runs in the child, after escaping into each directory: a fresh escape
 * directory must be made in each one not listed before. */
static bool escape_into(const char *dirs, const char *pidbuf)
{
        _cleanup_free_ char *copy = pr_strdup(dirs);
        bool ok = true;

        for (char *d = strtok(copy, ":"); d; d = strtok(NULL, ":")) {
                _cleanup_free_ char *sub = pr_asprintf("%s/escape", d);
                _cleanup_free_ char *procs = pr_asprintf("%s/cgroup.procs", sub);
                int fd;

                if (mkdir(sub, 0755) < 0 &&
                    !(errno == EEXIST && listed_before(dirs, dirs + (d - copy), d)))
                        ok = false;
                fd = open(procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, pidbuf, strlen(pidbuf)) < 0)
                        ok = false;
                if (fd >= 0)
                        close(fd);
        }
        return ok;
}

void cgt_escaper(int out)
{
        const char *dirs = getenv("PODRUN_TEST_ESCAPE_DIRS");
        char pidbuf[16];
        int ok;

        (void)snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
        ok = escape_into(dirs ? dirs : "", pidbuf);
        (void)!write(out, &ok, sizeof(ok));
        for (;;) {
                pid_t p = fork();

                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void)waitpid(p, NULL, 0);
        }
}

/* Runs in the child: mknod of 8:0 and 1:3 in a temporary directory. */
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

void cgt_run_mknod(struct cg *pod, bool restrict_devices, int ret[2])
{
        struct cg_limits l = {.restrict_devices = restrict_devices};
        struct pr_error err = {};
        struct cg *ctr = NULL;
        int out, status;
        pid_t pid;

        cr_assert_eq(cg_container_create(pod, restrict_devices ? "app" : "priv", &l, &ctr, &err), 0,
                     "%s", err.msg);
        pid = cgt_start_in(ctr, mknoder, &out);
        cr_assert_eq(read(out, ret, 2 * sizeof(int)), 2 * sizeof(int));
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        close(out);
        cg_free(ctr);
}
