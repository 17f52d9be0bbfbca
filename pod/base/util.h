/* Small helpers every module may use: allocation that aborts on exhaustion,
 * NULL-terminated string vectors, checked number parsing, time. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pod/base/cleanup.h"

void *pr_malloc(size_t n);
void *pr_calloc(size_t n, size_t size);
void *pr_realloc(void *p, size_t n);
/* Grows *array by one zeroed element of size elsize and returns it. The
 * capacity is implied by *n: only for arrays that grow through this function
 * alone (starting from NULL and 0). */
void *pr_array_grow(void *array_p, size_t *n, size_t elsize);
char *pr_strdup(const char *s);
char *pr_strndup(const char *s, size_t n);
char *pr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool pr_streq(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

static inline bool pr_startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool pr_endswith(const char *s, const char *suffix);

/* NULL-terminated vectors of owned strings. */
size_t pr_strv_len(char *const *v);
void pr_strv_push(char ***v, const char *s);
void pr_strv_push_take(char ***v, char *s);
char **pr_strv_copy(char *const *v);
char **pr_strv_free(char **v);
static inline void pr_strv_freep(char ***v)
{
        *v = pr_strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(pr_strv_freep)

/* Whole-string decimal parsing with range checks; -EINVAL or -ERANGE. */
int pr_parse_i64(const char *s, int64_t *ret);
int pr_parse_u64(const char *s, uint64_t *ret);
int pr_parse_int(const char *s, int min, int max, int *ret);

/* Durations such as "100ms", "1.5s", "2m", "1h30m"; microseconds. */
int pr_parse_duration(const char *s, uint64_t *ret_usec);

#define PR_USEC_PER_SEC UINT64_C(1000000)
#define PR_USEC_PER_MSEC UINT64_C(1000)
#define PR_NSEC_PER_USEC UINT64_C(1000)

/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
uint64_t pr_now_mono_usec(void);
uint64_t pr_now_real_usec(void);

/* Formats a CLOCK_REALTIME time as RFC 3339 in UTC with nanoseconds, e.g.
 * 2026-11-30T07:03:31.123456789Z, as CRI logs and Kubernetes statuses do.
 * buf must hold PR_RFC3339_MAX bytes. */
#define PR_RFC3339_MAX 40
void pr_format_rfc3339_nsec(uint64_t sec, uint32_t nsec, char buf[static PR_RFC3339_MAX]);
void pr_format_rfc3339_usec(uint64_t usec, char buf[static PR_RFC3339_MAX]);
