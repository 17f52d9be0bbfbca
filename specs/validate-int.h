/* Shared between the validate*.c files: the running context, Kubernetes'
 * error shapes (field.Invalid, field.Required, ...) and its name rules. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pod/base/util.h"
#include "specs/specs.h"

struct val_ctx {
        const struct spec_pod *pod;
        struct spec_diags *diags;
        int errors;
        /* Set while checking a map entry, whose position the entry holds. */
        const struct spec_pos *pos_override;
        /* The names of the valid volumes, sorted: what volumeMounts may name. */
        const char **volume_names;
        size_t n_volume_names;
};

/* One diagnostic at the position of path (or its nearest written parent). */
void val_report(struct val_ctx *c, enum spec_severity severity, const char *path, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* field.ErrorList shapes, worded as Kubernetes' field.Error.ErrorBody(). A
 * NULL or empty detail is left out. */
void val_invalid(struct val_ctx *c, const char *path, const char *value, const char *detail);
void val_invalid_int(struct val_ctx *c, const char *path, int64_t value, const char *detail);
void val_invalid_strv(struct val_ctx *c, const char *path, char *const *values, const char *detail);
void val_required(struct val_ctx *c, const char *path, const char *detail);
void val_forbidden(struct val_ctx *c, const char *path, const char *detail);
void val_duplicate(struct val_ctx *c, const char *path, const char *value);
void val_not_found(struct val_ctx *c, const char *path, const char *value);
void val_too_long(struct val_ctx *c, const char *path, int max);
void val_too_many(struct val_ctx *c, const char *path, int64_t actual, int64_t max);
/* supported is NULL-terminated. */
void val_unsupported(struct val_ctx *c, const char *path, const char *value,
                     const char *const *supported);
void val_warning(struct val_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Go's %q of a string: quoted, with escapes. Caller frees. */
char *val_quote(const char *s);

/* Name rules of k8s.io/apimachinery/pkg/util/validation: each reports one
 * Invalid error per failed rule, exactly as the Go function's messages. */
bool val_dns1123_label(struct val_ctx *c, const char *path, const char *value);
bool val_dns1123_subdomain(struct val_ctx *c, const char *path, const char *value);
bool val_port_name(struct val_ctx *c, const char *path, const char *value);
bool val_env_var_name(struct val_ctx *c, const char *path, const char *value);
bool val_config_map_key(struct val_ctx *c, const char *path, const char *value);
bool val_ip(struct val_ctx *c, const char *path, const char *value);

void val_labels(struct val_ctx *c, const char *path, const struct spec_map *labels);
void val_annotations(struct val_ctx *c, const char *path, const struct spec_map *annotations);

/* The parts of the pod, each in its own file. */
void val_containers(struct val_ctx *c);         /* validate-container.c */
void val_host_network_ports(struct val_ctx *c); /* validate-container.c */
void val_volumes(struct val_ctx *c);            /* validate-volume.c */
void val_pod_security(struct val_ctx *c);       /* validate-security.c */
/* Probes and hooks of one container; allowed is false for plain init
 * containers, which may have neither (validate-probe.c). */
void val_container_handlers(struct val_ctx *c, const char *base, const struct spec_container *ctr,
                            bool allowed);
void val_container_security(struct val_ctx *c, const char *base,
                            const struct spec_container_security *s);
/* A relative path without "..": subPath, localhostProfile. */
void val_local_descending_path(struct val_ctx *c, const char *path, const char *value);
void val_local_backsteps(struct val_ctx *c, const char *path, const char *value);
/* IsQualifiedName ("example.com/name"), each message as Invalid. */
void val_qualified_name(struct val_ctx *c, const char *path, const char *value);
/* For each of n names, whether an earlier one is the same (NULL and ""
 * never are), in O(n log n): a pod may hold tens of thousands of entries.
 * Caller frees. */
bool *val_duplicates(const char *const *names, size_t n);
/* The sign of a quantity, exactly: -1, 0 or 1. */
int val_quantity_sign(const struct spec_quantity *q);
/* Whether a valid volume has this name (validate-volume.c). */
bool val_volume_exists(const struct val_ctx *c, const char *name);
/* Field and resource selectors shared by env vars and downwardAPI volumes. */
void val_field_selector(struct val_ctx *c, const char *base, const char *api_version,
                        const char *field_path, const char *const *expressions);
void val_resource_selector(struct val_ctx *c, const char *base, const char *container,
                           const char *resource, const struct spec_quantity *divisor, bool volume);

/* A path built with printf; caller frees. */
#define val_path(...) pr_asprintf(__VA_ARGS__)

void val_object_meta(struct val_ctx *c);
void val_pod_spec(struct val_ctx *c);
