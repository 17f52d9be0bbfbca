/* The image store under <root>/images: a root-filesystem directory per image
 * and its OCI-style config. Owned by image.c; the runtime only reads it.
 * docs/images.md describes the layout and the reference rules. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pr_error;

/* The parts of an OCI image config that decide how a container runs. */
struct image_config {
        char **entrypoint; /* NULL-terminated, NULL when unset */
        char **cmd;        /* NULL-terminated, NULL when unset */
        char **env;        /* "NAME=value", NULL-terminated */
        char *working_dir; /* NULL: "/" */
        char *user;        /* "uid[:gid]" or a name, NULL: root */
        char *stop_signal; /* "SIGTERM", "15", ...; NULL: SIGTERM */
};

struct image {
        char *ref;    /* normalised "docker.io/library/busybox:latest" */
        char *id;     /* stable id of the stored content: 64 hex digits */
        char *dir;    /* the image's directory in the store */
        char *rootfs; /* <dir>/rootfs: the read-only lower layer */
        struct image_config config;
        uint64_t created_usec;
        uint64_t size_bytes;
};

/* Normalises a reference as Docker does: "busybox" ->
 * "docker.io/library/busybox:latest"; digests are kept. -EINVAL (a usage
 * error) for a malformed reference, with a message saying what is wrong. */
int image_ref_normalize(const char *ref, char **ret, struct pr_error *err);

/* Splits a normalised reference into the short repository name Docker shows
 * ("busybox", "quay.io/x/y") and the tag; a reference with a digest only has
 * tag "<none>". For `image ls`. */
void image_ref_familiar(const char *normalized, char **ret_repo, char **ret_tag);

/* Imports a root filesystem as ref. path is a directory holding the root
 * filesystem, a bundle directory holding rootfs/ and an optional
 * config.json, or a tarball (.tar, .tar.gz, .tgz, any compression libarchive
 * reads). The config comes from the bundle's config.json; fields set in
 * config (may be NULL) override it. An existing ref is moved to the new
 * content. Atomic: on failure the store is unchanged. */
int image_import(const char *root_dir, const char *ref, const char *path,
                 const struct image_config *config, struct pr_error *err);

/* Finds an image by exact reference, then by normalised form, then as a
 * unique prefix (4 or more hex digits) of an image id. -ENOENT with a
 * message naming the image and the import command when absent. */
int image_resolve(const char *root_dir, const char *ref, struct image **ret, struct pr_error *err);

/* Every stored reference, sorted; an image under two references appears
 * twice. */
int image_list(const char *root_dir, struct image ***ret, size_t *ret_n, struct pr_error *err);
struct image **image_list_free(struct image **list, size_t n);

/* Removes a reference (or, given an id prefix, every reference to that
 * content), and the content when no other reference uses it. Pods are not
 * checked here (`podrun image rm` checks the run dir's state files): a pod
 * whose overlay sits on removed content sees its files vanish. */
int image_remove(const char *root_dir, const char *ref, struct pr_error *err);

/* Reads an OCI image config file ({"config": {"Entrypoint": [...], ...}}). */
int image_config_load(const char *path, struct image_config *ret, struct pr_error *err);

/* Lays over on base: each field set in over replaces base's, except env,
 * where an entry replaces base's entry of the same name or is appended. */
void image_config_merge(struct image_config *base, const struct image_config *over);

struct image *image_free(struct image *img);
void image_config_done(struct image_config *c);
