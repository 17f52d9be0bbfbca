#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/logs.h"
#include "pod/termmsg.h"

struct fixture {
        char dir[64];
        char *root;
        char *logs;
};

/* The running test's fixture, removed by the suite's .fini even when an
 * assertion ends the test early. */
static struct fixture current;
static bool have_current;

static void cleanup_current(void)
{
        struct pr_error err = {};

        if (!have_current)
                return;
        have_current = false;
        cr_assert_eq(pr_rm_rf(current.dir, &err), 0, "%s", err.msg);
        free(current.root);
        free(current.logs);
}

TestSuite(termmsg, .fini = cleanup_current);

static void setup(struct fixture *f)
{
        struct pr_error err = {};

        strcpy(f->dir, "/tmp/podrun-test-termmsg-XXXXXX");
        cr_assert_not_null(mkdtemp(f->dir));
        f->root = pr_asprintf("%s/root", f->dir);
        f->logs = pr_asprintf("%s/logs", f->dir);
        cr_assert_eq(pr_mkdir_p(f->root, 0755, &err), 0);
        cr_assert_eq(pr_mkdir_p(f->logs, 0755, &err), 0);
        current = *f;
        have_current = true;
}

static void teardown(struct fixture *f)
{
        cr_assert_str_eq(f->dir, current.dir);
        cleanup_current();
}

static void put_file(const char *root, const char *rel, const char *text)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", root, rel);
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
}

static char *get(struct fixture *f, const char *path, enum spec_termination_message_policy p,
                 int code)
{
        struct pr_error err = {};
        char *msg = NULL;

        cr_assert_eq(termmsg_get(f->root, path, p, code, f->logs, 0, &msg, &err), 0, "%s", err.msg);
        cr_assert_not_null(msg);
        return msg;
}

/* 100 lines "line N" on stdout, the last without a newline until flush. */
static void write_log(struct fixture *f, int n, size_t width)
{
        struct logs_writer *w = NULL;
        struct pr_error err = {};

        cr_assert_eq(logs_writer_open(f->logs, 0, NULL, &w, &err), 0, "%s", err.msg);
        for (int i = 0; i < n; i++) {
                char line[256];
                int len = snprintf(line, sizeof(line), "line %d %0*d\n", i, (int)width, 0);

                cr_assert_eq(logs_writer_write(w, i % 2 ? LOGS_STDERR : LOGS_STDOUT, line,
                                               (size_t)len, &err),
                             0);
        }
        cr_assert_eq(logs_writer_flush(w, &err), 0);
        logs_writer_free(w);
}

static void mkdir_in(const char *root, const char *rel)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", root, rel);
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(path, 0755, &err), 0, "%s", err.msg);
}

Test(termmsg, reads_the_file)
{
        struct fixture f;
        _cleanup_free_ char *m = NULL, *m2 = NULL;

        setup(&f);
        mkdir_in(f.root, "dev");
        put_file(f.root, "dev/termination-log", "bye: config missing");
        m = get(&f, "/dev/termination-log", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(m, "bye: config missing");
        /* The file wins over the logs even with the fallback. */
        write_log(&f, 3, 1);
        m2 = get(&f, "/dev/termination-log", SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR, 1);
        cr_assert_str_eq(m2, "bye: config missing");
        teardown(&f);
}

Test(termmsg, keeps_the_last_4096_bytes)
{
        struct fixture f;
        _cleanup_free_ char *big = pr_malloc(10001), *m = NULL;

        setup(&f);
        for (int i = 0; i < 10000; i++)
                big[i] = (char)('0' + i % 10);
        big[10000] = '\0';
        put_file(f.root, "msg", big);
        m = get(&f, "/msg", SPEC_TERMINATION_MESSAGE_FILE, 0);
        cr_assert_eq(strlen(m), TERMMSG_MAX_FILE_BYTES);
        cr_assert_str_eq(m, big + 10000 - 4096);
        teardown(&f);
}

Test(termmsg, symlinks_stay_inside_the_root)
{
        struct fixture f;
        _cleanup_free_ char *secret = NULL, *link = NULL, *m = NULL, *m2 = NULL, *m3 = NULL;
        _cleanup_free_ char *updir = NULL;

        setup(&f);
        /* A host file beside the root, which the container must not reach. */
        put_file(f.dir, "secret", "host secret");
        secret = pr_asprintf("%s/secret", f.dir);
        link = pr_asprintf("%s/abs", f.root);
        cr_assert_eq(symlink(secret, link), 0);
        m = get(&f, "/abs", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(m, "");
        free(link);
        link = pr_asprintf("%s/rel", f.root);
        cr_assert_eq(symlink("../secret", link), 0);
        m2 = get(&f, "/rel", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(m2, "");
        m3 = get(&f, "/../secret", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(m3, "");
        /* A symlink inside the root is followed, as the container sees it. */
        put_file(f.root, "real", "inside");
        free(link);
        link = pr_asprintf("%s/inner", f.root);
        cr_assert_eq(symlink("/real", link), 0);
        updir = get(&f, "/inner", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(updir, "inside");
        teardown(&f);
}

Test(termmsg, refuses_a_fifo_without_blocking)
{
        struct fixture f;
        _cleanup_free_ char *fifo = NULL, *m = NULL;

        setup(&f);
        fifo = pr_asprintf("%s/fifo", f.root);
        cr_assert_eq(mkfifo(fifo, 0644), 0);
        m = get(&f, "/fifo", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert(pr_startswith(m, "Error on reading termination log /fifo: "), "%s", m);
        cr_assert(strstr(m, "not a regular file"), "%s", m);
        teardown(&f);
}

Test(termmsg, falls_back_to_the_last_80_lines)
{
        struct fixture f;
        _cleanup_free_ char *m = NULL;
        char want[64];

        setup(&f);
        write_log(&f, 100, 1);
        m = get(&f, "/dev/termination-log", SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR, 2);
        /* Lines 20..99, each "line N 0\n": short enough to fit in 2048 bytes. */
        cr_assert_lt(strlen(m), TERMMSG_LOG_BYTES);
        cr_assert(pr_startswith(m, "line 20 0\n"), "%.40s", m);
        cr_assert(pr_endswith(m, "line 99 0\n"));
        (void)snprintf(want, sizeof(want), "line 19 ");
        cr_assert_null(strstr(m, want));
        teardown(&f);
}

Test(termmsg, fallback_keeps_the_last_2048_bytes)
{
        struct fixture f;
        _cleanup_free_ char *m = NULL;

        setup(&f);
        write_log(&f, 100, 100);
        m = get(&f, "/nothing", SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR, 137);
        cr_assert_eq(strlen(m), TERMMSG_LOG_BYTES);
        cr_assert(pr_endswith(m, "line 99 "
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "0000000000"
                                 "\n"));
        teardown(&f);
}

Test(termmsg, no_fallback_on_success_or_with_file_policy)
{
        struct fixture f;
        _cleanup_free_ char *m = NULL, *m2 = NULL, *m3 = NULL;

        setup(&f);
        write_log(&f, 5, 1);
        m = get(&f, "/dev/termination-log", SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR, 0);
        cr_assert_str_eq(m, "");
        m2 = get(&f, "/dev/termination-log", SPEC_TERMINATION_MESSAGE_FILE, 1);
        cr_assert_str_eq(m2, "");
        /* An empty file falls back too. */
        put_file(f.root, "empty", "");
        m3 = get(&f, "/empty", SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR, 1);
        cr_assert(pr_startswith(m3, "line 0 0\n"), "%s", m3);
        teardown(&f);
}
