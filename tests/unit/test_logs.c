#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/logread.h"
#include "pod/logs.h"

struct tmpdir {
        char path[64];
};

/* Directories made by the running test, removed by the suite's .fini even
 * when an assertion ends the test early. */
static char *made[8];
static size_t n_made;

static void remove_dir(const char *path)
{
        struct pr_error err = {};

        (void)umount2(path, MNT_DETACH);
        cr_assert_eq(pr_rm_rf(path, &err), 0, "%s", err.msg);
}

static void cleanup_made(void)
{
        for (size_t i = 0; i < n_made; i++) {
                if (made[i])
                        remove_dir(made[i]);
                free(made[i]);
                made[i] = NULL;
        }
        n_made = 0;
}

TestSuite(logs, .fini = cleanup_made);

static void tmpdir_make(struct tmpdir *t)
{
        strcpy(t->path, "/tmp/podrun-test-logs-XXXXXX");
        cr_assert_not_null(mkdtemp(t->path));
        cr_assert_lt(n_made, PR_ELEMENTSOF(made));
        made[n_made++] = pr_strdup(t->path);
}

static void tmpdir_done(struct tmpdir *t)
{
        for (size_t i = 0; i < n_made; i++)
                if (pr_streq(made[i], t->path)) {
                        free(made[i]);
                        made[i] = NULL;
                }
        remove_dir(t->path);
}

static char *read_all(const char *path, size_t *ret_len)
{
        struct pr_error err = {};
        char *data = NULL;
        size_t len = 0;

        cr_assert_eq(pr_read_file(path, 64 << 20, &data, &len, &err), 0, "%s", err.msg);
        if (ret_len)
                *ret_len = len;
        return data;
}

/* The CRI lines of a file, parsed; texts point into *ret_data. */
static size_t parse_file(const char *path, char **ret_data, struct logs_line *lines, size_t max)
{
        size_t len, n = 0;
        char *data = read_all(path, &len), *p = data, *end = data + len;

        while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));

                cr_assert_not_null(nl, "unterminated line in %s", path);
                cr_assert_lt(n, max);
                cr_assert_eq(logs_parse_line(p, (size_t)(nl - p), &lines[n]), 0, "bad line: %.*s",
                             (int)(nl - p), p);
                n++;
                p = nl + 1;
        }
        *ret_data = data;
        return n;
}

static struct logs_writer *open_writer(const char *dir, unsigned restart,
                                       const struct logs_options *o)
{
        struct pr_error err = {};
        struct logs_writer *w = NULL;

        cr_assert_eq(logs_writer_open(dir, restart, o, &w, &err), 0, "%s", err.msg);
        return w;
}

static void put(struct logs_writer *w, enum logs_stream s, const char *data, size_t len)
{
        struct pr_error err = {};

        cr_assert_eq(logs_writer_write(w, s, data, len, &err), 0, "%s", err.msg);
}

#define PUTS(w, s, str) put(w, s, str, strlen(str))

static bool text_is(const struct logs_line *l, const char *want)
{
        return l->len == strlen(want) && memcmp(l->text, want, l->len) == 0;
}

Test(logs, stream_names_round_trip)
{
        for (int s = 0; s < _LOGS_STREAM_MAX; s++)
                cr_assert_eq(logs_stream_from_string(logs_stream_to_string(s)), s);
        cr_assert_eq(logs_stream_from_string("stdin"), _LOGS_STREAM_INVALID);
        cr_assert_null(logs_stream_to_string(_LOGS_STREAM_MAX));
}

Test(logs, framing_exact_bytes)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct tmpdir t;
        _cleanup_free_ char *path = NULL, *data = NULL, *want_path = NULL;
        size_t len;
        char *p;

        tmpdir_make(&t);
        path = pr_asprintf("%s/app", t.path);
        want_path = pr_asprintf("%s/3.log", path);
        w = open_writer(path, 3, NULL);
        cr_assert_str_eq(logs_writer_path(w), want_path);
        PUTS(w, LOGS_STDOUT, "hello world\n\nwin\r\n");
        data = read_all(logs_writer_path(w), &len);
        /* 2026-11-30T07:03:31.123456789Z stdout F hello world */
        p = data;
        for (int i = 0; i < 3; i++) {
                static const char *const want[] = {"hello world", "", "win\r"};
                char *nl = strchr(p, '\n');

                cr_assert_not_null(nl);
                cr_assert_eq(p[4], '-');
                cr_assert_eq(p[10], 'T');
                cr_assert_eq(p[19], '.');
                cr_assert_eq(p[29], 'Z', "%.*s", (int)(nl - p), p);
                cr_assert_eq(strncmp(p + 30, " stdout F ", 10), 0);
                cr_assert_eq((size_t)(nl - (p + 40)), strlen(want[i]));
                cr_assert_eq(memcmp(p + 40, want[i], strlen(want[i])), 0);
                p = nl + 1;
        }
        cr_assert_eq(p, data + len);
        /* One clock read per call: all three lines carry the same time. */
        cr_assert_eq(memcmp(data, data + 52, 30), 0);
        tmpdir_done(&t);
}

Test(logs, partial_lines_across_writes_and_flush)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct pr_error err = {};
        struct logs_line l[8];
        struct tmpdir t;
        _cleanup_free_ char *data = NULL;

        tmpdir_make(&t);
        w = open_writer(t.path, 0, NULL);
        PUTS(w, LOGS_STDOUT, "ab");
        PUTS(w, LOGS_STDOUT, "c");
        PUTS(w, LOGS_STDOUT, "d\nef");
        PUTS(w, LOGS_STDOUT, "g");
        cr_assert_eq(logs_writer_flush(w, &err), 0);
        cr_assert_eq(logs_writer_flush(w, &err), 0); /* nothing left: no empty line */
        cr_assert_eq(parse_file(logs_writer_path(w), &data, l, 8), 2);
        cr_assert(text_is(&l[0], "abcd"));
        cr_assert(text_is(&l[1], "efg"));
        cr_assert_not(l[0].partial);
        cr_assert_not(l[1].partial);
        tmpdir_done(&t);
}

Test(logs, streams_interleaved)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct logs_line l[8];
        struct tmpdir t;
        _cleanup_free_ char *data = NULL;

        tmpdir_make(&t);
        w = open_writer(t.path, 0, NULL);
        PUTS(w, LOGS_STDOUT, "out1 ");
        PUTS(w, LOGS_STDERR, "err1\nerr2 ");
        PUTS(w, LOGS_STDOUT, "more\n");
        PUTS(w, LOGS_STDERR, "end\n");
        cr_assert_eq(parse_file(logs_writer_path(w), &data, l, 8), 3);
        cr_assert_eq(l[0].stream, LOGS_STDERR);
        cr_assert(text_is(&l[0], "err1"));
        cr_assert_eq(l[1].stream, LOGS_STDOUT);
        cr_assert(text_is(&l[1], "out1 more"));
        cr_assert_eq(l[2].stream, LOGS_STDERR);
        cr_assert(text_is(&l[2], "err2 end"));
        tmpdir_done(&t);
}

/* A line of n bytes (plus '\n'), written in chunks of step bytes. */
static void long_line(size_t n, size_t step, const size_t *want, size_t n_want)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        _cleanup_free_ char *line = pr_malloc(n + 1), *data = NULL, *joined = NULL;
        struct logs_line l[16];
        struct tmpdir t;
        size_t got, off = 0;

        for (size_t i = 0; i < n; i++)
                line[i] = (char)('a' + (i * 7 + i / 100) % 26);
        line[n] = '\n';
        tmpdir_make(&t);
        w = open_writer(t.path, 0, NULL);
        for (size_t i = 0; i < n + 1; i += step)
                put(w, LOGS_STDOUT, line + i, n + 1 - i < step ? n + 1 - i : step);
        got = parse_file(logs_writer_path(w), &data, l, 16);
        cr_assert_eq(got, n_want, "%zu bytes: %zu lines", n, got);
        joined = pr_malloc(n + 1);
        for (size_t i = 0; i < got; i++) {
                cr_assert_eq(l[i].len, want[i], "piece %zu: %zu bytes", i, l[i].len);
                cr_assert_eq(l[i].partial, i + 1 < got, "piece %zu tag", i);
                memcpy(joined + off, l[i].text, l[i].len);
                off += l[i].len;
        }
        cr_assert_eq(off, n);
        cr_assert_eq(memcmp(joined, line, n), 0);
        tmpdir_done(&t);
}

Test(logs, line_of_exactly_16k_is_one_full_line)
{
        const size_t want[] = {16384};

        long_line(16384, 1 << 20, want, 1);
        long_line(16384, 4096, want, 1);
        long_line(16384, 16384, want, 1); /* the newline comes alone, later */
}

Test(logs, line_of_16k_plus_one_is_p_then_f)
{
        const size_t want[] = {16384, 1};

        long_line(16385, 1 << 20, want, 2);
        long_line(16385, 1000, want, 2);
}

Test(logs, line_of_40k_is_p_p_f)
{
        const size_t want[] = {16384, 16384, 8192};

        long_line(40960, 1 << 20, want, 3);
        long_line(40960, 777, want, 3);
}

Test(logs, timestamps_parse_back)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct logs_line l[4];
        struct tmpdir t;
        _cleanup_free_ char *data = NULL;
        uint64_t before, after, at;

        tmpdir_make(&t);
        w = open_writer(t.path, 0, NULL);
        before = pr_now_real_usec();
        PUTS(w, LOGS_STDERR, "x\n");
        after = pr_now_real_usec();
        cr_assert_eq(parse_file(logs_writer_path(w), &data, l, 4), 1);
        at = logs_line_usec(&l[0]);
        cr_assert_geq(at, before);
        cr_assert_leq(at, after);
        cr_assert_eq(l[0].utc_offset, 0);
        tmpdir_done(&t);
}

Test(logs, parse_accepts_offsets_and_rejects_garbage)
{
        struct logs_line l;
        char ts[PR_RFC3339_MAX];
        uint64_t u;
        const char *s = "2026-11-30T09:03:31.5+02:00 stdout P hi there";

        cr_assert_eq(logs_parse_line(s, strlen(s), &l), 0);
        cr_assert(l.partial);
        cr_assert(text_is(&l, "hi there"));
        cr_assert_eq(l.utc_offset, 7200);
        cr_assert_eq(logs_parse_time("2026-11-30T07:03:31.5Z", &u), 0);
        cr_assert_eq(logs_line_usec(&l), u);
        logs_format_time(&l, ts);
        cr_assert_str_eq(ts, "2026-11-30T09:03:31.500000000+02:00");
        s = "2026-11-30T07:03:31Z stderr F:x y";
        cr_assert_eq(logs_parse_line(s, strlen(s), &l), 0);
        cr_assert_not(l.partial);
        cr_assert_eq(l.nsec, 0);
        cr_assert(text_is(&l, "y"));
        logs_format_time(&l, ts);
        cr_assert_str_eq(ts, "2026-11-30T07:03:31.000000000Z");
        s = "2026-11-30T07:03:31Z stdout F";
        cr_assert_eq(logs_parse_line(s, strlen(s), &l), 0);
        cr_assert_eq(l.len, 0);
        static const char *const bad[] = {
            "",
            "hello",
            "2026-11-30T07:03:31 stdout F x",
            "2026-11-30T07:03:31Z stdin F x",
            "2026-11-30T07:03:31Z stdout X x",
            "2026-11-30T07:03:31Z stdout",
            "2026-13-30T07:03:31Z stdout F x",
            "2026-11-30T07:03:31.Z stdout F x",
            "2026-11-30T07:03:31+0200 stdout F x",
        };
        for (size_t i = 0; i < PR_ELEMENTSOF(bad); i++)
                cr_assert_eq(logs_parse_line(bad[i], strlen(bad[i]), &l), -EINVAL, "%s", bad[i]);
        cr_assert_eq(logs_parse_time("2026-11-30T07:03:31Z trailing", &u), -EINVAL);
}

Test(logs, rotation_keeps_max_files_in_order)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct logs_options o = {.max_file_bytes = 1000, .max_files = 3};
        _cleanup_strv_free_ char **files = NULL;
        struct pr_error err = {};
        struct tmpdir t;
        int next = -1;

        tmpdir_make(&t);
        w = open_writer(t.path, 2, &o);
        for (int i = 0; i < 200; i++) {
                char line[32];

                (void)snprintf(line, sizeof(line), "line %04d\n", i);
                PUTS(w, LOGS_STDOUT, line);
        }
        cr_assert_eq(logs_instance_files(t.path, 2, &files, &err), 0);
        cr_assert_eq(pr_strv_len(files), 3);
        cr_assert(pr_endswith(files[0], "/2.log.2"));
        cr_assert(pr_endswith(files[1], "/2.log.1"));
        cr_assert(pr_endswith(files[2], "/2.log"));
        for (size_t f = 0; f < 3; f++) {
                _cleanup_free_ char *data = NULL;
                struct logs_line l[64];
                size_t n = parse_file(files[f], &data, l, 64);
                struct stat st;

                cr_assert_eq(stat(files[f], &st), 0);
                cr_assert_leq(st.st_size, 1000);
                cr_assert_gt(n, 0);
                for (size_t i = 0; i < n; i++) {
                        int v = atoi(l[i].text + 5);

                        if (next >= 0)
                                cr_assert_eq(v, next, "%s line %zu", files[f], i);
                        next = v + 1;
                }
        }
        cr_assert_eq(next, 200);
        tmpdir_done(&t);
}

static bool enter_private_mount_ns(void)
{
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
                return false;
        return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* A full disk: output is dropped and counted, the error reported once per
 * episode, the file stays valid CRI, and writing resumes when there is room. */
Test(logs, disk_full_drops_and_recovers)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        _cleanup_free_ char *filler = NULL, *line = pr_malloc(1000), *data = NULL;
        struct pr_error err = {};
        struct logs_line l[256];
        struct tmpdir t;
        int fd, errors = 0, r;
        size_t n;

        if (!enter_private_mount_ns())
                cr_skip_test("needs root to mount a tmpfs in a private mount namespace");
        tmpdir_make(&t);
        cr_assert_eq(mount("tmpfs", t.path, "tmpfs", 0, "size=64k"), 0, "%m");
        w = open_writer(t.path, 0, NULL);
        memset(line, 'x', 999);
        line[999] = '\n';
        for (int i = 0; i < 200; i++) {
                r = logs_writer_write(w, LOGS_STDOUT, line, 1000, &err);
                if (r < 0) {
                        cr_assert_eq(r, -ENOSPC);
                        cr_assert(strstr(err.msg, "No space left on device"), "%s", err.msg);
                        errors++;
                }
        }
        cr_assert_eq(errors, 1, "reported %d times", errors);
        cr_assert_gt(logs_writer_dropped(w), 0);
        n = parse_file(logs_writer_path(w), &data, l, 256);
        cr_assert_gt(n, 0);
        cr_assert_lt(n, 200);
        cr_assert_eq(logs_writer_dropped(w), (200 - n) * 1040);
        /* Room again: the next line is written and the episode ends. */
        filler = pr_asprintf("%s/filler", t.path);
        free(data);
        data = NULL;
        cr_assert_eq(truncate(logs_writer_path(w), 0), 0);
        PUTS(w, LOGS_STDERR, "back\n");
        n = parse_file(logs_writer_path(w), &data, l, 256);
        cr_assert_eq(n, 1);
        cr_assert(text_is(&l[0], "back"));
        /* A second episode is reported again. */
        fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0);
        while (write(fd, line, 1000) > 0)
                ;
        (void)close(fd);
        errors = 0;
        for (int i = 0; i < 5; i++)
                if (logs_writer_write(w, LOGS_STDOUT, line, 1000, &err) == -ENOSPC)
                        errors++;
        cr_assert_eq(errors, 1);
        tmpdir_done(&t);
}

/* ---- the reader -------------------------------------------------------- */

struct strbuf {
        char *s;
        size_t len;
        size_t calls;
};

static int strbuf_write(void *userdata, const char *data, size_t len)
{
        struct strbuf *b = userdata;

        b->s = pr_realloc(b->s, b->len + len + 1);
        memcpy(b->s + b->len, data, len);
        b->len += len;
        b->s[b->len] = '\0';
        b->calls++;
        return 0;
}

static char *read_logs(const char *dir, unsigned restart, const struct logs_read_options *o,
                       const char *prefix)
{
        struct strbuf b = {.s = pr_strdup("")};
        struct logs_sink sink = {.write = strbuf_write, .userdata = &b};
        struct logs_target t = {
            .log_dir = dir,
            .container = "app",
            .prefix = prefix,
            .restart_count = restart,
        };
        struct pr_error err = {};

        cr_assert_eq(logs_read(&t, 1, o, &sink, NULL, &err), 0, "%s", err.msg);
        cr_assert_null(t.cursor);
        return b.s;
}

static void write_file(const char *path, const char *text)
{
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
}

static const struct logs_read_options all = {.tail = -1};

Test(logs, read_rejoins_pieces_and_strips_framing)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        _cleanup_free_ char *big = pr_malloc(40001), *out = NULL, *want = NULL;
        struct pr_error err = {};
        struct tmpdir t;

        tmpdir_make(&t);
        w = open_writer(t.path, 0, NULL);
        memset(big, 'z', 40000);
        big[40000] = '\0';
        PUTS(w, LOGS_STDOUT, "first\n");
        PUTS(w, LOGS_STDERR, big);
        PUTS(w, LOGS_STDOUT, "\n");
        PUTS(w, LOGS_STDERR, "\nlast");
        cr_assert_eq(logs_writer_flush(w, &err), 0);
        out = read_logs(t.path, 0, &all, NULL);
        want = pr_asprintf("first\n\n%s\nlast\n", big);
        cr_assert_str_eq(out, want);
        tmpdir_done(&t);
}

Test(logs, read_a_missing_instance_is_empty)
{
        struct tmpdir t;
        _cleanup_free_ char *out = NULL, *out2 = NULL, *gone = NULL;

        tmpdir_make(&t);
        out = read_logs(t.path, 4, &all, NULL);
        cr_assert_str_eq(out, "");
        gone = pr_asprintf("%s/nonexistent", t.path);
        out2 = read_logs(gone, 0, &all, NULL);
        cr_assert_str_eq(out2, "");
        tmpdir_done(&t);
}

Test(logs, timestamps_and_prefix)
{
        struct tmpdir t;
        _cleanup_free_ char *path = NULL, *out = NULL;
        struct logs_read_options o = {.tail = -1, .timestamps = true};

        tmpdir_make(&t);
        path = pr_asprintf("%s/0.log", t.path);
        write_file(path, "2026-11-30T07:03:31.123Z stdout F one\n"
                         "2026-11-30T08:03:31.000000001+01:00 stderr P tw\n"
                         "2026-11-30T08:03:31.000000002+01:00 stderr F o\n"
                         "garbage line\n");
        out = read_logs(t.path, 0, &o, "[pod/web/app] ");
        cr_assert_str_eq(out, "[pod/web/app] 2026-11-30T07:03:31.123000000Z one\n"
                              "[pod/web/app] 2026-11-30T08:03:31.000000001+01:00 two\n");
        tmpdir_done(&t);
}

Test(logs, since_filters_by_time)
{
        struct tmpdir t;
        _cleanup_free_ char *path = NULL, *out = NULL;
        struct logs_read_options o = {.tail = -1};

        tmpdir_make(&t);
        path = pr_asprintf("%s/0.log", t.path);
        write_file(path, "2026-11-30T07:00:00Z stdout F a\n"
                         "2026-11-30T07:00:01Z stdout F b\n"
                         "2026-11-30T07:00:01.5Z stdout P c\n"
                         "2026-11-30T07:00:03Z stdout F d\n"
                         "2026-11-30T07:00:02Z stdout F e\n");
        cr_assert_eq(logs_parse_time("2026-11-30T07:00:01Z", &o.since_usec), 0);
        out = read_logs(t.path, 0, &o, NULL);
        cr_assert_str_eq(out, "b\ncd\ne\n");
        tmpdir_done(&t);
}

/* n numbered lines, every third one split in P pieces, across rotations. */
static void write_numbered(const char *dir, unsigned restart, int n, const struct logs_options *o)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = open_writer(dir, restart, o);

        for (int i = 0; i < n; i++) {
                char line[20000];
                size_t len = (size_t)snprintf(line, sizeof(line), "n%d ", i);

                if (i % 3 == 0) {
                        memset(line + len, '.', 17000);
                        len += 17000;
                }
                line[len++] = '\n';
                put(w, LOGS_STDOUT, line, len);
        }
}

static void check_tail(const char *dir, int total, int64_t tail)
{
        struct logs_read_options o = {.tail = tail};
        _cleanup_free_ char *out = read_logs(dir, 0, &o, NULL);
        int first = tail < total ? total - (int)tail : 0, count = 0;
        char *p = out;

        while (*p) {
                char *nl = strchr(p, '\n');

                cr_assert_not_null(nl);
                cr_assert_eq(atoi(p + 1), first + count, "tail %" PRId64 ": line %d is %.10s", tail,
                             count, p);
                count++;
                p = nl + 1;
        }
        cr_assert_eq(count, total - first, "tail %" PRId64 ": %d lines", tail, count);
}

Test(logs, tail_counts_logical_lines_across_rotations)
{
        struct logs_options o = {.max_file_bytes = 64 * 1024, .max_files = 20};
        _cleanup_strv_free_ char **files = NULL;
        struct pr_error err = {};
        struct tmpdir t;

        tmpdir_make(&t);
        write_numbered(t.path, 0, 100, &o);
        cr_assert_eq(logs_instance_files(t.path, 0, &files, &err), 0);
        cr_assert_gt(pr_strv_len(files), 5, "only %zu files", pr_strv_len(files));
        check_tail(t.path, 100, 0);
        check_tail(t.path, 100, 1);
        check_tail(t.path, 100, 2);
        check_tail(t.path, 100, 3);
        check_tail(t.path, 100, 10);
        check_tail(t.path, 100, 37);
        check_tail(t.path, 100, 99);
        check_tail(t.path, 100, 100);
        check_tail(t.path, 100, 1000);
        tmpdir_done(&t);
}

/* Many short lines: block boundaries of the backward scan fall inside line
 * heads, and the count runs across a rotation. */
Test(logs, tail_across_read_blocks)
{
        struct logs_options o = {.max_file_bytes = 1024 * 1024, .max_files = 3};
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct tmpdir t;
        char line[32];

        tmpdir_make(&t);
        w = open_writer(t.path, 0, &o);
        for (int i = 0; i < 30000; i++) {
                int len = snprintf(line, sizeof(line), "n%d\n", i);

                put(w, LOGS_STDOUT, line, (size_t)len);
        }
        check_tail(t.path, 30000, 1);
        check_tail(t.path, 30000, 1500);
        check_tail(t.path, 30000, 7777);
        check_tail(t.path, 30000, 29999);
        check_tail(t.path, 30000, 30000);
        tmpdir_done(&t);
}

Test(logs, tail_ignores_an_unterminated_last_line)
{
        struct tmpdir t;
        _cleanup_free_ char *path = NULL, *out = NULL;
        struct logs_read_options o = {.tail = 1};

        tmpdir_make(&t);
        path = pr_asprintf("%s/0.log", t.path);
        write_file(path, "2026-11-30T07:00:00Z stdout F a\n"
                         "2026-11-30T07:00:01Z stdout F b\n"
                         "2026-11-30T07:00:02Z stdout F half-writ");
        out = read_logs(t.path, 0, &o, NULL);
        cr_assert_str_eq(out, "b\n");
        tmpdir_done(&t);
}

/* ---- following --------------------------------------------------------- */

struct fake_state {
        const char *path; /* "<restart> <done>" */
        pid_t writer;
        pid_t watch; /* the fake supervisor */
        int refreshes;
};

static int fake_refresh(void *userdata, struct logs_target *t, size_t n, bool *ret_gone,
                        struct pr_error *err)
{
        struct fake_state *fs = userdata;
        _cleanup_free_ char *text = NULL;
        unsigned restart = 0;
        int done = 0;

        fs->refreshes++;
        if (fs->watch > 0) {
                siginfo_t si = {};

                /* The supervisor's liveness, as cmd_logs checks it. */
                if (waitid(P_PID, (id_t)fs->watch, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                    si.si_pid == fs->watch) {
                        *ret_gone = true;
                        return 0;
                }
        }
        if (pr_read_file(fs->path, 100, &text, NULL, err) < 0) {
                *ret_gone = true;
                return 0;
        }
        cr_assert_eq(sscanf(text, "%u %d", &restart, &done), 2);
        for (size_t i = 0; i < n; i++) {
                t[i].latest_restart = restart;
                t[i].done = done;
        }
        *ret_gone = false;
        return 0;
}

static void child_sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

        (void)nanosleep(&ts, NULL);
}

/* CHILD: plays the supervisor: writes lines, rotates, restarts, ends. */
static void run_writer(const char *dir, const char *state)
{
        struct logs_options o = {.max_file_bytes = 300, .max_files = 2};
        struct logs_writer *w = NULL;
        struct pr_error err = {};
        char line[64];

        child_sleep_ms(100);
        if (logs_writer_open(dir, 0, &o, &w, &err) < 0)
                _exit(10);
        for (int i = 0; i < 20; i++) {
                int len = snprintf(line, sizeof(line), "zero %d\n", i);

                (void)logs_writer_write(w, LOGS_STDOUT, line, (size_t)len, &err);
                child_sleep_ms(5);
        }
        (void)logs_writer_write(w, LOGS_STDERR, "unfinished", 10, &err);
        (void)logs_writer_flush(w, &err);
        logs_writer_free(w);
        if (pr_write_file_atomic(state, "1 0", 3, 0644, &err) < 0)
                _exit(11);
        child_sleep_ms(50);
        if (logs_writer_open(dir, 1, &o, &w, &err) < 0)
                _exit(12);
        (void)logs_writer_write(w, LOGS_STDOUT, "one a\none b\n", 12, &err);
        logs_writer_free(w);
        if (pr_write_file_atomic(state, "1 1", 3, 0644, &err) < 0)
                _exit(13);
        _exit(0);
}

Test(logs, follow_across_rotation_and_restart, .timeout = 20)
{
        struct fake_state fs = {};
        struct strbuf b = {.s = pr_strdup("")}, notes = {.s = pr_strdup("")};
        struct logs_sink sink = {.write = strbuf_write, .userdata = &b};
        struct logs_sink notice = {.write = strbuf_write, .userdata = &notes};
        struct logs_read_options o = {.tail = -1};
        struct logs_target t = {.container = "app"};
        _cleanup_free_ char *dir = NULL, *state = NULL, *want = NULL;
        struct pr_error err = {};
        struct logs_follow f;
        struct tmpdir td;
        int status;
        size_t off = 0;

        tmpdir_make(&td);
        dir = pr_asprintf("%s/logs", td.path);
        state = pr_asprintf("%s/state", td.path);
        write_file(state, "0 0");
        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0);
        fs.path = state;
        fs.writer = fork();
        cr_assert_geq(fs.writer, 0);
        if (fs.writer == 0)
                run_writer(dir, state);
        t.log_dir = dir;
        f = (struct logs_follow){
            .refresh = fake_refresh,
            .userdata = &fs,
            .state_dir = td.path,
            .supervisor_pidfd = -1,
            .notice = &notice,
        };
        cr_assert_eq(logs_read(&t, 1, &o, &sink, &f, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(fs.writer, &status, 0), fs.writer);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer: %d", status);
        want = pr_strdup("");
        for (int i = 0; i < 20; i++) {
                char line[32];
                int len = snprintf(line, sizeof(line), "zero %d\n", i);

                cr_assert_eq(strncmp(b.s + off, line, (size_t)len), 0, "at %d: %s", i, b.s + off);
                off += (size_t)len;
        }
        cr_assert_str_eq(b.s + off, "unfinished\none a\none b\n");
        cr_assert_str_eq(notes.s, "--- container app restarted (restart 1) ---\n");
        /* Woken by events, not by polling: a few dozen wakes at most. */
        cr_assert_lt(fs.refreshes, 200);
        free(b.s);
        free(notes.s);
        tmpdir_done(&td);
}

Test(logs, follow_ends_when_the_supervisor_dies, .timeout = 20)
{
        struct fake_state fs = {};
        struct strbuf b = {.s = pr_strdup("")};
        struct logs_sink sink = {.write = strbuf_write, .userdata = &b};
        struct logs_read_options o = {.tail = -1};
        struct logs_target t = {.container = "app"};
        _cleanup_free_ char *state = NULL;
        struct pr_error err = {};
        struct logs_follow f;
        struct tmpdir td;
        pid_t pid;
        int pidfd;

        tmpdir_make(&td);
        state = pr_asprintf("%s/state", td.path);
        write_file(state, "0 0");
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                child_sleep_ms(200);
                _exit(0);
        }
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert_geq(pidfd, 0);
        fs.path = state;
        t.log_dir = td.path;
        f = (struct logs_follow){
            .refresh = fake_refresh,
            .userdata = &fs,
            .state_dir = td.path,
            .supervisor_pidfd = pidfd,
        };
        fs.watch = pid;
        /* Nothing changes in the log directory or the state: only the pidfd
         * can wake the loop when the fake supervisor exits. */
        cr_assert_eq(logs_read(&t, 1, &o, &sink, &f, &err), 0, "%s", err.msg);
        cr_assert_eq(waitpid(pid, NULL, 0), pid);
        cr_assert_geq(fs.refreshes, 2);
        cr_assert_str_eq(b.s, "");
        (void)close(pidfd);
        free(b.s);
        tmpdir_done(&td);
}
