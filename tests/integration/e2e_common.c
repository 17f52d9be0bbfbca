/* The end-to-end tests' fixture: see e2e_common.h. Runs as root in the
 * test's own mount and network namespace; never touches what lies outside
 * the test's temp dir and its cgroup parent. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "tests/integration/e2e_common.h"

/* timeout(1)'s status when the command ran out of time. */
#define TIMED_OUT 124

char e2e_tmp[64];
char e2e_cg_parent[64];
char *e2e_podrun, *e2e_root_dir, *e2e_run_dir, *e2e_netns_dir;

void e2e_out_done(struct e2e_out *o)
{
        free(o->text);
}

void e2e_import_busybox(const char *root)
{
        _cleanup_free_ char *import = pr_asprintf("%s/.ci/busybox-image %s %s >/dev/null",
                                                  getenv("PODRUN_SOURCE_DIR"), e2e_podrun, root);

        cr_assert_eq(system(import), 0, "importing the busybox image into '%s' failed", root);
}

void e2e_setup(const char *tag)
{
        const char *build = getenv("PODRUN_BUILD_DIR"), *src = getenv("PODRUN_SOURCE_DIR");
        struct pr_error err = {};

        if (geteuid() != 0)
                cr_skip_test("needs root");
        if (!build || !src)
                cr_skip_test("PODRUN_BUILD_DIR and PODRUN_SOURCE_DIR are not set");
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
                cr_skip_test("unshare: %s", strerror(errno));
        cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        /* Relative: the pods' cgroups nest beneath this test's own. */
        (void)snprintf(e2e_cg_parent, sizeof(e2e_cg_parent), "podrun-%s-%d", tag, (int)getpid());
        (void)snprintf(e2e_tmp, sizeof(e2e_tmp), "/tmp/podrun-%s-XXXXXX", tag);
        cr_assert_not_null(mkdtemp(e2e_tmp));
        e2e_podrun = pr_asprintf("%s/pod/cli/podrun", build);
        e2e_root_dir = pr_asprintf("%s/root", e2e_tmp);
        e2e_run_dir = pr_asprintf("%s/run", e2e_tmp);
        e2e_netns_dir = pr_asprintf("%s/netns", e2e_tmp);
        cr_assert_eq(pr_mkdir_p(e2e_run_dir, 0755, &err), 0, "%s", err.msg);
        e2e_import_busybox(e2e_root_dir);
}

/* Deepest first, by repeating: a mount may hide another beneath it. */
static void detach_mounts_under(const char *prefix)
{
        for (int pass = 0; pass < 8; pass++) {
                _cleanup_free_ char *info = NULL;
                struct pr_error err = {};
                bool any = false;
                char *save = NULL;

                if (pr_read_file("/proc/self/mountinfo", 1 << 22, &info, NULL, &err) < 0)
                        return;
                for (char *l = strtok_r(info, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char mp[512];

                        if (sscanf(l, "%*s %*s %*s %*s %511s", mp) == 1 &&
                            pr_startswith(mp, prefix) && umount2(mp, MNT_DETACH) == 0)
                                any = true;
                }
                if (!any)
                        return;
        }
}

void e2e_teardown(void)
{
        _cleanup_free_ char *rmdir_parent = NULL;
        _cleanup_strv_free_ char **names = NULL;
        struct pr_error err = {};

        if (!e2e_run_dir)
                return;
        if (state_list(e2e_run_dir, &names, &err) >= 0)
                for (size_t i = 0; names[i]; i++) {
                        struct e2e_out o = e2e_podrun("down %s", names[i]);
                        e2e_out_done(&o);
                }
        detach_mounts_under(e2e_tmp);
        (void)pr_rm_rf(e2e_tmp, &err);
        rmdir_parent = pr_asprintf("find /sys/fs/cgroup -maxdepth 6 -type d -name '%s' "
                                   "-exec rmdir {} + 2>/dev/null",
                                   e2e_cg_parent);
        (void)!system(rmdir_parent);
        free(e2e_podrun);
        free(e2e_root_dir);
        free(e2e_run_dir);
        free(e2e_netns_dir);
}

struct e2e_out e2e_shell(const char *cmd)
{
        struct e2e_out o = {};
        size_t len = 0, cap = 4096;
        FILE *f;
        int n, st;

        f = popen(cmd, "r");
        cr_assert_not_null(f);
        o.text = pr_malloc(cap);
        while ((n = (int)fread(o.text + len, 1, cap - len - 1, f)) > 0) {
                len += (size_t)n;
                if (cap - len < 2)
                        o.text = pr_realloc(o.text, cap *= 2);
        }
        o.text[len] = '\0';
        st = pclose(f);
        o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return o;
}

char *e2e_podrun_prefix(const char *root)
{
        return pr_asprintf("env PODRUN_NETNS_DIR=%s PODRUN_CGROUP_PARENT=%s %s --root %s "
                           "--run-dir %s",
                           e2e_netns_dir, e2e_cg_parent, e2e_podrun, root, e2e_run_dir);
}

struct e2e_out e2e_podrun_root(const char *root, const char *fmt, ...)
{
        _cleanup_free_ char *args = NULL, *prefix = e2e_podrun_prefix(root), *cmd = NULL;
        struct e2e_out o;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&args, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0);
        cmd = pr_asprintf("timeout -k 5 %d %s %s 2>&1", E2E_CMD_TIMEOUT_SEC, prefix, args);
        o = e2e_shell(cmd);
        cr_assert_neq(o.status, TIMED_OUT, "podrun %s: still running after %d s: %s", args,
                      E2E_CMD_TIMEOUT_SEC, o.text);
        return o;
}

char *e2e_write_manifest(const char *name, const char *text)
{
        char *path = pr_asprintf("%s/%s.yaml", e2e_tmp, name);
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(path, text, strlen(text), 0644, &err), 0, "%s", err.msg);
        return path;
}

struct pod_state *e2e_read_state(const char *name)
{
        _cleanup_free_ char *path = state_path(e2e_run_dir, name);
        struct pod_state *st = NULL;
        struct pr_error err = {};

        cr_assert_eq(state_read(path, &st, &err), 0, "%s", err.msg);
        return st;
}

struct pod_state *e2e_wait_state(const char *name, bool (*done)(const struct pod_state *st),
                                 unsigned seconds, const char *what)
{
        uint64_t start = pr_now_mono_usec();
        struct pod_state *st;

        for (;;) {
                st = e2e_read_state(name);
                if (done(st))
                        return st;
                st = state_free(st);
                cr_assert_lt(pr_now_mono_usec() - start, seconds * PR_USEC_PER_SEC,
                             "pod '%s': %s after %u s", name, what, seconds);
                usleep(20000);
        }
}

void e2e_wait_gone(const struct state_proc *p, unsigned seconds)
{
        uint64_t start = pr_now_mono_usec();

        while (state_proc_alive(p)) {
                cr_assert_lt(pr_now_mono_usec() - start, seconds * PR_USEC_PER_SEC,
                             "pid %d still runs after %u s", (int)p->pid, seconds);
                usleep(10000);
        }
}

json_object *e2e_jget(json_object *o, const char *path)
{
        _cleanup_free_ char *copy = pr_strdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (json_object_is_type(o, json_type_array))
                        o = json_object_array_get_idx(o, (size_t)atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        }
        return o;
}

void e2e_down(const char *root, const char *name, const struct pod_state *st)
{
        struct e2e_out down = e2e_podrun_root(root, "down %s", name);

        cr_assert_eq(down.status, 0, "down '%s': %s", name, down.text);
        e2e_out_done(&down);
        e2e_assert_clean(root, name, st);
}

/* The first mountinfo line naming a path under the temp dir, but for a
 * mount at except; NULL when there is none. */
static char *mount_left(const char *except)
{
        _cleanup_free_ char *data = NULL;
        struct pr_error err = {};
        char *save = NULL;

        cr_assert_eq(pr_read_file("/proc/self/mountinfo", 1 << 22, &data, NULL, &err), 0, "%s",
                     err.msg);
        for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char mp[512];

                if (!strstr(l, e2e_tmp))
                        continue;
                if (except && sscanf(l, "%*s %*s %*s %*s %511s", mp) == 1 && pr_streq(mp, except))
                        continue;
                return pr_strdup(l);
        }
        return NULL;
}

/* A directory at most depth levels below dir whose path ends in suffix. */
static char *find_dir(const char *dir, const char *suffix, int depth)
{
        struct dirent *de;
        char *found = NULL;
        DIR *d;

        if (pr_endswith(dir, suffix))
                return pr_strdup(dir);
        if (depth == 0 || !(d = opendir(dir)))
                return NULL;
        while (!found && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = pr_asprintf("%s/%s", dir, de->d_name);
                found = find_dir(sub, suffix, depth - 1);
        }
        closedir(d);
        return found;
}

static void assert_procs_gone(const struct pod_state *st)
{
        cr_assert_not(state_proc_alive(&st->supervisor), "the supervisor is still running");
        cr_assert_not(state_proc_alive(&st->infra), "the infra is still running");
        for (size_t i = 0; i < st->n_containers; i++)
                cr_assert_not(state_proc_alive(&st->containers[i].proc),
                              "container '%s' is still running", st->containers[i].name);
}

void e2e_assert_clean(const char *root, const char *name, const struct pod_state *st)
{
        _cleanup_free_ char *pod_dir = state_pod_dir(e2e_run_dir, name);
        _cleanup_free_ char *logs = pr_asprintf("%s/pods/%s", root, name);
        _cleanup_free_ char *netns = pr_asprintf("%s/podrun-%s", e2e_netns_dir, name);
        _cleanup_free_ char *cg = pr_asprintf("/%s/pod-%s", e2e_cg_parent, name);
        _cleanup_free_ char *mount = mount_left(pr_streq(root, e2e_root_dir) ? NULL : root);
        _cleanup_free_ char *cg_left = find_dir("/sys/fs/cgroup", cg, 8);

        cr_assert_eq(access(pod_dir, F_OK), -1, "'%s' is left", pod_dir);
        cr_assert_eq(access(logs, F_OK), -1, "'%s' is left", logs);
        cr_assert_eq(access(netns, F_OK), -1, "'%s' is left", netns);
        cr_assert_null(mount, "a mount under '%s' is left: %s", e2e_tmp, mount);
        cr_assert_null(cg_left, "the cgroup '%s' is left", cg_left);
        if (st)
                assert_procs_gone(st);
}
