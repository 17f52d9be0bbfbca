/* Reading CRI container logs back: parsing lines, re-joining P pieces,
 * --tail, --since, --timestamps, --prefix, and following a container's log
 * across rotations and restarts. Owned by logread.c; `podrun logs` and the
 * termination message read logs only through this. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/base/cleanup.h"
#include "pod/base/util.h"
#include "pod/logs.h"

struct pr_error;

/* One CRI line as stored. text points into the parsed buffer. */
struct logs_line {
        int64_t sec; /* UTC seconds since the epoch */
        uint32_t nsec;
        int32_t utc_offset; /* seconds east of UTC the time was written in */
        enum logs_stream stream;
        bool partial; /* P: a piece of a longer line */
        const char *text;
        size_t len;
};

/* Parses one line without its '\n'. Accepts a UTC "Z" time or a numeric
 * offset ("+02:00"), with 0 to 9 fraction digits, as kubelet does. -EINVAL
 * for anything else. */
int logs_parse_line(const char *line, size_t len, struct logs_line *ret);

/* The line's time as kubectl --timestamps prints it: nine fraction digits,
 * in the offset it was written in ("Z" for UTC). */
void logs_format_time(const struct logs_line *l, char buf[static PR_RFC3339_MAX]);

/* Microseconds since the epoch (times before 1970 clamp to 0). */
uint64_t logs_line_usec(const struct logs_line *l);

/* Parses an RFC 3339 time (as --since-time takes it) to microseconds. */
int logs_parse_time(const char *s, uint64_t *ret_usec);

/* The files holding one container instance, oldest first: <n>.log.K ...
 * <n>.log.1, <n>.log. An instance that has no files is an empty list. */
int logs_instance_files(const char *dir, unsigned restart_count, char ***ret, struct pr_error *err);

/* Where re-joined lines go: one call per logical line (or per 1 MiB of a
 * line that never ends), already prefixed and terminated by '\n'. A
 * negative return stops the read and is returned from it. */
struct logs_sink {
        int (*write)(void *userdata, const char *data, size_t len);
        void *userdata;
};

struct logs_read_options {
        int64_t tail;        /* the last N lines; -1 for all */
        uint64_t since_usec; /* only lines written at or after; 0 for all */
        bool timestamps;     /* prefix each line with its time */
};

/* One container to read. The caller fills the first part; the follow
 * callback keeps latest_restart and done up to date. */
struct logs_target {
        const char *log_dir;
        const char *container;  /* for the restart marker */
        const char *prefix;     /* "[pod/web/app] " or NULL */
        unsigned restart_count; /* the instance to read (the one --previous names) */
        unsigned latest_restart;
        bool done;
        struct logs_cursor *cursor; /* private */
};

/* How to follow: the state of the containers comes from the caller. */
struct logs_follow {
        /* Updates latest_restart and done of each target from the state file;
         * sets *ret_gone when the pod is gone (no state file, or its
         * supervisor is dead): following ends after what is written. */
        int (*refresh)(void *userdata, struct logs_target *t, size_t n, bool *ret_gone,
                       struct pr_error *err);
        void *userdata;
        const char *state_dir; /* watched for the state file's renames */
        int supervisor_pidfd;  /* readable when the supervisor exits; -1 for none */
        struct logs_sink
            *notice; /* restart markers: "--- container app restarted (restart 2) ---" */
};

/* Writes the logs of each target in turn (all of the first, then the next),
 * or with follow set, everything so far and then new lines as they are
 * written, moving on across rotations and to each new restart's file, until
 * every target is done or the pod is gone. Returns 0 or a negative errno. */
int logs_read(struct logs_target *t, size_t n, const struct logs_read_options *o,
              struct logs_sink *out, const struct logs_follow *follow, struct pr_error *err);
