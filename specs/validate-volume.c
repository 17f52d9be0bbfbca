/* Volumes and the downward API: names, one source each, the paths and
 * modes of projected files, and the field selectors that env vars and
 * downwardAPI volumes share. The API server's rules, plus one of podrun's
 * own: a hostPath must be absolute, because podrun binds it as given. It
 * must never touch the paths it checks; the runtime resolves them safely. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

#define FILE_MODE_MSG "must be a number between 0 and 0777 (octal), both inclusive"

static void check_mode(struct val_ctx *c, const char *base, const char *name, bool has,
                       int32_t mode)
{
        _cleanup_free_ char *p = NULL;

        if (!has || (mode >= 0 && mode <= 0777))
                return;
        p = val_path("%s.%s", base, name);
        val_invalid_int(c, p, mode, FILE_MODE_MSG);
}

/* ValidateLocalNonReservedPath: relative, no "..", not starting with "..". */
static void check_local_path(struct val_ctx *c, const char *path, const char *value)
{
        val_local_descending_path(c, path, value);
        if (pr_startswith(value, ".."))
                val_invalid(c, path, value, "must not start with '..'");
}

/* fieldpath.SplitMaybeSubscriptedPath: "metadata.labels['app']". */
static bool split_subscript(const char *s, char **ret_path, char **ret_key)
{
        const char *open;
        size_t n = strlen(s);

        if (!pr_endswith(s, "']"))
                return false;
        open = strstr(s, "['");
        if (!open || open == s || open + 2 > s + n - 2)
                return false;
        *ret_path = pr_strndup(s, (size_t)(open - s));
        *ret_key = pr_strndup(open + 2, (size_t)(s + n - 2 - (open + 2)));
        return true;
}

static const char *const v1_field_labels[] = {
    "metadata.annotations", "metadata.labels", "metadata.name",      "metadata.namespace",
    "metadata.uid",         "spec.nodeName",   "spec.restartPolicy", "spec.serviceAccountName",
    "spec.schedulerName",   "status.phase",    "status.hostIP",      "status.hostIPs",
    "status.podIP",         "status.podIPs",   "spec.host",          NULL,
};

static bool in_list(const char *const *list, const char *s)
{
        for (size_t i = 0; list[i]; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

/* ConvertDownwardAPIFieldLabel's error for a v1 field path, or NULL. On
 * success a subscripted path is split into ret_path and ret_key. */
static char *convert_field_label(const char *api_version, const char *field_path, char **ret_path,
                                 char **ret_key)
{
        if (strcmp(api_version, "v1") != 0)
                return pr_asprintf("error converting fieldPath: unsupported pod version: %s",
                                   api_version);
        if (split_subscript(field_path, ret_path, ret_key)) {
                if (strcmp(*ret_path, "metadata.annotations") == 0 ||
                    strcmp(*ret_path, "metadata.labels") == 0)
                        return NULL;
                return pr_asprintf("error converting fieldPath: field label does not support "
                                   "subscript: %s",
                                   field_path);
        }
        if (!in_list(v1_field_labels, field_path))
                return pr_asprintf("error converting fieldPath: field label not supported: %s",
                                   field_path);
        return NULL;
}

/* validateObjectFieldSelector. */
void val_field_selector(struct val_ctx *c, const char *base, const char *api_version,
                        const char *field_path, const char *const *expressions)
{
        _cleanup_free_ char *fp = val_path("%s.fieldPath", base);
        _cleanup_free_ char *av = val_path("%s.apiVersion", base);
        _cleanup_free_ char *path = NULL, *key = NULL, *detail = NULL;

        if (!api_version || !*api_version) {
                val_required(c, av, NULL);
                return;
        }
        if (!field_path || !*field_path) {
                val_required(c, fp, NULL);
                return;
        }
        detail = convert_field_label(api_version, field_path, &path, &key);
        if (detail) {
                val_invalid(c, fp, field_path, detail);
                return;
        }
        if (path) {
                /* Annotation keys are matched case-insensitively. */
                if (strcmp(path, "metadata.annotations") == 0)
                        for (char *p = key; *p; p++)
                                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                val_qualified_name(c, base, key);
                return;
        }
        /* "spec.host" is what old clients send for spec.nodeName. */
        if (!in_list(expressions,
                     strcmp(field_path, "spec.host") == 0 ? "spec.nodeName" : field_path))
                val_unsupported(c, fp, field_path, expressions);
}

static const char *const resource_expressions[] = {
    "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory",
    NULL,
};

/* validateContainerResourceFieldSelector and validateContainerResourceDivisor. */
void val_resource_selector(struct val_ctx *c, const char *base, const char *container,
                           const char *resource, const struct spec_quantity *divisor, bool volume)
{
        static const char *const cpu_divisors[] = {"1m", "1", NULL};
        static const char *const memory_divisors[] = {"1",   "1k",  "1M",  "1G",  "1T",
                                                      "1P",  "1E",  "1Ki", "1Mi", "1Gi",
                                                      "1Ti", "1Pi", "1Ei", NULL};
        _cleanup_free_ char *cp = val_path("%s.containerName", base);
        _cleanup_free_ char *rp = val_path("%s.resource", base);
        _cleanup_free_ char *dp = val_path("%s.divisor", base);
        _cleanup_free_ char *canon = NULL;
        const char *kind = NULL;

        if (volume && (!container || !*container))
                val_required(c, cp, NULL);
        if (!resource || !*resource) {
                val_required(c, rp, NULL);
                return;
        }
        if (!in_list(resource_expressions, resource) &&
            !pr_startswith(resource, "limits.hugepages-") &&
            !pr_startswith(resource, "requests.hugepages-"))
                val_unsupported(c, rp, resource, resource_expressions);
        if (!divisor->set || val_quantity_sign(divisor) == 0)
                return;
        canon = spec_quantity_format(divisor);
        if (pr_endswith(resource, ".cpu")) {
                if (!in_list(cpu_divisors, canon))
                        val_invalid(c, dp, resource,
                                    "only divisor's values 1m and 1 are supported with the cpu "
                                    "resource");
                return;
        }
        if (pr_endswith(resource, ".memory"))
                kind = "memory";
        else if (pr_endswith(resource, ".ephemeral-storage"))
                kind = "local ephemeral storage";
        if (kind && !in_list(memory_divisors, canon)) {
                _cleanup_free_ char *detail = pr_asprintf(
                    "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, "
                    "1Pi, 1Ei are supported with the %s resource",
                    kind);

                val_invalid(c, dp, resource, detail);
        }
}

static const char *const volume_field_paths[] = {
    "metadata.annotations", "metadata.labels", "metadata.name",
    "metadata.namespace",   "metadata.uid",    NULL,
};

static void check_downward_items(struct val_ctx *c, const char *base, size_t n,
                                 const struct spec_downward_item *items)
{
        for (size_t i = 0; i < n; i++) {
                const struct spec_downward_item *it = &items[i];
                _cleanup_free_ char *ip = val_path("%s.items[%zu]", base, i);
                _cleanup_free_ char *pp = val_path("%s.path", ip);
                _cleanup_free_ char *fp = val_path("%s.fieldRef", ip);
                _cleanup_free_ char *rp = val_path("%s.resourceFieldRef", ip);

                if (!it->path || !*it->path)
                        val_required(c, pp, NULL);
                check_local_path(c, pp, it->path ? it->path : "");
                if (it->field_path) {
                        val_field_selector(c, fp, "v1", it->field_path, volume_field_paths);
                        if (it->resource)
                                val_invalid(c, ip, "resource",
                                            "fieldRef and resourceFieldRef can not be specified "
                                            "simultaneously");
                } else if (it->resource) {
                        val_resource_selector(c, rp, it->container_name, it->resource, &it->divisor,
                                              true);
                } else
                        val_required(c, ip, "one of fieldRef and resourceFieldRef is required");
                check_mode(c, ip, "mode", it->has_mode, it->mode);
        }
}

static void check_object_source(struct val_ctx *c, const char *base, const char *name_key,
                                const struct spec_object_source *o)
{
        _cleanup_free_ char *np = val_path("%s.%s", base, name_key);

        if (!o->name || !*o->name)
                val_required(c, np, NULL);
        for (size_t i = 0; i < o->n_items; i++) {
                const struct spec_key_to_path *kp = &o->items[i];
                _cleanup_free_ char *ip = val_path("%s.items[%zu]", base, i);
                _cleanup_free_ char *kpath = val_path("%s.key", ip);
                _cleanup_free_ char *ppath = val_path("%s.path", ip);

                if (!kp->key || !*kp->key)
                        val_required(c, kpath, NULL);
                if (!kp->path || !*kp->path)
                        val_required(c, ppath, NULL);
                check_local_path(c, ppath, kp->path ? kp->path : "");
                check_mode(c, ip, "mode", kp->has_mode, kp->mode);
        }
}

static void check_service_account_token(struct val_ctx *c, const char *base,
                                        const struct spec_projection *pr)
{
        _cleanup_free_ char *ep = val_path("%s.expirationSeconds", base);
        _cleanup_free_ char *pp = val_path("%s.path", base);
        int64_t e = pr->service_account_token.expiration_seconds;

        if (e < 10 * 60)
                val_invalid_int(c, ep, e, "may not specify a duration less than 10 minutes");
        if (e > (INT64_C(1) << 32))
                val_invalid_int(c, ep, e, "may not specify a duration larger than 2^32 seconds");
        if (!pr->service_account_token.path || !*pr->service_account_token.path)
                val_required(c, pp, NULL);
}

static void check_projections(struct val_ctx *c, const char *base, const struct spec_volume *v)
{
        for (size_t i = 0; i < v->n_projections; i++) {
                const struct spec_projection *pr = &v->projections[i];
                _cleanup_free_ char *sp = val_path("%s.sources[%zu]", base, i);
                _cleanup_free_ char *p = NULL;

                switch (pr->type) {
                case SPEC_PROJECTION_CONFIG_MAP:
                        p = val_path("%s.configMap", sp);
                        check_object_source(c, p, "name", &pr->object);
                        break;
                case SPEC_PROJECTION_SECRET:
                        p = val_path("%s.secret", sp);
                        check_object_source(c, p, "name", &pr->object);
                        break;
                case SPEC_PROJECTION_DOWNWARD_API:
                        p = val_path("%s.downwardAPI", sp);
                        check_downward_items(c, p, pr->n_downward_items, pr->downward_items);
                        break;
                case SPEC_PROJECTION_SERVICE_ACCOUNT_TOKEN:
                        p = val_path("%s.serviceAccountToken", sp);
                        check_service_account_token(c, p, pr);
                        break;
                default:
                        break;
                }
        }
}

static bool check_source(struct val_ctx *c, const char *base, const struct spec_volume *v)
{
        _cleanup_free_ char *p = NULL;
        int before = c->errors;

        switch (v->type) {
        case SPEC_VOLUME_EMPTY_DIR:
                if (v->empty_dir.size_limit.set &&
                    val_quantity_sign(&v->empty_dir.size_limit) < 0) {
                        p = val_path("%s.emptyDir.sizeLimit", base);
                        val_forbidden(c, p, "SizeLimit field must be a valid resource quantity");
                } else if (v->empty_dir.size_limit.set &&
                           v->empty_dir.medium == SPEC_MEDIUM_DEFAULT) {
                        /* Only a tmpfs has a size to set; kubelet would evict a pod
                         * whose disk emptyDir grows past it. */
                        p = val_path("%s.emptyDir.sizeLimit", base);
                        val_warning(c, p,
                                    "ignored: podrun limits the size of a Memory emptyDir "
                                    "only; this one on disk may grow past it");
                }
                break;
        case SPEC_VOLUME_HOST_PATH:
                p = val_path("%s.hostPath.path", base);
                if (!v->host_path.path || !*v->host_path.path) {
                        val_required(c, p, NULL);
                        break;
                }
                val_local_backsteps(c, p, v->host_path.path);
                if (v->host_path.path[0] != '/')
                        val_invalid(c, p, v->host_path.path, "must be an absolute path");
                break;
        case SPEC_VOLUME_CONFIG_MAP:
                p = val_path("%s.configMap", base);
                check_object_source(c, p, "name", &v->object);
                break;
        case SPEC_VOLUME_SECRET:
                p = val_path("%s.secret", base);
                check_object_source(c, p, "secretName", &v->object);
                break;
        case SPEC_VOLUME_DOWNWARD_API:
                p = val_path("%s.downwardAPI", base);
                check_downward_items(c, p, v->n_downward_items, v->downward_items);
                break;
        case SPEC_VOLUME_PROJECTED:
                p = val_path("%s.projected", base);
                check_projections(c, p, v);
                break;
        default:
                break;
        }
        if (v->type == SPEC_VOLUME_CONFIG_MAP || v->type == SPEC_VOLUME_SECRET ||
            v->type == SPEC_VOLUME_DOWNWARD_API || v->type == SPEC_VOLUME_PROJECTED) {
                free(p);
                p = val_path("%s.%s", base, spec_volume_type_to_string(v->type));
                check_mode(c, p, "defaultMode", true, v->default_mode);
        }
        return c->errors == before;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ValidateVolumes: a volume with any error is left out of the set that
 * volumeMounts may name, so its mounts are also reported Not found. */
void val_volumes(struct val_ctx *c)
{
        const struct spec_pod *pod = c->pod;
        _cleanup_free_ const char **names = pr_calloc(pod->n_volumes + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        for (size_t i = 0; i < pod->n_volumes; i++)
                names[i] = pod->volumes[i].name;
        dup = val_duplicates(names, pod->n_volumes);
        c->volume_names = pr_calloc(pod->n_volumes + 1, sizeof(char *));
        for (size_t i = 0; i < pod->n_volumes; i++) {
                const struct spec_volume *v = &pod->volumes[i];
                _cleanup_free_ char *base = val_path("spec.volumes[%zu]", i);
                _cleanup_free_ char *np = val_path("%s.name", base);
                bool ok = check_source(c, base, v);

                if (!v->name || !*v->name) {
                        val_required(c, np, NULL);
                        ok = false;
                } else
                        ok = val_dns1123_label(c, np, v->name) && ok;
                if (dup[i]) {
                        val_duplicate(c, np, v->name);
                        ok = false;
                }
                if (ok)
                        c->volume_names[c->n_volume_names++] = v->name;
        }
        qsort(c->volume_names, c->n_volume_names, sizeof(char *), compare_names);
}

bool val_volume_exists(const struct val_ctx *c, const char *name)
{
        return name && c->volume_names &&
               bsearch(&name, c->volume_names, c->n_volume_names, sizeof(char *), compare_names) !=
                   NULL;
}
