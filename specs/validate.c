/* Pod validation as the API server's ValidatePod performs it: every problem
 * becomes one diagnostic naming the field by its Kubernetes path, worded as
 * Kubernetes words it, placed at the line and column where it was written.
 * This file holds the framework and the pod-level rules; containers and
 * volumes have their own files. It reads a finished struct spec_pod, never
 * changes it, never stops at the first error, and makes no syscalls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

void val_report(struct val_ctx *c, enum spec_severity severity, const char *path, const char *fmt,
                ...)
{
        _cleanup_free_ char *msg = NULL;
        struct spec_pos pos;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort(); /* out of memory, as pr_malloc */
        pos = c->pos_override ? *c->pos_override : spec_pod_field_pos(c->pod, path);
        spec_diags_add(c->diags, severity, c->pod->file, pos, path, "%s", msg);
        if (severity == SPEC_ERROR)
                c->errors++;
}

void val_object_meta(struct val_ctx *c)
{
        const struct spec_pod *pod = c->pod;

        if (!pod->name || !*pod->name)
                val_required(c, "metadata.name", "name or generateName is required");
        else
                val_dns1123_subdomain(c, "metadata.name", pod->name);
        if (pod->namespace && *pod->namespace)
                val_dns1123_label(c, "metadata.namespace", pod->namespace);
        val_labels(c, "metadata.labels", &pod->labels);
        val_annotations(c, "metadata.annotations", &pod->annotations);
}

/* Whether the manifest wrote a field, even as an empty object. */
static bool field_written(const struct spec_pod *pod, const char *path)
{
        for (size_t i = 0; i < pod->n_field_pos; i++)
                if (pr_streq(pod->field_pos[i].path, path))
                        return true;
        return false;
}

static void val_host_aliases(struct val_ctx *c)
{
        for (size_t i = 0; i < c->pod->n_host_aliases; i++) {
                const struct spec_host_alias *a = &c->pod->host_aliases[i];
                _cleanup_free_ char *ip = val_path("spec.hostAliases[%zu].ip", i);

                if (!a->ip || !*a->ip)
                        val_required(c, ip, NULL);
                else
                        val_ip(c, ip, a->ip);
                for (size_t j = 0; a->hostnames && a->hostnames[j]; j++) {
                        _cleanup_free_ char *h =
                            val_path("spec.hostAliases[%zu].hostnames[%zu]", i, j);

                        val_dns1123_subdomain(c, h, a->hostnames[j]);
                }
        }
}

static void val_dns_config(struct val_ctx *c)
{
        const struct spec_pod *pod = c->pod;
        const struct spec_dns_config *d = &pod->dns_config;
        size_t n_ns = pr_strv_len(d->nameservers), n_search = pr_strv_len(d->searches);
        size_t search_len = 0;

        if (pod->dns_policy == SPEC_DNS_NONE && !field_written(pod, "spec.dnsConfig")) {
                val_required(c, "spec.dnsConfig",
                             "must provide `dnsConfig` when `dnsPolicy` is None");
                return;
        }
        if (pod->dns_policy == SPEC_DNS_NONE && n_ns == 0) {
                val_required(c, "spec.dnsConfig.nameservers",
                             "must provide at least one DNS nameserver when `dnsPolicy` is None");
                return;
        }
        if (n_ns > 3)
                val_invalid_strv(c, "spec.dnsConfig.nameservers", d->nameservers,
                                 "must not have more than 3 nameservers");
        for (size_t i = 0; i < n_ns; i++) {
                _cleanup_free_ char *p = val_path("spec.dnsConfig.nameservers[%zu]", i);

                val_ip(c, p, d->nameservers[i]);
        }
        if (n_search > 32)
                val_invalid_strv(c, "spec.dnsConfig.searches", d->searches,
                                 "must not have more than 32 search paths");
        for (size_t i = 0; i < n_search; i++)
                search_len += strlen(d->searches[i]) + (i > 0);
        if (search_len > 2048)
                val_invalid_strv(c, "spec.dnsConfig.searches", d->searches,
                                 "must not have more than 2048 characters (including spaces) in "
                                 "the search list");
        for (size_t i = 0; i < n_search; i++) {
                _cleanup_free_ char *p = val_path("spec.dnsConfig.searches[%zu]", i);
                /* A trailing dot names the root and is allowed. */
                _cleanup_free_ char *s = pr_strdup(d->searches[i]);

                if (pr_endswith(s, ".") && strlen(s) > 1)
                        s[strlen(s) - 1] = '\0';
                val_dns1123_subdomain(c, p, s);
        }
        for (size_t i = 0; i < d->options.n; i++) {
                _cleanup_free_ char *p = val_path("spec.dnsConfig.options[%zu].name", i);

                if (!d->options.items[i].key || !*d->options.items[i].key)
                        val_required(c, p, "Option.Name must not be empty");
        }
}

void val_pod_spec(struct val_ctx *c)
{
        const struct spec_pod *pod = c->pod;

        val_volumes(c);
        val_containers(c);
        val_host_network_ports(c);
        if (pod->restart_policy < 0 || pod->restart_policy >= _SPEC_RESTART_POLICY_MAX)
                val_required(c, "spec.restartPolicy", NULL);
        val_pod_security(c);
        val_dns_config(c);
        if (pod->termination_grace_period_seconds < 0)
                val_invalid_int(c, "spec.terminationGracePeriodSeconds",
                                pod->termination_grace_period_seconds,
                                "must be greater than or equal to 0");
        if (pod->active_deadline_seconds.set && (pod->active_deadline_seconds.value < 1 ||
                                                 pod->active_deadline_seconds.value > INT32_MAX))
                val_invalid_int(c, "spec.activeDeadlineSeconds", pod->active_deadline_seconds.value,
                                "must be between 1 and 2147483647, inclusive");
        if (pod->hostname && *pod->hostname)
                val_dns1123_label(c, "spec.hostname", pod->hostname);
        if (pod->subdomain && *pod->subdomain)
                val_dns1123_label(c, "spec.subdomain", pod->subdomain);
        val_host_aliases(c);
}

struct name_ref {
        const char *name;
        size_t index;
};

static int compare_name_ref(const void *pa, const void *pb)
{
        const struct name_ref *a = pa, *b = pb;
        int r = strcmp(a->name, b->name);

        if (r != 0)
                return r;
        return (a->index > b->index) - (a->index < b->index);
}

bool *val_duplicates(const char *const *names, size_t n)
{
        _cleanup_free_ struct name_ref *refs = pr_calloc(n + 1, sizeof(*refs));
        bool *dup = pr_calloc(n + 1, sizeof(bool));
        size_t m = 0;

        for (size_t i = 0; i < n; i++)
                if (names[i] && *names[i])
                        refs[m++] = (struct name_ref){names[i], i};
        /* Sorted by name, then by position: each run's first is the original. */
        qsort(refs, m, sizeof(*refs), compare_name_ref);
        for (size_t k = 1; k < m; k++)
                if (strcmp(refs[k - 1].name, refs[k].name) == 0)
                        dup[refs[k].index] = true;
        return dup;
}

int val_quantity_sign(const struct spec_quantity *q)
{
        static const struct spec_quantity zero = {.set = true, .text = (char *)"0"};

        return spec_quantity_cmp(q, &zero);
}

int spec_validate(const struct spec_pod *pod, struct spec_diags *diags)
{
        struct val_ctx c = {.pod = pod, .diags = diags};

        val_object_meta(&c);
        val_pod_spec(&c);
        free(c.volume_names); /* the names themselves are the pod's */
        return c.errors;
}
