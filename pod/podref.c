/* Finding the pod and container a user named, from the state files alone.
 * It only reads state files: it must never signal, lock or change a pod. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "pod/base/error.h"
#include "pod/base/util.h"
#include "pod/podref.h"

void podref_done(struct podref *p)
{
        p->state = state_free(p->state);
        free(p->state_path);
        free(p->state_dir);
        *p = (struct podref){.index = -1};
}

static int load(const char *run_dir, const char *pod, struct podref *ret, struct pr_error *err)
{
        _cleanup_free_ char *path = state_path(run_dir, pod);
        struct pod_state *st = NULL;
        int r;

        r = state_read(path, &st, err);
        if (r == -ENOENT)
                return pr_err_msg(err, ENOENT, "pod \"%s\" not found", pod);
        if (r < 0)
                return r;
        ret->state = st;
        ret->state_path = PR_TAKE_PTR(path);
        ret->state_dir = state_pod_dir(run_dir, pod);
        ret->index = -1;
        return 0;
}

static ssize_t find_index(const struct pod_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_containers; i++)
                if (pr_streq(st->containers[i].name, name))
                        return (ssize_t)i;
        return -1;
}

/* kubectl: "a container name must be specified for pod web, choose one of:
 * [app sidecar]". */
static int choose_one(const struct pod_state *st, struct pr_error *err)
{
        char list[512] = "";
        size_t n = 0;

        for (size_t i = 0; i < st->n_containers && n < sizeof(list); i++)
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? " " : "",
                                      st->containers[i].name);
        return pr_err_usage(err,
                            "a container name must be specified for pod %s, choose one of: [%s]",
                            st->name, list);
}

static int resolve_pod_alone(struct podref *p, bool whole_pod, struct pr_error *err)
{
        ssize_t app = -1;
        size_t n_app = 0;

        if (whole_pod)
                return 0;
        for (size_t i = 0; i < p->state->n_containers; i++)
                if (!p->state->containers[i].init) {
                        app = (ssize_t)i;
                        n_app++;
                }
        if (n_app != 1)
                return choose_one(p->state, err);
        p->index = app;
        return 0;
}

/* Every pod with a container called name, as "pod/name" candidates. */
static int find_candidates(const char *run_dir, const char *name, char ***ret, struct pr_error *err)
{
        _cleanup_strv_free_ char **pods = NULL, **found = NULL;
        int r;

        r = state_list(run_dir, &pods, err);
        if (r < 0)
                return r;
        for (char **p = pods; *p; p++) {
                struct podref ref = {.index = -1};
                struct pr_error ignored = {};

                /* A pod whose state is unreadable (being removed) is not a
                 * candidate. */
                if (load(run_dir, *p, &ref, &ignored) < 0)
                        continue;
                if (find_index(ref.state, name) >= 0)
                        pr_strv_push_take(&found, pr_asprintf("%s/%s", *p, name));
                podref_done(&ref);
        }
        *ret = PR_TAKE_PTR(found);
        return 0;
}

static int resolve_bare(const char *run_dir, const char *name, bool whole_pod, struct podref *ret,
                        struct pr_error *err)
{
        _cleanup_strv_free_ char **found = NULL;
        _cleanup_free_ char *pod = NULL;
        char list[512] = "";
        size_t n = 0;
        int r;

        r = find_candidates(run_dir, name, &found, err);
        if (r < 0)
                return r;
        if (pr_strv_len(found) == 1) {
                pod = pr_strndup(found[0], strlen(found[0]) - strlen(name) - 1);
                r = load(run_dir, pod, ret, err);
                if (r < 0)
                        return r;
                ret->index = find_index(ret->state, name);
                return ret->index >= 0
                           ? 0
                           : pr_err_msg(err, ENOENT, "container \"%s\" not found", name);
        }
        if (pr_strv_len(found) > 1) {
                for (char **f = found; *f && n < sizeof(list); f++)
                        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                              f == found ? "" : ", ", *f);
                return pr_err_usage(err, "container name \"%s\" is ambiguous: %s", name, list);
        }
        r = load(run_dir, name, ret, err);
        if (r == -ENOENT)
                return pr_err_msg(err, ENOENT, "no pod or container named \"%s\"", name);
        if (r < 0)
                return r;
        return resolve_pod_alone(ret, whole_pod, err);
}

int podref_resolve(const char *run_dir, const char *ref, bool whole_pod, struct podref *ret,
                   struct pr_error *err)
{
        struct podref p = {.index = -1};
        const char *slash = strchr(ref, '/');
        int r;

        if (!*ref || (slash && (slash == ref || !slash[1] || strchr(slash + 1, '/'))))
                return pr_err_usage(err, "'%s' is not [POD/]CONTAINER", ref);
        if (!slash) {
                r = resolve_bare(run_dir, ref, whole_pod, &p, err);
        } else {
                _cleanup_free_ char *pod = pr_strndup(ref, (size_t)(slash - ref));

                r = load(run_dir, pod, &p, err);
                if (r >= 0) {
                        p.index = find_index(p.state, slash + 1);
                        if (p.index < 0)
                                r = pr_err_msg(err, ENOENT,
                                               "container \"%s\" not found in pod \"%s\"",
                                               slash + 1, pod);
                }
        }
        if (r < 0) {
                podref_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

char *podref_log_dir(const struct pod_state *st, const struct state_container *c,
                     const char *root_dir)
{
        if (c->log_dir && *c->log_dir)
                return pr_strdup(c->log_dir);
        return pr_asprintf("%s/pods/%s/logs/%s", st->root_dir ? st->root_dir : root_dir, st->name,
                           c->name);
}
