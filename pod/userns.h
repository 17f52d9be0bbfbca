/* User namespaces for `hostUsers: false` (docs/userns.md): the pool of host
 * ID ranges, the allocation of one 65536-ID range per pod from it, and the
 * ID maps of the pod's user namespace. Owned by userns.c; infra.c allocates,
 * maps and releases, container.c joins. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;
struct pod_plan;

/* Kubernetes gives every pod 65536 IDs, aligned to 65536 (1.30+). */
#define USERNS_RANGE_SIZE 65536u
/* Well above any normal user's IDs and any /etc/subuid range useradd hands
 * out by default (100000 + 65536 per user): 1048576. */
#define USERNS_BASE_DEFAULT (1u << 20)
/* Up to 2^31: IDs stay positive for tools that keep them in an int. */
#define USERNS_COUNT_DEFAULT ((1u << 31) - USERNS_BASE_DEFAULT)
/* Where the pool is configured, as kubelet reads its "kubelet" entry. */
#define USERNS_SUBUID_PATH "/etc/subuid"
#define USERNS_SUBUID_USER "podrun"

/* IDs [base, base + count) of the host are podrun's to hand out. */
struct userns_pool {
        uint32_t base;  /* a multiple of USERNS_RANGE_SIZE */
        uint32_t count; /* a multiple of USERNS_RANGE_SIZE, at least one range */
};

/* The pool from the "podrun:BASE:COUNT" line of a subuid-style file, the
 * default pool when the file or the line is missing. A line that is there
 * but malformed or misaligned is an error, never silently the default. */
int userns_pool_load(const char *subuid_path, struct userns_pool *ret, struct pr_error *err);

/* Takes a free range of the pool for owner, under flock(2) on dir/lock, and
 * records it in dir/ranges as "owner:start:size:boot_id:owner_dir". A range
 * whose owner_dir is gone, or that was taken in another boot, is stale and
 * free again. An owner that already holds a live range gets it back. Fails
 * with -ENOSPC when every range is taken. */
int userns_alloc(const char *dir, const struct userns_pool *pool, const char *owner,
                 const char *owner_dir, uint32_t *ret_start, struct pr_error *err);

/* Gives owner's range back (and drops stale ones). No range, no dir: 0. */
int userns_release(const char *dir, const char *owner, struct pr_error *err);

/* The start of owner's live range: 0 and *ret_start, or -ENOENT. */
int userns_lookup(const char *dir, const char *owner, uint32_t *ret_start, struct pr_error *err);

/* Maps IDs 0..65535 of pid's user namespace to [start, start + 65536) of
 * ours, for both uids and gids. Must come before pid execs anything: until
 * then it has no root inside. */
int userns_write_maps(pid_t pid, uint32_t start, struct pr_error *err);

/* "start:65536", /etc/subuid's last two fields: the id of the range in a
 * pod's state file (resource kind "userns"). Caller frees. */
char *userns_range_id(uint32_t start);

/* Whether the plan asks for a user namespace (spec hostUsers: false). */
bool userns_wanted(const struct pod_plan *plan);

/* The allocation directory of the pods under plan's run dir:
 * <run-dir>/userns. Caller frees. */
char *userns_dir(const struct pod_plan *plan);
