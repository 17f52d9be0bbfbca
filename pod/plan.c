/* plan_build(): turns a validated spec into a struct pod_plan, deciding
 * every path, the container order, argv, env, user and mounts exactly as
 * kubelet and containerd would. It owns the Kubernetes semantics of those
 * decisions (command/args over Entrypoint/Cmd, $(VAR) expansion, fieldRef,
 * user lookup in the image). It must never change the kernel's state: no
 * mounts, no processes, no files written; it only reads the image store
 * and, inside an image's rootfs, /etc/passwd and /etc/group by fd. */
#include "pod/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "pod/image.h"
#include "pod/plan-int.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const mount_type_table[_PLAN_MOUNT_TYPE_MAX] = {
    [PLAN_MOUNT_BIND] = "bind",
    [PLAN_MOUNT_TMPFS] = "tmpfs",
};

const char *plan_mount_type_to_string(enum plan_mount_type t)
{
        if (t < 0 || t >= _PLAN_MOUNT_TYPE_MAX)
                return NULL;
        return mount_type_table[t];
}

enum plan_mount_type plan_mount_type_from_string(const char *s)
{
        for (int i = 0; i < _PLAN_MOUNT_TYPE_MAX; i++)
                if (pr_streq(mount_type_table[i], s))
                        return (enum plan_mount_type)i;
        return _PLAN_MOUNT_TYPE_INVALID;
}

/* The algorithm of k8s.io/kubernetes/third_party/forked/golang/expansion,
 * byte for byte: an unterminated "$(" and a "$" before any other byte are
 * copied as written. */
char *plan_expand(const char *in, const char *(*lookup)(void *userdata, const char *name),
                  void *userdata)
{
        size_t cap = strlen(in) + 1, len = 0;
        char *out = pr_malloc(cap);

#define APPEND(p, n)                                                                               \
        do {                                                                                       \
                size_t _n = (n);                                                                   \
                if (len + _n + 1 > cap) {                                                          \
                        cap = (len + _n + 1) * 2;                                                  \
                        out = pr_realloc(out, cap);                                                \
                }                                                                                  \
                memcpy(out + len, (p), _n);                                                        \
                len += _n;                                                                         \
        } while (0)

        for (const char *p = in; *p; p++) {
                const char *close, *value;
                _cleanup_free_ char *name = NULL;

                if (p[0] != '$' || p[1] == '\0') {
                        APPEND(p, 1);
                        continue;
                }
                if (p[1] == '$') {
                        APPEND("$", 1);
                        p++;
                        continue;
                }
                if (p[1] != '(' || !(close = strchr(p + 2, ')'))) {
                        APPEND(p, 2);
                        p++;
                        continue;
                }
                name = pr_strndup(p + 2, (size_t)(close - p - 2));
                value = lookup(userdata, name);
                if (value)
                        APPEND(value, strlen(value));
                else
                        APPEND(p, (size_t)(close - p + 1));
                p = close;
        }
#undef APPEND
        out[len] = '\0';
        return out;
}

int plan_parse_signal(const char *s)
{
        int n;

        if (!s || !*s)
                return -EINVAL;
        if (pr_parse_int(s, 1, NSIG - 1, &n) == 0)
                return n;
        if (pr_startswith(s, "SIG"))
                s += 3;
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcmp(abbrev, s) == 0)
                        return i;
        }
        return -EINVAL;
}

/* ---- environment ---------------------------------------------------- */

/* The manifest's variables defined so far: what $(VAR) may refer to. As
 * kubelet does, the image's variables are not visible to expansion. */
struct env_scope {
        char **names;
        char **values;
        size_t n;
};

static void env_scope_done(struct env_scope *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->names[i]);
                free(s->values[i]);
        }
        free(s->names);
        free(s->values);
        *s = (struct env_scope){};
}

static const char *env_scope_lookup(void *userdata, const char *name)
{
        struct env_scope *s = userdata;

        /* The last definition wins, as in kubelet's map. */
        for (size_t i = s->n; i > 0; i--)
                if (strcmp(s->names[i - 1], name) == 0)
                        return s->values[i - 1];
        return NULL;
}

static void env_scope_add(struct env_scope *s, const char *name, const char *value)
{
        size_t i = s->n, n = s->n;

        pr_array_grow(&s->names, &n, sizeof(char *));
        pr_array_grow(&s->values, &s->n, sizeof(char *));
        s->names[i] = pr_strdup(name);
        s->values[i] = pr_strdup(value);
}

/* Sets NAME=value in a "NAME=value" vector, replacing an earlier entry in
 * place (as containerd's WithEnv does) or appending. Returns the index. */
static size_t env_set(char ***env, const char *name, const char *value)
{
        size_t l = strlen(name), n = pr_strv_len(*env);

        for (size_t i = 0; i < n; i++)
                if (strncmp((*env)[i], name, l) == 0 && (*env)[i][l] == '=') {
                        free((*env)[i]);
                        (*env)[i] = pr_asprintf("%s=%s", name, value);
                        return i;
                }
        pr_strv_push_take(env, pr_asprintf("%s=%s", name, value));
        return n;
}

static bool env_has(char *const *env, const char *name)
{
        size_t l = strlen(name);

        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, l) == 0 && env[i][l] == '=')
                        return true;
        return false;
}

static const char *map_get(const struct spec_map *m, const char *key)
{
        for (size_t i = 0; i < m->n; i++)
                if (pr_streq(m->items[i].key, key))
                        return m->items[i].value;
        return NULL;
}

/* "metadata.labels['app']" -> "app" (NULL when path has another shape). */
static char *subscript_key(const char *path, const char *prefix)
{
        size_t l = strlen(prefix), n;

        if (!pr_startswith(path, prefix) || path[l] != '[' || path[l + 1] != '\'')
                return NULL;
        n = strlen(path);
        if (n < l + 5 || path[n - 1] != ']' || path[n - 2] != '\'')
                return NULL;
        return pr_strndup(path + l + 2, n - l - 4);
}

static bool field_is_late(const char *path)
{
        return pr_streq(path, "status.podIP") || pr_streq(path, "status.podIPs") ||
               pr_streq(path, "status.hostIP") || pr_streq(path, "status.hostIPs");
}

/* The downward API's fieldRef values that are known before the pod runs.
 * spec.serviceAccountName is "default", as the API server defaults it;
 * status.* IPs are late (plan_set_pod_ip). */
static int field_ref_value(const struct pod_plan *plan, const struct spec_pod *spec,
                           const char *node_name, const char *path, char **ret,
                           struct pr_error *err)
{
        _cleanup_free_ char *key = NULL;
        const char *v = NULL;

        if (pr_streq(path, "metadata.name"))
                v = plan->name;
        else if (pr_streq(path, "metadata.namespace"))
                v = plan->namespace;
        else if (pr_streq(path, "metadata.uid"))
                v = plan->uid;
        else if (pr_streq(path, "spec.nodeName"))
                v = node_name;
        else if (pr_streq(path, "spec.serviceAccountName"))
                v = "default";
        else if (field_is_late(path))
                v = "";
        else if ((key = subscript_key(path, "metadata.labels")))
                v = map_get(&spec->labels, key);
        else if ((key = subscript_key(path, "metadata.annotations")))
                v = map_get(&spec->annotations, key);
        else
                return pr_err_msg(err, EINVAL, "fieldRef '%s' is not supported", path);
        *ret = pr_strdup(v ? v : "");
        return 0;
}

static uint64_t host_memory_bytes(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
        return a / b + (a % b != 0 && (a > 0) == (b > 0));
}

/* resourceFieldRef as kubelet computes it: cpu in ceil(milli / divisor's
 * milli), bytes in ceil(value / divisor); an unset limit is the node's
 * capacity, an unset request the limit (else 0). */
static int resource_value(const struct spec_container *c, const char *resource,
                          const struct spec_quantity *divisor, char **ret, struct pr_error *err)
{
        const struct spec_resources *r = &c->resources;
        const struct spec_quantity *limit = NULL, *request = NULL, *q;
        bool is_cpu = false, is_limit = pr_startswith(resource, "limits.");
        int64_t node, div, v;

        if (pr_streq(resource, "limits.cpu") || pr_streq(resource, "requests.cpu")) {
                limit = &r->limits.cpu, request = &r->requests.cpu, is_cpu = true;
                node = sysconf(_SC_NPROCESSORS_ONLN) * 1000;
        } else if (pr_streq(resource, "limits.memory") || pr_streq(resource, "requests.memory")) {
                limit = &r->limits.memory, request = &r->requests.memory;
                node = (int64_t)host_memory_bytes();
        } else if (pr_streq(resource, "limits.ephemeral-storage") ||
                   pr_streq(resource, "requests.ephemeral-storage")) {
                limit = &r->limits.ephemeral_storage, request = &r->requests.ephemeral_storage;
                node = INT64_MAX;
        } else {
                return pr_err_msg(err, EINVAL, "resourceFieldRef '%s' is not supported", resource);
        }
        q = is_limit ? limit : (request->set ? request : limit);
        if (q->set)
                v = is_cpu ? q->milli_value : q->value;
        else
                v = is_limit ? node : 0;
        div = divisor && divisor->set ? (is_cpu ? divisor->milli_value : divisor->value)
                                      : (is_cpu ? 1000 : 1);
        if (div <= 0)
                return pr_err_msg(err, EINVAL, "resourceFieldRef '%s': divisor must be positive",
                                  resource);
        *ret = pr_asprintf("%" PRId64, ceil_div(v, div));
        return 0;
}

struct env_ctx {
        struct pod_plan *plan;
        const struct spec_pod *spec;
        const char *node_name;
        struct plan_container *pc;
        struct env_scope scope;
};

static int env_from_value(struct env_ctx *x, const struct spec_env *e, char **ret, bool *late,
                          struct pr_error *err)
{
        const struct spec_container *target;

        switch (e->source) {
        case SPEC_ENV_VALUE:
                *ret = plan_expand(e->value ? e->value : "", env_scope_lookup, &x->scope);
                return 0;
        case SPEC_ENV_FIELD_REF:
                *late = field_is_late(e->field_ref.field_path);
                return field_ref_value(x->plan, x->spec, x->node_name, e->field_ref.field_path, ret,
                                       err);
        case SPEC_ENV_RESOURCE_FIELD_REF:
                target = x->pc->spec;
                if (e->resource_field_ref.container_name && *e->resource_field_ref.container_name) {
                        target =
                            spec_pod_find_container(x->spec, e->resource_field_ref.container_name);
                        if (!target)
                                return pr_err_msg(err, EINVAL, "no container '%s'",
                                                  e->resource_field_ref.container_name);
                }
                return resource_value(target, e->resource_field_ref.resource,
                                      &e->resource_field_ref.divisor, ret, err);
        case SPEC_ENV_CONFIG_MAP_KEY_REF:
        case SPEC_ENV_SECRET_KEY_REF:
                if (e->key_ref.optional)
                        return 1; /* absent, as kubelet leaves an optional missing key */
                return pr_err_msg(err, EINVAL,
                                  "%s '%s' cannot be resolved: podrun has no API server "
                                  "(mark it optional or give the value)",
                                  e->source == SPEC_ENV_SECRET_KEY_REF ? "secretKeyRef"
                                                                       : "configMapKeyRef",
                                  e->key_ref.name ? e->key_ref.name : "");
        default:
                return pr_err_msg(err, EINVAL, "unknown env source");
        }
}

static void late_env_add(struct plan_container *pc, size_t index)
{
        size_t *slot = pr_array_grow(&pc->late_env, &pc->n_late_env, sizeof(size_t));
        *slot = index;
}

/* The container's environment in containerd's order: HOSTNAME, then the
 * image's, then the manifest's, a later name replacing an earlier in place;
 * PATH defaults as containerd's when the image gives none. */
static int build_env(struct env_ctx *x, const struct image *img, struct pr_error *err)
{
        struct plan_container *pc = x->pc;
        const struct spec_container *c = pc->spec;

        env_set(&pc->env, "HOSTNAME", x->plan->hostname);
        for (size_t i = 0; img->config.env && img->config.env[i]; i++) {
                const char *eq = strchr(img->config.env[i], '=');
                _cleanup_free_ char *name = NULL;

                if (!eq || eq == img->config.env[i])
                        continue;
                name = pr_strndup(img->config.env[i], (size_t)(eq - img->config.env[i]));
                env_set(&pc->env, name, eq + 1);
        }
        if (!env_has(pc->env, "PATH"))
                pr_strv_push(&pc->env, DEFAULT_PATH);
        for (size_t i = 0; i < c->n_env_from; i++)
                if (!c->env_from[i].optional)
                        return pr_err_msg(err, EINVAL,
                                          "envFrom %s '%s' cannot be resolved: podrun has no "
                                          "API server (mark it optional)",
                                          c->env_from[i].is_secret ? "secretRef" : "configMapRef",
                                          c->env_from[i].name ? c->env_from[i].name : "");
        for (size_t i = 0; i < c->n_env; i++) {
                const struct spec_env *e = &c->env[i];
                _cleanup_free_ char *value = NULL;
                bool late = false;
                size_t idx;
                int r;

                r = env_from_value(x, e, &value, &late, err);
                if (r < 0)
                        return pr_err_wrap(err, "env '%s'", e->name);
                if (r > 0)
                        continue;
                idx = env_set(&pc->env, e->name, value);
                if (late)
                        late_env_add(pc, idx);
                env_scope_add(&x->scope, e->name, value);
        }
        return 0;
}

/* command replaces Entrypoint and drops Cmd; args replace Cmd. */
static int build_argv(struct env_ctx *x, const struct image *img, struct pr_error *err)
{
        const struct spec_container *c = x->pc->spec;
        char **head, **tail;

        if (c->command) {
                head = c->command;
                tail = c->args;
        } else {
                head = img->config.entrypoint;
                tail = c->args ? c->args : img->config.cmd;
        }
        for (size_t i = 0; head && head[i]; i++)
                pr_strv_push_take(&x->pc->argv, plan_expand(head[i], env_scope_lookup, &x->scope));
        for (size_t i = 0; tail && tail[i]; i++)
                pr_strv_push_take(&x->pc->argv, plan_expand(tail[i], env_scope_lookup, &x->scope));
        if (pr_strv_len(x->pc->argv) == 0 || !*x->pc->argv[0])
                return pr_err_msg(err, EINVAL,
                                  "nothing to run: no command in the manifest and no "
                                  "Entrypoint or Cmd in image '%s'",
                                  img->ref);
        return 0;
}

/* ---- volumes -------------------------------------------------------- */

/* strconv.Quote for the label and annotation files of the downward API. */
static void append_quoted(char **buf, const char *key, const char *value)
{
        size_t cap = strlen(value) * 4 + 3, n = 0;
        _cleanup_free_ char *q = pr_malloc(cap);
        char *old = *buf;

        q[n++] = '"';
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        q[n++] = '\\';
                        q[n++] = (char)*p;
                } else if (*p == '\n') {
                        q[n++] = '\\', q[n++] = 'n';
                } else if (*p == '\t') {
                        q[n++] = '\\', q[n++] = 't';
                } else if (*p < 0x20 || *p == 0x7f) {
                        n += (size_t)snprintf(q + n, cap - n, "\\x%02x", *p);
                } else {
                        q[n++] = (char)*p;
                }
        }
        q[n++] = '"';
        q[n] = '\0';
        *buf = pr_asprintf("%s%s=%s\n", old ? old : "", key, q);
        free(old);
}

static int cmp_kv(const void *a, const void *b)
{
        const struct spec_kv *x = *(const struct spec_kv *const *)a;
        const struct spec_kv *y = *(const struct spec_kv *const *)b;
        return strcmp(x->key, y->key);
}

/* Kubernetes writes a map as key="value" lines sorted by key. */
static char *format_map(const struct spec_map *m)
{
        _cleanup_free_ const struct spec_kv **sorted = pr_calloc(m->n, sizeof(*sorted));
        char *buf = pr_strdup("");

        for (size_t i = 0; i < m->n; i++)
                sorted[i] = &m->items[i];
        qsort(sorted, m->n, sizeof(*sorted), cmp_kv);
        for (size_t i = 0; i < m->n; i++)
                append_quoted(&buf, sorted[i]->key, sorted[i]->value ? sorted[i]->value : "");
        return buf;
}

static int downward_content(const struct pod_plan *plan, const struct spec_pod *spec,
                            const char *node_name, const struct spec_downward_item *it, char **ret,
                            struct pr_error *err)
{
        const struct spec_container *c;

        if (it->field_path) {
                if (pr_streq(it->field_path, "metadata.labels")) {
                        *ret = format_map(&spec->labels);
                        return 0;
                }
                if (pr_streq(it->field_path, "metadata.annotations")) {
                        *ret = format_map(&spec->annotations);
                        return 0;
                }
                if (field_is_late(it->field_path))
                        return pr_err_msg(err, EINVAL, "fieldRef '%s' is not supported in a volume",
                                          it->field_path);
                return field_ref_value(plan, spec, node_name, it->field_path, ret, err);
        }
        if (it->resource) {
                c = it->container_name ? spec_pod_find_container(spec, it->container_name) : NULL;
                if (!c)
                        return pr_err_msg(err, EINVAL, "resourceFieldRef: no container '%s'",
                                          it->container_name ? it->container_name : "");
                return resource_value(c, it->resource, &it->divisor, ret, err);
        }
        return pr_err_msg(err, EINVAL, "item '%s' has neither fieldRef nor resourceFieldRef",
                          it->path ? it->path : "");
}

static int add_downward_items(struct pod_plan *plan, const struct spec_pod *spec,
                              const char *node_name, struct plan_volume *v,
                              const struct spec_downward_item *items, size_t n,
                              int32_t default_mode, struct pr_error *err)
{
        for (size_t i = 0; i < n; i++) {
                struct plan_file *f;
                _cleanup_free_ char *content = NULL;
                int r;

                if (!items[i].path || items[i].path[0] == '/' || strstr(items[i].path, ".."))
                        return pr_err_msg(err, EINVAL, "item path '%s' must be relative",
                                          items[i].path ? items[i].path : "");
                r = downward_content(plan, spec, node_name, &items[i], &content, err);
                if (r < 0)
                        return pr_err_wrap(err, "item '%s'", items[i].path);
                f = pr_array_grow(&v->files, &v->n_files, sizeof(*f));
                f->path = pr_strdup(items[i].path);
                f->content = PR_TAKE_PTR(content);
                f->mode = (mode_t)(items[i].has_mode ? items[i].mode : default_mode);
        }
        return 0;
}

static int object_source_error(const char *kind, const struct spec_object_source *o,
                               struct pr_error *err)
{
        return pr_err_msg(err, EINVAL,
                          "%s '%s' cannot be resolved: podrun has no API server (mark it "
                          "optional, or use a hostPath volume)",
                          kind, o->name ? o->name : "");
}

static int build_projected(struct pod_plan *plan, const struct spec_pod *spec,
                           const char *node_name, const struct spec_volume *sv,
                           struct plan_volume *v, struct pr_error *err)
{
        for (size_t i = 0; i < sv->n_projections; i++) {
                const struct spec_projection *p = &sv->projections[i];
                int r;

                switch (p->type) {
                case SPEC_PROJECTION_CONFIG_MAP:
                case SPEC_PROJECTION_SECRET:
                        if (!p->object.optional)
                                return object_source_error(
                                    p->type == SPEC_PROJECTION_SECRET ? "secret" : "configMap",
                                    &p->object, err);
                        break;
                case SPEC_PROJECTION_DOWNWARD_API:
                        r = add_downward_items(plan, spec, node_name, v, p->downward_items,
                                               p->n_downward_items, sv->default_mode, err);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return pr_err_msg(err, EINVAL,
                                          "serviceAccountToken cannot be issued: podrun has "
                                          "no API server");
                }
        }
        return 0;
}

static int build_volume(struct pod_plan *plan, const struct spec_pod *spec, const char *node_name,
                        const struct spec_volume *sv, struct plan_volume *v, struct pr_error *err)
{
        v->name = pr_strdup(sv->name);
        v->type = sv->type;
        v->mount_type = PLAN_MOUNT_BIND;
        switch (sv->type) {
        case SPEC_VOLUME_EMPTY_DIR:
                if (sv->empty_dir.medium == SPEC_MEDIUM_HUGE_PAGES)
                        return pr_err_msg(err, EOPNOTSUPP,
                                          "emptyDir medium HugePages is not supported");
                if (sv->empty_dir.medium == SPEC_MEDIUM_MEMORY) {
                        v->mount_type = PLAN_MOUNT_TMPFS;
                        v->path = pr_asprintf("%s/volumes/%s", plan->run_dir, sv->name);
                        if (sv->empty_dir.size_limit.set)
                                v->size_bytes = (uint64_t)sv->empty_dir.size_limit.value;
                } else {
                        v->path = pr_asprintf("%s/volumes/%s", plan->root_dir, sv->name);
                }
                return 0;
        case SPEC_VOLUME_HOST_PATH:
                v->path = pr_strdup(sv->host_path.path);
                return 0;
        case SPEC_VOLUME_CONFIG_MAP:
        case SPEC_VOLUME_SECRET:
                if (!sv->object.optional)
                        return object_source_error(sv->type == SPEC_VOLUME_SECRET ? "secret"
                                                                                  : "configMap",
                                                   &sv->object, err);
                /* An optional object that does not exist mounts empty. */
                v->path = pr_asprintf("%s/volumes/%s", plan->run_dir, sv->name);
                return 0;
        case SPEC_VOLUME_DOWNWARD_API:
                v->path = pr_asprintf("%s/volumes/%s", plan->run_dir, sv->name);
                return add_downward_items(plan, spec, node_name, v, sv->downward_items,
                                          sv->n_downward_items, sv->default_mode, err);
        case SPEC_VOLUME_PROJECTED:
                v->path = pr_asprintf("%s/volumes/%s", plan->run_dir, sv->name);
                return build_projected(plan, spec, node_name, sv, v, err);
        default:
                return pr_err_msg(err, EINVAL, "unknown volume type");
        }
}

static const struct plan_volume *find_volume(const struct pod_plan *plan, const char *name)
{
        for (size_t i = 0; i < plan->n_volumes; i++)
                if (pr_streq(plan->volumes[i].name, name))
                        return &plan->volumes[i];
        return NULL;
}

static int build_mounts(struct env_ctx *x, struct pr_error *err)
{
        const struct spec_container *c = x->pc->spec;

        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                const struct spec_volume_mount *vm = &c->volume_mounts[i];
                const struct plan_volume *v = find_volume(x->plan, vm->name);
                struct plan_mount *m;
                char *sub = NULL;

                if (!v)
                        return pr_err_msg(err, EINVAL, "volumeMount '%s': no such volume",
                                          vm->name);
                if (vm->sub_path && *vm->sub_path)
                        sub = pr_strdup(vm->sub_path);
                else if (vm->sub_path_expr && *vm->sub_path_expr)
                        sub = plan_expand(vm->sub_path_expr, env_scope_lookup, &x->scope);
                if (sub && (sub[0] == '/' || pr_streq(sub, "..") || pr_startswith(sub, "../") ||
                            strstr(sub, "/../") || pr_endswith(sub, "/.."))) {
                        int r = pr_err_msg(err, EINVAL,
                                           "volumeMount '%s': subPath '%s' must be a relative "
                                           "path without '..'",
                                           vm->name, sub);
                        free(sub);
                        return r;
                }
                m = pr_array_grow(&x->pc->mounts, &x->pc->n_mounts, sizeof(*m));
                m->type = v->mount_type;
                m->volume = pr_strdup(v->name);
                m->source = pr_strdup(v->path);
                m->sub_path = sub;
                m->target = pr_strdup(vm->mount_path);
                /* The API server makes these volume types read-only. */
                m->read_only = vm->read_only || v->type == SPEC_VOLUME_CONFIG_MAP ||
                               v->type == SPEC_VOLUME_SECRET ||
                               v->type == SPEC_VOLUME_DOWNWARD_API ||
                               v->type == SPEC_VOLUME_PROJECTED;
                m->size_bytes = v->size_bytes;
                m->host_path = v->type == SPEC_VOLUME_HOST_PATH;
                if (m->host_path)
                        m->host_path_type = x->spec->volumes[v - x->plan->volumes].host_path.type;
        }
        return 0;
}

/* ---- containers ----------------------------------------------------- */

static void init_container_paths(struct pod_plan *plan, struct plan_container *pc, const char *name)
{
        pc->name = pr_strdup(name);
        pc->dir = pr_asprintf("%s/containers/%s", plan->run_dir, name);
        pc->upper_dir = pr_asprintf("%s/upper", pc->dir);
        pc->work_dir = pr_asprintf("%s/work", pc->dir);
        pc->rootfs = pr_asprintf("%s/rootfs", pc->dir);
        pc->log_dir = pr_asprintf("%s/logs/%s", plan->root_dir, name);
}

static enum spec_restart_policy effective_restart(const struct spec_pod *spec,
                                                  const struct spec_container *c, bool init)
{
        if (!init)
                return spec->restart_policy;
        if (c->has_restart_policy && c->restart_policy == SPEC_RESTART_ALWAYS)
                return SPEC_RESTART_ALWAYS;
        /* kubelet retries a failed init container unless the pod says Never. */
        return spec->restart_policy == SPEC_RESTART_NEVER ? SPEC_RESTART_NEVER
                                                          : SPEC_RESTART_ON_FAILURE;
}

static int build_container_from_image(struct env_ctx *x, const struct image *img,
                                      struct pr_error *err)
{
        struct plan_container *pc = x->pc;
        const struct spec_container *c = pc->spec;
        int r;

        pc->image_ref = pr_strdup(img->ref);
        pc->image_id = pr_strdup(img->id ? img->id : "");
        pc->image_rootfs = pr_strdup(img->rootfs);
        r = build_env(x, img, err);
        if (r < 0)
                return r;
        r = build_argv(x, img, err);
        if (r < 0)
                return r;
        pc->working_dir = pr_strdup(c->working_dir && *c->working_dir ? c->working_dir
                                    : img->config.working_dir && *img->config.working_dir
                                        ? img->config.working_dir
                                        : "/");
        r = plan_user_build(pc, x->spec, img, err);
        if (r < 0)
                return r;
        pc->stop_signal = SIGTERM;
        if (img->config.stop_signal && *img->config.stop_signal) {
                r = plan_parse_signal(img->config.stop_signal);
                if (r < 0)
                        return pr_err_msg(err, EINVAL, "image '%s': unknown StopSignal '%s'",
                                          img->ref, img->config.stop_signal);
                pc->stop_signal = r;
        }
        return build_mounts(x, err);
}

static void free_imagep(struct image **img)
{
        *img = image_free(*img);
}

/* netsetup/ forwards TCP and UDP only; an SCTP hostPort must fail here,
 * before anything is made, rather than silently become a TCP rule. With
 * hostNetwork no rule is made: the container's own SCTP socket is the port. */
static int check_host_ports(const struct pod_plan *plan, const struct spec_container *c,
                            struct pr_error *err)
{
        for (size_t i = 0; !plan->host_network && i < c->n_ports; i++) {
                const struct spec_port *p = &c->ports[i];

                if (p->host_port > 0 && p->protocol == SPEC_PROTOCOL_SCTP)
                        return pr_err_msg(err, EOPNOTSUPP,
                                          "hostPort %d/SCTP: podrun forwards TCP and UDP "
                                          "hostPorts only",
                                          (int)p->host_port);
        }
        return 0;
}

static int build_container(struct pod_plan *plan, const struct spec_pod *spec,
                           const struct plan_options *opts, const char *node_name,
                           const struct spec_container *c, bool init, struct pr_error *err)
{
        struct plan_container *pc;
        _cleanup_(free_imagep) struct image *img = NULL;
        struct env_ctx x = {.plan = plan, .spec = spec, .node_name = node_name};
        int r;

        pc = pr_array_grow(&plan->containers, &plan->n_containers, sizeof(*pc));
        pc->index = plan->n_containers - 1;
        init_container_paths(plan, pc, c->name);
        pc->spec = c;
        pc->init = init;
        pc->restart_policy = effective_restart(spec, c, init);
        pc->sidecar = init && pc->restart_policy == SPEC_RESTART_ALWAYS;
        pc->grace_period_usec = (uint64_t)spec->termination_grace_period_seconds * PR_USEC_PER_SEC;
        pc->read_only_rootfs = c->security_context.read_only_root_filesystem;
        pc->tty = c->tty;
        pc->stdin_open = c->stdin_open;
        x.pc = pc;
        r = check_host_ports(plan, c, err);
        if (r >= 0)
                r = image_resolve(opts->root_dir, c->image, &img, err);
        if (r >= 0)
                r = build_container_from_image(&x, img, err);
        env_scope_done(&x.scope);
        if (r < 0)
                return pr_err_wrap(err, "%scontainer '%s'", init ? "init " : "", c->name);
        return 0;
}

/* ---- the pod -------------------------------------------------------- */

static char *new_uuid(void)
{
        _cleanup_free_ char *data = NULL;
        struct pr_error ignored = {};

        if (pr_read_file("/proc/sys/kernel/random/uuid", 64, &data, NULL, &ignored) < 0)
                return pr_asprintf("%08x-0000-4000-8000-%012" PRIx64, (unsigned)getpid(),
                                   pr_now_real_usec());
        data[strcspn(data, "\n")] = '\0';
        return PR_TAKE_PTR(data);
}

static void init_pod_paths(struct pod_plan *plan, const char *name, const struct plan_options *opts)
{
        plan->name = pr_strdup(name);
        plan->run_dir = pr_asprintf("%s/pods/%s", opts->run_dir, name);
        plan->root_dir = pr_asprintf("%s/pods/%s", opts->root_dir, name);
        plan->state_path = pr_asprintf("%s/state.json", plan->run_dir);
        plan->netns_path =
            pr_asprintf("%s/podrun-%s", opts->netns_dir ? opts->netns_dir : "/run/netns", name);
        plan->hosts_path = pr_asprintf("%s/etc/hosts", plan->run_dir);
        plan->hostname_path = pr_asprintf("%s/etc/hostname", plan->run_dir);
        plan->resolv_path = pr_asprintf("%s/etc/resolv.conf", plan->run_dir);
        plan->shm_dir = pr_asprintf("%s/shm", plan->run_dir);
}

static void init_pod(struct pod_plan *plan, const struct spec_pod *spec,
                     const struct plan_options *opts)
{
        init_pod_paths(plan, spec->name, opts);
        plan->spec = spec;
        plan->namespace = pr_strdup(spec->namespace ? spec->namespace : "default");
        plan->uid = new_uuid();
        /* kubelet truncates a pod-name hostname to 63 bytes. */
        plan->hostname = spec->hostname && *spec->hostname ? pr_strdup(spec->hostname)
                                                           : pr_strndup(spec->name, 63);
        if (spec->subdomain && *spec->subdomain)
                plan->fqdn = pr_asprintf("%s.%s.%s.svc.cluster.local", plan->hostname,
                                         spec->subdomain, plan->namespace);
        plan->restart_policy = spec->restart_policy;
        plan->grace_period_usec =
            (uint64_t)spec->termination_grace_period_seconds * PR_USEC_PER_SEC;
        plan->share_pid = spec->share_process_namespace;
        plan->host_network = spec->host_network;
        plan->host_pid = spec->host_pid;
        plan->host_ipc = spec->host_ipc;
}

static int build_all(struct pod_plan *plan, const struct spec_pod *spec,
                     const struct plan_options *opts, const char *node_name, struct pr_error *err)
{
        int r;

        for (size_t i = 0; i < spec->n_volumes; i++) {
                struct plan_volume *v = pr_array_grow(&plan->volumes, &plan->n_volumes, sizeof(*v));

                r = build_volume(plan, spec, node_name, &spec->volumes[i], v, err);
                if (r < 0)
                        return pr_err_wrap(err, "volume '%s'", spec->volumes[i].name);
        }
        for (size_t i = 0; i < spec->n_init_containers; i++) {
                r = build_container(plan, spec, opts, node_name, &spec->init_containers[i], true,
                                    err);
                if (r < 0)
                        return r;
        }
        plan->n_init = spec->n_init_containers;
        for (size_t i = 0; i < spec->n_containers; i++) {
                r = build_container(plan, spec, opts, node_name, &spec->containers[i], false, err);
                if (r < 0)
                        return r;
        }
        if (plan->n_containers == plan->n_init)
                return pr_err_msg(err, EINVAL, "no containers");
        return 0;
}

int plan_build(const struct spec_pod *spec, const struct plan_options *opts, struct pod_plan **ret,
               struct pr_error *err)
{
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;
        char host[256] = "";
        int r;

        if (!spec->name || !*spec->name || strchr(spec->name, '/') || spec->name[0] == '.')
                return pr_err_usage(err, "pod has no valid name");
        if (!opts->node_name && gethostname(host, sizeof(host) - 1) < 0)
                return pr_err(err, errno, "gethostname");
        plan = pr_calloc(1, sizeof(*plan));
        init_pod(plan, spec, opts);
        if (plan->host_network) {
                /* The pod shares the node's UTS namespace: its hostname, and
                 * so /etc/hostname and HOSTNAME, are the node's, as
                 * containerd gives them. */
                free(plan->hostname);
                plan->hostname = pr_strdup(opts->node_name ? opts->node_name : host);
                free(plan->fqdn);
                plan->fqdn = NULL;
        }
        r = build_all(plan, spec, opts, opts->node_name ? opts->node_name : host, err);
        if (r < 0)
                return pr_err_wrap(err, "pod '%s'", spec->name);
        *ret = PR_TAKE_PTR(plan);
        return 0;
}

int plan_build_skeleton(const char *name, char *const *names, const bool *init,
                        const struct plan_options *opts, struct pod_plan **ret,
                        struct pr_error *err)
{
        _cleanup_(plan_freep) struct pod_plan *plan = NULL;

        if (!name || !*name || strchr(name, '/') || name[0] == '.')
                return pr_err_usage(err, "'%s' is not a valid pod name", name ? name : "");
        plan = pr_calloc(1, sizeof(*plan));
        init_pod_paths(plan, name, opts);
        plan->namespace = pr_strdup("default");
        plan->hostname = pr_strndup(name, 63);
        for (size_t i = 0; names && names[i]; i++) {
                struct plan_container *pc;

                if (strchr(names[i], '/') || names[i][0] == '.' || !*names[i])
                        return pr_err_msg(err, EINVAL, "pod '%s': bad container name '%s'", name,
                                          names[i]);
                pc = pr_array_grow(&plan->containers, &plan->n_containers, sizeof(*pc));
                pc->index = i;
                pc->init = init && init[i];
                if (pc->init)
                        plan->n_init++;
                init_container_paths(plan, pc, names[i]);
        }
        *ret = PR_TAKE_PTR(plan);
        return 0;
}

static void replace_late(struct plan_container *pc, size_t idx, const char *pod_ip,
                         const char *host_ip)
{
        const char *path = NULL, *eq = strchr(pc->env[idx], '=');
        _cleanup_free_ char *name = pr_strndup(pc->env[idx], (size_t)(eq - pc->env[idx]));

        for (size_t i = 0; i < pc->spec->n_env; i++)
                if (pr_streq(pc->spec->env[i].name, name) &&
                    pc->spec->env[i].source == SPEC_ENV_FIELD_REF)
                        path = pc->spec->env[i].field_ref.field_path;
        if (!path)
                return;
        free(pc->env[idx]);
        pc->env[idx] =
            pr_asprintf("%s=%s", name, pr_startswith(path, "status.host") ? host_ip : pod_ip);
}

void plan_set_pod_ip(struct pod_plan *plan, const char *pod_ip, const char *host_ip)
{
        free(plan->pod_ip);
        free(plan->host_ip);
        plan->pod_ip = pod_ip ? pr_strdup(pod_ip) : NULL;
        plan->host_ip = host_ip ? pr_strdup(host_ip) : NULL;
        for (size_t i = 0; i < plan->n_containers; i++)
                for (size_t j = 0; j < plan->containers[i].n_late_env; j++)
                        replace_late(&plan->containers[i], plan->containers[i].late_env[j],
                                     pod_ip ? pod_ip : "", host_ip ? host_ip : "");
}
