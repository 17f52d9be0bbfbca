/* The vocabulary of validation: Kubernetes' error shapes and its name rules
 * (DNS labels and subdomains, port names, environment variable names, IP
 * addresses), with the exact messages of k8s.io/apimachinery, so a podrun
 * diagnostic reads as the API server's would. Owns wording only: it must
 * never decide which field gets which rule (validate*.c do), and never
 * reword a message Kubernetes has, since users search for them. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MSG                                                                          \
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "   \
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "   \
        "regex used for validation is '" DNS1123_LABEL_FMT "')"
#define DNS1123_SUBDOMAIN_MSG                                                                      \
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "  \
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "      \
        "regex used for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')"
#define ENV_VAR_NAME_MSG                                                                           \
        "a valid environment variable name must consist of alphabetic characters, digits, '_', "   \
        "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  "   \
        "or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
#define CONFIG_MAP_KEY_MSG                                                                         \
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "       \
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "                \
        "'[-._a-zA-Z0-9]+')"

char *val_quote(const char *s)
{
        size_t n = strlen(s);
        char *out = pr_malloc(n * 4 + 3), *p = out;

        *p++ = '"';
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                const char *esc = NULL;

                switch (ch) {
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\a':
                        esc = "\\a";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                case '\v':
                        esc = "\\v";
                        break;
                default:
                        break;
                }
                if (esc) {
                        p = stpcpy(p, esc);
                } else if (ch < 0x20 || ch == 0x7f) {
                        p += sprintf(p, "\\x%02x", ch);
                } else {
                        *p++ = (char)ch;
                }
        }
        *p++ = '"';
        *p = '\0';
        return out;
}

static void report_body(struct val_ctx *c, const char *path, const char *body, const char *detail)
{
        if (detail && *detail)
                val_report(c, SPEC_ERROR, path, "%s: %s", body, detail);
        else
                val_report(c, SPEC_ERROR, path, "%s", body);
}

static void report_value(struct val_ctx *c, const char *path, const char *type, const char *value,
                         const char *detail)
{
        _cleanup_free_ char *q = val_quote(value ? value : "");
        _cleanup_free_ char *body = pr_asprintf("%s: %s", type, q);

        report_body(c, path, body, detail);
}

void val_invalid(struct val_ctx *c, const char *path, const char *value, const char *detail)
{
        report_value(c, path, "Invalid value", value, detail);
}

/* Go prints a []string value as []string{"a", "b"}. */
void val_invalid_strv(struct val_ctx *c, const char *path, char *const *values, const char *detail)
{
        _cleanup_free_ char *body = pr_strdup("Invalid value: []string{");

        for (size_t i = 0; values && values[i]; i++) {
                _cleanup_free_ char *q = val_quote(values[i]);
                char *next = pr_asprintf("%s%s%s", body, i > 0 ? ", " : "", q);

                free(body);
                body = next;
        }
        _cleanup_free_ char *closed = pr_asprintf("%s}", body);

        report_body(c, path, closed, detail);
}

void val_invalid_int(struct val_ctx *c, const char *path, int64_t value, const char *detail)
{
        _cleanup_free_ char *body = pr_asprintf("Invalid value: %lld", (long long)value);

        report_body(c, path, body, detail);
}

void val_required(struct val_ctx *c, const char *path, const char *detail)
{
        report_body(c, path, "Required value", detail);
}

void val_forbidden(struct val_ctx *c, const char *path, const char *detail)
{
        report_body(c, path, "Forbidden", detail);
}

void val_duplicate(struct val_ctx *c, const char *path, const char *value)
{
        report_value(c, path, "Duplicate value", value, NULL);
}

void val_not_found(struct val_ctx *c, const char *path, const char *value)
{
        report_value(c, path, "Not found", value, NULL);
}

void val_too_long(struct val_ctx *c, const char *path, int max)
{
        _cleanup_free_ char *detail = pr_asprintf("may not be more than %d bytes", max);

        report_body(c, path, "Too long", detail);
}

void val_too_many(struct val_ctx *c, const char *path, int64_t actual, int64_t max)
{
        _cleanup_free_ char *body = pr_asprintf("Too many: %lld", (long long)actual);
        _cleanup_free_ char *detail = pr_asprintf("must have at most %lld items", (long long)max);

        report_body(c, path, body, detail);
}

void val_unsupported(struct val_ctx *c, const char *path, const char *value,
                     const char *const *supported)
{
        _cleanup_free_ char *detail = pr_strdup("supported values: ");

        for (size_t i = 0; supported[i]; i++) {
                _cleanup_free_ char *q = val_quote(supported[i]);
                char *next = pr_asprintf("%s%s%s", detail, i > 0 ? ", " : "", q);

                free(detail);
                detail = next;
        }
        report_value(c, path, "Unsupported value", value, detail);
}

void val_warning(struct val_ctx *c, const char *path, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort(); /* out of memory, as pr_malloc */
        va_end(ap);
        val_report(c, SPEC_WARNING, path, "%s", msg);
}

static bool is_lower_alnum(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Matches one DNS-1123 label of [start, end): [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static bool match_label(const char *s, size_t n)
{
        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool match_subdomain(const char *s)
{
        for (;;) {
                const char *dot = strchr(s, '.');
                size_t n = dot ? (size_t)(dot - s) : strlen(s);

                if (!match_label(s, n))
                        return false;
                if (!dot)
                        return true;
                s = dot + 1;
        }
}

static bool is_dns1123_subdomain(const char *s)
{
        return strlen(s) <= 253 && match_subdomain(s);
}

bool val_dns1123_label(struct val_ctx *c, const char *path, const char *value)
{
        size_t n = strlen(value);
        bool ok = true;

        if (n > 63) {
                val_invalid(c, path, value, "must be no more than 63 characters");
                ok = false;
        }
        if (!match_label(value, n)) {
                /* A valid subdomain that is no label can only have dots. */
                val_invalid(c, path, value,
                            match_subdomain(value) ? "must not contain dots" : DNS1123_LABEL_MSG);
                ok = false;
        }
        return ok;
}

bool val_dns1123_subdomain(struct val_ctx *c, const char *path, const char *value)
{
        bool ok = true;

        if (strlen(value) > 253) {
                val_invalid(c, path, value, "must be no more than 253 characters");
                ok = false;
        }
        if (!match_subdomain(value)) {
                val_invalid(c, path, value, DNS1123_SUBDOMAIN_MSG);
                ok = false;
        }
        return ok;
}

/* IANA_SVC_NAME (RFC 6335), lower case only as Kubernetes has it. */
bool val_port_name(struct val_ctx *c, const char *path, const char *value)
{
        size_t n = strlen(value);
        bool charset = n > 0, letter = false;
        int before = c->errors;

        for (size_t i = 0; i < n; i++) {
                if (value[i] >= 'a' && value[i] <= 'z')
                        letter = true;
                else if (!(value[i] >= '0' && value[i] <= '9') && value[i] != '-')
                        charset = false;
        }
        if (n > 15)
                val_invalid(c, path, value, "must be no more than 15 characters");
        if (!charset)
                val_invalid(
                    c, path, value,
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        if (!letter)
                val_invalid(c, path, value, "must contain at least one letter (a-z)");
        if (strstr(value, "--"))
                val_invalid(c, path, value, "must not contain consecutive hyphens");
        if (n > 0 && (value[0] == '-' || value[n - 1] == '-'))
                val_invalid(c, path, value, "must not begin or end with a hyphen");
        return c->errors == before;
}

/* '.', '..' and '..x' would let a name act as a relative directory. */
static bool chdir_prefix(struct val_ctx *c, const char *path, const char *value)
{
        if (strcmp(value, ".") == 0)
                val_invalid(c, path, value, "must not be '.'");
        else if (strcmp(value, "..") == 0)
                val_invalid(c, path, value, "must not be '..'");
        else if (pr_startswith(value, ".."))
                val_invalid(c, path, value, "must not start with '..'");
        else
                return true;
        return false;
}

static bool is_env_char(char ch, bool first)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '.' ||
               ch == '_' || (!first && ch >= '0' && ch <= '9');
}

bool val_env_var_name(struct val_ctx *c, const char *path, const char *value)
{
        bool ok = value[0] != '\0';

        for (size_t i = 0; ok && value[i]; i++)
                ok = is_env_char(value[i], i == 0);
        if (!ok)
                val_invalid(c, path, value, ENV_VAR_NAME_MSG);
        return chdir_prefix(c, path, value) && ok;
}

bool val_config_map_key(struct val_ctx *c, const char *path, const char *value)
{
        bool short_enough = strlen(value) <= 253, match = value[0] != '\0';

        if (!short_enough)
                val_invalid(c, path, value, "must be no more than 253 characters");
        for (size_t i = 0; match && value[i]; i++)
                match = is_env_char(value[i], false);
        if (!match)
                val_invalid(c, path, value, CONFIG_MAP_KEY_MSG);
        return chdir_prefix(c, path, value) && short_enough && match;
}

bool val_ip(struct val_ctx *c, const char *path, const char *value)
{
        unsigned char buf[sizeof(struct in6_addr)];

        if (inet_pton(AF_INET, value, buf) == 1 || inet_pton(AF_INET6, value, buf) == 1)
                return true;
        val_invalid(c, path, value,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
        return false;
}

static bool is_alnum(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], the name part of a label key
 * and the whole of a label value. */
static bool match_qualified(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

#define QUALIFIED_NAME_BODY                                                                        \
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "   \
        "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "  \
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                            \
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "   \
        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "      \
        "'my_value',  or '12345', regex used for validation is "                                   \
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

/* IsQualifiedName: an optional DNS subdomain prefix, '/', and a name part. */
void val_qualified_name(struct val_ctx *c, const char *path, const char *key)
{
        const char *slash = strchr(key, '/');
        const char *name = slash ? slash + 1 : key;

        if (slash && strchr(name, '/')) {
                val_invalid(c, path, key,
                            "a qualified name " QUALIFIED_NAME_BODY " with an optional DNS "
                            "subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return;
        }
        if (slash) {
                _cleanup_free_ char *prefix = pr_strndup(key, (size_t)(slash - key));

                if (!*prefix)
                        val_invalid(c, path, key, "prefix part must be non-empty");
                else if (!is_dns1123_subdomain(prefix)) {
                        if (strlen(prefix) > 253)
                                val_invalid(c, path, key,
                                            "prefix part must be no more than 253 characters");
                        if (!match_subdomain(prefix))
                                val_invalid(c, path, key, "prefix part " DNS1123_SUBDOMAIN_MSG);
                }
        }
        if (!*name)
                val_invalid(c, path, key, "name part must be non-empty");
        else if (strlen(name) > 63)
                val_invalid(c, path, key, "name part must be no more than 63 characters");
        if (!match_qualified(name, strlen(name)))
                val_invalid(c, path, key, "name part " QUALIFIED_NAME_BODY);
}

void val_labels(struct val_ctx *c, const char *path, const struct spec_map *labels)
{
        for (size_t i = 0; i < labels->n; i++) {
                const struct spec_kv *kv = &labels->items[i];
                const char *v = kv->value ? kv->value : "";

                c->pos_override = &kv->pos;
                val_qualified_name(c, path, kv->key);
                if (strlen(v) > 63)
                        val_invalid(c, path, v, "must be no more than 63 characters");
                if (*v && !match_qualified(v, strlen(v)))
                        val_invalid(c, path, v, LABEL_VALUE_MSG);
                c->pos_override = NULL;
        }
}

void val_annotations(struct val_ctx *c, const char *path, const struct spec_map *annotations)
{
        size_t total = 0;

        for (size_t i = 0; i < annotations->n; i++) {
                const struct spec_kv *kv = &annotations->items[i];
                _cleanup_free_ char *lower = pr_strdup(kv->key);

                /* Annotation keys are checked case-insensitively. */
                for (char *p = lower; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p = (char)(*p - 'A' + 'a');
                c->pos_override = &kv->pos;
                val_qualified_name(c, path, lower);
                c->pos_override = NULL;
                total += strlen(kv->key) + (kv->value ? strlen(kv->value) : 0);
        }
        if (total > 256 * 1024)
                val_too_long(c, path, 256 * 1024);
}
