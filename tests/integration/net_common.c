/* Fixtures for the netsetup integration tests. Runs as root inside the
 * test's own network and mount namespaces only; children it forks enter
 * namespaces the test made, and are killed and reaped before it returns. */
#include "tests/integration/net_common.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

void net_env_setup(struct net_env *env, const char *conf_text)
{
        struct pr_error err = {};
        _cleanup_free_ char *conf = NULL;
        FILE *f;

        *env = (struct net_env){0};
        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
                cr_skip_test("unshare(CLONE_NEWNET|CLONE_NEWNS): %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        cr_assert_eq(net_sh("ip link set lo up"), 0);
        strcpy(env->root, "/tmp/podrun-itest-net-XXXXXX");
        cr_assert_not_null(mkdtemp(env->root));
        snprintf(env->netns_dir, sizeof(env->netns_dir), "%s/netns", env->root);
        cr_assert_eq(mkdir(env->netns_dir, 0700), 0);
        /* A tmpfs, so the namespace bind mounts vanish with this mount
         * namespace even if teardown never runs. */
        cr_assert_eq(mount("tmpfs", env->netns_dir, "tmpfs", 0, "mode=0700"), 0);
        conf = pr_asprintf("%s/network.conf", env->root);
        f = fopen(conf, "we");
        cr_assert_not_null(f);
        fputs(conf_text, f);
        fclose(f);
        cr_assert_eq(net_config_load(env->root, &env->cfg, &err), 0, "%s", err.msg);
}

void net_env_teardown(struct net_env *env)
{
        DIR *d;
        struct dirent *de;

        if (!env->root[0])
                return;
        d = opendir(env->netns_dir);
        while (d && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                if (de->d_name[0] == '.')
                        continue;
                p = pr_asprintf("%s/%s", env->netns_dir, de->d_name);
                (void)umount2(p, MNT_DETACH);
        }
        if (d)
                closedir(d);
        (void)umount2(env->netns_dir, MNT_DETACH);
        (void)pr_rm_rf(env->root, NULL);
        net_config_done(&env->cfg);
        env->root[0] = '\0';
}

char *net_env_netns(struct net_env *env, const char *name)
{
        char *path = pr_asprintf("%s/%s", env->netns_dir, name);
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd;

        cr_assert_geq(self, 0);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0, "create '%s': %s", path, strerror(errno));
        close(fd);
        cr_assert_eq(unshare(CLONE_NEWNET), 0);
        cr_assert_eq(mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL), 0,
                     "bind '%s': %s", path, strerror(errno));
        cr_assert_eq(net_sh("ip link set lo up"), 0);
        cr_assert_eq(setns(self, CLONE_NEWNET), 0);
        close(self);
        return path;
}

static char *vformat(const char *fmt, va_list ap)
{
        char *s;
        cr_assert_geq(vasprintf(&s, fmt, ap), 0);
        return s;
}

int net_sh(const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int status;

        va_start(ap, fmt);
        cmd = vformat(fmt, ap);
        va_end(ap);
        status = system(cmd);
        if (status < 0 || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

char *net_sh_out(const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        char *buf = pr_calloc(1, 65536);
        size_t len = 0, n;
        va_list ap;
        FILE *p;

        va_start(ap, fmt);
        cmd = vformat(fmt, ap);
        va_end(ap);
        p = popen(cmd, "re");
        cr_assert_not_null(p);
        while (len < 65535 && (n = fread(buf + len, 1, 65535 - len, p)) > 0)
                len += n;
        (void)pclose(p);
        return buf;
}

/* In a child: joins netns (when given). */
static void enter(const char *netns)
{
        int fd;

        if (!netns)
                return;
        fd = open(netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
                _exit(90);
        close(fd);
}

static void peer_text(const struct sockaddr_storage *ss, char *buf, size_t n)
{
        if (ss->ss_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)n);
        else
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
                          (socklen_t)n);
        strcat(buf, "\n");
}

static void serve(bool udp, int s)
{
        for (;;) {
                struct sockaddr_storage ss;
                socklen_t len = sizeof(ss);
                char buf[128] = "";

                if (udp) {
                        if (recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &len) < 0)
                                continue;
                        peer_text(&ss, buf, sizeof(buf) - 1);
                        (void)sendto(s, buf, strlen(buf), 0, (struct sockaddr *)&ss, len);
                } else {
                        int c = accept4(s, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
                        if (c < 0)
                                continue;
                        peer_text(&ss, buf, sizeof(buf) - 1);
                        (void)!write(c, buf, strlen(buf));
                        close(c);
                }
        }
}

pid_t net_server(const char *netns, bool udp, int family, uint16_t port)
{
        int ready[2];
        char c;
        pid_t pid;

        cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
                int one = 1, s;

                /* Never outlive the test, even one that failed before
                 * stopping us. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(120);
                enter(netns);
                ((struct sockaddr_in *)&ss)->sin_port = htons(port);
                if (family == AF_INET6)
                        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
                s = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
                if (s < 0)
                        _exit(91);
                (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (bind(s, (struct sockaddr *)&ss,
                         family == AF_INET ? sizeof(struct sockaddr_in)
                                           : sizeof(struct sockaddr_in6)) < 0)
                        _exit(92);
                if (!udp && listen(s, 64) < 0)
                        _exit(93);
                if (write(ready[1], "r", 1) != 1)
                        _exit(94);
                serve(udp, s);
        }
        close(ready[1]);
        cr_assert_eq(read(ready[0], &c, 1), 1, "server on port %u did not start", port);
        close(ready[0]);
        return pid;
}

void net_server_stop(pid_t *pid)
{
        pr_killp(pid);
        *pid = 0;
}

static int ask(bool udp, const char *ip, uint16_t port, char *reply, size_t n)
{
        struct sockaddr_storage ss = {0};
        struct timeval tv = {.tv_sec = 3};
        socklen_t len;
        ssize_t got;
        int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
        int s;

        if (family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                inet_pton(AF_INET, ip, &sin->sin_addr);
                len = sizeof(*sin);
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                inet_pton(AF_INET6, ip, &sin6->sin6_addr);
                len = sizeof(*sin6);
        }
        s = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        (void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(s, (struct sockaddr *)&ss, len) < 0)
                return -errno;
        if (udp && send(s, "?", 1, 0) != 1)
                return -errno;
        got = recv(s, reply, n - 1, 0);
        if (got <= 0)
                return got < 0 ? -errno : -ENODATA;
        reply[got] = '\0';
        reply[strcspn(reply, "\n")] = '\0';
        close(s);
        return 0;
}

int net_ask(const char *netns, bool udp, const char *ip, uint16_t port, char *reply, size_t n)
{
        int out[2], status;
        pid_t pid;
        char buf[256] = "";
        ssize_t got;
        int r;

        cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(20);
                enter(netns);
                r = ask(udp, ip, port, buf, sizeof(buf));
                if (r < 0)
                        _exit(-r);
                (void)!write(out[1], buf, strlen(buf));
                _exit(0);
        }
        close(out[1]);
        got = read(out[0], buf, sizeof(buf) - 1);
        close(out[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status))
                return -EINTR;
        if (WEXITSTATUS(status) != 0)
                return -WEXITSTATUS(status);
        buf[got > 0 ? got : 0] = '\0';
        snprintf(reply, n, "%s", buf);
        return 0;
}

void net_assert_clean(struct net_env *env)
{
        _cleanup_free_ char *links = net_sh_out("ip -o link show");
        _cleanup_free_ char *tables = net_sh_out("nft list tables 2>&1");
        _cleanup_free_ char *leases = NULL;
        _cleanup_free_ char *ports = NULL;

        cr_assert_null(strstr(links, ": vp"), "a pod veth is left:\n%s", links);
        cr_assert_null(strstr(links, env->cfg.bridge), "the bridge is left:\n%s", links);
        cr_assert_null(strstr(tables, "podrun"), "the nftables table is left:\n%s", tables);
        leases =
            net_sh_out("ls %s/ipam/%s 2>/dev/null | grep -v -e '^lock$' -e '^last_reserved_ip$' "
                       "-e '^ports$'",
                       env->root, env->cfg.bridge);
        cr_assert_str_eq(leases, "", "leases are left: %s", leases);
        ports = net_sh_out("ls %s/ipam/%s/ports 2>/dev/null", env->root, env->cfg.bridge);
        cr_assert_str_eq(ports, "", "hostPort records are left: %s", ports);
}
