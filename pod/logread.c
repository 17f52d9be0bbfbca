/* The reader side of container logs: CRI lines back to the container's text,
 * the last N lines found by reading backwards, and following a log across
 * rotations and restarts with inotify. It only reads log files and calls
 * its sinks: it must never write to a log, never print, and never poll
 * with sleeps (the follow loop wakes on inotify and a pidfd only). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/logread.h"

#define READ_CHUNK (64 * 1024)
/* A line this long without a newline is not CRI framing (the writer never
 * makes one): it is handed on as it is rather than held without bound. */
#define MAX_RAW_LINE (1024 * 1024)
#define MAX_OUT_LINE (1024 * 1024)

/* ---- parsing ---------------------------------------------------------- */

static int parse_digits(const char **p, const char *end, int n, int *ret)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (*p >= end || **p < '0' || **p > '9')
                        return -EINVAL;
                v = v * 10 + (*(*p)++ - '0');
        }
        *ret = v;
        return 0;
}

static int expect(const char **p, const char *end, char c)
{
        if (*p >= end || **p != c)
                return -EINVAL;
        (*p)++;
        return 0;
}

/* RFC 3339 from *p, leaving *p after it. */
static int parse_time(const char **p, const char *end, int64_t *ret_sec, uint32_t *ret_nsec,
                      int32_t *ret_off)
{
        int y, mo, d, h, mi, s, oh, om;
        uint32_t nsec = 0;
        int32_t off = 0;
        struct tm tm = {};

        if (parse_digits(p, end, 4, &y) < 0 || expect(p, end, '-') < 0 ||
            parse_digits(p, end, 2, &mo) < 0 || expect(p, end, '-') < 0 ||
            parse_digits(p, end, 2, &d) < 0 || expect(p, end, 'T') < 0 ||
            parse_digits(p, end, 2, &h) < 0 || expect(p, end, ':') < 0 ||
            parse_digits(p, end, 2, &mi) < 0 || expect(p, end, ':') < 0 ||
            parse_digits(p, end, 2, &s) < 0)
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
                return -EINVAL;
        if (*p < end && **p == '.') {
                int digits = 0;

                (*p)++;
                while (*p < end && **p >= '0' && **p <= '9') {
                        if (digits < 9)
                                nsec = nsec * 10 + (uint32_t)(**p - '0');
                        digits++;
                        (*p)++;
                }
                if (digits == 0)
                        return -EINVAL;
                for (int i = digits; i < 9; i++)
                        nsec *= 10;
        }
        if (*p < end && **p == 'Z') {
                (*p)++;
        } else if (*p < end && (**p == '+' || **p == '-')) {
                int sign = **p == '-' ? -1 : 1;

                (*p)++;
                if (parse_digits(p, end, 2, &oh) < 0 || expect(p, end, ':') < 0 ||
                    parse_digits(p, end, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
                off = sign * (oh * 3600 + om * 60);
        } else
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        *ret_sec = (int64_t)timegm(&tm) - off;
        *ret_nsec = nsec;
        *ret_off = off;
        return 0;
}

int logs_parse_time(const char *s, uint64_t *ret_usec)
{
        const char *p = s, *end = s + strlen(s);
        struct logs_line l = {};

        if (parse_time(&p, end, &l.sec, &l.nsec, &l.utc_offset) < 0 || p != end)
                return -EINVAL;
        *ret_usec = logs_line_usec(&l);
        return 0;
}

int logs_parse_line(const char *line, size_t len, struct logs_line *ret)
{
        const char *p = line, *end = line + len, *sp;
        struct logs_line l = {};

        if (parse_time(&p, end, &l.sec, &l.nsec, &l.utc_offset) < 0 || expect(&p, end, ' ') < 0)
                return -EINVAL;
        sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
                return -EINVAL;
        if ((size_t)(sp - p) == 6 && memcmp(p, "stdout", 6) == 0)
                l.stream = LOGS_STDOUT;
        else if ((size_t)(sp - p) == 6 && memcmp(p, "stderr", 6) == 0)
                l.stream = LOGS_STDERR;
        else
                return -EINVAL;
        p = sp + 1;
        /* kubelet: the tag runs to the next space; its first ':'-separated
         * field is P or F. An empty line's text is empty, with or without
         * the space after the tag. */
        sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
                sp = end;
        if (sp - p < 1 || (p[0] != 'P' && p[0] != 'F') || (sp - p > 1 && p[1] != ':'))
                return -EINVAL;
        l.partial = p[0] == 'P';
        l.text = sp < end ? sp + 1 : end;
        l.len = (size_t)(end - l.text);
        *ret = l;
        return 0;
}

uint64_t logs_line_usec(const struct logs_line *l)
{
        if (l->sec < 0)
                return 0;
        return (uint64_t)l->sec * PR_USEC_PER_SEC + l->nsec / PR_NSEC_PER_USEC;
}

void logs_format_time(const struct logs_line *l, char buf[static PR_RFC3339_MAX])
{
        time_t t = (time_t)(l->sec + l->utc_offset);
        struct tm tm;
        size_t n;
        int32_t off = l->utc_offset < 0 ? -l->utc_offset : l->utc_offset;

        (void)gmtime_r(&t, &tm);
        n = strftime(buf, PR_RFC3339_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        if (l->utc_offset == 0)
                (void)snprintf(buf + n, PR_RFC3339_MAX - n, ".%09uZ", (unsigned)l->nsec);
        else
                (void)snprintf(buf + n, PR_RFC3339_MAX - n, ".%09u%c%02d:%02d", (unsigned)l->nsec,
                               l->utc_offset < 0 ? '-' : '+', (int)(off / 3600),
                               (int)(off / 60 % 60));
}

/* ---- the files of an instance ----------------------------------------- */

static void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

struct rotated {
        unsigned k; /* 0 for <n>.log itself */
        char *path;
};

static int cmp_rotated(const void *a, const void *b)
{
        const struct rotated *x = a, *y = b;

        /* Oldest first: the highest suffix, down to the live file (0). */
        return x->k < y->k ? 1 : x->k > y->k ? -1 : 0;
}

/* The suffix of "<n>.log" (0) or "<n>.log.<k>" (k); -1 for other names. */
static int64_t rotation_of(const char *name, const char *base)
{
        size_t bl = strlen(base);
        uint64_t k;

        if (strncmp(name, base, bl) != 0)
                return -1;
        if (name[bl] == '\0')
                return 0;
        if (name[bl] != '.' || pr_parse_u64(name + bl + 1, &k) < 0 || k == 0 || k > 1000000)
                return -1;
        return (int64_t)k;
}

int logs_instance_files(const char *dir, unsigned restart_count, char ***ret, struct pr_error *err)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct rotated *list = NULL;
        size_t n = 0;
        char base[32];
        char **v = NULL;
        struct dirent *de;

        (void)snprintf(base, sizeof(base), "%u.log", restart_count);
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = pr_calloc(1, sizeof(char *));
                        return 0;
                }
                return pr_err(err, errno, "log directory '%s'", dir);
        }
        while ((de = readdir(d))) {
                int64_t k = rotation_of(de->d_name, base);
                struct rotated *r;

                if (k < 0)
                        continue;
                r = pr_array_grow(&list, &n, sizeof(*list));
                r->k = (unsigned)k;
                r->path = pr_asprintf("%s/%s", dir, de->d_name);
        }
        if (n > 0)
                qsort(list, n, sizeof(*list), cmp_rotated);
        v = pr_calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                v[i] = list[i].path;
        free(list);
        *ret = v;
        return 0;
}

/* ---- finding the last N lines ----------------------------------------- */

/* Whether a CRI line whose first bytes are head is an F line (ends a
 * logical line). A line that does not parse counts as one, as kubelet
 * counts it. */
static bool head_is_full(const char *head, size_t n)
{
        const char *p, *end = head + n;

        p = memchr(head, ' ', n);
        if (p)
                p = memchr(p + 1, ' ', (size_t)(end - p - 1));
        if (!p || p + 1 >= end)
                return true;
        return p[1] != 'P';
}

#define HEAD_MAX 80 /* more than "<time with offset> stdout P " */

/* The same for the line starting at off: from the block in hand when its
 * head is there, else with one small pread. */
static bool line_is_full(int fd, off_t off, const char *blk, off_t blk_pos, size_t blk_len)
{
        char head[HEAD_MAX];
        ssize_t n;

        if (off >= blk_pos && off + HEAD_MAX <= blk_pos + (off_t)blk_len)
                return head_is_full(blk + (off - blk_pos), HEAD_MAX);
        n = pread(fd, head, sizeof(head), off);
        return n <= 0 || head_is_full(head, (size_t)n);
}

/* The offset just past the last '\n' of the file: a line still being
 * written (no newline yet) is not a line yet. */
static off_t complete_end(int fd, off_t size)
{
        char blk[4096];
        off_t pos = size;

        while (pos > 0) {
                size_t n = pos < (off_t)sizeof(blk) ? (size_t)pos : sizeof(blk);
                ssize_t got;

                pos -= (off_t)n;
                got = pread(fd, blk, n, pos);
                if (got != (ssize_t)n)
                        return 0;
                for (size_t i = n; i > 0; i--)
                        if (blk[i - 1] == '\n')
                                return pos + (off_t)i;
        }
        return 0;
}

/* Reads backwards from the end in blocks, counting F lines. Once want of
 * them are counted, *ret_off is where the line after the last counted one
 * starts and 1 is returned; 0 means the file ran out first. */
static int scan_back(int fd, uint64_t want, uint64_t *count, off_t *ret_off)
{
        _cleanup_free_ char *blk = pr_malloc(READ_CHUNK);
        struct stat st;
        off_t end, pos, line_after;

        if (fstat(fd, &st) < 0)
                return -errno;
        end = complete_end(fd, st.st_size);
        pos = end;
        line_after = end;
        while (pos > 0) {
                size_t n = pos < READ_CHUNK ? (size_t)pos : READ_CHUNK;

                pos -= (off_t)n;
                if (pread(fd, blk, n, pos) != (ssize_t)n)
                        return -EIO;
                for (size_t i = n; i > 0;) {
                        const char *nl = memrchr(blk, '\n', i);
                        off_t p;

                        if (!nl)
                                break;
                        i = (size_t)(nl - blk);
                        p = pos + (off_t)i;
                        if (p >= end - 1)
                                continue; /* the newline ending the last line */
                        if (line_is_full(fd, p + 1, blk, pos, n) && ++*count == want) {
                                *ret_off = line_after;
                                return 1;
                        }
                        line_after = p + 1;
                }
        }
        if (end > 0 && line_is_full(fd, 0, NULL, -1, 0) && ++*count == want) {
                *ret_off = line_after;
                return 1;
        }
        return 0;
}

/* Where the last `tail` logical lines of files[0..n) start. */
static int find_tail(char **files, size_t n, uint64_t tail, size_t *ret_idx, off_t *ret_off)
{
        uint64_t count = 0;

        *ret_idx = 0;
        *ret_off = 0;
        for (size_t i = n; i > 0; i--) {
                _cleanup_close_ int fd = open(files[i - 1], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                off_t off = 0;
                int r;

                if (fd < 0)
                        continue;
                if (tail == 0) {
                        struct stat st;

                        if (fstat(fd, &st) < 0)
                                return -errno;
                        *ret_idx = i - 1;
                        *ret_off = complete_end(fd, st.st_size);
                        return 0;
                }
                /* The F line ending the (tail+1)-th line from the end: the
                 * tail starts right after it. */
                r = scan_back(fd, tail + 1, &count, &off);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_idx = i - 1;
                        *ret_off = off;
                        return 0;
                }
        }
        return 0;
}

/* ---- reading forward --------------------------------------------------- */

struct logs_cursor {
        unsigned restart; /* the instance being read */
        int fd;           /* -1 before the instance's first file exists */
        dev_t dev;
        ino_t ino;
        char *raw; /* bytes read but not yet a whole line */
        size_t raw_len;
        /* The logical line being assembled, per stream: P pieces of stdout
         * and stderr may interleave in the file. */
        struct pending_out {
                char *buf;
                size_t len, cap;
                bool in_line;  /* P pieces seen, F not yet */
                bool selected; /* the line passes --since */
        } out[_LOGS_STREAM_MAX];
};

static struct logs_cursor *cursor_free(struct logs_cursor *c)
{
        if (!c)
                return NULL;
        if (c->fd >= 0)
                (void)close(c->fd);
        free(c->raw);
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++)
                free(c->out[i].buf);
        free(c);
        return NULL;
}

static void out_append(struct pending_out *po, const char *data, size_t len)
{
        if (po->len + len > po->cap) {
                size_t cap = po->cap ? po->cap : 4096;

                while (cap < po->len + len)
                        cap *= 2;
                po->buf = pr_realloc(po->buf, cap);
                po->cap = cap;
        }
        memcpy(po->buf + po->len, data, len);
        po->len += len;
}

static int out_emit(struct pending_out *po, struct logs_sink *out)
{
        int r = 0;

        if (po->len > 0)
                r = out->write(out->userdata, po->buf, po->len);
        po->len = 0;
        return r < 0 ? r : 0;
}

/* Ends logical lines that will get no F (the instance is over, or the read
 * ends): what was written of them is shown as lines. */
static int cursor_end_line(struct logs_cursor *c, struct logs_sink *out)
{
        for (size_t i = 0; i < _LOGS_STREAM_MAX; i++) {
                struct pending_out *po = &c->out[i];
                int r;

                if (!po->in_line)
                        continue;
                po->in_line = false;
                if (!po->selected)
                        continue;
                out_append(po, "\n", 1);
                r = out_emit(po, out);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int process_line(struct logs_cursor *c, const struct logs_target *t,
                        const struct logs_read_options *o, const char *line, size_t len,
                        struct logs_sink *out)
{
        struct pending_out *po;
        struct logs_line l;

        if (logs_parse_line(line, len, &l) < 0)
                return 0; /* not CRI framing: kubelet skips such lines too */
        po = &c->out[l.stream];
        if (!po->in_line) {
                po->in_line = true;
                po->selected = o->since_usec == 0 || logs_line_usec(&l) >= o->since_usec;
                if (po->selected && t->prefix)
                        out_append(po, t->prefix, strlen(t->prefix));
                if (po->selected && o->timestamps) {
                        char ts[PR_RFC3339_MAX];

                        logs_format_time(&l, ts);
                        out_append(po, ts, strlen(ts));
                        out_append(po, " ", 1);
                }
        }
        if (!po->selected) {
                po->in_line = l.partial;
                return 0;
        }
        out_append(po, l.text, l.len);
        if (l.partial) {
                /* A line that never ends is passed on in bounded parts. */
                return po->len > MAX_OUT_LINE ? out_emit(po, out) : 0;
        }
        out_append(po, "\n", 1);
        po->in_line = false;
        return out_emit(po, out);
}

static int cursor_open_file(struct logs_cursor *c, const char *path, off_t off)
{
        struct stat st;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || (off > 0 && lseek(fd, off, SEEK_SET) < 0)) {
                int r = -errno;

                (void)close(fd);
                return r;
        }
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = fd;
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        c->raw_len = 0;
        return 0;
}

/* Opens the instance at the start of its last `tail` lines (tail < 0: at
 * its beginning). An instance with no file yet leaves fd at -1. */
static int cursor_start(struct logs_cursor *c, const struct logs_target *t, unsigned restart,
                        int64_t tail, struct pr_error *err)
{
        _cleanup_strv_free_ char **files = NULL;
        size_t n, idx = 0;
        off_t off = 0;
        int r;

        c->restart = restart;
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = -1;
        c->raw_len = 0;
        r = logs_instance_files(t->log_dir, restart, &files, err);
        if (r < 0)
                return r;
        n = pr_strv_len(files);
        if (n == 0)
                return 0;
        if (tail >= 0) {
                r = find_tail(files, n, (uint64_t)tail, &idx, &off);
                if (r < 0)
                        return pr_err(err, r, "log of container '%s'", t->container);
        }
        r = cursor_open_file(c, files[idx], off);
        if (r < 0 && r != -ENOENT)
                return pr_err(err, r, "log file '%s'", files[idx]);
        return 0;
}

/* After the end of the open file: the next newer file of the instance, if
 * rotation or the writer has made one. Returns 1 when it moved on. */
static int cursor_advance(struct logs_cursor *c, const struct logs_target *t, struct pr_error *err)
{
        _cleanup_strv_free_ char **files = NULL;
        size_t n, next = 0;
        int r;

        r = logs_instance_files(t->log_dir, c->restart, &files, err);
        if (r < 0)
                return r;
        n = pr_strv_len(files);
        if (c->fd >= 0) {
                size_t i;

                for (i = 0; i < n; i++) {
                        struct stat st;

                        if (stat(files[i], &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
                                break;
                }
                /* Gone (rotated away while we read it): every file left is
                 * newer, start from the oldest. */
                next = i < n ? i + 1 : 0;
        }
        for (; next < n; next++) {
                r = cursor_open_file(c, files[next], 0);
                if (r == 0)
                        return 1;
                if (r != -ENOENT)
                        return pr_err(err, r, "log file '%s'", files[next]);
        }
        return 0;
}

static int split_lines(struct logs_cursor *c, const struct logs_target *t,
                       const struct logs_read_options *o, struct logs_sink *out)
{
        size_t start = 0;
        int r;

        for (;;) {
                char *nl = memchr(c->raw + start, '\n', c->raw_len - start);

                if (!nl)
                        break;
                r = process_line(c, t, o, c->raw + start, (size_t)(nl - c->raw) - start, out);
                if (r < 0)
                        return r;
                start = (size_t)(nl - c->raw) + 1;
        }
        if (c->raw_len - start > MAX_RAW_LINE) {
                start = c->raw_len; /* not CRI framing; see MAX_RAW_LINE */
        }
        memmove(c->raw, c->raw + start, c->raw_len - start);
        c->raw_len -= start;
        return 0;
}

/* Reads everything written so far to the instance, across its rotations. */
static int cursor_drain(struct logs_cursor *c, const struct logs_target *t,
                        const struct logs_read_options *o, struct logs_sink *out,
                        struct pr_error *err)
{
        int r;

        if (!c->raw)
                c->raw = pr_malloc(MAX_RAW_LINE + READ_CHUNK);
        for (;;) {
                ssize_t n = 0;

                if (c->fd >= 0)
                        n = read(c->fd, c->raw + c->raw_len, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pr_err(err, errno, "log of container '%s'", t->container);
                if (n > 0) {
                        c->raw_len += (size_t)n;
                        r = split_lines(c, t, o, out);
                        if (r < 0)
                                return pr_err(err, r, "log of container '%s': output",
                                              t->container);
                        continue;
                }
                r = cursor_advance(c, t, err);
                if (r <= 0)
                        return r;
        }
}

/* ---- reading and following -------------------------------------------- */

static int read_once(struct logs_target *t, const struct logs_read_options *o,
                     struct logs_sink *out, struct pr_error *err)
{
        int r;

        r = cursor_start(t->cursor, t, t->restart_count, o->tail, err);
        if (r < 0)
                return r;
        r = cursor_drain(t->cursor, t, o, out, err);
        if (r < 0)
                return r;
        r = cursor_end_line(t->cursor, out);
        return r < 0 ? pr_err(err, r, "log of container '%s': output", t->container) : 0;
}

static int notice_restart(const struct logs_follow *f, const struct logs_target *t,
                          unsigned restart)
{
        _cleanup_free_ char *m = NULL;
        int r;

        if (!f->notice)
                return 0;
        m = pr_asprintf("--- container %s restarted (restart %u) ---\n", t->container, restart);
        r = f->notice->write(f->notice->userdata, m, strlen(m));
        return r < 0 ? r : 0;
}

/* Everything written so far to a followed target; then on to the next
 * instance while the state says there is a newer one. */
static int follow_target(struct logs_target *t, const struct logs_read_options *o,
                         struct logs_sink *out, const struct logs_follow *f, struct pr_error *err)
{
        struct logs_cursor *c = t->cursor;
        int r;

        for (;;) {
                r = cursor_drain(c, t, o, out, err);
                if (r < 0)
                        return r;
                /* The supervisor drains a container's pipes before it records
                 * the exit, so a restart seen in the state file means the old
                 * instance's log is complete. */
                if (t->latest_restart <= c->restart)
                        return 0;
                r = cursor_end_line(c, out);
                if (r >= 0)
                        r = notice_restart(f, t, c->restart + 1);
                if (r < 0)
                        return pr_err(err, r, "log of container '%s': output", t->container);
                r = cursor_start(c, t, c->restart + 1, -1, err);
                if (r < 0)
                        return r;
        }
}

/* Adds the watches that are missing: a log directory may appear only once
 * its container first starts. */
static int add_watches(int ifd, struct logs_target *t, size_t n, int *wds,
                       const struct logs_follow *f, int *state_wd, struct pr_error *err)
{
        for (size_t i = 0; i < n; i++) {
                if (wds[i] >= 0)
                        continue;
                wds[i] = inotify_add_watch(ifd, t[i].log_dir,
                                           IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
                if (wds[i] < 0 && errno != ENOENT)
                        return pr_err(err, errno, "log directory '%s': inotify", t[i].log_dir);
        }
        if (*state_wd < 0 && f->state_dir) {
                *state_wd = inotify_add_watch(ifd, f->state_dir,
                                              IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE | IN_DELETE |
                                                  IN_DELETE_SELF | IN_ONLYDIR);
                if (*state_wd < 0 && errno != ENOENT)
                        return pr_err(err, errno, "state directory '%s': inotify", f->state_dir);
        }
        return 0;
}

/* Sleeps until a log or the state changes, or the supervisor dies. The
 * events themselves do not matter: each wake re-reads the state and drains
 * every log to its end. */
static int wait_change(int ifd, int pidfd, struct pr_error *err)
{
        struct pollfd p[2] = {
            {.fd = ifd, .events = POLLIN},
            {.fd = pidfd, .events = POLLIN},
        };
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        while (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0)
                if (errno != EINTR)
                        return pr_err(err, errno, "logs: poll");
        while (read(ifd, buf, sizeof(buf)) > 0)
                ;
        return 0;
}

static int follow(struct logs_target *t, size_t n, const struct logs_read_options *o,
                  struct logs_sink *out, const struct logs_follow *f, struct pr_error *err)
{
        _cleanup_close_ int ifd = -1;
        _cleanup_free_ int *wds = pr_malloc(n * sizeof(int));
        int state_wd = -1, r;

        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0)
                return pr_err(err, errno, "logs: inotify_init1");
        for (size_t i = 0; i < n; i++)
                wds[i] = -1;
        /* Watches first, then the first read: a line written in between
         * wakes us instead of being missed. */
        r = add_watches(ifd, t, n, wds, f, &state_wd, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = cursor_start(t[i].cursor, &t[i], t[i].restart_count, o->tail, err);
                if (r < 0)
                        return r;
        }
        for (;;) {
                bool gone = false, all_done = true;

                /* The state first, then the logs: whatever the state reports
                 * was written to the logs before it. */
                r = f->refresh(f->userdata, t, n, &gone, err);
                if (r < 0)
                        return r;
                r = add_watches(ifd, t, n, wds, f, &state_wd, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        r = follow_target(&t[i], o, out, f, err);
                        if (r < 0)
                                return r;
                        all_done = all_done && t[i].done;
                }
                if (gone || all_done)
                        break;
                r = wait_change(ifd, f->supervisor_pidfd, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = cursor_end_line(t[i].cursor, out);
                if (r < 0)
                        return pr_err(err, r, "log of container '%s': output", t[i].container);
        }
        return 0;
}

int logs_read(struct logs_target *t, size_t n, const struct logs_read_options *o,
              struct logs_sink *out, const struct logs_follow *f, struct pr_error *err)
{
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                t[i].cursor = pr_calloc(1, sizeof(struct logs_cursor));
                t[i].cursor->fd = -1;
        }
        if (f) {
                r = follow(t, n, o, out, f, err);
        } else {
                for (size_t i = 0; i < n && r >= 0; i++)
                        r = read_once(&t[i], o, out, err);
        }
        for (size_t i = 0; i < n; i++)
                t[i].cursor = cursor_free(t[i].cursor);
        return r;
}
