/* struct pod_plan: everything about a pod that can be decided without the
 * kernel, decided once by plan_build() and then only read (the one late fact,
 * the pod's IP, is filled in by plan_set_pod_ip() once the network is up). It
 * is plain data and prints as JSON. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/base/cleanup.h"
#include "specs/specs.h"

struct pr_error;
struct image;

enum plan_mount_type {
        PLAN_MOUNT_BIND,  /* source is a host path prepared by podrun */
        PLAN_MOUNT_TMPFS, /* emptyDir medium Memory */
        _PLAN_MOUNT_TYPE_MAX,
        _PLAN_MOUNT_TYPE_INVALID = -EINVAL,
};

const char *plan_mount_type_to_string(enum plan_mount_type t);
enum plan_mount_type plan_mount_type_from_string(const char *s);

/* A volume mount of one container. The source is on the host; sub_path, when
 * set, is resolved under source at mount time with openat2(RESOLVE_IN_ROOT)
 * so that no symlink in the volume can lead outside it. */
struct plan_mount {
        enum plan_mount_type type;
        char *volume;   /* volume name */
        char *source;   /* host path of the volume */
        char *sub_path; /* relative, already expanded; NULL for none */
        char *target;   /* absolute path inside the container */
        bool read_only;
        uint64_t size_bytes; /* tmpfs sizeLimit, 0 for the default */
        enum spec_host_path_type host_path_type;
        bool host_path; /* the source belongs to the host, not to podrun */
};

/* A file podrun writes into a volume before any container starts
 * (downwardAPI items). path is relative to the volume's directory. */
struct plan_file {
        char *path;
        char *content;
        mode_t mode;
};

/* A pod-level volume: what must exist on the host before containers mount
 * it. hostPath volumes have no directory of podrun's. */
struct plan_volume {
        char *name;
        enum spec_volume_type type;
        enum plan_mount_type mount_type;
        char *path;          /* the host directory the mounts bind */
        uint64_t size_bytes; /* tmpfs sizeLimit */
        size_t n_files;
        struct plan_file *files;
};

struct plan_container {
        char *name;
        size_t index;                            /* position in plan->containers */
        bool init;                               /* an initContainer */
        bool sidecar;                            /* an initContainer with restartPolicy Always */
        enum spec_restart_policy restart_policy; /* effective */
        char *image_ref;                         /* normalised */
        char *image_id;
        char *image_rootfs; /* read-only lower layer */
        char **argv;        /* entrypoint/cmd resolved and $(VAR)-expanded */
        char **env;         /* "NAME=value", see plan.c for the order */
        char *working_dir;
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t *groups; /* supplementary groups */
        int stop_signal;
        uint64_t grace_period_usec;
        /* Per-container directories, under the pod's run and root dirs. */
        char *dir;       /* <pod run dir>/containers/<name> */
        char *upper_dir; /* overlay upper */
        char *work_dir;  /* overlay work */
        char *rootfs;    /* overlay mount point */
        char *log_dir;   /* <root>/pods/<pod>/logs/<name> */
        size_t n_mounts;
        struct plan_mount *mounts;
        bool read_only_rootfs;
        bool tty;
        bool stdin_open;
        /* Indexes into env of the variables that come from status.podIP(s)
         * and status.hostIP(s), rewritten by plan_set_pod_ip(). */
        size_t n_late_env;
        size_t *late_env;
        const struct spec_container *spec; /* points into plan->spec; NULL in a skeleton */
};

struct pod_plan {
        char *name;
        char *namespace;
        char *uid;           /* a fresh UUID, as the API server assigns */
        char *hostname;      /* spec.hostname, else the pod name */
        char *fqdn;          /* hostname.subdomain.namespace.svc.cluster.local or NULL */
        char *run_dir;       /* <run-dir>/pods/<name> */
        char *root_dir;      /* <root>/pods/<name>: logs and emptyDirs on disk */
        char *state_path;    /* <run_dir>/state.json */
        char *netns_path;    /* <netns_dir>/podrun-<name> */
        char *hosts_path;    /* generated /etc/hosts */
        char *hostname_path; /* generated /etc/hostname */
        char *resolv_path;   /* generated /etc/resolv.conf */
        char *shm_dir;       /* the pod's shared /dev/shm */
        char *pod_ip;        /* NULL until plan_set_pod_ip() */
        char *host_ip;
        enum spec_restart_policy restart_policy;
        uint64_t grace_period_usec;
        bool share_pid;
        bool host_network;
        bool host_pid;
        bool host_ipc;
        size_t n_init; /* containers[0 .. n_init) are init containers */
        size_t n_containers;
        struct plan_container *containers;
        size_t n_volumes;
        struct plan_volume *volumes;
        /* Borrowed: the caller keeps the spec alive as long as the plan.
         * NULL in a skeleton plan. */
        const struct spec_pod *spec;
};

struct plan_options {
        const char *root_dir;  /* --root */
        const char *run_dir;   /* --run-dir */
        const char *netns_dir; /* where the named netns goes: /run/netns when NULL */
        const char *node_name; /* spec.nodeName for the downward API; gethostname() when NULL */
};

/* Everything for one pod; the images are resolved in root_dir's store. */
int plan_build(const struct spec_pod *spec, const struct plan_options *opts, struct pod_plan **ret,
               struct pr_error *err);

/* A plan holding only the paths of a pod and its containers, enough for
 * ctr_cleanup() and infra_cleanup() when the manifest is gone (down after a
 * crash). names is NULL-terminated, init containers marked by init (may be
 * NULL). */
int plan_build_skeleton(const char *name, char *const *names, const bool *init,
                        const struct plan_options *opts, struct pod_plan **ret,
                        struct pr_error *err);

/* Fills status.podIP / status.hostIP into the plan and the env of every
 * container that asked for them. ip may be NULL (no network: empty). */
void plan_set_pod_ip(struct pod_plan *plan, const char *pod_ip, const char *host_ip);

struct pod_plan *plan_free(struct pod_plan *plan);
PR_DEFINE_FREE_FUNC(struct pod_plan, plan_free)

/* The plan as JSON text (for `validate --plan` and tests). Caller frees. */
char *plan_to_json(const struct pod_plan *plan);

/* Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): $(NAME)
 * is replaced by lookup(NAME) when it returns non-NULL and kept literally
 * otherwise; $$ is a literal $; anything else is copied. Caller frees. */
char *plan_expand(const char *in, const char *(*lookup)(void *userdata, const char *name),
                  void *userdata);

/* "SIGTERM", "TERM", "15" -> 15; -EINVAL otherwise. */
int plan_parse_signal(const char *s);
