/* Resolving the [POD/]CONTAINER argument of `podrun logs` and `podrun exec`
 * against the state files under the run dir. Owned by podref.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pod/base/cleanup.h"
#include "pod/state.h"

struct pr_error;

struct podref {
        struct pod_state *state; /* the pod's state, as read */
        char *state_path;
        char *state_dir;
        /* Index into state->containers; -1 when the reference named the pod
         * alone and whole_pod was allowed (--all-containers). */
        ssize_t index;
};

/* "POD/CONTAINER" names both; "NAME" is the container NAME when exactly one
 * pod has one (an ambiguous name is an error listing "pod/container"
 * candidates), else the pod NAME, which must then have exactly one app
 * container unless whole_pod. A missing pod or container is -ENOENT with
 * kubectl's wording. */
int podref_resolve(const char *run_dir, const char *ref, bool whole_pod, struct podref *ret,
                   struct pr_error *err);

void podref_done(struct podref *p);

/* The log directory of a container: the state's logDir, else
 * <root>/pods/<pod>/logs/<name>. Caller frees. */
char *podref_log_dir(const struct pod_state *st, const struct state_container *c,
                     const char *root_dir);
