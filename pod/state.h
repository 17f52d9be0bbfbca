/* The pod's state file, <run-dir>/pods/<pod>/state.json (docs/state.md): the
 * only source for ps, inspect, logs, exec and down. Owned by state.c. The
 * supervisor is its only writer; everyone else reads it, and `down` takes
 * the pod's lock before acting on it. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/base/cleanup.h"

struct pr_error;

#define STATE_VERSION 1
#define STATE_MAX_BYTES (4u << 20)

enum state_phase {
        STATE_PHASE_PENDING,
        STATE_PHASE_RUNNING,
        STATE_PHASE_SUCCEEDED,
        STATE_PHASE_FAILED,
        STATE_PHASE_UNKNOWN,
        _STATE_PHASE_MAX,
        _STATE_PHASE_INVALID = -EINVAL,
};

enum state_ctr_state {
        STATE_CTR_WAITING,
        STATE_CTR_RUNNING,
        STATE_CTR_TERMINATED,
        _STATE_CTR_STATE_MAX,
        _STATE_CTR_STATE_INVALID = -EINVAL,
};

/* Kubernetes' pod condition types, in kubectl's order. */
enum state_cond {
        STATE_COND_POD_SCHEDULED,
        STATE_COND_READY_TO_START,
        STATE_COND_INITIALIZED,
        STATE_COND_CONTAINERS_READY,
        STATE_COND_READY,
        _STATE_COND_MAX,
        _STATE_COND_INVALID = -EINVAL,
};

const char *state_phase_to_string(enum state_phase v);
enum state_phase state_phase_from_string(const char *s);
const char *state_ctr_state_to_string(enum state_ctr_state v);
enum state_ctr_state state_ctr_state_from_string(const char *s);
const char *state_cond_to_string(enum state_cond v);
enum state_cond state_cond_from_string(const char *s);

/* A process we may signal later: the pid alone could have been reused. */
struct state_proc {
        pid_t pid; /* 0: none */
        uint64_t start_time;
};

/* One container instance's state: the current one, or lastState. */
struct state_instance {
        enum state_ctr_state state;
        char *reason;
        char *message;
        bool has_exit;
        int exit_code;
        int signal;            /* 0 unless killed by a signal */
        uint64_t started_usec; /* CLOCK_REALTIME; 0 unset */
        uint64_t finished_usec;
};

struct state_container {
        char *name;
        bool init;
        bool sidecar;
        char *image;
        char *image_id;
        struct state_proc proc;
        struct state_instance cur;
        bool has_last;
        struct state_instance last;
        unsigned restart_count;
        bool ready;
        bool started; /* exec succeeded in the current instance */
        /* The last probe or hook event (docs/probes.md), e.g. "Container app failed
         * liveness probe, will be restarted"; NULL for none. JSON "probes". */
        char *probes;
        bool done;    /* terminated and will not run again */
        char *log_dir;
        /* The last failure to write the container's log (a full disk) and
         * the bytes of output dropped because of such failures, over all
         * its runs; NULL and 0 while every line was written. */
        char *log_error;
        uint64_t log_dropped;
};

struct state_condition {
        bool status;
        uint64_t transition_usec; /* 0: never set */
};

/* A host side effect to undo: kind is "infra", "netns", "lease", "veth",
 * "cgroup", "mount", "dir", ...; id names the object (a path, a name). */
struct state_resource {
        char *kind;
        char *id;
};

struct pod_state {
        int version;
        char *name;
        char *namespace;
        char *uid;
        char *manifest;
        char *run_dir; /* the --run-dir and --root the pod was started with */
        char *root_dir;
        char *netns_dir;
        uint64_t created_usec;
        uint64_t start_usec; /* startTime: when the first container was started */
        struct state_proc supervisor;
        struct state_proc infra;
        char *restart_policy; /* the pod's: "Always", "OnFailure", "Never" */
        enum state_phase phase;
        char *reason;
        char *message;
        char *pod_ip;
        char *host_ip;
        bool terminating;       /* the termination sequence has begun */
        bool finished;          /* the supervisor ended on purpose: nothing runs */
        uint64_t deletion_usec; /* when termination began */
        struct state_condition conditions[_STATE_COND_MAX];
        size_t n_containers;
        struct state_container *containers;
        size_t n_resources;
        struct state_resource *resources;
};

struct pod_state *state_free(struct pod_state *st);
PR_DEFINE_FREE_FUNC(struct pod_state, state_free)

char *state_to_json(const struct pod_state *st);
/* Tolerant of missing fields (defaults), strict about types it needs. */
int state_from_json(const char *text, struct pod_state **ret, struct pr_error *err);

/* Written whole: a reader never sees half a file. */
int state_write(const struct pod_state *st, const char *path, struct pr_error *err);
/* -ENOENT (message naming the pod file) when there is no state file. */
int state_read(const char *path, struct pod_state **ret, struct pr_error *err);

void state_add_resource(struct pod_state *st, const char *kind, const char *id);
/* Returns whether it was there. */
bool state_remove_resource(struct pod_state *st, const char *kind, const char *id);
bool state_has_resource(const struct pod_state *st, const char *kind, const char *id);

struct state_container *state_find_container(struct pod_state *st, const char *name);

/* "<run_dir>/pods/<name>" and "<run_dir>/pods/<name>/state.json". */
char *state_pod_dir(const char *run_dir, const char *name);
char *state_path(const char *run_dir, const char *name);

/* Takes the pod's lock, <pod_dir>/lock, with flock(2). create makes the pod
 * directory first; without it a missing directory is -ENOENT. wait false
 * fails with -EBUSY when another process holds it. The lock is verified to
 * be the file still linked at that path (a `down` may have removed the
 * directory while we waited). Returns the fd (O_CLOEXEC), which holds the
 * lock until closed. */
int state_lock(const char *pod_dir, bool create, bool wait, struct pr_error *err);

/* Names of the pods under <run_dir>/pods (directories), sorted. A missing
 * run dir is an empty list. */
int state_list(const char *run_dir, char ***ret, struct pr_error *err);

/* Whether p still names the process that was recorded. */
bool state_proc_alive(const struct state_proc *p);
/* Fills p for a live pid. */
int state_proc_get(pid_t pid, struct state_proc *ret, struct pr_error *err);
/* Sends sig to p only if it is still the recorded process. 0 when sent,
 * -ESRCH when the process is gone (or the pid was reused). */
int state_proc_kill(const struct state_proc *p, int sig);

/* RFC 3339 text as we write it (and with fewer or no fraction digits, or a
 * numeric offset), to CLOCK_REALTIME microseconds. */
int state_parse_time(const char *s, uint64_t *ret_usec);
