/* Copying a directory tree on the host the way `cp -a --one-file-system`
 * does, through directory fds only. */
#pragma once

#include <stdbool.h>

struct pr_error;

/* Copies the tree at src (trusted: a host path given by root) to dst, which
 * must not exist yet. Keeps file types (regular, directory, symlink, device
 * nodes, fifos, sockets), modes including setuid bits, numeric ownership,
 * hard links within the tree, modification times, and the extended
 * attributes pr_copy_xattr_wanted() accepts. Directories that are mount
 * points below src are created empty, not entered. On failure dst may hold a
 * partial copy: the caller owns its removal. */
int pr_copy_tree(const char *src, const char *dst, struct pr_error *err);

/* The extended attributes worth carrying into a container image: user.* and
 * security.capability (file capabilities, e.g. of ping). trusted.* (overlayfs
 * uses trusted.overlay.* to steer lookups) and security labels of the host
 * are dropped. */
bool pr_copy_xattr_wanted(const char *name);
