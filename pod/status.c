/* Status words as kubelet and kubectl compute them, from struct pod_state
 * alone: the phase (kubelet_pods.go getPhase), the conditions
 * (status/generate.go), kubectl's STATUS and READY columns (printers.go
 * printPod). It owns these rules; it must never read files, the clock or
 * the process table, so that every rule is a unit test. */
#include "pod/status.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/cleanup.h"
#include "pod/base/util.h"
#include "pod/state.h"

const char *status_exit_reason(int exit_code)
{
        return exit_code == 0 ? "Completed" : "Error";
}

struct init_counts {
        unsigned pending;
        unsigned failed;
};

static struct init_counts count_init(const struct pod_state *st)
{
        struct init_counts n = {};

        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];

                if (!c->init)
                        continue;
                if (c->sidecar) {
                        /* A sidecar counts as initialised once it has started. */
                        if (!c->started && !(c->cur.state == STATE_CTR_TERMINATED))
                                n.pending++;
                        continue;
                }
                switch (c->cur.state) {
                case STATE_CTR_RUNNING:
                        n.pending++;
                        break;
                case STATE_CTR_TERMINATED:
                        if (c->cur.exit_code != 0)
                                n.failed++;
                        break;
                default:
                        if (c->has_last && c->last.state == STATE_CTR_TERMINATED) {
                                if (c->last.exit_code != 0)
                                        n.failed++;
                        } else {
                                n.pending++;
                        }
                        break;
                }
        }
        return n;
}

int status_pod_phase(const struct pod_state *st)
{
        struct init_counts init = count_init(st);
        unsigned running = 0, waiting = 0, stopped = 0, succeeded = 0;

        if (init.failed > 0 && pr_streq(st->restart_policy, "Never"))
                return STATE_PHASE_FAILED;
        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];

                if (c->init)
                        continue;
                switch (c->cur.state) {
                case STATE_CTR_RUNNING:
                        running++;
                        break;
                case STATE_CTR_TERMINATED:
                        stopped++;
                        if (c->cur.exit_code == 0)
                                succeeded++;
                        break;
                default:
                        if (c->has_last && c->last.state == STATE_CTR_TERMINATED)
                                stopped++;
                        else
                                waiting++;
                        break;
                }
        }
        if (init.pending > 0 || init.failed > 0 || waiting > 0)
                return STATE_PHASE_PENDING;
        if (running > 0)
                return STATE_PHASE_RUNNING;
        if (stopped == 0)
                return STATE_PHASE_PENDING;
        if (pr_streq(st->restart_policy, "Always") || !st->restart_policy)
                return STATE_PHASE_RUNNING; /* every container is restarting */
        if (stopped == succeeded)
                return STATE_PHASE_SUCCEEDED;
        if (pr_streq(st->restart_policy, "Never"))
                return STATE_PHASE_FAILED;
        return STATE_PHASE_RUNNING; /* OnFailure: a failed one is restarting */
}

static bool all_ready(const struct pod_state *st)
{
        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];

                if ((!c->init || c->sidecar) && !c->ready)
                        return false;
        }
        return true;
}

static bool set_cond(struct pod_state *st, enum state_cond t, bool status, uint64_t now)
{
        struct state_condition *c = &st->conditions[t];

        if (c->transition_usec && c->status == status)
                return false;
        c->status = status;
        c->transition_usec = now;
        return true;
}

bool status_update_conditions(struct pod_state *st, uint64_t now_usec)
{
        struct init_counts init = count_init(st);
        bool terminal = st->phase == STATE_PHASE_SUCCEEDED || st->phase == STATE_PHASE_FAILED;
        bool ready, changed = false;

        ready = !terminal && !st->terminating && all_ready(st);
        changed |= set_cond(st, STATE_COND_POD_SCHEDULED, true, now_usec);
        changed |=
            set_cond(st, STATE_COND_READY_TO_START, st->infra.pid > 0 && !st->finished, now_usec);
        changed |=
            set_cond(st, STATE_COND_INITIALIZED, init.pending == 0 && init.failed == 0, now_usec);
        changed |= set_cond(st, STATE_COND_CONTAINERS_READY, ready, now_usec);
        changed |= set_cond(st, STATE_COND_READY, ready, now_usec);
        return changed;
}

void status_ready_count(const struct pod_state *st, unsigned *ret_ready, unsigned *ret_total)
{
        unsigned ready = 0, total = 0;

        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];

                if (c->init && !c->sidecar)
                        continue;
                total++;
                if (c->ready && c->cur.state == STATE_CTR_RUNNING)
                        ready++;
        }
        *ret_ready = ready;
        *ret_total = total;
}

/* The init-container part of printPod: NULL when initialisation is over. */
static char *init_word(const struct pod_state *st, unsigned *restarts)
{
        size_t n_init = 0, idx = 0;

        for (size_t i = 0; i < st->n_containers; i++)
                n_init += st->containers[i].init;
        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];
                const struct state_instance *in = &c->cur;

                if (!c->init)
                        continue;
                *restarts += c->restart_count;
                if (in->state == STATE_CTR_TERMINATED && in->exit_code == 0) {
                        idx++;
                        continue;
                }
                if (c->sidecar && c->started) {
                        idx++;
                        continue;
                }
                if (in->state == STATE_CTR_TERMINATED) {
                        if (in->reason && *in->reason)
                                return pr_asprintf("Init:%s", in->reason);
                        if (in->signal)
                                return pr_asprintf("Init:Signal:%d", in->signal);
                        return pr_asprintf("Init:ExitCode:%d", in->exit_code);
                }
                if (in->state == STATE_CTR_WAITING && in->reason && *in->reason &&
                    !pr_streq(in->reason, "PodInitializing"))
                        return pr_asprintf("Init:%s", in->reason);
                return pr_asprintf("Init:%zu/%zu", idx, n_init);
        }
        return NULL;
}

char *status_pod_word(const struct pod_state *st)
{
        _cleanup_free_ char *init = NULL;
        const char *reason;
        char buf[48];
        unsigned restarts = 0;
        bool has_running = false;

        if (st->reason && pr_streq(st->reason, "SupervisorLost"))
                return pr_strdup("SupervisorLost");
        if (st->terminating && !st->finished)
                return pr_strdup("Terminating");
        reason = st->reason && *st->reason ? st->reason : state_phase_to_string(st->phase);
        init = init_word(st, &restarts);
        if (init && !st->conditions[STATE_COND_INITIALIZED].status)
                return PR_TAKE_PTR(init);
        for (size_t i = st->n_containers; i > 0; i--) {
                const struct state_container *c = &st->containers[i - 1];
                const struct state_instance *in = &c->cur;

                if (c->init)
                        continue;
                if (in->state == STATE_CTR_WAITING && in->reason && *in->reason) {
                        reason = in->reason;
                } else if (in->state == STATE_CTR_TERMINATED && in->reason && *in->reason) {
                        reason = in->reason;
                } else if (in->state == STATE_CTR_TERMINATED) {
                        if (in->signal)
                                (void)snprintf(buf, sizeof(buf), "Signal:%d", in->signal);
                        else
                                (void)snprintf(buf, sizeof(buf), "ExitCode:%d", in->exit_code);
                        reason = buf;
                } else if (c->ready && in->state == STATE_CTR_RUNNING) {
                        has_running = true;
                }
        }
        if (pr_streq(reason, "Completed") && has_running)
                reason = st->conditions[STATE_COND_READY].status ? "Running" : "NotReady";
        return pr_strdup(reason ? reason : "Unknown");
}

unsigned status_restarts(const struct pod_state *st)
{
        _cleanup_free_ char *init = NULL;
        unsigned restarts = 0;

        init = init_word(st, &restarts);
        if (init && !st->conditions[STATE_COND_INITIALIZED].status)
                return restarts;
        restarts = 0;
        for (size_t i = 0; i < st->n_containers; i++)
                if (!st->containers[i].init)
                        restarts += st->containers[i].restart_count;
        return restarts;
}

char *status_container_word(const struct state_container *c)
{
        const struct state_instance *in = &c->cur;
        const char *state = state_ctr_state_to_string(in->state);
        const char *reason = in->reason && *in->reason ? in->reason : NULL;

        if (in->state == STATE_CTR_RUNNING)
                return pr_strdup(c->ready ? "running" : "running (not ready)");
        if (in->state == STATE_CTR_TERMINATED) {
                if (in->signal)
                        return pr_asprintf("terminated: %s (exit %d, signal %d)",
                                           reason ? reason : status_exit_reason(in->exit_code),
                                           in->exit_code, in->signal);
                return pr_asprintf("terminated: %s (exit %d)",
                                   reason ? reason : status_exit_reason(in->exit_code),
                                   in->exit_code);
        }
        return reason ? pr_asprintf("%s: %s", state, reason) : pr_strdup(state);
}

void status_mark_supervisor_lost(struct pod_state *st, const bool *alive, uint64_t now_usec)
{
        free(st->reason);
        free(st->message);
        st->phase = STATE_PHASE_UNKNOWN;
        st->reason = pr_strdup("SupervisorLost");
        st->message = pr_asprintf("the supervisor (pid %d) is gone; run 'podrun down %s'",
                                  (int)st->supervisor.pid, st->name);
        for (size_t i = 0; i < st->n_containers; i++) {
                struct state_container *c = &st->containers[i];

                if (c->cur.state != STATE_CTR_RUNNING || (alive && alive[i]))
                        continue;
                free(c->cur.reason);
                free(c->cur.message);
                c->cur.state = STATE_CTR_TERMINATED;
                c->cur.reason = pr_strdup("ContainerStatusUnknown");
                c->cur.message = pr_strdup("The container could not be located when the pod "
                                           "was terminated");
                c->cur.has_exit = true;
                c->cur.exit_code = 137;
                c->cur.finished_usec = now_usec;
                c->ready = false;
        }
        (void)status_update_conditions(st, now_usec);
}

void status_human_duration(uint64_t usec, char buf[static 32])
{
        uint64_t s = usec / PR_USEC_PER_SEC, m = s / 60, h = m / 60, d = h / 24;

        if (s < 120)
                (void)snprintf(buf, 32, "%" PRIu64 "s", s);
        else if (m < 10)
                (void)snprintf(buf, 32, s % 60 ? "%" PRIu64 "m%" PRIu64 "s" : "%" PRIu64 "m", m,
                               s % 60);
        else if (m < 180)
                (void)snprintf(buf, 32, "%" PRIu64 "m", m);
        else if (h < 8)
                (void)snprintf(buf, 32, m % 60 ? "%" PRIu64 "h%" PRIu64 "m" : "%" PRIu64 "h", h,
                               m % 60);
        else if (h < 48)
                (void)snprintf(buf, 32, "%" PRIu64 "h", h);
        else if (h < 24 * 8)
                (void)snprintf(buf, 32, h % 24 ? "%" PRIu64 "d%" PRIu64 "h" : "%" PRIu64 "d", d,
                               h % 24);
        else if (d < 365 * 2)
                (void)snprintf(buf, 32, "%" PRIu64 "d", d);
        else if (d < 365 * 8)
                (void)snprintf(buf, 32, "%" PRIu64 "y%" PRIu64 "d", d / 365, d % 365);
        else
                (void)snprintf(buf, 32, "%" PRIu64 "y", d / 365);
}

static json_object *jtime(uint64_t usec)
{
        char buf[PR_RFC3339_MAX];

        if (!usec)
                return NULL;
        pr_format_rfc3339_usec(usec, buf);
        return json_object_new_string(buf);
}

static json_object *jstr(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

/* containerd names a container by a random id; podrun by what it is:
 * podrun://<pod>/<container>/<restart count>. */
static char *container_id(const struct pod_state *st, const struct state_container *c,
                          unsigned instance)
{
        return pr_asprintf("podrun://%s/%s/%u", st->name, c->name, instance);
}

static json_object *instance_json(const struct state_instance *in, const char *id)
{
        json_object *o = json_object_new_object(), *v = json_object_new_object();

        switch (in->state) {
        case STATE_CTR_RUNNING:
                json_object_object_add(v, "startedAt", jtime(in->started_usec));
                json_object_object_add(o, "running", v);
                break;
        case STATE_CTR_TERMINATED:
                json_object_object_add(v, "exitCode", json_object_new_int(in->exit_code));
                if (in->signal)
                        json_object_object_add(v, "signal", json_object_new_int(in->signal));
                if (in->reason)
                        json_object_object_add(v, "reason", jstr(in->reason));
                if (in->message)
                        json_object_object_add(v, "message", jstr(in->message));
                json_object_object_add(v, "startedAt", jtime(in->started_usec));
                json_object_object_add(v, "finishedAt", jtime(in->finished_usec));
                json_object_object_add(v, "containerID", jstr(id));
                json_object_object_add(o, "terminated", v);
                break;
        default:
                if (in->reason)
                        json_object_object_add(v, "reason", jstr(in->reason));
                if (in->message)
                        json_object_object_add(v, "message", jstr(in->message));
                json_object_object_add(o, "waiting", v);
                break;
        }
        return o;
}

static json_object *container_status_json(const struct pod_state *st,
                                          const struct state_container *c)
{
        json_object *o = json_object_new_object();
        _cleanup_free_ char *id = container_id(st, c, c->restart_count);
        _cleanup_free_ char *last_id =
            container_id(st, c, c->restart_count ? c->restart_count - 1 : 0);
        bool has_process = c->cur.state != STATE_CTR_WAITING;

        json_object_object_add(o, "name", jstr(c->name));
        json_object_object_add(o, "state", instance_json(&c->cur, id));
        json_object_object_add(o, "lastState",
                               c->has_last ? instance_json(&c->last, last_id)
                                           : json_object_new_object());
        json_object_object_add(o, "ready", json_object_new_boolean(c->ready));
        json_object_object_add(o, "restartCount", json_object_new_int((int)c->restart_count));
        json_object_object_add(o, "image", jstr(c->image ? c->image : ""));
        json_object_object_add(o, "imageID", jstr(c->image_id ? c->image_id : ""));
        if (has_process)
                json_object_object_add(o, "containerID", jstr(id));
        json_object_object_add(o, "started", json_object_new_boolean(c->started));
        return o;
}

static json_object *ips_json(const char *ip)
{
        json_object *a = json_object_new_array(), *e;

        if (ip && *ip) {
                e = json_object_new_object();
                json_object_object_add(e, "ip", jstr(ip));
                json_object_array_add(a, e);
        }
        return a;
}

char *status_log_message(const struct pod_state *st)
{
        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];

                if (c->log_error)
                        return pr_asprintf("container '%s': %s; %" PRIu64
                                           " bytes of output dropped",
                                           c->name, c->log_error, c->log_dropped);
        }
        return NULL;
}

char *status_pod_status_json(const struct pod_state *st)
{
        json_object *o = json_object_new_object(), *conds = json_object_new_array(),
                    *init = json_object_new_array(), *apps = json_object_new_array();
        char *text;

        json_object_object_add(o, "phase", jstr(state_phase_to_string(st->phase)));
        for (int i = 0; i < _STATE_COND_MAX; i++) {
                json_object *c;

                if (!st->conditions[i].transition_usec)
                        continue;
                c = json_object_new_object();
                json_object_object_add(c, "type", jstr(state_cond_to_string(i)));
                json_object_object_add(c, "status",
                                       jstr(st->conditions[i].status ? "True" : "False"));
                json_object_object_add(c, "lastProbeTime", NULL);
                json_object_object_add(c, "lastTransitionTime",
                                       jtime(st->conditions[i].transition_usec));
                json_object_array_add(conds, c);
        }
        json_object_object_add(o, "conditions", conds);
        if (st->reason)
                json_object_object_add(o, "reason", jstr(st->reason));
        if (st->message) {
                json_object_object_add(o, "message", jstr(st->message));
        } else {
                _cleanup_free_ char *m = status_log_message(st);

                if (m)
                        json_object_object_add(o, "message", jstr(m));
        }
        json_object_object_add(o, "hostIP", jstr(st->host_ip));
        json_object_object_add(o, "hostIPs", ips_json(st->host_ip));
        json_object_object_add(o, "podIP", jstr(st->pod_ip));
        json_object_object_add(o, "podIPs", ips_json(st->pod_ip));
        json_object_object_add(o, "startTime", jtime(st->start_usec));
        for (size_t i = 0; i < st->n_containers; i++)
                json_object_array_add(st->containers[i].init ? init : apps,
                                      container_status_json(st, &st->containers[i]));
        json_object_object_add(o, "initContainerStatuses", init);
        json_object_object_add(o, "containerStatuses", apps);
        text = pr_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return text;
}
