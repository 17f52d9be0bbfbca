/* Liveness, readiness and startup probes and the postStart / preStop
 * lifecycle hooks, run by the supervisor as kubelet runs them
 * (docs/probes.md). Owned by probe.c. The pure parts (kubelet's result
 * state machine, the tick arithmetic, the HTTP request and status line,
 * named ports) are declared first and unit-tested; the rest is driven by
 * supervisor.c through the sup_ctr it passes. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/specs.h"

struct pod_plan;
struct pr_error;
struct sup_ctr;
struct supervisor;

enum probe_kind {
        PROBE_STARTUP,
        PROBE_LIVENESS,
        PROBE_READINESS,
        _PROBE_KIND_MAX,
        _PROBE_KIND_INVALID = -EINVAL,
};

/* "startup", "liveness", "readiness" */
const char *probe_kind_to_string(enum probe_kind k);
enum probe_kind probe_kind_from_string(const char *s);

enum probe_result {
        PROBE_RESULT_UNKNOWN,
        PROBE_RESULT_SUCCESS,
        PROBE_RESULT_FAILURE,
};

struct probe_params {
        uint64_t initial_delay_usec;
        uint64_t period_usec;
        uint64_t timeout_usec;
        unsigned success_threshold;
        unsigned failure_threshold;
};

/* The spec's fields in microseconds, kubelet's defaults for unset (zero or
 * negative) ones. */
void probe_params_from_spec(const struct spec_probe *spec, struct probe_params *ret);

/* kubelet's worker: the published result, the last raw result and how many
 * times in a row it came. */
struct probe_state {
        enum probe_result result;
        enum probe_result last;
        unsigned run;
        bool on_hold; /* liveness or startup failed: no more probes this instance */
};

/* kubelet's initial results: readiness Failure, liveness Success, startup
 * Unknown. */
void probe_state_init(struct probe_state *s, enum probe_kind kind);

/* Records one probe's outcome; returns whether the published result changed.
 * A result is published after successThreshold successes or
 * failureThreshold failures in a row; a published liveness or startup
 * failure puts the probe on hold until the container restarts. */
bool probe_state_record(struct probe_state *s, enum probe_kind kind, const struct probe_params *p,
                        bool success);

/* Ticks come every period from the container's start, the first at once;
 * kubelet skips those whose whole seconds since the start are fewer than
 * initialDelaySeconds. */
bool probe_tick_due(const struct probe_params *p, uint64_t since_start_usec);

/* The time left for the stop signal after a preStop hook that took used_usec
 * of grace_usec: what remains, but at least 2 s (kubelet's minimum). */
uint64_t probe_signal_grace_usec(uint64_t grace_usec, uint64_t used_usec);

/* The status code of an HTTP/1.x response's status line. -EAGAIN when the
 * line is not complete yet, -EBADMSG when it is not a status line. */
int probe_http_status(const char *buf, size_t len, int *ret_code);

/* kubelet's request: GET path HTTP/1.1, Host (host_port, unless a header
 * says otherwise), User-Agent kube-probe/1.31, Accept, Connection: close, and
 * the spec's headers. Caller frees. */
char *probe_http_request(const char *path, const char *host_port,
                         const struct spec_http_header *headers, size_t n_headers);

/* The number of a port given by number or by the name of one of the
 * container's ports. */
int probe_port(const struct spec_int_or_string *port, const struct spec_container *c, int *ret,
               struct pr_error *err);

/* ---- the supervisor's side ---- */

/* Warns (pr_log) of each probe or hook podrun cannot run and ignores: grpc,
 * httpGet with HTTPS. `up` calls it before the pod starts. */
void probe_warn_unsupported(const struct pod_plan *plan);

/* The container's process has exec'd. Starts its postStart hook, or else
 * its probes. Returns whether the container is ready now (no postStart, no
 * startup probe, no readiness probe). */
bool probe_on_started(struct sup_ctr *ctr);

/* Whether the current instance has started in kubelet's sense: its postStart
 * hook has ended and its startup probe (if any) has succeeded. */
bool probe_started(struct sup_ctr *ctr);

/* The instance has exited (or never ran): everything running for it stops. */
void probe_on_exit(struct sup_ctr *ctr);

/* The pod is stopping and the container is due its stop signal: starts its
 * preStop hook and returns true (the hook's end sends the signal through
 * sup_prestop_done()); false when there is no hook to run. */
bool probe_pre_stop(struct sup_ctr *ctr);

/* The pod's grace period is over: preStop hooks still running are cut short
 * and their containers signalled. Returns true when there were any (kubelet
 * leaves those 2 s more before SIGKILL). */
bool probe_grace_over(struct supervisor *sup);

/* Closes every handle of the container's probes; memory goes in the close
 * callbacks. */
void probe_close(struct sup_ctr *ctr);
