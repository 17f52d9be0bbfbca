/* The writer side of container logs: frames bytes read from a container's
 * stdout and stderr into CRI lines, appends them to the instance's log file
 * and rotates it by size. It owns only that file and its rotated siblings.
 * It must never block or kill a container because of the disk: a failed
 * write drops that output, counts it and reports the failure once; and it
 * must never read a clock more than once per write call, nor issue a write
 * per line (a chatty container would pay a syscall per line). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/logs.h"

/* "2026-11-30T07:03:31.123456789Z" */
#define TIMESTAMP_LEN 30

struct pending_line {
        char *buf; /* LOGS_MAX_LINE bytes */
        size_t len;
};

struct logs_writer {
        char *dir;
        char *path;
        int dir_fd;
        int fd;
        unsigned restart_count;
        uint64_t max_file_bytes;
        unsigned max_files;
        uint64_t file_bytes; /* size of the current file as far as we wrote it */
        struct pending_line pending[_LOGS_STREAM_MAX];
        char *out; /* the batch of framed lines of one call */
        size_t out_len, out_cap;
        char stamp[PR_RFC3339_MAX]; /* the time of the current call */
        size_t stamp_len;
        uint64_t dropped;
        bool failing; /* inside a failure episode: the error was reported */
        int error;    /* first error of the current call, negative errno */
        char error_msg[PR_ERROR_MSG_MAX];
};

static const char *const stream_names[_LOGS_STREAM_MAX] = {
    [LOGS_STDOUT] = "stdout",
    [LOGS_STDERR] = "stderr",
};

const char *logs_stream_to_string(enum logs_stream s)
{
        if ((int)s < 0 || s >= _LOGS_STREAM_MAX)
                return NULL;
        return stream_names[s];
}

enum logs_stream logs_stream_from_string(const char *s)
{
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++)
                if (pr_streq(s, stream_names[i]))
                        return (enum logs_stream)i;
        return _LOGS_STREAM_INVALID;
}

static int open_current(struct logs_writer *w, struct pr_error *err)
{
        struct stat st;
        int fd;

        /* O_APPEND: a reader may truncate nothing, but an operator's
         * `> file` must not leave us writing past a hole. */
        fd = openat(w->dir_fd, w->path + strlen(w->dir) + 1,
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return pr_err(err, errno, "log file '%s'", w->path);
        if (fstat(fd, &st) < 0) {
                int r = pr_err(err, errno, "log file '%s': fstat", w->path);
                (void)close(fd);
                return r;
        }
        w->fd = fd;
        w->file_bytes = (uint64_t)st.st_size;
        return 0;
}

int logs_writer_open(const char *dir, unsigned restart_count, const struct logs_options *opts,
                     struct logs_writer **ret, struct pr_error *err)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        int r;

        r = pr_mkdir_p(dir, 0750, err);
        if (r < 0)
                return r;
        w = pr_calloc(1, sizeof(*w));
        w->fd = -1;
        w->dir_fd = -1;
        w->dir = pr_strdup(dir);
        w->path = pr_asprintf("%s/%u.log", dir, restart_count);
        w->restart_count = restart_count;
        w->max_file_bytes =
            opts && opts->max_file_bytes ? opts->max_file_bytes : LOGS_DEFAULT_MAX_FILE_BYTES;
        w->max_files = opts && opts->max_files ? opts->max_files : LOGS_DEFAULT_MAX_FILES;
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++)
                w->pending[i].buf = pr_malloc(LOGS_MAX_LINE);
        w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->dir_fd < 0)
                return pr_err(err, errno, "log directory '%s'", dir);
        r = open_current(w, err);
        if (r < 0)
                return r;
        *ret = PR_TAKE_PTR(w);
        return 0;
}

/* Remembers the first failure of a call; later ones in the same call are
 * the same episode. */
static void note_error(struct logs_writer *w, int code, const char *what)
{
        if (w->error == 0) {
                w->error = -code;
                (void)snprintf(w->error_msg, sizeof(w->error_msg), "log file '%s': %s: %s", w->path,
                               what, strerror(code));
        }
}

/* <n>.log.(k) -> <n>.log.(k+1), oldest dropped, <n>.log -> <n>.log.1, as
 * logrotate numbers them: the highest suffix is the oldest, so a reader
 * goes .log.(max-1) ... .log.1, .log in order. */
static int rotate(struct logs_writer *w)
{
        char from[64], to[64];

        if (w->fd >= 0) {
                (void)close(w->fd);
                w->fd = -1;
        }
        if (w->max_files <= 1) {
                (void)snprintf(from, sizeof(from), "%u.log", w->restart_count);
                if (unlinkat(w->dir_fd, from, 0) < 0 && errno != ENOENT)
                        note_error(w, errno, "rotate");
        } else {
                (void)snprintf(from, sizeof(from), "%u.log.%u", w->restart_count, w->max_files - 1);
                if (unlinkat(w->dir_fd, from, 0) < 0 && errno != ENOENT)
                        note_error(w, errno, "rotate");
                for (unsigned k = w->max_files - 1; k >= 1; k--) {
                        if (k == 1)
                                (void)snprintf(from, sizeof(from), "%u.log", w->restart_count);
                        else
                                (void)snprintf(from, sizeof(from), "%u.log.%u", w->restart_count,
                                               k - 1);
                        (void)snprintf(to, sizeof(to), "%u.log.%u", w->restart_count, k);
                        if (renameat(w->dir_fd, from, w->dir_fd, to) < 0 && errno != ENOENT)
                                note_error(w, errno, "rotate");
                }
        }
        return open_current(w, NULL);
}

/* Removes the last `done` bytes, a batch cut short: with O_APPEND the
 * file's own size is the truth, not our count of it. */
static void cut_back(int fd, size_t done)
{
        struct stat st;

        if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= done)
                (void)ftruncate(fd, st.st_size - (off_t)done);
}

/* Writes the batch; on failure drops it and cuts the file back to its last
 * whole line, so that a half-written line never corrupts the framing of the
 * lines that follow once the disk has room again. */
static void write_out(struct logs_writer *w)
{
        size_t done = 0;

        if (w->out_len == 0)
                return;
        if (w->fd < 0) {
                int r = open_current(w, NULL);

                if (r < 0) {
                        note_error(w, -r, "open");
                        goto drop;
                }
        }
        while (done < w->out_len) {
                ssize_t n = write(w->fd, w->out + done, w->out_len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        note_error(w, errno, "write");
                        if (done > 0)
                                cut_back(w->fd, done);
                        goto drop;
                }
                done += (size_t)n;
        }
        w->file_bytes += w->out_len;
        w->out_len = 0;
        w->failing = false;
        return;
drop:
        w->dropped += w->out_len;
        w->out_len = 0;
}

static void out_reserve(struct logs_writer *w, size_t n)
{
        if (w->out_len + n > w->out_cap) {
                size_t cap = w->out_cap ? w->out_cap : 64 * 1024;

                while (cap < w->out_len + n)
                        cap *= 2;
                w->out = pr_realloc(w->out, cap);
                w->out_cap = cap;
        }
}

/* Appends one CRI line made of two pieces of text (the kept part of the
 * line, then the new bytes); rotates first when it would not fit. */
static void emit(struct logs_writer *w, enum logs_stream s, char tag, const char *a, size_t alen,
                 const char *b, size_t blen)
{
        size_t line = w->stamp_len + 1 + 6 + 3 + alen + blen + 1;
        char *p;

        if (w->file_bytes + w->out_len + line > w->max_file_bytes &&
            w->file_bytes + w->out_len > 0) {
                write_out(w);
                if (w->error == 0 && w->file_bytes > 0) {
                        int r = rotate(w);

                        if (r < 0)
                                note_error(w, -r, "open after rotation");
                }
        }
        out_reserve(w, line);
        p = w->out + w->out_len;
        memcpy(p, w->stamp, w->stamp_len);
        p += w->stamp_len;
        *p++ = ' ';
        memcpy(p, stream_names[s], 6);
        p += 6;
        *p++ = ' ';
        *p++ = tag;
        *p++ = ' ';
        if (alen)
                memcpy(p, a, alen);
        p += alen;
        if (blen)
                memcpy(p, b, blen);
        p += blen;
        *p = '\n';
        w->out_len += line;
}

static void stamp_now(struct logs_writer *w)
{
        pr_format_rfc3339_usec(pr_now_real_usec(), w->stamp);
        w->stamp_len = strlen(w->stamp);
}

/* Ends a call: reports the first error of a failure episode only, so that
 * the supervisor logs a full disk once, not once per line. */
static int finish(struct logs_writer *w, struct pr_error *err)
{
        int r = w->error;

        w->error = 0;
        if (r == 0)
                return 0;
        if (w->failing)
                return 0;
        w->failing = true;
        return pr_err_msg(err, -r, "%s", w->error_msg);
}

int logs_writer_write(struct logs_writer *w, enum logs_stream s, const char *data, size_t len,
                      struct pr_error *err)
{
        struct pending_line *pl;

        if ((int)s < 0 || s >= _LOGS_STREAM_MAX)
                return pr_err(err, EINVAL, "log file '%s': stream %d", w->path, (int)s);
        pl = &w->pending[s];
        stamp_now(w);
        while (len > 0) {
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) : len;

                /* A P piece goes out only once more than LOGS_MAX_LINE bytes
                 * are known to belong to the line, so a line of exactly
                 * LOGS_MAX_LINE bytes stays one F line. */
                while (pl->len + take > LOGS_MAX_LINE) {
                        size_t n = LOGS_MAX_LINE - pl->len;

                        emit(w, s, 'P', pl->buf, pl->len, data, n);
                        pl->len = 0;
                        data += n;
                        len -= n;
                        take -= n;
                }
                if (nl) {
                        emit(w, s, 'F', pl->buf, pl->len, data, take);
                        pl->len = 0;
                        data += take + 1;
                        len -= take + 1;
                } else {
                        memcpy(pl->buf + pl->len, data, take);
                        pl->len += take;
                        data += take;
                        len -= take;
                }
        }
        write_out(w);
        return finish(w, err);
}

int logs_writer_flush(struct logs_writer *w, struct pr_error *err)
{
        stamp_now(w);
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++) {
                struct pending_line *pl = &w->pending[i];

                if (pl->len > 0) {
                        emit(w, (enum logs_stream)i, 'F', pl->buf, pl->len, NULL, 0);
                        pl->len = 0;
                }
        }
        write_out(w);
        return finish(w, err);
}

uint64_t logs_writer_dropped(const struct logs_writer *w)
{
        return w->dropped;
}

const char *logs_writer_path(const struct logs_writer *w)
{
        return w->path;
}

struct logs_writer *logs_writer_free(struct logs_writer *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                (void)close(w->fd);
        if (w->dir_fd >= 0)
                (void)close(w->dir_fd);
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++)
                free(w->pending[i].buf);
        free(w->out);
        free(w->dir);
        free(w->path);
        free(w);
        return NULL;
}
