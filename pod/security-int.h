/* Private to pod/security.c and pod/seccomp.c. */
#pragma once

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

struct pr_error;

/* The filter as BPF, for the child to load without libseccomp. */
int sec_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_n,
                       struct pr_error *err);

/* The other ABIs a native binary can reach (int 0x80, x32, arm). */
void sec_seccomp_add_compat_arches(scmp_filter_ctx ctx);

/* Compiles a Localhost profile: the OCI/Docker seccomp JSON format at path.
 * caps is the container's capability set, for includes/excludes.caps. */
int sec_seccomp_localhost(const char *path, uint64_t caps, struct sock_filter **ret, size_t *ret_n,
                          struct pr_error *err);
