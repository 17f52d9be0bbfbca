/* podrun-pause: the pod's infra process. It is exec'd by infra.c as the first
 * process of the pod's new net, ipc and uts namespaces (and pid namespace with
 * shareProcessNamespace, where it is PID 1). It owns: setting the pod's
 * hostname, bringing lo up, reaping zombies, and sleeping until SIGTERM or
 * SIGINT. It must never allocate, link libuv or podrun-core, print, or exit
 * with a code that does not say which step failed (infra.c decodes them).
 *
 *   podrun-pause HOSTNAME [READY_FD]
 *
 * An empty HOSTNAME leaves the hostname and lo alone (hostNetwork: pause then
 * runs in the host's UTS and network namespaces).
 *
 * READY_FD, when given, gets one byte once the hostname is set and lo is up,
 * then is closed: infra_start() returns only after that. */
#include <errno.h>
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

        if (argc < 2 || argc > 3)
                _exit(PAUSE_EXIT_USAGE);
        if (argc == 3 && (ready_fd = parse_fd(argv[2])) < 0)
                _exit(PAUSE_EXIT_USAGE);

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
