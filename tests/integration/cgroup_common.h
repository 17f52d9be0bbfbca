/* Shared by the cgroup v1 and v2 tests: children started in a cgroup
 * before they run, the files they leave to check, and a teardown that
 * does not trust the code under test. Every helper asserts with criterion. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct cg;

/* SIGKILLs whatever is listed beneath dir until nothing is, reaping as it
 * goes, then removes the directories. */
void cgt_force_clean(const char *dir);
/* cg_remove() of the pod, then force_clean() of its parent in every
 * hierarchy it has, pass or fail; frees and clears *pod. */
void cgt_remove_pod(struct cg **pod);

bool cgt_has_file(const char *dir, const char *file);
/* The file's whole text. */
char *cgt_read_text(const char *dir, const char *file);
/* The file's first line is want. */
void cgt_assert_file(const char *dir, const char *file, const char *want);

/* A child that waits for a byte on *ret_go before running fn(out): the
 * parent attaches it to its cgroup first, as ctr_spawn does. */
pid_t cgt_spawn_waiting(void (*fn)(int out), int *ret_go, int *ret_out);
void cgt_release(int go);
/* cgt_spawn_waiting(), attached to ctr, then released. */
pid_t cgt_start_in(struct cg *ctr, void (*fn)(int out), int *ret_out);
/* pid, a child, ends killed by SIGKILL. */
void cgt_assert_killed(pid_t pid);
/* cg_kill_all() of cg ends pid, a child, and empties cg. */
void cgt_kill_all(struct cg *cg, pid_t pid);
void cgt_sleeper(int out);
/* Moves itself into a child cgroup "escape" of each directory listed in
 * $PODRUN_TEST_ESCAPE_DIRS (':'-separated), writes 1 to out if it could
 * (0 if not), then forks short-lived children without end. */
void cgt_escaper(int out);
/* A child in a new container cgroup of pod ("app", or "priv" without the
 * device restriction) tries mknod of a block device and of /dev/null:
 * ret gets both errnos, 0 for success. */
void cgt_run_mknod(struct cg *pod, bool restrict_devices, int ret[2]);
