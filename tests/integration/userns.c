/* hostUsers: false, checked from inside and from the host: pods built by
 * hand as the runtime tests build them (infra_start() and ctr_spawn() on a
 * plan with spec.hostUsers false), running the probe. Inside, the container
 * is root and the image's files are root's; outside, it is the pod's range
 * of host IDs, and its capabilities reach nothing of the host. Two pods get
 * disjoint ranges, and down gives them back and leaves nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/state.h"
#include "pod/userns.h"
#include "tests/integration/runtime_common.h"

TestSuite(userns, .init = t_setup, .fini = t_teardown, .timeout = 60);

#define INSIDE_SCRIPT                                                                              \
        "sh|-c|/probe id; /probe cat /proc/self/uid_map; echo PROBE $(/probe stat /probe);"        \
        " echo BUSYBOX $(/probe stat /bin/busybox); /probe write /data/f x;"                       \
        " echo DATA $(/probe stat /data/f); /probe write /newfile y;"                              \
        " echo NEW $(/probe stat /newfile); echo MKNOD $(/probe try mknod-block);"                 \
        " echo MOUNT $(/probe try mount); echo READY; exec /probe sleep inf"

static void host_users_false(struct tpod *p, const char *name)
{
        t_pod_init(p, name, false);
        p->spec.host_users = (struct spec_opt_bool){.set = true, .value = false};
}

/* The host start of the "0 START 65536" line of a uid_map in out. */
static uint32_t map_start(const char *out)
{
        unsigned inside = 1, outside = 0;
        const char *p = out;

        while (p && sscanf(p, " %u %u", &inside, &outside) != 2) {
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        cr_assert_not_null(p, "no uid_map line in %s", out);
        cr_assert_eq(inside, 0, "%s", out);
        return outside;
}

static uid_t status_uid(pid_t pid)
{
        _cleanup_free_ char *path = pr_asprintf("/proc/%d/status", (int)pid);
        _cleanup_free_ char *text = NULL;
        struct pr_error err = {};
        unsigned long uid = 0;
        const char *line;

        cr_assert_eq(pr_read_file(path, 1 << 16, &text, NULL, &err), 0, "%s", err.msg);
        line = strstr(text, "\nUid:");
        cr_assert_not_null(line);
        cr_assert_eq(sscanf(line, "\nUid: %lu", &uid), 1);
        return (uid_t)uid;
}

static uid_t host_owner(const char *path)
{
        struct stat st;

        cr_assert_eq(lstat(path, &st), 0, "stat '%s': %s", path, strerror(errno));
        cr_expect_eq(st.st_uid, st.st_gid, "'%s': uid %u gid %u", path, (unsigned)st.st_uid,
                     (unsigned)st.st_gid);
        return st.st_uid;
}

Test(userns, root_inside_shifted_outside)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *out = NULL, *data = NULL, *upper = NULL;
        uint32_t start;

        host_users_false(&p, "uns");
        t = t_pod_add(&p, "one", INSIDE_SCRIPT);
        t_mount(t, &p.volumes[0], "/data", NULL, false);
        t_pod_start(&p);
        cr_assert(p.infra.userns);
        start = p.infra.userns_start;
        cr_expect_geq(start, USERNS_BASE_DEFAULT);
        cr_expect_eq(start % USERNS_RANGE_SIZE, 0);
        /* pause itself is root of the namespace: the host sees the range. */
        cr_expect_eq(status_uid(p.infra.pid), start);

        t_spawn(&p, t);
        out = t_read_output(t->proc.stdout_fd, "READY\n");
        cr_expect(pr_startswith(out, "uid=0 gid=0 groups=\n"), "%s", out);
        cr_expect_eq(map_start(out), start, "%s", out);
        /* The image's files, owned by host root, are root's inside. */
        cr_expect(strstr(out, "PROBE file 0755 0 0 "), "%s", out);
        cr_expect(strstr(out, "BUSYBOX file 0755 0 0 "), "%s", out);
        /* What root inside writes is root's inside, the range's outside. */
        cr_expect(strstr(out, "DATA file 0644 0 0 "), "%s", out);
        cr_expect(strstr(out, "NEW file 0644 0 0 "), "%s", out);
        data = pr_asprintf("%s/f", p.volumes[0].path);
        upper = pr_asprintf("%s/newfile", t->c.upper_dir);
        cr_expect_eq(host_owner(data), start);
        cr_expect_eq(host_owner(upper), start);
        cr_expect_eq(status_uid(t->proc.pid), start);
        /* Every capability (no profile: all of them) is the namespace's:
         * what needs the host's (a device node, a mount in a mount
         * namespace the host owns) is refused. */
        cr_expect(strstr(out, "MKNOD EPERM\n"), "%s", out);
        cr_expect(strstr(out, "MOUNT EPERM\n"), "%s", out);

        t_pod_down(&p);
}

/* What the child makes for the container (a missing workingDir, an emptyDir
 * subPath) is root's inside; with shareProcessNamespace the containers join
 * the pid namespace the pod's user namespace owns, pause as PID 1. */
Test(userns, created_dirs_and_shared_pid)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *out = NULL, *g = NULL;

        host_users_false(&p, "unsdirs");
        p.plan.share_pid = true;
        t = t_pod_add(&p, "w",
                      "sh|-c|/probe write ./f x; /probe write /sub/g y;"
                      " echo WD $(/probe stat /wd/deep); echo SUB $(/probe stat /sub);"
                      " echo F $(/probe stat /wd/deep/f); /probe id; /probe ps");
        free(t->c.working_dir);
        t->c.working_dir = pr_strdup("/wd/deep");
        t_mount(t, &p.volumes[0], "/sub", "s1", false);
        t_pod_start(&p);
        out = t_run(&p, t, NULL);
        cr_expect(strstr(out, "WD dir 0755 0 0 "), "%s", out);
        cr_expect(strstr(out, "SUB dir 0755 0 0 "), "%s", out);
        cr_expect(strstr(out, "F file 0644 0 0 "), "%s", out);
        cr_expect(strstr(out, "uid=0 gid=0 groups=\n1 podrun-pause\n"), "%s", out);
        g = pr_asprintf("%s/s1/g", p.volumes[0].path);
        cr_expect_eq(host_owner(g), p.infra.userns_start);
        t_pod_down(&p);
}

static char *ranges_text(void)
{
        _cleanup_free_ char *path = pr_asprintf("%s/run/userns/ranges", t_tmp);
        char *text = NULL;
        struct pr_error err = {};
        int r = pr_read_file(path, 1 << 20, &text, NULL, &err);

        cr_assert(r == 0 || r == -ENOENT, "%s", err.msg);
        return text ? text : pr_strdup("");
}

Test(userns, two_pods_disjoint_and_released)
{
        struct tpod a, b, plain;
        struct tctr *ta, *tb, *tp;
        _cleanup_free_ char *outa = NULL, *outb = NULL, *outp = NULL, *live = NULL, *after = NULL;
        uint32_t sa, sb;

        host_users_false(&a, "ua");
        host_users_false(&b, "ub");
        t_pod_init(&plain, "plain", false);
        ta = t_pod_add(&a, "c", "/probe|cat|/proc/self/uid_map");
        tb = t_pod_add(&b, "c", "/probe|cat|/proc/self/uid_map");
        tp = t_pod_add(&plain, "c", "/probe|cat|/proc/self/uid_map");
        t_pod_start(&a);
        t_pod_start(&b);
        t_pod_start(&plain);
        sa = a.infra.userns_start;
        sb = b.infra.userns_start;
        cr_expect(sa + USERNS_RANGE_SIZE <= sb || sb + USERNS_RANGE_SIZE <= sa, "%u and %u overlap",
                  sa, sb);
        cr_expect_not(plain.infra.userns);
        outa = t_run(&a, ta, NULL);
        outb = t_run(&b, tb, NULL);
        outp = t_run(&plain, tp, NULL);
        cr_expect_eq(map_start(outa), sa, "%s", outa);
        cr_expect_eq(map_start(outb), sb, "%s", outb);
        /* hostUsers true (the default) is unchanged: the host's identity map. */
        cr_expect_eq(map_start(outp), 0, "%s", outp);
        cr_expect(strstr(outp, " 4294967295\n"), "%s", outp);
        live = ranges_text();
        cr_expect(strstr(live, "ua:") && strstr(live, "ub:"), "%s", live);

        t_pod_down(&a);
        t_pod_down(&b);
        t_pod_down(&plain);
        after = ranges_text();
        cr_expect_str_eq(after, "");
}

Test(userns, host_namespaces_refused)
{
        struct tpod p;
        struct pr_error err = {};

        host_users_false(&p, "unshost");
        p.plan.host_ipc = true;
        cr_assert_lt(infra_start(&p.plan, t_pause_path, &p.infra, &err), 0);
        cr_expect(strstr(err.msg, "hostUsers: false cannot be used with"), "%s", err.msg);
        t_pod_down(&p);
}

/* Through the real binary: up -d with the network and cgroups, exec joins
 * the user namespace as the container's own root, down gives the range
 * back. */
static char *sh(const char *cmd)
{
        FILE *f = popen(cmd, "r");
        char *out = pr_strdup(""), chunk[1024];
        size_t n;

        cr_assert_not_null(f);
        while ((n = fread(chunk, 1, sizeof(chunk) - 1, f)) > 0) {
                char *next;

                chunk[n] = '\0';
                next = pr_asprintf("%s%s", out, chunk);
                free(out);
                out = next;
        }
        (void)pclose(f);
        return out;
}

static char *podrun_sh(const char *env, const char *args)
{
        _cleanup_free_ char *cmd = pr_asprintf("%s %s 2>&1; echo rc=$?", env, args);

        return sh(cmd);
}

Test(userns, cli_up_exec_down)
{
        _cleanup_free_ char *podrun = NULL, *manifest = NULL, *env = NULL, *cmd = NULL;
        _cleanup_free_ char *up = NULL, *inside = NULL, *ex = NULL, *down = NULL, *after = NULL;
        _cleanup_free_ char *cg = pr_asprintf("podrun-userns-%d", (int)getpid());
        struct pr_error err = {};

        podrun = pr_asprintf("%s/pod/cli/podrun", getenv("PODRUN_BUILD_DIR"));
        env = pr_asprintf("PODRUN_NETNS_DIR=%s/netns PODRUN_CGROUP_PARENT=%s %s --root %s/root "
                          "--run-dir %s/run",
                          t_tmp, cg, podrun, t_tmp, t_tmp);
        manifest = pr_asprintf("%s/pod.yaml", t_tmp);
        {
                static const char text[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: unscli}\n"
                                           "spec:\n  hostUsers: false\n  containers:\n"
                                           "  - name: main\n    image: probe\n"
                                           "    command: [/probe, sleep, inf, --term]\n";

                cr_assert_eq(pr_write_file_atomic(manifest, text, strlen(text), 0644, &err), 0);
        }
        {
                _cleanup_free_ char *imp = pr_asprintf("image import probe %s", t_image_dir);
                _cleanup_free_ char *upa = pr_asprintf("up -d %s", manifest);

                free(podrun_sh(env, imp));
                up = podrun_sh(env, upa);
        }
        cr_assert(strstr(up, "rc=0\n"), "%s", up);
        ex = podrun_sh(env, "exec unscli/main -- /probe cat /proc/self/uid_map");
        inside = podrun_sh(env, "exec unscli/main -- /probe id");
        /* A supervisor that dies leaves the range taken (its pod still
         * runs); down after the crash tears the pod down and gives it back. */
        {
                _cleanup_free_ char *run = pr_asprintf("%s/run", t_tmp);
                _cleanup_free_ char *path = state_path(run, "unscli");
                _cleanup_free_ char *held = NULL;
                struct pod_state *st = NULL;

                cr_assert_eq(state_read(path, &st, &err), 0, "%s", err.msg);
                /* The range is a host resource of the pod's, recorded as made. */
                cr_expect(state_has_resource(st, "userns", "1048576:65536"));
                cr_assert_eq(state_proc_kill(&st->supervisor, SIGKILL), 0);
                for (int i = 0; i < 500 && state_proc_alive(&st->supervisor); i++)
                        (void)usleep(10000);
                state_free(st);
                held = ranges_text();
                cr_expect(pr_startswith(held, "unscli:1048576:65536:"), "%s", held);
        }
        down = podrun_sh(env, "down --grace-period 5 unscli");
        after = ranges_text();
        cr_expect(strstr(ex, " 1048576 ") && strstr(ex, "rc=0\n"), "%s", ex);
        cr_expect(pr_startswith(inside, "uid=0 gid=0 groups=") && strstr(inside, "rc=0\n"), "%s",
                  inside);
        cr_expect(strstr(down, "rc=0\n"), "%s", down);
        cr_expect_str_eq(after, "");
        free(cmd);
        cmd = pr_asprintf("find /sys/fs/cgroup -maxdepth 6 -type d -name '%s' -exec rmdir {} + "
                          "2>/dev/null",
                          cg);
        free(sh(cmd));
}
