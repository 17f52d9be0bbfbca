/* IPAM in the manner of CNI's host-local plugin: one file per leased
 * address under <root>/ipam/<network>/, created with O_EXCL, naming its
 * owner pod, the boot it was taken in and the owner process; a lock file
 * held with flock(2) across each allocation; last_reserved_ip for
 * round-robin. hostPort records live beside them in ports/. Plain files
 * only: it never touches the kernel's network state, and never trusts a
 * lease file's content further than its parser. */
#include "netsetup/netsetup-int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"

#define LEASE_MAX_BYTES 1024
#define POD_NAME_MAX 253

struct lease {
        char pod[POD_NAME_MAX + 1];
        char boot_id[PR_BOOT_ID_MAX];
        int64_t pid;
        uint64_t start_time;
};

static uint32_t mask_of(unsigned prefix)
{
        return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

int net_ipam_open(const char *root_dir, const struct net_config *cfg, struct net_ipam *ret,
                  struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/ipam/%s", root_dir, cfg->bridge);
        _cleanup_free_ char *ports = pr_asprintf("%s/ports", dir);
        int r;

        r = pr_mkdir_p(ports, 0700, err);
        if (r < 0)
                return pr_err_wrap(err, "network '%s': lease directory", cfg->bridge);
        *ret = (struct net_ipam){
            .dir = PR_TAKE_PTR(dir),
            .network = cfg->bridge,
            .subnet = ntohl(cfg->subnet.s_addr),
            .prefix = cfg->prefix,
            .gateway = ntohl(cfg->gateway.s_addr),
        };
        return 0;
}

void net_ipam_done(struct net_ipam *ipam)
{
        free(ipam->dir);
        ipam->dir = NULL;
}

int net_ipam_lock(const struct net_ipam *ipam, int *ret_fd, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/lock", ipam->dir);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

        if (fd < 0)
                return pr_err(err, errno, "network '%s': lock '%s'", ipam->network, path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pr_err(err, errno, "network '%s': lock '%s'", ipam->network, path);
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

static bool valid_pod_text(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > POD_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

/* Strict: "pod=", "boot_id=" required, "pid=" and "start_time=" optional,
 * nothing else. Anything else is -EBADMSG. */
static int parse_lease(char *text, struct lease *ret)
{
        struct lease l = {0};
        char *line = text;

        while (line && *line) {
                char *nl = strchr(line, '\n'), *eq;
                if (nl)
                        *nl = '\0';
                eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq++ = '\0';
                if (strcmp(line, "pod") == 0 && valid_pod_text(eq))
                        (void)snprintf(l.pod, sizeof(l.pod), "%s", eq);
                else if (strcmp(line, "boot_id") == 0 && *eq && strlen(eq) < PR_BOOT_ID_MAX)
                        (void)snprintf(l.boot_id, sizeof(l.boot_id), "%s", eq);
                else if (strcmp(line, "pid") == 0) {
                        if (pr_parse_i64(eq, &l.pid) < 0 || l.pid <= 0)
                                return -EBADMSG;
                } else if (strcmp(line, "start_time") == 0) {
                        if (pr_parse_u64(eq, &l.start_time) < 0)
                                return -EBADMSG;
                } else
                        return -EBADMSG;
                line = nl ? nl + 1 : NULL;
        }
        if (!l.pod[0] || !l.boot_id[0])
                return -EBADMSG;
        *ret = l;
        return 0;
}

/* 0, -ENOENT when gone, -EBADMSG when corrupt, other -errno on I/O errors. */
static int read_lease(const char *dir, const char *name, struct lease *ret)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, name);
        _cleanup_free_ char *text = NULL;
        int r;

        r = pr_read_file(path, LEASE_MAX_BYTES, &text, NULL, NULL);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        return parse_lease(text, ret);
}

static bool lease_stale(const struct net_ipam *ipam, const struct lease *l, const char *boot_id)
{
        uint64_t start_time;

        /* Pods do not survive a reboot; their leases are leftovers. */
        if (strcmp(l->boot_id, boot_id) != 0)
                return true;
        if (ipam->pod_exists)
                return !ipam->pod_exists(l->pod, ipam->userdata);
        if (l->pid > 0)
                return pr_proc_stat((pid_t)l->pid, NULL, &start_time, NULL) < 0 || start_time != l->start_time;
        return false;
}

/* Creates <dir>/<name>, exclusively: -EEXIST when someone holds it. The
 * content goes to an O_EXCL temporary first and is linked into place, since
 * link(2) fails on an existing name: a crash can never leave an empty
 * lease, which would read as corrupt and hold its address for good. */
static int write_lease(const struct net_ipam *ipam, const char *dir, const char *name,
                       const char *pod, const char *boot_id, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, name);
        _cleanup_free_ char *tmp = pr_asprintf("%s/%s.tmp.%d", dir, name, (int)getpid());
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t start_time = 0;
        size_t len;
        int r = 0;

        if (ipam->owner_pid > 0 && pr_proc_stat((pid_t)ipam->owner_pid, NULL, &start_time, NULL) < 0)
                return pr_err(err, ESRCH, "network '%s': owner process %d", ipam->network,
                              (int)ipam->owner_pid);
        if (ipam->owner_pid > 0)
                text = pr_asprintf("pod=%s\nboot_id=%s\npid=%d\nstart_time=%" PRIu64 "\n", pod,
                                   boot_id, (int)ipam->owner_pid, start_time);
        else
                text = pr_asprintf("pod=%s\nboot_id=%s\n", pod, boot_id);
        (void)unlink(tmp); /* our own leftover from a crash with this pid */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return pr_err(err, errno, "network '%s': create '%s'", ipam->network, tmp);
        len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len)
                r = pr_err(err, errno ? errno : EIO, "network '%s': write '%s'", ipam->network,
                           tmp);
        else if (link(tmp, path) < 0)
                r = errno == EEXIST
                        ? -EEXIST
                        : pr_err(err, errno, "network '%s': link '%s'", ipam->network, path);
        (void)unlink(tmp);
        return r;
}

/* Takes <dir>/<name> for pod: 1 when taken (or already the pod's), 0 when
 * another live owner or a corrupt file holds it. */
static int take(const struct net_ipam *ipam, const char *dir, const char *name, const char *pod,
                const char *boot_id, struct pr_error *err)
{
        struct lease l;
        int r;

        for (int attempt = 0; attempt < 2; attempt++) {
                _cleanup_free_ char *path = NULL;

                r = write_lease(ipam, dir, name, pod, boot_id, err);
                if (r != -EEXIST)
                        return r < 0 ? r : 1;
                r = read_lease(dir, name, &l);
                if (r == -ENOENT)
                        continue; /* released between our open and read */
                if (r == -EBADMSG) {
                        pr_log_warn("network '%s': lease file '%s/%s' is corrupt; skipping",
                                    ipam->network, dir, name);
                        return 0;
                }
                if (r < 0)
                        return pr_err(err, r, "network '%s': read '%s/%s'", ipam->network, dir,
                                      name);
                if (strcmp(l.pod, pod) == 0)
                        return 1;
                if (!lease_stale(ipam, &l, boot_id))
                        return 0;
                pr_log_info("network '%s': reclaiming '%s' from pod '%s', which is gone",
                            ipam->network, name, l.pod);
                path = pr_asprintf("%s/%s", dir, name);
                if (unlink(path) < 0 && errno != ENOENT)
                        return pr_err(err, errno, "network '%s': unlink '%s'", ipam->network, path);
        }
        return 0;
}

/* Calls fn on each lease file (named by an address of the subnet). */
static int for_each_lease(const struct net_ipam *ipam, const char *dir,
                          int (*fn)(const struct net_ipam *ipam, const char *dir, const char *name,
                                    void *data),
                          void *data, struct pr_error *err)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return pr_err(err, errno, "network '%s': open '%s'", ipam->network, dir);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strcmp(de->d_name, "lock") == 0 ||
                    strcmp(de->d_name, "last_reserved_ip") == 0 ||
                    strcmp(de->d_name, "ports") == 0 || strstr(de->d_name, ".tmp."))
                        continue;
                r = fn(ipam, dir, de->d_name, data);
                if (r < 0)
                        break;
        }
        (void)closedir(d);
        return r;
}

struct find_ctx {
        const char *pod;
        uint32_t found; /* the pod's address, host order, 0 for none */
        unsigned removed;
        bool remove;
        struct pr_error *err;
};

static int find_pod(const struct net_ipam *ipam, const char *dir, const char *name, void *data)
{
        struct find_ctx *c = data;
        struct in_addr a;
        struct lease l;

        if (read_lease(dir, name, &l) < 0 || strcmp(l.pod, c->pod) != 0)
                return 0;
        if (c->remove) {
                _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, name);
                if (unlink(path) < 0 && errno != ENOENT)
                        return pr_err(c->err, errno, "network '%s': release '%s'", ipam->network,
                                      path);
                c->removed++;
        } else if (inet_pton(AF_INET, name, &a) == 1) {
                c->found = ntohl(a.s_addr);
        }
        return 0;
}

static uint32_t last_reserved(const struct net_ipam *ipam)
{
        _cleanup_free_ char *path = pr_asprintf("%s/last_reserved_ip", ipam->dir);
        _cleanup_free_ char *text = NULL;
        struct in_addr a;

        if (pr_read_file(path, 64, &text, NULL, NULL) < 0)
                return 0;
        text[strcspn(text, "\n")] = '\0';
        if (inet_pton(AF_INET, text, &a) != 1)
                return 0;
        return ntohl(a.s_addr);
}

static void addr_text(uint32_t host_order, char buf[static INET_ADDRSTRLEN])
{
        struct in_addr a = {.s_addr = htonl(host_order)};
        (void)inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int net_ipam_allocate(const struct net_ipam *ipam, const char *pod, struct in_addr *ret,
                      struct pr_error *err)
{
        uint32_t first = ipam->subnet + 1, last = (ipam->subnet | ~mask_of(ipam->prefix)) - 1;
        uint32_t n = last - first + 1, start, prev;
        struct find_ctx found = {.pod = pod, .err = err};
        char boot_id[PR_BOOT_ID_MAX], name[INET_ADDRSTRLEN], subnet[INET_ADDRSTRLEN];
        int r;

        r = pr_read_boot_id(boot_id, err);
        if (r < 0)
                return r;
        r = for_each_lease(ipam, ipam->dir, find_pod, &found, err);
        if (r < 0)
                return r;
        if (found.found) {
                ret->s_addr = htonl(found.found);
                return 0;
        }
        prev = last_reserved(ipam);
        start = prev >= first && prev <= last ? prev - first + 1 : 0;
        for (uint32_t i = 0; i < n; i++) {
                uint32_t cand = first + (start + i) % n;
                _cleanup_free_ char *path = NULL;

                if (cand == ipam->gateway)
                        continue;
                addr_text(cand, name);
                r = take(ipam, ipam->dir, name, pod, boot_id, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                path = pr_asprintf("%s/last_reserved_ip", ipam->dir);
                /* Only round-robin depends on it: losing it is harmless. */
                (void)pr_write_file_atomic(path, name, strlen(name), 0600, NULL);
                ret->s_addr = htonl(cand);
                return 0;
        }
        addr_text(ipam->subnet, subnet);
        return pr_err_msg(err, ENOSPC, "network '%s': no free address in %s/%u", ipam->network,
                          subnet, ipam->prefix);
}

int net_ipam_release(const struct net_ipam *ipam, const char *pod, struct pr_error *err)
{
        struct find_ctx c = {.pod = pod, .remove = true, .err = err};
        int r = for_each_lease(ipam, ipam->dir, find_pod, &c, err);

        return r < 0 ? r : (int)c.removed;
}

struct count_ctx {
        const char *boot_id;
        unsigned live;
        struct pr_error *err;
};

/* Stale leases are removed here rather than counted: leases left by a
 * previous boot would otherwise keep the bridge and the table forever. */
static int count_live(const struct net_ipam *ipam, const char *dir, const char *name, void *data)
{
        _cleanup_free_ char *path = NULL;
        struct count_ctx *c = data;
        struct lease l;
        int r = read_lease(dir, name, &l);

        if (r == -EBADMSG || r == -ENOENT)
                return 0; /* not a pod: allocation warns about corrupt ones */
        if (r < 0)
                return pr_err(c->err, r, "network '%s': read '%s/%s'", ipam->network, dir, name);
        if (!lease_stale(ipam, &l, c->boot_id)) {
                c->live++;
                return 0;
        }
        path = pr_asprintf("%s/%s", dir, name);
        if (unlink(path) < 0 && errno != ENOENT)
                return pr_err(c->err, errno, "network '%s': unlink '%s'", ipam->network, path);
        pr_log_info("network '%s': removed the stale lease '%s' of pod '%s'", ipam->network, name,
                    l.pod);
        return 0;
}

int net_ipam_count(const struct net_ipam *ipam, struct pr_error *err)
{
        char boot_id[PR_BOOT_ID_MAX];
        struct count_ctx c = {.boot_id = boot_id, .err = err};
        int r = pr_read_boot_id(boot_id, err);

        if (r >= 0)
                r = for_each_lease(ipam, ipam->dir, count_live, &c, err);
        return r < 0 ? r : (int)c.live;
}

int net_ipam_reserve_port(const struct net_ipam *ipam, const char *pod, enum net_protocol proto,
                          uint16_t port, struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/ports", ipam->dir);
        char boot_id[PR_BOOT_ID_MAX], name[32];
        struct lease l;
        int r;

        r = pr_read_boot_id(boot_id, err);
        if (r < 0)
                return r;
        (void)snprintf(name, sizeof(name), "%s-%u", proto == NET_PROTOCOL_UDP ? "udp" : "tcp",
                       port);
        r = take(ipam, dir, name, pod, boot_id, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (read_lease(dir, name, &l) < 0)
                (void)snprintf(l.pod, sizeof(l.pod), "%s", "(unreadable record)");
        return pr_err_msg(err, EADDRINUSE, "hostPort %u/%s is already taken by pod '%s'", port,
                          net_protocol_to_string(proto), l.pod);
}

int net_ipam_release_ports(const struct net_ipam *ipam, const char *pod, struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/ports", ipam->dir);
        struct find_ctx c = {.pod = pod, .remove = true, .err = err};
        int r = for_each_lease(ipam, dir, find_pod, &c, err);

        return r < 0 ? r : (int)c.removed;
}
