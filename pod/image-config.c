/* Owns the image config: the OCI image config shape read from and written
 * to JSON with json-c, and how flags lay over a config file. It reads the
 * files it is given and must never write outside image.c's store paths. */
#include "pod/image.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/cleanup.h"
#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/image-int.h"

#define JSON_FILE_MAX (4u << 20)

void image_config_done(struct image_config *c)
{
        if (!c)
                return;
        c->entrypoint = pr_strv_free(c->entrypoint);
        c->cmd = pr_strv_free(c->cmd);
        c->env = pr_strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        c->working_dir = c->user = c->stop_signal = NULL;
}

static void replace_str(char **dst, const char *src)
{
        if (!src)
                return;
        free(*dst);
        *dst = pr_strdup(src);
}

static void replace_strv(char ***dst, char *const *src)
{
        if (!src)
                return;
        pr_strv_free(*dst);
        *dst = pr_strv_copy(src);
}

/* Env entries of over replace those of the same name, as `docker run -e`
 * does; the others are appended. */
static void merge_env(char ***env, char *const *over)
{
        for (size_t i = 0; over && over[i]; i++) {
                size_t klen = strcspn(over[i], "=");
                bool replaced = false;

                for (size_t j = 0; *env && (*env)[j]; j++) {
                        if (strncmp((*env)[j], over[i], klen) == 0 &&
                            ((*env)[j][klen] == '=' || (*env)[j][klen] == '\0')) {
                                free((*env)[j]);
                                (*env)[j] = pr_strdup(over[i]);
                                replaced = true;
                                break;
                        }
                }
                if (!replaced)
                        pr_strv_push(env, over[i]);
        }
}

void image_config_merge(struct image_config *base, const struct image_config *over)
{
        if (!over)
                return;
        replace_strv(&base->entrypoint, over->entrypoint);
        replace_strv(&base->cmd, over->cmd);
        merge_env(&base->env, over->env);
        replace_str(&base->working_dir, over->working_dir);
        replace_str(&base->user, over->user);
        replace_str(&base->stop_signal, over->stop_signal);
}

static int strv_from_json(struct json_object *o, const char *field, char ***ret,
                          struct pr_error *err)
{
        _cleanup_strv_free_ char **v = NULL;
        size_t n;

        if (!o)
                return 0;
        if (!json_object_is_type(o, json_type_array))
                return pr_err_msg(err, EINVAL, "field '%s': not an array of strings", field);
        n = json_object_array_length(o);
        v = pr_calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(o, i);
                if (!json_object_is_type(s, json_type_string))
                        return pr_err_msg(err, EINVAL, "field '%s': not an array of strings",
                                          field);
                v[i] = pr_strdup(json_object_get_string(s));
        }
        *ret = PR_TAKE_PTR(v);
        return 0;
}

static int str_from_json(struct json_object *o, const char *field, char **ret, struct pr_error *err)
{
        if (!o)
                return 0;
        if (!json_object_is_type(o, json_type_string))
                return pr_err_msg(err, EINVAL, "field '%s': not a string", field);
        /* OCI writes "" for unset strings; keep our NULL-means-default. */
        if (json_object_get_string_len(o) > 0)
                *ret = pr_strdup(json_object_get_string(o));
        return 0;
}

struct json_object *image_json_get(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return NULL;
        return v;
}

/* Reads the OCI image config shape: {"config": {...}}, or Docker's
 * {"Config": {...}}. */
int image_config_from_json(struct json_object *top, struct image_config *ret, struct pr_error *err)
{
        _cleanup_config_ struct image_config c = {};
        struct json_object *cfg;
        int r;

        if (!json_object_is_type(top, json_type_object))
                return pr_err_msg(err, EINVAL, "not a JSON object");
        cfg = image_json_get(top, "config");
        if (!cfg)
                cfg = image_json_get(top, "Config");
        if (!cfg) {
                *ret = (struct image_config){};
                return 0;
        }
        if (!json_object_is_type(cfg, json_type_object))
                return pr_err_msg(err, EINVAL, "field 'config': not an object");
        if ((r = strv_from_json(image_json_get(cfg, "Entrypoint"), "Entrypoint", &c.entrypoint,
                                err)) < 0 ||
            (r = strv_from_json(image_json_get(cfg, "Cmd"), "Cmd", &c.cmd, err)) < 0 ||
            (r = strv_from_json(image_json_get(cfg, "Env"), "Env", &c.env, err)) < 0 ||
            (r = str_from_json(image_json_get(cfg, "WorkingDir"), "WorkingDir", &c.working_dir,
                               err)) < 0 ||
            (r = str_from_json(image_json_get(cfg, "User"), "User", &c.user, err)) < 0 ||
            (r = str_from_json(image_json_get(cfg, "StopSignal"), "StopSignal", &c.stop_signal,
                               err)) < 0)
                return r;
        *ret = c;
        c = (struct image_config){};
        return 0;
}

static struct json_object *strv_to_json(char *const *v)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; v && v[i]; i++)
                (void)json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

struct json_object *image_config_to_json(const struct image_config *c)
{
        struct json_object *o = json_object_new_object();

        if (c->entrypoint)
                (void)json_object_object_add(o, "Entrypoint", strv_to_json(c->entrypoint));
        if (c->cmd)
                (void)json_object_object_add(o, "Cmd", strv_to_json(c->cmd));
        if (c->env)
                (void)json_object_object_add(o, "Env", strv_to_json(c->env));
        if (c->working_dir)
                (void)json_object_object_add(o, "WorkingDir",
                                             json_object_new_string(c->working_dir));
        if (c->user)
                (void)json_object_object_add(o, "User", json_object_new_string(c->user));
        if (c->stop_signal)
                (void)json_object_object_add(o, "StopSignal",
                                             json_object_new_string(c->stop_signal));
        return o;
}

int image_json_load(const char *path, struct json_object **ret, struct pr_error *err)
{
        _cleanup_free_ char *data = NULL;
        enum json_tokener_error jerr;
        struct json_object *o;
        int r;

        r = pr_read_file(path, JSON_FILE_MAX, &data, NULL, err);
        if (r < 0)
                return r;
        o = json_tokener_parse_verbose(data, &jerr);
        if (!o)
                return pr_err_msg(err, EINVAL, "parse '%s': %s", path,
                                  json_tokener_error_desc(jerr));
        *ret = o;
        return 0;
}

int image_json_save(const char *path, struct json_object *o, struct pr_error *err)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *text = pr_asprintf("%s\n", s);

        return pr_write_file_atomic(path, text, strlen(text), 0600, err);
}

int image_config_load(const char *path, struct image_config *ret, struct pr_error *err)
{
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        r = image_json_load(path, &o, err);
        if (r >= 0)
                r = image_config_from_json(o, ret, err);
        if (r < 0)
                return pr_err_wrap(err, "image config '%s'", path);
        return 0;
}
