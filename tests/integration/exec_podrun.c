/* `podrun exec` against a fake container the test makes itself: a child in
 * new pid, mount, uts and ipc namespaces, pivoted into a rootfs of static
 * busybox with its own proc and devpts, running sleep as PID 1, and a state
 * file in docs/state.md's shape naming it. Needs root; the container dies
 * with the test (SIGKILL, PDEATHSIG) and its mounts with its namespace; the
 * temporary directory and cgroup are removed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/state.h"

TestSuite(exec_podrun);

#define BUSYBOX "/bin/busybox"

struct fake {
        char dir[64];
        char *rootfs;
        char *run_dir;
        pid_t pid;
        char *cgroup;    /* a cgroup made for the container, or NULL */
        bool restricted; /* uid 1000, few capabilities, a seccomp filter */
        pid_t podrun;    /* a podrun the test runs in the background */
};

static struct fake F;

static const char *const applets[] = {"sh",  "sleep", "ps",   "hostname", "cat",  "env",
                                      "pwd", "tty",   "test", "id",       "true", "mkdir"};

static void build_rootfs(void)
{
        struct pr_error err = {};
        static const char *const dirs[] = {"bin",  "proc",    "dev/pts", "tmp",
                                           "root", "oldroot", "work"};
        _cleanup_free_ char *bb = pr_asprintf("%s/bin/busybox", F.rootfs);
        _cleanup_close_ int in = open(BUSYBOX, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = -1;
        char buf[65536];
        ssize_t n;

        for (size_t i = 0; i < PR_ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = pr_asprintf("%s/%s", F.rootfs, dirs[i]);

                cr_assert_eq(pr_mkdir_p(d, 0755, &err), 0, "%s", err.msg);
        }
        cr_assert_geq(in, 0);
        out = open(bb, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        cr_assert_geq(out, 0);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                cr_assert_eq(write(out, buf, (size_t)n), n);
        for (size_t i = 0; i < PR_ELEMENTSOF(applets); i++) {
                _cleanup_free_ char *l = pr_asprintf("%s/bin/%s", F.rootfs, applets[i]);

                cr_assert_eq(symlink("busybox", l), 0);
        }
}

/* CHILD: what a hardened container's PID 1 has: a bounding set of CHOWN
 * and KILL, uid 1000 (which clears the other sets), and a seccomp filter
 * refusing mkdir with EPERM. */
static void restrict_self(void)
{
        struct sock_filter insns[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdir, 2, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mkdirat, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        };
        struct sock_fprog prog = {.len = PR_ELEMENTSOF(insns), .filter = insns};

        for (int c = 0; c <= 40; c++)
                if (c != 0 && c != 5)
                        (void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                _exit(20);
        if (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 ||
            setresuid(1000, 1000, 1000) < 0)
                _exit(21);
}

/* CHILD: PID 1 of the fake container. Errors exit with a distinct code. */
static void __attribute__((noreturn)) container_main(int ready_fd)
{
        static char a0[] = "sleep", a1[] = "1000";
        static char e0[] = "PATH=/bin", e1[] = "HOME=/root", e2[] = "FOO=bar baz";
        char *const argv[] = {a0, a1, NULL};
        char *const envp[] = {e0, e1, e2, NULL};
        _cleanup_free_ char *proc = pr_asprintf("%s/proc", F.rootfs);
        _cleanup_free_ char *pts = pr_asprintf("%s/dev/pts", F.rootfs);

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(10);
        if (mount(F.rootfs, F.rootfs, NULL, MS_BIND, NULL) < 0)
                _exit(11);
        if (mount("proc", proc, "proc", 0, NULL) < 0)
                _exit(12);
        if (mount("devpts", pts, "devpts", 0, "newinstance,ptmxmode=0666,mode=0620") < 0)
                _exit(13);
        if (sethostname("fakectr", 7) < 0)
                _exit(14);
        if (chdir(F.rootfs) < 0 || syscall(SYS_pivot_root, ".", "oldroot") < 0)
                _exit(15);
        if (umount2("/oldroot", MNT_DETACH) < 0 || chdir("/work") < 0)
                _exit(16);
        if (F.restricted)
                restrict_self();
        (void)close(ready_fd); /* close-on-exec anyway: EOF means exec'd */
        execve("/bin/sleep", argv, envp);
        _exit(17);
}

static void write_state(const char *state, bool alive_supervisor)
{
        _cleanup_free_ char *path = pr_asprintf("%s/pods/web/state.json", F.run_dir);
        _cleanup_free_ char *dir = pr_asprintf("%s/pods/web", F.run_dir);
        struct state_container c = {
            .name = (char *)"app",
            .image = (char *)"busybox",
            .cur = {.state = state_ctr_state_from_string(state)},
        };
        struct pod_state st = {
            .version = STATE_VERSION,
            .name = (char *)"web",
            .uid = (char *)"uid",
            .phase = STATE_PHASE_RUNNING,
            .n_containers = 1,
            .containers = &c,
        };
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0, "%s", err.msg);
        cr_assert_eq(state_proc_get(F.pid, &c.proc, &err), 0, "%s", err.msg);
        if (alive_supervisor)
                cr_assert_eq(state_proc_get(getpid(), &st.supervisor, &err), 0);
        cr_assert_eq(state_write(&st, path, &err), 0, "%s", err.msg);
}

static void fake_start(void)
{
        int ready[2];
        char c;

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (access(BUSYBOX, X_OK) < 0)
                cr_skip_test("needs %s (busybox-static)", BUSYBOX);
        strcpy(F.dir, "/tmp/podrun-exec-XXXXXX");
        cr_assert_not_null(mkdtemp(F.dir));
        F.rootfs = pr_asprintf("%s/rootfs", F.dir);
        F.run_dir = pr_asprintf("%s/run", F.dir);
        build_rootfs();
        {
                _cleanup_free_ char *tmp = pr_asprintf("%s/tmp", F.rootfs);

                cr_assert_eq(chmod(tmp, 01777), 0);
        }
        cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
        F.pid = (pid_t)syscall(SYS_clone,
                               CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD,
                               NULL, NULL, NULL, NULL);
        cr_assert_geq(F.pid, 0, "clone: %s", strerror(errno));
        if (F.pid == 0) {
                (void)close(ready[0]);
                container_main(ready[1]);
        }
        (void)close(ready[1]);
        cr_assert_eq(read(ready[0], &c, 1), 0);
        (void)close(ready[0]);
        cr_assert_eq(waitpid(F.pid, NULL, WNOHANG), 0, "the fake container died");
        write_state("running", true);
}

static void fake_start_restricted(void)
{
        F.restricted = true;
        fake_start();
}

static void fake_stop(void)
{
        struct pr_error err = {};

        if (F.podrun > 0 && waitpid(F.podrun, NULL, WNOHANG) == 0) {
                (void)kill(F.podrun, SIGKILL);
                (void)waitpid(F.podrun, NULL, 0);
        }
        if (F.pid > 0) {
                (void)kill(F.pid, SIGKILL);
                (void)waitpid(F.pid, NULL, 0);
                F.pid = 0;
        }
        if (F.cgroup) {
                cr_assert_eq(rmdir(F.cgroup), 0, "rmdir %s: %s", F.cgroup, strerror(errno));
                free(F.cgroup);
        }
        if (F.dir[0])
                cr_assert_eq(pr_rm_rf(F.dir, &err), 0, "%s", err.msg);
        free(F.rootfs);
        free(F.run_dir);
        F = (struct fake){};
}

struct run {
        int status;
        char *out;
        char *err;
};

static char *drain(int fd)
{
        char *s = pr_strdup("");
        size_t len = 0;
        char buf[4096];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                s = pr_realloc(s, len + (size_t)n + 1);
                memcpy(s + len, buf, (size_t)n);
                len += (size_t)n;
                s[len] = '\0';
        }
        return s;
}

/* Runs podrun with stdin from `input` (NULL: /dev/null); stdout and stderr
 * collected through temporary files so that a chatty run can not block. */
static struct run podrun(const char *input, const char *const *args)
{
        _cleanup_free_ char *exe = pr_asprintf("%s/pod/cli/podrun", getenv("PODRUN_BUILD_DIR"));
        const char *argv[32] = {exe, "--run-dir", F.run_dir};
        char outp[] = "/tmp/podrun-exec-out-XXXXXX", errp[] = "/tmp/podrun-exec-err-XXXXXX";
        int out = mkostemp(outp, O_CLOEXEC), err = mkostemp(errp, O_CLOEXEC), in[2], status;
        struct run r = {.status = -1};
        size_t n = 3;
        pid_t pid;

        cr_assert(getenv("PODRUN_BUILD_DIR"), "run through meson test");
        cr_assert(out >= 0 && err >= 0);
        (void)unlink(outp);
        (void)unlink(errp);
        for (; *args; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (dup2(in[0], 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                        _exit(99);
                execv(exe, (char *const *)argv);
                _exit(98);
        }
        (void)close(in[0]);
        if (input)
                cr_assert_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
        (void)close(in[1]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        (void)lseek(out, 0, SEEK_SET);
        (void)lseek(err, 0, SEEK_SET);
        r.out = drain(out);
        r.err = drain(err);
        (void)close(out);
        (void)close(err);
        return r;
}

static void run_done(struct run *r)
{
        free(r->out);
        free(r->err);
}

#define PODRUN(input, ...) podrun(input, (const char *const[]){__VA_ARGS__, NULL})

Test(exec_podrun, sees_the_container_hostname_and_exit_code, .init = fake_start, .fini = fake_stop)
{
        struct run r = PODRUN(NULL, "exec", "app", "--", "hostname");

        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "fakectr\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "web/app", "--", "sh", "-c", "exit 7");
        cr_assert_eq(r.status, 7, "stderr: %s", r.err);
        run_done(&r);
        r = PODRUN(NULL, "exec", "web", "--", "sh", "-c", "kill -9 $$");
        cr_assert_eq(r.status, 137, "stderr: %s", r.err);
        run_done(&r);
}

Test(exec_podrun, joins_the_pid_and_mount_namespaces, .init = fake_start, .fini = fake_stop)
{
        struct run r = PODRUN(NULL, "exec", "app", "--", "ps");

        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        /* Its own /proc: PID 1 is the container's sleep, and few others. */
        cr_assert(strstr(r.out, "    1 0        sleep 1000") ||
                      strstr(r.out, "    1 root     sleep 1000") ||
                      strstr(r.out, "/bin/sleep 1000") || strstr(r.out, " sleep 1000"),
                  "%s", r.out);
        cr_assert_lt(strlen(r.out), 400, "%s", r.out);
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "sh", "-c", "echo $$; cat /proc/1/cmdline");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_lt(atoi(r.out), 100, "pid %s is not from the container's namespace", r.out);
        cr_assert(strstr(r.out, "sleep"), "%s", r.out);
        run_done(&r);
        /* Only busybox is in its root. */
        r = PODRUN(NULL, "exec", "app", "--", "cat", "/etc/os-release");
        cr_assert_eq(r.status, 1, "the host's /etc is visible: %s", r.out);
        run_done(&r);
}

Test(exec_podrun, takes_env_cwd_and_identity, .init = fake_start, .fini = fake_stop)
{
        struct run r = PODRUN(NULL, "exec", "app", "--", "env");

        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "PATH=/bin\nHOME=/root\nFOO=bar baz\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "pwd");
        cr_assert_str_eq(r.out, "/work\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "id", "-u");
        cr_assert_str_eq(r.out, "0\n");
        run_done(&r);
}

Test(exec_podrun, not_found_is_127_with_runcs_message, .init = fake_start, .fini = fake_stop)
{
        struct run r = PODRUN(NULL, "exec", "app", "--", "nosuch", "arg");

        cr_assert_eq(r.status, 127);
        cr_assert_str_eq(r.err, "podrun: exec: \"nosuch\": executable file not found in $PATH\n");
        cr_assert_str_eq(r.out, "");
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "/bin/nosuch");
        cr_assert_eq(r.status, 127);
        cr_assert(strstr(r.err, "exec: \"/bin/nosuch\": No such file or directory"), "%s", r.err);
        run_done(&r);
        /* /proc/1 is a directory: found but not executable. */
        r = PODRUN(NULL, "exec", "app", "--", "/proc/1");
        cr_assert_eq(r.status, 126, "%s", r.err);
        run_done(&r);
}

Test(exec_podrun, stdin_only_with_i, .init = fake_start, .fini = fake_stop)
{
        struct run r = PODRUN("hello\nworld\n", "exec", "-i", "app", "--", "cat");

        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "hello\nworld\n");
        run_done(&r);
        r = PODRUN("hello\n", "exec", "app", "--", "cat");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "");
        run_done(&r);
}

Test(exec_podrun, stopped_container_is_an_error, .init = fake_start, .fini = fake_stop)
{
        struct run r;

        write_state("terminated", true);
        r = PODRUN(NULL, "exec", "app", "--", "true");
        cr_assert_eq(r.status, 1);
        cr_assert_str_eq(r.err, "podrun: container \"app\" in pod \"web\" is not running\n");
        run_done(&r);
        /* Running in the state file, but the process is gone. */
        write_state("running", true);
        (void)kill(F.pid, SIGKILL);
        (void)waitpid(F.pid, NULL, 0);
        F.pid = 0;
        r = PODRUN(NULL, "exec", "app", "--", "true");
        cr_assert_eq(r.status, 1);
        cr_assert_str_eq(r.err, "podrun: container \"app\" in pod \"web\" is not running\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "web/nosuch", "--", "true");
        cr_assert_eq(r.status, 1);
        cr_assert_str_eq(r.err, "podrun: container \"nosuch\" not found in pod \"web\"\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "app");
        cr_assert_eq(r.status, 2);
        run_done(&r);
}

/* The pids cgroup we are in, from /proc/self/cgroup: "N:pids:/path". */
static char *own_pids_cgroup(void)
{
        _cleanup_free_ char *text = NULL;
        struct pr_error err = {};
        char *p, *nl;

        if (pr_read_file("/proc/self/cgroup", 1 << 16, &text, NULL, &err) < 0)
                return NULL;
        p = strstr(text, ":pids:");
        if (!p)
                return NULL;
        p += strlen(":pids:");
        nl = strchr(p, '\n');
        if (nl)
                *nl = '\0';
        return pr_asprintf("/sys/fs/cgroup/pids%s", p);
}

Test(exec_podrun, joins_the_container_cgroup, .init = fake_start, .fini = fake_stop)
{
        _cleanup_free_ char *own = own_pids_cgroup(), *procs = NULL, *want = NULL;
        struct run r;
        char pid[32];
        int fd;

        if (!own || access(own, W_OK) < 0)
                cr_skip_test("no writable cgroup v1 pids hierarchy");
        F.cgroup = pr_asprintf("%s/podrun-exec-test-%d", own, (int)getpid());
        cr_assert_eq(mkdir(F.cgroup, 0755), 0, "%s: %s", F.cgroup, strerror(errno));
        procs = pr_asprintf("%s/cgroup.procs", F.cgroup);
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        (void)snprintf(pid, sizeof(pid), "%d", (int)F.pid);
        cr_assert_eq(write(fd, pid, strlen(pid)), (ssize_t)strlen(pid));
        (void)close(fd);
        write_state("running", true);
        r = PODRUN(NULL, "exec", "app", "--", "cat", "/proc/self/cgroup");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        want = pr_asprintf("/podrun-exec-test-%d\n", (int)getpid());
        cr_assert(strstr(r.out, want), "not in the container's cgroup:\n%s", r.out);
        run_done(&r);
}

/* Reads the test's end of the pty until needle shows up (or 10 s pass). */
static bool read_until(int master, char *out, size_t size, size_t *len, const char *needle)
{
        while (!strstr(out, needle)) {
                struct pollfd p = {.fd = master, .events = POLLIN};
                ssize_t n;

                if (*len + 1 >= size || poll(&p, 1, 10000) <= 0)
                        return false;
                n = read(master, out + *len, size - 1 - *len);
                if (n <= 0)
                        return false;
                *len += (size_t)n;
                out[*len] = '\0';
        }
        return true;
}

static void set_size(int fd, unsigned short rows, unsigned short cols)
{
        struct winsize ws = {.ws_row = rows, .ws_col = cols};

        cr_assert_eq(ioctl(fd, TIOCSWINSZ, &ws), 0);
}

/* -t: podrun's stdin and stdout are a terminal the test holds the other
 * end of. The command must get a terminal of the container's devpts at our
 * size, follow a resize, read typed keys, and get ^C as its own SIGINT
 * while podrun, in raw mode, lives on to report its exit status. */
Test(exec_podrun, tty_from_the_container_devpts, .init = fake_start, .fini = fake_stop,
     .timeout = 60)
{
        _cleanup_free_ char *exe = pr_asprintf("%s/pod/cli/podrun", getenv("PODRUN_BUILD_DIR"));
        int master, status, unlock = 0;
        char out[8192] = "";
        size_t len = 0;
        pid_t pid;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(master, 0);
        cr_assert_eq(ioctl(master, TIOCSPTLCK, &unlock), 0);
        set_size(master, 40, 100);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);

                if (slave < 0 || setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                        _exit(99);
                (void)dup2(slave, 0);
                (void)dup2(slave, 1);
                (void)dup2(slave, 2);
                execl(exe, exe, "--run-dir", F.run_dir, "exec", "-t", "app", "--", "sh", "-c",
                      "tty; test -t 0 && echo in-is-tty; stty size; read x; echo got-$x; "
                      "stty size; trap 'echo caught-int; exit 5' INT; echo armed; read y; "
                      "echo not-interrupted",
                      NULL);
                _exit(98);
        }
        F.podrun = pid;
        cr_assert(read_until(master, out, sizeof(out), &len, "40 100\r\n"), "%s", out);
        cr_assert(strstr(out, "/dev/pts/0\r\n"), "%s", out);
        cr_assert(strstr(out, "in-is-tty"), "%s", out);
        set_size(master, 50, 120);
        usleep(300 * 1000);
        cr_assert_eq(write(master, "abc\r", 4), 4);
        cr_assert(read_until(master, out, sizeof(out), &len, "armed"), "%s", out);
        cr_assert(strstr(out, "got-abc\r\n50 120\r\n"), "%s", out);
        cr_assert_eq(write(master, "\x03", 1), 1);
        cr_assert(read_until(master, out, sizeof(out), &len, "caught-int"), "%s", out);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5, "status %d, output: %s", status,
                  out);
        cr_assert_null(strstr(out, "not-interrupted"), "%s", out);
        (void)close(master);
}

static char *status_line(const char *status, const char *key)
{
        const char *p = strstr(status, key), *nl;

        cr_assert_not_null(p, "no %s in %s", key, status);
        nl = strchr(p, '\n');
        return pr_strndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

/* The command has PID 1's uid, capability sets and seccomp filter. */
Test(exec_podrun, takes_identity_capabilities_and_seccomp, .init = fake_start_restricted,
     .fini = fake_stop)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/status", (int)F.pid);
        _cleanup_free_ char *pid1 = NULL, *bnd = NULL, *eff = NULL, *bnd2 = NULL, *eff2 = NULL;
        struct pr_error err = {};
        struct run r;

        cr_assert_eq(pr_read_file(path, 1 << 16, &pid1, NULL, &err), 0);
        r = PODRUN(NULL, "exec", "app", "--", "id");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert(pr_startswith(r.out, "uid=1000 gid=1000"), "%s", r.out);
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "cat", "/proc/self/status");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        bnd = status_line(pid1, "CapBnd:");
        bnd2 = status_line(r.out, "CapBnd:");
        cr_assert_str_eq(bnd2, bnd);
        cr_assert_str_eq(bnd2, "CapBnd:\t0000000000000021");
        eff = status_line(pid1, "CapEff:");
        eff2 = status_line(r.out, "CapEff:");
        cr_assert_str_eq(eff2, eff);
        cr_assert(strstr(r.out, "Seccomp:\t2\n"), "%s", r.out);
        run_done(&r);
        /* /tmp is writable, but the filter refuses mkdir. */
        r = PODRUN(NULL, "exec", "app", "--", "sh", "-c", "echo x > /tmp/f && cat /tmp/f");
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        cr_assert_str_eq(r.out, "x\n");
        run_done(&r);
        r = PODRUN(NULL, "exec", "app", "--", "mkdir", "/tmp/d");
        cr_assert_eq(r.status, 1, "mkdir was not refused: %s", r.err);
        cr_assert(strstr(r.err, "Operation not permitted"), "%s", r.err);
        run_done(&r);
}

/* Killed while relaying, podrun leaves the user's terminal as it found it
 * and exits 128 + the signal. */
Test(exec_podrun, tty_restored_when_podrun_is_killed, .init = fake_start, .fini = fake_stop,
     .timeout = 60)
{
        _cleanup_free_ char *exe = pr_asprintf("%s/pod/cli/podrun", getenv("PODRUN_BUILD_DIR"));
        int master, slave, status, unlock = 0;
        struct termios before, during, after;
        char out[4096] = "";
        size_t len = 0;
        pid_t pid;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(master, 0);
        cr_assert_eq(ioctl(master, TIOCSPTLCK, &unlock), 0);
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        cr_assert_geq(slave, 0);
        cr_assert_eq(tcgetattr(slave, &before), 0);
        cr_assert(before.c_lflag & ICANON);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                        _exit(99);
                (void)dup2(slave, 0);
                (void)dup2(slave, 1);
                (void)dup2(slave, 2);
                execl(exe, exe, "--run-dir", F.run_dir, "exec", "-t", "app", "--", "sh", "-c",
                      "echo running; exec sleep 100", NULL);
                _exit(98);
        }
        F.podrun = pid;
        cr_assert(read_until(master, out, sizeof(out), &len, "running"), "%s", out);
        cr_assert_eq(tcgetattr(slave, &during), 0);
        cr_assert_not(during.c_lflag & ICANON, "the terminal is not raw during the session");
        cr_assert_eq(kill(pid, SIGTERM), 0);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        F.podrun = 0;
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 143, "status %d", status);
        cr_assert_eq(tcgetattr(slave, &after), 0);
        cr_assert_eq(after.c_lflag, before.c_lflag);
        cr_assert_eq(after.c_iflag, before.c_iflag);
        cr_assert_eq(after.c_oflag, before.c_oflag);
        (void)close(slave);
        (void)close(master);
}
