/* Attacks from inside a container that the default profile must stop, each
 * with the exact errno, and the companion showing the same action works
 * where Kubernetes allows it (privileged, or with the capability added).
 * Containers are started as the supervisor starts them: the RuntimeDefault
 * profile built by sec_profile_build(), a cgroup per container attached at
 * ctr_spawn's sync point 2 (device rules), and the probe's "try" operations
 * run from busybox sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/plan.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "tests/integration/runtime_common.h"

static struct cg *pod_cg;

static void setup(void)
{
        struct pr_error err = {};

        t_setup();
        if (t_cg_pod_create("attacks", &pod_cg, &err) < 0)
                cr_skip_test("no cgroups: %s", err.msg);
}

static void teardown(void)
{
        t_cg_pod_remove(&pod_cg);
        t_teardown();
}

TestSuite(security, .init = setup, .fini = teardown, .timeout = 90);

/* Every "try" the probe has that a container must not be able to do, then
 * the file-system attacks. One line per attempt: "<what> <result>". */
#define ATTACKS                                                                                    \
        "for op in mount umount mknod-block sethostname kexec init_module keyctl bpf reboot"       \
        " swapon userfaultfd open_by_handle_at syslog chroot-escape open-exe-for-write"            \
        " raw-socket bind-low chown setuid; do echo \"$op $(/probe try $op)\"; done;"              \
        " for ns in mnt user net uts pid cgroup; do echo \"unshare-$ns $(/probe try unshare "      \
        "$ns)\";"                                                                                  \
        " done;"                                                                                   \
        " echo \"write-sysctl $(/probe write /proc/sys/kernel/domainname x)\";"                    \
        " echo \"read-keys [$(/probe cat /proc/keys)]\";"                                          \
        " echo \"read-timer-list [$(/probe cat /proc/timer_list)]\";"                              \
        " echo \"host-root $(/probe stat /proc/1/root/probe)\""

/* Starts one container with the profile spec asks for, in its own cgroup
 * (released by cg_remove of the pod's at teardown). */
static struct tctr *start(struct tpod *p, const char *name, struct spec_container *spec,
                          const char *args)
{
        struct cg_limits limits;
        struct tctr *t = t_pod_add(p, name, args);
        struct ctr_spawn_opts opts = {.after_clone = cg_after_clone};
        struct sec_profile *prof = NULL;
        struct pr_error err = {};
        struct cg *cg = NULL;

        spec->name = (char *)name;
        t->c.spec = spec;
        cg_limits_from_container(spec, NULL, &limits);
        cr_assert_eq(cg_container_create(pod_cg, name, &limits, &cg, &err), 0, "%s", err.msg);
        cr_assert_eq(sec_profile_build(&p->plan, &t->c, &prof, &err), 0, "%s", err.msg);
        opts.data = cg;
        opts.security = prof;
        cr_assert_eq(ctr_spawn(&p->plan, &t->c, &p->infra, &opts, &t->proc, &err), 0, "%s",
                     err.msg);
        t->started = true;
        t_track(t->proc.pidfd);
        t->c.spec = NULL;
        sec_profile_free(prof);
        cg_free(cg);
        cr_assert_eq(t_start_result(t, &err), 0, "%s", err.msg);
        return t;
}

/* Runs the attack script in a container to its end; returns its output. */
static char *attack(struct tpod *p, const char *name, struct spec_container *spec)
{
        struct tctr *t = start(p, name, spec, "sh|-c|" ATTACKS);
        char *out = t_read_output(t->proc.stdout_fd, NULL);

        cr_assert_eq(t_wait_exit(t), 0, "%s", out);
        return out;
}

static void expect(const char *out, const char *what, const char *want)
{
        _cleanup_free_ char *line = pr_asprintf("\n%s %s\n", what, want);
        _cleanup_free_ char *text = pr_asprintf("\n%s", out);

        cr_expect(strstr(text, line), "want '%s %s' in:\n%s", what, want, out);
}

static void expect_either(const char *out, const char *what, const char *a, const char *b)
{
        _cleanup_free_ char *la = pr_asprintf("\n%s %s\n", what, a);
        _cleanup_free_ char *lb = pr_asprintf("\n%s %s\n", what, b);
        _cleanup_free_ char *text = pr_asprintf("\n%s", out);

        cr_expect(strstr(text, la) || strstr(text, lb), "want '%s %s' or '%s' in:\n%s", what, a, b,
                  out);
}

Test(security, default_profile_stops_the_attacks)
{
        struct spec_container spec = {};
        _cleanup_free_ char *out = NULL;
        struct tpod p;

        t_pod_init(&p, "attacks", false);
        t_pod_start(&p);
        out = attack(&p, "app", &spec);
        /* seccomp and the capability set. */
        expect(out, "mount", "EPERM");
        expect(out, "umount", "EPERM");
        expect(out, "sethostname", "EPERM");
        expect(out, "kexec", "EPERM");
        expect(out, "init_module", "EPERM");
        expect(out, "keyctl", "EPERM");
        expect(out, "bpf", "EPERM");
        expect(out, "reboot", "EPERM");
        expect(out, "swapon", "EPERM");
        expect(out, "userfaultfd", "EPERM");
        expect(out, "open_by_handle_at", "EPERM");
        expect(out, "syslog", "EPERM");
        for (const char *ns = "mnt\0user\0net\0uts\0pid\0cgroup\0"; *ns; ns += strlen(ns) + 1) {
                _cleanup_free_ char *what = pr_asprintf("unshare-%s", ns);

                expect(out, what, "EPERM");
        }
        /* The device cgroup, though CAP_MKNOD is in the default set. */
        expect(out, "mknod-block", "EPERM");
        /* chroot is allowed, but climbing out of it ends at the container's
         * own root: the probe reports EPERM for "still inside". */
        expect(out, "chroot-escape", "EPERM");
        /* The running binary (the container's own; podrun's is never
         * reachable) cannot be opened for writing. */
        expect(out, "open-exe-for-write", "ETXTBSY");
        /* Read-only and masked paths. */
        expect(out, "write-sysctl", "EROFS");
        expect(out, "read-keys", "[]");
        expect(out, "read-timer-list", "[]");
        /* "/proc/1/root" is the container's own root: PID 1 is the
         * container's, and its root holds the image's probe. */
        cr_expect(strstr(out, "\nhost-root file"), "%s", out);
        /* What the default set grants still works. */
        expect(out, "raw-socket", "ok");
        expect(out, "bind-low", "ok");
        expect(out, "chown", "ok");
        expect(out, "setuid", "ok");
        t_pod_down(&p);
}

Test(security, privileged_and_added_capabilities_allow_them)
{
        char *admin[] = {(char *)"SYS_ADMIN", NULL};
        struct spec_container priv = {}, added = {};
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        struct tpod p;

        t_pod_init(&p, "attacks", false);
        t_pod_start(&p);
        priv.security_context.privileged = true;
        out = attack(&p, "priv", &priv);
        expect(out, "mount", "ok");
        expect(out, "umount", "ok");
        expect(out, "sethostname", "ok");
        /* A kernel built without kexec or modules (this one) has no such
         * syscall at all: ENOSYS is then the kernel's own answer, while the
         * default profile's EPERM above is the filter's. */
        expect_either(out, "kexec", "ok", "ENOSYS");
        expect_either(out, "init_module", "ok", "ENOSYS");
        expect(out, "keyctl", "ok");
        expect(out, "bpf", "ok");
        expect(out, "reboot", "ok");
        expect(out, "swapon", "ok");
        expect(out, "open_by_handle_at", "ok");
        expect(out, "syslog", "ok");
        expect(out, "mknod-block", "ok");
        expect(out, "unshare-mnt", "ok");
        expect(out, "unshare-user", "ok");
        /* Nothing masked or read-only. */
        expect(out, "write-sysctl", "ok");

        /* One capability lifts exactly its rules. */
        added.security_context.capabilities.add = admin;
        out2 = attack(&p, "admin", &added);
        expect(out2, "mount", "ok");
        expect(out2, "unshare-mnt", "ok");
        expect(out2, "sethostname", "ok");
        expect(out2, "keyctl", "EPERM");
        expect(out2, "kexec", "EPERM");
        expect(out2, "init_module", "EPERM");
        expect(out2, "mknod-block", "EPERM");
        t_pod_down(&p);
}

Test(security, no_reach_into_another_pod)
{
        struct spec_container sa = {}, sb = {};
        _cleanup_free_ char *args = NULL, *out = NULL;
        struct tpod a, b;
        struct tctr *victim, *t;

        t_pod_init(&a, "attacker", false);
        t_pod_init(&b, "victim", false);
        t_pod_start(&a);
        t_pod_start(&b);
        victim = start(&b, "victim", &sb, "/probe|sleep|inf");
        /* The victim's host PID means nothing in the attacker's PID
         * namespace; its own child it may trace (companion). */
        args = pr_asprintf("sh|-c|echo \"other $(/probe try ptrace %d)\";"
                           " /probe sleep 30 & echo \"own $(/probe try ptrace $!)\"; kill $!",
                           (int)victim->proc.pid);
        t = start(&a, "attacker", &sa, args);
        out = t_read_output(t->proc.stdout_fd, NULL);
        cr_assert_eq(t_wait_exit(t), 0, "%s", out);
        expect(out, "other", "ESRCH");
        expect(out, "own", "ok");
        cr_assert(kill(victim->proc.pid, 0) == 0, "the victim is gone");
        t_pod_down(&a);
        t_pod_down(&b);
}
