/* Unit tests of the cgroup module: kubelet's conversions, the limit mapping
 * from a container spec, path layout and the v2 limit files, written into a
 * directory tree laid out like a cgroup2 hierarchy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "specs/specs.h"

TestSuite(cgroup);

Test(cgroup, mode_strings_round_trip)
{
        for (int m = 0; m < _CG_MODE_MAX; m++)
                cr_assert_eq(cg_mode_from_string(cg_mode_to_string((enum cg_mode)m)), m);
        cr_assert_str_eq(cg_mode_to_string(CG_MODE_V2), "v2");
        cr_assert_null(cg_mode_to_string(_CG_MODE_MAX));
        cr_assert_eq(cg_mode_from_string("v3"), _CG_MODE_INVALID);
        cr_assert_eq(cg_mode_from_string(NULL), _CG_MODE_INVALID);
}

Test(cgroup, kubelet_cpu_conversions)
{
        cr_assert_eq(cg_cpu_shares_from_milli(0), 2);
        cr_assert_eq(cg_cpu_shares_from_milli(1), 2);
        cr_assert_eq(cg_cpu_shares_from_milli(100), 102);
        cr_assert_eq(cg_cpu_shares_from_milli(250), 256);
        cr_assert_eq(cg_cpu_shares_from_milli(1000), 1024);
        cr_assert_eq(cg_cpu_shares_from_milli(1000000), 262144);
        cr_assert_eq(cg_cpu_shares_from_milli(INT64_MAX), 262144);

        cr_assert_eq(cg_cpu_quota_from_milli(0), 0);
        cr_assert_eq(cg_cpu_quota_from_milli(5), 1000);
        cr_assert_eq(cg_cpu_quota_from_milli(500), 50000);
        cr_assert_eq(cg_cpu_quota_from_milli(2000), 200000);

        cr_assert_eq(cg_cpu_weight_from_shares(2), 1);
        cr_assert_eq(cg_cpu_weight_from_shares(1024), 39);
        cr_assert_eq(cg_cpu_weight_from_shares(256), 10);
        cr_assert_eq(cg_cpu_weight_from_shares(262144), 10000);
        cr_assert_eq(cg_cpu_weight_from_shares(0), 1);
}

static void set_quantity(struct spec_quantity *q, const char *text)
{
        cr_assert_eq(spec_quantity_parse(text, q), 0, "%s", text);
}

Test(cgroup, limits_from_container)
{
        struct spec_container c = {};
        struct cg_options opts = {};
        struct cg_limits l;

        cg_limits_from_container(&c, NULL, &l);
        cr_assert_eq(l.memory_bytes, 0);
        cr_assert_eq(l.cpu_quota_usec, 0);
        cr_assert_eq(l.cpu_shares, 2);
        cr_assert_eq(l.pids_max, CG_PIDS_MAX_DEFAULT);
        cr_assert(l.restrict_devices);

        set_quantity(&c.resources.limits.memory, "50Mi");
        set_quantity(&c.resources.limits.cpu, "500m");
        cg_limits_from_container(&c, NULL, &l);
        cr_assert_eq(l.memory_bytes, 50 * 1024 * 1024);
        cr_assert_eq(l.cpu_quota_usec, 50000);
        /* No request: the limit stands in for it, as kubelet does. */
        cr_assert_eq(l.cpu_shares, 512);

        set_quantity(&c.resources.requests.cpu, "0.25");
        opts.pids_max = 64;
        c.security_context.privileged = true;
        cg_limits_from_container(&c, &opts, &l);
        cr_assert_eq(l.cpu_shares, 256);
        cr_assert_eq(l.pids_max, 64);
        cr_assert_not(l.restrict_devices);
        opts.pids_max = -1;
        cg_limits_from_container(&c, &opts, &l);
        cr_assert_eq(l.pids_max, 0);
        spec_quantity_done(&c.resources.limits.memory);
        spec_quantity_done(&c.resources.limits.cpu);
        spec_quantity_done(&c.resources.requests.cpu);
}

static void resources(struct spec_container *c, const char *mem, const char *cpu_limit,
                      const char *cpu_request)
{
        if (mem)
                set_quantity(&c->resources.limits.memory, mem);
        if (cpu_limit)
                set_quantity(&c->resources.limits.cpu, cpu_limit);
        if (cpu_request)
                set_quantity(&c->resources.requests.cpu, cpu_request);
}

static void resources_done(struct spec_container *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                spec_quantity_done(&c[i].resources.limits.memory);
                spec_quantity_done(&c[i].resources.limits.cpu);
                spec_quantity_done(&c[i].resources.requests.cpu);
        }
}

Test(cgroup, pod_limits_as_kubelet_sums_them)
{
        struct spec_container app[2] = {}, init[2] = {};
        struct spec_pod pod = {.n_containers = 2, .containers = app};
        struct cg_limits l;

        resources(&app[0], "50Mi", "500m", "100m");
        resources(&app[1], "100Mi", "250m", "200m");
        cg_limits_from_pod(&pod, &l);
        cr_assert_eq(l.memory_bytes, 150 << 20);
        cr_assert_eq(l.cpu_quota_usec, 75000);
        cr_assert_eq(l.cpu_shares, cg_cpu_shares_from_milli(300));
        cr_assert_eq(l.pids_max, 0);
        cr_assert_not(l.restrict_devices);

        /* A larger init container sets the pod's need. */
        resources(&init[0], "200Mi", "2", NULL);
        pod.n_init_containers = 1;
        pod.init_containers = init;
        cg_limits_from_pod(&pod, &l);
        cr_assert_eq(l.memory_bytes, 200 << 20);
        cr_assert_eq(l.cpu_quota_usec, 200000);
        /* A request-less container counts its limit as request. */
        cr_assert_eq(l.cpu_shares, cg_cpu_shares_from_milli(2000));

        /* A sidecar runs beside the later init container and the apps. */
        resources_done(init, 1);
        memset(init, 0, sizeof(init));
        resources(&init[0], "10Mi", "100m", NULL);
        init[0].has_restart_policy = true;
        init[0].restart_policy = SPEC_RESTART_ALWAYS;
        resources(&init[1], "200Mi", "100m", NULL);
        pod.n_init_containers = 2;
        cg_limits_from_pod(&pod, &l);
        cr_assert_eq(l.memory_bytes, 210 << 20);
        cr_assert_eq(l.cpu_quota_usec, 85000);

        /* One unlimited container: no pod limit. */
        spec_quantity_done(&app[1].resources.limits.memory);
        cg_limits_from_pod(&pod, &l);
        cr_assert_eq(l.memory_bytes, 0);
        cr_assert_eq(l.cpu_quota_usec, 85000);
        resources_done(app, 2);
        resources_done(init, 2);
}

static char tree[64];

static void make_tree(void)
{
        strcpy(tree, "/tmp/podrun-cgtest-XXXXXX");
        cr_assert_not_null(mkdtemp(tree));
}

static void remove_tree(void)
{
        struct pr_error err = {};

        if (tree[0])
                (void)pr_rm_rf(tree, &err);
        tree[0] = '\0';
}

static char *read_text(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        struct pr_error err = {};
        char *data = NULL;

        if (pr_read_file(path, 4096, &data, NULL, &err) < 0)
                return NULL;
        return data;
}

static void touch(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        cr_assert_geq(fd, 0, "%s", path);
        close(fd);
}

static void assert_file(const char *dir, const char *file, const char *want)
{
        _cleanup_free_ char *got = read_text(dir, file);

        cr_assert_not_null(got, "%s/%s missing", dir, file);
        cr_assert_str_eq(got, want, "%s: '%s' != '%s'", file, got, want);
}

Test(cgroup, v2_tree_layout_and_limit_files, .init = make_tree, .fini = remove_tree)
{
        static const char *const files[] = {"memory.max", "memory.swap.max", "cpu.max",
                                            "cpu.weight", "pids.max",        "cgroup.procs"};
        struct cg_options opts = {.root = tree, .parent = "/podrun/test", .mode = CG_MODE_V2};
        struct cg_limits l = {.memory_bytes = 52428800,
                              .cpu_quota_usec = 50000,
                              .cpu_shares = 256,
                              .pids_max = 64,
                              .restrict_devices = true};
        struct pr_error err = {};
        struct cg *pod = NULL, *ctr = NULL, *again = NULL;
        _cleanup_free_ char *want_pod = pr_asprintf("%s/podrun/test/pod-web", tree);
        _cleanup_free_ char *want_ctr = pr_asprintf("%s/ctr-app", want_pod);
        _cleanup_free_ char *podrun = pr_asprintf("%s/podrun", tree);
        uint64_t ooms = 99;

        touch(tree, "cgroup.subtree_control");
        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_get_mode(pod), CG_MODE_V2);
        cr_assert_str_eq(cg_get_path(pod, "unified"), want_pod);
        cr_assert_null(cg_get_path(pod, "memory"));
        /* Controllers are enabled from the hierarchy's root down to the
         * pod (a fake file keeps the last one written); creating twice is
         * fine. */
        assert_file(tree, "cgroup.subtree_control", "+pids");
        touch(podrun, "cgroup.subtree_control");
        touch(want_pod, "cgroup.subtree_control");
        cg_free(pod);
        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), 0, "%s", err.msg);
        assert_file(podrun, "cgroup.subtree_control", "+pids");
        assert_file(want_pod, "cgroup.subtree_control", "+pids");

        /* No limit files (no controllers): skipped, not an error. */
        cr_assert_eq(cg_container_create(pod, "app", &l, &ctr, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cg_get_path(ctr, "unified"), want_ctr);
        for (size_t i = 0; i < PR_ELEMENTSOF(files); i++)
                touch(want_ctr, files[i]);
        cr_assert_eq(cg_apply_limits(ctr, &l, &err), 0, "%s", err.msg);
        assert_file(want_ctr, "memory.max", "52428800");
        assert_file(want_ctr, "memory.swap.max", "0");
        assert_file(want_ctr, "cpu.max", "50000 100000");
        assert_file(want_ctr, "cpu.weight", "10");
        assert_file(want_ctr, "pids.max", "64");

        cr_assert_eq(cg_attach(ctr, 12345, &err), 0, "%s", err.msg);
        assert_file(want_ctr, "cgroup.procs", "12345");
        cr_assert_eq(cg_after_clone(ctr, 678, &err), 0, "%s", err.msg);
        assert_file(want_ctr, "cgroup.procs", "678");
        /* No memory.events: nothing known, zero. */
        cr_assert_eq(cg_oom_kill_count(ctr, &ooms, &err), 0);
        cr_assert_eq(ooms, 0);

        /* `down` after a crash finds the same place from the name alone,
         * and `exec` the container's. */
        cr_assert_eq(cg_pod_open(&opts, "web", &again, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cg_get_path(again, "unified"), want_pod);
        cg_free(ctr);
        ctr = NULL;
        cr_assert_eq(cg_container_open(again, "app", &ctr, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cg_get_path(ctr, "unified"), want_ctr);
        cg_free(again);
        cr_assert_eq(cg_container_open(pod, "nothere", &again, &err), 0, "%s", err.msg);
        cr_assert_eq(access(cg_get_path(again, "unified"), F_OK), -1);
        cg_free(again);
        cg_free(ctr);
        cg_free(pod);
}

Test(cgroup, v2_oom_counter_is_read_from_memory_events, .init = make_tree, .fini = remove_tree)
{
        struct cg_options opts = {.root = tree, .parent = "/", .mode = CG_MODE_V2};
        struct cg_limits l = {};
        struct pr_error err = {};
        struct cg *pod = NULL, *ctr = NULL;
        _cleanup_free_ char *events = NULL;
        uint64_t ooms = 0, base;
        FILE *f;

        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), 0, "%s", err.msg);
        cr_assert_eq(cg_container_create(pod, "hog", &l, &ctr, &err), 0, "%s", err.msg);
        events = pr_asprintf("%s/memory.events", cg_get_path(ctr, "unified"));
        f = fopen(events, "we");
        cr_assert_not_null(f);
        fputs("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n", f);
        fclose(f);
        cr_assert_eq(cg_oom_kill_count(ctr, &ooms, &err), 0, "%s", err.msg);
        cr_assert_eq(ooms, 2);
        /* The supervisor's question after an exit: did it grow? */
        base = 1;
        cr_assert_eq(cg_oom_killed_since(ctr, &base, &err), 1);
        cr_assert_eq(base, 2);
        cr_assert_eq(cg_oom_killed_since(ctr, &base, &err), 0);
        cr_assert_eq(base, 2);
        f = fopen(events, "we");
        fputs("oom_kill x\n", f);
        fclose(f);
        cr_assert_eq(cg_oom_kill_count(ctr, &ooms, &err), -EBADMSG);
        cr_assert(strstr(err.msg, "container 'hog'") == err.msg, "%s", err.msg);
        cg_free(ctr);
        cg_free(pod);
}

Test(cgroup, names_and_parents_are_checked, .init = make_tree, .fini = remove_tree)
{
        struct cg_options opts = {.root = tree, .parent = "/podrun/../../etc", .mode = CG_MODE_V2};
        struct pr_error err = {};
        struct cg *pod = NULL, *ctr = NULL;

        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), -EINVAL);
        cr_assert(err.usage);
        cr_assert_str_eq(err.msg, "pod 'web': cgroup parent '/podrun/../../etc': '..' is not "
                                  "allowed");
        cr_assert_null(pod);
        opts.parent = NULL;
        cr_assert_eq(cg_pod_create(&opts, "../x", &pod, &err), -EINVAL);
        cr_assert_eq(cg_pod_create(&opts, "", &pod, &err), -EINVAL);
        cr_assert_eq(cg_pod_create(&opts, "web", &pod, &err), 0, "%s", err.msg);
        cr_assert(pr_endswith(cg_get_path(pod, "unified"), "/podrun/pod-web"));
        cr_assert_eq(cg_container_create(pod, "a/b", &(struct cg_limits){}, &ctr, &err), -EINVAL);
        cr_assert_null(ctr);
        cg_free(pod);
}

Test(cgroup, detect_refuses_a_plain_directory, .init = make_tree, .fini = remove_tree)
{
        struct pr_error err = {};
        enum cg_mode m = CG_MODE_AUTO;

        cr_assert_eq(cg_detect(tree, &m, &err), -ENOMEDIUM);
        cr_assert_eq(m, CG_MODE_AUTO);
}
