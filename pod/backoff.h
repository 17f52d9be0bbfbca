/* kubelet's restart back-off (pkg/kubelet/kuberuntime/kuberuntime_manager.go
 * doBackOff over client-go's flowcontrol.Backoff) as pure functions over a
 * plain struct: no clock, no timers. The supervisor feeds it exit times and
 * arms a uv_timer_t with the delay it returns. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "specs/specs.h"

#define BACKOFF_DEFAULT_BASE_USEC (10 * UINT64_C(1000000))
/* kubelet's MaxContainerBackOff is 300 s, thirty times the 10 s base. */
#define BACKOFF_CAP_FACTOR 30

struct backoff_params {
        uint64_t base_usec;   /* the first delay: 10 s */
        uint64_t cap_usec;    /* the largest delay: 300 s */
        uint64_t expire_usec; /* an entry untouched this long is forgotten: 2 x cap */
};

/* base_usec 0 means kubelet's 10 s; the cap and the expiry scale with it, so
 * `--backoff-base 100ms` gives 100 ms, 200 ms ... 3 s, forgotten after 6 s. */
void backoff_params_init(struct backoff_params *p, uint64_t base_usec);

/* One container's entry. Zero-initialised means "no entry yet". */
struct backoff {
        bool active;
        uint64_t delay_usec;       /* the wait the next exit will get */
        uint64_t last_update_usec; /* when the entry last moved: the last restart */
};

/* The container exited at now_usec (a monotonic clock). Returns how long to
 * wait before restarting it: 0 for the first exit, or when the entry has
 * expired; else the current delay, which then doubles up to the cap. */
uint64_t backoff_on_exit(struct backoff *b, const struct backoff_params *p, uint64_t now_usec);

/* Forgets the entry (the pod is stopping, or the container will not restart). */
void backoff_reset(struct backoff *b);

/* Whether restart_policy restarts a container that exited with exit_code
 * (128 + N for a signal): Always restarts every exit, OnFailure all but 0,
 * Never none. */
bool backoff_should_restart(enum spec_restart_policy policy, int exit_code);

/* A duration the way Go's time.Duration.String() prints it: "0s", "100ms",
 * "1.5s", "20s", "1m20s", "5m0s", "1h0m0s". Returns the length written (the
 * text is cut to fit size, which should be at least BACKOFF_DURATION_MAX). */
#define BACKOFF_DURATION_MAX 32
size_t backoff_format_duration(uint64_t usec, char *buf, size_t size);

/* kubelet's CrashLoopBackOff message:
 * "back-off 20s restarting failed container=app pod=web". Caller frees. */
char *backoff_message(uint64_t delay_usec, const char *container, const char *pod);
