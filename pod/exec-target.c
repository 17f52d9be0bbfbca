/* `podrun exec`, the target: the container's PID 1, pinned by a pidfd and
 * checked against its recorded start time, and what the command is to copy
 * from it as the kernel shows it: its identity and capability sets (mapped
 * into its user namespace), its environment, the cgroups and namespaces
 * that differ from ours, its working directory, its seccomp filters. It
 * must never change the container: copying the filters stops PID 1 only for
 * a ptrace-stop it cannot see. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
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

/* ---- identity and opening ---------------------------------------------- */

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

void exec_ctx_done(struct exec_ctx *x)
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
int exec_open_container(const struct exec_options *o, struct exec_ctx *x, struct pr_error *err)
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
