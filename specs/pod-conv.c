/* The machinery that turns YAML nodes into spec structs: field tables,
 * paths, positions, type checks and the wording of type errors. It knows no
 * Pod field by name (pod*.c hold the tables) and must never stop at the first
 * problem: every field of a document is looked at. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/pod-int.h"

static void vadd(struct conv *c, enum spec_severity sev, struct spec_pos pos, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));

static void vadd(struct conv *c, enum spec_severity sev, struct spec_pos pos, const char *fmt,
                 va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                abort(); /* out of memory, as pr_malloc */
        spec_diags_add(c->diags, sev, c->file, pos, c->path_len ? c->path : NULL, "%s", msg);
        if (sev == SPEC_ERROR)
                c->errors++;
}

void conv_error(struct conv *c, struct spec_pos pos, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vadd(c, SPEC_ERROR, pos, fmt, ap);
        va_end(ap);
}

void conv_warning(struct conv *c, struct spec_pos pos, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vadd(c, SPEC_WARNING, pos, fmt, ap);
        va_end(ap);
}

static size_t push(struct conv *c, const char *sep, const char *seg, size_t seg_len)
{
        size_t old = c->path_len, sep_len = strlen(sep);
        size_t need = old + sep_len + seg_len + 1;

        if (need > c->path_cap) {
                c->path_cap = need * 2;
                c->path = pr_realloc(c->path, c->path_cap);
        }
        memcpy(c->path + old, sep, sep_len);
        memcpy(c->path + old + sep_len, seg, seg_len);
        c->path_len = old + sep_len + seg_len;
        c->path[c->path_len] = '\0';
        return old;
}

size_t conv_push_key(struct conv *c, const char *key)
{
        size_t len = strlen(key);
        _cleanup_free_ char *safe = NULL;

        if (spec_key_is_plain(key, len))
                return push(c, c->path_len ? "." : "", key, len);
        safe = spec_excerpt(key, len, SPEC_PATH_KEY_MAX);
        return push(c, c->path_len ? "." : "", safe, strlen(safe));
}

size_t conv_push_index(struct conv *c, size_t i)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "[%zu]", i);

        return push(c, "", buf, (size_t)n);
}

void conv_pop(struct conv *c, size_t len)
{
        c->path_len = len;
        if (c->path)
                c->path[len] = '\0';
}

static bool is_null(const struct spec_node *n)
{
        return !n || (n->kind == SPEC_NODE_SCALAR && n->type == SPEC_SCALAR_NULL);
}

/* A scalar for a message: at most 40 bytes, escaped. */
static char *excerpt(const struct spec_node *n)
{
        return spec_excerpt(n->value, n->len, 40);
}

void conv_type_error(struct conv *c, const struct spec_node *n, const char *expected)
{
        _cleanup_free_ char *text = NULL;

        if (n->kind != SPEC_NODE_SCALAR || n->type == SPEC_SCALAR_NULL) {
                conv_error(c, n->pos, "expected %s, got %s", expected, spec_node_type_name(n));
                return;
        }
        text = excerpt(n);
        if (n->type == SPEC_SCALAR_STRING)
                conv_error(c, n->pos, "expected %s, got a string: \"%s\"", expected, text);
        else if (strcmp(expected, "a string") == 0)
                /* go-yaml reads yes, on, 80 as a boolean or a number. */
                conv_error(c, n->pos,
                           "expected a string, got %s: %s (quote it to make it a string)",
                           spec_node_type_name(n), text);
        else
                conv_error(c, n->pos, "expected %s, got %s: %s", expected, spec_node_type_name(n),
                           text);
}

char *conv_strdup(struct conv *c, const struct spec_node *n)
{
        if (n->kind != SPEC_NODE_SCALAR || n->type != SPEC_SCALAR_STRING) {
                conv_type_error(c, n, "a string");
                return NULL;
        }
        if (strlen(n->value) != n->len) {
                conv_error(c, n->pos, "must not contain a NUL character");
                return NULL;
        }
        return pr_strdup(n->value);
}

bool conv_int(struct conv *c, const struct spec_node *n, int64_t min, int64_t max, int64_t *ret)
{
        int64_t v;

        if (n->kind != SPEC_NODE_SCALAR ||
            (n->type != SPEC_SCALAR_INT && n->type != SPEC_SCALAR_FLOAT)) {
                conv_type_error(c, n, "an integer");
                return false;
        }
        if (n->type == SPEC_SCALAR_FLOAT) {
                /* JSON has one number type: 8.0 or 1e3 decode into an int. */
                if (!isfinite(n->number) || n->number != floor(n->number)) {
                        conv_type_error(c, n, "an integer");
                        return false;
                }
                if (n->number < -9.2e18 || n->number > 9.2e18) {
                        _cleanup_free_ char *text = excerpt(n);
                        conv_error(c, n->pos, "value %s is out of range [%" PRId64 ", %" PRId64 "]",
                                   text, min, max);
                        return false;
                }
                v = (int64_t)n->number;
        } else {
                v = n->integer;
        }
        if (v < min || v > max) {
                conv_error(c, n->pos,
                           "value %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", v, min,
                           max);
                return false;
        }
        *ret = v;
        return true;
}

static const struct field *lookup(const struct object_desc *d, const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->fields[i].name, name) == 0)
                        return &d->fields[i];
        return NULL;
}

/* The closest field name by edit distance, if it is close enough to be the
 * one the author meant: one edit for short names, two for longer ones. */
static const char *suggest(const struct object_desc *d, const char *name)
{
        size_t len = strlen(name), cap = len >= 6 ? 2 : 1, best = cap + 1;
        const char *found = NULL;

        for (size_t i = 0; i < d->n; i++) {
                size_t dist = spec_edit_distance(name, d->fields[i].name, cap);
                if (dist < best && dist < len) {
                        best = dist;
                        found = d->fields[i].name;
                }
        }
        return found;
}

/* An unknown field: a near miss in this object, or else the object it
 * belongs to when that is another well-known one (a mis-indented line). */
static void unknown_field(struct conv *c, const struct spec_node *key,
                          const struct object_desc *desc)
{
        const char *s = suggest(desc, key->value);

        if (s) {
                conv_error(c, key->pos, "unknown field, did you mean \"%s\"?", s);
                return;
        }
        for (size_t i = 0; spec_landmarks[i]; i++)
                if (spec_landmarks[i] != desc && lookup(spec_landmarks[i], key->value) &&
                    spec_key_is_plain(key->value, key->len)) {
                        conv_error(c, key->pos,
                                   "unknown field; \"%s\" is a field of %s, check the "
                                   "indentation",
                                   key->value, spec_landmarks[i]->where);
                        return;
                }
        conv_error(c, key->pos, "unknown field");
}

static void record_pos(struct conv *c, struct spec_pos pos)
{
        struct spec_field_pos *fp;

        fp = pr_array_grow(&c->pod->field_pos, &c->pod->n_field_pos, sizeof(*fp));
        fp->path = pr_strndup(c->path, c->path_len);
        fp->pos = pos;
}

bool conv_object(struct conv *c, const struct spec_node *n, void *obj,
                 const struct object_desc *desc)
{
        if (is_null(n))
                return true;
        if (n->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, n, "an object");
                return false;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct spec_node *key = spec_node_key(n, i);
                const struct spec_node *value = spec_node_value(n, i);
                const struct field *f = lookup(desc, key->value);
                size_t saved = conv_push_key(c, key->value);

                if (!f) {
                        unknown_field(c, key, desc);
                } else {
                        /* A scalar error points at the value, anything else
                         * at the key that names it. */
                        c->pos = value->kind == SPEC_NODE_SCALAR && !is_null(value) ? value->pos
                                                                                    : key->pos;
                        record_pos(c, c->pos);
                        if (!is_null(value))
                                f->fn(c, value, (char *)obj + f->offset, f);
                }
                conv_pop(c, saved);
        }
        return true;
}

long conv_list(struct conv *c, const struct spec_node *n,
               void (*fn)(struct conv *c, const struct spec_node *item, void *arg, size_t i),
               void *arg)
{
        if (is_null(n))
                return 0;
        if (n->kind != SPEC_NODE_SEQUENCE) {
                conv_type_error(c, n, "a list");
                return -1;
        }
        for (size_t i = 0; i < n->n; i++) {
                size_t saved = conv_push_index(c, i);
                const struct spec_node *item = n->children[i];

                c->pos = item->pos;
                record_pos(c, item->pos);
                fn(c, item, arg, i);
                conv_pop(c, saved);
        }
        return (long)n->n;
}

void f_string(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        char **s = dst;
        char *v = conv_strdup(c, n);

        (void)f;
        if (v) {
                free(*s);
                *s = v;
        }
}

void f_int32(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT32_MIN, INT32_MAX, &v))
                *(int32_t *)dst = (int32_t)v;
}

void f_int64(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT64_MIN, INT64_MAX, &v))
                *(int64_t *)dst = v;
}

void f_bool(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        if (n->kind != SPEC_NODE_SCALAR || n->type != SPEC_SCALAR_BOOL) {
                conv_type_error(c, n, "a boolean");
                return;
        }
        *(bool *)dst = n->boolean;
}

void f_opt_i64(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_opt_i64 *o = dst;
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT64_MIN, INT64_MAX, &v)) {
                o->set = true;
                o->value = v;
        }
}

void f_opt_bool(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_opt_bool *o = dst;

        (void)f;
        if (n->kind != SPEC_NODE_SCALAR || n->type != SPEC_SCALAR_BOOL) {
                conv_type_error(c, n, "a boolean");
                return;
        }
        o->set = true;
        o->value = n->boolean;
}

struct strv_fill {
        char **v;
        size_t n;
};

static void strv_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct strv_fill *fill = arg;
        /* JSON null in a []string decodes to "", as the API server reads it. */
        char *s = is_null(item) ? pr_strdup("") : conv_strdup(c, item);

        (void)i;
        if (s)
                fill->v[fill->n++] = s;
}

void f_strv(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        char ***v = dst;
        struct strv_fill fill = {0};

        (void)f;
        *v = pr_strv_free(*v);
        if (n->kind != SPEC_NODE_SEQUENCE) {
                conv_type_error(c, n, "a list");
                return;
        }
        /* Sized once: the list may be long. An empty list is given, not
         * absent: command: [] overrides the image's entrypoint. */
        fill.v = pr_calloc(n->n + 1, sizeof(char *));
        (void)conv_list(c, n, strv_item, &fill);
        *v = fill.v;
}

void f_string_map(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_map *m = dst;

        (void)f;
        if (n->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, n, "an object");
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                const struct spec_node *key = spec_node_key(n, i);
                const struct spec_node *value = spec_node_value(n, i);
                size_t saved = conv_push_key(c, key->value);
                char *v = is_null(value) ? pr_strdup("") : conv_strdup(c, value);

                if (v && strlen(key->value) != key->len) {
                        conv_error(c, key->pos, "must not contain a NUL character");
                        free(v);
                        v = NULL;
                }
                if (v) {
                        struct spec_kv *kv = pr_array_grow(&m->items, &m->n, sizeof(*kv));
                        kv->key = pr_strdup(key->value);
                        kv->value = v;
                        kv->pos = key->pos;
                }
                conv_pop(c, saved);
        }
}

#define QUANTITY_REGEX "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

void f_quantity(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_quantity *q = dst;
        _cleanup_free_ char *text = NULL;

        (void)f;
        if (n->kind != SPEC_NODE_SCALAR || n->type == SPEC_SCALAR_BOOL) {
                conv_type_error(c, n, "a quantity (a string or a number)");
                return;
        }
        /* A YAML number reaches Kubernetes as JSON: 0x10 is 16 there too. */
        if (n->type == SPEC_SCALAR_INT)
                text = pr_asprintf("%" PRId64, n->integer);
        else if (strlen(n->value) == n->len)
                text = pr_strdup(n->value);
        spec_quantity_done(q);
        if (!text || spec_quantity_parse(text, q) < 0) {
                _cleanup_free_ char *shown = excerpt(n);
                spec_quantity_done(q);
                conv_error(c, n->pos,
                           "Invalid value: \"%s\": quantities must match the regular "
                           "expression " QUANTITY_REGEX,
                           shown);
                return;
        }
        q->pos = n->pos;
}

void f_int_or_string(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_int_or_string *v = dst;
        int64_t i;

        (void)f;
        if (n->kind == SPEC_NODE_SCALAR && n->type == SPEC_SCALAR_STRING) {
                char *s = conv_strdup(c, n);
                if (!s)
                        return;
                free(v->string);
                *v = (struct spec_int_or_string){.set = true, .is_string = true, .string = s};
                return;
        }
        if (n->kind != SPEC_NODE_SCALAR ||
            (n->type != SPEC_SCALAR_INT && n->type != SPEC_SCALAR_FLOAT)) {
                conv_type_error(c, n, "an integer or a string");
                return;
        }
        if (!conv_int(c, n, INT32_MIN, INT32_MAX, &i))
                return;
        free(v->string);
        *v = (struct spec_int_or_string){.set = true, .number = (int32_t)i};
}

void f_enum(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        const struct spec_enum_table *t = f->aux;
        _cleanup_free_ char *supported = NULL, *shown = NULL;
        int v;

        if (n->kind != SPEC_NODE_SCALAR || n->type != SPEC_SCALAR_STRING) {
                conv_type_error(c, n, "a string");
                return;
        }
        v = spec_enum_lookup(t, n->value);
        if (v >= 0 && strlen(n->value) == n->len) {
                *(int *)dst = v;
                return;
        }
        /* "" is what the API server defaults, as if the field were absent. */
        if (n->len == 0)
                return;
        supported = spec_enum_supported(t);
        shown = excerpt(n);
        conv_error(c, n->pos, "Unsupported value: \"%s\": supported values: %s", shown, supported);
}

void f_object(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)conv_object(c, n, dst, f->aux);
}

void f_ignored(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)n;
        (void)dst;
        conv_warning(c, c->pos, "ignored: %s", (const char *)f->aux);
}

void f_unsupported(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)n;
        (void)dst;
        conv_error(c, c->pos, "not supported: %s", (const char *)f->aux);
}

/* clang-format off */
static const struct field name_value_fields[] = {
        { "name", f_string, offsetof(struct spec_kv, key), NULL },
        { "value", f_string, offsetof(struct spec_kv, value), NULL },
};
/* clang-format on */
static const struct object_desc name_value_desc = OBJECT_DESC(name_value_fields);

static void name_value_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_map *m = arg;
        struct spec_kv *kv;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        kv = pr_array_grow(&m->items, &m->n, sizeof(*kv));
        kv->pos = item->pos;
        (void)conv_object(c, item, kv, &name_value_desc);
        /* The validator reports the missing name; users of the map may
         * rely on a key being there. */
        if (!kv->key)
                kv->key = pr_strdup("");
}

void f_name_value_list(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, name_value_item, dst);
}
