/* What podrun-pause and infra.c agree on: its exit codes, one per failing
 * step, so infra_start() can say which step failed. */
#pragma once

enum {
        PAUSE_EXIT_OK = 0,
        PAUSE_EXIT_USAGE = 2,
        PAUSE_EXIT_HOSTNAME = 3,
        PAUSE_EXIT_LOOPBACK = 4,
        PAUSE_EXIT_SUBREAPER = 5,
        PAUSE_EXIT_SIGMASK = 6,
        PAUSE_EXIT_SIGWAIT = 7,
        PAUSE_EXIT_READY = 8,
        PAUSE_EXIT_DUMPABLE = 9,
        PAUSE_EXIT_USERNS = 10, /* set by infra.c's child before exec, never by pause */
        /* The Nth --sysctl (from 0) failed: its name was refused, or writing
         * its value was. A code per sysctl, so infra.c can name it. */
        PAUSE_EXIT_SYSCTL_NAME = 32,
        PAUSE_EXIT_SYSCTL_WRITE = 96,
        PAUSE_SYSCTL_MAX = 64,
};
