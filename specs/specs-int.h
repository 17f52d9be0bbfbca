/* specs/ private: the string tables behind the enums, diagnostic helpers and
 * the conversion entry point shared by the files of specs/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "specs/specs.h"

struct spec_yaml_doc;

/* The Kubernetes spellings of one enum, indexed by value. Values below
 * `first` (an "unset" placeholder) are not accepted from a manifest. */
struct spec_enum_table {
        const char *const *names;
        size_t n;
        size_t first;
};

extern const struct spec_enum_table spec_restart_policy_table;
extern const struct spec_enum_table spec_pull_policy_table;
extern const struct spec_enum_table spec_dns_policy_table;
extern const struct spec_enum_table spec_protocol_table;
extern const struct spec_enum_table spec_uri_scheme_table;
extern const struct spec_enum_table spec_termination_message_policy_table;
extern const struct spec_enum_table spec_mount_propagation_table;
extern const struct spec_enum_table spec_seccomp_type_table;
extern const struct spec_enum_table spec_proc_mount_table;
extern const struct spec_enum_table spec_storage_medium_table;
extern const struct spec_enum_table spec_host_path_type_table;

/* The value of s in t at or after t->first, or -EINVAL. */
int spec_enum_lookup(const struct spec_enum_table *t, const char *s);

/* `"a", "b", "c"`, sorted as the API server lists supported values.
 * Caller frees. */
char *spec_enum_supported(const struct spec_enum_table *t);

/* Orders diags->items[from..] by line and column, keeping the order of
 * findings at one position (stable). */
void spec_diags_sort(struct spec_diags *diags, size_t from);

/* Turns one YAML document into a pod: appends type, field, and value
 * diagnostics, and returns the number of errors among them. The pod is
 * filled as far as it could be either way; the caller frees it. */
int spec_pod_convert(const char *file, const struct spec_yaml_doc *doc, struct spec_pod *pod,
                     struct spec_diags *diags);

/* Levenshtein distance of a and b, capped at cap + 1. */
size_t spec_edit_distance(const char *a, const char *b, size_t cap);

/* Text of a manifest made safe to print: at most max bytes, quotes,
 * backslashes and control bytes escaped (a hostile manifest must not write
 * escape sequences to a terminal), "..." when cut. Caller frees. */
char *spec_excerpt(const char *s, size_t len, size_t max);

/* Keys longer than this, or holding control bytes, appear in field paths
 * through spec_excerpt(). */
#define SPEC_PATH_KEY_MAX 128
bool spec_key_is_plain(const char *s, size_t len);

