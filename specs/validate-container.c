/* Containers, init containers and sidecars: names, images, ports, env,
 * mounts and resources, by the API server's validateContainers and
 * validateInitContainers. Probes and hooks are in validate-probe.c. podrun
 * adds one rule of its own: a mountPath must be absolute, as on Linux
 * nodes the runtime requires it anyway. It must never stop at a first
 * error: every container is checked whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

static void check_ports(struct val_ctx *c, const char *base, const struct spec_container *ctr)
{
        _cleanup_free_ const char **valid = pr_calloc(ctr->n_ports + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        /* Only valid names count towards duplicates, as in the API server. */
        for (size_t i = 0; i < ctr->n_ports; i++) {
                const char *name = ctr->ports[i].name;
                _cleanup_free_ char *np = val_path("%s.ports[%zu].name", base, i);

                if (name && *name && val_port_name(c, np, name))
                        valid[i] = name;
        }
        dup = val_duplicates(valid, ctr->n_ports);
        for (size_t i = 0; i < ctr->n_ports; i++) {
                const struct spec_port *port = &ctr->ports[i];
                _cleanup_free_ char *ip = val_path("%s.ports[%zu]", base, i);
                _cleanup_free_ char *np = val_path("%s.name", ip);
                _cleanup_free_ char *cp = val_path("%s.containerPort", ip);
                _cleanup_free_ char *hp = val_path("%s.hostPort", ip);
                _cleanup_free_ char *hip = val_path("%s.hostIP", ip);

                if (dup[i])
                        val_duplicate(c, np, port->name);
                if (port->container_port == 0)
                        val_required(c, cp, NULL);
                else if (port->container_port < 1 || port->container_port > 65535)
                        val_invalid_int(c, cp, port->container_port,
                                        "must be between 1 and 65535, inclusive");
                if (port->host_port != 0 && (port->host_port < 1 || port->host_port > 65535))
                        val_invalid_int(c, hp, port->host_port,
                                        "must be between 1 and 65535, inclusive");
                if (port->host_ip && *port->host_ip)
                        val_ip(c, hip, port->host_ip);
        }
}

/* AccumulateUniqueHostPorts: "hostIP/protocol/port" once per group of
 * containers that run at the same time (ctrs[first, first + n)). */
static void check_host_ports(struct val_ctx *c, const char *list, size_t first, size_t n,
                             const struct spec_container *ctrs)
{
        _cleanup_strv_free_ char **keys = NULL;
        _cleanup_free_ bool *dup = NULL;
        size_t k = 0;

        /* One key per port, "" for ports without a host port. */
        for (size_t ci = first; ci < first + n; ci++)
                for (size_t pi = 0; pi < ctrs[ci].n_ports; pi++) {
                        const struct spec_port *port = &ctrs[ci].ports[pi];
                        const char *proto = spec_protocol_to_string(port->protocol);

                        pr_strv_push_take(
                            &keys, port->host_port == 0
                                       ? pr_strdup("")
                                       : pr_asprintf("%s/%s/%d", port->host_ip ? port->host_ip : "",
                                                     proto ? proto : "", port->host_port));
                }
        dup = val_duplicates((const char *const *)keys, pr_strv_len(keys));
        for (size_t ci = first; ci < first + n; ci++)
                for (size_t pi = 0; pi < ctrs[ci].n_ports; pi++, k++) {
                        _cleanup_free_ char *p = NULL;

                        if (!dup[k])
                                continue;
                        p = val_path("%s[%zu].ports[%zu].hostPort", list, ci, pi);
                        val_duplicate(c, p, keys[k]);
                }
}

void val_host_network_ports(struct val_ctx *c)
{
        if (!c->pod->host_network)
                return;
        for (size_t i = 0; i < c->pod->n_containers; i++)
                for (size_t j = 0; j < c->pod->containers[i].n_ports; j++) {
                        const struct spec_port *port = &c->pod->containers[i].ports[j];
                        _cleanup_free_ char *p = NULL;

                        /* The API server defaults hostPort to containerPort here. */
                        if (port->host_port == 0 || port->host_port == port->container_port)
                                continue;
                        p = val_path("spec.containers[%zu].ports[%zu].hostPort", i, j);
                        val_invalid_int(c, p, port->host_port,
                                        "must match `containerPort` when `hostNetwork` is true");
                }
}

static const char *const env_field_paths[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    NULL,
};

static void check_key_selector(struct val_ctx *c, const char *base, const struct spec_env *e)
{
        _cleanup_free_ char *np = val_path("%s.name", base);
        _cleanup_free_ char *kp = val_path("%s.key", base);

        val_dns1123_subdomain(c, np, e->key_ref.name ? e->key_ref.name : "");
        if (!e->key_ref.key || !*e->key_ref.key)
                val_required(c, kp, NULL);
        else
                val_config_map_key(c, kp, e->key_ref.key);
}

static void check_value_from(struct val_ctx *c, const char *base, const struct spec_env *e)
{
        _cleanup_free_ char *vf = val_path("%s.valueFrom", base);
        _cleanup_free_ char *p = NULL;
        /* A parser that records only the source it kept still counts one. */
        unsigned n = e->n_value_from ? e->n_value_from : e->source != SPEC_ENV_VALUE;

        if (!e->has_value_from && e->source == SPEC_ENV_VALUE)
                return;
        switch (e->source) {
        case SPEC_ENV_FIELD_REF:
                p = val_path("%s.fieldRef", vf);
                val_field_selector(c, p, e->field_ref.api_version, e->field_ref.field_path,
                                   env_field_paths);
                break;
        case SPEC_ENV_RESOURCE_FIELD_REF:
                p = val_path("%s.resourceFieldRef", vf);
                val_resource_selector(c, p, e->resource_field_ref.container_name,
                                      e->resource_field_ref.resource,
                                      &e->resource_field_ref.divisor, false);
                break;
        case SPEC_ENV_CONFIG_MAP_KEY_REF:
                p = val_path("%s.configMapKeyRef", vf);
                check_key_selector(c, p, e);
                break;
        case SPEC_ENV_SECRET_KEY_REF:
                p = val_path("%s.secretKeyRef", vf);
                check_key_selector(c, p, e);
                break;
        default:
                break;
        }
        if (n == 0)
                val_invalid(c, vf, "",
                            "must specify one of: `fieldRef`, `resourceFieldRef`, "
                            "`configMapKeyRef` or `secretKeyRef`");
        else if (e->value && *e->value)
                val_invalid(c, vf, "", "may not be specified when `value` is not empty");
        else if (n > 1)
                val_invalid(c, vf, "", "may not have more than one field specified at a time");
}

static void check_env(struct val_ctx *c, const char *base, const struct spec_container *ctr)
{
        for (size_t i = 0; i < ctr->n_env; i++) {
                const struct spec_env *e = &ctr->env[i];
                _cleanup_free_ char *ip = val_path("%s.env[%zu]", base, i);
                _cleanup_free_ char *np = val_path("%s.name", ip);

                if (!e->name || !*e->name)
                        val_required(c, np, NULL);
                val_env_var_name(c, np, e->name ? e->name : "");
                check_value_from(c, ip, e);
        }
        for (size_t i = 0; i < ctr->n_env_from; i++) {
                const struct spec_env_from *e = &ctr->env_from[i];
                _cleanup_free_ char *ip = val_path("%s.envFrom[%zu]", base, i);
                _cleanup_free_ char *list = val_path("%s.envFrom", base);
                _cleanup_free_ char *pp = val_path("%s.prefix", ip);
                _cleanup_free_ char *np =
                    val_path("%s.%s.name", ip, e->is_secret ? "secretRef" : "configMapRef");
                unsigned n = e->n_sources ? e->n_sources : 1;

                if (e->prefix && *e->prefix)
                        val_env_var_name(c, pp, e->prefix);
                if (!e->name || !*e->name)
                        val_required(c, np, NULL);
                else
                        val_dns1123_subdomain(c, np, e->name);
                if (n > 1)
                        val_invalid(c, list, "",
                                    "may not have more than one field specified at a time");
        }
}

static void check_mounts(struct val_ctx *c, const char *base, const struct spec_container *ctr)
{
        _cleanup_free_ const char **paths = pr_calloc(ctr->n_volume_mounts + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        for (size_t i = 0; i < ctr->n_volume_mounts; i++)
                paths[i] = ctr->volume_mounts[i].mount_path;
        dup = val_duplicates(paths, ctr->n_volume_mounts);
        for (size_t i = 0; i < ctr->n_volume_mounts; i++) {
                const struct spec_volume_mount *m = &ctr->volume_mounts[i];
                _cleanup_free_ char *ip = val_path("%s.volumeMounts[%zu]", base, i);
                _cleanup_free_ char *np = val_path("%s.name", ip);
                _cleanup_free_ char *mp = val_path("%s.mountPath", ip);
                _cleanup_free_ char *sp = val_path("%s.subPath", ip);
                _cleanup_free_ char *se = val_path("%s.subPathExpr", ip);
                _cleanup_free_ char *pp = val_path("%s.mountPropagation", ip);

                if (!m->name || !*m->name)
                        val_required(c, np, NULL);
                if (!val_volume_exists(c, m->name))
                        val_not_found(c, np, m->name ? m->name : "");
                if (!m->mount_path || !*m->mount_path)
                        val_required(c, mp, NULL);
                else if (m->mount_path[0] != '/')
                        val_invalid(c, mp, m->mount_path, "must be an absolute path");
                if (dup[i])
                        val_invalid(c, mp, m->mount_path, "must be unique");
                if (m->sub_path && *m->sub_path)
                        val_local_descending_path(c, sp, m->sub_path);
                if (m->sub_path_expr && *m->sub_path_expr) {
                        if (m->sub_path && *m->sub_path)
                                val_invalid(c, se, m->sub_path_expr,
                                            "subPathExpr and subPath are mutually exclusive");
                        val_local_descending_path(c, se, m->sub_path_expr);
                }
                if (m->propagation == SPEC_PROPAGATION_BIDIRECTIONAL &&
                    !ctr->security_context.privileged)
                        val_forbidden(c, pp,
                                      "Bidirectional mount propagation is available only to "
                                      "privileged containers");
                else if (m->propagation == SPEC_PROPAGATION_HOST_TO_CONTAINER ||
                         m->propagation == SPEC_PROPAGATION_BIDIRECTIONAL)
                        val_warning(c, pp,
                                    "ignored: podrun makes every mount private, as with None");
        }
}

static void check_quantity(struct val_ctx *c, const char *base, const char *list, const char *name,
                           const struct spec_quantity *q)
{
        _cleanup_free_ char *p = NULL, *canon = NULL;

        if (!q->set || val_quantity_sign(q) >= 0)
                return;
        p = val_path("%s.%s[%s]", base, list, name);
        canon = spec_quantity_format(q);
        c->pos_override = q->pos.line ? &q->pos : NULL;
        val_invalid(c, p, canon, "must be greater than or equal to 0");
        c->pos_override = NULL;
}

static void check_request(struct val_ctx *c, const char *base, const char *name,
                          const struct spec_quantity *req, const struct spec_quantity *lim)
{
        _cleanup_free_ char *p = NULL, *rc = NULL, *lc = NULL, *detail = NULL;

        if (!req->set || !lim->set || spec_quantity_cmp(req, lim) <= 0)
                return;
        p = val_path("%s.requests", base);
        rc = spec_quantity_format(req);
        lc = spec_quantity_format(lim);
        detail = pr_asprintf("must be less than or equal to %s limit of %s", name, lc);
        c->pos_override = req->pos.line ? &req->pos : NULL;
        val_invalid(c, p, rc, detail);
        c->pos_override = NULL;
}

/* Valid, but nothing on one host enforces it: kubelet would evict the pod
 * past the limit, podrun lets it grow. */
static void warn_ephemeral_storage(struct val_ctx *c, const char *base, const char *list,
                                   const struct spec_quantity *q)
{
        _cleanup_free_ char *p = NULL;

        if (!q->set || val_quantity_sign(q) < 0)
                return;
        p = val_path("%s.%s[ephemeral-storage]", base, list);
        c->pos_override = q->pos.line ? &q->pos : NULL;
        val_warning(c, p,
                    "ignored: podrun does not enforce ephemeral-storage (only the downward "
                    "API reads it)");
        c->pos_override = NULL;
}

static void check_resources(struct val_ctx *c, const char *base, const struct spec_resources *r)
{
        _cleanup_free_ char *rp = val_path("%s.resources", base);

        warn_ephemeral_storage(c, rp, "limits", &r->limits.ephemeral_storage);
        warn_ephemeral_storage(c, rp, "requests", &r->requests.ephemeral_storage);

        check_quantity(c, rp, "limits", "cpu", &r->limits.cpu);
        check_quantity(c, rp, "limits", "memory", &r->limits.memory);
        check_quantity(c, rp, "limits", "ephemeral-storage", &r->limits.ephemeral_storage);
        check_quantity(c, rp, "requests", "cpu", &r->requests.cpu);
        check_request(c, rp, "cpu", &r->requests.cpu, &r->limits.cpu);
        check_quantity(c, rp, "requests", "memory", &r->requests.memory);
        check_request(c, rp, "memory", &r->requests.memory, &r->limits.memory);
        check_quantity(c, rp, "requests", "ephemeral-storage", &r->requests.ephemeral_storage);
        check_request(c, rp, "ephemeral-storage", &r->requests.ephemeral_storage,
                      &r->limits.ephemeral_storage);
}

/* validateContainerCommon: what init, sidecar and app containers share. */
static void check_common(struct val_ctx *c, const char *base, const struct spec_container *ctr)
{
        _cleanup_free_ char *np = val_path("%s.name", base);
        _cleanup_free_ char *ip = val_path("%s.image", base);

        if (!ctr->name || !*ctr->name)
                val_required(c, np, NULL);
        else
                val_dns1123_label(c, np, ctr->name);
        if (!ctr->image || !*ctr->image)
                val_required(c, ip, NULL);
        check_ports(c, base, ctr);
        check_env(c, base, ctr);
        check_mounts(c, base, ctr);
        check_resources(c, base, &ctr->resources);
        val_container_security(c, base, &ctr->security_context);
        if (ctr->stdin_once) {
                _cleanup_free_ char *sp = val_path("%s.stdinOnce", base);

                /* Without attach there is no first client whose leaving
                 * would close stdin. */
                val_warning(c, sp, "ignored: podrun has no attach, so stdin stays open");
        }
}

static void check_app_containers(struct val_ctx *c)
{
        const struct spec_pod *pod = c->pod;
        _cleanup_free_ const char **names = pr_calloc(pod->n_containers + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        if (pod->n_containers == 0) {
                val_required(c, "spec.containers", NULL);
                return;
        }
        for (size_t i = 0; i < pod->n_containers; i++)
                names[i] = pod->containers[i].name;
        dup = val_duplicates(names, pod->n_containers);
        for (size_t i = 0; i < pod->n_containers; i++) {
                const struct spec_container *ctr = &pod->containers[i];
                _cleanup_free_ char *base = val_path("spec.containers[%zu]", i);
                _cleanup_free_ char *np = val_path("%s.name", base);
                _cleanup_free_ char *rp = val_path("%s.restartPolicy", base);

                check_common(c, base, ctr);
                if (dup[i])
                        val_duplicate(c, np, ctr->name);
                val_container_handlers(c, base, ctr, true);
                if (ctr->has_restart_policy)
                        val_forbidden(c, rp, "may not be set for non-init containers");
        }
        /* App containers run together, so their host ports must all differ. */
        check_host_ports(c, "spec.containers", 0, pod->n_containers, pod->containers);
}

static void check_init_containers(struct val_ctx *c)
{
        static const char *const always[] = {"Always", NULL};
        const struct spec_pod *pod = c->pod;
        size_t n_app = pod->n_containers, n = n_app + pod->n_init_containers;
        _cleanup_free_ const char **names = pr_calloc(n + 1, sizeof(char *));
        _cleanup_free_ bool *dup = NULL;

        /* App containers first: an init container is the duplicate of one. */
        for (size_t i = 0; i < n_app; i++)
                names[i] = pod->containers[i].name;
        for (size_t i = 0; i < pod->n_init_containers; i++)
                names[n_app + i] = pod->init_containers[i].name;
        dup = val_duplicates(names, n);
        for (size_t i = 0; i < pod->n_init_containers; i++) {
                const struct spec_container *ctr = &pod->init_containers[i];
                _cleanup_free_ char *base = val_path("spec.initContainers[%zu]", i);
                _cleanup_free_ char *np = val_path("%s.name", base);
                _cleanup_free_ char *rp = val_path("%s.restartPolicy", base);
                bool sidecar =
                    ctr->has_restart_policy && ctr->restart_policy == SPEC_RESTART_ALWAYS;

                check_common(c, base, ctr);
                if (ctr->has_restart_policy && !sidecar) {
                        const char *v = spec_restart_policy_to_string(ctr->restart_policy);

                        val_unsupported(c, rp, v ? v : "", always);
                }
                if (dup[n_app + i])
                        val_duplicate(c, np, ctr->name);
                /* Init containers run one at a time: each is checked alone. */
                check_host_ports(c, "spec.initContainers", i, 1, pod->init_containers);
                val_container_handlers(c, base, ctr, sidecar);
        }
}

void val_containers(struct val_ctx *c)
{
        check_app_containers(c);
        check_init_containers(c);
}
