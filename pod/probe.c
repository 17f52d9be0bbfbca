/* Probes and lifecycle hooks (docs/probes.md): per container, three probe
 * workers on uv_timer_t ticks with kubelet's result state machine, the
 * postStart hook after the start and the preStop hook before the stop
 * signal, and the kill of a container whose liveness or startup probe or
 * postStart hook failed. The handlers themselves (exec, tcpSocket,
 * httpGet, sleep) run in probe-handler.c. It runs on the supervisor's
 * only thread and must never block, sleep, use libuv's thread pool or
 * resolve a name (hosts must be IP addresses), and never write the state
 * file but through sup_save(), and only when something changed. */
#include "pod/probe.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/plan.h"
#include "pod/probe-int.h"
#include "pod/state.h"
#include "pod/supervisor-int.h"

#define DEFAULT_PERIOD_USEC (10 * PR_USEC_PER_SEC)
#define DEFAULT_TIMEOUT_USEC (1 * PR_USEC_PER_SEC)
#define DEFAULT_FAILURE_THRESHOLD 3
/* kubelet's minimumGracePeriodInSeconds after a preStop hook. */
#define MIN_SIGNAL_GRACE_USEC (2 * PR_USEC_PER_SEC)
#define USER_AGENT "kube-probe/1.31"

/* ---- the pure parts ---------------------------------------------------- */

static const char *const kind_names[_PROBE_KIND_MAX] = {
    [PROBE_STARTUP] = "startup",
    [PROBE_LIVENESS] = "liveness",
    [PROBE_READINESS] = "readiness",
};

/* As kubelet's events name them. */
static const char *const kind_titles[_PROBE_KIND_MAX] = {
    [PROBE_STARTUP] = "Startup",
    [PROBE_LIVENESS] = "Liveness",
    [PROBE_READINESS] = "Readiness",
};

const char *probe_kind_to_string(enum probe_kind k)
{
        return k >= 0 && k < _PROBE_KIND_MAX ? kind_names[k] : NULL;
}

enum probe_kind probe_kind_from_string(const char *s)
{
        for (int k = 0; s && k < _PROBE_KIND_MAX; k++)
                if (pr_streq(s, kind_names[k]))
                        return (enum probe_kind)k;
        return _PROBE_KIND_INVALID;
}

void probe_params_from_spec(const struct spec_probe *spec, struct probe_params *ret)
{
        *ret = (struct probe_params){
            .initial_delay_usec = spec->initial_delay_seconds > 0
                                      ? (uint64_t)spec->initial_delay_seconds * PR_USEC_PER_SEC
                                      : 0,
            .period_usec = spec->period_seconds > 0
                               ? (uint64_t)spec->period_seconds * PR_USEC_PER_SEC
                               : DEFAULT_PERIOD_USEC,
            .timeout_usec = spec->timeout_seconds > 0
                                ? (uint64_t)spec->timeout_seconds * PR_USEC_PER_SEC
                                : DEFAULT_TIMEOUT_USEC,
            .success_threshold =
                spec->success_threshold > 0 ? (unsigned)spec->success_threshold : 1,
            .failure_threshold = spec->failure_threshold > 0 ? (unsigned)spec->failure_threshold
                                                             : DEFAULT_FAILURE_THRESHOLD,
        };
}

void probe_state_init(struct probe_state *s, enum probe_kind kind)
{
        *s = (struct probe_state){
            .result = kind == PROBE_READINESS  ? PROBE_RESULT_FAILURE
                      : kind == PROBE_LIVENESS ? PROBE_RESULT_SUCCESS
                                               : PROBE_RESULT_UNKNOWN,
            .last = PROBE_RESULT_UNKNOWN,
        };
}

/* kubelet's worker.doProbe, after the probe has run. */
bool probe_state_record(struct probe_state *s, enum probe_kind kind, const struct probe_params *p,
                        bool success)
{
        enum probe_result r = success ? PROBE_RESULT_SUCCESS : PROBE_RESULT_FAILURE;
        bool changed;

        if (s->on_hold)
                return false;
        if (s->last == r) {
                s->run++;
        } else {
                s->last = r;
                s->run = 1;
        }
        if ((!success && s->run < p->failure_threshold) ||
            (success && s->run < p->success_threshold))
                return false;
        changed = s->result != r;
        s->result = r;
        if (!success && kind != PROBE_READINESS) {
                /* The container will be killed: probing it again would only
                 * count failures of a dying process. */
                s->on_hold = true;
                s->run = 0;
        }
        return changed;
}

bool probe_tick_due(const struct probe_params *p, uint64_t since_start_usec)
{
        return since_start_usec / PR_USEC_PER_SEC >= p->initial_delay_usec / PR_USEC_PER_SEC;
}

uint64_t probe_signal_grace_usec(uint64_t grace_usec, uint64_t used_usec)
{
        uint64_t left = used_usec < grace_usec ? grace_usec - used_usec : 0;

        return left < MIN_SIGNAL_GRACE_USEC ? MIN_SIGNAL_GRACE_USEC : left;
}

int probe_http_status(const char *buf, size_t len, int *ret_code)
{
        const char *eol = memchr(buf, '\n', len);
        int code = 0;
        size_t i;

        if (!eol)
                return len >= 12 && strncmp(buf, "HTTP/", len < 5 ? len : 5) != 0 ? -EBADMSG
                                                                                  : -EAGAIN;
        /* "HTTP/1.1 200 OK": a version, one space, three digits, then a
         * space or the end of the line. */
        if ((size_t)(eol - buf) < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
                return -EBADMSG;
        for (i = 9; i < 12; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
                code = code * 10 + (buf[i] - '0');
        }
        if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
                return -EBADMSG;
        if (code < 100)
                return -EBADMSG;
        *ret_code = code;
        return 0;
}

/* Appends add (taken) to *s. */
static void append_take(char **s, char *add)
{
        char *joined = pr_asprintf("%s%s", *s, add);

        free(*s);
        free(add);
        *s = joined;
}

static bool has_header(const struct spec_http_header *h, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (h[i].name && strcasecmp(h[i].name, name) == 0)
                        return true;
        return false;
}

char *probe_http_request(const char *path, const char *host_port,
                         const struct spec_http_header *headers, size_t n_headers)
{
        _cleanup_free_ char *head = NULL;
        char *req;

        if (!path || !*path)
                path = "/";
        head = pr_asprintf("GET %s%s HTTP/1.1\r\n", *path == '/' ? "" : "/", path);
        /* Go's client, which kubelet uses, sends these unless the spec's
         * headers replace them. */
        if (!has_header(headers, n_headers, "Host"))
                append_take(&head, pr_asprintf("Host: %s\r\n", host_port));
        if (!has_header(headers, n_headers, "User-Agent"))
                append_take(&head, pr_strdup("User-Agent: " USER_AGENT "\r\n"));
        if (!has_header(headers, n_headers, "Accept"))
                append_take(&head, pr_strdup("Accept: */*\r\n"));
        for (size_t i = 0; i < n_headers; i++)
                append_take(&head, pr_asprintf("%s: %s\r\n", headers[i].name,
                                               headers[i].value ? headers[i].value : ""));
        req = pr_asprintf("%sConnection: close\r\n\r\n", head);
        return req;
}

int probe_port(const struct spec_int_or_string *port, const struct spec_container *c, int *ret,
               struct pr_error *err)
{
        if (!port->set)
                return pr_err_msg(err, EINVAL, "no port");
        if (!port->is_string) {
                if (port->number < 1 || port->number > 65535)
                        return pr_err_msg(err, EINVAL, "port %d is out of range",
                                          (int)port->number);
                *ret = (int)port->number;
                return 0;
        }
        for (size_t i = 0; c && i < c->n_ports; i++)
                if (pr_streq(c->ports[i].name, port->string)) {
                        *ret = (int)c->ports[i].container_port;
                        return 0;
                }
        return pr_err_msg(err, ENOENT, "port '%s' is not one of the container's named ports",
                          port->string);
}

struct worker {
        struct probe_ctr *pctr;
        enum probe_kind kind;
        const struct spec_probe *spec;
        struct probe_params params;
        struct probe_state st;
        uv_timer_t tick;
        struct probe_action *act;
};

enum hook_kind { HOOK_NONE, HOOK_POST_START, HOOK_PRE_STOP };

/* Per container, made at its first start and kept across restarts. */
struct probe_ctr {
        struct sup_ctr *ctr;
        struct worker w[_PROBE_KIND_MAX];
        bool has[_PROBE_KIND_MAX];
        uv_timer_t kill_timer;
        unsigned refs; /* one for the owner, one per handle closing */
        bool closed;
        /* The current instance: */
        uint64_t start_usec; /* CLOCK_MONOTONIC */
        bool post_start_done;
        bool started; /* the startup probe succeeded, or there is none */
        struct probe_action *hook;
        enum hook_kind hook_kind;
        bool pre_stop_ran;
        bool pre_stop_for_pod; /* else for our own kill */
        bool pre_stop_cut;     /* the pod's grace ran out during it */
        uint64_t pre_stop_start_usec;
        bool killing;
        bool kill_signalled;
        uint64_t kill_grace_usec;
};

static struct state_container *ctr_state(struct sup_ctr *ctr)
{
        return &ctr->sup->st->containers[ctr->idx];
}

static struct probe_action *run(struct probe_ctr *p, const struct spec_handler *h,
                                uint64_t timeout_usec, probe_action_cb cb, void *owner)
{
        const struct state_proc *proc = &ctr_state(p->ctr)->proc;
        struct probe_target t = {.loop = &p->ctr->sup->loop,
                                 .plan = p->ctr->sup->plan,
                                 .spec = p->ctr->pc->spec,
                                 .pid = proc->pid,
                                 .start_time = proc->start_time};

        return probe_action_start(&t, h, timeout_usec, cb, owner);
}

/* ---- the container's state --------------------------------------------- */

/* The last event, written only when it changes. */
static void set_event(struct probe_ctr *p, const char *text)
{
        struct state_container *c = ctr_state(p->ctr);

        if (pr_streq(c->probes, text))
                return;
        free(c->probes);
        c->probes = text ? pr_strdup(text) : NULL;
        sup_save(p->ctr->sup);
}

/* kubelet: ready once started (startup probe passed), and the readiness
 * probe (if any) succeeds; here also not before postStart has ended. */
static bool compute_ready(const struct probe_ctr *p)
{
        return p->post_start_done && p->started && !p->killing &&
               (!p->has[PROBE_READINESS] ||
                p->w[PROBE_READINESS].st.result == PROBE_RESULT_SUCCESS);
}

static void update_ready(struct probe_ctr *p)
{
        struct state_container *c = ctr_state(p->ctr);
        bool ready = compute_ready(p);

        if (!p->ctr->inst || c->ready == ready)
                return;
        c->ready = ready;
        pr_log_info("pod '%s': container '%s' is %s", p->ctr->sup->plan->name, p->ctr->pc->name,
                    ready ? "ready" : "not ready");
        sup_save(p->ctr->sup);
}

static bool pod_stopping(const struct probe_ctr *p)
{
        return p->ctr->sup->stage >= STAGE_STOP_APPS;
}

/* ---- killing a container: liveness, startup, postStart ------------------ */

static bool start_pre_stop(struct probe_ctr *p, bool for_pod);
static const char *unsupported(const struct spec_handler *h);

static void on_kill_timer(uv_timer_t *t)
{
        struct probe_ctr *p = t->data;

        if (!p->ctr->inst)
                return;
        if (p->hook && p->hook_kind == HOOK_PRE_STOP) {
                /* The preStop hook used the whole grace period: kubelet
                 * cuts it and still gives the signal its 2 s. */
                probe_action_cancel(p->hook);
                p->hook = NULL;
                p->hook_kind = HOOK_NONE;
                p->kill_signalled = true;
                sup_signal_ctr(p->ctr, p->ctr->pc->stop_signal);
                uv_timer_start(&p->kill_timer, on_kill_timer, MIN_SIGNAL_GRACE_USEC / 1000, 0);
                return;
        }
        sup_signal_ctr(p->ctr, SIGKILL);
}

/* As kubelet's killContainer: preStop, the stop signal, SIGKILL when the
 * grace period is over. The exit then goes the usual way (restart by
 * policy). */
static void kill_container(struct probe_ctr *p, uint64_t grace_usec, const char *event)
{
        if (p->killing || pod_stopping(p) || !p->ctr->inst)
                return;
        pr_log_warn("pod '%s': %s", p->ctr->sup->plan->name, event);
        p->killing = true;
        set_event(p, event);
        update_ready(p);
        p->kill_grace_usec = grace_usec;
        uv_timer_start(&p->kill_timer, on_kill_timer, grace_usec / 1000, 0);
        if (grace_usec == 0 || !start_pre_stop(p, false)) {
                p->kill_signalled = true;
                sup_signal_ctr(p->ctr, grace_usec == 0 ? SIGKILL : p->ctr->pc->stop_signal);
        }
}

static uint64_t probe_grace_usec(const struct probe_ctr *p, const struct spec_probe *spec)
{
        if (spec->has_termination_grace_period_seconds)
                return spec->termination_grace_period_seconds > 0
                           ? (uint64_t)spec->termination_grace_period_seconds * PR_USEC_PER_SEC
                           : 0;
        return p->ctr->pc->grace_period_usec;
}

/* ---- hooks -------------------------------------------------------------- */

static void start_probes(struct probe_ctr *p);

static char *hook_failure(struct probe_ctr *p, const struct spec_handler *h, const char *which,
                          const char *msg)
{
        return pr_asprintf("%s: %s lifecycle hook for Container \"%s\" in Pod \"%s\" failed - "
                           "error: %s",
                           which,
                           h->type == SPEC_HANDLER_EXEC       ? "Exec"
                           : h->type == SPEC_HANDLER_HTTP_GET ? "HTTP"
                           : h->type == SPEC_HANDLER_SLEEP    ? "Sleep"
                                                              : "TCP",
                           p->ctr->pc->name, p->ctr->sup->plan->name, msg);
}

static void on_post_start_done(void *owner, bool ok, const char *msg)
{
        struct probe_ctr *p = owner;
        _cleanup_free_ char *event = NULL;

        p->hook = NULL;
        p->hook_kind = HOOK_NONE;
        if (!ok) {
                event = hook_failure(p, &p->ctr->pc->spec->lifecycle.post_start,
                                     "FailedPostStartHook", msg);
                kill_container(p, p->ctr->pc->grace_period_usec, event);
                return;
        }
        p->post_start_done = true;
        start_probes(p);
        update_ready(p);
        sup_ctr_started(p->ctr);
}

static void on_pre_stop_done(void *owner, bool ok, const char *msg)
{
        struct probe_ctr *p = owner;
        uint64_t used = pr_now_mono_usec() - p->pre_stop_start_usec, left;

        p->hook = NULL;
        p->hook_kind = HOOK_NONE;
        if (!ok) {
                _cleanup_free_ char *event = hook_failure(p, &p->ctr->pc->spec->lifecycle.pre_stop,
                                                          "FailedPreStopHook", msg);

                pr_log_warn("pod '%s': container '%s': %s", p->ctr->sup->plan->name,
                            p->ctr->pc->name, event);
                set_event(p, event);
        }
        if (p->pre_stop_for_pod) {
                sup_prestop_done(p->ctr);
                return;
        }
        if (p->kill_signalled)
                return;
        p->kill_signalled = true;
        left = probe_signal_grace_usec(p->kill_grace_usec, used);
        if (uv_timer_get_due_in(&p->kill_timer) * 1000 < left)
                uv_timer_start(&p->kill_timer, on_kill_timer, left / 1000, 0);
        sup_signal_ctr(p->ctr, p->ctr->pc->stop_signal);
}

/* Runs the preStop hook once per instance; false when there is none. */
static bool start_pre_stop(struct probe_ctr *p, bool for_pod)
{
        const struct spec_handler *h = &p->ctr->pc->spec->lifecycle.pre_stop;

        if (p->pre_stop_ran || h->type == SPEC_HANDLER_NONE || unsupported(h) || !p->ctr->inst)
                return false;
        if (p->hook) {
                /* postStart still running: kubelet's kill does not wait for it. */
                probe_action_cancel(p->hook);
                p->hook = NULL;
        }
        p->pre_stop_ran = true;
        p->pre_stop_for_pod = for_pod;
        p->pre_stop_start_usec = pr_now_mono_usec();
        p->hook_kind = HOOK_PRE_STOP;
        /* No timeout of its own: the grace period (the pod's timer, or
         * our kill timer) ends it. */
        p->hook = run(p, h, 0, on_pre_stop_done, p);
        return true;
}

/* ---- probes ------------------------------------------------------------- */

static void on_probe_done(void *owner, bool ok, const char *msg)
{
        struct worker *w = owner;
        struct probe_ctr *p = w->pctr;
        const char *name = p->ctr->pc->name;
        _cleanup_free_ char *event = NULL;
        bool changed;

        w->act = NULL;
        if (p->killing || pod_stopping(p))
                return;
        changed = probe_state_record(&w->st, w->kind, &w->params, ok);
        if (!ok) {
                event = pr_asprintf("%s probe failed: %s", kind_titles[w->kind], msg);
                pr_log_debug("pod '%s': container '%s': %s", p->ctr->sup->plan->name, name, event);
        }
        if (changed && w->st.result == PROBE_RESULT_FAILURE && w->kind != PROBE_READINESS) {
                _cleanup_free_ char *kill_event =
                    pr_asprintf("Container %s failed %s probe, will be restarted (%s)", name,
                                kind_names[w->kind], event);

                kill_container(p, probe_grace_usec(p, w->spec), kill_event);
                return;
        }
        /* Readiness failures say why the container is not ready; those of
         * liveness and startup only matter once they kill it, and must
         * not hide that event. */
        if (event && w->kind == PROBE_READINESS)
                set_event(p, event);
        if (!changed)
                return;
        if (w->kind == PROBE_STARTUP) {
                p->started = true;
                pr_log_info("pod '%s': container '%s': startup probe succeeded",
                            p->ctr->sup->plan->name, name);
        }
        update_ready(p);
        if (w->kind == PROBE_STARTUP)
                sup_ctr_started(p->ctr);
}

static void on_tick(uv_timer_t *t)
{
        struct worker *w = t->data;
        struct probe_ctr *p = w->pctr;

        if (!p->ctr->inst || p->killing || pod_stopping(p) || w->act || w->st.on_hold)
                return;
        if ((w->kind == PROBE_STARTUP) == p->started)
                return;
        if (!probe_tick_due(&w->params, pr_now_mono_usec() - p->start_usec))
                return;
        w->act = run(p, &w->spec->handler, w->params.timeout_usec, on_probe_done, w);
}

static void start_probes(struct probe_ctr *p)
{
        for (int k = 0; k < _PROBE_KIND_MAX; k++) {
                struct worker *w = &p->w[k];

                if (!p->has[k])
                        continue;
                probe_state_init(&w->st, w->kind);
                uv_timer_start(&w->tick, on_tick, 0, w->params.period_usec / 1000);
        }
}

/* ---- the supervisor's calls ---------------------------------------------- */

static const struct spec_probe *spec_probe_of(const struct spec_container *c, enum probe_kind k)
{
        return k == PROBE_STARTUP    ? &c->startup_probe
               : k == PROBE_LIVENESS ? &c->liveness_probe
                                     : &c->readiness_probe;
}

/* Why podrun cannot run a handler, or NULL. */
static const char *unsupported(const struct spec_handler *h)
{
        if (h->type == SPEC_HANDLER_GRPC)
                return "grpc handlers are not supported";
        if (h->type == SPEC_HANDLER_HTTP_GET && h->http_get.scheme == SPEC_SCHEME_HTTPS)
                return "httpGet with scheme HTTPS is not supported";
        return NULL;
}

void probe_warn_unsupported(const struct pod_plan *plan)
{
        for (size_t i = 0; i < plan->n_containers; i++) {
                const struct spec_container *sc = plan->containers[i].spec;
                const struct {
                        const char *what;
                        const struct spec_handler *h;
                } hs[] = {
                    {"startupProbe", sc ? &sc->startup_probe.handler : NULL},
                    {"livenessProbe", sc ? &sc->liveness_probe.handler : NULL},
                    {"readinessProbe", sc ? &sc->readiness_probe.handler : NULL},
                    {"postStart", sc ? &sc->lifecycle.post_start : NULL},
                    {"preStop", sc ? &sc->lifecycle.pre_stop : NULL},
                };

                for (size_t k = 0; sc && k < sizeof(hs) / sizeof(hs[0]); k++)
                        if (unsupported(hs[k].h))
                                pr_log_warn("pod '%s': container '%s': %s: %s; it is ignored",
                                            plan->name, sc->name, hs[k].what, unsupported(hs[k].h));
        }
}

static struct probe_ctr *probe_ctr_make(struct sup_ctr *ctr)
{
        struct probe_ctr *p = pr_calloc(1, sizeof(*p));
        const struct spec_container *sc = ctr->pc->spec;

        p->ctr = ctr;
        p->refs = 1;
        uv_timer_init(&ctr->sup->loop, &p->kill_timer);
        p->kill_timer.data = p;
        for (int k = 0; k < _PROBE_KIND_MAX; k++) {
                struct worker *w = &p->w[k];

                w->pctr = p;
                w->kind = (enum probe_kind)k;
                uv_timer_init(&ctr->sup->loop, &w->tick);
                w->tick.data = w;
                if (!sc)
                        continue;
                w->spec = spec_probe_of(sc, w->kind);
                probe_params_from_spec(w->spec, &w->params);
                /* An unsupported probe is as if absent (warned at `up`). */
                p->has[k] = w->spec->set && w->spec->handler.type != SPEC_HANDLER_NONE &&
                            !unsupported(&w->spec->handler);
        }
        return p;
}

static void reset_instance(struct probe_ctr *p)
{
        if (p->hook)
                probe_action_cancel(p->hook);
        p->hook = NULL;
        p->hook_kind = HOOK_NONE;
        for (int k = 0; k < _PROBE_KIND_MAX; k++) {
                struct worker *w = &p->w[k];

                uv_timer_stop(&w->tick);
                if (w->act)
                        probe_action_cancel(w->act);
                w->act = NULL;
                probe_state_init(&w->st, w->kind);
        }
        uv_timer_stop(&p->kill_timer);
        p->post_start_done = p->started = p->killing = p->kill_signalled = false;
        p->pre_stop_ran = p->pre_stop_for_pod = p->pre_stop_cut = false;
}

bool probe_on_started(struct sup_ctr *ctr)
{
        struct probe_ctr *p;
        const struct spec_handler *post;

        if (!ctr->pc->spec)
                return true;
        if (!ctr->probes)
                ctr->probes = probe_ctr_make(ctr);
        p = ctr->probes;
        reset_instance(p);
        p->start_usec = pr_now_mono_usec();
        p->started = !p->has[PROBE_STARTUP];
        if (!ctr->inst) {
                /* It exited with its start: nothing to run, as before. */
                p->post_start_done = p->started = true;
                return true;
        }
        post = &ctr->pc->spec->lifecycle.post_start;
        if (post->type != SPEC_HANDLER_NONE && !unsupported(post)) {
                p->hook_kind = HOOK_POST_START;
                p->hook = run(p, post, 0, on_post_start_done, p);
                return false;
        }
        p->post_start_done = true;
        start_probes(p);
        return compute_ready(p);
}

bool probe_started(struct sup_ctr *ctr)
{
        struct probe_ctr *p = ctr->probes;

        return !p || (p->post_start_done && p->started);
}

void probe_on_exit(struct sup_ctr *ctr)
{
        if (ctr->probes)
                reset_instance(ctr->probes);
}

bool probe_pre_stop(struct sup_ctr *ctr)
{
        struct probe_ctr *p = ctr->probes;

        if (!p)
                return false;
        if (p->hook && p->hook_kind == HOOK_PRE_STOP) {
                /* Our own kill's preStop is running: its end signals. */
                p->pre_stop_for_pod = true;
                return true;
        }
        return start_pre_stop(p, true);
}

bool probe_grace_over(struct supervisor *sup)
{
        bool any = false;

        for (size_t i = 0; i < sup->plan->n_containers; i++) {
                struct probe_ctr *p = sup->ctrs[i].probes;

                if (!p || !p->hook || p->hook_kind != HOOK_PRE_STOP || p->pre_stop_cut)
                        continue;
                p->pre_stop_cut = true;
                probe_action_cancel(p->hook);
                p->hook = NULL;
                p->hook_kind = HOOK_NONE;
                sup_signal_ctr(p->ctr, p->ctr->pc->stop_signal);
                any = true;
        }
        return any;
}

static void on_probe_ctr_closed(uv_handle_t *h)
{
        struct probe_ctr *p = h->data;

        if (--p->refs == 0)
                free(p);
}

static void close_timer(struct probe_ctr *p, uv_timer_t *t)
{
        /* The timer's data points at its owner; closing, it is the probe_ctr. */
        t->data = p;
        p->refs++;
        uv_close((uv_handle_t *)t, on_probe_ctr_closed);
}

void probe_close(struct sup_ctr *ctr)
{
        struct probe_ctr *p = ctr->probes;

        if (!p || p->closed)
                return;
        p->closed = true;
        reset_instance(p);
        close_timer(p, &p->kill_timer);
        for (int k = 0; k < _PROBE_KIND_MAX; k++)
                close_timer(p, &p->w[k].tick);
        ctr->probes = NULL;
        if (--p->refs == 0)
                free(p);
}
