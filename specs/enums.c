/* The string tables of every spec enum: the exact spellings Kubernetes uses
 * in manifests and statuses. It must never hold any other knowledge of the
 * schema, nor allocate except for messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/specs-int.h"
#include "specs/specs.h"

#define DEFINE_TABLE(name, type, first_, ...)                                                      \
        static const char *const name##_names[] = {__VA_ARGS__};                                   \
        const struct spec_enum_table name##_table = {name##_names, PR_ELEMENTSOF(name##_names),    \
                                                     first_};                                      \
        const char *name##_to_string(type v)                                                       \
        {                                                                                          \
                if ((int)v < 0 || (size_t)v >= PR_ELEMENTSOF(name##_names))                        \
                        return NULL;                                                               \
                return name##_names[v];                                                            \
        }                                                                                          \
        type name##_from_string(const char *s)                                                     \
        {                                                                                          \
                if (!s)                                                                            \
                        return (type)-EINVAL;                                                      \
                for (size_t i = 0; i < PR_ELEMENTSOF(name##_names); i++)                           \
                        if (strcmp(s, name##_names[i]) == 0)                                       \
                                return (type)i;                                                    \
                return (type)-EINVAL;                                                              \
        }

DEFINE_TABLE(spec_restart_policy, enum spec_restart_policy, 0, "Always", "OnFailure", "Never")
DEFINE_TABLE(spec_pull_policy, enum spec_pull_policy, 0, "Always", "IfNotPresent", "Never")
DEFINE_TABLE(spec_dns_policy, enum spec_dns_policy, 0, "ClusterFirst", "ClusterFirstWithHostNet",
             "Default", "None")
DEFINE_TABLE(spec_protocol, enum spec_protocol, 0, "TCP", "UDP", "SCTP")
DEFINE_TABLE(spec_handler_type, enum spec_handler_type, 1, "none", "exec", "httpGet", "tcpSocket",
             "grpc", "sleep")
DEFINE_TABLE(spec_uri_scheme, enum spec_uri_scheme, 0, "HTTP", "HTTPS")
DEFINE_TABLE(spec_termination_message_policy, enum spec_termination_message_policy, 0, "File",
             "FallbackToLogsOnError")
DEFINE_TABLE(spec_mount_propagation, enum spec_mount_propagation, 0, "None", "HostToContainer",
             "Bidirectional")
DEFINE_TABLE(spec_seccomp_type, enum spec_seccomp_type, 1, "", "RuntimeDefault", "Unconfined",
             "Localhost")
DEFINE_TABLE(spec_proc_mount, enum spec_proc_mount, 0, "Default", "Unmasked")
DEFINE_TABLE(spec_volume_type, enum spec_volume_type, 0, "emptyDir", "hostPath", "configMap",
             "secret", "downwardAPI", "projected")
DEFINE_TABLE(spec_storage_medium, enum spec_storage_medium, 0, "", "Memory", "HugePages")
DEFINE_TABLE(spec_host_path_type, enum spec_host_path_type, 0, "", "DirectoryOrCreate", "Directory",
             "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
DEFINE_TABLE(spec_env_source, enum spec_env_source, 0, "value", "fieldRef", "resourceFieldRef",
             "configMapKeyRef", "secretKeyRef")
DEFINE_TABLE(spec_projection_type, enum spec_projection_type, 0, "configMap", "secret",
             "downwardAPI", "serviceAccountToken")

int spec_enum_lookup(const struct spec_enum_table *t, const char *s)
{
        for (size_t i = t->first; i < t->n; i++)
                if (strcmp(s, t->names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *spec_enum_supported(const struct spec_enum_table *t)
{
        _cleanup_free_ const char **sorted = pr_calloc(t->n, sizeof(*sorted));
        size_t n = t->n - t->first;
        char *out = pr_strdup("");

        memcpy(sorted, t->names + t->first, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), compare_strings);
        for (size_t i = 0; i < n; i++) {
                char *next = pr_asprintf("%s%s\"%s\"", out, i ? ", " : "", sorted[i]);
                free(out);
                out = next;
        }
        return out;
}
