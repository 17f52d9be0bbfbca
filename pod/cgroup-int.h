/* Private to pod/cgroup*.c: the device allowlist shared by the v1 device
 * controller and the v2 BPF device program. */
#pragma once

#include <stddef.h>

struct pr_error;

struct cg_device_rule {
        char type; /* 'c' or 'b' */
        unsigned major;
        int minor; /* -1: any */
        const char *name;
};

extern const struct cg_device_rule cg_allowed_devices[];
extern const size_t cg_n_allowed_devices;

/* Loads the BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly
 * cg_allowed_devices (rwm) and attaches it to the cgroup2 directory dir
 * (with BPF_F_ALLOW_MULTI, so programs above still apply). The cgroup keeps
 * the program; it goes with the cgroup. */
int cg_devices_attach_bpf(const char *dir, struct pr_error *err);
