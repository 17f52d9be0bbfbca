/* Container output in kubelet's CRI log format, one file per container
 * instance: <root>/pods/<pod>/logs/<container>/<restartCount>.log, rotated by
 * size to <restartCount>.log.1 (newest) ... .log.<max_files - 1> (oldest).
 * Each line is
 *   <RFC3339Nano UTC, 9 digits> <stdout|stderr> <F|P> <text>
 * where P marks a piece of a line longer than LOGS_MAX_LINE. Owned by
 * logs.c; the supervisor feeds it bytes, `podrun logs` reads them back
 * through pod/logread.h. docs/logs.md describes the format. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/base/cleanup.h"

struct pr_error;

#define LOGS_MAX_LINE (16 * 1024) /* containerd's split size */
#define LOGS_DEFAULT_MAX_FILE_BYTES (10u * 1024 * 1024)
#define LOGS_DEFAULT_MAX_FILES 5

enum logs_stream {
        LOGS_STDOUT,
        LOGS_STDERR,
        _LOGS_STREAM_MAX,
        _LOGS_STREAM_INVALID = -22,
};

const char *logs_stream_to_string(enum logs_stream s);
enum logs_stream logs_stream_from_string(const char *s);

struct logs_options {
        uint64_t max_file_bytes; /* 0: LOGS_DEFAULT_MAX_FILE_BYTES */
        unsigned max_files;      /* 0: LOGS_DEFAULT_MAX_FILES */
};

struct logs_writer;

/* Opens (creating the directory) the log of one container instance. */
int logs_writer_open(const char *dir, unsigned restart_count, const struct logs_options *opts,
                     struct logs_writer **ret, struct pr_error *err);

/* Frames bytes read from one stream into CRI lines, all stamped with one
 * clock read, and appends them with one write(2); an unfinished line is
 * kept until its newline, or written as P pieces once more than
 * LOGS_MAX_LINE bytes of it are known. Rotates between lines when the file
 * would pass max_file_bytes. On a write error (disk full) the lines are
 * dropped and counted, the file is cut back to its last whole line, and
 * -errno is returned once per failure episode (until a write succeeds
 * again); the writer stays usable and never blocks. */
int logs_writer_write(struct logs_writer *w, enum logs_stream s, const char *data, size_t len,
                      struct pr_error *err);

/* Writes out any unfinished line of each stream as a full (F) line: called
 * when the container's pipes reach EOF. */
int logs_writer_flush(struct logs_writer *w, struct pr_error *err);

/* Bytes of CRI lines dropped because of write errors since the writer was
 * opened. */
uint64_t logs_writer_dropped(const struct logs_writer *w);
const char *logs_writer_path(const struct logs_writer *w);

struct logs_writer *logs_writer_free(struct logs_writer *w);
PR_DEFINE_FREE_FUNC(struct logs_writer, logs_writer_free)
