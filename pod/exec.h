/* Running a command inside a running container (`podrun exec`): its
 * namespaces, cgroup, identity, capabilities, environment and working
 * directory, taken from the container's PID 1. Owned by exec.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;

struct exec_options {
        pid_t pid;           /* the container's PID 1, in our pid namespace */
        uint64_t start_time; /* its /proc/<pid>/stat start time, as recorded */
        char **argv;         /* the command; argv[0] is looked up in the container's PATH */
        bool interactive;    /* -i: the command reads our stdin (else /dev/null) */
        bool tty;            /* -t: a pseudo-terminal from the container's devpts */
        /* -t only: the terminal whose size and keys are relayed; -1 for
         * stdin (0) and stdout (1). */
        int in_fd, out_fd;
};

/* Runs the command and waits for it. Returns 0 with *ret_status set to its
 * exit status (128 + N when killed by signal N). When the command could not
 * be executed, *ret_status is 127 (not found) or 126 (not executable) and
 * err holds runc's message, e.g. `exec: "nosuch": executable file not found
 * in $PATH`. A negative errno means exec could not even start (the
 * container is gone, a namespace could not be joined...). */
int exec_run(const struct exec_options *o, int *ret_status, struct pr_error *err);

/* A command started by exec_spawn() for the supervisor, which must not
 * wait: pidfd turns readable when it has ended. Its helper sends no
 * SIGCHLD and only exec_child_reap() reaps it. */
struct exec_child {
        pid_t pid; /* 0 once reaped */
        int pidfd;
        int err_fd; /* the failure record, when the command never ran */
        int out_fd; /* the command's stdout and stderr together (non-blocking) */
};

/* As exec_run() but returns at once (o->tty and o->interactive must be
 * false). Release c with exec_child_close(). */
int exec_spawn(const struct exec_options *o, struct exec_child *ret, struct pr_error *err);

/* -EAGAIN while the command runs. Then 0 with its status (as exec_run's;
 * 126 and 127 with err set) and up to out_size - 1 bytes of its output,
 * or a negative errno when it could not join the container. */
int exec_child_reap(struct exec_child *c, int *ret_status, char *out, size_t out_size,
                    struct pr_error *err);

/* Kills the command (SIGKILL to the helper; the command dies with it) if it
 * still runs, reaps it and closes the fds. */
void exec_child_close(struct exec_child *c);

/* The parts of /proc/<pid>/status exec copies (exposed for tests). */
struct exec_identity {
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        gid_t groups[64];
        uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
        bool no_new_privs;
        int seccomp; /* 0 none, 1 strict, 2 filter */
};

int exec_parse_status(const char *text, struct exec_identity *ret, struct pr_error *err);
