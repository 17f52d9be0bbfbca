/* `podrun exec`: a new process inside a running container. It owns joining
 * the container (cgroups, namespaces, identity, capabilities, cwd, env) and
 * relaying a pseudo-terminal. It copies everything from the container's
 * PID 1 as the kernel shows it, so it needs no plan or manifest. It must
 * never leave a host fd reachable inside the container (the helper is not
 * dumpable, every fd is close-on-exec), never resolve a path inside the
 * container root by string from the host (openat2 RESOLVE_IN_ROOT), and
 * never leave the user's terminal in raw mode. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"
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

/* Everything decided in the parent, before fork. */
struct exec_ctx {
        const struct exec_options *o;
        struct exec_identity id;
        char **env;
        char **cgroup_procs; /* host paths of cgroup.procs files to join */
        int ns_flags;
        int pidfd;
        int cwd_fd;
        int null_fd;
        int pty_slave;
        int out_fd; /* exec_spawn: the command's stdout and stderr; else -1 */
        int last_cap;
        size_t n_filters;
        struct sock_fprog *filters; /* PID 1's seccomp filters, newest first */
};

/* ---- reading the container's PID 1 ------------------------------------ */

static int parse_field_u64(const char *text, const char *key, int base, uint64_t *ret)
{
        const char *p = strstr(text, key);
        char *end;

        if (!p)
                return -ENOENT;
        p += strlen(key);
        while (*p == '\t' || *p == ' ')
                p++;
        errno = 0;
        *ret = strtoull(p, &end, base);
        if (errno || end == p)
                return -EINVAL;
        return 0;
}

int exec_parse_status(const char *text, struct exec_identity *ret, struct pr_error *err)
{
        struct exec_identity id = {};
        unsigned long u[2];
        uint64_t v;
        const char *g;

        /* Uid: real effective saved fs. The command runs as the effective. */
        if (sscanf(strstr(text, "\nUid:") ? strstr(text, "\nUid:") : "", "\nUid: %*u %lu", &u[0]) !=
                1 ||
            sscanf(strstr(text, "\nGid:") ? strstr(text, "\nGid:") : "", "\nGid: %*u %lu", &u[1]) !=
                1)
                return pr_err_msg(err, EINVAL, "process status: no Uid or Gid");
        id.uid = (uid_t)u[0];
        id.gid = (gid_t)u[1];
        g = strstr(text, "\nGroups:");
        if (g) {
                g += strlen("\nGroups:");
                while (*g && *g != '\n') {
                        char *end;

                        while (*g == ' ' || *g == '\t')
                                g++;
                        if (*g == '\n' || !*g)
                                break;
                        v = strtoull(g, &end, 10);
                        if (end == g)
                                return pr_err_msg(err, EINVAL, "process status: bad Groups");
                        if (id.n_groups == PR_ELEMENTSOF(id.groups))
                                return pr_err_msg(err, E2BIG,
                                                  "process status: more than %zu groups",
                                                  PR_ELEMENTSOF(id.groups));
                        id.groups[id.n_groups++] = (gid_t)v;
                        g = end;
                }
        }
        if (parse_field_u64(text, "\nCapInh:", 16, &id.cap_inh) < 0 ||
            parse_field_u64(text, "\nCapPrm:", 16, &id.cap_prm) < 0 ||
            parse_field_u64(text, "\nCapEff:", 16, &id.cap_eff) < 0 ||
            parse_field_u64(text, "\nCapBnd:", 16, &id.cap_bnd) < 0)
                return pr_err_msg(err, EINVAL, "process status: no capability sets");
        if (parse_field_u64(text, "\nCapAmb:", 16, &id.cap_amb) < 0)
                id.cap_amb = 0;
        if (parse_field_u64(text, "\nNoNewPrivs:", 10, &v) == 0)
                id.no_new_privs = v != 0;
        if (parse_field_u64(text, "\nSeccomp:", 10, &v) == 0)
                id.seccomp = (int)v;
        *ret = id;
        return 0;
}

static int read_proc(pid_t pid, const char *what, size_t max, char **ret, size_t *ret_len,
                     struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/%s", (int)pid, what);

        return pr_read_file(path, max, ret, ret_len, err);
}

/* /proc/<pid>/environ is NUL-separated; the command gets the same. */
static int read_env(pid_t pid, char ***ret, struct pr_error *err)
{
        _cleanup_free_ char *data = NULL;
        char **env = NULL;
        size_t len;
        int r;

        r = read_proc(pid, "environ", 1 << 20, &data, &len, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < len;) {
                size_t n = strnlen(data + i, len - i);

                if (n > 0)
                        pr_strv_push_take(&env, pr_strndup(data + i, n));
                i += n + 1;
        }
        *ret = env ? env : pr_calloc(1, sizeof(char *));
        return 0;
}

/* ---- cgroups ----------------------------------------------------------- */

/* Whether the comma-separated controller list ctrls is all in opts (a
 * cgroup v1 mount's super options, e.g. "rw,cpu,cpuacct"). */
static bool opts_have_all(const char *opts, const char *ctrls)
{
        _cleanup_free_ char *copy = pr_strdup(ctrls);
        char *save = NULL;

        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                size_t n = strlen(c);
                const char *p = opts;
                bool found = false;

                while ((p = strstr(p, c))) {
                        if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
                                found = true;
                                break;
                        }
                        p += n;
                }
                if (!found)
                        return false;
        }
        return true;
}

/* The host directory of hierarchy (id, ctrls) at cgroup path, from our
 * mountinfo: the mount point plus the path below the mount's root. */
static char *cgroup_dir(const char *mountinfo, const char *ctrls, const char *path)
{
        _cleanup_free_ char *copy = pr_strdup(mountinfo);
        char *save = NULL;

        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char root[PATH_MAX], mnt[PATH_MAX], fstype[64], opts[1024];
                const char *dash = strstr(line, " - ");
                size_t rl;

                if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
                    sscanf(dash, " - %63s %*s %1023s", fstype, opts) != 2)
                        continue;
                if (*ctrls ? !pr_streq(fstype, "cgroup") || !opts_have_all(opts, ctrls)
                           : !pr_streq(fstype, "cgroup2"))
                        continue;
                rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
                if (rl && (strncmp(path, root, rl) != 0 || (path[rl] && path[rl] != '/')))
                        continue;
                return pr_asprintf("%s%s", mnt, path + rl);
        }
        return NULL;
}

/* The cgroup.procs files the command must be written to: every hierarchy
 * where the container's PID 1 sits elsewhere than we do. */
static int cgroup_targets(pid_t pid, char ***ret, struct pr_error *err)
{
        _cleanup_free_ char *theirs = NULL, *ours = NULL, *mountinfo = NULL;
        _cleanup_strv_free_ char **out = NULL;
        char *save = NULL;
        int r;

        r = read_proc(pid, "cgroup", 1 << 16, &theirs, NULL, err);
        if (r >= 0)
                r = pr_read_file("/proc/self/cgroup", 1 << 16, &ours, NULL, err);
        if (r >= 0)
                r = pr_read_file("/proc/self/mountinfo", 4 << 20, &mountinfo, NULL, err);
        if (r < 0)
                return r;
        for (char *line = strtok_r(theirs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                _cleanup_free_ char *ctrls = NULL, *dir = NULL;
                const char *p;

                if (!c2)
                        continue;
                /* Ours has the very same line: nothing to join there. */
                p = strstr(ours, line);
                if (p && (p == ours || p[-1] == '\n') &&
                    (p[strlen(line)] == '\n' || !p[strlen(line)]))
                        continue;
                ctrls = pr_strndup(c1 + 1, (size_t)(c2 - c1 - 1));
                if (pr_startswith(ctrls, "name="))
                        continue; /* named hierarchies (systemd) hold no limits */
                dir = cgroup_dir(mountinfo, ctrls, c2 + 1);
                if (!dir)
                        continue; /* not mounted here: nothing can be joined */
                pr_strv_push_take(&out, pr_asprintf("%s/cgroup.procs", dir));
        }
        *ret = out ? PR_TAKE_PTR(out) : pr_calloc(1, sizeof(char *));
        return 0;
}

/* ---- namespaces --------------------------------------------------------- */

static const struct {
        const char *name;
        int flag;
} namespaces[] = {
    {"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},  {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID},
    {"cgroup", CLONE_NEWCGROUP},
};

/* The namespaces of pid that differ from ours: joining one's own user
 * namespace is EINVAL, and the others need no joining. */
static int ns_flags_of(pid_t pid, int *ret, struct pr_error *err)
{
        int flags = 0;

        for (size_t i = 0; i < PR_ELEMENTSOF(namespaces); i++) {
                _cleanup_free_ char *theirs =
                    pr_asprintf("/proc/%d/ns/%s", (int)pid, namespaces[i].name);
                _cleanup_free_ char *ours = pr_asprintf("/proc/self/ns/%s", namespaces[i].name);
                struct stat a, b;

                if (stat(theirs, &a) < 0) {
                        if (errno == ENOENT && namespaces[i].flag != CLONE_NEWNS)
                                continue; /* a kernel without that namespace type */
                        return pr_err(err, errno, "namespace '%s'", theirs);
                }
                if (stat(ours, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                        flags |= namespaces[i].flag;
        }
        *ret = flags;
        return 0;
}

/* ---- the pseudo-terminal ---------------------------------------------- */

static int openat2_in_root(int root_fd, const char *path, int flags)
{
        struct open_how how = {
            .flags = (uint64_t)flags,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

        return fd < 0 ? -errno : (int)fd;
}

/* A pty from the container's own devpts instance, opened through its root
 * by fd, so that the container can not steer the open with a symlink; the
 * peer is taken with TIOCGPTPEER, never by a /dev/pts/N path. */
static int open_pty(pid_t pid, int *ret_master, int *ret_slave, struct pr_error *err)
{
        _cleanup_free_ char *root = pr_asprintf("/proc/%d/root", (int)pid);
        _cleanup_close_ int root_fd = -1, master = -1;
        int unlock = 0, slave;
        struct stat st;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pr_err(err, errno, "container root '%s'", root);
        master = openat2_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0) {
                /* No devpts of its own: a host pty still works, but its
                 * name means nothing inside the container. */
                pr_log_debug("container pid %d: no /dev/pts/ptmx (%s); using the host's /dev/ptmx",
                             (int)pid, strerror(-master));
                master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0)
                        return pr_err(err, errno, "open '/dev/ptmx'");
        }
        if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
            minor(st.st_rdev) != 2)
                return pr_err_msg(err, EPERM, "container pid %d: /dev/pts/ptmx is not a ptmx",
                                  (int)pid);
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return pr_err(err, errno, "pty: unlock");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return pr_err(err, errno, "pty: open peer");
        *ret_master = PR_TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

/* ---- seccomp ------------------------------------------------------------ */

static void filters_free(struct sock_fprog *f, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(f[i].filter);
        free(f);
}

/* Copies PID 1's seccomp filters with PTRACE_SECCOMP_GET_FILTER, which
 * needs a ptrace-stop: PID 1 is seized, interrupted, read and let go at
 * once (a stop is invisible to it and to its parent; an interrupted
 * syscall restarts). The filters are classic BPF, index 0 the newest. */
static int copy_seccomp(pid_t pid, struct sock_fprog **ret, size_t *ret_n, struct pr_error *err)
{
        struct sock_fprog *f = NULL;
        siginfo_t si = {};
        size_t n = 0;
        int sig = 0, r = 0;

        if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0)
                return pr_err(err, errno, "container pid %d: seccomp: ptrace seize", (int)pid);
        if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
                r = pr_err(err, errno, "container pid %d: seccomp: ptrace interrupt", (int)pid);
                goto detach;
        }
        /* WNOWAIT: PID 1 may be the caller's own child (the supervisor's
         * exec probes), and an exit found here must stay for its owner,
         * which reaps it by pidfd. The stop itself is dropped on detach. */
        while (waitid(P_PID, (id_t)pid, &si, WEXITED | WSTOPPED | WNOWAIT | __WALL) < 0)
                if (errno != EINTR) {
                        r = pr_err(err, errno, "container pid %d: seccomp: wait", (int)pid);
                        goto detach;
                }
        if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED) {
                r = pr_err_msg(err, ESRCH, "container pid %d is gone", (int)pid);
                goto out;
        }
        /* A signal that arrived first is handed back on detach; the
         * interrupt's own stop carries an event in the high bits. */
        if (si.si_status >> 8 == 0)
                sig = si.si_status & 0x7f;
        for (;;) {
                long len = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)n, NULL);
                struct sock_fprog *p;

                if (len < 0 && errno == ENOENT)
                        break;
                if (len <= 0 || len > BPF_MAXINSNS) {
                        r = pr_err(err, len < 0 ? errno : EINVAL,
                                   "container pid %d: seccomp filter %zu", (int)pid, n);
                        goto detach;
                }
                p = pr_array_grow(&f, &n, sizeof(*f));
                p->len = (unsigned short)len;
                p->filter = pr_calloc((size_t)len, sizeof(struct sock_filter));
                if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(n - 1), p->filter) != len) {
                        r = pr_err(err, errno, "container pid %d: seccomp filter %zu", (int)pid,
                                   n - 1);
                        goto detach;
                }
        }
detach:
        (void)ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig);
out:
        if (r < 0) {
                filters_free(f, n);
                return r;
        }
        *ret = f;
        *ret_n = n;
        return 0;
}

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

/* One ID through "inside outside count" lines of a uid_map or gid_map. */
static int map_id(const char *map, uint32_t host, uint32_t *ret)
{
        for (const char *l = map; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned inside, outside, count;

                if (sscanf(l, " %u %u %u", &inside, &outside, &count) == 3 && host >= outside &&
                    host - outside < count) {
                        *ret = inside + (host - outside);
                        return 0;
                }
        }
        return -ERANGE;
}

/* /proc/<pid>/status gives IDs as our user namespace sees them. A
 * container with a user namespace of its own (hostUsers: false) is joined
 * into it, where setresuid() wants them as that namespace sees them. */
static int map_identity(pid_t pid, struct exec_identity *id, struct pr_error *err)
{
        _cleanup_free_ char *uid_map = NULL, *gid_map = NULL;
        uint32_t v;
        int r;

        r = read_proc(pid, "uid_map", 1 << 16, &uid_map, NULL, err);
        if (r >= 0)
                r = read_proc(pid, "gid_map", 1 << 16, &gid_map, NULL, err);
        if (r < 0)
                return r;
        if (map_id(uid_map, id->uid, &v) < 0)
                return pr_err_msg(err, ERANGE,
                                  "container pid %d: uid %u is not in its user namespace", (int)pid,
                                  (unsigned)id->uid);
        id->uid = v;
        if (map_id(gid_map, id->gid, &v) < 0)
                return pr_err_msg(err, ERANGE,
                                  "container pid %d: gid %u is not in its user namespace", (int)pid,
                                  (unsigned)id->gid);
        id->gid = v;
        for (size_t i = 0; i < id->n_groups; i++) {
                if (map_id(gid_map, id->groups[i], &v) < 0)
                        return pr_err_msg(err, ERANGE,
                                          "container pid %d: group %u is not in its user namespace",
                                          (int)pid, (unsigned)id->groups[i]);
                id->groups[i] = v;
        }
        return 0;
}

static int read_last_cap(void)
{
        _cleanup_free_ char *text = NULL;
        struct pr_error ignored = {};
        int v;

        if (pr_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL, &ignored) < 0)
                return 63;
        text[strcspn(text, "\n")] = '\0';
        return pr_parse_int(text, 0, 63, &v) < 0 ? 63 : v;
}

static void ctx_done(struct exec_ctx *x)
{
        filters_free(x->filters, x->n_filters);
        pr_strv_free(x->env);
        pr_strv_free(x->cgroup_procs);
        if (x->pidfd >= 0)
                (void)close(x->pidfd);
        if (x->cwd_fd >= 0)
                (void)close(x->cwd_fd);
        if (x->null_fd >= 0)
                (void)close(x->null_fd);
        if (x->pty_slave >= 0)
                (void)close(x->pty_slave);
}

/* Opens a pidfd first and checks the start time after: from then on the
 * pidfd names the recorded process or none, whatever happens to the pid. */
static int open_container(const struct exec_options *o, struct exec_ctx *x, struct pr_error *err)
{
        _cleanup_free_ char *status = NULL, *cwd = NULL;
        uint64_t start = 0;
        char state = 0;
        int r;

        x->pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
        if (x->pidfd < 0)
                return pr_err(err, errno == ESRCH ? ESRCH : errno, "container pid %d", (int)o->pid);
        r = pr_proc_stat(o->pid, &state, &start, err);
        if (r < 0 && r != -ESRCH)
                return r;
        if (r < 0 || start != o->start_time || state == 'Z')
                return pr_err_msg(err, ESRCH, "container pid %d is not the recorded process",
                                  (int)o->pid);
        r = read_proc(o->pid, "status", 1 << 16, &status, NULL, err);
        if (r >= 0)
                r = exec_parse_status(status, &x->id, err);
        if (r >= 0)
                r = map_identity(o->pid, &x->id, err);
        if (r >= 0)
                r = read_env(o->pid, &x->env, err);
        if (r >= 0)
                r = cgroup_targets(o->pid, &x->cgroup_procs, err);
        if (r >= 0)
                r = ns_flags_of(o->pid, &x->ns_flags, err);
        if (r < 0)
                return r;
        cwd = pr_asprintf("/proc/%d/cwd", (int)o->pid);
        x->cwd_fd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (x->cwd_fd < 0)
                return pr_err(err, errno, "working directory '%s'", cwd);
        x->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (x->null_fd < 0)
                return pr_err(err, errno, "open '/dev/null'");
        x->last_cap = read_last_cap();
        if (x->id.seccomp == 2)
                return copy_seccomp(o->pid, &x->filters, &x->n_filters, err);
        return 0;
}

/* The user's terminal in raw mode for the length of a -t session. */
struct raw_term {
        int fd;
        bool saved;
        struct termios old;
};

static void raw_term_restore(struct raw_term *t)
{
        if (t->saved)
                (void)tcsetattr(t->fd, TCSADRAIN, &t->old);
        t->saved = false;
}

static void raw_term_enter(struct raw_term *t, int fd)
{
        struct termios raw;

        t->fd = fd;
        t->saved = false;
        if (!isatty(fd) || tcgetattr(fd, &t->old) < 0)
                return;
        raw = t->old;
        cfmakeraw(&raw);
        if (tcsetattr(fd, TCSADRAIN, &raw) == 0)
                t->saved = true;
}

static void copy_winsize(int from, int to)
{
        struct winsize ws;

        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(to, TIOCSWINSZ, &ws);
}

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The signals a -t session takes through a signalfd: window changes, and
 * the ones that would otherwise kill podrun with the terminal still raw. */
static void relay_signals(sigset_t *set)
{
        (void)sigemptyset(set);
        (void)sigaddset(set, SIGWINCH);
        (void)sigaddset(set, SIGTERM);
        (void)sigaddset(set, SIGHUP);
        (void)sigaddset(set, SIGQUIT);
}

/* Drains the signalfd: resizes the pty, or returns the terminating signal
 * received (0 for none). */
static int take_signals(int sigfd, int in_fd, int out_fd, int master)
{
        struct signalfd_siginfo si;
        int sig = 0;

        while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGWINCH)
                        copy_winsize(isatty(in_fd) ? in_fd : out_fd, master);
                else
                        sig = (int)si.ssi_signo;
        }
        return sig;
}

/* The command is gone; what it wrote is still in the pty: drain it
 * without blocking. */
static void drain_master(int master, int out_fd)
{
        int fl = fcntl(master, F_GETFL);
        char buf[16384];
        ssize_t n;

        (void)fcntl(master, F_SETFL, fl | O_NONBLOCK);
        while ((n = read(master, buf, sizeof(buf))) > 0)
                if (write_all(out_fd, buf, (size_t)n) < 0)
                        break;
}

/* Copies between the user's terminal and the pty until the command's side
 * is closed (EIO on the master), the helper has exited, our output is gone,
 * or a terminating signal came (returned as 128 + N). Keys go as data: ^C
 * reaches the command through its terminal, not as our SIGINT. */
static int relay(int in_fd, int out_fd, int master, int helper_pidfd, int sigfd,
                 struct pr_error *err)
{
        bool in_open = true, done = false;
        char buf[16384];
        int sig = 0;

        while (!done) {
                struct pollfd p[4] = {
                    {.fd = master, .events = POLLIN},
                    {.fd = in_open ? in_fd : -1, .events = POLLIN},
                    {.fd = sigfd, .events = POLLIN},
                    {.fd = helper_pidfd, .events = POLLIN},
                };
                ssize_t n;

                if (poll(p, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        sig = pr_err(err, errno, "exec: poll");
                        break;
                }
                /* Signals first: keys typed after a resize must find the
                 * command's terminal at its new size. */
                if (p[2].revents && (sig = take_signals(sigfd, in_fd, out_fd, master)) > 0)
                        break;
                if (p[0].revents) {
                        n = read(master, buf, sizeof(buf));
                        /* EIO: every slave fd is closed. */
                        if (n <= 0 || write_all(out_fd, buf, (size_t)n) < 0)
                                done = true;
                }
                if (p[1].revents) {
                        n = read(in_fd, buf, sizeof(buf));
                        if (n > 0)
                                (void)write_all(master, buf, (size_t)n);
                        else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                                /* End of input: the terminal's EOF key. */
                                (void)write_all(master, "\x04", 1);
                                in_open = false;
                        }
                }
                if (p[3].revents) {
                        drain_master(master, out_fd);
                        done = true;
                }
        }
        return sig > 0 ? 128 + sig : sig;
}

/* A -t session: the terminal raw, and the signals that could end podrun
 * taken through a signalfd, both undone in the reverse order, so that no
 * signal can land between them and leave the terminal raw. */
static int relay_session(int in_fd, int out_fd, int master, int helper_pidfd, struct pr_error *err)
{
        struct sigaction pipe_old, ign = {.sa_handler = SIG_IGN};
        struct raw_term term = {.fd = -1};
        _cleanup_close_ int sigfd = -1;
        sigset_t sigs, old;
        int r;

        relay_signals(&sigs);
        (void)sigprocmask(SIG_BLOCK, &sigs, &old);
        /* A closed stdout is an EPIPE to handle, not a death in raw mode. */
        (void)sigaction(SIGPIPE, &ign, &pipe_old);
        sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0)
                r = pr_err(err, errno, "exec: signalfd");
        else {
                raw_term_enter(&term, in_fd);
                r = relay(in_fd, out_fd, master, helper_pidfd, sigfd, err);
                raw_term_restore(&term);
        }
        (void)sigaction(SIGPIPE, &pipe_old, NULL);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

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

        r = open_container(o, &x, err);
        if (r >= 0 && o->tty)
                r = open_pty(o->pid, &master, &x.pty_slave, err);
        if (r >= 0 && pipe2(errpipe, O_CLOEXEC) < 0)
                r = pr_err(err, errno, "pipe2");
        if (r < 0)
                goto out;
        if (o->tty)
                copy_winsize(isatty(in_fd) ? in_fd : out_fd, master);
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
                r = relay_session(in_fd, out_fd, master, helper_pidfd, err);
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
        ctx_done(&x);
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
        r = open_container(o, &x, err);
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
        ctx_done(&x);
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
