/* Network namespace files and sysctls. Owns the only setns(2) of netsetup:
 * the calling thread visits a pod's namespace just long enough to open a
 * netlink socket there and always comes back before returning. It never
 * creates or removes namespaces (the runtime's infra does). */
#include "netsetup/netsetup-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/log.h"

int net_netns_check(int fd, const char *what, struct pr_error *err)
{
        struct stat st, self;
        struct statfs sfs;
        int type;

        if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
                return pr_err(err, errno, "network namespace '%s'", what);
        /* A plain file where a namespace mount went missing would make
         * setns() fail later with a less helpful EINVAL. */
        if ((unsigned long)sfs.f_type != (unsigned long)NSFS_MAGIC)
                return pr_err_msg(err, EINVAL, "network namespace '%s': not a namespace file",
                                  what);
        type = ioctl(fd, NS_GET_NSTYPE);
        if (type >= 0 && type != CLONE_NEWNET)
                return pr_err_msg(err, EINVAL, "network namespace '%s': not a network namespace",
                                  what);
        /* The host's own namespace would get a second eth0 and the pod's
         * routes: refuse it (hostNetwork pods are not attached at all). */
        if (stat("/proc/thread-self/ns/net", &self) < 0)
                return pr_err(err, errno, "stat '/proc/thread-self/ns/net'");
        if (st.st_dev == self.st_dev && st.st_ino == self.st_ino)
                return pr_err_msg(err, EINVAL,
                                  "network namespace '%s' is the host's own, not a pod's", what);
        return 0;
}

int net_netns_open(const char *path, int *ret_fd, struct pr_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return pr_err(err, errno, "network namespace '%s'", path);
        r = net_netns_check(fd, path, err);
        if (r < 0)
                return r;
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

int net_netns_socket(int netns_fd, struct nl_sock **ret, struct pr_error *err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        struct nl_sock *sk = NULL;
        int r;

        if (self < 0)
                return pr_err(err, errno, "open '/proc/thread-self/ns/net'");
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return pr_err(err, errno, "enter the pod's network namespace");
        r = net_nl_open(&sk, err);
        /* Coming back must not fail: we hold an fd of the namespace we came
         * from. If it did, every later call would act in the pod's
         * namespace, so it is reported above everything else. */
        if (setns(self, CLONE_NEWNET) < 0) {
                if (sk)
                        nl_socket_free(sk);
                return pr_err(err, errno, "return to the host network namespace");
        }
        if (r < 0)
                return pr_err_wrap(err, "inside the pod's network namespace");
        *ret = sk;
        return 0;
}

int net_sysctl_write(const char *path, const char *value, struct pr_error *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return pr_err(err, errno, "sysctl '%s'", path);
        n = write(fd, value, len);
        if (n < 0)
                return pr_err(err, errno, "sysctl '%s'", path);
        if ((size_t)n != len)
                return pr_err(err, EIO, "sysctl '%s': short write", path);
        return 0;
}
