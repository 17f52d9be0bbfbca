/* The supervisor's containers: one instance per run (its process, fds and
 * the handles that watch them), starting it (security profile, cgroup, log
 * writer, spawn), recording that it started, reaping its exit and deciding
 * what follows, as kubelet does: a restart by policy with back-off, the next
 * init container, or the end of the pod. It must never reap anything but
 * its own instances, by their pidfd (the orphans are supervisor.c's), and
 * never run the pod's termination (that is sup-stop.c). */
#include "pod/supervisor-int.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "pod/backoff.h"
#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cgroup.h"
#include "pod/logs.h"
#include "pod/plan.h"
#include "pod/probe.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "pod/state.h"
#include "pod/status.h"
#include "pod/termmsg.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* containerd reports a container that never ran with this exit code. */
#define START_ERROR_EXIT_CODE 128

static void ctr_start(struct sup_ctr *ctr);

/* ---- instances: handles and fds ------------------------------------ */

static void on_inst_handle_closed(uv_handle_t *h)
{
        struct sup_inst *inst = h->data;

        if (--inst->refs == 0) {
                ctr_process_close(&inst->proc);
                free(inst);
        }
}

void sup_close_poll(struct sup_inst *inst, uv_poll_t *p, bool *open)
{
        if (!*open)
                return;
        *open = false;
        inst->refs++;
        /* uv_close stops watching the fd at once; the fd itself is closed only
         * after every handle is gone, so its number cannot be reused under a
         * live watcher. */
        uv_close((uv_handle_t *)p, on_inst_handle_closed);
}

static void inst_close(struct sup_inst *inst)
{
        struct pr_error err = {};

        sup_close_poll(inst, &inst->exit_poll, &inst->exit_open);
        sup_close_poll(inst, &inst->start_poll, &inst->start_open);
        sup_close_poll(inst, &inst->out_poll, &inst->out_open);
        sup_close_poll(inst, &inst->err_poll, &inst->err_open);
        if (inst->log) {
                if (logs_writer_flush(inst->log, &err) < 0)
                        pr_log_warn("container '%s': %s; ignoring", inst->ctr->pc->name, err.msg);
                if (logs_writer_dropped(inst->log) != inst->log_dropped_seen)
                        sup_record_log_loss(inst, err.code ? &err : NULL, true);
                inst->log = logs_writer_free(inst->log);
        }
        if (--inst->refs == 0) {
                ctr_process_close(&inst->proc);
                free(inst);
        }
}

/* ---- exits ---------------------------------------------------------- */

static void read_start_error(struct sup_inst *inst)
{
        struct pr_error err = {};
        int r;

        if (inst->start_done)
                return;
        r = ctr_read_start_error(inst->proc.start_error_fd, &err);
        if (r == -EAGAIN)
                return;
        inst->start_done = true;
        if (r == 0)
                return;
        inst->start_failed = true;
        (void)snprintf(inst->start_msg, sizeof(inst->start_msg), "%s",
                       err.msg[0] ? err.msg : strerror(r < 0 ? -r : EIO));
}

static void maybe_ready(struct supervisor *sup)
{
        if (sup->ready_sent)
                return;
        for (size_t i = 0; i < sup->plan->n_containers; i++) {
                const struct plan_container *pc = &sup->plan->containers[i];

                if ((!pc->init || pc->sidecar) && !sup->ctrs[i].ever_started)
                        return;
        }
        sup->ready_sent = true;
        if (sup->opts->on_ready)
                sup->opts->on_ready(sup->opts->userdata, 0, NULL);
        /* Starting a pod (the manifest, the plan, netlink, seccomp, the
         * image's config) leaves freed heap pages behind that an idle
         * supervisor never reuses: hand them back once, as it settles for
         * days (about 400 KiB of its PSS; tests/bench/memory.sh). */
        (void)malloc_trim(0);
}

static void mark_started(struct sup_ctr *ctr)
{
        struct state_container *c = sup_ctr_state(ctr);
        struct supervisor *sup = ctr->sup;

        ctr->ever_started = true;
        c->started = true;
        /* Ready now unless a postStart hook, startup or readiness probe
         * has yet to say so (probe.c). */
        c->ready = probe_on_started(ctr);
        if (!sup->st->start_usec)
                sup->st->start_usec = pr_now_real_usec();
        sup_save(sup);
        sup_ctr_started(ctr);
        maybe_ready(sup);
}

/* kubelet starts the init container after a sidecar once the sidecar has
 * started: exec'd, postStart done, startup probe passed (probe.c calls
 * this again when those end). */
void sup_ctr_started(struct sup_ctr *ctr)
{
        struct supervisor *sup = ctr->sup;

        if (ctr->pc->sidecar && sup->stage == STAGE_INIT && sup->next_init == ctr->idx &&
            probe_started(ctr)) {
                sup->next_init++;
                sup_start_next(sup);
        }
}

static void on_start_pipe(uv_poll_t *p, int status, int events)
{
        struct sup_inst *inst = p->data;

        (void)status, (void)events;
        read_start_error(inst);
        if (!inst->start_done)
                return;
        sup_close_poll(inst, p, &inst->start_open);
        /* A failure is recorded when the child's exit arrives. */
        if (!inst->start_failed)
                mark_started(inst->ctr);
}

static bool all_done(struct supervisor *sup, bool apps_only)
{
        for (size_t i = 0; i < sup->plan->n_containers; i++) {
                const struct plan_container *pc = &sup->plan->containers[i];

                if (apps_only && pc->init)
                        continue;
                if (!sup->st->containers[i].done)
                        return false;
        }
        return true;
}

static void after_exit(struct sup_ctr *ctr, int exit_code)
{
        struct supervisor *sup = ctr->sup;
        const struct plan_container *pc = ctr->pc;

        if (sup->stage >= STAGE_STOP_APPS) {
                sup_check_stop_progress(sup);
                return;
        }
        if (sup->start_failed) {
                sup_stop_pod(sup, SUP_FAILED, true);
                return;
        }
        if (pc->init && !pc->sidecar) {
                if (exit_code == 0 && sup_ctr_state(ctr)->done && sup->next_init == ctr->idx) {
                        sup->next_init++;
                        sup_start_next(sup);
                } else if (sup_ctr_state(ctr)->done) {
                        /* A failed init container under Never fails the pod. */
                        if (!sup->ready_sent)
                                sup_fail_start(sup, pr_asprintf("init container '%s' failed: %s",
                                                                pc->name,
                                                                sup_ctr_state(ctr)->cur.reason));
                        sup_stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
                }
                return;
        }
        if (!pc->init && all_done(sup, true)) {
                enum state_phase ph = status_pod_phase(sup->st);

                sup_stop_pod(sup, ph == STATE_PHASE_SUCCEEDED ? SUP_SUCCEEDED : SUP_FAILED,
                             !sup->opts->keep_completed);
        }
}

static void on_restart_timer(uv_timer_t *t)
{
        struct sup_ctr *ctr = t->data;

        if (ctr->sup->stage >= STAGE_STOP_APPS)
                return;
        sup_ctr_state(ctr)->restart_count++;
        ctr_start(ctr);
}

static void instance_done(struct state_instance *in)
{
        free(in->reason);
        free(in->message);
        *in = (struct state_instance){};
}

/* Records an exit and decides what follows, as kubelet's computePodActions
 * does: restart by policy (at once the first time, then with back-off), or
 * mark the container done. A restarted container keeps the exit as its
 * lastState; a finished one shows it as its state. */
static void ctr_exited(struct sup_ctr *ctr, int exit_code, int sig, const char *reason,
                       const char *message, uint64_t started_usec)
{
        struct supervisor *sup = ctr->sup;
        struct state_container *c = sup_ctr_state(ctr);
        struct state_instance term = {
            .state = STATE_CTR_TERMINATED,
            .reason = pr_strdup(reason),
            .message = message ? pr_strdup(message) : NULL,
            .has_exit = true,
            .exit_code = exit_code,
            .signal = sig,
            .started_usec = started_usec,
            .finished_usec = pr_now_real_usec(),
        };
        _cleanup_free_ char *msg = NULL;
        uint64_t delay, now;

        probe_on_exit(ctr);
        c->proc = (struct state_proc){};
        c->ready = false;
        c->started = false;
        instance_done(&c->cur);
        if (pr_streq(reason, "StartError") && !sup->ready_sent)
                sup_fail_start(sup, pr_asprintf("container '%s': StartError: %s", ctr->pc->name,
                                                message ? message : ""));
        if (sup->stage >= STAGE_STOP_APPS || sup->start_failed ||
            !backoff_should_restart(ctr->pc->restart_policy, exit_code)) {
                c->cur = term;
                c->done = true;
                backoff_reset(&ctr->backoff);
                sup_save(sup);
                after_exit(ctr, exit_code);
                return;
        }
        if (c->has_last)
                instance_done(&c->last);
        c->last = term;
        c->has_last = true;
        /* libuv's timers run on a cached clock and may fire a little before
         * the back-off's own end: never let that look like an expired entry. */
        now = pr_now_mono_usec();
        if (ctr->backoff.active && now < ctr->backoff.last_update_usec)
                now = ctr->backoff.last_update_usec;
        delay = backoff_on_exit(&ctr->backoff, &sup->bp, now);
        if (delay == 0) {
                sup_set_waiting(c, "ContainerCreating", NULL);
                c->restart_count++;
                sup_save(sup);
                ctr_start(ctr);
                return;
        }
        msg = backoff_message(delay, ctr->pc->name, sup->plan->name);
        sup_set_waiting(c, "CrashLoopBackOff", msg);
        sup_save(sup);
        uv_update_time(&sup->loop);
        uv_timer_start(&ctr->restart_timer, on_restart_timer, (delay + 999) / 1000, 0);
}

/* kubelet's terminated message: the terminationMessagePath file (the
 * runtime binds <ctr dir>/termination-log there), or with
 * FallbackToLogsOnError the log's tail. NULL when there is none. */
static char *termination_message(struct sup_ctr *ctr, int exit_code)
{
        char *msg = NULL;
        struct pr_error err = {};

        if (!ctr->pc->spec)
                return NULL;
        if (termmsg_get(ctr->pc->dir, "/termination-log", ctr->pc->spec->termination_message_policy,
                        exit_code, ctr->pc->log_dir, sup_ctr_state(ctr)->restart_count, &msg,
                        &err) < 0) {
                pr_log_debug("container '%s': termination message: %s", ctr->pc->name, err.msg);
                return NULL;
        }
        if (msg && !*msg) {
                free(msg);
                return NULL;
        }
        return msg;
}

/* Reaps the instance's process if it has exited; idempotent. */
void sup_inst_reap(struct sup_inst *inst)
{
        struct sup_ctr *ctr = inst->ctr;
        struct state_container *c = sup_ctr_state(ctr);
        siginfo_t si = {};
        int code, sig = 0;
        uint64_t started;
        const char *reason;
        _cleanup_free_ char *message = NULL;

        if (inst->reaped)
                return;
        if (syscall(SYS_waitid, P_PIDFD, inst->proc.pidfd, &si, WEXITED | WNOHANG, NULL) < 0 ||
            si.si_pid == 0)
                return;
        inst->reaped = true;
        if (si.si_code == CLD_EXITED) {
                code = si.si_status;
        } else {
                sig = si.si_status;
                code = 128 + sig;
        }
        /* The process is gone, so its writes are all in the pipes: drain
         * them before the exit is recorded, so the last lines are logged. */
        read_start_error(inst);
        if (inst->out_open && sup_drain(inst, inst->proc.stdout_fd, LOGS_STDOUT))
                sup_close_poll(inst, &inst->out_poll, &inst->out_open);
        if (inst->err_open && sup_drain(inst, inst->proc.stderr_fd, LOGS_STDERR))
                sup_close_poll(inst, &inst->err_poll, &inst->err_open);
        started = c->cur.started_usec;
        ctr->inst = NULL;
        if (inst->start_failed) {
                _cleanup_free_ char *msg = pr_strdup(inst->start_msg);
                inst_close(inst);
                ctr_exited(ctr, START_ERROR_EXIT_CODE, 0, "StartError", msg, started);
                return;
        }
        if (!ctr->ever_started || !c->started)
                mark_started(ctr); /* EOF on the start pipe came with the exit */
        reason = status_exit_reason(code);
        if (ctr->cg) {
                struct pr_error ignored = {};

                /* As containerd on its OOM event: whichever process the
                 * kernel chose, the container was OOMKilled. */
                if (cg_oom_killed_since(ctr->cg, &ctr->oom_base, &ignored) == 1)
                        reason = "OOMKilled";
        }
        inst_close(inst); /* flushes the log, which the message may fall back to */
        message = termination_message(ctr, code);
        ctr_exited(ctr, code, sig, reason, message, started);
}

static void on_exit_poll(uv_poll_t *p, int status, int events)
{
        (void)status, (void)events;
        sup_inst_reap(p->data);
}

/* ---- starting ------------------------------------------------------- */

static int poll_fd(struct supervisor *sup, struct sup_inst *inst, uv_poll_t *p, bool *open, int fd,
                   uv_poll_cb cb)
{
        int r;

        if (fd < 0)
                return 0;
        r = uv_poll_init(&sup->loop, p, fd);
        if (r < 0)
                return r;
        p->data = inst;
        *open = true;
        return uv_poll_start(p, UV_READABLE | UV_DISCONNECT, cb);
}

static int watch_inst(struct supervisor *sup, struct sup_inst *inst)
{
        int r;

        r = poll_fd(sup, inst, &inst->exit_poll, &inst->exit_open, inst->proc.pidfd, on_exit_poll);
        if (r >= 0)
                r = poll_fd(sup, inst, &inst->start_poll, &inst->start_open,
                            inst->proc.start_error_fd, on_start_pipe);
        if (r >= 0)
                r = poll_fd(sup, inst, &inst->out_poll, &inst->out_open, inst->proc.stdout_fd,
                            sup_on_stream);
        if (r >= 0)
                r = poll_fd(sup, inst, &inst->err_poll, &inst->err_open, inst->proc.stderr_fd,
                            sup_on_stream);
        return r;
}

static int spawn(struct sup_ctr *ctr, struct sup_inst *inst, struct pr_error *err)
{
        struct supervisor *sup = ctr->sup;
        struct ctr_spawn_opts so = {.security = ctr->sec};
        int r;

        if (!ctr->sec) {
                r = sec_profile_build(sup->plan, ctr->pc, &ctr->sec, err);
                if (r < 0)
                        return r;
                so.security = ctr->sec;
        }
        if (sup->pod_cg && !ctr->cg) {
                struct cg_limits l = {};

                cg_limits_from_container(ctr->pc->spec, sup->opts->cgroups, &l);
                r = cg_container_create(sup->pod_cg, ctr->pc->name, &l, &ctr->cg, err);
                if (r < 0)
                        return r;
        }
        if (ctr->cg) {
                /* Sync point 2 of ctr_spawn: the child is moved before it runs. */
                so.after_clone = cg_after_clone;
                so.data = ctr->cg;
        }
        r = ctr_spawn(sup->plan, ctr->pc, &sup->infra, &so, &inst->proc, err);
        if (r < 0)
                return r;
        if (ctr->cg && cg_oom_kill_count(ctr->cg, &ctr->oom_base, err) < 0) {
                pr_log_debug("container '%s': %s; no OOM detection", ctr->pc->name, err->msg);
                pr_error_clear(err);
        }
        r = logs_writer_open(ctr->pc->log_dir, sup_ctr_state(ctr)->restart_count, &sup->opts->logs,
                             &inst->log, err);
        if (r < 0) {
                /* Output is data: without a log file the container still runs. */
                pr_log_warn("container '%s': %s; its output is not logged", ctr->pc->name,
                            err->msg);
                pr_error_clear(err);
        }
        return 0;
}

static void ctr_start(struct sup_ctr *ctr)
{
        struct supervisor *sup = ctr->sup;
        struct state_container *c = sup_ctr_state(ctr);
        struct sup_inst *inst = pr_calloc(1, sizeof(*inst));
        struct pr_error err = {};
        int r;

        inst->ctr = ctr;
        inst->refs = 1;
        inst->proc = (struct ctr_process){.pid = 0,
                                          .pidfd = -1,
                                          .stdout_fd = -1,
                                          .stderr_fd = -1,
                                          .stdin_fd = -1,
                                          .start_error_fd = -1};
        r = spawn(ctr, inst, &err);
        if (r < 0) {
                /* Nothing ran: record it as containerd reports a task that
                 * could not be created. */
                inst_close(inst);
                pr_log_error("pod '%s': container '%s': %s", sup->plan->name, ctr->pc->name,
                             err.msg);
                ctr_exited(ctr, START_ERROR_EXIT_CODE, 0, "StartError", err.msg, 0);
                return;
        }
        ctr->inst = inst;
        c->proc = (struct state_proc){.pid = inst->proc.pid, .start_time = inst->proc.start_time};
        c->cur.state = STATE_CTR_RUNNING;
        sup_set_str(&c->cur.reason, NULL);
        sup_set_str(&c->cur.message, NULL);
        c->cur.started_usec = pr_now_real_usec();
        r = watch_inst(sup, inst);
        sup_save(sup);
        if (r < 0) {
                pr_log_error("pod '%s': container '%s': watch: %s; killing it", sup->plan->name,
                             ctr->pc->name, uv_strerror(r));
                (void)syscall(SYS_pidfd_send_signal, inst->proc.pidfd, SIGKILL, NULL, 0);
        }
}

void sup_start_next(struct supervisor *sup)
{
        if (sup->stage != STAGE_INIT)
                return;
        if (sup->next_init < sup->plan->n_init) {
                ctr_start(&sup->ctrs[sup->next_init]);
                return;
        }
        sup->stage = STAGE_RUNNING;
        for (size_t i = sup->plan->n_init; i < sup->plan->n_containers; i++)
                sup_set_waiting(&sup->st->containers[i], "ContainerCreating", NULL);
        for (size_t i = sup->plan->n_init;
             i < sup->plan->n_containers && sup->stage == STAGE_RUNNING; i++)
                ctr_start(&sup->ctrs[i]);
}
