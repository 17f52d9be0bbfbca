/* File-system helpers shared by the runtime. Paths given here are trusted
 * host paths (run dir, root dir); paths inside a container root are resolved
 * by the runtime with openat2(), never here. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct pr_error;

/* mkdir -p; existing directories are fine. */
int pr_mkdir_p(const char *path, mode_t mode, struct pr_error *err);

/* Writes data to "<path>.tmp.<pid>", fsyncs it and renames it over path, so a
 * reader sees the old file or the new one, never half of either. */
int pr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct pr_error *err);

/* Reads at most max bytes of a regular file into a NUL-terminated buffer.
 * A longer file is -EFBIG. */
int pr_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct pr_error *err);

/* Removes a tree without following symlinks and without crossing into other
 * mounts (a mount point below is -EBUSY). A missing path is success. */
int pr_rm_rf(const char *path, struct pr_error *err);
