/* The per-pod supervisor loop. It owns the lifecycle of one pod and its
 * loop: the state file (written on every change), the infra, the signals
 * that stop the pod, and the end (the infra stopped, the removal of what the
 * pod made). The containers are in sup-ctr.c (instances, starts, exits,
 * restarts by policy with kubelet's back-off), their output in
 * sup-output.c, termination in kubelet's order (apps, then sidecars, then
 * the infra) in sup-stop.c, the host objects in sup-host.c. It runs
 * single-threaded on libuv and must never use libuv's thread pool (no
 * uv_fs_* with callbacks, no uv_queue_work, no uv_getaddrinfo): the runtime
 * forks and clones from this thread. It must never print (errors go to
 * on_ready or pr_log) and never reap with waitpid(-1): every child we track
 * is reaped by its pidfd.
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
#include "pod/userns.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define INFRA_STOP_TIMEOUT_USEC (2 * PR_USEC_PER_SEC)
#define INFRA_GONE_DELAY_MSEC 50

/* ---- state ---------------------------------------------------------- */

struct state_container *sup_ctr_state(struct sup_ctr *ctr)
{
        return &ctr->sup->st->containers[ctr->idx];
}

void sup_save(struct supervisor *sup)
{
        struct pr_error err = {};

        if (!sup->phase_forced)
                sup->st->phase = status_pod_phase(sup->st);
        (void)status_update_conditions(sup->st, pr_now_real_usec());
        if (state_write(sup->st, sup->plan->state_path, &err) < 0)
                pr_log_warn("%s; ignoring", err.msg);
}

void sup_set_str(char **field, const char *value)
{
        free(*field);
        *field = value ? pr_strdup(value) : NULL;
}

void sup_set_waiting(struct state_container *c, const char *reason, const char *message)
{
        c->cur.state = STATE_CTR_WAITING;
        c->cur.has_exit = false;
        c->cur.exit_code = 0;
        c->cur.signal = 0;
        c->cur.started_usec = 0;
        c->cur.finished_usec = 0;
        sup_set_str(&c->cur.reason, reason);
        sup_set_str(&c->cur.message, message);
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
                sup_set_waiting(
                    c, pc->init || plan->n_init == 0 ? "ContainerCreating" : "PodInitializing",
                    NULL);
        }
        return st;
}

/* The pod cannot start: remember why (the first reason wins). msg is taken. */
void sup_fail_start(struct supervisor *sup, char *msg)
{
        if (!sup->start_failed) {
                sup->start_failed = true;
                (void)pr_err_msg(&sup->fail, EIO, "pod '%s': %s", sup->plan->name, msg);
        }
        free(msg);
}

/* ---- the infra ------------------------------------------------------ */

static void on_infra_gone(uv_timer_t *t)
{
        struct supervisor *sup = t->data;

        if (sup->stage >= STAGE_STOP_APPS)
                return;
        pr_log_error("pod '%s': the infra process (pid %d) exited; stopping the pod",
                     sup->plan->name, (int)sup->infra.pid);
        sup_set_str(&sup->st->reason, "InfraExited");
        sup_set_str(&sup->st->message, "the infra process holding the pod's namespaces exited");
        sup->phase_forced = true;
        sup->st->phase = STATE_PHASE_FAILED;
        if (!sup->ready_sent)
                sup_fail_start(sup, pr_strdup("the infra process exited"));
        sup_stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
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
        sup_set_str(&sup->st->reason, "DeadlineExceeded");
        sup_set_str(&sup->st->message,
                    "Pod was active on the node longer than the specified deadline");
        sup->phase_forced = true;
        sup->st->phase = STATE_PHASE_FAILED;
        if (!sup->ready_sent)
                sup_fail_start(sup, pr_strdup("active deadline exceeded before every container had "
                                              "started"));
        sup_stop_pod(sup, SUP_FAILED, !sup->opts->keep_completed);
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
         * the pod is stopped rather than failed. sup_stop_pod() re-arms this
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
                        sup_inst_reap(inst);
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
        sup_stop_pod(sup, SUP_STOPPED, true);
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
void sup_finish(struct supervisor *sup)
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
                sup_finish(sup);
        } else {
                /* From the pod's start, as kubelet counts from its startTime. */
                if (plan->spec && plan->spec->active_deadline_seconds.set)
                        uv_timer_start(&sup->deadline_timer, on_deadline,
                                       (uint64_t)plan->spec->active_deadline_seconds.value * 1000,
                                       0);
                sup_start_next(sup);
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
