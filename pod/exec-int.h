/* What exec.c, exec-target.c and exec-tty.c share and nobody else uses:
 * the context of one exec, and the steps of opening the container and
 * relaying its pty. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "pod/exec.h"

struct pr_error;
struct sock_fprog;

/* Everything decided in the parent, before fork. */
struct exec_ctx {
        const struct exec_options *o;
        struct exec_identity id;
        char **env;
        char **cgroup_procs; /* host paths of cgroup.procs files to join */
        int ns_flags;
        int pidfd;
        int cwd_fd;
        int null_fd;
        int pty_slave;
        int out_fd; /* exec_spawn: the command's stdout and stderr; else -1 */
        int last_cap;
        size_t n_filters;
        struct sock_fprog *filters; /* PID 1's seccomp filters, newest first */
};

/* exec-target.c: pins o->pid by pidfd, checks it is the recorded process,
 * and fills x from it. x is released by exec_ctx_done() either way. */
int exec_open_container(const struct exec_options *o, struct exec_ctx *x, struct pr_error *err);
void exec_ctx_done(struct exec_ctx *x);

/* exec-tty.c: a pty from the container's devpts (the slave for the
 * command); the window size of one fd given to another; and a -t session
 * relaying in_fd and out_fd to master until the command's side closes or
 * the helper exits; > 0 (128 + N) when a signal told us to go. */
int exec_open_pty(pid_t pid, int *ret_master, int *ret_slave, struct pr_error *err);
void exec_copy_winsize(int from, int to);
int exec_relay_session(int in_fd, int out_fd, int master, int helper_pidfd, struct pr_error *err);
