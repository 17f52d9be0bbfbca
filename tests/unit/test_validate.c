#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "specs/specs.h"

PR_DEFINE_FREE_FUNC(struct spec_file, spec_file_free)

TestSuite(validate);

/* Every diagnostic, formatted, one per line. */
static char *format_all(const struct spec_diags *d)
{
        char *out = pr_strdup("");

        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(&d->items[i]);
                char *next = pr_asprintf("%s%s\n", out, line);

                free(out);
                out = next;
        }
        return out;
}

/* Validates a hand-built pod: no field positions, so every finding sits
 * at the pod's own position, 1:1. */
static char *validate_pod(const struct spec_pod *pod, int *ret_errors)
{
        struct spec_diags d = {};
        char *out;

        *ret_errors = spec_validate(pod, &d);
        cr_assert_eq((size_t)*ret_errors, d.n_errors);
        out = format_all(&d);
        spec_diags_done(&d);
        return out;
}

/* Loads YAML through the parser, which ends in spec_validate. */
static char *load_yaml(const char *yaml, int *ret_r)
{
        _cleanup_(spec_file_freep) struct spec_file *f = NULL;
        struct spec_diags d = {};
        struct pr_error err = {};
        char *out;

        *ret_r = spec_load_buffer("t.yaml", yaml, strlen(yaml), &f, &d, &err);
        if (*ret_r < 0)
                cr_assert(err.usage, "%s", err.msg);
        out = format_all(&d);
        spec_diags_done(&d);
        return out;
}

static struct spec_container *add_container(struct spec_pod *pod, const char *name)
{
        struct spec_container *c = pr_array_grow(&pod->containers, &pod->n_containers, sizeof(*c));

        c->name = pr_strdup(name);
        c->image = pr_strdup("busybox");
        return c;
}

static void init_pod(struct spec_pod *pod)
{
        *pod = (struct spec_pod){
            .file = pr_strdup("t.yaml"),
            .pos = {1, 1},
            .name = pr_strdup("web"),
            .namespace = pr_strdup("default"),
            .restart_policy = SPEC_RESTART_ALWAYS,
            .termination_grace_period_seconds = 30,
            .dns_policy = SPEC_DNS_CLUSTER_FIRST,
        };
        add_container(pod, "app");
}

Test(validate, minimal_pod_is_valid)
{
        struct spec_pod pod;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 0);
        cr_expect_str_eq(out, "");
        spec_pod_done(&pod);
}

Test(validate, every_problem_is_reported)
{
        struct spec_pod pod;
        struct spec_container *c;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        free(pod.name);
        pod.name = pr_strdup("Web");
        c = add_container(&pod, "app");
        free(c->image);
        c->image = NULL;
        pod.termination_grace_period_seconds = -5;
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 4);
        cr_expect_str_eq(
            out, "t.yaml:1:1: error: metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 "
                 "subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex "
                 "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
                 "[a-z0-9])?)*')\n"
                 "t.yaml:1:1: error: spec.containers[1].image: Required value\n"
                 "t.yaml:1:1: error: spec.containers[1].name: Duplicate value: \"app\"\n"
                 "t.yaml:1:1: error: spec.terminationGracePeriodSeconds: Invalid value: -5: must "
                 "be greater than or equal to 0\n");
        spec_pod_done(&pod);
}

Test(validate, names_are_quoted_as_go_does)
{
        struct spec_pod pod;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        free(pod.containers[0].name);
        pod.containers[0].name = pr_strdup("a\"b\n\x01");
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 1);
        cr_expect(strstr(out, "spec.containers[0].name: Invalid value: \"a\\\"b\\n\\x01\": a "
                              "lowercase RFC 1123 label") != NULL,
                  "%s", out);
        spec_pod_done(&pod);
}

Test(validate, long_names)
{
        struct spec_pod pod;
        _cleanup_free_ char *out = NULL;
        char name[300];
        int n;

        init_pod(&pod);
        memset(name, 'a', 254);
        name[254] = '\0';
        free(pod.name);
        pod.name = pr_strdup(name);
        name[64] = '\0';
        free(pod.containers[0].name);
        pod.containers[0].name = pr_strdup(name);
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 2, "%s", out);
        cr_expect(strstr(out, "metadata.name: Invalid value: \"aaaa") != NULL);
        cr_expect(strstr(out, "\": must be no more than 253 characters\n") != NULL, "%s", out);
        cr_expect(strstr(out, "\": must be no more than 63 characters\n") != NULL, "%s", out);
        spec_pod_done(&pod);

        /* Exactly at the limits: valid. */
        init_pod(&pod);
        memset(name, 'b', 253);
        name[253] = '\0';
        free(pod.name);
        pod.name = pr_strdup(name);
        name[63] = '\0';
        free(pod.containers[0].name);
        pod.containers[0].name = pr_strdup(name);
        free(out);
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 0, "%s", out);
        spec_pod_done(&pod);
}

Test(validate, handlers_exactly_one)
{
        struct spec_pod pod;
        struct spec_container *c;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        c = &pod.containers[0];
        /* Two handlers written: the first is checked, the second refused. */
        c->liveness_probe = (struct spec_probe){
            .set = true,
            .handler = {.type = SPEC_HANDLER_EXEC,
                        .given = 1u << SPEC_HANDLER_EXEC | 1u << SPEC_HANDLER_TCP_SOCKET},
            .period_seconds = 10,
            .timeout_seconds = 1,
            .success_threshold = 1,
            .failure_threshold = 3,
        };
        /* A probe without any handler. */
        c->readiness_probe = (struct spec_probe){
            .set = true,
            .period_seconds = 10,
            .timeout_seconds = 1,
            .success_threshold = 1,
            .failure_threshold = 3,
        };
        /* An empty hook. */
        c->lifecycle.pre_stop.set = true;
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 4, "%s", out);
        cr_expect_str_eq(
            out,
            "t.yaml:1:1: error: spec.containers[0].lifecycle.preStop: Required value: must "
            "specify a handler type\n"
            "t.yaml:1:1: error: spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not "
            "specify more than 1 handler type\n"
            "t.yaml:1:1: error: spec.containers[0].livenessProbe.exec.command: Required "
            "value\n"
            "t.yaml:1:1: error: spec.containers[0].readinessProbe: Required value: must "
            "specify a handler type\n");
        spec_pod_done(&pod);
}

Test(validate, env_value_from_exactly_one)
{
        struct spec_pod pod;
        struct spec_container *c;
        struct spec_env *e;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        c = &pod.containers[0];
        e = pr_array_grow(&c->env, &c->n_env, sizeof(*e));
        e->name = pr_strdup("EMPTY");
        e->has_value_from = true;
        e = pr_array_grow(&c->env, &c->n_env, sizeof(*e));
        e->name = pr_strdup("TWO");
        e->source = SPEC_ENV_CONFIG_MAP_KEY_REF;
        e->has_value_from = true;
        e->n_value_from = 2;
        e->key_ref.name = pr_strdup("cm");
        e->key_ref.key = pr_strdup("k");
        e = pr_array_grow(&c->env, &c->n_env, sizeof(*e));
        e->name = pr_strdup("BOTH");
        e->value = pr_strdup("x");
        e->source = SPEC_ENV_FIELD_REF;
        e->has_value_from = true;
        e->n_value_from = 1;
        e->field_ref.api_version = pr_strdup("v1");
        e->field_ref.field_path = pr_strdup("metadata.name");
        e = pr_array_grow(&c->env, &c->n_env, sizeof(*e));
        e->name = pr_strdup("");
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 5, "%s", out);
        cr_expect_str_eq(
            out,
            "t.yaml:1:1: error: spec.containers[0].env[0].valueFrom: Invalid value: \"\": must "
            "specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
            "`secretKeyRef`\n"
            "t.yaml:1:1: error: spec.containers[0].env[1].valueFrom: Invalid value: \"\": may "
            "not have more than one field specified at a time\n"
            "t.yaml:1:1: error: spec.containers[0].env[2].valueFrom: Invalid value: \"\": may "
            "not be specified when `value` is not empty\n"
            "t.yaml:1:1: error: spec.containers[0].env[3].name: Required value\n"
            "t.yaml:1:1: error: spec.containers[0].env[3].name: Invalid value: \"\": a valid "
            "environment variable name must consist of alphabetic characters, digits, '_', "
            "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
            "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
            "'[-._a-zA-Z][-._a-zA-Z0-9]*')\n");
        spec_pod_done(&pod);
}

Test(validate, env_names)
{
        static const struct {
                const char *name;
                bool ok;
        } table[] = {
            {"PATH", true}, {"my.env-name", true}, {"_x", true},   {"-x", true},   {"a1", true},
            {".x", true},   {"1a", false},         {"a b", false}, {"a=b", false}, {".", false},
            {"..", false},  {"..a", false},        {"é", false},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                struct spec_pod pod;
                struct spec_env *e;
                _cleanup_free_ char *out = NULL;
                int n;

                init_pod(&pod);
                e = pr_array_grow(&pod.containers[0].env, &pod.containers[0].n_env, sizeof(*e));
                e->name = pr_strdup(table[i].name);
                e->value = pr_strdup("v");
                out = validate_pod(&pod, &n);
                cr_expect_eq(n == 0, table[i].ok, "'%s': %s", table[i].name, out);
                spec_pod_done(&pod);
        }
}

Test(validate, quantities_compared_exactly)
{
        struct spec_pod pod;
        struct spec_resources *r;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        r = &pod.containers[0].resources;
        /* Equal values in other spellings are fine... */
        cr_assert_eq(spec_quantity_parse("1000m", &r->requests.cpu), 0);
        cr_assert_eq(spec_quantity_parse("1", &r->limits.cpu), 0);
        cr_assert_eq(spec_quantity_parse("1Gi", &r->requests.memory), 0);
        cr_assert_eq(spec_quantity_parse("1024Mi", &r->limits.memory), 0);
        /* ...a nano more is not. */
        cr_assert_eq(spec_quantity_parse("1000000001n", &r->requests.ephemeral_storage), 0);
        cr_assert_eq(spec_quantity_parse("1", &r->limits.ephemeral_storage), 0);
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 1, "%s", out);
        cr_expect_str_eq(out,
                         "t.yaml:1:1: warning: spec.containers[0].resources.limits[ephemeral-"
                         "storage]: ignored: podrun does not enforce ephemeral-storage (only "
                         "the downward API reads it)\n"
                         "t.yaml:1:1: warning: spec.containers[0].resources.requests[ephemeral-"
                         "storage]: ignored: podrun does not enforce ephemeral-storage (only "
                         "the downward API reads it)\n"
                         "t.yaml:1:1: error: spec.containers[0].resources.requests: Invalid "
                         "value: \"1000000001n\": must be less than or equal to "
                         "ephemeral-storage limit of 1\n");
        spec_pod_done(&pod);
}

/* Valid fields nothing on one host honours: a warning each, no error. */
Test(validate, unhonoured_fields_warn)
{
        static const char yaml[] =
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
            "  containers:\n  - name: app\n    image: busybox\n    stdinOnce: true\n"
            "    volumeMounts:\n    - {name: d, mountPath: /d, mountPropagation: Bidirectional}\n"
            "    - {name: m, mountPath: /m, mountPropagation: None}\n"
            "    securityContext: {privileged: true}\n"
            "  volumes:\n  - {name: d, emptyDir: {sizeLimit: 1Gi}}\n"
            "  - {name: m, emptyDir: {medium: Memory, sizeLimit: 1Gi}}\n";
        _cleanup_free_ char *out = NULL;
        int r;

        out = load_yaml(yaml, &r);
        cr_expect_eq(r, 0, "%s", out);
        cr_expect_str_eq(out, "t.yaml:9:16: warning: spec.containers[0].stdinOnce: ignored: podrun "
                              "has no attach, so stdin stays open\n"
                              "t.yaml:11:50: warning: spec.containers[0].volumeMounts[0]."
                              "mountPropagation: ignored: podrun makes every mount private, as "
                              "with None\n"
                              "t.yaml:15:37: warning: spec.volumes[0].emptyDir.sizeLimit: ignored: "
                              "podrun limits the size of a Memory emptyDir only; this one on disk "
                              "may grow past it\n");
}

Test(validate, capability_names)
{
        cr_expect(spec_capability_known("NET_ADMIN"));
        cr_expect(spec_capability_known("CAP_NET_ADMIN"));
        cr_expect(spec_capability_known("net_admin"));
        cr_expect(spec_capability_known("ALL"));
        cr_expect(spec_capability_known("all"));
        cr_expect(spec_capability_known("CHECKPOINT_RESTORE"));
        cr_expect_not(spec_capability_known("NET_FOO"));
        cr_expect_not(spec_capability_known("CAP_"));
        cr_expect_not(spec_capability_known(""));
        cr_expect_not(spec_capability_known("CAP_CAP_CHOWN"));
}

/* Through the parser: positions point at the value or key written. */
Test(validate, positions_from_the_manifest)
{
        static const char yaml[] = "apiVersion: v1\n"
                                   "kind: Pod\n"
                                   "metadata:\n"
                                   "  name: web\n"
                                   "spec:\n"
                                   "  containers:\n"
                                   "  - name: app\n"
                                   "    image: busybox\n"
                                   "    ports:\n"
                                   "    - containerPort: 0x10000\n"
                                   "    volumeMounts:\n"
                                   "    - name: data\n"
                                   "      mountPath: /data\n"
                                   "  - name: app\n"
                                   "    image: busybox\n";
        _cleanup_free_ char *out = NULL;
        int r;

        out = load_yaml(yaml, &r);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(
            out, "t.yaml:10:22: error: spec.containers[0].ports[0].containerPort: Invalid value: "
                 "65536: must be between 1 and 65535, inclusive\n"
                 "t.yaml:12:13: error: spec.containers[0].volumeMounts[0].name: Not found: "
                 "\"data\"\n"
                 "t.yaml:14:11: error: spec.containers[1].name: Duplicate value: \"app\"\n");
}

Test(validate, dns_policy_none)
{
        static const char head[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
                                   "  containers: [{name: app, image: busybox}]\n"
                                   "  dnsPolicy: None\n";
        _cleanup_free_ char *y1 = pr_strdup(head);
        _cleanup_free_ char *y2 = pr_asprintf("%s  dnsConfig:\n    searches: [a.example]\n", head);
        _cleanup_free_ char *y3 =
            pr_asprintf("%s  dnsConfig:\n    nameservers: [10.0.0.1]\n", head);
        _cleanup_free_ char *o1 = NULL, *o2 = NULL, *o3 = NULL;
        int r;

        o1 = load_yaml(y1, &r);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(o1, "t.yaml:5:1: error: spec.dnsConfig: Required value: must provide "
                             "`dnsConfig` when `dnsPolicy` is None\n");
        o2 = load_yaml(y2, &r);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(o2, "t.yaml:8:3: error: spec.dnsConfig.nameservers: Required value: must "
                             "provide at least one DNS nameserver when `dnsPolicy` is None\n");
        o3 = load_yaml(y3, &r);
        cr_expect_eq(r, 0, "%s", o3);
        cr_expect_str_eq(o3, "");
}

/* validateHostUsers: a user namespace with any of the host's namespaces. */
Test(validate, host_users_false_forbids_host_namespaces)
{
        static const char head[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
                                   "  containers: [{name: app, image: busybox}]\n"
                                   "  hostUsers: false\n";
        _cleanup_free_ char *y1 = pr_asprintf("%s  hostPID: true\n", head);
        _cleanup_free_ char *y2 = pr_asprintf("%s  hostNetwork: false\n", head);
        _cleanup_free_ char *y3 = pr_strdup("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
                                            "spec:\n  containers: [{name: app, image: busybox}]\n"
                                            "  hostUsers: true\n  hostIPC: true\n");
        _cleanup_free_ char *o1 = NULL, *o2 = NULL, *o3 = NULL;
        int r;

        o1 = load_yaml(y1, &r);
        cr_expect_eq(r, -EINVAL);
        cr_expect_str_eq(o1, "t.yaml:8:12: error: spec.HostPID: Forbidden: when "
                             "`pod.Spec.HostUsers` is false\n");
        o2 = load_yaml(y2, &r);
        cr_expect_eq(r, 0, "%s", o2);
        cr_expect_str_eq(o2, "");
        o3 = load_yaml(y3, &r);
        cr_expect_eq(r, 0, "%s", o3);
        cr_expect_str_eq(o3, "");
}

Test(validate, sysctl_allowlist)
{
        static const struct {
                const char *name, *value;
                bool ok;
        } table[] = {
            {"kernel.shm_rmid_forced", "1", true},
            {"net.ipv4.ip_local_port_range", "1024\t65000", true},
            {"net/ipv4/ip_local_port_range", "1024 65000", true},
            {"net.ipv4.ip_local_reserved_ports", "8080,9148-9150", true},
            {"net.ipv4.tcp_wmem", "4096 16384 4194304", true},
            {"net.ipv4.ping_group_range", "0 2147483647", true},
            {"net.core.somaxconn", "1024", false},
            {"kernel.core_pattern", "|/bin/sh", false},
            {"vm.overcommit_memory", "1", false},
            {"kernel.shm_rmid_forced", "1\nkernel.core_pattern=x", false},
            {"kernel.shm_rmid_forced", "1+kernel.core_pattern", false},
            {"kernel.shm_rmid_forced", "", false},
            {"kernel..shm", "1", false},
            {"", "1", false},
        };

        for (size_t i = 0; i < PR_ELEMENTSOF(table); i++) {
                struct spec_pod pod;
                struct spec_kv *kv;
                _cleanup_free_ char *out = NULL;
                int n;

                init_pod(&pod);
                kv = pr_array_grow(&pod.security_context.sysctls.items,
                                   &pod.security_context.sysctls.n, sizeof(*kv));
                kv->key = pr_strdup(table[i].name);
                kv->value = pr_strdup(table[i].value);
                out = validate_pod(&pod, &n);
                cr_expect_eq(n == 0, table[i].ok, "'%s'='%s': %s", table[i].name, table[i].value,
                             out);
                spec_pod_done(&pod);
        }
}

Test(validate, probe_rules)
{
        struct spec_pod pod;
        struct spec_probe *p;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        p = &pod.containers[0].startup_probe;
        *p = (struct spec_probe){
            .set = true,
            .handler = {.type = SPEC_HANDLER_GRPC, .grpc = {.port = 70000}},
            .period_seconds = 10,
            .timeout_seconds = -1,
            .success_threshold = 3,
            .failure_threshold = -3,
            .has_termination_grace_period_seconds = true,
        };
        /* Readiness may have any successThreshold, but no grace period. */
        pod.containers[0].readiness_probe = (struct spec_probe){
            .set = true,
            .handler = {.type = SPEC_HANDLER_GRPC, .grpc = {.port = 9000}},
            .period_seconds = 10,
            .timeout_seconds = 1,
            .success_threshold = 3,
            .failure_threshold = 3,
            .has_termination_grace_period_seconds = true,
            .termination_grace_period_seconds = 5,
        };
        out = validate_pod(&pod, &n);
        cr_expect_eq(n, 6, "%s", out);
        cr_expect_str_eq(
            out,
            "t.yaml:1:1: error: spec.containers[0].readinessProbe.terminationGracePeriodSeconds"
            ": Invalid value: 5: must not be set for readinessProbes\n"
            "t.yaml:1:1: error: spec.containers[0].startupProbe.grpc.port: Invalid value: "
            "70000: must be between 1 and 65535, inclusive\n"
            "t.yaml:1:1: error: spec.containers[0].startupProbe.timeoutSeconds: Invalid value: "
            "-1: must be greater than or equal to 0\n"
            "t.yaml:1:1: error: spec.containers[0].startupProbe.failureThreshold: Invalid "
            "value: -3: must be greater than or equal to 0\n"
            "t.yaml:1:1: error: spec.containers[0].startupProbe.terminationGracePeriodSeconds"
            ": Invalid value: 0: must be greater than 0\n"
            "t.yaml:1:1: error: spec.containers[0].startupProbe.successThreshold: Invalid "
            "value: 3: must be 1\n");
        spec_pod_done(&pod);
}

/* Duplicates were once found pairwise: this pod took half a minute. */
Test(validate, many_containers_in_good_time, .timeout = 20)
{
        struct spec_pod pod;
        _cleanup_free_ char *out = NULL;
        int n;

        init_pod(&pod);
        /* Allocated at once: growing by one would be the slow part here. */
        pod.containers = pr_realloc(pod.containers, 80001 * sizeof(*pod.containers));
        for (int i = 1; i <= 80000; i++) {
                struct spec_container *c = &pod.containers[i];
                struct spec_volume_mount *m = pr_calloc(1, sizeof(*m));

                *c = (struct spec_container){
                    .name = pr_asprintf("c%d", (i - 1) % 79999),
                    .image = pr_strdup("busybox"),
                    .volume_mounts = m,
                    .n_volume_mounts = 1,
                };
                m->name = pr_strdup("data");
                m->mount_path = pr_strdup("/data");
        }
        pod.n_containers = 80001;
        pod.volumes = pr_calloc(20000, sizeof(*pod.volumes));
        pod.n_volumes = 20000;
        for (int i = 0; i < 20000; i++)
                pod.volumes[i].name = i == 19999 ? pr_strdup("data") : pr_asprintf("v%d", i);
        out = validate_pod(&pod, &n);
        /* Only the last container repeats a name; every mount finds its volume. */
        cr_expect_eq(n, 1, "%s", out);
        cr_expect_str_eq(out, "t.yaml:1:1: error: spec.containers[80000].name: Duplicate value: "
                              "\"c0\"\n");
        spec_pod_done(&pod);
}
