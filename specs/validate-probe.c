/* Probes and lifecycle hooks: exactly one handler each, its port and path,
 * and the probe timings, by the API server's validateProbe, validateHandler
 * and validateLifecycle. Which containers may have them (not plain init
 * containers) is decided here too. It must never run or time a probe:
 * that is the supervisor's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/util.h"
#include "specs/validate-int.h"

static void check_port_num_or_name(struct val_ctx *c, const char *path,
                                   const struct spec_int_or_string *port)
{
        if (port->is_string)
                val_port_name(c, path, port->string ? port->string : "");
        else if (port->number < 1 || port->number > 65535)
                val_invalid_int(c, path, port->number, "must be between 1 and 65535, inclusive");
}

static bool is_header_name(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

static void check_action(struct val_ctx *c, const char *base, const struct spec_handler *h)
{
        const char *name = spec_handler_type_to_string(h->type);
        _cleanup_free_ char *ap = val_path("%s.%s", base, name ? name : "");
        _cleanup_free_ char *p = NULL;

        switch (h->type) {
        case SPEC_HANDLER_EXEC:
                p = val_path("%s.command", ap);
                if (pr_strv_len(h->exec_command) == 0)
                        val_required(c, p, NULL);
                break;
        case SPEC_HANDLER_HTTP_GET:
                p = val_path("%s.path", ap);
                if (!h->http_get.path || !*h->http_get.path)
                        val_required(c, p, NULL);
                free(p);
                p = val_path("%s.port", ap);
                check_port_num_or_name(c, p, &h->http_get.port);
                free(p);
                p = val_path("%s.httpHeaders", ap);
                for (size_t i = 0; i < h->http_get.n_headers; i++) {
                        const char *hn =
                            h->http_get.headers[i].name ? h->http_get.headers[i].name : "";

                        if (!is_header_name(hn))
                                val_invalid(c, p, hn,
                                            "a valid HTTP header must consist of alphanumeric "
                                            "characters or '-' (e.g. 'X-Header-Name', regex used "
                                            "for validation is '[-A-Za-z0-9]+')");
                }
                break;
        case SPEC_HANDLER_TCP_SOCKET:
                p = val_path("%s.port", ap);
                check_port_num_or_name(c, p, &h->tcp_socket.port);
                break;
        case SPEC_HANDLER_GRPC:
                p = val_path("%s.port", ap);
                if (h->grpc.port < 1 || h->grpc.port > 65535)
                        val_invalid_int(c, p, h->grpc.port,
                                        "must be between 1 and 65535, inclusive");
                break;
        case SPEC_HANDLER_SLEEP: {
                int64_t grace = c->pod->termination_grace_period_seconds;

                if (h->sleep_seconds < 0 || h->sleep_seconds > grace) {
                        _cleanup_free_ char *detail = pr_asprintf(
                            "must be non-negative and less than terminationGracePeriodSeconds "
                            "(%lld)",
                            (long long)grace);

                        val_invalid_int(c, ap, h->sleep_seconds, detail);
                }
                break;
        }
        default:
                break;
        }
}

/* validateHandler: the first handler written is checked, every further one
 * is Forbidden, none at all is Required. */
static void check_handler(struct val_ctx *c, const char *base, const struct spec_handler *h)
{
        unsigned given = h->given ? h->given : h->type != SPEC_HANDLER_NONE ? 1u << h->type : 0;
        bool first = true;

        for (int t = SPEC_HANDLER_EXEC; t < _SPEC_HANDLER_TYPE_MAX; t++) {
                _cleanup_free_ char *p = NULL;

                if (!(given & (1u << t)))
                        continue;
                if (first) {
                        first = false;
                        continue;
                }
                p = val_path("%s.%s", base, spec_handler_type_to_string(t));
                val_forbidden(c, p, "may not specify more than 1 handler type");
        }
        if (given == 0)
                val_required(c, base, "must specify a handler type");
        else
                check_action(c, base, h);
}

static void check_nonnegative(struct val_ctx *c, const char *base, const char *name, int64_t v)
{
        _cleanup_free_ char *p = NULL;

        if (v >= 0)
                return;
        p = val_path("%s.%s", base, name);
        val_invalid_int(c, p, v, "must be greater than or equal to 0");
}

enum probe_kind {
        PROBE_LIVENESS,
        PROBE_READINESS,
        PROBE_STARTUP,
};

static void check_probe(struct val_ctx *c, const char *base, const struct spec_probe *pr,
                        enum probe_kind kind)
{
        _cleanup_free_ char *st = val_path("%s.successThreshold", base);
        _cleanup_free_ char *tg = val_path("%s.terminationGracePeriodSeconds", base);

        check_handler(c, base, &pr->handler);
        check_nonnegative(c, base, "initialDelaySeconds", pr->initial_delay_seconds);
        check_nonnegative(c, base, "timeoutSeconds", pr->timeout_seconds);
        check_nonnegative(c, base, "periodSeconds", pr->period_seconds);
        check_nonnegative(c, base, "successThreshold", pr->success_threshold);
        check_nonnegative(c, base, "failureThreshold", pr->failure_threshold);
        if (pr->has_termination_grace_period_seconds && pr->termination_grace_period_seconds <= 0)
                val_invalid_int(c, tg, pr->termination_grace_period_seconds,
                                "must be greater than 0");
        if (kind != PROBE_READINESS && pr->success_threshold != 1)
                val_invalid_int(c, st, pr->success_threshold, "must be 1");
        if (kind == PROBE_READINESS && pr->has_termination_grace_period_seconds)
                val_invalid_int(c, tg, pr->termination_grace_period_seconds,
                                "must not be set for readinessProbes");
}

static bool hook_set(const struct spec_handler *h)
{
        return h->set || h->type != SPEC_HANDLER_NONE;
}

void val_container_handlers(struct val_ctx *c, const char *base, const struct spec_container *ctr,
                            bool allowed)
{
        static const char *const probe_keys[] = {"livenessProbe", "readinessProbe", "startupProbe"};
        const struct spec_probe *probes[] = {&ctr->liveness_probe, &ctr->readiness_probe,
                                             &ctr->startup_probe};
        const struct spec_lifecycle *l = &ctr->lifecycle;
        _cleanup_free_ char *lp = val_path("%s.lifecycle", base);

        if (!allowed) {
                /* Plain init containers run to completion: nothing to probe. */
                if (hook_set(&l->post_start) || hook_set(&l->pre_stop))
                        val_forbidden(
                            c, lp,
                            "may not be set for init containers without restartPolicy=Always");
                for (size_t i = 0; i < PR_ELEMENTSOF(probes); i++) {
                        _cleanup_free_ char *p = NULL;

                        if (!probes[i]->set)
                                continue;
                        p = val_path("%s.%s", base, probe_keys[i]);
                        val_forbidden(c, p,
                                      i == PROBE_READINESS
                                          ? "may not be set for init containers"
                                          : "may not be set for init containers without "
                                            "restartPolicy=Always");
                }
                return;
        }
        if (hook_set(&l->post_start)) {
                _cleanup_free_ char *p = val_path("%s.postStart", lp);

                check_handler(c, p, &l->post_start);
        }
        if (hook_set(&l->pre_stop)) {
                _cleanup_free_ char *p = val_path("%s.preStop", lp);

                check_handler(c, p, &l->pre_stop);
        }
        for (size_t i = 0; i < PR_ELEMENTSOF(probes); i++) {
                _cleanup_free_ char *p = NULL;

                if (!probes[i]->set)
                        continue;
                p = val_path("%s.%s", base, probe_keys[i]);
                check_probe(c, p, probes[i], (enum probe_kind)i);
        }
}
