/* Starting a container: the parent side of ctr_spawn() (directories, pipes,
 * namespace fds, clone3, the after_clone hook) and the CHILD's whole life
 * between clone and execve (setns, cgroup namespace, rootfs via rootfs.c,
 * security hooks, identity, PATH lookup, exec), plus the start error record
 * and the removal of a container's writable layer. The child must never
 * return into the supervisor's code, run the supervisor's signal handlers,
 * keep an fd other than 0, 1, 2 across exec, or report an error except as one
 * {errno, message} record on its close-on-exec pipe. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/runtime-int.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "pod/state.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define START_ERROR_EXIT 127
#define TTY_TIMEOUT_MS 10000

/* One write of at most PIPE_BUF bytes is atomic: the parent reads the whole
 * record or nothing. */
struct start_error {
        int32_t code;
        char msg[PR_ERROR_MSG_MAX];
};
_Static_assert(sizeof(struct start_error) <= PIPE_BUF, "start error record must be atomic");

enum { NS_NET, NS_IPC, NS_UTS, NS_PID, NS_USER, _NS_MAX };
static const char *const ns_names[_NS_MAX] = {"net", "ipc", "uts", "pid", "user"};
static const int ns_types[_NS_MAX] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID,
                                      CLONE_NEWUSER};

/* Everything the child uses, prepared by the parent so the child needs no
 * allocation. */
struct child_ctx {
        const struct pod_plan *plan;
        const struct plan_container *c;
        const struct ctr_spawn_opts *opts;
        const size_t *mount_order;
        const char *path_env;
        int ns_fds[_NS_MAX];
        int sync_fd;  /* read end: sync point 3 */
        int err_fd;   /* write end of the start error pipe */
        int stdio[3]; /* the child's ends: stdin (or /dev/null), stdout, stderr */
        int tty_sock; /* tty: the socket the terminal's master goes back on, else -1 */
        uint32_t userns_start;
};

/* ---- the child ---------------------------------------------------------- */

/* Go's (and so runc's and kubelet's) spelling of errno texts: lower case. */
static void lower_strerror(int code, char *buf, size_t size)
{
        (void)snprintf(buf, size, "%s", strerror(code));
        if (buf[0] >= 'A' && buf[0] <= 'Z')
                buf[0] = (char)(buf[0] - 'A' + 'a');
}

static _Noreturn void child_fail(const struct child_ctx *x, const struct pr_error *err)
{
        struct start_error rec = {.code = err->code ? err->code : EIO};
        ssize_t n;

        (void)snprintf(rec.msg, sizeof(rec.msg), "%s", err->msg);
        do
                n = write(x->err_fd, &rec, sizeof(rec));
        while (n < 0 && errno == EINTR);
        _exit(START_ERROR_EXIT);
}

/* Moves the child's stdio pipes into 0, 1, 2. Every source is first copied
 * above 2, so no dup2() overwrites a source not yet placed. */
static int setup_stdio(struct child_ctx *x, struct pr_error *err)
{
        int high[3];

        for (int i = 0; i < 3; i++) {
                high[i] = fcntl(x->stdio[i], F_DUPFD_CLOEXEC, 3);
                if (high[i] < 0)
                        return pr_err(err, errno, "dup stdio");
        }
        for (int i = 0; i < 3; i++)
                if (dup2(high[i], i) < 0)
                        return pr_err(err, errno, "dup2 stdio");
        return 0;
}

/* setns() into the infra's namespaces comes first, before any mount: the
 * sysfs, mqueue and hostname the container sees are the pod's. */
static int join_pod(const struct child_ctx *x, struct pr_error *err)
{
        for (int i = NS_NET; i <= NS_UTS; i++)
                if (setns(x->ns_fds[i], ns_types[i]) < 0)
                        return pr_err(err, errno, "setns %s", ns_names[i]);
        /* Now, not at clone: after_clone has moved us into our cgroup, and a
         * cgroup namespace is rooted where its creator stands. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                return pr_err(err, errno, "unshare cgroup namespace");
        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return pr_err(err, errno, "make / a private mount");
        return 0;
}

static int send_fd(int sock, int fd)
{
        char data = 't';
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl = {};
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.buf,
            .msg_controllen = sizeof(ctl.buf),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* tty: true. The terminal comes from the container's own devpts instance
 * (so /dev/pts/0 exists inside and ttyname() works), opened after pivot;
 * the slave is taken with TIOCGPTPEER, never by a path the container could
 * swap. The master goes back to the parent over a socket, as runc's console
 * socket does; the slave becomes the controlling terminal and 0, 1, 2. */
static int setup_tty(const struct child_ctx *x, struct pr_error *err)
{
        _cleanup_close_ int master = -1, slave = -1;
        int unlock = 0, r;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return pr_err(err, errno, "open '/dev/ptmx'");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return pr_err(err, errno, "unlock the terminal");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return pr_err(err, errno, "open the terminal's slave");
        r = send_fd(x->tty_sock, master);
        if (r < 0)
                return pr_err(err, r, "send the terminal to the supervisor");
        if (setsid() < 0)
                return pr_err(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return pr_err(err, errno, "make the terminal the controlling one");
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return pr_err(err, errno, "dup2 the terminal");
        return 0;
}

/* hostUsers: false. The pod's user namespace is joined last, after every
 * mount, and not first as runc joins one: this container's mount, pid and
 * cgroup namespaces are owned by the host's user namespace (made at clone and
 * just after), so every mount above was made with host privilege: the
 * idmapped lower layer needs CAP_SYS_ADMIN over the image's file system, the
 * /dev nodes need CAP_MKNOD in the initial namespace and cgroup v1
 * hierarchies cannot be mounted from a child user namespace at all. The
 * net, ipc and uts namespaces joined before belong to the pod's user
 * namespace; host root may join them from outside. From here on every
 * capability is one of the pod's user namespace only, and the container can
 * neither mount nor unmount anything (docs/userns.md). */
static int join_userns(const struct child_ctx *x, struct pr_error *err)
{
        if (x->ns_fds[NS_USER] < 0)
                return 0;
        if (setns(x->ns_fds[NS_USER], CLONE_NEWUSER) < 0)
                return pr_err(err, errno, "setns user");
        return 0;
}

static int enter_cwd(const struct plan_container *c, struct pr_error *err)
{
        const char *cwd = c->working_dir && *c->working_dir ? c->working_dir : "/";
        char why[128];

        if (chdir(cwd) == 0)
                return 0;
        lower_strerror(errno, why, sizeof(why));
        return pr_err_msg(err, errno, "chdir to cwd (\"%s\") set in config.json failed: %s", cwd,
                          why);
}

/* Only 0, 1 and 2 survive into the container (CVE-2024-21626); the error
 * pipe is close-on-exec and goes at execve. */
static int close_fds(const struct child_ctx *x, struct pr_error *err)
{
        int e = x->err_fd;

        if (e > 3 && close_range(3, (unsigned)e - 1, 0) < 0)
                return pr_err(err, errno, "close_range");
        if (close_range((unsigned)e + 1, ~0U, 0) < 0)
                return pr_err(err, errno, "close_range");
        return 0;
}

static int set_identity(const struct child_ctx *x, struct pr_error *err)
{
        const struct plan_container *c = x->c;

        /* With a security profile, keep the permitted set across the uid
         * change: sec_apply_final() sets the capability sets itself. */
        if (x->opts && x->opts->security && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return pr_err(err, errno, "prctl PR_SET_KEEPCAPS");
        if (setgroups(c->n_groups, c->groups) < 0)
                return pr_err(err, errno, "setgroups");
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                return pr_err(err, errno, "setresgid %u", (unsigned)c->gid);
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                return pr_err(err, errno, "setresuid %u", (unsigned)c->uid);
        return 0;
}

/* execvp() with the container's own PATH, searched in the new root, with
 * runc's messages. */
static int exec_command(const struct child_ctx *x, struct pr_error *err)
{
        char *const *argv = x->c->argv;
        char *const *envp = x->c->env ? x->c->env : (char *[]){NULL};
        const char *dirs = x->path_env;
        char why[128], path[PATH_MAX];
        bool denied = false;
        sigset_t none;

        if (!argv || !argv[0] || !*argv[0])
                return pr_err_msg(err, EINVAL, "no command specified");
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (strchr(argv[0], '/')) {
                execve(argv[0], argv, envp);
                lower_strerror(errno, why, sizeof(why));
                return pr_err_msg(err, errno, "exec: \"%s\": %s", argv[0], why);
        }
        while (dirs) {
                const char *end = strchr(dirs, ':');
                size_t len = end ? (size_t)(end - dirs) : strlen(dirs);
                int n = snprintf(path, sizeof(path), "%.*s%s%s", (int)len, len ? dirs : ".",
                                 len && dirs[len - 1] == '/' ? "" : "/", argv[0]);

                if (n > 0 && (size_t)n < sizeof(path)) {
                        execve(path, argv, envp);
                        if (errno == EACCES)
                                denied = true;
                        else if (errno != ENOENT && errno != ENOTDIR) {
                                lower_strerror(errno, why, sizeof(why));
                                return pr_err_msg(err, errno, "exec: \"%s\": %s", argv[0], why);
                        }
                }
                dirs = end ? end + 1 : NULL;
        }
        if (denied)
                return pr_err_msg(err, EACCES, "exec: \"%s\": permission denied", argv[0]);
        return pr_err_msg(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", argv[0]);
}

/* A supervisor started with 0, 1 or 2 closed gets pipes and namespace fds
 * there; the dup2() onto stdio would silently replace them. Everything the
 * child still needs moves above 2 first. */
static int move_above_stdio(struct child_ctx *x)
{
        int *fds[3 + 3 + _NS_MAX] = {&x->sync_fd, &x->err_fd, &x->tty_sock};
        size_t n = 3;

        for (int i = 0; i < 3; i++)
                fds[n++] = &x->stdio[i];
        for (int i = 0; i < _NS_MAX; i++)
                fds[n++] = &x->ns_fds[i];
        for (size_t i = 0; i < n; i++) {
                if (*fds[i] < 0 || *fds[i] > 2)
                        continue;
                *fds[i] = fcntl(*fds[i], F_DUPFD_CLOEXEC, 3);
                if (*fds[i] < 0)
                        return -errno;
        }
        return 0;
}

/* CHILD. Sync point 3 first: nothing happens before the parent has run
 * after_clone (the cgroup move) and said go. */
static _Noreturn void child_main(struct child_ctx *x)
{
        const struct sec_profile *sec = x->opts ? x->opts->security : NULL;
        struct rootfs_ctx rctx = {.plan = x->plan,
                                  .c = x->c,
                                  .mount_order = x->mount_order,
                                  .userns_fd = x->ns_fds[NS_USER],
                                  .userns_start = x->userns_start};
        struct pr_error err = {};
        char go;
        ssize_t n;
        int r;

        /* Until execve this process is a copy of podrun, visible to the
         * pod's other processes with shareProcessNamespace: not dumpable, so
         * its /proc/<pid>/exe, root and fds need CAP_SYS_PTRACE
         * (CVE-2019-5736). execve resets the flag for the container's binary. */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* Signals stay blocked (the parent blocked them around clone) until
         * execve; the supervisor's handlers must never run in this process. */
        for (int sig = 1; sig < _NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        if (move_above_stdio(x) < 0)
                _exit(START_ERROR_EXIT);
        do
                n = read(x->sync_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(START_ERROR_EXIT); /* the parent gave up; it reports why */
        (void)close(x->sync_fd);
        umask(0);
        r = setup_stdio(x, &err);
        if (r >= 0)
                r = join_pod(x, &err);
        if (r >= 0)
                r = rootfs_setup(&rctx, &err);
        if (r >= 0 && sec)
                r = sec_apply_masks(sec, &err);
        if (r >= 0 && x->tty_sock >= 0)
                r = setup_tty(x, &err);
        if (r >= 0)
                r = enter_cwd(x->c, &err);
        if (r >= 0)
                r = join_userns(x, &err);
        if (r >= 0)
                r = close_fds(x, &err);
        if (r >= 0)
                r = set_identity(x, &err);
        if (r >= 0 && sec)
                r = sec_apply_final(sec, &err);
        if (r >= 0) {
                umask(022);
                r = exec_command(x, &err);
        }
        child_fail(x, &err);
}

/* ---- the parent --------------------------------------------------------- */

static int prepare_dirs(const struct plan_container *c, const struct infra *infra,
                        struct pr_error *err)
{
        _cleanup_free_ char *tlog = pr_asprintf("%s/termination-log", c->dir);
        _cleanup_close_ int fd = -1;
        int r;

        /* Every start gets a fresh writable layer, as a new container would
         * under kubelet. pr_rm_rf() never crosses into a mount. */
        r = pr_rm_rf(c->upper_dir, err);
        if (r >= 0)
                r = pr_rm_rf(c->work_dir, err);
        if (r >= 0)
                r = pr_mkdir_p(c->dir, 0700, err);
        if (r >= 0)
                r = pr_mkdir_p(c->upper_dir, 0755, err);
        if (r >= 0)
                r = pr_mkdir_p(c->work_dir, 0700, err);
        if (r >= 0)
                r = pr_mkdir_p(c->rootfs, 0755, err);
        if (r < 0)
                return r;
        /* The top of the writable layer is the container's "/": given to the
         * range's root so that root inside may create files there. What it
         * writes is stored with the host IDs of the range (docs/userns.md);
         * the work dir stays the host's, used by the overlay's own creds. */
        if (infra->userns && lchown(c->upper_dir, infra->userns_start, infra->userns_start) < 0)
                return pr_err(err, errno, "chown '%s'", c->upper_dir);
        /* The termination message file, bind-mounted at
         * terminationMessagePath; world-writable like kubelet's, since the
         * container may run as any user. */
        fd = open(tlog, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
                return pr_err(err, errno, "create '%s'", tlog);
        if (fchmod(fd, 0666) < 0)
                return pr_err(err, errno, "chmod '%s'", tlog);
        return 0;
}

static size_t path_depth(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        n++;
        return n;
}

/* Parents before children (containerd sorts mounts the same way), stable
 * otherwise, so /data is mounted before /data/cache. */
static size_t *sort_mounts(const struct plan_container *c)
{
        size_t *order = pr_calloc(c->n_mounts ? c->n_mounts : 1, sizeof(*order));

        for (size_t i = 0; i < c->n_mounts; i++) {
                size_t j = i, d = path_depth(c->mounts[i].target);

                while (j > 0 && path_depth(c->mounts[order[j - 1]].target) > d) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = i;
        }
        return order;
}

static const char *find_path_env(char *const *env)
{
        for (size_t i = 0; env && env[i]; i++)
                if (pr_startswith(env[i], "PATH="))
                        return env[i] + 5;
        return DEFAULT_PATH;
}

struct spawn_fds {
        int ns[_NS_MAX];
        int out[2], errp[2], in[2], start[2], sync[2], tty[2];
        int self_pidns;
};

static void spawn_fds_close(struct spawn_fds *f)
{
        int *all[] = {f->ns, f->out, f->errp, f->in, f->start, f->sync, f->tty};
        size_t sizes[] = {_NS_MAX, 2, 2, 2, 2, 2, 2};

        for (size_t i = 0; i < PR_ELEMENTSOF(all); i++)
                for (size_t j = 0; j < sizes[i]; j++)
                        pr_closep(&all[i][j]);
        pr_closep(&f->self_pidns);
}

static int make_pipe(int p[2], int parent_end, struct pr_error *err)
{
        if (pipe2(p, O_CLOEXEC) < 0)
                return pr_err(err, errno, "pipe");
        if (parent_end >= 0 && fcntl(p[parent_end], F_SETFL, O_NONBLOCK) < 0)
                return pr_err(err, errno, "fcntl O_NONBLOCK");
        return 0;
}

static int open_fds(const struct pod_plan *plan, const struct plan_container *c,
                    const struct infra *infra, struct spawn_fds *f, struct pr_error *err)
{
        int r;

        for (int i = 0; i < _NS_MAX; i++) {
                _cleanup_free_ char *p = NULL;

                if (i == NS_PID && !plan->share_pid)
                        continue;
                if (i == NS_USER && !infra->userns)
                        continue;
                p = pr_asprintf("%s/%s", infra->ns_dir, ns_names[i]);
                f->ns[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (f->ns[i] < 0)
                        return pr_err(err, errno, "open namespace '%s'", p);
        }
        r = make_pipe(f->out, 0, err);
        if (r >= 0)
                r = make_pipe(f->errp, 0, err);
        if (r >= 0)
                r = make_pipe(f->start, 0, err);
        if (r >= 0)
                r = make_pipe(f->sync, -1, err);
        if (r < 0)
                return r;
        if (c->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->tty) < 0)
                return pr_err(err, errno, "socketpair");
        if (c->stdin_open)
                return make_pipe(f->in, 1, err);
        f->in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (f->in[0] < 0)
                return pr_err(err, errno, "open '/dev/null'");
        return 0;
}

/* With shareProcessNamespace the container must be born in the infra's pid
 * namespace. setns(CLONE_NEWPID) changes only the namespace of the caller's
 * future children, so the parent switches it around clone3() and switches
 * back at once (allowed: our own namespace stays the active one). That is
 * one syscall each way and no intermediate process, unlike a double fork
 * with CLONE_PARENT. */
static pid_t clone_child(const struct pod_plan *plan, struct spawn_fds *f, int *ret_pidfd,
                         struct child_ctx *x, struct pr_error *err)
{
        uint64_t flags = CLONE_PIDFD | CLONE_NEWNS;
        sigset_t all, old;
        pid_t pid;

        if (plan->share_pid) {
                f->self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (f->self_pidns < 0)
                        return pr_err(err, errno, "open '/proc/self/ns/pid'");
                if (setns(f->ns[NS_PID], CLONE_NEWPID) < 0)
                        return pr_err(err, errno, "setns into the pod's pid namespace");
        } else if (!plan->host_pid) {
                flags |= CLONE_NEWPID;
        }
        sigfillset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, &old);
        pid = rt_clone3(flags, ret_pidfd);
        if (pid == 0)
                child_main(x);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        if (plan->share_pid && setns(f->self_pidns, CLONE_NEWPID) < 0) {
                int e = errno;

                pr_killp(&pid);
                return pr_err(err, e, "setns back into our own pid namespace");
        }
        if (pid < 0)
                return pr_err(err, pid, "clone3");
        return pid;
}

static int recv_fd(int sock, int *ret_fd)
{
        char data;
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctl = {};
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.buf,
            .msg_controllen = sizeof(ctl.buf),
        };
        struct cmsghdr *c;
        ssize_t n;

        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&msg);
        if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS)
                return 0; /* the child failed first; its start error says why */
        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        return 1;
}

/* tty: waits for the terminal's master from the child (a few milliseconds:
 * it comes right after the mounts). stdout becomes the master; stdin, when
 * open, a second fd of it; the stderr pipe stays and only ever gives EOF.
 * A master reports the end of the slave side with EIO, not EOF. */
static int take_tty(struct spawn_fds *f, bool stdin_open, struct pr_error *err)
{
        struct pollfd pfd = {.fd = f->tty[0], .events = POLLIN};
        int master = -1, r;

        r = poll(&pfd, 1, TTY_TIMEOUT_MS);
        if (r == 0)
                return pr_err_msg(err, ETIMEDOUT, "no terminal from the container process");
        r = r < 0 ? -errno : recv_fd(f->tty[0], &master);
        if (r < 0)
                return pr_err(err, r, "receive the terminal");
        if (r == 0)
                return 0;
        if (fcntl(master, F_SETFL, O_NONBLOCK) < 0) {
                r = pr_err(err, errno, "fcntl O_NONBLOCK");
                (void)close(master);
                return r;
        }
        pr_closep(&f->out[0]);
        f->out[0] = master;
        if (stdin_open) {
                pr_closep(&f->in[1]);
                f->in[1] = fcntl(master, F_DUPFD_CLOEXEC, 3);
                if (f->in[1] < 0)
                        return pr_err(err, errno, "dup the terminal");
        }
        return 0;
}

static int prepare(const struct pod_plan *plan, const struct plan_container *c,
                   const struct infra *infra, struct spawn_fds *f, struct pr_error *err)
{
        int r;

        for (size_t i = 0; i < c->n_mounts; i++)
                if (c->mounts[i].host_path) {
                        r = volume_check_host_path(&c->mounts[i], err);
                        if (r < 0)
                                return pr_err_wrap(err, "volume '%s'", c->mounts[i].volume);
                }
        r = prepare_dirs(c, infra, err);
        if (r >= 0)
                r = open_fds(plan, c, infra, f, err);
        return r;
}

/* Sync point 1 reached: the child waits on f->sync. Our copies of its ends
 * go now, so that EOF on the start pipe means exec and the pipes end when
 * the container's side does. */
static void drop_child_ends(struct spawn_fds *f)
{
        int *ends[] = {&f->sync[0], &f->start[1], &f->out[1], &f->errp[1], &f->in[0], &f->tty[1]};

        for (size_t i = 0; i < PR_ELEMENTSOF(ends); i++) {
                pr_closep(ends[i]);
                *ends[i] = -1;
        }
}

/* Sync points 2 and 3: the hook, then go; with a tty, the terminal back. */
static int release_child(const struct plan_container *c, const struct ctr_spawn_opts *opts,
                         pid_t pid, struct spawn_fds *f, uint64_t *ret_start_time,
                         struct pr_error *err)
{
        int r;

        if (opts && opts->after_clone) {
                r = opts->after_clone(opts->data, pid, err);
                if (r < 0)
                        return r;
        }
        r = pr_proc_stat(pid, NULL, ret_start_time, err);
        if (r >= 0 && write(f->sync[1], "g", 1) != 1)
                r = pr_err(err, errno, "wake the container process");
        if (r >= 0 && c->tty)
                r = take_tty(f, c->stdin_open, err);
        return r;
}

static int spawn(const struct pod_plan *plan, const struct plan_container *c,
                 const struct infra *infra, const struct ctr_spawn_opts *opts,
                 struct ctr_process *ret, struct pr_error *err)
{
        _cleanup_(spawn_fds_close) struct spawn_fds f = {};
        _cleanup_free_ size_t *order = NULL;
        _cleanup_pid_ pid_t pid = 0;
        struct child_ctx x;
        int pidfd = -1, r;
        uint64_t start_time = 0;

        memset(&f, -1, sizeof(f));
        r = prepare(plan, c, infra, &f, err);
        if (r < 0)
                return r;
        order = sort_mounts(c);
        x = (struct child_ctx){
            .plan = plan,
            .c = c,
            .opts = opts,
            .mount_order = order,
            .path_env = find_path_env(c->env),
            .sync_fd = f.sync[0],
            .err_fd = f.start[1],
            .stdio = {f.in[0], f.out[1], f.errp[1]},
            .tty_sock = f.tty[1],
            .userns_start = infra->userns_start,
        };
        memcpy(x.ns_fds, f.ns, sizeof(x.ns_fds));
        r = clone_child(plan, &f, &pidfd, &x, err);
        if (r < 0)
                return r;
        pid = r;
        drop_child_ends(&f);
        r = release_child(c, opts, pid, &f, &start_time, err);
        if (r < 0) {
                (void)close(pidfd);
                return r; /* pid is killed and reaped on the way out */
        }
        *ret = (struct ctr_process){
            .pid = pid,
            .pidfd = pidfd,
            .stdout_fd = PR_TAKE_FD(f.out[0]),
            .stderr_fd = PR_TAKE_FD(f.errp[0]),
            .stdin_fd = c->stdin_open ? PR_TAKE_FD(f.in[1]) : -1,
            .start_error_fd = PR_TAKE_FD(f.start[0]),
            .start_time = start_time,
        };
        pid = 0;
        return 0;
}

int ctr_spawn(const struct pod_plan *plan, const struct plan_container *c,
              const struct infra *infra, const struct ctr_spawn_opts *opts, struct ctr_process *ret,
              struct pr_error *err)
{
        int r = spawn(plan, c, infra, opts, ret, err);

        if (r < 0)
                return pr_err_wrap(err, "pod '%s': container '%s'", plan->name, c->name);
        return 0;
}

int ctr_read_start_error(int fd, struct pr_error *err)
{
        struct start_error rec;
        ssize_t n;

        do
                n = read(fd, &rec, sizeof(rec));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? -EAGAIN : pr_err(err, errno, "read start error");
        if (n == 0)
                return 0;
        if ((size_t)n < sizeof(rec.code) + 1)
                return pr_err_msg(err, EIO, "short start error record");
        rec.msg[sizeof(rec.msg) - 1] = '\0';
        if ((size_t)n < sizeof(rec))
                rec.msg[(size_t)n - sizeof(rec.code)] = '\0';
        (void)pr_err_msg(err, rec.code > 0 ? rec.code : EIO, "%s", rec.msg);
        return 1;
}

int ctr_cleanup(const struct pod_plan *plan, const struct plan_container *c, struct pr_error *err)
{
        _cleanup_free_ char *parent = pr_asprintf("%s/containers", plan->run_dir);
        int r;

        /* The overlay lived in the container's mount namespace; a mount here
         * would only be left by something else, and is detached first so the
         * removal below never reaches into the image. */
        r = rt_umount_all(c->rootfs, err);
        if (r >= 0)
                r = pr_rm_rf(c->dir, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s': container '%s': cleanup", plan->name, c->name);
        if (rmdir(parent) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                return pr_err(err, errno, "pod '%s': rmdir '%s'", plan->name, parent);
        return 0;
}

void ctr_process_close(struct ctr_process *p)
{
        pr_closep(&p->pidfd);
        pr_closep(&p->stdout_fd);
        pr_closep(&p->stderr_fd);
        pr_closep(&p->stdin_fd);
        pr_closep(&p->start_error_fd);
        p->pidfd = p->stdout_fd = p->stderr_fd = p->stdin_fd = p->start_error_fd = -1;
}
