/* A manifest into pods: reading the file, the Pod object's top level,
 * metadata and spec tables, the API server's defaults, and freeing. Fields
 * that one host cannot honour are read past with a warning that says why.
 * It must never make a syscall beyond reading the manifest, never print, and
 * never stop at the first problem: every diagnostic of a file is collected. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "specs/pod-int.h"
#include "specs/specs.h"

#define NOT_SCHEDULED "podrun runs every pod on this host"
#define NO_ACCOUNTS "podrun has no service accounts"
#define SERVER_SET "set by the API server, not by manifests"

/* clang-format off */
static const struct field metadata_fields[] = {
        { "annotations", f_string_map, offsetof(struct spec_pod, annotations), NULL },
        { "creationTimestamp", f_ignored, 0, SERVER_SET },
        { "deletionGracePeriodSeconds", f_ignored, 0, SERVER_SET },
        { "deletionTimestamp", f_ignored, 0, SERVER_SET },
        { "finalizers", f_ignored, 0, "podrun has no controllers to honour finalizers" },
        { "generateName", f_ignored, 0, "podrun names pods by metadata.name only" },
        { "generation", f_ignored, 0, SERVER_SET },
        { "labels", f_string_map, offsetof(struct spec_pod, labels), NULL },
        { "managedFields", f_ignored, 0, SERVER_SET },
        { "name", f_string, offsetof(struct spec_pod, name), NULL },
        { "namespace", f_string, offsetof(struct spec_pod, namespace), NULL },
        { "ownerReferences", f_ignored, 0, "podrun has no garbage collector" },
        { "resourceVersion", f_ignored, 0, SERVER_SET },
        { "selfLink", f_ignored, 0, SERVER_SET },
        { "uid", f_ignored, 0, SERVER_SET },
};
/* clang-format on */
static const struct object_desc metadata_desc = OBJECT_DESC_AT(metadata_fields, "metadata");

static void supplemental_group(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_pod_security *s = arg;
        int64_t v;

        (void)i;
        if (conv_int(c, item, INT64_MIN, INT64_MAX, &v))
                *(int64_t *)pr_array_grow(&s->supplemental_groups, &s->n_supplemental_groups,
                                          sizeof(v)) = v;
}

static void f_supplemental_groups(struct conv *c, const struct spec_node *n, void *dst,
                                  const struct field *f)
{
        struct spec_pod_security *s = dst;

        (void)f;
        (void)conv_list(c, n, supplemental_group, s);
}

#define PS(member) offsetof(struct spec_pod_security, member)
/* clang-format off */
static const struct field pod_security_fields[] = {
        { "appArmorProfile", f_ignored, 0, "podrun does not load AppArmor profiles" },
        { "fsGroup", f_opt_i64, PS(fs_group), NULL },
        { "fsGroupChangePolicy", f_ignored, 0, "podrun always applies fsGroup at start" },
        { "runAsGroup", f_opt_i64, PS(run_as_group), NULL },
        { "runAsNonRoot", f_opt_bool, PS(run_as_non_root), NULL },
        { "runAsUser", f_opt_i64, PS(run_as_user), NULL },
        { "seLinuxChangePolicy", f_ignored, 0, "podrun does not apply SELinux labels" },
        { "seLinuxOptions", f_ignored, 0, "podrun does not apply SELinux labels" },
        { "seccompProfile", f_object, PS(seccomp), &spec_seccomp_desc },
        { "supplementalGroups", f_supplemental_groups, 0, NULL },
        { "supplementalGroupsPolicy", f_ignored, 0, "podrun merges the image's groups" },
        { "sysctls", f_name_value_list, PS(sysctls), NULL },
        { "windowsOptions", f_ignored, 0, "podrun runs Linux containers only" },
};
/* clang-format on */
static const struct object_desc pod_security_desc = OBJECT_DESC(pod_security_fields);

/* clang-format off */
static const struct field host_alias_fields[] = {
        { "hostnames", f_strv, offsetof(struct spec_host_alias, hostnames), NULL },
        { "ip", f_string, offsetof(struct spec_host_alias, ip), NULL },
};
/* clang-format on */
static const struct object_desc host_alias_desc = OBJECT_DESC(host_alias_fields);

static void host_alias_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_pod *pod = arg;
        struct spec_host_alias *a;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        a = pr_array_grow(&pod->host_aliases, &pod->n_host_aliases, sizeof(*a));
        a->pos = item->pos;
        (void)conv_object(c, item, a, &host_alias_desc);
}

static void f_host_aliases(struct conv *c, const struct spec_node *n, void *dst,
                           const struct field *f)
{
        (void)dst;
        (void)f;
        (void)conv_list(c, n, host_alias_item, c->pod);
}

/* clang-format off */
static const struct field dns_config_fields[] = {
        { "nameservers", f_strv, offsetof(struct spec_dns_config, nameservers), NULL },
        { "options", f_name_value_list, offsetof(struct spec_dns_config, options), NULL },
        { "searches", f_strv, offsetof(struct spec_dns_config, searches), NULL },
};
/* clang-format on */
static const struct object_desc dns_config_desc = OBJECT_DESC(dns_config_fields);

static void container_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        bool init = arg != NULL;
        struct spec_pod *pod = c->pod;
        struct spec_container *ctr;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        if (init)
                ctr = pr_array_grow(&pod->init_containers, &pod->n_init_containers, sizeof(*ctr));
        else
                ctr = pr_array_grow(&pod->containers, &pod->n_containers, sizeof(*ctr));
        ctr->pos = item->pos;
        /* Not a valid policy: tells the defaults pass it was not given. */
        ctr->image_pull_policy = _SPEC_PULL_POLICY_INVALID;
        (void)conv_object(c, item, ctr, &spec_container_desc);
}

static void f_containers(struct conv *c, const struct spec_node *n, void *dst,
                         const struct field *f)
{
        (void)dst;
        (void)conv_list(c, n, container_item, (void *)f->aux);
}

static void volume_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_pod *pod = arg;
        struct spec_volume *v;
        unsigned saved = c->oneof;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        v = pr_array_grow(&pod->volumes, &pod->n_volumes, sizeof(*v));
        v->pos = item->pos;
        v->default_mode = -1; /* not given */
        c->oneof = 0;
        (void)conv_object(c, item, v, &spec_volume_desc);
        c->oneof = saved;
}

static void f_volumes(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)dst;
        (void)f;
        (void)conv_list(c, n, volume_item, c->pod);
}

#define P(member) offsetof(struct spec_pod, member)
/* clang-format off */
static const struct field pod_spec_fields[] = {
        { "activeDeadlineSeconds", f_opt_i64, P(active_deadline_seconds), NULL },
        { "affinity", f_ignored, 0, NOT_SCHEDULED },
        { "automountServiceAccountToken", f_ignored, 0, NO_ACCOUNTS },
        { "containers", f_containers, 0, NULL },
        { "dnsConfig", f_object, P(dns_config), &dns_config_desc },
        { "dnsPolicy", f_enum, P(dns_policy), &spec_dns_policy_table },
        { "enableServiceLinks", f_bool, P(enable_service_links), NULL },
        { "ephemeralContainers", f_ignored, 0, "podrun adds no debug containers to a pod" },
        { "hostAliases", f_host_aliases, 0, NULL },
        { "hostIPC", f_bool, P(host_ipc), NULL },
        { "hostNetwork", f_bool, P(host_network), NULL },
        { "hostPID", f_bool, P(host_pid), NULL },
        { "hostUsers", f_opt_bool, P(host_users), NULL },
        { "hostname", f_string, P(hostname), NULL },
        { "hostnameOverride", f_ignored, 0, "podrun sets the hostname from hostname alone" },
        { "imagePullSecrets", f_ignored, 0, "podrun runs images from its local store only" },
        { "initContainers", f_containers, 0, "init" },
        { "nodeName", f_ignored, 0, NOT_SCHEDULED },
        { "nodeSelector", f_ignored, 0, NOT_SCHEDULED },
        { "os", f_ignored, 0, "podrun runs Linux pods only" },
        { "overhead", f_ignored, 0, "podrun has no runtime classes" },
        { "preemptionPolicy", f_ignored, 0, NOT_SCHEDULED },
        { "priority", f_ignored, 0, NOT_SCHEDULED },
        { "priorityClassName", f_ignored, 0, NOT_SCHEDULED },
        { "readinessGates", f_ignored, 0, "podrun has no controllers to set extra conditions" },
        { "resourceClaims", f_ignored, 0, "podrun has no dynamic resource allocation" },
        { "resources", f_ignored, 0, "podrun applies container resources only" },
        { "restartPolicy", f_enum, P(restart_policy), &spec_restart_policy_table },
        { "runtimeClassName", f_ignored, 0, "podrun has no runtime classes" },
        { "schedulerName", f_ignored, 0, NOT_SCHEDULED },
        { "schedulingGates", f_ignored, 0, NOT_SCHEDULED },
        { "securityContext", f_object, P(security_context), &pod_security_desc },
        { "serviceAccount", f_ignored, 0, NO_ACCOUNTS },
        { "serviceAccountName", f_ignored, 0, NO_ACCOUNTS },
        { "setHostnameAsFQDN", f_ignored, 0, "podrun has no cluster domain" },
        { "shareProcessNamespace", f_bool, P(share_process_namespace), NULL },
        { "subdomain", f_string, P(subdomain), NULL },
        { "terminationGracePeriodSeconds", f_int64, P(termination_grace_period_seconds), NULL },
        { "tolerations", f_ignored, 0, NOT_SCHEDULED },
        { "topologySpreadConstraints", f_ignored, 0, NOT_SCHEDULED },
        { "volumes", f_volumes, 0, NULL },
};
/* clang-format on */
static const struct object_desc pod_spec_desc = OBJECT_DESC_AT(pod_spec_fields, "spec");

/* clang-format off */
static const struct field pod_fields[] = {
        { "apiVersion", f_string, P(api_version), NULL },
        { "kind", f_string, P(kind), NULL },
        { "metadata", f_object, 0, &metadata_desc },
        { "spec", f_object, 0, &pod_spec_desc },
        { "status", f_ignored, 0, "podrun reports the status itself" },
};
/* clang-format on */
static const struct object_desc pod_desc = OBJECT_DESC_AT(pod_fields, "the top level");

/* clang-format off */
const struct object_desc *const spec_landmarks[] = {
        &pod_desc, &metadata_desc, &pod_spec_desc, &spec_container_desc, &spec_volume_desc, NULL,
};
/* clang-format on */

/* apiVersion and kind decide the schema: anything but v1 Pod is refused
 * before its fields could drown the real problem in unknown-field errors. */
static bool check_type(struct conv *c, const struct spec_node *root)
{
        /* clang-format off */
        static const struct {
                const char *key, *want, *detail;
        } checks[] = {
                { "apiVersion", "v1", "podrun runs core v1 objects only" },
                { "kind", "Pod", "podrun runs Pods only" },
        };
        /* clang-format on */
        bool ok = true;

        for (size_t i = 0; i < PR_ELEMENTSOF(checks); i++) {
                const struct spec_node *n = spec_node_get(root, checks[i].key);
                size_t saved = conv_push_key(c, checks[i].key);

                if (!n || (n->kind == SPEC_NODE_SCALAR && n->type == SPEC_SCALAR_NULL)) {
                        conv_error(c, root->pos, "Required value: must be \"%s\"", checks[i].want);
                        ok = false;
                } else if (n->kind != SPEC_NODE_SCALAR || n->type != SPEC_SCALAR_STRING) {
                        conv_type_error(c, n, "a string");
                        ok = false;
                } else if (strcmp(n->value, checks[i].want) != 0 || n->len != strlen(n->value)) {
                        _cleanup_free_ char *shown = spec_excerpt(n->value, n->len, 64);
                        conv_error(c, n->pos, "Unsupported value: \"%s\": %s", shown,
                                   checks[i].detail);
                        ok = false;
                }
                conv_pop(c, saved);
        }
        return ok;
}

static void apply_defaults(struct spec_pod *pod)
{
        /* The API server takes the namespace from the request: kubectl's
         * is "default". */
        if (!pod->namespace || !*pod->namespace) {
                free(pod->namespace);
                pod->namespace = pr_strdup("default");
        }
        for (size_t i = 0; i < pod->n_init_containers; i++)
                conv_container_defaults(pod, &pod->init_containers[i]);
        for (size_t i = 0; i < pod->n_containers; i++)
                conv_container_defaults(pod, &pod->containers[i]);
        for (size_t i = 0; i < pod->n_volumes; i++)
                conv_volume_defaults(&pod->volumes[i]);
}

static int compare_field_pos(const void *a, const void *b)
{
        return strcmp(((const struct spec_field_pos *)a)->path,
                      ((const struct spec_field_pos *)b)->path);
}

int spec_pod_convert(const char *file, const struct spec_yaml_doc *doc, struct spec_pod *pod,
                     struct spec_diags *diags)
{
        struct conv c = {.file = file, .diags = diags, .pod = pod};
        const struct spec_node *root = doc->root;

        pod->file = pr_strdup(file);
        pod->pos = root->pos;
        pod->restart_policy = SPEC_RESTART_ALWAYS;
        pod->termination_grace_period_seconds = 30;
        pod->dns_policy = SPEC_DNS_CLUSTER_FIRST;
        pod->enable_service_links = true;
        if (root->kind != SPEC_NODE_MAPPING) {
                conv_error(&c, root->pos, "expected a Pod object, got %s",
                           spec_node_type_name(root));
                return c.errors;
        }
        if (check_type(&c, root)) {
                (void)conv_object(&c, root, pod, &pod_desc);
                apply_defaults(pod);
        }
        free(c.path);
        if (pod->n_field_pos > 1)
                qsort(pod->field_pos, pod->n_field_pos, sizeof(*pod->field_pos), compare_field_pos);
        return c.errors;
}

struct spec_pos spec_pod_field_pos(const struct spec_pod *pod, const char *path)
{
        _cleanup_free_ char *p = pr_strdup(path ? path : "");

        while (*p && pod->n_field_pos > 0) {
                struct spec_field_pos key = {.path = p}, *found;
                char *cut;

                found =
                    bsearch(&key, pod->field_pos, pod->n_field_pos, sizeof(key), compare_field_pos);
                if (found)
                        return found->pos;
                /* The nearest parent: drop "[i]" or ".name" from the end. */
                cut = p[strlen(p) - 1] == ']' ? strrchr(p, '[') : strrchr(p, '.');
                if (!cut)
                        break;
                *cut = '\0';
        }
        return pod->pos;
}

const struct spec_container *spec_pod_find_container(const struct spec_pod *pod, const char *name)
{
        for (size_t i = 0; i < pod->n_init_containers; i++)
                if (pr_streq(pod->init_containers[i].name, name))
                        return &pod->init_containers[i];
        for (size_t i = 0; i < pod->n_containers; i++)
                if (pr_streq(pod->containers[i].name, name))
                        return &pod->containers[i];
        return NULL;
}

void spec_map_done(struct spec_map *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->items[i].key);
                free(m->items[i].value);
        }
        free(m->items);
        *m = (struct spec_map){0};
}

void spec_pod_done(struct spec_pod *pod)
{
        if (!pod)
                return;
        free(pod->file);
        free(pod->api_version);
        free(pod->kind);
        free(pod->name);
        free(pod->namespace);
        spec_map_done(&pod->labels);
        spec_map_done(&pod->annotations);
        for (size_t i = 0; i < pod->n_init_containers; i++)
                spec_container_done(&pod->init_containers[i]);
        free(pod->init_containers);
        for (size_t i = 0; i < pod->n_containers; i++)
                spec_container_done(&pod->containers[i]);
        free(pod->containers);
        free(pod->hostname);
        free(pod->subdomain);
        for (size_t i = 0; i < pod->n_host_aliases; i++) {
                free(pod->host_aliases[i].ip);
                pr_strv_free(pod->host_aliases[i].hostnames);
        }
        free(pod->host_aliases);
        pr_strv_free(pod->dns_config.nameservers);
        pr_strv_free(pod->dns_config.searches);
        spec_map_done(&pod->dns_config.options);
        free(pod->security_context.supplemental_groups);
        spec_map_done(&pod->security_context.sysctls);
        free(pod->security_context.seccomp.localhost_profile);
        for (size_t i = 0; i < pod->n_volumes; i++)
                spec_volume_done(&pod->volumes[i]);
        free(pod->volumes);
        for (size_t i = 0; i < pod->n_field_pos; i++)
                free(pod->field_pos[i].path);
        free(pod->field_pos);
        *pod = (struct spec_pod){0};
}

struct spec_file *spec_file_free(struct spec_file *f)
{
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_pods; i++)
                spec_pod_done(&f->pods[i]);
        free(f->pods);
        free(f);
        return NULL;
}

PR_DEFINE_FREE_FUNC(struct spec_file, spec_file_free)

/* Whether one field path is the other or lies beneath it. */
static bool paths_overlap(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        const char *longer = la >= lb ? a : b;
        size_t shorter = la >= lb ? lb : la;

        return strncmp(a, b, shorter) == 0 &&
               (longer[shorter] == '\0' || longer[shorter] == '.' || longer[shorter] == '[');
}

/* A conversion error that leaves nothing to validate: the document is not a
 * Pod, or not an object at all. */
static bool document_failed(const struct spec_diags *diags, size_t first)
{
        for (size_t i = first; i < diags->n; i++) {
                const struct spec_diag *d = &diags->items[i];

                if (d->severity == SPEC_ERROR &&
                    (!d->field || pr_streq(d->field, "kind") || pr_streq(d->field, "apiVersion")))
                        return true;
        }
        return false;
}

static bool conversion_error_at(const struct spec_diags *diags, size_t first, size_t end,
                                const char *field)
{
        for (size_t i = first; i < end; i++) {
                const struct spec_diag *d = &diags->items[i];

                if (d->severity == SPEC_ERROR && d->field && field &&
                    paths_overlap(d->field, field))
                        return true;
        }
        return false;
}

/* Validates a pod that converted with errors too, so that every mistake of
 * the manifest is reported at once; but a field the conversion already
 * reported (or whose parent or child it reported) is left out, since its
 * value was not taken and would only come back as a missing one. */
static void validate_pod(const struct spec_pod *pod, struct spec_diags *diags, size_t first)
{
        struct spec_diags v = {0};
        size_t end = diags->n;

        if (document_failed(diags, first))
                return;
        (void)spec_validate(pod, &v);
        for (size_t i = 0; i < v.n; i++) {
                struct spec_diag *d = &v.items[i];

                if (conversion_error_at(diags, first, end, d->field)) {
                        free(d->file);
                        free(d->field);
                        free(d->message);
                        continue;
                }
                *(struct spec_diag *)pr_array_grow(&diags->items, &diags->n, sizeof(*d)) = *d;
                if (d->severity == SPEC_ERROR)
                        diags->n_errors++;
        }
        free(v.items);
}

/* Converts and validates every document; diagnostics go to diags. */
static void load_stream(const char *name, const struct spec_yaml_stream *s, struct spec_file *f,
                        struct spec_diags *diags)
{
        for (size_t i = 0; i < s->n_docs; i++) {
                struct spec_pod *pod;
                size_t first = diags->n;

                if (!s->docs[i].root)
                        continue; /* an empty document, as kubectl skips it */
                pod = pr_array_grow(&f->pods, &f->n_pods, sizeof(*pod));
                (void)spec_pod_convert(name, &s->docs[i], pod, diags);
                validate_pod(pod, diags, first);
        }
}

int spec_load_buffer(const char *name, const char *buf, size_t len, struct spec_file **ret,
                     struct spec_diags *diags, struct pr_error *err)
{
        _cleanup_(spec_file_freep) struct spec_file *f = pr_calloc(1, sizeof(*f));
        struct spec_diags local = {0};
        struct spec_yaml_stream s;
        size_t first, errors_before;
        int syntax_errors;

        if (!diags)
                diags = &local;
        if (!buf)
                buf = ""; /* libyaml asserts on a NULL input even when empty */
        first = diags->n;
        errors_before = diags->n_errors;
        syntax_errors = spec_yaml_parse(name, buf, len, &s, diags);
        load_stream(name, &s, f, diags);
        spec_yaml_stream_done(&s);
        if (f->n_pods == 0 && syntax_errors == 0)
                spec_diags_add(diags, SPEC_ERROR, name, (struct spec_pos){1, 1}, NULL,
                               "no Pod in the manifest");
        spec_diags_sort(diags, first);
        if (diags->n_errors > errors_before) {
                size_t n = diags->n_errors - errors_before;
                spec_diags_done(&local);
                return pr_err_usage(err, "manifest '%s': %zu error%s", name, n, n == 1 ? "" : "s");
        }
        spec_diags_done(&local);
        *ret = PR_TAKE_PTR(f);
        return 0;
}

int spec_load_file(const char *path, struct spec_file **ret, struct spec_diags *diags,
                   struct pr_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = pr_read_file(path, SPEC_MAX_DOCUMENT_BYTES, &data, &len, err);
        if (r == -EFBIG) {
                if (diags)
                        spec_diags_add(diags, SPEC_ERROR, path, (struct spec_pos){1, 1}, NULL,
                                       "manifest larger than %u bytes",
                                       (unsigned)SPEC_MAX_DOCUMENT_BYTES);
                return pr_err_usage(err, "manifest '%s': larger than %u bytes", path,
                                    (unsigned)SPEC_MAX_DOCUMENT_BYTES);
        }
        if (r < 0)
                return r;
        return spec_load_buffer(path, data, len, ret, diags, err);
}
