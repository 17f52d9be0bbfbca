/* A container's root filesystem, built by the CHILD in its own mount
 * namespace between clone and exec: the overlay, /proc, /sys, /dev, the pod's
 * etc files, the volumes, then pivot_root. Everything here runs in the child
 * after it has joined the pod's namespaces; it never allocates (the parent
 * prepared all it needs), never resolves a path inside the container root by
 * string (openat2 RESOLVE_IN_ROOT from an fd of the root, and mounts through
 * fds with the new mount API, so no symlink in the image or a volume can send
 * a mount to the host), and never chroots. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/runtime-int.h"

#define DEV_SIZE "65536k"
#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static int openat2_path(int dirfd, const char *path, uint64_t resolve)
{
        struct open_how how = {
            .flags = O_PATH | O_CLOEXEC,
            .resolve = resolve,
        };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

        return fd < 0 ? -errno : (int)fd;
}

static int check_type(int fd, bool want_dir, const char *path, struct pr_error *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return pr_err(err, errno, "stat '%s'", path);
        if (want_dir && !S_ISDIR(st.st_mode))
                return pr_err(err, ENOTDIR, "mount point '%s'", path);
        if (!want_dir && S_ISDIR(st.st_mode))
                return pr_err(err, EISDIR, "mount point '%s'", path);
        return 0;
}

static int make_missing(int parent, const char *name, bool dir)
{
        int fd;

        if (dir)
                return mkdirat(parent, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
        /* O_EXCL|O_NOFOLLOW: never opens through a symlink planted there. */
        fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        (void)close(fd);
        return 0;
}

/* Opens path (O_PATH) under rootfd with the given RESOLVE_* flags. With
 * create, missing components are made as directories (the last one as a
 * file unless want_dir), each created by mkdirat() in a parent that was
 * itself resolved from rootfd, so creation never leaves the root either.
 * Reports paths as the container sees them. */
static int resolve_at(int rootfd, const char *path, uint64_t resolve, bool create, bool want_dir,
                      int *ret_fd, struct pr_error *err)
{
        char buf[PATH_MAX];
        const char *rel = path;
        int fd, parent, r;

        while (*rel == '/')
                rel++;
        if (!*rel)
                return pr_err(err, EINVAL, "'%s' names the root itself", path);
        if (strlen(rel) >= sizeof(buf))
                return pr_err(err, ENAMETOOLONG, "'%s'", path);
        fd = openat2_path(rootfd, rel, resolve);
        if (fd == -ENOENT && create) {
                memcpy(buf, rel, strlen(rel) + 1);
                parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                if (parent < 0)
                        return pr_err(err, errno, "dup");
                for (char *p = buf; parent >= 0 && *p;) {
                        char *slash = strchr(p, '/');
                        bool last = !slash || !slash[strspn(slash, "/")];
                        char *comp = p;

                        if (slash)
                                *slash = '\0';
                        fd = openat2_path(rootfd, buf, resolve);
                        if (fd == -ENOENT) {
                                r = make_missing(parent, comp, !last || want_dir);
                                fd = r < 0 ? r : openat2_path(rootfd, buf, resolve);
                        }
                        (void)close(parent);
                        parent = fd;
                        if (!slash)
                                break;
                        *slash = '/';
                        p = slash + 1;
                }
                fd = parent;
        }
        if (fd == -EXDEV)
                return pr_err_msg(err, EXDEV, "'%s' resolves outside its root", path);
        if (fd < 0)
                return pr_err(err, fd, "resolve '%s'", path);
        r = check_type(fd, want_dir, path, err);
        if (r < 0) {
                (void)close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* "key=value" or "flag" options, one fsconfig() call each. */
static int fs_create(const char *fstype, const char *const *opts, unsigned attrs, int *ret_mfd,
                     struct pr_error *err)
{
        _cleanup_close_ int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        int mfd;

        if (fsfd < 0)
                return pr_err(err, errno, "fsopen %s", fstype);
        for (size_t i = 0; opts && opts[i]; i++) {
                char key[64];
                const char *eq = strchr(opts[i], '=');
                size_t klen = eq ? (size_t)(eq - opts[i]) : strlen(opts[i]);
                int r;

                if (klen >= sizeof(key))
                        return pr_err(err, EINVAL, "%s option '%s'", fstype, opts[i]);
                memcpy(key, opts[i], klen);
                key[klen] = '\0';
                r = eq ? fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0)
                       : fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
                if (r < 0)
                        return pr_err(err, errno, "%s option '%s'", fstype, opts[i]);
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return pr_err(err, errno, "create %s", fstype);
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
        if (mfd < 0)
                return pr_err(err, errno, "fsmount %s", fstype);
        *ret_mfd = mfd;
        return 0;
}

static int attach(int mfd, int target_fd, const char *what, const char *path, struct pr_error *err)
{
        if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return pr_err(err, errno, "mount %s on '%s'", what, path);
        return 0;
}

/* A new filesystem on target_fd; its root fd in *ret_mfd when asked. */
static int mount_fs(const char *fstype, const char *const *opts, unsigned attrs, int target_fd,
                    const char *path, int *ret_mfd, struct pr_error *err)
{
        _cleanup_close_ int mfd = -1;
        int r = fs_create(fstype, opts, attrs, &mfd, err);

        if (r >= 0)
                r = attach(mfd, target_fd, fstype, path, err);
        if (r < 0)
                return pr_err_wrap(err, "mount %s on '%s'", fstype, path);
        if (ret_mfd)
                *ret_mfd = PR_TAKE_FD(mfd);
        return 0;
}

/* A bind of src (an fd, or a trusted host path when src_fd is AT_FDCWD),
 * made read-only on the detached copy before it is attached, so the
 * container never sees it writable. */
static int bind_at(int src_fd, const char *src_path, bool read_only, int target_fd,
                   const char *path, struct pr_error *err)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
        _cleanup_close_ int tfd = -1;

        if (!*src_path)
                flags |= AT_EMPTY_PATH;
        tfd = open_tree(src_fd, src_path, flags);
        if (tfd < 0)
                return pr_err(err, errno, "bind '%s' on '%s'", *src_path ? src_path : "<fd>", path);
        if (read_only) {
                struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

                if (mount_setattr(tfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                        return pr_err(err, errno, "make '%s' read-only", path);
        }
        return attach(tfd, target_fd, "bind", path, err);
}

/* hostUsers: false: the image as a detached idmapped mount of the pod's user
 * namespace, so that files owned by host root show as owned by root inside
 * and the image shared by every pod on disk is never chowned. Done here,
 * still host root: an idmapping needs CAP_SYS_ADMIN over the image's file
 * system. The overlay takes it as its lower layer through /proc/self/fd
 * (overlayfs accepts idmapped layers since Linux 5.19). */
static int idmapped_lower(const char *image, int userns_fd, int *ret_fd, char *lower, size_t size,
                          struct pr_error *err)
{
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
        _cleanup_close_ int fd = -1;

        fd = open_tree(AT_FDCWD, image, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return pr_err(err, errno, "clone the image tree '%s'", image);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return pr_err(err, errno, "idmap the image tree '%s'", image);
        (void)snprintf(lower, size, "/proc/self/fd/%d", fd);
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

static int mount_overlay(const struct plan_container *c, int userns_fd, int *ret_rootfd,
                         struct pr_error *err)
{
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        _cleanup_close_ int mfd = -1, idfd = -1;
        char idpath[64];
        const char *lower = c->image_rootfs;
        int rootfd;

        if (fsfd < 0)
                return pr_err(err, errno, "fsopen overlay");
        if (userns_fd >= 0) {
                int r =
                    idmapped_lower(c->image_rootfs, userns_fd, &idfd, idpath, sizeof(idpath), err);

                if (r < 0)
                        return r;
                lower = idpath;
        }
        /* "lowerdir+" (Linux 6.8) takes one path as is: no escaping of ':'
         * or ',' in it; older kernels get the classic option. */
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lower, 0) < 0 &&
            fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
                return pr_err(err, errno, "overlay lowerdir '%s'", c->image_rootfs);
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", c->upper_dir, 0) < 0)
                return pr_err(err, errno, "overlay upperdir '%s'", c->upper_dir);
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", c->work_dir, 0) < 0)
                return pr_err(err, errno, "overlay workdir '%s'", c->work_dir);
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return pr_err(err, errno, "mount overlay of '%s'", c->image_rootfs);
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return pr_err(err, errno, "fsmount overlay");
        if (move_mount(mfd, "", AT_FDCWD, c->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return pr_err(err, errno, "mount overlay on '%s'", c->rootfs);
        rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                return pr_err(err, errno, "open '%s'", c->rootfs);
        *ret_rootfd = rootfd;
        return 0;
}

/* /proc and /sys must be real directories of the image: a symlink there
 * would let the image point our procfs and sysfs mounts, and the later
 * writes through them, anywhere (CVE-2023-27561). */
static int special_dir(int rootfd, const char *name, int *ret_fd, struct pr_error *err)
{
        struct stat st;
        int fd;

        if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return pr_err(err, errno, "stat '/%s'", name);
                if (mkdirat(rootfd, name, 0555) < 0 && errno != EEXIST)
                        return pr_err(err, errno, "mkdir '/%s'", name);
        } else if (S_ISLNK(st.st_mode)) {
                return pr_err_msg(err, ELOOP, "'/%s' in the image is a symlink: refusing", name);
        } else if (!S_ISDIR(st.st_mode)) {
                return pr_err_msg(err, ENOTDIR, "'/%s' in the image is not a directory", name);
        }
        fd = openat2_path(rootfd, name, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd < 0)
                return pr_err(err, fd, "open '/%s'", name);
        *ret_fd = fd;
        return 0;
}

static int mount_proc_sys(int rootfd, struct pr_error *err)
{
        _cleanup_close_ int procfd = -1, sysfd = -1;
        const unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        int r;

        r = special_dir(rootfd, "proc", &procfd, err);
        if (r >= 0)
                r = special_dir(rootfd, "sys", &sysfd, err);
        /* procfs of the container's pid namespace (fsopen() takes the
         * caller's), sysfs of the pod's network namespace joined before. */
        if (r >= 0)
                r = mount_fs("proc", NULL, attrs, procfd, "/proc", NULL, err);
        if (r >= 0)
                r = mount_fs("sysfs", NULL, attrs | MOUNT_ATTR_RDONLY, sysfd, "/sys", NULL, err);
        return r;
}

/* One hierarchy of /proc/self/cgroup ("ID:controllers:path"), mounted at
 * /sys/fs/cgroup/<dir>. Read-only: the container sees its limits, never
 * sets them. A co-mounted "cpu,cpuacct" gets a link per controller, as
 * systemd lays it out. */
static int mount_hierarchy(int cgfd, const char *controllers, struct pr_error *err)
{
        char list[256], dir[128], path[160];
        const char *opts[16];
        _cleanup_close_ int target = -1;
        char *save = NULL;
        size_t n = 0;

        if (strlen(controllers) >= sizeof(list))
                return pr_err(err, ENAMETOOLONG, "cgroup hierarchy '%s'", controllers);
        memcpy(list, controllers, strlen(controllers) + 1);
        (void)snprintf(dir, sizeof(dir), "%s",
                       pr_startswith(controllers, "name=") ? controllers + 5 : controllers);
        (void)snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", dir);
        for (char *w = strtok_r(list, ",", &save); w && n < PR_ELEMENTSOF(opts) - 1;
             w = strtok_r(NULL, ",", &save))
                opts[n++] = w;
        opts[n] = NULL;
        if (mkdirat(cgfd, dir, 0755) < 0 && errno != EEXIST)
                return pr_err(err, errno, "mkdir '%s'", path);
        for (size_t i = 0; n > 1 && i < n; i++)
                if (!pr_startswith(opts[i], "name=") && symlinkat(dir, cgfd, opts[i]) < 0 &&
                    errno != EEXIST)
                        return pr_err(err, errno, "symlink '/sys/fs/cgroup/%s'", opts[i]);
        target = openat(cgfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return pr_err(err, errno, "open '%s'", path);
        return mount_fs("cgroup", opts,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                            MOUNT_ATTR_NOEXEC,
                        target, path, NULL, err);
}

static int mount_cgroup2(int target, const char *path, struct pr_error *err)
{
        return mount_fs("cgroup2", NULL,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                            MOUNT_ATTR_NOEXEC,
                        target, path, NULL, err);
}

/* /sys/fs/cgroup as the container's cgroup namespace shows it: cgroup2 alone
 * on a unified host; on a v1 or hybrid host a read-only tmpfs holding each v1
 * hierarchy of ours (and cgroup2 as "unified"), as runc lays it out. */
static int mount_cgroups(int rootfd, struct pr_error *err)
{
        _cleanup_close_ int target = -1, cgfd = -1, fd = -1;
        static const char *const tmpfs_opts[] = {"mode=755", "size=64k", NULL};
        char buf[4096], *save = NULL;
        struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
        bool v1 = false;
        ssize_t n;
        int r;

        target = openat2_path(rootfd, "sys/fs/cgroup", RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (target < 0)
                return 0; /* a kernel without cgroups: nothing to show */
        fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pr_err(err, errno, "open '/proc/self/cgroup'");
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return pr_err(err, errno, "read '/proc/self/cgroup'");
        buf[n] = '\0';
        v1 = strstr(buf, "0::") != buf || strchr(buf, '\n') != buf + n - 1;
        if (!v1)
                return mount_cgroup2(target, "/sys/fs/cgroup", err);
        r = mount_fs("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                     target, "/sys/fs/cgroup", &cgfd, err);
        for (char *line = strtok_r(buf, "\n", &save); r >= 0 && line;
             line = strtok_r(NULL, "\n", &save)) {
                char *controllers = strchr(line, ':'), *end;

                if (!controllers || !(end = strchr(controllers + 1, ':')))
                        continue;
                *end = '\0';
                controllers++;
                if (*controllers) {
                        r = mount_hierarchy(cgfd, controllers, err);
                } else {
                        _cleanup_close_ int u = -1;

                        if (mkdirat(cgfd, "unified", 0755) < 0 && errno != EEXIST)
                                return pr_err(err, errno, "mkdir '/sys/fs/cgroup/unified'");
                        u = openat(cgfd, "unified", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (u < 0)
                                return pr_err(err, errno, "open '/sys/fs/cgroup/unified'");
                        r = mount_cgroup2(u, "/sys/fs/cgroup/unified", err);
                }
        }
        if (r >= 0 && mount_setattr(cgfd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
                r = pr_err(err, errno, "make '/sys/fs/cgroup' read-only");
        return r;
}

static const struct {
        const char *name;
        unsigned major, minor;
} dev_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
        const char *name;
        const char *target;
} dev_links[] = {
    {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/* A directory in our fresh /dev tmpfs, which nobody else can write yet. */
static int dev_subdir(int devfd, const char *name, int *ret_fd, struct pr_error *err)
{
        int fd;

        if (mkdirat(devfd, name, 0755) < 0 && errno != EEXIST)
                return pr_err(err, errno, "mkdir '/dev/%s'", name);
        fd = openat(devfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pr_err(err, errno, "open '/dev/%s'", name);
        *ret_fd = fd;
        return 0;
}

static int mount_dev(const struct pod_plan *plan, int rootfd, struct pr_error *err)
{
        static const char *const dev_opts[] = {"mode=755", "size=" DEV_SIZE, NULL};
        static const char *const pts_opts[] = {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                                               NULL};
        _cleanup_close_ int target = -1, devfd = -1, ptsfd = -1, shmfd = -1, mqfd = -1;
        const unsigned nsuid = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
        int r;

        r = resolve_at(rootfd, "/dev", IN_ROOT, true, true, &target, err);
        if (r >= 0)
                r = mount_fs("tmpfs", dev_opts, nsuid, target, "/dev", &devfd, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < PR_ELEMENTSOF(dev_nodes); i++)
                if (mknodat(devfd, dev_nodes[i].name, S_IFCHR | 0666,
                            makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
                        return pr_err(err, errno, "mknod '/dev/%s'", dev_nodes[i].name);
        for (size_t i = 0; i < PR_ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0)
                        return pr_err(err, errno, "symlink '/dev/%s'", dev_links[i].name);
        r = dev_subdir(devfd, "pts", &ptsfd, err);
        if (r >= 0)
                r = mount_fs("devpts", pts_opts, nsuid, ptsfd, "/dev/pts", NULL, err);
        if (r >= 0)
                r = dev_subdir(devfd, "shm", &shmfd, err);
        if (r >= 0)
                r = bind_at(AT_FDCWD, plan->shm_dir, false, shmfd, "/dev/shm", err);
        if (r >= 0)
                r = dev_subdir(devfd, "mqueue", &mqfd, err);
        /* mqueue of the pod's ipc namespace, joined before. */
        if (r >= 0)
                r = mount_fs("mqueue", NULL, nsuid | MOUNT_ATTR_NODEV, mqfd, "/dev/mqueue", NULL,
                             err);
        return r;
}

static int bind_host_file(int rootfd, const char *src, const char *path, bool read_only,
                          struct pr_error *err)
{
        _cleanup_close_ int target = -1;
        int r = resolve_at(rootfd, path, IN_ROOT, true, false, &target, err);

        if (r >= 0)
                r = bind_at(AT_FDCWD, src, read_only, target, path, err);
        return r;
}

static int mount_etc(const struct pod_plan *plan, int rootfd, struct pr_error *err)
{
        int r = bind_host_file(rootfd, plan->hosts_path, "/etc/hosts", false, err);

        if (r >= 0)
                r = bind_host_file(rootfd, plan->hostname_path, "/etc/hostname", false, err);
        if (r >= 0)
                r = bind_host_file(rootfd, plan->resolv_path, "/etc/resolv.conf", false, err);
        return r;
}

/* The source of a volume mount: the volume's root, or subPath resolved
 * beneath it. RESOLVE_BENEATH refuses any symlink or ".." that leaves the
 * volume (CVE-2017-1002101, CVE-2021-25741) and the fd, not the path, is
 * what gets mounted, so a later swap of the symlink changes nothing. A
 * missing subPath is made as a directory, as kubelet does. */
/* hostUsers: false: a directory this child (still host root) has just made
 * for the container is given to root inside, as a mkdir inside the user
 * namespace would have made it; otherwise root inside could not write in
 * it. */
static void give_to_userns(const struct rootfs_ctx *ctx, int fd)
{
        if (ctx->userns_fd >= 0)
                (void)fchownat(fd, "", ctx->userns_start, ctx->userns_start, AT_EMPTY_PATH);
}

static int open_mount_source(const struct rootfs_ctx *ctx, const struct plan_mount *m, int *ret_fd,
                             bool *ret_dir, struct pr_error *err)
{
        _cleanup_close_ int volfd = open(m->source, O_PATH | O_CLOEXEC);
        struct stat st;
        int fd, r;

        if (volfd < 0)
                return pr_err(err, errno, "open volume '%s' at '%s'", m->volume, m->source);
        if (fstat(volfd, &st) < 0)
                return pr_err(err, errno, "stat '%s'", m->source);
        if (!m->sub_path || !*m->sub_path) {
                *ret_fd = PR_TAKE_FD(volfd);
                *ret_dir = S_ISDIR(st.st_mode);
                return 0;
        }
        fd = openat2_path(volfd, m->sub_path, BENEATH);
        if (fd == -ENOENT) {
                r = resolve_at(volfd, m->sub_path, BENEATH, true, true, &fd, err);
                if (r < 0)
                        return pr_err_wrap(err, "volume '%s': subPath", m->volume);
                if (!m->host_path)
                        give_to_userns(ctx, fd);
        } else if (fd == -EXDEV || fd == -ELOOP) {
                return pr_err_msg(err, EXDEV, "volume '%s': subPath '%s' leads outside the volume",
                                  m->volume, m->sub_path);
        } else if (fd < 0) {
                return pr_err(err, fd, "volume '%s': subPath '%s'", m->volume, m->sub_path);
        }
        if (fstat(fd, &st) < 0) {
                r = pr_err(err, errno, "volume '%s': stat subPath '%s'", m->volume, m->sub_path);
                (void)close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_dir = S_ISDIR(st.st_mode);
        return 0;
}

static int mount_volume(const struct rootfs_ctx *ctx, int rootfd, const struct plan_mount *m,
                        struct pr_error *err)
{
        _cleanup_close_ int src = -1, target = -1;
        bool dir = true;
        int r = open_mount_source(ctx, m, &src, &dir, err);

        if (r >= 0)
                r = resolve_at(rootfd, m->target, IN_ROOT, true, dir, &target, err);
        if (r >= 0)
                r = bind_at(src, "", m->read_only, target, m->target, err);
        return r < 0 ? pr_err_wrap(err, "volume mount '%s'", m->target) : 0;
}

static int mount_termination_log(const struct plan_container *c, int rootfd, struct pr_error *err)
{
        char src[PATH_MAX];
        const char *path = c->spec ? c->spec->termination_message_path : NULL;

        if (!path || !*path)
                return 0;
        if ((size_t)snprintf(src, sizeof(src), "%s/termination-log", c->dir) >= sizeof(src))
                return pr_err(err, ENAMETOOLONG, "'%s/termination-log'", c->dir);
        return bind_host_file(rootfd, src, path, false, err);
}

static int pivot(int rootfd, struct pr_error *err)
{
        /* pivot_root(".", ".") stacks the old root on the new one; detaching
         * it leaves nothing of the host reachable (runc does the same). */
        if (fchdir(rootfd) < 0)
                return pr_err(err, errno, "chdir to the new root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return pr_err(err, errno, "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return pr_err(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return pr_err(err, errno, "chdir '/'");
        return 0;
}

int rootfs_setup(const struct rootfs_ctx *ctx, struct pr_error *err)
{
        const struct plan_container *c = ctx->c;
        _cleanup_close_ int rootfd = -1;
        int r;

        r = mount_overlay(c, ctx->userns_fd, &rootfd, err);
        if (r >= 0)
                r = mount_proc_sys(rootfd, err);
        if (r >= 0)
                r = mount_cgroups(rootfd, err);
        if (r >= 0)
                r = mount_dev(ctx->plan, rootfd, err);
        if (r >= 0)
                r = mount_etc(ctx->plan, rootfd, err);
        if (r >= 0)
                r = mount_termination_log(c, rootfd, err);
        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++)
                r = mount_volume(ctx, rootfd, &c->mounts[ctx->mount_order[i]], err);
        if (r < 0)
                return r;
        /* runc makes a missing working directory (MkdirAll in the new root);
         * done before the root turns read-only. A failure here is left for
         * chdir to report in kubelet's words. */
        if (c->working_dir && *c->working_dir && strcmp(c->working_dir, "/") != 0) {
                struct pr_error ignored = {};
                _cleanup_close_ int cwd = -1;

                if (resolve_at(rootfd, c->working_dir, IN_ROOT, false, true, &cwd, &ignored) < 0 &&
                    resolve_at(rootfd, c->working_dir, IN_ROOT, true, true, &cwd, &ignored) >= 0)
                        give_to_userns(ctx, cwd);
        }
        if (c->read_only_rootfs) {
                struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

                /* Not recursive: /dev, /proc and rw volumes keep their own modes. */
                if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                        return pr_err(err, errno, "make the root file system read-only");
        }
        return pivot(rootfd, err);
}
