/* Restart back-off arithmetic and its messages, copied from kubelet's
 * behaviour (REFERENCE.md). This file owns only the numbers: it never reads
 * a clock, never sleeps, never touches a process; the caller passes the
 * times in and arms its own timer with the answer. */
#include <inttypes.h>
#include <stdio.h>

#include "pod/backoff.h"
#include "pod/base/util.h"

void backoff_params_init(struct backoff_params *p, uint64_t base_usec)
{
        if (base_usec == 0)
                base_usec = BACKOFF_DEFAULT_BASE_USEC;
        p->base_usec = base_usec;
        p->cap_usec = base_usec * BACKOFF_CAP_FACTOR;
        /* client-go's hasExpired: untouched for more than 2 x maxDuration. */
        p->expire_usec = 2 * p->cap_usec;
}

void backoff_reset(struct backoff *b)
{
        *b = (struct backoff){};
}

uint64_t backoff_on_exit(struct backoff *b, const struct backoff_params *p, uint64_t now_usec)
{
        uint64_t wait;

        /* kubelet: no entry (or an expired one) means not in back-off, and
         * Next() creates the entry at the base delay: restart at once. */
        if (!b->active || now_usec < b->last_update_usec ||
            now_usec - b->last_update_usec > p->expire_usec) {
                b->active = true;
                b->delay_usec = p->base_usec;
                b->last_update_usec = now_usec;
                return 0;
        }
        /* In back-off: wait the current delay; when it has passed kubelet
         * calls Next() again, doubling the delay up to the cap and stamping
         * the entry with the restart time. */
        wait = b->delay_usec;
        b->delay_usec = wait > p->cap_usec / 2 ? p->cap_usec : wait * 2;
        b->last_update_usec = now_usec + wait;
        return wait;
}

bool backoff_should_restart(enum spec_restart_policy policy, int exit_code)
{
        switch (policy) {
        case SPEC_RESTART_ALWAYS:
                return true;
        case SPEC_RESTART_ON_FAILURE:
                return exit_code != 0;
        case SPEC_RESTART_NEVER:
        default:
                return false;
        }
}

/* Go's fmtFrac: a fraction of `digits` digits with trailing zeros dropped. */
static int format_frac(char *buf, size_t size, uint64_t frac, int digits)
{
        while (digits > 0 && frac % 10 == 0) {
                frac /= 10;
                digits--;
        }
        if (digits == 0)
                return snprintf(buf, size, "%s", "");
        return snprintf(buf, size, ".%0*" PRIu64, digits, frac);
}

/* Formats into a buffer always large enough for any uint64_t duration
 * (about 26 bytes), so the chained snprintf offsets can never pass its end. */
static void format_duration(uint64_t usec, char buf[static 64])
{
        const size_t size = 64;
        uint64_t sec = usec / PR_USEC_PER_SEC, frac = usec % PR_USEC_PER_SEC;
        int n;

        if (usec == 0)
                (void)snprintf(buf, size, "0s");
        else if (usec < PR_USEC_PER_MSEC)
                (void)snprintf(buf, size, "%" PRIu64 "\u00b5s", usec);
        else if (usec < PR_USEC_PER_SEC) {
                n = snprintf(buf, size, "%" PRIu64, usec / PR_USEC_PER_MSEC);
                n += format_frac(buf + n, size - (size_t)n, usec % PR_USEC_PER_MSEC, 3);
                (void)snprintf(buf + n, size - (size_t)n, "ms");
        } else {
                n = 0;
                if (sec >= 3600)
                        n = snprintf(buf, size, "%" PRIu64 "h%" PRIu64 "m", sec / 3600,
                                     sec / 60 % 60);
                else if (sec >= 60)
                        n = snprintf(buf, size, "%" PRIu64 "m", sec / 60);
                n += snprintf(buf + n, size - (size_t)n, "%" PRIu64, sec % 60);
                n += format_frac(buf + n, size - (size_t)n, frac, 6);
                (void)snprintf(buf + n, size - (size_t)n, "s");
        }
}

size_t backoff_format_duration(uint64_t usec, char *buf, size_t size)
{
        char tmp[64];
        int n;

        if (size == 0)
                return 0;
        format_duration(usec, tmp);
        n = snprintf(buf, size, "%s", tmp);
        return (size_t)n < size ? (size_t)n : size - 1;
}

char *backoff_message(uint64_t delay_usec, const char *container, const char *pod)
{
        char d[BACKOFF_DURATION_MAX];

        (void)backoff_format_duration(delay_usec, d, sizeof(d));
        return pr_asprintf("back-off %s restarting failed container=%s pod=%s", d, container, pod);
}
