/* The user a container runs as, as containerd and kubelet decide it:
 * runAsUser/runAsGroup, else the image's User, with names and groups read
 * from the image's own /etc/passwd and /etc/group. It owns that lookup; it
 * must never follow a path out of the image's root (every open is
 * openat2(RESOLVE_IN_ROOT)) and never write anything. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/image.h"
#include "pod/plan-int.h"
#include "pod/plan.h"

#define MAX_ETC_FILE (4u << 20)

/* Opens a file of the image as if the rootfs were "/": no symlink and no
 * ".." can lead outside it. */
static int read_in_root(const char *rootfs, const char *path, char **ret, struct pr_error *err)
{
        struct open_how how = {
            .flags = O_RDONLY | O_CLOEXEC,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int root = -1, fd = -1;
        _cleanup_free_ char *proc = NULL;
        int r;

        root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return pr_err(err, errno, "open image rootfs '%s'", rootfs);
        fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
        if (fd < 0)
                return errno == ENOENT ? 0 : pr_err(err, errno, "open '%s' in the image", path);
        proc = pr_asprintf("/proc/self/fd/%d", fd);
        /* pr_read_file opens by path: /proc/self/fd re-opens this very file. */
        r = pr_read_file(proc, MAX_ETC_FILE, ret, NULL, err);
        return r < 0 ? r : 1;
}

/* Finds a line of a colon-separated file whose field key_field equals key.
 * Returns its fields (strv) or NULL. */
static char **etc_find(const char *data, size_t key_field, const char *key)
{
        for (const char *line = data; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                _cleanup_free_ char *copy = pr_strndup(line, len);
                char **fields = NULL, *p = copy;

                for (;;) {
                        char *colon = strchr(p, ':');
                        if (colon)
                                *colon = '\0';
                        pr_strv_push(&fields, p);
                        if (!colon)
                                break;
                        p = colon + 1;
                }
                if (pr_strv_len(fields) > key_field && pr_streq(fields[key_field], key))
                        return fields;
                pr_strv_free(fields);
                line = end ? end + 1 : NULL;
        }
        return NULL;
}

static bool is_numeric(const char *s)
{
        uint64_t v;
        return pr_parse_u64(s, &v) == 0 && v <= UINT32_MAX;
}

static uint32_t to_id(const char *s)
{
        uint64_t v = 0;
        (void)pr_parse_u64(s, &v);
        return (uint32_t)v;
}

struct user_ctx {
        char *passwd;
        char *group;
        bool loaded;
};

static void user_ctx_done(struct user_ctx *u)
{
        free(u->passwd);
        free(u->group);
}

static int user_ctx_load(struct user_ctx *u, const char *rootfs, struct pr_error *err)
{
        int r;

        if (u->loaded)
                return 0;
        r = read_in_root(rootfs, "/etc/passwd", &u->passwd, err);
        if (r < 0)
                return r;
        r = read_in_root(rootfs, "/etc/group", &u->group, err);
        if (r < 0)
                return r;
        u->loaded = true;
        return 0;
}

static void add_group(struct plan_container *pc, gid_t g)
{
        gid_t *slot;

        for (size_t i = 0; i < pc->n_groups; i++)
                if (pc->groups[i] == g)
                        return;
        slot = pr_array_grow(&pc->groups, &pc->n_groups, sizeof(gid_t));
        *slot = g;
}

/* The groups that list user as a member, as containerd's WithAdditionalGIDs. */
static void add_member_groups(struct plan_container *pc, const char *group_data, const char *user)
{
        for (const char *line = group_data; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                _cleanup_free_ char *copy = pr_strndup(line, len);
                char *f[4] = {}, *p = copy;
                size_t n = 0;

                for (; n < 4 && p; n++) {
                        f[n] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = '\0';
                }
                if (n == 4 && is_numeric(f[2]))
                        for (char *m = strtok_r(f[3], ",", &p); m; m = strtok_r(NULL, ",", &p))
                                if (strcmp(m, user) == 0)
                                        add_group(pc, to_id(f[2]));
                line = end ? end + 1 : NULL;
        }
}

/* The image's User as containerd reads it: "user[:group]", each part a
 * number or a name from the image's own /etc/passwd and /etc/group. */
static int resolve_image_user(struct plan_container *pc, const struct image *img,
                              struct user_ctx *u, struct pr_error *err)
{
        _cleanup_free_ char *user = pr_strdup(img->config.user ? img->config.user : "");
        char *group = strchr(user, ':');
        _cleanup_strv_free_ char **pw = NULL;
        int r;

        if (group)
                *group++ = '\0';
        pc->uid = 0;
        pc->gid = 0;
        if (!*user && !group)
                return 0;
        r = user_ctx_load(u, img->rootfs, err);
        if (r < 0)
                return r;
        if (*user) {
                pw = etc_find(u->passwd, is_numeric(user) ? 2 : 0, user);
                if (!pw && !is_numeric(user))
                        return pr_err_msg(err, ENOENT, "user '%s' not found in image '%s'", user,
                                          img->ref);
                pc->uid = is_numeric(user) ? to_id(user) : to_id(pw[2]);
                if (pw && pr_strv_len(pw) > 3)
                        pc->gid = to_id(pw[3]);
                if (pw)
                        add_member_groups(pc, u->group, pw[0]);
        }
        if (group && *group) {
                _cleanup_strv_free_ char **gr = NULL;

                if (is_numeric(group)) {
                        pc->gid = to_id(group);
                } else {
                        gr = etc_find(u->group, 0, group);
                        if (!gr || pr_strv_len(gr) < 3)
                                return pr_err_msg(err, ENOENT, "group '%s' not found in image '%s'",
                                                  group, img->ref);
                        pc->gid = to_id(gr[2]);
                }
        }
        return 0;
}

int plan_user_build(struct plan_container *pc, const struct spec_pod *spec, const struct image *img,
                    struct pr_error *err)
{
        const struct spec_container_security *cs = &pc->spec->security_context;
        const struct spec_pod_security *ps = &spec->security_context;
        struct spec_opt_i64 run_as_user = cs->run_as_user.set ? cs->run_as_user : ps->run_as_user;
        struct spec_opt_i64 run_as_group =
            cs->run_as_group.set ? cs->run_as_group : ps->run_as_group;
        struct spec_opt_bool non_root =
            cs->run_as_non_root.set ? cs->run_as_non_root : ps->run_as_non_root;
        _cleanup_(user_ctx_done) struct user_ctx u = {};
        int r;

        r = resolve_image_user(pc, img, &u, err);
        if (r < 0)
                return r;
        if (run_as_user.set) {
                _cleanup_strv_free_ char **pw = NULL;
                _cleanup_free_ char *id = pr_asprintf("%" PRId64, run_as_user.value);

                pc->uid = (uid_t)run_as_user.value;
                pc->gid = 0;
                r = user_ctx_load(&u, img->rootfs, err);
                if (r < 0)
                        return r;
                pw = etc_find(u.passwd, 2, id);
                if (pw && pr_strv_len(pw) > 3)
                        pc->gid = to_id(pw[3]);
        }
        if (run_as_group.set)
                pc->gid = (gid_t)run_as_group.value;
        for (size_t i = 0; i < ps->n_supplemental_groups; i++)
                add_group(pc, (gid_t)ps->supplemental_groups[i]);
        if (ps->fs_group.set)
                add_group(pc, (gid_t)ps->fs_group.value);
        if (non_root.set && non_root.value && pc->uid == 0)
                return pr_err_msg(err, EPERM,
                                  "runAsNonRoot is set but the container would run as root "
                                  "(uid 0)");
        return 0;
}
