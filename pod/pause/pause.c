/* podrun-pause: the pod's infra process. It is exec'd by infra.c as the first
 * process of the pod's new net, ipc and uts namespaces (and pid namespace with
 * shareProcessNamespace, where it is PID 1). It owns: setting the pod's
 * hostname, bringing lo up, reaping zombies, and sleeping until SIGTERM or
 * SIGINT. It must never allocate, link libuv or podrun-core, print, or exit
 * with a code that does not say which step failed (infra.c decodes them).
 *
 *   podrun-pause HOSTNAME [READY_FD [--sysctl NAME=VALUE]...]
 *
 * An empty HOSTNAME leaves the hostname and lo alone (hostNetwork: pause then
 * runs in the host's UTS and network namespaces).
 *
 * Each --sysctl (a dotted name) is written to /proc/sys here, because
 * /proc/sys/net and the IPC sysctls resolve to the namespaces of the process
 * that opens them: pause is the one process in all of the pod's namespaces
 * with full privilege there, and it runs before any container does.
 *
 * READY_FD, when given, gets one byte once the hostname is set, lo is up and
 * the sysctls are written, then is closed: infra_start() returns only after
 * that. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/pause/pause-int.h"

static int parse_fd(const char *s)
{
        int v = 0;

        if (!*s)
                return -1;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > 100000)
                        return -1;
                v = v * 10 + (*s - '0');
        }
        return v;
}

/* lo with a plain ioctl rather than netlink: pause stays free of libnl (only
 * netsetup/ links it) and this is the one link it ever touches. */
static int bring_lo_up(void)
{
        struct ifreq ifr;
        int fd, r = 0;

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -1;
        else if (!(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                        r = -1;
        }
        (void)close(fd);
        return r;
}

/* "/proc/sys/" and NAME with dots as slashes into buf. Validation allowed
 * only the safe, namespaced names already; this refuses anything that could
 * still leave /proc/sys (a '/', an empty or ".." element, an overlong name)
 * because pause runs with full privilege. */
static int sysctl_path(const char *name, size_t name_len, char *buf, size_t size)
{
        static const char prefix[] = "/proc/sys/";
        size_t n = sizeof(prefix) - 1;

        if (name_len == 0 || name_len + n >= size || name[0] == '.' || name[name_len - 1] == '.')
                return -1;
        memcpy(buf, prefix, n);
        for (size_t i = 0; i < name_len; i++) {
                char ch = name[i];

                if (ch == '/' || ch == '\0' || (ch == '.' && name[i + 1] == '.'))
                        return -1;
                buf[n++] = ch == '.' ? '/' : ch;
        }
        buf[n] = '\0';
        return 0;
}

static int write_all(int fd, const char *s, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, s, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                s += n;
                len -= (size_t)n;
        }
        return 0;
}

/* "NAME=VALUE" to /proc/sys; the exit code says which sysctl and which step. */
static void apply_sysctl(const char *arg, int index)
{
        const char *eq = strchr(arg, '=');
        char path[256];
        int fd, r;

        if (!eq || sysctl_path(arg, (size_t)(eq - arg), path, sizeof(path)) < 0)
                _exit(PAUSE_EXIT_SYSCTL_NAME + index);
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                _exit(PAUSE_EXIT_SYSCTL_WRITE + index);
        r = write_all(fd, eq + 1, strlen(eq + 1));
        /* /proc/sys reports a refused value at write or, for some, at close. */
        if (close(fd) < 0 || r < 0)
                _exit(PAUSE_EXIT_SYSCTL_WRITE + index);
}

/* Checked before anything is done, so a bad command line changes nothing. */
static void check_sysctl_args(int argc, char **argv)
{
        if ((argc - 3) % 2 != 0 || (argc - 3) / 2 > PAUSE_SYSCTL_MAX)
                _exit(PAUSE_EXIT_USAGE);
        for (int i = 3; i < argc; i += 2)
                if (strcmp(argv[i], "--sysctl") != 0)
                        _exit(PAUSE_EXIT_USAGE);
}

static void reap_all(void)
{
        /* As PID 1 (shared pid namespace) or subreaper, every orphan of the
         * pod ends up here; WNOHANG so a live child never blocks the loop. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

int main(int argc, char **argv)
{
        sigset_t set;
        int ready_fd = -1;

        if (argc < 2)
                _exit(PAUSE_EXIT_USAGE);
        if (argc >= 3 && (ready_fd = parse_fd(argv[2])) < 0)
                _exit(PAUSE_EXIT_USAGE);
        check_sysctl_args(argc, argv);

        /* Blocked signals are never discarded, even for a pid namespace's
         * PID 1 that has no handler, so sigwaitinfo() sees TERM and INT. */
        sigfillset(&set);
        if (sigprocmask(SIG_SETMASK, &set, NULL) < 0)
                _exit(PAUSE_EXIT_SIGMASK);
        /* With shareProcessNamespace the containers see us as PID 1, and
         * /proc/1/root and /proc/1/exe lead to the host's root and to this
         * binary. ptrace access already needs a superset of our capabilities;
         * not dumpable, it needs CAP_SYS_PTRACE whatever the caller holds. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                _exit(PAUSE_EXIT_DUMPABLE);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                _exit(PAUSE_EXIT_SUBREAPER);
        /* "" means the host's UTS and network namespaces (hostNetwork):
         * never touch the node's hostname or links. */
        if (argv[1][0] && sethostname(argv[1], strlen(argv[1])) < 0)
                _exit(PAUSE_EXIT_HOSTNAME);
        if (argv[1][0] && bring_lo_up() < 0)
                _exit(PAUSE_EXIT_LOOPBACK);
        for (int i = 3; i < argc; i += 2)
                apply_sysctl(argv[i + 1], (i - 3) / 2);
        if (ready_fd >= 0) {
                ssize_t n;

                do
                        n = write(ready_fd, "1", 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(PAUSE_EXIT_READY);
                (void)close(ready_fd);
        }

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);

                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(PAUSE_EXIT_SIGWAIT);
                }
                if (sig == SIGTERM || sig == SIGINT)
                        _exit(PAUSE_EXIT_OK);
                if (sig == SIGCHLD)
                        reap_all();
        }
}
