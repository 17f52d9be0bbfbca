/* What the supervisor's files (supervisor.c, sup-ctr.c, sup-output.c,
 * sup-stop.c, sup-host.c), down.c and probe.c share and nobody else uses:
 * the supervisor's structures (one libuv loop per pod). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pod/backoff.h"
#include "pod/base/error.h"
#include "pod/logs.h"
#include "pod/runtime.h"
#include "pod/supervisor.h"

struct cg;
struct logs_writer;
struct pod_state;
struct sec_profile;
struct state_container;

/* In the pod's run dir: the grace period `down --grace-period` asks for,
 * read by the supervisor when the SIGTERM arrives. */
#define SUP_GRACE_FILE "stop-grace"

/* Removes the pod's network (veth, lease, hostPorts) by its name alone;
 * failures are logged and ignored. */
void sup_detach_network(const char *root_dir, const char *name);

enum sup_stage {
        STAGE_INIT,          /* init containers run one at a time */
        STAGE_RUNNING,       /* app containers started */
        STAGE_STOP_APPS,     /* stop signal sent to app (and init) containers */
        STAGE_STOP_SIDECARS, /* then to the sidecars */
        STAGE_DONE,
};

struct supervisor;
struct sup_ctr;

/* One run of a container: its process, its fds and the handles that watch
 * them. Freed in the last close callback. */
struct sup_inst {
        struct sup_ctr *ctr;
        struct ctr_process proc;
        uv_poll_t exit_poll;
        uv_poll_t start_poll;
        uv_poll_t out_poll;
        uv_poll_t err_poll;
        bool exit_open, start_open, out_open, err_open;
        /* One for the owner (released by inst_close) and one per handle
         * whose close callback is pending. */
        unsigned refs;
        bool reaped;
        bool start_done;
        bool start_failed;
        char start_msg[PR_ERROR_MSG_MAX];
        struct logs_writer *log;
        uint64_t log_dropped_seen; /* the writer's dropped count already in the state */
        uint64_t log_saved_usec;   /* when a change of that count was last saved */
};

struct sup_ctr {
        struct supervisor *sup;
        const struct plan_container *pc;
        size_t idx; /* in plan->containers and st->containers */
        struct sup_inst *inst;
        uv_timer_t restart_timer;
        struct backoff backoff;
        struct sec_profile *sec;
        struct cg *cg;     /* made once, kept across restarts */
        uint64_t oom_base; /* the OOM kill counter when the instance started */
        bool ever_started;
        struct probe_ctr *probes; /* probe.c's, made at the first start */
};

struct supervisor {
        uv_loop_t loop;
        struct pod_plan *plan;
        const struct sup_options *opts;
        struct pod_state *st;
        struct infra infra;
        struct cg *pod_cg;
        bool infra_alive; /* started and not reaped */
        uv_poll_t infra_poll;
        bool infra_poll_open;
        uv_signal_t sig_term, sig_int, sig_hup, sig_chld;
        uv_timer_t grace_timer;
        uv_timer_t deadline_timer; /* activeDeadlineSeconds */
        bool grace_expired;
        bool kill_now;
        uint64_t grace_usec; /* the pod's, or what `down --grace-period` asked */
        struct sup_ctr *ctrs;
        size_t next_init;
        enum sup_stage stage;
        bool ready_sent;
        bool remove_all;
        bool start_failed; /* the pod could not start: report and remove */
        struct pr_error fail;
        enum sup_result result;
        bool phase_forced;
        struct backoff_params bp;
};

/* supervisor.c: the state and the end. */
/* Recomputes the phase and conditions and writes the state file. */
void sup_save(struct supervisor *sup);
struct state_container *sup_ctr_state(struct sup_ctr *ctr);
/* Replaces a string field with a copy of value (NULL clears it). */
void sup_set_str(char **field, const char *value);
void sup_set_waiting(struct state_container *c, const char *reason, const char *message);
/* The pod cannot start: remember why (the first reason wins). msg is taken. */
void sup_fail_start(struct supervisor *sup, char *msg);
/* Stops the infra, removes the pod's host objects and closes the loop's
 * handles; once. */
void sup_finish(struct supervisor *sup);

/* sup-ctr.c: the containers. */
/* Starts the next init container, or once they are done the app ones. */
void sup_start_next(struct supervisor *sup);
/* Reaps the instance's process if it has exited; idempotent. */
void sup_inst_reap(struct sup_inst *inst);
/* Stops watching one of the instance's fds; the fds close with the last handle. */
void sup_close_poll(struct sup_inst *inst, uv_poll_t *p, bool *open);

/* sup-output.c: the containers' output. */
void sup_on_stream(uv_poll_t *p, int status, int events);
/* Reads what the pipe holds now. Returns 1 at EOF (or a read error), 0
 * when the pipe is empty but open. */
int sup_drain(struct sup_inst *inst, int fd, enum logs_stream s);
/* Output lost to a full disk, into the state; save forces a write. */
void sup_record_log_loss(struct sup_inst *inst, const struct pr_error *err, bool save);

/* sup-stop.c: termination. */
void sup_stop_pod(struct supervisor *sup, enum sup_result result, bool remove_all);
/* Moves from the apps to the sidecars, and to the end, as they exit. */
void sup_check_stop_progress(struct supervisor *sup);

/* For probe.c: a signal to the container's current instance, if any; and
 * the end of a preStop hook run for the pod's termination, which sends the
 * stop signal and leaves it at least 2 s before the SIGKILL. */
void sup_signal_ctr(struct sup_ctr *ctr, int sig);
void sup_prestop_done(struct sup_ctr *ctr);
/* For probe.c: the container has started in kubelet's sense (postStart
 * done, startup probe passed); a sidecar lets the next init container go. */
void sup_ctr_started(struct sup_ctr *ctr);

/* sup-host.c: the network, the cgroups, and the removal of the pod. */
int sup_attach_network(struct supervisor *sup, struct pr_error *err);
int sup_create_pod_cgroup(struct supervisor *sup, struct pr_error *err);
void sup_attach_infra_cgroup(struct supervisor *sup);
/* keep_state leaves the state file and logs (a completed pod kept for
 * ps -a); else the run and root dirs go too. */
void sup_remove_pod(struct supervisor *sup, bool keep_state);
