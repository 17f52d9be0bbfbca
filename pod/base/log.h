/* Diagnostic logging for podrun itself (never container output). Messages
 * start with the object, put names in single quotes and end with the errno
 * text; a tolerated failure ends with "; ignoring". */
#pragma once

#include <stdarg.h>

enum pr_log_level {
        PR_LOG_ERROR,
        PR_LOG_WARN,
        PR_LOG_INFO,
        PR_LOG_DEBUG,
        _PR_LOG_LEVEL_MAX,
};

/* The one mutable global besides parsed options: the threshold. */
extern enum pr_log_level pr_log_max_level;

/* Where messages go: stderr by default; a detached supervisor points it at
 * its supervisor.log. The fd is not owned. */
void pr_log_set_fd(int fd);

void pr_log(enum pr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_log_error(...) pr_log(PR_LOG_ERROR, __VA_ARGS__)
#define pr_log_warn(...) pr_log(PR_LOG_WARN, __VA_ARGS__)
#define pr_log_info(...) pr_log(PR_LOG_INFO, __VA_ARGS__)
#define pr_log_debug(...) pr_log(PR_LOG_DEBUG, __VA_ARGS__)
