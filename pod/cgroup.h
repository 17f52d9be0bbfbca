/* Cgroups of a pod: one per pod, one per container (and one for the infra)
 * beneath it, on cgroup v2 or on v1 (including the hybrid layout, where v1
 * holds the controllers and a cgroup2 mount at <root>/unified is used for
 * tracking and cgroup.kill). The layout and limit mapping are documented in
 * docs/security.md.
 *
 *   <hierarchy>/<parent>/pod-<pod name>/infra
 *   <hierarchy>/<parent>/pod-<pod name>/ctr-<container name>
 *
 * where <hierarchy> is the cgroup2 mount (v2) or each v1 controller's mount,
 * and <parent> is "/podrun" unless --cgroup-parent says otherwise: an
 * absolute parent is taken from the hierarchy's root, a relative one from
 * the cgroup this process is in (per hierarchy: tests nest theirs so). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;
struct spec_container;
struct spec_pod;

enum cg_mode {
        CG_MODE_AUTO, /* detect: cg_detect() */
        CG_MODE_V1,   /* v1 controllers (legacy or hybrid) */
        CG_MODE_V2,   /* one unified hierarchy */
        _CG_MODE_MAX,
        _CG_MODE_INVALID = -22,
};

const char *cg_mode_to_string(enum cg_mode m);
enum cg_mode cg_mode_from_string(const char *s);

#define CG_ROOT_DEFAULT "/sys/fs/cgroup"
#define CG_PARENT_DEFAULT "/podrun"
#define CG_PIDS_MAX_DEFAULT 4096
/* CFS period kubelet uses (100 ms). */
#define CG_CPU_PERIOD_USEC 100000

struct cg_options {
        const char *root;   /* NULL: CG_ROOT_DEFAULT; tests point it at a fake tree */
        const char *parent; /* NULL: CG_PARENT_DEFAULT; see the top of this file */
        enum cg_mode mode;  /* CG_MODE_AUTO: detect under root */
        int64_t pids_max;   /* per container; 0: CG_PIDS_MAX_DEFAULT, <0: no limit */
};

/* What a container cgroup is given. Zero fields are left at the kernel's
 * default (unlimited). */
struct cg_limits {
        int64_t memory_bytes;   /* limits.memory */
        int64_t cpu_quota_usec; /* per CG_CPU_PERIOD_USEC, from limits.cpu */
        uint64_t cpu_shares;    /* v1 cpu.shares; v2 cpu.weight is derived */
        int64_t pids_max;
        bool restrict_devices; /* v1 devices: deny all but the container's /dev */
};

/* kubelet's conversions (pkg/kubelet/cm/helpers_linux.go). */
uint64_t cg_cpu_shares_from_milli(int64_t milli);
int64_t cg_cpu_quota_from_milli(int64_t milli);
uint64_t cg_cpu_weight_from_shares(uint64_t shares);

/* The limits for a container from its resources and securityContext
 * (privileged keeps every device). */
void cg_limits_from_container(const struct spec_container *s, const struct cg_options *opts,
                              struct cg_limits *ret);

/* The pod cgroup's limits as kubelet sets them: memory and CPU quota the
 * sum of the containers' limits (or the largest init container's, when
 * larger) when every container has one, CPU shares from the summed
 * requests; no pids or device limit at pod level. Write them with
 * cg_apply_limits(pod_cg, ...). */
void cg_limits_from_pod(const struct spec_pod *pod, struct cg_limits *ret);

/* Which cgroup layout is mounted under root (NULL: CG_ROOT_DEFAULT). */
int cg_detect(const char *root, enum cg_mode *ret, struct pr_error *err);

/* A pod's or a container's cgroup in every hierarchy podrun uses. */
struct cg;

/* Creates (mkdir -p) the pod cgroup and enables the controllers beneath it. */
int cg_pod_create(const struct cg_options *opts, const char *pod_name, struct cg **ret,
                  struct pr_error *err);
/* The same cgroup recomputed from the pod name alone, nothing created: for
 * `down` after a crash. Missing directories are fine (removal is then a
 * no-op). */
int cg_pod_open(const struct cg_options *opts, const char *pod_name, struct cg **ret,
                struct pr_error *err);

/* Creates ctr-<name> beneath the pod and writes its limits (a limit whose
 * file this kernel or controller lacks is skipped with a debug message). */
int cg_container_create(const struct cg *pod, const char *name, const struct cg_limits *limits,
                        struct cg **ret, struct pr_error *err);
/* The container's cgroup beneath the pod, nothing created or written: for
 * `podrun exec` (attach the new process with cg_attach) and for `down`. */
int cg_container_open(const struct cg *pod, const char *name, struct cg **ret,
                      struct pr_error *err);
/* The infra's cgroup "infra" beneath the pod, without limits. */
int cg_infra_create(const struct cg *pod, struct cg **ret, struct pr_error *err);
/* Writes the limits again (also used by tests on a fake tree). */
int cg_apply_limits(const struct cg *cg, const struct cg_limits *limits, struct pr_error *err);

/* Moves a process into the cgroup in every hierarchy. Call it from the
 * parent between clone and the child's go signal, before the child runs
 * anything of the container. */
int cg_attach(const struct cg *cg, pid_t pid, struct pr_error *err);

/* The same, shaped as struct ctr_spawn_opts.after_clone (pod/runtime.h):
 * data is the container's const struct cg *. */
int cg_after_clone(void *data, pid_t pid, struct pr_error *err);

/* How many times the kernel's OOM killer killed a process in this cgroup
 * (v2 memory.events oom_kill; v1 memory.oom_control oom_kill). 0 when the
 * memory controller is absent. */
int cg_oom_kill_count(const struct cg *cg, uint64_t *ret, struct pr_error *err);

/* 1 when the OOM killer killed a process in the cgroup since *count was
 * read (and *count is brought up to date), 0 when it did not. Take *count
 * with cg_oom_kill_count() when the container starts; after it exits, 1
 * means: terminated, reason OOMKilled, exit code 137. */
int cg_oom_killed_since(const struct cg *cg, uint64_t *count, struct pr_error *err);

/* Number of processes in the cgroup and beneath it (v2 hierarchy, or the
 * v1 freezer/pids/memory hierarchy). */
int cg_count_procs(const struct cg *cg, struct pr_error *err);

/* Kills every process in the cgroup and beneath it, including those that
 * fork meanwhile: cgroup.kill where the kernel has it, else freeze, SIGKILL
 * every task, thaw, until empty. Returns once the cgroup is empty, or
 * -EBUSY after a few seconds. */
int cg_kill_all(const struct cg *cg, struct pr_error *err);

/* Kills what is left and removes the cgroup and everything beneath it,
 * depth first. Idempotent: a missing cgroup is success. */
int cg_remove(const struct cg *cg, struct pr_error *err);

struct cg *cg_free(struct cg *cg);

enum cg_mode cg_get_mode(const struct cg *cg);
/* The directory in the v2 hierarchy, or in v1's controller ("memory",
 * "cpu", "pids", "freezer", "devices", "unified"); NULL when not used. */
const char *cg_get_path(const struct cg *cg, const char *controller);
