/* specs/ private: the table-driven conversion of YAML nodes into spec
 * structs, shared by pod.c, pod-container.c and pod-volume.c. Each object
 * kind is a table of {field name, handler, offset}: a key not in the table is
 * an unknown field (with a did-you-mean over that table), a handler checks the
 * node's type and fills the field at the offset. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "specs/specs-int.h"
#include "specs/yaml-int.h"

struct conv {
        const char *file;
        struct spec_diags *diags;
        int errors;
        struct spec_pod *pod;
        /* The Kubernetes path of the field being converted. */
        char *path;
        size_t path_len, path_cap;
        /* Where the current field was written (see record_pos). */
        struct spec_pos pos;
        /* Fields given in the current one-of object (volume source, handler,
         * valueFrom): a second one is an error. */
        unsigned oneof;
};

struct field;
typedef void (*field_fn)(struct conv *c, const struct spec_node *n, void *dst,
                         const struct field *f);

struct field {
        const char *name;
        field_fn fn;
        size_t offset;
        const void *aux; /* the handler's own: a table, a reason, an object */
};

struct object_desc {
        const struct field *fields;
        size_t n;
        /* Where the object sits, for "belongs in" hints; NULL if not a
         * landmark (see spec_landmarks). */
        const char *where;
};

#define OBJECT_DESC(table)                                                                         \
        {                                                                                          \
                (table), sizeof(table) / sizeof((table)[0]), NULL                                  \
        }
#define OBJECT_DESC_AT(table, where)                                                               \
        {                                                                                          \
                (table), sizeof(table) / sizeof((table)[0]), (where)                               \
        }

/* The objects a misplaced field most often belongs to (pod.c): an unknown
 * field that is one of theirs gets a hint about indentation. */
extern const struct object_desc *const spec_landmarks[];

void conv_error(struct conv *c, struct spec_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conv_warning(struct conv *c, struct spec_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path segments: push returns the length to pop back to. */
size_t conv_push_key(struct conv *c, const char *key);
size_t conv_push_index(struct conv *c, size_t i);
void conv_pop(struct conv *c, size_t len);

/* Converts a mapping through a table into obj; a null node is an absent
 * object and leaves obj alone. Returns false when n is not a mapping. */
bool conv_object(struct conv *c, const struct spec_node *n, void *obj,
                 const struct object_desc *desc);

/* Calls fn on every item of a list with the path indexed; a null node is an
 * absent list. Returns the number of items, or -1 when n is not a list. */
long conv_list(struct conv *c, const struct spec_node *n,
               void (*fn)(struct conv *c, const struct spec_node *item, void *arg, size_t i),
               void *arg);

/* Type errors, worded alike everywhere. */
void conv_type_error(struct conv *c, const struct spec_node *n, const char *expected);

/* Generic handlers; dst is at the field's offset. */
void f_string(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_int32(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_int64(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_bool(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_opt_i64(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_opt_bool(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_strv(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_string_map(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_quantity(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
void f_int_or_string(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
/* aux: const struct spec_enum_table *; dst: an enum (int-sized). */
void f_enum(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
/* aux: const struct object_desc *. */
void f_object(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
/* aux: the reason, as "ignored: <aux>". */
void f_ignored(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
/* aux: the reason, as "not supported: <aux>" (an error). */
void f_unsupported(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);
/* A {name, value} list (sysctls, dnsConfig.options) into a spec_map. */
void f_name_value_list(struct conv *c, const struct spec_node *n, void *dst, const struct field *f);

/* Converting a scalar's text (numbers as JSON would print them). */
bool conv_int(struct conv *c, const struct spec_node *n, int64_t min, int64_t max, int64_t *ret);
char *conv_strdup(struct conv *c, const struct spec_node *n);

/* pod-container.c */
extern const struct object_desc spec_container_desc;
void conv_container_defaults(struct spec_pod *pod, struct spec_container *ctr);
void spec_container_done(struct spec_container *ctr);
extern const struct object_desc spec_seccomp_desc;

/* pod-volume.c */
extern const struct object_desc spec_volume_desc;
void conv_volume_defaults(struct spec_volume *v);
void spec_volume_done(struct spec_volume *v);
void spec_quantity_copy(const struct spec_quantity *from, struct spec_quantity *to);
void spec_map_done(struct spec_map *m);
