/* The Container object and everything inside it: env, ports, resources,
 * volume mounts, probes, lifecycle handlers and security context, with the
 * API server's container defaults. It must never validate what the struct
 * can express (validate*.c does); it reports only what the struct cannot
 * hold, such as two handlers in one probe. */
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/pod-int.h"

/* A second member of a one-of object (handler types, valueFrom sources). */
static bool take_oneof(struct conv *c, const char *what)
{
        if (c->oneof++ > 0) {
                conv_error(c, c->pos, "Forbidden: may not specify more than 1 %s", what);
                return false;
        }
        return true;
}

/* clang-format off */
static const struct field http_header_fields[] = {
        { "name", f_string, offsetof(struct spec_http_header, name), NULL },
        { "value", f_string, offsetof(struct spec_http_header, value), NULL },
};
/* clang-format on */
static const struct object_desc http_header_desc = OBJECT_DESC(http_header_fields);

static void http_header_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_handler *h = arg;
        struct spec_http_header *hdr;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        hdr = pr_array_grow(&h->http_get.headers, &h->http_get.n_headers, sizeof(*hdr));
        (void)conv_object(c, item, hdr, &http_header_desc);
}

static void f_http_headers(struct conv *c, const struct spec_node *n, void *dst,
                           const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, http_header_item, dst);
}

#define H(member) offsetof(struct spec_handler, member)
/* clang-format off */
static const struct field exec_fields[] = {
        { "command", f_strv, H(exec_command), NULL },
};
/* clang-format on */
static const struct object_desc exec_desc = OBJECT_DESC(exec_fields);

/* clang-format off */
static const struct field http_get_fields[] = {
        { "host", f_string, H(http_get.host), NULL },
        { "httpHeaders", f_http_headers, 0, NULL },
        { "path", f_string, H(http_get.path), NULL },
        { "port", f_int_or_string, H(http_get.port), NULL },
        { "scheme", f_enum, H(http_get.scheme), &spec_uri_scheme_table },
};
/* clang-format on */
static const struct object_desc http_get_desc = OBJECT_DESC(http_get_fields);

/* clang-format off */
static const struct field tcp_socket_fields[] = {
        { "host", f_string, H(tcp_socket.host), NULL },
        { "port", f_int_or_string, H(tcp_socket.port), NULL },
};
/* clang-format on */
static const struct object_desc tcp_socket_desc = OBJECT_DESC(tcp_socket_fields);

/* clang-format off */
static const struct field grpc_fields[] = {
        { "port", f_int32, H(grpc.port), NULL },
        { "service", f_string, H(grpc.service), NULL },
};
/* clang-format on */
static const struct object_desc grpc_desc = OBJECT_DESC(grpc_fields);

/* clang-format off */
static const struct field sleep_fields[] = {
        { "seconds", f_int64, H(sleep_seconds), NULL },
};
/* clang-format on */
static const struct object_desc sleep_desc = OBJECT_DESC(sleep_fields);

/* One handler type: aux is the object, the type is the table's order. */
static void handler_type(struct conv *c, const struct spec_node *n, struct spec_handler *h,
                         enum spec_handler_type type, const struct object_desc *desc)
{
        if (!take_oneof(c, "handler type"))
                return;
        h->type = type;
        h->pos = c->pos;
        (void)conv_object(c, n, h, desc);
}

static void f_exec(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        handler_type(c, n, dst, SPEC_HANDLER_EXEC, &exec_desc);
}

static void f_http_get(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        handler_type(c, n, dst, SPEC_HANDLER_HTTP_GET, &http_get_desc);
}

static void f_tcp_socket(struct conv *c, const struct spec_node *n, void *dst,
                         const struct field *f)
{
        (void)f;
        handler_type(c, n, dst, SPEC_HANDLER_TCP_SOCKET, &tcp_socket_desc);
}

static void f_grpc(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        handler_type(c, n, dst, SPEC_HANDLER_GRPC, &grpc_desc);
}

static void f_sleep(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        handler_type(c, n, dst, SPEC_HANDLER_SLEEP, &sleep_desc);
}

static void f_probe_grace(struct conv *c, const struct spec_node *n, void *dst,
                          const struct field *f)
{
        struct spec_probe *p = dst;
        int64_t v;

        (void)f;
        if (conv_int(c, n, INT64_MIN, INT64_MAX, &v)) {
                p->has_termination_grace_period_seconds = true;
                p->termination_grace_period_seconds = v;
        }
}

#define PR(member) offsetof(struct spec_probe, member)
/* clang-format off */
static const struct field probe_fields[] = {
        { "exec", f_exec, PR(handler), NULL },
        { "failureThreshold", f_int32, PR(failure_threshold), NULL },
        { "grpc", f_grpc, PR(handler), NULL },
        { "httpGet", f_http_get, PR(handler), NULL },
        { "initialDelaySeconds", f_int32, PR(initial_delay_seconds), NULL },
        { "periodSeconds", f_int32, PR(period_seconds), NULL },
        { "successThreshold", f_int32, PR(success_threshold), NULL },
        { "tcpSocket", f_tcp_socket, PR(handler), NULL },
        { "terminationGracePeriodSeconds", f_probe_grace, 0, NULL },
        { "timeoutSeconds", f_int32, PR(timeout_seconds), NULL },
};
/* clang-format on */
static const struct object_desc probe_desc = OBJECT_DESC(probe_fields);

static void f_probe(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        struct spec_probe *p = dst;
        unsigned saved = c->oneof;

        (void)f;
        p->set = true;
        p->pos = c->pos;
        c->oneof = 0;
        if (!conv_object(c, n, p, &probe_desc))
                p->set = false;
        c->oneof = saved;
}

/* clang-format off */
static const struct field lifecycle_handler_fields[] = {
        { "exec", f_exec, 0, NULL },
        { "httpGet", f_http_get, 0, NULL },
        { "sleep", f_sleep, 0, NULL },
        { "tcpSocket", f_tcp_socket, 0, NULL },
};
/* clang-format on */
static const struct object_desc lifecycle_handler_desc = OBJECT_DESC(lifecycle_handler_fields);

static void f_lifecycle_handler(struct conv *c, const struct spec_node *n, void *dst,
                                const struct field *f)
{
        struct spec_handler *h = dst;
        unsigned saved = c->oneof;

        (void)f;
        h->pos = c->pos;
        c->oneof = 0;
        (void)conv_object(c, n, h, &lifecycle_handler_desc);
        c->oneof = saved;
}

/* clang-format off */
static const struct field lifecycle_fields[] = {
        { "postStart", f_lifecycle_handler, offsetof(struct spec_lifecycle, post_start), NULL },
        { "preStop", f_lifecycle_handler, offsetof(struct spec_lifecycle, pre_stop), NULL },
        { "stopSignal", f_ignored, 0, "podrun stops containers with the image's stop signal" },
};
/* clang-format on */
static const struct object_desc lifecycle_desc = OBJECT_DESC(lifecycle_fields);

#define E(member) offsetof(struct spec_env, member)
/* clang-format off */
static const struct field field_ref_fields[] = {
        { "apiVersion", f_string, E(field_ref.api_version), NULL },
        { "fieldPath", f_string, E(field_ref.field_path), NULL },
};
/* clang-format on */
static const struct object_desc field_ref_desc = OBJECT_DESC(field_ref_fields);

/* clang-format off */
static const struct field resource_field_ref_fields[] = {
        { "containerName", f_string, E(resource_field_ref.container_name), NULL },
        { "divisor", f_quantity, E(resource_field_ref.divisor), NULL },
        { "resource", f_string, E(resource_field_ref.resource), NULL },
};
/* clang-format on */
static const struct object_desc resource_field_ref_desc = OBJECT_DESC(resource_field_ref_fields);

/* clang-format off */
static const struct field key_ref_fields[] = {
        { "key", f_string, E(key_ref.key), NULL },
        { "name", f_string, E(key_ref.name), NULL },
        { "optional", f_bool, E(key_ref.optional), NULL },
};
/* clang-format on */
static const struct object_desc key_ref_desc = OBJECT_DESC(key_ref_fields);

static void env_source(struct conv *c, const struct spec_node *n, struct spec_env *e,
                       enum spec_env_source source, const struct object_desc *desc)
{
        if (c->oneof++ > 0) {
                conv_error(c, c->pos,
                           "Invalid value: \"\": may not have more than one field "
                           "specified at a time");
                return;
        }
        e->source = source;
        (void)conv_object(c, n, e, desc);
}

static void f_field_ref(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        env_source(c, n, dst, SPEC_ENV_FIELD_REF, &field_ref_desc);
}

static void f_resource_field_ref(struct conv *c, const struct spec_node *n, void *dst,
                                 const struct field *f)
{
        (void)f;
        env_source(c, n, dst, SPEC_ENV_RESOURCE_FIELD_REF, &resource_field_ref_desc);
}

static void f_config_map_key_ref(struct conv *c, const struct spec_node *n, void *dst,
                                 const struct field *f)
{
        (void)f;
        env_source(c, n, dst, SPEC_ENV_CONFIG_MAP_KEY_REF, &key_ref_desc);
}

static void f_secret_key_ref(struct conv *c, const struct spec_node *n, void *dst,
                             const struct field *f)
{
        (void)f;
        env_source(c, n, dst, SPEC_ENV_SECRET_KEY_REF, &key_ref_desc);
}

/* clang-format off */
static const struct field value_from_fields[] = {
        { "configMapKeyRef", f_config_map_key_ref, 0, NULL },
        { "fieldRef", f_field_ref, 0, NULL },
        { "fileKeyRef", f_unsupported, 0, "podrun reads env from no files" },
        { "resourceFieldRef", f_resource_field_ref, 0, NULL },
        { "secretKeyRef", f_secret_key_ref, 0, NULL },
};
/* clang-format on */
static const struct object_desc value_from_desc = OBJECT_DESC(value_from_fields);

static void f_value_from(struct conv *c, const struct spec_node *n, void *dst,
                         const struct field *f)
{
        struct spec_env *e = dst;
        unsigned saved = c->oneof;

        (void)f;
        c->oneof = 0;
        (void)conv_object(c, n, e, &value_from_desc);
        if (c->oneof == 0 && n->kind == SPEC_NODE_MAPPING)
                conv_error(c, c->pos,
                           "Invalid value: \"\": must specify one of: `fieldRef`, "
                           "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
        c->oneof = saved;
}

/* clang-format off */
static const struct field env_fields[] = {
        { "name", f_string, E(name), NULL },
        { "value", f_string, E(value), NULL },
        { "valueFrom", f_value_from, 0, NULL },
};
/* clang-format on */
static const struct object_desc env_desc = OBJECT_DESC(env_fields);

static void env_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_container *ctr = arg;
        struct spec_env *e;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        e = pr_array_grow(&ctr->env, &ctr->n_env, sizeof(*e));
        e->pos = item->pos;
        (void)conv_object(c, item, e, &env_desc);
        if (e->value && *e->value && e->source != SPEC_ENV_VALUE) {
                size_t saved = conv_push_key(c, "valueFrom");
                struct spec_pos pos = item->pos;

                for (size_t k = 0; k < item->n; k++)
                        if (strcmp(spec_node_key(item, k)->value, "valueFrom") == 0)
                                pos = spec_node_key(item, k)->pos;
                conv_error(c, pos,
                           "Invalid value: \"\": may not be specified when `value` "
                           "is not empty");
                conv_pop(c, saved);
        }
}

static void f_env(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, env_item, dst);
}

#define EF(member) offsetof(struct spec_env_from, member)
/* clang-format off */
static const struct field env_from_ref_fields[] = {
        { "name", f_string, EF(name), NULL },
        { "optional", f_bool, EF(optional), NULL },
};
/* clang-format on */
static const struct object_desc env_from_ref_desc = OBJECT_DESC(env_from_ref_fields);

static void env_from_ref(struct conv *c, const struct spec_node *n, struct spec_env_from *e,
                         bool secret)
{
        if (c->oneof++ > 0) {
                conv_error(c, c->pos,
                           "Invalid value: \"\": may not have more than one field "
                           "specified at a time");
                return;
        }
        e->is_secret = secret;
        (void)conv_object(c, n, e, &env_from_ref_desc);
}

static void f_config_map_ref(struct conv *c, const struct spec_node *n, void *dst,
                             const struct field *f)
{
        (void)f;
        env_from_ref(c, n, dst, false);
}

static void f_secret_ref(struct conv *c, const struct spec_node *n, void *dst,
                         const struct field *f)
{
        (void)f;
        env_from_ref(c, n, dst, true);
}

/* clang-format off */
static const struct field env_from_fields[] = {
        { "configMapRef", f_config_map_ref, 0, NULL },
        { "prefix", f_string, EF(prefix), NULL },
        { "secretRef", f_secret_ref, 0, NULL },
};
/* clang-format on */
static const struct object_desc env_from_desc = OBJECT_DESC(env_from_fields);

static void env_from_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_container *ctr = arg;
        struct spec_env_from *e;
        unsigned saved = c->oneof;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        e = pr_array_grow(&ctr->env_from, &ctr->n_env_from, sizeof(*e));
        e->pos = item->pos;
        c->oneof = 0;
        (void)conv_object(c, item, e, &env_from_desc);
        if (c->oneof == 0)
                conv_error(c, item->pos,
                           "Invalid value: \"\": must specify one of: "
                           "`configMapRef` or `secretRef`");
        c->oneof = saved;
}

static void f_env_from(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, env_from_item, dst);
}

#define PT(member) offsetof(struct spec_port, member)
/* clang-format off */
static const struct field port_fields[] = {
        { "containerPort", f_int32, PT(container_port), NULL },
        { "hostIP", f_string, PT(host_ip), NULL },
        { "hostPort", f_int32, PT(host_port), NULL },
        { "name", f_string, PT(name), NULL },
        { "protocol", f_enum, PT(protocol), &spec_protocol_table },
};
/* clang-format on */
static const struct object_desc port_desc = OBJECT_DESC(port_fields);

static void port_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_container *ctr = arg;
        struct spec_port *p;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        p = pr_array_grow(&ctr->ports, &ctr->n_ports, sizeof(*p));
        p->pos = item->pos;
        (void)conv_object(c, item, p, &port_desc);
}

static void f_ports(struct conv *c, const struct spec_node *n, void *dst, const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, port_item, dst);
}

#define RL(member) offsetof(struct spec_resource_list, member)
/* clang-format off */
static const struct field resource_list_fields[] = {
        { "cpu", f_quantity, RL(cpu), NULL },
        { "ephemeral-storage", f_quantity, RL(ephemeral_storage), NULL },
        { "memory", f_quantity, RL(memory), NULL },
};
/* clang-format on */
static const struct object_desc resource_list_desc = OBJECT_DESC(resource_list_fields);

/* cpu, memory and ephemeral-storage are enforced; hugepages and extended
 * resources (vendor.com/gpu) are Kubernetes' own but have nothing to bind
 * to here; any other name is a mistake the API server refuses too. */
static void f_resource_list(struct conv *c, const struct spec_node *n, void *dst,
                            const struct field *f)
{
        struct spec_node copy;

        (void)f;
        if (n->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, n, "an object");
                return;
        }
        copy = *n;
        copy.children = pr_calloc(n->n * 2 + 1, sizeof(*copy.children));
        copy.n = 0;
        for (size_t i = 0; i < n->n; i++) {
                const struct spec_node *key = spec_node_key(n, i);
                size_t saved;

                if (!pr_startswith(key->value, "hugepages-") && !strchr(key->value, '/')) {
                        copy.children[2 * copy.n] = spec_node_key(n, i);
                        copy.children[2 * copy.n + 1] = spec_node_value(n, i);
                        copy.n++;
                        continue;
                }
                saved = conv_push_key(c, key->value);
                conv_warning(c, key->pos,
                             "ignored: podrun enforces cpu and memory only "
                             "(and ignores ephemeral-storage)");
                conv_pop(c, saved);
        }
        (void)conv_object(c, &copy, dst, &resource_list_desc);
        free(copy.children);
}

/* clang-format off */
static const struct field resources_fields[] = {
        { "claims", f_ignored, 0, "podrun has no dynamic resource allocation" },
        { "limits", f_resource_list, offsetof(struct spec_resources, limits), NULL },
        { "requests", f_resource_list, offsetof(struct spec_resources, requests), NULL },
};
/* clang-format on */
static const struct object_desc resources_desc = OBJECT_DESC(resources_fields);

#define VM(member) offsetof(struct spec_volume_mount, member)
/* clang-format off */
static const struct field volume_mount_fields[] = {
        { "mountPath", f_string, VM(mount_path), NULL },
        { "mountPropagation", f_enum, VM(propagation), &spec_mount_propagation_table },
        { "name", f_string, VM(name), NULL },
        { "readOnly", f_bool, VM(read_only), NULL },
        { "recursiveReadOnly", f_ignored, 0, "podrun makes every read-only mount recursively read-only" },
        { "subPath", f_string, VM(sub_path), NULL },
        { "subPathExpr", f_string, VM(sub_path_expr), NULL },
};
/* clang-format on */
static const struct object_desc volume_mount_desc = OBJECT_DESC(volume_mount_fields);

static void volume_mount_item(struct conv *c, const struct spec_node *item, void *arg, size_t i)
{
        struct spec_container *ctr = arg;
        struct spec_volume_mount *m;

        (void)i;
        if (item->kind != SPEC_NODE_MAPPING) {
                conv_type_error(c, item, "an object");
                return;
        }
        m = pr_array_grow(&ctr->volume_mounts, &ctr->n_volume_mounts, sizeof(*m));
        m->pos = item->pos;
        (void)conv_object(c, item, m, &volume_mount_desc);
}

static void f_volume_mounts(struct conv *c, const struct spec_node *n, void *dst,
                            const struct field *f)
{
        (void)f;
        (void)conv_list(c, n, volume_mount_item, dst);
}

/* clang-format off */
static const struct field seccomp_fields[] = {
        { "localhostProfile", f_string, offsetof(struct spec_seccomp, localhost_profile), NULL },
        { "type", f_enum, offsetof(struct spec_seccomp, type), &spec_seccomp_type_table },
};
/* clang-format on */
const struct object_desc spec_seccomp_desc = OBJECT_DESC(seccomp_fields);

/* clang-format off */
static const struct field capabilities_fields[] = {
        { "add", f_strv, offsetof(struct spec_capabilities, add), NULL },
        { "drop", f_strv, offsetof(struct spec_capabilities, drop), NULL },
};
/* clang-format on */
static const struct object_desc capabilities_desc = OBJECT_DESC(capabilities_fields);

#define CS(member) offsetof(struct spec_container_security, member)
/* clang-format off */
static const struct field container_security_fields[] = {
        { "allowPrivilegeEscalation", f_opt_bool, CS(allow_privilege_escalation), NULL },
        { "appArmorProfile", f_ignored, 0, "podrun does not load AppArmor profiles" },
        { "capabilities", f_object, CS(capabilities), &capabilities_desc },
        { "privileged", f_bool, CS(privileged), NULL },
        { "procMount", f_enum, CS(proc_mount), &spec_proc_mount_table },
        { "readOnlyRootFilesystem", f_bool, CS(read_only_root_filesystem), NULL },
        { "runAsGroup", f_opt_i64, CS(run_as_group), NULL },
        { "runAsNonRoot", f_opt_bool, CS(run_as_non_root), NULL },
        { "runAsUser", f_opt_i64, CS(run_as_user), NULL },
        { "seLinuxOptions", f_ignored, 0, "podrun does not apply SELinux labels" },
        { "seccompProfile", f_object, CS(seccomp), &spec_seccomp_desc },
        { "windowsOptions", f_ignored, 0, "podrun runs Linux containers only" },
};
/* clang-format on */
static const struct object_desc container_security_desc = OBJECT_DESC(container_security_fields);

static void f_container_restart_policy(struct conv *c, const struct spec_node *n, void *dst,
                                       const struct field *f)
{
        struct spec_container *ctr = dst;
        int before = (int)_SPEC_RESTART_POLICY_INVALID, after = before;

        (void)f;
        f_enum(c, n, &after, &(const struct field){.aux = &spec_restart_policy_table});
        if (after != before) {
                ctr->restart_policy = (enum spec_restart_policy)after;
                ctr->has_restart_policy = true;
        }
}

#define C(member) offsetof(struct spec_container, member)
/* clang-format off */
static const struct field container_fields[] = {
        { "args", f_strv, C(args), NULL },
        { "command", f_strv, C(command), NULL },
        { "env", f_env, 0, NULL },
        { "envFrom", f_env_from, 0, NULL },
        { "image", f_string, C(image), NULL },
        { "imagePullPolicy", f_enum, C(image_pull_policy), &spec_pull_policy_table },
        { "lifecycle", f_object, C(lifecycle), &lifecycle_desc },
        { "livenessProbe", f_probe, C(liveness_probe), NULL },
        { "name", f_string, C(name), NULL },
        { "ports", f_ports, 0, NULL },
        { "readinessProbe", f_probe, C(readiness_probe), NULL },
        { "resizePolicy", f_ignored, 0, "podrun does not resize running containers" },
        { "resources", f_object, C(resources), &resources_desc },
        { "restartPolicy", f_container_restart_policy, 0, NULL },
        { "restartPolicyRules", f_ignored, 0, "podrun restarts by restartPolicy alone" },
        { "securityContext", f_object, C(security_context), &container_security_desc },
        { "startupProbe", f_probe, C(startup_probe), NULL },
        { "stdin", f_bool, C(stdin_open), NULL },
        { "stdinOnce", f_bool, C(stdin_once), NULL },
        { "terminationMessagePath", f_string, C(termination_message_path), NULL },
        { "terminationMessagePolicy", f_enum, C(termination_message_policy),
          &spec_termination_message_policy_table },
        { "tty", f_bool, C(tty), NULL },
        { "volumeDevices", f_unsupported, 0, "podrun has no block-device volumes" },
        { "volumeMounts", f_volume_mounts, 0, NULL },
        { "workingDir", f_string, C(working_dir), NULL },
};
/* clang-format on */
const struct object_desc spec_container_desc =
    OBJECT_DESC_AT(container_fields, "spec.containers[*]");

/* pkg/apis/core/v1/defaults.go: ":latest" or no tag pulls Always, anything
 * else (a tag, or a digest alone) IfNotPresent. */
static enum spec_pull_policy default_pull_policy(const char *image)
{
        _cleanup_free_ char *name = NULL;
        char *at, *slash, *colon;
        bool digest;

        /* An image that does not parse has no tag there: IfNotPresent. */
        if (!image || !*image)
                return SPEC_PULL_IF_NOT_PRESENT;
        name = pr_strdup(image);
        at = strchr(name, '@');
        digest = at != NULL;
        if (at)
                *at = '\0';
        slash = strrchr(name, '/');
        colon = strrchr(slash ? slash : name, ':');
        if (colon)
                return strcmp(colon + 1, "latest") == 0 ? SPEC_PULL_ALWAYS
                                                        : SPEC_PULL_IF_NOT_PRESENT;
        /* No tag: "latest" is implied, unless a digest pins the image. */
        return digest ? SPEC_PULL_IF_NOT_PRESENT : SPEC_PULL_ALWAYS;
}

static void handler_defaults(struct spec_handler *h)
{
        if (h->type == SPEC_HANDLER_HTTP_GET && (!h->http_get.path || !*h->http_get.path)) {
                free(h->http_get.path);
                h->http_get.path = pr_strdup("/");
        }
}

static void probe_defaults(struct spec_probe *p)
{
        if (!p->set)
                return;
        /* As SetDefaults_Probe: zero means "not given", even when written. */
        if (p->timeout_seconds == 0)
                p->timeout_seconds = 1;
        if (p->period_seconds == 0)
                p->period_seconds = 10;
        if (p->success_threshold == 0)
                p->success_threshold = 1;
        if (p->failure_threshold == 0)
                p->failure_threshold = 3;
        handler_defaults(&p->handler);
}

void spec_quantity_copy(const struct spec_quantity *from, struct spec_quantity *to)
{
        spec_quantity_done(to);
        if (from->set && spec_quantity_parse(from->text, to) == 0)
                to->pos = from->pos;
}

static void requests_from_limits(struct spec_resources *r)
{
        /* SetDefaults_Pod: a limit without a request requests the limit. */
        if (!r->requests.cpu.set)
                spec_quantity_copy(&r->limits.cpu, &r->requests.cpu);
        if (!r->requests.memory.set)
                spec_quantity_copy(&r->limits.memory, &r->requests.memory);
        if (!r->requests.ephemeral_storage.set)
                spec_quantity_copy(&r->limits.ephemeral_storage, &r->requests.ephemeral_storage);
}

void conv_container_defaults(struct spec_pod *pod, struct spec_container *ctr)
{
        if ((int)ctr->image_pull_policy < 0)
                ctr->image_pull_policy = default_pull_policy(ctr->image);
        if (!ctr->termination_message_path || !*ctr->termination_message_path) {
                free(ctr->termination_message_path);
                ctr->termination_message_path = pr_strdup("/dev/termination-log");
        }
        for (size_t i = 0; i < ctr->n_ports; i++)
                if (pod->host_network && ctr->ports[i].host_port == 0)
                        ctr->ports[i].host_port = ctr->ports[i].container_port;
        for (size_t i = 0; i < ctr->n_env; i++) {
                struct spec_env *e = &ctr->env[i];
                if (e->source == SPEC_ENV_VALUE && !e->value)
                        e->value = pr_strdup("");
                if (e->source == SPEC_ENV_FIELD_REF &&
                    (!e->field_ref.api_version || !*e->field_ref.api_version)) {
                        free(e->field_ref.api_version);
                        e->field_ref.api_version = pr_strdup("v1");
                }
                if (e->source == SPEC_ENV_RESOURCE_FIELD_REF && !e->resource_field_ref.divisor.set)
                        (void)spec_quantity_parse("1", &e->resource_field_ref.divisor);
        }
        requests_from_limits(&ctr->resources);
        probe_defaults(&ctr->liveness_probe);
        probe_defaults(&ctr->readiness_probe);
        probe_defaults(&ctr->startup_probe);
        handler_defaults(&ctr->lifecycle.post_start);
        handler_defaults(&ctr->lifecycle.pre_stop);
}

static void handler_done(struct spec_handler *h)
{
        pr_strv_free(h->exec_command);
        free(h->http_get.path);
        free(h->http_get.port.string);
        free(h->http_get.host);
        for (size_t i = 0; i < h->http_get.n_headers; i++) {
                free(h->http_get.headers[i].name);
                free(h->http_get.headers[i].value);
        }
        free(h->http_get.headers);
        free(h->tcp_socket.port.string);
        free(h->tcp_socket.host);
        free(h->grpc.service);
}

static void resource_list_done(struct spec_resource_list *l)
{
        spec_quantity_done(&l->cpu);
        spec_quantity_done(&l->memory);
        spec_quantity_done(&l->ephemeral_storage);
}

void spec_container_done(struct spec_container *ctr)
{
        free(ctr->name);
        free(ctr->image);
        pr_strv_free(ctr->command);
        pr_strv_free(ctr->args);
        free(ctr->working_dir);
        for (size_t i = 0; i < ctr->n_env; i++) {
                struct spec_env *e = &ctr->env[i];
                free(e->name);
                free(e->value);
                free(e->field_ref.api_version);
                free(e->field_ref.field_path);
                free(e->resource_field_ref.container_name);
                free(e->resource_field_ref.resource);
                spec_quantity_done(&e->resource_field_ref.divisor);
                free(e->key_ref.name);
                free(e->key_ref.key);
        }
        free(ctr->env);
        for (size_t i = 0; i < ctr->n_env_from; i++) {
                free(ctr->env_from[i].name);
                free(ctr->env_from[i].prefix);
        }
        free(ctr->env_from);
        for (size_t i = 0; i < ctr->n_ports; i++) {
                free(ctr->ports[i].name);
                free(ctr->ports[i].host_ip);
        }
        free(ctr->ports);
        resource_list_done(&ctr->resources.requests);
        resource_list_done(&ctr->resources.limits);
        for (size_t i = 0; i < ctr->n_volume_mounts; i++) {
                free(ctr->volume_mounts[i].name);
                free(ctr->volume_mounts[i].mount_path);
                free(ctr->volume_mounts[i].sub_path);
                free(ctr->volume_mounts[i].sub_path_expr);
        }
        free(ctr->volume_mounts);
        handler_done(&ctr->liveness_probe.handler);
        handler_done(&ctr->readiness_probe.handler);
        handler_done(&ctr->startup_probe.handler);
        handler_done(&ctr->lifecycle.post_start);
        handler_done(&ctr->lifecycle.pre_stop);
        pr_strv_free(ctr->security_context.capabilities.add);
        pr_strv_free(ctr->security_context.capabilities.drop);
        free(ctr->security_context.seccomp.localhost_profile);
        free(ctr->termination_message_path);
}
