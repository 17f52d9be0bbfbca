/* The kernel side of a pod: the infra process that holds the pod's
 * namespaces, and the containers that join them. Owned by infra.c,
 * container.c, rootfs.c and volume.c. The supervisor drives these; they never
 * loop, never wait for a container to exit and never print. docs/runtime.md
 * describes the process tree, the namespaces and the order of operations. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pr_error;
struct pod_plan;
struct plan_container;
struct sec_profile;

/* The running infra process and its namespace files. */
struct infra {
        pid_t pid;
        int pidfd;           /* -1 when closed */
        uint64_t start_time; /* /proc/<pid>/stat field 22, to check a saved pid */
        char *ns_dir;        /* <pod run dir>/ns: bind mounts of net, ipc, uts (pid, user) */
        /* hostUsers: false: the pod's user namespace maps 0..65535 inside to
         * [userns_start, userns_start + 65536) of the host (docs/userns.md). */
        bool userns;
        uint32_t userns_start;
};

/* Prepares the pod's files (hosts, hostname, resolv.conf, emptyDirs, shm),
 * starts podrun-pause in new net, ipc and uts namespaces (and pid with
 * shareProcessNamespace; and, with hostUsers: false, a user namespace that
 * owns them all, mapped to a range allocated from the pool), bind-mounts
 * its namespaces under the run dir and the network namespace at
 * plan->netns_path, and brings lo up. Returns once
 * pause has set the hostname and lo is up. On failure everything it made is
 * undone. ret->ns_dir is owned: release it with infra_done(). */
int infra_start(const struct pod_plan *plan, const char *pause_path, struct infra *ret,
                struct pr_error *err);

/* Rewrites the pod's /etc/hosts once the pod's IP is known: kubelet's
 * localhost lines, then "<ip>\t<fqdn>\t<hostname>" (or "<ip>\t<hostname>"),
 * then hostAliases. ip may be NULL. The file is replaced by rename and each
 * container's bind mount pins the inode it saw: call this before the first
 * container starts. */
int infra_write_hosts(const struct pod_plan *plan, const char *ip, struct pr_error *err);

/* SIGTERM to the infra, then SIGKILL after timeout_usec; reaps it when it is
 * our child. Works with a pid and start_time restored from a state file
 * (pidfd -1); a process that is already gone is success. A supervisor that
 * watches the infra's pidfd must stop watching before calling this, since this
 * reaps it. Closes the pidfd. */
int infra_stop(struct infra *infra, uint64_t timeout_usec, struct pr_error *err);

/* Undoes everything infra_start made on the host, from the plan alone (works
 * after a crash, twice, with the infra already gone): namespace bind mounts,
 * the named netns, the shm tmpfs, emptyDir volumes and tmpfs, the generated
 * etc files, the pod's user ID range. It does not remove the state file or the logs. */
int infra_cleanup(const struct pod_plan *plan, struct pr_error *err);

/* Frees ns_dir and closes the pidfd; does not stop anything. */
void infra_done(struct infra *infra);

/* A started container process. The supervisor owns these fds. With tty:
 * true, stdout_fd is the terminal's master (stdin_fd a second fd of it when
 * stdin is open; reads end with EIO rather than EOF) and stderr_fd a pipe
 * that only ever gives EOF. */
struct ctr_process {
        pid_t pid; /* in the host pid namespace */
        int pidfd;
        int stdout_fd; /* read ends, non-blocking, close-on-exec */
        int stderr_fd;
        int stdin_fd;       /* write end when stdin is open, else -1 */
        int start_error_fd; /* non-blocking, close-on-exec pipe: EOF means exec succeeded */
        uint64_t start_time;
};

/* Hooks into ctr_spawn. The parent and the child meet at numbered sync points:
 *   1. parent: clone3() returns the child's pid and pidfd; the child blocks
 *      reading the sync pipe before it does anything at all (it is still in
 *      the supervisor's cgroup and has joined no namespace).
 *   2. parent: after_clone(data, pid) runs, e.g. to move the pid into the
 *      container's cgroup. If it fails the child is killed and reaped and
 *      ctr_spawn fails with its error.
 *   3. parent: writes one byte on the sync pipe and closes it; the child
 *      proceeds: setns net/ipc/uts, unshare(CLONE_NEWCGROUP) (so the cgroup
 *      namespace is rooted at the cgroup after_clone chose), mounts, pivot,
 *      sec_apply_masks(security), chdir, close fds, setgroups/setresgid/
 *      setresuid (with PR_SET_KEEPCAPS), sec_apply_final(security), execve.
 *   4. child: an error before execve is written as {errno, message} to the
 *      start error pipe, then _exit(127); a successful execve closes it (EOF).
 * opts may be NULL; security NULL skips both security calls. */
struct ctr_spawn_opts {
        int (*after_clone)(void *data, pid_t pid, struct pr_error *err);
        void *data;
        const struct sec_profile *security;
};

/* Clones the container with new pid, mount and cgroup namespaces (with
 * plan->share_pid it joins the infra's pid namespace instead); the child
 * joins the infra's namespaces with setns(2), mounts its rootfs and volumes,
 * pivots, drops privileges and execs plan_container->argv. Returns once the
 * child has passed sync point 3; whether exec succeeded is read from
 * start_error_fd with ctr_read_start_error(). Each start gets a fresh
 * writable layer. Release ret with ctr_process_close(). */
int ctr_spawn(const struct pod_plan *plan, const struct plan_container *c,
              const struct infra *infra, const struct ctr_spawn_opts *opts, struct ctr_process *ret,
              struct pr_error *err);

/* Reads the child's start error record. Returns 0 on EOF (exec succeeded),
 * 1 with err filled as "exec: \"/bin/x\": no such file or directory" when the
 * child failed before exec, -EAGAIN when nothing is there yet. */
int ctr_read_start_error(int fd, struct pr_error *err);

/* Removes the container's writable layer and mount point (the overlay itself
 * lives in the container's own mount namespace and vanished with it). Safe to
 * call twice and after a crash; must not be called while the container runs. */
int ctr_cleanup(const struct pod_plan *plan, const struct plan_container *c, struct pr_error *err);

/* Closes every fd of p and sets them to -1. */
void ctr_process_close(struct ctr_process *p);
