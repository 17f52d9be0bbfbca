/* podrun validate: parse and check manifests, print every finding, or a
 * summary of each pod in the manner of `kubectl describe`. Changes nothing
 * on the host and never needs root: it only reads the files it is given. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "specs/specs.h"

PR_DEFINE_FREE_FUNC(struct spec_file, spec_file_free)

/* Shell-style quoting, so a printed command can be pasted back. */
static void print_word(FILE *out, const char *w)
{
        bool plain = *w != '\0';

        for (const char *p = w; *p && plain; p++)
                plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "-_./:=,+@%",
                               *p) != NULL;
        if (plain) {
                fputs(w, out);
                return;
        }
        fputc('\'', out);
        for (const char *p = w; *p; p++)
                if (*p == '\'')
                        fputs("'\\''", out);
                else
                        fputc(*p, out);
        fputc('\'', out);
}

static void print_argv(FILE *out, char *const *v)
{
        for (size_t i = 0; v && v[i]; i++) {
                if (i > 0)
                        fputc(' ', out);
                print_word(out, v[i]);
        }
}

static void print_port_ref(FILE *out, const struct spec_int_or_string *p)
{
        if (p->is_string)
                fputs(p->string ? p->string : "", out);
        else
                fprintf(out, "%d", p->number);
}

/* kubectl describe's probe line: "http-get http://:8080/ delay=0s ...". */
static void print_handler(FILE *out, const struct spec_handler *h)
{
        switch (h->type) {
        case SPEC_HANDLER_EXEC:
                fputs("exec [", out);
                print_argv(out, h->exec_command);
                fputc(']', out);
                break;
        case SPEC_HANDLER_HTTP_GET:
                fprintf(out, "http-get %s://%s:",
                        h->http_get.scheme == SPEC_SCHEME_HTTPS ? "https" : "http",
                        h->http_get.host ? h->http_get.host : "");
                print_port_ref(out, &h->http_get.port);
                fputs(h->http_get.path ? h->http_get.path : "/", out);
                break;
        case SPEC_HANDLER_TCP_SOCKET:
                fprintf(out, "tcp-socket %s:", h->tcp_socket.host ? h->tcp_socket.host : "");
                print_port_ref(out, &h->tcp_socket.port);
                break;
        case SPEC_HANDLER_GRPC:
                fprintf(out, "grpc <pod>:%d %s", h->grpc.port,
                        h->grpc.service ? h->grpc.service : "<service>");
                break;
        case SPEC_HANDLER_SLEEP:
                fprintf(out, "sleep %llds", (long long)h->sleep_seconds);
                break;
        default:
                fputs("<none>", out);
                break;
        }
}

static void print_probe(FILE *out, const char *label, const struct spec_probe *p)
{
        if (!p->set)
                return;
        fprintf(out, "    %-12s", label);
        print_handler(out, &p->handler);
        fprintf(out, " delay=%ds timeout=%ds period=%ds #success=%d #failure=%d\n",
                p->initial_delay_seconds, p->timeout_seconds, p->period_seconds,
                p->success_threshold, p->failure_threshold);
}

static void print_hook(FILE *out, const char *label, const struct spec_handler *h)
{
        if (h->type == SPEC_HANDLER_NONE)
                return;
        fprintf(out, "    %-12s", label);
        print_handler(out, h);
        fputc('\n', out);
}

/* "cpu 100m, memory 64Mi", or nothing when the list is empty. */
static void print_resource_list(FILE *out, const struct spec_resource_list *l)
{
        const struct {
                const char *name;
                const struct spec_quantity *q;
        } items[] = {
            {"cpu", &l->cpu},
            {"memory", &l->memory},
            {"ephemeral-storage", &l->ephemeral_storage},
        };
        bool first = true;

        for (size_t i = 0; i < PR_ELEMENTSOF(items); i++) {
                _cleanup_free_ char *s = NULL;

                if (!items[i].q->set)
                        continue;
                s = spec_quantity_format(items[i].q);
                fprintf(out, "%s%s %s", first ? "" : ", ", items[i].name, s);
                first = false;
        }
}

static bool resource_list_empty(const struct spec_resource_list *l)
{
        return !l->cpu.set && !l->memory.set && !l->ephemeral_storage.set;
}

static void print_resources(FILE *out, const struct spec_resources *r)
{
        if (!resource_list_empty(&r->requests)) {
                fprintf(out, "    %-12s", "Requests:");
                print_resource_list(out, &r->requests);
                fputc('\n', out);
        }
        if (!resource_list_empty(&r->limits)) {
                fprintf(out, "    %-12s", "Limits:");
                print_resource_list(out, &r->limits);
                fputc('\n', out);
        }
}

static void print_ports(FILE *out, const struct spec_container *c)
{
        if (c->n_ports == 0)
                return;
        fprintf(out, "    %-12s", "Ports:");
        for (size_t i = 0; i < c->n_ports; i++) {
                const struct spec_port *p = &c->ports[i];
                const char *proto = spec_protocol_to_string(p->protocol);

                fprintf(out, "%s%d/%s", i > 0 ? ", " : "", p->container_port, proto ? proto : "?");
                if (p->name && *p->name)
                        fprintf(out, " (%s)", p->name);
                if (p->host_port)
                        fprintf(out, " host %s%s%d", p->host_ip ? p->host_ip : "",
                                p->host_ip ? ":" : "", p->host_port);
        }
        fputc('\n', out);
}

static void print_mounts(FILE *out, const struct spec_container *c)
{
        for (size_t i = 0; i < c->n_volume_mounts; i++) {
                const struct spec_volume_mount *m = &c->volume_mounts[i];

                fprintf(out, "    %-12s%s from %s", i == 0 ? "Mounts:" : "", m->mount_path,
                        m->name);
                if (m->sub_path && *m->sub_path)
                        fprintf(out, " (subPath %s)", m->sub_path);
                fprintf(out, " (%s)\n", m->read_only ? "ro" : "rw");
        }
}

/* Appends ", item" to a line that starts with its label once. */
static void item(FILE *out, bool *first, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void item(FILE *out, bool *first, const char *label, const char *fmt, ...)
{
        va_list ap;

        if (*first)
                fputs(label, out);
        else
                fputs(", ", out);
        *first = false;
        va_start(ap, fmt);
        vfprintf(out, fmt, ap);
        va_end(ap);
}

static void print_seccomp(FILE *out, bool *first, const char *label, const struct spec_seccomp *s)
{
        const char *t = spec_seccomp_type_to_string(s->type);

        if (s->type == SPEC_SECCOMP_UNSET || !t)
                return;
        item(out, first, label, "seccomp %s%s%s", t, s->localhost_profile ? " " : "",
             s->localhost_profile ? s->localhost_profile : "");
}

static void print_caps(FILE *out, bool *first, const char *label, char *const *v, char sign)
{
        for (size_t i = 0; v && v[i]; i++)
                item(out, first, label, "%c%s", sign, v[i]);
}

static void print_container_security(FILE *out, const struct spec_container_security *s)
{
        const char *label = "    Security:   ";
        bool first = true;

        if (s->run_as_user.set)
                item(out, &first, label, "user %lld", (long long)s->run_as_user.value);
        if (s->run_as_group.set)
                item(out, &first, label, "group %lld", (long long)s->run_as_group.value);
        if (s->run_as_non_root.set && s->run_as_non_root.value)
                item(out, &first, label, "non-root");
        if (s->privileged)
                item(out, &first, label, "privileged");
        if (s->read_only_root_filesystem)
                item(out, &first, label, "read-only root");
        if (s->allow_privilege_escalation.set && !s->allow_privilege_escalation.value)
                item(out, &first, label, "no privilege escalation");
        print_caps(out, &first, label, s->capabilities.add, '+');
        print_caps(out, &first, label, s->capabilities.drop, '-');
        print_seccomp(out, &first, label, &s->seccomp);
        if (s->proc_mount == SPEC_PROC_MOUNT_UNMASKED)
                item(out, &first, label, "unmasked /proc");
        if (!first)
                fputc('\n', out);
}

static void print_pod_security(FILE *out, const struct spec_pod *pod)
{
        const struct spec_pod_security *s = &pod->security_context;
        const char *label = "Security:       ";
        bool first = true;

        if (s->run_as_user.set)
                item(out, &first, label, "user %lld", (long long)s->run_as_user.value);
        if (s->run_as_group.set)
                item(out, &first, label, "group %lld", (long long)s->run_as_group.value);
        if (s->run_as_non_root.set && s->run_as_non_root.value)
                item(out, &first, label, "non-root");
        if (s->fs_group.set)
                item(out, &first, label, "fsGroup %lld", (long long)s->fs_group.value);
        print_seccomp(out, &first, label, &s->seccomp);
        for (size_t i = 0; i < s->sysctls.n; i++)
                item(out, &first, label, "%s=%s", s->sysctls.items[i].key,
                     s->sysctls.items[i].value ? s->sysctls.items[i].value : "");
        if (pod->host_pid)
                item(out, &first, label, "host PID");
        if (pod->host_ipc)
                item(out, &first, label, "host IPC");
        if (pod->share_process_namespace)
                item(out, &first, label, "shared PID namespace");
        if (!first)
                fputc('\n', out);
}

static void print_container(FILE *out, const struct spec_container *c)
{
        fprintf(out, "  %s:\n", c->name);
        fprintf(out, "    %-12s%s\n", "Image:", c->image ? c->image : "");
        if (c->command) {
                fprintf(out, "    %-12s", "Command:");
                print_argv(out, c->command);
                fputc('\n', out);
        }
        if (c->args) {
                fprintf(out, "    %-12s", "Args:");
                print_argv(out, c->args);
                fputc('\n', out);
        }
        if (!c->command && !c->args)
                fprintf(out, "    %-12s%s\n", "Command:", "(the image's)");
        print_ports(out, c);
        print_resources(out, &c->resources);
        print_probe(out, "Liveness:", &c->liveness_probe);
        print_probe(out, "Readiness:", &c->readiness_probe);
        print_probe(out, "Startup:", &c->startup_probe);
        print_hook(out, "PostStart:", &c->lifecycle.post_start);
        print_hook(out, "PreStop:", &c->lifecycle.pre_stop);
        print_container_security(out, &c->security_context);
        if (c->n_env > 0)
                fprintf(out, "    %-12s%zu variable%s\n", "Env:", c->n_env,
                        c->n_env == 1 ? "" : "s");
        print_mounts(out, c);
}

static void print_volume(FILE *out, const struct spec_volume *v)
{
        const char *type = spec_volume_type_to_string(v->type);

        fprintf(out, "  %s: %s", v->name, type ? type : "?");
        switch (v->type) {
        case SPEC_VOLUME_EMPTY_DIR:
                if (v->empty_dir.medium != SPEC_MEDIUM_DEFAULT)
                        fprintf(out, ", medium %s",
                                spec_storage_medium_to_string(v->empty_dir.medium));
                if (v->empty_dir.size_limit.set) {
                        _cleanup_free_ char *s = spec_quantity_format(&v->empty_dir.size_limit);

                        fprintf(out, ", sizeLimit %s", s);
                }
                break;
        case SPEC_VOLUME_HOST_PATH:
                fprintf(out, " %s", v->host_path.path ? v->host_path.path : "");
                break;
        case SPEC_VOLUME_CONFIG_MAP:
        case SPEC_VOLUME_SECRET:
                fprintf(out, " %s", v->object.name ? v->object.name : "");
                break;
        default:
                break;
        }
        fputc('\n', out);
}

static size_t count_sidecars(const struct spec_pod *pod)
{
        size_t n = 0;

        for (size_t i = 0; i < pod->n_init_containers; i++)
                n += pod->init_containers[i].has_restart_policy &&
                     pod->init_containers[i].restart_policy == SPEC_RESTART_ALWAYS;
        return n;
}

static void print_pod(FILE *out, const struct spec_pod *pod)
{
        const char *restart = spec_restart_policy_to_string(pod->restart_policy);
        size_t n_sidecars = count_sidecars(pod);

        fprintf(out, "%-16s%s\n", "Name:", pod->name);
        fprintf(out, "%-16s%s\n", "Namespace:", pod->namespace ? pod->namespace : "default");
        fprintf(out, "%-16s%s\n", "Restart Policy:", restart ? restart : "?");
        fprintf(out, "%-16s%llds\n",
                "Grace Period:", (long long)pod->termination_grace_period_seconds);
        if (pod->host_network)
                fprintf(out, "%-16s%s\n", "Network:", "host");
        print_pod_security(out, pod);
        if (pod->n_init_containers > n_sidecars) {
                fputs("Init Containers:\n", out);
                for (size_t i = 0; i < pod->n_init_containers; i++)
                        if (!(pod->init_containers[i].has_restart_policy &&
                              pod->init_containers[i].restart_policy == SPEC_RESTART_ALWAYS))
                                print_container(out, &pod->init_containers[i]);
        }
        if (n_sidecars > 0) {
                fputs("Sidecars:\n", out);
                for (size_t i = 0; i < pod->n_init_containers; i++)
                        if (pod->init_containers[i].has_restart_policy &&
                            pod->init_containers[i].restart_policy == SPEC_RESTART_ALWAYS)
                                print_container(out, &pod->init_containers[i]);
        }
        fputs("Containers:\n", out);
        for (size_t i = 0; i < pod->n_containers; i++)
                print_container(out, &pod->containers[i]);
        if (pod->n_volumes > 0) {
                fputs("Volumes:\n", out);
                for (size_t i = 0; i < pod->n_volumes; i++)
                        print_volume(out, &pod->volumes[i]);
        }
}

static void print_diags(const struct spec_diags *diags)
{
        for (size_t i = 0; i < diags->n; i++) {
                _cleanup_free_ char *line = spec_diag_format(&diags->items[i]);

                fprintf(stderr, "podrun: %s\n", line);
        }
}

/* Loads one manifest: 0 valid, 1 invalid (findings printed), <0 I/O error. */
static int validate_one(const char *path, bool quiet, bool *printed, struct pr_error *err)
{
        _cleanup_(spec_file_freep) struct spec_file *f = NULL;
        struct spec_diags diags = {};
        int r;

        r = spec_load_file(path, &f, &diags, err);
        print_diags(&diags);
        spec_diags_done(&diags);
        if (r == -EINVAL && err->usage) {
                pr_error_clear(err);
                return 1;
        }
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->n_pods && !quiet; i++) {
                if (*printed)
                        fputc('\n', stdout);
                print_pod(stdout, &f->pods[i]);
                *printed = true;
        }
        return 0;
}

int cmd_validate(int argc, char **argv, struct pr_error *err)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"quiet", no_argument, NULL, 'q'},
            {},
        };
        bool quiet = false, printed = false, invalid = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                if (c == 'h') {
                        cli_print_usage("validate",
                                        "  -q, --quiet  print only the findings, no pod summary\n"
                                        "  -h, --help   show this help\n\n"
                                        "Findings go to stderr as 'podrun: FILE:LINE:COL: error: "
                                        "FIELD: MESSAGE'.\nExit status: 0 all valid, 2 any "
                                        "manifest invalid, 1 a file could not be read.\n");
                        return 0;
                }
                if (c == 'q') {
                        quiet = true;
                        continue;
                }
                return cli_usage_error(err, "validate", "unknown option '%s'", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error(err, "validate", "no manifest given");
        for (int i = optind; i < argc; i++) {
                r = validate_one(argv[i], quiet, &printed, err);
                if (r < 0)
                        return r;
                invalid = invalid || r > 0;
        }
        fflush(stdout);
        return invalid ? 2 : 0;
}
