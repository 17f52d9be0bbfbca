/* Shared by the end-to-end tests that run the real `podrun` binary: a mount
 * and network namespace of the test's own, a temporary --root, --run-dir
 * and netns dir with the busybox image imported, podrun run with a bound on
 * its time, polling of a pod's state file with a deadline, and the checks
 * that a pod left nothing behind. Every helper asserts with criterion. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "pod/state.h"

/* No podrun command of these tests takes this long; past it, the command
 * is killed and the test fails naming it instead of hanging the suite. */
#define E2E_CMD_TIMEOUT_SEC 50

extern char e2e_tmp[64];
extern char e2e_cg_parent[64];
extern char *e2e_podrun, *e2e_root_dir, *e2e_run_dir, *e2e_netns_dir;

/* What a command printed, stdout and stderr together, and its exit status
 * (128 + N when killed by signal N). */
struct e2e_out {
        int status;
        char *text;
};

void e2e_out_done(struct e2e_out *o);

/* .init: skips unless root with PODRUN_BUILD_DIR and PODRUN_SOURCE_DIR set
 * and the namespaces can be made; tag names the temp dir and cgroup parent. */
void e2e_setup(const char *tag);
/* .fini: takes down whatever pods a failed test left, then removes it all. */
void e2e_teardown(void);

void e2e_import_busybox(const char *root);
struct e2e_out e2e_shell(const char *cmd);
/* podrun with the test's dirs, and root as --root. */
struct e2e_out e2e_podrun_root(const char *root, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define e2e_podrun(...) e2e_podrun_root(e2e_root_dir, __VA_ARGS__)
/* The environment and the podrun command line before the subcommand, for a
 * test that builds its own shell command. */
char *e2e_podrun_prefix(const char *root);

char *e2e_write_manifest(const char *name, const char *text);
struct pod_state *e2e_read_state(const char *name);
/* Reads the pod's state until done() holds; fails after seconds. */
struct pod_state *e2e_wait_state(const char *name, bool (*done)(const struct pod_state *st),
                                 unsigned seconds, const char *what);
void e2e_wait_gone(const struct state_proc *p, unsigned seconds);
json_object *e2e_jget(json_object *o, const char *path);

/* After down: no state, logs or netns file, no mount under the temp dir
 * (but the test's own mount at root, when root is not the default), no
 * cgroup of the pod, and no process the state recorded still alive. */
void e2e_assert_clean(const char *root, const char *name, const struct pod_state *st);
/* podrun down of the pod succeeds, and e2e_assert_clean() holds. */
void e2e_down(const char *root, const char *name, const struct pod_state *st);
