/* The kernel side of a pod: the infra process that holds the pod's
 * namespaces, and the containers that join them. Owned by infra.c,
 * container.c and rootfs.c. The supervisor drives these; they never loop,
 * never wait for a container to exit and never print. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct pr_error;
struct pod_plan;
struct plan_container;

/* The running infra process and its namespace files. */
struct infra {
        pid_t pid;
        int pidfd;                /* -1 when closed */
        uint64_t start_time;      /* /proc/<pid>/stat field 22, to check a saved pid */
        char *ns_dir;             /* <pod run dir>/ns: bind mounts of net, ipc, uts (pid) */
};

/* Prepares the pod's files (hosts, hostname, resolv.conf, emptyDirs, shm),
 * starts podrun-pause in new net, ipc and uts namespaces (and pid with
 * shareProcessNamespace), bind-mounts its namespaces under the run dir and
 * the network namespace at plan->netns_path, and brings lo up. On failure
 * everything it made is undone. */
int infra_start(const struct pod_plan *plan, const char *pause_path, struct infra *ret,
                struct pr_error *err);

/* SIGTERM to the infra, then SIGKILL after timeout_usec; reaps it. */
int infra_stop(struct infra *infra, uint64_t timeout_usec, struct pr_error *err);

/* Undoes everything infra_start made on the host, from the plan alone (works
 * after a crash, twice, with the infra already gone). */
int infra_cleanup(const struct pod_plan *plan, struct pr_error *err);

/* A started container process. The supervisor owns these fds. */
struct ctr_process {
        pid_t pid;           /* in the host pid namespace */
        int pidfd;
        int stdout_fd;       /* read ends, non-blocking, close-on-exec */
        int stderr_fd;
        int stdin_fd;        /* write end when stdin is open, else -1 */
        int start_error_fd;  /* close-on-exec pipe: EOF means exec succeeded */
        uint64_t start_time;
};

/* Clones the container with new pid, mount and cgroup namespaces; the child
 * joins the infra's namespaces with setns(2), mounts its rootfs and volumes,
 * pivots, drops privileges and execs plan_container->argv. Returns once the
 * child exists; whether exec succeeded is read from start_error_fd with
 * ctr_read_start_error(). */
int ctr_spawn(const struct pod_plan *plan, const struct plan_container *c,
              const struct infra *infra, struct ctr_process *ret, struct pr_error *err);

/* Reads the child's start error record. Returns 0 on EOF (exec succeeded),
 * 1 with err filled as "exec: \"/bin/x\": no such file or directory" when the
 * child failed before exec, -EAGAIN when nothing is there yet. */
int ctr_read_start_error(int fd, struct pr_error *err);

/* Unmounts the container's rootfs and removes its writable layer. Safe to
 * call twice and after a crash. */
int ctr_cleanup(const struct pod_plan *plan, const struct plan_container *c,
                struct pr_error *err);

void ctr_process_close(struct ctr_process *p);
