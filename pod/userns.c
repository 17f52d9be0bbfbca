/* The host ID ranges of pods with their own user namespace: the pool (from
 * /etc/subuid's "podrun" line, else a default well above normal users), the
 * allocation file <run-dir>/userns/ranges kept under flock(2), and writing a
 * pod's uid_map and gid_map. Runs in the supervisor and `down`, as root. It
 * must never hand out a range that overlaps a live pod's, never keep a range
 * whose pod is gone for good, and never leave the allocation file half
 * written (temporary file and rename, under the lock). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/proc.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/userns.h"

#define RANGES_MAX (4u << 20)

struct range {
        char *owner;
        uint32_t start;
        uint32_t size;
        char *boot_id;
        char *dir; /* the owner's run dir: the range lives while it does */
};

struct ranges {
        size_t n;
        struct range *v;
};

static void ranges_done(struct ranges *rs)
{
        for (size_t i = 0; i < rs->n; i++) {
                free(rs->v[i].owner);
                free(rs->v[i].boot_id);
                free(rs->v[i].dir);
        }
        free(rs->v);
        *rs = (struct ranges){};
}

static int parse_u32(const char *s, uint32_t *ret)
{
        uint64_t v;

        if (pr_parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

/* ---- the pool ------------------------------------------------------------ */

static int parse_pool_line(char *line, struct userns_pool *ret)
{
        char *save = NULL, *start, *count;

        (void)strtok_r(line, ":", &save);
        start = strtok_r(NULL, ":", &save);
        count = strtok_r(NULL, ":", &save);
        if (!start || !count || strtok_r(NULL, ":", &save) || parse_u32(start, &ret->base) < 0 ||
            parse_u32(count, &ret->count) < 0)
                return -EINVAL;
        if (ret->base % USERNS_RANGE_SIZE || ret->count % USERNS_RANGE_SIZE ||
            ret->count < USERNS_RANGE_SIZE || (uint64_t)ret->base + ret->count > UINT32_MAX)
                return -EINVAL;
        return 0;
}

int userns_pool_load(const char *subuid_path, struct userns_pool *ret, struct pr_error *err)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r;

        r = pr_read_file(subuid_path, 1 << 20, &text, NULL, err);
        if (r == -ENOENT) {
                *ret = (struct userns_pool){USERNS_BASE_DEFAULT, USERNS_COUNT_DEFAULT};
                return 0;
        }
        if (r < 0)
                return r;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                struct userns_pool pool;

                if (!pr_startswith(l, USERNS_SUBUID_USER ":"))
                        continue;
                if (parse_pool_line(l, &pool) < 0)
                        return pr_err_msg(err, EINVAL,
                                          "'%s': line '%s': want " USERNS_SUBUID_USER
                                          ":START:COUNT, both multiples of %u",
                                          subuid_path, l, USERNS_RANGE_SIZE);
                *ret = pool;
                return 0;
        }
        *ret = (struct userns_pool){USERNS_BASE_DEFAULT, USERNS_COUNT_DEFAULT};
        return 0;
}

/* ---- the allocation file ------------------------------------------------- */

/* "owner:start:size:boot_id:dir"; the dir comes last and may hold ':'. */
static int parse_range(char *line, struct range *ret)
{
        char *f[4], *p = line;

        for (size_t i = 0; i < PR_ELEMENTSOF(f); i++) {
                char *colon = strchr(p, ':');

                if (!colon)
                        return -EINVAL;
                *colon = '\0';
                f[i] = p;
                p = colon + 1;
        }
        if (!*f[0] || !*f[3] || *p != '/' || parse_u32(f[1], &ret->start) < 0 ||
            parse_u32(f[2], &ret->size) < 0 || ret->size == 0)
                return -EINVAL;
        ret->owner = pr_strdup(f[0]);
        ret->boot_id = pr_strdup(f[3]);
        ret->dir = pr_strdup(p);
        return 0;
}

static int read_ranges(const char *path, struct ranges *ret, struct pr_error *err)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        size_t lineno = 0;
        int r = pr_read_file(path, RANGES_MAX, &text, NULL, err);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                struct range rg = {};

                lineno++;
                /* A line we cannot read may still be a live pod's range:
                 * refusing is safer than handing its IDs out again. */
                if (parse_range(l, &rg) < 0)
                        return pr_err_msg(err, EBADMSG, "'%s': line %zu is not a range", path,
                                          lineno);
                *(struct range *)pr_array_grow(&ret->v, &ret->n, sizeof(*ret->v)) = rg;
        }
        return 0;
}

static int write_ranges(const char *path, const struct ranges *rs, struct pr_error *err)
{
        _cleanup_free_ char *text = pr_strdup("");

        for (size_t i = 0; i < rs->n; i++) {
                const struct range *rg = &rs->v[i];
                char *next = pr_asprintf("%s%s:%u:%u:%s:%s\n", text, rg->owner, rg->start, rg->size,
                                         rg->boot_id, rg->dir);

                free(text);
                text = next;
        }
        return pr_write_file_atomic(path, text, strlen(text), 0644, err);
}

/* Stale: taken in another boot (nothing of it runs any more), or its pod's
 * run dir is gone (the pod was torn down without releasing it, e.g. a
 * supervisor killed mid-teardown). Any doubt keeps it. */
static bool range_live(const struct range *rg, const char *boot_id)
{
        struct stat st;

        if (!pr_streq(rg->boot_id, boot_id))
                return false;
        return lstat(rg->dir, &st) == 0 || errno != ENOENT;
}

/* Drops the stale ranges of rs, in place. */
static void drop_stale(const char *dir, struct ranges *rs, const char *boot_id)
{
        size_t kept = 0;

        for (size_t i = 0; i < rs->n; i++) {
                if (range_live(&rs->v[i], boot_id)) {
                        rs->v[kept++] = rs->v[i];
                        continue;
                }
                pr_log_debug("user ID range %u of pod '%s' in '%s' is stale; reclaiming",
                             rs->v[i].start, rs->v[i].owner, dir);
                free(rs->v[i].owner);
                free(rs->v[i].boot_id);
                free(rs->v[i].dir);
        }
        rs->n = kept;
}

/* The allocation's lock, held until the returned fd closes. */
static int lock_dir(const char *dir, bool create, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/lock", dir);
        int fd, r;

        if (create) {
                r = pr_mkdir_p(dir, 0755, err);
                if (r < 0)
                        return r;
        }
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
        if (fd < 0)
                return errno == ENOENT && !create ? -ENOENT : pr_err(err, errno, "open '%s'", path);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        r = pr_err(err, errno, "lock '%s'", path);
                        (void)close(fd);
                        return r;
                }
        }
        return fd;
}

/* Under the lock: the live ranges of dir. */
static int load_live(const char *dir, struct ranges *rs, char boot_id[static PR_BOOT_ID_MAX],
                     struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/ranges", dir);
        int r = pr_read_boot_id(boot_id, err);

        if (r >= 0)
                r = read_ranges(path, rs, err);
        if (r >= 0)
                drop_stale(dir, rs, boot_id);
        return r;
}

static bool overlaps(const struct ranges *rs, uint64_t start, uint64_t size)
{
        for (size_t i = 0; i < rs->n; i++)
                if (start < (uint64_t)rs->v[i].start + rs->v[i].size &&
                    rs->v[i].start < start + size)
                        return true;
        return false;
}

/* Lowest first: the allocation is then the same after every restart of
 * the host, which makes files left on disk easier to read. */
static int pick_free(const struct ranges *rs, const struct userns_pool *pool, uint32_t *ret)
{
        for (uint64_t s = pool->base; s + USERNS_RANGE_SIZE <= (uint64_t)pool->base + pool->count;
             s += USERNS_RANGE_SIZE)
                if (!overlaps(rs, s, USERNS_RANGE_SIZE)) {
                        *ret = (uint32_t)s;
                        return 0;
                }
        return -ENOSPC;
}

static int alloc_locked(const char *dir, const struct userns_pool *pool, const char *owner,
                        const char *owner_dir, uint32_t *ret_start, struct pr_error *err)
{
        _cleanup_(ranges_done) struct ranges rs = {};
        _cleanup_free_ char *path = pr_asprintf("%s/ranges", dir);
        char boot_id[PR_BOOT_ID_MAX];
        uint32_t start = 0;
        int r = load_live(dir, &rs, boot_id, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < rs.n; i++)
                if (pr_streq(rs.v[i].owner, owner)) {
                        *ret_start = rs.v[i].start;
                        return write_ranges(path, &rs, err);
                }
        if (pick_free(&rs, pool, &start) < 0)
                return pr_err_msg(err, ENOSPC, "no free range of %u user IDs in [%u, %llu)",
                                  USERNS_RANGE_SIZE, pool->base,
                                  (unsigned long long)pool->base + pool->count);
        *(struct range *)pr_array_grow(&rs.v, &rs.n, sizeof(*rs.v)) = (struct range){
            .owner = pr_strdup(owner),
            .start = start,
            .size = USERNS_RANGE_SIZE,
            .boot_id = pr_strdup(boot_id),
            .dir = pr_strdup(owner_dir),
        };
        r = write_ranges(path, &rs, err);
        if (r < 0)
                return r;
        *ret_start = start;
        return 0;
}

int userns_alloc(const char *dir, const struct userns_pool *pool, const char *owner,
                 const char *owner_dir, uint32_t *ret_start, struct pr_error *err)
{
        _cleanup_close_ int lock = -1;
        int r;

        if (!*owner || strchr(owner, ':') || strchr(owner, '\n') || owner_dir[0] != '/' ||
            strchr(owner_dir, '\n'))
                return pr_err_msg(err, EINVAL, "user ID range: bad owner '%s'", owner);
        lock = lock_dir(dir, true, err);
        if (lock < 0)
                return lock;
        r = alloc_locked(dir, pool, owner, owner_dir, ret_start, err);
        return r < 0 ? pr_err_wrap(err, "user ID range for '%s'", owner) : 0;
}

int userns_release(const char *dir, const char *owner, struct pr_error *err)
{
        _cleanup_(ranges_done) struct ranges rs = {};
        _cleanup_free_ char *path = pr_asprintf("%s/ranges", dir);
        _cleanup_close_ int lock = lock_dir(dir, false, err);
        char boot_id[PR_BOOT_ID_MAX];
        size_t kept = 0;
        int r;

        if (lock == -ENOENT)
                return 0;
        if (lock < 0)
                return lock;
        r = load_live(dir, &rs, boot_id, err);
        if (r < 0)
                return pr_err_wrap(err, "release the user ID range of '%s'", owner);
        for (size_t i = 0; i < rs.n; i++) {
                if (!pr_streq(rs.v[i].owner, owner)) {
                        rs.v[kept++] = rs.v[i];
                        continue;
                }
                free(rs.v[i].owner);
                free(rs.v[i].boot_id);
                free(rs.v[i].dir);
        }
        rs.n = kept;
        r = write_ranges(path, &rs, err);
        return r < 0 ? pr_err_wrap(err, "release the user ID range of '%s'", owner) : 0;
}

int userns_lookup(const char *dir, const char *owner, uint32_t *ret_start, struct pr_error *err)
{
        _cleanup_(ranges_done) struct ranges rs = {};
        _cleanup_close_ int lock = lock_dir(dir, false, err);
        char boot_id[PR_BOOT_ID_MAX];
        int r;

        if (lock < 0)
                return lock;
        r = load_live(dir, &rs, boot_id, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rs.n; i++)
                if (pr_streq(rs.v[i].owner, owner)) {
                        *ret_start = rs.v[i].start;
                        return 0;
                }
        return -ENOENT;
}

/* ---- maps ----------------------------------------------------------------- */

static int write_map(pid_t pid, const char *which, uint32_t start, struct pr_error *err)
{
        char path[64], line[64];
        _cleanup_close_ int fd = -1;
        int len;

        (void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
        len = snprintf(line, sizeof(line), "0 %u %u\n", start, USERNS_RANGE_SIZE);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pr_err(err, errno, "open '%s'", path);
        /* The kernel takes a map in one write, or not at all. */
        if (write(fd, line, (size_t)len) != len)
                return pr_err(err, errno, "write '%s'", path);
        return 0;
}

int userns_write_maps(pid_t pid, uint32_t start, struct pr_error *err)
{
        int r = write_map(pid, "uid_map", start, err);

        if (r >= 0)
                r = write_map(pid, "gid_map", start, err);
        return r;
}

char *userns_range_id(uint32_t start)
{
        return pr_asprintf("%u:%u", start, USERNS_RANGE_SIZE);
}

bool userns_wanted(const struct pod_plan *plan)
{
        return plan->spec && plan->spec->host_users.set && !plan->spec->host_users.value;
}

char *userns_dir(const struct pod_plan *plan)
{
        /* run_dir is <run-dir>/pods/<name>. */
        _cleanup_free_ char *pods = pr_strdup(plan->run_dir);
        char *slash = strrchr(pods, '/');

        if (slash && slash != pods)
                *slash = '\0';
        slash = strrchr(pods, '/');
        if (slash && slash != pods)
                *slash = '\0';
        return pr_asprintf("%s/userns", pods);
}
