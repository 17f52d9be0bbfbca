/* Errors as data: a negative errno travels up the stack, and struct pr_error
 * carries the human-readable chain of objects it concerns.  Nothing here
 * prints; the caller that ends the operation does. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#define PR_ERROR_MSG_MAX 1024

struct pr_error {
        int code;   /* positive errno, 0 when unset */
        bool usage; /* bad input from the user: exit code 2 */
        char msg[PR_ERROR_MSG_MAX];
};

/* Sets the error to "<fmt>: <strerror(code)>" and returns -code. */
int pr_err(struct pr_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the error to "<fmt>" alone (the text already says why) and returns -code. */
int pr_err_msg(struct pr_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A usage or manifest error: "<fmt>", code EINVAL, usage flag set. Returns -EINVAL. */
int pr_err_usage(struct pr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "<fmt>: " to the message, naming the larger object. Returns -code. */
int pr_err_wrap(struct pr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void pr_error_clear(struct pr_error *err);
