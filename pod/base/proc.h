/* Facts about processes and this boot, read from /proc. A saved PID names
 * the same process only while its start time matches; a boot id tells one
 * boot from the next (the run dir is on disk on some hosts). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct pr_error;

#define PR_BOOT_ID_MAX 64

/* Reads the state letter (field 3: R, S, Z, X, ...) and the start time in
 * clock ticks since boot (field 22) of /proc/<pid>/stat. Either output may be
 * NULL. A missing process is -ESRCH. */
int pr_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start_time, struct pr_error *err);

/* /proc/sys/kernel/random/boot_id without its newline. */
int pr_read_boot_id(char buf[static PR_BOOT_ID_MAX], struct pr_error *err);
