/* What supervisor.c and down.c share and nobody else uses. */
#pragma once

/* In the pod's run dir: the grace period `down --grace-period` asks for,
 * read by the supervisor when the SIGTERM arrives. */
#define SUP_GRACE_FILE "stop-grace"

/* Removes the pod's network (veth, lease, hostPorts) by its name alone;
 * failures are logged and ignored. */
void sup_detach_network(const char *root_dir, const char *name);
