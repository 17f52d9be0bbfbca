#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/state.h"

TestSuite(state);

static struct pod_state *sample_state(void)
{
        struct pod_state *st = pr_calloc(1, sizeof(*st));
        struct state_container *c;

        st->name = pr_strdup("web");
        st->uid = pr_strdup("4f1c-uid");
        st->restart_policy = pr_strdup("Always");
        st->phase = STATE_PHASE_RUNNING;
        st->pod_ip = pr_strdup("10.90.0.2");
        st->created_usec = UINT64_C(1796022211123456);
        st->supervisor = (struct state_proc){.pid = 1234, .start_time = 56789};
        st->conditions[STATE_COND_READY] = (struct state_condition){true, 1796022212000000};
        c = pr_array_grow(&st->containers, &st->n_containers, sizeof(*c));
        c->name = pr_strdup("app");
        c->image = pr_strdup("docker.io/library/busybox:latest");
        c->proc = (struct state_proc){.pid = 1240, .start_time = 56800};
        c->cur.state = STATE_CTR_RUNNING;
        c->cur.started_usec = UINT64_C(1796022211500000);
        c->restart_count = 2;
        c->ready = true;
        c->has_last = true;
        c->last.state = STATE_CTR_TERMINATED;
        c->last.reason = pr_strdup("Error");
        c->last.has_exit = true;
        c->last.exit_code = 137;
        c->last.signal = 9;
        c = pr_array_grow(&st->containers, &st->n_containers, sizeof(*c));
        c->name = pr_strdup("init");
        c->init = true;
        c->cur.state = STATE_CTR_TERMINATED;
        c->cur.has_exit = true;
        c->cur.exit_code = 0;
        c->cur.reason = pr_strdup("Completed");
        c->done = true;
        state_add_resource(st, "netns", "/run/netns/podrun-web");
        state_add_resource(st, "infra", "1235");
        return st;
}

Test(state, json_round_trip)
{
        _cleanup_(state_freep) struct pod_state *st = sample_state(), *back = NULL;
        _cleanup_free_ char *text = state_to_json(st), *again = NULL;
        struct pr_error err = {};
        const struct state_container *c;

        cr_assert_eq(state_from_json(text, &back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back->name, "web");
        cr_assert_eq(back->phase, STATE_PHASE_RUNNING);
        cr_assert_eq(back->created_usec, st->created_usec);
        cr_assert_eq(back->supervisor.pid, 1234);
        cr_assert_eq(back->supervisor.start_time, 56789);
        cr_assert(back->conditions[STATE_COND_READY].status);
        cr_assert_eq(back->conditions[STATE_COND_READY].transition_usec, 1796022212000000);
        cr_assert_eq(back->n_containers, 2);
        c = &back->containers[0];
        cr_assert_eq(c->proc.pid, 1240);
        cr_assert_eq(c->restart_count, 2);
        cr_assert(c->has_last);
        cr_assert_eq(c->last.exit_code, 137);
        cr_assert_eq(c->last.signal, 9);
        cr_assert_str_eq(c->last.reason, "Error");
        cr_assert(back->containers[1].init);
        cr_assert(back->containers[1].done);
        cr_assert_eq(back->n_resources, 2);
        cr_assert_str_eq(back->resources[0].kind, "netns");
        again = state_to_json(back);
        cr_assert_str_eq(again, text, "a round trip changed the file");
}

Test(state, log_loss_round_trip)
{
        _cleanup_(state_freep) struct pod_state *st = sample_state(), *back = NULL;
        _cleanup_free_ char *clean = state_to_json(st), *text = NULL;
        struct pr_error err = {};

        cr_assert_null(strstr(clean, "logError"), "no field while nothing was lost");
        st->containers[0].log_error =
            pr_strdup("log file '/x/0.log': write: No space left on device");
        st->containers[0].log_dropped = UINT64_C(5000000000);
        text = state_to_json(st);
        cr_assert_eq(state_from_json(text, &back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back->containers[0].log_error, st->containers[0].log_error);
        cr_assert_eq(back->containers[0].log_dropped, UINT64_C(5000000000));
        cr_assert_null(back->containers[1].log_error);
        cr_assert_eq(back->containers[1].log_dropped, 0);
}

Test(state, tolerant_of_missing_fields_strict_on_garbage)
{
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct pr_error err = {};

        cr_assert_eq(
            state_from_json("{\"name\":\"x\",\"containers\":[{\"name\":\"a\"}]}", &st, &err), 0,
            "%s", err.msg);
        cr_assert_eq(st->phase, STATE_PHASE_UNKNOWN);
        cr_assert_eq(st->containers[0].cur.state, STATE_CTR_WAITING);
        cr_assert_eq(st->supervisor.pid, 0);
        cr_assert_eq(state_from_json("[1,2]", &st, &err), -EINVAL);
        cr_assert_eq(state_from_json("{\"name\":", &st, &err), -EINVAL);
        cr_assert_eq(state_from_json("{\"name\":\"x\",\"containers\":[{}]}", &st, &err), -EINVAL);
}

Test(state, string_tables_round_trip)
{
        for (int i = 0; i < _STATE_PHASE_MAX; i++)
                cr_assert_eq(state_phase_from_string(state_phase_to_string(i)), i);
        for (int i = 0; i < _STATE_CTR_STATE_MAX; i++)
                cr_assert_eq(state_ctr_state_from_string(state_ctr_state_to_string(i)), i);
        for (int i = 0; i < _STATE_COND_MAX; i++)
                cr_assert_eq(state_cond_from_string(state_cond_to_string(i)), i);
        cr_assert_eq(state_phase_from_string("Nope"), _STATE_PHASE_INVALID);
        cr_assert_null(state_phase_to_string(_STATE_PHASE_MAX));
}

Test(state, parse_time)
{
        uint64_t t;

        cr_assert_eq(state_parse_time("2026-11-30T07:03:31.123456789Z", &t), 0);
        cr_assert_eq(t, UINT64_C(1796022211123456));
        cr_assert_eq(state_parse_time("2026-11-30T07:03:31Z", &t), 0);
        cr_assert_eq(t, UINT64_C(1796022211000000));
        cr_assert_eq(state_parse_time("2026-11-30T08:03:31.5+01:00", &t), 0);
        cr_assert_eq(t, UINT64_C(1796022211500000));
        cr_assert_eq(state_parse_time("2026-11-30 07:03:31Z", &t), -EINVAL);
        cr_assert_eq(state_parse_time("2026-11-30T07:03:31", &t), -EINVAL);
        cr_assert_eq(state_parse_time(NULL, &t), -EINVAL);
}

Test(state, resources_add_remove)
{
        _cleanup_(state_freep) struct pod_state *st = sample_state();

        state_add_resource(st, "netns", "/run/netns/podrun-web");
        cr_assert_eq(st->n_resources, 2, "duplicates are recorded once");
        cr_assert(state_remove_resource(st, "netns", "/run/netns/podrun-web"));
        cr_assert_not(state_remove_resource(st, "netns", "/run/netns/podrun-web"));
        cr_assert_eq(st->n_resources, 1);
        cr_assert_str_eq(st->resources[0].kind, "infra");
}

Test(state, write_read_list_and_lock)
{
        char dir[] = "/tmp/podrun-state-XXXXXX";
        struct pr_error err = {};
        _cleanup_(state_freep) struct pod_state *st = sample_state(), *back = NULL;
        _cleanup_free_ char *pod_dir = NULL, *path = NULL, *api_dir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int fd, fd2;

        cr_assert_not_null(mkdtemp(dir));
        cr_assert_eq(state_list(dir, &names, &err), 0, "%s", err.msg);
        cr_assert_null(names[0], "a missing pods dir is an empty list");
        names = pr_strv_free(names);
        pod_dir = state_pod_dir(dir, "web");
        cr_assert_eq(state_lock(pod_dir, false, false, &err), -ENOENT);
        fd = state_lock(pod_dir, true, false, &err);
        cr_assert_geq(fd, 0, "%s", err.msg);
        cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        fd2 = state_lock(pod_dir, false, false, &err);
        cr_assert_eq(fd2, -EBUSY, "a second lock must fail while the first is held");
        path = state_path(dir, "web");
        cr_assert_eq(state_write(st, path, &err), 0, "%s", err.msg);
        cr_assert_eq(state_read(path, &back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back->pod_ip, "10.90.0.2");
        api_dir = state_pod_dir(dir, "api");
        cr_assert_eq(pr_mkdir_p(api_dir, 0700, &err), 0);
        cr_assert_eq(state_list(dir, &names, &err), 0);
        cr_assert_str_eq(names[0], "api");
        cr_assert_str_eq(names[1], "web");
        cr_assert_null(names[2]);
        close(fd);
        fd2 = state_lock(pod_dir, false, false, &err);
        cr_assert_geq(fd2, 0, "%s", err.msg);
        close(fd2);
        cr_assert_eq(pr_rm_rf(dir, &err), 0, "%s", err.msg);
}

Test(state, proc_check_by_start_time)
{
        struct pr_error err = {};
        struct state_proc self, fake;
        pid_t child;
        int status;

        cr_assert_eq(state_proc_get(getpid(), &self, &err), 0, "%s", err.msg);
        cr_assert(self.start_time > 0);
        cr_assert(state_proc_alive(&self));
        fake = self;
        fake.start_time++;
        cr_assert_not(state_proc_alive(&fake), "a reused pid must not look alive");
        cr_assert_eq(state_proc_kill(&fake, 0), -ESRCH);
        cr_assert_eq(state_proc_kill(&self, 0), 0);
        child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        cr_assert_eq(state_proc_get(child, &fake, &err), 0);
        cr_assert_eq(state_proc_kill(&fake, SIGKILL), 0);
        cr_assert_eq(waitpid(child, &status, 0), child);
        cr_assert(WIFSIGNALED(status));
        cr_assert_not(state_proc_alive(&fake));
        cr_assert_eq(state_proc_kill(&fake, SIGKILL), -ESRCH);
}
