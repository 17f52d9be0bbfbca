#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/image.h"

/* Each test works in its own directory under /tmp: root/ is the --root,
 * src/ the material imported, outside/ what a hostile tarball aims at. */
static char tmp[64];
static char root[128], src[128], outside[128];

static void setup(void)
{
        strcpy(tmp, "/tmp/podrun-test-image-XXXXXX");
        cr_assert_not_null(mkdtemp(tmp));
        (void)snprintf(root, sizeof(root), "%s/root", tmp);
        (void)snprintf(src, sizeof(src), "%s/src", tmp);
        (void)snprintf(outside, sizeof(outside), "%s/outside", tmp);
        cr_assert_eq(mkdir(src, 0755), 0);
        cr_assert_eq(mkdir(outside, 0755), 0);
}

static void teardown(void)
{
        struct pr_error err = {};

        cr_assert_eq(pr_rm_rf(tmp, &err), 0, "%s", err.msg);
}

TestSuite(image, .init = setup, .fini = teardown);

PR_DEFINE_FREE_FUNC(struct image, image_free)

static char *path_in(const char *dir, const char *rel)
{
        return pr_asprintf("%s/%s", dir, rel);
}

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
        _cleanup_free_ char *p = path_in(dir, rel);
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(p, text, strlen(text), mode, &err), 0, "%s", err.msg);
        cr_assert_eq(chmod(p, mode), 0);
}

static char *read_text(const char *dir, const char *rel)
{
        _cleanup_free_ char *p = path_in(dir, rel);
        struct pr_error err = {};
        char *data = NULL;

        cr_assert_eq(pr_read_file(p, 1 << 20, &data, NULL, &err), 0, "%s", err.msg);
        return data;
}

/* Names in dir, sorted, joined with spaces: a snapshot to compare. */
static char *listing(const char *dir)
{
        struct dirent **names;
        char *out = pr_strdup("");
        int n = scandir(dir, &names, NULL, alphasort);

        if (n < 0)
                return out;
        for (int i = 0; i < n; i++) {
                if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
                        char *j = pr_asprintf("%s%s ", out, names[i]->d_name);
                        free(out);
                        out = j;
                }
                free(names[i]);
        }
        free(names);
        return out;
}

/* The store, including refs.json's text: equal snapshots, unchanged store.
 * The lock file is left out: the first import makes it, failed or not. */
static char *store_snapshot(void)
{
        _cleanup_free_ char *images = path_in(root, "images");
        _cleanup_free_ char *all = listing(images);
        _cleanup_free_ char *refs_path = path_in(images, "refs.json");
        const char *names = pr_startswith(all, ".lock ") ? all + strlen(".lock ") : all;
        char *refs = NULL;
        char *snap;

        if (pr_read_file(refs_path, 1 << 20, &refs, NULL, NULL) < 0)
                refs = pr_strdup("");
        snap = pr_asprintf("%s|%s", names, refs);
        free(refs);
        return snap;
}

/* ---- reference rules ----------------------------------------------------- */

Test(image, normalize_valid_references)
{
        static const char *const table[][2] = {
            {"busybox", "docker.io/library/busybox:latest"},
            {"busybox:1.36", "docker.io/library/busybox:1.36"},
            {"library/busybox:1.36", "docker.io/library/busybox:1.36"},
            {"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
            {"index.docker.io/busybox", "docker.io/library/busybox:latest"},
            {"docker.io/busybox", "docker.io/library/busybox:latest"},
            {"user/app", "docker.io/user/app:latest"},
            {"quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5"},
            {"localhost/app", "localhost/app:latest"},
            {"localhost:5000/app:dev", "localhost:5000/app:dev"},
            {"registry:5000/a/b/c", "registry:5000/a/b/c:latest"},
            {"Registry.Example.com/app", "Registry.Example.com/app:latest"},
            {"[::1]:5000/app", "[::1]:5000/app:latest"},
            {"my_app-x.y__z:Tag_1.0-rc", "docker.io/library/my_app-x.y__z:Tag_1.0-rc"},
            {"a--b", "docker.io/library/a--b:latest"},
            {"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "docker.io/library/busybox@sha256:"
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
            {"busybox:1.36@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "docker.io/library/busybox:1.36@sha256:"
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
            {"probe", "docker.io/library/probe:latest"},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                _cleanup_free_ char *out = NULL;
                struct pr_error err = {};

                cr_assert_eq(image_ref_normalize(table[i][0], &out, &err), 0, "%s: %s", table[i][0],
                             err.msg);
                cr_assert_str_eq(out, table[i][1], "%s", table[i][0]);
        }
}

Test(image, normalize_rejects_malformed_references)
{
        _cleanup_free_ char *long_name = pr_malloc(300), *long_tag = NULL;
        const char *bad[] = {
            "",
            "Busybox",
            "library/BusyBox",
            "busybox:",
            "busybox:-tag",
            "busybox:.tag",
            "busybox:ta/g",
            "busybox:t@g",
            "busybox@sha256:short",
            "busybox@md5:0123456789abcdef0123456789abcdef",
            "busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            ":tag",
            "/busybox",
            "busybox/",
            "a//b",
            "-busybox",
            "busy..box",
            "busy_-box",
            "bad host!/app",
            "host:port/app",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "with space",
            NULL, /* long_name */
            NULL, /* long_tag */
        };
        size_t n = PR_ELEMENTSOF(bad);

        memset(long_name, 'a', 299);
        long_name[299] = '\0';
        bad[n - 2] = long_name;
        long_tag = pr_asprintf("busybox:%0129d", 0);
        bad[n - 1] = long_tag;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *out = NULL;
                struct pr_error err = {};

                cr_assert_eq(image_ref_normalize(bad[i], &out, &err), -EINVAL, "'%s' accepted",
                             bad[i]);
                cr_assert_null(out);
                cr_assert(err.usage, "%s", bad[i]);
                if (*bad[i])
                        cr_assert(strstr(err.msg, bad[i]) || strlen(bad[i]) > 200,
                                  "message '%s' does not name '%s'", err.msg, bad[i]);
        }
}

Test(image, normalize_error_says_why)
{
        _cleanup_free_ char *out = NULL;
        struct pr_error err = {};

        cr_assert_eq(image_ref_normalize("Busybox:1", &out, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "image reference 'Busybox:1': repository name must be lowercase");
        cr_assert_eq(image_ref_normalize("busybox:bad!", &out, &err), -EINVAL);
        cr_assert_str_eq(err.msg, "image reference 'busybox:bad!': invalid tag 'bad!'");
}

Test(image, familiar_names)
{
        static const char *const table[][3] = {
            {"docker.io/library/busybox:latest", "busybox", "latest"},
            {"docker.io/user/app:1", "user/app", "1"},
            {"quay.io/a/b:v2", "quay.io/a/b", "v2"},
            {"localhost:5000/app:dev", "localhost:5000/app", "dev"},
            {"docker.io/library/busybox@sha256:"
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "busybox", "<none>"},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                _cleanup_free_ char *repo = NULL, *tag = NULL;

                image_ref_familiar(table[i][0], &repo, &tag);
                cr_assert_str_eq(repo, table[i][1]);
                cr_assert_str_eq(tag, table[i][2]);
        }
}

/* ---- import from a directory ---------------------------------------------- */

static void make_rootfs(const char *dir)
{
        _cleanup_free_ char *bin = path_in(dir, "bin"), *etc = path_in(dir, "etc");
        _cleanup_free_ char *sh = path_in(dir, "bin/sh"), *hl = path_in(dir, "bin/hard");
        _cleanup_free_ char *tool = path_in(dir, "bin/tool"), *null = path_in(dir, "null");
        _cleanup_free_ char *fifo = path_in(dir, "fifo"), *secret = path_in(dir, "etc/secret");
        _cleanup_free_ char *priv = path_in(dir, "private");

        cr_assert_eq(mkdir(bin, 0755), 0);
        cr_assert_eq(mkdir(etc, 0755), 0);
        cr_assert_eq(mkdir(priv, 0750), 0);
        write_file(dir, "bin/tool", "#!tool\n", 0755);
        cr_assert_eq(chmod(tool, 04755), 0);
        cr_assert_eq(symlink("tool", sh), 0);
        cr_assert_eq(link(tool, hl), 0);
        write_file(dir, "etc/secret", "s3cret\n", 0640);
        cr_assert_eq(chown(secret, 1234, 5678), 0);
        cr_assert_eq(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        (void)setxattr(secret, "user.podrun", "kept", 4, 0);
        (void)setxattr(secret, "trusted.podrun", "dropped", 7, 0);
}

Test(image, import_directory_keeps_types_modes_owners_links)
{
        _cleanup_(image_freep) struct image *img = NULL;
        struct image_config cfg = {};
        struct pr_error err = {};
        _cleanup_free_ char *text = NULL;
        struct stat st, st2;
        char buf[64];
        ssize_t n;

        make_rootfs(src);
        pr_strv_push(&cfg.cmd, "sh");
        pr_strv_push(&cfg.cmd, "-c");
        pr_strv_push(&cfg.cmd, "true");
        pr_strv_push(&cfg.env, "PATH=/bin");
        cfg.working_dir = pr_strdup("/srv");
        cfg.user = pr_strdup("1000:1000");
        cfg.stop_signal = pr_strdup("SIGQUIT");
        cr_assert_eq(image_import(root, "test/app:1", src, &cfg, &err), 0, "%s", err.msg);
        image_config_done(&cfg);
        cr_assert_eq(image_resolve(root, "test/app:1", &img, &err), 0, "%s", err.msg);
        cr_assert_str_eq(img->ref, "docker.io/test/app:1");
        cr_assert_eq(strlen(img->id), 64);
        cr_assert(pr_startswith(img->rootfs, root));
        cr_assert(pr_endswith(img->rootfs, "/rootfs"));

        text = read_text(img->rootfs, "bin/tool");
        cr_assert_str_eq(text, "#!tool\n");
        cr_assert_eq(fstatat(AT_FDCWD, img->rootfs, &st, 0), 0);
        {
                _cleanup_free_ char *p = path_in(img->rootfs, "bin/tool");
                _cleanup_free_ char *h = path_in(img->rootfs, "bin/hard");
                cr_assert_eq(lstat(p, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 04755, "setuid bit lost: %o", st.st_mode);
                cr_assert_eq(lstat(h, &st2), 0);
                cr_assert_eq(st.st_ino, st2.st_ino, "hard link became a copy");
        }
        {
                _cleanup_free_ char *p = path_in(img->rootfs, "bin/sh");
                n = readlink(p, buf, sizeof(buf));
                cr_assert_eq(n, 4);
                cr_assert_eq(memcmp(buf, "tool", 4), 0);
        }
        {
                _cleanup_free_ char *p = path_in(img->rootfs, "etc/secret");
                cr_assert_eq(lstat(p, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 0640);
                cr_assert_eq(st.st_uid, 1234);
                cr_assert_eq(st.st_gid, 5678);
                n = getxattr(p, "user.podrun", buf, sizeof(buf));
                if (n >= 0) /* tmpfs before 6.6 has no user xattrs */
                        cr_assert_eq(memcmp(buf, "kept", 4), 0);
                cr_assert_eq(getxattr(p, "trusted.podrun", buf, sizeof(buf)), -1);
        }
        {
                _cleanup_free_ char *p = path_in(img->rootfs, "null");
                _cleanup_free_ char *f = path_in(img->rootfs, "fifo");
                _cleanup_free_ char *d = path_in(img->rootfs, "private");
                cr_assert_eq(lstat(p, &st), 0);
                cr_assert(S_ISCHR(st.st_mode));
                cr_assert_eq(st.st_rdev, makedev(1, 3));
                cr_assert_eq(lstat(f, &st), 0);
                cr_assert(S_ISFIFO(st.st_mode));
                cr_assert_eq(lstat(d, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 0750);
        }
        cr_assert_str_eq(img->config.cmd[2], "true");
        cr_assert_null(img->config.entrypoint);
        cr_assert_str_eq(img->config.env[0], "PATH=/bin");
        cr_assert_str_eq(img->config.working_dir, "/srv");
        cr_assert_str_eq(img->config.user, "1000:1000");
        cr_assert_str_eq(img->config.stop_signal, "SIGQUIT");
        /* "#!tool\n" twice by hard link counts once, plus the 4-byte link. */
        cr_assert_eq(img->size_bytes, 7 + 4 + 7);
        cr_assert_gt(img->created_usec, 0);
}

Test(image, import_bundle_config_json_with_flag_overrides)
{
        _cleanup_(image_freep) struct image *img = NULL;
        _cleanup_free_ char *rootfs = path_in(src, "rootfs");
        struct image_config cfg = {};
        struct pr_error err = {};

        cr_assert_eq(mkdir(rootfs, 0755), 0);
        write_file(rootfs, "hello", "hi\n", 0644);
        write_file(src, "config.json",
                   "{\"architecture\": \"amd64\", \"config\": {\"Entrypoint\": [\"/hello\"], "
                   "\"Cmd\": [\"a\", \"b\"], \"Env\": [\"A=1\", \"B=2\"], \"WorkingDir\": "
                   "\"/w\", \"User\": \"\", \"StopSignal\": \"SIGINT\"}}",
                   0644);
        pr_strv_push(&cfg.env, "B=flag");
        pr_strv_push(&cfg.env, "C=3");
        cfg.user = pr_strdup("nobody");
        cr_assert_eq(image_import(root, "bundle", src, &cfg, &err), 0, "%s", err.msg);
        image_config_done(&cfg);
        cr_assert_eq(image_resolve(root, "bundle:latest", &img, &err), 0, "%s", err.msg);
        cr_assert_str_eq(img->config.entrypoint[0], "/hello");
        cr_assert_null(img->config.entrypoint[1]);
        cr_assert_str_eq(img->config.cmd[1], "b");
        cr_assert_eq(pr_strv_len(img->config.env), 3);
        cr_assert_str_eq(img->config.env[0], "A=1");
        cr_assert_str_eq(img->config.env[1], "B=flag");
        cr_assert_str_eq(img->config.env[2], "C=3");
        cr_assert_str_eq(img->config.working_dir, "/w");
        cr_assert_str_eq(img->config.user, "nobody");
        cr_assert_str_eq(img->config.stop_signal, "SIGINT");
        {
                _cleanup_free_ char *t = read_text(img->rootfs, "hello");
                _cleanup_free_ char *l = listing(img->rootfs);
                cr_assert_str_eq(t, "hi\n");
                cr_assert_str_eq(l, "hello ", "the bundle's config.json leaked into the rootfs");
        }
}

Test(image, bad_config_json_is_refused_and_named)
{
        _cleanup_free_ char *rootfs = path_in(src, "rootfs"), *before = NULL, *after = NULL;
        struct pr_error err = {};

        cr_assert_eq(mkdir(rootfs, 0755), 0);
        write_file(src, "config.json", "{\"config\": {\"Cmd\": \"sh\"}}", 0644);
        before = store_snapshot();
        cr_assert_eq(image_import(root, "bad", src, NULL, &err), -EINVAL);
        cr_assert(strstr(err.msg, "image 'bad'"), "%s", err.msg);
        cr_assert(strstr(err.msg, "config.json"), "%s", err.msg);
        cr_assert(strstr(err.msg, "field 'Cmd': not an array of strings"), "%s", err.msg);
        after = store_snapshot();
        cr_assert_str_eq(before, after);
}

/* ---- tarballs ------------------------------------------------------------ */

struct tar_entry {
        const char *name;
        mode_t type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK, or 0 for a hard link */
        const char *data; /* file content, symlink or hard link target */
        mode_t perm;
};

static void write_tar(const char *path, bool gzip, const struct tar_entry *e, size_t n)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();

        cr_assert_not_null(a);
        if (gzip)
                cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                archive_entry_clear(ae);
                archive_entry_set_pathname(ae, e[i].name);
                archive_entry_set_uid(ae, 1001);
                archive_entry_set_gid(ae, 1002);
                archive_entry_set_mtime(ae, 1000000000, 0);
                if (e[i].type == 0) {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_hardlink(ae, e[i].data);
                        archive_entry_set_size(ae, 0);
                } else {
                        archive_entry_set_filetype(ae, e[i].type);
                        archive_entry_set_perm(ae, e[i].perm);
                        if (e[i].type == AE_IFLNK)
                                archive_entry_set_symlink(ae, e[i].data);
                        archive_entry_set_size(ae, e[i].type == AE_IFREG ? strlen(e[i].data) : 0);
                }
                cr_assert_eq(archive_write_header(a, ae), ARCHIVE_OK, "%s",
                             archive_error_string(a));
                if (e[i].type == AE_IFREG)
                        cr_assert_eq(archive_write_data(a, e[i].data, strlen(e[i].data)),
                                     (la_ssize_t)strlen(e[i].data));
        }
        archive_entry_free(ae);
        cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

Test(image, import_tar_gz)
{
        static const struct tar_entry entries[] = {
            {"./", AE_IFDIR, NULL, 0755},
            {"./bin/", AE_IFDIR, NULL, 0711},
            {"./bin/app", AE_IFREG, "binary\n", 04750},
            {"./bin/sh", AE_IFLNK, "/bin/app", 0777},
            {"./bin/again", 0, "./bin/app", 0},
            {"etc/hostname", AE_IFREG, "box\n", 0600},
        };
        _cleanup_(image_freep) struct image *img = NULL;
        _cleanup_free_ char *tarball = path_in(tmp, "rootfs.tar.gz");
        struct pr_error err = {};
        struct stat st, st2;
        char buf[64];

        write_tar(tarball, true, entries, PR_ELEMENTSOF(entries));
        cr_assert_eq(image_import(root, "tarred:v1", tarball, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_resolve(root, "docker.io/library/tarred:v1", &img, &err), 0, "%s",
                     err.msg);
        {
                _cleanup_free_ char *t = read_text(img->rootfs, "etc/hostname");
                _cleanup_free_ char *app = path_in(img->rootfs, "bin/app");
                _cleanup_free_ char *again = path_in(img->rootfs, "bin/again");
                _cleanup_free_ char *sh = path_in(img->rootfs, "bin/sh");
                _cleanup_free_ char *bin = path_in(img->rootfs, "bin");
                ssize_t n;

                cr_assert_str_eq(t, "box\n");
                cr_assert_eq(lstat(app, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 04750);
                cr_assert_eq(st.st_uid, 1001, "ownership must be numeric, not looked up");
                cr_assert_eq(st.st_gid, 1002);
                cr_assert_eq(st.st_mtime, 1000000000);
                cr_assert_eq(lstat(again, &st2), 0);
                cr_assert_eq(st.st_ino, st2.st_ino);
                n = readlink(sh, buf, sizeof(buf));
                cr_assert_eq(n, 8);
                cr_assert_eq(memcmp(buf, "/bin/app", 8), 0);
                cr_assert_eq(lstat(bin, &st), 0);
                cr_assert_eq(st.st_mode & 07777, 0711);
        }
        cr_assert_null(img->config.cmd);
}

/* Every hostile archive is refused whole: nothing appears outside the
 * store, and the store is as it was. */
static void assert_hostile_refused(const struct tar_entry *entries, size_t n, const char *why)
{
        _cleanup_free_ char *tarball = path_in(tmp, "evil.tar");
        _cleanup_free_ char *before = NULL, *after = NULL, *out = NULL, *tmp_list = NULL;
        struct pr_error err = {};

        write_tar(tarball, false, entries, n);
        before = store_snapshot();
        cr_assert_lt(image_import(root, "evil", tarball, NULL, &err), 0, "%s accepted", why);
        cr_assert(strstr(err.msg, "image 'evil'"), "%s", err.msg);
        after = store_snapshot();
        cr_assert_str_eq(before, after, "%s: store changed", why);
        out = listing(outside);
        cr_assert_str_eq(out, "", "%s: wrote '%s' outside", why, out);
        tmp_list = listing(tmp);
        cr_assert_str_eq(tmp_list, "evil.tar outside root src ", "%s: wrote '%s'", why, tmp_list);
}

Test(image, hostile_tar_dotdot)
{
        struct tar_entry e[] = {
            {"ok", AE_IFREG, "fine\n", 0644},
            {"../outside/escape", AE_IFREG, "pwned\n", 0644},
        };
        struct pr_error err = {};

        /* Prime the store so "unchanged" is about a real refs.json. */
        cr_assert_eq(image_import(root, "good", src, NULL, &err), 0, "%s", err.msg);
        assert_hostile_refused(e, PR_ELEMENTSOF(e), "'..' path");
        e[1].name = "a/../../../outside/escape";
        assert_hostile_refused(e, PR_ELEMENTSOF(e), "nested '..' path");
}

Test(image, hostile_tar_absolute_path)
{
        _cleanup_free_ char *abs = path_in(outside, "abs");
        struct tar_entry e[] = {
            {abs, AE_IFREG, "pwned\n", 0644},
        };

        assert_hostile_refused(e, PR_ELEMENTSOF(e), "absolute path");
}

Test(image, hostile_tar_write_through_symlink)
{
        struct tar_entry e[] = {
            {"link", AE_IFLNK, outside, 0777},
            {"link/pwned", AE_IFREG, "pwned\n", 0644},
        };

        assert_hostile_refused(e, PR_ELEMENTSOF(e), "write through a symlink");
}

Test(image, hostile_tar_relative_symlink_escape)
{
        struct tar_entry e[] = {
            {"up", AE_IFLNK, "../../../../../../../../..", 0777},
            {"up/tmp/pwned", AE_IFREG, "pwned\n", 0644},
        };

        assert_hostile_refused(e, PR_ELEMENTSOF(e), "relative symlink escape");
}

Test(image, hostile_tar_hard_link_out)
{
        _cleanup_free_ char *victim = path_in(outside, "victim");
        struct tar_entry e[] = {
            {"h", 0, "../outside/victim", 0},
        };
        struct tar_entry abs[] = {
            {"h", 0, victim, 0},
        };
        struct pr_error err = {};

        cr_assert_eq(pr_write_file_atomic(victim, "v", 1, 0644, &err), 0);
        {
                _cleanup_free_ char *tarball = path_in(tmp, "evil.tar");
                write_tar(tarball, false, e, PR_ELEMENTSOF(e));
                cr_assert_lt(image_import(root, "evil", tarball, NULL, &err), 0);
                write_tar(tarball, false, abs, PR_ELEMENTSOF(abs));
                cr_assert_lt(image_import(root, "evil", tarball, NULL, &err), 0);
                (void)unlink(tarball);
        }
        {
                struct stat st;
                cr_assert_eq(stat(victim, &st), 0);
                cr_assert_eq(st.st_nlink, 1, "a hard link to a host file was made");
        }
        cr_assert_eq(unlink(victim), 0);
        assert_hostile_refused(e, PR_ELEMENTSOF(e), "hard link out");
}

/* ---- atomicity ----------------------------------------------------------- */

Test(image, truncated_tarball_leaves_store_unchanged)
{
        static const struct tar_entry entries[] = {
            {"a", AE_IFREG, "first file, extracted before the damage\n", 0644},
            {"b", AE_IFREG, "second file, cut short\n", 0644},
        };
        _cleanup_free_ char *tarball = path_in(tmp, "cut.tar");
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct pr_error err = {};
        struct stat st;

        cr_assert_eq(image_import(root, "good", src, NULL, &err), 0, "%s", err.msg);
        write_tar(tarball, false, entries, PR_ELEMENTSOF(entries));
        cr_assert_eq(stat(tarball, &st), 0);
        /* Keep the first entry and half of the second entry's header. */
        cr_assert_eq(truncate(tarball, 1024 + 256), 0);
        before = store_snapshot();
        cr_assert_lt(image_import(root, "good", tarball, NULL, &err), 0);
        cr_assert(strstr(err.msg, "image 'good'"), "%s", err.msg);
        after = store_snapshot();
        cr_assert_str_eq(before, after);
}

static int drop_dac_caps(void)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        d[0].effective &= ~(1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH);
        return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* criterion runs each test in its own process, so dropping capabilities
 * here touches nothing else. */
Test(image, unreadable_source_file_leaves_store_unchanged)
{
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct pr_error err = {};

        make_rootfs(src);
        cr_assert_eq(image_import(root, "good", src, NULL, &err), 0, "%s", err.msg);
        write_file(src, "etc/zz-unreadable", "no\n", 0000);
        if (drop_dac_caps() < 0)
                cr_skip_test("cannot drop CAP_DAC_OVERRIDE");
        before = store_snapshot();
        cr_assert_eq(image_import(root, "good", src, NULL, &err), -EACCES);
        cr_assert(strstr(err.msg, "zz-unreadable"), "%s", err.msg);
        cr_assert(strstr(err.msg, "image 'good'"), "%s", err.msg);
        after = store_snapshot();
        cr_assert_str_eq(before, after);
}

Test(image, missing_source_is_named)
{
        _cleanup_free_ char *missing = path_in(tmp, "nope");
        struct pr_error err = {};

        cr_assert_eq(image_import(root, "x", missing, NULL, &err), -ENOENT);
        cr_assert(strstr(err.msg, missing), "%s", err.msg);
        cr_assert_eq(image_import(root, "Bad", src, NULL, &err), -EINVAL);
        cr_assert(err.usage);
}

/* ---- resolve, list, remove, replace ---------------------------------------- */

Test(image, resolve_missing_names_image_and_command)
{
        _cleanup_(image_freep) struct image *img = NULL;
        struct pr_error err = {};

        cr_assert_eq(image_resolve(root, "busybox:1.36", &img, &err), -ENOENT);
        cr_assert_null(img);
        cr_assert_str_eq(err.msg, "image 'busybox:1.36' not found; import it with "
                                  "'podrun image import busybox:1.36 PATH'");
        cr_assert_eq(image_resolve(root, "Bad", &img, &err), -EINVAL);
}

Test(image, resolve_by_every_spelling)
{
        const char *names[] = {"busybox", "busybox:latest", "library/busybox",
                               "docker.io/library/busybox:latest", "index.docker.io/busybox"};
        _cleanup_(image_freep) struct image *other = NULL;
        struct pr_error err = {};
        _cleanup_free_ char *id = NULL;

        cr_assert_eq(image_import(root, "docker.io/library/busybox", src, NULL, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(image_import(root, "busybox:1.36", src, NULL, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < PR_ELEMENTSOF(names); i++) {
                _cleanup_(image_freep) struct image *img = NULL;

                cr_assert_eq(image_resolve(root, names[i], &img, &err), 0, "%s: %s", names[i],
                             err.msg);
                cr_assert_str_eq(img->ref, "docker.io/library/busybox:latest");
                if (!id)
                        id = pr_strdup(img->id);
                cr_assert_str_eq(img->id, id);
        }
        cr_assert_eq(image_resolve(root, "docker.io/library/busybox:1.36", &other, &err), 0);
        cr_assert_str_neq(other->id, id);
}

Test(image, list_remove_and_replace)
{
        struct image **list = NULL;
        size_t n = 0;
        struct pr_error err = {};
        _cleanup_free_ char *old_id = NULL, *old_dir = NULL, *tmp_names = NULL;

        cr_assert_eq(image_list(root, &list, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 0);
        image_list_free(list, n);

        write_file(src, "v", "1\n", 0644);
        cr_assert_eq(image_import(root, "zeta", src, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_import(root, "alpha:2", src, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_list(root, &list, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 2);
        cr_assert_str_eq(list[0]->ref, "docker.io/library/alpha:2");
        cr_assert_str_eq(list[1]->ref, "docker.io/library/zeta:latest");
        cr_assert_eq(list[1]->size_bytes, 2);
        old_id = pr_strdup(list[1]->id);
        old_dir = pr_strdup(list[1]->dir);
        image_list_free(list, n);

        /* Replacing a tag moves it to new content and drops the old. */
        write_file(src, "v", "2\n", 0644);
        cr_assert_eq(image_import(root, "zeta:latest", src, NULL, &err), 0, "%s", err.msg);
        {
                _cleanup_(image_freep) struct image *img = NULL;
                _cleanup_free_ char *v = NULL;
                cr_assert_eq(image_resolve(root, "zeta", &img, &err), 0);
                cr_assert_str_neq(img->id, old_id);
                v = read_text(img->rootfs, "v");
                cr_assert_str_eq(v, "2\n");
                cr_assert_eq(access(old_dir, F_OK), -1, "old content left behind");
        }

        cr_assert_eq(image_remove(root, "alpha:2", &err), 0, "%s", err.msg);
        cr_assert_eq(image_remove(root, "alpha:2", &err), -ENOENT);
        cr_assert_str_eq(err.msg, "image 'alpha:2' not found");
        cr_assert_eq(image_remove(root, "docker.io/library/zeta:latest", &err), 0, "%s", err.msg);
        cr_assert_eq(image_list(root, &list, &n, &err), 0);
        cr_assert_eq(n, 0);
        image_list_free(list, n);
        {
                _cleanup_free_ char *images = path_in(root, "images");
                tmp_names = listing(images);
                cr_assert_str_eq(tmp_names, ".lock refs.json ", "left: %s", tmp_names);
        }
}

Test(image, stale_temporary_directories_are_swept)
{
        _cleanup_free_ char *images = path_in(root, "images");
        _cleanup_free_ char *dead = path_in(images, ".tmp-deadbeef");
        _cleanup_free_ char *names = NULL;
        struct pr_error err = {};

        cr_assert_eq(pr_mkdir_p(dead, 0700, &err), 0);
        write_file(dead, "junk", "x", 0644);
        cr_assert_eq(image_import(root, "one", src, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(access(dead, F_OK), -1, "a dead import's directory survived");
        names = listing(images);
        cr_assert_eq(strstr(names, ".tmp-"), NULL, "%s", names);
}

/* Two processes import the same name at once: both succeed, one content
 * directory remains, and it is the one the ref names. */
Test(image, concurrent_imports_of_one_name)
{
        _cleanup_free_ char *images = path_in(root, "images"), *names = NULL;
        _cleanup_(image_freep) struct image *img = NULL;
        struct pr_error err = {};
        pid_t pids[4];
        int dirs = 0;

        make_rootfs(src);
        for (size_t i = 0; i < PR_ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        struct pr_error e = {};
                        _exit(image_import(root, "race", src, NULL, &e) == 0 ? 0 : 1);
                }
        }
        for (size_t i = 0; i < PR_ELEMENTSOF(pids); i++) {
                int status;
                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        cr_assert_eq(image_resolve(root, "race", &img, &err), 0, "%s", err.msg);
        names = listing(images);
        for (char *p = names; (p = strchr(p, ' ')); p++)
                dirs++;
        cr_assert_eq(dirs, 3, "expected .lock, refs.json and one image: %s", names);
        cr_assert(strstr(names, img->id), "%s", names);
}

Test(image, resolve_and_remove_by_id_prefix)
{
        _cleanup_(image_freep) struct image *img = NULL, *by_id = NULL, *by_full = NULL;
        _cleanup_free_ char *prefix = NULL;
        struct pr_error err = {};

        cr_assert_eq(image_import(root, "byid", src, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_resolve(root, "byid", &img, &err), 0, "%s", err.msg);
        prefix = pr_strndup(img->id, 12);
        cr_assert_eq(image_resolve(root, prefix, &by_id, &err), 0, "%s", err.msg);
        cr_assert_str_eq(by_id->id, img->id);
        cr_assert_str_eq(by_id->ref, "docker.io/library/byid:latest");
        cr_assert_eq(image_resolve(root, img->id, &by_full, &err), 0, "%s", err.msg);
        cr_assert_str_eq(by_full->dir, img->dir);
        /* Too short to be taken as an id, and not a stored name. */
        {
                _cleanup_(image_freep) struct image *none = NULL;
                _cleanup_free_ char *three = pr_strndup(img->id, 3);
                cr_assert_eq(image_resolve(root, three, &none, &err), -ENOENT);
        }
        cr_assert_eq(image_remove(root, prefix, &err), 0, "%s", err.msg);
        cr_assert_eq(access(img->dir, F_OK), -1);
        cr_assert_eq(image_remove(root, "byid", &err), -ENOENT);
}

/* A store inside the source directory: the copy must not copy itself. */
Test(image, import_of_a_directory_holding_the_store_ends)
{
        _cleanup_(image_freep) struct image *img = NULL;
        _cleanup_free_ char *inner = path_in(src, "store");
        struct pr_error err = {};

        write_file(src, "f", "x\n", 0644);
        cr_assert_eq(image_import(inner, "self", src, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(image_resolve(inner, "self", &img, &err), 0, "%s", err.msg);
        {
                _cleanup_free_ char *f = read_text(img->rootfs, "f");
                _cleanup_free_ char *copied = pr_asprintf("%s/store/images", img->rootfs);
                _cleanup_free_ char *names = listing(copied);
                cr_assert_str_eq(f, "x\n");
                /* The temporary directory was copied empty, its rootfs skipped. */
                const char *t = strstr(names, ".tmp-");
                cr_assert_not_null(t, "%s", names);
                {
                        _cleanup_free_ char *tmpdir =
                            pr_asprintf("%s/%.*s", copied, (int)strcspn(t, " "), t);
                        _cleanup_free_ char *in_tmp = listing(tmpdir);
                        cr_assert_str_eq(in_tmp, "", "%s", in_tmp);
                }
        }
}

Test(image, config_file_shapes)
{
        _cleanup_free_ char *path = path_in(tmp, "c.json");
        struct image_config c = {};
        struct pr_error err = {};

        /* Docker's inspect shape, with nulls for unset fields. */
        write_file(tmp, "c.json",
                   "{\"Config\": {\"Entrypoint\": null, \"Cmd\": [\"/bin/sh\"], \"Env\": null, "
                   "\"WorkingDir\": \"\", \"StopSignal\": \"SIGUSR1\"}}",
                   0644);
        cr_assert_eq(image_config_load(path, &c, &err), 0, "%s", err.msg);
        cr_assert_null(c.entrypoint);
        cr_assert_str_eq(c.cmd[0], "/bin/sh");
        cr_assert_null(c.env);
        cr_assert_null(c.working_dir);
        cr_assert_str_eq(c.stop_signal, "SIGUSR1");
        image_config_done(&c);

        /* An empty Entrypoint is set-and-empty, not unset. */
        write_file(tmp, "c.json", "{\"config\": {\"Entrypoint\": []}}", 0644);
        cr_assert_eq(image_config_load(path, &c, &err), 0, "%s", err.msg);
        cr_assert_not_null(c.entrypoint);
        cr_assert_null(c.entrypoint[0]);
        image_config_done(&c);

        write_file(tmp, "c.json", "{\"config\": {\"User\": 0}}", 0644);
        cr_assert_eq(image_config_load(path, &c, &err), -EINVAL);
        cr_assert(strstr(err.msg, "field 'User': not a string"), "%s", err.msg);
        write_file(tmp, "c.json", "{\"config\": ", 0644);
        cr_assert_eq(image_config_load(path, &c, &err), -EINVAL);
        cr_assert(strstr(err.msg, "c.json"), "%s", err.msg);
        cr_assert_eq(unlink(path), 0);
        cr_assert_eq(image_config_load(path, &c, &err), -ENOENT);
}

Test(image, config_merge_replaces_and_adds_env_by_name)
{
        struct image_config base = {}, over = {};

        pr_strv_push(&base.env, "PATH=/bin");
        pr_strv_push(&base.env, "HOME=/root");
        pr_strv_push(&base.cmd, "sh");
        base.user = pr_strdup("1");
        pr_strv_push(&over.env, "HOME=/home");
        pr_strv_push(&over.env, "NEW=1");
        pr_strv_push(&over.entrypoint, "/init");
        image_config_merge(&base, &over);
        cr_assert_eq(pr_strv_len(base.env), 3);
        cr_assert_str_eq(base.env[0], "PATH=/bin");
        cr_assert_str_eq(base.env[1], "HOME=/home");
        cr_assert_str_eq(base.env[2], "NEW=1");
        cr_assert_str_eq(base.cmd[0], "sh");
        cr_assert_str_eq(base.entrypoint[0], "/init");
        cr_assert_str_eq(base.user, "1");
        image_config_done(&base);
        image_config_done(&over);
}

Test(image, layered_formats_are_refused_by_name)
{
        static const struct tar_entry save[] = {
            {"manifest.json", AE_IFREG, "[]\n", 0644},
            {"repositories", AE_IFREG, "{}\n", 0644},
            {"abc/layer.tar", AE_IFREG, "x", 0644},
        };
        _cleanup_free_ char *tarball = path_in(tmp, "saved.tar");
        _cleanup_free_ char *before = NULL, *after = NULL;
        struct pr_error err = {};

        write_tar(tarball, false, save, PR_ELEMENTSOF(save));
        before = store_snapshot();
        cr_assert_eq(image_import(root, "saved", tarball, NULL, &err), -ENOTSUP);
        cr_assert(strstr(err.msg, "'docker save' archive"), "%s", err.msg);
        write_file(src, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}", 0644);
        cr_assert_eq(image_import(root, "layout", src, NULL, &err), -ENOTSUP);
        after = store_snapshot();
        cr_assert_str_eq(before, after);
}
