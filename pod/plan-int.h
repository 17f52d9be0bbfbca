/* What plan.c and plan-user.c share and nobody else uses. */
#pragma once

#include "pod/plan.h"

struct image;
struct pr_error;

/* uid, gid and supplementary groups of pc: runAsUser/runAsGroup (container
 * over pod), else the image's User looked up inside the image; then
 * supplementalGroups and fsGroup; runAsNonRoot checked. */
int plan_user_build(struct plan_container *pc, const struct spec_pod *spec, const struct image *img,
                    struct pr_error *err);
