/* Host-side file helpers: atomic replace, bounded reads, careful removal. */
#include "pod/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"

int pr_mkdir_p(const char *path, mode_t mode, struct pr_error *err)
{
        _cleanup_free_ char *copy = pr_strdup(path);

        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, mode) < 0 && errno != EEXIST)
                        return pr_err(err, errno, "mkdir '%s'", copy);
                *p = '/';
        }
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
                return pr_err(err, errno, "mkdir '%s'", copy);
        return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int pr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct pr_error *err)
{
        _cleanup_free_ char *tmp = pr_asprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return pr_err(err, errno, "create '%s'", tmp);
        r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return pr_err(err, r, "write '%s'", tmp);
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return pr_err(err, r, "rename '%s' to '%s'", tmp, path);
        }
        return 0;
}

int pr_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct pr_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        if (fd < 0)
                return pr_err(err, errno, "open '%s'", path);
        buf = pr_malloc(cap + 1);
        for (;;) {
                ssize_t n;

                if (len == cap) {
                        if (cap > max)
                                return pr_err(err, EFBIG, "read '%s'", path);
                        cap *= 2;
                        buf = pr_realloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return pr_err(err, errno, "read '%s'", path);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max)
                return pr_err(err, EFBIG, "read '%s'", path);
        buf[len] = '\0';
        *ret_data = PR_TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, struct pr_error *err);

static int rm_children(int fd, dev_t dev, const char *name, struct pr_error *err)
{
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                (void)close(fd);
                return pr_err(err, errno, "open directory '%s'", name);
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = rm_rf_at(dirfd(d), de->d_name, dev, err);
                if (r < 0)
                        break;
        }
        (void)closedir(d);
        return r;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, struct pr_error *err)
{
        struct stat st;
        int fd, r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : pr_err(err, errno, "stat '%s'", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return pr_err(err, errno, "unlink '%s'", name);
                return 0;
        }
        if (st.st_dev != dev)
                return pr_err(err, EBUSY, "remove '%s': a mount point", name);
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pr_err(err, errno, "open '%s'", name);
        r = rm_children(fd, dev, name, err);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return pr_err(err, errno, "rmdir '%s'", name);
        return 0;
}

int pr_rm_rf(const char *path, struct pr_error *err)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : pr_err(err, errno, "stat '%s'", path);
        r = rm_rf_at(AT_FDCWD, path, st.st_dev, err);
        if (r < 0)
                return pr_err_wrap(err, "remove '%s'", path);
        return 0;
}
