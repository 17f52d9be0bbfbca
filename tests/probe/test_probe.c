/* The probe's own tests: each runs the real static probe in namespaces the
 * test makes (root required), so the facts integration tests will read from
 * inside containers are known to be right. Every namespace, process and
 * file made here goes when the test's process ends. */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

TestSuite(probe);

static const char *probe_path(void)
{
        const char *p = getenv("PROBE");

        cr_assert_not_null(p, "PROBE is not set (run through meson test)");
        return p;
}

static void require_root(void)
{
        if (geteuid() != 0)
                cr_skip_test("needs root");
}

/* What runs in the child between fork and exec. */
typedef void (*child_setup_fn)(void);

struct run {
        pid_t pid;
        int out; /* read end of the child's stdout + stderr */
};

static struct run start_at(const char *exe, child_setup_fn setup, const char *const argv[])
{
        struct run r;
        int p[2];

        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        r.pid = fork();
        cr_assert_geq(r.pid, 0);
        if (r.pid == 0) {
                (void)dup2(p[1], STDOUT_FILENO);
                (void)dup2(p[1], STDERR_FILENO);
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (setup)
                        setup();
                execv(exe, (char *const *)argv);
                _exit(127);
        }
        (void)close(p[1]);
        r.out = p[0];
        return r;
}

static struct run start(child_setup_fn setup, const char *const argv[])
{
        return start_at(probe_path(), setup, argv);
}

static char *read_all(int fd)
{
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);
        ssize_t n;

        cr_assert_not_null(buf);
        while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
                len += (size_t)n;
                if (cap - len < 2) {
                        cap *= 2;
                        buf = realloc(buf, cap);
                        cr_assert_not_null(buf);
                }
        }
        buf[len] = '\0';
        return buf;
}

/* Runs the probe to the end; returns its output, *status its wait status. */
static char *run(child_setup_fn setup, const char *const argv[], int *status)
{
        struct run r = start(setup, argv);
        char *out = read_all(r.out);

        (void)close(r.out);
        cr_assert_eq(waitpid(r.pid, status, 0), r.pid);
        return out;
}

static char *run_ok(child_setup_fn setup, const char *const argv[])
{
        int status;
        char *out = run(setup, argv, &status);

        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "probe %s: status %#x: %s",
                  argv[1], status, out);
        return out;
}

/* Reads one line (for "listening PORT" and "ready" handshakes). */
static void expect_line(int fd, const char *want)
{
        char buf[256];
        size_t len = 0;

        while (len < sizeof(buf) - 1 && read(fd, buf + len, 1) == 1 && buf[len] != '\n')
                len++;
        buf[len] = '\0';
        cr_assert_str_eq(buf, want);
}

static void stop(struct run *r)
{
        (void)kill(r->pid, SIGKILL);
        (void)waitpid(r->pid, NULL, 0);
        (void)close(r->out);
}

static void unshare_all(void)
{
        if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
}

static void lo_up(void)
{
        struct ifreq ifr = {};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        cr_assert_geq(fd, 0);
        strcpy(ifr.ifr_name, "lo");
        cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
        ifr.ifr_flags |= IFF_UP;
        cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
        (void)close(fd);
}

Test(probe, hostname_and_namespaces_from_inside)
{
        const char *argv_ns[] = {"probe", "ns", NULL};
        const char *argv_host[] = {"hostname", NULL};
        char host_net[128] = "", line[64];
        char *out;
        ssize_t n;

        require_root();
        n = readlink("/proc/self/ns/net", host_net, sizeof(host_net) - 1);
        cr_assert_gt(n, 0);
        unshare_all();
        cr_assert_eq(sethostname("probe-test", 10), 0);
        /* Called through a link named after the command, as in the image. */
        {
                char dir[] = "/tmp/podrun-probe-XXXXXX", link[64];
                struct run r;
                int status;

                cr_assert_not_null(mkdtemp(dir));
                (void)snprintf(link, sizeof(link), "%s/hostname", dir);
                cr_assert_eq(symlink(probe_path(), link), 0);
                r = start_at(link, NULL, argv_host);
                out = read_all(r.out);
                (void)close(r.out);
                cr_assert_eq(waitpid(r.pid, &status, 0), r.pid);
                (void)unlink(link);
                (void)rmdir(dir);
                cr_assert_str_eq(out, "probe-test\n");
                free(out);
        }
        out = run_ok(NULL, argv_ns);
        (void)snprintf(line, sizeof(line), "net %.*s\n", (int)n, host_net);
        cr_assert_null(strstr(out, line), "net namespace not the test's own: %s", out);
        cr_assert(strstr(out, "uts uts:["), "%s", out);
        cr_assert(strstr(out, "user user:["), "%s", out);
        free(out);
}

static void new_pid_ns(void)
{
        if (unshare(CLONE_NEWPID) < 0)
                _exit(125);
}

/* In a new pid namespace the probe's child is PID 1 and sees only itself
 * once /proc is mounted for that namespace. */
static void pid1_with_proc(void)
{
        pid_t pid;
        int status;

        if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
                _exit(125);
        pid = fork();
        if (pid < 0)
                _exit(125);
        if (pid > 0) {
                (void)waitpid(pid, &status, 0);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 126);
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                _exit(124);
}

Test(probe, pid_and_ps_in_a_pid_namespace)
{
        const char *argv_pid[] = {"probe", "pid", NULL};
        const char *argv_ps[] = {"probe", "ps", NULL};
        char *out;

        require_root();
        out = run_ok(pid1_with_proc, argv_pid);
        cr_assert_str_eq(out, "1\n");
        free(out);
        out = run_ok(pid1_with_proc, argv_ps);
        cr_assert_str_eq(out, "1 probe\n");
        free(out);
}

static bool alive_after(pid_t pid, int ms)
{
        struct timespec ts = {0, 10 * 1000 * 1000};

        for (int i = 0; i < ms / 10; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return false;
                (void)nanosleep(&ts, NULL);
        }
        return true;
}

/* As PID 1 the kernel drops SIGTERM unless a handler is installed: `sleep
 * --term` exits 0 on it, plain `sleep` ignores it. */
Test(probe, sleep_as_pid1_and_sigterm)
{
        const char *with_term[] = {"probe", "sleep", "inf", "--term", NULL};
        const char *without[] = {"probe", "sleep", "inf", NULL};
        int status;

        require_root();
        /* unshare(CLONE_NEWPID) affects children only: the forked process
         * unshares, and its own child is PID 1. */
        {
                pid_t pid;
                int p[2];
                cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
                pid = fork();
                cr_assert_geq(pid, 0);
                if (pid == 0) {
                        /* The grandchild is PID 1; report its status. */
                        pid_t c;
                        new_pid_ns();
                        c = fork();
                        if (c == 0) {
                                execv(probe_path(), (char *const *)with_term);
                                _exit(127);
                        }
                        (void)write(p[1], &c, sizeof(c));
                        (void)waitpid(c, &status, 0);
                        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
                }
                (void)close(p[1]);
                {
                        pid_t c;
                        struct timespec ts = {0, 100 * 1000 * 1000};
                        cr_assert_eq(read(p[0], &c, sizeof(c)), (ssize_t)sizeof(c));
                        (void)nanosleep(&ts, NULL); /* let it install its handler */
                        cr_assert_eq(kill(c, SIGTERM), 0, "kill %d: %s", (int)c, strerror(errno));
                }
                cr_assert_eq(waitpid(pid, &status, 0), pid);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
                (void)close(p[0]);
        }
        {
                pid_t pid, c;
                int p[2];
                cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
                pid = fork();
                cr_assert_geq(pid, 0);
                if (pid == 0) {
                        new_pid_ns();
                        c = fork();
                        if (c == 0) {
                                execv(probe_path(), (char *const *)without);
                                _exit(127);
                        }
                        (void)write(p[1], &c, sizeof(c));
                        (void)waitpid(c, &status, 0);
                        _exit(WIFSIGNALED(status) ? 100 + WTERMSIG(status) : 0);
                }
                (void)close(p[1]);
                cr_assert_eq(read(p[0], &c, sizeof(c)), (ssize_t)sizeof(c));
                cr_assert_eq(kill(c, SIGTERM), 0);
                cr_assert(alive_after(pid, 300), "PID 1 without a handler died of SIGTERM");
                cr_assert_eq(kill(c, SIGKILL), 0);
                cr_assert_eq(waitpid(pid, &status, 0), pid);
                cr_assert_eq(WEXITSTATUS(status), 100 + SIGKILL);
                (void)close(p[0]);
        }
}

Test(probe, exit_echo_lines_write_cat)
{
        char dir[] = "/tmp/podrun-probe-XXXXXX", file[64];
        const char *argv_exit[] = {"probe", "exit", "42", NULL};
        const char *argv_echo[] = {"probe", "echo", "a", "b c", NULL};
        const char *argv_lines[] = {"probe", "lines", "3", "--width", "10", NULL};
        const char *argv_cat[] = {"probe", "cat", file, NULL};
        const char *argv_write[] = {"probe", "write", file, "hello", NULL};
        const char *argv_missing[] = {"probe", "cat", "/nonexistent/x", NULL};
        int status;
        char *out;

        out = run(NULL, argv_exit, &status);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42);
        free(out);
        out = run_ok(NULL, argv_echo);
        cr_assert_str_eq(out, "a b c\n");
        free(out);
        out = run_ok(NULL, argv_lines);
        cr_assert_str_eq(out, "line 1xxxx\nline 2xxxx\nline 3xxxx\n");
        free(out);
        cr_assert_not_null(mkdtemp(dir));
        (void)snprintf(file, sizeof(file), "%s/f", dir);
        free(run_ok(NULL, argv_write));
        out = run_ok(NULL, argv_cat);
        cr_assert_str_eq(out, "hello\n");
        free(out);
        (void)unlink(file);
        (void)rmdir(dir);
        out = run(NULL, argv_missing, &status);
        cr_assert_str_eq(out, "ENOENT\n");
        cr_assert_eq(WEXITSTATUS(status), 1);
        free(out);
}

static void drop_sys_admin(void)
{
        if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0)
                _exit(125);
}

Test(probe, try_and_caps_follow_the_bounding_set)
{
        const char *argv_try[] = {"probe", "try", "sethostname", NULL};
        const char *argv_mount[] = {"probe", "try", "mount", NULL};
        const char *argv_caps[] = {"probe", "caps", NULL};
        const char *argv_bad[] = {"probe", "try", "no-such-op", NULL};
        char bnd[64];
        int status;
        char *out;

        require_root();
        unshare_all();
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        out = run_ok(NULL, argv_try);
        cr_assert_str_eq(out, "ok\n");
        free(out);
        out = run_ok(NULL, argv_mount);
        cr_assert_str_eq(out, "ok\n");
        free(out);
        out = run(drop_sys_admin, argv_try, &status);
        cr_assert_str_eq(out, "EPERM\n");
        cr_assert_eq(WEXITSTATUS(status), 1);
        free(out);
        out = run(drop_sys_admin, argv_mount, &status);
        cr_assert_str_eq(out, "EPERM\n");
        free(out);
        out = run_ok(drop_sys_admin, argv_caps);
        {
                char *b = strstr(out, "CapBnd ");
                unsigned long long v;
                cr_assert_not_null(b, "%s", out);
                cr_assert_eq(sscanf(b, "CapBnd %63s", bnd), 1);
                v = strtoull(bnd, NULL, 16);
                cr_assert_eq(v & (1ULL << CAP_SYS_ADMIN), 0, "%s", out);
                cr_assert_neq(v & (1ULL << CAP_CHOWN), 0, "%s", out);
        }
        cr_assert(strstr(out, "CapAmb 0000000000000000\n"), "%s", out);
        cr_assert(strstr(out, "NoNewPrivs 0\n"), "%s", out);
        free(out);
        out = run(NULL, argv_bad, &status);
        cr_assert_eq(WEXITSTATUS(status), 2);
        free(out);
}

static void new_ipc_ns(void)
{
        if (unshare(CLONE_NEWIPC) < 0)
                _exit(125);
}

Test(probe, sysv_queues_stay_in_their_ipc_namespace)
{
        const char *argv_create[] = {"probe", "ipc-create", "4242", NULL};
        const char *argv_check[] = {"probe", "ipc-check", "4242", NULL};
        int status;
        char *out;

        require_root();
        if (unshare(CLONE_NEWIPC) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        out = run(NULL, argv_check, &status);
        cr_assert_str_eq(out, "ENOENT\n");
        free(out);
        free(run_ok(NULL, argv_create));
        out = run_ok(NULL, argv_check);
        cr_assert_str_eq(out, "ok\n");
        free(out);
        out = run(new_ipc_ns, argv_check, &status);
        cr_assert_str_eq(out, "ENOENT\n");
        free(out);
}

Test(probe, addrs_and_network_round_trips_on_loopback)
{
        const char *argv_addrs[] = {"probe", "addrs", NULL};
        const char *argv_listen[] = {"probe", "tcp-listen", "7001", NULL};
        const char *argv_connect[] = {"probe", "tcp-connect", "127.0.0.1", "7001", NULL};
        const char *argv_refused[] = {"probe", "tcp-connect", "127.0.0.1", "7009", NULL};
        const char *argv_echo[] = {"probe", "udp-echo", "7002", NULL};
        const char *argv_send[] = {"probe", "udp-send", "::1", "7002", "ping", NULL};
        const char *argv_serve[] = {"probe", "http-serve", "7003", "503", NULL};
        const char *argv_get[] = {"probe", "http-get", "localhost", "7003", "/healthz", NULL};
        struct run srv;
        int status;
        char *out;

        require_root();
        unshare_all();
        out = run_ok(NULL, argv_addrs);
        cr_assert_str_eq(out, "lo down\n");
        free(out);
        lo_up();
        cr_assert_eq(sethostname("net-probe", 9), 0);
        out = run_ok(NULL, argv_addrs);
        cr_assert(strstr(out, "lo up\n"), "%s", out);
        cr_assert(strstr(out, "lo inet 127.0.0.1/8\n"), "%s", out);
        free(out);

        srv = start(NULL, argv_listen);
        expect_line(srv.out, "listening 7001");
        out = run_ok(NULL, argv_connect);
        cr_assert_str_eq(out, "net-probe\n");
        free(out);
        stop(&srv);
        out = run(NULL, argv_refused, &status);
        cr_assert_str_eq(out, "ECONNREFUSED\n");
        free(out);

        srv = start(NULL, argv_echo);
        expect_line(srv.out, "listening 7002");
        out = run_ok(NULL, argv_send);
        cr_assert_str_eq(out, "ping\n");
        free(out);
        stop(&srv);

        srv = start(NULL, argv_serve);
        expect_line(srv.out, "listening 7003");
        out = run(NULL, argv_get, &status);
        cr_assert_str_eq(out, "HTTP/1.0 503 probe\nnet-probe\n");
        cr_assert_eq(WEXITSTATUS(status), 1);
        free(out);
        stop(&srv);
}

static void limit_address_space(void)
{
        struct rlimit rl = {64 << 20, 64 << 20};

        if (setrlimit(RLIMIT_AS, &rl) < 0)
                _exit(125);
}

/* As nobody, with RLIMIT_NPROC: root is exempt from the limit. */
static void limit_processes(void)
{
        struct rlimit rl = {16, 16};

        if (setrlimit(RLIMIT_NPROC, &rl) < 0 || setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
            setuid(65534) < 0)
                _exit(125);
}

Test(probe, grow_and_forkbomb_stop_at_their_limits)
{
        const char *argv_grow[] = {"probe", "grow", "8", NULL};
        const char *argv_bomb[] = {"probe", "forkbomb", NULL};
        struct run r;
        char buf[4096];
        size_t len = 0;
        ssize_t n;
        int forked = -1, status;
        char err[32], *out;

        require_root();
        r = start(limit_address_space, argv_grow);
        while (len < sizeof(buf) - 1 && (n = read(r.out, buf + len, sizeof(buf) - 1 - len)) > 0) {
                len += (size_t)n;
                buf[len] = '\0';
                if (strstr(buf, "stuck at"))
                        break;
        }
        stop(&r);
        cr_assert(strstr(buf, "8 MB\n"), "%s", buf);
        cr_assert(strstr(buf, "stuck at") && strstr(buf, "ENOMEM"), "%s", buf);

        out = run(limit_processes, argv_bomb, &status);
        cr_assert_eq(WEXITSTATUS(status), 0, "%s", out);
        cr_assert_eq(sscanf(out, "%d %31s", &forked, err), 2, "%s", out);
        cr_assert_lt(forked, 16, "%s", out);
        cr_assert_str_eq(err, "EAGAIN");
        free(out);
}
