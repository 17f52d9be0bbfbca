/* The in-container test probe: one static multi-call binary, the only
 * program in the test images, so that every check an integration test makes
 * about a container (its namespaces, hostname, processes, addresses,
 * identity, capabilities, files, signals, limits, network) is made from
 * inside it. It owns nothing of podrun and must never link podrun code,
 * depend on a shared library, or need anything in the image but itself.
 *
 * Called as `probe CMD ARGS...`, or through a symlink named CMD. Results go
 * to stdout one fact per line; failures print the errno name (EPERM, ...)
 * and exit 1, so a test compares text, not guesses. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Forks at most this many children: the machine is shared, and a test runs
 * this under a pids limit that should stop it long before. */
#define FORKBOMB_CAP 4096

static int fail(int e)
{
        const char *name = strerrorname_np(e);

        printf("%s\n", name ? name : "EUNKNOWN");
        return 1;
}

static int usage(const char *cmd, const char *args)
{
        fprintf(stderr, "usage: probe %s %s\n", cmd, args);
        return 2;
}

static int parse_long(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *ret = v;
        return 0;
}

/* ---- Identity and namespaces --------------------------------------------- */

static int cmd_hostname(int argc, char **argv)
{
        char name[HOST_NAME_MAX + 1];

        (void)argc, (void)argv;
        if (gethostname(name, sizeof(name)) < 0)
                return fail(errno);
        printf("%s\n", name);
        return 0;
}

static int cmd_ns(int argc, char **argv)
{
        static const char *const names[] = {"net", "ipc", "uts", "pid", "mnt", "cgroup", "user"};

        (void)argc, (void)argv;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char path[64], target[128];
                ssize_t n;

                (void)snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
                n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        printf("%s %s\n", names[i], strerrorname_np(errno));
                else
                        printf("%s %.*s\n", names[i], (int)n, target);
        }
        return 0;
}

static int cmd_pid(int argc, char **argv)
{
        (void)argc, (void)argv;
        printf("%d\n", (int)getpid());
        return 0;
}

static int read_small(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        (void)close(fd);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return (int)n;
}

static int cmp_pid(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

/* "PID COMM" for every process this pid namespace's /proc shows. */
static int cmd_ps(int argc, char **argv)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int pids[4096];
        size_t n = 0;
        long v;

        (void)argc, (void)argv;
        if (!d)
                return fail(errno);
        while ((de = readdir(d)) && n < sizeof(pids) / sizeof(pids[0]))
                if (parse_long(de->d_name, 1, INT_MAX, &v) == 0)
                        pids[n++] = (int)v;
        (void)closedir(d);
        qsort(pids, n, sizeof(int), cmp_pid);
        for (size_t i = 0; i < n; i++) {
                char path[64], comm[64];

                (void)snprintf(path, sizeof(path), "/proc/%d/comm", pids[i]);
                if (read_small(path, comm, sizeof(comm)) < 0)
                        continue; /* it exited meanwhile */
                comm[strcspn(comm, "\n")] = '\0';
                printf("%d %s\n", pids[i], comm);
        }
        return 0;
}

static int prefix_len(const struct sockaddr *mask)
{
        const unsigned char *p;
        size_t len;
        int bits = 0;

        if (!mask)
                return 0;
        if (mask->sa_family == AF_INET) {
                p = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
                len = 4;
        } else {
                p = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
                len = 16;
        }
        for (size_t i = 0; i < len; i++)
                bits += __builtin_popcount(p[i]);
        return bits;
}

/* "IFNAME up|down" once per interface, then "IFNAME inet|inet6 ADDR/LEN". */
static int cmd_addrs(int argc, char **argv)
{
        struct ifaddrs *ifa, *i;

        (void)argc, (void)argv;
        if (getifaddrs(&ifa) < 0)
                return fail(errno);
        for (i = ifa; i; i = i->ifa_next)
                if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET)
                        printf("%s %s\n", i->ifa_name, (i->ifa_flags & IFF_UP) ? "up" : "down");
        for (i = ifa; i; i = i->ifa_next) {
                char buf[INET6_ADDRSTRLEN];
                const void *a;
                int fam;

                if (!i->ifa_addr)
                        continue;
                fam = i->ifa_addr->sa_family;
                if (fam == AF_INET)
                        a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                else if (fam == AF_INET6)
                        a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                else
                        continue;
                if (!inet_ntop(fam, a, buf, sizeof(buf)))
                        continue;
                printf("%s %s %s/%d\n", i->ifa_name, fam == AF_INET ? "inet" : "inet6", buf,
                       prefix_len(i->ifa_netmask));
        }
        freeifaddrs(ifa);
        return 0;
}

static int cmd_env(int argc, char **argv)
{
        (void)argc, (void)argv;
        for (char **e = environ; e && *e; e++)
                printf("%s\n", *e);
        return 0;
}

static int cmd_cwd(int argc, char **argv)
{
        char buf[PATH_MAX];

        (void)argc, (void)argv;
        if (!getcwd(buf, sizeof(buf)))
                return fail(errno);
        printf("%s\n", buf);
        return 0;
}

/* "uid=U gid=G groups=A,B" (real ids; euid/egid follow when they differ). */
static int cmd_id(int argc, char **argv)
{
        gid_t groups[256];
        int n = getgroups(256, groups);

        (void)argc, (void)argv;
        if (n < 0)
                return fail(errno);
        printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", (unsigned)groups[i]);
        if (geteuid() != getuid() || getegid() != getgid())
                printf(" euid=%u egid=%u", (unsigned)geteuid(), (unsigned)getegid());
        printf("\n");
        return 0;
}

/* The capability sets, no_new_privs and the seccomp mode, as the kernel
 * reports them in /proc/self/status. */
static int cmd_caps(int argc, char **argv)
{
        static const char *const keys[] = {
            "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"};
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");

        (void)argc, (void)argv;
        if (!f)
                return fail(errno);
        while (fgets(line, sizeof(line), f))
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
                                char *v = line + strlen(keys[i]);
                                v += strspn(v, " \t");
                                printf("%.*s %s", (int)strlen(keys[i]) - 1, keys[i], v);
                        }
        (void)fclose(f);
        return 0;
}

/* "FD TARGET" for each open fd but the one reading the directory. */
static int cmd_fds(int argc, char **argv)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        (void)argc, (void)argv;
        if (!d)
                return fail(errno);
        while ((de = readdir(d))) {
                char path[PATH_MAX], target[PATH_MAX];
                long fd;
                ssize_t n;

                if (parse_long(de->d_name, 0, INT_MAX, &fd) < 0 || fd == dirfd(d))
                        continue;
                (void)snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
                n = readlink(path, target, sizeof(target) - 1);
                printf("%ld %.*s\n", fd, n < 0 ? 1 : (int)n, n < 0 ? "?" : target);
        }
        (void)closedir(d);
        return 0;
}

/* ---- Files --------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int cmd_write(int argc, char **argv)
{
        int fd, r;

        if (argc != 3)
                return usage("write", "FILE TEXT");
        fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail(errno);
        r = write_all(fd, argv[2], strlen(argv[2]));
        if (r == 0)
                r = write_all(fd, "\n", 1);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                return fail(-r);
        printf("ok\n");
        return 0;
}

static int cmd_cat(int argc, char **argv)
{
        char buf[65536];
        int fd, r = 0;
        ssize_t n;

        if (argc != 2)
                return usage("cat", "FILE");
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fail(errno);
        fflush(stdout);
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                r = write_all(STDOUT_FILENO, buf, (size_t)n);
                if (r < 0)
                        break;
        }
        (void)close(fd);
        return r < 0 ? fail(-r) : 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_ls(int argc, char **argv)
{
        DIR *d;
        struct dirent *de;
        char *list[4096];
        size_t n = 0;

        if (argc != 2)
                return usage("ls", "DIR");
        d = opendir(argv[1]);
        if (!d)
                return fail(errno);
        while ((de = readdir(d)) && n < sizeof(list) / sizeof(list[0]))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    (list[n] = strdup(de->d_name)))
                        n++;
        (void)closedir(d);
        qsort(list, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                printf("%s\n", list[i]);
                free(list[i]);
        }
        return 0;
}

/* "TYPE MODE UID GID SIZE" without following a final symlink. */
static int cmd_stat(int argc, char **argv)
{
        struct stat st;
        const char *type;

        if (argc != 2)
                return usage("stat", "PATH");
        if (lstat(argv[1], &st) < 0)
                return fail(errno);
        switch (st.st_mode & S_IFMT) {
        case S_IFREG:
                type = "file";
                break;
        case S_IFDIR:
                type = "dir";
                break;
        case S_IFLNK:
                type = "symlink";
                break;
        case S_IFCHR:
                type = "char";
                break;
        case S_IFBLK:
                type = "block";
                break;
        case S_IFIFO:
                type = "fifo";
                break;
        default:
                type = "socket";
                break;
        }
        printf("%s %04o %u %u %lld\n", type, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
               (unsigned)st.st_gid, (long long)st.st_size);
        return 0;
}

/* ---- Processes and signals ----------------------------------------------- */

static void exit_on_term(int sig)
{
        (void)sig;
        _exit(0);
}

static void __attribute__((noreturn)) wait_forever(void)
{
        for (;;)
                pause();
}

/* SECONDS may be fractional, or "inf". --term makes SIGTERM exit 0, which a
 * PID 1 needs: the kernel drops default-disposition signals sent to a pid
 * namespace's init, so without --term as PID 1 only SIGKILL stops it. */
static int cmd_sleep(int argc, char **argv)
{
        struct timespec ts;
        bool inf = false;
        double secs = 0;
        char *end;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--term") == 0) {
                        (void)signal(SIGTERM, exit_on_term);
                } else if (strcmp(argv[i], "inf") == 0) {
                        inf = true;
                } else {
                        secs = strtod(argv[i], &end);
                        if (*end || end == argv[i] || secs < 0)
                                return usage("sleep", "SECONDS|inf [--term]");
                }
        }
        if (inf)
                wait_forever();
        ts.tv_sec = (time_t)secs;
        ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}

static int cmd_term_handler(int argc, char **argv)
{
        (void)argc, (void)argv;
        (void)signal(SIGTERM, exit_on_term);
        printf("ready\n");
        fflush(stdout);
        wait_forever();
}

static int cmd_ignore_term(int argc, char **argv)
{
        (void)argc, (void)argv;
        (void)signal(SIGTERM, SIG_IGN);
        printf("ready\n");
        fflush(stdout);
        wait_forever();
}

static int cmd_exit(int argc, char **argv)
{
        long n;

        if (argc != 2 || parse_long(argv[1], 0, 255, &n) < 0)
                return usage("exit", "N (0-255)");
        fflush(stdout);
        return (int)n;
}

static int cmd_echo(int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                printf("%s%s", i > 1 ? " " : "", argv[i]);
        printf("\n");
        return 0;
}

/* `lines N [--stderr] [--width W]`: N lines "line K" padded with 'x' to W
 * characters, each written by one write(2), for the log tests. */
static int cmd_lines(int argc, char **argv)
{
        long n = -1, width = 0;
        int fd = STDOUT_FILENO;
        char *buf;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--stderr") == 0)
                        fd = STDERR_FILENO;
                else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc) {
                        if (parse_long(argv[++i], 0, 16 << 20, &width) < 0)
                                return usage("lines", "N [--stderr] [--width W]");
                } else if (parse_long(argv[i], 0, LONG_MAX, &n) < 0)
                        return usage("lines", "N [--stderr] [--width W]");
        }
        if (n < 0)
                return usage("lines", "N [--stderr] [--width W]");
        buf = malloc((size_t)width + 32);
        if (!buf)
                return fail(ENOMEM);
        for (long k = 1; k <= n; k++) {
                int len = snprintf(buf, 32, "line %ld", k);
                while (len < width)
                        buf[len++] = 'x';
                buf[len++] = '\n';
                if (write_all(fd, buf, (size_t)len) < 0) {
                        free(buf);
                        return 1;
                }
        }
        free(buf);
        return 0;
}

/* Allocates and touches STEP MiB at a time (default 10), printing the
 * running total, until the memory limit kills it. */
static int cmd_grow(int argc, char **argv)
{
        long step = 10, total = 0;

        if (argc > 2 || (argc == 2 && parse_long(argv[1], 1, 1024, &step) < 0))
                return usage("grow", "[MB_STEP]");
        for (;;) {
                size_t len = (size_t)step << 20;
                char *p =
                    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        printf("stuck at %ld MB: %s\n", total, strerrorname_np(errno));
                        fflush(stdout);
                        wait_forever();
                }
                memset(p, 0x5a, len);
                total += step;
                printf("%ld MB\n", total);
                fflush(stdout);
        }
}

/* Forks until fork fails, then prints "COUNT ERRNO" and exits; the
 * children die with it (PR_SET_PDEATHSIG). */
static int cmd_forkbomb(int argc, char **argv)
{
        pid_t self = getpid();
        int count = 0;

        (void)argc, (void)argv;
        for (;;) {
                pid_t pid;

                if (count >= FORKBOMB_CAP) {
                        printf("%d CAP\n", count);
                        return 0;
                }
                pid = fork();
                if (pid < 0) {
                        printf("%d %s\n", count, strerrorname_np(errno));
                        return 0;
                }
                if (pid == 0) {
                        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                        if (getppid() != self)
                                _exit(0);
                        wait_forever();
                }
                count++;
        }
}

/* ---- IPC ----------------------------------------------------------------- */

static int parse_key(const char *s, key_t *ret)
{
        long v;

        if (parse_long(s, 1, INT_MAX, &v) < 0)
                return -1;
        *ret = (key_t)v;
        return 0;
}

static int cmd_ipc_create(int argc, char **argv)
{
        key_t key;

        if (argc != 2 || parse_key(argv[1], &key) < 0)
                return usage("ipc-create", "KEY");
        if (msgget(key, IPC_CREAT | 0600) < 0)
                return fail(errno);
        printf("ok\n");
        return 0;
}

static int cmd_ipc_check(int argc, char **argv)
{
        key_t key;

        if (argc != 2 || parse_key(argv[1], &key) < 0)
                return usage("ipc-check", "KEY");
        if (msgget(key, 0) < 0)
                return fail(errno);
        printf("ok\n");
        return 0;
}

/* ---- try: is a privileged operation allowed? ------------------------------ */

/* Each attempt returns 0 when the kernel let it through, else an errno.
 * Attempts that would change the host if allowed pass an argument that the
 * kernel refuses only after its permission checks (an unknown command, a
 * bad address): that refusal (the listed "ok" errno) means "allowed". */
static int try_mount(const char *arg)
{
        const char *target = arg ? arg : "/tmp";

        if (mount("probe", target, "tmpfs", 0, "size=64k") < 0)
                return errno;
        (void)umount2(target, MNT_DETACH);
        return 0;
}

static int try_umount(const char *arg)
{
        return umount2(arg ? arg : "/sys", MNT_DETACH) < 0 ? errno : 0;
}

static int try_mknod_block(const char *arg)
{
        const char *path = arg ? arg : "/tmp/.probe-blk";

        if (mknod(path, S_IFBLK | 0600, makedev(7, 0)) < 0)
                return errno;
        (void)unlink(path);
        return 0;
}

/* Sets the name it already has: the permission is tested, the pod's
 * hostname stays. */
static int try_sethostname(const char *arg)
{
        char name[HOST_NAME_MAX + 1];

        (void)arg;
        if (gethostname(name, sizeof(name)) < 0)
                return errno;
        return sethostname(name, strlen(name)) < 0 ? errno : 0;
}

/* The classic escape: chroot into a subdirectory while holding a cwd
 * outside it, climb, chroot("."). "ok" means the root we end up in is not
 * the root we started from. */
static int try_chroot_escape(const char *arg)
{
        struct stat before, after;

        (void)arg;
        if (stat("/", &before) < 0)
                return errno;
        if (mkdir("/tmp/.probe-jail", 0700) < 0 && errno != EEXIST)
                return errno;
        if (chroot("/tmp/.probe-jail") < 0)
                return errno;
        for (int i = 0; i < 64; i++)
                if (chdir("..") < 0)
                        return errno;
        if (chroot(".") < 0)
                return errno;
        if (stat("/", &after) < 0)
                return errno;
        if (after.st_dev == before.st_dev && after.st_ino == before.st_ino)
                return EPERM;
        return 0;
}

static int try_open_exe_for_write(const char *arg)
{
        int fd = open(arg ? arg : "/proc/self/exe", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return errno;
        (void)close(fd);
        return 0;
}

/* Seizing does not stop the tracee, and the kernel detaches it when the
 * probe exits. */
static int try_ptrace(const char *arg)
{
        long pid;

        if (!arg || parse_long(arg, 1, INT_MAX, &pid) < 0)
                return EINVAL;
        return ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) < 0 ? errno : 0;
}

/* KEXEC_ARCH 0xffff is no architecture: refused with EINVAL after the
 * CAP_SYS_BOOT check, so nothing is ever loaded or unloaded. */
static int try_kexec(const char *arg)
{
        (void)arg;
        if (syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xffffUL << 16) < 0)
                return errno == EINVAL ? 0 : errno;
        return 0;
}

/* A zero-length module: ENOEXEC after the CAP_SYS_MODULE check. */
static int try_init_module(const char *arg)
{
        static char empty[1];

        (void)arg;
        if (syscall(SYS_init_module, empty, 0UL, "") < 0)
                return (errno == ENOEXEC || errno == EINVAL || errno == EFAULT) ? 0 : errno;
        return 0;
}

/* Reads the session keyring's id without creating one. */
static int try_keyctl(const char *arg)
{
        (void)arg;
        if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0)
                return errno == ENOKEY ? 0 : errno;
        return 0;
}

/* An all-zero BPF_MAP_CREATE: EINVAL once past the privilege checks. */
static int try_bpf(const char *arg)
{
        union bpf_attr attr;

        (void)arg;
        memset(&attr, 0, sizeof(attr));
        if (syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)) < 0)
                return errno == EINVAL ? 0 : errno;
        return 0;
}

static int try_unshare(const char *arg)
{
        static const struct {
                const char *name;
                int flag;
        } kinds[] = {{"mnt", CLONE_NEWNS},       {"net", CLONE_NEWNET}, {"uts", CLONE_NEWUTS},
                     {"ipc", CLONE_NEWIPC},      {"pid", CLONE_NEWPID}, {"user", CLONE_NEWUSER},
                     {"cgroup", CLONE_NEWCGROUP}};
        const char *kind = arg ? arg : "mnt";

        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strcmp(kind, kinds[i].name) == 0)
                        return unshare(kinds[i].flag) < 0 ? errno : 0;
        return EINVAL;
}

/* An unknown reboot command: EINVAL after the CAP_SYS_BOOT check. */
static int try_reboot(const char *arg)
{
        (void)arg;
        if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0x50524f42, NULL) < 0)
                return errno == EINVAL ? 0 : errno;
        return 0;
}

/* A missing file: ENOENT after the CAP_SYS_ADMIN check. */
static int try_swapon(const char *arg)
{
        (void)arg;
        if (swapon("/.probe-no-such-swap", 0) < 0)
                return errno == ENOENT ? 0 : errno;
        return 0;
}

static int try_raw_socket(const char *arg)
{
        int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

        (void)arg;
        if (fd < 0)
                return errno;
        (void)close(fd);
        return 0;
}

static int try_bind_low(const char *arg)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

        (void)arg;
        if (fd < 0)
                return errno;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                r = errno == EADDRINUSE ? 0 : errno;
        (void)close(fd);
        return r;
}

static int try_chown(const char *arg)
{
        const char *path = arg ? arg : "/tmp/.probe-chown";
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600), r = 0;

        if (fd < 0)
                return errno;
        if (fchown(fd, 4242, 4242) < 0)
                r = errno;
        (void)close(fd);
        if (!arg)
                (void)unlink(path);
        return r;
}

static int try_userfaultfd(const char *arg)
{
        long fd = syscall(SYS_userfaultfd, O_CLOEXEC);

        (void)arg;
        if (fd < 0)
                return errno;
        (void)close((int)fd);
        return 0;
}

/* A bad mount fd: EBADF after the CAP_DAC_READ_SEARCH check (the
 * "shocker" escape needs this call). */
static int try_open_by_handle_at(const char *arg)
{
        struct file_handle h = {.handle_bytes = 0};

        (void)arg;
        if (syscall(SYS_open_by_handle_at, -1, &h, O_RDONLY) < 0)
                return (errno == EBADF || errno == EINVAL) ? 0 : errno;
        return 0;
}

static int try_syslog(const char *arg)
{
        (void)arg;
        /* SYSLOG_ACTION_SIZE_BUFFER: reads, changes nothing. */
        return syscall(SYS_syslog, 10, NULL, 0) < 0 ? errno : 0;
}

static int try_setuid(const char *arg)
{
        long uid = 4242;

        if (arg && parse_long(arg, 0, INT_MAX, &uid) < 0)
                return EINVAL;
        return setuid((uid_t)uid) < 0 ? errno : 0;
}

static const struct {
        const char *name;
        int (*run)(const char *arg);
} tries[] = {
    {"mount", try_mount},
    {"umount", try_umount},
    {"mknod-block", try_mknod_block},
    {"sethostname", try_sethostname},
    {"chroot-escape", try_chroot_escape},
    {"open-exe-for-write", try_open_exe_for_write},
    {"ptrace", try_ptrace},
    {"kexec", try_kexec},
    {"init_module", try_init_module},
    {"keyctl", try_keyctl},
    {"bpf", try_bpf},
    {"unshare", try_unshare},
    {"reboot", try_reboot},
    {"swapon", try_swapon},
    {"raw-socket", try_raw_socket},
    {"bind-low", try_bind_low},
    {"chown", try_chown},
    {"userfaultfd", try_userfaultfd},
    {"open_by_handle_at", try_open_by_handle_at},
    {"syslog", try_syslog},
    {"setuid", try_setuid},
};

static int cmd_try(int argc, char **argv)
{
        if (argc < 2 || argc > 3)
                return usage("try", "OPERATION [ARG]");
        for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
                int e;

                if (strcmp(argv[1], tries[i].name) != 0)
                        continue;
                e = tries[i].run(argc == 3 ? argv[2] : NULL);
                if (e)
                        return fail(e);
                printf("ok\n");
                return 0;
        }
        fprintf(stderr, "probe: try: unknown operation '%s'\n", argv[1]);
        return 2;
}

/* ---- Network ------------------------------------------------------------- */

/* HOST is a numeric IPv4 or IPv6 address, or "localhost": no resolver in a
 * static binary. */
static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        long p;

        memset(ss, 0, sizeof(*ss));
        if (parse_long(port, 0, 65535, &p) < 0)
                return -1;
        if (strcmp(host, "localhost") == 0)
                host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t)p);
                *len = sizeof(*in);
                return 0;
        }
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)p);
                *len = sizeof(*in6);
                return 0;
        }
        return -1;
}

/* Listens on every IPv4 and IPv6 address (one dual-stack socket). */
static int listen_any(int type, const char *port)
{
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
        int fd, one = 1, zero = 0;
        long p;

        if (parse_long(port, 0, 65535, &p) < 0) {
                errno = EINVAL;
                return -1;
        }
        a.sin6_port = htons((uint16_t)p);
        fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            (type == SOCK_STREAM && listen(fd, 64) < 0)) {
                int e = errno;
                (void)close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

static void set_timeout(int fd, int secs)
{
        struct timeval tv = {.tv_sec = secs};

        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Each connection gets "HOSTNAME\n", then its own bytes back until it
 * closes; one connection at a time. */
static int cmd_tcp_listen(int argc, char **argv)
{
        char host[HOST_NAME_MAX + 2], buf[4096];
        int fd;

        if (argc != 2)
                return usage("tcp-listen", "PORT");
        fd = listen_any(SOCK_STREAM, argv[1]);
        if (fd < 0)
                return fail(errno);
        (void)signal(SIGPIPE, SIG_IGN);
        (void)signal(SIGTERM, exit_on_term);
        if (gethostname(host, sizeof(host) - 1) < 0)
                strcpy(host, "?");
        strcat(host, "\n");
        printf("listening %s\n", argv[1]);
        fflush(stdout);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                ssize_t n;

                if (c < 0)
                        continue;
                set_timeout(c, 5);
                if (write_all(c, host, strlen(host)) == 0)
                        while ((n = read(c, buf, sizeof(buf))) > 0)
                                if (write_all(c, buf, (size_t)n) < 0)
                                        break;
                (void)close(c);
        }
}

static int connect_to(int type, const char *host, const char *port)
{
        struct sockaddr_storage ss;
        socklen_t len;
        int fd;

        if (parse_addr(host, port, &ss, &len) < 0) {
                errno = EINVAL;
                return -1;
        }
        fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        set_timeout(fd, 5);
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
                int e = errno;
                (void)close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

static int copy_to_stdout(int fd)
{
        char buf[4096];
        ssize_t n;

        fflush(stdout);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                        return -errno;
        return n < 0 ? -errno : 0;
}

/* Connects, sends nothing, prints what the peer sends until it closes. */
static int cmd_tcp_connect(int argc, char **argv)
{
        int fd, r;

        if (argc != 3)
                return usage("tcp-connect", "HOST PORT");
        fd = connect_to(SOCK_STREAM, argv[1], argv[2]);
        if (fd < 0)
                return fail(errno);
        (void)shutdown(fd, SHUT_WR);
        r = copy_to_stdout(fd);
        (void)close(fd);
        return r < 0 ? fail(-r) : 0;
}

static int cmd_udp_echo(int argc, char **argv)
{
        char buf[65536];
        int fd;

        if (argc != 2)
                return usage("udp-echo", "PORT");
        fd = listen_any(SOCK_DGRAM, argv[1]);
        if (fd < 0)
                return fail(errno);
        (void)signal(SIGTERM, exit_on_term);
        printf("listening %s\n", argv[1]);
        fflush(stdout);
        for (;;) {
                struct sockaddr_storage peer;
                socklen_t plen = sizeof(peer);
                ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);

                if (n >= 0)
                        (void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
        }
}

/* Sends TEXT and prints the reply, waiting at most 2 s for one. Exit 0 when
 * a reply came, else ETIMEDOUT (or the send error) and 1. */
static int cmd_udp_send(int argc, char **argv)
{
        char buf[65536];
        struct timeval tv = {.tv_sec = 2};
        ssize_t n;
        int fd;

        if (argc != 4)
                return usage("udp-send", "HOST PORT TEXT");
        fd = connect_to(SOCK_DGRAM, argv[1], argv[2]);
        if (fd < 0)
                return fail(errno);
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (send(fd, argv[3], strlen(argv[3]), 0) < 0)
                return fail(errno);
        n = recv(fd, buf, sizeof(buf), 0);
        (void)close(fd);
        if (n < 0)
                return fail(errno == EAGAIN ? ETIMEDOUT : errno);
        printf("%.*s\n", (int)n, buf);
        return 0;
}

/* HTTP/1.0 GET: prints the status line, then the body. Exit 0 for 2xx and
 * 3xx, 1 otherwise. */
static int cmd_http_get(int argc, char **argv)
{
        char req[1024], buf[65536];
        size_t len = 0;
        ssize_t n;
        char *body, *eol;
        int fd, code = 0;

        if (argc != 4)
                return usage("http-get", "HOST PORT PATH");
        fd = connect_to(SOCK_STREAM, argv[1], argv[2]);
        if (fd < 0)
                return fail(errno);
        n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
        if (write_all(fd, req, (size_t)n) < 0)
                return fail(errno);
        while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t)n;
        (void)close(fd);
        buf[len] = '\0';
        if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1)
                return fail(EPROTO);
        eol = strstr(buf, "\r\n");
        body = strstr(buf, "\r\n\r\n");
        printf("%.*s\n%s", eol ? (int)(eol - buf) : 0, buf, body ? body + 4 : "");
        return code >= 200 && code < 400 ? 0 : 1;
}

/* Answers every request with STATUS (default 200) and "HOSTNAME\n", for
 * httpGet probes. */
static int cmd_http_serve(int argc, char **argv)
{
        char host[HOST_NAME_MAX + 1], resp[512], req[4096];
        long status = 200;
        int fd, n;

        if (argc < 2 || argc > 3 || (argc == 3 && parse_long(argv[2], 100, 599, &status) < 0))
                return usage("http-serve", "PORT [STATUS]");
        fd = listen_any(SOCK_STREAM, argv[1]);
        if (fd < 0)
                return fail(errno);
        (void)signal(SIGPIPE, SIG_IGN);
        (void)signal(SIGTERM, exit_on_term);
        if (gethostname(host, sizeof(host)) < 0)
                strcpy(host, "?");
        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.0 %ld probe\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     status, strlen(host) + 1, host);
        printf("listening %s\n", argv[1]);
        fflush(stdout);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

                if (c < 0)
                        continue;
                set_timeout(c, 5);
                (void)read(c, req, sizeof(req));
                (void)write_all(c, resp, (size_t)n);
                (void)close(c);
        }
}

/* ---- Dispatch ------------------------------------------------------------ */

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *args;
} commands[] = {
    {"hostname", cmd_hostname, ""},
    {"ns", cmd_ns, ""},
    {"pid", cmd_pid, ""},
    {"ps", cmd_ps, ""},
    {"addrs", cmd_addrs, ""},
    {"env", cmd_env, ""},
    {"cwd", cmd_cwd, ""},
    {"id", cmd_id, ""},
    {"caps", cmd_caps, ""},
    {"fds", cmd_fds, ""},
    {"write", cmd_write, "FILE TEXT"},
    {"cat", cmd_cat, "FILE"},
    {"ls", cmd_ls, "DIR"},
    {"stat", cmd_stat, "PATH"},
    {"sleep", cmd_sleep, "SECONDS|inf [--term]"},
    {"term-handler", cmd_term_handler, ""},
    {"ignore-term", cmd_ignore_term, ""},
    {"exit", cmd_exit, "N"},
    {"echo", cmd_echo, "TEXT..."},
    {"lines", cmd_lines, "N [--stderr] [--width W]"},
    {"grow", cmd_grow, "[MB_STEP]"},
    {"forkbomb", cmd_forkbomb, ""},
    {"ipc-create", cmd_ipc_create, "KEY"},
    {"ipc-check", cmd_ipc_check, "KEY"},
    {"try", cmd_try, "OPERATION [ARG]"},
    {"tcp-listen", cmd_tcp_listen, "PORT"},
    {"tcp-connect", cmd_tcp_connect, "HOST PORT"},
    {"udp-echo", cmd_udp_echo, "PORT"},
    {"udp-send", cmd_udp_send, "HOST PORT TEXT"},
    {"http-get", cmd_http_get, "HOST PORT PATH"},
    {"http-serve", cmd_http_serve, "PORT [STATUS]"},
};

static int help(FILE *f)
{
        fprintf(f, "usage: probe COMMAND [ARGS...]  (or a symlink named COMMAND)\n\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(f, "  %s %s\n", commands[i].name, commands[i].args);
        fprintf(f, "\ntry operations:");
        for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
                fprintf(f, " %s", tries[i].name);
        fprintf(f, "\n");
        return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
        const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
        const char *cmd;
        int r;

        /* Line-buffered even into a pipe: the supervisor's log reader and
         * the tests see each line as it happens. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        base = base ? base + 1 : (argc > 0 ? argv[0] : "probe");
        if (strcmp(base, "probe") != 0) {
                cmd = base;
        } else {
                if (argc < 2)
                        return help(stderr);
                if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                        return help(stdout);
                cmd = argv[1];
                argc--;
                argv++;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (strcmp(cmd, commands[i].name) != 0)
                        continue;
                r = commands[i].run(argc, argv);
                fflush(stdout);
                return r;
        }
        fprintf(stderr, "probe: unknown command '%s'\n", cmd);
        return help(stderr);
}
