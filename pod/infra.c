/* The pod's infra process and the host-side files of a pod: /etc/hosts,
 * /etc/hostname, resolv.conf, the shared /dev/shm, the namespace bind mounts
 * and the named network namespace. Runs in the supervisor (or `down`), as
 * root. It must never wait for containers, print, or leave a mount or a
 * process behind on a failed start; infra_cleanup() must work from the plan
 * alone, after a crash and twice. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"
#include "pod/pause/pause-int.h"
#include "pod/plan.h"
#include "pod/runtime-int.h"
#include "pod/runtime.h"
#include "pod/state.h"
#include "pod/userns.h"

#define SHM_SIZE "65536k" /* Docker's and containerd's /dev/shm default, 64 MiB */
#define RESOLV_MAX (64 * 1024)

/* The namespaces the infra holds, in the order they are bind-mounted. */
static const struct {
        const char *name;
        int flag;
} ns_table[] = {
    {"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
    {"pid", CLONE_NEWPID}, {"user", CLONE_NEWUSER},
};

pid_t rt_clone3(uint64_t flags, int *ret_pidfd)
{
        struct clone_args args = {
            .flags = flags,
            .exit_signal = SIGCHLD,
        };
        int pidfd = -1;
        long r;

        if (flags & CLONE_PIDFD)
                args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        r = syscall(SYS_clone3, &args, sizeof(args));
        if (r < 0)
                return -errno;
        if (r > 0 && ret_pidfd)
                *ret_pidfd = pidfd;
        return (pid_t)r;
}

int rt_is_mount_point(const char *path)
{
        struct statx stx;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
                return -errno;
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int rt_umount_all(const char *path, struct pr_error *err)
{
        /* Bounded: a path can hold a stack of mounts after repeated crashes,
         * but never an endless one. */
        for (int i = 0; i < 64; i++) {
                if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                        continue;
                if (errno == EINVAL || errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return pr_err(err, errno, "umount '%s'", path);
        }
        return pr_err(err, EBUSY, "umount '%s'", path);
}

/* ---- generated files ---------------------------------------------------- */

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash && slash != path ? pr_strndup(path, (size_t)(slash - path)) : pr_strdup("/");
}

/* Temporary file and rename, so a reader sees the old or the new text, but
 * no fsync: these files live in the run dir, which a reboot discards anyway,
 * and three fsyncs would double the time a pod takes to start. */
static int replace_file(const char *path, const char *text, struct pr_error *err)
{
        _cleanup_free_ char *tmp = pr_asprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text);
        ssize_t n;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return pr_err(err, errno, "create '%s'", tmp);
        n = write(fd, text, len);
        if (n != (ssize_t)len) {
                int e = n < 0 ? errno : EIO;

                (void)unlink(tmp);
                return pr_err(err, e, "write '%s'", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = errno;

                (void)unlink(tmp);
                return pr_err(err, e, "rename '%s' to '%s'", tmp, path);
        }
        return 0;
}

#define NODE_HOSTS_PATH "/etc/hosts"
#define NODE_HOSTS_MAX (1u << 20)

/* kubelet's managedHostsFileContent() (or, for hostNetwork pods,
 * nodeHostsFileContent()) and hostsEntriesFromHostAliases(), byte for byte. */
int infra_write_hosts(const struct pod_plan *plan, const char *ip, struct pr_error *err)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *dir = dir_of(plan->hosts_path);
        const struct spec_pod *spec = plan->spec;
        char *next;
        int r;

        if (plan->host_network) {
                /* kubelet's nodeHostsFileContent(): the node's own file, the
                 * host aliases after it. */
                r = pr_read_file(NODE_HOSTS_PATH, NODE_HOSTS_MAX, &buf, NULL, err);
                if (r < 0)
                        return r;
        } else
                buf = pr_strdup("# Kubernetes-managed hosts file.\n"
                                "127.0.0.1\tlocalhost\n"
                                "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                "fe00::0\tip6-localnet\n"
                                "fe00::0\tip6-mcastprefix\n"
                                "fe00::1\tip6-allnodes\n"
                                "fe00::2\tip6-allrouters\n");
        if (ip && *ip && !plan->host_network) {
                if (plan->fqdn)
                        next = pr_asprintf("%s%s\t%s\t%s\n", buf, ip, plan->fqdn, plan->hostname);
                else
                        next = pr_asprintf("%s%s\t%s\n", buf, ip, plan->hostname);
                free(buf);
                buf = next;
        }
        for (size_t i = 0; spec && i < spec->n_host_aliases; i++) {
                const struct spec_host_alias *a = &spec->host_aliases[i];

                next = pr_asprintf("%s%s%s\t", buf,
                                   i == 0 ? "\n# Entries added by HostAliases.\n" : "", a->ip);
                free(buf);
                buf = next;
                for (size_t j = 0; a->hostnames && a->hostnames[j]; j++) {
                        next = pr_asprintf("%s%s%s", buf, j ? "\t" : "", a->hostnames[j]);
                        free(buf);
                        buf = next;
                }
                next = pr_asprintf("%s\n", buf);
                free(buf);
                buf = next;
        }
        r = pr_mkdir_p(dir, 0755, err);
        if (r >= 0)
                r = replace_file(plan->hosts_path, buf, err);
        return r < 0 ? pr_err_wrap(err, "pod '%s': hosts file", plan->name) : 0;
}

struct resolv {
        char **servers;
        char **searches;
        char **options;
};

static void resolv_done(struct resolv *rv)
{
        pr_strv_free(rv->servers);
        pr_strv_free(rv->searches);
        pr_strv_free(rv->options);
}

static void add_words(char ***v, char *rest)
{
        char *save = NULL;

        for (char *w = strtok_r(rest, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                pr_strv_push(v, w);
}

/* The resolver's own rules: the last search line wins, options accumulate. */
static void parse_resolv(char *text, struct resolv *rv)
{
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, "#;")] = '\0';
                if (pr_startswith(line, "nameserver") && strchr(" \t", line[10]) && line[10]) {
                        add_words(&rv->servers, line + 10);
                } else if (pr_startswith(line, "search") && line[6] && strchr(" \t", line[6])) {
                        rv->searches = pr_strv_free(rv->searches);
                        add_words(&rv->searches, line + 6);
                } else if (pr_startswith(line, "options") && line[7] && strchr(" \t", line[7])) {
                        add_words(&rv->options, line + 7);
                }
        }
}

/* The host's resolver file. Where systemd-resolved owns /etc/resolv.conf
 * (nameserver 127.0.0.53, unreachable from the pod's network namespace) use
 * its upstream file, as kubelet's --resolv-conf is told to on such hosts. */
static int read_host_resolv(struct resolv *rv, struct pr_error *err)
{
        static const char *const files[] = {"/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"};

        for (size_t i = 0; i < PR_ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                int r = pr_read_file(files[i], RESOLV_MAX, &text, NULL, err);

                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                parse_resolv(text, rv);
                return 0;
        }
        return 0;
}

static void set_option(char ***opts, const char *name, const char *value)
{
        _cleanup_free_ char *word = value ? pr_asprintf("%s:%s", name, value) : pr_strdup(name);
        size_t len = strlen(name);

        for (size_t i = 0; *opts && (*opts)[i]; i++) {
                if (strncmp((*opts)[i], name, len) == 0 &&
                    ((*opts)[i][len] == '\0' || (*opts)[i][len] == ':')) {
                        free((*opts)[i]);
                        (*opts)[i] = PR_TAKE_PTR(word);
                        return;
                }
        }
        pr_strv_push(opts, word);
}

static void append_line(char **buf, const char *key, char **words)
{
        char *next;

        if (!words || !words[0])
                return;
        next = pr_asprintf("%s%s", *buf, key);
        free(*buf);
        *buf = next;
        for (size_t i = 0; words[i]; i++) {
                next = pr_asprintf("%s %s", *buf, words[i]);
                free(*buf);
                *buf = next;
        }
        next = pr_asprintf("%s\n", *buf);
        free(*buf);
        *buf = next;
}

/* dnsPolicy Default, and ClusterFirst (there is no cluster DNS here, and
 * kubelet without --cluster-dns falls back to Default the same way): the
 * host's resolver, then dnsConfig merged in. None: dnsConfig alone. The
 * layout is containerd's: search, nameservers, options. */
static int write_resolv(const struct pod_plan *plan, struct pr_error *err)
{
        _cleanup_(resolv_done) struct resolv rv = {};
        _cleanup_free_ char *buf = pr_strdup("");
        const struct spec_pod *spec = plan->spec;
        const struct spec_dns_config *dc = spec ? &spec->dns_config : NULL;
        int r;

        if (!spec || spec->dns_policy != SPEC_DNS_NONE) {
                r = read_host_resolv(&rv, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; dc && dc->nameservers && dc->nameservers[i]; i++)
                pr_strv_push(&rv.servers, dc->nameservers[i]);
        for (size_t i = 0; dc && dc->searches && dc->searches[i]; i++)
                pr_strv_push(&rv.searches, dc->searches[i]);
        for (size_t i = 0; dc && i < dc->options.n; i++)
                set_option(&rv.options, dc->options.items[i].key, dc->options.items[i].value);
        append_line(&buf, "search", rv.searches);
        for (size_t i = 0; rv.servers && rv.servers[i]; i++) {
                char *next = pr_asprintf("%snameserver %s\n", buf, rv.servers[i]);

                free(buf);
                buf = next;
        }
        append_line(&buf, "options", rv.options);
        return replace_file(plan->resolv_path, buf, err);
}

static int write_etc_files(const struct pod_plan *plan, struct pr_error *err)
{
        _cleanup_free_ char *hostname = pr_asprintf("%s\n", plan->hostname);
        _cleanup_free_ char *dir = dir_of(plan->hostname_path);
        int r;

        r = infra_write_hosts(plan, plan->pod_ip, err);
        if (r < 0)
                return r;
        r = pr_mkdir_p(dir, 0755, err);
        if (r >= 0)
                r = replace_file(plan->hostname_path, hostname, err);
        if (r >= 0)
                r = write_resolv(plan, err);
        return r;
}

/* ---- mounts on the host --------------------------------------------------- */

/* The pod's run dir becomes a private mount of itself: the namespace files
 * and the shm tmpfs below it then neither propagate to peers of a shared /run
 * (where an nsfs bind could pin a namespace in another mount namespace) nor
 * receive mounts from them. */
static int make_private_mount(const char *dir, struct pr_error *err)
{
        int r = rt_is_mount_point(dir);

        if (r < 0 && r != -EOPNOTSUPP)
                return pr_err(err, r, "stat '%s'", dir);
        if (r <= 0 && mount(dir, dir, NULL, MS_BIND, NULL) < 0)
                return pr_err(err, errno, "bind mount '%s' on itself", dir);
        if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0)
                return pr_err(err, errno, "make '%s' a private mount", dir);
        return 0;
}

static int mount_shm(const struct pod_plan *plan, struct pr_error *err)
{
        int r = pr_mkdir_p(plan->shm_dir, 0755, err);

        if (r < 0)
                return r;
        if (mount("shm", plan->shm_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=1777,size=" SHM_SIZE) < 0)
                return pr_err(err, errno, "mount tmpfs on '%s'", plan->shm_dir);
        return 0;
}

static int bind_file(const char *source, const char *target, struct pr_error *err)
{
        _cleanup_close_ int fd = -1;

        /* A plain file as the mount point; O_NOFOLLOW so a planted symlink
         * cannot make us create or mount elsewhere. */
        fd = open(target, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return pr_err(err, errno, "create '%s'", target);
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return pr_err(err, errno, "bind mount '%s' on '%s'", source, target);
        return 0;
}

static int bind_namespaces(const struct pod_plan *plan, pid_t pid, const char *ns_dir,
                           struct pr_error *err)
{
        int r = pr_mkdir_p(ns_dir, 0755, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < PR_ELEMENTSOF(ns_table); i++) {
                _cleanup_free_ char *src = NULL, *dst = NULL;

                if (ns_table[i].flag == CLONE_NEWPID && !plan->share_pid)
                        continue;
                if (ns_table[i].flag == CLONE_NEWUSER && !userns_wanted(plan))
                        continue;
                src = pr_asprintf("/proc/%d/ns/%s", (int)pid, ns_table[i].name);
                dst = pr_asprintf("%s/%s", ns_dir, ns_table[i].name);
                r = bind_file(src, dst, err);
                if (r < 0)
                        return r;
        }
        if (plan->host_network || !plan->netns_path)
                return 0;
        {
                _cleanup_free_ char *dir = dir_of(plan->netns_path);
                _cleanup_free_ char *src = pr_asprintf("/proc/%d/ns/net", (int)pid);

                r = pr_mkdir_p(dir, 0755, err);
                if (r >= 0)
                        r = bind_file(src, plan->netns_path, err);
        }
        return r;
}

/* ---- the pause process -------------------------------------------------- */

static const char *pause_exit_reason(int code)
{
        switch (code) {
        case PAUSE_EXIT_USAGE:
                return "bad arguments";
        case PAUSE_EXIT_HOSTNAME:
                return "sethostname failed";
        case PAUSE_EXIT_LOOPBACK:
                return "bringing lo up failed";
        case PAUSE_EXIT_SUBREAPER:
                return "becoming a child subreaper failed";
        case PAUSE_EXIT_SIGMASK:
                return "blocking signals failed";
        case PAUSE_EXIT_READY:
                return "writing its ready byte failed";
        case PAUSE_EXIT_DUMPABLE:
                return "clearing its dumpable flag failed";
        case PAUSE_EXIT_USERNS:
                return "becoming root of the pod's user namespace failed";
        default:
                return "unexpected exit";
        }
}

/* CHILD of clone3 with a user namespace: waits (sync point 2) until the
 * parent has written its ID maps, then becomes root of the namespace. Without
 * that, execve would see an euid that is not the namespace's root and drop
 * every capability, and pause could not set the hostname. */
static void become_userns_root(int go_fd)
{
        char go;
        ssize_t n;

        do
                n = read(go_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(PAUSE_EXIT_USERNS); /* the parent gave up; it reports why */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                _exit(PAUSE_EXIT_USERNS);
}

/* CHILD of clone3, in the new namespaces: wires fds and execs pause (through
 * an fd opened before clone: inside a user namespace the host's directories
 * on the way to the binary may be closed to us). Only async-signal-safe
 * calls; on failure the errno goes to err_fd. */
static _Noreturn void exec_pause(int exe_fd, char *const *argv, int devnull, int ready_fd,
                                 int err_fd, int go_fd)
{
        sigset_t none;
        int e;

        /* The supervisor's handlers (libuv's) must not run here. */
        for (int sig = 1; sig < _NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        if (go_fd >= 0)
                become_userns_root(go_fd);
        /* Above every fd that is about to be replaced (a supervisor with 0-2
         * closed has its pipes there), then into place: pause keeps 0-2 on
         * /dev/null and its ready fd as 3; all else closes on exec. */
        err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, 10);
        if (err_fd < 0)
                _exit(127);
        devnull = fcntl(devnull, F_DUPFD_CLOEXEC, 10);
        ready_fd = fcntl(ready_fd, F_DUPFD_CLOEXEC, 10);
        exe_fd = fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
        if (devnull < 0 || ready_fd < 0 || exe_fd < 0 || dup2(devnull, 0) < 0 ||
            dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 || dup2(ready_fd, 3) < 0 ||
            close_range(4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                goto fail;
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        execveat(exe_fd, "", argv, (char *[]){NULL}, AT_EMPTY_PATH);
fail:
        e = errno;
        (void)!write(err_fd, &e, sizeof(e));
        _exit(127);
}

/* The --sysctl arguments of pause, as "NAME=VALUE" with NAME dotted. A name
 * written with slashes ("net/ipv4/tcp_syncookies") has its dots and slashes
 * swapped, as the runtimes do; what pause then sees is always dotted. */
static char **pause_sysctls(const struct pod_plan *plan)
{
        const struct spec_map *m = plan->spec ? &plan->spec->security_context.sysctls : NULL;
        char **v = NULL;

        for (size_t i = 0; m && i < m->n; i++) {
                _cleanup_free_ char *name = pr_strdup(m->items[i].key ? m->items[i].key : "");

                if (strchr(name, '/'))
                        for (char *p = name; *p; p++)
                                *p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
                pr_strv_push_take(
                    &v, pr_asprintf("%s=%s", name, m->items[i].value ? m->items[i].value : ""));
        }
        return v;
}

/* Exit codes PAUSE_EXIT_SYSCTL_* + N name the Nth sysctl. */
static int pause_sysctl_error(const struct pod_plan *plan, int code, struct pr_error *err)
{
        _cleanup_strv_free_ char **sysctls = pause_sysctls(plan);
        size_t n = pr_strv_len(sysctls);
        bool write = code >= PAUSE_EXIT_SYSCTL_WRITE;
        int i = code - (write ? PAUSE_EXIT_SYSCTL_WRITE : PAUSE_EXIT_SYSCTL_NAME);
        const char *name = i >= 0 && (size_t)i < n ? sysctls[i] : "?";
        const char *eq = strchr(name, '=');
        int len = eq ? (int)(eq - name) : (int)strlen(name);

        if (write)
                return pr_err_msg(err, EIO,
                                  "sysctl '%.*s': writing '%s' in the pod's namespaces failed", len,
                                  name, eq ? eq + 1 : "");
        return pr_err_msg(err, EINVAL, "sysctl '%.*s': not a name under /proc/sys", len, name);
}

static int wait_pause_ready(const struct pod_plan *plan, const char *pause_path, pid_t pid,
                            int err_fd, int ready_fd, struct pr_error *err)
{
        char byte;
        int e, status;
        ssize_t n;

        do
                n = read(err_fd, &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof(e))
                return pr_err(err, e, "exec '%s'", pause_path);
        do
                n = read(ready_fd, &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1)
                return 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pr_err(err, errno, "infra '%s': wait", pause_path);
        if (WIFEXITED(status) && WEXITSTATUS(status) >= PAUSE_EXIT_SYSCTL_NAME &&
            WEXITSTATUS(status) < PAUSE_EXIT_SYSCTL_WRITE + PAUSE_SYSCTL_MAX)
                return pause_sysctl_error(plan, WEXITSTATUS(status), err);
        if (WIFEXITED(status))
                return pr_err_msg(err, EIO, "infra '%s' exited with %d: %s", pause_path,
                                  WEXITSTATUS(status), pause_exit_reason(WEXITSTATUS(status)));
        return pr_err_msg(err, EIO, "infra '%s' killed by signal %d", pause_path, WTERMSIG(status));
}

struct pause_fds {
        int devnull, exe, err[2], ready[2], go[2];
};

static void pause_fds_close(struct pause_fds *f)
{
        int *all[] = {&f->devnull,  &f->exe,      &f->err[0], &f->err[1],
                      &f->ready[0], &f->ready[1], &f->go[0],  &f->go[1]};

        for (size_t i = 0; i < PR_ELEMENTSOF(all); i++) {
                pr_closep(all[i]);
                *all[i] = -1;
        }
}

static int open_pause_fds(const char *pause_path, bool userns, struct pause_fds *f,
                          struct pr_error *err)
{
        f->exe = open(pause_path, O_PATH | O_CLOEXEC);
        if (f->exe < 0)
                return pr_err(err, errno, "exec '%s'", pause_path);
        f->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (f->devnull < 0)
                return pr_err(err, errno, "open '/dev/null'");
        if (pipe2(f->err, O_CLOEXEC) < 0 || pipe2(f->ready, O_CLOEXEC) < 0 ||
            (userns && pipe2(f->go, O_CLOEXEC) < 0))
                return pr_err(err, errno, "pipe");
        return 0;
}

static uint64_t pause_clone_flags(const struct pod_plan *plan, bool userns)
{
        /* Without a UTS namespace of its own (hostNetwork) the hostname is
         * the node's, as with kubelet. */
        uint64_t flags = CLONE_PIDFD | (plan->host_network ? 0 : CLONE_NEWUTS | CLONE_NEWNET);

        if (!plan->host_ipc)
                flags |= CLONE_NEWIPC;
        if (plan->share_pid)
                flags |= CLONE_NEWPID;
        /* In the same clone: the kernel makes the user namespace first and
         * the others owned by it, so root of the pod's user namespace (and
         * nobody else without host privilege) administers them. */
        if (userns)
                flags |= CLONE_NEWUSER;
        return flags;
}

/* Sync points with the child:
 *   1. parent: clone3 returns; with a user namespace the child waits on go.
 *   2. parent: writes the child's uid_map and gid_map, then one byte on go.
 *   3. child: becomes root inside and execs pause; the parent waits for its
 *      ready byte (hostname set, lo up, sysctls written) or its exit code. */
static int start_pause(const struct pod_plan *plan, const char *pause_path, const struct infra *ids,
                       pid_t *ret_pid, int *ret_pidfd, struct pr_error *err)
{
        _cleanup_(pause_fds_close) struct pause_fds f = {-1, -1, {-1, -1}, {-1, -1}, {-1, -1}};
        _cleanup_strv_free_ char **sysctls = pause_sysctls(plan);
        _cleanup_strv_free_ char **argv = NULL;
        sigset_t all, old;
        int pidfd = -1, r;
        pid_t pid;

        if (pr_strv_len(sysctls) > PAUSE_SYSCTL_MAX)
                return pr_err_msg(err, E2BIG, "more than %d sysctls", PAUSE_SYSCTL_MAX);
        pr_strv_push(&argv, "podrun-pause");
        pr_strv_push(&argv, plan->host_network ? "" : plan->hostname);
        pr_strv_push(&argv, "3");
        for (size_t i = 0; sysctls && sysctls[i]; i++) {
                pr_strv_push(&argv, "--sysctl");
                pr_strv_push(&argv, sysctls[i]);
        }
        r = open_pause_fds(pause_path, ids->userns, &f, err);
        if (r < 0)
                return r;
        sigfillset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, &old);
        pid = rt_clone3(pause_clone_flags(plan, ids->userns), &pidfd);
        if (pid == 0)
                exec_pause(f.exe, argv, f.devnull, f.ready[1], f.err[1], f.go[0]);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0)
                return pr_err(err, pid, "clone3 the infra process");
        pr_closep(&f.err[1]);
        pr_closep(&f.ready[1]);
        f.err[1] = f.ready[1] = -1;
        r = 0;
        if (ids->userns) {
                r = userns_write_maps(pid, ids->userns_start, err);
                if (r >= 0 && write(f.go[1], "g", 1) != 1)
                        r = pr_err(err, errno, "wake the infra process");
        }
        if (r >= 0)
                r = wait_pause_ready(plan, pause_path, pid, f.err[0], f.ready[0], err);
        if (r < 0) {
                pr_killp(&pid);
                (void)close(pidfd);
                return r;
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}

/* hostUsers: false. Kubernetes refuses it with the host's namespaces, whose
 * owner is the host's user namespace; so do we. The range comes before the
 * infra exists: its maps are written between clone and exec. emptyDirs are
 * given to the range's root so that root inside owns them, as it would own
 * a directory it made. */
static int prepare_userns(const struct pod_plan *plan, struct infra *ids, struct pr_error *err)
{
        _cleanup_free_ char *dir = userns_dir(plan);
        struct userns_pool pool;
        int r;

        if (!userns_wanted(plan))
                return 0;
        if (plan->host_network || plan->host_ipc || plan->host_pid)
                return pr_err_msg(err, EINVAL,
                                  "hostUsers: false cannot be used with hostNetwork, hostIPC or "
                                  "hostPID");
        r = userns_pool_load(USERNS_SUBUID_PATH, &pool, err);
        if (r >= 0)
                r = userns_alloc(dir, &pool, plan->name, plan->run_dir, &ids->userns_start, err);
        if (r < 0)
                return r;
        ids->userns = true;
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const struct plan_volume *v = &plan->volumes[i];

                if (v->type == SPEC_VOLUME_EMPTY_DIR &&
                    lchown(v->path, ids->userns_start, ids->userns_start) < 0)
                        return pr_err(err, errno, "volume '%s': chown '%s'", v->name, v->path);
        }
        return 0;
}

int infra_start(const struct pod_plan *plan, const char *pause_path, struct infra *ret,
                struct pr_error *err)
{
        _cleanup_free_ char *ns_dir = pr_asprintf("%s/ns", plan->run_dir);
        struct infra ids = {};
        pid_t pid = 0;
        int pidfd = -1, r;
        uint64_t start_time = 0;

        r = pr_mkdir_p(plan->run_dir, 0700, err);
        if (r >= 0)
                r = make_private_mount(plan->run_dir, err);
        if (r >= 0)
                r = write_etc_files(plan, err);
        if (r >= 0)
                r = mount_shm(plan, err);
        if (r >= 0)
                r = volume_prepare_pod(plan, err);
        if (r >= 0)
                r = prepare_userns(plan, &ids, err);
        if (r >= 0)
                r = volume_apply_fs_group(plan, ids.userns ? (gid_t)ids.userns_start : 0, err);
        if (r >= 0)
                r = start_pause(plan, pause_path, &ids, &pid, &pidfd, err);
        if (r >= 0)
                r = bind_namespaces(plan, pid, ns_dir, err);
        if (r >= 0)
                r = pr_proc_stat(pid, NULL, &start_time, err);
        if (r < 0) {
                struct pr_error ignored = {};

                if (pid > 0) {
                        pr_killp(&pid);
                        (void)close(pidfd);
                }
                (void)infra_cleanup(plan, &ignored);
                return pr_err_wrap(err, "pod '%s': infra", plan->name);
        }
        *ret = (struct infra){
            .pid = pid,
            .pidfd = pidfd,
            .start_time = start_time,
            .ns_dir = PR_TAKE_PTR(ns_dir),
            .userns = ids.userns,
            .userns_start = ids.userns_start,
        };
        return 0;
}

/* ---- stopping and cleaning up ------------------------------------------- */

static int wait_pidfd(int pidfd, uint64_t timeout_usec)
{
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        uint64_t deadline = pr_now_mono_usec() + timeout_usec;

        for (;;) {
                uint64_t now = pr_now_mono_usec();
                int ms = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
                int r = poll(&pfd, 1, ms);

                if (r > 0)
                        return 1;
                if (r == 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int infra_stop(struct infra *infra, uint64_t timeout_usec, struct pr_error *err)
{
        siginfo_t si;
        int r;

        if (infra->pid <= 0)
                return 0;
        if (infra->pidfd < 0) {
                uint64_t t = 0;
                struct pr_error ignored = {};

                infra->pidfd = pidfd_open(infra->pid, 0);
                if (infra->pidfd < 0)
                        return errno == ESRCH ? 0
                                              : pr_err(err, errno, "infra pid %d: pidfd_open",
                                                       (int)infra->pid);
                /* Checked after pidfd_open: from here the pid cannot be reused
                 * under us, and a different start time means it already was. */
                if (pr_proc_stat(infra->pid, NULL, &t, &ignored) < 0 ||
                    (infra->start_time && t != infra->start_time))
                        goto done;
        }
        if (pidfd_send_signal(infra->pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
                return pr_err(err, errno, "infra pid %d: kill", (int)infra->pid);
        r = wait_pidfd(infra->pidfd, timeout_usec);
        if (r == 0) {
                if (pidfd_send_signal(infra->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                        return pr_err(err, errno, "infra pid %d: kill", (int)infra->pid);
                r = wait_pidfd(infra->pidfd, 10 * PR_USEC_PER_SEC);
        }
        if (r < 0)
                return pr_err(err, r, "infra pid %d: poll", (int)infra->pid);
        /* ECHILD: not our child (restored from a state file) or already reaped. */
        while (waitid(P_PIDFD, (id_t)infra->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
done:
        (void)close(infra->pidfd);
        infra->pidfd = -1;
        infra->pid = 0;
        return 0;
}

static void keep_first(int *first, int r, struct pr_error *err, struct pr_error *tmp)
{
        if (r < 0 && *first >= 0) {
                *first = r;
                *err = *tmp;
        }
}

static int remove_file(const char *path, struct pr_error *err)
{
        int r = rt_umount_all(path, err);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return pr_err(err, errno, "unlink '%s'", path);
        return 0;
}

static int remove_dir(const char *path, struct pr_error *err)
{
        if (rmdir(path) < 0 && errno != ENOENT && errno != ENOTEMPTY)
                return pr_err(err, errno, "rmdir '%s'", path);
        return 0;
}

int infra_cleanup(const struct pod_plan *plan, struct pr_error *err)
{
        _cleanup_free_ char *ns_dir = pr_asprintf("%s/ns", plan->run_dir);
        _cleanup_free_ char *etc_dir = dir_of(plan->hosts_path);
        struct pr_error tmp = {};
        int first = 0;

        /* Every step runs even when an earlier one failed: down must remove
         * as much as it can; the first failure is the one reported. */
        if (plan->netns_path)
                keep_first(&first, remove_file(plan->netns_path, &tmp), err, &tmp);
        for (size_t i = 0; i < PR_ELEMENTSOF(ns_table); i++) {
                _cleanup_free_ char *p = pr_asprintf("%s/%s", ns_dir, ns_table[i].name);

                keep_first(&first, remove_file(p, &tmp), err, &tmp);
        }
        keep_first(&first, remove_dir(ns_dir, &tmp), err, &tmp);
        keep_first(&first, rt_umount_all(plan->shm_dir, &tmp), err, &tmp);
        keep_first(&first, remove_dir(plan->shm_dir, &tmp), err, &tmp);
        keep_first(&first, volume_cleanup_pod(plan, &tmp), err, &tmp);
        keep_first(&first, remove_file(plan->hosts_path, &tmp), err, &tmp);
        keep_first(&first, remove_file(plan->hostname_path, &tmp), err, &tmp);
        keep_first(&first, remove_file(plan->resolv_path, &tmp), err, &tmp);
        keep_first(&first, remove_dir(etc_dir, &tmp), err, &tmp);
        /* Whatever the plan says: a skeleton plan after a crash does not know
         * whether the pod had a range. Last but the run dir: the range stays
         * taken until nothing of the pod can use its IDs. */
        {
                _cleanup_free_ char *dir = userns_dir(plan);

                keep_first(&first, userns_release(dir, plan->name, &tmp), err, &tmp);
        }
        /* Last: the private self-bind of the run dir (the state file below it
         * stays; it is the same directory). */
        if (rt_is_mount_point(plan->run_dir) > 0 && umount2(plan->run_dir, MNT_DETACH) < 0)
                keep_first(&first, pr_err(&tmp, errno, "umount '%s'", plan->run_dir), err, &tmp);
        if (first < 0)
                return pr_err_wrap(err, "pod '%s': cleanup", plan->name);
        return 0;
}

void infra_done(struct infra *infra)
{
        if (infra->pidfd >= 0)
                (void)close(infra->pidfd);
        infra->pidfd = -1;
        free(infra->ns_dir);
        infra->ns_dir = NULL;
}
