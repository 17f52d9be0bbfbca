#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/base/error.h"
#include "pod/base/fs.h"
#include "pod/base/util.h"
#include "specs/specs.h"

TestSuite(specs_parse);

struct loaded {
        struct spec_file *f;
        struct spec_diags d;
        struct pr_error err;
        int r;
        char *text; /* every diagnostic, formatted, one per line */
};

static void load(struct loaded *l, const char *yaml)
{
        *l = (struct loaded){0};
        l->r = spec_load_buffer("p.yaml", yaml, strlen(yaml), &l->f, &l->d, &l->err);
        l->text = pr_strdup("");
        for (size_t i = 0; i < l->d.n; i++) {
                _cleanup_free_ char *line = spec_diag_format(&l->d.items[i]);
                char *next = pr_asprintf("%s%s\n", l->text, line);
                free(l->text);
                l->text = next;
        }
}

static void loaded_done(struct loaded *l)
{
        spec_file_free(l->f);
        spec_diags_done(&l->d);
        free(l->text);
}

static const struct spec_pod *load_one(struct loaded *l, const char *yaml)
{
        load(l, yaml);
        cr_assert_eq(l->r, 0, "load failed: %s\n%s", l->err.msg, l->text);
        cr_assert_eq(l->f->n_pods, 1);
        return &l->f->pods[0];
}

#define POD_HEAD "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"

Test(specs_parse, minimal_pod_gets_the_api_server_defaults)
{
        struct loaded l;
        const struct spec_pod *pod = load_one(&l, POD_HEAD "spec:\n"
                                                           "  containers:\n"
                                                           "  - name: app\n"
                                                           "    image: busybox\n"
                                                           "    ports:\n"
                                                           "    - containerPort: 80\n");
        const struct spec_container *c = &pod->containers[0];

        cr_assert_eq(l.d.n, 0, "%s", l.text);
        cr_assert_str_eq(pod->file, "p.yaml");
        cr_assert_str_eq(pod->api_version, "v1");
        cr_assert_str_eq(pod->kind, "Pod");
        cr_assert_str_eq(pod->name, "web");
        cr_assert_str_eq(pod->namespace, "default");
        cr_assert_eq(pod->restart_policy, SPEC_RESTART_ALWAYS);
        cr_assert_eq(pod->termination_grace_period_seconds, 30);
        cr_assert_eq(pod->dns_policy, SPEC_DNS_CLUSTER_FIRST);
        cr_assert(pod->enable_service_links);
        cr_assert_not(pod->active_deadline_seconds.set);
        cr_assert_not(pod->host_users.set);
        cr_assert_eq(pod->n_containers, 1);
        cr_assert_eq(pod->n_init_containers, 0);
        cr_assert_str_eq(c->name, "app");
        cr_assert_str_eq(c->image, "busybox");
        cr_assert_eq(c->image_pull_policy, SPEC_PULL_ALWAYS);
        cr_assert_null(c->command);
        cr_assert_null(c->args);
        cr_assert_str_eq(c->termination_message_path, "/dev/termination-log");
        cr_assert_eq(c->termination_message_policy, SPEC_TERMINATION_MESSAGE_FILE);
        cr_assert_not(c->has_restart_policy);
        cr_assert_not(c->liveness_probe.set);
        cr_assert_eq(c->lifecycle.pre_stop.type, SPEC_HANDLER_NONE);
        cr_assert_eq(c->ports[0].container_port, 80);
        cr_assert_eq(c->ports[0].protocol, SPEC_PROTOCOL_TCP);
        cr_assert_eq(c->ports[0].host_port, 0);
        cr_assert_eq(c->pos.line, 7);
        cr_assert_eq(c->pos.column, 5);
        loaded_done(&l);
}

Test(specs_parse, image_pull_policy_defaults_by_tag)
{
        /* clang-format off */
        static const struct {
                const char *image;
                enum spec_pull_policy want;
        } cases[] = {
                { "busybox", SPEC_PULL_ALWAYS },
                { "busybox:latest", SPEC_PULL_ALWAYS },
                { "busybox:1.36", SPEC_PULL_IF_NOT_PRESENT },
                { "localhost:5000/busybox", SPEC_PULL_ALWAYS },
                { "localhost:5000/busybox:v1", SPEC_PULL_IF_NOT_PRESENT },
                { "busybox@sha256:abcd", SPEC_PULL_IF_NOT_PRESENT },
                { "busybox:latest@sha256:abcd", SPEC_PULL_ALWAYS },
        };
        /* clang-format on */

        for (size_t i = 0; i < PR_ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *y = pr_asprintf(POD_HEAD "spec:\n  containers:\n"
                                                              "  - {name: a, image: \"%s\"}\n",
                                                     cases[i].image);
                struct loaded l;
                const struct spec_pod *pod = load_one(&l, y);

                cr_assert_eq(pod->containers[0].image_pull_policy, cases[i].want, "%s",
                             cases[i].image);
                loaded_done(&l);
        }
}

Test(specs_parse, pod_level_fields)
{
        struct loaded l;
        const struct spec_pod *pod =
            load_one(&l, "apiVersion: v1\n"
                         "kind: Pod\n"
                         "metadata:\n"
                         "  name: web\n"
                         "  namespace: prod\n"
                         "  labels: {app: web, tier: \"1\"}\n"
                         "  annotations:\n"
                         "    note: hello\n"
                         "spec:\n"
                         "  restartPolicy: OnFailure\n"
                         "  terminationGracePeriodSeconds: 5\n"
                         "  activeDeadlineSeconds: 600\n"
                         "  hostname: h\n"
                         "  subdomain: sub\n"
                         "  hostAliases:\n"
                         "  - ip: 10.0.0.1\n"
                         "    hostnames: [a.local, b.local]\n"
                         "  dnsPolicy: None\n"
                         "  dnsConfig:\n"
                         "    nameservers: [1.1.1.1]\n"
                         "    searches: [svc.local]\n"
                         "    options:\n"
                         "    - name: ndots\n"
                         "      value: \"2\"\n"
                         "    - name: edns0\n"
                         "  shareProcessNamespace: true\n"
                         "  hostNetwork: false\n"
                         "  hostPID: false\n"
                         "  hostIPC: true\n"
                         "  hostUsers: true\n"
                         "  enableServiceLinks: false\n"
                         "  securityContext:\n"
                         "    runAsUser: 1000\n"
                         "    runAsGroup: 3000\n"
                         "    runAsNonRoot: true\n"
                         "    fsGroup: 2000\n"
                         "    supplementalGroups: [4000, 5000]\n"
                         "    sysctls:\n"
                         "    - {name: net.ipv4.ip_unprivileged_port_start, value: \"0\"}\n"
                         "    seccompProfile: {type: RuntimeDefault}\n"
                         "  containers:\n"
                         "  - {name: app, image: busybox}\n");
        const struct spec_pod_security *s = &pod->security_context;

        cr_assert_eq(l.d.n, 0, "%s", l.text);
        cr_assert_str_eq(pod->namespace, "prod");
        cr_assert_eq(pod->labels.n, 2);
        cr_assert_str_eq(pod->labels.items[1].key, "tier");
        cr_assert_str_eq(pod->labels.items[1].value, "1");
        cr_assert_eq(pod->labels.items[1].pos.line, 6);
        cr_assert_str_eq(pod->annotations.items[0].value, "hello");
        cr_assert_eq(pod->restart_policy, SPEC_RESTART_ON_FAILURE);
        cr_assert_eq(pod->termination_grace_period_seconds, 5);
        cr_assert(pod->active_deadline_seconds.set);
        cr_assert_eq(pod->active_deadline_seconds.value, 600);
        cr_assert_str_eq(pod->hostname, "h");
        cr_assert_str_eq(pod->subdomain, "sub");
        cr_assert_eq(pod->n_host_aliases, 1);
        cr_assert_str_eq(pod->host_aliases[0].ip, "10.0.0.1");
        cr_assert_str_eq(pod->host_aliases[0].hostnames[1], "b.local");
        cr_assert_null(pod->host_aliases[0].hostnames[2]);
        cr_assert_eq(pod->dns_policy, SPEC_DNS_NONE);
        cr_assert_str_eq(pod->dns_config.nameservers[0], "1.1.1.1");
        cr_assert_str_eq(pod->dns_config.searches[0], "svc.local");
        cr_assert_eq(pod->dns_config.options.n, 2);
        cr_assert_str_eq(pod->dns_config.options.items[0].key, "ndots");
        cr_assert_str_eq(pod->dns_config.options.items[0].value, "2");
        cr_assert_null(pod->dns_config.options.items[1].value);
        cr_assert(pod->share_process_namespace);
        cr_assert_not(pod->host_network);
        cr_assert(pod->host_ipc);
        cr_assert(pod->host_users.set);
        cr_assert(pod->host_users.value);
        cr_assert_not(pod->enable_service_links);
        cr_assert_eq(s->run_as_user.value, 1000);
        cr_assert_eq(s->run_as_group.value, 3000);
        cr_assert(s->run_as_non_root.set && s->run_as_non_root.value);
        cr_assert_eq(s->fs_group.value, 2000);
        cr_assert_eq(s->n_supplemental_groups, 2);
        cr_assert_eq(s->supplemental_groups[1], 5000);
        cr_assert_str_eq(s->sysctls.items[0].key, "net.ipv4.ip_unprivileged_port_start");
        cr_assert_str_eq(s->sysctls.items[0].value, "0");
        cr_assert_eq(s->seccomp.type, SPEC_SECCOMP_RUNTIME_DEFAULT);
        loaded_done(&l);
}

Test(specs_parse, container_fields)
{
        struct loaded l;
        const struct spec_pod *pod = load_one(
            &l, POD_HEAD "spec:\n"
                         "  hostUsers: false\n"
                         "  initContainers:\n"
                         "  - name: sidecar\n"
                         "    image: busybox:1.36\n"
                         "    restartPolicy: Always\n"
                         "  containers:\n"
                         "  - name: app\n"
                         "    image: busybox:1.36\n"
                         "    imagePullPolicy: Never\n"
                         "    command: [sh, -c]\n"
                         "    args: []\n"
                         "    workingDir: /srv\n"
                         "    env:\n"
                         "    - {name: PLAIN, value: x}\n"
                         "    - {name: EMPTY}\n"
                         "    - name: POD\n"
                         "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
                         "    - name: MEM\n"
                         "      valueFrom:\n"
                         "        resourceFieldRef: {containerName: app, resource: "
                         "limits.memory}\n"
                         "    - name: CM\n"
                         "      valueFrom: {configMapKeyRef: {name: cm, key: k, optional: "
                         "true}}\n"
                         "    - name: SEC\n"
                         "      valueFrom: {secretKeyRef: {name: s, key: pw}}\n"
                         "    envFrom:\n"
                         "    - {configMapRef: {name: cm}, prefix: CM_}\n"
                         "    - secretRef: {name: s, optional: true}\n"
                         "    ports:\n"
                         "    - {name: dns, containerPort: 53, hostPort: 5353, hostIP: "
                         "127.0.0.1, protocol: UDP}\n"
                         "    resources:\n"
                         "      requests: {cpu: 250m}\n"
                         "      limits: {cpu: \"1\", memory: 128Mi, ephemeral-storage: 1Gi}\n"
                         "    volumeMounts:\n"
                         "    - name: data\n"
                         "      mountPath: /data\n"
                         "      readOnly: true\n"
                         "      subPath: x\n"
                         "      mountPropagation: HostToContainer\n"
                         "    - {name: data, mountPath: /e, subPathExpr: $(POD)}\n"
                         "    stdin: true\n"
                         "    stdinOnce: true\n"
                         "    tty: true\n"
                         "    terminationMessagePath: /tmp/msg\n"
                         "    terminationMessagePolicy: FallbackToLogsOnError\n"
                         "    securityContext:\n"
                         "      runAsUser: 0\n"
                         "      runAsGroup: 10\n"
                         "      runAsNonRoot: false\n"
                         "      privileged: true\n"
                         "      readOnlyRootFilesystem: true\n"
                         "      allowPrivilegeEscalation: true\n"
                         "      capabilities: {add: [NET_ADMIN], drop: [ALL]}\n"
                         "      seccompProfile: {type: Localhost, localhostProfile: p.json}\n"
                         "      procMount: Unmasked\n"
                         "  volumes:\n"
                         "  - name: data\n"
                         "    emptyDir: {}\n");
        const struct spec_container *side = &pod->init_containers[0];
        const struct spec_container *c = &pod->containers[0];

        /* Read, valid, and not honoured: ephemeral-storage (twice),
         * mountPropagation and stdinOnce warn (test_validate has the words). */
        cr_assert_eq(l.d.n_errors, 0, "%s", l.text);
        cr_assert_eq(l.d.n, 4, "%s", l.text);
        cr_assert(side->has_restart_policy);
        cr_assert_eq(side->restart_policy, SPEC_RESTART_ALWAYS);
        cr_assert_eq(side->image_pull_policy, SPEC_PULL_IF_NOT_PRESENT);
        cr_assert_eq(c->image_pull_policy, SPEC_PULL_NEVER);
        cr_assert_str_eq(c->command[1], "-c");
        cr_assert_null(c->command[2]);
        cr_assert_not_null(c->args, "an empty list is given, not absent");
        cr_assert_null(c->args[0]);
        cr_assert_str_eq(c->working_dir, "/srv");

        cr_assert_eq(c->n_env, 6);
        cr_assert_eq(c->env[0].source, SPEC_ENV_VALUE);
        cr_assert_str_eq(c->env[0].value, "x");
        cr_assert_str_eq(c->env[1].value, "");
        cr_assert_eq(c->env[2].source, SPEC_ENV_FIELD_REF);
        cr_assert_str_eq(c->env[2].field_ref.api_version, "v1");
        cr_assert_str_eq(c->env[2].field_ref.field_path, "metadata.name");
        cr_assert_eq(c->env[3].source, SPEC_ENV_RESOURCE_FIELD_REF);
        cr_assert_str_eq(c->env[3].resource_field_ref.resource, "limits.memory");
        cr_assert(c->env[3].resource_field_ref.divisor.set);
        cr_assert_eq(c->env[3].resource_field_ref.divisor.value, 1);
        cr_assert_eq(c->env[4].source, SPEC_ENV_CONFIG_MAP_KEY_REF);
        cr_assert(c->env[4].key_ref.optional);
        cr_assert_str_eq(c->env[4].key_ref.key, "k");
        cr_assert_eq(c->env[5].source, SPEC_ENV_SECRET_KEY_REF);
        cr_assert_str_eq(c->env[5].key_ref.name, "s");

        cr_assert_eq(c->n_env_from, 2);
        cr_assert_not(c->env_from[0].is_secret);
        cr_assert_str_eq(c->env_from[0].prefix, "CM_");
        cr_assert(c->env_from[1].is_secret);
        cr_assert(c->env_from[1].optional);

        cr_assert_str_eq(c->ports[0].name, "dns");
        cr_assert_eq(c->ports[0].host_port, 5353);
        cr_assert_str_eq(c->ports[0].host_ip, "127.0.0.1");
        cr_assert_eq(c->ports[0].protocol, SPEC_PROTOCOL_UDP);

        cr_assert_eq(c->resources.requests.cpu.milli_value, 250);
        cr_assert_eq(c->resources.limits.cpu.milli_value, 1000);
        cr_assert_eq(c->resources.limits.memory.value, 128 << 20);
        /* A limit without a request requests the limit (SetDefaults_Pod). */
        cr_assert(c->resources.requests.memory.set);
        cr_assert_eq(c->resources.requests.memory.value, 128 << 20);
        cr_assert_str_eq(c->resources.requests.ephemeral_storage.text, "1Gi");
        cr_assert_eq(c->resources.limits.memory.pos.line, 37);
        cr_assert_eq(c->resources.limits.memory.pos.column, 34);

        cr_assert_eq(c->n_volume_mounts, 2);
        cr_assert(c->volume_mounts[0].read_only);
        cr_assert_str_eq(c->volume_mounts[0].sub_path, "x");
        cr_assert_eq(c->volume_mounts[0].propagation, SPEC_PROPAGATION_HOST_TO_CONTAINER);
        cr_assert_str_eq(c->volume_mounts[1].sub_path_expr, "$(POD)");
        cr_assert_eq(c->volume_mounts[1].propagation, SPEC_PROPAGATION_NONE);

        cr_assert(c->stdin_open && c->stdin_once && c->tty);
        cr_assert_str_eq(c->termination_message_path, "/tmp/msg");
        cr_assert_eq(c->termination_message_policy,
                     SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR);
        cr_assert(c->security_context.run_as_user.set);
        cr_assert_eq(c->security_context.run_as_user.value, 0);
        cr_assert_eq(c->security_context.run_as_group.value, 10);
        cr_assert(c->security_context.run_as_non_root.set);
        cr_assert_not(c->security_context.run_as_non_root.value);
        cr_assert(c->security_context.privileged);
        cr_assert(c->security_context.read_only_root_filesystem);
        cr_assert(c->security_context.allow_privilege_escalation.set);
        cr_assert(c->security_context.allow_privilege_escalation.value);
        cr_assert_str_eq(c->security_context.capabilities.add[0], "NET_ADMIN");
        cr_assert_str_eq(c->security_context.capabilities.drop[0], "ALL");
        cr_assert_eq(c->security_context.seccomp.type, SPEC_SECCOMP_LOCALHOST);
        cr_assert_str_eq(c->security_context.seccomp.localhost_profile, "p.json");
        cr_assert_eq(c->security_context.proc_mount, SPEC_PROC_MOUNT_UNMASKED);
        cr_assert_eq(spec_pod_find_container(pod, "sidecar"), side);
        cr_assert_eq(spec_pod_find_container(pod, "app"), c);
        cr_assert_null(spec_pod_find_container(pod, "nope"));
        loaded_done(&l);
}

Test(specs_parse, probes_and_lifecycle)
{
        struct loaded l;
        const struct spec_pod *pod =
            load_one(&l, POD_HEAD "spec:\n"
                                  "  containers:\n"
                                  "  - name: app\n"
                                  "    image: busybox\n"
                                  "    livenessProbe:\n"
                                  "      httpGet:\n"
                                  "        port: http\n"
                                  "        host: 127.0.0.1\n"
                                  "        scheme: HTTPS\n"
                                  "        httpHeaders: [{name: X-A, value: b}]\n"
                                  "      periodSeconds: 0\n"
                                  "      terminationGracePeriodSeconds: 7\n"
                                  "    readinessProbe:\n"
                                  "      tcpSocket: {port: 8080}\n"
                                  "      initialDelaySeconds: 3\n"
                                  "      timeoutSeconds: 2\n"
                                  "      successThreshold: 2\n"
                                  "      failureThreshold: 9\n"
                                  "    startupProbe:\n"
                                  "      grpc: {port: 9000, service: health}\n"
                                  "    lifecycle:\n"
                                  "      postStart:\n"
                                  "        exec: {command: [touch, /tmp/up]}\n"
                                  "      preStop:\n"
                                  "        sleep: {seconds: 5}\n");
        const struct spec_container *c = &pod->containers[0];
        const struct spec_probe *lp = &c->liveness_probe, *rp = &c->readiness_probe;

        cr_assert_eq(l.d.n, 0, "%s", l.text);
        cr_assert(lp->set);
        cr_assert_eq(lp->handler.type, SPEC_HANDLER_HTTP_GET);
        cr_assert_str_eq(lp->handler.http_get.path, "/");
        cr_assert(lp->handler.http_get.port.is_string);
        cr_assert_str_eq(lp->handler.http_get.port.string, "http");
        cr_assert_str_eq(lp->handler.http_get.host, "127.0.0.1");
        cr_assert_eq(lp->handler.http_get.scheme, SPEC_SCHEME_HTTPS);
        cr_assert_eq(lp->handler.http_get.n_headers, 1);
        cr_assert_str_eq(lp->handler.http_get.headers[0].name, "X-A");
        cr_assert_eq(lp->period_seconds, 10, "0 means unset, as SetDefaults_Probe");
        cr_assert_eq(lp->timeout_seconds, 1);
        cr_assert_eq(lp->success_threshold, 1);
        cr_assert_eq(lp->failure_threshold, 3);
        cr_assert_eq(lp->initial_delay_seconds, 0);
        cr_assert(lp->has_termination_grace_period_seconds);
        cr_assert_eq(lp->termination_grace_period_seconds, 7);
        cr_assert_eq(lp->pos.line, 9);
        cr_assert_eq(rp->handler.type, SPEC_HANDLER_TCP_SOCKET);
        cr_assert_not(rp->handler.tcp_socket.port.is_string);
        cr_assert_eq(rp->handler.tcp_socket.port.number, 8080);
        cr_assert_eq(rp->initial_delay_seconds, 3);
        cr_assert_eq(rp->timeout_seconds, 2);
        cr_assert_eq(rp->success_threshold, 2);
        cr_assert_eq(rp->failure_threshold, 9);
        cr_assert_not(rp->has_termination_grace_period_seconds);
        cr_assert_eq(c->startup_probe.handler.type, SPEC_HANDLER_GRPC);
        cr_assert_eq(c->startup_probe.handler.grpc.port, 9000);
        cr_assert_str_eq(c->startup_probe.handler.grpc.service, "health");
        cr_assert_eq(c->lifecycle.post_start.type, SPEC_HANDLER_EXEC);
        cr_assert_str_eq(c->lifecycle.post_start.exec_command[1], "/tmp/up");
        cr_assert_eq(c->lifecycle.pre_stop.type, SPEC_HANDLER_SLEEP);
        cr_assert_eq(c->lifecycle.pre_stop.sleep_seconds, 5);
        loaded_done(&l);
}

Test(specs_parse, volumes)
{
        struct loaded l;
        const struct spec_pod *pod = load_one(
            &l, POD_HEAD "spec:\n"
                         "  containers: [{name: app, image: busybox}]\n"
                         "  volumes:\n"
                         "  - name: mem\n"
                         "    emptyDir: {medium: Memory, sizeLimit: 64Mi}\n"
                         "  - name: host\n"
                         "    hostPath: {path: /var/log, type: Directory}\n"
                         "  - name: cm\n"
                         "    configMap:\n"
                         "      name: settings\n"
                         "      optional: true\n"
                         "      defaultMode: 0600\n"
                         "      items: [{key: a, path: a.conf, mode: 0400}, {key: b, path: b}]\n"
                         "  - name: sec\n"
                         "    secret: {secretName: tls}\n"
                         "  - name: down\n"
                         "    downwardAPI:\n"
                         "      items:\n"
                         "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n"
                         "      - path: cpu\n"
                         "        resourceFieldRef: {containerName: app, resource: "
                         "limits.cpu, divisor: 1m}\n"
                         "  - name: proj\n"
                         "    projected:\n"
                         "      defaultMode: 0440\n"
                         "      sources:\n"
                         "      - configMap: {name: c1, items: [{key: k, path: p}]}\n"
                         "      - secret: {name: s1}\n"
                         "      - downwardAPI: {items: [{path: name, fieldRef: {fieldPath: "
                         "metadata.name}}]}\n"
                         "      - serviceAccountToken: {path: token, audience: api}\n"
                         "  - name: plain\n");
        const struct spec_volume *v = pod->volumes;

        cr_assert_eq(l.d.n, 0, "%s", l.text);
        cr_assert_eq(pod->n_volumes, 7);
        cr_assert_eq(v[0].type, SPEC_VOLUME_EMPTY_DIR);
        cr_assert_eq(v[0].empty_dir.medium, SPEC_MEDIUM_MEMORY);
        cr_assert_eq(v[0].empty_dir.size_limit.value, 64 << 20);
        cr_assert_eq(v[1].type, SPEC_VOLUME_HOST_PATH);
        cr_assert_str_eq(v[1].host_path.path, "/var/log");
        cr_assert_eq(v[1].host_path.type, SPEC_HOST_PATH_DIRECTORY);
        cr_assert_eq(v[2].type, SPEC_VOLUME_CONFIG_MAP);
        cr_assert_str_eq(v[2].object.name, "settings");
        cr_assert(v[2].object.optional);
        cr_assert_eq(v[2].default_mode, 0600);
        cr_assert_eq(v[2].object.n_items, 2);
        cr_assert(v[2].object.items[0].has_mode);
        cr_assert_eq(v[2].object.items[0].mode, 0400);
        cr_assert_not(v[2].object.items[1].has_mode);
        cr_assert_eq(v[3].type, SPEC_VOLUME_SECRET);
        cr_assert_str_eq(v[3].object.name, "tls");
        cr_assert_eq(v[3].default_mode, 0644);
        cr_assert_eq(v[4].type, SPEC_VOLUME_DOWNWARD_API);
        cr_assert_eq(v[4].n_downward_items, 2);
        cr_assert_str_eq(v[4].downward_items[0].field_path, "metadata.labels");
        cr_assert_str_eq(v[4].downward_items[1].resource, "limits.cpu");
        cr_assert_eq(v[4].downward_items[1].divisor.milli_value, 1);
        cr_assert_eq(v[5].type, SPEC_VOLUME_PROJECTED);
        cr_assert_eq(v[5].default_mode, 0440);
        cr_assert_eq(v[5].n_projections, 4);
        cr_assert_eq(v[5].projections[0].type, SPEC_PROJECTION_CONFIG_MAP);
        cr_assert_str_eq(v[5].projections[0].object.items[0].path, "p");
        cr_assert_eq(v[5].projections[1].type, SPEC_PROJECTION_SECRET);
        cr_assert_eq(v[5].projections[2].type, SPEC_PROJECTION_DOWNWARD_API);
        cr_assert_eq(v[5].projections[2].n_downward_items, 1);
        cr_assert_eq(v[5].projections[3].type, SPEC_PROJECTION_SERVICE_ACCOUNT_TOKEN);
        cr_assert_eq(v[5].projections[3].service_account_token.expiration_seconds, 3600);
        cr_assert_str_eq(v[5].projections[3].service_account_token.audience, "api");
        /* No source at all is an emptyDir (SetDefaults_Volume). */
        cr_assert_eq(v[6].type, SPEC_VOLUME_EMPTY_DIR);
        cr_assert_eq(v[6].empty_dir.medium, SPEC_MEDIUM_DEFAULT);
        cr_assert_eq(v[6].pos.line, 34);
        loaded_done(&l);
}

Test(specs_parse, host_network_defaults_host_ports)
{
        struct loaded l;
        const struct spec_pod *pod = load_one(&l, POD_HEAD "spec:\n"
                                                           "  hostNetwork: true\n"
                                                           "  containers:\n"
                                                           "  - name: app\n"
                                                           "    image: busybox\n"
                                                           "    ports: [{containerPort: 8080}]\n");

        cr_assert_eq(pod->containers[0].ports[0].host_port, 8080);
        loaded_done(&l);
}

Test(specs_parse, multi_document_files)
{
        struct loaded l;

        load(&l, "---\n# nothing here\n---\n" POD_HEAD
                 "spec:\n  containers: [{name: a, image: busybox}]\n"
                 "---\n"
                 "apiVersion: v1\nkind: Pod\nmetadata: {name: second}\n"
                 "spec:\n  containers: [{name: b, image: busybox}]\n"
                 "...\n");
        cr_assert_eq(l.r, 0, "%s", l.text);
        cr_assert_eq(l.f->n_pods, 2);
        cr_assert_str_eq(l.f->pods[0].name, "web");
        cr_assert_str_eq(l.f->pods[1].name, "second");
        cr_assert_eq(l.f->pods[1].pos.line, 11);
        loaded_done(&l);

        load(&l, "---\n# only comments\n---\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert(l.err.usage);
        cr_assert_str_eq(l.text, "p.yaml:1:1: error: no Pod in the manifest\n");
        cr_assert_str_eq(l.err.msg, "manifest 'p.yaml': 1 error");
        cr_assert_null(l.f);
        loaded_done(&l);
}

Test(specs_parse, warnings_for_fields_one_host_cannot_honour)
{
        struct loaded l;

        load(&l, "apiVersion: v1\n"
                 "kind: Pod\n"
                 "metadata:\n"
                 "  name: web\n"
                 "  uid: 1234\n"
                 "  ownerReferences: []\n"
                 "spec:\n"
                 "  nodeSelector: {disk: ssd}\n"
                 "  serviceAccountName: builder\n"
                 "  tolerations:\n"
                 "  - operator: Exists\n"
                 "  priorityClassName: high\n"
                 "  containers:\n"
                 "  - name: app\n"
                 "    image: busybox\n"
                 "    securityContext:\n"
                 "      seLinuxOptions: {level: s0}\n"
                 "    resources:\n"
                 "      limits: {nvidia.com/gpu: 1}\n"
                 "    volumeMounts:\n"
                 "    - {name: v, mountPath: /v, readOnly: true, recursiveReadOnly: Disabled}\n"
                 "  volumes:\n"
                 "  - {name: v, emptyDir: {}}\n"
                 "status:\n"
                 "  phase: Running\n");
        cr_assert_eq(l.r, 0, "%s", l.text);
        cr_assert_eq(l.d.n_errors, 0);
        cr_assert_str_eq(
            l.text,
            "p.yaml:5:8: warning: metadata.uid: ignored: set by the API server, not by "
            "manifests\n"
            "p.yaml:6:3: warning: metadata.ownerReferences: ignored: podrun has no garbage "
            "collector\n"
            "p.yaml:8:3: warning: spec.nodeSelector: ignored: podrun runs every pod on this "
            "host\n"
            "p.yaml:9:23: warning: spec.serviceAccountName: ignored: podrun has no service "
            "accounts\n"
            "p.yaml:10:3: warning: spec.tolerations: ignored: podrun runs every pod on this "
            "host\n"
            "p.yaml:12:22: warning: spec.priorityClassName: ignored: podrun runs every pod "
            "on this host\n"
            "p.yaml:17:7: warning: spec.containers[0].securityContext.seLinuxOptions: "
            "ignored: podrun does not apply SELinux labels\n"
            "p.yaml:19:16: warning: spec.containers[0].resources.limits.nvidia.com/gpu: "
            "ignored: podrun enforces cpu and memory only (and ignores ephemeral-storage)\n"
            "p.yaml:21:67: warning: spec.containers[0].volumeMounts[0].recursiveReadOnly: "
            "ignored: podrun makes every read-only mount recursively read-only\n"
            "p.yaml:24:1: warning: status: ignored: podrun reports the status itself\n");
        loaded_done(&l);
}

Test(specs_parse, unknown_fields_suggest_the_closest_name)
{
        struct loaded l;

        load(&l, POD_HEAD "spec:\n"
                          "  contianers:\n"
                          "  - name: a\n"
                          "  containers:\n"
                          "  - name: app\n"
                          "    image: busybox\n"
                          "    comand: [sh]\n"
                          "    ImagePullPolicy: Always\n"
                          "    colour: blue\n"
                          "    hostNetwork: true\n"
                          "    livenessProbe:\n"
                          "      exec: {command: [x]}\n"
                          "      periodSecond: 3\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert_str_eq(l.err.msg, "manifest 'p.yaml': 6 errors");
        cr_assert_str_eq(
            l.text,
            "p.yaml:6:3: error: spec.contianers: unknown field, did you mean \"containers\"?\n"
            "p.yaml:11:5: error: spec.containers[0].comand: unknown field, did you mean "
            "\"command\"?\n"
            "p.yaml:12:5: error: spec.containers[0].ImagePullPolicy: unknown field, did you "
            "mean \"imagePullPolicy\"?\n"
            "p.yaml:13:5: error: spec.containers[0].colour: unknown field\n"
            "p.yaml:14:5: error: spec.containers[0].hostNetwork: unknown field; "
            "\"hostNetwork\" is a field of spec, check the indentation\n"
            "p.yaml:17:7: error: spec.containers[0].livenessProbe.periodSecond: unknown "
            "field, did you mean \"periodSeconds\"?\n");
        loaded_done(&l);
}

Test(specs_parse, wrong_types_say_what_was_expected)
{
        struct loaded l;

        load(&l, POD_HEAD "spec:\n"
                          "  hostNetwork: \"true\"\n"
                          "  terminationGracePeriodSeconds: 1.5\n"
                          "  volumes: {name: x}\n"
                          "  containers:\n"
                          "  - name: app\n"
                          "    image: 1.25\n"
                          "    command: sh -c\n"
                          "    args: [1, on]\n"
                          "    ports:\n"
                          "    - containerPort: \"80\"\n"
                          "    - containerPort: 99999999999\n"
                          "    env:\n"
                          "    - name: DEBUG\n"
                          "      value: yes\n"
                          "    resources:\n"
                          "      limits: {memory: true}\n"
                          "  - just a string\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert_str_eq(
            l.text,
            "p.yaml:6:16: error: spec.hostNetwork: expected a boolean, got a string: "
            "\"true\"\n"
            "p.yaml:7:34: error: spec.terminationGracePeriodSeconds: expected an integer, "
            "got a number: 1.5\n"
            "p.yaml:8:12: error: spec.volumes: expected a list, got an object\n"
            "p.yaml:11:12: error: spec.containers[0].image: expected a string, got a number: "
            "1.25 (quote it to make it a string)\n"
            "p.yaml:12:14: error: spec.containers[0].command: expected a list, got a "
            "string: \"sh -c\"\n"
            "p.yaml:13:12: error: spec.containers[0].args[0]: expected a string, got an "
            "integer: 1 (quote it to make it a string)\n"
            "p.yaml:13:15: error: spec.containers[0].args[1]: expected a string, got a "
            "boolean: on (quote it to make it a string)\n"
            "p.yaml:15:22: error: spec.containers[0].ports[0].containerPort: expected an "
            "integer, got a string: \"80\"\n"
            "p.yaml:16:22: error: spec.containers[0].ports[1].containerPort: value "
            "99999999999 is out of range [-2147483648, 2147483647]\n"
            "p.yaml:19:14: error: spec.containers[0].env[0].value: expected a string, got a "
            "boolean: yes (quote it to make it a string)\n"
            "p.yaml:21:24: error: spec.containers[0].resources.limits.memory: expected a "
            "quantity (a string or a number), got a boolean: true\n"
            "p.yaml:22:5: error: spec.containers[1]: expected an object, got a string: "
            "\"just a string\"\n");
        loaded_done(&l);
}

Test(specs_parse, values_the_struct_cannot_hold_are_reported_here)
{
        struct loaded l;

        load(&l, POD_HEAD "spec:\n"
                          "  restartPolicy: Sometimes\n"
                          "  containers:\n"
                          "  - name: app\n"
                          "    image: busybox\n"
                          "    readinessProbe:\n"
                          "      exec: {command: [x]}\n"
                          "      tcpSocket: {port: 1}\n"
                          "    env:\n"
                          "    - name: A\n"
                          "      valueFrom:\n"
                          "        fieldRef: {fieldPath: metadata.name}\n"
                          "        secretKeyRef: {name: s, key: k}\n"
                          "    - name: B\n"
                          "      value: x\n"
                          "      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n"
                          "    resources:\n"
                          "      requests: {cpu: 1.5.5}\n"
                          "  volumes:\n"
                          "  - name: v\n"
                          "    emptyDir: {}\n"
                          "    nfs: {server: x, path: /}\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert_str_eq(
            l.text,
            "p.yaml:6:18: error: spec.restartPolicy: Unsupported value: \"Sometimes\": "
            "supported values: \"Always\", \"Never\", \"OnFailure\"\n"
            "p.yaml:12:7: error: spec.containers[0].readinessProbe.tcpSocket: Forbidden: may "
            "not specify more than 1 handler type\n"
            "p.yaml:17:9: error: spec.containers[0].env[0].valueFrom.secretKeyRef: Invalid "
            "value: \"\": may not have more than one field specified at a time\n"
            "p.yaml:20:7: error: spec.containers[0].env[1].valueFrom: Invalid value: \"\": "
            "may not be specified when `value` is not empty\n"
            "p.yaml:22:23: error: spec.containers[0].resources.requests.cpu: Invalid value: "
            "\"1.5.5\": quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n"
            "p.yaml:26:5: error: spec.volumes[0].nfs: Forbidden: may not specify more than 1 "
            "volume type\n"
            "p.yaml:26:5: error: spec.volumes[0].nfs: not supported: podrun provides "
            "emptyDir, hostPath, configMap, secret, downwardAPI and projected volumes only\n");
        loaded_done(&l);
}

Test(specs_parse, only_v1_pods)
{
        struct loaded l;

        load(&l,
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 3\n"
             "---\n"
             "metadata: {name: y}\n"
             "---\n"
             "- a list\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert_str_eq(l.text,
                         "p.yaml:1:13: error: apiVersion: Unsupported value: \"apps/v1\": podrun "
                         "runs core v1 objects only\n"
                         "p.yaml:2:7: error: kind: Unsupported value: \"Deployment\": podrun runs "
                         "Pods only\n"
                         "p.yaml:7:1: error: apiVersion: Required value: must be \"v1\"\n"
                         "p.yaml:7:1: error: kind: Required value: must be \"Pod\"\n"
                         "p.yaml:9:1: error: expected a Pod object, got a list\n");
        cr_assert_str_eq(l.err.msg, "manifest 'p.yaml': 5 errors");
        loaded_done(&l);
}

Test(specs_parse, validation_runs_on_converted_pods)
{
        struct loaded l;

        load(&l, "apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\n"
                 "spec:\n  containers: [{name: a, image: busybox}]\n");
        cr_assert_eq(l.r, -EINVAL);
        cr_assert_gt(l.d.n_errors, 0);
        cr_assert(strstr(l.text, "p.yaml:3:18: error: metadata.name: Invalid value: \"Web_1\""),
                  "%s", l.text);
        loaded_done(&l);
}

Test(specs_parse, field_positions_fall_back_to_the_nearest_parent)
{
        struct loaded l;
        const struct spec_pod *pod = load_one(&l, POD_HEAD "spec:\n"
                                                           "  containers:\n"
                                                           "  - name: app\n"
                                                           "    image: busybox\n"
                                                           "    resources:\n"
                                                           "      limits:\n"
                                                           "        memory: 1Gi\n");
        struct spec_pos p;

        p = spec_pod_field_pos(pod, "spec.containers[0].resources.limits.memory");
        cr_assert_eq(p.line, 11);
        cr_assert_eq(p.column, 17);
        p = spec_pod_field_pos(pod, "spec.containers[0].resources.limits");
        cr_assert_eq(p.line, 10);
        cr_assert_eq(p.column, 7);
        p = spec_pod_field_pos(pod, "spec.containers[0].resources.requests.cpu");
        cr_assert_eq(p.line, 9);
        p = spec_pod_field_pos(pod, "spec.containers[0].ports[3].containerPort");
        cr_assert_eq(p.line, 7);
        cr_assert_eq(p.column, 5);
        p = spec_pod_field_pos(pod, "spec.volumes[0]");
        cr_assert_eq(p.line, 5);
        p = spec_pod_field_pos(pod, "nothing");
        cr_assert_eq(p.line, 1);
        cr_assert_eq(p.column, 1);
        for (size_t i = 1; i < pod->n_field_pos; i++)
                cr_assert_lt(strcmp(pod->field_pos[i - 1].path, pod->field_pos[i].path), 0);
        loaded_done(&l);
}

Test(specs_parse, diagnostics_format)
{
        struct spec_diags d = {0};
        _cleanup_free_ char *a = NULL, *b = NULL;

        spec_diags_add(&d, SPEC_ERROR, "x.yaml", (struct spec_pos){3, 7}, "spec.hostname", "bad %s",
                       "name");
        spec_diags_add(&d, SPEC_WARNING, "x.yaml", (struct spec_pos){1, 1}, NULL, "whole file");
        cr_assert_eq(d.n, 2);
        cr_assert_eq(d.n_errors, 1);
        a = spec_diag_format(&d.items[0]);
        b = spec_diag_format(&d.items[1]);
        cr_assert_str_eq(a, "x.yaml:3:7: error: spec.hostname: bad name");
        cr_assert_str_eq(b, "x.yaml:1:1: warning: whole file");
        spec_diags_done(&d);
        cr_assert_eq(d.n, 0);
        cr_assert_null(d.items);
}

Test(specs_parse, load_file_errors)
{
        _cleanup_free_ char *path = pr_strdup("/tmp/podrun-specs-XXXXXX");
        struct spec_diags d = {0};
        struct spec_file *f = NULL;
        struct pr_error err = {0};
        int fd;

        cr_assert_eq(spec_load_file("/nonexistent/p.yaml", &f, &d, &err), -ENOENT);
        cr_assert_not(err.usage);
        cr_assert_eq(d.n, 0);

        fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        cr_assert_eq(ftruncate(fd, SPEC_MAX_DOCUMENT_BYTES + 1), 0);
        (void)close(fd);
        cr_assert_eq(spec_load_file(path, &f, &d, &err), -EINVAL);
        (void)unlink(path);
        cr_assert(err.usage);
        cr_assert_eq(d.n_errors, 1);
        cr_assert_null(f);
        spec_diags_done(&d);
}

#define ROUND_TRIP(name, max)                                                                      \
        do {                                                                                       \
                for (int v = 0; v < (int)(max); v++) {                                             \
                        const char *s = name##_to_string(v);                                       \
                        cr_assert_not_null(s, #name " %d", v);                                     \
                        cr_assert_eq((int)name##_from_string(s), v, #name " %s", s);               \
                }                                                                                  \
                cr_assert_null(name##_to_string(max));                                             \
                cr_assert_null(name##_to_string(-1));                                              \
                cr_assert_eq((int)name##_from_string("no such value"), -EINVAL);                   \
                cr_assert_eq((int)name##_from_string(NULL), -EINVAL);                              \
        } while (0)

Test(specs_parse, enum_string_tables_round_trip)
{
        ROUND_TRIP(spec_restart_policy, _SPEC_RESTART_POLICY_MAX);
        ROUND_TRIP(spec_pull_policy, _SPEC_PULL_POLICY_MAX);
        ROUND_TRIP(spec_dns_policy, _SPEC_DNS_POLICY_MAX);
        ROUND_TRIP(spec_protocol, _SPEC_PROTOCOL_MAX);
        ROUND_TRIP(spec_handler_type, _SPEC_HANDLER_TYPE_MAX);
        ROUND_TRIP(spec_uri_scheme, _SPEC_URI_SCHEME_MAX);
        ROUND_TRIP(spec_termination_message_policy, _SPEC_TERMINATION_MESSAGE_POLICY_MAX);
        ROUND_TRIP(spec_mount_propagation, _SPEC_MOUNT_PROPAGATION_MAX);
        ROUND_TRIP(spec_seccomp_type, _SPEC_SECCOMP_TYPE_MAX);
        ROUND_TRIP(spec_proc_mount, _SPEC_PROC_MOUNT_MAX);
        ROUND_TRIP(spec_volume_type, _SPEC_VOLUME_TYPE_MAX);
        ROUND_TRIP(spec_storage_medium, _SPEC_STORAGE_MEDIUM_MAX);
        ROUND_TRIP(spec_host_path_type, _SPEC_HOST_PATH_TYPE_MAX);
        ROUND_TRIP(spec_env_source, _SPEC_ENV_SOURCE_MAX);
        ROUND_TRIP(spec_projection_type, _SPEC_PROJECTION_TYPE_MAX);
        /* The exact Kubernetes spellings. */
        cr_assert_str_eq(spec_restart_policy_to_string(SPEC_RESTART_ON_FAILURE), "OnFailure");
        cr_assert_str_eq(spec_pull_policy_to_string(SPEC_PULL_IF_NOT_PRESENT), "IfNotPresent");
        cr_assert_str_eq(spec_dns_policy_to_string(SPEC_DNS_CLUSTER_FIRST_WITH_HOST_NET),
                         "ClusterFirstWithHostNet");
        cr_assert_str_eq(spec_termination_message_policy_to_string(
                             SPEC_TERMINATION_MESSAGE_FALLBACK_TO_LOGS_ON_ERROR),
                         "FallbackToLogsOnError");
        cr_assert_str_eq(spec_mount_propagation_to_string(SPEC_PROPAGATION_BIDIRECTIONAL),
                         "Bidirectional");
        cr_assert_str_eq(spec_seccomp_type_to_string(SPEC_SECCOMP_RUNTIME_DEFAULT),
                         "RuntimeDefault");
        cr_assert_str_eq(spec_host_path_type_to_string(SPEC_HOST_PATH_CHAR_DEVICE), "CharDevice");
        cr_assert_str_eq(spec_storage_medium_to_string(SPEC_MEDIUM_HUGE_PAGES), "HugePages");
        cr_assert_str_eq(spec_volume_type_to_string(SPEC_VOLUME_DOWNWARD_API), "downwardAPI");
        cr_assert_str_eq(spec_protocol_to_string(SPEC_PROTOCOL_SCTP), "SCTP");
}

/* Every NAME.yaml of tests/data/bad must produce exactly the lines of
 * NAME.err, with the file named relative to the source tree. */
Test(specs_parse, bad_manifest_corpus)
{
        const char *src = getenv("PODRUN_SOURCE_DIR");
        _cleanup_strv_free_ char **names = NULL;
        size_t checked = 0;
        DIR *dir;
        struct dirent *de;

        cr_assert_not_null(src, "PODRUN_SOURCE_DIR is not set");
        cr_assert_eq(chdir(src), 0);
        dir = opendir("tests/data/bad");
        cr_assert_not_null(dir);
        while ((de = readdir(dir)))
                if (pr_endswith(de->d_name, ".yaml"))
                        pr_strv_push(&names, de->d_name);
        (void)closedir(dir);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *yaml = pr_asprintf("tests/data/bad/%s", names[i]);
                _cleanup_free_ char *errpath =
                    pr_asprintf("%.*s.err", (int)(strlen(yaml) - 5), yaml);
                _cleanup_free_ char *want = NULL, *got = pr_strdup("");
                struct spec_diags d = {0};
                struct spec_file *f = NULL;
                struct pr_error err = {0};
                int r;

                cr_assert_eq(pr_read_file(errpath, 1 << 20, &want, NULL, &err), 0, "%s", err.msg);
                r = spec_load_file(yaml, &f, &d, &err);
                for (size_t j = 0; j < d.n; j++) {
                        _cleanup_free_ char *line = spec_diag_format(&d.items[j]);
                        char *next = pr_asprintf("%s%s\n", got, line);
                        free(got);
                        got = next;
                }
                cr_expect_str_eq(got, want, "%s: diagnostics differ:\n--- got\n%s--- want\n%s",
                                 yaml, got, want);
                cr_expect_eq(r, -EINVAL, "%s: a bad manifest must fail", yaml);
                cr_expect(err.usage, "%s", yaml);
                spec_file_free(f);
                spec_diags_done(&d);
                checked++;
        }
        cr_assert_geq(checked, 10, "only %zu bad manifests found", checked);
}

/* Every sample must load without an error. */
Test(specs_parse, samples_load_clean)
{
        const char *src = getenv("PODRUN_SOURCE_DIR");
        DIR *dir;
        struct dirent *de;

        cr_assert_not_null(src);
        cr_assert_eq(chdir(src), 0);
        dir = opendir("samples");
        if (!dir)
                cr_skip_test("no samples directory");
        while ((de = readdir(dir))) {
                _cleanup_free_ char *path = NULL;
                struct spec_diags d = {0};
                struct spec_file *f = NULL;
                struct pr_error err = {0};

                if (!pr_endswith(de->d_name, ".yaml"))
                        continue;
                path = pr_asprintf("samples/%s", de->d_name);
                cr_expect_eq(spec_load_file(path, &f, &d, &err), 0, "%s: %s", path, err.msg);
                spec_file_free(f);
                spec_diags_done(&d);
        }
        (void)closedir(dir);
}

/* Growing arrays one element at a time made this quadratic (minutes under
 * ASan); it must stay linear up to the node limit. */
Test(specs_parse, long_lists_parse_in_linear_time, .timeout = 30)
{
        size_t n = SPEC_MAX_NODES - 1000, len = 0;
        _cleanup_free_ char *yaml = pr_malloc(n * 16 + 256);
        struct loaded l;
        const struct spec_pod *pod;

        len += (size_t)sprintf(yaml, POD_HEAD "spec:\n  containers:\n  - name: app\n"
                                              "    image: busybox\n    args:\n");
        for (size_t i = 0; i < n; i++)
                len += (size_t)sprintf(yaml + len, "    - a%zu\n", i);
        pod = load_one(&l, yaml);
        cr_assert_eq(pr_strv_len(pod->containers[0].args), n);
        cr_assert_str_eq(pod->containers[0].args[n - 1], "a198999");
        cr_assert_geq(pod->n_field_pos, n);
        loaded_done(&l);
}

/* Every field Kubernetes knows but one host cannot honour: read past, with
 * exactly one warning naming it, and the pod still loads. */
Test(specs_parse, every_unhonoured_field_warns_once)
{
        /* clang-format off */
        static const char *const spec_fields[] = {
                "nodeSelector: {disk: ssd}", "nodeName: n1", "affinity: {}",
                "tolerations: [{operator: Exists}]", "priorityClassName: high", "priority: 10",
                "preemptionPolicy: Never", "serviceAccountName: sa", "serviceAccount: sa",
                "automountServiceAccountToken: false", "imagePullSecrets: [{name: r}]",
                "schedulerName: s", "topologySpreadConstraints: []", "readinessGates: []",
                "runtimeClassName: kata", "overhead: {cpu: 1}", "os: {name: linux}",
                "schedulingGates: [{name: g}]", "resourceClaims: []", "setHostnameAsFQDN: true",
                "hostnameOverride: h", "ephemeralContainers: []", "resources: {}",
        };
        static const char *const metadata_fields[] = {
                "generateName: web-", "ownerReferences: []", "finalizers: [x]", "uid: u",
                "resourceVersion: \"1\"", "creationTimestamp: null", "generation: 1",
                "creationTimestamp: \"2024-01-01T00:00:00Z\"", "managedFields: []", "selfLink: /x",
                "deletionTimestamp: \"2024-01-01T00:00:00Z\"", "deletionGracePeriodSeconds: 1",
        };
        /* clang-format on */

        for (size_t i = 0; i < PR_ELEMENTSOF(spec_fields) + PR_ELEMENTSOF(metadata_fields); i++) {
                bool in_spec = i < PR_ELEMENTSOF(spec_fields);
                const char *field =
                    in_spec ? spec_fields[i] : metadata_fields[i - PR_ELEMENTSOF(spec_fields)];
                _cleanup_free_ char *name = pr_strndup(field, strcspn(field, ":"));
                _cleanup_free_ char *path =
                    pr_asprintf("%s.%s", in_spec ? "spec" : "metadata", name);
                _cleanup_free_ char *y = pr_asprintf(
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n%s%s\nspec:\n%s%s\n"
                    "  containers: [{name: a, image: busybox}]\n",
                    in_spec ? "" : "  ", in_spec ? "" : field, in_spec ? "  " : "",
                    in_spec ? field : "");
                struct loaded l;

                load(&l, y);
                /* creationTimestamp: null is absent, as in JSON. */
                if (strstr(field, ": null")) {
                        cr_assert_eq(l.d.n, 0, "%s: %s", field, l.text);
                        loaded_done(&l);
                        continue;
                }
                cr_assert_eq(l.r, 0, "%s: %s", field, l.text);
                cr_assert_eq(l.d.n, 1, "%s: %s", field, l.text);
                cr_assert_eq(l.d.items[0].severity, SPEC_WARNING);
                cr_assert_str_eq(l.d.items[0].field, path);
                cr_assert(pr_startswith(l.d.items[0].message, "ignored: "), "%s",
                          l.d.items[0].message);
                loaded_done(&l);
        }
}
