/* The security profile of one container: capabilities, no_new_privs,
 * seccomp, masked and read-only /proc and /sys paths, rlimits. Everything is
 * computed in the parent by sec_profile_build() before clone; the child only
 * applies it (sec_apply_masks() after pivot_root, sec_apply_final() just
 * before execve), so nothing that can fail for a policy reason happens
 * between clone and exec. docs/security.md describes the default profile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pr_error;
struct pod_plan;
struct plan_container;

struct sec_profile;

/* The capabilities containerd and CRI-O grant by default, as a bit mask of
 * CAP_* numbers. */
uint64_t sec_default_caps(void);
/* Every capability the running kernel knows (0 .. cap_max_bits() - 1). */
uint64_t sec_all_caps(void);

/* Resolves "NET_ADMIN", "net_admin" or "CAP_NET_ADMIN" to its number.
 * Returns the number, or -EINVAL for a name this libcap does not know. */
int sec_cap_from_name(const char *name);

/* Applies securityContext.capabilities to the default set exactly as
 * containerd does: add ALL, then drop ALL, then each add, then each drop.
 * Fails with a usage error naming an unknown capability. */
int sec_caps_compute(char *const *add, char *const *drop, uint64_t *ret_caps, struct pr_error *err);

/* Parent side, before clone. Reads c->spec->security_context and
 * plan->spec->security_context; never touches the kernel's state except to
 * read our own rlimits. */
int sec_profile_build(const struct pod_plan *plan, const struct plan_container *c,
                      struct sec_profile **ret, struct pr_error *err);
struct sec_profile *sec_profile_free(struct sec_profile *p);

/* What `ps` and `inspect` show. */
uint64_t sec_profile_caps(const struct sec_profile *p);
bool sec_profile_no_new_privs(const struct sec_profile *p);
bool sec_profile_masks(const struct sec_profile *p);
/* "RuntimeDefault", "Localhost" or "Unconfined". */
const char *sec_profile_seccomp_name(const struct sec_profile *p);

/* Refuses a container that would run as UID 0 under runAsNonRoot, with
 * kubelet's messages (the supervisor reports it as CreateContainerConfigError).
 * c->uid is the UID the plan resolved (runAsUser, else the image's user). */
int sec_check_non_root(const struct pod_plan *plan, const struct plan_container *c,
                       struct pr_error *err);

/* CHILD, in the container's new root after pivot_root, with /proc, /sys and
 * /dev (holding null) mounted: masks and read-only paths. Nothing for a
 * privileged container or procMount: Unmasked. Paths this kernel lacks are
 * skipped. */
int sec_apply_masks(const struct sec_profile *p, struct pr_error *err);

/* CHILD: sets the container's rlimits (never above our own hard limit).
 * sec_apply_final() calls it first; exported for exec and infra. */
int sec_apply_rlimits(const struct sec_profile *p, struct pr_error *err);

/* CHILD: installs the seccomp filter alone (nothing for Unconfined). Needs
 * no_new_privs or CAP_SYS_ADMIN in the effective set. */
int sec_seccomp_load(const struct sec_profile *p, struct pr_error *err);

/* CHILD, the last thing before execve, after the caller did
 * prctl(PR_SET_KEEPCAPS, 1) and setgroups/setresgid/setresuid to the
 * container's identity: rlimits, bounding set, permitted = effective =
 * the profile's set, inheritable and ambient empty, KEEPCAPS off,
 * no_new_privs when asked, seccomp. */
int sec_apply_final(const struct sec_profile *p, struct pr_error *err);

/* Policy tables, for docs and tests. */
struct sec_syscall_rule {
        const char *name;
        uint64_t allowed_by; /* caps that lift the rule (any of them), 0: never */
        int errnum;          /* errno the filter returns */
};
extern const struct sec_syscall_rule sec_seccomp_rules[];
extern const size_t sec_seccomp_n_rules;
extern const char *const sec_masked_paths[];
extern const size_t sec_n_masked_paths;
extern const char *const sec_readonly_paths[];
extern const size_t sec_n_readonly_paths;

#define SEC_NOFILE_DEFAULT 1024
