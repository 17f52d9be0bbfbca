/* The termination message of a terminated container. It owns reading the
 * message file out of a container's root and the log fallback. The root is
 * the container's, so the file is hostile input: it must never follow a
 * symlink or ".." out of that root, never open a FIFO or device (which
 * could block the supervisor or have side effects), and never read more
 * than kubelet's limits. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/logread.h"
#include "pod/termmsg.h"

static int open_in_root(int root_fd, const char *path)
{
        struct open_how how = {
            /* O_NONBLOCK: opening a FIFO the container left must not
             * block; it is refused below anyway. */
            .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd;

        fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

/* The last `max` bytes of a regular file, as kubelet's tail.ReadAtMost. */
static int read_tail(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        off_t off = 0;
        size_t len = 0;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max)
                off = st.st_size - (off_t)max;
        buf = pr_malloc(max + 1);
        while (len < max) {
                ssize_t n = pread(fd, buf + len, max - len, off + (off_t)len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = PR_TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int termmsg_read_file(const char *root, const char *path, char **ret, bool *ret_missing,
                      struct pr_error *err)
{
        _cleanup_close_ int root_fd = -1, fd = -1;
        char *data = NULL;
        size_t len;
        int r;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pr_err(err, errno, "container root '%s'", root);
        fd = open_in_root(root_fd, path);
        if (fd == -ENOENT || fd == -ENOTDIR) {
                *ret = pr_strdup("");
                *ret_missing = true;
                return 0;
        }
        if (fd < 0)
                return pr_err(err, fd, "termination message '%s'", path);
        r = read_tail(fd, TERMMSG_MAX_FILE_BYTES, &data, &len);
        if (r == -EINVAL)
                return pr_err_msg(err, EINVAL, "termination message '%s': not a regular file",
                                  path);
        if (r < 0)
                return pr_err(err, r, "termination message '%s'", path);
        *ret = data;
        *ret_missing = false;
        return 0;
}

struct tail_buffer {
        char buf[2 * TERMMSG_LOG_BYTES];
        size_t len;
};

/* kubelet writes the log through a circular buffer: only the last
 * TERMMSG_LOG_BYTES bytes survive. */
static int tail_write(void *userdata, const char *data, size_t len)
{
        struct tail_buffer *t = userdata;

        if (len >= TERMMSG_LOG_BYTES) {
                memcpy(t->buf, data + len - TERMMSG_LOG_BYTES, TERMMSG_LOG_BYTES);
                t->len = TERMMSG_LOG_BYTES;
                return 0;
        }
        if (t->len + len > sizeof(t->buf)) {
                size_t keep = TERMMSG_LOG_BYTES - len;

                memmove(t->buf, t->buf + t->len - keep, keep);
                t->len = keep;
        }
        memcpy(t->buf + t->len, data, len);
        t->len += len;
        return 0;
}

int termmsg_read_log(const char *log_dir, unsigned restart_count, char **ret, struct pr_error *err)
{
        _cleanup_free_ struct tail_buffer *t = pr_calloc(1, sizeof(*t));
        struct logs_sink sink = {.write = tail_write, .userdata = t};
        struct logs_read_options o = {.tail = TERMMSG_LOG_LINES};
        struct logs_target target = {
            .log_dir = log_dir,
            .container = "",
            .restart_count = restart_count,
        };
        size_t start;
        int r;

        r = logs_read(&target, 1, &o, &sink, NULL, err);
        if (r < 0)
                return r;
        start = t->len > TERMMSG_LOG_BYTES ? t->len - TERMMSG_LOG_BYTES : 0;
        *ret = pr_strndup(t->buf + start, t->len - start);
        return 0;
}

int termmsg_get(const char *root, const char *path, enum spec_termination_message_policy policy,
                int exit_code, const char *log_dir, unsigned restart_count, char **ret,
                struct pr_error *err)
{
        bool fallback =
            policy == SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR && exit_code != 0;
        _cleanup_free_ char *msg = NULL;
        struct pr_error ferr = {};
        bool missing = true;
        int r;

        if (root && path && *path) {
                r = termmsg_read_file(root, path, &msg, &missing, &ferr);
                if (r < 0) {
                        *ret =
                            pr_asprintf("Error on reading termination log %s: %s", path, ferr.msg);
                        return 0;
                }
        }
        if (fallback && (!msg || msg[0] == '\0') && log_dir)
                return termmsg_read_log(log_dir, restart_count, ret, err);
        *ret = msg ? PR_TAKE_PTR(msg) : pr_strdup("");
        return 0;
}
