/* pr_log: one line per call, written with a single write(2) so that lines
 * from the supervisor and its children never interleave mid-line. */
#include "pod/base/log.h"

#include <stdio.h>
#include <unistd.h>

enum pr_log_level pr_log_max_level = PR_LOG_INFO;
static int log_fd = STDERR_FILENO;

static const char *const level_prefix[_PR_LOG_LEVEL_MAX] = {
        [PR_LOG_ERROR] = "error: ",
        [PR_LOG_WARN] = "warning: ",
        [PR_LOG_INFO] = "",
        [PR_LOG_DEBUG] = "debug: ",
};

void pr_log_set_fd(int fd)
{
        log_fd = fd;
}

void pr_log(enum pr_log_level level, const char *fmt, ...)
{
        char line[2048];
        va_list ap;
        int n, m;

        if (level > pr_log_max_level)
                return;
        n = snprintf(line, sizeof(line), "podrun: %s", level_prefix[level]);
        va_start(ap, fmt);
        m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m < 0)
                return;
        n += m;
        if ((size_t)n > sizeof(line) - 2)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        (void)!write(log_fd, line, (size_t)n);
}
