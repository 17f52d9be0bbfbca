/* Kubernetes resource quantities ("500m", "1.5Gi", "1e3"), read exactly as
 * apimachinery's resource.ParseQuantity reads them, so a manifest means the
 * same number here as on a cluster. The value is held as an exact decimal
 * (digit string and base-10 exponent) so that comparisons never round.
 * Owns only the arithmetic: no YAML, no diagnostics, no syscalls. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/specs.h"

/* Kubernetes keeps nine decimal places (its Nano scale) and rounds any
 * finer non-zero value away from zero, "so that asking for some gets some". */
#define QUANTITY_MIN_EXP10 (-9)

enum quantity_format {
        FORMAT_DECIMAL,  /* DecimalSI: "500m", "2k" */
        FORMAT_EXPONENT, /* DecimalExponent: "1e3" */
        FORMAT_BINARY,   /* BinarySI: "1Gi" */
};

/* |value| = digits * 10^exp10, digits without leading or trailing zeros;
 * zero is n == 0. */
struct decimal {
        enum quantity_format format;
        bool negative;
        char *digits;
        size_t n;
        int64_t exp10;
};

static void decimal_done(struct decimal *d)
{
        free(d->digits);
        *d = (struct decimal){};
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* The scanner of parseQuantityString: sign, number, optional fraction, then
 * a suffix made of [eEinumkKMGTP]* with an optional signed exponent. */
struct scanned {
        bool negative;
        const char *num, *denom, *suffix;
        size_t num_len, denom_len;
};

static int scan(const char *s, struct scanned *ret)
{
        struct scanned r = {};
        const char *p = s;

        if (*p == '-' || *p == '+')
                r.negative = *p++ == '-';
        r.num = p;
        while (is_digit(*p))
                p++;
        r.num_len = (size_t)(p - r.num);
        if (*p == '.') {
                r.denom = ++p;
                while (is_digit(*p))
                        p++;
                r.denom_len = (size_t)(p - r.denom);
        }
        /* Kubernetes reads "Ki", "-" and "." as zero, an accident of its
         * scanner; a quantity without a single digit is surely a typo, so
         * podrun refuses it rather than silently asking for nothing. */
        if (r.num_len + r.denom_len == 0)
                return -EINVAL;
        r.suffix = p;
        while (*p && strchr("eEinumkKMGTP", *p))
                p++;
        if (*p == '-' || *p == '+')
                p++;
        while (is_digit(*p))
                p++;
        if (*p)
                return -EINVAL;
        *ret = r;
        return 0;
}

/* quantitySuffixer.interpret: the SI tables first, then "e<int>"/"E<int>". */
static int interpret_suffix(const char *suffix, enum quantity_format *ret_format,
                            int32_t *ret_exponent)
{
        static const struct {
                const char *name;
                enum quantity_format format;
                int32_t exponent;
        } table[] = {
            {"n", FORMAT_DECIMAL, -9}, {"u", FORMAT_DECIMAL, -6}, {"m", FORMAT_DECIMAL, -3},
            {"", FORMAT_DECIMAL, 0},   {"k", FORMAT_DECIMAL, 3},  {"M", FORMAT_DECIMAL, 6},
            {"G", FORMAT_DECIMAL, 9},  {"T", FORMAT_DECIMAL, 12}, {"P", FORMAT_DECIMAL, 15},
            {"E", FORMAT_DECIMAL, 18}, {"Ki", FORMAT_BINARY, 10}, {"Mi", FORMAT_BINARY, 20},
            {"Gi", FORMAT_BINARY, 30}, {"Ti", FORMAT_BINARY, 40}, {"Pi", FORMAT_BINARY, 50},
            {"Ei", FORMAT_BINARY, 60},
        };
        int64_t e;

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++)
                if (strcmp(suffix, table[i].name) == 0) {
                        *ret_format = table[i].format;
                        *ret_exponent = table[i].exponent;
                        return 0;
                }
        if ((suffix[0] != 'e' && suffix[0] != 'E') || suffix[1] == '\0')
                return -EINVAL;
        /* strconv.ParseInt accepts a leading '+'; pr_parse_i64 may not. */
        if (pr_parse_i64(suffix[1] == '+' ? suffix + 2 : suffix + 1, &e) < 0 ||
            (suffix[1] == '+' && (suffix[2] == '-' || suffix[2] == '+')))
                return -EINVAL;
        *ret_format = FORMAT_EXPONENT;
        /* Kubernetes narrows the exponent with int32(); do the same. */
        *ret_exponent = (int32_t)(uint32_t)(uint64_t)e;
        return 0;
}

/* Drops leading zeros and moves trailing zeros into the exponent. */
static void decimal_normalize(struct decimal *d)
{
        size_t lead = 0;

        while (lead < d->n && d->digits[lead] == '0')
                lead++;
        memmove(d->digits, d->digits + lead, d->n - lead);
        d->n -= lead;
        while (d->n > 0 && d->digits[d->n - 1] == '0') {
                d->n--;
                d->exp10++;
        }
        d->digits[d->n] = '\0';
        if (d->n == 0) {
                d->negative = false;
                d->exp10 = 0;
        }
}

/* digits *= 2 in place. The caller pads with enough leading zeros to absorb
 * every carry, so the length never changes. */
static void decimal_double(struct decimal *d)
{
        int carry = 0;

        for (size_t i = d->n; i-- > 0;) {
                int v = (d->digits[i] - '0') * 2 + carry;
                d->digits[i] = (char)('0' + v % 10);
                carry = v / 10;
        }
}

/* Adds one unit in the last place, growing the digits on a carry out. */
static void decimal_increment(struct decimal *d)
{
        size_t i = d->n;

        while (i > 0 && d->digits[i - 1] == '9')
                d->digits[--i] = '0';
        if (i > 0) {
                d->digits[i - 1]++;
                return;
        }
        memmove(d->digits + 1, d->digits, d->n + 1);
        d->digits[0] = '1';
        d->n++;
}

/* Rounds away from zero to a multiple of 10^min_exp10. Digits must be
 * normalized, so every dropped run is non-zero. */
static void decimal_round_up(struct decimal *d, int64_t min_exp10)
{
        int64_t drop;

        if (d->n == 0 || d->exp10 >= min_exp10)
                return;
        drop = min_exp10 - d->exp10;
        if ((uint64_t)drop >= d->n) {
                d->digits[0] = '1';
                d->n = 1;
        } else {
                d->n -= (size_t)drop;
                decimal_increment(d);
        }
        d->digits[d->n] = '\0';
        d->exp10 = min_exp10;
        decimal_normalize(d);
}

static int cmp_magnitude(const struct decimal *a, const struct decimal *b)
{
        int64_t ta, tb;
        size_t n;
        int r;

        if (a->n == 0 || b->n == 0)
                return (a->n > 0) - (b->n > 0);
        /* Position of the leading digit decides first. */
        ta = (int64_t)a->n + a->exp10;
        tb = (int64_t)b->n + b->exp10;
        if (ta != tb)
                return ta < tb ? -1 : 1;
        n = a->n < b->n ? a->n : b->n;
        r = memcmp(a->digits, b->digits, n);
        if (r != 0)
                return r < 0 ? -1 : 1;
        return (a->n > b->n) - (a->n < b->n);
}

static int decimal_cmp(const struct decimal *a, const struct decimal *b)
{
        int sa = a->n == 0 ? 0 : a->negative ? -1 : 1;
        int sb = b->n == 0 ? 0 : b->negative ? -1 : 1;

        if (sa != sb)
                return sa < sb ? -1 : 1;
        return sa < 0 ? -cmp_magnitude(a, b) : cmp_magnitude(a, b);
}

static void decimal_set_int64_max(struct decimal *d)
{
        static const char max[] = "9223372036854775807";

        free(d->digits);
        d->digits = pr_strdup(max);
        d->n = sizeof(max) - 1;
        d->exp10 = 0;
}

/* The exact value ParseQuantity computes, rounding and cap included. */
static int decimal_parse(const char *text, struct decimal *ret)
{
        struct decimal d = {};
        struct scanned s;
        enum quantity_format format;
        int32_t exponent;
        size_t len;
        int r;

        if (!text || !*text)
                return -EINVAL;
        r = scan(text, &s);
        if (r < 0)
                return r;
        r = interpret_suffix(s.suffix, &format, &exponent);
        if (r < 0)
                return r;

        /* Room for the carry digits of up to sixty doublings (2^60 < 10^19). */
        len = s.num_len + s.denom_len;
        d.digits = pr_malloc(len + 21);
        memcpy(d.digits, s.num, s.num_len);
        if (s.denom_len > 0)
                memcpy(d.digits + s.num_len, s.denom, s.denom_len);
        d.n = len;
        d.digits[d.n] = '\0';
        d.negative = s.negative;
        d.exp10 = -(int64_t)s.denom_len;
        d.format = format;
        if (format != FORMAT_BINARY)
                d.exp10 += exponent;
        else {
                /* Shift digits to the back so doubling can grow at the front. */
                memmove(d.digits + 20, d.digits, d.n + 1);
                memset(d.digits, '0', 20);
                d.n += 20;
                for (int32_t i = 0; i < exponent; i++)
                        decimal_double(&d);
        }
        decimal_normalize(&d);
        decimal_round_up(&d, QUANTITY_MIN_EXP10);

        /* Only binary quantities are capped, at the int64 maximum. */
        if (format == FORMAT_BINARY) {
                struct decimal max = {.digits = (char *)"9223372036854775807", .n = 19};

                if (cmp_magnitude(&d, &max) > 0)
                        decimal_set_int64_max(&d);
        }
        *ret = d;
        return 0;
}

/* The value in units of 10^scale_exp10, rounded towards +infinity and
 * saturated at the int64 limits. */
static int64_t decimal_scaled(const struct decimal *d, int64_t scale_exp10)
{
        int64_t shift = d->exp10 - scale_exp10;
        int64_t whole_digits = (int64_t)d->n + shift;
        uint64_t v = 0;
        bool fraction = false;

        if (d->n == 0)
                return 0;
        if (whole_digits > 19)
                return d->negative ? INT64_MIN : INT64_MAX;
        for (int64_t i = 0; i < whole_digits; i++) {
                unsigned digit = i < (int64_t)d->n ? (unsigned)(d->digits[i] - '0') : 0;

                if (v > (UINT64_MAX - digit) / 10)
                        return d->negative ? INT64_MIN : INT64_MAX;
                v = v * 10 + digit;
        }
        /* Normalized digits: anything after the point is non-zero. */
        fraction = whole_digits < (int64_t)d->n;
        if (d->negative) {
                if (v > (uint64_t)INT64_MAX + 1)
                        return INT64_MIN;
                return v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        }
        if (fraction)
                v++;
        return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* BinarySI spelling of a whole number of at most INT64_MAX: the largest
 * power of 1024 that divides it. */
static char *format_binary(const struct decimal *d)
{
        static const char *const suffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        uint64_t v = 0;
        size_t e = 0;

        for (size_t i = 0; i < d->n; i++)
                v = v * 10 + (uint64_t)(d->digits[i] - '0');
        for (int64_t i = 0; i < d->exp10; i++)
                v *= 10;
        while (v % 1024 == 0 && e + 1 < PR_ELEMENTSOF(suffixes)) {
                v /= 1024;
                e++;
        }
        return pr_asprintf("%s%llu%s", d->negative ? "-" : "", (unsigned long long)v, suffixes[e]);
}

/* Quantity.String(): the canonical spelling Kubernetes prints in messages,
 * e.g. "2000m" is "2", "1024Mi" is "1Gi", "0.5Ki" is "512". */
static char *decimal_format(const struct decimal *d)
{
        static const char *const si[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
        int64_t exp = d->exp10, pad;
        _cleanup_free_ char *digits = NULL;
        char *out;

        if (d->n == 0)
                return pr_strdup("0");
        /* Binary only for whole numbers of at least 1024, else decimal. */
        if (d->format == FORMAT_BINARY && exp >= 0) {
                int64_t v = decimal_scaled(d, 0);

                if (v >= 1024 || v <= -1024)
                        return format_binary(d);
        }
        /* Exponents in steps of three; more than E (10^18) stays E. */
        pad = ((exp % 3) + 3) % 3;
        if (d->format != FORMAT_EXPONENT && exp - pad > 18)
                pad = exp - 18;
        digits = pr_malloc(d->n + (size_t)pad + 1);
        memcpy(digits, d->digits, d->n);
        memset(digits + d->n, '0', (size_t)pad);
        digits[d->n + (size_t)pad] = '\0';
        exp -= pad;
        if (d->format == FORMAT_EXPONENT)
                out = exp == 0 ? pr_asprintf("%s%s", d->negative ? "-" : "", digits)
                               : pr_asprintf("%s%se%lld", d->negative ? "-" : "", digits,
                                             (long long)exp);
        else
                out = pr_asprintf("%s%s%s", d->negative ? "-" : "", digits, si[exp / 3 + 3]);
        return out;
}

char *spec_quantity_format(const struct spec_quantity *q)
{
        struct decimal d;
        char *s;

        if (!q->set || decimal_parse(q->text, &d) < 0)
                return pr_strdup(q->text ? q->text : "0");
        s = decimal_format(&d);
        decimal_done(&d);
        return s;
}

int spec_quantity_parse(const char *text, struct spec_quantity *ret)
{
        struct decimal d;
        int r;

        r = decimal_parse(text, &d);
        if (r < 0)
                return r;
        ret->set = true;
        ret->text = pr_strdup(text);
        ret->value = decimal_scaled(&d, 0);
        ret->milli_value = decimal_scaled(&d, -3);
        decimal_done(&d);
        return 0;
}

int spec_quantity_cmp(const struct spec_quantity *a, const struct spec_quantity *b)
{
        struct decimal da = {}, db = {};
        int r;

        /* Only parsed quantities reach here; the text is the exact source. A
         * hand-built one without text falls back to its milli value. */
        if (decimal_parse(a->text, &da) < 0 || decimal_parse(b->text, &db) < 0) {
                decimal_done(&da);
                decimal_done(&db);
                return (a->milli_value > b->milli_value) - (a->milli_value < b->milli_value);
        }
        r = decimal_cmp(&da, &db);
        decimal_done(&da);
        decimal_done(&db);
        return r;
}

void spec_quantity_done(struct spec_quantity *q)
{
        free(q->text);
        *q = (struct spec_quantity){};
}
