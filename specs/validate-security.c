/* Security settings of the pod and its containers: user and group ids,
 * sysctls, seccomp, capabilities, procMount. The API server's rules, plus
 * the two kubelet applies before it runs a pod (the safe sysctl list) and
 * the runtime applies (known capability names), so that podrun refuses at
 * validation what would otherwise fail, or be unsafe, at start. It must
 * never look at the host (kernel version, /proc/sys): a manifest is valid
 * or not the same way on every machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

#define ID_RANGE_MSG "must be between 0 and 4294967295, inclusive"

static void check_id(struct val_ctx *c, const char *base, const char *name,
                     const struct spec_opt_i64 *id)
{
        _cleanup_free_ char *p = NULL;

        if (!id->set || (id->value >= 0 && id->value <= UINT32_MAX))
                return;
        p = val_path("%s.%s", base, name);
        val_invalid_int(c, p, id->value, ID_RANGE_MSG);
}

/* validatePathNoBacksteps: no ".." element anywhere. */
void val_local_backsteps(struct val_ctx *c, const char *path, const char *value)
{
        _cleanup_free_ char *copy = pr_strdup(value);
        char *save = NULL;

        for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save))
                if (strcmp(part, "..") == 0) {
                        /* One error makes the point, even for "../../..". */
                        val_invalid(c, path, value, "must not contain '..'");
                        return;
                }
}

/* validateLocalDescendingPath. */
void val_local_descending_path(struct val_ctx *c, const char *path, const char *value)
{
        if (value[0] == '/')
                val_invalid(c, path, value, "must be a relative path");
        val_local_backsteps(c, path, value);
}

static void check_seccomp(struct val_ctx *c, const char *base, const struct spec_seccomp *s)
{
        _cleanup_free_ char *p = val_path("%s.seccompProfile.localhostProfile", base);

        if (s->type == SPEC_SECCOMP_LOCALHOST) {
                if (!s->localhost_profile)
                        val_required(c, p, "must be set when seccomp type is Localhost");
                else
                        val_local_descending_path(c, p, s->localhost_profile);
        } else if (s->localhost_profile) {
                /* Kubernetes prints the whole Go struct here; the type says
                 * the same without a pointer address. */
                const char *t = spec_seccomp_type_to_string(s->type);

                val_invalid(c, p, t ? t : "", "can only be set when seccomp type is Localhost");
        }
}

/* kubelet's allowlist (pkg/kubelet/sysctl/safe_sysctls.go): namespaced,
 * isolated from the host and from other pods. Others need
 * --allowed-unsafe-sysctls on a kubelet, which podrun does not offer. */
static const char *const safe_sysctls[] = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    NULL,
};

#define SYSCTL_SEGMENT "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
#define SYSCTL_NAME_MSG                                                                            \
        "must have at most 253 characters and match regex ^(" SYSCTL_SEGMENT                       \
        "[\\./])*" SYSCTL_SEGMENT "$"

static bool is_sysctl_segment(const char *s, size_t n)
{
        if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        if (!((s[n - 1] >= 'a' && s[n - 1] <= 'z') || (s[n - 1] >= '0' && s[n - 1] <= '9')))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
                      s[i] == '_'))
                        return false;
        return true;
}

static bool is_sysctl_name(const char *name)
{
        const char *seg = name;

        if (strlen(name) > 253)
                return false;
        for (const char *p = name;; p++)
                if (*p == '.' || *p == '/' || *p == '\0') {
                        if (!is_sysctl_segment(seg, (size_t)(p - seg)))
                                return false;
                        if (*p == '\0')
                                return true;
                        seg = p + 1;
                }
}

/* "net/ipv4/conf/eth0.1/forwarding" is "net.ipv4.conf.eth0/1.forwarding":
 * with a slash anywhere, slashes and dots swap, as the runtime does. */
static char *sysctl_dotted(const char *name)
{
        char *s = pr_strdup(name);

        if (!strchr(s, '/'))
                return s;
        for (char *p = s; *p; p++)
                *p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
        return s;
}

/* CVE-2022-0811: the value goes to a "key=value" writer; a '+' or '=' or a
 * line break could smuggle a second, host-wide key after the first. */
static bool is_safe_sysctl_value(const char *v)
{
        for (; *v; v++)
                if (*v == '+' || *v == '=' || (unsigned char)*v < 0x20 || *v == 0x7f)
                        if (*v != ' ' && *v != '\t')
                                return false;
        return true;
}

static void check_sysctl(struct val_ctx *c, size_t i, const struct spec_kv *kv, bool duplicate)
{
        _cleanup_free_ char *name_path = val_path("spec.securityContext.sysctls[%zu].name", i);
        _cleanup_free_ char *value_path = val_path("spec.securityContext.sysctls[%zu].value", i);
        _cleanup_free_ char *dotted = NULL;
        const char *name = kv->key ? kv->key : "";
        bool safe = false;

        if (!*name) {
                val_required(c, name_path, NULL);
                return;
        }
        if (!is_sysctl_name(name)) {
                val_invalid(c, name_path, name, SYSCTL_NAME_MSG);
                return;
        }
        if (duplicate)
                val_duplicate(c, name_path, name);
        dotted = sysctl_dotted(name);
        if (c->pod->host_network && pr_startswith(dotted, "net."))
                val_invalid(c, name_path, name, "may not be specified when 'hostNetwork' is true");
        else if (c->pod->host_ipc &&
                 (pr_startswith(dotted, "kernel.shm") || pr_startswith(dotted, "kernel.msg") ||
                  strcmp(dotted, "kernel.sem") == 0 || pr_startswith(dotted, "fs.mqueue.")))
                val_invalid(c, name_path, name, "may not be specified when 'hostIPC' is true");
        for (size_t j = 0; safe_sysctls[j]; j++)
                safe = safe || strcmp(dotted, safe_sysctls[j]) == 0;
        if (!safe) {
                /* kubelet's admission words it so (reason SysctlForbidden). */
                _cleanup_free_ char *q = val_quote(name);
                _cleanup_free_ char *detail =
                    pr_asprintf("forbidden sysctl: %s not allowlisted", q);

                val_forbidden(c, name_path, detail);
        }
        if (!kv->value || !*kv->value)
                val_required(c, value_path, NULL);
        else if (!is_safe_sysctl_value(kv->value))
                val_invalid(c, value_path, kv->value,
                            "must not contain '+', '=' or control characters, which could set "
                            "other sysctls");
}

static void check_sysctls(struct val_ctx *c)
{
        const struct spec_map *m = &c->pod->security_context.sysctls;
        _cleanup_free_ const char **names = pr_calloc(m->n + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        for (size_t i = 0; i < m->n; i++)
                names[i] = m->items[i].key;
        dup = val_duplicates(names, m->n);
        for (size_t i = 0; i < m->n; i++)
                check_sysctl(c, i, &m->items[i], dup[i]);
}

/* validateHostUsers: a user namespace does not own the host's namespaces,
 * so the pod's root could not administer them. The API server's paths are
 * spelled so ("HostPID", "HostIPC"); the position is where each was written. */
static void check_host_users(struct val_ctx *c)
{
        static const char *const written[] = {"spec.hostNetwork", "spec.hostPID", "spec.hostIPC"};
        static const char *const reported[] = {"spec.hostNetwork", "spec.HostPID", "spec.HostIPC"};
        const bool on[] = {c->pod->host_network, c->pod->host_pid, c->pod->host_ipc};

        if (!c->pod->host_users.set || c->pod->host_users.value)
                return;
        for (size_t i = 0; i < PR_ELEMENTSOF(on); i++) {
                struct spec_pos pos;

                if (!on[i])
                        continue;
                pos = spec_pod_field_pos(c->pod, written[i]);
                c->pos_override = &pos;
                val_forbidden(c, reported[i], "when `pod.Spec.HostUsers` is false");
                c->pos_override = NULL;
        }
}

void val_pod_security(struct val_ctx *c)
{
        const struct spec_pod_security *s = &c->pod->security_context;
        const char *base = "spec.securityContext";

        check_id(c, base, "fsGroup", &s->fs_group);
        check_id(c, base, "runAsUser", &s->run_as_user);
        check_id(c, base, "runAsGroup", &s->run_as_group);
        for (size_t i = 0; i < s->n_supplemental_groups; i++) {
                _cleanup_free_ char *p = val_path("%s.supplementalGroups[%zu]", base, i);
                int64_t g = s->supplemental_groups[i];

                if (g < 0 || g > UINT32_MAX)
                        val_invalid_int(c, p, g, ID_RANGE_MSG);
        }
        if (c->pod->share_process_namespace && c->pod->host_pid) {
                struct spec_pos pos = spec_pod_field_pos(c->pod, "spec.shareProcessNamespace");

                /* Kubernetes keeps the field under securityContext internally. */
                c->pos_override = &pos;
                val_report(c, SPEC_ERROR, "spec.securityContext.shareProcessNamespace",
                           "Invalid value: true: ShareProcessNamespace and HostPID cannot both "
                           "be enabled");
                c->pos_override = NULL;
        }
        check_sysctls(c);
        check_seccomp(c, base, &s->seccomp);
        check_host_users(c);
}

/* Linux capability names, in the kernel's order (linux/capability.h). */
static const char *const capability_names[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
    NULL,
};

/* Kubernetes passes names through to the runtime, which upper-cases them
 * and adds "CAP_" when missing; "ALL" means every capability. */
bool spec_capability_known(const char *name)
{
        const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;

        if (strcasecmp(name, "ALL") == 0)
                return true;
        for (size_t i = 0; capability_names[i]; i++)
                if (strcasecmp(bare, capability_names[i]) == 0)
                        return true;
        return false;
}

static void check_capabilities(struct val_ctx *c, const char *base, char **list, const char *which)
{
        for (size_t i = 0; list && list[i]; i++) {
                _cleanup_free_ char *p = val_path("%s.capabilities.%s[%zu]", base, which, i);

                if (!spec_capability_known(list[i]))
                        val_invalid(c, p, list[i], "not a Linux capability");
        }
}

void val_container_security(struct val_ctx *c, const char *base,
                            const struct spec_container_security *s)
{
        bool host_users = !c->pod->host_users.set || c->pod->host_users.value;
        _cleanup_free_ char *sc = val_path("%s.securityContext", base);
        _cleanup_free_ char *pm = val_path("%s.procMount", sc);

        check_id(c, sc, "runAsUser", &s->run_as_user);
        check_id(c, sc, "runAsGroup", &s->run_as_group);
        if (s->proc_mount == SPEC_PROC_MOUNT_UNMASKED && host_users)
                val_invalid(c, pm, "Unmasked", "`hostUsers` must be false to use `Unmasked`");
        check_seccomp(c, sc, &s->seccomp);
        if (s->allow_privilege_escalation.set && !s->allow_privilege_escalation.value) {
                if (s->privileged)
                        val_invalid(c, sc, "privileged: true",
                                    "cannot set `allowPrivilegeEscalation` to false and "
                                    "`privileged` to true");
                for (size_t i = 0; s->capabilities.add && s->capabilities.add[i]; i++)
                        if (strcmp(s->capabilities.add[i], "CAP_SYS_ADMIN") == 0)
                                val_invalid(c, sc, "capabilities.add: CAP_SYS_ADMIN",
                                            "cannot set `allowPrivilegeEscalation` to false and "
                                            "`capabilities.Add` CAP_SYS_ADMIN");
        }
        check_capabilities(c, sc, s->capabilities.add, "add");
        check_capabilities(c, sc, s->capabilities.drop, "drop");
}
