/* Owns copying a host directory tree into a fresh destination, fd-relative
 * all the way down. It must never follow a symlink in either tree, never
 * write outside dst, and never cross into another mount below src. */
#include "pod/base/copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"

/* A file with more than one link, seen once: later links to the same inode
 * become hard links to its copy. */
struct copy_link {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to dst */
};

struct copy_ctx {
        int dst_root_fd;
        dev_t dst_dev; /* the destination itself, met when dst is below src */
        ino_t dst_ino;
        dev_t src_dev;
        struct copy_link *links;
        size_t n_links;
};

static int copy_entry(struct copy_ctx *ctx, int sdir, int ddir, const char *name, const char *rel,
                      struct pr_error *err);

bool pr_copy_xattr_wanted(const char *name)
{
        return pr_startswith(name, "user.") || strcmp(name, "security.capability") == 0;
}

static int copy_xattrs(int sfd, int dfd, const char *rel, struct pr_error *err)
{
        _cleanup_free_ char *names = NULL;
        ssize_t len = flistxattr(sfd, NULL, 0);

        if (len < 0)
                return errno == ENOTSUP ? 0 : pr_err(err, errno, "list xattrs of '%s'", rel);
        if (len == 0)
                return 0;
        names = pr_malloc((size_t)len);
        len = flistxattr(sfd, names, (size_t)len);
        if (len < 0)
                return pr_err(err, errno, "list xattrs of '%s'", rel);
        for (char *n = names; n < names + len; n += strlen(n) + 1) {
                _cleanup_free_ char *val = NULL;
                ssize_t vlen;

                if (!pr_copy_xattr_wanted(n))
                        continue;
                vlen = fgetxattr(sfd, n, NULL, 0);
                if (vlen < 0)
                        return pr_err(err, errno, "read xattr '%s' of '%s'", n, rel);
                val = pr_malloc((size_t)vlen + 1);
                vlen = fgetxattr(sfd, n, val, (size_t)vlen);
                if (vlen < 0)
                        return pr_err(err, errno, "read xattr '%s' of '%s'", n, rel);
                if (fsetxattr(dfd, n, val, (size_t)vlen, 0) < 0)
                        return pr_err(err, errno, "set xattr '%s' on '%s'", n, rel);
        }
        return 0;
}

/* Ownership before mode: chown(2) clears setuid and setgid bits. */
static int copy_meta_fd(int sfd, int dfd, const struct stat *st, const char *rel,
                        struct pr_error *err)
{
        const struct timespec times[2] = {st->st_atim, st->st_mtim};
        int r = copy_xattrs(sfd, dfd, rel, err);

        if (r < 0)
                return r;
        if (fchown(dfd, st->st_uid, st->st_gid) < 0)
                return pr_err(err, errno, "chown '%s'", rel);
        if (fchmod(dfd, st->st_mode & 07777) < 0)
                return pr_err(err, errno, "chmod '%s'", rel);
        if (futimens(dfd, times) < 0)
                return pr_err(err, errno, "set times of '%s'", rel);
        return 0;
}

static int copy_data(int sfd, int dfd, const char *rel, struct pr_error *err)
{
        char buf[64 * 1024];

        for (;;) {
                /* copy_file_range shares extents where the filesystem can;
                 * across filesystems old kernels say EXDEV or EINVAL. */
                ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        return pr_err(err, errno, "copy '%s'", rel);
                break;
        }
        for (;;) {
                ssize_t n = read(sfd, buf, sizeof(buf)), w = 0;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pr_err(err, errno, "read '%s'", rel);
                if (n == 0)
                        return 0;
                while (w < n) {
                        ssize_t k = write(dfd, buf + w, (size_t)(n - w));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return pr_err(err, errno, "write '%s'", rel);
                        w += k;
                }
        }
}

static int copy_regular(int sdir, int ddir, const char *name, const struct stat *st,
                        const char *rel, struct pr_error *err)
{
        _cleanup_close_ int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        _cleanup_close_ int dfd = -1;
        int r;

        if (sfd < 0)
                return pr_err(err, errno, "open '%s'", rel);
        dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dfd < 0)
                return pr_err(err, errno, "create '%s'", rel);
        r = copy_data(sfd, dfd, rel, err);
        if (r < 0)
                return r;
        return copy_meta_fd(sfd, dfd, st, rel, err);
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st,
                        const char *rel, struct pr_error *err)
{
        const struct timespec times[2] = {st->st_atim, st->st_mtim};
        size_t cap = (size_t)st->st_size + 1;
        _cleanup_free_ char *target = pr_malloc(cap);
        ssize_t n = readlinkat(sdir, name, target, cap);

        if (n < 0)
                return pr_err(err, errno, "readlink '%s'", rel);
        if ((size_t)n >= cap)
                return pr_err(err, EAGAIN, "readlink '%s': changed while copying", rel);
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
                return pr_err(err, errno, "symlink '%s'", rel);
        if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return pr_err(err, errno, "chown '%s'", rel);
        if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return pr_err(err, errno, "set times of '%s'", rel);
        return 0;
}

/* Device nodes, fifos and sockets. Making device nodes needs CAP_MKNOD:
 * image import runs as root. */
static int copy_special(int ddir, const char *name, const struct stat *st, const char *rel,
                        struct pr_error *err)
{
        const struct timespec times[2] = {st->st_atim, st->st_mtim};

        if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
                return pr_err(err, errno, "mknod '%s'", rel);
        if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return pr_err(err, errno, "chown '%s'", rel);
        if (fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
                return pr_err(err, errno, "chmod '%s'", rel);
        if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
                return pr_err(err, errno, "set times of '%s'", rel);
        return 0;
}

static int copy_children(struct copy_ctx *ctx, int sfd, int dfd, const char *rel,
                         struct pr_error *err)
{
        int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0)
                return pr_err(err, errno, "dup '%s'", rel);
        d = fdopendir(fd);
        if (!d) {
                r = pr_err(err, errno, "open directory '%s'", rel);
                (void)close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *child = NULL;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                child = rel[0] ? pr_asprintf("%s/%s", rel, de->d_name) : pr_strdup(de->d_name);
                r = copy_entry(ctx, sfd, dfd, de->d_name, child, err);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = pr_err(err, errno, "read directory '%s'", rel);
        (void)closedir(d);
        return r;
}

/* Children first, then the directory's own metadata, so a read-only
 * directory can still be filled and its mtime is the source's. */
static int copy_dir(struct copy_ctx *ctx, int sdir, int ddir, const char *name,
                    const struct stat *st, const char *rel, struct pr_error *err)
{
        _cleanup_close_ int sfd = -1, dfd = -1;
        int r;

        if (mkdirat(ddir, name, 0700) < 0)
                return pr_err(err, errno, "mkdir '%s'", rel);
        sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return pr_err(err, errno, "open '%s'", rel);
        dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return pr_err(err, errno, "open '%s'", rel);
        if (st->st_dev == ctx->src_dev) {
                r = copy_children(ctx, sfd, dfd, rel, err);
                if (r < 0)
                        return r;
        }
        return copy_meta_fd(sfd, dfd, st, rel, err);
}

static const struct copy_link *find_link(struct copy_ctx *ctx, const struct stat *st)
{
        for (size_t i = 0; i < ctx->n_links; i++)
                if (ctx->links[i].dev == st->st_dev && ctx->links[i].ino == st->st_ino)
                        return &ctx->links[i];
        return NULL;
}

static int copy_entry(struct copy_ctx *ctx, int sdir, int ddir, const char *name, const char *rel,
                      struct pr_error *err)
{
        const struct copy_link *seen;
        struct copy_link *l;
        struct stat st;
        int r;

        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pr_err(err, errno, "stat '%s'", rel);
        if (S_ISDIR(st.st_mode) && st.st_dev == ctx->dst_dev && st.st_ino == ctx->dst_ino)
                return 0; /* copying the copy would never end */
        if (S_ISDIR(st.st_mode))
                return copy_dir(ctx, sdir, ddir, name, &st, rel, err);
        if (st.st_nlink > 1) {
                seen = find_link(ctx, &st);
                if (seen) {
                        if (linkat(ctx->dst_root_fd, seen->path, ddir, name, 0) < 0)
                                return pr_err(err, errno, "link '%s' to '%s'", rel, seen->path);
                        return 0;
                }
        }
        if (S_ISREG(st.st_mode))
                r = copy_regular(sdir, ddir, name, &st, rel, err);
        else if (S_ISLNK(st.st_mode))
                r = copy_symlink(sdir, ddir, name, &st, rel, err);
        else
                r = copy_special(ddir, name, &st, rel, err);
        if (r < 0 || st.st_nlink <= 1)
                return r;
        l = pr_array_grow(&ctx->links, &ctx->n_links, sizeof(*l));
        l->dev = st.st_dev;
        l->ino = st.st_ino;
        l->path = pr_strdup(rel);
        return 0;
}

int pr_copy_tree(const char *src, const char *dst, struct pr_error *err)
{
        _cleanup_free_ char *parent = pr_strdup(dst);
        _cleanup_close_ int sfd = -1, dfd = -1;
        struct copy_ctx ctx = {.dst_root_fd = -1};
        struct stat st, dst_st = {};
        char *slash;
        int r;

        sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
                return pr_err(err, errno, "open '%s'", src);
        if (fstat(sfd, &st) < 0)
                return pr_err(err, errno, "stat '%s'", src);
        slash = strrchr(parent, '/');
        if (!slash || slash[1] == '\0')
                return pr_err_msg(err, EINVAL, "copy to '%s': not a path to a new entry", dst);
        *slash = '\0';
        dfd = open(slash == parent ? "/" : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pr_err(err, errno, "open '%s'", parent);
        if (mkdirat(dfd, slash + 1, 0700) < 0)
                return pr_err(err, errno, "mkdir '%s'", dst);
        ctx.dst_root_fd = openat(dfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ctx.dst_root_fd < 0)
                return pr_err(err, errno, "open '%s'", dst);
        ctx.src_dev = st.st_dev;
        r = fstat(ctx.dst_root_fd, &dst_st) < 0 ? pr_err(err, errno, "stat '%s'", dst) : 0;
        ctx.dst_dev = dst_st.st_dev;
        ctx.dst_ino = dst_st.st_ino;
        if (r >= 0)
                r = copy_children(&ctx, sfd, ctx.dst_root_fd, "", err);
        if (r >= 0)
                r = copy_meta_fd(sfd, ctx.dst_root_fd, &st, ".", err);
        for (size_t i = 0; i < ctx.n_links; i++)
                free(ctx.links[i].path);
        free(ctx.links);
        (void)close(ctx.dst_root_fd);
        if (r < 0)
                return pr_err_wrap(err, "copy '%s' to '%s'", src, dst);
        return 0;
}
