#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/proc.h"
#include "pod/base/util.h"

TestSuite(base);

Test(base, error_chain_names_every_object)
{
        struct pr_error err = {};

        cr_assert_eq(pr_err(&err, EACCES, "mount '%s'", "/proc"), -EACCES);
        cr_assert_eq(pr_err_wrap(&err, "container '%s'", "app"), -EACCES);
        cr_assert_eq(pr_err_wrap(&err, "pod '%s'", "web"), -EACCES);
        cr_assert_str_eq(err.msg, "pod 'web': container 'app': mount '/proc': Permission denied");
        cr_assert_not(err.usage);
        cr_assert_eq(pr_err_usage(&err, "bad flag"), -EINVAL);
        cr_assert(err.usage);
        cr_assert_str_eq(err.msg, "bad flag");
}

Test(base, error_accepts_negative_codes_and_null)
{
        struct pr_error err = {};

        cr_assert_eq(pr_err(&err, -ENOENT, "open 'x'"), -ENOENT);
        cr_assert_str_eq(err.msg, "open 'x': No such file or directory");
        cr_assert_eq(pr_err(NULL, ENOENT, "ignored"), -ENOENT);
        cr_assert_eq(pr_err_msg(&err, 0, "no code"), -EIO);
}

Test(base, durations)
{
        uint64_t u;

        cr_assert_eq(pr_parse_duration("100ms", &u), 0);
        cr_assert_eq(u, 100000);
        cr_assert_eq(pr_parse_duration("1.5s", &u), 0);
        cr_assert_eq(u, 1500000);
        cr_assert_eq(pr_parse_duration("1h30m", &u), 0);
        cr_assert_eq(u, 5400 * PR_USEC_PER_SEC);
        cr_assert_eq(pr_parse_duration("250us", &u), 0);
        cr_assert_eq(u, 250);
        cr_assert_eq(pr_parse_duration("", &u), -EINVAL);
        cr_assert_eq(pr_parse_duration("10", &u), -EINVAL);
        cr_assert_eq(pr_parse_duration("s", &u), -EINVAL);
        cr_assert_eq(pr_parse_duration("5x", &u), -EINVAL);
        cr_assert_eq(pr_parse_duration("99999999999999999999h", &u), -ERANGE);
}

Test(base, numbers)
{
        int64_t v;
        uint64_t uv;
        int i;

        cr_assert_eq(pr_parse_i64("-42", &v), 0);
        cr_assert_eq(v, -42);
        cr_assert_eq(pr_parse_i64("42x", &v), -EINVAL);
        cr_assert_eq(pr_parse_i64(" 1", &v), -EINVAL);
        cr_assert_eq(pr_parse_i64("99999999999999999999", &v), -ERANGE);
        cr_assert_eq(pr_parse_u64("-1", &uv), -EINVAL);
        cr_assert_eq(pr_parse_int("70000", 1, 65535, &i), -ERANGE);
        cr_assert_eq(pr_parse_int("8080", 1, 65535, &i), 0);
        cr_assert_eq(i, 8080);
}

Test(base, strv)
{
        _cleanup_strv_free_ char **v = NULL;
        _cleanup_strv_free_ char **c = NULL;

        pr_strv_push(&v, "a");
        pr_strv_push(&v, "b");
        cr_assert_eq(pr_strv_len(v), 2);
        c = pr_strv_copy(v);
        cr_assert_str_eq(c[1], "b");
        cr_assert_null(c[2]);
}

Test(base, rfc3339_nano_utc)
{
        char buf[PR_RFC3339_MAX];

        pr_format_rfc3339_nsec(0, 5, buf);
        cr_assert_str_eq(buf, "1970-01-01T00:00:00.000000005Z");
        pr_format_rfc3339_usec(UINT64_C(1796022211123456), buf);
        cr_assert_str_eq(buf, "2026-11-30T07:03:31.123456000Z");
}

Test(base, atomic_write_then_read)
{
        char dir[] = "/tmp/podrun-test-XXXXXX";
        struct pr_error err = {};
        _cleanup_free_ char *path = NULL, *data = NULL, *nested = NULL, *link = NULL;
        size_t len;

        cr_assert_not_null(mkdtemp(dir));
        path = pr_asprintf("%s/state.json", dir);
        cr_assert_eq(pr_write_file_atomic(path, "{}", 2, 0600, &err), 0, "%s", err.msg);
        cr_assert_eq(pr_read_file(path, 16, &data, &len, &err), 0, "%s", err.msg);
        cr_assert_str_eq(data, "{}");
        cr_assert_eq(len, 2);
        cr_assert_eq(pr_read_file(path, 1, &data, &len, &err), -EFBIG);
        nested = pr_asprintf("%s/a/b/c", dir);
        cr_assert_eq(pr_mkdir_p(nested, 0755, &err), 0, "%s", err.msg);
        link = pr_asprintf("%s/a/link", dir);
        cr_assert_eq(symlink("/etc", link), 0);
        cr_assert_eq(pr_rm_rf(dir, &err), 0, "%s", err.msg);
        cr_assert_eq(access(dir, F_OK), -1);
        cr_assert_eq(access("/etc/hostname", F_OK), 0, "rm -rf followed a symlink");
}

Test(base, proc_stat_names_a_process_by_start_time)
{
        struct pr_error err = {};
        uint64_t self_start, child_start;
        char state;
        pid_t child;

        cr_assert_eq(pr_proc_stat(getpid(), &state, &self_start, &err), 0, "%s", err.msg);
        cr_assert_eq(state, 'R');
        child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        cr_assert_eq(pr_proc_stat(child, NULL, &child_start, &err), 0, "%s", err.msg);
        cr_assert_geq(child_start, self_start);
        (void)kill(child, SIGKILL);
        (void)waitpid(child, NULL, 0);
        cr_assert_eq(pr_proc_stat(child, &state, &child_start, &err), -ESRCH);
}

Test(base, proc_stat_survives_a_hostile_comm)
{
        struct pr_error err = {};
        uint64_t before, after;

        cr_assert_eq(pr_proc_stat(getpid(), NULL, &before, &err), 0, "%s", err.msg);
        /* A command name with ") Z 1 2" must not shift the fields. */
        cr_assert_eq(prctl(PR_SET_NAME, "x) Z 1 2 3"), 0);
        cr_assert_eq(pr_proc_stat(getpid(), NULL, &after, &err), 0, "%s", err.msg);
        cr_assert_eq(before, after);
}

Test(base, boot_id)
{
        struct pr_error err = {};
        char id[PR_BOOT_ID_MAX];

        cr_assert_eq(pr_read_boot_id(id, &err), 0, "%s", err.msg);
        cr_assert_eq(strlen(id), 36, "boot id '%s'", id);
        cr_assert_null(strchr(id, '\n'));
}
