/* The per-pod supervisor: one single-threaded libuv loop that starts the
 * infra and the containers, watches them, restarts them by policy, stops
 * them in kubelet's order, records every change in the state file and
 * removes what the pod made. Owned by supervisor.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/logs.h"

struct pr_error;
struct pod_plan;
struct cg_options;

/* How a supervisor ended. */
enum sup_result {
        SUP_SUCCEEDED, /* every app container completed with 0 */
        SUP_FAILED,    /* the pod ended Failed */
        SUP_STOPPED,   /* stopped by SIGTERM/SIGINT (down, Ctrl-C) */
        _SUP_RESULT_MAX,
};

struct sup_options {
        const char *pause_path; /* podrun-pause */
        const char *manifest;   /* recorded in the state file */
        const char *run_dir;    /* --run-dir, --root and the netns dir, recorded so */
        const char *root_dir;   /* `down` can rebuild the paths after a crash */
        const char *netns_dir;
        uint64_t backoff_base_usec; /* 0: kubelet's 10 s */
        /* Each container's log rotation (zeros: kubelet's 10 MiB, 5 files). */
        struct logs_options logs;
        /* Once the pod completes (Succeeded or Failed) keep its state file
         * and logs for ps -a and logs, with nothing running; else remove
         * everything as on a stop. */
        bool keep_completed;
        /* Wire the pod to podrun's bridge network (netsetup/) and give it an
         * IP; else it has only lo. Ignored with hostNetwork. */
        bool network;
        /* Put the pod, its infra and each container in cgroups with the
         * manifest's limits (pod/cgroup.h); NULL: no cgroups. parent is
         * recorded in the state file for `down`. */
        const struct cg_options *cgroups;
        /* The parent asked for explicitly: without it, a host where the
         * cgroups cannot be made runs the pod without them (warned). */
        bool cgroups_required;
        /* Every container's output as it is read (the foreground `up`);
         * may be NULL. Called from the loop: must not block for long. */
        void (*on_output)(void *userdata, const char *container, enum logs_stream s,
                          const char *data, size_t len);
        /* Called once: r == 0 when every app container (and sidecar) has
         * started (exec succeeded) or the pod completed; r < 0 with err when
         * the pod could not start (then everything is removed before
         * sup_run returns). May be NULL. */
        void (*on_ready)(void *userdata, int r, const struct pr_error *err);
        void *userdata;
};

/* Runs the pod until it completes or is stopped. The caller holds the pod's
 * lock (state_lock) and keeps it until this returns; the plan's spec must
 * stay alive. Returns enum sup_result, or a negative errno when the pod
 * could not be started (everything it made is removed). */
int sup_run(struct pod_plan *plan, const struct sup_options *opts, struct pr_error *err);

struct sup_down_options {
        const char *run_dir;  /* --run-dir */
        const char *root_dir; /* --root */
        /* Used only when the run dir is gone (nothing records them then):
         * the named netns dir (NULL: /run/netns) and the cgroup parent
         * (NULL: no cgroups to look for). */
        const char *netns_dir;
        const char *cgroup_parent;
        int grace_seconds; /* < 0: the pod's terminationGracePeriodSeconds */
        uint64_t timeout_usec;
};

/* Stops and removes a pod: SIGTERM to its supervisor (checked by pid and
 * start time) and a wait of up to timeout_usec while it runs the
 * termination sequence (then SIGKILL); with the supervisor gone, whatever is
 * left is torn down from the state file: container processes (checked by
 * start time), network, cgroups, writable layers, the infra's mounts and
 * netns, logs and volumes, the run dir. A pod whose run dir vanished but
 * whose files remain under root_dir (or netns_dir) is cleaned too.
 * Idempotent; -ENOENT naming the pod when nothing of it exists. */
int sup_down(const struct sup_down_options *o, const char *name, struct pr_error *err);

/* Whether anything of the pod exists under run_dir (a state dir). */
bool sup_pod_exists(const char *run_dir, const char *name);

struct pod_state;

/* Reads a pod's state as ps and inspect show it: when the supervisor that
 * wrote it is gone without finishing, the state is made to say so
 * (status_mark_supervisor_lost), with each container checked by pid and
 * start time. */
int sup_read_status(const char *run_dir, const char *name, struct pod_state **ret,
                    struct pr_error *err);
