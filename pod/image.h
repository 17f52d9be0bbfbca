/* The image store under <root>/images: a root-filesystem directory per image
 * and its OCI-style config. Owned by image.c; the runtime only reads it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pr_error;

/* The parts of an OCI image config that decide how a container runs. */
struct image_config {
        char **entrypoint;  /* NULL-terminated, NULL when unset */
        char **cmd;         /* NULL-terminated, NULL when unset */
        char **env;         /* "NAME=value", NULL-terminated */
        char *working_dir;  /* NULL: "/" */
        char *user;         /* "uid[:gid]" or a name, NULL: root */
        char *stop_signal;  /* "SIGTERM", "15", ...; NULL: SIGTERM */
};

struct image {
        char *ref;       /* normalised "docker.io/library/busybox:latest" */
        char *id;        /* stable id of the stored content */
        char *dir;       /* the image's directory in the store */
        char *rootfs;    /* <dir>/rootfs: the read-only lower layer */
        struct image_config config;
        uint64_t created_usec;
        uint64_t size_bytes;
};

/* Normalises a reference as Docker does: "busybox" ->
 * "docker.io/library/busybox:latest"; digests are kept. -EINVAL for a
 * malformed reference. */
int image_ref_normalize(const char *ref, char **ret, struct pr_error *err);

/* Imports a root filesystem (a directory, .tar or .tar.gz) as ref. The config
 * is taken from config (may be NULL), else from a config.json beside the
 * rootfs. Atomic: on failure the store is unchanged. */
int image_import(const char *root_dir, const char *ref, const char *path,
                 const struct image_config *config, struct pr_error *err);

/* Finds an image by exact reference, then by normalised form. -ENOENT with a
 * message naming the image and the import command when absent. */
int image_resolve(const char *root_dir, const char *ref, struct image **ret, struct pr_error *err);

int image_list(const char *root_dir, struct image ***ret, size_t *ret_n, struct pr_error *err);
int image_remove(const char *root_dir, const char *ref, struct pr_error *err);

struct image *image_free(struct image *img);
void image_config_done(struct image_config *c);
