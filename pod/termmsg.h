/* The terminated state's message (kubelet pkg/kubelet/kuberuntime
 * getTerminationMessage and readLastStringFromContainerLogs): the
 * container's terminationMessagePath file, else, with FallbackToLogsOnError
 * and a failed container, the tail of its log. Owned by termmsg.c. */
#pragma once

#include <stdbool.h>

#include "specs/specs.h"

struct pr_error;

#define TERMMSG_MAX_FILE_BYTES 4096 /* kubelet MaxContainerTerminationMessageLength */
#define TERMMSG_LOG_LINES 80        /* MaxContainerTerminationMessageLogLines */
#define TERMMSG_LOG_BYTES 2048      /* MaxContainerTerminationMessageLogLength */

/* Reads the termination message file at path (absolute, as in the
 * container) under the container's root directory root (its rootfs or
 * writable layer on the host). The path is resolved with openat2
 * RESOLVE_IN_ROOT, so symlinks and ".." stay inside root; only a regular
 * file is read, and only its last TERMMSG_MAX_FILE_BYTES bytes, as kubelet
 * keeps. A missing file is an empty message (*ret_missing set). */
int termmsg_read_file(const char *root, const char *path, char **ret, bool *ret_missing,
                      struct pr_error *err);

/* The last TERMMSG_LOG_LINES lines of a container instance's log, at most
 * TERMMSG_LOG_BYTES bytes (the end kept), as kubelet falls back to. */
int termmsg_read_log(const char *log_dir, unsigned restart_count, char **ret, struct pr_error *err);

/* The message for a container that terminated with exit_code: the file's
 * text; with FallbackToLogsOnError, an exit code other than 0 and an empty
 * or missing file, the log's tail. A file that cannot be read gives
 * kubelet's "Error on reading termination log <path>: <reason>" text rather
 * than an error: the container's status is still recorded. Never NULL on
 * success; caller frees. */
int termmsg_get(const char *root, const char *path, enum spec_termination_message_policy policy,
                int exit_code, const char *log_dir, unsigned restart_count, char **ret,
                struct pr_error *err);
