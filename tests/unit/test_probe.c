/* The pure parts of probe.c: kubelet's result state machine (thresholds,
 * the hold after a liveness or startup failure), the tick arithmetic, the
 * grace left after preStop, the HTTP request and status line, named ports. */
#include <criterion/criterion.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/probe.h"
#include "specs/specs.h"

static struct probe_params params(unsigned success, unsigned failure)
{
        return (struct probe_params){.period_usec = PR_USEC_PER_SEC,
                                     .timeout_usec = PR_USEC_PER_SEC,
                                     .success_threshold = success,
                                     .failure_threshold = failure};
}

Test(probe, kind_round_trip)
{
        for (int k = 0; k < _PROBE_KIND_MAX; k++)
                cr_assert_eq(probe_kind_from_string(probe_kind_to_string((enum probe_kind)k)), k);
        cr_assert_str_eq(probe_kind_to_string(PROBE_LIVENESS), "liveness");
        cr_assert_eq(probe_kind_from_string("Liveness"), _PROBE_KIND_INVALID);
        cr_assert_null(probe_kind_to_string(_PROBE_KIND_MAX));
}

Test(probe, defaults)
{
        struct spec_probe spec = {.set = true};
        struct probe_params p;

        probe_params_from_spec(&spec, &p);
        cr_assert_eq(p.initial_delay_usec, 0);
        cr_assert_eq(p.period_usec, 10 * PR_USEC_PER_SEC);
        cr_assert_eq(p.timeout_usec, 1 * PR_USEC_PER_SEC);
        cr_assert_eq(p.success_threshold, 1);
        cr_assert_eq(p.failure_threshold, 3);
        spec.initial_delay_seconds = 5;
        spec.period_seconds = 2;
        spec.timeout_seconds = 3;
        spec.success_threshold = 2;
        spec.failure_threshold = 7;
        probe_params_from_spec(&spec, &p);
        cr_assert_eq(p.initial_delay_usec, 5 * PR_USEC_PER_SEC);
        cr_assert_eq(p.period_usec, 2 * PR_USEC_PER_SEC);
        cr_assert_eq(p.timeout_usec, 3 * PR_USEC_PER_SEC);
        cr_assert_eq(p.success_threshold, 2);
        cr_assert_eq(p.failure_threshold, 7);
}

Test(probe, initial_results)
{
        struct probe_state s;

        probe_state_init(&s, PROBE_READINESS);
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
        probe_state_init(&s, PROBE_LIVENESS);
        cr_assert_eq(s.result, PROBE_RESULT_SUCCESS);
        probe_state_init(&s, PROBE_STARTUP);
        cr_assert_eq(s.result, PROBE_RESULT_UNKNOWN);
}

Test(probe, readiness_thresholds)
{
        struct probe_params p = params(2, 3);
        struct probe_state s;

        probe_state_init(&s, PROBE_READINESS);
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, true));
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
        /* A failure breaks the run of successes. */
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, false));
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, true));
        cr_assert(probe_state_record(&s, PROBE_READINESS, &p, true));
        cr_assert_eq(s.result, PROBE_RESULT_SUCCESS);
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, true));
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, false));
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, false));
        cr_assert_eq(s.result, PROBE_RESULT_SUCCESS);
        cr_assert(probe_state_record(&s, PROBE_READINESS, &p, false));
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
        /* Readiness goes on probing after a failure. */
        cr_assert_not(s.on_hold);
        cr_assert_not(probe_state_record(&s, PROBE_READINESS, &p, true));
        cr_assert(probe_state_record(&s, PROBE_READINESS, &p, true));
}

Test(probe, liveness_failure_holds)
{
        struct probe_params p = params(1, 2);
        struct probe_state s;

        probe_state_init(&s, PROBE_LIVENESS);
        cr_assert_not(probe_state_record(&s, PROBE_LIVENESS, &p, false));
        cr_assert_not(probe_state_record(&s, PROBE_LIVENESS, &p, true));
        cr_assert_not(probe_state_record(&s, PROBE_LIVENESS, &p, false));
        cr_assert(probe_state_record(&s, PROBE_LIVENESS, &p, false));
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
        cr_assert(s.on_hold);
        /* Held until the container restarts (a new probe_state_init). */
        cr_assert_not(probe_state_record(&s, PROBE_LIVENESS, &p, true));
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
}

Test(probe, startup_success_and_failure)
{
        struct probe_params p = params(1, 3);
        struct probe_state s;

        probe_state_init(&s, PROBE_STARTUP);
        cr_assert_not(probe_state_record(&s, PROBE_STARTUP, &p, false));
        cr_assert_not(probe_state_record(&s, PROBE_STARTUP, &p, false));
        cr_assert(probe_state_record(&s, PROBE_STARTUP, &p, true));
        cr_assert_eq(s.result, PROBE_RESULT_SUCCESS);
        probe_state_init(&s, PROBE_STARTUP);
        for (int i = 0; i < 2; i++)
                cr_assert_not(probe_state_record(&s, PROBE_STARTUP, &p, false));
        cr_assert(probe_state_record(&s, PROBE_STARTUP, &p, false));
        cr_assert_eq(s.result, PROBE_RESULT_FAILURE);
        cr_assert(s.on_hold);
}

Test(probe, tick_due)
{
        struct probe_params p = params(1, 3);

        cr_assert(probe_tick_due(&p, 0));
        p.initial_delay_usec = 3 * PR_USEC_PER_SEC;
        cr_assert_not(probe_tick_due(&p, 0));
        /* Whole seconds, as kubelet truncates them. */
        cr_assert_not(probe_tick_due(&p, 2999999));
        cr_assert(probe_tick_due(&p, 3 * PR_USEC_PER_SEC));
        cr_assert(probe_tick_due(&p, 60 * PR_USEC_PER_SEC));
}

Test(probe, signal_grace)
{
        uint64_t s = PR_USEC_PER_SEC;

        cr_assert_eq(probe_signal_grace_usec(30 * s, 1 * s), 29 * s);
        cr_assert_eq(probe_signal_grace_usec(30 * s, 29 * s), 2 * s);
        cr_assert_eq(probe_signal_grace_usec(30 * s, 40 * s), 2 * s);
        cr_assert_eq(probe_signal_grace_usec(0, 0), 2 * s);
}

Test(probe, http_status)
{
        int code = 0;

        cr_assert_eq(probe_http_status("HTTP/1.1 200 OK\r\n", 17, &code), 0);
        cr_assert_eq(code, 200);
        cr_assert_eq(probe_http_status("HTTP/1.0 404\r\n", 14, &code), 0);
        cr_assert_eq(code, 404);
        cr_assert_eq(probe_http_status("HTTP/1.1 302 Found\nLocation: /\n", 31, &code), 0);
        cr_assert_eq(code, 302);
        cr_assert_eq(probe_http_status("HTTP/1.1 20", 11, &code), -EAGAIN);
        cr_assert_eq(probe_http_status("", 0, &code), -EAGAIN);
        cr_assert_eq(probe_http_status("SSH-2.0-OpenSSH_9.2\r\n", 21, &code), -EBADMSG);
        cr_assert_eq(probe_http_status("garbage without a newline", 25, &code), -EBADMSG);
        cr_assert_eq(probe_http_status("HTTP/1.1 2x0 OK\r\n", 17, &code), -EBADMSG);
        cr_assert_eq(probe_http_status("HTTP/1.1 2000 OK\r\n", 18, &code), -EBADMSG);
        cr_assert_eq(probe_http_status("HTTP/1.1 099 OK\r\n", 17, &code), -EBADMSG);
}

Test(probe, http_request)
{
        char n0[] = "X-Probe", v0[] = "1", n1[] = "host", v1[] = "example.test";
        struct spec_http_header h[] = {{.name = n0, .value = v0}, {.name = n1, .value = v1}};
        char *r;

        r = probe_http_request("/healthz", "10.0.0.2:8080", NULL, 0);
        cr_assert_str_eq(r, "GET /healthz HTTP/1.1\r\nHost: 10.0.0.2:8080\r\n"
                            "User-Agent: kube-probe/1.31\r\nAccept: */*\r\n"
                            "Connection: close\r\n\r\n");
        free(r);
        r = probe_http_request(NULL, "10.0.0.2:80", h, 2);
        cr_assert_str_eq(r, "GET / HTTP/1.1\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\n"
                            "X-Probe: 1\r\nhost: example.test\r\nConnection: close\r\n\r\n");
        free(r);
        r = probe_http_request("ready?x=1", "127.0.0.1:80", NULL, 0);
        cr_assert(strncmp(r, "GET /ready?x=1 HTTP/1.1\r\n", 25) == 0, "%s", r);
        free(r);
}

Test(probe, named_ports)
{
        char metrics[] = "metrics", http[] = "http", grpc[] = "grpc";
        struct spec_port ports[] = {{.name = metrics, .container_port = 9100},
                                    {.name = http, .container_port = 8080}};
        struct spec_container c = {.n_ports = 2, .ports = ports};
        struct spec_int_or_string by_name = {.set = true, .is_string = true, .string = http};
        struct spec_int_or_string missing = {.set = true, .is_string = true, .string = grpc};
        struct spec_int_or_string num = {.set = true, .number = 81};
        struct spec_int_or_string bad = {.set = true, .number = 70000};
        struct pr_error err = {};
        int port = 0;

        cr_assert_eq(probe_port(&by_name, &c, &port, &err), 0);
        cr_assert_eq(port, 8080);
        cr_assert_eq(probe_port(&num, &c, &port, &err), 0);
        cr_assert_eq(port, 81);
        cr_assert_eq(probe_port(&missing, &c, &port, &err), -ENOENT);
        cr_assert_str_eq(err.msg, "port 'grpc' is not one of the container's named ports");
        cr_assert_eq(probe_port(&bad, &c, &port, &err), -EINVAL);
}
