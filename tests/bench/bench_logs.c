/* Log throughput: reads stdin as the supervisor reads a container's pipe
 * (64 KiB reads) and writes it through logs_writer into DIR/0.log, with
 * kubelet's default rotation. Prints the bytes read, the dropped bytes and
 * the seconds taken. Used by tests/bench/logs.sh. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/logs.h"

int main(int argc, char **argv)
{
        _cleanup_(logs_writer_freep) struct logs_writer *w = NULL;
        struct pr_error err = {};
        static char buf[64 * 1024];
        uint64_t total = 0, start;
        ssize_t n;

        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR < input\n", argv[0]);
                return 2;
        }
        if (logs_writer_open(argv[1], 0, NULL, &w, &err) < 0) {
                fprintf(stderr, "bench_logs: %s\n", err.msg);
                return 1;
        }
        start = pr_now_mono_usec();
        while ((n = read(0, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        perror("bench_logs: read");
                        return 1;
                }
                total += (uint64_t)n;
                if (logs_writer_write(w, LOGS_STDOUT, buf, (size_t)n, &err) < 0)
                        fprintf(stderr, "bench_logs: %s\n", err.msg);
        }
        if (logs_writer_flush(w, &err) < 0)
                fprintf(stderr, "bench_logs: %s\n", err.msg);
        printf("%" PRIu64 " bytes %" PRIu64 " dropped %.3f s\n", total, logs_writer_dropped(w),
               (double)(pr_now_mono_usec() - start) / 1e6);
        return 0;
}
