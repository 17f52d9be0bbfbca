/* podrun ps: the pods under the run dir as `kubectl get pods` shows them
 * (NAME READY STATUS RESTARTS AGE, plus IP), each container on an indented
 * line below, or the same as JSON. It only reads state files (through
 * sup_read_status, which makes a lost supervisor visible) and never
 * changes anything. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/base/error.h"
#include "pod/base/log.h"
#include "pod/base/util.h"
#include "pod/cli/cli.h"
#include "pod/state.h"
#include "pod/status.h"
#include "pod/supervisor.h"

static const char ps_help[] = "Options:\n"
                              "  -a, --all    include pods that have completed\n"
                              "  --json       print a JSON array instead of a table\n"
                              "  -h, --help   show this help\n";

static bool completed(const struct pod_state *st)
{
        return st->finished || st->phase == STATE_PHASE_SUCCEEDED ||
               st->phase == STATE_PHASE_FAILED;
}

static void print_container(const struct state_container *c)
{
        _cleanup_free_ char *word = status_container_word(c);

        printf("  %s%-20s %-40s restarts %u\n", c->init ? (c->sidecar ? "+" : "*") : " ", c->name,
               word, c->restart_count);
        if (c->cur.message && *c->cur.message)
                printf("      %s\n", c->cur.message);
        /* Why a running container is not ready: its last probe or hook event. */
        else if (c->probes && c->cur.state == STATE_CTR_RUNNING && !c->ready)
                printf("      %s\n", c->probes);
}

static void print_row(const struct pod_state *st, uint64_t now)
{
        _cleanup_free_ char *status = status_pod_word(st);
        char ready[32], age[32];
        unsigned r, t;

        status_ready_count(st, &r, &t);
        (void)snprintf(ready, sizeof(ready), "%u/%u", r, t);
        status_human_duration(now > st->created_usec ? now - st->created_usec : 0, age);
        printf("%-24s %-7s %-24s %-8u %-7s %s\n", st->name, ready, status, status_restarts(st), age,
               st->pod_ip ? st->pod_ip : "<none>");
        for (size_t i = 0; i < st->n_containers; i++)
                print_container(&st->containers[i]);
}

static json_object *row_json(const struct pod_state *st, uint64_t now)
{
        json_object *o = json_object_new_object(), *cs = json_object_new_array();
        _cleanup_free_ char *status = status_pod_word(st);
        unsigned r, t;

        status_ready_count(st, &r, &t);
        json_object_object_add(o, "name", json_object_new_string(st->name));
        json_object_object_add(o, "ready", json_object_new_int((int)r));
        json_object_object_add(o, "total", json_object_new_int((int)t));
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "phase",
                               json_object_new_string(state_phase_to_string(st->phase)));
        json_object_object_add(o, "restarts", json_object_new_int((int)status_restarts(st)));
        json_object_object_add(
            o, "ageSeconds",
            json_object_new_int64((int64_t)(now > st->created_usec ? now - st->created_usec : 0) /
                                  (int64_t)PR_USEC_PER_SEC));
        json_object_object_add(o, "ip", st->pod_ip ? json_object_new_string(st->pod_ip) : NULL);
        for (size_t i = 0; i < st->n_containers; i++) {
                const struct state_container *c = &st->containers[i];
                json_object *j = json_object_new_object();

                json_object_object_add(j, "name", json_object_new_string(c->name));
                json_object_object_add(j, "init", json_object_new_boolean(c->init));
                json_object_object_add(j, "sidecar", json_object_new_boolean(c->sidecar));
                json_object_object_add(
                    j, "state", json_object_new_string(state_ctr_state_to_string(c->cur.state)));
                json_object_object_add(
                    j, "reason", c->cur.reason ? json_object_new_string(c->cur.reason) : NULL);
                json_object_object_add(
                    j, "exitCode", c->cur.has_exit ? json_object_new_int(c->cur.exit_code) : NULL);
                json_object_object_add(j, "restartCount",
                                       json_object_new_int((int)c->restart_count));
                json_object_object_add(j, "ready", json_object_new_boolean(c->ready));
                if (c->probes)
                        json_object_object_add(j, "probes", json_object_new_string(c->probes));
                json_object_array_add(cs, j);
        }
        json_object_object_add(o, "containers", cs);
        return o;
}

int cmd_ps(int argc, char **argv, struct pr_error *err)
{
        enum { OPT_JSON = 0x100 };
        static const struct option options[] = {
            {"all", no_argument, NULL, 'a'},
            {"json", no_argument, NULL, OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        _cleanup_strv_free_ char **names = NULL;
        bool all = false, json = false;
        json_object *arr = NULL;
        uint64_t now = pr_now_real_usec();
        int c, r;

        while ((c = getopt_long(argc, argv, "+ah", options, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case 'h':
                        cli_print_usage("ps", ps_help);
                        return 0;
                default:
                        return cli_usage_error(err, "ps", "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return cli_usage_error(err, "ps", "no arguments expected");
        r = state_list(arg_run_dir, &names, err);
        if (r < 0)
                return r;
        if (json)
                arr = json_object_new_array();
        else
                printf("%-24s %-7s %-24s %-8s %-7s %s\n", "NAME", "READY", "STATUS", "RESTARTS",
                       "AGE", "IP");
        for (size_t i = 0; names[i]; i++) {
                _cleanup_(state_freep) struct pod_state *st = NULL;
                struct pr_error e = {};

                if (sup_read_status(arg_run_dir, names[i], &st, &e) < 0) {
                        /* A pod starting right now has no state file yet. */
                        pr_log_debug("%s; skipping", e.msg);
                        continue;
                }
                if (!all && completed(st))
                        continue;
                if (json)
                        json_object_array_add(arr, row_json(st, now));
                else
                        print_row(st, now);
        }
        if (json) {
                printf("%s\n", json_object_to_json_string_ext(
                                   arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(arr);
        }
        return 0;
}
