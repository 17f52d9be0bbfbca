/* userns.c: the pool from a subuid-style file, and the allocation of user ID
 * ranges in a temporary directory: distinct ranges, exhaustion, release,
 * stale ranges reclaimed, an owner getting its own range back, and many
 * processes allocating at once. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/userns.h"

static char tmp[64];
static char *dir;

static void setup(void)
{
        strcpy(tmp, "/tmp/podrun-userns-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        dir = pr_asprintf("%s/userns", tmp);
}

static void teardown(void)
{
        struct pr_error err = {};

        cr_expect_eq(pr_rm_rf(tmp, &err), 0, "%s", err.msg);
        free(dir);
}

TestSuite(userns, .init = setup, .fini = teardown, .timeout = 30);

/* A pod's run dir: a range lives while it exists. */
static char *pod_dir(const char *name)
{
        char *p = pr_asprintf("%s/pods/%s", tmp, name);
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(p, 0755, &err), 0, "%s", err.msg);
        return p;
}

static uint32_t alloc(const struct userns_pool *pool, const char *name)
{
        _cleanup_free_ char *owner_dir = pod_dir(name);
        struct pr_error err = {};
        uint32_t start = 0;

        cr_assert_eq(userns_alloc(dir, pool, name, owner_dir, &start, &err), 0, "%s", err.msg);
        return start;
}

static char *ranges_file(void)
{
        _cleanup_free_ char *path = pr_asprintf("%s/ranges", dir);
        struct pr_error err = {};
        char *text = NULL;

        cr_assert_eq(pr_read_file(path, 1 << 20, &text, NULL, &err), 0, "%s", err.msg);
        return text;
}

static void write_text(const char *path, const char *text)
{
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
}

Test(userns, pool_default_and_configured)
{
        _cleanup_free_ char *path = pr_asprintf("%s/subuid", tmp);
        struct userns_pool pool = {};
        struct pr_error err = {};

        cr_assert_eq(userns_pool_load(path, &pool, &err), 0, "%s", err.msg);
        cr_expect_eq(pool.base, USERNS_BASE_DEFAULT);
        cr_expect_eq(pool.count, USERNS_COUNT_DEFAULT);
        cr_expect_eq(pool.base % USERNS_RANGE_SIZE, 0);

        write_text(path, "alice:100000:65536\n");
        cr_assert_eq(userns_pool_load(path, &pool, &err), 0, "%s", err.msg);
        cr_expect_eq(pool.base, USERNS_BASE_DEFAULT);

        write_text(path, "alice:100000:65536\npodrun:2097152:131072\n");
        cr_assert_eq(userns_pool_load(path, &pool, &err), 0, "%s", err.msg);
        cr_expect_eq(pool.base, 2097152);
        cr_expect_eq(pool.count, 131072);
}

Test(userns, pool_misaligned_refused)
{
        _cleanup_free_ char *path = pr_asprintf("%s/subuid", tmp);
        static const char *const bad[] = {"podrun:100000:65536\n", "podrun:65536:1000\n",
                                          "podrun:65536\n", "podrun:x:65536\n",
                                          "podrun:4294901760:131072\n"};

        for (size_t i = 0; i < PR_ELEMENTSOF(bad); i++) {
                struct userns_pool pool = {};
                struct pr_error err = {};

                write_text(path, bad[i]);
                cr_expect_eq(userns_pool_load(path, &pool, &err), -EINVAL, "%s", bad[i]);
                cr_expect(strstr(err.msg, "podrun:START:COUNT"), "%s", err.msg);
        }
}

Test(userns, distinct_then_exhausted)
{
        struct userns_pool pool = {.base = 1 << 20, .count = 3 * USERNS_RANGE_SIZE};
        struct pr_error err = {};
        _cleanup_free_ char *d = pod_dir("d"), *text = NULL;
        uint32_t a = alloc(&pool, "a"), b = alloc(&pool, "b"), c = alloc(&pool, "c"), s = 0;

        cr_expect_eq(a, 1 << 20);
        cr_expect_eq(b, (1 << 20) + USERNS_RANGE_SIZE);
        cr_expect_eq(c, (1 << 20) + 2 * USERNS_RANGE_SIZE);
        cr_expect_eq(userns_alloc(dir, &pool, "d", d, &s, &err), -ENOSPC);
        cr_expect(strstr(err.msg, "user ID range for 'd': no free range of 65536"), "%s", err.msg);
        /* The file says who holds what, /etc/subuid style first. */
        text = ranges_file();
        cr_expect(pr_startswith(text, "a:1048576:65536:"), "%s", text);
        cr_expect(strstr(text, "\nc:1179648:65536:"), "%s", text);
}

Test(userns, release_and_reuse)
{
        struct userns_pool pool = {.base = 1 << 20, .count = 2 * USERNS_RANGE_SIZE};
        struct pr_error err = {};
        uint32_t a = alloc(&pool, "a"), b = alloc(&pool, "b"), s = 0;

        /* The same owner gets its own range back, not a second one. */
        cr_expect_eq(alloc(&pool, "a"), a);
        cr_assert_eq(userns_release(dir, "a", &err), 0, "%s", err.msg);
        cr_assert_eq(userns_release(dir, "a", &err), 0, "twice: %s", err.msg);
        cr_expect_eq(userns_lookup(dir, "a", &s, &err), -ENOENT);
        cr_expect_eq(userns_lookup(dir, "b", &s, &err), 0);
        cr_expect_eq(s, b);
        cr_expect_eq(alloc(&pool, "e"), a);
        /* Releasing in a directory that was never made is nothing to do. */
        {
                _cleanup_free_ char *none = pr_asprintf("%s/none", tmp);

                cr_expect_eq(userns_release(none, "a", &err), 0, "%s", err.msg);
        }
}

Test(userns, stale_reclaimed)
{
        struct userns_pool pool = {.base = 1 << 20, .count = 2 * USERNS_RANGE_SIZE};
        _cleanup_free_ char *path = NULL, *gone = NULL, *live = NULL, *text = NULL;
        _cleanup_free_ char *boot = NULL;
        struct pr_error err = {};

        /* One range of another boot, one whose pod dir is gone: both free. */
        cr_assert_eq(pr_read_file("/proc/sys/kernel/random/boot_id", 64, &boot, NULL, &err), 0);
        boot[strcspn(boot, "\n")] = '\0';
        live = pod_dir("old");
        gone = pr_asprintf("%s/pods/gone", tmp);
        path = pr_asprintf("%s/ranges", dir);
        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0, "%s", err.msg);
        text = pr_asprintf("old:1048576:65536:00000000-0000-0000-0000-000000000000:%s\n"
                           "gone:1114112:65536:%s:%s\n",
                           live, boot, gone);
        write_text(path, text);
        cr_expect_eq(alloc(&pool, "x"), 1 << 20);
        cr_expect_eq(alloc(&pool, "y"), (1 << 20) + USERNS_RANGE_SIZE);
        free(text);
        text = ranges_file();
        cr_expect_not(strstr(text, "old:") || strstr(text, "gone:"), "%s", text);
}

Test(userns, unreadable_file_refused)
{
        struct userns_pool pool = {.base = 1 << 20, .count = 2 * USERNS_RANGE_SIZE};
        _cleanup_free_ char *path = pr_asprintf("%s/ranges", dir), *d = pod_dir("x");
        struct pr_error err = {};
        uint32_t s = 0;

        cr_assert_eq(pr_mkdir_p(dir, 0755, &err), 0, "%s", err.msg);
        write_text(path, "garbage\n");
        cr_expect_eq(userns_alloc(dir, &pool, "x", d, &s, &err), -EBADMSG);
        cr_expect(strstr(err.msg, "line 1 is not a range"), "%s", err.msg);
}

/* Many processes at once, each its own pod: every range distinct. */
Test(userns, concurrent_allocations_distinct)
{
        enum { N = 16 };
        struct userns_pool pool = {.base = 1 << 20, .count = 64 * USERNS_RANGE_SIZE};
        uint32_t starts[N];
        int pipes[N][2];
        pid_t pids[N];

        for (int i = 0; i < N; i++) {
                char name[16];

                (void)snprintf(name, sizeof(name), "p%d", i);
                cr_assert_eq(pipe2(pipes[i], O_CLOEXEC), 0);
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        _cleanup_free_ char *d = pr_asprintf("%s/pods/%s", tmp, name);
                        struct pr_error err = {};
                        uint32_t s = 0;

                        if (pr_mkdir_p(d, 0755, &err) < 0 ||
                            userns_alloc(dir, &pool, name, d, &s, &err) < 0)
                                _exit(1);
                        _exit(write(pipes[i][1], &s, sizeof(s)) == sizeof(s) ? 0 : 1);
                }
                (void)close(pipes[i][1]);
        }
        for (int i = 0; i < N; i++) {
                int status = 0;

                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
                cr_assert_eq(read(pipes[i][0], &starts[i], sizeof(starts[i])), sizeof(starts[i]));
                (void)close(pipes[i][0]);
        }
        for (int i = 0; i < N; i++) {
                cr_expect_eq(starts[i] % USERNS_RANGE_SIZE, 0);
                for (int j = 0; j < i; j++)
                        cr_expect_neq(starts[i], starts[j], "p%d and p%d share %u", i, j,
                                      starts[i]);
        }
}

Test(userns, dir_of_plan)
{
        struct spec_pod spec = {};
        struct pod_plan plan = {.run_dir = (char *)"/run/podrun/pods/web", .spec = &spec};
        _cleanup_free_ char *d = userns_dir(&plan);

        cr_expect_str_eq(d, "/run/podrun/userns");
        cr_expect_not(userns_wanted(&plan));
        spec.host_users = (struct spec_opt_bool){.set = true, .value = true};
        cr_expect_not(userns_wanted(&plan));
        spec.host_users.value = false;
        cr_expect(userns_wanted(&plan));
        plan.spec = NULL;
        cr_expect_not(userns_wanted(&plan));
}
