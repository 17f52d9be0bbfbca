/* What infra.c, volume.c, rootfs.c and container.c share and nobody else
 * uses: clone3, unmounting for cleanup, volume preparation and the child's
 * mount steps. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;
struct pod_plan;
struct plan_container;
struct plan_mount;

/* clone3() with stack 0: the child continues on a copy of the caller's
 * stack, as after fork(). Returns the pid in the parent (and the pidfd in
 * *ret_pidfd when flags has CLONE_PIDFD), 0 in the child, -errno on failure. */
pid_t rt_clone3(uint64_t flags, int *ret_pidfd);

/* Unmounts every mount stacked on path (MNT_DETACH, never following a
 * symlink). A path that is gone or not a mount point is success. */
int rt_umount_all(const char *path, struct pr_error *err);

/* Whether path is the root of a mount; -errno when it cannot be told. */
int rt_is_mount_point(const char *path);

/* Pod-level volumes (volume.c). prepare makes each podrun-owned volume
 * directory (a tmpfs for medium Memory) and writes its files; cleanup
 * unmounts and removes every volume directory under the pod's run and root
 * dirs, from the directories alone, so it works with a skeleton plan. */
int volume_prepare_pod(const struct pod_plan *plan, struct pr_error *err);
/* Gives the pod's fsGroup (shifted by gid_base in a user namespace) its
 * volumes, as kubelet's SetVolumeOwnership() does. After prepare. */
int volume_apply_fs_group(const struct pod_plan *plan, gid_t gid_base, struct pr_error *err);
int volume_cleanup_pod(const struct pod_plan *plan, struct pr_error *err);

/* Parent side, before clone: hostPath type checks and creation, as kubelet
 * does them when it mounts the volume for a container. */
int volume_check_host_path(const struct plan_mount *m, struct pr_error *err);

/* Everything the child needs to build its root, prepared by the parent so
 * that the child does not allocate. */
struct rootfs_ctx {
        const struct pod_plan *plan;
        const struct plan_container *c;
        const size_t *mount_order; /* c->mounts sorted by target depth */
        int userns_fd;             /* the pod's user namespace, -1 with hostUsers */
        uint32_t userns_start;     /* with userns_fd: the host ID of root inside */
};

/* CHILD, in its own mount namespace after setns: mounts the overlay at
 * c->rootfs, /proc, /sys, /dev and its entries, the etc files and the
 * volumes, creates a missing working directory (as runc does), makes the
 * root read-only if asked, and pivots into it. With userns_fd the image
 * layer is an idmapped mount of that namespace, so its files owned by host
 * root show as owned by root inside. On return the cwd is the new
 * root. */
int rootfs_setup(const struct rootfs_ctx *ctx, struct pr_error *err);
