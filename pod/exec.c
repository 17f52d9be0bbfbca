/* `podrun exec`: a new process inside a running container. It owns the
 * entry: a helper that joins the container's cgroups and namespaces, forks
 * the command, which takes the container's identity, capabilities, seccomp
 * filters, cwd and env and execs; the parent's side of waiting for it
 * (exec_run) or not (exec_spawn, for the supervisor). What is copied is read
 * from the container's PID 1 in exec-target.c, so it needs no plan or
 * manifest; the pty relay is exec-tty.c. It must never leave a host fd
 * reachable inside the container (the helper is not dumpable, every fd is
 * close-on-exec). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"
#include "pod/exec-int.h"
#include "pod/exec.h"

#define P_PIDFD_ 3 /* glibc 2.36 lacks P_PIDFD */

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* What the child sends back over the close-on-exec pipe when it fails
 * before execve; EOF means the command is running. */
struct exec_record {
        int code;   /* errno */
        int status; /* 127, 126, or 1 for a failure to join */
        char msg[PR_ERROR_MSG_MAX];
};

/* CHILD: loads the filters oldest first, as PID 1 got them, while we still
 * hold CAP_SYS_ADMIN (the container may not have no_new_privs). */
static int load_seccomp(const struct exec_ctx *x, struct pr_error *err)
{
        for (size_t i = x->n_filters; i > 0; i--)
                if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &x->filters[i - 1], 0, 0) < 0)
                        return pr_err(err, errno, "load seccomp filter %zu", i - 1);
        return 0;
}

/* ---- the children ------------------------------------------------------ */

/* CHILD: sends the failure to the parent and exits. */
static void __attribute__((noreturn)) child_fail(int fd, int status, const struct pr_error *err)
{
        struct exec_record rec = {.code = err->code ? err->code : EIO, .status = status};

        memcpy(rec.msg, err->msg, sizeof(rec.msg));
        (void)!write(fd, &rec, sizeof(rec));
        _exit(status);
}

static int capset_all(const struct exec_identity *id)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2] = {
            {.effective = (uint32_t)id->cap_eff,
             .permitted = (uint32_t)id->cap_prm,
             .inheritable = (uint32_t)id->cap_inh},
            {.effective = (uint32_t)(id->cap_eff >> 32),
             .permitted = (uint32_t)(id->cap_prm >> 32),
             .inheritable = (uint32_t)(id->cap_inh >> 32)},
        };

        return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* CHILD, in the container's namespaces: becomes the container's user with
 * its capability sets. The bounding set is cut first (that needs
 * CAP_SETPCAP, which we still have), capabilities survive the uid change
 * through KEEPCAPS, and the sets are then made exactly the container's. */
static int become(const struct exec_ctx *x, struct pr_error *err)
{
        const struct exec_identity *id = &x->id;
        int r;

        for (int c = 0; c <= x->last_cap; c++)
                if (!(id->cap_bnd & (UINT64_C(1) << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return pr_err(err, errno, "drop capability %d from the bounding set", c);
        r = load_seccomp(x, err);
        if (r < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return pr_err(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if (setgroups(id->n_groups, id->groups) < 0)
                return pr_err(err, errno, "setgroups");
        if (setresgid(id->gid, id->gid, id->gid) < 0)
                return pr_err(err, errno, "setresgid %u", (unsigned)id->gid);
        if (setresuid(id->uid, id->uid, id->uid) < 0)
                return pr_err(err, errno, "setresuid %u", (unsigned)id->uid);
        if (capset_all(id) < 0)
                return pr_err(err, errno, "capset");
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return pr_err(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pr_err(err, errno, "clear ambient capabilities");
        for (int c = 0; c <= x->last_cap; c++)
                if ((id->cap_amb & (UINT64_C(1) << c)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return pr_err(err, errno, "raise ambient capability %d", c);
        if (id->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return pr_err(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        return 0;
}

static const char *env_get(char **env, const char *name)
{
        size_t n = strlen(name);

        for (char **e = env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

/* CHILD: execve with a $PATH search inside the container, as runc does;
 * returns only on failure, with the status runc gives (127 not found,
 * 126 found but not executable). */
static int exec_command(const struct exec_ctx *x, struct pr_error *err)
{
        const char *cmd = x->o->argv[0], *path;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        int denied = 0;

        if (strchr(cmd, '/')) {
                (void)execve(cmd, x->o->argv, x->env);
                (void)pr_err(err, errno, "exec: \"%s\"", cmd);
                return errno == EACCES || errno == ENOEXEC ? 126 : 127;
        }
        path = env_get(x->env, "PATH");
        copy = pr_strdup(path ? path : DEFAULT_PATH);
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *full = pr_asprintf("%s/%s", *dir ? dir : ".", cmd);

                (void)execve(full, x->o->argv, x->env);
                if (errno == EACCES)
                        denied = EACCES;
                else if (errno != ENOENT && errno != ENOTDIR)
                        denied = errno;
        }
        if (denied) {
                (void)pr_err(err, denied, "exec: \"%s\"", cmd);
                return 126;
        }
        (void)pr_err_msg(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", cmd);
        return 127;
}

/* GRANDCHILD, inside every namespace of the container: the command. */
static void __attribute__((noreturn)) run_command(const struct exec_ctx *x, int errfd)
{
        struct pr_error err = {};
        sigset_t none;
        int status;

        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (x->out_fd >= 0 && (dup2(x->out_fd, 1) < 0 || dup2(x->out_fd, 2) < 0)) {
                (void)pr_err(&err, errno, "stdout");
                child_fail(errfd, 1, &err);
        }
        if (x->o->tty) {
                /* Its own session, with the pty as controlling terminal, so
                 * ^C typed by the user becomes SIGINT for it alone. */
                if (setsid() < 0 || ioctl(x->pty_slave, TIOCSCTTY, 0) < 0) {
                        (void)pr_err(&err, errno, "pty: controlling terminal");
                        child_fail(errfd, 1, &err);
                }
                for (int fd = 0; fd < 3; fd++)
                        if (dup2(x->pty_slave, fd) < 0)
                                child_fail(errfd, 1, &err);
        } else if (!x->o->interactive && dup2(x->null_fd, 0) < 0) {
                (void)pr_err(&err, errno, "stdin");
                child_fail(errfd, 1, &err);
        }
        /* Its working directory, by the fd opened on the host side: a
         * path string could be swapped by the container. */
        if (fchdir(x->cwd_fd) < 0) {
                (void)pr_err(&err, errno, "working directory");
                child_fail(errfd, 1, &err);
        }
        if (become(x, &err) < 0)
                child_fail(errfd, 1, &err);
        /* exec_spawn: a probe that timed out is ended by killing the helper,
         * so the command must die with it. Set after become(), since a
         * change of credentials clears it; the helper is outside our pid
         * namespace (getppid() is 0 here) until it dies and we are
         * re-parented, which the second look catches. */
        if (x->out_fd >= 0) {
                pid_t parent = getppid();

                if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
                        _exit(137);
        }
        status = exec_command(x, &err);
        child_fail(errfd, status, &err);
}

static void join_cgroups(const struct exec_ctx *x, int errfd)
{
        struct pr_error err = {};
        char pid[32];
        int len = snprintf(pid, sizeof(pid), "%d", (int)getpid());

        for (char **p = x->cgroup_procs; p && *p; p++) {
                _cleanup_close_ int fd = open(*p, O_WRONLY | O_CLOEXEC);

                if (fd < 0 || write(fd, pid, (size_t)len) != len) {
                        (void)pr_err(&err, errno, "join cgroup '%s'", *p);
                        child_fail(errfd, 1, &err);
                }
        }
}

/* CHILD: joins the cgroups while the host's cgroupfs is still in view,
 * then all namespaces at once through the pidfd (atomic since 5.8), then
 * forks, because only children enter the new pid namespace. It stays to
 * pass the command's status on as its own exit code. */
static void __attribute__((noreturn)) run_helper(const struct exec_ctx *x, int errfd)
{
        struct pr_error err = {};
        int status;
        pid_t pid;

        /* Not dumpable: nothing in the container may open our host fds
         * through /proc/<pid>/fd before execve closes them. */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* 2. helper: cgroups, then namespaces. */
        join_cgroups(x, errfd);
        if (x->ns_flags && setns(x->pidfd, x->ns_flags) < 0) {
                (void)pr_err(&err, errno, "join the namespaces of container pid %d",
                             (int)x->o->pid);
                child_fail(errfd, 1, &err);
        }
        /* 3. helper: fork the command, which execs (EOF on the pipe) or
         * writes its failure there and exits 126, 127 or 1. */
        pid = fork();
        if (pid < 0) {
                (void)pr_err(&err, errno, "fork");
                child_fail(errfd, 1, &err);
        }
        if (pid == 0)
                run_command(x, errfd);
        /* 4. helper: wait and pass the command's status on. */
        (void)close(errfd);
        if (x->pty_slave >= 0)
                (void)close(x->pty_slave);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(1);
        if (WIFSIGNALED(status))
                _exit(128 + WTERMSIG(status));
        _exit(WEXITSTATUS(status));
}

/* ---- the parent -------------------------------------------------------- */

/* The helper's record: none (EOF) means the command ran. */
static int read_record(int fd, struct exec_record *rec)
{
        size_t got = 0;

        while (got < sizeof(*rec)) {
                ssize_t n = read(fd, (char *)rec + got, sizeof(*rec) - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        return got == sizeof(*rec) ? 1 : 0;
}

static int wait_helper(pid_t *pid, int *ret_status)
{
        int status;

        while (waitpid(*pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *pid = 0;
        *ret_status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        return 0;
}

int exec_run(const struct exec_options *o, int *ret_status, struct pr_error *err)
{
        struct exec_ctx x = {
            .o = o, .pidfd = -1, .cwd_fd = -1, .null_fd = -1, .pty_slave = -1, .out_fd = -1};
        _cleanup_close_ int master = -1, helper_pidfd = -1;
        _cleanup_pid_ pid_t helper = 0;
        int errpipe[2] = {-1, -1}, status = 0, r;
        int in_fd = o->in_fd >= 0 ? o->in_fd : 0, out_fd = o->out_fd >= 0 ? o->out_fd : 1;
        struct exec_record rec;

        r = exec_open_container(o, &x, err);
        if (r >= 0 && o->tty)
                r = exec_open_pty(o->pid, &master, &x.pty_slave, err);
        if (r >= 0 && pipe2(errpipe, O_CLOEXEC) < 0)
                r = pr_err(err, errno, "pipe2");
        if (r < 0)
                goto out;
        if (o->tty)
                exec_copy_winsize(isatty(in_fd) ? in_fd : out_fd, master);
        /* 1. parent: fork the helper, which joins the container (2.). */
        helper = fork();
        if (helper < 0) {
                r = pr_err(err, errno, "fork");
                goto out;
        }
        if (helper == 0) {
                (void)close(errpipe[0]);
                run_helper(&x, errpipe[1]);
        }
        (void)close(errpipe[1]);
        errpipe[1] = -1;
        if (o->tty) {
                (void)close(x.pty_slave);
                x.pty_slave = -1;
                helper_pidfd = (int)syscall(SYS_pidfd_open, helper, 0);
                r = exec_relay_session(in_fd, out_fd, master, helper_pidfd, err);
                if (r < 0)
                        goto out;
                if (r > 0) {
                        /* We were told to go: the command loses its
                         * terminal (SIGHUP) when the pty closes. */
                        (void)kill(helper, SIGKILL);
                        (void)wait_helper(&helper, &status);
                        *ret_status = r;
                        r = 0;
                        goto out;
                }
        }
        /* 5. parent: the helper's exit carries the command's status; a
         * record in the pipe says the command never ran. */
        r = wait_helper(&helper, &status);
        if (r < 0) {
                r = pr_err(err, -r, "exec: wait");
                goto out;
        }
        if (read_record(errpipe[0], &rec)) {
                if (rec.status < 126) {
                        r = pr_err_msg(err, rec.code, "%s", rec.msg);
                        goto out;
                }
                (void)pr_err_msg(err, rec.code, "%s", rec.msg);
        }
        *ret_status = status;
        r = 0;
out:
        if (errpipe[0] >= 0)
                (void)close(errpipe[0]);
        if (errpipe[1] >= 0)
                (void)close(errpipe[1]);
        exec_ctx_done(&x);
        return r;
}

/* ---- without waiting: the supervisor's probes and hooks ---------------- */

/* The helper is cloned with no exit signal: SIGCHLD never announces it, so
 * the supervisor's orphan reaper (waitid(P_ALL) without __WALL) can neither
 * see nor steal it, and only exec_child_reap() (with __WALL) reaps it. */
static pid_t clone_quiet(int *ret_pidfd)
{
        struct clone_args args = {.flags = CLONE_PIDFD, .exit_signal = 0};
        long r;

        args.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
        r = syscall(SYS_clone3, &args, sizeof(args));
        return r < 0 ? -errno : (pid_t)r;
}

/* CHILD: the supervisor's signal handlers (libuv's, writing to the loop's
 * pipe) must not run here, or a signal to the helper would look like one
 * to the supervisor. */
static void reset_signals(void)
{
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

int exec_spawn(const struct exec_options *o, struct exec_child *ret, struct pr_error *err)
{
        struct exec_ctx x = {
            .o = o, .pidfd = -1, .cwd_fd = -1, .null_fd = -1, .pty_slave = -1, .out_fd = -1};
        int errpipe[2] = {-1, -1}, outpipe[2] = {-1, -1}, pidfd = -1, r;
        pid_t pid;

        assert(!o->tty && !o->interactive);
        r = exec_open_container(o, &x, err);
        if (r >= 0 && pipe2(errpipe, O_CLOEXEC) < 0)
                r = pr_err(err, errno, "pipe2");
        if (r >= 0 && pipe2(outpipe, O_CLOEXEC | O_NONBLOCK) < 0)
                r = pr_err(err, errno, "pipe2");
        if (r < 0)
                goto out;
        /* The write end blocks as a terminal would; only our end does not. */
        (void)fcntl(outpipe[1], F_SETFL, 0);
        x.out_fd = outpipe[1];
        pid = clone_quiet(&pidfd);
        if (pid < 0) {
                r = pr_err(err, -pid, "clone3");
                goto out;
        }
        if (pid == 0) {
                reset_signals();
                (void)close(errpipe[0]);
                (void)close(outpipe[0]);
                run_helper(&x, errpipe[1]);
        }
        *ret = (struct exec_child){
            .pid = pid, .pidfd = pidfd, .err_fd = errpipe[0], .out_fd = outpipe[0]};
        errpipe[0] = outpipe[0] = -1;
        r = 0;
out:
        for (int i = 0; i < 2; i++) {
                if (errpipe[i] >= 0)
                        (void)close(errpipe[i]);
                if (outpipe[i] >= 0)
                        (void)close(outpipe[i]);
        }
        exec_ctx_done(&x);
        return r;
}

int exec_child_reap(struct exec_child *c, int *ret_status, char *out, size_t out_size,
                    struct pr_error *err)
{
        siginfo_t si = {};
        struct exec_record rec;
        size_t got = 0;
        ssize_t n;

        if (c->pid <= 0)
                return pr_err_msg(err, ECHILD, "exec: no command");
        if (waitid((idtype_t)P_PIDFD_, (id_t)c->pidfd, &si, WEXITED | WNOHANG | __WALL) < 0)
                return pr_err(err, errno, "exec: wait");
        if (si.si_pid == 0)
                return -EAGAIN;
        c->pid = 0;
        while (out_size > 1 && got < out_size - 1 &&
               (n = read(c->out_fd, out + got, out_size - 1 - got)) > 0)
                got += (size_t)n;
        if (out_size > 0)
                out[got] = '\0';
        *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        if (read_record(c->err_fd, &rec)) {
                (void)pr_err_msg(err, rec.code, "%s", rec.msg);
                if (rec.status < 126)
                        return -(rec.code ? rec.code : EIO);
        }
        return 0;
}

void exec_child_close(struct exec_child *c)
{
        if (c->pid > 0 && c->pidfd >= 0) {
                siginfo_t si;

                /* After SIGKILL the wait is short: the helper never blocks
                 * in the kernel uninterruptibly. */
                (void)syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
                while (waitid((idtype_t)P_PIDFD_, (id_t)c->pidfd, &si, WEXITED | __WALL) < 0 &&
                       errno == EINTR)
                        ;
        }
        c->pid = 0;
        pr_closep(&c->pidfd);
        pr_closep(&c->err_fd);
        pr_closep(&c->out_fd);
        c->pidfd = c->err_fd = c->out_fd = -1;
}
