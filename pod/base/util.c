/* Allocation, strings, numbers and time. No I/O beyond clock reads. */
#include "pod/base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void __attribute__((noreturn)) out_of_memory(void)
{
        static const char msg[] = "podrun: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *pr_malloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                out_of_memory();
        return p;
}

void *pr_calloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                out_of_memory();
        return p;
}

void *pr_realloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                out_of_memory();
        return p;
}

void *pr_array_grow(void *array_p, size_t *n, size_t elsize)
{
        char **array = array_p;

        /* The capacity is n rounded up to a power of two, so the array is
         * full exactly when n is zero or a power of two: doubling keeps
         * hostile inputs (200000 manifest nodes) linear. */
        if (*n == 0 || (*n & (*n - 1)) == 0) {
                size_t cap = *n ? *n * 2 : 1;

                if (cap > SIZE_MAX / elsize)
                        out_of_memory();
                *array = pr_realloc(*array, cap * elsize);
        }
        memset(*array + *n * elsize, 0, elsize);
        return *array + (*n)++ * elsize;
}

char *pr_strdup(const char *s)
{
        char *r = strdup(s);
        if (!r)
                out_of_memory();
        return r;
}

char *pr_strndup(const char *s, size_t n)
{
        char *r = strndup(s, n);
        if (!r)
                out_of_memory();
        return r;
}

char *pr_asprintf(const char *fmt, ...)
{
        va_list ap;
        char *r;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&r, fmt, ap);
        va_end(ap);
        if (n < 0)
                out_of_memory();
        return r;
}

bool pr_endswith(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

size_t pr_strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void pr_strv_push_take(char ***v, char *s)
{
        size_t n = pr_strv_len(*v);
        *v = pr_realloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

void pr_strv_push(char ***v, const char *s)
{
        pr_strv_push_take(v, pr_strdup(s));
}

char **pr_strv_copy(char *const *v)
{
        size_t n = pr_strv_len(v);
        char **r = pr_calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = pr_strdup(v[i]);
        return r;
}

char **pr_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

int pr_parse_i64(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (!s || !*s || *s == ' ' || *s == '\t' || *s == '\n')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end || end == s)
                return -EINVAL;
        *ret = v;
        return 0;
}

int pr_parse_u64(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int pr_parse_int(const char *s, int min, int max, int *ret)
{
        int64_t v;
        int r = pr_parse_i64(s, &v);

        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}

static int unit_usec(const char **p, uint64_t *ret)
{
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
            /* Longest first, so "ms" is not read as "m" followed by junk. */
            {"ms", PR_USEC_PER_MSEC},      {"us", 1},
            {"h", 3600 * PR_USEC_PER_SEC}, {"m", 60 * PR_USEC_PER_SEC},
            {"s", PR_USEC_PER_SEC},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(units); i++) {
                size_t l = strlen(units[i].name);
                if (strncmp(*p, units[i].name, l) == 0) {
                        *p += l;
                        *ret = units[i].usec;
                        return 0;
                }
        }
        return -EINVAL;
}

int pr_parse_duration(const char *s, uint64_t *ret_usec)
{
        uint64_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return -EINVAL;
        while (*p) {
                uint64_t whole = 0, unit, frac_num = 0, frac_den = 1;
                bool digits = false;

                for (; *p >= '0' && *p <= '9'; p++, digits = true) {
                        if (whole > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t)(*p - '0');
                }
                if (*p == '.')
                        for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
                                if (frac_den < UINT64_C(1000000000)) {
                                        frac_num = frac_num * 10 + (uint64_t)(*p - '0');
                                        frac_den *= 10;
                                }
                if (!digits || unit_usec(&p, &unit) < 0)
                        return -EINVAL;
                if (whole > UINT64_MAX / unit)
                        return -ERANGE;
                total += whole * unit + frac_num * unit / frac_den;
        }
        *ret_usec = total;
        return 0;
}

static uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;
        (void)clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * PR_USEC_PER_SEC + (uint64_t)ts.tv_nsec / PR_NSEC_PER_USEC;
}

uint64_t pr_now_mono_usec(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

uint64_t pr_now_real_usec(void)
{
        return now_usec(CLOCK_REALTIME);
}

void pr_format_rfc3339_nsec(uint64_t sec, uint32_t nsec, char buf[static PR_RFC3339_MAX])
{
        time_t t = (time_t)sec;
        struct tm tm;
        size_t n;

        (void)gmtime_r(&t, &tm);
        n = strftime(buf, PR_RFC3339_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
        (void)snprintf(buf + n, PR_RFC3339_MAX - n, ".%09" PRIu32 "Z", nsec % 1000000000u);
}

void pr_format_rfc3339_usec(uint64_t usec, char buf[static PR_RFC3339_MAX])
{
        pr_format_rfc3339_nsec(usec / PR_USEC_PER_SEC,
                               (uint32_t)(usec % PR_USEC_PER_SEC * PR_NSEC_PER_USEC), buf);
}
