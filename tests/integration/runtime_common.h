/* Shared by the runtime integration tests: a temporary --root/--run-dir
 * with a test image (the probe and busybox sh), pods and containers built by
 * hand as plain plan data, and helpers to run them and to check that
 * nothing is left. Every helper asserts with criterion. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "pod/plan.h"
#include "pod/runtime.h"

#define TIMEOUT_MS 20000
#define MAX_CTRS 4
#define MAX_MOUNTS 4

struct cg;
struct pr_error;

extern char t_tmp[64];
extern char *t_image_dir;
extern char *t_pause_path;

struct tctr {
        struct plan_container c;
        struct plan_mount mounts[MAX_MOUNTS];
        struct ctr_process proc;
        bool started;
};

struct tpod {
        struct spec_pod spec;
        struct pod_plan plan;
        struct plan_volume volumes[3];
        struct tctr ctrs[MAX_CTRS];
        size_t n_ctrs;
        struct infra infra;
        bool infra_started;
};

void t_setup(void);
void t_track(int pidfd);
void t_teardown(void);
/* A pod cgroup "name" under a parent named after this test process. */
int t_cg_pod_create(const char *name, struct cg **ret, struct pr_error *err);
/* Removes the pod cgroup, killing what is left in it, and its parent in
 * every hierarchy; frees and clears *pod. NULL-safe. */
void t_cg_pod_remove(struct cg **pod);
void t_pod_init(struct tpod *p, const char *name, bool share_pid);
struct tctr *t_pod_add(struct tpod *p, const char *name, const char *args);
void t_mount(struct tctr *t, const struct plan_volume *v, const char *target, const char *sub_path,
             bool read_only);
void t_pod_start(struct tpod *p);
void t_spawn(struct tpod *p, struct tctr *t);
/* t_spawn() with ctr_spawn()'s options (an after_clone hook, a profile). */
void t_spawn_with(struct tpod *p, struct tctr *t, const struct ctr_spawn_opts *opts);
char *t_read_output(int fd, const char *until);
int t_start_result(struct tctr *t, struct pr_error *err);
int t_wait_exit(struct tctr *t);
char *t_run(struct tpod *p, struct tctr *t, int *ret_status);
bool t_mounted_under(const char *prefix);
bool t_exists(const char *path);
void t_pod_down(struct tpod *p);
char *t_ns_of(const char *out, const char *name);
char *t_host_ns(pid_t pid, const char *name);
