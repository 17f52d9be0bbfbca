/* Shared between the image store's files (image.c, image-config.c): JSON
 * helpers and the config's JSON shape. Not for other modules. */
#pragma once

#include <json-c/json.h>

#include "pod/base/cleanup.h"
#include "pod/image.h"

struct pr_error;

static inline void image_json_putp(struct json_object **o)
{
        if (*o)
                (void)json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(image_json_putp)

static inline void image_config_donep(struct image_config *c)
{
        image_config_done(c);
}
#define _cleanup_config_ _cleanup_(image_config_donep)

/* A member of an object; NULL when absent or JSON null. */
struct json_object *image_json_get(struct json_object *o, const char *key);

/* Parses a JSON file of at most 4 MiB. */
int image_json_load(const char *path, struct json_object **ret, struct pr_error *err);

/* Writes pretty JSON atomically (temporary file, fsync, rename), mode 0600. */
int image_json_save(const char *path, struct json_object *o, struct pr_error *err);

/* The OCI image config shape: {"config": {"Entrypoint": [...], ...}}, or
 * Docker's {"Config": {...}}. A missing config is an empty one. */
int image_config_from_json(struct json_object *top, struct image_config *ret, struct pr_error *err);

/* The inner object ({"Entrypoint": ..., ...}), unset fields left out. */
struct json_object *image_config_to_json(const struct image_config *c);
