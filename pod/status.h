/* Pure functions from a pod's recorded state to the words Kubernetes and
 * kubectl use: the pod phase (kubelet's getPhase), the conditions, the
 * container reasons, and kubectl's STATUS and READY columns. Owned by
 * status.c; no I/O, no clock (callers pass the time). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct pod_state;
struct state_container;

/* kubelet's getPhase over the containers' states. */
int status_pod_phase(const struct pod_state *st);

/* Recomputes the conditions; a status that changes (or is set the first
 * time) gets now_usec as its lastTransitionTime. Returns whether anything
 * changed. */
bool status_update_conditions(struct pod_state *st, uint64_t now_usec);

/* kubectl get pods' STATUS word: Running, Completed, Error, CrashLoopBackOff,
 * Init:1/2, Init:Error, PodInitializing, Terminating, ... Caller frees. */
char *status_pod_word(const struct pod_state *st);

/* READY as "ready/total" (sidecars count, as kubectl counts them) and the
 * RESTARTS column as kubectl sums it. */
void status_ready_count(const struct pod_state *st, unsigned *ret_ready, unsigned *ret_total);
unsigned status_restarts(const struct pod_state *st);

/* A one-line description of a container for `ps`: "running",
 * "waiting: CrashLoopBackOff", "terminated: Error (exit 1)". Caller frees. */
char *status_container_word(const struct state_container *c);

/* The terminated reason kubelet gives an exit: Completed for 0, Error
 * otherwise (OOMKilled and StartError are set by whoever knows). */
const char *status_exit_reason(int exit_code);

/* Makes the state tell the truth when the supervisor is gone without
 * finishing: phase Unknown, reason SupervisorLost, and every container it
 * recorded as running whose process is gone (alive[i] false) terminated
 * with kubelet's ContainerStatusUnknown. alive may be NULL (all gone). */
void status_mark_supervisor_lost(struct pod_state *st, const bool *alive, uint64_t now_usec);

/* kubectl's AGE text (apimachinery duration.HumanDuration): "45s", "2m30s",
 * "3h5m", "4d"... buf must hold 32 bytes. */
void status_human_duration(uint64_t usec, char buf[static 32]);

/* What inspect shows as the pod's message when nothing else set one: the
 * first container whose log could not be written (a full disk), with the
 * bytes dropped. NULL when every line was written. Caller frees. */
char *status_log_message(const struct pod_state *st);

/* The pod's status as a Kubernetes PodStatus object, JSON text (for
 * `podrun inspect`). Caller frees. */
char *status_pod_status_json(const struct pod_state *st);
