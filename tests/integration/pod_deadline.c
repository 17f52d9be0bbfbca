/* spec.activeDeadlineSeconds through the real `podrun` binary: a pod of
 * sleeping containers is stopped once its deadline passes and ends Failed
 * with kubelet's reason and message, its containers terminated; `down` then
 * removes it. Runs in a mount and network namespace of its own (made in
 * .init) with its own --root, --run-dir and netns dir, and leaves nothing
 * behind. Runs as root; skips otherwise. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "pod/base/util.h"
#include "pod/state.h"
#include "tests/integration/e2e_common.h"

static void setup(void)
{
        e2e_setup("deadline");
}

TestSuite(pod_deadline, .init = setup, .fini = e2e_teardown, .timeout = 60);

/* Always, so that nothing but the deadline could end the pod; one container
 * ignores SIGTERM (as PID 1 without a handler) and is killed at the grace
 * period's end. */
static const char deadline_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: late\n"
    "spec:\n  activeDeadlineSeconds: 2\n  terminationGracePeriodSeconds: 1\n"
    "  containers:\n  - name: a\n    image: busybox\n    command: [sleep, '600']\n"
    "  - name: b\n    image: busybox\n    command: [sh, -c, 'trap \"exit 3\" TERM; "
    "while :; do sleep 0.1; done']\n";

Test(pod_deadline, deadline_fails_the_pod_and_stops_its_containers)
{
        _cleanup_free_ char *file = e2e_write_manifest("late", deadline_pod);
        _cleanup_(state_freep) struct pod_state *st = NULL;
        struct e2e_out up, in, psa, down;
        uint64_t started;
        json_object *o;

        up = e2e_podrun("up -d %s", file);
        cr_assert_eq(up.status, 0, "up: %s", up.text);
        st = e2e_read_state("late");
        started = pr_now_mono_usec();
        cr_assert(state_proc_alive(&st->containers[0].proc));
        e2e_wait_gone(&st->supervisor, 20);
        /* Not before the deadline (the supervisor started a moment before
         * we read its state). */
        cr_assert_geq(pr_now_mono_usec() - started, 1500 * 1000ULL);

        in = e2e_podrun("inspect late");
        cr_assert_eq(in.status, 0, "%s", in.text);
        o = json_tokener_parse(in.text);
        cr_assert_not_null(o, "inspect printed: %s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "phase")), "Failed", "%s", in.text);
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "reason")), "DeadlineExceeded");
        cr_assert_str_eq(json_object_get_string(e2e_jget(o, "message")),
                         "Pod was active on the node longer than the specified deadline");
        for (int i = 0; i < 2; i++) {
                json_object *c = json_object_array_get_idx(e2e_jget(o, "containerStatuses"), i);

                cr_assert_not_null(e2e_jget(c, "state.terminated"), "%s", in.text);
                cr_assert_eq(json_object_get_int(e2e_jget(c, "restartCount")), 0, "%s", in.text);
        }
        cr_assert_eq(json_object_get_int(
                         e2e_jget(json_object_array_get_idx(e2e_jget(o, "containerStatuses"), 0),
                                  "state.terminated.exitCode")),
                     137, "%s", in.text);
        cr_assert_eq(json_object_get_int(
                         e2e_jget(json_object_array_get_idx(e2e_jget(o, "containerStatuses"), 1),
                                  "state.terminated.exitCode")),
                     3, "%s", in.text);
        json_object_put(o);
        for (size_t i = 0; i < st->n_containers; i++)
                cr_assert_not(state_proc_alive(&st->containers[i].proc));
        psa = e2e_podrun("ps -a");
        cr_assert(strstr(psa.text, "late"), "ps -a: %s", psa.text);

        down = e2e_podrun("down late");
        cr_assert_eq(down.status, 0, "%s", down.text);
        e2e_assert_clean(e2e_root_dir, "late", st);
        e2e_out_done(&up), e2e_out_done(&in), e2e_out_done(&psa), e2e_out_done(&down);
}
