/* /proc readers shared by the state file, the runtime, IPAM and exec. Reads
 * only; never signals or changes a process. */
#include "pod/base/proc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"

int pr_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start_time, struct pr_error *err)
{
        char path[64];
        _cleanup_free_ char *data = NULL;
        const char *p;
        uint64_t start;
        char state;
        int r;

        (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        r = pr_read_file(path, 4096, &data, NULL, err);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm (field 2) may hold spaces and parentheses: count fields from
         * the last ')'. Field 3, the state, follows it after one space. */
        p = strrchr(data, ')');
        if (!p || p[1] != ' ' || !p[2])
                return pr_err_msg(err, EBADMSG, "'%s': unexpected format", path);
        state = p[2];
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%" SCNu64, &start) != 1)
                return pr_err_msg(err, EBADMSG, "'%s': unexpected format", path);
        if (ret_state)
                *ret_state = state;
        if (ret_start_time)
                *ret_start_time = start;
        return 0;
}

int pr_read_boot_id(char buf[static PR_BOOT_ID_MAX], struct pr_error *err)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = pr_read_file("/proc/sys/kernel/random/boot_id", PR_BOOT_ID_MAX - 1, &text, NULL, err);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        (void)snprintf(buf, PR_BOOT_ID_MAX, "%s", text);
        return 0;
}
