/* Pod volumes on the host: emptyDir directories (a tmpfs for medium
 * Memory), the files podrun writes into volumes (downwardAPI), hostPath type
 * checks, and their removal. Runs in the supervisor as root. It must never
 * follow a symlink out of a podrun-owned directory, remove anything under a
 * hostPath, or cross into another mount when removing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/runtime-int.h"

/* kubelet makes emptyDir directories world-writable so that a container
 * running as any user can use them. */
#define EMPTY_DIR_MODE 0777

static bool relative_and_clean(const char *p)
{
        return p[0] != '/' && !pr_streq(p, "..") && !pr_startswith(p, "../") &&
               !strstr(p, "/../") && !pr_endswith(p, "/..");
}

static int write_volume_file(const struct plan_volume *v, const struct plan_file *f,
                             struct pr_error *err)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;
        char *slash;
        int r;

        if (!relative_and_clean(f->path))
                return pr_err_msg(err, EINVAL, "file '%s': not a relative path", f->path);
        path = pr_asprintf("%s/%s", v->path, f->path);
        dir = pr_strdup(path);
        slash = strrchr(dir, '/');
        *slash = '\0';
        r = pr_mkdir_p(dir, 0755, err);
        if (r < 0)
                return r;
        return pr_write_file_atomic(path, f->content, strlen(f->content), f->mode, err);
}

static int prepare_volume(const struct plan_volume *v, struct pr_error *err)
{
        int r = pr_mkdir_p(v->path, 0755, err);

        if (r < 0)
                return r;
        if (v->mount_type == PLAN_MOUNT_TMPFS && rt_is_mount_point(v->path) <= 0) {
                char opts[64];

                if (v->size_bytes)
                        (void)snprintf(opts, sizeof(opts), "mode=%o,size=%llu", EMPTY_DIR_MODE,
                                       (unsigned long long)v->size_bytes);
                else
                        (void)snprintf(opts, sizeof(opts), "mode=%o", EMPTY_DIR_MODE);
                if (mount("tmpfs", v->path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                        return pr_err(err, errno, "mount tmpfs on '%s'", v->path);
        } else if (chmod(v->path, v->type == SPEC_VOLUME_EMPTY_DIR ? EMPTY_DIR_MODE : 0755) < 0) {
                return pr_err(err, errno, "chmod '%s'", v->path);
        }
        for (size_t i = 0; i < v->n_files; i++) {
                r = write_volume_file(v, &v->files[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* kubelet's SetVolumeOwnership(): the fsGroup owns the volume's files and
 * may read them (and write them where the volume is writable); directories
 * are setgid so that what containers create there stays in the group.
 * Symbolic links are left alone, as kubelet leaves them. */
static int own_by_group(const char *path, gid_t gid, bool read_only, struct pr_error *err)
{
        mode_t mask = read_only ? 0440 : 0660;
        struct stat st;

        if (lstat(path, &st) < 0)
                return pr_err(err, errno, "stat '%s'", path);
        if (S_ISLNK(st.st_mode))
                return 0;
        if (S_ISDIR(st.st_mode))
                mask |= S_ISGID | 0110;
        if (lchown(path, (uid_t)-1, gid) < 0)
                return pr_err(err, errno, "chown '%s' to group %u", path, (unsigned)gid);
        if (chmod(path, (st.st_mode & 07777) | mask) < 0)
                return pr_err(err, errno, "chmod '%s'", path);
        return 0;
}

int volume_apply_fs_group(const struct pod_plan *plan, gid_t gid_base, struct pr_error *err)
{
        const struct spec_opt_i64 *fs_group =
            plan->spec ? &plan->spec->security_context.fs_group : NULL;

        if (!fs_group || !fs_group->set)
                return 0;
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const struct plan_volume *v = &plan->volumes[i];
                gid_t gid = gid_base + (gid_t)fs_group->value;
                /* Only what podrun made: a hostPath belongs to the host. */
                bool read_only = v->type != SPEC_VOLUME_EMPTY_DIR;
                int r = 0;

                if (v->type == SPEC_VOLUME_HOST_PATH)
                        continue;
                r = own_by_group(v->path, gid, read_only, err);
                for (size_t j = 0; r >= 0 && j < v->n_files; j++) {
                        _cleanup_free_ char *f = pr_asprintf("%s/%s", v->path, v->files[j].path);

                        r = own_by_group(f, gid, read_only, err);
                }
                if (r < 0)
                        return pr_err_wrap(err, "volume '%s': fsGroup", v->name);
        }
        return 0;
}

int volume_prepare_pod(const struct pod_plan *plan, struct pr_error *err)
{
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const struct plan_volume *v = &plan->volumes[i];
                int r;

                if (v->type == SPEC_VOLUME_HOST_PATH)
                        continue;
                r = prepare_volume(v, err);
                if (r < 0)
                        return pr_err_wrap(err, "volume '%s'", v->name);
        }
        return 0;
}

static int remove_volume_dir(const char *path, struct pr_error *err)
{
        int r = rt_umount_all(path, err);

        if (r >= 0)
                r = pr_rm_rf(path, err);
        return r;
}

/* Every entry of <dir>/volumes, whatever the plan says: after a crash only a
 * skeleton plan is left, with no volume list. */
static int remove_volumes_in(const char *pod_dir, struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/volumes", pod_dir);
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT ? 0 : pr_err(err, errno, "open '%s'", dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;

                if (pr_streq(de->d_name, ".") || pr_streq(de->d_name, ".."))
                        continue;
                p = pr_asprintf("%s/%s", dir, de->d_name);
                r = remove_volume_dir(p, err);
                if (r < 0)
                        break;
        }
        (void)closedir(d);
        if (r >= 0 && rmdir(dir) < 0 && errno != ENOENT)
                r = pr_err(err, errno, "rmdir '%s'", dir);
        return r;
}

int volume_cleanup_pod(const struct pod_plan *plan, struct pr_error *err)
{
        int r;

        for (size_t i = 0; i < plan->n_volumes; i++) {
                const struct plan_volume *v = &plan->volumes[i];

                if (v->type == SPEC_VOLUME_HOST_PATH)
                        continue;
                r = remove_volume_dir(v->path, err);
                if (r < 0)
                        return pr_err_wrap(err, "volume '%s'", v->name);
        }
        r = remove_volumes_in(plan->run_dir, err);
        if (r >= 0)
                r = remove_volumes_in(plan->root_dir, err);
        return r;
}

/* kubelet's hostPath type checker (pkg/volume/hostpath), with its messages. */
int volume_check_host_path(const struct plan_mount *m, struct pr_error *err)
{
        const char *path = m->source;
        struct stat st;
        int fd;

        switch (m->host_path_type) {
        case SPEC_HOST_PATH_UNSET:
                /* No check, but a missing source is made a directory, as
                 * containerd's CRI plugin (and Docker) do for bind sources. */
        case SPEC_HOST_PATH_DIRECTORY_OR_CREATE:
                if (stat(path, &st) < 0 && errno == ENOENT) {
                        int r = pr_mkdir_p(path, 0755, err);
                        if (r < 0)
                                return r;
                }
                break;
        case SPEC_HOST_PATH_FILE_OR_CREATE:
                /* Like kubelet: the parent must exist, only the file is made. */
                fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 && errno != EISDIR)
                        return pr_err(err, errno, "hostPath type check failed: create '%s'", path);
                if (fd >= 0)
                        (void)close(fd);
                break;
        default:
                break;
        }
        if (m->host_path_type == SPEC_HOST_PATH_UNSET)
                return 0;
        if (stat(path, &st) < 0)
                return pr_err(err, errno, "hostPath type check failed: '%s'", path);
        switch (m->host_path_type) {
        case SPEC_HOST_PATH_DIRECTORY_OR_CREATE:
        case SPEC_HOST_PATH_DIRECTORY:
                if (!S_ISDIR(st.st_mode))
                        return pr_err_msg(err, ENOTDIR,
                                          "hostPath type check failed: %s is not a directory",
                                          path);
                break;
        case SPEC_HOST_PATH_FILE_OR_CREATE:
        case SPEC_HOST_PATH_FILE:
                if (!S_ISREG(st.st_mode))
                        return pr_err_msg(err, EINVAL,
                                          "hostPath type check failed: %s is not a file", path);
                break;
        case SPEC_HOST_PATH_SOCKET:
                if (!S_ISSOCK(st.st_mode))
                        return pr_err_msg(err, EINVAL,
                                          "hostPath type check failed: %s is not a socket file",
                                          path);
                break;
        case SPEC_HOST_PATH_CHAR_DEVICE:
                if (!S_ISCHR(st.st_mode))
                        return pr_err_msg(
                            err, EINVAL, "hostPath type check failed: %s is not a character device",
                            path);
                break;
        case SPEC_HOST_PATH_BLOCK_DEVICE:
                if (!S_ISBLK(st.st_mode))
                        return pr_err_msg(err, EINVAL,
                                          "hostPath type check failed: %s is not a block device",
                                          path);
                break;
        default:
                break;
        }
        return 0;
}
