/* The public face of specs/: a Kubernetes v1 Pod manifest as plain C data.
 * No libyaml type crosses this header. Every field the API server defaults is
 * defaulted here, exactly as the API server would, so the runtime never has
 * to guess. Positions count from one (libyaml counts from zero). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pr_error;

struct spec_pos {
        uint32_t line;
        uint32_t column;
};

struct spec_kv {
        char *key;
        char *value;
        struct spec_pos pos;
};

/* An ordered string map (labels, annotations, sysctls, dnsConfig options). */
struct spec_map {
        size_t n;
        struct spec_kv *items;
};

/* A resource quantity exactly as Kubernetes parses it (see quantity.c). */
struct spec_quantity {
        bool set;
        char *text;          /* as written in the manifest */
        int64_t value;       /* rounded up to a whole unit, saturated at INT64_MAX */
        int64_t milli_value; /* rounded up to thousandths, saturated at INT64_MAX */
        struct spec_pos pos;
};

/* IntOrString, as used by probe and hook ports. */
struct spec_int_or_string {
        bool set;
        bool is_string;
        int32_t number;
        char *string;
};

enum spec_restart_policy {
        SPEC_RESTART_ALWAYS,
        SPEC_RESTART_ON_FAILURE,
        SPEC_RESTART_NEVER,
        _SPEC_RESTART_POLICY_MAX,
        _SPEC_RESTART_POLICY_INVALID = -EINVAL,
};

enum spec_pull_policy {
        SPEC_PULL_ALWAYS,
        SPEC_PULL_IF_NOT_PRESENT,
        SPEC_PULL_NEVER,
        _SPEC_PULL_POLICY_MAX,
        _SPEC_PULL_POLICY_INVALID = -EINVAL,
};

enum spec_dns_policy {
        SPEC_DNS_CLUSTER_FIRST,
        SPEC_DNS_CLUSTER_FIRST_WITH_HOST_NET,
        SPEC_DNS_DEFAULT,
        SPEC_DNS_NONE,
        _SPEC_DNS_POLICY_MAX,
        _SPEC_DNS_POLICY_INVALID = -EINVAL,
};

enum spec_protocol {
        SPEC_PROTOCOL_TCP,
        SPEC_PROTOCOL_UDP,
        SPEC_PROTOCOL_SCTP,
        _SPEC_PROTOCOL_MAX,
        _SPEC_PROTOCOL_INVALID = -EINVAL,
};

enum spec_handler_type {
        SPEC_HANDLER_NONE,
        SPEC_HANDLER_EXEC,
        SPEC_HANDLER_HTTP_GET,
        SPEC_HANDLER_TCP_SOCKET,
        SPEC_HANDLER_GRPC,
        SPEC_HANDLER_SLEEP,
        _SPEC_HANDLER_TYPE_MAX,
        _SPEC_HANDLER_TYPE_INVALID = -EINVAL,
};

enum spec_uri_scheme {
        SPEC_SCHEME_HTTP,
        SPEC_SCHEME_HTTPS,
        _SPEC_URI_SCHEME_MAX,
        _SPEC_URI_SCHEME_INVALID = -EINVAL,
};

enum spec_termination_message_policy {
        SPEC_TERMINATION_MESSAGE_FILE,
        SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR,
        _SPEC_TERMINATION_MESSAGE_POLICY_MAX,
        _SPEC_TERMINATION_MESSAGE_POLICY_INVALID = -EINVAL,
};

enum spec_mount_propagation {
        SPEC_PROPAGATION_NONE,
        SPEC_PROPAGATION_HOST_TO_CONTAINER,
        SPEC_PROPAGATION_BIDIRECTIONAL,
        _SPEC_MOUNT_PROPAGATION_MAX,
        _SPEC_MOUNT_PROPAGATION_INVALID = -EINVAL,
};

enum spec_seccomp_type {
        SPEC_SECCOMP_UNSET, /* not given: the runtime's default applies */
        SPEC_SECCOMP_RUNTIME_DEFAULT,
        SPEC_SECCOMP_UNCONFINED,
        SPEC_SECCOMP_LOCALHOST,
        _SPEC_SECCOMP_TYPE_MAX,
        _SPEC_SECCOMP_TYPE_INVALID = -EINVAL,
};

enum spec_proc_mount {
        SPEC_PROC_MOUNT_DEFAULT,
        SPEC_PROC_MOUNT_UNMASKED,
        _SPEC_PROC_MOUNT_MAX,
        _SPEC_PROC_MOUNT_INVALID = -EINVAL,
};

enum spec_volume_type {
        SPEC_VOLUME_EMPTY_DIR,
        SPEC_VOLUME_HOST_PATH,
        SPEC_VOLUME_CONFIG_MAP,
        SPEC_VOLUME_SECRET,
        SPEC_VOLUME_DOWNWARD_API,
        SPEC_VOLUME_PROJECTED,
        _SPEC_VOLUME_TYPE_MAX,
        _SPEC_VOLUME_TYPE_INVALID = -EINVAL,
};

enum spec_storage_medium {
        SPEC_MEDIUM_DEFAULT, /* "" */
        SPEC_MEDIUM_MEMORY,
        SPEC_MEDIUM_HUGE_PAGES,
        _SPEC_STORAGE_MEDIUM_MAX,
        _SPEC_STORAGE_MEDIUM_INVALID = -EINVAL,
};

enum spec_host_path_type {
        SPEC_HOST_PATH_UNSET, /* "" */
        SPEC_HOST_PATH_DIRECTORY_OR_CREATE,
        SPEC_HOST_PATH_DIRECTORY,
        SPEC_HOST_PATH_FILE_OR_CREATE,
        SPEC_HOST_PATH_FILE,
        SPEC_HOST_PATH_SOCKET,
        SPEC_HOST_PATH_CHAR_DEVICE,
        SPEC_HOST_PATH_BLOCK_DEVICE,
        _SPEC_HOST_PATH_TYPE_MAX,
        _SPEC_HOST_PATH_TYPE_INVALID = -EINVAL,
};

enum spec_env_source {
        SPEC_ENV_VALUE,
        SPEC_ENV_FIELD_REF,
        SPEC_ENV_RESOURCE_FIELD_REF,
        SPEC_ENV_CONFIG_MAP_KEY_REF,
        SPEC_ENV_SECRET_KEY_REF,
        _SPEC_ENV_SOURCE_MAX,
        _SPEC_ENV_SOURCE_INVALID = -EINVAL,
};

/* One string table per enum: NULL / -EINVAL for values outside it. */
#define SPEC_DECLARE_STRING_TABLE(name, type)                                                       \
        const char *name##_to_string(type v);                                                       \
        type name##_from_string(const char *s);

SPEC_DECLARE_STRING_TABLE(spec_restart_policy, enum spec_restart_policy)
SPEC_DECLARE_STRING_TABLE(spec_pull_policy, enum spec_pull_policy)
SPEC_DECLARE_STRING_TABLE(spec_dns_policy, enum spec_dns_policy)
SPEC_DECLARE_STRING_TABLE(spec_protocol, enum spec_protocol)
SPEC_DECLARE_STRING_TABLE(spec_handler_type, enum spec_handler_type)
SPEC_DECLARE_STRING_TABLE(spec_uri_scheme, enum spec_uri_scheme)
SPEC_DECLARE_STRING_TABLE(spec_termination_message_policy, enum spec_termination_message_policy)
SPEC_DECLARE_STRING_TABLE(spec_mount_propagation, enum spec_mount_propagation)
SPEC_DECLARE_STRING_TABLE(spec_seccomp_type, enum spec_seccomp_type)
SPEC_DECLARE_STRING_TABLE(spec_proc_mount, enum spec_proc_mount)
SPEC_DECLARE_STRING_TABLE(spec_volume_type, enum spec_volume_type)
SPEC_DECLARE_STRING_TABLE(spec_storage_medium, enum spec_storage_medium)
SPEC_DECLARE_STRING_TABLE(spec_host_path_type, enum spec_host_path_type)
SPEC_DECLARE_STRING_TABLE(spec_env_source, enum spec_env_source)

struct spec_http_header {
        char *name;
        char *value;
};

/* A probe or lifecycle handler: exactly one of exec, httpGet, tcpSocket,
 * grpc, sleep (type NONE when the handler is absent). */
struct spec_handler {
        enum spec_handler_type type;
        char **exec_command; /* NULL-terminated */
        struct {
                char *path;
                struct spec_int_or_string port;
                char *host;
                enum spec_uri_scheme scheme;
                size_t n_headers;
                struct spec_http_header *headers;
        } http_get;
        struct {
                struct spec_int_or_string port;
                char *host;
        } tcp_socket;
        struct {
                int32_t port;
                char *service;
        } grpc;
        int64_t sleep_seconds;
        bool set;       /* written at all, even empty: validation wants a handler */
        unsigned given; /* bit (1u << type) for every handler key written */
        struct spec_pos pos;
};

struct spec_probe {
        bool set;
        struct spec_handler handler;
        int32_t initial_delay_seconds; /* default 0 */
        int32_t period_seconds;        /* default 10 */
        int32_t timeout_seconds;       /* default 1 */
        int32_t success_threshold;     /* default 1 */
        int32_t failure_threshold;     /* default 3 */
        bool has_termination_grace_period_seconds;
        int64_t termination_grace_period_seconds;
        struct spec_pos pos;
};

struct spec_lifecycle {
        struct spec_handler post_start;
        struct spec_handler pre_stop;
};

struct spec_env {
        char *name;
        enum spec_env_source source;
        char *value; /* SPEC_ENV_VALUE; may be "" */
        struct {
                char *api_version; /* default "v1" */
                char *field_path;
        } field_ref;
        struct {
                char *container_name;
                char *resource;
                struct spec_quantity divisor; /* default 1 */
        } resource_field_ref;
        struct {
                char *name;
                char *key;
                bool optional;
        } key_ref; /* configMapKeyRef or secretKeyRef */
        bool has_value_from;   /* valueFrom written, even empty */
        unsigned n_value_from; /* sources written under valueFrom: exactly one is valid */
        struct spec_pos pos;
};

struct spec_env_from {
        bool is_secret; /* secretRef, else configMapRef */
        char *name;
        char *prefix;
        bool optional;
        unsigned n_sources; /* configMapRef and secretRef written: exactly one is valid */
        struct spec_pos pos;
};

struct spec_port {
        char *name;
        int32_t container_port;
        int32_t host_port; /* 0: none */
        char *host_ip;
        enum spec_protocol protocol; /* default TCP */
        struct spec_pos pos;
};

struct spec_resource_list {
        struct spec_quantity cpu;
        struct spec_quantity memory;
        struct spec_quantity ephemeral_storage;
};

struct spec_resources {
        struct spec_resource_list requests;
        struct spec_resource_list limits;
};

struct spec_volume_mount {
        char *name;
        char *mount_path;
        bool read_only;
        char *sub_path;
        char *sub_path_expr;
        enum spec_mount_propagation propagation; /* default None */
        struct spec_pos pos;
};

struct spec_seccomp {
        enum spec_seccomp_type type;
        char *localhost_profile;
};

struct spec_capabilities {
        char **add;  /* NULL-terminated, as written (e.g. "NET_ADMIN") */
        char **drop;
};

/* Optional scalars carry their own "set" flag: Kubernetes distinguishes an
 * absent field from a zero one (runAsUser: 0 is root, absent is the image's). */
struct spec_opt_i64 {
        bool set;
        int64_t value;
};

struct spec_opt_bool {
        bool set;
        bool value;
};

struct spec_container_security {
        struct spec_opt_i64 run_as_user;
        struct spec_opt_i64 run_as_group;
        struct spec_opt_bool run_as_non_root;
        bool privileged;
        bool read_only_root_filesystem;
        struct spec_opt_bool allow_privilege_escalation;
        struct spec_capabilities capabilities;
        struct spec_seccomp seccomp;
        enum spec_proc_mount proc_mount;
};

struct spec_container {
        char *name;
        char *image;
        enum spec_pull_policy image_pull_policy; /* default by tag, as the API server */
        char **command;                          /* NULL when absent */
        char **args;                             /* NULL when absent */
        char *working_dir;
        size_t n_env;
        struct spec_env *env;
        size_t n_env_from;
        struct spec_env_from *env_from;
        size_t n_ports;
        struct spec_port *ports;
        struct spec_resources resources;
        size_t n_volume_mounts;
        struct spec_volume_mount *volume_mounts;
        struct spec_probe liveness_probe;
        struct spec_probe readiness_probe;
        struct spec_probe startup_probe;
        struct spec_lifecycle lifecycle;
        struct spec_container_security security_context;
        bool stdin_open; /* "stdin" */
        bool stdin_once;
        bool tty;
        char *termination_message_path; /* default /dev/termination-log */
        enum spec_termination_message_policy termination_message_policy;
        bool has_restart_policy; /* init containers only: Always makes a sidecar */
        enum spec_restart_policy restart_policy;
        struct spec_pos pos;
};

struct spec_key_to_path {
        char *key;
        char *path;
        bool has_mode;
        int32_t mode;
};

struct spec_downward_item {
        char *path;
        char *field_path; /* fieldRef.fieldPath, or NULL */
        char *container_name;
        char *resource; /* resourceFieldRef.resource, or NULL */
        struct spec_quantity divisor;
        bool has_mode;
        int32_t mode;
};

/* configMap and secret volumes, and their projected forms. */
struct spec_object_source {
        char *name; /* configMap.name or secret.secretName */
        bool optional;
        size_t n_items;
        struct spec_key_to_path *items;
};

enum spec_projection_type {
        SPEC_PROJECTION_CONFIG_MAP,
        SPEC_PROJECTION_SECRET,
        SPEC_PROJECTION_DOWNWARD_API,
        SPEC_PROJECTION_SERVICE_ACCOUNT_TOKEN,
        _SPEC_PROJECTION_TYPE_MAX,
        _SPEC_PROJECTION_TYPE_INVALID = -EINVAL,
};

SPEC_DECLARE_STRING_TABLE(spec_projection_type, enum spec_projection_type)

struct spec_projection {
        enum spec_projection_type type;
        struct spec_object_source object;
        size_t n_downward_items;
        struct spec_downward_item *downward_items;
        struct {
                char *audience;
                int64_t expiration_seconds;
                char *path;
        } service_account_token;
};

struct spec_volume {
        char *name;
        enum spec_volume_type type;
        struct {
                enum spec_storage_medium medium;
                struct spec_quantity size_limit;
        } empty_dir;
        struct {
                char *path;
                enum spec_host_path_type type;
        } host_path;
        struct spec_object_source object; /* configMap or secret */
        size_t n_downward_items;
        struct spec_downward_item *downward_items;
        size_t n_projections;
        struct spec_projection *projections;
        int32_t default_mode; /* 0644 unless given */
        struct spec_pos pos;
};

struct spec_host_alias {
        char *ip;
        char **hostnames;
        struct spec_pos pos;
};

struct spec_dns_config {
        char **nameservers;
        char **searches;
        struct spec_map options; /* value may be NULL */
};

struct spec_pod_security {
        struct spec_opt_i64 run_as_user;
        struct spec_opt_i64 run_as_group;
        struct spec_opt_bool run_as_non_root;
        struct spec_opt_i64 fs_group;
        size_t n_supplemental_groups;
        int64_t *supplemental_groups;
        struct spec_map sysctls;
        struct spec_seccomp seccomp;
};

/* Where each field of the document was written, by its Kubernetes path
 * ("spec.containers[1].resources.limits.memory"). Sorted by path. */
struct spec_field_pos {
        char *path;
        struct spec_pos pos;
};

struct spec_pod {
        char *file; /* the manifest's path as given */
        struct spec_pos pos;
        char *api_version;
        char *kind;
        char *name;
        char *namespace; /* default "default" */
        struct spec_map labels;
        struct spec_map annotations;
        size_t n_init_containers;
        struct spec_container *init_containers;
        size_t n_containers;
        struct spec_container *containers;
        enum spec_restart_policy restart_policy;    /* default Always */
        int64_t termination_grace_period_seconds;   /* default 30 */
        struct spec_opt_i64 active_deadline_seconds;
        char *hostname;
        char *subdomain;
        size_t n_host_aliases;
        struct spec_host_alias *host_aliases;
        enum spec_dns_policy dns_policy; /* default ClusterFirst */
        struct spec_dns_config dns_config;
        bool share_process_namespace;
        bool host_network;
        bool host_pid;
        bool host_ipc;
        struct spec_opt_bool host_users; /* absent means true */
        struct spec_pod_security security_context;
        size_t n_volumes;
        struct spec_volume *volumes;
        bool enable_service_links; /* default true */
        size_t n_field_pos;
        struct spec_field_pos *field_pos;
};

struct spec_file {
        size_t n_pods;
        struct spec_pod *pods;
};

enum spec_severity {
        SPEC_ERROR,
        SPEC_WARNING,
};

/* One finding about a manifest: "file:line:col: field: message". */
struct spec_diag {
        enum spec_severity severity;
        char *file;
        struct spec_pos pos;
        char *field; /* Kubernetes path, may be NULL for document-level findings */
        char *message;
};

struct spec_diags {
        size_t n;
        struct spec_diag *items;
        size_t n_errors;
};

/* Limits against hostile documents (CVE-2019-11253 and its kin). */
#define SPEC_MAX_DOCUMENT_BYTES (4u << 20)
#define SPEC_MAX_DEPTH 64
#define SPEC_MAX_SCALAR_BYTES (1u << 20)
#define SPEC_MAX_ALIASES 1000
#define SPEC_MAX_NODES 200000

/* Parses a manifest (one or more "---" documents). Problems with the
 * manifest (syntax, types, unknown fields, limits, validation) become
 * diagnostics and make the result -EINVAL with err->usage set; only I/O
 * failures are other errors. Warnings alone do not fail. Defaults are
 * applied and spec_validate() is run on every pod. */
int spec_load_file(const char *path, struct spec_file **ret, struct spec_diags *diags,
                   struct pr_error *err);
int spec_load_buffer(const char *name, const char *buf, size_t len, struct spec_file **ret,
                     struct spec_diags *diags, struct pr_error *err);

struct spec_file *spec_file_free(struct spec_file *f);
void spec_pod_done(struct spec_pod *pod);

/* Checks a pod as the API server's validation does; appends every problem
 * to diags and returns the number of errors found. */
int spec_validate(const struct spec_pod *pod, struct spec_diags *diags);

/* The position of a field by its path, or of its nearest written parent. */
struct spec_pos spec_pod_field_pos(const struct spec_pod *pod, const char *path);

void spec_diags_add(struct spec_diags *diags, enum spec_severity severity, const char *file,
                    struct spec_pos pos, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
void spec_diags_done(struct spec_diags *diags);
/* "file:line:col: error: field: message" (or "warning"). Caller frees. */
char *spec_diag_format(const struct spec_diag *d);

/* Kubernetes resource quantities (apimachinery resource.Quantity). */
int spec_quantity_parse(const char *text, struct spec_quantity *ret);
/* Exact comparison of two parsed quantities: <0, 0, >0. */
int spec_quantity_cmp(const struct spec_quantity *a, const struct spec_quantity *b);
void spec_quantity_done(struct spec_quantity *q);
/* The canonical spelling Kubernetes prints (Quantity.String()): "2000m" is
 * "2", "1024Mi" is "1Gi". Caller frees. */
char *spec_quantity_format(const struct spec_quantity *q);

/* Whether a container runtime knows a capability name, as Kubernetes passes
 * it: any case, with or without "CAP_", or "ALL". */
bool spec_capability_known(const char *name);

/* Looks up a container (init or app) by name; NULL when absent. */
const struct spec_container *spec_pod_find_container(const struct spec_pod *pod, const char *name);
