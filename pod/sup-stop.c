/* The pod's termination in kubelet's order: the stop signal (or the preStop
 * hook) to the app and init containers, then to the sidecars in the reverse
 * order of their start, each group within the grace period, and SIGKILL
 * for what is left when it runs out; then the end (supervisor.c). It must
 * never reap: an instance's exit arrives through sup-ctr.c. */
#include "pod/supervisor-int.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/probe.h"
#include "pod/state.h"

/* kubelet leaves sidecars at least this long after a slow app container. */
#define MIN_SIDECAR_GRACE_USEC (2 * PR_USEC_PER_SEC)

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

void sup_check_stop_progress(struct supervisor *sup)
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
                sup_finish(sup);
}

void sup_stop_pod(struct supervisor *sup, enum sup_result result, bool remove_all)
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
        sup_check_stop_progress(sup);
}
