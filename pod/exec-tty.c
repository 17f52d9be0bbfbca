/* `podrun exec -t`: the pseudo-terminal and its relay. It owns opening a
 * pty from the container's own devpts, and copying between the user's
 * terminal and the pty with the user's terminal raw. It must never resolve
 * a path inside the container root by string from the host (openat2
 * RESOLVE_IN_ROOT), and never leave the user's terminal in raw mode. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/exec-int.h"
#include "pod/exec.h"

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
int exec_open_pty(pid_t pid, int *ret_master, int *ret_slave, struct pr_error *err)
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

/* ---- the relay ---------------------------------------------------------- */

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

void exec_copy_winsize(int from, int to)
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
                        exec_copy_winsize(isatty(in_fd) ? in_fd : out_fd, master);
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
int exec_relay_session(int in_fd, int out_fd, int master, int helper_pidfd, struct pr_error *err)
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
