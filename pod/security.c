/* security.c owns the container security profile: capability sets, the
 * no_new_privs decision, the seccomp filter (compiled here, in the parent,
 * with libseccomp), masked and read-only paths and rlimits. It must never
 * decide anything in the child: the child functions only replay what
 * sec_profile_build() computed, make no policy choice and allocate nothing
 * but a few fds. It never mounts by a path string a container could have
 * changed: every target is opened with RESOLVE_NO_SYMLINKS and mounted
 * through its fd. */
#include "pod/security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/security-int.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

enum sec_seccomp_mode {
        SEC_SECCOMP_UNCONFINED,
        SEC_SECCOMP_RUNTIME_DEFAULT,
        SEC_SECCOMP_LOCALHOST,
};

struct sec_profile {
        uint64_t caps;
        bool no_new_privs;
        bool masks; /* masked and read-only paths */
        enum sec_seccomp_mode seccomp;
        struct sock_filter *bpf; /* the compiled filter, NULL when unconfined */
        size_t n_bpf;
        struct rlimit nofile;
};

/* containerd's and CRI-O's default set (REFERENCE.md). */
static const int default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

const char *const sec_masked_paths[] = {
    "/proc/acpi",        "/proc/asound",        "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};
const size_t sec_n_masked_paths = PR_ELEMENTSOF(sec_masked_paths);

const char *const sec_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
const size_t sec_n_readonly_paths = PR_ELEMENTSOF(sec_readonly_paths);

/* A denylist with a default of allow: Docker's profile is an allowlist, but
 * what it refuses to a container without extra capabilities is exactly this
 * list (plus syscalls that no longer exist). A rule is lifted when the
 * profile holds any capability in allowed_by, as Docker's "includes caps"
 * entries do. Names this architecture lacks are skipped. */
#define C(x) CAPBIT(CAP_##x)
const struct sec_syscall_rule sec_seccomp_rules[] = {
    {"kexec_load", C(SYS_BOOT), EPERM},
    {"kexec_file_load", C(SYS_BOOT), EPERM},
    {"reboot", C(SYS_BOOT), EPERM},
    {"init_module", C(SYS_MODULE), EPERM},
    {"finit_module", C(SYS_MODULE), EPERM},
    {"delete_module", C(SYS_MODULE), EPERM},
    {"open_by_handle_at", C(DAC_READ_SEARCH), EPERM},
    {"keyctl", 0, EPERM},
    {"add_key", 0, EPERM},
    {"request_key", 0, EPERM},
    {"bpf", C(SYS_ADMIN) | C(BPF), EPERM},
    {"perf_event_open", C(SYS_ADMIN) | C(PERFMON), EPERM},
    {"userfaultfd", C(SYS_PTRACE), EPERM},
    {"io_uring_setup", 0, EPERM},
    {"io_uring_enter", 0, EPERM},
    {"io_uring_register", 0, EPERM},
    {"swapon", C(SYS_ADMIN), EPERM},
    {"swapoff", C(SYS_ADMIN), EPERM},
    {"acct", C(SYS_PACCT), EPERM},
    {"iopl", C(SYS_RAWIO), EPERM},
    {"ioperm", C(SYS_RAWIO), EPERM},
    {"settimeofday", C(SYS_TIME), EPERM},
    {"clock_settime", C(SYS_TIME), EPERM},
    {"stime", C(SYS_TIME), EPERM},
    {"mount", C(SYS_ADMIN), EPERM},
    {"umount", C(SYS_ADMIN), EPERM},
    {"umount2", C(SYS_ADMIN), EPERM},
    {"unshare", C(SYS_ADMIN), EPERM},
    {"setns", C(SYS_ADMIN), EPERM},
    {"sethostname", C(SYS_ADMIN), EPERM},
    {"setdomainname", C(SYS_ADMIN), EPERM},
    {"pivot_root", C(SYS_ADMIN), EPERM},
    {"fsopen", C(SYS_ADMIN), EPERM},
    {"fsconfig", C(SYS_ADMIN), EPERM},
    {"fsmount", C(SYS_ADMIN), EPERM},
    {"fspick", C(SYS_ADMIN), EPERM},
    {"move_mount", C(SYS_ADMIN), EPERM},
    {"open_tree", C(SYS_ADMIN), EPERM},
    {"mount_setattr", C(SYS_ADMIN), EPERM},
    {"quotactl", C(SYS_ADMIN), EPERM},
    {"lookup_dcookie", C(SYS_ADMIN), EPERM},
    {"fanotify_init", C(SYS_ADMIN), EPERM},
    {"syslog", C(SYS_ADMIN) | C(SYSLOG), EPERM},
    {"vhangup", C(SYS_TTY_CONFIG), EPERM},
    {"process_vm_readv", C(SYS_PTRACE), EPERM},
    {"process_vm_writev", C(SYS_PTRACE), EPERM},
    {"nfsservctl", 0, EPERM},
    {"uselib", 0, EPERM},
    {"ustat", 0, EPERM},
    {"sysfs", 0, EPERM},
    {"_sysctl", 0, EPERM},
    {"vm86", 0, EPERM},
    {"vm86old", 0, EPERM},
    /* clone3 passes its flags in memory, which seccomp cannot read:
     * ENOSYS makes libc fall back to clone, whose flags are checked. */
    {"clone3", C(SYS_ADMIN), ENOSYS},
};
#undef C
const size_t sec_seccomp_n_rules = PR_ELEMENTSOF(sec_seccomp_rules);

/* clone() flags that make namespaces: refused without CAP_SYS_ADMIN. */
static const uint64_t clone_ns_flags[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

uint64_t sec_default_caps(void)
{
        uint64_t caps = 0;

        for (size_t i = 0; i < PR_ELEMENTSOF(default_caps); i++)
                caps |= CAPBIT(default_caps[i]);
        return caps;
}

uint64_t sec_all_caps(void)
{
        int n = cap_max_bits();

        if (n <= 0 || n > 64)
                n = CAP_LAST_CAP + 1;
        return n == 64 ? UINT64_MAX : CAPBIT(n) - 1;
}

int sec_cap_from_name(const char *name)
{
        _cleanup_free_ char *lower = NULL;
        cap_value_t v;
        size_t i;

        if (!name || !*name)
                return -EINVAL;
        /* Kubernetes writes names without the prefix; accept both. */
        lower = pr_startswith(name, "CAP_") || pr_startswith(name, "cap_")
                    ? pr_strdup(name)
                    : pr_asprintf("cap_%s", name);
        for (i = 0; lower[i]; i++)
                if (lower[i] >= 'A' && lower[i] <= 'Z')
                        lower[i] = (char)(lower[i] - 'A' + 'a');
        if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
                return -EINVAL;
        /* libcap accepts plain numbers too; Kubernetes does not. */
        if (lower[4] >= '0' && lower[4] <= '9')
                return -EINVAL;
        if (!(sec_all_caps() & CAPBIT(v)))
                return -EINVAL;
        return (int)v;
}

static bool strv_has_all(char *const *v)
{
        for (; v && *v; v++)
                if (strcasecmp(*v, "ALL") == 0)
                        return true;
        return false;
}

static int apply_cap_list(char *const *v, bool add, uint64_t *caps, struct pr_error *err)
{
        for (; v && *v; v++) {
                int c;

                if (strcasecmp(*v, "ALL") == 0)
                        continue;
                c = sec_cap_from_name(*v);
                if (c < 0)
                        return pr_err_usage(err, "capabilities: %s: unknown capability '%s'",
                                            add ? "add" : "drop", *v);
                if (add)
                        *caps |= CAPBIT(c);
                else
                        *caps &= ~CAPBIT(c);
        }
        return 0;
}

int sec_caps_compute(char *const *add, char *const *drop, uint64_t *ret_caps, struct pr_error *err)
{
        uint64_t caps = sec_default_caps();
        int r;

        /* containerd's order (WithCapabilities): ALL first so that single
         * names still refine it, e.g. add ALL + drop CHOWN. */
        if (strv_has_all(add))
                caps = sec_all_caps();
        if (strv_has_all(drop))
                caps = 0;
        r = apply_cap_list(add, true, &caps, err);
        if (r < 0)
                return r;
        r = apply_cap_list(drop, false, &caps, err);
        if (r < 0)
                return r;
        *ret_caps = caps;
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sec_syscall_rule *rule, struct pr_error *err)
{
        int nr = seccomp_syscall_resolve_name(rule->name);
        int r;

        if (nr == __NR_SCMP_ERROR)
                return 0;
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)rule->errnum), nr, 0);
        /* -EDOM: a pseudo-syscall absent from every architecture of the filter. */
        if (r < 0 && r != -EDOM)
                return pr_err(err, r, "seccomp: rule for '%s'", rule->name);
        return 0;
}

static int add_clone_rules(scmp_filter_ctx ctx, struct pr_error *err)
{
        for (size_t i = 0; i < PR_ELEMENTSOF(clone_ns_flags); i++) {
                uint64_t f = clone_ns_flags[i];
                int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                         SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));

                if (r < 0)
                        return pr_err(err, r, "seccomp: rule for 'clone'");
        }
        return 0;
}

/* The other ABIs a native binary can reach (int 0x80, x32): without them a
 * 32-bit syscall would be killed, as Docker's profile lists them too. */
void sec_seccomp_add_compat_arches(scmp_filter_ctx ctx)
{
        uint32_t native = seccomp_arch_native();

        if (native == SCMP_ARCH_X86_64) {
                (void)seccomp_arch_add(ctx, SCMP_ARCH_X86);
                (void)seccomp_arch_add(ctx, SCMP_ARCH_X32);
        } else if (native == SCMP_ARCH_AARCH64) {
                (void)seccomp_arch_add(ctx, SCMP_ARCH_ARM);
        }
}

int sec_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_n,
                       struct pr_error *err)
{
        _cleanup_free_ struct sock_filter *bpf = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        ssize_t n;
        int r;

        /* libseccomp 2.5 has no in-memory export: go through a memfd. */
        fd = memfd_create("podrun-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return pr_err(err, errno, "seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return pr_err(err, r, "seccomp: export the filter");
        if (fstat(fd, &st) < 0)
                return pr_err(err, errno, "seccomp: fstat");
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return pr_err_msg(err, EINVAL, "seccomp: the filter has an invalid size %jd",
                                  (intmax_t)st.st_size);
        bpf = pr_malloc((size_t)st.st_size);
        n = pread(fd, bpf, (size_t)st.st_size, 0);
        if (n != st.st_size)
                return pr_err(err, n < 0 ? errno : EIO, "seccomp: read the filter back");
        *ret_n = (size_t)st.st_size / sizeof(struct sock_filter);
        *ret = PR_TAKE_PTR(bpf);
        return 0;
}

static int compile_seccomp(struct sec_profile *p, struct pr_error *err)
{
        scmp_filter_ctx ctx;
        int r = 0;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return pr_err_msg(err, ENOMEM, "seccomp: seccomp_init failed");
        sec_seccomp_add_compat_arches(ctx);
        for (size_t i = 0; i < sec_seccomp_n_rules && r >= 0; i++)
                if (!(p->caps & sec_seccomp_rules[i].allowed_by))
                        r = add_rule(ctx, &sec_seccomp_rules[i], err);
        if (r >= 0 && !(p->caps & CAPBIT(CAP_SYS_ADMIN)))
                r = add_clone_rules(ctx, err);
        if (r >= 0)
                r = sec_seccomp_export(ctx, &p->bpf, &p->n_bpf, err);
        seccomp_release(ctx);
        return r;
}

/* kubelet reads Localhost profiles under <root-dir>/seccomp; podrun under
 * <--root>/seccomp, found from the pod's <root>/pods/<name>. The spec's
 * validation already keeps the name relative and without "..". */
static int compile_localhost(const struct pod_plan *plan, const char *name, struct sec_profile *p,
                             struct pr_error *err)
{
        _cleanup_free_ char *suffix = pr_asprintf("/pods/%s", plan->name);
        _cleanup_free_ char *root = NULL, *path = NULL;

        if (!name || !*name || name[0] == '/' || strstr(name, ".."))
                return pr_err_usage(err,
                                    "seccomp profile Localhost '%s': must be a relative "
                                    "path without '..'",
                                    name ? name : "");
        if (!plan->root_dir || !pr_endswith(plan->root_dir, suffix))
                return pr_err_msg(err, EINVAL, "seccomp profile Localhost: no root directory");
        root = pr_strndup(plan->root_dir, strlen(plan->root_dir) - strlen(suffix));
        path = pr_asprintf("%s/seccomp/%s", root, name);
        return sec_seccomp_localhost(path, p->caps, &p->bpf, &p->n_bpf, err);
}

struct sec_profile *sec_profile_free(struct sec_profile *p)
{
        if (!p)
                return NULL;
        free(p->bpf);
        free(p);
        return NULL;
}
PR_DEFINE_FREE_FUNC(struct sec_profile, sec_profile_free)

static enum spec_seccomp_type effective_seccomp(const struct pod_plan *plan,
                                                const struct spec_container *s,
                                                const char **ret_localhost)
{
        const struct spec_seccomp *pod = plan->spec ? &plan->spec->security_context.seccomp : NULL;

        if (s->security_context.seccomp.type != SPEC_SECCOMP_UNSET) {
                *ret_localhost = s->security_context.seccomp.localhost_profile;
                return s->security_context.seccomp.type;
        }
        if (pod && pod->type != SPEC_SECCOMP_UNSET) {
                *ret_localhost = pod->localhost_profile;
                return pod->type;
        }
        /* podrun's stance: RuntimeDefault when nothing is asked, as
         * kubelet's SeccompDefault does (docs/security.md). */
        *ret_localhost = NULL;
        return SPEC_SECCOMP_RUNTIME_DEFAULT;
}

static void compute_nofile(struct rlimit *ret)
{
        struct rlimit own = {RLIM_INFINITY, RLIM_INFINITY};
        rlim_t want = SEC_NOFILE_DEFAULT;

        /* Never ask for more than we hold: raising a hard limit needs
         * CAP_SYS_RESOURCE, which podrun may not have. */
        (void)getrlimit(RLIMIT_NOFILE, &own);
        if (own.rlim_max != RLIM_INFINITY && own.rlim_max < want)
                want = own.rlim_max;
        ret->rlim_cur = want;
        ret->rlim_max = want;
}

int sec_profile_build(const struct pod_plan *plan, const struct plan_container *c,
                      struct sec_profile **ret, struct pr_error *err)
{
        _cleanup_(sec_profile_freep) struct sec_profile *p = NULL;
        const struct spec_container_security *sc;
        const char *localhost = NULL;
        enum spec_seccomp_type type;
        int r;

        if (!c->spec)
                return pr_err_msg(err, EINVAL, "container '%s': security: no spec", c->name);
        sc = &c->spec->security_context;
        p = pr_calloc(1, sizeof(*p));
        compute_nofile(&p->nofile);
        /* Kubernetes sets no_new_privs only for an explicit false. */
        p->no_new_privs =
            sc->allow_privilege_escalation.set && !sc->allow_privilege_escalation.value;
        if (sc->privileged) {
                /* Privileged: every capability, no seccomp, nothing masked. */
                p->caps = sec_all_caps();
                *ret = PR_TAKE_PTR(p);
                return 0;
        }
        r = sec_caps_compute(sc->capabilities.add, sc->capabilities.drop, &p->caps, err);
        if (r < 0)
                return pr_err_wrap(err, "container '%s'", c->name);
        p->masks = sc->proc_mount != SPEC_PROC_MOUNT_UNMASKED;
        type = effective_seccomp(plan, c->spec, &localhost);
        if (type == SPEC_SECCOMP_LOCALHOST) {
                p->seccomp = SEC_SECCOMP_LOCALHOST;
                r = compile_localhost(plan, localhost, p, err);
                if (r < 0)
                        return pr_err_wrap(err, "container '%s'", c->name);
        }
        if (type == SPEC_SECCOMP_RUNTIME_DEFAULT) {
                p->seccomp = SEC_SECCOMP_RUNTIME_DEFAULT;
                r = compile_seccomp(p, err);
                if (r < 0)
                        return pr_err_wrap(err, "container '%s'", c->name);
        }
        *ret = PR_TAKE_PTR(p);
        return 0;
}

uint64_t sec_profile_caps(const struct sec_profile *p)
{
        return p->caps;
}

bool sec_profile_no_new_privs(const struct sec_profile *p)
{
        return p->no_new_privs;
}

bool sec_profile_masks(const struct sec_profile *p)
{
        return p->masks;
}

const char *sec_profile_seccomp_name(const struct sec_profile *p)
{
        static const char *const names[] = {
            [SEC_SECCOMP_UNCONFINED] = "Unconfined",
            [SEC_SECCOMP_RUNTIME_DEFAULT] = "RuntimeDefault",
            [SEC_SECCOMP_LOCALHOST] = "Localhost",
        };

        return names[p->seccomp];
}

int sec_check_non_root(const struct pod_plan *plan, const struct plan_container *c,
                       struct pr_error *err)
{
        const struct spec_container_security *sc = &c->spec->security_context;
        const struct spec_pod_security *ps = &plan->spec->security_context;
        struct spec_opt_bool non_root =
            sc->run_as_non_root.set ? sc->run_as_non_root : ps->run_as_non_root;
        struct spec_opt_i64 user = sc->run_as_user.set ? sc->run_as_user : ps->run_as_user;
        const char *ns = plan->spec->namespace ? plan->spec->namespace : "default";

        if (!non_root.set || !non_root.value)
                return 0;
        /* kubelet's verifyRunAsNonRoot, word for word; the pod is printed as
         * format.Pod does: name_namespace(uid). */
        if (user.set && user.value == 0)
                return pr_err_msg(err, EPERM,
                                  "container's runAsUser breaks non-root policy "
                                  "(pod: \"%s_%s(%s)\", container: %s)",
                                  plan->name, ns, plan->uid ? plan->uid : "", c->name);
        if (!user.set && c->uid == 0)
                return pr_err_msg(err, EPERM,
                                  "container has runAsNonRoot and image will run as root "
                                  "(pod: \"%s_%s(%s)\", container: %s)",
                                  plan->name, ns, plan->uid ? plan->uid : "", c->name);
        return 0;
}

/* ---- Child side: from here on nothing decides, it only applies. ---- */

/* Opens a path of the new root without following any symlink, and checks
 * it lies on the file system the path promises (procfs under /proc, sysfs
 * under /sys), so a planted directory or symlink is refused, not masked.
 * -ENOENT: this kernel lacks it. */
static int open_kernel_path(const char *path, struct pr_error *err)
{
        struct open_how how = {
            .flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
            .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        unsigned long want = pr_startswith(path, "/proc/") ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
        _cleanup_close_ int fd = -1;
        struct statfs sfs;

        /* RESOLVE_NO_XDEV from the root would refuse /proc itself: start at
         * the mount's top directory instead. */
        const char *top = want == PROC_SUPER_MAGIC ? "/proc" : "/sys";
        _cleanup_close_ int topfd = open(top, O_PATH | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY);

        if (topfd < 0)
                return pr_err(err, errno, "open '%s'", top);
        if (fstatfs(topfd, &sfs) < 0)
                return pr_err(err, errno, "statfs '%s'", top);
        if ((unsigned long)sfs.f_type != want)
                return pr_err_msg(err, EXDEV, "'%s' is not the kernel's file system", top);
        fd = (int)syscall(SYS_openat2, topfd, path + strlen(top) + 1, &how, sizeof(how));
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : pr_err(err, errno, "open '%s'", path);
        return PR_TAKE_FD(fd);
}

static int fd_path(int fd, char buf[static 64])
{
        return snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* The container's /dev/null, checked to be the real device: a symlink or
 * another file there would turn every mask into a window (CVE-2025-31133). */
static int open_dev_null(struct pr_error *err)
{
        _cleanup_close_ int fd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;

        if (fd < 0)
                return pr_err(err, errno, "open '/dev/null'");
        if (fstat(fd, &st) < 0)
                return pr_err(err, errno, "stat '/dev/null'");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return pr_err_msg(err, EPERM, "'/dev/null' is not the null device");
        return PR_TAKE_FD(fd);
}

static int mask_path(const char *path, int null_fd, struct pr_error *err)
{
        _cleanup_close_ int fd = -1;
        char target[64], source[64];
        struct stat st;
        int r;

        r = open_kernel_path(path, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        fd = r;
        if (fstat(fd, &st) < 0)
                return pr_err(err, errno, "stat '%s'", path);
        fd_path(fd, target);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=0755,size=0") < 0)
                        return pr_err(err, errno, "mask '%s'", path);
                return 0;
        }
        fd_path(null_fd, source);
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return pr_err(err, errno, "mask '%s'", path);
        return 0;
}

/* A recursive read-only bind of the path onto itself, made detached and
 * then moved, so no submount under it stays writable. */
static int readonly_path(const char *path, struct pr_error *err)
{
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        _cleanup_close_ int fd = -1, tree = -1;
        int r;

        r = open_kernel_path(path, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        fd = r;
        tree =
            open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return pr_err(err, errno, "read-only '%s': open_tree", path);
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return pr_err(err, errno, "read-only '%s': mount_setattr", path);
        if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return pr_err(err, errno, "read-only '%s': move_mount", path);
        return 0;
}

int sec_apply_masks(const struct sec_profile *p, struct pr_error *err)
{
        _cleanup_close_ int null_fd = -1;
        int r;

        if (!p->masks)
                return 0;
        null_fd = open_dev_null(err);
        if (null_fd < 0)
                return null_fd;
        for (size_t i = 0; i < sec_n_masked_paths; i++) {
                r = mask_path(sec_masked_paths[i], null_fd, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < sec_n_readonly_paths; i++) {
                r = readonly_path(sec_readonly_paths[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sec_apply_rlimits(const struct sec_profile *p, struct pr_error *err)
{
        if (setrlimit(RLIMIT_NOFILE, &p->nofile) < 0)
                return pr_err(err, errno, "setrlimit NOFILE %ju:%ju", (uintmax_t)p->nofile.rlim_cur,
                              (uintmax_t)p->nofile.rlim_max);
        return 0;
}

int sec_seccomp_load(const struct sec_profile *p, struct pr_error *err)
{
        struct sock_fprog prog;

        if (p->seccomp == SEC_SECCOMP_UNCONFINED)
                return 0;
        prog.len = (unsigned short)p->n_bpf;
        prog.filter = p->bpf;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return pr_err(err, errno, "seccomp: load the filter");
        return 0;
}

/* Raw capget/capset: no allocation between clone and exec. */
static int caps_get(struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};

        return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

static int caps_set(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[2] = {
            {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
            {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32),
             (uint32_t)(inheritable >> 32)},
        };

        return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int drop_bounding(uint64_t keep, struct pr_error *err)
{
        for (int c = 0; c < 64; c++) {
                int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);

                if (r < 0 && errno == EINVAL)
                        break; /* past the kernel's last capability */
                if (r <= 0 || (keep & CAPBIT(c)))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
                        return pr_err(err, errno, "capabilities: drop %d from the bounding set", c);
        }
        return 0;
}

int sec_apply_final(const struct sec_profile *p, struct pr_error *err)
{
        struct __user_cap_data_struct cur[2];
        uint64_t permitted;
        int r;

        r = sec_apply_rlimits(p, err);
        if (r < 0)
                return r;
        /* After setresuid() to a non-root user with KEEPCAPS the effective
         * set is empty; dropping the bounding set needs CAP_SETPCAP. */
        r = caps_get(cur);
        if (r < 0)
                return pr_err(err, r, "capabilities: capget");
        permitted = cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
        r = caps_set(permitted, permitted, 0);
        if (r < 0)
                return pr_err(err, r, "capabilities: raise the effective set");
        /* Without no_new_privs the kernel accepts a filter only from a holder
         * of CAP_SYS_ADMIN, so it goes in now, while we still have it, as
         * runc does; the rest below uses no syscall the filter refuses. */
        if (!p->no_new_privs) {
                r = sec_seccomp_load(p, err);
                if (r < 0)
                        return r;
        }
        r = drop_bounding(p->caps, err);
        if (r < 0)
                return r;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pr_err(err, errno, "capabilities: clear the ambient set");
        r = caps_set(p->caps & permitted, p->caps & permitted, 0);
        if (r < 0)
                return pr_err(err, r, "capabilities: capset");
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return pr_err(err, errno, "capabilities: PR_SET_KEEPCAPS");
        if (p->no_new_privs) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return pr_err(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
                r = sec_seccomp_load(p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
