/* struct pr_error: formatting only. Never prints, never exits. */
#include "pod/base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void __attribute__((format(printf, 4, 0)))
set_message(struct pr_error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);

        if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
                (void)snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(code));
        err->code = code;
}

int pr_err(struct pr_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (code < 0)
                code = -code;
        if (code == 0)
                code = EIO;
        if (err) {
                va_start(ap, fmt);
                set_message(err, code, true, fmt, ap);
                va_end(ap);
                err->usage = false;
        }
        return -code;
}

int pr_err_msg(struct pr_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (code < 0)
                code = -code;
        if (code == 0)
                code = EIO;
        if (err) {
                va_start(ap, fmt);
                set_message(err, code, false, fmt, ap);
                va_end(ap);
                err->usage = false;
        }
        return -code;
}

int pr_err_usage(struct pr_error *err, const char *fmt, ...)
{
        va_list ap;

        if (err) {
                va_start(ap, fmt);
                set_message(err, EINVAL, false, fmt, ap);
                va_end(ap);
                err->usage = true;
        }
        return -EINVAL;
}

int pr_err_wrap(struct pr_error *err, const char *fmt, ...)
{
        char prefix[PR_ERROR_MSG_MAX];
        char old[PR_ERROR_MSG_MAX];
        va_list ap;

        if (!err)
                return -EIO;
        if (err->code == 0)
                err->code = EIO;
        va_start(ap, fmt);
        (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        (void)snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
        return -err->code;
}

void pr_error_clear(struct pr_error *err)
{
        if (err)
                *err = (struct pr_error){ 0 };
}
