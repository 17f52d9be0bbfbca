#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "pod/base/util.h"
#include "pod/state.h"
#include "pod/status.h"

TestSuite(status);

static struct state_container *add(struct pod_state *st, const char *name, bool init, bool sidecar,
                                   enum state_ctr_state s)
{
        struct state_container *c = pr_array_grow(&st->containers, &st->n_containers, sizeof(*c));

        c->name = pr_strdup(name);
        c->init = init;
        c->sidecar = sidecar;
        c->cur.state = s;
        if (s == STATE_CTR_RUNNING) {
                c->started = true;
                c->ready = true;
        }
        return c;
}

static void terminate(struct state_container *c, int code, const char *reason)
{
        c->cur.state = STATE_CTR_TERMINATED;
        c->cur.has_exit = true;
        c->cur.exit_code = code;
        free(c->cur.reason);
        c->cur.reason = reason ? pr_strdup(reason) : NULL;
        c->ready = false;
}

static struct pod_state *pod(const char *policy)
{
        struct pod_state *st = pr_calloc(1, sizeof(*st));

        st->name = pr_strdup("web");
        st->restart_policy = pr_strdup(policy);
        st->infra.pid = 42;
        return st;
}

/* Recomputes what the supervisor recomputes after each change. */
static char *word(struct pod_state *st)
{
        st->phase = status_pod_phase(st);
        (void)status_update_conditions(st, 1000);
        return status_pod_word(st);
}

Test(status, running_pod)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w = NULL;
        unsigned ready, total;

        add(st, "a", false, false, STATE_CTR_RUNNING);
        add(st, "b", false, false, STATE_CTR_RUNNING);
        w = word(st);
        cr_assert_str_eq(w, "Running");
        cr_assert_eq(st->phase, STATE_PHASE_RUNNING);
        status_ready_count(st, &ready, &total);
        cr_assert_eq(ready, 2);
        cr_assert_eq(total, 2);
        cr_assert(st->conditions[STATE_COND_READY].status);
        cr_assert(st->conditions[STATE_COND_INITIALIZED].status);
        cr_assert_eq(st->conditions[STATE_COND_READY].transition_usec, 1000);
}

Test(status, completed_and_error)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Never");
        _cleanup_free_ char *w1 = NULL, *w2 = NULL;
        struct state_container *a, *b;

        add(st, "a", false, false, STATE_CTR_RUNNING);
        add(st, "b", false, false, STATE_CTR_RUNNING);
        a = &st->containers[0], b = &st->containers[1]; /* add() may move the array */
        terminate(a, 0, "Completed");
        terminate(b, 0, "Completed");
        w1 = word(st);
        cr_assert_str_eq(w1, "Completed");
        cr_assert_eq(st->phase, STATE_PHASE_SUCCEEDED);
        cr_assert_not(st->conditions[STATE_COND_READY].status);
        terminate(a, 3, "Error");
        w2 = word(st);
        /* kubectl reads the containers last to first: the first one's reason wins. */
        cr_assert_str_eq(w2, "Error");
        cr_assert_eq(st->phase, STATE_PHASE_FAILED);
}

Test(status, completed_beside_running_is_running)
{
        _cleanup_(state_freep) struct pod_state *st = pod("OnFailure");
        _cleanup_free_ char *w = NULL;

        add(st, "a", false, false, STATE_CTR_RUNNING);
        add(st, "b", false, false, STATE_CTR_RUNNING);
        terminate(&st->containers[1], 0, "Completed");
        w = word(st);
        cr_assert_eq(st->phase, STATE_PHASE_RUNNING);
        cr_assert_str_eq(w, "NotReady", "Ready is false while b is not ready");
}

Test(status, crash_loop_back_off)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w = NULL;
        struct state_container *a = add(st, "a", false, false, STATE_CTR_WAITING);

        a->cur.reason = pr_strdup("CrashLoopBackOff");
        a->has_last = true;
        a->last.state = STATE_CTR_TERMINATED;
        a->last.exit_code = 1;
        a->restart_count = 3;
        w = word(st);
        cr_assert_str_eq(w, "CrashLoopBackOff");
        cr_assert_eq(st->phase, STATE_PHASE_RUNNING, "a restarting pod stays Running");
        cr_assert_eq(status_restarts(st), 3);
}

Test(status, init_progress)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w1 = NULL, *w2 = NULL, *w3 = NULL;
        struct state_container *i1, *i2, *app;

        add(st, "i1", true, false, STATE_CTR_RUNNING);
        add(st, "i2", true, false, STATE_CTR_WAITING);
        add(st, "app", false, false, STATE_CTR_WAITING);
        i1 = &st->containers[0], i2 = &st->containers[1], app = &st->containers[2];
        app->cur.reason = pr_strdup("PodInitializing");
        w1 = word(st);
        cr_assert_str_eq(w1, "Init:0/2");
        cr_assert_eq(st->phase, STATE_PHASE_PENDING);
        cr_assert_not(st->conditions[STATE_COND_INITIALIZED].status);
        terminate(i1, 0, "Completed");
        i2->cur.state = STATE_CTR_RUNNING;
        w2 = word(st);
        cr_assert_str_eq(w2, "Init:1/2");
        terminate(i2, 0, "Completed");
        w3 = word(st);
        cr_assert_str_eq(w3, "PodInitializing");
        cr_assert(st->conditions[STATE_COND_INITIALIZED].status);
}

Test(status, init_error_with_never_fails_the_pod)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Never");
        _cleanup_free_ char *w = NULL;
        add(st, "i1", true, false, STATE_CTR_RUNNING);
        add(st, "app", false, false, STATE_CTR_WAITING);
        terminate(&st->containers[0], 1, "Error");
        w = word(st);
        cr_assert_str_eq(w, "Init:Error");
        cr_assert_eq(st->phase, STATE_PHASE_FAILED);
}

Test(status, init_exit_code_without_reason)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w = NULL;

        add(st, "i1", true, false, STATE_CTR_RUNNING);
        add(st, "app", false, false, STATE_CTR_WAITING);
        terminate(&st->containers[0], 2, NULL);
        w = word(st);
        cr_assert_str_eq(w, "Init:ExitCode:2");
        cr_assert_eq(st->phase, STATE_PHASE_PENDING);
}

Test(status, sidecar_counts_in_ready_and_initialises)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w = NULL;
        unsigned ready, total;

        add(st, "side", true, true, STATE_CTR_RUNNING);
        add(st, "app", false, false, STATE_CTR_RUNNING);
        w = word(st);
        cr_assert_str_eq(w, "Running");
        status_ready_count(st, &ready, &total);
        cr_assert_eq(total, 2);
        cr_assert_eq(ready, 2);
}

Test(status, terminating_and_supervisor_lost)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *w1 = NULL, *w2 = NULL, *c = NULL;
        bool alive[1] = {false};

        add(st, "a", false, false, STATE_CTR_RUNNING);
        st->terminating = true;
        w1 = word(st);
        cr_assert_str_eq(w1, "Terminating");
        cr_assert_not(st->conditions[STATE_COND_READY].status);
        st->terminating = false;
        status_mark_supervisor_lost(st, alive, 2000);
        cr_assert_eq(st->phase, STATE_PHASE_UNKNOWN);
        w2 = status_pod_word(st);
        cr_assert_str_eq(w2, "SupervisorLost");
        cr_assert_eq(st->containers[0].cur.state, STATE_CTR_TERMINATED);
        cr_assert_str_eq(st->containers[0].cur.reason, "ContainerStatusUnknown");
        c = status_container_word(&st->containers[0]);
        cr_assert_str_eq(c, "terminated: ContainerStatusUnknown (exit 137)");
}

Test(status, container_words)
{
        struct state_container c = {.cur = {.state = STATE_CTR_RUNNING}, .ready = true};
        _cleanup_free_ char *a = NULL, *b = NULL, *d = NULL;

        a = status_container_word(&c);
        cr_assert_str_eq(a, "running");
        c.cur.state = STATE_CTR_WAITING;
        c.cur.reason = (char *)"CrashLoopBackOff";
        b = status_container_word(&c);
        cr_assert_str_eq(b, "waiting: CrashLoopBackOff");
        c.cur = (struct state_instance){
            .state = STATE_CTR_TERMINATED, .has_exit = true, .exit_code = 143, .signal = 15};
        d = status_container_word(&c);
        cr_assert_str_eq(d, "terminated: Error (exit 143, signal 15)");
        cr_assert_str_eq(status_exit_reason(0), "Completed");
        cr_assert_str_eq(status_exit_reason(1), "Error");
}

Test(status, conditions_keep_transition_times)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");

        add(st, "a", false, false, STATE_CTR_RUNNING);
        st->phase = status_pod_phase(st);
        cr_assert(status_update_conditions(st, 1000));
        cr_assert_not(status_update_conditions(st, 2000), "nothing changed");
        cr_assert_eq(st->conditions[STATE_COND_READY].transition_usec, 1000);
        st->containers[0].ready = false;
        cr_assert(status_update_conditions(st, 3000));
        cr_assert_eq(st->conditions[STATE_COND_READY].transition_usec, 3000);
        cr_assert_eq(st->conditions[STATE_COND_POD_SCHEDULED].transition_usec, 1000);
}

Test(status, human_duration_as_kubectl)
{
        static const struct {
                uint64_t sec;
                const char *text;
        } cases[] = {
            {0, "0s"},          {45, "45s"},         {119, "119s"},       {120, "2m"},
            {150, "2m30s"},     {600, "10m"},        {3 * 3600, "3h"},    {3 * 3600 + 300, "3h5m"},
            {30 * 3600, "30h"}, {50 * 3600, "2d2h"}, {30 * 86400, "30d"}, {800 * 86400, "2y70d"},
        };
        char buf[32];

        for (size_t i = 0; i < PR_ELEMENTSOF(cases); i++) {
                status_human_duration(cases[i].sec * PR_USEC_PER_SEC, buf);
                cr_assert_str_eq(buf, cases[i].text, "%llu s", (unsigned long long)cases[i].sec);
        }
}

static json_object *jget(json_object *o, const char *path)
{
        char *copy = pr_strdup(path), *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (json_object_is_type(o, json_type_array))
                        o = json_object_array_get_idx(o, (size_t)atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        }
        free(copy);
        return o;
}

Test(status, pod_status_json_shape)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *text = NULL;
        struct state_container *c;
        json_object *o;

        st->pod_ip = pr_strdup("10.90.0.3");
        st->start_usec = UINT64_C(1796022211000000);
        add(st, "init", true, false, STATE_CTR_RUNNING);
        add(st, "app", false, false, STATE_CTR_RUNNING);
        terminate(&st->containers[0], 0, "Completed");
        c = &st->containers[1];
        c->image = pr_strdup("docker.io/library/busybox:latest");
        c->restart_count = 1;
        c->cur.started_usec = UINT64_C(1796022212000000);
        c->has_last = true;
        c->last = (struct state_instance){.state = STATE_CTR_TERMINATED,
                                          .has_exit = true,
                                          .exit_code = 1,
                                          .reason = pr_strdup("Error")};
        st->phase = status_pod_phase(st);
        (void)status_update_conditions(st, UINT64_C(1796022213000000));
        text = status_pod_status_json(st);
        o = json_tokener_parse(text);
        cr_assert_not_null(o, "%s", text);
        cr_assert_str_eq(json_object_get_string(jget(o, "phase")), "Running");
        cr_assert_str_eq(json_object_get_string(jget(o, "podIP")), "10.90.0.3");
        cr_assert_str_eq(json_object_get_string(jget(o, "podIPs.0.ip")), "10.90.0.3");
        cr_assert_str_eq(json_object_get_string(jget(o, "startTime")),
                         "2026-11-30T07:03:31.000000000Z");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.0.type")), "PodScheduled");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.4.type")), "Ready");
        cr_assert_str_eq(json_object_get_string(jget(o, "conditions.4.status")), "True");
        cr_assert_not_null(jget(o, "conditions.4.lastTransitionTime"));
        cr_assert_str_eq(json_object_get_string(jget(o, "initContainerStatuses.0.name")), "init");
        cr_assert_eq(
            json_object_get_int(jget(o, "initContainerStatuses.0.state.terminated.exitCode")), 0);
        cr_assert_str_eq(json_object_get_string(jget(o, "containerStatuses.0.name")), "app");
        cr_assert_not_null(jget(o, "containerStatuses.0.state.running.startedAt"));
        cr_assert_str_eq(
            json_object_get_string(jget(o, "containerStatuses.0.lastState.terminated.reason")),
            "Error");
        cr_assert_eq(json_object_get_int(jget(o, "containerStatuses.0.restartCount")), 1);
        cr_assert_str_eq(json_object_get_string(jget(o, "containerStatuses.0.containerID")),
                         "podrun://web/app/1");
        cr_assert(json_object_get_boolean(jget(o, "containerStatuses.0.ready")));
        cr_assert(json_object_get_boolean(jget(o, "containerStatuses.0.started")));
        cr_assert_str_eq(json_object_get_string(jget(o, "containerStatuses.0.image")),
                         "docker.io/library/busybox:latest");
        json_object_put(o);
}

/* A full disk under a container's logs becomes the pod's message, unless
 * the pod already has one of its own (InfraExited, SupervisorLost). */
Test(status, log_loss_is_the_pods_message)
{
        _cleanup_(state_freep) struct pod_state *st = pod("Always");
        _cleanup_free_ char *none = NULL, *msg = NULL, *text = NULL, *text2 = NULL;
        struct state_container *c;
        json_object *o;

        add(st, "app", false, false, STATE_CTR_RUNNING);
        c = add(st, "db", false, false, STATE_CTR_RUNNING);
        none = status_log_message(st);
        cr_assert_null(none);
        c->log_error = pr_strdup("log file '/l/0.log': write: No space left on device");
        c->log_dropped = 4096;
        msg = status_log_message(st);
        cr_assert_str_eq(msg, "container 'db': log file '/l/0.log': write: No space left on "
                              "device; 4096 bytes of output dropped");
        text = status_pod_status_json(st);
        o = json_tokener_parse(text);
        cr_assert_str_eq(json_object_get_string(jget(o, "message")), msg);
        json_object_put(o);
        st->message = pr_strdup("the infra process holding the pod's namespaces exited");
        text2 = status_pod_status_json(st);
        o = json_tokener_parse(text2);
        cr_assert_str_eq(json_object_get_string(jget(o, "message")), st->message);
        json_object_put(o);
}
