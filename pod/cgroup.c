/* cgroup.c owns the pod's and its containers' cgroups on v1 and v2: where
 * they live, their limits, moving processes in, OOM counters, killing what
 * is inside and removing them. It must never touch a cgroup outside
 * <hierarchy>/<parent>/pod-<name> (nothing above it is ever written but
 * cgroup.subtree_control, which only enables controllers), never signal
 * itself, and never wait without a bound. */
#include "pod/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cgroup-int.h"
#include "specs/specs.h"

/* Hierarchies a cgroup lives in. In v2 mode only CG_UNIFIED is used; in v1
 * mode the controllers, plus CG_UNIFIED when a cgroup2 mount sits at
 * <root>/unified (hybrid), for tracking and cgroup.kill. */
enum cg_slot {
        CG_MEMORY,
        CG_CPU,
        CG_CPUACCT,
        CG_PIDS,
        CG_FREEZER,
        CG_DEVICES,
        CG_UNIFIED,
        _CG_SLOT_MAX,
};

static const char *const slot_names[_CG_SLOT_MAX] = {
    [CG_MEMORY] = "memory",   [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpuacct",
    [CG_PIDS] = "pids",       [CG_FREEZER] = "freezer", [CG_DEVICES] = "devices",
    [CG_UNIFIED] = "unified",
};

struct cg {
        enum cg_mode mode;
        char *name; /* "pod 'web'" or "container 'app'", for messages */
        char *paths[_CG_SLOT_MAX];
};

static const char *const mode_names[_CG_MODE_MAX] = {
    [CG_MODE_AUTO] = "auto",
    [CG_MODE_V1] = "v1",
    [CG_MODE_V2] = "v2",
};

const char *cg_mode_to_string(enum cg_mode m)
{
        return m >= 0 && m < _CG_MODE_MAX ? mode_names[m] : NULL;
}

enum cg_mode cg_mode_from_string(const char *s)
{
        for (int i = 0; i < _CG_MODE_MAX; i++)
                if (pr_streq(s, mode_names[i]))
                        return (enum cg_mode)i;
        return _CG_MODE_INVALID;
}

uint64_t cg_cpu_shares_from_milli(int64_t milli)
{
        /* MilliCPUToShares: min 2, max 262144. */
        uint64_t shares;

        if (milli <= 0)
                return 2;
        if (milli > INT64_MAX / 1024)
                return 262144;
        shares = (uint64_t)milli * 1024 / 1000;
        if (shares < 2)
                return 2;
        return shares > 262144 ? 262144 : shares;
}

int64_t cg_cpu_quota_from_milli(int64_t milli)
{
        /* MilliCPUToQuota: no limit for 0, at least 1 ms per period. */
        int64_t quota;

        if (milli <= 0)
                return 0;
        if (milli > INT64_MAX / CG_CPU_PERIOD_USEC)
                return INT64_MAX / 1000;
        quota = milli * CG_CPU_PERIOD_USEC / 1000;
        return quota < 1000 ? 1000 : quota;
}

uint64_t cg_cpu_weight_from_shares(uint64_t shares)
{
        /* CpuSharesToCpuWeight, runc's formula: [2, 262144] -> [1, 10000]. */
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

void cg_limits_from_container(const struct spec_container *s, const struct cg_options *opts,
                              struct cg_limits *ret)
{
        const struct spec_resources *r = &s->resources;
        int64_t pids = opts && opts->pids_max ? opts->pids_max : CG_PIDS_MAX_DEFAULT;

        *ret = (struct cg_limits){};
        if (r->limits.memory.set)
                ret->memory_bytes = r->limits.memory.value;
        if (r->limits.cpu.set)
                ret->cpu_quota_usec = cg_cpu_quota_from_milli(r->limits.cpu.milli_value);
        /* kubelet: a missing request defaults to the limit; neither gives
         * the minimum, 2 shares, as for a BestEffort container. */
        if (r->requests.cpu.set)
                ret->cpu_shares = cg_cpu_shares_from_milli(r->requests.cpu.milli_value);
        else if (r->limits.cpu.set)
                ret->cpu_shares = cg_cpu_shares_from_milli(r->limits.cpu.milli_value);
        else
                ret->cpu_shares = cg_cpu_shares_from_milli(0);
        ret->pids_max = pids > 0 ? pids : 0;
        ret->restrict_devices = !s->security_context.privileged;
}

/* A pod-level total as kubelet computes it (PodRequests/PodLimits): the
 * app containers and sidecars add up; a run-to-completion init container
 * runs alone, so the pod needs the larger of the two. Sidecars started
 * before an init container add to it. ok is cleared when some container
 * has no value, which leaves the pod without a limit. */
static int64_t pod_total(const struct spec_pod *pod, int64_t (*get)(const struct spec_container *),
                         bool *ok)
{
        int64_t sum = 0, sidecars = 0, peak = 0;

        for (size_t i = 0; i < pod->n_init_containers; i++) {
                const struct spec_container *c = &pod->init_containers[i];
                int64_t v = get(c);

                if (v <= 0)
                        *ok = false;
                if (c->has_restart_policy && c->restart_policy == SPEC_RESTART_ALWAYS)
                        sidecars += v;
                else if (sidecars + v > peak)
                        peak = sidecars + v;
        }
        sum = sidecars;
        for (size_t i = 0; i < pod->n_containers; i++) {
                int64_t v = get(&pod->containers[i]);

                if (v <= 0)
                        *ok = false;
                sum += v;
        }
        return sum > peak ? sum : peak;
}

static int64_t memory_limit(const struct spec_container *c)
{
        return c->resources.limits.memory.set ? c->resources.limits.memory.value : 0;
}

static int64_t cpu_limit_milli(const struct spec_container *c)
{
        return c->resources.limits.cpu.set ? c->resources.limits.cpu.milli_value : 0;
}

static int64_t cpu_request_milli(const struct spec_container *c)
{
        if (c->resources.requests.cpu.set)
                return c->resources.requests.cpu.milli_value;
        return cpu_limit_milli(c);
}

void cg_limits_from_pod(const struct spec_pod *pod, struct cg_limits *ret)
{
        bool mem_ok = true, cpu_ok = true, unused = true;
        int64_t mem = pod_total(pod, memory_limit, &mem_ok);
        int64_t cpu = pod_total(pod, cpu_limit_milli, &cpu_ok);

        *ret = (struct cg_limits){};
        /* kubelet limits the pod only where every container is limited. */
        if (mem_ok && mem > 0)
                ret->memory_bytes = mem;
        if (cpu_ok && cpu > 0)
                ret->cpu_quota_usec = cg_cpu_quota_from_milli(cpu);
        ret->cpu_shares = cg_cpu_shares_from_milli(pod_total(pod, cpu_request_milli, &unused));
}

static bool is_fs(const char *path, unsigned long magic)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == magic;
}

int cg_detect(const char *root, enum cg_mode *ret, struct pr_error *err)
{
        _cleanup_free_ char *memory = NULL;

        if (!root)
                root = CG_ROOT_DEFAULT;
        if (is_fs(root, CGROUP2_SUPER_MAGIC)) {
                *ret = CG_MODE_V2;
                return 0;
        }
        memory = pr_asprintf("%s/memory", root);
        if (is_fs(memory, CGROUP_SUPER_MAGIC)) {
                *ret = CG_MODE_V1;
                return 0;
        }
        return pr_err_msg(err, ENOMEDIUM, "cgroups: no cgroup2 or v1 memory hierarchy under '%s'",
                          root);
}

struct cg *cg_free(struct cg *cg)
{
        if (!cg)
                return NULL;
        for (int i = 0; i < _CG_SLOT_MAX; i++)
                free(cg->paths[i]);
        free(cg->name);
        free(cg);
        return NULL;
}
PR_DEFINE_FREE_FUNC(struct cg, cg_free)

enum cg_mode cg_get_mode(const struct cg *cg)
{
        return cg->mode;
}

const char *cg_get_path(const struct cg *cg, const char *controller)
{
        for (int i = 0; i < _CG_SLOT_MAX; i++)
                if (pr_streq(controller, slot_names[i]))
                        return cg->paths[i];
        return NULL;
}

/* The cgroup this process is in, in the hierarchy of one controller ("" for
 * the v2 line "0::/path"), from /proc/self/cgroup. */
static int own_cgroup(const char *controller, char **ret, struct pr_error *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;

        if (!f)
                return pr_err(err, errno, "open '/proc/self/cgroup'");
        while (getline(&line, &cap, f) > 0) {
                char *ctrls = strchr(line, ':'), *path, *tok, *save = NULL;

                if (!ctrls || !(path = strchr(ctrls + 1, ':')))
                        continue;
                *path++ = '\0';
                ctrls++;
                path[strcspn(path, "\n")] = '\0';
                if (!*controller && !*ctrls) {
                        *ret = pr_strdup(path);
                        return 0;
                }
                for (tok = strtok_r(ctrls, ",", &save); tok && *controller;
                     tok = strtok_r(NULL, ",", &save))
                        if (pr_streq(tok, controller)) {
                                *ret = pr_strdup(path);
                                return 0;
                        }
        }
        return pr_err_msg(err, ENOENT, "cgroups: this process is in no '%s' hierarchy",
                          *controller ? controller : "cgroup2");
}

static bool safe_component(const char *s)
{
        return *s && !strchr(s, '/') && !pr_streq(s, ".") && !pr_streq(s, "..");
}

/* The parent must not climb out with "..": it is joined under a hierarchy. */
static int check_parent(const char *parent, struct pr_error *err)
{
        _cleanup_free_ char *copy = pr_strdup(parent);
        char *save = NULL;

        for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
                if (!safe_component(t))
                        return pr_err_usage(err, "cgroup parent '%s': '%s' is not allowed", parent,
                                            t);
        return 0;
}

/* <mount>[/<own cgroup>]/<parent> for one hierarchy. */
static int parent_dir(const struct cg_options *opts, const char *mount, const char *controller,
                      char **ret, struct pr_error *err)
{
        const char *parent = opts && opts->parent ? opts->parent : CG_PARENT_DEFAULT;
        _cleanup_free_ char *own = NULL;
        int r;

        if (parent[0] == '/') {
                *ret = pr_asprintf("%s%s", mount, pr_streq(parent, "/") ? "" : parent);
                return 0;
        }
        r = own_cgroup(controller, &own, err);
        if (r < 0)
                return r;
        *ret = pr_asprintf("%s%s/%s", mount, pr_streq(own, "/") ? "" : own, parent);
        return 0;
}

static int set_slot(struct cg *cg, enum cg_slot slot, const struct cg_options *opts,
                    const char *mount, const char *pod_dir, struct pr_error *err)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        r = parent_dir(opts, mount, slot == CG_UNIFIED ? "" : slot_names[slot], &dir, err);
        if (r < 0)
                return r;
        /* Trailing slashes of the parent are harmless in paths but not in
         * messages. */
        while (pr_endswith(dir, "/") && strlen(dir) > 1)
                dir[strlen(dir) - 1] = '\0';
        cg->paths[slot] = pr_asprintf("%s/%s", dir, pod_dir);
        return 0;
}

/* Computes the pod's paths in every hierarchy this host has. */
static int pod_paths(const struct cg_options *opts, const char *pod_name, struct cg **ret,
                     struct pr_error *err)
{
        _cleanup_(cg_freep) struct cg *cg = NULL;
        const char *root = opts && opts->root ? opts->root : CG_ROOT_DEFAULT;
        const char *parent = opts && opts->parent ? opts->parent : CG_PARENT_DEFAULT;
        _cleanup_free_ char *pod_dir = NULL;
        enum cg_mode mode = opts ? opts->mode : CG_MODE_AUTO;
        int r;

        if (!pod_name || !safe_component(pod_name))
                return pr_err_usage(err, "cgroups: invalid pod name '%s'",
                                    pod_name ? pod_name : "");
        r = check_parent(parent, err);
        if (r < 0)
                return r;
        if (mode == CG_MODE_AUTO) {
                r = cg_detect(root, &mode, err);
                if (r < 0)
                        return r;
        }
        cg = pr_calloc(1, sizeof(*cg));
        cg->mode = mode;
        cg->name = pr_asprintf("pod '%s'", pod_name);
        pod_dir = pr_asprintf("pod-%s", pod_name);
        if (mode == CG_MODE_V2) {
                /* One hierarchy: the mount itself. */
                r = set_slot(cg, CG_UNIFIED, opts, root, pod_dir, err);
                if (r < 0)
                        return r;
                *ret = PR_TAKE_PTR(cg);
                return 0;
        }
        for (int i = 0; i < _CG_SLOT_MAX; i++) {
                _cleanup_free_ char *mount = pr_asprintf("%s/%s", root, slot_names[i]);
                unsigned long magic = i == CG_UNIFIED ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;

                if (!is_fs(mount, magic)) {
                        pr_log_debug("cgroups: no '%s' hierarchy at '%s'; skipping", slot_names[i],
                                     mount);
                        continue;
                }
                r = set_slot(cg, (enum cg_slot)i, opts, mount, pod_dir, err);
                if (r < 0)
                        return r;
        }
        *ret = PR_TAKE_PTR(cg);
        return 0;
}

int cg_pod_open(const struct cg_options *opts, const char *pod_name, struct cg **ret,
                struct pr_error *err)
{
        int r = pod_paths(opts, pod_name, ret, err);

        return r < 0 ? pr_err_wrap(err, "pod '%s'", pod_name ? pod_name : "") : 0;
}

/* Writes a value to a cgroup file. -ENOENT (the kernel or controller lacks
 * the file) is returned with err set, for the caller to tolerate. */
static int write_file(const char *dir, const char *file, const char *value, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return pr_err(err, errno, "open '%s'", path);
        n = write(fd, value, len);
        if (n < 0)
                return pr_err(err, errno, "write '%s' to '%s'", value, path);
        if ((size_t)n != len)
                return pr_err(err, EIO, "write '%s' to '%s'", value, path);
        return 0;
}

/* A limit whose file is missing is skipped, not an error: the controller is
 * not enabled, or this kernel predates the file. */
static int write_limit(const struct cg *cg, enum cg_slot slot, const char *file, const char *value,
                       struct pr_error *err)
{
        int r;

        if (!cg->paths[slot]) {
                pr_log_debug("cgroups: %s: no '%s' controller for '%s'; skipping", cg->name,
                             slot_names[slot], file);
                return 0;
        }
        r = write_file(cg->paths[slot], file, value, err);
        if (r == -ENOENT) {
                pr_log_debug("cgroups: %s: no '%s' here; skipping", cg->name, file);
                return 0;
        }
        return r < 0 ? pr_err_wrap(err, "%s", cg->name) : 0;
}

/* Enables the controllers in one directory's subtree_control, each on its
 * own so that a missing one does not stop the others. */
static void enable_controllers(const char *dir)
{
        static const char *const ctrls[] = {"+cpu", "+memory", "+pids"};

        for (size_t i = 0; i < PR_ELEMENTSOF(ctrls); i++) {
                struct pr_error e = {};

                if (write_file(dir, "cgroup.subtree_control", ctrls[i], &e) < 0)
                        pr_log_debug("cgroups: %s; ignoring", e.msg);
        }
}

/* mkdir -p of a v2 path, enabling the controllers from the hierarchy's root
 * (or the first existing directory above) down to dir. */
static int mkdir_v2(const char *root, const char *dir, struct pr_error *err)
{
        _cleanup_free_ char *p = pr_strdup(dir);
        size_t start = strlen(root);

        for (char *s = p + start;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char saved = *s;

                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return pr_err(err, errno, "mkdir '%s'", p);
                if (saved == '\0')
                        break;
                enable_controllers(p);
                *s = saved;
        }
        enable_controllers(p);
        return 0;
}

static int make_dirs(const struct cg *cg, const char *root, struct pr_error *err)
{
        int r;

        for (int i = 0; i < _CG_SLOT_MAX; i++) {
                if (!cg->paths[i])
                        continue;
                if (cg->mode == CG_MODE_V2)
                        r = mkdir_v2(root, cg->paths[i], err);
                else
                        r = pr_mkdir_p(cg->paths[i], 0755, err);
                if (r < 0)
                        return pr_err_wrap(err, "%s", cg->name);
        }
        return 0;
}

int cg_pod_create(const struct cg_options *opts, const char *pod_name, struct cg **ret,
                  struct pr_error *err)
{
        _cleanup_(cg_freep) struct cg *cg = NULL;
        const char *root = opts && opts->root ? opts->root : CG_ROOT_DEFAULT;
        int r;

        r = pod_paths(opts, pod_name, &cg, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", pod_name ? pod_name : "");
        r = make_dirs(cg, root, err);
        if (r < 0)
                return r;
        *ret = PR_TAKE_PTR(cg);
        return 0;
}

static int child_create(const struct cg *pod, const char *dirname, const char *label, bool make,
                        struct cg **ret, struct pr_error *err)
{
        _cleanup_(cg_freep) struct cg *cg = pr_calloc(1, sizeof(*cg));

        cg->mode = pod->mode;
        cg->name = pr_strdup(label);
        for (int i = 0; i < _CG_SLOT_MAX; i++) {
                if (!pod->paths[i])
                        continue;
                cg->paths[i] = pr_asprintf("%s/%s", pod->paths[i], dirname);
                if (make && mkdir(cg->paths[i], 0755) < 0 && errno != EEXIST)
                        return pr_err(err, errno, "%s: mkdir '%s'", label, cg->paths[i]);
        }
        if (cg->mode == CG_MODE_V2 && cg->paths[CG_UNIFIED])
                pr_log_debug("cgroups: %s at '%s'", label, cg->paths[CG_UNIFIED]);
        *ret = PR_TAKE_PTR(cg);
        return 0;
}

static int apply_v1(const struct cg *cg, const struct cg_limits *l, struct pr_error *err)
{
        char buf[32];
        int r = 0;

        if (l->memory_bytes > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRId64, l->memory_bytes);
                r = write_limit(cg, CG_MEMORY, "memory.limit_in_bytes", buf, err);
                /* memory+swap equal to memory: no swap (after memory, which
                 * must never exceed it). */
                if (r >= 0)
                        r = write_limit(cg, CG_MEMORY, "memory.memsw.limit_in_bytes", buf, err);
        }
        if (r >= 0)
                r = write_limit(cg, CG_MEMORY, "memory.swappiness", "0", err);
        if (r >= 0 && l->cpu_quota_usec > 0) {
                (void)snprintf(buf, sizeof(buf), "%d", CG_CPU_PERIOD_USEC);
                r = write_limit(cg, CG_CPU, "cpu.cfs_period_us", buf, err);
                (void)snprintf(buf, sizeof(buf), "%" PRId64, l->cpu_quota_usec);
                if (r >= 0)
                        r = write_limit(cg, CG_CPU, "cpu.cfs_quota_us", buf, err);
        }
        if (r >= 0 && l->cpu_shares > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRIu64, l->cpu_shares);
                r = write_limit(cg, CG_CPU, "cpu.shares", buf, err);
        }
        if (r >= 0 && l->pids_max > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRId64, l->pids_max);
                r = write_limit(cg, CG_PIDS, "pids.max", buf, err);
        }
        if (r >= 0 && l->restrict_devices) {
                r = write_limit(cg, CG_DEVICES, "devices.deny", "a", err);
                for (size_t i = 0; r >= 0 && i < cg_n_allowed_devices; i++) {
                        const struct cg_device_rule *d = &cg_allowed_devices[i];
                        char rule[48];

                        if (d->minor < 0)
                                (void)snprintf(rule, sizeof(rule), "%c %u:* rwm", d->type,
                                               d->major);
                        else
                                (void)snprintf(rule, sizeof(rule), "%c %u:%d rwm", d->type,
                                               d->major, d->minor);
                        r = write_limit(cg, CG_DEVICES, "devices.allow", rule, err);
                }
        }
        return r;
}

static int apply_v2(const struct cg *cg, const struct cg_limits *l, struct pr_error *err)
{
        char buf[64];
        int r = 0;

        if (l->memory_bytes > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRId64, l->memory_bytes);
                r = write_limit(cg, CG_UNIFIED, "memory.max", buf, err);
        }
        if (r >= 0)
                r = write_limit(cg, CG_UNIFIED, "memory.swap.max", "0", err);
        if (r >= 0 && l->cpu_quota_usec > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRId64 " %d", l->cpu_quota_usec,
                               CG_CPU_PERIOD_USEC);
                r = write_limit(cg, CG_UNIFIED, "cpu.max", buf, err);
        }
        if (r >= 0 && l->cpu_shares > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRIu64,
                               cg_cpu_weight_from_shares(l->cpu_shares));
                r = write_limit(cg, CG_UNIFIED, "cpu.weight", buf, err);
        }
        if (r >= 0 && l->pids_max > 0) {
                (void)snprintf(buf, sizeof(buf), "%" PRId64, l->pids_max);
                r = write_limit(cg, CG_UNIFIED, "pids.max", buf, err);
        }
        /* Only a real cgroup2 directory takes a program (tests write
         * limits into a plain tree). */
        if (r >= 0 && l->restrict_devices && is_fs(cg->paths[CG_UNIFIED], CGROUP2_SUPER_MAGIC)) {
                r = cg_devices_attach_bpf(cg->paths[CG_UNIFIED], err);
                if (r < 0)
                        r = pr_err_wrap(err, "%s", cg->name);
        }
        return r;
}

int cg_apply_limits(const struct cg *cg, const struct cg_limits *limits, struct pr_error *err)
{
        return cg->mode == CG_MODE_V2 ? apply_v2(cg, limits, err) : apply_v1(cg, limits, err);
}

int cg_container_create(const struct cg *pod, const char *name, const struct cg_limits *limits,
                        struct cg **ret, struct pr_error *err)
{
        _cleanup_(cg_freep) struct cg *cg = NULL;
        _cleanup_free_ char *dir = NULL, *label = NULL;
        int r;

        if (!name || !safe_component(name))
                return pr_err_usage(err, "cgroups: invalid container name '%s'", name ? name : "");
        dir = pr_asprintf("ctr-%s", name);
        label = pr_asprintf("container '%s'", name);
        r = child_create(pod, dir, label, true, &cg, err);
        if (r < 0)
                return r;
        r = cg_apply_limits(cg, limits, err);
        if (r < 0)
                return r;
        *ret = PR_TAKE_PTR(cg);
        return 0;
}

int cg_container_open(const struct cg *pod, const char *name, struct cg **ret, struct pr_error *err)
{
        _cleanup_free_ char *dir = NULL, *label = NULL;

        if (!name || !safe_component(name))
                return pr_err_usage(err, "cgroups: invalid container name '%s'", name ? name : "");
        dir = pr_asprintf("ctr-%s", name);
        label = pr_asprintf("container '%s'", name);
        return child_create(pod, dir, label, false, ret, err);
}

int cg_infra_create(const struct cg *pod, struct cg **ret, struct pr_error *err)
{
        return child_create(pod, "infra", "infra", true, ret, err);
}

int cg_attach(const struct cg *cg, pid_t pid, struct pr_error *err)
{
        char buf[24];
        int r;

        (void)snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (int i = 0; i < _CG_SLOT_MAX; i++) {
                if (!cg->paths[i])
                        continue;
                r = write_file(cg->paths[i], "cgroup.procs", buf, err);
                if (r < 0)
                        return pr_err_wrap(err, "%s: attach %d", cg->name, (int)pid);
        }
        return 0;
}

int cg_after_clone(void *data, pid_t pid, struct pr_error *err)
{
        return cg_attach(data, pid, err);
}

/* Reads "key N" from a flat-keyed cgroup file. */
static int read_key(const char *path, const char *key, uint64_t *ret, struct pr_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t klen = strlen(key);
        int r;

        r = pr_read_file(path, 64 * 1024, &data, NULL, err);
        if (r < 0)
                return r;
        for (char *l = data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, klen) == 0 && l[klen] == ' ') {
                        char *end;

                        errno = 0;
                        *ret = strtoull(l + klen + 1, &end, 10);
                        if (errno == 0 && (*end == '\n' || *end == '\0'))
                                return 0;
                        break;
                }
        }
        return pr_err_msg(err, EBADMSG, "'%s': no valid '%s' line", path, key);
}

int cg_oom_kill_count(const struct cg *cg, uint64_t *ret, struct pr_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (cg->mode == CG_MODE_V2)
                path = pr_asprintf("%s/memory.events", cg->paths[CG_UNIFIED]);
        else if (cg->paths[CG_MEMORY])
                path = pr_asprintf("%s/memory.oom_control", cg->paths[CG_MEMORY]);
        if (!path || access(path, F_OK) < 0) {
                *ret = 0;
                return 0;
        }
        r = read_key(path, "oom_kill", ret, err);
        return r < 0 ? pr_err_wrap(err, "%s", cg->name) : 0;
}

int cg_oom_killed_since(const struct cg *cg, uint64_t *count, struct pr_error *err)
{
        uint64_t now;
        int r;

        r = cg_oom_kill_count(cg, &now, err);
        if (r < 0)
                return r;
        if (now <= *count)
                return 0;
        *count = now;
        return 1;
}

/* Visits cgroup.procs of dir and every cgroup beneath it: counts the
 * processes, and SIGKILLs them when kill is set. A vanished directory
 * counts as empty. */
static int walk_procs(const char *dir, bool kill_them, int depth)
{
        _cleanup_free_ char *procs = pr_asprintf("%s/cgroup.procs", dir);
        _cleanup_fclose_ FILE *f = NULL;
        DIR *d;
        struct dirent *de;
        int n = 0, pid;

        if (depth > 64)
                return 0;
        f = fopen(procs, "re");
        if (f) {
                while (fscanf(f, "%d", &pid) == 1) {
                        n++;
                        /* Never ourselves, even if a bad parent put us here. */
                        if (kill_them && pid > 1 && pid != getpid())
                                (void)kill(pid, SIGKILL);
                }
        }
        d = opendir(dir);
        if (!d)
                return n;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || pr_streq(de->d_name, ".") || pr_streq(de->d_name, ".."))
                        continue;
                sub = pr_asprintf("%s/%s", dir, de->d_name);
                n += walk_procs(sub, kill_them, depth + 1);
        }
        closedir(d);
        return n;
}

int cg_count_procs(const struct cg *cg, struct pr_error *err)
{
        static const enum cg_slot order[] = {CG_UNIFIED, CG_FREEZER, CG_PIDS, CG_MEMORY};

        (void)err;
        for (size_t i = 0; i < PR_ELEMENTSOF(order); i++)
                if (cg->paths[order[i]])
                        return walk_procs(cg->paths[order[i]], false, 0);
        return 0;
}

static void sleep_msec(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* v1 freezer: FROZEN is reached asynchronously (FREEZING meanwhile). A
 * frozen task cannot fork, and dies of its SIGKILL once thawed. */
static void v1_freeze(const char *dir, bool freeze)
{
        struct pr_error e = {};

        if (write_file(dir, "freezer.state", freeze ? "FROZEN" : "THAWED", &e) < 0) {
                pr_log_debug("cgroups: %s; ignoring", e.msg);
                return;
        }
        for (int i = 0; freeze && i < 100; i++) {
                _cleanup_free_ char *path = pr_asprintf("%s/freezer.state", dir);
                _cleanup_free_ char *state = NULL;

                if (pr_read_file(path, 64, &state, NULL, &e) < 0 || pr_startswith(state, "FROZEN"))
                        return;
                sleep_msec(2);
        }
}

static bool has_file(const char *dir, const char *file)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", dir, file);

        return access(path, F_OK) == 0;
}

static int count_all(const struct cg *cg)
{
        int n = 0;

        for (int i = 0; i < _CG_SLOT_MAX; i++)
                if (cg->paths[i])
                        n += walk_procs(cg->paths[i], false, 0);
        return n;
}

/* One round: cgroup.kill where present, else freeze, SIGKILL all, thaw. */
static void kill_round(const struct cg *cg)
{
        const char *unified = cg->paths[CG_UNIFIED];
        const char *freezer = cg->paths[CG_FREEZER];
        struct pr_error e = {};

        if (unified && has_file(unified, "cgroup.kill") &&
            write_file(unified, "cgroup.kill", "1", &e) >= 0) {
                /* Hybrid: the unified mount only tracks; go on with the v1
                 * hierarchies in case a task is missing from it. */
                if (cg->mode == CG_MODE_V2)
                        return;
        } else if (cg->mode == CG_MODE_V2 && unified && has_file(unified, "cgroup.freeze")) {
                (void)write_file(unified, "cgroup.freeze", "1", &e);
                (void)walk_procs(unified, true, 0);
                (void)write_file(unified, "cgroup.freeze", "0", &e);
                return;
        }
        if (freezer && access(freezer, F_OK) == 0)
                v1_freeze(freezer, true);
        for (int i = 0; i < _CG_SLOT_MAX; i++)
                if (cg->paths[i])
                        (void)walk_procs(cg->paths[i], true, 0);
        if (freezer && access(freezer, F_OK) == 0)
                v1_freeze(freezer, false);
}

int cg_kill_all(const struct cg *cg, struct pr_error *err)
{
        uint64_t deadline = pr_now_mono_usec() + 5 * PR_USEC_PER_SEC;

        /* Dying tasks leave the cgroup asynchronously, and v1 has no event
         * for "empty": a short bounded poll, at teardown only. */
        for (;;) {
                if (count_all(cg) == 0)
                        return 0;
                if (pr_now_mono_usec() > deadline)
                        return pr_err_msg(err, EBUSY, "%s: processes left after SIGKILL", cg->name);
                kill_round(cg);
                sleep_msec(10);
        }
}

/* rmdir of dir after everything beneath it; a vanished one is fine. */
static int rm_tree(const char *dir, int depth, struct pr_error *err)
{
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > 64)
                return pr_err_msg(err, ELOOP, "'%s': cgroups nested too deep", dir);
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : pr_err(err, errno, "open '%s'", dir);
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || pr_streq(de->d_name, ".") || pr_streq(de->d_name, ".."))
                        continue;
                sub = pr_asprintf("%s/%s", dir, de->d_name);
                r = rm_tree(sub, depth + 1, err);
        }
        closedir(d);
        if (r < 0)
                return r;
        if (rmdir(dir) < 0 && errno != ENOENT)
                return pr_err(err, errno, "rmdir '%s'", dir);
        return 0;
}

int cg_remove(const struct cg *cg, struct pr_error *err)
{
        uint64_t deadline = pr_now_mono_usec() + 5 * PR_USEC_PER_SEC;
        int r;

        r = cg_kill_all(cg, err);
        if (r < 0)
                return r;
        for (int i = 0; i < _CG_SLOT_MAX; i++) {
                if (!cg->paths[i])
                        continue;
                /* EBUSY: a task still exiting, or one that slipped in. */
                while ((r = rm_tree(cg->paths[i], 0, err)) == -EBUSY &&
                       pr_now_mono_usec() < deadline) {
                        kill_round(cg);
                        sleep_msec(10);
                }
                if (r < 0)
                        return pr_err_wrap(err, "%s", cg->name);
        }
        return 0;
}
