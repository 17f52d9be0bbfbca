/* Owns the image store under <root>/images: imports from a directory or a
 * tarball, the refs index, resolve, list and remove. It must never leave a
 * half-imported image where image_resolve() can see it, never write outside
 * the store while extracting (hostile tarballs included), and never map tar
 * owners through the host's user database: inside an image only numbers
 * mean anything. */
#include "pod/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pod/base/cleanup.h"
#include "pod/base/copy.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/image-int.h"

#define TMP_PREFIX ".tmp-"

PR_DEFINE_FREE_FUNC(struct image, image_free)

/* ---- Paths, lock, refs index -------------------------------------------- */

static char *store_path(const char *root_dir)
{
        return pr_asprintf("%s/images", root_dir);
}

/* The store is 0700: an image may carry setuid-root binaries, which no
 * unprivileged host user may reach through the store. */
static int store_lock(const char *store, int *ret_fd, struct pr_error *err)
{
        _cleanup_free_ char *lock = pr_asprintf("%s/.lock", store);
        _cleanup_close_ int fd = -1;
        int r;

        r = pr_mkdir_p(store, 0700, err);
        if (r < 0)
                return r;
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return pr_err(err, errno, "open '%s'", lock);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pr_err(err, errno, "lock '%s'", lock);
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

/* refs.json: {"version": 1, "refs": {"<normalised ref>": "<id>"}}. A missing
 * file is an empty store. Read without the lock: it is only ever replaced
 * whole by rename, after the content it names is complete. */
static int refs_load(const char *store, struct json_object **ret, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/refs.json", store);
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *refs;
        int r;

        if (access(path, F_OK) < 0 && errno == ENOENT) {
                o = json_object_new_object();
                (void)json_object_object_add(o, "version", json_object_new_int(1));
                (void)json_object_object_add(o, "refs", json_object_new_object());
                *ret = PR_TAKE_PTR(o);
                return 0;
        }
        r = image_json_load(path, &o, err);
        if (r < 0)
                return r;
        refs = image_json_get(o, "refs");
        if (!refs || !json_object_is_type(refs, json_type_object))
                return pr_err_msg(err, EINVAL, "'%s': no \"refs\" object", path);
        *ret = PR_TAKE_PTR(o);
        return 0;
}

static int refs_save(const char *store, struct json_object *o, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/refs.json", store);

        return image_json_save(path, o, err);
}

static struct json_object *refs_map(struct json_object *o)
{
        return image_json_get(o, "refs");
}

/* An id prefix of at least 4 hex digits that names exactly one stored
 * content, as `docker rmi 0f07c8d8` takes; ret_key gets a ref naming it. */
static const char *refs_find_id(struct json_object *o, const char *prefix, const char **ret_key)
{
        size_t n = strlen(prefix);
        const char *id = NULL;

        if (n < 4 || n > 64 || strspn(prefix, "0123456789abcdef") != n)
                return NULL;
        json_object_object_foreach(refs_map(o), k, v)
        {
                const char *s = json_object_get_string(v);

                if (!s || strncmp(s, prefix, n) != 0)
                        continue;
                if (id && strcmp(id, s) != 0)
                        return NULL; /* ambiguous */
                id = s;
                if (ret_key)
                        *ret_key = k;
        }
        return id;
}

/* The id a ref names, by exact key, then by normalised form, then as an id
 * prefix (*ret_by_id set); NULL when absent. ret_key gets the key that
 * matched, its storage owned by o. */
static const char *refs_find(struct json_object *o, const char *ref, const char **ret_key,
                             bool *ret_by_id)
{
        _cleanup_free_ char *norm = NULL;
        struct json_object *v;
        const char *key = ref;

        if (ret_by_id)
                *ret_by_id = false;
        v = image_json_get(refs_map(o), ref);
        if (!v && image_ref_normalize(ref, &norm, NULL) >= 0) {
                v = image_json_get(refs_map(o), norm);
                key = norm;
        }
        if (!v) {
                const char *id = refs_find_id(o, ref, ret_key);
                if (id && ret_by_id)
                        *ret_by_id = true;
                return id;
        }
        if (!json_object_is_type(v, json_type_string))
                return NULL;
        if (ret_key) {
                json_object_object_foreach(refs_map(o), k, val)
                {
                        (void)val;
                        if (strcmp(k, key) == 0)
                                *ret_key = k;
                }
        }
        return json_object_get_string(v);
}

static bool id_in_use(struct json_object *o, const char *id)
{
        json_object_object_foreach(refs_map(o), k, v)
        {
                (void)k;
                if (pr_streq(json_object_get_string(v), id))
                        return true;
        }
        return false;
}

static bool valid_id(const char *id)
{
        return id && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64;
}

static int random_hex(char *buf, size_t bytes, struct pr_error *err)
{
        unsigned char raw[32];

        if (bytes > sizeof(raw))
                return pr_err(err, EINVAL, "random id of %zu bytes", bytes);
        if (getrandom(raw, bytes, 0) != (ssize_t)bytes)
                return pr_err(err, errno ? errno : EIO, "getrandom");
        for (size_t i = 0; i < bytes; i++)
                (void)sprintf(buf + 2 * i, "%02x", raw[i]);
        return 0;
}

/* ---- Temporary directories ---------------------------------------------- */

/* Makes <store>/.tmp-<random> and holds a flock on it for as long as the
 * returned fd is open, so sweep_stale() in another process knows it is
 * still being filled. */
static int tmp_dir_create(const char *store, char **ret_path, int *ret_fd, struct pr_error *err)
{
        char rnd[33];
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = random_hex(rnd, 16, err);
        if (r < 0)
                return r;
        path = pr_asprintf("%s/" TMP_PREFIX "%s", store, rnd);
        if (mkdir(path, 0700) < 0)
                return pr_err(err, errno, "mkdir '%s'", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = pr_err(err, errno, "lock '%s'", path);
                (void)rmdir(path);
                return r;
        }
        *ret_path = PR_TAKE_PTR(path);
        *ret_fd = PR_TAKE_FD(fd);
        return 0;
}

/* Removes temporary directories whose owner died: an import that crashed,
 * or content whose removal was cut short. Called under the store lock. */
static void sweep_stale(const char *store)
{
        DIR *d = opendir(store);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -1;
                struct pr_error e = {};

                if (!pr_startswith(de->d_name, TMP_PREFIX))
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                path = pr_asprintf("%s/%s", store, de->d_name);
                if (pr_rm_rf(path, &e) < 0)
                        pr_log_debug("image store: %s; ignoring", e.msg);
        }
        (void)closedir(d);
}

/* Content leaves its id first (a rename, atomic), so a crash during the
 * removal leaves a temporary directory for sweep_stale(), never a
 * half-removed image under a live id. */
static int discard_content(const char *store, const char *id, struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/%s", store, id), *tmp = NULL;
        char rnd[33];
        int r;

        r = random_hex(rnd, 16, err);
        if (r < 0)
                return r;
        tmp = pr_asprintf("%s/" TMP_PREFIX "rm-%s", store, rnd);
        if (rename(dir, tmp) < 0)
                return errno == ENOENT ? 0 : pr_err(err, errno, "rename '%s'", dir);
        return pr_rm_rf(tmp, err);
}

/* ---- Import -------------------------------------------------------------- */

/* Archive member names must stay below the root: no absolute paths and no
 * ".." components. libarchive checks this too (SECURE_* flags); checking
 * here as well gives an error that names the entry. */
static bool archive_path_safe(const char *p)
{
        if (!p || p[0] == '/')
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

static void filter_xattrs(struct archive_entry *e)
{
        const char *name;
        const void *value;
        size_t size, n = 0;
        struct {
                char *name;
                void *value;
                size_t size;
        } *keep = NULL;

        if (archive_entry_xattr_reset(e) == 0)
                return;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!pr_copy_xattr_wanted(name))
                        continue;
                keep = pr_realloc(keep, (n + 1) * sizeof(*keep));
                keep[n].name = pr_strdup(name);
                keep[n].value = pr_malloc(size ? size : 1);
                memcpy(keep[n].value, value, size);
                keep[n].size = size;
                n++;
        }
        archive_entry_xattr_clear(e);
        for (size_t i = 0; i < n; i++) {
                archive_entry_xattr_add_entry(e, keep[i].name, keep[i].value, keep[i].size);
                free(keep[i].name);
                free(keep[i].value);
        }
        free(keep);
}

static int archive_fail(struct archive *a, const char *what, struct pr_error *err)
{
        int code = archive_errno(a);

        /* libarchive's own refusals (ARCHIVE_ERRNO_MISC = -1) carry no errno. */
        return pr_err_msg(err, code > 0 ? code : EINVAL, "%s: %s", what,
                          archive_error_string(a) ? archive_error_string(a) : "archive error");
}

static int copy_entry_data(struct archive *in, struct archive *out, const char *name,
                           struct pr_error *err)
{
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(in, &buf, &size, &off);

                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return archive_fail(in, name, err);
                if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
                        return archive_fail(out, name, err);
        }
}

static int extract_entries(struct archive *in, struct archive *out, struct pr_error *err)
{
        struct archive_entry *e;
        int r;

        for (;;) {
                const char *name, *link;

                r = archive_read_next_header(in, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return archive_fail(in, "read", err);
                name = archive_entry_pathname(e);
                link = archive_entry_hardlink(e);
                if (!name || !*name)
                        return pr_err_msg(err, EINVAL, "an entry without a name");
                if (!archive_path_safe(name))
                        return pr_err_msg(err, EPERM, "entry '%s': path leaves the root", name);
                if (link && !archive_path_safe(link))
                        return pr_err_msg(err, EPERM,
                                          "entry '%s': hard link to '%s' leaves "
                                          "the root",
                                          name, link);
                filter_xattrs(e);
                if (archive_write_header(out, e) < ARCHIVE_WARN)
                        return archive_fail(out, name, err);
                if (archive_entry_size(e) > 0 && !link) {
                        r = copy_entry_data(in, out, name, err);
                        if (r < 0)
                                return r;
                }
                if (archive_write_finish_entry(out) < ARCHIVE_WARN)
                        return archive_fail(out, name, err);
        }
}

/* archive_write_disk resolves names against the current directory, and
 * SECURE_SYMLINKS checks every component of them: so extraction runs with
 * the new rootfs as cwd (any prefix of ours would be checked too), and the
 * old cwd comes back before returning. podrun is single-threaded. Device
 * nodes are made: import runs as root, and images such as Debian's carry
 * none that the runtime's own /dev does not cover. Ownership is numeric
 * (no set_standard_lookup): the host's user names mean nothing inside. */
static int extract_tar(const char *tarball, const char *rootfs, struct pr_error *err)
{
        const int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                          ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                          ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
        _cleanup_close_ int saved_cwd = -1, root_fd = -1;
        struct archive *in = archive_read_new(), *out = archive_write_disk_new();
        int r;

        if (!in || !out)
                abort();
        (void)archive_read_support_filter_all(in);
        (void)archive_read_support_format_tar(in);
        (void)archive_write_disk_set_options(out, flags);
        saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        root_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (saved_cwd < 0 || root_fd < 0)
                r = pr_err(err, errno, "open '%s'", saved_cwd < 0 ? "." : rootfs);
        else if (archive_read_open_filename(in, tarball, 64 * 1024) != ARCHIVE_OK)
                r = archive_fail(in, "open", err);
        else if (fchdir(root_fd) < 0)
                r = pr_err(err, errno, "chdir '%s'", rootfs);
        else {
                r = extract_entries(in, out, err);
                /* Close applies the deferred directory modes and times,
                 * relative to the cwd, so it runs before the cwd returns. */
                if (archive_write_close(out) < ARCHIVE_WARN && r >= 0)
                        r = archive_fail(out, "finish", err);
                if (fchdir(saved_cwd) < 0)
                        abort(); /* a changed cwd would silently misdirect the caller */
        }
        (void)archive_read_free(in);
        (void)archive_write_free(out);
        if (r < 0)
                return pr_err_wrap(err, "extract '%s'", tarball);
        return 0;
}

struct size_seen {
        size_t n;
        ino_t *inos;
};

/* Apparent size, as `docker images` shows it: regular files (each inode
 * once) and symlinks. */
static int tree_size(int dfd, struct size_seen *seen, uint64_t *sum)
{
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                (void)close(dfd);
                return -errno;
        }
        while ((de = readdir(d)) && r >= 0) {
                struct stat st;
                bool dup = false;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int fd = openat(dirfd(d), de->d_name,
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = fd < 0 ? -errno : tree_size(fd, seen, sum);
                        continue;
                }
                for (size_t i = 0; st.st_nlink > 1 && i < seen->n && !dup; i++)
                        dup = seen->inos[i] == st.st_ino;
                if (dup)
                        continue;
                if (st.st_nlink > 1) {
                        ino_t *slot = pr_array_grow(&seen->inos, &seen->n, sizeof(ino_t));
                        *slot = st.st_ino;
                }
                if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                        *sum += (uint64_t)st.st_size;
        }
        (void)closedir(d);
        return r;
}

struct import_source {
        char *rootfs;      /* directory to copy, or NULL */
        char *tarball;     /* archive to extract, or NULL */
        char *config_file; /* bundle config.json, or NULL */
};

static void source_done(struct import_source *s)
{
        free(s->rootfs);
        free(s->tarball);
        free(s->config_file);
}

/* A directory with a rootfs/ subdirectory is a bundle (rootfs/ plus an
 * optional config.json); any other directory is the root filesystem itself;
 * a file is a tarball. */
static int source_open(const char *path, struct import_source *src, struct pr_error *err)
{
        _cleanup_free_ char *sub = pr_asprintf("%s/rootfs", path);
        _cleanup_free_ char *cfg = pr_asprintf("%s/config.json", path);
        struct stat st;

        if (stat(path, &st) < 0)
                return pr_err(err, errno, "source '%s'", path);
        if (S_ISREG(st.st_mode)) {
                src->tarball = pr_strdup(path);
                return 0;
        }
        if (!S_ISDIR(st.st_mode))
                return pr_err_msg(err, EINVAL, "source '%s': neither a directory nor a tarball",
                                  path);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
                src->rootfs = PR_TAKE_PTR(sub);
                if (access(cfg, F_OK) == 0)
                        src->config_file = PR_TAKE_PTR(cfg);
                return 0;
        }
        src->rootfs = pr_strdup(path);
        return 0;
}

static int write_image_json(const char *dir, const char *id, const char *source,
                            const struct image_config *cfg, uint64_t size, struct pr_error *err)
{
        _cleanup_free_ char *path = pr_asprintf("%s/image.json", dir);
        _cleanup_json_ struct json_object *o = json_object_new_object();
        uint64_t now = pr_now_real_usec();
        char created[PR_RFC3339_MAX];

        pr_format_rfc3339_usec(now, created);
        (void)json_object_object_add(o, "version", json_object_new_int(1));
        (void)json_object_object_add(o, "id", json_object_new_string(id));
        (void)json_object_object_add(o, "created", json_object_new_string(created));
        (void)json_object_object_add(o, "createdUsec", json_object_new_int64((int64_t)now));
        (void)json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        (void)json_object_object_add(o, "source", json_object_new_string(source));
        (void)json_object_object_add(o, "config", image_config_to_json(cfg));
        return image_json_save(path, o, err);
}

/* OCI image layouts and `docker save` archives hold layers, not a root
 * filesystem; imported as one they would make an image that runs nothing.
 * Their marker files say so: oci-layout, or manifest.json with
 * repositories. */
static int check_not_layout(const char *rootfs, const char *path, struct pr_error *err)
{
        _cleanup_free_ char *oci = pr_asprintf("%s/oci-layout", rootfs);
        _cleanup_free_ char *manifest = pr_asprintf("%s/manifest.json", rootfs);
        _cleanup_free_ char *repos = pr_asprintf("%s/repositories", rootfs);

        if (access(oci, F_OK) == 0 || (access(manifest, F_OK) == 0 && access(repos, F_OK) == 0))
                return pr_err_msg(err, ENOTSUP,
                                  "'%s' is an OCI image layout or a 'docker save' archive; "
                                  "import takes a root filesystem (try 'docker export')",
                                  path);
        return 0;
}

/* Fills <tmp>/rootfs and <tmp>/image.json; nothing outside tmp changes. */
static int import_fill(const char *tmp, const char *id, const char *path,
                       const struct image_config *config, struct pr_error *err)
{
        _cleanup_free_ char *rootfs = pr_asprintf("%s/rootfs", tmp), *abs = NULL;
        _cleanup_(source_done) struct import_source src = {};
        _cleanup_config_ struct image_config cfg = {};
        struct size_seen seen = {};
        uint64_t size = 0;
        int fd, r;

        r = source_open(path, &src, err);
        if (r < 0)
                return r;
        if (src.config_file) {
                r = image_config_load(src.config_file, &cfg, err);
                if (r < 0)
                        return r;
        }
        image_config_merge(&cfg, config);
        if (src.tarball) {
                if (mkdir(rootfs, 0755) < 0)
                        return pr_err(err, errno, "mkdir '%s'", rootfs);
                r = extract_tar(src.tarball, rootfs, err);
        } else
                r = pr_copy_tree(src.rootfs, rootfs, err);
        if (r >= 0)
                r = check_not_layout(rootfs, path, err);
        if (r < 0)
                return r;
        fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? -errno : tree_size(fd, &seen, &size);
        free(seen.inos);
        if (r < 0)
                return pr_err(err, r, "measure '%s'", rootfs);
        abs = realpath(path, NULL);
        return write_image_json(tmp, id, abs ? abs : path, &cfg, size, err);
}

/* Under the store lock: the content gets its id, then the ref moves to it
 * in one rename of refs.json, then the content the ref named before goes
 * when nothing else names it. */
static int import_commit(const char *store, const char *tmp, const char *id, const char *norm,
                         struct pr_error *err)
{
        _cleanup_free_ char *dir = pr_asprintf("%s/%s", store, id), *old = NULL;
        _cleanup_json_ struct json_object *refs = NULL;
        _cleanup_close_ int lock = -1;
        struct json_object *v;
        struct pr_error e = {};
        int r;

        r = store_lock(store, &lock, err);
        if (r < 0)
                return r;
        sweep_stale(store);
        r = refs_load(store, &refs, err);
        if (r < 0)
                return r;
        v = image_json_get(refs_map(refs), norm);
        if (v && json_object_is_type(v, json_type_string))
                old = pr_strdup(json_object_get_string(v));
        if (rename(tmp, dir) < 0)
                return pr_err(err, errno, "rename '%s' to '%s'", tmp, dir);
        (void)json_object_object_add(refs_map(refs), norm, json_object_new_string(id));
        r = refs_save(store, refs, err);
        if (r < 0) {
                (void)pr_rm_rf(dir, NULL);
                return r;
        }
        if (valid_id(old) && !id_in_use(refs, old) && discard_content(store, old, &e) < 0)
                pr_log_debug("image store: %s; ignoring", e.msg);
        return 0;
}

int image_import(const char *root_dir, const char *ref, const char *path,
                 const struct image_config *config, struct pr_error *err)
{
        _cleanup_free_ char *norm = NULL, *store = store_path(root_dir), *tmp = NULL;
        _cleanup_close_ int tmp_fd = -1, lock = -1;
        char id[65];
        int r;

        r = image_ref_normalize(ref, &norm, err);
        if (r < 0)
                return r;
        /* The temporary directory is made and flock'd under the store lock,
         * so no sweep_stale() sees it unlocked; the slow copy then runs
         * without the store lock, and only the commit takes it again. */
        r = random_hex(id, 32, err);
        if (r >= 0)
                r = store_lock(store, &lock, err);
        if (r >= 0)
                r = tmp_dir_create(store, &tmp, &tmp_fd, err);
        pr_closep(&lock);
        lock = -1;
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", ref);
        r = import_fill(tmp, id, path, config, err);
        if (r >= 0)
                r = import_commit(store, tmp, id, norm, err);
        if (r < 0) {
                (void)pr_rm_rf(tmp, NULL);
                return pr_err_wrap(err, "image '%s'", ref);
        }
        return 0;
}

/* ---- Resolve, list, remove ---------------------------------------------- */

static int image_load(const char *store, const char *norm, const char *id, struct image **ret,
                      struct pr_error *err)
{
        _cleanup_(image_freep) struct image *img = pr_calloc(1, sizeof(*img));
        _cleanup_json_ struct json_object *o = NULL;
        _cleanup_free_ char *path = NULL;
        struct json_object *v;
        int r;

        if (!valid_id(id))
                return pr_err_msg(err, EINVAL, "refs index: bad id for '%s'", norm);
        img->ref = pr_strdup(norm);
        img->id = pr_strdup(id);
        img->dir = pr_asprintf("%s/%s", store, id);
        img->rootfs = pr_asprintf("%s/rootfs", img->dir);
        path = pr_asprintf("%s/image.json", img->dir);
        r = image_json_load(path, &o, err);
        if (r < 0)
                return r;
        r = image_config_from_json(o, &img->config, err);
        if (r < 0)
                return pr_err_wrap(err, "'%s'", path);
        v = image_json_get(o, "createdUsec");
        img->created_usec = v ? (uint64_t)json_object_get_int64(v) : 0;
        v = image_json_get(o, "size");
        img->size_bytes = v ? (uint64_t)json_object_get_int64(v) : 0;
        *ret = PR_TAKE_PTR(img);
        return 0;
}

int image_resolve(const char *root_dir, const char *ref, struct image **ret, struct pr_error *err)
{
        _cleanup_free_ char *store = store_path(root_dir), *norm = NULL;
        _cleanup_json_ struct json_object *refs = NULL;
        const char *id, *key = NULL;
        int r;

        r = refs_load(store, &refs, err);
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", ref);
        id = refs_find(refs, ref, &key, NULL);
        if (!id) {
                /* A malformed reference says so rather than "not found". */
                r = image_ref_normalize(ref, &norm, err);
                if (r < 0)
                        return r;
                return pr_err_msg(err, ENOENT,
                                  "image '%s' not found; import it with "
                                  "'podrun image import %s PATH'",
                                  ref, ref);
        }
        r = image_load(store, key, id, ret, err);
        if (r == -ENOENT)
                return pr_err_msg(err, ENOENT, "image '%s' not found (removed meanwhile)", ref);
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", ref);
        return 0;
}

static int cmp_image(const void *a, const void *b)
{
        const struct image *x = *(struct image *const *)a, *y = *(struct image *const *)b;

        return strcmp(x->ref, y->ref);
}

struct image **image_list_free(struct image **list, size_t n)
{
        for (size_t i = 0; list && i < n; i++)
                image_free(list[i]);
        free(list);
        return NULL;
}

int image_list(const char *root_dir, struct image ***ret, size_t *ret_n, struct pr_error *err)
{
        _cleanup_free_ char *store = store_path(root_dir);
        _cleanup_json_ struct json_object *refs = NULL;
        struct image **list = NULL;
        size_t n = 0;
        int r;

        r = refs_load(store, &refs, err);
        if (r < 0)
                return pr_err_wrap(err, "image store '%s'", store);
        json_object_object_foreach(refs_map(refs), k, v)
        {
                struct image *img = NULL;
                struct pr_error e = {};

                /* One damaged entry must not hide the others from `ls`. */
                if (image_load(store, k, json_object_get_string(v), &img, &e) < 0) {
                        pr_log_debug("image '%s': %s; skipping", k, e.msg);
                        continue;
                }
                list = pr_realloc(list, (n + 1) * sizeof(*list));
                list[n++] = img;
        }
        if (n > 1)
                qsort(list, n, sizeof(*list), cmp_image);
        *ret = list;
        *ret_n = n;
        return 0;
}

/* By name: that one ref. By id: every ref naming that content. */
static void refs_drop(struct json_object *refs, const char *key, const char *id, bool by_id)
{
        _cleanup_strv_free_ char **keys = NULL;

        if (!by_id) {
                json_object_object_del(refs_map(refs), key);
                return;
        }
        json_object_object_foreach(refs_map(refs), k, v)
        {
                if (pr_streq(json_object_get_string(v), id))
                        pr_strv_push(&keys, k);
        }
        for (size_t i = 0; keys && keys[i]; i++)
                json_object_object_del(refs_map(refs), keys[i]);
}

int image_remove(const char *root_dir, const char *ref, struct pr_error *err)
{
        _cleanup_free_ char *store = store_path(root_dir), *id = NULL, *key = NULL;
        _cleanup_json_ struct json_object *refs = NULL;
        _cleanup_close_ int lock = -1;
        const char *found, *k = NULL;
        bool by_id;
        int r;

        r = store_lock(store, &lock, err);
        if (r >= 0)
                r = refs_load(store, &refs, err);
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", ref);
        found = refs_find(refs, ref, &k, &by_id);
        if (!found)
                return pr_err_msg(err, ENOENT, "image '%s' not found", ref);
        id = pr_strdup(found);
        key = pr_strdup(k);
        refs_drop(refs, key, id, by_id);
        r = refs_save(store, refs, err);
        if (r >= 0 && valid_id(id) && !id_in_use(refs, id))
                r = discard_content(store, id, err);
        sweep_stale(store);
        if (r < 0)
                return pr_err_wrap(err, "image '%s'", ref);
        return 0;
}

struct image *image_free(struct image *img)
{
        if (!img)
                return NULL;
        free(img->ref);
        free(img->id);
        free(img->dir);
        free(img->rootfs);
        image_config_done(&img->config);
        free(img);
        return NULL;
}
