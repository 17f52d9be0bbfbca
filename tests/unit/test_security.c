/* Unit tests of the security profile: the capability arithmetic, the policy
 * tables, the profile decisions, and, in forked children (root), the
 * seccomp filter and the final privilege drop as the kernel sees them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/security.h"

TestSuite(security);

#define BIT(c) (UINT64_C(1) << (c))

static const uint64_t expected_default =
    BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) | BIT(CAP_MKNOD) |
    BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) |
    BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);

/* A minimal pod: the plan and spec a test tweaks before building a profile. */
struct fixture {
        struct spec_pod pod;
        struct spec_container spec;
        struct pod_plan plan;
        struct plan_container c;
};

static void fixture_init(struct fixture *f)
{
        memset(f, 0, sizeof(*f));
        f->spec.name = (char *)"app";
        f->pod.name = (char *)"web";
        f->pod.namespace = (char *)"default";
        f->pod.n_containers = 1;
        f->pod.containers = &f->spec;
        f->plan.name = (char *)"web";
        f->plan.uid = (char *)"0b6d2c1e-uid";
        f->plan.spec = &f->pod;
        f->plan.n_containers = 1;
        f->plan.containers = &f->c;
        f->c.name = (char *)"app";
        f->c.spec = &f->spec;
}

static struct sec_profile *build(struct fixture *f)
{
        struct pr_error err = {};
        struct sec_profile *p = NULL;

        cr_assert_eq(sec_profile_build(&f->plan, &f->c, &p, &err), 0, "%s", err.msg);
        return p;
}

Test(security, default_caps_are_containerds)
{
        cr_assert_eq(sec_default_caps(), expected_default);
        cr_assert_eq(__builtin_popcountll(sec_default_caps()), 14);
        cr_assert(sec_all_caps() & BIT(CAP_SYS_ADMIN));
        cr_assert(sec_all_caps() & BIT(CAP_LAST_CAP));
}

Test(security, cap_names)
{
        cr_assert_eq(sec_cap_from_name("NET_ADMIN"), CAP_NET_ADMIN);
        cr_assert_eq(sec_cap_from_name("net_admin"), CAP_NET_ADMIN);
        cr_assert_eq(sec_cap_from_name("CAP_NET_ADMIN"), CAP_NET_ADMIN);
        cr_assert_eq(sec_cap_from_name("cap_sys_admin"), CAP_SYS_ADMIN);
        cr_assert_eq(sec_cap_from_name("NOT_A_CAP"), -EINVAL);
        cr_assert_eq(sec_cap_from_name("12"), -EINVAL);
        cr_assert_eq(sec_cap_from_name(""), -EINVAL);
        cr_assert_eq(sec_cap_from_name("ALL"), -EINVAL);
}

Test(security, caps_add_drop_all)
{
        char *add_admin[] = {(char *)"NET_ADMIN", (char *)"CAP_SYS_TIME", NULL};
        char *drop_raw[] = {(char *)"net_raw", NULL};
        char *all[] = {(char *)"ALL", NULL};
        char *chown_only[] = {(char *)"CHOWN", NULL};
        char *bad[] = {(char *)"FLY", NULL};
        struct pr_error err = {};
        uint64_t caps;

        cr_assert_eq(sec_caps_compute(NULL, NULL, &caps, &err), 0);
        cr_assert_eq(caps, expected_default);
        cr_assert_eq(sec_caps_compute(add_admin, drop_raw, &caps, &err), 0);
        cr_assert_eq(caps, (expected_default | BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_TIME)) &
                               ~BIT(CAP_NET_RAW));
        /* drop ALL then add: only what is added (the restricted profile). */
        cr_assert_eq(sec_caps_compute(chown_only, all, &caps, &err), 0);
        cr_assert_eq(caps, BIT(CAP_CHOWN));
        cr_assert_eq(sec_caps_compute(NULL, all, &caps, &err), 0);
        cr_assert_eq(caps, 0);
        /* add ALL then drop one. */
        cr_assert_eq(sec_caps_compute(all, chown_only, &caps, &err), 0);
        cr_assert_eq(caps, sec_all_caps() & ~BIT(CAP_CHOWN));
        /* ALL in both: drop wins, as containerd applies drop ALL second. */
        cr_assert_eq(sec_caps_compute(all, all, &caps, &err), 0);
        cr_assert_eq(caps, 0);
        caps = 42;
        cr_assert_eq(sec_caps_compute(bad, NULL, &caps, &err), -EINVAL);
        cr_assert(err.usage);
        cr_assert_str_eq(err.msg, "capabilities: add: unknown capability 'FLY'");
        cr_assert_eq(caps, 42);
}

/* The syscalls RuntimeDefault refuses, in the order the child test tries
 * them. */
static const char *const forbidden_names[] = {
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "sethostname",
    "syslog",
    "clone(NEWUTS)",
};

Test(security, policy_tables)
{
        /* Every syscall the child test tries, by name (clone with CLONE_NEW*
         * flags is a rule on its arguments, checked there), and clone3. */
        for (size_t i = 0; i <= PR_ELEMENTSOF(forbidden_names); i++) {
                const char *name =
                    i < PR_ELEMENTSOF(forbidden_names) ? forbidden_names[i] : "clone3";
                const struct sec_syscall_rule *r = NULL;

                if (strchr(name, '('))
                        continue;
                for (size_t j = 0; j < sec_seccomp_n_rules; j++)
                        if (pr_streq(sec_seccomp_rules[j].name, name))
                                r = &sec_seccomp_rules[j];
                cr_assert_not_null(r, "%s is not in the policy", name);
                cr_assert_eq(r->allowed_by & expected_default, 0, "%s is allowed by default", name);
                cr_assert_eq(r->errnum, pr_streq(name, "clone3") ? ENOSYS : EPERM);
        }
        cr_assert_eq(sec_n_masked_paths, 12);
        cr_assert_str_eq(sec_masked_paths[3], "/proc/kcore");
        cr_assert_eq(sec_n_readonly_paths, 5);
        cr_assert_str_eq(sec_readonly_paths[3], "/proc/sys");
}

Test(security, profile_default_privileged_and_overrides)
{
        struct fixture f;
        struct sec_profile *p;
        struct pr_error err = {};
        char *add[] = {(char *)"SYS_ADMIN", NULL};

        fixture_init(&f);
        p = build(&f);
        cr_assert_eq(sec_profile_caps(p), expected_default);
        cr_assert_not(sec_profile_no_new_privs(p));
        cr_assert(sec_profile_masks(p));
        cr_assert_str_eq(sec_profile_seccomp_name(p), "RuntimeDefault");
        p = sec_profile_free(p);
        cr_assert_null(p);

        f.spec.security_context.privileged = true;
        p = build(&f);
        cr_assert_eq(sec_profile_caps(p), sec_all_caps());
        cr_assert_not(sec_profile_masks(p));
        cr_assert_str_eq(sec_profile_seccomp_name(p), "Unconfined");
        sec_profile_free(p);

        fixture_init(&f);
        f.spec.security_context.allow_privilege_escalation = (struct spec_opt_bool){true, false};
        f.spec.security_context.proc_mount = SPEC_PROC_MOUNT_UNMASKED;
        f.spec.security_context.capabilities.add = add;
        p = build(&f);
        cr_assert(sec_profile_no_new_privs(p));
        cr_assert_not(sec_profile_masks(p));
        cr_assert_eq(sec_profile_caps(p), expected_default | BIT(CAP_SYS_ADMIN));
        sec_profile_free(p);

        fixture_init(&f);
        f.spec.security_context.allow_privilege_escalation = (struct spec_opt_bool){true, true};
        f.pod.security_context.seccomp.type = SPEC_SECCOMP_UNCONFINED;
        p = build(&f);
        cr_assert_not(sec_profile_no_new_privs(p));
        cr_assert_str_eq(sec_profile_seccomp_name(p), "Unconfined");
        sec_profile_free(p);

        /* The container's seccompProfile wins over the pod's. */
        f.spec.security_context.seccomp.type = SPEC_SECCOMP_RUNTIME_DEFAULT;
        p = build(&f);
        cr_assert_str_eq(sec_profile_seccomp_name(p), "RuntimeDefault");
        sec_profile_free(p);

        /* A Localhost profile that is not there. */
        f.spec.security_context.seccomp.type = SPEC_SECCOMP_LOCALHOST;
        f.spec.security_context.seccomp.localhost_profile = (char *)"profiles/none.json";
        f.plan.root_dir = (char *)"/nonexistent-podrun/pods/web";
        p = NULL;
        cr_assert_eq(sec_profile_build(&f.plan, &f.c, &p, &err), -ENOENT);
        cr_assert_null(p);
        cr_assert_str_eq(err.msg, "container 'app': seccomp profile "
                                  "'/nonexistent-podrun/seccomp/profiles/none.json': open "
                                  "'/nonexistent-podrun/seccomp/profiles/none.json': No such "
                                  "file or directory");
        f.spec.security_context.seccomp.localhost_profile = (char *)"../etc/x.json";
        cr_assert_eq(sec_profile_build(&f.plan, &f.c, &p, &err), -EINVAL);
        cr_assert(err.usage);
}

/* ---- Children: what the kernel does with the profile applied. ---- */

typedef void (*child_fn)(struct sec_profile *p, int out);

/* Runs fn in a forked child and collects the ints it wrote. */
static size_t run_child(struct sec_profile *p, child_fn fn, int *vals, size_t max)
{
        int fds[2];
        pid_t pid;
        int status;
        size_t n = 0;
        ssize_t r;

        cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                close(fds[0]);
                fn(p, fds[1]);
                _exit(0);
        }
        close(fds[1]);
        while (n < max && (r = read(fds[0], vals + n, sizeof(int))) == sizeof(int))
                n++;
        close(fds[0]);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
        return n;
}

static void put(int out, long r)
{
        int v = r < 0 ? errno : 0;

        (void)!write(out, &v, sizeof(v));
}

static void put_int(int out, int v)
{
        (void)!write(out, &v, sizeof(v));
}

/* Each call is harmless even if the filter let it through: bad flags, bad
 * fds, missing paths or no-op arguments. */
static void try_forbidden(int out)
{
        char big[200] = "";
        struct timespec ts = {0, 0};
        long pid;

        put(out, syscall(SYS_kexec_load, 0UL, 0UL, NULL, ~0UL));
        put(out, syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, ~0UL));
        put(out, syscall(SYS_init_module, NULL, 0UL, ""));
        put(out, syscall(SYS_finit_module, -1, "", 0));
        put(out, syscall(SYS_delete_module, "podrun_no_such_module", O_NONBLOCK));
        put(out, syscall(SYS_open_by_handle_at, -1, NULL, 0));
        put(out, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
        put(out, syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
        put(out, syscall(SYS_request_key, NULL, NULL, NULL, 0));
        put(out, syscall(SYS_bpf, -1, NULL, 0));
        put(out, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        put(out, syscall(SYS_userfaultfd, ~0));
        put(out, syscall(SYS_io_uring_setup, 0, NULL));
        put(out, syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
        put(out, syscall(SYS_io_uring_register, -1, 0, NULL, 0));
        put(out, syscall(SYS_reboot, 0, 0, 0, NULL));
        put(out, syscall(SYS_swapon, "/nonexistent-podrun", 0));
        put(out, syscall(SYS_swapoff, "/nonexistent-podrun"));
        put(out, syscall(SYS_acct, "/nonexistent-podrun/acct"));
#ifdef SYS_iopl
        put(out, syscall(SYS_iopl, 4));
        put(out, syscall(SYS_ioperm, 0x10000UL, 1UL, 0));
#else
        put_int(out, EPERM);
        put_int(out, EPERM);
#endif
        put(out, syscall(SYS_settimeofday, NULL, NULL));
        put(out, syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts));
        put(out, syscall(SYS_mount, NULL, "/nonexistent-podrun", NULL, 0UL, NULL));
        put(out, syscall(SYS_umount2, "/nonexistent-podrun", 0));
        put(out, syscall(SYS_unshare, 0));
        put(out, syscall(SYS_setns, -1, 0));
        put(out, syscall(SYS_sethostname, big, sizeof(big)));
        put(out, syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
        pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUTS | SIGCHLD), 0UL, NULL, NULL, 0UL);
        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void)waitpid((pid_t)pid, NULL, 0);
        put(out, pid);
}

static void try_allowed(int out)
{
        pid_t pid;
        int fd;

        put(out, syscall(SYS_clone3, NULL, 0UL));
        pid = fork(); /* clone without namespace flags */
        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void)waitpid(pid, NULL, 0);
        put(out, pid);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        put(out, fd);
        put(out, getpid());
}

static void child_filtered(struct sec_profile *p, int out)
{
        struct pr_error err = {};

        /* Root with every capability: any EPERM below is the filter's. */
        if (sec_seccomp_load(p, &err) < 0)
                _exit(3);
        try_forbidden(out);
        try_allowed(out);
}

static void child_unfiltered(struct sec_profile *p, int out)
{
        (void)p;
        try_forbidden(out);
        try_allowed(out);
}

static void require_root(void)
{
        if (geteuid() != 0)
                cr_skip_test("needs root");
}

Test(security, seccomp_refuses_the_dangerous_syscalls)
{
        const size_t n = PR_ELEMENTSOF(forbidden_names);
        int with[64], without[64];
        struct fixture f;
        struct sec_profile *p;

        require_root();
        fixture_init(&f);
        p = build(&f);
        cr_assert_eq(run_child(p, child_filtered, with, 64), n + 4);
        cr_assert_eq(run_child(p, child_unfiltered, without, 64), n + 4);
        for (size_t i = 0; i < n; i++) {
                cr_assert_eq(with[i], EPERM, "%s: errno %d, not EPERM", forbidden_names[i],
                             with[i]);
                /* The same call without the filter fails otherwise (or
                 * works): the refusal is the filter's. kexec may be refused
                 * by the kexec_load_disabled sysctl too. */
                if (!pr_startswith(forbidden_names[i], "kexec"))
                        cr_assert_neq(without[i], EPERM, "%s: EPERM without the filter",
                                      forbidden_names[i]);
        }
        cr_assert_eq(with[n], ENOSYS, "clone3: %d", with[n]);
        cr_assert_neq(without[n], ENOSYS);
        for (size_t i = n + 1; i < n + 4; i++)
                cr_assert_eq(with[i], 0, "allowed call %zu failed: %d", i - n, with[i]);
        sec_profile_free(p);
}

static int status_hex(const char *key, uint64_t *ret)
{
        char line[256];
        FILE *fp = fopen("/proc/self/status", "re");
        int found = -1;

        if (!fp)
                return -1;
        while (fgets(line, sizeof(line), fp))
                if (pr_startswith(line, key) && line[strlen(key)] == ':') {
                        *ret = strtoull(line + strlen(key) + 1, NULL,
                                        pr_startswith(key, "Cap") ? 16 : 10);
                        found = 0;
                }
        fclose(fp);
        return found;
}

static void put_status(int out, const char *key)
{
        uint64_t v = UINT64_MAX;

        (void)status_hex(key, &v);
        put_int(out, (int)(v & 0xffffffff));
        put_int(out, (int)(v >> 32));
}

enum { F_STATUS_KEYS = 7 };
static const char *const status_keys[F_STATUS_KEYS] = {
    "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
};

static void report_final(int out, int rc)
{
        struct rlimit rl = {};

        put_int(out, rc);
        for (size_t i = 0; i < F_STATUS_KEYS; i++)
                put_status(out, status_keys[i]);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
        put_int(out, (int)rl.rlim_cur);
        put_int(out, (int)rl.rlim_max);
        put(out, syscall(SYS_unshare, CLONE_NEWNS));
        put(out, syscall(SYS_keyctl, 0, -3, 0));
}

static void child_final_root(struct sec_profile *p, int out)
{
        struct pr_error err = {};

        /* Dirty the sets the profile must clear. */
        (void)prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        report_final(out, sec_apply_final(p, &err));
}

static void child_final_user(struct sec_profile *p, int out)
{
        struct pr_error err = {};
        gid_t g = 1000;

        (void)prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        if (setgroups(1, &g) < 0 || setresgid(1000, 1000, 1000) < 0 ||
            setresuid(1000, 1000, 1000) < 0)
                _exit(4);
        report_final(out, sec_apply_final(p, &err));
}

struct final_result {
        int rc;
        uint64_t v[F_STATUS_KEYS];
        int nofile_cur, nofile_max;
        int unshare_errno, keyctl_errno;
};

static struct final_result run_final(struct sec_profile *p, child_fn fn)
{
        int vals[64];
        struct final_result res = {};

        cr_assert_eq(run_child(p, fn, vals, 64), 1 + 2 * F_STATUS_KEYS + 4);
        res.rc = vals[0];
        for (size_t i = 0; i < F_STATUS_KEYS; i++)
                res.v[i] = (uint32_t)vals[1 + 2 * i] | ((uint64_t)(uint32_t)vals[2 + 2 * i] << 32);
        res.nofile_cur = vals[1 + 2 * F_STATUS_KEYS];
        res.nofile_max = vals[2 + 2 * F_STATUS_KEYS];
        res.unshare_errno = vals[3 + 2 * F_STATUS_KEYS];
        res.keyctl_errno = vals[4 + 2 * F_STATUS_KEYS];
        return res;
}

Test(security, final_drop_as_root_default_profile)
{
        struct fixture f;
        struct sec_profile *p;
        struct final_result r;
        struct rlimit own;

        require_root();
        fixture_init(&f);
        p = build(&f);
        r = run_final(p, child_final_root);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.v[0], 0, "CapInh %jx", (uintmax_t)r.v[0]);
        cr_assert_eq(r.v[1], expected_default, "CapPrm %jx", (uintmax_t)r.v[1]);
        cr_assert_eq(r.v[2], expected_default, "CapEff %jx", (uintmax_t)r.v[2]);
        cr_assert_eq(r.v[3], expected_default, "CapBnd %jx", (uintmax_t)r.v[3]);
        cr_assert_eq(r.v[4], 0, "CapAmb %jx", (uintmax_t)r.v[4]);
        cr_assert_eq(r.v[5], 0, "NoNewPrivs");
        cr_assert_eq(r.v[6], 2, "Seccomp mode %ju", (uintmax_t)r.v[6]);
        cr_assert_eq(getrlimit(RLIMIT_NOFILE, &own), 0);
        cr_assert_eq((rlim_t)r.nofile_cur, own.rlim_max < 1024 ? own.rlim_max : 1024);
        cr_assert_eq(r.nofile_max, r.nofile_cur);
        cr_assert_eq(r.unshare_errno, EPERM);
        cr_assert_eq(r.keyctl_errno, EPERM);
        sec_profile_free(p);
}

Test(security, final_drop_as_user_with_no_new_privs)
{
        struct fixture f;
        struct sec_profile *p;
        struct final_result r;

        require_root();
        fixture_init(&f);
        f.spec.security_context.allow_privilege_escalation = (struct spec_opt_bool){true, false};
        p = build(&f);
        r = run_final(p, child_final_user);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.v[0], 0);
        cr_assert_eq(r.v[1], expected_default);
        cr_assert_eq(r.v[2], expected_default);
        cr_assert_eq(r.v[3], expected_default);
        cr_assert_eq(r.v[4], 0);
        cr_assert_eq(r.v[5], 1, "NoNewPrivs");
        cr_assert_eq(r.v[6], 2, "Seccomp");
        cr_assert_eq(r.unshare_errno, EPERM);
        sec_profile_free(p);
}

Test(security, final_drop_with_sys_admin_allows_unshare)
{
        char *add[] = {(char *)"SYS_ADMIN", NULL};
        char *drop[] = {(char *)"ALL", NULL};
        struct fixture f;
        struct sec_profile *p;
        struct final_result r;

        require_root();
        fixture_init(&f);
        f.spec.security_context.capabilities.add = add;
        f.spec.security_context.capabilities.drop = drop;
        p = build(&f);
        r = run_final(p, child_final_root);
        cr_assert_eq(r.rc, 0);
        cr_assert_eq(r.v[1], BIT(CAP_SYS_ADMIN));
        cr_assert_eq(r.v[3], BIT(CAP_SYS_ADMIN));
        cr_assert_eq(r.v[6], 2);
        /* Companion of the refusal above: the capability lifts the rule. */
        cr_assert_eq(r.unshare_errno, 0);
        cr_assert_eq(r.keyctl_errno, EPERM);
        sec_profile_free(p);
}

Test(security, final_privileged_keeps_everything)
{
        struct fixture f;
        struct sec_profile *p;
        struct final_result r;
        uint64_t own;

        require_root();
        fixture_init(&f);
        f.spec.security_context.privileged = true;
        p = build(&f);
        r = run_final(p, child_final_root);
        cr_assert_eq(r.rc, 0);
        /* Every capability we hold: a host without CAP_SYS_RESOURCE (this
         * one) cannot give it to a container either. */
        cr_assert_eq(status_hex("CapBnd", &own), 0);
        cr_assert_eq(r.v[1], sec_all_caps() & own);
        cr_assert_eq(r.v[3], sec_all_caps() & own);
        cr_assert_eq(r.v[6], 0, "Seccomp");
        cr_assert_eq(r.unshare_errno, 0);
        sec_profile_free(p);
}

#if defined(__x86_64__)
/* A 32-bit syscall from a 64-bit process (int 0x80): the compat ABI must
 * not be a way around a denylist. */
static int int80(int nr, int a, int b, int c)
{
        long ret;

        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
        return (int)ret;
}

enum { I386_GETPID = 20, I386_KEYCTL = 288 };

static void child_compat(struct sec_profile *p, int out)
{
        struct pr_error err = {};

        /* Is the compat ABI there at all? */
        put_int(out, int80(I386_GETPID, 0, 0, 0) == getpid());
        put_int(out, int80(I386_KEYCTL, 0, -3, 0));
        if (sec_seccomp_load(p, &err) < 0)
                _exit(3);
        put_int(out, int80(I386_KEYCTL, 0, -3, 0));
}

Test(security, seccomp_covers_the_32_bit_abi)
{
        struct fixture f;
        struct sec_profile *p;
        int v[3];

        require_root();
        fixture_init(&f);
        p = build(&f);
        cr_assert_eq(run_child(p, child_compat, v, 3), 3);
        if (!v[0]) {
                sec_profile_free(p);
                cr_skip_test("no 32-bit syscall ABI on this kernel");
        }
        cr_assert_neq(v[1], -EPERM, "keyctl refused without a filter");
        cr_assert_eq(v[2], -EPERM, "32-bit keyctl: %d", v[2]);
        sec_profile_free(p);
}
#endif

/* ---- Localhost profiles ---- */

static char root[64];

static void make_root(void)
{
        _cleanup_free_ char *dir = NULL;

        strcpy(root, "/tmp/podrun-seccomp-XXXXXX");
        cr_assert_not_null(mkdtemp(root));
        dir = pr_asprintf("%s/seccomp", root);
        cr_assert_eq(mkdir(dir, 0755), 0);
}

static void remove_root(void)
{
        struct pr_error err = {};

        if (root[0])
                (void)pr_rm_rf(root, &err);
        root[0] = '\0';
}

static struct sec_profile *build_localhost(struct fixture *f, const char *json, int want,
                                           struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/seccomp/p.json", root);
        _cleanup_free_ char *root_dir = pr_asprintf("%s/pods/web", root);
        struct sec_profile *p = NULL;
        FILE *fp = fopen(path, "we");

        cr_assert_not_null(fp);
        fputs(json, fp);
        fclose(fp);
        fixture_init(f);
        f->plan.root_dir = root_dir;
        f->pod.security_context.seccomp.type = SPEC_SECCOMP_LOCALHOST;
        f->pod.security_context.seccomp.localhost_profile = (char *)"p.json";
        cr_assert_eq(sec_profile_build(&f->plan, &f->c, &p, err), want, "%s", err->msg);
        f->plan.root_dir = NULL;
        return p;
}

static const char profile[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 95,"
    " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_AARCH64\"],"
    " \"syscalls\": ["
    "  {\"names\": [\"getcwd\", \"no_such_syscall\"], \"action\": \"SCMP_ACT_ERRNO\","
    "   \"errnoRet\": 13},"
    "  {\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ERRNO\"},"
    "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22,"
    "   \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},"
    "  {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 2,"
    "   \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
    "  {\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 2,"
    "   \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}}"
    " ]}";

static void child_localhost(struct sec_profile *p, int out)
{
        struct pr_error err = {};
        char buf[256];
        struct utsname u;

        if (sec_seccomp_load(p, &err) < 0)
                _exit(3);
        put(out, getcwd(buf, sizeof(buf)) ? 0 : -1);
        put(out, uname(&u));
        put(out, syscall(SYS_personality, 0xffffffffUL));
        put(out, syscall(SYS_getpid));
        put(out, syscall(SYS_getppid));
        put(out, syscall(SYS_getuid));
}

Test(security, localhost_profile_is_compiled_and_enforced, .init = make_root, .fini = remove_root)
{
        struct pr_error err = {};
        struct fixture f;
        struct sec_profile *p;
        int v[6];

        require_root();
        p = build_localhost(&f, profile, 0, &err);
        cr_assert_str_eq(sec_profile_seccomp_name(p), "Localhost");
        cr_assert_eq(run_child(p, child_localhost, v, 6), 6);
        cr_assert_eq(v[0], EACCES, "getcwd: %d", v[0]);
        cr_assert_eq(v[1], 95, "uname takes defaultErrnoRet: %d", v[1]);
        cr_assert_eq(v[2], EINVAL, "personality(0xffffffff): %d", v[2]);
        cr_assert_eq(v[3], 0, "getpid: %d", v[3]);
        /* The default capability set has no SYS_ADMIN: the included rule is
         * left out, the excluded one applies. */
        cr_assert_eq(v[4], 0, "getppid: %d", v[4]);
        cr_assert_eq(v[5], ENOENT, "getuid: %d", v[5]);
        sec_profile_free(p);
}

Test(security, localhost_profile_errors, .init = make_root, .fini = remove_root)
{
        struct pr_error err = {};
        struct fixture f;

        cr_assert_null(
            build_localhost(&f, "{\"defaultAction\": \"SCMP_ACT_NOPE\"}", -EINVAL, &err));
        cr_assert(strstr(err.msg, "missing or unknown defaultAction"), "%s", err.msg);
        cr_assert_null(build_localhost(&f, "[1, 2]", -EINVAL, &err));
        cr_assert(strstr(err.msg, "not a JSON object"), "%s", err.msg);
        cr_assert_null(build_localhost(&f,
                                       "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                                       "[{\"names\": [\"uname\"], \"action\": \"SCMP_ACT_FOO\"}]}",
                                       -EINVAL, &err));
        cr_assert(strstr(err.msg, "syscalls[0]: unknown action 'SCMP_ACT_FOO'"), "%s", err.msg);
        cr_assert_null(build_localhost(&f,
                                       "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                                       "[{\"names\": [\"uname\"], \"action\": \"SCMP_ACT_LOG\","
                                       " \"includes\": {\"minKernel\": \"4.8\"}}]}",
                                       -EINVAL, &err));
        cr_assert(strstr(err.msg, "'includes' other than caps is not supported"), "%s", err.msg);
}

Test(security, non_root_messages_are_kubelets)
{
        struct fixture f;
        struct pr_error err = {};

        fixture_init(&f);
        cr_assert_eq(sec_check_non_root(&f.plan, &f.c, &err), 0);
        f.pod.security_context.run_as_non_root = (struct spec_opt_bool){true, true};
        cr_assert_eq(sec_check_non_root(&f.plan, &f.c, &err), -EPERM);
        cr_assert_str_eq(err.msg, "container has runAsNonRoot and image will run as root "
                                  "(pod: \"web_default(0b6d2c1e-uid)\", container: app)");
        f.c.uid = 1000;
        cr_assert_eq(sec_check_non_root(&f.plan, &f.c, &err), 0);
        f.spec.security_context.run_as_user = (struct spec_opt_i64){true, 0};
        cr_assert_eq(sec_check_non_root(&f.plan, &f.c, &err), -EPERM);
        cr_assert_str_eq(err.msg, "container's runAsUser breaks non-root policy "
                                  "(pod: \"web_default(0b6d2c1e-uid)\", container: app)");
        /* The container's false overrides the pod's true. */
        f.spec.security_context.run_as_non_root = (struct spec_opt_bool){true, false};
        cr_assert_eq(sec_check_non_root(&f.plan, &f.c, &err), 0);
}
