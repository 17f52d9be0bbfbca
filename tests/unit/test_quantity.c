#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "pod/base/util.h"
#include "specs/specs.h"

TestSuite(quantity);

static struct spec_quantity parse_ok(const char *text)
{
        struct spec_quantity q = {};
        int r = spec_quantity_parse(text, &q);

        cr_assert_eq(r, 0, "'%s' should parse, got %d", text, r);
        cr_assert(q.set);
        cr_assert_str_eq(q.text, text);
        return q;
}

/* Compares a parsed quantity with mantissa * 10^exp10, written in the
 * exponent form that needs no suffix table. */
static void expect_exact(const char *input, const char *mantissa, int exp10)
{
        _cleanup_free_ char *ref_text = pr_asprintf("%se%d", mantissa, exp10);
        struct spec_quantity q = parse_ok(input), ref = parse_ok(ref_text);

        cr_expect_eq(spec_quantity_cmp(&q, &ref), 0, "'%s' should equal %s", input, ref_text);
        cr_expect_eq(spec_quantity_cmp(&ref, &q), 0, "'%s' should equal %s", ref_text, input);
        spec_quantity_done(&q);
        spec_quantity_done(&ref);
}

/* k8s.io/apimachinery resource/quantity_test.go, TestQuantityParse. */
Test(quantity, kubernetes_parse_table)
{
        static const struct {
                const char *input, *mantissa;
                int exp10;
        } table[] = {
            {"0", "0", 0},
            {"0n", "0", 0},
            {"0u", "0", 0},
            {"0m", "0", 0},
            {"0Ki", "0", 0},
            {"0k", "0", 0},
            {"0Mi", "0", 0},
            {"0M", "0", 0},
            {"0Gi", "0", 0},
            {"0G", "0", 0},
            {"0Ti", "0", 0},
            {"0T", "0", 0},
            {"1", "1", 0},
            {"1Ki", "1024", 0},
            {"8Ki", "8192", 0},
            {"7Mi", "7340032", 0},
            {"6Gi", "6442450944", 0},
            {"5Ti", "5497558138880", 0},
            {"4Pi", "4503599627370496", 0},
            {"3Ei", "3458764513820540928", 0},
            {"10Ti", "10995116277760", 0},
            {"100Ti", "109951162777600", 0},
            {"5n", "5", -9},
            {"4u", "4", -6},
            {"3m", "3", -3},
            {"9", "9", 0},
            {"8k", "8", 3},
            {"50k", "5", 4},
            {"7M", "7", 6},
            {"6G", "6", 9},
            {"5T", "5", 12},
            {"40T", "4", 13},
            {"300T", "3", 14},
            {"2P", "2", 15},
            {"1E", "1", 18},
            {"1E-3", "1", -3},
            {"1e3", "1", 3},
            {"1E6", "1", 6},
            {"1e9", "1", 9},
            {"1E12", "1", 12},
            {"1e15", "1", 15},
            {"1E18", "1", 18},
            {"1e14", "1", 14},
            {"1e13", "1", 13},
            {"100.035k", "100035", 0},
            {"0.001", "1", -3},
            {"0.0005k", "5", -1},
            {"0.005", "5", -3},
            {"0.05", "5", -2},
            {"0.5", "5", -1},
            {"0.00050k", "5", -1},
            {"0.00500", "5", -3},
            {"0.05000", "5", -2},
            {"0.50000", "5", -1},
            {"0.5e0", "5", -1},
            {"0.5e-1", "5", -2},
            {"0.5e-2", "5", -3},
            {"10.035M", "10035", 3},
            {"1.2e3", "12", 2},
            {"1.3E+6", "13", 5},
            {"1.40e9", "14", 8},
            {"1.53E12", "153", 10},
            {"1.6e15", "16", 14},
            {"1.7E18", "17", 17},
            {"9.01", "901", -2},
            {"8.1k", "81", 2},
            {"7.123456M", "7123456", 0},
            {"6.987654321G", "6987654321", 0},
            {"5.444T", "5444", 9},
            {"40.1T", "401", 11},
            {"300.2T", "3002", 11},
            {"2.5P", "25", 14},
            {"1.01E", "101", 16},
            /* Rounded up to the nano, away from zero. */
            {"3.001n", "4", -9},
            {"1.1E-9", "2", -9},
            {"0.0000000001", "1", -9},
            {"0.0000000005", "1", -9},
            {"0.00000000050", "1", -9},
            {"0.5e-9", "1", -9},
            {"0.9n", "1", -9},
            {"0.00000012345", "124", -9},
            {"0.00000012354", "124", -9},
            /* Binary quantities are capped at the int64 maximum; decimal are not. */
            {"9Ei", "9223372036854775807", 0},
            {"9223372036854775807Ki", "9223372036854775807", 0},
            {"12E", "12", 18},
            {"100.035Ki", "10243584", -2},
            {"0.5Mi", "524288", 0},
            {"0.05Gi", "536870912", -1},
            {"0.025Ti", "274877906944", -1},
            {"0.000000000001Ki", "2", -9},
            {".001", "1", -3},
            {".0001k", "100", -3},
            {"1.", "1", 0},
            {"1.G", "1", 9},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                _cleanup_free_ char *neg = pr_asprintf("-%s", table[i].input);
                _cleanup_free_ char *negm = pr_asprintf("-%s", table[i].mantissa);
                _cleanup_free_ char *pos = pr_asprintf("+%s", table[i].input);

                expect_exact(table[i].input, table[i].mantissa, table[i].exp10);
                /* Every entry also with an explicit sign, as Kubernetes tests it. */
                expect_exact(neg, negm, table[i].exp10);
                expect_exact(pos, table[i].mantissa, table[i].exp10);
        }
}

Test(quantity, kubernetes_invalid_table)
{
        static const char *const invalid[] = {
            "1.1.M",
            "1+1.0M",
            "0.1mi",
            "0.1am",
            "aoeu",
            ".5i",
            "1i",
            "-3.01i",
            "-3.01e-",
            " 1",
            "1 ",
            /* And podrun's own list. */
            "",
            "12Qi",
            "1.5.5",
            "Gi",
            "Ki",
            "-",
            "+",
            ".",
            "-.",
            "1e",
            "1E+",
            "1e3.5",
            "1Gi ",
            "1 Gi",
            "1e-3Ki",
            "1Kii",
            "1KiB",
            "1ki",
            "0x10",
            "1,5",
            "1_000",
            "1e99999999999999999999",
            "1e+-3",
            "1e++3",
            "--1",
            "+-1",
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(invalid); i++) {
                struct spec_quantity q = {.value = 42};

                cr_expect_eq(spec_quantity_parse(invalid[i], &q), -EINVAL, "'%s' should not parse",
                             invalid[i]);
                /* Outputs are set only on success. */
                cr_expect_not(q.set, "'%s' set the output", invalid[i]);
                cr_expect_eq(q.value, 42);
        }
        cr_expect_eq(spec_quantity_parse(NULL, &(struct spec_quantity){}), -EINVAL);
}

/* Value() and MilliValue(): rounded up to the unit, saturated. */
Test(quantity, value_and_milli_value)
{
        static const struct {
                const char *input;
                int64_t value, milli;
        } table[] = {
            {"0", 0, 0},
            {"1", 1, 1000},
            {"500m", 1, 500},
            {"1500m", 2, 1500},
            {"2000m", 2, 2000},
            {"0.1", 1, 100},
            {"1m", 1, 1},
            {"1n", 1, 1},
            {"1.5Gi", 1610612736, 1610612736000},
            {"128Mi", 134217728, 134217728000},
            {"100.035Ki", 102436, 102435840},
            {"0.05Gi", 53687092, 53687091200},
            {"1e3", 1000, 1000000},
            {"1E-3", 1, 1},
            {"1k", 1000, 1000000},
            {"1E", 1000000000000000000, INT64_MAX},
            {"9E", 9000000000000000000, INT64_MAX},
            {"12E", INT64_MAX, INT64_MAX},
            {"9Ei", INT64_MAX, INT64_MAX},
            {"8Ei", INT64_MAX, INT64_MAX},
            {"7Ei", 8070450532247928832, INT64_MAX},
            {"9223372036854775807", INT64_MAX, INT64_MAX},
            {"9223372036854775808", INT64_MAX, INT64_MAX},
            {"9223372036854775.807", 9223372036854776, INT64_MAX},
            {"9223372036854775.806k", INT64_MAX - 1, INT64_MAX},
            {"1e100", INT64_MAX, INT64_MAX},
            {"1e-100", 1, 1},
            /* Negative values round up too, towards zero. */
            {"-1", -1, -1000},
            {"-1.5", -1, -1500},
            {"-500m", 0, -500},
            {"-1n", 0, 0},
            {"-9.01", -9, -9010},
            {"-1e100", INT64_MIN, INT64_MIN},
            {"-9223372036854775808", INT64_MIN, INT64_MIN},
            {"-9Ei", -INT64_MAX, INT64_MIN},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                struct spec_quantity q = parse_ok(table[i].input);

                cr_expect_eq(q.value, table[i].value, "'%s': value %lld, want %lld", table[i].input,
                             (long long)q.value, (long long)table[i].value);
                cr_expect_eq(q.milli_value, table[i].milli, "'%s': milli %lld, want %lld",
                             table[i].input, (long long)q.milli_value, (long long)table[i].milli);
                spec_quantity_done(&q);
                cr_expect_null(q.text);
                cr_expect_not(q.set);
        }
}

Test(quantity, compare_exactly)
{
        static const struct {
                const char *a, *b;
                int cmp;
        } table[] = {
            {"1Ki", "1024", 0},
            {"1Gi", "1024Mi", 0},
            {"1G", "1Gi", -1},
            {"1000M", "1G", 0},
            {"500m", "0.5", 0},
            {"1", "999m", 1},
            {"1", "1000000001n", -1},
            {"-1", "1", -1},
            {"-2", "-1", -1},
            {"0", "-0", 0},
            {"0Ki", "0m", 0},
            {"1.1E-9", "2n", 0},
            {"0.00000012345", "124n", 0},
            {"9Ei", "10Ei", 0},
            {"12E", "11E", 1},
            {"1e100", "1e99", 1},
            {"1e-100", "1n", 0},
            {"-1e100", "-1e99", -1},
            /* Beyond what any int64 or double could tell apart. */
            {"123456789012345678901234567890", "123456789012345678901234567891", -1},
            {"100000000000000000000000000000000000000001", "1e41", 1},
            {"9223372036854775807", "9223372036854775808", -1},
            {"0.000000001", "1n", 0},
            {"8Ei", "9223372036854775807", 0},
            {"7.99999999999Ei", "8Ei", -1},
            {"1.0000000000000000001", "1", 1},
            {"1.0000000000000000001", "1000000001n", 0},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                struct spec_quantity a = parse_ok(table[i].a), b = parse_ok(table[i].b);

                cr_expect_eq(spec_quantity_cmp(&a, &b), table[i].cmp, "cmp('%s', '%s') = %d",
                             table[i].a, table[i].b, spec_quantity_cmp(&a, &b));
                cr_expect_eq(spec_quantity_cmp(&b, &a), -table[i].cmp, "cmp('%s', '%s') = %d",
                             table[i].b, table[i].a, spec_quantity_cmp(&b, &a));
                spec_quantity_done(&a);
                spec_quantity_done(&b);
        }
}

/* Quantity.String(), from TestQuantityString and TestQuantityParseEmit. */
Test(quantity, canonical_spelling)
{
        static const struct {
                const char *input, *canonical;
        } table[] = {
            {"1024Mi", "1Gi"},
            {"307200Ki", "300Mi"},
            {"6Ki", "6Ki"},
            {"1025024Mi", "1001Gi"},
            {"1024Gi", "1Ti"},
            {"1000M", "1G"},
            {"0.001T", "1G"},
            {"1000u", "1m"},
            {"80m", "80m"},
            {"1.08", "1080m"},
            {"1080000000n", "1080m"},
            {"300M", "300M"},
            {"1234567M", "1234567M"},
            {"3k", "3k"},
            {"1025", "1025"},
            {"0", "0"},
            {"0Ki", "0"},
            {".001e12", "1e9"},
            {"0.001e0", "1e-3"},
            {"1000e-12", "1e-9"},
            {"80e-3", "80e-3"},
            {"300e6", "300e6"},
            {"1e12", "1e12"},
            {"3e3", "3e3"},
            {"1n", "1n"},
            {"1080n", "1080n"},
            {"1080u", "1080u"},
            {"1Ki", "1Ki"},
            {"1Mi", "1Mi"},
            {"1Gi", "1Gi"},
            {".001Ki", "1024m"},
            {".000001Ki", "1024u"},
            {".000000001Ki", "1024n"},
            {".000000000001Ki", "2n"},
            {"-1024Mi", "-1Gi"},
            {"-1.08", "-1080m"},
            {"2000m", "2"},
            {"0.5Ki", "512"},
            {"1.5Gi", "1536Mi"},
            {"1536Ki", "1536Ki"},
            {"0.5", "500m"},
            {"1000", "1k"},
            {"1500", "1500"},
            {"100Mi", "100Mi"},
            {"12E", "12E"},
            {"1000E", "1000E"},
            {"9Ei", "9223372036854775807"},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                struct spec_quantity q = parse_ok(table[i].input);
                _cleanup_free_ char *s = spec_quantity_format(&q);

                cr_expect_str_eq(s, table[i].canonical, "'%s' prints '%s', want '%s'",
                                 table[i].input, s, table[i].canonical);
                spec_quantity_done(&q);
        }
}

Test(quantity, long_inputs_stay_exact)
{
        _cleanup_free_ char *big = pr_malloc(4003);
        struct spec_quantity a, b;

        /* 4000 digits: far beyond __int128, still exact. */
        big[0] = '1';
        memset(big + 1, '0', 3999);
        strcpy(big + 4000, "Ei");
        a = parse_ok(big);
        cr_expect_eq(a.value, INT64_MAX);
        big[3999] = '1';
        b = parse_ok(big);
        /* Both binary, both capped: equal. */
        cr_expect_eq(spec_quantity_cmp(&a, &b), 0);
        spec_quantity_done(&a);
        spec_quantity_done(&b);
        big[4000] = '\0';
        a = parse_ok(big);
        big[3999] = '0';
        b = parse_ok(big);
        cr_expect_eq(spec_quantity_cmp(&a, &b), 1);
        spec_quantity_done(&a);
        spec_quantity_done(&b);
}

/* A quantity from the grammar: sign, digits, fraction, one suffix. */
static char *random_quantity(unsigned *seed)
{
        static const char *const suffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                               "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        char buf[128];
        size_t n = 0;
        int whole = rand_r(seed) % 22, frac = rand_r(seed) % 14;

        if (rand_r(seed) % 4 == 0)
                buf[n++] = rand_r(seed) % 2 ? '-' : '+';
        for (int i = 0; i < whole; i++)
                buf[n++] = (char)('0' + rand_r(seed) % 10);
        if (frac == 0 || rand_r(seed) % 2)
                frac = 0;
        if (whole == 0 && frac == 0)
                buf[n++] = '1';
        if (frac > 0) {
                buf[n++] = '.';
                for (int i = 0; i < frac; i++)
                        buf[n++] = (char)('0' + rand_r(seed) % 10);
        }
        if (rand_r(seed) % 5 == 0)
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%c%d",
                                      rand_r(seed) % 2 ? 'e' : 'E', rand_r(seed) % 61 - 30);
        else
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
                                      suffixes[rand_r(seed) % PR_ELEMENTSOF(suffixes)]);
        buf[n] = '\0';
        return pr_strdup(buf);
}

/* Property: the canonical spelling reads back as the same exact value,
 * and comparison is a consistent total order. */
Test(quantity, canonical_spelling_round_trips)
{
        unsigned seed = 20261130;

        for (int i = 0; i < 20000; i++) {
                _cleanup_free_ char *a_text = random_quantity(&seed);
                _cleanup_free_ char *b_text = random_quantity(&seed);
                struct spec_quantity a = parse_ok(a_text), b = parse_ok(b_text), again = {};
                _cleanup_free_ char *canon = spec_quantity_format(&a);
                int ab, ba;

                cr_assert_eq(spec_quantity_parse(canon, &again), 0, "'%s' printed '%s'", a_text,
                             canon);
                cr_assert_eq(spec_quantity_cmp(&a, &again), 0, "'%s' printed '%s'", a_text, canon);
                cr_assert_eq(a.value, again.value, "'%s' / '%s'", a_text, canon);
                cr_assert_eq(a.milli_value, again.milli_value, "'%s' / '%s'", a_text, canon);
                cr_assert_eq(spec_quantity_cmp(&a, &a), 0);
                ab = spec_quantity_cmp(&a, &b);
                ba = spec_quantity_cmp(&b, &a);
                cr_assert_eq(ab, -ba, "'%s' vs '%s'", a_text, b_text);
                /* Values are rounded views of the exact order: never against it. */
                if (ab < 0)
                        cr_assert_leq(a.milli_value, b.milli_value, "'%s' < '%s'", a_text, b_text);
                spec_quantity_done(&a);
                spec_quantity_done(&b);
                spec_quantity_done(&again);
        }
}
