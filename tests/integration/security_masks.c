/* Masked and read-only paths applied to fresh /proc and /sys mounts in a
 * private mount namespace of a forked child, checked as a container would
 * see them, with the companion checks that the same paths were there and
 * writable before; and the refusals when /proc or /dev/null were planted. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/security.h"

TestSuite(security, .timeout = 60);

static int report_fd = -1;

/* In the child: say what failed and exit non-zero. */
static void fail(const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        (void)!write(report_fd, buf, strlen(buf));
        _exit(1);
}

static void expect_errno(const char *what, int r, int want)
{
        if (want == 0 && r < 0)
                fail("%s: %s, expected success", what, strerror(errno));
        if (want != 0 && (r >= 0 || errno != want))
                fail("%s: %s, expected %s", what, r >= 0 ? "success" : strerror(errno),
                     strerror(want));
}

static int open_wr(const char *path)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd >= 0)
                close(fd);
        return fd < 0 ? -1 : 0;
}

static bool is_null_device(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static bool is_empty_dir(const char *path)
{
        char probe[256];
        struct dirent *de;
        struct stat st;
        int n = 0;
        DIR *d;

        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return false;
        (void)snprintf(probe, sizeof(probe), "%s/podrun-probe", path);
        /* Read-only too: nothing can be put there. */
        if (mkdir(probe, 0755) == 0 || errno != EROFS)
                return false;
        d = opendir(path);
        if (!d)
                return false;
        while ((de = readdir(d)))
                if (!pr_streq(de->d_name, ".") && !pr_streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n == 0;
}

/* A private mount namespace with fresh /proc and /sys, as a container has
 * after pivot_root. */
static void fresh_kernel_mounts(void)
{
        /* A new network namespace: sysfs is per network namespace, and the
         * host's instance cannot be mounted over itself. */
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                fail("unshare: %s", strerror(errno));
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fail("make-rprivate: %s", strerror(errno));
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                fail("mount proc: %s", strerror(errno));
        if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                fail("mount sysfs: %s", strerror(errno));
}

struct fixture {
        struct spec_pod pod;
        struct spec_container spec;
        struct pod_plan plan;
        struct plan_container c;
};

static struct sec_profile *build(bool unmasked)
{
        static struct fixture f;
        struct pr_error err = {};
        struct sec_profile *p = NULL;

        memset(&f, 0, sizeof(f));
        f.spec.name = (char *)"app";
        f.spec.security_context.proc_mount =
            unmasked ? SPEC_PROC_MOUNT_UNMASKED : SPEC_PROC_MOUNT_DEFAULT;
        f.pod.name = (char *)"web";
        f.plan.name = (char *)"web";
        f.plan.spec = &f.pod;
        f.c.name = (char *)"app";
        f.c.spec = &f.spec;
        cr_assert_eq(sec_profile_build(&f.plan, &f.c, &p, &err), 0, "%s", err.msg);
        return p;
}

static void run(void (*fn)(struct sec_profile *p), struct sec_profile *p)
{
        char msg[512] = "";
        int fds[2], status;
        ssize_t n;
        pid_t pid;

        if (geteuid() != 0)
                cr_skip_test("needs root");
        cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                report_fd = fds[1];
                fn(p);
                _exit(0);
        }
        close(fds[1]);
        n = read(fds[0], msg, sizeof(msg) - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(fds[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", msg);
        sec_profile_free(p);
}

static void child_default(struct sec_profile *p)
{
        struct pr_error err = {};
        char buf[16];
        bool sysrq;
        int fd;

        fresh_kernel_mounts();
        /* Companions: before the masks these are the kernel's, writable. */
        if (is_null_device("/proc/keys"))
                fail("/proc/keys is already masked");
        expect_errno("open /proc/sys/kernel/hostname for writing (before)",
                     open_wr("/proc/sys/kernel/hostname"), 0);
        /* This kernel may be built without magic SysRq. */
        sysrq = access("/proc/sysrq-trigger", F_OK) == 0;
        if (sysrq)
                expect_errno("open /proc/sysrq-trigger for writing (before)",
                             open_wr("/proc/sysrq-trigger"), 0);

        if (sec_apply_masks(p, &err) < 0)
                fail("sec_apply_masks: %s", err.msg);

        for (size_t i = 0; i < sec_n_masked_paths; i++) {
                const char *m = sec_masked_paths[i];
                struct stat st;

                if (lstat(m, &st) < 0)
                        continue; /* this kernel lacks it */
                if (!is_null_device(m) && !is_empty_dir(m))
                        fail("%s is not masked", m);
        }
        /* /proc/keys exists on every kernel with keys (kcore may not). */
        fd = open("/proc/keys", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read(fd, buf, sizeof(buf)) != 0)
                fail("/proc/keys reads something");
        if (fd >= 0)
                close(fd);
        expect_errno("open /proc/sys/kernel/hostname for writing",
                     open_wr("/proc/sys/kernel/hostname"), EROFS);
        if (sysrq)
                expect_errno("open /proc/sysrq-trigger for writing", open_wr("/proc/sysrq-trigger"),
                             EROFS);
        expect_errno("open /proc/irq/default_smp_affinity for writing",
                     open_wr("/proc/irq/default_smp_affinity"), EROFS);
        expect_errno("mkdir /sys/firmware/x", mkdir("/sys/firmware/x", 0755), EROFS);
        /* The rest of /proc is untouched. */
        expect_errno("open /proc/self/status", open("/proc/self/status", O_RDONLY), 0);
}

Test(security, masks_and_read_only_paths)
{
        run(child_default, build(false));
}

static void child_unmasked(struct sec_profile *p)
{
        struct pr_error err = {};

        fresh_kernel_mounts();
        if (sec_apply_masks(p, &err) < 0)
                fail("sec_apply_masks: %s", err.msg);
        if (is_null_device("/proc/keys") || is_null_device("/proc/timer_list"))
                fail("/proc/keys masked under procMount: Unmasked");
        expect_errno("open /proc/sys/kernel/hostname for writing",
                     open_wr("/proc/sys/kernel/hostname"), 0);
}

Test(security, proc_mount_unmasked_masks_nothing)
{
        run(child_unmasked, build(true));
}

static void child_planted_proc(struct sec_profile *p)
{
        struct pr_error err = {};
        int r;

        fresh_kernel_mounts();
        /* An image whose /proc is not procfs, with a symlink where a mask
         * goes: masking it would cover the host file it points to. */
        if (mount("tmpfs", "/proc", "tmpfs", 0, "mode=0755") < 0)
                fail("mount tmpfs: %s", strerror(errno));
        if (symlink("/etc/hostname", "/proc/keys") < 0)
                fail("symlink: %s", strerror(errno));
        r = sec_apply_masks(p, &err);
        if (r != -EXDEV)
                fail("sec_apply_masks on a planted /proc: %d (%s)", r, err.msg);
        if (is_null_device("/etc/hostname"))
                fail("/etc/hostname was masked");
}

Test(security, planted_proc_is_refused)
{
        run(child_planted_proc, build(false));
}

static void child_planted_dev_null(struct sec_profile *p)
{
        struct pr_error err = {};
        int fd, r;

        fresh_kernel_mounts();
        if (mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") < 0)
                fail("mount tmpfs: %s", strerror(errno));
        fd = open("/dev/null", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "secret", 6) != 6)
                fail("plant /dev/null: %s", strerror(errno));
        close(fd);
        r = sec_apply_masks(p, &err);
        if (r != -EPERM || !strstr(err.msg, "'/dev/null' is not the null device"))
                fail("sec_apply_masks with a planted /dev/null: %d (%s)", r, err.msg);
}

Test(security, planted_dev_null_is_refused)
{
        run(child_planted_dev_null, build(false));
}
