/* The per-pod supervisor loop. It owns the lifecycle of one pod: infra
 * first, init containers one at a time, then the app containers; restarts by
 * policy with kubelet's back-off; termination in kubelet's order (apps, then
 * sidecars, then the infra); the state file, written on every change; and
 * the removal of what the pod made. It runs single-threaded on libuv and
 * must never use libuv's thread pool (no uv_fs_* with callbacks, no
 * uv_queue_work, no uv_getaddrinfo): the runtime forks and clones from this
 * thread. It must never print (errors go to on_ready or pr_log) and never
 * reap with waitpid(-1): every child we track is reaped by its pidfd.
 *
 * Reaping, in detail. The supervisor is a child subreaper, so processes
 * orphaned inside a container (after its PID 1 dies, the kernel kills the
 * rest of its pid namespace) and helpers of the runtime are re-parented to
 * us and must be reaped here or they stay zombies. Each container's PID 1
 * and the infra are watched by a pidfd in a uv_poll_t and reaped with
 * waitid(P_PIDFD), which returns their exit status. SIGCHLD (through a
 * uv_signal_t) is used only for the others: it peeks at the next zombie
 * with waitid(P_ALL, WNOHANG | WNOWAIT); a tracked pid is handed to its own
 * exit path (which reaps it by pidfd, exactly as the poll would), any other
 * pid is reaped with waitpid(pid). Peeking first is what keeps the orphan
 * reaper from stealing a container's exit status. */
#include "pod/supervisor.h"
#include "pod/supervisor-int.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "netsetup/netsetup.h"
#include "pod/backoff.h"
#include "pod/cgroup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/probe.h"
#include "pod/runtime.h"
#include "pod/security.h"
#include "pod/state.h"
#include "pod/status.h"
#include "pod/termmsg.h"
#include "pod/userns.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define READ_CHUNK (64 * 1024)
/* kubelet leaves sidecars at least this long after a slow app container. */
#define MIN_SIDECAR_GRACE_USEC (2 * PR_USEC_PER_SEC)
#define INFRA_STOP_TIMEOUT_USEC (2 * PR_USEC_PER_SEC)
#define INFRA_GONE_DELAY_MSEC 50
/* containerd reports a container that never ran with this exit code. */
#define START_ERROR_EXIT_CODE 128

static void ctr_start(struct sup_ctr *ctr);
static void stop_pod(struct supervisor *sup, enum sup_result result, bool remove_all);
static void check_stop_progress(struct supervisor *sup);

static struct state_container *ctr_state(struct sup_ctr *ctr)
{
        return &ctr->sup->st->containers[ctr->idx];
}

/* ---- state ---------------------------------------------------------- */

void sup_save(struct supervisor *sup)
{
        struct pr_error err = {};

        if (!sup->phase_forced)
                sup->st->phase = status_pod_phase(sup->st);
        (void)status_update_conditions(sup->st, pr_now_real_usec());
        if (state_write(sup->st, sup->plan->state_path, &err) < 0)
                pr_log_warn("%s; ignoring", err.msg);
}

static void set_str(char **field, const char *value)
{
        free(*field);
        *field = value ? pr_strdup(value) : NULL;
}

static void set_waiting(struct state_container *c, const char *reason, const char *message)
{
        c->cur.state = STATE_CTR_WAITING;
        c->cur.has_exit = false;
        c->cur.exit_code = 0;
        c->cur.signal = 0;
        c->cur.started_usec = 0;
        c->cur.finished_usec = 0;
        set_str(&c->cur.reason, reason);
        set_str(&c->cur.message, message);
        c->ready = false;
        c->started = false;
}

static struct pod_state *state_from_plan(const struct pod_plan *plan,
                                         const struct sup_options *opts)
{
        struct pod_state *st = pr_calloc(1, sizeof(*st));

        st->version = STATE_VERSION;
        st->name = pr_strdup(plan->name);
        st->namespace = pr_strdup(plan->namespace);
        st->uid = pr_strdup(plan->uid);
        st->manifest = opts->manifest ? pr_strdup(opts->manifest) : NULL;
        st->run_dir = pr_strdup(opts->run_dir);
        st->root_dir = pr_strdup(opts->root_dir);
        st->netns_dir = opts->netns_dir ? pr_strdup(opts->netns_dir) : NULL;
        st->restart_policy = pr_strdup(spec_restart_policy_to_string(plan->restart_policy));
        st->created_usec = pr_now_real_usec();
        st->phase = STATE_PHASE_PENDING;
        for (size_t i = 0; i < plan->n_containers; i++) {
                const struct plan_container *pc = &plan->containers[i];
                struct state_container *c =
                    pr_array_grow(&st->containers, &st->n_containers, sizeof(*c));

                c->name = pr_strdup(pc->name);
                c->init = pc->init;
                c->sidecar = pc->sidecar;
                c->image = pr_strdup(pc->image_ref ? pc->image_ref : "");
                c->image_id = pr_strdup(pc->image_id ? pc->image_id : "");
                c->log_dir = pr_strdup(pc->log_dir);
                set_waiting(c,
                            pc->init || plan->n_init == 0 ? "ContainerCreating" : "PodInitializing",
                            NULL);
        }
        return st;
}

/* ---- instances: handles and fds ------------------------------------ */

/* Output lost to a full disk is reported in the state, where inspect
 * shows it as the pod's message: the failure at once, the growing count of
 * dropped bytes at most once a second (save forces it, for the last count). */
static void record_log_loss(struct sup_inst *inst, const struct pr_error *err, bool save)
{
        struct state_container *c = ctr_state(inst->ctr);
        uint64_t dropped = logs_writer_dropped(inst->log), now = pr_now_mono_usec();

        if (err)
                set_str(&c->log_error, err->msg);
        c->log_dropped += dropped - inst->log_dropped_seen;
        inst->log_dropped_seen = dropped;
        if (err || save || now - inst->log_saved_usec >= PR_USEC_PER_SEC) {
                inst->log_saved_usec = now;
                sup_save(inst->ctr->sup);
        }
}

static void on_inst_handle_closed(uv_handle_t *h)
{
        struct sup_inst *inst = h->data;

        if (--inst->refs == 0) {
                ctr_process_close(&inst->proc);
                free(inst);
        }
}

static void close_poll(struct sup_inst *inst, uv_poll_t *p, bool *open)
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

        close_poll(inst, &inst->exit_poll, &inst->exit_open);
        close_poll(inst, &inst->start_poll, &inst->start_open);
        close_poll(inst, &inst->out_poll, &inst->out_open);
        close_poll(inst, &inst->err_poll, &inst->err_open);
        if (inst->log) {
                if (logs_writer_flush(inst->log, &err) < 0)
                        pr_log_warn("container '%s': %s; ignoring", inst->ctr->pc->name, err.msg);
                if (logs_writer_dropped(inst->log) != inst->log_dropped_seen)
                        record_log_loss(inst, err.code ? &err : NULL, true);
                inst->log = logs_writer_free(inst->log);
        }
        if (--inst->refs == 0) {
                ctr_process_close(&inst->proc);
                free(inst);
        }
}

/* ---- output --------------------------------------------------------- */

static void emit(struct sup_inst *inst, enum logs_stream s, const char *buf, size_t n)
{
        struct supervisor *sup = inst->ctr->sup;
        struct pr_error err = {};

        /* Synchronous on purpose: while this write is in progress nothing
         * more is read from the pipe, so a container that writes faster
         * than the disk takes blocks in its own write(2) (back-pressure)
         * and the supervisor holds at most one read's worth of output. */
        if (inst->log && logs_writer_write(inst->log, s, buf, n, &err) < 0) {
                pr_log_warn("container '%s': %s; dropping output", inst->ctr->pc->name, err.msg);
                record_log_loss(inst, &err, false);
        } else if (inst->log && logs_writer_dropped(inst->log) != inst->log_dropped_seen) {
                record_log_loss(inst, NULL, false);
        }
        if (sup->opts->on_output)
                sup->opts->on_output(sup->opts->userdata, inst->ctr->pc->name, s, buf, n);
}

/* Reads what the pipe holds now. Returns 1 at EOF (or a read error), 0
 * when the pipe is empty but open. */
static int drain(struct sup_inst *inst, int fd, enum logs_stream s)
{
        char buf[READ_CHUNK];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n > 0) {
                        emit(inst, s, buf, (size_t)n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                return 1;
        }
}

static void on_stream(uv_poll_t *p, int status, int events)
{
        struct sup_inst *inst = p->data;
        bool is_out = p == &inst->out_poll;
        int fd = is_out ? inst->proc.stdout_fd : inst->proc.stderr_fd;
        char buf[READ_CHUNK];
        ssize_t n;

        (void)events;
        /* One chunk per wakeup, so one chatty container cannot starve the
         * loop; the poll calls again while data remains. */
        n = status < 0 ? 0 : read(fd, buf, sizeof(buf));
        if (n > 0) {
                emit(inst, is_out ? LOGS_STDOUT : LOGS_STDERR, buf, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        close_poll(inst, p, is_out ? &inst->out_open : &inst->err_open);
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

static void start_next(struct supervisor *sup);

static void mark_started(struct sup_ctr *ctr)
{
        struct state_container *c = ctr_state(ctr);
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
                start_next(sup);
        }
}

static void on_start_pipe(uv_poll_t *p, int status, int events)
{
        struct sup_inst *inst = p->data;

        (void)status, (void)events;
        read_start_error(inst);
        if (!inst->start_done)
                return;
        close_poll(inst, p, &inst->start_open);
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

/* The pod cannot start: remember why (the first reason wins). msg is taken. */
static void fail_start(struct supervisor *sup, char *msg)
{
        if (!sup->start_failed) {
                sup->start_failed = true;
                (void)pr_err_msg(&sup->fail, EIO, "pod '%s': %s", sup->plan->name, msg);
        }
        free(msg);
}

static void after_exit(struct sup_ctr *ctr, int exit_code)
{
        struct supervisor *sup = ctr->sup;
        const struct plan_container *pc = ctr->pc;

        if (sup->stage >= STAGE_STOP_APPS) {
                check_stop_progress(sup);
                return;
        }
        if (sup->start_failed) {
                stop_pod(sup, SUP_FAILED, true);
                return;
        }
        if (pc->init && !pc->sidecar) {
                if (exit_code == 0 && ctr_state(ctr)->done && sup->next_init == ctr->idx) {
                        sup->next_init++;
                        start_next(sup);
                } else if (ctr_state(ctr)->done) {
                        /* A failed init container under Never fails the pod. */
                        if (!sup->ready_sent)
                                fail_start(sup, pr_asprintf("init container '%s' failed: %s",
                                                            pc->name, ctr_state(ctr)->cur.reason));
                        stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
                }
                return;
        }
        if (!pc->init && all_done(sup, true)) {
                enum state_phase ph = status_pod_phase(sup->st);

                stop_pod(sup, ph == STATE_PHASE_SUCCEEDED ? SUP_SUCCEEDED : SUP_FAILED,
                         !sup->opts->keep_completed);
        }
}

static void on_restart_timer(uv_timer_t *t)
{
        struct sup_ctr *ctr = t->data;

        if (ctr->sup->stage >= STAGE_STOP_APPS)
                return;
        ctr_state(ctr)->restart_count++;
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
        struct state_container *c = ctr_state(ctr);
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
                fail_start(sup, pr_asprintf("container '%s': StartError: %s", ctr->pc->name,
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
                set_waiting(c, "ContainerCreating", NULL);
                c->restart_count++;
                sup_save(sup);
                ctr_start(ctr);
                return;
        }
        msg = backoff_message(delay, ctr->pc->name, sup->plan->name);
        set_waiting(c, "CrashLoopBackOff", msg);
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
                        exit_code, ctr->pc->log_dir, ctr_state(ctr)->restart_count, &msg,
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
static void inst_reap(struct sup_inst *inst)
{
        struct sup_ctr *ctr = inst->ctr;
        struct state_container *c = ctr_state(ctr);
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
        if (inst->out_open && drain(inst, inst->proc.stdout_fd, LOGS_STDOUT))
                close_poll(inst, &inst->out_poll, &inst->out_open);
        if (inst->err_open && drain(inst, inst->proc.stderr_fd, LOGS_STDERR))
                close_poll(inst, &inst->err_poll, &inst->err_open);
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
        inst_reap(p->data);
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
                            on_stream);
        if (r >= 0)
                r = poll_fd(sup, inst, &inst->err_poll, &inst->err_open, inst->proc.stderr_fd,
                            on_stream);
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
        r = logs_writer_open(ctr->pc->log_dir, ctr_state(ctr)->restart_count, &sup->opts->logs,
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
        struct state_container *c = ctr_state(ctr);
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
        set_str(&c->cur.reason, NULL);
        set_str(&c->cur.message, NULL);
        c->cur.started_usec = pr_now_real_usec();
        r = watch_inst(sup, inst);
        sup_save(sup);
        if (r < 0) {
                pr_log_error("pod '%s': container '%s': watch: %s; killing it", sup->plan->name,
                             ctr->pc->name, uv_strerror(r));
                (void)syscall(SYS_pidfd_send_signal, inst->proc.pidfd, SIGKILL, NULL, 0);
        }
}

static void start_next(struct supervisor *sup)
{
        if (sup->stage != STAGE_INIT)
                return;
        if (sup->next_init < sup->plan->n_init) {
                ctr_start(&sup->ctrs[sup->next_init]);
                return;
        }
        sup->stage = STAGE_RUNNING;
        for (size_t i = sup->plan->n_init; i < sup->plan->n_containers; i++)
                set_waiting(&sup->st->containers[i], "ContainerCreating", NULL);
        for (size_t i = sup->plan->n_init;
             i < sup->plan->n_containers && sup->stage == STAGE_RUNNING; i++)
                ctr_start(&sup->ctrs[i]);
}

/* ---- stopping ------------------------------------------------------- */

static void signal_inst(struct sup_ctr *ctr, int sig)
{
        if (!ctr->inst || ctr->inst->reaped)
                return;
        if (syscall(SYS_pidfd_send_signal, ctr->inst->proc.pidfd, sig, NULL, 0) < 0 &&
            errno != ESRCH)
                pr_log_warn("container '%s': signal %d: %s; ignoring", ctr->pc->name, sig,
                            strerror(errno));
}

static bool group_alive(struct supervisor *sup, bool sidecars)
{
        for (size_t i = 0; i < sup->plan->n_containers; i++)
                if (sup->plan->containers[i].sidecar == sidecars && sup->ctrs[i].inst)
                        return true;
        return false;
}

static void signal_group(struct supervisor *sup, bool sidecars, bool kill_now)
{
        /* Sidecars stop in the reverse order of their start. */
        for (size_t k = 0; k < sup->plan->n_containers; k++) {
                size_t i = sidecars ? sup->plan->n_containers - 1 - k : k;
                struct sup_ctr *ctr = &sup->ctrs[i];

                /* A preStop hook goes first and sends the signal itself. */
                if (ctr->pc->sidecar == sidecars && (kill_now || !probe_pre_stop(ctr)))
                        signal_inst(ctr, kill_now ? SIGKILL : ctr->pc->stop_signal);
        }
}

static void on_grace_timer(uv_timer_t *t)
{
        struct supervisor *sup = t->data;

        /* kubelet gives preStop the whole grace period, then the signal at
         * least 2 s more. */
        if (probe_grace_over(sup)) {
                uv_timer_start(&sup->grace_timer, on_grace_timer, MIN_SIDECAR_GRACE_USEC / 1000, 0);
                return;
        }
        sup->grace_expired = true;
        pr_log_info("pod '%s': grace period over; killing what is left", sup->plan->name);
        signal_group(sup, sup->stage == STAGE_STOP_SIDECARS, true);
}

void sup_signal_ctr(struct sup_ctr *ctr, int sig)
{
        signal_inst(ctr, sig);
}

void sup_prestop_done(struct sup_ctr *ctr)
{
        struct supervisor *sup = ctr->sup;

        if (sup->grace_expired)
                return;
        if (!sup->kill_now &&
            uv_timer_get_due_in(&sup->grace_timer) * 1000 < MIN_SIDECAR_GRACE_USEC)
                uv_timer_start(&sup->grace_timer, on_grace_timer, MIN_SIDECAR_GRACE_USEC / 1000, 0);
        signal_inst(ctr, ctr->pc->stop_signal);
}

static void close_loop_handles(struct supervisor *sup);
static void finish(struct supervisor *sup);

static void check_stop_progress(struct supervisor *sup)
{
        if (sup->stage == STAGE_STOP_APPS && !group_alive(sup, false)) {
                sup->stage = STAGE_STOP_SIDECARS;
                if (group_alive(sup, true)) {
                        uint64_t left = sup->grace_expired
                                            ? MIN_SIDECAR_GRACE_USEC
                                            : uv_timer_get_due_in(&sup->grace_timer) * 1000;
                        if (left < MIN_SIDECAR_GRACE_USEC)
                                left = MIN_SIDECAR_GRACE_USEC;
                        sup->grace_expired = false;
                        uv_timer_stop(&sup->grace_timer);
                        uv_timer_start(&sup->grace_timer, on_grace_timer, left / 1000, 0);
                        signal_group(sup, true, sup->kill_now);
                }
        }
        if (sup->stage == STAGE_STOP_SIDECARS && !group_alive(sup, true))
                finish(sup);
}

static void stop_pod(struct supervisor *sup, enum sup_result result, bool remove_all)
{
        if (sup->stage >= STAGE_STOP_APPS)
                return;
        sup->stage = STAGE_STOP_APPS;
        sup->result = result;
        sup->remove_all = remove_all;
        if (result == SUP_STOPPED) {
                sup->st->terminating = true;
                sup->st->deletion_usec = pr_now_real_usec();
        }
        for (size_t i = 0; i < sup->plan->n_containers; i++) {
                struct sup_ctr *ctr = &sup->ctrs[i];
                struct state_container *c = &sup->st->containers[i];

                uv_timer_stop(&ctr->restart_timer);
                if (!ctr->inst)
                        c->done = true;
        }
        /* A pod that could not start is not given a grace period: nothing
         * of it was ever ready, and `up` is waiting to report why. */
        sup->kill_now = sup->start_failed || sup->grace_usec == 0;
        sup_save(sup);
        uv_timer_start(&sup->grace_timer, on_grace_timer, sup->grace_usec / 1000, 0);
        signal_group(sup, false, sup->kill_now);
        check_stop_progress(sup);
}

/* ---- the infra ------------------------------------------------------ */

static void on_infra_gone(uv_timer_t *t)
{
        struct supervisor *sup = t->data;

        if (sup->stage >= STAGE_STOP_APPS)
                return;
        pr_log_error("pod '%s': the infra process (pid %d) exited; stopping the pod",
                     sup->plan->name, (int)sup->infra.pid);
        set_str(&sup->st->reason, "InfraExited");
        set_str(&sup->st->message, "the infra process holding the pod's namespaces exited");
        sup->phase_forced = true;
        sup->st->phase = STATE_PHASE_FAILED;
        if (!sup->ready_sent)
                fail_start(sup, pr_strdup("the infra process exited"));
        stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
}

/* activeDeadlineSeconds: kubelet fails the pod with these words and stops
 * its containers by the normal termination sequence. */
static void on_deadline(uv_timer_t *t)
{
        struct supervisor *sup = t->data;

        if (sup->stage >= STAGE_STOP_APPS)
                return;
        pr_log_info("pod '%s': active deadline of %lld s passed; stopping", sup->plan->name,
                    (long long)sup->plan->spec->active_deadline_seconds.value);
        set_str(&sup->st->reason, "DeadlineExceeded");
        set_str(&sup->st->message, "Pod was active on the node longer than the specified deadline");
        sup->phase_forced = true;
        sup->st->phase = STATE_PHASE_FAILED;
        if (!sup->ready_sent)
                fail_start(sup, pr_strdup("active deadline exceeded before every container had "
                                          "started"));
        stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
}

static void infra_reap(struct supervisor *sup)
{
        siginfo_t si = {};

        if (!sup->infra_alive)
                return;
        if (syscall(SYS_waitid, P_PIDFD, sup->infra.pidfd, &si, WEXITED | WNOHANG, NULL) < 0 ||
            si.si_pid == 0)
                return;
        sup->infra_alive = false;
        if (sup->infra_poll_open) {
                sup->infra_poll_open = false;
                uv_close((uv_handle_t *)&sup->infra_poll, NULL);
        }
        if (sup->stage >= STAGE_STOP_APPS)
                return;
        /* Ctrl-C reaches the whole foreground process group, the infra
         * included: give our own SIGINT a moment to be seen first, so that
         * the pod is stopped rather than failed. stop_pod() re-arms this
         * timer for the grace period. */
        uv_timer_start(&sup->grace_timer, on_infra_gone, INFRA_GONE_DELAY_MSEC, 0);
}

static void on_infra_poll(uv_poll_t *p, int status, int events)
{
        (void)status, (void)events;
        infra_reap(p->data);
}

/* ---- signals -------------------------------------------------------- */

static struct sup_inst *find_inst(struct supervisor *sup, pid_t pid)
{
        for (size_t i = 0; i < sup->plan->n_containers; i++)
                if (sup->ctrs[i].inst && sup->ctrs[i].inst->proc.pid == pid)
                        return sup->ctrs[i].inst;
        return NULL;
}

static void reap_orphans(struct supervisor *sup)
{
        /* Bounded: each round reaps one child (or hands it to its owner). */
        for (int round = 0; round < 4096; round++) {
                siginfo_t si = {};
                struct sup_inst *inst;

                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                        return;
                inst = find_inst(sup, si.si_pid);
                if (inst) {
                        inst_reap(inst);
                } else if (sup->infra_alive && si.si_pid == sup->infra.pid) {
                        infra_reap(sup);
                } else if (waitpid(si.si_pid, NULL, WNOHANG) <= 0) {
                        return;
                }
        }
}

/* `down --grace-period N` leaves N in <run_dir>/stop-grace before its
 * SIGTERM, as kubectl delete --grace-period overrides the pod's. */
static void read_grace_request(struct supervisor *sup)
{
        _cleanup_free_ char *path = pr_asprintf("%s/%s", sup->plan->run_dir, SUP_GRACE_FILE);
        _cleanup_free_ char *text = NULL;
        struct pr_error ignored = {};
        int seconds;

        if (pr_read_file(path, 64, &text, NULL, &ignored) < 0)
                return;
        text[strcspn(text, "\n")] = '\0';
        if (pr_parse_int(text, 0, 24 * 3600, &seconds) < 0) {
                pr_log_warn("pod '%s': '%s' holds no grace period; ignoring", sup->plan->name,
                            path);
                return;
        }
        sup->grace_usec = (uint64_t)seconds * PR_USEC_PER_SEC;
}

static void on_signal(uv_signal_t *s, int signum)
{
        struct supervisor *sup = s->data;

        if (signum == SIGCHLD) {
                reap_orphans(sup);
                return;
        }
        pr_log_info("pod '%s': %s received; stopping", sup->plan->name, strsignal(signum));
        read_grace_request(sup);
        stop_pod(sup, SUP_STOPPED, true);
}

/* ---- the end -------------------------------------------------------- */

static void close_if(uv_handle_t *h)
{
        if (h->data && !uv_is_closing(h))
                uv_close(h, NULL);
}

static void close_loop_handles(struct supervisor *sup)
{
        close_if((uv_handle_t *)&sup->sig_term);
        close_if((uv_handle_t *)&sup->sig_int);
        close_if((uv_handle_t *)&sup->sig_hup);
        close_if((uv_handle_t *)&sup->sig_chld);
        close_if((uv_handle_t *)&sup->grace_timer);
        close_if((uv_handle_t *)&sup->deadline_timer);
        for (size_t i = 0; i < sup->plan->n_containers; i++)
                close_if((uv_handle_t *)&sup->ctrs[i].restart_timer);
        for (size_t i = 0; i < sup->plan->n_containers; i++)
                probe_close(&sup->ctrs[i]);
        if (sup->infra_poll_open) {
                sup->infra_poll_open = false;
                uv_close((uv_handle_t *)&sup->infra_poll, NULL);
        }
}

static void stop_infra(struct supervisor *sup)
{
        struct pr_error err = {};

        if (sup->infra_poll_open) {
                sup->infra_poll_open = false;
                uv_close((uv_handle_t *)&sup->infra_poll, NULL);
        }
        if (sup->infra.pid > 0 && sup->infra_alive &&
            infra_stop(&sup->infra, INFRA_STOP_TIMEOUT_USEC, &err) < 0)
                pr_log_warn("pod '%s': %s; ignoring", sup->plan->name, err.msg);
        sup->infra_alive = false;
        infra_done(&sup->infra);
        sup->st->infra = (struct state_proc){};
}

/* Removes the pod's host objects; keep_state leaves the state file and the
 * logs (a completed pod kept for ps -a). */
static void finish(struct supervisor *sup)
{
        if (sup->stage == STAGE_DONE)
                return;
        sup->stage = STAGE_DONE;
        stop_infra(sup);
        if (sup->remove_all || sup->start_failed) {
                sup_remove_pod(sup, false);
        } else {
                sup_remove_pod(sup, true);
                sup->st->finished = true;
                sup->st->supervisor = (struct state_proc){};
                sup_save(sup);
        }
        close_loop_handles(sup);
}

/* ---- setup ---------------------------------------------------------- */

static int init_handles(struct supervisor *sup)
{
        int r;

        uv_signal_init(&sup->loop, &sup->sig_term);
        uv_signal_init(&sup->loop, &sup->sig_int);
        uv_signal_init(&sup->loop, &sup->sig_hup);
        uv_signal_init(&sup->loop, &sup->sig_chld);
        uv_timer_init(&sup->loop, &sup->grace_timer);
        uv_timer_init(&sup->loop, &sup->deadline_timer);
        sup->sig_term.data = sup->sig_int.data = sup->sig_hup.data = sup->sig_chld.data = sup;
        sup->grace_timer.data = sup->deadline_timer.data = sup;
        for (size_t i = 0; i < sup->plan->n_containers; i++) {
                struct sup_ctr *ctr = &sup->ctrs[i];

                ctr->sup = sup;
                ctr->pc = &sup->plan->containers[i];
                ctr->idx = i;
                uv_timer_init(&sup->loop, &ctr->restart_timer);
                ctr->restart_timer.data = ctr;
        }
        r = uv_signal_start(&sup->sig_term, on_signal, SIGTERM);
        if (r >= 0)
                r = uv_signal_start(&sup->sig_int, on_signal, SIGINT);
        /* A foreground `up` whose terminal goes away stops its pod rather
         * than dying and leaving it behind. */
        if (r >= 0)
                r = uv_signal_start(&sup->sig_hup, on_signal, SIGHUP);
        if (r >= 0)
                r = uv_signal_start(&sup->sig_chld, on_signal, SIGCHLD);
        return r;
}

static int start_infra(struct supervisor *sup, struct pr_error *err)
{
        int r;

        r = sup_create_pod_cgroup(sup, err);
        if (r < 0)
                return r;
        r = infra_start(sup->plan, sup->opts->pause_path, &sup->infra, err);
        if (r < 0)
                return r;
        sup_attach_infra_cgroup(sup);
        sup->infra_alive = true;
        sup->st->infra =
            (struct state_proc){.pid = sup->infra.pid, .start_time = sup->infra.start_time};
        state_add_resource(sup->st, "infra", "pause");
        state_add_resource(sup->st, "netns", sup->plan->netns_path);
        if (sup->infra.userns) {
                _cleanup_free_ char *range = userns_range_id(sup->infra.userns_start);

                state_add_resource(sup->st, "userns", range);
        }
        sup_save(sup);
        r = uv_poll_init(&sup->loop, &sup->infra_poll, sup->infra.pidfd);
        if (r < 0)
                return pr_err(err, -r, "watch the infra process");
        sup->infra_poll.data = sup;
        sup->infra_poll_open = true;
        r = uv_poll_start(&sup->infra_poll, UV_READABLE, on_infra_poll);
        if (r < 0)
                return pr_err(err, -r, "watch the infra process");
        return sup_attach_network(sup, err);
}

static void sup_free(struct supervisor *sup)
{
        for (size_t i = 0; sup->ctrs && i < sup->plan->n_containers; i++) {
                sec_profile_free(sup->ctrs[i].sec);
                cg_free(sup->ctrs[i].cg);
        }
        cg_free(sup->pod_cg);
        free(sup->ctrs);
        state_free(sup->st);
        free(sup);
}

static int run_loop(struct supervisor *sup)
{
        int r;

        (void)uv_run(&sup->loop, UV_RUN_DEFAULT);
        r = uv_loop_close(&sup->loop);
        if (r < 0)
                pr_log_warn("pod '%s': the loop did not close clean: %s", sup->plan->name,
                            uv_strerror(r));
        return r;
}

int sup_run(struct pod_plan *plan, const struct sup_options *opts, struct pr_error *err)
{
        struct supervisor *sup = pr_calloc(1, sizeof(*sup));
        bool loop_ok;
        int r;

        sup->plan = plan;
        sup->grace_usec = plan->grace_period_usec;
        sup->infra.pidfd = -1;
        sup->opts = opts;
        sup->ctrs = pr_calloc(plan->n_containers, sizeof(*sup->ctrs));
        sup->st = state_from_plan(plan, opts);
        sup->remove_all = true;
        backoff_params_init(&sup->bp, opts->backoff_base_usec);
        /* Orphans of our containers come to us, not to the host's PID 1. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                pr_log_warn("pod '%s': PR_SET_CHILD_SUBREAPER: %s; ignoring", plan->name,
                            strerror(errno));
        r = state_proc_get(getpid(), &sup->st->supervisor, err);
        loop_ok = r >= 0 && uv_loop_init(&sup->loop) == 0;
        if (r >= 0 && !loop_ok)
                r = pr_err_msg(err, EIO, "set up the event loop");
        if (r >= 0)
                r = init_handles(sup) < 0 ? pr_err_msg(err, EIO, "set up the event loop") : 0;
        if (r >= 0)
                sup_save(sup);
        if (r >= 0)
                r = start_infra(sup, err);
        if (r < 0) {
                (void)pr_err_wrap(err, "pod '%s'", plan->name);
                sup->start_failed = true;
                sup->fail = *err;
                sup->stage = STAGE_STOP_SIDECARS;
                finish(sup);
        } else {
                /* From the pod's start, as kubelet counts from its startTime. */
                if (plan->spec && plan->spec->active_deadline_seconds.set)
                        uv_timer_start(&sup->deadline_timer, on_deadline,
                                       (uint64_t)plan->spec->active_deadline_seconds.value * 1000,
                                       0);
                start_next(sup);
        }
        if (loop_ok && run_loop(sup) < 0 && !sup->start_failed) {
                /* A handle left open is our bug; the pod itself is gone. */
                sup->start_failed = true;
                (void)pr_err_msg(&sup->fail, EBUSY, "pod '%s': the event loop did not close clean",
                                 plan->name);
        }
        if (!sup->start_failed && !sup->ready_sent && sup->result == SUP_STOPPED) {
                sup->start_failed = true;
                (void)pr_err_msg(&sup->fail, EINTR,
                                 "pod '%s': stopped before every container had started",
                                 plan->name);
        }
        if (sup->start_failed) {
                *err = sup->fail;
                r = -(err->code ? err->code : EIO);
                if (opts->on_ready && !sup->ready_sent)
                        opts->on_ready(opts->userdata, r, err);
        } else {
                if (opts->on_ready && !sup->ready_sent)
                        opts->on_ready(opts->userdata, 0, NULL);
                r = (int)sup->result;
        }
        sup_free(sup);
        return r;
}
