/* The composition of a pod, checked from inside its containers: an infra
 * process and containers of two pods started by infra_start() and
 * ctr_spawn() from hand-built plans, running the probe (and busybox sh to
 * chain probe commands) in an overlay of a test image. Each test runs in its
 * own mount and network namespaces under a temporary --root/--run-dir, and
 * ends by checking that cleanup left no process, mount, namespace file or
 * overlay directory behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "tests/integration/runtime_common.h"

TestSuite(runtime, .init = t_setup, .fini = t_teardown, .timeout = 60);

#define A1_SCRIPT                                                                                  \
        "sh|-c|/probe ns; /probe ipc-create 4242; /probe write /data/shared from-a1;"              \
        " /probe write /rootfile a1-only; /probe write /mem/m in-tmpfs; echo READY;"               \
        " exec /probe sleep inf"
#define PEER_SCRIPT                                                                                \
        "sh|-c|/probe ns; echo HOST $(/probe hostname); echo IPC $(/probe ipc-check 4242);"        \
        " echo DATA $(/probe cat /data/shared); echo MEM $(/probe cat /mem/m);"                    \
        " echo ROOT $(/probe cat /rootfile); echo PS; exec /probe ps"

Test(runtime, pod_composition)
{
        struct tpod a, b;
        struct tctr *a1, *a2, *b1;
        _cleanup_free_ char *out1 = NULL, *out2 = NULL, *outb = NULL;
        const char *names[] = {"net", "ipc", "uts", "pid", "mnt"};

        t_pod_init(&a, "alpha", false);
        t_pod_init(&b, "beta", false);
        a1 = t_pod_add(&a, "one", A1_SCRIPT);
        a2 = t_pod_add(&a, "two", PEER_SCRIPT);
        b1 = t_pod_add(&b, "other", PEER_SCRIPT);
        t_mount(a1, &a.volumes[0], "/data", NULL, false);
        t_mount(a1, &a.volumes[1], "/mem", NULL, false);
        t_mount(a2, &a.volumes[0], "/data", NULL, false);
        t_mount(a2, &a.volumes[1], "/mem", NULL, false);
        t_mount(b1, &b.volumes[0], "/data", NULL, false);
        t_mount(b1, &b.volumes[1], "/mem", NULL, false);
        t_pod_start(&a);
        t_pod_start(&b);

        t_spawn(&a, a1);
        out1 = t_read_output(a1->proc.stdout_fd, "READY\n");
        out2 = t_run(&a, a2, NULL);
        outb = t_run(&b, b1, NULL);

        for (size_t i = 0; i < PR_ELEMENTSOF(names); i++) {
                _cleanup_free_ char *n1 = t_ns_of(out1, names[i]);
                _cleanup_free_ char *n2 = t_ns_of(out2, names[i]);
                _cleanup_free_ char *nb = t_ns_of(outb, names[i]);
                /* The test unshared net and mnt; its parent did not. */
                _cleanup_free_ char *self = t_host_ns(getpid(), names[i]);
                _cleanup_free_ char *init = t_host_ns(getppid(), names[i]);
                bool shared = i < 3; /* net, ipc, uts */

                cr_expect(shared ? pr_streq(n1, n2) : !pr_streq(n1, n2), "%s: %s vs %s", names[i],
                          n1, n2);
                cr_expect(!pr_streq(n1, nb), "%s shared across pods: %s", names[i], n1);
                cr_expect(!pr_streq(n1, self) && !pr_streq(n1, init), "%s is the host's: %s",
                          names[i], n1);
        }
        cr_expect(strstr(out2, "HOST alpha-host\n"), "%s", out2);
        cr_expect(strstr(outb, "HOST beta-host\n"), "%s", outb);
        /* SysV IPC: the queue of one container is seen by its pod only. */
        cr_expect(strstr(out2, "IPC ok\n"), "%s", out2);
        cr_expect(strstr(outb, "IPC ENOENT\n"), "%s", outb);
        /* emptyDirs, on disk and tmpfs, shared within the pod only. */
        cr_expect(strstr(out2, "DATA from-a1\n"), "%s", out2);
        cr_expect(strstr(out2, "MEM in-tmpfs\n"), "%s", out2);
        cr_expect(strstr(outb, "DATA ENOENT\n"), "%s", outb);
        /* The writable layer is per container. */
        cr_expect(strstr(out2, "ROOT ENOENT\n"), "%s", out2);
        /* Only the container's own process, its command as PID 1. */
        cr_expect(strstr(out2, "PS\n1 probe\n") && pr_endswith(out2, "PS\n1 probe\n"), "%s", out2);
        cr_expect(pr_endswith(outb, "PS\n1 probe\n"), "%s", outb);

        t_pod_down(&a);
        t_pod_down(&b);
}

Test(runtime, shared_pid_namespace)
{
        struct tpod p;
        struct tctr *sleeper, *looker;
        _cleanup_free_ char *out = NULL, *ready = NULL;

        t_pod_init(&p, "shared", true);
        sleeper = t_pod_add(&p, "sleeper", "sh|-c|echo READY; exec /probe sleep inf");
        looker = t_pod_add(&p, "looker", "/probe|ps");
        t_pod_start(&p);
        t_spawn(&p, sleeper);
        ready = t_read_output(sleeper->proc.stdout_fd, "READY\n");
        out = t_run(&p, looker, NULL);
        /* pause is PID 1 of the shared namespace; both containers show. */
        cr_expect(pr_startswith(out, "1 podrun-pause\n"), "%s", out);
        cr_expect(strstr(out, " probe\n"), "%s", out);
        cr_expect(pr_strv_len(NULL) == 0);
        {
                size_t lines = 0;

                for (const char *c = out; *c; c++)
                        lines += *c == '\n';
                cr_expect_eq(lines, 3, "pause, sleeper and ps expected: %s", out);
        }
        /* pause's /proc/1/root is the host's root: a container with the
         * default capabilities must not follow it. */
        {
                struct spec_container spec = {};
                struct sec_profile *prof = NULL;
                struct ctr_spawn_opts opts = {};
                struct pr_error err = {};
                struct tctr *peek = t_pod_add(&p, "peek", "/probe|ls|/proc/1/root");
                _cleanup_free_ char *seen = NULL;

                peek->c.spec = &spec;
                cr_assert_eq(sec_profile_build(&p.plan, &peek->c, &prof, &err), 0, "%s", err.msg);
                opts.security = prof;
                cr_assert_eq(ctr_spawn(&p.plan, &peek->c, &p.infra, &opts, &peek->proc, &err), 0,
                             "%s", err.msg);
                peek->started = true;
                t_track(peek->proc.pidfd);
                cr_assert_eq(t_start_result(peek, &err), 0, "%s", err.msg);
                seen = t_read_output(peek->proc.stdout_fd, NULL);
                (void)t_wait_exit(peek);
                cr_expect_str_eq(seen, "EACCES\n");
                sec_profile_free(prof);
                peek->c.spec = NULL;
        }
        t_pod_down(&p);
}

Test(runtime, start_errors)
{
        struct tpod p;
        struct tctr *t;
        struct pr_error err = {};

        t_pod_init(&p, "errs", false);
        t_pod_start(&p);

        t = t_pod_add(&p, "missing", "/bin/nosuch");
        t_spawn(&p, t);
        cr_assert_eq(t_start_result(t, &err), 1);
        cr_expect_str_eq(err.msg, "exec: \"/bin/nosuch\": no such file or directory");
        cr_expect_eq(err.code, ENOENT);
        cr_expect_eq(t_wait_exit(t), 127);

        t = t_pod_add(&p, "notinpath", "nosuch");
        t_spawn(&p, t);
        cr_assert_eq(t_start_result(t, &err), 1);
        cr_expect_str_eq(err.msg, "exec: \"nosuch\": executable file not found in $PATH");
        (void)t_wait_exit(t);

        t = t_pod_add(&p, "cwdfile", "/probe|cwd");
        free(t->c.working_dir);
        t->c.working_dir = pr_strdup("/probe");
        t_spawn(&p, t);
        cr_assert_eq(t_start_result(t, &err), 1);
        cr_expect_str_eq(err.msg,
                         "chdir to cwd (\"/probe\") set in config.json failed: not a directory");
        (void)t_wait_exit(t);

        /* A missing workingDir is made, as runc makes it. */
        t = t_pod_add(&p, "newcwd", "/probe|cwd");
        free(t->c.working_dir);
        t->c.working_dir = pr_strdup("/work/dir");
        {
                _cleanup_free_ char *out = t_run(&p, t, NULL);
                cr_expect_str_eq(out, "/work/dir\n");
        }
        t_pod_down(&p);
}

Test(runtime, subpath_cannot_escape)
{
        struct tpod p;
        struct tctr *evil, *good, *ro;
        struct pr_error err = {};
        _cleanup_free_ char *link = NULL, *out = NULL, *okfile = NULL;

        t_pod_init(&p, "sub", false);
        evil = t_pod_add(&p, "evil", "/probe|ls|/mnt");
        t_mount(evil, &p.volumes[0], "/mnt", "evil", false);
        good = t_pod_add(&p, "good", "/probe|write|/mnt/f|inside");
        t_mount(good, &p.volumes[0], "/mnt", "ok/deeper", false);
        ro = t_pod_add(&p, "ro", "sh|-c|/probe write /mnt/x no; /probe write /x no; true");
        t_mount(ro, &p.volumes[0], "/mnt", NULL, true);
        ro->c.read_only_rootfs = true;
        t_pod_start(&p);
        link = pr_asprintf("%s/evil", p.volumes[0].path);
        cr_assert_eq(symlink("/etc", link), 0);

        t_spawn(&p, evil);
        cr_assert_eq(t_start_result(evil, &err), 1, "the subPath symlink was followed");
        cr_expect(strstr(err.msg, "subPath 'evil' leads outside the volume"), "%s", err.msg);
        (void)t_wait_exit(evil);

        /* A missing subPath is made inside the volume, and writes land there. */
        out = t_run(&p, good, NULL);
        okfile = pr_asprintf("%s/ok/deeper/f", p.volumes[0].path);
        cr_expect(t_exists(okfile), "'%s' missing", okfile);

        free(out);
        out = t_run(&p, ro, NULL);
        cr_expect_str_eq(out, "EROFS\nEROFS\n");
        t_pod_down(&p);
}

Test(runtime, image_symlinks_stay_inside)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *link = NULL, *hostdir = NULL, *planted = NULL, *out = NULL;
        _cleanup_free_ char *inimage = NULL;
        struct pr_error err = {};

        /* /etc in the image points at a host directory: the bind mounts of
         * hosts/hostname/resolv.conf must resolve inside the image, never on
         * the host. First the target is missing in the image: a clean start
         * error. */
        hostdir = pr_asprintf("%s/hostdir", t_tmp);
        cr_assert_eq(pr_mkdir_p(hostdir, 0755, &err), 0);
        link = pr_asprintf("%s/etc", t_image_dir);
        cr_assert_eq(rmdir(link), 0);
        cr_assert_eq(symlink(hostdir, link), 0);
        planted = pr_asprintf("%s/hosts", hostdir);
        t_pod_init(&p, "links", false);
        t = t_pod_add(&p, "c", "/probe|cat|/etc/hostname");
        t_pod_start(&p);
        t_spawn(&p, t);
        cr_assert_eq(t_start_result(t, &err), 1, "the host's directory was used");
        cr_expect(strstr(err.msg, "'/etc/hosts'"), "%s", err.msg);
        (void)t_wait_exit(t);
        cr_expect_not(t_exists(planted), "a mount point was made on the host");

        /* Then the same absolute path t_exists inside the image: it is used. */
        inimage = pr_asprintf("%s%s", t_image_dir, hostdir);
        cr_assert_eq(pr_mkdir_p(inimage, 0755, &err), 0);
        t = t_pod_add(&p, "d", "/probe|cat|/etc/hostname");
        out = t_run(&p, t, NULL);
        cr_expect_str_eq(out, "links-host\n");
        cr_expect_not(t_exists(planted), "a mount point was made on the host");
        t_pod_down(&p);

        /* A symlinked /proc in the image is refused (CVE-2023-27561). */
        link = (free(link), pr_asprintf("%s/proc", t_image_dir));
        cr_assert_eq(rmdir(link), 0);
        cr_assert_eq(symlink("/tmp", link), 0);
        t_pod_init(&p, "procl", false);
        t = t_pod_add(&p, "c", "/probe|ns");
        t_pod_start(&p);
        t_spawn(&p, t);
        cr_assert_eq(t_start_result(t, &err), 1);
        cr_expect(strstr(err.msg, "'/proc' in the image is a symlink"), "%s", err.msg);
        (void)t_wait_exit(t);
        t_pod_down(&p);
}

Test(runtime, cgroup_namespace_view)
{
        struct tpod p;
        struct tctr *t;
        _cleanup_free_ char *out = NULL, *host = NULL;
        struct pr_error err = {};

        t_pod_init(&p, "cgv", false);
        t = t_pod_add(&p, "c",
                      "sh|-c|/probe cat /proc/self/cgroup; echo LS; /probe ls /sys/fs/cgroup;"
                      " echo W $(/probe write /sys/fs/cgroup/memory/x 1)");
        t_pod_start(&p);
        out = t_run(&p, t, NULL);
        cr_assert_eq(pr_read_file("/proc/self/cgroup", 65536, &host, NULL, &err), 0);
        /* Every hierarchy of ours is the root of the container's view. */
        cr_expect(!strstr(out, ":/process") && strstr(out, ":/\n"), "%s", out);
        if (strstr(host, ":memory:"))
                cr_expect(strstr(out, "LS\n") && strstr(out, "\nmemory\n"), "%s", out);
        if (strstr(host, "\n0::/") || pr_startswith(host, "0::/"))
                cr_expect(strstr(out, "\nunified\n") || !strstr(host, ":memory:"), "%s", out);
        cr_expect(strstr(out, "W EROFS\n"), "%s", out);
        t_pod_down(&p);
}

static char *read_sysctl(const char *path)
{
        _cleanup_free_ char *text = NULL;
        struct pr_error err = {};

        cr_assert_geq(pr_read_file(path, 4096, &text, NULL, &err), 0, "%s", err.msg);
        return PR_TAKE_PTR(text);
}

/* spec.securityContext.sysctls are written by the infra in the pod's own
 * network and IPC namespaces before any container starts: a container reads
 * them back, and the namespaces the test runs in keep their values. */
Test(runtime, sysctls_in_pod_namespaces)
{
        struct spec_kv kv[] = {
            {.key = (char *)"net.ipv4.ip_unprivileged_port_start", .value = (char *)"80"},
            {.key = (char *)"kernel/shm_rmid_forced", .value = (char *)"1"},
        };
        _cleanup_free_ char *port_before =
            read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start");
        _cleanup_free_ char *shm_before = read_sysctl("/proc/sys/kernel/shm_rmid_forced");
        _cleanup_free_ char *out = NULL, *port_after = NULL, *shm_after = NULL;
        struct tpod p;
        struct tctr *t;

        cr_assert_str_neq(port_before, "80\n", "pick another value: the host has 80 already");
        t_pod_init(&p, "sysctl", false);
        p.spec.security_context.sysctls = (struct spec_map){.n = 2, .items = kv};
        t_pod_start(&p);
        t = t_pod_add(&p, "reader",
                      "sh|-c|echo PORT $(/probe cat "
                      "/proc/sys/net/ipv4/ip_unprivileged_port_start);"
                      " echo SHM $(/probe cat /proc/sys/kernel/shm_rmid_forced)");
        out = t_run(&p, t, NULL);
        cr_expect(strstr(out, "PORT 80\n"), "%s", out);
        cr_expect(strstr(out, "SHM 1\n"), "%s", out);
        port_after = read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start");
        shm_after = read_sysctl("/proc/sys/kernel/shm_rmid_forced");
        cr_expect_str_eq(port_after, port_before);
        cr_expect_str_eq(shm_after, shm_before);
        p.spec.security_context.sysctls = (struct spec_map){};
        t_pod_down(&p);
}

/* A value the kernel refuses fails the infra's start, naming the sysctl,
 * and leaves nothing behind. */
Test(runtime, sysctl_refused_names_it)
{
        struct spec_kv kv[] = {
            {.key = (char *)"net.ipv4.tcp_syncookies", .value = (char *)"1"},
            {.key = (char *)"net.ipv4.tcp_keepalive_time", .value = (char *)"soon"},
        };
        struct pr_error err = {};
        struct tpod p;

        t_pod_init(&p, "sysctlbad", false);
        p.spec.security_context.sysctls = (struct spec_map){.n = 2, .items = kv};
        cr_assert_lt(infra_start(&p.plan, t_pause_path, &p.infra, &err), 0);
        cr_expect_str_eq(err.msg,
                         "pod 'sysctlbad': infra: sysctl 'net.ipv4.tcp_keepalive_time': writing "
                         "'soon' in the pod's namespaces failed",
                         "%s", err.msg);

        /* Defensive: pause itself refuses a name that could leave /proc/sys. */
        kv[1] = (struct spec_kv){.key = (char *)"net..ipv4", .value = (char *)"1"};
        cr_assert_lt(infra_start(&p.plan, t_pause_path, &p.infra, &err), 0);
        cr_expect_str_eq(err.msg,
                         "pod 'sysctlbad': infra: sysctl 'net..ipv4': not a name under "
                         "/proc/sys",
                         "%s", err.msg);
        p.spec.security_context.sysctls = (struct spec_map){};
        t_pod_down(&p);
}
