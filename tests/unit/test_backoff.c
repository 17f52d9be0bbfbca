#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>

#include "pod/backoff.h"
#include "pod/base/util.h"

TestSuite(backoff);

#define SEC PR_USEC_PER_SEC
#define MSEC PR_USEC_PER_MSEC

Test(backoff, params_default_is_kubelets)
{
        struct backoff_params p;

        backoff_params_init(&p, 0);
        cr_assert_eq(p.base_usec, 10 * SEC);
        cr_assert_eq(p.cap_usec, 300 * SEC);
        cr_assert_eq(p.expire_usec, 600 * SEC);
}

Test(backoff, params_scale_with_base)
{
        struct backoff_params p;

        backoff_params_init(&p, 100 * MSEC);
        cr_assert_eq(p.base_usec, 100 * MSEC);
        cr_assert_eq(p.cap_usec, 3 * SEC);
        cr_assert_eq(p.expire_usec, 6 * SEC);
}

/* A container that crashes one second after each start. */
Test(backoff, curve_doubles_to_the_cap)
{
        static const uint64_t want[] = {0, 10, 20, 40, 80, 160, 300, 300, 300};
        struct backoff_params p;
        struct backoff b = {};
        uint64_t now = 1000 * SEC;

        backoff_params_init(&p, 0);
        for (size_t i = 0; i < PR_ELEMENTSOF(want); i++) {
                uint64_t d = backoff_on_exit(&b, &p, now);

                cr_assert_eq(d, want[i] * SEC, "exit %zu: waited %" PRIu64 "us", i, d);
                now += d + 1 * SEC;
        }
}

Test(backoff, scaled_curve)
{
        static const uint64_t want_ms[] = {0, 100, 200, 400, 800, 1600, 3000, 3000};
        struct backoff_params p;
        struct backoff b = {};
        uint64_t now = 5 * SEC;

        backoff_params_init(&p, 100 * MSEC);
        for (size_t i = 0; i < PR_ELEMENTSOF(want_ms); i++) {
                uint64_t d = backoff_on_exit(&b, &p, now);

                cr_assert_eq(d, want_ms[i] * MSEC, "exit %zu", i);
                now += d + 10 * MSEC;
        }
}

Test(backoff, expires_after_ten_minutes_running)
{
        struct backoff_params p;
        struct backoff b = {};
        uint64_t now = 0, d;

        backoff_params_init(&p, 0);
        cr_assert_eq(backoff_on_exit(&b, &p, now), 0);
        d = backoff_on_exit(&b, &p, now += SEC);
        cr_assert_eq(d, 10 * SEC);
        d = backoff_on_exit(&b, &p, now += d + SEC);
        cr_assert_eq(d, 20 * SEC);
        now += d;
        /* Runs exactly 10 min after its restart: still remembered. */
        d = backoff_on_exit(&b, &p, now + 600 * SEC);
        cr_assert_eq(d, 40 * SEC);
        now += 600 * SEC + d;
        /* Runs 10 min and a bit: forgotten, restarts at once and starts over. */
        cr_assert_eq(backoff_on_exit(&b, &p, now + 600 * SEC + 1), 0);
        now += 600 * SEC + 1;
        cr_assert_eq(backoff_on_exit(&b, &p, now + SEC), 10 * SEC);
}

Test(backoff, reset_forgets)
{
        struct backoff_params p;
        struct backoff b = {};

        backoff_params_init(&p, 0);
        cr_assert_eq(backoff_on_exit(&b, &p, 0), 0);
        cr_assert_eq(backoff_on_exit(&b, &p, SEC), 10 * SEC);
        backoff_reset(&b);
        cr_assert_eq(backoff_on_exit(&b, &p, 12 * SEC), 0);
}

Test(backoff, clock_going_back_starts_over)
{
        struct backoff_params p;
        struct backoff b = {};

        backoff_params_init(&p, 0);
        cr_assert_eq(backoff_on_exit(&b, &p, 100 * SEC), 0);
        cr_assert_eq(backoff_on_exit(&b, &p, 50 * SEC), 0);
}

Test(backoff, restart_policy_decisions)
{
        cr_assert(backoff_should_restart(SPEC_RESTART_ALWAYS, 0));
        cr_assert(backoff_should_restart(SPEC_RESTART_ALWAYS, 1));
        cr_assert(backoff_should_restart(SPEC_RESTART_ALWAYS, 137));
        cr_assert_not(backoff_should_restart(SPEC_RESTART_ON_FAILURE, 0));
        cr_assert(backoff_should_restart(SPEC_RESTART_ON_FAILURE, 1));
        cr_assert(backoff_should_restart(SPEC_RESTART_ON_FAILURE, 143));
        cr_assert_not(backoff_should_restart(SPEC_RESTART_NEVER, 0));
        cr_assert_not(backoff_should_restart(SPEC_RESTART_NEVER, 1));
        cr_assert_not(backoff_should_restart(SPEC_RESTART_NEVER, 137));
}

static void check_duration(uint64_t usec, const char *want)
{
        char buf[BACKOFF_DURATION_MAX];
        size_t n = backoff_format_duration(usec, buf, sizeof(buf));

        cr_assert_str_eq(buf, want, "%" PRIu64 "us", usec);
        cr_assert_eq(n, strlen(want));
}

Test(backoff, go_duration_strings)
{
        check_duration(0, "0s");
        check_duration(1, "1\u00b5s");
        check_duration(999, "999\u00b5s");
        check_duration(MSEC, "1ms");
        check_duration(1500, "1.5ms");
        check_duration(100 * MSEC, "100ms");
        check_duration(SEC, "1s");
        check_duration(1500 * MSEC, "1.5s");
        check_duration(1600 * MSEC, "1.6s");
        check_duration(10 * SEC, "10s");
        check_duration(20 * SEC, "20s");
        check_duration(59 * SEC + 1, "59.000001s");
        check_duration(60 * SEC, "1m0s");
        check_duration(80 * SEC, "1m20s");
        check_duration(160 * SEC, "2m40s");
        check_duration(300 * SEC, "5m0s");
        check_duration(120 * SEC + 500 * MSEC, "2m0.5s");
        check_duration(3600 * SEC, "1h0m0s");
        check_duration(3723 * SEC, "1h2m3s");
}

Test(backoff, duration_truncates_to_buffer)
{
        char buf[4];

        cr_assert_eq(backoff_format_duration(80 * SEC, buf, sizeof(buf)), 3);
        cr_assert_str_eq(buf, "1m2");
        cr_assert_eq(backoff_format_duration(80 * SEC, buf, 0), 0);
}

Test(backoff, crash_loop_message)
{
        _cleanup_free_ char *m = backoff_message(20 * SEC, "app", "web");
        _cleanup_free_ char *m2 = backoff_message(300 * SEC, "app", "web");
        _cleanup_free_ char *m3 = backoff_message(800 * MSEC, "db", "shop");

        cr_assert_str_eq(m, "back-off 20s restarting failed container=app pod=web");
        cr_assert_str_eq(m2, "back-off 5m0s restarting failed container=app pod=web");
        cr_assert_str_eq(m3, "back-off 800ms restarting failed container=db pod=shop");
}
