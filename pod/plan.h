/* struct pod_plan: everything about a pod that can be decided without the
 * kernel, decided once by plan_build() and then only read. It is plain data
 * and prints as JSON. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "specs/specs.h"

struct pr_error;
struct image;

enum plan_mount_type {
        PLAN_MOUNT_BIND,   /* source is a host path prepared by podrun */
        PLAN_MOUNT_TMPFS,  /* emptyDir medium Memory */
        _PLAN_MOUNT_TYPE_MAX,
        _PLAN_MOUNT_TYPE_INVALID = -EINVAL,
};

/* A volume mount of one container. The source is on the host; sub_path, when
 * set, is resolved under source at mount time with openat2(RESOLVE_IN_ROOT)
 * so that no symlink in the volume can lead outside it. */
struct plan_mount {
        enum plan_mount_type type;
        char *volume;      /* volume name */
        char *source;      /* host path of the volume */
        char *sub_path;    /* relative, already expanded; NULL for none */
        char *target;      /* absolute path inside the container */
        bool read_only;
        uint64_t size_bytes; /* tmpfs sizeLimit, 0 for the default */
        enum spec_host_path_type host_path_type;
        bool host_path;    /* the source belongs to the host, not to podrun */
};

struct plan_container {
        char *name;
        size_t index;          /* position in plan->containers */
        bool init;             /* an initContainer */
        bool sidecar;          /* an initContainer with restartPolicy Always */
        enum spec_restart_policy restart_policy; /* effective */
        char *image_ref;       /* normalised */
        char *image_rootfs;    /* read-only lower layer */
        char **argv;           /* entrypoint/cmd resolved and $(VAR)-expanded */
        char **env;            /* "NAME=value": image, then manifest, then HOSTNAME */
        char *working_dir;
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t *groups;         /* supplementary groups */
        int stop_signal;
        uint64_t grace_period_usec;
        /* Per-container directories, under the pod's run and root dirs. */
        char *dir;             /* <pod run dir>/containers/<name> */
        char *upper_dir;       /* overlay upper */
        char *work_dir;        /* overlay work */
        char *rootfs;          /* overlay mount point */
        char *log_dir;         /* <root>/pods/<pod>/logs/<name> */
        size_t n_mounts;
        struct plan_mount *mounts;
        bool read_only_rootfs;
        bool tty;
        bool stdin_open;
        const struct spec_container *spec; /* points into plan->spec */
};

struct pod_plan {
        char *name;
        char *uid;             /* a fresh UUID, as the API server assigns */
        char *hostname;        /* spec.hostname, else the pod name */
        char *fqdn;            /* hostname.subdomain.namespace.svc.cluster.local or NULL */
        char *run_dir;         /* <run-dir>/pods/<name> */
        char *root_dir;        /* <root>/pods/<name>: logs and emptyDirs on disk */
        char *state_path;      /* <run_dir>/state.json */
        char *netns_path;      /* /run/netns/podrun-<name> (under run-dir for tests) */
        char *hosts_path;      /* generated /etc/hosts */
        char *hostname_path;   /* generated /etc/hostname */
        char *resolv_path;     /* generated /etc/resolv.conf */
        char *shm_dir;         /* the pod's shared /dev/shm */
        enum spec_restart_policy restart_policy;
        uint64_t grace_period_usec;
        bool share_pid;
        bool host_network;
        bool host_pid;
        bool host_ipc;
        size_t n_init;         /* containers[0 .. n_init) are init containers */
        size_t n_containers;
        struct plan_container *containers;
        struct spec_pod *spec; /* owned copy of the pod's spec */
};

struct plan_options {
        const char *root_dir;  /* --root */
        const char *run_dir;   /* --run-dir */
        const char *netns_dir; /* where the named netns goes: /run/netns by default */
};

int plan_build(const struct spec_pod *spec, const struct plan_options *opts,
               struct pod_plan **ret, struct pr_error *err);
struct pod_plan *plan_free(struct pod_plan *plan);
/* The plan as JSON text (for `validate --plan` and tests). Caller frees. */
char *plan_to_json(const struct pod_plan *plan);
