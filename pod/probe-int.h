/* Between probe.c and probe-handler.c: one run of a handler. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct pod_plan;
struct spec_container;
struct spec_handler;
struct probe_action;

/* What a handler runs against: the container's PID 1 (for exec) and the
 * pod (its network namespace and IP, for connections). */
struct probe_target {
        uv_loop_t *loop;
        const struct pod_plan *plan;
        const struct spec_container *spec; /* its named ports */
        pid_t pid;
        uint64_t start_time;
};

/* ok, and a message in kubelet's words on failure (the output of an exec). */
typedef void (*probe_action_cb)(void *owner, bool ok, const char *msg);

/* Starts the handler; timeout_usec 0 is none. Whatever happens, the result
 * comes later through cb, exactly once, never from inside this call. */
struct probe_action *probe_action_start(const struct probe_target *t, const struct spec_handler *h,
                                        uint64_t timeout_usec, probe_action_cb cb, void *owner);

/* Stops it (an exec command is killed); cb is not called. Memory goes once
 * its handles are closed. */
void probe_action_cancel(struct probe_action *a);
