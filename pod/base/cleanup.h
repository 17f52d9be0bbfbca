/* Scope-bound cleanup. Ownership leaves a cleanup variable only through
 * PR_TAKE_PTR() or PR_TAKE_FD(). */
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void pr_freep(void *p)
{
        free(*(void **)p);
}

static inline void pr_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}

static inline void pr_fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}

/* A child still set at scope exit is killed and reaped: an error path never
 * leaves a half-started process behind. */
static inline void pr_killp(pid_t *pid)
{
        if (*pid > 0) {
                int saved = errno;
                (void)kill(*pid, SIGKILL);
                while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(pr_freep)
#define _cleanup_close_ _cleanup_(pr_closep)
#define _cleanup_fclose_ _cleanup_(pr_fclosep)
#define _cleanup_pid_ _cleanup_(pr_killp)

#define PR_TAKE_PTR(p)                                                                              \
        ({                                                                                          \
                __typeof__(p) _taken = (p);                                                         \
                (p) = NULL;                                                                         \
                _taken;                                                                             \
        })

#define PR_TAKE_FD(fd)                                                                              \
        ({                                                                                          \
                int _taken = (fd);                                                                  \
                (fd) = -1;                                                                          \
                _taken;                                                                             \
        })

/* For a type with "struct x *x_free(struct x *)": declares x_freep() for
 * _cleanup_(x_freep). */
#define PR_DEFINE_FREE_FUNC(type, func)                                                             \
        static inline void func##p(type **p)                                                        \
        {                                                                                           \
                if (*p)                                                                             \
                        *p = func(*p);                                                              \
        }

#define PR_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
